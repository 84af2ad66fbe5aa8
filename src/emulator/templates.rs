//! The build-template library of aslan (`/api/aslan/template/build…`), as
//! koderover/zadig serves it at `main` 18278c716 (unchanged since v4.2.0):
//!
//! - routes: `pkg/microservice/aslan/core/templatestore/handler/router.go`;
//! - handlers (bind → authorise → service): `templatestore/handler/build.go`;
//! - services: `templatestore/service/build.go`;
//! - model: `common/repository/models/build_template.go` (`models.BuildTemplate`,
//!   with `PreBuild`, `PostBuild`, `KeyVal`, … of `models/build.go`);
//! - storage: `common/repository/mongodb/build_template.go` (unique index
//!   `name_1`; update is `UpdateOne({_id}, {$set: obj})`);
//! - references: `mongodb/build.go` `GetBuildTemplateReference` (every build
//!   whose `template_id` is the id, in any project).
//!
//! What the source does, quirks included (build-api-ui-made.md §10):
//! - the list checks no permission (the check is commented out, "TODO:
//!   Authorization leak"); get, create, update and delete check the system
//!   actions `Template.View/Create/Edit/Delete` (a system admin passes); the
//!   reference list uses `NewContext` and checks nothing;
//! - **no licence check**: unlike the workflow and release-plan templates of
//!   the same package, and unlike the template *builds* of the build OpenAPI
//!   (7050), the build-template handlers never call
//!   `CheckZadigProfessionalLicense`, and the global `ProcessLicense`
//!   middleware is a no-op;
//! - a body that does not bind is `c.BindJSON`'s 400, written before the
//!   handler's `ErrInvalidParam("invalid Build args")`, so the body is empty;
//! - the list's query binds with `ShouldBindQuery`, so a bad `page_num` is a
//!   plain 500 carrying the `strconv.ParseInt` error;
//! - create: empty name → 6520 `empty name`; nil `pre_build` → a nil
//!   dereference (empty 500); the `define` GPU check → 6520; `update_by` is
//!   the caller, `update_time` whatever the body says; a duplicate name →
//!   6520 with the driver's E11000 text;
//! - get, update, delete: a bad hex id or no match is a plain 500;
//! - update: the id first, then the nil `pre_build` dereference and the GPU
//!   check (6520, `ErrCreateBuildModule` again), then a `$set` of the whole
//!   body in which the bson-`omitempty` fields (`team`, `source`,
//!   `jenkins_build`, `post_build`) are skipped when empty; `update_time` and
//!   `update_by` are not stamped; the name may change (a duplicate is the
//!   E11000 text as a plain 500);
//! - delete of a template that a build uses → 500 `template build has beed
//!   used, can't be deleted`.
//!
//! The model is bound and rendered from a table of the Go struct tags
//! ([`TEMPLATE`]): Go's JSON rules (unknown fields ignored, keys matched
//! case-insensitively, `null` = zero, any type mismatch fails, integers as
//! integer literals), bson `omitempty` for the `$set`, json `omitempty` and
//! aslan's `responseHelper` (`[]` for nil slices) for the answers. Nothing
//! here uses the client's types.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::state::{AslanError, CODE_CREATE};

// ------------------------------------------------------------------ schema

/// A Go type, as far as JSON and bson care.
#[derive(Clone, Copy, Debug)]
enum Ty {
    /// `string` (and string kinds: `ScriptType`, `setting.Request`, …).
    Str,
    /// `int` / `int64`.
    Int,
    /// `bool`.
    Bool,
    /// `interface{}`.
    Any,
    /// `primitive.ObjectID` (its `UnmarshalJSON`, `MarshalJSON` as hex).
    Oid,
    /// A struct value.
    Struct(&'static [Field]),
    /// `*Struct`.
    Ptr(&'static [Field]),
    /// `[]string`.
    Strs,
    /// `[]*Struct`.
    PtrSlice(&'static [Field]),
}

/// One struct field: its json name, type, and `omitempty` in the json and
/// bson tags.
#[derive(Clone, Copy, Debug)]
struct Field {
    name: &'static str,
    ty: Ty,
    json_omitempty: bool,
    bson_omitempty: bool,
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        json_omitempty: false,
        bson_omitempty: false,
    }
}

/// `json:",omitempty"` (and bson omitempty, which does not matter below the
/// top level: a nested document is replaced whole).
const fn fo(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        json_omitempty: true,
        bson_omitempty: true,
    }
}

/// Only `bson:",omitempty"` (top level: skipped by the update's `$set`).
const fn fb(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        json_omitempty: false,
        bson_omitempty: true,
    }
}

use Ty::{Any, Bool, Int, Oid, Ptr, PtrSlice, Str, Strs, Struct};

/// `models.Item`.
const ITEM: &[Field] = &[f("name", Str), f("version", Str)];
/// `models.KeyVal` (`registry_id` has no json omitempty).
const KEY_VAL: &[Field] = &[
    f("key", Str),
    f("value", Str),
    fo("type", Str),
    f("registry_id", Str),
    fo("choice_option", Strs),
    fo("choice_value", Strs),
    fo("script", Str),
    fo("call_function", Str),
    fo("function_reference", Strs),
    fo("file_path", Str),
    fo("file_name", Str),
    fo("file_id", Str),
    f("is_credential", Bool),
    f("description", Str),
    fo("required", Bool),
];
/// `models.ParamVal`.
const PARAM_VAL: &[Field] = &[f("target", Str), f("value", Str)];
/// `models.Parameter`.
const PARAMETER: &[Field] = &[
    f("name", Str),
    f("default_value", Str),
    f("param_val", PtrSlice(PARAM_VAL)),
];
/// `setting.RequestSpec`.
const REQUEST_SPEC: &[Field] = &[
    f("cpu_limit", Int),
    f("memory_limit", Int),
    f("cpu_req", Int),
    f("memory_req", Int),
    f("gpu_limit", Str),
];
/// `types.NFSProperties`.
const NFS: &[Field] = &[
    f("provision_type", Str),
    f("storage_class", Str),
    f("storage_size_in_gib", Int),
    f("pvc", Str),
    f("access_mode", Str),
    f("subpath", Str),
    f("mount_path", Str),
    f("is_temporary", Bool),
];
/// `models.Storages`.
const STORAGES: &[Field] = &[f("enabled", Bool), f("storages_properties", PtrSlice(NFS))];
/// `util.KeyValue`.
const KEY_VALUE: &[Field] = &[f("key", Str), f("value", Any)];
/// `models.PreBuild`.
const PRE_BUILD: &[Field] = &[
    f("clean_workspace", Bool),
    f("res_req", Str),
    f("res_req_spec", Struct(REQUEST_SPEC)),
    f("build_os", Str),
    f("image_from", Str),
    f("image_id", Str),
    f("installs", PtrSlice(ITEM)),
    f("envs", PtrSlice(KEY_VAL)),
    f("enable_proxy", Bool),
    f("parameters", PtrSlice(PARAMETER)),
    f("upload_pkg", Bool),
    f("cluster_id", Str),
    f("cluster_source", Str),
    f("strategy_id", Str),
    f("use_host_docker_daemon", Bool),
    f("storages", Ptr(STORAGES)),
    f("custom_annotations", PtrSlice(KEY_VALUE)),
    f("custom_labels", PtrSlice(KEY_VALUE)),
    f("namespace", Str),
];
/// `types.JenkinsBuildParam`.
const JENKINS_PARAM: &[Field] = &[
    fo("name", Str),
    fo("value", Any),
    fo("type", Str),
    fo("auto_generate", Bool),
    fo("choice_option", Strs),
    fo("choice_value", Strs),
];
/// `models.JenkinsBuild` (the json name of the list is plural).
const JENKINS: &[Field] = &[
    f("jenkins_id", Str),
    f("job_name", Str),
    f("jenkins_build_params", PtrSlice(JENKINS_PARAM)),
];
/// `models.DockerBuild`.
const DOCKER_BUILD: &[Field] = &[
    f("work_dir", Str),
    f("docker_file", Str),
    f("build_args", Str),
    f("source", Str),
    f("template_id", Str),
    f("template_name", Str),
    f("enable_buildkit", Bool),
    f("platform", Str),
];
/// `types.ObjectStoragePathDetail`.
const PATH_DETAIL: &[Field] = &[
    f("file_path", Str),
    f("abs_file_path", Str),
    f("dest_path", Str),
];
/// `models.ObjectStorageUpload`.
const OBJECT_STORAGE: &[Field] = &[
    f("enabled", Bool),
    f("object_storage_id", Str),
    f("upload_detail", PtrSlice(PATH_DETAIL)),
];
/// `models.FileArchive`.
const FILE_ARCHIVE: &[Field] = &[f("file_location", Str)];
/// `models.PostBuild`.
const POST_BUILD: &[Field] = &[
    f("docker_build", Ptr(DOCKER_BUILD)),
    f("object_storage_upload", Ptr(OBJECT_STORAGE)),
    fo("file_archive", Ptr(FILE_ARCHIVE)),
    f("scripts", Str),
];
/// `models.Output`.
const OUTPUT: &[Field] = &[f("name", Str), f("description", Str)];
/// `models.BuildTemplate`, in struct order (the order Go writes the JSON in).
const TEMPLATE: &[Field] = &[
    fo("id", Oid),
    f("name", Str),
    fo("team", Str),
    fo("source", Str),
    f("timeout", Int),
    f("update_time", Int),
    f("update_by", Str),
    f("pre_build", Ptr(PRE_BUILD)),
    fo("jenkins_build", Ptr(JENKINS)),
    f("script_type", Str),
    f("scripts", Str),
    fb("post_build", Ptr(POST_BUILD)),
    f("sshs", Strs),
    f("pm_deploy_scripts", Str),
    f("cache_enable", Bool),
    f("cache_dir_type", Str),
    f("cache_user_dir", Str),
    f("advanced_setting_modified", Bool),
    f("enable_privileged_mode", Bool),
    f("outputs", PtrSlice(OUTPUT)),
    f("infrastructure", Str),
    f("vm_labels", Strs),
];

/// `primitive.NilObjectID.Hex()`.
const NIL_OID: &str = "000000000000000000000000";

// ----------------------------------------------------------------- binding

/// Why a body does not bind (the answer is an empty 400 either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError(pub String);

type Bound = Result<Value, BindError>;

fn mismatch(path: &str, expected: &str) -> BindError {
    BindError(format!(
        "json: cannot unmarshal into field {path} of type {expected}"
    ))
}

fn sub(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// The zero value of a type, as aslan would write it back.
fn zero(ty: Ty) -> Value {
    match ty {
        Str => json!(""),
        Int => json!(0),
        Bool => json!(false),
        Any | Ptr(_) => Value::Null,
        Oid => json!(NIL_OID),
        Struct(fields) => zero_struct(fields),
        Strs | PtrSlice(_) => json!([]),
    }
}

fn zero_struct(fields: &[Field]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.name.to_owned(), zero(f.ty)))
            .collect(),
    )
}

/// Decodes `v` as Go's `encoding/json` would into a value of type `ty`, and
/// returns that value normalised (every field present).
fn bind(v: Option<&Value>, ty: Ty, path: &str) -> Bound {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(zero(ty));
    };
    match ty {
        Str => match v {
            Value::String(_) => Ok(v.clone()),
            _ => Err(mismatch(path, "string")),
        },
        // Go parses the literal with ParseInt: floats and exponents fail.
        Int => match v.as_i64() {
            Some(n) => Ok(json!(n)),
            None => Err(mismatch(path, "int")),
        },
        Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            _ => Err(mismatch(path, "bool")),
        },
        Any => Ok(v.clone()),
        Oid => object_id(v).map(Value::String).map_err(BindError),
        Struct(fields) | Ptr(fields) => bind_struct(v, fields, path),
        Strs => match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| bind(Some(item), Str, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(mismatch(path, "[]string")),
        },
        PtrSlice(fields) => match v {
            // A null element is a nil pointer: kept as null.
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Null => Ok(Value::Null),
                    _ => bind_struct(item, fields, &format!("{path}[{i}]")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(mismatch(path, "slice")),
        },
    }
}

fn bind_struct(v: &Value, fields: &[Field], path: &str) -> Bound {
    let Value::Object(map) = v else {
        return Err(mismatch(path, "struct"));
    };
    let mut out = Map::with_capacity(fields.len());
    for field in fields {
        // Keys match case-insensitively and the last matching key wins.
        let given = map
            .iter()
            .rfind(|(k, _)| k.eq_ignore_ascii_case(field.name))
            .map(|(_, v)| v);
        out.insert(
            field.name.to_owned(),
            bind(given, field.ty, &sub(path, field.name))?,
        );
    }
    Ok(Value::Object(out))
}

/// `primitive.ObjectID.UnmarshalJSON` (mongo-driver v1.10): a value whose JSON
/// text is 12 bytes long is taken as the raw id bytes; otherwise a string (or
/// `{"$oid": string}`), "" meaning the nil id, else 24 hex digits.
fn object_id(v: &Value) -> Result<String, String> {
    let raw = serde_json::to_string(v).unwrap_or_default();
    if raw.len() == 12 {
        return Ok(raw.bytes().map(|b| format!("{b:02x}")).collect());
    }
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(m) => match m.get("$oid") {
            Some(Value::String(s)) => s.as_str(),
            _ => return Err("not an extended JSON ObjectID".to_owned()),
        },
        _ => return Err("not an extended JSON ObjectID".to_owned()),
    };
    if s.is_empty() {
        return Ok(NIL_OID.to_owned());
    }
    if s.len() != 24 {
        return Err(format!(
            "cannot unmarshal into an ObjectID, the length must be 24 but it is {}",
            s.len()
        ));
    }
    hex_id(s)
}

/// `primitive.ObjectIDFromHex`: the error texts of the driver and of
/// `encoding/hex`.
pub fn object_id_from_hex(s: &str) -> Result<String, String> {
    if s.len() != 24 {
        return Err("the provided hex string is not a valid ObjectID".to_owned());
    }
    hex_id(s)
}

fn hex_id(s: &str) -> Result<String, String> {
    match s.bytes().find(|b| !b.is_ascii_hexdigit()) {
        None => Ok(s.to_ascii_lowercase()),
        Some(b) => Err(format!(
            "encoding/hex: invalid byte: U+{:04X} {:?}",
            b,
            char::from(b)
        )),
    }
}

/// Go's `omitempty` emptiness.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// The JSON aslan writes for a bound value: struct order, json `omitempty`
/// fields left out when empty.
fn render(v: &Value, ty: Ty) -> Value {
    match (ty, v) {
        (Struct(fields) | Ptr(fields), Value::Object(map)) => render_struct(map, fields),
        (PtrSlice(fields), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| match item {
                    Value::Object(m) => render_struct(m, fields),
                    _ => Value::Null,
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

fn render_struct(map: &Map<String, Value>, fields: &[Field]) -> Value {
    let mut out = Map::with_capacity(fields.len());
    for field in fields {
        let v = map
            .get(field.name)
            .cloned()
            .unwrap_or_else(|| zero(field.ty));
        // An ObjectID is a [12]byte: never empty for omitempty.
        if field.json_omitempty && !matches!(field.ty, Oid) && is_empty(&v) {
            continue;
        }
        out.insert(field.name.to_owned(), render(&v, field.ty));
    }
    Value::Object(out)
}

/// Binds a request body to `models.BuildTemplate` (`c.BindJSON`): only the
/// first JSON value is read.
pub fn bind_template_model(body: &[u8]) -> Result<Value, BindError> {
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    let v = match values.next() {
        None => return Err(BindError("EOF".to_owned())),
        Some(Err(e)) => return Err(BindError(e.to_string())),
        Some(Ok(v)) => v,
    };
    bind(Some(&v), Ptr(TEMPLATE), "")
}

// ------------------------------------------------------------------ model

/// A build template as stored: `models.BuildTemplate`, Go-normalised.
///
/// The seed (and state-file) form is the JSON of `GET …/template/build/:id`.
/// A seed may instead give the variables at the top level as `envs` (the
/// older seed form), meaning `pre_build: {envs}`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedBuildTemplate {
    /// 24 lowercase hex digits.
    pub id: String,
    /// Name (the `template_name` of template builds; unique).
    pub name: String,
    /// The whole model, bound (every field present, `id` and `name` included).
    doc: Value,
}

impl SeedBuildTemplate {
    /// A template with only these variables (`pre_build.envs`, each a
    /// `models.KeyVal` in its JSON form); every other field is zero.
    pub fn with_variables(id: &str, name: &str, envs: Vec<Value>) -> Result<Self, String> {
        let doc = json!({"id": id, "name": name, "pre_build": {"envs": envs}});
        Self::from_doc(&doc)
    }

    /// A template from a whole model (`models.BuildTemplate` JSON), bound
    /// as the handlers bind a body.
    pub fn from_model(v: &Value) -> Result<Self, String> {
        Self::from_doc(v)
    }

    fn from_doc(v: &Value) -> Result<Self, String> {
        let doc = bind(Some(v), Ptr(TEMPLATE), "").map_err(|e| e.0)?;
        Self::from_bound(doc)
    }

    fn from_bound(doc: Value) -> Result<Self, String> {
        let id = text(&doc, "id");
        let name = text(&doc, "name");
        Ok(SeedBuildTemplate { id, name, doc })
    }

    /// The template as `GET /api/aslan/template/build/:id` answers it.
    pub fn model(&self) -> Value {
        render(&self.doc, Ptr(TEMPLATE))
    }

    /// `pre_build.envs`, as the answer writes them (a nil `pre_build` has none;
    /// nil elements are left out).
    pub fn variables(&self) -> Vec<Value> {
        let model = self.model();
        model
            .get("pre_build")
            .and_then(|p| p.get("envs"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|v| !v.is_null()).cloned().collect())
            .unwrap_or_default()
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Serialize for SeedBuildTemplate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.model().serialize(s)
    }
}

impl<'de> Deserialize<'de> for SeedBuildTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = Value::deserialize(d)?;
        let Value::Object(map) = &mut v else {
            return Err(D::Error::custom("a build template must be an object"));
        };
        // A seed is written by hand: unknown keys are typos, not future fields.
        if let Some(k) = map
            .keys()
            .find(|k| k.as_str() != "envs" && !TEMPLATE.iter().any(|f| f.name == k.as_str()))
        {
            return Err(D::Error::custom(format!(
                "unknown field `{k}` in a build template"
            )));
        }
        for key in ["id", "name"] {
            if !map.get(key).is_some_and(Value::is_string) {
                return Err(D::Error::custom(format!(
                    "a build template needs a string `{key}`"
                )));
            }
        }
        if let Some(envs) = map.remove("envs") {
            let pre = map.entry("pre_build").or_insert_with(|| json!({}));
            match pre {
                Value::Object(p) if !p.contains_key("envs") => {
                    p.insert("envs".to_owned(), envs);
                }
                _ => {
                    return Err(D::Error::custom(
                        "give a build template's variables once: `envs` or `pre_build.envs`",
                    ));
                }
            }
        }
        let t = SeedBuildTemplate::from_doc(&v).map_err(D::Error::custom)?;
        if object_id_from_hex(&t.id).is_err() || t.id == NIL_OID {
            return Err(D::Error::custom(format!(
                "build template `{}`: the id must be 24 hex digits",
                t.name
            )));
        }
        Ok(t)
    }
}

// ---------------------------------------------------------------- service

/// What the caller may do in the template library (aslan's
/// `SystemActions.Template`; a system admin may do everything).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TemplatePerms {
    /// `Template.View`: read one template.
    pub view: bool,
    /// `Template.Create`.
    pub create: bool,
    /// `Template.Edit`: update.
    pub edit: bool,
    /// `Template.Delete`.
    pub delete: bool,
}

impl TemplatePerms {
    /// All four.
    pub fn all() -> TemplatePerms {
        TemplatePerms {
            view: true,
            create: true,
            edit: true,
            delete: true,
        }
    }
}

/// The authenticated caller, as these handlers see it.
pub struct TemplateCaller<'a> {
    /// System admin.
    pub admin: bool,
    /// System actions.
    pub perms: TemplatePerms,
    /// `ctx.UserName`.
    pub user: &'a str,
}

/// A build, as the reference list and the delete check see it.
pub struct BuildRef<'a> {
    /// `name`.
    pub name: &'a str,
    /// `product_name`.
    pub project: &'a str,
    /// `template_id`.
    pub template_id: &'a str,
    /// `targets[].service_module`, in order.
    pub modules: Vec<&'a str>,
}

/// The template library's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateRoute {
    /// `GET /api/aslan/template/build`.
    List,
    /// `GET …/:id`.
    Get,
    /// `POST /api/aslan/template/build`.
    Create,
    /// `PUT …/:id`.
    Update,
    /// `DELETE …/:id`.
    Delete,
    /// `GET …/:id/reference`.
    Reference,
}

/// One request to the library.
pub struct TemplateRequest<'a> {
    /// Which handler.
    pub route: TemplateRoute,
    /// The `:id` path parameter ("" for the list and create).
    pub id: &'a str,
    /// `page_num` and `page_size` as given (the list only).
    pub page: (Option<&'a str>, Option<&'a str>),
    /// The body (create and update).
    pub body: &'a [u8],
}

const NO_DOCS: &str = "mongo: no documents in result";

fn no_permission() -> AslanError {
    AslanError::Status(403)
}

/// aslan's handler of each template route. `new_id` makes a fresh id for a
/// create (it must not be taken); `builds` are every stored build.
pub fn handle(
    templates: &mut Vec<SeedBuildTemplate>,
    builds: &[BuildRef<'_>],
    caller: &TemplateCaller<'_>,
    req: &TemplateRequest<'_>,
    new_id: impl FnOnce(&[SeedBuildTemplate]) -> String,
) -> Result<Value, AslanError> {
    let may = |need: fn(&TemplatePerms) -> bool| caller.admin || need(&caller.perms);
    match req.route {
        TemplateRoute::List => {
            // No permission check ("TODO: Authorization leak").
            let page_num = form_int(req.page.0, 1)?;
            let page_size = form_int(req.page.1, 100)?;
            list(templates, page_num, page_size)
        }
        TemplateRoute::Get => {
            if !may(|p| p.view) {
                return Err(no_permission());
            }
            let i = find(templates, req.id)?;
            Ok(templates[i].model())
        }
        TemplateRoute::Create => {
            // Bind first: c.BindJSON writes its 400 before anything else.
            let doc = bind_template_model(req.body).map_err(|_| AslanError::Status(400))?;
            if !may(|p| p.create) {
                return Err(no_permission());
            }
            create(templates, doc, caller.user, new_id)?;
            Ok(json!({"message": "success"}))
        }
        TemplateRoute::Update => {
            let doc = bind_template_model(req.body).map_err(|_| AslanError::Status(400))?;
            if !may(|p| p.edit) {
                return Err(no_permission());
            }
            update(templates, req.id, doc)?;
            Ok(json!({"message": "success"}))
        }
        TemplateRoute::Delete => {
            if !may(|p| p.delete) {
                return Err(no_permission());
            }
            let i = find(templates, req.id).map_err(|e| match e {
                AslanError::Plain(err) => AslanError::Plain(format!(
                    "failed to find build template with id: {}, err: {err}",
                    req.id
                )),
                other => other,
            })?;
            if builds.iter().any(|b| b.template_id == req.id) {
                return Err(AslanError::Plain(
                    "template build has beed used, can't be deleted".to_owned(),
                ));
            }
            templates.remove(i);
            Ok(json!({"message": "success"}))
        }
        TemplateRoute::Reference => {
            // NewContext: no permission check. The id is not parsed.
            let refs: Vec<Value> = builds
                .iter()
                .filter(|b| b.template_id == req.id)
                .map(|b| {
                    json!({"build_name": b.name, "project_name": b.project,
                           "service_module": b.modules})
                })
                .collect();
            Ok(Value::Array(refs))
        }
    }
}

/// gin's form binding of an `int` with a default: absent or "" gives the
/// default; what `strconv.ParseInt` rejects is the bind error, which
/// `ShouldBindQuery` leaves to the handler: a plain 500.
fn form_int(v: Option<&str>, default: i64) -> Result<i64, AslanError> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s.parse::<i64>().map_err(|e| {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    "value out of range"
                }
                _ => "invalid syntax",
            };
            AslanError::Plain(format!("strconv.ParseInt: parsing {s:?}: {why}"))
        }),
    }
}

/// `BuildTemplateColl.List`: counts everything, pages only when both numbers
/// are non-zero; a negative skip is refused by MongoDB, a negative limit
/// returns that many in one batch.
fn list(
    templates: &[SeedBuildTemplate],
    page_num: i64,
    page_size: i64,
) -> Result<Value, AslanError> {
    let total = templates.len();
    let mut items: Vec<&SeedBuildTemplate> = templates.iter().collect();
    if page_num != 0 && page_size != 0 {
        let skip = (page_num - 1).saturating_mul(page_size);
        if skip < 0 {
            return Err(AslanError::Plain(format!(
                "(BadValue) Skip value must be non-negative, but received: {skip}"
            )));
        }
        let limit = usize::try_from(page_size.unsigned_abs()).unwrap_or(usize::MAX);
        items = items
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(limit)
            .collect();
    }
    let briefs: Vec<Value> = items
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name}))
        .collect();
    // `total` is omitempty.
    let mut out = json!({"build_templates": briefs});
    if total > 0 {
        out["total"] = json!(total);
    }
    Ok(out)
}

/// `BuildTemplateColl.Find({ID})`: a bad hex or no match is a plain error.
fn find(templates: &[SeedBuildTemplate], id: &str) -> Result<usize, AslanError> {
    let id = object_id_from_hex(id).map_err(AslanError::Plain)?;
    templates
        .iter()
        .position(|t| t.id == id)
        .ok_or_else(|| AslanError::Plain(NO_DOCS.to_owned()))
}

/// `CheckDefineResourceParam(pre_build.res_req, pre_build.res_req_spec)`; a nil
/// `pre_build` is dereferenced: an empty 500.
fn check_pre_build(doc: &Value) -> Result<(), AslanError> {
    let pre = doc.get("pre_build").filter(|p| !p.is_null());
    let Some(pre) = pre else {
        return Err(AslanError::Status(500));
    };
    let gpu = pre
        .get("res_req_spec")
        .map(|s| text(s, "gpu_limit"))
        .unwrap_or_default();
    super::state::check_define_resource_param(&text(pre, "res_req"), &gpu).map_err(|e| {
        AslanError::Http {
            code: CODE_CREATE,
            description: e,
        }
    })
}

/// The driver's error for the unique index `name_1`.
fn duplicate_name(name: &str) -> String {
    let quoted = serde_json::to_string(name).unwrap_or_default();
    format!(
        "write exception: write errors: [E11000 duplicate key error collection: \
         zadig.build_template index: name_1 dup key: {{ name: {quoted} }}]"
    )
}

/// `AddBuildTemplate`.
fn create(
    templates: &mut Vec<SeedBuildTemplate>,
    mut doc: Value,
    user: &str,
    new_id: impl FnOnce(&[SeedBuildTemplate]) -> String,
) -> Result<(), AslanError> {
    let name = text(&doc, "name");
    if name.is_empty() {
        return Err(AslanError::Http {
            code: CODE_CREATE,
            description: "empty name".to_owned(),
        });
    }
    check_pre_build(&doc)?;
    doc["update_by"] = json!(user);
    if templates.iter().any(|t| t.name == name) {
        return Err(AslanError::Http {
            code: CODE_CREATE,
            description: duplicate_name(&name),
        });
    }
    // Create sets ID to NilObjectID: MongoDB assigns a fresh one.
    doc["id"] = json!(new_id(templates));
    let t = SeedBuildTemplate::from_bound(doc).map_err(AslanError::Plain)?;
    templates.push(t);
    Ok(())
}

/// `UpdateBuildTemplate`.
fn update(templates: &mut [SeedBuildTemplate], id: &str, doc: Value) -> Result<(), AslanError> {
    let i = find(templates, id)?;
    check_pre_build(&doc)?;
    let stored = templates[i].doc.clone();
    // `$set: obj` with obj.ID = id: every field but the bson-omitempty ones
    // that are empty, which keep their stored value.
    let mut merged = Map::new();
    for field in TEMPLATE {
        let new = doc
            .get(field.name)
            .cloned()
            .unwrap_or_else(|| zero(field.ty));
        let value = if field.name == "id" {
            json!(templates[i].id)
        } else if field.bson_omitempty && is_empty(&new) {
            stored
                .get(field.name)
                .cloned()
                .unwrap_or_else(|| zero(field.ty))
        } else {
            new
        };
        merged.insert(field.name.to_owned(), value);
    }
    let name = text(&Value::Object(merged.clone()), "name");
    if templates
        .iter()
        .enumerate()
        .any(|(j, t)| j != i && t.name == name)
    {
        return Err(AslanError::Plain(duplicate_name(&name)));
    }
    templates[i] =
        SeedBuildTemplate::from_bound(Value::Object(merged)).map_err(AslanError::Plain)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> TemplateCaller<'static> {
        TemplateCaller {
            admin: true,
            perms: TemplatePerms::default(),
            user: "Alice",
        }
    }

    fn call(
        templates: &mut Vec<SeedBuildTemplate>,
        builds: &[BuildRef<'_>],
        route: TemplateRoute,
        id: &str,
        body: Value,
    ) -> Result<Value, AslanError> {
        let body = serde_json::to_vec(&body).expect("body");
        let mut n = 0;
        handle(
            templates,
            builds,
            &admin(),
            &TemplateRequest {
                route,
                id,
                page: (None, None),
                body: &body,
            },
            |taken| loop {
                n += 1;
                let id = format!("77{n:022x}");
                if !taken.iter().any(|t| t.id == id) {
                    return id;
                }
            },
        )
    }

    #[test]
    fn a_bound_template_has_every_field_in_go_order() {
        let t = SeedBuildTemplate::with_variables("65c000000000000000000001", "t", vec![])
            .expect("template");
        let model = t.model();
        let keys: Vec<&str> = model
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        // team, source and jenkins_build are json-omitempty.
        let expected: Vec<&str> = TEMPLATE
            .iter()
            .filter(|f| !matches!(f.name, "team" | "source" | "jenkins_build"))
            .map(|f| f.name)
            .collect();
        assert_eq!(keys, expected);
        assert_eq!(model["post_build"], Value::Null);
        assert_eq!(model["sshs"], json!([]));
        assert_eq!(model["pre_build"]["res_req_spec"]["cpu_limit"], json!(0));
        assert_eq!(model["pre_build"]["storages"], Value::Null);
    }

    #[test]
    fn binding_follows_go_rules() {
        // Unknown keys ignored, keys case-insensitive (last wins), null = zero.
        let v = bind_template_model(
            br#"{"NAME":"a","name":"b","nope":1,"timeout":null,"pre_build":{"envs":[null,{"key":"K"}]}} trailing"#,
        )
        .expect("binds");
        assert_eq!(v["name"], json!("b"));
        assert_eq!(v["timeout"], json!(0));
        assert_eq!(v["pre_build"]["envs"][0], Value::Null);
        assert_eq!(v["pre_build"]["envs"][1]["registry_id"], json!(""));
        for bad in [
            r#"{"timeout":"60"}"#,
            r#"{"timeout":1.5}"#,
            r#"{"pre_build":[]}"#,
            r#"{"pre_build":{"envs":[{"value":1}]}}"#,
            r#"{"sshs":[1]}"#,
            r#"{"id":"xyz"}"#,
            r#"[]"#,
            "",
        ] {
            assert!(bind_template_model(bad.as_bytes()).is_err(), "{bad}");
        }
        // interface{} takes anything.
        let v = bind_template_model(
            br#"{"pre_build":{"custom_labels":[{"key":"k","value":{"x":[1]}}]}}"#,
        )
        .expect("binds");
        assert_eq!(
            v["pre_build"]["custom_labels"][0]["value"],
            json!({"x": [1]})
        );
    }

    #[test]
    fn object_ids_unmarshal_like_the_driver() {
        assert_eq!(object_id(&json!("")), Ok(NIL_OID.to_owned()));
        assert_eq!(
            object_id(&json!("65C000000000000000000001")),
            Ok("65c000000000000000000001".to_owned())
        );
        assert!(object_id(&json!("65c0")).is_err());
        assert!(object_id(&json!(5)).is_err());
        assert_eq!(
            object_id(&json!({"$oid": "65c000000000000000000001"})),
            Ok("65c000000000000000000001".to_owned())
        );
        // A 12-byte JSON text is taken as raw bytes.
        assert_eq!(
            object_id(&json!("abcdefghij")),
            Ok("226162636465666768696a22".to_owned())
        );
        assert_eq!(
            object_id_from_hex("zz0000000000000000000000"),
            Err("encoding/hex: invalid byte: U+007A 'z'".to_owned())
        );
        assert_eq!(
            object_id_from_hex("abc"),
            Err("the provided hex string is not a valid ObjectID".to_owned())
        );
    }

    #[test]
    fn create_update_delete_follow_the_service() {
        let mut ts = Vec::new();
        let body = json!({"name": "t1", "update_time": 42, "update_by": "spoofed",
                          "pre_build": {"envs": [{"key": "A", "value": "1"}]},
                          "post_build": {"scripts": "echo"}, "team": "x", "id": "65c000000000000000000009"});
        call(&mut ts, &[], TemplateRoute::Create, "", body).expect("created");
        let id = ts[0].id.clone();
        assert_ne!(id, "65c000000000000000000009", "the body's id is ignored");
        let m = ts[0].model();
        assert_eq!(m["update_by"], json!("Alice"));
        assert_eq!(m["update_time"], json!(42), "update_time is not stamped");
        // Update: a whole-body $set; empty bson-omitempty fields keep theirs.
        call(
            &mut ts,
            &[],
            TemplateRoute::Update,
            &id,
            json!({"name": "t1b", "pre_build": {}, "timeout": 5}),
        )
        .expect("updated");
        let m = ts[0].model();
        assert_eq!(m["name"], json!("t1b"));
        assert_eq!(m["timeout"], json!(5));
        assert_eq!(m["team"], json!("x"));
        assert_eq!(m["post_build"]["scripts"], json!("echo"));
        assert_eq!(m["update_by"], json!(""), "not stamped: the body had none");
        assert_eq!(m["update_time"], json!(0));
        assert_eq!(m["pre_build"]["envs"], json!([]));
        // Delete, blocked while a build uses it.
        let uses = [BuildRef {
            name: "b",
            project: "demo",
            template_id: &id,
            modules: vec!["m"],
        }];
        assert_eq!(
            call(&mut ts, &uses, TemplateRoute::Delete, &id, Value::Null),
            Err(AslanError::Plain(
                "template build has beed used, can't be deleted".to_owned()
            ))
        );
        assert_eq!(
            call(&mut ts, &uses, TemplateRoute::Reference, &id, Value::Null),
            Ok(json!([{"build_name": "b", "project_name": "demo", "service_module": ["m"]}]))
        );
        call(&mut ts, &[], TemplateRoute::Delete, &id, Value::Null).expect("deleted");
        assert!(ts.is_empty());
        assert_eq!(
            call(&mut ts, &[], TemplateRoute::Delete, &id, Value::Null),
            Err(AslanError::Plain(format!(
                "failed to find build template with id: {id}, err: {NO_DOCS}"
            )))
        );
    }

    #[test]
    fn create_errors_in_the_services_order() {
        let mut ts = Vec::new();
        let err = |ts: &mut Vec<SeedBuildTemplate>, body: Value| {
            call(ts, &[], TemplateRoute::Create, "", body).expect_err("fails")
        };
        assert_eq!(
            err(&mut ts, json!({"pre_build": null})),
            AslanError::Http {
                code: 6520,
                description: "empty name".to_owned()
            }
        );
        assert_eq!(err(&mut ts, json!({"name": "x"})), AslanError::Status(500));
        assert_eq!(
            err(
                &mut ts,
                json!({"name": "x", "pre_build": {"res_req": "define",
                                                  "res_req_spec": {"gpu_limit": "nvidia.com/gpu"}}})
            ),
            AslanError::Http {
                code: 6520,
                description: "format of gpu request is incorrect".to_owned()
            }
        );
        call(
            &mut ts,
            &[],
            TemplateRoute::Create,
            "",
            json!({"name": "x", "pre_build": {}}),
        )
        .expect("created");
        assert_eq!(
            err(&mut ts, json!({"name": "x", "pre_build": {}})),
            AslanError::Http {
                code: 6520,
                description: duplicate_name("x")
            }
        );
        assert_eq!(
            err(&mut ts, json!([1])),
            AslanError::Status(400),
            "a bind failure"
        );
    }

    #[test]
    fn lists_page_like_mongo() {
        let mut ts = Vec::new();
        for name in ["a", "b", "c"] {
            call(
                &mut ts,
                &[],
                TemplateRoute::Create,
                "",
                json!({"name": name, "pre_build": {}}),
            )
            .expect("created");
        }
        let names = |v: Value| -> Vec<String> {
            v["build_templates"]
                .as_array()
                .expect("array")
                .iter()
                .map(|t| t["name"].as_str().expect("name").to_owned())
                .collect()
        };
        assert_eq!(names(list(&ts, 2, 2).expect("page")), ["c"]);
        assert_eq!(names(list(&ts, 0, 2).expect("all")), ["a", "b", "c"]);
        assert_eq!(names(list(&ts, 1, -2).expect("abs limit")), ["a", "b"]);
        assert!(matches!(list(&ts, 3, -1), Err(AslanError::Plain(_))));
        assert_eq!(list(&ts, 9, 100).expect("empty")["total"], json!(3));
        assert_eq!(
            list(&[], 1, 100).expect("none"),
            json!({"build_templates": []})
        );
        assert_eq!(
            form_int(Some("x"), 1),
            Err(AslanError::Plain(
                "strconv.ParseInt: parsing \"x\": invalid syntax".to_owned()
            ))
        );
        assert_eq!(form_int(Some(""), 100), Ok(100));
    }

    #[test]
    fn seeds_take_the_model_or_the_older_envs_form() {
        let old: SeedBuildTemplate = serde_json::from_value(json!({
            "id": "65c000000000000000000001", "name": "t",
            "envs": [{"key": "A", "value": "1", "type": "string"}]}))
        .expect("old form");
        assert_eq!(old.variables()[0]["key"], json!("A"));
        let again: SeedBuildTemplate =
            serde_json::from_value(serde_json::to_value(&old).expect("ser")).expect("round trip");
        assert_eq!(again, old);
        for bad in [
            json!({"id": "65c000000000000000000001", "name": "t", "nmae": 1}),
            json!({"id": "x", "name": "t"}),
            json!({"name": "t"}),
            json!({"id": "65c000000000000000000001", "name": "t", "envs": [],
                   "pre_build": {"envs": []}}),
        ] {
            assert!(
                serde_json::from_value::<SeedBuildTemplate>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
