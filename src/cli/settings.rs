//! Flags, environment and `zadig-sync.yaml` resolved into settings, before any
//! command does work.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use secrecy::SecretString;

use super::args::GlobalArgs;

/// Logging to stderr: `-v` info, `-vv` debug, `-vvv` trace; `ZADIG_SYNC_LOG`
/// (an `EnvFilter` directive) overrides. Never stdout: that is for results.
pub fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "zadig_sync=info",
        (false, 2) => "zadig_sync=debug",
        (false, _) => "zadig_sync=trace",
    };
    let filter = std::env::var("ZADIG_SYNC_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let ansi = match global.color {
        super::args::ColorChoice::Always => true,
        super::args::ColorChoice::Never => false,
        super::args::ColorChoice::Auto => {
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(super::redact::ScrubbedStderr)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Where requests go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Zadig server.
    Server {
        /// Base URL, without a trailing slash.
        endpoint: String,
        /// API token.
        token: SecretString,
    },
    /// An in-process emulator, optionally backed by a state file.
    Emulator {
        /// State file; `None` for a throw-away emulator seeded from the
        /// definition directory's `emulator-seed.json` when present.
        state: Option<PathBuf>,
    },
}

/// How to reach Zadig.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Server or emulator.
    pub target: Target,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Extra CA certificate.
    pub ca_cert: Option<PathBuf>,
    /// Largest answer body read, in bytes (`--max-response-mib`).
    pub max_response_bytes: u64,
    /// Time one request may spend on retries (`--retry-budget`).
    pub retry_budget: Duration,
}

impl Connection {
    /// Resolves the connection from the flags, the environment and the
    /// directory's configured endpoint (lowest precedence).
    pub fn resolve(global: &GlobalArgs, config_endpoint: Option<&str>) -> anyhow::Result<Self> {
        let target = match &global.emulator {
            Some(state) => Target::Emulator {
                state: state.clone(),
            },
            None => {
                let endpoint = global
                    .endpoint
                    .clone()
                    .or_else(|| config_endpoint.map(str::to_owned))
                    .filter(|e| !e.trim().is_empty());
                let Some(endpoint) = endpoint else {
                    bail!(
                        "no Zadig endpoint: set `endpoint:` in zadig-sync.yaml, ZADIG_ENDPOINT or --endpoint \
                         (or use --emulator to try against a local emulator)"
                    );
                };
                let token = read_token(global)?;
                Target::Server {
                    endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
                    token,
                }
            }
        };
        Ok(Connection {
            target,
            concurrency: usize::from(global.concurrency),
            timeout: Duration::from_secs(global.timeout),
            ca_cert: global.ca_cert.clone(),
            max_response_bytes: global.max_response_mib * 1024 * 1024,
            retry_budget: Duration::from_secs(global.retry_budget),
        })
    }
}

/// The token from `--token-file`, else `ZADIG_TOKEN`. Never echoed.
fn read_token(global: &GlobalArgs) -> anyhow::Result<SecretString> {
    let raw = match &global.token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?,
        None => match std::env::var("ZADIG_TOKEN") {
            Ok(v) => v,
            Err(_) => bail!(
                "no API token: set ZADIG_TOKEN or pass --token-file FILE \
                 (Zadig: account settings > API token)"
            ),
        },
    };
    let token = raw.trim();
    if token.is_empty() {
        bail!("the API token is empty (ZADIG_TOKEN or --token-file)");
    }
    check_token(token)?;
    super::redact::add_secret(token);
    Ok(SecretString::from(token.to_owned()))
}

/// Shortest token accepted: Zadig's API tokens are JWTs, far longer; a shorter
/// value is a mistake (and could not be masked in output without garbling it).
pub const MIN_TOKEN_LEN: usize = 16;

/// Refuses a token that cannot be a Zadig API token, before any request.
/// Messages never echo it.
pub fn check_token(token: &str) -> anyhow::Result<()> {
    if token.chars().any(char::is_control) {
        bail!(
            "the API token contains control characters (ZADIG_TOKEN or --token-file); \
             it cannot be sent in an HTTP header: copy it again from Zadig"
        );
    }
    if token.chars().any(char::is_whitespace) {
        bail!("the API token contains white space; Zadig would reject it (401)");
    }
    let len = token.chars().count();
    if len < MIN_TOKEN_LEN {
        bail!(
            "the API token is only {len} characters long; Zadig API tokens are JWTs of well over \
             {MIN_TOKEN_LEN} characters (account settings > API token): check ZADIG_TOKEN or \
             --token-file"
        );
    }
    Ok(())
}
