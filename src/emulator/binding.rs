//! Go-style binding of request bodies and query strings (build-api.md §3.1,
//! §3.2, §4).
//!
//! aslan decodes bodies with gin's `BindJSON` (`encoding/json` + validator),
//! which is lenient and strict in ways serde is not:
//! - only the **first** JSON value of the body is read; trailing bytes are ignored;
//! - unknown fields are ignored, and known ones match case-insensitively;
//! - `null` leaves a field at its zero value (nil slice, nil pointer, "", 0);
//! - any other type mismatch anywhere in the known schema fails the bind;
//! - integers must be integer literals (`1.0` or `1e3` fail);
//! - `binding:"required"` is enforced on top-level fields only (no `dive`), and
//!   fails on the zero value (`""`, nil slice).
//!
//! Every failure here is answered with an empty-body 400 by the caller, so the
//! error only carries a reason for logs and tests.

use serde_json::{Map, Value};

/// Why a body or query did not bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// Empty body or malformed JSON.
    Syntax(String),
    /// A JSON value of the wrong type at this path.
    Type {
        /// Dotted path of the field.
        path: String,
        /// The Go type that was expected.
        expected: &'static str,
    },
    /// A top-level `binding:"required"` field is missing or zero.
    Required(&'static str),
    /// A query parameter that is not an integer.
    Query(String),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::Syntax(e) => write!(f, "invalid JSON: {e}"),
            BindError::Type { path, expected } => {
                write!(
                    f,
                    "json: cannot unmarshal into field {path} of type {expected}"
                )
            }
            BindError::Required(field) => write!(
                f,
                "Key: '{field}' Error:Field validation for '{field}' failed on the 'required' tag"
            ),
            BindError::Query(e) => write!(f, "{e}"),
        }
    }
}

type Res<T> = Result<T, BindError>;

/// `types.OpenAPIServiceWithModule`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceReq {
    /// `service_name`.
    pub service_name: String,
    /// `service_module`.
    pub service_module: String,
}

/// `types.OpenAPIToolItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolItem {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
}

/// `types.OpenAPIRepoInput` (Perforce fields are type-checked, then dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoInput {
    /// `codehost_name` (a system-level code host alias).
    pub codehost_name: String,
    /// `repo_namespace`.
    pub repo_namespace: String,
    /// `repo_name`.
    pub repo_name: String,
    /// `branch`.
    pub branch: String,
    /// `pr`.
    pub pr: i64,
    /// `prs`.
    pub prs: Vec<i64>,
    /// `enable_commit`.
    pub enable_commit: bool,
    /// `commit_id`.
    pub commit_id: String,
    /// `remote_name`.
    pub remote_name: String,
    /// `checkout_path`.
    pub checkout_path: String,
    /// `submodules`.
    pub submodules: bool,
}

/// `types.ParameterSetting`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterReq {
    /// `key`.
    pub key: String,
    /// `type`.
    pub param_type: String,
    /// `default_value`.
    pub default_value: String,
    /// `choice_option`.
    pub choice_option: Vec<String>,
    /// `choice_value`.
    pub choice_value: Vec<String>,
    /// `is_credential`.
    pub is_credential: bool,
    /// `description`.
    pub description: String,
}

/// `types.OpenAPIDockerBuildStep`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerStepReq {
    /// `build_context_dir`.
    pub build_context_dir: String,
    /// `dockerfile_source`.
    pub dockerfile_source: String,
    /// `dockerfile_directory`.
    pub dockerfile_directory: String,
    /// `template_name`.
    pub template_name: String,
    /// `build_args`.
    pub build_args: String,
    /// `enable_buildkit`.
    pub enable_buildkit: bool,
    /// `platforms`.
    pub platforms: String,
}

/// `setting.RequestSpec`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecReq {
    /// `cpu_limit`.
    pub cpu_limit: i64,
    /// `memory_limit`.
    pub memory_limit: i64,
    /// `cpu_req`.
    pub cpu_req: i64,
    /// `memory_req`.
    pub memory_req: i64,
    /// `gpu_limit`.
    pub gpu_limit: String,
}

/// `types.OpenAPIAdvancedSetting`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdvancedReq {
    /// `timeout`.
    pub timeout: i64,
    /// `cache_setting` (a pointer: `None` when absent or null).
    pub cache_setting: Option<(bool, String)>,
    /// `cluster_name`.
    pub cluster_name: String,
    /// `resource_spec`.
    pub resource_spec: SpecReq,
    /// `strategy_name`.
    pub strategy_name: String,
    /// `storages` (a pointer), as the stored JSON value.
    pub storages: Option<crate::zadig::wire::StoragesWire>,
    /// `use_host_docker_daemon`.
    pub use_host_docker_daemon: bool,
    /// `privileged_mode`.
    pub privileged_mode: bool,
    /// `custom_annotations`.
    pub custom_annotations: Vec<crate::zadig::wire::KeyValueWire>,
    /// `custom_labels`.
    pub custom_labels: Vec<crate::zadig::wire::KeyValueWire>,
    /// `outputs`.
    pub outputs: Vec<String>,
}

/// `OpenAPIBuildCreationReq`: the body of plain create and update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateReq {
    /// `name` (required).
    pub name: String,
    /// `project_key` (required).
    pub project_key: String,
    /// `services`.
    pub services: Vec<ServiceReq>,
    /// `infrastructure` (required).
    pub infrastructure: String,
    /// `build_os` (required).
    pub build_os: String,
    /// `installs`.
    pub installs: Vec<ToolItem>,
    /// `repo_info`.
    pub repo_info: Vec<RepoInput>,
    /// `parameters`.
    pub parameters: Vec<ParameterReq>,
    /// `script_type` (required).
    pub script_type: String,
    /// `build_script`.
    pub build_script: String,
    /// `docker_build_step`.
    pub docker_build_step: Option<DockerStepReq>,
    /// `advanced_settings`.
    pub advanced_settings: Option<AdvancedReq>,
    /// A slice of pointers held a `null` element: Go dereferences it later
    /// and panics (gin.Recovery → empty 500).
    pub nil_element: bool,
}

/// `types.KV`: a template input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvReq {
    /// `key`.
    pub key: String,
    /// `value`.
    pub value: String,
    /// `type`.
    pub kv_type: String,
    /// `is_credential`.
    pub is_credential: bool,
}

/// `types.OpenAPIServiceBuildArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetReq {
    /// `service_name`.
    pub service_name: String,
    /// `service_module`.
    pub service_module: String,
    /// `repo_info`.
    pub repo_info: Vec<RepoInput>,
    /// `inputs`.
    pub inputs: Vec<KvReq>,
}

/// `OpenAPIBuildCreationFromTemplateReq`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateReq {
    /// `name` (required).
    pub name: String,
    /// `project_key` (required).
    pub project_key: String,
    /// `template_name` (required).
    pub template_name: String,
    /// `target_services` (required: not null; may be empty).
    pub target_services: Vec<TargetReq>,
    /// See [`CreateReq::nil_element`].
    pub nil_element: bool,
}

/// Reads the first JSON value of a body, as `json.Decoder.Decode` does.
pub fn first_value(body: &[u8]) -> Res<Value> {
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match values.next() {
        None => Err(BindError::Syntax("EOF".to_owned())),
        Some(Err(e)) => Err(BindError::Syntax(e.to_string())),
        Some(Ok(v)) => Ok(v),
    }
}

/// Decoding state shared down the tree.
#[derive(Default)]
struct Ctx {
    nil_element: bool,
}

/// A JSON object being bound to a Go struct.
struct Obj<'a> {
    map: Option<&'a Map<String, Value>>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `null` binds as an untouched (zero) struct; anything but an object fails.
    fn new(v: Option<&'a Value>, path: &str) -> Res<Obj<'a>> {
        match v {
            None | Some(Value::Null) => Ok(Obj {
                map: None,
                path: path.to_owned(),
            }),
            Some(Value::Object(m)) => Ok(Obj {
                map: Some(m),
                path: path.to_owned(),
            }),
            Some(_) => Err(type_err(path, "struct")),
        }
    }

    /// The value bound to a field: Go matches keys case-insensitively and the
    /// last matching key wins.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map?
            .iter()
            .rfind(|(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| v)
    }

    fn sub(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    fn string(&self, field: &str) -> Res<String> {
        go_string(self.get(field), &self.sub(field))
    }

    fn boolean(&self, field: &str) -> Res<bool> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(type_err(&self.sub(field), "bool")),
        }
    }

    fn int(&self, field: &str) -> Res<i64> {
        go_int(self.get(field), &self.sub(field))
    }

    fn strings(&self, field: &str) -> Res<Vec<String>> {
        let path = self.sub(field);
        go_slice(self.get(field), &path, |v, p| go_string(Some(v), p))
    }
}

fn type_err(path: &str, expected: &'static str) -> BindError {
    BindError::Type {
        path: path.to_owned(),
        expected,
    }
}

fn go_string(v: Option<&Value>, path: &str) -> Res<String> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(type_err(path, "string")),
    }
}

fn go_int(v: Option<&Value>, path: &str) -> Res<i64> {
    match v {
        None | Some(Value::Null) => Ok(0),
        // Go parses the literal with ParseInt: floats, exponents and
        // out-of-range values all fail.
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| type_err(path, "int")),
        Some(_) => Err(type_err(path, "int")),
    }
}

/// A `[]T` of values: `null` elements decode as T's zero value.
fn go_slice<T>(v: Option<&Value>, path: &str, f: impl Fn(&Value, &str) -> Res<T>) -> Res<Vec<T>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| f(item, &format!("{path}[{i}]")))
            .collect(),
        Some(_) => Err(type_err(path, "slice")),
    }
}

/// A `[]*T`: a `null` element is a nil pointer, remembered in the context and
/// left out (the service would dereference it and panic).
fn go_ptr_slice<T>(
    v: Option<&Value>,
    path: &str,
    ctx: &mut Ctx,
    f: impl Fn(&Value, &str) -> Res<T>,
) -> Res<Vec<T>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    ctx.nil_element = true;
                    continue;
                }
                out.push(f(item, &format!("{path}[{i}]"))?);
            }
            Ok(out)
        }
        Some(_) => Err(type_err(path, "slice")),
    }
}

fn service(v: &Value, path: &str) -> Res<ServiceReq> {
    let o = Obj::new(Some(v), path)?;
    Ok(ServiceReq {
        service_name: o.string("service_name")?,
        service_module: o.string("service_module")?,
    })
}

fn tool(v: &Value, path: &str) -> Res<ToolItem> {
    let o = Obj::new(Some(v), path)?;
    Ok(ToolItem {
        name: o.string("name")?,
        version: o.string("version")?,
    })
}

fn repo(v: &Value, path: &str) -> Res<RepoInput> {
    let o = Obj::new(Some(v), path)?;
    let r = RepoInput {
        codehost_name: o.string("codehost_name")?,
        repo_namespace: o.string("repo_namespace")?,
        repo_name: o.string("repo_name")?,
        branch: o.string("branch")?,
        pr: o.int("pr")?,
        prs: go_slice(o.get("prs"), &o.sub("prs"), |v, p| go_int(Some(v), p))?,
        enable_commit: o.boolean("enable_commit")?,
        commit_id: o.string("commit_id")?,
        remote_name: o.string("remote_name")?,
        checkout_path: o.string("checkout_path")?,
        submodules: o.boolean("submodules")?,
    };
    // Perforce fields: typed in Go, ignored by builds.
    o.string("stream")?;
    o.string("view_mapping")?;
    o.int("changelist_id")?;
    o.int("shelve_id")?;
    Ok(r)
}

fn parameter(v: &Value, path: &str) -> Res<ParameterReq> {
    let o = Obj::new(Some(v), path)?;
    Ok(ParameterReq {
        key: o.string("key")?,
        param_type: o.string("type")?,
        default_value: o.string("default_value")?,
        choice_option: o.strings("choice_option")?,
        choice_value: o.strings("choice_value")?,
        is_credential: o.boolean("is_credential")?,
        description: o.string("description")?,
    })
}

fn docker_step(v: Option<&Value>, path: &str) -> Res<Option<DockerStepReq>> {
    let o = Obj::new(v, path)?;
    if o.map.is_none() {
        return Ok(None);
    }
    Ok(Some(DockerStepReq {
        build_context_dir: o.string("build_context_dir")?,
        dockerfile_source: o.string("dockerfile_source")?,
        dockerfile_directory: o.string("dockerfile_directory")?,
        template_name: o.string("template_name")?,
        build_args: o.string("build_args")?,
        enable_buildkit: o.boolean("enable_buildkit")?,
        platforms: o.string("platforms")?,
    }))
}

fn key_value(v: &Value, path: &str) -> Res<crate::zadig::wire::KeyValueWire> {
    let o = Obj::new(Some(v), path)?;
    Ok(crate::zadig::wire::KeyValueWire {
        key: o.string("key")?,
        // `interface{}`: any JSON value.
        value: o.get("value").cloned().unwrap_or(Value::Null),
    })
}

fn storages(v: Option<&Value>, path: &str) -> Res<Option<crate::zadig::wire::StoragesWire>> {
    let o = Obj::new(v, path)?;
    if o.map.is_none() {
        return Ok(None);
    }
    // `[]*NFSProperties` is stored as is, so a nil element is harmless here;
    // it is dropped.
    let mut ctx = Ctx::default();
    let props = go_ptr_slice(
        o.get("storages_properties"),
        &o.sub("storages_properties"),
        &mut ctx,
        |v, p| {
            let s = Obj::new(Some(v), p)?;
            Ok(crate::zadig::wire::StoragePropertyWire {
                provision_type: s.string("provision_type")?,
                storage_class: s.string("storage_class")?,
                storage_size_in_gib: s.int("storage_size_in_gib")?,
                pvc: s.string("pvc")?,
                access_mode: s.string("access_mode")?,
                subpath: s.string("subpath")?,
                mount_path: s.string("mount_path")?,
                is_temporary: s.boolean("is_temporary")?,
            })
        },
    )?;
    Ok(Some(crate::zadig::wire::StoragesWire {
        enabled: o.boolean("enabled")?,
        storages_properties: props,
    }))
}

fn advanced(v: Option<&Value>, path: &str, ctx: &mut Ctx) -> Res<Option<AdvancedReq>> {
    let o = Obj::new(v, path)?;
    if o.map.is_none() {
        return Ok(None);
    }
    let cache = Obj::new(o.get("cache_setting"), &o.sub("cache_setting"))?;
    let cache_setting = match cache.map {
        None => None,
        Some(_) => Some((cache.boolean("enabled")?, cache.string("cache_dir")?)),
    };
    // `resource_spec` is a struct value: null leaves it zero.
    let spec = Obj::new(o.get("resource_spec"), &o.sub("resource_spec"))?;
    Ok(Some(AdvancedReq {
        timeout: o.int("timeout")?,
        cache_setting,
        cluster_name: o.string("cluster_name")?,
        resource_spec: SpecReq {
            cpu_limit: spec.int("cpu_limit")?,
            memory_limit: spec.int("memory_limit")?,
            cpu_req: spec.int("cpu_req")?,
            memory_req: spec.int("memory_req")?,
            gpu_limit: spec.string("gpu_limit")?,
        },
        strategy_name: o.string("strategy_name")?,
        storages: storages(o.get("storages"), &o.sub("storages"))?,
        use_host_docker_daemon: o.boolean("use_host_docker_daemon")?,
        privileged_mode: o.boolean("privileged_mode")?,
        custom_annotations: go_ptr_slice(
            o.get("custom_annotations"),
            &o.sub("custom_annotations"),
            ctx,
            key_value,
        )?,
        custom_labels: go_ptr_slice(
            o.get("custom_labels"),
            &o.sub("custom_labels"),
            ctx,
            key_value,
        )?,
        outputs: o.strings("outputs")?,
    }))
}

fn required(value: &str, field: &'static str) -> Res<()> {
    if value.is_empty() {
        Err(BindError::Required(field))
    } else {
        Ok(())
    }
}

/// Binds the body of `POST`/`PUT /openapi/build` (`OpenAPIBuildCreationReq`).
pub fn bind_create(body: &[u8]) -> Res<CreateReq> {
    let v = first_value(body)?;
    bind_create_value(&v)
}

/// [`bind_create`] on an already parsed value (seeds use this).
pub fn bind_create_value(v: &Value) -> Res<CreateReq> {
    let o = Obj::new(Some(v), "")?;
    let mut ctx = Ctx::default();
    let req = CreateReq {
        name: o.string("name")?,
        project_key: o.string("project_key")?,
        services: go_ptr_slice(o.get("services"), "services", &mut ctx, service)?,
        infrastructure: o.string("infrastructure")?,
        build_os: o.string("build_os")?,
        installs: go_ptr_slice(o.get("installs"), "installs", &mut ctx, tool)?,
        repo_info: go_ptr_slice(o.get("repo_info"), "repo_info", &mut ctx, repo)?,
        parameters: go_ptr_slice(o.get("parameters"), "parameters", &mut ctx, parameter)?,
        script_type: o.string("script_type")?,
        build_script: o.string("build_script")?,
        docker_build_step: docker_step(o.get("docker_build_step"), "docker_build_step")?,
        advanced_settings: advanced(o.get("advanced_settings"), "advanced_settings", &mut ctx)?,
        nil_element: false,
    };
    // The validator runs only after a successful decode, in field order.
    required(&req.name, "Name")?;
    required(&req.project_key, "ProjectKey")?;
    required(&req.infrastructure, "Infrastructure")?;
    required(&req.build_os, "BuildOS")?;
    required(&req.script_type, "ScriptType")?;
    Ok(CreateReq {
        nil_element: ctx.nil_element,
        ..req
    })
}

fn kv(v: &Value, path: &str) -> Res<KvReq> {
    let o = Obj::new(Some(v), path)?;
    Ok(KvReq {
        key: o.string("key")?,
        value: o.string("value")?,
        kv_type: o.string("type")?,
        is_credential: o.boolean("is_credential")?,
    })
}

/// Binds the body of the template endpoints (`OpenAPIBuildCreationFromTemplateReq`).
pub fn bind_template(body: &[u8]) -> Res<TemplateReq> {
    let v = first_value(body)?;
    bind_template_value(&v)
}

/// [`bind_template`] on an already parsed value (seeds use this).
pub fn bind_template_value(v: &Value) -> Res<TemplateReq> {
    let o = Obj::new(Some(v), "")?;
    let mut ctx = Ctx::default();
    let targets_value = o.get("target_services");
    let mut targets = Vec::new();
    if let Some(Value::Array(items)) = targets_value {
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                ctx.nil_element = true;
                continue;
            }
            let path = format!("target_services[{i}]");
            let t = Obj::new(Some(item), &path)?;
            targets.push(TargetReq {
                service_name: t.string("service_name")?,
                service_module: t.string("service_module")?,
                repo_info: go_ptr_slice(t.get("repo_info"), &t.sub("repo_info"), &mut ctx, repo)?,
                inputs: go_ptr_slice(t.get("inputs"), &t.sub("inputs"), &mut ctx, kv)?,
            });
        }
    } else if let Some(other) = targets_value
        && !other.is_null()
    {
        return Err(type_err("target_services", "slice"));
    }
    let req = TemplateReq {
        name: o.string("name")?,
        project_key: o.string("project_key")?,
        template_name: o.string("template_name")?,
        target_services: targets,
        nil_element: ctx.nil_element,
    };
    required(&req.name, "Name")?;
    required(&req.project_key, "ProjectKey")?;
    required(&req.template_name, "TemplateName")?;
    // `required` on a slice fails only when it is nil (absent or null).
    if matches!(targets_value, None | Some(Value::Null)) {
        return Err(BindError::Required("TargetServices"));
    }
    Ok(req)
}

/// A parsed query string, Go `url.ParseQuery` style: `+` is a space, pairs
/// with a `;` or a bad escape are dropped, the first value of a key wins.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the raw query (without `?`).
    pub fn parse(raw: Option<&str>) -> Query {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&') {
            if part.is_empty() || part.contains(';') {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if let (Some(k), Some(v)) = (unescape(k, true), unescape(v, true)) {
                pairs.push((k, v));
            }
        }
        Query { pairs }
    }

    /// `c.Query(key)`: the first value, or "".
    pub fn get(&self, key: &str) -> &str {
        self.find(key).unwrap_or("")
    }

    /// The first value, if the key is present at all.
    pub fn find(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// gin form binding of an `int64` with a default: absent or "" gives the
    /// default, anything ParseInt rejects fails the bind.
    pub fn int_or(&self, key: &str, default: i64) -> Res<i64> {
        match self.find(key) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .map_err(|e| BindError::Query(format!("strconv.ParseInt: parsing {v:?}: {e}"))),
        }
    }
}

/// Percent-decoding; `plus` turns `+` into a space (query strings). `None`
/// for a malformed escape or invalid UTF-8.
pub fn unescape(s: &str, plus: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).expect("serialises")
    }

    fn minimal() -> Value {
        json!({"name": "b", "project_key": "p", "infrastructure": "kubernetes",
               "build_os": "ubuntu 20.04", "script_type": "shell"})
    }

    fn with(field: &str, value: Value) -> Vec<u8> {
        let mut v = minimal();
        v[field] = value;
        body(v)
    }

    #[test]
    fn minimal_body_binds_and_unknown_fields_are_ignored() {
        let mut v = minimal();
        v["no_such_field"] = json!({"anything": [1, 2]});
        let req = bind_create(&body(v)).expect("binds");
        assert_eq!(req.name, "b");
        assert!(req.advanced_settings.is_none());
    }

    #[test]
    fn wrong_types_fail_anywhere_in_the_schema() {
        for (field, value) in [
            ("installs", json!("go")),
            ("docker_build_step", json!([])),
            ("docker_build_step", json!({"enable_buildkit": "true"})),
            ("name", json!(5)),
            ("parameters", json!([{"key": "A", "default_value": 1}])),
            ("repo_info", json!([{"pr": 1.5}])),
            ("repo_info", json!([{"changelist_id": "1"}])),
            ("advanced_settings", json!({"timeout": "60"})),
            ("advanced_settings", json!({"timeout": 1e3})),
            ("advanced_settings", json!({"resource_spec": []})),
            ("advanced_settings", json!({"outputs": [1]})),
        ] {
            let err = bind_create(&with(field, value.clone()));
            assert!(
                matches!(err, Err(BindError::Type { .. })),
                "{field}={value}: {err:?}"
            );
        }
    }

    #[test]
    fn null_is_the_zero_value() {
        let mut v = minimal();
        v["installs"] = Value::Null;
        v["docker_build_step"] = Value::Null;
        v["advanced_settings"] = json!({"resource_spec": null, "cache_setting": null,
                                        "outputs": [null, "X"]});
        let req = bind_create(&body(v)).expect("binds");
        let adv = req.advanced_settings.expect("present");
        assert_eq!(adv.resource_spec, SpecReq::default());
        assert_eq!(adv.cache_setting, None);
        assert_eq!(adv.outputs, vec!["".to_owned(), "X".to_owned()]);
        assert!(req.docker_build_step.is_none());
    }

    #[test]
    fn null_elements_of_pointer_slices_are_flagged() {
        let req = bind_create(&with("services", json!([null]))).expect("binds");
        assert!(req.nil_element);
        assert!(req.services.is_empty());
    }

    #[test]
    fn required_fields_fail_when_missing_or_empty() {
        for field in [
            "name",
            "project_key",
            "infrastructure",
            "build_os",
            "script_type",
        ] {
            let mut v = minimal();
            v.as_object_mut().expect("object").remove(field);
            assert!(matches!(bind_create(&body(v)), Err(BindError::Required(_))));
            assert!(matches!(
                bind_create(&with(field, json!(""))),
                Err(BindError::Required(_))
            ));
        }
    }

    #[test]
    fn syntax_errors_and_empty_bodies_fail() {
        assert!(matches!(bind_create(b""), Err(BindError::Syntax(_))));
        assert!(matches!(bind_create(b"  "), Err(BindError::Syntax(_))));
        assert!(matches!(
            bind_create(b"{\"name\":"),
            Err(BindError::Syntax(_))
        ));
        assert!(matches!(bind_create(b"[]"), Err(BindError::Type { .. })));
        assert!(matches!(bind_create(b"null"), Err(BindError::Required(_))));
    }

    #[test]
    fn only_the_first_value_is_read() {
        let mut raw = body(minimal());
        raw.extend_from_slice(b" trailing garbage");
        assert!(bind_create(&raw).is_ok());
    }

    #[test]
    fn keys_match_case_insensitively_and_the_last_wins() {
        let raw = br#"{"NAME":"x","project_key":"p","infrastructure":"vm","build_os":"o","script_type":"shell","Name":"y"}"#;
        assert_eq!(bind_create(raw).expect("binds").name, "y");
        let raw = br#"{"Name":"x","project_key":"p","infrastructure":"vm","build_os":"o","script_type":"shell"}"#;
        assert_eq!(bind_create(raw).expect("binds").name, "x");
    }

    #[test]
    fn nested_required_tags_are_not_enforced() {
        let req = bind_create(&with("repo_info", json!([{}]))).expect("binds");
        assert_eq!(req.repo_info, vec![RepoInput::default()]);
    }

    #[test]
    fn template_target_services_must_be_non_null() {
        let base = json!({"name": "b", "project_key": "p", "template_name": "t"});
        assert!(matches!(
            bind_template(&body(base.clone())),
            Err(BindError::Required("TargetServices"))
        ));
        let mut v = base.clone();
        v["target_services"] = Value::Null;
        assert!(matches!(
            bind_template(&body(v)),
            Err(BindError::Required(_))
        ));
        let mut v = base.clone();
        v["target_services"] = json!([]);
        assert!(
            bind_template(&body(v))
                .expect("binds")
                .target_services
                .is_empty()
        );
        let mut v = base;
        v["target_services"] = json!([{"inputs": [{"key": "A", "value": 1}]}]);
        assert!(matches!(
            bind_template(&body(v)),
            Err(BindError::Type { .. })
        ));
    }

    #[test]
    fn queries_decode_like_go() {
        let q = Query::parse(Some("a=1&a=2&b=x+y%21&bad=%zz&semi=1;2&pageNum="));
        assert_eq!(q.get("a"), "1");
        assert_eq!(q.get("b"), "x y!");
        assert_eq!(q.find("bad"), None);
        assert_eq!(q.find("semi"), None);
        assert_eq!(q.int_or("pageNum", 1), Ok(1));
        assert_eq!(q.int_or("missing", 20), Ok(20));
        assert!(q.int_or("b", 20).is_err());
        let q = Query::parse(Some("pageSize=-5&pageNum=%2B2"));
        assert_eq!(q.int_or("pageSize", 20), Ok(-5));
        assert_eq!(q.int_or("pageNum", 1), Ok(2));
    }
}
