//! A Zadig look-alike that reproduces the real server's quirks
//! (build-api.md §9, build-api-one-read.md §1–2), for trying zadig-sync
//! without a Zadig, for tests and for benchmarks.
//!
//! It serves the build OpenAPI (`/openapi/build…`), the stored-model read and
//! the look-ups of the UI API (`/api/aslan/…`), the build-template library
//! (`/api/aslan/template/build…`) and the project endpoints, with
//! the gateway's token check, aslan's authorisation, Go-style JSON binding,
//! the real error codes and texts, and the storage semantics of released
//! v4.2–v5.0. Faults (latency, error statuses, dropped connections, writes
//! that commit and then fail) can be injected.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use zadig_sync::emulator::{EmulatorConfig, spawn};
//! let emu = spawn(EmulatorConfig::default(), "127.0.0.1:0".parse()?).await?;
//! println!("{}", emu.base_url());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

mod binding;
mod faults;
mod routes;
mod seed;
mod server;
mod state;
mod templates;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use tokio::sync::watch;

pub use faults::Faults;
pub use seed::{
    LOCAL_CLUSTER_ID, Seed, SeedBuild, SeedBuildTemplate, SeedCluster, SeedCodeHost, SeedImage,
    SeedNamed, SeedProject, SeedStrategy, VmServiceRef, ui_made_builds,
};
pub use templates::TemplatePerms;

use crate::zadig::wire::StoredBuild;
use faults::FaultState;
use routes::{Resolution, Route};
use state::State;

/// Which tokens the emulated gateway accepts.
#[derive(Clone, Default)]
pub enum TokenPolicy {
    /// Any well-formed `Authorization` (two space-separated parts, the second
    /// non-empty) or `?token=` is a system admin.
    #[default]
    AnyAdmin,
    /// Only these tokens (the part after the scheme word), with their roles.
    Tokens(HashMap<String, Role>),
}

impl std::fmt::Debug for TokenPolicy {
    // Never print the tokens themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenPolicy::AnyAdmin => f.write_str("AnyAdmin"),
            TokenPolicy::Tokens(map) => write!(f, "Tokens({} tokens)", map.len()),
        }
    }
}

/// What a token may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// System admin: everything, in every project (even unknown ones).
    Admin,
    /// Permissions per existing project; other projects answer 403.
    Project(HashMap<String, Perms>),
    /// Permissions per project plus the system actions of the build-template
    /// library (`Template.View/Create/Edit/Delete`); `Project` has none.
    WithTemplates(HashMap<String, Perms>, TemplatePerms),
}

/// Build permissions in one project.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    /// `Build.View`: list, detail, stored model.
    pub view: bool,
    /// `Build.Create`: create **and update** (aslan checks Create for updates).
    pub create: bool,
    /// `Build.Delete`.
    pub delete: bool,
    /// `Build.Edit`: the UI's update (`PUT /api/aslan/build/build`).
    pub edit: bool,
}

impl Perms {
    /// All three (a project admin).
    pub fn all() -> Perms {
        Perms {
            view: true,
            create: true,
            delete: true,
            edit: true,
        }
    }
}

/// How to run an emulator.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Initial data (ignored when `state_file` exists).
    pub seed: Seed,
    /// If set: the state is loaded from it at start when it exists, and
    /// written back (temp file + rename) after each successful write.
    pub state_file: Option<PathBuf>,
    /// Accepted tokens.
    pub tokens: TokenPolicy,
    /// Added to every request.
    pub latency: Duration,
    /// Injected faults.
    pub faults: Faults,
    /// Mask credential values as `********` in the stored-model read
    /// (released v4.2–v5.0; `false` = main after 2026-08-10).
    pub mask_stored_credentials: bool,
    /// Serve only `/openapi/...`: every UI-API path (`/api/...`) answers 404,
    /// as behind a gateway that does not route them. Clients then read
    /// builds through the OpenAPI detail only.
    pub openapi_only: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: Seed::builtin(),
            state_file: None,
            tokens: TokenPolicy::AnyAdmin,
            latency: Duration::ZERO,
            faults: Faults::default(),
            mask_stored_credentials: true,
            openapi_only: false,
        }
    }
}

/// Requests seen, per kind of route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// Every request.
    pub total: u64,
    /// `GET /openapi/build`.
    pub list: u64,
    /// `GET /openapi/build/:name/detail`.
    pub detail: u64,
    /// `GET /api/aslan/build/build/:name`.
    pub stored: u64,
    /// Images, clusters, code hosts, templates, projects.
    pub lookups: u64,
    /// `POST /openapi/build` (plain and template).
    pub create: u64,
    /// `PUT /openapi/build` and `PUT /openapi/build/:name/template`.
    pub update: u64,
    /// `DELETE /openapi/build`.
    pub delete: u64,
    /// `PUT /api/aslan/build/build` (the UI's save).
    pub ui_update: u64,
    /// `POST`, `PUT` and `DELETE /api/aslan/template/build…` (the build
    /// template library).
    pub template_writes: u64,
    /// Anything else (404, 405, redirects, other UI routes).
    pub other: u64,
    /// Answered 401 by the gateway.
    pub unauthorized: u64,
    /// Answered with an injected error status.
    pub faults: u64,
    /// Connections dropped by fault injection.
    pub dropped: u64,
}

impl RequestStats {
    /// Creates, updates and deletes.
    pub fn writes(&self) -> u64 {
        self.create + self.update + self.delete + self.ui_update + self.template_writes
    }
}

/// State shared by the server and the handles.
pub(crate) struct Shared {
    state: Mutex<State>,
    faults: Mutex<FaultState>,
    latency: Mutex<Duration>,
    stats: Mutex<RequestStats>,
    tokens: TokenPolicy,
    mask_stored_credentials: bool,
    openapi_only: bool,
    state_file: Option<PathBuf>,
    /// Generation last written to the state file.
    persisted: Mutex<Option<u64>>,
}

/// Locks, recovering from poisoning (a panicked holder cannot leave the
/// plain data structures here half-updated in a way that matters).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn state_mut(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    fn stats_mut(&self) -> MutexGuard<'_, RequestStats> {
        lock(&self.stats)
    }

    fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    fn count(&self, resolution: &Resolution) {
        let mut stats = self.stats_mut();
        stats.total += 1;
        let counter = match resolution {
            Resolution::Route(route, _) => match route {
                Route::List => &mut stats.list,
                Route::Detail => &mut stats.detail,
                Route::Stored => &mut stats.stored,
                Route::Create => &mut stats.create,
                Route::Update | Route::UpdateTemplate => &mut stats.update,
                Route::Delete => &mut stats.delete,
                Route::UiUpdate => &mut stats.ui_update,
                Route::UiList | Route::UiServiceModule => &mut stats.other,
                Route::OpenApiClusters
                | Route::Projects
                | Route::ProjectDetail
                | Route::BasicImages
                | Route::Clusters
                | Route::CodeHosts
                | Route::DockerfileTemplates
                | Route::BuildTemplates
                | Route::BuildTemplate
                | Route::TemplateReference => &mut stats.lookups,
                Route::TemplateCreate | Route::TemplateUpdate | Route::TemplateDelete => {
                    &mut stats.template_writes
                }
            },
            _ => &mut stats.other,
        };
        *counter += 1;
    }

    /// Writes the state file if the state changed since the last write.
    /// A failure is logged; callers that can report it use [`Self::try_persist`].
    fn persist(&self) {
        if let Err(e) = self.try_persist() {
            tracing::error!("cannot write the emulator state file: {e:#}");
        }
    }

    /// Writes the state file if the state changed since the last write.
    fn try_persist(&self) -> anyhow::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let (generation, seed) = {
            let state = self.state_mut();
            (state.generation, state.to_seed())
        };
        // Serialises writers and keeps an older snapshot from overwriting a
        // newer one.
        let mut persisted = lock(&self.persisted);
        if persisted.is_some_and(|g| g >= generation) {
            return Ok(());
        }
        write_atomically(path, &seed)
            .with_context(|| format!("cannot write the emulator state file {}", path.display()))?;
        *persisted = Some(generation);
        Ok(())
    }
}

fn write_atomically(path: &Path, seed: &Seed) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(seed)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".to_owned());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// A cheap handle on a running emulator, for tests and benchmarks: inspects
/// and changes state out of band. Faults and latency never apply to it.
#[derive(Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmulatorHandle")
    }
}

impl EmulatorHandle {
    /// Replaces the faults (the random generator restarts from `f.seed`).
    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults() = FaultState::new(f);
    }

    /// Sets the latency added to every request.
    pub fn set_latency(&self, d: Duration) {
        *lock(&self.shared.latency) = d;
    }

    /// Request counts so far.
    pub fn stats(&self) -> RequestStats {
        self.shared.stats_mut().clone()
    }

    /// Zeroes the request counts.
    pub fn reset_stats(&self) {
        *self.shared.stats_mut() = RequestStats::default();
    }

    /// The raw stored model (credentials unmasked), if the build exists.
    pub fn stored_build(&self, project: &str, name: &str) -> Option<StoredBuild> {
        self.shared
            .state_mut()
            .builds
            .iter()
            .find(|b| b.product_name == project && b.name == name)
            .cloned()
    }

    /// Inserts or replaces (by project and name, keeping its position) a raw
    /// stored model, as a UI edit would; bumps `update_time` to now.
    pub fn put_stored_build(&self, b: StoredBuild) {
        self.shared.state_mut().put_stored(b, routes::now_unix());
        self.shared.persist();
    }

    /// A build template as `GET /api/aslan/template/build/:id` answers it.
    pub fn build_template(&self, id: &str) -> Option<serde_json::Value> {
        self.shared
            .state_mut()
            .catalog
            .build_templates
            .iter()
            .find(|t| t.id == id)
            .map(SeedBuildTemplate::model)
    }

    /// Inserts or replaces (by id, keeping its position) a whole build
    /// template, as a UI edit would: `model` is in the answer's shape (the
    /// seed form). Nothing is stamped. An error for a model that is not one.
    pub fn put_build_template(&self, model: serde_json::Value) -> Result<(), String> {
        let t: SeedBuildTemplate = serde_json::from_value(model).map_err(|e| e.to_string())?;
        {
            let mut state = self.shared.state_mut();
            let templates = &mut state.catalog.build_templates;
            match templates.iter().position(|x| x.id == t.id) {
                Some(i) => templates[i] = t,
                None => templates.push(t),
            }
            state.generation += 1;
        }
        self.shared.persist();
        Ok(())
    }

    /// The builds of a project, in insertion order.
    pub fn builds(&self, project: &str) -> Vec<StoredBuild> {
        self.shared
            .state_mut()
            .builds
            .iter()
            .filter(|b| b.product_name == project)
            .cloned()
            .collect()
    }

    /// Adds a build as a seed entry would, out of band (no faults, no
    /// latency, not counted): for tests that seed a running emulator.
    pub fn seed_build(&self, entry: SeedBuild) -> Result<(), String> {
        let result = self
            .shared
            .state_mut()
            .seed_build(entry, routes::now_unix())
            .map_err(|e| format!("{e:#}"));
        self.shared.persist();
        result
    }

    /// Changes the catalogs (projects, licence, VM-service references, …)
    /// of a running emulator, as an administrator would in the UI. The
    /// `builds` of the seed given to `edit` are ignored.
    pub fn edit_catalog(&self, edit: impl FnOnce(&mut Seed)) {
        {
            let mut state = self.shared.state_mut();
            edit(&mut state.catalog);
            state.catalog.builds.clear();
            state.generation += 1;
        }
        self.shared.persist();
    }

    /// The whole state, in the state-file (seed) format.
    pub fn snapshot_json(&self) -> serde_json::Value {
        let seed = self.shared.state_mut().to_seed();
        serde_json::to_value(seed).unwrap_or(serde_json::Value::Null)
    }
}

/// An emulator serving on a socket of the current tokio runtime.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunningEmulator({})", self.addr)
    }
}

impl RunningEmulator {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle on its state.
    pub fn handle(&self) -> EmulatorHandle {
        EmulatorHandle {
            shared: self.shared.clone(),
        }
    }

    /// Stops accepting, closes open connections and waits for the server.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn initial_state(config: &EmulatorConfig) -> anyhow::Result<(State, bool)> {
    let now = routes::now_unix();
    match &config.state_file {
        Some(path) if path.exists() => {
            let seed = Seed::from_file(path)
                .with_context(|| format!("cannot load the state file {}", path.display()))?;
            Ok((State::from_seed(seed, now)?, false))
        }
        _ => Ok((State::from_seed(config.seed.clone(), now)?, true)),
    }
}

/// Starts an emulator on `listen` (e.g. `127.0.0.1:0`) in the current tokio
/// runtime. Fails on an invalid seed or state file, or if it cannot bind.
pub async fn spawn(config: EmulatorConfig, listen: SocketAddr) -> anyhow::Result<RunningEmulator> {
    let (state, _fresh) = initial_state(&config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        faults: Mutex::new(FaultState::new(config.faults)),
        latency: Mutex::new(config.latency),
        stats: Mutex::new(RequestStats::default()),
        tokens: config.tokens,
        mask_stored_credentials: config.mask_stored_credentials,
        openapi_only: config.openapi_only,
        state_file: config.state_file,
        persisted: Mutex::new(None),
    });
    // Write the state at once, fresh or read back: a state file that cannot
    // be written is an error now, not a warning after the first write
    // (issue 12, #18).
    shared.try_persist()?;
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(server::accept_loop(listener, shared.clone(), stop_rx));
    Ok(RunningEmulator {
        addr,
        shared,
        stop,
        task: Some(task),
    })
}

/// An emulator on its own thread and runtime, for synchronous tests (e.g.
/// running the CLI binary with `std::process::Command`). Stops on drop.
pub struct ThreadEmulator {
    addr: SocketAddr,
    handle: EmulatorHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ThreadEmulator({})", self.addr)
    }
}

impl ThreadEmulator {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle on its state.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }
}

impl Drop for ThreadEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs an emulator on 127.0.0.1 (a free port) on its own thread and runtime.
pub fn spawn_in_thread(config: EmulatorConfig) -> anyhow::Result<ThreadEmulator> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("zadig-emulator".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(anyhow::Error::from(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let listen = SocketAddr::from(([127, 0, 0, 1], 0));
                match spawn(config, listen).await {
                    Ok(emu) => {
                        let _ = ready_tx.send(Ok((emu.addr(), emu.handle())));
                        let _ = stop_rx.await;
                        emu.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .context("cannot start the emulator thread")?;
    let (addr, handle) = ready_rx
        .recv()
        .context("the emulator thread ended before it was ready")??;
    Ok(ThreadEmulator {
        addr,
        handle,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod preserve_tests;
#[cfg(test)]
mod roundtrip_tests;
