//! Network errors people can act on (#12, findings 19–21): a wrong port fails
//! fast with one clear line, https to a plain-HTTP server is named as such,
//! and a Zadig restart costs time, not the run.

use std::time::{Duration, Instant};

use zadig_sync::emulator::Faults;

use crate::common::*;

/// Lines of stderr that are warnings from the log (` WARN ...`).
fn warn_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("WARN"))
        .collect()
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn finding_19_an_unreachable_port_fails_fast_with_nothing_answers() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let started = Instant::now();
    let out = run(&emu, &["plan", dir, "--endpoint", &url]);
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        warn_lines(&out.stderr).is_empty(),
        "no retry warnings:\n{}",
        out.stderr
    );
    assert!(
        took < Duration::from_secs(5),
        "a couple of tries, not a retry budget: {took:?}"
    );
    let error: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .collect();
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"os error \d+", "os error N"),
    ]}, {
        insta::assert_snapshot!("unreachable_port", error.join("\n"));
    });
}

#[test]
fn finding_20_https_to_a_plain_http_server_fails_at_once_with_a_hint() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let url = emu.base_url().replacen("http://", "https://", 1);
    let started = Instant::now();
    let out = run(&emu, &["plan", dir, "--endpoint", &url]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !out.stderr.contains("attempts]"),
        "not retried: {}",
        out.stderr
    );
    assert!(warn_lines(&out.stderr).is_empty(), "{}", out.stderr);
    let error: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("error:"))
        .collect();
    insta::with_settings!({filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT")]}, {
        insta::assert_snapshot!("https_to_plain_http", error.join("\n"));
    });
}

#[test]
fn finding_21_a_zadig_restart_costs_time_not_the_run() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    // 5 s of 503, 429 and dropped connections from the first request: more
    // than 5 attempts of capped backoff cover, well inside the 60 s budget.
    emu.handle().set_faults(Faults {
        outage: Duration::from_secs(5),
        retry_after_secs: 1,
        ..Faults::default()
    });
    let started = Instant::now();
    let out = run(&emu, &["apply", dir, "--auto-approve", "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(started.elapsed() >= Duration::from_secs(5), "it waited");
    let report = json(&out);
    assert_eq!(report["summary"]["failed"], 0, "{report}");
    let warnings = warn_lines(&out.stderr);
    assert_eq!(warnings.len(), 1, "one warning per outage:\n{}", out.stderr);
    insta::with_settings!({filters => vec![(r"for \d+ s;", "for N s;")]}, {
        insta::assert_snapshot!("outage_warning", warnings[0].trim());
    });
    emu.handle().set_faults(Faults::default());
    let plan = json(&run(&emu, &["plan", dir, "-o", "json"]));
    assert!(
        changes(&plan).iter().all(|(_, _, b)| b.is_some()),
        "converged: {plan}"
    );
}

#[test]
fn finding_21_the_retry_budget_is_a_setting() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    emu.handle().set_faults(Faults {
        outage: Duration::from_secs(30),
        ..Faults::default()
    });
    let started = Instant::now();
    let out = run(&emu, &["plan", dir, "--retry-budget", "1"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "gave up after the budget: {:?}",
        started.elapsed()
    );
}
