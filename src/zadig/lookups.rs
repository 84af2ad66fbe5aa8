//! Run-wide look-ups (images, clusters, code hosts, templates, projects):
//! read once per client where the answer cannot change during a run.

use std::sync::Arc;

use super::client::{Client, RequestKind, check_count, non_empty};
use super::error::ApiError;
use super::wire::{
    BasicImage, BuildTemplate, BuildTemplateList, Cluster, CodeHost, DockerfileTemplateList,
    NamedId, OpenApiCluster, ProjectBrief, ProjectList,
};

impl Client {
    /// Basic images, sonar included (`GET /api/aslan/system/basicImages?image_type=sonar`).
    /// Fetched once per client.
    pub async fn basic_images(&self) -> Result<Arc<Vec<BasicImage>>, ApiError> {
        self.inner
            .basic_images
            .get_or_try_init(|| async {
                let url = self.url(
                    &["api", "aslan", "system", "basicImages"],
                    &[("image_type", "sonar")],
                );
                self.lookup_array(url).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Clusters with their scheduling strategies (`GET /api/aslan/cluster/clusters`,
    /// no `projectName`, no `Resources` header). Secrets in the answer are not
    /// kept. Fetched once per client.
    pub async fn clusters(&self) -> Result<Arc<Vec<Cluster>>, ApiError> {
        self.inner
            .clusters
            .get_or_try_init(|| async {
                let url = self.url(&["api", "aslan", "cluster", "clusters"], &[]);
                self.lookup_array(url).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Clusters as the OpenAPI lists them (`GET /openapi/system/cluster`).
    /// Fetched once per client.
    pub async fn openapi_clusters(&self) -> Result<Arc<Vec<OpenApiCluster>>, ApiError> {
        self.inner
            .openapi_clusters
            .get_or_try_init(|| async {
                let url = self.url(&["openapi", "system", "cluster"], &[]);
                self.lookup_array(url).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Code hosts, id/alias/type/address only (`GET /api/aslan/code/codehost`;
    /// the secrets in the answer are never kept). Fetched once per client.
    pub async fn code_hosts(&self) -> Result<Arc<Vec<CodeHost>>, ApiError> {
        self.inner
            .code_hosts
            .get_or_try_init(|| async {
                let url = self.url(&["api", "aslan", "code", "codehost"], &[]);
                self.lookup_array(url).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Dockerfile templates (`GET /api/aslan/template/dockerfile?page_num=1&page_size=9999`).
    /// Fetched once per client.
    pub async fn dockerfile_templates(&self) -> Result<Arc<Vec<NamedId>>, ApiError> {
        self.inner
            .dockerfile_templates
            .get_or_try_init(|| async {
                let url = self.url(
                    &["api", "aslan", "template", "dockerfile"],
                    &[("page_num", "1"), ("page_size", "9999")],
                );
                let list: DockerfileTemplateList =
                    self.get_json(RequestKind::Lookup, url, None, None).await?;
                check_count(
                    "dockerfile templates",
                    list.total,
                    list.dockerfile_template.len(),
                )?;
                Ok(Arc::new(list.dockerfile_template))
            })
            .await
            .cloned()
    }

    /// Build templates (`GET /api/aslan/template/build?page_num=1&page_size=9999`).
    /// Fetched once per client.
    pub async fn build_templates(&self) -> Result<Arc<Vec<NamedId>>, ApiError> {
        self.inner
            .build_templates
            .get_or_try_init(|| async {
                let url = self.url(
                    &["api", "aslan", "template", "build"],
                    &[("page_num", "1"), ("page_size", "9999")],
                );
                let list: BuildTemplateList =
                    self.get_json(RequestKind::Lookup, url, None, None).await?;
                check_count("build templates", list.total, list.build_templates.len())?;
                Ok(Arc::new(list.build_templates))
            })
            .await
            .cloned()
    }

    /// Every project the token can see (`GET /openapi/projects/project`, all
    /// pages, de-duplicated by key). Not memoised.
    pub async fn projects(&self) -> Result<Vec<ProjectBrief>, ApiError> {
        self.read_all_pages(
            "the projects",
            RequestKind::Lookup,
            |p: &ProjectBrief| p.project_key.clone(),
            |page| {
                let url = self.url(
                    &["openapi", "projects", "project"],
                    &[
                        ("pageNum", &page.to_string()),
                        ("pageSize", &self.inner.page_size.to_string()),
                    ],
                );
                async move {
                    let (resp, size): (ProjectList, usize) = self
                        .get_json_sized(RequestKind::Lookup, url, None, None)
                        .await?;
                    Ok((resp.total, resp.projects, size))
                }
            },
        )
        .await
    }

    /// One build template with its variables (`GET /api/aslan/template/build/:id`;
    /// needs the system action `Template.View`).
    pub async fn build_template(&self, id: &str) -> Result<BuildTemplate, ApiError> {
        non_empty("template id", id)?;
        let url = self.url(&["api", "aslan", "template", "build", id], &[]);
        self.get_json(RequestKind::Lookup, url, None, None).await
    }
}
