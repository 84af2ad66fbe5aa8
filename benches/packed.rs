//! The packed definition store (issue 13): the cost of packing and
//! unpacking one definition, with and without the fleet's dictionary, and
//! its size. `cargo bench --locked --bench packed` prints the figures.

mod support;

use std::hint::black_box;
use std::time::Instant;

use zadig_sync::core::load::{SourceFile, load};
use zadig_sync::core::packed::{Codec, PackedDef};

fn main() {
    let n = 20_000;
    let config = SourceFile {
        path: "zadig-sync.yaml".into(),
        bytes: b"projects: [{key: demo}]\n".to_vec(),
    };
    let files: Vec<SourceFile> = (0..n)
        .map(|i| SourceFile {
            path: format!("demo/svc-{i:05}.yaml"),
            bytes: support::definition(i, "demo", false).into_bytes(),
        })
        .collect();
    let t = Instant::now();
    let loaded = load(Some(&config), &files);
    let load_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    assert_eq!(loaded.builds.len(), n);
    let plain: Vec<&PackedDef> = loaded.builds.iter().map(|b| &b.def).collect();
    let defs: Vec<_> = plain.iter().map(|p| p.unpack()).collect();

    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for d in &defs {
        black_box(serde_json::to_vec(match d {
            zadig_sync::core::model::BuildDef::Build(b) => b,
            _ => unreachable!(),
        }))
        .ok();
    }
    let json_ser = per(t);
    let t = Instant::now();
    let packed: Vec<PackedDef> = defs.iter().map(PackedDef::new).collect();
    let pack_plain = per(t);
    let t = Instant::now();
    for p in &packed {
        black_box(p.unpack());
    }
    let unpack_plain = per(t);
    let t = Instant::now();
    let codec = Codec::for_fleet(&plain);
    let train_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let fleet: Vec<PackedDef> = defs.iter().map(|d| PackedDef::pack(d, &codec)).collect();
    let pack_dict = per(t);
    let t = Instant::now();
    for p in &fleet {
        black_box(p.unpack());
    }
    let unpack_dict = per(t);
    let size = |v: &[PackedDef]| v.iter().map(PackedDef::packed_len).sum::<usize>() / n;
    println!(
        "packed definitions, {n} alike builds ({} B of YAML each):",
        files[0].bytes.len()
    );
    println!("  load (parse + validate)     {load_us:7.2} us/build");
    println!("  JSON serialise alone        {json_ser:7.2} us/build");
    println!(
        "  pack / unpack, no dictionary {pack_plain:6.2} / {unpack_plain:.2} us, {} B",
        size(&packed)
    );
    println!(
        "  pack / unpack, dictionary    {pack_dict:6.2} / {unpack_dict:.2} us, {} B (dictionary made in {train_ms:.1} ms)",
        size(&fleet)
    );
}
