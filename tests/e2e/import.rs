//! `import`: every build the emulator holds imports into files whose plan is
//! empty.

use zadig_sync::emulator::{Seed, SeedBuild};

use crate::common::*;

#[test]
fn import_then_plan_is_empty_for_the_examples_seed() {
    let emu = emulator(examples_seed());
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    write(
        tmp.path(),
        "zadig-sync.yaml",
        "projects:\n  - key: demo\n  - key: platform\n    ignore: [\"legacy-*\"]\n",
    );
    for project in ["demo", "platform"] {
        let out = run(&emu, &["import", "--project", project, "--out", dir]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    }
    let gateway = std::fs::read_to_string(tmp.path().join("platform/platform-gateway.yaml"))
        .expect("written");
    assert!(
        gateway.contains("from_env: ZADIG_SECRET_PLATFORM_GATEWAY_REGISTRY_PASSWORD"),
        "{gateway}"
    );
    assert!(
        !tmp.path()
            .join("platform/platform-jenkins-deploy.yaml")
            .exists(),
        "read-only builds are not written"
    );

    let live_secret = emu
        .handle()
        .stored_build("platform", "platform-gateway")
        .and_then(|b| b.pre_build)
        .and_then(|p| p.envs.into_iter().find(|e| e.key == "REGISTRY_PASSWORD"))
        .map(|e| e.value)
        .expect("seeded");
    let out = run_env(
        &emu,
        &["plan", dir, "-o", "json", "--detailed-exitcode"],
        &[
            (
                "ZADIG_SECRET_PLATFORM_GATEWAY_REGISTRY_PASSWORD",
                live_secret.as_str(),
            ),
            ("ZADIG_SECRET_DEMO_API_SONAR_TOKEN", &sonar_value(&emu)),
        ],
    );
    assert_eq!(
        out.code, 0,
        "import then plan must be empty:\n{}\n{}",
        out.stdout, out.stderr
    );
}

fn sonar_value(emu: &zadig_sync::emulator::ThreadEmulator) -> String {
    emu.handle()
        .stored_build("demo", "demo-api")
        .and_then(|b| b.pre_build)
        .and_then(|p| p.envs.into_iter().find(|e| e.key == "SONAR_TOKEN"))
        .map(|e| e.value)
        .unwrap_or_default()
}

#[test]
fn existing_files_are_kept_without_force() {
    let emu = emulator(examples_seed());
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    write(tmp.path(), "demo/demo-web.yaml", "# mine\n");
    let out = run(
        &emu,
        &["import", "--project", "demo", "--out", dir, "demo-web"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Not overwritten"), "{}", out.stdout);
    assert!(
        tmp.path().join("zadig-sync.yaml").is_file(),
        "writes the configuration: {}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("demo/demo-web.yaml")).expect("kept"),
        "# mine\n"
    );
    let out = run(
        &emu,
        &[
            "import",
            "--project",
            "demo",
            "--out",
            dir,
            "demo-web",
            "--force",
        ],
    );
    assert_eq!(out.code, 0);
    assert!(
        std::fs::read_to_string(tmp.path().join("demo/demo-web.yaml"))
            .expect("written")
            .contains("name: demo-web")
    );
}

/// A generated corpus that covers every field of a plain build: each one,
/// created through the emulator's API path, imports into a file whose plan is
/// empty.
#[test]
fn generated_builds_round_trip_through_import() {
    let mut seed = Seed::builtin();
    let mut rng = fastrand::Rng::with_seed(42);
    for i in 0..40 {
        seed.builds
            .push(SeedBuild::Create(generated_body(&mut rng, i)));
    }
    for i in 0..6 {
        seed.builds
            .push(SeedBuild::CreateTemplate(generated_template(&mut rng, i)));
    }
    let emu = emulator(seed);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    write(tmp.path(), "zadig-sync.yaml", "projects:\n  - key: demo\n");
    let out = run(
        &emu,
        &[
            "import",
            "--project",
            "demo",
            "--out",
            dir,
            "--credentials",
            "keep",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Imported 46 build(s)"),
        "{}",
        out.stdout
    );
    let tpl = std::fs::read_to_string(tmp.path().join("demo/tpl-00.yaml")).expect("written");
    assert!(tpl.contains("kind: TemplateBuild"), "{tpl}");
    let out = run(&emu, &["plan", dir, "-o", "json", "--detailed-exitcode"]);
    assert_eq!(
        out.code, 0,
        "import then plan must be empty:\n{}\n{}",
        out.stdout, out.stderr
    );
}

fn generated_template(rng: &mut fastrand::Rng, i: usize) -> serde_json::Value {
    use serde_json::json;
    let targets: Vec<_> = (0..rng.usize(1..3))
        .map(|k| {
            let mut inputs = vec![json!({"key": "GO_VERSION", "value": format!("1.{}", rng.u8(18..24))})];
            if rng.bool() {
                inputs.push(json!({"key": "LDFLAGS", "value": "-s -w", "type": "string"}));
            }
            if rng.bool() {
                inputs.push(json!({"key": "REGISTRY_TOKEN", "value": format!("t{}", rng.u32(..)), "type": "string", "is_credential": true}));
            }
            json!({
                "service_name": format!("svc{i}"),
                "service_module": format!("mod{k}"),
                "repo_info": [{"codehost_name": "github", "repo_namespace": "org", "repo_name": format!("r{k}"), "branch": "main", "remote_name": "origin"}],
                "inputs": inputs,
            })
        })
        .collect();
    json!({"name": format!("tpl-{i:02}"), "project_key": "demo", "template_name": "go-service-template", "target_services": targets})
}

fn generated_body(rng: &mut fastrand::Rng, i: usize) -> serde_json::Value {
    use serde_json::json;
    let pick = |rng: &mut fastrand::Rng, xs: &[&str]| xs[rng.usize(..xs.len())].to_owned();
    let name = format!("gen-{i:02}");
    let mut body = json!({
        "name": name,
        "project_key": "demo",
        "infrastructure": pick(rng, &["kubernetes", "vm"]),
        "build_os": pick(rng, &["ubuntu 20.04", "ubuntu 18.04"]),
        "installs": (0..rng.usize(0..3)).map(|k| json!({"name": format!("tool{k}"), "version": format!("1.{}", rng.u8(..20))})).collect::<Vec<_>>(),
        "script_type": pick(rng, &["shell", "batch_file", "powershell"]),
        "build_script": format!("#!/bin/bash\nset -e\necho {}\n", rng.u32(..)),
        "repo_info": (0..rng.usize(0..3)).map(|k| json!({
            "codehost_name": pick(rng, &["gitlab-main", "github"]),
            "repo_namespace": format!("ns{k}"),
            "repo_name": format!("repo{k}"),
            "branch": pick(rng, &["main", "dev"]),
            "remote_name": "origin",
            "checkout_path": if rng.bool() { format!("src/{k}") } else { String::new() },
            "submodules": rng.bool(),
            "enable_commit": k == 1,
            "commit_id": if k == 1 { "abc123".to_owned() } else { String::new() },
        })).collect::<Vec<_>>(),
        "parameters": [
            {"key": "PLAIN", "type": "string", "default_value": format!("v{}", rng.u8(..)), "description": "a plain value"},
            {"key": "CHOICE", "type": "choice", "default_value": "b", "choice_option": ["a", "b"], "is_credential": false},
            {"key": "SECRET", "type": "string", "default_value": format!("s{}", rng.u32(..)), "is_credential": true},
        ],
        "services": [{"service_name": name, "service_module": name}],
    });
    if rng.bool() {
        body["docker_build_step"] = if rng.bool() {
            json!({"dockerfile_source": "local", "build_context_dir": " $REPONAME_0 ", "dockerfile_directory": "$REPONAME_0/Dockerfile", "build_args": "--pull", "enable_buildkit": rng.bool(), "platforms": "linux/amd64"})
        } else {
            json!({"dockerfile_source": "template", "template_name": "go-distroless", "build_context_dir": "."})
        };
    }
    if rng.bool() {
        body["advanced_settings"] = json!({
            "timeout": rng.i64(1..120),
            "cluster_name": pick(rng, &["local-20240101120000", "prod-k8s"]),
            "strategy_name": pick(rng, &["", "high-mem", "default", "no-such-strategy"]),
            "resource_spec": {"cpu_limit": 2000, "memory_limit": 4096, "cpu_req": rng.i64(0..1000), "memory_req": 256, "gpu_limit": ""},
            "cache_setting": {"enabled": rng.bool(), "cache_dir": "/cache"},
            "storages": {"enabled": true, "storages_properties": [{"provision_type": "dynamic", "storage_class": "cfs", "storage_size_in_gib": 5, "mount_path": "/data", "subpath": "$PROJECT", "access_mode": "ReadWriteMany", "is_temporary": rng.bool()}]},
            "use_host_docker_daemon": rng.bool(),
            "privileged_mode": rng.bool(),
            "custom_annotations": [{"key": "a", "value": "1"}],
            "custom_labels": [{"key": "team", "value": "x"}],
            "outputs": ["OUT_A"],
        });
    }
    body
}
