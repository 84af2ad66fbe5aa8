//! Resource kinds: the address every kind shares, the registry of kinds
//! (their data, [`REGISTRY`], and their drivers, [`drivers`]), and one
//! folder per kind.
//!
//! A kind defines its spec type, identity, validation, normalisation of
//! desired and live, where its credentials are (one walker per kind), how it
//! is read, written and deleted through the client, and its import form.
//!
//! **Enum dispatch, not a trait.** The kinds are a closed set compiled into
//! the binary, saved plans and JSON name them by a stable code, and their spec
//! types differ (a trait would need associated types and then type erasure to
//! keep two kinds in one list). A [`KindId`] `match` is exhaustive: adding a
//! kind makes the compiler list every place that must learn it, which a
//! registry of trait objects would not. What is only *data* about a kind (its
//! `kind:` values in files, its scope, its words) lives in [`REGISTRY`], so
//! loaders and renderers look it up instead of naming a kind.
//!
//! - [`build`]: builds, plain and template (one Zadig resource, two file
//!   forms), the first kind.
//! - [`build_template`]: Zadig's build-template library, the second kind.

pub mod build;
pub mod build_template;

/// The drivers of the kinds the engine runs through [`crate::cli::driver`],
/// in create order (builds keep their own engine for now).
pub fn drivers() -> &'static [&'static dyn crate::cli::driver::Driver] {
    DRIVERS
}

static DRIVERS: &[&dyn crate::cli::driver::Driver] = &[&build_template::shell::DRIVER];

/// Declares `core::model::Config` (its fields and its `Default`) with each
/// kind's section of `zadig-sync.yaml` appended as a typed field, so that
/// adding a kind touches the registry and not the core's model. A section is
/// a field, not a map of raw values: the file is parsed with
/// `deny_unknown_fields` and spans, which keeps file:line:column errors and
/// unknown-field rejection inside a section too.
macro_rules! with_config_sections {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($fields:tt)* }
        default { $($defaults:tt)* }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            /// The build-template library (global, not per project): `manage: false`,
            /// the default, leaves it alone.
            #[serde(
                default,
                skip_serializing_if = "crate::kinds::build_template::BuildTemplatesConfig::is_default"
            )]
            pub build_templates: crate::kinds::build_template::BuildTemplatesConfig,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($defaults)*
                    build_templates: Default::default(),
                }
            }
        }
    };
}
pub(crate) use with_config_sections;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::load::{DocReader, LoadedDoc};
use crate::core::model::Config;
use crate::core::validate::Finding;

/// A kind of resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindId {
    /// A build (plain or made from a template): `kind: Build` / `TemplateBuild`.
    Build,
    /// A build template of the library: `kind: BuildTemplate`.
    BuildTemplate,
}

/// Where a resource's name is unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// In a project (a build's address has its project key).
    Project,
    /// System-wide (a template's address has no project).
    Global,
}

/// How the loader reads a document of a kind (builds: `None`, the loader
/// reads them itself): parse into the kind's spec type, add the kind's
/// findings, hand back plain data.
pub type LoadFn = fn(&mut DocReader<'_, '_>) -> Option<LoadedDoc>;

/// A kind's section of `zadig-sync.yaml` (a typed field of [`Config`], added
/// by [`with_config_sections`]: the file is parsed with `deny_unknown_fields`
/// and spans, so a section is a typed field).
#[derive(Clone, Copy, Debug)]
pub struct ConfigSection {
    /// Its key (`build_templates`).
    pub key: &'static str,
    /// True when the directory manages the kind.
    pub managed: fn(&Config) -> bool,
    /// The section's rule findings.
    pub check: fn(&Config) -> Vec<Finding>,
}

/// What the engine knows about a kind without naming it.
#[derive(Clone, Copy, Debug)]
pub struct KindInfo {
    /// The kind.
    pub id: KindId,
    /// Its stable code in JSON and saved plans.
    pub code: &'static str,
    /// The `kind:` values of its documents; the first is the default form.
    pub file_kinds: &'static [&'static str],
    /// Project or global.
    pub scope: Scope,
    /// One resource, in the renderers' words ("build", "template").
    pub noun: &'static str,
    /// Several.
    pub plural: &'static str,
    /// One resource, in full ("build template").
    pub long_noun: &'static str,
    /// How its documents are read (`None`: builds).
    pub load: Option<LoadFn>,
    /// Top-level fields its documents must not have, with the hint to show.
    pub foreign_fields: &'static [(&'static str, &'static str)],
    /// Its section of `zadig-sync.yaml`, if any.
    pub config_section: Option<ConfigSection>,
}

/// Every kind, in apply order of creates: a template is created before the
/// builds that use it (and deleted after them, in the reverse order).
pub const REGISTRY: &[KindInfo] = &[
    KindInfo {
        id: KindId::BuildTemplate,
        code: "build_template",
        file_kinds: &["BuildTemplate"],
        scope: Scope::Global,
        noun: "template",
        plural: "templates",
        long_noun: "build template",
        load: Some(build_template::load_doc),
        foreign_fields: build_template::FOREIGN_FIELDS,
        config_section: Some(build_template::CONFIG_SECTION),
    },
    KindInfo {
        id: KindId::Build,
        code: "build",
        file_kinds: &["Build", "TemplateBuild"],
        scope: Scope::Project,
        noun: "build",
        plural: "builds",
        long_noun: "build",
        load: None,
        foreign_fields: &[],
        config_section: None,
    },
];

impl KindId {
    /// The registry entry.
    pub fn info(self) -> &'static KindInfo {
        // Every variant has an entry (checked by a test).
        REGISTRY
            .iter()
            .find(|k| k.id == self)
            .unwrap_or(&REGISTRY[0])
    }

    /// Its position in the create order (templates first).
    pub fn create_rank(self) -> usize {
        REGISTRY.iter().position(|k| k.id == self).unwrap_or(0)
    }
}

/// The kind whose document says `kind: <value>`.
pub fn by_file_kind(value: &str) -> Option<&'static KindInfo> {
    REGISTRY.iter().find(|k| k.file_kinds.contains(&value))
}

/// Every `kind:` value a document may have, for hints.
pub fn file_kinds() -> Vec<&'static str> {
    REGISTRY
        .iter()
        .rev()
        .flat_map(|k| k.file_kinds.iter().copied())
        .collect()
}

/// What happened to one planned change of a kind, for the apply report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindOutcome {
    /// The resource.
    pub address: Address,
    /// What was planned: the action's code (`create`, `update`, `delete`).
    pub action: &'static str,
    /// `applied`, `skipped` or `failed`.
    pub status: &'static str,
    /// The guard's code, `changed_since_plan` or `write_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// In words (made by the kind's view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl KindOutcome {
    /// True when a change it set out to make was not made (a guard's skip is not).
    pub fn failed(&self) -> bool {
        self.status == "failed"
    }
}

/// One resource: its kind, its project (for project-scoped kinds) and its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    /// The kind.
    pub kind: KindId,
    /// Project key; `None` for a global kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Name.
    pub name: String,
}

impl Address {
    /// A project-scoped resource.
    pub fn in_project(kind: KindId, project: &str, name: &str) -> Self {
        Address {
            kind,
            project: Some(project.to_owned()),
            name: name.to_owned(),
        }
    }

    /// A global resource.
    pub fn global(kind: KindId, name: &str) -> Self {
        Address {
            kind,
            project: None,
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for Address {
    /// `build demo/api`, `template go-service`: the noun from the registry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.kind.info().noun;
        match &self.project {
            Some(p) => write!(f, "{noun} {p}/{}", self.name),
            None => write!(f, "{noun} {}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_registry_entry_and_distinct_file_kinds() {
        for k in REGISTRY {
            assert_eq!(REGISTRY.iter().filter(|o| o.id == k.id).count(), 1);
            assert_eq!(k.id.info().id, k.id);
            for v in k.file_kinds {
                assert_eq!(by_file_kind(v).map(|f| f.id), Some(k.id));
            }
            // The loader reads builds itself; every other kind has its hook.
            assert_eq!(k.load.is_none(), k.id == KindId::Build, "{}", k.code);
        }
        let all = file_kinds();
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(all.len(), dedup.len());
        assert_eq!(all[..2], ["Build", "TemplateBuild"]);
        assert!(by_file_kind("Nope").is_none());
        assert_eq!(
            by_file_kind("TemplateBuild").map(|k| k.id),
            Some(KindId::Build)
        );
    }

    #[test]
    fn every_kind_but_builds_has_one_driver_in_registry_order() {
        let driven: Vec<KindId> = drivers().iter().map(|d| d.info().id).collect();
        let expected: Vec<KindId> = REGISTRY
            .iter()
            .map(|k| k.id)
            .filter(|id| *id != KindId::Build)
            .collect();
        assert_eq!(driven, expected);
    }

    #[test]
    fn addresses_read_with_the_kinds_noun() {
        assert_eq!(
            Address::in_project(KindId::Build, "demo", "api").to_string(),
            "build demo/api"
        );
        let json = serde_json::to_value(Address::in_project(KindId::Build, "demo", "api")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "build", "project": "demo", "name": "api"})
        );
    }
}
