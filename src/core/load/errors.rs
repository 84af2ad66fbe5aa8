//! serde errors turned into diagnostics: our own wording, an exact span and
//! a hint.

use super::*;

/// Turns a serde-saphyr error into a diagnostic: our own wording, an exact
/// span, and a hint.
pub(super) fn serde_diag(
    text: &Text<'_>,
    doc: &Doc<'_>,
    root: Option<&Node<'_>>,
    err: &serde_saphyr::Error,
    ctx: Context,
) -> Diagnostic {
    use serde_saphyr::Error as E;
    let err = inner(err);
    let base = doc.range.start;
    let mut span = err
        .location()
        .and_then(|loc| {
            let s = loc.span();
            let start = usize::try_from(s.byte_offset()?).ok()?;
            let len = usize::try_from(s.byte_len().unwrap_or(0)).unwrap_or(0);
            Some(base + start..base + start + len)
        })
        .unwrap_or(doc.start..doc.start);
    let at = root.map(|r| r.at(span.start));
    let path = at.as_ref().map_or("", |a| a.path.as_str());
    let is_key = at.as_ref().is_some_and(|a| a.value.is_some());
    // The mapping the error is about: the parent of a key, else the node.
    let container = if is_key {
        path.rsplit_once('.').map_or("", |(p, _)| p)
    } else {
        path
    };
    let inside = if container.is_empty() {
        String::new()
    } else {
        format!(" in `{container}`")
    };
    // A wrong value is shown at the value, even when serde stopped at its key.
    let mut value_span = || {
        if let Some(v) = at
            .as_ref()
            .and_then(|a| a.value)
            .filter(|v| !v.span.is_empty())
        {
            span = v.highlight();
        }
    };
    let found = at
        .as_ref()
        .map(|a| a.value.unwrap_or(a.node).describe())
        .unwrap_or_else(|| "something else".to_owned());
    let (message, hint): (String, Option<String>) = match err {
        E::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown field `{field}`{inside}"),
            Some(unknown_field_hint(field, expected, container, ctx)),
        ),
        E::SerdeMissingField { field, .. } => {
            // serde stops at the mapping's last key; point at the mapping's
            // own key (`advanced_settings:`) or, for a list item or the
            // document, at its first key.
            if let Some(node) = at.as_ref().and_then(|a| a.owner.or(a.map)) {
                span = node.highlight();
            }
            (
                format!("missing field `{field}`{inside}"),
                Some(missing_field_hint(field, ctx)),
            )
        }
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            value_span();
            let mut hint = format!("expected one of {}", list(expected));
            if let Some(near) = validate::did_you_mean(variant, expected.iter().copied()) {
                hint = format!("did you mean `{near}`? {hint}");
            }
            (
                format!("unknown value `{variant}`{}", for_path(path)),
                Some(hint),
            )
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => {
            value_span();
            (
                format!(
                    "expected {}, found {}{}",
                    expectation(expected),
                    sanitize(unexpected),
                    for_path(path)
                ),
                type_hint(expected, path, Some(unexpected)),
            )
        }
        E::InvalidBooleanStrict { .. } => {
            value_span();
            (
                format!(
                    "expected `true` or `false`, found {found}{}",
                    for_path(path)
                ),
                Some("only `true` and `false` are booleans here (not yes/no/on/off)".to_owned()),
            )
        }
        E::InvalidScalar { ty, .. } => {
            value_span();
            (
                format!(
                    "expected {}, found {found}{}",
                    expectation(ty),
                    for_path(path)
                ),
                type_hint(ty, path, None),
            )
        }
        E::NullIntoString { .. } => (
            format!("`{}` has no value", last_key(path)),
            Some("write a value; quote an empty string: `\"\"`".to_owned()),
        ),
        E::Unexpected { expected, .. } => {
            value_span();
            (
                format!(
                    "expected {}, found {found}{}",
                    expectation(expected),
                    for_path(path)
                ),
                type_hint(expected, path, None),
            )
        }
        E::DuplicateMappingKey { key, .. } => {
            let key_text = key.as_deref().map_or_else(|| "?".to_owned(), sanitize);
            let first = at
                .as_ref()
                .and_then(|a| a.map)
                .and_then(|m| {
                    m.entries()
                        .iter()
                        .find(|(k, _)| k.scalar() == key.as_deref() && k.span.start < span.start)
                })
                .map(|(k, _)| text.line_col(k.span.start).0);
            let hint = match first {
                Some(line) => {
                    format!("`{key_text}` is already set on line {line}: keep one of them")
                }
                None => "a key may appear once per mapping: keep one of them".to_owned(),
            };
            (format!("duplicate key `{key_text}`"), Some(hint))
        }
        E::Budget { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => (
            format!("the document is too large: {}", user_message(err)),
            Some("write the definition without deeply nested aliases".to_owned()),
        ),
        // Our own types' messages (a credential value's forms): say where.
        E::Message { msg, .. } => {
            let hint =
                (msg.contains("from_env") || msg.contains("keep")).then(|| VALUE_FORMS.to_owned());
            if path.is_empty() {
                (sanitize(msg), hint)
            } else {
                (format!("`{path}`: {}", sanitize(msg)), hint)
            }
        }
        other => (user_message(other), None),
    };
    text.diag(Severity::Error, span, message, hint)
        .with_code(diagnostics::Code::Schema)
}

/// The error under alias wrappers.
pub(super) fn inner(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match err {
        serde_saphyr::Error::AliasError { error, .. } => inner(error),
        serde_saphyr::Error::WithSnippet { error, .. } => inner(error),
        other => other,
    }
}

pub(super) fn user_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    sanitize(&serde_saphyr::UserMessageFormatter.format_message(err))
}

/// Messages may quote user text: keep them on one line.
pub(super) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(super) fn for_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" for `{path}`")
    }
}

pub(super) fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

pub(super) fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// serde's and serde-saphyr's words for a type, as a user would say them.
pub(super) fn expectation(expected: &str) -> String {
    let e = expected;
    if e.contains("sequence") {
        "a list".to_owned()
    } else if e.contains("mapping") || e.starts_with("struct") || e == "map" {
        "a mapping".to_owned()
    } else if e.contains("bool") {
        "`true` or `false`".to_owned()
    } else if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ]
    .iter()
    .any(|t| e == *t || e.ends_with(&format!(" {t}")))
    {
        "a whole number".to_owned()
    } else if e.contains("string") {
        "a string".to_owned()
    } else {
        e.to_owned()
    }
}

/// The forms of a parameter or input value.
pub(super) const VALUE_FORMS: &str = "a value is a string, `{from_env: NAME}` or `{keep: true}`";

pub(super) fn type_hint(expected: &str, path: &str, unexpected: Option<&str>) -> Option<String> {
    let key = last_key(path);
    let hint = match expectation(expected).as_str() {
        // A parameter or input value (`ParamValue`).
        _ if expected.contains("quote numbers") => {
            let scalar = unexpected.is_some_and(|u| {
                ["integer", "floating", "boolean"].iter().any(|t| u.contains(t))
            });
            if scalar {
                "quote it (`\"1.20\"`) so YAML keeps it as written".to_owned()
            } else {
                VALUE_FORMS.to_owned()
            }
        }
        "a list" if key == "installs" => {
            "installs is a list of `- name: go` / `version: 1.22.1` entries (the v4.2 docs' \"string\" is wrong)".to_owned()
        }
        "a list" => "write a list: `- item` lines, or `[a, b]`".to_owned(),
        "a mapping" if key == "docker_build_step" || key == "advanced_settings" => {
            format!("`{key}` is one mapping, not a list (the v4.2 docs' `[]` is wrong): remove the `- `")
        }
        "a mapping" => "write a mapping: `key: value` lines".to_owned(),
        "`true` or `false`" => "write `true` or `false` without quotes".to_owned(),
        "a whole number" => "write a whole number without quotes, units or leading zeros".to_owned(),
        "a string" => "write a string; quote it if YAML would read it as something else".to_owned(),
        _ => return None,
    };
    Some(hint)
}

pub(super) fn unknown_field_hint(
    field: &str,
    expected: &[&str],
    container: &str,
    ctx: Context,
) -> String {
    let top = container.is_empty();
    if top && ctx == Context::Config && matches!(field, "token" | "api_token" | "zadig_token") {
        return "never put the token in a file: set ZADIG_TOKEN or use --token-file".to_owned();
    }
    if top && ctx == Context::Build && matches!(field, "template_name" | "target_services") {
        return "a build made from a template needs `kind: TemplateBuild`".to_owned();
    }
    if let (true, Context::Other(kind)) = (top, ctx)
        && let Some(hint) = kind
            .info()
            .foreign_fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, hint)| *hint)
    {
        return hint.to_owned();
    }
    if top && ctx != Context::Config && matches!(field, "projects" | "endpoint" | "max_deletes") {
        return format!(
            "this looks like {CONFIG_FILE}: only the one at the root of the directory is read as configuration"
        );
    }
    match validate::did_you_mean(field, expected.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("expected one of {}", list(expected)),
    }
}

pub(super) fn missing_field_hint(field: &str, ctx: Context) -> String {
    match (ctx, field) {
        (_, "name") => "add `name: <build name>` (unique across all Zadig projects)".to_owned(),
        (Context::Config, "key") => "add `key: <project key>`".to_owned(),
        (_, "project_key") => "add `project_key: <project key>`, declared in zadig-sync.yaml".to_owned(),
        (_, "infrastructure") => "add `infrastructure: kubernetes` (or `vm`)".to_owned(),
        (_, "build_os") => "add `build_os: <basic image label>`, e.g. `ubuntu 20.04`".to_owned(),
        (_, "script_type") => "add `script_type: shell` (or `batch_file`, `powershell`)".to_owned(),
        (_, "template_name") => "add `template_name: <build template name>`".to_owned(),
        (_, "target_services") => {
            "add `target_services:` with at least one `- service_name: ...` / `service_module: ...`".to_owned()
        }
        (_, "cluster_name") => {
            "Zadig requires cluster_name whenever advanced_settings is present: add it, or remove advanced_settings to use the local cluster".to_owned()
        }
        (_, "dockerfile_source") => "add `dockerfile_source: local` (or `template`)".to_owned(),
        (_, field) => format!("add `{field}: ...`"),
    }
}
