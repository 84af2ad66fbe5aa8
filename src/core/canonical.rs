//! The canonical YAML text of a definition: what `import` writes and what the
//! unified diff of a plan compares. Deterministic: field order is the order of
//! the model, empty values are left out, scripts are block scalars.

use super::model::{BuildDef, Kind};

/// The canonical YAML of one definition document, `kind` first for template
/// builds (plain builds leave it out: `Build` is the default).
pub fn to_yaml(def: &BuildDef) -> String {
    // serde-saphyr writes strings with newlines as literal block scalars.
    let body = match def {
        BuildDef::Build(b) => serde_saphyr::to_string(b),
        BuildDef::Template(t) => serde_saphyr::to_string(t),
    };
    // Plain data with string keys always serialises; keep a visible marker
    // rather than panic if a future type ever cannot.
    let body = body.unwrap_or_else(|e| format!("# cannot render as YAML: {e}\n"));
    match def.kind() {
        Kind::Build => body,
        Kind::TemplateBuild => format!("kind: TemplateBuild\n{body}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{BuildSpec, Infrastructure, ScriptType};

    #[test]
    fn scripts_are_block_scalars_and_yaml_loads_back() {
        let b = BuildSpec {
            kind: None,
            name: "svc".into(),
            project_key: "demo".into(),
            infrastructure: Infrastructure::Kubernetes,
            build_os: "ubuntu 20.04".into(),
            installs: vec![],
            script_type: ScriptType::Shell,
            build_script: "#!/bin/bash\nset -e\nmake $TARGET\n".into(),
            repo_info: vec![],
            parameters: vec![],
            services: vec![],
            docker_build_step: None,
            advanced_settings: None,
        };
        let text = to_yaml(&BuildDef::Build(b.clone()));
        assert!(text.contains("build_script: |"), "{text}");
        let back: BuildSpec = serde_saphyr::from_str(&text).expect("loads");
        assert_eq!(back, b);
    }
}
