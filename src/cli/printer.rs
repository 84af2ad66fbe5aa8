//! All terminal output goes through the [`Printer`]: results to stdout, notes,
//! warnings and errors to stderr, colour stripped where it is not wanted (as
//! [`OutputSettings`] decided, once, per stream), and every text through the
//! run's scrubber ([`super::redact`]).

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::redact::scrub;
use super::settings::OutputSettings;

/// Where and how output is written.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    color: bool,
    color_stderr: bool,
    progress: bool,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = AnsiColor::Cyan.on_default().bold();

impl Printer {
    /// A printer that writes as `out` decided.
    pub fn new(out: &OutputSettings) -> Self {
        Printer {
            quiet: out.quiet,
            color: out.color_stdout,
            color_stderr: out.color_stderr,
            progress: out.progress,
        }
    }

    /// A printer for tests: no colour, not quiet.
    pub fn plain() -> Self {
        Printer {
            quiet: false,
            color: false,
            color_stderr: false,
            progress: false,
        }
    }

    /// Whether renderers should emit ANSI styles for stdout.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether `-q` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether a progress bar may be drawn (stderr is a terminal, not quiet).
    pub fn progress(&self) -> bool {
        self.progress
    }

    /// Writes a command's result to stdout.
    pub fn out(&self, text: &str) -> std::io::Result<()> {
        let mut out = self.stdout();
        out.write_all(scrub(text).as_bytes())?;
        out.flush()
    }

    /// A note on stderr (hidden by `-q`).
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.stderr_line(NOTE, "note", text);
        }
    }

    /// A warning on stderr (hidden by `-q`).
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            self.stderr_line(WARNING, "warning", text);
        }
    }

    /// Plain text on stderr (hidden by `-q`), e.g. rendered diagnostics.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            let mut err = self.stderr();
            let _ = err.write_all(scrub(text).as_bytes());
            let _ = err.flush();
        }
    }

    /// Rendered diagnostics on stderr. Shown even with `-q`: they explain a
    /// failure.
    pub fn diagnostics(&self, text: &str) {
        let mut err = self.stderr();
        let _ = err.write_all(scrub(text).as_bytes());
        let _ = err.flush();
    }

    /// An error with its chain of causes, on stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let mut text = err.to_string();
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        self.stderr_line(ERROR, "error", &text);
    }

    /// stdout, styles stripped unless colour is on there.
    fn stdout(&self) -> anstream::AutoStream<std::io::StdoutLock<'static>> {
        anstream::AutoStream::new(std::io::stdout().lock(), choice(self.color))
    }

    /// stderr, styles stripped unless colour is on there.
    fn stderr(&self) -> anstream::AutoStream<std::io::StderrLock<'static>> {
        anstream::AutoStream::new(std::io::stderr().lock(), choice(self.color_stderr))
    }

    fn stderr_line(&self, style: Style, label: &str, text: &str) {
        let mut err = self.stderr();
        let _ = writeln!(err, "{style}{label}{style:#}: {}", scrub(text));
    }
}

fn choice(color: bool) -> anstream::ColorChoice {
    if color {
        anstream::ColorChoice::Always
    } else {
        anstream::ColorChoice::Never
    }
}
