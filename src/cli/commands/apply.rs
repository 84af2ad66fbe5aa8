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

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::args::{ApplyArgs, ApplyOutputFormat, GlobalArgs};
use crate::cli::confirm;
use crate::cli::driver::{self, KindOutcome, Parts};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::pipeline::{Prepared, check_targets, connection, prepare, resolved};
use crate::cli::planfile::{PlanFile, endpoint_id};
use crate::cli::printer::Printer;
use crate::cli::session::Session;
use crate::cli::settings::Connection;
use crate::core::load::LoadResult;
use crate::core::plan::PlanOptions;
use crate::kinds::build::{
    self,
    shell::{Applied, ApplyRequest},
};
use crate::render;
use crate::zadig::client::Client;

/// Runs `apply`: what to apply, the session, the kinds before the builds,
/// the builds, the kinds after them, the report.
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
    let (prepared, opts) = what_to_apply(saved.as_ref(), dir.as_deref(), args, printer)?;
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
    let target = target_name(&session, global);
    let req = ApplyRequest {
        client: &session.client,
        prepared: &prepared,
        saved: saved.as_ref(),
        opts: &opts,
        output: args.output,
        auto_approve: args.auto_approve,
        // One source: the resolved connection (the client's ceiling too).
        concurrency: conn.concurrency,
        target: &target,
        printer,
    };
    let applied = apply_all(&req).await;
    session.close().await;
    let (result, kind_outcomes) = applied?;
    report(result, kind_outcomes, args.output, printer)
}

/// The definitions to apply and the plan's options: the saved plan's, or
/// the directory's (`.` by default) with the flags.
fn what_to_apply(
    saved: Option<&PlanFile>,
    dir: Option<&Path>,
    args: &ApplyArgs,
    printer: &Printer,
) -> anyhow::Result<(Prepared, PlanOptions)> {
    if let Some(p) = saved {
        return Ok((from_saved(p, dir, printer)?, p.options()));
    }
    let dir = dir.unwrap_or(Path::new("."));
    let prepared = prepare(dir, &args.projects, printer)?;
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
    Ok((prepared, opts))
}

/// Where the writes will go, as the confirmation prompt names it.
fn target_name(session: &Session, global: &GlobalArgs) -> String {
    match (&session.emulator, &global.emulator) {
        (Some(_), Some(Some(state))) => {
            format!(
                "the in-process emulator with state file {}",
                state.display()
            )
        }
        (Some(_), _) => "a throw-away in-process emulator".to_owned(),
        (None, _) => session.client.endpoint(),
    }
}

/// The three phases, in order, while the session is open: the kinds before
/// the builds (the builds may use a created or updated template), the
/// builds, then the kinds' deletes once the builds that used them are gone
/// (never after the builds were declined or failed to plan).
async fn apply_all(
    req: &ApplyRequest<'_>,
) -> anyhow::Result<(anyhow::Result<Applied>, KindOutcomes)> {
    let load = &req.prepared.load;
    let (first, mut kind_outcomes) = match req.saved {
        None => kinds_before(req.client, load, req.auto_approve, req.target, req.printer).await?,
        Some(p) => saved_kinds_before(req.client, load, p).await?,
    };
    let result = build::shell::DRIVER.apply(req).await;
    if matches!(result, Ok(Applied::Report(_) | Applied::NothingToDo)) {
        let saved_parts = req
            .saved
            .map(|p| driver::read_saved(&p.kinds))
            .transpose()?;
        let after = kinds_after(req.client, load, &first, saved_parts.as_ref()).await?;
        for (all, more) in kind_outcomes.iter_mut().zip(after) {
            all.1.extend(more.1);
        }
    }
    Ok((result, kind_outcomes))
}

/// Prints the apply report (the kinds' outcomes, then the builds') and
/// says how the command exits.
fn report(
    result: anyhow::Result<Applied>,
    mut kind_outcomes: KindOutcomes,
    output: ApplyOutputFormat,
    printer: &Printer,
) -> CommandResult {
    let kinds_failed = kind_outcomes
        .iter()
        .any(|(_, o)| o.iter().any(KindOutcome::failed));
    kind_outcomes.retain(|(_, o)| !o.is_empty());
    let kinds_human: String = kind_outcomes
        .iter()
        .map(|(d, o)| d.outcomes_human(o))
        .collect();
    let kinds_json: Vec<(&str, serde_json::Value)> = kind_outcomes
        .iter()
        .map(|(d, o)| (d.json_key(), serde_json::json!(o)))
        .collect();
    let exit = |failed: bool| {
        if failed {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    };
    let report = match result? {
        Applied::Report(report) => report,
        Applied::NothingToDo if !kind_outcomes.is_empty() => {
            let text = match output {
                ApplyOutputFormat::Human => kinds_human,
                ApplyOutputFormat::Json => render::with_json_parts("{}", &kinds_json),
            };
            printer.out(&text)?;
            return Ok(exit(kinds_failed));
        }
        Applied::NothingToDo => return Ok(ExitStatus::Success),
        // Terraform exits 1 too: what was asked for did not happen.
        Applied::Declined => return Ok(ExitStatus::Failure),
    };
    let text = match output {
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
    Ok(exit(report.failed() || kinds_failed))
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
fn from_saved(saved: &PlanFile, dir: Option<&Path>, printer: &Printer) -> anyhow::Result<Prepared> {
    if let Some(dir) = dir {
        let crate::cli::fs::LoadedDir {
            contents,
            load,
            digests,
        } = crate::cli::fs::load_dir(dir)?;
        let changed = saved.changed_files(&digests);
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
    // Literal credential values are never saved: a change that needs one
    // can be written only from its directory.
    let mut literal = Vec::new();
    let defs = build::shell::DRIVER.saved_defs(saved, &mut literal)?;
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
    let defs = defs
        .into_iter()
        .map(|(def, origin)| (crate::core::packed::PackedDef::new(&def), origin))
        .collect();
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

/// Every kind's outcomes, by driver, in registry order.
type KindOutcomes = Vec<(&'static dyn driver::Driver, Vec<KindOutcome>)>;

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
        if !auto_approve && !confirm::ask(&text).await? {
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
