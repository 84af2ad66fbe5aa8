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
pub type CommandResult = anyhow::Result<ExitStatus>;

impl ExitStatus {
    /// The exit code: the one mapping from a status to a number.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        }
    }
}

/// What a command's result means for the process: an error (any) is a
/// failure, except a closed pipe (`zadig-sync plan | head`), which is not
/// one.
pub fn status_of(result: &CommandResult) -> ExitStatus {
    match result {
        Ok(status) => *status,
        Err(err)
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitStatus::Success
        }
        Err(_) => ExitStatus::Failure,
    }
}

/// Prints an error (if any) and turns the result into the process exit code.
pub fn report(result: CommandResult, printer: &Printer) -> ExitCode {
    let status = status_of(&result);
    if let Err(err) = &result
        && status == ExitStatus::Failure
    {
        printer.error(err);
    }
    ExitCode::from(status.code())
}

/// Leaves at once, with `status`'s code (a second Ctrl-C during apply: the
/// user asked to leave now, no report is made).
pub fn quit(status: ExitStatus) -> ! {
    std::process::exit(i32::from(status.code()))
}

/// Prints a command-line parsing error (or the help or version clap was asked
/// for) and returns its exit code: 0 for `--help` and `--version`, 1 for a
/// usage error. Never 2: that code means "changes" to CI scripts.
pub fn usage(err: &clap::Error) -> ExitCode {
    let _ = err.print();
    ExitCode::from(usage_status(err).code())
}

/// What a parsing error means: a failure, or the help or version asked for.
fn usage_status(err: &clap::Error) -> ExitStatus {
    if err.use_stderr() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::Changes.code(), 2);
    }

    #[test]
    fn an_error_fails_except_a_closed_pipe() {
        assert_eq!(status_of(&Ok(ExitStatus::Changes)), ExitStatus::Changes);
        assert_eq!(
            status_of(&Err(anyhow::anyhow!("bad input"))),
            ExitStatus::Failure
        );
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the plan");
        assert_eq!(status_of(&Err(pipe)), ExitStatus::Success);
    }

    #[test]
    fn usage_errors_exit_1_never_2() {
        use clap::Parser;
        let err = crate::cli::args::Cli::try_parse_from(["zadig-sync", "--no-such-flag"])
            .expect_err("unknown flag");
        assert_eq!(usage_status(&err), ExitStatus::Failure);
        let help = crate::cli::args::Cli::try_parse_from(["zadig-sync", "--help"])
            .expect_err("help is an error to clap");
        assert_eq!(usage_status(&help), ExitStatus::Success);
    }
}
