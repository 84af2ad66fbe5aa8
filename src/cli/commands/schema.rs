//! `schema` (being built).

use crate::cli::args::SchemaArgs;
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `schema`.
pub fn run(_args: &SchemaArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`schema` is not built yet")
}
