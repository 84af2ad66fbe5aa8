//! `validate` (being built).

use crate::cli::args::ValidateArgs;
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `validate`.
pub fn run(_args: &ValidateArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`validate` is not built yet")
}
