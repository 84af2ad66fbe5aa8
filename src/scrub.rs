//! The one scrubber: every string that reaches an output (messages, logs,
//! JSON, Markdown, plan files, apply reports) passes through a [`Scrubber`]
//! that knows the API token and every credential value of the run.
//!
//! Rules:
//! - every *form* of a secret is masked: raw, JSON-escaped (also Go's
//!   `\u003c`-style escaping of `<`, `>`, `&`, and `\/`), percent-encoded
//!   (upper and lower case hex, `+` or `%20` for a space);
//! - masking never garbles text: a form of [`SHORT`] characters or more is
//!   masked wherever it occurs (such a string inside other text *is* the
//!   secret); a shorter one only where it stands alone, not glued to a letter,
//!   digit or `_` (so a credential `t` leaves `request` alone);
//! - overlapping occurrences are merged before replacing, so no part of a
//!   secret survives next to a mask;
//! - callers truncate *after* scrubbing.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// What every output shows in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// Forms at least this long are masked wherever they occur; shorter ones only
/// as whole words.
pub const SHORT: usize = 8;

/// Knows the secrets of a run and masks them in text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scrubber {
    needles: Vec<String>,
}

impl fmt::Debug for Scrubber {
    // Never the secrets themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} forms)", self.needles.len())
    }
}

impl Scrubber {
    /// A scrubber that knows nothing yet.
    pub const fn new() -> Self {
        Scrubber {
            needles: Vec::new(),
        }
    }

    /// A scrubber for one secret.
    pub fn with(secret: &str) -> Self {
        let mut s = Scrubber::new();
        s.add(secret);
        s
    }

    /// Adds a secret (the token, a credential value), in all its forms.
    /// Empty and blank values, and Zadig's own mask `********`, are ignored.
    pub fn add(&mut self, secret: &str) {
        if secret.trim().is_empty() || secret == crate::zadig::wire::MASK {
            return;
        }
        for form in forms(secret) {
            if !form.is_empty() && !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        // Longest first: at one position the longer form wins.
        self.needles
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every occurrence of every secret replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for needle in &self.needles {
            let whole_only = needle.chars().count() < SHORT;
            for (at, m) in text.match_indices(needle.as_str()) {
                let end = at + m.len();
                if whole_only && !stands_alone(text, at, end) {
                    continue;
                }
                ranges.push(at..end);
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let mut i = 0;
        while i < ranges.len() {
            let start = ranges[i].start;
            let mut end = ranges[i].end;
            i += 1;
            while i < ranges.len() && ranges[i].start < end {
                end = end.max(ranges[i].end);
                i += 1;
            }
            if start >= pos {
                out.push_str(&text[pos..start]);
                out.push_str(REDACTED);
                pos = end;
            }
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }

    /// [`Scrubber::scrub`], owned.
    pub fn scrub_string(&self, text: String) -> String {
        match self.scrub(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(s) => s,
        }
    }

    /// Scrubs, then keeps at most `max` characters (control characters shown
    /// as spaces), so that a cut never leaves part of a secret.
    pub fn excerpt(&self, text: &str, max: usize) -> String {
        self.scrub(text)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(max)
            .collect()
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word) && !after.is_some_and(is_word)
}

/// The forms a secret may take in text that reaches us.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    // JSON string escaping, as serde and Go write it.
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned();
    let go = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let slash = json.replace('/', "\\/");
    out.extend([json, go, slash]);
    // Percent-encoding: everything but the unreserved characters.
    let upper = percent(secret, false, false);
    out.push(percent(secret, true, false));
    out.push(percent(secret, false, true));
    out.push(upper);
    out
}

fn percent(s: &str, lower: bool, plus_for_space: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if plus_for_space => out.push('+'),
            _ if lower => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "eyJhbGciOi.tok+en/with&odd=chars";

    #[test]
    fn masks_every_form_of_the_token() {
        let s = Scrubber::with(TOKEN);
        let json = serde_json::to_string(TOKEN).expect("json");
        for text in [
            format!("auth was Bearer {TOKEN}"),
            format!("{{\"echo\":{json}}}"),
            format!("Location: /login?t={}", percent(TOKEN, false, false)),
            format!("t={}", percent(TOKEN, true, true)),
            format!("x{TOKEN}y"),
            "go \\u0026".replace("\\u0026", &TOKEN.replace('&', "\\u0026")),
            TOKEN.replace('/', "\\/"),
        ] {
            let out = s.scrub(&text);
            assert!(!out.contains("tok+en"), "{text} -> {out}");
            assert!(!out.contains("en/with"), "{text} -> {out}");
            assert!(!out.contains("with&odd"), "{text} -> {out}");
            assert!(out.contains(REDACTED), "{text} -> {out}");
        }
    }

    #[test]
    fn a_short_secret_is_masked_as_a_whole_word_only() {
        let s = Scrubber::with("t");
        assert_eq!(s.scrub("request failed"), "request failed");
        assert_eq!(s.scrub("value t is wrong"), "value [redacted] is wrong");
        assert_eq!(s.scrub("t"), "[redacted]");
        assert_eq!(s.scrub("\"t\""), "\"[redacted]\"");
        let s = Scrubber::with("abc");
        assert_eq!(s.scrub("abcdef abc_x abc."), "abcdef abc_x [redacted].");
    }

    #[test]
    fn overlapping_occurrences_leave_nothing() {
        let mut s = Scrubber::new();
        s.add("abcdefghij");
        s.add("ghijklmnopq");
        assert_eq!(s.scrub("xxabcdefghijklmnopqyy"), "xx[redacted]yy");
        assert_eq!(s.scrub("abcdefghijabcdefghij"), "[redacted][redacted]");
    }

    #[test]
    fn ignores_empty_blank_and_the_mask() {
        let mut s = Scrubber::new();
        s.add("");
        s.add("   ");
        s.add("********");
        assert!(s.is_empty());
        assert_eq!(s.scrub("********"), "********");
        assert_eq!(format!("{s:?}"), "Scrubber(0 forms)");
    }

    #[test]
    fn excerpt_cuts_after_scrubbing() {
        let token = "0123456789abcdefghij";
        let s = Scrubber::with(token);
        let text = format!("{}{token}", "x".repeat(195));
        let out = s.excerpt(&text, 200);
        assert!(!out.contains("01234"), "{out}");
        assert_eq!(out.chars().count(), 200);
        assert!(out.starts_with(&"x".repeat(195)));
    }

    proptest! {
        #[test]
        fn no_long_secret_survives(
            secret in "[!-~][ -~]{7,23}",
            before in "[ -~]{0,20}",
            after in "[ -~]{0,20}",
        ) {
            let s = Scrubber::with(&secret);
            let text = format!("{before}{secret}{after}");
            let out = s.scrub(&text);
            prop_assert!(!out.contains(&secret));
        }

        #[test]
        fn text_without_the_secret_is_unchanged(text in "[a-z ]{0,40}") {
            let s = Scrubber::with("Z9Z9Z9Z9Z9Z9Z9Z9");
            prop_assert_eq!(s.scrub(&text), text.as_str());
        }
    }
}
