//! Semantic checks of definitions that parsed: what serde cannot express
//! (cross-field rules, Zadig's own requirements, values that would never
//! converge).
//!
//! The checks know nothing about files: each [`Finding`] names the place it is
//! about by its [`Path`] in the document, and the loader turns that into a line
//! and column. That keeps the rules short and testable on plain values.

use std::collections::{HashMap, HashSet};

use crate::core::diagnostics::Severity;
use crate::core::model::{
    AdvancedSettings, BuildDef, BuildSpec, Config, DockerBuildStep, DockerfileSource,
    Infrastructure, KeyValue, MASK, ParamType, ParamValue, Parameter, RepoInfo, ScriptType,
    TemplateBuildSpec,
};

/// One step of a [`Path`] into a YAML document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key (always a field name of the model).
    Key(&'static str),
    /// A sequence index.
    Index(usize),
}

/// Where in a document a finding points, from the document root.
pub type Path = Vec<Seg>;

/// Whether a finding points at a key or at its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The key (`name:` in `name: x`), e.g. for a field that should not be there.
    Key,
    /// The value (`x` in `name: x`), e.g. for a wrong value.
    Value,
}

/// A problem found in one document (or in the config), located by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Where it is. When the path does not exist in the file (a defaulted
    /// field), the loader points at the deepest part that does.
    pub path: Path,
    /// Key or value.
    pub target: Target,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

/// `path!["parameters", 2, "key"]`: a [`Path`].
macro_rules! path {
    ($($seg:expr),* $(,)?) => { vec![$(Seg::from($seg)),*] };
}

/// `segs!["resource_spec", "cpu_req"]`: the same as an array, to append.
macro_rules! segs {
    ($($seg:expr),* $(,)?) => { [$(Seg::from($seg)),*] };
}

impl From<&'static str> for Seg {
    fn from(key: &'static str) -> Self {
        Seg::Key(key)
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Renders a path the way a user would write it: `parameters[2].key`.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn join(base: &[Seg], more: &[Seg]) -> Path {
    let mut p = base.to_vec();
    p.extend_from_slice(more);
    p
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        severity: Severity,
        path: Path,
        target: Target,
        message: String,
        hint: Option<String>,
    ) {
        self.0.push(Finding {
            severity,
            path,
            target,
            message,
            hint,
        });
    }

    fn error(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let hint = (!hint.is_empty()).then_some(hint);
        self.push(Severity::Error, path, Target::Value, message.into(), hint);
    }

    fn warn(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let hint = (!hint.is_empty()).then_some(hint);
        self.push(Severity::Warning, path, Target::Value, message.into(), hint);
    }

    /// A warning that points at the key rather than the value.
    fn warn_key(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        self.push(
            Severity::Warning,
            path,
            Target::Key,
            message.into(),
            Some(hint.into()),
        );
    }
}

/// True for a POSIX-portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The closest candidate to `word`, if it is close enough to be a likely typo:
/// at most a third of its letters wrong (a swap counts once), or one a prefix
/// of the other (`Template` for `TemplateBuild`). Case is ignored.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    let mut prefix = None;
    for c in candidates {
        let lc = c.to_lowercase();
        let d = strsim::osa_distance(&word, &lc);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
        if word.len() >= 3 && (lc.starts_with(&word) || word.starts_with(&lc)) {
            prefix.get_or_insert(c);
        }
    }
    best.map(|(_, c)| c).or(prefix)
}

fn backticked<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const ENV_NAME_HINT: &str =
    "use letters, digits and `_`, not starting with a digit (it becomes an environment variable)";

/// Checks one build definition. With `config`, also checks that its project is
/// declared there (pass `None` when the config itself failed to load).
pub fn check_build(def: &BuildDef, config: Option<&Config>) -> Vec<Finding> {
    check_build_in(def, config, None)
}

/// [`check_build`] with the declared project keys already in a set
/// (`declared`, made from `config`): a loader checking every definition of a
/// large directory looks each key up there instead of scanning the
/// projects once per definition (issue 13: 500 projects × 50,000 builds).
pub(crate) fn check_build_in(
    def: &BuildDef,
    config: Option<&Config>,
    declared: Option<&HashSet<String>>,
) -> Vec<Finding> {
    let mut f = Findings::default();
    check_name(&mut f, def.name());
    check_project_key(&mut f, def.project_key(), config, declared);
    match def {
        BuildDef::Build(b) => check_plain(&mut f, b),
        BuildDef::Template(t) => check_template(&mut f, t),
    }
    f.0
}

fn check_name(f: &mut Findings, name: &str) {
    if name.trim().is_empty() {
        f.error(
            path!["name"],
            "the build name is empty",
            "give the build a name, unique across all Zadig projects",
        );
        return;
    }
    if name.trim() != name {
        f.error(
            path!["name"],
            format!("build name {name:?} has leading or trailing whitespace"),
            format!(
                "Zadig trims names, so the live build would never match this one: write `name: {}`",
                name.trim()
            ),
        );
    }
    if name.contains('/') {
        f.error(
            path!["name"],
            format!("build name `{name}` contains `/`"),
            "Zadig's API addresses builds by name in the URL path, so such a build cannot be updated or deleted: use `-` instead",
        );
    } else if name.trim() == name
        && let Some(why) = unaddressable_name(name)
    {
        f.error(
            path!["name"],
            format!("build name {} {why}", shown_name(name)),
            "Zadig's API addresses builds by name in the URL path, so such a build could not be read, updated or deleted: use letters, digits, `-`, `_` and `.`",
        );
    }
}

// The rule is shared with the client: one leaf holds it.
pub use crate::names::{shown_name, unaddressable_name};

fn check_project_key(
    f: &mut Findings,
    key: &str,
    config: Option<&Config>,
    declared: Option<&HashSet<String>>,
) {
    if key.trim().is_empty() {
        f.error(
            path!["project_key"],
            "project_key is empty",
            "write the project's key (its identifier, not its display name)",
        );
        return;
    }
    let Some(config) = config else { return };
    let is_declared = match declared {
        Some(keys) => keys.contains(key),
        None => config.project(key).is_some(),
    };
    if !is_declared {
        let mut hint = format!(
            "add `- key: {key}` under `projects:` in zadig-sync.yaml, or fix the project_key"
        );
        if let Some(near) = did_you_mean(key, config.projects.iter().map(|p| p.key.as_str())) {
            hint = format!("did you mean `{near}`? Otherwise {hint}");
        }
        f.error(
            path!["project_key"],
            format!("project `{key}` is not declared in zadig-sync.yaml"),
            hint,
        );
    }
}

fn check_plain(f: &mut Findings, b: &BuildSpec) {
    if b.build_os.trim().is_empty() {
        f.error(
            path!["build_os"],
            "build_os is empty",
            "write the basic image label exactly as Zadig lists it, e.g. `ubuntu 20.04`",
        );
    }
    for (i, install) in b.installs.iter().enumerate() {
        if install.name.trim().is_empty() {
            f.error(
                path!["installs", i, "name"],
                "install has no name",
                "write the package name, e.g. `go`",
            );
        }
        if install.version.trim().is_empty() {
            f.error(
                path!["installs", i, "version"],
                format!("install `{}` has no version", install.name),
                "write the package version, e.g. `1.22.1`",
            );
        }
    }
    if b.infrastructure == Infrastructure::Kubernetes
        && matches!(
            b.script_type,
            ScriptType::BatchFile | ScriptType::Powershell
        )
    {
        f.warn(
            path!["script_type"],
            "a Windows script type on Kubernetes",
            "batch_file and powershell scripts run on Windows VM agents: use `infrastructure: vm` or `script_type: shell`",
        );
    }
    check_repos(f, &segs!["repo_info"], &b.repo_info);
    check_parameters(f, &b.parameters);
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, s) in b.services.iter().enumerate() {
        check_service(f, &segs!["services", i], &s.service_name, &s.service_module);
        if let Some(first) = seen.get(&(s.service_name.as_str(), s.service_module.as_str())) {
            f.error(
                path!["services", i],
                format!(
                    "service `{}/{}` is listed twice",
                    s.service_name, s.service_module
                ),
                format!("it is already services[{first}]: remove one"),
            );
        } else {
            seen.insert((&s.service_name, &s.service_module), i);
        }
    }
    if let Some(step) = &b.docker_build_step {
        check_docker(f, step);
    }
    if let Some(adv) = &b.advanced_settings {
        check_advanced(f, adv);
    }
}

fn check_service(f: &mut Findings, base: &[Seg], name: &str, module: &str) {
    if name.trim().is_empty() {
        f.error(
            join(base, &segs!["service_name"]),
            "service_name is empty",
            "write the service's name",
        );
    }
    if module.trim().is_empty() {
        f.error(
            join(base, &segs!["service_module"]),
            "service_module is empty",
            "write the service module (container) name",
        );
    }
}

fn check_repos(f: &mut Findings, base: &[Seg], repos: &[RepoInfo]) {
    for (i, r) in repos.iter().enumerate() {
        let at = |field: &'static str| join(base, &segs![i, field]);
        for (field, value, what) in [
            (
                "codehost_name",
                &r.codehost_name,
                "the alias of a system-level code host",
            ),
            (
                "repo_namespace",
                &r.repo_namespace,
                "the organisation, group or user",
            ),
            ("repo_name", &r.repo_name, "the repository name"),
        ] {
            if value.trim().is_empty() {
                f.error(
                    at(field),
                    format!("{field} is empty"),
                    format!("write {what}"),
                );
            }
        }
        if r.remote_name.is_empty() {
            f.warn(
                at("remote_name"),
                format!("repository `{}` has no remote_name", r.repo_name),
                "Zadig stores an omitted remote_name as \"\" (not `origin`): write `remote_name: origin`",
            );
        }
        if r.enable_commit && r.commit_id.trim().is_empty() {
            f.error(
                at("commit_id"),
                "enable_commit is set but commit_id is empty",
                "write the commit to build, or remove `enable_commit`",
            );
        }
    }
}

fn check_parameters(f: &mut Findings, params: &[Parameter]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in params.iter().enumerate() {
        let at = |field: &'static str| path!["parameters", i, field];
        if p.key.is_empty() {
            f.error(
                at("key"),
                "parameter key is empty",
                "write the variable name, e.g. `GOFLAGS`",
            );
        } else if !is_env_name(&p.key) {
            f.error(
                at("key"),
                format!("parameter key `{}` is not a valid variable name", p.key),
                ENV_NAME_HINT,
            );
        }
        if !p.key.is_empty() {
            if let Some(first) = seen.get(p.key.as_str()) {
                f.error(
                    at("key"),
                    format!("parameter `{}` is defined twice", p.key),
                    format!("it is already parameters[{first}]: keys are unique within a build"),
                );
            } else {
                seen.insert(&p.key, i);
            }
        }
        check_choices(f, i, p);
        check_value(
            f,
            at("default_value"),
            &p.key,
            &p.default_value,
            p.is_credential,
            ValueOf::Parameter,
        );
    }
}

fn check_choices(f: &mut Findings, i: usize, p: &Parameter) {
    let at = |field: &'static str| path!["parameters", i, field];
    let options = || backticked(p.choice_option.iter().map(String::as_str));
    match p.param_type {
        ParamType::Choice | ParamType::MultiSelect => {
            if p.choice_option.is_empty() {
                f.error(
                    at("choice_option"),
                    format!(
                        "{} parameter `{}` has no choice_option",
                        type_name(p.param_type),
                        p.key
                    ),
                    "list the allowed values: `choice_option: [a, b]`",
                );
                return;
            }
            let mut seen = HashMap::new();
            for (j, o) in p.choice_option.iter().enumerate() {
                if seen.insert(o.as_str(), j).is_some() {
                    f.warn(
                        path!["parameters", i, "choice_option", j],
                        format!("option `{o}` is listed twice"),
                        "remove the repeated option",
                    );
                }
            }
        }
        _ => {
            if !p.choice_option.is_empty() {
                f.warn_key(
                    at("choice_option"),
                    format!(
                        "choice_option is ignored for a `{}` parameter",
                        type_name(p.param_type)
                    ),
                    "remove it, or set `type: choice` or `type: multi-select`",
                );
            }
            if !p.choice_value.is_empty() {
                f.warn_key(
                    at("choice_value"),
                    format!(
                        "choice_value is ignored for a `{}` parameter",
                        type_name(p.param_type)
                    ),
                    "remove it, or set `type: multi-select`",
                );
            }
            return;
        }
    }
    if p.param_type == ParamType::Choice {
        if let ParamValue::Literal(v) = &p.default_value
            && !p.choice_option.contains(v)
        {
            let message = if v.is_empty() {
                format!("choice parameter `{}` has no default_value", p.key)
            } else {
                format!("default_value `{v}` is not one of choice_option")
            };
            f.error(
                at("default_value"),
                message,
                format!("choose one of {}", options()),
            );
        }
        if !p.choice_value.is_empty() {
            f.warn_key(
                at("choice_value"),
                "choice_value is ignored for a `choice` parameter",
                "the selected value of a choice parameter is its default_value",
            );
        }
    } else {
        for (j, v) in p.choice_value.iter().enumerate() {
            if !p.choice_option.contains(v) {
                f.error(
                    path!["parameters", i, "choice_value", j],
                    format!("choice_value `{v}` is not one of choice_option"),
                    format!("choose among {}", options()),
                );
            }
        }
    }
}

fn type_name(t: ParamType) -> &'static str {
    match t {
        ParamType::String => "string",
        ParamType::Choice => "choice",
        ParamType::MultiSelect => "multi-select",
        ParamType::Image => "image",
        ParamType::Script => "script",
        ParamType::File => "file",
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueOf {
    Parameter,
    TemplateInput,
}

/// Credential rules, shared by parameters and template inputs.
///
/// `{from_env}` and `{keep}` on a value that is not a credential are errors,
/// not warnings: zadig-sync masks only credentials, so a value read from the
/// environment would be printed in plans and stored in the clear, and Zadig
/// honours the `********` that `{keep}` sends only for credential parameters
/// (elsewhere it stores the mask itself).
fn check_value(
    f: &mut Findings,
    at: Path,
    key: &str,
    value: &ParamValue,
    is_credential: bool,
    of: ValueOf,
) {
    let field = match of {
        ValueOf::Parameter => "default_value",
        ValueOf::TemplateInput => "value",
    };
    if of == ValueOf::TemplateInput && *value == ParamValue::Keep {
        f.error(
            at,
            format!("`{{keep: true}}` is not possible in template inputs (`{key}`)"),
            "Zadig's template update has no keep-the-stored-value: use `{from_env: NAME}`",
        );
        return;
    }
    match (is_credential, value) {
        (true, ParamValue::Literal(v)) if v.is_empty() => {
            let how = match of {
                ValueOf::Parameter => {
                    "`{from_env: NAME}` (read when planning) or `{keep: true}` (keep the value Zadig stores)"
                }
                ValueOf::TemplateInput => "`{from_env: NAME}` (read when planning)",
            };
            f.error(
                at,
                format!("credential `{key}` has no value"),
                format!("write `{field}:` as {how}"),
            );
        }
        (true, ParamValue::Literal(v)) if v == MASK => {
            let hint = match of {
                ValueOf::Parameter => "write `{keep: true}` to keep the value Zadig stores",
                ValueOf::TemplateInput => {
                    "Zadig would store the mask itself: use `{from_env: NAME}`"
                }
            };
            f.error(
                at,
                format!("`{MASK}` is Zadig's mask, not a value (`{key}`)"),
                hint,
            );
        }
        (true, ParamValue::Literal(_)) => f.warn(
            at,
            format!("credential `{key}` is written in the file"),
            "secrets should not be in git: use `{from_env: NAME}` and set NAME when planning",
        ),
        (_, ParamValue::FromEnv(name)) if !is_env_name(name) => f.error(
            at,
            format!("`{name}` is not a valid environment variable name"),
            ENV_NAME_HINT,
        ),
        (false, ParamValue::FromEnv(_)) => f.error(
            at,
            format!("`{{from_env: ...}}` on `{key}`, which is not a credential"),
            "add `is_credential: true` (only credentials are masked in plans), or write the value itself",
        ),
        (false, ParamValue::Keep) => f.error(
            at,
            format!("`{{keep: true}}` on `{key}`, which is not a credential"),
            "Zadig keeps a stored value only for credentials: add `is_credential: true`, or write the value",
        ),
        _ => {}
    }
}

fn check_docker(f: &mut Findings, step: &DockerBuildStep) {
    let at = |field: &'static str| path!["docker_build_step", field];
    match step.dockerfile_source {
        DockerfileSource::Local => {
            if step.dockerfile_directory.trim().is_empty() {
                f.error(
                    at("dockerfile_directory"),
                    "a `local` docker_build_step needs dockerfile_directory",
                    "write the Dockerfile's path, e.g. `dockerfile_directory: $REPONAME_0/Dockerfile`",
                );
            }
            if !step.template_name.is_empty() {
                f.warn_key(
                    at("template_name"),
                    "template_name is ignored when dockerfile_source is `local`",
                    "remove it, or set `dockerfile_source: template`",
                );
            }
        }
        DockerfileSource::Template => {
            if step.template_name.trim().is_empty() {
                f.error(
                    at("template_name"),
                    "a `template` docker_build_step needs template_name",
                    "write the Dockerfile template's name",
                );
            }
            if !step.dockerfile_directory.is_empty() {
                f.warn_key(
                    at("dockerfile_directory"),
                    "dockerfile_directory is ignored when dockerfile_source is `template`",
                    "remove it, or set `dockerfile_source: local`",
                );
            }
        }
    }
}

fn check_advanced(f: &mut Findings, a: &AdvancedSettings) {
    let base = path!["advanced_settings"];
    let at = |more: &[Seg]| join(&base, more);
    if a.cluster_name.trim().is_empty() {
        f.error(
            at(&segs!["cluster_name"]),
            "cluster_name is empty",
            "Zadig requires cluster_name whenever advanced_settings is present: name a cluster, or remove advanced_settings to use the local cluster",
        );
    }
    if a.timeout < 0 {
        f.error(
            at(&segs!["timeout"]),
            format!("timeout is negative ({})", a.timeout),
            "write the timeout in minutes",
        );
    } else if a.timeout == 0 {
        f.warn(
            at(&segs!["timeout"]),
            "timeout is 0, which Zadig runs as 600 minutes",
            "write the timeout in minutes, e.g. `timeout: 60` (Zadig's default when advanced_settings is absent)",
        );
    }
    let r = &a.resource_spec;
    for (field, v) in [
        ("cpu_limit", r.cpu_limit),
        ("memory_limit", r.memory_limit),
        ("cpu_req", r.cpu_req),
        ("memory_req", r.memory_req),
    ] {
        if v < 0 {
            f.error(
                at(&segs!["resource_spec", field]),
                format!("{field} is negative ({v})"),
                "CPU is in millicores and memory in MiB; 0 or more",
            );
        }
    }
    for (req, limit, rv, lv) in [
        ("cpu_req", "cpu_limit", r.cpu_req, r.cpu_limit),
        ("memory_req", "memory_limit", r.memory_req, r.memory_limit),
    ] {
        if rv > 0 && lv > 0 && rv > lv {
            f.error(
                at(&segs!["resource_spec", req]),
                format!("{req} ({rv}) is more than {limit} ({lv})"),
                "Kubernetes rejects a pod whose request exceeds its limit",
            );
        }
    }
    let c = &a.cache_setting;
    // A workspace cache needs no directory (build-api-ui-made.md §2).
    if c.enabled
        && c.cache_dir.trim().is_empty()
        && c.dir_type != Some(crate::core::model::CacheDirType::Workspace)
    {
        f.warn(
            at(&segs!["cache_setting", "cache_dir"]),
            "the cache is enabled but cache_dir is empty",
            "write the directory to cache, e.g. `cache_dir: /root/.npm`",
        );
    } else if !c.enabled && !c.cache_dir.is_empty() {
        f.warn_key(
            at(&segs!["cache_setting", "cache_dir"]),
            "cache_dir is set but the cache is disabled",
            "Zadig drops cache_dir while the cache is disabled, so plan would show a change forever: set `enabled: true` or remove cache_dir",
        );
    }
    let mut mounts: HashMap<&str, usize> = HashMap::new();
    for (i, s) in a.storages.storages_properties.iter().enumerate() {
        let at =
            |field: &'static str| join(&base, &segs!["storages", "storages_properties", i, field]);
        match s.provision_type.as_str() {
            "dynamic" => {
                if s.storage_size_in_gib == 0 {
                    f.error(
                        at("storage_size_in_gib"),
                        "a dynamic volume needs storage_size_in_gib",
                        "write the size in GiB, e.g. `storage_size_in_gib: 10`",
                    );
                }
            }
            "static" => {
                if s.pvc.trim().is_empty() {
                    f.error(
                        at("pvc"),
                        "a static volume needs pvc",
                        "write the name of the existing PersistentVolumeClaim",
                    );
                }
            }
            other => {
                let mut hint =
                    "write `dynamic` (a new volume) or `static` (an existing PVC)".to_owned();
                if let Some(near) = did_you_mean(other, ["dynamic", "static"]) {
                    hint = format!("did you mean `{near}`? {hint}");
                }
                f.error(
                    at("provision_type"),
                    format!("unknown provision_type `{other}`"),
                    hint,
                );
            }
        }
        if s.storage_size_in_gib < 0 {
            f.error(
                at("storage_size_in_gib"),
                format!(
                    "storage_size_in_gib is negative ({})",
                    s.storage_size_in_gib
                ),
                "write the size in GiB",
            );
        }
        if s.mount_path.trim().is_empty() {
            f.error(
                at("mount_path"),
                "mount_path is empty",
                "write where the volume is mounted, e.g. `/cache`",
            );
        } else if let Some(first) = mounts.get(s.mount_path.as_str()) {
            f.error(
                at("mount_path"),
                format!("mount path `{}` is used twice", s.mount_path),
                format!(
                    "storages_properties[{first}] is already mounted there: mount paths must differ"
                ),
            );
        } else {
            mounts.insert(&s.mount_path, i);
        }
    }
    check_key_values(f, &base, "custom_annotations", &a.custom_annotations);
    check_key_values(f, &base, "custom_labels", &a.custom_labels);
    let mut outputs: HashMap<&str, usize> = HashMap::new();
    for (i, o) in a.outputs.iter().enumerate() {
        let at = join(&base, &segs!["outputs", i]);
        if !is_env_name(o) {
            f.error(
                at,
                format!("output `{o}` is not a valid variable name"),
                ENV_NAME_HINT,
            );
        } else if o == "IMAGE" || o == "PKG_FILE" {
            f.warn(
                at,
                format!("Zadig always adds the output `{o}`"),
                "remove it: listing it again makes a duplicate output",
            );
        } else if let Some(first) = outputs.get(o.as_str()) {
            f.error(
                at,
                format!("output `{o}` is listed twice"),
                format!("it is already outputs[{first}]: remove one"),
            );
        } else {
            outputs.insert(o, i);
        }
    }
}

fn check_key_values(f: &mut Findings, base: &[Seg], field: &'static str, kvs: &[KeyValue]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, kv) in kvs.iter().enumerate() {
        let at = join(base, &segs![field, i, "key"]);
        if kv.key.trim().is_empty() {
            f.error(at, format!("{field} key is empty"), "write the key");
        } else if let Some(first) = seen.get(kv.key.as_str()) {
            f.error(
                at,
                format!("{field} key `{}` is listed twice", kv.key),
                format!("it is already {field}[{first}]: keys must be unique"),
            );
        } else {
            seen.insert(&kv.key, i);
        }
    }
}

fn check_template(f: &mut Findings, t: &TemplateBuildSpec) {
    if t.template_name.trim().is_empty() {
        f.error(
            path!["template_name"],
            "template_name is empty",
            "write the build template's exact name",
        );
    }
    if t.target_services.is_empty() {
        f.error(
            path!["target_services"],
            "target_services is empty",
            "Zadig needs at least one service module built from the template: add `- service_name: ...` with `service_module: ...`",
        );
    }
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, ts) in t.target_services.iter().enumerate() {
        let base = path!["target_services", i];
        check_service(f, &base, &ts.service_name, &ts.service_module);
        if let Some(first) = seen.get(&(ts.service_name.as_str(), ts.service_module.as_str())) {
            f.error(
                base.clone(),
                format!(
                    "service `{}/{}` is listed twice",
                    ts.service_name, ts.service_module
                ),
                format!("it is already target_services[{first}]: merge the two entries"),
            );
        } else {
            seen.insert((&ts.service_name, &ts.service_module), i);
        }
        check_repos(f, &join(&base, &segs!["repo_info"]), &ts.repo_info);
        let mut keys: HashMap<&str, usize> = HashMap::new();
        for (j, input) in ts.inputs.iter().enumerate() {
            let at = |field: &'static str| join(&base, &segs!["inputs", j, field]);
            if input.key.is_empty() {
                f.error(
                    at("key"),
                    "input key is empty",
                    "write the template variable's name",
                );
            } else if !is_env_name(&input.key) {
                f.error(
                    at("key"),
                    format!("input key `{}` is not a valid variable name", input.key),
                    ENV_NAME_HINT,
                );
            } else if let Some(first) = keys.get(input.key.as_str()) {
                f.error(
                    at("key"),
                    format!("input `{}` is set twice", input.key),
                    format!("it is already inputs[{first}]: keys are unique per service"),
                );
            } else {
                keys.insert(&input.key, j);
            }
            check_value(
                f,
                at("value"),
                &input.key,
                &input.value,
                input.is_credential,
                ValueOf::TemplateInput,
            );
        }
    }
}

/// Checks `zadig-sync.yaml` beyond its types.
pub fn check_config(config: &Config) -> Vec<Finding> {
    let mut f = Findings::default();
    if let Some(endpoint) = &config.endpoint {
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"));
        match rest {
            None => f.error(
                path!["endpoint"],
                format!("endpoint `{endpoint}` is not an http(s) URL"),
                "write the Zadig URL with its scheme, e.g. `https://zadig.example.com`",
            ),
            Some(rest)
                if rest
                    .split('/')
                    .next()
                    .is_some_and(|host| host.contains('@')) =>
            {
                f.error(
                    path!["endpoint"],
                    "endpoint holds credentials",
                    "never put credentials in a file: set ZADIG_TOKEN or use --token-file",
                )
            }
            Some("") => f.error(
                path!["endpoint"],
                "endpoint has no host",
                "write the Zadig URL, e.g. `https://zadig.example.com`",
            ),
            Some(_) => {}
        }
    }
    for (j, g) in config.exclude.iter().enumerate() {
        if g.is_empty() {
            f.error(
                path!["exclude", j],
                "empty exclude pattern",
                "write a glob of file paths relative to the directory, e.g. `ci/**`",
            );
        } else if let Err(e) = globset::Glob::new(g) {
            f.error(
                path!["exclude", j],
                format!("invalid exclude pattern `{g}`: {}", e.kind()),
                "write a glob of file paths: `*` any text within a directory, `**` any directories, `{a,b}` alternatives",
            );
        }
    }
    if config.projects.is_empty() {
        f.warn_key(
            path!["projects"],
            "no projects are declared",
            "zadig-sync manages only the projects listed here: add `- key: <project key>` under `projects:`",
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in config.projects.iter().enumerate() {
        let at = |more: &[Seg]| join(&segs!["projects", i], more);
        if p.key.trim().is_empty() {
            f.error(
                at(&segs!["key"]),
                "project key is empty",
                "write the project's key (its identifier, not its display name)",
            );
        } else if p.key.trim() != p.key {
            f.error(
                at(&segs!["key"]),
                format!("project key {:?} has leading or trailing whitespace", p.key),
                format!("write `key: {}`", p.key.trim()),
            );
        } else if let Some(first) = seen.get(p.key.as_str()) {
            f.error(
                at(&segs!["key"]),
                format!("project `{}` is declared twice", p.key),
                format!("it is already projects[{first}]: merge the two entries"),
            );
        } else {
            seen.insert(&p.key, i);
        }
        for (field, globs) in [("protect", &p.protect), ("ignore", &p.ignore)] {
            for (j, g) in globs.iter().enumerate() {
                if g.is_empty() {
                    f.error(
                        at(&segs![field, j]),
                        format!("empty {field} pattern"),
                        "write a glob of build names, e.g. `release-*`",
                    );
                } else if let Err(e) = globset::Glob::new(g) {
                    f.error(
                        at(&segs![field, j]),
                        format!("invalid {field} pattern `{g}`: {}", e.kind()),
                        "write a glob of build names: `*` any text, `?` one character, `[abc]` a class, `{a,b}` alternatives",
                    );
                }
            }
        }
    }
    f.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{
        CacheSetting, Input, Kind, ProjectConfig, ResourceSpec, ServiceModule, StorageProperty,
        Storages, TargetService,
    };

    fn config(keys: &[&str]) -> Config {
        Config {
            projects: keys
                .iter()
                .map(|k| ProjectConfig {
                    key: (*k).to_owned(),
                    ..ProjectConfig::default()
                })
                .collect(),
            ..Config::default()
        }
    }

    fn build() -> BuildSpec {
        BuildSpec {
            kind: None,
            name: "api".into(),
            project_key: "demo".into(),
            infrastructure: Infrastructure::Kubernetes,
            build_os: "ubuntu 20.04".into(),
            installs: vec![],
            script_type: ScriptType::Shell,
            build_script: "make".into(),
            repo_info: vec![],
            parameters: vec![],
            services: vec![],
            docker_build_step: None,
            advanced_settings: None,
        }
    }

    fn param(key: &str, value: ParamValue, credential: bool) -> Parameter {
        Parameter {
            key: key.into(),
            param_type: ParamType::String,
            default_value: value,
            choice_option: vec![],
            choice_value: vec![],
            is_credential: credential,
            description: String::new(),
        }
    }

    /// `(severity, path, message)` of each finding, for compact asserts.
    fn run(b: BuildSpec) -> Vec<(Severity, String, String)> {
        check_build(&BuildDef::Build(b), Some(&config(&["demo"])))
            .into_iter()
            .map(|f| (f.severity, display_path(&f.path), f.message))
            .collect()
    }

    #[test]
    fn a_plain_build_is_clean() {
        assert_eq!(run(build()), vec![]);
    }

    #[test]
    fn names_that_never_converge_are_errors() {
        let mut b = build();
        b.name = " api".into();
        let got = run(b);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, "name");
        assert!(got[0].2.contains("whitespace"));

        let mut b = build();
        b.name = "a/b".into();
        assert!(run(b)[0].2.contains("contains `/`"));
    }

    #[test]
    fn undeclared_project_suggests_the_near_one() {
        let mut b = build();
        b.project_key = "dmeo".into();
        let f = check_build(&BuildDef::Build(b.clone()), Some(&config(&["demo"])));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, path!["project_key"]);
        assert!(
            f[0].hint
                .as_deref()
                .unwrap_or("")
                .starts_with("did you mean `demo`?")
        );
        // Without a usable config the check is skipped, not guessed.
        assert!(check_build(&BuildDef::Build(b), None).is_empty());
    }

    #[test]
    fn credentials() {
        let mut b = build();
        b.parameters = vec![
            param("A", ParamValue::Literal(String::new()), true),
            param("B", ParamValue::Literal("hunter2".into()), true),
            param("C", ParamValue::FromEnv("C_TOKEN".into()), true),
            param("D", ParamValue::Keep, true),
            param("E", ParamValue::FromEnv("E".into()), false),
            param("F", ParamValue::Keep, false),
            param("G", ParamValue::FromEnv("1BAD".into()), true),
            param("H", ParamValue::Literal(MASK.into()), true),
        ];
        let got = run(b);
        let sev: Vec<_> = got.iter().map(|g| (g.0, g.1.as_str())).collect();
        assert_eq!(
            sev,
            [
                (Severity::Error, "parameters[0].default_value"),
                (Severity::Warning, "parameters[1].default_value"),
                (Severity::Error, "parameters[4].default_value"),
                (Severity::Error, "parameters[5].default_value"),
                (Severity::Error, "parameters[6].default_value"),
                (Severity::Error, "parameters[7].default_value"),
            ]
        );
    }

    #[test]
    fn parameter_keys_and_choices() {
        let mut b = build();
        let mut choice = param("ENV", ParamValue::Literal("prod".into()), false);
        choice.param_type = ParamType::Choice;
        choice.choice_option = vec!["staging".into(), "production".into()];
        let mut multi = param("TARGETS", ParamValue::default(), false);
        multi.param_type = ParamType::MultiSelect;
        multi.choice_option = vec!["a".into(), "b".into()];
        multi.choice_value = vec!["a".into(), "c".into()];
        b.parameters = vec![
            choice,
            multi,
            param("my-var", ParamValue::default(), false),
            param("ENV", ParamValue::default(), false),
        ];
        let got = run(b);
        let paths: Vec<_> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(
            paths,
            [
                "parameters[0].default_value",
                "parameters[1].choice_value[1]",
                "parameters[2].key",
                "parameters[3].key",
            ]
        );
        assert!(got[3].2.contains("defined twice"));
    }

    #[test]
    fn docker_and_advanced_settings() {
        let mut b = build();
        b.docker_build_step = Some(DockerBuildStep {
            dockerfile_source: DockerfileSource::Local,
            build_context_dir: ".".into(),
            dockerfile_directory: String::new(),
            template_name: String::new(),
            build_args: String::new(),
            enable_buildkit: false,
            platforms: String::new(),
        });
        let volume = |path: &str| StorageProperty {
            provision_type: "dynamic".into(),
            storage_size_in_gib: 1,
            mount_path: path.into(),
            ..StorageProperty::default()
        };
        b.advanced_settings = Some(AdvancedSettings {
            timeout: -1,
            cluster_name: String::new(),
            strategy_name: String::new(),
            resource_spec: ResourceSpec {
                cpu_limit: 1000,
                memory_limit: -5,
                cpu_req: 2000,
                memory_req: 0,
                gpu_limit: String::new(),
            },
            cache_setting: CacheSetting::default(),
            storages: Storages {
                enabled: true,
                storages_properties: vec![volume("/c"), volume("/c")],
            },
            use_host_docker_daemon: false,
            privileged_mode: false,
            custom_annotations: vec![],
            custom_labels: vec![],
            outputs: vec!["IMAGE".into(), "bad-name".into()],
        });
        let got = run(b);
        let paths: Vec<_> = got.iter().map(|g| (g.0, g.1.as_str())).collect();
        assert_eq!(
            paths,
            [
                (Severity::Error, "docker_build_step.dockerfile_directory"),
                (Severity::Error, "advanced_settings.cluster_name"),
                (Severity::Error, "advanced_settings.timeout"),
                (
                    Severity::Error,
                    "advanced_settings.resource_spec.memory_limit"
                ),
                (Severity::Error, "advanced_settings.resource_spec.cpu_req"),
                (
                    Severity::Error,
                    "advanced_settings.storages.storages_properties[1].mount_path"
                ),
                (Severity::Warning, "advanced_settings.outputs[0]"),
                (Severity::Error, "advanced_settings.outputs[1]"),
            ]
        );
    }

    #[test]
    fn services_are_unique() {
        let mut b = build();
        let s = ServiceModule {
            service_name: "api".into(),
            service_module: "api".into(),
        };
        b.services = vec![s.clone(), s.clone(), s];
        let got = run(b);
        assert_eq!(got.len(), 2);
        assert!(got[1].2.contains("listed twice"));
    }

    #[test]
    fn template_rules() {
        let input = |key: &str, value: ParamValue, credential: bool| Input {
            key: key.into(),
            value,
            input_type: None,
            is_credential: credential,
        };
        let t = TemplateBuildSpec {
            kind: Some(Kind::TemplateBuild),
            name: "w".into(),
            project_key: "demo".into(),
            template_name: String::new(),
            target_services: vec![TargetService {
                service_name: "w".into(),
                service_module: "w".into(),
                repo_info: vec![],
                inputs: vec![
                    input("PASSWORD", ParamValue::Keep, true),
                    input("GO", ParamValue::Literal("1.22".into()), false),
                    input("GO", ParamValue::Literal("1.23".into()), false),
                ],
            }],
        };
        let got: Vec<_> = check_build(&BuildDef::Template(t.clone()), Some(&config(&["demo"])))
            .into_iter()
            .map(|f| display_path(&f.path))
            .collect();
        assert_eq!(
            got,
            [
                "template_name",
                "target_services[0].inputs[0].value",
                "target_services[0].inputs[2].key"
            ]
        );
        let mut empty = t;
        empty.template_name = "tpl".into();
        empty.target_services.clear();
        let got = check_build(&BuildDef::Template(empty), None);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].path, path!["target_services"]);
    }

    #[test]
    fn config_rules() {
        let mut c = config(&["demo", "demo", ""]);
        c.projects[0].protect = vec!["release-[".into(), "ok-*".into()];
        c.endpoint = Some("zadig.example.com".into());
        let got: Vec<_> = check_config(&c)
            .into_iter()
            .map(|f| display_path(&f.path))
            .collect();
        assert_eq!(
            got,
            [
                "endpoint",
                "projects[0].protect[0]",
                "projects[1].key",
                "projects[2].key"
            ]
        );
        let mut c = config(&[]);
        c.endpoint = Some("https://user:pw@zadig.example.com/x".into());
        let got = check_config(&c);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].message, "endpoint holds credentials");
        assert_eq!(got[1].severity, Severity::Warning);
    }

    #[test]
    fn env_names_and_suggestions() {
        assert!(is_env_name("GOFLAGS"));
        assert!(is_env_name("_x1"));
        assert!(!is_env_name("1X"));
        assert!(!is_env_name("A-B"));
        assert!(!is_env_name(""));
        assert_eq!(did_you_mean("lables", ["labels", "name"]), Some("labels"));
        assert_eq!(did_you_mean("zzz", ["labels", "name"]), None);
        assert_eq!(
            did_you_mean("buld_args", ["build_os", "build_script"]),
            None
        );
        assert_eq!(
            did_you_mean("Template", ["Build", "TemplateBuild"]),
            Some("TemplateBuild")
        );
        assert_eq!(did_you_mean("K8S", ["kubernetes", "vm"]), None);
        assert_eq!(did_you_mean("VM", ["kubernetes", "vm"]), Some("vm"));
        assert_eq!(display_path(&segs!["a", 1, "b"]), "a[1].b");
    }
}
