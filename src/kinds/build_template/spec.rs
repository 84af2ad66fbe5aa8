//! The file form of a build template (`kind: BuildTemplate`) and the
//! `build_templates:` key of `zadig-sync.yaml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::model::{
    AdvancedSettings, BuildDef, BuildSpec, DockerBuildStep, Infrastructure, Install, ParamValue,
    Parameter, ScriptType,
};

/// A build template of Zadig's library (`models.BuildTemplate`): the plain
/// build body without `project_key`, `repo_info` and `services`. Its
/// `parameters` are the template's variables, the inputs of the template
/// builds that use it. Templates are global: the name is unique system-wide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildTemplateSpec {
    /// `BuildTemplate` (required: it tells a template from a build).
    #[serde(default, skip_serializing)]
    #[schemars(extend("enum" = ["BuildTemplate"]))]
    pub kind: Option<String>,
    /// Template name, unique across Zadig (the `template_name` of template builds).
    pub name: String,
    /// `kubernetes` or `vm`.
    pub infrastructure: Infrastructure,
    /// Basic image **label**, exactly as Zadig lists it.
    pub build_os: String,
    /// Tools to install before the script runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installs: Vec<Install>,
    /// `shell`, `batch_file` or `powershell`.
    pub script_type: ScriptType,
    /// The build script, byte-exact.
    #[serde(default)]
    pub build_script: String,
    /// The template's variables: the inputs of the builds that use it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Image build step; absent means no image build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_build_step: Option<DockerBuildStep>,
    /// Advanced settings; absent means Zadig's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_settings: Option<AdvancedSettings>,
}

impl BuildTemplateSpec {
    /// The same settings as a plain build with no project, repositories or
    /// services: Zadig stores a template as a build's model without those, so
    /// the build kind's normaliser, secrets and preserving write apply as they are.
    pub fn to_build(&self) -> BuildSpec {
        BuildSpec {
            kind: None,
            name: self.name.clone(),
            project_key: String::new(),
            infrastructure: self.infrastructure,
            build_os: self.build_os.clone(),
            installs: self.installs.clone(),
            script_type: self.script_type,
            build_script: self.build_script.clone(),
            repo_info: Vec::new(),
            parameters: self.parameters.clone(),
            services: Vec::new(),
            docker_build_step: self.docker_build_step.clone(),
            advanced_settings: self.advanced_settings.clone(),
        }
    }

    /// [`Self::to_build`] as a definition.
    pub fn to_def(&self) -> BuildDef {
        BuildDef::Build(self.to_build())
    }

    /// Back from a plain build: project, repositories and services dropped.
    pub fn from_build(b: BuildSpec) -> Self {
        BuildTemplateSpec {
            kind: None,
            name: b.name,
            infrastructure: b.infrastructure,
            build_os: b.build_os,
            installs: b.installs,
            script_type: b.script_type,
            build_script: b.build_script,
            parameters: b.parameters,
            docker_build_step: b.docker_build_step,
            advanced_settings: b.advanced_settings,
        }
    }

    /// [`Self::from_build`] of a definition; `None` for a template build.
    pub fn from_def(def: BuildDef) -> Option<Self> {
        match def {
            BuildDef::Build(b) => Some(Self::from_build(b)),
            BuildDef::Template(_) => None,
        }
    }

    /// The kind's one credential walker: every credential variable's value,
    /// with its path (`parameters[KEY].default_value`).
    pub fn credentials(&self) -> Vec<(String, &ParamValue)> {
        self.parameters
            .iter()
            .filter(|p| p.is_credential)
            .map(|p| {
                (
                    format!("parameters[{}].default_value", p.key),
                    &p.default_value,
                )
            })
            .collect()
    }

    /// The canonical YAML of the document, `kind: BuildTemplate` first.
    pub fn to_yaml(&self) -> String {
        let body = serde_saphyr::to_string(self)
            .unwrap_or_else(|e| format!("# cannot render as YAML: {e}\n"));
        format!("kind: BuildTemplate\n{body}")
    }
}

/// `build_templates:` in `zadig-sync.yaml`. Templates are global, not per
/// project. `manage: false` (the default) leaves the library alone: a
/// directory without this key behaves exactly as before.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildTemplatesConfig {
    /// `true`: the directory's `kind: BuildTemplate` files are planned and applied.
    #[serde(default)]
    pub manage: bool,
    /// `true`: live templates with no definition are deleted by `apply`
    /// (never one that a build still uses).
    #[serde(default)]
    pub prune: bool,
    /// Globs of template names never updated or deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<String>,
    /// Globs of template names never read, reported or touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

impl BuildTemplatesConfig {
    /// True for the default (the key may be left out of rendered config).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}
