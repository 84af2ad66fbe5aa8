//! Reading the live state (issue 13, item 4): the reads of a project start as
//! soon as its listing arrives, not once every project is listed.

mod client_support;

use std::time::Duration;

use client_support::{Action, FakeBuild, FakeZadig, Rule};
use serde_json::json;
use zadig_sync::cli::live::{ReadScope, read_live};
use zadig_sync::core::model::Config;
use zadig_sync::core::plan::ProjectLive;

#[tokio::test]
async fn a_project_is_read_while_another_is_still_being_listed() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed([FakeBuild::plain("fast", "a"), FakeBuild::plain("slow", "b")]);
    fake.state.rule(
        Rule::new(
            "GET",
            "/openapi/build",
            1,
            Action::Delay(Duration::from_millis(600)),
        )
        .query("projectKey=slow"),
    );
    let config: Config = serde_json::from_value(json!({
        "projects": [{"key": "fast", "prune": true}, {"key": "slow", "prune": true}]
    }))
    .expect("config");
    let scope = ReadScope {
        projects: vec!["fast".to_owned(), "slow".to_owned()],
        desired: &[],
        targets: &[],
        check_elsewhere: false,
        read_all: false,
    };
    let client = fake.client();
    let live = read_live(&client, &config, &scope, None)
        .await
        .expect("live state");
    for p in ["fast", "slow"] {
        assert!(
            matches!(&live.projects[p], ProjectLive::Listed(bs) if bs.len() == 1),
            "{p} listed"
        );
    }

    let requests = fake.state.requests();
    let slow_listed = requests
        .iter()
        .filter(|r| r.path == "/openapi/build" && r.q("projectKey") == Some("slow"))
        .map(|r| r.at)
        .min()
        .expect("slow listed");
    let a_read = fake.state.hits("GET", "/api/aslan/build/build/a");
    assert_eq!(a_read.len(), 1, "a read once");
    assert!(
        a_read[0].at < slow_listed + Duration::from_millis(300),
        "the read of fast/a waited for the listing of slow (it began {:?} after slow's listing was sent)",
        a_read[0].at.duration_since(slow_listed)
    );
    assert_eq!(fake.state.hits("GET", "/api/aslan/build/build/b").len(), 1);
}

/// A template fleet streams too (issue 13): the template look-ups start as
/// soon as the first build that uses one is read, not once every read is in,
/// and each is made once.
#[tokio::test]
async fn the_template_look_ups_start_with_the_first_template_build() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([
        FakeBuild::plain("fast", "a"),
        FakeBuild::plain("fast", "a2"),
        FakeBuild::plain("slow", "b"),
    ]);
    fake.state.rule(
        Rule::new(
            "GET",
            "/openapi/build",
            1,
            Action::Delay(Duration::from_millis(800)),
        )
        .query("projectKey=slow"),
    );
    // fast/a and fast/a2 were made from build template t1.
    for name in ["a", "a2"] {
        let stored = json!({
            "id": "65a0000000000000000000aa", "name": name, "source": "zadig", "template_id": "t1",
            "timeout": 60, "targets": [], "desc": "", "update_time": 1760000000, "update_by": "Admin",
            "repos": [], "pre_build": {"res_req": "low", "res_req_spec": {"cpu_limit": 1000, "memory_limit": 512, "cpu_req": 0, "memory_req": 0, "gpu_limit": ""},
                "build_os": "focal", "image_from": "koderover", "image_id": "64f0c3", "installs": [], "envs": [],
                "cluster_id": "0123456789abcdef12345678", "strategy_id": "", "storages": null,
                "custom_annotations": [], "custom_labels": []},
            "infrastructure": "kubernetes", "vm_labels": [], "script_type": "shell",
            "scripts": "make", "post_build": null, "caches": [], "product_name": "fast",
            "sshs": [], "pre_deploy": null, "cache_enable": false, "cache_dir_type": "workspace",
            "cache_user_dir": "", "enable_privileged_mode": false, "advanced_setting_modified": false,
            "outputs": [{"name": "IMAGE", "description": ""}]
        });
        fake.state.rule(Rule::new(
            "GET",
            &format!("/api/aslan/build/build/{name}"),
            1,
            Action::json(200, stored),
        ));
    }
    let config: Config = serde_json::from_value(json!({
        "projects": [{"key": "fast", "prune": true}, {"key": "slow", "prune": true}]
    }))
    .expect("config");
    let scope = ReadScope {
        projects: vec!["fast".to_owned(), "slow".to_owned()],
        desired: &[],
        targets: &[],
        check_elsewhere: false,
        read_all: false,
    };
    let client = fake.client();
    let live = read_live(&client, &config, &scope, None)
        .await
        .expect("live state");
    assert!(matches!(&live.projects["fast"], ProjectLive::Listed(bs) if bs.len() == 2));
    assert!(matches!(&live.projects["slow"], ProjectLive::Listed(bs) if bs.len() == 1));

    let slow_listed = fake
        .state
        .requests()
        .iter()
        .filter(|r| r.path == "/openapi/build" && r.q("projectKey") == Some("slow"))
        .map(|r| r.at)
        .min()
        .expect("slow listed");
    let list = fake.state.hits("GET", "/api/aslan/template/build");
    assert_eq!(list.len(), 1, "the template list is read once");
    assert!(
        list[0].at < slow_listed + Duration::from_millis(400),
        "the template list waited for every read ({:?} after slow's listing was sent)",
        list[0].at.duration_since(slow_listed)
    );
    let vars = fake.state.hits("GET", "/api/aslan/template/build/t1");
    assert_eq!(
        vars.len(),
        1,
        "the template is read once for its two builds"
    );
    assert!(vars[0].at < slow_listed + Duration::from_millis(400));
}
