//! Shared by the benchmarks: the machine description, peak memory, a
//! deterministic fleet of plain builds (emulator seed and definition files that
//! match it, a fixed share of them differing), and running the release binary
//! under `/usr/bin/time`.
//!
//! Every benchmark uses only part of this module.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use zadig_sync::emulator::{Seed, SeedBuild, SeedProject};

/// The credential variable the definitions read (`{from_env: ...}`).
pub const SECRET_VAR: &str = "BENCH_REGISTRY_TOKEN";
/// Its value, which is also the value stored in the emulator.
pub const SECRET_VALUE: &str = "bench-registry-token-value";
/// Any token: the emulator accepts every well-formed one as an admin.
pub const TOKEN: &str = "bench-token-0123456789";

/// `nproc` and the CPU model, for the header of every benchmark.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!(", {:.0} GiB", kib / (1024.0 * 1024.0)))
        })
        .unwrap_or_default();
    format!("machine: nproc {cpus}, {model}{mem}")
}

/// Peak resident memory of this process, in MiB (`VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Seconds with three decimals.
pub fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Whether `BENCH_QUICK` is set (to anything but empty or `0`).
pub fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// A fleet of plain builds, `svc-NNNNN` spread round-robin over
/// `project-NN`. Every build has one credential parameter (the stored model of
/// released Zadig masks it, so the read path needs the OpenAPI detail too: two
/// reads per build, the worst case).
#[derive(Clone, Copy, Debug)]
pub struct Fleet {
    /// Builds in all.
    pub builds: usize,
    /// Projects.
    pub projects: usize,
    /// Every `differ_every`-th build's definition differs from the live build
    /// (timeout and script); 1 = all of them.
    pub differ_every: usize,
}

impl Fleet {
    /// Project of build `i`.
    pub fn project(&self, i: usize) -> String {
        format!("project-{:02}", i % self.projects)
    }

    /// Whether build `i`'s definition differs from its live build.
    pub fn differs(&self, i: usize) -> bool {
        i.is_multiple_of(self.differ_every)
    }

    /// How many definitions differ.
    pub fn differing(&self) -> usize {
        (0..self.builds).filter(|&i| self.differs(i)).count()
    }

    /// The emulator seed: the built-in catalogs, the projects, and every build
    /// created through the API's own code path (as it is live, before any
    /// definition changes it).
    pub fn seed(&self) -> Seed {
        let projects = (0..self.projects)
            .map(|p| SeedProject {
                key: format!("project-{p:02}"),
                name: format!("Project {p}"),
            })
            .collect();
        let builds = (0..self.builds)
            .map(|i| SeedBuild::Create(create_body(i, &self.project(i))))
            .collect();
        Seed {
            projects,
            builds,
            ..Seed::builtin()
        }
    }

    /// The definition files: `zadig-sync.yaml` (every project, `prune: true`)
    /// and one file per build, `project-NN/svc-NNNNN.yaml`.
    pub fn files(&self) -> (String, Vec<(String, String)>) {
        let mut config = String::from("projects:\n");
        for p in 0..self.projects {
            let _ = writeln!(config, "  - key: project-{p:02}\n    prune: true");
        }
        let files = (0..self.builds)
            .map(|i| {
                let project = self.project(i);
                (
                    format!("{project}/svc-{i:05}.yaml"),
                    definition(i, &project, self.differs(i)),
                )
            })
            .collect();
        (config, files)
    }

    /// Writes [`Fleet::files`] below `dir`.
    pub fn write_dir(&self, dir: &Path) {
        let (config, files) = self.files();
        std::fs::write(dir.join("zadig-sync.yaml"), config).expect("write config");
        for p in 0..self.projects {
            std::fs::create_dir_all(dir.join(format!("project-{p:02}"))).expect("mkdir");
        }
        for (path, text) in files {
            std::fs::write(dir.join(path), text).expect("write definition");
        }
    }
}

/// The build script; a differing definition adds a line.
fn script(i: usize, differs: bool) -> String {
    let mut s = format!(
        "#!/bin/bash\nset -e\ncd $REPONAME_0\ngo test ./...\nmake build GOFLAGS=\"$GOFLAGS\" SERVICE=svc-{i:05}\n"
    );
    if differs {
        s.push_str("make push\n");
    }
    s
}

/// The `POST /openapi/build` body that seeds live build `i`.
fn create_body(i: usize, project: &str) -> serde_json::Value {
    json!({
        "name": format!("svc-{i:05}"),
        "project_key": project,
        "infrastructure": "kubernetes",
        "build_os": "ubuntu 20.04",
        "installs": [{"name": "go", "version": format!("1.22.{}", i % 10)}],
        "script_type": "shell",
        "build_script": script(i, false),
        "repo_info": [{
            "codehost_name": "gitlab-main",
            "repo_namespace": project,
            "repo_name": format!("svc-{i:05}"),
            "branch": "main",
            "remote_name": "origin"
        }],
        "parameters": [
            {"key": "GOFLAGS", "type": "string", "default_value": "-mod=vendor",
             "description": "flags passed to go build"},
            {"key": "REGISTRY_TOKEN", "type": "string", "default_value": SECRET_VALUE,
             "is_credential": true}
        ],
        "services": [{"service_name": format!("svc-{i:05}"), "service_module": format!("svc-{i:05}")}],
        "docker_build_step": {
            "dockerfile_source": "local",
            "build_context_dir": "$REPONAME_0",
            "dockerfile_directory": "$REPONAME_0/Dockerfile",
            "enable_buildkit": true,
            "platforms": "linux/amd64"
        },
        "advanced_settings": {
            "timeout": 30,
            "cluster_name": "local-20240101120000",
            "resource_spec": {"cpu_limit": 2000, "memory_limit": 4096, "cpu_req": 500, "memory_req": 1024}
        }
    })
}

/// The definition file of build `i`: equal to its create body, or (when it
/// differs) with another timeout and one more script line.
pub fn definition(i: usize, project: &str, differs: bool) -> String {
    let mut script_block = String::new();
    for line in script(i, differs).lines() {
        let _ = writeln!(script_block, "  {line}");
    }
    format!(
        "# yaml-language-server: $schema=../../schemas/definition.schema.json
name: svc-{i:05}
project_key: {project}
infrastructure: kubernetes
build_os: ubuntu 20.04
installs:
  - name: go
    version: 1.22.{v}
script_type: shell
build_script: |
{script_block}repo_info:
  - codehost_name: gitlab-main
    repo_namespace: {project}
    repo_name: svc-{i:05}
    branch: main
    remote_name: origin
parameters:
  - key: GOFLAGS
    type: string
    default_value: -mod=vendor
    description: flags passed to go build
  - key: REGISTRY_TOKEN
    type: string
    is_credential: true
    default_value:
      from_env: {SECRET_VAR}
services:
  - service_name: svc-{i:05}
    service_module: svc-{i:05}
docker_build_step:
  dockerfile_source: local
  build_context_dir: $REPONAME_0
  dockerfile_directory: $REPONAME_0/Dockerfile
  enable_buildkit: true
  platforms: linux/amd64
advanced_settings:
  timeout: {timeout}
  cluster_name: local-20240101120000
  resource_spec:
    cpu_limit: 2000
    memory_limit: 4096
    cpu_req: 500
    memory_req: 1024
",
        v = i % 10,
        timeout = if differs { 60 } else { 30 },
    )
}

/// What a run of the release binary printed and cost.
pub struct BinaryRun {
    /// Wall time, process start to exit.
    pub wall: Duration,
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error, without `/usr/bin/time`'s line.
    pub stderr: String,
    /// Peak resident memory (MiB), when `/usr/bin/time` is available.
    pub peak_mib: Option<f64>,
    /// User and system CPU of the child (`/usr/bin/time` takes them from
    /// the rusage `wait4` returns), when available.
    pub cpu: Option<(Duration, Duration)>,
}

/// Runs the release binary with `args` against `endpoint` (colour off, the
/// token and the definitions' credential variable set), timed.
pub fn run_binary(endpoint: &str, args: &[&str]) -> BinaryRun {
    run_timed(|cmd| {
        cmd.args(args)
            .args(["--color", "never", "--endpoint", endpoint])
            .env("ZADIG_TOKEN", TOKEN)
            .env(SECRET_VAR, SECRET_VALUE)
            .env("NO_COLOR", "1")
            .env_remove("ZADIG_SYNC_LOG")
            .env_remove("ZADIG_ENDPOINT");
    })
}

/// Runs the release binary, set up by `configure` (arguments, environment),
/// under `/usr/bin/time -f '%M %U %S'` when available, and times it.
pub fn run_timed(configure: impl FnOnce(&mut Command)) -> BinaryRun {
    let bin = env!("CARGO_BIN_EXE_zadig-sync");
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M %U %S"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    configure(&mut cmd);
    let started = Instant::now();
    let out = cmd.output().expect("runs the binary");
    let wall = started.elapsed();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut peak_mib = None;
    let mut cpu = None;
    if timed {
        let trimmed = stderr.trim_end();
        let (rest, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
        let fields: Vec<f64> = last
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [kib, user, system] = fields[..] {
            peak_mib = Some(kib / 1024.0);
            cpu = Some((
                Duration::from_secs_f64(user),
                Duration::from_secs_f64(system),
            ));
            stderr = rest.to_owned();
        }
    }
    BinaryRun {
        wall,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        peak_mib,
        cpu,
    }
}

/// `12.3 MiB`, or `n/a`.
pub fn mib(m: Option<f64>) -> String {
    m.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1} MiB"))
}
