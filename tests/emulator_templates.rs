//! The emulator's build-template library over raw HTTP: every behaviour of
//! build-api-ui-made.md §10, as koderover/zadig `main` 18278c716 serves it
//! (`templatestore/handler/build.go`, `templatestore/service/build.go`,
//! `mongodb/build_template.go`).

use std::collections::HashMap;

use serde_json::{Value, json};
use zadig_sync::emulator::{
    EmulatorConfig, Perms, Role, RunningEmulator, Seed, TemplatePerms, TokenPolicy, spawn,
};

const ADMIN: &str = "Bearer admin-token";
const SEEDED: &str = "65c000000000000000000001";
const LIST: &str = "/api/aslan/template/build";

struct Emu {
    emu: RunningEmulator,
    client: reqwest::Client,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    fn assert_success(&self) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.json(), json!({"message": "success"}));
    }

    fn assert_plain(&self, description: &str) {
        assert_eq!(self.status, 500, "{self:?}");
        assert_eq!(
            self.json(),
            json!({"code": 500, "description": description, "message": "Internal Error: "})
        );
    }

    fn assert_6520(&self, description: &str) {
        assert_eq!(self.status, 400, "{self:?}");
        assert_eq!(
            self.json(),
            json!({"code": 6520, "description": description, "extra": {},
                   "message": "新建编译模块失败", "type": "error"})
        );
    }

    fn assert_empty(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body, "", "{self:?}");
    }
}

async fn start_with(config: EmulatorConfig) -> Emu {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = spawn(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawns");
    Emu {
        emu,
        client: reqwest::Client::new(),
    }
}

async fn start() -> Emu {
    start_with(EmulatorConfig::default()).await
}

impl Emu {
    async fn raw(&self, method: &str, path: &str, auth: &str, body: Option<Vec<u8>>) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.emu.base_url()))
            .header("Authorization", auth);
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let r = req.send().await.expect("sends");
        Resp {
            status: r.status().as_u16(),
            body: r.text().await.expect("body"),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let body = body.map(|b| serde_json::to_vec(b).expect("json"));
        self.raw(method, path, ADMIN, body).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    /// Creates a template and returns its id.
    async fn create(&self, body: &Value) -> String {
        self.call("POST", LIST, Some(body)).await.assert_success();
        let name = body["name"].as_str().expect("name");
        let list = self.get(LIST).await.json();
        list["build_templates"]
            .as_array()
            .expect("list")
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_str())
            .expect("listed")
            .to_owned()
    }
}

fn template(name: &str) -> Value {
    json!({"name": name, "timeout": 60, "script_type": "shell", "scripts": "make\n",
           "infrastructure": "kubernetes",
           "pre_build": {"res_req": "low", "build_os": "focal", "image_from": "koderover",
                         "envs": [{"key": "GO_VERSION", "value": "1.22", "type": "string",
                                   "is_credential": false, "description": ""},
                                  {"key": "TOKEN", "value": "s3cret", "type": "string",
                                   "is_credential": true, "description": ""}]},
           "post_build": {"scripts": "echo done"}})
}

fn path(id: &str) -> String {
    format!("{LIST}/{id}")
}

#[tokio::test]
async fn s10_list_is_paged_with_snake_case_params_and_total_omitted_when_zero() {
    let e = start().await;
    for n in ["b", "c"] {
        e.create(&template(n)).await;
    }
    let all = e.get(LIST).await.json();
    assert_eq!(all["total"], 3);
    let names: Vec<&str> = all["build_templates"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["go-service-template", "b", "c"]);
    // Briefs are {id, name} only.
    assert_eq!(
        all["build_templates"][0],
        json!({"id": SEEDED, "name": "go-service-template"})
    );
    let page = e
        .get(&format!("{LIST}?page_num=2&page_size=2"))
        .await
        .json();
    assert_eq!(page["build_templates"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["total"], 3);
    // camelCase is not read: the default page of 100.
    let page = e.get(&format!("{LIST}?pageNum=2&pageSize=2")).await.json();
    assert_eq!(page["build_templates"].as_array().map(Vec::len), Some(3));
    // 0 means everything.
    let page = e.get(&format!("{LIST}?page_size=0")).await.json();
    assert_eq!(page["build_templates"].as_array().map(Vec::len), Some(3));
    // ShouldBindQuery: a bad number is the handler's plain 500.
    e.get(&format!("{LIST}?page_num=x"))
        .await
        .assert_plain("strconv.ParseInt: parsing \"x\": invalid syntax");

    let mut seed = Seed::builtin();
    seed.build_templates.clear();
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(e.get(LIST).await.json(), json!({"build_templates": []}));
}

#[tokio::test]
async fn s10_get_answers_the_whole_model_and_bad_ids_are_plain_500s() {
    let e = start().await;
    let id = e.create(&template("t")).await;
    let m = e.get(&path(&id)).await.json();
    assert_eq!(m["id"], id);
    assert_eq!(m["name"], "t");
    assert_eq!(m["update_by"], "Admin");
    assert_eq!(m["timeout"], 60);
    assert_eq!(m["scripts"], "make\n");
    assert_eq!(m["sshs"], json!([]));
    assert_eq!(m["outputs"], json!([]));
    assert_eq!(m["post_build"]["docker_build"], Value::Null);
    assert_eq!(m["post_build"]["scripts"], "echo done");
    // Credential variables are not masked.
    assert_eq!(m["pre_build"]["envs"][1]["value"], "s3cret");
    assert_eq!(m["pre_build"]["envs"][1]["registry_id"], "");
    assert!(m.get("team").is_none() && m.get("jenkins_build").is_none());

    e.get(&path("65c0000000000000000000ff"))
        .await
        .assert_plain("mongo: no documents in result");
    e.get(&path("nothex"))
        .await
        .assert_plain("the provided hex string is not a valid ObjectID");
    e.get(&path("zz0000000000000000000000"))
        .await
        .assert_plain("encoding/hex: invalid byte: U+007A 'z'");
}

#[tokio::test]
async fn s10_create_quirks() {
    let e = start().await;
    // A bind failure is c.BindJSON's 400: an empty body, not "invalid Build args".
    for bad in [
        b"{\"name\": 5}".to_vec(),
        b"{\"name\":\"x\",\"timeout\":\"60\"}".to_vec(),
        b"{\"name\":\"x\",\"id\":\"not-an-id\"}".to_vec(),
        b"not json".to_vec(),
        Vec::new(),
    ] {
        e.raw("POST", LIST, ADMIN, Some(bad))
            .await
            .assert_empty(400);
    }
    e.call("POST", LIST, Some(&json!({"pre_build": {}})))
        .await
        .assert_6520("empty name");
    // A nil pre_build is dereferenced: gin's recovery, an empty 500.
    e.call("POST", LIST, Some(&json!({"name": "x"})))
        .await
        .assert_empty(500);
    e.call(
        "POST",
        LIST,
        Some(&json!({"name": "x", "pre_build": {"res_req": "define",
                                              "res_req_spec": {"gpu_limit": "gpu"}}})),
    )
    .await
    .assert_6520("format of gpu request is incorrect");
    e.call(
        "POST",
        LIST,
        Some(&json!({"name": "x", "pre_build": {"res_req": "define",
                                              "res_req_spec": {"gpu_limit": "nvidia.com/gpu: x"}}})),
    )
    .await
    .assert_6520("failed to parse resource quantity, err: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    // Names are unique (index name_1): the E11000 text in a 6520.
    e.call("POST", LIST, Some(&template("go-service-template")))
        .await
        .assert_6520(
            "write exception: write errors: [E11000 duplicate key error collection: \
             zadig.build_template index: name_1 dup key: { name: \"go-service-template\" }]",
        );
    // update_by is the caller; update_time is the body's; the body's id is ignored.
    let mut body = template("stamped");
    body["update_time"] = json!(1234);
    body["update_by"] = json!("spoofed");
    body["id"] = json!(SEEDED);
    let id = e.create(&body).await;
    assert_ne!(id, SEEDED);
    let m = e.get(&path(&id)).await.json();
    assert_eq!(m["update_time"], 1234);
    assert_eq!(m["update_by"], "Admin");
}

#[tokio::test]
async fn s10_update_is_a_whole_body_set_without_stamps() {
    let e = start().await;
    let mut body = template("t");
    body["team"] = json!("platform");
    body["update_time"] = json!(99);
    let id = e.create(&body).await;

    // Only a name, a pre_build and a timeout: everything else is zeroed,
    // except the bson-omitempty fields (team, source, jenkins_build,
    // post_build), which keep their stored values when empty.
    e.call(
        "PUT",
        &path(&id),
        Some(&json!({"name": "t", "pre_build": {"res_req": "high"}, "timeout": 5})),
    )
    .await
    .assert_success();
    let m = e.get(&path(&id)).await.json();
    assert_eq!(m["timeout"], 5);
    assert_eq!(m["scripts"], "");
    assert_eq!(m["infrastructure"], "");
    assert_eq!(m["pre_build"]["envs"], json!([]));
    assert_eq!(m["team"], "platform");
    assert_eq!(m["post_build"]["scripts"], "echo done");
    // Not stamped: what the body said (nothing).
    assert_eq!(m["update_time"], 0);
    assert_eq!(m["update_by"], "");

    // A rename is a $set of the name too; a taken name is the E11000 text, plain.
    e.call("PUT", &path(&id), Some(&template("t2")))
        .await
        .assert_success();
    assert_eq!(e.get(&path(&id)).await.json()["name"], "t2");
    e.call("PUT", &path(&id), Some(&template("go-service-template")))
        .await
        .assert_plain(
            "write exception: write errors: [E11000 duplicate key error collection: \
             zadig.build_template index: name_1 dup key: { name: \"go-service-template\" }]",
        );
    // The id is looked up first, then pre_build is dereferenced, then the GPU check.
    e.call("PUT", &path("65c0000000000000000000ff"), Some(&json!({})))
        .await
        .assert_plain("mongo: no documents in result");
    e.call("PUT", &path("bad"), Some(&template("x")))
        .await
        .assert_plain("the provided hex string is not a valid ObjectID");
    e.call("PUT", &path(&id), Some(&json!({"name": "t2"})))
        .await
        .assert_empty(500);
    e.call(
        "PUT",
        &path(&id),
        Some(&json!({"name": "t2", "pre_build": {"res_req": "define",
                                               "res_req_spec": {"gpu_limit": "a:b:c"}}})),
    )
    .await
    .assert_6520("format of gpu request is incorrect");
    e.raw("PUT", &path(&id), ADMIN, Some(b"[]".to_vec()))
        .await
        .assert_empty(400);
    // Credentials are stored as sent: no `********` restore.
    let mut masked = template("t2");
    masked["pre_build"]["envs"][1]["value"] = json!("********");
    e.call("PUT", &path(&id), Some(&masked))
        .await
        .assert_success();
    assert_eq!(
        e.get(&path(&id)).await.json()["pre_build"]["envs"][1]["value"],
        "********"
    );
}

#[tokio::test]
async fn s10_references_list_every_build_using_the_template_and_block_its_delete() {
    let e = start().await;
    for (name, project, module) in [("w1", "demo", "worker"), ("w2", "platform", "api")] {
        let r = e
            .call(
                "POST",
                "/openapi/build?source=template",
                Some(&json!({"name": name, "project_key": project,
                             "template_name": "go-service-template",
                             "target_services": [{"service_name": "svc",
                                                  "service_module": module}]})),
            )
            .await;
        r.assert_success();
    }
    let refs = e.get(&format!("{}/reference", path(SEEDED))).await.json();
    assert_eq!(
        refs,
        json!([
            {"build_name": "w1", "project_name": "demo", "service_module": ["worker"]},
            {"build_name": "w2", "project_name": "platform", "service_module": ["api"]}
        ])
    );
    // The reference list parses no id: an unknown or malformed one has none.
    assert_eq!(
        e.get(&format!("{LIST}/whatever/reference")).await.json(),
        json!([])
    );

    e.call("DELETE", &path(SEEDED), None)
        .await
        .assert_plain("template build has beed used, can't be deleted");
    for (name, project) in [("w1", "demo"), ("w2", "platform")] {
        e.call(
            "DELETE",
            &format!("/openapi/build?name={name}&projectKey={project}"),
            None,
        )
        .await
        .assert_success();
    }
    e.call("DELETE", &path(SEEDED), None).await.assert_success();
    e.call("DELETE", &path(SEEDED), None)
        .await
        .assert_plain(&format!(
            "failed to find build template with id: {SEEDED}, err: mongo: no documents in result"
        ));
    e.call("DELETE", &path("bad"), None).await.assert_plain(
        "failed to find build template with id: bad, err: the provided hex string is not a valid ObjectID",
    );
    assert_eq!(e.get(LIST).await.json(), json!({"build_templates": []}));
}

#[tokio::test]
async fn s10_permissions_are_the_template_system_actions() {
    let only = |p: TemplatePerms| Role::WithTemplates(HashMap::new(), p);
    let e = start_with(EmulatorConfig {
        tokens: TokenPolicy::Tokens(HashMap::from([
            ("root".to_owned(), Role::Admin),
            ("nobody".to_owned(), Role::Project(HashMap::new())),
            (
                "builder".to_owned(),
                Role::Project(HashMap::from([("demo".to_owned(), Perms::all())])),
            ),
            (
                "viewer".to_owned(),
                only(TemplatePerms {
                    view: true,
                    ..TemplatePerms::default()
                }),
            ),
            (
                "creator".to_owned(),
                only(TemplatePerms {
                    create: true,
                    ..TemplatePerms::default()
                }),
            ),
            (
                "editor".to_owned(),
                only(TemplatePerms {
                    edit: true,
                    ..TemplatePerms::default()
                }),
            ),
            (
                "deleter".to_owned(),
                only(TemplatePerms {
                    delete: true,
                    ..TemplatePerms::default()
                }),
            ),
        ])),
        ..EmulatorConfig::default()
    })
    .await;
    let body = serde_json::to_vec(&template("p")).expect("json");
    let seeded = path(SEEDED);
    let reference = format!("{seeded}/reference");
    // The list and the references check nothing ("TODO: Authorization leak").
    for who in ["nobody", "builder"] {
        let auth = format!("Bearer {who}");
        assert_eq!(e.raw("GET", LIST, &auth, None).await.status, 200);
        assert_eq!(e.raw("GET", &reference, &auth, None).await.status, 200);
        // Build permissions are no template permissions.
        e.raw("GET", &seeded, &auth, None).await.assert_empty(403);
        e.raw("POST", LIST, &auth, Some(body.clone()))
            .await
            .assert_empty(403);
        e.raw("PUT", &seeded, &auth, Some(body.clone()))
            .await
            .assert_empty(403);
        e.raw("DELETE", &seeded, &auth, None)
            .await
            .assert_empty(403);
    }
    // The body is bound before the permission check.
    e.raw("POST", LIST, "Bearer nobody", Some(b"[]".to_vec()))
        .await
        .assert_empty(400);
    assert_eq!(
        e.raw("GET", &seeded, "Bearer viewer", None).await.status,
        200
    );
    e.raw("POST", LIST, "Bearer viewer", Some(body.clone()))
        .await
        .assert_empty(403);
    e.raw("POST", LIST, "Bearer creator", Some(body.clone()))
        .await
        .assert_success();
    e.raw("GET", &seeded, "Bearer creator", None)
        .await
        .assert_empty(403);
    let edited = serde_json::to_vec(&template("go-service-template")).expect("json");
    e.raw("PUT", &seeded, "Bearer creator", Some(edited.clone()))
        .await
        .assert_empty(403);
    e.raw("PUT", &seeded, "Bearer editor", Some(edited))
        .await
        .assert_success();
    e.raw("DELETE", &seeded, "Bearer editor", None)
        .await
        .assert_empty(403);
    e.raw("DELETE", &seeded, "Bearer deleter", None)
        .await
        .assert_success();
    assert_eq!(e.raw("GET", LIST, "Bearer root", None).await.status, 200);
    assert_eq!(e.raw("GET", LIST, "no-scheme", None).await.status, 401);
}

#[tokio::test]
async fn s10_the_template_library_checks_no_licence() {
    // Template *builds* need a licence (7050); the library does not
    // (templatestore/handler/build.go never calls CheckZadigProfessionalLicense).
    let mut seed = Seed::builtin();
    seed.template_licence = false;
    let e = start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let id = e.create(&template("unlicensed")).await;
    e.call("PUT", &path(&id), Some(&template("unlicensed")))
        .await
        .assert_success();
    assert_eq!(e.get(&path(&id)).await.status, 200);
    assert_eq!(
        e.get(&format!("{}/reference", path(&id))).await.json(),
        json!([])
    );
    e.call("DELETE", &path(&id), None).await.assert_success();
    let r = e
        .call(
            "POST",
            "/openapi/build?source=template",
            Some(
                &json!({"name": "b", "project_key": "demo", "template_name": "go-service-template",
                         "target_services": [{"service_name": "s", "service_module": "m"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], 7050);
}

#[tokio::test]
async fn s10_a_changed_template_changes_the_builds_that_use_it() {
    let e = start().await;
    // Template builds take the library's variables: a variable added to the
    // template shows in the stored model of a build written after it.
    let mut t = e.get(&path(SEEDED)).await.json();
    t["pre_build"]["envs"]
        .as_array_mut()
        .expect("envs")
        .push(json!({"key": "NEW_VAR", "value": "v", "type": "string",
                     "is_credential": false, "description": ""}));
    e.call("PUT", &path(SEEDED), Some(&t))
        .await
        .assert_success();
    e.call(
        "POST",
        "/openapi/build?source=template",
        Some(
            &json!({"name": "uses", "project_key": "demo", "template_name": "go-service-template",
                     "target_services": [{"service_name": "s", "service_module": "m"}]}),
        ),
    )
    .await
    .assert_success();
    let stored = e.emu.handle().stored_build("demo", "uses").expect("stored");
    let keys: Vec<&str> = stored.targets[0]
        .envs
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["GO_VERSION", "LDFLAGS", "REGISTRY_TOKEN", "NEW_VAR"]);
    // A write through the library counts as a write.
    assert_eq!(e.emu.handle().stats().template_writes, 1);
}

#[tokio::test]
async fn s10_the_state_file_keeps_whole_templates() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("state.json");
    let config = || EmulatorConfig {
        state_file: Some(file.clone()),
        ..EmulatorConfig::default()
    };
    let e = start_with(config()).await;
    let id = e.create(&template("kept")).await;
    let before = e.get(&path(&id)).await.json();
    e.emu.shutdown().await;
    let e = start_with(config()).await;
    assert_eq!(e.get(&path(&id)).await.json(), before);
}

#[tokio::test]
async fn a_ui_edit_of_a_template_through_the_handle() {
    let e = start().await;
    let handle = e.emu.handle();
    let mut model = handle.build_template(SEEDED).expect("seeded");
    assert_eq!(model, e.get(&path(SEEDED)).await.json());
    model["scripts"] = json!("edited in the UI\n");
    handle.put_build_template(model).expect("put");
    assert_eq!(
        e.get(&path(SEEDED)).await.json()["scripts"],
        "edited in the UI\n"
    );
    assert!(handle.put_build_template(json!({"name": "no id"})).is_err());
    assert_eq!(handle.stats().template_writes, 0, "out of band");
}
