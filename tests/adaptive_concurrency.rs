//! Adaptive concurrency (issue 13, item 3): against a gateway that limits the
//! rate, the run lowers its concurrency instead of failing, and goes back up
//! to `--concurrency` when the limit is gone.
//!
//! A test, not a benchmark: it asserts that no request fails and a generous
//! time bound (the machine is shared), and prints the measured ratio; the
//! strict 1.2× figure is measured by `benches/plan_scale.rs` and the note.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use zadig_sync::emulator::{EmulatorConfig, Faults, spawn};
use zadig_sync::zadig::{Client, ClientConfig};

const LATENCY: Duration = Duration::from_millis(20);
const RATE: u32 = 200;
const READS: usize = 600;

async fn reads(client: &Client, n: usize) -> usize {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let c = client.clone();
        tasks.spawn(async move { c.list_builds("demo").await });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        r.expect("task")
            .expect("no read fails under the rate limit");
        ok += 1;
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_lowers_the_concurrency_and_no_read_fails() {
    let emu = spawn(
        EmulatorConfig {
            latency: LATENCY,
            faults: Faults {
                rate_limit: RATE,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("emulator");
    let cfg = ClientConfig {
        concurrency: 16,
        ..ClientConfig::new(emu.base_url(), SecretString::from("t0ken".to_owned()))
    };
    let client = Client::new(cfg).expect("client");

    let started = Instant::now();
    assert_eq!(reads(&client, READS).await, READS);
    let wall = started.elapsed();
    // 20 ms × (reads / reads per 20 ms the limit lets through).
    let per_round = f64::from(RATE) * LATENCY.as_secs_f64();
    let ideal = LATENCY.mul_f64(READS as f64 / per_round);
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    let stats = client.stats();
    println!(
        "{READS} reads at C=16 against {RATE} req/s: wall {wall:?}, ideal {ideal:?}, ratio {ratio:.2}; {stats}"
    );
    assert!(stats.throttled > 0, "the limit was reached: {stats}");
    assert!(
        stats.concurrency.low < 16 && stats.concurrency.decreases > 0,
        "the run lowered its concurrency: {stats}"
    );
    assert_eq!(stats.list.requests, READS as u64 + stats.list.retries);
    // Generous (a loaded 2-core machine); a fixed C = 16 without adaptation
    // spends most of its sends on 429s and their backoff.
    assert!(ratio < 2.5, "ratio {ratio:.2}: {stats}");

    // The limit is lifted: good answers bring the concurrency back up.
    emu.handle().set_faults(Faults::default());
    assert_eq!(reads(&client, 400).await, 400);
    let after = client.stats();
    assert_eq!(
        after.concurrency.limit, 16,
        "back at the ceiling once answers are good: {after}"
    );
    assert_eq!(after.throttled, stats.throttled, "no 429 without the limit");
}
