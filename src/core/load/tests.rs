//! Tests of loading: files, documents, diagnostics, and the property tests.

use super::*;
use crate::core::model::{Infrastructure, ParamValue};

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_owned(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn config() -> SourceFile {
    file(CONFIG_FILE, "projects:\n  - key: demo\n  - key: platform\n")
}

fn load_texts(files: &[(&str, &str)]) -> LoadResult {
    let files: Vec<_> = files.iter().map(|(p, t)| file(p, t)).collect();
    load(Some(&config()), &files)
}

#[test]
fn a_directory_of_alike_builds_packs_small_and_reads_back() {
    let texts: Vec<(String, String)> = (0..300)
        .map(|i| {
            (
                format!("demo/api-{i}.yaml"),
                API.replace("name: api", &format!("name: api-{i}")),
            )
        })
        .collect();
    let files: Vec<_> = texts.iter().map(|(p, t)| file(p, t)).collect();
    let r = load(Some(&config()), &files);
    assert_eq!(r.builds.len(), 300);
    let mut packed = 0;
    for (i, b) in r.builds.iter().enumerate() {
        let alone = load(Some(&config()), &files[i..=i]);
        assert_eq!(b.def.unpack(), alone.builds[0].def.unpack());
        assert_eq!(b.def.name(), format!("api-{i}"));
        packed += b.def.packed_len();
    }
    // Against the directory's dictionary, a fraction of the JSON.
    let json = serde_json::to_vec(&r.builds[0].def.unpack().to_value()).expect("JSON");
    assert!(
        packed / 300 * 4 < json.len(),
        "{} B each, JSON {} B",
        packed / 300,
        json.len()
    );
}

#[test]
fn excluded_files_are_not_read_as_definitions() {
    let cfg = file(
        CONFIG_FILE,
        "projects:\n  - key: demo\nexclude: [\"ci/**\", \"k8s/*.yaml\"]\n",
    );
    let files = [
        file("api.yaml", API),
        file("ci/github/workflow.yml", "on: push\njobs: {}\n"),
        file("k8s/cronjob.yaml", "apiVersion: batch/v1\nkind: CronJob\n"),
        // `*` stays within one directory.
        file("k8s/deep/x.yaml", "kind: Nope\n"),
    ];
    let r = load(Some(&cfg), &files);
    let errors: Vec<&str> = r.errors().map(|d| d.file.as_str()).collect();
    assert_eq!(errors, ["k8s/deep/x.yaml"], "{:?}", lines(&r));
    assert_eq!(r.builds.len(), 1);
    assert_eq!(r.config.exclude, ["ci/**", "k8s/*.yaml"]);
    let bad = file(
        CONFIG_FILE,
        "projects:\n  - key: demo\nexclude: [\"a[\", \"\"]\n",
    );
    let r = load(Some(&bad), &[file("api.yaml", API)]);
    let msgs: Vec<String> = r.errors().map(|d| d.message.clone()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("invalid exclude pattern `a[`"))
            && msgs.iter().any(|m| m == "empty exclude pattern"),
        "{msgs:?}"
    );
}

/// `file:line:col: severity: message` of every diagnostic.
fn lines(r: &LoadResult) -> Vec<String> {
    r.diagnostics
        .iter()
        .map(|d| format!("{}: {}: {}", d.location(), d.severity, d.message))
        .collect()
}

const API: &str = "\
# a comment
name: api
project_key: demo
infrastructure: kubernetes
build_os: ubuntu 20.04
installs:
  - name: go
    version: 1.20
script_type: shell
build_script: |
  cd $REPONAME_0 && make ${TARGET} GOFLAGS=\"$GOFLAGS\"
parameters:
  - key: MODE
    default_value: 0755
  - key: ON
    default_value: yes
";

#[test]
fn loads_a_build_and_keeps_scalars_as_written() {
    let r = load_texts(&[("demo/api.yaml", API)]);
    assert_eq!(lines(&r), Vec::<String>::new());
    assert_eq!(r.builds.len(), 1);
    let BuildDef::Build(b) = &r.builds[0].def.unpack() else {
        panic!("a plain build")
    };
    assert_eq!(b.kind, None);
    assert_eq!(b.infrastructure, Infrastructure::Kubernetes);
    // No float, no octal, no YAML 1.1 boolean, no interpolation.
    assert_eq!(b.installs[0].version, "1.20");
    assert_eq!(
        b.parameters[0].default_value,
        ParamValue::Literal("0755".into())
    );
    assert_eq!(
        b.parameters[1].default_value,
        ParamValue::Literal("yes".into())
    );
    assert_eq!(
        b.build_script,
        "cd $REPONAME_0 && make ${TARGET} GOFLAGS=\"$GOFLAGS\"\n"
    );
    assert_eq!(
        r.builds[0].origin,
        Origin {
            file: "demo/api.yaml".into(),
            line: 2,
            column: 7,
            document: 0
        }
    );
}

#[test]
fn multiple_documents_each_load_and_report() {
    let text = "\
name: one
project_key: demo
infrastructure: vm
build_os: x
script_type: shell
---
# second: a typo stops only this document
name: two
project_key: demo
infrastructure: vm
build_os: x
script_type: shell
buld_script: oops
---
---
kind: TemplateBuild
name: three
project_key: nowhere
template_name: tpl
target_services:
  - service_name: s
    service_module: m
";
    let r = load_texts(&[("a.yaml", text)]);
    assert_eq!(
        lines(&r),
        [
            "a.yaml:13:1: error: unknown field `buld_script`",
            "a.yaml:18:14: error: project `nowhere` is not declared in zadig-sync.yaml",
        ]
    );
    let names: Vec<_> = r.builds.iter().map(|b| b.def.name()).collect();
    assert_eq!(names, ["one", "three"]);
    // Empty documents count: `three` is the fourth.
    assert_eq!(r.builds[1].origin.document, 3);
    assert_eq!(r.builds[1].def.kind(), Kind::TemplateBuild);
    let BuildDef::Template(t) = &r.builds[1].def.unpack() else {
        panic!("a template build")
    };
    assert_eq!(t.kind, None);
    assert!(r.has_errors());
    assert_eq!(r.errors().count(), 2);
    assert_eq!(r.warnings().count(), 0);
}

#[test]
fn syntax_errors_are_reported_and_the_next_document_still_loads() {
    let text = "name: [broken\n---\nname: ok\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n";
    let r = load_texts(&[("a.yaml", text)]);
    assert_eq!(
        lines(&r),
        ["a.yaml:1:7: error: invalid YAML: unclosed bracket '['"]
    );
    assert_eq!(r.builds.len(), 1);
    assert_eq!(r.builds[0].origin.line, 3);
}

#[test]
fn positions_count_characters_and_survive_crlf_and_a_bom() {
    let text = "\u{feff}name: \"é/x\"\r\nproject_key: demo\r\ninfrastructure: vm\r\nbuild_os: x\r\nscript_type: shell\r\n";
    let r = load_texts(&[("a.yaml", text)]);
    assert_eq!(
        lines(&r),
        ["a.yaml:1:7: error: build name `é/x` contains `/`"]
    );
    let d = &r.diagnostics[0];
    let span = d.span.clone().expect("a span");
    assert_eq!(&text[span], "\"é/x\"");
    let text = "name: ok\r\nproject_key: demo\r\nlables: 1\r\n";
    let r = load_texts(&[("b.yaml", text)]);
    assert_eq!(r.diagnostics[0].location(), "b.yaml:3:1");
}

#[test]
fn kind_can_come_from_a_merge_key() {
    let text = "<<: {kind: TemplateBuild, project_key: demo}\nname: t\ntemplate_name: tpl\ntarget_services: [{service_name: s, service_module: m}]\n";
    let r = load_texts(&[("a.yaml", text)]);
    assert_eq!(lines(&r), Vec::<String>::new());
    assert_eq!(r.builds[0].def.kind(), Kind::TemplateBuild);
    assert_eq!(r.builds[0].def.project_key(), "demo");
}

#[test]
fn build_names_are_unique_across_files_and_projects() {
    let a = "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n";
    let b = a.replace("demo", "platform");
    let r = load_texts(&[("a.yaml", a), ("b/b.yaml", &b)]);
    assert_eq!(
        lines(&r),
        ["b/b.yaml:1:7: error: build `api` is defined twice (first at a.yaml:1:7)"]
    );
    assert_eq!(r.diagnostics[0].span, Some(6..9));
    // Both stay loaded: the error is the caller's reason to stop.
    assert_eq!(r.builds.len(), 2);
}

#[test]
fn large_directories_load_in_file_order_and_check_names_across_runs() {
    // Enough files for several threads: results must not depend on them.
    let files: Vec<SourceFile> = (0..1500)
            .map(|i| {
                // The last file repeats the first name: a cross-run duplicate.
                let name = if i == 1499 { 0 } else { i };
                let typo = if i % 500 == 7 { "buld_os: x\n" } else { "" };
                file(
                    &format!("f{i:04}.yaml"),
                    &format!("name: b{name}\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n{typo}"),
                )
            })
            .collect();
    let r = load(Some(&config()), &files);
    let names: Vec<&str> = r.builds.iter().map(|b| b.def.name()).collect();
    let expected: Vec<String> = (0..1500)
        .filter(|i| i % 500 != 7)
        .map(|i| format!("b{}", if i == 1499 { 0 } else { i }))
        .collect();
    assert_eq!(names, expected);
    assert_eq!(
        lines(&r),
        [
            "f0007.yaml:6:1: error: unknown field `buld_os`",
            "f0507.yaml:6:1: error: unknown field `buld_os`",
            "f1007.yaml:6:1: error: unknown field `buld_os`",
            "f1499.yaml:1:7: error: build `b0` is defined twice (first at f0000.yaml:1:7)",
        ]
    );
}

#[test]
fn a_missing_or_broken_config_is_an_error_but_files_are_still_checked() {
    let api = file(
        "a.yaml",
        "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shel\n",
    );
    let r = load(None, std::slice::from_ref(&api));
    assert_eq!(
        lines(&r),
        [
            "a.yaml:5:14: error: unknown value `shel` for `script_type`",
            "zadig-sync.yaml: error: no zadig-sync.yaml in the directory",
        ]
    );
    let yml = file("zadig-sync.yml", "projects: []\n");
    let r = load(None, &[yml]);
    assert_eq!(r.diagnostics.len(), 2, "{:?}", lines(&r));
    assert_eq!(
        r.diagnostics[1].hint.as_deref(),
        Some("rename zadig-sync.yml to zadig-sync.yaml")
    );
    // A broken config: its error, and no "undeclared project" noise.
    let bad = file(CONFIG_FILE, "projects: {demo: 1}\n");
    let ok = file(
        "a.yaml",
        "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n",
    );
    let r = load(Some(&bad), &[ok]);
    assert_eq!(
        lines(&r),
        ["zadig-sync.yaml:1:11: error: expected a list, found a mapping for `projects`"]
    );
}

#[test]
fn an_empty_directory_is_an_error() {
    let r = load(Some(&config()), &[]);
    assert_eq!(lines(&r), [": error: no definition files in the directory"]);
    assert_eq!((r.diagnostics[0].line, r.diagnostics[0].column), (0, 0));
    let r = load_texts(&[("a.yaml", "# nothing\n---\n~\n")]);
    assert_eq!(
        lines(&r),
        [
            ": error: no build definitions in the directory",
            "a.yaml:1:1: warning: the file defines no builds",
        ]
    );
}

#[test]
fn an_empty_config_is_valid_but_manages_nothing() {
    let r = load(
        Some(&file(CONFIG_FILE, "# nothing yet\n")),
        &[file("a.yaml", API)],
    );
    assert_eq!(
        lines(&r),
        [
            "a.yaml:3:14: error: project `demo` is not declared in zadig-sync.yaml",
            "zadig-sync.yaml:1:1: warning: no projects are declared",
        ]
    );
    assert_eq!(r.config, Config::default());
}

#[test]
fn not_utf8_is_located() {
    let mut bytes = b"name: api\nbuild_script: caf".to_vec();
    bytes.push(0xe9);
    let f = SourceFile {
        path: "a.yaml".into(),
        bytes,
    };
    let r = load(Some(&config()), &[f]);
    assert_eq!(
        lines(&r),
        [
            ": error: no build definitions in the directory",
            "a.yaml:2:18: error: the file is not valid UTF-8"
        ]
        .map(String::from)
        .into_iter()
        .filter(|l| !l.starts_with(':'))
        .collect::<Vec<_>>()
    );
}

#[test]
fn semantic_findings_point_at_the_offending_value() {
    let text = "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\nparameters:\n  - key: TOKEN\n    is_credential: true\n    default_value: hunter2\n  - {key: bad-key}\n";
    let r = load_texts(&[("a.yaml", text)]);
    assert_eq!(
        lines(&r),
        [
            "a.yaml:9:20: warning: credential `TOKEN` is written in the file",
            "a.yaml:10:11: error: parameter key `bad-key` is not a valid variable name",
        ]
    );
    let spans: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| &text[d.span.clone().expect("span")])
        .collect();
    assert_eq!(spans, ["hunter2", "bad-key"]);
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let deep = format!("name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let r = load_texts(&[("a.yaml", &deep)]);
    assert!(r.has_errors());
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let r = load_texts(&[("b.yaml", bomb)]);
    assert!(r.has_errors());
}

mod props {
    use super::*;
    use crate::core::model::{
        AdvancedSettings, BuildSpec, CacheSetting, DockerBuildStep, DockerfileSource, Input,
        Install, KeyValue, ParamType, Parameter, RepoInfo, ResourceSpec, ScriptType, ServiceModule,
        StorageProperty, Storages, TargetService,
    };
    use proptest::prelude::*;

    /// Strings YAML likes to reinterpret, plus arbitrary printable text.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            prop::sample::select(vec![
                "yes",
                "No",
                "on",
                "off",
                "true",
                "~",
                "null",
                "0755",
                "1.20",
                "1e3",
                "0x1F",
                ".inf",
                "-",
                "- x",
                "a: b",
                "#c",
                "a #c",
                "'q'",
                "\"dq\"",
                "$VAR ${X}",
                "é ü 中",
                " lead",
                "trail ",
                "multi\nline\n",
                "no newline\nat end",
                "tab\there",
                "---",
                "...",
                "*a",
                "&a",
                "!tag",
                "@x",
                "`x`",
                "%x",
                "{a}",
                "[a]",
                ">",
                "|",
                "\\",
                "\u{feff}x",
            ])
            .prop_map(str::to_owned),
            "\\PC{0,12}",
            "[ -~]{0,12}",
        ]
    }

    fn value() -> impl Strategy<Value = ParamValue> {
        prop_oneof![
            text().prop_map(ParamValue::Literal),
            "[A-Z_][A-Z0-9_]{0,8}".prop_map(ParamValue::FromEnv),
            Just(ParamValue::Keep),
        ]
    }

    fn param_type() -> impl Strategy<Value = ParamType> {
        prop::sample::select(vec![
            ParamType::String,
            ParamType::Choice,
            ParamType::MultiSelect,
            ParamType::Image,
            ParamType::Script,
            ParamType::File,
        ])
    }

    fn repo() -> impl Strategy<Value = RepoInfo> {
        (
            text(),
            text(),
            text(),
            text(),
            any::<bool>(),
            any::<i64>(),
            prop::collection::vec(any::<i64>(), 0..3),
        )
            .prop_map(
                |(codehost_name, repo_namespace, repo_name, branch, submodules, pr, prs)| {
                    RepoInfo {
                        codehost_name,
                        repo_namespace,
                        repo_name,
                        branch,
                        remote_name: "origin".into(),
                        submodules,
                        pr,
                        prs,
                        ..RepoInfo::default()
                    }
                },
            )
    }

    fn parameter() -> impl Strategy<Value = Parameter> {
        (
            text(),
            param_type(),
            value(),
            prop::collection::vec(text(), 0..3),
            any::<bool>(),
            text(),
        )
            .prop_map(
                |(key, param_type, default_value, choices, is_credential, description)| Parameter {
                    key,
                    param_type,
                    default_value,
                    choice_option: choices.clone(),
                    choice_value: choices,
                    is_credential,
                    description,
                },
            )
    }

    fn advanced() -> impl Strategy<Value = AdvancedSettings> {
        (
            text(),
            any::<i64>(),
            any::<(i64, i64, i64, i64)>(),
            any::<bool>(),
            text(),
            text(),
        )
            .prop_map(|(cluster_name, timeout, (a, b, c, d), flag, s, key)| {
                AdvancedSettings {
                    timeout,
                    cluster_name,
                    strategy_name: s.clone(),
                    resource_spec: ResourceSpec {
                        cpu_limit: a,
                        memory_limit: b,
                        cpu_req: c,
                        memory_req: d,
                        gpu_limit: s.clone(),
                    },
                    cache_setting: CacheSetting {
                        enabled: flag,
                        cache_dir: s.clone(),
                        dir_type: None,
                    },
                    storages: Storages {
                        enabled: flag,
                        storages_properties: vec![StorageProperty {
                            provision_type: s.clone(),
                            storage_size_in_gib: a,
                            mount_path: s.clone(),
                            is_temporary: flag,
                            ..StorageProperty::default()
                        }],
                    },
                    use_host_docker_daemon: flag,
                    privileged_mode: !flag,
                    custom_annotations: vec![KeyValue {
                        key: key.clone(),
                        value: s.clone(),
                    }],
                    custom_labels: vec![],
                    outputs: vec![key, s],
                }
            })
    }

    fn plain() -> impl Strategy<Value = BuildSpec> {
        (
            (text(), text(), any::<bool>(), text(), text()),
            prop::collection::vec((text(), text()), 0..3),
            prop::collection::vec(repo(), 0..2),
            prop::collection::vec(parameter(), 0..3),
            prop::option::of((any::<bool>(), text(), any::<bool>())),
            prop::option::of(advanced()),
            prop::sample::select(vec![
                ScriptType::Shell,
                ScriptType::BatchFile,
                ScriptType::Powershell,
            ]),
        )
            .prop_map(
                |(
                    (name, project_key, vm, build_os, build_script),
                    installs,
                    repo_info,
                    parameters,
                    docker,
                    advanced_settings,
                    script_type,
                )| BuildSpec {
                    kind: None,
                    name,
                    project_key,
                    infrastructure: if vm {
                        Infrastructure::Vm
                    } else {
                        Infrastructure::Kubernetes
                    },
                    build_os,
                    installs: installs
                        .into_iter()
                        .map(|(name, version)| Install { name, version })
                        .collect(),
                    script_type,
                    build_script,
                    repo_info,
                    parameters,
                    services: vec![ServiceModule {
                        service_name: "s".into(),
                        service_module: "m".into(),
                    }],
                    docker_build_step: docker.map(|(local, path, buildkit)| DockerBuildStep {
                        dockerfile_source: if local {
                            DockerfileSource::Local
                        } else {
                            DockerfileSource::Template
                        },
                        build_context_dir: path.clone(),
                        dockerfile_directory: path.clone(),
                        template_name: path.clone(),
                        build_args: path.clone(),
                        enable_buildkit: buildkit,
                        platforms: path,
                    }),
                    advanced_settings,
                },
            )
    }

    fn template() -> impl Strategy<Value = TemplateBuildSpec> {
        (
            text(),
            text(),
            prop::collection::vec(
                (
                    text(),
                    text(),
                    prop::collection::vec(repo(), 0..2),
                    prop::collection::vec(
                        (
                            text(),
                            value(),
                            prop::option::of(param_type()),
                            any::<bool>(),
                        ),
                        0..3,
                    ),
                ),
                0..3,
            ),
        )
            .prop_map(|(name, template_name, targets)| TemplateBuildSpec {
                kind: None,
                name,
                project_key: "demo".into(),
                template_name,
                target_services: targets
                    .into_iter()
                    .map(
                        |(service_name, service_module, repo_info, inputs)| TargetService {
                            service_name,
                            service_module,
                            repo_info,
                            inputs: inputs
                                .into_iter()
                                .map(|(key, value, input_type, is_credential)| Input {
                                    key,
                                    value,
                                    input_type,
                                    is_credential,
                                })
                                .collect(),
                        },
                    )
                    .collect(),
            })
    }

    fn to_yaml(def: &BuildDef) -> String {
        match def {
            BuildDef::Build(b) => serde_saphyr::to_string(b).expect("serialises"),
            BuildDef::Template(t) => format!(
                "kind: TemplateBuild\n{}",
                serde_saphyr::to_string(t).expect("serialises")
            ),
        }
    }

    fn round_trip(def: BuildDef) -> Result<(), TestCaseError> {
        let yaml = to_yaml(&def);
        fast::agree(&yaml);
        let r = load(Some(&config()), &[file("a.yaml", &yaml)]);
        // Semantic findings do not matter here; loading does.
        // (Through the packed form: it must read back exactly.)
        let loaded: Vec<_> = r.builds.iter().map(|b| b.def.unpack()).collect();
        prop_assert_eq!(loaded, vec![def], "{}\n{:#?}", yaml, r.diagnostics);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let f = SourceFile { path: "a.yaml".into(), bytes: bytes.clone() };
            let c = SourceFile { path: CONFIG_FILE.into(), bytes };
            let _ = load(Some(&c), &[f]);
        }

        #[test]
        fn yaml_like_text_never_panics(
            parts in prop::collection::vec(prop::sample::select(vec![
                "name", "kind", "TemplateBuild", "parameters", "advanced_settings", "key", ":",
                " ", "\n", "  ", "- ", "---\n", "...\n", "[", "]", "{", "}", ",", "&a ", "*a",
                "<<: ", "\"", "'", "#", "|", ">", "!!str ", "~", "é", "\t", "\r\n", "\u{feff}",
            ]), 0..80)
        ) {
            let text: String = parts.concat();
            fast::agree(&text);
            let _ = load(Some(&config()), &[file("a.yaml", &text)]);
            let _ = load(Some(&file(CONFIG_FILE, &text)), &[file("a.yaml", API)]);
        }

        #[test]
        fn plain_builds_survive_a_yaml_round_trip(b in plain()) {
            round_trip(BuildDef::Build(b))?;
        }

        #[test]
        fn template_builds_survive_a_yaml_round_trip(t in template()) {
            round_trip(BuildDef::Template(t))?;
        }

        /// The tree pass reads what serde-saphyr reads, also where a
        /// value turns into something YAML reinterprets.
        #[test]
        fn the_tree_pass_agrees_with_serde_saphyr_on_mutated_documents(
            b in plain(),
            t in template(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![
                "~", "", "null", "\"\"", "true", "False", "yes", "0", "0755", "-1", "+1",
                "1.5", ".inf", "1e3", "0x10", "x", "'x'", "[]", "[x, 1]", "{}", "{from_env: X}",
                "{keep: true}", "{keep: false}", "!!str 1", "!!int 1", "&a x", "*a", "|\n  x",
                "<<: {}", "é", "x: y", "- x",
            ])), 1..4),
        ) {
            for def in [BuildDef::Build(b), BuildDef::Template(t)] {
                let yaml = to_yaml(&def);
                let mut lines: Vec<String> = yaml.lines().map(str::to_owned).collect();
                for (at, value) in &edits {
                    let n = at.index(lines.len());
                    let line = &mut lines[n];
                    if let Some(colon) = line.find(": ") {
                        line.truncate(colon + 2);
                        line.push_str(value);
                    } else {
                        line.push_str(value);
                    }
                }
                fast::agree(&(lines.join("\n") + "\n"));
            }
        }
    }
}
