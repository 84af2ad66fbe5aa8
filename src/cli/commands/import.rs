//! `import`: write live builds as definition files, so that adopting
//! zadig-sync starts from the truth and the first plan is empty.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::cli::args::{CredentialMode, GlobalArgs, ImportArgs};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::fs::{Written, write_inside};
use crate::cli::live::{ReadScope, read_live};
use crate::cli::printer::Printer;
use crate::cli::session::Session;
use crate::cli::settings::Connection;
use crate::core::import::{Credentials, Names, file_stem, import_build_with};
use crate::core::load::{CONFIG_FILE, SourceFile, load_config_file};
use crate::core::model::{Config, ProjectConfig};
use crate::core::notice::NotImportedReason;
use crate::core::plan::ProjectLive;
use crate::core::validate::{shown_name, unaddressable_name};
use crate::render::import::ImportSummary;

/// Runs `import`.
pub async fn run(global: &GlobalArgs, args: &ImportArgs, printer: &Printer) -> CommandResult {
    let config = read_config(&args.out, printer)?;
    let declared = config
        .as_ref()
        .is_some_and(|c| c.project(&args.project).is_some());
    let endpoint = config.as_ref().and_then(|c| c.endpoint.clone());
    // Builds the directory already defines, wherever: a second definition
    // would make the directory invalid ("defined twice").
    let defined = defined_builds(&args.out);
    let conn = Connection::resolve(global, endpoint.as_deref())?;
    let session = Session::open(&conn, Some(&args.out)).await?;
    if let Err(e) = check_project(&session, &args.project).await {
        session.close().await;
        return Err(e);
    }

    // Read the project as a plan would, every build of it but those the
    // directory ignores.
    let project_config = config
        .as_ref()
        .and_then(|c| c.project(&args.project).cloned())
        .unwrap_or_else(|| ProjectConfig {
            key: args.project.clone(),
            ..ProjectConfig::default()
        });
    let scope_config = Config {
        endpoint: None,
        projects: vec![project_config],
        ..Config::default()
    };
    let targets: Vec<String> = args
        .names
        .iter()
        .map(|n| format!("{}/{n}", args.project))
        .collect();
    let scope = ReadScope {
        projects: vec![args.project.clone()],
        desired: &[],
        targets: &targets,
        check_elsewhere: false,
        read_all: true,
    };
    let live = read_live(&session.client, &scope_config, &scope, None).await;
    // The other kinds (`--templates`: the global libraries), read while the
    // session is open.
    let mut library = Vec::new();
    if let (Ok(l), true) = (&live, args.templates) {
        for d in crate::kinds::drivers() {
            match d
                .import_read(&session.client, config.as_ref(), &l.catalog)
                .await
            {
                Ok(read) => library.push((*d, read)),
                Err(e) => {
                    session.close().await;
                    return Err(e);
                }
            }
        }
    }
    session.close().await;
    let live = live?;
    let builds = match live.projects.get(&args.project) {
        Some(ProjectLive::Listed(b)) => b,
        Some(ProjectLive::Failed(e)) => bail!("cannot list project `{}`: {e}", args.project),
        None => bail!("project `{}` was not read", args.project),
    };
    let missing: Vec<&String> = args
        .names
        .iter()
        .filter(|n| !builds.iter().any(|b| b.name() == n.as_str()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "no build named {} in project `{}`",
            missing
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            args.project
        );
    }
    if builds.is_empty() {
        printer.note(&format!(
            "project `{}` has no builds to import",
            args.project
        ));
    }

    let mode = match args.credentials {
        CredentialMode::Env => Credentials::FromEnv,
        CredentialMode::Keep => Credentials::Keep,
    };
    // Injective, visible file names (core::import::file_stem), for the
    // project directory too.
    let sub = file_stem(&args.project);
    let dir = args.out.join(&sub);
    // Names that differ only in case would share a file on a case-insensitive
    // file system (macOS, Windows): refuse before writing anything.
    let mut stems_seen = std::collections::HashMap::new();
    for b in builds {
        if !args.names.is_empty() && !args.names.iter().any(|n| n == b.name()) {
            continue;
        }
        let file = format!("{}.yaml", file_stem(b.name()));
        if let Some(other) = stems_seen.insert(file.to_ascii_lowercase(), b.name().to_owned()) {
            bail!(
                "builds {} and {} would share the file {file} on a case-insensitive file system: \
                 import them one at a time (by name) into different directories",
                shown_name(&other),
                shown_name(b.name())
            );
        }
    }
    let mut written = 0;
    let mut existing = Vec::new();
    let mut already = Vec::new();
    let mut not_imported = Vec::new();
    let mut with_erases = Vec::new();
    let mut env_vars = Vec::new();
    // Credential variables unique across the builds of this import.
    let mut names = Names::default();
    for b in builds {
        if !args.names.is_empty() && !args.names.iter().any(|n| n == b.name()) {
            continue;
        }
        let imported = match import_build_with(
            b,
            &live.catalog,
            mode,
            "../schemas/definition.schema.json",
            &mut names,
        ) {
            Ok(i) => i,
            Err(e) => {
                let reason = match unaddressable_name(b.name()) {
                    Some(_) => NotImportedReason::NameUnaddressable,
                    None => e.reason,
                };
                not_imported.push((b.name().to_owned(), reason));
                continue;
            }
        };
        let file = format!("{}.yaml", file_stem(b.name()));
        let path = dir.join(&file);
        // A build the directory defines in another file is not written again.
        if let Some(origin) = defined.get(&(args.project.clone(), b.name().to_owned()))
            && origin.file != format!("{sub}/{file}")
        {
            already.push((
                format!("{}/{}", args.project, b.name()),
                args.out.join(&origin.file),
            ));
            continue;
        }
        match write_inside(&args.out, &sub, &file, imported.text.as_bytes(), args.force)? {
            Written::Exists => {
                existing.push(path);
                continue;
            }
            Written::Written => {}
        }
        written += 1;
        if !imported.erases.is_empty() {
            with_erases.push((b.name().to_owned(), imported.erases));
        }
        env_vars.extend(imported.env_vars);
    }
    // The other kinds' files, one per resource.
    for (d, read) in library {
        let files = d.import_files(read, config.as_ref(), &live.catalog, &mut names, printer)?;
        let mut kind_written = 0;
        for (file, text, vars) in files.files {
            match write_inside(&args.out, files.dir, &file, text.as_bytes(), args.force)? {
                Written::Exists => {
                    existing.push(args.out.join(files.dir).join(&file));
                    continue;
                }
                Written::Written => {}
            }
            kind_written += 1;
            env_vars.extend(vars);
        }
        for note in d.import_notes(kind_written, &args.out.join(files.dir), config.as_ref()) {
            printer.note(&note);
        }
    }
    write_schemas(&args.out)?;
    let config_path = args.out.join("zadig-sync.yaml");
    if config.is_none() {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        // A new file only: never through a (dangling) symbolic link.
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&config_path)
            .and_then(|mut f| {
                let mut text = new_config(&args.project);
                if args.templates {
                    for d in crate::kinds::drivers() {
                        text.push_str(d.import_config());
                    }
                }
                f.write_all(text.as_bytes())
            })
            .with_context(|| format!("cannot write {}", config_path.display()))?;
    }

    let summary = ImportSummary {
        project: args.project.clone(),
        written,
        dir,
        existing,
        wrote_config: config.is_none().then_some(config_path),
        already,
        env_vars,
        not_imported,
        with_erases,
        undeclared_in: (!declared && config.is_some()).then(|| args.out.join("zadig-sync.yaml")),
    };
    let out = crate::render::import::human(&summary);
    printer.out(&out)?;
    Ok(ExitStatus::Success)
}

/// Fails unless Zadig has the project and the token sees it: importing
/// "0 builds" from a typo is not a success.
async fn check_project(session: &Session, project: &str) -> anyhow::Result<()> {
    let visible = session
        .client
        .projects()
        .await
        .context("cannot list Zadig's projects to find the one to import")?;
    if visible.iter().any(|p| p.project_key == project) {
        return Ok(());
    }
    let keys: Vec<&str> = visible.iter().map(|p| p.project_key.as_str()).collect();
    let hint = match crate::core::validate::did_you_mean(project, keys.iter().copied()) {
        Some(near) => format!(" (did you mean `{near}`?)"),
        None if keys.is_empty() => " (this token sees no project)".to_owned(),
        None => format!(" (projects: {})", keys.join(", ")),
    };
    bail!(
        "project `{project}` does not exist in Zadig, or this token cannot see it{hint}: nothing was imported"
    )
}

/// The `zadig-sync.yaml` import writes into a directory that has none.
fn new_config(project: &str) -> String {
    format!(
        "# yaml-language-server: $schema=schemas/zadig-sync.schema.json\n\
         # Written by `zadig-sync import`. prune stays off until you choose.\n\
         projects:\n  - key: {}\n    prune: false\n",
        yaml_scalar(project)
    )
}

/// A project key as a YAML scalar: plain when that reads back the same,
/// else double-quoted (JSON strings are YAML).
fn yaml_scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !s.starts_with('-');
    if plain {
        s.to_owned()
    } else {
        serde_json::Value::from(s).to_string()
    }
}

/// `(project, name)` → where the directory defines it, for every build its
/// files define (those that load; nothing when there is no directory).
fn defined_builds(
    dir: &Path,
) -> std::collections::BTreeMap<(String, String), crate::core::load::Origin> {
    let Ok(crate::cli::fs::LoadedDir { load, .. }) = crate::cli::fs::load_dir(dir) else {
        return Default::default();
    };
    load.builds
        .into_iter()
        .map(|l| {
            (
                (l.def.project_key().to_owned(), l.def.name().to_owned()),
                l.origin,
            )
        })
        .collect()
}

/// The directory's configuration, if it has one, loaded by the rules every
/// command applies ([`crate::core::load::load_config_file`]): an error shows
/// at file:line:column, and nothing is imported.
fn read_config(dir: &Path, printer: &Printer) -> anyhow::Result<Option<Config>> {
    let path = dir.join(CONFIG_FILE);
    if !path.exists() {
        return Ok(None);
    }
    // As for every definition directory: never read through a link that
    // leaves it.
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        let inside = match (std::fs::canonicalize(&path), std::fs::canonicalize(dir)) {
            (Ok(target), Ok(root)) => target.starts_with(root),
            _ => false,
        };
        if !inside {
            bail!(
                "{} is a symbolic link to a place outside the directory: it is not read, and nothing was imported",
                path.display()
            );
        }
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = SourceFile {
        path: CONFIG_FILE.to_owned(),
        bytes,
    };
    let (config, diags) = load_config_file(&file);
    // `-q` hides notes and warnings, never errors (as `validate`).
    let shown: Vec<_> = diags
        .into_iter()
        .filter(|d| !printer.quiet() || d.is_error())
        .collect();
    if !shown.is_empty() {
        let files = [file];
        printer.diagnostics(&crate::render::diagnostics::render(
            &shown,
            &files[..],
            true,
        ));
    }
    match config {
        Some(config) => Ok(Some(config)),
        None => bail!(
            "{} has errors (shown above): nothing was imported",
            path.display()
        ),
    }
}

/// Writes the JSON Schemas next to the imported files, so editors check them.
fn write_schemas(out: &Path) -> anyhow::Result<()> {
    let dir: PathBuf = out.join("schemas");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in crate::cli::schemas::schema_files() {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
