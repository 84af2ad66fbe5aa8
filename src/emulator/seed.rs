//! The emulator's initial data: catalogs (images, clusters, code hosts,
//! templates, projects) and builds. A state file is a seed too, with every
//! build written as `stored`.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::zadig::wire::{KeyVal, StoredBuild};

/// Id of the local cluster (`setting.LocalClusterID`).
pub const LOCAL_CLUSTER_ID: &str = "0123456789abcdef12345678";

/// Initial data of an emulator. Sections left out of a seed file take the
/// [`Seed::builtin`] value; write `[]` to have none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Basic images (`build_os` labels).
    #[serde(default = "builtin_images")]
    pub images: Vec<SeedImage>,
    /// Clusters with their scheduling strategies.
    #[serde(default = "builtin_clusters")]
    pub clusters: Vec<SeedCluster>,
    /// Code hosts (`codehost_name` aliases).
    #[serde(default = "builtin_code_hosts")]
    pub code_hosts: Vec<SeedCodeHost>,
    /// Build templates (`template_name`).
    #[serde(default = "builtin_build_templates")]
    pub build_templates: Vec<SeedBuildTemplate>,
    /// Dockerfile templates (`docker_build_step.template_name`).
    #[serde(default = "builtin_dockerfile_templates")]
    pub dockerfile_templates: Vec<SeedNamed>,
    /// Projects.
    #[serde(default = "builtin_projects")]
    pub projects: Vec<SeedProject>,
    /// VM/PM services referencing builds (they block deletes, §5.4).
    #[serde(default)]
    pub vm_service_refs: Vec<VmServiceRef>,
    /// A Professional/Enterprise licence; without it the template-build
    /// endpoints of the build OpenAPI answer 7050 (the build-template library
    /// checks no licence).
    #[serde(default = "yes")]
    pub template_licence: bool,
    /// Builds, created in order.
    #[serde(default)]
    pub builds: Vec<SeedBuild>,
}

fn yes() -> bool {
    true
}

/// A basic image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedImage {
    /// 24-hex id.
    pub id: String,
    /// Label (the `build_os` of a create body).
    pub label: String,
    /// Image value, e.g. `focal`.
    pub value: String,
    /// `koderover` or `custom`.
    #[serde(default = "koderover")]
    pub image_from: String,
    /// `sonar` for sonar images (hidden from the default list).
    #[serde(default)]
    pub image_type: String,
}

fn koderover() -> String {
    "koderover".to_owned()
}

/// A cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCluster {
    /// 24-hex id; the local cluster is `0123456789abcdef12345678`.
    pub id: String,
    /// Name (the `advanced_settings.cluster_name`).
    pub name: String,
    /// The local cluster.
    #[serde(default)]
    pub local: bool,
    /// Scheduling strategies (at most one default).
    #[serde(default)]
    pub strategies: Vec<SeedStrategy>,
}

/// A scheduling strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedStrategy {
    /// 24-hex id.
    pub id: String,
    /// Name (unique per cluster).
    pub name: String,
    /// The cluster's default strategy.
    #[serde(default)]
    pub default: bool,
}

/// A code host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCodeHost {
    /// Global integer id.
    pub id: i64,
    /// Alias (the `codehost_name`); "" for none.
    #[serde(default)]
    pub alias: String,
    /// gitlab, github, gerrit, gitee, other, …
    #[serde(rename = "type")]
    pub host_type: String,
    /// URL.
    #[serde(default)]
    pub address: String,
    /// `system` (default) or `project`: the build OpenAPI resolves aliases
    /// among system-level code hosts only.
    #[serde(default = "system")]
    pub integration_level: String,
}

fn system() -> String {
    "system".to_owned()
}

/// A build template (the whole `models.BuildTemplate`, as the template
/// library stores it).
pub use super::templates::SeedBuildTemplate;

/// Something with an id and a name (dockerfile templates).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedNamed {
    /// 24-hex id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProject {
    /// Project key.
    pub key: String,
    /// Display name (defaults to the key).
    #[serde(default)]
    pub name: String,
}

/// A VM/PM service whose `build_name` references a build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmServiceRef {
    /// Project key of the service.
    pub project: String,
    /// Referenced build name.
    pub build: String,
    /// Service name (shown in the 6524 message).
    pub service: String,
}

/// One seeded build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SeedBuild {
    /// A `POST /openapi/build` body, applied through the API's own code path
    /// (so every server-side default is real).
    Create(serde_json::Value),
    /// A `POST /openapi/build?source=template` body.
    CreateTemplate(serde_json::Value),
    /// A raw stored model (`GET /api/aslan/build/build/:name`), e.g. a build
    /// made in the UI: post-build scripts, `vm_labels`, `source: jenkins`, …
    Stored(Box<StoredBuild>),
}

impl Default for Seed {
    fn default() -> Self {
        Seed::builtin()
    }
}

impl Seed {
    /// The built-in catalogs (build-api.md §9.9), no builds: images
    /// `ubuntu 20.04`/`ubuntu 18.04`, the local cluster `local-20240101120000`
    /// (strategies `default` and `high-mem`), cluster `prod-k8s`, code hosts
    /// `gitlab-main` and `github`, build template `go-service-template`,
    /// dockerfile template `go-distroless`, projects `demo` and `platform`.
    pub fn builtin() -> Seed {
        Seed {
            images: builtin_images(),
            clusters: builtin_clusters(),
            code_hosts: builtin_code_hosts(),
            build_templates: builtin_build_templates(),
            dockerfile_templates: builtin_dockerfile_templates(),
            projects: builtin_projects(),
            vm_service_refs: Vec::new(),
            template_licence: true,
            builds: Vec::new(),
        }
    }

    /// Reads a seed (or state) file: YAML for `.yaml`/`.yml`, JSON otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> anyhow::Result<Seed> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the seed file {}", path.display()))?;
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let seed = if yaml {
            serde_saphyr::from_str(&text)
                .with_context(|| format!("invalid seed file {}", path.display()))?
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("invalid seed file {}", path.display()))?
        };
        Ok(seed)
    }
}

fn builtin_images() -> Vec<SeedImage> {
    vec![
        SeedImage {
            id: "64f0c30000000000000000a1".to_owned(),
            label: "ubuntu 20.04".to_owned(),
            value: "focal".to_owned(),
            image_from: koderover(),
            image_type: String::new(),
        },
        SeedImage {
            id: "64f0c30000000000000000a2".to_owned(),
            label: "ubuntu 18.04".to_owned(),
            value: "bionic".to_owned(),
            image_from: koderover(),
            image_type: String::new(),
        },
    ]
}

fn builtin_clusters() -> Vec<SeedCluster> {
    vec![
        SeedCluster {
            id: LOCAL_CLUSTER_ID.to_owned(),
            name: "local-20240101120000".to_owned(),
            local: true,
            strategies: vec![
                SeedStrategy {
                    id: "65b000000000000000000001".to_owned(),
                    name: "default".to_owned(),
                    default: true,
                },
                SeedStrategy {
                    id: "65b000000000000000000002".to_owned(),
                    name: "high-mem".to_owned(),
                    default: false,
                },
            ],
        },
        SeedCluster {
            id: "65a000000000000000000001".to_owned(),
            name: "prod-k8s".to_owned(),
            local: false,
            strategies: vec![SeedStrategy {
                id: "65b000000000000000000003".to_owned(),
                name: "high-mem".to_owned(),
                default: false,
            }],
        },
    ]
}

fn builtin_code_hosts() -> Vec<SeedCodeHost> {
    vec![
        SeedCodeHost {
            id: 1,
            alias: "gitlab-main".to_owned(),
            host_type: "gitlab".to_owned(),
            address: "https://gitlab.example.com".to_owned(),
            integration_level: system(),
        },
        SeedCodeHost {
            id: 2,
            alias: "github".to_owned(),
            host_type: "github".to_owned(),
            address: "https://github.com".to_owned(),
            integration_level: system(),
        },
    ]
}

fn builtin_build_templates() -> Vec<SeedBuildTemplate> {
    let env = |key: &str, value: &str, credential: bool, description: &str| KeyVal {
        key: key.to_owned(),
        value: value.to_owned(),
        kv_type: "string".to_owned(),
        is_credential: credential,
        description: description.to_owned(),
        ..KeyVal::default()
    };
    let envs = [
        env("GO_VERSION", "1.21", false, "Go toolchain version"),
        env("LDFLAGS", "", false, "extra linker flags"),
        env("REGISTRY_TOKEN", "", true, "registry push token"),
    ]
    .iter()
    .map(|kv| serde_json::to_value(kv).unwrap_or_default())
    .collect::<Vec<_>>();
    // A whole `models.BuildTemplate`, as the UI saves one: image, installs,
    // resources, the local cluster, a timeout and a script, so that a file
    // imported from it validates and plans unchanged.
    let doc = serde_json::json!({
        "id": "65c000000000000000000001",
        "name": "go-service-template",
        "timeout": 60,
        "update_time": 1704110400,
        "update_by": "admin",
        "infrastructure": "kubernetes",
        "script_type": "shell",
        "scripts": "#!/bin/bash\nset -e\ngo build -ldflags \"$LDFLAGS\" ./...\n",
        "pre_build": {
            "res_req": "low",
            "res_req_spec": {"cpu_limit": 1000, "memory_limit": 512, "cpu_req": 1000, "memory_req": 512},
            "build_os": "focal",
            "image_from": "koderover",
            "image_id": "64f0c30000000000000000a1",
            "installs": [{"name": "go", "version": "1.21"}],
            "envs": envs,
            "cluster_id": LOCAL_CLUSTER_ID,
        },
    });
    SeedBuildTemplate::from_model(&doc)
        .map(|t| vec![t])
        .unwrap_or_default()
}

fn builtin_dockerfile_templates() -> Vec<SeedNamed> {
    vec![SeedNamed {
        id: "65d000000000000000000001".to_owned(),
        name: "go-distroless".to_owned(),
    }]
}

fn builtin_projects() -> Vec<SeedProject> {
    vec![
        SeedProject {
            key: "demo".to_owned(),
            name: "Demo".to_owned(),
        },
        SeedProject {
            key: "platform".to_owned(),
            name: "Platform".to_owned(),
        },
    ]
}

/// Builds as Zadig's UI makes and edits them (build-api-ui-made.md): what the
/// OpenAPI body cannot say. For seeds and tests: `ui-preset-<p>` for every
/// resource preset (`high`, `medium`, `min`, `default`, with the UI's stale
/// `res_req_spec`), `ui-workspace-cache` (the UI's default cache), `ui-vars`
/// (script / image / file variables, a hidden repository, a post-build
/// script, a branch filter, an output description, object storage),
/// `ui-dangling-strategy` (a strategy id the cluster no longer has) and
/// `ui-template` (a template build with a UI override of a variable).
/// All in project `demo`, on the builtin catalog.
pub fn ui_made_builds() -> Vec<StoredBuild> {
    use crate::zadig::wire::{
        InstallItem, KeyVal, Output, PostBuild, PreBuild, ResourceSpecWire, StoredRepo,
        StoredTarget,
    };
    let base = |name: &str| StoredBuild {
        name: name.to_owned(),
        source: "zadig".to_owned(),
        timeout: 60,
        product_name: "demo".to_owned(),
        infrastructure: "kubernetes".to_owned(),
        script_type: "shell".to_owned(),
        scripts: "make\n".to_owned(),
        advanced_setting_modified: true,
        cache_enable: false,
        cache_dir_type: "workspace".to_owned(),
        update_by: "ui-user".to_owned(),
        targets: vec![StoredTarget {
            product_name: "demo".to_owned(),
            service_name: name.to_owned(),
            service_module: name.to_owned(),
            ..StoredTarget::default()
        }],
        repos: vec![StoredRepo {
            source: "gitlab".to_owned(),
            codehost_id: 1,
            repo_owner: "team".to_owned(),
            repo_namespace: "team".to_owned(),
            repo_name: name.to_owned(),
            branch: "main".to_owned(),
            remote_name: "origin".to_owned(),
            ..StoredRepo::default()
        }],
        pre_build: Some(PreBuild {
            res_req: "low".to_owned(),
            res_req_spec: ResourceSpecWire {
                cpu_limit: 1000,
                memory_limit: 512,
                ..ResourceSpecWire::default()
            },
            build_os: "ubuntu 20.04".to_owned(),
            image_from: "koderover".to_owned(),
            image_id: "64f0c30000000000000000a1".to_owned(),
            installs: vec![InstallItem {
                name: "go".to_owned(),
                version: "1.22".to_owned(),
            }],
            cluster_id: crate::core::catalog::LOCAL_CLUSTER_ID.to_owned(),
            strategy_id: "65b000000000000000000001".to_owned(),
            storages: Some(crate::zadig::wire::StoragesWire::default()),
            ..PreBuild::default()
        }),
        post_build: Some(PostBuild::default()),
        outputs: vec![
            Output {
                name: "IMAGE".to_owned(),
                description: String::new(),
            },
            Output {
                name: "PKG_FILE".to_owned(),
                description: String::new(),
            },
        ],
        ..StoredBuild::default()
    };
    let mut out = Vec::new();
    for preset in ["high", "medium", "min", "default"] {
        let mut b = base(&format!("ui-preset-{preset}"));
        if let Some(pre) = b.pre_build.as_mut() {
            preset.clone_into(&mut pre.res_req);
        }
        out.push(b);
    }
    let mut ws = base("ui-workspace-cache");
    ws.cache_enable = true;
    ws.cache_user_dir = "/root/.cache".to_owned();
    out.push(ws);

    let mut vars = base("ui-vars");
    if let Some(pre) = vars.pre_build.as_mut() {
        pre.envs = vec![
            KeyVal {
                key: "VERSION".to_owned(),
                value: "1.0".to_owned(),
                kv_type: "script".to_owned(),
                script: "#!/bin/bash\ngit describe --tags\n".to_owned(),
                call_function: "describe({{.workflow.params.tag}})".to_owned(),
                function_reference: vec!["workflow.params.tag".to_owned()],
                description: "computed".to_owned(),
                ..KeyVal::default()
            },
            KeyVal {
                key: "BASE_IMAGE".to_owned(),
                value: "registry.example.com/base:1".to_owned(),
                kv_type: "image".to_owned(),
                registry_id: "65d000000000000000000001".to_owned(),
                ..KeyVal::default()
            },
            KeyVal {
                key: "CONFIG".to_owned(),
                value: String::new(),
                kv_type: "file".to_owned(),
                file_path: "/workspace/config".to_owned(),
                file_name: "app.yaml".to_owned(),
                file_id: "65e000000000000000000001".to_owned(),
                ..KeyVal::default()
            },
        ];
        pre.clean_workspace = true;
    }
    vars.repos.push(StoredRepo {
        source: "gitlab".to_owned(),
        codehost_id: 1,
        repo_owner: "team".to_owned(),
        repo_namespace: "team".to_owned(),
        repo_name: "ui-vars-tools".to_owned(),
        branch: "main".to_owned(),
        remote_name: "origin".to_owned(),
        hidden: true,
        filter_regexp: "^release/.*".to_owned(),
        ..StoredRepo::default()
    });
    vars.post_build = Some(PostBuild {
        scripts: "./upload.sh\n".to_owned(),
        object_storage_upload: Some(serde_json::json!({
            "enabled": true, "object_storage_id": "65f000000000000000000001", "upload_detail": []
        })),
        ..PostBuild::default()
    });
    vars.outputs[0].description = "the pushed image".to_owned();
    vars.desc = "made in the UI".to_owned();
    out.push(vars);

    let mut dangling = base("ui-dangling-strategy");
    if let Some(pre) = dangling.pre_build.as_mut() {
        "65b0000000000000000000ff".clone_into(&mut pre.strategy_id);
    }
    out.push(dangling);

    let template = StoredBuild {
        name: "ui-template".to_owned(),
        source: "zadig".to_owned(),
        product_name: "demo".to_owned(),
        template_id: "65c000000000000000000001".to_owned(),
        advanced_setting_modified: true,
        update_by: "ui-user".to_owned(),
        targets: vec![StoredTarget {
            product_name: "demo".to_owned(),
            service_name: "ui-template".to_owned(),
            service_module: "ui-template".to_owned(),
            envs: vec![
                KeyVal {
                    key: "GO_VERSION".to_owned(),
                    value: "1.22".to_owned(),
                    kv_type: "string".to_owned(),
                    description: "Go toolchain version".to_owned(),
                    ..KeyVal::default()
                },
                KeyVal {
                    key: "LDFLAGS".to_owned(),
                    value: "-s -w".to_owned(),
                    kv_type: "string".to_owned(),
                    description: "extra linker flags".to_owned(),
                    ..KeyVal::default()
                },
            ],
            ..StoredTarget::default()
        }],
        ..StoredBuild::default()
    };
    out.push(template);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_seed_file_means_the_builtin_catalogs() {
        let seed: Seed = serde_json::from_str("{}").expect("parses");
        assert_eq!(seed, Seed::builtin());
        let seed: Seed = serde_json::from_str(r#"{"images": []}"#).expect("parses");
        assert!(seed.images.is_empty());
        assert!(!seed.clusters.is_empty());
    }

    #[test]
    fn builds_are_tagged_and_yaml_works() {
        let yaml = "template_licence: false\nbuilds:\n  - create: {name: a, timeout: 5}\n  - stored: {name: b, product_name: demo}\n";
        let seed: Seed = serde_saphyr::from_str(yaml).expect("parses");
        assert!(!seed.template_licence);
        assert!(matches!(&seed.builds[0], SeedBuild::Create(v) if v["timeout"] == 5));
        assert!(matches!(&seed.builds[1], SeedBuild::Stored(b) if b.name == "b"));
    }

    #[test]
    fn unknown_sections_are_rejected() {
        assert!(serde_json::from_str::<Seed>(r#"{"imagez": []}"#).is_err());
    }
}
