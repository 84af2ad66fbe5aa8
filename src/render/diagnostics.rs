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
pub fn render<S: Sources + ?Sized>(diags: &[Diagnostic], sources: &S, color: bool) -> String {
    if diags.is_empty() {
        return String::new();
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        out.push_str(&render_one(&renderer, d, sources));
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

fn render_one<S: Sources + ?Sized>(renderer: &Renderer, d: &Diagnostic, sources: &S) -> String {
    let text = sources
        .source(&d.file)
        .filter(|_| !d.file.is_empty())
        .map(String::from_utf8_lossy);
    let mut group = Group::with_title(level(d.severity).primary_title(d.message.as_str()));
    match (&text, &d.span) {
        (Some(text), Some(span)) => {
            let (snippet, line_start, span) = excerpt(text, span.clone());
            group = group.element(
                Snippet::source(snippet)
                    .line_start(line_start)
                    .path(d.file.as_str())
                    .annotation(AnnotationKind::Primary.span(span)),
            );
        }
        _ if d.file.is_empty() => {}
        _ => {
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

/// The lines a span touches, the 1-based number of the first one, and the
/// span relative to them. A span that is empty (a missing value) or runs off
/// the text is kept inside it: the renderer must never see a bad range.
fn excerpt(
    text: &str,
    span: std::ops::Range<usize>,
) -> (Cow<'_, str>, usize, std::ops::Range<usize>) {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start);
    let end = floor(span.end.max(start));
    let line_begin = text[..start].rfind('\n').map_or(0, |i| i + 1);
    // Skip a byte-order mark, which would shift the caret.
    let line_begin = if line_begin == 0 && text.starts_with('\u{feff}') {
        3.min(start)
    } else {
        line_begin
    };
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line_no = text[..line_begin].bytes().filter(|b| *b == b'\n').count() + 1;
    let excerpt = &text[line_begin..line_end];
    // A multi-line span is cut at the end of its first line: the caret line
    // says where, the message says what.
    let first_line_end = excerpt.find('\n').map_or(excerpt.len(), |i| i);
    let rel_start = start - line_begin;
    let rel_end = (end - line_begin).min(first_line_end).max(rel_start);
    let excerpt = &excerpt[..first_line_end];
    (Cow::Borrowed(excerpt), line_no, rel_start..rel_end)
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
