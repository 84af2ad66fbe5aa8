//! End-to-end tests of `zadig-sync validate` and `zadig-sync schema`: the
//! built binary on `examples/` and on a corpus of bad inputs, with insta
//! snapshots of what it prints.
//!
//! Corpus layout: `tests/corpus/bad/<case>/` must fail (exit 1),
//! `tests/corpus/warn/<case>/` must pass with warnings (exit 0),
//! `tests/corpus/good/<case>/` must pass. Every case directory needs a test
//! below (`every_corpus_case_has_a_test` checks). Refresh snapshots with
//! `INSTA_UPDATE=always cargo test --test validate` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(kind: &str, case: &str) -> PathBuf {
    root().join("tests/corpus").join(kind).join(case)
}

/// The binary with colour off and no inherited Zadig settings.
fn zadig_sync() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zadig-sync"));
    cmd.env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("ZADIG_ENDPOINT")
        .env_remove("ZADIG_TOKEN")
        .env_remove("ZADIG_SYNC_LOG")
        .arg("--color")
        .arg("never");
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the binary runs");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// `validate .` inside the case directory, so every path printed is relative.
fn validate_case(kind: &str, case: &str) -> Run {
    let dir = corpus(kind, case);
    assert!(dir.is_dir(), "no corpus case {}", dir.display());
    run(zadig_sync().current_dir(&dir).args(["validate", "."]))
}

fn snapshot(kind: &str, case: &str, stderr: &str) {
    insta::with_settings!({
        description => format!("zadig-sync validate tests/corpus/{kind}/{case}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(format!("{kind}__{case}"), stderr);
    });
}

fn check_bad(case: &str) {
    let r = validate_case("bad", case);
    assert_eq!(r.code, Some(1), "{case}: exit code\n{}", r.stderr);
    assert_eq!(r.stdout, "", "{case}: nothing on stdout when invalid");
    assert!(
        r.stderr.contains("error: "),
        "{case}: an error is reported\n{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{case}: {}", r.stderr);
    snapshot("bad", case, &r.stderr);
}

fn check_warn(case: &str) {
    let r = validate_case("warn", case);
    assert_eq!(r.code, Some(0), "{case}: exit code\n{}", r.stderr);
    assert!(r.stdout.starts_with("Valid: "), "{case}: {}", r.stdout);
    assert!(r.stderr.contains("warning: "), "{case}: {}", r.stderr);
    assert!(!r.stderr.contains("error: "), "{case}: {}", r.stderr);
    snapshot("warn", case, &r.stderr);
}

macro_rules! corpus_tests {
    (bad: [$($bad:ident),* $(,)?], warn: [$($warn:ident),* $(,)?] $(,)?) => {
        mod bad {
            $(#[test] fn $bad() { super::check_bad(stringify!($bad)); })*
        }
        mod warn {
            $(#[test] fn $warn() { super::check_warn(stringify!($warn)); })*
        }
        const BAD: &[&str] = &[$(stringify!($bad)),*];
        const WARN: &[&str] = &[$(stringify!($warn)),*];
    };
}

corpus_tests! {
    bad: [
        advanced_without_cluster,
        bad_enums,
        bad_env_names,
        choice_values,
        config_bad_endpoint,
        config_bad_globs,
        config_duplicate_projects,
        config_invalid_yaml,
        config_max_deletes,
        config_max_deletes_negative,
        config_project_typo_field,
        config_two_documents,
        config_unknown_field,
        credential_value_forms,
        credential_without_value,
        docker_step_incomplete,
        docs_type_mistakes,
        document_not_mapping,
        duplicate_build_name,
        duplicate_key,
        duplicate_mount_paths,
        duplicate_parameters,
        duplicate_services,
        empty_dir,
        from_env_not_credential,
        invalid_yaml,
        keep_in_template_input,
        leading_zero_number,
        many_problems,
        missing_required,
        names_never_converge,
        negative_values,
        nested_config,
        no_config,
        not_utf8,
        repo_incomplete,
        request_over_limit,
        strict_booleans,
        template_missing_fields,
        template_no_targets,
        template_without_kind,
        undeclared_project,
        unknown_field,
        unknown_kind,
        unquoted_number_value,
        wrong_type,
    ],
    warn: [
        credential_literal,
        empty_file_and_empty_documents,
        ignored_settings,
        remote_name_missing,
        windows_on_kubernetes,
    ],
}

#[test]
fn every_corpus_case_has_a_test() {
    for (kind, listed) in [("bad", BAD), ("warn", WARN)] {
        let mut found: Vec<String> = std::fs::read_dir(root().join("tests/corpus").join(kind))
            .expect("corpus directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut listed: Vec<&str> = listed.to_vec();
        listed.sort_unstable();
        assert_eq!(
            found, listed,
            "tests/corpus/{kind} and the test list differ"
        );
    }
    assert!(
        BAD.len() >= 30,
        "the bad-input corpus has {} cases",
        BAD.len()
    );
}

#[test]
fn examples_are_valid() {
    let r = run(zadig_sync()
        .current_dir(root())
        .args(["validate", "examples"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "Valid: 6 builds in 5 files (2 projects).\n");
}

#[test]
fn quiet_keeps_errors_and_drops_warnings() {
    let r = run(zadig_sync()
        .current_dir(corpus("bad", "many_problems"))
        .args(["validate", ".", "-q"]));
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("error: unknown field `buld_script`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let r = run(zadig_sync()
        .current_dir(corpus("warn", "credential_literal"))
        .args(["validate", "-q"]));
    assert_eq!(r.code, Some(0));
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "Valid: 1 build in 1 file (1 project).\n");
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let r = run(zadig_sync().args(["validate", "/nonexistent/zadig-defs"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("/nonexistent/zadig-defs"), "{}", r.stderr);
}

/// The Zadig docs' own create bodies, converted to YAML, load as the values
/// the docs show.
#[test]
fn the_docs_example_bodies_load() {
    use zadig_sync::core::model::{BuildDef, DockerfileSource, ParamType, ParamValue};

    let result = zadig_sync::cli::fs::load_dir(&corpus("good", "docs-example"))
        .expect("reads")
        .load;
    let errors: Vec<String> = result.errors().map(ToString::to_string).collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(result.builds.len(), 2);
    let def = |name: &str| {
        result
            .builds
            .iter()
            .find(|b| b.def.name() == name)
            .unwrap_or_else(|| panic!("{name} is loaded"))
            .def
            .unpack()
    };
    let BuildDef::Build(b) = &def("api-test") else {
        panic!("create-build.yaml is a plain build");
    };
    assert_eq!(b.name, "api-test");
    assert_eq!(b.project_key, "yaml");
    assert_eq!(b.installs[0].version, "1.20.7");
    assert_eq!(
        b.build_script,
        "#!/bin/bash\nset -e\necho 'hello from api'\ncd $REPONAME_0\nmake build-$SERVICE"
    );
    assert_eq!(b.parameters[0].param_type, ParamType::MultiSelect);
    assert_eq!(b.parameters[0].choice_value, ["a", "b"]);
    assert_eq!(
        b.parameters[1].default_value,
        ParamValue::Literal("abc123".into())
    );
    let step = b.docker_build_step.as_ref().expect("a docker step");
    assert_eq!(step.dockerfile_source, DockerfileSource::Local);
    assert!(step.enable_buildkit);
    let adv = b.advanced_settings.as_ref().expect("advanced settings");
    assert_eq!(adv.strategy_name, "优先调度");
    assert_eq!(adv.resource_spec.memory_limit, 2000);
    assert_eq!(adv.storages.storages_properties[0].subpath, "$PROJECT");
    let BuildDef::Template(t) = &def("demo-build") else {
        panic!("create-build-from-template.yaml is a template build");
    };
    assert_eq!(
        t.target_services[0].inputs[1].value,
        ParamValue::Literal("zadigx".into())
    );

    let r = validate_case("good", "docs-example");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "Valid: 2 builds in 2 files (2 projects).\n");
    snapshot("good", "docs-example", &r.stderr);
}

// ---------------------------------------------------------------------------
// JSON Schemas

#[test]
fn checked_in_schemas_are_up_to_date() {
    let r = run(zadig_sync()
        .current_dir(root())
        .args(["schema", "--check", "--out", "schemas"]));
    assert_eq!(
        r.code,
        Some(0),
        "schemas/ is stale: run `cargo run -- schema` and commit the result\n{}",
        r.stderr
    );
}

#[test]
fn schema_writes_what_check_accepts_and_check_sees_drift() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("s");
    let r = run(zadig_sync().args(["schema", "--out"]).arg(&out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for name in ["zadig-sync.schema.json", "definition.schema.json"] {
        let written = std::fs::read_to_string(out.join(name)).expect("written");
        let checked_in =
            std::fs::read_to_string(root().join("schemas").join(name)).expect("in git");
        assert_eq!(written, checked_in, "{name}");
    }
    let r = run(zadig_sync().args(["schema", "--check", "--out"]).arg(&out));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    std::fs::write(out.join("definition.schema.json"), "{}\n").expect("write");
    std::fs::remove_file(out.join("zadig-sync.schema.json")).expect("remove");
    let r = run(zadig_sync().args(["schema", "--check", "--out"]).arg(&out));
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("definition.schema.json is out of date"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("zadig-sync.schema.json is missing"),
        "{}",
        r.stderr
    );
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas").join(name)).expect("schema file");
    let value: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::meta::validate(&value).expect("a valid draft-07 schema");
    jsonschema::draft7::new(&value).expect("schema compiles")
}

/// Every non-empty YAML document of a file, as JSON.
fn documents(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("readable");
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
    };
    serde_saphyr::from_multiple_with_options(&text, opts).expect("valid YAML")
}

/// The definition files and configs below `dir`: `*.yaml`, without the
/// files the `exclude` of `dir/zadig-sync.yaml` leaves out (CI recipes).
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let exclude = std::fs::read_to_string(dir.join("zadig-sync.yaml"))
        .ok()
        .and_then(|t| serde_saphyr::from_str::<serde_json::Value>(&t).ok())
        .map(|v| {
            let globs: Vec<String> = v["exclude"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect();
            zadig_sync::core::load::exclude_set(&globs)
        })
        .unwrap_or_else(globset::GlobSet::empty);
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("entry").into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/");
            !exclude.is_match(rel)
        })
        .collect();
    files.sort();
    files
}

fn assert_schema_valid(validator: &jsonschema::Validator, path: &Path, doc: &serde_json::Value) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
}

#[test]
fn examples_and_good_corpus_match_the_schemas() {
    let config = schema("zadig-sync.schema.json");
    let definition = schema("definition.schema.json");
    let mut checked = 0;
    for dir in [root().join("examples"), root().join("tests/corpus/good")] {
        for path in yaml_files(&dir) {
            let validator = if path.file_name().is_some_and(|n| n == "zadig-sync.yaml") {
                &config
            } else {
                &definition
            };
            for doc in documents(&path) {
                assert_schema_valid(validator, &path, &doc);
                checked += 1;
            }
        }
    }
    // 6 example builds + their config, 2 docs builds + their config.
    assert_eq!(checked, 10);
}

#[test]
fn the_schemas_reject_what_validate_rejects() {
    let definition = schema("definition.schema.json");
    let config = schema("zadig-sync.schema.json");
    let rejected = [
        ("unknown_field", "api.yaml"),
        ("bad_enums", "builds.yaml"),
        ("docs_type_mistakes", "builds.yaml"),
        ("template_without_kind", "worker.yaml"),
        ("wrong_type", "api.yaml"),
    ];
    for (case, file) in rejected {
        let path = corpus("bad", case).join(file);
        let docs = documents(&path);
        assert!(
            docs.iter().any(|d| !definition.is_valid(d)),
            "{}: the schema accepts every document",
            path.display()
        );
    }
    for case in [
        "config_unknown_field",
        "config_max_deletes",
        "config_project_typo_field",
    ] {
        let path = corpus("bad", case).join("zadig-sync.yaml");
        let docs = documents(&path);
        assert!(!config.is_valid(&docs[0]), "{}", path.display());
    }
}

/// The `# yaml-language-server: $schema=` line of every example names the
/// right schema by a path that exists.
#[test]
fn example_files_point_editors_at_the_schemas() {
    for dir in [root().join("examples"), root().join("tests/corpus/good")] {
        for path in yaml_files(&dir) {
            let text = std::fs::read_to_string(&path).expect("readable");
            let first = text.lines().next().unwrap_or_default();
            let target = first
                .strip_prefix("# yaml-language-server: $schema=")
                .unwrap_or_else(|| panic!("{}: no schema line", path.display()));
            let expected = if path.file_name().is_some_and(|n| n == "zadig-sync.yaml") {
                "zadig-sync.schema.json"
            } else {
                "definition.schema.json"
            };
            assert!(target.ends_with(expected), "{}: {target}", path.display());
            let resolved = path.parent().expect("parent").join(target);
            let resolved = resolved
                .canonicalize()
                .unwrap_or_else(|_| panic!("{}: {target} does not exist", path.display()));
            assert_eq!(
                resolved,
                root()
                    .join("schemas")
                    .join(expected)
                    .canonicalize()
                    .expect("schema")
            );
        }
    }
}
