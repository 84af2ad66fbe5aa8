//! Definitions held packed between loading and planning (issue 13).
//!
//! A plan of 50,000 builds keeps every definition from the moment its file is
//! read until its live build has been compared. As typed structs they took
//! about 2.5 KB each, in some forty allocations: most of the run's memory.
//! Packed, a definition is its compact JSON (serde's own form of the spec
//! type, which reads back exactly), compressed with zstd against a dictionary
//! of sample definitions of the same directory ([`Codec::for_fleet`], made
//! before the directory is loaded: [`super::load::Loader::pack_like`]).
//! Definitions kept in git are alike (one team's builds differ in names,
//! repositories and scripts), so each takes a few dozen to a few hundred
//! bytes. (zstd without a dictionary costs three times as much per
//! definition and saves only half; with no samples, the JSON is kept as
//! text.) A plan unpacks a definition when it resolves its `{from_env}`
//! values and once more when its live build is compared.
//!
//! Pure: the compression contexts are per thread and hold no data between
//! calls.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, LazyLock};

use zstd_safe::{CCtx, CDict, DCtx, DDict};

use super::model::{BuildDef, BuildSpec, Kind, TemplateBuildSpec};

/// The compression level. Low levels lose little on small inputs with a
/// dictionary, and cost a fraction of the higher ones.
const LEVEL: i32 = 3;

/// The most sample text a fleet dictionary holds: zstd's window for inputs
/// this small, and a few dozen definitions.
const DICTIONARY_BYTES: usize = 64 * 1024;

/// How a set of packed definitions is held: as JSON text, or compressed by
/// zstd with a raw-content dictionary of sample definitions.
pub struct Codec {
    dictionary: Option<(CDict<'static>, DDict<'static>)>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("dictionary", &self.dictionary.is_some())
            .finish()
    }
}

static PLAIN: LazyLock<Arc<Codec>> = LazyLock::new(|| Arc::new(Codec { dictionary: None }));

thread_local! {
    // One context per thread, reused: creating one costs more than
    // compressing a definition.
    static CCTX: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
    // Scratch for a definition's JSON and its compressed form.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl Codec {
    /// The codec that keeps the JSON as it is (shared).
    pub fn plain() -> Arc<Codec> {
        Arc::clone(&PLAIN)
    }

    /// A codec whose dictionary is the JSON of `samples` (the caller spreads
    /// them over the whole set: one project's builds are alike, so samples
    /// from every part of a directory serve all of it), up to
    /// [`DICTIONARY_BYTES`]. The plain codec when there are none.
    pub fn for_fleet(samples: &[&PackedDef]) -> Arc<Codec> {
        if samples.is_empty() {
            return Codec::plain();
        }
        let mut text = Vec::with_capacity(DICTIONARY_BYTES);
        for d in samples {
            let json = d.json();
            // A sample that does not fit is left out; smaller ones may.
            if text.len() + json.len() <= DICTIONARY_BYTES {
                text.extend_from_slice(&json);
            }
        }
        if text.is_empty() {
            return Codec::plain();
        }
        // A raw-content dictionary must not begin with zstd's dictionary
        // magic number; JSON text begins with `{`.
        match (CDict::try_create(&text, LEVEL), DDict::try_create(&text)) {
            (Some(c), Some(d)) => Arc::new(Codec {
                dictionary: Some((c, d)),
            }),
            _ => Codec::plain(),
        }
    }

    /// Compresses `json` into `out`; false when there is no dictionary (or,
    /// which cannot happen with a buffer of the bound's size, it failed).
    fn compress(&self, json: &[u8], out: &mut Vec<u8>) -> bool {
        let Some((cdict, _)) = &self.dictionary else {
            return false;
        };
        out.clear();
        out.reserve(zstd_safe::compress_bound(json.len()));
        CCTX.with_borrow_mut(|cctx| cctx.compress_using_cdict(out, json, cdict))
            .is_ok()
    }

    fn decompress(&self, packed: &[u8], json_len: usize, out: &mut Vec<u8>) -> bool {
        let Some((_, ddict)) = &self.dictionary else {
            return false;
        };
        out.clear();
        out.reserve(json_len);
        DCTX.with_borrow_mut(|dctx| dctx.decompress_using_ddict(out, packed, ddict))
            .is_ok_and(|n| n == json_len)
    }
}

/// One definition, packed: its project and name as text, and the JSON of its
/// spec, compressed or not.
#[derive(Clone)]
pub struct PackedDef {
    /// The project key, then the name.
    key: Box<str>,
    project_len: u32,
    payload: Box<[u8]>,
    /// The JSON's length; `u32::MAX` marks a payload that is the JSON.
    json_len: u32,
    kind: Kind,
    codec: Arc<Codec>,
}

impl PackedDef {
    /// Packs `def` with `codec`: compressed with its dictionary, or else as
    /// JSON text.
    pub fn pack(def: &BuildDef, codec: &Arc<Codec>) -> PackedDef {
        SCRATCH.with_borrow_mut(|(json, zipped)| {
            json.clear();
            // Serialising plain data with string keys into memory cannot fail.
            let written = match def {
                BuildDef::Build(b) => serde_json::to_writer(&mut *json, b),
                BuildDef::Template(t) => serde_json::to_writer(&mut *json, t),
            };
            debug_assert!(written.is_ok());
            let small = json.len() < u32::MAX as usize;
            let (payload, json_len) = if small && codec.compress(json, zipped) {
                (&zipped[..], json.len() as u32)
            } else {
                (&json[..], u32::MAX)
            };
            let (project, name) = (def.project_key(), def.name());
            let mut key = String::with_capacity(project.len() + name.len());
            key.push_str(project);
            key.push_str(name);
            PackedDef {
                key: key.into_boxed_str(),
                project_len: project.len() as u32,
                payload: payload.into(),
                json_len,
                kind: def.kind(),
                codec: Arc::clone(codec),
            }
        })
    }

    /// Packs `def` with the codec this one was packed with (a resolved
    /// definition held by a change until `apply`, at a few hundred bytes).
    pub fn repack(&self, def: &BuildDef) -> PackedDef {
        PackedDef::pack(def, &self.codec)
    }

    /// Packs `def` as JSON text.
    pub fn new(def: &BuildDef) -> PackedDef {
        PackedDef::pack(def, &Codec::plain())
    }

    /// Project key.
    pub fn project_key(&self) -> &str {
        &self.key[..self.project_len as usize]
    }

    /// Build name.
    pub fn name(&self) -> &str {
        &self.key[self.project_len as usize..]
    }

    /// Document kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The definition's JSON.
    fn json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.json_into(&mut out);
        out
    }

    fn json_into(&self, out: &mut Vec<u8>) {
        if self.json_len == u32::MAX {
            out.clear();
            out.extend_from_slice(&self.payload);
        } else if !self
            .codec
            .decompress(&self.payload, self.json_len as usize, out)
        {
            out.clear();
        }
    }

    /// The definition.
    pub fn unpack(&self) -> BuildDef {
        SCRATCH.with_borrow_mut(|(json, _)| {
            self.json_into(json);
            // It reads back what serde wrote from the same type: the load's
            // round-trip property test covers every field.
            let def = match self.kind {
                Kind::Build => serde_json::from_slice::<BuildSpec>(json).map(BuildDef::Build),
                Kind::TemplateBuild => {
                    serde_json::from_slice::<TemplateBuildSpec>(json).map(BuildDef::Template)
                }
            };
            def.expect("a packed definition reads back: it was written from the same type")
        })
    }

    /// The packed size in bytes, for benchmarks and tests.
    pub fn packed_len(&self) -> usize {
        self.key.len() + self.payload.len()
    }
}

impl PartialEq for PackedDef {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.unpack() == other.unpack()
    }
}

impl fmt::Debug for PackedDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The definition itself may hold credential values.
        f.debug_struct("PackedDef")
            .field("kind", &self.kind)
            .field("project_key", &self.project_key())
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// The zstd level of [`ZippedText`]: the fastest, which on JSON of a few
/// kilobytes already takes it to a fifth.
const TEXT_LEVEL: i32 = 1;

/// Text held compressed (zstd, no dictionary): what a plan keeps per change
/// until `apply` (the preserving write's body, two to five kilobytes of
/// JSON) takes a fifth of the memory of the text (issue 13).
#[derive(Clone, PartialEq, Eq)]
pub struct ZippedText {
    payload: Box<[u8]>,
    /// The text's length; `None` marks a payload that is the text itself
    /// (compression failed, which a buffer of the bound's size rules out).
    len: Option<usize>,
}

impl ZippedText {
    /// `text`, compressed.
    pub fn new(text: &str) -> Self {
        SCRATCH.with_borrow_mut(|(_, zipped)| {
            zipped.clear();
            zipped.reserve(zstd_safe::compress_bound(text.len()));
            let done = CCTX.with_borrow_mut(|cctx| {
                // A context reused by `PackedDef::pack` may still hold its
                // dictionary: this text is compressed without one.
                let _ = cctx.reset(zstd_safe::ResetDirective::SessionAndParameters);
                cctx.compress(zipped, text.as_bytes(), TEXT_LEVEL)
            });
            match done {
                Ok(_) => ZippedText {
                    payload: zipped[..].into(),
                    len: Some(text.len()),
                },
                Err(_) => ZippedText {
                    payload: text.as_bytes().into(),
                    len: None,
                },
            }
        })
    }

    /// The text.
    pub fn text(&self) -> String {
        let Some(len) = self.len else {
            return String::from_utf8_lossy(&self.payload).into_owned();
        };
        let mut out = Vec::with_capacity(len);
        let done = DCTX.with_borrow_mut(|dctx| {
            let _ = dctx.reset(zstd_safe::ResetDirective::SessionAndParameters);
            dctx.decompress(&mut out, &self.payload)
        });
        // It decompresses what was compressed here, from valid UTF-8.
        debug_assert!(done.is_ok_and(|n| n == len));
        String::from_utf8(out).unwrap_or_default()
    }

    /// The compressed size in bytes, for tests.
    pub fn packed_len(&self) -> usize {
        self.payload.len()
    }
}

impl fmt::Debug for ZippedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text may hold credential values.
        f.debug_struct("ZippedText")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Infrastructure, ScriptType, TargetService};

    fn build(name: &str, script: &str) -> BuildDef {
        BuildDef::Build(BuildSpec {
            kind: None,
            name: name.into(),
            project_key: "demo".into(),
            infrastructure: Infrastructure::Kubernetes,
            build_os: "ubuntu 20.04".into(),
            installs: vec![],
            script_type: ScriptType::Shell,
            build_script: script.into(),
            repo_info: vec![],
            parameters: vec![],
            services: vec![],
            docker_build_step: None,
            advanced_settings: None,
        })
    }

    #[test]
    fn a_sample_too_large_for_the_dictionary_is_left_out() {
        let big = PackedDef::new(&build("big", &"x".repeat(DICTIONARY_BYTES + 1)));
        let small = PackedDef::new(&build("small", "make\n"));
        assert!(
            Codec::for_fleet(&[&big]).dictionary.is_none(),
            "nothing fits: plain"
        );
        let codec = Codec::for_fleet(&[&big, &small]);
        assert!(
            codec.dictionary.is_some(),
            "the smaller sample after it still counts"
        );
        let d = build("svc", "make\n");
        assert_eq!(PackedDef::pack(&d, &codec).unpack(), d);
    }

    #[test]
    fn reads_back_with_and_without_a_dictionary() {
        let defs: Vec<BuildDef> = (0..200)
            .map(|i| {
                build(
                    &format!("svc-{i:04}"),
                    &format!("make build SERVICE=svc-{i:04}\n"),
                )
            })
            .collect();
        let plain: Vec<PackedDef> = defs.iter().map(PackedDef::new).collect();
        for (p, d) in plain.iter().zip(&defs) {
            assert_eq!(&p.unpack(), d);
            assert_eq!((p.project_key(), p.name()), ("demo", d.name()));
        }
        let codec = Codec::for_fleet(&plain.iter().collect::<Vec<_>>());
        assert!(codec.dictionary.is_some());
        let fleet: Vec<PackedDef> = defs.iter().map(|d| PackedDef::pack(d, &codec)).collect();
        for (p, d) in fleet.iter().zip(&defs) {
            assert_eq!(&p.unpack(), d);
        }
        // Alike definitions pack small against the fleet's dictionary.
        let total = |v: &[PackedDef]| v.iter().map(PackedDef::packed_len).sum::<usize>();
        assert!(
            total(&fleet) * 2 < total(&plain),
            "{} vs {}",
            total(&fleet),
            total(&plain)
        );
    }

    #[test]
    fn template_builds_and_odd_text_read_back() {
        let t = BuildDef::Template(TemplateBuildSpec {
            kind: None,
            name: "ünï-\u{0}-名".into(),
            project_key: "p\"q".into(),
            template_name: "tpl".into(),
            target_services: vec![TargetService {
                service_name: "s".into(),
                service_module: "m".into(),
                repo_info: vec![],
                inputs: vec![],
            }],
        });
        let p = PackedDef::new(&t);
        assert_eq!(p.unpack(), t);
        assert_eq!(p.name(), "ünï-\u{0}-名");
        assert_eq!(p.project_key(), "p\"q");
        assert_eq!(p.kind(), Kind::TemplateBuild);
        assert_eq!(p, PackedDef::new(&t));
        assert!(!format!("{p:?}").contains("tpl"));
        // An empty set has no dictionary.
        assert!(Codec::for_fleet(&[]).dictionary.is_none());
    }
    #[test]
    fn zipped_text_reads_back_smaller() {
        let text = serde_json::json!({
            "name": "svc",
            "scripts": "make build\n".repeat(40),
            "repos": (0..20).map(|i| format!("repo-{i}")).collect::<Vec<_>>(),
        })
        .to_string();
        let z = ZippedText::new(&text);
        assert_eq!(z.text(), text);
        assert!(
            z.packed_len() * 3 < text.len(),
            "{} of {}",
            z.packed_len(),
            text.len()
        );
        assert_eq!(ZippedText::new("").text(), "");
        assert!(!format!("{z:?}").contains("repo-1"), "no content in Debug");
    }

    /// A codec with a dictionary of 50 alike builds.
    fn fleet_codec() -> Arc<Codec> {
        let plain: Vec<PackedDef> = (0..50)
            .map(|i| PackedDef::new(&build(&format!("svc-{i}"), "make\n")))
            .collect();
        let codec = Codec::for_fleet(&plain.iter().collect::<Vec<_>>());
        assert!(codec.dictionary.is_some());
        codec
    }

    #[test]
    fn zipped_text_after_a_dictionary_packing_needs_no_dictionary() {
        // The per-thread context is shared with `PackedDef::pack`: a text
        // compressed after it must read back on a fresh thread.
        let codec = fleet_codec();
        let _ = PackedDef::pack(&build("svc-x", "make\n"), &codec);
        let z = ZippedText::new("make build SERVICE=svc-x\n");
        let back = std::thread::spawn(move || z.text()).join().expect("joins");
        assert_eq!(back, "make build SERVICE=svc-x\n");
    }

    #[test]
    fn a_repacked_definition_keeps_the_codec() {
        let codec = fleet_codec();
        let first = PackedDef::pack(&build("svc-1", "make\n"), &codec);
        let changed = build("svc-1", "make all\n");
        let again = first.repack(&changed);
        assert_eq!(again.unpack(), changed);
        assert!(again.packed_len() < PackedDef::new(&changed).packed_len());
    }
}
