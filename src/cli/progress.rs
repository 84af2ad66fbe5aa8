//! Progress on a terminal, and Ctrl-C.
//!
//! - A [`Progress`] is a guard: it clears its bar when dropped, so every exit
//!   path (an error, `?`, a cancelled future after Ctrl-C) leaves the screen
//!   clean. It shows a spinner until it knows how much there is to do, and
//!   never a full bar for 0 of 0.
//! - [`until_interrupted`] runs a read-only command and cancels it on Ctrl-C
//!   (dropping it, which clears its bar): nothing was written, so nothing is
//!   left half done.

use std::future::Future;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use super::printer::Printer;

/// A progress bar on stderr that clears itself when dropped. Hidden (every
/// call a no-op) off a terminal and with `-q`.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
}

impl Progress {
    /// Starts a spinner labelled `label` ("reading builds", "writing").
    pub fn start(printer: &Printer, label: &'static str) -> Progress {
        if !printer.progress() {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(
            Some(0),
            ProgressDrawTarget::term_like(Box::new(NarrowStderr(console::Term::stderr()))),
        );
        bar.set_style(spinner_style());
        bar.set_message(label);
        bar.enable_steady_tick(Duration::from_millis(120));
        *active() = Some(bar.clone());
        Progress {
            bar: Some(bar),
            label,
        }
    }

    /// A progress that shows nothing.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            label: "",
        }
    }

    /// `done` of `total`. The bar appears only once there is something to
    /// count: 0 of 0 keeps the spinner.
    pub fn set(&self, done: usize, total: usize) {
        let Some(bar) = &self.bar else { return };
        if total == 0 {
            return;
        }
        if bar.length() != Some(total as u64) {
            if bar.length().unwrap_or(0) == 0 {
                bar.set_style(bar_style());
            }
            bar.set_length(total as u64);
        }
        bar.set_position(done as u64);
    }

    /// Prints a line on stderr above the bar (which is redrawn below it).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// A handle to update the same bar from tasks.
    pub fn handle(&self) -> ProgressHandle {
        ProgressHandle {
            bar: self.bar.clone(),
        }
    }

    /// The label, for tests and messages.
    pub fn label(&self) -> &'static str {
        self.label
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            let mut active = active();
            if active.as_ref().is_some_and(|a| a.is_finished()) {
                *active = None;
            }
        }
    }
}

/// The bar on screen, if any: log lines are written above it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn active() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes `buf` to stderr above the progress bar (which is hidden, then
/// redrawn), never into it. The log writer ([`super::redact::ScrubbedStderr`])
/// calls this with each scrubbed event.
pub fn write_above_bar(buf: &[u8]) -> std::io::Result<()> {
    let bar = active().clone();
    let write = || {
        let mut err = std::io::stderr().lock();
        err.write_all(buf)?;
        err.flush()
    };
    match bar {
        Some(bar) if !bar.is_finished() => bar.suspend(write),
        _ => write(),
    }
}

/// A clone of a [`Progress`]'s bar for other tasks; it does not clear the bar
/// (the [`Progress`] does).
#[derive(Debug, Clone)]
pub struct ProgressHandle {
    bar: Option<ProgressBar>,
}

impl ProgressHandle {
    /// Clears the bar now (before the process leaves without dropping it).
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Advances by one.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Prints a line on stderr above the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

/// Columns left free at the end of the bar's line. indicatif pads its line
/// to the terminal's width; the terminal then echoes `^C` past the edge, the
/// cursor wraps, and clearing "the current line" misses the bar. Two free
/// columns keep the echo on the bar's line, so it is cleared with it.
const FREE_COLUMNS: u16 = 3;

/// stderr as a terminal [`FREE_COLUMNS`] narrower than it is.
#[derive(Debug)]
struct NarrowStderr(console::Term);

impl TermLike for NarrowStderr {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(FREE_COLUMNS).max(20)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}…")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} {pos}/{len} {wide_bar}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Runs `work`; on Ctrl-C drops it (its progress bar clears) and fails with
/// "interrupted". For commands that write nothing, or before any write.
pub async fn until_interrupted<T>(
    work: impl Future<Output = anyhow::Result<T>>,
    what: &str,
) -> anyhow::Result<T> {
    let ctrl_c = async {
        // Without signal handling, run to the end.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = work => r,
        () = ctrl_c => Err(anyhow::anyhow!("interrupted (Ctrl-C): {what}")),
    }
}
