//! The typed pass over the span tree, so that a file is parsed once.
//!
//! [`from_tree`] deserialises a document's [`Node`] tree (built by the event
//! pass for locating errors anyway) straight into the model's types. It takes
//! only the plain road: untagged, alias-free documents whose every scalar
//! means exactly one thing. Anything else, and every error, answers `None`,
//! and the caller parses the document's text with serde-saphyr as before,
//! which then decides the value or the error. So a diagnostic is always
//! serde-saphyr's, byte for byte, and a value read here is the value
//! serde-saphyr reads (the tests in `super::tests` compare the two on the
//! corpus and on generated documents).
//!
//! The scalar rules follow serde-saphyr 2.2's `Deserializer` with the options
//! of `super::options()` (`strict_booleans`, `leading_zero_numbers_as_strings`):
//! - a string target takes any scalar's text, except a plain null (`~`,
//!   `null`, empty), which serde-saphyr rejects;
//! - `bool` takes plain `true`/`True`/`TRUE`/`false`/`False`/`FALSE`;
//! - integers take plain decimals without a sign `+` or a leading zero;
//! - `Option` is `None` for a plain null;
//! - an untyped target (`ParamValue`) takes quoted and block scalars as text,
//!   and plain ones only when they cannot be a null, a boolean or a number.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::{Node, NodeKind};

/// Deeper documents go the slow road (serde-saphyr's own depth budget is 64).
pub(super) const MAX_DEPTH: usize = 32;
/// Larger documents go the slow road (serde-saphyr's event budget is 1,000,000).
pub(super) const MAX_NODES: usize = 100_000;
/// Larger documents go the slow road (far below serde-saphyr's byte budgets).
pub(super) const MAX_BYTES: usize = 4 << 20;

/// The document's value, or `None` when serde-saphyr must decide.
pub(super) fn from_tree<T: DeserializeOwned>(root: &Node<'_>) -> Option<T> {
    T::deserialize(NodeDe(root)).ok()
}

/// "Not on the plain road": the only error, never shown to anyone.
#[derive(Debug)]
pub(super) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a plain document")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

/// Plain-style null spellings (serde-saphyr's `scalar_is_nullish`).
fn nullish(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.2 core booleans (serde-saphyr's `parse_yaml12_bool`).
fn boolean(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A plain scalar an untyped target would not read as text: a null, a
/// boolean, or anything that starts like a number (`1`, `-1`, `.5`, `.inf`).
fn maybe_typed(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    nullish(s)
        || boolean(s).is_some()
        || unsigned
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
}

/// `0`, or digits without a leading zero, optionally after `-`.
fn decimal(s: &str, signed: bool) -> bool {
    let digits = match s.strip_prefix('-') {
        Some(rest) if signed => rest,
        Some(_) => return false,
        None => s,
    };
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// A mapping key as definitions write them: a plain word.
fn plain_key<'t>(node: &'t Node<'_>) -> Option<&'t str> {
    match &node.kind {
        NodeKind::Scalar {
            value,
            plain: true,
            tagged: false,
        } if value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && !nullish(value)
            && boolean(value).is_none() =>
        {
            Some(value)
        }
        _ => None,
    }
}

struct NodeDe<'t, 'a>(&'t Node<'a>);

impl<'t, 'a> NodeDe<'t, 'a> {
    /// The text of an untagged scalar.
    fn scalar(&self) -> Result<(&'t str, bool), Bail> {
        match &self.0.kind {
            NodeKind::Scalar {
                value,
                plain,
                tagged: false,
            } => Ok((value, *plain)),
            _ => Err(Bail),
        }
    }

    /// The text of a plain scalar.
    fn plain(&self) -> Result<&'t str, Bail> {
        match self.scalar()? {
            (s, true) => Ok(s),
            _ => Err(Bail),
        }
    }

    /// The text a string target reads.
    fn text(&self) -> Result<&'t str, Bail> {
        match self.scalar()? {
            (s, true) if nullish(s) => Err(Bail),
            (s, _) => Ok(s),
        }
    }

    fn int<N: std::str::FromStr>(&self, signed: bool) -> Result<N, Bail> {
        let s = self.plain()?;
        if !decimal(s, signed) {
            return Err(Bail);
        }
        s.parse().map_err(|_| Bail)
    }
}

macro_rules! ints {
    ($($method:ident $visit:ident $ty:ty, $signed:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
            visitor.$visit(self.int::<$ty>($signed)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match &self.0.kind {
            NodeKind::Scalar {
                value,
                plain: false,
                tagged: false,
            } => visitor.visit_str(value),
            NodeKind::Scalar {
                value,
                plain: true,
                tagged: false,
            } if !maybe_typed(value) => visitor.visit_str(value),
            NodeKind::Seq(..) => self.deserialize_seq(visitor),
            NodeKind::Map(..) => self.deserialize_map(visitor),
            _ => Err(Bail),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_bool(boolean(self.plain()?).ok_or(Bail)?)
    }

    ints! {
        deserialize_i8 visit_i8 i8, true;
        deserialize_i16 visit_i16 i16, true;
        deserialize_i32 visit_i32 i32, true;
        deserialize_i64 visit_i64 i64, true;
        deserialize_u8 visit_u8 u8, false;
        deserialize_u16 visit_u16 u16, false;
        deserialize_u32 visit_u32 u32, false;
        deserialize_u64 visit_u64 u64, false;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_str(self.text()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_str(self.text()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match &self.0.kind {
            NodeKind::Scalar { tagged: true, .. } | NodeKind::Alias => Err(Bail),
            NodeKind::Scalar {
                value, plain: true, ..
            } if nullish(value) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match &self.0.kind {
            NodeKind::Seq(items, _) => {
                let mut seq = Items(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                // A visitor that stops early would leave items unread.
                match seq.0.next() {
                    None => Ok(value),
                    Some(_) => Err(Bail),
                }
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        match &self.0.kind {
            NodeKind::Map(entries, _) => {
                // Keys are plain words, each once (duplicates are serde-saphyr's
                // to report).
                for (i, (k, _)) in entries.iter().enumerate() {
                    let key = plain_key(k).ok_or(Bail)?;
                    if entries[..i]
                        .iter()
                        .any(|(earlier, _)| earlier.scalar() == Some(key))
                    {
                        return Err(Bail);
                    }
                }
                let mut map = Entries {
                    entries: entries.iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.entries.next() {
                    None => Ok(value),
                    Some(_) => Err(Bail),
                }
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        let s = self.plain()?;
        if nullish(s) {
            return Err(Bail);
        }
        visitor.visit_enum(IntoDeserializer::<Bail>::into_deserializer(s))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_str(plain_key(self.0).ok_or(Bail)?)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        // Every definition type denies unknown fields; ignoring is
        // serde-saphyr's business.
        Err(Bail)
    }
}

struct Items<'t, 'a>(std::slice::Iter<'t, Node<'a>>);

impl<'de> de::SeqAccess<'de> for Items<'_, '_> {
    type Error = Bail;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Bail> {
        match self.0.next() {
            Some(item) => seed.deserialize(NodeDe(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'t, 'a> {
    entries: std::slice::Iter<'t, (Node<'a>, Node<'a>)>,
    value: Option<&'t Node<'a>>,
}

impl<'de> de::MapAccess<'de> for Entries<'_, '_> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(KeyDe(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Bail> {
        seed.deserialize(NodeDe(self.value.take().ok_or(Bail)?))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A mapping key: a plain word (checked by `deserialize_map`), read as text
/// whatever the target asks.
struct KeyDe<'t, 'a>(&'t Node<'a>);

impl<'de> de::Deserializer<'de> for KeyDe<'_, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_str(plain_key(self.0).ok_or(Bail)?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    serde::forward_to_deserialize_any! {
        str string identifier
    }

    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        newtype_struct seq tuple tuple_struct map struct ignored_any
    }
}

/// Checks, for every document of `text` the tree pass may read, that where it
/// answers serde-saphyr reads the same value; returns how many answers.
#[cfg(test)]
pub(super) fn agree(text: &str) -> usize {
    use crate::core::model::{BuildSpec, Config, TemplateBuildSpec};

    fn same<T: DeserializeOwned + PartialEq + fmt::Debug>(root: &Node<'_>, src: &str) -> bool {
        let Some(fast) = from_tree::<T>(root) else {
            return false;
        };
        match serde_saphyr::from_str_with_options::<T>(src, super::options()) {
            Ok(slow) => assert_eq!(
                fast, slow,
                "the tree pass and serde-saphyr differ on:\n{src}"
            ),
            Err(e) => panic!("the tree pass read a value where serde-saphyr says `{e}`:\n{src}"),
        }
        true
    }

    let (docs, _) = super::parse_documents(text);
    let mut answered = 0;
    for doc in docs.iter().filter(|d| d.simple) {
        let src = &text[doc.range.clone()];
        answered += usize::from(same::<BuildSpec>(&doc.root, src));
        answered += usize::from(same::<TemplateBuildSpec>(&doc.root, src));
        answered += usize::from(same::<Config>(&doc.root, src));
    }
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every YAML file of the repository: examples, test corpus, fuzz seeds.
    fn corpus() -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((path, text));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["examples", "tests/corpus", "fuzz/seeds", "fuzz/regressions"] {
            walk(&root.join(dir), &mut out);
        }
        out.retain(|(p, _)| {
            p.extension()
                .is_none_or(|e| e == "yaml" || e == "yml" || e == "txt")
        });
        out.sort();
        out
    }

    #[test]
    fn the_tree_pass_agrees_with_serde_saphyr_on_the_corpus() {
        let files = corpus();
        assert!(files.len() > 50, "{} files", files.len());
        let answered: usize = files.iter().map(|(_, text)| agree(text)).sum();
        // Not vacuous: most definitions of the corpus take the tree pass.
        assert!(answered > 60, "{answered} answers");
    }

    #[test]
    fn scalars_read_as_serde_saphyr_reads_them() {
        let head = "name: a\nproject_key: p\ninfrastructure: kubernetes\nbuild_os: x\nscript_type: shell\n";
        for value in [
            "x",
            "\"x\"",
            "'x'",
            "~",
            "null",
            "\"\"",
            "''",
            "",
            "true",
            "True",
            "yes",
            "0755",
            "12",
            "-3",
            "+3",
            "1.5",
            ".inf",
            "-.5",
            "0x1f",
            "1_000",
            "é",
            "|\n  a\n  b",
            ">\n  a\n  b",
            "[a]",
            "{a: b}",
            "!!str x",
            "&a x",
            "a #c",
            "\"a\\tb\"",
            "null x",
            "-",
            "- a",
        ] {
            for key in [
                "build_script",
                "installs",
                "advanced_settings",
                "parameters",
            ] {
                agree(&format!("{head}{key}: {value}\n"));
            }
            let params = format!(
                "{head}parameters:\n  - key: K\n    default_value: {value}\n    is_credential: {value}\nadvanced_settings:\n  timeout: {value}\n  resource_spec: {{cpu_limit: {value}}}\n"
            );
            agree(&params);
            agree(&format!("{head}infrastructure: {value}\n"));
            agree(&format!("{head}kind: {value}\n"));
        }
        // The common case is read here, not by serde-saphyr.
        assert_eq!(
            agree(&format!(
                "{head}parameters:\n  - key: K\n    default_value: -mod=vendor\n  - key: T\n    is_credential: true\n    default_value: {{from_env: T}}\nadvanced_settings:\n  timeout: 60\n  cluster_name: c\n"
            )),
            1
        );
    }

    #[test]
    fn keys_that_are_not_plain_words_go_the_slow_road() {
        let doc = "name: a\nproject_key: p\ninfrastructure: kubernetes\nbuild_os: x\nscript_type: shell\n";
        assert_eq!(agree(doc), 1);
        for extra in [
            "\"name\": b\n",
            "name: b\n",
            "<<: {name: b}\n",
            "? name\n: b\n",
            "1: b\n",
        ] {
            assert_eq!(agree(&format!("{doc}{extra}")), 0, "{extra}");
        }
    }
}
