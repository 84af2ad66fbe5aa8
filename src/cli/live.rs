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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use globset::{Glob, GlobSetBuilder};
use tokio::task::JoinSet;

use crate::core::catalog::Catalog;
use crate::core::live::{LiveBuild, LiveRead};
use crate::core::model::{BuildDef, Config, DockerfileSource, MASK, ParamValue};
use crate::core::plan::{LiveState, ProjectLive};
use crate::zadig::client::Client;
use crate::zadig::error::ApiError;
use crate::zadig::wire::{BuildBrief, StoredBuild};

/// What to read.
pub struct ReadScope<'a> {
    /// Managed projects to read (already filtered by `--project`).
    pub projects: Vec<String>,
    /// The definitions (to know which builds to read fully and which names to
    /// look for elsewhere).
    pub desired: &'a [BuildDef],
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

/// Reads everything a plan needs.
pub async fn read_live(
    client: &Client,
    config: &Config,
    scope: &ReadScope<'_>,
    progress: Option<Progress>,
) -> anyhow::Result<LiveState> {
    // Whether builds are read through the OpenAPI detail only, once the
    // look-ups say so; the per-build reads wait for it (a dropped sender: the
    // look-ups failed, and so does the run).
    let (mode_tx, mode_rx) = tokio::sync::watch::channel(None::<bool>);
    // Look-ups, listings and the reads of each listed project at once.
    let lookups = async move {
        let (images, clusters, hosts) = tokio::join!(
            client.basic_images(),
            client.clusters(),
            client.code_hosts()
        );
        match (images, clusters) {
            (Ok(images), Ok(clusters)) => {
                let _ = mode_tx.send(Some(false));
                let hosts = hosts.ok();
                Ok::<_, ApiError>((
                    Some(Catalog::from_lookups(
                        &images,
                        &clusters,
                        hosts.as_deref().map(|h| h.as_slice()),
                        &[],
                        &[],
                    )),
                    None,
                ))
            }
            (Err(e), _) | (_, Err(e)) if ui_api_unavailable(&e) => {
                tracing::warn!(
                    "the UI API is not available ({e}); reading builds through the OpenAPI detail only"
                );
                let _ = mode_tx.send(Some(true));
                let clusters = client.openapi_clusters().await?;
                Ok((None, Some(Catalog::from_openapi_clusters(&clusters))))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    };
    // Which builds to read fully: those with a definition or subject to prune,
    // never ignored ones or read-only ones. The targets are a set: the
    // verification after a large apply targets every written build, and a
    // scan of the list per build would be quadratic.
    let targets: HashSet<&str> = scope.targets.iter().map(String::as_str).collect();
    let wanted = |project: &str, name: &str| {
        targets.is_empty() || targets.contains(format!("{project}/{name}").as_str())
    };
    let desired_names: BTreeSet<(&str, &str)> = scope
        .desired
        .iter()
        .map(|d| (d.project_key(), d.name()))
        .collect();
    // Parameters whose value a plan compares (literal values, `from_env`
    // already resolved): only for those is a masked credential worth a
    // second read. `{keep: true}`, unset variables, deletes and imports never
    // compare the plain value.
    let compared: HashMap<(String, String), Arc<BTreeSet<String>>> = scope
        .desired
        .iter()
        .filter_map(|d| match d {
            BuildDef::Build(b) => Some((
                (b.project_key.clone(), b.name.clone()),
                Arc::new(
                    b.parameters
                        .iter()
                        .filter(|p| matches!(p.default_value, ParamValue::Literal(_)))
                        .map(|p| p.key.clone())
                        .collect(),
                ),
            )),
            BuildDef::Template(_) => None,
        })
        .collect();
    // Each project's reads start as soon as its listing arrives.
    let reading = async {
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
        let mut projects = BTreeMap::new();
        let mut reads: BTreeMap<(String, String), LiveRead> = BTreeMap::new();
        let mut failures = Vec::new();
        // Names hidden by `ignore`: never planned, but still taken (names are
        // global), so the name check sees them.
        let mut ignored: BTreeMap<String, String> = BTreeMap::new();
        let mut total = 0;
        loop {
            tokio::select! {
                Some(joined) = lists.join_next() => {
                    let (project, listing) = joined.context("a listing task failed")?;
                    let briefs = match listing {
                        Ok(b) => b,
                        Err(e) => {
                            projects.insert(project, ProjectLive::Failed(e.to_string()));
                            continue;
                        }
                    };
                    let (live, to_read) = select_reads(config, scope, &project, briefs, &wanted, &desired_names, &mut ignored);
                    total += to_read.len();
                    for brief in to_read {
                        let client = client.clone();
                        let project = project.clone();
                        let compared = compared
                            .get(&(project.clone(), brief.name.clone()))
                            .cloned()
                            .unwrap_or_default();
                        let mut mode = mode_rx.clone();
                        reads_set.spawn(async move {
                            let openapi_only = mode.wait_for(Option::is_some).await.ok().and_then(|m| *m);
                            let read = match openapi_only {
                                Some(openapi_only) => Some(
                                    read_one(&client, &project, &brief.name, openapi_only, &compared).await,
                                ),
                                None => None,
                            };
                            (project, brief.name, read)
                        });
                    }
                    projects.insert(project, ProjectLive::Listed(live));
                    // The bar starts once every listing is in (its total known).
                    if lists.is_empty() && total > 0 && let Some(p) = &progress {
                        p(reads.len() + failures.len(), total);
                    }
                }
                Some(joined) = reads_set.join_next() => {
                    let (project, name, read) = joined.context("a read task failed")?;
                    match read {
                        Some(Ok(r)) => {
                            reads.insert((project, name), r);
                        }
                        Some(Err(e)) => failures.push(format!("{project}/{name}: {e}")),
                        None => failures.push(format!("{project}/{name}: not read (the look-ups failed)")),
                    }
                    if lists.is_empty() && let Some(p) = &progress {
                        p(reads.len() + failures.len(), total);
                    }
                }
                else => break,
            }
        }
        Ok::<_, anyhow::Error>((projects, reads, failures, ignored))
    };
    // Zadig's project list: declared projects must exist (one listing).
    let project_list = client.projects();
    let (lookups, reading, project_list) = tokio::join!(lookups, reading, project_list);
    let (full_catalog, openapi_catalog) = lookups.context("cannot read Zadig's look-ups")?;
    let (mut projects, mut reads, failures, ignored) = reading?;
    // A token may lack the right to list projects (or a gateway may not route
    // the list): then the check is skipped with a warning. Any other failure
    // (nothing answers, a broken answer) is an error like any other read.
    let project_list = match project_list {
        Ok(p) => Some(p),
        Err(e) if ui_api_unavailable(&e) => {
            tracing::warn!(
                "cannot list Zadig's projects ({e}); declared projects were not checked"
            );
            None
        }
        Err(e) => return Err(anyhow!(e).context("cannot list Zadig's projects")),
    };
    let openapi_only = full_catalog.is_none();
    let mut catalog = full_catalog.or(openapi_catalog).unwrap_or_default();
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
    for (project, state) in &mut projects {
        if let ProjectLive::Listed(builds) = state {
            for b in builds {
                if let Some(r) = reads.remove(&(project.clone(), b.brief.name.clone())) {
                    b.read = r;
                }
            }
        }
    }

    // Template look-ups only when something uses a template.
    if !openapi_only {
        let uses_build_template = projects.values().any(|p| {
            matches!(p, ProjectLive::Listed(bs) if bs.iter().any(|b| matches!(&b.read, LiveRead::Stored { model, .. } if !model.template_id.is_empty())))
        });
        let uses_docker_template = projects.values().any(|p| {
            matches!(p, ProjectLive::Listed(bs) if bs.iter().any(|b| matches!(&b.read, LiveRead::Stored { model, .. }
                if model.post_build.as_ref().and_then(|p| p.docker_build.as_ref()).is_some_and(|d| d.source == "template"))))
        });
        // The definitions count too: a template that does not exist is found
        // at plan time, and the preserving write needs dockerfile template ids.
        let desires_build_template = scope
            .desired
            .iter()
            .any(|d| matches!(d, BuildDef::Template(_)));
        let desires_docker_template = scope.desired.iter().any(|d| {
            matches!(d, BuildDef::Build(b) if b.docker_build_step.as_ref().is_some_and(|s| s.dockerfile_source == DockerfileSource::Template))
        });
        let uses_build_template = uses_build_template || desires_build_template;
        let uses_docker_template = uses_docker_template || desires_docker_template;
        if uses_build_template {
            catalog.build_templates = client.build_templates().await?.as_ref().clone();
            catalog.build_template_vars = template_vars(client, &catalog, &projects, scope).await;
        }
        if uses_docker_template {
            catalog.dockerfile_templates = client.dockerfile_templates().await?.as_ref().clone();
        }
    }

    // Names of new builds taken in projects this directory does not manage.
    let mut elsewhere = BTreeMap::new();
    if scope.check_elsewhere {
        let live_names: BTreeSet<&str> = projects
            .values()
            .filter_map(|p| match p {
                ProjectLive::Listed(bs) => Some(bs.iter().map(|b| b.name())),
                ProjectLive::Failed(_) => None,
            })
            .flatten()
            .collect();
        // Only new builds in scope: a definition outside the projects read
        // here (or not targeted) is not new, merely not read this time.
        let new_names: BTreeSet<&str> = scope
            .desired
            .iter()
            .filter(|d| {
                scope.projects.iter().any(|p| p == d.project_key())
                    && wanted(d.project_key(), d.name())
            })
            .map(BuildDef::name)
            .filter(|n| !live_names.contains(n))
            .collect();
        if !new_names.is_empty() {
            // Every project listed this run, or tried: a failed listing is
            // not tried twice.
            let listed: BTreeSet<&str> = projects.keys().map(String::as_str).collect();
            elsewhere = find_elsewhere(client, &listed, &new_names, project_list).await;
            for n in &new_names {
                if let Some(project) = ignored.get(*n) {
                    elsewhere.insert((*n).to_owned(), project.clone());
                }
            }
        }
    }

    Ok(LiveState {
        projects,
        elsewhere,
        catalog,
    })
}

/// Which builds of a listed project to keep and which to read fully: those
/// with a definition or subject to prune, never ignored ones or read-only ones.
fn select_reads(
    config: &Config,
    scope: &ReadScope<'_>,
    project: &str,
    briefs: Vec<BuildBrief>,
    wanted: &dyn Fn(&str, &str) -> bool,
    desired_names: &BTreeSet<(&str, &str)>,
    ignored: &mut BTreeMap<String, String>,
) -> (Vec<LiveBuild>, Vec<BuildBrief>) {
    let pc = config.project(project);
    let ignore = {
        let mut b = GlobSetBuilder::new();
        for g in pc.map(|p| p.ignore.as_slice()).unwrap_or_default() {
            if let Ok(g) = Glob::new(g) {
                b.add(g);
            }
        }
        b.build().unwrap_or_else(|_| globset::GlobSet::empty())
    };
    let prune = pc.is_some_and(|p| p.prune);
    let mut to_read = Vec::new();
    let mut kept = Vec::new();
    for brief in briefs {
        if ignore.is_match(&brief.name) {
            // Never read, never reported; only its name is kept.
            ignored.insert(brief.name.clone(), project.to_owned());
            continue;
        }
        let read_only = !brief.source.is_empty() && brief.source != "zadig";
        // A name the API cannot address is never read (the plan reports it).
        let addressable = crate::core::validate::unaddressable_name(&brief.name).is_none();
        let needed = !read_only
            && addressable
            && wanted(project, &brief.name)
            && (scope.read_all || prune || desired_names.contains(&(project, brief.name.as_str())));
        if needed {
            to_read.push(brief.clone());
        }
        kept.push(brief);
    }
    let live = kept
        .into_iter()
        .map(|brief| LiveBuild {
            project: project.to_owned(),
            brief,
            read: LiveRead::NotRead,
        })
        .collect();
    (live, to_read)
}

/// The current variables of every build template a live build or a
/// definition uses (`GET /api/aslan/template/build/:id`, one per template,
/// at once). A template that cannot be read (the token lacks
/// `Template.View`) is left out: its unlisted variables are then not
/// compared.
async fn template_vars(
    client: &Client,
    catalog: &Catalog,
    projects: &BTreeMap<String, ProjectLive>,
    scope: &ReadScope<'_>,
) -> BTreeMap<String, Vec<crate::zadig::wire::KeyVal>> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for p in projects.values() {
        if let ProjectLive::Listed(bs) = p {
            for b in bs {
                if let LiveRead::Stored { model, .. } = &b.read
                    && !model.template_id.is_empty()
                {
                    ids.insert(model.template_id.clone());
                }
            }
        }
    }
    for d in scope.desired {
        if let BuildDef::Template(t) = d
            && let Some(id) = catalog.build_template_id(&t.template_name)
        {
            ids.insert(id.to_owned());
        }
    }
    let mut set = JoinSet::new();
    for id in ids {
        let client = client.clone();
        set.spawn(async move {
            let r = client.build_template(&id).await;
            (id, r)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((id, Ok(t))) => {
                out.insert(id, t.pre_build.map(|p| p.envs).unwrap_or_default());
            }
            Ok((id, Err(e))) => {
                tracing::warn!(
                    "cannot read build template {id} ({e}); its unlisted variables are not compared"
                );
            }
            Err(_) => {}
        }
    }
    out
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
    compared: &BTreeSet<String>,
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
    compared: &BTreeSet<String>,
) -> Result<LiveRead, ApiError> {
    let masked = model.template_id.is_empty()
        && model.pre_build.as_ref().is_some_and(|p| {
            p.envs
                .iter()
                .any(|e| e.is_credential && e.value == MASK && compared.contains(&e.key))
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
