//! Contract tests of the Zadig client against a fake Zadig: what every
//! endpoint sends (method, path, query, body, headers), pagination, look-up
//! memoisation, the typed errors of build-api.md §3, and that the token never
//! shows up in errors, debug dumps or logs.

mod client_support;

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use client_support::{Action, FakeBuild, FakeZadig, LogCapture, Rule, TOKEN};
use secrecy::SecretString;
use serde_json::{Value, json};
use zadig_sync::core::model::{BuildSpec, TemplateBuildSpec};
use zadig_sync::zadig::{ApiError, Client, ClientConfig, WriteOutcome};

fn spec(project: &str, name: &str) -> BuildSpec {
    serde_json::from_value(json!({
        "name": name, "project_key": project, "infrastructure": "kubernetes",
        "build_os": "ubuntu 20.04", "script_type": "shell", "build_script": "make\n",
        "repo_info": [{"codehost_name": "gitlab-main", "repo_namespace": "team", "repo_name": "svc-a",
                       "branch": "main", "remote_name": "origin"}],
        "parameters": [{"key": "GOFLAGS", "type": "string", "default_value": "-mod=vendor"}],
        "services": [{"service_name": "svc-a", "service_module": "svc-a"}],
        "advanced_settings": {"timeout": 60, "cluster_name": "local-20240101120000"}
    }))
    .expect("valid BuildSpec")
}

fn template_spec(project: &str, name: &str) -> TemplateBuildSpec {
    serde_json::from_value(json!({
        "name": name, "project_key": project, "template_name": "go-service-template",
        "target_services": [{"service_name": "svc-a", "service_module": "svc-a",
                             "inputs": [{"key": "GOFLAGS", "value": "-v"}]}]
    }))
    .expect("valid TemplateBuildSpec")
}

fn query_keys(r: &client_support::Recorded) -> Vec<&str> {
    r.query.iter().map(|(k, _)| k.as_str()).collect()
}

// ------------------------------------------------------------------ builds

#[tokio::test]
async fn list_reads_every_page_in_any_order() {
    let fake = FakeZadig::spawn().await;
    let mut names: Vec<String> = (0..45).map(|i| format!("build-{i:02}")).collect();
    fastrand::Rng::with_seed(3).shuffle(&mut names);
    fake.state
        .seed(names.iter().map(|n| FakeBuild::plain("demo", n)));
    fake.state
        .seed((0..3).map(|i| FakeBuild::plain("other", &format!("other-{i}"))));
    let mut cfg = fake.config();
    cfg.page_size = 20;
    let client = Client::new(cfg).expect("client");

    let list = client.list_builds("demo").await.expect("list");
    let got: HashSet<String> = list.iter().map(|b| b.name.clone()).collect();
    assert_eq!(got, names.iter().cloned().collect::<HashSet<_>>());
    assert_eq!(list.len(), 45);

    let reqs = fake.state.hits("GET", "/openapi/build");
    assert_eq!(reqs.len(), 3, "45 builds at 20 per page");
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(r.q("projectKey"), Some("demo"));
        assert_eq!(r.q("pageSize"), Some("20"));
        assert_eq!(r.q("pageNum"), Some((i + 1).to_string().as_str()));
        assert_eq!(
            r.q("projectName"),
            None,
            "projectName wakes the collaboration middleware"
        );
    }
    assert_eq!(client.stats().list.requests, 3);
}

#[tokio::test]
async fn list_defaults_to_pages_of_100() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed((0..130).map(|i| FakeBuild::plain("demo", &format!("b{i}"))));
    let client = fake.client();
    assert_eq!(client.list_builds("demo").await.expect("list").len(), 130);
    let reqs = fake.state.hits("GET", "/openapi/build");
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.q("pageSize") == Some("100")));
}

#[tokio::test]
async fn list_rereads_when_the_total_changes() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed((0..25).map(|i| FakeBuild::plain("demo", &format!("b{i}"))));
    *fake.state.add_after_first_page.lock().expect("lock") =
        Some(FakeBuild::plain("demo", "created-meanwhile"));
    let mut cfg = fake.config();
    cfg.page_size = 10;
    let client = Client::new(cfg).expect("client");

    let list = client.list_builds("demo").await.expect("list");
    assert_eq!(list.len(), 26);
    assert!(list.iter().any(|b| b.name == "created-meanwhile"));
    let page1 = fake
        .state
        .hits("GET", "/openapi/build")
        .into_iter()
        .filter(|r| r.q("pageNum") == Some("1"))
        .count();
    assert_eq!(page1, 2, "re-read from the start");
}

#[tokio::test]
async fn list_is_never_partial() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed((0..5).map(|i| FakeBuild::plain("demo", &format!("b{i}"))));
    fake.state.inflate_total.store(1, Ordering::SeqCst);
    let client = fake.client();
    let err = client.list_builds("demo").await.expect_err("partial");
    assert!(matches!(err, ApiError::IncompleteListing { .. }), "{err:?}");
    assert!(err.to_string().contains("demo"), "{err}");

    // A page that fails after its retries fails the whole list.
    fake.state.inflate_total.store(0, Ordering::SeqCst);
    let mut cfg = fake.config();
    cfg.page_size = 2;
    let client = Client::new(cfg).expect("client");
    fake.state.rule(
        Rule::new("GET", "/openapi/build", usize::MAX, Action::empty(503)).query("pageNum=2"),
    );
    let err = client.list_builds("demo").await.expect_err("page 2 down");
    assert!(
        matches!(err, ApiError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn detail_escapes_the_name_and_sends_the_project() {
    let fake = FakeZadig::spawn().await;
    // No `/`: gin matches routes on the decoded path, so a name with `/` is
    // not addressable (issue 11); the client refuses it before sending.
    let name = "svc a+b ü";
    fake.state.seed([FakeBuild::plain("demo", name)]);
    let client = fake.client();

    let d = client
        .build_detail("demo", name, None)
        .await
        .expect("detail");
    assert_eq!(d.name, name);
    assert_eq!(d.build_env.basic_image_label, "ubuntu 20.04");
    let d2 = client
        .build_detail("demo", name, Some(("svc-a", "mod a")))
        .await
        .expect("detail");
    assert_eq!(d2.name, name);

    let reqs = fake.state.requests();
    assert_eq!(reqs[0].path, "/openapi/build/svc%20a+b%20%C3%BC/detail");
    assert_eq!(query_keys(&reqs[0]), ["projectKey"]);
    assert_eq!(reqs[0].q("projectKey"), Some("demo"));
    assert_eq!(
        query_keys(&reqs[1]),
        ["projectKey", "serviceName", "serviceModule"]
    );
    assert_eq!(reqs[1].q("serviceModule"), Some("mod a"));
    assert!(reqs.iter().all(|r| !r.path.ends_with('/')));
}

#[tokio::test]
async fn stored_build_sends_project_name_and_if_pass_filter() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "svc-a-build")]);
    let client = fake.client();
    let s = client
        .stored_build("demo", "svc-a-build")
        .await
        .expect("stored");
    assert_eq!(s.name, "svc-a-build");
    assert_eq!(s.product_name, "demo");
    assert_eq!(s.infrastructure, "kubernetes");
    let r = &fake.state.requests()[0];
    assert_eq!(
        r.line(),
        "GET /api/aslan/build/build/svc-a-build?projectName=demo&ifPassFilter=true"
    );
    assert_eq!(client.stats().stored.requests, 1);

    let err = client
        .stored_build("demo", "nope")
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some(6523));
}

#[tokio::test]
async fn stored_build_refuses_unaddressable_names_and_hijacked_answers() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "svc-a-build")]);
    let client = fake.client();
    for name in ["serviceModule", "a/b"] {
        let err = client.stored_build("demo", name).await.expect_err(name);
        assert!(
            matches!(err, ApiError::StoredModelUnavailable { .. }),
            "{err:?}"
        );
    }
    assert!(
        fake.state.requests().is_empty(),
        "no request for those names"
    );

    // The collaboration middleware answering in place of the handler.
    fake.state.rule(Rule::new(
        "GET",
        "/api/aslan/build/build/svc-a-build",
        1,
        Action::json(
            200,
            json!({"code": 0, "workflow": [], "product": [], "ifSync": true}),
        ),
    ));
    let err = client
        .stored_build("demo", "svc-a-build")
        .await
        .expect_err("hijacked");
    assert!(matches!(err, ApiError::NotABuild { .. }), "{err:?}");
    assert!(err.to_string().contains("collaboration"), "{err}");
}

#[tokio::test]
async fn create_sends_the_body_as_it_serialises() {
    let fake = FakeZadig::spawn().await;
    let client = fake.client();
    let body = spec("demo", "svc-a-build");
    assert_eq!(
        client.create_build(&body).await.expect("create"),
        WriteOutcome::Done
    );
    let reqs = fake.state.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.line(), "POST /openapi/build?projectKey=demo");
    assert_eq!(r.json(), serde_json::to_value(&body).expect("json"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        r.header("user-agent")
            .is_some_and(|ua| ua.starts_with("zadig-sync/"))
    );
    assert_eq!(fake.state.names("demo"), ["svc-a-build"]);
    assert_eq!(client.stats().write.requests, 1);
}

#[tokio::test]
async fn keep_credentials_are_sent_as_the_mask_and_from_env_is_refused() {
    let fake = FakeZadig::spawn().await;
    let client = fake.client();
    let mut body = spec("demo", "svc-a-build");
    body.parameters = serde_json::from_value(json!([
        {"key": "TOKEN", "type": "string", "default_value": {"keep": true}, "is_credential": true},
        {"key": "PLAIN", "type": "string", "default_value": "x"}
    ]))
    .expect("params");
    client.create_build(&body).await.expect("create");
    let sent = fake.state.requests()[0].json();
    assert_eq!(sent["parameters"][0]["default_value"], "********");
    assert_eq!(sent["parameters"][1]["default_value"], "x");

    body.parameters = serde_json::from_value(json!([
        {"key": "TOKEN", "type": "string", "default_value": {"from_env": "MY_SECRET"}, "is_credential": true}
    ]))
    .expect("params");
    let err = client.update_build(&body).await.expect_err("unresolved");
    assert!(matches!(err, ApiError::UnresolvedValue { .. }), "{err:?}");
    assert!(
        err.to_string().contains("parameters[0].default_value"),
        "{err}"
    );
    assert_eq!(fake.state.requests().len(), 1, "nothing sent");
}

#[tokio::test]
async fn update_uses_put_without_source() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "svc-a-build")]);
    let client = fake.client();
    let mut body = spec("demo", "svc-a-build");
    body.build_script = "make all\n".into();
    assert_eq!(
        client.update_build(&body).await.expect("update"),
        WriteOutcome::Done
    );
    let r = &fake.state.requests()[0];
    assert_eq!(r.line(), "PUT /openapi/build?projectKey=demo");
    assert_eq!(r.json()["build_script"], "make all\n");
    assert_eq!(r.json()["project_key"], "demo");
}

#[tokio::test]
async fn template_builds_use_their_own_routes() {
    let fake = FakeZadig::spawn().await;
    let client = fake.client();
    let mut body = template_spec("demo", "tpl build");
    assert_eq!(
        client.create_template_build(&body).await.expect("create"),
        WriteOutcome::Done
    );
    body.target_services[0].service_module = "other".into();
    assert_eq!(
        client.update_template_build(&body).await.expect("update"),
        WriteOutcome::Done
    );
    let reqs = fake.state.requests();
    assert_eq!(
        reqs[0].line(),
        "POST /openapi/build?source=template&projectKey=demo"
    );
    assert_eq!(
        reqs[1].line(),
        "PUT /openapi/build/tpl%20build/template?projectKey=demo"
    );
    assert_eq!(reqs[1].json(), serde_json::to_value(&body).expect("json"));
    assert!(
        !reqs
            .iter()
            .any(|r| r.method == "PUT" && r.raw_query.contains("source=template")),
        "PUT ?source=template creates; never used"
    );
}

#[tokio::test]
async fn delete_sends_name_build_name_and_project() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([
        FakeBuild::plain("demo", "svc-a-build"),
        FakeBuild::plain("demo", "keep"),
    ]);
    let client = fake.client();
    assert_eq!(
        client
            .delete_build("demo", "svc-a-build")
            .await
            .expect("delete"),
        WriteOutcome::Done
    );
    let r = &fake.state.requests()[0];
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/openapi/build");
    assert_eq!(r.q("name"), Some("svc-a-build"));
    assert_eq!(r.q("buildName"), Some("svc-a-build"));
    assert_eq!(r.q("projectKey"), Some("demo"));
    assert_eq!(fake.state.names("demo"), ["keep"]);
    // Zadig answers 200 when nothing matched.
    client
        .delete_build("demo", "svc-a-build")
        .await
        .expect("idempotent");

    let err = client
        .delete_build("", "keep")
        .await
        .expect_err("no project");
    assert!(matches!(err, ApiError::InvalidArgument { .. }), "{err:?}");
}

// ---------------------------------------------------------------- look-ups

#[tokio::test]
async fn lookups_are_sent_exactly_and_fetched_once() {
    let fake = FakeZadig::spawn().await;
    let client = fake.client();
    for _ in 0..2 {
        let (images, clusters, oa, hosts, dockerfiles, templates) = tokio::join!(
            client.basic_images(),
            client.clusters(),
            client.openapi_clusters(),
            client.code_hosts(),
            client.dockerfile_templates(),
            client.build_templates(),
        );
        let images = images.expect("images");
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].label, "ubuntu 20.04");
        let clusters = clusters.expect("clusters");
        assert_eq!(
            clusters[0].advanced_config.schedule_strategy[0].strategy_name,
            "default"
        );
        assert!(oa.expect("openapi clusters")[0].local);
        let hosts = hosts.expect("code hosts");
        assert_eq!(hosts[0].alias, "gitlab-main");
        assert_eq!(hosts[1].alias, "github");
        assert_eq!(dockerfiles.expect("dockerfiles")[0].name, "go-distroless");
        assert_eq!(templates.expect("templates")[0].name, "go-service-template");
    }
    // And concurrently from clones.
    let c2 = client.clone();
    let (a, b) = tokio::join!(client.basic_images(), c2.basic_images());
    assert!(a.is_ok() && b.is_ok());

    let lines: Vec<String> = fake.state.requests().iter().map(|r| r.line()).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "GET /api/aslan/cluster/clusters",
            "GET /api/aslan/code/codehost",
            "GET /api/aslan/system/basicImages?image_type=sonar",
            "GET /api/aslan/template/build?page_num=1&page_size=9999",
            "GET /api/aslan/template/dockerfile?page_num=1&page_size=9999",
            "GET /openapi/system/cluster",
        ],
        "each look-up exactly once"
    );
    let clusters_req = &fake.state.hits("GET", "/api/aslan/cluster/clusters")[0];
    assert_eq!(clusters_req.header("resources"), None);
    assert_eq!(client.stats().lookup.requests, 6);
    // Zadig masks most code-host secrets, but not every field in every
    // version, and a cluster's kubeconfig comes in full: none of it is kept.
    fake.state.rule(Rule::new(
        "GET",
        "/api/aslan/code/codehost",
        1,
        Action::json(
            200,
            json!([
                {"id": 1, "address": "https://gitlab.example.com", "type": "gitlab", "alias": "gitlab-main",
                 "access_token": "********", "refresh_token": "refresh-secret", "ssh_key": "ssh-secret",
                 "private_access_token": "pat-secret"},
                {"id": 2, "address": "https://github.com", "type": "github"}
            ]),
        ),
    ));
    fake.state.rule(Rule::new(
        "GET",
        "/api/aslan/cluster/clusters",
        1,
        Action::json(
            200,
            json!([{
                "id": "0123456789abcdef12345678", "name": "local-20240101120000", "local": true,
                "status": "normal",
                "advanced_config": {"project_names": ["demo"], "cluster_access_yaml": "kind: secret-yaml",
                    "schedule_strategy": [{"strategy_id": "s1", "strategy_name": "default",
                        "strategy": "normal", "node_labels": [], "tolerations": "", "default": true}]},
                "type": "kubeconfig", "config": "apiVersion: v1\nusers: [{token: kube-secret}]"
            }]),
        ),
    ));
    let fresh = fake.client();
    let (hosts, clusters) = tokio::join!(fresh.code_hosts(), fresh.clusters());
    assert_eq!(hosts.as_ref().expect("code hosts")[0].alias, "gitlab-main");
    // No `alias` field at all: an empty alias, not an error.
    assert_eq!(hosts.as_ref().expect("code hosts")[1].alias, "");
    assert_eq!(clusters.as_ref().expect("clusters").len(), 1);
    let debug = format!("{hosts:?} {clusters:?}");
    for secret in [
        "refresh-secret",
        "ssh-secret",
        "pat-secret",
        "kube-secret",
        "secret-yaml",
    ] {
        assert!(!debug.contains(secret), "{secret} kept");
    }
}

#[tokio::test]
async fn a_failed_lookup_is_not_memoised() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "GET",
        "/api/aslan/code/codehost",
        1,
        Action::json(
            500,
            json!({"code": 500, "description": "db down", "message": "Internal Error: "}),
        ),
    ));
    let client = fake.client();
    let err = client.code_hosts().await.expect_err("500");
    assert!(
        matches!(err, ApiError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(client.code_hosts().await.is_ok());
    assert_eq!(fake.state.hits("GET", "/api/aslan/code/codehost").len(), 2);
}

#[tokio::test]
async fn projects_reads_every_page() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .set_projects((0..7).map(|i| (format!("p{i}"), format!("P{i}"))));
    let mut cfg = fake.config();
    cfg.page_size = 3;
    let client = Client::new(cfg).expect("client");
    let projects = client.projects().await.expect("projects");
    assert_eq!(projects.len(), 7);
    let reqs = fake.state.hits("GET", "/openapi/projects/project");
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].raw_query, "pageNum=3&pageSize=3");
}

// ------------------------------------------------------------------ errors

#[tokio::test]
async fn empty_400_names_the_request_and_the_build() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .rule(Rule::new("POST", "/openapi/build", 1, Action::empty(400)));
    let err = fake
        .client()
        .create_build(&spec("demo", "svc-a-build"))
        .await
        .expect_err("400");
    assert!(matches!(err, ApiError::EmptyBadRequest { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("POST /openapi/build?projectKey=demo"), "{msg}");
    assert!(msg.contains("svc-a-build"), "{msg}");
    assert!(msg.contains("no detail"), "{msg}");
    assert!(msg.contains("wrong JSON type"), "{msg}");
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_transient());
    assert_eq!(
        fake.state.hits("POST", "/openapi/build").len(),
        1,
        "not retried"
    );
}

#[tokio::test]
async fn auth_errors() {
    let fake = FakeZadig::spawn().await;
    let mut cfg = fake.config();
    cfg.token = SecretString::from("wrong-token");
    let bad = Client::new(cfg).expect("client");
    let err = bad.list_builds("demo").await.expect_err("401");
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    assert!(
        err.to_string().contains("missing, invalid or revoked"),
        "{err}"
    );
    assert!(err.is_auth());
    assert_eq!(fake.state.requests().len(), 1, "401 is not retried");

    fake.state
        .forbidden_projects
        .lock()
        .expect("lock")
        .insert("secret-project".into());
    let client = fake.client();
    let err = client
        .build_detail("secret-project", "x", None)
        .await
        .expect_err("403");
    assert!(
        matches!(err, ApiError::Forbidden { reason: None, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("`secret-project`") && msg.contains("does not exist"),
        "{msg}"
    );

    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build",
        1,
        Action::json(403, json!({"reason": "mfa_verification_required"}))
            .with_header("x-zadig-auth-reason", "mfa_verification_required"),
    ));
    let err = client.list_builds("demo").await.expect_err("mfa");
    assert!(
        matches!(&err, ApiError::Forbidden { reason: Some(r), .. } if r == "mfa_verification_required"),
        "{err:?}"
    );
    assert!(err.to_string().contains("multi-factor"), "{err}");
}

#[tokio::test]
async fn business_errors_are_typed_by_code() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([
        FakeBuild::plain("other", "taken"),
        FakeBuild::plain("demo", "referenced"),
    ]);
    fake.state.reference("demo", "referenced", "vm-svc");
    let client = fake.client();

    // 6520 already exists, in another project: names are global.
    let err = client
        .create_build(&spec("demo", "taken"))
        .await
        .expect_err("6520");
    match &err {
        ApiError::NameTaken {
            name,
            other_project,
        } => {
            assert_eq!(name, "taken");
            assert_eq!(other_project.as_deref(), Some("other"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), Some(6520));
    assert!(err.to_string().contains("global"), "{err}");

    // 6520 resolution failure: the description is shown.
    let mut body = spec("demo", "new-build");
    body.build_os = "windows 95".into();
    let err = client.create_build(&body).await.expect_err("6520 image");
    assert!(
        matches!(err, ApiError::Rejected { code: 6520, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("windows 95"), "{err}");
    assert!(!err.is_not_found());

    // 6521 update of a build that does not exist.
    let err = client
        .update_build(&spec("demo", "ghost"))
        .await
        .expect_err("6521");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.code(), Some(6521));

    // 6521 that is a resolution failure, not a not-found.
    fake.state.rule(Rule::new(
        "PUT",
        "/openapi/build",
        1,
        Action::business(6521, "更新编译模块失败", "failed to convert user repository input info into system repository, codehostName: [nope], repoName[svc-a], err: failed to find codehost with name [nope], error is: mongo: no documents in result"),
    ));
    let err = client
        .update_build(&spec("demo", "referenced"))
        .await
        .expect_err("6521 ch");
    assert!(
        matches!(err, ApiError::Rejected { code: 6521, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("codehost"), "{err}");

    // 6523 detail not found; 6523 template update not found.
    let err = client
        .build_detail("demo", "ghost", None)
        .await
        .expect_err("6523");
    assert!(err.is_not_found() && err.code() == Some(6523), "{err:?}");
    let err = client
        .update_template_build(&template_spec("demo", "ghost"))
        .await
        .expect_err("6523 tpl");
    assert!(err.is_not_found(), "{err:?}");

    // 6524 referenced by a VM service.
    let err = client
        .delete_build("demo", "referenced")
        .await
        .expect_err("6524");
    assert!(matches!(err, ApiError::Referenced { .. }), "{err:?}");
    assert!(err.to_string().contains("vm-svc"), "{err}");

    // 7050 licence.
    fake.state.set_licence(false);
    let err = client
        .create_template_build(&template_spec("demo", "tpl"))
        .await
        .expect_err("7050");
    assert!(matches!(err, ApiError::LicenceRequired { .. }), "{err:?}");
    assert!(err.to_string().contains("licence"), "{err}");

    // 400 with a JSON description.
    fake.state.rule(Rule::new(
        "DELETE",
        "/openapi/build",
        1,
        Action::business(400, "Bad Request", "empty build name."),
    ));
    let err = client.delete_build("demo", "x").await.expect_err("400");
    assert!(
        matches!(err, ApiError::Rejected { code: 400, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("empty build name."), "{err}");
}

#[tokio::test]
async fn server_error_shapes() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "b")]);
    let client = fake.client();
    let detail = "/openapi/build/b/detail";

    fake.state.rule(Rule::new(
        "GET",
        detail,
        1,
        Action::json(500, json!({"code": 500, "description": "failed to find cluster of ID: 42", "message": "Internal Error: "})),
    ));
    let err = client
        .build_detail("demo", "b", None)
        .await
        .expect_err("500 json");
    assert!(
        matches!(&err, ApiError::Server { status: 500, code: Some(500), description: Some(d), .. } if d.contains("cluster of ID")),
        "{err:?}"
    );
    assert!(!err.is_transient());

    fake.state
        .rule(Rule::new("GET", detail, 1, Action::empty(500)));
    let err = client
        .build_detail("demo", "b", None)
        .await
        .expect_err("500 empty");
    assert!(
        matches!(
            err,
            ApiError::Server {
                status: 500,
                description: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no detail"), "{err}");
    assert_eq!(
        fake.state.hits("GET", detail).len(),
        2,
        "500 is not retried"
    );

    // gin 404 text: wrong endpoint.
    let mut cfg = fake.config();
    cfg.base_url = format!("{}/zadig", fake.url);
    let wrong = Client::new(cfg).expect("client");
    let err = wrong.list_builds("demo").await.expect_err("404");
    assert!(
        matches!(err, ApiError::RouteNotFound { status: 404, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Invalid path: /zadig/openapi/build"),
        "{err}"
    );

    // Redirects are reported, not followed.
    fake.state.rule(Rule::new(
        "GET",
        detail,
        1,
        Action::empty(301).with_header(
            "location",
            "https://zadig.example.com/openapi/build/b/detail?x=1",
        ),
    ));
    let err = client
        .build_detail("demo", "b", None)
        .await
        .expect_err("301");
    assert!(
        matches!(&err, ApiError::Redirected { status: 301, location, .. } if location == "https://zadig.example.com/openapi/build/b/detail"),
        "{err:?}"
    );

    // A 200 that is not the JSON expected.
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build",
        1,
        Action::json(200, json!({"total": 1, "builds": [{"name": 42}]})),
    ));
    let err = client.list_builds("demo").await.expect_err("decode");
    assert!(
        matches!(&err, ApiError::Decode { at, .. } if at == "builds[0].name"),
        "{err:?}"
    );
}

#[tokio::test]
async fn old_servers_are_detected_on_update() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "b")]);
    fake.state.old_server.store(true, Ordering::SeqCst);
    let client = fake.client();
    let err = client
        .update_build(&spec("demo", "b"))
        .await
        .expect_err("405");
    assert!(
        matches!(err, ApiError::UnsupportedServer { status: 405, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Zadig >= 4.2"), "{err}");
    let err = client
        .update_template_build(&template_spec("demo", "b"))
        .await
        .expect_err("404");
    assert!(matches!(err, ApiError::UnsupportedServer { .. }), "{err:?}");
    assert_eq!(
        fake.state.hits("PUT", "/openapi/build").len(),
        1,
        "405 is not retried"
    );
}

#[tokio::test]
async fn config_errors() {
    let token = || SecretString::from(TOKEN);
    for bad in [
        "zadig.example.com",
        "https://user:pw@zadig.example.com",
        "https://zadig.example.com?token=abc",
    ] {
        let err = Client::new(ClientConfig::new(bad, token())).expect_err(bad);
        assert!(matches!(err, ApiError::Config { .. }), "{err:?}");
    }
    let mut cfg = ClientConfig::new("https://zadig.example.com/", token());
    cfg.concurrency = 0;
    assert!(Client::new(cfg).is_err());

    let mut cfg = ClientConfig::new("https://zadig.example.com/", token());
    cfg.ca_cert = Some(b"not a certificate".to_vec());
    let err = Client::new(cfg).expect_err("bad pem");
    assert!(err.to_string().contains("CA certificate"), "{err}");

    let mut cfg = ClientConfig::new("https://zadig.example.com/", token());
    cfg.ca_cert = Some(TEST_CA.as_bytes().to_vec());
    let client = Client::new(cfg).expect("valid CA");
    assert_eq!(client.endpoint(), "https://zadig.example.com");
}

/// A self-signed CA made for these tests (`openssl req -x509 … -days 36500`).
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBkjCCATegAwIBAgIUYZ/3Cxn5VLCNOD73muJN81bS3/AwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSemFkaWctc3luYyB0ZXN0IENBMCAXDTI2MTEyODA4MTM0M1oY
DzIxMjYxMTA0MDgxMzQzWjAdMRswGQYDVQQDDBJ6YWRpZy1zeW5jIHRlc3QgQ0Ew
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASt+wN6s2tGnGSHhRKGgStttJSChWoY
Ch+SCI0Oi1vAjugk7w/ZPFv7QMKTgNBxrsh595mZo0EqXRVacxgjJABSo1MwUTAd
BgNVHQ4EFgQU/RH8aJi1EumSLBaPfYSQ190PbZMwHwYDVR0jBBgwFoAU/RH8aJi1
EumSLBaPfYSQ190PbZMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBG
AiEAmF9miQN+IaHDXTW+efK5S5zw0kwpvbBVhQS2HJiazoMCIQC9EcRyFvQKoov/
dsO70ADbCII3gBdk4r3C6cJdWukfqg==
-----END CERTIFICATE-----
";

// ----------------------------------------------------------- token hygiene

#[tokio::test]
async fn plain_http_to_a_remote_host_warns() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    Client::new(ClientConfig::new(
        "http://127.0.0.1:9",
        SecretString::from(TOKEN),
    ))
    .expect("ok");
    assert!(!logs.text().contains("plain http"), "{}", logs.text());
    Client::new(ClientConfig::new(
        "http://zadig.example.com",
        SecretString::from(TOKEN),
    ))
    .expect("ok");
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("plain http"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn the_token_never_leaks() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let fake = FakeZadig::spawn().await;
    fake.state.seed([
        FakeBuild::plain("other", "taken"),
        FakeBuild::plain("demo", "b"),
    ]);
    let client = fake.client();
    // A proxy that echoes the request headers back in an error.
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/system/cluster",
        1,
        Action::text(418, &format!("echo: Authorization: Bearer {TOKEN}")),
    ));
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/b/detail",
        2,
        Action::empty(503),
    ));
    fake.state
        .rule(Rule::new("POST", "/openapi/build", 1, Action::Drop));

    let mut errors: Vec<ApiError> = Vec::new();
    errors.extend(client.openapi_clusters().await.err());
    errors.extend(client.create_build(&spec("demo", "taken")).await.err());
    errors.extend(client.update_build(&spec("demo", "ghost")).await.err());
    errors.extend(client.build_detail("demo", "ghost", None).await.err());
    client
        .build_detail("demo", "b", None)
        .await
        .expect("retried");
    let mut cfg = fake.config();
    cfg.token = SecretString::from(format!("{TOKEN}-revoked"));
    let revoked = Client::new(cfg.clone()).expect("client");
    errors.extend(revoked.list_builds("demo").await.err());
    cfg.base_url = "http://127.0.0.1:1".into();
    cfg.retry.max_attempts = 2;
    let unreachable = Client::new(cfg.clone()).expect("client");
    errors.extend(unreachable.list_builds("demo").await.err());
    assert_eq!(errors.len(), 6, "{errors:?}");

    let mut dump = String::new();
    for e in &errors {
        dump.push_str(&format!("{e}\n{e:?}\n{:?}\n", e.request()));
    }
    dump.push_str(&format!("{client:?}\n{cfg:?}\n{:?}\n", client.stats()));
    assert!(
        dump.contains("[redacted]"),
        "the echoed token is scrubbed: {dump}"
    );
    assert!(!dump.contains(TOKEN), "{dump}");

    let text = logs.text();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{dump}\n-----\n{text}");
    }
    assert!(
        text.contains("zadig request"),
        "debug lines are captured: {text}"
    );
    assert!(text.contains("retrying"), "{text}");
    assert!(!text.contains(TOKEN), "token in logs:\n{text}");
    // Not even a prefix of it.
    assert!(!text.contains(&TOKEN[..12]), "token prefix in logs");
}

#[tokio::test]
async fn decode_tolerates_unknown_fields_and_nulls() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build",
        1,
        Action::json(200, json!({"total": 1, "builds": [{"name": "x", "target_services": null, "new": true}], "extra": 1})),
    ));
    fake.state.rule(Rule::new(
        "GET",
        "/api/aslan/system/basicImages",
        1,
        Action::json(200, Value::Null),
    ));
    let client = fake.client();
    let list = client.list_builds("demo").await.expect("list");
    assert_eq!(list[0].name, "x");
    assert!(list[0].target_services.is_empty());
    assert!(client.basic_images().await.expect("null list").is_empty());
}
