//! Choosing what `apply` writes: the plan's changes, less the blocked ones
//! and, with a saved plan, less those that are not exactly what was reviewed.

use serde::{Deserialize, Serialize};

use super::model::Kind;
use super::notice::OutcomeReason;
use super::plan::{Action, Change, Plan};
use super::report::{Status, WriteOutcome};

/// What a saved plan recorded about one build (`plan --out`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedChange {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// Action.
    pub action: Action,
    /// The guard that blocked it at plan time.
    pub blocked: Option<String>,
    /// Live `update_time` at plan time (absent for creates).
    pub live_update_time: Option<i64>,
    /// Fingerprint of the live build at plan time (absent for creates).
    pub live_fingerprint: Option<String>,
    /// Unused since plan format 2 (the plan file keeps the definitions
    /// apart); always absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<serde_json::Value>,
}

/// The changes to write, and the outcomes of those that will not be written.
/// With `reviewed` (a saved plan), a change is written only if the saved plan
/// has it with the same action and the same live build (`update_time` and
/// fingerprint): anything else changed since the review.
pub fn select(plan: &Plan, reviewed: Option<&[PlannedChange]>) -> (Vec<Change>, Vec<WriteOutcome>) {
    let mut work = Vec::new();
    let mut skipped = Vec::new();
    for c in &plan.changes {
        if let Some(reviewed) = reviewed {
            match reviewed
                .iter()
                .find(|s| s.project == c.project && s.name == c.name)
            {
                None => {
                    skipped.push(stale(c, OutcomeReason::NotInSavedPlan));
                    continue;
                }
                Some(s)
                    if s.action != c.action
                        || s.live_update_time != c.live_update_time
                        || s.live_fingerprint != c.live_fingerprint =>
                {
                    skipped.push(stale(c, OutcomeReason::ChangedSincePlan));
                    continue;
                }
                Some(_) => {}
            }
        }
        match &c.blocked {
            Some(b) => skipped.push(skip(c, OutcomeReason::Blocked(b.clone()))),
            None => work.push(c.clone()),
        }
    }
    (work, skipped)
}

/// A `skipped` outcome (a guard blocked it, as the plan said).
pub fn skip(c: &Change, reason: OutcomeReason) -> WriteOutcome {
    outcome(c, Status::Skipped, reason)
}

/// A `stale` outcome: the live build changed since the plan was made.
pub fn stale(c: &Change, reason: OutcomeReason) -> WriteOutcome {
    outcome(c, Status::Stale, reason)
}

fn outcome(c: &Change, status: Status, reason: OutcomeReason) -> WriteOutcome {
    WriteOutcome {
        project: c.project.clone(),
        name: c.name.clone(),
        kind: c.kind,
        action: c.action,
        status,
        reason: Some(reason),
        fields: Vec::new(),
        resolved_after_ambiguity: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::Blocked;

    fn change(name: &str, action: Action, time: Option<i64>) -> Change {
        Change {
            project: "demo".into(),
            name: name.into(),
            kind: Kind::Build,
            action,
            fields: vec![],
            blocked: None,
            live_update_time: time,
            live_fingerprint: time.map(|t| format!("fp{t}")),
            erases: vec![],
            kept: vec![],
            write_path: None,
            fallback_allowed: false,
            write_body: None,
            cause: None,
            diff: String::new(),
            desired: None,
            origin: None,
        }
    }

    fn reviewed(c: &Change) -> PlannedChange {
        PlannedChange {
            project: c.project.clone(),
            name: c.name.clone(),
            kind: c.kind,
            action: c.action,
            blocked: None,
            live_update_time: c.live_update_time,
            live_fingerprint: c.live_fingerprint.clone(),
            desired: None,
        }
    }

    #[test]
    fn blocked_changes_are_skipped_with_their_reason() {
        let mut blocked = change("b", Action::Update, Some(1));
        blocked.blocked = Some(Blocked::Protected);
        let plan = Plan {
            changes: vec![change("a", Action::Create, None), blocked],
            ..Plan::default()
        };
        let (work, skipped) = select(&plan, None);
        assert_eq!(work.len(), 1);
        assert_eq!(
            skipped[0].reason,
            Some(OutcomeReason::Blocked(Blocked::Protected))
        );
    }

    #[test]
    fn a_saved_plan_applies_only_what_is_unchanged_since() {
        let same = change("same", Action::Update, Some(1));
        let edited = change("edited", Action::Update, Some(2));
        let refreshed = change("edited-same-second", Action::Update, Some(3));
        let new = change("new", Action::Create, None);
        let mut r_edited = reviewed(&edited);
        r_edited.live_update_time = Some(1);
        let mut r_refreshed = reviewed(&refreshed);
        r_refreshed.live_fingerprint = Some("before".into());
        let saved = vec![reviewed(&same), r_edited, r_refreshed];
        let plan = Plan {
            changes: vec![same, edited, refreshed, new],
            ..Plan::default()
        };
        let (work, skipped) = select(&plan, Some(&saved));
        assert_eq!(
            work.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["same"]
        );
        let reasons: Vec<&OutcomeReason> =
            skipped.iter().filter_map(|o| o.reason.as_ref()).collect();
        assert_eq!(reasons[0], &OutcomeReason::ChangedSincePlan);
        assert_eq!(
            reasons[1],
            &OutcomeReason::ChangedSincePlan,
            "same second, other content"
        );
        assert_eq!(reasons[2], &OutcomeReason::NotInSavedPlan);
    }
}
