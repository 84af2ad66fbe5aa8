//! The read policy (issue 15, item 5): from a project's listing, the
//! configuration, the definitions and the targets, which live builds a run
//! reads, which it only lists, and which it does not see at all. Pure: the
//! shell (`cli::live`) executes the decision, and the planner asks the same
//! questions of the same rules, so a read that a plan needs cannot be skipped
//! by one side while the other reports "unchanged".

use std::collections::{BTreeSet, HashMap, HashSet};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::live::{LiveBuild, LiveRead};
use super::model::{BuildDef, Config, DockerfileSource, ParamValue};
use super::plan::DesiredBuild;
use super::validate::unaddressable_name;
use crate::zadig::wire::BuildBrief;

/// Compiles globs. Invalid globs are reported by validation; here they match
/// nothing.
pub(crate) fn globs(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = Glob::new(p) {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

/// The definitions by project and name: their indices sorted by project,
/// name and file order, four bytes per definition (a hash map of them took
/// sixty to a hundred: issue 13, 50,000 definitions).
#[derive(Debug)]
pub struct DesiredIndex<'a> {
    desired: &'a [DesiredBuild],
    sorted: Vec<u32>,
}

impl<'a> DesiredIndex<'a> {
    /// The index of `desired`.
    pub fn new(desired: &'a [DesiredBuild]) -> Self {
        let key = |i: u32| {
            let d = &desired[i as usize];
            (d.project_key(), d.name())
        };
        // Fewer than 2³² definitions: each takes far more than a byte.
        let mut sorted: Vec<u32> = (0..desired.len() as u32).collect();
        // Stable: definitions of one name stay in file order.
        sorted.sort_by(|&a, &b| key(a).cmp(&key(b)));
        DesiredIndex { desired, sorted }
    }

    /// The indices of the definitions of a build, in file order.
    pub fn ids<'s>(&'s self, project: &'s str, name: &'s str) -> impl Iterator<Item = usize> + 's {
        let d = self.desired;
        let key = move |i: u32| (d[i as usize].project_key(), d[i as usize].name());
        let start = self.sorted.partition_point(|&i| key(i) < (project, name));
        self.sorted[start..]
            .iter()
            .take_while(move |&&i| key(i) == (project, name))
            .map(|&i| i as usize)
    }

    /// The first definition of a build, in file order.
    pub fn first(&self, project: &str, name: &str) -> Option<&'a DesiredBuild> {
        let d = self.desired;
        self.ids(project, name).next().map(|i| &d[i])
    }
}

/// The rules of one managed project.
struct ProjectRules {
    ignore: GlobSet,
    protect: GlobSet,
    prune: bool,
}

/// What a run does with one listed build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadDecision {
    /// Hidden by an `ignore` glob: never read, never reported; only its name
    /// is kept (names are global, so a create elsewhere must see it).
    Ignored,
    /// Listed only: read-only (`source` other than `zadig`), a name the API
    /// cannot address, outside `--target`, or without a definition in a
    /// project that does not prune.
    ListOnly,
    /// Read fully.
    Read {
        /// The keys of the credential parameters whose desired value is a
        /// literal: only for those is a masked credential worth a second read
        /// (`{keep: true}`, unset variables, deletes and imports never compare
        /// the plain value).
        compared: Compared,
    },
}

/// The keys of [`ReadDecision::Read::compared`], sorted; shared with the
/// definition, so a queue of 50,000 reads holds no copies.
pub type Compared = std::sync::Arc<[Box<str>]>;

/// One full read to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRead {
    /// Build name.
    pub name: String,
    /// Its entry in [`ProjectReads::listed`].
    pub index: usize,
    /// See [`ReadDecision::Read`].
    pub compared: Compared,
}

/// The decision for one listed project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectReads {
    /// The builds the plan sees (all but the ignored ones), in listing order.
    pub listed: Vec<BuildBrief>,
    /// The builds to read fully, in listing order.
    pub reads: Vec<BuildRead>,
    /// Names hidden by `ignore`.
    pub ignored: Vec<String>,
}

/// The rules that decide what is read and what is planned.
pub struct ReadPolicy<'a> {
    projects: HashMap<&'a str, ProjectRules>,
    /// `project/name`; empty: all. A set: the verification after a large
    /// apply targets every written build.
    targets: HashSet<&'a str>,
    /// The definitions by project and name (borrowed, not cloned).
    desired: DesiredIndex<'a>,
    /// Read every build (import), not only those a plan needs.
    read_all: bool,
    empty: GlobSet,
}

impl<'a> ReadPolicy<'a> {
    /// The policy of `config` for these definitions and targets.
    pub fn new(
        config: &'a Config,
        desired: &'a [DesiredBuild],
        targets: &'a [String],
        read_all: bool,
    ) -> Self {
        let projects = config
            .projects
            .iter()
            .map(|p| {
                (
                    p.key.as_str(),
                    ProjectRules {
                        ignore: globs(&p.ignore),
                        protect: globs(&p.protect),
                        prune: p.prune,
                    },
                )
            })
            .collect();
        ReadPolicy {
            projects,
            targets: targets.iter().map(String::as_str).collect(),
            desired: DesiredIndex::new(desired),
            read_all,
            empty: GlobSet::empty(),
        }
    }

    /// Whether `--target` lets this build be planned.
    pub fn wanted(&self, project: &str, name: &str) -> bool {
        self.targets.is_empty() || self.targets.contains(format!("{project}/{name}").as_str())
    }

    /// Whether an `ignore` glob of the project hides the name.
    pub fn ignored(&self, project: &str, name: &str) -> bool {
        self.projects
            .get(project)
            .is_some_and(|r| r.ignore.is_match(name))
    }

    /// Whether a `protect` glob of the project matches the name.
    pub fn protected(&self, project: &str, name: &str) -> bool {
        self.projects
            .get(project)
            .is_some_and(|r| r.protect.is_match(name))
    }

    /// The project's `protect` globs (none for a project not managed).
    pub fn protect_set(&self, project: &str) -> &GlobSet {
        self.projects
            .get(project)
            .map_or(&self.empty, |r| &r.protect)
    }

    /// The definition of a build, if the directory has one: the first, as
    /// the planner's look-up of the live build takes it (a name defined twice
    /// does not load anyway).
    pub fn definition(&self, project: &str, name: &str) -> Option<&'a DesiredBuild> {
        self.desired.first(project, name)
    }

    /// The definitions by project and name.
    pub fn definitions(&self) -> &DesiredIndex<'a> {
        &self.desired
    }

    /// What to do with one listed build.
    pub fn decide(&self, project: &str, brief: &BuildBrief) -> ReadDecision {
        let name = brief.name.as_str();
        if self.ignored(project, name) {
            return ReadDecision::Ignored;
        }
        let read_only = read_only_source(&brief.source);
        // A name the API cannot address is never read (the plan reports it).
        let addressable = unaddressable_name(name).is_none();
        let prune = self.projects.get(project).is_some_and(|r| r.prune);
        let def = self.definition(project, name);
        let needed = !read_only
            && addressable
            && self.wanted(project, name)
            && (self.read_all || prune || def.is_some());
        if !needed {
            return ReadDecision::ListOnly;
        }
        ReadDecision::Read {
            compared: def.map_or_else(|| Compared::from([]), |d| d.compared.clone()),
        }
    }

    /// The decision for a whole listing.
    pub fn select(&self, project: &str, briefs: Vec<BuildBrief>) -> ProjectReads {
        let mut out = ProjectReads::default();
        for brief in briefs {
            match self.decide(project, &brief) {
                ReadDecision::Ignored => {
                    out.ignored.push(brief.name);
                    continue;
                }
                ReadDecision::ListOnly => {}
                ReadDecision::Read { compared } => out.reads.push(BuildRead {
                    name: brief.name.clone(),
                    index: out.listed.len(),
                    compared,
                }),
            }
            out.listed.push(brief);
        }
        out
    }
}

/// Whether a listed `source` makes a build read-only for zadig-sync (other
/// than `zadig`, e.g. Jenkins builds: a PUT would leave a hybrid, §5.10).
pub fn read_only_source(source: &str) -> bool {
    !source.is_empty() && source != "zadig"
}

/// The parameters whose value a plan compares: literal values (`from_env`
/// already resolved). Template builds have none.
pub fn compared_credentials(def: &BuildDef) -> BTreeSet<String> {
    match def {
        BuildDef::Build(b) => b
            .parameters
            .iter()
            .filter(|p| matches!(p.default_value, ParamValue::Literal(_)))
            .map(|p| p.key.clone())
            .collect(),
        BuildDef::Template(_) => BTreeSet::new(),
    }
}

/// [`compared_credentials`] in the form a [`DesiredBuild`] holds it.
pub fn compared(def: &BuildDef) -> Compared {
    compared_credentials(def)
        .into_iter()
        .map(String::into_boxed_str)
        .collect()
}

/// Whether planning a definition needs the template look-ups (build
/// templates, dockerfile templates), which the shell makes only once it knows
/// something uses them.
pub fn def_uses_templates(def: &BuildDef) -> bool {
    match def {
        BuildDef::Template(_) => true,
        BuildDef::Build(b) => b
            .docker_build_step
            .as_ref()
            .is_some_and(|s| s.dockerfile_source == DockerfileSource::Template),
    }
}

/// Whether planning a build read this way needs the template look-ups: a
/// template build, a dockerfile template, or a read of the OpenAPI detail
/// (its template variables are merged with the template's).
pub fn live_uses_templates(live: &LiveBuild) -> bool {
    match &live.read {
        LiveRead::Stored { model, .. } => {
            !model.template_id.is_empty()
                || model
                    .post_build
                    .as_ref()
                    .and_then(|p| p.docker_build.as_ref())
                    .is_some_and(|d| d.source == "template")
        }
        LiveRead::Detail { .. } => true,
        LiveRead::NotRead => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        serde_json::from_value(json!({
            "projects": [
                {"key": "demo", "prune": true, "ignore": ["tmp-*"], "protect": ["prod-*"]},
                {"key": "keep"}
            ]
        }))
        .expect("config")
    }

    fn brief(name: &str, source: &str) -> BuildBrief {
        BuildBrief {
            name: name.to_owned(),
            source: source.to_owned(),
            ..BuildBrief::default()
        }
    }

    fn desired() -> DesiredBuild {
        let mut b = crate::core::plan::tests::spec("api", "keep");
        b.parameters.push(crate::core::model::Parameter {
            key: "OTHER".into(),
            default_value: ParamValue::Keep,
            ..b.parameters[0].clone()
        });
        DesiredBuild::new(&BuildDef::Build(b), "x.yaml:1".to_owned())
    }

    #[test]
    fn the_index_finds_every_definition_of_a_name_in_file_order() {
        let def = |project: &str, name: &str, origin: &str| {
            let b = crate::core::plan::tests::spec(name, project);
            DesiredBuild::new(&BuildDef::Build(b), origin.to_owned())
        };
        let desired = [
            def("demo", "b", "1"),
            def("keep", "a", "2"),
            def("demo", "a", "3"),
            def("demo", "b", "4"),
            def("demo", "ab", "5"),
        ];
        let index = DesiredIndex::new(&desired);
        let ids = |p: &str, n: &str| index.ids(p, n).collect::<Vec<_>>();
        assert_eq!(ids("demo", "b"), [0, 3], "both, in file order");
        assert_eq!(ids("demo", "a"), [2], "not the other project's `a`");
        assert_eq!(ids("keep", "a"), [1]);
        assert_eq!(ids("demo", "ab"), [4], "a prefix is another name");
        assert!(ids("demo", "c").is_empty() && ids("nope", "a").is_empty());
        assert_eq!(
            index.first("demo", "b").map(|d| d.origin.as_str()),
            Some("1")
        );
        assert!(DesiredIndex::new(&[]).first("demo", "a").is_none());
    }

    #[test]
    fn ignored_builds_are_neither_read_nor_listed_but_their_names_are_kept() {
        let config = config();
        let policy = ReadPolicy::new(&config, &[], &[], false);
        let reads = policy.select("demo", vec![brief("tmp-1", "zadig"), brief("api", "zadig")]);
        assert_eq!(reads.ignored, vec!["tmp-1".to_owned()]);
        assert_eq!(reads.listed.len(), 1);
        assert_eq!(reads.reads.len(), 1, "prune: the undefined build is read");
        assert_eq!(reads.listed[reads.reads[0].index].name, "api");
    }

    #[test]
    fn read_only_and_unaddressable_builds_are_only_listed() {
        let config = config();
        let policy = ReadPolicy::new(&config, &[], &[], true);
        for b in [brief("jenkins-job", "jenkins"), brief("a/b", "zadig")] {
            assert_eq!(
                policy.decide("demo", &b),
                ReadDecision::ListOnly,
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn without_prune_only_defined_builds_are_read() {
        let config = config();
        let desired = vec![desired()];
        let policy = ReadPolicy::new(&config, &desired, &[], false);
        assert_eq!(
            policy.decide("keep", &brief("api", "zadig")),
            ReadDecision::Read {
                compared: Compared::from(["TOKEN".into()])
            }
        );
        assert_eq!(
            policy.decide("keep", &brief("other", "zadig")),
            ReadDecision::ListOnly
        );
        // Import reads everything.
        let import = ReadPolicy::new(&config, &[], &[], true);
        assert!(matches!(
            import.decide("keep", &brief("other", "zadig")),
            ReadDecision::Read { .. }
        ));
    }

    #[test]
    fn targets_narrow_the_reads_and_the_plan() {
        let config = config();
        let targets = vec!["demo/api".to_owned()];
        let policy = ReadPolicy::new(&config, &[], &targets, false);
        assert!(matches!(
            policy.decide("demo", &brief("api", "zadig")),
            ReadDecision::Read { .. }
        ));
        assert_eq!(
            policy.decide("demo", &brief("web", "zadig")),
            ReadDecision::ListOnly
        );
        assert!(policy.wanted("demo", "api") && !policy.wanted("demo", "web"));
    }

    #[test]
    fn protect_and_ignore_follow_the_project() {
        let config = config();
        let policy = ReadPolicy::new(&config, &[], &[], false);
        assert!(policy.protected("demo", "prod-api"));
        assert!(!policy.protected("keep", "prod-api"));
        assert!(policy.ignored("demo", "tmp-x"));
        assert!(!policy.ignored("unmanaged", "tmp-x"));
    }
}
