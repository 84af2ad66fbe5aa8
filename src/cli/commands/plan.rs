//! `plan`: show what apply would change. Run in pull-request checks.

use anyhow::bail;

use crate::cli::args::{GlobalArgs, OutputFormat, PlanArgs};
use crate::cli::driver;
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::pipeline::{check_targets, connection, prepare};
use crate::cli::planfile::{Made, PlanFile, endpoint_id, shell_word};
use crate::cli::printer::Printer;
use crate::cli::session::Session;
use crate::core::plan::PlanOptions;
use crate::kinds::build::shell::DRIVER as BUILDS;
use crate::render::{self, View};

/// Runs `plan`.
pub async fn run(global: &GlobalArgs, args: &PlanArgs, printer: &Printer) -> CommandResult {
    let prepared = prepare(&args.dir, &args.projects, printer)?;
    let opts = PlanOptions {
        allow_erase: args.allow_erase,
        allow_mass_delete: args.allow_mass_delete,
        projects: args.projects.clone(),
        targets: args.targets.clone(),
        load_errors: prepared.load.has_errors(),
    };
    check_targets(&args.targets, prepared.config(), &args.projects)?;
    // Read before connecting: an unknown revision fails fast, offline.
    let base = match &args.base {
        Some(rev) => Some(BUILDS.read_base(&args.dir, rev, &args.projects, printer)?),
        None => None,
    };
    let conn = connection(global, &prepared)?;
    let session = Session::open(&conn, Some(&args.dir)).await?;
    let plan = BUILDS
        .plan(&session.client, &prepared, base.as_ref(), &opts, printer)
        .await;
    let parts = driver::plan_all(&session.client, &prepared.load).await;
    session.close().await;
    let plan = plan?;
    let parts = parts?;
    if args.output == OutputFormat::Markdown {
        driver::print_parts(printer, args.output, &prepared.load, &parts)?;
        let text = render::markdown::render_comment(&plan, View::Plan, &marker_label(&args.dir));
        printer.out(&text)?;
    } else {
        driver::print_plan(
            &plan,
            View::Plan,
            args.output,
            &prepared.load,
            &parts,
            printer,
        )?;
    }
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
        let made = Made {
            plan: &plan,
            opts: &opts,
            endpoint: endpoint_id(&conn),
            contents: &prepared.contents,
            config: prepared.config(),
            builds: &prepared.desired,
        };
        // The files' text is released after loading: their digests were
        // taken before.
        match prepared.digests.clone() {
            Some(d) => PlanFile::with_digests(made, d),
            None => PlanFile::new(made),
        }
        .with_parts(&prepared.load, &parts)
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
    Ok(
        if args.detailed_exitcode && (plan.has_changes() || parts.has_changes()) {
            ExitStatus::Changes
        } else {
            ExitStatus::Success
        },
    )
}

/// The directory as the comment's marker names it: the path as given,
/// without `./` and trailing slashes (`.` for the current directory), so the
/// same command line finds the same comment.
pub(crate) fn marker_label(dir: &std::path::Path) -> String {
    let text = dir.to_string_lossy().replace('\\', "/");
    let mut t = text.as_str();
    while let Some(rest) = t.strip_prefix("./") {
        t = rest;
    }
    let t = t.trim_end_matches('/');
    if t.is_empty() {
        ".".to_owned()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::marker_label;
    use std::path::Path;

    #[test]
    fn the_marker_label_is_the_directory_as_given_without_noise() {
        assert_eq!(marker_label(Path::new("defs")), "defs");
        assert_eq!(marker_label(Path::new("./defs/")), "defs");
        assert_eq!(marker_label(Path::new(".")), ".");
        assert_eq!(marker_label(Path::new("./")), ".");
        assert_eq!(marker_label(Path::new("a/b")), "a/b");
    }
}
