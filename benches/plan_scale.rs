//! Plan at scale (issue 7): 2,000 plain builds in 20 projects, 20 ms of added
//! latency per request, definitions for all of them, 10% differing.
//!
//! `cargo bench --bench plan_scale` (`BENCH_QUICK=1` skips concurrency 1,
//! which takes well over a minute).
//!
//! The emulator runs on its own thread of this process; the tool is the
//! release binary (`zadig-sync plan DIR -o json --endpoint URL`), run as a
//! child process, so its wall time includes process start, loading the 2,000
//! files and rendering, and its peak memory (`/usr/bin/time -f %M`) is its
//! own, not the emulator's. Request counts are the emulator's.
//!
//! Every build has a credential parameter, which the stored model of released
//! Zadig masks: the read path needs two reads per build (stored model +
//! OpenAPI detail), so R = 4,000, and
//! `ideal = 20 ms × (1 + ceil(R / C))` (one listing round, with the look-ups
//! in parallel, then the per-build reads at concurrency C).
//!
//! Then the serial baseline: what a user's script does with the documented
//! OpenAPI, one request at a time (list each project, then GET each build's
//! detail), over one keep-alive connection.
//!
//! Targets: at most 2 reads per build, ratio ≤ 1.3 at the default concurrency
//! (16), peak memory ≤ 150 MB.

mod support;

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;
use support::{Fleet, TOKEN, machine, mib, quick, run_binary, secs};
use zadig_sync::emulator::{EmulatorConfig, EmulatorHandle, RequestStats, spawn_in_thread};
use zadig_sync::zadig::client::{Client, ClientConfig};

const FLEET: Fleet = Fleet {
    builds: 2_000,
    projects: 20,
    differ_every: 10,
};
const LATENCY: Duration = Duration::from_millis(20);
const DEFAULT_CONCURRENCY: usize = 16;
/// Reads per build the read path needs: the stored model, and the OpenAPI
/// detail for the credential the stored model masks.
const READS_PER_BUILD: usize = 2;

/// `latency × (1 + ceil(R / C))`.
fn ideal(concurrency: usize) -> Duration {
    let r = FLEET.builds * READS_PER_BUILD;
    LATENCY * (1 + r.div_ceil(concurrency)) as u32
}

struct Row {
    concurrency: usize,
    wall: Duration,
    stats: RequestStats,
    peak: Option<f64>,
}

impl Row {
    fn per_build_reads(&self) -> u64 {
        self.stats.stored + self.stats.detail
    }

    fn reads_per_build(&self) -> f64 {
        self.per_build_reads() as f64 / FLEET.builds as f64
    }

    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / ideal(self.concurrency).as_secs_f64()
    }
}

fn plan_once(url: &str, dir: &str, concurrency: usize, emu: &EmulatorHandle) -> Row {
    emu.reset_stats();
    let c = concurrency.to_string();
    let run = run_binary(url, &["plan", dir, "-o", "json", "--concurrency", &c]);
    let stats = emu.stats();
    assert_eq!(run.code, 0, "plan failed:\n{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let summary = &plan["summary"];
    let differing = FLEET.differing() as u64;
    assert_eq!(summary["update"], differing, "summary: {summary}");
    assert_eq!(
        summary["unchanged"],
        FLEET.builds as u64 - differing,
        "summary: {summary}"
    );
    assert_eq!(summary["create"], 0, "summary: {summary}");
    assert_eq!(summary["delete"], 0, "summary: {summary}");
    Row {
        concurrency,
        wall: run.wall,
        stats,
        peak: run.peak_mib,
    }
}

fn print_row(r: &Row) {
    let s = &r.stats;
    println!(
        "  C={:<3} wall {:>9}  ideal {:>9}  ratio {:>5.2}  requests {:>5} (list {}, lookups {}, stored {}, detail {}, other {})  reads/build {:.2}  peak {}",
        r.concurrency,
        secs(r.wall),
        secs(ideal(r.concurrency)),
        r.ratio(),
        s.total,
        s.list,
        s.lookups,
        s.stored,
        s.detail,
        s.other,
        r.reads_per_build(),
        mib(r.peak)
    );
}

/// The serial baseline: one request at a time over one connection.
fn serial_baseline(url: &str) -> (Duration, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cfg = ClientConfig {
            concurrency: 1,
            ..ClientConfig::new(url, SecretString::from(TOKEN.to_owned()))
        };
        let client = Client::new(cfg).expect("client");
        let started = Instant::now();
        let mut details = 0usize;
        for p in 0..FLEET.projects {
            let project = format!("project-{p:02}");
            let builds = client.list_builds(&project).await.expect("list");
            for b in builds {
                let detail = client
                    .build_detail(&project, &b.name, None)
                    .await
                    .expect("detail");
                assert_eq!(detail.name, b.name);
                details += 1;
            }
        }
        assert_eq!(details, FLEET.builds);
        (started.elapsed(), client.stats().requests)
    })
}

fn main() {
    println!("{}", machine());
    println!(
        "plan at scale: {} plain builds in {} projects, {} differing; emulator latency {} ms per request; tool = release binary (child process)",
        FLEET.builds,
        FLEET.projects,
        FLEET.differing(),
        LATENCY.as_millis()
    );
    println!(
        "ideal = {} ms × (1 + ceil(R / C)), R = {} builds × {READS_PER_BUILD} reads (stored model + detail for the masked credential) = {}",
        LATENCY.as_millis(),
        FLEET.builds,
        FLEET.builds * READS_PER_BUILD
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    FLEET.write_dir(tmp.path());
    let dir = tmp.path().to_str().expect("UTF-8 temp path").to_owned();
    let started = Instant::now();
    let emu = spawn_in_thread(EmulatorConfig {
        seed: FLEET.seed(),
        latency: LATENCY,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts");
    println!("emulator seeded in {}", secs(started.elapsed()));
    let url = emu.base_url();
    let handle = emu.handle();

    let mut concurrencies = vec![DEFAULT_CONCURRENCY, 64, 4];
    if quick() {
        println!("BENCH_QUICK set: concurrency 1 skipped");
    } else {
        concurrencies.push(1);
    }
    println!("zadig-sync plan (release binary):");
    let mut rows = Vec::new();
    for c in concurrencies {
        let row = plan_once(&url, &dir, c, &handle);
        print_row(&row);
        rows.push(row);
    }
    rows.sort_by_key(|r| r.concurrency);

    // The part that is not network: process start, loading 2,000 files,
    // normalising, diffing, rendering, and the requests' own CPU cost.
    handle.set_latency(Duration::ZERO);
    let local = plan_once(&url, &dir, DEFAULT_CONCURRENCY, &handle);
    handle.set_latency(LATENCY);
    println!(
        "  the same plan with no added latency (local work + loopback HTTP): wall {}, peak {}",
        secs(local.wall),
        mib(local.peak)
    );

    handle.reset_stats();
    let (serial, serial_requests) = serial_baseline(&url);
    let server = handle.stats();
    println!(
        "serial baseline (list each project, then GET each build's detail, one request at a time): wall {}, {} requests (server saw: list {}, detail {})",
        secs(serial),
        serial_requests,
        server.list,
        server.detail
    );

    let default = rows
        .iter()
        .find(|r| r.concurrency == DEFAULT_CONCURRENCY)
        .expect("the default concurrency ran");
    println!(
        "speed-up of zadig-sync plan (C={DEFAULT_CONCURRENCY}, {} reads/build) over the serial baseline (1 read/build): {:.1}×",
        default.reads_per_build(),
        serial.as_secs_f64() / default.wall.as_secs_f64()
    );

    let reads_ok = rows
        .iter()
        .all(|r| r.per_build_reads() <= (FLEET.builds * READS_PER_BUILD) as u64);
    let ratio_ok = default.ratio() <= 1.3;
    let mem_ok = default.peak.is_none_or(|m| m <= 150.0);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "targets: reads/build ≤ 2: {}; ratio at C={DEFAULT_CONCURRENCY} ≤ 1.3 ({:.2}): {}; peak memory ≤ 150 MB ({}): {}",
        verdict(reads_ok),
        default.ratio(),
        verdict(ratio_ok),
        mib(default.peak),
        verdict(mem_ok)
    );
}
