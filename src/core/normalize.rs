//! The normaliser: both sides of a comparison in one canonical form, the
//! create body of the definition files, so that equal meaning compares equal.
//!
//! - [`normalize_live`] maps what Zadig returns (the stored model, or the
//!   OpenAPI detail when that is all the server answers) back to a
//!   [`BuildDef`], field by field as build-api.md §6 and build-api-one-read.md
//!   §5 say, and records what could not be read and what a write would erase.
//! - [`normalize_desired`] fills in what Zadig derives from a definition
//!   (server defaults of §5.1, the effective strategy, trimmed directories), so
//!   that a definition that leaves a default out does not show a perpetual diff.
//!
//! Both are pure and idempotent: normalising a normalised value changes nothing.

use std::collections::BTreeSet;

use super::catalog::Catalog;
use super::live::{LiveBuild, LiveRead};
use super::model::{
    AdvancedSettings, BuildDef, BuildSpec, CacheDirType, CacheSetting, DockerBuildStep,
    DockerfileSource, Infrastructure, Input, Install, KeyValue, MASK, ParamType, ParamValue,
    Parameter, RepoInfo, ResourceSpec, ScriptType, ServiceModule, StorageProperty, Storages,
    TargetService, TemplateBuildSpec,
};
use crate::zadig::wire::{
    BuildDetail, DetailRepo, DockerBuildWire, KeyVal, KeyValueWire, Output, PostBuild,
    StoragesWire, StoredBuild, StoredRepo,
};

/// Timeout Zadig sets when `advanced_settings` is absent (§5.1).
pub const DEFAULT_TIMEOUT: i64 = 60;

/// The resource presets (`pkg/setting/types.go`, build-api-ui-made.md §1):
/// name, then cpu_limit, memory_limit, cpu_req, memory_req. `default` and any
/// unknown `res_req` run with `low`'s numbers.
pub const PRESETS: &[(&str, [i64; 4])] = &[
    ("high", [16000, 32768, 4000, 4096]),
    ("medium", [8000, 16384, 2000, 2048]),
    ("low", [4000, 8192, 1000, 1024]),
    ("min", [2000, 2048, 500, 512]),
];

fn preset_numbers(name: &str) -> [i64; 4] {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .or_else(|| PRESETS.iter().find(|(n, _)| *n == "low"))
        .map_or([4000, 8192, 1000, 1024], |(_, v)| *v)
}

/// The spec of a preset (`default` and unknown names: `low`).
pub fn preset_spec(name: &str) -> ResourceSpec {
    let [cpu_limit, memory_limit, cpu_req, memory_req] = preset_numbers(name);
    ResourceSpec {
        cpu_limit,
        memory_limit,
        cpu_req,
        memory_req,
        gpu_limit: String::new(),
    }
}

/// `RequestSpec.FindResourceRequestType`: the preset whose four numbers all
/// match (`low` before `default`), else `define`; always `define` with a GPU.
pub fn resource_request_type(spec: &ResourceSpec) -> &'static str {
    if !spec.gpu_limit.is_empty() {
        return "define";
    }
    let numbers = [
        spec.cpu_limit,
        spec.memory_limit,
        spec.cpu_req,
        spec.memory_req,
    ];
    PRESETS
        .iter()
        .find(|(_, v)| *v == numbers)
        .map_or("define", |(n, _)| n)
}

/// What runs (§1): `res_req_spec` when `res_req` is `define`, the preset's
/// numbers otherwise (the UI leaves `res_req_spec` stale when a preset is
/// picked).
pub fn effective_resources(res_req: &str, spec: &ResourceSpec) -> ResourceSpec {
    if res_req == "define" {
        spec.clone()
    } else {
        preset_spec(res_req)
    }
}

/// Whether a strategy name is the [`no_strategy`] marker.
pub fn is_no_strategy(name: &str) -> bool {
    name.starts_with("(none: strategy id ")
}

/// What the plan shows for "no scheduling strategy": a stored strategy id
/// that no longer resolves (§3; `common/util/kubernetes.go`).
pub fn no_strategy(id: &str) -> String {
    format!("(none: strategy id {id} no longer exists)")
}

/// A live build in canonical form, with what the comparison must know besides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NormalizedLive {
    /// The build as a definition; `None` when it was not read (read-only builds).
    pub def: Option<BuildDef>,
    /// Paths that this server does not let us read (OpenAPI-only mode, masked
    /// credentials): never reported as equal or different.
    pub not_verifiable: Vec<String>,
    /// Settings the OpenAPI cannot express that a write would erase (§5.2).
    pub erases: Vec<String>,
    /// Ids that did not resolve to names, and similar oddities worth a warning.
    pub problems: Vec<String>,
}

/// Normalises a live build.
pub fn normalize_live(live: &LiveBuild, catalog: &Catalog) -> NormalizedLive {
    let mut out = NormalizedLive::default();
    let def = match &live.read {
        LiveRead::NotRead => None,
        LiveRead::Stored {
            model, credentials, ..
        } => Some(from_stored(live, model, credentials, catalog, &mut out)),
        LiveRead::Detail { detail, targets } => Some(from_detail(live, detail, targets, &mut out)),
    };
    // The live definition was just made: normalised in place, not copied.
    out.def = def.map(|d| normalize_owned(d, catalog));
    out.not_verifiable.sort();
    out.not_verifiable.dedup();
    out
}

/// Normalises a definition: explicit server defaults, effective strategy,
/// trimmed directories, fields Zadig ignores for the chosen options cleared.
pub fn normalize_desired(def: &BuildDef, catalog: &Catalog) -> BuildDef {
    normalize_owned(def.clone(), catalog)
}

/// [`normalize_desired`] of a definition the caller gives up.
fn normalize_owned(def: BuildDef, catalog: &Catalog) -> BuildDef {
    match def {
        BuildDef::Build(b) => BuildDef::Build(normalize_build(b, catalog)),
        BuildDef::Template(t) => BuildDef::Template(normalize_template(t, catalog)),
    }
}

/// `s` trimmed, reallocated only when there is something to trim.
fn trim_in_place(s: &mut String) {
    if s.trim().len() != s.len() {
        *s = s.trim().to_owned();
    }
}

fn normalize_build(mut b: BuildSpec, catalog: &Catalog) -> BuildSpec {
    b.kind = None;
    trim_in_place(&mut b.name);
    for repo in &mut b.repo_info {
        normalize_repo(repo, catalog);
    }
    if let Some(step) = &mut b.docker_build_step {
        trim_in_place(&mut step.build_context_dir);
        trim_in_place(&mut step.dockerfile_directory);
        // Zadig keeps only the field its source uses (§6).
        match step.dockerfile_source {
            DockerfileSource::Local => step.template_name.clear(),
            DockerfileSource::Template => step.dockerfile_directory.clear(),
        }
    }
    let mut adv = b
        .advanced_settings
        .take()
        .unwrap_or_else(|| default_advanced_settings(catalog));
    normalize_cache(&mut adv.cache_setting);
    if let Some(strategy) = catalog.effective_strategy(&adv.cluster_name, &adv.strategy_name)
        && !is_no_strategy(&adv.strategy_name)
    {
        adv.strategy_name = match b.infrastructure {
            // The stored-model read fills the default only for Kubernetes builds.
            Infrastructure::Kubernetes => strategy,
            Infrastructure::Vm if strategy == adv.strategy_name => strategy,
            Infrastructure::Vm => String::new(),
        };
    }
    b.advanced_settings = Some(adv);
    b
}

/// The cache as it runs: off means nothing else matters; on defaults to
/// `user_defined` (what the OpenAPI stores), and `workspace` ignores the
/// directory.
fn normalize_cache(c: &mut CacheSetting) {
    if !c.enabled {
        // Zadig keeps the directory only when the cache is on.
        c.cache_dir.clear();
        c.dir_type = None;
        return;
    }
    let t = c.dir_type.unwrap_or(CacheDirType::UserDefined);
    if t == CacheDirType::Workspace {
        c.cache_dir.clear();
    }
    c.dir_type = Some(t);
}

fn normalize_template(mut t: TemplateBuildSpec, catalog: &Catalog) -> TemplateBuildSpec {
    t.kind = None;
    trim_in_place(&mut t.name);
    let vars = catalog.template_vars_by_name(&t.template_name);
    for ts in &mut t.target_services {
        for repo in &mut ts.repo_info {
            normalize_repo(repo, catalog);
        }
        if let Some(vars) = vars {
            ts.inputs = merged_inputs(vars, &ts.inputs);
        }
    }
    t
}

/// What a template write stores per target (§4, `MergeBuildEnvs`): every
/// template variable in the template's order; a given input replaces it
/// (its type and credential flag included), the others keep the template's
/// current value; inputs the template does not know are dropped.
pub fn merged_inputs(vars: &[KeyVal], inputs: &[Input]) -> Vec<Input> {
    vars.iter()
        .map(|v| match inputs.iter().find(|i| i.key == v.key) {
            Some(i) => i.clone(),
            None => template_input(v),
        })
        .collect()
}

/// A template variable as the input a write stores when none is given.
pub fn template_input(v: &KeyVal) -> Input {
    let mut ignored = NormalizedLive::default();
    input_from_kv(v, &mut ignored)
}

fn normalize_repo(repo: &mut RepoInfo, catalog: &Catalog) {
    // Zadig trims slashes from owner and name for code hosts of type `other`.
    if catalog.code_host_type(&repo.codehost_name) == Some("other") {
        repo.repo_namespace = repo.repo_namespace.trim_matches('/').to_owned();
        repo.repo_name = repo.repo_name.trim_matches('/').to_owned();
    }
}

/// What Zadig stores when a create or update has no `advanced_settings`
/// (§5.1): 60 minutes, the local cluster and its default strategy, the `low`
/// preset (build-api-ui-made.md §1: not 1000m/512Mi, which stays in
/// `res_req_spec` but does not run).
pub fn default_advanced_settings(catalog: &Catalog) -> AdvancedSettings {
    let local = catalog.local_cluster();
    let cluster_name = local.map(|c| c.name.clone()).unwrap_or_default();
    let strategy_name = catalog
        .effective_strategy(&cluster_name, "")
        .unwrap_or_default();
    AdvancedSettings {
        timeout: DEFAULT_TIMEOUT,
        cluster_name,
        strategy_name,
        // Stored as `low` with a stale {1000, 512}: `low` is what runs (§1).
        resource_spec: preset_spec("low"),
        cache_setting: CacheSetting::default(),
        storages: Storages::default(),
        use_host_docker_daemon: false,
        privileged_mode: false,
        custom_annotations: Vec::new(),
        custom_labels: Vec::new(),
        outputs: Vec::new(),
    }
}

/// Keeps from a live template build only the inputs the definition sets: the
/// stored targets hold every template variable, not just the overrides (§6).
/// Also copies the desired values of the paths that could not be read, so that
/// they show as neither equal nor different (they are listed instead).
pub fn align_to_desired(
    live: &BuildDef,
    desired: &BuildDef,
    not_verifiable: &[String],
) -> BuildDef {
    let mut live = live.clone();
    match (&mut live, desired) {
        (BuildDef::Template(l), BuildDef::Template(d)) => {
            for lt in &mut l.target_services {
                let Some(dt) = d.target_services.iter().find(|dt| {
                    dt.service_name == lt.service_name && dt.service_module == lt.service_module
                }) else {
                    continue;
                };
                let keys: BTreeSet<&str> = dt.inputs.iter().map(|i| i.key.as_str()).collect();
                lt.inputs.retain(|i| keys.contains(i.key.as_str()));
                // Same order as the definition: Zadig orders by the template.
                lt.inputs.sort_by_key(|i| {
                    dt.inputs
                        .iter()
                        .position(|d| d.key == i.key)
                        .unwrap_or(usize::MAX)
                });
            }
            fill_unverifiable_template(l, d, not_verifiable);
        }
        (BuildDef::Build(l), BuildDef::Build(d)) => fill_unverifiable_build(l, d, not_verifiable),
        _ => {}
    }
    live
}

fn fill_unverifiable_build(l: &mut BuildSpec, d: &BuildSpec, paths: &[String]) {
    let has = |p: &str| paths.iter().any(|x| x == p);
    if has("infrastructure") {
        l.infrastructure = d.infrastructure;
    }
    if has("script_type") {
        l.script_type = d.script_type;
    }
    for (i, (lr, dr)) in l.repo_info.iter_mut().zip(&d.repo_info).enumerate() {
        fill_repo(lr, dr, paths, &format!("repo_info[{i}]"));
    }
    for lp in &mut l.parameters {
        let Some(dp) = d.parameters.iter().find(|p| p.key == lp.key) else {
            continue;
        };
        let base = format!("parameters[{}]", lp.key);
        if has(&format!("{base}.description")) {
            lp.description = dp.description.clone();
        }
        if has(&format!("{base}.choice_option")) {
            lp.choice_option = dp.choice_option.clone();
        }
        if has(&format!("{base}.choice_value")) {
            lp.choice_value = dp.choice_value.clone();
        }
        if has(&format!("{base}.default_value")) {
            lp.default_value = dp.default_value.clone();
        }
    }
    if let (Some(la), Some(da)) = (&mut l.advanced_settings, &d.advanced_settings) {
        if has("advanced_settings.storages") {
            la.storages = da.storages.clone();
        }
        if has("advanced_settings.privileged_mode") {
            la.privileged_mode = da.privileged_mode;
        }
        if has("advanced_settings.custom_annotations") {
            la.custom_annotations = da.custom_annotations.clone();
        }
        if has("advanced_settings.custom_labels") {
            la.custom_labels = da.custom_labels.clone();
        }
        if has("advanced_settings.strategy_name") {
            la.strategy_name = da.strategy_name.clone();
        }
        if has("advanced_settings.resource_spec") {
            la.resource_spec = da.resource_spec.clone();
        }
        if has("advanced_settings.cache_setting.dir_type") {
            la.cache_setting.dir_type = da.cache_setting.dir_type;
            if da.cache_setting.dir_type == Some(CacheDirType::Workspace) {
                la.cache_setting.cache_dir.clear();
            }
        }
    }
}

fn fill_unverifiable_template(l: &mut TemplateBuildSpec, d: &TemplateBuildSpec, paths: &[String]) {
    for lt in &mut l.target_services {
        let Some(dt) = d.target_services.iter().find(|dt| {
            dt.service_name == lt.service_name && dt.service_module == lt.service_module
        }) else {
            continue;
        };
        let base = format!("target_services[{}/{}]", lt.service_name, lt.service_module);
        for (i, (lr, dr)) in lt.repo_info.iter_mut().zip(&dt.repo_info).enumerate() {
            fill_repo(lr, dr, paths, &format!("{base}.repo_info[{i}]"));
        }
    }
}

fn fill_repo(l: &mut RepoInfo, d: &RepoInfo, paths: &[String], base: &str) {
    let has = |f: &str| paths.iter().any(|x| *x == format!("{base}.{f}"));
    if has("codehost_name") {
        l.codehost_name = d.codehost_name.clone();
    }
    if has("enable_commit") {
        l.enable_commit = d.enable_commit;
    }
    if has("commit_id") {
        l.commit_id = d.commit_id.clone();
    }
    if has("pr") {
        l.pr = d.pr;
    }
    if has("prs") {
        l.prs = d.prs.clone();
    }
}

// ---------------------------------------------------------------------------
// From the stored model (one-read §5)

fn from_stored(
    live: &LiveBuild,
    m: &StoredBuild,
    credentials: &std::collections::BTreeMap<String, String>,
    catalog: &Catalog,
    out: &mut NormalizedLive,
) -> BuildDef {
    let project = if m.product_name.is_empty() {
        live.project.clone()
    } else {
        m.product_name.clone()
    };
    if !m.template_id.is_empty() {
        let template_name = match catalog.build_template_name(&m.template_id) {
            Some(n) => n.to_owned(),
            None => {
                out.problems.push(format!(
                    "build template id {} does not resolve to a template",
                    m.template_id
                ));
                m.template_id.clone()
            }
        };
        let target_services = m
            .targets
            .iter()
            .map(|t| TargetService {
                service_name: t.service_name.clone(),
                service_module: t.service_module.clone(),
                repo_info: t
                    .repos
                    .iter()
                    .enumerate()
                    .map(|(j, r)| {
                        stored_repo(
                            r,
                            catalog,
                            &format!(
                                "target_services[{}/{}].repo_info[{j}]",
                                t.service_name, t.service_module
                            ),
                            out,
                        )
                    })
                    .collect(),
                inputs: t.envs.iter().map(|e| input_from_kv(e, out)).collect(),
            })
            .collect();
        return BuildDef::Template(TemplateBuildSpec {
            kind: None,
            name: m.name.clone(),
            project_key: project,
            template_name,
            target_services,
        });
    }

    let pre = m.pre_build.clone().unwrap_or_default();
    if m.pre_build.is_none() {
        out.problems
            .push("the build has no pre_build settings".to_owned());
    }
    let infrastructure = match m.infrastructure.as_str() {
        "kubernetes" | "" => Infrastructure::Kubernetes,
        "vm" => Infrastructure::Vm,
        other => {
            out.problems
                .push(format!("unknown infrastructure `{other}`"));
            out.not_verifiable.push("infrastructure".to_owned());
            Infrastructure::Kubernetes
        }
    };
    let script_type = match m.script_type.as_str() {
        "shell" | "" => ScriptType::Shell,
        "batch_file" => ScriptType::BatchFile,
        "powershell" => ScriptType::Powershell,
        other => {
            out.problems.push(format!("unknown script_type `{other}`"));
            out.not_verifiable.push("script_type".to_owned());
            ScriptType::Shell
        }
    };
    let build_os = match catalog.image_label(&pre.image_id) {
        Some(label) => label.to_owned(),
        None => {
            // Fallback of one-read §3.1.
            let by_value = catalog
                .images
                .iter()
                .find(|i| i.value == pre.build_os)
                .map(|i| i.label.clone());
            match (pre.image_from.as_str(), by_value) {
                ("custom", Some(label)) => label,
                _ => {
                    if !pre.image_id.is_empty() && !catalog.images.is_empty() {
                        out.problems.push(format!(
                            "basic image id {} does not resolve to an image",
                            pre.image_id
                        ));
                    }
                    pre.build_os.clone()
                }
            }
        }
    };
    let repo_info = m
        .repos
        .iter()
        .enumerate()
        .map(|(i, r)| stored_repo(r, catalog, &format!("repo_info[{i}]"), out))
        .collect();
    let parameters = pre
        .envs
        .iter()
        .map(|e| {
            let mut value = e.value.clone();
            if e.is_credential && value == MASK {
                match credentials.get(&e.key) {
                    Some(plain) => value = plain.clone(),
                    None => out
                        .not_verifiable
                        .push(format!("parameters[{}].default_value", e.key)),
                }
            }
            Parameter {
                key: e.key.clone(),
                param_type: param_type(&e.kv_type, out),
                default_value: ParamValue::Literal(value),
                choice_option: e.choice_option.clone(),
                choice_value: e.choice_value.clone(),
                is_credential: e.is_credential,
                description: e.description.clone(),
            }
        })
        .collect();
    let services = m
        .targets
        .iter()
        .map(|t| ServiceModule {
            service_name: t.service_name.clone(),
            service_module: t.service_module.clone(),
        })
        .collect();
    let post = m.post_build.clone().unwrap_or_default();
    let docker_build_step = post
        .docker_build
        .as_ref()
        .map(|d| docker_step(d, Some(catalog), out));

    let cluster = catalog.cluster_by_id(&pre.cluster_id);
    let cluster_name = match cluster {
        Some(c) => c.name.clone(),
        None => {
            if !catalog.clusters.is_empty() {
                out.problems.push(format!(
                    "cluster id {} does not resolve to a cluster",
                    pre.cluster_id
                ));
            }
            pre.cluster_id.clone()
        }
    };
    let strategies = cluster.and_then(|c| c.strategies.as_ref());
    let strategy_name = match strategies {
        Some(ss) => match ss.iter().find(|s| s.id == pre.strategy_id) {
            Some(s) => s.name.clone(),
            None if pre.strategy_id.is_empty() => String::new(),
            None => {
                // §3: an id that no longer resolves means no strategy at all,
                // not the default.
                out.problems.push(format!(
                    "strategy id {} no longer exists on cluster `{cluster_name}`: the build runs with no scheduling strategy (an apply sets the one the file names, or the default)",
                    pre.strategy_id
                ));
                no_strategy(&pre.strategy_id)
            }
        },
        None => String::new(),
    };
    let stored_spec = ResourceSpec {
        cpu_limit: pre.res_req_spec.cpu_limit,
        memory_limit: pre.res_req_spec.memory_limit,
        cpu_req: pre.res_req_spec.cpu_req,
        memory_req: pre.res_req_spec.memory_req,
        gpu_limit: pre.res_req_spec.gpu_limit.clone(),
    };
    let advanced_settings = AdvancedSettings {
        timeout: m.timeout,
        cluster_name,
        strategy_name,
        resource_spec: effective_resources(&pre.res_req, &stored_spec),
        cache_setting: CacheSetting {
            enabled: m.cache_enable,
            cache_dir: if m.cache_enable {
                m.cache_user_dir.clone()
            } else {
                String::new()
            },
            dir_type: m.cache_enable.then(|| {
                if m.cache_dir_type == "workspace" {
                    CacheDirType::Workspace
                } else {
                    CacheDirType::UserDefined
                }
            }),
        },
        storages: storages(pre.storages.as_ref()),
        use_host_docker_daemon: pre.use_host_docker_daemon,
        privileged_mode: m.enable_privileged_mode,
        custom_annotations: key_values(&pre.custom_annotations),
        custom_labels: key_values(&pre.custom_labels),
        outputs: user_outputs(&m.outputs),
    };

    // Settings the OpenAPI cannot write: an update would erase them (§5.2).
    post_build_erases(&post, out);
    if !m.vm_labels.is_empty() {
        out.erases
            .push(format!("VM labels ({})", m.vm_labels.join(", ")));
    }
    if pre.enable_proxy {
        out.erases.push("proxy setting".to_owned());
    }
    if pre.upload_pkg {
        out.erases.push("package upload".to_owned());
    }
    // build-api-ui-made.md §2 and §5: what else an OpenAPI update resets.
    if m.cache_enable && m.cache_dir_type == "workspace" {
        out.erases.push(
            "workspace cache (the OpenAPI can only store a user-defined cache directory)"
                .to_owned(),
        );
    }
    for e in &pre.envs {
        let mut what = Vec::new();
        if !e.script.is_empty() {
            what.push("script");
        }
        if !e.call_function.is_empty() {
            what.push("call_function");
        }
        if !e.registry_id.is_empty() {
            what.push("registry_id");
        }
        if !e.file_path.is_empty() || !e.file_name.is_empty() || !e.file_id.is_empty() {
            what.push("file");
        }
        if e.required {
            what.push("required");
        }
        if !what.is_empty() {
            out.erases
                .push(format!("parameters[{}]: {}", e.key, what.join(", ")));
        }
    }
    for (i, r) in m.repos.iter().enumerate() {
        if r.hidden {
            out.erases.push(format!("repo_info[{i}]: hidden"));
        }
        if !r.filter_regexp.is_empty() {
            out.erases.push(format!("repo_info[{i}]: branch filter"));
        }
    }
    for o in m.outputs.iter().filter(|o| !o.description.is_empty()) {
        out.erases
            .push(format!("description of output `{}`", o.name));
    }
    if pre.clean_workspace {
        out.erases.push("clean workspace".to_owned());
    }
    if !pre.namespace.is_empty() {
        out.erases.push(format!("namespace `{}`", pre.namespace));
    }
    if !pre.cluster_source.is_empty() {
        out.erases
            .push(format!("cluster source `{}`", pre.cluster_source));
    }
    if !pre.parameters.is_empty() {
        out.erases.push("legacy parameters".to_owned());
    }

    BuildDef::Build(BuildSpec {
        kind: None,
        name: m.name.clone(),
        project_key: project,
        infrastructure,
        build_os,
        installs: pre
            .installs
            .iter()
            .map(|i| Install {
                name: i.name.clone(),
                version: i.version.clone(),
            })
            .collect(),
        script_type,
        build_script: m.scripts.clone(),
        repo_info,
        parameters,
        services,
        docker_build_step,
        advanced_settings: Some(advanced_settings),
    })
}

/// Post-build settings only the UI can write (§5.2: an update replaces
/// `post_build` wholesale).
fn post_build_erases(post: &PostBuild, out: &mut NormalizedLive) {
    if !post.scripts.trim().is_empty() {
        out.erases.push("post-build script".to_owned());
    }
    if post
        .object_storage_upload
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        out.erases.push("object storage upload".to_owned());
    }
    if post.file_archive.as_ref().is_some_and(|v| !v.is_null()) {
        out.erases.push("file archive".to_owned());
    }
}

fn stored_repo(
    r: &StoredRepo,
    catalog: &Catalog,
    path: &str,
    out: &mut NormalizedLive,
) -> RepoInfo {
    let codehost_name = match catalog.code_host(r.codehost_id) {
        Some(h) if !h.alias.is_empty() => h.alias.clone(),
        Some(_) => {
            out.problems.push(format!(
                "{path}: code host {} has no alias, so no definition can name it",
                r.codehost_id
            ));
            format!("#{}", r.codehost_id)
        }
        None if catalog.code_hosts.is_none() => {
            out.not_verifiable.push(format!("{path}.codehost_name"));
            r.source.clone()
        }
        None => {
            out.problems.push(format!(
                "{path}: code host id {} does not resolve to a code host",
                r.codehost_id
            ));
            format!("#{}", r.codehost_id)
        }
    };
    let namespace = if r.repo_namespace.is_empty() {
        r.repo_owner.clone()
    } else {
        r.repo_namespace.clone()
    };
    if !r.repo_owner.is_empty() && r.repo_owner != namespace {
        out.erases.push(format!(
            "{path}: repository owner `{}` (differs from namespace `{namespace}`)",
            r.repo_owner
        ));
    }
    RepoInfo {
        codehost_name,
        repo_namespace: namespace,
        repo_name: r.repo_name.clone(),
        branch: r.branch.clone(),
        remote_name: r.remote_name.clone(),
        checkout_path: r.checkout_path.clone(),
        submodules: r.submodules,
        enable_commit: r.enable_commit,
        commit_id: r.commit_id.clone(),
        pr: r.pr,
        prs: r.prs.clone(),
    }
}

fn input_from_kv(e: &KeyVal, out: &mut NormalizedLive) -> Input {
    Input {
        key: e.key.clone(),
        value: ParamValue::Literal(e.value.clone()),
        input_type: if e.kv_type.is_empty() {
            None
        } else {
            Some(param_type(&e.kv_type, out))
        },
        is_credential: e.is_credential,
    }
}

fn param_type(t: &str, out: &mut NormalizedLive) -> ParamType {
    match t {
        "" | "string" => ParamType::String,
        "choice" => ParamType::Choice,
        "multi-select" => ParamType::MultiSelect,
        "image" => ParamType::Image,
        "script" => ParamType::Script,
        "file" => ParamType::File,
        other => {
            out.problems
                .push(format!("unknown parameter type `{other}` (read as string)"));
            ParamType::String
        }
    }
}

fn docker_step(
    d: &DockerBuildWire,
    catalog: Option<&Catalog>,
    out: &mut NormalizedLive,
) -> DockerBuildStep {
    let source = match d.source.as_str() {
        "template" => DockerfileSource::Template,
        "local" | "" => DockerfileSource::Local,
        other => {
            out.problems.push(format!(
                "unknown dockerfile source `{other}` (read as local)"
            ));
            DockerfileSource::Local
        }
    };
    // Resolve by id: the stored name goes stale when a template is renamed.
    let template_name = catalog
        .and_then(|c| c.dockerfile_template_name(&d.template_id))
        .map_or_else(|| d.template_name.clone(), str::to_owned);
    DockerBuildStep {
        dockerfile_source: source,
        build_context_dir: d.work_dir.trim().to_owned(),
        dockerfile_directory: d.docker_file.trim().to_owned(),
        template_name,
        build_args: d.build_args.clone(),
        enable_buildkit: d.enable_buildkit,
        platforms: d.platform.clone(),
    }
}

fn storages(s: Option<&StoragesWire>) -> Storages {
    s.map(|s| Storages {
        enabled: s.enabled,
        storages_properties: s
            .storages_properties
            .iter()
            .map(|p| StorageProperty {
                provision_type: p.provision_type.clone(),
                storage_class: p.storage_class.clone(),
                storage_size_in_gib: p.storage_size_in_gib,
                pvc: p.pvc.clone(),
                access_mode: p.access_mode.clone(),
                subpath: p.subpath.clone(),
                mount_path: p.mount_path.clone(),
                is_temporary: p.is_temporary,
            })
            .collect(),
    })
    .unwrap_or_default()
}

fn key_values(kvs: &[KeyValueWire]) -> Vec<KeyValue> {
    kvs.iter()
        .map(|kv| KeyValue {
            key: kv.key.clone(),
            value: match &kv.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            },
        })
        .collect()
}

/// Output names without the two Zadig adds itself in front (§5.1).
fn user_outputs(outputs: &[Output]) -> Vec<String> {
    let mut names: &[Output] = outputs;
    if names.first().is_some_and(|o| o.name == "IMAGE") {
        names = &names[1..];
    }
    if names.first().is_some_and(|o| o.name == "PKG_FILE") {
        names = &names[1..];
    }
    names.iter().map(|o| o.name.clone()).collect()
}

// ---------------------------------------------------------------------------
// From the OpenAPI detail (§6), when the stored model cannot be read

/// Fields of a plain build that the OpenAPI detail never shows.
const DETAIL_BLIND_SPOTS: &[&str] = &[
    "infrastructure",
    "script_type",
    "advanced_settings.storages",
    "advanced_settings.privileged_mode",
    "advanced_settings.custom_annotations",
    "advanced_settings.custom_labels",
];

fn from_detail(
    live: &LiveBuild,
    d: &BuildDetail,
    targets: &[BuildDetail],
    out: &mut NormalizedLive,
) -> BuildDef {
    let project = if d.project_key.is_empty() {
        live.project.clone()
    } else {
        d.project_key.clone()
    };
    if !d.template_name.is_empty() {
        let target_services = d
            .target_services
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // The shell reads one detail per target, in this order.
                let per_target = targets.get(i);
                let base = format!("target_services[{}/{}]", t.service_name, t.service_module);
                let (repos, params) = match per_target {
                    Some(x) => (x.repos.as_slice(), x.parameters.as_slice()),
                    None => {
                        out.not_verifiable.push(format!("{base}.repo_info"));
                        out.not_verifiable.push(format!("{base}.inputs"));
                        (&[][..], &[][..])
                    }
                };
                TargetService {
                    service_name: t.service_name.clone(),
                    service_module: t.service_module.clone(),
                    repo_info: repos
                        .iter()
                        .enumerate()
                        .map(|(j, r)| detail_repo(r, &format!("{base}.repo_info[{j}]"), out))
                        .collect(),
                    inputs: params
                        .iter()
                        .map(|p| Input {
                            key: p.key.clone(),
                            value: ParamValue::Literal(p.value.clone()),
                            input_type: if p.param_type.is_empty() {
                                None
                            } else {
                                Some(param_type(&p.param_type, out))
                            },
                            is_credential: p.is_credential,
                        })
                        .collect(),
                }
            })
            .collect();
        return BuildDef::Template(TemplateBuildSpec {
            kind: None,
            name: d.name.clone(),
            project_key: project,
            template_name: d.template_name.clone(),
            target_services,
        });
    }

    out.not_verifiable
        .extend(DETAIL_BLIND_SPOTS.iter().map(|s| (*s).to_owned()));
    let parameters = d
        .parameters
        .iter()
        .map(|p| {
            for f in ["description", "choice_option", "choice_value"] {
                out.not_verifiable
                    .push(format!("parameters[{}].{f}", p.key));
            }
            Parameter {
                key: p.key.clone(),
                param_type: param_type(&p.param_type, out),
                default_value: ParamValue::Literal(p.value.clone()),
                choice_option: Vec::new(),
                choice_value: Vec::new(),
                is_credential: p.is_credential,
                description: String::new(),
            }
        })
        .collect();
    let adv = d.advanced_settings.clone().unwrap_or_default();
    let cache = adv.cache_setting.clone().unwrap_or_default();
    let spec = adv.resource_spec.clone().unwrap_or_default();
    let detail_spec = ResourceSpec {
        cpu_limit: spec.cpu_limit,
        memory_limit: spec.memory_limit,
        cpu_req: spec.cpu_req,
        memory_req: spec.memory_req,
        gpu_limit: spec.gpu_limit,
    };
    // The detail shows `res_req_spec` but not `res_req`: only a spec equal to
    // a preset's numbers says what runs (§1).
    if resource_request_type(&detail_spec) == "define" {
        out.not_verifiable
            .push("advanced_settings.resource_spec".to_owned());
    }
    if cache.enabled {
        out.not_verifiable
            .push("advanced_settings.cache_setting.dir_type".to_owned());
    }
    let post = d.post_build.clone().unwrap_or_default();
    post_build_erases(&post, out);
    BuildDef::Build(BuildSpec {
        kind: None,
        name: d.name.clone(),
        project_key: project,
        infrastructure: Infrastructure::Kubernetes,
        build_os: d.build_env.basic_image_label.clone(),
        installs: d
            .build_env
            .installs
            .iter()
            .map(|i| Install {
                name: i.name.clone(),
                version: i.version.clone(),
            })
            .collect(),
        script_type: ScriptType::Shell,
        build_script: d.build_script.clone(),
        repo_info: d
            .repos
            .iter()
            .enumerate()
            .map(|(i, r)| detail_repo(r, &format!("repo_info[{i}]"), out))
            .collect(),
        parameters,
        services: d
            .target_services
            .iter()
            .map(|t| ServiceModule {
                service_name: t.service_name.clone(),
                service_module: t.service_module.clone(),
            })
            .collect(),
        docker_build_step: post
            .docker_build
            .as_ref()
            .map(|x| docker_step(x, None, out)),
        advanced_settings: Some(AdvancedSettings {
            timeout: adv.timeout,
            cluster_name: adv.cluster_name.clone(),
            strategy_name: adv.strategy_name.clone(),
            resource_spec: detail_spec,
            cache_setting: CacheSetting {
                enabled: cache.enabled,
                cache_dir: if cache.enabled {
                    cache.cache_dir
                } else {
                    String::new()
                },
                // The detail does not show the mode: see DETAIL_BLIND_SPOTS.
                dir_type: None,
            },
            storages: Storages::default(),
            use_host_docker_daemon: adv.use_host_docker_daemon,
            privileged_mode: false,
            custom_annotations: Vec::new(),
            custom_labels: Vec::new(),
            outputs: user_outputs(&d.outputs),
        }),
    })
}

fn detail_repo(r: &DetailRepo, path: &str, out: &mut NormalizedLive) -> RepoInfo {
    for f in ["codehost_name", "enable_commit", "commit_id", "pr", "prs"] {
        out.not_verifiable.push(format!("{path}.{f}"));
    }
    RepoInfo {
        // The detail names the code host type, not its alias.
        codehost_name: r.source.clone(),
        repo_namespace: r.repo_owner.clone(),
        repo_name: r.repo_name.clone(),
        branch: r.branch.clone(),
        remote_name: r.remote_name.clone(),
        checkout_path: r.checkout_path.clone(),
        submodules: r.submodules,
        ..RepoInfo::default()
    }
}
