//! Builds made in Zadig's UI (issue 10): what the files cannot say is kept,
//! what they can say is compared, and nothing is deleted to convert.

use std::collections::HashMap;

use serde_json::Value;
use zadig_sync::emulator::{
    EmulatorConfig, Perms, Role, Seed, SeedBuild, ThreadEmulator, TokenPolicy, spawn_in_thread,
    ui_made_builds,
};
use zadig_sync::zadig::wire::StoredBuild;

use crate::common::*;

fn ui_seed() -> Seed {
    let mut seed = Seed::builtin();
    seed.builds = ui_made_builds()
        .into_iter()
        .map(|b| SeedBuild::Stored(Box::new(b)))
        .collect();
    seed
}

fn ui_emulator(tokens: TokenPolicy, openapi_only: bool) -> ThreadEmulator {
    spawn_in_thread(EmulatorConfig {
        seed: ui_seed(),
        tokens,
        openapi_only,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

/// A directory with every UI-made build imported.
fn imported(emu: &ThreadEmulator) -> tempfile::TempDir {
    let tmp = demo_dir("");
    let dir = tmp.path().to_str().expect("utf-8");
    let out = run(emu, &["import", "--project", "demo", "--out", dir]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    tmp
}

fn stored(emu: &ThreadEmulator, name: &str) -> Value {
    serde_json::to_value(emu.handle().stored_build("demo", name).expect("there")).expect("json")
}

fn plan_json(emu: &ThreadEmulator, dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["plan", dir.to_str().expect("utf-8"), "-o", "json"];
    args.extend_from_slice(extra);
    let out = run(emu, &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    json(&out)
}

#[test]
fn import_then_plan_is_empty_but_for_the_dangling_strategy() {
    let emu = ui_emulator(TokenPolicy::AnyAdmin, false);
    let dir = imported(&emu);
    let high = std::fs::read_to_string(dir.path().join("demo/ui-preset-high.yaml")).expect("file");
    assert!(
        high.contains("cpu_limit: 16000") && high.contains("memory_limit: 32768"),
        "import writes the preset's numbers:\n{high}"
    );
    let ws =
        std::fs::read_to_string(dir.path().join("demo/ui-workspace-cache.yaml")).expect("file");
    assert!(ws.contains("dir_type: workspace"), "{ws}");
    let out = run(&emu, &["validate", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stderr.contains("cache_dir is empty"),
        "a workspace cache needs no directory:
{}",
        out.stderr
    );
    let tpl = std::fs::read_to_string(dir.path().join("demo/ui-template.yaml")).expect("file");
    assert!(
        tpl.contains("LDFLAGS") && tpl.contains("GO_VERSION"),
        "every input differing from the template:\n{tpl}"
    );
    assert!(
        !tpl.contains("REGISTRY_TOKEN"),
        "equal to the template: left out\n{tpl}"
    );

    let plan = plan_json(&emu, dir.path(), &[]);
    assert_eq!(
        changes(&plan),
        [(
            "demo/ui-dangling-strategy".to_owned(),
            "update".to_owned(),
            None
        )],
        "{plan}"
    );
    assert!(
        plan["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w
                .as_str()
                .is_some_and(|w| w.contains("no scheduling strategy"))),
        "{plan}"
    );
}

#[test]
fn each_expressible_setting_changed_in_the_ui_shows_in_drift() {
    let emu = ui_emulator(TokenPolicy::AnyAdmin, false);
    let dir = imported(&emu);
    let h = emu.handle();
    let edit = |name: &str, f: &dyn Fn(&mut StoredBuild)| {
        let mut b = h.stored_build("demo", name).expect("there");
        f(&mut b);
        h.put_stored_build(b);
    };
    edit("ui-preset-high", &|b| {
        if let Some(p) = b.pre_build.as_mut() {
            p.res_req = "medium".into();
        }
    });
    edit("ui-workspace-cache", &|b| {
        b.cache_dir_type = "user_defined".into()
    });
    edit("ui-template", &|b| {
        b.targets[0].envs[0].value = "1.23".into();
        // A variable the file does not list, overridden in the UI.
        b.targets[0].envs.push(zadig_sync::zadig::wire::KeyVal {
            key: "REGISTRY_TOKEN".into(),
            value: "set-in-the-ui".into(),
            kv_type: "string".into(),
            is_credential: true,
            ..Default::default()
        });
    });
    edit("ui-vars", &|b| {
        if let Some(p) = b.pre_build.as_mut() {
            p.envs[1].description = "changed in the UI".into();
        }
    });
    let out = run(
        &emu,
        &["drift", dir.path().to_str().expect("utf-8"), "-o", "json"],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let drift = json(&out);
    let fields = |name: &str| -> Vec<String> {
        drift["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["fields"].as_array())
            .map(|f| {
                f.iter()
                    .map(|f| f["path"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        fields("ui-preset-high")
            .iter()
            .any(|p| p.contains("resource_spec")),
        "{drift}"
    );
    assert!(
        fields("ui-workspace-cache")
            .iter()
            .any(|p| p.contains("dir_type")),
        "{drift}"
    );
    assert!(
        fields("ui-template")
            .iter()
            .any(|p| p.contains("GO_VERSION")),
        "{drift}"
    );
    assert!(
        fields("ui-template")
            .iter()
            .any(|p| p.contains("REGISTRY_TOKEN")),
        "an override of an unlisted variable is drift: {drift}"
    );
    assert!(
        !out.stdout.contains("set-in-the-ui"),
        "a credential is never printed"
    );
    assert!(
        fields("ui-vars").iter().any(|p| p.contains("description")),
        "{drift}"
    );
}

#[test]
fn an_unrelated_apply_keeps_every_setting_the_files_do_not_express() {
    let emu = ui_emulator(TokenPolicy::AnyAdmin, false);
    let dir = imported(&emu);
    let names = [
        "ui-preset-high",
        "ui-preset-medium",
        "ui-preset-min",
        "ui-preset-default",
        "ui-workspace-cache",
        "ui-vars",
    ];
    let before: Vec<Value> = names.iter().map(|n| stored(&emu, n)).collect();
    for n in names {
        let path = dir.path().join(format!("demo/{n}.yaml"));
        let text = std::fs::read_to_string(&path).expect("file");
        let changed = text.replacen(
            "build_script: |\n  make\n",
            "build_script: |\n  make all\n",
            1,
        );
        assert_ne!(changed, text, "{text}");
        std::fs::write(&path, changed).expect("write");
    }
    emu.handle().reset_stats();
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let s = emu.handle().stats();
    // The six, and the dangling strategy set to the default.
    assert_eq!((s.ui_update, s.update, s.delete), (7, 0, 0), "{s:?}");
    for (n, before) in names.iter().zip(&before) {
        let after = stored(&emu, n);
        let (Value::Object(b), Value::Object(a)) = (before, &after) else {
            panic!("objects");
        };
        for (k, v) in b {
            if matches!(k.as_str(), "scripts" | "update_time" | "update_by") {
                continue;
            }
            assert_eq!(a.get(k), Some(v), "{n}: `{k}` changed");
        }
        assert_eq!(after["scripts"], "make all\n");
    }
    // And the second plan is empty.
    let plan = plan_json(&emu, dir.path(), &[]);
    assert!(changes(&plan).is_empty(), "{plan}");
}

fn editor_without_build_edit() -> TokenPolicy {
    TokenPolicy::Tokens(HashMap::from([(
        TOKEN.to_owned(),
        Role::Project(HashMap::from([(
            "demo".to_owned(),
            Perms {
                view: true,
                create: true,
                delete: true,
                edit: false,
            },
        )])),
    )]))
}

#[test]
fn the_fallback_path_blocks_with_the_erase_guard_naming_each_setting() {
    // The token lacks Build.Edit: the preserving write answers 403, and the
    // OpenAPI fallback would erase the UI-only settings.
    let emu = ui_emulator(editor_without_build_edit(), false);
    let dir = imported(&emu);
    let path = dir.path().join("demo/ui-vars.yaml");
    let text = std::fs::read_to_string(&path).expect("file");
    std::fs::write(
        &path,
        text.replacen(
            "build_script: |\n  make\n",
            "build_script: |\n  make all\n",
            1,
        ),
    )
    .expect("write");
    let before = stored(&emu, "ui-vars");
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "--target",
            "demo/ui-vars",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let reason = json(&out)["outcomes"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for setting in [
        "post-build script",
        "object storage upload",
        "parameters[VERSION]: script, call_function",
        "parameters[BASE_IMAGE]: registry_id",
        "parameters[CONFIG]: file",
        "hidden",
        "branch filter",
        "clean workspace",
        "description of output `IMAGE`",
        "Build.Edit",
    ] {
        assert!(reason.contains(setting), "`{setting}` not in: {reason}");
    }
    assert_eq!(stored(&emu, "ui-vars"), before, "nothing written");

    // Behind an OpenAPI-only gateway the plan says so up front.
    let emu = ui_emulator(TokenPolicy::AnyAdmin, true);
    let plan = plan_json(&emu, dir.path(), &["--target", "demo/ui-vars"]);
    let c = &plan["changes"][0];
    assert_eq!(c["blocked"], "erase", "{plan}");
    assert_eq!(c["write_path"], "openapi", "{plan}");
}

#[test]
fn keep_on_a_new_credential_is_refused() {
    let emu = ui_emulator(TokenPolicy::AnyAdmin, false);
    let dir = imported(&emu);
    let path = dir.path().join("demo/ui-preset-min.yaml");
    let text = std::fs::read_to_string(&path).expect("file");
    std::fs::write(
        &path,
        format!("{text}parameters:\n  - key: NEW_SECRET\n    is_credential: true\n    default_value: {{keep: true}}\n"),
    )
    .expect("write");
    let plan = plan_json(&emu, dir.path(), &["--target", "demo/ui-preset-min"]);
    assert_eq!(
        changes(&plan),
        [(
            "demo/ui-preset-min".to_owned(),
            "update".to_owned(),
            Some("keep_without_value".to_owned())
        )],
        "{plan}"
    );
}

#[test]
fn an_unknown_project_is_an_error_with_no_writes() {
    let emu = emulator(Seed::builtin());
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "zadig-sync.yaml",
        "projects:\n  - key: demo\n  - key: demoo\n",
    );
    write(
        dir.path(),
        "b.yaml",
        &build_yaml("typo-build", "demoo", "make"),
    );
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("`demoo`"), "{}", out.stderr);
    assert_eq!(emu.handle().stats().writes(), 0);
}

#[test]
fn a_conversion_runs_without_a_delete() {
    let emu = ui_emulator(TokenPolicy::AnyAdmin, false);
    let dir = demo_dir("");
    // ui-preset-min (plain) becomes a template build.
    write(
        dir.path(),
        "min.yaml",
        "kind: TemplateBuild\nname: ui-preset-min\nproject_key: demo\ntemplate_name: go-service-template\ntarget_services:\n  - service_name: ui-preset-min\n    service_module: ui-preset-min\n",
    );
    // ui-template becomes a plain build.
    write(
        dir.path(),
        "tpl.yaml",
        &build_yaml("ui-template", "demo", "make"),
    );
    emu.handle().reset_stats();
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let s = emu.handle().stats();
    assert_eq!((s.delete, s.create), (0, 0), "{s:?}");
    assert_eq!(s.update, 2, "{s:?}");
    let min = stored(&emu, "ui-preset-min");
    assert_eq!(min["template_id"], "65c000000000000000000001");
    assert_eq!(stored(&emu, "ui-template")["template_id"], "");

    // A template that does not exist is found at plan time.
    write(
        dir.path(),
        "min.yaml",
        "kind: TemplateBuild\nname: ui-preset-min\nproject_key: demo\ntemplate_name: no-such-template\ntarget_services:\n  - service_name: ui-preset-min\n    service_module: ui-preset-min\n",
    );
    let plan = plan_json(&emu, dir.path(), &["--target", "demo/ui-preset-min"]);
    assert_eq!(plan["changes"][0]["blocked"], "unknown_template", "{plan}");
}

#[test]
fn the_fallback_writes_through_the_openapi_when_it_erases_nothing() {
    // No Build.Edit, but ui-preset-min has nothing the OpenAPI would erase:
    // the fallback runs, and the report says so.
    let emu = ui_emulator(editor_without_build_edit(), false);
    let dir = imported(&emu);
    let path = dir.path().join("demo/ui-preset-min.yaml");
    let text = std::fs::read_to_string(&path).expect("file");
    std::fs::write(
        &path,
        text.replacen(
            "build_script: |\n  make\n",
            "build_script: |\n  make all\n",
            1,
        ),
    )
    .expect("write");
    emu.handle().reset_stats();
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "--target",
            "demo/ui-preset-min",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = json(&out);
    assert_eq!(report["outcomes"][0]["status"], "applied", "{report}");
    assert!(
        report["outcomes"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("OpenAPI fallback")),
        "{report}"
    );
    let s = emu.handle().stats();
    assert_eq!((s.ui_update, s.update), (1, 1), "{s:?}");
    let after = stored(&emu, "ui-preset-min");
    assert_eq!(after["scripts"], "make all\n");
    assert_eq!(
        after["pre_build"]["res_req"], "min",
        "the preset's numbers were sent"
    );
}

#[test]
fn a_new_build_with_a_workspace_cache_converges_in_one_apply() {
    let emu = emulator(Seed::builtin());
    let dir = demo_dir("");
    write(
        dir.path(),
        "ws.yaml",
        &format!(
            "{}advanced_settings:\n  cluster_name: local-20240101120000\n  timeout: 60\n  cache_setting:\n    enabled: true\n    dir_type: workspace\n",
            build_yaml("ws-new", "demo", "make")
        ),
    );
    let out = run(
        &emu,
        &[
            "apply",
            dir.path().to_str().expect("utf-8"),
            "--auto-approve",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let b = stored(&emu, "ws-new");
    assert_eq!(
        (b["cache_enable"].clone(), b["cache_dir_type"].clone()),
        (Value::Bool(true), Value::from("workspace"))
    );
    let s = emu.handle().stats();
    assert_eq!((s.create, s.ui_update), (1, 1), "{s:?}");
}
