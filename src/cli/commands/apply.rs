//! `apply`: make Zadig match the files. Runs on merge, unattended, against a
//! production Zadig, so it:
//! - applies exactly a reviewed plan when given one (`apply PLANFILE`), from
//!   the plan's own definitions, only against the endpoint it was made
//!   against, refusing a directory that is not the one planned and, build by
//!   build, live changes made since the plan (exit 1);
//! - re-reads each target's `update_time` right before writing (Zadig has no
//!   locking: this is the optimistic-concurrency guard);
//! - writes complete bodies (Zadig's update is a full replace), creates and
//!   updates concurrently, deletes last;
//! - keeps going when one build fails, and reports every build's outcome;
//! - reads every written build back and reports what did not converge.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cli::args::{ApplyArgs, ApplyOutputFormat, GlobalArgs};
use crate::cli::driver::{self, Outcome, Parts};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::pipeline::{check_targets, compute, connection, prepare, resolved};
use crate::cli::planfile::{PlanFile, endpoint_id};
use crate::cli::printer::Printer;
use crate::cli::progress::{Progress, ProgressHandle, until_interrupted};
use crate::cli::session::Session;
use crate::cli::settings::Connection;
use crate::core::apply::{self as core_apply, select};
use crate::core::load::LoadResult;
use crate::core::model::BuildDef;
use crate::core::notice::OutcomeReason;
use crate::core::plan::{Action, Change, Plan, PlanOptions, WritePath};
use crate::core::preserve::{wants_workspace_cache, with_workspace_cache};
use crate::core::report::{self, Report, Status};
use crate::core::secrets::wire_body;
use crate::render::{self, View};
use crate::zadig::client::{Client, WriteOutcome};

/// Runs `apply`.
pub async fn run(global: &GlobalArgs, args: &ApplyArgs, printer: &Printer) -> CommandResult {
    let (plan_path, dir) = locate(args)?;
    let saved = plan_path.as_deref().map(PlanFile::read).transpose()?;
    if saved.is_some()
        && (!args.targets.is_empty()
            || !args.projects.is_empty()
            || args.allow_erase
            || args.allow_mass_delete)
    {
        bail!(
            "a saved plan is applied as it was made: --project, --target, --allow-erase and --allow-mass-delete belong to `zadig-sync plan`"
        );
    }
    let (prepared, opts) = match &saved {
        Some(p) => (from_saved(p, dir.as_deref(), printer)?, p.options()),
        None => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from("."));
            let prepared = prepare(&dir, &args.projects, printer)?;
            if prepared.load.has_errors() {
                bail!("the definition files have errors (shown above): nothing was applied");
            }
            let opts = PlanOptions {
                allow_erase: args.allow_erase,
                allow_mass_delete: args.allow_mass_delete,
                projects: args.projects.clone(),
                targets: args.targets.clone(),
                ..PlanOptions::default()
            };
            (prepared, opts)
        }
    };

    check_targets(&opts.targets, prepared.config(), &args.projects)?;
    let conn = match &saved {
        Some(p) => bound_connection(global, p)?,
        None => connection(global, &prepared)?,
    };
    // The definition directory (`.` by default without a saved plan) may
    // ship the in-process emulator's seed.
    let seed_dir = dir
        .clone()
        .or_else(|| saved.is_none().then(|| PathBuf::from(".")));
    let session = Session::open(&conn, seed_dir.as_deref()).await?;
    // One source: the resolved connection (the client's ceiling too).
    let concurrency = conn.concurrency;
    // Named in the confirmation prompt: where the writes will go.
    let target = match (&session.emulator, &global.emulator) {
        (Some(_), Some(Some(state))) => {
            format!(
                "the in-process emulator with state file {}",
                state.display()
            )
        }
        (Some(_), _) => "a throw-away in-process emulator".to_owned(),
        (None, _) => session.client.endpoint(),
    };
    // The kinds before the builds first: the builds may use a created or
    // updated template.
    let before = match &saved {
        None => {
            kinds_before(
                &session.client,
                &prepared.load,
                args.auto_approve,
                &target,
                printer,
            )
            .await
        }
        Some(p) => saved_kinds_before(&session.client, &prepared.load, p).await,
    };
    let (first, mut kind_outcomes) = match before {
        Ok(b) => b,
        Err(e) => {
            session.close().await;
            return Err(e);
        }
    };
    let result = apply(
        &session.client,
        &prepared,
        saved.as_ref(),
        &opts,
        args,
        concurrency,
        &target,
        printer,
    )
    .await;
    // Their deletes last, once the builds that used them are gone; never
    // after the builds were declined or failed to plan.
    if matches!(result, Ok(Applied::Report(_) | Applied::NothingToDo)) {
        let saved_parts = saved
            .as_ref()
            .map(|p| driver::read_saved(&p.kinds))
            .transpose();
        let after = match saved_parts {
            Ok(sp) => kinds_after(&session.client, &prepared.load, &first, sp.as_ref()).await,
            Err(e) => Err(e),
        };
        match after {
            Ok(o) => {
                for (all, more) in kind_outcomes.iter_mut().zip(o) {
                    all.1.extend(more.1);
                }
            }
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        }
    }
    session.close().await;
    let kinds_failed = kind_outcomes
        .iter()
        .any(|(_, o)| o.iter().any(Outcome::failed));
    kind_outcomes.retain(|(_, o)| !o.is_empty());
    let kinds_human: String = kind_outcomes
        .iter()
        .map(|(d, o)| d.outcomes_human(o))
        .collect();
    let kinds_json: Vec<(&str, serde_json::Value)> = kind_outcomes
        .iter()
        .map(|(d, o)| (d.json_key(), serde_json::json!(o)))
        .collect();
    let report = match result? {
        Applied::Report(report) => report,
        Applied::NothingToDo if !kind_outcomes.is_empty() => {
            let text = match args.output {
                ApplyOutputFormat::Human => kinds_human,
                ApplyOutputFormat::Json => render::with_json_parts("{}", &kinds_json),
            };
            printer.out(&text)?;
            return Ok(if kinds_failed {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            });
        }
        Applied::NothingToDo => return Ok(ExitStatus::Success),
        // Terraform exits 1 too: what was asked for did not happen.
        Applied::Declined => return Ok(ExitStatus::Failure),
    };
    let text = match args.output {
        ApplyOutputFormat::Human => format!(
            "{kinds_human}{}",
            render::apply::human(&report, printer.color(), printer.quiet())
        ),
        ApplyOutputFormat::Json if kinds_json.is_empty() => render::apply::json(&report),
        ApplyOutputFormat::Json => {
            render::with_json_parts(&render::apply::json(&report), &kinds_json)
        }
    };
    printer.out(&text)?;
    Ok(if report.failed() || kinds_failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Sorts the positional arguments into a saved plan (a file) and a
/// definition directory.
fn locate(args: &ApplyArgs) -> anyhow::Result<(Option<PathBuf>, Option<PathBuf>)> {
    let mut plan = args.plan.clone();
    let mut dir: Option<PathBuf> = None;
    for p in &args.paths {
        let meta = std::fs::metadata(p)
            .with_context(|| format!("{}: no such plan file or directory", p.display()))?;
        if meta.is_dir() {
            if let Some(d) = &dir {
                bail!(
                    "two directories given ({} and {}): give one definition directory",
                    d.display(),
                    p.display()
                );
            }
            dir = Some(p.clone());
        } else {
            if let Some(other) = &plan {
                bail!(
                    "two plan files given ({} and {}): apply one saved plan at a time",
                    other.display(),
                    p.display()
                );
            }
            plan = Some(p.clone());
        }
    }
    Ok((plan, dir))
}

/// What to apply, from a saved plan: its own definitions, or, with a
/// directory, the directory's, which must be exactly those planned.
fn from_saved(
    saved: &PlanFile,
    dir: Option<&Path>,
    printer: &Printer,
) -> anyhow::Result<crate::cli::pipeline::Prepared> {
    if let Some(dir) = dir {
        let (contents, load) = crate::cli::fs::load_dir(dir)?;
        let changed = saved.changed_files(&contents);
        if !changed.is_empty() {
            bail!(
                "{} is not the directory this plan was made from: nothing was applied; \
                 re-run `zadig-sync plan --out` and review the new plan. Files that differ:\n  {}",
                dir.display(),
                changed.join("\n  ")
            );
        }
        crate::cli::output::show_diagnostics(&load, &contents, printer);
        if load.has_errors() {
            bail!("the definition files have errors (shown above): nothing was applied");
        }
        let mut load = load;
        let defs = crate::cli::pipeline::take_defs(&mut load);
        return Ok(resolved(contents, load, defs, &saved.projects));
    }
    // Literal credential values are never saved: a build that holds one can
    // be written only from its directory.
    let writes: BTreeSet<(&str, &str)> = saved
        .changes
        .iter()
        .filter(|c| c.blocked.is_none() && !matches!(c.action, Action::Delete))
        .map(|c| (c.project.as_str(), c.name.as_str()))
        .collect();
    let mut defs = Vec::new();
    let mut literal = Vec::new();
    for d in &saved.definitions {
        let def = d
            .to_def()
            .with_context(|| format!("the plan file's definition from {} is damaged", d.origin))?;
        if !d.literal_credentials.is_empty() && writes.contains(&(def.project_key(), def.name())) {
            literal.push(format!(
                "{}/{}: {}",
                def.project_key(),
                def.name(),
                d.literal_credentials.join(", ")
            ));
        }
        defs.push((def, d.origin.clone()));
    }
    // The same for the other kinds.
    let mut load = LoadResult {
        config: saved.config.clone(),
        builds: Vec::new(),
        others: Vec::new(),
        diagnostics: Vec::new(),
    };
    let parts = driver::read_saved(&saved.kinds)?;
    for (d, part) in &parts.0 {
        d.load_saved(&saved.kinds, part.as_ref(), &mut load, &mut literal)?;
    }
    if !literal.is_empty() {
        bail!(
            "the plan does not hold literal credential values, and these builds need them: nothing was applied\n  {}\n\
             Apply the plan with its directory (`zadig-sync apply PLANFILE DIR`), or write the values as {{from_env: NAME}}",
            literal.join("\n  ")
        );
    }
    Ok(resolved(
        crate::cli::fs::DirContents::default(),
        load,
        defs,
        &saved.projects,
    ))
}

/// The connection for a saved plan: where it was made (the flags and the
/// environment may only name the same place). Checked before any request.
fn bound_connection(global: &GlobalArgs, saved: &PlanFile) -> anyhow::Result<Connection> {
    let fallback = (!saved.endpoint.starts_with("emulator")).then_some(saved.endpoint.as_str());
    let conn = Connection::resolve(global, fallback)?;
    let here = endpoint_id(&conn);
    if here != saved.endpoint {
        bail!(
            "this plan was made against {}, and this apply would write to {here}: nothing was applied; \
             apply it against {} (or re-plan against {here} and review that plan)",
            saved.endpoint,
            saved.endpoint
        );
    }
    Ok(conn)
}

/// How [`apply`] ended, when it did not fail.
enum Applied {
    /// Writes were made (or skipped): the report.
    Report(Report),
    /// Nothing to change.
    NothingToDo,
    /// The user did not confirm.
    Declined,
}

/// Plans, selects, confirms, writes, verifies.
#[allow(clippy::too_many_arguments)]
async fn apply(
    client: &Client,
    prepared: &crate::cli::pipeline::Prepared,
    saved: Option<&PlanFile>,
    opts: &PlanOptions,
    args: &ApplyArgs,
    concurrency: usize,
    target: &str,
    printer: &Printer,
) -> anyhow::Result<Applied> {
    // Before any write, Ctrl-C simply cancels (the progress bar clears).
    let plan = until_interrupted(
        compute(client, prepared, opts, printer),
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
    let (work, skipped) = select(&plan, saved.map(|p| p.changes.as_slice()));
    let mut report = Report {
        outcomes: skipped,
        ..Report::default()
    };
    if let Some(saved) = saved {
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
    if work.is_empty() && report.outcomes.is_empty() {
        printer.out(&format!("{}\n", render::summary_line(&plan, View::Plan)))?;
        return Ok(Applied::NothingToDo);
    }

    // Every credential must be resolvable before anything is written.
    let mut missing = Vec::new();
    for c in &work {
        if let Some(def) = &c.desired
            && wire_body(def).is_none()
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

    if saved.is_none() && !work.is_empty() {
        if args.output == ApplyOutputFormat::Human {
            for w in &plan.warnings {
                printer.warn(&render::notice::warning(w));
            }
            if !printer.quiet() {
                printer.out(&render::human::render(&plan, View::Plan, printer.color()))?;
            }
        }
        if !args.auto_approve && !confirm(&work, target).await? {
            printer.out("Apply cancelled: nothing was changed.\n")?;
            return Ok(Applied::Declined);
        }
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let writing = Progress::start(printer, "writing");
    let watcher = tokio::spawn(watch_interrupts(
        interrupted.clone(),
        in_flight.clone(),
        writing.handle(),
    ));
    let stale = stale_builds(client, &work).await;
    let stale = match stale {
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
    let concurrency = Arc::new(Semaphore::new(concurrency));
    let (first, last): (Vec<Change>, Vec<Change>) =
        writes.into_iter().partition(|c| !c.action.deletes());
    writing.set(0, first.len() + last.len());
    let mut written = Vec::new();
    for phase in [first, last] {
        let outcomes = run_phase(
            client,
            phase,
            &concurrency,
            &interrupted,
            &in_flight,
            &writing.handle(),
        )
        .await;
        for (c, o) in outcomes {
            written.push((c, o));
        }
    }
    // Before the read-back draws its own bar.
    drop(writing);

    // Read every written build back: accepted is not the same as stored.
    let attempted: Vec<String> = written
        .iter()
        .filter(|(_, o)| o.status == Status::Applied)
        .map(|(c, _)| format!("{}/{}", c.project, c.name))
        .collect();
    let verification = if attempted.is_empty() {
        Plan::default()
    } else {
        // Only the projects written to are listed again (a project per
        // request): the others hold no target.
        let projects: BTreeSet<String> = written
            .iter()
            .filter(|(_, o)| o.status == Status::Applied)
            .map(|(c, _)| c.project.clone())
            .collect();
        let vopts = PlanOptions {
            targets: attempted,
            projects: projects.into_iter().collect(),
            ..opts.clone()
        };
        compute(client, prepared, &vopts, printer)
            .await
            .context("cannot read the written builds back")?
    };
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
        report.outcomes.push(o);
    }
    watcher.abort();
    report.interrupted = interrupted.load(Ordering::SeqCst);
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
    Ok(Applied::Report(report))
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

/// Every kind's outcomes, by driver, in registry order.
type KindOutcomes = Vec<(&'static dyn driver::Driver, Vec<Outcome>)>;

/// The other kinds' creates and updates, before the builds: each kind's
/// changes shown, then confirmed like the builds (`--auto-approve`, or `yes`
/// on a terminal).
async fn kinds_before(
    client: &Client,
    load: &LoadResult,
    auto_approve: bool,
    target: &str,
    printer: &Printer,
) -> anyhow::Result<(Parts, KindOutcomes)> {
    let parts = driver::plan_all(client, load).await?;
    let mut done = Vec::new();
    for (d, part) in &parts.0 {
        if !part.has_changes() {
            done.push((*d, Vec::new()));
            continue;
        }
        if !printer.quiet() {
            printer.out(&part.human())?;
        }
        let (n, noun) = (part.change_count(), d.change_noun());
        let text = format!(
            "Apply {n} {noun}{} to {target}? Only 'yes' will be accepted: ",
            if n == 1 { "" } else { "s" }
        );
        if !auto_approve && !ask(&text).await? {
            bail!("{noun}s cancelled: nothing was changed");
        }
        done.push((*d, d.apply_before(client, load, part.as_ref(), None).await?));
    }
    Ok((parts, done))
}

/// `apply PLANFILE`'s first step of the other kinds: each planned again, and
/// of it only the changes the saved plan has (see [`driver::Driver::apply_before`]).
/// The deletes after the builds are those of the saved plan.
async fn saved_kinds_before(
    client: &Client,
    load: &LoadResult,
    saved: &PlanFile,
) -> anyhow::Result<(Parts, KindOutcomes)> {
    let parts = driver::read_saved(&saved.kinds)?;
    let mut done = Vec::new();
    for (d, part) in &parts.0 {
        let o = d
            .apply_before(client, load, part.as_ref(), Some(part.as_ref()))
            .await?;
        done.push((*d, o));
    }
    Ok((parts, done))
}

/// The other kinds' deletes, after the builds, in reverse registry order.
async fn kinds_after(
    client: &Client,
    load: &LoadResult,
    first: &Parts,
    saved: Option<&Parts>,
) -> anyhow::Result<KindOutcomes> {
    let mut done = Vec::new();
    for (i, (d, part)) in first.0.iter().enumerate().rev() {
        let saved_part = saved.and_then(|s| s.0.get(i)).map(|(_, p)| p.as_ref());
        let o = d
            .apply_after(client, load, part.as_ref(), saved_part)
            .await?;
        done.push((*d, o));
    }
    done.reverse();
    Ok(done)
}

/// Asks for `yes` on a terminal; refuses without one. Ctrl-C at the prompt
/// declines.
async fn confirm(work: &[Change], target: &str) -> anyhow::Result<bool> {
    ask(&prompt(work, target)).await
}

/// Asks `text` on a terminal; refuses without one.
async fn ask(text: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "apply needs confirmation: no terminal to ask on, so pass --auto-approve (or apply a reviewed plan with --plan)"
        );
    }
    {
        let mut err = std::io::stderr().lock();
        write!(err, "{text}")?;
        err.flush()?;
    }
    // A plain thread: a blocked read must not keep the runtime from ending.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    tokio::select! {
        line = rx => Ok(line.context("cannot read the answer")??.trim() == "yes"),
        signal = tokio::signal::ctrl_c() => {
            signal.context("cannot read the answer")?;
            eprintln!();
            Ok(false)
        }
    }
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
) -> Vec<(Change, report::Outcome)> {
    let mut set = JoinSet::new();
    for c in changes {
        let client = client.clone();
        let sem = concurrency.clone();
        let stop = interrupted.clone();
        let in_flight = in_flight.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let permit = sem.acquire_owned().await;
            let mut o = report::Outcome {
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
            .and_then(wire_body)
            .context("a credential value is not resolved")
    };
    let done = |o: WriteOutcome| (o, None);
    match c.action {
        Action::Create if c.write_path == Some(WritePath::Template) => {
            let t = match &c.write_body {
                Some(Ok(v)) => {
                    serde_json::from_str(v.as_str()).context("the template body does not decode")?
                }
                _ => match body()? {
                    BuildDef::Template(t) => t,
                    BuildDef::Build(_) => {
                        bail!("a template build's definition is not a template build")
                    }
                },
            };
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
            let t = match &c.write_body {
                Some(Ok(v)) => {
                    serde_json::from_str(v.as_str()).context("the template body does not decode")?
                }
                _ => match body()? {
                    BuildDef::Template(t) => t,
                    BuildDef::Build(_) => {
                        bail!("a template build's definition is not a template build")
                    }
                },
            };
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
