//! Validation benchmark: 10,000 definition files, loaded and validated.
//!
//! `cargo bench --bench validate` generates a definition directory in a
//! temporary directory (20 projects, 10,000 files, one or two builds each,
//! plain and template builds), then:
//! 1. reads and validates it through the library (`cli::fs::load_dir`), best of
//!    a few runs, and reports the peak memory of this process (VmHWM);
//! 2. runs the release binary's `validate` on it and reports its wall time
//!    (and its peak memory when `/usr/bin/time` is available).
//!
//! 3. loads one file of 50,000 bad documents and renders every error
//!    (`render::diagnostics::render`), which must stay linear: a line index,
//!    not a rescan of the file per error.
//!
//! Targets on the 2-core CI machine: at most 1.0 s and 200 MB; the 50,000
//! errors rendered in under 1 s.

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{mib, peak_rss_mib, run_timed, secs};

const FILES: usize = 10_000;
const PROJECTS: usize = 20;

fn plain(i: usize, project: usize) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "# yaml-language-server: $schema=../../schemas/definition.schema.json
name: svc-{i}
project_key: project-{project}
infrastructure: kubernetes
build_os: ubuntu 20.04
installs:
  - name: go
    version: 1.22.{v}
script_type: shell
build_script: |
  #!/bin/bash
  set -e
  cd $REPONAME_0
  go test ./...
  make build GOFLAGS=\"$GOFLAGS\" SERVICE=svc-{i}
repo_info:
  - codehost_name: gitlab-main
    repo_namespace: team-{project}
    repo_name: svc-{i}
    branch: main
    remote_name: origin
parameters:
  - key: GOFLAGS
    type: string
    default_value: -mod=vendor
    description: flags passed to go build
  - key: ENV
    type: choice
    default_value: staging
    choice_option: [staging, production]
  - key: SONAR_TOKEN
    is_credential: true
    default_value:
      from_env: SONAR_TOKEN
services:
  - service_name: svc-{i}
    service_module: svc-{i}
docker_build_step:
  dockerfile_source: local
  build_context_dir: $REPONAME_0
  dockerfile_directory: $REPONAME_0/Dockerfile
  enable_buildkit: true
  platforms: linux/amd64
advanced_settings:
  timeout: 30
  cluster_name: prod-k8s
  resource_spec:
    cpu_limit: 2000
    memory_limit: 4096
    cpu_req: 500
    memory_req: 1024
  cache_setting:
    enabled: true
    cache_dir: /root/.cache/go-build
",
        v = i % 10
    );
    s
}

fn template(i: usize, project: usize) -> String {
    format!(
        "kind: TemplateBuild
name: tpl-{i}
project_key: project-{project}
template_name: go-service-template
target_services:
  - service_name: tpl-{i}
    service_module: main
    repo_info:
      - codehost_name: gitlab-main
        repo_namespace: team-{project}
        repo_name: tpl-{i}
        branch: main
        remote_name: origin
    inputs:
      - key: GO_VERSION
        value: \"1.22\"
      - key: LDFLAGS
        value: -s -w
"
    )
}

fn generate(dir: &Path) -> (usize, u64) {
    let mut config = String::from("projects:\n");
    for p in 0..PROJECTS {
        let _ = writeln!(config, "  - key: project-{p}\n    prune: true");
    }
    std::fs::write(dir.join("zadig-sync.yaml"), config).expect("write config");
    for p in 0..PROJECTS {
        std::fs::create_dir_all(dir.join(format!("project-{p}"))).expect("mkdir");
    }
    let (mut builds, mut bytes) = (0, 0u64);
    for i in 0..FILES {
        let project = i % PROJECTS;
        // Every fourth file holds two documents: a plain and a template build.
        let text = if i % 4 == 0 {
            builds += 2;
            format!("{}---\n{}", plain(i, project), template(i, project))
        } else {
            builds += 1;
            plain(i, project)
        };
        bytes += text.len() as u64;
        let path = dir.join(format!("project-{project}/build-{i:05}.yaml"));
        std::fs::write(path, text).expect("write file");
    }
    (builds, bytes)
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let started = Instant::now();
    let (builds, bytes) = generate(dir);
    println!(
        "generated {FILES} files, {builds} builds, {:.1} MiB in {}",
        bytes as f64 / (1024.0 * 1024.0),
        secs(started.elapsed())
    );
    let before = peak_rss_mib();

    let mut best = Duration::MAX;
    for run in 1..=3 {
        let t = Instant::now();
        let zadig_sync::cli::fs::LoadedDir {
            contents,
            load: result,
            ..
        } = zadig_sync::cli::fs::load_dir(dir).expect("reads");
        let elapsed = t.elapsed();
        assert_eq!(contents.files.len(), FILES);
        assert_eq!(result.builds.len(), builds);
        assert!(
            !result.has_errors(),
            "the generated directory is valid: {:?}",
            result.errors().take(3).collect::<Vec<_>>()
        );
        println!(
            "library  run {run}: read + load + validate {} (streamed: each file read while it is loaded)",
            secs(elapsed)
        );
        best = best.min(elapsed);
    }
    let peak = peak_rss_mib();
    println!(
        "library  best: {}; peak memory (VmHWM) {:.1} MiB (after generating: {:.1} MiB)",
        secs(best),
        peak.unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN)
    );

    // The binary as users run it: process start, read, load, validate, print.
    let run = run_timed(|cmd| {
        cmd.args(["--color", "never", "validate"]).arg(dir);
    });
    let elapsed = run.wall;
    assert_eq!(run.code, 0, "{}", run.stderr);
    println!(
        "binary   `zadig-sync validate`: {}; peak memory {}; stdout: {}",
        secs(elapsed),
        mib(run.peak_mib),
        run.stdout.trim()
    );

    let render_ok = many_errors_in_one_file();

    let ok = best <= Duration::from_secs(1) && elapsed <= Duration::from_secs(1) && render_ok;
    let mem_ok = peak.is_none_or(|m| m <= 200.0);
    println!(
        "targets (<= 1.0 s, <= 200 MB): {}",
        if ok && mem_ok { "met" } else { "NOT met" }
    );
}

/// 50,000 bad documents in one file: load them, render every diagnostic.
fn many_errors_in_one_file() -> bool {
    const DOCS: usize = 50_000;
    let mut text = String::new();
    for i in 0..DOCS {
        let _ = write!(
            text,
            "---\nname: bad-{i}\nproject_key: demo\nbogus_{i}: 1\n"
        );
    }
    let files = vec![zadig_sync::core::load::SourceFile {
        path: "demo/bad.yaml".to_owned(),
        bytes: text.into_bytes(),
    }];
    let config = zadig_sync::core::load::SourceFile {
        path: "zadig-sync.yaml".to_owned(),
        bytes: b"projects:\n  - key: demo\n".to_vec(),
    };
    let t = Instant::now();
    let result = zadig_sync::cli::fs::load_contents(
        Some(&config),
        &files,
        zadig_sync::cli::settings::cores(),
    );
    let loaded = t.elapsed();
    let errors = result.errors().count();
    let t = Instant::now();
    let out = zadig_sync::render::diagnostics::render(&result.diagnostics, &files, false);
    let rendered = t.elapsed();
    assert!(errors >= DOCS, "{errors} errors");
    println!(
        "one file, {DOCS} bad documents: {errors} errors, {} diagnostics; load {}, render {} ({:.1} MiB of text)",
        result.diagnostics.len(),
        secs(loaded),
        secs(rendered),
        out.len() as f64 / (1024.0 * 1024.0)
    );
    rendered <= Duration::from_secs(1)
}
