//! Settings, resolved once, before any command does work, in one order:
//! **a flag beats the environment, which beats `zadig-sync.yaml`, which beats
//! the default**.
//!
//! | setting | flag | environment | zadig-sync.yaml | default |
//! |---|---|---|---|---|
//! | endpoint | `--endpoint` | `ZADIG_ENDPOINT` | `endpoint:` | none: an error |
//! | token | `--token-file` | `ZADIG_TOKEN` | never | none: an error |
//! | concurrency | `--concurrency` | | | 16 |
//! | timeout | `--timeout` | | | 30 s |
//! | retry budget | `--retry-budget` | `ZADIG_SYNC_RETRY_BUDGET` | | 60 s |
//! | answer cap | `--max-response-mib` | `ZADIG_SYNC_MAX_RESPONSE_MIB` | | 32 MiB |
//! | colour | `--color always\|never` | `NO_COLOR` | | on a terminal |
//! | logging | `-v`, `-q` | `ZADIG_SYNC_LOG` | | warnings |
//! | progress bar | `-q` | | | on a terminal |
//!
//! The environment is read here only (through an [`Env`], which tests
//! replace), the `{from_env}` credential variables included ([`env_var`]).
//! Colour, logging and the progress bar are decided once ([`OutputSettings`]);
//! the connection once per command, when the directory's configuration is
//! known ([`Connection::resolve`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use secrecy::SecretString;

use super::args::{ColorChoice, GlobalArgs};

/// The API token's variable.
pub const ENV_TOKEN: &str = "ZADIG_TOKEN";
/// The endpoint's variable.
pub const ENV_ENDPOINT: &str = "ZADIG_ENDPOINT";
/// The retry budget's variable (seconds).
pub const ENV_RETRY_BUDGET: &str = "ZADIG_SYNC_RETRY_BUDGET";
/// The answer cap's variable (MiB).
pub const ENV_MAX_RESPONSE_MIB: &str = "ZADIG_SYNC_MAX_RESPONSE_MIB";
/// An `EnvFilter` directive for the log, when no `-v`/`-q` is given.
pub const ENV_LOG: &str = "ZADIG_SYNC_LOG";
/// Any non-empty value turns colour off (<https://no-color.org>).
pub const ENV_NO_COLOR: &str = "NO_COLOR";

/// Default retry budget, in seconds.
pub const DEFAULT_RETRY_BUDGET_SECS: u64 = 60;
/// Default answer cap, in MiB.
pub const DEFAULT_MAX_RESPONSE_MIB: u64 = 32;

/// A variable's value by name.
type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where environment variables come from: the process, or (in tests) a list.
#[derive(Clone)]
pub struct Env {
    lookup: Arc<Lookup>,
}

impl std::fmt::Debug for Env {
    // Never the values: the environment holds credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env {
            lookup: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// A fixed environment (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        let vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env {
            lookup: Arc::new(move |name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            }),
        }
    }

    /// The variable's value, as set (empty included).
    pub fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The variable's value when it is set to something other than blanks:
    /// an empty variable (`ZADIG_ENDPOINT=` in a CI file) counts as unset.
    pub fn set(&self, name: &str) -> Option<String> {
        self.var(name).filter(|v| !v.trim().is_empty())
    }

    /// A number from the variable, in `range`; an error names the variable.
    fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> anyhow::Result<Option<u64>> {
        let Some(raw) = self.set(name) else {
            return Ok(None);
        };
        match raw.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => bail!(
                "{name}={raw:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        }
    }
}

/// A `{from_env: NAME}` credential variable, from the process environment
/// (`None` when unset).
pub fn env_var(name: &str) -> Option<String> {
    Env::process().var(name)
}

/// The cores the shell may use for CPU work (loading many files): the
/// machine's, decided here so that the core never asks.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Whether stdout and stderr are terminals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Terminals {
    /// stdout is a terminal.
    pub stdout: bool,
    /// stderr is a terminal.
    pub stderr: bool,
}

impl Terminals {
    /// The process's.
    pub fn detect() -> Terminals {
        use std::io::IsTerminal;
        Terminals {
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// How output looks, decided once for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSettings {
    /// `-q`.
    pub quiet: bool,
    /// Colour on stdout (results).
    pub color_stdout: bool,
    /// Colour on stderr (messages, diagnostics, the log).
    pub color_stderr: bool,
    /// A progress bar may be drawn on stderr.
    pub progress: bool,
    /// The log's `EnvFilter` directive.
    pub log_filter: String,
}

impl OutputSettings {
    /// Colour: `--color always|never`, else `NO_COLOR` (any non-empty value:
    /// none), else colour on a terminal. Logging: `-v`/`-q`, else
    /// `ZADIG_SYNC_LOG` (when it is a valid directive), else warnings.
    /// Progress: never with `-q`, else on a terminal.
    pub fn resolve(global: &GlobalArgs, env: &Env, terminals: Terminals) -> OutputSettings {
        let no_color = env.var(ENV_NO_COLOR).is_some_and(|v| !v.is_empty());
        let color = |terminal: bool| match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && terminal,
        };
        let flagged = match (global.quiet, global.verbose) {
            (true, _) => Some("error"),
            (false, 0) => None,
            (false, 1) => Some("zadig_sync=info"),
            (false, 2) => Some("zadig_sync=debug"),
            (false, _) => Some("zadig_sync=trace"),
        };
        let log_filter = match flagged {
            Some(level) => level.to_owned(),
            None => env
                .set(ENV_LOG)
                .filter(|v| tracing_subscriber::EnvFilter::try_new(v).is_ok())
                .unwrap_or_else(|| "warn".to_owned()),
        };
        OutputSettings {
            quiet: global.quiet,
            color_stdout: color(terminals.stdout),
            color_stderr: color(terminals.stderr),
            progress: !global.quiet && terminals.stderr,
            log_filter,
        }
    }
}

/// Logging to stderr, as [`OutputSettings`] decided. Never stdout: that is
/// for results.
pub fn init_logging(out: &OutputSettings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&out.log_filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(out.color_stderr)
        .with_writer(super::redact::ScrubbedStderr)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Where requests go.
#[derive(Debug, Clone)]
pub enum Destination {
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
    pub destination: Destination,
    /// Most requests in flight at once (the client's ceiling, and apply's
    /// bound on writes in flight).
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
    /// Resolves the connection from the flags, the process environment and
    /// the directory's configured endpoint (lowest precedence).
    pub fn resolve(global: &GlobalArgs, config_endpoint: Option<&str>) -> anyhow::Result<Self> {
        Connection::resolve_in(global, &Env::process(), config_endpoint)
    }

    /// [`Connection::resolve`] in a given environment.
    pub fn resolve_in(
        global: &GlobalArgs,
        env: &Env,
        config_endpoint: Option<&str>,
    ) -> anyhow::Result<Self> {
        let destination = match &global.emulator {
            Some(state) => Destination::Emulator {
                state: state.clone(),
            },
            None => {
                let endpoint = global
                    .endpoint
                    .clone()
                    .filter(|e| !e.trim().is_empty())
                    .or_else(|| env.set(ENV_ENDPOINT))
                    .or_else(|| config_endpoint.map(str::to_owned))
                    .filter(|e| !e.trim().is_empty());
                let Some(endpoint) = endpoint else {
                    bail!(
                        "no Zadig endpoint: set `endpoint:` in zadig-sync.yaml, ZADIG_ENDPOINT or --endpoint \
                         (or use --emulator to try against a local emulator)"
                    );
                };
                let token = read_token(global, env)?;
                Destination::Server {
                    endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
                    token,
                }
            }
        };
        let retry_budget = match global.retry_budget {
            Some(secs) => secs,
            None => env
                .number(ENV_RETRY_BUDGET, 0..=3600)?
                .unwrap_or(DEFAULT_RETRY_BUDGET_SECS),
        };
        let max_response_mib = match global.max_response_mib {
            Some(mib) => mib,
            None => env
                .number(ENV_MAX_RESPONSE_MIB, 1..=4096)?
                .unwrap_or(DEFAULT_MAX_RESPONSE_MIB),
        };
        Ok(Connection {
            destination,
            concurrency: usize::from(global.concurrency),
            timeout: Duration::from_secs(global.timeout),
            ca_cert: global.ca_cert.clone(),
            max_response_bytes: max_response_mib * 1024 * 1024,
            retry_budget: Duration::from_secs(retry_budget),
        })
    }
}

/// The token from `--token-file`, else `ZADIG_TOKEN`. Never echoed.
fn read_token(global: &GlobalArgs, env: &Env) -> anyhow::Result<SecretString> {
    let raw = match &global.token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?,
        None => match env.var(ENV_TOKEN) {
            Some(v) => v,
            None => bail!(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use clap::Parser;

    const TOKEN: &str = "tok-0123456789abcdef-settings";

    fn global(flags: &[&str]) -> GlobalArgs {
        let mut argv = vec!["zadig-sync"];
        argv.extend_from_slice(flags);
        argv.push("plan");
        Cli::try_parse_from(argv).expect("parses").global
    }

    fn connection(flags: &[&str], env: &[(&str, &str)], config: Option<&str>) -> Connection {
        Connection::resolve_in(&global(flags), &Env::from_pairs(env), config).expect("resolves")
    }

    fn endpoint(c: &Connection) -> &str {
        match &c.destination {
            Destination::Server { endpoint, .. } => endpoint,
            Destination::Emulator { .. } => "emulator",
        }
    }

    #[test]
    fn endpoint_flag_beats_env_beats_config() {
        let env = [(ENV_TOKEN, TOKEN), (ENV_ENDPOINT, "https://env.example")];
        let flag = ["--endpoint", "https://flag.example/"];
        let c = connection(&flag, &env, Some("https://config.example"));
        assert_eq!(endpoint(&c), "https://flag.example");
        let c = connection(&[], &env, Some("https://config.example"));
        assert_eq!(endpoint(&c), "https://env.example");
        let c = connection(&[], &[(ENV_TOKEN, TOKEN)], Some("https://config.example"));
        assert_eq!(endpoint(&c), "https://config.example");
        // An empty variable is unset: the config's endpoint is used.
        let c = connection(
            &[],
            &[(ENV_TOKEN, TOKEN), (ENV_ENDPOINT, " ")],
            Some("https://config.example"),
        );
        assert_eq!(endpoint(&c), "https://config.example");
        // No default: an error that names all three places.
        let err =
            Connection::resolve_in(&global(&[]), &Env::from_pairs(&[(ENV_TOKEN, TOKEN)]), None)
                .expect_err("no endpoint");
        let text = err.to_string();
        for place in ["endpoint:", "ZADIG_ENDPOINT", "--endpoint"] {
            assert!(text.contains(place), "{text}");
        }
        // --emulator is the destination whatever the others say.
        let c = connection(&["--emulator"], &env, Some("https://config.example"));
        assert_eq!(endpoint(&c), "emulator");
    }

    #[test]
    fn token_file_beats_env_and_there_is_no_default() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("token");
        std::fs::write(&file, "tok-from-the-file-0123456789\n").expect("write");
        let file = file.to_str().expect("utf-8");
        let env = [(ENV_TOKEN, TOKEN), (ENV_ENDPOINT, "https://z.example")];
        let token = |c: &Connection| match &c.destination {
            Destination::Server { token, .. } => {
                secrecy::ExposeSecret::expose_secret(token).to_owned()
            }
            Destination::Emulator { .. } => String::new(),
        };
        assert_eq!(
            token(&connection(&["--token-file", file], &env, None)),
            "tok-from-the-file-0123456789"
        );
        assert_eq!(token(&connection(&[], &env, None)), TOKEN);
        let err = Connection::resolve_in(
            &global(&[]),
            &Env::from_pairs(&[(ENV_ENDPOINT, "https://z.example")]),
            None,
        )
        .expect_err("no token");
        assert!(err.to_string().contains("ZADIG_TOKEN"), "{err}");
    }

    #[test]
    fn numbers_flag_beats_env_beats_default() {
        let base = [(ENV_TOKEN, TOKEN), (ENV_ENDPOINT, "https://z.example")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            v
        };
        let env = with(&[(ENV_RETRY_BUDGET, "7"), (ENV_MAX_RESPONSE_MIB, "5")]);
        let flags = ["--retry-budget", "3", "--max-response-mib", "2"];
        let c = connection(&flags, &env, None);
        assert_eq!(c.retry_budget, Duration::from_secs(3));
        assert_eq!(c.max_response_bytes, 2 * 1024 * 1024);
        let c = connection(&[], &env, None);
        assert_eq!(c.retry_budget, Duration::from_secs(7));
        assert_eq!(c.max_response_bytes, 5 * 1024 * 1024);
        let c = connection(&[], &base, None);
        assert_eq!(
            c.retry_budget,
            Duration::from_secs(DEFAULT_RETRY_BUDGET_SECS)
        );
        assert_eq!(c.max_response_bytes, DEFAULT_MAX_RESPONSE_MIB * 1024 * 1024);
        // No environment variable or config key for these two: flag, else default.
        assert_eq!(c.concurrency, 16);
        assert_eq!(c.timeout, Duration::from_secs(30));
        let c = connection(&["--concurrency", "3", "--timeout", "9"], &base, None);
        assert_eq!((c.concurrency, c.timeout), (3, Duration::from_secs(9)));
        // A bad value in the environment is an error naming the variable,
        // unless a flag makes the variable irrelevant.
        for (var, bad) in [
            (ENV_RETRY_BUDGET, "soon"),
            (ENV_RETRY_BUDGET, "3601"),
            (ENV_MAX_RESPONSE_MIB, "0"),
            (ENV_MAX_RESPONSE_MIB, "-1"),
        ] {
            let env = Env::from_pairs(&with(&[(var, bad)]));
            let err = Connection::resolve_in(&global(&[]), &env, None).expect_err(bad);
            assert!(err.to_string().contains(var), "{err}");
        }
        let env = Env::from_pairs(&with(&[(ENV_RETRY_BUDGET, "soon")]));
        assert!(Connection::resolve_in(&global(&["--retry-budget", "1"]), &env, None).is_ok());
    }

    fn output(flags: &[&str], env: &[(&str, &str)], stdout: bool, stderr: bool) -> OutputSettings {
        OutputSettings::resolve(
            &global(flags),
            &Env::from_pairs(env),
            Terminals { stdout, stderr },
        )
    }

    #[test]
    fn colour_flag_beats_no_color_beats_the_terminal() {
        let no_color = [(ENV_NO_COLOR, "1")];
        let o = output(&["--color", "always"], &no_color, false, false);
        assert!(o.color_stdout && o.color_stderr);
        let o = output(&["--color", "never"], &[], true, true);
        assert!(!o.color_stdout && !o.color_stderr);
        let o = output(&[], &no_color, true, true);
        assert!(!o.color_stdout && !o.color_stderr);
        // Default: per stream, on a terminal; an empty NO_COLOR is unset.
        let o = output(&[], &[(ENV_NO_COLOR, "")], true, false);
        assert!(o.color_stdout && !o.color_stderr);
        let o = output(&[], &[], false, true);
        assert!(!o.color_stdout && o.color_stderr);
    }

    #[test]
    fn logging_flags_beat_the_env_beats_the_default() {
        let env = [(ENV_LOG, "zadig_sync=trace")];
        assert_eq!(
            output(&["-v"], &env, false, false).log_filter,
            "zadig_sync=info"
        );
        assert_eq!(output(&["-q"], &env, false, false).log_filter, "error");
        assert_eq!(
            output(&[], &env, false, false).log_filter,
            "zadig_sync=trace"
        );
        assert_eq!(output(&[], &[], false, false).log_filter, "warn");
        // A directive that does not parse is ignored, not fatal.
        let bad = [(ENV_LOG, "zadig_sync=[")];
        assert_eq!(output(&[], &bad, false, false).log_filter, "warn");
    }

    #[test]
    fn progress_flag_beats_the_terminal() {
        assert!(output(&[], &[], false, true).progress);
        assert!(!output(&[], &[], true, false).progress);
        assert!(!output(&["-q"], &[], true, true).progress);
    }

    #[test]
    fn the_environment_is_read_through_env() {
        let env = Env::from_pairs(&[("A", "1"), ("B", "")]);
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("B").as_deref(), Some(""));
        assert_eq!(env.set("B"), None);
        assert_eq!(env.var("C"), None);
        assert_eq!(format!("{env:?}"), "Env");
    }

    #[test]
    fn zadig_mask_is_one_value() {
        // The core, the wire and the scrubber each name Zadig's mask.
        assert_eq!(crate::core::model::MASK, crate::zadig::wire::MASK);
    }
}
