//! The confirmation prompt of `apply` (every kind's): asked on a terminal,
//! refused without one.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};

/// Asks `text` on a terminal; refuses without one (every kind's
/// confirmation). Ctrl-C at the prompt declines.
pub async fn ask(text: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "apply needs confirmation: no terminal to ask on, so pass --auto-approve (or apply a reviewed plan with --plan)"
        );
    }
    {
        let mut err = std::io::stderr().lock();
        write!(err, "{text}")?;
        err.flush()?;
    }
    // A plain thread: a blocked read must not keep the runtime from ending.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    tokio::select! {
        line = rx => Ok(line.context("cannot read the answer")??.trim() == "yes"),
        signal = tokio::signal::ctrl_c() => {
            signal.context("cannot read the answer")?;
            eprintln!();
            Ok(false)
        }
    }
}
