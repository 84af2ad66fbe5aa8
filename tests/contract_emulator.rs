//! Contract tests: the client against the emulator (not a friendlier fake),
//! for every endpoint the tool uses and every error it must turn into an
//! actionable message.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;
use zadig_sync::core::model::{BuildSpec, TemplateBuildSpec};
use zadig_sync::emulator::{
    EmulatorConfig, Faults, Perms, Role, RunningEmulator, Seed, SeedBuild, TokenPolicy,
    VmServiceRef, spawn,
};
use zadig_sync::zadig::{ApiError, Client, ClientConfig, RetryPolicy, WriteOutcome};

const TOKEN: &str = "contract-token";

async fn emulator(seed: Seed, tokens: TokenPolicy) -> RunningEmulator {
    spawn(
        EmulatorConfig {
            seed,
            tokens,
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("emulator")
}

fn client(emu: &RunningEmulator, token: &str) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), SecretString::from(token.to_owned()));
    cfg.concurrency = 8;
    cfg.timeout = Duration::from_secs(5);
    cfg.retry = RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_total: Duration::from_secs(20),
    };
    Client::new(cfg).expect("client")
}

fn spec(name: &str, project: &str) -> BuildSpec {
    serde_saphyr::from_str(&format!(
        "name: {name}\nproject_key: {project}\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: make\nrepo_info:\n  - codehost_name: gitlab-main\n    repo_namespace: team\n    repo_name: {name}\n    branch: main\n    remote_name: origin\nparameters:\n  - key: TOKEN\n    is_credential: true\n    default_value: s3cret\n"
    ))
    .expect("spec")
}

fn template(name: &str) -> TemplateBuildSpec {
    serde_saphyr::from_str(&format!(
        "name: {name}\nproject_key: demo\ntemplate_name: go-service-template\ntarget_services:\n  - service_name: s\n    service_module: m\n    inputs:\n      - key: GO_VERSION\n        value: \"1.22\"\n"
    ))
    .expect("template")
}

#[tokio::test]
async fn every_build_endpoint_round_trips() {
    let emu = emulator(Seed::builtin(), TokenPolicy::AnyAdmin).await;
    let c = client(&emu, TOKEN);
    // create, list (several pages), detail, stored model, update, delete
    for i in 0..25 {
        assert_eq!(
            c.create_build(&spec(&format!("b{i:02}"), "demo"))
                .await
                .expect("create"),
            WriteOutcome::Done
        );
    }
    let list = c.list_builds("demo").await.expect("list");
    assert_eq!(list.len(), 25, "every page is read");
    let detail = c.build_detail("demo", "b03", None).await.expect("detail");
    assert_eq!(
        detail.parameters[0].value, "s3cret",
        "the detail shows credentials in plain text"
    );
    let stored = c.stored_build("demo", "b03").await.expect("stored");
    assert_eq!(
        stored.pre_build.expect("pre_build").envs[0].value,
        "********",
        "released Zadig masks them"
    );
    let mut changed = spec("b03", "demo");
    changed.build_script = "make all".into();
    c.update_build(&changed).await.expect("update");
    assert_eq!(
        c.stored_build("demo", "b03").await.expect("stored").scripts,
        "make all"
    );
    c.delete_build("demo", "b03").await.expect("delete");
    assert!(
        c.build_detail("demo", "b03", None)
            .await
            .expect_err("gone")
            .is_not_found()
    );
    c.delete_build("demo", "b03")
        .await
        .expect("delete is idempotent");
    // template create and update
    c.create_template_build(&template("tb"))
        .await
        .expect("template create");
    let mut t = template("tb");
    t.target_services[0].inputs[0].value =
        zadig_sync::core::model::ParamValue::Literal("1.23".into());
    c.update_template_build(&t).await.expect("template update");
    let stored = c.stored_build("demo", "tb").await.expect("stored");
    assert!(
        stored.targets[0]
            .envs
            .iter()
            .any(|e| e.key == "GO_VERSION" && e.value == "1.23")
    );
    let per_target = c
        .build_detail("demo", "tb", Some(("s", "m")))
        .await
        .expect("per-target detail");
    assert!(per_target.parameters.iter().any(|p| p.key == "GO_VERSION"));
    emu.shutdown().await;
}

#[tokio::test]
async fn every_look_up_is_read_once() {
    let emu = emulator(Seed::builtin(), TokenPolicy::AnyAdmin).await;
    let c = client(&emu, TOKEN);
    for _ in 0..3 {
        assert!(
            c.basic_images()
                .await
                .expect("images")
                .iter()
                .any(|i| i.label == "ubuntu 20.04")
        );
        assert!(
            c.clusters()
                .await
                .expect("clusters")
                .iter()
                .any(|k| k.local && !k.advanced_config.schedule_strategy.is_empty())
        );
        assert!(
            c.code_hosts()
                .await
                .expect("hosts")
                .iter()
                .any(|h| h.alias == "gitlab-main")
        );
        assert!(
            c.dockerfile_templates()
                .await
                .expect("dockerfiles")
                .iter()
                .any(|t| t.name == "go-distroless")
        );
        assert!(
            c.build_templates()
                .await
                .expect("templates")
                .iter()
                .any(|t| t.name == "go-service-template")
        );
        assert!(
            c.openapi_clusters()
                .await
                .expect("clusters")
                .iter()
                .any(|k| k.local)
        );
    }
    assert_eq!(
        emu.handle().stats().lookups,
        6,
        "{:?}",
        emu.handle().stats()
    );
    assert!(
        c.projects()
            .await
            .expect("projects")
            .iter()
            .any(|p| p.project_key == "demo")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn zadig_errors_become_typed_errors() {
    let mut seed = Seed::builtin();
    seed.builds.push(SeedBuild::Create(
        serde_json::to_value(spec("taken", "platform")).expect("json"),
    ));
    seed.builds.push(SeedBuild::Create(
        serde_json::to_value(spec("vm-ref", "demo")).expect("json"),
    ));
    seed.vm_service_refs.push(VmServiceRef {
        project: "demo".into(),
        build: "vm-ref".into(),
        service: "svc".into(),
    });
    let viewer = Role::Project(HashMap::from([(
        "demo".to_owned(),
        Perms {
            view: true,
            create: false,
            delete: false,
            edit: false,
        },
    )]));
    let tokens = TokenPolicy::Tokens(HashMap::from([
        (TOKEN.to_owned(), Role::Admin),
        ("viewer".to_owned(), viewer),
    ]));
    let emu = emulator(seed, tokens).await;
    let c = client(&emu, TOKEN);

    // 6520 "already exists", naming the other project (names are global).
    match c.create_build(&spec("taken", "demo")).await {
        Err(ApiError::NameTaken { other_project, .. }) => {
            assert_eq!(other_project.as_deref(), Some("platform"))
        }
        other => panic!("{other:?}"),
    }
    // 6521 update of a build that does not exist.
    let e = c
        .update_build(&spec("missing", "demo"))
        .await
        .expect_err("not found");
    assert!(e.is_not_found() && e.code() == Some(6521), "{e:?}");
    // 6523 template update of a build that does not exist.
    let e = c
        .update_template_build(&template("missing"))
        .await
        .expect_err("not found");
    assert!(e.is_not_found() && e.code() == Some(6523), "{e:?}");
    // 6524 delete of a build a VM service references.
    assert!(matches!(
        c.delete_build("demo", "vm-ref").await,
        Err(ApiError::Referenced { .. })
    ));
    // Empty-body 400: a required field Go sees as empty.
    let mut bad = spec("bad", "demo");
    bad.build_os = String::new();
    assert!(matches!(
        c.create_build(&bad).await,
        Err(ApiError::EmptyBadRequest { .. })
    ));
    // 6520 resolution failure: an unknown code host.
    let mut bad = spec("bad", "demo");
    bad.repo_info[0].codehost_name = "nope".into();
    let e = c.create_build(&bad).await.expect_err("rejected");
    assert_eq!(e.code(), Some(6520));
    assert!(e.to_string().contains("nope"), "{e}");
    // Plain 500: an unknown build template.
    let mut t = template("t2");
    t.template_name = "no-such-template".into();
    assert!(matches!(
        c.create_template_build(&t).await,
        Err(ApiError::Server { status: 500, .. })
    ));
    // 401 and 403, with empty bodies.
    let stranger = client(&emu, "not-a-known-token");
    assert!(matches!(
        stranger.list_builds("demo").await,
        Err(ApiError::Unauthorized { .. })
    ));
    let v = client(&emu, "viewer");
    assert!(v.list_builds("demo").await.is_ok());
    assert!(matches!(
        v.create_build(&spec("x", "demo")).await,
        Err(ApiError::Forbidden { .. })
    ));
    assert!(matches!(
        v.list_builds("platform").await,
        Err(ApiError::Forbidden { .. })
    ));
    emu.shutdown().await;
}

#[tokio::test]
async fn template_builds_without_a_licence_are_7050() {
    let mut seed = Seed::builtin();
    seed.template_licence = false;
    let emu = emulator(seed, TokenPolicy::AnyAdmin).await;
    let c = client(&emu, TOKEN);
    assert!(matches!(
        c.create_template_build(&template("t")).await,
        Err(ApiError::LicenceRequired { .. })
    ));
    emu.shutdown().await;
}

#[tokio::test]
async fn reads_survive_a_flaky_server_and_creates_are_never_duplicated() {
    let emu = emulator(Seed::builtin(), TokenPolicy::AnyAdmin).await;
    let c = client(&emu, TOKEN);
    for i in 0..30 {
        c.create_build(&spec(&format!("f{i:02}"), "demo"))
            .await
            .expect("create");
    }
    emu.handle().set_faults(Faults {
        get_error_rate: 0.3,
        error_statuses: vec![503, 429],
        drop_connection_rate: 0.1,
        retry_after_secs: 0,
        seed: 3,
        ..Faults::default()
    });
    let c = client(&emu, TOKEN);
    assert_eq!(c.list_builds("demo").await.expect("list").len(), 30);
    for i in 0..30 {
        c.stored_build("demo", &format!("f{i:02}"))
            .await
            .expect("read through faults");
    }
    assert!(c.stats().retries > 0, "faults were injected: {}", c.stats());
    emu.handle().set_faults(Faults {
        commit_then_500_creates: 3,
        ..Faults::default()
    });
    for i in 0..3 {
        let outcome = c
            .create_build(&spec(&format!("amb{i}"), "demo"))
            .await
            .expect("resolved");
        assert_eq!(outcome, WriteOutcome::ResolvedAfterAmbiguity);
    }
    let names: Vec<String> = emu
        .handle()
        .builds("demo")
        .into_iter()
        .map(|b| b.name)
        .filter(|n| n.starts_with("amb"))
        .collect();
    assert_eq!(names, ["amb0", "amb1", "amb2"], "exactly one of each");
    emu.shutdown().await;
}
