//! `plan` (being built).

use crate::cli::args::{GlobalArgs, PlanArgs};
use crate::cli::exit::Outcome;
use crate::cli::printer::Printer;

/// Runs `plan`.
pub async fn run(_global: &GlobalArgs, _args: &PlanArgs, _printer: &Printer) -> Outcome {
    anyhow::bail!("`plan` is not built yet")
}
