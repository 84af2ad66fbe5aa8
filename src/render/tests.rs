//! Snapshots of every view of one plan that has every kind of entry: create,
//! update (a credential among the fields), delete, a blocked change, an
//! unmanaged build and a warning.

use std::collections::BTreeMap;

use super::{View, human, json, markdown};
use crate::core::diagnostics::Diagnostic;
use crate::core::model::{BuildDef, Config, ParamValue, ProjectConfig};
use crate::core::plan::tests::{catalog, live, spec, stored};
use crate::core::plan::{
    DesiredBuild, Gap, LiveState, NotCompared, Plan, PlanOptions, ProjectLive, plan,
};

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
        .map(|b| {
            DesiredBuild::new(
                &BuildDef::Build(b.clone()),
                format!("demo/{}.yaml:1", b.name),
            )
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
    p.warnings.push(crate::core::notice::Warning::LiveProblem {
        project: "demo".into(),
        name: "svc-kept".into(),
        problem: "a warning the plan carries".into(),
    });
    p.not_compared.push(NotCompared {
        project: "demo".into(),
        name: "svc-kept".into(),
        path: "parameters[TOKEN].default_value".into(),
        var: "DEMO_TOKEN".into(),
    });
    p
}

fn diagnostic() -> Diagnostic {
    Diagnostic::warning("demo/svc-new.yaml", "a warning about the file")
        .at(3, 5, Some(10..12))
        .with_hint("a hint")
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
    insta::assert_snapshot!(no_secret(&json::render(
        &sample(),
        View::Plan,
        &[diagnostic()]
    )));
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

/// Finding 8 of issue 12: never "No changes" when something was not read.
#[test]
fn a_partial_plan_never_says_no_changes() {
    let p = Plan {
        gaps: vec![
            Gap::LoadErrors,
            Gap::ListingFailed {
                project: "platform".into(),
            },
        ],
        incomplete: true,
        ..Plan::default()
    };
    let headlines = [
        super::summary_line(&p, View::Plan),
        super::summary_line(&p, View::Drift),
    ];
    insta::assert_snapshot!(headlines.join("\n"));
    for h in &headlines {
        assert!(!h.contains("No changes") && !h.contains("No drift"), "{h}");
    }
    let md = markdown::render(&p, View::Plan);
    assert!(md.contains("**Plan incomplete:"), "{md}");
    let j: serde_json::Value =
        serde_json::from_str(&json::render(&p, View::Plan, &[])).expect("json");
    assert_eq!(j["incomplete"], true);
    assert_eq!(j["gaps"][0]["reason"], "load_errors");
}

/// Finding 11 of issue 12: a targeted plan says so in every view.
#[test]
fn a_targeted_plan_says_so_everywhere() {
    let mut p = sample();
    p.targets = vec!["demo/svc-new".into()];
    let human = human::render(&p, View::Plan, false);
    assert!(
        human.contains("Targeting in effect: only demo/svc-new was planned"),
        "{human}"
    );
    assert!(human.contains("Targeted: demo/svc-new."), "{human}");
    let md = markdown::render(&p, View::Plan);
    assert!(md.contains("Targeting in effect"), "{md}");
    let j: serde_json::Value =
        serde_json::from_str(&json::render(&p, View::Plan, &[])).expect("json");
    assert_eq!(j["targets"][0], "demo/svc-new");
    assert!(
        j["headline"]
            .as_str()
            .is_some_and(|h| h.contains("Targeted"))
    );
    let none = Plan {
        targets: vec!["demo/x".into()],
        ..Plan::default()
    };
    assert_eq!(
        super::summary_line(&none, View::Plan),
        "No changes in the targeted builds (demo/x)."
    );
}

/// Issue 15: every warning reaches JSON twice, as the text of `warnings` and
/// as `warning_details[i]` with its code and that same text; Markdown shows
/// the same text.
#[test]
fn every_warning_has_its_code_and_text_in_json_and_markdown() {
    use crate::core::notice::Warning;
    let warnings = crate::core::notice::tests::every_warning();
    let p = Plan {
        warnings: warnings.clone(),
        ..Plan::default()
    };
    let j: serde_json::Value =
        serde_json::from_str(&json::render(&p, View::Plan, &[])).expect("json");
    let md = markdown::render(&p, View::Plan);
    assert_eq!(j["warnings"].as_array().map(Vec::len), Some(warnings.len()));
    for (i, w) in warnings.iter().enumerate() {
        let text = super::notice::warning(w);
        assert_eq!(j["warnings"][i], text.as_str());
        assert_eq!(j["warning_details"][i]["code"], Warning::CODES[i]);
        assert_eq!(j["warning_details"][i]["message"], text.as_str());
        assert!(
            md.contains(&text.replace('<', "&lt;").replace('>', "&gt;")),
            "{text}\n{md}"
        );
    }
    assert_eq!(j["warning_details"][5]["cluster"], "c");
    assert_eq!(j["warning_details"][9]["cause"]["reason"], "no_image");
}
