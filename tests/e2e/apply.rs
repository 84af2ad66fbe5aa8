//! `apply` end to end.

use crate::common::*;

fn examples() -> tempfile::TempDir {
    copy_dir("examples")
}

/// Only guarded changes (the protected example) may remain.
fn assert_converged(emu: &zadig_sync::emulator::ThreadEmulator, dir: &str) {
    let out = run(emu, &["plan", dir, "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    let left: Vec<_> = changes(&plan)
        .into_iter()
        .filter(|(_, _, b)| b.is_none())
        .collect();
    assert!(
        left.is_empty(),
        "apply then plan must be empty: {left:?}\n{}",
        out.stdout
    );
}

#[test]
fn apply_then_plan_is_empty_for_every_example() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["apply", dir, "--auto-approve"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("applied"), "{}", out.stdout);
    assert!(
        out.stdout.contains("skipped") && out.stdout.contains("release-platform"),
        "{}",
        out.stdout
    );
    assert_converged(&emu, dir);
    let h = emu.handle();
    assert!(h.stored_build("demo", "demo-old-cron").is_none(), "pruned");
    assert!(
        h.stored_build("demo", "demo-worker")
            .is_some_and(|b| !b.template_id.is_empty()),
        "template build created"
    );
    assert!(
        h.stored_build("platform", "platform-scratch").is_some(),
        "unmanaged builds stay"
    );

    let again = run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report = json(&again);
    assert_eq!(
        report["summary"]["applied"], 0,
        "a second apply writes nothing: {report}"
    );
}

#[test]
fn apply_refuses_without_a_terminal_or_auto_approve() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let before = emu.handle().snapshot_json();
    let out = run(&emu, &["apply", tmp.path().to_str().expect("utf-8")]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

#[test]
fn a_missing_credential_variable_stops_apply_before_any_write() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let before = emu.handle().snapshot_json();
    let out = run_env(
        &emu,
        &[
            "apply",
            tmp.path().to_str().expect("utf-8"),
            "--auto-approve",
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("DEMO_SONAR_TOKEN"), "{}", out.stderr);
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

#[test]
fn a_saved_plan_is_applied_exactly_and_stale_builds_are_refused() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir, "--out", planfile]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let saved = std::fs::read_to_string(planfile).expect("plan file");
    assert!(
        !saved.contains("sonar-value-1"),
        "no secret in the plan file"
    );

    // Someone edits demo-api in the UI after the plan was made.
    let h = emu.handle();
    let mut api = h.stored_build("demo", "demo-api").expect("seeded");
    api.scripts = "echo edited in the UI\n".into();
    api.update_time += 5;
    h.put_stored_build(api);

    let out = run(&emu, &["apply", dir, "--plan", planfile, "-o", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let outcome = |name: &str| {
        report["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(outcome("demo-api")["status"], "skipped");
    assert!(
        outcome("demo-api")["reason"]
            .as_str()
            .unwrap_or("")
            .contains("changed outside this plan")
    );
    assert_eq!(outcome("demo-worker")["status"], "applied");
    assert_eq!(
        emu.handle()
            .stored_build("demo", "demo-api")
            .expect("there")
            .scripts,
        "echo edited in the UI\n",
        "the out-of-band edit is not overwritten"
    );
}

#[test]
fn a_saved_plan_is_refused_when_the_files_changed() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    assert_eq!(run(&emu, &["plan", dir, "--out", planfile]).code, 0);
    let before = emu.handle().snapshot_json();
    write(
        tmp.path(),
        "demo/extra.yaml",
        &build_yaml("demo-extra", "demo", "make"),
    );
    let out = run(&emu, &["apply", dir, "--plan", planfile]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("changed since the plan"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

#[test]
fn the_verification_re_reads_only_the_written_builds_and_their_projects() {
    use zadig_sync::emulator::{Seed, SeedBuild};
    let body = |name: &str, project: &str| {
        let v: serde_json::Value =
            serde_saphyr::from_str(&build_yaml(name, project, "make")).expect("yaml");
        SeedBuild::Create(v)
    };
    let mut seed = Seed::builtin();
    seed.builds.push(body("a", "demo"));
    seed.builds.push(body("b", "platform"));
    let emu = emulator(seed);
    let dir = demo_dir("  - key: platform\n");
    write(dir.path(), "a.yaml", &build_yaml("a", "demo", "make all"));
    write(dir.path(), "b.yaml", &build_yaml("b", "platform", "make"));
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(json(&out)["summary"]["applied"], 1, "{}", out.stdout);
    let s = emu.handle().stats();
    // Plan: both projects listed, both builds read. Before writing: demo
    // re-listed. Verification: demo listed, `a` read.
    assert_eq!((s.list, s.stored, s.update), (4, 3, 1), "{s:?}");
    assert_eq!(s.lookups, 3, "images, clusters, code hosts, once: {s:?}");
}
