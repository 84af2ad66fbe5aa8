//! Contract tests of the build-template library: the client against the
//! emulator (whose server side shares no types with the client), for every
//! endpoint and every error the client must turn into a typed one.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use zadig_sync::emulator::{
    EmulatorConfig, Faults, Perms, Role, RunningEmulator, Seed, TemplatePerms, TokenPolicy, spawn,
};
use zadig_sync::zadig::{ApiError, Client, ClientConfig, RetryPolicy, WriteOutcome};

const TOKEN: &str = "contract-token";
const SEEDED: &str = "65c000000000000000000001";

async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    spawn(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("emulator")
}

fn client_with(emu: &RunningEmulator, token: &str, page_size: u32) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), SecretString::from(token.to_owned()));
    cfg.timeout = Duration::from_secs(5);
    cfg.page_size = page_size;
    cfg.retry = RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_total: Duration::from_secs(20),
    };
    Client::new(cfg).expect("client")
}

fn client(emu: &RunningEmulator) -> Client {
    client_with(emu, TOKEN, 100)
}

fn body(name: &str) -> Value {
    json!({"name": name, "timeout": 30, "script_type": "shell", "scripts": "make\n",
           "infrastructure": "kubernetes",
           "pre_build": {"res_req": "low", "envs": [
               {"key": "A", "value": "1", "type": "string", "is_credential": false,
                "description": ""}]}})
}

async fn id_of(c: &Client, name: &str) -> String {
    c.list_build_templates()
        .await
        .expect("list")
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.id)
        .expect("listed")
}

#[tokio::test]
async fn every_template_endpoint_round_trips() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);

    let list = c.list_build_templates().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, SEEDED);

    assert_eq!(
        c.create_build_template("t1", &body("t1"))
            .await
            .expect("create"),
        WriteOutcome::Done
    );
    let id = id_of(&c, "t1").await;
    let model = c.build_template_model(&id).await.expect("get");
    assert_eq!(model.name, "t1");
    assert_eq!(model.timeout, 30);
    assert_eq!(model.update_by, "Admin");
    let envs = &model.pre_build.as_ref().expect("pre_build").envs;
    assert_eq!(envs[0].key, "A");

    // The preserving write: read, change one field, send the whole back.
    let (mut read, raw) = c.build_template_raw(&id).await.expect("raw");
    assert!(raw.contains("\"pre_build\""));
    read.scripts = "make all\n".to_owned();
    c.update_build_template(&id, &read.name, &read)
        .await
        .expect("update");
    let after = c.build_template_model(&id).await.expect("get");
    assert_eq!(after.scripts, "make all\n");
    assert_eq!(after.timeout, 30, "sent back whole, nothing lost");
    assert_eq!(
        after.update_by, "Admin",
        "as sent: the server stamps nothing"
    );

    assert!(
        c.build_template_references(&id)
            .await
            .expect("refs")
            .is_empty()
    );
    assert_eq!(
        c.delete_build_template(&id).await.expect("delete"),
        WriteOutcome::Done
    );
    assert!(matches!(
        c.build_template_model(&id).await,
        Err(ApiError::TemplateNotFound { .. })
    ));
}

#[tokio::test]
async fn the_list_is_read_page_by_page() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client_with(&emu, TOKEN, 2);
    for n in 0..6 {
        c.create_build_template(&format!("p{n}"), &body(&format!("p{n}")))
            .await
            .expect("create");
    }
    emu.handle().reset_stats();
    let list = c.list_build_templates().await.expect("list");
    assert_eq!(list.len(), 7);
    assert_eq!(list[0].name, "go-service-template");
    assert_eq!(list[6].name, "p5");
    // 7 templates, 2 a page: 4 pages.
    assert_eq!(emu.handle().stats().lookups, 4);

    // An empty library: `total` is left out, the list is empty.
    let mut seed = Seed::builtin();
    seed.build_templates.clear();
    let emu = emulator(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(
        client(&emu)
            .list_build_templates()
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn template_errors_are_typed() {
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    let unknown = "65c0000000000000000000ff";

    // Plain 500s told apart.
    let e = c.build_template_model(unknown).await.expect_err("unknown");
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains(unknown), "{e}");
    assert!(matches!(
        c.update_build_template(unknown, "x", &body("x")).await,
        Err(ApiError::TemplateNotFound { .. })
    ));
    assert!(matches!(
        c.delete_build_template(unknown).await,
        Err(ApiError::TemplateNotFound { .. })
    ));
    // Ids that aslan could not parse are never sent.
    assert!(matches!(
        c.build_template_model("../build").await,
        Err(ApiError::InvalidArgument { .. })
    ));

    // A duplicate name: 6520 on create, a plain 500 on update, one error.
    let e = c
        .create_build_template("go-service-template", &body("go-service-template"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&e, ApiError::TemplateNameTaken { name } if name == "go-service-template"),
        "{e:?}"
    );
    c.create_build_template("other", &body("other"))
        .await
        .expect("create");
    let other = id_of(&c, "other").await;
    assert!(matches!(
        c.update_build_template(&other, "go-service-template", &body("go-service-template"))
            .await,
        Err(ApiError::TemplateNameTaken { .. })
    ));

    // 6520 "empty name", the nil pre_build's empty 500, a bind failure's empty 400.
    let e = c
        .create_build_template("x", &json!({"name": ""}))
        .await
        .expect_err("empty name");
    assert_eq!(e.code(), Some(6520), "{e:?}");
    let e = c
        .create_build_template("x", &json!({"name": "x"}))
        .await
        .expect_err("nil pre_build");
    assert!(
        matches!(
            e,
            ApiError::Server {
                status: 500,
                description: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        c.list_build_templates()
            .await
            .expect("list")
            .iter()
            .all(|t| t.name != "x"),
        "not created, and not re-sent"
    );
    let e = c
        .create_build_template("x", &json!({"name": "x", "timeout": "60"}))
        .await
        .expect_err("bind");
    assert!(matches!(e, ApiError::EmptyBadRequest { .. }), "{e:?}");

    // A template that builds use: references, and the refused delete.
    let r = reqwest::Client::new()
        .post(format!("{}/openapi/build?source=template", emu.base_url()))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .json(&json!({"name": "uses", "project_key": "platform",
                      "template_name": "go-service-template",
                      "target_services": [{"service_name": "s", "service_module": "m"}]}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let refs = c.build_template_references(SEEDED).await.expect("refs");
    assert_eq!(refs.len(), 1);
    assert_eq!(
        (refs[0].build_name.as_str(), refs[0].project_name.as_str()),
        ("uses", "platform")
    );
    assert_eq!(refs[0].service_module, ["m"]);
    let e = c.delete_build_template(SEEDED).await.expect_err("in use");
    assert!(matches!(e, ApiError::TemplateInUse { .. }), "{e:?}");
    assert!(e.to_string().contains("still used"), "{e}");
}

#[tokio::test]
async fn permissions_and_the_gateway() {
    let viewer = Role::WithTemplates(
        HashMap::from([("demo".to_owned(), Perms::all())]),
        TemplatePerms {
            view: true,
            ..TemplatePerms::default()
        },
    );
    let emu = emulator(EmulatorConfig {
        tokens: TokenPolicy::Tokens(HashMap::from([
            ("viewer".to_owned(), viewer),
            ("nobody".to_owned(), Role::Project(HashMap::new())),
        ])),
        ..EmulatorConfig::default()
    })
    .await;
    let viewer = client_with(&emu, "viewer", 100);
    assert!(viewer.build_template_model(SEEDED).await.is_ok());
    let e = viewer
        .update_build_template(SEEDED, "go-service-template", &body("go-service-template"))
        .await
        .expect_err("no Template.Edit");
    assert!(e.is_auth(), "{e:?}");
    assert!(e.to_string().contains("Template.Edit"), "{e}");
    let e = viewer
        .create_build_template("n", &body("n"))
        .await
        .expect_err("no Template.Create");
    assert!(e.to_string().contains("Template.Create"), "{e}");
    let e = viewer
        .delete_build_template(SEEDED)
        .await
        .expect_err("no Template.Delete");
    assert!(e.to_string().contains("Template.Delete"), "{e}");

    // No permission at all still lists and reads references.
    let nobody = client_with(&emu, "nobody", 100);
    assert_eq!(nobody.list_build_templates().await.expect("list").len(), 1);
    assert!(
        nobody
            .build_template_references(SEEDED)
            .await
            .expect("refs")
            .is_empty()
    );
    let e = nobody
        .build_template_model(SEEDED)
        .await
        .expect_err("no Template.View");
    assert!(e.to_string().contains("Template.View"), "{e}");

    let stranger = client_with(&emu, "unknown-token", 100);
    assert!(matches!(
        stranger.list_build_templates().await,
        Err(ApiError::Unauthorized { .. })
    ));

    // Behind a gateway that routes only the OpenAPI: a 404, said as such.
    let emu = emulator(EmulatorConfig {
        openapi_only: true,
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu);
    assert!(matches!(
        c.list_build_templates().await,
        Err(ApiError::RouteNotFound { status: 404, .. })
    ));
    assert!(matches!(
        c.update_build_template(SEEDED, "t", &body("t")).await,
        Err(ApiError::RouteNotFound { status: 404, .. })
    ));
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_read_back_not_repeated() {
    let emu = emulator(EmulatorConfig {
        faults: Faults {
            commit_then_500_creates: 1,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu);
    assert_eq!(
        c.create_build_template("lost", &body("lost"))
            .await
            .expect("resolved"),
        WriteOutcome::ResolvedAfterAmbiguity
    );
    let named: Vec<_> = c
        .list_build_templates()
        .await
        .expect("list")
        .into_iter()
        .filter(|t| t.name == "lost")
        .collect();
    assert_eq!(named.len(), 1);
    assert_eq!(emu.handle().stats().template_writes, 1, "sent once");
}

#[tokio::test]
async fn a_delete_answered_500_after_committing_is_reported_not_retried() {
    let emu = emulator(EmulatorConfig {
        faults: Faults {
            commit_then_500_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu);
    // Every committed write answers 500 (empty): the delete is not retried
    // on a 500, so the client reports it...
    let e = c.delete_build_template(SEEDED).await.expect_err("500");
    assert_eq!(e.status(), Some(500));
    // ...and the template is gone.
    emu.handle().set_faults(Faults::default());
    assert!(c.list_build_templates().await.expect("list").is_empty());
}

#[tokio::test]
async fn a_hostile_listing_is_refused() {
    // Pages beyond the cap are never read, as for the build listing: a page
    // size of 1 and a cap of 3 pages over 7 entries.
    let emu = emulator(EmulatorConfig::default()).await;
    let c = client(&emu);
    for n in 0..6 {
        c.create_build_template(&format!("h{n}"), &body(&format!("h{n}")))
            .await
            .expect("create");
    }
    let mut cfg = ClientConfig::new(emu.base_url(), SecretString::from(TOKEN.to_owned()));
    cfg.page_size = 1;
    cfg.max_pages = 3;
    let capped = Client::new(cfg).expect("client");
    let e = capped.list_build_templates().await.expect_err("capped");
    assert!(
        matches!(&e, ApiError::IncompleteListing { reason, .. } if reason.contains("keeps sending pages")),
        "{e:?}"
    );
    // Within the cap, the same pages read whole.
    assert_eq!(
        client_with(&emu, TOKEN, 1)
            .list_build_templates()
            .await
            .expect("list")
            .len(),
        7
    );
}
