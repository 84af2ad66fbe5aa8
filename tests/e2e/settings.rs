//! Settings resolved once (issue 15, item 7): one order (flag, environment,
//! zadig-sync.yaml, default), one config loader for every command.

use crate::common::*;

/// `import` reads zadig-sync.yaml with the loader `validate` uses: the same
/// strict rules, and errors at file:line:column with a hint, nothing written.
#[test]
fn import_reads_the_config_with_the_strict_loader() {
    let emu = emulator(examples_seed());
    for (config, want) in [
        (
            "projects:\n  - key: demo\n    prunee: true\n",
            "zadig-sync.yaml:3:5",
        ),
        // A YAML 1.1 boolean: the loader refuses it, with a hint.
        (
            "projects:\n  - key: demo\n    prune: yes\n",
            "zadig-sync.yaml:3:12",
        ),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().to_str().expect("utf-8");
        write(tmp.path(), "zadig-sync.yaml", config);
        let out = run(&emu, &["import", "--project", "demo", "--out", dir]);
        assert_eq!(out.code, 1, "{config}\n{}", out.all());
        assert!(out.stderr.contains(want), "{config}\n{}", out.stderr);
        assert!(
            !tmp.path().join("demo").exists(),
            "nothing is written: {config}"
        );
    }
}

/// The environment beats zadig-sync.yaml: `ZADIG_ENDPOINT` is used over the
/// directory's `endpoint:` (a plan against the emulator named by the
/// environment works although the file names a port nothing listens on).
#[test]
fn the_environment_beats_the_config_endpoint() {
    let emu = emulator(examples_seed());
    let tmp = demo_dir("endpoint: http://127.0.0.1:9\n");
    write(
        tmp.path(),
        "b.yaml",
        &build_yaml("demo-new", "demo", "make"),
    );
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir]);
    assert_eq!(out.code, 0, "{}", out.all());
}

/// `import` reads zadig-sync.yaml as every command reads a definition
/// directory: never through a link that leaves it.
#[cfg(unix)]
#[test]
fn import_never_reads_the_config_through_a_link_out_of_the_directory() {
    let emu = emulator(examples_seed());
    let outside = tempfile::tempdir().expect("tmp");
    write(
        outside.path(),
        "secret.yaml",
        "projects:\n  - key: demo\n    prunee: outside-secret-value\n",
    );
    let tmp = tempfile::tempdir().expect("tmp");
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        tmp.path().join("zadig-sync.yaml"),
    )
    .expect("symlink");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["import", "--project", "demo", "--out", dir]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert!(!out.all().contains("outside-secret-value"), "{}", out.all());
    assert!(!tmp.path().join("demo").exists(), "nothing is written");
}
