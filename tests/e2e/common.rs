//! The harness: an emulator per test, the binary run against it, a scratch
//! copy of a definition directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use zadig_sync::emulator::{EmulatorConfig, Seed, ThreadEmulator, spawn_in_thread};

/// The token the tests use; no output may ever contain it.
pub const TOKEN: &str = "e2e-secret-token-7f3a9c";

/// What a run printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Everything printed, for greps.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Starts an emulator seeded with `seed`.
pub fn emulator(seed: Seed) -> ThreadEmulator {
    spawn_in_thread(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

/// The examples' seed.
pub fn examples_seed() -> Seed {
    Seed::from_file(repo().join("examples/emulator-seed.json")).expect("seed loads")
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch copy of a directory of the repository.
pub fn copy_dir(rel: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_tree(&repo().join(rel), tmp.path());
    tmp
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs the binary against `emu` with `args`, colour off, the examples'
/// credential variable set.
pub fn run(emu: &ThreadEmulator, args: &[&str]) -> Run {
    run_env(emu, args, &[("DEMO_SONAR_TOKEN", "sonar-value-1")])
}

/// Runs the binary with extra environment variables.
pub fn run_env(emu: &ThreadEmulator, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zadig-sync"));
    cmd.args(args)
        .arg("--color")
        .arg("never")
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("ZADIG_SYNC_LOG")
        .env_remove("DEMO_SONAR_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(cmd)
}

/// Parses JSON output.
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

/// `(project/name, action, blocked)` of a JSON plan's changes.
pub fn changes(plan: &serde_json::Value) -> Vec<(String, String, Option<String>)> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                format!(
                    "{}/{}",
                    c["project"].as_str().unwrap_or(""),
                    c["name"].as_str().unwrap_or("")
                ),
                c["action"].as_str().unwrap_or("").to_owned(),
                c["blocked"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Writes a file below `dir`.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// A minimal directory managing `demo` with the given options.
pub fn demo_dir(config_extra: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "zadig-sync.yaml",
        &format!("projects:\n  - key: demo\n{config_extra}"),
    );
    tmp
}

/// A plain build definition.
pub fn build_yaml(name: &str, project: &str, script: &str) -> String {
    format!(
        "name: {name}\nproject_key: {project}\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: |\n  {script}\nrepo_info:\n  - codehost_name: gitlab-main\n    repo_namespace: team\n    repo_name: {name}\n    branch: main\n    remote_name: origin\nservices:\n  - service_name: {name}\n    service_module: {name}\n"
    )
}

/// The binary with the harness's environment (as [`run_env`]), to adjust
/// (working directory, environment) before [`output`].
pub fn command(emu: &ThreadEmulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zadig-sync"));
    cmd.args(args)
        .arg("--color")
        .arg("never")
        .env("ZADIG_ENDPOINT", emu.base_url())
        .env("ZADIG_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env("DEMO_SONAR_TOKEN", "sonar-value-1")
        .env_remove("ZADIG_SYNC_LOG");
    cmd
}

/// Runs a [`command`].
pub fn output(mut cmd: Command) -> Run {
    let out = cmd.output().expect("the binary runs");
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
