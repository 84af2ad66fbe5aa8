//! Planner tests over hand-made live state. The stored models here follow
//! build-api.md §5.1 (what Zadig stores for a create body); the end-to-end
//! tests check the same against the emulator.

use std::collections::BTreeMap;

use super::*;
use crate::core::catalog::{ClusterInfo, CodeHostInfo, ImageInfo, LOCAL_CLUSTER_ID, StrategyInfo};
use crate::core::live::LiveRead;
use crate::core::model::*;
use crate::zadig::wire::{
    BuildBrief, BuildDetail, BuildEnv, DetailAdvancedSettings, DetailParameter, InstallItem,
    KeyVal, Output, PostBuild, PreBuild, ResourceSpecWire, StoredBuild, StoredRepo, StoredTarget,
};

pub(crate) fn catalog() -> Catalog {
    Catalog {
        images: vec![ImageInfo {
            id: "img1".into(),
            label: "ubuntu 20.04".into(),
            value: "focal".into(),
            image_from: "koderover".into(),
        }],
        clusters: vec![ClusterInfo {
            id: LOCAL_CLUSTER_ID.into(),
            name: "local-1".into(),
            local: true,
            strategies: Some(vec![
                StrategyInfo {
                    id: "s1".into(),
                    name: "default".into(),
                    default: true,
                },
                StrategyInfo {
                    id: "s2".into(),
                    name: "high-mem".into(),
                    default: false,
                },
            ]),
        }],
        code_hosts: Some(vec![CodeHostInfo {
            id: 1,
            alias: "gitlab-main".into(),
            host_type: "gitlab".into(),
        }]),
        dockerfile_templates: vec![],
        build_templates: vec![crate::zadig::wire::NamedId {
            id: "t1".into(),
            name: "tpl".into(),
        }],
        build_template_vars: BTreeMap::new(),
        projects: Some(vec!["demo".into()]),
    }
}

pub(crate) fn spec(name: &str, project: &str) -> BuildSpec {
    BuildSpec {
        kind: None,
        name: name.into(),
        project_key: project.into(),
        infrastructure: Infrastructure::Kubernetes,
        build_os: "ubuntu 20.04".into(),
        installs: vec![Install {
            name: "go".into(),
            version: "1.22".into(),
        }],
        script_type: ScriptType::Shell,
        build_script: "make\n".into(),
        repo_info: vec![RepoInfo {
            codehost_name: "gitlab-main".into(),
            repo_namespace: "team".into(),
            repo_name: name.into(),
            branch: "main".into(),
            remote_name: "origin".into(),
            ..RepoInfo::default()
        }],
        parameters: vec![Parameter {
            key: "TOKEN".into(),
            param_type: ParamType::String,
            default_value: ParamValue::Literal("s3cret-value".into()),
            choice_option: vec![],
            choice_value: vec![],
            is_credential: true,
            description: "a secret".into(),
        }],
        services: vec![ServiceModule {
            service_name: name.into(),
            service_module: name.into(),
        }],
        docker_build_step: None,
        advanced_settings: None,
    }
}

/// What Zadig stores for a create body without `advanced_settings` (§5.1),
/// with the stored-model read's default-strategy fill and credential masking.
pub(crate) fn stored(b: &BuildSpec) -> StoredBuild {
    StoredBuild {
        name: b.name.clone(),
        source: "zadig".into(),
        timeout: 60,
        targets: b
            .services
            .iter()
            .map(|s| StoredTarget {
                product_name: b.project_key.clone(),
                service_name: s.service_name.clone(),
                service_module: s.service_module.clone(),
                ..StoredTarget::default()
            })
            .collect(),
        update_time: 1_760_000_000,
        repos: b
            .repo_info
            .iter()
            .map(|r| StoredRepo {
                source: "gitlab".into(),
                codehost_id: 1,
                repo_owner: r.repo_namespace.clone(),
                repo_namespace: r.repo_namespace.clone(),
                repo_name: r.repo_name.clone(),
                branch: r.branch.clone(),
                remote_name: r.remote_name.clone(),
                ..StoredRepo::default()
            })
            .collect(),
        pre_build: Some(PreBuild {
            res_req: "low".into(),
            res_req_spec: ResourceSpecWire {
                cpu_limit: 1000,
                memory_limit: 512,
                ..Default::default()
            },
            build_os: "ubuntu 20.04".into(),
            image_from: "koderover".into(),
            image_id: "img1".into(),
            installs: b
                .installs
                .iter()
                .map(|i| InstallItem {
                    name: i.name.clone(),
                    version: i.version.clone(),
                })
                .collect(),
            envs: b
                .parameters
                .iter()
                .map(|p| KeyVal {
                    key: p.key.clone(),
                    value: if p.is_credential {
                        MASK.into()
                    } else {
                        p.default_value.as_literal().unwrap_or("").into()
                    },
                    kv_type: "string".into(),
                    is_credential: p.is_credential,
                    description: p.description.clone(),
                    ..KeyVal::default()
                })
                .collect(),
            cluster_id: LOCAL_CLUSTER_ID.into(),
            strategy_id: "s1".into(),
            ..PreBuild::default()
        }),
        infrastructure: "kubernetes".into(),
        script_type: "shell".into(),
        scripts: b.build_script.clone(),
        post_build: Some(PostBuild::default()),
        product_name: b.project_key.clone(),
        cache_dir_type: "workspace".into(),
        outputs: vec![
            Output {
                name: "IMAGE".into(),
                description: String::new(),
            },
            Output {
                name: "PKG_FILE".into(),
                description: String::new(),
            },
        ],
        ..StoredBuild::default()
    }
}

pub(crate) fn live(b: &BuildSpec, model: StoredBuild) -> LiveBuild {
    let credentials: BTreeMap<String, String> = b
        .parameters
        .iter()
        .filter(|p| p.is_credential)
        .map(|p| {
            (
                p.key.clone(),
                p.default_value.as_literal().unwrap_or("").to_owned(),
            )
        })
        .collect();
    LiveBuild {
        project: b.project_key.clone(),
        brief: BuildBrief {
            name: b.name.clone(),
            project_key: b.project_key.clone(),
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

fn config(prune: bool) -> Config {
    Config {
        projects: vec![ProjectConfig {
            key: "demo".into(),
            prune,
            protect: vec!["release-*".into()],
            ignore: vec!["legacy-*".into()],
        }],
        max_deletes: 2,
        // No endpoint, no exclude, the other kinds' sections unmanaged.
        ..Config::default()
    }
}

fn desired(b: &BuildSpec) -> DesiredBuild {
    DesiredBuild::new(&BuildDef::Build(b.clone()), format!("{}.yaml:1", b.name))
}

fn state(builds: Vec<LiveBuild>) -> LiveState {
    LiveState {
        projects: BTreeMap::from([("demo".to_owned(), ProjectLive::Listed(builds))]),
        elsewhere: BTreeMap::new(),
        catalog: catalog(),
    }
}

fn actions(p: &Plan) -> Vec<(String, Action, Option<&'static str>)> {
    p.changes
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.action,
                c.blocked.as_ref().map(Blocked::guard),
            )
        })
        .collect()
}

#[test]
fn a_build_as_zadig_stored_it_is_unchanged() {
    let b = spec("svc", "demo");
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    assert_eq!(p.unchanged.len(), 1);
    assert!(p.not_verifiable.is_empty(), "{:?}", p.not_verifiable);
}

#[test]
fn explicit_defaults_equal_absent_advanced_settings() {
    let b = spec("svc", "demo");
    let mut explicit = b.clone();
    explicit.advanced_settings = Some(AdvancedSettings {
        timeout: 60,
        cluster_name: "local-1".into(),
        strategy_name: String::new(), // "" runs with the default strategy
        // Absent settings run with the `low` preset (build-api-ui-made.md §1).
        resource_spec: crate::core::normalize::preset_spec("low"),
        cache_setting: CacheSetting {
            enabled: false,
            cache_dir: "/ignored/when/off".into(),
            dir_type: None,
        },
        storages: Storages::default(),
        use_host_docker_daemon: false,
        privileged_mode: false,
        custom_annotations: vec![],
        custom_labels: vec![],
        outputs: vec![],
    });
    let p = plan(
        &config(false),
        &[desired(&explicit)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn a_changed_field_is_an_update_with_its_path() {
    let b = spec("svc", "demo");
    let mut changed = b.clone();
    changed.build_script = "make all\n".into();
    changed.installs[0].version = "1.23".into();
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert_eq!(actions(&p), [("svc".into(), Action::Update, None)]);
    let paths: Vec<&str> = p.changes[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["installs[go].version", "build_script"]);
    assert_eq!(p.changes[0].live_update_time, Some(1_760_000_000));
    assert!(
        p.changes[0].diff.contains("-  make\n") || p.changes[0].diff.contains("-build_script"),
        "{}",
        p.changes[0].diff
    );
}

#[test]
fn a_changed_credential_is_reported_without_its_value() {
    let b = spec("svc", "demo");
    let mut changed = b.clone();
    changed.parameters[0].default_value = ParamValue::Literal("new-s3cret".into());
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert_eq!(p.changes.len(), 1);
    let text = format!("{:?}{}", p.changes[0].fields, p.changes[0].diff);
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.contains(crate::core::secrets::SENSITIVE_CHANGED),
        "{text}"
    );
}

#[test]
fn keep_credentials_are_never_changes() {
    let b = spec("svc", "demo");
    let mut keep = b.clone();
    keep.parameters[0].default_value = ParamValue::Keep;
    let p = plan(
        &config(false),
        &[desired(&keep)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn a_masked_credential_without_its_plain_value_is_not_verifiable() {
    let b = spec("svc", "demo");
    let mut l = live(&b, stored(&b));
    if let LiveRead::Stored { credentials, .. } = &mut l.read {
        credentials.clear();
    }
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![l]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    assert_eq!(
        p.not_verifiable[0].paths,
        ["parameters[TOKEN].default_value"]
    );
}

#[test]
fn missing_builds_are_created_and_extra_ones_follow_prune() {
    let a = spec("svc-a", "demo");
    let extra = spec("old", "demo");
    let jenkins = {
        let mut m = stored(&spec("jenkins-job", "demo"));
        m.source = "jenkins".into();
        m.pre_build = None;
        live(&spec("jenkins-job", "demo"), m)
    };
    let live_state = state(vec![live(&extra, stored(&extra)), jenkins]);
    let p = plan(
        &config(true),
        &[desired(&a)],
        &live_state,
        &PlanOptions::default(),
    );
    assert_eq!(
        actions(&p),
        [
            ("old".into(), Action::Delete, None),
            ("svc-a".into(), Action::Create, None)
        ]
    );
    assert_eq!(p.unmanaged.len(), 1, "the Jenkins build is never pruned");
    assert!(
        p.changes[1]
            .diff
            .lines()
            .all(|l| !l.starts_with('-') || l.starts_with("---"))
    );

    let p = plan(
        &config(false),
        &[desired(&a)],
        &live_state,
        &PlanOptions::default(),
    );
    assert_eq!(actions(&p), [("svc-a".into(), Action::Create, None)]);
    assert_eq!(p.summary().unmanaged, 2);
}

#[test]
fn protected_and_ignored_builds_are_left_alone() {
    let rel = spec("release-1", "demo");
    let legacy = spec("legacy-x", "demo");
    let mut changed_rel = rel.clone();
    changed_rel.build_script = "changed\n".into();
    let live_state = state(vec![
        live(&rel, stored(&rel)),
        live(&legacy, stored(&legacy)),
    ]);
    let p = plan(
        &config(true),
        &[desired(&changed_rel)],
        &live_state,
        &PlanOptions::default(),
    );
    assert_eq!(
        actions(&p),
        [("release-1".into(), Action::Update, Some("protected"))]
    );
    assert!(
        p.unmanaged.is_empty(),
        "ignored builds are not even reported: {:?}",
        p.unmanaged
    );
    let p = plan(
        &config(true),
        &[],
        &live_state,
        &PlanOptions {
            load_errors: false,
            ..Default::default()
        },
    );
    assert_eq!(
        actions(&p),
        [("release-1".into(), Action::Delete, Some("protected"))]
    );
}

#[test]
fn too_many_deletes_block_every_delete() {
    let olds: Vec<BuildSpec> = (0..3).map(|i| spec(&format!("old-{i}"), "demo")).collect();
    let live_state = state(olds.iter().map(|b| live(b, stored(b))).collect());
    let p = plan(&config(true), &[], &live_state, &PlanOptions::default());
    assert!(
        p.changes
            .iter()
            .all(|c| c.blocked == Some(Blocked::MassDelete { count: 3, max: 2 }))
    );
    let p = plan(
        &config(true),
        &[],
        &live_state,
        &PlanOptions {
            allow_mass_delete: true,
            ..Default::default()
        },
    );
    assert!(p.changes.iter().all(|c| c.blocked.is_none()));
}

#[test]
fn load_errors_and_failed_listings_block_deletes() {
    let old = spec("old", "demo");
    let live_state = state(vec![live(&old, stored(&old))]);
    let p = plan(
        &config(true),
        &[],
        &live_state,
        &PlanOptions {
            load_errors: true,
            ..Default::default()
        },
    );
    assert_eq!(
        actions(&p),
        [("old".into(), Action::Delete, Some("load_errors"))]
    );

    let mut two = config(true);
    two.projects.push(ProjectConfig {
        key: "other".into(),
        prune: true,
        ..Default::default()
    });
    let mut live_state = live_state;
    live_state
        .projects
        .insert("other".into(), ProjectLive::Failed("timeout".into()));
    let p = plan(&two, &[], &live_state, &PlanOptions::default());
    assert_eq!(
        actions(&p),
        [("old".into(), Action::Delete, Some("incomplete_listing"))]
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::ListingFailed { project, .. } if project == "other"))
    );
    assert_eq!(
        p.gaps,
        [Gap::ListingFailed {
            project: "other".into()
        }]
    );
    assert!(p.is_partial());
}

#[test]
fn load_errors_are_a_gap_and_targets_are_recorded() {
    let p = plan(
        &config(true),
        &[],
        &state(vec![]),
        &PlanOptions {
            load_errors: true,
            targets: vec!["demo/x".into()],
            ..Default::default()
        },
    );
    assert_eq!(p.gaps, [Gap::LoadErrors]);
    assert_eq!(p.targets, ["demo/x"]);
}

#[test]
fn an_unset_variable_is_not_compared_and_not_unverifiable() {
    let mut b = spec("svc", "demo");
    let live_state = state(vec![live(&b, stored(&b))]);
    let key = b
        .parameters
        .iter_mut()
        .find(|p| p.is_credential)
        .map(|p| {
            p.default_value = crate::core::model::ParamValue::FromEnv("UNSET_VAR".into());
            p.key.clone()
        })
        .expect("the spec has a credential");
    let mut new = spec("svc-new", "demo");
    for p in new.parameters.iter_mut().filter(|p| p.is_credential) {
        p.default_value = crate::core::model::ParamValue::FromEnv("NEW_VAR".into());
    }
    let p = plan(
        &config(false),
        &[desired(&b), desired(&new)],
        &live_state,
        &PlanOptions::default(),
    );
    let path = format!("parameters[{key}].default_value");
    assert_eq!(
        p.not_compared,
        [
            NotCompared {
                project: "demo".into(),
                name: "svc".into(),
                path: path.clone(),
                var: "UNSET_VAR".into(),
            },
            NotCompared {
                project: "demo".into(),
                name: "svc-new".into(),
                path: path.clone(),
                var: "NEW_VAR".into(),
            },
        ]
    );
    assert!(
        p.not_verifiable.iter().all(|n| !n.paths.contains(&path)),
        "{:?}",
        p.not_verifiable
    );
}

#[test]
fn a_name_taken_in_another_project_blocks_the_create() {
    let b = spec("shared", "demo");
    let mut live_state = state(vec![]);
    live_state
        .elsewhere
        .insert("shared".into(), "team-x".into());
    let p = plan(
        &config(false),
        &[desired(&b)],
        &live_state,
        &PlanOptions::default(),
    );
    assert_eq!(
        p.changes[0].blocked,
        Some(Blocked::NameTaken {
            project: "team-x".into()
        })
    );
}

#[test]
fn keep_on_a_new_build_is_blocked() {
    let mut b = spec("svc", "demo");
    b.parameters[0].default_value = ParamValue::Keep;
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![]),
        &PlanOptions::default(),
    );
    assert_eq!(
        p.changes[0].blocked.as_ref().map(Blocked::guard),
        Some("keep_on_create")
    );
}

#[test]
fn an_update_of_a_ui_made_build_keeps_its_ui_settings_through_the_preserving_write() {
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    model.post_build = Some(PostBuild {
        scripts: "echo uploaded".into(),
        ..PostBuild::default()
    });
    model.vm_labels = vec!["gpu".into()];
    let mut changed = b.clone();
    changed.build_script = "new\n".into();
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &state(vec![live(&b, model)]),
        &PlanOptions::default(),
    );
    let c = &p.changes[0];
    assert_eq!(c.blocked, None, "the erase guard no longer blocks it");
    assert_eq!(c.write_path, Some(WritePath::Preserving));
    assert!(
        c.kept.iter().any(|k| k == "post-build script"),
        "{:?}",
        c.kept
    );
    assert!(!c.fallback_allowed, "the fallback would erase them");
    let body = c
        .write_body
        .clone()
        .expect("made")
        .expect("converted")
        .to_value();
    assert_eq!(body["post_build"]["scripts"], "echo uploaded");
    assert_eq!(body["vm_labels"], serde_json::json!(["gpu"]));
    assert_eq!(body["scripts"], "new\n");
}

#[test]
fn an_update_that_erases_ui_settings_needs_allow_erase() {
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    model.post_build = Some(PostBuild {
        scripts: "echo uploaded".into(),
        ..PostBuild::default()
    });
    model.vm_labels = vec!["gpu".into()];
    let mut changed = b.clone();
    changed.build_script = "new\n".into();
    // Read through the OpenAPI detail (an OpenAPI-only gateway), the update
    // goes through the OpenAPI, and the erase guard applies.
    let mut l = live(&b, model.clone());
    l.read = LiveRead::Detail {
        detail: Box::new(detail_of(&b, &model)),
        targets: vec![],
    };
    let st = state(vec![l]);
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &st,
        &PlanOptions::default(),
    );
    assert_eq!(p.changes[0].write_path, Some(WritePath::Openapi));
    assert_eq!(
        p.changes[0].blocked.as_ref().map(Blocked::guard),
        Some("erase")
    );
    assert!(
        p.changes[0]
            .blocked
            .as_ref()
            .is_some_and(|b| matches!(b, Blocked::Erase { settings }
                if settings.iter().any(|s| s.contains("post-build script"))))
    );
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &st,
        &PlanOptions {
            allow_erase: true,
            ..Default::default()
        },
    );
    assert_eq!(p.changes[0].blocked, None);
    assert_eq!(p.changes[0].erases.len(), 1, "{:?}", p.changes[0].erases);
}

/// The OpenAPI detail of a stored model (only what the guard test needs).
fn detail_of(b: &BuildSpec, m: &StoredBuild) -> BuildDetail {
    BuildDetail {
        project_key: b.project_key.clone(),
        name: b.name.clone(),
        source: "zadig".into(),
        build_script: m.scripts.clone(),
        post_build: m.post_build.clone(),
        ..BuildDetail::default()
    }
}

#[test]
fn template_builds_compare_only_the_inputs_they_set() {
    let t = TemplateBuildSpec {
        kind: None,
        name: "tb".into(),
        project_key: "demo".into(),
        template_name: "tpl".into(),
        target_services: vec![TargetService {
            service_name: "s".into(),
            service_module: "m".into(),
            repo_info: vec![],
            inputs: vec![Input {
                key: "GO".into(),
                value: ParamValue::Literal("1.22".into()),
                input_type: None,
                is_credential: false,
            }],
        }],
    };
    let kv = |k: &str, v: &str| KeyVal {
        key: k.into(),
        value: v.into(),
        ..KeyVal::default()
    };
    let model = StoredBuild {
        name: "tb".into(),
        source: "zadig".into(),
        template_id: "t1".into(),
        product_name: "demo".into(),
        targets: vec![StoredTarget {
            product_name: "demo".into(),
            service_name: "s".into(),
            service_module: "m".into(),
            envs: vec![kv("GO", "1.22"), kv("LDFLAGS", "-s")],
            ..StoredTarget::default()
        }],
        ..StoredBuild::default()
    };
    let l = LiveBuild {
        project: "demo".into(),
        brief: BuildBrief {
            name: "tb".into(),
            source: "zadig".into(),
            ..BuildBrief::default()
        },
        read: LiveRead::Stored {
            model: Box::new(model.clone()),
            credentials: BTreeMap::new(),
            raw: None,
        },
    };
    let d = DesiredBuild::new(&BuildDef::Template(t.clone()), "tb.yaml:1".into());
    let p = plan(
        &config(false),
        std::slice::from_ref(&d),
        &state(vec![l.clone()]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);

    // An input the template does not define is dropped by Zadig: a warning
    // says why the change never goes away.
    let mut unknown = t.clone();
    unknown.target_services[0].inputs.push(Input {
        key: "NOPE".into(),
        value: ParamValue::Literal("1".into()),
        input_type: None,
        is_credential: false,
    });
    let d2 = DesiredBuild::new(&BuildDef::Template(unknown), "tb.yaml:1".into());
    let p = plan(
        &config(false),
        &[d2],
        &state(vec![l.clone()]),
        &PlanOptions::default(),
    );
    assert_eq!(p.changes.len(), 1);
    assert!(
        p.warnings.iter().any(
            |w| matches!(w, Warning::InputNotInTemplate { input, template, .. }
                if input == "NOPE" && template == "tpl")
        ),
        "{:?}",
        p.warnings
    );

    // A plain definition for a template build is a replace.
    let plain = desired(&spec("tb", "demo"));
    let p = plan(
        &config(false),
        &[plain],
        &state(vec![l]),
        &PlanOptions::default(),
    );
    assert_eq!(actions(&p), [("tb".into(), Action::Replace, None)]);
}

#[test]
fn openapi_only_reads_list_what_cannot_be_compared() {
    let b = spec("svc", "demo");
    let detail = BuildDetail {
        project_key: "demo".into(),
        name: "svc".into(),
        source: "zadig".into(),
        target_services: vec![crate::zadig::wire::ServiceWithModule {
            service_name: "svc".into(),
            service_module: "svc".into(),
        }],
        repos: vec![crate::zadig::wire::DetailRepo {
            source: "gitlab".into(),
            repo_owner: "team".into(),
            repo_name: "svc".into(),
            branch: "main".into(),
            remote_name: "origin".into(),
            ..Default::default()
        }],
        build_env: BuildEnv {
            basic_image_id: "img1".into(),
            basic_image_label: "ubuntu 20.04".into(),
            installs: vec![InstallItem {
                name: "go".into(),
                version: "1.22".into(),
            }],
        },
        advanced_settings: Some(DetailAdvancedSettings {
            timeout: 60,
            cluster_name: "local-1".into(),
            strategy_name: "default".into(),
            resource_spec: Some(ResourceSpecWire {
                cpu_limit: 1000,
                memory_limit: 512,
                ..Default::default()
            }),
            ..Default::default()
        }),
        build_script: "make\n".into(),
        parameters: vec![DetailParameter {
            key: "TOKEN".into(),
            value: "s3cret-value".into(),
            param_type: "string".into(),
            is_credential: true,
            ..Default::default()
        }],
        outputs: vec![
            Output {
                name: "IMAGE".into(),
                description: String::new(),
            },
            Output {
                name: "PKG_FILE".into(),
                description: String::new(),
            },
        ],
        post_build: Some(PostBuild::default()),
        ..BuildDetail::default()
    };
    let l = LiveBuild {
        project: "demo".into(),
        brief: BuildBrief {
            name: "svc".into(),
            source: "zadig".into(),
            ..BuildBrief::default()
        },
        read: LiveRead::Detail {
            detail: Box::new(detail),
            targets: vec![],
        },
    };
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![l]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
    let paths = &p.not_verifiable[0].paths;
    for expected in [
        "infrastructure",
        "script_type",
        "repo_info[0].codehost_name",
        "parameters[TOKEN].description",
    ] {
        assert!(
            paths.iter().any(|x| x == expected),
            "{expected} in {paths:?}"
        );
    }
}

#[test]
fn normalising_twice_changes_nothing() {
    let cat = catalog();
    let b = BuildDef::Build(spec("svc", "demo"));
    let once = normalize_desired(&b, &cat);
    assert_eq!(normalize_desired(&once, &cat), once);
    let l = live(&spec("svc", "demo"), stored(&spec("svc", "demo")));
    let n = normalize_live(&l, &cat).def.expect("read");
    assert_eq!(normalize_desired(&n, &cat), n);
}

#[test]
fn targets_narrow_the_plan_and_unknown_targets_are_warned_about() {
    let a = spec("a", "demo");
    let b = spec("b", "demo");
    let mut changed_a = a.clone();
    changed_a.build_script = "x\n".into();
    let mut changed_b = b.clone();
    changed_b.build_script = "y\n".into();
    let st = state(vec![live(&a, stored(&a)), live(&b, stored(&b))]);
    let opts = PlanOptions {
        targets: vec!["demo/a".into(), "demo/typo".into()],
        ..Default::default()
    };
    let p = plan(
        &config(false),
        &[desired(&changed_a), desired(&changed_b)],
        &st,
        &opts,
    );
    assert_eq!(actions(&p), [("a".into(), Action::Update, None)]);
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::TargetUnknown { target } if target == "demo/typo")),
        "{:?}",
        p.warnings
    );
}

// ---------------------------------------------------------------------------
// Issue 10: plan truth for UI-made builds.

fn with_adv(b: &BuildSpec, f: impl FnOnce(&mut AdvancedSettings)) -> BuildSpec {
    let mut b = b.clone();
    let mut adv = crate::core::normalize::default_advanced_settings(&catalog());
    f(&mut adv);
    b.advanced_settings = Some(adv);
    b
}

#[test]
fn explicit_1000m_is_define_and_differs_from_absent_settings() {
    let b = spec("svc", "demo");
    let explicit = with_adv(&b, |a| {
        a.resource_spec = ResourceSpec {
            cpu_limit: 1000,
            memory_limit: 512,
            ..Default::default()
        };
    });
    let p = plan(
        &config(false),
        &[desired(&explicit)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    let paths: Vec<&str> = p.changes[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("advanced_settings.resource_spec")),
        "{paths:?}"
    );
}

#[test]
fn a_preset_changed_in_the_ui_is_a_change_and_its_numbers_match() {
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    // The UI picks `high` and leaves res_req_spec at {1000, 512}.
    if let Some(pre) = model.pre_build.as_mut() {
        pre.res_req = "high".into();
    }
    model.advanced_setting_modified = true;
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![live(&b, model.clone())]),
        &PlanOptions::default(),
    );
    let c = &p.changes[0];
    assert!(
        c.fields
            .iter()
            .any(|f| f.path == "advanced_settings.resource_spec.cpu_limit"
                && f.before == Some(serde_json::json!(16000))),
        "{:?}",
        c.fields
    );
    // The preserving write turns it back into `low`.
    let body = c
        .write_body
        .clone()
        .expect("made")
        .expect("converted")
        .to_value();
    assert_eq!(body["pre_build"]["res_req"], "low");
    // A definition with the preset's numbers matches it.
    let high = with_adv(&b, |a| {
        a.resource_spec = crate::core::normalize::preset_spec("high")
    });
    let p = plan(
        &config(false),
        &[desired(&high)],
        &state(vec![live(&b, model)]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn a_dangling_strategy_id_means_no_strategy_and_is_reported() {
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    if let Some(pre) = model.pre_build.as_mut() {
        pre.strategy_id = "deleted-strategy".into();
    }
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![live(&b, model)]),
        &PlanOptions::default(),
    );
    assert_eq!(p.changes.len(), 1, "not the default: a change");
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::LiveProblem { problem, .. }
                if problem.contains("deleted-strategy") && problem.contains("no scheduling strategy"))),
        "{:?}",
        p.warnings
    );
}

#[test]
fn an_unknown_strategy_name_warns_naming_the_cluster_strategies() {
    let b = spec("svc", "demo");
    let typo = with_adv(&b, |a| a.strategy_name = "hgih-mem".into());
    let p = plan(
        &config(false),
        &[desired(&typo)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert!(
        p.warnings.iter().any(
            |w| matches!(w, Warning::StrategyUnknown { strategy, strategies, .. }
            if strategy == "hgih-mem"
                && strategies.iter().any(|s| s.name == "default" && s.default)
                && strategies.iter().any(|s| s.name == "high-mem" && !s.default))
        ),
        "{:?}",
        p.warnings
    );
}

#[test]
fn keep_on_a_credential_the_live_build_does_not_have_is_blocked() {
    let b = spec("svc", "demo");
    let mut d = b.clone();
    d.parameters.push(Parameter {
        key: "NEW_TOKEN".into(),
        param_type: ParamType::String,
        default_value: ParamValue::Keep,
        choice_option: vec![],
        choice_value: vec![],
        is_credential: true,
        description: String::new(),
    });
    let p = plan(
        &config(false),
        &[desired(&d)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    let blocked = p.changes[0].blocked.clone().expect("blocked");
    assert_eq!(blocked.guard(), "keep_without_value");
    assert!(
        matches!(&blocked, Blocked::KeepWithoutValue { paths }
            if paths.iter().any(|p| p.contains("NEW_TOKEN"))),
        "{blocked:?}"
    );
    // Keep on the credential it has is fine.
    let mut ok = b.clone();
    ok.parameters[0].default_value = ParamValue::Keep;
    let p = plan(
        &config(false),
        &[desired(&ok)],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn unknown_projects_are_named() {
    let mut cfg = config(false);
    cfg.projects.push(ProjectConfig {
        key: "demoo".into(),
        ..ProjectConfig::default()
    });
    assert_eq!(unknown_projects(&cfg, &catalog()), ["demoo"]);
    let mut unread = catalog();
    unread.projects = None;
    assert!(unknown_projects(&cfg, &unread).is_empty());
}

fn template_def(inputs: Vec<Input>, template: &str) -> TemplateBuildSpec {
    TemplateBuildSpec {
        kind: None,
        name: "tb".into(),
        project_key: "demo".into(),
        template_name: template.into(),
        target_services: vec![TargetService {
            service_name: "s".into(),
            service_module: "m".into(),
            repo_info: vec![],
            inputs,
        }],
    }
}

fn template_live(envs: Vec<KeyVal>) -> LiveBuild {
    let model = StoredBuild {
        name: "tb".into(),
        source: "zadig".into(),
        template_id: "t1".into(),
        product_name: "demo".into(),
        targets: vec![StoredTarget {
            product_name: "demo".into(),
            service_name: "s".into(),
            service_module: "m".into(),
            envs,
            ..StoredTarget::default()
        }],
        ..StoredBuild::default()
    };
    LiveBuild {
        project: "demo".into(),
        brief: BuildBrief {
            name: "tb".into(),
            project_key: "demo".into(),
            source: "zadig".into(),
            ..BuildBrief::default()
        },
        read: LiveRead::Stored {
            model: Box::new(model),
            credentials: BTreeMap::new(),
            raw: None,
        },
    }
}

fn kv(k: &str, v: &str) -> KeyVal {
    KeyVal {
        key: k.into(),
        value: v.into(),
        kv_type: "string".into(),
        ..KeyVal::default()
    }
}

#[test]
fn a_ui_override_of_a_variable_the_file_does_not_list_is_a_change() {
    let mut st = state(vec![template_live(vec![
        kv("GO", "1.22"),
        kv("LDFLAGS", "-s -w"),
    ])]);
    st.catalog
        .build_template_vars
        .insert("t1".into(), vec![kv("GO", "1.21"), kv("LDFLAGS", "")]);
    let go = Input {
        key: "GO".into(),
        value: ParamValue::Literal("1.22".into()),
        input_type: Some(ParamType::String),
        is_credential: false,
    };
    let d = DesiredBuild::new(
        &BuildDef::Template(template_def(vec![go], "tpl")),
        "tb.yaml:1".into(),
    );
    let p = plan(&config(false), &[d], &st, &PlanOptions::default());
    assert_eq!(p.changes.len(), 1, "{:#?}", p.changes);
    assert!(
        p.changes[0]
            .fields
            .iter()
            .any(|f| f.path.contains("LDFLAGS")),
        "{:?}",
        p.changes[0].fields
    );
}

#[test]
fn a_template_that_does_not_exist_is_blocked_at_plan_time() {
    let d = DesiredBuild::new(
        &BuildDef::Template(template_def(vec![], "no-such-template")),
        "tb.yaml:1".into(),
    );
    let p = plan(
        &config(false),
        &[d],
        &state(vec![]),
        &PlanOptions::default(),
    );
    assert_eq!(
        p.changes[0].blocked.as_ref().map(Blocked::guard),
        Some("unknown_template")
    );
}

#[test]
fn a_conversion_is_an_update_in_place_not_a_delete() {
    let b = spec("svc", "demo");
    let d = DesiredBuild::new(
        &BuildDef::Template(TemplateBuildSpec {
            name: "svc".into(),
            ..template_def(vec![], "tpl")
        }),
        "svc.yaml:1".into(),
    );
    let p = plan(
        &config(false),
        &[d],
        &state(vec![live(&b, stored(&b))]),
        &PlanOptions::default(),
    );
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Replace);
    assert!(!c.action.deletes());
    assert_eq!(c.write_path, Some(WritePath::Template));
    assert_eq!(p.summary().delete, 0);
}

#[test]
fn the_workspace_cache_mode_is_compared() {
    let b = with_adv(&spec("svc", "demo"), |a| {
        a.cache_setting = CacheSetting {
            enabled: true,
            cache_dir: "/cache".into(),
            dir_type: None,
        };
    });
    let mut model = stored(&b);
    model.cache_enable = true;
    model.cache_dir_type = "workspace".into();
    model.cache_user_dir = "/cache".into();
    model.advanced_setting_modified = true;
    let p = plan(
        &config(false),
        &[desired(&b)],
        &state(vec![live(&b, model.clone())]),
        &PlanOptions::default(),
    );
    assert!(
        p.changes[0]
            .fields
            .iter()
            .any(|f| f.path.contains("dir_type")),
        "{:?}",
        p.changes[0].fields
    );
    let ws = with_adv(&spec("svc", "demo"), |a| {
        a.cache_setting = CacheSetting {
            enabled: true,
            cache_dir: String::new(),
            dir_type: Some(CacheDirType::Workspace),
        };
    });
    let p = plan(
        &config(false),
        &[desired(&ws)],
        &state(vec![live(&b, model)]),
        &PlanOptions::default(),
    );
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn a_plain_build_with_ui_settings_converts_to_a_template_build_unblocked() {
    // The template PUT keeps every other stored field: nothing is erased.
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    model.post_build = Some(PostBuild {
        scripts: "echo uploaded".into(),
        ..PostBuild::default()
    });
    let d = DesiredBuild::new(
        &BuildDef::Template(TemplateBuildSpec {
            name: "svc".into(),
            ..template_def(vec![], "tpl")
        }),
        "svc.yaml:1".into(),
    );
    let p = plan(
        &config(false),
        &[d],
        &state(vec![live(&b, model)]),
        &PlanOptions::default(),
    );
    assert_eq!(p.changes[0].blocked, None);
    assert!(p.changes[0].erases.is_empty());
}

#[test]
fn a_name_the_preserving_write_cannot_resolve_falls_back_to_the_guarded_openapi_path() {
    let b = spec("svc", "demo");
    let mut model = stored(&b);
    model.vm_labels = vec!["gpu".into()];
    let mut changed = b.clone();
    changed.build_script = "new\n".into();
    let mut st = state(vec![live(&b, model)]);
    st.catalog.code_hosts = None; // the code host look-up failed
    let p = plan(
        &config(false),
        &[desired(&changed)],
        &st,
        &PlanOptions::default(),
    );
    assert_eq!(p.changes[0].write_path, Some(WritePath::Openapi));
    assert_eq!(
        p.changes[0].blocked.as_ref().map(Blocked::guard),
        Some("erase")
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::PreservingWriteUnavailable { .. })),
        "{:?}",
        p.warnings
    );
}

/// A fleet of `n` defined builds, `changed` of them differing from their
/// definition.
fn fleet(n: usize, changed: usize) -> (Vec<DesiredBuild>, Vec<LiveBuild>) {
    let mut desired_builds = Vec::new();
    let mut live_builds = Vec::new();
    for i in 0..n {
        let b = spec(&format!("svc-{i:05}"), "demo");
        live_builds.push(live(&b, stored(&b)));
        let mut d = b.clone();
        let every = (n / changed.max(1)).max(1);
        if i % every == 0 && i / every < changed {
            d.build_script = "make all\n".into();
        }
        desired_builds.push(desired(&d));
    }
    (desired_builds, live_builds)
}

/// Streams `live` through a planner (each read dropped once planned) and
/// returns the plan and how many builds the planner held more than a tag for
/// just before the end.
fn streamed(config: &Config, desired: &[DesiredBuild], live: Vec<LiveBuild>) -> (Plan, usize) {
    let opts = PlanOptions::default();
    let catalog = catalog();
    let mut planner = Planner::new(config, desired, &opts);
    let briefs: Vec<BuildBrief> = live.iter().map(|b| b.brief.clone()).collect();
    planner.listed("demo", &briefs);
    drop(briefs);
    for b in live.into_iter().rev() {
        if !matches!(b.read, LiveRead::NotRead) {
            planner.read(&b, &catalog);
        }
    }
    let retained = planner.retained();
    (planner.finish(&BTreeMap::new(), &catalog), retained)
}

#[test]
fn the_planner_keeps_only_the_changes_however_large_the_fleet() {
    // Issue 13: memory is O(concurrency + changes). The planner holds no live
    // model, and a full outcome only for a build that changes: the same four
    // changes in a fleet ten times larger retain the same four.
    for n in [100, 1000] {
        let (desired, live_builds) = fleet(n, 4);
        let (p, retained) = streamed(&config(false), &desired, live_builds);
        assert_eq!(p.changes.len(), 4, "{n} builds");
        assert_eq!(p.unchanged.len(), n - 4, "{n} builds");
        assert_eq!(retained, 4, "{n} builds: retained outcomes");
        // The changed builds keep their stored model for the preserving write.
        assert!(p.changes.iter().all(|c| c.write_body.is_some()));
    }
}

#[test]
fn streaming_the_reads_in_any_order_is_the_fold() {
    // The shell plans each build as its read arrives, in whatever order the
    // server answers; the result is `plan` exactly (warnings in order too).
    let config = config(true);
    let same = spec("same", "demo");
    let changed = spec("changed", "demo");
    let mut changed_def = changed.clone();
    changed_def.build_script = "make all\n".into();
    let extra = spec("extra", "demo");
    let extra2 = spec("release-extra", "demo");
    let legacy = spec("legacy-x", "demo");
    let mut jenkins_model = stored(&spec("jenkins-job", "demo"));
    jenkins_model.source = "jenkins".into();
    let jenkins = LiveBuild {
        read: LiveRead::NotRead,
        ..live(&spec("jenkins-job", "demo"), jenkins_model)
    };
    let strategy_live = spec("odd-strategy", "demo");
    let strategy = with_adv(&strategy_live, |a| a.strategy_name = "nope".into());
    let live_builds = vec![
        live(&same, stored(&same)),
        live(&changed, stored(&changed)),
        live(&extra, stored(&extra)),
        live(&extra2, stored(&extra2)),
        live(&legacy, stored(&legacy)),
        jenkins,
        live(&strategy_live, stored(&strategy_live)),
    ];
    let desired = vec![
        desired(&same),
        desired(&changed_def),
        desired(&spec("new-one", "demo")),
        desired(&legacy),
        desired(&strategy),
    ];
    let folded = plan(
        &config,
        &desired,
        &state(live_builds.clone()),
        &PlanOptions::default(),
    );
    let (p, _) = streamed(&config, &desired, live_builds);
    assert_eq!(p, folded);
    assert!(!p.warnings.is_empty() && !p.unmanaged.is_empty());
    assert_eq!(
        actions(&p)
            .iter()
            .map(|(n, a, _)| (n.as_str(), *a))
            .collect::<Vec<_>>(),
        vec![
            ("changed", Action::Update),
            ("extra", Action::Delete),
            ("new-one", Action::Create),
            ("release-extra", Action::Delete),
        ]
    );
}
