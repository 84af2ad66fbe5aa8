//! The preserving write (build-api-ui-made.md §9): the stored model the plan
//! read, changed exactly where the definition says something, for the UI's
//! own update (`PUT /api/aslan/build/build`). Every field the definition does
//! not express stays as it was read, byte for byte (as JSON values): the
//! post-build script, object storage, VM labels, script / image / file
//! variable details, hidden repositories, descriptions, fields this tool has
//! never heard of.
//!
//! The expressed fields are converted the way the OpenAPI create converts
//! them (`generateBuildModuleFromOpenAPIRequest` in
//! `build/service/openapi.go`): names to ids (basic image by label, cluster,
//! strategy, code host, dockerfile template), the resource preset
//! (`FindResourceRequestType`), the cache directory type. A field whose
//! stored meaning already equals the definition's is left untouched, so a
//! stale `res_req_spec` under a preset, say, is not rewritten for nothing.
//!
//! Read in koderover/zadig at 18278c716: `generateBuildModuleFromOpenAPIRequest`
//! (`pkg/microservice/aslan/core/build/service/openapi.go`: strategy by name
//! without `break`, `FindResourceRequestType`, `user_defined` cache, the two
//! hard-coded koderover labels), `UpdateBuildModule`
//! (`build/handler/build.go`: bind, then `Build.Edit`) and `UpdateBuild`
//! (`build/service/build.go`: `CheckDefineResourceParam`, `EnsureSecretEnvs`,
//! `correctFields`, a `$set`).
//!
//! Pure: no network. The emulator has its own, independent server side of
//! this write, so a contract test can catch a mistake in either.

use serde_json::{Map, Value, json};

use super::catalog::Catalog;
use super::model::{
    AdvancedSettings, BuildSpec, CacheDirType, DockerfileSource, MASK, ParamType, ParamValue,
    Parameter, RepoInfo,
};
use super::normalize::{default_advanced_settings, effective_resources, resource_request_type};

/// Why the body could not be made: a name of the definition that this run
/// could not turn into an id (the words are `render::notice::preserve_error`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum PreserveError {
    /// The stored model as read is not a JSON object.
    NotAnObject,
    /// No basic image has this label.
    NoImage {
        /// The `build_os` label.
        label: String,
    },
    /// No cluster has this name.
    NoCluster {
        /// The cluster name.
        name: String,
    },
    /// No dockerfile template has this name.
    NoDockerfileTemplate {
        /// The template name.
        name: String,
    },
    /// No code host has this alias.
    NoCodeHost {
        /// The `codehost_name`.
        alias: String,
    },
}

impl PreserveError {
    /// Every code (`cause.reason` of `preserving_write_unavailable`), in
    /// declaration order.
    pub const CODES: &'static [&'static str] = &[
        "not_an_object",
        "no_image",
        "no_cluster",
        "no_dockerfile_template",
        "no_code_host",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PreserveError::NotAnObject => "not_an_object",
            PreserveError::NoImage { .. } => "no_image",
            PreserveError::NoCluster { .. } => "no_cluster",
            PreserveError::NoDockerfileTemplate { .. } => "no_dockerfile_template",
            PreserveError::NoCodeHost { .. } => "no_code_host",
        }
    }
}

/// Labels aslan hard-codes as koderover images (`openapi.go`); any other
/// label is a custom image whose `build_os` is the image's value.
const KODEROVER_LABELS: &[&str] = &["ubuntu 18.04", "ubuntu 20.04"];

/// The body of `PUT /api/aslan/build/build`: `stored` (the stored model as
/// read) with the fields `def` expresses set from it. `def` is the wire body:
/// `{keep: true}` already turned into `********` (which Zadig's
/// `EnsureSecretEnvs` turns back into the stored value), `{from_env}`
/// resolved.
pub fn preserving_body(
    stored: &Value,
    def: &BuildSpec,
    catalog: &Catalog,
) -> Result<Value, PreserveError> {
    let Value::Object(src) = stored else {
        return Err(PreserveError::NotAnObject);
    };
    let mut m = src.clone();
    // What the read computed and the write does not take.
    m.remove("target_repos");
    set(&mut m, "template_id", json!(""));
    set(&mut m, "infrastructure", json!(infra(def)));
    set(&mut m, "script_type", json!(script_type(def)));
    set(&mut m, "scripts", json!(def.build_script));

    let defaults = default_advanced_settings(catalog);
    let adv: &AdvancedSettings = def.advanced_settings.as_ref().unwrap_or(&defaults);
    set(&mut m, "timeout", json!(adv.timeout));

    let mut pre = match m.remove("pre_build") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    // Basic image by label (§5.8).
    let image = catalog
        .images
        .iter()
        .find(|i| i.label == def.build_os)
        .ok_or_else(|| PreserveError::NoImage {
            label: def.build_os.clone(),
        })?;
    set(&mut pre, "image_id", json!(image.id));
    if KODEROVER_LABELS.contains(&def.build_os.as_str()) {
        set(&mut pre, "image_from", json!("koderover"));
        set(&mut pre, "build_os", json!(def.build_os));
    } else {
        set(&mut pre, "image_from", json!("custom"));
        set(&mut pre, "build_os", json!(image.value));
    }
    let installs = merge_list(
        pre.get("installs"),
        def.installs
            .iter()
            .map(|i| json!({"name": i.name, "version": i.version})),
        |old, new| old.get("name") == new.get("name") && old.get("version") == new.get("version"),
        |_, new| new,
    );
    set(&mut pre, "installs", installs);
    let envs = params(pre.get("envs"), &def.parameters);
    set(&mut pre, "envs", envs);

    // Cluster and strategy by name; absent settings: the local cluster and
    // its default strategy, as the OpenAPI create does.
    let cluster =
        catalog
            .cluster_by_name(&adv.cluster_name)
            .ok_or_else(|| PreserveError::NoCluster {
                name: adv.cluster_name.clone(),
            })?;
    set(&mut pre, "cluster_id", json!(cluster.id));
    let strategies = cluster.strategies.as_deref().unwrap_or_default();
    let strategy_id = if def.advanced_settings.is_some() {
        // No `break` in Go: the last strategy of that name wins; none is "".
        strategies
            .iter()
            .rev()
            .find(|s| !adv.strategy_name.is_empty() && s.name == adv.strategy_name)
            .map(|s| s.id.clone())
            .unwrap_or_default()
    } else {
        strategies
            .iter()
            .rev()
            .find(|s| s.default)
            .map(|s| s.id.clone())
            .unwrap_or_default()
    };
    let stored_strategy = pre.get("strategy_id").and_then(Value::as_str).unwrap_or("");
    let default_id = strategies
        .iter()
        .rev()
        .find(|s| s.default)
        .map(|s| s.id.as_str());
    // "" already means the default on Kubernetes (the read and the run fill
    // it in, one-read §2.3): keep it when the default is wanted.
    let kubernetes = def.infrastructure == super::model::Infrastructure::Kubernetes;
    let same_strategy = stored_strategy == strategy_id
        || (kubernetes
            && ((stored_strategy.is_empty() && Some(strategy_id.as_str()) == default_id)
                || (strategy_id.is_empty() && Some(stored_strategy) == default_id)));
    if !same_strategy {
        set(&mut pre, "strategy_id", json!(strategy_id));
    }

    // Resources: only when what runs changes (§1).
    let wanted = if def.advanced_settings.is_some() {
        adv.resource_spec.clone()
    } else {
        effective_resources("low", &Default::default())
    };
    let stored_req = pre.get("res_req").and_then(Value::as_str).unwrap_or("");
    let stored_spec = pre
        .get("res_req_spec")
        .cloned()
        .and_then(|v| serde_json::from_value::<super::model::ResourceSpec>(v).ok())
        .unwrap_or_default();
    if effective_resources(stored_req, &stored_spec) != wanted || stored_req.is_empty() {
        let (req, spec) = if def.advanced_settings.is_some() {
            (resource_request_type(&wanted), wanted.clone())
        } else {
            // What the OpenAPI create stores without advanced settings.
            (
                "low",
                super::model::ResourceSpec {
                    cpu_limit: 1000,
                    memory_limit: 512,
                    ..Default::default()
                },
            )
        };
        set(&mut pre, "res_req", json!(req));
        set(
            &mut pre,
            "res_req_spec",
            json!({
                "cpu_limit": spec.cpu_limit,
                "memory_limit": spec.memory_limit,
                "cpu_req": spec.cpu_req,
                "memory_req": spec.memory_req,
                "gpu_limit": spec.gpu_limit,
            }),
        );
    }
    set(
        &mut pre,
        "use_host_docker_daemon",
        json!(adv.use_host_docker_daemon),
    );
    // Storages: the definition's view is {enabled, volumes}; keep the stored
    // object when it means the same.
    let stored_storages = pre
        .get("storages")
        .cloned()
        .and_then(|v| serde_json::from_value::<super::model::Storages>(v).ok())
        .unwrap_or_default();
    if stored_storages != adv.storages {
        set(
            &mut pre,
            "storages",
            json!({
                "enabled": adv.storages.enabled,
                "storages_properties": adv.storages.storages_properties.iter().map(|p| json!({
                    "provision_type": p.provision_type,
                    "storage_class": p.storage_class,
                    "storage_size_in_gib": p.storage_size_in_gib,
                    "pvc": p.pvc,
                    "access_mode": p.access_mode,
                    "subpath": p.subpath,
                    "mount_path": p.mount_path,
                    "is_temporary": p.is_temporary,
                })).collect::<Vec<_>>(),
            }),
        );
    }
    for (key, kvs) in [
        ("custom_annotations", &adv.custom_annotations),
        ("custom_labels", &adv.custom_labels),
    ] {
        let same = pre.get(key).and_then(Value::as_array).is_some_and(|a| {
            a.len() == kvs.len()
                && a.iter().zip(kvs.iter()).all(|(o, kv)| {
                    o.get("key").and_then(Value::as_str) == Some(kv.key.as_str())
                        && value_text(o.get("value")) == kv.value
                })
        }) || (kvs.is_empty() && pre.get(key).is_none_or(Value::is_null));
        if !same {
            set(
                &mut pre,
                key,
                Value::Array(
                    kvs.iter()
                        .map(|kv| json!({"key": kv.key, "value": kv.value}))
                        .collect(),
                ),
            );
        }
    }
    m.insert("pre_build".into(), Value::Object(pre));

    // Cache (§2): the mode is expressed; a directory under `workspace` and
    // both under a disabled cache are kept.
    let cache = &adv.cache_setting;
    set(&mut m, "cache_enable", json!(cache.enabled));
    if cache.enabled {
        match cache.dir_type.unwrap_or(CacheDirType::UserDefined) {
            CacheDirType::Workspace => set(&mut m, "cache_dir_type", json!("workspace")),
            CacheDirType::UserDefined => {
                set(&mut m, "cache_dir_type", json!("user_defined"));
                set(&mut m, "cache_user_dir", json!(cache.cache_dir));
            }
        }
    }
    set(&mut m, "enable_privileged_mode", json!(adv.privileged_mode));
    // Outputs: Zadig's IMAGE and PKG_FILE first, descriptions kept by name.
    let outputs = merge_list(
        m.get("outputs"),
        ["IMAGE", "PKG_FILE"]
            .into_iter()
            .map(str::to_owned)
            .chain(adv.outputs.iter().cloned())
            .map(|n| json!({"name": n, "description": ""})),
        |old, new| old.get("name") == new.get("name"),
        |old, _| old.clone(),
    );
    set(&mut m, "outputs", outputs);

    let repos = repos(m.get("repos"), &def.repo_info, catalog)?;
    set(&mut m, "repos", repos);
    let project = m
        .get("product_name")
        .and_then(Value::as_str)
        .unwrap_or(&def.project_key)
        .to_owned();
    let targets = merge_list(
        m.get("targets"),
        def.services.iter().map(|s| {
            json!({
                "product_name": project,
                "service_name": s.service_name,
                "service_module": s.service_module,
                "build_name": "",
                "envs": [],
            })
        }),
        |old, new| {
            old.get("service_name") == new.get("service_name")
                && old.get("service_module") == new.get("service_module")
        },
        |old, _| old.clone(),
    );
    set(&mut m, "targets", targets);

    let mut post = match m.remove("post_build") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    match &def.docker_build_step {
        None => set(&mut post, "docker_build", Value::Null),
        Some(step) => {
            let mut d = match post.remove("docker_build") {
                Some(Value::Object(d)) => d,
                _ => Map::new(),
            };
            set(&mut d, "work_dir", json!(step.build_context_dir));
            set(&mut d, "build_args", json!(step.build_args));
            set(&mut d, "enable_buildkit", json!(step.enable_buildkit));
            set(&mut d, "platform", json!(step.platforms));
            match step.dockerfile_source {
                DockerfileSource::Local => {
                    set(&mut d, "source", json!("local"));
                    set(&mut d, "docker_file", json!(step.dockerfile_directory));
                    set(&mut d, "template_id", json!(""));
                    set(&mut d, "template_name", json!(""));
                }
                DockerfileSource::Template => {
                    let t = catalog
                        .dockerfile_templates
                        .iter()
                        .find(|t| t.name == step.template_name)
                        .ok_or_else(|| PreserveError::NoDockerfileTemplate {
                            name: step.template_name.clone(),
                        })?;
                    set(&mut d, "source", json!("template"));
                    set(&mut d, "docker_file", json!(""));
                    set(&mut d, "template_id", json!(t.id));
                    set(&mut d, "template_name", json!(t.name));
                }
            }
            post.insert("docker_build".into(), Value::Object(d));
        }
    }
    m.insert("post_build".into(), Value::Object(post));
    Ok(Value::Object(m))
}

/// The stored model with the cache covering the workspace: what follows an
/// OpenAPI create of a definition with `dir_type: workspace` (the create
/// can only store `user_defined`, §2).
pub fn with_workspace_cache(stored: &Value) -> Value {
    let mut v = stored.clone();
    if let Value::Object(m) = &mut v {
        m.remove("target_repos");
        set(m, "cache_enable", json!(true));
        set(m, "cache_dir_type", json!("workspace"));
    }
    v
}

/// Whether a definition asks for a workspace cache.
pub fn wants_workspace_cache(def: &BuildSpec) -> bool {
    def.advanced_settings.as_ref().is_some_and(|a| {
        a.cache_setting.enabled && a.cache_setting.dir_type == Some(CacheDirType::Workspace)
    })
}

/// Sets a key only when its value differs (so an equal value keeps its
/// exact stored form, e.g. a missing key stays missing when `null`).
fn set(m: &mut Map<String, Value>, key: &str, v: Value) {
    if m.get(key) != Some(&v) {
        m.insert(key.to_owned(), v);
    }
}

/// Sets a value that may be empty: an empty one leaves a stored empty form
/// (missing, `null`, `""`, `0`, `[]`) as it is.
fn set_or_empty(m: &mut Map<String, Value>, key: &str, v: Value, empty: bool) {
    let stored_empty = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    if !(empty && stored_empty) {
        set(m, key, v);
    }
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

fn infra(def: &BuildSpec) -> &'static str {
    match def.infrastructure {
        super::model::Infrastructure::Kubernetes => "kubernetes",
        super::model::Infrastructure::Vm => "vm",
    }
}

fn script_type(def: &BuildSpec) -> &'static str {
    match def.script_type {
        super::model::ScriptType::Shell => "shell",
        super::model::ScriptType::BatchFile => "batch_file",
        super::model::ScriptType::Powershell => "powershell",
    }
}

fn param_type(t: ParamType) -> &'static str {
    match t {
        ParamType::String => "string",
        ParamType::Choice => "choice",
        ParamType::MultiSelect => "multi-select",
        ParamType::Image => "image",
        ParamType::Script => "script",
        ParamType::File => "file",
    }
}

/// The new list in the definition's order: each entry merged into the first
/// unused stored entry that `same` matches (with `merge`), or new.
fn merge_list(
    stored: Option<&Value>,
    wanted: impl Iterator<Item = Value>,
    same: impl Fn(&Value, &Value) -> bool,
    merge: impl Fn(&Value, Value) -> Value,
) -> Value {
    let old: &[Value] = stored.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let mut used = vec![false; old.len()];
    let mut out = Vec::new();
    for w in wanted {
        match (0..old.len()).find(|&i| !used[i] && same(&old[i], &w)) {
            Some(i) => {
                used[i] = true;
                out.push(merge(&old[i], w));
            }
            None => out.push(w),
        }
    }
    Value::Array(out)
}

/// Parameters: the definition's list, each stored `KeyVal` of the same key
/// keeping what the file cannot say (script, call_function, registry_id,
/// file fields, required, unknown fields).
fn params(stored: Option<&Value>, wanted: &[Parameter]) -> Value {
    let old: &[Value] = stored.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    Value::Array(
        wanted
            .iter()
            .map(|p| {
                let mut kv = old
                    .iter()
                    .find(|o| o.get("key").and_then(Value::as_str) == Some(p.key.as_str()))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_else(|| {
                        let mut m = Map::new();
                        m.insert("registry_id".into(), json!(""));
                        m
                    });
                let value = match &p.default_value {
                    ParamValue::Literal(v) => v.clone(),
                    // The wire body has no Keep left; be safe anyway.
                    ParamValue::Keep | ParamValue::FromEnv(_) => MASK.to_owned(),
                };
                set(&mut kv, "key", json!(p.key));
                set(&mut kv, "value", json!(value));
                set(&mut kv, "type", json!(param_type(p.param_type)));
                set(&mut kv, "is_credential", json!(p.is_credential));
                set(&mut kv, "description", json!(p.description));
                for (key, list) in [
                    ("choice_option", &p.choice_option),
                    ("choice_value", &p.choice_value),
                ] {
                    set_or_empty(&mut kv, key, json!(list), list.is_empty());
                }
                Value::Object(kv)
            })
            .collect(),
    )
}

/// Repositories: matched to stored ones by code host, namespace and name, so
/// a stored repository keeps `hidden`, `filter_regexp`, its owner, the
/// Perforce fields and anything else the file cannot say.
fn repos(
    stored: Option<&Value>,
    wanted: &[RepoInfo],
    catalog: &Catalog,
) -> Result<Value, PreserveError> {
    let mut new = Vec::new();
    for r in wanted {
        let host = catalog
            .code_hosts
            .as_ref()
            .and_then(|hs| hs.iter().find(|h| h.alias == r.codehost_name))
            .ok_or_else(|| PreserveError::NoCodeHost {
                alias: r.codehost_name.clone(),
            })?;
        let trim = |s: &str| {
            if host.host_type == "other" {
                s.trim_matches('/').to_owned()
            } else {
                s.to_owned()
            }
        };
        new.push((
            host.id,
            host.host_type.clone(),
            trim(&r.repo_namespace),
            trim(&r.repo_name),
            r,
        ));
    }
    let old: &[Value] = stored.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    let namespace_of = |o: &Value| {
        let ns = o
            .get("repo_namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        if ns.is_empty() {
            o.get("repo_owner")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        } else {
            ns.to_owned()
        }
    };
    let mut used = vec![false; old.len()];
    let mut out = Vec::new();
    for (id, host_type, ns, name, r) in new {
        let found = (0..old.len()).find(|&i| {
            !used[i]
                && old[i].get("codehost_id").and_then(Value::as_i64) == Some(id)
                && namespace_of(&old[i]) == ns
                && old[i].get("repo_name").and_then(Value::as_str) == Some(name.as_str())
        });
        let mut o = match found {
            Some(i) => {
                used[i] = true;
                old[i].as_object().cloned().unwrap_or_default()
            }
            None => {
                let mut o = Map::new();
                o.insert("repo_owner".into(), json!(ns));
                o.insert("hidden".into(), json!(false));
                o
            }
        };
        set(&mut o, "source", json!(host_type));
        set(&mut o, "codehost_id", json!(id));
        set(&mut o, "repo_namespace", json!(ns));
        set(&mut o, "repo_name", json!(name));
        set(&mut o, "branch", json!(r.branch));
        set(&mut o, "remote_name", json!(r.remote_name));
        set(&mut o, "checkout_path", json!(r.checkout_path));
        set(&mut o, "submodules", json!(r.submodules));
        set(&mut o, "enable_commit", json!(r.enable_commit));
        for (key, v, empty) in [
            ("commit_id", json!(r.commit_id), r.commit_id.is_empty()),
            ("pr", json!(r.pr), r.pr == 0),
            ("prs", json!(r.prs), r.prs.is_empty()),
        ] {
            set_or_empty(&mut o, key, v, empty);
        }
        out.push(Value::Object(o));
    }
    Ok(Value::Array(out))
}
