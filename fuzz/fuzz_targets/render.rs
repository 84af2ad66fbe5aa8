//! Fuzz target: see `zadig_sync::fuzzing::render_bytes`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zadig_sync::fuzzing::render_bytes(data));
