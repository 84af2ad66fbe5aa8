//! Opening a connection: the HTTP client, pointed at a Zadig server or at an
//! emulator started in this process for the command (`--emulator`).

use std::path::Path;

use anyhow::Context as _;
use secrecy::SecretString;

use super::settings::{Connection, Destination};
use crate::emulator::{self, EmulatorConfig, RunningEmulator, Seed};
use crate::zadig::client::{Client, ClientConfig};
use crate::zadig::retry::RetryPolicy;

/// The seed an in-process emulator starts from when the definition directory
/// ships one (examples/ does).
pub const DIR_SEED: &str = "emulator-seed.json";

/// A client and, with `--emulator`, the emulator it talks to (kept alive for
/// the command, stopped when dropped).
pub struct Session {
    /// The client.
    pub client: Client,
    /// The in-process emulator, if any.
    pub emulator: Option<RunningEmulator>,
}

impl Session {
    /// Connects. `dir` is the definition directory (for the emulator's seed).
    pub async fn open(conn: &Connection, dir: Option<&Path>) -> anyhow::Result<Session> {
        let (base_url, token, emulator) = match &conn.destination {
            Destination::Server { endpoint, token } => (endpoint.clone(), token.clone(), None),
            Destination::Emulator { state } => {
                let seed_file = dir.map(|d| d.join(DIR_SEED)).filter(|p| p.is_file());
                let seed = match &seed_file {
                    Some(path) => Seed::from_file(path).with_context(|| {
                        format!("cannot load the emulator seed {}", path.display())
                    })?,
                    None => Seed::builtin(),
                };
                let config = EmulatorConfig {
                    seed,
                    state_file: state.clone(),
                    ..EmulatorConfig::default()
                };
                let running = emulator::spawn(config, ([127, 0, 0, 1], 0).into())
                    .await
                    .context("cannot start the in-process emulator")?;
                tracing::info!(url = %running.base_url(), "in-process emulator started");
                (running.base_url(), emulator_token(), Some(running))
            }
        };
        let client = Client::new(client_config(base_url, token, conn)?)?;
        Ok(Session { client, emulator })
    }

    /// Stops the in-process emulator, if any (its state file is already
    /// written after each write).
    pub async fn close(self) {
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
    }
}

/// The client's configuration from the resolved settings: concurrency,
/// timeout, answer cap, retry budget and the CA file (read now). Built here,
/// in the shell: the client knows nothing of flags or files.
pub fn client_config(
    base_url: String,
    token: SecretString,
    conn: &Connection,
) -> anyhow::Result<ClientConfig> {
    let mut cfg = ClientConfig::new(base_url, token);
    cfg.concurrency = conn.concurrency;
    cfg.timeout = conn.timeout;
    cfg.max_response_bytes = conn.max_response_bytes;
    cfg.retry = RetryPolicy::with_budget(conn.retry_budget);
    if let Some(path) = &conn.ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read the CA certificate file {}", path.display()))?;
        cfg.ca_cert = Some(pem);
    }
    Ok(cfg)
}

/// A JWT-shaped token whose `name` claim (`zadig-sync`) the emulator records
/// as `update_by`, as Zadig does with real tokens.
fn emulator_token() -> SecretString {
    // base64url of {"name":"zadig-sync","uid":"emulator"}
    SecretString::from(
        "eyJhbGciOiJub25lIn0.eyJuYW1lIjoiemFkaWctc3luYyIsInVpZCI6ImVtdWxhdG9yIn0.".to_owned(),
    )
}
