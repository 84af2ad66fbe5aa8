//! The apply report: how every build of the plan ended.

use serde::Serialize;

use super::diff::FieldChange;
use super::model::Kind;
use super::notice::OutcomeReason;
use super::plan::Action;

/// How one build ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Written, and the read-back matches the definition.
    Applied,
    /// The server refused or failed the write.
    Failed,
    /// Not written on purpose: blocked by a guard (protected, erase, …), as
    /// the plan said.
    Skipped,
    /// Not written because the live build changed since the plan was made
    /// (or since it was read for this run): the reviewed change was not made.
    Stale,
    /// Not written because the run stopped (Ctrl-C) or an earlier step failed.
    NotAttempted,
    /// Written and accepted, but the read-back differs from the definition.
    NotConverged,
}

/// One build's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteOutcome {
    /// Project key.
    pub project: String,
    /// Build name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// The planned action.
    pub action: Action,
    /// How it ended.
    pub status: Status,
    /// Why (server error, guard, staleness), for anything but `applied`
    /// (and for an `applied` through the OpenAPI fallback).
    pub reason: Option<OutcomeReason>,
    /// For `not_converged`: the fields that still differ (values masked).
    pub fields: Vec<FieldChange>,
    /// The write's answer was ambiguous (timeout or 5xx after sending) and was
    /// resolved by reading the build back.
    pub resolved_after_ambiguity: bool,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// One entry per planned change, in plan order.
    pub outcomes: Vec<WriteOutcome>,
    /// The run was interrupted (Ctrl-C).
    pub interrupted: bool,
}

/// Counts per status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    /// Applied.
    pub applied: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped (blocked).
    pub skipped: usize,
    /// Stale: changed since the plan.
    pub stale: usize,
    /// Not attempted.
    pub not_attempted: usize,
    /// Not converged.
    pub not_converged: usize,
}

impl Report {
    /// Counts.
    pub fn summary(&self) -> ReportSummary {
        let mut s = ReportSummary::default();
        for o in &self.outcomes {
            match o.status {
                Status::Applied => s.applied += 1,
                Status::Failed => s.failed += 1,
                Status::Skipped => s.skipped += 1,
                Status::Stale => s.stale += 1,
                Status::NotAttempted => s.not_attempted += 1,
                Status::NotConverged => s.not_converged += 1,
            }
        }
        s
    }

    /// Whether the run failed: a change it set out to make was not made (a
    /// write failed, was stale, was not attempted or did not converge), or
    /// the run was interrupted. Only blocked changes, which the plan said
    /// would not be made, leave it a success.
    pub fn failed(&self) -> bool {
        let s = self.summary();
        s.failed > 0
            || s.stale > 0
            || s.not_converged > 0
            || s.not_attempted > 0
            || self.interrupted
    }
}
