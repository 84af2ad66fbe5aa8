//! One request, end to end: gin-like routing (404/405/redirect texts), the
//! gateway's token check, aslan's handlers (bind → authorise → validate →
//! service) and Go-shaped responses.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use serde::Serialize;
use serde_json::{Value, json};

use super::binding::{Query, bind_create, bind_template, unescape};
use super::faults::PreFault;
use super::state::{AslanError, CODE_LICENCE, State, message_of};
use super::templates::{TemplateCaller, TemplatePerms, TemplateRequest, TemplateRoute};
use super::{Perms, Role, Shared, TokenPolicy};

/// Largest body read (aslan has no limit; this only guards the emulator).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A registered route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /openapi/build`.
    Create,
    /// `PUT /openapi/build`.
    Update,
    /// `DELETE /openapi/build`.
    Delete,
    /// `GET /openapi/build`.
    List,
    /// `GET /openapi/build/:name/detail`.
    Detail,
    /// `PUT /openapi/build/:name/template`.
    UpdateTemplate,
    /// `GET /openapi/system/cluster`.
    OpenApiClusters,
    /// `GET /openapi/projects/project`.
    Projects,
    /// `GET /openapi/projects/project/detail`.
    ProjectDetail,
    /// `GET /api/aslan/build/build`.
    UiList,
    /// `GET /api/aslan/build/build/serviceModule` (shadows a build of that name).
    UiServiceModule,
    /// `GET /api/aslan/build/build/:name`.
    Stored,
    /// `GET /api/aslan/system/basicImages`.
    BasicImages,
    /// `GET /api/aslan/cluster/clusters`.
    Clusters,
    /// `GET /api/aslan/code/codehost`.
    CodeHosts,
    /// `GET /api/aslan/template/dockerfile`.
    DockerfileTemplates,
    /// `GET /api/aslan/template/build`.
    BuildTemplates,
    /// `GET /api/aslan/template/build/:id`.
    BuildTemplate,
    /// `POST /api/aslan/template/build`.
    TemplateCreate,
    /// `PUT /api/aslan/template/build/:id`.
    TemplateUpdate,
    /// `DELETE /api/aslan/template/build/:id`.
    TemplateDelete,
    /// `GET /api/aslan/template/build/:id/reference`.
    TemplateReference,
    /// `PUT /api/aslan/build/build`: the UI's save (build-api-ui-made.md §9).
    UiUpdate,
}

/// Routes as aslan registers them (UI routes without the gateway's `/aslan`),
/// static segments before parameters, as gin prefers them.
const ROUTES: &[(&str, &str, Route)] = &[
    ("POST", "/openapi/build", Route::Create),
    ("PUT", "/openapi/build", Route::Update),
    ("DELETE", "/openapi/build", Route::Delete),
    ("GET", "/openapi/build", Route::List),
    ("GET", "/openapi/build/:name/detail", Route::Detail),
    (
        "PUT",
        "/openapi/build/:name/template",
        Route::UpdateTemplate,
    ),
    ("GET", "/openapi/system/cluster", Route::OpenApiClusters),
    ("GET", "/openapi/projects/project", Route::Projects),
    (
        "GET",
        "/openapi/projects/project/detail",
        Route::ProjectDetail,
    ),
    ("GET", "/api/build/build", Route::UiList),
    (
        "GET",
        "/api/build/build/serviceModule",
        Route::UiServiceModule,
    ),
    ("GET", "/api/build/build/:name", Route::Stored),
    ("PUT", "/api/build/build", Route::UiUpdate),
    ("GET", "/api/system/basicImages", Route::BasicImages),
    ("GET", "/api/cluster/clusters", Route::Clusters),
    ("GET", "/api/code/codehost", Route::CodeHosts),
    (
        "GET",
        "/api/template/dockerfile",
        Route::DockerfileTemplates,
    ),
    ("GET", "/api/template/build", Route::BuildTemplates),
    ("GET", "/api/template/build/:name", Route::BuildTemplate),
    // templatestore/handler/router.go (the build group).
    ("POST", "/api/template/build", Route::TemplateCreate),
    ("PUT", "/api/template/build/:name", Route::TemplateUpdate),
    ("DELETE", "/api/template/build/:name", Route::TemplateDelete),
    (
        "GET",
        "/api/template/build/:name/reference",
        Route::TemplateReference,
    ),
];

/// What the router made of a method and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// A route, with its `:name` parameter ("" when it has none).
    Route(Route, String),
    /// gin's RedirectTrailingSlash: to this path (without the slash).
    Redirect(String),
    /// The path exists for another method (405).
    NotAllowed,
    /// Nothing matches (404).
    NotFound,
}

fn match_route(method: &str, path: &str) -> Option<(Route, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    'routes: for (m, pattern, route) in ROUTES {
        if *m != method {
            continue;
        }
        let parts: Vec<&str> = pattern.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut name = String::new();
        for (i, (p, s)) in parts.iter().zip(&segments).enumerate() {
            if p.starts_with(':') {
                // gin: an empty parameter matches only before another segment.
                if s.is_empty() && i + 1 == parts.len() {
                    continue 'routes;
                }
                (*s).clone_into(&mut name);
            } else if p != s {
                continue 'routes;
            }
        }
        return Some((*route, name));
    }
    None
}

/// Routes a request path as aslan sees it.
pub fn resolve(method: &str, path: &str) -> Resolution {
    if let Some((route, name)) = match_route(method, path) {
        return Resolution::Route(route, name);
    }
    if path.len() > 1
        && let Some(stripped) = path.strip_suffix('/')
        && match_route(method, stripped).is_some()
    {
        return Resolution::Redirect(stripped.to_owned());
    }
    let methods = ["GET", "POST", "PUT", "DELETE"];
    if methods
        .iter()
        .any(|m| *m != method && match_route(m, path).is_some())
    {
        return Resolution::NotAllowed;
    }
    Resolution::NotFound
}

/// The gateway maps `/api/aslan/X` to aslan's `/api/X`.
fn aslan_path(path: &str) -> String {
    match path.strip_prefix("/api/aslan") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/api{rest}"),
        _ => path.to_owned(),
    }
}

/// What the handler wants the connection to do.
pub enum Reply {
    /// Send this response.
    Response(Response<Body>),
    /// Close the connection without answering.
    Drop,
}

/// The authenticated caller.
struct Caller {
    admin: bool,
    perms: HashMap<String, Perms>,
    /// System actions of the template library.
    templates: TemplatePerms,
    user: String,
}

impl Caller {
    /// The project is in the caller's `ProjectAuthInfo` (existing projects only).
    fn knows(&self, state: &State, project: &str) -> bool {
        self.admin || (state.project_exists(project) && self.perms.contains_key(project))
    }

    fn may(&self, state: &State, project: &str, need: fn(&Perms) -> bool) -> bool {
        self.admin || (state.project_exists(project) && self.perms.get(project).is_some_and(need))
    }
}

/// The gateway's check: `?token=` wins over the header, whose value must split
/// on single spaces into exactly two parts (the scheme word is not checked).
fn gateway_token<'a>(headers: &'a HeaderMap, query: &'a Query) -> Option<&'a str> {
    if let Some(t) = query.find("token").filter(|t| !t.is_empty()) {
        return Some(t);
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let parts: Vec<&str> = value.split(' ').collect();
    match parts.as_slice() {
        [_, token] if !token.is_empty() => Some(token),
        _ => None,
    }
}

/// aslan's `NewContext`: the `name` claim of the JWT in the header (or the
/// query token), without checking the signature.
fn user_name(headers: &HeaderMap, query: &Query) -> String {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    let token = header.or_else(|| query.find("token").filter(|t| !t.is_empty()));
    token
        .and_then(jwt_name)
        .unwrap_or_else(|| "Admin".to_owned())
}

fn jwt_name(token: &str) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [_, payload, _] = parts.as_slice() else {
        return None;
    };
    let bytes = base64url_decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("name")?.as_str().map(str::to_owned)
}

/// `base64.RawURLEncoding.DecodeString` (no padding accepted).
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    // A dangling 6-bit group cannot encode a byte.
    if s.len() % 4 == 1 {
        return None;
    }
    Some(out)
}

fn authenticate(tokens: &TokenPolicy, headers: &HeaderMap, query: &Query) -> Option<Caller> {
    let token = gateway_token(headers, query)?;
    let none = TemplatePerms::default();
    let (admin, perms, templates) = match tokens {
        TokenPolicy::AnyAdmin => (true, HashMap::new(), none),
        TokenPolicy::Tokens(map) => match map.get(token)? {
            Role::Admin => (true, HashMap::new(), none),
            Role::Project(perms) => (false, perms.clone(), none),
            Role::WithTemplates(perms, templates) => (false, perms.clone(), *templates),
        },
    };
    Some(Caller {
        admin,
        perms,
        templates,
        user: user_name(headers, query),
    })
}

// ------------------------------------------------------------- responses

/// Go's `json.Marshal` escapes `<`, `>`, `&`, U+2028 and U+2029.
fn go_json<T: Serialize>(v: &T) -> String {
    let raw = serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn respond(status: u16, content_type: Option<&str>, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(ct) = content_type
        && let Ok(v) = ct.parse()
    {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn json_response<T: Serialize>(status: u16, v: &T) -> Response<Body> {
    respond(status, Some("application/json; charset=utf-8"), go_json(v))
}

fn text(status: u16, body: String) -> Response<Body> {
    respond(status, Some("text/plain; charset=utf-8"), body)
}

fn empty(status: u16) -> Response<Body> {
    respond(status, None, String::new())
}

/// `ErrorMessage`: business codes map to 400, plain errors to 500.
fn error_response(e: &AslanError) -> Response<Body> {
    match e {
        AslanError::Status(s) => empty(*s),
        AslanError::Http { code, description } => {
            let status = if code / 1000 == 6 || code / 1000 == 7 {
                400
            } else {
                u16::try_from(*code).unwrap_or(500)
            };
            // A Go map: keys come out sorted.
            let body = json!({"code": code, "description": description, "extra": {},
                              "message": message_of(*code), "type": "error"});
            json_response(status, &body)
        }
        AslanError::Plain(description) => json_response(
            500,
            &json!({"code": 500, "description": description, "message": "Internal Error: "}),
        ),
    }
}

/// `http.Redirect` as gin's RedirectTrailingSlash calls it.
fn redirect(method: &Method, location: &str) -> Response<Body> {
    let (status, reason) = if method == Method::GET {
        (301, "Moved Permanently")
    } else {
        (307, "Temporary Redirect")
    };
    let mut r = if method == Method::GET || method == Method::HEAD {
        let body = if method == Method::GET {
            format!("<a href=\"{}\">{reason}</a>.\n\n", html_escape(location))
        } else {
            String::new()
        };
        respond(status, Some("text/html; charset=utf-8"), body)
    } else {
        empty(status)
    };
    if let Ok(v) = location.parse() {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

// -------------------------------------------------------------- handling

/// Counts, delays, injects faults, authenticates and dispatches one request.
pub async fn handle(shared: Arc<Shared>, req: Request<hyper::body::Incoming>) -> Reply {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_owned();
    let raw_query = req.uri().query().map(str::to_owned);
    let path = unescape(&raw_path, false);
    let resolution = match &path {
        Some(p) => resolve(method.as_str(), &aslan_path(p)),
        None => Resolution::NotFound,
    };
    shared.count(&resolution);

    let delay = shared.latency() + shared.faults().jitter();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let pre = shared.faults().before(&method);
    match pre {
        PreFault::None => {}
        PreFault::Drop => {
            shared.stats_mut().dropped += 1;
            return Reply::Drop;
        }
        PreFault::Status(s) => {
            shared.stats_mut().faults += 1;
            return Reply::Response(shared.faults().response(s));
        }
        PreFault::Throttle(retry_after) => {
            shared.stats_mut().faults += 1;
            return Reply::Response(shared.faults().response_after(429, retry_after));
        }
    }
    if shared.openapi_only && raw_path.starts_with("/api/") {
        return Reply::Response(text(404, format!("Invalid path: {raw_path}")));
    }
    let Some(path) = path else {
        return Reply::Response(text(400, "400 Bad Request".to_owned()));
    };
    let path = aslan_path(&path);

    let query = Query::parse(raw_query.as_deref());
    let Some(caller) = authenticate(&shared.tokens, req.headers(), &query) else {
        shared.stats_mut().unauthorized += 1;
        return Reply::Response(empty(401));
    };

    let (route, name) = match resolution {
        Resolution::NotFound => {
            return Reply::Response(text(404, format!("Invalid path: {path}")));
        }
        Resolution::NotAllowed => {
            return Reply::Response(text(405, format!("Method not allowed: {method} {path}")));
        }
        Resolution::Redirect(_) => {
            // Location is the raw path without its slash, as aslan sees it.
            let raw = aslan_path(&raw_path);
            let mut location = raw.strip_suffix('/').unwrap_or(&raw).to_owned();
            if let Some(q) = &raw_query {
                location.push('?');
                location.push_str(q);
            }
            return Reply::Response(redirect(&method, &location));
        }
        Resolution::Route(route, name) => (route, name),
    };

    let is_write = matches!(
        route,
        Route::Create
            | Route::Update
            | Route::UpdateTemplate
            | Route::Delete
            | Route::UiUpdate
            | Route::TemplateCreate
            | Route::TemplateUpdate
            | Route::TemplateDelete
    );
    let body = if matches!(
        route,
        Route::Create
            | Route::Update
            | Route::UpdateTemplate
            | Route::UiUpdate
            | Route::TemplateCreate
            | Route::TemplateUpdate
    ) {
        match axum::body::to_bytes(Body::new(req.into_body()), MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return Reply::Response(error_response(&AslanError::bad_request(&e.to_string())));
            }
        }
    } else {
        Default::default()
    };

    let now = now_unix();
    if matches!(route, Route::Update | Route::UiUpdate) && shared.faults().lose_update() {
        shared.stats_mut().faults += 1;
        return Reply::Response(json_response(
            200,
            &serde_json::json!({"message": "success"}),
        ));
    }
    let result = {
        let mut state = shared.state_mut();
        dispatch(
            &mut state,
            &Ctx {
                route,
                name: &name,
                query: &query,
                body: &body,
                caller: &caller,
                mask: shared.mask_stored_credentials,
                now,
            },
        )
    };
    let response = match result {
        Ok(v) => json_response(200, &v),
        Err(e) => return Reply::Response(error_response(&e)),
    };
    if is_write {
        // The write happened in memory but is not kept: refuse it plainly
        // (a 400, not a 5xx a client would resolve by reading back the
        // in-memory state), so the write is reported as failed.
        if let Err(e) = shared.try_persist() {
            tracing::error!("{e:#}");
            return Reply::Response(error_response(&AslanError::Http {
                code: 6000,
                description: format!("emulator: the change is not kept: {e:#}"),
            }));
        }
        if shared
            .faults()
            .after_commit(matches!(route, Route::Create | Route::TemplateCreate))
        {
            shared.stats_mut().faults += 1;
            return Reply::Response(shared.faults().response(500));
        }
    }
    Reply::Response(response)
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

struct Ctx<'a> {
    route: Route,
    name: &'a str,
    query: &'a Query,
    body: &'a [u8],
    caller: &'a Caller,
    mask: bool,
    now: i64,
}

fn success() -> Value {
    json!({"message": "success"})
}

fn forbidden() -> AslanError {
    AslanError::Status(403)
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The aslan handler of each route.
fn dispatch(state: &mut State, cx: &Ctx<'_>) -> Result<Value, AslanError> {
    let q = cx.query;
    let caller = cx.caller;
    let may_create = |state: &State, p: &str| caller.may(state, p, |x| x.create);
    let may_view = |state: &State, p: &str| caller.may(state, p, |x| x.view);
    match cx.route {
        Route::Create | Route::Update if q.get("source") == "template" => {
            // PUT ?source=template calls the *create* service too.
            let req = bind_template(cx.body).map_err(|_| AslanError::Status(400))?;
            if !may_create(state, &req.project_key) {
                return Err(forbidden());
            }
            validate_template(state, &req)?;
            state.create_template(&req, &caller.user, cx.now)?;
            Ok(success())
        }
        Route::Create | Route::Update => {
            let req = bind_create(cx.body).map_err(|_| AslanError::Status(400))?;
            // Updates check Build.Create too.
            if !may_create(state, &req.project_key) {
                return Err(forbidden());
            }
            if cx.route == Route::Create {
                state.create(&req, &caller.user, cx.now)?;
            } else {
                state.update(&req, &caller.user, cx.now)?;
            }
            Ok(success())
        }
        Route::UpdateTemplate => {
            // The path's :name is ignored: the body picks the build.
            let req = bind_template(cx.body).map_err(|_| AslanError::Status(400))?;
            if !may_create(state, &req.project_key) {
                return Err(forbidden());
            }
            validate_template(state, &req)?;
            state.update_template(&req, &caller.user, cx.now)?;
            Ok(success())
        }
        Route::Delete => {
            let name = q.get("name");
            let project = q.get("projectKey");
            // Authorisation runs before the name check.
            if !caller.may(state, project, |x| x.delete) {
                return Err(forbidden());
            }
            if name.is_empty() {
                return Err(AslanError::bad_request("empty build name."));
            }
            state.delete(name, project)?;
            Ok(success())
        }
        Route::List => {
            let project = q.get("projectKey");
            if project.is_empty() {
                return Err(AslanError::bad_request("empty project key."));
            }
            let page_num = q
                .int_or("pageNum", 1)
                .map_err(|_| AslanError::Status(400))?;
            let page_size = q
                .int_or("pageSize", 20)
                .map_err(|_| AslanError::Status(400))?;
            if !may_view(state, project) {
                return Err(forbidden());
            }
            Ok(to_json(&state.list(project, page_num, page_size)))
        }
        Route::Detail => {
            if cx.name.is_empty() {
                return Err(AslanError::bad_request("empty buildName."));
            }
            let project = q.get("projectKey");
            if project.is_empty() {
                return Err(AslanError::bad_request("empty projectKey."));
            }
            if !may_view(state, project) {
                return Err(forbidden());
            }
            let detail = state.detail(
                cx.name,
                project,
                q.get("serviceName"),
                q.get("serviceModule"),
            )?;
            Ok(to_json(&detail))
        }
        Route::UiUpdate => {
            // `UpdateBuildModule`: bind the whole model, then Build.Edit in
            // the body's project (the OpenAPI update checks Build.Create).
            let Ok(body) = serde_json::from_slice::<Value>(cx.body) else {
                return Err(AslanError::bad_request("invalid Build args"));
            };
            let Ok(build) = serde_json::from_value::<crate::zadig::wire::StoredBuild>(body.clone())
            else {
                return Err(AslanError::bad_request("invalid Build args"));
            };
            if !caller.may(state, &build.product_name, |x| x.edit) {
                return Err(forbidden());
            }
            state.ui_update(build, body.get("target_repos"), &caller.user, cx.now)?;
            Ok(success())
        }
        Route::BuildTemplates
        | Route::BuildTemplate
        | Route::TemplateCreate
        | Route::TemplateUpdate
        | Route::TemplateDelete
        | Route::TemplateReference => {
            let route = match cx.route {
                Route::BuildTemplates => TemplateRoute::List,
                Route::BuildTemplate => TemplateRoute::Get,
                Route::TemplateCreate => TemplateRoute::Create,
                Route::TemplateUpdate => TemplateRoute::Update,
                Route::TemplateDelete => TemplateRoute::Delete,
                _ => TemplateRoute::Reference,
            };
            state.template_request(
                &TemplateCaller {
                    admin: caller.admin,
                    perms: caller.templates,
                    user: &caller.user,
                },
                &TemplateRequest {
                    route,
                    id: cx.name,
                    page: (q.find("page_num"), q.find("page_size")),
                    body: cx.body,
                },
            )
        }
        Route::Stored => {
            let project = q.get("projectName");
            if !may_view(state, project) {
                return Err(forbidden());
            }
            state.stored_view(cx.name, project, cx.mask)
        }
        Route::UiServiceModule => {
            let project = q.get("projectName");
            if !may_view(state, project) {
                return Err(forbidden());
            }
            // No services are emulated: no service module has builds.
            Ok(json!([]))
        }
        Route::UiList => {
            let project = q.get("projectName");
            if !may_view(state, project) {
                return Err(forbidden());
            }
            Ok(state.list_summary(project))
        }
        Route::BasicImages => Ok(state.basic_images(q.get("image_from"), q.get("image_type"))),
        Route::Clusters => {
            let project = q.get("projectName");
            if !project.is_empty() && !caller.knows(state, project) {
                return Err(forbidden());
            }
            Ok(state.clusters())
        }
        Route::OpenApiClusters => Ok(state.openapi_clusters()),
        Route::CodeHosts => Ok(state.code_hosts()),
        Route::DockerfileTemplates => {
            let page_num = q
                .int_or("page_num", 1)
                .map_err(|_| AslanError::Status(400))?;
            let page_size = q
                .int_or("page_size", 100)
                .map_err(|_| AslanError::Status(400))?;
            Ok(state.dockerfile_templates(page_num, page_size))
        }
        Route::Projects => {
            let page_num = q
                .int_or("pageNum", 1)
                .map_err(|_| AslanError::Status(400))?;
            let page_size = q
                .int_or("pageSize", 20)
                .map_err(|_| AslanError::Status(400))?;
            Ok(state.projects(|p| caller.knows(state, p), page_num, page_size))
        }
        Route::ProjectDetail => {
            let key = q.get("projectKey");
            // The key is checked against the caller's project list, which
            // holds only existing projects, even for admins.
            if !state.project_exists(key) || !caller.knows(state, key) {
                return Err(forbidden());
            }
            state.project_detail(key).ok_or_else(forbidden)
        }
    }
}

/// `Validate()` then the licence check of the template endpoints.
fn validate_template(state: &State, req: &super::binding::TemplateReq) -> Result<(), AslanError> {
    if req.target_services.is_empty() && !req.nil_element {
        return Err(AslanError::bad_request(
            "target_service must have at least one item in it",
        ));
    }
    if !state.catalog.template_licence {
        return Err(AslanError::Http {
            code: CODE_LICENCE,
            description: String::new(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resolve_like_gin() {
        assert_eq!(
            resolve("GET", "/openapi/build"),
            Resolution::Route(Route::List, String::new())
        );
        assert_eq!(
            resolve("GET", "/openapi/build/x/detail"),
            Resolution::Route(Route::Detail, "x".to_owned())
        );
        assert_eq!(
            resolve("GET", "/openapi/build//detail"),
            Resolution::Route(Route::Detail, String::new())
        );
        assert_eq!(
            resolve("GET", "/api/build/build/serviceModule"),
            Resolution::Route(Route::UiServiceModule, String::new())
        );
        assert_eq!(
            resolve("GET", "/api/build/build/targets"),
            Resolution::Route(Route::Stored, "targets".to_owned())
        );
        assert_eq!(
            resolve("GET", "/openapi/build/"),
            Resolution::Redirect("/openapi/build".to_owned())
        );
        assert_eq!(
            resolve("GET", "/api/build/build/"),
            Resolution::Redirect("/api/build/build".to_owned())
        );
        assert_eq!(resolve("PATCH", "/openapi/build"), Resolution::NotAllowed);
        assert_eq!(resolve("PATCH", "/openapi/build/"), Resolution::NotFound);
        assert_eq!(
            resolve("POST", "/openapi/build/x/detail"),
            Resolution::NotAllowed
        );
        assert_eq!(resolve("GET", "/openapi/build/x"), Resolution::NotFound);
        assert_eq!(resolve("GET", "/openapi/builds"), Resolution::NotFound);
    }

    #[test]
    fn the_gateway_strips_aslan_from_ui_paths() {
        assert_eq!(aslan_path("/api/aslan/build/build/x"), "/api/build/build/x");
        assert_eq!(aslan_path("/api/aslanx/y"), "/api/aslanx/y");
        assert_eq!(aslan_path("/openapi/build"), "/openapi/build");
    }

    #[test]
    fn jwt_names_are_read_without_verification() {
        // {"name":"Alice","uid":"1"}
        let token = "h.eyJuYW1lIjoiQWxpY2UiLCJ1aWQiOiIxIn0.sig";
        assert_eq!(jwt_name(token).as_deref(), Some("Alice"));
        assert_eq!(
            jwt_name(&format!("Bearer {token}")).as_deref(),
            Some("Alice")
        );
        assert_eq!(jwt_name("not-a-jwt"), None);
        assert_eq!(jwt_name("a.!!!.c"), None);
    }

    #[test]
    fn base64url_round_trips() {
        assert_eq!(base64url_decode("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64url_decode("aGk="), None);
        assert_eq!(base64url_decode("_-8").as_deref(), Some(&[0xff, 0xef][..]));
    }

    #[test]
    fn json_is_escaped_like_go() {
        assert_eq!(
            go_json(&json!({"s": "a && b > c"})),
            r#"{"s":"a \u0026\u0026 b \u003e c"}"#
        );
    }
}
