//! `show`: render a saved plan again, as `plan` showed it when it was made.

use crate::cli::args::{OutputFormat, ShowArgs};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::planfile::PlanFile;
use crate::cli::printer::Printer;
use crate::render::{self, View};

/// Runs `show`: reads no directory and makes no request.
pub fn run(args: &ShowArgs, printer: &Printer) -> CommandResult {
    let saved = PlanFile::read(&args.plan)?;
    let plan = &saved.plan;
    let text = match args.output {
        OutputFormat::Human => {
            for w in &plan.warnings {
                printer.warn(&render::notice::warning(w));
            }
            let head = format!(
                "Saved plan {} (zadig-sync {}), made against {} for {}.\n\n",
                args.plan.display(),
                saved.zadig_sync_version,
                saved.endpoint,
                if saved.projects.is_empty() {
                    "no project".to_owned()
                } else {
                    format!("project(s) {}", saved.projects.join(", "))
                }
            );
            // The build templates, when the plan has changes of them.
            let templates = if !saved.templates.has_changes() {
                String::new()
            } else if printer.quiet() {
                format!("{}\n", render::templates::summary(&saved.templates))
            } else {
                render::templates::human(&saved.templates)
            };
            if printer.quiet() {
                format!("{templates}{}\n", render::summary_line(plan, View::Plan))
            } else {
                head + &templates + &render::human::render(plan, View::Plan, printer.color())
            }
        }
        OutputFormat::Json if saved.templates.has_changes() => render::templates::with_json(
            &render::json::render(plan, View::Plan, &[]),
            &saved.templates,
        ),
        OutputFormat::Json => render::json::render(plan, View::Plan, &[]),
        OutputFormat::Markdown if saved.templates.has_changes() => {
            render::templates::markdown(&saved.templates)
                + &render::markdown::render(plan, View::Plan)
        }
        OutputFormat::Markdown => render::markdown::render(plan, View::Plan),
    };
    printer.out(&text)?;
    Ok(ExitStatus::Success)
}
