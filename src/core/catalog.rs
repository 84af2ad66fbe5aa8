//! Run-wide look-up tables that turn the ids of Zadig's stored model into the
//! names a create body uses (build-api-one-read.md §1, §3), and that give the
//! server defaults a definition leaves out (build-api.md §5.1).

use std::collections::BTreeMap;

use crate::zadig::wire::{BasicImage, Cluster, CodeHost, KeyVal, NamedId, OpenApiCluster};

/// The id of Zadig's local cluster (`setting.LocalClusterID`).
pub const LOCAL_CLUSTER_ID: &str = "0123456789abcdef12345678";

/// A cluster and its scheduling strategies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The cluster used when `advanced_settings` is absent.
    pub local: bool,
    /// Strategies; `None` when they could not be read (OpenAPI-only mode).
    pub strategies: Option<Vec<StrategyInfo>>,
}

/// A scheduling strategy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrategyInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// At most one per cluster.
    pub default: bool,
}

/// A code host, without any of its secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeHostInfo {
    /// Global integer id.
    pub id: i64,
    /// Alias (`codehost_name`); "" when it has none.
    pub alias: String,
    /// Type: gitlab, github, other, …
    pub host_type: String,
}

/// Everything looked up once per run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Basic images: (id, label, value, image_from).
    pub images: Vec<ImageInfo>,
    /// Clusters.
    pub clusters: Vec<ClusterInfo>,
    /// Code hosts; `None` when they could not be read.
    pub code_hosts: Option<Vec<CodeHostInfo>>,
    /// Dockerfile templates (id, name).
    pub dockerfile_templates: Vec<NamedId>,
    /// Build templates (id, name).
    pub build_templates: Vec<NamedId>,
    /// The current variables of build templates, by template id; a template
    /// that could not be read is missing (its unlisted variables are then
    /// not compared).
    pub build_template_vars: BTreeMap<String, Vec<KeyVal>>,
    /// The keys of every project Zadig has (`GET /openapi/projects/project`);
    /// `None` when the list was not read.
    pub projects: Option<Vec<String>>,
}

/// A basic image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Id.
    pub id: String,
    /// Label (`build_os`).
    pub label: String,
    /// Value (what custom images store in `pre_build.build_os`).
    pub value: String,
    /// `koderover` / `custom`.
    pub image_from: String,
}

impl Catalog {
    /// Builds the catalog from the UI API look-ups.
    pub fn from_lookups(
        images: &[BasicImage],
        clusters: &[Cluster],
        code_hosts: Option<&[CodeHost]>,
        dockerfile_templates: &[NamedId],
        build_templates: &[NamedId],
    ) -> Self {
        Catalog {
            images: images
                .iter()
                .map(|i| ImageInfo {
                    id: i.id.clone(),
                    label: i.label.clone(),
                    value: i.value.clone(),
                    image_from: i.image_from.clone(),
                })
                .collect(),
            clusters: clusters
                .iter()
                .map(|c| ClusterInfo {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    local: c.local || c.id == LOCAL_CLUSTER_ID,
                    strategies: Some(
                        c.advanced_config
                            .schedule_strategy
                            .iter()
                            .map(|s| StrategyInfo {
                                id: s.strategy_id.clone(),
                                name: s.strategy_name.clone(),
                                default: s.default,
                            })
                            .collect(),
                    ),
                })
                .collect(),
            code_hosts: code_hosts.map(|hosts| {
                hosts
                    .iter()
                    .map(|h| CodeHostInfo {
                        id: h.id,
                        alias: h.alias.clone(),
                        host_type: h.host_type.clone(),
                    })
                    .collect()
            }),
            dockerfile_templates: dockerfile_templates.to_vec(),
            build_templates: build_templates.to_vec(),
            build_template_vars: BTreeMap::new(),
            projects: None,
        }
    }

    /// A catalog for OpenAPI-only mode: cluster names without strategies.
    pub fn from_openapi_clusters(clusters: &[OpenApiCluster]) -> Self {
        Catalog {
            clusters: clusters
                .iter()
                .map(|c| ClusterInfo {
                    id: c.cluster_id.clone(),
                    name: c.name.clone(),
                    local: c.local || c.cluster_id == LOCAL_CLUSTER_ID,
                    strategies: None,
                })
                .collect(),
            ..Catalog::default()
        }
    }

    /// The local cluster.
    pub fn local_cluster(&self) -> Option<&ClusterInfo> {
        self.clusters
            .iter()
            .find(|c| c.id == LOCAL_CLUSTER_ID)
            .or_else(|| self.clusters.iter().find(|c| c.local))
    }

    /// A cluster by id.
    pub fn cluster_by_id(&self, id: &str) -> Option<&ClusterInfo> {
        self.clusters.iter().find(|c| c.id == id)
    }

    /// A cluster by name.
    pub fn cluster_by_name(&self, name: &str) -> Option<&ClusterInfo> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The name Zadig will run with for `strategy` on `cluster`: an empty or
    /// unknown name means the cluster's default strategy (Zadig writes "" and
    /// its stored-model read fills the default, one-read §2.3). `None` when the
    /// strategies are unknown.
    pub fn effective_strategy(&self, cluster: &str, strategy: &str) -> Option<String> {
        let strategies = self.cluster_by_name(cluster)?.strategies.as_ref()?;
        if !strategy.is_empty() && strategies.iter().any(|s| s.name == strategy) {
            return Some(strategy.to_owned());
        }
        Some(
            strategies
                .iter()
                .find(|s| s.default)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        )
    }

    /// The label of a basic image id.
    pub fn image_label(&self, id: &str) -> Option<&str> {
        self.images
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.label.as_str())
    }

    /// Whether two images share this label (a name → id round trip is then
    /// ambiguous).
    pub fn image_label_is_ambiguous(&self, label: &str) -> bool {
        self.images.iter().filter(|i| i.label == label).count() > 1
    }

    /// A code host by id.
    pub fn code_host(&self, id: i64) -> Option<&CodeHostInfo> {
        self.code_hosts.as_ref()?.iter().find(|h| h.id == id)
    }

    /// The type of the code host with this alias.
    pub fn code_host_type(&self, alias: &str) -> Option<&str> {
        self.code_hosts
            .as_ref()?
            .iter()
            .find(|h| h.alias == alias)
            .map(|h| h.host_type.as_str())
    }

    /// Name of a dockerfile template id.
    pub fn dockerfile_template_name(&self, id: &str) -> Option<&str> {
        self.dockerfile_templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.as_str())
    }

    /// The id of a build template name.
    pub fn build_template_id(&self, name: &str) -> Option<&str> {
        self.build_templates
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id.as_str())
    }

    /// The current variables of the template with this name, if read.
    pub fn template_vars_by_name(&self, name: &str) -> Option<&[KeyVal]> {
        let id = self.build_template_id(name)?;
        self.build_template_vars.get(id).map(Vec::as_slice)
    }

    /// Name of a build template id.
    pub fn build_template_name(&self, id: &str) -> Option<&str> {
        self.build_templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.as_str())
    }
}
