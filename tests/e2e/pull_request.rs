//! `plan --base`: the pull request's changes told from Zadig's drift, in a
//! temporary git repository (a base commit, a pull-request commit) with edits
//! made in Zadig through the emulator.

use std::path::Path;
use std::process::Command;

use zadig_sync::emulator::{Seed, SeedBuild, ThreadEmulator};

use crate::common::*;

/// Runs git in `dir`, failing the test on error.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the binary with `cwd` as its working directory.
pub fn run_in(emu: &ThreadEmulator, cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_zadig-sync"))
        .current_dir(cwd)
        .args(args)
        .args(["--color", "never"])
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("ZADIG_SYNC_LOG")
        .output()
        .expect("the binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.all().contains(TOKEN),
        "the token leaked:\n{}",
        run.all()
    );
    run
}

fn seed_of(name: &str, script: &str) -> SeedBuild {
    let v: serde_json::Value =
        serde_saphyr::from_str(&build_yaml(name, "demo", script)).expect("yaml");
    SeedBuild::Create(v)
}

/// The scenario:
/// - base: `api`, `web`, `mixed`, `clash`, `gone`, all in Zadig as written;
/// - the pull request changes the script of `api`, `mixed` and `clash`,
///   removes `gone` and adds `new`;
/// - in Zadig, someone changed the script of `web` and of `clash`, and the
///   timeout of `mixed`, and made `ui-made`.
pub struct Scenario {
    pub repo: tempfile::TempDir,
    pub emu: ThreadEmulator,
}

pub fn scenario() -> Scenario {
    let repo = tempfile::tempdir().expect("tempdir");
    let root = repo.path();
    git(root, &["init", "-q", "-b", "main"]);
    let defs = root.join("defs");
    write(
        &defs,
        "zadig-sync.yaml",
        "projects:\n  - key: demo\n    prune: true\n",
    );
    let base = ["api", "web", "mixed", "clash", "gone"];
    for name in base {
        write(
            &defs,
            &format!("{name}.yaml"),
            &build_yaml(name, "demo", "make"),
        );
    }
    write(root, "README.md", "not a definition\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);

    let mut seed = Seed::builtin();
    for name in base {
        seed.builds.push(seed_of(name, "make"));
    }
    seed.builds.push(seed_of("ui-made", "made in the UI"));
    let emu = emulator(seed);
    let h = emu.handle();
    let edit = |name: &str, f: &dyn Fn(&mut zadig_sync::zadig::wire::StoredBuild)| {
        let mut b = h.stored_build("demo", name).expect("seeded");
        f(&mut b);
        h.put_stored_build(b);
    };
    edit("web", &|b| b.scripts = "make hotfix\n".into());
    edit("clash", &|b| b.scripts = "make hotfix\n".into());
    edit("mixed", &|b| b.timeout = 120);

    git(root, &["checkout", "-q", "-b", "pr"]);
    for name in ["api", "mixed", "clash"] {
        write(
            &defs,
            &format!("{name}.yaml"),
            &build_yaml(name, "demo", "make all"),
        );
    }
    std::fs::remove_file(defs.join("gone.yaml")).expect("rm");
    write(&defs, "new.yaml", &build_yaml("new", "demo", "make"));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "the pull request"]);
    Scenario { repo, emu }
}

/// `(name, cause, [(field, cause)])` of one change.
type Causes = (String, String, Vec<(String, String)>);

/// The causes of a JSON plan's changes.
fn causes(plan: &serde_json::Value) -> Vec<Causes> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let fields = c["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap_or("").to_owned(),
                        f["cause"].as_str().unwrap_or("(none)").to_owned(),
                    )
                })
                .collect();
            (
                c["name"].as_str().unwrap_or("").to_owned(),
                c["cause"].as_str().unwrap_or("(none)").to_owned(),
                fields,
            )
        })
        .collect()
}

#[test]
fn every_change_and_field_gets_its_cause() {
    let s = scenario();
    let root = s.repo.path();
    let status_before = git(root, &["status", "--porcelain", "--ignored"]);
    let head_before = git(root, &["rev-parse", "HEAD"]);
    let out = run_in(
        &s.emu,
        root,
        &["plan", "defs", "--base", "main", "-o", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    let f = |p: &str, c: &str| (p.to_owned(), c.to_owned());
    assert_eq!(
        causes(&plan),
        vec![
            (
                "api".into(),
                "pending".into(),
                vec![f("build_script", "pending")]
            ),
            (
                "clash".into(),
                "both".into(),
                vec![f("build_script", "both")]
            ),
            ("gone".into(), "pending".into(), vec![]),
            (
                "mixed".into(),
                "both".into(),
                vec![
                    f("build_script", "pending"),
                    f("advanced_settings.timeout", "drift")
                ]
            ),
            ("new".into(), "pending".into(), vec![]),
            ("ui-made".into(), "drift".into(), vec![]),
            (
                "web".into(),
                "drift".into(),
                vec![f("build_script", "drift")]
            ),
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        plan["by_cause"],
        serde_json::json!({"pending": 3, "drift": 2, "both": 2})
    );
    // Nothing checked out, nothing written.
    assert_eq!(
        git(root, &["status", "--porcelain", "--ignored"]),
        status_before
    );
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "pr"
    );

    // Without --base, no cause anywhere: the format is unchanged.
    let plain = run_in(&s.emu, root, &["plan", "defs", "-o", "json"]);
    assert!(!plain.stdout.contains("\"cause\""), "{}", plain.stdout);
    assert!(!plain.stdout.contains("by_cause"), "{}", plain.stdout);
    // drift is unchanged: it takes no --base and reports against the files.
    let drift = run_in(&s.emu, root, &["drift", "defs", "--base", "main"]);
    assert_ne!(drift.code, 0, "{}", drift.all());
    assert!(drift.stderr.contains("'--base'"), "{}", drift.stderr);
}

#[test]
fn the_base_is_the_merge_base_when_main_moved_on() {
    let s = scenario();
    let root = s.repo.path();
    // main moves on after the branch: the merge base is still the fork point.
    git(root, &["checkout", "-q", "main"]);
    write(root, "other.txt", "x\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "main moves"]);
    git(root, &["checkout", "-q", "pr"]);
    let base = git(root, &["merge-base", "main", "HEAD"]);
    let out = run_in(
        &s.emu,
        root,
        &["plan", "defs", "--base", base.trim(), "-o", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out)["by_cause"]["pending"], 3);
}

#[test]
fn markdown_and_human_group_by_cause_under_the_marker() {
    let s = scenario();
    let root = s.repo.path();
    let md = run_in(
        &s.emu,
        root,
        &["plan", "defs", "--base", "main", "-o", "markdown"],
    );
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert!(
        md.stdout.starts_with("<!-- zadig-sync plan: defs -->\n"),
        "{}",
        md.stdout
    );
    let at = |needle: &str| {
        md.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing:\n{}", md.stdout))
    };
    // The summary table by cause, then the three sections in order.
    assert!(at("| Cause | Builds | Meaning |") < at("#### Changes in this pull request"));
    assert!(
        at("#### Changes in this pull request")
            < at("#### Changed in Zadig outside git (apply would revert them)")
    );
    assert!(at("#### Changed in Zadig outside git") < at("#### Conflicts"));
    assert!(md.stdout.contains("| Conflicts | 2 |"), "{}", md.stdout);
    assert!(
        md.stdout.contains(
            "`build_script` (this pull request), `advanced_settings.timeout` (changed in Zadig)"
        ),
        "{}",
        md.stdout
    );
    insta::assert_snapshot!("pull_request_comment", md.stdout);

    // The marker is the same whatever the plan says, and per directory.
    let plain = run_in(&s.emu, root, &["plan", "./defs/", "-o", "markdown"]);
    assert!(plain.stdout.starts_with("<!-- zadig-sync plan: defs -->\n"));
    assert!(!plain.stdout.contains("#### Conflicts"));

    let human = run_in(&s.emu, root, &["plan", "defs", "--base", "main"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let h = &human.stdout;
    let pos = |needle: &str| h.find(needle).unwrap_or_else(|| panic!("{needle:?}:\n{h}"));
    assert!(pos("== Changes in this pull request (3) ==") < pos("+ new"));
    assert!(pos("== Changed in Zadig outside git (apply would revert them) (2) ==") < pos("~ web"));
    assert!(pos("== Conflicts (2) ==") < pos("~ clash"));
    assert!(
        h.contains("advanced_settings.timeout: 120 → 60  (changed in Zadig)"),
        "{h}"
    );
    insta::assert_snapshot!("pull_request_human", human.stdout);
}

#[test]
fn an_unknown_base_or_a_directory_outside_git_is_an_error() {
    let s = scenario();
    let root = s.repo.path();
    let out = run_in(&s.emu, root, &["plan", "defs", "--base", "no-such-branch"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("--base no-such-branch: unknown git revision"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let out = run_in(&s.emu, root, &["plan", "defs", "--base=--upload-pack=x"]);
    assert_eq!(out.code, 1, "{}", out.all());

    let outside = demo_dir("");
    write(outside.path(), "a.yaml", &build_yaml("a", "demo", "make"));
    let out = run_in(&s.emu, outside.path(), &["plan", ".", "--base", "main"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("not in one"), "{}", out.stderr);
}

#[test]
fn a_symlink_at_the_base_is_never_followed_out_of_the_directory() {
    let s = scenario();
    let root = s.repo.path();
    git(root, &["checkout", "-q", "main"]);
    let secret = root.join("secret.yaml");
    std::fs::write(&secret, "name: top-secret-value\n").expect("write");
    std::os::unix::fs::symlink("../secret.yaml", root.join("defs/leak.yaml")).expect("symlink");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "a link out"]);
    // The pull request removes it again: only the base holds it.
    git(root, &["rm", "-q", "defs/leak.yaml"]);
    git(root, &["commit", "-q", "-m", "no link"]);
    let out = run_in(&s.emu, root, &["plan", "defs", "--base", "HEAD~1"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("defs/leak.yaml"), "{}", out.stderr);
    assert!(!out.all().contains("top-secret-value"), "{}", out.all());
}

#[test]
fn a_directory_new_since_the_base_is_all_pending() {
    let s = scenario();
    let root = s.repo.path();
    // A commit before the directory existed.
    let empty = git(
        root,
        &[
            "commit-tree",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
            "-m",
            "empty",
        ],
    );
    let out = run_in(
        &s.emu,
        root,
        &["plan", "defs", "--base", empty.trim(), "-o", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = json(&out);
    for c in plan["changes"].as_array().expect("changes") {
        // Added since the base: pending, or both where Zadig has a build of
        // that name; builds no revision defined are Zadig's own: drift.
        let want = match (c["action"].as_str(), c["name"].as_str()) {
            (Some("create"), _) => "pending",
            (_, Some("gone" | "ui-made")) => "drift",
            _ => "both",
        };
        assert_eq!(c["cause"], want, "{c}");
    }
}

#[test]
fn the_definition_directory_may_be_the_repository_root() {
    let repo = tempfile::tempdir().expect("tempdir");
    let root = repo.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "zadig-sync.yaml", "projects:\n  - key: demo\n");
    write(root, "api.yaml", &build_yaml("api", "demo", "make"));
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    write(root, "api.yaml", &build_yaml("api", "demo", "make all"));
    git(root, &["commit", "-q", "-am", "change"]);
    let mut seed = Seed::builtin();
    seed.builds.push(seed_of("api", "make"));
    let emu = emulator(seed);
    let out = run_in(&emu, root, &["plan", ".", "--base", "HEAD~1", "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        json(&out)["changes"][0]["cause"],
        "pending",
        "{}",
        out.stdout
    );
    let md = run_in(&emu, root, &["plan", "./", "-o", "markdown"]);
    assert!(
        md.stdout.starts_with("<!-- zadig-sync plan: . -->\n"),
        "{}",
        md.stdout
    );
}
