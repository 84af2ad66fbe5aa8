//! Records the git commit the binary is built from, for `--version`.
//!
//! Asks git, and falls back gracefully: no git, not a checkout (a crates.io
//! tarball, `cargo install` from a registry), or a checkout of some other
//! repository around the sources all give "commit unknown" instead of a wrong
//! or missing answer. `ZADIG_SYNC_GIT_COMMIT` overrides (for packagers who
//! build from a tarball but know the commit).

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ZADIG_SYNC_GIT_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("ZADIG_SYNC_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            // Only when these sources are tracked by the repository git finds:
            // an unpacked tarball inside another checkout is not that commit.
            git(&dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
            let commit = git(&dir, &["rev-parse", "--short=12", "HEAD"])?;
            watch_head(&dir);
            Some(commit)
        });
    let version = env!("CARGO_PKG_VERSION");
    let long = match commit {
        Some(c) => format!("{version} (commit {})", c.trim()),
        None => format!("{version} (commit unknown: built outside a git checkout)"),
    };
    println!("cargo:rustc-env=ZADIG_SYNC_LONG_VERSION={long}");
}

/// Rebuild when HEAD moves: HEAD itself, the branch it points to, packed refs.
fn watch_head(dir: &Path) {
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    let mut paths = Vec::new();
    if let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]) {
        paths.push(abs(git_dir).join("HEAD"));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]) {
        let common = abs(common);
        if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            paths.push(common.join(branch));
        }
        paths.push(common.join("packed-refs"));
    }
    // A path that does not exist would make cargo re-run this on every build.
    for p in paths.into_iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
