//! Typed messages: what a plan, an apply report and an import have to say,
//! as plain data (names, paths, counts) under a stable code. The words are
//! made in `render::notice`; JSON carries each code next to its message, so
//! CI can branch on the code and people read the message.
//!
//! The codes are part of the documented JSON formats (README, *JSON
//! output*): renaming one is an incompatible change.

use serde::{Deserialize, Serialize};

use super::plan::Blocked;
use super::preserve::PreserveError;

/// A scheduling strategy of a cluster, as a warning lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyRef {
    /// Its name.
    pub name: String,
    /// The cluster's default.
    pub default: bool,
}

/// Something a plan says besides its changes (shown on stderr in human
/// form, as a warning block in Markdown, in `warnings` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// A managed project's listing failed: its builds were not planned.
    ListingFailed {
        /// The project.
        project: String,
        /// The error, as the client reported it (scrubbed on output).
        error: String,
    },
    /// A managed project was not read: its builds were not planned.
    ProjectNotRead {
        /// The project.
        project: String,
    },
    /// A definition's name matches an `ignore` glob: it is skipped.
    DefinitionIgnored {
        /// `file:line` of the definition.
        file: String,
        /// The project.
        project: String,
        /// The build name.
        name: String,
    },
    /// A live build whose name Zadig's API cannot address (empty, a path
    /// step, a separator, control characters, spaces at an end): left alone,
    /// and the project's deletes are blocked.
    NameUnaddressable {
        /// The project.
        project: String,
        /// The live name, as listed.
        name: String,
    },
    /// A `--target` names neither a definition nor a live build.
    TargetUnknown {
        /// The target, `project/name`.
        target: String,
    },
    /// `strategy_name` names no scheduling strategy of the cluster: Zadig
    /// would use the cluster's default.
    StrategyUnknown {
        /// `file:line` of the definition.
        file: String,
        /// The project.
        project: String,
        /// The build name.
        name: String,
        /// The cluster.
        cluster: String,
        /// The strategy the file names.
        strategy: String,
        /// The cluster's strategies.
        strategies: Vec<StrategyRef>,
    },
    /// A create asks for a workspace cache, which the OpenAPI create cannot
    /// store: apply sets it right after through the UI API.
    WorkspaceCacheOnCreate {
        /// `file:line` of the definition.
        file: String,
        /// The project.
        project: String,
        /// The build name.
        name: String,
    },
    /// Something odd in a live build as read (an id that resolves to no
    /// name, an unknown value), found by the normaliser.
    LiveProblem {
        /// The project.
        project: String,
        /// The build name.
        name: String,
        /// What the normaliser found (its own words: `core::normalize`
        /// does not type its findings yet).
        problem: String,
    },
    /// A template build's input that its template does not have: Zadig
    /// drops it, so it shows as a change on every plan.
    InputNotInTemplate {
        /// The project.
        project: String,
        /// The build name.
        name: String,
        /// The input's key.
        input: String,
        /// The target's service.
        service: String,
        /// The target's service module.
        module: String,
        /// The template.
        template: String,
    },
    /// The preserving write cannot be made for this build: the OpenAPI
    /// update is used instead.
    PreservingWriteUnavailable {
        /// The project.
        project: String,
        /// The build name.
        name: String,
        /// Why: a name of the definition that resolves to no id.
        cause: PreserveError,
    },
}

impl Warning {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "listing_failed",
        "project_not_read",
        "definition_ignored",
        "name_unaddressable",
        "target_unknown",
        "strategy_unknown",
        "workspace_cache_on_create",
        "live_problem",
        "input_not_in_template",
        "preserving_write_unavailable",
    ];

    /// The stable code (the `code` of `warning_details` in JSON).
    pub fn code(&self) -> &'static str {
        match self {
            Warning::ListingFailed { .. } => "listing_failed",
            Warning::ProjectNotRead { .. } => "project_not_read",
            Warning::DefinitionIgnored { .. } => "definition_ignored",
            Warning::NameUnaddressable { .. } => "name_unaddressable",
            Warning::TargetUnknown { .. } => "target_unknown",
            Warning::StrategyUnknown { .. } => "strategy_unknown",
            Warning::WorkspaceCacheOnCreate { .. } => "workspace_cache_on_create",
            Warning::LiveProblem { .. } => "live_problem",
            Warning::InputNotInTemplate { .. } => "input_not_in_template",
            Warning::PreservingWriteUnavailable { .. } => "preserving_write_unavailable",
        }
    }
}

/// Why a live build without a definition stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum UnmanagedReason {
    /// No definition, and the project's `prune` is off.
    NoDefinition,
    /// Not a Zadig build (e.g. Jenkins): zadig-sync never writes it.
    ReadOnly {
        /// Its `source`.
        source: String,
    },
}

impl UnmanagedReason {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &["no_definition", "read_only"];

    /// The stable code (`unmanaged[].code` in JSON).
    pub fn code(&self) -> &'static str {
        match self {
            UnmanagedReason::NoDefinition => "no_definition",
            UnmanagedReason::ReadOnly { .. } => "read_only",
        }
    }
}

/// Why a build of the apply report ended as it did (all but a plain
/// `applied`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeReason {
    /// `skipped`: a guard blocks it, as the plan said. Its code is the
    /// guard's (`protected`, `erase`, …).
    Blocked(Blocked),
    /// `stale`: the saved plan does not have this change (Zadig changed
    /// since it was made).
    NotInSavedPlan,
    /// `stale`: the live build changed since the saved plan was made.
    ChangedSincePlan,
    /// `stale`: the live build changed since it was read for this run.
    ChangedSinceRead,
    /// `not_attempted`: the run stopped (Ctrl-C) before this write started.
    Interrupted,
    /// `failed`: the server refused or failed the write.
    WriteFailed {
        /// The error chain, as the client reported it.
        error: String,
    },
    /// `applied`, through the OpenAPI fallback after the UI API refused the
    /// preserving write.
    OpenapiFallback {
        /// The UI API's refusal.
        error: String,
        /// What the fallback erased.
        erased: Vec<String>,
    },
    /// `not_converged`: Zadig accepted the delete, the build is still there.
    StillExists,
    /// `not_converged`: Zadig accepted the create, the build is not there.
    NotCreated,
    /// `not_converged`: Zadig accepted the write, the stored build differs.
    StoredDiffers,
}

impl OutcomeReason {
    /// Every code but the guards' (a blocked change has its guard's code,
    /// see [`Blocked::guard`]), in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "not_in_saved_plan",
        "changed_since_plan",
        "changed_since_read",
        "interrupted",
        "write_failed",
        "openapi_fallback",
        "still_exists",
        "not_created",
        "stored_differs",
    ];

    /// The stable code (`outcomes[].code` in JSON).
    pub fn code(&self) -> &'static str {
        match self {
            OutcomeReason::Blocked(b) => b.guard(),
            OutcomeReason::NotInSavedPlan => "not_in_saved_plan",
            OutcomeReason::ChangedSincePlan => "changed_since_plan",
            OutcomeReason::ChangedSinceRead => "changed_since_read",
            OutcomeReason::Interrupted => "interrupted",
            OutcomeReason::WriteFailed { .. } => "write_failed",
            OutcomeReason::OpenapiFallback { .. } => "openapi_fallback",
            OutcomeReason::StillExists => "still_exists",
            OutcomeReason::NotCreated => "not_created",
            OutcomeReason::StoredDiffers => "stored_differs",
        }
    }
}

/// Why `import` did not import a live build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotImportedReason {
    /// Not a Zadig build (e.g. Jenkins).
    ReadOnly {
        /// Its `source`.
        source: String,
    },
    /// The build could not be read (the normaliser made nothing of it).
    NotRead,
    /// Its name is one Zadig's API cannot address.
    NameUnaddressable,
}

impl NotImportedReason {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &["read_only", "not_read", "name_unaddressable"];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            NotImportedReason::ReadOnly { .. } => "read_only",
            NotImportedReason::NotRead => "not_read",
            NotImportedReason::NameUnaddressable => "name_unaddressable",
        }
    }
}

/// Every code of [`Blocked`] (`blocked` in JSON), in declaration order.
pub const BLOCKED_CODES: &[&str] = &[
    "protected",
    "erase",
    "mass_delete",
    "load_errors",
    "incomplete_listing",
    "read_only",
    "name_taken",
    "keep_on_create",
    "keep_without_value",
    "unknown_template",
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    /// One of each warning: a new variant must be added here (the match in
    /// `code` is exhaustive, this list is checked against `CODES`).
    pub(crate) fn every_warning() -> Vec<Warning> {
        vec![
            Warning::ListingFailed {
                project: s("p"),
                error: s("e"),
            },
            Warning::ProjectNotRead { project: s("p") },
            Warning::DefinitionIgnored {
                file: s("f:1"),
                project: s("p"),
                name: s("n"),
            },
            Warning::NameUnaddressable {
                project: s("p"),
                name: s("a/b"),
            },
            Warning::TargetUnknown { target: s("p/n") },
            Warning::StrategyUnknown {
                file: s("f:1"),
                project: s("p"),
                name: s("n"),
                cluster: s("c"),
                strategy: s("x"),
                strategies: vec![],
            },
            Warning::WorkspaceCacheOnCreate {
                file: s("f:1"),
                project: s("p"),
                name: s("n"),
            },
            Warning::LiveProblem {
                project: s("p"),
                name: s("n"),
                problem: s("odd"),
            },
            Warning::InputNotInTemplate {
                project: s("p"),
                name: s("n"),
                input: s("I"),
                service: s("svc"),
                module: s("m"),
                template: s("t"),
            },
            Warning::PreservingWriteUnavailable {
                project: s("p"),
                name: s("n"),
                cause: PreserveError::NoImage { label: s("l") },
            },
        ]
    }

    /// The codes are a documented interface: a rename must fail here (and
    /// be a decision, with the README's table and the JSON version).
    #[test]
    fn the_codes_are_stable() {
        assert_eq!(
            Warning::CODES,
            [
                "listing_failed",
                "project_not_read",
                "definition_ignored",
                "name_unaddressable",
                "target_unknown",
                "strategy_unknown",
                "workspace_cache_on_create",
                "live_problem",
                "input_not_in_template",
                "preserving_write_unavailable",
            ]
        );
        assert_eq!(UnmanagedReason::CODES, ["no_definition", "read_only"]);
        assert_eq!(
            OutcomeReason::CODES,
            [
                "not_in_saved_plan",
                "changed_since_plan",
                "changed_since_read",
                "interrupted",
                "write_failed",
                "openapi_fallback",
                "still_exists",
                "not_created",
                "stored_differs",
            ]
        );
        assert_eq!(
            NotImportedReason::CODES,
            ["read_only", "not_read", "name_unaddressable"]
        );
        assert_eq!(
            PreserveError::CODES,
            [
                "not_an_object",
                "no_image",
                "no_cluster",
                "no_dockerfile_template",
                "no_code_host",
            ]
        );
        assert_eq!(
            BLOCKED_CODES,
            [
                "protected",
                "erase",
                "mass_delete",
                "load_errors",
                "incomplete_listing",
                "read_only",
                "name_taken",
                "keep_on_create",
                "keep_without_value",
                "unknown_template",
            ]
        );
    }

    /// The README's *Message codes* section names every code.
    #[test]
    fn the_readme_documents_every_code() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Message codes")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("a Message codes section");
        for code in Warning::CODES
            .iter()
            .chain(UnmanagedReason::CODES)
            .chain(OutcomeReason::CODES)
            .chain(NotImportedReason::CODES)
            .chain(BLOCKED_CODES)
            .chain(PreserveError::CODES)
        {
            assert!(
                section.contains(&format!("`{code}`")),
                "{code} is not documented"
            );
        }
    }

    /// Each value's code is the one listed, and is what it serialises
    /// under (the saved plan and `warning_details` use the serde tag).
    #[test]
    fn each_value_has_its_listed_code() {
        let warnings = every_warning();
        let codes: Vec<&str> = warnings.iter().map(Warning::code).collect();
        assert_eq!(codes, Warning::CODES);
        for w in &warnings {
            let v = serde_json::to_value(w).expect("serialises");
            assert_eq!(v["code"], w.code(), "{v}");
            let back: Warning = serde_json::from_value(v).expect("reads back");
            assert_eq!(&back, w);
        }
        let unmanaged = [
            UnmanagedReason::NoDefinition,
            UnmanagedReason::ReadOnly {
                source: s("jenkins"),
            },
        ];
        let codes: Vec<&str> = unmanaged.iter().map(UnmanagedReason::code).collect();
        assert_eq!(codes, UnmanagedReason::CODES);
        for u in &unmanaged {
            assert_eq!(
                serde_json::to_value(u).expect("serialises")["code"],
                u.code()
            );
        }
        let outcomes = [
            OutcomeReason::NotInSavedPlan,
            OutcomeReason::ChangedSincePlan,
            OutcomeReason::ChangedSinceRead,
            OutcomeReason::Interrupted,
            OutcomeReason::WriteFailed { error: s("e") },
            OutcomeReason::OpenapiFallback {
                error: s("e"),
                erased: vec![],
            },
            OutcomeReason::StillExists,
            OutcomeReason::NotCreated,
            OutcomeReason::StoredDiffers,
        ];
        let codes: Vec<&str> = outcomes.iter().map(OutcomeReason::code).collect();
        assert_eq!(codes, OutcomeReason::CODES);
        assert_eq!(
            OutcomeReason::Blocked(Blocked::Protected).code(),
            "protected"
        );
        let not_imported = [
            NotImportedReason::ReadOnly {
                source: s("jenkins"),
            },
            NotImportedReason::NotRead,
            NotImportedReason::NameUnaddressable,
        ];
        let codes: Vec<&str> = not_imported.iter().map(NotImportedReason::code).collect();
        assert_eq!(codes, NotImportedReason::CODES);
        let preserve = [
            PreserveError::NotAnObject,
            PreserveError::NoImage { label: s("l") },
            PreserveError::NoCluster { name: s("c") },
            PreserveError::NoDockerfileTemplate { name: s("d") },
            PreserveError::NoCodeHost { alias: s("a") },
        ];
        let codes: Vec<&str> = preserve.iter().map(PreserveError::code).collect();
        assert_eq!(codes, PreserveError::CODES);
        for e in &preserve {
            assert_eq!(
                serde_json::to_value(e).expect("serialises")["reason"],
                e.code()
            );
        }
        let blocked = [
            Blocked::Protected,
            Blocked::Erase { settings: vec![] },
            Blocked::MassDelete { count: 2, max: 1 },
            Blocked::LoadErrors,
            Blocked::IncompleteListing,
            Blocked::ReadOnly {
                source: s("jenkins"),
            },
            Blocked::NameTaken { project: s("p") },
            Blocked::KeepOnCreate { paths: vec![] },
            Blocked::KeepWithoutValue { paths: vec![] },
            Blocked::UnknownTemplate { template: s("t") },
        ];
        let codes: Vec<&str> = blocked.iter().map(Blocked::guard).collect();
        assert_eq!(codes, BLOCKED_CODES);
        for b in &blocked {
            assert_eq!(
                serde_json::to_value(b).expect("serialises")["guard"],
                b.guard()
            );
        }
    }
}
