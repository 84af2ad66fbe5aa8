//! The preserving write (issue 10) as a property, over the emulator's storage
//! model (no HTTP): for a random build edited the way the UI edits it and a
//! random definition edit, the plan's body sent through the emulator's own
//! `PUT /api/aslan/build/build` keeps every field the definition does not
//! express, and a second plan is empty. The client side (`core::preserve`)
//! and the server side (`State::ui_update`) are separate implementations.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::Seed;
use super::roundtrip_tests::{build_spec, catalog, config, create};
use super::state::State;
use crate::core::live::{LiveBuild, LiveRead};
use crate::core::model::*;
use crate::core::plan::{DesiredBuild, LiveState, Plan, PlanOptions, ProjectLive, plan};
use crate::zadig::wire::{BuildBrief, StoredBuild};

/// What zadig-sync reads: the masked stored model as JSON (the raw base of
/// the preserving write) plus plain credential values from the detail.
fn read(state: &State, name: &str) -> LiveBuild {
    let raw = state.stored_view(name, "demo", true).expect("stored");
    let model: StoredBuild = serde_json::from_value(raw.clone()).expect("decodes");
    let detail = state.detail(name, "demo", "", "").expect("detail");
    let credentials: BTreeMap<String, String> = detail
        .parameters
        .iter()
        .filter(|p| p.is_credential)
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    LiveBuild {
        project: "demo".into(),
        brief: BuildBrief {
            name: name.to_owned(),
            project_key: "demo".into(),
            source: model.source.clone(),
            update_time: model.update_time,
            ..BuildBrief::default()
        },
        read: LiveRead::Stored {
            model: Box::new(model),
            credentials,
            raw: Some(raw.to_string().into_boxed_str()),
        },
    }
}

fn plan_of(state: &State, def: &BuildSpec) -> Plan {
    let live_state = LiveState {
        projects: BTreeMap::from([(
            "demo".to_owned(),
            ProjectLive::Listed(vec![read(state, &def.name)]),
        )]),
        elsewhere: BTreeMap::new(),
        catalog: catalog(state),
    };
    let desired = DesiredBuild::new(&BuildDef::Build(def.clone()), "x.yaml:1".into());
    plan(&config(), &[desired], &live_state, &PlanOptions::default())
}

/// UI-only settings to put on a stored build.
#[derive(Clone, Debug)]
struct UiEdits {
    post_script: String,
    object_storage: bool,
    vm_labels: Vec<String>,
    desc: String,
    clean_workspace: bool,
    namespace: String,
    var_script: String,
    registry_id: String,
    file_path: String,
    hidden: bool,
    filter: String,
    output_description: String,
}

fn ui_edits() -> impl Strategy<Value = UiEdits> {
    (
        (
            "[a-z ./]{0,8}",
            any::<bool>(),
            prop::collection::vec("[a-z]{1,4}", 0..2),
            "[a-z ]{0,6}",
            any::<bool>(),
            "[a-z]{0,4}",
        ),
        (
            "[a-z\n]{0,8}",
            "[0-9a-f]{0,4}",
            "[a-z/]{0,6}",
            any::<bool>(),
            "[a-z^.*]{0,5}",
            "[a-z ]{0,6}",
        ),
    )
        .prop_map(
            |(
                (post_script, object_storage, vm_labels, desc, clean_workspace, namespace),
                (var_script, registry_id, file_path, hidden, filter, output_description),
            )| UiEdits {
                post_script,
                object_storage,
                vm_labels,
                desc,
                clean_workspace,
                namespace,
                var_script,
                registry_id,
                file_path,
                hidden,
                filter,
                output_description,
            },
        )
}

fn apply_edits(m: &mut StoredBuild, e: &UiEdits) {
    let post = m.post_build.get_or_insert_with(Default::default);
    post.scripts.clone_from(&e.post_script);
    post.object_storage_upload = e.object_storage.then(
        || serde_json::json!({"enabled": true, "object_storage_id": "x", "upload_detail": []}),
    );
    m.vm_labels.clone_from(&e.vm_labels);
    m.desc.clone_from(&e.desc);
    if let Some(pre) = m.pre_build.as_mut() {
        pre.clean_workspace = e.clean_workspace;
        pre.namespace.clone_from(&e.namespace);
        if let Some(kv) = pre.envs.first_mut() {
            kv.script.clone_from(&e.var_script);
            kv.registry_id.clone_from(&e.registry_id);
            kv.file_path.clone_from(&e.file_path);
        }
    }
    if let Some(r) = m.repos.first_mut() {
        r.hidden = e.hidden;
        r.filter_regexp.clone_from(&e.filter);
    }
    if let Some(o) = m.outputs.first_mut() {
        o.description.clone_from(&e.output_description);
    }
}

fn stored(state: &State) -> StoredBuild {
    state.builds[0].clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn apply_keeps_what_the_definition_does_not_express(
        a in build_spec(),
        b in build_spec(),
        edits in ui_edits(),
    ) {
        let mut state = State::from_seed(Seed::builtin(), 1).expect("seed");
        create(&mut state, &a);
        let mut m = stored(&state);
        apply_edits(&mut m, &edits);
        state.put_stored(m, 2);
        let before = stored(&state);

        let p = plan_of(&state, &b);
        let Some(change) = p.changes.first() else {
            return Ok(());
        };
        prop_assume!(change.blocked.is_none());
        let body = change
            .write_body
            .clone()
            .expect("a preserving write")
            .expect("converted")
            .to_value();
        // The emulator's route: bind the whole model, then UpdateBuild.
        let build: StoredBuild = serde_json::from_value(body.clone()).expect("binds");
        state
            .ui_update(build, body.get("target_repos"), "tester", 3)
            .expect("written");
        let after = stored(&state);

        // Everything the definition does not express is unchanged.
        let post = |m: &StoredBuild| m.post_build.clone().unwrap_or_default();
        prop_assert_eq!(&post(&after).scripts, &post(&before).scripts);
        prop_assert_eq!(
            &post(&after).object_storage_upload,
            &post(&before).object_storage_upload
        );
        prop_assert_eq!(&after.vm_labels, &before.vm_labels);
        prop_assert_eq!(&after.desc, &before.desc);
        let pre = |m: &StoredBuild| m.pre_build.clone().unwrap_or_default();
        prop_assert_eq!(pre(&after).clean_workspace, pre(&before).clean_workspace);
        prop_assert_eq!(&pre(&after).namespace, &pre(&before).namespace);
        prop_assert_eq!(&pre(&after).enable_proxy, &pre(&before).enable_proxy);
        for kv in &pre(&after).envs {
            if let Some(old) = pre(&before).envs.iter().find(|o| o.key == kv.key) {
                prop_assert_eq!(&kv.script, &old.script);
                prop_assert_eq!(&kv.registry_id, &old.registry_id);
                prop_assert_eq!(&kv.file_path, &old.file_path);
            }
        }
        for r in &after.repos {
            if let Some(old) = before.repos.iter().find(|o| {
                o.codehost_id == r.codehost_id
                    && o.repo_namespace == r.repo_namespace
                    && o.repo_name == r.repo_name
            }) {
                prop_assert_eq!(r.hidden, old.hidden);
                prop_assert_eq!(&r.filter_regexp, &old.filter_regexp);
            }
        }
        for o in &after.outputs {
            if let Some(old) = before.outputs.iter().find(|x| x.name == o.name) {
                prop_assert_eq!(&o.description, &old.description);
            }
        }
        // And what it does express converged: the second plan is empty.
        let again = plan_of(&state, &b);
        prop_assert!(again.changes.is_empty(), "{:#?}", again.changes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The contract between the two conversions: the client's (definition →
    /// stored model, `core::preserve`) over what the emulator's OpenAPI
    /// create stored for the same definition changes nothing but the
    /// server-stamped fields. A mapping that differs on either side (an id,
    /// a preset, the cache type, a default) shows here.
    #[test]
    fn the_preserving_conversion_agrees_with_the_openapi_create(a in build_spec()) {
        let mut state = State::from_seed(Seed::builtin(), 1).expect("seed");
        create(&mut state, &a);
        let before = stored(&state);
        let raw = state.stored_view(&a.name, "demo", true).expect("stored");
        let Some(BuildDef::Build(wire)) = crate::core::secrets::wire_body(&BuildDef::Build(a.clone())) else {
            panic!("resolved");
        };
        let body = crate::core::preserve::preserving_body(&raw, &wire, &catalog(&state))
            .expect("converted");
        let build: StoredBuild = serde_json::from_value(body.clone()).expect("binds");
        state
            .ui_update(build, body.get("target_repos"), "tester", 3)
            .expect("written");
        let mut after = stored(&state);
        after.update_time = before.update_time;
        after.update_by.clone_from(&before.update_by);
        // The stored-model read fills the default strategy in (§2.3); the
        // write sends it back. Same meaning.
        if let (Some(b), Some(a)) = (before.pre_build.as_ref(), after.pre_build.as_mut())
            && b.strategy_id.is_empty()
        {
            a.strategy_id.clear();
        }
        prop_assert_eq!(after, before);
    }
}
