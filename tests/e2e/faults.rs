//! A flaky server: the final state must still equal the desired state, with no
//! duplicate and no lost build.

use std::time::Duration;

use zadig_sync::emulator::Faults;

use crate::common::*;

#[test]
fn apply_converges_through_errors_dropped_connections_and_ambiguous_creates() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    emu.handle().set_faults(Faults {
        get_error_rate: 0.3,
        error_statuses: vec![503, 429, 502],
        drop_connection_rate: 0.1,
        commit_then_500_creates: 10,
        retry_after_secs: 0,
        latency_jitter: Duration::from_millis(2),
        seed: 7,
        ..Faults::default()
    });
    let out = run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    assert!(
        report["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .any(|o| o["resolved_after_ambiguity"] == true),
        "a create answered 500 after committing was confirmed by reading back: {report}"
    );
    emu.handle().set_faults(Faults::default());
    let h = emu.handle();
    for (project, expected) in [("demo", 3), ("platform", 6)] {
        let names: Vec<String> = h.builds(project).into_iter().map(|b| b.name).collect();
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(
            names.len(),
            dedup.len(),
            "no duplicate in {project}: {names:?}"
        );
        assert_eq!(names.len(), expected, "{project}: {names:?}");
    }
    let plan = json(&run(&emu, &["plan", dir, "-o", "json"]));
    assert!(
        changes(&plan).iter().all(|(_, _, b)| b.is_some()),
        "converged: {plan}"
    );
    let again = json(&run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]));
    assert_eq!(
        again["summary"]["applied"], 0,
        "a second apply is a no-op: {again}"
    );
}

#[test]
fn an_update_the_server_accepts_but_loses_is_reported_as_not_converged() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    emu.handle().set_faults(Faults {
        lossy_updates: 1,
        ..Faults::default()
    });
    let out = run(
        &emu,
        &[
            "apply",
            dir,
            "--auto-approve",
            "--target",
            "demo/demo-api",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let api = &report["outcomes"][0];
    assert_eq!(api["status"], "not_converged", "{report}");
    assert!(
        api["fields"].as_array().is_some_and(|f| !f.is_empty()),
        "{report}"
    );
    // Running apply again retries what is still different.
    let out = run(
        &emu,
        &[
            "apply",
            dir,
            "--auto-approve",
            "--target",
            "demo/demo-api",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(json(&out)["outcomes"][0]["status"], "applied");
}
