//! The client tests' Zadig: the real emulator (`zadig_sync::emulator`, the
//! same one the end-to-end tests use) behind a thin scripting front.
//!
//! The emulator answers every request it is sent, with Zadig's own shapes and
//! state (build-api.md). The front, like a gateway between the client and
//! aslan, records every request, counts requests in flight, and can answer
//! instead of the emulator: scripted answers per route ([`Rule`]: shapes no
//! healthy Zadig gives on its own, such as a 502 from a proxy or a malformed
//! body), random errors and dropped connections on GETs ([`Faults`]),
//! "commit, then fail" writes, a token without rights in a project (Zadig's
//! empty 403), the routes of a Zadig older than 4.2 (gin's 405/404 text),
//! and list pages whose `total` never matches, whose entries come shuffled
//! or that race with a concurrent create.
//!
//! Reuse: `let fake = FakeZadig::spawn().await; let client = fake.client();`.

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
use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use zadig_sync::emulator::{
    self, EmulatorConfig, EmulatorHandle, Role, RunningEmulator, SeedBuild, SeedProject,
    TokenPolicy, VmServiceRef,
};
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

/// A build to seed: its create body goes through the emulator's own create
/// path, so every server-side default is Zadig's.
#[derive(Clone, Debug)]
pub struct FakeBuild {
    /// Name (global).
    pub name: String,
    /// Project key.
    pub project: String,
    /// Made from a template (`POST /openapi/build?source=template`).
    pub template: bool,
    /// The create body.
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

/// The front's state and the emulator's handle (public so tests can seed
/// and inspect them).
pub struct FakeState {
    /// The emulator behind the front.
    pub emulator: EmulatorHandle,
    /// Every request received.
    pub requests: Mutex<Vec<Recorded>>,
    /// Scripted answers, first match wins.
    pub rules: Mutex<Vec<Rule>>,
    /// Random faults.
    pub faults: Mutex<Faults>,
    /// Behave like Zadig <= 4.1: no PUT routes (gin's 405 and 404 text).
    pub old_server: AtomicBool,
    /// Added to every list `total` (a server whose count never matches).
    pub inflate_total: AtomicI64,
    /// Created right after the first page-1 list answer (a concurrent create).
    pub add_after_first_page: Mutex<Option<FakeBuild>>,
    /// Projects the token may not touch (→ Zadig's empty 403).
    pub forbidden_projects: Mutex<HashSet<String>>,
    /// Shuffle the entries of each list page.
    pub shuffle_pages: AtomicBool,
    in_flight: AtomicUsize,
    /// Most requests in flight at once.
    pub max_in_flight: AtomicUsize,
    rng: Mutex<fastrand::Rng>,
    upstream: String,
    http: reqwest::Client,
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

    /// Creates builds in the emulator (out of band: not recorded), each
    /// project made first if it is new.
    pub fn seed(&self, builds: impl IntoIterator<Item = FakeBuild>) {
        for b in builds {
            self.ensure_project(&b.project);
            let entry = if b.template {
                SeedBuild::CreateTemplate(b.body)
            } else {
                SeedBuild::Create(b.body)
            };
            self.emulator
                .seed_build(entry)
                .unwrap_or_else(|e| panic!("seeding {}/{}: {e}", b.project, b.name));
        }
    }

    fn ensure_project(&self, key: &str) {
        self.emulator.edit_catalog(|seed| {
            if !seed.projects.iter().any(|p| p.key == key) {
                seed.projects.push(SeedProject {
                    key: key.to_owned(),
                    name: String::new(),
                });
            }
        });
    }

    /// Names of the builds of a project, in the emulator's order.
    pub fn names(&self, project: &str) -> Vec<String> {
        self.emulator
            .builds(project)
            .into_iter()
            .map(|b| b.name)
            .collect()
    }

    /// Whether the server has a Professional/Enterprise licence (the
    /// template-build endpoints answer 7050 without one).
    pub fn set_licence(&self, licensed: bool) {
        self.emulator
            .edit_catalog(|seed| seed.template_licence = licensed);
    }

    /// A VM service `service` now uses build `build` of `project` (deleting
    /// the build answers 6524).
    pub fn reference(&self, project: &str, build: &str, service: &str) {
        self.emulator.edit_catalog(|seed| {
            seed.vm_service_refs.push(VmServiceRef {
                project: project.to_owned(),
                build: build.to_owned(),
                service: service.to_owned(),
            });
        });
    }

    /// Replaces the projects (`/openapi/projects/project`).
    pub fn set_projects(&self, projects: impl IntoIterator<Item = (String, String)>) {
        let projects: Vec<SeedProject> = projects
            .into_iter()
            .map(|(key, name)| SeedProject { key, name })
            .collect();
        self.emulator.edit_catalog(|seed| seed.projects = projects);
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

/// A running front and emulator; both stop when dropped.
pub struct FakeZadig {
    /// `http://127.0.0.1:<port>` of the front.
    pub url: String,
    /// State, for seeding and inspection.
    pub state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
    _emulator: RunningEmulator,
}

impl Drop for FakeZadig {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeZadig {
    /// Starts an emulator (built-in catalogs, no builds, one admin token:
    /// [`TOKEN`]) and the front before it, on loopback ports.
    pub async fn spawn() -> FakeZadig {
        // reqwest is built without a default crypto provider (as the client).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tokens = TokenPolicy::Tokens(HashMap::from([(TOKEN.to_owned(), Role::Admin)]));
        let emulator = emulator::spawn(
            EmulatorConfig {
                tokens,
                ..EmulatorConfig::default()
            },
            "127.0.0.1:0".parse().expect("loopback"),
        )
        .await
        .expect("the emulator starts");
        let state = Arc::new(FakeState {
            emulator: emulator.handle(),
            requests: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            old_server: AtomicBool::new(false),
            inflate_total: AtomicI64::new(0),
            add_after_first_page: Mutex::new(None),
            forbidden_projects: Mutex::new(HashSet::new()),
            shuffle_pages: AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            rng: Mutex::new(fastrand::Rng::with_seed(7)),
            upstream: emulator.base_url(),
            http: reqwest::Client::new(),
        });
        let app = Router::new().fallback(front).with_state(state.clone());
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
            _emulator: emulator,
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

// ------------------------------------------------------------ the front

/// Records, counts, delays, applies rules and faults, and otherwise hands
/// the request to the emulator.
async fn front(
    State(st): State<Arc<FakeState>>,
    ConnectInfo(kill): ConnectInfo<Kill>,
    req: Request,
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

    let mut after: Option<Action> = None;
    let mut delay = None;
    if let Some(action) = st.take_rule(&rec) {
        match action {
            Action::Delay(d) => delay = Some(d),
            Action::CommitThen(a) => after = Some(*a),
            other => return act(other, &kill),
        }
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
    if let Some(answer) = server_quirk(&st, &rec) {
        return answer;
    }

    // Like a Go server, finish the handler even if the client goes away.
    let handler = tokio::spawn({
        let st = st.clone();
        let rec = rec.clone();
        async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            forward(&st, &rec).await
        }
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

/// What the front answers itself for the knobs the emulator does not model:
/// a token without rights in a project, and the routes of Zadig <= 4.1.
fn server_quirk(st: &FakeState, rec: &Recorded) -> Option<Response> {
    let authorised = rec
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .is_some_and(|(_, t)| t == TOKEN);
    let project = rec.q("projectKey").unwrap_or_default().to_owned();
    let body_project = serde_json::from_slice::<Value>(&rec.body)
        .ok()
        .and_then(|v| v["project_key"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if authorised
        && [project, body_project]
            .iter()
            .any(|p| lock(&st.forbidden_projects).contains(p))
    {
        // aslan's permission middleware: 403 with an empty body.
        return Some(StatusCode::FORBIDDEN.into_response());
    }
    if st.old_server.load(Ordering::SeqCst) && rec.method == "PUT" {
        // Before 4.2 the build OpenAPI had no PUT routes: gin answers the
        // plain update with 405 and the template update with 404.
        let resp = if rec.path == "/openapi/build" {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                [("content-type", "text/plain")],
                format!("Method not allowed: PUT {}", rec.path),
            )
                .into_response()
        } else {
            (StatusCode::NOT_FOUND, "Invalid path").into_response()
        };
        return Some(resp);
    }
    None
}

/// Sends the request to the emulator and gives back its answer; list pages
/// pass through the list knobs (inflated total, shuffled entries, a create
/// racing the first page).
async fn forward(st: &FakeState, rec: &Recorded) -> Response {
    let method = reqwest::Method::from_bytes(rec.method.as_bytes()).expect("a method");
    let url = if rec.raw_query.is_empty() {
        format!("{}{}", st.upstream, rec.path)
    } else {
        format!("{}{}?{}", st.upstream, rec.path, rec.raw_query)
    };
    let mut out = st.http.request(method, url).body(rec.body.clone());
    for (k, v) in &rec.headers {
        if !matches!(k.as_str(), "host" | "content-length") {
            out = out.header(k, v);
        }
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = answer.status().as_u16();
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "transfer-encoding"))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = answer.bytes().await.unwrap_or_default().to_vec();
    if rec.method == "GET" && rec.path == "/openapi/build" && status == 200 {
        body = list_knobs(st, rec, &body);
    }
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::try_from(k),
            HeaderValue::try_from(v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

fn list_knobs(st: &FakeState, rec: &Recorded, body: &[u8]) -> Vec<u8> {
    let Ok(mut page) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let inflate = st.inflate_total.load(Ordering::SeqCst);
    if inflate != 0
        && let Some(total) = page["total"].as_i64()
    {
        page["total"] = json!(total + inflate);
    }
    if st.shuffle_pages.load(Ordering::SeqCst)
        && let Some(builds) = page["builds"].as_array_mut()
    {
        lock(&st.rng).shuffle(builds);
    }
    if rec.q("pageNum").is_none_or(|n| n == "1")
        && let Some(b) = lock(&st.add_after_first_page).take()
    {
        st.seed([b]);
    }
    serde_json::to_vec(&page).unwrap_or_else(|_| body.to_vec())
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
        // Only meaningful before forwarding; treat as "serve normally" here.
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
