//! Diagnostics as text, compiler style (annotate-snippets, the renderer behind
//! rustc and cargo):
//!
//! ```text
//! error: unknown field `lables` in `advanced_settings`
//!  --> demo/api.yaml:12:3
//!    |
//! 12 |   lables:
//!    |   ^^^^^^
//!    |
//!    = help: did you mean `custom_labels`?
//! ```
//!
//! followed by a one-line summary.

use std::borrow::Cow;
use std::collections::HashMap;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::core::diagnostics::{Diagnostic, Severity};
use crate::core::load::SourceFile;

/// Where the renderer finds the text of a file named by a diagnostic.
pub trait Sources {
    /// The bytes of the file at `path` (as in [`Diagnostic::file`]).
    fn source(&self, path: &str) -> Option<&[u8]>;
}

impl Sources for [SourceFile] {
    fn source(&self, path: &str) -> Option<&[u8]> {
        self.iter()
            .find(|f| f.path == path)
            .map(|f| f.bytes.as_slice())
    }
}

impl Sources for Vec<SourceFile> {
    fn source(&self, path: &str) -> Option<&[u8]> {
        self.as_slice().source(path)
    }
}

impl Sources for HashMap<String, String> {
    fn source(&self, path: &str) -> Option<&[u8]> {
        self.get(path).map(|s| s.as_bytes())
    }
}

/// Renders every diagnostic, in the given order, then a summary line
/// (`error: 3 errors and 1 warning`). Empty when there is nothing to say.
/// Secrets in the source lines shown are masked (see [`render_masked`]).
pub fn render<S: Sources + ?Sized>(diags: &[Diagnostic], sources: &S, color: bool) -> String {
    render_masked(diags, sources, color, &[])
}

/// [`render`], also masking every occurrence of `secrets` (the literal
/// credential values the loader found) in the source lines shown. Always
/// masked as well: the value of a `token:`-like key (`token`, `password`,
/// `secret`, …), the value of a `default_value:`/`value:` whose mapping says
/// `is_credential: true`, and the `user:password@` of a URL. Masking keeps
/// every byte offset, so the carets stay in place.
///
/// Linear in the number of diagnostics: each file's text and line index are
/// made once, not once per diagnostic.
pub fn render_masked<S: Sources + ?Sized>(
    diags: &[Diagnostic],
    sources: &S,
    color: bool,
    secrets: &[String],
) -> String {
    if diags.is_empty() {
        return String::new();
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut files: HashMap<&str, Option<Indexed<'_>>> = HashMap::new();
    let mut out = String::new();
    for d in diags {
        let text = if d.file.is_empty() {
            None
        } else {
            files
                .entry(d.file.as_str())
                .or_insert_with(|| sources.source(&d.file).map(Indexed::new))
                .as_ref()
        };
        out.push_str(&render_one(&renderer, d, text, secrets));
        out.push_str("\n\n");
    }
    out.push_str(&summary(&renderer, diags));
    out.push('\n');
    out
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    }
}

/// A file's text (lossy UTF-8) and the byte offset of each line start.
struct Indexed<'a> {
    text: Cow<'a, str>,
    line_starts: Vec<usize>,
}

impl<'a> Indexed<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Indexed { text, line_starts }
    }

    /// 0-based index of the line holding byte `at`.
    fn line_of(&self, at: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= at)
            .saturating_sub(1)
    }

    /// Line `i` without its line break.
    fn line(&self, i: usize) -> &str {
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |e| e - 1);
        self.text[start..end].trim_end_matches('\r')
    }
}

fn render_one(
    renderer: &Renderer,
    d: &Diagnostic,
    text: Option<&Indexed<'_>>,
    secrets: &[String],
) -> String {
    let mut group = Group::with_title(level(d.severity).primary_title(d.message.as_str()));
    let excerpt = match (text, &d.span) {
        (Some(text), Some(span)) => Some(excerpt(text, span.clone(), secrets)),
        _ => None,
    };
    match &excerpt {
        Some((snippet, line_start, span)) => {
            group = group.element(
                Snippet::source(snippet.as_str())
                    .line_start(*line_start)
                    .path(d.file.as_str())
                    .annotation(AnnotationKind::Primary.span(span.clone())),
            );
        }
        None if d.file.is_empty() => {}
        None => {
            let mut origin = Origin::path(d.file.as_str());
            if d.line > 0 {
                origin = origin.line(d.line).char_column(d.column.max(1));
            }
            group = group.element(origin);
        }
    }
    let has_place = !d.file.is_empty();
    match &d.hint {
        // `= help:` under a snippet or a location, like rustc.
        Some(hint) if has_place => {
            group = group.element(Level::HELP.message(hint.as_str()));
            renderer.render(&[group])
        }
        // Nothing to hang it under: a `help:` line of its own, like cargo.
        Some(hint) => format!(
            "{}\n{}",
            renderer.render(&[group]),
            renderer.render(&[Group::with_title(Level::HELP.primary_title(hint.as_str()))])
        ),
        None => renderer.render(&[group]),
    }
}

/// The first line a span touches (secrets masked), its 1-based number, and
/// the span relative to it. A span that is empty (a missing value) or runs
/// off the text is kept inside it: the renderer must never see a bad range.
/// A multi-line span is cut at the end of its first line: the caret line says
/// where, the message says what.
fn excerpt(
    file: &Indexed<'_>,
    span: std::ops::Range<usize>,
    secrets: &[String],
) -> (String, usize, std::ops::Range<usize>) {
    let text: &str = &file.text;
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start);
    let end = floor(span.end.max(start));
    let line = file.line_of(start);
    let mut line_begin = file.line_starts[line];
    // Skip a byte-order mark, which would shift the caret.
    if line_begin == 0 && text.starts_with('\u{feff}') {
        line_begin = 3.min(start);
    }
    let shown = &file.line(line)[line_begin - file.line_starts[line]..];
    let rel_start = (start - line_begin).min(shown.len());
    let rel_end = (end - line_begin).min(shown.len()).max(rel_start);
    (
        mask_line(file, line, shown, secrets),
        line + 1,
        rel_start..rel_end,
    )
}

/// A value that cannot hold a secret: a `{from_env: …}`/`{keep: …}` mapping
/// (its words are variable names), empty, null, or Zadig's mask.
fn harmless(value: &str) -> bool {
    let v = value.trim();
    v.starts_with('{')
        || matches!(
            v.trim_matches(|c| c == '"' || c == '\''),
            "" | "~" | "null" | "********"
        )
}

/// Keys whose value is a secret whatever the file says.
fn secret_key(key: &str) -> bool {
    let k = key
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    if k.starts_with("is_") {
        return false;
    }
    [
        "token",
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// `shown` (line `line` of `file`, maybe without a BOM) with secrets replaced
/// by `*`, byte for byte.
fn mask_line(file: &Indexed<'_>, line: usize, shown: &str, secrets: &[String]) -> String {
    let mut mask = vec![false; shown.len()];
    let mut set = |r: std::ops::Range<usize>| {
        for m in &mut mask[r] {
            *m = true;
        }
    };
    // `key: value` pairs, block or flow style.
    for (key, value) in pairs(shown) {
        let k = &shown[key.clone()];
        let credential_value = matches!(k, "default_value" | "value")
            && (shown.contains("is_credential: true") || credential_mapping(file, line));
        if (secret_key(k) || credential_value) && !harmless(&shown[value.clone()]) {
            set(value);
        }
    }
    // URL user-info: `scheme://user:pass@host`.
    let mut from = 0;
    while let Some(i) = shown[from..].find("://") {
        let begin = from + i + 3;
        let rest = &shown[begin..];
        let stop = rest
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'' || c == ',')
            .unwrap_or(rest.len());
        if let Some(at) = rest[..stop].rfind('@') {
            set(begin..begin + at);
        }
        from = begin;
    }
    // Literal credential values the loader found.
    // Like the scrubber: a short value only where it stands alone.
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    for secret in secrets.iter().filter(|s| !s.trim().is_empty()) {
        let short = secret.chars().count() < crate::core::scrub::SHORT;
        for (at, m) in shown.match_indices(secret.as_str()) {
            let end = at + m.len();
            if short && (word(shown[..at].chars().next_back()) || word(shown[end..].chars().next()))
            {
                continue;
            }
            set(at..end);
        }
    }
    if !mask.contains(&true) {
        return shown.to_owned();
    }
    let mut out = String::with_capacity(shown.len());
    for (i, c) in shown.char_indices() {
        if mask[i] {
            out.extend(std::iter::repeat_n('*', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

/// Byte ranges of `key` and `value` of each `key: value` on a line
/// (`key: value`, `- key: value`, `{a: 1, b: 2}`); the value runs to the next
/// `,`/`}` in flow style, else to the end of the line (a comment excluded).
fn pairs(line: &str) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let flow = line
        .trim_start()
        .trim_start_matches("- ")
        .trim_start()
        .starts_with('{');
    while i < bytes.len() {
        // Find `: ` (or `:` at the end).
        let Some(colon) = line[i..].find(':').map(|c| c + i) else {
            break;
        };
        let after = colon + 1;
        if after < bytes.len() && bytes[after] != b' ' {
            i = after;
            continue;
        }
        let key_start = line[..colon].rfind([' ', '{', ',']).map_or(0, |p| p + 1);
        let mut v_start = after;
        while v_start < bytes.len() && bytes[v_start] == b' ' {
            v_start += 1;
        }
        let v_end = if flow {
            line[v_start..]
                .find([',', '}'])
                .map_or(line.len(), |e| v_start + e)
        } else {
            line[v_start..]
                .find(" #")
                .map_or(line.len(), |e| v_start + e)
        };
        if key_start < colon {
            out.push((key_start..colon, v_start..v_end.max(v_start)));
        }
        if !flow {
            break;
        }
        i = v_end.max(after);
    }
    out
}

/// The column where a block line's key starts, and whether it opens a list
/// item (`- key: …`).
fn key_column(line: &str) -> (usize, bool) {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    match rest.strip_prefix("- ") {
        Some(r) => (indent + 2 + (r.len() - r.trim_start().len()), true),
        None => (indent, false),
    }
}

/// Whether the block mapping around line `line` (same key column, within 50
/// lines) says `is_credential: true`.
fn credential_mapping(file: &Indexed<'_>, line: usize) -> bool {
    let (col, item_start) = key_column(file.line(line));
    let says = |l: &str| l.trim_start().trim_start_matches("- ").trim() == "is_credential: true";
    let last = file.line_starts.len();
    // Upwards to the item's start.
    if !item_start {
        for i in (line.saturating_sub(50)..line).rev() {
            let l = file.line(i);
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            let (c, starts) = key_column(l);
            if c < col {
                break;
            }
            if c == col && says(l) {
                return true;
            }
            if c == col && starts {
                break;
            }
        }
    }
    // Downwards to the next item.
    for i in line + 1..last.min(line + 50) {
        let l = file.line(i);
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let (c, starts) = key_column(l);
        if c < col || (c == col && starts) {
            break;
        }
        if c == col && says(l) {
            return true;
        }
    }
    false
}

fn summary(renderer: &Renderer, diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let (severity, text) = match (errors, warnings) {
        (0, w) => (Severity::Warning, count(w, "warning")),
        (e, 0) => (Severity::Error, count(e, "error")),
        (e, w) => (
            Severity::Error,
            format!("{} and {}", count(e, "error"), count(w, "warning")),
        ),
    };
    let report = [Group::with_title(level(severity).primary_title(text))];
    renderer.render(&report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> HashMap<String, String> {
        HashMap::from([(
            "demo/api.yaml".to_owned(),
            "name: api\nproject_key: demo\nlables: x\n".to_owned(),
        )])
    }

    #[test]
    fn renders_a_snippet_with_location_caret_and_help() {
        let d = Diagnostic::error("demo/api.yaml", "unknown field `lables`")
            .at(3, 1, Some(28..34))
            .with_hint("did you mean `labels`?");
        let out = render(&[d], &sources(), false);
        let expected = "\
error: unknown field `lables`
 --> demo/api.yaml:3:1
  |
3 | lables: x
  | ^^^^^^
  |
  = help: did you mean `labels`?

error: 1 error
";
        assert_eq!(out, expected);
    }

    #[test]
    fn renders_without_source_and_counts() {
        let diags = [
            Diagnostic::error("", "no definition files in the directory").with_hint("add some"),
            Diagnostic::warning("gone.yaml", "odd").at(2, 4, Some(0..1)),
        ];
        let out = render(&diags, &sources(), false);
        assert!(
            out.starts_with("error: no definition files in the directory\n"),
            "{out}"
        );
        assert!(out.contains("--> gone.yaml:2:4"), "{out}");
        assert!(out.ends_with("error: 1 error and 1 warning\n"), "{out}");
        assert_eq!(render(&[], &sources(), false), "");
    }

    /// Finding 7: each file's text is fetched and indexed once, however many
    /// diagnostics point into it (it was once per diagnostic: quadratic).
    #[test]
    fn each_file_is_indexed_once() {
        struct Counting(std::cell::Cell<usize>, String);
        impl Sources for Counting {
            fn source(&self, _: &str) -> Option<&[u8]> {
                self.0.set(self.0.get() + 1);
                Some(self.1.as_bytes())
            }
        }
        let text: String = (0..2000).map(|i| format!("k{i}: v\n")).collect();
        let src = Counting(std::cell::Cell::new(0), text);
        let last = src.1.find("k1999").expect("in text");
        let diags: Vec<_> = (0..2000)
            .map(|i| Diagnostic::error("f.yaml", "m").at(1, 1, Some(last - i..last - i + 2)))
            .collect();
        let out = render(&diags, &src, false);
        assert_eq!(src.0.get(), 1);
        assert!(out.contains("2000 | k1999: v"), "the last line is found");
    }

    #[test]
    fn snippets_mask_secrets_but_keep_the_carets() {
        let text = "token: abc123\nendpoint: https://u:pw@h.example/x\n- key: P\n  is_credential: true\n  default_value: hunter2\nvalue: {from_env: X}\n";
        let map = HashMap::from([("f.yaml".to_owned(), text.to_owned())]);
        let at = |needle: &str| {
            let i = text.find(needle).expect("in text");
            Diagnostic::error("f.yaml", "m").at(1, 1, Some(i..i + needle.len()))
        };
        let out = render(
            &[at("abc123"), at("u:pw"), at("hunter2"), at("{from_env: X}")],
            &map,
            false,
        );
        for secret in ["abc123", "u:pw", "hunter2"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(out.contains("token: ******"), "{out}");
        assert!(out.contains("https://****@h.example/x"), "{out}");
        assert!(out.contains("default_value: *******"), "{out}");
        assert!(
            out.contains("{from_env: X}"),
            "names of variables stay: {out}"
        );
        let out = render_masked(&[at("value")], &map, false, &["from_env".to_owned()]);
        assert!(!out.contains("from_env"), "{out}");
    }

    #[test]
    fn never_panics_on_odd_spans() {
        let text = "é: x\n";
        let map = HashMap::from([("f.yaml".to_owned(), text.to_owned())]);
        for span in [0..0, 1..2, 5..5, 3..100, 100..200] {
            let d = Diagnostic::warning("f.yaml", "m").at(1, 1, Some(span));
            let out = render(&[d], &map, true);
            assert!(out.contains("f.yaml"));
        }
    }
}
