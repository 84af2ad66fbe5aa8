//! The command-line shell: parse arguments, resolve settings, run one command,
//! map its outcome to an exit code (in [`exit`], the one place that does).

pub mod args;
pub mod commands;
pub mod confirm;
pub mod discover;
pub mod driver;
pub mod exit;
pub mod fs;
pub mod git;
pub mod live;
pub mod output;
pub mod pipeline;
pub mod planfile;
pub mod printer;
pub mod progress;
pub mod redact;
pub mod schemas;
pub mod session;
pub mod settings;

pub use exit::{CommandResult, ExitStatus};

/// Parses the process arguments and runs the command. Returns the exit code.
pub fn main() -> std::process::ExitCode {
    // A panic message passes the run's scrubber too (it could quote a value).
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: zadig-sync crashed, which is a bug: {}",
            redact::scrub(&info.to_string())
        );
    }));
    let cli = match args::parse() {
        Ok(cli) => cli,
        Err(err) => return exit::usage(&err),
    };
    // Colour, logging and progress are decided here, once.
    let output = settings::OutputSettings::resolve(
        &cli.global,
        &settings::Env::process(),
        settings::Terminals::detect(),
    );
    let printer = printer::Printer::new(&output);
    settings::init_logging(&output);
    let outcome = commands::dispatch(cli, &printer);
    exit::report(outcome, &printer)
}
