//! The JSON Schemas of `zadig-sync.yaml` and of a definition document,
//! generated from the Rust types so they cannot drift. Shared by `schema`
//! and `import` (which writes them next to the files it makes).

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::core::model::{BuildSpec, Config, TemplateBuildSpec};
use crate::kinds::build_template::BuildTemplateSpec;

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

/// The schema of one definition document (draft-07): a plain build, a
/// template build or a build template. A document without `kind` is a plain
/// build, so the other branches require their `kind`.
pub fn definition_schema() -> Value {
    let mut generator = SchemaSettings::draft07().into_generator();
    let build = generator.subschema_for::<BuildSpec>().to_value();
    let template = generator.subschema_for::<TemplateBuildSpec>().to_value();
    let library = generator.subschema_for::<BuildTemplateSpec>().to_value();
    let mut definitions = generator.take_definitions(true);
    for spec in ["BuildSpec", "TemplateBuildSpec", "BuildTemplateSpec"] {
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
    for spec in ["TemplateBuildSpec", "BuildTemplateSpec"] {
        if let Some(required) = definitions
            .get_mut(spec)
            .and_then(|t| t.get_mut("required"))
            .and_then(Value::as_array_mut)
        {
            required.insert(0, json!("kind"));
        }
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "zadig-sync definition document",
        "description": "One definition: a plain build (kind: Build, the default), a build made from a build template (kind: TemplateBuild) or a template of the build-template library (kind: BuildTemplate). Several documents may share a file, separated by `---`.",
        "oneOf": [build, template, library],
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
        assert_eq!(v["oneOf"].as_array().map(Vec::len), Some(3));
        let library = &v["definitions"]["BuildTemplateSpec"];
        assert_eq!(library["required"][0], "kind");
        assert_eq!(
            library["properties"]["kind"]["enum"],
            json!(["BuildTemplate"])
        );
        assert!(library["properties"].get("project_key").is_none());
        assert!(library["properties"].get("repo_info").is_none());
        assert!(library["properties"].get("services").is_none());
        assert_eq!(config_schema()["title"], "zadig-sync.yaml");
    }
}
