//! The second kind: build templates (`kind: BuildTemplate`), Zadig's
//! build-template library (`/api/aslan/template/build…`, build-api-ui-made.md
//! §10 as corrected by the note of issue 15b).
//!
//! A template is stored as a build's model without project, repositories and
//! targets (`models.BuildTemplate`), so this kind reuses the build kind's
//! normaliser, secrets and preserving write through
//! [`BuildTemplateSpec::to_build`]; what differs is here:
//! - identity: global, by name; Zadig addresses it by id;
//! - no `update_time` stamp on writes: staleness is a fingerprint of the read;
//! - credential variables are neither masked on read nor restored from
//!   `********` on write: `{keep: true}` takes the stored value in the body,
//!   a create cannot keep, and import writes `{from_env}` only;
//! - a change lists its blast radius (`GET …/:id/reference`), a referenced
//!   template is never deleted, creates and updates come before builds and
//!   deletes after them.
//!
//! Pure: the shell ([`super::shell`]) reads and writes; everything here is
//! data in, data out.

use std::collections::BTreeMap;

use globset::GlobSet;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::spec::{BuildTemplateSpec, BuildTemplatesConfig};
use super::wire::BuildTemplateReference;
use crate::core::catalog::Catalog;
use crate::core::diagnostics::Severity;
use crate::core::diff::unified_diff;
use crate::core::import::{Names, env_var_name};
use crate::core::live::{LiveBuild, LiveRead};
use crate::core::load::exclude_set;
use crate::core::load::{DocReader, LoadResult, LoadedDoc, Origin};
use crate::core::model::{BuildDef, ParamValue};
use crate::core::normalize::{
    default_advanced_settings, is_no_strategy, normalize_desired, normalize_live,
};
use crate::core::preserve::{PreserveError, preserving_body};
use crate::core::secrets::{adopt_live_values, mask_pair};
use crate::core::validate::{Finding, Seg, Target};
use crate::kinds::{Address, ConfigSection, KindId};
use crate::zadig::wire::{BuildBrief, StoredBuild};

/// A template's address (global).
pub fn address(name: &str) -> Address {
    Address::global(KindId::BuildTemplate, name)
}

// ---------------------------------------------------------------------------
// Validation

/// The findings of one template document. The build kind's rules apply to the
/// shared settings; the name is a template's (addressed by id, so any
/// non-empty trimmed name works) and there is no project.
pub fn check(spec: &BuildTemplateSpec) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = &spec.name;
    if name.trim().is_empty() {
        out.push(error(
            "name",
            "the template name is empty".to_owned(),
            "give the template a name, unique across Zadig",
        ));
    } else if name.trim() != name {
        out.push(error(
            "name",
            format!("template name {name:?} has leading or trailing whitespace"),
            "Zadig would store it as written, but template builds name it trimmed: trim it",
        ));
    }
    let shared = crate::core::validate::check_build(&spec.to_def(), None);
    out.extend(
        shared
            .into_iter()
            .filter(|f| !matches!(f.path.first(), Some(Seg::Key("name" | "project_key")))),
    );
    out
}

fn error(key: &'static str, message: String, hint: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        path: vec![Seg::Key(key)],
        target: Target::Value,
        message,
        hint: Some(hint.to_owned()),
    }
}

/// The findings of the `build_templates:` key of `zadig-sync.yaml`.
pub fn check_config(cfg: &BuildTemplatesConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for (list, globs) in [("protect", &cfg.protect), ("ignore", &cfg.ignore)] {
        for (i, g) in globs.iter().enumerate() {
            if let Err(e) = globset::Glob::new(g) {
                out.push(Finding {
                    severity: Severity::Error,
                    path: vec![Seg::Key("build_templates"), Seg::Key(list), Seg::Index(i)],
                    target: Target::Value,
                    message: format!("invalid template name pattern `{g}`: {}", e.kind()),
                    hint: Some(
                        "write a glob of template names: `*` any text, `{a,b}` alternatives"
                            .to_owned(),
                    ),
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Normalisation

/// The registry's load hook: a `kind: BuildTemplate` document parsed, checked
/// ([`check`]) and handed to the loader as plain data.
pub fn load_doc(r: &mut DocReader<'_, '_>) -> Option<LoadedDoc> {
    let mut spec: BuildTemplateSpec = r.parse()?;
    spec.kind = None;
    for finding in check(&spec) {
        r.finding(finding);
    }
    Some(LoadedDoc {
        kind: KindId::BuildTemplate,
        name: spec.name.clone(),
        value: serde_json::to_value(&spec).unwrap_or(Value::Null),
        origin: r.origin(),
    })
}

/// A loaded template's spec back from its plain data.
pub fn spec_of(doc: &LoadedDoc) -> Option<BuildTemplateSpec> {
    (doc.kind == KindId::BuildTemplate)
        .then(|| serde_json::from_value(doc.value.clone()).ok())
        .flatten()
}

/// The loaded templates of a directory, with their places.
pub fn loaded(load: &LoadResult) -> Vec<(BuildTemplateSpec, &Origin)> {
    load.others
        .iter()
        .filter_map(|d| Some((spec_of(d)?, &d.origin)))
        .collect()
}

/// Fields of a build a template document must not have.
pub const FOREIGN_FIELDS: &[(&str, &str)] = &[
    ("project_key", FOREIGN_HINT),
    ("repo_info", FOREIGN_HINT),
    ("services", FOREIGN_HINT),
];

const FOREIGN_HINT: &str = "a build template has no project, repositories or services: the template builds that use it (`kind: TemplateBuild`) say them";

/// The `build_templates:` section of `zadig-sync.yaml`.
pub const CONFIG_SECTION: ConfigSection = ConfigSection {
    key: "build_templates",
    managed: |c| c.build_templates.manage,
    check: |c| check_config(&c.build_templates),
};

/// The definition with Zadig's defaults filled in, as the comparison sees it.
pub fn normalize(spec: &BuildTemplateSpec, catalog: &Catalog) -> BuildTemplateSpec {
    match normalize_desired(&spec.to_def(), catalog) {
        BuildDef::Build(b) => BuildTemplateSpec::from_build(b),
        BuildDef::Template(_) => spec.clone(),
    }
}

/// One live template, as the shell read it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveTemplate {
    /// Mongo id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `GET /api/aslan/template/build/:id` exactly as read (the base of the
    /// preserving write and of the fingerprint).
    pub raw: String,
    /// The builds that use it (`GET …/:id/reference`); `None`: the listing
    /// failed, so the blast radius is unknown and a delete is refused.
    pub references: Option<Vec<BuildTemplateReference>>,
}

impl LiveTemplate {
    /// The staleness check: Zadig does not stamp `update_time` on template
    /// writes, so a plan remembers the read itself.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.raw)
    }
}

/// SHA-256 of a template's JSON text as read, hex.
pub fn fingerprint(raw: &str) -> String {
    Sha256::digest(raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A live template in canonical form, and the problems worth a warning.
#[derive(Clone, Debug, PartialEq)]
pub struct NormalizedTemplate {
    /// The template as a definition.
    pub spec: BuildTemplateSpec,
    /// Settings a file cannot express (kept by the preserving write).
    pub kept: Vec<String>,
    /// Ids that did not resolve and similar oddities.
    pub problems: Vec<String>,
}

/// Normalises a live template: its JSON read as the stored model of a build
/// with no project, repositories or targets, through the build normaliser.
pub fn normalize_live_template(raw: &str, catalog: &Catalog) -> Result<NormalizedTemplate, String> {
    let mut model: StoredBuild = serde_json::from_str(raw)
        .map_err(|e| format!("the template is not a build template: {e}"))?;
    // A template has none of these; ignore whatever a server says there.
    model.product_name.clear();
    model.template_id.clear();
    model.targets.clear();
    model.repos.clear();
    let live = LiveBuild {
        project: String::new(),
        brief: BuildBrief {
            name: model.name.clone(),
            source: "zadig".to_owned(),
            ..BuildBrief::default()
        },
        read: LiveRead::Stored {
            model: Box::new(model),
            credentials: BTreeMap::new(),
            raw: None,
        },
    };
    let n = normalize_live(&live, catalog);
    let spec = n
        .def
        .and_then(BuildTemplateSpec::from_def)
        .ok_or_else(|| "the template could not be read".to_owned())?;
    Ok(NormalizedTemplate {
        spec,
        kept: n.erases,
        problems: n.problems,
    })
}

// ---------------------------------------------------------------------------
// Secrets and the write body

/// Why a template's write body cannot be made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum BodyError {
    /// `{from_env}` whose variable is not set.
    MissingEnv {
        /// The credential's path.
        path: String,
        /// The variable.
        var: String,
    },
    /// `{keep: true}` on a create, or a key the stored template does not have:
    /// Zadig does not restore `********` for templates.
    NothingToKeep {
        /// The credential's path.
        path: String,
    },
    /// A name in the definition does not resolve (image, cluster, …).
    Preserve {
        /// The cause.
        cause: PreserveError,
    },
    /// The stored template is not a JSON object.
    NotAnObject,
}

/// The settings to send: `{keep: true}` takes the stored value (`stored`, the
/// live template normalised; `None` on a create), `{from_env}` must have been
/// resolved by the shell ([`crate::core::secrets::resolve_env`] on
/// [`BuildTemplateSpec::to_def`]).
pub fn wire_spec(
    spec: &BuildTemplateSpec,
    stored: Option<&BuildTemplateSpec>,
) -> Result<BuildTemplateSpec, BodyError> {
    let mut out = spec.clone();
    for p in out.parameters.iter_mut().filter(|p| p.is_credential) {
        let path = format!("parameters[{}].default_value", p.key);
        match &p.default_value {
            ParamValue::Literal(_) => {}
            ParamValue::FromEnv(var) => {
                return Err(BodyError::MissingEnv {
                    path,
                    var: var.clone(),
                });
            }
            ParamValue::Keep => {
                let kept = stored
                    .and_then(|s| s.parameters.iter().find(|q| q.key == p.key))
                    .map(|q| q.default_value.clone());
                match kept {
                    Some(v @ ParamValue::Literal(_)) => p.default_value = v,
                    _ => return Err(BodyError::NothingToKeep { path }),
                }
            }
        }
    }
    Ok(out)
}

/// Keys of a build's model that a template does not have: the build
/// preserving write sets them, a template body leaves them out.
const BUILD_ONLY: &[&str] = &[
    "template_id",
    "repos",
    "targets",
    "target_repos",
    "product_name",
    "desc",
];

/// The body of `PUT /api/aslan/template/build/:id` (the preserving write: the
/// stored template as read, changed where the file says something) or, with
/// `stored` `None`, of `POST /api/aslan/template/build`. `spec` is a
/// [`wire_spec`]. `update_by`/`update_time` stay as read (the core has no clock).
pub fn write_body(
    stored_raw: Option<&str>,
    spec: &BuildTemplateSpec,
    catalog: &Catalog,
) -> Result<Value, BodyError> {
    let stored = match stored_raw {
        Some(raw) => serde_json::from_str::<Value>(raw).map_err(|_| BodyError::NotAnObject)?,
        None => json!({}),
    };
    let Value::Object(_) = &stored else {
        return Err(BodyError::NotAnObject);
    };
    let body = preserving_body(&stored, &spec.to_build(), catalog)
        .map_err(|cause| BodyError::Preserve { cause })?;
    let Value::Object(mut m) = body else {
        return Err(BodyError::NotAnObject);
    };
    for k in BUILD_ONLY {
        m.remove(*k);
    }
    m.insert("name".to_owned(), json!(spec.name));
    Ok(Value::Object(m))
}

/// Every literal credential value, for the run's scrubber (templates are not
/// masked by the server: the live side's values are secrets too).
pub fn credential_values(spec: &BuildTemplateSpec) -> Vec<String> {
    spec.credentials()
        .into_iter()
        .filter_map(|(_, v)| match v {
            ParamValue::Literal(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Import

/// A template ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedTemplate {
    /// The definition (credentials as `{from_env}`).
    pub spec: BuildTemplateSpec,
    /// The file's text.
    pub text: String,
    /// Variables the user must set for its credentials.
    pub env_vars: Vec<String>,
}

/// Converts one live template. Credential variables are always written as
/// `{from_env: ZADIG_SECRET_TEMPLATE_<NAME>_<KEY>}`: the server hands their
/// values out in the clear, and they never go into a file.
pub fn import(
    raw: &str,
    catalog: &Catalog,
    schema_path: &str,
    names: &mut Names,
) -> Result<ImportedTemplate, String> {
    let n = normalize_live_template(raw, catalog)?;
    let mut spec = n.spec;
    let mut env_vars = Vec::new();
    let name = spec.name.clone();
    for p in spec.parameters.iter_mut().filter(|p| p.is_credential) {
        let var = names.unique(env_var_name(&format!("template_{name}"), &p.key));
        env_vars.push(var.clone());
        p.default_value = ParamValue::FromEnv(var);
    }
    if let Some(adv) = &mut spec.advanced_settings {
        if is_no_strategy(&adv.strategy_name) {
            adv.strategy_name.clear();
        }
        if *adv == default_advanced_settings(catalog) {
            spec.advanced_settings = None;
        }
    }
    let mut text = format!(
        "# yaml-language-server: $schema={schema_path}\n# Imported by zadig-sync from the build-template library.\n"
    );
    if !n.kept.is_empty() {
        text.push_str(&format!(
            "# NOTE: this template has settings this file cannot express: {}.\n# An apply keeps them (the preserving write).\n",
            n.kept.join("; ")
        ));
    }
    text.push_str(&spec.to_yaml());
    Ok(ImportedTemplate {
        spec,
        text,
        env_vars,
    })
}

// ---------------------------------------------------------------------------
// Plan

/// A template definition to plan, `{from_env}` resolved by the shell where set.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredTemplate {
    /// The definition.
    pub spec: BuildTemplateSpec,
    /// `file:line` of its name.
    pub origin: String,
}

/// What a template change does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateAction {
    /// `POST /api/aslan/template/build`.
    Create,
    /// `PUT …/:id` (the preserving write).
    Update,
    /// `DELETE …/:id`.
    Delete,
}

/// When, against the builds, a change is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Creates and updates: before the builds that use the template.
    BeforeBuilds,
    /// Deletes: after the builds that used it are deleted or moved.
    AfterBuilds,
}

/// Why a template change is not made (stable codes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TemplateBlocked {
    /// Builds still use it: Zadig refuses too ("has beed used"), and deleting
    /// it would strand them.
    TemplateReferenced {
        /// How many builds.
        builds: usize,
    },
    /// The reference listing failed: the blast radius is unknown.
    TemplateReferencesUnknown,
    /// Matches `build_templates.protect`.
    TemplateProtected,
    /// The body cannot be made.
    TemplateBodyUnavailable {
        /// Why.
        cause: BodyError,
    },
}

/// One planned template change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateChange {
    /// The template.
    pub address: Address,
    /// What.
    pub action: TemplateAction,
    /// When against the builds.
    pub phase: Phase,
    /// The live id (update, delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where it is defined (create, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Unified diff of the canonical YAML, live → desired, credentials masked.
    pub diff: String,
    /// The template builds, in every project, that use it.
    pub blast_radius: Vec<Address>,
    /// Why it is not made, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<TemplateBlocked>,
    /// [`fingerprint`] of the read the plan compared against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_fingerprint: Option<String>,
    /// The request body (create, update); never rendered (it holds secrets).
    #[serde(skip)]
    pub write_body: Option<Value>,
}

/// The templates' part of a plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplatePlan {
    /// Changes, creates and updates first, then deletes, each by name.
    pub changes: Vec<TemplateChange>,
    /// Defined and equal.
    pub unchanged: Vec<String>,
    /// Live, no definition, not pruned.
    pub unmanaged: Vec<String>,
    /// Matched by `build_templates.ignore`, definitions included.
    pub ignored: Vec<String>,
    /// Live templates that could not be read as templates: `(name, why)`.
    pub problems: Vec<(String, String)>,
    /// Credential values whose `{from_env}` variable is unset: not compared
    /// (they never show as a change), and a write of the template needs them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<TemplateNotCompared>,
}

/// A template's value that was not compared: its `{from_env}` is unset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateNotCompared {
    /// The template.
    pub name: String,
    /// Path of the value, e.g. `parameters[TOKEN].default_value`.
    pub path: String,
    /// The unset variable.
    pub var: String,
}

/// The unset `{from_env}` values of a (resolved) definition.
fn unset_vars(spec: &BuildTemplateSpec) -> Vec<TemplateNotCompared> {
    spec.parameters
        .iter()
        .filter(|p| p.is_credential)
        .filter_map(|p| match &p.default_value {
            ParamValue::FromEnv(var) => Some(TemplateNotCompared {
                name: spec.name.clone(),
                path: format!("parameters[{}].default_value", p.key),
                var: var.clone(),
            }),
            _ => None,
        })
        .collect()
}

impl TemplatePlan {
    /// Changes to make in `phase`, in order.
    pub fn in_phase(&self, phase: Phase) -> impl Iterator<Item = &TemplateChange> {
        self.changes.iter().filter(move |c| c.phase == phase)
    }

    /// True when anything would change.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
}

fn globs(patterns: &[String]) -> GlobSet {
    exclude_set(patterns)
}

fn blast_radius(refs: Option<&Vec<BuildTemplateReference>>) -> Vec<Address> {
    let mut out: Vec<Address> = refs
        .map(|r| {
            r.iter()
                .map(|r| Address::in_project(KindId::Build, &r.project_name, &r.build_name))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// Plans the build-template library: `desired` from the directory, `live`
/// every template the server listed (read in full). With `manage: false`
/// nothing is planned.
pub fn plan(
    desired: &[DesiredTemplate],
    live: &[LiveTemplate],
    cfg: &BuildTemplatesConfig,
    catalog: &Catalog,
) -> TemplatePlan {
    let mut out = TemplatePlan::default();
    if !cfg.manage {
        return out;
    }
    let ignore = globs(&cfg.ignore);
    let protect = globs(&cfg.protect);
    let by_name: BTreeMap<&str, &LiveTemplate> =
        live.iter().map(|l| (l.name.as_str(), l)).collect();
    let mut defined = std::collections::BTreeSet::new();

    for d in desired {
        let name = d.spec.name.as_str();
        defined.insert(name);
        if ignore.is_match(name) {
            out.ignored.push(name.to_owned());
            continue;
        }
        let want = normalize(&d.spec, catalog);
        out.not_compared.extend(unset_vars(&want));
        match by_name.get(name) {
            None => {
                let blocked = wire_spec(&want, None)
                    .and_then(|w| write_body(None, &w, catalog))
                    .map_err(|cause| TemplateBlocked::TemplateBodyUnavailable { cause });
                let mut after = want.to_def();
                mask_pair(None, Some(&mut after));
                out.changes.push(TemplateChange {
                    address: address(name),
                    action: TemplateAction::Create,
                    phase: Phase::BeforeBuilds,
                    id: None,
                    origin: Some(d.origin.clone()),
                    diff: unified_diff("", &yaml_of(&after), 3),
                    blast_radius: Vec::new(),
                    write_body: blocked.as_ref().ok().cloned(),
                    blocked: blocked.err(),
                    live_fingerprint: None,
                });
            }
            Some(l) => {
                let have = match normalize_live_template(&l.raw, catalog) {
                    Ok(n) => n.spec,
                    Err(why) => {
                        out.problems.push((name.to_owned(), why));
                        continue;
                    }
                };
                // `{keep}` and unresolved `{from_env}` compare as the live value.
                let mut cmp = want.to_def();
                adopt_live_values(&mut cmp, &have.to_def());
                if cmp == have.to_def() {
                    out.unchanged.push(name.to_owned());
                    continue;
                }
                let mut before = have.to_def();
                let mut after = cmp;
                mask_pair(Some(&mut before), Some(&mut after));
                let body = wire_spec(&want, Some(&have))
                    .and_then(|w| write_body(Some(&l.raw), &w, catalog))
                    .map_err(|cause| TemplateBlocked::TemplateBodyUnavailable { cause });
                let blocked = if protect.is_match(name) {
                    Some(TemplateBlocked::TemplateProtected)
                } else {
                    body.as_ref().err().cloned()
                };
                if l.references.is_none() {
                    out.problems.push((
                        name.to_owned(),
                        "the builds that use it could not be listed: its blast radius is unknown"
                            .to_owned(),
                    ));
                }
                out.changes.push(TemplateChange {
                    address: address(name),
                    action: TemplateAction::Update,
                    phase: Phase::BeforeBuilds,
                    id: Some(l.id.clone()),
                    origin: Some(d.origin.clone()),
                    diff: unified_diff(&yaml_of(&before), &yaml_of(&after), 3),
                    blast_radius: blast_radius(l.references.as_ref()),
                    blocked,
                    live_fingerprint: Some(l.fingerprint()),
                    write_body: body.ok(),
                });
            }
        }
    }
    for l in live {
        let name = l.name.as_str();
        if defined.contains(name) {
            continue;
        }
        if ignore.is_match(name) {
            out.ignored.push(name.to_owned());
            continue;
        }
        if !cfg.prune {
            out.unmanaged.push(name.to_owned());
            continue;
        }
        let radius = blast_radius(l.references.as_ref());
        let blocked = if protect.is_match(name) {
            Some(TemplateBlocked::TemplateProtected)
        } else if l.references.is_none() {
            Some(TemplateBlocked::TemplateReferencesUnknown)
        } else if !radius.is_empty() {
            Some(TemplateBlocked::TemplateReferenced {
                builds: radius.len(),
            })
        } else {
            None
        };
        let mut before = normalize_live_template(&l.raw, catalog)
            .map(|n| n.spec.to_def())
            .ok();
        mask_pair(before.as_mut(), None);
        out.changes.push(TemplateChange {
            address: address(name),
            action: TemplateAction::Delete,
            phase: Phase::AfterBuilds,
            id: Some(l.id.clone()),
            origin: None,
            diff: before
                .map(|b| unified_diff(&yaml_of(&b), "", 3))
                .unwrap_or_default(),
            blast_radius: radius,
            blocked,
            live_fingerprint: Some(l.fingerprint()),
            write_body: None,
        });
    }
    out.changes
        .sort_by(|a, b| (a.phase, &a.address).cmp(&(b.phase, &b.address)));
    out.unchanged.sort();
    out.unmanaged.sort();
    out.ignored.sort();
    out
}

/// The canonical YAML of a (masked) template definition.
fn yaml_of(def: &BuildDef) -> String {
    match def {
        BuildDef::Build(b) => BuildTemplateSpec::from_build(b.clone()).to_yaml(),
        BuildDef::Template(_) => String::new(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
