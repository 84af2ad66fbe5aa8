//! Loading definition files into [`super::model`] types.
//!
//! [`load`] is pure: the shell reads the directory (`crate::cli::fs`) and hands
//! over bytes. It never stops at the first problem: every file and every
//! document is read, and every problem becomes a [`Diagnostic`].
//!
//! Each file is read in three steps:
//! 1. a YAML event pass (the parser under serde-saphyr) splits it into
//!    documents, recovers from syntax errors at the next `---`, and builds a
//!    small tree of byte spans per document: it tells the `kind` of a document
//!    and locates semantic errors later;
//! 2. each document's text is deserialised into [`BuildSpec`] or
//!    [`TemplateBuildSpec`] (`deny_unknown_fields`), so serde reports unknown
//!    fields, wrong types and missing fields with their exact position;
//! 3. [`crate::core::validate`] checks what serde cannot, and the tree turns
//!    each finding's path into a line and column.
//!
//! Then the checks across documents: build names unique across all files and
//! projects, project keys declared in `zadig-sync.yaml`.
//!
//! Scalars are never interpolated: `$VAR` in a build script stays as written.
//!
//! This file is the orchestration ([`Loader`], [`load`], the checks across
//! files); the span tree is in `tree`, the typed pass over it in `fast`, the
//! translation of serde errors in `errors`, and `zadig-sync.yaml` in `config`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

use crate::core::diagnostics::{self, Diagnostic, Severity};
use crate::core::model::{BuildDef, BuildSpec, Config, Kind, TemplateBuildSpec};
use crate::core::packed::{Codec, PackedDef};
use crate::core::validate::{self, Finding, Seg, Target};
use crate::kinds::{self, KindId, KindInfo};
use std::sync::Arc;

mod config;
mod errors;
mod fast;
mod tree;

use config::load_config;
pub use config::load_config_file;
use errors::*;
use tree::*;

/// The name of the directory's configuration file.
pub const CONFIG_FILE: &str = "zadig-sync.yaml";

/// One file of the definition directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the definition directory, `/`-separated.
    pub path: String,
    /// The file's bytes, as read (not necessarily UTF-8).
    pub bytes: Vec<u8>,
}

/// Where a build is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Path relative to the definition directory, `/`-separated.
    pub file: String,
    /// 1-based line of the build's `name` value (of the document when absent).
    pub line: usize,
    /// 1-based column of the same.
    pub column: usize,
    /// 0-based index of the document in the file (empty documents count).
    pub document: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A build definition and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The definition, packed ([`PackedDef::unpack`] reads it). `kind` is
    /// normalised to `None` in both specs (the enum variant carries it), so a
    /// loaded definition equals one built in code.
    pub def: PackedDef,
    /// Its place in the directory.
    pub origin: Origin,
}

/// A definition of another kind than builds, and where it came from: plain
/// data, read back into the kind's spec type by the kind
/// ([`crate::kinds::KindInfo::load`] made it).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedDoc {
    /// Its kind.
    pub kind: KindId,
    /// Its name (unique in the kind's scope).
    pub name: String,
    /// The definition as the kind's spec type serialises it (`kind` left out).
    pub value: serde_json::Value,
    /// Its place in the directory.
    pub origin: Origin,
}

/// One document of another kind, as the loader hands it to the kind's
/// [`crate::kinds::KindInfo::load`]: the kind parses it into its spec type
/// (serde errors become diagnostics with file:line:column) and adds its
/// findings.
pub struct DocReader<'r, 'a> {
    text: &'r Text<'a>,
    doc: &'r Doc<'a>,
    root: &'r Node<'a>,
    kind: &'static KindInfo,
    diags: &'r mut Vec<Diagnostic>,
}

impl DocReader<'_, '_> {
    /// The document as `T`; `None` after its error was recorded.
    pub fn parse<T: DeserializeOwned>(&mut self) -> Option<T> {
        match parse_doc::<T>(self.text, self.doc, self.root, Context::Other(self.kind.id)) {
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(*d);
                None
            }
        }
    }

    /// Records a rule finding, at the place it names.
    pub fn finding(&mut self, f: Finding) {
        self.diags.push(finding_diag(self.text, self.root, f));
    }

    /// Where the document's `name` is.
    pub fn origin(&self) -> Origin {
        let name_at = self.root.locate(&[Seg::Key("name")], Target::Value);
        let (line, column) = self.text.line_col(name_at.start);
        Origin {
            file: self.text.path.to_owned(),
            line,
            column,
            document: self.doc.index,
        }
    }
}

/// Everything [`load`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadResult {
    /// The configuration (defaults when it could not be read; then there is an
    /// error among the diagnostics).
    pub config: Config,
    /// Every build that parsed, in file order, including ones with semantic
    /// errors (callers must check [`LoadResult::has_errors`] before using them).
    pub builds: Vec<Loaded>,
    /// Every definition of the other kinds that parsed, in file order.
    pub others: Vec<LoadedDoc>,
    /// Every problem, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadResult {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// How many files, spread over a directory, make the dictionary its
/// definitions are packed with ([`Loader::pack_like`]): about as many
/// definitions as the dictionary holds.
const PACKING_SAMPLES: usize = 64;

/// The files of a directory to sample for [`Loader::pack_like`], spread
/// evenly over it.
pub fn packing_samples<T>(files: &[T]) -> impl Iterator<Item = &T> {
    files
        .iter()
        .step_by(files.len().div_ceil(PACKING_SAMPLES).max(1))
}

/// Loads and validates a definition directory: `config` is `zadig-sync.yaml`
/// (`None`: it is missing, an error), `files` the definition files, on one
/// thread. The shell streams a directory through a [`Loader`] instead, on
/// every core, reading each file only while it is loaded.
pub fn load(config: Option<&SourceFile>, files: &[SourceFile]) -> LoadResult {
    let mut loader = Loader::new(config, files.iter().any(|f| f.path == "zadig-sync.yml"));
    loader.pack_like(packing_samples(files));
    let mut part = Part::default();
    let mut definition_files = 0;
    for f in files.iter().filter(|f| loader.wants(&f.path)) {
        definition_files += 1;
        loader.file(f, &mut part);
    }
    loader.finish(part, definition_files)
}

/// Loading a directory, file by file: [`Loader::new`] reads the
/// configuration, [`Loader::file`] loads one file into a [`Part`] (from any
/// thread: files are independent), and [`Loader::finish`] makes the checks
/// across files. Parts appended in file order give the same result as
/// [`load`], however the files were shared out.
pub struct Loader {
    cfg: Config,
    /// The configuration loaded: without it every project key would look
    /// undeclared, so that check is left out.
    config_ok: bool,
    /// The declared project keys, looked up once per definition.
    declared: HashSet<String>,
    exclude: globset::GlobSet,
    /// No `zadig-sync.yaml`: a `zadig-sync.yml` is a misnamed config, not a
    /// definition file.
    skip_yml: bool,
    diags: Vec<Diagnostic>,
    /// How the definitions are packed ([`Loader::pack_like`]).
    codec: Arc<Codec>,
}

impl Loader {
    /// Reads the configuration (`None`: missing, an error; `yml_present`:
    /// the directory has a `zadig-sync.yml`, which the error's hint names).
    pub fn new(config: Option<&SourceFile>, yml_present: bool) -> Self {
        let mut diags = Vec::new();
        let mut config_ok = false;
        let cfg = match config {
            Some(file) => match load_config(file, &mut diags) {
                Some(c) => {
                    config_ok = true;
                    c
                }
                None => Config::default(),
            },
            None => {
                let mut d =
                    Diagnostic::error(CONFIG_FILE, format!("no {CONFIG_FILE} in the directory"))
                        .with_code(diagnostics::Code::NoConfig);
                d.hint = Some(if yml_present {
                    "rename zadig-sync.yml to zadig-sync.yaml".to_owned()
                } else {
                    format!(
                        "create {CONFIG_FILE} next to the definitions, listing the projects it manages: `projects: [{{key: <project key>}}]`"
                    )
                });
                diags.push(d);
                Config::default()
            }
        };
        let declared = cfg.projects.iter().map(|p| p.key.clone()).collect();
        let exclude = exclude_set(&cfg.exclude);
        Loader {
            cfg,
            config_ok,
            declared,
            exclude,
            skip_yml: config.is_none(),
            diags,
            codec: Codec::plain(),
        }
    }

    /// Packs the definitions against a dictionary of `samples` (files of the
    /// same directory, spread over it), so that even while loading a large
    /// directory its definitions take a few dozen bytes each, not a
    /// kilobyte ([`crate::core::packed`]).
    pub fn pack_like<'f>(&mut self, samples: impl IntoIterator<Item = &'f SourceFile>) {
        let mut part = Part::default();
        for f in samples.into_iter().filter(|f| self.wants(&f.path)) {
            self.file(f, &mut part);
        }
        let defs: Vec<&PackedDef> = part.builds.iter().map(|b| &b.def).collect();
        self.codec = Codec::for_fleet(&defs);
    }

    /// True when the file at `path` is a definition file to load (not
    /// excluded by the configuration).
    pub fn wants(&self, path: &str) -> bool {
        !(self.exclude.is_match(path) || self.skip_yml && path == "zadig-sync.yml")
    }

    /// Loads one definition file into `part`; true when it has a
    /// diagnostic (its text is then needed to render it).
    pub fn file(&self, file: &SourceFile, part: &mut Part) -> bool {
        let before = part.diags.len();
        let (config, declared) = match self.config_ok {
            true => (Some(&self.cfg), Some(&self.declared)),
            false => (None, None),
        };
        load_file(file, config, declared, &self.codec, part);
        part.diags.len() > before
    }

    /// The checks across files, over every file's part (appended in file
    /// order); `definition_files` is how many files were loaded.
    pub fn finish(self, part: Part, definition_files: usize) -> LoadResult {
        let Loader {
            cfg,
            config_ok,
            mut diags,
            ..
        } = self;
        let Part {
            builds,
            others,
            name_spans,
            diags: file_diags,
        } = part;
        diags.extend(file_diags);
        check_unique_names(&builds, &name_spans, &mut diags);
        drop(name_spans);
        check_unique_other_names(&others, &mut diags);
        for t in &others {
            let info = t.kind.info();
            let Some(section) = info.config_section.filter(|_| config_ok) else {
                continue;
            };
            if (section.managed)(&cfg) {
                continue;
            }
            let (noun, key) = (info.noun, section.key);
            diags.push(
                Diagnostic::warning(
                    t.origin.file.clone(),
                    format!("{noun} `{}` is not managed: {key}.manage is false", t.name),
                )
                .at(t.origin.line, t.origin.column, None)
                .with_hint(format!(
                    "set `{key}: {{manage: true}}` in {CONFIG_FILE} to plan and apply {}",
                    info.plural
                ))
                .with_code(diagnostics::Code::DefinitionWarning),
            );
        }
        if definition_files == 0 {
            diags.push(
                Diagnostic::error("", "no definition files in the directory")
                    .with_hint(format!(
                        "add *.yaml files with build definitions next to {CONFIG_FILE}"
                    ))
                    .with_code(diagnostics::Code::NoDefinitions),
            );
        } else if builds.is_empty() && others.is_empty() && !diags.iter().any(Diagnostic::is_error)
        {
            diags.push(
                Diagnostic::error("", "no build definitions in the directory")
                    .with_hint("every definition file is empty: add a build (`name: ...`)")
                    .with_code(diagnostics::Code::NoDefinitions),
            );
        }
        // Problems in the configuration file carry the configuration's codes.
        for d in diags.iter_mut().filter(|d| d.file == CONFIG_FILE) {
            d.code = match d.code {
                diagnostics::Code::InvalidDefinition => diagnostics::Code::InvalidConfig,
                diagnostics::Code::DefinitionWarning => diagnostics::Code::ConfigWarning,
                other => other,
            };
        }
        diagnostics::sort(&mut diags);
        LoadResult {
            config: cfg,
            builds,
            others,
            diagnostics: diags,
        }
    }
}

/// The names of another kind are unique in its scope (these kinds are
/// global: the whole of Zadig).
fn check_unique_other_names(others: &[LoadedDoc], diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<(KindId, &str), &Origin> = HashMap::new();
    for t in others {
        if t.name.is_empty() {
            continue;
        }
        let noun = t.kind.info().noun;
        if let Some(o) = first.get(&(t.kind, t.name.as_str())) {
            diags.push(
                Diagnostic::error(
                    t.origin.file.clone(),
                    format!("{noun} `{}` is defined twice", t.name),
                )
                .at(t.origin.line, t.origin.column, None)
                .with_hint(format!(
                    "the first definition is at {o}; {noun} names are unique across Zadig"
                )),
            );
        } else {
            first.insert((t.kind, &t.name), &t.origin);
        }
    }
}

/// The `exclude` globs of the configuration, matched against paths
/// relative to the directory; invalid ones (an error of validation) match
/// nothing.
pub fn exclude_set(patterns: &[String]) -> globset::GlobSet {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = globset::GlobBuilder::new(p).literal_separator(true).build() {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

/// What loading some files found ([`Loader::file`]); the parts of
/// consecutive runs of files are [`Part::append`]ed in file order.
#[derive(Debug, Default)]
pub struct Part {
    builds: Vec<Loaded>,
    others: Vec<LoadedDoc>,
    /// The span of each build's name, for the duplicate-name check.
    name_spans: Vec<Range<usize>>,
    diags: Vec<Diagnostic>,
}

impl Part {
    /// An empty part with room for `files` builds (mostly one per file: sized
    /// once, not doubled as it grows, since a definition is several hundred
    /// bytes inline).
    pub fn with_capacity(files: usize) -> Self {
        Part {
            builds: Vec::with_capacity(files),
            name_spans: Vec::with_capacity(files),
            ..Part::default()
        }
    }

    /// Adds `next`, the part of the files after this part's.
    pub fn append(&mut self, next: Part) {
        self.builds.extend(next.builds);
        self.others.extend(next.others);
        self.name_spans.extend(next.name_spans);
        self.diags.extend(next.diags);
    }
}

fn check_unique_names(builds: &[Loaded], spans: &[Range<usize>], diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Origin> = HashMap::with_capacity(builds.len());
    for (b, span) in builds.iter().zip(spans) {
        let name = b.def.name();
        if name.is_empty() {
            continue;
        }
        match first.get(name) {
            Some(prev) => {
                let o = &b.origin;
                diags.push(
                    Diagnostic::error(
                        o.file.clone(),
                        format!("build `{name}` is defined twice (first at {prev})"),
                    )
                    .at(o.line, o.column, Some(span.clone()))
                    .with_hint(
                        "Zadig build names are unique across all projects: rename or remove one of them",
                    )
                    .with_code(diagnostics::Code::DefinedTwice),
                );
            }
            None => {
                first.insert(name, &b.origin);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Files and documents

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Only `true`/`false` are booleans; `yes`, `on` stay strings.
        strict_booleans: true,
        // `0755` stays the string "0755" (no octal surprises).
        leading_zero_numbers_as_strings: true,
        // We render our own snippets.
        with_snippet: false,
    }
}

/// A file's text with a line index, for turning byte offsets into positions.
struct Text<'a> {
    path: &'a str,
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(path: &'a str, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Text {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset);
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self
            .line_starts
            .get(line.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        // A byte-order mark is not a column anyone sees.
        let start = if start == 0 && self.text.starts_with('\u{feff}') {
            3.min(offset)
        } else {
            start
        };
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line.max(1), column)
    }

    fn diag(
        &self,
        severity: Severity,
        span: Range<usize>,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        let span = clamp_span(self.text, span);
        let (line, column) = self.line_col(span.start);
        Diagnostic {
            severity,
            file: self.path.to_owned(),
            line,
            column,
            span: Some(span),
            message,
            hint,
            code: diagnostics::Code::default_for(severity),
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn clamp_span(text: &str, span: Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(text, span.start);
    let end = floor_char_boundary(text, span.end.max(start));
    start..end
}

/// Decodes a file, or reports where it stops being UTF-8.
fn decode<'a>(file: &'a SourceFile, diags: &mut Vec<Diagnostic>) -> Option<&'a str> {
    match std::str::from_utf8(&file.bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let good = e.valid_up_to();
            // The valid prefix is real text; positions in it are exact. The
            // renderer shows the file lossily, where the bad bytes become one
            // U+FFFD (3 bytes).
            let prefix = std::str::from_utf8(&file.bytes[..good]).unwrap_or_default();
            let (line, column) = Text::new(&file.path, prefix).line_col(good);
            diags.push(
                Diagnostic::error(file.path.clone(), "the file is not valid UTF-8")
                    .at(line, column, Some(good..good + 3))
                    .with_hint("save the file as UTF-8")
                    .with_code(diagnostics::Code::NotUtf8),
            );
            None
        }
    }
}

/// The kind of a document: a build's form, or another kind of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DocKind {
    Build(Kind),
    Other(KindId),
}

fn doc_kind(value: &str) -> Option<DocKind> {
    let info = kinds::by_file_kind(value)?;
    // Not a `match` over the kinds: the loader reads builds itself and every
    // other kind through its registry entry, however many there are.
    Some(if info.id != KindId::Build {
        DocKind::Other(info.id)
    } else if value == "TemplateBuild" {
        DocKind::Build(Kind::TemplateBuild)
    } else {
        DocKind::Build(Kind::Build)
    })
}

fn kind_hint() -> String {
    let all = kinds::file_kinds();
    let rest: Vec<String> = all[1..].iter().map(|k| format!("`kind: {k}`")).collect();
    let rest = match rest.split_last() {
        Some((last, [])) => format!(" or {last}"),
        Some((last, init)) => format!(", {} or {last}", init.join(", ")),
        None => String::new(),
    };
    format!("write `kind: {}` (the default){rest}", all[0])
}

/// The `kind` of a document, from its tree.
fn kind_of(text: &Text<'_>, doc: &Doc<'_>, root: &Node<'_>) -> Result<DocKind, Diagnostic> {
    let Some((key, value)) = root.get("kind") else {
        if root.get("<<").is_some() {
            // `kind` may come from a merged mapping: ask serde, which merges.
            return head_kind(text, doc);
        }
        return Ok(DocKind::Build(Kind::Build));
    };
    match value.scalar() {
        Some(v) if doc_kind(v).is_some() => Ok(doc_kind(v).unwrap_or(DocKind::Build(Kind::Build))),
        Some(other) => {
            let mut hint = kind_hint();
            if let Some(near) = validate::did_you_mean(other, kinds::file_kinds()) {
                hint = format!("did you mean `{near}`? {hint}");
            }
            let span = if value.span.is_empty() {
                key.highlight()
            } else {
                value.highlight()
            };
            Err(text.diag(
                Severity::Error,
                span,
                format!("unknown kind `{other}`"),
                Some(hint),
            ))
        }
        None => Err(text.diag(
            Severity::Error,
            value.highlight(),
            format!("kind must be a string, found {}", value.describe()),
            Some(kind_hint()),
        )),
    }
}

fn head_kind(text: &Text<'_>, doc: &Doc<'_>) -> Result<DocKind, Diagnostic> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum AnyKind {
        Build(Kind),
        Other(String),
    }
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        kind: Option<AnyKind>,
    }
    let src = &text.text[doc.range.clone()];
    match serde_saphyr::from_str_with_options::<Head>(src, options()) {
        Ok(head) => Ok(match head.kind {
            None => DocKind::Build(Kind::Build),
            Some(AnyKind::Build(k)) => DocKind::Build(k),
            Some(AnyKind::Other(v)) => doc_kind(&v).unwrap_or(DocKind::Build(Kind::Build)),
        }),
        Err(e) => Err(serde_diag(text, doc, None, &e, Context::Build)),
    }
}

/// Which type a document was read as, for hints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Build,
    Template,
    Other(KindId),
    Config,
}

fn load_file(
    file: &SourceFile,
    config: Option<&Config>,
    declared: Option<&HashSet<String>>,
    codec: &Arc<Codec>,
    part: &mut Part,
) {
    let Part {
        builds,
        others,
        name_spans,
        diags,
    } = part;
    let before = diags.len();
    let Some(src) = decode(file, diags) else {
        return;
    };
    let text = Text::new(&file.path, src);
    let (docs, errors) = parse_documents(src);
    for e in errors {
        diags.push(syntax_diag(&text, e));
    }
    let mut any = false;
    for doc in &docs {
        let root = &doc.root;
        if root.is_null() {
            continue;
        }
        any = true;
        if !matches!(root.kind, NodeKind::Map(..)) {
            diags.push(text.diag(
                Severity::Error,
                root.highlight(),
                format!("a definition document must be a mapping, found {}", root.describe()),
                Some("each document (separated by `---`) is one build: `name: ...`, `project_key: ...`".to_owned()),
            ));
            continue;
        }
        let kind = match kind_of(&text, doc, root) {
            Ok(k) => k,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let kind = match kind {
            DocKind::Build(k) => k,
            DocKind::Other(id) => {
                let info = id.info();
                let Some(load) = info.load else {
                    continue;
                };
                let mut reader = DocReader {
                    text: &text,
                    doc,
                    root,
                    kind: info,
                    diags,
                };
                if let Some(loaded) = load(&mut reader) {
                    others.push(loaded);
                }
                continue;
            }
        };
        let def = match kind {
            Kind::Build => parse_doc::<BuildSpec>(&text, doc, root, Context::Build).map(|mut b| {
                b.kind = None;
                BuildDef::Build(b)
            }),
            Kind::TemplateBuild => {
                parse_doc::<TemplateBuildSpec>(&text, doc, root, Context::Template).map(|mut t| {
                    t.kind = None;
                    BuildDef::Template(t)
                })
            }
        };
        let def = match def {
            Ok(def) => def,
            Err(d) => {
                diags.push(*d);
                continue;
            }
        };
        for finding in validate::check_build_in(&def, config, declared) {
            diags.push(finding_diag(&text, root, finding));
        }
        let name_at = root.locate(&[Seg::Key("name")], Target::Value);
        let (line, column) = text.line_col(name_at.start);
        name_spans.push(name_at);
        builds.push(Loaded {
            def: PackedDef::pack(&def, codec),
            origin: Origin {
                file: file.path.clone(),
                line,
                column,
                document: doc.index,
            },
        });
    }
    if !any && diags.len() == before {
        diags.push(
            Diagnostic::warning(file.path.clone(), "the file defines no builds")
                .at(1, 1, Some(0..0))
                .with_hint("add a build, or delete the file")
                .with_code(diagnostics::Code::EmptyFile),
        );
    }
}

fn parse_doc<T: DeserializeOwned>(
    text: &Text<'_>,
    doc: &Doc<'_>,
    root: &Node<'_>,
    ctx: Context,
) -> Result<T, Box<Diagnostic>> {
    if doc.simple
        && let Some(value) = fast::from_tree(root)
    {
        return Ok(value);
    }
    let src = &text.text[doc.range.clone()];
    serde_saphyr::from_str_with_options::<T>(src, options())
        .map_err(|e| Box::new(serde_diag(text, doc, Some(root), &e, ctx)))
}

fn syntax_diag(text: &Text<'_>, e: SyntaxError) -> Diagnostic {
    let start = floor_char_boundary(text.text, e.offset);
    let end = text.text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    text.diag(
        Severity::Error,
        start..end,
        format!("invalid YAML: {}", e.message),
        Some("fix the YAML syntax; the rest of this document was skipped".to_owned()),
    )
    .with_code(diagnostics::Code::YamlSyntax)
}

fn finding_diag(text: &Text<'_>, root: &Node<'_>, f: Finding) -> Diagnostic {
    let span = root.locate(&f.path, f.target);
    text.diag(f.severity, span, f.message, f.hint)
}

#[cfg(test)]
mod tests;
