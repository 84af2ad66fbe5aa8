//! `plan` and `drift` end to end.

use zadig_sync::emulator::{Seed, SeedBuild};
use zadig_sync::zadig::wire::{PostBuild, StoredBuild};

use crate::common::*;

fn create_body(name: &str, project: &str, script: &str) -> SeedBuild {
    let yaml = build_yaml(name, project, script);
    let v: serde_json::Value = serde_saphyr::from_str(&yaml).expect("yaml");
    SeedBuild::Create(v)
}

#[test]
fn the_examples_plan_has_creates_updates_and_deletes() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let dir = dir.to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir, "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    let changes = changes(&plan);
    let has = |id: &str, action: &str, blocked: Option<&str>| {
        changes
            .iter()
            .any(|(i, a, b)| i == id && a == action && b.as_deref() == blocked)
    };
    assert!(has("demo/demo-api", "update", None), "{changes:?}");
    assert!(has("demo/demo-worker", "create", None), "{changes:?}");
    assert!(has("demo/demo-old-cron", "delete", None), "{changes:?}");
    assert!(has("platform/platform-auth", "create", None), "{changes:?}");
    assert!(
        has("platform/release-platform", "update", Some("protected")),
        "{changes:?}"
    );
    assert_eq!(plan["format_version"], "2");
    let unmanaged: Vec<&str> = plan["unmanaged"]
        .as_array()
        .expect("unmanaged")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert!(
        unmanaged.contains(&"platform-scratch") && unmanaged.contains(&"platform-jenkins-deploy"),
        "{unmanaged:?}"
    );
    assert!(
        !out.stdout.contains("legacy-batch"),
        "ignored builds are never reported"
    );
    // The update lists its changed fields.
    let api = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "demo-api")
        .expect("demo-api");
    assert!(!api["fields"].as_array().expect("fields").is_empty());

    let human = run(&emu, &["plan", dir]);
    assert!(
        human
            .stdout
            .contains("Plan: 2 to create, 1 to update, 1 to delete. 1 blocked (not applied)."),
        "{}",
        human.stdout
    );
    let exit = run(&emu, &["plan", dir, "--detailed-exitcode", "-q"]);
    assert_eq!(exit.code, 2);
}

#[test]
fn the_readme_quick_start_runs_with_the_built_in_emulator() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zadig-sync"))
        .args(["plan", "examples", "--emulator", "--color", "never"])
        .current_dir(repo())
        .env_remove("ZADIG_ENDPOINT")
        .env_remove("ZADIG_TOKEN")
        .env("DEMO_SONAR_TOKEN", "x")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("to create") && stdout.contains("demo-old-cron"),
        "{stdout}"
    );
}

#[test]
fn credential_values_never_appear_in_any_output() {
    let emu = emulator(examples_seed());
    let live_secret = emu
        .handle()
        .stored_build("platform", "platform-gateway")
        .and_then(|b| b.pre_build)
        .and_then(|p| p.envs.into_iter().find(|e| e.key == "REGISTRY_PASSWORD"))
        .map(|e| e.value)
        .expect("the seed has a credential");
    assert!(live_secret.len() > 3);
    let dir = repo().join("examples");
    let dir = dir.to_str().expect("utf-8");
    for args in [
        vec!["plan", dir, "-vv"],
        vec!["plan", dir, "-o", "json", "-vv"],
        vec!["plan", dir, "-o", "markdown", "-vvv"],
        vec!["drift", dir, "-vv"],
    ] {
        let out = run_env(&emu, &args, &[("DEMO_SONAR_TOKEN", "sonar-secret-value")]);
        let all = out.all();
        assert!(!all.contains("sonar-secret-value"), "{args:?}:\n{all}");
        assert!(!all.contains(&live_secret), "{args:?}:\n{all}");
    }
    let out = run_env(
        &emu,
        &["plan", dir],
        &[("DEMO_SONAR_TOKEN", "sonar-secret-value")],
    );
    assert!(out.stdout.contains("(sensitive"), "{}", out.stdout);
}

#[test]
fn a_missing_credential_variable_is_a_warning_in_plan() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let out = run_env(&emu, &["plan", dir.to_str().expect("utf-8")], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("not compared: `$DEMO_SONAR_TOKEN` is unset"),
        "{}",
        out.stdout
    );
}

#[test]
fn pagination_past_twenty_builds_reads_every_build() {
    let mut seed = Seed::builtin();
    let dir = demo_dir("    prune: true\n");
    for i in 0..45 {
        let name = format!("svc-{i:02}");
        seed.builds.push(create_body(&name, "demo", "make"));
        if i != 7 {
            write(
                dir.path(),
                &format!("{name}.yaml"),
                &build_yaml(&name, "demo", "make"),
            );
        }
    }
    let emu = emulator(seed);
    let out = run(
        &emu,
        &["plan", dir.path().to_str().expect("utf-8"), "-o", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    assert_eq!(
        changes(&plan),
        [("demo/svc-07".to_owned(), "delete".to_owned(), None)]
    );
    assert_eq!(plan["summary"]["unchanged"], 44);
}

#[test]
fn unmanaged_builds_stay_without_prune() {
    let mut seed = Seed::builtin();
    seed.builds.push(create_body("extra", "demo", "make"));
    seed.builds.push(create_body("kept", "demo", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("    prune: false\n");
    write(dir.path(), "kept.yaml", &build_yaml("kept", "demo", "make"));
    let out = run(
        &emu,
        &[
            "plan",
            dir.path().to_str().expect("utf-8"),
            "-o",
            "json",
            "--detailed-exitcode",
        ],
    );
    let plan = json(&out);
    assert_eq!(out.code, 0, "nothing to change: {}", out.stdout);
    assert!(changes(&plan).is_empty());
    assert_eq!(plan["unmanaged"][0]["name"], "extra");
}

#[test]
fn the_mass_delete_guard_blocks_every_delete() {
    let mut seed = Seed::builtin();
    for i in 0..3 {
        seed.builds
            .push(create_body(&format!("old-{i}"), "demo", "make"));
    }
    seed.builds.push(create_body("kept", "demo", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("    prune: true\nmax_deletes: 2\n");
    write(dir.path(), "kept.yaml", &build_yaml("kept", "demo", "make"));
    let path = dir.path().to_str().expect("utf-8");
    let plan = json(&run(&emu, &["plan", path, "-o", "json"]));
    assert!(
        changes(&plan)
            .iter()
            .all(|(_, a, b)| a == "delete" && b.as_deref() == Some("mass_delete")),
        "{plan}"
    );
    let plan = json(&run(
        &emu,
        &["plan", path, "-o", "json", "--allow-mass-delete"],
    ));
    assert!(changes(&plan).iter().all(|(_, _, b)| b.is_none()), "{plan}");
}

#[test]
fn an_empty_directory_is_an_error_and_deletes_nothing() {
    let mut seed = Seed::builtin();
    seed.builds.push(create_body("keep-me", "demo", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("    prune: true\n");
    let out = run(
        &emu,
        &["plan", dir.path().to_str().expect("utf-8"), "-o", "json"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let plan = json(&out);
    assert_eq!(
        changes(&plan),
        [(
            "demo/keep-me".to_owned(),
            "delete".to_owned(),
            Some("load_errors".to_owned())
        )]
    );
}

#[test]
fn a_load_error_with_prune_on_deletes_nothing() {
    let mut seed = Seed::builtin();
    seed.builds.push(create_body("keep-me", "demo", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("    prune: true\n");
    write(
        dir.path(),
        "broken.yaml",
        "name: keep-me\nproject_key: demo\ninfrastructure: [oops\n",
    );
    let out = run(
        &emu,
        &["plan", dir.path().to_str().expect("utf-8"), "-o", "json"],
    );
    assert_eq!(
        out.code, 1,
        "a plan over broken files is not a plan to trust"
    );
    assert!(out.stderr.contains("broken.yaml"), "{}", out.stderr);
    let plan = json(&out);
    assert!(
        changes(&plan)
            .iter()
            .all(|(_, a, b)| a != "delete" || b.as_deref() == Some("load_errors")),
        "{plan}"
    );
}

#[test]
fn an_update_of_a_build_with_ui_settings_keeps_them_and_says_so() {
    let mut seed = Seed::builtin();
    seed.builds.push(create_body("ui-made", "demo", "make"));
    let emu = emulator(seed);
    let mut stored: StoredBuild = emu
        .handle()
        .stored_build("demo", "ui-made")
        .expect("seeded");
    stored.post_build = Some(PostBuild {
        scripts: "upload.sh".into(),
        ..stored.post_build.unwrap_or_default()
    });
    emu.handle().put_stored_build(stored);
    let dir = demo_dir("");
    write(
        dir.path(),
        "ui-made.yaml",
        &build_yaml("ui-made", "demo", "make changed"),
    );
    let path = dir.path().to_str().expect("utf-8");
    // The preserving write keeps it: not blocked, and the plan says what is
    // kept and which write path it takes (the OpenAPI-only path is guarded:
    // tests/e2e/ui_made.rs).
    let plan = json(&run(&emu, &["plan", path, "-o", "json"]));
    assert_eq!(
        changes(&plan),
        [("demo/ui-made".to_owned(), "update".to_owned(), None)]
    );
    assert_eq!(plan["changes"][0]["kept"][0], "post-build script");
    assert_eq!(plan["changes"][0]["write_path"], "preserving");
    assert_eq!(plan["changes"][0]["erases"][0], "post-build script");
}

#[test]
fn a_name_taken_in_another_project_is_reported_up_front() {
    let mut seed = Seed::builtin();
    seed.builds
        .push(create_body("shared-name", "platform", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("");
    write(
        dir.path(),
        "b.yaml",
        &build_yaml("shared-name", "demo", "make"),
    );
    let plan = json(&run(
        &emu,
        &["plan", dir.path().to_str().expect("utf-8"), "-o", "json"],
    ));
    assert_eq!(
        changes(&plan),
        [(
            "demo/shared-name".to_owned(),
            "create".to_owned(),
            Some("name_taken".to_owned())
        )]
    );
    assert!(
        plan["changes"][0]["blocked_reason"]
            .as_str()
            .unwrap_or("")
            .contains("platform")
    );
}

#[test]
fn markdown_has_a_destroy_warning_and_collapsible_diffs() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let out = run(
        &emu,
        &["plan", dir.to_str().expect("utf-8"), "-o", "markdown"],
    );
    assert!(out.stdout.contains("[!CAUTION]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("<details>") && out.stdout.contains("```diff"),
        "{}",
        out.stdout
    );
}

#[test]
fn drift_exits_two_when_live_differs() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let out = run(&emu, &["drift", dir.to_str().expect("utf-8")]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Drift:"), "{}", out.stdout);
}

#[test]
fn a_targeted_plan_looks_for_no_other_new_name() {
    let mut seed = Seed::builtin();
    seed.builds.push(create_body("a", "demo", "make"));
    let emu = emulator(seed);
    let dir = demo_dir("");
    write(dir.path(), "a.yaml", &build_yaml("a", "demo", "make all"));
    write(
        dir.path(),
        "new.yaml",
        &build_yaml("new-one", "demo", "make"),
    );
    let out = run(
        &emu,
        &[
            "plan",
            dir.path().to_str().expect("utf-8"),
            "-o",
            "json",
            "--target",
            "demo/a",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        changes(&json(&out)),
        [("demo/a".to_owned(), "update".to_owned(), None)]
    );
    // `new-one` is not targeted: no listing of other projects to find its name.
    let s = emu.handle().stats();
    // Lookups: images, clusters, code hosts, the project list.
    assert_eq!((s.list, s.lookups), (1, 4), "{s:?}");
}

#[test]
fn a_second_read_only_for_credentials_the_plan_compares() {
    let emu = emulator(examples_seed());
    emu.handle().reset_stats();
    let dir = repo().join("examples");
    let out = run(&emu, &["plan", dir.to_str().expect("utf-8"), "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = emu.handle().stats();
    // Read: demo-api, demo-web, demo-old-cron (prune), platform-gateway,
    // release-platform. Only demo-api compares a masked credential's value
    // (platform-gateway keeps its stored one).
    assert_eq!((s.stored, s.detail), (5, 1), "{s:?}");
    // Images, clusters, code hosts; dockerfile templates (platform-gateway
    // uses one); the project list (do the declared projects exist? are new
    // names taken?); the build template list and the one template a
    // definition uses (its current variables).
    assert_eq!(s.lookups, 7, "{s:?}");
}

/// Behind a gateway that serves only the OpenAPI, builds are read through the
/// detail: the plan still works, lists what it cannot compare, and apply
/// converges on everything it can see.
#[test]
fn without_the_ui_api_the_plan_lists_what_it_cannot_verify() {
    let emu = zadig_sync::emulator::spawn_in_thread(zadig_sync::emulator::EmulatorConfig {
        seed: examples_seed(),
        openapi_only: true,
        ..Default::default()
    })
    .expect("emulator");
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir, "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    let has = |id: &str, action: &str| {
        changes(&plan)
            .iter()
            .any(|(i, a, _)| i == id && a == action)
    };
    assert!(
        has("demo/demo-api", "update")
            && has("demo/demo-worker", "create")
            && has("demo/demo-old-cron", "delete"),
        "{plan}"
    );
    let web = plan["not_verifiable"]
        .as_array()
        .expect("not_verifiable")
        .iter()
        .find(|n| n["name"] == "demo-web")
        .cloned()
        .expect("demo-web has fields the detail hides");
    let paths: Vec<&str> = web["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    for p in [
        "infrastructure",
        "script_type",
        "advanced_settings.storages",
        "repo_info[0].codehost_name",
    ] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
    assert_eq!(run(&emu, &["apply", dir, "--auto-approve"]).code, 0);
    let plan = json(&run(&emu, &["plan", dir, "-o", "json"]));
    assert!(changes(&plan).iter().all(|(_, _, b)| b.is_some()), "{plan}");
}

/// Issue 15, typed messages: every message of the JSON plan has its stable
/// code next to it, and the texts are those the human output prints.
#[test]
fn json_messages_carry_their_codes() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let dir = dir.to_str().expect("utf-8");
    let plan = json(&run(&emu, &["plan", dir, "-o", "json"]));
    let unmanaged = plan["unmanaged"].as_array().expect("unmanaged");
    let of = |name: &str| {
        unmanaged
            .iter()
            .find(|u| u["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {unmanaged:?}"))
    };
    assert_eq!(of("platform-scratch")["code"], "no_definition");
    assert_eq!(
        of("platform-scratch")["reason"],
        "no definition (prune is off)"
    );
    assert_eq!(of("platform-jenkins-deploy")["code"], "read_only");
    assert_eq!(of("platform-jenkins-deploy")["source"], "jenkins");
    assert_eq!(
        of("platform-jenkins-deploy")["reason"],
        "read-only (source jenkins)"
    );
    let protected = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "release-platform")
        .expect("release-platform");
    assert_eq!(protected["blocked"], "protected");
    assert!(
        protected["blocked_reason"]
            .as_str()
            .is_some_and(|r| r.contains("`protect` glob")),
        "{protected}"
    );

    let args = ["plan", dir, "--target", "demo/typo", "-o", "json"];
    let out = run(&emu, &args);
    let plan = json(&out);
    let text = "--target demo/typo matches no definition and no live build of a managed project";
    assert_eq!(plan["warnings"], serde_json::json!([text]), "{plan}");
    assert_eq!(
        plan["warning_details"],
        serde_json::json!([{"code": "target_unknown", "message": text, "target": "demo/typo"}])
    );
    let human = run(&emu, &["plan", dir, "--target", "demo/typo"]);
    assert!(human.stderr.contains(text), "{}", human.stderr);
}
