//! `apply` (being built).

use crate::cli::args::{ApplyArgs, GlobalArgs};
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `apply`.
pub async fn run(_global: &GlobalArgs, _args: &ApplyArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`apply` is not built yet")
}
