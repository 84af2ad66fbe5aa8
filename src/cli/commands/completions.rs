//! `completions SHELL`: a completion script generated from the same clap
//! definition the binary parses with, so it never lags behind the flags.

use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::printer::Printer;

/// Prints the script for `args.shell` on stdout.
pub fn run(args: &CompletionsArgs, printer: &Printer) -> CommandResult {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "zadig-sync", &mut script);
    printer.out(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}
