//! All terminal output goes through the [`Printer`]: results to stdout, notes,
//! warnings and errors to stderr, colour stripped where it is not wanted
//! (`--color`, `NO_COLOR`, not a terminal) by anstream, and every text
//! through the run's scrubber ([`super::redact`]).

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use super::args::{ColorChoice, GlobalArgs};
use super::redact::scrub;

/// Where and how output is written.
#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    color: bool,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const NOTE: Style = AnsiColor::Cyan.on_default().bold();

impl Printer {
    /// Sets the process-wide colour choice from the flags and returns a printer.
    pub fn init(global: &GlobalArgs) -> Self {
        let choice = match global.color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Printer {
            quiet: global.quiet,
            color,
        }
    }

    /// A printer for tests: no colour, not quiet.
    pub fn plain() -> Self {
        Printer {
            quiet: false,
            color: false,
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
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Writes a command's result to stdout.
    pub fn out(&self, text: &str) -> std::io::Result<()> {
        let mut out = anstream::stdout().lock();
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
            let mut err = anstream::stderr().lock();
            let _ = err.write_all(scrub(text).as_bytes());
            let _ = err.flush();
        }
    }

    /// Rendered diagnostics on stderr. Shown even with `-q`: they explain a
    /// failure.
    pub fn diagnostics(&self, text: &str) {
        let mut err = anstream::stderr().lock();
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

    fn stderr_line(&self, style: Style, label: &str, text: &str) {
        let mut err = anstream::stderr().lock();
        let _ = writeln!(err, "{style}{label}{style:#}: {}", scrub(text));
    }
}
