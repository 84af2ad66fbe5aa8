//! The steps `plan`, `drift` and `apply` share: load the directory, resolve
//! credentials, connect, read the live state, compute the plan.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;

use super::args::GlobalArgs;
use super::fs::{Digests, DirContents, LoadedDir, load_dir};
use super::live::{LiveSink, ReadScope, read_live_into};
use super::printer::Printer;
use super::progress::Progress;
use super::session::Session;
use super::settings::Connection;
use crate::core::catalog::Catalog;
use crate::core::cause::{BaseSide, annotate};
use crate::core::live::LiveBuild;
use crate::core::load::LoadResult;
use crate::core::model::Config;
use crate::core::packed::PackedDef;
use crate::core::plan::{DesiredBuild, Plan, PlanOptions, Planner, unknown_projects};
use crate::core::secrets::{EnvValues, MissingEnv, credential_values, resolve_env_in_place};
use crate::zadig::client::Client;
use crate::zadig::wire::BuildBrief;

/// A loaded directory with credentials resolved.
pub struct Prepared {
    /// The files as read; only those with a diagnostic keep their text
    /// (what a saved plan records of them is `digests`).
    pub contents: DirContents,
    /// The digests of the files as read, taken before their text was
    /// released (by [`prepare`]; `None` otherwise, the text kept).
    pub digests: Option<Digests>,
    /// What loading found.
    pub load: LoadResult,
    /// Definitions in scope, `{from_env}` resolved where set. They are
    /// moved here out of `load.builds` (which is then empty), so the
    /// definitions are held once, not twice.
    pub desired: Vec<DesiredBuild>,
    /// `{from_env}` variables that are not set: (build, what).
    pub missing_env: Vec<(String, MissingEnv)>,
}

impl Prepared {
    /// The directory's configuration.
    pub fn config(&self) -> &Config {
        &self.load.config
    }
}

/// Loads `dir`, prints its diagnostics, and resolves credentials from the
/// environment. Fails when the configuration itself is unusable; definition
/// errors are returned in `load` (the plan then blocks every delete).
pub fn prepare(dir: &Path, projects: &[String], printer: &Printer) -> anyhow::Result<Prepared> {
    // Only a file with a diagnostic keeps its text (to render it); the saved
    // plan needs just the digests.
    let LoadedDir {
        contents,
        mut load,
        digests,
    } = load_dir(dir)?;
    super::output::show_diagnostics(&load, &contents, printer);
    if contents.config.is_none() {
        bail!(
            "{} has no zadig-sync.yaml: it declares the projects this directory manages",
            dir.display()
        );
    }
    for p in projects {
        if load.config.project(p).is_none() {
            bail!("--project {p}: this directory does not manage `{p}` (see zadig-sync.yaml)");
        }
    }
    let defs = take_defs(&mut load);
    let mut prepared = resolved(contents, load, defs, projects);
    prepared.digests = Some(digests);
    Ok(prepared)
}

/// Moves the loaded definitions out of `load` (with their `file:line`).
pub fn take_defs(load: &mut LoadResult) -> Vec<(PackedDef, String)> {
    std::mem::take(&mut load.builds)
        .into_iter()
        .map(|l| {
            let origin = format!("{}:{}", l.origin.file, l.origin.line);
            (l.def, origin)
        })
        .collect()
}

/// A [`Prepared`] from definitions (with their `file:line`): those of
/// `projects` (all when empty), each `{from_env}` variable read from the
/// environment once (a definition is resolved with it when unpacked).
pub fn resolved(
    contents: DirContents,
    load: LoadResult,
    mut defs: Vec<(PackedDef, String)>,
    projects: &[String],
) -> Prepared {
    defs.retain(|(def, _)| projects.is_empty() || projects.iter().any(|p| p == def.project_key()));
    // Each variable is read once, set or not; the definitions stay packed as
    // loaded and are resolved with the values that are set whenever they are
    // unpacked.
    let read = std::cell::RefCell::new(std::collections::BTreeMap::<String, Option<String>>::new());
    let lookup = |var: &str| {
        if let Some(value) = read.borrow().get(var) {
            return value.clone();
        }
        let value = super::settings::env_var(var);
        read.borrow_mut().insert(var.to_owned(), value.clone());
        value
    };
    let mut resolved_defs = Vec::with_capacity(defs.len());
    let mut missing_env = Vec::new();
    for (packed, origin) in defs {
        let mut def = packed.unpack();
        let (missing, _) = resolve_env_in_place(&mut def, &lookup);
        for secret in credential_values(&def) {
            super::redact::add_secret(&secret);
        }
        for m in missing {
            missing_env.push((format!("{}/{}", def.project_key(), def.name()), m));
        }
        // The read policy's facts are those of the resolved definition.
        let uses_templates = crate::core::reads::def_uses_templates(&def);
        let compared = crate::core::reads::compared(&def);
        resolved_defs.push((packed, origin, uses_templates, compared));
    }
    let env: EnvValues = read
        .into_inner()
        .into_iter()
        .filter_map(|(var, value)| Some((var, value?)))
        .collect();
    let env = std::sync::Arc::new(env);
    let desired = resolved_defs
        .into_iter()
        .map(|(packed, origin, uses_templates, compared)| {
            DesiredBuild::with_facts(
                packed,
                origin,
                std::sync::Arc::clone(&env),
                uses_templates,
                compared,
            )
        })
        .collect();
    Prepared {
        digests: None,
        contents,
        load,
        desired,
        missing_env,
    }
}

/// Checks `--target` values: `PROJECT/NAME`, of a managed project, and of
/// one of `projects` when `--project` narrows the run.
pub fn check_targets(
    targets: &[String],
    config: &Config,
    projects: &[String],
) -> anyhow::Result<()> {
    for t in targets {
        let Some((project, name)) = t.split_once('/') else {
            bail!("--target {t}: write it as PROJECT/NAME, e.g. demo/demo-api");
        };
        if name.is_empty() || config.project(project).is_none() {
            bail!(
                "--target {t}: `{project}` is not a project this directory manages (see zadig-sync.yaml)"
            );
        }
        if !projects.is_empty() && !projects.iter().any(|p| p == project) {
            bail!(
                "--target {t} is outside --project {}: the target would not be planned; add --project {project} or drop the --target",
                projects.join(" --project ")
            );
        }
    }
    Ok(())
}

/// Resolves where to connect: the flags and environment, else the
/// directory's configured endpoint.
pub fn connection(global: &GlobalArgs, prepared: &Prepared) -> anyhow::Result<Connection> {
    Connection::resolve(global, prepared.config().endpoint.as_deref())
}

/// Connects (to the server, or to an in-process emulator).
pub async fn connect(
    global: &GlobalArgs,
    prepared: &Prepared,
    dir: &Path,
) -> anyhow::Result<Session> {
    let conn = connection(global, prepared)?;
    Session::open(&conn, Some(dir)).await
}

/// Reads the live state and computes the plan.
pub async fn compute(
    client: &Client,
    prepared: &Prepared,
    opts: &PlanOptions,
    printer: &Printer,
) -> anyhow::Result<Plan> {
    compute_with_base(client, prepared, None, opts, printer).await
}

/// The planners a run feeds: the definitions', and the base's.
struct Planners<'a> {
    current: Planner<'a>,
    base: Option<Planner<'a>>,
}

impl LiveSink for Planners<'_> {
    fn listed(&mut self, project: &str, builds: &[BuildBrief]) {
        self.current.listed(project, builds);
        if let Some(b) = &mut self.base {
            b.listed(project, builds);
        }
    }

    fn listing_failed(&mut self, project: &str, error: String) {
        if let Some(b) = &mut self.base {
            b.listing_failed(project, error.clone());
        }
        self.current.listing_failed(project, error);
    }

    fn needs_templates(&self, project: &str, name: &str) -> bool {
        self.current.needs_templates(project, name)
            || self
                .base
                .as_ref()
                .is_some_and(|b| b.needs_templates(project, name))
    }

    fn read(&mut self, build: LiveBuild, catalog: &Catalog) {
        self.current.read(&build, catalog);
        if let Some(b) = &mut self.base {
            b.read(&build, catalog);
        }
    }
}

/// The definitions at a base revision (`plan --base`).
pub struct BaseDefs {
    /// In scope, `{from_env}` resolved as for the current definitions.
    pub desired: Vec<DesiredBuild>,
    /// Every file at the base loaded.
    pub complete: bool,
}

/// [`compute`], and with a base, the cause of every change
/// ([`crate::core::cause`]), judged against the same live state.
pub async fn compute_with_base(
    client: &Client,
    prepared: &Prepared,
    base: Option<&BaseDefs>,
    opts: &PlanOptions,
    printer: &Printer,
) -> anyhow::Result<Plan> {
    let config = prepared.config();
    let projects: Vec<String> = config
        .projects
        .iter()
        .map(|p| p.key.clone())
        .filter(|k| opts.projects.is_empty() || opts.projects.contains(k))
        .collect();
    let scope = ReadScope {
        projects,
        desired: &prepared.desired,
        targets: &opts.targets,
        check_elsewhere: true,
        read_all: false,
    };
    // Cleared when dropped: on an error, and when Ctrl-C cancels this future.
    let bar = Arc::new(Progress::start(printer, "reading builds"));
    let progress = {
        let bar = bar.clone();
        Some(
            Arc::new(move |done: usize, total: usize| bar.set(done, total))
                as super::live::Progress,
        )
    };
    // Each build is planned as its read arrives, against the definitions
    // and, with `--base`, against the base's too.
    let mut planners = Planners {
        current: Planner::new(config, &prepared.desired, opts),
        base: base.map(|b| Planner::new(config, &b.desired, opts)),
    };
    let rest = read_live_into(client, config, &scope, progress, &mut planners).await;
    drop(bar);
    let rest = rest?;
    let unknown: Vec<String> = unknown_projects(config, &rest.catalog)
        .into_iter()
        .filter(|p| opts.projects.is_empty() || opts.projects.contains(p))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "zadig-sync.yaml declares {} that Zadig does not have: {} (a typo? a create there would make a build in a project that does not exist): nothing was planned or written",
            if unknown.len() == 1 {
                "a project"
            } else {
                "projects"
            },
            unknown
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut plan = planners.current.finish(&rest.elsewhere, &rest.catalog);
    if let (Some(base), Some(planner)) = (base, planners.base) {
        let base_plan = planner.finish(&rest.elsewhere, &rest.catalog);
        let side = BaseSide {
            desired: &base.desired,
            plan: &base_plan,
            complete: base.complete,
        };
        annotate(&mut plan, &side, &prepared.desired, &rest.catalog);
    }
    // Unset `{from_env}` variables are in the plan's `not_compared`.
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{BuildDef, ParamValue};

    #[test]
    fn definitions_are_held_as_loaded_and_resolved_when_unpacked() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let LoadedDir {
            contents, mut load, ..
        } = load_dir(&dir).expect("loads");
        let before: Vec<(BuildDef, String)> = load
            .builds
            .iter()
            .map(|l| {
                (
                    l.def.unpack(),
                    format!("{}:{}", l.origin.file, l.origin.line),
                )
            })
            .collect();
        // A variable that `cargo test` sets, on a parameter that is not a
        // credential (so it is not registered as a secret).
        assert!(super::super::settings::env_var("CARGO_PKG_NAME").is_some());
        let mut first = load.builds[0].def.unpack();
        let BuildDef::Build(b) = &mut first else {
            panic!("the first example is a plain build");
        };
        let p = b.parameters.iter_mut().find(|p| !p.is_credential);
        let p = p.expect("the first example has a plain parameter");
        p.default_value = ParamValue::FromEnv("CARGO_PKG_NAME".into());
        load.builds[0].def = PackedDef::new(&first);
        let defs = take_defs(&mut load);
        assert!(load.builds.is_empty(), "moved, not copied");
        let prepared = resolved(contents, load, defs, &[]);
        assert_eq!(prepared.desired.len(), before.len());
        // Held as loaded; unpacked, it is resolved with the value read once.
        assert_eq!(prepared.desired[0].loaded(), first);
        let BuildDef::Build(resolved) = prepared.desired[0].def() else {
            panic!("a plain build");
        };
        let p = resolved.parameters.iter().find(|p| !p.is_credential);
        assert_eq!(
            p.map(|p| &p.default_value),
            Some(&ParamValue::Literal(env!("CARGO_PKG_NAME").to_owned()))
        );
        for (d, (want, _)) in prepared.desired.iter().zip(&before).skip(1) {
            assert_eq!(&d.def(), want, "nothing to resolve: as loaded");
        }
        let d = &prepared.desired;
        assert_eq!(
            (d[0].loaded(), d[0].origin.as_str()),
            (first, before[0].1.as_str())
        );
        for (got, want) in d.iter().zip(&before).skip(1) {
            assert_eq!(
                (&got.loaded(), got.origin.as_str()),
                (&want.0, want.1.as_str())
            );
        }
    }
}
