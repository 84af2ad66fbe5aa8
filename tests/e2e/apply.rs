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
    // The reviewed change to demo-api was not made: not a success.
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
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
    assert_eq!(outcome("demo-api")["status"], "stale");
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
        out.stderr
            .contains("is not the directory this plan was made from")
            && out.stderr.contains("demo/extra.yaml (added)"),
        "{}",
        out.stderr
    );
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

/// Each field group changes, plans as an update naming it, applies, and then
/// plans as unchanged: no perpetual diff in any group.
#[test]
fn every_field_group_updates_and_converges() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    assert_eq!(run(&emu, &["apply", dir, "--auto-approve"]).code, 0);
    let web = tmp.path().join("demo/demo-web.yaml");
    let worker = tmp.path().join("demo/demo-worker.yaml");
    let edits: &[(&std::path::Path, &str, &str, &str)] = &[
        (
            &web,
            "    version: 20.11.0",
            "    version: 22.1.0",
            "installs[node].version",
        ),
        (
            &web,
            "    branch: main",
            "    branch: release\n    checkout_path: web",
            "repo_info[0]",
        ),
        (
            &web,
            "  - service_name: web\n    service_module: web",
            "  - service_name: web\n    service_module: web\n  - service_name: web\n    service_module: web-ssr",
            "services",
        ),
        (
            &web,
            "  timeout: 45",
            "  timeout: 90",
            "advanced_settings.timeout",
        ),
        (
            &web,
            "    cpu_limit: 4000",
            "    cpu_limit: 3000",
            "advanced_settings.resource_spec.cpu_limit",
        ),
        (
            &web,
            "  strategy_name: high-mem\n",
            "",
            "advanced_settings.strategy_name",
        ),
        (
            &web,
            "    cache_dir: /root/.npm",
            "    cache_dir: /root/.cache",
            "advanced_settings.cache_setting.cache_dir",
        ),
        (
            &web,
            "        storage_size_in_gib: 10",
            "        storage_size_in_gib: 20",
            "advanced_settings.storages",
        ),
        (
            &web,
            "      value: web",
            "      value: frontend",
            "advanced_settings.custom_labels",
        ),
        (
            &web,
            "    - BUNDLE_URL",
            "    - BUNDLE_URL\n    - SOURCEMAP_URL",
            "advanced_settings.outputs",
        ),
        (
            &web,
            "services:",
            "parameters:\n  - key: NODE_ENV\n    type: choice\n    default_value: production\n    choice_option: [production, development]\n    description: node mode\nservices:",
            "parameters[NODE_ENV]",
        ),
        (
            &web,
            "services:",
            "docker_build_step:\n  dockerfile_source: local\n  build_context_dir: .\n  dockerfile_directory: Dockerfile\nservices:",
            "docker_build_step",
        ),
        (
            &worker,
            "        value: -s -w",
            "        value: -s",
            "inputs[LDFLAGS].value",
        ),
    ];
    for (file, from, to, path) in edits {
        let text = std::fs::read_to_string(file).expect("read");
        assert!(text.contains(from), "{from:?} in {}", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).expect("write");
        let plan = json(&run(&emu, &["plan", dir, "-o", "json"]));
        let fields: Vec<String> = plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["blocked"].is_null())
            .flat_map(|c| c["fields"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f["path"].as_str().map(str::to_owned))
            .collect();
        assert!(
            fields.iter().any(|f| f.contains(path)),
            "editing {path}: {fields:?}"
        );
        let out = run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]);
        assert_eq!(out.code, 0, "{path}: {}\n{}", out.stdout, out.stderr);
        assert_converged(&emu, dir);
    }
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
    // re-listed. Verification: demo listed, `a` read. The update is the
    // preserving write.
    assert_eq!((s.list, s.stored, s.ui_update), (4, 3, 1), "{s:?}");
    assert_eq!(
        s.lookups, 5,
        "images, clusters, code hosts, once; the project list per plan: {s:?}"
    );
}

/// Ctrl-C during the writes: the writes in flight finish, no new one starts,
/// and the report says what was done and what was not.
#[test]
fn an_interrupted_apply_reports_what_it_did_and_did_not_do() {
    use std::time::{Duration, Instant};
    use zadig_sync::emulator::{Seed, SeedBuild};
    let mut seed = Seed::builtin();
    let dir = demo_dir("");
    for i in 0..12 {
        let name = format!("slow-{i:02}");
        let v: serde_json::Value =
            serde_saphyr::from_str(&build_yaml(&name, "demo", "make")).expect("yaml");
        seed.builds.push(SeedBuild::Create(v));
        write(
            dir.path(),
            &format!("{name}.yaml"),
            &build_yaml(&name, "demo", "make changed"),
        );
    }
    let emu = emulator(seed);
    emu.handle().set_latency(Duration::from_millis(150));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_zadig-sync"))
        .args([
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "-o",
            "json",
            "--concurrency",
            "2",
        ])
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Interrupt once the first writes are under way.
    let start = Instant::now();
    while emu.handle().stats().writes() < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no write started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("exits");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["interrupted"], true, "{report}");
    let applied = report["summary"]["applied"].as_u64().unwrap_or(0);
    let not_attempted = report["summary"]["not_attempted"].as_u64().unwrap_or(0);
    assert!(applied >= 1 && not_attempted >= 1, "{report}");
    assert_eq!(applied + not_attempted, 12, "{report}");
    let updates = emu.handle().stats().writes();
    assert_eq!(updates, applied, "no write started after Ctrl-C");
}

/// Issue 15, typed messages: each outcome of the JSON report has the code of
/// its reason next to the reason (a blocked change: its guard).
#[test]
fn json_outcomes_carry_their_codes() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = json(&out);
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    let protected = outcomes
        .iter()
        .find(|o| o["name"] == "release-platform")
        .expect("release-platform");
    assert_eq!(protected["status"], "skipped");
    assert_eq!(protected["code"], "protected");
    assert!(
        protected["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("blocked (protected): ")),
        "{protected}"
    );
    let applied = outcomes
        .iter()
        .find(|o| o["status"] == "applied")
        .expect("an applied build");
    assert_eq!(applied["code"], serde_json::Value::Null);
    assert_eq!(applied["reason"], serde_json::Value::Null);
}
