//! The run's scrubber (see [`crate::core::scrub`]): the shell registers the
//! token and every credential value as soon as it knows them, and every
//! output path (the [`super::printer::Printer`], the log writer, plan files)
//! passes its text through [`scrub`] just before writing it.

use std::borrow::Cow;
use std::io::Write;
use std::sync::RwLock;

use crate::core::scrub::Scrubber;

static RUN: RwLock<Scrubber> = RwLock::new(Scrubber::new());

/// Registers a secret (the API token, a credential value) for the rest of the
/// process.
pub fn add_secret(secret: &str) {
    let mut s = RUN.write().unwrap_or_else(|e| e.into_inner());
    s.add(secret);
}

/// `text` with every registered secret masked.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let s = RUN.read().unwrap_or_else(|e| e.into_inner());
    if s.is_empty() {
        return Cow::Borrowed(text);
    }
    match s.scrub(text) {
        // Nothing found: the text itself, not a copy (a saved plan's text
        // can be a hundred megabytes).
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// A log writer: each event is collected whole, scrubbed, then written to
/// stderr in one piece, above the progress bar.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScrubbedStderr;

/// One event's bytes (see [`ScrubbedStderr`]).
#[derive(Debug, Default)]
pub struct EventBuffer(Vec<u8>);

impl Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let _ = super::progress::write_above_bar(scrub(&text).as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbedStderr {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_not_copied_and_a_secret_is_masked() {
        // A value no other test prints.
        add_secret("redact-test-secret-7f3a9c");
        assert!(matches!(scrub("nothing to hide"), Cow::Borrowed(_)));
        let out = scrub("token=redact-test-secret-7f3a9c");
        assert!(matches!(out, Cow::Owned(_)));
        assert!(!out.contains("redact-test-secret-7f3a9c"), "{out}");
    }
}
