//! `show`: render a saved plan again, as `plan` showed it when it was made.

use crate::cli::args::{OutputFormat, ShowArgs};
use crate::cli::driver;
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::planfile::PlanFile;
use crate::cli::printer::Printer;
use crate::render::{self, View};

/// Runs `show`: reads no directory and makes no request.
pub fn run(args: &ShowArgs, printer: &Printer) -> CommandResult {
    let saved = PlanFile::read(&args.plan)?;
    let plan = &saved.plan;
    let parts = driver::read_saved(&saved.kinds)?;
    let changed: Vec<_> = driver::changed(&parts).collect();
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
            // The other kinds, those with changes in the plan.
            let others: String = changed
                .iter()
                .map(|(_, p)| {
                    if printer.quiet() {
                        format!("{}\n", p.summary())
                    } else {
                        p.human()
                    }
                })
                .collect();
            if printer.quiet() {
                format!("{others}{}\n", render::summary_line(plan, View::Plan))
            } else {
                head + &others + &render::human::render(plan, View::Plan, printer.color())
            }
        }
        OutputFormat::Json if !changed.is_empty() => {
            let added: Vec<(&str, serde_json::Value)> = changed
                .iter()
                .map(|(d, p)| (d.json_key(), p.json()))
                .collect();
            render::with_json_parts(&render::json::render(plan, View::Plan, &[]), &added)
        }
        OutputFormat::Json => render::json::render(plan, View::Plan, &[]),
        OutputFormat::Markdown => {
            let head: String = changed.iter().map(|(_, p)| p.markdown()).collect();
            head + &render::markdown::render(plan, View::Plan)
        }
    };
    printer.out(&text)?;
    Ok(ExitStatus::Success)
}
