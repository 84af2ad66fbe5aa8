//! What `import` did, for people: what was written, what was not and why,
//! and what to do next.

use std::path::PathBuf;

use super::notice;
use crate::core::notice::NotImportedReason;
use crate::core::validate::shown_name;

/// What one `import` run did, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// The project imported.
    pub project: String,
    /// Files written.
    pub written: usize,
    /// The project's directory the files went to.
    pub dir: PathBuf,
    /// Files that exist and were not overwritten (no `--force`).
    pub existing: Vec<PathBuf>,
    /// The `zadig-sync.yaml` written, when the directory had none.
    pub wrote_config: Option<PathBuf>,
    /// Builds the directory defines in another file: (build, that file).
    pub already: Vec<(String, PathBuf)>,
    /// Variables to set for the credentials left out of the files.
    pub env_vars: Vec<String>,
    /// Builds left out: (name, why).
    pub not_imported: Vec<(String, NotImportedReason)>,
    /// Builds imported with settings an update would erase: (name, settings).
    pub with_erases: Vec<(String, Vec<String>)>,
    /// The directory's configuration does not declare the project: its path.
    pub undeclared_in: Option<PathBuf>,
}

/// The summary as text, as `import` prints it on stdout.
pub fn human(s: &ImportSummary) -> String {
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut out = format!(
        "Imported {} build(s) into {}.\n",
        s.written,
        s.dir.display()
    );
    if !s.existing.is_empty() {
        out.push_str(&format!(
            "\nNot overwritten (pass --force to replace them):\n{}\n",
            list(s.existing.iter().map(|p| p.display().to_string()).collect())
        ));
    }
    if let Some(config) = &s.wrote_config {
        out.push_str(&format!(
            "Wrote {}, declaring project `{}` (prune: false).\n",
            config.display(),
            s.project
        ));
    }
    if !s.already.is_empty() {
        out.push_str(&format!(
            "\nAlready defined in this directory, not imported again:\n{}\n",
            list(
                s.already
                    .iter()
                    .map(|(build, file)| format!(
                        "{}: defined in {}",
                        shown_name(build),
                        file.display()
                    ))
                    .collect()
            )
        ));
    }
    if !s.env_vars.is_empty() {
        out.push_str(&format!(
            "\nCredential values were not written. Set these environment variables for plan and apply:\n{}\n",
            list(s.env_vars.clone())
        ));
    }
    if !s.not_imported.is_empty() {
        out.push_str(&format!(
            "\nNot imported (zadig-sync does not manage them):\n{}\n",
            list(
                s.not_imported
                    .iter()
                    .map(|(name, why)| {
                        format!("{}: {}", shown_name(name), notice::not_imported(name, why))
                    })
                    .collect()
            )
        ));
    }
    if !s.with_erases.is_empty() {
        out.push_str(&format!(
            "\nImported with settings the OpenAPI cannot express (an update would erase them):\n{}\n",
            list(
                s.with_erases
                    .iter()
                    .map(|(name, erases)| format!("{name}: {}", erases.join("; ")))
                    .collect()
            )
        ));
    }
    if let Some(config) = &s.undeclared_in {
        out.push_str(&format!(
            "\nProject `{}` is not declared in {}. Add it (prune stays off until you choose):\n\nprojects:\n  - key: {}\n    prune: false\n",
            s.project,
            config.display(),
            s.project
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text is what the command printed before the view moved here.
    #[test]
    fn the_summary_reads_as_before() {
        let s = ImportSummary {
            project: "demo".into(),
            written: 2,
            dir: "defs/demo".into(),
            existing: vec!["defs/demo/a.yaml".into()],
            wrote_config: None,
            already: vec![("demo/b".into(), "defs/other/b.yaml".into())],
            env_vars: vec!["ZADIG_SECRET_C_TOKEN".into()],
            not_imported: vec![
                (
                    "j".into(),
                    NotImportedReason::ReadOnly {
                        source: "jenkins".into(),
                    },
                ),
                ("a/b".into(), NotImportedReason::NameUnaddressable),
            ],
            with_erases: vec![(
                "c".into(),
                vec!["post-build script".into(), "proxy setting".into()],
            )],
            undeclared_in: Some("defs/zadig-sync.yaml".into()),
        };
        assert_eq!(
            human(&s),
            "Imported 2 build(s) into defs/demo.\n\
             \n\
             Not overwritten (pass --force to replace them):\n  defs/demo/a.yaml\n\
             \n\
             Already defined in this directory, not imported again:\n  `demo/b`: defined in defs/other/b.yaml\n\
             \n\
             Credential values were not written. Set these environment variables for plan and apply:\n  ZADIG_SECRET_C_TOKEN\n\
             \n\
             Not imported (zadig-sync does not manage them):\n  `j`: read-only build (source jenkins)\n  `a/b`: its name contains a path separator (`/` or `\\`), so Zadig's API cannot read it\n\
             \n\
             Imported with settings the OpenAPI cannot express (an update would erase them):\n  c: post-build script; proxy setting\n\
             \n\
             Project `demo` is not declared in defs/zadig-sync.yaml. Add it (prune stays off until you choose):\n\nprojects:\n  - key: demo\n    prune: false\n"
        );
        let new = ImportSummary {
            project: "demo".into(),
            written: 0,
            dir: "defs/demo".into(),
            wrote_config: Some("defs/zadig-sync.yaml".into()),
            ..ImportSummary::default()
        };
        assert_eq!(
            human(&new),
            "Imported 0 build(s) into defs/demo.\nWrote defs/zadig-sync.yaml, declaring project `demo` (prune: false).\n"
        );
    }
}
