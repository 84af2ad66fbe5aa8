//! The emulator's quirk suite: every item of build-api.md §9 (and the
//! stored-model read of build-api-one-read.md), checked over raw HTTP against
//! an in-process emulator. Each test names the section it checks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zadig_sync::emulator::{
    EmulatorConfig, Faults, Perms, Role, RunningEmulator, Seed, SeedBuild, SeedImage, TokenPolicy,
    VmServiceRef, spawn,
};
use zadig_sync::zadig::wire::{PostBuild, StoredBuild};

const ADMIN: &str = "Bearer admin-token";
const LOCAL: &str = "local-20240101120000";

struct Emu {
    emu: RunningEmulator,
    client: reqwest::Client,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an aslan `*HTTPError` body.
    fn assert_error(&self, status: u16, code: i64, message: &str, description: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.json(),
            json!({"code": code, "description": description, "extra": {},
                   "message": message, "type": "error"}),
        );
    }

    /// Asserts a plain Go error body (500).
    fn assert_plain(&self, description: &str) {
        assert_eq!(self.status, 500, "{self:?}");
        assert_eq!(
            self.json(),
            json!({"code": 500, "description": description, "message": "Internal Error: "})
        );
    }

    fn assert_empty(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body, "", "{self:?}");
    }

    fn assert_success(&self) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.json(), json!({"message": "success"}));
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start_with(config: EmulatorConfig) -> Emu {
    let emu = spawn(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawns");
    Emu {
        emu,
        client: client(),
    }
}

async fn start() -> Emu {
    start_with(EmulatorConfig::default()).await
}

impl Emu {
    async fn raw(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.emu.base_url()));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let r = req.send().await.expect("sends");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.expect("body");
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Resp {
        self.raw("GET", path, Some(ADMIN), None).await
    }

    async fn send(&self, method: &str, path: &str, body: &Value) -> Resp {
        self.raw(
            method,
            path,
            Some(ADMIN),
            Some(serde_json::to_vec(body).expect("json")),
        )
        .await
    }

    async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, body).await
    }

    async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send("PUT", path, body).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.raw("DELETE", path, Some(ADMIN), None).await
    }

    fn stored(&self, project: &str, name: &str) -> StoredBuild {
        self.emu
            .handle()
            .stored_build(project, name)
            .unwrap_or_else(|| panic!("{project}/{name} is stored"))
    }
}

fn plain_body(name: &str, project: &str) -> Value {
    json!({"name": name, "project_key": project, "infrastructure": "kubernetes",
           "build_os": "ubuntu 20.04", "script_type": "shell", "build_script": "make\n"})
}

fn full_body(name: &str) -> Value {
    json!({
        "name": name, "project_key": "demo", "infrastructure": "kubernetes",
        "build_os": "ubuntu 20.04", "installs": [{"name": "go", "version": "1.22.1"}],
        "script_type": "shell", "build_script": "#!/bin/bash\nset -e\nmake build && echo <ok>\n",
        "repo_info": [{"codehost_name": "gitlab-main", "repo_namespace": "team", "repo_name": "svc-a",
                       "branch": "main", "remote_name": "origin", "checkout_path": "", "submodules": false}],
        "parameters": [
            {"key": "GOFLAGS", "type": "string", "default_value": "-mod=vendor",
             "is_credential": false, "description": "go flags"},
            {"key": "MODE", "type": "choice", "default_value": "a", "choice_option": ["a", "b"]},
            {"key": "TOKEN", "type": "string", "default_value": "s3cret", "is_credential": true}],
        "services": [{"service_name": "svc-a", "service_module": "svc-a"}],
        "docker_build_step": {"dockerfile_source": "local", "build_context_dir": " $REPONAME_0 ",
                              "dockerfile_directory": "$REPONAME_0/Dockerfile ", "build_args": "",
                              "enable_buildkit": false, "platforms": ""},
        "advanced_settings": {"timeout": 30, "cluster_name": LOCAL, "strategy_name": "high-mem",
                              "resource_spec": {"cpu_limit": 4000, "memory_limit": 8192, "cpu_req": 1000,
                                                "memory_req": 1024, "gpu_limit": ""},
                              "cache_setting": {"enabled": true, "cache_dir": "/root/.cache"},
                              "use_host_docker_daemon": true, "privileged_mode": true,
                              "storages": {"enabled": true, "storages_properties": [
                                  {"provision_type": "dynamic", "storage_class": "cfs",
                                   "storage_size_in_gib": 5, "mount_path": "/data"}]},
                              "custom_annotations": [{"key": "a", "value": 1}],
                              "custom_labels": [{"key": "team", "value": "x"}],
                              "outputs": ["VERSION"]}
    })
}

fn template_body(name: &str) -> Value {
    json!({
        "name": name, "project_key": "demo", "template_name": "go-service-template",
        "target_services": [
            {"service_name": "worker", "service_module": "worker",
             "repo_info": [{"codehost_name": "gitlab-main", "repo_namespace": "demo",
                            "repo_name": "worker", "branch": "main", "remote_name": "origin"}],
             "inputs": [{"key": "LDFLAGS", "value": "-s -w", "type": "string"},
                        {"key": "GO_VERSION", "value": "1.22"},
                        {"key": "NOT_IN_TEMPLATE", "value": "x"}]},
            {"service_name": "worker", "service_module": "scheduler",
             "inputs": [{"key": "REGISTRY_TOKEN", "value": "tok", "is_credential": true}]}
        ]
    })
}

fn tokens(list: &[(&str, Role)]) -> TokenPolicy {
    TokenPolicy::Tokens(
        list.iter()
            .map(|(t, r)| ((*t).to_owned(), r.clone()))
            .collect(),
    )
}

fn project_role(project: &str, perms: Perms) -> Role {
    Role::Project(HashMap::from([(project.to_owned(), perms)]))
}

// ------------------------------------------------------------------ §1.1

#[tokio::test]
async fn s1_1_create_reads_project_from_body_not_query() {
    let e = start().await;
    e.post(
        "/openapi/build?projectKey=platform",
        &plain_body("b1", "demo"),
    )
    .await
    .assert_success();
    assert!(e.emu.handle().stored_build("demo", "b1").is_some());
    assert!(e.emu.handle().stored_build("platform", "b1").is_none());
}

#[tokio::test]
async fn s1_1_put_source_template_is_a_create() {
    let e = start().await;
    e.put("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_success();
    assert_eq!(e.stored("demo", "tb").targets.len(), 2);
    // On an existing build it fails as a create does.
    e.put("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_error(
            400,
            6520,
            "新建编译模块失败",
            "demo项目中有相同的构建名称存在,请检查!",
        );
}

#[tokio::test]
async fn s1_1_put_template_ignores_the_path_name_and_query() {
    let e = start().await;
    e.post("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_success();
    let mut body = template_body("tb");
    body["target_services"] = json!([{"service_name": "only", "service_module": "one"}]);
    e.put(
        "/openapi/build/some-other-name/template?projectKey=platform",
        &body,
    )
    .await
    .assert_success();
    let stored = e.stored("demo", "tb");
    assert_eq!(stored.targets.len(), 1);
    assert_eq!(stored.targets[0].service_module, "one");
}

#[tokio::test]
async fn s1_1_and_s5_5_list_pages_in_insertion_order() {
    let e = start().await;
    for i in 0..25 {
        e.emu.handle().put_stored_build(StoredBuild {
            name: format!("b{i:02}"),
            product_name: "demo".to_owned(),
            source: "zadig".to_owned(),
            ..StoredBuild::default()
        });
    }
    let names = |v: &Value| -> Vec<String> {
        v["builds"]
            .as_array()
            .expect("array")
            .iter()
            .map(|b| b["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let page = e.get("/openapi/build?projectKey=demo").await.json();
    assert_eq!(page["total"], 25);
    assert_eq!(names(&page).len(), 20, "default pageSize is 20");
    assert_eq!(names(&page)[0], "b00");
    let page = e
        .get("/openapi/build?projectKey=demo&pageNum=2")
        .await
        .json();
    assert_eq!(names(&page), ["b20", "b21", "b22", "b23", "b24"]);
    assert_eq!(page["total"], 25);
    for size in ["0", "-1"] {
        let page = e
            .get(&format!("/openapi/build?projectKey=demo&pageSize={size}"))
            .await
            .json();
        assert_eq!(names(&page).len(), 25, "pageSize={size} returns all");
    }
    let page = e
        .get("/openapi/build?projectKey=demo&pageNum=3&pageSize=10")
        .await
        .json();
    assert_eq!(names(&page), ["b20", "b21", "b22", "b23", "b24"]);
    // A non-integer page is a bind error: empty 400.
    e.get("/openapi/build?projectKey=demo&pageNum=abc")
        .await
        .assert_empty(400);
    e.get("/openapi/build?projectKey=demo&pageSize=1.5")
        .await
        .assert_empty(400);
    e.get("/openapi/build")
        .await
        .assert_error(400, 400, "Bad Request", "empty project key.");
    // An empty project lists `[]`, never null (responseHelper).
    let empty = e.get("/openapi/build?projectKey=nothing-here").await;
    assert_eq!(empty.json(), json!({"total": 0, "builds": []}));
}

#[tokio::test]
async fn s1_1_detail_needs_project_key() {
    let e = start().await;
    e.get("/openapi/build/x/detail").await.assert_error(
        400,
        400,
        "Bad Request",
        "empty projectKey.",
    );
    e.get("/openapi/build//detail?projectKey=demo")
        .await
        .assert_error(400, 400, "Bad Request", "empty buildName.");
}

#[tokio::test]
async fn s1_1_and_s5_4_delete_reads_name_and_is_idempotent() {
    let e = start().await;
    e.post("/openapi/build", &plain_body("del-me", "demo"))
        .await
        .assert_success();
    // The docs' `buildName` is not read.
    e.delete("/openapi/build?buildName=del-me&projectKey=demo")
        .await
        .assert_error(400, 400, "Bad Request", "empty build name.");
    assert!(e.emu.handle().stored_build("demo", "del-me").is_some());
    e.delete("/openapi/build?name=del-me&projectKey=demo")
        .await
        .assert_success();
    assert!(e.emu.handle().stored_build("demo", "del-me").is_none());
    // Nothing matched: still 200.
    e.delete("/openapi/build?name=del-me&projectKey=demo")
        .await
        .assert_success();
    // Without projectKey an admin deletes the name in any project.
    e.post("/openapi/build", &plain_body("anywhere", "platform"))
        .await
        .assert_success();
    e.delete("/openapi/build?name=anywhere")
        .await
        .assert_success();
    assert!(e.emu.handle().builds("platform").is_empty());
}

#[tokio::test]
async fn s5_4_delete_is_blocked_by_vm_service_references() {
    let mut seed = Seed::builtin();
    seed.vm_service_refs = vec![
        VmServiceRef {
            project: "demo".to_owned(),
            build: "vm-build".to_owned(),
            service: "svc1".to_owned(),
        },
        VmServiceRef {
            project: "demo".to_owned(),
            build: "vm-build".to_owned(),
            service: "svc2".to_owned(),
        },
    ];
    seed.builds = vec![SeedBuild::Create(plain_body("vm-build", "demo"))];
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    e.delete("/openapi/build?name=vm-build&projectKey=demo")
        .await
        .assert_error(
            400,
            6524,
            "删除构建模块失败",
            "该构建被服务 [svc1,svc2] 引用，请解除引用之后再做删除!",
        );
    assert!(e.emu.handle().stored_build("demo", "vm-build").is_some());
}

#[tokio::test]
async fn s1_1_unknown_paths_wrong_methods_and_trailing_slashes() {
    let e = start().await;
    let r = e.get("/openapi/builds").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, "Invalid path: /openapi/builds")
    );
    assert!(r.content_type().starts_with("text/plain"), "{r:?}");
    // UI paths are reported as aslan sees them (the gateway strips /aslan).
    let r = e.get("/api/aslan/nothing").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, "Invalid path: /api/nothing")
    );
    let r = e.raw("PATCH", "/openapi/build", Some(ADMIN), None).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (405, "Method not allowed: PATCH /openapi/build")
    );
    assert!(r.content_type().starts_with("text/plain"));
    let r = e
        .raw("POST", "/openapi/build/x/detail", Some(ADMIN), None)
        .await;
    assert_eq!(r.status, 405);
    // gin's RedirectTrailingSlash: 301 for GET, 307 otherwise.
    let r = e.get("/openapi/build/?projectKey=demo").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.headers["location"], "/openapi/build?projectKey=demo");
    let r = e.post("/openapi/build/", &plain_body("x", "demo")).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.headers["location"], "/openapi/build");
    assert!(
        e.emu.handle().builds("demo").is_empty(),
        "a redirect does not create"
    );
}

// -------------------------------------------------------------------- §2

#[tokio::test]
async fn s2_1_gateway_needs_a_two_part_authorization() {
    let e = start().await;
    for auth in [
        None,
        Some("admin-token"),
        Some("Bearer  x"),
        Some("Bearer a b"),
        Some("Bearer "),
    ] {
        let r = e
            .raw("GET", "/openapi/build?projectKey=demo", auth, None)
            .await;
        r.assert_empty(401);
    }
    // Even unknown paths need a token.
    e.raw("GET", "/nope", None, None).await.assert_empty(401);
    // The scheme word is not checked.
    let r = e
        .raw(
            "GET",
            "/openapi/build?projectKey=demo",
            Some("Token x"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    // ?token= overrides (and replaces) the header.
    let r = e
        .raw(
            "GET",
            "/openapi/build?projectKey=demo&token=abc",
            Some("broken"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(e.emu.handle().stats().unauthorized, 6);
}

#[tokio::test]
async fn s2_2_per_token_roles() {
    let e = start_with(EmulatorConfig {
        tokens: tokens(&[
            ("root", Role::Admin),
            (
                "viewer",
                project_role(
                    "demo",
                    Perms {
                        view: true,
                        ..Perms::default()
                    },
                ),
            ),
            (
                "creator",
                project_role(
                    "demo",
                    Perms {
                        create: true,
                        ..Perms::default()
                    },
                ),
            ),
            (
                "deleter",
                project_role(
                    "demo",
                    Perms {
                        delete: true,
                        ..Perms::default()
                    },
                ),
            ),
            ("ghost", project_role("no-such-project", Perms::all())),
        ]),
        ..EmulatorConfig::default()
    })
    .await;
    let body = |v: &Value| Some(serde_json::to_vec(v).expect("json"));
    let as_ = |t: &str| format!("Bearer {t}");
    // Unknown token: the gateway's 401.
    e.raw(
        "GET",
        "/openapi/build?projectKey=demo",
        Some("Bearer nope"),
        None,
    )
    .await
    .assert_empty(401);
    // Viewer reads but cannot write.
    assert_eq!(
        e.raw(
            "GET",
            "/openapi/build?projectKey=demo",
            Some(&as_("viewer")),
            None
        )
        .await
        .status,
        200
    );
    e.raw(
        "POST",
        "/openapi/build",
        Some(&as_("viewer")),
        body(&plain_body("v", "demo")),
    )
    .await
    .assert_empty(403);
    // Creator creates, and updates with Create (no Edit check), but cannot read.
    e.raw(
        "POST",
        "/openapi/build",
        Some(&as_("creator")),
        body(&plain_body("c", "demo")),
    )
    .await
    .assert_success();
    e.raw(
        "PUT",
        "/openapi/build",
        Some(&as_("creator")),
        body(&plain_body("c", "demo")),
    )
    .await
    .assert_success();
    e.raw(
        "GET",
        "/openapi/build/c/detail?projectKey=demo",
        Some(&as_("creator")),
        None,
    )
    .await
    .assert_empty(403);
    // Other projects are forbidden.
    e.raw(
        "POST",
        "/openapi/build",
        Some(&as_("creator")),
        body(&plain_body("c2", "platform")),
    )
    .await
    .assert_empty(403);
    // Delete: authorisation comes before the name check.
    e.raw(
        "DELETE",
        "/openapi/build?buildName=c&projectKey=demo",
        Some(&as_("viewer")),
        None,
    )
    .await
    .assert_empty(403);
    e.raw(
        "DELETE",
        "/openapi/build?name=c",
        Some(&as_("deleter")),
        None,
    )
    .await
    .assert_empty(403);
    e.raw(
        "DELETE",
        "/openapi/build?name=c&projectKey=demo",
        Some(&as_("deleter")),
        None,
    )
    .await
    .assert_success();
    // A non-admin naming a project that does not exist: 403 everywhere.
    e.raw(
        "GET",
        "/openapi/build?projectKey=no-such-project",
        Some(&as_("ghost")),
        None,
    )
    .await
    .assert_empty(403);
    e.raw(
        "POST",
        "/openapi/build",
        Some(&as_("ghost")),
        body(&plain_body("g", "no-such-project")),
    )
    .await
    .assert_empty(403);
    // A bind error comes before authorisation.
    e.raw(
        "POST",
        "/openapi/build",
        Some(&as_("viewer")),
        Some(b"{".to_vec()),
    )
    .await
    .assert_empty(400);
    // The admin token works everywhere.
    let r = e
        .raw(
            "GET",
            "/openapi/build?projectKey=platform",
            Some(&as_("root")),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn s2_2_admins_create_in_unknown_projects() {
    let e = start().await;
    e.post("/openapi/build", &plain_body("orphan", "no-such-project"))
        .await
        .assert_success();
    assert_eq!(
        e.stored("no-such-project", "orphan").product_name,
        "no-such-project"
    );
    let list = e.get("/openapi/build?projectKey=other-unknown").await;
    assert_eq!(list.json(), json!({"total": 0, "builds": []}));
    e.get("/openapi/build/x/detail?projectKey=other-unknown")
        .await
        .assert_error(
            400,
            6523,
            "查询编译模块失败",
            "mongo: no documents in result",
        );
    // The project detail is 403 for an unknown project, even for an admin.
    e.get("/openapi/projects/project/detail?projectKey=no-such-project")
        .await
        .assert_empty(403);
}

// ---------------------------------------------------------------- §3/§4

#[tokio::test]
async fn s3_1_wrong_json_types_are_empty_400s() {
    let e = start().await;
    let cases = [
        ("installs", json!("go 1.22")),
        ("docker_build_step", json!([])),
        (
            "docker_build_step",
            json!({"dockerfile_source": "local", "enable_buildkit": "true"}),
        ),
        ("advanced_settings", json!([])),
        (
            "advanced_settings",
            json!({"cluster_name": LOCAL, "timeout": "60"}),
        ),
        ("build_script", json!(42)),
        ("parameters", json!([{"key": "A", "default_value": 1}])),
        ("services", json!({"service_name": "a"})),
        (
            "repo_info",
            json!([{"codehost_name": "gitlab-main", "pr": "1"}]),
        ),
    ];
    for (field, value) in cases {
        let mut body = plain_body("typed", "demo");
        body[field] = value.clone();
        let r = e.post("/openapi/build", &body).await;
        assert_eq!((r.status, r.body.as_str()), (400, ""), "{field} = {value}");
    }
    assert!(e.emu.handle().builds("demo").is_empty());
}

#[tokio::test]
async fn s3_1_syntax_and_required_fields_are_empty_400s() {
    let e = start().await;
    for raw in [&b""[..], b"{", b"not json", b"[1]", b"null"] {
        e.raw("POST", "/openapi/build", Some(ADMIN), Some(raw.to_vec()))
            .await
            .assert_empty(400);
    }
    for field in [
        "name",
        "project_key",
        "infrastructure",
        "build_os",
        "script_type",
    ] {
        let mut missing = plain_body("req", "demo");
        missing.as_object_mut().expect("object").remove(field);
        e.post("/openapi/build", &missing).await.assert_empty(400);
        // `binding:"required"` fails on the zero value too.
        let mut blank = plain_body("req", "demo");
        blank[field] = json!("");
        e.post("/openapi/build", &blank).await.assert_empty(400);
        e.put("/openapi/build", &blank).await.assert_empty(400);
    }
    // The query projectKey does not stand in for the body's.
    let mut body = plain_body("req", "demo");
    body.as_object_mut().expect("object").remove("project_key");
    e.post("/openapi/build?projectKey=demo", &body)
        .await
        .assert_empty(400);
}

#[tokio::test]
async fn s4_unknown_fields_null_slices_and_trailing_bytes_are_fine() {
    let e = start().await;
    let mut body = plain_body("lenient", "demo");
    body["description"] = json!("a doc field the code does not have");
    body["docker_build_step"] = Value::Null;
    body["installs"] = Value::Null;
    body["services"] = Value::Null;
    body["advanced_settings"] = Value::Null;
    let mut raw = serde_json::to_vec(&body).expect("json");
    raw.extend_from_slice(b"\n{garbage after the first value");
    e.raw("POST", "/openapi/build", Some(ADMIN), Some(raw))
        .await
        .assert_success();
    assert_eq!(e.stored("demo", "lenient").timeout, 60);
}

#[tokio::test]
async fn s3_2_nested_required_tags_are_not_enforced() {
    let e = start().await;
    let mut body = plain_body("nested", "demo");
    body["repo_info"] = json!([{"codehost_name": "gitlab-main", "repo_name": "r"}]);
    body["installs"] = json!([{}]);
    body["parameters"] = json!([{"key": "K"}]);
    e.post("/openapi/build", &body).await.assert_success();
    let stored = e.stored("demo", "nested");
    assert_eq!(stored.repos[0].branch, "");
    assert_eq!(
        stored.repos[0].remote_name, "",
        "an omitted remote_name is stored as \"\""
    );
}

#[tokio::test]
async fn s3_2_template_target_services_must_be_present_and_non_empty() {
    let e = start().await;
    let mut body = template_body("t");
    body.as_object_mut()
        .expect("object")
        .remove("target_services");
    e.post("/openapi/build?source=template", &body)
        .await
        .assert_empty(400);
    body["target_services"] = Value::Null;
    e.post("/openapi/build?source=template", &body)
        .await
        .assert_empty(400);
    body["template_name"] = json!("");
    body["target_services"] = json!([]);
    e.post("/openapi/build?source=template", &body)
        .await
        .assert_empty(400);
    body["template_name"] = json!("go-service-template");
    e.post("/openapi/build?source=template", &body)
        .await
        .assert_error(
            400,
            400,
            "Bad Request",
            "target_service must have at least one item in it",
        );
    e.put("/openapi/build/t/template", &body)
        .await
        .assert_error(
            400,
            400,
            "Bad Request",
            "target_service must have at least one item in it",
        );
}

// ------------------------------------------------------------- §3.1/§3.3

#[tokio::test]
async fn s3_3_names_are_global_and_the_duplicate_names_the_other_project() {
    let e = start().await;
    e.post("/openapi/build", &plain_body("shared-name", "platform"))
        .await
        .assert_success();
    e.post("/openapi/build", &plain_body("shared-name", "demo"))
        .await
        .assert_error(
            400,
            6520,
            "新建编译模块失败",
            "platform项目中有相同的构建名称存在,请检查!",
        );
    // Names are trimmed before the check.
    e.post("/openapi/build", &plain_body("  shared-name ", "demo"))
        .await
        .assert_error(
            400,
            6520,
            "新建编译模块失败",
            "platform项目中有相同的构建名称存在,请检查!",
        );
    e.post(
        "/openapi/build?source=template",
        &template_body("shared-name"),
    )
    .await
    .assert_error(
        400,
        6520,
        "新建编译模块失败",
        "platform项目中有相同的构建名称存在,请检查!",
    );
}

#[tokio::test]
async fn s3_3_not_found_texts() {
    let e = start().await;
    e.post(
        "/openapi/build",
        &plain_body("only-in-platform", "platform"),
    )
    .await
    .assert_success();
    e.put("/openapi/build", &plain_body("only-in-platform", "demo")).await.assert_error(
        400,
        6521,
        "更新编译模块失败",
        "failed to find build module, buildName: only-in-platform, projectName: demo, err: mongo: no documents in result",
    );
    e.put("/openapi/build/x/template", &template_body("missing")).await.assert_error(
        400,
        6523,
        "查询编译模块失败",
        "failed to find build module, buildName:missing, projectName:demo err: mongo: no documents in result",
    );
    e.get("/openapi/build/only-in-platform/detail?projectKey=demo")
        .await
        .assert_error(
            400,
            6523,
            "查询编译模块失败",
            "mongo: no documents in result",
        );
}

#[tokio::test]
async fn s3_3_resolution_errors_on_create_and_update() {
    let e = start().await;
    e.post("/openapi/build", &plain_body("target", "demo"))
        .await
        .assert_success();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"repo_info": [{"codehost_name": "nope", "repo_name": "r"}]}),
            "failed to convert user repository input info into system repository, codehostName: [nope], repoName[r], err: failed to find codehost with name [nope], error is: mongo: no documents in result",
        ),
        (
            json!({"repo_info": [{"repo_name": "r"}]}),
            "failed to convert user repository input info into system repository, codehostName: [], repoName[r], err: failed to find codehost with name [], error is: mongo: no documents in result",
        ),
        (
            json!({"build_os": "windows 95"}),
            "failed to find the basic image of name: windows 95, error is: mongo: no documents in result",
        ),
        (
            json!({"advanced_settings": {"cluster_name": "nope"}}),
            "failed to find cluster of name: nope, error: mongo: no documents in result",
        ),
        (
            json!({"advanced_settings": {"timeout": 5}}),
            "failed to find cluster of name: , error: mongo: no documents in result",
        ),
        (
            json!({"docker_build_step": {"dockerfile_source": "git"}}),
            "unsupported dockerfile type, it can only be local or template",
        ),
        (
            json!({"docker_build_step": {"dockerfile_source": "template", "template_name": "nope"}}),
            "failed to find the dockerfile template of name: [nope], err: mongo: no documents in result",
        ),
        (
            json!({"advanced_settings": {"cluster_name": LOCAL, "resource_spec": {"gpu_limit": "1"}}}),
            "format of gpu request is incorrect",
        ),
    ];
    for (patch, description) in cases {
        for (method, name, code, message) in [
            ("POST", "fresh", 6520, "新建编译模块失败"),
            ("PUT", "target", 6521, "更新编译模块失败"),
        ] {
            let mut body = plain_body(name, "demo");
            for (k, v) in patch.as_object().expect("object") {
                body[k] = v.clone();
            }
            e.send(method, "/openapi/build", &body).await.assert_error(
                400,
                code,
                message,
                description,
            );
        }
    }
    assert!(e.emu.handle().stored_build("demo", "fresh").is_none());
}

#[tokio::test]
async fn s3_2_validation_order_cluster_then_image_then_codehost_then_docker() {
    let e = start().await;
    let mut body = plain_body("order", "demo");
    body["build_os"] = json!("bad-os");
    body["repo_info"] = json!([{"codehost_name": "bad-host"}]);
    body["docker_build_step"] = json!({"dockerfile_source": "bad"});
    body["advanced_settings"] = json!({"cluster_name": "bad-cluster"});
    let r = e.post("/openapi/build", &body).await;
    assert!(
        r.json()["description"]
            .as_str()
            .expect("desc")
            .contains("cluster of name: bad-cluster")
    );
    body["advanced_settings"] = Value::Null;
    let r = e.post("/openapi/build", &body).await;
    assert!(
        r.json()["description"]
            .as_str()
            .expect("desc")
            .contains("basic image")
    );
    body["build_os"] = json!("ubuntu 20.04");
    let r = e.post("/openapi/build", &body).await;
    assert!(
        r.json()["description"]
            .as_str()
            .expect("desc")
            .contains("bad-host")
    );
    body["repo_info"] = Value::Null;
    let r = e.post("/openapi/build", &body).await;
    assert!(
        r.json()["description"]
            .as_str()
            .expect("desc")
            .contains("unsupported dockerfile")
    );
}

#[tokio::test]
async fn s3_3_template_errors_are_plain_500s() {
    let e = start().await;
    let mut body = template_body("tpl");
    body["template_name"] = json!("no-such-template");
    e.post("/openapi/build?source=template", &body).await.assert_plain(
        "failed to find the build template specified by the user, template name: [no-such-template], err: mongo: no documents in result",
    );
    let mut body = template_body("tpl");
    body["target_services"][0]["repo_info"][0]["codehost_name"] = json!("nope");
    e.post("/openapi/build?source=template", &body).await.assert_plain(
        "failed to convert user repository input info into system repository, codehostName: [nope], repoName[worker], err: failed to find codehost with name [nope], error is: mongo: no documents in result",
    );
    // The same on the template update.
    e.post("/openapi/build?source=template", &template_body("tpl"))
        .await
        .assert_success();
    e.put("/openapi/build/tpl/template", &body).await.assert_plain(
        "failed to convert user repository input info into system repository, codehostName: [nope], repoName[worker], err: failed to find codehost with name [nope], error is: mongo: no documents in result",
    );
}

#[tokio::test]
async fn s3_3_template_endpoints_need_a_licence() {
    let mut seed = Seed::builtin();
    seed.template_licence = false;
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let licence = "用户许可证不可用，请检查许可证后重试";
    e.post("/openapi/build?source=template", &template_body("t"))
        .await
        .assert_error(400, 7050, licence, "");
    e.put("/openapi/build?source=template", &template_body("t"))
        .await
        .assert_error(400, 7050, licence, "");
    e.put("/openapi/build/t/template", &template_body("t"))
        .await
        .assert_error(400, 7050, licence, "");
    e.post("/openapi/build", &plain_body("plain-ok", "demo"))
        .await
        .assert_success();
}

#[tokio::test]
async fn s3_1_null_elements_panic_into_empty_500s() {
    let e = start().await;
    let mut body = plain_body("nil", "demo");
    body["services"] = json!([null]);
    e.post("/openapi/build", &body).await.assert_empty(500);
    assert!(e.emu.handle().stored_build("demo", "nil").is_none());
}

// ------------------------------------------------------------------ §5.1

#[tokio::test]
async fn s5_1_create_defaults_without_advanced_settings() {
    let e = start().await;
    let mut body = plain_body("defaults", "demo");
    body["repo_info"] = json!([{"codehost_name": "gitlab-main", "repo_namespace": "team",
                                "repo_name": "svc", "branch": "main", "remote_name": "origin"}]);
    body["services"] = json!([{"service_name": "s", "service_module": "m"}]);
    e.post("/openapi/build", &body).await.assert_success();
    let b = e.stored("demo", "defaults");
    let pre = b.pre_build.clone().expect("pre_build");
    assert_eq!(b.source, "zadig");
    assert_eq!(b.timeout, 60);
    assert!(!b.advanced_setting_modified);
    assert_eq!(pre.cluster_id, "0123456789abcdef12345678");
    assert_eq!(
        pre.strategy_id, "65b000000000000000000001",
        "the local default strategy"
    );
    assert_eq!(pre.res_req, "low");
    assert_eq!(
        (pre.res_req_spec.cpu_limit, pre.res_req_spec.memory_limit),
        (1000, 512)
    );
    assert_eq!(
        (pre.res_req_spec.cpu_req, pre.res_req_spec.memory_req),
        (0, 0)
    );
    assert_eq!(b.cache_dir_type, "workspace");
    assert!(!b.cache_enable);
    let storages = pre.storages.expect("storages");
    assert!(!storages.enabled && storages.storages_properties.is_empty());
    assert_eq!(pre.image_from, "koderover");
    assert_eq!(pre.build_os, "ubuntu 20.04");
    assert_eq!(pre.image_id, "64f0c30000000000000000a1");
    let names: Vec<&str> = b.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["IMAGE", "PKG_FILE"]);
    assert_eq!(b.repos[0].source, "gitlab");
    assert_eq!(b.repos[0].codehost_id, 1);
    assert_eq!(
        (
            b.repos[0].repo_owner.as_str(),
            b.repos[0].repo_namespace.as_str()
        ),
        ("team", "team")
    );
    assert_eq!(b.targets[0].product_name, "demo");
    assert_eq!(b.post_build, Some(PostBuild::default()));
    assert_eq!(b.update_by, "Admin");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    assert!((now - b.update_time).abs() <= 5);
}

#[tokio::test]
async fn s5_1_create_with_advanced_settings() {
    let e = start().await;
    e.post("/openapi/build", &full_body("full"))
        .await
        .assert_success();
    let b = e.stored("demo", "full");
    let pre = b.pre_build.clone().expect("pre_build");
    assert!(b.advanced_setting_modified);
    assert_eq!(b.timeout, 30);
    assert_eq!(
        pre.strategy_id, "65b000000000000000000002",
        "high-mem by name"
    );
    assert_eq!(pre.res_req, "low", "4000/8192/1000/1024 is the low preset");
    assert_eq!(b.cache_dir_type, "user_defined");
    assert_eq!(b.cache_user_dir, "/root/.cache");
    assert!(b.enable_privileged_mode);
    assert!(pre.use_host_docker_daemon);
    assert_eq!(pre.custom_annotations[0].value, json!(1));
    assert_eq!(
        pre.storages.expect("storages").storages_properties[0].mount_path,
        "/data"
    );
    let names: Vec<&str> = b.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["IMAGE", "PKG_FILE", "VERSION"]);
    let docker = b.post_build.expect("post").docker_build.expect("docker");
    assert_eq!(docker.work_dir, "$REPONAME_0", "trimmed");
    assert_eq!(docker.docker_file, "$REPONAME_0/Dockerfile");
    assert_eq!(pre.envs[2].value, "s3cret");

    // Unknown strategy → "" (not the default); spec presets and define; no
    // timeout → 0; disabled cache keeps no directory and no type.
    let mut body = plain_body("adv2", "demo");
    body["advanced_settings"] = json!({"cluster_name": "prod-k8s", "strategy_name": "nope",
        "resource_spec": {"cpu_limit": 16000, "memory_limit": 32768, "cpu_req": 4000, "memory_req": 4096},
        "cache_setting": {"enabled": false, "cache_dir": "/ignored"}});
    e.post("/openapi/build", &body).await.assert_success();
    let b = e.stored("demo", "adv2");
    let pre = b.pre_build.expect("pre_build");
    assert_eq!(pre.cluster_id, "65a000000000000000000001");
    assert_eq!(pre.strategy_id, "");
    assert_eq!(pre.res_req, "high");
    assert_eq!(b.timeout, 0);
    assert_eq!(
        (b.cache_dir_type.as_str(), b.cache_user_dir.as_str()),
        ("", "")
    );
    assert_eq!(pre.storages, None);
    let mut body = plain_body("adv3", "demo");
    body["advanced_settings"] =
        json!({"cluster_name": LOCAL, "resource_spec": {"cpu_limit": 1234}});
    e.post("/openapi/build", &body).await.assert_success();
    assert_eq!(
        e.stored("demo", "adv3").pre_build.expect("pre").res_req,
        "define"
    );
}

#[tokio::test]
async fn s5_1_images_code_hosts_and_dockerfile_templates() {
    let mut seed = Seed::builtin();
    seed.images.push(SeedImage {
        id: "64f0c30000000000000000c1".to_owned(),
        label: "my-image".to_owned(),
        value: "registry.example.com/img:1".to_owned(),
        image_from: "custom".to_owned(),
        image_type: String::new(),
    });
    seed.code_hosts.push(zadig_sync::emulator::SeedCodeHost {
        id: 3,
        alias: "raw-git".to_owned(),
        host_type: "other".to_owned(),
        address: "https://git.example.com".to_owned(),
        integration_level: "system".to_owned(),
    });
    seed.code_hosts.push(zadig_sync::emulator::SeedCodeHost {
        id: 4,
        alias: "project-host".to_owned(),
        host_type: "gitlab".to_owned(),
        address: "https://p.example.com".to_owned(),
        integration_level: "project".to_owned(),
    });
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let mut body = plain_body("custom", "demo");
    body["build_os"] = json!("my-image");
    body["repo_info"] = json!([{"codehost_name": "raw-git", "repo_namespace": "/group/",
                                "repo_name": "/repo/", "branch": "main"}]);
    body["docker_build_step"] = json!({"dockerfile_source": "template", "template_name": "go-distroless",
                                       "dockerfile_directory": "ignored/Dockerfile"});
    e.post("/openapi/build", &body).await.assert_success();
    let b = e.stored("demo", "custom");
    let pre = b.pre_build.clone().expect("pre");
    assert_eq!(pre.image_from, "custom");
    assert_eq!(
        pre.build_os, "registry.example.com/img:1",
        "custom images store the value"
    );
    assert_eq!(b.repos[0].repo_owner, "group");
    assert_eq!(b.repos[0].repo_name, "repo");
    assert_eq!(
        b.repos[0].repo_namespace, "/group/",
        "only owner and name are trimmed"
    );
    let docker = b.post_build.expect("post").docker_build.expect("docker");
    assert_eq!(docker.template_id, "65d000000000000000000001");
    assert_eq!(docker.template_name, "go-distroless");
    assert_eq!(docker.docker_file, "");
    // Project-level code hosts cannot be named.
    let mut body = plain_body("proj-host", "demo");
    body["repo_info"] = json!([{"codehost_name": "project-host", "repo_name": "r"}]);
    assert_eq!(e.post("/openapi/build", &body).await.json()["code"], 6520);
}

#[tokio::test]
async fn s5_1_update_by_is_the_jwt_name_claim() {
    let e = start().await;
    // {"name":"Alice Liddell","uid":"u1"}
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiQWxpY2UgTGlkZGVsbCIsInVpZCI6InUxIn0.c2ln";
    e.raw(
        "POST",
        "/openapi/build",
        Some(&format!("Bearer {jwt}")),
        Some(serde_json::to_vec(&plain_body("jwt", "demo")).expect("json")),
    )
    .await
    .assert_success();
    assert_eq!(e.stored("demo", "jwt").update_by, "Alice Liddell");
    let list = e.get("/openapi/build?projectKey=demo").await.json();
    assert_eq!(list["builds"][0]["update_by"], "Alice Liddell");
}

// ------------------------------------------------------------------ §5.2

#[tokio::test]
async fn s5_2_update_is_a_full_replace() {
    let e = start().await;
    e.post("/openapi/build", &full_body("replace"))
        .await
        .assert_success();
    // UI-only settings, made out of band.
    let mut b = e.stored("demo", "replace");
    b.desc = "kept".to_owned();
    b.vm_labels = vec!["linux".to_owned()];
    b.template_id = "65c000000000000000000001".to_owned();
    let mut post = b.post_build.clone().expect("post");
    post.scripts = "echo post".to_owned();
    post.file_archive = Some(json!({"file_location": "out/"}));
    post.object_storage_upload = Some(json!({"enabled": true, "object_storage_id": "s3"}));
    b.post_build = Some(post);
    let pre = b.pre_build.as_mut().expect("pre");
    pre.enable_proxy = true;
    pre.upload_pkg = true;
    pre.namespace = "ns".to_owned();
    e.emu.handle().put_stored_build(b);
    let id_before = e.stored("demo", "replace").id;

    let mut body = plain_body("replace", "demo");
    body["parameters"] = json!([
        {"key": "TOKEN", "type": "string", "default_value": "********", "is_credential": true},
        {"key": "NEW", "type": "string", "default_value": "********"}]);
    e.put("/openapi/build", &body).await.assert_success();
    let b = e.stored("demo", "replace");
    assert_eq!(b.id, id_before);
    assert_eq!(b.desc, "kept");
    assert!(b.vm_labels.is_empty());
    assert_eq!(
        b.template_id, "",
        "a template build silently becomes a plain build"
    );
    assert!(b.targets.is_empty(), "omitting services unbinds them");
    assert_eq!(b.timeout, 60, "defaults apply again");
    assert!(!b.advanced_setting_modified);
    assert!(!b.enable_privileged_mode);
    let post = b.post_build.expect("post");
    assert_eq!(post.scripts, "");
    assert_eq!(post.file_archive, None);
    assert_eq!(post.object_storage_upload, None);
    assert_eq!(post.docker_build, None);
    let pre = b.pre_build.expect("pre");
    assert!(!pre.enable_proxy && !pre.upload_pkg && pre.namespace.is_empty());
    assert_eq!(
        pre.envs[0].value, "s3cret",
        "******** keeps the stored value"
    );
    assert_eq!(pre.envs[1].value, "", "a new key with ******** gets \"\"");
    let names: Vec<&str> = b.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["IMAGE", "PKG_FILE"]);
}

#[tokio::test]
async fn s5_2_updating_a_jenkins_build_keeps_its_source() {
    let e = start().await;
    e.emu.handle().put_stored_build(StoredBuild {
        name: "jenkins".to_owned(),
        product_name: "demo".to_owned(),
        source: "jenkins".to_owned(),
        jenkins_build: Some(json!({"jenkins_id": "j", "job_name": "job"})),
        ..StoredBuild::default()
    });
    e.put("/openapi/build", &plain_body("jenkins", "demo"))
        .await
        .assert_success();
    let b = e.stored("demo", "jenkins");
    assert_eq!(b.source, "jenkins");
    assert!(b.jenkins_build.is_some());
    assert!(b.pre_build.is_some(), "an inconsistent hybrid");
}

// ------------------------------------------------------------------ §5.3

#[tokio::test]
async fn s5_3_template_create_merges_inputs_into_template_variables() {
    let e = start().await;
    e.post("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_success();
    let b = e.stored("demo", "tb");
    assert_eq!(b.template_id, "65c000000000000000000001");
    assert_eq!(b.timeout, 0);
    assert!(b.advanced_setting_modified);
    assert!(b.repos.is_empty());
    let pre = b.pre_build.clone().expect("placeholder");
    assert_eq!(pre.image_id, "61af6b575c9beafb9ab130dc");
    assert_eq!(
        (pre.build_os.as_str(), pre.image_from.as_str()),
        ("focal", "koderover")
    );
    assert_eq!(pre.cluster_id, "0123456789abcdef12345678");
    assert_eq!(
        (pre.res_req.as_str(), pre.res_req_spec.cpu_limit),
        ("low", 1000)
    );
    assert_eq!(b.post_build, Some(PostBuild::default()));
    let worker = &b.targets[0];
    assert_eq!(worker.repos[0].repo_owner, "demo");
    let keys: Vec<&str> = worker.envs.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(
        keys,
        ["GO_VERSION", "LDFLAGS", "REGISTRY_TOKEN"],
        "template order, unknown keys dropped"
    );
    assert_eq!(worker.envs[0].value, "1.22");
    assert_eq!(
        worker.envs[0].kv_type, "",
        "an omitted input type becomes \"\""
    );
    assert_eq!(worker.envs[0].description, "Go toolchain version");
    assert_eq!(worker.envs[1].kv_type, "string");
    assert_eq!(worker.envs[2].value, "", "template default");
    assert!(worker.envs[2].is_credential);
    let scheduler = &b.targets[1];
    assert_eq!(scheduler.envs[2].value, "tok");
    assert_eq!(scheduler.envs[0].value, "1.21", "template default");
}

#[tokio::test]
async fn s5_3_template_update_replaces_only_template_and_targets() {
    let e = start().await;
    e.post("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_success();
    let mut b = e.stored("demo", "tb");
    b.timeout = 99;
    b.desc = "ui".to_owned();
    e.emu.handle().put_stored_build(b);
    let mut body = template_body("tb");
    body["target_services"] = json!([{"service_name": "worker", "service_module": "worker",
        "inputs": [{"key": "REGISTRY_TOKEN", "value": "********", "is_credential": true}]}]);
    e.put("/openapi/build/tb/template", &body)
        .await
        .assert_success();
    let b = e.stored("demo", "tb");
    assert_eq!(b.timeout, 99);
    assert_eq!(b.desc, "ui");
    assert_eq!(b.targets.len(), 1);
    assert_eq!(
        b.targets[0].envs[2].value, "********",
        "no mask handling for inputs"
    );
    assert_eq!(
        b.pre_build.expect("pre").image_id,
        "61af6b575c9beafb9ab130dc"
    );
}

// ------------------------------------------------------------ §4.4/§5.6

#[tokio::test]
async fn s4_4_detail_projection() {
    let e = start().await;
    e.post("/openapi/build", &full_body("det"))
        .await
        .assert_success();
    let mut b = e.stored("demo", "det");
    b.post_build.as_mut().expect("post").file_archive = None;
    e.emu.handle().put_stored_build(b);
    let r = e.get("/openapi/build/det/detail?projectKey=demo").await;
    // Go escapes <, > and & in JSON strings.
    assert!(
        r.body.contains(r"\u0026\u0026 echo \u003cok\u003e"),
        "{}",
        r.body
    );
    let d = r.json();
    let keys: Vec<&str> = d
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "project_key",
            "name",
            "source",
            "target_services",
            "template_name",
            "update_by",
            "update_time",
            "repos",
            "build_env",
            "advanced_settings",
            "build_script",
            "parameters",
            "outputs",
            "post_build"
        ]
    );
    assert_eq!(d["template_name"], "");
    assert_eq!(
        d["repos"][0],
        json!({"source": "gitlab", "repo_owner": "team", "repo_name": "svc-a",
        "branch": "main", "remote_name": "origin", "checkout_path": "", "submodules": false, "hidden": false})
    );
    assert_eq!(
        d["build_env"],
        json!({"basic_image_id": "64f0c30000000000000000a1",
        "basic_image_label": "ubuntu 20.04", "installs": [{"name": "go", "version": "1.22.1"}]})
    );
    let adv = &d["advanced_settings"];
    assert_eq!(adv["storages"], Value::Null);
    assert_eq!(adv["privileged_mode"], false);
    assert_eq!(adv["custom_annotations"], json!([]));
    assert_eq!(adv["custom_labels"], json!([]));
    assert_eq!(adv["outputs"], json!([]));
    assert_eq!(adv["use_host_docker_daemon"], true);
    assert_eq!(adv["timeout"], 30);
    assert_eq!(adv["cluster_name"], LOCAL);
    assert_eq!(adv["strategy_name"], "high-mem");
    assert_eq!(
        adv["cache_setting"],
        json!({"enabled": true, "cache_dir": "/root/.cache"})
    );
    assert_eq!(
        adv["resource_spec"],
        json!({"cpu_limit": 4000, "memory_limit": 8192,
        "cpu_req": 1000, "memory_req": 1024, "gpu_limit": ""})
    );
    // No description or choices; credentials in plain text.
    assert_eq!(
        d["parameters"],
        json!([
        {"key": "GOFLAGS", "value": "-mod=vendor", "type": "string", "is_credential": false},
        {"key": "MODE", "value": "a", "type": "choice", "is_credential": false},
        {"key": "TOKEN", "value": "s3cret", "type": "string", "is_credential": true}])
    );
    assert_eq!(
        d["outputs"][2],
        json!({"name": "VERSION", "description": ""})
    );
    let post = d["post_build"].as_object().expect("post");
    assert!(!post.contains_key("file_archive"), "omitted when nil");
    assert_eq!(post["object_storage_upload"], Value::Null);
    assert_eq!(post["docker_build"]["source"], "local");
    assert_eq!(
        d["target_services"],
        json!([{"service_name": "svc-a", "service_module": "svc-a"}])
    );
}

#[tokio::test]
async fn s5_6_detail_service_switch_only_for_template_builds() {
    let e = start().await;
    e.post("/openapi/build?source=template", &template_body("tb"))
        .await
        .assert_success();
    let whole = e
        .get("/openapi/build/tb/detail?projectKey=demo")
        .await
        .json();
    assert_eq!(whole["template_name"], "go-service-template");
    assert_eq!(whole["repos"], json!([]));
    assert_eq!(whole["parameters"], json!([]));
    assert_eq!(whole["advanced_settings"]["timeout"], 0);
    // The placeholder image matches no image: zero id, empty label.
    assert_eq!(
        whole["build_env"]["basic_image_id"],
        "000000000000000000000000"
    );
    assert_eq!(whole["build_env"]["basic_image_label"], "");
    let worker = e
        .get("/openapi/build/tb/detail?projectKey=demo&serviceName=worker&serviceModule=worker")
        .await
        .json();
    assert_eq!(worker["repos"][0]["repo_name"], "worker");
    let keys: Vec<&str> = worker["parameters"]
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["GO_VERSION", "LDFLAGS", "REGISTRY_TOKEN"]);
    assert!(
        worker["parameters"][0].get("type").is_none(),
        "type omitted when \"\""
    );
    // Only one of the two: no switch.
    let half = e
        .get("/openapi/build/tb/detail?projectKey=demo&serviceName=worker")
        .await
        .json();
    assert_eq!(half["repos"], json!([]));
    let none = e
        .get("/openapi/build/tb/detail?projectKey=demo&serviceName=x&serviceModule=y")
        .await
        .json();
    assert_eq!(none["repos"], json!([]));
    // Plain builds ignore the switch.
    e.post("/openapi/build", &full_body("plain"))
        .await
        .assert_success();
    let plain = e
        .get("/openapi/build/plain/detail?projectKey=demo&serviceName=svc-a&serviceModule=svc-a")
        .await
        .json();
    assert_eq!(plain["repos"][0]["repo_name"], "svc-a");
    assert_eq!(plain["parameters"].as_array().expect("array").len(), 3);
}

#[tokio::test]
async fn s5_10_detail_of_a_jenkins_build_without_pre_build_is_an_empty_500() {
    let e = start().await;
    e.emu.handle().put_stored_build(StoredBuild {
        name: "jk".to_owned(),
        product_name: "demo".to_owned(),
        source: "jenkins".to_owned(),
        pre_build: None,
        ..StoredBuild::default()
    });
    e.get("/openapi/build/jk/detail?projectKey=demo")
        .await
        .assert_empty(500);
    // The list still shows it.
    let list = e.get("/openapi/build?projectKey=demo").await.json();
    assert_eq!(list["builds"][0]["source"], "jenkins");
    // The stored-model read tolerates it.
    let stored = e.get("/api/aslan/build/build/jk?projectName=demo").await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json()["pre_build"], Value::Null);
}

// ------------------------------------------- build-api-one-read.md §2

#[tokio::test]
async fn one_read_2_4_stored_model_masks_plain_build_credentials_only() {
    let e = start().await;
    e.post("/openapi/build", &full_body("sec"))
        .await
        .assert_success();
    e.post("/openapi/build?source=template", &template_body("tsec"))
        .await
        .assert_success();
    let plain = e
        .get("/api/aslan/build/build/sec?projectName=demo")
        .await
        .json();
    assert_eq!(plain["pre_build"]["envs"][2]["value"], "********");
    assert_eq!(plain["pre_build"]["envs"][0]["value"], "-mod=vendor");
    // The OpenAPI detail is never masked.
    let detail = e
        .get("/openapi/build/sec/detail?projectKey=demo")
        .await
        .json();
    assert_eq!(detail["parameters"][2]["value"], "s3cret");
    let tpl = e
        .get("/api/aslan/build/build/tsec?projectName=demo")
        .await
        .json();
    assert_eq!(
        tpl["targets"][1]["envs"][2]["value"], "tok",
        "target envs are never masked"
    );
    assert_eq!(tpl["target_repos"][1]["envs"][2]["value"], "tok");

    let e = start_with(EmulatorConfig {
        mask_stored_credentials: false,
        ..EmulatorConfig::default()
    })
    .await;
    e.post("/openapi/build", &full_body("sec"))
        .await
        .assert_success();
    let plain = e
        .get("/api/aslan/build/build/sec?projectName=demo")
        .await
        .json();
    assert_eq!(plain["pre_build"]["envs"][2]["value"], "s3cret");
}

#[tokio::test]
async fn one_read_2_3_stored_model_normalisation() {
    let e = start().await;
    let handle = e.emu.handle();
    // A plain kubernetes build with no strategy: the local default is filled in.
    let mut base = StoredBuild {
        name: "k8s".to_owned(),
        product_name: "demo".to_owned(),
        source: "zadig".to_owned(),
        infrastructure: "kubernetes".to_owned(),
        pre_build: Some(zadig_sync::zadig::wire::PreBuild {
            cluster_id: "0123456789abcdef12345678".to_owned(),
            ..Default::default()
        }),
        repos: vec![zadig_sync::zadig::wire::StoredRepo {
            repo_owner: "owner".to_owned(),
            ..Default::default()
        }],
        ..StoredBuild::default()
    };
    handle.put_stored_build(base.clone());
    base.name = "vm".to_owned();
    base.infrastructure = "vm".to_owned();
    handle.put_stored_build(base.clone());
    base.name = "bad-cluster".to_owned();
    base.infrastructure = "kubernetes".to_owned();
    base.pre_build.as_mut().expect("pre").cluster_id = String::new();
    handle.put_stored_build(base);

    let r = e.get("/api/aslan/build/build/k8s?projectName=demo").await;
    let k8s = r.json();
    assert_eq!(k8s["pre_build"]["strategy_id"], "65b000000000000000000001");
    assert_eq!(k8s["repos"][0]["repo_namespace"], "owner");
    for key in ["vm_labels", "targets", "outputs", "caches", "target_repos"] {
        assert_eq!(k8s[key], json!([]), "{key}");
    }
    assert_eq!(k8s["pre_build"]["envs"], json!([]));
    assert_eq!(k8s["pre_build"]["installs"], json!([]));
    assert_eq!(k8s["pre_build"]["parameters"], json!([]));
    // The raw stored model is unchanged (the fill is in memory only).
    assert_eq!(
        handle
            .stored_build("demo", "k8s")
            .expect("k8s")
            .pre_build
            .expect("pre")
            .strategy_id,
        ""
    );
    let vm = e
        .get("/api/aslan/build/build/vm?projectName=demo")
        .await
        .json();
    assert_eq!(
        vm["pre_build"]["strategy_id"], "",
        "only kubernetes builds are filled"
    );
    // An empty cluster id cannot be parsed: 500.
    let bad = e
        .get("/api/aslan/build/build/bad-cluster?projectName=demo")
        .await;
    assert_eq!(bad.status, 500);
    assert_eq!(bad.json()["message"], "Internal Error: ");
}

#[tokio::test]
async fn one_read_2_1_stored_model_routes_and_errors() {
    let e = start_with(EmulatorConfig {
        tokens: tokens(&[
            ("root", Role::Admin),
            (
                "viewer",
                project_role(
                    "demo",
                    Perms {
                        view: true,
                        ..Perms::default()
                    },
                ),
            ),
        ]),
        ..EmulatorConfig::default()
    })
    .await;
    let root = Some("Bearer root");
    let viewer = Some("Bearer viewer");
    let body = serde_json::to_vec(&plain_body("serviceModule", "demo")).expect("json");
    e.raw("POST", "/openapi/build", root, Some(body))
        .await
        .assert_success();
    // A build named serviceModule is shadowed by the static route.
    let r = e
        .raw(
            "GET",
            "/api/aslan/build/build/serviceModule?projectName=demo",
            root,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("name").is_none(), "{r:?}");
    // ... but the OpenAPI detail reaches it.
    let r = e
        .raw(
            "GET",
            "/openapi/build/serviceModule/detail?projectKey=demo",
            root,
            None,
        )
        .await;
    assert_eq!(r.json()["name"], "serviceModule");
    let r = e
        .raw(
            "GET",
            "/api/aslan/build/build/missing?projectName=demo",
            viewer,
            None,
        )
        .await;
    r.assert_error(
        400,
        6523,
        "查询编译模块失败",
        "mongo: no documents in result",
    );
    // A non-admin needs Build.View in that project; no project is 403.
    e.raw(
        "GET",
        "/api/aslan/build/build/missing?projectName=platform",
        viewer,
        None,
    )
    .await
    .assert_empty(403);
    e.raw("GET", "/api/aslan/build/build/missing", viewer, None)
        .await
        .assert_empty(403);
    // An admin without projectName finds the build by name in any project.
    let body = serde_json::to_vec(&plain_body("in-platform", "platform")).expect("json");
    e.raw("POST", "/openapi/build", root, Some(body))
        .await
        .assert_success();
    let r = e
        .raw("GET", "/api/aslan/build/build/in-platform", root, None)
        .await;
    assert_eq!(r.json()["product_name"], "platform");
    let r = e
        .raw("GET", "/api/aslan/build/build/in-platform/", root, None)
        .await;
    assert_eq!(r.status, 301);
}

// -------------------------------------------------------- look-ups §1.2

#[tokio::test]
async fn one_read_1_lookups() {
    let e = start().await;
    let images = e.get("/api/aslan/system/basicImages").await.json();
    let labels: Vec<&str> = images
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["label"].as_str().expect("label"))
        .collect();
    assert_eq!(labels, ["ubuntu 20.04", "ubuntu 18.04"]);
    assert_eq!(images[0]["value"], "focal");
    assert_eq!(images[0]["image_from"], "koderover");

    let clusters = e.get("/api/aslan/cluster/clusters").await.json();
    assert_eq!(clusters[0]["id"], "0123456789abcdef12345678");
    assert_eq!(clusters[0]["name"], LOCAL);
    assert_eq!(clusters[0]["local"], true);
    let strategies = &clusters[0]["advanced_config"]["schedule_strategy"];
    assert_eq!(strategies[0]["strategy_name"], "default");
    assert_eq!(strategies[0]["default"], true);
    assert_eq!(strategies[1]["strategy_name"], "high-mem");
    assert_eq!(clusters[1]["name"], "prod-k8s");
    assert_eq!(
        clusters[1]["advanced_config"]["schedule_strategy"][0]["default"],
        false
    );

    let open = e.get("/openapi/system/cluster").await.json();
    assert_eq!(open[0]["cluster_id"], "0123456789abcdef12345678");
    assert!(
        open[0].get("advanced_config").is_none(),
        "no strategies in the OpenAPI list"
    );

    let hosts = e.get("/api/aslan/code/codehost").await.json();
    assert_eq!(hosts[0]["id"], 1);
    assert_eq!(hosts[0]["alias"], "gitlab-main");
    assert_eq!(hosts[0]["type"], "gitlab");
    assert_eq!(hosts[0]["access_token"], "********");
    assert!(hosts[0].get("integration_level").is_none());

    let dockerfiles = e
        .get("/api/aslan/template/dockerfile?page_num=1&page_size=9999")
        .await
        .json();
    assert_eq!(
        dockerfiles,
        json!({"dockerfile_template": [
        {"id": "65d000000000000000000001", "name": "go-distroless"}], "total": 1})
    );
    let templates = e
        .get("/api/aslan/template/build?page_num=1&page_size=9999")
        .await
        .json();
    assert_eq!(
        templates,
        json!({"build_templates": [
        {"id": "65c000000000000000000001", "name": "go-service-template"}], "total": 1})
    );

    let projects = e.get("/openapi/projects/project").await.json();
    assert_eq!(projects["total"], 2);
    assert_eq!(projects["projects"][0]["project_key"], "demo");
    let detail = e
        .get("/openapi/projects/project/detail?projectKey=platform")
        .await
        .json();
    assert_eq!(detail["project_key"], "platform");

    // `total` is omitted when there are no build templates.
    let mut seed = Seed::builtin();
    seed.build_templates.clear();
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let templates = e.get("/api/aslan/template/build").await.json();
    assert_eq!(templates, json!({"build_templates": []}));
}

#[tokio::test]
async fn one_read_1_project_lists_follow_the_token() {
    let e = start_with(EmulatorConfig {
        tokens: tokens(&[
            (
                "viewer",
                project_role(
                    "demo",
                    Perms {
                        view: true,
                        ..Perms::default()
                    },
                ),
            ),
            ("nobody", Role::Project(HashMap::new())),
        ]),
        ..EmulatorConfig::default()
    })
    .await;
    let r = e
        .raw(
            "GET",
            "/openapi/projects/project",
            Some("Bearer viewer"),
            None,
        )
        .await;
    assert_eq!(r.json()["total"], 1);
    let r = e
        .raw(
            "GET",
            "/openapi/projects/project",
            Some("Bearer nobody"),
            None,
        )
        .await;
    assert_eq!(r.json(), json!({"total": 0, "projects": []}));
    e.raw(
        "GET",
        "/openapi/projects/project/detail?projectKey=platform",
        Some("Bearer viewer"),
        None,
    )
    .await
    .assert_empty(403);
    // Look-ups need only a valid token.
    let r = e
        .raw(
            "GET",
            "/api/aslan/code/codehost",
            Some("Bearer nobody"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
}

// ----------------------------------------------------------------- faults

#[tokio::test]
async fn faults_fail_next_and_error_statuses() {
    let e = start_with(EmulatorConfig {
        faults: Faults {
            fail_next: 2,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(e.get("/openapi/build?projectKey=demo").await.status, 503);
    assert_eq!(
        e.post("/openapi/build", &plain_body("f", "demo"))
            .await
            .status,
        503
    );
    assert!(
        e.emu.handle().stored_build("demo", "f").is_none(),
        "not committed"
    );
    assert_eq!(e.get("/openapi/build?projectKey=demo").await.status, 200);

    e.emu.handle().set_faults(Faults {
        get_error_rate: 1.0,
        error_statuses: vec![429],
        ..Faults::default()
    });
    let r = e.get("/openapi/build?projectKey=demo").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "1");
    // GET faults do not touch writes; the handle is never faulted.
    e.post("/openapi/build", &plain_body("w", "demo"))
        .await
        .assert_success();
    assert_eq!(e.emu.handle().builds("demo").len(), 1);

    e.emu.handle().set_faults(Faults {
        write_error_rate: 1.0,
        error_statuses: vec![502],
        ..Faults::default()
    });
    assert_eq!(
        e.post("/openapi/build", &plain_body("w2", "demo"))
            .await
            .status,
        502
    );
    assert!(e.emu.handle().stored_build("demo", "w2").is_none());
    let stats = e.emu.handle().stats();
    assert_eq!(stats.faults, 4);
    assert_eq!(stats.create, 3);
}

#[tokio::test]
async fn faults_dropped_connections_are_connection_errors() {
    let e = start_with(EmulatorConfig {
        faults: Faults {
            drop_connection_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let err = e
        .client
        .get(format!(
            "{}/openapi/build?projectKey=demo",
            e.emu.base_url()
        ))
        .header("Authorization", ADMIN)
        .send()
        .await
        .expect_err("dropped");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(e.emu.handle().stats().dropped, 1);
    // Writes are never dropped.
    e.post("/openapi/build", &plain_body("kept", "demo"))
        .await
        .assert_success();
}

#[tokio::test]
async fn faults_commit_then_500() {
    let e = start_with(EmulatorConfig {
        faults: Faults {
            commit_then_500_creates: 1,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let r = e
        .post("/openapi/build", &plain_body("ghost-write", "demo"))
        .await;
    assert_eq!(r.status, 500);
    assert!(
        e.emu.handle().stored_build("demo", "ghost-write").is_some(),
        "committed anyway"
    );
    // A retry now hits the duplicate check.
    assert_eq!(
        e.post("/openapi/build", &plain_body("ghost-write", "demo"))
            .await
            .json()["code"],
        6520
    );

    e.emu.handle().set_faults(Faults {
        commit_then_500_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(
        e.delete("/openapi/build?name=ghost-write&projectKey=demo")
            .await
            .status,
        500
    );
    assert!(e.emu.handle().stored_build("demo", "ghost-write").is_none());
}

#[tokio::test]
async fn faults_latency_applies_to_requests_only() {
    let e = start().await;
    e.emu.handle().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    e.get("/openapi/build?projectKey=demo").await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    let t = Instant::now();
    e.emu.handle().builds("demo");
    assert!(t.elapsed() < Duration::from_millis(100));
    e.emu.handle().set_latency(Duration::ZERO);
    e.emu.handle().set_faults(Faults {
        latency_jitter: Duration::from_millis(30),
        ..Faults::default()
    });
    let t = Instant::now();
    for _ in 0..3 {
        e.get("/openapi/build?projectKey=demo").await;
    }
    assert!(t.elapsed() < Duration::from_millis(500));
}

// ------------------------------------------------------ state and seeds

#[tokio::test]
async fn state_file_is_written_after_writes_and_wins_over_the_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    let config = EmulatorConfig {
        state_file: Some(path.clone()),
        ..EmulatorConfig::default()
    };
    let e = start_with(config.clone()).await;
    assert!(path.exists(), "written at start");
    e.post("/openapi/build", &plain_body("persisted", "demo"))
        .await
        .assert_success();
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(on_disk["builds"][0]["stored"]["name"], "persisted");
    assert_eq!(on_disk, e.emu.handle().snapshot_json());
    e.emu.shutdown().await;

    let mut other_seed = Seed::builtin();
    other_seed.builds = vec![SeedBuild::Create(plain_body("from-seed", "demo"))];
    let e = start_with(EmulatorConfig {
        seed: other_seed,
        ..config
    })
    .await;
    assert!(e.emu.handle().stored_build("demo", "persisted").is_some());
    assert!(e.emu.handle().stored_build("demo", "from-seed").is_none());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|f| f.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[tokio::test]
async fn seed_builds_go_through_the_create_path() {
    let mut seed = Seed::builtin();
    seed.builds = vec![
        SeedBuild::Create(plain_body("seeded", "demo")),
        SeedBuild::CreateTemplate(template_body("seeded-tpl")),
    ];
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(
        e.stored("demo", "seeded").pre_build.expect("pre").res_req,
        "low"
    );
    assert_eq!(e.stored("demo", "seeded-tpl").targets[0].envs.len(), 3);
    // An invalid seed build fails the start.
    let mut seed = Seed::builtin();
    seed.builds = vec![SeedBuild::Create(json!({"name": "x"}))];
    let err = spawn(
        EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect_err("invalid seed");
    assert!(err.to_string().contains("seed build #1"), "{err}");
}

#[test]
fn spawn_in_thread_serves_synchronous_callers() {
    use std::io::{Read, Write};
    let emu = zadig_sync::emulator::spawn_in_thread(EmulatorConfig::default()).expect("starts");
    let mut stream = std::net::TcpStream::connect(emu.addr()).expect("connects");
    stream
        .write_all(
            b"GET /openapi/build?projectKey=demo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n",
        )
        .expect("writes");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"total":0,"builds":[]}"#), "{answer}");
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.handle().stats().list, 1);
    // Dropping stops the server and joins its thread.
    let t = Instant::now();
    drop(emu);
    assert!(t.elapsed() < Duration::from_secs(5));
}

// ----------------------------------------------------- examples' seed

fn example_docs() -> Vec<Value> {
    let mut docs = Vec::new();
    for path in [
        "examples/demo/demo-api.yaml",
        "examples/demo/demo-web.yaml",
        "examples/demo/demo-worker.yaml",
        "examples/platform/auth.yaml",
        "examples/platform/gateway.yaml",
    ] {
        let text = std::fs::read_to_string(path).expect("reads");
        let values: Vec<Value> =
            serde_saphyr::from_str_multiple::<Value, Vec<Value>>(&text).expect("parses");
        docs.extend(values);
    }
    // Credential values that come from the environment or keep the stored one.
    for doc in &mut docs {
        if let Some(params) = doc.get_mut("parameters").and_then(Value::as_array_mut) {
            for p in params {
                if p["default_value"].is_object() {
                    p["default_value"] = json!("from-env");
                }
            }
        }
    }
    docs
}

/// The stored model without what differs between two creations.
fn comparable(mut b: StoredBuild) -> StoredBuild {
    b.id.clear();
    b.update_time = 0;
    if let Some(pre) = b.pre_build.as_mut() {
        for kv in &mut pre.envs {
            if kv.is_credential {
                kv.value.clear();
            }
        }
    }
    b
}

#[tokio::test]
async fn examples_seed_yields_creates_updates_deletes_and_unchanged() {
    let seed = Seed::from_file("examples/emulator-seed.json").expect("loads");
    let live = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let fresh = start().await;
    let names = |p: &str| -> Vec<String> {
        live.emu
            .handle()
            .builds(p)
            .into_iter()
            .map(|b| b.name)
            .collect()
    };
    assert_eq!(names("demo"), ["demo-api", "demo-web", "demo-old-cron"]);
    assert_eq!(
        names("platform"),
        [
            "platform-gateway",
            "release-platform",
            "platform-scratch",
            "legacy-batch",
            "platform-jenkins-deploy"
        ]
    );
    let jenkins = live.stored("platform", "platform-jenkins-deploy");
    assert_eq!(
        (jenkins.source.as_str(), jenkins.pre_build.is_none()),
        ("jenkins", true)
    );

    // Apply every definition to an empty emulator and compare stored models.
    for doc in example_docs() {
        let path = if doc["kind"] == "TemplateBuild" {
            "/openapi/build?source=template"
        } else {
            "/openapi/build"
        };
        fresh.post(path, &doc).await.assert_success();
    }
    let same = |p: &str, n: &str| comparable(live.stored(p, n)) == comparable(fresh.stored(p, n));
    assert!(same("demo", "demo-web"), "demo-web is unchanged");
    assert!(
        same("platform", "platform-gateway"),
        "platform-gateway is unchanged"
    );
    assert!(!same("demo", "demo-api"), "demo-api differs");
    assert!(
        !same("platform", "release-platform"),
        "release-platform differs"
    );
    let api = live.stored("demo", "demo-api");
    assert_eq!(api.timeout, 60);
    assert_eq!(fresh.stored("demo", "demo-api").timeout, 30);
    for (p, n) in [("demo", "demo-worker"), ("platform", "platform-auth")] {
        assert!(
            live.emu.handle().stored_build(p, n).is_none(),
            "{n} is to be created"
        );
    }
    // Every live build reads cleanly through the OpenAPI except the Jenkins one.
    for p in ["demo", "platform"] {
        for b in live.emu.handle().builds(p) {
            let r = live
                .get(&format!("/openapi/build/{}/detail?projectKey={p}", b.name))
                .await;
            let expected = if b.source == "jenkins" { 500 } else { 200 };
            assert_eq!(r.status, expected, "{}", b.name);
        }
    }
}
