//! Fault tests of the Zadig client against a fake Zadig: retries of idempotent
//! requests, creates that are never blindly repeated (read back after an
//! ambiguous failure), the concurrency bound, the run-wide slow-down after a
//! 429, and bounded retry budgets.

mod client_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use client_support::{Action, FakeBuild, FakeZadig, Faults, Rule, wait_for};
use serde_json::json;
use zadig_sync::core::model::BuildSpec;
use zadig_sync::zadig::{ApiError, Client, RetryPolicy, TransportKind, WriteOutcome};

fn spec(project: &str, name: &str) -> BuildSpec {
    serde_json::from_value(json!({
        "name": name, "project_key": project, "infrastructure": "kubernetes",
        "build_os": "ubuntu 20.04", "script_type": "shell", "build_script": "make\n"
    }))
    .expect("valid BuildSpec")
}

fn count(fake: &FakeZadig, name: &str) -> usize {
    // Names are global: at most one project holds it.
    let snapshot = fake.state.emulator.snapshot_json();
    snapshot["builds"].as_array().map_or(0, |bs| {
        bs.iter().filter(|b| b["stored"]["name"] == name).count()
    })
}

// ------------------------------------------------------------------- reads

#[tokio::test]
async fn reads_survive_random_errors_and_dropped_connections() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed((0..40).map(|i| FakeBuild::plain("demo", &format!("b{i:02}"))));
    fake.state.set_faults(Faults {
        get_error_rate: 0.3,
        error_statuses: vec![429, 502, 503, 504],
        drop_connection_rate: 0.1,
        delay: Duration::ZERO,
    });
    let mut cfg = fake.config();
    cfg.page_size = 10;
    cfg.retry = RetryPolicy {
        max_attempts: 12,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_total: Duration::from_secs(10),
    };
    let client = Client::new(cfg).expect("client");

    let list = client
        .list_builds("demo")
        .await
        .expect("list despite faults");
    assert_eq!(list.len(), 40);
    let mut tasks = tokio::task::JoinSet::new();
    for b in &list {
        let (c, name) = (client.clone(), b.name.clone());
        tasks.spawn(async move { c.build_detail("demo", &name, None).await.map(|d| d.name) });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        r.expect("task").expect("detail despite faults");
        ok += 1;
    }
    assert_eq!(ok, 40);
    client.code_hosts().await.expect("look-up despite faults");

    let stats = client.stats();
    assert!(stats.retries > 0, "{stats}");
    assert_eq!(
        stats.requests as usize,
        fake.state.requests().len(),
        "every send is counted: {stats}"
    );
    assert!(stats.throttled > 0, "{stats}");
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/b/detail",
        usize::MAX,
        Action::empty(503),
    ));
    let client = fake.client(); // 6 attempts
    let err = client
        .build_detail("demo", "b", None)
        .await
        .expect_err("503");
    assert!(
        matches!(err, ApiError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(err.request().map(|r| r.attempts), Some(6));
    assert!(err.to_string().contains("after 6 attempts"), "{err}");
    assert_eq!(fake.state.requests().len(), 6);
    assert_eq!(client.stats().detail.retries, 5);

    // The total time bounds the attempts too.
    fake.state.clear_requests();
    let mut cfg = fake.config();
    cfg.retry = RetryPolicy {
        max_attempts: 50,
        base_delay: Duration::from_millis(40),
        max_delay: Duration::from_millis(40),
        max_total: Duration::from_millis(150),
    };
    let client = Client::new(cfg).expect("client");
    let started = Instant::now();
    client
        .build_detail("demo", "b", None)
        .await
        .expect_err("503");
    assert!(started.elapsed() < Duration::from_secs(1));
    let n = fake.state.requests().len();
    assert!((2..=8).contains(&n), "{n} attempts");
}

#[tokio::test]
async fn timeouts_are_retried_for_reads() {
    let fake = FakeZadig::spawn().await;
    fake.state.seed([FakeBuild::plain("demo", "b")]);
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/b/detail",
        1,
        Action::Delay(Duration::from_millis(500)),
    ));
    let mut cfg = fake.config();
    cfg.timeout = Duration::from_millis(150);
    let client = Client::new(cfg).expect("client");
    client
        .build_detail("demo", "b", None)
        .await
        .expect("retried after timeout");
    assert_eq!(fake.state.hits("GET", "/openapi/build/b/detail").len(), 2);

    // Every attempt timing out: a typed timeout error.
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/b/detail",
        usize::MAX,
        Action::Delay(Duration::from_millis(500)),
    ));
    let mut cfg = fake.config();
    cfg.timeout = Duration::from_millis(100);
    cfg.retry.max_attempts = 2;
    let client = Client::new(cfg).expect("client");
    let err = client
        .build_detail("demo", "b", None)
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("--timeout"), "{err}");
}

// ------------------------------------------------------------------ writes

#[tokio::test]
async fn put_and_delete_are_retried() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed([FakeBuild::plain("demo", "b"), FakeBuild::plain("demo", "c")]);
    fake.state
        .rule(Rule::new("PUT", "/openapi/build", 1, Action::empty(503)));
    fake.state
        .rule(Rule::new("PUT", "/openapi/build", 1, Action::Drop));
    let client = fake.client();
    let mut body = spec("demo", "b");
    body.build_script = "v2".into();
    assert_eq!(
        client.update_build(&body).await.expect("put"),
        WriteOutcome::Done
    );
    assert_eq!(fake.state.hits("PUT", "/openapi/build").len(), 3);

    fake.state
        .rule(Rule::new("DELETE", "/openapi/build", 2, Action::empty(502)));
    assert_eq!(
        client.delete_build("demo", "c").await.expect("delete"),
        WriteOutcome::Done
    );
    assert_eq!(fake.state.hits("DELETE", "/openapi/build").len(), 3);
    assert_eq!(fake.state.names("demo"), ["b"]);
    assert_eq!(client.stats().write.retries, 4);
}

#[tokio::test]
async fn commit_then_500_yields_one_build() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::CommitThen(Box::new(Action::empty(500))),
    ));
    let client = fake.client();
    let outcome = client
        .create_build(&spec("demo", "new"))
        .await
        .expect("resolved");
    assert_eq!(outcome, WriteOutcome::ResolvedAfterAmbiguity);
    assert_eq!(
        fake.state.hits("POST", "/openapi/build").len(),
        1,
        "never re-sent"
    );
    assert_eq!(
        fake.state.hits("GET", "/openapi/build/new/detail").len(),
        1,
        "read back"
    );
    assert_eq!(count(&fake, "new"), 1);
    assert_eq!(client.stats().ambiguous_writes, 1);
}

#[tokio::test]
async fn commit_then_dropped_connection_or_504_yields_one_build() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::CommitThen(Box::new(Action::Drop)),
    ));
    let client = fake.client();
    assert_eq!(
        client
            .create_build(&spec("demo", "a"))
            .await
            .expect("resolved"),
        WriteOutcome::ResolvedAfterAmbiguity
    );

    // Committed, then a gateway timeout.
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::CommitThen(Box::new(Action::empty(504))),
    ));
    assert_eq!(
        client
            .create_build(&spec("demo", "b"))
            .await
            .expect("resolved"),
        WriteOutcome::ResolvedAfterAmbiguity
    );
    assert_eq!(fake.state.hits("POST", "/openapi/build").len(), 2);
    assert_eq!((count(&fake, "a"), count(&fake, "b")), (1, 1));
}

#[tokio::test]
async fn a_create_that_timed_out_after_committing_is_resolved() {
    let fake = FakeZadig::spawn().await;
    // The server is slow: it commits after the client's timeout, and after
    // the read-back, but before the re-send.
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::Delay(Duration::from_millis(150)),
    ));
    let mut cfg = fake.config();
    cfg.timeout = Duration::from_millis(80);
    cfg.retry.base_delay = Duration::from_millis(400);
    cfg.retry.max_delay = Duration::from_millis(400);
    let client = Client::new(cfg).expect("client");
    let outcome = client
        .create_build(&spec("demo", "slow"))
        .await
        .expect("create");
    // The re-send was refused as a duplicate in this project (or, on a slow
    // machine, the read-back already saw the build): the first send committed.
    assert_eq!(outcome, WriteOutcome::ResolvedAfterAmbiguity);
    assert!(fake.state.hits("POST", "/openapi/build").len() <= 2);
    assert_eq!(count(&fake, "slow"), 1);
}

#[tokio::test]
async fn a_dropped_create_that_did_not_commit_is_sent_again() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .rule(Rule::new("POST", "/openapi/build", 1, Action::Drop));
    let client = fake.client();
    assert_eq!(
        client
            .create_build(&spec("demo", "x"))
            .await
            .expect("create"),
        WriteOutcome::Done
    );
    assert_eq!(fake.state.hits("POST", "/openapi/build").len(), 2);
    assert_eq!(fake.state.hits("GET", "/openapi/build/x/detail").len(), 1);
    assert_eq!(count(&fake, "x"), 1);
}

#[tokio::test]
async fn a_duplicate_refusal_after_ambiguity_means_the_first_send_committed() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::CommitThen(Box::new(Action::Drop)),
    ));
    // A stale read-back that does not see the build yet.
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/x/detail",
        1,
        Action::business(6523, "查询编译模块失败", "mongo: no documents in result"),
    ));
    let client = fake.client();
    assert_eq!(
        client
            .create_build(&spec("demo", "x"))
            .await
            .expect("create"),
        WriteOutcome::ResolvedAfterAmbiguity
    );
    assert_eq!(fake.state.hits("POST", "/openapi/build").len(), 2);
    assert_eq!(count(&fake, "x"), 1);

    // But a duplicate in another project is a real conflict.
    fake.state.seed([FakeBuild::plain("other", "y")]);
    fake.state
        .rule(Rule::new("POST", "/openapi/build", 1, Action::Drop));
    let err = client
        .create_build(&spec("demo", "y"))
        .await
        .expect_err("taken");
    assert!(
        matches!(&err, ApiError::NameTaken { other_project: Some(p), .. } if p == "other"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_json_500_on_create_is_definitive() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        usize::MAX,
        Action::json(500, json!({"code": 500, "description": "failed to find the build template specified by the user, template name: [nope], err: mongo: no documents in result", "message": "Internal Error: "})),
    ));
    let client = fake.client();
    let err = client
        .create_build(&spec("demo", "x"))
        .await
        .expect_err("500");
    assert!(
        matches!(err, ApiError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("template name: [nope]"), "{err}");
    assert_eq!(fake.state.hits("POST", "/openapi/build").len(), 1);
}

#[tokio::test]
async fn an_unverifiable_create_is_reported_as_ambiguous() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .rule(Rule::new("POST", "/openapi/build", 1, Action::Drop));
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/x/detail",
        usize::MAX,
        Action::empty(500),
    ));
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build",
        usize::MAX,
        Action::empty(500),
    ));
    let client = fake.client();
    let err = client
        .create_build(&spec("demo", "x"))
        .await
        .expect_err("ambiguous");
    assert!(matches!(err, ApiError::AmbiguousWrite { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("unknown") && msg.contains("plan"), "{msg}");
    assert_eq!(
        fake.state.hits("POST", "/openapi/build").len(),
        1,
        "not re-sent blind"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_creates() {
    // Nothing listens: the request was certainly not sent, so it may be re-sent;
    // as nothing ever answered, only a couple of times (a wrong port, #12).
    let fake = FakeZadig::spawn().await;
    let mut cfg = fake.config();
    cfg.base_url = "http://127.0.0.1:1".into();
    cfg.retry.max_attempts = 3;
    let client = Client::new(cfg).expect("client");
    let err = client
        .create_build(&spec("demo", "x"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Refused,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.request().map(|r| r.attempts), Some(2));
    assert!(
        err.to_string()
            .starts_with("nothing answers at http://127.0.0.1:1:"),
        "{err}"
    );
    assert_eq!(client.stats().ambiguous_writes, 0, "no read-back needed");
}

#[tokio::test]
async fn a_429_on_create_waits_and_resends() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "POST",
        "/openapi/build",
        1,
        Action::empty(429).with_header("retry-after", "0"),
    ));
    let client = fake.client();
    assert_eq!(
        client
            .create_build(&spec("demo", "x"))
            .await
            .expect("create"),
        WriteOutcome::Done
    );
    assert_eq!(fake.state.hits("POST", "/openapi/build").len(), 2);
    assert_eq!(client.stats().ambiguous_writes, 0);
}

// ------------------------------------------------------------- concurrency

#[tokio::test]
async fn in_flight_requests_are_bounded() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed((0..24).map(|i| FakeBuild::plain("demo", &format!("b{i}"))));
    fake.state.set_faults(Faults {
        delay: Duration::from_millis(15),
        ..Faults::default()
    });
    let mut cfg = fake.config();
    cfg.concurrency = 3;
    let client = Client::new(cfg).expect("client");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let c = client.clone();
        tasks.spawn(async move { c.build_detail("demo", &format!("b{i}"), None).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("task").expect("detail");
    }
    let max = fake.state.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} in flight");
    assert!(max >= 2, "requests did run in parallel ({max})");
    assert!(client.stats().peak_in_flight <= 3);
}

#[tokio::test]
async fn a_retry_backoff_holds_no_slot() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed([FakeBuild::plain("demo", "a"), FakeBuild::plain("demo", "b")]);
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/a/detail",
        1,
        Action::empty(503),
    ));
    let mut cfg = fake.config();
    cfg.concurrency = 1;
    cfg.retry.base_delay = Duration::from_millis(400);
    cfg.retry.max_delay = Duration::from_millis(400);
    let client = Client::new(cfg).expect("client");
    let c = client.clone();
    let a = tokio::spawn(async move { c.build_detail("demo", "a", None).await });
    // a got its 503 and is sleeping before its retry.
    assert!(
        wait_for(Duration::from_secs(2), || client.stats().detail.retries
            == 1)
        .await
    );
    client.build_detail("demo", "b", None).await.expect("b");
    a.await.expect("task").expect("a after retry");
    let a_hits = fake.state.hits("GET", "/openapi/build/a/detail");
    let b_at = fake.state.hits("GET", "/openapi/build/b/detail")[0].at;
    assert_eq!(a_hits.len(), 2);
    assert!(
        b_at < a_hits[1].at,
        "b ran while a was backing off with the only slot free"
    );
}

#[tokio::test]
async fn a_429_slows_the_whole_run() {
    let fake = FakeZadig::spawn().await;
    fake.state
        .seed([FakeBuild::plain("demo", "a"), FakeBuild::plain("demo", "b")]);
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/a/detail",
        1,
        Action::empty(429).with_header("retry-after", "1"),
    ));
    let client = fake.client();
    let c = client.clone();
    let a = tokio::spawn(async move { c.build_detail("demo", "a", None).await });
    // Wait until a's 429 has been answered and seen by the client.
    assert!(wait_for(Duration::from_secs(2), || client.stats().throttled == 1).await);
    let b_started = Instant::now();
    client.build_detail("demo", "b", None).await.expect("b");
    a.await.expect("task").expect("a after waiting");

    let first_a = fake.state.hits("GET", "/openapi/build/a/detail")[0].at;
    let b_at = fake.state.hits("GET", "/openapi/build/b/detail")[0].at;
    let gap = b_at.duration_since(first_a);
    assert!(
        gap >= Duration::from_millis(950),
        "b was sent {gap:?} after the 429"
    );
    assert!(b_started.elapsed() < Duration::from_secs(3));
    let second_a = fake.state.hits("GET", "/openapi/build/a/detail")[1].at;
    assert!(second_a.duration_since(first_a) >= Duration::from_millis(950));
    assert_eq!(client.stats().throttled, 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let fake = FakeZadig::spawn().await;
    fake.state.rule(Rule::new(
        "GET",
        "/openapi/build/a/detail",
        1,
        Action::empty(429).with_header("retry-after", "120"),
    ));
    let client = fake.client(); // 10 s budget
    let started = Instant::now();
    let err = client
        .build_detail("demo", "a", None)
        .await
        .expect_err("429");
    assert!(
        matches!(err, ApiError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("--concurrency"), "{err}");
}

#[tokio::test]
async fn a_refused_connection_after_an_answer_is_an_outage_retried_within_the_budget() {
    // Answers once, then nothing listens: a restart, not a wrong endpoint.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
                )
                .await;
        }
        // The listener is dropped here: later connections are refused.
    });
    let fake = FakeZadig::spawn().await;
    let mut cfg = fake.config();
    cfg.base_url = format!("http://{addr}");
    cfg.retry = RetryPolicy {
        max_attempts: u32::MAX,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(50),
        max_total: Duration::from_millis(600),
    };
    let client = Client::new(cfg).expect("client");
    client.basic_images().await.expect("the first answer");
    let err = client.clusters().await.expect_err("refused");
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Refused,
                ..
            }
        ),
        "{err:?}"
    );
    let attempts = err.request().map(|r| r.attempts).unwrap_or(0);
    assert!(attempts > 2, "retried within the budget: {attempts}");
}
