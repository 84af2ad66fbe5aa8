//! `kind: BuildTemplate` end to end (issue 15): the CLI against the
//! in-process emulator's template library.

use serde_json::Value;
use zadig_sync::emulator::Seed;

use crate::common::*;

const SEEDED: &str = "go-service-template";

fn template_yaml(name: &str, script: &str) -> String {
    format!(
        "kind: BuildTemplate\nname: {name}\ninfrastructure: kubernetes\nbuild_os: ubuntu 20.04\nscript_type: shell\nbuild_script: |\n  {script}\nparameters:\n  - key: GO_FLAGS\n    default_value: -v\n  - key: PUSH_TOKEN\n    default_value: {{from_env: TPL_PUSH_TOKEN}}\n    is_credential: true\n"
    )
}

fn template_build_yaml(name: &str, project: &str, template: &str) -> String {
    format!(
        "kind: TemplateBuild\nname: {name}\nproject_key: {project}\ntemplate_name: {template}\ntarget_services:\n  - service_name: {name}\n    service_module: {name}\n"
    )
}

/// A directory managing `demo` and `platform`, and the templates.
fn dir(templates: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "zadig-sync.yaml",
        &format!("projects:\n  - key: demo\n  - key: platform\nbuild_templates: {templates}\n"),
    );
    tmp
}

const ENV: &[(&str, &str)] = &[("TPL_PUSH_TOKEN", "push-secret-4711")];

fn plan(emu: &zadig_sync::emulator::ThreadEmulator, d: &std::path::Path) -> (i32, Value) {
    let out = run_env(
        emu,
        &[
            "plan",
            d.to_str().expect("utf-8"),
            "-o",
            "json",
            "--detailed-exitcode",
        ],
        ENV,
    );
    assert!(
        out.code == 0 || out.code == 2,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.all().contains("push-secret-4711"), "{}", out.all());
    (out.code, json(&out))
}

fn apply(emu: &zadig_sync::emulator::ThreadEmulator, d: &std::path::Path) -> Run {
    let out = run_env(
        emu,
        &["apply", d.to_str().expect("utf-8"), "--auto-approve"],
        ENV,
    );
    assert!(!out.all().contains("push-secret-4711"), "{}", out.all());
    out
}

fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["templates"]["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["address"]["name"].as_str().unwrap_or("").to_owned(),
                        c["action"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn templates_are_created_updated_and_deleted() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!(
        "{{manage: true, prune: true, ignore: [{SEEDED}]}}"
    ));
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 2);
    assert_eq!(actions(&p), [("tpl".to_owned(), "create".to_owned())]);

    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("template tpl (create): applied"),
        "{}",
        out.stdout
    );
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["templates"]["unchanged"], serde_json::json!(["tpl"]));

    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make all"),
    );
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 2);
    assert_eq!(actions(&p), [("tpl".to_owned(), "update".to_owned())]);
    let diff = p["templates"]["changes"][0]["diff"].as_str().unwrap_or("");
    assert!(diff.contains("+  make all"), "{diff}");
    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(plan(&emu, tmp.path()).0, 0);

    std::fs::remove_file(tmp.path().join("templates/tpl.yaml")).expect("rm");
    write(
        tmp.path(),
        "demo/keep.yaml",
        &build_yaml("keep", "demo", "make"),
    );
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 2);
    assert!(
        actions(&p).contains(&("tpl".to_owned(), "delete".to_owned())),
        "{p}"
    );
    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 0, "{p}");
    assert!(actions(&p).is_empty());
}

#[test]
fn a_template_change_lists_its_blast_radius_across_projects_and_a_used_one_is_not_deleted() {
    let emu = emulator(Seed::builtin());
    let tmp = dir("{manage: true, prune: true}");
    write(
        tmp.path(),
        "demo/api.yaml",
        &template_build_yaml("api", "demo", SEEDED),
    );
    write(
        tmp.path(),
        "platform/ops.yaml",
        &template_build_yaml("ops", "platform", SEEDED),
    );
    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // No file for the seeded template, prune on: it is used, so never deleted.
    let (_, p) = plan(&emu, tmp.path());
    let c = &p["templates"]["changes"][0];
    assert_eq!(c["action"], "delete");
    assert_eq!(c["blocked"]["code"], "template_referenced");
    assert_eq!(c["blocked"]["builds"], 2);
    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("skipped"), "{}", out.stdout);
    assert!(
        emu.handle()
            .build_template("65c000000000000000000001")
            .is_some(),
        "a referenced template was deleted"
    );

    // A file for it: its change lists every build that uses it, in both projects.
    write(
        tmp.path(),
        "templates/go.yaml",
        &template_yaml(SEEDED, "make"),
    );
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 2);
    let c = &p["templates"]["changes"][0];
    assert_eq!(c["action"], "update");
    let radius: Vec<String> = c["blast_radius"]
        .as_array()
        .expect("listed")
        .iter()
        .map(|a| {
            format!(
                "{}/{}",
                a["project"].as_str().unwrap_or(""),
                a["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(radius, ["demo/api", "platform/ops"]);
    let human = run_env(&emu, &["plan", tmp.path().to_str().expect("utf-8")], ENV);
    assert!(
        human
            .stdout
            .contains("used by 2 builds: build demo/api, build platform/ops"),
        "{}",
        human.stdout
    );
}

#[test]
fn one_apply_creates_a_template_before_the_builds_that_use_it() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        tmp.path(),
        "templates/new.yaml",
        &template_yaml("new-tpl", "make"),
    );
    write(
        tmp.path(),
        "demo/api.yaml",
        &template_build_yaml("api", "demo", "new-tpl"),
    );
    let out = apply(&emu, tmp.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let stored = emu.handle().stored_build("demo", "api").expect("created");
    assert!(!stored.template_id.is_empty());
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 0, "{p}");
}

#[test]
fn a_ui_edit_of_a_template_is_drift() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    assert_eq!(apply(&emu, tmp.path()).code, 0);
    let d = tmp.path().to_str().expect("utf-8");
    let out = run_env(&emu, &["drift", d], ENV);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Find its id through a plan of a changed file, then edit it "in the UI".
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make v2"),
    );
    let (_, p) = plan(&emu, tmp.path());
    let id = p["templates"]["changes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    let mut model = emu.handle().build_template(&id).expect("there");
    model["scripts"] = Value::from("make ui-edit\n");
    emu.handle().put_build_template(model).expect("put");

    let out = run_env(&emu, &["drift", d], ENV);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("~ template tpl (update)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("-  make ui-edit"), "{}", out.stdout);
}

#[test]
fn a_directory_without_the_key_reads_no_template() {
    let emu = emulator(Seed::builtin());
    let tmp = demo_dir("");
    write(
        tmp.path(),
        "demo/keep.yaml",
        &build_yaml("keep", "demo", "make"),
    );
    let out = run(
        &emu,
        &["plan", tmp.path().to_str().expect("utf-8"), "-o", "json"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(json(&out).get("templates").is_none());
}

#[test]
fn import_writes_templates_without_their_secrets_and_then_plans_nothing() {
    let emu = emulator(Seed::builtin());
    // A template with a credential value, made through the CLI.
    let src = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        src.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    assert_eq!(apply(&emu, src.path()).code, 0);

    // This directory ignores the seeded template: only the one made above
    // is imported.
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    let d = tmp.path().to_str().expect("utf-8");
    let out = run(
        &emu,
        &["import", "--project", "demo", "--out", d, "--templates"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.all().contains("imported 1 build template(s)"),
        "{}",
        out.all()
    );
    assert!(
        !tmp.path()
            .join("build_templates/go-service-template.yaml")
            .exists()
    );
    let text =
        std::fs::read_to_string(tmp.path().join("build_templates/tpl.yaml")).expect("written");
    assert!(text.contains("kind: BuildTemplate"), "{text}");
    assert!(!text.contains("push-secret-4711"), "{text}");
    assert!(
        text.contains("from_env: ZADIG_SECRET_TEMPLATE_TPL_PUSH_TOKEN"),
        "{text}"
    );

    // Unset credential variables compare as live: nothing to change.
    let out = run(&emu, &["plan", d, "-o", "json", "--detailed-exitcode"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let p = json(&out);
    assert!(actions(&p).is_empty(), "{p}");
    assert_eq!(p["templates"]["unchanged"], serde_json::json!(["tpl"]));
}

#[test]
fn import_into_a_new_directory_manages_the_templates() {
    let emu = emulator(Seed::builtin());
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path().to_str().expect("utf-8");
    let out = run(
        &emu,
        &["import", "--project", "demo", "--out", d, "--templates"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let config = std::fs::read_to_string(tmp.path().join("zadig-sync.yaml")).expect("config");
    assert!(
        config.contains("build_templates:\n  manage: true\n  prune: false\n"),
        "{config}"
    );
    let text = std::fs::read_to_string(tmp.path().join("build_templates/go-service-template.yaml"))
        .expect("written");
    assert!(
        text.contains("from_env: ZADIG_SECRET_TEMPLATE_GO_SERVICE_TEMPLATE_REGISTRY_TOKEN"),
        "{text}"
    );
    // The seeded template is a whole one: its file validates, and plans
    // unchanged, its unset credential listed as not compared.
    let out = run(&emu, &["validate", d]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let out = run(&emu, &["plan", d, "-o", "json", "--detailed-exitcode"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let p = json(&out);
    assert!(actions(&p).is_empty(), "{p}");
    assert_eq!(
        p["templates"]["unchanged"],
        serde_json::json!(["go-service-template"])
    );
    assert_eq!(
        p["templates"]["not_compared"],
        serde_json::json!([{
            "name": "go-service-template",
            "path": "parameters[REGISTRY_TOKEN].default_value",
            "var": "ZADIG_SECRET_TEMPLATE_GO_SERVICE_TEMPLATE_REGISTRY_TOKEN"
        }])
    );
    let out = run(&emu, &["plan", d]);
    assert!(
        out.stdout
            .contains("Not compared (a variable is unset; apply needs it):"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_saved_plan_carries_the_template_changes_and_refuses_a_changed_template() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    write(
        tmp.path(),
        "demo/api.yaml",
        &template_build_yaml("api", "demo", "tpl"),
    );
    let d = tmp.path().to_str().expect("utf-8");
    let saved = tmp.path().join("plan.json");
    let s = saved.to_str().expect("utf-8");
    let out = run_env(&emu, &["plan", d, "--out", s], ENV);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let file = std::fs::read_to_string(&saved).expect("saved");
    assert!(!file.contains("push-secret-4711"), "{file}");
    assert!(file.contains("\"templates\""), "{file}");
    let shown = run(&emu, &["show", s]);
    assert_eq!(shown.code, 0, "{}\n{}", shown.stdout, shown.stderr);
    assert!(
        shown.stdout.contains("+ template tpl (create)"),
        "{}",
        shown.stdout
    );
    // The template and the build that uses it, from the plan file alone.
    let out = run_env(&emu, &["apply", s], ENV);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("template tpl (create): applied"),
        "{}",
        out.stdout
    );
    assert!(emu.handle().stored_build("demo", "api").is_some());
    assert_eq!(plan(&emu, tmp.path()).0, 0);

    // A saved update whose template is edited in the UI before the apply.
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make v2"),
    );
    let out = run_env(&emu, &["plan", d, "--out", s], ENV);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (_, p) = plan(&emu, tmp.path());
    let id = p["templates"]["changes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut model = emu.handle().build_template(&id).expect("there");
    model["scripts"] = Value::from("make ui-edit\n");
    emu.handle().put_build_template(model).expect("put");
    let out = run_env(&emu, &["apply", s], ENV);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("changed since the plan read it"),
        "{}",
        out.stdout
    );
    let kept = emu.handle().build_template(&id).expect("there");
    assert_eq!(kept["scripts"], "make ui-edit\n");
}

#[test]
fn template_changes_need_a_confirmation() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    let out = run_env(&emu, &["apply", tmp.path().to_str().expect("utf-8")], ENV);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);
    assert!(actions(&plan(&emu, tmp.path()).1).contains(&("tpl".to_owned(), "create".to_owned())));
}

#[test]
fn validate_counts_the_templates() {
    let tmp = dir("{manage: true}");
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make"),
    );
    let d = tmp.path().to_str().expect("utf-8");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zadig-sync"));
    cmd.args(["validate", d, "--color", "never"]);
    let out = output(cmd);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Valid: 0 builds and 1 build template in 1 file"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_saved_plan_does_not_hold_a_templates_literal_credential_and_refuses_without_the_directory() {
    let emu = emulator(Seed::builtin());
    let tmp = dir(&format!("{{manage: true, ignore: [{SEEDED}]}}"));
    write(
        tmp.path(),
        "templates/tpl.yaml",
        &template_yaml("tpl", "make").replace("{from_env: TPL_PUSH_TOKEN}", "literal-4711"),
    );
    let d = tmp.path().to_str().expect("utf-8");
    let saved = tmp.path().join("plan.json");
    let s = saved.to_str().expect("utf-8");
    let out = run(&emu, &["plan", d, "--out", s]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let file = std::fs::read_to_string(&saved).expect("saved");
    assert!(!file.contains("literal-4711"), "{file}");
    // From the plan file alone the value is missing: nothing is applied.
    let out = run(&emu, &["apply", s]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("template tpl: parameters[PUSH_TOKEN].default_value"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("literal-4711"), "{}", out.all());
    let (code, p) = plan(&emu, tmp.path());
    assert_eq!(code, 2, "{p}");
    assert_eq!(actions(&p), [("tpl".to_owned(), "create".to_owned())]);
}
