//! `emulator` (being built).

use crate::cli::args::{EmulatorArgs, GlobalArgs};
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `emulator`.
pub async fn run(_global: &GlobalArgs, _args: &EmulatorArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`emulator` is not built yet")
}
