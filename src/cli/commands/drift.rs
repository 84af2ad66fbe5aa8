//! `drift`: report live changes made outside git. Run from cron: exits 2
//! whenever Zadig differs from the files. Read-only: it never writes.

use crate::cli::args::{DriftArgs, GlobalArgs};
use crate::cli::driver;
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::pipeline::{check_targets, connect, prepare};
use crate::cli::printer::Printer;
use crate::core::plan::PlanOptions;
use crate::kinds::build::shell::DRIVER as BUILDS;
use crate::render::View;

/// Runs `drift`.
pub async fn run(global: &GlobalArgs, args: &DriftArgs, printer: &Printer) -> CommandResult {
    let prepared = prepare(&args.dir, &args.projects, printer)?;
    let opts = PlanOptions {
        projects: args.projects.clone(),
        targets: args.targets.clone(),
        load_errors: prepared.load.has_errors(),
        ..PlanOptions::default()
    };
    check_targets(&args.targets, prepared.config(), &args.projects)?;
    let session = connect(global, &prepared, &args.dir).await?;
    let plan = BUILDS
        .plan(&session.client, &prepared, None, &opts, printer)
        .await;
    let parts = driver::plan_all(&session.client, &prepared.load).await;
    session.close().await;
    let plan = plan?;
    let parts = parts?;
    driver::print_plan(
        &plan,
        View::Drift,
        args.output,
        &prepared.load,
        &parts,
        printer,
    )?;
    if prepared.load.has_errors() || plan.is_partial() {
        return Ok(ExitStatus::Failure);
    }
    Ok(if plan.has_changes() || parts.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
