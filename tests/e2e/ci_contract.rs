//! Issue 12 (part a), end to end: saved plans that apply on their own and
//! only where they were made, exit codes that never lie, JSON and headlines
//! CI can rely on, import that keeps the directory valid, the global-name
//! check, the emulator's state file. One test (at least) per finding, named
//! `fNN_…` after it.

use std::process::Stdio;

use serde_json::json;
use zadig_sync::emulator::{EmulatorConfig, Seed, SeedBuild, spawn_in_thread};

use crate::common::*;

fn examples() -> tempfile::TempDir {
    copy_dir("examples")
}

/// The path between the backticks of the note `plan --out` prints.
fn suggested_command(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("plan saved to"))
        .unwrap_or_else(|| panic!("no note: {stderr}"));
    let cmd = line.split('`').nth(1).expect("a command in backticks");
    cmd.split_whitespace().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------
// Saved plans

/// #1: the note is a command that works, from another directory, without
/// the definition directory and without naming the endpoint again.
#[test]
fn f01_the_note_of_plan_out_is_a_command_that_works_from_anywhere() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let elsewhere = tempfile::tempdir().expect("tmp");
    let planfile = elsewhere.path().join("plan.json");
    let out = run(
        &emu,
        &["plan", dir, "--out", planfile.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let words = suggested_command(&out.stderr);
    assert_eq!(&words[..2], ["zadig-sync", "apply"], "{words:?}");

    // From a third directory (which is not a definition directory), with no
    // ZADIG_ENDPOINT: the plan knows where it was made.
    let cwd = tempfile::tempdir().expect("tmp");
    let mut cmd = command(
        &emu,
        &words[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    cmd.current_dir(elsewhere.path())
        .env_remove("ZADIG_ENDPOINT");
    let _ = &cwd;
    let out = output(cmd);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("applied"), "{}", out.stdout);
    let h = emu.handle();
    assert!(h.stored_build("demo", "demo-old-cron").is_none(), "pruned");
    assert!(h.stored_build("demo", "demo-worker").is_some(), "created");

    // `apply --plan F` works the same way, and `show` renders it.
    let out = output({
        let mut c = command(&emu, &["show", planfile.to_str().expect("utf-8")]);
        c.current_dir(cwd.path());
        c
    });
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("demo-worker (TemplateBuild) will be created"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("made against {}", emu.base_url())),
        "{}",
        out.stdout
    );
}

/// #1 (the self-contained part): the plan file holds the definitions as
/// written, and no credential value.
#[test]
fn f01_a_saved_plan_holds_the_definitions_and_no_secret() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let out = run(
        &emu,
        &["plan", dir, "--out", planfile.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&planfile).expect("saved");
    assert!(
        !text.contains("sonar-value-1"),
        "no resolved credential value"
    );
    let saved: serde_json::Value = serde_json::from_str(&text).expect("json");
    // 3 since issue 15: the plan as shown holds typed messages.
    assert_eq!(saved["format_version"], "3");
    assert_eq!(saved["endpoint"], emu.base_url().trim_end_matches('/'));
    assert_eq!(saved["projects"], json!(["demo", "platform"]));
    let names: Vec<&str> = saved["definitions"]
        .as_array()
        .expect("definitions")
        .iter()
        .filter_map(|d| d["definition"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"demo-api") && names.contains(&"demo-worker"),
        "{names:?}"
    );
    // Compared as parsed: each definition is saved as compact JSON.
    assert!(
        saved["definitions"]
            .to_string()
            .contains(r#""from_env":"DEMO_SONAR_TOKEN""#),
        "credential references are kept"
    );
}

/// #1: with the directory too, it must be the one planned; the refusal names
/// the files that differ.
#[test]
fn f01_a_directory_given_with_the_plan_must_match_it() {
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
    std::fs::write(
        tmp.path().join("demo/demo-web.yaml"),
        std::fs::read_to_string(tmp.path().join("demo/demo-web.yaml")).expect("read")
            + "\n# edited\n",
    )
    .expect("edit");
    let out = run(&emu, &["apply", planfile, dir]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!("f01_directory_differs", out.stderr.replace(dir, "[DIR]"));
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

/// #2: a plan made against one Zadig is refused by another, before any
/// request is sent there.
#[test]
fn f02_a_plan_is_applied_only_where_it_was_made() {
    let a = emulator(examples_seed());
    let b = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    assert_eq!(run(&a, &["plan", dir, "--out", planfile]).code, 0);
    let b_before = b.handle().snapshot_json();
    b.handle().reset_stats();
    let out = run(&b, &["apply", planfile]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "this plan was made against {}",
            a.base_url().trim_end_matches('/')
        )) && out.stderr.contains(b.base_url().trim_end_matches('/'))
            && out.stderr.contains("nothing was applied"),
        "{}",
        out.stderr
    );
    assert_eq!(b.handle().snapshot_json(), b_before, "no write to B");
    assert_eq!(b.handle().stats().total, 0, "no request at all to B");
    insta::assert_snapshot!(
        "f02_other_endpoint",
        out.stderr
            .replace(a.base_url().trim_end_matches('/'), "[A]")
            .replace(b.base_url().trim_end_matches('/'), "[B]")
    );
    // And --endpoint B on the command line is refused the same way.
    let out = run(&a, &["apply", planfile, "--endpoint", &b.base_url()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(b.handle().snapshot_json(), b_before, "no write to B");
}

/// #3: a plan of a directory with errors is shown but not saved.
#[test]
fn f03_plans_of_invalid_directories_are_not_saved() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    write(tmp.path(), "demo/broken.yaml", "name: [unclosed\n");
    let planfile = tmp.path().join("plan.json");
    let out = run(
        &emu,
        &["plan", dir, "--out", planfile.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!planfile.exists(), "not saved");
    let last = out.stderr.lines().last().unwrap_or_default();
    insta::assert_snapshot!(
        "f03_not_saved",
        last.replace(planfile.to_str().expect("utf-8"), "[PLANFILE]")
    );
}

/// #1 (never a value in the file): a build with a literal credential value
/// cannot be applied from the plan alone; with its directory it can.
#[test]
fn f01_literal_credentials_need_the_directory() {
    let emu = emulator(Seed::builtin());
    let tmp = demo_dir("");
    let dir = tmp.path().to_str().expect("utf-8");
    write(
        tmp.path(),
        "a.yaml",
        &(build_yaml("svc-lit", "demo", "make")
            + "parameters:\n  - key: TOKEN\n    is_credential: true\n    default_value: literal-secret-42\n"),
    );
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir, "--out", planfile]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !std::fs::read_to_string(planfile)
            .expect("saved")
            .contains("literal-secret-42"),
        "never a value in the plan file"
    );
    let alone = run(&emu, &["apply", planfile]);
    assert_eq!(alone.code, 1, "{}", alone.stderr);
    insta::assert_snapshot!("f01_literal_credentials", alone.stderr);
    assert!(
        emu.handle().stored_build("demo", "svc-lit").is_none(),
        "nothing written"
    );
    let with_dir = run(&emu, &["apply", planfile, dir]);
    assert_eq!(with_dir.code, 0, "{}\n{}", with_dir.stdout, with_dir.stderr);
    assert!(emu.handle().stored_build("demo", "svc-lit").is_some());
}

/// #4: a build that changed since the plan is not written, and the apply
/// exits 1 (the reviewed change was not made).
#[test]
fn f04_a_build_changed_since_the_plan_fails_the_apply() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    assert_eq!(run(&emu, &["plan", dir, "--out", planfile]).code, 0);
    let h = emu.handle();
    let mut api = h.stored_build("demo", "demo-api").expect("seeded");
    api.scripts = "echo edited in the UI\n".into();
    api.update_time += 5;
    h.put_stored_build(api);

    let out = run(&emu, &["apply", dir, "--plan", planfile, "-o", "json"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    let api = report["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["name"] == "demo-api")
        .cloned()
        .expect("demo-api");
    assert_eq!(api["status"], "stale", "{report}");
    assert_eq!(report["summary"]["stale"], 1, "{report}");
    let out = run(&emu, &["apply", planfile]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("STALE"), "{}", out.stdout);
}

// ---------------------------------------------------------------------------
// Exit codes

/// #5: usage errors exit 1, never 2 (which means "changes").
#[test]
fn f05_usage_errors_exit_1() {
    let emu = emulator(Seed::builtin());
    for args in [
        &["plan", "--no-such-flag"][..],
        &["drift", "--detailed-exitcode-typo"],
        &["no-such-command"],
        &["plan", "-o", "yaml"],
        &[],
    ] {
        let out = run(&emu, args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
    }
    let out = run(&emu, &["plan", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Usage"), "{}", out.stdout);
}

/// #6: declining the confirmation exits 1 and writes nothing. Run on a
/// terminal (`script` gives the binary a pseudo-terminal).
#[test]
fn f06_declining_the_confirmation_exits_1() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to give the binary a terminal");
        return;
    }
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let before = emu.handle().snapshot_json();
    let inner = format!(
        "{} apply {dir} --color never",
        env!("CARGO_BIN_EXE_zadig-sync")
    );
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &inner, "/dev/null"])
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .env("DEMO_SONAR_TOKEN", "sonar-value-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("script runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        // Wait for the prompt: the plan is read first.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = stdin.write_all(b"no\n");
    }
    let out = child.wait_with_output().expect("waits");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Apply cancelled"), "{text}");
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(emu.handle().snapshot_json(), before, "nothing written");
}

// ---------------------------------------------------------------------------
// Output

/// #7: `-o json` of plan, drift and validate lists the diagnostics.
#[test]
fn f07_json_carries_the_diagnostics() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    write(
        tmp.path(),
        "demo/broken.yaml",
        "name: demo-broken\nproject_key: demo\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shel\n",
    );
    for args in [
        &["plan", dir, "-o", "json"][..],
        &["drift", dir, "-o", "json"],
        &["validate", dir, "-o", "json"],
    ] {
        let out = run(&emu, args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        let doc = json(&out);
        assert_eq!(doc["format_version"], "2");
        let diags = doc["diagnostics"].as_array().expect("diagnostics");
        let d = diags
            .iter()
            .find(|d| d["file"] == "demo/broken.yaml")
            .unwrap_or_else(|| panic!("{args:?}: {doc}"));
        assert_eq!(d["severity"], "error");
        assert_eq!(d["line"], 5, "{d}");
        assert!(d["column"].as_u64().is_some_and(|c| c > 0), "{d}");
        assert!(d["code"].as_str().is_some_and(|c| !c.is_empty()), "{d}");
        assert!(
            d["message"].as_str().is_some_and(|m| m.contains("shel")),
            "{d}"
        );
        assert!(d.get("help").is_some(), "{d}");
    }
    let out = run(&emu, &["validate", dir, "-o", "json"]);
    let doc = json(&out);
    assert_eq!(doc["valid"], false);
    insta::assert_json_snapshot!("f07_validate_json", doc["diagnostics"]);
}

/// #8: when definitions failed to load, the headline says the plan is
/// incomplete and why, in every format; never "No changes".
#[test]
fn f08_the_headline_never_says_no_changes_when_something_failed() {
    let emu = emulator(Seed::builtin());
    let tmp = demo_dir("");
    let dir = tmp.path().to_str().expect("utf-8");
    write(tmp.path(), "broken.yaml", "name: [unclosed\n");
    let human = run(&emu, &["plan", dir]);
    let md = run(&emu, &["plan", dir, "-o", "markdown"]);
    let js = run(&emu, &["plan", dir, "-o", "json"]);
    let drift = run(&emu, &["drift", dir]);
    for out in [&human, &md, &js, &drift] {
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(!out.stdout.contains("No changes"), "{}", out.stdout);
        assert!(!out.stdout.contains("No drift"), "{}", out.stdout);
    }
    let headline = "Plan incomplete: some definition files failed to load. Nothing to change in what could be compared.";
    assert!(human.stdout.contains(headline), "{}", human.stdout);
    assert!(
        md.stdout.contains(&format!("**{headline}**")),
        "{}",
        md.stdout
    );
    assert_eq!(json(&js)["headline"], headline);
    assert_eq!(json(&js)["incomplete"], true);
    assert!(
        drift.stdout.contains("Drift report incomplete"),
        "{}",
        drift.stdout
    );
}

/// #8: a project whose listing fails makes the plan incomplete, not "No
/// changes".
#[test]
fn f08_a_failed_listing_makes_the_headline_incomplete() {
    use std::collections::HashMap;
    use zadig_sync::emulator::{Perms, Role, TokenPolicy};
    // The token may read `demo` only: listing `platform` answers 403.
    let emu = spawn_in_thread(EmulatorConfig {
        seed: Seed::builtin(),
        tokens: TokenPolicy::Tokens(HashMap::from([(
            TOKEN.to_owned(),
            Role::Project(HashMap::from([("demo".to_owned(), Perms::all())])),
        )])),
        ..EmulatorConfig::default()
    })
    .expect("emulator starts");
    let tmp = demo_dir("  - key: platform\n");
    let dir = tmp.path().to_str().expect("utf-8");
    write(tmp.path(), "a.yaml", &build_yaml("svc-a", "demo", "make"));
    // Since issue 10, a project the token cannot see is refused outright;
    // the headline of a failed listing is covered by the unit tests
    // `render::tests::a_partial_plan_never_says_no_changes` and
    // `core::plan::tests::load_errors_and_failed_listings_block_deletes`.
    // Either way: never "No changes", never exit 0.
    let out = run(&emu, &["plan", dir]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("Plan incomplete") || out.stderr.contains("error:"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stdout.contains("No changes"), "{}", out.stdout);
}

/// #9: a blocked change is worded as blocked, not as if it will happen.
#[test]
fn f09_blocked_changes_are_worded_as_blocked() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["plan", dir]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("release-platform"))
        .expect("the protected build is shown");
    assert!(line.contains("is blocked: it will not be"), "{line}");
    assert!(!line.contains("will be updated"), "{line}");
    let md = run(&emu, &["plan", dir, "-o", "markdown"]);
    assert!(
        md.stdout.contains("(blocked: not applied)"),
        "{}",
        md.stdout
    );
}

/// #10: an unset variable is "not compared", distinct from "not verifiable
/// on this server".
#[test]
fn f10_an_unset_variable_is_not_compared_rather_than_not_verifiable() {
    let emu = emulator(examples_seed());
    let dir = repo().join("examples");
    let dir = dir.to_str().expect("utf-8");
    let out = run_env(&emu, &["plan", dir], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("demo/demo-api: parameters[SONAR_TOKEN].default_value not compared: `$DEMO_SONAR_TOKEN` is unset"),
        "{}",
        out.stdout
    );
    let js = json(&run_env(&emu, &["plan", dir, "-o", "json"], &[]));
    assert_eq!(js["not_compared"][0]["var"], "DEMO_SONAR_TOKEN", "{js}");
    let unverifiable = js["not_verifiable"].to_string();
    assert!(!unverifiable.contains("SONAR_TOKEN"), "{unverifiable}");
}

/// #11: `--target` outside `--project` is an error; a targeted plan says so
/// in every format.
#[test]
fn f11_targets_outside_the_projects_are_an_error_and_targeting_is_said() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(
        &emu,
        &[
            "plan",
            dir,
            "--target",
            "demo/demo-api",
            "--project",
            "platform",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    insta::assert_snapshot!("f11_target_outside_project", out.stderr);
    let human = run(&emu, &["plan", dir, "--target", "demo/demo-worker"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("Targeting in effect: only demo/demo-worker was planned"),
        "{}",
        human.stdout
    );
    let md = run(
        &emu,
        &[
            "plan",
            dir,
            "--target",
            "demo/demo-worker",
            "-o",
            "markdown",
        ],
    );
    assert!(md.stdout.contains("Targeting in effect"), "{}", md.stdout);
    let js = json(&run(
        &emu,
        &["plan", dir, "--target", "demo/demo-worker", "-o", "json"],
    ));
    assert_eq!(js["targets"], json!(["demo/demo-worker"]));
    assert!(
        js["headline"]
            .as_str()
            .unwrap_or("")
            .contains("Targeted: demo/demo-worker"),
        "{js}"
    );
}

/// #12: `-q` prints errors and the summary line only; warnings go to stderr.
#[test]
fn f12_quiet_is_the_summary_and_warnings_go_to_stderr() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    // A definition skipped by `ignore` gives a plan warning.
    write(
        tmp.path(),
        "platform/legacy.yaml",
        &build_yaml("legacy-new", "platform", "make"),
    );
    let out = run(&emu, &["plan", dir]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stdout.contains("Warning") && !out.stdout.contains("warning:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("warning:") && out.stderr.contains("legacy-new"),
        "{}",
        out.stderr
    );
    let quiet = run(&emu, &["plan", dir, "-q"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(
        quiet.stdout,
        "Plan: 2 to create, 1 to update, 1 to delete. 1 blocked (not applied).\n"
    );
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    // apply -q: the summary line only, when every change was made.
    let apply = run(&emu, &["apply", dir, "--auto-approve", "-q"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_eq!(
        apply.stdout,
        "Apply: 4 applied, 0 failed, 0 stale, 1 skipped (blocked), 0 not attempted, 0 not converged.\n"
    );
}

// ---------------------------------------------------------------------------
// import

/// #13: a build the directory already defines, in any file, is not written a
/// second time; import says where it is, and the directory stays valid.
#[test]
fn f13_import_never_writes_a_second_definition() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    // demo-api is defined in demo/demo-api.yaml; move it to another file.
    std::fs::rename(
        tmp.path().join("demo/demo-api.yaml"),
        tmp.path().join("demo/all-apis.yaml"),
    )
    .expect("rename");
    let out = run(&emu, &["import", "--project", "demo", "--out", dir]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !tmp.path().join("demo/demo-api.yaml").exists(),
        "no second file"
    );
    assert!(
        out.stdout.contains("`demo/demo-api`: defined in") && out.stdout.contains("all-apis.yaml"),
        "{}",
        out.stdout
    );
    let v = run(&emu, &["validate", dir]);
    assert_eq!(v.code, 0, "{}", v.stderr);
}

/// #14: an unknown project is an error.
#[test]
fn f14_import_of_an_unknown_project_is_an_error() {
    let emu = emulator(examples_seed());
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["import", "--project", "dmeo", "--out", dir]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    insta::assert_snapshot!("f14_unknown_project", out.stderr);
    assert!(
        std::fs::read_dir(tmp.path()).expect("dir").next().is_none(),
        "nothing written"
    );
}

/// #15: in a fresh directory import writes a zadig-sync.yaml declaring the
/// project (prune off), so the directory validates and plans empty.
#[test]
fn f15_import_into_a_fresh_directory_writes_the_config() {
    let emu = emulator(examples_seed());
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(&emu, &["import", "--project", "platform", "--out", dir]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let config = std::fs::read_to_string(tmp.path().join("zadig-sync.yaml")).expect("written");
    assert!(
        config.contains("- key: platform\n    prune: false\n"),
        "{config}"
    );
    assert!(
        out.stdout.contains("Wrote") && out.stdout.contains("zadig-sync.yaml"),
        "{}",
        out.stdout
    );
    assert_eq!(run(&emu, &["validate", dir]).code, 0);
    let plan = run(&emu, &["plan", dir, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

/// #16: two targets of a template build with the same credential input get
/// two variables.
#[test]
fn f16_credential_variables_are_unique_per_build_target_and_key() {
    let mut seed = Seed::builtin();
    let target = |module: &str, token: &str| {
        json!({
            "service_name": "svc",
            "service_module": module,
            "repo_info": [{"codehost_name": "github", "repo_namespace": "org", "repo_name": "r", "branch": "main", "remote_name": "origin"}],
            "inputs": [{"key": "REGISTRY_TOKEN", "value": token, "type": "string", "is_credential": true}],
        })
    };
    seed.builds.push(SeedBuild::CreateTemplate(json!({
        "name": "tpl-two",
        "project_key": "demo",
        "template_name": "go-service-template",
        "target_services": [target("api", "token-a"), target("worker", "token-b")],
    })));
    let emu = emulator(seed);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(
        &emu,
        &["import", "--project", "demo", "--out", dir, "tpl-two"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(tmp.path().join("demo/tpl-two.yaml")).expect("written");
    let vars: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("from_env: ").nth(1))
        .map(|v| v.trim_end_matches('}').trim())
        .collect();
    assert_eq!(
        vars,
        [
            "ZADIG_SECRET_TPL_TWO_SVC_API_REGISTRY_TOKEN",
            "ZADIG_SECRET_TPL_TWO_SVC_WORKER_REGISTRY_TOKEN"
        ],
        "{text}"
    );
    // With the two values set, the plan is empty: each target reads its own.
    let plan = run_env(
        &emu,
        &["plan", dir, "--detailed-exitcode"],
        &[
            ("ZADIG_SECRET_TPL_TWO_SVC_API_REGISTRY_TOKEN", "token-a"),
            ("ZADIG_SECRET_TPL_TWO_SVC_WORKER_REGISTRY_TOKEN", "token-b"),
        ],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

// ---------------------------------------------------------------------------
// Name checks and the emulator

/// #17: a name hidden by `ignore` in another managed project is taken: the
/// create is blocked at plan time, not failed at apply time.
#[test]
fn f17_the_name_check_sees_builds_hidden_by_ignore() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    // legacy-batch lives in platform, hidden by `ignore: ["legacy-*"]`.
    write(
        tmp.path(),
        "demo/legacy.yaml",
        &build_yaml("legacy-batch", "demo", "make"),
    );
    let js = json(&run(&emu, &["plan", dir, "-o", "json"]));
    let c = changes(&js);
    assert!(
        c.contains(&(
            "demo/legacy-batch".into(),
            "create".into(),
            Some("name_taken".into())
        )),
        "{c:?}"
    );
    // Also with --project demo, which leaves platform unread.
    let js = json(&run(
        &emu,
        &["plan", dir, "-o", "json", "--project", "demo"],
    ));
    assert!(
        changes(&js).contains(&(
            "demo/legacy-batch".into(),
            "create".into(),
            Some("name_taken".into())
        )),
        "{js}"
    );
}

/// #18: an emulator state file that cannot be written is an error, exit 1,
/// before anything is applied.
#[test]
fn f18_an_unwritable_emulator_state_file_is_an_error() {
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let state = tmp.path().join("no-such-dir/state.json");
    let emu = spawn_in_thread(EmulatorConfig::default()).expect("a harness emulator");
    let mut cmd = command(
        &emu,
        &[
            "apply",
            dir,
            "--auto-approve",
            &format!("--emulator={}", state.display()),
        ],
    );
    cmd.env_remove("ZADIG_ENDPOINT");
    let out = output(cmd);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("cannot write the emulator state file"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("applied"), "{}", out.stdout);
}

/// #30 (this part's share): `show` renders a saved plan in every format,
/// with no directory and no request.
#[test]
fn f30_show_renders_a_saved_plan_in_every_format() {
    let emu = emulator(examples_seed());
    let tmp = examples();
    let dir = tmp.path().to_str().expect("utf-8");
    let planfile = tmp.path().join("plan.json");
    let planfile = planfile.to_str().expect("utf-8");
    let planned = run(&emu, &["plan", dir, "-o", "json", "--out", planfile]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    emu.handle().reset_stats();
    let js = run(&emu, &["show", planfile, "-o", "json"]);
    assert_eq!(js.code, 0, "{}", js.stderr);
    let (shown, made) = (json(&js), json(&planned));
    assert_eq!(shown["changes"], made["changes"]);
    assert_eq!(shown["headline"], made["headline"]);
    let md = run(&emu, &["show", planfile, "-o", "markdown"]);
    assert!(
        md.stdout.starts_with("### zadig-sync plan"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("demo-worker"), "{}", md.stdout);
    assert_eq!(emu.handle().stats().total, 0, "show sends no request");
    let quiet = run(&emu, &["show", planfile, "-q"]);
    assert_eq!(quiet.stdout.lines().count(), 1, "{}", quiet.stdout);
}
