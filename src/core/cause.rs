//! Why a planned change is there, when the plan is made against a base
//! revision (`plan --base REF`): the pull request's own change, a change made
//! in Zadig that apply would revert, or both at once.
//!
//! Three states take part: the definitions at the base (REF), the definitions
//! now (the pull request), and live. The plan already compares now with live;
//! [`annotate`] adds, for each change and each changed field, whether the files
//! changed it since REF (base ≠ now) and whether live differs from REF
//! (base ≠ live). Both questions are answered with the same normalisation and
//! the same field paths as the plan, so a path of the plan can be matched with
//! the paths of the two other comparisons.
//!
//! When in doubt, the answer leans towards [`Cause::Both`]: a conflict shown
//! by mistake costs a reviewer a look, a revert hidden as "pending" costs a
//! colleague's hot fix.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::Catalog;
use super::diff::{FieldChange, diff_values};
use super::model::BuildDef;
use super::normalize::normalize_desired;
use super::plan::{Action, Change, DesiredBuild, Plan};
use super::secrets::mask_pair;

/// Why a change (or a changed field) is in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The files changed it since the base, and live still equals the base:
    /// the pull request's own change.
    Pending,
    /// The files did not change it, but live differs from the base: apply
    /// would revert a change made in Zadig.
    Drift,
    /// The files changed it and live differs from the base too: the pull
    /// request overwrites a change made in Zadig.
    Both,
}

impl Cause {
    /// Every cause, in the order the outputs show them.
    pub const ALL: [Cause; 3] = [Cause::Pending, Cause::Drift, Cause::Both];

    /// Lower-case name, as `cause` in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Pending => "pending",
            Cause::Drift => "drift",
            Cause::Both => "both",
        }
    }

    /// The cause of a difference between now and live, from whether the
    /// files changed it since the base and whether live differs from the
    /// base. `None` when neither holds: then now, base and live agree.
    pub fn of(files_changed: bool, live_differs: bool) -> Option<Cause> {
        match (files_changed, live_differs) {
            (true, false) => Some(Cause::Pending),
            (false, true) => Some(Cause::Drift),
            (true, true) => Some(Cause::Both),
            (false, false) => None,
        }
    }

    /// The cause of a change made of parts with these two causes: a build
    /// with a pending field and a drifted one is a conflict.
    pub fn combine(self, other: Cause) -> Cause {
        if self == other { self } else { Cause::Both }
    }
}

/// The base side of a plan made with `--base`.
#[derive(Clone, Copy, Debug)]
pub struct BaseSide<'a> {
    /// The definitions at the base revision, resolved like the current ones.
    pub desired: &'a [DesiredBuild],
    /// The plan of those definitions against the same live state: its fields
    /// are where live differs from the base.
    pub plan: &'a Plan,
    /// Every file at the base loaded. When not, a build missing at the base
    /// may have been in a broken file: its cause is unknown, so `both`.
    pub complete: bool,
}

/// Whether two field paths overlap: equal, or one a part of the other
/// (`advanced_settings` and `advanced_settings.timeout`). A list's
/// ` (order)` entry stands for the list itself. The empty path is the whole
/// build and overlaps everything.
pub fn overlaps(a: &str, b: &str) -> bool {
    fn strip(p: &str) -> &str {
        p.strip_suffix(" (order)").unwrap_or(p)
    }
    fn within(inner: &str, outer: &str) -> bool {
        outer.is_empty()
            || inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    }
    let (a, b) = (strip(a), strip(b));
    within(a, b) || within(b, a)
}

/// The cause of one changed field at `path`, from the paths where the files
/// changed since the base and the paths where live differs from the base.
///
/// A field that differs while neither comparison touches it cannot happen
/// with consistent comparisons; should it, it is a conflict (see the module
/// documentation).
pub fn field_cause(path: &str, files_changed: &[String], live_changed: &[String]) -> Cause {
    let files = files_changed.iter().any(|q| overlaps(path, q));
    let live = live_changed.iter().any(|q| overlaps(path, q));
    Cause::of(files, live).unwrap_or(Cause::Both)
}

/// The paths where two definitions differ, compared as the plan compares
/// (normalised, credential values masked). `[""]` (everything) when they are
/// of different kinds.
pub fn changed_paths(base: &BuildDef, now: &BuildDef, catalog: &Catalog) -> Vec<String> {
    if base.kind() != now.kind() {
        return vec![String::new()];
    }
    let mut b = normalize_desired(base, catalog);
    let mut n = normalize_desired(now, catalog);
    mask_pair(Some(&mut b), Some(&mut n));
    if b == n {
        return Vec::new();
    }
    fine_paths(&diff_values(&b.to_value(), &n.to_value()))
}

/// The paths of field changes, a whole object that appears or goes counted
/// as each of its fields: the plan may name one of those fields alone (live
/// has another field of that object), and it must not match the others.
pub fn fine_paths(fields: &[FieldChange]) -> Vec<String> {
    fn leaves(path: String, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) if !o.is_empty() => {
                for (k, v) in o {
                    leaves(format!("{path}.{k}"), v, out);
                }
            }
            // An empty value is no value (as in the diff): no difference there.
            v if diff_values(&Value::Null, v).is_empty() => {}
            _ => out.push(path),
        }
    }
    let mut out = Vec::new();
    for f in fields {
        match (&f.before, &f.after) {
            (None, Some(v)) | (Some(v), None) => leaves(f.path.clone(), v, &mut out),
            _ => out.push(f.path.clone()),
        }
    }
    out
}

/// Definitions by (project, name): plans of thousands of builds look each
/// one up.
fn index(desired: &[DesiredBuild]) -> HashMap<(&str, &str), &DesiredBuild> {
    desired
        .iter()
        .map(|d| ((d.project_key(), d.name()), d))
        .collect()
}

/// Sets `cause` on every change of `plan` (made from `now` against live) and
/// on each of its fields.
///
/// - A build added or removed since the base is `pending`, unless live
///   differs from the base too (a build of that name was made, changed or
///   deleted in Zadig): then `both`.
/// - A build the files did not touch is `drift`.
/// - An update of a build present on both sides is decided field by field,
///   and the change takes the combined cause of its fields.
pub fn annotate(plan: &mut Plan, base: &BaseSide<'_>, now: &[DesiredBuild], catalog: &Catalog) {
    let base_defs = index(base.desired);
    let now_defs = index(now);
    let base_changes: HashMap<(&str, &str), &Change> = base
        .plan
        .changes
        .iter()
        .map(|b| ((b.project.as_str(), b.name.as_str()), b))
        .collect();
    for c in &mut plan.changes {
        let key = (c.project.as_str(), c.name.as_str());
        let at_base = base_defs.get(&key).copied();
        let at_now = now_defs.get(&key).copied();
        let base_change = base_changes.get(&key).copied();
        // Live holds the build unless the plan creates it.
        let live_has = c.action != Action::Create;
        let live_differs = match at_base {
            Some(_) => base_change.is_some(),
            None => live_has,
        };
        if at_base.is_none() && !base.complete {
            set_all(c, Cause::Both);
            continue;
        }
        if let (Some(b), Some(n), Action::Update, false) =
            (at_base, at_now, c.action, c.fields.is_empty())
            && b.kind() == n.kind()
        {
            let files = changed_paths(&b.def(), &n.def(), catalog);
            let live: Vec<String> = match base_change {
                None => Vec::new(),
                Some(bc) if bc.action == Action::Update && !bc.fields.is_empty() => {
                    fine_paths(&bc.fields)
                }
                // A replace, or a change without fields: live differs as a whole.
                Some(_) => vec![String::new()],
            };
            let mut cause: Option<Cause> = None;
            for f in &mut c.fields {
                let fc = field_cause(&f.path, &files, &live);
                f.cause = Some(fc);
                cause = Some(cause.map_or(fc, |c| c.combine(fc)));
            }
            c.cause = cause;
            continue;
        }
        let files_changed = match (at_base, at_now) {
            (None, None) => false,
            (Some(b), Some(n)) => !changed_paths(&b.def(), &n.def(), catalog).is_empty(),
            _ => true,
        };
        set_all(
            c,
            Cause::of(files_changed, live_differs).unwrap_or(Cause::Both),
        );
    }
}

fn set_all(c: &mut Change, cause: Cause) {
    c.cause = Some(cause);
    for f in &mut c.fields {
        f.cause = Some(cause);
    }
}

#[cfg(test)]
mod tests;
