//! Saved plans (`plan --out`, `apply --plan`): what was planned, against which
//! files (a hash of the directory) and which live state (each build's
//! `update_time`), so that apply can refuse what is stale.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

pub use crate::core::apply::PlannedChange;
use crate::core::model::{BuildDef, ParamValue};
use crate::core::plan::{Plan, PlanOptions};
use crate::core::secrets::SENSITIVE;

/// Version of the saved-plan format.
pub const FORMAT_VERSION: &str = "1";

/// A saved plan.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    /// Format version.
    pub format_version: String,
    /// zadig-sync version that wrote it.
    pub zadig_sync_version: String,
    /// SHA-256 of the definition directory (configuration and files).
    pub dir_hash: String,
    /// `--project` filters.
    pub projects: Vec<String>,
    /// `--target` filters.
    pub targets: Vec<String>,
    /// `--allow-erase` at plan time.
    pub allow_erase: bool,
    /// `--allow-mass-delete` at plan time.
    pub allow_mass_delete: bool,
    /// The planned changes (blocked ones included, for the record).
    pub changes: Vec<PlannedChange>,
}

impl PlanFile {
    /// Records a plan.
    pub fn new(plan: &Plan, dir_hash: String, opts: &PlanOptions) -> Self {
        PlanFile {
            format_version: FORMAT_VERSION.to_owned(),
            zadig_sync_version: env!("CARGO_PKG_VERSION").to_owned(),
            dir_hash,
            projects: opts.projects.clone(),
            targets: opts.targets.clone(),
            allow_erase: opts.allow_erase,
            allow_mass_delete: opts.allow_mass_delete,
            changes: plan
                .changes
                .iter()
                .map(|c| PlannedChange {
                    project: c.project.clone(),
                    name: c.name.clone(),
                    kind: c.kind,
                    action: c.action,
                    blocked: c.blocked.as_ref().map(|b| b.guard().to_owned()),
                    live_update_time: c.live_update_time,
                    live_fingerprint: c.live_fingerprint.clone(),
                    desired: c.desired.as_ref().map(redacted),
                })
                .collect(),
        }
    }

    /// Writes the plan as JSON.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        let text = crate::cli::redact::scrub(&text).into_owned();
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write the plan file {}", path.display()))
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the plan file {}", path.display()))?;
        let plan: PlanFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a zadig-sync plan file", path.display()))?;
        if plan.format_version != FORMAT_VERSION {
            bail!(
                "{} has plan format {}, this zadig-sync reads {FORMAT_VERSION}: re-run `zadig-sync plan --out`",
                path.display(),
                plan.format_version
            );
        }
        Ok(plan)
    }
}

/// The definition without literal credential values (resolved `from_env`
/// values included: the definition here is the unresolved one).
fn redacted(def: &BuildDef) -> serde_json::Value {
    let mut def = def.clone();
    let redact = |v: &mut ParamValue| {
        if let ParamValue::Literal(s) = v
            && !s.is_empty()
        {
            *v = ParamValue::Literal(SENSITIVE.to_owned());
        }
    };
    match &mut def {
        BuildDef::Build(b) => {
            for p in b.parameters.iter_mut().filter(|p| p.is_credential) {
                redact(&mut p.default_value);
            }
        }
        BuildDef::Template(t) => {
            for i in t
                .target_services
                .iter_mut()
                .flat_map(|ts| ts.inputs.iter_mut())
                .filter(|i| i.is_credential)
            {
                redact(&mut i.value);
            }
        }
    }
    let mut v = def.to_value();
    if let serde_json::Value::Object(m) = &mut v {
        m.insert(
            "kind".to_owned(),
            serde_json::Value::from(def.kind().to_string()),
        );
    }
    v
}
