//! The plan: what `apply` would do to make Zadig match the definitions, with
//! every guard applied. Pure: it takes what was loaded and what was read, and
//! returns plain data that the renderers show and `apply` executes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use globset::GlobSet;
use serde::{Deserialize, Serialize};

use super::canonical::to_yaml;
use super::catalog::Catalog;
use super::diff::{FieldChange, diff_values, unified_diff};
use super::live::{LiveBuild, LiveRead};
use super::model::{BuildDef, Config, Kind, ParamValue, ProjectConfig};
use super::normalize::{align_to_desired, normalize_desired, normalize_live};
use super::notice::{StrategyRef, UnmanagedReason, Warning};
use super::packed::PackedDef;
use super::preserve::preserving_body;
use super::reads::ReadPolicy;
use super::secrets::{EnvValues, adopt_live_values, mask_pair, resolve_env_in_place, wire_body};

/// What happens to one build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Create a build that does not exist.
    Create,
    /// Update a build in place (a full replace of its settings).
    Update,
    /// Delete a live build that has no definition (`prune: true`).
    Delete,
    /// A plain build becomes a template build or back, in place (§8 of
    /// build-api-ui-made.md): an update through the other kind's endpoint,
    /// never a delete.
    Replace,
}

impl Action {
    /// Terraform-like symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Replace => "~",
        }
    }

    /// Lower-case name, as in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
        }
    }

    /// Whether the action deletes a live build (a replace converts in place).
    pub fn deletes(self) -> bool {
        matches!(self, Action::Delete)
    }
}

/// Which request writes a build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WritePath {
    /// `PUT /api/aslan/build/build`, the UI's save: the stored model changed
    /// only where the definition says something; everything else is kept.
    Preserving,
    /// `POST` or `PUT /openapi/build`: a full replace from the definition.
    Openapi,
    /// `POST /openapi/build?source=template` or `PUT /openapi/build/:name/template`.
    Template,
}

/// A write request's JSON body, held as its compact text compressed: a plan
/// of many changes keeps one per change until `apply`, and a
/// `serde_json::Value` tree takes several times the memory of its text
/// (issue 13: the text alone was 11 MB at 5,000 changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteBody(super::packed::ZippedText);

impl WriteBody {
    /// The body of `value`.
    pub fn of(value: &serde_json::Value) -> Self {
        WriteBody(super::packed::ZippedText::new(&value.to_string()))
    }

    /// The body of any serialisable value (plain data with string keys,
    /// which cannot fail to serialise: `null` if it did).
    pub fn of_serialize<T: Serialize + ?Sized>(value: &T) -> Self {
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        WriteBody(super::packed::ZippedText::new(&text))
    }

    /// The compact JSON text.
    pub fn text(&self) -> String {
        self.0.text()
    }

    /// The body as a JSON value (it was made from one, so it parses).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0.text()).unwrap_or_default()
    }
}

/// The declared projects that Zadig's project list does not have. Empty
/// when the list was not read.
pub fn unknown_projects(config: &Config, catalog: &Catalog) -> Vec<String> {
    let Some(known) = &catalog.projects else {
        return Vec::new();
    };
    config
        .projects
        .iter()
        .filter(|p| !known.contains(&p.key))
        .map(|p| p.key.clone())
        .collect()
}

/// A guard that keeps a change from being applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "guard")]
pub enum Blocked {
    /// The name matches a `protect` glob.
    Protected,
    /// The update would erase settings the OpenAPI cannot express.
    Erase {
        /// What would be lost.
        settings: Vec<String>,
    },
    /// More deletes than `max_deletes`.
    MassDelete {
        /// Deletes planned.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A definition failed to load: no deletes at all.
    LoadErrors,
    /// A project's listing failed: no deletes at all.
    IncompleteListing,
    /// The live build is not a Zadig build (e.g. Jenkins): read-only.
    ReadOnly {
        /// Its `source`.
        source: String,
    },
    /// The name exists in another project (names are global in Zadig).
    NameTaken {
        /// The project that holds it.
        project: String,
    },
    /// `{keep: true}` on a build that does not exist: there is no value to keep.
    KeepOnCreate {
        /// The parameters.
        paths: Vec<String>,
    },
    /// `{keep: true}` on a credential the live build does not have under that
    /// key: Zadig would store "" (or the mask itself) (§6).
    KeepWithoutValue {
        /// The parameters.
        paths: Vec<String>,
    },
    /// The definition names a build template Zadig does not have.
    UnknownTemplate {
        /// The template name.
        template: String,
    },
}

impl Blocked {
    /// The guard's name, as `blocked` in the JSON output.
    pub fn guard(&self) -> &'static str {
        match self {
            Blocked::Protected => "protected",
            Blocked::Erase { .. } => "erase",
            Blocked::MassDelete { .. } => "mass_delete",
            Blocked::LoadErrors => "load_errors",
            Blocked::IncompleteListing => "incomplete_listing",
            Blocked::ReadOnly { .. } => "read_only",
            Blocked::NameTaken { .. } => "name_taken",
            Blocked::KeepOnCreate { .. } => "keep_on_create",
            Blocked::KeepWithoutValue { .. } => "keep_without_value",
            Blocked::UnknownTemplate { .. } => "unknown_template",
        }
    }
}

/// One planned change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// Kind of the desired build (or of the live one, for a delete).
    pub kind: Kind,
    /// What happens.
    pub action: Action,
    /// Changed fields (updates), values masked.
    pub fields: Vec<FieldChange>,
    /// The guard that blocks the change, if any.
    pub blocked: Option<Blocked>,
    /// The live `update_time` when the plan was made (absent for creates).
    pub live_update_time: Option<i64>,
    /// SHA-256 of the live build as read (credential values masked first):
    /// catches edits within the same second, which `update_time` cannot.
    pub live_fingerprint: Option<String>,
    /// UI-only settings an OpenAPI write would erase (allowed by
    /// `--allow-erase`). With the preserving write they are kept instead, and
    /// this is what its fallback would erase.
    pub erases: Vec<String>,
    /// UI-only settings the preserving write keeps from the live build.
    pub kept: Vec<String>,
    /// The request that writes it (absent for deletes).
    pub write_path: Option<WritePath>,
    /// With the preserving write: the OpenAPI fallback (the UI API refuses
    /// the write: 403, 404, 405) is allowed, because it erases nothing or
    /// `--allow-erase` was given.
    #[serde(skip)]
    pub fallback_allowed: bool,
    /// With the preserving write: the body (the stored model changed where
    /// the definition says), or why it could not be made. Unmasked: never
    /// serialised, never printed.
    #[serde(skip)]
    pub write_body: Option<Result<WriteBody, String>>,
    /// Why it is in the plan, when the plan has a base (`plan --base`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<super::cause::Cause>,
    /// Unified diff of the canonical YAML, live → desired, values masked.
    #[serde(default)]
    pub diff: String,
    /// The definition to write (unmasked, resolved), packed as the loaded
    /// one is (issue 13): not serialised, never printed.
    #[serde(skip)]
    pub desired: Option<PackedDef>,
    /// Where the definition is, `file:line`.
    #[serde(default)]
    pub origin: Option<String>,
}

/// A build identified by project and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BuildRef {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
}

/// A live build with no definition that will not be deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// Why it stays.
    pub reason: UnmanagedReason,
}

/// Paths of one build that this server does not show, so they could not be
/// compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotVerifiable {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// The paths.
    pub paths: Vec<String>,
}

/// Counts per action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Creates (not blocked).
    pub create: usize,
    /// Updates (not blocked).
    pub update: usize,
    /// Deletes (not blocked).
    pub delete: usize,
    /// Replaces (not blocked).
    pub replace: usize,
    /// Builds that already match.
    pub unchanged: usize,
    /// Live builds without a definition that stay.
    pub unmanaged: usize,
    /// Changes held back by a guard.
    pub blocked: usize,
}

/// A credential not compared because its `{from_env}` variable is unset
/// (distinct from [`NotVerifiable`]: the server may well show it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCompared {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// Path of the value, e.g. `parameters[TOKEN].default_value`.
    pub path: String,
    /// The unset variable.
    pub var: String,
}

/// Why a plan does not cover everything it should: its headline then never
/// says "No changes".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Gap {
    /// Some definition files failed to load (their builds were not planned).
    LoadErrors,
    /// A managed project's listing failed.
    ListingFailed {
        /// The project.
        project: String,
    },
    /// A managed project was not read.
    NotRead {
        /// The project.
        project: String,
    },
}

/// The whole plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Builds that change, in project then name order.
    pub changes: Vec<Change>,
    /// Builds that already match.
    pub unchanged: Vec<BuildRef>,
    /// Live builds without a definition that stay.
    pub unmanaged: Vec<Unmanaged>,
    /// What this server does not show, so could not be compared.
    pub not_verifiable: Vec<NotVerifiable>,
    /// Credentials not compared because their variable is unset.
    #[serde(default)]
    pub not_compared: Vec<NotCompared>,
    /// Anything else worth knowing.
    pub warnings: Vec<Warning>,
    /// Some managed project could not be read: the plan covers only part of
    /// the directory (and deletes nothing).
    pub incomplete: bool,
    /// Everything that makes this plan cover less than the directory (load
    /// errors, failed listings).
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// `--target` in effect: only these builds were planned.
    #[serde(default)]
    pub targets: Vec<String>,
}

impl Plan {
    /// Counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            unchanged: self.unchanged.len(),
            unmanaged: self.unmanaged.len(),
            ..Summary::default()
        };
        for c in &self.changes {
            if c.blocked.is_some() {
                s.blocked += 1;
                continue;
            }
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::Replace => s.replace += 1,
            }
        }
        s
    }

    /// Whether anything differs (blocked changes count: they are drift).
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Whether the plan misses part of what it should cover.
    pub fn is_partial(&self) -> bool {
        !self.gaps.is_empty() || self.incomplete
    }

    /// Changes that `apply` will carry out.
    pub fn actionable(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.blocked.is_none())
    }
}

/// A definition ready for planning. It is held as loaded, packed; its
/// `{from_env}` values are resolved each time it is unpacked ([`Self::def`]),
/// from the run's [`EnvValues`].
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredBuild {
    /// The definition as loaded, packed: a large plan holds every definition
    /// until its live build is read ([`PackedDef`]). Private, so that every
    /// reader goes through [`Self::def`] (resolved) or [`Self::loaded`].
    loaded: PackedDef,
    /// The run's `{from_env}` values, shared by every definition.
    env: Arc<EnvValues>,
    /// `file:line`, for messages.
    pub origin: String,
    /// Whether planning it needs the template look-ups
    /// ([`super::reads::def_uses_templates`]), known without unpacking it.
    pub uses_templates: bool,
    /// The parameters whose value is worth a second read of a masked
    /// credential ([`super::reads::compared_credentials`]), known without
    /// unpacking it.
    pub compared: super::reads::Compared,
}

impl DesiredBuild {
    /// A desired build of `def` as it is (packed without a dictionary, no
    /// `{from_env}` resolved).
    pub fn new(def: &BuildDef, origin: String) -> Self {
        let compared = super::reads::compared(def);
        let uses_templates = super::reads::def_uses_templates(def);
        DesiredBuild::with_facts(
            PackedDef::new(def),
            origin,
            Arc::default(),
            uses_templates,
            compared,
        )
    }

    /// A desired build loaded as `loaded`, resolved with `env`, with the read
    /// policy's facts taken from its resolved value
    /// ([`super::reads::def_uses_templates`], [`super::reads::compared`]).
    pub fn with_facts(
        loaded: PackedDef,
        origin: String,
        env: Arc<EnvValues>,
        uses_templates: bool,
        compared: super::reads::Compared,
    ) -> Self {
        DesiredBuild {
            loaded,
            env,
            origin,
            uses_templates,
            compared,
        }
    }

    /// The definition, `{from_env}` resolved where the variable is set.
    pub fn def(&self) -> BuildDef {
        let mut def = self.loaded.unpack();
        if !self.env.is_empty() {
            resolve_env_in_place(&mut def, &|var| self.env.get(var));
        }
        def
    }

    /// The definition as loaded (`{from_env}` not resolved): what a saved
    /// plan records.
    pub fn loaded(&self) -> BuildDef {
        self.loaded.unpack()
    }

    /// `def` packed as this definition is (with the fleet's dictionary).
    pub fn repack(&self, def: &BuildDef) -> PackedDef {
        self.loaded.repack(def)
    }

    /// Project key.
    pub fn project_key(&self) -> &str {
        self.loaded.project_key()
    }

    /// Build name.
    pub fn name(&self) -> &str {
        self.loaded.name()
    }

    /// Plain or template build.
    pub fn kind(&self) -> Kind {
        self.loaded.kind()
    }
}

/// The live side of one project.
#[derive(Clone, Debug)]
pub enum ProjectLive {
    /// Every build of the project (read fully where needed).
    Listed(Vec<LiveBuild>),
    /// The listing failed.
    Failed(String),
}

/// Everything read from Zadig.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// Managed projects.
    pub projects: BTreeMap<String, ProjectLive>,
    /// Build name → project, for builds not planned here that hold a name
    /// (names are global): in projects this directory does not manage or
    /// did not read this run, or hidden by an `ignore` glob.
    pub elsewhere: BTreeMap<String, String>,
    /// Look-ups.
    pub catalog: Catalog,
}

/// Flags that shape a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan updates that erase UI-only settings.
    pub allow_erase: bool,
    /// Plan more deletes than `max_deletes`.
    pub allow_mass_delete: bool,
    /// Only these projects (empty: all managed projects).
    pub projects: Vec<String>,
    /// Only these builds, `project/name` (empty: all).
    pub targets: Vec<String>,
    /// Some definition failed to load.
    pub load_errors: bool,
}

/// The fingerprint of a live build: SHA-256 of its canonical JSON with
/// credential values masked (so the hash reveals nothing about them).
pub fn fingerprint(live: &BuildDef) -> String {
    use sha2::{Digest, Sha256};
    let mut masked = live.clone();
    mask_pair(Some(&mut masked), None);
    let digest = Sha256::digest(masked.to_value().to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What planning one build produced: the parts of a [`Plan`] it adds to.
/// The per-build step of the streaming plan ([`Planner`]); [`plan`] is the
/// fold of it.
#[derive(Clone, Debug, Default)]
pub struct BuildOutcome {
    /// Its change, if any.
    pub changes: Vec<Change>,
    /// It already matches.
    pub unchanged: Vec<BuildRef>,
    /// It stays without a definition.
    pub unmanaged: Vec<Unmanaged>,
    /// What this server does not show of it.
    pub not_verifiable: Vec<NotVerifiable>,
    /// Its credentials not compared.
    pub not_compared: Vec<NotCompared>,
    /// Warnings about it.
    pub warnings: Vec<Warning>,
    /// Its name cannot be addressed, so it was not read: its project's
    /// deletes are blocked.
    pub unreadable: bool,
}

/// A build's outcome as the planner keeps it until the end: an unchanged
/// build without warnings (most of a large plan) takes no more than its tag.
#[derive(Debug)]
enum Kept {
    Unchanged,
    Other(Box<BuildOutcome>),
}

impl Kept {
    fn of(mut o: BuildOutcome) -> Self {
        let plain = o.changes.is_empty()
            && o.unchanged.len() == 1
            && o.unmanaged.is_empty()
            && o.not_verifiable.is_empty()
            && o.not_compared.is_empty()
            && o.warnings.is_empty()
            && !o.unreadable;
        if plain {
            Kept::Unchanged
        } else {
            // Held until the end of the run: a pushed `Vec` of these large
            // records reserves room for four (3.4 KB per changed build, 17 MB
            // at 50,000 builds), so keep only what is there.
            o.changes.shrink_to_fit();
            o.unchanged.shrink_to_fit();
            o.unmanaged.shrink_to_fit();
            o.not_verifiable.shrink_to_fit();
            o.not_compared.shrink_to_fit();
            o.warnings.shrink_to_fit();
            Kept::Other(Box::new(o))
        }
    }

    fn into_outcome(self, project: &str, name: &str) -> BuildOutcome {
        match self {
            Kept::Unchanged => BuildOutcome {
                unchanged: vec![BuildRef {
                    project: project.to_owned(),
                    name: name.to_owned(),
                }],
                ..BuildOutcome::default()
            },
            Kept::Other(o) => *o,
        }
    }
}

/// One listed build as the planner keeps it: what the plan uses of the
/// listing entry (name, source, update time; a whole entry took three times
/// as much: issue 13), and its outcome once its read was planned.
#[derive(Debug)]
struct Slot {
    name: Box<str>,
    source: Box<str>,
    update_time: i64,
    outcome: Option<Kept>,
}

impl Slot {
    /// The listing entry, as far as the plan uses it.
    fn brief(&self) -> crate::zadig::wire::BuildBrief {
        crate::zadig::wire::BuildBrief {
            name: self.name.to_string(),
            source: self.source.to_string(),
            update_time: self.update_time,
            ..Default::default()
        }
    }
}

#[derive(Debug)]
enum Listing {
    /// The builds in listing order, and their indices sorted by name.
    Listed(Vec<Slot>, Vec<u32>),
    Failed(String),
}

impl Listing {
    /// The slots named `name`, in listing order.
    fn named(slots: &[Slot], by_name: &[u32], name: &str) -> Vec<usize> {
        let start = by_name.partition_point(|&i| &*slots[i as usize].name < name);
        let mut out: Vec<usize> = by_name[start..]
            .iter()
            .take_while(|&&i| &*slots[i as usize].name == name)
            .map(|&i| i as usize)
            .collect();
        out.sort_unstable();
        out
    }
}

/// The streaming planner: each live build is planned as its read arrives
/// ([`Planner::read`]), and the read is then dropped; the planner keeps only
/// the listing entries and what the plan shows (the changes, with the stored
/// model of each changed build for the preserving write). [`Planner::finish`]
/// plans what needs no read (creates, builds only listed), applies the
/// project-wide guards and orders the output exactly as [`plan`] does.
pub struct Planner<'a> {
    config: &'a Config,
    desired: &'a [DesiredBuild],
    opts: &'a PlanOptions,
    policy: ReadPolicy<'a>,
    /// Per desired build: its outcome, once its live build's read was planned.
    desired_done: Vec<Option<Kept>>,
    /// The projects this plan covers, by key: looked up once per read, so
    /// not a scan of the config (hundreds of projects in a large fleet).
    planned: HashMap<&'a str, &'a ProjectConfig>,
    projects: BTreeMap<String, Listing>,
}

impl<'a> Planner<'a> {
    /// A planner for these definitions.
    pub fn new(config: &'a Config, desired: &'a [DesiredBuild], opts: &'a PlanOptions) -> Self {
        let mut planned = HashMap::new();
        for p in config
            .projects
            .iter()
            .filter(|p| opts.projects.is_empty() || opts.projects.contains(&p.key))
        {
            // The first entry of a key, as a scan finds it.
            planned.entry(p.key.as_str()).or_insert(p);
        }
        Planner {
            planned,
            config,
            desired,
            opts,
            policy: ReadPolicy::new(config, desired, &opts.targets, false),
            desired_done: desired.iter().map(|_| None).collect(),
            projects: BTreeMap::new(),
        }
    }

    /// A project's listing (the builds an `ignore` glob hides left out).
    pub fn listed<'b>(
        &mut self,
        project: &str,
        briefs: impl IntoIterator<Item = &'b crate::zadig::wire::BuildBrief>,
    ) {
        let slots: Vec<Slot> = briefs
            .into_iter()
            .map(|b| Slot {
                name: b.name.as_str().into(),
                source: b.source.as_str().into(),
                update_time: b.update_time,
                outcome: None,
            })
            .collect();
        let mut by_name: Vec<u32> = (0..slots.len() as u32).collect();
        by_name.sort_by(|&a, &b| slots[a as usize].name.cmp(&slots[b as usize].name));
        self.projects
            .insert(project.to_owned(), Listing::Listed(slots, by_name));
    }

    /// A project whose listing failed.
    pub fn listing_failed(&mut self, project: &str, error: String) {
        self.projects
            .insert(project.to_owned(), Listing::Failed(error));
    }

    /// Whether a definition of this build needs the template look-ups: then
    /// its read waits for the complete catalog.
    pub fn needs_templates(&self, project: &str, name: &str) -> bool {
        self.policy
            .definitions()
            .ids(project, name)
            .any(|i| self.desired[i].uses_templates)
    }

    /// The project config of a project this plan covers.
    fn planned(&self, project: &str) -> Option<&'a ProjectConfig> {
        self.planned.get(project).copied()
    }

    /// Plans a live build that was read (every listed build of that name),
    /// against `catalog`. The read can be dropped afterwards.
    pub fn read(&mut self, live: &LiveBuild, catalog: &Catalog) {
        let slots = match self.projects.get(&live.project) {
            Some(Listing::Listed(slots, by_name)) => Listing::named(slots, by_name, live.name()),
            _ => return,
        };
        for i in slots {
            self.read_at(&live.project, i, live, catalog);
        }
    }

    /// Plans the live build in slot `index` of its project's listing.
    fn read_at(&mut self, project: &str, index: usize, live: &LiveBuild, catalog: &Catalog) {
        let Some(pc) = self.planned(project) else {
            return;
        };
        let Some(Listing::Listed(slots, by_name)) = self.projects.get(&pc.key) else {
            return;
        };
        let name = &*slots[index].name;
        if self.policy.ignored(&pc.key, name) || !self.policy.wanted(&pc.key, name) {
            return;
        }
        // A build that exists is never a create: the name checks are moot.
        let (no_names, nowhere) = (BTreeMap::new(), BTreeMap::new());
        // Borrowed from the policy while the outcomes are stored (no list
        // of the indices per read).
        let mut ids = self.policy.definitions().ids(&pc.key, name).peekable();
        if ids.peek().is_some() {
            // A definition is compared with the first live build of its name.
            if Listing::named(slots, by_name, name).first() != Some(&index) {
                return;
            }
            for i in ids {
                let mut out = BuildOutcome::default();
                let protect = self.policy.protect_set(&pc.key);
                plan_one(
                    &mut out,
                    &self.desired[i],
                    Some(live),
                    pc,
                    protect,
                    &no_names,
                    &nowhere,
                    catalog,
                    self.opts,
                );
                self.desired_done[i] = Some(Kept::of(out));
            }
        } else {
            // The look-up borrows the listing's name: released before the
            // outcome is stored in the listing.
            drop(ids);
            let mut out = BuildOutcome::default();
            plan_live_only(
                &mut out,
                live,
                pc,
                self.policy.protect_set(&pc.key),
                catalog,
            );
            if let Some(Listing::Listed(slots, _)) = self.projects.get_mut(&pc.key) {
                slots[index].outcome = Some(Kept::of(out));
            }
        }
    }

    /// How many builds the planner holds more than a tag for: changes, and
    /// builds with warnings or unverifiable paths. With few changes this
    /// stays small however large the fleet (no live model is kept).
    pub fn retained(&self) -> usize {
        let kept = |k: &Option<Kept>| matches!(k, Some(Kept::Other(_)));
        self.desired_done.iter().filter(|k| kept(k)).count()
            + self
                .projects
                .values()
                .map(|l| match l {
                    Listing::Listed(slots, _) => slots.iter().filter(|s| kept(&s.outcome)).count(),
                    Listing::Failed(_) => 0,
                })
                .sum::<usize>()
    }

    /// The plan: what needs no read (creates, builds only listed), the
    /// project-wide guards, and the output in its order. `elsewhere`: build
    /// name → project, for names taken outside the builds planned here.
    pub fn finish(mut self, elsewhere: &BTreeMap<String, String>, catalog: &Catalog) -> Plan {
        let config = self.config;
        let desired = self.desired;
        let opts = self.opts;
        let mut plan = Plan::default();
        let projects: Vec<&ProjectConfig> = config
            .projects
            .iter()
            .filter(|p| opts.projects.is_empty() || opts.projects.contains(&p.key))
            .collect();
        // Every live name in the managed projects, for the global-name check.
        let mut live_names: BTreeMap<&str, &str> = BTreeMap::new();
        let mut listings = std::mem::take(&mut self.projects);
        // The outcomes planned as the reads arrived, taken out of the slots.
        let mut slot_outcomes: BTreeMap<String, Vec<Option<Kept>>> = listings
            .iter_mut()
            .filter_map(|(p, l)| match l {
                Listing::Listed(slots, _) => Some((
                    p.clone(),
                    slots.iter_mut().map(|s| s.outcome.take()).collect(),
                )),
                Listing::Failed(_) => None,
            })
            .collect();
        let listings = listings;
        for (project, state) in &listings {
            if let Listing::Listed(builds, _) = state {
                for b in builds {
                    live_names.insert(&b.name, project);
                }
            }
        }
        let mut outcomes: Vec<BuildOutcome> = Vec::new();
        let mut incomplete = false;
        // The definitions of each project, in file order: a scan of every
        // definition per project made this quadratic in the fleet (issue 13:
        // 500 projects × 50,000 definitions).
        let mut by_project: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, d) in desired.iter().enumerate() {
            by_project.entry(d.project_key()).or_default().push(i);
        }

        for pc in projects {
            let protect = self.policy.protect_set(&pc.key);
            let builds = match listings.get(&pc.key) {
                Some(Listing::Listed(b, _)) => b,
                Some(Listing::Failed(err)) => {
                    incomplete = true;
                    plan.gaps.push(Gap::ListingFailed {
                        project: pc.key.clone(),
                    });
                    plan.warnings.push(Warning::ListingFailed {
                        project: pc.key.clone(),
                        error: err.clone(),
                    });
                    continue;
                }
                None => {
                    incomplete = true;
                    plan.gaps.push(Gap::NotRead {
                        project: pc.key.clone(),
                    });
                    plan.warnings.push(Warning::ProjectNotRead {
                        project: pc.key.clone(),
                    });
                    continue;
                }
            };
            let not_read = |s: &Slot| LiveBuild {
                project: pc.key.clone(),
                brief: s.brief(),
                read: LiveRead::NotRead,
            };
            let mut defined = BTreeSet::new();
            let mine = by_project
                .get(pc.key.as_str())
                .map_or(&[][..], Vec::as_slice);
            for (i, d) in mine.iter().map(|&i| (i, &desired[i])) {
                let name = d.name();
                if self.policy.ignored(&pc.key, name) {
                    plan.warnings.push(Warning::DefinitionIgnored {
                        file: d.origin.to_owned(),
                        project: pc.key.clone(),
                        name: name.to_owned(),
                    });
                    continue;
                }
                defined.insert(name.to_owned());
                if !self.policy.wanted(&pc.key, name) {
                    continue;
                }
                let out = match self.desired_done[i].take() {
                    Some(kept) => kept.into_outcome(&pc.key, name),
                    None => {
                        let current = builds.iter().find(|b| &*b.name == name).map(not_read);
                        let mut out = BuildOutcome::default();
                        plan_one(
                            &mut out,
                            d,
                            current.as_ref(),
                            pc,
                            protect,
                            &live_names,
                            elsewhere,
                            catalog,
                            opts,
                        );
                        out
                    }
                };
                merge(&mut plan, out);
            }
            let mut unreadable = false;
            let taken = slot_outcomes.get_mut(&pc.key);
            let mut taken = taken.map(|v| v.iter_mut());
            for b in builds.iter() {
                let kept = taken.as_mut().and_then(|t| t.next()).and_then(Option::take);
                let name = &*b.name;
                if defined.contains(name)
                    || self.policy.ignored(&pc.key, name)
                    || !self.policy.wanted(&pc.key, name)
                {
                    continue;
                }
                let out = match kept {
                    Some(kept) => kept.into_outcome(&pc.key, name),
                    None => {
                        let mut out = BuildOutcome::default();
                        plan_live_only(&mut out, &not_read(b), pc, protect, catalog);
                        out
                    }
                };
                unreadable |= out.unreadable;
                outcomes.push(out);
            }
            for out in outcomes.drain(..) {
                merge(&mut plan, out);
            }
            if unreadable {
                for c in plan.changes.iter_mut().filter(|c| c.project == pc.key) {
                    if c.action.deletes() && c.blocked.is_none() {
                        c.blocked = Some(Blocked::IncompleteListing);
                    }
                }
            }
        }

        // Delete guards, strongest first.
        let delete_guard = if opts.load_errors {
            Some(Blocked::LoadErrors)
        } else if incomplete {
            Some(Blocked::IncompleteListing)
        } else {
            let count = plan
                .changes
                .iter()
                .filter(|c| c.action.deletes() && c.blocked.is_none())
                .count();
            (count > config.max_deletes && !opts.allow_mass_delete).then_some(Blocked::MassDelete {
                count,
                max: config.max_deletes,
            })
        };
        if let Some(guard) = delete_guard {
            for c in &mut plan.changes {
                if c.action.deletes() && c.blocked.is_none() {
                    c.blocked = Some(guard.clone());
                }
            }
        }

        plan.incomplete = incomplete;
        if opts.load_errors {
            plan.gaps.insert(0, Gap::LoadErrors);
        }
        plan.targets = opts.targets.clone();
        // A target that names nothing is most likely a typo: say so.
        for t in &opts.targets {
            let known = desired
                .iter()
                .any(|d| format!("{}/{}", d.project_key(), d.name()) == *t)
                || listings.iter().any(|(p, state)| {
                    matches!(state, Listing::Listed(bs, _) if bs.iter().any(|b| format!("{p}/{}", b.name) == *t))
                });
            if !known {
                plan.warnings
                    .push(Warning::TargetUnknown { target: t.clone() });
            }
        }
        plan.changes
            .sort_by(|a, b| (&a.project, &a.name).cmp(&(&b.project, &b.name)));
        plan.unchanged.sort();
        plan.unmanaged
            .sort_by(|a, b| (&a.project, &a.name).cmp(&(&b.project, &b.name)));
        plan.not_verifiable
            .sort_by(|a, b| (&a.project, &a.name).cmp(&(&b.project, &b.name)));
        plan.not_compared
            .sort_by(|a, b| (&a.project, &a.name, &a.path).cmp(&(&b.project, &b.name, &b.path)));
        plan
    }
}

/// Adds one build's outcome to the plan.
fn merge(plan: &mut Plan, out: BuildOutcome) {
    plan.changes.extend(out.changes);
    plan.unchanged.extend(out.unchanged);
    plan.unmanaged.extend(out.unmanaged);
    plan.not_verifiable.extend(out.not_verifiable);
    plan.not_compared.extend(out.not_compared);
    plan.warnings.extend(out.warnings);
}

/// Computes the plan: the fold of the per-build step ([`Planner::read`]) over
/// everything read, then [`Planner::finish`]. The shell streams the same
/// steps as the reads arrive.
pub fn plan(
    config: &Config,
    desired: &[DesiredBuild],
    live: &LiveState,
    opts: &PlanOptions,
) -> Plan {
    let mut planner = Planner::new(config, desired, opts);
    for (project, state) in &live.projects {
        match state {
            ProjectLive::Listed(builds) => {
                planner.listed(project, builds.iter().map(|b| &b.brief));
                for (i, b) in builds.iter().enumerate() {
                    planner.read_at(project, i, b, &live.catalog);
                }
            }
            ProjectLive::Failed(err) => planner.listing_failed(project, err.clone()),
        }
    }
    planner.finish(&live.elsewhere, &live.catalog)
}

/// A live build without a definition (of a project this plan covers, not
/// ignored, targeted): left alone, or deleted when the project prunes.
fn plan_live_only(
    plan: &mut BuildOutcome,
    b: &LiveBuild,
    pc: &ProjectConfig,
    protect: &GlobSet,
    catalog: &Catalog,
) {
    let name = b.name();
    if super::validate::unaddressable_name(name).is_some() {
        // Never read, never deleted: the project's deletes wait until it
        // is renamed (a delete decided without reading it is a guess).
        plan.unreadable = true;
        plan.warnings.push(Warning::NameUnaddressable {
            project: pc.key.clone(),
            name: name.to_owned(),
        });
        return;
    }
    if b.is_read_only() {
        plan.unmanaged.push(Unmanaged {
            project: pc.key.clone(),
            name: name.to_owned(),
            reason: UnmanagedReason::ReadOnly {
                source: b.brief.source.clone(),
            },
        });
    } else if pc.prune {
        let normalized = normalize_live(b, catalog);
        let diff = normalized
            .def
            .as_ref()
            .map(|l| {
                let mut l = l.clone();
                mask_pair(Some(&mut l), None);
                unified_diff(&to_yaml(&l), "", 3)
            })
            .unwrap_or_default();
        plan.changes.push(Change {
            project: pc.key.clone(),
            name: name.to_owned(),
            kind: normalized.def.as_ref().map_or(Kind::Build, BuildDef::kind),
            action: Action::Delete,
            fields: Vec::new(),
            blocked: protect.is_match(name).then_some(Blocked::Protected),
            live_update_time: Some(b.brief.update_time),
            live_fingerprint: normalized.def.as_ref().map(fingerprint),
            erases: Vec::new(),
            kept: Vec::new(),
            write_path: None,
            fallback_allowed: false,
            write_body: None,
            cause: None,
            diff,
            desired: None,
            origin: None,
        });
    } else {
        plan.unmanaged.push(Unmanaged {
            project: pc.key.clone(),
            name: name.to_owned(),
            reason: UnmanagedReason::NoDefinition,
        });
    }
}

/// Records that `path` of `def` (an unset `{from_env}`) was not compared.
fn push_not_compared(plan: &mut BuildOutcome, project: &str, def: &BuildDef, path: &str) {
    let var = def
        .credentials()
        .into_iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, v)| match v {
            super::model::ParamValue::FromEnv(var) => Some(var.clone()),
            _ => None,
        })
        .unwrap_or_default();
    plan.not_compared.push(NotCompared {
        project: project.to_owned(),
        name: def.name().to_owned(),
        path: path.to_owned(),
        var,
    });
}

/// Plans one desired build: a create, a replace across kinds, an update, or
/// unchanged, against the live build of that name (if any).
#[allow(clippy::too_many_arguments)]
fn plan_one(
    plan: &mut BuildOutcome,
    d: &DesiredBuild,
    current: Option<&LiveBuild>,
    pc: &ProjectConfig,
    protect: &GlobSet,
    live_names: &BTreeMap<&str, &str>,
    elsewhere: &BTreeMap<String, String>,
    catalog: &Catalog,
    opts: &PlanOptions,
) {
    // Unpacked once, here: every step below reads the typed definition.
    let unpacked = Def {
        def: d.def(),
        desired: d,
    };
    let d = &unpacked;
    let name = d.def.name();
    let desired = normalize_desired(&d.def, catalog);
    let one = One {
        d,
        pc,
        catalog,
        desired_kind: desired.kind(),
    };
    if let Some(w) = strategy_warning(d, catalog) {
        plan.warnings.push(w);
    }
    let unknown_template = unknown_template(&desired, catalog);

    let Some(current) = current else {
        plan_create(
            plan,
            &one,
            &desired,
            unknown_template,
            live_names,
            elsewhere,
        );
        return;
    };

    let update_time = Some(current.brief.update_time);
    let protected = protect.is_match(name);
    if current.is_read_only() {
        plan.changes.push(Change {
            action: Action::Update,
            blocked: Some(Blocked::ReadOnly {
                source: current.brief.source.clone(),
            }),
            live_update_time: update_time,
            ..one.base()
        });
        return;
    }
    let normalized = normalize_live(current, catalog);
    for p in &normalized.problems {
        plan.warnings.push(Warning::LiveProblem {
            project: pc.key.clone(),
            name: name.to_owned(),
            problem: p.clone(),
        });
    }
    let Some(live_def) = normalized.def else {
        return;
    };
    // The fingerprint (a SHA-256 of the canonical JSON) is kept only on
    // changes: it is computed below, once a change is certain, not for every
    // unchanged build (most of a large plan).
    let guards = Guards {
        protected,
        unknown_template,
        keep_missing: keep_without_value(&d.def, &live_def),
        fallback_erases: fallback_erases(&normalized.erases, &desired, &live_def),
        allow_erase: opts.allow_erase,
    };
    if live_def.kind() != desired.kind() {
        plan_replace(plan, &one, &desired, &live_def, guards, update_time);
        return;
    }
    plan_update(
        plan,
        &one,
        current,
        desired,
        &live_def,
        &normalized.not_verifiable,
        guards,
        update_time,
    );
}

/// A desired build, unpacked for planning.
struct Def<'a> {
    def: BuildDef,
    /// Where it came from: its `file:line`, and the codec that packs the
    /// definition a change holds.
    desired: &'a DesiredBuild,
}

impl Def<'_> {
    /// `file:line`.
    fn origin(&self) -> &str {
        &self.desired.origin
    }
}

/// What every step of planning one desired build reads.
struct One<'a> {
    d: &'a Def<'a>,
    pc: &'a ProjectConfig,
    catalog: &'a Catalog,
    desired_kind: Kind,
}

impl One<'_> {
    /// The change as it starts, made only for a build that has one: an
    /// unchanged build (most of a large plan) never copies its definition.
    fn base(&self) -> Change {
        Change {
            project: self.pc.key.clone(),
            name: self.d.def.name().to_owned(),
            kind: self.desired_kind,
            action: Action::Create,
            fields: Vec::new(),
            blocked: None,
            live_update_time: None,
            live_fingerprint: None,
            erases: Vec::new(),
            kept: Vec::new(),
            write_path: Some(match self.desired_kind {
                Kind::Build => WritePath::Openapi,
                Kind::TemplateBuild => WritePath::Template,
            }),
            fallback_allowed: false,
            write_body: template_body(&self.d.def, self.catalog),
            cause: None,
            diff: String::new(),
            desired: Some(self.d.desired.repack(&self.d.def)),
            origin: Some(self.d.origin().to_owned()),
        }
    }
}

/// The guards a change to an existing live build is checked against.
struct Guards {
    protected: bool,
    unknown_template: Option<Blocked>,
    keep_missing: Vec<String>,
    fallback_erases: Vec<String>,
    allow_erase: bool,
}

impl Guards {
    /// Decides the first guard that blocks the change, if any; `erase_matters`
    /// is false when the write keeps the settings the fallback would erase.
    fn blocked(&self, erase_matters: bool) -> Option<Blocked> {
        if self.protected {
            Some(Blocked::Protected)
        } else if self.unknown_template.is_some() {
            self.unknown_template.clone()
        } else if !self.keep_missing.is_empty() {
            Some(Blocked::KeepWithoutValue {
                paths: self.keep_missing.clone(),
            })
        } else if erase_matters && !self.fallback_erases.is_empty() && !self.allow_erase {
            Some(Blocked::Erase {
                settings: self.fallback_erases.clone(),
            })
        } else {
            None
        }
    }
}

/// Decides the create of a build that is not live: its guards, warnings and
/// the credentials it cannot compare.
fn plan_create(
    plan: &mut BuildOutcome,
    one: &One<'_>,
    desired: &BuildDef,
    unknown_template: Option<Blocked>,
    live_names: &BTreeMap<&str, &str>,
    elsewhere: &BTreeMap<String, String>,
) {
    let (d, pc) = (one.d, one.pc);
    let name = d.def.name();
    for (path, v) in d.def.credentials() {
        if matches!(v, super::model::ParamValue::FromEnv(_)) {
            push_not_compared(plan, &pc.key, &d.def, &path);
        }
    }
    // A new build is shown as written, without the defaults Zadig adds.
    let mut shown = d.def.clone();
    mask_pair(None, Some(&mut shown));
    let other = live_names
        .get(name)
        .map(|p| (*p).to_owned())
        .filter(|p| *p != pc.key)
        .or_else(|| elsewhere.get(name).cloned());
    let keep_paths: Vec<String> = d
        .def
        .credentials()
        .into_iter()
        .filter(|(_, v)| matches!(v, super::model::ParamValue::Keep))
        .map(|(p, _)| p)
        .collect();
    let blocked = match other {
        Some(project) => Some(Blocked::NameTaken { project }),
        None if unknown_template.is_some() => unknown_template,
        None if !keep_paths.is_empty() => Some(Blocked::KeepOnCreate { paths: keep_paths }),
        None => None,
    };
    if let BuildDef::Build(b) = desired
        && b.advanced_settings.as_ref().is_some_and(|a| {
            a.cache_setting.dir_type == Some(super::model::CacheDirType::Workspace)
        })
    {
        plan.warnings.push(Warning::WorkspaceCacheOnCreate {
            file: d.origin().to_owned(),
            project: pc.key.clone(),
            name: name.to_owned(),
        });
    }
    plan.changes.push(Change {
        diff: unified_diff("", &to_yaml(&shown), 3),
        blocked,
        ..one.base()
    });
}

/// Decides the in-place replace of a live build of the other kind (§8): the
/// template PUT turns a plain build into a template build, the OpenAPI PUT
/// turns a template build into a plain one.
fn plan_replace(
    plan: &mut BuildOutcome,
    one: &One<'_>,
    desired: &BuildDef,
    live_def: &BuildDef,
    mut guards: Guards,
    update_time: Option<i64>,
) {
    let live_fingerprint = Some(fingerprint(live_def));
    let mut before = live_def.clone();
    let mut after = desired.clone();
    mask_pair(Some(&mut before), Some(&mut after));
    // Only template → plain goes through the OpenAPI PUT; the template
    // PUT keeps every other stored field.
    if desired.kind() != Kind::Build {
        guards.fallback_erases = Vec::new();
    }
    let blocked = guards.blocked(true);
    plan.changes.push(Change {
        action: Action::Replace,
        blocked,
        live_update_time: update_time,
        live_fingerprint,
        erases: guards.fallback_erases,
        diff: unified_diff(&to_yaml(&before), &to_yaml(&after), 3),
        ..one.base()
    });
}

/// Decides the paths of a same-kind update that cannot be compared: masked
/// credentials the definition compares, template variables without
/// `Template.View`, and a default strategy the run cannot name.
fn not_verifiable_paths(
    d: &Def<'_>,
    after: &BuildDef,
    live_not_verifiable: &[String],
    catalog: &Catalog,
) -> Vec<String> {
    // A masked credential whose desired value is not compared anyway (kept,
    // or a parameter the definition drops) is not worth a "not verifiable".
    let compared: BTreeSet<String> = super::reads::compared_credentials(&d.def)
        .iter()
        .map(|k| format!("parameters[{k}].default_value"))
        .collect();
    let mut not_verifiable: Vec<String> = live_not_verifiable
        .iter()
        .filter(|p| {
            !(p.starts_with("parameters[") && p.ends_with("].default_value"))
                || compared.contains(*p)
        })
        .cloned()
        .collect();
    // Without the template's current variables (no `Template.View`), the
    // variables a file does not list cannot be compared (§4).
    if let BuildDef::Template(t) = after
        && catalog.template_vars_by_name(&t.template_name).is_none()
    {
        for ts in &t.target_services {
            not_verifiable.push(format!(
                "target_services[{}/{}].inputs (the variables the file does not list)",
                ts.service_name, ts.service_module
            ));
        }
    }
    // "" runs with the cluster's default strategy; without the cluster's
    // strategies (OpenAPI-only mode, a deleted cluster) that name is unknown.
    if let BuildDef::Build(b) = after
        && let Some(adv) = &b.advanced_settings
        && adv.strategy_name.is_empty()
        && catalog.effective_strategy(&adv.cluster_name, "").is_none()
    {
        not_verifiable.push("advanced_settings.strategy_name".to_owned());
    }
    not_verifiable
}

/// Warns of each input a template build's file lists that Zadig dropped.
fn warn_inputs_not_in_template(
    plan: &mut BuildOutcome,
    pc: &ProjectConfig,
    live_def: &BuildDef,
    after: &BuildDef,
) {
    // Zadig keeps only the inputs its template defines (MergeBuildEnvs): an
    // input missing from a target that exists was dropped, and would show as
    // a change on every plan. Say why.
    if let (BuildDef::Template(l), BuildDef::Template(d)) = (live_def, after) {
        for dt in &d.target_services {
            let Some(lt) = l.target_services.iter().find(|lt| {
                lt.service_name == dt.service_name && lt.service_module == dt.service_module
            }) else {
                continue;
            };
            for i in dt
                .inputs
                .iter()
                .filter(|i| !lt.inputs.iter().any(|li| li.key == i.key))
            {
                plan.warnings.push(Warning::InputNotInTemplate {
                    project: pc.key.clone(),
                    name: d.name.clone(),
                    input: i.key.clone(),
                    service: dt.service_name.clone(),
                    module: dt.service_module.clone(),
                    template: d.template_name.clone(),
                });
            }
        }
    }
}

/// Decides whether a plain build read through the stored model is written
/// like the UI writes it (§9): `None` for the OpenAPI path, `Some(None)`
/// while a credential is unresolved, `Some(Some(body))` for the preserving
/// write.
fn preserving_write(
    plan: &mut BuildOutcome,
    one: &One<'_>,
    current: &LiveBuild,
) -> Option<Option<Result<WriteBody, String>>> {
    match (&one.d.def, &current.read) {
        (BuildDef::Build(b), LiveRead::Stored { model, raw, .. }) => {
            // The text parsed as the stored model already, so it parses as
            // a value; the re-serialised model is only a fallback.
            let stored = raw
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_else(|| serde_json::to_value(model.as_ref()).unwrap_or_default());
            match wire_body(&BuildDef::Build(b.clone())) {
                Some(BuildDef::Build(wire)) => match preserving_body(&stored, &wire, one.catalog) {
                    Ok(body) => Some(Some(Ok(WriteBody::of(&body)))),
                    // A name this run could not turn into an id (a look-up
                    // that failed, a typo): the OpenAPI path, guarded, and
                    // Zadig's own answer if it is a typo.
                    Err(e) => {
                        plan.warnings.push(Warning::PreservingWriteUnavailable {
                            project: one.pc.key.clone(),
                            name: one.d.def.name().to_owned(),
                            cause: e,
                        });
                        None
                    }
                },
                // An unresolved `from_env`: apply refuses before any write.
                _ => Some(None),
            }
        }
        _ => None,
    }
}

/// Decides a same-kind update: unchanged, or the fields that change, how
/// they are written and what guards the write.
#[allow(clippy::too_many_arguments)] // the steps of plan_one, each passed once
fn plan_update(
    plan: &mut BuildOutcome,
    one: &One<'_>,
    current: &LiveBuild,
    desired: BuildDef,
    live_def: &BuildDef,
    live_not_verifiable: &[String],
    guards: Guards,
    update_time: Option<i64>,
) {
    let (d, pc, catalog) = (one.d, one.pc, one.catalog);
    let name = d.def.name();
    let mut after = desired;
    // An unset `{from_env}` is not compared; that is not the server's doing.
    for path in adopt_live_values(&mut after, live_def) {
        push_not_compared(plan, &pc.key, &d.def, &path);
    }
    let mut not_verifiable = not_verifiable_paths(d, &after, live_not_verifiable, catalog);
    let mut before = align_to_desired(live_def, &after, &not_verifiable);
    warn_inputs_not_in_template(plan, pc, live_def, &after);
    if !not_verifiable.is_empty() {
        not_verifiable.sort();
        not_verifiable.dedup();
        plan.not_verifiable.push(NotVerifiable {
            project: pc.key.clone(),
            name: name.to_owned(),
            paths: not_verifiable,
        });
    }
    // Equal builds (most of a large plan) have no field changes: skip masking
    // them, turning both into JSON values and walking them. Masking equal
    // builds masks both alike and equal values always diff empty, so this
    // changes nothing but the time.
    let fields = if before == after {
        Vec::new()
    } else {
        mask_pair(Some(&mut before), Some(&mut after));
        diff_values(&before.to_value(), &after.to_value())
    };
    if fields.is_empty() {
        plan.unchanged.push(BuildRef {
            project: pc.key.clone(),
            name: name.to_owned(),
        });
        return;
    }
    let live_fingerprint = Some(fingerprint(live_def));
    let preserving = preserving_write(plan, one, current);
    let blocked = guards.blocked(preserving.is_none());
    let fallback_erases = guards.fallback_erases;
    let base = one.base();
    let (write_path, kept, write_body) = match preserving {
        Some(body) => (Some(WritePath::Preserving), fallback_erases.clone(), body),
        None => (base.write_path, Vec::new(), base.write_body.clone()),
    };
    plan.changes.push(Change {
        action: Action::Update,
        fields,
        blocked,
        live_update_time: update_time,
        live_fingerprint,
        fallback_allowed: fallback_erases.is_empty() || guards.allow_erase,
        erases: fallback_erases,
        kept,
        write_path,
        write_body,
        diff: unified_diff(&to_yaml(&before), &to_yaml(&after), 3),
        ..base
    });
}

/// The body of a template build's write: every variable per target, as
/// compared, the definition's inputs over the template's current values (§4).
/// `None` for a plain build, or while a credential is unresolved.
fn template_body(def: &BuildDef, catalog: &Catalog) -> Option<Result<WriteBody, String>> {
    if def.kind() != Kind::TemplateBuild {
        return None;
    }
    match wire_body(def) {
        Some(BuildDef::Template(mut t)) => {
            if let Some(vars) = catalog.template_vars_by_name(&t.template_name) {
                for ts in &mut t.target_services {
                    ts.inputs = super::normalize::merged_inputs(vars, &ts.inputs);
                }
            }
            Some(Ok(WriteBody::of_serialize(&t)))
        }
        _ => None,
    }
}

/// `{keep: true}` values whose key the live build has no credential under.
fn keep_without_value(def: &BuildDef, live: &BuildDef) -> Vec<String> {
    def.credentials()
        .into_iter()
        .filter(|(_, v)| matches!(v, ParamValue::Keep))
        .filter(|(path, _)| {
            let BuildDef::Build(l) = live else {
                return true;
            };
            !l.parameters
                .iter()
                .any(|p| p.is_credential && format!("parameters[{}].default_value", p.key) == *path)
        })
        .map(|(p, _)| p)
        .collect()
}

/// What an OpenAPI write would erase: the live build's UI-only settings,
/// and a workspace cache the definition asks for (the OpenAPI stores a
/// user-defined directory).
fn fallback_erases(live_erases: &[String], desired: &BuildDef, live: &BuildDef) -> Vec<String> {
    let mut out = live_erases.to_vec();
    let workspace = |d: &BuildDef| match d {
        BuildDef::Build(b) => b.advanced_settings.as_ref().is_some_and(|a| {
            a.cache_setting.enabled
                && a.cache_setting.dir_type == Some(super::model::CacheDirType::Workspace)
        }),
        BuildDef::Template(_) => false,
    };
    if workspace(desired) && !workspace(live) {
        out.push("the workspace cache the file asks for (the OpenAPI can only store a user-defined cache directory)".to_owned());
    }
    out
}

/// A template that Zadig does not have (only known once the template list
/// was read: an empty list is taken as not read).
fn unknown_template(desired: &BuildDef, catalog: &Catalog) -> Option<Blocked> {
    let BuildDef::Template(t) = desired else {
        return None;
    };
    (!catalog.build_templates.is_empty() && catalog.build_template_id(&t.template_name).is_none())
        .then(|| Blocked::UnknownTemplate {
            template: t.template_name.clone(),
        })
}

/// A `strategy_name` the target cluster does not have: the OpenAPI stores
/// "" for it, which runs with the cluster's default, without a word (§3).
fn strategy_warning(d: &Def<'_>, catalog: &Catalog) -> Option<Warning> {
    let BuildDef::Build(b) = &d.def else {
        return None;
    };
    let adv = b.advanced_settings.as_ref()?;
    if adv.strategy_name.is_empty() {
        return None;
    }
    let cluster = catalog.cluster_by_name(&adv.cluster_name)?;
    let strategies = cluster.strategies.as_ref()?;
    if strategies.iter().any(|s| s.name == adv.strategy_name) {
        return None;
    }
    Some(Warning::StrategyUnknown {
        file: d.origin().to_owned(),
        project: b.project_key.clone(),
        name: b.name.clone(),
        cluster: cluster.name.clone(),
        strategy: adv.strategy_name.clone(),
        strategies: strategies
            .iter()
            .map(|s| StrategyRef {
                name: s.name.clone(),
                default: s.default,
            })
            .collect(),
    })
}

#[cfg(test)]
pub(crate) mod tests;
