//! Apply (issue 5's benchmark): 200 updates against the emulator with 20 ms of
//! added latency per request.
//!
//! `cargo bench --bench apply`
//!
//! 200 plain builds in 20 projects (10 each), every definition differing, so
//! `apply` plans 200 updates, writes them and reads them back. The emulator
//! runs on its own thread of this process, re-seeded for every run; the tool
//! is the release binary (`zadig-sync apply DIR --auto-approve -o json
//! --endpoint URL`), run as a child process. Request counts are the
//! emulator's.
//!
//! What apply must do, in rounds of at most C concurrent requests, each round
//! one latency long (every build has a credential that the stored model masks,
//! so reading a build takes two requests):
//! 1. the plan: one round of listings (look-ups in parallel), then
//!    ceil(2 × 200 / C) rounds of per-build reads;
//! 2. one round re-listing the projects right before writing (the
//!    optimistic-concurrency check);
//! 3. ceil(200 / C) rounds of writes;
//! 4. the verification: one round of listings, then ceil(2 × 200 / C) rounds
//!    re-reading the written builds.
//!
//! Target: wall ≤ 1.3 × that ideal at the default concurrency (16).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Fleet, machine, mib, run_binary, secs};
use zadig_sync::emulator::{EmulatorConfig, spawn_in_thread};

const FLEET: Fleet = Fleet {
    builds: 200,
    projects: 20,
    differ_every: 1,
};
const LATENCY: Duration = Duration::from_millis(20);
const DEFAULT_CONCURRENCY: usize = 16;
const READS_PER_BUILD: usize = 2;

/// Rounds of the ideal apply at concurrency `c`: (plan, re-list, writes, verification).
fn ideal_rounds(c: usize) -> (usize, usize, usize, usize) {
    let reads = FLEET.builds * READS_PER_BUILD;
    let writes = FLEET.differing();
    (
        1 + reads.div_ceil(c),
        1,
        writes.div_ceil(c),
        1 + (writes * READS_PER_BUILD).div_ceil(c),
    )
}

fn main() {
    println!("{}", machine());
    println!(
        "apply: {} plain builds in {} projects, {} updates; emulator latency {} ms per request; tool = release binary (child process)",
        FLEET.builds,
        FLEET.projects,
        FLEET.differing(),
        LATENCY.as_millis()
    );
    println!(
        "ideal = {} ms × [(1 + ceil(2·B / C)) plan + 1 re-list + ceil(W / C) writes + (1 + ceil(2·W / C)) verification], B = {} builds read, W = {} writes",
        LATENCY.as_millis(),
        FLEET.builds,
        FLEET.differing()
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    FLEET.write_dir(tmp.path());
    let dir = tmp.path().to_str().expect("UTF-8 temp path").to_owned();

    let mut default_ratio = f64::NAN;
    for c in [DEFAULT_CONCURRENCY, 64, 4] {
        // A fresh emulator per run: the previous apply changed the builds.
        let emu = spawn_in_thread(EmulatorConfig {
            seed: FLEET.seed(),
            latency: LATENCY,
            ..EmulatorConfig::default()
        })
        .expect("emulator starts");
        let cs = c.to_string();
        let run = run_binary(
            &emu.base_url(),
            &[
                "apply",
                &dir,
                "--auto-approve",
                "-o",
                "json",
                "--concurrency",
                &cs,
            ],
        );
        let s = emu.handle().stats();
        assert_eq!(run.code, 0, "apply failed:\n{}\n{}", run.stdout, run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).expect("report JSON");
        let summary = &report["summary"];
        assert_eq!(summary["applied"], FLEET.differing(), "summary: {summary}");
        assert_eq!(summary["not_converged"], 0, "summary: {summary}");

        let (plan, relist, writes, verify) = ideal_rounds(c);
        let rounds = plan + relist + writes + verify;
        let ideal = LATENCY * rounds as u32;
        let ratio = run.wall.as_secs_f64() / ideal.as_secs_f64();
        if c == DEFAULT_CONCURRENCY {
            default_ratio = ratio;
        }
        println!(
            "  C={c:<3} wall {:>8}  ideal {:>8} ({plan} + {relist} + {writes} + {verify} = {rounds} rounds)  ratio {ratio:.2}",
            secs(run.wall),
            secs(ideal),
        );
        println!(
            "        requests {} (list {}, lookups {}, stored {}, detail {}, update {}, create {}, delete {}, other {}); peak {}",
            s.total,
            s.list,
            s.lookups,
            s.stored,
            s.detail,
            s.update,
            s.create,
            s.delete,
            s.other,
            mib(run.peak_mib)
        );
    }
    println!(
        "target: ratio at C={DEFAULT_CONCURRENCY} ≤ 1.3 ({default_ratio:.2}): {}",
        if default_ratio <= 1.3 {
            "met"
        } else {
            "NOT met"
        }
    );
}
