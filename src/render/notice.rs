//! The words of the typed messages ([`crate::core::notice`]) and of the
//! plan's other coded data (guards, gaps, write paths): one function per
//! kind of message, shared by the human, Markdown and JSON views.

use crate::core::notice::{NotImportedReason, OutcomeReason, UnmanagedReason, Warning};
use crate::core::plan::{Action, Blocked, Gap, WritePath};
use crate::core::validate::{shown_name, unaddressable_name};

/// A plan warning as a line of text (stderr, Markdown, `warnings` in JSON).
pub fn warning(w: &Warning) -> String {
    match w {
        Warning::ListingFailed { project, error } => {
            format!(
                "project `{project}` could not be listed ({error}): its builds were not planned"
            )
        }
        Warning::ProjectNotRead { project } => {
            format!("project `{project}` was not read: its builds were not planned")
        }
        Warning::DefinitionIgnored {
            file,
            project,
            name,
        } => format!(
            "{file}: `{name}` matches an `ignore` glob of project `{project}`: the definition is skipped"
        ),
        Warning::NameUnaddressable { project, name } => format!(
            "project `{project}`: live build {} cannot be read (its name {}): it is left \
             alone and this project's deletes are blocked; rename it in the Zadig UI",
            shown_name(name),
            unaddressable_name(name).unwrap_or("cannot be addressed")
        ),
        Warning::TargetUnknown { target } => format!(
            "--target {target} matches no definition and no live build of a managed project"
        ),
        Warning::StrategyUnknown {
            file,
            name,
            cluster,
            strategy,
            strategies,
            ..
        } => {
            let names: Vec<String> = strategies
                .iter()
                .map(|s| {
                    if s.default {
                        format!("`{}` (default)", s.name)
                    } else {
                        format!("`{}`", s.name)
                    }
                })
                .collect();
            format!(
                "{file}: `{name}`: cluster `{cluster}` has no scheduling strategy `{strategy}`, so Zadig would use its default; its strategies: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        }
        Warning::WorkspaceCacheOnCreate { file, .. } => format!(
            "{file}: the OpenAPI create cannot store a workspace cache (it stores a user-defined directory): apply sets it right after through the UI API (PUT /api/aslan/build/build, needs Build.Edit)"
        ),
        Warning::LiveProblem {
            project,
            name,
            problem,
        } => format!("{project}/{name}: {problem}"),
        Warning::InputNotInTemplate {
            project,
            name,
            input,
            service,
            module,
            template,
        } => format!(
            "{project}/{name}: input `{input}` of {service}/{module} is not a variable of template `{template}`: Zadig drops it, so it shows as a change on every plan; remove it"
        ),
        Warning::PreservingWriteUnavailable {
            project,
            name,
            error,
        } => format!(
            "{project}/{name}: the preserving write cannot be made ({error}): the OpenAPI update is used instead"
        ),
    }
}

/// A guard's sentence for people, with what to do.
pub fn blocked_reason(b: &Blocked) -> String {
    match b {
        Blocked::Protected => {
            "matches a `protect` glob: zadig-sync never changes or deletes it".to_owned()
        }
        Blocked::Erase { settings } => format!(
            "the update would erase settings the OpenAPI cannot express ({}); re-run with --allow-erase to accept",
            settings.join("; ")
        ),
        Blocked::MassDelete { count, max } => format!(
            "{count} deletes exceed max_deletes ({max}); re-run with --allow-mass-delete if this is intended"
        ),
        Blocked::LoadErrors => {
            "some definitions failed to load: no deletes until every file loads".to_owned()
        }
        Blocked::IncompleteListing => {
            "a project could not be listed completely: no deletes from a partial listing".to_owned()
        }
        Blocked::ReadOnly { source } => {
            format!("the live build has source `{source}`: zadig-sync treats it as read-only")
        }
        Blocked::NameTaken { project } => format!(
            "a build with this name exists in project `{project}` (Zadig build names are global): rename it, or delete it there first"
        ),
        Blocked::KeepOnCreate { paths } => format!(
            "`keep: true` on a build that does not exist yet ({}): give a value or `from_env`",
            paths.join(", ")
        ),
        Blocked::KeepWithoutValue { paths } => format!(
            "`keep: true` where the live build has no credential under that key, so there is nothing to keep ({}): give a value or `from_env`",
            paths.join(", ")
        ),
        Blocked::UnknownTemplate { template } => format!(
            "build template `{template}` does not exist in Zadig: create it first, or fix `template_name`"
        ),
    }
}

/// A gap as a short phrase for headlines.
pub fn gap(g: &Gap) -> String {
    match g {
        Gap::LoadErrors => "some definition files failed to load".to_owned(),
        Gap::ListingFailed { project } => format!("project `{project}` could not be listed"),
        Gap::NotRead { project } => format!("project `{project}` was not read"),
    }
}

/// Why an unmanaged build stays, in a few words.
pub fn unmanaged(r: &UnmanagedReason) -> String {
    match r {
        UnmanagedReason::NoDefinition => "no definition (prune is off)".to_owned(),
        UnmanagedReason::ReadOnly { source } => format!("read-only (source {source})"),
    }
}

/// The request that writes a change, for people.
pub fn write_path(w: WritePath, action: Action) -> &'static str {
    match (w, action) {
        (WritePath::Preserving, _) => {
            "PUT /api/aslan/build/build (keeps what the file does not say)"
        }
        (WritePath::Openapi, Action::Create) => "POST /openapi/build",
        (WritePath::Openapi, _) => "PUT /openapi/build (a full replace)",
        (WritePath::Template, Action::Create) => "POST /openapi/build?source=template",
        (WritePath::Template, _) => "PUT /openapi/build/:name/template",
    }
}

/// The request alone (`PUT /api/aslan/build/build`).
pub fn write_request(w: WritePath, action: Action) -> &'static str {
    let text = write_path(w, action);
    match text.split_once(" (") {
        Some((request, _)) => request,
        None => text,
    }
}

/// Why a build of the apply report ended as it did.
pub fn outcome_reason(r: &OutcomeReason) -> String {
    match r {
        OutcomeReason::Blocked(b) => format!("blocked ({}): {}", b.guard(), blocked_reason(b)),
        OutcomeReason::NotInSavedPlan => {
            "not in the saved plan (Zadig changed since it was made): re-plan".to_owned()
        }
        OutcomeReason::ChangedSincePlan => {
            "changed outside this plan since it was made: re-plan".to_owned()
        }
        OutcomeReason::ChangedSinceRead => {
            "changed in Zadig since it was read for this plan: re-plan".to_owned()
        }
        OutcomeReason::Interrupted => "interrupted before this write started".to_owned(),
        OutcomeReason::WriteFailed { error } => error.clone(),
        OutcomeReason::OpenapiFallback { error, erased } => format!(
            "the UI API refused the preserving write ({error}): written through the OpenAPI fallback (PUT /openapi/build){}",
            if erased.is_empty() {
                String::new()
            } else {
                format!(", erasing: {}", erased.join("; "))
            }
        ),
        OutcomeReason::StillExists => {
            "Zadig accepted the delete, but the build is still there".to_owned()
        }
        OutcomeReason::NotCreated => {
            "Zadig accepted the write, but the build is not there".to_owned()
        }
        OutcomeReason::StoredDiffers => {
            "Zadig accepted the write, but the stored build differs from the definition".to_owned()
        }
    }
}

/// Why `import` left the build `name` out.
pub fn not_imported(name: &str, r: &NotImportedReason) -> String {
    match r {
        NotImportedReason::ReadOnly { source } => format!("read-only build (source {source})"),
        NotImportedReason::NotRead => "the build could not be read".to_owned(),
        NotImportedReason::NameUnaddressable => format!(
            "its name {}, so Zadig's API cannot read it",
            unaddressable_name(name).unwrap_or("cannot be addressed")
        ),
    }
}
