//! Typed errors of the Zadig client, with messages that say what went wrong and
//! what to do about it.
//!
//! Rules (build-api.md §3): branch on the HTTP status and the business `code`,
//! never on the `description` text, except to display it and to recognise the
//! "name already exists" and "build not found" sub-cases of 6520/6521, which
//! share their code with other failures. No message ever contains the API token:
//! the token only travels in a sensitive `Authorization` header, URLs are shown
//! as path and query only, and `reqwest` errors are stripped of their URL.

use std::fmt;
use std::time::Duration;

/// Which request failed: shown in every error so a user can find it in a
/// debug log or reproduce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDesc {
    /// HTTP method (`GET`, `POST`, …).
    pub method: String,
    /// Path and query, relative to the endpoint (no host, never a token).
    pub path: String,
    /// The build the request is about, when there is one.
    pub build: Option<String>,
    /// The project the request is about, when there is one.
    pub project: Option<String>,
    /// How many times it was sent (retries included).
    pub attempts: u32,
}

impl fmt::Display for RequestDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        match (&self.build, &self.project) {
            (Some(b), Some(p)) => write!(f, " (build `{b}` in project `{p}`)")?,
            (Some(b), None) => write!(f, " (build `{b}`)")?,
            (None, Some(p)) => write!(f, " (project `{p}`)")?,
            (None, None) => {}
        }
        if self.attempts > 1 {
            write!(f, " [after {} attempts]", self.attempts)?;
        }
        Ok(())
    }
}

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made: the request was certainly not sent.
    Connect,
    /// No complete answer within the per-request timeout.
    Timeout,
    /// The connection broke (reset, closed mid-answer, …).
    Other,
    /// The connection was refused: nothing listens at the endpoint's port.
    Refused,
    /// An `https://` endpoint answered the TLS handshake in plain HTTP.
    NotTls,
    /// The TLS handshake failed (an unknown CA, a wrong host name, …).
    Tls,
}

/// Everything that can go wrong talking to Zadig.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The client settings are unusable (endpoint, CA certificate, concurrency).
    #[error("invalid Zadig connection settings: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A call the client refuses to make (an empty name or project, a body that
    /// cannot be encoded).
    #[error("invalid request: {message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },

    /// Zadig could not be reached, or the connection broke.
    #[error("{}", transport_message(endpoint, request, *kind, detail, *timeout))]
    Transport {
        /// The endpoint (scheme, host, port and path; never a token).
        endpoint: String,
        /// The request.
        request: Box<RequestDesc>,
        /// Connect, timeout or other.
        kind: TransportKind,
        /// The underlying error chain (URL stripped).
        detail: String,
        /// The per-request timeout in force.
        timeout: Duration,
    },

    /// HTTP 401 from the gateway.
    #[error(
        "Zadig rejected the API token (HTTP 401) on {request}: the token is missing, invalid or \
         revoked (generating a new token in Zadig revokes the old one; since Zadig 4.3 the user \
         must also be a system admin or have API tokens enabled). Set ZADIG_TOKEN or --token-file"
    )]
    Unauthorized {
        /// The request.
        request: Box<RequestDesc>,
    },

    /// HTTP 403: no permission, unknown project, or an MFA requirement.
    #[error("{}", forbidden_message(request, reason.as_deref()))]
    Forbidden {
        /// The request.
        request: Box<RequestDesc>,
        /// `x-zadig-auth-reason` / body `reason` (MFA, Zadig >= 4.3), if given.
        reason: Option<String>,
    },

    /// HTTP 400 with an empty body: the server could not bind the request.
    #[error(
        "Zadig could not read {request} and gave no detail (HTTP 400 with an empty body): most \
         likely a field has the wrong JSON type or a required field is missing (plain builds: \
         name, project_key, infrastructure, build_os, script_type; template builds: name, \
         project_key, template_name, target_services)"
    )]
    EmptyBadRequest {
        /// The request.
        request: Box<RequestDesc>,
    },

    /// Code 6520 "already exists": build names are global in Zadig.
    #[error("{}", name_taken_message(name, other_project.as_deref()))]
    NameTaken {
        /// The build name.
        name: String,
        /// The project that holds the existing build, when Zadig said so.
        other_project: Option<String>,
    },

    /// The build (or, for a template build's detail, its template) does not
    /// exist: codes 6521 (update) and 6523 (detail, template update, stored read).
    #[error("{}", not_found_message(request, *code, description))]
    NotFound {
        /// The request.
        request: Box<RequestDesc>,
        /// 6521 or 6523.
        code: i64,
        /// Zadig's description (for display only).
        description: String,
    },

    /// A business error Zadig explained: codes 400, 6520/6521 (a name in the
    /// body did not resolve: code host, image, cluster, dockerfile template, …),
    /// 6522 and others.
    #[error("{}", rejected_message(request, *code, message, description))]
    Rejected {
        /// The request.
        request: Box<RequestDesc>,
        /// Business code.
        code: i64,
        /// Zadig's short message (often Chinese).
        message: String,
        /// Zadig's description (for display only).
        description: String,
    },

    /// Code 6524: the build is referenced by a VM/host service (or the delete
    /// failed in the database).
    #[error(
        "Zadig refused {request} (code 6524): {description}. A build referenced by a VM/host \
         service cannot be deleted; remove the reference in Zadig first"
    )]
    Referenced {
        /// The request.
        request: Box<RequestDesc>,
        /// Zadig's description, naming the services.
        description: String,
    },

    /// Code 7050: template builds need a licence.
    #[error(
        "Zadig refused {request} (code 7050): template builds need a Professional or Enterprise \
         Zadig licence; write this build as a plain build (kind: Build) instead"
    )]
    LicenceRequired {
        /// The request.
        request: Box<RequestDesc>,
    },

    /// HTTP 429 that outlasted the retry budget.
    #[error(
        "Zadig kept rate-limiting {request} (HTTP 429{}): lower --concurrency or try again later",
        retry_after.map(|d| format!(", asked to wait {}s", d.as_secs())).unwrap_or_default()
    )]
    RateLimited {
        /// The request.
        request: Box<RequestDesc>,
        /// The last `Retry-After`.
        retry_after: Option<Duration>,
    },

    /// HTTP 5xx (after retries for idempotent requests).
    #[error("{}", server_message(request, *status, description.as_deref()))]
    Server {
        /// The request.
        request: Box<RequestDesc>,
        /// HTTP status.
        status: u16,
        /// The body's `code` when it was a JSON error.
        code: Option<i64>,
        /// The body's `description` when it was a JSON error.
        description: Option<String>,
    },

    /// The server lacks the update routes: Zadig older than 4.2.
    #[error(
        "{request} is not supported by this Zadig server (HTTP {status}): zadig-sync needs \
         Zadig >= 4.2, which added build updates to the OpenAPI"
    )]
    UnsupportedServer {
        /// The request.
        request: Box<RequestDesc>,
        /// 405 (or 404 for the template update route).
        status: u16,
    },

    /// HTTP 404/405 with gin's text body on a route every supported Zadig has.
    #[error(
        "the server has no route for {request} (HTTP {status}: {body}): check that the endpoint \
         is the Zadig root URL (e.g. https://zadig.example.com) and that Zadig is >= 4.2"
    )]
    RouteNotFound {
        /// The request.
        request: Box<RequestDesc>,
        /// 404 or 405.
        status: u16,
        /// The first line of the text body.
        body: String,
    },

    /// A 3xx answer (redirects are not followed: a POST would turn into a GET).
    #[error(
        "the server redirected {request} (HTTP {status}) to {location}: zadig-sync does not \
         follow redirects; use the final URL as the endpoint (for example https:// instead of http://)"
    )]
    Redirected {
        /// The request.
        request: Box<RequestDesc>,
        /// 301, 302, 307, 308, …
        status: u16,
        /// `Location`, without its query string.
        location: String,
    },

    /// Any other status.
    #[error(
        "unexpected answer to {request}: HTTP {status}{}",
        fmt_excerpt(excerpt)
    )]
    UnexpectedStatus {
        /// The request.
        request: Box<RequestDesc>,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },

    /// A 200 body that is not the JSON expected.
    #[error(
        "could not read Zadig's answer to {request}: at `{at}`: {message} (is the endpoint a \
         Zadig >= 4.2 server?)"
    )]
    Decode {
        /// The request.
        request: Box<RequestDesc>,
        /// JSON path of the offending value (`builds[3].name`), `.` for the root.
        at: String,
        /// What was wrong.
        message: String,
    },

    /// The stored-model read answered 200 with something that is not the build:
    /// the collaboration-mode middleware answered instead of the handler.
    #[error(
        "Zadig answered {request} with something that is not build `{name}` (no matching `name` \
         in the body): the collaboration-mode middleware probably answered instead of the build \
         API; read the build through the OpenAPI detail instead"
    )]
    NotABuild {
        /// The request.
        request: Box<RequestDesc>,
        /// The build asked for.
        name: String,
    },

    /// The stored model of this build cannot be addressed through the UI API:
    /// callers fall back to [`crate::zadig::client::Client::build_detail`].
    #[error("the stored model of build `{name}` cannot be read through the UI API: {reason}")]
    StoredModelUnavailable {
        /// The build name.
        name: String,
        /// Why.
        reason: String,
    },

    /// A list could not be read completely and consistently. Callers must not
    /// prune anything from a partial listing.
    #[error(
        "could not get a complete list of {what}: {reason}; refusing to work from a partial list"
    )]
    IncompleteListing {
        /// What was listed (`the builds of project `demo``).
        what: String,
        /// What went wrong.
        reason: String,
    },

    /// An answer larger than the cap (`--max-response-mib`): never read whole.
    #[error(
        "Zadig's answer to {request} is larger than {} MiB: refusing to read it (a proxy or a \
         misconfigured server?); raise --max-response-mib if it is genuine",
        limit.div_ceil(1024 * 1024)
    )]
    ResponseTooLarge {
        /// The request.
        request: Box<RequestDesc>,
        /// The cap, in bytes.
        limit: u64,
    },

    /// A read answered with another build than the one asked for.
    #[error(
        "Zadig answered {request} with build `{got}` instead of `{asked}`: refusing to compare \
         another build's content (a proxy or cache in front of Zadig?)"
    )]
    WrongBuild {
        /// The request.
        request: Box<RequestDesc>,
        /// The build asked for.
        asked: String,
        /// `project/name` of what came back (scrubbed, cut).
        got: String,
    },

    /// A name Zadig's API cannot address in a URL path: never sent.
    #[error(
        "build {name} cannot be read through Zadig's API: its name {why}; rename it in the Zadig UI"
    )]
    Unaddressable {
        /// The name, escaped for display.
        name: String,
        /// Why.
        why: String,
    },

    /// A create whose answer was lost, and whose read-back failed too: it may or
    /// may not have been applied.
    #[error(
        "the outcome of {request} is unknown: {cause}; reading build `{name}` back to check also \
         failed: {read_back}. Run `zadig-sync plan` again to see whether it was created"
    )]
    AmbiguousWrite {
        /// The write.
        request: Box<RequestDesc>,
        /// The build.
        name: String,
        /// Why the answer was ambiguous.
        cause: Box<ApiError>,
        /// Why the read-back failed.
        read_back: Box<ApiError>,
    },

    /// A request body still holds a `{from_env: …}` or `{keep: true}` value that
    /// the caller should have resolved (internal error).
    #[error(
        "build `{build}`: `{path}` still holds an unresolved {{from_env}}/{{keep}} value; it must \
         be resolved before it is sent (this is a bug in zadig-sync)"
    )]
    UnresolvedValue {
        /// The build.
        build: String,
        /// JSON path of the value.
        path: String,
    },

    /// The build template does not exist: aslan answers a plain 500
    /// `mongo: no documents in result` (build-api-ui-made.md §10).
    #[error(
        "build template {id} does not exist (Zadig answered {request} with HTTP 500: \
         {description})"
    )]
    TemplateNotFound {
        /// The request.
        request: Box<RequestDesc>,
        /// The template id asked for.
        id: String,
        /// Zadig's description (for display only).
        description: String,
    },

    /// Template names are unique (index `name_1`): a create answers 6520, an
    /// update a plain 500, both with MongoDB's E11000 text.
    #[error(
        "the build template name `{name}` is already taken by another template: template names \
         are unique in Zadig; rename one of them"
    )]
    TemplateNameTaken {
        /// The template name.
        name: String,
    },

    /// A delete of a template that builds still use: a plain 500
    /// `template build has beed used, can't be deleted`.
    #[error(
        "Zadig refused {request}: build template {id} is still used by template builds; \
         convert or delete them first (the template's reference list names them)"
    )]
    TemplateInUse {
        /// The request.
        request: Box<RequestDesc>,
        /// The template id.
        id: String,
    },

    /// HTTP 403 on the template library: the token's user lacks a system
    /// action (`Template.View`, `.Create`, `.Edit`, `.Delete`).
    #[error(
        "no permission for {request} (HTTP 403): the token's user needs the system action \
         {action} (or to be a system admin)"
    )]
    TemplateForbidden {
        /// The request.
        request: Box<RequestDesc>,
        /// `Template.View`, `Template.Create`, `Template.Edit` or `Template.Delete`.
        action: &'static str,
    },

    /// A template read answered with another template than the one asked for.
    #[error(
        "Zadig answered {request} with build template `{got}` instead of `{asked}`: refusing to \
         compare another template's content (a proxy or cache in front of Zadig?)"
    )]
    WrongTemplate {
        /// The request.
        request: Box<RequestDesc>,
        /// The id asked for.
        asked: String,
        /// The id that came back (scrubbed, cut).
        got: String,
    },
}

impl ApiError {
    /// True when the build (or the referenced object) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ApiError::NotFound { .. } | ApiError::TemplateNotFound { .. }
        )
    }

    /// The business code of a JSON error answer (6520, 6523, 7050, 400, 500, …).
    pub fn code(&self) -> Option<i64> {
        match self {
            ApiError::NameTaken { .. } => Some(6520),
            ApiError::TemplateNotFound { .. } | ApiError::TemplateInUse { .. } => Some(500),
            ApiError::NotFound { code, .. } | ApiError::Rejected { code, .. } => Some(*code),
            ApiError::Referenced { .. } => Some(6524),
            ApiError::LicenceRequired { .. } => Some(7050),
            ApiError::Server { code, .. } => *code,
            ApiError::AmbiguousWrite { cause, .. } => cause.code(),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } | ApiError::TemplateForbidden { .. } => Some(403),
            ApiError::TemplateNotFound { .. } | ApiError::TemplateInUse { .. } => Some(500),
            ApiError::EmptyBadRequest { .. }
            | ApiError::NameTaken { .. }
            | ApiError::NotFound { .. }
            | ApiError::Referenced { .. }
            | ApiError::LicenceRequired { .. } => Some(400),
            ApiError::Rejected { .. } => Some(400),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Server { status, .. }
            | ApiError::UnsupportedServer { status, .. }
            | ApiError::RouteNotFound { status, .. }
            | ApiError::Redirected { status, .. }
            | ApiError::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for failures that may go away by themselves (connection errors,
    /// timeouts, 429, 502, 503, 504). The client already retried them for
    /// idempotent requests.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport {
                kind: TransportKind::NotTls | TransportKind::Tls,
                ..
            } => false,
            ApiError::Transport { .. } | ApiError::RateLimited { .. } => true,
            ApiError::Server { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// True for authentication or permission failures (401/403), which make the
    /// rest of a run pointless.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ApiError::Unauthorized { .. }
                | ApiError::Forbidden { .. }
                | ApiError::TemplateForbidden { .. }
        )
    }

    /// The request that failed, when the error is about one.
    pub fn request(&self) -> Option<&RequestDesc> {
        match self {
            ApiError::Transport { request, .. }
            | ApiError::Unauthorized { request }
            | ApiError::Forbidden { request, .. }
            | ApiError::EmptyBadRequest { request }
            | ApiError::NotFound { request, .. }
            | ApiError::Rejected { request, .. }
            | ApiError::Referenced { request, .. }
            | ApiError::LicenceRequired { request }
            | ApiError::RateLimited { request, .. }
            | ApiError::Server { request, .. }
            | ApiError::UnsupportedServer { request, .. }
            | ApiError::RouteNotFound { request, .. }
            | ApiError::Redirected { request, .. }
            | ApiError::UnexpectedStatus { request, .. }
            | ApiError::Decode { request, .. }
            | ApiError::NotABuild { request, .. }
            | ApiError::ResponseTooLarge { request, .. }
            | ApiError::WrongBuild { request, .. }
            | ApiError::AmbiguousWrite { request, .. }
            | ApiError::TemplateNotFound { request, .. }
            | ApiError::TemplateInUse { request, .. }
            | ApiError::TemplateForbidden { request, .. }
            | ApiError::WrongTemplate { request, .. } => Some(request),
            _ => None,
        }
    }

    /// Records how many times the request was sent.
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        if let Some(r) = self.request_mut() {
            r.attempts = attempts;
        }
        self
    }

    fn request_mut(&mut self) -> Option<&mut RequestDesc> {
        match self {
            ApiError::Transport { request, .. }
            | ApiError::Unauthorized { request }
            | ApiError::Forbidden { request, .. }
            | ApiError::EmptyBadRequest { request }
            | ApiError::NotFound { request, .. }
            | ApiError::Rejected { request, .. }
            | ApiError::Referenced { request, .. }
            | ApiError::LicenceRequired { request }
            | ApiError::RateLimited { request, .. }
            | ApiError::Server { request, .. }
            | ApiError::UnsupportedServer { request, .. }
            | ApiError::RouteNotFound { request, .. }
            | ApiError::Redirected { request, .. }
            | ApiError::UnexpectedStatus { request, .. }
            | ApiError::Decode { request, .. }
            | ApiError::NotABuild { request, .. }
            | ApiError::ResponseTooLarge { request, .. }
            | ApiError::WrongBuild { request, .. }
            | ApiError::AmbiguousWrite { request, .. }
            | ApiError::TemplateNotFound { request, .. }
            | ApiError::TemplateInUse { request, .. }
            | ApiError::TemplateForbidden { request, .. }
            | ApiError::WrongTemplate { request, .. } => Some(request),
            _ => None,
        }
    }
}

fn transport_message(
    endpoint: &str,
    request: &RequestDesc,
    kind: TransportKind,
    detail: &str,
    timeout: Duration,
) -> String {
    match kind {
        TransportKind::Refused => format!(
            "nothing answers at {endpoint}: the connection was refused ({request}). Check the \
             endpoint's host and port, and that Zadig is running"
        ),
        TransportKind::NotTls => format!(
            "{endpoint} does not speak TLS: the server answered the TLS handshake in plain HTTP \
             ({request}). If it has no TLS, use {} (the token then travels unencrypted)",
            endpoint.replacen("https://", "http://", 1)
        ),
        TransportKind::Tls => format!(
            "the TLS handshake with {endpoint} failed during {request}: {detail} (a private CA? \
             pass --ca-cert FILE)"
        ),
        TransportKind::Connect => format!(
            "could not connect to Zadig for {request}: {detail} (check the endpoint, the network, \
             and HTTPS_PROXY/NO_PROXY)"
        ),
        TransportKind::Timeout => format!(
            "Zadig did not answer {request} within {}s: {detail} (raise --timeout if the server is \
             slow)",
            timeout.as_secs_f64()
        ),
        TransportKind::Other => {
            format!("the connection to Zadig failed during {request}: {detail}")
        }
    }
}

fn not_found_message(request: &RequestDesc, code: i64, description: &str) -> String {
    let what = match (&request.build, &request.project) {
        (Some(b), Some(p)) => format!("build `{b}` does not exist in project `{p}`"),
        (Some(b), None) => format!("build `{b}` does not exist"),
        _ => "not found".to_owned(),
    };
    format!(
        "{what} (Zadig code {code} on {} {}: {description})",
        request.method, request.path
    )
}

fn forbidden_message(request: &RequestDesc, reason: Option<&str>) -> String {
    match reason {
        Some(r) if r.contains("mfa_enrollment") => format!(
            "Zadig refused {request} (HTTP 403, {r}): the token's user must enrol in multi-factor \
             authentication first"
        ),
        Some(r) if r.contains("mfa") => format!(
            "Zadig refused {request} (HTTP 403, {r}): the token's user must pass multi-factor \
             authentication; generate a new API token after verifying"
        ),
        Some(r) => format!("Zadig refused {request} (HTTP 403, {r})"),
        None => match &request.project {
            Some(p) => format!(
                "no permission for {request} (HTTP 403): the token's user lacks the right on \
                 project `{p}`, or project `{p}` does not exist (Zadig answers both with an empty \
                 403)"
            ),
            None => format!(
                "no permission for {request} (HTTP 403): the token's user lacks the right, or the \
                 project does not exist"
            ),
        },
    }
}

fn name_taken_message(name: &str, other_project: Option<&str>) -> String {
    match other_project {
        Some(p) => format!(
            "the build name `{name}` is already taken by a build in project `{p}`: build names are \
             global across all Zadig projects; rename one of them (or, if `{p}` is this project, \
             the build was created since the plan was made)"
        ),
        None => format!(
            "the build name `{name}` is already taken (Zadig reported a duplicate name): build \
             names are global across all Zadig projects; rename one of them"
        ),
    }
}

fn rejected_message(request: &RequestDesc, code: i64, message: &str, description: &str) -> String {
    let detail = if description.is_empty() {
        message
    } else {
        description
    };
    match code {
        6520 | 6521 if request.method == "GET" => {
            format!("Zadig refused {request} (code {code}): {detail}")
        }
        6520 | 6521 => format!(
            "Zadig could not apply {request} (code {code}): {detail}. Usually a name in the \
             definition does not exist in Zadig (code host alias, build_os image label, cluster, \
             dockerfile template)"
        ),
        400 => format!("Zadig rejected {request} as a bad request: {detail}"),
        6522 => format!("Zadig failed to list builds for {request} (code 6522): {detail}"),
        _ => format!("Zadig refused {request} (code {code}): {detail}"),
    }
}

fn server_message(request: &RequestDesc, status: u16, description: Option<&str>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!("Zadig failed on {request} (HTTP {status}): {d}"),
        _ if status == 500 => format!(
            "Zadig failed on {request} (HTTP 500 with no detail: the server crashed handling it; a \
             known cause for reads is a build made outside the OpenAPI whose image or cluster no \
             longer exists, or a Jenkins build)"
        ),
        _ => format!(
            "Zadig (or a proxy in front of it) answered {request} with HTTP {status}: the service \
             is unavailable or overloaded; try again later"
        ),
    }
}

fn fmt_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        " with an empty body".to_owned()
    } else {
        format!(": {excerpt}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(kind: TransportKind) -> ApiError {
        ApiError::Transport {
            endpoint: "https://zadig.example.com:8443".to_owned(),
            request: Box::new(RequestDesc {
                method: "GET".to_owned(),
                path: "/openapi/projects/project".to_owned(),
                build: None,
                project: None,
                attempts: 1,
            }),
            kind,
            detail: "invalid peer certificate: UnknownIssuer".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn connection_failures_say_what_to_do() {
        let refused = transport(TransportKind::Refused).to_string();
        assert!(
            refused.starts_with("nothing answers at https://zadig.example.com:8443:"),
            "{refused}"
        );
        let not_tls = transport(TransportKind::NotTls).to_string();
        assert!(
            not_tls.contains("use http://zadig.example.com:8443"),
            "{not_tls}"
        );
        let tls = transport(TransportKind::Tls).to_string();
        assert!(
            tls.contains("UnknownIssuer") && tls.contains("--ca-cert"),
            "{tls}"
        );
        // Handshakes are not retried; a refused connection may be.
        assert!(!transport(TransportKind::NotTls).is_transient());
        assert!(!transport(TransportKind::Tls).is_transient());
        assert!(transport(TransportKind::Refused).is_transient());
    }
}
