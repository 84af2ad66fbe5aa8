//! Exit codes, decided in this one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; no changes (plan, drift) |
//! | 1 | error: bad input, server error, a failed or unconverged apply |
//! | 2 | changes present (`plan --detailed-exitcode`; `drift` whenever live differs) |

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
