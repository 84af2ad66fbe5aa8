//! The packed definition store (issue 13): the cost of packing and
//! unpacking one definition, with and without the fleet's dictionary, and
//! its size. `cargo bench --locked --bench packed` prints the figures.

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
            bytes: definition(i).into_bytes(),
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

/// A build like the `plan_scale` fleet's: alike but for names.
fn definition(i: usize) -> String {
    format!(
        r#"name: svc-{i:05}
project_key: demo
infrastructure: kubernetes
build_os: ubuntu 20.04
installs:
  - name: go
    version: 1.22.8
script_type: shell
build_script: |
  #!/bin/bash
  set -e
  cd $REPONAME_0
  go test ./...
  make build GOFLAGS="$GOFLAGS" SERVICE=svc-{i:05}
repo_info:
  - codehost_name: gitlab-main
    repo_namespace: demo
    repo_name: svc-{i:05}
    branch: main
    remote_name: origin
parameters:
  - key: GOFLAGS
    type: string
    default_value: -mod=vendor
    description: flags passed to go build
  - key: REGISTRY_TOKEN
    type: string
    is_credential: true
    default_value:
      from_env: BENCH_REGISTRY_TOKEN
services:
  - service_name: svc-{i:05}
    service_module: svc-{i:05}
docker_build_step:
  dockerfile_source: local
  build_context_dir: $REPONAME_0
  dockerfile_directory: $REPONAME_0/Dockerfile
  enable_buildkit: true
  platforms: linux/amd64
advanced_settings:
  timeout: 30
  cluster_name: local
  resource_spec:
    cpu_limit: 2000
    memory_limit: 4096
    cpu_req: 500
    memory_req: 1024
"#
    )
}
