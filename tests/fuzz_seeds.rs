//! Runs the fuzz targets' library functions over the committed seed corpus
//! (`fuzz/seeds/<target>/`) and over every crash or hang the fuzzers found
//! (`fuzz/regressions/<target>/`), so that `cargo test` exercises what the
//! fuzzers do and every finding stays fixed.

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.file_name().is_some_and(|n| n == ".keep") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("reads a seed");
            out.push((path, bytes));
        }
    }
    out.sort();
    out
}

fn run(target: &str, f: fn(&[u8]), at_least: usize) {
    let inputs = inputs(target);
    assert!(inputs.len() >= at_least, "{target}: {} seeds", inputs.len());
    for (path, bytes) in &inputs {
        let started = std::time::Instant::now();
        f(bytes);
        // Every input must be quick: the fuzzers count a slow one as a hang.
        assert!(
            started.elapsed().as_secs() < 10,
            "{}: took {:?}",
            path.display(),
            started.elapsed()
        );
    }
}

#[test]
fn loader_seeds() {
    run("load", zadig_sync::fuzzing::load_bytes, 10);
}

#[test]
fn renderer_seeds() {
    run("render", zadig_sync::fuzzing::render_bytes, 5);
}

#[test]
fn response_parser_seeds() {
    run("response", zadig_sync::fuzzing::parse_response, 5);
}
