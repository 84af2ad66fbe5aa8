//! Saved plans (`plan --out`, `apply PLANFILE`, `show PLANFILE`).
//!
//! A saved plan is self-contained and bound to where it was made:
//! - the desired definitions (credential references as written; literal
//!   credential values are never saved), the configuration, the projects
//!   and the options it was made with, so that `apply PLANFILE` needs no
//!   directory;
//! - the endpoint it was made against, so that it is never applied elsewhere;
//! - a digest of every file of the directory, so that a directory given to
//!   `apply` with it must be the one planned (apply names what changed);
//! - per change, the live build as read (`update_time`, fingerprint), so that
//!   apply refuses what changed since;
//! - the plan as shown, for `show`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::cli::fs::DirContents;
use crate::cli::settings::{Connection, Destination};
pub use crate::core::apply::PlannedChange;
use crate::core::model::{BuildDef, BuildSpec, Config, Kind, ParamValue, TemplateBuildSpec};
use crate::core::plan::{Plan, PlanOptions};
use crate::core::secrets::SENSITIVE;

/// Version of the saved-plan format. 2: self-contained (definitions,
/// configuration, endpoint, file digests, the plan as shown). 3: the plan as
/// shown holds typed messages (`warnings` and `unmanaged[].reason` are
/// coded data, no longer text; issue 15).
pub const FORMAT_VERSION: &str = "3";

/// A saved plan.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    /// Format version.
    pub format_version: String,
    /// zadig-sync version that wrote it.
    pub zadig_sync_version: String,
    /// Where it was made: the Zadig URL, or `emulator` / `emulator:STATE_FILE`.
    pub endpoint: String,
    /// The projects planned.
    pub projects: Vec<String>,
    /// `--project` filters given to `plan` (empty: every managed project).
    pub project_filters: Vec<String>,
    /// `--target` filters.
    pub targets: Vec<String>,
    /// `--allow-erase` at plan time.
    pub allow_erase: bool,
    /// `--allow-mass-delete` at plan time.
    pub allow_mass_delete: bool,
    /// SHA-256 of the definition directory (configuration and files).
    pub dir_hash: String,
    /// SHA-256 of each file, by path relative to the directory.
    pub files: BTreeMap<String, crate::cli::fs::FileDigest>,
    /// The directory's `zadig-sync.yaml`, as loaded.
    pub config: Config,
    /// The definitions of the projects planned, as written.
    pub definitions: Vec<SavedDefinition>,
    /// The planned changes (blocked ones included, for the record).
    pub changes: Vec<PlannedChange>,
    /// The plan as shown (values masked), for `show`.
    pub plan: Plan,
    /// The parts of the other kinds (each driver reads and writes its own
    /// keys: see [`crate::cli::driver::Driver::save`]).
    #[serde(flatten)]
    pub kinds: crate::cli::driver::SavedParts,
}

impl PlanFile {
    /// Adds the kinds' parts (each when the directory manages its kind).
    pub fn with_parts(
        mut self,
        load: &crate::core::load::LoadResult,
        parts: &crate::cli::driver::Parts,
    ) -> Self {
        for (d, part) in &parts.0 {
            d.save(load, part.as_ref(), &mut self.kinds);
        }
        self
    }
}

/// One definition as saved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedDefinition {
    /// Its kind.
    pub kind: Kind,
    /// `file:line` in the directory it was planned from.
    pub origin: String,
    /// The definition, `{from_env}` and `{keep}` as written; literal
    /// credential values replaced by `(sensitive)`. Held as its compact JSON
    /// text: a plan of 50,000 builds saved them as `Value` trees in a
    /// gigabyte (issue 13).
    pub definition: Box<serde_json::value::RawValue>,
    /// Paths of the literal credential values that were not saved: applying
    /// such a build needs the directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub literal_credentials: Vec<String>,
}

impl PartialEq for SavedDefinition {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.origin == other.origin
            && self.definition.get() == other.definition.get()
            && self.literal_credentials == other.literal_credentials
    }
}

impl SavedDefinition {
    /// `def` as saved, from `file:line`.
    pub fn of(def: &BuildDef, origin: &str) -> Self {
        let (value, literal_credentials) = redacted(def);
        // A value serialises (`null` if it did not).
        let definition = serde_json::value::to_raw_value(&value).unwrap_or_default();
        SavedDefinition {
            kind: def.kind(),
            origin: origin.to_owned(),
            definition,
            literal_credentials,
        }
    }

    /// The definition back, with literal credentials still `(sensitive)`.
    pub fn to_def(&self) -> anyhow::Result<BuildDef> {
        let text = self.definition.get();
        Ok(match self.kind {
            Kind::Build => BuildDef::Build(serde_json::from_str::<BuildSpec>(text)?),
            Kind::TemplateBuild => {
                BuildDef::Template(serde_json::from_str::<TemplateBuildSpec>(text)?)
            }
        })
    }
}

/// What a plan file is made from.
pub struct Made<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The options it was made with.
    pub opts: &'a PlanOptions,
    /// Where it was made.
    pub endpoint: String,
    /// The directory's files.
    pub contents: &'a DirContents,
    /// Its configuration.
    pub config: &'a Config,
    /// The definitions (each saved as loaded, not resolved), unpacked one
    /// at a time.
    pub builds: &'a [crate::core::plan::DesiredBuild],
}

impl PlanFile {
    /// Records a plan.
    pub fn new(m: Made<'_>) -> Self {
        let digests = crate::cli::fs::Digests::of(m.contents);
        Self::with_digests(m, digests)
    }

    /// [`PlanFile::new`], with the digests of the directory's files taken
    /// before their text was released (`m.contents` is then not hashed).
    pub fn with_digests(m: Made<'_>, digests: crate::cli::fs::Digests) -> Self {
        let projects: Vec<String> = m
            .config
            .projects
            .iter()
            .map(|p| p.key.clone())
            .filter(|k| m.opts.projects.is_empty() || m.opts.projects.contains(k))
            .collect();
        let definitions = m
            .builds
            .iter()
            .filter(|d| projects.iter().any(|p| p == d.project_key()))
            .map(|d| SavedDefinition::of(&d.loaded(), &d.origin))
            .collect();
        PlanFile {
            format_version: FORMAT_VERSION.to_owned(),
            zadig_sync_version: env!("CARGO_PKG_VERSION").to_owned(),
            endpoint: m.endpoint,
            projects,
            project_filters: m.opts.projects.clone(),
            targets: m.opts.targets.clone(),
            allow_erase: m.opts.allow_erase,
            allow_mass_delete: m.opts.allow_mass_delete,
            dir_hash: digests.dir_hash,
            files: digests.files,
            config: m.config.clone(),
            definitions,
            changes: m
                .plan
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
                    desired: None,
                })
                .collect(),
            plan: m.plan.clone(),
            kinds: Default::default(),
        }
    }

    /// The options to plan with again at apply time.
    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            allow_erase: self.allow_erase,
            allow_mass_delete: self.allow_mass_delete,
            projects: self.projects.clone(),
            targets: self.targets.clone(),
            load_errors: false,
        }
    }

    /// Writes the plan as JSON.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        // A large plan's text is tens of megabytes (issue 13): it is made
        // once at its exact size (counted first: a growing buffer reserved
        // up to twice as much), and not copied when nothing is scrubbed.
        let mut counter = Counter(0);
        serde_json::to_writer_pretty(&mut counter, self)?;
        let mut bytes = Vec::with_capacity(counter.0 + 1);
        serde_json::to_writer_pretty(&mut bytes, self)?;
        // serde_json writes UTF-8.
        let mut text = String::from_utf8(bytes)?;
        if let std::borrow::Cow::Owned(scrubbed) = crate::cli::redact::scrub(&text) {
            text = scrubbed;
        }
        text.push('\n');
        std::fs::write(path, text)
            .with_context(|| format!("cannot write the plan file {}", path.display()))
    }

    /// Reads a plan file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the plan file {}", path.display()))?;
        // The version first, from the text (a `Value` tree of a large plan
        // takes ten times its size: issue 13).
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            format_version: serde_json::Value,
        }
        let version: Version = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a zadig-sync plan file", path.display()))?;
        let version = version
            .format_version
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if version == "2" {
            bail!(
                "{} was saved by an older zadig-sync (plan format 2; this one reads {FORMAT_VERSION}): \
                 nothing was applied; re-run `zadig-sync plan --out` with this version and review that plan",
                path.display()
            );
        }
        if version != FORMAT_VERSION {
            bail!(
                "{} has plan format {}, this zadig-sync reads {FORMAT_VERSION}: re-run `zadig-sync plan --out`",
                path.display(),
                if version.is_empty() {
                    "(none)"
                } else {
                    &version
                }
            );
        }
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a zadig-sync plan file", path.display()))
    }

    /// The files of `contents` that differ from those planned: changed,
    /// added, removed (paths, sorted). Empty when the directory is the one
    /// planned.
    pub fn changed_files(&self, now: &crate::cli::fs::Digests) -> Vec<String> {
        let now = &now.files;
        let mut out: Vec<String> = Vec::new();
        for (path, digest) in now {
            match self.files.get(path) {
                Some(d) if d == digest => {}
                Some(_) => out.push(format!("{path} (changed)")),
                None => out.push(format!("{path} (added)")),
            }
        }
        for path in self.files.keys().filter(|p| !now.contains_key(*p)) {
            out.push(format!("{path} (removed)"));
        }
        out.sort();
        out
    }
}

/// Identifies where a connection writes, for binding a plan to it: the
/// normalised URL, or the emulator (with its absolute state file).
pub fn endpoint_id(conn: &Connection) -> String {
    match &conn.destination {
        Destination::Server { endpoint, .. } => normalize_url(endpoint),
        Destination::Emulator { state: None } => "emulator".to_owned(),
        Destination::Emulator { state: Some(p) } => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            format!("emulator:{}", abs.display())
        }
    }
}

/// `HTTP://Zadig.Example.com:80/` and `http://zadig.example.com` are one place.
fn normalize_url(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => u.as_str().trim_end_matches('/').to_owned(),
        Err(_) => url.trim().trim_end_matches('/').to_owned(),
    }
}

/// The definition as JSON without literal credential values, and the paths
/// of those left out.
pub(crate) fn redacted(def: &BuildDef) -> (serde_json::Value, Vec<String>) {
    let mut def = def.clone();
    let mut left_out = Vec::new();
    let mut redact = |path: String, v: &mut ParamValue| {
        if let ParamValue::Literal(s) = v
            && !s.is_empty()
        {
            *v = ParamValue::Literal(SENSITIVE.to_owned());
            left_out.push(path);
        }
    };
    match &mut def {
        BuildDef::Build(b) => {
            for p in b.parameters.iter_mut().filter(|p| p.is_credential) {
                redact(
                    format!("parameters[{}].default_value", p.key),
                    &mut p.default_value,
                );
            }
        }
        BuildDef::Template(t) => {
            for ts in &mut t.target_services {
                let (service, module) = (ts.service_name.clone(), ts.service_module.clone());
                for i in ts.inputs.iter_mut().filter(|i| i.is_credential) {
                    redact(
                        format!(
                            "target_services[{service}/{module}].inputs[{}].value",
                            i.key
                        ),
                        &mut i.value,
                    );
                }
            }
        }
    }
    (def.to_value(), left_out)
}

/// A writer that only counts the bytes.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A path as a shell word: quoted only when it needs to be.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::fs::Digests;

    #[test]
    fn urls_that_name_one_place_are_equal() {
        assert_eq!(
            normalize_url("HTTP://Zadig.Example.com:80/"),
            normalize_url("http://zadig.example.com")
        );
        assert_ne!(
            normalize_url("http://a.example.com"),
            normalize_url("http://b.example.com")
        );
    }

    fn file(path: &str, bytes: &str) -> crate::core::load::SourceFile {
        crate::core::load::SourceFile {
            path: path.into(),
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    #[test]
    fn changed_files_names_changed_added_and_removed() {
        let planned = DirContents {
            config: Some(file("zadig-sync.yaml", "projects: []")),
            files: vec![file("a.yaml", "a"), file("b.yaml", "b")],
            ..DirContents::default()
        };
        let saved = PlanFile::new(Made {
            plan: &Plan::default(),
            opts: &PlanOptions::default(),
            endpoint: "http://z".into(),
            contents: &planned,
            config: &Config::default(),
            builds: &[],
        });
        assert!(saved.changed_files(&Digests::of(&planned)).is_empty());
        let now = DirContents {
            config: Some(file("zadig-sync.yaml", "projects: []")),
            files: vec![file("a.yaml", "a2"), file("c.yaml", "c")],
            ..DirContents::default()
        };
        assert_eq!(
            saved.changed_files(&Digests::of(&now)),
            ["a.yaml (changed)", "b.yaml (removed)", "c.yaml (added)"]
        );
    }

    #[test]
    fn definitions_round_trip_without_literal_credentials() {
        use crate::core::model::Parameter;
        let text = "name: x\nproject_key: demo\ninfrastructure: vm\nbuild_os: ubuntu 20.04\nscript_type: shell\nparameters:\n  - key: A\n    is_credential: true\n    default_value: secret-1\n  - key: B\n    is_credential: true\n    default_value: {from_env: B_VAR}\n";
        let load = crate::core::load::load(
            Some(&file("zadig-sync.yaml", "projects: [{key: demo}]")),
            &[file("x.yaml", text)],
        );
        assert!(!load.has_errors(), "{:?}", load.diagnostics);
        let (value, left_out) = redacted(&load.builds[0].def.unpack());
        assert_eq!(left_out, ["parameters[A].default_value"]);
        assert!(!value.to_string().contains("secret-1"));
        let saved = SavedDefinition {
            kind: Kind::Build,
            origin: "x.yaml:1".into(),
            definition: serde_json::value::to_raw_value(&value).expect("serialises"),
            literal_credentials: left_out,
        };
        let BuildDef::Build(b) = saved.to_def().expect("reads back") else {
            panic!("a build");
        };
        let values: Vec<&ParamValue> = b
            .parameters
            .iter()
            .map(|p: &Parameter| &p.default_value)
            .collect();
        assert_eq!(
            values,
            [
                &ParamValue::Literal(SENSITIVE.to_owned()),
                &ParamValue::FromEnv("B_VAR".into())
            ]
        );
    }

    /// A plan saved before typed messages (format 2) is refused with what
    /// to do, not "not a plan file"; one saved now reads back whole.
    #[test]
    fn an_older_plan_format_is_refused_clearly_and_the_current_one_reads_back() {
        use crate::core::notice::{UnmanagedReason, Warning};
        use crate::core::plan::Unmanaged;
        let dir = std::env::temp_dir().join(format!("zs-planfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("plan.json");
        let plan = Plan {
            warnings: vec![Warning::TargetUnknown {
                target: "demo/x".into(),
            }],
            unmanaged: vec![Unmanaged {
                project: "demo".into(),
                name: "j".into(),
                reason: UnmanagedReason::ReadOnly {
                    source: "jenkins".into(),
                },
            }],
            ..Plan::default()
        };
        let saved = PlanFile::new(Made {
            plan: &plan,
            opts: &PlanOptions::default(),
            endpoint: "http://z".into(),
            contents: &DirContents::default(),
            config: &Config::default(),
            builds: &[],
        });
        saved.write(&path).expect("written");
        assert_eq!(PlanFile::read(&path).expect("reads back"), saved);

        let mut old: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        old["format_version"] = "2".into();
        old["plan"]["warnings"] = serde_json::json!(["--target demo/x matches nothing"]);
        std::fs::write(&path, old.to_string()).expect("written");
        let err = format!("{:#}", PlanFile::read(&path).expect_err("refused"));
        assert!(
            err.contains("older zadig-sync (plan format 2; this one reads 3)")
                && err.contains("re-run `zadig-sync plan --out`"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("out/plan.json"), "out/plan.json");
        assert_eq!(shell_word("my plan.json"), "'my plan.json'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
