//! Command-line arguments, as clap parses them. Nothing here does work: the
//! [`super::settings`] step resolves these, the environment and `zadig-sync.yaml`
//! into settings before any command runs.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Keep Zadig build definitions in git: plan, apply, detect drift, import.
#[derive(Debug, Parser)]
#[command(
    name = "zadig-sync",
    version = env!("ZADIG_SYNC_LONG_VERSION"),
    about,
    long_about = None,
    max_term_width = 100
)]
pub struct Cli {
    /// Options that every command accepts, before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Zadig URL (beats ZADIG_ENDPOINT, which beats `endpoint` in
    /// zadig-sync.yaml).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// Read the API token from this file instead of ZADIG_TOKEN.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Run against an in-process Zadig emulator instead of a server; with a
    /// file, its state is read at start and written back after each write.
    #[arg(
        long,
        global = true,
        value_name = "STATE_FILE",
        num_args = 0..=1,
        require_equals = true
    )]
    pub emulator: Option<Option<PathBuf>>,

    /// Most requests in flight at once, for the whole run.
    #[arg(long, global = true, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Per-request timeout in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Time one request may spend on retries, in seconds (0: no retries;
    /// default 60, or ZADIG_SYNC_RETRY_BUDGET). Covers a Zadig restart: 503,
    /// 429 and dropped connections for a while.
    #[arg(long, global = true, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub retry_budget: Option<u64>,

    /// Extra CA certificate (PEM) to trust for HTTPS.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Largest answer read from Zadig, in MiB: a bigger one is an error,
    /// checked while it streams (default 32, or ZADIG_SYNC_MAX_RESPONSE_MIB).
    #[arg(long, global = true, value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_response_mib: Option<u64>,

    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Less output: errors and the result only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset (or empty).
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check definition files offline: syntax, types, names, references.
    Validate(ValidateArgs),
    /// Show what apply would change (create / update / delete).
    Plan(PlanArgs),
    /// Make Zadig match the definition files.
    Apply(ApplyArgs),
    /// Report live changes made outside git (exit 2 when live differs).
    Drift(DriftArgs),
    /// Show a saved plan again (human, JSON or Markdown).
    Show(ShowArgs),
    /// Write live builds as definition files.
    Import(ImportArgs),
    /// Run a local Zadig look-alike for trying and testing.
    Emulator(EmulatorArgs),
    /// Write the JSON Schemas of zadig-sync.yaml and of a definition document.
    Schema(SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `zadig-sync man > zadig-sync.1`.
    Man(ManArgs),
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Definition directory, or any directory below it (zadig-sync.yaml is
    /// searched for upwards, up to the repository root).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ValidateOutputFormat::Human)]
    pub output: ValidateOutputFormat,
}

/// Output format of plan and drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Coloured text for people.
    Human,
    /// Stable JSON (format_version 1) on stdout.
    Json,
    /// A pull-request comment.
    Markdown,
}

/// Output format of apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyOutputFormat {
    /// Coloured text for people.
    Human,
    /// The apply report as JSON on stdout.
    Json,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Definition directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Save the plan for `apply PLANFILE` (not saved when the files have
    /// errors or the plan is incomplete).
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes (0 none, 1 error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only these projects (repeatable).
    #[arg(long = "project", value_name = "KEY")]
    pub projects: Vec<String>,
    /// Only these builds (repeatable).
    #[arg(long = "target", value_name = "PROJECT/NAME")]
    pub targets: Vec<String>,
    /// Plan updates that erase settings the OpenAPI cannot express.
    #[arg(long)]
    pub allow_erase: bool,
    /// Plan more deletes than `max_deletes`.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Tell this pull request's changes from changes made in Zadig: compare
    /// with the definitions at this git revision (e.g. the merge base).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

/// `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan (from `plan --out`) and/or the definition directory
    /// (default `.` without a plan). A saved plan needs no directory; given
    /// one too, the directory must be the one planned.
    #[arg(value_name = "PLANFILE|DIR", num_args = 0..=2)]
    pub paths: Vec<PathBuf>,
    /// Apply exactly this saved plan (same as giving it as an argument).
    #[arg(long, value_name = "PLANFILE")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Only these projects (repeatable).
    #[arg(long = "project", value_name = "KEY")]
    pub projects: Vec<String>,
    /// Only these builds (repeatable).
    #[arg(long = "target", value_name = "PROJECT/NAME")]
    pub targets: Vec<String>,
    /// Allow updates that erase settings the OpenAPI cannot express.
    #[arg(long)]
    pub allow_erase: bool,
    /// Allow more deletes than `max_deletes`.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ApplyOutputFormat::Human)]
    pub output: ApplyOutputFormat,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan (from `plan --out`).
    #[arg(value_name = "PLANFILE")]
    pub plan: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

/// Output format of validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateOutputFormat {
    /// Diagnostics for people on stderr, a summary line on stdout.
    Human,
    /// The result and every diagnostic as JSON on stdout.
    Json,
}

/// `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Definition directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Only these projects (repeatable).
    #[arg(long = "project", value_name = "KEY")]
    pub projects: Vec<String>,
    /// Only these builds (repeatable).
    #[arg(long = "target", value_name = "PROJECT/NAME")]
    pub targets: Vec<String>,
}

/// How import writes credential values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialMode {
    /// `{from_env: ZADIG_SECRET_<BUILD>_<KEY>}`.
    Env,
    /// `{keep: true}`: keep Zadig's stored value.
    Keep,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Project to import from.
    #[arg(long, value_name = "KEY")]
    pub project: String,
    /// Only these builds (default: every build of the project).
    pub names: Vec<String>,
    /// Directory to write into (files go to <out>/<project>/<name>.yaml).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// How to write credential values.
    #[arg(long, value_enum, default_value_t = CredentialMode::Env)]
    pub credentials: CredentialMode,
    /// Also import the global libraries of the other kinds (the build-template
    /// library), each into its folder below <out> (credential variables
    /// always as `{from_env}`).
    #[arg(long)]
    pub templates: bool,
}

/// `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep state in this JSON file (read at start, written after each write).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seed file (YAML or JSON) loaded when there is no state yet.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Accept this token (repeatable; default: any well-formed token is an admin).
    #[arg(long = "token", value_name = "T")]
    pub tokens: Vec<String>,
    /// Added latency per request, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Serve only the OpenAPI (UI-API paths answer 404), like a gateway that
    /// does not route them.
    #[arg(long)]
    pub openapi_only: bool,
}

/// `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Directory to write the schemas into.
    #[arg(long, default_value = "schemas")]
    pub out: PathBuf,
    /// Only check that the files are up to date (exit 1 when stale).
    #[arg(long)]
    pub check: bool,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man`.
#[derive(Debug, Args)]
pub struct ManArgs {}

/// Connection options, by argument id: what only commands that talk to Zadig
/// use.
const CONNECTION_ARGS: [&str; 8] = [
    "endpoint",
    "token_file",
    "emulator",
    "concurrency",
    "timeout",
    "ca_cert",
    "retry_budget",
    "max_response_mib",
];

/// Options that mean nothing next to `--emulator` (it is the endpoint).
const SERVER_ARGS: [&str; 3] = ["endpoint", "token_file", "ca_cert"];

/// Parses the process arguments: clap, then the checks clap cannot express
/// (options a command does not use; a value given with a space).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse`] over given arguments (the first is the program name).
pub fn parse_from<I, T>(argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let mut cmd = Cli::command();
    let matches = match cmd.try_get_matches_from_mut(&argv) {
        Ok(m) => m,
        Err(mut e) => {
            if let Some(tip) = spaced_value_tip(&argv) {
                e.insert(
                    ContextKind::Suggested,
                    ContextValue::StyledStrs(vec![tip.into()]),
                );
            }
            return Err(e);
        }
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    // Errors name the subcommand's usage, as clap's own do.
    let sub = matches.subcommand_name().unwrap_or_default().to_owned();
    let mut error = |kind: ErrorKind, message: String| match cmd.find_subcommand_mut(&sub) {
        Some(s) => s.error(kind, message),
        None => cmd.error(kind, message),
    };
    if let Some(message) = unused_option(&cli.command, &matches) {
        return Err(error(ErrorKind::ArgumentConflict, message));
    }
    if let Some(message) = spaced_value_taken_as_dir(&cli, &argv) {
        return Err(error(ErrorKind::InvalidValue, message));
    }
    Ok(cli)
}

/// Given on the command line (not from the environment or a default).
fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

fn flag(id: &str) -> String {
    format!("--{}", id.replace('_', "-"))
}

/// An option given on the command line that this command would ignore.
/// Environment variables are not checked: CI sets them for every step.
fn unused_option(command: &Command, matches: &ArgMatches) -> Option<String> {
    let (name, works) = match command {
        Command::Validate(_) => ("validate", "works offline"),
        Command::Schema(_) => ("schema", "works offline"),
        Command::Completions(_) => ("completions", "works offline"),
        Command::Man(_) => ("man", "works offline"),
        Command::Show(_) => ("show", "works offline"),
        Command::Emulator(_) => ("emulator", "is the server"),
        Command::Plan(_) | Command::Apply(_) | Command::Drift(_) | Command::Import(_) => {
            if given(matches, "emulator")
                && let Some(id) = SERVER_ARGS.iter().find(|id| given(matches, id))
            {
                return Some(format!(
                    "{} is not used with --emulator: the in-process emulator is the server (drop \
                     one of them)",
                    flag(id)
                ));
            }
            return None;
        }
    };
    let id = CONNECTION_ARGS.iter().find(|id| given(matches, id))?;
    Some(format!(
        "`zadig-sync {name}` {works} and does not use {}: drop it",
        flag(id)
    ))
}

/// `--emulator state.json`: the tip for a value given with a space to an
/// option whose value is optional (and so must be attached with `=`).
fn spaced_value_tip(argv: &[OsString]) -> Option<String> {
    let (option, value) = spaced_value(argv)?;
    Some(format!(
        "{option} takes its value with `=`: write `{option}={value}` (with a space, `{value}` is \
         read as another argument)"
    ))
}

/// The first `--emulator VALUE` (a separate word that is not an option).
fn spaced_value(argv: &[OsString]) -> Option<(&'static str, String)> {
    let words: Vec<&str> = argv.iter().skip(1).filter_map(|a| a.to_str()).collect();
    for pair in words.windows(2) {
        if pair[0] == "--" {
            return None;
        }
        if pair[0] == "--emulator" && !pair[1].starts_with('-') {
            return Some(("--emulator", pair[1].to_owned()));
        }
    }
    None
}

/// `plan --emulator state.json` parses, with `state.json` as the directory:
/// an error with the tip, unless that really is a directory.
fn spaced_value_taken_as_dir(cli: &Cli, argv: &[OsString]) -> Option<String> {
    let (_, value) = spaced_value(argv)?;
    let taken = match &cli.command {
        Command::Plan(a) => a.dir.as_os_str() == value.as_str() && !a.dir.is_dir(),
        Command::Drift(a) => a.dir.as_os_str() == value.as_str() && !a.dir.is_dir(),
        // apply takes a plan file or a directory: only a path that is neither.
        Command::Apply(a) => a
            .paths
            .iter()
            .any(|p| p.as_os_str() == value.as_str() && !p.exists()),
        _ => false,
    };
    if !taken {
        return None;
    }
    let tip = spaced_value_tip(argv)?;
    Some(format!(
        "`{value}` was taken as the definition directory, and it is not one\n\ntip: {tip}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["zadig-sync", "plan", "dir", "--concurrency", "4", "-vv"])
            .expect("parses");
        assert_eq!(cli.global.concurrency, 4);
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn unused_options_are_rejected() {
        let err = parse_from(["zadig-sync", "validate", "--endpoint", "https://z"])
            .expect_err("validate does not connect");
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        assert!(err.to_string().contains("does not use --endpoint"), "{err}");
        let err = parse_from([
            "zadig-sync",
            "plan",
            "--emulator",
            "--endpoint",
            "https://z",
        ])
        .expect_err("both");
        assert!(
            err.to_string().contains("not used with --emulator"),
            "{err}"
        );
        assert!(parse_from(["zadig-sync", "plan", "--emulator"]).is_ok());
        assert!(parse_from(["zadig-sync", "plan", "--endpoint", "https://z"]).is_ok());
        assert!(parse_from(["zadig-sync", "validate", "-q"]).is_ok());
    }

    #[test]
    fn a_spaced_value_gets_a_tip() {
        let err = parse_from(["zadig-sync", "apply", "--emulator", "state.json", "defs"])
            .expect_err("two positionals");
        assert!(err.to_string().contains("--emulator=state.json"), "{err}");
        let err = parse_from(["zadig-sync", "plan", "--emulator", "state.json"])
            .expect_err("not a directory");
        assert!(err.to_string().contains("--emulator=state.json"), "{err}");
    }

    #[test]
    fn emulator_flag_takes_an_optional_state_file() {
        let cli = Cli::try_parse_from(["zadig-sync", "plan", "--emulator"]).expect("parses");
        assert_eq!(cli.global.emulator, Some(None));
        let cli = Cli::try_parse_from(["zadig-sync", "--emulator=s.json", "plan"]).expect("parses");
        assert_eq!(cli.global.emulator, Some(Some(PathBuf::from("s.json"))));
    }
}
