//! Reading a definition directory from disk (the shell side of loading).
//!
//! The directory holds `zadig-sync.yaml` at its root and definition files
//! (`*.yaml`, `*.yml`) anywhere below it. Hidden files and directories (a name
//! starting with `.`, such as `.git`) are skipped. Paths are kept relative to
//! the directory with `/` separators, and sorted, so that diagnostics, plans
//! and the content hash do not depend on the platform or on readdir order.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::core::diagnostics::Diagnostic;
use crate::core::load::{self, CONFIG_FILE, LoadResult, SourceFile};
use crate::render::diagnostics::Sources;

/// The files of a definition directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirContents {
    /// `zadig-sync.yaml` at the root, when present.
    pub config: Option<SourceFile>,
    /// Definition files, sorted by path.
    pub files: Vec<SourceFile>,
    /// What reading found: links out of the directory, special files.
    pub problems: Vec<Diagnostic>,
}

/// What a saved plan records of a directory's files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests {
    /// [`content_hash`].
    pub dir_hash: String,
    /// [`file_digests`].
    pub files: std::collections::BTreeMap<String, String>,
}

impl Digests {
    /// The digests of `contents` as they are.
    pub fn of(contents: &DirContents) -> Self {
        Digests {
            dir_hash: content_hash(contents),
            files: file_digests(contents),
        }
    }
}

impl DirContents {
    /// The file at `path` (relative, `/`-separated), the config included.
    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        if let Some(c) = self.config.as_ref().filter(|c| c.path == path) {
            return Some(c);
        }
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

impl DirContents {
    /// Frees the text of every file no diagnostic in `diagnostics` (or of
    /// reading) points at: a file that loaded cleanly needs no text to be
    /// rendered. Returns the digests of the files as they were read, which
    /// is what a saved plan needs of them.
    pub fn release_text(&mut self, diagnostics: &[Diagnostic]) -> Digests {
        let digests = Digests::of(self);
        let wanted: std::collections::HashSet<&str> = diagnostics
            .iter()
            .chain(&self.problems)
            .map(|d| d.file.as_str())
            .collect();
        for f in self.config.iter_mut().chain(self.files.iter_mut()) {
            if !wanted.contains(f.path.as_str()) {
                f.bytes = Vec::new();
            }
        }
        digests
    }
}

impl Sources for DirContents {
    fn source(&self, path: &str) -> Option<&[u8]> {
        self.get(path).map(|f| f.bytes.as_slice())
    }
}

/// SHA-256 (hex) of each file's bytes, the config included, by path: a saved
/// plan keeps them to name the files that changed since.
pub fn file_digests(contents: &DirContents) -> std::collections::BTreeMap<String, String> {
    contents
        .config
        .iter()
        .chain(&contents.files)
        .map(|f| {
            let digest = Sha256::digest(&f.bytes);
            (
                f.path.clone(),
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            )
        })
        .collect()
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml")
}

/// Largest definition file read: no real definition comes near it, and a
/// pull request cannot make the tool hold more.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a definition directory: `zadig-sync.yaml` and every `*.yaml`/`*.yml`
/// below it, skipping hidden files and directories.
///
/// Symbolic links are never followed out of the directory: a link whose
/// target lies outside (file or directory) is an error naming the link, and
/// nothing of its target is read. A link to a file inside is read; a link to a
/// directory inside is not walked (its files are read where they really are).
/// Special files (fifos, devices, sockets) are skipped with a warning.
pub fn read_dir(dir: &Path) -> anyhow::Result<DirContents> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the definition directory {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let root = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot read the definition directory {}", dir.display()))?;
    let mut contents = DirContents::default();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        // Depth 0 is the directory itself, which may well be `.`.
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.depth() == 0 {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let ft = entry.file_type();
        let path = if ft.is_symlink() {
            match std::fs::canonicalize(entry.path()) {
                Ok(target) if target.starts_with(&root) => {
                    if target.is_dir() || !is_yaml(entry.path()) {
                        continue;
                    }
                    target
                }
                Ok(_) => {
                    contents.problems.push(
                        Diagnostic::error(
                            rel.as_str(),
                            "this is a symbolic link to a place outside the definition directory: it is not read",
                        )
                        .with_hint("commit the file itself, inside the directory; zadig-sync never follows a link out of it"),
                    );
                    continue;
                }
                Err(_) if !is_yaml(entry.path()) => continue,
                Err(_) => {
                    contents.problems.push(
                        Diagnostic::error(
                            rel.as_str(),
                            "this is a symbolic link whose target does not exist",
                        )
                        .with_hint("remove the link or commit the file itself"),
                    );
                    continue;
                }
            }
        } else {
            entry.path().to_path_buf()
        };
        if !is_yaml(entry.path()) {
            continue;
        }
        let meta = std::fs::metadata(&path)
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        if meta.is_dir() {
            continue;
        }
        if !meta.is_file() {
            contents.problems.push(Diagnostic::warning(
                rel.as_str(),
                "not a regular file (a fifo, device or socket): skipped",
            ));
            continue;
        }
        if meta.len() > MAX_FILE_BYTES {
            contents.problems.push(Diagnostic::error(
                rel.as_str(),
                format!(
                    "the file is {} MiB, more than the {} MiB a definition file may be: it is not read",
                    meta.len() / (1024 * 1024),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
            continue;
        }
        // Sized from the metadata: growing from empty would leave up to twice
        // the text's size allocated per file, and a large directory holds
        // every file's text until it is loaded (issue 13).
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        let file = SourceFile { path: rel, bytes };
        if entry.depth() == 1 && file.path == CONFIG_FILE {
            contents.config = Some(file);
        } else {
            contents.files.push(file);
        }
    }
    // Per-directory name order is not path order (`a-b/x` vs `a/x`).
    contents.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(contents)
}

/// How [`write_inside`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file was written.
    Written,
    /// A file is there and `force` was not given: left alone.
    Exists,
}

/// Writes `root/sub/file` (`sub` and `file` single path components), never
/// through a symbolic link and never outside `root`: a link in place of
/// `sub` or `file` is an error, even with `force`. With `force` an existing
/// file is replaced by renaming a new one over it (a rename replaces the
/// entry; it does not follow it).
pub fn write_inside(
    root: &Path,
    sub: &str,
    file: &str,
    bytes: &[u8],
    force: bool,
) -> anyhow::Result<Written> {
    use std::io::Write as _;
    for part in [sub, file] {
        let plain = Path::new(part).components().count() == 1
            && matches!(
                Path::new(part).components().next(),
                Some(std::path::Component::Normal(_))
            );
        if !plain {
            anyhow::bail!("refusing to write {part:?}: not a plain file name");
        }
    }
    let dir = root.join(sub);
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "refusing to write into {}: it is a symbolic link (zadig-sync never writes through one)",
            dir.display()
        ),
        Ok(m) if !m.is_dir() => anyhow::bail!("{} exists and is not a directory", dir.display()),
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?,
    }
    let path = dir.join(file);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "refusing to write {}: it is a symbolic link (zadig-sync never writes through one); \
             remove it first",
            path.display()
        ),
        Ok(m) if !m.is_file() => {
            anyhow::bail!(
                "refusing to write {}: it is not a regular file",
                path.display()
            )
        }
        Ok(_) if !force => return Ok(Written::Exists),
        Ok(_) => {
            let tmp = dir.join(format!(".{file}.zadig-sync-tmp"));
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            f.write_all(bytes)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            drop(f);
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Err(_) => {
            // create_new fails on anything there, a dangling link included.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(Written::Written)
}

/// SHA-256 (hex) over the config and the files, in order: a saved plan keeps
/// it to notice that the definitions changed since it was made.
///
/// Each file contributes its path and bytes, both length-prefixed, so that no
/// two different directories hash the same input; a missing config contributes
/// a distinct marker.
pub fn content_hash(contents: &DirContents) -> String {
    fn add_tag(h: &mut Sha256, tag: u8) {
        h.update([tag]);
    }
    fn add(h: &mut Sha256, f: &SourceFile) {
        h.update((f.path.len() as u64).to_le_bytes());
        h.update(f.path.as_bytes());
        h.update((f.bytes.len() as u64).to_le_bytes());
        h.update(&f.bytes);
    }
    let mut h = Sha256::new();
    // A tag byte tells "no config" from any config.
    match &contents.config {
        Some(c) => {
            add_tag(&mut h, 1);
            add(&mut h, c);
        }
        None => add_tag(&mut h, 0),
    }
    for f in &contents.files {
        add(&mut h, f);
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and loads a definition directory. An `Err` is an I/O problem; problems
/// in the files are diagnostics in the [`LoadResult`].
pub fn load_dir(dir: &Path) -> anyhow::Result<(DirContents, LoadResult)> {
    let contents = read_dir(dir)?;
    let mut result = load::load_on(
        contents.config.as_ref(),
        &contents.files,
        super::settings::cores(),
    );
    if !contents.problems.is_empty() {
        result.diagnostics.extend(contents.problems.iter().cloned());
        crate::core::diagnostics::sort(&mut result.diagnostics);
    }
    Ok((contents, result))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn reads_sorted_relative_paths_and_skips_hidden_and_other_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(d, "zadig-sync.yaml", "projects: []\n");
        write(d, "b.yaml", "x");
        write(d, "a/z.yml", "x");
        write(d, "a-b/y.yaml", "x");
        write(d, "sub/zadig-sync.yaml", "x");
        write(d, ".hidden.yaml", "x");
        write(d, ".git/config.yaml", "x");
        write(d, "notes.txt", "x");
        write(d, "emulator-seed.json", "{}");
        let c = read_dir(d).expect("reads");
        assert_eq!(
            c.config.as_ref().map(|c| c.path.as_str()),
            Some("zadig-sync.yaml")
        );
        let paths: Vec<_> = c.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["a-b/y.yaml", "a/z.yml", "b.yaml", "sub/zadig-sync.yaml"]
        );
        assert!(c.get("a/z.yml").is_some());
        assert!(c.get("zadig-sync.yaml").is_some());
        assert!(c.get("nope.yaml").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_directory_are_problems_and_never_read() {
        let outside = tempfile::tempdir().expect("tempdir");
        write(outside.path(), "secret.yaml", "SECRET=1");
        write(outside.path(), "d/x.yaml", "SECRET=2");
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(d, "zadig-sync.yaml", "projects: []\n");
        write(d, "a.yaml", "x");
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), d.join("out.yaml"))
            .expect("link");
        std::os::unix::fs::symlink(outside.path().join("d"), d.join("dir")).expect("link");
        std::os::unix::fs::symlink(d.join("a.yaml"), d.join("in.yaml")).expect("link");
        std::os::unix::fs::symlink(d.join("gone"), d.join("dangling.yaml")).expect("link");
        let c = read_dir(d).expect("reads");
        let paths: Vec<_> = c.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.yaml", "in.yaml"]);
        assert!(c.files.iter().all(|f| !f.bytes.starts_with(b"SECRET")));
        let problems: Vec<_> = c.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("out.yaml: error") && p.contains("outside"))
        );
        assert!(
            problems.iter().any(|p| p.starts_with("dir: error")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("dangling.yaml: error"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn write_inside_never_follows_a_link() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let victim = tempfile::tempdir().expect("tempdir");
        write(victim.path(), "v.txt", "untouched");
        let root = tmp.path();
        assert_eq!(
            write_inside(root, "p", "a.yaml", b"1", false).expect("ok"),
            Written::Written
        );
        assert_eq!(
            write_inside(root, "p", "a.yaml", b"2", false).expect("ok"),
            Written::Exists
        );
        assert_eq!(
            write_inside(root, "p", "a.yaml", b"3", true).expect("ok"),
            Written::Written
        );
        assert_eq!(
            std::fs::read_to_string(root.join("p/a.yaml")).expect("reads"),
            "3"
        );
        std::os::unix::fs::symlink(victim.path().join("v.txt"), root.join("p/l.yaml"))
            .expect("link");
        for force in [false, true] {
            assert!(write_inside(root, "p", "l.yaml", b"x", force).is_err());
        }
        std::os::unix::fs::symlink(victim.path(), root.join("q")).expect("link");
        assert!(write_inside(root, "q", "v.txt", b"x", true).is_err());
        for bad in ["..", ".", "a/b", ""] {
            assert!(write_inside(root, bad, "f", b"x", true).is_err(), "{bad}");
            assert!(write_inside(root, "p", bad, b"x", true).is_err(), "{bad}");
        }
        assert_eq!(
            std::fs::read_to_string(victim.path().join("v.txt")).expect("reads"),
            "untouched"
        );
    }

    #[test]
    fn errors_name_the_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let missing = tmp.path().join("nope");
        let err = read_dir(&missing).expect_err("fails");
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
        write(tmp.path(), "f.yaml", "x");
        let err = read_dir(&tmp.path().join("f.yaml")).expect_err("fails");
        assert!(err.to_string().contains("is not a directory"));
    }

    /// Copies `examples/` (config and definitions only) into a new directory.
    fn example_dir() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().expect("tempdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let c = read_dir(&src).expect("reads");
        for f in c.config.iter().chain(&c.files) {
            let text = String::from_utf8(f.bytes.clone()).expect("utf-8");
            write(tmp.path(), &f.path, &text);
        }
        tmp
    }

    #[test]
    fn a_clean_directory_keeps_no_file_text_once_loaded() {
        let tmp = example_dir();
        let (mut c, load) = load_dir(tmp.path()).expect("loads");
        assert!(!load.has_errors() && !load.builds.is_empty());
        assert!(load.diagnostics.iter().all(|d| d.file.is_empty()));
        let before = Digests::of(&c);
        let digests = c.release_text(&load.diagnostics);
        assert!(
            c.config.iter().chain(&c.files).all(|f| f.bytes.is_empty()),
            "no text is retained"
        );
        // What a saved plan records is that of the files as read.
        assert_eq!(digests, before);
        assert!(digests.files.len() > 1 && digests.files.contains_key(CONFIG_FILE));
    }

    #[test]
    fn only_a_file_with_a_diagnostic_keeps_its_text() {
        let tmp = example_dir();
        write(tmp.path(), "demo/broken.yaml", "kind: build\nname: [\n");
        let (mut c, load) = load_dir(tmp.path()).expect("loads");
        assert!(load.has_errors());
        let before = Digests::of(&c);
        let digests = c.release_text(&load.diagnostics);
        let kept: Vec<&str> = c
            .config
            .iter()
            .chain(&c.files)
            .filter(|f| !f.bytes.is_empty())
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(kept, ["demo/broken.yaml"]);
        assert!(c.source("demo/broken.yaml").is_some_and(|t| !t.is_empty()));
        assert_eq!(digests, before);
    }

    #[test]
    fn content_hash_sees_paths_bytes_and_the_config() {
        let file = |p: &str, b: &str| SourceFile {
            path: p.into(),
            bytes: b.as_bytes().to_vec(),
        };
        let a = DirContents {
            config: Some(file("zadig-sync.yaml", "projects: []")),
            files: vec![file("a.yaml", "x"), file("b.yaml", "y")],
            problems: Vec::new(),
        };
        let h = content_hash(&a);
        assert_eq!(h.len(), 64);
        assert_eq!(h, content_hash(&a.clone()));
        let mut b = a.clone();
        b.files[1].bytes = b"z".to_vec();
        assert_ne!(h, content_hash(&b));
        let mut b = a.clone();
        b.files[0].path = "c.yaml".into();
        assert_ne!(h, content_hash(&b));
        // Moving bytes between path and content must change the hash.
        let mut b = a.clone();
        b.files[0] = file("a.yamlx", "");
        assert_ne!(h, content_hash(&b));
        let mut b = a;
        b.config = None;
        assert_ne!(h, content_hash(&b));
    }
}
