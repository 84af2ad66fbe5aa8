//! The definition model: what a user writes in a definition file, and what the
//! normaliser produces from the live state.
//!
//! A plain build ([`BuildSpec`]) is the body of Zadig's `POST /openapi/build`
//! request (build-api.md §4.1) and a template build ([`TemplateBuildSpec`]) the
//! body of `POST /openapi/build?source=template` (§4.2), with one extension:
//! credential parameter values may name an environment variable or ask Zadig to
//! keep its stored value ([`ParamValue`]).
//!
//! Field order here is the canonical order of rendered YAML and of plan paths.
//! Empty values are skipped when serialising: Go decodes an absent field and its
//! zero value identically, so the request body means the same, and the YAML that
//! `import` writes stays short.

use std::fmt;

use schemars::JsonSchema;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The value Zadig sends back in place of a credential it keeps.
pub const MASK: &str = "********";

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// `kind:` of a definition document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// A plain build (the default when `kind` is absent).
    Build,
    /// A build made from a build template.
    TemplateBuild,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Build => "Build",
            Kind::TemplateBuild => "TemplateBuild",
        })
    }
}

/// Where a build runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Infrastructure {
    /// A pod in a Kubernetes cluster (`advanced_settings.cluster_name`).
    Kubernetes,
    /// A Zadig VM agent.
    Vm,
}

/// The interpreter of `build_script`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScriptType {
    /// Linux shell.
    Shell,
    /// Windows batch file (VM agents).
    BatchFile,
    /// Windows PowerShell (VM agents).
    Powershell,
}

/// A plain build: the body of `POST /openapi/build` (build-api.md §4.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// `Build` (optional: it is the default).
    #[serde(default, skip_serializing)]
    #[schemars(extend("enum" = ["Build"]))]
    pub kind: Option<Kind>,
    /// Build name. Unique across **all** Zadig projects.
    pub name: String,
    /// Project key (the project identifier, not its display name).
    pub project_key: String,
    /// `kubernetes` or `vm`.
    pub infrastructure: Infrastructure,
    /// Basic image **label**, exactly as Zadig lists it (e.g. `ubuntu 20.04`).
    pub build_os: String,
    /// Tools to install before the script runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installs: Vec<Install>,
    /// `shell`, `batch_file` or `powershell`.
    pub script_type: ScriptType,
    /// The build script, byte-exact. `$VAR` is left for Zadig to expand.
    #[serde(default)]
    pub build_script: String,
    /// Code repositories to check out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_info: Vec<RepoInfo>,
    /// Build variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Service modules this build builds. Omitting it unbinds every service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceModule>,
    /// Image build step; absent means no image build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_build_step: Option<DockerBuildStep>,
    /// Advanced settings; absent means Zadig's defaults (timeout 60, local cluster,
    /// its default strategy, the `low` preset: 4000m/8192Mi limits, 1000m/1024Mi
    /// requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_settings: Option<AdvancedSettings>,
}

/// A tool to install (`installs[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// Package name, e.g. `go`.
    pub name: String,
    /// Package version, e.g. `1.22.1`.
    pub version: String,
}

/// A repository (`repo_info[]`, `OpenAPIRepoInput`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoInfo {
    /// Alias of a **system-level** code host.
    pub codehost_name: String,
    /// Organisation, group or user that owns the repository.
    pub repo_namespace: String,
    /// Repository name.
    pub repo_name: String,
    /// Default branch.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub branch: String,
    /// Git remote name. Zadig stores an omitted value as "", so write `origin`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote_name: String,
    /// Where to check the repository out, relative to the workspace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checkout_path: String,
    /// Also check out submodules.
    #[serde(default, skip_serializing_if = "is_false")]
    pub submodules: bool,
    /// Build a pinned commit instead of the branch head.
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_commit: bool,
    /// The pinned commit (with `enable_commit`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_id: String,
    /// A pull request number to build.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub pr: i64,
    /// Pull request numbers to build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prs: Vec<i64>,
}

/// Type of a build variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    /// Free text.
    String,
    /// One of `choice_option`.
    Choice,
    /// Several of `choice_option`.
    MultiSelect,
    /// An image.
    Image,
    /// A script.
    Script,
    /// A file.
    File,
}

/// A build variable (`parameters[]`, `ParameterSetting`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Variable name.
    pub key: String,
    /// Variable type (default `string`).
    #[serde(rename = "type", default = "ParamType::default_string")]
    pub param_type: ParamType,
    /// Default value. For a credential: a literal, `{from_env: NAME}` or `{keep: true}`.
    #[serde(default, skip_serializing_if = "ParamValue::is_empty")]
    pub default_value: ParamValue,
    /// Options of a `choice` or `multi-select` variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choice_option: Vec<String>,
    /// Selected values of a `multi-select` variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choice_value: Vec<String>,
    /// The value is a secret: never printed by zadig-sync.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_credential: bool,
    /// Description shown in Zadig.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl ParamType {
    fn default_string() -> Self {
        ParamType::String
    }
}

/// The value of a parameter or template input.
///
/// In YAML: a string, `{from_env: NAME}` or `{keep: true}`. Hand-written
/// (de)serialisation rather than an untagged enum, so that errors keep their
/// line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamValue {
    /// A literal value.
    Literal(String),
    /// Read from this environment variable when a plan or apply needs it.
    FromEnv(String),
    /// Keep the value Zadig has stored (sent as `********`).
    Keep,
}

impl Default for ParamValue {
    fn default() -> Self {
        ParamValue::Literal(String::new())
    }
}

impl ParamValue {
    /// True for an empty literal.
    pub fn is_empty(&self) -> bool {
        matches!(self, ParamValue::Literal(s) if s.is_empty())
    }

    /// The literal, if it is one.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            ParamValue::Literal(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            ParamValue::Literal(v) => s.serialize_str(v),
            ParamValue::FromEnv(name) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("from_env", name)?;
                m.end()
            }
            ParamValue::Keep => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("keep", &true)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (quote numbers), {from_env: NAME} or {keep: true}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue::Literal(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
                Ok(ParamValue::Literal(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamValue, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "empty map: write {from_env: NAME} or {keep: true}",
                    ));
                };
                let value = match key.as_str() {
                    "from_env" => {
                        let name: String = map.next_value()?;
                        if name.is_empty() {
                            return Err(de::Error::custom("from_env needs a variable name"));
                        }
                        ParamValue::FromEnv(name)
                    }
                    "keep" => {
                        let keep: bool = map.next_value()?;
                        if !keep {
                            return Err(de::Error::custom(
                                "`keep: false` means nothing: give a value, {from_env: NAME}, or `keep: true`",
                            ));
                        }
                        ParamValue::Keep
                    }
                    other => return Err(de::Error::unknown_field(other, &["from_env", "keep"])),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "unexpected `{extra}`: a value is either {{from_env: NAME}} or {{keep: true}}"
                    )));
                }
                Ok(value)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ParamValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ParamValue".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A literal string, {from_env: NAME} (read from the environment), or {keep: true} (keep Zadig's stored value).",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {"from_env": {"type": "string", "minLength": 1}},
                 "required": ["from_env"], "additionalProperties": false},
                {"type": "object", "properties": {"keep": {"const": true}},
                 "required": ["keep"], "additionalProperties": false}
            ]
        })
    }
}

/// A service module a build builds (`services[]`).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ServiceModule {
    /// Service name.
    pub service_name: String,
    /// Service module (container) name.
    pub service_module: String,
}

/// Where the Dockerfile comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DockerfileSource {
    /// A file in the repository (`dockerfile_directory`).
    Local,
    /// A Dockerfile template (`template_name`).
    Template,
}

/// The image build step (`docker_build_step`, `OpenAPIDockerBuildStep`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerBuildStep {
    /// `local` or `template`.
    pub dockerfile_source: DockerfileSource,
    /// Build context directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build_context_dir: String,
    /// Path of the Dockerfile (for `local`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dockerfile_directory: String,
    /// Dockerfile template name (for `template`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template_name: String,
    /// Extra `docker build` arguments.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build_args: String,
    /// Build with BuildKit (a bool: Zadig rejects a string).
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_buildkit: bool,
    /// BuildKit platforms, e.g. `linux/amd64,linux/arm64`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platforms: String,
}

/// `advanced_settings` (`OpenAPIAdvancedSetting`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvancedSettings {
    /// Timeout in **minutes** (Zadig's comment says seconds; the runner uses minutes).
    #[serde(default)]
    pub timeout: i64,
    /// Cluster name. Required by Zadig whenever `advanced_settings` is present.
    pub cluster_name: String,
    /// Scheduling strategy of that cluster; "" means the cluster's default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strategy_name: String,
    /// CPU (millicores) and memory (MiB) requests and limits.
    #[serde(default)]
    pub resource_spec: ResourceSpec,
    /// Build cache.
    #[serde(default, skip_serializing_if = "CacheSetting::is_default")]
    pub cache_setting: CacheSetting,
    /// Shared storage volumes.
    #[serde(default, skip_serializing_if = "Storages::is_default")]
    pub storages: Storages,
    /// Use the node's docker daemon.
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_host_docker_daemon: bool,
    /// Run the build pod privileged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub privileged_mode: bool,
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_annotations: Vec<KeyValue>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_labels: Vec<KeyValue>,
    /// Output variable names (besides Zadig's own `IMAGE` and `PKG_FILE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
}

/// `resource_spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    /// CPU limit in millicores.
    #[serde(default)]
    pub cpu_limit: i64,
    /// Memory limit in MiB.
    #[serde(default)]
    pub memory_limit: i64,
    /// CPU request in millicores.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub cpu_req: i64,
    /// Memory request in MiB.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub memory_req: i64,
    /// GPU limit, e.g. `nvidia.com/gpu: 1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gpu_limit: String,
}

/// `cache_setting`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSetting {
    /// Cache the directory between runs.
    #[serde(default)]
    pub enabled: bool,
    /// The cached directory (only kept by Zadig when enabled, and used only
    /// with `dir_type: user_defined`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cache_dir: String,
    /// What the cache covers: `user_defined` (`cache_dir`, what the OpenAPI
    /// stores; the default) or `workspace` (the whole workspace, the UI's
    /// default; only the UI API can write it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_type: Option<CacheDirType>,
}

/// What a build cache covers (`cache_dir_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CacheDirType {
    /// The workspace.
    Workspace,
    /// `cache_dir`.
    UserDefined,
}

impl CacheSetting {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `storages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storages {
    /// Mount the volumes.
    #[serde(default)]
    pub enabled: bool,
    /// The volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storages_properties: Vec<StorageProperty>,
}

impl Storages {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// One volume (`NFSProperties`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageProperty {
    /// `dynamic` or `static`.
    pub provision_type: String,
    /// Storage class (dynamic).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_class: String,
    /// Size in GiB (dynamic).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub storage_size_in_gib: i64,
    /// Existing PVC (static).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pvc: String,
    /// Access mode, e.g. `ReadWriteMany`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_mode: String,
    /// Sub-path of the volume.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subpath: String,
    /// Mount path in the build pod.
    pub mount_path: String,
    /// Delete the volume after the build.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_temporary: bool,
}

/// A pod annotation or label. Zadig stores the value as any JSON value; a
/// definition file writes a string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// A template build: the body of `POST /openapi/build?source=template` (§4.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBuildSpec {
    /// `TemplateBuild`.
    #[serde(default, skip_serializing)]
    #[schemars(extend("enum" = ["TemplateBuild"]))]
    pub kind: Option<Kind>,
    /// Build name. Unique across **all** Zadig projects.
    pub name: String,
    /// Project key.
    pub project_key: String,
    /// Build template name (exact).
    pub template_name: String,
    /// One entry per service module built from the template (at least one).
    pub target_services: Vec<TargetService>,
}

/// A service module of a template build (`OpenAPIServiceBuildArgs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetService {
    /// Service name.
    pub service_name: String,
    /// Service module name.
    pub service_module: String,
    /// Repositories for this service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_info: Vec<RepoInfo>,
    /// Values for the template's variables. Keys the template does not define are
    /// dropped by Zadig.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Input>,
}

/// A template variable value (`KV`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Template variable name.
    pub key: String,
    /// Value. For a credential: a literal or `{from_env: NAME}` (Zadig has no
    /// keep-the-stored-value for template inputs).
    #[serde(default, skip_serializing_if = "ParamValue::is_empty")]
    pub value: ParamValue,
    /// Variable type; Zadig stores "" when omitted.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<ParamType>,
    /// The value is a secret.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_credential: bool,
}

/// One build definition, plain or template.
// Values live in one Vec per run; boxing the larger variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum BuildDef {
    /// `kind: Build`.
    Build(BuildSpec),
    /// `kind: TemplateBuild`.
    Template(TemplateBuildSpec),
}

impl BuildDef {
    /// Build name.
    pub fn name(&self) -> &str {
        match self {
            BuildDef::Build(b) => &b.name,
            BuildDef::Template(t) => &t.name,
        }
    }

    /// Project key.
    pub fn project_key(&self) -> &str {
        match self {
            BuildDef::Build(b) => &b.project_key,
            BuildDef::Template(t) => &t.project_key,
        }
    }

    /// Document kind.
    pub fn kind(&self) -> Kind {
        match self {
            BuildDef::Build(_) => Kind::Build,
            BuildDef::Template(_) => Kind::TemplateBuild,
        }
    }

    /// The definition as a JSON value in canonical field order (credentials
    /// included as they are: callers that print must mask them).
    pub fn to_value(&self) -> serde_json::Value {
        // Serialising plain data with string keys cannot fail.
        let v = match self {
            BuildDef::Build(b) => serde_json::to_value(b),
            BuildDef::Template(t) => serde_json::to_value(t),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    /// Every credential value in this definition, in document order, with the
    /// JSON path of the value.
    pub fn credentials(&self) -> Vec<(String, &ParamValue)> {
        match self {
            BuildDef::Build(b) => b
                .parameters
                .iter()
                .filter(|p| p.is_credential)
                .map(|p| {
                    (
                        format!("parameters[{}].default_value", p.key),
                        &p.default_value,
                    )
                })
                .collect(),
            BuildDef::Template(t) => t
                .target_services
                .iter()
                .flat_map(|ts| {
                    ts.inputs.iter().filter(|i| i.is_credential).map(move |i| {
                        (
                            format!(
                                "target_services[{}/{}].inputs[{}].value",
                                ts.service_name, ts.service_module, i.key
                            ),
                            &i.value,
                        )
                    })
                })
                .collect(),
        }
    }
}

// The kinds' sections are added by the registry (`crate::kinds`): adding a
// kind does not touch this struct. They stay typed fields, so the file is
// still parsed with `deny_unknown_fields` and file:line:column spans.
crate::kinds::with_config_sections! {
/// `zadig-sync.yaml`: what this directory manages and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Zadig URL; overridden by `--endpoint` or `ZADIG_ENDPOINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The projects this directory manages. Builds of other projects are never
    /// read or changed.
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
    /// `apply` refuses to delete more builds than this in one run without
    /// `--allow-mass-delete`.
    #[serde(default = "Config::default_max_deletes")]
    pub max_deletes: usize,
    /// Files below the directory that are not definitions (CI files,
    /// Kubernetes manifests): globs over paths relative to the directory,
    /// e.g. `ci/**`. They are not read as definitions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}
default {
    endpoint: None,
    projects: Vec::new(),
    max_deletes: Config::default_max_deletes(),
    exclude: Vec::new(),
}
}

impl Config {
    fn default_max_deletes() -> usize {
        10
    }

    /// The entry of a project, if this directory manages it.
    pub fn project(&self, key: &str) -> Option<&ProjectConfig> {
        self.projects.iter().find(|p| p.key == key)
    }
}

/// One managed project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project key.
    pub key: String,
    /// `true`: live builds with no definition are deleted by `apply`.
    #[serde(default)]
    pub prune: bool,
    /// Globs of build names never updated or deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<String>,
    /// Globs of build names never read, reported or touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}
