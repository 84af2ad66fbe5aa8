//! Finding the definition directory: `zadig-sync.yaml` is searched for from
//! the given directory upwards, stopping at the repository root (a directory
//! holding `.git`), like cargo and git look for their files.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::core::load::CONFIG_FILE;

/// Where the search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `zadig-sync.yaml` is in the given directory.
    Here,
    /// It is in this directory above the given one.
    Above(PathBuf),
}

/// Finds the directory holding `zadig-sync.yaml`: `dir` itself or the
/// nearest parent, up to and including the repository root (or the file
/// system root outside a repository). An error with a hint when there is none.
pub fn find(dir: &Path) -> anyhow::Result<Found> {
    if dir.join(CONFIG_FILE).is_file() {
        return Ok(Found::Here);
    }
    let abs = std::path::absolute(dir)
        .with_context(|| format!("cannot resolve the directory {}", dir.display()))?;
    if !abs.is_dir() {
        // Reading it reports the problem (missing, not a directory).
        return Ok(Found::Here);
    }
    let mut searched_to = abs.clone();
    let mut repo_root = None;
    for candidate in abs.ancestors() {
        searched_to = candidate.to_path_buf();
        if candidate != abs && candidate.join(CONFIG_FILE).is_file() {
            return Ok(Found::Above(candidate.to_path_buf()));
        }
        if candidate.join(".git").exists() {
            repo_root = Some(candidate.to_path_buf());
            break;
        }
    }
    // Paths as the user gave them (relative stays relative): the repository
    // root as seen from `dir`.
    let up = |to: &Path| {
        let levels = abs.components().count() - to.components().count();
        if levels == 0 {
            ".".to_owned()
        } else {
            vec![".."; levels].join("/")
        }
    };
    let shown = |p: &Path| {
        if p == Path::new(".") || p.as_os_str().is_empty() {
            "the current directory".to_owned()
        } else {
            p.display().to_string()
        }
    };
    let scope = match &repo_root {
        Some(root) if root == &abs => "the repository root".to_owned(),
        Some(root) => format!("up to the repository root, {}", up(root)),
        None => format!("up to {}", searched_to.display()),
    };
    anyhow::bail!(
        "no {CONFIG_FILE} in {} or above it ({scope})\n  \
         help: run zadig-sync in the definition directory (the one holding {CONFIG_FILE}) or \
         below it, or pass it: `zadig-sync plan path/to/definitions`; a new directory needs a \
         {CONFIG_FILE} listing the projects it manages: `projects: [{{key: <project key>}}]`",
        shown(dir)
    )
}

/// `dir` itself when it holds `zadig-sync.yaml`, else the directory found
/// above it, with a note saying so.
pub fn definition_dir(dir: &Path, note: impl FnOnce(&str)) -> anyhow::Result<PathBuf> {
    Ok(match find(dir)? {
        Found::Here => dir.to_path_buf(),
        Found::Above(root) => {
            let below = if dir == Path::new(".") || dir.as_os_str().is_empty() {
                "the current directory".to_owned()
            } else {
                dir.display().to_string()
            };
            note(&format!(
                "using {} (found above {below})",
                root.join(CONFIG_FILE).display()
            ));
            root
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_here_above_or_not_past_the_repository_root() {
        let tmp = tempfile::tempdir().expect("tmp");
        let repo = tmp.path().join("repo");
        let defs = repo.join("defs");
        let deep = defs.join("demo/sub");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        // A config above the repository root is never used.
        std::fs::write(tmp.path().join(CONFIG_FILE), "projects: []\n").expect("write");
        let err = find(&deep).expect_err("none inside the repository");
        assert!(err.to_string().contains("repository root"), "{err}");

        std::fs::write(defs.join(CONFIG_FILE), "projects: []\n").expect("write");
        assert_eq!(find(&defs).expect("here"), Found::Here);
        assert_eq!(
            find(&deep).expect("above"),
            Found::Above(std::path::absolute(&defs).expect("abs"))
        );
    }
}
