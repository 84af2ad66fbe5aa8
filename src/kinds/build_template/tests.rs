//! Tests of the build-template kind: load, normalisation both ways, the
//! write body, import, and the plan (blast radius, refusals, order).

use std::collections::BTreeMap;

use super::*;
use crate::core::catalog::{ClusterInfo, ImageInfo, LOCAL_CLUSTER_ID, StrategyInfo};
use crate::core::load::{SourceFile, load};
use crate::core::model::{Infrastructure, Install, ParamType, Parameter, ScriptType};
use crate::zadig::wire::NamedId;

fn catalog() -> Catalog {
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
            strategies: Some(vec![StrategyInfo {
                id: "s1".into(),
                name: "default".into(),
                default: true,
            }]),
        }],
        code_hosts: Some(vec![]),
        dockerfile_templates: vec![],
        build_templates: vec![NamedId {
            id: "65c000000000000000000001".into(),
            name: "go".into(),
        }],
        build_template_vars: BTreeMap::new(),
        projects: Some(vec!["demo".into()]),
    }
}

const SECRET: &str = "s3cret-token-value";

fn spec(name: &str) -> BuildTemplateSpec {
    BuildTemplateSpec {
        kind: None,
        name: name.into(),
        infrastructure: Infrastructure::Kubernetes,
        build_os: "ubuntu 20.04".into(),
        installs: vec![Install {
            name: "go".into(),
            version: "1.22".into(),
        }],
        script_type: ScriptType::Shell,
        build_script: "make build\n".into(),
        parameters: vec![
            Parameter {
                key: "GO_FLAGS".into(),
                param_type: ParamType::String,
                default_value: ParamValue::Literal("-v".into()),
                choice_option: vec![],
                choice_value: vec![],
                is_credential: false,
                description: String::new(),
            },
            Parameter {
                key: "TOKEN".into(),
                param_type: ParamType::String,
                default_value: ParamValue::Literal(SECRET.into()),
                choice_option: vec![],
                choice_value: vec![],
                is_credential: true,
                description: String::new(),
            },
        ],
        docker_build_step: None,
        advanced_settings: None,
    }
}

/// What Zadig stores for a create body and answers on GET: the body with an
/// id (the server ignores the body's) and `update_by` stamped.
fn stored(spec: &BuildTemplateSpec, id: &str) -> String {
    let mut body = write_body(None, spec, &catalog()).expect("body");
    body["id"] = json!(id);
    body["update_by"] = json!("admin");
    body["update_time"] = json!(0);
    serde_json::to_string(&body).expect("json")
}

fn live(spec: &BuildTemplateSpec, id: &str, refs: &[(&str, &str)]) -> LiveTemplate {
    LiveTemplate {
        id: id.into(),
        name: spec.name.clone(),
        raw: stored(spec, id),
        references: Some(
            refs.iter()
                .map(|(p, b)| BuildTemplateReference {
                    build_name: (*b).into(),
                    project_name: (*p).into(),
                    service_module: vec![],
                })
                .collect(),
        ),
    }
}

fn desired(spec: BuildTemplateSpec) -> DesiredTemplate {
    DesiredTemplate {
        spec,
        origin: "templates/go.yaml:2".into(),
    }
}

fn managed() -> BuildTemplatesConfig {
    BuildTemplatesConfig {
        manage: true,
        prune: true,
        ..BuildTemplatesConfig::default()
    }
}

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

#[test]
fn a_template_document_loads_as_the_second_kind() {
    let cfg = file(
        "zadig-sync.yaml",
        "projects: [{key: demo}]\nbuild_templates: {manage: true, prune: true, protect: [base-*]}\n",
    );
    let r = load(
        Some(&cfg),
        &[file(
            "t.yaml",
            "kind: BuildTemplate\nname: go\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: make\nparameters:\n  - key: GO_FLAGS\n    default_value: -v\n",
        )],
    );
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    assert!(r.builds.is_empty());
    let templates = loaded(&r);
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].0.name, "go");
    assert_eq!(templates[0].0.kind, None);
    assert_eq!(templates[0].1.line, 2);
    assert!(r.config.build_templates.manage && r.config.build_templates.prune);
    assert_eq!(r.config.build_templates.protect, ["base-*"]);
}

#[test]
fn a_template_has_no_project_repositories_or_services() {
    let cfg = file(
        "zadig-sync.yaml",
        "projects: [{key: demo}]\nbuild_templates: {manage: true}\n",
    );
    let r = load(
        Some(&cfg),
        &[file(
            "t.yaml",
            "kind: BuildTemplate\nname: go\nproject_key: demo\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\n",
        )],
    );
    let e: Vec<_> = r.errors().collect();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].line, e[0].column), (3, 1));
    assert!(
        e[0].hint.as_deref().unwrap_or("").contains("no project"),
        "{e:?}"
    );
}

#[test]
fn unmanaged_templates_warn_and_duplicates_are_errors() {
    let doc = "kind: BuildTemplate\nname: go\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\n";
    let cfg = file("zadig-sync.yaml", "projects: [{key: demo}]\n");
    let r = load(Some(&cfg), &[file("t.yaml", doc)]);
    assert!(!r.has_errors(), "{:?}", r.diagnostics);
    let w: Vec<_> = r.warnings().collect();
    assert!(
        w[0].message.contains("build_templates.manage is false"),
        "{w:?}"
    );

    let cfg = file(
        "zadig-sync.yaml",
        "projects: [{key: demo}]\nbuild_templates: {manage: true, ignore: ['[']}\n",
    );
    let r = load(Some(&cfg), &[file("a.yaml", doc), file("b.yaml", doc)]);
    let e: Vec<String> = r.errors().map(|d| d.message.clone()).collect();
    assert!(e.iter().any(|m| m.contains("defined twice")), "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.contains("invalid template name pattern")),
        "{e:?}"
    );
}

#[test]
fn an_unknown_kind_names_every_kind_of_the_registry() {
    let cfg = file("zadig-sync.yaml", "projects: [{key: demo}]\n");
    let r = load(
        Some(&cfg),
        &[file("t.yaml", "kind: BuildTemplat\nname: x\n")],
    );
    let e: Vec<_> = r.errors().collect();
    let hint = e[0].hint.clone().unwrap_or_default();
    assert!(hint.starts_with("did you mean `BuildTemplate`?"), "{hint}");
    assert!(
        hint.contains("(the default), `kind: TemplateBuild` or `kind: BuildTemplate`"),
        "{hint}"
    );
}

#[test]
fn what_is_written_reads_back_equal() {
    let cat = catalog();
    let s = spec("go");
    let raw = stored(&s, "65c000000000000000000001");
    let back = normalize_live_template(&raw, &cat).expect("reads");
    assert_eq!(back.spec, normalize(&s, &cat));
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    // Nothing of a build's that a template does not have.
    let body: Value = serde_json::from_str(&raw).unwrap();
    for k in BUILD_ONLY {
        assert!(body.get(*k).is_none(), "{k} in {body}");
    }
    assert!(
        body["pre_build"].is_object(),
        "a nil pre_build is an empty 500"
    );
}

#[test]
fn the_preserving_write_keeps_what_the_file_cannot_say() {
    let cat = catalog();
    let s = spec("go");
    let mut stored: Value = serde_json::from_str(&stored(&s, "65c000000000000000000001")).unwrap();
    stored["team"] = json!("platform");
    stored["a_newer_field"] = json!({"x": 1});
    stored["post_build"] = json!({"scripts": "echo post"});
    let raw = stored.to_string();
    let mut changed = s.clone();
    changed.build_script = "make all\n".into();
    let body = write_body(Some(&raw), &changed, &cat).expect("body");
    assert_eq!(body["scripts"], "make all\n");
    assert_eq!(body["team"], "platform");
    assert_eq!(body["a_newer_field"], json!({"x": 1}));
    assert_eq!(body["post_build"]["scripts"], "echo post");
    assert_eq!(body["id"], "65c000000000000000000001");
}

#[test]
fn keep_takes_the_stored_value_and_a_create_cannot_keep() {
    let mut s = spec("go");
    s.parameters[1].default_value = ParamValue::Keep;
    let have = spec("go");
    let w = wire_spec(&s, Some(&have)).expect("kept");
    assert_eq!(
        w.parameters[1].default_value,
        ParamValue::Literal(SECRET.into())
    );
    assert_eq!(
        wire_spec(&s, None),
        Err(BodyError::NothingToKeep {
            path: "parameters[TOKEN].default_value".into()
        })
    );
    s.parameters[1].default_value = ParamValue::FromEnv("T".into());
    assert!(matches!(
        wire_spec(&s, Some(&have)),
        Err(BodyError::MissingEnv { .. })
    ));
}

#[test]
fn a_directory_that_does_not_manage_templates_plans_none() {
    let p = plan(
        &[desired(spec("new"))],
        &[live(&spec("old"), "65c000000000000000000002", &[])],
        &BuildTemplatesConfig::default(),
        &catalog(),
    );
    assert_eq!(p, TemplatePlan::default());
}

#[test]
fn create_update_delete_and_unchanged() {
    let cat = catalog();
    let mut changed = spec("go");
    changed.build_script = "make all\n".into();
    let p = plan(
        &[
            desired(spec("same")),
            desired(changed),
            desired(spec("new")),
        ],
        &[
            live(&spec("same"), "65c000000000000000000001", &[]),
            live(&spec("go"), "65c000000000000000000002", &[("demo", "api")]),
            live(&spec("gone"), "65c000000000000000000003", &[]),
        ],
        &managed(),
        &cat,
    );
    assert_eq!(p.unchanged, ["same"]);
    let got: Vec<_> = p
        .changes
        .iter()
        .map(|c| (c.address.name.as_str(), c.action, c.phase))
        .collect();
    assert_eq!(
        got,
        [
            ("go", TemplateAction::Update, Phase::BeforeBuilds),
            ("new", TemplateAction::Create, Phase::BeforeBuilds),
            ("gone", TemplateAction::Delete, Phase::AfterBuilds),
        ]
    );
    let update = &p.changes[0];
    assert!(
        update.diff.contains("-  make build\n") && update.diff.contains("+  make all\n"),
        "{}",
        update.diff
    );
    assert_eq!(update.id.as_deref(), Some("65c000000000000000000002"));
    assert_eq!(update.live_fingerprint.as_deref().map(str::len), Some(64));
    assert!(update.write_body.is_some() && update.blocked.is_none());
    assert!(p.changes[1].write_body.is_some());
    assert!(p.changes[2].blocked.is_none());
    for c in &p.changes {
        assert!(!c.diff.contains(SECRET), "{}", c.diff);
        assert!(!serde_json::to_string(c).unwrap().contains(SECRET));
    }
}

#[test]
fn a_change_lists_its_blast_radius_across_projects() {
    let mut changed = spec("go");
    changed.installs[0].version = "1.23".into();
    let p = plan(
        &[desired(changed)],
        &[live(
            &spec("go"),
            "65c000000000000000000002",
            &[("web", "frontend"), ("demo", "api"), ("demo", "worker")],
        )],
        &managed(),
        &catalog(),
    );
    let radius: Vec<String> = p.changes[0]
        .blast_radius
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        radius,
        ["build demo/api", "build demo/worker", "build web/frontend"]
    );
}

#[test]
fn a_referenced_template_is_never_deleted() {
    let mut no_listing = live(&spec("unknown"), "65c000000000000000000004", &[]);
    no_listing.references = None;
    let cfg = BuildTemplatesConfig {
        protect: vec!["base-*".into()],
        ..managed()
    };
    let p = plan(
        &[],
        &[
            live(
                &spec("used"),
                "65c000000000000000000002",
                &[("demo", "api")],
            ),
            no_listing,
            live(&spec("base-go"), "65c000000000000000000005", &[]),
        ],
        &cfg,
        &catalog(),
    );
    let blocked: Vec<_> = p
        .changes
        .iter()
        .map(|c| (c.address.name.as_str(), c.blocked.clone()))
        .collect();
    assert_eq!(
        blocked,
        [
            ("base-go", Some(TemplateBlocked::TemplateProtected)),
            ("unknown", Some(TemplateBlocked::TemplateReferencesUnknown)),
            (
                "used",
                Some(TemplateBlocked::TemplateReferenced { builds: 1 })
            ),
        ]
    );
    let json = serde_json::to_value(&p.changes[2].blocked).unwrap();
    assert_eq!(json, json!({"code": "template_referenced", "builds": 1}));
    // Without prune, a live template with no file is only listed.
    let p = plan(
        &[],
        &[live(&spec("used"), "65c000000000000000000002", &[])],
        &BuildTemplatesConfig {
            prune: false,
            ..managed()
        },
        &catalog(),
    );
    assert!(p.changes.is_empty());
    assert_eq!(p.unmanaged, ["used"]);
}

#[test]
fn ignored_templates_are_never_read_or_touched() {
    let cfg = BuildTemplatesConfig {
        ignore: vec!["legacy-*".into()],
        ..managed()
    };
    let p = plan(
        &[desired(spec("legacy-a"))],
        &[live(&spec("legacy-b"), "65c000000000000000000002", &[])],
        &cfg,
        &catalog(),
    );
    assert!(p.changes.is_empty());
    assert_eq!(p.ignored, ["legacy-a", "legacy-b"]);
}

#[test]
fn import_writes_credentials_as_from_env_only_and_plans_empty() {
    let cat = catalog();
    let raw = stored(&spec("go"), "65c000000000000000000002");
    let imported = import(
        &raw,
        &cat,
        "../schemas/definition.schema.json",
        &mut Names::default(),
    )
    .expect("imports");
    assert!(!imported.text.contains(SECRET), "{}", imported.text);
    assert_eq!(imported.env_vars, ["ZADIG_SECRET_TEMPLATE_GO_TOKEN"]);
    assert!(
        imported.text.contains("kind: BuildTemplate\n"),
        "{}",
        imported.text
    );
    assert!(
        imported
            .text
            .contains("from_env: ZADIG_SECRET_TEMPLATE_GO_TOKEN"),
        "{}",
        imported.text
    );
    // The file loads back and plans nothing (the unset variable compares as live).
    let cfg = file(
        "zadig-sync.yaml",
        "projects: [{key: demo}]\nbuild_templates: {manage: true}\n",
    );
    let r = load(Some(&cfg), &[file("go.yaml", &imported.text)]);
    assert!(!r.has_errors(), "{:?}\n{}", r.diagnostics, imported.text);
    let l = LiveTemplate {
        id: "65c000000000000000000002".into(),
        name: "go".into(),
        raw,
        references: Some(vec![]),
    };
    let p = plan(&[desired(loaded(&r)[0].0.clone())], &[l], &managed(), &cat);
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.unchanged, ["go"]);
}

#[test]
fn a_ui_edit_shows_as_drift_and_moves_the_fingerprint() {
    let cat = catalog();
    let before = live(&spec("go"), "65c000000000000000000002", &[]);
    let mut edited: Value = serde_json::from_str(&before.raw).unwrap();
    edited["scripts"] = json!("make ui-edit\n");
    let after = LiveTemplate {
        raw: edited.to_string(),
        ..before.clone()
    };
    assert_ne!(before.fingerprint(), after.fingerprint());
    let p = plan(&[desired(spec("go"))], &[after], &managed(), &cat);
    assert_eq!(p.changes.len(), 1);
    assert!(
        p.changes[0].diff.contains("-  make ui-edit\n"),
        "{}",
        p.changes[0].diff
    );
}

#[test]
fn an_unknown_blast_radius_is_said() {
    let mut changed = spec("go");
    changed.build_script = "make all\n".into();
    let mut l = live(&spec("go"), "65c000000000000000000002", &[]);
    l.references = None;
    let p = plan(&[desired(changed)], &[l], &managed(), &catalog());
    assert_eq!(p.changes.len(), 1);
    assert!(p.changes[0].blast_radius.is_empty());
    assert_eq!(p.problems.len(), 1);
    assert!(
        p.problems[0].1.contains("blast radius is unknown"),
        "{:?}",
        p.problems
    );
}

#[test]
fn an_unset_variable_is_not_compared_and_a_write_still_needs_it() {
    let live_go = live(&spec("go"), "65c000000000000000000002", &[]);
    let mut unset = spec("go");
    unset.parameters[1].default_value = ParamValue::FromEnv("GO_TOKEN".into());
    let p = plan(
        &[desired(unset.clone())],
        std::slice::from_ref(&live_go),
        &managed(),
        &catalog(),
    );
    assert!(!p.has_changes(), "{:?}", p.changes);
    assert_eq!(p.unchanged, ["go"]);
    let nc = TemplateNotCompared {
        name: "go".into(),
        path: "parameters[TOKEN].default_value".into(),
        var: "GO_TOKEN".into(),
    };
    assert_eq!(p.not_compared, std::slice::from_ref(&nc));
    let text = crate::kinds::build_template::view::human(&p);
    assert!(
        text.contains(
            "template go: parameters[TOKEN].default_value not compared: `$GO_TOKEN` is unset"
        ),
        "{text}"
    );
    // With another change, the update is shown and its write refused.
    unset.build_script = "make all\n".into();
    let p = plan(&[desired(unset)], &[live_go], &managed(), &catalog());
    assert_eq!(p.changes.len(), 1);
    assert!(matches!(
        p.changes[0].blocked,
        Some(TemplateBlocked::TemplateBodyUnavailable {
            cause: BodyError::MissingEnv { .. }
        })
    ));
    assert_eq!(p.not_compared, [nc]);
    // A literal value is compared: nothing is listed.
    let p = plan(
        &[desired(spec("go"))],
        &[live(&spec("go"), "65c000000000000000000002", &[])],
        &managed(),
        &catalog(),
    );
    assert!(p.not_compared.is_empty());
}

#[test]
fn the_registry_knows_the_kind_and_creates_it_before_the_builds() {
    use crate::kinds::{Address, KindId, by_file_kind, file_kinds};
    assert_eq!(file_kinds(), ["Build", "TemplateBuild", "BuildTemplate"]);
    assert_eq!(
        by_file_kind("BuildTemplate").map(|k| k.id),
        Some(KindId::BuildTemplate)
    );
    assert!(KindId::BuildTemplate.create_rank() < KindId::Build.create_rank());
    assert_eq!(
        Address::global(KindId::BuildTemplate, "go").to_string(),
        "template go"
    );
    let json = serde_json::to_value(Address::global(KindId::BuildTemplate, "go")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "build_template", "name": "go"})
    );
}
