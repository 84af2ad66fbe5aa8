//! `schema`: write (or check) the JSON Schemas of `zadig-sync.yaml` and of a
//! definition document, generated from the Rust types so they cannot drift.
//!
//! Editors use them through the `# yaml-language-server: $schema=...` line at
//! the top of a file (completion, hover docs, red squiggles). zadig-sync itself
//! does not need them: `validate` is stricter and says where and why.

use std::path::Path;

use anyhow::Context as _;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::cli::args::SchemaArgs;
use crate::cli::exit::{ExitStatus, Outcome};
use crate::cli::printer::Printer;
use crate::core::model::{BuildSpec, Config, TemplateBuildSpec};

/// File name of the schema of `zadig-sync.yaml`.
pub const CONFIG_SCHEMA: &str = "zadig-sync.schema.json";
/// File name of the schema of one definition document.
pub const DEFINITION_SCHEMA: &str = "definition.schema.json";

/// The schema of `zadig-sync.yaml` (draft-07).
pub fn config_schema() -> Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Config>();
    let mut v = schema.to_value();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("title".into(), json!("zadig-sync.yaml"));
    }
    v
}

/// The schema of one definition document (draft-07): a plain build or a
/// template build. A document without `kind` is a plain build, so the template
/// branch requires `kind: TemplateBuild`.
pub fn definition_schema() -> Value {
    let mut generator = SchemaSettings::draft07().into_generator();
    let build = generator.subschema_for::<BuildSpec>().to_value();
    let template = generator.subschema_for::<TemplateBuildSpec>().to_value();
    let mut definitions = generator.take_definitions(true);
    for spec in ["BuildSpec", "TemplateBuildSpec"] {
        // `kind` is read, never written back, which schemars marks
        // `writeOnly`; editors would grey it out in files that need it.
        if let Some(kind) = definitions
            .get_mut(spec)
            .and_then(|s| s.pointer_mut("/properties/kind"))
            .and_then(Value::as_object_mut)
        {
            kind.remove("writeOnly");
        }
    }
    if let Some(required) = definitions
        .get_mut("TemplateBuildSpec")
        .and_then(|t| t.get_mut("required"))
        .and_then(Value::as_array_mut)
    {
        required.insert(0, json!("kind"));
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "zadig-sync definition document",
        "description": "One build definition: a plain build (kind: Build, the default) or a build made from a build template (kind: TemplateBuild). Several documents may share a file, separated by `---`.",
        "oneOf": [build, template],
        "definitions": definitions,
    })
}

/// The schema files: name and content (pretty JSON with a final newline).
pub fn schema_files() -> Vec<(&'static str, String)> {
    [
        (CONFIG_SCHEMA, config_schema()),
        (DEFINITION_SCHEMA, definition_schema()),
    ]
    .into_iter()
    .map(|(name, v)| {
        // Serialising a JSON value cannot fail.
        let text = serde_json::to_string_pretty(&v).unwrap_or_default();
        (name, format!("{text}\n"))
    })
    .collect()
}

/// Runs `schema`: writes the schemas into `--out`, or with `--check` fails
/// when the files there differ from the types.
pub fn run(args: &SchemaArgs, printer: &Printer) -> Outcome {
    if args.check {
        check(&args.out, printer)
    } else {
        write(&args.out, printer)
    }
}

fn write(out: &Path, printer: &Printer) -> Outcome {
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

fn check(out: &Path, printer: &Printer) -> Outcome {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_branch_requires_its_kind() {
        let v = definition_schema();
        let required = &v["definitions"]["TemplateBuildSpec"]["required"];
        assert_eq!(required[0], "kind");
        let kind = &v["definitions"]["BuildSpec"]["properties"]["kind"];
        assert_eq!(kind["enum"], json!(["Build"]));
        assert!(kind.get("writeOnly").is_none());
        assert_eq!(v["oneOf"].as_array().map(Vec::len), Some(2));
        assert_eq!(config_schema()["title"], "zadig-sync.yaml");
    }
}
