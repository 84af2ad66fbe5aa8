//! Reading a definition directory as it was at a git revision, for
//! `plan --base REF`, with the `git` command: nothing is checked out and the
//! work tree and the index are not touched (only `rev-parse`, `ls-tree` and
//! `cat-file` run).
//!
//! The files are chosen as [`super::fs::read_dir`] chooses them: `*.yaml` and
//! `*.yml` below the directory, hidden names skipped, `zadig-sync.yaml` at the
//! root the configuration. A symlink stored in the tree is never followed out
//! of the directory: one whose target, resolved within the directory at that
//! revision, is a file there is read as that file; any other (absolute,
//! leaving the directory, dangling, or naming a directory) is an error naming
//! the link.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use super::fs::DirContents;
use crate::core::load::{CONFIG_FILE, SourceFile};

/// A revision of the directory, as read from git.
#[derive(Debug)]
pub struct AtRevision {
    /// The commit REF names (full hash).
    pub commit: String,
    /// The directory's files at that commit; empty when the directory did
    /// not exist there.
    pub contents: DirContents,
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    // Reads only: no lock files, no hooks, no pager, no prompts.
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .stdin(Stdio::null());
    cmd
}

fn output(mut cmd: Command, what: &str) -> anyhow::Result<std::process::Output> {
    cmd.output()
        .with_context(|| format!("cannot run git to {what} (is git installed?)"))
}

/// Reads the definition directory `dir` (inside a git work tree) as it was at
/// `rev`. Errors: `dir` is not in a git work tree, `rev` names no commit, a
/// symlink at `rev` cannot be read within the directory.
pub fn read_at(dir: &Path, rev: &str) -> anyhow::Result<AtRevision> {
    if rev.is_empty() || rev.starts_with('-') {
        bail!("--base {rev:?}: not a git revision");
    }
    let mut cmd = git(dir);
    cmd.args(["rev-parse", "--is-inside-work-tree", "--show-prefix"]);
    let out = output(cmd, "find the repository")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    if !out.status.success() || lines.next() != Some("true") {
        bail!(
            "--base needs the definition directory inside a git work tree, and {} is not in one",
            dir.display()
        );
    }
    let prefix = lines.next().unwrap_or_default().to_owned();

    let mut cmd = git(dir);
    cmd.args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"));
    let out = output(cmd, "resolve the base revision")?;
    if !out.status.success() {
        bail!("--base {rev}: unknown git revision (no commit of that name in this repository)");
    }
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    // The directory's tree at the commit: `COMMIT:prefix`, paths relative to it.
    let tree = format!("{commit}:{prefix}");
    let mut cmd = git(dir);
    cmd.args(["cat-file", "-t", "--end-of-options"]).arg(&tree);
    let out = output(cmd, "read the base revision")?;
    if !out.status.success() || String::from_utf8_lossy(&out.stdout).trim() != "tree" {
        // The directory is new since the base: nothing was defined there.
        return Ok(AtRevision {
            commit,
            contents: DirContents::default(),
        });
    }
    let mut cmd = git(dir);
    cmd.args(["ls-tree", "-r", "-z", "--full-tree", "--end-of-options"])
        .arg(&tree);
    let out = output(cmd, "list the base revision")?;
    if !out.status.success() {
        bail!(
            "--base {rev}: git ls-tree failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let entries = parse_ls_tree(&out.stdout)?;
    let blobs = read_blobs(dir, entries.values().map(|e| e.oid.as_str()))?;
    let contents = select(&entries, &blobs, &prefix)?;
    Ok(AtRevision { commit, contents })
}

/// One entry of `git ls-tree -r`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    mode: String,
    oid: String,
}

/// Parses `git ls-tree -r -z` output: `MODE TYPE OID\tPATH\0`. Only blobs
/// (files and symlinks) are kept; submodules are not part of the directory.
fn parse_ls_tree(out: &[u8]) -> anyhow::Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(record);
        let Some((meta, path)) = text.split_once('\t') else {
            bail!("unexpected git ls-tree output: {text:?}");
        };
        let mut parts = meta.split(' ');
        let (Some(mode), Some(kind), Some(oid)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("unexpected git ls-tree output: {text:?}");
        };
        if kind != "blob" {
            continue;
        }
        entries.insert(
            path.to_owned(),
            Entry {
                mode: mode.to_owned(),
                oid: oid.to_owned(),
            },
        );
    }
    Ok(entries)
}

/// Reads blobs by id with one `git cat-file --batch`.
fn read_blobs<'a>(
    dir: &Path,
    oids: impl Iterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut wanted: Vec<&str> = oids.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut blobs = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(blobs);
    }
    let mut cmd = git(dir);
    cmd.args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .context("cannot run git to read the base revision")?;
    let mut stdin = child.stdin.take().context("git cat-file: no stdin")?;
    let request: String = wanted.iter().map(|o| format!("{o}\n")).collect();
    // Written from a thread: git answers while it reads, and a full pipe on
    // either side would otherwise stall both.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().context("git cat-file: no stdout")?);
    for oid in &wanted {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let mut parts = header.split_whitespace();
        let (Some(got), Some("blob"), Some(size)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!(
                "git cat-file could not read object {oid}: {}",
                header.trim()
            );
        };
        let size: usize = size.parse().context("git cat-file: bad size")?;
        let mut bytes = vec![0; size];
        reader.read_exact(&mut bytes)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline)?;
        blobs.insert(got.to_owned(), bytes);
    }
    drop(reader);
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

fn is_hidden(path: &str) -> bool {
    path.split('/').any(|c| c.starts_with('.'))
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Resolves a symlink stored at `link` with target `target`, lexically,
/// within the directory: the path it names, or `None` when it leaves it.
fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Chooses the directory's files and follows the symlinks that stay inside.
fn select(
    entries: &BTreeMap<String, Entry>,
    blobs: &BTreeMap<String, Vec<u8>>,
    prefix: &str,
) -> anyhow::Result<DirContents> {
    let shown = |p: &str| format!("{prefix}{p}");
    let blob = |e: &Entry| blobs.get(&e.oid).cloned().unwrap_or_default();
    let mut contents = DirContents::default();
    for (path, entry) in entries {
        if is_hidden(path) || !is_yaml(path) {
            continue;
        }
        let mut current = (path.clone(), entry);
        // A chain of links, as the file system allows (40 hops).
        let mut hops = 0;
        while current.1.mode == "120000" {
            hops += 1;
            let target = String::from_utf8_lossy(&blob(current.1)).into_owned();
            let next = resolve_link(&current.0, &target)
                .filter(|_| hops <= 40)
                .and_then(|p| entries.get(&p).map(|e| (p, e)));
            let Some(next) = next else {
                bail!(
                    "{} at the base revision is a symlink to {target:?}, which is not a file inside the definition directory: it is not read",
                    shown(path)
                );
            };
            current = next;
        }
        let file = SourceFile {
            path: path.clone(),
            bytes: blob(current.1),
        };
        if path == CONFIG_FILE {
            contents.config = Some(file);
        } else {
            contents.files.push(file);
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mode: &str, oid: &str) -> Entry {
        Entry {
            mode: mode.into(),
            oid: oid.into(),
        }
    }

    #[test]
    fn parses_ls_tree_and_skips_submodules() {
        let out = b"100644 blob aaa\tzadig-sync.yaml\x00160000 commit bbb\tvendor\x00120000 blob ccc\tsub/l.yaml\x00";
        let e = parse_ls_tree(out).expect("parses");
        assert_eq!(e.len(), 2);
        assert_eq!(e["sub/l.yaml"], entry("120000", "ccc"));
        assert!(parse_ls_tree(b"garbage\0").is_err());
    }

    #[test]
    fn links_resolve_within_the_directory_only() {
        assert_eq!(
            resolve_link("a/b.yaml", "c.yaml").as_deref(),
            Some("a/c.yaml")
        );
        assert_eq!(
            resolve_link("a/b.yaml", "../c.yaml").as_deref(),
            Some("c.yaml")
        );
        assert_eq!(resolve_link("b.yaml", "../c.yaml"), None);
        assert_eq!(resolve_link("b.yaml", "/etc/passwd"), None);
    }

    #[test]
    fn selects_like_the_directory_loader_and_never_follows_a_link_out() {
        let mut entries = BTreeMap::new();
        entries.insert("zadig-sync.yaml".to_owned(), entry("100644", "c"));
        entries.insert("a.yaml".to_owned(), entry("100644", "a"));
        entries.insert(".hidden/x.yaml".to_owned(), entry("100644", "a"));
        entries.insert("notes.txt".to_owned(), entry("100644", "a"));
        entries.insert("inside.yaml".to_owned(), entry("120000", "l1"));
        let mut blobs = BTreeMap::new();
        blobs.insert("c".to_owned(), b"projects: []\n".to_vec());
        blobs.insert("a".to_owned(), b"A".to_vec());
        blobs.insert("l1".to_owned(), b"a.yaml".to_vec());
        let c = select(&entries, &blobs, "defs/").expect("selects");
        assert!(c.config.is_some());
        let files: Vec<(&str, &[u8])> = c
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.as_slice()))
            .collect();
        assert_eq!(files, [("a.yaml", &b"A"[..]), ("inside.yaml", &b"A"[..])]);

        entries.insert("leak.yaml".to_owned(), entry("120000", "l2"));
        blobs.insert("l2".to_owned(), b"../../etc/passwd".to_vec());
        let err = select(&entries, &blobs, "defs/").expect_err("refuses");
        assert!(err.to_string().contains("defs/leak.yaml"), "{err}");
        assert!(!err.to_string().contains("root:"), "{err}");

        entries.insert("leak.yaml".to_owned(), entry("120000", "l3"));
        blobs.insert("l3".to_owned(), b"loop.yaml".to_vec());
        entries.insert("loop.yaml".to_owned(), entry("120000", "l4"));
        blobs.insert("l4".to_owned(), b"leak.yaml".to_vec());
        assert!(select(&entries, &blobs, "").is_err());
    }
}
