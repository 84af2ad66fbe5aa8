//! The plan as JSON: a documented, stable format (`format_version` "1") for CI.
//! Values are masked exactly as in the other views.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::View;
use crate::core::cause::Cause;
use crate::core::diff::FieldChange;
use crate::core::model::Kind;
use crate::core::plan::{Action, NotVerifiable, Plan, Summary, Unmanaged, WritePath};

/// The version of this format; bumped only on incompatible changes.
pub const FORMAT_VERSION: &str = "1";

#[derive(Serialize)]
struct PlanJson<'a> {
    format_version: &'static str,
    command: &'static str,
    summary: Summary,
    changes: Vec<ChangeJson<'a>>,
    unmanaged: &'a [Unmanaged],
    not_verifiable: &'a [NotVerifiable],
    warnings: &'a [String],
    incomplete: bool,
    /// Changes per cause, with `plan --base` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    by_cause: Option<BTreeMap<Cause, usize>>,
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

/// Renders a plan (or drift report) as pretty JSON with a final newline.
pub fn render(plan: &Plan, view: View) -> String {
    let doc = PlanJson {
        format_version: FORMAT_VERSION,
        command: match view {
            View::Plan => "plan",
            View::Drift => "drift",
        },
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
                blocked_reason: c.blocked.as_ref().map(|b| b.reason()),
                live_update_time: c.live_update_time,
                erases: &c.erases,
                kept: &c.kept,
                write_path: c.write_path,
                file: c.origin.as_deref(),
                cause: c.cause,
            })
            .collect(),
        unmanaged: &plan.unmanaged,
        not_verifiable: &plan.not_verifiable,
        warnings: &plan.warnings,
        incomplete: plan.incomplete,
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
