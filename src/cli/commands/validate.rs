//! `validate`: check a definition directory offline and report every problem.

use std::collections::BTreeSet;
use std::io::Write as _;

use crate::cli::args::ValidateArgs;
use crate::cli::exit::{ExitStatus, Outcome};
use crate::cli::fs;
use crate::cli::printer::Printer;
use crate::core::load::LoadResult;
use crate::render::diagnostics;

/// Runs `validate`: diagnostics (warnings too) on stderr, a one-line summary
/// on stdout when there is no error. Exit 1 when there is one.
pub fn run(args: &ValidateArgs, printer: &Printer) -> Outcome {
    let (contents, result) = fs::load_dir(&args.dir)?;
    // Colour is decided per stream by anstream (`--color`, NO_COLOR, a
    // terminal or not): render styled and let it strip.
    if printer.quiet() {
        let errors: Vec<_> = result.errors().cloned().collect();
        // `-q` hides notes and warnings, never errors: Printer::status would
        // drop these, so write them to stderr directly.
        let text = diagnostics::render(&errors, &contents, true);
        let mut err = anstream::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    } else {
        printer.status(&diagnostics::render(&result.diagnostics, &contents, true));
    }
    if result.has_errors() {
        return Ok(ExitStatus::Failure);
    }
    printer.out(&format!("{}\n", summary(&result, contents.files.len())))?;
    Ok(ExitStatus::Success)
}

/// `Valid: 7 builds in 6 files (2 projects).`
pub fn summary(result: &LoadResult, files: usize) -> String {
    let projects: BTreeSet<&str> = result.builds.iter().map(|b| b.def.project_key()).collect();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "Valid: {} in {} ({}).",
        plural(result.builds.len(), "build"),
        plural(files, "file"),
        plural(projects.len(), "project")
    )
}
