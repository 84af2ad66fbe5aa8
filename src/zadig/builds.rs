//! The build endpoints: lists, details and stored models, and the writes
//! (create, update, delete) of plain and template builds (build-api.md,
//! build-api-one-read.md, build-api-ui-made.md §9). Requests go through the
//! transport in [`super::client`].

use reqwest::{Method, Url};
use serde::Serialize;
use serde_json::Value;

use super::client::{
    Client, Creation, Req, RequestKind, WriteOutcome, addressable, decode, non_empty, to_bytes,
};
use super::error::ApiError;
use super::wire::{BuildBrief, BuildDetail, BuildListResp, MASK, StoredBuild};

impl Client {
    /// Every build of a project (`GET /openapi/build?projectKey=`), all pages,
    /// de-duplicated by name, in no particular order. An error if the list
    /// cannot be read completely and consistently: never a partial list.
    pub async fn list_builds(&self, project: &str) -> Result<Vec<BuildBrief>, ApiError> {
        non_empty("project", project)?;
        let what = format!("the builds of project `{project}`");
        self.read_all_pages(
            &what,
            RequestKind::List,
            |b: &BuildBrief| b.name.clone(),
            |page| {
                let url = self.url(
                    &["openapi", "build"],
                    &[
                        ("projectKey", project),
                        ("pageNum", &page.to_string()),
                        ("pageSize", &self.inner.page_size.to_string()),
                    ],
                );
                async move {
                    let (resp, size): (BuildListResp, usize) = self
                        .get_json_sized(RequestKind::List, url, None, Some(project))
                        .await?;
                    Ok((resp.total, resp.builds, size))
                }
            },
        )
        .await
    }

    /// The OpenAPI detail (`GET /openapi/build/<name>/detail?projectKey=`); with
    /// `target = Some((service, module))`, the per-target view of a template
    /// build.
    pub async fn build_detail(
        &self,
        project: &str,
        name: &str,
        target: Option<(&str, &str)>,
    ) -> Result<BuildDetail, ApiError> {
        non_empty("project", project)?;
        non_empty("build name", name)?;
        let mut query = vec![("projectKey", project)];
        if let Some((service, module)) = target {
            query.push(("serviceName", service));
            query.push(("serviceModule", module));
        }
        addressable(name)?;
        let url = self.url(&["openapi", "build", name, "detail"], &query);
        let req = self.request(
            Method::GET,
            url,
            None,
            RequestKind::Detail,
            Some(name),
            Some(project),
        );
        let raw = self.send(&req).await?;
        let detail: BuildDetail = decode(&raw.body, &req.desc, &self.inner.scrubber)?;
        // A detail for another build would show as a rename: refuse it.
        if detail.name.trim() != name.trim()
            || (!detail.project_key.is_empty() && detail.project_key.trim() != project.trim())
        {
            return Err(ApiError::WrongBuild {
                request: Box::new(req.desc),
                asked: name.to_owned(),
                got: self.excerpt(&format!("{}/{}", detail.project_key, detail.name)),
            });
        }
        Ok(detail)
    }

    /// The stored model (`GET /api/aslan/build/build/<name>?projectName=&ifPassFilter=true`).
    ///
    /// [`ApiError::StoredModelUnavailable`] for names this route cannot address
    /// (`serviceModule`, names with `/`): read [`Client::build_detail`] instead.
    /// [`ApiError::NotABuild`] for a 200 answer that is not the build (the
    /// collaboration-mode middleware answered).
    pub async fn stored_build(&self, project: &str, name: &str) -> Result<StoredBuild, ApiError> {
        self.stored_build_raw(project, name).await.map(|(b, _)| b)
    }

    /// [`Client::stored_build`], with the model exactly as read (unknown
    /// fields included): the base of the preserving write.
    pub async fn stored_build_raw(
        &self,
        project: &str,
        name: &str,
    ) -> Result<(StoredBuild, Box<str>), ApiError> {
        non_empty("project", project)?;
        non_empty("build name", name)?;
        if name == "serviceModule" {
            return Err(ApiError::StoredModelUnavailable {
                name: name.to_owned(),
                reason:
                    "the UI API has a static route `/build/serviceModule` that shadows this name"
                        .to_owned(),
            });
        }
        if name.contains('/') {
            return Err(ApiError::StoredModelUnavailable {
                name: name.to_owned(),
                reason: "the UI API cannot address a name containing `/`".to_owned(),
            });
        }
        addressable(name)?;
        let url = self.url(
            &["api", "aslan", "build", "build", name],
            &[("projectName", project), ("ifPassFilter", "true")],
        );
        let req = self.request(
            Method::GET,
            url,
            None,
            RequestKind::Stored,
            Some(name),
            Some(project),
        );
        let raw = self.send(&req).await?;
        let stored: StoredBuild = decode(&raw.body, &req.desc, &self.inner.scrubber)?;
        if stored.name.trim() != name.trim() {
            return Err(ApiError::NotABuild {
                request: Box::new(req.desc),
                name: name.to_owned(),
            });
        }
        // The text as read (it parsed as JSON, so it is UTF-8): decoded
        // into a value only when a write needs it.
        let text = match String::from_utf8(raw.body) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok((stored, text.into_boxed_str()))
    }

    /// The UI's own update (`PUT /api/aslan/build/build`, build-api-ui-made.md
    /// §9): `model` is a whole stored model. Needs `Build.Edit`; answers 404
    /// or 405 behind a gateway that routes only the OpenAPI.
    pub async fn update_stored_build(
        &self,
        project: &str,
        name: &str,
        model: &serde_json::Value,
    ) -> Result<WriteOutcome, ApiError> {
        non_empty("project", project)?;
        non_empty("build name", name)?;
        let bytes = to_bytes(model, name)?;
        let url = self.url(&["api", "aslan", "build", "build"], &[]);
        let req = self.request(
            Method::PUT,
            url,
            Some(bytes),
            RequestKind::Write,
            Some(name),
            Some(project),
        );
        self.send(&req).await.map(|_| WriteOutcome::Done)
    }

    /// Creates a plain build (`POST /openapi/build`) from any body that
    /// serialises as the OpenAPI build (its `name` and `project_key` address
    /// it). Never blindly repeated: see [`WriteOutcome::ResolvedAfterAmbiguity`].
    pub async fn create_build<B: Serialize + ?Sized>(
        &self,
        body: &B,
    ) -> Result<WriteOutcome, ApiError> {
        let body = Body::plain(body)?;
        let url = self.url(&["openapi", "build"], &[("projectKey", &body.project)]);
        let (project, name) = (body.project.clone(), body.name.clone());
        let req = self.write_request(Method::POST, url, body);
        self.create_once(req, &BuildCreation::new(&project, &name))
            .await
    }

    /// Replaces a plain build (`PUT /openapi/build`): a full replace (§5.2).
    pub async fn update_build<B: Serialize + ?Sized>(
        &self,
        body: &B,
    ) -> Result<WriteOutcome, ApiError> {
        let body = Body::plain(body)?;
        let url = self.url(&["openapi", "build"], &[("projectKey", &body.project)]);
        let req = self.write_request(Method::PUT, url, body);
        self.send(&req).await.map(|_| WriteOutcome::Done)
    }

    /// Creates a template build (`POST /openapi/build?source=template`).
    pub async fn create_template_build<B: Serialize + ?Sized>(
        &self,
        body: &B,
    ) -> Result<WriteOutcome, ApiError> {
        let body = Body::template(body)?;
        let url = self.url(
            &["openapi", "build"],
            &[("source", "template"), ("projectKey", &body.project)],
        );
        let (project, name) = (body.project.clone(), body.name.clone());
        let req = self.write_request(Method::POST, url, body);
        self.create_once(req, &BuildCreation::new(&project, &name))
            .await
    }

    /// Updates a template build (`PUT /openapi/build/<name>/template`; never
    /// `PUT ?source=template`, which creates).
    pub async fn update_template_build<B: Serialize + ?Sized>(
        &self,
        body: &B,
    ) -> Result<WriteOutcome, ApiError> {
        let body = Body::template(body)?;
        addressable(&body.name)?;
        let url = self.url(
            &["openapi", "build", &body.name, "template"],
            &[("projectKey", &body.project)],
        );
        let req = self.write_request(Method::PUT, url, body);
        self.send(&req).await.map(|_| WriteOutcome::Done)
    }

    /// Deletes a build (`DELETE /openapi/build?name=&buildName=&projectKey=`).
    /// Zadig answers 200 when there was nothing to delete.
    pub async fn delete_build(&self, project: &str, name: &str) -> Result<WriteOutcome, ApiError> {
        // Without projectKey an admin deletes the name in whatever project holds it.
        non_empty("project", project)?;
        non_empty("build name", name)?;
        let url = self.url(
            &["openapi", "build"],
            &[("name", name), ("buildName", name), ("projectKey", project)],
        );
        let req = self.request(
            Method::DELETE,
            url,
            None,
            RequestKind::Write,
            Some(name),
            Some(project),
        );
        self.send(&req).await.map(|_| WriteOutcome::Done)
    }

    /// Read-back after an ambiguous create: the detail, or the list when the
    /// detail cannot say.
    pub(super) async fn build_exists(&self, project: &str, name: &str) -> Result<bool, ApiError> {
        match self.build_detail(project, name, None).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) if e.is_auth() => Err(e),
            Err(_) => Ok(self
                .list_builds(project)
                .await?
                .iter()
                .any(|b| b.name == name)),
        }
    }
}

impl Client {
    /// A write of `body` (its name and project label the request).
    fn write_request(&self, method: Method, url: Url, body: Body) -> Req {
        self.request(
            method,
            url,
            Some(body.bytes),
            RequestKind::Write,
            Some(&body.name),
            Some(&body.project),
        )
    }
}

/// A write body, encoded, with the build it addresses (read from the
/// body's own `name` and `project_key`: the project of a write is the body's,
/// build-api.md §5).
struct Body {
    project: String,
    name: String,
    bytes: Vec<u8>,
}

impl Body {
    /// A plain create/update. A `{keep: true}` value becomes Zadig's mask
    /// `********` (Zadig keeps the stored value); any other value that is not
    /// a string (an unresolved `{from_env}`) is an error rather than a body
    /// Zadig would reject without a word.
    fn plain<B: Serialize + ?Sized>(body: &B) -> Result<Body, ApiError> {
        let (mut v, project, name) = addressed(body)?;
        // The OpenAPI has no cache mode (build-api-ui-made.md §2): the file
        // format's `dir_type` is written only by the preserving write.
        if let Some(cache) = v
            .pointer_mut("/advanced_settings/cache_setting")
            .and_then(Value::as_object_mut)
        {
            cache.remove("dir_type");
        }
        if let Some(params) = v.get_mut("parameters").and_then(Value::as_array_mut) {
            for (i, p) in params.iter_mut().enumerate() {
                let Some(value) = p.get_mut("default_value") else {
                    continue;
                };
                if value.get("keep").and_then(Value::as_bool) == Some(true) {
                    *value = Value::String(MASK.to_owned());
                } else if !value.is_string() {
                    return Err(ApiError::UnresolvedValue {
                        build: name,
                        path: format!("parameters[{i}].default_value"),
                    });
                }
            }
        }
        Body::encoded(&v, project, name)
    }

    /// A template create/update: every input value must be a string
    /// (template builds have no keep-the-stored-value).
    fn template<B: Serialize + ?Sized>(body: &B) -> Result<Body, ApiError> {
        let (v, project, name) = addressed(body)?;
        if let Some(targets) = v.get("target_services").and_then(Value::as_array) {
            for (t, target) in targets.iter().enumerate() {
                let inputs = target.get("inputs").and_then(Value::as_array);
                for (i, input) in inputs.into_iter().flatten().enumerate() {
                    if input.get("value").is_some_and(|v| !v.is_string()) {
                        return Err(ApiError::UnresolvedValue {
                            build: name,
                            path: format!("target_services[{t}].inputs[{i}].value"),
                        });
                    }
                }
            }
        }
        Body::encoded(&v, project, name)
    }

    fn encoded(v: &Value, project: String, name: String) -> Result<Body, ApiError> {
        let bytes = to_bytes(v, &name)?;
        Ok(Body {
            project,
            name,
            bytes,
        })
    }
}

/// The body as JSON, with its `project_key` and `name` (both non-empty).
fn addressed<B: Serialize + ?Sized>(body: &B) -> Result<(Value, String, String), ApiError> {
    let v = serde_json::to_value(body).map_err(|e| ApiError::InvalidArgument {
        message: format!("a build body cannot be encoded as JSON: {e}"),
    })?;
    let field = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (name, project) = (field("name"), field("project_key"));
    non_empty("build name", &name)?;
    non_empty("project", &project)?;
    Ok((v, project, name))
}

/// A build's create ([`Client::create_once`]): found again by its detail or
/// the project's list; a duplicate refusal in its own project means the first
/// send committed.
struct BuildCreation<'a> {
    project: &'a str,
    name: &'a str,
}

impl<'a> BuildCreation<'a> {
    fn new(project: &'a str, name: &'a str) -> Self {
        BuildCreation { project, name }
    }
}

impl Creation for BuildCreation<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn noun(&self) -> &'static str {
        "build"
    }

    async fn exists(&self, client: &Client) -> Result<bool, ApiError> {
        client.build_exists(self.project, self.name).await
    }

    async fn committed(&self, client: &Client, err: &ApiError) -> bool {
        let ApiError::NameTaken { other_project, .. } = err else {
            return false;
        };
        match other_project.as_deref() {
            Some(p) => p == self.project,
            // A raw duplicate-key error does not say where: look.
            None => matches!(client.build_exists(self.project, self.name).await, Ok(true)),
        }
    }
}
