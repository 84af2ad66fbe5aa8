//! Renderers: plans, reports and diagnostics as text, JSON and Markdown.
//! They take plain data and return strings; printing is the shell's job.

pub mod diagnostics;
pub mod human;
pub mod json;
pub mod markdown;

use crate::core::cause::Cause;
use crate::core::plan::{Change, Plan};

/// Whether a plan is shown as a plan or as a drift report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `plan`: what apply would do.
    Plan,
    /// `drift`: how live differs from git.
    Drift,
}

/// The last line: `Plan: 1 to create, 2 to update, 0 to delete.` or `No changes.`
pub fn summary_line(plan: &Plan, view: View) -> String {
    let s = plan.summary();
    let blocked = if s.blocked > 0 {
        format!(" {} blocked.", s.blocked)
    } else {
        String::new()
    };
    match view {
        View::Plan if !plan.has_changes() => {
            "No changes. Zadig matches the definitions.".to_owned()
        }
        View::Plan => {
            let replace = if s.replace > 0 {
                format!(", {} to replace", s.replace)
            } else {
                String::new()
            };
            format!(
                "Plan: {} to create, {} to update, {} to delete{replace}.{blocked}",
                s.create, s.update, s.delete
            )
        }
        View::Drift if !plan.has_changes() => "No drift. Zadig matches git.".to_owned(),
        View::Drift => format!(
            "Drift: {} build{} differ{} from git.",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" },
            if plan.changes.len() == 1 { "s" } else { "" }
        ),
    }
}

/// A field value for one line of text: scalars as they are, strings quoted,
/// multi-line strings and structures summarised (the diff shows them).
pub fn field_value(v: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match v {
        None => "(none)".to_owned(),
        Some(Value::String(s)) if s.contains('\n') => {
            let n = s.lines().count();
            format!("({n} line{}, see diff)", if n == 1 { "" } else { "s" })
        }
        Some(Value::String(s)) if s.starts_with('(') && s.ends_with(')') => s.clone(),
        Some(Value::String(s)) => {
            let q = serde_json::to_string(s).unwrap_or_default();
            if q.chars().count() > 80 {
                let cut: String = q.chars().take(77).collect();
                format!("{cut}…\"")
            } else {
                q
            }
        }
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            let t = v.to_string();
            if t.chars().count() > 80 {
                let cut: String = t.chars().take(77).collect();
                format!("{cut}…")
            } else {
                t
            }
        }
        Some(v) => v.to_string(),
    }
}

/// The heading of the changes with this cause (`plan --base`).
pub fn cause_heading(cause: Cause) -> &'static str {
    match cause {
        Cause::Pending => "Changes in this pull request",
        Cause::Drift => "Changed in Zadig outside git (apply would revert them)",
        Cause::Both => "Conflicts",
    }
}

/// What a cause means, in one sentence.
pub fn cause_meaning(cause: Cause) -> &'static str {
    match cause {
        Cause::Pending => "the files changed them since the base; Zadig still matches the base",
        Cause::Drift => {
            "the files did not change them, but someone changed them in Zadig: apply reverts that"
        }
        Cause::Both => {
            "the files changed them and someone changed them in Zadig too: the pull request overwrites that"
        }
    }
}

/// A short label of a field's cause, shown next to the fields of a conflict.
pub fn cause_label(cause: Cause) -> &'static str {
    match cause {
        Cause::Pending => "this pull request",
        Cause::Drift => "changed in Zadig",
        Cause::Both => "both",
    }
}

/// The plan's changes grouped by cause, in the order of [`Cause::ALL`], when
/// the plan has a base; `None` without one.
pub fn by_cause(plan: &Plan) -> Option<Vec<(Cause, Vec<&Change>)>> {
    if !plan.changes.iter().any(|c| c.cause.is_some()) {
        return None;
    }
    Some(
        Cause::ALL
            .iter()
            .map(|&cause| {
                // A change without a cause cannot be in a plan with a base;
                // should one be, it is shown with the conflicts, not hidden.
                let changes = plan
                    .changes
                    .iter()
                    .filter(|c| c.cause.unwrap_or(Cause::Both) == cause)
                    .collect();
                (cause, changes)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
