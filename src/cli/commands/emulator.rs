//! `emulator`: serves a local Zadig look-alike until Ctrl-C.

use std::collections::HashMap;
use std::time::Duration;

use crate::cli::args::{EmulatorArgs, GlobalArgs};
use crate::cli::exit::{CommandResult, ExitStatus};
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
        openapi_only: args.openapi_only,
        ..EmulatorConfig::default()
    })
}

/// Runs `emulator`.
pub async fn run(_global: &GlobalArgs, args: &EmulatorArgs, printer: &Printer) -> CommandResult {
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
        "any-token-of-16-chars-or-more"
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> EmulatorArgs {
        let cli = crate::cli::args::Cli::try_parse_from(args).expect("parses");
        match cli.command {
            crate::cli::args::Command::Emulator(a) => a,
            _ => panic!("not the emulator command"),
        }
    }

    #[test]
    fn tokens_restrict_access_and_default_to_any_admin() {
        let c = config(&parse(&["zadig-sync", "emulator"])).expect("config");
        assert!(matches!(c.tokens, TokenPolicy::AnyAdmin));
        assert_eq!(c.seed, Seed::builtin());
        let c = config(&parse(&[
            "zadig-sync",
            "emulator",
            "--token",
            "a",
            "--token",
            "b",
            "--latency-ms",
            "5",
        ]))
        .expect("config");
        match c.tokens {
            TokenPolicy::Tokens(map) => {
                assert_eq!(map.len(), 2);
                assert_eq!(map.get("a"), Some(&Role::Admin));
            }
            TokenPolicy::AnyAdmin => panic!("tokens ignored"),
        }
        assert_eq!(c.latency, Duration::from_millis(5));
    }

    #[test]
    fn the_examples_seed_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/emulator-seed.json");
        let c = config(&parse(&["zadig-sync", "emulator", "--seed", path])).expect("config");
        assert_eq!(c.seed.builds.len(), 8);
    }
}
