//! Hostile servers (issue 11, findings 2, 3, 5, 6, 8, 9, 10): each test runs
//! the binary against a proxy in front of the emulator that misbehaves on
//! purpose, and asserts no token or credential in any output (debug logs
//! included), bounded time and memory, exit 1, and no write.

mod hostile_support;

use hostile_support::{Hostile, Mode, Run, examples, leaks, run};

fn assert_clean(run: &Run, what: &str) {
    let found = leaks(&run.all());
    assert!(found.is_empty(), "{what}: leaked {found:?}:\n{}", run.all());
}

/// Runs `plan` in every format and `apply`, and checks the common rules.
/// Returns the human plan's run.
fn hostile(mode: Mode) -> (Hostile, Vec<Run>) {
    let server = Hostile::start(mode);
    let dir = examples();
    let d = dir.path().to_str().expect("utf-8 path");
    let mut runs = Vec::new();
    for args in [
        vec!["plan", d],
        vec!["plan", d, "-o", "json"],
        vec!["plan", d, "-o", "markdown"],
        vec!["apply", d, "--auto-approve"],
        vec!["apply", d, "--auto-approve", "-o", "json"],
    ] {
        let r = run(&server, &args);
        assert_clean(&r, &format!("{mode:?} {args:?}"));
        assert_eq!(
            r.code,
            1,
            "{mode:?} {args:?}: exit {}:\n{}",
            r.code,
            r.all()
        );
        runs.push(r);
    }
    (server, runs)
}

#[test]
fn a_403_echoing_the_token_in_its_reason_leaks_nothing() {
    let (server, runs) = hostile(Mode::ForbiddenEcho);
    assert!(runs[0].stderr.contains("HTTP 403"), "{}", runs[0].stderr);
    assert!(runs[0].stderr.contains("[redacted]"), "{}", runs[0].stderr);
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_decode_error_quoting_the_token_leaks_nothing() {
    let (server, runs) = hostile(Mode::DecodeEcho);
    assert!(
        runs[0].all().contains("could not read Zadig's answer"),
        "{}",
        runs[0].all()
    );
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_redirect_to_a_url_holding_the_token_leaks_nothing() {
    let (server, runs) = hostile(Mode::RedirectEcho);
    assert!(runs[0].all().contains("redirected"), "{}", runs[0].all());
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_body_cut_inside_the_token_leaks_nothing() {
    let (server, runs) = hostile(Mode::LongBodyEcho);
    assert!(runs[0].all().contains("HTTP 418"), "{}", runs[0].all());
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_write_error_echoing_the_body_leaks_no_credential() {
    let server = Hostile::start(Mode::WriteEcho);
    let dir = examples();
    // A change to a build with a credential, so that apply sends it.
    let api = dir.path().join("demo/demo-api.yaml");
    let text = std::fs::read_to_string(&api).expect("reads");
    let changed = text.replacen("build_script: |\n", "build_script: |\n  echo hostile\n", 1);
    assert_ne!(text, changed, "the example has a build script");
    std::fs::write(&api, changed).expect("writes");
    let d = dir.path().to_str().expect("utf-8 path");
    for args in [
        vec!["apply", d, "--auto-approve"],
        vec!["apply", d, "--auto-approve", "-o", "json"],
    ] {
        let r = run(&server, &args);
        assert_clean(&r, &format!("{args:?}"));
        assert_eq!(r.code, 1, "{args:?}:\n{}", r.all());
        assert!(
            r.all().contains("cannot bind body"),
            "{args:?}:\n{}",
            r.all()
        );
    }
    // Writes were sent and refused; none reached the emulator.
    assert!(server.writes() > 0);
}

#[test]
fn an_endless_answer_is_cut_at_the_size_cap() {
    let (server, runs) = hostile(Mode::HugeListing);
    for r in &runs {
        assert!(r.all().contains("larger than 32 MiB"), "{}", r.all());
        assert!(r.elapsed.as_secs() < 30, "{:?}", r.elapsed);
    }
    assert_eq!(server.writes(), 0);
    // The cap is a setting.
    let dir = examples();
    let d = dir.path().to_str().expect("utf-8 path");
    let r = run(&server, &["plan", d, "--max-response-mib", "1"]);
    assert!(r.all().contains("larger than 1 MiB"), "{}", r.all());
}

#[test]
fn pagination_that_never_ends_ends() {
    let (server, runs) = hostile(Mode::EndlessPages);
    assert!(
        runs[0].all().contains("keeps sending pages") || runs[0].all().contains("MiB of pages"),
        "{}",
        runs[0].all()
    );
    // Bounded: at most the page cap per listing, per command.
    let listings = server
        .paths()
        .iter()
        .filter(|p| p.starts_with("GET /openapi/build?"))
        .count();
    assert!(listings <= 5 * 2 * 1000 + 50, "{listings} listing requests");
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_200_with_a_zadig_error_is_that_error_not_an_empty_project() {
    let (server, runs) = hostile(Mode::ErrorIn200);
    let plan: serde_json::Value = serde_json::from_str(&runs[1].stdout).expect("json");
    assert_eq!(
        plan["summary"]["create"], 0,
        "no creates from a failed listing: {plan}"
    );
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan}");
    assert!(runs[0].all().contains("6521"), "{}", runs[0].all());
    assert_eq!(server.writes(), 0);
}

#[test]
fn a_read_answered_for_another_build_is_an_error_not_a_rename() {
    let (server, runs) = hostile(Mode::WrongBuild);
    assert!(runs[0].all().contains("someone-else"), "{}", runs[0].all());
    assert!(runs[0].all().contains("instead of"), "{}", runs[0].all());
    assert!(!runs[1].stdout.contains("\"delete\""), "{}", runs[1].stdout);
    assert_eq!(server.writes(), 0);
}

#[test]
fn unaddressable_live_names_are_unreadable_block_deletes_and_the_rest_goes_on() {
    let server = Hostile::start(Mode::UnaddressableNames);
    let dir = examples();
    // demo prunes: demo-old-cron, live without a definition, would be deleted.
    let d = dir.path().to_str().expect("utf-8 path");
    let r = run(&server, &["plan", d, "-o", "json"]);
    assert_clean(&r, "plan");
    assert_ne!(r.code, 1, "the rest of the plan goes on:\n{}", r.all());
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let delete = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "demo-old-cron")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(delete["action"], "delete");
    assert_eq!(delete["blocked"], "incomplete_listing", "{}", r.stdout);
    let warnings = plan["warnings"].to_string();
    assert!(warnings.contains("cannot be read"), "{warnings}");
    assert!(
        warnings.contains("\\\"a\\\\nb\\\""),
        "escaped name: {warnings}"
    );
    // The human plan shows the name escaped, never a raw newline in it.
    let r = run(&server, &["plan", d]);
    assert!(r.all().contains("\"a\\nb\""), "{}", r.all());
    assert!(!r.all().contains("a\nb"), "{}", r.all());
    // Never requested.
    for p in server.paths() {
        assert!(!p.contains("/build/./") && !p.contains("/build/../"), "{p}");
        assert!(
            !p.contains("a%0Ab") && !p.ends_with("/build/.") && !p.ends_with("/build/.."),
            "{p}"
        );
    }
    // Apply writes what it can (this server refuses it), and deletes nothing.
    let r = run(&server, &["apply", d, "--auto-approve"]);
    assert_clean(&r, "apply");
    let paths = server.paths();
    assert!(!paths.iter().any(|p| p.starts_with("DELETE ")), "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("PUT ")),
        "the rest goes on: {paths:?}"
    );
}
