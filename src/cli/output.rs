//! Output that several commands share: a load's diagnostics, a plan in the
//! chosen format. Here, so that commands never import each other.

use super::args::OutputFormat;
use super::fs::DirContents;
use super::printer::Printer;
use crate::core::diagnostics::Diagnostic;
use crate::core::load::LoadResult;
use crate::core::plan::Plan;
use crate::render::{self, View, diagnostics};

/// Prints a load's diagnostics on stderr: everything, or only errors with
/// `-q` (which hides notes and warnings, never errors).
pub fn show_diagnostics(result: &LoadResult, contents: &DirContents, printer: &Printer) {
    // Rendered styled: the printer strips the styles when colour is off on
    // stderr (decided once, in `settings::OutputSettings`).
    // Literal credential values never show in a snippet, on any line.
    // (Each definition is unpacked for them, so only when there is
    // something to show.)
    if result.diagnostics.is_empty() {
        return;
    }
    let secrets: Vec<String> = result
        .builds
        .iter()
        .flat_map(|b| crate::core::secrets::credential_values(&b.def.unpack()))
        .collect();
    let text = if printer.quiet() {
        let errors: Vec<_> = result.errors().cloned().collect();
        diagnostics::render_masked(&errors, contents, true, &secrets)
    } else {
        diagnostics::render_masked(&result.diagnostics, contents, true, &secrets)
    };
    printer.diagnostics(&text);
}

/// Writes a plan to stdout in the chosen format. In human form its warnings
/// go to stderr, and `-q` leaves only the summary line.
pub fn print_plan(
    plan: &Plan,
    view: View,
    format: OutputFormat,
    diagnostics: &[Diagnostic],
    printer: &Printer,
) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Human => {
            for w in &plan.warnings {
                printer.warn(&render::notice::warning(w));
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
