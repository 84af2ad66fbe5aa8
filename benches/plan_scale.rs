//! Plan at scale (issues 7 and 13): N plain builds, 100 per project, 20 ms of
//! added latency per request, definitions for all of them, 10% differing.
//!
//! `BENCH_SIZES=2000,10000,50000 cargo bench --bench plan_scale` (default:
//! 2000). For each size it prints the wall time against the ideal, the tool's
//! peak RSS and its user and system CPU (from the rusage `wait4` returns for
//! the child, via `/usr/bin/time`), and the requests by kind the emulator saw.
//!
//! The emulator runs on its own thread of this process; the tool is the
//! release binary (`zadig-sync plan DIR -o json --endpoint URL`), run as a
//! child process, so its wall time includes process start, loading the files
//! and rendering, and its memory and CPU are its own, not the emulator's.
//!
//! By default the emulator serves credentials in the stored model (Zadig main
//! after 2026-08-10), so one read per build suffices (issue 13's targets:
//! R = N). `BENCH_MASKED=1` masks them as released v4.2–v5.0 do: two reads per
//! build (stored model + OpenAPI detail), the worst case (issue 7).
//! `ideal = 20 ms × (1 + ceil(R / C))`: one listing round, with the look-ups
//! in parallel, then the per-build reads at concurrency C (`BENCH_C`, 16).
//!
//! `BENCH_RATE_LIMIT=200` adds, for the first size, a run against a gateway
//! limited to that many requests/s (adaptive concurrency, issue 13): ideal =
//! requests handled / rate; target ratio ≤ 1.2.
//!
//! `BENCH_DUMP=DIR` writes the first size's fleet (`DIR/dir`) and emulator
//! seed (`DIR/seed.json`) and stops: for profiling the binary by hand
//! against `zadig-sync emulator --seed DIR/seed.json`.
//!
//! `BENCH_SERIAL=1` adds the serial baseline for the first size: what a
//! user's script does with the documented OpenAPI, one request at a time
//! (list each project, then GET each build's detail), over one connection.
//!
//! Targets (issue 13, C = 16, one read per build): 10,000 builds: ratio ≤ 1.15,
//! ≤ 64 MB, CPU ≤ 1.0 s; 50,000 builds: ratio ≤ 1.15, ≤ 100 MB, CPU ≤ 5.0 s.

mod support;

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;
use support::{BinaryRun, Fleet, SECRET_VALUE, SECRET_VAR, TOKEN, machine, mib, run_binary, secs};
use zadig_sync::emulator::{EmulatorConfig, EmulatorHandle, Faults, RequestStats, spawn_in_thread};
use zadig_sync::zadig::client::{Client, ClientConfig};

const LATENCY: Duration = Duration::from_millis(20);
const PER_PROJECT: usize = 100;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn sizes() -> Vec<usize> {
    let raw = std::env::var("BENCH_SIZES").unwrap_or_else(|_| "2000".to_owned());
    let sizes: Vec<usize> = raw
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .filter(|&n| n > 0)
        .collect();
    assert!(!sizes.is_empty(), "BENCH_SIZES: sizes separated by commas");
    sizes
}

fn fleet(builds: usize) -> Fleet {
    Fleet {
        builds,
        projects: builds.div_ceil(PER_PROJECT).max(1),
        differ_every: 10,
    }
}

/// `latency × (1 + ceil(R / C))`.
fn ideal(reads: usize, concurrency: usize) -> Duration {
    LATENCY * u32::try_from(1 + reads.div_ceil(concurrency)).unwrap_or(u32::MAX)
}

fn plan_once(
    fleet: &Fleet,
    url: &str,
    dir: &str,
    c: usize,
    emu: &EmulatorHandle,
) -> (BinaryRun, RequestStats) {
    emu.reset_stats();
    let c = c.to_string();
    let run = run_binary(url, &["plan", dir, "-o", "json", "--concurrency", &c]);
    let stats = emu.stats();
    // Exit 2: changes present.
    assert!(
        run.code == 2 || run.code == 0,
        "plan failed ({}):\n{}",
        run.code,
        run.stderr
    );
    let plan: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let summary = &plan["summary"];
    let differing = fleet.differing() as u64;
    assert_eq!(summary["update"], differing, "summary: {summary}");
    assert_eq!(
        summary["unchanged"],
        fleet.builds as u64 - differing,
        "summary: {summary}"
    );
    assert_eq!(summary["create"], 0, "summary: {summary}");
    assert_eq!(summary["delete"], 0, "summary: {summary}");
    (run, stats)
}

fn cpu(run: &BinaryRun) -> String {
    run.cpu.map_or_else(
        || "cpu n/a".to_owned(),
        |(u, s)| {
            format!(
                "cpu user {:.2} s + sys {:.2} s = {:.2} s",
                u.as_secs_f64(),
                s.as_secs_f64(),
                (u + s).as_secs_f64()
            )
        },
    )
}

fn requests(s: &RequestStats) -> String {
    format!(
        "requests {} (list {}, lookups {}, stored {}, detail {}, other {}, 429/faults {})",
        s.total, s.list, s.lookups, s.stored, s.detail, s.other, s.faults
    )
}

/// The serial baseline: one request at a time over one connection.
fn serial_baseline(url: &str, fleet: &Fleet) -> (Duration, u64) {
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
        for p in 0..fleet.projects {
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
        assert_eq!(details, fleet.builds);
        (started.elapsed(), client.stats().requests)
    })
}

fn main() {
    let masked = std::env::var("BENCH_MASKED").is_ok_and(|v| !v.is_empty() && v != "0");
    let concurrency = env_usize("BENCH_C", 16);
    let reads_per_build = if masked { 2 } else { 1 };
    println!("{}", machine());
    println!(
        "plan at scale: {PER_PROJECT} plain builds per project, 10% differing; emulator latency {} ms per request; C = {concurrency}; {reads_per_build} read(s) per build ({}); tool = release binary (child process)",
        LATENCY.as_millis(),
        if masked {
            "stored credentials masked: stored model + detail"
        } else {
            "stored model only"
        },
    );
    println!(
        "ideal = {} ms × (1 + ceil(R / C)), R = builds × reads per build",
        LATENCY.as_millis()
    );

    // For profiling the tool by hand (heaptrack, valgrind): the fleet's
    // directory and the emulator's seed, then nothing else.
    if let Ok(out) = std::env::var("BENCH_DUMP") {
        let builds = sizes()[0];
        let fleet = fleet(builds);
        let out = std::path::Path::new(&out);
        std::fs::create_dir_all(out.join("dir")).expect("mkdir");
        fleet.write_dir(&out.join("dir"));
        let seed = serde_json::to_string(&fleet.seed()).expect("seed as JSON");
        std::fs::write(out.join("seed.json"), seed).expect("writes the seed");
        println!(
            "{builds} builds: {}/dir and {}/seed.json (token {TOKEN}, {SECRET_VAR}={SECRET_VALUE})",
            out.display(),
            out.display()
        );
        return;
    }
    for (n, builds) in sizes().into_iter().enumerate() {
        let fleet = fleet(builds);
        let tmp = tempfile::tempdir().expect("tempdir");
        fleet.write_dir(tmp.path());
        let dir = tmp.path().to_str().expect("UTF-8 temp path").to_owned();
        let started = Instant::now();
        let emu = spawn_in_thread(EmulatorConfig {
            seed: fleet.seed(),
            latency: LATENCY,
            mask_stored_credentials: masked,
            ..EmulatorConfig::default()
        })
        .expect("emulator starts");
        let seeded = started.elapsed();
        let url = emu.base_url();
        let handle = emu.handle();

        let (run, stats) = plan_once(&fleet, &url, &dir, concurrency, &handle);
        let reads = stats.stored + stats.detail;
        let ideal = ideal(builds * reads_per_build, concurrency);
        let ratio = run.wall.as_secs_f64() / ideal.as_secs_f64();
        println!(
            "{builds:>6} builds ({} projects, seeded in {}): wall {} ideal {} ratio {ratio:.2}; peak {}; {}; {}; reads/build {:.2}",
            fleet.projects,
            secs(seeded),
            secs(run.wall),
            secs(ideal),
            mib(run.peak_mib),
            cpu(&run),
            requests(&stats),
            reads as f64 / builds as f64,
        );

        // The part that is not network: process start, loading the files,
        // normalising, diffing, rendering, and the requests' own CPU cost.
        handle.set_latency(Duration::ZERO);
        let (local, _) = plan_once(&fleet, &url, &dir, concurrency, &handle);
        handle.set_latency(LATENCY);
        println!(
            "        the same plan with no added latency: wall {}, peak {}, {}",
            secs(local.wall),
            mib(local.peak_mib),
            cpu(&local)
        );

        if n == 0
            && let Some(rate) = std::env::var("BENCH_RATE_LIMIT")
                .ok()
                .and_then(|v| v.parse::<u32>().ok())
        {
            handle.set_faults(Faults {
                rate_limit: rate,
                ..Faults::default()
            });
            let (run, stats) = plan_once(&fleet, &url, &dir, concurrency, &handle);
            handle.set_faults(Faults::default());
            let handled = stats.total - stats.faults;
            let ideal = Duration::from_secs_f64(handled as f64 / f64::from(rate));
            let ratio = run.wall.as_secs_f64() / ideal.as_secs_f64();
            println!(
                "        against a {rate} req/s rate limit: wall {} ideal {} (requests handled / rate) ratio {ratio:.2} ({}); {}; {}",
                secs(run.wall),
                secs(ideal),
                if ratio <= 1.2 {
                    "≤ 1.2 met"
                } else {
                    "≤ 1.2 NOT met"
                },
                cpu(&run),
                requests(&stats)
            );
        }

        if n == 0 && std::env::var("BENCH_SERIAL").is_ok_and(|v| !v.is_empty() && v != "0") {
            handle.reset_stats();
            let (serial, serial_requests) = serial_baseline(&url, &fleet);
            println!(
                "        serial baseline (list each project, then GET each build's detail, one at a time): wall {}, {serial_requests} requests; zadig-sync is {:.1}× faster",
                secs(serial),
                serial.as_secs_f64() / run.wall.as_secs_f64()
            );
        }

        let cpu_s = run.cpu.map(|(u, s)| (u + s).as_secs_f64());
        let targets = match builds {
            10_000 => Some((64.0, 1.0)),
            50_000 => Some((100.0, 5.0)),
            _ => None,
        };
        if let Some((mem, cpu_max)) = targets {
            let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
            println!(
                "        targets: ratio ≤ 1.15: {}; peak ≤ {mem} MB: {}; CPU ≤ {cpu_max} s: {}",
                verdict(ratio <= 1.15),
                verdict(run.peak_mib.is_some_and(|m| m * 1.048_576 <= mem)),
                verdict(cpu_s.is_some_and(|c| c <= cpu_max)),
            );
        }
    }
}
