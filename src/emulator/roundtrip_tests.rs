//! Properties of the whole read path over the emulator's storage model (no
//! HTTP): for any build, what Zadig stores for it and zadig-sync reads back
//! plans as unchanged (apply then plan is empty), also after an update, and
//! normalising is idempotent on both sides.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::Seed;
use super::binding::{bind_create_value, bind_template_value};
use super::state::State;
use crate::core::catalog::Catalog;
use crate::core::live::{LiveBuild, LiveRead};
use crate::core::model::*;
use crate::core::normalize::{normalize_desired, normalize_live};
use crate::core::plan::{DesiredBuild, LiveState, PlanOptions, ProjectLive, plan};
use crate::zadig::wire::{BasicImage, BuildBrief, Cluster, CodeHost, StoredBuild};

pub(super) fn catalog(state: &State) -> Catalog {
    let images: Vec<BasicImage> =
        serde_json::from_value(state.basic_images("", "sonar")).expect("images");
    let clusters: Vec<Cluster> = serde_json::from_value(state.clusters()).expect("clusters");
    let hosts: Vec<CodeHost> = serde_json::from_value(state.code_hosts()).expect("hosts");
    let mut cat = Catalog::from_lookups(&images, &clusters, Some(&hosts), &[], &[]);
    let dockerfiles: crate::zadig::wire::DockerfileTemplateList =
        serde_json::from_value(state.dockerfile_templates(1, 0)).expect("dockerfile templates");
    cat.dockerfile_templates = dockerfiles.dockerfile_template;
    cat.build_templates = state
        .catalog
        .build_templates
        .iter()
        .map(|t| crate::zadig::wire::NamedId {
            id: t.id.clone(),
            name: t.name.clone(),
        })
        .collect();
    cat
}

/// What zadig-sync reads for one build: the masked stored model plus the
/// plain credential values from the OpenAPI detail.
fn read(state: &State, name: &str, project: &str) -> LiveBuild {
    let model: StoredBuild =
        serde_json::from_value(state.stored_view(name, project, true).expect("stored"))
            .expect("decodes");
    let detail = state.detail(name, project, "", "").expect("detail");
    let credentials: BTreeMap<String, String> = detail
        .parameters
        .iter()
        .filter(|p| p.is_credential)
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    LiveBuild {
        project: project.to_owned(),
        brief: BuildBrief {
            name: name.to_owned(),
            project_key: project.to_owned(),
            source: model.source.clone(),
            update_time: model.update_time,
            ..BuildBrief::default()
        },
        read: LiveRead::Stored {
            model: Box::new(model),
            credentials,
            raw: None,
        },
    }
}

pub(super) fn config() -> Config {
    Config {
        projects: vec![ProjectConfig {
            key: "demo".into(),
            ..ProjectConfig::default()
        }],
        ..Config::default()
    }
}

fn plan_of(state: &State, def: &BuildDef) -> crate::core::plan::Plan {
    let live = read(state, def.name(), "demo");
    let live_state = LiveState {
        projects: BTreeMap::from([("demo".to_owned(), ProjectLive::Listed(vec![live]))]),
        elsewhere: BTreeMap::new(),
        catalog: catalog(state),
    };
    let desired = DesiredBuild::new(&def.clone(), "x.yaml:1".into());
    plan(&config(), &[desired], &live_state, &PlanOptions::default())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9 ./$_-]{1,12}",
        "[a-z]{1,5}\n[ -~]{0,10}\n",
        "\\PC{0,8}",
    ]
}

fn repo() -> impl Strategy<Value = RepoInfo> {
    (
        prop_oneof![Just("gitlab-main"), Just("github")],
        "[a-z]{1,6}",
        "[a-z]{1,6}",
        prop_oneof![Just(""), Just("main"), Just("dev")],
        prop_oneof![Just(""), Just("origin")],
        text(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0i64), 1i64..50],
    )
        .prop_map(
            |(host, ns, name, branch, remote, path, sub, pin, pr)| RepoInfo {
                codehost_name: host.into(),
                repo_namespace: ns,
                repo_name: name,
                branch: branch.into(),
                remote_name: remote.into(),
                checkout_path: path.trim().to_owned(),
                submodules: sub,
                enable_commit: pin,
                commit_id: if pin { "abc".into() } else { String::new() },
                pr,
                prs: if pr > 0 { vec![pr] } else { vec![] },
            },
        )
}

fn param_type() -> impl Strategy<Value = ParamType> {
    prop_oneof![
        Just(ParamType::String),
        Just(ParamType::Choice),
        Just(ParamType::MultiSelect),
        Just(ParamType::Image),
        Just(ParamType::Script),
        Just(ParamType::File),
    ]
}

fn parameters() -> impl Strategy<Value = Vec<Parameter>> {
    prop::collection::btree_map(
        "[A-Z]{1,4}",
        (
            param_type(),
            text(),
            any::<bool>(),
            text(),
            prop::collection::vec("[a-c]", 0..3),
        ),
        0..4,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(key, (t, v, cred, desc, choices))| Parameter {
                key,
                param_type: t,
                default_value: ParamValue::Literal(v),
                choice_option: choices.clone(),
                choice_value: choices.into_iter().take(1).collect(),
                is_credential: cred,
                description: desc,
            })
            .collect()
    })
}

fn advanced() -> impl Strategy<Value = Option<AdvancedSettings>> {
    let adv = (
        0i64..200,
        prop_oneof![Just("local-20240101120000"), Just("prod-k8s")],
        prop_oneof![Just(""), Just("default"), Just("high-mem"), Just("nope")],
        (0i64..5000, 0i64..9000, 0i64..1000, 0i64..1000),
        (any::<bool>(), text()),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec("[A-Z]{1,3}", 0..3),
    )
        .prop_map(
            |(
                timeout,
                cluster,
                strategy,
                (cl, ml, cr, mr),
                (cache, dir),
                storage,
                (host, privileged, labels),
                outputs,
            )| {
                AdvancedSettings {
                    timeout,
                    cluster_name: cluster.into(),
                    strategy_name: strategy.into(),
                    resource_spec: ResourceSpec {
                        cpu_limit: cl,
                        memory_limit: ml,
                        cpu_req: cr,
                        memory_req: mr,
                        gpu_limit: String::new(),
                    },
                    cache_setting: CacheSetting {
                        enabled: cache,
                        cache_dir: dir,
                        dir_type: None,
                    },
                    storages: Storages {
                        enabled: storage,
                        storages_properties: if storage {
                            vec![StorageProperty {
                                provision_type: "dynamic".into(),
                                storage_class: "cfs".into(),
                                storage_size_in_gib: 5,
                                mount_path: "/data".into(),
                                ..StorageProperty::default()
                            }]
                        } else {
                            vec![]
                        },
                    },
                    use_host_docker_daemon: host,
                    privileged_mode: privileged,
                    custom_annotations: vec![],
                    custom_labels: if labels {
                        vec![KeyValue {
                            key: "team".into(),
                            value: "x".into(),
                        }]
                    } else {
                        vec![]
                    },
                    outputs,
                }
            },
        );
    prop::option::of(adv)
}

fn docker() -> impl Strategy<Value = Option<DockerBuildStep>> {
    prop::option::of(
        (any::<bool>(), text(), text(), text(), any::<bool>()).prop_map(
            |(local, ctx, file, args, kit)| DockerBuildStep {
                dockerfile_source: if local {
                    DockerfileSource::Local
                } else {
                    DockerfileSource::Template
                },
                build_context_dir: ctx,
                dockerfile_directory: file,
                template_name: if local {
                    String::new()
                } else {
                    "go-distroless".into()
                },
                build_args: args,
                enable_buildkit: kit,
                platforms: String::new(),
            },
        ),
    )
}

prop_compose! {
    pub(super) fn build_spec()(
        vm in any::<bool>(),
        os in prop_oneof![Just("ubuntu 20.04"), Just("ubuntu 18.04")],
        installs in prop::collection::vec(("[a-z]{1,4}", "[0-9.]{1,5}"), 0..3),
        script_type in prop_oneof![Just(ScriptType::Shell), Just(ScriptType::BatchFile), Just(ScriptType::Powershell)],
        script in text(),
        repos in prop::collection::vec(repo(), 0..3),
        parameters in parameters(),
        services in prop::collection::btree_set(("[a-z]{1,3}", "[a-z]{1,3}"), 0..3),
        docker in docker(),
        adv in advanced(),
    ) -> BuildSpec {
        BuildSpec {
            kind: None,
            name: "prop-build".into(),
            project_key: "demo".into(),
            infrastructure: if vm { Infrastructure::Vm } else { Infrastructure::Kubernetes },
            build_os: os.into(),
            installs: installs.into_iter().map(|(name, version)| Install { name, version }).collect(),
            script_type,
            build_script: script,
            repo_info: repos,
            parameters,
            services: services.into_iter().map(|(s, m)| ServiceModule { service_name: s, service_module: m }).collect(),
            docker_build_step: docker,
            advanced_settings: adv,
        }
    }
}

pub(super) fn create(state: &mut State, b: &BuildSpec) {
    let body = serde_json::to_value(b).expect("serialises");
    let req = bind_create_value(&body).expect("binds");
    state.create(&req, "tester", 1).expect("created");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn apply_then_plan_is_empty(b in build_spec()) {
        let mut state = State::from_seed(Seed::builtin(), 0).expect("state");
        create(&mut state, &b);
        let p = plan_of(&state, &BuildDef::Build(b.clone()));
        prop_assert!(p.changes.is_empty(), "{:#?}", p.changes);
        prop_assert!(p.not_verifiable.is_empty(), "{:?}", p.not_verifiable);
    }

    #[test]
    fn an_update_then_plan_is_empty(a in build_spec(), b in build_spec()) {
        let mut state = State::from_seed(Seed::builtin(), 0).expect("state");
        create(&mut state, &a);
        let body = serde_json::to_value(&b).expect("serialises");
        state.update(&bind_create_value(&body).expect("binds"), "tester", 2).expect("updated");
        let p = plan_of(&state, &BuildDef::Build(b.clone()));
        prop_assert!(p.changes.is_empty(), "{:#?}", p.changes);
        // And the plan between the two definitions is empty exactly when they
        // mean the same.
        let mut state = State::from_seed(Seed::builtin(), 0).expect("state");
        create(&mut state, &a);
        let p = plan_of(&state, &BuildDef::Build(b.clone()));
        let cat = catalog(&state);
        let same = normalize_desired(&BuildDef::Build(a.clone()), &cat) == normalize_desired(&BuildDef::Build(b.clone()), &cat);
        prop_assert_eq!(p.changes.is_empty(), same, "{:#?}", p.changes);
    }

    #[test]
    fn normalising_twice_changes_nothing(b in build_spec()) {
        let mut state = State::from_seed(Seed::builtin(), 0).expect("state");
        let cat = catalog(&state);
        let def = BuildDef::Build(b.clone());
        let once = normalize_desired(&def, &cat);
        prop_assert_eq!(normalize_desired(&once, &cat), once);
        create(&mut state, &b);
        let live = normalize_live(&read(&state, "prop-build", "demo"), &cat).def.expect("read");
        prop_assert_eq!(normalize_desired(&live, &cat), live);
    }
}

#[test]
fn a_template_build_as_stored_plans_unchanged() {
    let mut state = State::from_seed(Seed::builtin(), 0).expect("state");
    let t = TemplateBuildSpec {
        kind: None,
        name: "tb".into(),
        project_key: "demo".into(),
        template_name: "go-service-template".into(),
        target_services: vec![TargetService {
            service_name: "s".into(),
            service_module: "m".into(),
            repo_info: vec![RepoInfo {
                codehost_name: "gitlab-main".into(),
                repo_namespace: "team".into(),
                repo_name: "s".into(),
                branch: "main".into(),
                remote_name: "origin".into(),
                ..RepoInfo::default()
            }],
            inputs: vec![
                Input {
                    key: "GO_VERSION".into(),
                    value: ParamValue::Literal("1.22".into()),
                    input_type: None,
                    is_credential: false,
                },
                Input {
                    key: "REGISTRY_TOKEN".into(),
                    value: ParamValue::Literal("tok".into()),
                    input_type: Some(ParamType::String),
                    is_credential: true,
                },
            ],
        }],
    };
    let body = serde_json::to_value(&t).expect("serialises");
    let req = bind_template_value(&body).expect("binds");
    state.create_template(&req, "tester", 1).expect("created");
    let p = plan_of(&state, &BuildDef::Template(t.clone()));
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    let mut changed = t;
    changed.target_services[0].inputs[1].value = ParamValue::Literal("rotated".into());
    let p = plan_of(&state, &BuildDef::Template(changed));
    assert_eq!(p.changes.len(), 1);
    assert!(!format!("{:?}", p.changes[0].fields).contains("rotated"));
}
