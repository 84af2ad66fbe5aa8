//! `validate`: check a definition directory offline and report every problem.

use std::collections::BTreeSet;

use crate::cli::args::{ValidateArgs, ValidateOutputFormat};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::fs;
use crate::cli::output::show_diagnostics;
use crate::cli::printer::Printer;
use crate::core::load::LoadResult;
use crate::render::json;

/// Runs `validate`: diagnostics (warnings too) on stderr, a one-line summary
/// on stdout when there is no error; with `-o json`, the result and every
/// diagnostic on stdout instead. Exit 1 when there is an error.
pub fn run(args: &ValidateArgs, printer: &Printer) -> CommandResult {
    let fs::LoadedDir {
        contents,
        load: result,
        ..
    } = fs::load_dir(&args.dir)?;
    if args.output == ValidateOutputFormat::Json {
        let projects: BTreeSet<&str> = result.builds.iter().map(|b| b.def.project_key()).collect();
        let doc = serde_json::json!({
            "format_version": json::FORMAT_VERSION,
            "command": "validate",
            "valid": !result.has_errors(),
            "summary": {
                "builds": result.builds.len(),
                "files": contents.files.len(),
                "projects": projects.len(),
                "errors": result.errors().count(),
                "warnings": result.warnings().count(),
            },
            "diagnostics": json::diagnostics(&result.diagnostics),
        });
        // The other kinds are counted only where there are some (the
        // document of a directory without them is as before).
        let mut doc = doc;
        for (info, n) in other_counts(&result) {
            doc["summary"][info.plural] = serde_json::json!(n);
        }
        printer.out(&json::to_pretty(&doc))?;
        return Ok(if result.has_errors() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    show_diagnostics(&result, &contents, printer);
    if result.has_errors() {
        return Ok(ExitStatus::Failure);
    }
    // Files that `exclude` leaves out are not definition files.
    let exclude = crate::core::load::exclude_set(&result.config.exclude);
    let files = contents
        .files
        .iter()
        .filter(|f| !exclude.is_match(&f.path))
        .count();
    printer.out(&format!("{}\n", summary(&result, files)))?;
    Ok(ExitStatus::Success)
}

/// How many definitions of each other kind the directory has (only kinds
/// with some), in registry order.
fn other_counts(result: &LoadResult) -> Vec<(&'static crate::kinds::KindInfo, usize)> {
    crate::kinds::REGISTRY
        .iter()
        .map(|k| (k, result.others.iter().filter(|d| d.kind == k.id).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// `Valid: 7 builds in 6 files (2 projects).`
pub fn summary(result: &LoadResult, files: usize) -> String {
    let projects: BTreeSet<&str> = result.builds.iter().map(|b| b.def.project_key()).collect();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let templates: String = other_counts(result)
        .into_iter()
        .map(|(info, n)| format!(" and {}", plural(n, info.long_noun)))
        .collect();
    format!(
        "Valid: {}{templates} in {} ({}).",
        plural(result.builds.len(), "build"),
        plural(files, "file"),
        plural(projects.len(), "project")
    )
}
