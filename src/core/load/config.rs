//! `zadig-sync.yaml`: loaded by the rules every definition follows, then
//! checked, the sections of the kinds included.

use super::*;

/// `zadig-sync.yaml` alone, by the rules [`load`] applies to it: the
/// configuration when it has no error, and every finding (for commands, like
/// `import`, that need the configuration but no definition).
pub fn load_config_file(file: &SourceFile) -> (Option<Config>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let config = load_config(file, &mut diags).filter(|_| !diags.iter().any(Diagnostic::is_error));
    (config, diags)
}

pub(super) fn load_config(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    let src = decode(file, diags)?;
    let text = Text::new(&file.path, src);
    let (docs, errors) = parse_documents(src);
    if !errors.is_empty() {
        for e in errors {
            diags.push(syntax_diag(&text, e));
        }
        return None;
    }
    let mut docs = docs.iter().filter(|d| !d.root.is_null());
    let Some(doc) = docs.next() else {
        // An empty file: every setting has a default, but no project is managed.
        let config = Config::default();
        push_config_findings(&text, None, &config, diags);
        return Some(config);
    };
    if let Some(extra) = docs.next() {
        diags.push(text.diag(
            Severity::Error,
            extra.start..extra.start + 3,
            format!("{CONFIG_FILE} holds more than one document"),
            Some("remove the `---` and merge the documents".to_owned()),
        ));
        return None;
    }
    let root = &doc.root;
    if !matches!(root.kind, NodeKind::Map(..)) {
        diags.push(text.diag(
            Severity::Error,
            root.highlight(),
            format!("{CONFIG_FILE} must be a mapping, found {}", root.describe()),
            Some("write `projects:` and the other settings as `key: value` lines".to_owned()),
        ));
        return None;
    }
    match parse_doc::<Config>(&text, doc, root, Context::Config) {
        Ok(config) => {
            push_config_findings(&text, Some(root), &config, diags);
            Some(config)
        }
        Err(d) => {
            diags.push(*d);
            None
        }
    }
}

pub(super) fn push_config_findings(
    text: &Text<'_>,
    root: Option<&Node<'_>>,
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) {
    let kind_findings = kinds::REGISTRY
        .iter()
        .filter_map(|k| k.config_section)
        .flat_map(|c| (c.check)(config));
    for f in validate::check_config(config)
        .into_iter()
        .chain(kind_findings)
    {
        diags.push(match root {
            Some(root) => finding_diag(text, root, f),
            None => Diagnostic {
                severity: f.severity,
                file: text.path.to_owned(),
                line: 1,
                column: 1,
                span: Some(0..0),
                message: f.message,
                hint: f.hint,
                code: diagnostics::Code::InvalidConfig,
            },
        });
    }
}
