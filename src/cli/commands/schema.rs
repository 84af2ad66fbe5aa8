//! `schema`: write (or check) the JSON Schemas of `zadig-sync.yaml` and of a
//! definition document ([`crate::cli::schemas`] makes them).
//!
//! Editors use them through the `# yaml-language-server: $schema=...` line at
//! the top of a file (completion, hover docs, red squiggles). zadig-sync itself
//! does not need them: `validate` is stricter and says where and why.

use std::path::Path;

use anyhow::Context as _;

use crate::cli::args::SchemaArgs;
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::printer::Printer;
use crate::cli::schemas::schema_files;

/// Runs `schema`: writes the schemas into `--out`, or with `--check` fails
/// when the files there differ from the types.
pub fn run(args: &SchemaArgs, printer: &Printer) -> CommandResult {
    if args.check {
        check(&args.out, printer)
    } else {
        write(&args.out, printer)
    }
}

fn write(out: &Path, printer: &Printer) -> CommandResult {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut report = String::new();
    for (name, text) in schema_files() {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        report.push_str(&format!("Wrote {}\n", path.display()));
    }
    printer.out(&report)?;
    Ok(ExitStatus::Success)
}

fn check(out: &Path, printer: &Printer) -> CommandResult {
    let mut stale = Vec::new();
    for (name, text) in schema_files() {
        let path = out.join(name);
        match std::fs::read_to_string(&path) {
            Ok(current) if current == text => {}
            Ok(_) => stale.push(format!("{} is out of date", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                stale.push(format!("{} is missing", path.display()));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    if stale.is_empty() {
        printer.out(&format!("Schemas in {} are up to date.\n", out.display()))?;
        return Ok(ExitStatus::Success);
    }
    for s in &stale {
        printer.error(&anyhow::anyhow!(
            "{s}: run `zadig-sync schema --out {}`",
            out.display()
        ));
    }
    Ok(ExitStatus::Failure)
}
