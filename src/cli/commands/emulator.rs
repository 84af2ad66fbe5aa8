//! `emulator`: serves a local Zadig look-alike until Ctrl-C.

use std::collections::HashMap;
use std::time::Duration;

use crate::cli::args::{EmulatorArgs, GlobalArgs};
use crate::cli::exit::{ExitStatus, Outcome};
use crate::cli::printer::Printer;
use crate::emulator::{EmulatorConfig, Role, Seed, TokenPolicy, spawn};

/// The emulator's configuration from the command line.
pub fn config(args: &EmulatorArgs) -> anyhow::Result<EmulatorConfig> {
    let seed = match &args.seed {
        Some(path) => Seed::from_file(path)?,
        None => Seed::builtin(),
    };
    let tokens = if args.tokens.is_empty() {
        TokenPolicy::AnyAdmin
    } else {
        TokenPolicy::Tokens(
            args.tokens
                .iter()
                .map(|t| (t.clone(), Role::Admin))
                .collect::<HashMap<_, _>>(),
        )
    };
    Ok(EmulatorConfig {
        seed,
        state_file: args.state.clone(),
        tokens,
        latency: Duration::from_millis(args.latency_ms),
        ..EmulatorConfig::default()
    })
}

/// Runs `emulator`.
pub async fn run(_global: &GlobalArgs, args: &EmulatorArgs, printer: &Printer) -> Outcome {
    let config = config(args)?;
    if !args.listen.ip().is_loopback() {
        printer.warn(&format!(
            "listening on {}, which is not a loopback address: anyone who can reach it can use the emulator",
            args.listen
        ));
    }
    if let (Some(state), Some(_)) = (&args.state, &args.seed)
        && state.exists()
    {
        printer.note(&format!(
            "{} exists: it is loaded and --seed is ignored",
            state.display()
        ));
    }
    let token_hint = if args.tokens.is_empty() {
        "any-token"
    } else {
        // Never echo a configured token.
        "<one of your --token values>"
    };
    let emulator = spawn(config, args.listen).await?;
    let url = emulator.base_url();
    printer.status(&format!(
        "Zadig emulator listening on {url} (Ctrl-C to stop)\n  export ZADIG_ENDPOINT={url} ZADIG_TOKEN={token_hint}\n"
    ));
    tokio::signal::ctrl_c().await?;
    printer.status("stopping the emulator\n");
    emulator.shutdown().await;
    Ok(ExitStatus::Success)
}
