//! Renderers: plans, reports and diagnostics as text, JSON and Markdown.
//! They take plain data and return strings; printing is the shell's job.

pub mod apply;
pub mod diagnostics;
pub mod human;
pub mod import;
pub mod json;
pub mod markdown;
pub mod notice;

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

/// The headline and last line: `Plan: 1 to create, 2 to update, 0 to delete.`,
/// `No changes. Zadig matches the definitions.`, or, when the plan misses part
/// of what it should cover, `Plan incomplete: …` with the reasons (never "No
/// changes" then). A targeted plan says so.
pub fn summary_line(plan: &Plan, view: View) -> String {
    let s = plan.summary();
    let blocked = if s.blocked > 0 {
        format!(" {} blocked (not applied).", s.blocked)
    } else {
        String::new()
    };
    let targeted = if plan.targets.is_empty() {
        String::new()
    } else {
        format!(" Targeted: {}.", plan.targets.join(", "))
    };
    let counts = || {
        let replace = if s.replace > 0 {
            format!(", {} to replace", s.replace)
        } else {
            String::new()
        };
        format!(
            "{} to create, {} to update, {} to delete{replace}",
            s.create, s.update, s.delete
        )
    };
    let differ = || {
        format!(
            "{} build{} differ{} from git",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" },
            if plan.changes.len() == 1 { "s" } else { "" }
        )
    };
    if plan.is_partial() {
        let mut why: Vec<String> = plan.gaps.iter().map(notice::gap).collect();
        if why.is_empty() {
            why.push("some projects could not be read".to_owned());
        }
        let why = why.join("; ");
        return match view {
            View::Plan if plan.has_changes() => format!(
                "Plan incomplete: {why}. Of what could be compared: {}.{blocked}{targeted}",
                counts()
            ),
            View::Plan => format!(
                "Plan incomplete: {why}. Nothing to change in what could be compared.{targeted}"
            ),
            View::Drift if plan.has_changes() => format!(
                "Drift report incomplete: {why}. Of what could be compared: {}.{targeted}",
                differ()
            ),
            View::Drift => format!(
                "Drift report incomplete: {why}. Nothing differs in what could be compared.{targeted}"
            ),
        };
    }
    match view {
        View::Plan if !plan.has_changes() && !plan.targets.is_empty() => format!(
            "No changes in the targeted builds ({}).",
            plan.targets.join(", ")
        ),
        View::Plan if !plan.has_changes() => {
            "No changes. Zadig matches the definitions.".to_owned()
        }
        View::Plan => format!("Plan: {}.{blocked}{targeted}", counts()),
        View::Drift if !plan.has_changes() && !plan.targets.is_empty() => format!(
            "No drift in the targeted builds ({}).",
            plan.targets.join(", ")
        ),
        View::Drift if !plan.has_changes() => "No drift. Zadig matches git.".to_owned(),
        View::Drift => format!("Drift: {}.{targeted}", differ()),
    }
}

/// The caveat a targeted plan carries in every view.
pub fn targeting_note(plan: &Plan) -> Option<String> {
    (!plan.targets.is_empty()).then(|| {
        format!(
            "Targeting in effect: only {} {} planned; other builds were not compared, and the plan may not show every change.",
            plan.targets.join(", "),
            if plan.targets.len() == 1 { "was" } else { "were" }
        )
    })
}

/// How one change is described: what will happen, or, when a guard blocks
/// it, that it will not.
pub fn verb(c: &crate::core::plan::Change, view: View) -> &'static str {
    use crate::core::plan::Action;
    match (view, c.action, c.blocked.is_some()) {
        (View::Plan, Action::Create, true) => "is blocked: it will not be created",
        (View::Plan, Action::Update, true) => "is blocked: it will not be updated",
        (View::Plan, Action::Delete, true) => "is blocked: it will not be deleted",
        (View::Plan, Action::Replace, true) => "is blocked: it will not be replaced",
        (View::Plan, Action::Create, false) => "will be created",
        (View::Plan, Action::Update, false) => "will be updated in place",
        (View::Plan, Action::Delete, false) => "will be deleted",
        (View::Plan, Action::Replace, false) => "will be converted in place (plain ↔ template)",
        (View::Drift, Action::Create, _) => "is missing in Zadig",
        (View::Drift, Action::Update, _) => "differs from git",
        (View::Drift, Action::Delete, _) => "exists only in Zadig",
        (View::Drift, Action::Replace, _) => "is of another kind in Zadig",
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

/// A JSON document (`text`, an object) with each `(key, value)` added: the
/// parts of the kinds beside the builds' plan or apply report. Any other
/// text is returned as it is.
pub fn with_json_parts(text: &str, parts: &[(&str, serde_json::Value)]) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(mut m)) => {
            for (k, v) in parts {
                m.insert((*k).to_owned(), v.clone());
            }
            let body =
                serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default();
            format!("{body}\n")
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
