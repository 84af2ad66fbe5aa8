//! Flags and arguments (#12, findings 24–27): config discovery, options a
//! command does not use, `apply --project` and `drift --target`, a value given
//! with a space instead of `=`.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// Runs the binary in `cwd` against `emu` (like [`run`], which runs in the
/// test's own directory).
fn run_in(emu: &zadig_sync::emulator::ThreadEmulator, cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_zadig-sync"))
        .args(args)
        .args(["--color", "never"])
        .current_dir(cwd)
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env("DEMO_SONAR_TOKEN", "sonar-value-1")
        .env_remove("ZADIG_SYNC_LOG")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch repository (`.git` at its root) holding a copy of examples/
/// under `defs/`.
fn repo_with_examples() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join(".git")).expect("mkdir .git");
    let examples = copy_dir("examples");
    let defs = tmp.path().join("defs");
    std::fs::rename(examples.path(), &defs)
        .or_else(|_| copy_all(examples.path(), &defs))
        .expect("move the copy");
    tmp
}

fn copy_all(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_all(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

#[test]
fn finding_24_zadig_sync_yaml_is_found_above_the_directory() {
    let emu = emulator(examples_seed());
    let repo = repo_with_examples();
    let sub = repo.path().join("defs/demo");
    let out = run_in(&emu, &sub, &["plan", "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("zadig-sync.yaml (found above the current directory)"),
        "{}",
        out.stderr
    );
    let plan = json(&out);
    let projects: Vec<String> = changes(&plan)
        .into_iter()
        .map(|(b, _, _)| b.split('/').next().unwrap_or("").to_owned())
        .collect();
    assert!(
        projects.iter().any(|p| p == "platform"),
        "the whole definition directory is planned: {projects:?}"
    );
    let out = run_in(&emu, &sub, &["validate"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn finding_24_a_missing_zadig_sync_yaml_gets_a_hint_and_the_search_stops_at_the_repo_root() {
    let emu = emulator(examples_seed());
    let outer = tempfile::tempdir().expect("tempdir");
    // Above the repository: never used.
    write(
        outer.path(),
        "zadig-sync.yaml",
        "projects:\n  - key: demo\n",
    );
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    write(&repo, "defs/demo/a.yaml", &build_yaml("a", "demo", "make"));
    let out = run_in(&emu, &repo.join("defs/demo"), &["plan"]);
    assert_eq!(out.code, 1, "{}", out.all());
    insta::assert_snapshot!("config_not_found", out.stderr);
}

#[test]
fn finding_25_options_a_command_does_not_use_are_rejected() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let validate = run(
        &emu,
        &["validate", dir, "--endpoint", "https://zadig.example.com"],
    );
    assert_ne!(validate.code, 0, "{}", validate.all());
    assert!(
        validate.stdout.is_empty(),
        "nothing ran: {}",
        validate.stdout
    );
    let both = run(
        &emu,
        &[
            "plan",
            dir,
            "--emulator",
            "--endpoint",
            "https://zadig.example.com",
        ],
    );
    assert_ne!(both.code, 0, "{}", both.all());
    assert!(both.stdout.is_empty(), "nothing ran: {}", both.stdout);
    insta::assert_snapshot!(
        "unused_options",
        format!("{}\n---\n{}", validate.stderr, both.stderr)
    );
    // From the environment (CI sets it for every step) it is not an error.
    let out = run(&emu, &["validate", dir]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn finding_26_apply_project_and_drift_target() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    let drift = run(
        &emu,
        &["drift", dir, "--target", "demo/demo-api", "-o", "json"],
    );
    assert_eq!(drift.code, 2, "{}", drift.all());
    let names: Vec<String> = changes(&json(&drift)).into_iter().map(|c| c.0).collect();
    assert_eq!(names, ["demo/demo-api"], "{}", drift.stdout);

    let out = run(
        &emu,
        &[
            "apply",
            dir,
            "--project",
            "demo",
            "--auto-approve",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let report = json(&out);
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    assert!(!outcomes.is_empty(), "{report}");
    assert!(
        outcomes.iter().all(|o| o["project"] == "demo"),
        "only demo was applied: {report}"
    );
    let after = json(&run(&emu, &["plan", dir, "-o", "json"]));
    assert!(
        changes(&after)
            .iter()
            .any(|(b, _, blocked)| b.starts_with("platform/") && blocked.is_none()),
        "platform is untouched: {after}"
    );
}

#[test]
fn finding_27_a_value_given_with_a_space_gets_a_hint() {
    let emu = emulator(examples_seed());
    let tmp = copy_dir("examples");
    let dir = tmp.path().to_str().expect("utf-8");
    // The state file would be taken as the directory.
    let alone = run_in(&emu, tmp.path(), &["plan", "--emulator", "state.json"]);
    assert_ne!(alone.code, 0, "{}", alone.all());
    // Or be one argument too many.
    let extra = run(&emu, &["apply", "--emulator", "state.json", dir]);
    assert_ne!(extra.code, 0, "{}", extra.all());
    for out in [&alone, &extra] {
        assert!(
            out.stderr.contains("write `--emulator=state.json`"),
            "{}",
            out.stderr
        );
    }
    let escaped = regex_escape(dir);
    insta::with_settings!({filters => vec![(escaped.as_str(), "DIR")]}, {
        insta::assert_snapshot!(
            "spaced_value",
            format!("{}\n---\n{}", alone.stderr, extra.stderr)
        );
    });
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// Runs the binary with no emulator (offline commands).
fn offline(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_zadig-sync"))
        .args(args)
        .env_remove("ZADIG_ENDPOINT")
        .env_remove("ZADIG_SYNC_LOG")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn finding_30_shell_completions() {
    let bash = offline(&["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.all());
    assert!(
        bash.stdout.contains("complete -F _zadig__sync"),
        "{}",
        bash.stdout
    );
    for flag in ["--retry-budget", "--auto-approve", "--detailed-exitcode"] {
        assert!(bash.stdout.contains(flag), "{flag} completes");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = offline(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.all());
        assert!(out.stdout.contains("apply"), "{shell}");
    }
    let bad = offline(&["completions", "tcsh"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
}

#[test]
fn finding_30_man_page() {
    let out = offline(&["man"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH zadig-sync 1"));
    for heading in ["ZADIG-SYNC PLAN", "ZADIG-SYNC APPLY", "ZADIG-SYNC DRIFT"] {
        assert!(out.stdout.contains(heading), "{heading}");
    }
    assert!(out.stdout.contains("\\-\\-retry\\-budget"));
    assert!(out.stdout.contains("\\-\\-auto\\-approve"));
}

#[test]
fn finding_30_version_names_the_git_commit() {
    let out = offline(&["--version"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let line = out.stdout.trim();
    let version = env!("CARGO_PKG_VERSION");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let tracked = git(&["ls-files", "--error-unmatch", "Cargo.toml"]).is_some();
    match git(&["rev-parse", "--short=12", "HEAD"]).filter(|_| tracked) {
        Some(commit) => assert_eq!(line, format!("zadig-sync {version} (commit {commit})")),
        None => assert_eq!(
            line,
            format!("zadig-sync {version} (commit unknown: built outside a git checkout)")
        ),
    }
}
