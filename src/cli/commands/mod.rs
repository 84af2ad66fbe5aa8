//! One module per subcommand; [`dispatch`] is the one `match`.

pub mod apply;
pub mod completions;
pub mod drift;
pub mod emulator;
pub mod import;
pub mod man;
pub mod plan;
pub mod schema;
pub mod show;
pub mod validate;

use super::args::{Cli, Command};
use super::discover;
use super::exit::CommandResult;
use super::printer::Printer;
use super::progress::until_interrupted;

/// Runs the parsed command line.
pub fn dispatch(cli: Cli, printer: &Printer) -> CommandResult {
    let global = cli.global;
    let mut command = cli.command;
    // zadig-sync.yaml is searched for from DIR upwards, once, for every
    // command that reads a definition directory.
    let note = |text: &str| printer.note(text);
    match &mut command {
        Command::Validate(a) => a.dir = discover::definition_dir(&a.dir, note)?,
        Command::Plan(a) => a.dir = discover::definition_dir(&a.dir, note)?,
        Command::Drift(a) => a.dir = discover::definition_dir(&a.dir, note)?,
        // A saved plan needs no directory; a directory given is searched
        // from, and without either, `.` is.
        Command::Apply(a) => {
            if a.paths.is_empty() && a.plan.is_none() {
                a.paths.push(std::path::PathBuf::from("."));
            }
            for p in a.paths.iter_mut().filter(|p| p.is_dir()) {
                *p = discover::definition_dir(p, note)?;
            }
        }
        _ => {}
    }
    match command {
        Command::Validate(args) => validate::run(&args, printer),
        Command::Schema(args) => schema::run(&args, printer),
        Command::Show(args) => show::run(&args, printer),
        // Read-only: Ctrl-C cancels them at once (the progress bar clears).
        Command::Plan(args) => runtime()?.block_on(until_interrupted(
            plan::run(&global, &args, printer),
            "nothing was written",
        )),
        Command::Drift(args) => runtime()?.block_on(until_interrupted(
            drift::run(&global, &args, printer),
            "nothing was written",
        )),
        Command::Apply(args) => runtime()?.block_on(apply::run(&global, &args, printer)),
        Command::Import(args) => runtime()?.block_on(import::run(&global, &args, printer)),
        Command::Emulator(args) => runtime()?.block_on(emulator::run(&global, &args, printer)),
        Command::Completions(args) => completions::run(&args, printer),
        Command::Man(args) => man::run(&args, printer),
    }
}

/// One thread for the async work: a command waits on the network, and its
/// CPU work (decoding and planning each read) is a small share of one core.
/// Against a multi-threaded runtime this saves the wake-ups between threads
/// for every request (issue 13: the tool's CPU at 10,000 builds). Loading
/// the files runs on its own threads (`core::load`), not on this one.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
