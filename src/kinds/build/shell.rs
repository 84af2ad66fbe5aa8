//! The build kind's shell: [`BuildDriver`], the engine of builds (plain and
//! template), wrapping the streaming pipeline (`cli::pipeline`,
//! `cli::live`, `core::plan::Planner`) and the apply path: select what to
//! write, check every credential, confirm, re-read `update_time`, write in
//! two phases (creates and updates, then deletes), read every written build
//! back.
//!
//! Runs on merge, unattended, against a production Zadig, so it:
//! - re-reads each target's `update_time` right before writing (Zadig has no
//!   locking: this is the optimistic-concurrency guard);
//! - writes complete bodies (Zadig's update is a full replace), creates and
//!   updates concurrently, deletes last;
//! - keeps going when one build fails, and reports every build's outcome;
//! - reads every written build back and reports what did not converge.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cli::args::ApplyOutputFormat;
use crate::cli::pipeline::{BaseDefs, Prepared, compute, compute_with_base};
use crate::cli::planfile::PlanFile;
use crate::cli::printer::Printer;
use crate::cli::progress::{Progress, ProgressHandle, until_interrupted};
use crate::core::apply::{self as core_apply, select};
use crate::core::model::{BuildDef, TemplateBuildSpec};
use crate::core::notice::OutcomeReason;
use crate::core::plan::{Action, Change, DesiredBuild, Plan, PlanOptions, WritePath};
use crate::core::preserve::{wants_workspace_cache, with_workspace_cache};
use crate::core::report::{self, Report, Status};
use crate::core::secrets::{resolve_env, wire_body};
use crate::render::{self, View};
use crate::zadig::client::{Client, WriteOutcome};

/// The build kind's driver: plans builds on the streaming pipeline and
/// applies a plan of them.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildDriver;

/// The build kind's driver.
pub static DRIVER: BuildDriver = BuildDriver;

/// How [`BuildDriver::apply`] ended, when it did not fail.
pub enum Applied {
    /// Writes were made (or skipped): the report.
    Report(Report),
    /// Nothing to change.
    NothingToDo,
    /// The user did not confirm.
    Declined,
}

/// What an apply of builds is asked to do.
pub struct ApplyRequest<'a> {
    /// The session's client.
    pub client: &'a Client,
    /// The definitions (of the directory or of the saved plan).
    pub prepared: &'a Prepared,
    /// The saved plan applied, if any: only its changes are made.
    pub saved: Option<&'a PlanFile>,
    /// The plan's options.
    pub opts: &'a PlanOptions,
    /// The report's format.
    pub output: ApplyOutputFormat,
    /// No confirmation asked.
    pub auto_approve: bool,
    /// Writes in flight at most.
    pub concurrency: usize,
    /// Where the writes go, in the confirmation prompt's words.
    pub target: &'a str,
    /// Where output goes.
    pub printer: &'a Printer,
}

/// The outcomes of the writes made, with their changes.
type Written = Vec<(Change, report::WriteOutcome)>;

impl BuildDriver {
    /// Plans the builds against the live system; with `base`, the causes of
    /// each change (`plan --base`).
    pub async fn plan(
        &self,
        client: &Client,
        prepared: &Prepared,
        base: Option<&BaseDefs>,
        opts: &PlanOptions,
        printer: &Printer,
    ) -> anyhow::Result<Plan> {
        compute_with_base(client, prepared, base, opts, printer).await
    }

    /// The definitions at `rev` (git), loaded as the directory is, in the
    /// same scope: the base of `plan --base`. Read before connecting, so an
    /// unknown revision fails fast, offline.
    pub fn read_base(
        &self,
        dir: &std::path::Path,
        rev: &str,
        projects: &[String],
        printer: &Printer,
    ) -> anyhow::Result<BaseDefs> {
        read_base(dir, rev, projects, printer)
    }

    /// A saved plan's build definitions, for an `apply PLANFILE` without a
    /// directory. Literal credential values are never saved: the builds
    /// that hold one and that the plan writes go to `literal`.
    pub fn saved_defs(
        &self,
        saved: &PlanFile,
        literal: &mut Vec<String>,
    ) -> anyhow::Result<Vec<(BuildDef, String)>> {
        let writes: BTreeSet<(&str, &str)> = saved
            .changes
            .iter()
            .filter(|c| c.blocked.is_none() && !matches!(c.action, Action::Delete))
            .map(|c| (c.project.as_str(), c.name.as_str()))
            .collect();
        let mut defs = Vec::new();
        for d in &saved.definitions {
            let def = d.to_def().with_context(|| {
                format!("the plan file's definition from {} is damaged", d.origin)
            })?;
            if !d.literal_credentials.is_empty()
                && writes.contains(&(def.project_key(), def.name()))
            {
                literal.push(format!(
                    "{}/{}: {}",
                    def.project_key(),
                    def.name(),
                    d.literal_credentials.join(", ")
                ));
            }
            defs.push((def, d.origin.clone()));
        }
        Ok(defs)
    }

    /// Plans, selects, confirms, writes, verifies.
    pub async fn apply(&self, req: &ApplyRequest<'_>) -> anyhow::Result<Applied> {
        let plan = complete_plan(req).await?;
        let (work, skipped) = select(&plan, req.saved.map(|p| p.changes.as_slice()));
        if let Some(saved) = req.saved {
            note_up_to_date(&plan, saved, req.printer);
        }
        if work.is_empty() && skipped.is_empty() {
            req.printer
                .out(&format!("{}\n", render::summary_line(&plan, View::Plan)))?;
            return Ok(Applied::NothingToDo);
        }
        check_credentials(&work, req.prepared)?;
        if req.saved.is_none() && !work.is_empty() && !confirmed(req, &plan, &work).await? {
            req.printer.out("Apply cancelled: nothing was changed.\n")?;
            return Ok(Applied::Declined);
        }
        let mut report = Report {
            outcomes: skipped,
            ..Report::default()
        };
        let (written, watch) = write_all(req, work, &mut report).await?;
        // Ctrl-C stays acknowledged (not a quit) until the read-back is done.
        let verification = read_back(req, &written).await;
        watch.stop(&mut report);
        report.outcomes.extend(converged(written, &verification?));
        sort_as_planned(&mut report, &plan);
        Ok(Applied::Report(report))
    }
}

/// The definitions at `rev`, loaded as the directory is, in the same scope.
fn read_base(
    dir: &std::path::Path,
    rev: &str,
    projects: &[String],
    printer: &Printer,
) -> anyhow::Result<BaseDefs> {
    let at = crate::cli::git::read_at(dir, rev)?;
    if at.contents.config.is_none() && at.contents.files.is_empty() {
        // The directory is new since the base: every build is added.
        return Ok(BaseDefs {
            desired: Vec::new(),
            complete: true,
        });
    }
    let result = crate::cli::fs::load_contents(
        at.contents.config.as_ref(),
        &at.contents.files,
        crate::cli::settings::cores(),
    );
    if result.has_errors() {
        printer.warn(&format!(
            "the definitions at {rev} ({}) do not all load: changes to builds missing there are shown as conflicts",
            &at.commit[..at.commit.len().min(12)]
        ));
    }
    let lookup = crate::cli::settings::env_var;
    let desired = result
        .builds
        .iter()
        .filter(|l| projects.is_empty() || projects.iter().any(|p| p == l.def.project_key()))
        .map(|l| {
            DesiredBuild::new(
                &resolve_env(&l.def.unpack(), &lookup).0,
                format!("{}:{}", l.origin.file, l.origin.line),
            )
        })
        .collect();
    Ok(BaseDefs {
        desired,
        complete: !result.has_errors(),
    })
}

/// The plan to apply; refused when some project could not be read. Before
/// any write, Ctrl-C simply cancels (the progress bar clears).
async fn complete_plan(req: &ApplyRequest<'_>) -> anyhow::Result<Plan> {
    let plan = until_interrupted(
        compute(req.client, req.prepared, req.opts, req.printer),
        "nothing was written",
    )
    .await?;
    if plan.incomplete {
        // Say why here: the plan's warnings are not printed on this path.
        bail!(
            "some projects could not be read: nothing was applied\n  {}",
            plan.warnings
                .iter()
                .map(render::notice::warning)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    Ok(plan)
}

/// A saved plan's changes that the live system already has.
fn note_up_to_date(plan: &Plan, saved: &PlanFile, printer: &Printer) {
    let now: BTreeSet<(&str, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.project.as_str(), c.name.as_str()))
        .collect();
    for s in saved.changes.iter().filter(|s| s.blocked.is_none()) {
        if !now.contains(&(s.project.as_str(), s.name.as_str())) {
            printer.note(&format!("{}/{}: already up to date", s.project, s.name));
        }
    }
}

/// Every credential must be resolvable before anything is written.
fn check_credentials(work: &[Change], prepared: &Prepared) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for c in work {
        if let Some(def) = &c.desired
            && wire_body(&def.unpack()).is_none()
        {
            for (build, m) in prepared
                .missing_env
                .iter()
                .filter(|(b, _)| *b == format!("{}/{}", c.project, c.name))
            {
                missing.push(format!("{build}: {} ({})", m.var, m.path));
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "environment variables for credentials are not set: nothing was applied\n  {}",
            missing.join("\n  ")
        );
    }
    Ok(())
}

/// Shows the plan (human report) and asks, unless `--auto-approve`.
async fn confirmed(req: &ApplyRequest<'_>, plan: &Plan, work: &[Change]) -> anyhow::Result<bool> {
    if req.output == ApplyOutputFormat::Human {
        for w in &plan.warnings {
            req.printer.warn(&render::notice::warning(w));
        }
        if !req.printer.quiet() {
            req.printer.out(&render::human::render(
                plan,
                View::Plan,
                req.printer.color(),
            ))?;
        }
    }
    Ok(req.auto_approve || confirm(work, req.target).await?)
}

/// The Ctrl-C watch of the writes.
struct Watch {
    watcher: tokio::task::JoinHandle<()>,
    interrupted: Arc<AtomicBool>,
}

impl Watch {
    /// Ends the watch; the report says whether Ctrl-C came.
    fn stop(self, report: &mut Report) {
        self.watcher.abort();
        report.interrupted = self.interrupted.load(Ordering::SeqCst);
    }
}

/// Re-reads `update_time`, then writes the rest in two phases (creates and
/// updates, then deletes) under Ctrl-C watch. A build changed since the plan
/// read it goes to `report` unwritten.
async fn write_all(
    req: &ApplyRequest<'_>,
    work: Vec<Change>,
    report: &mut Report,
) -> anyhow::Result<(Written, Watch)> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let writing = Progress::start(req.printer, "writing");
    let watcher = tokio::spawn(watch_interrupts(
        interrupted.clone(),
        in_flight.clone(),
        writing.handle(),
    ));
    let stale = match stale_builds(req.client, &work).await {
        Ok(s) => s,
        Err(e) => {
            watcher.abort();
            return Err(e);
        }
    };
    let mut writes = Vec::new();
    for c in work {
        if stale.contains(&(c.project.clone(), c.name.clone())) {
            report
                .outcomes
                .push(core_apply::stale(&c, OutcomeReason::ChangedSinceRead));
        } else {
            writes.push(c);
        }
    }
    let concurrency = Arc::new(Semaphore::new(req.concurrency));
    let (first, last): (Vec<Change>, Vec<Change>) =
        writes.into_iter().partition(|c| !c.action.deletes());
    writing.set(0, first.len() + last.len());
    let mut written = Vec::new();
    for phase in [first, last] {
        let outcomes = run_phase(
            req.client,
            phase,
            &concurrency,
            &interrupted,
            &in_flight,
            &writing.handle(),
        )
        .await;
        written.extend(outcomes);
    }
    // Before the read-back draws its own bar.
    drop(writing);
    Ok((
        written,
        Watch {
            watcher,
            interrupted,
        },
    ))
}

/// Reads every written build back: accepted is not the same as stored.
async fn read_back(req: &ApplyRequest<'_>, written: &Written) -> anyhow::Result<Plan> {
    let applied = || written.iter().filter(|(_, o)| o.status == Status::Applied);
    let attempted: Vec<String> = applied()
        .map(|(c, _)| format!("{}/{}", c.project, c.name))
        .collect();
    if attempted.is_empty() {
        return Ok(Plan::default());
    }
    // Only the projects written to are listed again (a project per
    // request): the others hold no target.
    let projects: BTreeSet<String> = applied().map(|(c, _)| c.project.clone()).collect();
    let vopts = PlanOptions {
        targets: attempted,
        projects: projects.into_iter().collect(),
        ..req.opts.clone()
    };
    compute(req.client, req.prepared, &vopts, req.printer)
        .await
        .context("cannot read the written builds back")
}

/// The outcomes of the writes, a written build that still differs on the
/// read-back marked as not converged.
fn converged(written: Written, verification: &Plan) -> Vec<report::WriteOutcome> {
    let mut out = Vec::new();
    for (c, mut o) in written {
        if o.status == Status::Applied
            && let Some(left) = verification
                .changes
                .iter()
                .find(|v| v.project == c.project && v.name == c.name)
        {
            o.status = Status::NotConverged;
            o.reason = Some(match left.action {
                Action::Delete => OutcomeReason::StillExists,
                Action::Create => OutcomeReason::NotCreated,
                _ => OutcomeReason::StoredDiffers,
            });
            o.fields = left.fields.clone();
        }
        out.push(o);
    }
    out
}

/// The report's outcomes in the plan's order.
fn sort_as_planned(report: &mut Report, plan: &Plan) {
    let order: BTreeMap<(&str, &str), usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.project.as_str(), c.name.as_str()), i))
        .collect();
    report.outcomes.sort_by_key(|o| {
        order
            .get(&(o.project.as_str(), o.name.as_str()))
            .copied()
            .unwrap_or(usize::MAX)
    });
}

/// Ctrl-C while writing: acknowledged at once; no new write starts, writes in
/// flight finish and are reported. A second Ctrl-C quits at once.
async fn watch_interrupts(
    interrupted: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    progress: ProgressHandle,
) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    interrupted.store(true, Ordering::SeqCst);
    let n = in_flight.load(Ordering::SeqCst);
    progress.println(&format!(
        "stopping: {n} write{} in flight; no new write starts (Ctrl-C again to quit at once)",
        if n == 1 { "" } else { "s" }
    ));
    if tokio::signal::ctrl_c().await.is_ok() {
        let n = in_flight.load(Ordering::SeqCst);
        progress.clear();
        progress.println(&format!(
            "quitting with {n} write{} in flight: their outcome is unknown; run `zadig-sync plan` \
             to see what was applied",
            if n == 1 { "" } else { "s" }
        ));
        // No report: the user asked to leave now.
        crate::cli::exit::quit(crate::cli::exit::ExitStatus::Failure);
    }
}

/// The question: how many changes of each kind, and where they will be written.
fn prompt(work: &[Change], target: &str) -> String {
    let count = |a: Action| work.iter().filter(|c| c.action == a).count();
    let kinds: Vec<String> = [
        (Action::Create, "to create"),
        (Action::Update, "to update"),
        (Action::Replace, "to replace"),
        (Action::Delete, "to delete"),
    ]
    .into_iter()
    .map(|(a, what)| (count(a), what))
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!(
        "Apply {} change{} to {target} ({})? Only 'yes' will be accepted: ",
        work.len(),
        if work.len() == 1 { "" } else { "s" },
        kinds.join(", ")
    )
}

/// Asks for `yes` on a terminal; refuses without one. Ctrl-C at the prompt
/// declines.
async fn confirm(work: &[Change], target: &str) -> anyhow::Result<bool> {
    crate::cli::confirm::ask(&prompt(work, target)).await
}

/// Builds whose live `update_time` changed since the plan read them: re-read
/// from the listing (one request per project) right before writing.
async fn stale_builds(
    client: &Client,
    work: &[Change],
) -> anyhow::Result<BTreeSet<(String, String)>> {
    let projects: BTreeSet<&str> = work
        .iter()
        .filter(|c| c.live_update_time.is_some())
        .map(|c| c.project.as_str())
        .collect();
    let mut set = JoinSet::new();
    for p in projects {
        let client = client.clone();
        let p = p.to_owned();
        set.spawn(async move {
            let r = client.list_builds(&p).await;
            (p, r)
        });
    }
    let mut now: BTreeMap<(String, String), i64> = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        let (p, r) = joined.context("a listing task failed")?;
        let builds = r.with_context(|| {
            format!("cannot re-read project `{p}` before writing: nothing was applied")
        })?;
        for b in builds {
            now.insert((p.clone(), b.name), b.update_time);
        }
    }
    Ok(work
        .iter()
        .filter(|c| {
            c.live_update_time
                .is_some_and(|t| now.get(&(c.project.clone(), c.name.clone())) != Some(&t))
        })
        .map(|c| (c.project.clone(), c.name.clone()))
        .collect())
}

/// Runs one phase's writes concurrently. After Ctrl-C no new write starts;
/// writes in flight finish.
async fn run_phase(
    client: &Client,
    changes: Vec<Change>,
    concurrency: &Arc<Semaphore>,
    interrupted: &Arc<AtomicBool>,
    in_flight: &Arc<AtomicUsize>,
    progress: &ProgressHandle,
) -> Vec<(Change, report::WriteOutcome)> {
    let mut set = JoinSet::new();
    for c in changes {
        let client = client.clone();
        let sem = concurrency.clone();
        let stop = interrupted.clone();
        let in_flight = in_flight.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let permit = sem.acquire_owned().await;
            let mut o = report::WriteOutcome {
                project: c.project.clone(),
                name: c.name.clone(),
                kind: c.kind,
                action: c.action,
                status: Status::NotAttempted,
                reason: None,
                fields: Vec::new(),
                resolved_after_ambiguity: false,
            };
            if permit.is_err() || stop.load(Ordering::SeqCst) {
                o.reason = Some(OutcomeReason::Interrupted);
                return (c, o);
            }
            in_flight.fetch_add(1, Ordering::SeqCst);
            let result = write(&client, &c).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            progress.inc();
            match result {
                Ok((outcome, note)) => {
                    o.status = Status::Applied;
                    o.reason = note;
                    o.resolved_after_ambiguity =
                        matches!(outcome, WriteOutcome::ResolvedAfterAmbiguity);
                }
                Err(e) => {
                    o.status = Status::Failed;
                    o.reason = Some(OutcomeReason::WriteFailed {
                        error: format!("{e:#}"),
                    });
                }
            }
            (c, o)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(pair) = joined {
            out.push(pair);
        }
    }
    out
}

/// The body of a template build's write: the one the plan made (every
/// variable per target, as compared), else the definition's own.
fn template_body(
    c: &Change,
    def: impl FnOnce() -> anyhow::Result<BuildDef>,
) -> anyhow::Result<TemplateBuildSpec> {
    match &c.write_body {
        Some(Ok(v)) => serde_json::from_str(&v.text()).context("the template body does not decode"),
        _ => match def()? {
            BuildDef::Template(t) => Ok(t),
            BuildDef::Build(_) => bail!("a template build's definition is not a template build"),
        },
    }
}

/// One write, through the path the plan chose: the preserving write (the
/// stored model changed where the definition says, build-api-ui-made.md §9),
/// or the complete desired body (the OpenAPI update is a full replace). A
/// replace converts in place (§8): never a delete. With a note for the
/// report when the preserving write fell back to the OpenAPI.
async fn write(
    client: &Client,
    c: &Change,
) -> anyhow::Result<(WriteOutcome, Option<OutcomeReason>)> {
    let body = || {
        c.desired
            .as_ref()
            .and_then(|d| wire_body(&d.unpack()))
            .context("a credential value is not resolved")
    };
    let done = |o: WriteOutcome| (o, None);
    match c.action {
        Action::Create if c.write_path == Some(WritePath::Template) => {
            let t = template_body(c, body)?;
            Ok(done(client.create_template_build(&t).await?))
        }
        Action::Create => {
            let def = body()?;
            let o = create(client, &def).await?;
            // The OpenAPI create cannot store a workspace cache: the UI's
            // save sets it right after (build-api-ui-made.md §2, §9).
            if let BuildDef::Build(b) = &def
                && wants_workspace_cache(b)
            {
                let (_, raw) = client.stored_build_raw(&c.project, &c.name).await?;
                let raw: serde_json::Value = serde_json::from_str(&raw)
                    .context("the stored model just read is not a JSON value")?;
                client
                    .update_stored_build(&c.project, &c.name, &with_workspace_cache(&raw))
                    .await
                    .context(
                        "created, but the workspace cache could not be set through the UI API",
                    )?;
            }
            Ok(done(o))
        }
        Action::Update if c.write_path == Some(WritePath::Preserving) => {
            let model = match &c.write_body {
                // Held as text until now (issue 13): parsed once, to send.
                Some(Ok(model)) => model.to_value(),
                Some(Err(e)) => bail!("cannot make the preserving write: {e}"),
                None => bail!("a credential value is not resolved"),
            };
            match client
                .update_stored_build(&c.project, &c.name, &model)
                .await
            {
                Ok(o) => Ok(done(o)),
                Err(e) if matches!(e.status(), Some(403..=405)) => {
                    if !c.fallback_allowed {
                        bail!(
                            "the UI API refused the preserving write ({e}; a 403 means the token lacks Build.Edit), and the OpenAPI fallback would erase: {}; grant Build.Edit, or re-run with --allow-erase to accept",
                            c.erases.join("; ")
                        );
                    }
                    let BuildDef::Build(b) = body()? else {
                        bail!("a plain build's definition is not a plain build");
                    };
                    let o = client.update_build(&b).await?;
                    Ok((
                        o,
                        Some(OutcomeReason::OpenapiFallback {
                            error: e.to_string(),
                            erased: c.erases.clone(),
                        }),
                    ))
                }
                Err(e) => Err(e.into()),
            }
        }
        Action::Update | Action::Replace if c.write_path == Some(WritePath::Template) => {
            // Every variable per target, as the plan compared them.
            let t = template_body(c, body)?;
            Ok(done(client.update_template_build(&t).await?))
        }
        Action::Update | Action::Replace => match body()? {
            BuildDef::Build(b) => Ok(done(client.update_build(&b).await?)),
            BuildDef::Template(t) => Ok(done(client.update_template_build(&t).await?)),
        },
        Action::Delete => Ok(done(client.delete_build(&c.project, &c.name).await?)),
    }
}

async fn create(client: &Client, def: &BuildDef) -> anyhow::Result<WriteOutcome> {
    Ok(match def {
        BuildDef::Build(b) => client.create_build(b).await?,
        BuildDef::Template(t) => client.create_template_build(t).await?,
    })
}
