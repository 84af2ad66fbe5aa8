//! Hostile pull requests (issue 11, findings 1, 4, 9, 10, 11; issue 12: short
//! and control-character tokens): the binary on files made to leak secrets
//! or lose builds.

mod hostile_support;

use std::path::Path;
use std::process::Command;

use hostile_support::{CREDENTIAL, Hostile, Mode, TOKEN, leaks};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

struct Out {
    code: i32,
    all: String,
}

fn zadig_sync(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zadig-sync"));
    cmd.args(args)
        .args(["--color", "never"])
        .env("ZADIG_TOKEN", TOKEN)
        .env("SECRET_IN_ENV", CREDENTIAL)
        .env_remove("ZADIG_SYNC_LOG")
        .env_remove("ZADIG_ENDPOINT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        all: format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

const CONFIG: &str = "endpoint: http://127.0.0.1:9\nprojects:\n  - key: demo\n";

fn build(name: &str) -> String {
    format!(
        "name: {name}\nproject_key: demo\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: make\n"
    )
}

/// Finding 1: a link to a file outside (here: a file holding the token, as
/// /proc/self/environ would) or to a directory outside is an error naming the
/// link, and nothing of its target is shown, by validate or plan in any format.
#[cfg(unix)]
#[test]
fn symlinks_out_of_the_directory_are_refused_and_never_shown() {
    let outside = tempfile::tempdir().expect("tmp");
    write(
        outside.path(),
        "environ",
        &format!("ZADIG_TOKEN={TOKEN}\0X=1\n"),
    );
    write(
        outside.path(),
        "etc/passwd.yaml",
        &format!("root: {TOKEN}\n"),
    );
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "zadig-sync.yaml", CONFIG);
    write(tmp.path(), "demo/api.yaml", &build("api"));
    std::os::unix::fs::symlink(outside.path().join("environ"), tmp.path().join("leak.yaml"))
        .expect("symlink");
    std::os::unix::fs::symlink(outside.path().join("etc"), tmp.path().join("etc"))
        .expect("symlink");
    // A link inside the directory is fine.
    std::os::unix::fs::symlink(
        tmp.path().join("demo/api.yaml"),
        tmp.path().join("demo/alias.yml"),
    )
    .expect("symlink");
    let d = tmp.path().to_str().expect("utf-8");
    for args in [
        vec!["validate", d],
        vec!["plan", d],
        vec!["plan", d, "-o", "json"],
        vec!["plan", d, "-o", "markdown"],
    ] {
        let out = zadig_sync(&args, &[]);
        assert!(leaks(&out.all).is_empty(), "{args:?}:\n{}", out.all);
        assert!(!out.all.contains("root:"), "{args:?}:\n{}", out.all);
        assert_eq!(out.code, 1, "{args:?}:\n{}", out.all);
        if args[0] == "validate" {
            assert!(
                out.all.contains("leak.yaml"),
                "names the link:\n{}",
                out.all
            );
            assert!(
                out.all.contains("outside the definition directory"),
                "{}",
                out.all
            );
        }
    }
}

/// Special files are skipped with a warning, never read (a fifo would hang).
#[cfg(unix)]
#[test]
fn a_fifo_is_skipped_with_a_warning() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "zadig-sync.yaml", CONFIG);
    write(tmp.path(), "demo/api.yaml", &build("api"));
    let fifo = tmp.path().join("demo/fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here: skipped");
        return;
    }
    let out = zadig_sync(&["validate", tmp.path().to_str().expect("utf-8")], &[]);
    assert_eq!(out.code, 0, "{}", out.all);
    assert!(out.all.contains("demo/fifo.yaml"), "{}", out.all);
    assert!(out.all.contains("not a regular file"), "{}", out.all);
}

/// Finding 4: snippets mask `token:` values, literal credential values and URL
/// user-info.
#[test]
fn snippets_mask_literal_secrets() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(
        tmp.path(),
        "zadig-sync.yaml",
        &format!(
            "endpoint: https://admin:{CREDENTIAL}@zadig.example.com\ntoken: {TOKEN}\nprojects:\n  - key: demo\n"
        ),
    );
    write(
        tmp.path(),
        "demo/api.yaml",
        &format!(
            "{}parameters:\n  - key: PASSWORD\n    is_credential: true\n    default_value: {CREDENTIAL}\n  - {{key: K2, is_credential: true, default_value: {CREDENTIAL}, bogus: 1}}\n",
            build("api")
        ),
    );
    let out = zadig_sync(&["validate", tmp.path().to_str().expect("utf-8")], &[]);
    assert_eq!(out.code, 1, "{}", out.all);
    assert!(out.all.contains("unknown field `token`"), "{}", out.all);
    assert!(out.all.contains("--> demo/api.yaml"), "{}", out.all);
    assert!(leaks(&out.all).is_empty(), "{}", out.all);
}

/// Findings 9 and 10: names Zadig cannot address are refused by validate, and
/// a newline in a name is never printed raw.
#[test]
fn unaddressable_names_are_refused() {
    for (name, why) in [
        ("\".\"", "path step"),
        ("\"..\"", "path step"),
        ("\"a\\\\b\"", "path separator"),
        ("\"a\\nb\"", "control characters"),
        ("\"a\\u001b[2Jb\"", "control characters"),
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        write(tmp.path(), "zadig-sync.yaml", CONFIG);
        write(tmp.path(), "demo/x.yaml", &build(name));
        let out = zadig_sync(&["validate", tmp.path().to_str().expect("utf-8")], &[]);
        assert_eq!(out.code, 1, "{name}:\n{}", out.all);
        assert!(out.all.contains(why), "{name}:\n{}", out.all);
        assert!(
            !out.all.contains("a\nb") && !out.all.contains('\u{1b}'),
            "{}",
            out.all
        );
    }
}

/// Finding 11: import writes each build to its own visible file, never through
/// a symlink, never outside --out; the next plan deletes nothing.
#[cfg(unix)]
#[test]
fn import_file_names_are_injective_visible_and_safe() {
    use zadig_sync::emulator::{EmulatorConfig, Seed, SeedBuild, spawn_in_thread};
    let mut seed =
        Seed::from_file(hostile_support::repo().join("examples/emulator-seed.json")).expect("seed");
    let template = match &seed.builds[0] {
        SeedBuild::Create(v) => v.clone(),
        _ => panic!("the examples' first build is a plain create"),
    };
    let names = ["...", "x_y", ".x_y", "X_y"];
    for name in names {
        let mut body = template.clone();
        body["name"] = serde_json::json!(name);
        body["parameters"] = serde_json::json!([]);
        seed.builds.push(SeedBuild::Create(body));
    }
    let emu = spawn_in_thread(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let tmp = tempfile::tempdir().expect("tmp");
    write(
        tmp.path(),
        "zadig-sync.yaml",
        "projects:\n  - key: demo\n    prune: true\n",
    );
    let d = tmp.path().to_str().expect("utf-8");
    let endpoint = [("ZADIG_ENDPOINT", emu.base_url())];
    let env: Vec<(&str, &str)> = endpoint.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // `x_y` and `X_y` would share a file on macOS: refused before any write.
    let out = zadig_sync(&["import", "--project", "demo", "--out", d], &env);
    assert_eq!(out.code, 1, "{}", out.all);
    assert!(out.all.contains("case-insensitive"), "{}", out.all);
    assert!(!tmp.path().join("demo").exists(), "nothing written");
    // Import the others by name.
    let mut args = vec!["import", "--project", "demo", "--out", d];
    args.extend(["...", "x_y", ".x_y", "demo-api"]);
    let out = zadig_sync(&args, &env);
    assert_eq!(out.code, 0, "{}", out.all);
    let mut files: Vec<String> = std::fs::read_dir(tmp.path().join("demo"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["%2E...yaml", "%2Ex_y.yaml", "demo-api.yaml", "x_y.yaml"]
    );
    // Every imported file is read back: the plan deletes none of them.
    let out = zadig_sync(
        &["plan", d, "-o", "json"],
        &[
            env[0],
            ("ZADIG_SECRET_DEMO_API_SONAR_TOKEN", "sonar-live-value"),
        ],
    );
    for n in ["...", "x_y", ".x_y"] {
        assert!(
            !out.all.contains(&format!(
                "\"name\": \"{n}\",\n      \"kind\": \"Build\",\n      \"action\": \"delete\""
            )),
            "{n} would be deleted:\n{}",
            out.all
        );
    }
    // --force never writes through a symlink.
    let victim = tempfile::tempdir().expect("tmp");
    write(victim.path(), "target.txt", "untouched");
    std::fs::remove_file(tmp.path().join("demo/x_y.yaml")).expect("rm");
    std::os::unix::fs::symlink(
        victim.path().join("target.txt"),
        tmp.path().join("demo/x_y.yaml"),
    )
    .expect("symlink");
    let out = zadig_sync(
        &["import", "--project", "demo", "--out", d, "x_y", "--force"],
        &env,
    );
    assert_eq!(out.code, 1, "{}", out.all);
    assert!(out.all.contains("symbolic link"), "{}", out.all);
    assert_eq!(
        std::fs::read_to_string(victim.path().join("target.txt")).expect("reads"),
        "untouched"
    );
}

/// Issue 12: a token with control characters, or one too short to be a Zadig
/// token (and to be masked without garbling), is refused before any request.
#[test]
fn implausible_tokens_are_refused_before_any_request() {
    let server = Hostile::start(Mode::ForbiddenEcho);
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "zadig-sync.yaml", "projects:\n  - key: demo\n");
    let d = tmp.path().to_str().expect("utf-8");
    for (token, says) in [
        ("abc\u{7}defghijklmnopqrstu", "control characters"),
        ("t", "only 1 characters"),
    ] {
        let out = zadig_sync(
            &["plan", d],
            &[("ZADIG_TOKEN", token), ("ZADIG_ENDPOINT", &server.url)],
        );
        assert_eq!(out.code, 1, "{}", out.all);
        assert!(out.all.contains(says), "{}", out.all);
        // Nothing garbled: no `[redacted]` inside words.
        assert!(!out.all.contains("[redacted]"), "{}", out.all);
    }
    assert!(
        server.paths().is_empty(),
        "no request: {:?}",
        server.paths()
    );
}
