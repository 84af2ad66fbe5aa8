//! The Zadig HTTP client's transport: every request zadig-sync makes goes
//! through here. The endpoints are in [`super::builds`] and
//! [`super::lookups`], `impl Client` blocks over the methods below.
//!
//! The client depends on the wire types and the two leaves ([`crate::scrub`],
//! [`crate::names`]) only: its configuration is built by the shell, its write
//! bodies are anything that serialises as the OpenAPI build.
//!
//! What it guarantees (build-api.md, build-api-one-read.md):
//! - it sends exactly what the server reads: the project of a write comes from
//!   the body `project_key` (`?projectKey=` is added too, harmlessly), deletes
//!   carry `name=` and `buildName=` and always `projectKey=`, template builds are
//!   updated only through `PUT /openapi/build/<name>/template`, path segments
//!   are URL-escaped and no URL ends with a slash;
//! - lists are read page by page until every entry counted by `total` has been
//!   seen, de-duplicated by name; anything short of a complete, consistent list
//!   is an error (callers prune from lists);
//! - GET, PUT and DELETE are retried with capped exponential backoff and
//!   jitter, within a time budget per request (60 s by default), on connection
//!   errors, timeouts, 429 (honouring `Retry-After`, which pauses the whole
//!   run), 502, 503 and 504; a create is never blindly repeated: after an
//!   ambiguous failure the build is read back and the create re-sent only if it
//!   is absent;
//! - an outage is reported once for the whole run, not once per request; a
//!   refused connection before Zadig ever answered fails after
//!   [`REFUSED_TRIES`] tries ("nothing answers at URL"), and a TLS failure
//!   (e.g. `https://` to a plain-HTTP server) is not retried at all;
//! - at most `concurrency` requests are in flight for the whole run, and a
//!   request waiting to retry holds no slot; `concurrency` is a ceiling: a
//!   429 or 503 halves the run's bound, good answers raise it again
//!   ([`super::adaptive`]);
//! - the token lives in a [`SecretString`], travels in a sensitive
//!   `Authorization` header and appears in no log line, error or debug dump.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use indexmap::IndexMap;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::adaptive::{Limiter, LimiterStats};
use super::error::{ApiError, RequestDesc, TransportKind};
pub use super::retry::RetryPolicy;
use super::retry::{Outage, Pacer, REFUSED_TRIES, Symptom, retry_after};
use super::wire::{BasicImage, Cluster, CodeHost, ErrorBody, NamedId, OpenApiCluster};
use crate::scrub::Scrubber;

/// Default page size for the build and project lists (Zadig's own default is 20).
pub const PAGE_SIZE: u32 = 100;

/// How many times a list is re-read from the start when it changes under us.
const LIST_ROUNDS: u32 = 3;

/// Default cap on one answer's body: 32 MiB (a project's listing page is a
/// few hundred KiB; a build detail a few KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// Most pages one listing may take: past it, the server "keeps sending pages".
pub const MAX_PAGES: u32 = 1000;

/// Most body bytes one listing may take, all pages together, in units of the
/// per-answer cap.
const LISTING_BUDGET_ANSWERS: u64 = 4;

/// Description of a create that had already-exists as its answer (§3.3).
const NAME_TAKEN_MARK: &str = "项目中有相同的构建名称存在";

/// How to reach Zadig.
#[derive(Clone)]
pub struct ClientConfig {
    /// Zadig root URL, e.g. `https://zadig.example.com` (a trailing slash is
    /// tolerated and removed).
    pub base_url: String,
    /// API token, sent as `Authorization: Bearer <token>`.
    pub token: SecretString,
    /// Most requests in flight at once, for the whole run.
    pub concurrency: usize,
    /// Per-request timeout (connect, send and read the whole answer).
    pub timeout: Duration,
    /// Extra CA certificates (PEM), added to the platform roots.
    pub ca_cert: Option<Vec<u8>>,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Entries per page of the build and project lists (default [`PAGE_SIZE`]).
    pub page_size: u32,
    /// Largest answer body read, checked while it streams (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: u64,
    /// Most pages one listing may take (default [`MAX_PAGES`]).
    pub max_pages: u32,
}

impl ClientConfig {
    /// A configuration with defaults: 8 requests in flight, 30 s timeout,
    /// platform CA roots, [`RetryPolicy::default`].
    pub fn new(base_url: impl Into<String>, token: SecretString) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            token,
            concurrency: 8,
            timeout: Duration::from_secs(30),
            ca_cert: None,
            retry: RetryPolicy::default(),
            page_size: PAGE_SIZE,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_pages: MAX_PAGES,
        }
    }
}

impl fmt::Debug for ClientConfig {
    // Hand-written so that no future field can leak the token through Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("ca_cert", &self.ca_cert.as_ref().map(|c| c.len()))
            .field("retry", &self.retry)
            .field("page_size", &self.page_size)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_pages", &self.max_pages)
            .finish()
    }
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Zadig confirmed it.
    Done,
    /// The create's answer was lost (timeout, broken connection or 5xx after
    /// sending) and a read-back showed that the build exists (or a re-send was
    /// refused as a duplicate in the same project): the first send committed.
    /// The caller should verify the content.
    ResolvedAfterAmbiguity,
}

/// Request families, for [`ClientStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Build list pages.
    List,
    /// OpenAPI build details.
    Detail,
    /// Stored-model reads.
    Stored,
    /// Run-wide look-ups (images, clusters, code hosts, templates, projects).
    Lookup,
    /// Creates, updates and deletes.
    Write,
}

impl RequestKind {
    const ALL: [RequestKind; 5] = [
        RequestKind::List,
        RequestKind::Detail,
        RequestKind::Stored,
        RequestKind::Lookup,
        RequestKind::Write,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Requests and retries of one [`RequestKind`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Of which retries (and re-sends after an ambiguous create).
    pub retries: u64,
}

/// Counters since the client was made (benchmarks print these).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Build list pages.
    pub list: KindStats,
    /// OpenAPI details.
    pub detail: KindStats,
    /// Stored-model reads.
    pub stored: KindStats,
    /// Look-ups.
    pub lookup: KindStats,
    /// Writes.
    pub write: KindStats,
    /// 429 answers received (each paused the whole run).
    pub throttled: u64,
    /// Creates whose answer was ambiguous and that were read back.
    pub ambiguous_writes: u64,
    /// Most requests seen in flight at once.
    pub peak_in_flight: usize,
    /// The adaptive concurrency: where it is, how low it went, how often it
    /// was halved after a 429 or 503.
    pub concurrency: LimiterStats,
}

impl fmt::Display for ClientStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} requests ({} retries):", self.requests, self.retries)?;
        for (label, k) in [
            ("list", self.list),
            ("detail", self.detail),
            ("stored", self.stored),
            ("lookup", self.lookup),
            ("write", self.write),
        ] {
            write!(f, " {label} {}", k.requests)?;
            if k.retries > 0 {
                write!(f, " (+{} retries)", k.retries)?;
            }
            f.write_str(",")?;
        }
        write!(
            f,
            " throttled {}, ambiguous writes {}, peak in flight {}, concurrency {} (lowest {}, halved {} times)",
            self.throttled,
            self.ambiguous_writes,
            self.peak_in_flight,
            self.concurrency.limit,
            self.concurrency.low,
            self.concurrency.decreases
        )
    }
}

#[derive(Default)]
pub(crate) struct Stats {
    requests: [AtomicU64; 5],
    retries: [AtomicU64; 5],
    throttled: AtomicU64,
    pub(crate) ambiguous: AtomicU64,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// Decrements the in-flight count even when the request future is dropped.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A client for one Zadig server, shared by the whole run (cheap to clone).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    /// Knows the token in all its forms.
    pub(crate) scrubber: Scrubber,
    timeout: Duration,
    retry: RetryPolicy,
    pub(crate) page_size: u32,
    max_response_bytes: u64,
    max_pages: u32,
    /// The run-wide bound: `concurrency` is its ceiling (AIMD on 429/503).
    permits: Limiter,
    concurrency: usize,
    pacer: Pacer,
    /// The outage in progress, shared by every request (one warning each).
    outage: Outage,
    /// Whether anything answered in this run: a refused connection is then
    /// an outage to wait out, not a wrong endpoint.
    answered: AtomicBool,
    pub(crate) stats: Stats,
    pub(super) basic_images: OnceCell<Arc<Vec<BasicImage>>>,
    pub(super) clusters: OnceCell<Arc<Vec<Cluster>>>,
    pub(super) openapi_clusters: OnceCell<Arc<Vec<OpenApiCluster>>>,
    pub(super) code_hosts: OnceCell<Arc<Vec<CodeHost>>>,
    pub(super) dockerfile_templates: OnceCell<Arc<Vec<NamedId>>>,
    pub(super) build_templates: OnceCell<Arc<Vec<NamedId>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.endpoint())
            .field("concurrency", &self.inner.concurrency)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// One request, ready to send (and re-send).
pub(crate) struct Req {
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
    kind: RequestKind,
    pub(crate) desc: RequestDesc,
}

/// A complete answer (or its first `max_response_bytes`, `too_large` set).
pub(crate) struct Raw {
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    too_large: bool,
}

/// A request that got no complete answer.
pub(crate) struct TransportFailure {
    kind: TransportKind,
    /// False only when the connection could not be made: nothing reached the server.
    pub(crate) maybe_sent: bool,
    detail: String,
}

impl Client {
    /// Builds the client. Fails on an unusable endpoint or CA certificate.
    /// Warns when the token would travel over plain http to a host that is not
    /// loopback.
    pub fn new(cfg: ClientConfig) -> Result<Client, ApiError> {
        // reqwest is built without a default crypto provider; a second
        // install (another client, a test) fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let base = parse_endpoint(&cfg.base_url)?;
        if cfg.concurrency == 0 {
            return Err(ApiError::Config {
                message: "concurrency must be at least 1".to_owned(),
            });
        }
        if cfg.timeout.is_zero() {
            return Err(ApiError::Config {
                message: "the request timeout must be more than 0 seconds".to_owned(),
            });
        }
        if base.scheme() == "http" && !is_loopback(&base) {
            tracing::warn!(
                host = base.host_str().unwrap_or_default(),
                "the API token will be sent over plain http to a host that is not this machine: \
                 anyone on the network path can read it; use an https:// endpoint"
            );
        }

        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("zadig-sync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .timeout(cfg.timeout)
            // A followed 301/302 turns a POST into a GET: report redirects instead.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &cfg.ca_cert {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ApiError::Config {
                    message: format!(
                        "the CA certificate is not valid PEM: {}",
                        error_chain(&e.without_url())
                    ),
                })?;
            if certs.is_empty() {
                return Err(ApiError::Config {
                    message: "the CA certificate file holds no PEM certificate".to_owned(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| ApiError::Config {
            message: format!(
                "cannot set up the HTTP client: {}",
                error_chain(&e.without_url())
            ),
        })?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                scrubber: Scrubber::with(cfg.token.expose_secret()),
                token: cfg.token,
                timeout: cfg.timeout,
                retry: cfg.retry,
                page_size: cfg.page_size.max(1),
                max_response_bytes: cfg.max_response_bytes.max(1),
                max_pages: cfg.max_pages.max(1),
                permits: Limiter::new(cfg.concurrency),
                concurrency: cfg.concurrency,
                pacer: Pacer::default(),
                outage: Outage::default(),
                answered: AtomicBool::new(false),
                stats: Stats::default(),
                basic_images: OnceCell::new(),
                clusters: OnceCell::new(),
                openapi_clusters: OnceCell::new(),
                code_hosts: OnceCell::new(),
                dockerfile_templates: OnceCell::new(),
                build_templates: OnceCell::new(),
            }),
        })
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> String {
        self.inner.base.as_str().trim_end_matches('/').to_owned()
    }

    /// The ceiling of requests in flight (`--concurrency`).
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// Counters since the client was made.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.stats;
        let kind = |k: RequestKind| KindStats {
            requests: s.requests[k.index()].load(Ordering::Relaxed),
            retries: s.retries[k.index()].load(Ordering::Relaxed),
        };
        let mut out = ClientStats {
            list: kind(RequestKind::List),
            detail: kind(RequestKind::Detail),
            stored: kind(RequestKind::Stored),
            lookup: kind(RequestKind::Lookup),
            write: kind(RequestKind::Write),
            throttled: s.throttled.load(Ordering::Relaxed),
            ambiguous_writes: s.ambiguous.load(Ordering::Relaxed),
            peak_in_flight: s.peak.load(Ordering::Relaxed),
            concurrency: self.inner.permits.stats(),
            ..ClientStats::default()
        };
        for k in RequestKind::ALL {
            out.requests += kind(k).requests;
            out.retries += kind(k).retries;
        }
        out
    }

    // ------------------------------------------------------------- machinery

    /// `base` + escaped path segments + query; never a trailing slash.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.inner.base.clone();
        // `parse_endpoint` rejected cannot-be-a-base URLs, so this always applies.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    pub(crate) fn request(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        kind: RequestKind,
        build: Option<&str>,
        project: Option<&str>,
    ) -> Req {
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        Req {
            desc: RequestDesc {
                method: method.as_str().to_owned(),
                path,
                build: build.map(str::to_owned),
                project: project.map(str::to_owned),
                attempts: 1,
            },
            method,
            url,
            body,
            kind,
        }
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        kind: RequestKind,
        url: Url,
        build: Option<&str>,
        project: Option<&str>,
    ) -> Result<T, ApiError> {
        self.get_json_sized(kind, url, build, project)
            .await
            .map(|(v, _)| v)
    }

    /// [`Client::get_json`], with the size of the body read.
    pub(crate) async fn get_json_sized<T: DeserializeOwned>(
        &self,
        kind: RequestKind,
        url: Url,
        build: Option<&str>,
        project: Option<&str>,
    ) -> Result<(T, usize), ApiError> {
        let req = self.request(Method::GET, url, None, kind, build, project);
        let raw = self.send(&req).await?;
        let v = decode(&raw.body, &req.desc, &self.inner.scrubber)?;
        Ok((v, raw.body.len()))
    }

    /// A look-up answering a JSON array (`null` read as empty).
    pub(super) async fn lookup_array<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<Vec<T>, ApiError> {
        let v: Option<Vec<T>> = self.get_json(RequestKind::Lookup, url, None, None).await?;
        Ok(v.unwrap_or_default())
    }

    /// One send: waits for the run-wide gate and a concurrency slot, sends, and
    /// reads the whole answer. The slot is released on return.
    pub(crate) async fn attempt(&self, req: &Req) -> Result<Raw, TransportFailure> {
        let inner = &*self.inner;
        let permit = loop {
            inner.pacer.wait().await;
            let permit = inner
                .permits
                .acquire()
                .await
                .map_err(|_| TransportFailure {
                    kind: TransportKind::Other,
                    maybe_sent: false,
                    detail: "the client is shut down".to_owned(),
                })?;
            // A 429 may have closed the gate while we waited for the slot.
            if inner.pacer.wait_until().is_none() {
                break permit;
            }
        };
        let _in_flight = InFlight::enter(&inner.stats);
        inner.stats.requests[req.kind.index()].fetch_add(1, Ordering::Relaxed);

        let started = Instant::now();
        let mut builder = inner
            .http
            .request(req.method.clone(), req.url.clone())
            .bearer_auth(inner.token.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let limit = inner.max_response_bytes;
        let result = async {
            let mut resp = builder.send().await?;
            // The rate signal is the status, known before the body.
            if matches!(resp.status().as_u16(), 429 | 503) {
                if inner.permits.overloaded(&permit) {
                    tracing::debug!(
                        status = resp.status().as_u16(),
                        concurrency = inner.permits.stats().limit,
                        "Zadig is overloaded: lowering the concurrency"
                    );
                }
            } else {
                inner.permits.good();
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            // Checked while streaming: a body past the cap is never held whole.
            let announced = resp.content_length().unwrap_or(0);
            let mut body =
                Vec::with_capacity(usize::try_from(announced.min(limit).min(1 << 20)).unwrap_or(0));
            let mut too_large = announced > limit;
            while !too_large && let Some(chunk) = resp.chunk().await? {
                let room = usize::try_from(limit).unwrap_or(usize::MAX) - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    too_large = true;
                } else {
                    body.extend_from_slice(&chunk);
                }
            }
            Ok::<_, reqwest::Error>(Raw {
                status,
                headers,
                body,
                too_large,
            })
        }
        .await;
        let elapsed_ms = started.elapsed().as_millis();
        match result {
            Ok(raw) => {
                inner.answered.store(true, Ordering::Relaxed);
                tracing::debug!(
                    method = %req.method,
                    path = %req.desc.path,
                    status = raw.status.as_u16(),
                    elapsed_ms,
                    "zadig request"
                );
                Ok(raw)
            }
            Err(e) => {
                let e = e.without_url();
                let (kind, maybe_sent) = if let Some(kind) = tls_failure(&e) {
                    (kind, false)
                } else if e.is_connect() && refused(&e) {
                    (TransportKind::Refused, false)
                } else if e.is_connect() {
                    (TransportKind::Connect, false)
                } else if e.is_timeout() {
                    (TransportKind::Timeout, true)
                } else {
                    (TransportKind::Other, true)
                };
                let detail = self.scrub(error_chain(&e));
                tracing::debug!(
                    method = %req.method,
                    path = %req.desc.path,
                    elapsed_ms,
                    error = %detail,
                    "zadig request failed"
                );
                Err(TransportFailure {
                    kind,
                    maybe_sent,
                    detail,
                })
            }
        }
    }

    /// Sends an idempotent request (GET, PUT, DELETE) with retries; `Ok` only
    /// for a 2xx answer.
    pub(crate) async fn send(&self, req: &Req) -> Result<Raw, ApiError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (err, wait_at_least) = match self.attempt(req).await {
                Ok(raw) if raw.too_large => {
                    self.outage_over();
                    return Err(self.too_large(&req.desc).with_attempts(attempt));
                }
                Ok(raw) if raw.status.is_success() => {
                    self.outage_over();
                    return match self.error_in_success(&raw, &req.desc) {
                        Some(err) => Err(err.with_attempts(attempt)),
                        None => Ok(raw),
                    };
                }
                Ok(raw) if retryable_status(raw.status) => {
                    let ra = self.note_throttle(&raw);
                    (self.error_for(&raw, &req.desc), ra)
                }
                Ok(raw) => {
                    self.outage_over();
                    return Err(self.error_for(&raw, &req.desc).with_attempts(attempt));
                }
                Err(t) => (self.transport_error(t, &req.desc), None),
            };
            match self.retry_delay(attempt, started, wait_at_least, &err) {
                Some(delay) => self.before_retry(req, attempt, delay, &err).await,
                None => return Err(err.with_attempts(attempt)),
            }
        }
    }

    /// A create: never blindly repeated. It is sent again only when it was
    /// certainly not processed (a 429, a connection never made), or when,
    /// after a lost answer, a read-back ([`Creation::exists`]) shows the
    /// resource absent. One loop for every kind: the kind says how its
    /// errors read and how to look for what it creates ([`Creation`]).
    pub(crate) async fn create_once(
        &self,
        req: Req,
        what: &impl Creation,
    ) -> Result<WriteOutcome, ApiError> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut ambiguous = false;
        loop {
            attempt += 1;
            let (err, wait_at_least) = match self.attempt(&req).await {
                Ok(raw) if raw.status.is_success() => {
                    self.outage_over();
                    match self.error_in_success(&raw, &req.desc) {
                        None => return Ok(WriteOutcome::Done),
                        Some(err) => {
                            let err = what.classify(err);
                            return self.after_refusal(what, err, ambiguous, attempt).await;
                        }
                    }
                }
                // Refused before being processed: safe to send again after the wait.
                Ok(raw) if raw.status == StatusCode::TOO_MANY_REQUESTS => {
                    let ra = self.note_throttle(&raw);
                    (self.error_for(&raw, &req.desc), ra)
                }
                Ok(raw) if raw.status.is_server_error() => {
                    let err = what.classify(self.error_for(&raw, &req.desc));
                    // A JSON 500 with a description is aslan's own verdict (an
                    // unknown template, a duplicate name): a re-send would fail
                    // the same way.
                    let definitive = what.definitive(&err)
                        || matches!(
                            &err,
                            ApiError::Server { description: Some(d), .. } if !d.is_empty()
                        );
                    ambiguous = true;
                    match self.resolve_ambiguity(&req, what, err, attempt).await? {
                        Resolution::Exists => return Ok(WriteOutcome::ResolvedAfterAmbiguity),
                        Resolution::Absent(err) if definitive => {
                            return Err(err.with_attempts(attempt));
                        }
                        Resolution::Absent(err) => (err, None),
                    }
                }
                Ok(raw) => {
                    self.outage_over();
                    let err = what.classify(self.error_for(&raw, &req.desc));
                    return self.after_refusal(what, err, ambiguous, attempt).await;
                }
                Err(t) if !t.maybe_sent => (self.transport_error(t, &req.desc), None),
                Err(t) => {
                    let err = self.transport_error(t, &req.desc);
                    ambiguous = true;
                    match self.resolve_ambiguity(&req, what, err, attempt).await? {
                        Resolution::Exists => return Ok(WriteOutcome::ResolvedAfterAmbiguity),
                        Resolution::Absent(err) => (err, None),
                    }
                }
            };
            match self.retry_delay(attempt, started, wait_at_least, &err) {
                Some(delay) => self.before_retry(&req, attempt, delay, &err).await,
                None => return Err(err.with_attempts(attempt)),
            }
        }
    }

    /// A create got a definitive refusal. After an earlier ambiguous send, a
    /// duplicate-name refusal can mean that send committed
    /// ([`Creation::committed`]).
    async fn after_refusal(
        &self,
        what: &impl Creation,
        err: ApiError,
        ambiguous: bool,
        attempt: u32,
    ) -> Result<WriteOutcome, ApiError> {
        if ambiguous && what.committed(self, &err).await {
            tracing::info!(
                name = what.name(),
                "the re-sent create of this {} was refused as a duplicate: the first send committed",
                what.noun()
            );
            return Ok(WriteOutcome::ResolvedAfterAmbiguity);
        }
        Err(err.with_attempts(attempt))
    }

    async fn resolve_ambiguity(
        &self,
        req: &Req,
        what: &impl Creation,
        err: ApiError,
        attempt: u32,
    ) -> Result<Resolution, ApiError> {
        self.inner.stats.ambiguous.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            name = what.name(),
            error = %err,
            "the answer to the create of this {} was lost; reading it back before deciding to re-send",
            what.noun()
        );
        match what.exists(self).await {
            Ok(true) => {
                tracing::info!(name = what.name(), "it exists: the create committed");
                Ok(Resolution::Exists)
            }
            Ok(false) => Ok(Resolution::Absent(err)),
            Err(read_back) => {
                let mut request = req.desc.clone();
                request.attempts = attempt;
                Err(ApiError::AmbiguousWrite {
                    request: Box::new(request),
                    name: what.name().to_owned(),
                    cause: Box::new(err),
                    read_back: Box::new(read_back),
                })
            }
        }
    }

    /// Records a 429 and closes the run-wide gate; returns `Retry-After`.
    pub(crate) fn note_throttle(&self, raw: &Raw) -> Option<Duration> {
        if raw.status != StatusCode::TOO_MANY_REQUESTS {
            return None;
        }
        self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
        Some(retry_after(&raw.headers).unwrap_or(self.inner.retry.base_delay))
    }

    /// An answer that is not part of an outage came: ends the outage.
    pub(crate) fn outage_over(&self) {
        if let Some(lasted) = self.inner.outage.answered(Instant::now()) {
            tracing::info!(
                lasted_s = lasted.as_secs(),
                "Zadig answers again after {} s",
                lasted.as_secs()
            );
        }
    }

    /// The delay before the next attempt after `err`, or `None` when it is not
    /// worth retrying or the budget is spent. Reports the outage (once).
    pub(crate) fn retry_delay(
        &self,
        attempt: u32,
        started: Instant,
        wait_at_least: Option<Duration>,
        err: &ApiError,
    ) -> Option<Duration> {
        let policy = &self.inner.retry;
        let symptom = match err {
            ApiError::Transport { kind, .. } => match kind {
                // Retrying a handshake gives the same answer.
                TransportKind::NotTls | TransportKind::Tls => return None,
                TransportKind::Refused | TransportKind::Connect
                    if !self.inner.answered.load(Ordering::Relaxed) && attempt >= REFUSED_TRIES =>
                {
                    return None;
                }
                TransportKind::Refused => Symptom::Refused,
                TransportKind::Timeout => Symptom::Timeout,
                TransportKind::Connect | TransportKind::Other => Symptom::Dropped,
            },
            other => Symptom::Status(other.status().unwrap_or(503)),
        };
        if attempt >= policy.max_attempts {
            return None;
        }
        let delay = policy
            .backoff(attempt)
            .max(wait_at_least.unwrap_or_default());
        if started.elapsed() + delay > policy.max_total {
            return None;
        }
        if let Some(ra) = wait_at_least
            && !ra.is_zero()
        {
            // 429: the whole run waits what the server asked, not only this
            // request (which also backs off). `Retry-After: 0` pauses no one:
            // the halved concurrency is then the whole run's answer.
            tracing::debug!(
                wait_ms = u64::try_from(ra.as_millis()).unwrap_or(u64::MAX),
                retry_after_s = ra.as_secs(),
                "Zadig asked to slow down (HTTP 429): pausing every request"
            );
            self.inner.pacer.push(ra);
        }
        if let Some(warning) = self
            .inner
            .outage
            .failed(symptom, Instant::now(), policy.max_total)
        {
            tracing::warn!("{warning}");
        }
        Some(delay)
    }

    pub(crate) async fn before_retry(
        &self,
        req: &Req,
        attempt: u32,
        delay: Duration,
        err: &ApiError,
    ) {
        self.inner.stats.retries[req.kind.index()].fetch_add(1, Ordering::Relaxed);
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        // One warning per outage comes from `retry_delay`; each retry is debug.
        tracing::debug!(
            method = %req.method, path = %req.desc.path, attempt, delay_ms, error = %err,
            "retrying"
        );
        // No concurrency slot is held here: `attempt` released it.
        tokio::time::sleep(delay).await;
    }

    pub(crate) fn transport_error(&self, t: TransportFailure, desc: &RequestDesc) -> ApiError {
        ApiError::Transport {
            endpoint: self.endpoint(),
            request: Box::new(desc.clone()),
            kind: t.kind,
            detail: t.detail,
            timeout: self.inner.timeout,
        }
    }

    /// Turns a non-2xx answer into a typed error (build-api.md §3). Branches on
    /// status and `code`; the description is only displayed, except to tell
    /// "already exists" and "not found" apart from other 6520/6521 failures.
    pub(crate) fn error_for(&self, raw: &Raw, desc: &RequestDesc) -> ApiError {
        let request = Box::new(desc.clone());
        let status = raw.status.as_u16();
        let text = String::from_utf8_lossy(&raw.body);
        let trimmed = text.trim();
        let json: Option<ErrorBody> = if trimmed.starts_with('{') {
            serde_json::from_str(trimmed).ok()
        } else {
            None
        };
        let is_put = desc.method == "PUT";
        match status {
            300..=399 => ApiError::Redirected {
                request,
                status,
                location: raw
                    .headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(|l| self.excerpt(l.split(['?', '#']).next().unwrap_or_default()))
                    .unwrap_or_else(|| "(no Location header)".to_owned()),
            },
            400 if trimmed.is_empty() => ApiError::EmptyBadRequest { request },
            400 => match json {
                Some(body) => self.business_error(request, body),
                None => ApiError::UnexpectedStatus {
                    request,
                    status,
                    excerpt: self.excerpt(trimmed),
                },
            },
            401 => ApiError::Unauthorized { request },
            403 => {
                let reason = raw
                    .headers
                    .get("x-zadig-auth-reason")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .or_else(|| {
                        serde_json::from_str::<Value>(trimmed)
                            .ok()
                            .and_then(|v| v.get("reason")?.as_str().map(str::to_owned))
                    })
                    .map(|r| self.excerpt(&r));
                ApiError::Forbidden { request, reason }
            }
            404 | 405 => match json {
                // Not aslan's build OpenAPI today, but a JSON not-found may come (PR #4922).
                Some(body) if body.code != 0 => self.business_error(request, body),
                _ if is_put => ApiError::UnsupportedServer { request, status },
                _ => ApiError::RouteNotFound {
                    request,
                    status,
                    body: self.excerpt(trimmed.lines().next().unwrap_or_default()),
                },
            },
            429 => ApiError::RateLimited {
                request,
                retry_after: retry_after(&raw.headers),
            },
            500..=599 => ApiError::Server {
                request,
                status,
                code: json.as_ref().map(|b| b.code).filter(|c| *c != 0),
                description: json
                    .map(|b| self.excerpt_long(&b.description))
                    .filter(|d| !d.is_empty()),
            },
            _ => ApiError::UnexpectedStatus {
                request,
                status,
                excerpt: self.excerpt(trimmed),
            },
        }
    }

    fn business_error(&self, request: Box<RequestDesc>, body: ErrorBody) -> ApiError {
        let description = self.excerpt_long(&body.description);
        let body = ErrorBody {
            message: self.excerpt_long(&body.message),
            ..body
        };
        match body.code {
            6520 => match name_taken(&description) {
                Some(other_project) => ApiError::NameTaken {
                    name: request.build.clone().unwrap_or_default(),
                    other_project,
                },
                None => ApiError::Rejected {
                    request,
                    code: 6520,
                    message: body.message,
                    description,
                },
            },
            // 6521 also covers resolution failures of an update (code host, image, …).
            6521 if description.contains("failed to find build module") => ApiError::NotFound {
                request,
                code: 6521,
                description,
            },
            6523 => ApiError::NotFound {
                request,
                code: 6523,
                description,
            },
            6524 => ApiError::Referenced {
                request,
                description,
            },
            7050 => ApiError::LicenceRequired { request },
            code => ApiError::Rejected {
                request,
                code,
                message: body.message,
                description,
            },
        }
    }

    /// The start of a text from the server, on one line, token removed
    /// first, then cut to 200 characters.
    pub(crate) fn excerpt(&self, text: &str) -> String {
        self.inner.scrubber.excerpt(text, 200)
    }

    /// A server's description or message: token removed first, then cut to
    /// 2,000 characters (it is shown whole when it is reasonable).
    fn excerpt_long(&self, text: &str) -> String {
        self.inner.scrubber.excerpt(text, 2000)
    }

    /// Removes the token from text that came from elsewhere (a proxy echoing
    /// headers, an error chain), in case it ever shows up there.
    fn scrub(&self, text: String) -> String {
        self.inner.scrubber.scrub_string(text)
    }

    fn too_large(&self, desc: &RequestDesc) -> ApiError {
        ApiError::ResponseTooLarge {
            request: Box::new(desc.clone()),
            limit: self.inner.max_response_bytes,
        }
    }

    /// A 2xx answer whose body is a Zadig error object (`{"code":6521,…}`):
    /// that error, never an empty result.
    pub(crate) fn error_in_success(&self, raw: &Raw, desc: &RequestDesc) -> Option<ApiError> {
        let body = error_object(&raw.body)?;
        Some(self.business_error(Box::new(desc.clone()), body))
    }

    /// Reads every page of a paginated list until all `total` entries are seen
    /// (de-duplicated by `key`), re-reading from the start when the list
    /// changes under us; an error rather than a partial list.
    pub(crate) async fn read_all_pages<T, K, F, Fut>(
        &self,
        what: &str,
        kind: RequestKind,
        key: K,
        fetch: F,
    ) -> Result<Vec<T>, ApiError>
    where
        K: Fn(&T) -> String,
        F: Fn(u32) -> Fut,
        Fut: Future<Output = Result<(i64, Vec<T>, usize), ApiError>>,
    {
        let budget = self.inner.max_response_bytes * LISTING_BUDGET_ANSWERS;
        let max_pages = self.inner.max_pages;
        let runaway = |reason: String| ApiError::IncompleteListing {
            what: what.to_owned(),
            reason,
        };
        let mut reason = String::new();
        for round in 1..=LIST_ROUNDS {
            if round > 1 {
                tracing::debug!(
                    what,
                    round,
                    reason = %reason,
                    "re-reading a list that changed while it was read"
                );
                // Counted as one retry per re-read.
                self.inner.stats.retries[kind.index()].fetch_add(1, Ordering::Relaxed);
            }
            let (total, first, mut bytes) = fetch(1).await?;
            let Ok(expected) = usize::try_from(total) else {
                reason = format!("Zadig reported a negative total ({total})");
                continue;
            };
            let mut seen: IndexMap<String, T> = IndexMap::with_capacity(expected.min(4096));
            for item in first {
                seen.entry(key(&item)).or_insert(item);
            }
            // More than announced: the list changed between the count and
            // the page, or the server is lying. Read again (bounded).
            if seen.len() > expected {
                reason = format!(
                    "the server sent {} entries on the first page but announced a total of \
                     {total}",
                    seen.len()
                );
                continue;
            }
            // Read on until every counted entry is seen. A page that brings nothing
            // new (empty, or a server that caps or ignores the page size) ends it.
            let mut stalled = seen.is_empty();
            let mut page = 1u32;
            let mut changed = None;
            while seen.len() < expected && !stalled {
                page += 1;
                if page > max_pages {
                    return Err(runaway(format!(
                        "the server keeps sending pages ({max_pages} read, {} of the announced \
                         {total} entries seen)",
                        seen.len()
                    )));
                }
                let (t, items, size) = fetch(page).await?;
                bytes += size;
                if u64::try_from(bytes).unwrap_or(u64::MAX) > budget {
                    return Err(runaway(format!(
                        "the server sent more than {} MiB of pages",
                        budget / (1024 * 1024)
                    )));
                }
                if t != total {
                    changed = Some(format!(
                        "the total went from {total} to {t} while the pages were read (entries were \
                         created or deleted meanwhile)"
                    ));
                    break;
                }
                let before = seen.len();
                for item in items {
                    seen.entry(key(&item)).or_insert(item);
                }
                if seen.len() > expected {
                    changed = Some(format!(
                        "the server sent more entries than its announced total ({total})"
                    ));
                    break;
                }
                stalled = seen.len() == before;
            }
            if let Some(c) = changed {
                reason = c;
                continue;
            }
            if seen.len() != expected {
                reason = format!(
                    "Zadig reported {expected} entries but its pages held {} distinct ones",
                    seen.len()
                );
                continue;
            }
            return Ok(seen.into_values().collect());
        }
        tracing::warn!(what, reason = %reason, "giving up on an inconsistent list");
        Err(ApiError::IncompleteListing {
            what: what.to_owned(),
            reason: format!("{reason} (read {LIST_ROUNDS} times)"),
        })
    }
}

/// What a kind's create needs of [`Client::create_once`]: how its errors
/// read and how to look for what it creates after a lost answer.
pub(crate) trait Creation: Sync {
    /// The name of what is created.
    fn name(&self) -> &str;
    /// `build`, `build template`: for the log.
    fn noun(&self) -> &'static str;
    /// The kind's reading of an error (a duplicate name in its own words).
    fn classify(&self, err: ApiError) -> ApiError {
        err
    }
    /// Whether a server error is a verdict that a re-send cannot change,
    /// beyond aslan's JSON 500 with a description (always one).
    fn definitive(&self, _err: &ApiError) -> bool {
        false
    }
    /// Whether it exists now (the read-back after a lost answer).
    fn exists(&self, client: &Client) -> impl Future<Output = Result<bool, ApiError>> + Send;
    /// After an ambiguous send, whether the refusal `err` of the re-send
    /// means that the first send committed.
    fn committed(&self, client: &Client, err: &ApiError) -> impl Future<Output = bool> + Send;
}

enum Resolution {
    /// It exists: the create committed.
    Exists,
    /// It does not: the create may be sent again.
    Absent(ApiError),
}

fn retryable_status(s: StatusCode) -> bool {
    matches!(s.as_u16(), 429 | 502 | 503 | 504)
}

/// Parses and checks the endpoint; errors never echo it (it could hold
/// credentials).
fn parse_endpoint(raw: &str) -> Result<Url, ApiError> {
    let bad = |why: &str| ApiError::Config {
        message: format!("the endpoint {why}; write it like https://zadig.example.com"),
    };
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must not carry a query string or fragment (pass the token with ZADIG_TOKEN or \
             --token-file)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not contain user:password@ (pass the token with ZADIG_TOKEN or --token-file)",
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A JSON body as bytes (an error names the build or template).
pub(crate) fn to_bytes(v: &Value, name: &str) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(v).map_err(|e| ApiError::InvalidArgument {
        message: format!("build `{name}` cannot be encoded as JSON: {e}"),
    })
}

pub(crate) fn non_empty(what: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::InvalidArgument {
            message: format!("the {what} is empty"),
        });
    }
    Ok(())
}

/// `Some(other project)` when a 6520 description says the name exists
/// (`<project>项目中有相同的构建名称存在,请检查!`, or a raw E11000 duplicate
/// key from the create race, which names no project).
fn name_taken(description: &str) -> Option<Option<String>> {
    if let Some(i) = description.find(NAME_TAKEN_MARK) {
        let project = description[..i].trim();
        return Some((!project.is_empty()).then(|| project.to_owned()));
    }
    if description.contains("E11000") || description.contains("duplicate key") {
        return Some(None);
    }
    None
}

pub(super) fn check_count(what: &str, total: i64, got: usize) -> Result<(), ApiError> {
    if usize::try_from(total).is_ok_and(|t| t > got) {
        return Err(ApiError::IncompleteListing {
            what: format!("the {what}"),
            reason: format!("Zadig reported {total} but returned {got}"),
        });
    }
    Ok(())
}

/// Decodes JSON with the path of the offending value in the error. serde
/// quotes the offending value: the message is scrubbed, then cut.
///
/// The path is tracked only when the plain decode fails: tracking it costs
/// every answer (it was 6% of a plan's CPU, issue 13) and is needed by none
/// that decodes. Both passes read the same bytes with the same types, so the
/// second fails where the first did.
pub fn decode<T: DeserializeOwned>(
    body: &[u8],
    desc: &RequestDesc,
    scrubber: &Scrubber,
) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| ApiError::Decode {
        request: Box::new(desc.clone()),
        at: scrubber.excerpt(&e.path().to_string(), 200),
        message: scrubber.excerpt(&e.inner().to_string(), 300),
    })
}

/// The Zadig error object a body holds, if it is one: a JSON object with a
/// non-zero `code` and nothing but the error fields (`code`, `message`,
/// `description`, `extra`, `type`, `reason`), a message or description among
/// them. No build, list or look-up answer has that shape.
pub fn error_object(body: &[u8]) -> Option<ErrorBody> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    const KNOWN: [&str; 6] = ["code", "message", "description", "extra", "type", "reason"];
    /// The top-level fields, read only while they are error fields: every
    /// 2xx answer passes here, and a build's answer is given up at its first
    /// key instead of being parsed whole into a tree of values.
    struct Fields(serde_json::Map<String, Value>);
    impl<'de> serde::Deserialize<'de> for Fields {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Fields;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an error object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut access: A,
                ) -> Result<Fields, A::Error> {
                    let mut map = serde_json::Map::new();
                    while let Some(key) = access.next_key::<String>()? {
                        if !KNOWN.contains(&key.as_str()) {
                            return Err(serde::de::Error::custom("not an error field"));
                        }
                        let value: Value = access.next_value()?;
                        map.insert(key, value);
                    }
                    Ok(Fields(map))
                }
            }
            d.deserialize_map(V)
        }
    }
    let map = serde_json::from_slice::<Fields>(body).ok()?.0;
    let code = map.get("code")?.as_i64()?;
    let has_text = map.contains_key("message") || map.contains_key("description");
    if code == 0 || !has_text {
        return None;
    }
    serde_json::from_value(Value::Object(map)).ok()
}

/// Refuses a name Zadig's API cannot address in a URL path (`.`, `..`, `\`,
/// control characters, surrounding spaces): such a request would reach
/// another route, or another build.
pub(super) fn addressable(name: &str) -> Result<(), ApiError> {
    match crate::names::unaddressable_name(name) {
        None => Ok(()),
        Some(why) => Err(ApiError::Unaddressable {
            name: crate::names::shown_name(name),
            why: why.to_owned(),
        }),
    }
}

/// An error and its sources, `: `-joined, without repeats.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = s.source();
    }
    out
}

/// The rustls error in an error chain, if any. rustls reports through
/// `io::Error`s nested in `io::Error`s, whose `source()` skips the wrapped
/// error: look inside them with `get_ref`.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => None,
            },
            None => err.source(),
        };
    }
    None
}

/// A failed TLS handshake: [`TransportKind::NotTls`] when the answer was not
/// TLS at all (a plain-HTTP server answers a ClientHello with `HTTP/1.1 400`,
/// which rustls reads as a corrupt record), else [`TransportKind::Tls`].
fn tls_failure(e: &reqwest::Error) -> Option<TransportKind> {
    Some(match rustls_error(e)? {
        rustls::Error::InvalidMessage(_) => TransportKind::NotTls,
        _ => TransportKind::Tls,
    })
}

/// Whether the connection was refused (nothing listens on the port).
fn refused(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_taken_parses_the_other_project() {
        assert_eq!(
            name_taken("demo项目中有相同的构建名称存在,请检查!"),
            Some(Some("demo".to_owned()))
        );
        assert_eq!(
            name_taken("E11000 duplicate key error collection: zadig.module_build"),
            Some(None)
        );
        assert_eq!(
            name_taken("failed to find the basic image of name: x"),
            None
        );
    }

    #[test]
    fn endpoint_checks_do_not_echo_the_url() {
        for bad in [
            "https://user:s3cr3t@zadig.example.com",
            "https://zadig.example.com/?token=s3cr3t",
            "ftp://zadig.example.com",
            "not a url s3cr3t",
        ] {
            let e = parse_endpoint(bad).expect_err(bad).to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
        assert!(parse_endpoint("https://zadig.example.com/").is_ok());
    }

    #[test]
    fn a_zadig_error_object_is_told_from_an_answer() {
        let e = error_object(br#"{"code":6521,"description":"gone","message":"x"}"#)
            .expect("an error object");
        assert_eq!(e.code, 6521);
        // Every error field may be there; a repeated one counts last, as in a map.
        let e = error_object(
            br#" {"code":1,"code":6520,"message":"m","extra":{},"type":"error","reason":"r"}"#,
        )
        .expect("an error object");
        assert_eq!((e.code, e.message.as_str()), (6520, "m"));
        assert_eq!(e.error_type.as_deref(), Some("error"));
        for not in [
            &br#"{"total":0,"builds":[]}"#[..],
            br#"{"name":"b","code":6521,"message":"x"}"#,
            br#"{"code":6521,"message":"x"} trailing"#,
            br#"{"code":6521,"message":"x""#,
            br#"{"code":0,"message":"success"}"#,
            br#"{"code":6521,"message":"x","builds":[]}"#,
            br#"{"code":6521}"#,
            br#"[{"code":1,"message":"x"}]"#,
            b"not json",
        ] {
            assert!(
                error_object(not).is_none(),
                "{}",
                String::from_utf8_lossy(not)
            );
        }
    }

    #[test]
    fn decode_errors_are_scrubbed_then_cut() {
        let desc = RequestDesc {
            method: "GET".into(),
            path: "/x".into(),
            build: None,
            project: None,
            attempts: 1,
        };
        let token = "tok-0123456789abcdef";
        let body = format!(
            r#"{{"total":"auth was Bearer {token}{}"}}"#,
            "y".repeat(5000)
        );
        let err = decode::<super::super::wire::BuildListResp>(
            body.as_bytes(),
            &desc,
            &Scrubber::with(token),
        )
        .expect_err("a string total");
        let text = err.to_string();
        assert!(!text.contains("0123456789"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(text.len() < 1000, "{}", text.len());
    }

    #[test]
    fn unaddressable_names_are_never_sent() {
        for name in [".", "..", "a\\b", "a\nb", " a"] {
            assert!(
                matches!(addressable(name), Err(ApiError::Unaddressable { .. })),
                "{name:?}"
            );
        }
        assert!(addressable("demo-api.v2").is_ok());
    }

    #[test]
    fn loopback_hosts() {
        for (u, want) in [
            ("http://localhost:8080", true),
            ("http://127.0.0.1", true),
            ("http://[::1]:1", true),
            ("http://zadig.example.com", false),
            ("http://10.0.0.1", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).expect("url")), want, "{u}");
        }
    }
}
