//! Local work (issue 7): loading, normalising and diffing 10,000 builds, no
//! network.
//!
//! `cargo bench --bench local`
//!
//! 10,000 plain builds in 20 projects, 10% of the definitions differing. The
//! live side is read once, untimed, from an in-process emulator through the
//! real read path (`cli::live::read_live`), so it is exactly what a plan
//! compares against. Then, best of three runs, timed:
//! 1. load: `core::load::load` over the in-memory files (parse + validate),
//!    then `{from_env}` resolved as `plan` does;
//! 2. normalise: both sides alone (`normalize_desired`, `normalize_live`),
//!    for the breakdown;
//! 3. plan: `core::plan::plan`, which normalises both sides again, diffs,
//!    and renders the unified diffs of the changes.
//!
//! Target on the 2-core machine: load + plan ≤ 1.0 s.

mod support;

use std::time::{Duration, Instant};

use secrecy::SecretString;
use support::{Fleet, SECRET_VALUE, SECRET_VAR, TOKEN, machine, peak_rss_mib, secs};
use zadig_sync::cli::fs::load_contents as load_on;
use zadig_sync::cli::live::{ReadScope, read_live};
use zadig_sync::cli::settings::cores;
use zadig_sync::core::load::SourceFile;
use zadig_sync::core::normalize::{normalize_desired, normalize_live};
use zadig_sync::core::plan::{DesiredBuild, LiveState, PlanOptions, ProjectLive, plan};
use zadig_sync::core::secrets::resolve_env;
use zadig_sync::emulator::{EmulatorConfig, spawn};
use zadig_sync::zadig::client::{Client, ClientConfig};

const FLEET: Fleet = Fleet {
    builds: 10_000,
    projects: 20,
    differ_every: 10,
};

/// Reads the live state once, through the real read path.
fn read_live_state(files: &[SourceFile], config: &SourceFile) -> LiveState {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let emu = spawn(
            EmulatorConfig {
                seed: FLEET.seed(),
                ..EmulatorConfig::default()
            },
            "127.0.0.1:0".parse().expect("address"),
        )
        .await
        .expect("emulator starts");
        let loaded = load_on(Some(config), files, cores());
        let defs: Vec<DesiredBuild> = loaded
            .builds
            .iter()
            .map(|l| DesiredBuild::new(&l.def.unpack(), String::new()))
            .collect();
        let scope = ReadScope {
            projects: loaded
                .config
                .projects
                .iter()
                .map(|p| p.key.clone())
                .collect(),
            desired: &defs,
            targets: &[],
            check_elsewhere: false,
            read_all: false,
        };
        let cfg = ClientConfig {
            concurrency: 32,
            ..ClientConfig::new(emu.base_url(), SecretString::from(TOKEN.to_owned()))
        };
        let client = Client::new(cfg).expect("client");
        let live = read_live(&client, &loaded.config, &scope, None)
            .await
            .expect("reads the live state");
        emu.shutdown().await;
        live
    })
}

fn main() {
    println!("{}", machine());
    println!(
        "local work: {} plain builds in {} projects, {} definitions differing; no network in the timed part",
        FLEET.builds,
        FLEET.projects,
        FLEET.differing()
    );
    let (config_text, texts) = FLEET.files();
    let config = SourceFile {
        path: "zadig-sync.yaml".to_owned(),
        bytes: config_text.into_bytes(),
    };
    let files: Vec<SourceFile> = texts
        .into_iter()
        .map(|(path, text)| SourceFile {
            path,
            bytes: text.into_bytes(),
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();

    let started = Instant::now();
    let live = read_live_state(&files, &config);
    let live_builds: Vec<_> = live
        .projects
        .values()
        .filter_map(|p| match p {
            ProjectLive::Listed(b) => Some(b),
            ProjectLive::Failed(_) => None,
        })
        .flatten()
        .collect();
    assert_eq!(live_builds.len(), FLEET.builds);
    println!(
        "setup (untimed): {} files, {:.1} MiB in memory; live state of {} builds read from an in-process emulator in {}",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0),
        live_builds.len(),
        secs(started.elapsed())
    );
    let before = peak_rss_mib();

    let lookup = |var: &str| (var == SECRET_VAR).then(|| SECRET_VALUE.to_owned());
    let mut best: Option<(Duration, Duration, Duration)> = None;
    for run in 1..=3 {
        // 1. Load and validate, then resolve {from_env} (as `plan` does).
        let t = Instant::now();
        let loaded = load_on(Some(&config), &files, cores());
        assert!(
            !loaded.has_errors(),
            "the generated definitions are valid: {:?}",
            loaded.errors().take(3).collect::<Vec<_>>()
        );
        let desired: Vec<DesiredBuild> = loaded
            .builds
            .iter()
            .map(|l| {
                let (def, missing) = resolve_env(&l.def.unpack(), &lookup);
                assert!(missing.is_empty());
                DesiredBuild::new(&def, format!("{}:{}", l.origin.file, l.origin.line))
            })
            .collect();
        let load_time = t.elapsed();

        // 2. Normalising alone, both sides (for the breakdown; `plan` does it
        //    again below).
        let t = Instant::now();
        let mut normalised = 0usize;
        for d in &desired {
            let n = normalize_desired(&d.def(), &live.catalog);
            normalised += usize::from(!n.name().is_empty());
        }
        for b in &live_builds {
            normalised += usize::from(normalize_live(b, &live.catalog).def.is_some());
        }
        let normalise_time = t.elapsed();
        assert_eq!(normalised, 2 * FLEET.builds);

        // 3. The plan: normalise, diff, unified diffs of the changes.
        let t = Instant::now();
        let p = plan(&loaded.config, &desired, &live, &PlanOptions::default());
        let plan_time = t.elapsed();
        let summary = p.summary();
        assert_eq!(summary.update, FLEET.differing(), "{summary:?}");
        assert_eq!(summary.unchanged, FLEET.builds - FLEET.differing());
        assert_eq!(summary.create + summary.delete + summary.blocked, 0);

        let total = load_time + plan_time;
        println!(
            "run {run}: load + validate + resolve {}; normalise both sides alone {}; plan (normalise + diff + render diffs) {}; load + plan {}",
            secs(load_time),
            secs(normalise_time),
            secs(plan_time),
            secs(total)
        );
        if best.is_none_or(|(l, _, p)| total < l + p) {
            best = Some((load_time, normalise_time, plan_time));
        }
    }
    let (load_time, normalise_time, plan_time) = best.expect("three runs");
    let total = load_time + plan_time;
    println!(
        "best: load {}, normalise {} (inside plan), diff ≈ {} (plan − normalise), plan {}; load + plan {}",
        secs(load_time),
        secs(normalise_time),
        secs(plan_time.saturating_sub(normalise_time)),
        secs(plan_time),
        secs(total)
    );
    println!(
        "peak memory (VmHWM, includes the emulator used for setup): {:.1} MiB (after setup: {:.1} MiB)",
        peak_rss_mib().unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN)
    );
    println!(
        "target: load + plan ≤ 1.0 s ({}): {}",
        secs(total),
        if total <= Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
}
