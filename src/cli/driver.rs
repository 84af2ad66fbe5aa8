//! What the engine calls for a resource kind: the [`Driver`] interface, and
//! the kind-agnostic steps the commands share (plan every kind, print and
//! save their parts, apply them in their phase, report their outcomes).
//!
//! The commands, the saved plan and the renderers iterate
//! [`crate::kinds::drivers`] and never name a kind. A kind's plan part is
//! its own plain data behind [`PlanPart`]; its words come from its view.
//!
//! Order: the registry lists the kinds in create order. A kind before the
//! builds makes its creates and updates before them and its deletes after
//! them (a build may use a created template; a template is deleted only once
//! no build uses it).
//!
//! Builds are not behind this interface yet: their engine is
//! [`crate::kinds::build::shell::BuildDriver`] (the streaming pipeline and
//! the apply path), whose plan the renderers take directly; see
//! ARCHITECTURE.md.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::cli::args::OutputFormat;
use crate::cli::printer::Printer;
use crate::core::catalog::Catalog;
use crate::core::import::Names;
use crate::core::load::LoadResult;
use crate::core::model::Config;
use crate::core::plan::Plan;
use crate::kinds::KindInfo;
pub use crate::kinds::KindOutcome;
use crate::render::View;
use crate::zadig::Client;

/// A boxed future: a driver is a trait object in the registry.
pub type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One kind's part of a plan: the kind's own data, seen through what the
/// engine needs of it.
pub trait PlanPart: Send + Sync + std::fmt::Debug {
    /// True when it has a change (blocked ones count: they are shown).
    fn has_changes(&self) -> bool;
    /// The number of changes (for the confirmation prompt).
    fn change_count(&self) -> usize;
    /// The counts line.
    fn summary(&self) -> String;
    /// The human view.
    fn human(&self) -> String;
    /// The Markdown view.
    fn markdown(&self) -> String;
    /// The JSON view (under the kind's key of the plan document).
    fn json(&self) -> Value;
    /// The saved form (under the kind's key of the saved plan).
    fn saved(&self) -> Value;
    /// The kind's own data, for its driver.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The rest of a saved plan, by key: each kind reads and writes its own keys.
pub type SavedParts = Map<String, Value>;

/// What the engine calls for every kind that is not a build.
pub trait Driver: Sync {
    /// Its registry entry.
    fn info(&self) -> &'static KindInfo;
    /// The key of its part in JSON plan documents and apply reports.
    fn json_key(&self) -> &'static str;
    /// True when the directory manages the kind (otherwise no request at all).
    fn managed(&self, load: &LoadResult) -> bool;
    /// A part with no change, for a directory that does not manage the kind.
    fn empty(&self) -> Box<dyn PlanPart>;
    /// Resolves and registers the credentials, reads live and plans (the
    /// plan itself is the kind's pure function).
    fn plan<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
    ) -> Fut<'a, anyhow::Result<Box<dyn PlanPart>>>;
    /// Writes its definitions (literal credential values left out) and its
    /// part into a saved plan's keys, when the directory manages the kind.
    fn save(&self, load: &LoadResult, part: &dyn PlanPart, out: &mut SavedParts);
    /// Reads its part of a saved plan back (an empty part when absent).
    fn read_saved(&self, saved: &SavedParts) -> anyhow::Result<Box<dyn PlanPart>>;
    /// Adds the saved definitions to `load` (an `apply PLANFILE` without a
    /// directory); the paths of literal credential values a planned write
    /// would need go to `literal`.
    fn load_saved(
        &self,
        saved: &SavedParts,
        part: &dyn PlanPart,
        load: &mut LoadResult,
        literal: &mut Vec<String>,
    ) -> anyhow::Result<()>;
    /// One change, in the confirmation prompt's words ("build-template change").
    fn change_noun(&self) -> &'static str;
    /// Makes the creates and updates (the phase before the builds) of `plan`.
    /// With `saved`, only what the saved plan has, on the reads it made.
    fn apply_before<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
        plan: &'a dyn PlanPart,
        saved: Option<&'a dyn PlanPart>,
    ) -> Fut<'a, anyhow::Result<Vec<KindOutcome>>>;
    /// Makes the deletes (the phase after the builds) that `first` had,
    /// planned again on a fresh read.
    fn apply_after<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
        first: &'a dyn PlanPart,
        saved: Option<&'a dyn PlanPart>,
    ) -> Fut<'a, anyhow::Result<Vec<KindOutcome>>>;
    /// The apply report's lines of its outcomes (human).
    fn outcomes_human(&self, outcomes: &[KindOutcome]) -> String;
    /// `import --templates`, first step, while the session is open: reads
    /// the live resources of the kind to import.
    fn import_read<'a>(
        &'a self,
        client: &'a Client,
        config: Option<&'a Config>,
        catalog: &'a Catalog,
    ) -> Fut<'a, anyhow::Result<ImportRead>>;
    /// Second step, after the builds (credential variable names are unique
    /// across both: `names`): what was read as definition files. A `read`
    /// that is not this kind's own is an error.
    fn import_files(
        &self,
        read: ImportRead,
        config: Option<&Config>,
        catalog: &Catalog,
        names: &mut Names,
        printer: &Printer,
    ) -> anyhow::Result<KindImport>;
    /// The notes after `written` files were written into `dir`.
    fn import_notes(&self, written: usize, dir: &Path, config: Option<&Config>) -> Vec<String>;
    /// What a new `zadig-sync.yaml` says so that the imported files are managed.
    fn import_config(&self) -> &'static str;
}

/// What a kind's import read (its own data).
pub type ImportRead = Box<dyn std::any::Any + Send>;

/// A kind's definition files made by `import`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindImport {
    /// The directory below the output directory they go to.
    pub dir: &'static str,
    /// `(file name, text, the environment variables its `{from_env}` name)`.
    pub files: Vec<(String, String, Vec<String>)>,
}

/// Every kind's plan part, in registry order; a kind that is not managed
/// makes no request.
pub struct Parts(pub Vec<(&'static dyn Driver, Box<dyn PlanPart>)>);

impl Parts {
    /// True when one of them has a change.
    pub fn has_changes(&self) -> bool {
        self.0.iter().any(|(_, p)| p.has_changes())
    }
}

/// Plans every kind against the live system.
pub async fn plan_all(client: &Client, load: &LoadResult) -> anyhow::Result<Parts> {
    let mut out = Vec::new();
    for d in crate::kinds::drivers() {
        let part = if d.managed(load) {
            d.plan(client, load).await?
        } else {
            d.empty()
        };
        out.push((*d, part));
    }
    Ok(Parts(out))
}

/// The parts of a saved plan.
pub fn read_saved(saved: &SavedParts) -> anyhow::Result<Parts> {
    let mut out = Vec::new();
    for d in crate::kinds::drivers() {
        out.push((*d, d.read_saved(saved)?));
    }
    Ok(Parts(out))
}

/// The kinds' parts of a plan in `format`, shown before the builds (human,
/// Markdown); JSON: see [`with_json`]. Only managed kinds are shown.
pub fn print_parts(
    printer: &Printer,
    format: OutputFormat,
    load: &LoadResult,
    parts: &Parts,
) -> anyhow::Result<()> {
    for (d, part) in &parts.0 {
        if !d.managed(load) {
            continue;
        }
        let text = match format {
            OutputFormat::Human if printer.quiet() => format!("{}\n", part.summary()),
            OutputFormat::Human => part.human(),
            OutputFormat::Markdown => part.markdown(),
            OutputFormat::Json => continue,
        };
        printer.out(&text)?;
    }
    Ok(())
}

/// [`super::output::print_plan`] with the kinds' parts: in JSON under each
/// kind's key, otherwise printed before the builds.
pub fn print_plan(
    plan: &Plan,
    view: View,
    format: OutputFormat,
    load: &LoadResult,
    parts: &Parts,
    printer: &Printer,
) -> anyhow::Result<()> {
    let shown: Vec<_> = parts.0.iter().filter(|(d, _)| d.managed(load)).collect();
    if shown.is_empty() {
        return super::output::print_plan(plan, view, format, &load.diagnostics, printer);
    }
    if format == OutputFormat::Json {
        let text = crate::render::json::render(plan, view, &load.diagnostics);
        let added: Vec<(&str, Value)> = shown
            .iter()
            .map(|(d, p)| (d.json_key(), p.json()))
            .collect();
        printer.out(&crate::render::with_json_parts(&text, &added))?;
        return Ok(());
    }
    print_parts(printer, format, load, parts)?;
    super::output::print_plan(plan, view, format, &load.diagnostics, printer)
}

/// The parts that have changes, for `show` (a saved plan says no more).
pub fn changed(parts: &Parts) -> impl Iterator<Item = &(&'static dyn Driver, Box<dyn PlanPart>)> {
    parts.0.iter().filter(|(_, p)| p.has_changes())
}
