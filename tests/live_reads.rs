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
