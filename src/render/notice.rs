//! The words of the typed messages ([`crate::core::notice`]) and of the
//! plan's other coded data (guards, gaps, write paths): one function per
//! kind of message, shared by the human, Markdown and JSON views.

use crate::core::notice::{NotImportedReason, OutcomeReason, UnmanagedReason, Warning};
use crate::core::plan::{Action, Blocked, Gap, WritePath};
use crate::core::preserve::PreserveError;
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
            cause,
        } => format!(
            "{project}/{name}: the preserving write cannot be made ({}): the OpenAPI update is used instead",
            preserve_error(cause)
        ),
    }
}

/// Why the preserving write's body could not be made.
pub fn preserve_error(e: &PreserveError) -> String {
    match e {
        PreserveError::NotAnObject => "the stored model is not a JSON object".to_owned(),
        PreserveError::NoImage { label } => format!("no basic image is labelled `{label}`"),
        PreserveError::NoCluster { name } => format!("no cluster is named `{name}`"),
        PreserveError::NoDockerfileTemplate { name } => {
            format!("no dockerfile template is named `{name}`")
        }
        PreserveError::NoCodeHost { alias } => format!("no code host has the alias `{alias}`"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::notice::StrategyRef;
    use crate::core::notice::tests::every_warning;

    /// Each message reads exactly as the text the core used to build (the
    /// strings below are the old `format!`s filled with the same data).
    #[test]
    fn the_warnings_read_as_before() {
        let texts: Vec<String> = every_warning().iter().map(warning).collect();
        assert_eq!(
            texts,
            [
                "project `p` could not be listed (e): its builds were not planned",
                "project `p` was not read: its builds were not planned",
                "f:1: `n` matches an `ignore` glob of project `p`: the definition is skipped",
                "project `p`: live build `a/b` cannot be read (its name contains a path separator (`/` or `\\`)): it is left alone and this project's deletes are blocked; rename it in the Zadig UI",
                "--target p/n matches no definition and no live build of a managed project",
                "f:1: `n`: cluster `c` has no scheduling strategy `x`, so Zadig would use its default; its strategies: none",
                "f:1: the OpenAPI create cannot store a workspace cache (it stores a user-defined directory): apply sets it right after through the UI API (PUT /api/aslan/build/build, needs Build.Edit)",
                "p/n: odd",
                "p/n: input `I` of svc/m is not a variable of template `t`: Zadig drops it, so it shows as a change on every plan; remove it",
                "p/n: the preserving write cannot be made (no basic image is labelled `l`): the OpenAPI update is used instead",
            ]
        );
        let w = Warning::StrategyUnknown {
            file: "demo/a.yaml:1".into(),
            project: "demo".into(),
            name: "a".into(),
            cluster: "prod".into(),
            strategy: "hgih-mem".into(),
            strategies: vec![
                StrategyRef {
                    name: "default".into(),
                    default: true,
                },
                StrategyRef {
                    name: "high-mem".into(),
                    default: false,
                },
            ],
        };
        assert_eq!(
            warning(&w),
            "demo/a.yaml:1: `a`: cluster `prod` has no scheduling strategy `hgih-mem`, so Zadig would use its default; its strategies: `default` (default), `high-mem`"
        );
        // A name with a newline cannot start a line of its own.
        let w = Warning::NameUnaddressable {
            project: "p".into(),
            name: "a\nb".into(),
        };
        assert!(
            warning(&w).contains(
                "live build \"a\\nb\" cannot be read (its name contains control characters)"
            ),
            "{}",
            warning(&w)
        );
    }

    #[test]
    fn guards_gaps_and_reasons_read_as_before() {
        let s = |v: &str| v.to_owned();
        let preserve: Vec<String> = [
            PreserveError::NotAnObject,
            PreserveError::NoImage {
                label: s("ubuntu 99"),
            },
            PreserveError::NoCluster { name: s("c") },
            PreserveError::NoDockerfileTemplate { name: s("d") },
            PreserveError::NoCodeHost { alias: s("gl") },
        ]
        .iter()
        .map(preserve_error)
        .collect();
        assert_eq!(
            preserve,
            [
                "the stored model is not a JSON object",
                "no basic image is labelled `ubuntu 99`",
                "no cluster is named `c`",
                "no dockerfile template is named `d`",
                "no code host has the alias `gl`",
            ]
        );
        let reasons: Vec<String> = [
            Blocked::Protected,
            Blocked::Erase {
                settings: vec![s("post-build script"), s("proxy setting")],
            },
            Blocked::MassDelete { count: 3, max: 2 },
            Blocked::LoadErrors,
            Blocked::IncompleteListing,
            Blocked::ReadOnly {
                source: s("jenkins"),
            },
            Blocked::NameTaken {
                project: s("other"),
            },
            Blocked::KeepOnCreate {
                paths: vec![
                    s("parameters[A].default_value"),
                    s("parameters[B].default_value"),
                ],
            },
            Blocked::KeepWithoutValue {
                paths: vec![s("parameters[A].default_value")],
            },
            Blocked::UnknownTemplate { template: s("tpl") },
        ]
        .iter()
        .map(blocked_reason)
        .collect();
        assert_eq!(
            reasons,
            [
                "matches a `protect` glob: zadig-sync never changes or deletes it",
                "the update would erase settings the OpenAPI cannot express (post-build script; proxy setting); re-run with --allow-erase to accept",
                "3 deletes exceed max_deletes (2); re-run with --allow-mass-delete if this is intended",
                "some definitions failed to load: no deletes until every file loads",
                "a project could not be listed completely: no deletes from a partial listing",
                "the live build has source `jenkins`: zadig-sync treats it as read-only",
                "a build with this name exists in project `other` (Zadig build names are global): rename it, or delete it there first",
                "`keep: true` on a build that does not exist yet (parameters[A].default_value, parameters[B].default_value): give a value or `from_env`",
                "`keep: true` where the live build has no credential under that key, so there is nothing to keep (parameters[A].default_value): give a value or `from_env`",
                "build template `tpl` does not exist in Zadig: create it first, or fix `template_name`",
            ]
        );
        assert_eq!(
            [
                gap(&Gap::LoadErrors),
                gap(&Gap::ListingFailed { project: s("p") }),
                gap(&Gap::NotRead { project: s("p") }),
            ],
            [
                "some definition files failed to load",
                "project `p` could not be listed",
                "project `p` was not read",
            ]
        );
        assert_eq!(
            [
                unmanaged(&UnmanagedReason::NoDefinition),
                unmanaged(&UnmanagedReason::ReadOnly {
                    source: s("jenkins")
                }),
            ],
            ["no definition (prune is off)", "read-only (source jenkins)"]
        );
        assert_eq!(
            write_path(WritePath::Preserving, Action::Update),
            "PUT /api/aslan/build/build (keeps what the file does not say)"
        );
        assert_eq!(
            write_request(WritePath::Preserving, Action::Update),
            "PUT /api/aslan/build/build"
        );
        assert_eq!(
            write_request(WritePath::Openapi, Action::Update),
            "PUT /openapi/build"
        );
        assert_eq!(
            write_request(WritePath::Template, Action::Create),
            "POST /openapi/build?source=template"
        );
        let outcome: Vec<String> = [
            OutcomeReason::Blocked(Blocked::Protected),
            OutcomeReason::NotInSavedPlan,
            OutcomeReason::ChangedSincePlan,
            OutcomeReason::ChangedSinceRead,
            OutcomeReason::Interrupted,
            OutcomeReason::OpenapiFallback {
                error: s("403"),
                erased: vec![],
            },
            OutcomeReason::StillExists,
            OutcomeReason::NotCreated,
            OutcomeReason::StoredDiffers,
        ]
        .iter()
        .map(outcome_reason)
        .collect();
        assert_eq!(
            outcome,
            [
                "blocked (protected): matches a `protect` glob: zadig-sync never changes or deletes it",
                "not in the saved plan (Zadig changed since it was made): re-plan",
                "changed outside this plan since it was made: re-plan",
                "changed in Zadig since it was read for this plan: re-plan",
                "interrupted before this write started",
                "the UI API refused the preserving write (403): written through the OpenAPI fallback (PUT /openapi/build)",
                "Zadig accepted the delete, but the build is still there",
                "Zadig accepted the write, but the build is not there",
                "Zadig accepted the write, but the stored build differs from the definition",
            ]
        );
    }
}
