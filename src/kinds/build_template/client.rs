//! The build-template library (`/api/aslan/template/build…`): list, read,
//! create, update, delete and the reference list, as aslan serves them
//! (koderover/zadig `main` 18278c716, `templatestore/handler/build.go`,
//! `templatestore/service/build.go`; build-api-ui-made.md §10).
//!
//! An `impl Client` block over the client's one transport (its crate-visible
//! request, send and retry steps): retries, the size cap, the run-wide concurrency, scrubbing.
//! What the library answers, and what the client makes of it:
//! - the list is paged with `page_num`/`page_size` (snake case; default 100),
//!   `total` is left out when 0; it is read page by page with the build
//!   listing's guards (a total that moves, more entries than announced, a
//!   page budget, a byte budget), de-duplicated by id, and two templates with
//!   one name (the index `name_1` forbids it) are an incomplete listing;
//! - every failure but the bind (empty 400), the permission (empty 403) and
//!   the create's 6520s is a plain 500: an unknown id is
//!   [`ApiError::TemplateNotFound`], a template in use
//!   [`ApiError::TemplateInUse`], a duplicate name
//!   [`ApiError::TemplateNameTaken`], a 403 [`ApiError::TemplateForbidden`];
//! - ids are checked before they are sent (24 hex digits): aslan would answer
//!   a malformed one with the driver's hex error, as a 500;
//! - a create is never blindly repeated: after a lost answer the list is read
//!   back and the create re-sent only if no template has the name. A delete
//!   that was retried and then finds nothing reports that the first send
//!   deleted it.
//!
//! No licence is checked by these handlers (unlike the template builds of the
//! build OpenAPI, which answer 7050 without one).

use reqwest::Method;
use serde::Serialize;

use super::wire::{BuildTemplateModel, BuildTemplateReference};
use crate::zadig::client::{Creation, decode, non_empty, to_bytes};
use crate::zadig::error::ApiError;
use crate::zadig::wire::{BuildTemplateList, NamedId};
use crate::zadig::{Client, RequestKind, WriteOutcome};

/// Which system action a template request needs.
fn action(method: &Method) -> &'static str {
    match *method {
        Method::POST => "Template.Create",
        Method::PUT => "Template.Edit",
        Method::DELETE => "Template.Delete",
        _ => "Template.View",
    }
}

/// Refuses an id aslan would not parse (`primitive.ObjectIDFromHex`).
fn template_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument {
            message: format!(
                "the build template id `{}` is not 24 hexadecimal digits",
                id.escape_debug()
            ),
        })
    }
}

/// Turns the transport's generic errors into the template library's.
fn template_error(err: ApiError, id: &str, name: &str) -> ApiError {
    match err {
        ApiError::Server {
            request,
            status: 500,
            description: Some(d),
            ..
        } => {
            if d == "mongo: no documents in result"
                || d.starts_with("failed to find build template with id")
            {
                ApiError::TemplateNotFound {
                    request,
                    id: id.to_owned(),
                    description: d,
                }
            } else if d.contains("template build has beed used") {
                ApiError::TemplateInUse {
                    request,
                    id: id.to_owned(),
                }
            } else if d.contains("E11000") || d.contains("duplicate key") {
                ApiError::TemplateNameTaken {
                    name: name.to_owned(),
                }
            } else {
                ApiError::Server {
                    request,
                    status: 500,
                    code: Some(500),
                    description: Some(d),
                }
            }
        }
        ApiError::NameTaken { .. } => ApiError::TemplateNameTaken {
            name: name.to_owned(),
        },
        ApiError::Forbidden {
            request,
            reason: None,
        } => {
            let action = action(&request.method.parse().unwrap_or(Method::GET));
            ApiError::TemplateForbidden { request, action }
        }
        // A 404/405 on a PUT is not an old Zadig here: the gateway does not
        // route the UI API.
        ApiError::UnsupportedServer { request, status } => ApiError::RouteNotFound {
            request,
            status,
            body: String::new(),
        },
        other => other,
    }
}

impl Client {
    /// Every build template (`GET /api/aslan/template/build?page_num=&page_size=`),
    /// all pages, de-duplicated by id, in the server's order. An error rather
    /// than a partial or inconsistent list: callers prune from it.
    pub async fn list_build_templates(&self) -> Result<Vec<NamedId>, ApiError> {
        let what = "the build templates";
        let all = self
            .read_all_pages(
                what,
                RequestKind::Lookup,
                |t: &NamedId| t.id.clone(),
                |page| {
                    let url = self.url(
                        &["api", "aslan", "template", "build"],
                        &[
                            ("page_num", &page.to_string()),
                            ("page_size", &self.inner.page_size.to_string()),
                        ],
                    );
                    async move {
                        let (resp, size): (BuildTemplateList, usize) = self
                            .get_json_sized(RequestKind::Lookup, url, None, None)
                            .await
                            .map_err(|e| template_error(e, "", ""))?;
                        Ok((resp.total, resp.build_templates, size))
                    }
                },
            )
            .await?;
        let mut names = std::collections::HashSet::new();
        for t in &all {
            if !names.insert(t.name.as_str()) {
                return Err(ApiError::IncompleteListing {
                    what: what.to_owned(),
                    reason: format!(
                        "two templates are named `{}` (Zadig's unique index forbids it: the \
                         answers are not consistent)",
                        self.excerpt(&t.name)
                    ),
                });
            }
        }
        Ok(all)
    }

    /// One build template, whole (`GET /api/aslan/template/build/:id`; needs
    /// `Template.View`).
    pub async fn build_template_model(&self, id: &str) -> Result<BuildTemplateModel, ApiError> {
        self.build_template_raw(id).await.map(|(t, _)| t)
    }

    /// [`Client::build_template_model`], with the answer exactly as read: the
    /// base of a preserving write (read, change what the file says, send back).
    pub async fn build_template_raw(
        &self,
        id: &str,
    ) -> Result<(BuildTemplateModel, Box<str>), ApiError> {
        template_id(id)?;
        let url = self.url(&["api", "aslan", "template", "build", id], &[]);
        let req = self.request(Method::GET, url, None, RequestKind::Lookup, None, None);
        let raw = self
            .send(&req)
            .await
            .map_err(|e| template_error(e, id, ""))?;
        let model: BuildTemplateModel = decode(&raw.body, &req.desc, &self.inner.scrubber)?;
        if !model.id.eq_ignore_ascii_case(id) {
            return Err(ApiError::WrongTemplate {
                request: Box::new(req.desc),
                asked: id.to_owned(),
                got: self.excerpt(&model.id),
            });
        }
        let text = match String::from_utf8(raw.body) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok((model, text.into_boxed_str()))
    }

    /// The builds that use a template, in every project
    /// (`GET /api/aslan/template/build/:id/reference`; no permission checked):
    /// the blast radius of a change to it. An unknown id has none.
    pub async fn build_template_references(
        &self,
        id: &str,
    ) -> Result<Vec<BuildTemplateReference>, ApiError> {
        template_id(id)?;
        let url = self.url(&["api", "aslan", "template", "build", id, "reference"], &[]);
        let refs: Option<Vec<BuildTemplateReference>> = self
            .get_json(RequestKind::Lookup, url, None, None)
            .await
            .map_err(|e| template_error(e, id, ""))?;
        Ok(refs.unwrap_or_default())
    }

    /// Creates a build template (`POST /api/aslan/template/build`; needs
    /// `Template.Create`). `model` is a `models.BuildTemplate` body: a name
    /// and a `pre_build` at least. Never blindly repeated: see
    /// [`WriteOutcome::ResolvedAfterAmbiguity`].
    pub async fn create_build_template<T: Serialize>(
        &self,
        name: &str,
        model: &T,
    ) -> Result<WriteOutcome, ApiError> {
        non_empty("template name", name)?;
        let bytes = body(model, name)?;
        let url = self.url(&["api", "aslan", "template", "build"], &[]);
        let req = self.request(
            Method::POST,
            url,
            Some(bytes),
            RequestKind::Write,
            None,
            None,
        );
        self.create_once(req, &TemplateCreation { name }).await
    }

    /// Replaces a build template (`PUT /api/aslan/template/build/:id`; needs
    /// `Template.Edit`): a `$set` of the whole body, so send the whole model
    /// (read it with [`Client::build_template_raw`]). Empty `team`, `source`,
    /// `jenkins_build` and `post_build` keep their stored values;
    /// `update_time` and `update_by` are stored as sent.
    pub async fn update_build_template<T: Serialize>(
        &self,
        id: &str,
        name: &str,
        model: &T,
    ) -> Result<WriteOutcome, ApiError> {
        template_id(id)?;
        let bytes = body(model, name)?;
        let url = self.url(&["api", "aslan", "template", "build", id], &[]);
        let req = self.request(
            Method::PUT,
            url,
            Some(bytes),
            RequestKind::Write,
            None,
            None,
        );
        self.send(&req)
            .await
            .map(|_| WriteOutcome::Done)
            .map_err(|e| template_error(e, id, name))
    }

    /// Deletes a build template (`DELETE /api/aslan/template/build/:id`; needs
    /// `Template.Delete`). [`ApiError::TemplateInUse`] while builds use it.
    pub async fn delete_build_template(&self, id: &str) -> Result<WriteOutcome, ApiError> {
        template_id(id)?;
        let url = self.url(&["api", "aslan", "template", "build", id], &[]);
        let req = self.request(Method::DELETE, url, None, RequestKind::Write, None, None);
        match self.send(&req).await.map_err(|e| template_error(e, id, "")) {
            Ok(_) => Ok(WriteOutcome::Done),
            // Sent again after a lost answer, and now gone: the first send
            // deleted it.
            Err(ApiError::TemplateNotFound { request, .. }) if request.attempts > 1 => {
                Ok(WriteOutcome::ResolvedAfterAmbiguity)
            }
            Err(e) => Err(e),
        }
    }
}

/// A template's create ([`Client::create_once`]): found again in the list of
/// templates (names are unique); a duplicate refusal of the re-send means the
/// first send committed (the caller verifies the content).
struct TemplateCreation<'a> {
    name: &'a str,
}

impl Creation for TemplateCreation<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn noun(&self) -> &'static str {
        "build template"
    }

    fn classify(&self, err: ApiError) -> ApiError {
        template_error(err, "", self.name)
    }

    fn definitive(&self, err: &ApiError) -> bool {
        matches!(err, ApiError::TemplateNameTaken { .. })
    }

    async fn exists(&self, client: &Client) -> Result<bool, ApiError> {
        let list = client.list_build_templates().await?;
        Ok(list.iter().any(|t| t.name == self.name))
    }

    async fn committed(&self, _client: &Client, err: &ApiError) -> bool {
        matches!(err, ApiError::TemplateNameTaken { .. })
    }
}

fn body<T: Serialize>(model: &T, name: &str) -> Result<Vec<u8>, ApiError> {
    let v = serde_json::to_value(model).map_err(|e| ApiError::InvalidArgument {
        message: format!("build template `{name}` cannot be encoded: {e}"),
    })?;
    to_bytes(&v, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zadig::error::RequestDesc;

    fn desc(method: &str) -> Box<RequestDesc> {
        Box::new(RequestDesc {
            method: method.to_owned(),
            path: "/api/aslan/template/build/65c000000000000000000001".to_owned(),
            build: None,
            project: None,
            attempts: 1,
        })
    }

    fn server(d: &str) -> ApiError {
        ApiError::Server {
            request: desc("GET"),
            status: 500,
            code: Some(500),
            description: Some(d.to_owned()),
        }
    }

    #[test]
    fn plain_500s_are_told_apart_by_their_text() {
        let id = "65c000000000000000000001";
        assert!(matches!(
            template_error(server("mongo: no documents in result"), id, ""),
            ApiError::TemplateNotFound { .. }
        ));
        assert!(matches!(
            template_error(
                server(
                    "failed to find build template with id: x, err: mongo: no documents in result"
                ),
                id,
                ""
            ),
            ApiError::TemplateNotFound { .. }
        ));
        assert!(matches!(
            template_error(
                server("template build has beed used, can't be deleted"),
                id,
                ""
            ),
            ApiError::TemplateInUse { .. }
        ));
        assert!(matches!(
            template_error(server("write exception: write errors: [E11000 duplicate key error]"), id, "t"),
            ApiError::TemplateNameTaken { name } if name == "t"
        ));
        assert!(matches!(
            template_error(server("something else"), id, ""),
            ApiError::Server { .. }
        ));
        let forbidden = template_error(
            ApiError::Forbidden {
                request: desc("PUT"),
                reason: None,
            },
            id,
            "",
        );
        assert!(forbidden.is_auth());
        assert!(
            forbidden.to_string().contains("Template.Edit"),
            "{forbidden}"
        );
    }

    #[test]
    fn ids_are_checked_before_they_are_sent() {
        assert!(template_id("65c000000000000000000001").is_ok());
        for bad in [
            "",
            "65c0",
            "zz0000000000000000000000",
            "../../../../../../x",
        ] {
            assert!(matches!(
                template_id(bad),
                Err(ApiError::InvalidArgument { .. })
            ));
        }
    }
}
