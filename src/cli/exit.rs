//! Exit codes, decided in this one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; no changes (plan, drift) |
//! | 1 | error: a usage error, bad input, a server error, an apply that did not make every change it set out to make, a declined confirmation |
//! | 2 | changes present (`plan --detailed-exitcode`; `drift` whenever live differs) |
//!
//! Nothing else exits 2: clap's own usage errors exit 2 by default, and are
//! mapped to 1 here ([`usage`]).

use std::process::ExitCode;

use super::printer::Printer;

/// What a command ended with, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; nothing to change.
    Success,
    /// Done; there are changes (plan with `--detailed-exitcode`, drift).
    Changes,
    /// The command ran to the end but something failed (e.g. invalid files,
    /// a build that failed to apply); it has already been reported.
    Failure,
}

/// A command's result. Errors are reported by [`report`].
pub type Outcome = anyhow::Result<ExitStatus>;

/// Prints an error (if any) and turns the outcome into the process exit code.
pub fn report(outcome: Outcome, printer: &Printer) -> ExitCode {
    match outcome {
        Ok(ExitStatus::Success) => ExitCode::SUCCESS,
        Ok(ExitStatus::Changes) => ExitCode::from(2),
        Ok(ExitStatus::Failure) => ExitCode::from(1),
        Err(err) => {
            // A closed pipe (`zadig-sync plan | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}

/// Prints a command-line parsing error (or the help or version clap was asked
/// for) and returns its exit code: 0 for `--help` and `--version`, 1 for a
/// usage error. Never 2: that code means "changes" to CI scripts.
pub fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    if err.use_stderr() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
