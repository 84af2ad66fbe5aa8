//! The emulated database and aslan's build services: what each endpoint does
//! to the stored models, with the real error codes and texts
//! (build-api.md §3.3, §5; build-api-one-read.md §2).
//!
//! Everything here is synchronous: callers hold the state lock for the
//! duration of one call and never across an `.await`.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::binding::{CreateReq, KvReq, RepoInput, TemplateReq};
use super::seed::{LOCAL_CLUSTER_ID, Seed, SeedBuild, SeedBuildTemplate, SeedCluster};
use crate::zadig::wire::{
    BuildBrief, BuildDetail, BuildEnv, BuildListResp, CacheSettingWire, DetailAdvancedSettings,
    DetailParameter, DetailRepo, DockerBuildWire, KeyVal, Output, PostBuild, PreBuild,
    ResourceSpecWire, ServiceWithModule, StoragesWire, StoredBuild, StoredRepo, StoredTarget,
};

/// The value aslan writes in place of a credential.
pub const MASK: &str = "********";
/// Placeholder image id of OpenAPI template builds (no image has it).
pub const TEMPLATE_PLACEHOLDER_IMAGE: &str = "61af6b575c9beafb9ab130dc";
const NO_DOCS: &str = "mongo: no documents in result";
const INVALID_HEX: &str = "the provided hex string is not a valid ObjectID";

/// `e.ErrCreateBuildModule`.
pub const CODE_CREATE: i64 = 6520;
/// `e.ErrUpdateBuildModule`.
pub const CODE_UPDATE: i64 = 6521;
/// `e.ErrGetBuildModule`.
pub const CODE_GET: i64 = 6523;
/// `e.ErrDeleteBuildModule`.
pub const CODE_DELETE: i64 = 6524;
/// `e.ErrLicenseInvalid`.
pub const CODE_LICENCE: i64 = 7050;

/// The short message aslan attaches to an error code.
pub fn message_of(code: i64) -> &'static str {
    match code {
        CODE_CREATE => "新建编译模块失败",
        CODE_UPDATE => "更新编译模块失败",
        6522 => "列出编译模块失败",
        CODE_GET => "查询编译模块失败",
        CODE_DELETE => "删除构建模块失败",
        CODE_LICENCE => "用户许可证不可用，请检查许可证后重试",
        _ => "Bad Request",
    }
}

/// How a request fails, as aslan answers it (the emulator's side; the
/// client's reading of an answer is `zadig::ApiError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AslanError {
    /// This status with an empty body (bind errors, 403, panics).
    Status(u16),
    /// An `*HTTPError`: 400 for 6xxx/7xxx, else the code itself.
    Http {
        /// Business code.
        code: i64,
        /// Description.
        description: String,
    },
    /// A plain Go error: 500 `{"code":500,"description","message":"Internal Error: "}`.
    Plain(String),
}

impl AslanError {
    /// `e.ErrInvalidParam.AddDesc(desc)`.
    pub fn bad_request(desc: &str) -> AslanError {
        AslanError::Http {
            code: 400,
            description: desc.to_owned(),
        }
    }

    fn http(code: i64, description: impl Into<String>) -> AslanError {
        AslanError::Http {
            code,
            description: description.into(),
        }
    }
}

/// Why generating a model from a request failed.
enum GenError {
    /// A plain error (wrapped into 6520/6521 by plain create/update).
    Msg(String),
    /// Go would dereference nil here and panic (empty 500).
    Panic,
}

/// A template build's per-target input before it is merged with the
/// template (`commonmodels.TargetRepo`).
struct TargetRepo {
    product_name: String,
    service_name: String,
    service_module: String,
    repos: Vec<StoredRepo>,
    envs: Vec<KeyVal>,
}

/// A build template as the template-build code reads it.
struct TemplateView {
    id: String,
    name: String,
    /// `pre_build.envs`, in order.
    envs: Vec<KeyVal>,
}

impl TemplateView {
    fn of(t: &SeedBuildTemplate) -> TemplateView {
        TemplateView {
            id: t.id.clone(),
            name: t.name.clone(),
            envs: t
                .variables()
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
        }
    }
}

/// The emulated database.
#[derive(Debug, Clone)]
pub struct State {
    /// Catalogs (the seed without its builds).
    pub catalog: Seed,
    /// Every build, in insertion order. Adding or removing one must go
    /// through [`State::push_build`] / [`State::reindex`], so that
    /// `by_name` stays right (a debug build checks it on every look-up).
    pub builds: Vec<StoredBuild>,
    /// Bumped on every change (to order state-file writes).
    pub generation: u64,
    next_id: u64,
    /// Positions in `builds` by name, ascending: Mongo finds a build by an
    /// index, and a scan of every build per request made a 50,000-build
    /// emulator quadratic (the plan_scale benchmark measured the emulator,
    /// not the client).
    by_name: HashMap<String, Vec<usize>>,
}

/// True for a 24-character hex string (`primitive.ObjectIDFromHex`).
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl State {
    /// Builds the state from a seed; `create` entries go through the API's
    /// create path as the user `Admin`.
    pub fn from_seed(mut seed: Seed, now: i64) -> anyhow::Result<State> {
        let builds = std::mem::take(&mut seed.builds);
        let mut state = State {
            catalog: seed,
            builds: Vec::new(),
            generation: 0,
            next_id: 0,
            by_name: HashMap::new(),
        };
        for (i, entry) in builds.into_iter().enumerate() {
            state
                .seed_build(entry, now)
                .map_err(|e| anyhow::anyhow!("seed build #{}: {e}", i + 1))?;
        }
        state.generation = 0;
        Ok(state)
    }

    /// Adds one seed entry: `create` entries go through the API's create
    /// path as the user `Admin`; a `stored` model is inserted as it is (an
    /// id and `update_time` are given when missing).
    pub fn seed_build(&mut self, entry: SeedBuild, now: i64) -> anyhow::Result<()> {
        match entry {
            SeedBuild::Create(body) => super::binding::bind_create_value(&body)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .and_then(|req| {
                    self.create(&req, "Admin", now)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))
                }),
            SeedBuild::CreateTemplate(body) => super::binding::bind_template_value(&body)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .and_then(|req| {
                    self.create_template(&req, "Admin", now)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))
                }),
            SeedBuild::Stored(build) => {
                let mut build = *build;
                if self.find(&build.name, &build.product_name).is_some() {
                    anyhow::bail!(
                        "build {} already exists in project {}",
                        build.name,
                        build.product_name
                    );
                }
                if build.id.is_empty() {
                    build.id = self.new_id();
                }
                if build.update_time == 0 {
                    build.update_time = now;
                }
                self.push_build(build);
                Ok(())
            }
        }
    }

    /// Appends a build and indexes it.
    fn push_build(&mut self, build: StoredBuild) {
        self.by_name
            .entry(build.name.clone())
            .or_default()
            .push(self.builds.len());
        self.builds.push(build);
    }

    /// Rebuilds the name index (after builds were removed).
    fn reindex(&mut self) {
        self.by_name.clear();
        for (i, b) in self.builds.iter().enumerate() {
            self.by_name.entry(b.name.clone()).or_default().push(i);
        }
    }

    /// The state as a seed (every build `stored`): what a state file holds.
    pub fn to_seed(&self) -> Seed {
        let mut seed = self.catalog.clone();
        seed.builds = self
            .builds
            .iter()
            .map(|b| SeedBuild::Stored(Box::new(b.clone())))
            .collect();
        seed
    }

    /// A fresh 24-hex id.
    pub fn new_id(&mut self) -> String {
        loop {
            self.next_id += 1;
            let id = format!("66{:022x}", self.next_id);
            if !self.builds.iter().any(|b| b.id == id)
                && !self.catalog.build_templates.iter().any(|t| t.id == id)
            {
                return id;
            }
        }
    }

    /// A request to the build-template library (`/api/aslan/template/build…`,
    /// [`super::templates`]): the templates are the catalog's, the builds
    /// that use them are every stored build.
    pub fn template_request(
        &mut self,
        caller: &super::templates::TemplateCaller<'_>,
        req: &super::templates::TemplateRequest<'_>,
    ) -> Result<Value, AslanError> {
        use super::templates::{BuildRef, TemplateRoute, handle};
        let State {
            catalog,
            builds,
            next_id,
            ..
        } = self;
        let refs: Vec<BuildRef<'_>> = builds
            .iter()
            .map(|b| BuildRef {
                name: &b.name,
                project: &b.product_name,
                template_id: &b.template_id,
                modules: b
                    .targets
                    .iter()
                    .map(|t| t.service_module.as_str())
                    .collect(),
            })
            .collect();
        let result = handle(&mut catalog.build_templates, &refs, caller, req, |taken| {
            loop {
                *next_id += 1;
                let id = format!("66{:022x}", *next_id);
                if !taken.iter().any(|t| t.id == id) && !builds.iter().any(|b| b.id == id) {
                    return id;
                }
            }
        });
        let writes = matches!(
            req.route,
            TemplateRoute::Create | TemplateRoute::Update | TemplateRoute::Delete
        );
        if writes && result.is_ok() {
            self.touch();
        }
        result
    }

    fn touch(&mut self) {
        self.generation += 1;
    }

    /// `BuildColl.Find`: filters only on the non-empty fields; both empty is
    /// an error ("empty query"), answered as not found.
    pub fn find(&self, name: &str, project: &str) -> Option<usize> {
        if name.is_empty() && project.is_empty() {
            return None;
        }
        let matches = |b: &StoredBuild| {
            (name.is_empty() || b.name == name) && (project.is_empty() || b.product_name == project)
        };
        let found = if name.is_empty() {
            self.builds.iter().position(matches)
        } else {
            self.by_name
                .get(name)
                .and_then(|at| at.iter().copied().find(|&i| matches(&self.builds[i])))
        };
        debug_assert_eq!(
            found,
            self.builds.iter().position(matches),
            "the name index is out of date"
        );
        found
    }

    fn find_error(name: &str, project: &str) -> &'static str {
        if name.is_empty() && project.is_empty() {
            "empty query"
        } else {
            NO_DOCS
        }
    }

    /// Whether the project exists.
    pub fn project_exists(&self, key: &str) -> bool {
        self.catalog.projects.iter().any(|p| p.key == key)
    }

    fn cluster_by_id(&self, id: &str) -> Option<&SeedCluster> {
        self.catalog.clusters.iter().find(|c| c.id == id)
    }

    fn template_by_id(&self, id: &str) -> Option<TemplateView> {
        self.catalog
            .build_templates
            .iter()
            .find(|t| t.id == id)
            .map(TemplateView::of)
    }

    fn template_by_name(&self, name: &str) -> Option<TemplateView> {
        self.catalog
            .build_templates
            .iter()
            .find(|t| t.name == name)
            .map(TemplateView::of)
    }

    /// `ToBuildRepository`: resolves a system-level code host alias.
    fn to_repository(&self, r: &RepoInput) -> Result<StoredRepo, String> {
        let Some(host) = self
            .catalog
            .code_hosts
            .iter()
            .find(|h| h.alias == r.codehost_name && h.integration_level == "system")
        else {
            return Err(format!(
                "failed to convert user repository input info into system repository, codehostName: [{ch}], repoName[{repo}], err: failed to find codehost with name [{ch}], error is: {NO_DOCS}",
                ch = r.codehost_name,
                repo = r.repo_name
            ));
        };
        Ok(StoredRepo {
            source: host.host_type.clone(),
            codehost_id: host.id,
            repo_owner: r.repo_namespace.clone(),
            repo_namespace: r.repo_namespace.clone(),
            repo_name: r.repo_name.clone(),
            branch: r.branch.clone(),
            remote_name: r.remote_name.clone(),
            checkout_path: r.checkout_path.clone(),
            submodules: r.submodules,
            enable_commit: r.enable_commit,
            commit_id: r.commit_id.clone(),
            pr: r.pr,
            prs: r.prs.clone(),
            hidden: false,
            filter_regexp: String::new(),
        })
    }

    // ---------------------------------------------------------------- writes

    /// `POST /openapi/build` (§5.1).
    pub fn create(&mut self, req: &CreateReq, user: &str, now: i64) -> Result<(), AslanError> {
        if req.nil_element {
            return Err(AslanError::Status(500));
        }
        let build = match self.generate(req, None) {
            Ok(b) => b,
            Err(GenError::Msg(m)) => return Err(AslanError::http(CODE_CREATE, m)),
            Err(GenError::Panic) => return Err(AslanError::Status(500)),
        };
        self.create_build(build, None, user, now)
    }

    /// `PUT /openapi/build` (§5.2): a full replace.
    pub fn update(&mut self, req: &CreateReq, user: &str, now: i64) -> Result<(), AslanError> {
        let Some(idx) = self.find(&req.name, &req.project_key) else {
            return Err(AslanError::http(
                CODE_UPDATE,
                format!(
                    "failed to find build module, buildName: {}, projectName: {}, err: {}",
                    req.name,
                    req.project_key,
                    Self::find_error(&req.name, &req.project_key)
                ),
            ));
        };
        if req.nil_element {
            return Err(AslanError::Status(500));
        }
        let original = self.builds[idx].clone();
        let build = match self.generate(req, Some(&original)) {
            Ok(b) => b,
            Err(GenError::Msg(m)) => return Err(AslanError::http(CODE_UPDATE, m)),
            Err(GenError::Panic) => return Err(AslanError::Status(500)),
        };
        self.update_build(build, None, user, now)
    }

    /// `POST /openapi/build?source=template` (§5.3).
    pub fn create_template(
        &mut self,
        req: &TemplateReq,
        user: &str,
        now: i64,
    ) -> Result<(), AslanError> {
        if req.nil_element {
            return Err(AslanError::Status(500));
        }
        let Some(template) = self.template_by_name(&req.template_name) else {
            return Err(template_not_found(&req.template_name));
        };
        let template_id = template.id.clone();
        let targets = self.target_repos(req).map_err(AslanError::Plain)?;
        let build = StoredBuild {
            name: req.name.clone(),
            source: "zadig".to_owned(),
            product_name: req.project_key.clone(),
            // "just set this to true always to make the menu open forever"
            advanced_setting_modified: true,
            template_id,
            pre_build: Some(placeholder_pre_build()),
            post_build: Some(PostBuild::default()),
            ..StoredBuild::default()
        };
        self.create_build(build, Some(targets), user, now)
    }

    /// `PUT /openapi/build/:name/template` (§5.3): replaces the template and
    /// the targets, keeps everything else.
    pub fn update_template(
        &mut self,
        req: &TemplateReq,
        user: &str,
        now: i64,
    ) -> Result<(), AslanError> {
        let Some(idx) = self.find(&req.name, &req.project_key) else {
            return Err(AslanError::http(
                CODE_GET,
                format!(
                    "failed to find build module, buildName:{}, projectName:{} err: {}",
                    req.name,
                    req.project_key,
                    Self::find_error(&req.name, &req.project_key)
                ),
            ));
        };
        if req.nil_element {
            return Err(AslanError::Status(500));
        }
        let mut build = self.builds[idx].clone();
        let Some(template) = self.template_by_name(&req.template_name) else {
            return Err(template_not_found(&req.template_name));
        };
        build.template_id = template.id.clone();
        let targets = self.target_repos(req).map_err(AslanError::Plain)?;
        self.update_build(build, Some(targets), user, now)
    }

    /// `DELETE /openapi/build?name=&projectKey=` (§5.4).
    pub fn delete(&mut self, name: &str, project: &str) -> Result<(), AslanError> {
        let mut services: Vec<&str> = Vec::new();
        for r in &self.catalog.vm_service_refs {
            if r.build == name
                && (project.is_empty() || r.project == project)
                && !services.contains(&r.service.as_str())
            {
                services.push(&r.service);
            }
        }
        if !services.is_empty() {
            return Err(AslanError::http(
                CODE_DELETE,
                format!(
                    "该构建被服务 [{}] 引用，请解除引用之后再做删除!",
                    services.join(",")
                ),
            ));
        }
        if name.is_empty() && project.is_empty() {
            return Ok(());
        }
        let before = self.builds.len();
        self.builds.retain(|b| {
            !((name.is_empty() || b.name == name)
                && (project.is_empty() || b.product_name == project))
        });
        if self.builds.len() != before {
            self.reindex();
            self.touch();
        }
        Ok(())
    }

    /// `PUT /api/aslan/build/build` (`UpdateBuildModule` → `UpdateBuild`,
    /// build-api-ui-made.md §9): the body is a whole stored model. The GPU
    /// check, `EnsureSecretEnvs` against the stored envs, `correctFields`
    /// (a template build's targets rebuilt from the body's `target_repos`, so
    /// a body without them empties the targets; `function_reference`
    /// recomputed), then a `$set` of every field. No match is not an error.
    pub fn ui_update(
        &mut self,
        mut build: StoredBuild,
        target_repos: Option<&Value>,
        user: &str,
        now: i64,
    ) -> Result<(), AslanError> {
        if self.find(&build.name, &build.product_name).is_none() {
            return Ok(());
        }
        // correctFields returns early for plain builds: only template builds
        // get `function_reference` recomputed, for `script` variables
        // (build/service/build.go `correctFields`, zadig@18278c716).
        if !build.template_id.is_empty()
            && let Some(pre) = build.pre_build.as_mut()
        {
            for kv in pre.envs.iter_mut().filter(|kv| kv.kv_type == "script") {
                kv.function_reference = function_reference(&kv.call_function);
            }
        }
        let targets = if build.template_id.is_empty() {
            None
        } else {
            let mut out = Vec::new();
            for t in target_repos
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let service = t.get("service").cloned().unwrap_or(Value::Null);
                let text = |v: &Value, k: &str| {
                    v.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let list = |k: &str| t.get(k).cloned().unwrap_or(Value::Null);
                out.push(TargetRepo {
                    product_name: text(&service, "product_name"),
                    service_name: text(&service, "service_name"),
                    service_module: text(&service, "service_module"),
                    repos: serde_json::from_value(list("repos")).unwrap_or_default(),
                    envs: serde_json::from_value(list("envs")).unwrap_or_default(),
                });
            }
            Some(out)
        };
        self.update_build(build, targets, user, now)
    }

    /// Inserts or replaces a raw stored model (out-of-band change).
    pub fn put_stored(&mut self, mut build: StoredBuild, now: i64) {
        build.update_time = now;
        let existing = if build.name.is_empty() || build.product_name.is_empty() {
            self.builds
                .iter()
                .position(|b| b.name == build.name && b.product_name == build.product_name)
        } else {
            self.find(&build.name, &build.product_name)
        };
        match existing {
            Some(i) => {
                if build.id.is_empty() {
                    build.id = self.builds[i].id.clone();
                }
                self.builds[i] = build;
            }
            None => {
                if build.id.is_empty() {
                    build.id = self.new_id();
                }
                self.push_build(build);
            }
        }
        self.touch();
    }

    /// `generateBuildModuleFromOpenAPIRequest`.
    fn generate(
        &self,
        req: &CreateReq,
        original: Option<&StoredBuild>,
    ) -> Result<StoredBuild, GenError> {
        let mut b = StoredBuild {
            name: req.name.clone(),
            product_name: req.project_key.clone(),
            source: "zadig".to_owned(),
            script_type: req.script_type.clone(),
            scripts: req.build_script.clone(),
            infrastructure: req.infrastructure.clone(),
            timeout: 60,
            ..StoredBuild::default()
        };
        if let Some(o) = original {
            b.name.clone_from(&o.name);
            b.product_name.clone_from(&o.product_name);
            b.source.clone_from(&o.source);
        }
        let mut pre = PreBuild {
            build_os: req.build_os.clone(),
            envs: req
                .parameters
                .iter()
                .map(|p| KeyVal {
                    key: p.key.clone(),
                    value: p.default_value.clone(),
                    kv_type: p.param_type.clone(),
                    choice_option: p.choice_option.clone(),
                    choice_value: p.choice_value.clone(),
                    is_credential: p.is_credential,
                    description: p.description.clone(),
                    ..KeyVal::default()
                })
                .collect(),
            installs: req
                .installs
                .iter()
                .map(|i| crate::zadig::wire::InstallItem {
                    name: i.name.clone(),
                    version: i.version.clone(),
                })
                .collect(),
            ..PreBuild::default()
        };
        b.outputs = vec![output("IMAGE"), output("PKG_FILE")];

        if let Some(adv) = &req.advanced_settings {
            b.advanced_setting_modified = true;
            b.timeout = adv.timeout;
            let Some(cluster) = self
                .catalog
                .clusters
                .iter()
                .find(|c| c.name == adv.cluster_name)
            else {
                return Err(GenError::Msg(format!(
                    "failed to find cluster of name: {}, error: {NO_DOCS}",
                    adv.cluster_name
                )));
            };
            pre.cluster_id.clone_from(&cluster.id);
            // No `break` in Go: the last strategy with that name wins; none
            // leaves "" (not the default).
            for s in &cluster.strategies {
                if s.name == adv.strategy_name {
                    pre.strategy_id.clone_from(&s.id);
                }
            }
            let spec = &adv.resource_spec;
            pre.res_req_spec = ResourceSpecWire {
                cpu_limit: spec.cpu_limit,
                memory_limit: spec.memory_limit,
                cpu_req: spec.cpu_req,
                memory_req: spec.memory_req,
                gpu_limit: spec.gpu_limit.clone(),
            };
            pre.res_req = resource_request_type(&pre.res_req_spec).to_owned();
            pre.storages.clone_from(&adv.storages);
            if let Some((enabled, dir)) = &adv.cache_setting {
                b.cache_enable = *enabled;
                if *enabled {
                    b.cache_dir_type = "user_defined".to_owned();
                    b.cache_user_dir.clone_from(dir);
                }
            }
            b.enable_privileged_mode = adv.privileged_mode;
            pre.use_host_docker_daemon = adv.use_host_docker_daemon;
            pre.custom_annotations.clone_from(&adv.custom_annotations);
            pre.custom_labels.clone_from(&adv.custom_labels);
            b.outputs.extend(adv.outputs.iter().map(|o| output(o)));
        } else {
            // Go formats `req.AdvancedSetting.ClusterName` in the error with a
            // nil AdvancedSetting: a missing local cluster is a panic.
            let Some(cluster) = self.cluster_by_id(LOCAL_CLUSTER_ID) else {
                return Err(GenError::Panic);
            };
            pre.cluster_id.clone_from(&cluster.id);
            for s in &cluster.strategies {
                if s.default {
                    pre.strategy_id.clone_from(&s.id);
                }
            }
            pre.res_req = "low".to_owned();
            pre.res_req_spec = ResourceSpecWire {
                cpu_limit: 1000,
                memory_limit: 512,
                ..ResourceSpecWire::default()
            };
            pre.storages = Some(StoragesWire::default());
            b.cache_dir_type = "workspace".to_owned();
        }

        let Some(image) = self.catalog.images.iter().find(|i| i.label == req.build_os) else {
            return Err(GenError::Msg(format!(
                "failed to find the basic image of name: {}, error is: {NO_DOCS}",
                req.build_os
            )));
        };
        pre.image_id.clone_from(&image.id);
        // Hard-coded in aslan: only these two labels count as koderover images.
        if req.build_os == "ubuntu 18.04" || req.build_os == "ubuntu 20.04" {
            pre.image_from = "koderover".to_owned();
            pre.build_os.clone_from(&req.build_os);
        } else {
            pre.image_from = "custom".to_owned();
            pre.build_os.clone_from(&image.value);
        }
        b.pre_build = Some(pre);

        for r in &req.repo_info {
            b.repos.push(self.to_repository(r).map_err(GenError::Msg)?);
        }
        b.targets = req
            .services
            .iter()
            .map(|s| StoredTarget {
                product_name: req.project_key.clone(),
                service_name: s.service_name.clone(),
                service_module: s.service_module.clone(),
                ..StoredTarget::default()
            })
            .collect();

        let mut post = PostBuild::default();
        if let Some(step) = &req.docker_build_step {
            let mut docker = DockerBuildWire {
                work_dir: step.build_context_dir.clone(),
                build_args: step.build_args.clone(),
                source: step.dockerfile_source.clone(),
                enable_buildkit: step.enable_buildkit,
                platform: step.platforms.clone(),
                ..DockerBuildWire::default()
            };
            match step.dockerfile_source.as_str() {
                "local" => docker.docker_file.clone_from(&step.dockerfile_directory),
                "template" => {
                    docker.template_name.clone_from(&step.template_name);
                    let Some(t) = self
                        .catalog
                        .dockerfile_templates
                        .iter()
                        .find(|t| t.name == step.template_name)
                    else {
                        return Err(GenError::Msg(format!(
                            "failed to find the dockerfile template of name: [{}], err: {NO_DOCS}",
                            step.template_name
                        )));
                    };
                    docker.template_id.clone_from(&t.id);
                }
                _ => {
                    return Err(GenError::Msg(
                        "unsupported dockerfile type, it can only be local or template".to_owned(),
                    ));
                }
            }
            post.docker_build = Some(docker);
        }
        b.post_build = Some(post);
        Ok(b)
    }

    fn target_repos(&self, req: &TemplateReq) -> Result<Vec<TargetRepo>, String> {
        let mut out = Vec::with_capacity(req.target_services.len());
        for t in &req.target_services {
            let mut repos = Vec::with_capacity(t.repo_info.len());
            for r in &t.repo_info {
                repos.push(self.to_repository(r)?);
            }
            out.push(TargetRepo {
                product_name: req.project_key.clone(),
                service_name: t.service_name.clone(),
                service_module: t.service_module.clone(),
                repos,
                envs: t.inputs.iter().map(input_key_val).collect(),
            });
        }
        Ok(out)
    }

    /// `correctFields` (with `fillBuildTargetData`).
    fn correct_fields(
        &self,
        build: &mut StoredBuild,
        targets: Option<Vec<TargetRepo>>,
    ) -> Result<(), String> {
        if !build.template_id.is_empty() {
            let Some(template) = self.template_by_id(&build.template_id) else {
                return Err(format!(
                    "failed to find build template with id: {}, err: {NO_DOCS}",
                    build.template_id
                ));
            };
            build.targets = targets
                .unwrap_or_default()
                .into_iter()
                .map(|t| StoredTarget {
                    product_name: t.product_name,
                    service_name: t.service_name,
                    service_module: t.service_module,
                    build_name: String::new(),
                    repos: t.repos,
                    envs: merge_build_envs(&template.envs, &t.envs),
                })
                .collect();
        }
        if let Some(docker) = build
            .post_build
            .as_mut()
            .and_then(|p| p.docker_build.as_mut())
        {
            docker.docker_file = docker.docker_file.trim_matches(' ').to_owned();
            docker.work_dir = docker.work_dir.trim_matches(' ').to_owned();
        }
        if build.template_id.is_empty() {
            build
                .repos
                .iter_mut()
                .filter(|r| r.source == "other")
                .for_each(modify_auth_type);
        } else {
            build
                .targets
                .iter_mut()
                .flat_map(|t| t.repos.iter_mut())
                .filter(|r| r.source == "other")
                .for_each(modify_auth_type);
        }
        Ok(())
    }

    /// `CreateBuild` + `BuildColl.Create`.
    fn create_build(
        &mut self,
        mut build: StoredBuild,
        targets: Option<Vec<TargetRepo>>,
        user: &str,
        now: i64,
    ) -> Result<(), AslanError> {
        if build.name.is_empty() {
            return Err(AslanError::http(CODE_CREATE, "empty name"));
        }
        user.clone_into(&mut build.update_by);
        self.correct_fields(&mut build, targets)
            .map_err(AslanError::Plain)?;
        if build.template_id.is_empty()
            && let Some(pre) = &build.pre_build
            && let Err(e) = check_define_resource(pre)
        {
            return Err(AslanError::http(CODE_CREATE, e));
        }
        build.name = build.name.trim().to_owned();
        build.update_time = now;
        // Names are unique across projects (the duplicate check has no project).
        if let Some(i) = self.find(&build.name, "") {
            return Err(AslanError::http(
                CODE_CREATE,
                format!(
                    "{}项目中有相同的构建名称存在,请检查!",
                    self.builds[i].product_name
                ),
            ));
        }
        build.id = self.new_id();
        self.push_build(build);
        self.touch();
        Ok(())
    }

    /// `UpdateBuild` + `BuildColl.Update` (`$set` of the whole struct).
    fn update_build(
        &mut self,
        mut build: StoredBuild,
        targets: Option<Vec<TargetRepo>>,
        user: &str,
        now: i64,
    ) -> Result<(), AslanError> {
        if build.name.is_empty() {
            return Err(AslanError::http(CODE_UPDATE, "empty name"));
        }
        // `build.PreBuild.ResReq` is read without a nil check.
        let Some(pre) = &build.pre_build else {
            return Err(AslanError::Status(500));
        };
        if let Err(e) = check_define_resource(pre) {
            return Err(AslanError::http(CODE_UPDATE, e));
        }
        if let Some(i) = self.find(&build.name, &build.product_name)
            && let (Some(existing), Some(new)) =
                (&self.builds[i].pre_build, build.pre_build.as_mut())
        {
            ensure_secret_envs(&existing.envs, &mut new.envs);
        }
        self.correct_fields(&mut build, targets)
            .map_err(AslanError::Plain)?;
        user.clone_into(&mut build.update_by);
        build.update_time = now;
        // UpdateOne({name, product_name}); fields with `omitempty` bson tags
        // keep their stored value when the new one is empty.
        let query_project = build.product_name.clone();
        if let Some(i) = self.find(&build.name, &query_project) {
            let stored = &mut self.builds[i];
            build.id.clone_from(&stored.id);
            if build.desc.is_empty() {
                build.desc.clone_from(&stored.desc);
            }
            if build.source.is_empty() {
                build.source.clone_from(&stored.source);
            }
            if build.jenkins_build.is_none() {
                build.jenkins_build.clone_from(&stored.jenkins_build);
            }
            if build.post_build.is_none() {
                build.post_build.clone_from(&stored.post_build);
            }
            *stored = build;
            self.touch();
        }
        Ok(())
    }

    // ----------------------------------------------------------------- reads

    /// `GET /openapi/build?projectKey=` (§5.5).
    pub fn list(&self, project: &str, page_num: i64, page_size: i64) -> BuildListResp {
        let all: Vec<&StoredBuild> = self
            .builds
            .iter()
            .filter(|b| b.product_name == project)
            .collect();
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let page: Vec<&StoredBuild> = if page_num > 0 && page_size > 0 {
            let skip = (page_num - 1).saturating_mul(page_size);
            all.into_iter()
                .skip(usize::try_from(skip).unwrap_or(usize::MAX))
                .take(usize::try_from(page_size).unwrap_or(usize::MAX))
                .collect()
        } else {
            all
        };
        BuildListResp {
            total,
            builds: page
                .into_iter()
                .map(|b| BuildBrief {
                    name: b.name.clone(),
                    project_key: b.product_name.clone(),
                    source: b.source.clone(),
                    update_by: b.update_by.clone(),
                    update_time: b.update_time,
                    target_services: b.targets.iter().map(service_of).collect(),
                })
                .collect(),
        }
    }

    /// `GET /openapi/build/:name/detail` (§4.4, §5.6).
    pub fn detail(
        &self,
        name: &str,
        project: &str,
        service_name: &str,
        service_module: &str,
    ) -> Result<BuildDetail, AslanError> {
        let Some(idx) = self.find(name, project) else {
            return Err(AslanError::http(CODE_GET, Self::find_error(name, project)));
        };
        let b = &self.builds[idx];
        let mut template_name = String::new();
        if !b.template_id.is_empty() {
            let Some(t) = self.template_by_id(&b.template_id) else {
                return Err(AslanError::http(CODE_GET, NO_DOCS));
            };
            template_name.clone_from(&t.name);
        }
        let mut repos = Vec::new();
        let mut parameters = Vec::new();
        if service_name.is_empty() || service_module.is_empty() || b.template_id.is_empty() {
            repos.extend(b.repos.iter().map(detail_repo));
        } else if let Some(t) = b
            .targets
            .iter()
            .find(|t| t.service_name == service_name && t.service_module == service_module)
        {
            repos.extend(t.repos.iter().map(detail_repo));
            parameters.extend(t.envs.iter().map(|kv| DetailParameter {
                key: kv.key.clone(),
                value: kv.value.clone(),
                param_type: kv.kv_type.clone(),
                choice_option: kv.choice_option.clone(),
                choice_value: kv.choice_value.clone(),
                is_credential: kv.is_credential,
            }));
        }
        // Jenkins builds may have no pre_build: Go dereferences it anyway.
        let Some(pre) = &b.pre_build else {
            return Err(AslanError::Status(500));
        };
        if !is_object_id(&pre.image_id) {
            return Err(AslanError::Status(500));
        }
        let (image_id, image_label) = self
            .catalog
            .images
            .iter()
            .find(|i| i.id.eq_ignore_ascii_case(&pre.image_id))
            .map_or_else(
                || ("000000000000000000000000".to_owned(), String::new()),
                |i| (i.id.to_ascii_lowercase(), i.label.clone()),
            );
        let cluster = if is_object_id(&pre.cluster_id) {
            self.cluster_by_id(&pre.cluster_id).ok_or(NO_DOCS)
        } else {
            Err(INVALID_HEX)
        };
        let cluster = cluster.map_err(|e| {
            AslanError::Plain(format!(
                "failed to find cluster of ID: {}, the error is: {e}",
                pre.cluster_id
            ))
        })?;
        let strategy_name = cluster
            .strategies
            .iter()
            .rfind(|s| s.id == pre.strategy_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if parameters.is_empty() {
            parameters.extend(pre.envs.iter().map(|kv| DetailParameter {
                key: kv.key.clone(),
                value: kv.value.clone(),
                param_type: kv.kv_type.clone(),
                choice_option: Vec::new(),
                choice_value: Vec::new(),
                is_credential: kv.is_credential,
            }));
        }
        Ok(BuildDetail {
            project_key: b.product_name.clone(),
            name: b.name.clone(),
            source: b.source.clone(),
            target_services: b.targets.iter().map(service_of).collect(),
            template_name,
            update_by: b.update_by.clone(),
            update_time: b.update_time,
            repos,
            build_env: BuildEnv {
                basic_image_id: image_id,
                basic_image_label: image_label,
                installs: pre.installs.clone(),
            },
            advanced_settings: Some(DetailAdvancedSettings {
                timeout: b.timeout,
                cache_setting: Some(CacheSettingWire {
                    enabled: b.cache_enable,
                    cache_dir: b.cache_user_dir.clone(),
                }),
                cluster_name: cluster.name.clone(),
                resource_spec: Some(pre.res_req_spec.clone()),
                strategy_name,
                storages: None,
                use_host_docker_daemon: pre.use_host_docker_daemon,
                privileged_mode: false,
                custom_annotations: Vec::new(),
                custom_labels: Vec::new(),
                outputs: Vec::new(),
            }),
            build_script: b.scripts.clone(),
            parameters,
            outputs: b.outputs.clone(),
            post_build: b.post_build.clone(),
        })
    }

    /// `GET /api/aslan/build/build/:name?projectName=` (one-read §2.3).
    pub fn stored_view(&self, name: &str, project: &str, mask: bool) -> Result<Value, AslanError> {
        let Some(idx) = self.find(name, project) else {
            return Err(AslanError::http(CODE_GET, Self::find_error(name, project)));
        };
        let mut b = self.builds[idx].clone();
        // FindBuild fills the default strategy of plain kubernetes builds, as
        // the job runner does at run time.
        if b.template_id.is_empty()
            && b.source == "zadig"
            && b.infrastructure == "kubernetes"
            && let Some(pre) = b.pre_build.as_mut()
            && pre.strategy_id.is_empty()
        {
            if !is_object_id(&pre.cluster_id) {
                return Err(AslanError::Plain(format!(
                    "failed to find cluster {}, error: {INVALID_HEX}",
                    pre.cluster_id
                )));
            }
            if let Some(c) = self.cluster_by_id(&pre.cluster_id)
                && let Some(s) = c.strategies.iter().find(|s| s.default)
            {
                pre.strategy_id.clone_from(&s.id);
            }
        }
        // EnsureBuildResp.
        for r in &mut b.repos {
            fill_namespace(r);
        }
        if mask && let Some(pre) = b.pre_build.as_mut() {
            for kv in &mut pre.envs {
                if kv.is_credential {
                    MASK.clone_into(&mut kv.value);
                }
            }
        }
        let mut target_repos = Vec::new();
        if !b.template_id.is_empty() {
            let template = self.template_by_id(&b.template_id);
            for t in &mut b.targets {
                for r in &mut t.repos {
                    fill_namespace(r);
                }
                let envs = match &template {
                    Some(template) => {
                        // MergeBuildEnvs writes through shared pointers: the
                        // target's own envs get the template's choices and
                        // descriptions too.
                        for kv in &mut t.envs {
                            if let Some(tv) = template.envs.iter().find(|tv| tv.key == kv.key) {
                                kv.choice_option.clone_from(&tv.choice_option);
                                kv.description.clone_from(&tv.description);
                            }
                        }
                        merge_build_envs(&template.envs, &t.envs)
                    }
                    None => t.envs.clone(),
                };
                target_repos.push(json!({
                    "service": {
                        "product_name": t.product_name,
                        "service_name": t.service_name,
                        "service_module": t.service_module,
                    },
                    "repos": t.repos,
                    "envs": envs,
                }));
            }
        }
        let mut v = serde_json::to_value(&b).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("target_repos".to_owned(), Value::Array(target_repos));
            for key in ["caches", "sshs", "deploy_vm_labels", "deploy_repos"] {
                m.insert(key.to_owned(), json!([]));
            }
            m.insert("pre_deploy".to_owned(), Value::Null);
            for key in [
                "deploy_infrastructure",
                "deploy_type",
                "deploy_artifact_type",
                "pm_deploy_script_type",
                "pm_deploy_scripts",
            ] {
                m.insert(key.to_owned(), json!(""));
            }
        }
        Ok(v)
    }

    /// `GET /api/aslan/build/build?projectName=` (`ListBuild`): a summary
    /// whose `key_vals`, `repos` and `cluster_id` are always empty.
    pub fn list_summary(&self, project: &str) -> Value {
        let items: Vec<Value> = self
            .builds
            .iter()
            .filter(|b| project.is_empty() || b.product_name == project)
            .map(|b| {
                json!({
                    "id": b.id, "name": b.name, "targets": b.targets, "key_vals": [],
                    "repos": [], "update_time": b.update_time, "update_by": b.update_by,
                    "productName": b.product_name, "cluster_id": "",
                    "infrastructure": b.infrastructure,
                })
            })
            .collect();
        Value::Array(items)
    }

    // --------------------------------------------------------------- lookups

    /// `GET /api/aslan/system/basicImages`.
    pub fn basic_images(&self, image_from: &str, image_type: &str) -> Value {
        let items: Vec<Value> = self
            .catalog
            .images
            .iter()
            .filter(|i| image_from.is_empty() || i.image_from == image_from)
            .filter(|i| image_type == "sonar" || i.image_type != "sonar")
            .map(|i| {
                json!({"id": i.id, "value": i.value, "label": i.label, "image_from": i.image_from,
                       "create_time": 0, "update_time": 0, "update_by": "system",
                       "image_type": i.image_type})
            })
            .collect();
        Value::Array(items)
    }

    /// `GET /api/aslan/cluster/clusters` (with strategies, without secrets).
    pub fn clusters(&self) -> Value {
        let items: Vec<Value> = self
            .catalog
            .clusters
            .iter()
            .map(|c| {
                let strategies: Vec<Value> = c
                    .strategies
                    .iter()
                    .map(|s| {
                        json!({"strategy_id": s.id, "strategy_name": s.name, "strategy": "normal",
                               "node_labels": [], "tolerations": "", "default": s.default})
                    })
                    .collect();
                json!({
                    "id": c.id, "name": c.name, "description": "",
                    "advanced_config": {
                        "project_names": self.catalog.projects.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
                        "tolerations": "", "cluster_access_yaml": "", "schedule_workflow": true,
                        "schedule_strategy": strategies, "enable_irsa": false, "irsa_role_arn": "",
                        "agent_node_selector": "", "agent_toleration": "", "agent_affinity": "",
                        "agent_disable_host_network": false,
                    },
                    "status": "normal", "production": false, "createdAt": 0, "createdBy": "system",
                    "provider": 0, "local": c.local, "last_connection_time": 0,
                    "update_hubagent_error_msg": "",
                    "type": if c.local { "agent" } else { "kubeconfig" }, "config": "",
                })
            })
            .collect();
        Value::Array(items)
    }

    /// `GET /openapi/system/cluster` (no strategies).
    pub fn openapi_clusters(&self) -> Value {
        let items: Vec<Value> = self
            .catalog
            .clusters
            .iter()
            .map(|c| {
                json!({"cluster_id": c.id, "name": c.name, "production": false, "description": "",
                       "provider": 0, "provider_name": "", "created_by": "system", "created_time": 0,
                       "local": c.local, "status": "normal",
                       "type": if c.local { "agent" } else { "kubeconfig" },
                       "project_names": self.catalog.projects.iter().map(|p| p.key.clone()).collect::<Vec<_>>()})
            })
            .collect();
        Value::Array(items)
    }

    /// `GET /api/aslan/code/codehost` (secrets masked, no integration level).
    pub fn code_hosts(&self) -> Value {
        let items: Vec<Value> = self
            .catalog
            .code_hosts
            .iter()
            .map(|h| {
                let mut v = json!({"id": h.id, "address": h.address, "type": h.host_type,
                    "access_token": MASK, "refresh_token": "", "namespace": "", "region": "",
                    "application_id": MASK, "client_secret": MASK, "username": "",
                    "password": MASK, "enable_proxy": false, "updated_at": 0});
                if let Value::Object(m) = &mut v {
                    if !h.alias.is_empty() {
                        m.insert("alias".to_owned(), json!(h.alias));
                    }
                    for key in [
                        "auth_type",
                        "ssh_key",
                        "private_access_token",
                        "perforce_host",
                    ] {
                        m.insert(key.to_owned(), json!(""));
                    }
                    m.insert("disable_ssl".to_owned(), json!(false));
                    m.insert("perforce_port".to_owned(), json!(0));
                }
                v
            })
            .collect();
        Value::Array(items)
    }

    /// `GET /api/aslan/template/dockerfile`.
    pub fn dockerfile_templates(&self, page_num: i64, page_size: i64) -> Value {
        let all: Vec<Value> = self
            .catalog
            .dockerfile_templates
            .iter()
            .map(|t| json!({"id": t.id, "name": t.name}))
            .collect();
        let total = all.len();
        json!({"dockerfile_template": paginate(all, page_num, page_size), "total": total})
    }

    /// `GET /openapi/projects/project`: the projects the caller may see.
    pub fn projects(&self, visible: impl Fn(&str) -> bool, page_num: i64, page_size: i64) -> Value {
        let all: Vec<Value> = self
            .catalog
            .projects
            .iter()
            .filter(|p| visible(&p.key))
            .map(|p| {
                json!({"project_name": display_name(&p.name, &p.key), "project_key": p.key,
                       "description": "", "deploy_type": "k8s"})
            })
            .collect();
        let total = all.len();
        json!({"total": total, "projects": paginate(all, page_num, page_size)})
    }

    /// `GET /openapi/projects/project/detail?projectKey=`.
    pub fn project_detail(&self, key: &str) -> Option<Value> {
        self.catalog
            .projects
            .iter()
            .find(|p| p.key == key)
            .map(|p| {
                json!({"project_name": display_name(&p.name, &p.key), "project_key": p.key,
                   "is_public": false, "desc": "", "deploy_type": "k8s", "create_time": 0,
                   "created_by": "admin"})
            })
    }
}

fn display_name<'a>(name: &'a str, key: &'a str) -> &'a str {
    if name.is_empty() { key } else { name }
}

fn paginate(items: Vec<Value>, page_num: i64, page_size: i64) -> Vec<Value> {
    if page_num > 0 && page_size > 0 {
        let skip = (page_num - 1).saturating_mul(page_size);
        items
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(page_size).unwrap_or(usize::MAX))
            .collect()
    } else {
        items
    }
}

fn template_not_found(name: &str) -> AslanError {
    AslanError::Plain(format!(
        "failed to find the build template specified by the user, template name: [{name}], err: {NO_DOCS}"
    ))
}

fn output(name: &str) -> Output {
    Output {
        name: name.to_owned(),
        description: String::new(),
    }
}

fn service_of(t: &StoredTarget) -> ServiceWithModule {
    ServiceWithModule {
        service_name: t.service_name.clone(),
        service_module: t.service_module.clone(),
    }
}

fn detail_repo(r: &StoredRepo) -> DetailRepo {
    DetailRepo {
        source: r.source.clone(),
        repo_owner: r.repo_owner.clone(),
        repo_name: r.repo_name.clone(),
        branch: r.branch.clone(),
        remote_name: r.remote_name.clone(),
        checkout_path: r.checkout_path.clone(),
        submodules: r.submodules,
        hidden: r.hidden,
    }
}

fn fill_namespace(r: &mut StoredRepo) {
    if r.repo_namespace.is_empty() {
        r.repo_namespace.clone_from(&r.repo_owner);
    }
}

/// `modifyAuthType`: trims `/` around owner and name of `other` repos.
fn modify_auth_type(r: &mut StoredRepo) {
    let trim = |s: &str| {
        let s = s.strip_prefix('/').unwrap_or(s);
        s.strip_suffix('/').unwrap_or(s).to_owned()
    };
    r.repo_owner = trim(&r.repo_owner);
    r.repo_name = trim(&r.repo_name);
}

fn input_key_val(kv: &KvReq) -> KeyVal {
    KeyVal {
        key: kv.key.clone(),
        value: kv.value.clone(),
        kv_type: kv.kv_type.clone(),
        is_credential: kv.is_credential,
        ..KeyVal::default()
    }
}

/// The hard-coded `pre_build` of OpenAPI template builds.
fn placeholder_pre_build() -> PreBuild {
    PreBuild {
        res_req: "low".to_owned(),
        res_req_spec: ResourceSpecWire {
            cpu_limit: 1000,
            memory_limit: 512,
            ..ResourceSpecWire::default()
        },
        build_os: "focal".to_owned(),
        image_from: "koderover".to_owned(),
        image_id: TEMPLATE_PLACEHOLDER_IMAGE.to_owned(),
        cluster_id: LOCAL_CLUSTER_ID.to_owned(),
        ..PreBuild::default()
    }
}

/// `MergeBuildEnvs`: the template's variables in its order; a matching input
/// replaces a variable wholesale (its type and credential flag included) and
/// only takes `choice_option` and `description` from the template; inputs the
/// template does not know are dropped.
pub fn merge_build_envs(template: &[KeyVal], inputs: &[KeyVal]) -> Vec<KeyVal> {
    let mut by_key: HashMap<&str, &KeyVal> = HashMap::new();
    for kv in inputs {
        by_key.insert(&kv.key, kv);
    }
    template
        .iter()
        .map(|tv| match by_key.get(tv.key.as_str()) {
            Some(input) => KeyVal {
                choice_option: tv.choice_option.clone(),
                description: tv.description.clone(),
                script: tv.script.clone(),
                function_reference: tv.function_reference.clone(),
                ..(*input).clone()
            },
            None => tv.clone(),
        })
        .collect()
}

/// `util.FindVariableKeyRef` (`pkg/util/key_val.go`, zadig@18278c716): the
/// keys of every `{{.job…}}`, `{{.workflow…}}` and `{{.project…}}` reference
/// in a `script` variable's `call_function`. `GoTemplateKeyRegExp` is
/// approximated: its segments are `[^{}]+`, so dots inside them match too.
fn function_reference(call_function: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = call_function;
    while let Some(start) = rest.find("{{.") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let inner = &after[..end];
        let segments = |prefix: &str| {
            inner
                .strip_prefix(prefix)
                .map(|t| t.split('.').filter(|s| !s.is_empty()).count())
        };
        let ok = !inner.contains(['{', '}'])
            && (segments("job.").is_some_and(|n| n >= 2)
                || segments("workflow.").is_some_and(|n| n >= 1)
                || segments("project.").is_some_and(|n| n >= 1));
        if ok {
            keys.push(inner.to_owned());
        }
        rest = &after[end + 2..];
    }
    keys
}

/// `EnsureSecretEnvs`: a new value of exactly `********` takes the stored
/// value of the same key ("" when the key is new), whatever `is_credential`.
pub fn ensure_secret_envs(existing: &[KeyVal], new: &mut [KeyVal]) {
    if existing.is_empty() || new.is_empty() {
        return;
    }
    let stored: HashMap<&str, &str> = existing
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.as_str()))
        .collect();
    for kv in new.iter_mut() {
        if kv.value == MASK {
            kv.value = stored
                .get(kv.key.as_str())
                .copied()
                .unwrap_or("")
                .to_owned();
        }
    }
}

/// `RequestSpec.FindResourceRequestType`: the preset whose limits and
/// requests all match, else `define` (always `define` with a GPU).
pub fn resource_request_type(spec: &ResourceSpecWire) -> &'static str {
    if !spec.gpu_limit.is_empty() {
        return "define";
    }
    let is = |cl, ml, cr, mr| {
        spec.cpu_limit == cl
            && spec.memory_limit == ml
            && spec.cpu_req == cr
            && spec.memory_req == mr
    };
    if is(16000, 32768, 4000, 4096) {
        "high"
    } else if is(8000, 16384, 2000, 2048) {
        "medium"
    } else if is(4000, 8192, 1000, 1024) {
        // `default` has the same numbers as `low` and is checked after it.
        "low"
    } else if is(2000, 2048, 500, 512) {
        "min"
    } else {
        "define"
    }
}

/// `CheckDefineResourceParam`: only a `define` spec with a GPU is checked.
fn check_define_resource(pre: &PreBuild) -> Result<(), String> {
    check_define_resource_param(&pre.res_req, &pre.res_req_spec.gpu_limit)
}

/// `CheckDefineResourceParam(res_req, res_req_spec)` on the two fields it reads.
pub(super) fn check_define_resource_param(res_req: &str, gpu_limit: &str) -> Result<(), String> {
    if res_req != "define" || gpu_limit.is_empty() {
        return Ok(());
    }
    let gpu: String = gpu_limit.chars().filter(|c| *c != ' ').collect();
    let parts: Vec<&str> = gpu.split(':').collect();
    if parts.len() != 2 {
        return Err("format of gpu request is incorrect".to_owned());
    }
    parse_quantity(parts[1]).map_err(|e| format!("failed to parse resource quantity, err: {e}"))
}

/// Enough of Kubernetes' `resource.ParseQuantity` to reject what it rejects.
fn parse_quantity(s: &str) -> Result<(), &'static str> {
    const FORMAT: &str = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    const SUFFIX: &str = "unable to parse quantity's suffix";
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let number_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_len);
    if number.is_empty() || !number.bytes().any(|b| b.is_ascii_digit()) {
        return Err(FORMAT);
    }
    if number.matches('.').count() > 1 {
        return Err(FORMAT);
    }
    let known = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    if known.contains(&suffix) {
        return Ok(());
    }
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(());
        }
    }
    let shape_ok = suffix
        .trim_start_matches(|c: char| "eEinumkKMGTP".contains(c))
        .trim_start_matches(['+', '-'])
        .bytes()
        .all(|b| b.is_ascii_digit());
    Err(if shape_ok { SUFFIX } else { FORMAT })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: &str) -> KeyVal {
        KeyVal {
            key: key.to_owned(),
            value: value.to_owned(),
            ..KeyVal::default()
        }
    }

    #[test]
    fn merge_keeps_template_order_and_drops_unknown_inputs() {
        let template = vec![
            KeyVal {
                kv_type: "choice".to_owned(),
                choice_option: vec!["a".to_owned(), "b".to_owned()],
                description: "first".to_owned(),
                ..kv("A", "a")
            },
            KeyVal {
                kv_type: "string".to_owned(),
                is_credential: true,
                description: "second".to_owned(),
                ..kv("B", "default")
            },
            kv("C", "c"),
        ];
        let inputs = vec![kv("ZZZ", "dropped"), kv("B", "given"), kv("A", "b")];
        let merged = merge_build_envs(&template, &inputs);
        let keys: Vec<&str> = merged.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, ["A", "B", "C"]);
        // A matching input replaces the variable wholesale: an omitted type
        // becomes "", the credential flag comes from the input.
        assert_eq!(merged[1].value, "given");
        assert_eq!(merged[1].kv_type, "");
        assert!(!merged[1].is_credential);
        assert_eq!(merged[1].description, "second");
        assert_eq!(merged[0].choice_option, ["a", "b"]);
        assert_eq!(merged[0].kv_type, "");
        assert_eq!(merged[2], kv("C", "c"));
    }

    #[test]
    fn masked_values_take_the_stored_value_of_the_key() {
        let existing = vec![kv("S", "secret"), kv("P", "plain")];
        let mut new = vec![kv("S", MASK), kv("P", MASK), kv("N", MASK), kv("X", "x")];
        ensure_secret_envs(&existing, &mut new);
        let values: Vec<&str> = new.iter().map(|k| k.value.as_str()).collect();
        assert_eq!(values, ["secret", "plain", "", "x"]);
        // Nothing stored: the mask is kept literally.
        let mut new = vec![kv("S", MASK)];
        ensure_secret_envs(&[], &mut new);
        assert_eq!(new[0].value, MASK);
    }

    #[test]
    fn function_references_are_the_template_keys_of_the_call() {
        assert_eq!(
            function_reference("f({{.workflow.params.tag}}, {{.job.build.output.IMAGE}}, {{.x}})"),
            ["workflow.params.tag", "job.build.output.IMAGE"]
        );
        assert!(function_reference("describe").is_empty());
    }

    #[test]
    fn presets_match_on_all_four_numbers() {
        let spec = |cl, ml, cr, mr| ResourceSpecWire {
            cpu_limit: cl,
            memory_limit: ml,
            cpu_req: cr,
            memory_req: mr,
            gpu_limit: String::new(),
        };
        assert_eq!(
            resource_request_type(&spec(16000, 32768, 4000, 4096)),
            "high"
        );
        assert_eq!(
            resource_request_type(&spec(8000, 16384, 2000, 2048)),
            "medium"
        );
        assert_eq!(resource_request_type(&spec(4000, 8192, 1000, 1024)), "low");
        assert_eq!(resource_request_type(&spec(2000, 2048, 500, 512)), "min");
        assert_eq!(resource_request_type(&spec(1000, 512, 0, 0)), "define");
        assert_eq!(resource_request_type(&spec(0, 0, 0, 0)), "define");
        let mut gpu = spec(4000, 8192, 1000, 1024);
        gpu.gpu_limit = "nvidia.com/gpu: 1".to_owned();
        assert_eq!(resource_request_type(&gpu), "define");
    }

    #[test]
    fn gpu_limits_are_checked_like_kubernetes() {
        let pre = |gpu: &str| PreBuild {
            res_req: "define".to_owned(),
            res_req_spec: ResourceSpecWire {
                gpu_limit: gpu.to_owned(),
                ..ResourceSpecWire::default()
            },
            ..PreBuild::default()
        };
        assert_eq!(check_define_resource(&pre("nvidia.com/gpu: 1")), Ok(()));
        assert_eq!(check_define_resource(&pre("nvidia.com/gpu:500m")), Ok(()));
        assert_eq!(
            check_define_resource(&pre("1")),
            Err("format of gpu request is incorrect".to_owned())
        );
        let err = check_define_resource(&pre("gpu: lots")).expect_err("rejected");
        assert!(err.starts_with("failed to parse resource quantity, err: quantities must match"));
        let err = check_define_resource(&pre("gpu: 1Qi")).expect_err("rejected");
        assert!(err.contains("quantities must match"), "{err}");
        let err = check_define_resource(&pre("gpu: 1Ki5")).expect_err("rejected");
        assert!(
            err.ends_with("err: unable to parse quantity's suffix"),
            "{err}"
        );
    }

    #[test]
    fn find_ignores_empty_filters_and_rejects_an_empty_query() {
        let mut state = State::from_seed(Seed::builtin(), 1).expect("seeds");
        state.put_stored(
            StoredBuild {
                name: "a".to_owned(),
                product_name: "p".to_owned(),
                ..StoredBuild::default()
            },
            1,
        );
        assert_eq!(state.find("a", ""), Some(0));
        assert_eq!(state.find("", "p"), Some(0));
        assert_eq!(state.find("", ""), None);
        assert_eq!(state.find("a", "q"), None);
    }

    #[test]
    fn list_pages_like_mongo() {
        let mut state = State::from_seed(Seed::builtin(), 1).expect("seeds");
        for i in 0..5 {
            state.put_stored(
                StoredBuild {
                    name: format!("b{i}"),
                    product_name: "p".to_owned(),
                    ..StoredBuild::default()
                },
                1,
            );
        }
        let names = |r: BuildListResp| r.builds.into_iter().map(|b| b.name).collect::<Vec<_>>();
        assert_eq!(names(state.list("p", 2, 2)), ["b2", "b3"]);
        assert_eq!(names(state.list("p", 3, 2)), ["b4"]);
        assert_eq!(names(state.list("p", 9, 2)), Vec::<String>::new());
        assert_eq!(state.list("p", 9, 2).total, 5);
        assert_eq!(names(state.list("p", 1, 0)).len(), 5);
        assert_eq!(names(state.list("p", 0, 2)).len(), 5);
        assert_eq!(names(state.list("p", 1, -1)).len(), 5);
    }
}
