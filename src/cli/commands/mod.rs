//! One module per subcommand; [`dispatch`] is the one `match`.

pub mod apply;
pub mod drift;
pub mod emulator;
pub mod import;
pub mod plan;
pub mod schema;
pub mod show;
pub mod validate;

use super::args::{Cli, Command};
use super::exit::Outcome;
use super::printer::Printer;

/// Runs the parsed command line.
pub fn dispatch(cli: Cli, printer: &Printer) -> Outcome {
    let global = cli.global;
    match cli.command {
        Command::Validate(args) => validate::run(&args, printer),
        Command::Schema(args) => schema::run(&args, printer),
        Command::Show(args) => show::run(&args, printer),
        Command::Plan(args) => runtime()?.block_on(plan::run(&global, &args, printer)),
        Command::Drift(args) => runtime()?.block_on(drift::run(&global, &args, printer)),
        Command::Apply(args) => runtime()?.block_on(apply::run(&global, &args, printer)),
        Command::Import(args) => runtime()?.block_on(import::run(&global, &args, printer)),
        Command::Emulator(args) => runtime()?.block_on(emulator::run(&global, &args, printer)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
