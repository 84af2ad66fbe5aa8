//! `import` (being built).

use crate::cli::args::{GlobalArgs, ImportArgs};
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `import`.
pub async fn run(_global: &GlobalArgs, _args: &ImportArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`import` is not built yet")
}
