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

mod fast;

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

/// One YAML document of a file, after the event pass.
struct Doc<'a> {
    /// 0-based index in the file.
    index: usize,
    /// The document's text, from the end of the previous document (so it holds
    /// its own `---` and comments) to its end.
    range: Range<usize>,
    /// Its tree.
    root: Node<'a>,
    /// Where the document starts (its `---` or first token), for diagnostics
    /// about the whole document.
    start: usize,
    /// No tag, anchor, alias or `%YAML` directive, and small and shallow:
    /// the typed pass may read the tree itself ([`fast`]) instead of parsing
    /// the text again.
    simple: bool,
}

/// A syntax error found by the event pass.
struct SyntaxError {
    offset: usize,
    message: String,
}

/// A YAML node with the byte span of its source.
#[derive(Debug)]
struct Node<'a> {
    span: Range<usize>,
    kind: NodeKind<'a>,
}

#[derive(Debug)]
enum NodeKind<'a> {
    Scalar {
        value: Cow<'a, str>,
        plain: bool,
        tagged: bool,
    },
    Seq(Vec<Node<'a>>, bool),
    Map(Vec<(Node<'a>, Node<'a>)>, bool),
    Alias,
}

/// Deeper nesting than this is not a build definition; the limit keeps the
/// tree (and its recursive drop) small on hostile input.
const MAX_DEPTH: usize = 64;

impl<'a> Node<'a> {
    fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    fn entries(&self) -> &[(Node<'a>, Node<'a>)] {
        match &self.kind {
            NodeKind::Map(entries, _) => entries,
            _ => &[],
        }
    }

    fn get(&self, key: &str) -> Option<&(Node<'a>, Node<'a>)> {
        self.entries().iter().find(|(k, _)| k.scalar() == Some(key))
    }

    /// An empty document, or one that is only `~`/`null`.
    fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true, tagged: false }
            if matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What to underline for this node: a scalar itself; for a collection its
    /// first key or item (a whole block mapping would underline many lines).
    fn highlight(&self) -> Range<usize> {
        match &self.kind {
            NodeKind::Map(entries, _) if !entries.is_empty() => entries[0].0.highlight(),
            NodeKind::Seq(_, false) | NodeKind::Map(_, true) | NodeKind::Seq(_, true) => {
                self.span.start..self.span.start + 1
            }
            _ => self.span.clone(),
        }
    }

    fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Scalar { value, .. }
                if value.chars().count() <= 40 && !value.contains('\n') =>
            {
                format!("`{value}`")
            }
            NodeKind::Scalar { .. } => "a string".to_owned(),
            NodeKind::Seq(..) => "a list".to_owned(),
            NodeKind::Map(..) => "a mapping".to_owned(),
            NodeKind::Alias => "an alias".to_owned(),
        }
    }

    /// The node a path leads to, as far as it exists in the file: a defaulted
    /// field is absent, so its finding points at the closest enclosing node.
    fn locate(&self, path: &[Seg], target: Target) -> Range<usize> {
        let mut node = self;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (seg, &node.kind) {
                (Seg::Key(k), NodeKind::Map(..)) => match node.get(k) {
                    Some((key, value)) => {
                        if last && target == Target::Key {
                            return key.highlight();
                        }
                        // `key:` with nothing after it: point at the key.
                        if value.span.is_empty() {
                            return key.highlight();
                        }
                        node = value;
                    }
                    None => break,
                },
                (Seg::Index(n), NodeKind::Seq(items, _)) => match items.get(*n) {
                    Some(item) => node = item,
                    None => break,
                },
                _ => break,
            }
        }
        node.highlight()
    }

    /// What is at `offset`: the innermost node, its path, and around it.
    fn at(&self, offset: usize) -> At<'_, 'a> {
        let mut path = String::new();
        let mut node = self;
        let mut owner = None;
        'descend: loop {
            match &node.kind {
                // Errors about a whole block mapping point at its first key:
                // there the mapping itself is meant.
                NodeKind::Map(entries, _) if offset != node.span.start || entries.is_empty() => {
                    for (k, v) in entries {
                        if contains(&k.span, offset) {
                            push_key(&mut path, k);
                            return At {
                                path,
                                node: k,
                                value: Some(v),
                                map: Some(node),
                                owner,
                            };
                        }
                        if contains(&v.span, offset) {
                            push_key(&mut path, k);
                            node = v;
                            owner = Some(k);
                            continue 'descend;
                        }
                    }
                    break;
                }
                NodeKind::Seq(items, _) => {
                    for (i, item) in items.iter().enumerate() {
                        if contains(&item.span, offset) {
                            path.push_str(&format!("[{i}]"));
                            node = item;
                            owner = None;
                            continue 'descend;
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        At {
            path,
            node,
            value: None,
            map: matches!(node.kind, NodeKind::Map(..)).then_some(node),
            owner,
        }
    }
}

/// What [`Node::at`] found.
struct At<'t, 'a> {
    /// Its path as a user writes it: `parameters[0].type`.
    path: String,
    /// The node.
    node: &'t Node<'a>,
    /// When `node` is a mapping key: its value.
    value: Option<&'t Node<'a>>,
    /// The mapping that holds `node` as a key, or `node` when it is a mapping.
    map: Option<&'t Node<'a>>,
    /// The key whose value `map` is (none for the root and list items).
    owner: Option<&'t Node<'a>>,
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.is_empty() && offset == span.start)
}

fn push_key(path: &mut String, key: &Node<'_>) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key.scalar().unwrap_or("?"));
}

enum Frame<'a> {
    Seq {
        start: usize,
        flow: bool,
        items: Vec<Node<'a>>,
    },
    Map {
        start: usize,
        flow: bool,
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
    },
}

/// Splits a file into documents and builds their trees, recovering from syntax
/// errors at the next document.
fn parse_documents<'a>(text: &'a str) -> (Vec<Doc<'a>>, Vec<SyntaxError>) {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let mut root: Option<Node<'a>> = None;
    // End of the previous document; `None` after an error, when the next
    // document starts at its own `---`.
    let mut cursor: Option<usize> = Some(0);
    let mut doc_begin = 0;
    let mut doc_start = 0;
    let mut index = 0;
    // See `Doc::simple`.
    let mut simple = true;
    let mut nodes = 0usize;
    let off = |m: &serde_saphyr::granit_parser::Marker| m.byte_offset().unwrap_or(m.index());

    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                errors.push(SyntaxError {
                    offset: off(e.marker()),
                    message: e.kind().to_string(),
                });
                stack.clear();
                root = None;
                index += 1;
                cursor = None;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
        };
        let start = off(&span.start);
        let end = off(&span.end);
        match &event {
            Event::Scalar(_, _, anchor, tag)
            | Event::SequenceStart(_, anchor, tag)
            | Event::MappingStart(_, anchor, tag) => {
                nodes += 1;
                if *anchor != 0 || tag.is_some() || stack.len() >= fast::MAX_DEPTH {
                    simple = false;
                }
            }
            Event::Alias(..) | Event::Anchor(..) | Event::UnresolvedAlias(..) => simple = false,
            _ => {}
        }
        let node = match event {
            Event::DocumentStart(_, version) => {
                doc_begin = cursor.unwrap_or(start);
                doc_start = start;
                stack.clear();
                root = None;
                simple = version.is_none();
                nodes = 0;
                continue;
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take() {
                    docs.push(Doc {
                        index,
                        range: doc_begin..end,
                        root: node,
                        start: doc_start,
                        simple: simple
                            && nodes <= fast::MAX_NODES
                            && end - doc_begin <= fast::MAX_BYTES,
                    });
                }
                index += 1;
                cursor = Some(end);
                continue;
            }
            Event::Scalar(value, style, _, tag) => Node {
                span: start..end,
                kind: NodeKind::Scalar {
                    value,
                    plain: style == ScalarStyle::Plain,
                    tagged: tag.is_some(),
                },
            },
            Event::Alias(_) => Node {
                span: start..end,
                kind: NodeKind::Alias,
            },
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                errors.push(SyntaxError {
                    offset: start,
                    message: format!("nested more than {MAX_DEPTH} levels deep"),
                });
                stack.clear();
                root = None;
                index += 1;
                cursor = None;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
            Event::SequenceStart(style, ..) => {
                stack.push(Frame::Seq {
                    start,
                    flow: style == StructureStyle::Flow,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(style, ..) => {
                stack.push(Frame::Map {
                    start,
                    flow: style == StructureStyle::Flow,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { start, flow, items }) => Node {
                    span: start..end.max(start),
                    kind: NodeKind::Seq(items, flow),
                },
                Some(Frame::Map {
                    start,
                    flow,
                    entries,
                    ..
                }) => Node {
                    span: start..end.max(start),
                    kind: NodeKind::Map(entries, flow),
                },
                None => continue,
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
    (docs, errors)
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

// ---------------------------------------------------------------------------
// serde errors

/// Turns a serde-saphyr error into a diagnostic: our own wording, an exact
/// span, and a hint.
fn serde_diag(
    text: &Text<'_>,
    doc: &Doc<'_>,
    root: Option<&Node<'_>>,
    err: &serde_saphyr::Error,
    ctx: Context,
) -> Diagnostic {
    use serde_saphyr::Error as E;
    let err = inner(err);
    let base = doc.range.start;
    let mut span = err
        .location()
        .and_then(|loc| {
            let s = loc.span();
            let start = usize::try_from(s.byte_offset()?).ok()?;
            let len = usize::try_from(s.byte_len().unwrap_or(0)).unwrap_or(0);
            Some(base + start..base + start + len)
        })
        .unwrap_or(doc.start..doc.start);
    let at = root.map(|r| r.at(span.start));
    let path = at.as_ref().map_or("", |a| a.path.as_str());
    let is_key = at.as_ref().is_some_and(|a| a.value.is_some());
    // The mapping the error is about: the parent of a key, else the node.
    let container = if is_key {
        path.rsplit_once('.').map_or("", |(p, _)| p)
    } else {
        path
    };
    let inside = if container.is_empty() {
        String::new()
    } else {
        format!(" in `{container}`")
    };
    // A wrong value is shown at the value, even when serde stopped at its key.
    let mut value_span = || {
        if let Some(v) = at
            .as_ref()
            .and_then(|a| a.value)
            .filter(|v| !v.span.is_empty())
        {
            span = v.highlight();
        }
    };
    let found = at
        .as_ref()
        .map(|a| a.value.unwrap_or(a.node).describe())
        .unwrap_or_else(|| "something else".to_owned());
    let (message, hint): (String, Option<String>) = match err {
        E::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown field `{field}`{inside}"),
            Some(unknown_field_hint(field, expected, container, ctx)),
        ),
        E::SerdeMissingField { field, .. } => {
            // serde stops at the mapping's last key; point at the mapping's
            // own key (`advanced_settings:`) or, for a list item or the
            // document, at its first key.
            if let Some(node) = at.as_ref().and_then(|a| a.owner.or(a.map)) {
                span = node.highlight();
            }
            (
                format!("missing field `{field}`{inside}"),
                Some(missing_field_hint(field, ctx)),
            )
        }
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            value_span();
            let mut hint = format!("expected one of {}", list(expected));
            if let Some(near) = validate::did_you_mean(variant, expected.iter().copied()) {
                hint = format!("did you mean `{near}`? {hint}");
            }
            (
                format!("unknown value `{variant}`{}", for_path(path)),
                Some(hint),
            )
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => {
            value_span();
            (
                format!(
                    "expected {}, found {}{}",
                    expectation(expected),
                    sanitize(unexpected),
                    for_path(path)
                ),
                type_hint(expected, path, Some(unexpected)),
            )
        }
        E::InvalidBooleanStrict { .. } => {
            value_span();
            (
                format!(
                    "expected `true` or `false`, found {found}{}",
                    for_path(path)
                ),
                Some("only `true` and `false` are booleans here (not yes/no/on/off)".to_owned()),
            )
        }
        E::InvalidScalar { ty, .. } => {
            value_span();
            (
                format!(
                    "expected {}, found {found}{}",
                    expectation(ty),
                    for_path(path)
                ),
                type_hint(ty, path, None),
            )
        }
        E::NullIntoString { .. } => (
            format!("`{}` has no value", last_key(path)),
            Some("write a value; quote an empty string: `\"\"`".to_owned()),
        ),
        E::Unexpected { expected, .. } => {
            value_span();
            (
                format!(
                    "expected {}, found {found}{}",
                    expectation(expected),
                    for_path(path)
                ),
                type_hint(expected, path, None),
            )
        }
        E::DuplicateMappingKey { key, .. } => {
            let key_text = key.as_deref().map_or_else(|| "?".to_owned(), sanitize);
            let first = at
                .as_ref()
                .and_then(|a| a.map)
                .and_then(|m| {
                    m.entries()
                        .iter()
                        .find(|(k, _)| k.scalar() == key.as_deref() && k.span.start < span.start)
                })
                .map(|(k, _)| text.line_col(k.span.start).0);
            let hint = match first {
                Some(line) => {
                    format!("`{key_text}` is already set on line {line}: keep one of them")
                }
                None => "a key may appear once per mapping: keep one of them".to_owned(),
            };
            (format!("duplicate key `{key_text}`"), Some(hint))
        }
        E::Budget { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => (
            format!("the document is too large: {}", user_message(err)),
            Some("write the definition without deeply nested aliases".to_owned()),
        ),
        // Our own types' messages (a credential value's forms): say where.
        E::Message { msg, .. } => {
            let hint =
                (msg.contains("from_env") || msg.contains("keep")).then(|| VALUE_FORMS.to_owned());
            if path.is_empty() {
                (sanitize(msg), hint)
            } else {
                (format!("`{path}`: {}", sanitize(msg)), hint)
            }
        }
        other => (user_message(other), None),
    };
    text.diag(Severity::Error, span, message, hint)
        .with_code(diagnostics::Code::Schema)
}

/// The error under alias wrappers.
fn inner(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match err {
        serde_saphyr::Error::AliasError { error, .. } => inner(error),
        serde_saphyr::Error::WithSnippet { error, .. } => inner(error),
        other => other,
    }
}

fn user_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    sanitize(&serde_saphyr::UserMessageFormatter.format_message(err))
}

/// Messages may quote user text: keep them on one line.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn for_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" for `{path}`")
    }
}

fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// serde's and serde-saphyr's words for a type, as a user would say them.
fn expectation(expected: &str) -> String {
    let e = expected;
    if e.contains("sequence") {
        "a list".to_owned()
    } else if e.contains("mapping") || e.starts_with("struct") || e == "map" {
        "a mapping".to_owned()
    } else if e.contains("bool") {
        "`true` or `false`".to_owned()
    } else if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ]
    .iter()
    .any(|t| e == *t || e.ends_with(&format!(" {t}")))
    {
        "a whole number".to_owned()
    } else if e.contains("string") {
        "a string".to_owned()
    } else {
        e.to_owned()
    }
}

/// The forms of a parameter or input value.
const VALUE_FORMS: &str = "a value is a string, `{from_env: NAME}` or `{keep: true}`";

fn type_hint(expected: &str, path: &str, unexpected: Option<&str>) -> Option<String> {
    let key = last_key(path);
    let hint = match expectation(expected).as_str() {
        // A parameter or input value (`ParamValue`).
        _ if expected.contains("quote numbers") => {
            let scalar = unexpected.is_some_and(|u| {
                ["integer", "floating", "boolean"].iter().any(|t| u.contains(t))
            });
            if scalar {
                "quote it (`\"1.20\"`) so YAML keeps it as written".to_owned()
            } else {
                VALUE_FORMS.to_owned()
            }
        }
        "a list" if key == "installs" => {
            "installs is a list of `- name: go` / `version: 1.22.1` entries (the v4.2 docs' \"string\" is wrong)".to_owned()
        }
        "a list" => "write a list: `- item` lines, or `[a, b]`".to_owned(),
        "a mapping" if key == "docker_build_step" || key == "advanced_settings" => {
            format!("`{key}` is one mapping, not a list (the v4.2 docs' `[]` is wrong): remove the `- `")
        }
        "a mapping" => "write a mapping: `key: value` lines".to_owned(),
        "`true` or `false`" => "write `true` or `false` without quotes".to_owned(),
        "a whole number" => "write a whole number without quotes, units or leading zeros".to_owned(),
        "a string" => "write a string; quote it if YAML would read it as something else".to_owned(),
        _ => return None,
    };
    Some(hint)
}

fn unknown_field_hint(field: &str, expected: &[&str], container: &str, ctx: Context) -> String {
    let top = container.is_empty();
    if top && ctx == Context::Config && matches!(field, "token" | "api_token" | "zadig_token") {
        return "never put the token in a file: set ZADIG_TOKEN or use --token-file".to_owned();
    }
    if top && ctx == Context::Build && matches!(field, "template_name" | "target_services") {
        return "a build made from a template needs `kind: TemplateBuild`".to_owned();
    }
    if let (true, Context::Other(kind)) = (top, ctx)
        && let Some(hint) = kind
            .info()
            .foreign_fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, hint)| *hint)
    {
        return hint.to_owned();
    }
    if top && ctx != Context::Config && matches!(field, "projects" | "endpoint" | "max_deletes") {
        return format!(
            "this looks like {CONFIG_FILE}: only the one at the root of the directory is read as configuration"
        );
    }
    match validate::did_you_mean(field, expected.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("expected one of {}", list(expected)),
    }
}

fn missing_field_hint(field: &str, ctx: Context) -> String {
    match (ctx, field) {
        (_, "name") => "add `name: <build name>` (unique across all Zadig projects)".to_owned(),
        (Context::Config, "key") => "add `key: <project key>`".to_owned(),
        (_, "project_key") => "add `project_key: <project key>`, declared in zadig-sync.yaml".to_owned(),
        (_, "infrastructure") => "add `infrastructure: kubernetes` (or `vm`)".to_owned(),
        (_, "build_os") => "add `build_os: <basic image label>`, e.g. `ubuntu 20.04`".to_owned(),
        (_, "script_type") => "add `script_type: shell` (or `batch_file`, `powershell`)".to_owned(),
        (_, "template_name") => "add `template_name: <build template name>`".to_owned(),
        (_, "target_services") => {
            "add `target_services:` with at least one `- service_name: ...` / `service_module: ...`".to_owned()
        }
        (_, "cluster_name") => {
            "Zadig requires cluster_name whenever advanced_settings is present: add it, or remove advanced_settings to use the local cluster".to_owned()
        }
        (_, "dockerfile_source") => "add `dockerfile_source: local` (or `template`)".to_owned(),
        (_, field) => format!("add `{field}: ...`"),
    }
}

// ---------------------------------------------------------------------------
// zadig-sync.yaml

/// `zadig-sync.yaml` alone, by the rules [`load`] applies to it: the
/// configuration when it has no error, and every finding (for commands, like
/// `import`, that need the configuration but no definition).
pub fn load_config_file(file: &SourceFile) -> (Option<Config>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let config = load_config(file, &mut diags).filter(|_| !diags.iter().any(Diagnostic::is_error));
    (config, diags)
}

fn load_config(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    let src = decode(file, diags)?;
    let text = Text::new(&file.path, src);
    let (docs, errors) = parse_documents(src);
    if !errors.is_empty() {
        for e in errors {
            diags.push(syntax_diag(&text, e));
        }
        return None;
    }
    let mut docs = docs.iter().filter(|d| !d.root.is_null());
    let Some(doc) = docs.next() else {
        // An empty file: every setting has a default, but no project is managed.
        let config = Config::default();
        push_config_findings(&text, None, &config, diags);
        return Some(config);
    };
    if let Some(extra) = docs.next() {
        diags.push(text.diag(
            Severity::Error,
            extra.start..extra.start + 3,
            format!("{CONFIG_FILE} holds more than one document"),
            Some("remove the `---` and merge the documents".to_owned()),
        ));
        return None;
    }
    let root = &doc.root;
    if !matches!(root.kind, NodeKind::Map(..)) {
        diags.push(text.diag(
            Severity::Error,
            root.highlight(),
            format!("{CONFIG_FILE} must be a mapping, found {}", root.describe()),
            Some("write `projects:` and the other settings as `key: value` lines".to_owned()),
        ));
        return None;
    }
    match parse_doc::<Config>(&text, doc, root, Context::Config) {
        Ok(config) => {
            push_config_findings(&text, Some(root), &config, diags);
            Some(config)
        }
        Err(d) => {
            diags.push(*d);
            None
        }
    }
}

fn push_config_findings(
    text: &Text<'_>,
    root: Option<&Node<'_>>,
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) {
    let kind_findings = kinds::REGISTRY
        .iter()
        .filter_map(|k| k.config_section)
        .flat_map(|c| (c.check)(config));
    for f in validate::check_config(config)
        .into_iter()
        .chain(kind_findings)
    {
        diags.push(match root {
            Some(root) => finding_diag(text, root, f),
            None => Diagnostic {
                severity: f.severity,
                file: text.path.to_owned(),
                line: 1,
                column: 1,
                span: Some(0..0),
                message: f.message,
                hint: f.hint,
                code: diagnostics::Code::InvalidConfig,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Infrastructure, ParamValue};

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn config() -> SourceFile {
        file(CONFIG_FILE, "projects:\n  - key: demo\n  - key: platform\n")
    }

    fn load_texts(files: &[(&str, &str)]) -> LoadResult {
        let files: Vec<_> = files.iter().map(|(p, t)| file(p, t)).collect();
        load(Some(&config()), &files)
    }

    #[test]
    fn a_directory_of_alike_builds_packs_small_and_reads_back() {
        let texts: Vec<(String, String)> = (0..300)
            .map(|i| {
                (
                    format!("demo/api-{i}.yaml"),
                    API.replace("name: api", &format!("name: api-{i}")),
                )
            })
            .collect();
        let files: Vec<_> = texts.iter().map(|(p, t)| file(p, t)).collect();
        let r = load(Some(&config()), &files);
        assert_eq!(r.builds.len(), 300);
        let mut packed = 0;
        for (i, b) in r.builds.iter().enumerate() {
            let alone = load(Some(&config()), &files[i..=i]);
            assert_eq!(b.def.unpack(), alone.builds[0].def.unpack());
            assert_eq!(b.def.name(), format!("api-{i}"));
            packed += b.def.packed_len();
        }
        // Against the directory's dictionary, a fraction of the JSON.
        let json = serde_json::to_vec(&r.builds[0].def.unpack().to_value()).expect("JSON");
        assert!(
            packed / 300 * 4 < json.len(),
            "{} B each, JSON {} B",
            packed / 300,
            json.len()
        );
    }

    #[test]
    fn excluded_files_are_not_read_as_definitions() {
        let cfg = file(
            CONFIG_FILE,
            "projects:\n  - key: demo\nexclude: [\"ci/**\", \"k8s/*.yaml\"]\n",
        );
        let files = [
            file("api.yaml", API),
            file("ci/github/workflow.yml", "on: push\njobs: {}\n"),
            file("k8s/cronjob.yaml", "apiVersion: batch/v1\nkind: CronJob\n"),
            // `*` stays within one directory.
            file("k8s/deep/x.yaml", "kind: Nope\n"),
        ];
        let r = load(Some(&cfg), &files);
        let errors: Vec<&str> = r.errors().map(|d| d.file.as_str()).collect();
        assert_eq!(errors, ["k8s/deep/x.yaml"], "{:?}", lines(&r));
        assert_eq!(r.builds.len(), 1);
        assert_eq!(r.config.exclude, ["ci/**", "k8s/*.yaml"]);
        let bad = file(
            CONFIG_FILE,
            "projects:\n  - key: demo\nexclude: [\"a[\", \"\"]\n",
        );
        let r = load(Some(&bad), &[file("api.yaml", API)]);
        let msgs: Vec<String> = r.errors().map(|d| d.message.clone()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("invalid exclude pattern `a[`"))
                && msgs.iter().any(|m| m == "empty exclude pattern"),
            "{msgs:?}"
        );
    }

    /// `file:line:col: severity: message` of every diagnostic.
    fn lines(r: &LoadResult) -> Vec<String> {
        r.diagnostics
            .iter()
            .map(|d| format!("{}: {}: {}", d.location(), d.severity, d.message))
            .collect()
    }

    const API: &str = "\
# a comment
name: api
project_key: demo
infrastructure: kubernetes
build_os: ubuntu 20.04
installs:
  - name: go
    version: 1.20
script_type: shell
build_script: |
  cd $REPONAME_0 && make ${TARGET} GOFLAGS=\"$GOFLAGS\"
parameters:
  - key: MODE
    default_value: 0755
  - key: ON
    default_value: yes
";

    #[test]
    fn loads_a_build_and_keeps_scalars_as_written() {
        let r = load_texts(&[("demo/api.yaml", API)]);
        assert_eq!(lines(&r), Vec::<String>::new());
        assert_eq!(r.builds.len(), 1);
        let BuildDef::Build(b) = &r.builds[0].def.unpack() else {
            panic!("a plain build")
        };
        assert_eq!(b.kind, None);
        assert_eq!(b.infrastructure, Infrastructure::Kubernetes);
        // No float, no octal, no YAML 1.1 boolean, no interpolation.
        assert_eq!(b.installs[0].version, "1.20");
        assert_eq!(
            b.parameters[0].default_value,
            ParamValue::Literal("0755".into())
        );
        assert_eq!(
            b.parameters[1].default_value,
            ParamValue::Literal("yes".into())
        );
        assert_eq!(
            b.build_script,
            "cd $REPONAME_0 && make ${TARGET} GOFLAGS=\"$GOFLAGS\"\n"
        );
        assert_eq!(
            r.builds[0].origin,
            Origin {
                file: "demo/api.yaml".into(),
                line: 2,
                column: 7,
                document: 0
            }
        );
    }

    #[test]
    fn multiple_documents_each_load_and_report() {
        let text = "\
name: one
project_key: demo
infrastructure: vm
build_os: x
script_type: shell
---
# second: a typo stops only this document
name: two
project_key: demo
infrastructure: vm
build_os: x
script_type: shell
buld_script: oops
---
---
kind: TemplateBuild
name: three
project_key: nowhere
template_name: tpl
target_services:
  - service_name: s
    service_module: m
";
        let r = load_texts(&[("a.yaml", text)]);
        assert_eq!(
            lines(&r),
            [
                "a.yaml:13:1: error: unknown field `buld_script`",
                "a.yaml:18:14: error: project `nowhere` is not declared in zadig-sync.yaml",
            ]
        );
        let names: Vec<_> = r.builds.iter().map(|b| b.def.name()).collect();
        assert_eq!(names, ["one", "three"]);
        // Empty documents count: `three` is the fourth.
        assert_eq!(r.builds[1].origin.document, 3);
        assert_eq!(r.builds[1].def.kind(), Kind::TemplateBuild);
        let BuildDef::Template(t) = &r.builds[1].def.unpack() else {
            panic!("a template build")
        };
        assert_eq!(t.kind, None);
        assert!(r.has_errors());
        assert_eq!(r.errors().count(), 2);
        assert_eq!(r.warnings().count(), 0);
    }

    #[test]
    fn syntax_errors_are_reported_and_the_next_document_still_loads() {
        let text = "name: [broken\n---\nname: ok\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n";
        let r = load_texts(&[("a.yaml", text)]);
        assert_eq!(
            lines(&r),
            ["a.yaml:1:7: error: invalid YAML: unclosed bracket '['"]
        );
        assert_eq!(r.builds.len(), 1);
        assert_eq!(r.builds[0].origin.line, 3);
    }

    #[test]
    fn positions_count_characters_and_survive_crlf_and_a_bom() {
        let text = "\u{feff}name: \"é/x\"\r\nproject_key: demo\r\ninfrastructure: vm\r\nbuild_os: x\r\nscript_type: shell\r\n";
        let r = load_texts(&[("a.yaml", text)]);
        assert_eq!(
            lines(&r),
            ["a.yaml:1:7: error: build name `é/x` contains `/`"]
        );
        let d = &r.diagnostics[0];
        let span = d.span.clone().expect("a span");
        assert_eq!(&text[span], "\"é/x\"");
        let text = "name: ok\r\nproject_key: demo\r\nlables: 1\r\n";
        let r = load_texts(&[("b.yaml", text)]);
        assert_eq!(r.diagnostics[0].location(), "b.yaml:3:1");
    }

    #[test]
    fn kind_can_come_from_a_merge_key() {
        let text = "<<: {kind: TemplateBuild, project_key: demo}\nname: t\ntemplate_name: tpl\ntarget_services: [{service_name: s, service_module: m}]\n";
        let r = load_texts(&[("a.yaml", text)]);
        assert_eq!(lines(&r), Vec::<String>::new());
        assert_eq!(r.builds[0].def.kind(), Kind::TemplateBuild);
        assert_eq!(r.builds[0].def.project_key(), "demo");
    }

    #[test]
    fn build_names_are_unique_across_files_and_projects() {
        let a =
            "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n";
        let b = a.replace("demo", "platform");
        let r = load_texts(&[("a.yaml", a), ("b/b.yaml", &b)]);
        assert_eq!(
            lines(&r),
            ["b/b.yaml:1:7: error: build `api` is defined twice (first at a.yaml:1:7)"]
        );
        assert_eq!(r.diagnostics[0].span, Some(6..9));
        // Both stay loaded: the error is the caller's reason to stop.
        assert_eq!(r.builds.len(), 2);
    }

    #[test]
    fn large_directories_load_in_file_order_and_check_names_across_runs() {
        // Enough files for several threads: results must not depend on them.
        let files: Vec<SourceFile> = (0..1500)
            .map(|i| {
                // The last file repeats the first name: a cross-run duplicate.
                let name = if i == 1499 { 0 } else { i };
                let typo = if i % 500 == 7 { "buld_os: x\n" } else { "" };
                file(
                    &format!("f{i:04}.yaml"),
                    &format!("name: b{name}\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n{typo}"),
                )
            })
            .collect();
        let r = load(Some(&config()), &files);
        let names: Vec<&str> = r.builds.iter().map(|b| b.def.name()).collect();
        let expected: Vec<String> = (0..1500)
            .filter(|i| i % 500 != 7)
            .map(|i| format!("b{}", if i == 1499 { 0 } else { i }))
            .collect();
        assert_eq!(names, expected);
        assert_eq!(
            lines(&r),
            [
                "f0007.yaml:6:1: error: unknown field `buld_os`",
                "f0507.yaml:6:1: error: unknown field `buld_os`",
                "f1007.yaml:6:1: error: unknown field `buld_os`",
                "f1499.yaml:1:7: error: build `b0` is defined twice (first at f0000.yaml:1:7)",
            ]
        );
    }

    #[test]
    fn a_missing_or_broken_config_is_an_error_but_files_are_still_checked() {
        let api = file(
            "a.yaml",
            "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shel\n",
        );
        let r = load(None, std::slice::from_ref(&api));
        assert_eq!(
            lines(&r),
            [
                "a.yaml:5:14: error: unknown value `shel` for `script_type`",
                "zadig-sync.yaml: error: no zadig-sync.yaml in the directory",
            ]
        );
        let yml = file("zadig-sync.yml", "projects: []\n");
        let r = load(None, &[yml]);
        assert_eq!(r.diagnostics.len(), 2, "{:?}", lines(&r));
        assert_eq!(
            r.diagnostics[1].hint.as_deref(),
            Some("rename zadig-sync.yml to zadig-sync.yaml")
        );
        // A broken config: its error, and no "undeclared project" noise.
        let bad = file(CONFIG_FILE, "projects: {demo: 1}\n");
        let ok = file(
            "a.yaml",
            "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\n",
        );
        let r = load(Some(&bad), &[ok]);
        assert_eq!(
            lines(&r),
            ["zadig-sync.yaml:1:11: error: expected a list, found a mapping for `projects`"]
        );
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let r = load(Some(&config()), &[]);
        assert_eq!(lines(&r), [": error: no definition files in the directory"]);
        assert_eq!((r.diagnostics[0].line, r.diagnostics[0].column), (0, 0));
        let r = load_texts(&[("a.yaml", "# nothing\n---\n~\n")]);
        assert_eq!(
            lines(&r),
            [
                ": error: no build definitions in the directory",
                "a.yaml:1:1: warning: the file defines no builds",
            ]
        );
    }

    #[test]
    fn an_empty_config_is_valid_but_manages_nothing() {
        let r = load(
            Some(&file(CONFIG_FILE, "# nothing yet\n")),
            &[file("a.yaml", API)],
        );
        assert_eq!(
            lines(&r),
            [
                "a.yaml:3:14: error: project `demo` is not declared in zadig-sync.yaml",
                "zadig-sync.yaml:1:1: warning: no projects are declared",
            ]
        );
        assert_eq!(r.config, Config::default());
    }

    #[test]
    fn not_utf8_is_located() {
        let mut bytes = b"name: api\nbuild_script: caf".to_vec();
        bytes.push(0xe9);
        let f = SourceFile {
            path: "a.yaml".into(),
            bytes,
        };
        let r = load(Some(&config()), &[f]);
        assert_eq!(
            lines(&r),
            [
                ": error: no build definitions in the directory",
                "a.yaml:2:18: error: the file is not valid UTF-8"
            ]
            .map(String::from)
            .into_iter()
            .filter(|l| !l.starts_with(':'))
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn semantic_findings_point_at_the_offending_value() {
        let text = "name: api\nproject_key: demo\ninfrastructure: vm\nbuild_os: x\nscript_type: shell\nparameters:\n  - key: TOKEN\n    is_credential: true\n    default_value: hunter2\n  - {key: bad-key}\n";
        let r = load_texts(&[("a.yaml", text)]);
        assert_eq!(
            lines(&r),
            [
                "a.yaml:9:20: warning: credential `TOKEN` is written in the file",
                "a.yaml:10:11: error: parameter key `bad-key` is not a valid variable name",
            ]
        );
        let spans: Vec<_> = r
            .diagnostics
            .iter()
            .map(|d| &text[d.span.clone().expect("span")])
            .collect();
        assert_eq!(spans, ["hunter2", "bad-key"]);
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_crash() {
        let deep = format!("name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let r = load_texts(&[("a.yaml", &deep)]);
        assert!(r.has_errors());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        let r = load_texts(&[("b.yaml", bomb)]);
        assert!(r.has_errors());
    }

    mod props {
        use super::*;
        use crate::core::model::{
            AdvancedSettings, BuildSpec, CacheSetting, DockerBuildStep, DockerfileSource, Input,
            Install, KeyValue, ParamType, Parameter, RepoInfo, ResourceSpec, ScriptType,
            ServiceModule, StorageProperty, Storages, TargetService,
        };
        use proptest::prelude::*;

        /// Strings YAML likes to reinterpret, plus arbitrary printable text.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                prop::sample::select(vec![
                    "yes",
                    "No",
                    "on",
                    "off",
                    "true",
                    "~",
                    "null",
                    "0755",
                    "1.20",
                    "1e3",
                    "0x1F",
                    ".inf",
                    "-",
                    "- x",
                    "a: b",
                    "#c",
                    "a #c",
                    "'q'",
                    "\"dq\"",
                    "$VAR ${X}",
                    "é ü 中",
                    " lead",
                    "trail ",
                    "multi\nline\n",
                    "no newline\nat end",
                    "tab\there",
                    "---",
                    "...",
                    "*a",
                    "&a",
                    "!tag",
                    "@x",
                    "`x`",
                    "%x",
                    "{a}",
                    "[a]",
                    ">",
                    "|",
                    "\\",
                    "\u{feff}x",
                ])
                .prop_map(str::to_owned),
                "\\PC{0,12}",
                "[ -~]{0,12}",
            ]
        }

        fn value() -> impl Strategy<Value = ParamValue> {
            prop_oneof![
                text().prop_map(ParamValue::Literal),
                "[A-Z_][A-Z0-9_]{0,8}".prop_map(ParamValue::FromEnv),
                Just(ParamValue::Keep),
            ]
        }

        fn param_type() -> impl Strategy<Value = ParamType> {
            prop::sample::select(vec![
                ParamType::String,
                ParamType::Choice,
                ParamType::MultiSelect,
                ParamType::Image,
                ParamType::Script,
                ParamType::File,
            ])
        }

        fn repo() -> impl Strategy<Value = RepoInfo> {
            (
                text(),
                text(),
                text(),
                text(),
                any::<bool>(),
                any::<i64>(),
                prop::collection::vec(any::<i64>(), 0..3),
            )
                .prop_map(
                    |(codehost_name, repo_namespace, repo_name, branch, submodules, pr, prs)| {
                        RepoInfo {
                            codehost_name,
                            repo_namespace,
                            repo_name,
                            branch,
                            remote_name: "origin".into(),
                            submodules,
                            pr,
                            prs,
                            ..RepoInfo::default()
                        }
                    },
                )
        }

        fn parameter() -> impl Strategy<Value = Parameter> {
            (
                text(),
                param_type(),
                value(),
                prop::collection::vec(text(), 0..3),
                any::<bool>(),
                text(),
            )
                .prop_map(
                    |(key, param_type, default_value, choices, is_credential, description)| {
                        Parameter {
                            key,
                            param_type,
                            default_value,
                            choice_option: choices.clone(),
                            choice_value: choices,
                            is_credential,
                            description,
                        }
                    },
                )
        }

        fn advanced() -> impl Strategy<Value = AdvancedSettings> {
            (
                text(),
                any::<i64>(),
                any::<(i64, i64, i64, i64)>(),
                any::<bool>(),
                text(),
                text(),
            )
                .prop_map(|(cluster_name, timeout, (a, b, c, d), flag, s, key)| {
                    AdvancedSettings {
                        timeout,
                        cluster_name,
                        strategy_name: s.clone(),
                        resource_spec: ResourceSpec {
                            cpu_limit: a,
                            memory_limit: b,
                            cpu_req: c,
                            memory_req: d,
                            gpu_limit: s.clone(),
                        },
                        cache_setting: CacheSetting {
                            enabled: flag,
                            cache_dir: s.clone(),
                            dir_type: None,
                        },
                        storages: Storages {
                            enabled: flag,
                            storages_properties: vec![StorageProperty {
                                provision_type: s.clone(),
                                storage_size_in_gib: a,
                                mount_path: s.clone(),
                                is_temporary: flag,
                                ..StorageProperty::default()
                            }],
                        },
                        use_host_docker_daemon: flag,
                        privileged_mode: !flag,
                        custom_annotations: vec![KeyValue {
                            key: key.clone(),
                            value: s.clone(),
                        }],
                        custom_labels: vec![],
                        outputs: vec![key, s],
                    }
                })
        }

        fn plain() -> impl Strategy<Value = BuildSpec> {
            (
                (text(), text(), any::<bool>(), text(), text()),
                prop::collection::vec((text(), text()), 0..3),
                prop::collection::vec(repo(), 0..2),
                prop::collection::vec(parameter(), 0..3),
                prop::option::of((any::<bool>(), text(), any::<bool>())),
                prop::option::of(advanced()),
                prop::sample::select(vec![
                    ScriptType::Shell,
                    ScriptType::BatchFile,
                    ScriptType::Powershell,
                ]),
            )
                .prop_map(
                    |(
                        (name, project_key, vm, build_os, build_script),
                        installs,
                        repo_info,
                        parameters,
                        docker,
                        advanced_settings,
                        script_type,
                    )| BuildSpec {
                        kind: None,
                        name,
                        project_key,
                        infrastructure: if vm {
                            Infrastructure::Vm
                        } else {
                            Infrastructure::Kubernetes
                        },
                        build_os,
                        installs: installs
                            .into_iter()
                            .map(|(name, version)| Install { name, version })
                            .collect(),
                        script_type,
                        build_script,
                        repo_info,
                        parameters,
                        services: vec![ServiceModule {
                            service_name: "s".into(),
                            service_module: "m".into(),
                        }],
                        docker_build_step: docker.map(|(local, path, buildkit)| DockerBuildStep {
                            dockerfile_source: if local {
                                DockerfileSource::Local
                            } else {
                                DockerfileSource::Template
                            },
                            build_context_dir: path.clone(),
                            dockerfile_directory: path.clone(),
                            template_name: path.clone(),
                            build_args: path.clone(),
                            enable_buildkit: buildkit,
                            platforms: path,
                        }),
                        advanced_settings,
                    },
                )
        }

        fn template() -> impl Strategy<Value = TemplateBuildSpec> {
            (
                text(),
                text(),
                prop::collection::vec(
                    (
                        text(),
                        text(),
                        prop::collection::vec(repo(), 0..2),
                        prop::collection::vec(
                            (
                                text(),
                                value(),
                                prop::option::of(param_type()),
                                any::<bool>(),
                            ),
                            0..3,
                        ),
                    ),
                    0..3,
                ),
            )
                .prop_map(|(name, template_name, targets)| TemplateBuildSpec {
                    kind: None,
                    name,
                    project_key: "demo".into(),
                    template_name,
                    target_services: targets
                        .into_iter()
                        .map(
                            |(service_name, service_module, repo_info, inputs)| TargetService {
                                service_name,
                                service_module,
                                repo_info,
                                inputs: inputs
                                    .into_iter()
                                    .map(|(key, value, input_type, is_credential)| Input {
                                        key,
                                        value,
                                        input_type,
                                        is_credential,
                                    })
                                    .collect(),
                            },
                        )
                        .collect(),
                })
        }

        fn to_yaml(def: &BuildDef) -> String {
            match def {
                BuildDef::Build(b) => serde_saphyr::to_string(b).expect("serialises"),
                BuildDef::Template(t) => format!(
                    "kind: TemplateBuild\n{}",
                    serde_saphyr::to_string(t).expect("serialises")
                ),
            }
        }

        fn round_trip(def: BuildDef) -> Result<(), TestCaseError> {
            let yaml = to_yaml(&def);
            fast::agree(&yaml);
            let r = load(Some(&config()), &[file("a.yaml", &yaml)]);
            // Semantic findings do not matter here; loading does.
            // (Through the packed form: it must read back exactly.)
            let loaded: Vec<_> = r.builds.iter().map(|b| b.def.unpack()).collect();
            prop_assert_eq!(loaded, vec![def], "{}\n{:#?}", yaml, r.diagnostics);
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
                let f = SourceFile { path: "a.yaml".into(), bytes: bytes.clone() };
                let c = SourceFile { path: CONFIG_FILE.into(), bytes };
                let _ = load(Some(&c), &[f]);
            }

            #[test]
            fn yaml_like_text_never_panics(
                parts in prop::collection::vec(prop::sample::select(vec![
                    "name", "kind", "TemplateBuild", "parameters", "advanced_settings", "key", ":",
                    " ", "\n", "  ", "- ", "---\n", "...\n", "[", "]", "{", "}", ",", "&a ", "*a",
                    "<<: ", "\"", "'", "#", "|", ">", "!!str ", "~", "é", "\t", "\r\n", "\u{feff}",
                ]), 0..80)
            ) {
                let text: String = parts.concat();
                fast::agree(&text);
                let _ = load(Some(&config()), &[file("a.yaml", &text)]);
                let _ = load(Some(&file(CONFIG_FILE, &text)), &[file("a.yaml", API)]);
            }

            #[test]
            fn plain_builds_survive_a_yaml_round_trip(b in plain()) {
                round_trip(BuildDef::Build(b))?;
            }

            #[test]
            fn template_builds_survive_a_yaml_round_trip(t in template()) {
                round_trip(BuildDef::Template(t))?;
            }

            /// The tree pass reads what serde-saphyr reads, also where a
            /// value turns into something YAML reinterprets.
            #[test]
            fn the_tree_pass_agrees_with_serde_saphyr_on_mutated_documents(
                b in plain(),
                t in template(),
                edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![
                    "~", "", "null", "\"\"", "true", "False", "yes", "0", "0755", "-1", "+1",
                    "1.5", ".inf", "1e3", "0x10", "x", "'x'", "[]", "[x, 1]", "{}", "{from_env: X}",
                    "{keep: true}", "{keep: false}", "!!str 1", "!!int 1", "&a x", "*a", "|\n  x",
                    "<<: {}", "é", "x: y", "- x",
                ])), 1..4),
            ) {
                for def in [BuildDef::Build(b), BuildDef::Template(t)] {
                    let yaml = to_yaml(&def);
                    let mut lines: Vec<String> = yaml.lines().map(str::to_owned).collect();
                    for (at, value) in &edits {
                        let n = at.index(lines.len());
                        let line = &mut lines[n];
                        if let Some(colon) = line.find(": ") {
                            line.truncate(colon + 2);
                            line.push_str(value);
                        } else {
                            line.push_str(value);
                        }
                    }
                    fast::agree(&(lines.join("\n") + "\n"));
                }
            }
        }
    }
}
