//! Reading a definition directory from disk (the shell side of loading).
//!
//! The directory holds `zadig-sync.yaml` at its root and definition files
//! (`*.yaml`, `*.yml`) anywhere below it. Hidden files and directories (a name
//! starting with `.`, such as `.git`) are skipped. Paths are kept relative to
//! the directory with `/` separators, and sorted, so that diagnostics, plans
//! and the content hash do not depend on the platform or on readdir order.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::core::diagnostics::Diagnostic;
use crate::core::load::{CONFIG_FILE, LoadResult, Loader, Part, SourceFile, packing_samples};
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
    /// SHA-256 of each file's bytes, the config included, by path: a saved
    /// plan keeps them to name the files that changed since.
    pub files: std::collections::BTreeMap<String, FileDigest>,
}

/// The SHA-256 of a file's bytes, held as its 32 bytes (as hex text it took
/// three times as much: issue 13, 50,000 files). Written and read as
/// lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FileDigest([u8; 32]);

impl FileDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        FileDigest(Sha256::digest(bytes).into())
    }

    /// The lowercase hex, in `buf`: one per file of a directory, so not a
    /// string each (issue 13's profile found 2% of a plan here).
    fn hex_into<'b>(&self, buf: &'b mut [u8; 64]) -> &'b str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[usize::from(b >> 4)];
            buf[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        // Only ASCII hex digits were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

impl std::fmt::Display for FileDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex_into(&mut [0; 64]))
    }
}

impl std::fmt::Debug for FileDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileDigest({self})")
    }
}

impl serde::Serialize for FileDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.hex_into(&mut [0; 64]))
    }
}

impl<'de> serde::Deserialize<'de> for FileDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bad = || serde::de::Error::custom("a file digest is 64 lowercase hex digits");
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(bad());
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (digit(pair[0]).ok_or_else(bad)? << 4) | digit(pair[1]).ok_or_else(bad)?;
        }
        Ok(FileDigest(out))
    }
}

impl Digests {
    /// The digests of `contents` as they are (every file's text present).
    pub fn of(contents: &DirContents) -> Self {
        let digest = |f: &SourceFile| FileDigest::of(&f.bytes);
        let config = contents
            .config
            .as_ref()
            .map(|c| (c.path.as_str(), digest(c)));
        let files: Vec<(&str, FileDigest)> = contents
            .files
            .iter()
            .map(|f| (f.path.as_str(), digest(f)))
            .collect();
        Digests::from_parts(config, files)
    }

    /// From each file's digest: the config's, then the files' in path order.
    fn from_parts<'a>(
        config: Option<(&'a str, FileDigest)>,
        files: impl IntoIterator<Item = (&'a str, FileDigest)>,
    ) -> Self {
        let mut hash = DirHash::new(config.as_ref().map(|(p, d)| (*p, d)));
        let mut map: std::collections::BTreeMap<String, FileDigest> =
            config.iter().map(|(p, d)| ((*p).to_owned(), *d)).collect();
        for (path, digest) in files {
            hash.add(path, &digest);
            map.insert(path.to_owned(), digest);
        }
        Digests {
            dir_hash: hash.finish(),
            files: map,
        }
    }
}

/// SHA-256 (hex) over the config and the files, in order: a saved plan keeps
/// it to notice that the definitions changed since it was made.
///
/// Each file contributes its path and its digest, the path length-prefixed,
/// so that no two different directories hash the same input; a missing
/// config contributes a distinct marker. Hashing the digests, not the bytes,
/// lets a directory be hashed while its files are loaded, on every core, and
/// without holding their text.
struct DirHash(Sha256);

impl DirHash {
    fn new(config: Option<(&str, &FileDigest)>) -> Self {
        let mut h = DirHash(Sha256::new());
        // A tag byte tells "no config" from any config.
        match config {
            Some((path, digest)) => {
                h.0.update([1]);
                h.add(path, digest);
            }
            None => h.0.update([0]),
        }
        h
    }

    fn add(&mut self, path: &str, digest: &FileDigest) {
        self.0.update((path.len() as u64).to_le_bytes());
        self.0.update(path.as_bytes());
        // The hex, as saved plans made before digests were held as bytes
        // hashed it: their directory hash still matches.
        self.0.update(digest.hex_into(&mut [0; 64]).as_bytes());
    }

    fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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

impl Sources for DirContents {
    fn source(&self, path: &str) -> Option<&[u8]> {
        self.get(path).map(|f| f.bytes.as_slice())
    }
}

/// The content hash of `contents` (see [`Digests`]).
pub fn content_hash(contents: &DirContents) -> String {
    Digests::of(contents).dir_hash
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

/// A file chosen to be read.
struct Entry {
    /// Relative to the directory, `/`-separated.
    rel: String,
    /// Where to read it (a link's target inside the directory).
    path: PathBuf,
    /// Where it was found, for errors.
    shown: PathBuf,
    /// Its size when it was chosen.
    len: u64,
}

/// The files of a definition directory, chosen but not read.
#[derive(Default)]
struct Walked {
    config: Option<Entry>,
    /// Sorted by path.
    files: Vec<Entry>,
    problems: Vec<Diagnostic>,
}

/// Chooses the files of a definition directory: `zadig-sync.yaml` and every
/// `*.yaml`/`*.yml` below it, skipping hidden files and directories.
///
/// Symbolic links are never followed out of the directory: a link whose
/// target lies outside (file or directory) is an error naming the link, and
/// nothing of its target is read. A link to a file inside is read; a link to a
/// directory inside is not walked (its files are read where they really are).
/// Special files (fifos, devices, sockets) are skipped with a warning.
fn walk(dir: &Path) -> anyhow::Result<Walked> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("cannot read the definition directory {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let root = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot read the definition directory {}", dir.display()))?;
    let mut walked = Walked::default();
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
                    walked.problems.push(
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
                    walked.problems.push(
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
            walked.problems.push(Diagnostic::warning(
                rel.as_str(),
                "not a regular file (a fifo, device or socket): skipped",
            ));
            continue;
        }
        if meta.len() > MAX_FILE_BYTES {
            walked.problems.push(Diagnostic::error(
                rel.as_str(),
                format!(
                    "the file is {} MiB, more than the {} MiB a definition file may be: it is not read",
                    meta.len() / (1024 * 1024),
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
            ));
            continue;
        }
        let file = Entry {
            shown: entry.path().to_path_buf(),
            path,
            len: meta.len(),
            rel,
        };
        if entry.depth() == 1 && file.rel == CONFIG_FILE {
            walked.config = Some(file);
        } else {
            walked.files.push(file);
        }
    }
    // Per-directory name order is not path order (`a-b/x` vs `a/x`).
    walked.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(walked)
}

impl Entry {
    /// The file's bytes (at most [`MAX_FILE_BYTES`] and one more).
    fn read(&self) -> anyhow::Result<Vec<u8>> {
        // Sized from the metadata: growing from empty would leave up to twice
        // the text's size allocated per file (issue 13).
        let mut bytes = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        std::fs::File::open(&self.path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", self.shown.display()))?;
        Ok(bytes)
    }

    fn source(&self) -> anyhow::Result<SourceFile> {
        Ok(SourceFile {
            path: self.rel.clone(),
            bytes: self.read()?,
        })
    }
}

/// Reads a definition directory whole: `zadig-sync.yaml` and every
/// `*.yaml`/`*.yml` below it, as [`walk`] chooses them. [`load_dir`] loads
/// one without holding every file's text.
pub fn read_dir(dir: &Path) -> anyhow::Result<DirContents> {
    let walked = walk(dir)?;
    Ok(DirContents {
        config: walked.config.as_ref().map(Entry::source).transpose()?,
        files: walked
            .files
            .iter()
            .map(Entry::source)
            .collect::<anyhow::Result<_>>()?,
        problems: walked.problems,
    })
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

/// A definition directory, loaded by [`load_dir`].
#[derive(Debug)]
pub struct LoadedDir {
    /// Its files: every path, but the text only of the config and of the
    /// files a diagnostic points at (the text a rendering needs).
    pub contents: DirContents,
    /// What loading found.
    pub load: LoadResult,
    /// The digests of the files as they were read, for a saved plan.
    pub digests: Digests,
}

/// Files per unit of work: large enough that sharing the work out costs
/// nothing, small enough that only a few files' text is held at a time.
const BATCH: usize = 32;

/// Reads and loads a definition directory, on every core, each file's text
/// held only while it is loaded (issue 13: at 50,000 files the text was
/// 58 MB). An `Err` is an I/O problem; problems in the files are
/// diagnostics in the [`LoadResult`].
pub fn load_dir(dir: &Path) -> anyhow::Result<LoadedDir> {
    let walked = walk(dir)?;
    let config = walked.config.as_ref().map(Entry::source).transpose()?;
    let entries = &walked.files;
    let mut loader = Loader::new(
        config.as_ref(),
        entries.iter().any(|e| e.rel == "zadig-sync.yml"),
    );
    // A sample of the files, spread over the directory, for the dictionary
    // the definitions are packed with (a file that cannot be read here is
    // reported by the pass below).
    let samples: Vec<SourceFile> = packing_samples(entries)
        .filter_map(|e| e.source().ok())
        .collect();
    loader.pack_like(&samples);
    drop(samples);
    // What a batch hands back of each file: its digest, whether it is a
    // definition file, and its text when a diagnostic points at it.
    type Read = (FileDigest, bool, Option<Vec<u8>>);
    let mut part = Part::with_capacity(entries.len());
    let mut read: Vec<Read> = Vec::with_capacity(entries.len());
    in_batches(
        entries.len(),
        super::settings::cores(),
        |range| {
            let mut batch = (Part::default(), Vec::with_capacity(range.len()));
            for e in &entries[range] {
                let file = e.source()?;
                let digest = FileDigest::of(&file.bytes);
                let wanted = loader.wants(&file.path);
                let keep = wanted && loader.file(&file, &mut batch.0);
                batch.1.push((digest, wanted, keep.then_some(file.bytes)));
            }
            Ok(batch)
        },
        |(p, files): (Part, Vec<Read>)| {
            part.append(p);
            read.extend(files);
        },
    )?;
    let definition_files = read.iter().filter(|(_, wanted, _)| *wanted).count();
    let mut load = loader.finish(part, definition_files);
    let digests = Digests::from_parts(
        config
            .as_ref()
            .map(|c| (c.path.as_str(), FileDigest::of(&c.bytes))),
        entries
            .iter()
            .zip(&read)
            .map(|(e, (digest, ..))| (e.rel.as_str(), *digest)),
    );
    let mut contents = DirContents {
        config,
        files: entries
            .iter()
            .zip(read)
            .map(|(e, (_, _, text))| SourceFile {
                path: e.rel.clone(),
                bytes: text.unwrap_or_default(),
            })
            .collect(),
        problems: walked.problems,
    };
    // A check across files (a name defined twice) points at files whose text
    // was dropped: read those again, and show their text only if it is
    // still the text that was loaded.
    let wanted: std::collections::BTreeSet<&str> =
        load.diagnostics.iter().map(|d| d.file.as_str()).collect();
    for (e, f) in entries.iter().zip(contents.files.iter_mut()) {
        if f.bytes.is_empty()
            && wanted.contains(f.path.as_str())
            && let Ok(bytes) = e.read()
            && digests.files.get(&f.path) == Some(&FileDigest::of(&bytes))
        {
            f.bytes = bytes;
        }
    }
    if let Some(c) = contents
        .config
        .as_mut()
        .filter(|c| !wanted.contains(c.path.as_str()))
    {
        c.bytes = Vec::new();
    }
    if !contents.problems.is_empty() {
        load.diagnostics.extend(contents.problems.iter().cloned());
        crate::core::diagnostics::sort(&mut load.diagnostics);
    }
    Ok(LoadedDir {
        contents,
        load,
        digests,
    })
}

/// Loads files already in memory (a git revision's), on up to `threads`
/// threads: the same result as [`load::load`]'s.
pub fn load_contents(
    config: Option<&SourceFile>,
    files: &[SourceFile],
    threads: usize,
) -> LoadResult {
    let loader = Loader::new(config, files.iter().any(|f| f.path == "zadig-sync.yml"));
    let mut part = Part::with_capacity(files.len());
    let mut definition_files = 0;
    let done = in_batches(
        files.len(),
        threads,
        |range| {
            let mut batch = (Part::default(), 0);
            for f in files[range].iter().filter(|f| loader.wants(&f.path)) {
                batch.1 += 1;
                loader.file(f, &mut batch.0);
            }
            Ok(batch)
        },
        |(p, n)| {
            part.append(p);
            definition_files += n;
        },
    );
    // Loading what is in memory does no I/O: nothing can fail.
    debug_assert!(done.is_ok());
    loader.finish(part, definition_files)
}

/// Runs `work` over `0..n` in batches of [`BATCH`] on up to `threads`
/// threads, and hands each batch's result to `take` in order. The first
/// error stops the work and is returned.
fn in_batches<T: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(std::ops::Range<usize>) -> anyhow::Result<T> + Sync,
    mut take: impl FnMut(T),
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let batches = n.div_ceil(BATCH);
    let range = |b: usize| b * BATCH..((b + 1) * BATCH).min(n);
    let threads = threads.clamp(1, 16).min(batches);
    if threads <= 1 {
        for b in 0..batches {
            take(work(range(b))?);
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, anyhow::Result<T>)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, failed, work) = (&next, &failed, &work);
            scope.spawn(move || {
                while !failed.load(Ordering::Relaxed) {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= batches {
                        break;
                    }
                    let result = work(range(b));
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if tx.send((b, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Batches finish out of order: the early ones wait here for their
        // turn (a handful: each thread holds one batch at a time).
        let mut early = std::collections::BTreeMap::new();
        let mut due = 0;
        for (b, result) in rx {
            early.insert(b, result?);
            while let Some(t) = early.remove(&due) {
                take(t);
                due += 1;
            }
        }
        Ok(())
    })
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
        let LoadedDir {
            contents: c,
            load,
            digests,
        } = load_dir(tmp.path()).expect("loads");
        assert!(!load.has_errors() && !load.builds.is_empty());
        assert!(load.diagnostics.iter().all(|d| d.file.is_empty()));
        assert!(
            c.config.iter().chain(&c.files).all(|f| f.bytes.is_empty()),
            "no text is retained"
        );
        // What a saved plan records is that of the files as read.
        let whole = read_dir(tmp.path()).expect("reads");
        assert_eq!(digests, Digests::of(&whole));
        assert_eq!(c.files.len(), whole.files.len());
        assert!(digests.files.len() > 1 && digests.files.contains_key(CONFIG_FILE));
        assert_eq!(
            load,
            crate::core::load::load(whole.config.as_ref(), &whole.files)
        );
    }

    #[test]
    fn only_a_file_with_a_diagnostic_keeps_its_text() {
        let tmp = example_dir();
        write(tmp.path(), "demo/broken.yaml", "kind: build\nname: [\n");
        let LoadedDir {
            contents: c,
            load,
            digests,
        } = load_dir(tmp.path()).expect("loads");
        assert!(load.has_errors());
        let kept: Vec<&str> = c
            .config
            .iter()
            .chain(&c.files)
            .filter(|f| !f.bytes.is_empty())
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(kept, ["demo/broken.yaml"]);
        assert!(c.source("demo/broken.yaml").is_some_and(|t| !t.is_empty()));
        assert_eq!(digests, Digests::of(&read_dir(tmp.path()).expect("reads")));
    }

    #[test]
    fn a_file_named_by_a_check_across_files_gets_its_text_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        write(d, "zadig-sync.yaml", "projects: [{key: demo}]\n");
        let build = "name: same\nproject_key: demo\ninfrastructure: vm\nbuild_os: ubuntu 20.04\nscript_type: shell\n";
        // Far apart: the two files are loaded in different batches.
        for i in 0..(3 * BATCH) {
            let text = if i == 0 || i == 3 * BATCH - 1 {
                build.to_owned()
            } else {
                build.replace("same", &format!("b{i}"))
            };
            write(d, &format!("f{i:03}.yaml"), &text);
        }
        let loaded = load_dir(d).expect("loads");
        let twice: Vec<&str> = loaded.load.errors().map(|e| e.file.as_str()).collect();
        let last = format!("f{:03}.yaml", 3 * BATCH - 1);
        assert_eq!(twice, [last.as_str()]);
        assert_eq!(
            loaded.contents.source(&last).map(<[u8]>::len),
            Some(build.len()),
            "the snippet of the second definition can be shown"
        );
        assert_eq!(
            loaded.contents.source("f001.yaml").map(<[u8]>::len),
            Some(0)
        );
    }

    #[test]
    fn loading_on_several_threads_is_loading_on_one() {
        let config = SourceFile {
            path: CONFIG_FILE.to_owned(),
            bytes: b"projects: [{key: demo}]\n".to_vec(),
        };
        let files: Vec<SourceFile> = (0..700)
            .map(|i| SourceFile {
                path: format!("b{i:04}.yaml"),
                bytes: format!(
                    "name: b{}\nproject_key: demo\ninfrastructure: vm\nbuild_os: ubuntu 20.04\nscript_type: shell\n{}",
                    i % 650,
                    if i % 97 == 5 { "buld_os: typo\n" } else { "" }
                )
                .into_bytes(),
            })
            .collect();
        let one = crate::core::load::load(Some(&config), &files);
        assert!(
            one.has_errors(),
            "the duplicate names are found across threads"
        );
        for threads in [2, 4, 16] {
            assert_eq!(one, load_contents(Some(&config), &files, threads));
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        for f in std::iter::once(&config).chain(&files) {
            write(
                tmp.path(),
                &f.path,
                std::str::from_utf8(&f.bytes).expect("utf-8"),
            );
        }
        assert_eq!(one, load_dir(tmp.path()).expect("loads").load);
    }

    #[test]
    fn batches_come_back_in_order_and_the_first_error_stops_them() {
        let batches = in_batches(
            10 * BATCH,
            4,
            |r| {
                if r.start == 5 * BATCH {
                    anyhow::bail!("batch {} failed", r.start / BATCH)
                }
                Ok(r.start)
            },
            |_| {},
        );
        assert_eq!(batches.expect_err("fails").to_string(), "batch 5 failed");
        let mut seen = Vec::new();
        in_batches(10 * BATCH + 3, 4, Ok, |r| seen.push(r)).expect("runs");
        assert_eq!(seen.len(), 11);
        assert!(seen.windows(2).all(|w| w[0].end == w[1].start), "in order");
        assert_eq!(seen.last().map(|r| r.end), Some(10 * BATCH + 3));
    }

    #[test]
    fn a_digest_is_the_lowercase_hex_sha256() {
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let d = FileDigest::of(b"abc");
        assert_eq!(d.to_string(), hex);
        let json = serde_json::to_string(&d).expect("serialises");
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<FileDigest>(&json).expect("reads"), d);
        for bad in [
            "\"abc\"",
            &format!("\"{}\"", hex.to_uppercase()),
            &format!("\"{hex}0\""),
            "\"zz\"",
        ] {
            assert!(serde_json::from_str::<FileDigest>(bad).is_err(), "{bad}");
        }
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
