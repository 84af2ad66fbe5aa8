//! Reading the live state for a plan, at the speed of the network:
//!
//! 1. the run-wide look-ups (images, clusters with strategies, code hosts) and
//!    one listing per managed project, all at once;
//! 2. one stored-model read per build that needs comparing (a second read, the
//!    OpenAPI detail, only for plain builds whose credentials the stored model
//!    masks), all at once within the client's concurrency bound; the reads of
//!    a project start as soon as its listing (and the look-ups' verdict on
//!    the UI API) arrives, not once every project is listed;
//! 3. the build and dockerfile template look-ups only when a build uses one.
//!
//! When the server does not answer the UI API (the stored model and the
//! look-ups), each build is read through the OpenAPI detail instead, and the
//! plan lists the fields that detail cannot show.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use tokio::task::JoinSet;

use crate::core::catalog::Catalog;
use crate::core::live::{LiveBuild, LiveRead};
use crate::core::model::{BuildDef, Config, Kind, MASK};
use crate::core::plan::{DesiredBuild, LiveState, ProjectLive};
use crate::core::reads::{Compared, ReadPolicy, live_uses_templates};
use crate::zadig::client::Client;
use crate::zadig::error::ApiError;
use crate::zadig::wire::{BuildBrief, StoredBuild};

/// What to read.
pub struct ReadScope<'a> {
    /// Managed projects to read (already filtered by `--project`).
    pub projects: Vec<String>,
    /// The definitions (to know which builds to read fully and which names to
    /// look for elsewhere).
    pub desired: &'a [DesiredBuild],
    /// `project/name` filter (empty: all).
    pub targets: &'a [String],
    /// Look for the names of new builds in projects this directory does not
    /// manage (names are global in Zadig).
    pub check_elsewhere: bool,
    /// Read every build of the projects (import), not only those a plan needs.
    pub read_all: bool,
}

/// Progress callback: (done, total) of the per-build reads.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Where the live state goes as it is read: the streaming planner, or a
/// collection of it ([`read_live`]).
pub trait LiveSink {
    /// A project's listing, the builds an `ignore` glob hides left out.
    fn listed(&mut self, project: &str, builds: &[BuildBrief]);
    /// A project whose listing failed.
    fn listing_failed(&mut self, project: &str, error: String);
    /// Whether planning this build needs the template look-ups (its read then
    /// waits for them).
    fn needs_templates(&self, project: &str, name: &str) -> bool;
    /// One build read, with the look-ups it is planned against. Dropped
    /// afterwards, unless the sink keeps it.
    fn read(&mut self, build: LiveBuild, catalog: &Catalog);
}

/// What is known once every read was handed to the sink.
pub struct LiveRest {
    /// Build name → project, for names taken outside the builds read here.
    pub elsewhere: BTreeMap<String, String>,
    /// The look-ups, complete.
    pub catalog: Catalog,
}

/// Collects everything read (import, tests).
struct Collect {
    projects: BTreeMap<String, ProjectLive>,
    /// Keep the stored model's text (the base of a preserving write); import
    /// writes from the typed model, so it does not keep a second copy.
    keep_raw: bool,
}

impl LiveSink for Collect {
    fn listed(&mut self, project: &str, builds: &[BuildBrief]) {
        let live = builds
            .iter()
            .map(|brief| LiveBuild {
                project: project.to_owned(),
                brief: brief.clone(),
                read: LiveRead::NotRead,
            })
            .collect();
        self.projects
            .insert(project.to_owned(), ProjectLive::Listed(live));
    }

    fn listing_failed(&mut self, project: &str, error: String) {
        self.projects
            .insert(project.to_owned(), ProjectLive::Failed(error));
    }

    fn needs_templates(&self, _: &str, _: &str) -> bool {
        false
    }

    fn read(&mut self, mut build: LiveBuild, _: &Catalog) {
        if !self.keep_raw
            && let LiveRead::Stored { raw, .. } = &mut build.read
        {
            *raw = None;
        }
        if let Some(ProjectLive::Listed(builds)) = self.projects.get_mut(&build.project) {
            for b in builds
                .iter_mut()
                .filter(|b| b.brief.name == build.brief.name)
            {
                b.read = build.read.clone();
            }
        }
    }
}

/// Reads everything a plan needs, and keeps it.
pub async fn read_live(
    client: &Client,
    config: &Config,
    scope: &ReadScope<'_>,
    progress: Option<Progress>,
) -> anyhow::Result<LiveState> {
    let mut sink = Collect {
        projects: BTreeMap::new(),
        keep_raw: !scope.read_all,
    };
    let rest = read_live_into(client, config, scope, progress, &mut sink).await?;
    Ok(LiveState {
        projects: sink.projects,
        elsewhere: rest.elsewhere,
        catalog: rest.catalog,
    })
}

/// Reads everything a plan needs and hands each build to `sink` as its read
/// arrives (issue 13: a plan holds O(concurrency + changes) live builds, not
/// the fleet). What to read is [`ReadPolicy`]'s decision; this executes it.
pub async fn read_live_into(
    client: &Client,
    config: &Config,
    scope: &ReadScope<'_>,
    progress: Option<Progress>,
    sink: &mut dyn LiveSink,
) -> anyhow::Result<LiveRest> {
    let policy = ReadPolicy::new(config, scope.desired, scope.targets, scope.read_all);
    // Whether builds are read through the OpenAPI detail only, once the
    // look-ups say so; the per-build reads wait for it (a dropped sender: the
    // look-ups failed, and so does the run).
    let (mode_tx, mode_rx) = tokio::sync::watch::channel(None::<bool>);
    // The look-ups: the catalog, and whether only the OpenAPI answers.
    let lookups = async move { read_lookups(client, &mode_tx).await };
    // Names of new builds in scope (only a definition in the projects read
    // here, and targeted, is new): those no listing shows are looked for
    // elsewhere.
    let mut new_names = new_names_in_scope(scope, &policy);
    // Every project listed this run, or tried.
    let mut tried: BTreeSet<String> = BTreeSet::new();
    // Look-ups, listings and the reads of each listed project at once; each
    // project's reads start as soon as its listing arrives, and each build is
    // planned as soon as its read arrives.
    let reading = read_builds(
        Readers {
            client,
            scope,
            policy: &policy,
            progress: &progress,
            mode_rx: &mode_rx,
        },
        lookups,
        &mut *sink,
        &mut new_names,
        &mut tried,
    );
    // Zadig's project list: declared projects must exist (one listing).
    let project_list = client.projects();
    let (reading, project_list) = tokio::join!(reading, project_list);
    let Readings {
        base,
        parked,
        failures,
        ignored,
        tpl,
    } = reading?;
    // A token may lack the right to list projects (or a gateway may not route
    // the list): then the check is skipped with a warning. Any other failure
    // (nothing answers, a broken answer) is an error like any other read.
    let project_list = checked_project_list(project_list)?;
    let (mut catalog, _) = base.ok_or_else(|| anyhow!("cannot read Zadig's look-ups"))?;
    catalog.projects = project_list
        .as_ref()
        .map(|ps| ps.iter().map(|p| p.project_key.clone()).collect());

    if !failures.is_empty() {
        return Err(anyhow!(
            "cannot read {} build(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        ));
    }

    // The template look-ups, started as soon as a build or a definition
    // needed them, have all arrived (the loop above waits for them); a
    // failed template list fails the run, after any failed read.
    let catalog = match tpl.finish(catalog) {
        Ok(c) => c,
        Err(e) => return Err(e.into()),
    };
    for build in parked {
        sink.read(build, &catalog);
    }

    // Names of new builds taken in projects this directory does not manage.
    let elsewhere = names_elsewhere(
        client,
        scope.check_elsewhere,
        &tried,
        &new_names,
        &ignored,
        project_list,
    )
    .await;

    Ok(LiveRest { elsewhere, catalog })
}

/// What the reading loop reads with.
struct Readers<'r, 'a> {
    client: &'r Client,
    scope: &'r ReadScope<'a>,
    policy: &'r ReadPolicy<'r>,
    progress: &'r Option<Progress>,
    mode_rx: &'r tokio::sync::watch::Receiver<Option<bool>>,
}

/// What the reading loop leaves: the look-ups, the reads parked for the
/// template look-ups, the failed reads, the ignored names and the template
/// look-ups.
struct Readings {
    base: Option<(Catalog, bool)>,
    parked: Vec<LiveBuild>,
    failures: Vec<String>,
    ignored: BTreeMap<String, String>,
    tpl: TemplateLookups,
}

/// Decides the order of the run's reads: look-ups, listings and the reads of
/// each listed project at once, each build handed on as its read arrives.
async fn read_builds<'a>(
    readers: Readers<'_, 'a>,
    lookups: impl std::future::Future<Output = Result<(Catalog, bool), ApiError>>,
    sink: &mut dyn LiveSink,
    new_names: &mut BTreeSet<&'a str>,
    tried: &mut BTreeSet<String>,
) -> anyhow::Result<Readings> {
    let Readers {
        client,
        scope,
        policy,
        progress,
        mode_rx,
    } = readers;
    let mut lookups = std::pin::pin!(lookups);
    let mut base: Option<(Catalog, bool)> = None;
    let mut lists = JoinSet::new();
    for p in &scope.projects {
        let client = client.clone();
        let p = p.clone();
        lists.spawn(async move {
            let r = client.list_builds(&p).await;
            (p, r)
        });
    }
    let mut reads_set = JoinSet::new();
    // Reads to make, in listing order: at most `window` tasks exist at a
    // time, so a large fleet is a queue of names, not of read futures and
    // answers waiting to be planned.
    let mut queue: VecDeque<ReadOrder> = VecDeque::new();
    let window = client.concurrency().saturating_mul(2).max(16);
    // Reads that arrived before the look-ups did.
    let mut waiting: Vec<LiveBuild> = Vec::new();
    // Reads that need the template look-ups: each is planned as soon as
    // every look-up started so far has arrived (those it needs are
    // started when it is seen); reads of the OpenAPI detail once every
    // read is in, against the complete catalog.
    let mut parked: Vec<LiveBuild> = Vec::new();
    let mut tpl = TemplateLookups::default();
    let mut failures = Vec::new();
    // Names hidden by `ignore`: never planned, but still taken (names are
    // global), so the name check sees them.
    let mut ignored: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    let mut done = 0;
    loop {
        tokio::select! {
            r = &mut lookups, if base.is_none() => {
                base = Some(r.context("cannot read Zadig's look-ups")?);
                if let Some((catalog, false)) = &base {
                    tpl.start_for_definitions(client, catalog, scope.desired);
                }
                for build in std::mem::take(&mut waiting) {
                    route(build, &base, &mut waiting, &mut parked, &mut *sink);
                }
                tpl.release(client, &base, &mut parked, &mut *sink);
            }
            Some(joined) = tpl.set.join_next() => {
                let done = joined.context("a template look-up task failed")?;
                tpl.arrived(done, client, scope.desired);
                tpl.release(client, &base, &mut parked, &mut *sink);
            }
            Some(joined) = lists.join_next() => {
                let (project, listing) = joined.context("a listing task failed")?;
                tried.insert(project.clone());
                let briefs = match listing {
                    Ok(b) => b,
                    Err(e) => {
                        sink.listing_failed(&project, e.to_string());
                        continue;
                    }
                };
                total += queue_listing(
                    policy,
                    &project,
                    briefs,
                    &mut ignored,
                    new_names,
                    &mut queue,
                    &mut *sink,
                );
                spawn_reads(&mut queue, &mut reads_set, window, client, mode_rx);
                // The bar starts once every listing is in (its total known).
                if lists.is_empty() && total > 0 && let Some(p) = progress {
                    p(done, total);
                }
            }
            Some(joined) = reads_set.join_next() => {
                let (project, brief, read) = joined.context("a read task failed")?;
                done += 1;
                spawn_reads(&mut queue, &mut reads_set, window, client, mode_rx);
                match read {
                    Some(Ok(read)) => {
                        let build = LiveBuild { project, brief, read };
                        route(build, &base, &mut waiting, &mut parked, &mut *sink);
                        tpl.release(client, &base, &mut parked, &mut *sink);
                    }
                    Some(Err(e)) => failures.push(format!("{project}/{}: {e}", brief.name)),
                    None => failures.push(format!("{project}/{}: not read (the look-ups failed)", brief.name)),
                }
                if lists.is_empty() && let Some(p) = progress {
                    p(done, total);
                }
            }
            else => break,
        }
    }
    Ok(Readings {
        base,
        parked,
        failures,
        ignored,
        tpl,
    })
}

/// Decides the run's look-ups: the catalog, and whether only the OpenAPI
/// answers (said on `mode_tx` as soon as it is known).
async fn read_lookups(
    client: &Client,
    mode_tx: &tokio::sync::watch::Sender<Option<bool>>,
) -> Result<(Catalog, bool), ApiError> {
    let (images, clusters, hosts) = tokio::join!(
        client.basic_images(),
        client.clusters(),
        client.code_hosts()
    );
    match (images, clusters) {
        (Ok(images), Ok(clusters)) => {
            let _ = mode_tx.send(Some(false));
            let hosts = hosts.ok();
            Ok((
                Catalog::from_lookups(
                    &images,
                    &clusters,
                    hosts.as_deref().map(|h| h.as_slice()),
                    &[],
                    &[],
                ),
                false,
            ))
        }
        (Err(e), _) | (_, Err(e)) if ui_api_unavailable(&e) => {
            tracing::warn!(
                "the UI API is not available ({e}); reading builds through the OpenAPI detail only"
            );
            let _ = mode_tx.send(Some(true));
            let clusters = client.openapi_clusters().await?;
            Ok((Catalog::from_openapi_clusters(&clusters), true))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// Decides the names of new builds in scope: a definition in the projects
/// read here, and targeted.
fn new_names_in_scope<'a>(scope: &ReadScope<'a>, policy: &ReadPolicy<'_>) -> BTreeSet<&'a str> {
    // A set: a scan of the projects per definition was quadratic in the
    // fleet (issue 13).
    let read_here: HashSet<&str> = scope.projects.iter().map(String::as_str).collect();
    scope
        .desired
        .iter()
        .filter(|d| read_here.contains(d.project_key()) && policy.wanted(d.project_key(), d.name()))
        .map(DesiredBuild::name)
        .collect()
}

/// Decides where a read goes: waiting for the look-ups, parked for the
/// template look-ups, or to the sink.
fn route(
    build: LiveBuild,
    base: &Option<(Catalog, bool)>,
    waiting: &mut Vec<LiveBuild>,
    parked: &mut Vec<LiveBuild>,
    sink: &mut dyn LiveSink,
) {
    match base {
        None => waiting.push(build),
        Some((catalog, openapi_only)) => {
            if !openapi_only
                && (live_uses_templates(&build)
                    || sink.needs_templates(&build.project, build.name()))
            {
                parked.push(build);
            } else {
                sink.read(build, catalog);
            }
        }
    }
}

/// Decides what a project's listing adds: the names it hides and shows, and
/// the reads it queues (their count is returned).
fn queue_listing(
    policy: &ReadPolicy<'_>,
    project: &str,
    briefs: Vec<BuildBrief>,
    ignored: &mut BTreeMap<String, String>,
    new_names: &mut BTreeSet<&str>,
    queue: &mut VecDeque<ReadOrder>,
    sink: &mut dyn LiveSink,
) -> usize {
    let decided = policy.select(project, briefs);
    for name in decided.ignored {
        ignored.insert(name, project.to_owned());
    }
    for b in &decided.listed {
        new_names.remove(b.name.as_str());
    }
    let queued = decided.reads.len();
    sink.listed(project, &decided.listed);
    let shared: Arc<str> = Arc::from(project);
    for order in decided.reads {
        let brief = &decided.listed[order.index];
        queue.push_back(ReadOrder {
            project: Arc::clone(&shared),
            name: brief.name.clone(),
            source: brief.source.clone(),
            update_time: brief.update_time,
            compared: order.compared,
        });
    }
    queued
}

/// Decides what the project list gives: the projects, or `None` when the
/// token may not list them (the check is skipped, with a warning).
fn checked_project_list(
    project_list: Result<Vec<crate::zadig::wire::ProjectBrief>, ApiError>,
) -> anyhow::Result<Option<Vec<crate::zadig::wire::ProjectBrief>>> {
    Ok(match project_list {
        Ok(p) => Some(p),
        Err(e) if ui_api_unavailable(&e) => {
            tracing::warn!(
                "cannot list Zadig's projects ({e}); declared projects were not checked"
            );
            None
        }
        Err(e) => return Err(anyhow!(e).context("cannot list Zadig's projects")),
    })
}

/// Decides which names of new builds are taken in projects this directory
/// does not manage (an `ignore`d name counts as taken).
async fn names_elsewhere(
    client: &Client,
    check_elsewhere: bool,
    tried: &BTreeSet<String>,
    new_names: &BTreeSet<&str>,
    ignored: &BTreeMap<String, String>,
    project_list: Option<Vec<crate::zadig::wire::ProjectBrief>>,
) -> BTreeMap<String, String> {
    let mut elsewhere = BTreeMap::new();
    if check_elsewhere && !new_names.is_empty() {
        // Every project listed this run, or tried: a failed listing is not
        // tried twice.
        let listed: BTreeSet<&str> = tried.iter().map(String::as_str).collect();
        elsewhere = find_elsewhere(client, &listed, new_names, project_list).await;
        for n in new_names {
            if let Some(project) = ignored.get(*n) {
                elsewhere.insert((*n).to_owned(), project.clone());
            }
        }
    }
    elsewhere
}

/// The build and dockerfile template look-ups of a run (only when a build
/// or a definition uses a template), each started once, as soon as the
/// first build or definition needing it is seen, so that template builds
/// are planned while the other reads go on.
#[derive(Default)]
struct TemplateLookups {
    /// Look-ups in flight.
    set: JoinSet<TemplateDone>,
    /// The base catalog with what has arrived (made once a template build
    /// or definition is seen).
    catalog: Option<Catalog>,
    build_list: Started,
    docker_list: Started,
    /// Build templates whose variables were asked for.
    vars_asked: BTreeSet<String>,
    /// Build templates live builds use, until the list is in (the
    /// variables are asked for after the list, as they always were).
    vars_waiting: BTreeSet<String>,
    /// Parked reads already looked at (their look-ups started).
    seen: usize,
    /// A failed template list (the run fails with it).
    build_list_error: Option<ApiError>,
    docker_list_error: Option<ApiError>,
}

#[derive(Default, PartialEq)]
enum Started {
    #[default]
    No,
    Asked,
    Arrived,
}

enum TemplateDone {
    BuildList(Result<Arc<Vec<crate::zadig::wire::NamedId>>, ApiError>),
    DockerList(Result<Arc<Vec<crate::zadig::wire::NamedId>>, ApiError>),
    Vars(String, Result<crate::zadig::wire::BuildTemplate, ApiError>),
}

impl TemplateLookups {
    /// What the definitions need, whatever is live: the template of a
    /// template build is checked at plan time, and the preserving write
    /// needs dockerfile template ids.
    fn start_for_definitions(&mut self, client: &Client, base: &Catalog, desired: &[DesiredBuild]) {
        if desired.iter().any(|d| d.kind() == Kind::TemplateBuild) {
            self.ask_build_list(client, base);
        }
        // A plain build that uses templates uses a dockerfile template.
        if desired
            .iter()
            .any(|d| d.uses_templates && d.kind() == Kind::Build)
        {
            self.ask_docker_list(client, base);
        }
    }

    fn ensure_catalog(&mut self, base: &Catalog) {
        if self.catalog.is_none() {
            self.catalog = Some(base.clone());
        }
    }

    fn ask_build_list(&mut self, client: &Client, base: &Catalog) {
        if self.build_list == Started::No {
            self.ensure_catalog(base);
            self.build_list = Started::Asked;
            let client = client.clone();
            self.set
                .spawn(async move { TemplateDone::BuildList(client.build_templates().await) });
        }
    }

    fn ask_docker_list(&mut self, client: &Client, base: &Catalog) {
        if self.docker_list == Started::No {
            self.ensure_catalog(base);
            self.docker_list = Started::Asked;
            let client = client.clone();
            self.set.spawn(
                async move { TemplateDone::DockerList(client.dockerfile_templates().await) },
            );
        }
    }

    fn ask_vars(&mut self, client: &Client, id: &str) {
        if self.vars_asked.insert(id.to_owned()) {
            let client = client.clone();
            let id = id.to_owned();
            self.set.spawn(async move {
                let r = client.build_template(&id).await;
                TemplateDone::Vars(id, r)
            });
        }
    }

    /// Files a look-up that arrived; the build template list starts the
    /// variables' look-ups of the definitions' templates.
    fn arrived(&mut self, done: TemplateDone, client: &Client, desired: &[DesiredBuild]) {
        let Some(catalog) = self.catalog.as_mut() else {
            return;
        };
        match done {
            TemplateDone::BuildList(Ok(list)) => {
                self.build_list = Started::Arrived;
                catalog.build_templates = list.as_ref().clone();
                let ids: Vec<String> = desired
                    .iter()
                    .filter(|d| d.kind() == Kind::TemplateBuild)
                    .filter_map(|d| match d.def() {
                        BuildDef::Template(t) => catalog.build_template_id(&t.template_name),
                        BuildDef::Build(_) => None,
                    })
                    .map(str::to_owned)
                    .collect();
                for id in std::mem::take(&mut self.vars_waiting).iter().chain(&ids) {
                    self.ask_vars(client, id);
                }
            }
            TemplateDone::BuildList(Err(e)) => self.build_list_error = Some(e),
            TemplateDone::DockerList(Ok(list)) => {
                self.docker_list = Started::Arrived;
                catalog.dockerfile_templates = list.as_ref().clone();
            }
            TemplateDone::DockerList(Err(e)) => self.docker_list_error = Some(e),
            TemplateDone::Vars(id, Ok(t)) => {
                catalog
                    .build_template_vars
                    .insert(id, t.pre_build.map(|p| p.envs).unwrap_or_default());
            }
            TemplateDone::Vars(id, Err(e)) => {
                tracing::warn!(
                    "cannot read build template {id} ({e}); its unlisted variables are not compared"
                );
            }
        }
    }

    /// Starts the look-ups the newly parked reads need, and once every
    /// look-up started has arrived, plans the parked stored reads.
    fn release(
        &mut self,
        client: &Client,
        base: &Option<(Catalog, bool)>,
        parked: &mut Vec<LiveBuild>,
        sink: &mut dyn LiveSink,
    ) {
        let Some((base_catalog, false)) = base else {
            return;
        };
        for b in &parked[self.seen.min(parked.len())..] {
            if let LiveRead::Stored { model, .. } = &b.read {
                if !model.template_id.is_empty() {
                    self.ask_build_list(client, base_catalog);
                    self.ask_vars_after_list(client, &model.template_id);
                }
                if model
                    .post_build
                    .as_ref()
                    .and_then(|p| p.docker_build.as_ref())
                    .is_some_and(|d| d.source == "template")
                {
                    self.ask_docker_list(client, base_catalog);
                }
            }
        }
        self.seen = parked.len();
        let failed = self.build_list_error.is_some() || self.docker_list_error.is_some();
        if parked.is_empty() || !self.set.is_empty() || failed {
            return;
        }
        // Every look-up started has arrived: a stored read is planned now;
        // a read of the OpenAPI detail waits for the complete catalog.
        self.ensure_catalog(base_catalog);
        let catalog = self.catalog.as_ref().expect("made above");
        let mut rest = Vec::new();
        for b in parked.drain(..) {
            if matches!(b.read, LiveRead::Stored { .. }) {
                sink.read(b, catalog);
            } else {
                rest.push(b);
            }
        }
        *parked = rest;
        self.seen = parked.len();
    }

    /// The variables of a template a live build uses: asked for once the
    /// list is in (recorded until then).
    fn ask_vars_after_list(&mut self, client: &Client, id: &str) {
        if self.build_list == Started::Arrived {
            self.ask_vars(client, id);
        } else {
            self.vars_waiting.insert(id.to_owned());
        }
    }

    /// The catalog with the template look-ups, once all arrived.
    fn finish(self, mut base: Catalog) -> Result<Catalog, ApiError> {
        if let Some(e) = self.build_list_error {
            return Err(e);
        }
        if let Some(e) = self.docker_list_error {
            return Err(e);
        }
        if let Some(c) = self.catalog {
            base.build_templates = c.build_templates;
            base.dockerfile_templates = c.dockerfile_templates;
            base.build_template_vars = c.build_template_vars;
        }
        Ok(base)
    }
}

/// One read to make, as it waits in the queue (a large fleet queues one per
/// build): its project (shared by the project's reads), what the plan uses
/// of the listing entry, and the credentials compared.
struct ReadOrder {
    project: Arc<str>,
    name: String,
    source: String,
    update_time: i64,
    compared: Compared,
}

/// What a read task returns: `None` when the look-ups failed.
type ReadDone = (String, BuildBrief, Option<Result<LiveRead, ApiError>>);

/// Starts queued reads until `window` tasks exist.
fn spawn_reads(
    queue: &mut VecDeque<ReadOrder>,
    reads: &mut JoinSet<ReadDone>,
    window: usize,
    client: &Client,
    mode: &tokio::sync::watch::Receiver<Option<bool>>,
) {
    while reads.len() < window
        && let Some(order) = queue.pop_front()
    {
        let ReadOrder {
            project,
            name,
            source,
            update_time,
            compared,
        } = order;
        let project = project.to_string();
        let brief = BuildBrief {
            name,
            source,
            update_time,
            ..BuildBrief::default()
        };
        let client = client.clone();
        let mut mode = mode.clone();
        reads.spawn(async move {
            let openapi_only = mode.wait_for(Option::is_some).await.ok().and_then(|m| *m);
            let read = match openapi_only {
                Some(openapi_only) => {
                    Some(read_one(&client, &project, &brief.name, openapi_only, &compared).await)
                }
                None => None,
            };
            (project, brief, read)
        });
    }
}

/// Whether an error means the UI API is not reachable with this token or
/// through this gateway (so the OpenAPI-only mode applies).
fn ui_api_unavailable(e: &ApiError) -> bool {
    matches!(e.status(), Some(401 | 403 | 404 | 405))
}

async fn read_one(
    client: &Client,
    project: &str,
    name: &str,
    openapi_only: bool,
    compared: &[Box<str>],
) -> Result<LiveRead, ApiError> {
    if !openapi_only {
        match client.stored_build_raw(project, name).await {
            Ok((model, raw)) => {
                return stored_with_credentials(client, project, name, model, raw, compared).await;
            }
            Err(e @ ApiError::StoredModelUnavailable { .. })
            | Err(e @ ApiError::NotABuild { .. }) => {
                tracing::debug!(
                    project,
                    name,
                    "stored model not readable ({e}); using the OpenAPI detail"
                );
            }
            Err(e) if ui_api_unavailable(&e) => {
                tracing::debug!(
                    project,
                    name,
                    "stored model not readable ({e}); using the OpenAPI detail"
                );
            }
            Err(e) => return Err(e),
        }
    }
    let detail = client.build_detail(project, name, None).await?;
    let mut targets = Vec::new();
    if !detail.template_name.is_empty() {
        for t in &detail.target_services {
            targets.push(
                client
                    .build_detail(project, name, Some((&t.service_name, &t.service_module)))
                    .await?,
            );
        }
    }
    Ok(LiveRead::Detail {
        detail: Box::new(detail),
        targets,
    })
}

/// Released Zadig masks credential values in the stored model (one-read
/// §2.4): read those from the OpenAPI detail, which returns them in plain
/// text, when the plan compares one of them (`compared`: the keys whose
/// desired value is a literal).
async fn stored_with_credentials(
    client: &Client,
    project: &str,
    name: &str,
    model: StoredBuild,
    raw: Box<str>,
    compared: &[Box<str>],
) -> Result<LiveRead, ApiError> {
    let masked = model.template_id.is_empty()
        && model.pre_build.as_ref().is_some_and(|p| {
            p.envs.iter().any(|e| {
                e.is_credential && e.value == MASK && compared.iter().any(|k| **k == *e.key)
            })
        });
    let mut credentials = BTreeMap::new();
    if masked {
        let detail = client.build_detail(project, name, None).await?;
        for p in detail.parameters.into_iter().filter(|p| p.is_credential) {
            credentials.insert(p.key, p.value);
        }
    }
    Ok(LiveRead::Stored {
        model: Box::new(model),
        credentials,
        raw: Some(raw),
    })
}

/// Lists the projects this token sees, and the builds of every one not
/// listed (or tried) already (`listed`; managed projects outside `--project`
/// are not, so they are listed here),
/// to find where `names` are taken. Best effort: a project that cannot be
/// listed is skipped (the create would then fail with Zadig's own "exists in
/// project X" message).
async fn find_elsewhere(
    client: &Client,
    listed: &BTreeSet<&str>,
    names: &BTreeSet<&str>,
    projects: Option<Vec<crate::zadig::wire::ProjectBrief>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(projects) = projects else {
        tracing::debug!("cannot list projects to check build names");
        return out;
    };
    let mut set = JoinSet::new();
    for p in projects
        .into_iter()
        .filter(|p| !listed.contains(p.project_key.as_str()))
    {
        let client = client.clone();
        set.spawn(async move {
            let r = client.list_builds(&p.project_key).await;
            (p.project_key, r)
        });
    }
    while let Some(Ok((project, r))) = set.join_next().await {
        if let Ok(builds) = r {
            for b in builds {
                if names.contains(b.name.as_str()) {
                    out.insert(b.name, project.clone());
                }
            }
        }
    }
    out
}
