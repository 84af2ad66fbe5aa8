//! Fuzz target: see `zadig_sync::fuzzing::parse_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zadig_sync::fuzzing::parse_response(data));
