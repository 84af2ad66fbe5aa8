//! A small fake Zadig for the client tests: the build OpenAPI, the stored-model
//! read and the look-ups, answering with the exact shapes of build-api.md §3
//! (empty-body 400/401/403, JSON business errors, 500 shapes, gin's 404/405
//! text). It records every request, counts requests in flight, and injects
//! faults: scripted answers per route ([`Rule`]), random errors and dropped
//! connections on GETs ([`Faults`]), and "commit, then fail" writes.
//!
//! Reuse: `let fake = FakeZadig::spawn().await; let client = fake.client();`.
//! Until the real emulator lands this is the reference for the client tests;
//! the lead can point the same tests at `zadig_sync::emulator` later.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::serve::{IncomingStream, Listener};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use zadig_sync::zadig::{Client, ClientConfig, RetryPolicy};

/// The token the fake accepts.
pub const TOKEN: &str = "zst-9f2c4e7a1b-SECRET-token";

/// Description Zadig gives when a name exists (§3.3), after the project.
pub const NAME_TAKEN: &str = "项目中有相同的构建名称存在,请检查!";

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Raw (still escaped) path.
    pub path: String,
    /// Raw query string ("" when none).
    pub raw_query: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// First value of a query parameter.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// `METHOD path?query`.
    pub fn line(&self) -> String {
        if self.raw_query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.raw_query)
        }
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub enum Action {
    /// Answer this instead of the route.
    Reply {
        /// Status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body (may be empty).
        body: String,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait, then serve normally (longer than the client timeout = a timeout).
    Delay(Duration),
    /// Serve normally (a write commits), then answer with this instead.
    CommitThen(Box<Action>),
}

impl Action {
    /// Status with an empty body (aslan's bind/authorisation failures).
    pub fn empty(status: u16) -> Action {
        Action::Reply {
            status,
            headers: vec![],
            body: String::new(),
        }
    }

    /// Status with a JSON body.
    pub fn json(status: u16, body: Value) -> Action {
        Action::Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Status with a text body (gin's 404/405).
    pub fn text(status: u16, body: &str) -> Action {
        Action::Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_owned(),
        }
    }

    /// An aslan `*HTTPError` (6xxx/7xxx → HTTP 400).
    pub fn business(code: i64, message: &str, description: &str) -> Action {
        Action::json(
            400,
            json!({"code": code, "description": description, "extra": {}, "message": message, "type": "error"}),
        )
    }

    /// Adds a header.
    pub fn with_header(self, name: &str, value: &str) -> Action {
        match self {
            Action::Reply {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Action::Reply {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// A scripted answer for matching requests.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Method to match (any when `None`).
    pub method: Option<String>,
    /// Raw path to match exactly.
    pub path: String,
    /// A substring the raw query must contain.
    pub query_contains: Option<String>,
    /// How many matching requests it applies to.
    pub times: usize,
    /// What to do.
    pub action: Action,
}

impl Rule {
    /// A rule for `method path`, applied `times` times.
    pub fn new(method: &str, path: &str, times: usize, action: Action) -> Rule {
        Rule {
            method: Some(method.to_owned()),
            path: path.to_owned(),
            query_contains: None,
            times,
            action,
        }
    }

    /// Only when the raw query contains `s`.
    pub fn query(mut self, s: &str) -> Rule {
        self.query_contains = Some(s.to_owned());
        self
    }
}

/// Random faults on GETs.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of GETs answered with one of `error_statuses`.
    pub get_error_rate: f64,
    /// Statuses to pick from (429 comes with `Retry-After: 0`).
    pub error_statuses: Vec<u16>,
    /// Share of GETs whose connection is dropped.
    pub drop_connection_rate: f64,
    /// Delay before every request is served.
    pub delay: Duration,
}

/// A build in the fake.
#[derive(Clone, Debug)]
pub struct FakeBuild {
    /// Name (global).
    pub name: String,
    /// Project key.
    pub project: String,
    /// Made from a template.
    pub template: bool,
    /// The create/update body.
    pub body: Value,
}

impl FakeBuild {
    /// A plain build with a minimal body.
    pub fn plain(project: &str, name: &str) -> FakeBuild {
        FakeBuild {
            name: name.to_owned(),
            project: project.to_owned(),
            template: false,
            body: json!({"name": name, "project_key": project, "infrastructure": "kubernetes",
                         "build_os": "ubuntu 20.04", "script_type": "shell", "build_script": "make"}),
        }
    }
}

/// The fake's state (public so tests can seed and inspect it).
pub struct FakeState {
    /// Builds in insertion order.
    pub builds: Mutex<Vec<FakeBuild>>,
    /// Every request received.
    pub requests: Mutex<Vec<Recorded>>,
    /// Scripted answers, first match wins.
    pub rules: Mutex<Vec<Rule>>,
    /// Random faults.
    pub faults: Mutex<Faults>,
    /// Template endpoints licensed (else 7050).
    pub licence: AtomicBool,
    /// Behave like Zadig <= 4.1: no PUT routes (405 text).
    pub old_server: AtomicBool,
    /// Added to every list `total` (a server whose count never matches).
    pub inflate_total: AtomicI64,
    /// Inserted right after the first page-1 list answer (a concurrent create).
    pub add_after_first_page: Mutex<Option<FakeBuild>>,
    /// Build names referenced by a VM service (delete → 6524).
    pub referenced: Mutex<HashSet<String>>,
    /// Projects the token may not touch (→ empty 403).
    pub forbidden_projects: Mutex<HashSet<String>>,
    /// Shuffle the entries of each list page.
    pub shuffle_pages: AtomicBool,
    /// Projects for `/openapi/projects/project`.
    pub projects: Mutex<Vec<Value>>,
    in_flight: AtomicUsize,
    /// Most requests in flight at once.
    pub max_in_flight: AtomicUsize,
    rng: Mutex<fastrand::Rng>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeState {
    /// Requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    /// Requests matching `method` and raw `path`.
    pub fn hits(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Adds a scripted answer.
    pub fn rule(&self, rule: Rule) {
        lock(&self.rules).push(rule);
    }

    /// Sets the random faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Adds builds.
    pub fn seed(&self, builds: impl IntoIterator<Item = FakeBuild>) {
        lock(&self.builds).extend(builds);
    }

    /// Names of the builds of a project.
    pub fn names(&self, project: &str) -> Vec<String> {
        lock(&self.builds)
            .iter()
            .filter(|b| b.project == project)
            .map(|b| b.name.clone())
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    fn take_rule(&self, rec: &Recorded) -> Option<Action> {
        let mut rules = lock(&self.rules);
        let rule = rules.iter_mut().find(|r| {
            r.times > 0
                && r.method.as_deref().is_none_or(|m| m == rec.method)
                && r.path == rec.path
                && r.query_contains
                    .as_deref()
                    .is_none_or(|q| rec.raw_query.contains(q))
        })?;
        rule.times -= 1;
        Some(rule.action.clone())
    }
}

/// A running fake; stops when dropped.
pub struct FakeZadig {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// State, for seeding and inspection.
    pub state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeZadig {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeZadig {
    /// Starts a fake on a loopback port.
    pub async fn spawn() -> FakeZadig {
        let state = Arc::new(FakeState {
            builds: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            licence: AtomicBool::new(true),
            old_server: AtomicBool::new(false),
            inflate_total: AtomicI64::new(0),
            add_after_first_page: Mutex::new(None),
            referenced: Mutex::new(HashSet::new()),
            forbidden_projects: Mutex::new(HashSet::new()),
            shuffle_pages: AtomicBool::new(true),
            projects: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            rng: Mutex::new(fastrand::Rng::with_seed(7)),
        });
        let app = Router::new()
            .route(
                "/openapi/build",
                get(list_builds)
                    .post(create_build)
                    .put(update_build)
                    .delete(delete_build),
            )
            .route("/openapi/build/{name}/detail", get(detail))
            .route("/openapi/build/{name}/template", put(update_template))
            .route("/api/aslan/build/build/{name}", get(stored))
            .route("/api/aslan/system/basicImages", get(basic_images))
            .route("/api/aslan/cluster/clusters", get(clusters))
            .route("/openapi/system/cluster", get(openapi_clusters))
            .route("/api/aslan/code/codehost", get(code_hosts))
            .route("/api/aslan/template/dockerfile", get(dockerfile_templates))
            .route("/api/aslan/template/build", get(build_templates))
            .route("/openapi/projects/project", get(projects))
            .fallback(no_route)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(middleware::from_fn_with_state(state.clone(), front))
            .with_state(state.clone());
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = tcp.local_addr().expect("addr");
        let listener = KillableListener(tcp);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<Kill>()).await;
        });
        FakeZadig {
            url: format!("http://{addr}"),
            state,
            task,
        }
    }

    /// Test client settings: 4 in flight, 2 s timeout, fast retries.
    pub fn config(&self) -> ClientConfig {
        let mut cfg = ClientConfig::new(self.url.clone(), SecretString::from(TOKEN));
        cfg.concurrency = 4;
        cfg.timeout = Duration::from_secs(2);
        cfg.retry = fast_retry();
        cfg
    }

    /// A client with [`FakeZadig::config`].
    pub fn client(&self) -> Client {
        Client::new(self.config()).expect("client")
    }
}

/// Retries that keep tests fast: 6 attempts, 2–20 ms backoff.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_total: Duration::from_secs(10),
    }
}

// ------------------------------------------------------------ the front layer

/// Records, counts, delays, applies rules, checks the token, injects faults.
async fn front(
    State(st): State<Arc<FakeState>>,
    ConnectInfo(kill): ConnectInfo<Kill>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let rec = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: url_pairs(&raw_query),
        raw_query,
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
        at: Instant::now(),
    };
    lock(&st.requests).push(rec.clone());
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = Decrement(&st.in_flight);

    let faults = lock(&st.faults).clone();
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    let req = Request::from_parts(parts, Body::from(bytes));

    let mut after: Option<Action> = None;
    let mut delay = None;
    if let Some(action) = st.take_rule(&rec) {
        match action {
            Action::Delay(d) => delay = Some(d),
            Action::CommitThen(a) => after = Some(*a),
            other => return act(other, &kill),
        }
    }

    // Gateway: `Authorization` split on one space must have exactly 2 parts.
    let auth_ok = rec
        .header("authorization")
        .map(|h| h.split(' ').collect::<Vec<_>>())
        .is_some_and(|p| p.len() == 2 && p[1] == TOKEN);
    if !auth_ok {
        return StatusCode::UNAUTHORIZED.into_response();
    }

    if rec.method == "GET" && after.is_none() {
        let mut rng = lock(&st.rng);
        if rng.f64() < faults.drop_connection_rate {
            return act(Action::Drop, &kill);
        }
        if !faults.error_statuses.is_empty() && rng.f64() < faults.get_error_rate {
            let status = faults.error_statuses[rng.usize(..faults.error_statuses.len())];
            let action = if status == 429 {
                Action::empty(429).with_header("retry-after", "0")
            } else {
                Action::empty(status)
            };
            return act(action, &kill);
        }
    }

    // Like a Go server, finish the handler even if the client goes away.
    let handler = tokio::spawn(async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        next.run(req).await
    });
    let resp = match handler.await {
        Ok(r) => r,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    match after {
        Some(a) => act(a, &kill),
        None => resp,
    }
}

struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn act(action: Action, kill: &Kill) -> Response {
    match action {
        Action::Reply {
            status,
            headers,
            body,
        } => {
            let mut resp = Response::new(Body::from(body));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    axum::http::HeaderName::try_from(k),
                    HeaderValue::try_from(v),
                ) {
                    resp.headers_mut().insert(k, v);
                }
            }
            resp
        }
        Action::Drop => {
            kill.0.store(true, Ordering::SeqCst);
            StatusCode::OK.into_response()
        }
        // Only meaningful before routing; treat as "serve normally" here.
        Action::Delay(_) | Action::CommitThen(_) => StatusCode::OK.into_response(),
    }
}

/// Decodes `a=b&c=d` (form encoding, `+` is a space).
fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ------------------------------------------------------------------ routes

type Q = Query<HashMap<String, String>>;

fn ok() -> Response {
    axum::Json(json!({"message": "success"})).into_response()
}

fn business(code: i64, message: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"code": code, "description": description, "extra": {}, "message": message, "type": "error"})),
    )
        .into_response()
}

fn forbidden(st: &FakeState, project: &str) -> bool {
    lock(&st.forbidden_projects).contains(project)
}

async fn no_route(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/plain")],
        format!("Invalid path: {}", req.uri().path()),
    )
        .into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [("content-type", "text/plain")],
        format!("Method not allowed: {} {}", req.method(), req.uri().path()),
    )
        .into_response()
}

async fn list_builds(State(st): State<Arc<FakeState>>, Query(q): Q) -> Response {
    let project = q.get("projectKey").cloned().unwrap_or_default();
    if project.is_empty() {
        return business(400, "Bad Request", "empty project key.");
    }
    if forbidden(&st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let parse = |k: &str, d: i64| -> Option<i64> {
        match q.get(k) {
            None => Some(d),
            Some(v) => v.parse().ok(),
        }
    };
    let (Some(page_num), Some(page_size)) = (parse("pageNum", 1), parse("pageSize", 20)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let all: Vec<FakeBuild> = lock(&st.builds)
        .iter()
        .filter(|b| b.project == project)
        .cloned()
        .collect();
    let total = all.len() as i64 + st.inflate_total.load(Ordering::SeqCst);
    let mut page: Vec<FakeBuild> = if page_num > 0 && page_size > 0 {
        let skip = ((page_num - 1) * page_size) as usize;
        all.into_iter()
            .skip(skip)
            .take(page_size as usize)
            .collect()
    } else {
        all
    };
    if st.shuffle_pages.load(Ordering::SeqCst) {
        lock(&st.rng).shuffle(&mut page);
    }
    let builds: Vec<Value> = page
        .iter()
        .map(|b| {
            json!({"name": b.name, "project_key": b.project, "source": "zadig", "update_by": "Admin",
                   "update_time": 1760000000, "target_services": []})
        })
        .collect();
    if page_num == 1
        && let Some(b) = lock(&st.add_after_first_page).take()
    {
        lock(&st.builds).push(b);
    }
    axum::Json(json!({"total": total, "builds": builds})).into_response()
}

fn find(st: &FakeState, project: &str, name: &str) -> Option<FakeBuild> {
    lock(&st.builds)
        .iter()
        .find(|b| b.name == name && b.project == project)
        .cloned()
}

async fn detail(
    State(st): State<Arc<FakeState>>,
    Path(name): Path<String>,
    Query(q): Q,
) -> Response {
    let project = q.get("projectKey").cloned().unwrap_or_default();
    if project.is_empty() {
        return business(400, "Bad Request", "empty projectKey.");
    }
    if forbidden(&st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(b) = find(&st, &project, &name) else {
        return business(6523, "查询编译模块失败", "mongo: no documents in result");
    };
    let template_name = if b.template {
        b.body["template_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    } else {
        String::new()
    };
    axum::Json(json!({
        "project_key": b.project, "name": b.name, "source": "zadig", "target_services": [],
        "template_name": template_name, "update_by": "Admin", "update_time": 1760000000,
        "repos": [], "build_env": {"basic_image_id": "64f0c3", "basic_image_label": b.body["build_os"], "installs": []},
        "advanced_settings": null, "build_script": b.body["build_script"], "parameters": [],
        "outputs": [{"name": "IMAGE", "description": ""}, {"name": "PKG_FILE", "description": ""}],
        "post_build": {"docker_build": null, "object_storage_upload": null, "scripts": ""},
        "some_future_field": {"x": 1}
    }))
    .into_response()
}

async fn stored(
    State(st): State<Arc<FakeState>>,
    Path(name): Path<String>,
    Query(q): Q,
) -> Response {
    let project = q.get("projectName").cloned().unwrap_or_default();
    if forbidden(&st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(b) = find(&st, &project, &name) else {
        return business(6523, "查询编译模块失败", "mongo: no documents in result");
    };
    axum::Json(json!({
        "id": "65a0000000000000000000aa", "name": b.name, "source": "zadig", "template_id": "",
        "timeout": 60, "targets": [], "desc": "", "update_time": 1760000000, "update_by": "Admin",
        "repos": [], "pre_build": {"res_req": "low", "res_req_spec": {"cpu_limit": 1000, "memory_limit": 512, "cpu_req": 0, "memory_req": 0, "gpu_limit": ""},
            "build_os": "focal", "image_from": "koderover", "image_id": "64f0c3", "installs": [], "envs": [],
            "cluster_id": "0123456789abcdef12345678", "strategy_id": "", "storages": null,
            "custom_annotations": [], "custom_labels": []},
        "infrastructure": b.body["infrastructure"], "vm_labels": [], "script_type": b.body["script_type"],
        "scripts": b.body["build_script"], "post_build": null, "caches": [], "product_name": b.project,
        "sshs": [], "pre_deploy": null, "cache_enable": false, "cache_dir_type": "workspace",
        "cache_user_dir": "", "enable_privileged_mode": false, "advanced_setting_modified": false,
        "outputs": [{"name": "IMAGE", "description": ""}]
    }))
    .into_response()
}

/// Gin `BindJSON` with `binding:"required"` on top-level fields.
fn bind(body: &Bytes, required: &[&str]) -> Option<Value> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    for f in required {
        match obj.get(*f) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::Array(_)) if *f == "target_services" => {}
            _ => return None,
        }
    }
    Some(v)
}

const PLAIN_REQUIRED: &[&str] = &[
    "name",
    "project_key",
    "infrastructure",
    "build_os",
    "script_type",
];
const TEMPLATE_REQUIRED: &[&str] = &["name", "project_key", "template_name", "target_services"];

async fn create_build(State(st): State<Arc<FakeState>>, Query(q): Q, body: Bytes) -> Response {
    create(&st, q.get("source").is_some_and(|s| s == "template"), &body)
}

fn create(st: &FakeState, template: bool, body: &Bytes) -> Response {
    let required = if template {
        TEMPLATE_REQUIRED
    } else {
        PLAIN_REQUIRED
    };
    let Some(v) = bind(body, required) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let name = v["name"].as_str().unwrap_or_default().trim().to_owned();
    let project = v["project_key"].as_str().unwrap_or_default().to_owned();
    if forbidden(st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if template {
        if v["target_services"].as_array().is_none_or(Vec::is_empty) {
            return business(
                400,
                "Bad Request",
                "target_service must have at least one item in it",
            );
        }
        if !st.licence.load(Ordering::SeqCst) {
            return business(7050, "用户许可证不可用，请检查许可证后重试", "");
        }
    } else if !matches!(
        v["build_os"].as_str(),
        Some("ubuntu 20.04" | "ubuntu 18.04")
    ) {
        return business(
            6520,
            "新建编译模块失败",
            &format!(
                "failed to find the basic image of name: {}, error is: mongo: no documents in result",
                v["build_os"].as_str().unwrap_or_default()
            ),
        );
    }
    let mut builds = lock(&st.builds);
    if let Some(existing) = builds.iter().find(|b| b.name == name) {
        return business(
            6520,
            "新建编译模块失败",
            &format!("{}{NAME_TAKEN}", existing.project),
        );
    }
    builds.push(FakeBuild {
        name,
        project,
        template,
        body: v,
    });
    ok()
}

async fn update_build(State(st): State<Arc<FakeState>>, Query(q): Q, body: Bytes) -> Response {
    if st.old_server.load(Ordering::SeqCst) {
        return method_not_allowed_text("PUT", "/openapi/build");
    }
    // `PUT ?source=template` calls the create-from-template service (§1.1).
    if q.get("source").is_some_and(|s| s == "template") {
        return create(&st, true, &body);
    }
    let Some(v) = bind(&body, PLAIN_REQUIRED) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let name = v["name"].as_str().unwrap_or_default().to_owned();
    let project = v["project_key"].as_str().unwrap_or_default().to_owned();
    if forbidden(&st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let mut builds = lock(&st.builds);
    let Some(b) = builds
        .iter_mut()
        .find(|b| b.name == name && b.project == project)
    else {
        return business(
            6521,
            "更新编译模块失败",
            &format!(
                "failed to find build module, buildName: {name}, projectName: {project}, err: mongo: no documents in result"
            ),
        );
    };
    b.body = v;
    b.template = false;
    ok()
}

fn method_not_allowed_text(method: &str, path: &str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [("content-type", "text/plain")],
        format!("Method not allowed: {method} {path}"),
    )
        .into_response()
}

async fn update_template(State(st): State<Arc<FakeState>>, body: Bytes) -> Response {
    if st.old_server.load(Ordering::SeqCst) {
        return (StatusCode::NOT_FOUND, "Invalid path").into_response();
    }
    let Some(v) = bind(&body, TEMPLATE_REQUIRED) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // The path `:name` is ignored: body name + project_key pick the build.
    let name = v["name"].as_str().unwrap_or_default().to_owned();
    let project = v["project_key"].as_str().unwrap_or_default().to_owned();
    if !st.licence.load(Ordering::SeqCst) {
        return business(7050, "用户许可证不可用，请检查许可证后重试", "");
    }
    let mut builds = lock(&st.builds);
    let Some(b) = builds
        .iter_mut()
        .find(|b| b.name == name && b.project == project)
    else {
        return business(
            6523,
            "查询编译模块失败",
            &format!(
                "failed to find build module, buildName:{name}, projectName:{project} err: mongo: no documents in result"
            ),
        );
    };
    b.body = v;
    b.template = true;
    ok()
}

async fn delete_build(State(st): State<Arc<FakeState>>, Query(q): Q) -> Response {
    let project = q.get("projectKey").cloned().unwrap_or_default();
    if forbidden(&st, &project) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let name = q.get("name").cloned().unwrap_or_default();
    if name.is_empty() {
        return business(400, "Bad Request", "empty build name.");
    }
    if lock(&st.referenced).contains(&name) {
        return business(
            6524,
            "删除构建模块失败",
            "该构建被服务 [vm-svc] 引用，请解除引用之后再做删除!",
        );
    }
    lock(&st.builds).retain(|b| !(b.name == name && (project.is_empty() || b.project == project)));
    ok()
}

async fn basic_images() -> Response {
    axum::Json(json!([
        {"id": "64f0c3", "value": "focal", "label": "ubuntu 20.04", "image_from": "koderover", "create_time": 0, "update_time": 0, "update_by": "", "image_type": ""},
        {"id": "64f0c4", "value": "bionic", "label": "ubuntu 18.04", "image_from": "koderover", "create_time": 0, "update_time": 0, "update_by": "", "image_type": ""},
        {"id": "64f0c5", "value": "sonar", "label": "sonar", "image_from": "custom", "create_time": 0, "update_time": 0, "update_by": "", "image_type": "sonar"}
    ]))
    .into_response()
}

async fn clusters() -> Response {
    axum::Json(json!([{
        "id": "0123456789abcdef12345678", "name": "local-20240101120000", "local": true, "status": "normal",
        "advanced_config": {"project_names": ["demo"], "cluster_access_yaml": "kind: secret-yaml",
            "schedule_strategy": [{"strategy_id": "s1", "strategy_name": "default", "strategy": "normal", "node_labels": [], "tolerations": "", "default": true}]},
        "type": "kubeconfig", "config": "apiVersion: v1\nusers: [{token: kube-secret}]"
    }]))
    .into_response()
}

async fn openapi_clusters() -> Response {
    axum::Json(json!([{"cluster_id": "0123456789abcdef12345678", "name": "local-20240101120000", "production": false,
        "description": "", "provider": 0, "provider_name": "", "created_by": "", "created_time": 0, "local": true,
        "status": "normal", "type": "agent", "project_names": []}]))
    .into_response()
}

async fn code_hosts() -> Response {
    axum::Json(json!([
        {"id": 1, "address": "https://gitlab.example.com", "type": "gitlab", "alias": "gitlab-main",
         "access_token": "********", "refresh_token": "refresh-secret", "ssh_key": "ssh-secret", "private_access_token": "pat-secret"},
        {"id": 2, "address": "https://github.com", "type": "github"}
    ]))
    .into_response()
}

async fn dockerfile_templates() -> Response {
    axum::Json(json!({"dockerfile_template": [{"id": "d1", "name": "go-alpine"}], "total": 1}))
        .into_response()
}

async fn build_templates() -> Response {
    axum::Json(json!({"build_templates": [{"id": "t1", "name": "go-template"}], "total": 1}))
        .into_response()
}

async fn projects(State(st): State<Arc<FakeState>>, Query(q): Q) -> Response {
    let all = lock(&st.projects).clone();
    let page_num: usize = q.get("pageNum").and_then(|v| v.parse().ok()).unwrap_or(1);
    let page_size: usize = q.get("pageSize").and_then(|v| v.parse().ok()).unwrap_or(20);
    let page: Vec<Value> = all
        .iter()
        .skip((page_num.max(1) - 1) * page_size)
        .take(page_size)
        .cloned()
        .collect();
    axum::Json(json!({"total": all.len(), "projects": page})).into_response()
}

// ----------------------------------------------- connections that can be killed

/// Per-connection switch: once set, the connection fails all I/O, so hyper
/// drops it without answering (a "dropped connection" fault).
#[derive(Clone, Debug)]
pub struct Kill(Arc<AtomicBool>);

struct KillableListener(TcpListener);

struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Kill;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((inner, _)) = self.0.accept().await {
                let kill = Arc::new(AtomicBool::new(false));
                return (
                    KillableStream {
                        inner,
                        kill: kill.clone(),
                    },
                    Kill(kill),
                );
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Kill(Arc::new(AtomicBool::new(false))))
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Kill {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn killed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "fault: connection dropped")
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ------------------------------------------------------------ log capture

/// Captures every tracing event (all targets, TRACE) into a buffer for the
/// current thread; use with `#[tokio::test]` (current-thread runtime).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs the capture as this thread's default subscriber.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Waits until `cond` holds (polling), at most `limit`.
pub async fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cond()
}
