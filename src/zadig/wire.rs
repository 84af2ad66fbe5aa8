//! Zadig's JSON on the wire: request bodies, responses and look-ups, as
//! build-api.md §4 and build-api-one-read.md §2–3 describe them.
//!
//! These types are shared by the client (which reads them tolerantly: unknown
//! fields ignored, missing fields defaulted, `null` accepted for lists) and by
//! the emulator (which writes them the way aslan does: every list present, `[]`
//! for empty ones). Request bodies are whatever serialises as the OpenAPI
//! build: the shell sends the core's definition types as they serialise.
//!
//! A leaf: this module imports nothing of the crate.

use serde::{Deserialize, Deserializer, Serialize};

/// The value Zadig sends back in place of a credential it keeps, and reads
/// as "keep the stored value" in a non-template update (build-api.md §5.2).
pub const MASK: &str = "********";

/// Deserialises `null` as the type's default (Go nil slices and maps).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Deserialises any JSON scalar as a string (`interface{}` values in Go).
pub fn any_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
    })
}

/// `{"message":"success"}` and other write answers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MessageResp {
    /// `success`.
    #[serde(default)]
    pub message: String,
}

/// An aslan error body: `{"code","description","extra","message","type"}` for
/// `*HTTPError`s, `{"code":500,"description","message":"Internal Error: "}` for
/// plain errors (build-api.md §3.1).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Business code (6520, 6521, …) or HTTP-like code (400, 500).
    #[serde(default)]
    pub code: i64,
    /// Detail; may come from another request under concurrency (§3.1).
    #[serde(default)]
    pub description: String,
    /// Always `{}` for `*HTTPError`s; absent for plain errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
    /// Short message (often Chinese).
    #[serde(default)]
    pub message: String,
    /// `error` for `*HTTPError`s; absent for plain errors.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
}

/// `GET /openapi/build?projectKey=` (§4.3).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BuildListResp {
    /// Count of **all** builds in the project, whatever the page.
    #[serde(default)]
    pub total: i64,
    /// This page.
    #[serde(default, deserialize_with = "null_default")]
    pub builds: Vec<BuildBrief>,
}

/// One entry of the build list.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BuildBrief {
    /// Build name.
    #[serde(default)]
    pub name: String,
    /// Project key.
    #[serde(default)]
    pub project_key: String,
    /// `zadig` or `jenkins` (template builds report `zadig`).
    #[serde(default)]
    pub source: String,
    /// Display name of the last writer.
    #[serde(default)]
    pub update_by: String,
    /// Unix seconds of the last write.
    #[serde(default)]
    pub update_time: i64,
    /// Bound service modules.
    #[serde(default, deserialize_with = "null_default")]
    pub target_services: Vec<ServiceWithModule>,
}

/// `{service_name, service_module}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceWithModule {
    /// Service name.
    #[serde(default)]
    pub service_name: String,
    /// Service module.
    #[serde(default)]
    pub service_module: String,
}

/// `GET /openapi/build/:name/detail?projectKey=` (§4.4).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BuildDetail {
    /// Project key.
    #[serde(default)]
    pub project_key: String,
    /// Build name.
    #[serde(default)]
    pub name: String,
    /// `zadig` or `jenkins`.
    #[serde(default)]
    pub source: String,
    /// Bound service modules.
    #[serde(default, deserialize_with = "null_default")]
    pub target_services: Vec<ServiceWithModule>,
    /// Template name; "" for plain builds.
    #[serde(default)]
    pub template_name: String,
    /// Last writer.
    #[serde(default)]
    pub update_by: String,
    /// Unix seconds of the last write.
    #[serde(default)]
    pub update_time: i64,
    /// Repositories (no code host alias, `source` is the code host **type**).
    #[serde(default, deserialize_with = "null_default")]
    pub repos: Vec<DetailRepo>,
    /// Image and installs.
    #[serde(default, deserialize_with = "null_default")]
    pub build_env: BuildEnv,
    /// Partly filled advanced settings (§4.4).
    #[serde(default)]
    pub advanced_settings: Option<DetailAdvancedSettings>,
    /// The build script.
    #[serde(default)]
    pub build_script: String,
    /// Variables; credential values in plain text.
    #[serde(default, deserialize_with = "null_default")]
    pub parameters: Vec<DetailParameter>,
    /// Outputs, `IMAGE` and `PKG_FILE` first.
    #[serde(default, deserialize_with = "null_default")]
    pub outputs: Vec<Output>,
    /// Post-build settings.
    #[serde(default)]
    pub post_build: Option<PostBuild>,
}

/// `repos[]` of the detail (`OpenAPIRepo`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DetailRepo {
    /// Code host **type** (gitlab, github, …).
    #[serde(default)]
    pub source: String,
    /// Owner (= namespace for OpenAPI builds).
    #[serde(default)]
    pub repo_owner: String,
    /// Repository name.
    #[serde(default)]
    pub repo_name: String,
    /// Branch.
    #[serde(default)]
    pub branch: String,
    /// Remote name.
    #[serde(default)]
    pub remote_name: String,
    /// Checkout path.
    #[serde(default)]
    pub checkout_path: String,
    /// Submodules.
    #[serde(default)]
    pub submodules: bool,
    /// Always false for OpenAPI builds.
    #[serde(default)]
    pub hidden: bool,
}

/// `build_env` of the detail.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BuildEnv {
    /// Basic image id.
    #[serde(default)]
    pub basic_image_id: String,
    /// Basic image label (the `build_os` of the create body).
    #[serde(default)]
    pub basic_image_label: String,
    /// Installs.
    #[serde(default, deserialize_with = "null_default")]
    pub installs: Vec<InstallItem>,
}

/// `{name, version}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstallItem {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Version.
    #[serde(default)]
    pub version: String,
}

/// `advanced_settings` as the detail shows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DetailAdvancedSettings {
    /// Minutes.
    #[serde(default)]
    pub timeout: i64,
    /// Cache.
    #[serde(default)]
    pub cache_setting: Option<CacheSettingWire>,
    /// Cluster name (resolved from the id).
    #[serde(default)]
    pub cluster_name: String,
    /// Resources.
    #[serde(default)]
    pub resource_spec: Option<ResourceSpecWire>,
    /// Strategy name ("" when unknown).
    #[serde(default)]
    pub strategy_name: String,
    /// Always `null` in the detail.
    #[serde(default)]
    pub storages: Option<StoragesWire>,
    /// Real.
    #[serde(default)]
    pub use_host_docker_daemon: bool,
    /// Always false in the detail.
    #[serde(default)]
    pub privileged_mode: bool,
    /// Always `[]` in the detail.
    #[serde(default, deserialize_with = "null_default")]
    pub custom_annotations: Vec<KeyValueWire>,
    /// Always `[]` in the detail.
    #[serde(default, deserialize_with = "null_default")]
    pub custom_labels: Vec<KeyValueWire>,
    /// Always `[]` in the detail.
    #[serde(default, deserialize_with = "null_default")]
    pub outputs: Vec<String>,
}

/// `{enabled, cache_dir}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CacheSettingWire {
    /// Enabled.
    #[serde(default)]
    pub enabled: bool,
    /// Directory.
    #[serde(default)]
    pub cache_dir: String,
}

/// `{cpu_limit, memory_limit, cpu_req, memory_req, gpu_limit}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceSpecWire {
    /// Millicores.
    #[serde(default)]
    pub cpu_limit: i64,
    /// MiB.
    #[serde(default)]
    pub memory_limit: i64,
    /// Millicores.
    #[serde(default)]
    pub cpu_req: i64,
    /// MiB.
    #[serde(default)]
    pub memory_req: i64,
    /// GPU limit.
    #[serde(default)]
    pub gpu_limit: String,
}

/// `{enabled, storages_properties}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StoragesWire {
    /// Enabled.
    #[serde(default)]
    pub enabled: bool,
    /// Volumes (`NFSProperties`).
    #[serde(default, deserialize_with = "null_default")]
    pub storages_properties: Vec<StoragePropertyWire>,
}

/// `NFSProperties`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoragePropertyWire {
    /// `dynamic` / `static`.
    #[serde(default)]
    pub provision_type: String,
    /// Storage class.
    #[serde(default)]
    pub storage_class: String,
    /// GiB.
    #[serde(default)]
    pub storage_size_in_gib: i64,
    /// PVC.
    #[serde(default)]
    pub pvc: String,
    /// Access mode.
    #[serde(default)]
    pub access_mode: String,
    /// Sub-path.
    #[serde(default)]
    pub subpath: String,
    /// Mount path.
    #[serde(default)]
    pub mount_path: String,
    /// Temporary.
    #[serde(default)]
    pub is_temporary: bool,
}

/// `{key, value}` with `value` of any JSON type.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyValueWire {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value (`interface{}`).
    #[serde(default)]
    pub value: serde_json::Value,
}

/// `parameters[]` of the detail (`ServiceKeyVal`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DetailParameter {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value (any scalar; plain text even for credentials).
    #[serde(default, deserialize_with = "any_string")]
    pub value: String,
    /// Type; omitted when "".
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub param_type: String,
    /// Choices (template builds only).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub choice_option: Vec<String>,
    /// Selected choices (template builds only).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub choice_value: Vec<String>,
    /// Secret.
    #[serde(default)]
    pub is_credential: bool,
}

/// `{name, description}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Output {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// `post_build` (`commonmodels.PostBuild`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PostBuild {
    /// Image build.
    #[serde(default)]
    pub docker_build: Option<DockerBuildWire>,
    /// Object storage upload (UI only).
    #[serde(default)]
    pub object_storage_upload: Option<serde_json::Value>,
    /// File archive (UI only); omitted when nil.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_archive: Option<serde_json::Value>,
    /// Post-build script (UI only).
    #[serde(default)]
    pub scripts: String,
}

/// `post_build.docker_build`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DockerBuildWire {
    /// Build context (`build_context_dir`).
    #[serde(default)]
    pub work_dir: String,
    /// Dockerfile path (`dockerfile_directory`); "" for templates.
    #[serde(default)]
    pub docker_file: String,
    /// Build args.
    #[serde(default)]
    pub build_args: String,
    /// `local` / `template`.
    #[serde(default)]
    pub source: String,
    /// Dockerfile template id.
    #[serde(default)]
    pub template_id: String,
    /// Dockerfile template name as written.
    #[serde(default)]
    pub template_name: String,
    /// BuildKit.
    #[serde(default)]
    pub enable_buildkit: bool,
    /// Platforms (`platforms`).
    #[serde(default)]
    pub platform: String,
}

/// The stored model: `GET /api/aslan/build/build/:name?projectName=`
/// (`commonmodels.Build`, build-api-one-read.md §2.2). Only the fields a sync
/// tool needs; the rest is ignored on read.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StoredBuild {
    /// Mongo id.
    #[serde(default)]
    pub id: String,
    /// Build name.
    #[serde(default)]
    pub name: String,
    /// `zadig` or `jenkins`.
    #[serde(default)]
    pub source: String,
    /// Build template id ("" for plain builds).
    #[serde(default)]
    pub template_id: String,
    /// Minutes.
    #[serde(default)]
    pub timeout: i64,
    /// Bound service modules (with per-target repos and envs for template builds).
    #[serde(default, deserialize_with = "null_default")]
    pub targets: Vec<StoredTarget>,
    /// Description (UI only).
    #[serde(default)]
    pub desc: String,
    /// Unix seconds.
    #[serde(default)]
    pub update_time: i64,
    /// Last writer.
    #[serde(default)]
    pub update_by: String,
    /// Repositories.
    #[serde(default, deserialize_with = "null_default")]
    pub repos: Vec<StoredRepo>,
    /// Pre-build settings; `null` possible for Jenkins builds.
    #[serde(default)]
    pub pre_build: Option<PreBuild>,
    /// `kubernetes` / `vm`.
    #[serde(default)]
    pub infrastructure: String,
    /// VM agent labels (UI only).
    #[serde(default, deserialize_with = "null_default")]
    pub vm_labels: Vec<String>,
    /// `shell` / `batch_file` / `powershell`.
    #[serde(default)]
    pub script_type: String,
    /// The build script.
    #[serde(default)]
    pub scripts: String,
    /// Post-build settings.
    #[serde(default)]
    pub post_build: Option<PostBuild>,
    /// Jenkins settings (omitted when nil).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_build: Option<serde_json::Value>,
    /// Project key.
    #[serde(default)]
    pub product_name: String,
    /// Cache on.
    #[serde(default)]
    pub cache_enable: bool,
    /// `workspace`, `user_defined` or "".
    #[serde(default)]
    pub cache_dir_type: String,
    /// Cache directory.
    #[serde(default)]
    pub cache_user_dir: String,
    /// Privileged pod.
    #[serde(default)]
    pub enable_privileged_mode: bool,
    /// True iff the last write carried `advanced_settings`.
    #[serde(default)]
    pub advanced_setting_modified: bool,
    /// Outputs, `IMAGE` and `PKG_FILE` first.
    #[serde(default, deserialize_with = "null_default")]
    pub outputs: Vec<Output>,
}

/// `targets[]` of the stored model.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StoredTarget {
    /// Project key.
    #[serde(default)]
    pub product_name: String,
    /// Service name.
    #[serde(default)]
    pub service_name: String,
    /// Service module.
    #[serde(default)]
    pub service_module: String,
    /// Build name.
    #[serde(default)]
    pub build_name: String,
    /// Per-target repos (template builds).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub repos: Vec<StoredRepo>,
    /// Per-target envs (template builds; plain text even for credentials).
    #[serde(default, deserialize_with = "null_default")]
    pub envs: Vec<KeyVal>,
}

/// `types.Repository` as stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StoredRepo {
    /// Code host type.
    #[serde(default)]
    pub source: String,
    /// Code host id (look up its alias).
    #[serde(default)]
    pub codehost_id: i64,
    /// Owner.
    #[serde(default)]
    pub repo_owner: String,
    /// Namespace ("" means the owner).
    #[serde(default)]
    pub repo_namespace: String,
    /// Name.
    #[serde(default)]
    pub repo_name: String,
    /// Branch.
    #[serde(default)]
    pub branch: String,
    /// Remote name.
    #[serde(default)]
    pub remote_name: String,
    /// Checkout path.
    #[serde(default)]
    pub checkout_path: String,
    /// Submodules.
    #[serde(default)]
    pub submodules: bool,
    /// Pinned commit on.
    #[serde(default)]
    pub enable_commit: bool,
    /// Pinned commit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_id: String,
    /// PR.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pr: i64,
    /// PRs.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub prs: Vec<i64>,
    /// Hidden.
    #[serde(default)]
    pub hidden: bool,
    /// Branch filter (UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filter_regexp: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `commonmodels.PreBuild` (the fields a sync tool reads).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PreBuild {
    /// Resource preset: `low`, `medium`, `high`, `min`, `default`, `define`.
    #[serde(default)]
    pub res_req: String,
    /// Resources.
    #[serde(default)]
    pub res_req_spec: ResourceSpecWire,
    /// Image label (koderover images) or value (custom images).
    #[serde(default)]
    pub build_os: String,
    /// `koderover` / `custom`.
    #[serde(default)]
    pub image_from: String,
    /// Basic image id.
    #[serde(default)]
    pub image_id: String,
    /// Installs.
    #[serde(default, deserialize_with = "null_default")]
    pub installs: Vec<InstallItem>,
    /// Variables (credentials masked on released v4.2–v5.0).
    #[serde(default, deserialize_with = "null_default")]
    pub envs: Vec<KeyVal>,
    /// Proxy (UI only).
    #[serde(default)]
    pub enable_proxy: bool,
    /// Upload package (UI only).
    #[serde(default)]
    pub upload_pkg: bool,
    /// Cluster id.
    #[serde(default)]
    pub cluster_id: String,
    /// Strategy id ("" means the cluster's default).
    #[serde(default)]
    pub strategy_id: String,
    /// Host docker daemon.
    #[serde(default)]
    pub use_host_docker_daemon: bool,
    /// Volumes.
    #[serde(default)]
    pub storages: Option<StoragesWire>,
    /// Annotations.
    #[serde(default, deserialize_with = "null_default")]
    pub custom_annotations: Vec<KeyValueWire>,
    /// Labels.
    #[serde(default, deserialize_with = "null_default")]
    pub custom_labels: Vec<KeyValueWire>,
    /// Deprecated workspace cleaning (UI only; reset by an OpenAPI update).
    #[serde(default)]
    pub clean_workspace: bool,
    /// Legacy parameters (UI only; reset by an OpenAPI update).
    #[serde(default, deserialize_with = "null_default")]
    pub parameters: Vec<serde_json::Value>,
    /// Cluster source (UI only; reset by an OpenAPI update).
    #[serde(default)]
    pub cluster_source: String,
    /// Deprecated namespace (UI only; reset by an OpenAPI update).
    #[serde(default)]
    pub namespace: String,
}

/// `commonmodels.KeyVal` (the fields a sync tool reads).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyVal {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value.
    #[serde(default, deserialize_with = "any_string")]
    pub value: String,
    /// Type (omitted when "").
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kv_type: String,
    /// Choices.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub choice_option: Vec<String>,
    /// Selected choices.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub choice_value: Vec<String>,
    /// Secret.
    #[serde(default)]
    pub is_credential: bool,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Image registry (`image` variables; UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registry_id: String,
    /// Script of a `script` variable (UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub script: String,
    /// Function a `script` variable calls (UI only; used at run time).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub call_function: String,
    /// Computed from `call_function` by `correctFields`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_default"
    )]
    pub function_reference: Vec<String>,
    /// Path of a `file` variable (UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_path: String,
    /// Name of a `file` variable's file (UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_name: String,
    /// Id of a `file` variable's file (UI only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_id: String,
    /// Required (v5.0.0 and later; UI only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
}

/// `GET /api/aslan/template/build/:id` (`models.BuildTemplate`, the fields a
/// sync tool reads).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BuildTemplate {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Pre-build settings: `envs` are the template's variables.
    #[serde(default)]
    pub pre_build: Option<TemplatePreBuild>,
}

/// `pre_build` of a build template (its variables).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplatePreBuild {
    /// The template's variables, in order.
    #[serde(default, deserialize_with = "null_default")]
    pub envs: Vec<KeyVal>,
}

/// `GET /api/aslan/system/basicImages` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BasicImage {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Image value (e.g. `focal`).
    #[serde(default)]
    pub value: String,
    /// Label (the `build_os` of the create body).
    #[serde(default)]
    pub label: String,
    /// `koderover` / `custom`.
    #[serde(default)]
    pub image_from: String,
    /// `sonar` for sonar images.
    #[serde(default)]
    pub image_type: String,
}

/// `GET /api/aslan/cluster/clusters` entry (secrets not read).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Cluster {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The local cluster.
    #[serde(default)]
    pub local: bool,
    /// Strategies.
    #[serde(default)]
    pub advanced_config: ClusterAdvancedConfig,
}

/// `advanced_config` of a cluster.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterAdvancedConfig {
    /// Scheduling strategies.
    #[serde(default, deserialize_with = "null_default")]
    pub schedule_strategy: Vec<Strategy>,
}

/// A scheduling strategy.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Strategy {
    /// Id.
    #[serde(default)]
    pub strategy_id: String,
    /// Name (unique per cluster).
    #[serde(default)]
    pub strategy_name: String,
    /// `normal` / `required` / `preferred`.
    #[serde(default)]
    pub strategy: String,
    /// At most one per cluster.
    #[serde(default)]
    pub default: bool,
}

/// `GET /openapi/system/cluster` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct OpenApiCluster {
    /// Id.
    #[serde(default)]
    pub cluster_id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The local cluster.
    #[serde(default)]
    pub local: bool,
}

/// `GET /api/aslan/code/codehost` entry (secrets not read).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CodeHost {
    /// Global integer id.
    #[serde(default)]
    pub id: i64,
    /// URL.
    #[serde(default)]
    pub address: String,
    /// gitlab, github, gerrit, gitee, other, …
    #[serde(rename = "type", default)]
    pub host_type: String,
    /// Alias (the `codehost_name` of the create body); omitted when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
}

/// `GET /api/aslan/template/dockerfile` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DockerfileTemplateList {
    /// The templates (the key is singular).
    #[serde(default, deserialize_with = "null_default")]
    pub dockerfile_template: Vec<NamedId>,
    /// Count.
    #[serde(default)]
    pub total: i64,
}

/// `GET /api/aslan/template/build` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BuildTemplateList {
    /// The templates.
    #[serde(default, deserialize_with = "null_default")]
    pub build_templates: Vec<NamedId>,
    /// Count (omitted when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: i64,
}

/// `{id, name}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NamedId {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// `GET /openapi/projects/project` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProjectList {
    /// Count.
    #[serde(default)]
    pub total: i64,
    /// Projects.
    #[serde(default, deserialize_with = "null_default")]
    pub projects: Vec<ProjectBrief>,
}

/// A project.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ProjectBrief {
    /// Display name.
    #[serde(default)]
    pub project_name: String,
    /// Key.
    #[serde(default)]
    pub project_key: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Deploy type.
    #[serde(default)]
    pub deploy_type: String,
}
