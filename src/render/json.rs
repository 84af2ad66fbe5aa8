//! The plan as JSON: a documented, stable format (`format_version` "2") for CI.
//! Values are masked exactly as in the other views.
//!
//! Version 2 (from 1): `diagnostics`, `headline`, `gaps`, `targets` and
//! `not_compared` added; an unset `{from_env}` variable is listed in
//! `not_compared`, no longer in `not_verifiable`; the apply report has the
//! status `stale` (was `skipped`) for builds changed since the saved plan.
//!
//! Still version 2 after issue 15 (typed messages): `warning_details` (each
//! warning's `code`, `message` and data), `unmanaged[].code` and the apply
//! report's `outcomes[].code` were added; no field changed meaning
//! (`warnings` still lists the same texts).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{View, notice};
use crate::core::cause::Cause;
use crate::core::diagnostics::Diagnostic;
use crate::core::diff::FieldChange;
use crate::core::model::Kind;
use crate::core::notice::{UnmanagedReason, Warning};
use crate::core::plan::{Action, Gap, NotCompared, NotVerifiable, Plan, Summary, WritePath};

/// The version of this format; bumped only on incompatible changes.
pub const FORMAT_VERSION: &str = "2";

#[derive(Serialize)]
struct PlanJson<'a> {
    format_version: &'static str,
    command: &'static str,
    headline: String,
    summary: Summary,
    changes: Vec<ChangeJson<'a>>,
    unmanaged: Vec<UnmanagedJson<'a>>,
    not_verifiable: &'a [NotVerifiable],
    not_compared: &'a [NotCompared],
    /// The warnings' texts.
    warnings: Vec<String>,
    /// The same warnings, each with its code and data.
    warning_details: Vec<Value>,
    incomplete: bool,
    gaps: &'a [Gap],
    targets: &'a [String],
    diagnostics: Vec<DiagnosticJson<'a>>,
    /// Changes per cause, with `plan --base` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_cause: Option<BTreeMap<Cause, usize>>,
}

/// One diagnostic, as every JSON output carries them.
#[derive(Serialize)]
pub struct DiagnosticJson<'a> {
    severity: String,
    code: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    help: Option<&'a str>,
}

/// Diagnostics for JSON: a location part that is unknown is `null`.
pub fn diagnostics(diags: &[Diagnostic]) -> Vec<DiagnosticJson<'_>> {
    diags
        .iter()
        .map(|d| DiagnosticJson {
            severity: d.severity.to_string(),
            code: d.code.as_str(),
            message: &d.message,
            file: (!d.file.is_empty()).then_some(d.file.as_str()),
            line: (d.line > 0).then_some(d.line),
            column: (d.column > 0).then_some(d.column),
            help: d.hint.as_deref(),
        })
        .collect()
}

/// An unmanaged build: why it stays, in words and as a code.
#[derive(Serialize)]
struct UnmanagedJson<'a> {
    project: &'a str,
    name: &'a str,
    reason: String,
    code: &'static str,
    /// The build's `source`, for `read_only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
}

/// Warnings as JSON objects: `code`, `message` (the text of `warnings`), and
/// the data the message is made from.
pub fn warning_details(warnings: &[Warning]) -> Vec<Value> {
    warnings
        .iter()
        .map(|w| {
            let mut out = serde_json::Map::new();
            out.insert("code".into(), Value::from(w.code()));
            out.insert("message".into(), Value::from(notice::warning(w)));
            if let Ok(Value::Object(data)) = serde_json::to_value(w) {
                out.extend(data.into_iter().filter(|(k, _)| k != "code"));
            }
            Value::Object(out)
        })
        .collect()
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    project: &'a str,
    name: &'a str,
    kind: Kind,
    action: Action,
    fields: &'a [FieldChange],
    blocked: Option<&'static str>,
    blocked_reason: Option<String>,
    live_update_time: Option<i64>,
    erases: &'a [String],
    /// UI-only settings the preserving write keeps (issue 10).
    kept: &'a [String],
    /// `preserving`, `openapi` or `template` (absent for deletes).
    write_path: Option<WritePath>,
    file: Option<&'a str>,
    /// Why the change is there, with `plan --base` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<Cause>,
}

/// Renders a plan (or drift report) as pretty JSON with a final newline,
/// with the definition directory's diagnostics.
pub fn render(plan: &Plan, view: View, diags: &[Diagnostic]) -> String {
    let doc = PlanJson {
        format_version: FORMAT_VERSION,
        command: match view {
            View::Plan => "plan",
            View::Drift => "drift",
        },
        headline: super::summary_line(plan, view),
        summary: plan.summary(),
        changes: plan
            .changes
            .iter()
            .map(|c| ChangeJson {
                project: &c.project,
                name: &c.name,
                kind: c.kind,
                action: c.action,
                fields: &c.fields,
                blocked: c.blocked.as_ref().map(|b| b.guard()),
                blocked_reason: c.blocked.as_ref().map(notice::blocked_reason),
                live_update_time: c.live_update_time,
                erases: &c.erases,
                kept: &c.kept,
                write_path: c.write_path,
                file: c.origin.as_deref(),
                cause: c.cause,
            })
            .collect(),
        unmanaged: plan
            .unmanaged
            .iter()
            .map(|u| UnmanagedJson {
                project: &u.project,
                name: &u.name,
                reason: notice::unmanaged(&u.reason),
                code: u.reason.code(),
                source: match &u.reason {
                    UnmanagedReason::ReadOnly { source } => Some(source),
                    UnmanagedReason::NoDefinition => None,
                },
            })
            .collect(),
        not_verifiable: &plan.not_verifiable,
        not_compared: &plan.not_compared,
        warnings: plan.warnings.iter().map(notice::warning).collect(),
        warning_details: warning_details(&plan.warnings),
        incomplete: plan.is_partial(),
        gaps: &plan.gaps,
        targets: &plan.targets,
        diagnostics: diagnostics(diags),
        by_cause: super::by_cause(plan).map(|groups| {
            groups
                .into_iter()
                .map(|(cause, changes)| (cause, changes.len()))
                .collect()
        }),
    };
    to_pretty(&doc)
}

/// Pretty JSON with a trailing newline.
pub fn to_pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {}}}", Value::from(e.to_string())));
    s.push('\n');
    s
}
