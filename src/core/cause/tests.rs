//! Cause classification: the rule, path overlap, and `annotate` over plans
//! made by hand; properties over random base/now/live values.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;
use crate::core::diff::{FieldChange, diff_values};
use crate::core::load::{SourceFile, load};
use crate::core::model::Kind;
use crate::core::plan::Change;

#[test]
fn the_rule() {
    assert_eq!(Cause::of(true, false), Some(Cause::Pending));
    assert_eq!(Cause::of(false, true), Some(Cause::Drift));
    assert_eq!(Cause::of(true, true), Some(Cause::Both));
    assert_eq!(Cause::of(false, false), None);
    assert_eq!(Cause::Pending.combine(Cause::Pending), Cause::Pending);
    assert_eq!(Cause::Pending.combine(Cause::Drift), Cause::Both);
    assert_eq!(Cause::Drift.combine(Cause::Both), Cause::Both);
}

#[test]
fn paths_overlap_at_segment_boundaries_only() {
    assert!(overlaps("a.b", "a.b"));
    assert!(overlaps("a.b", "a"));
    assert!(overlaps("a", "a.b"));
    assert!(overlaps("parameters[X].default_value", "parameters[X]"));
    assert!(overlaps("parameters (order)", "parameters[X]"));
    assert!(overlaps("anything", ""));
    assert!(!overlaps("a.bc", "a.b"));
    assert!(!overlaps("parameters[AB]", "parameters[A]"));
    assert!(!overlaps("timeout", "cluster_name"));
}

#[test]
fn a_field_takes_its_cause_from_the_two_other_comparisons() {
    let files = vec!["advanced_settings.timeout".to_owned()];
    let live = vec!["build_script".to_owned(), "advanced_settings".to_owned()];
    assert_eq!(
        field_cause("advanced_settings.timeout", &files, &[]),
        Cause::Pending
    );
    assert_eq!(field_cause("build_script", &files, &live), Cause::Drift);
    assert_eq!(
        field_cause("advanced_settings.timeout", &files, &live),
        Cause::Both
    );
    // Neither: inconsistent input, shown as a conflict rather than hidden.
    assert_eq!(field_cause("services", &files, &live), Cause::Both);
}

const CONFIG: &str = "projects:\n  - key: demo\n";

fn build(name: &str, script: &str, timeout: u32) -> String {
    format!(
        "name: {name}\nproject_key: demo\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: {script}\nadvanced_settings:\n  cluster_name: local-1\n  timeout: {timeout}\nrepo_info:\n  - codehost_name: gitlab-main\n    repo_namespace: team\n    repo_name: {name}\n    branch: main\n    remote_name: origin\n"
    )
}

fn desired(files: &[(&str, String)]) -> Vec<DesiredBuild> {
    let config = SourceFile {
        path: "zadig-sync.yaml".into(),
        bytes: CONFIG.as_bytes().to_vec(),
    };
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(p, t)| SourceFile {
            path: (*p).into(),
            bytes: t.as_bytes().to_vec(),
        })
        .collect();
    let loaded = load(Some(&config), &files);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded
        .builds
        .into_iter()
        .map(|l| {
            DesiredBuild::new(
                &l.def.unpack(),
                format!("{}:{}", l.origin.file, l.origin.line),
            )
        })
        .collect()
}

fn field(path: &str) -> FieldChange {
    FieldChange {
        path: path.into(),
        before: Some(Value::from(1)),
        after: Some(Value::from(2)),
        cause: None,
    }
}

fn change(name: &str, action: Action, fields: &[&str]) -> Change {
    Change {
        project: "demo".into(),
        name: name.into(),
        kind: Kind::Build,
        action,
        fields: fields.iter().map(|p| field(p)).collect(),
        blocked: None,
        live_update_time: None,
        live_fingerprint: None,
        erases: vec![],
        kept: vec![],
        write_path: None,
        fallback_allowed: false,
        write_body: None,
        cause: None,
        diff: String::new(),
        desired: None,
        origin: None,
    }
}

fn plan_of(changes: Vec<Change>) -> Plan {
    Plan {
        changes,
        ..Plan::default()
    }
}

fn causes(plan: &Plan) -> Vec<(String, Option<Cause>, Vec<Option<Cause>>)> {
    plan.changes
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.cause,
                c.fields.iter().map(|f| f.cause).collect(),
            )
        })
        .collect()
}

#[test]
fn annotate_tells_each_cause() {
    let catalog = crate::core::plan::tests::catalog();
    let base = desired(&[
        ("api.yaml", build("api", "make", 60)),
        ("web.yaml", build("web", "make", 60)),
        ("mixed.yaml", build("mixed", "make", 60)),
        ("gone.yaml", build("gone", "make", 60)),
        ("lost.yaml", build("lost", "make", 60)),
    ]);
    let now = desired(&[
        // The pull request changes the script of `api` and `mixed`, adds `new`,
        // removes `gone`; `web` and `lost` are untouched.
        ("api.yaml", build("api", "make all", 60)),
        ("web.yaml", build("web", "make", 60)),
        ("mixed.yaml", build("mixed", "make all", 60)),
        ("new.yaml", build("new", "make", 60)),
        ("lost.yaml", build("lost", "make", 60)),
    ]);
    // Live: someone changed the timeout of `web` and `mixed` in the UI, and
    // deleted `lost`; a build `ui-made` exists only in Zadig.
    let base_plan = plan_of(vec![
        change("lost", Action::Create, &[]),
        change("mixed", Action::Update, &["advanced_settings.timeout"]),
        change("ui-made", Action::Delete, &[]),
        change("web", Action::Update, &["advanced_settings.timeout"]),
    ]);
    let mut plan = plan_of(vec![
        change("api", Action::Update, &["build_script"]),
        change("gone", Action::Delete, &[]),
        change("lost", Action::Create, &[]),
        change(
            "mixed",
            Action::Update,
            &["advanced_settings.timeout", "build_script"],
        ),
        change("new", Action::Create, &[]),
        change("ui-made", Action::Delete, &[]),
        change("web", Action::Update, &["advanced_settings.timeout"]),
    ]);
    let side = BaseSide {
        desired: &base,
        plan: &base_plan,
        complete: true,
    };
    annotate(&mut plan, &side, &now, &catalog);
    use Cause::*;
    assert_eq!(
        causes(&plan),
        vec![
            ("api".into(), Some(Pending), vec![Some(Pending)]),
            ("gone".into(), Some(Pending), vec![]),
            ("lost".into(), Some(Drift), vec![]),
            ("mixed".into(), Some(Both), vec![Some(Drift), Some(Pending)]),
            ("new".into(), Some(Pending), vec![]),
            ("ui-made".into(), Some(Drift), vec![]),
            ("web".into(), Some(Drift), vec![Some(Drift)]),
        ]
    );
}

#[test]
fn a_field_both_sides_changed_is_a_conflict_and_so_is_a_removed_build_edited_live() {
    let catalog = crate::core::plan::tests::catalog();
    let base = desired(&[
        ("api.yaml", build("api", "make", 60)),
        ("gone.yaml", build("gone", "make", 60)),
    ]);
    let now = desired(&[("api.yaml", build("api", "make", 90))]);
    let base_plan = plan_of(vec![
        change("api", Action::Update, &["advanced_settings.timeout"]),
        change("gone", Action::Update, &["build_script"]),
    ]);
    let mut plan = plan_of(vec![
        change("api", Action::Update, &["advanced_settings.timeout"]),
        change("gone", Action::Delete, &[]),
    ]);
    let side = BaseSide {
        desired: &base,
        plan: &base_plan,
        complete: true,
    };
    annotate(&mut plan, &side, &now, &catalog);
    use Cause::*;
    assert_eq!(
        causes(&plan),
        vec![
            ("api".into(), Some(Both), vec![Some(Both)]),
            ("gone".into(), Some(Both), vec![]),
        ]
    );
}

#[test]
fn a_build_missing_from_an_incomplete_base_is_a_conflict() {
    let catalog = crate::core::plan::tests::catalog();
    let now = desired(&[("new.yaml", build("new", "make", 60))]);
    let base_plan = Plan::default();
    let mut plan = plan_of(vec![change("new", Action::Create, &[])]);
    let side = BaseSide {
        desired: &[],
        plan: &base_plan,
        complete: false,
    };
    annotate(&mut plan, &side, &now, &catalog);
    assert_eq!(plan.changes[0].cause, Some(Cause::Both));
}

#[test]
fn changed_paths_are_the_plans_paths() {
    let catalog = crate::core::plan::tests::catalog();
    let a = desired(&[("a.yaml", build("a", "make", 60))]);
    let b = desired(&[("a.yaml", build("a", "make", 90))]);
    assert_eq!(
        changed_paths(&a[0].def(), &b[0].def(), &catalog),
        vec!["advanced_settings.timeout".to_owned()]
    );
    assert!(changed_paths(&a[0].def(), &a[0].def(), &catalog).is_empty());
}

/// A small object shaped like a build: scalars at `a`..`c`, and an object
/// `o` (absent, empty or with scalar fields), as typed values are: a path
/// never holds a scalar on one side and an object on the other.
fn object() -> impl Strategy<Value = Value> {
    let leaf = || {
        prop_oneof![
            (0i64..3).prop_map(Value::from),
            Just(Value::from("x")),
            Just(Value::from("y")),
        ]
    };
    let scalars = proptest::collection::btree_map("[a-c]", leaf(), 0..4);
    let nested = proptest::option::of(proptest::collection::btree_map("[pq]", leaf(), 0..3));
    (scalars, nested).prop_map(|(s, o)| {
        let mut m: Map<String, Value> = s.into_iter().collect();
        if let Some(o) = o {
            m.insert("o".into(), Value::Object(o.into_iter().collect()));
        }
        Value::Object(m)
    })
}

/// The value at a dotted path (the diff's paths, for objects).
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// Absent and the empty values are one value, as in the diff.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    diff_values(
        &serde_json::json!({ "v": a.cloned().unwrap_or(Value::Null) }),
        &serde_json::json!({ "v": b.cloned().unwrap_or(Value::Null) }),
    )
    .is_empty()
}

fn paths(before: &Value, after: &Value) -> Vec<String> {
    fine_paths(&diff_values(before, after))
}

proptest! {
    /// Each field's cause is what comparing the three values at its path says.
    #[test]
    fn field_causes_match_the_values(base in object(), now in object(), live in object()) {
        let files = paths(&base, &now);
        let drifted = paths(&base, &live);
        for f in diff_values(&live, &now) {
            let files_changed = !same(at(&base, &f.path), at(&now, &f.path));
            let live_differs = !same(at(&base, &f.path), at(&live, &f.path));
            let want = Cause::of(files_changed, live_differs);
            prop_assert!(want.is_some(), "{} differs, so base differs from one side", f.path);
            prop_assert_eq!(Some(field_cause(&f.path, &files, &drifted)), want, "{}", f.path);
        }
    }

    /// Files unchanged since the base: every difference is drift. Live equal
    /// to the base: every difference is the pull request's.
    #[test]
    fn one_side_unchanged_gives_one_cause(base in object(), other in object()) {
        let none: Vec<String> = Vec::new();
        for f in diff_values(&other, &base) {
            // now == base, live == other.
            prop_assert_eq!(field_cause(&f.path, &none, &paths(&base, &other)), Cause::Drift);
        }
        for f in diff_values(&base, &other) {
            // live == base, now == other.
            prop_assert_eq!(field_cause(&f.path, &paths(&base, &other), &none), Cause::Pending);
        }
    }
}
