//! `plan`: show what apply would change. Run in pull-request checks.

use crate::cli::args::{GlobalArgs, OutputFormat, PlanArgs};
use crate::cli::exit::{ExitStatus, Outcome};
use crate::cli::fs::content_hash;
use crate::cli::pipeline::{check_targets, compute, connect, prepare};
use crate::cli::planfile::PlanFile;
use crate::cli::printer::Printer;
use crate::core::plan::{Plan, PlanOptions};
use crate::render::{self, View};

/// Runs `plan`.
pub async fn run(global: &GlobalArgs, args: &PlanArgs, printer: &Printer) -> Outcome {
    let prepared = prepare(&args.dir, &args.projects, printer)?;
    let opts = PlanOptions {
        allow_erase: args.allow_erase,
        allow_mass_delete: args.allow_mass_delete,
        projects: args.projects.clone(),
        targets: args.targets.clone(),
        load_errors: prepared.load.has_errors(),
    };
    check_targets(&args.targets, prepared.config())?;
    let session = connect(global, &prepared, &args.dir).await?;
    let plan = compute(&session.client, &prepared, &opts, printer).await;
    session.close().await;
    let plan = plan?;
    print(&plan, View::Plan, args.output, printer)?;
    if let Some(out) = &args.out {
        PlanFile::new(&plan, content_hash(&prepared.contents), &opts).write(out)?;
        printer.note(&format!(
            "plan saved to {}; apply it with `zadig-sync apply --plan {}`",
            out.display(),
            out.display()
        ));
    }
    if prepared.load.has_errors() || plan.incomplete {
        // Shown, but not a plan to trust: some definitions or projects are missing.
        return Ok(ExitStatus::Failure);
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Writes a plan to stdout in the chosen format.
pub(crate) fn print(
    plan: &Plan,
    view: View,
    format: OutputFormat,
    printer: &Printer,
) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Human => render::human::render(plan, view, printer.color()),
        OutputFormat::Json => render::json::render(plan, view),
        OutputFormat::Markdown => render::markdown::render(plan, view),
    };
    printer.out(&text)?;
    Ok(())
}
