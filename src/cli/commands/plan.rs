//! `plan`: show what apply would change. Run in pull-request checks.

use anyhow::bail;

use crate::cli::args::{GlobalArgs, OutputFormat, PlanArgs};
use crate::cli::exit::{ExitStatus, Outcome};
use crate::cli::pipeline::{check_targets, compute, connection, prepare};
use crate::cli::planfile::{Made, PlanFile, endpoint_id, shell_word};
use crate::cli::printer::Printer;
use crate::cli::session::Session;
use crate::core::diagnostics::Diagnostic;
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
    check_targets(&args.targets, prepared.config(), &args.projects)?;
    let conn = connection(global, &prepared)?;
    let session = Session::open(&conn, Some(&args.dir)).await?;
    let plan = compute(&session.client, &prepared, &opts, printer).await;
    session.close().await;
    let plan = plan?;
    print(
        &plan,
        View::Plan,
        args.output,
        &prepared.load.diagnostics,
        printer,
    )?;
    if let Some(out) = &args.out {
        // A plan of a directory that did not load, or of a partial listing,
        // is not one to apply: it is shown, never saved.
        if prepared.load.has_errors() {
            bail!(
                "the plan was not saved to {}: the definition files have errors (shown above)",
                out.display()
            );
        }
        if plan.is_partial() {
            bail!(
                "the plan was not saved to {}: it is incomplete (see the warnings)",
                out.display()
            );
        }
        PlanFile::new(Made {
            plan: &plan,
            opts: &opts,
            endpoint: endpoint_id(&conn),
            contents: &prepared.contents,
            config: prepared.config(),
            builds: &prepared.load.builds,
        })
        .write(out)?;
        printer.note(&format!(
            "plan saved to {}; apply it with `zadig-sync apply {}` (no directory needed)",
            out.display(),
            shell_word(&out.display().to_string())
        ));
    }
    if prepared.load.has_errors() || plan.is_partial() {
        // Shown, but not a plan to trust: some definitions or projects are missing.
        return Ok(ExitStatus::Failure);
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Writes a plan to stdout in the chosen format. In human form its warnings
/// go to stderr, and `-q` leaves only the summary line.
pub(crate) fn print(
    plan: &Plan,
    view: View,
    format: OutputFormat,
    diagnostics: &[Diagnostic],
    printer: &Printer,
) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Human => {
            for w in &plan.warnings {
                printer.warn(w);
            }
            if printer.quiet() {
                format!("{}\n", render::summary_line(plan, view))
            } else {
                render::human::render(plan, view, printer.color())
            }
        }
        OutputFormat::Json => render::json::render(plan, view, diagnostics),
        OutputFormat::Markdown => render::markdown::render(plan, view),
    };
    printer.out(&text)?;
    Ok(())
}
