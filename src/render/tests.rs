//! Snapshots of every view of one plan that has every kind of entry: create,
//! update (a credential among the fields), delete, a blocked change, an
//! unmanaged build and a warning.

use std::collections::BTreeMap;

use super::{View, human, json, markdown};
use crate::core::model::{BuildDef, Config, ParamValue, ProjectConfig};
use crate::core::plan::tests::{catalog, live, spec, stored};
use crate::core::plan::{DesiredBuild, LiveState, Plan, PlanOptions, ProjectLive, plan};

fn sample() -> Plan {
    let kept = spec("svc-kept", "demo");
    let mut changed = spec("svc-changed", "demo");
    let old = spec("svc-old", "demo");
    let release = spec("release-1", "demo");
    let live_state = LiveState {
        projects: BTreeMap::from([(
            "demo".to_owned(),
            ProjectLive::Listed(vec![
                live(&kept, stored(&kept)),
                live(&changed, stored(&changed)),
                live(&old, stored(&old)),
                live(&release, stored(&release)),
            ]),
        )]),
        elsewhere: BTreeMap::new(),
        catalog: catalog(),
    };
    changed.build_script = "make\nmake test\n".into();
    changed.installs[0].version = "1.23".into();
    changed.parameters[0].default_value = ParamValue::Literal("rotated-secret".into());
    let mut release_changed = release.clone();
    release_changed.build_script = "make release\n".into();
    let new = spec("svc-new", "demo");
    let desired: Vec<DesiredBuild> = [kept, changed, release_changed, new]
        .into_iter()
        .map(|b| DesiredBuild {
            origin: format!("demo/{}.yaml:1", b.name),
            def: BuildDef::Build(b),
        })
        .collect();
    let config = Config {
        projects: vec![ProjectConfig {
            key: "demo".into(),
            prune: true,
            protect: vec!["release-*".into()],
            ignore: vec![],
        }],
        ..Config::default()
    };
    let mut p = plan(&config, &desired, &live_state, &PlanOptions::default());
    p.warnings.push("demo/svc-kept: DEMO_TOKEN is not set, so parameters[TOKEN].default_value was not compared (apply needs it)".into());
    p
}

fn no_secret(text: &str) -> &str {
    assert!(
        !text.contains("s3cret") && !text.contains("rotated-secret"),
        "{text}"
    );
    text
}

#[test]
fn human_view() {
    insta::assert_snapshot!(no_secret(&human::render(&sample(), View::Plan, false)));
}

#[test]
fn drift_view() {
    insta::assert_snapshot!(no_secret(&human::render(&sample(), View::Drift, false)));
}

#[test]
fn json_view() {
    insta::assert_snapshot!(no_secret(&json::render(&sample(), View::Plan)));
}

#[test]
fn markdown_view() {
    insta::assert_snapshot!(no_secret(&markdown::render(&sample(), View::Plan)));
}

#[test]
fn no_changes() {
    let p = Plan::default();
    assert_eq!(
        human::render(&p, View::Plan, false),
        "No changes. Zadig matches the definitions.\n"
    );
    assert_eq!(
        human::render(&p, View::Drift, false),
        "No drift. Zadig matches git.\n"
    );
}
