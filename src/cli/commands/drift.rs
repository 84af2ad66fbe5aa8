//! `drift` (being built).

use crate::cli::args::{DriftArgs, GlobalArgs};
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `drift`.
pub async fn run(_global: &GlobalArgs, _args: &DriftArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`drift` is not built yet")
}
