//! The apply report: one line per build and a summary line for people, and
//! the documented JSON report (`format_version` as for the plan).

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use super::{field_value, json, notice};
use crate::core::diff::FieldChange;
use crate::core::model::Kind;
use crate::core::plan::Action;
use crate::core::report::{Report, ReportSummary, Status};

/// The apply report as text. `quiet` (`-q`) keeps the builds that did not
/// end as planned (errors) and the summary line.
pub fn human(report: &Report, color: bool, quiet: bool) -> String {
    let mut out = String::new();
    for o in report
        .outcomes
        .iter()
        .filter(|o| !quiet || !matches!(o.status, Status::Applied | Status::Skipped))
    {
        let (style, label) = match o.status {
            Status::Applied => (AnsiColor::Green.on_default(), "applied"),
            Status::Failed => (AnsiColor::Red.on_default().bold(), "FAILED"),
            Status::Skipped => (AnsiColor::Yellow.on_default(), "skipped"),
            Status::Stale => (AnsiColor::Red.on_default().bold(), "STALE"),
            Status::NotAttempted => (AnsiColor::Yellow.on_default(), "not attempted"),
            Status::NotConverged => (AnsiColor::Red.on_default().bold(), "NOT CONVERGED"),
        };
        let style = if color { style } else { Style::new() };
        let _ = write!(
            out,
            "{style}{label:>13}{} {} {}/{} ({})",
            style.render_reset(),
            o.action.symbol(),
            o.project,
            o.name,
            o.action.name()
        );
        if o.resolved_after_ambiguity {
            out.push_str(" [confirmed by reading back after an ambiguous answer]");
        }
        out.push('\n');
        if let Some(r) = &o.reason {
            let _ = writeln!(out, "{:>15}{}", "", notice::outcome_reason(r));
        }
        for f in &o.fields {
            let _ = writeln!(
                out,
                "{:>15}{}: {} → {}",
                "",
                f.path,
                field_value(f.before.as_ref()),
                field_value(f.after.as_ref())
            );
        }
    }
    let s = report.summary();
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Apply: {} applied, {} failed, {} stale, {} skipped (blocked), {} not attempted, {} not converged.{}",
        s.applied,
        s.failed,
        s.stale,
        s.skipped,
        s.not_attempted,
        s.not_converged,
        if report.interrupted {
            " Interrupted."
        } else {
            ""
        }
    );
    out
}

/// The documented JSON apply report, pretty, with a final newline.
pub fn json(report: &Report) -> String {
    json::to_pretty(&ReportJson {
        format_version: json::FORMAT_VERSION,
        command: "apply",
        summary: report.summary(),
        outcomes: report
            .outcomes
            .iter()
            .map(|o| OutcomeJson {
                project: &o.project,
                name: &o.name,
                kind: o.kind,
                action: o.action,
                status: &o.status,
                reason: o.reason.as_ref().map(notice::outcome_reason),
                code: o.reason.as_ref().map(|r| r.code()),
                fields: &o.fields,
                resolved_after_ambiguity: o.resolved_after_ambiguity,
            })
            .collect(),
        interrupted: report.interrupted,
    })
}

#[derive(Serialize)]
struct ReportJson<'a> {
    format_version: &'static str,
    command: &'static str,
    summary: ReportSummary,
    outcomes: Vec<OutcomeJson<'a>>,
    interrupted: bool,
}

#[derive(Serialize)]
struct OutcomeJson<'a> {
    project: &'a str,
    name: &'a str,
    kind: Kind,
    action: Action,
    status: &'a Status,
    reason: Option<String>,
    /// The reason's code: a guard's for `skipped`, else one of
    /// [`crate::core::notice::OutcomeReason::CODES`].
    code: Option<&'static str>,
    fields: &'a [FieldChange],
    resolved_after_ambiguity: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::notice::OutcomeReason;
    use crate::core::plan::Blocked;
    use crate::core::report::WriteOutcome;

    fn outcome(name: &str, status: Status, reason: Option<OutcomeReason>) -> WriteOutcome {
        WriteOutcome {
            project: "demo".into(),
            name: name.into(),
            kind: Kind::Build,
            action: Action::Update,
            status,
            reason,
            fields: vec![],
            resolved_after_ambiguity: false,
        }
    }

    fn sample() -> Report {
        Report {
            outcomes: vec![
                outcome("ok", Status::Applied, None),
                outcome(
                    "kept",
                    Status::Skipped,
                    Some(OutcomeReason::Blocked(Blocked::Protected)),
                ),
                outcome(
                    "moved",
                    Status::Stale,
                    Some(OutcomeReason::ChangedSincePlan),
                ),
                outcome(
                    "refused",
                    Status::Failed,
                    Some(OutcomeReason::WriteFailed {
                        error: "Zadig answered 400".into(),
                    }),
                ),
                outcome(
                    "fell-back",
                    Status::Applied,
                    Some(OutcomeReason::OpenapiFallback {
                        error: "403".into(),
                        erased: vec!["post-build script".into()],
                    }),
                ),
            ],
            interrupted: false,
        }
    }

    /// The text is what the command printed before the view moved here.
    #[test]
    fn the_report_reads_as_before() {
        assert_eq!(
            human(&sample(), false, false),
            "      applied ~ demo/ok (update)\n\
             \x20     skipped ~ demo/kept (update)\n\
             \x20              blocked (protected): matches a `protect` glob: zadig-sync never changes or deletes it\n\
             \x20       STALE ~ demo/moved (update)\n\
             \x20              changed outside this plan since it was made: re-plan\n\
             \x20      FAILED ~ demo/refused (update)\n\
             \x20              Zadig answered 400\n\
             \x20     applied ~ demo/fell-back (update)\n\
             \x20              the UI API refused the preserving write (403): written through the OpenAPI fallback (PUT /openapi/build), erasing: post-build script\n\
             \n\
             Apply: 2 applied, 1 failed, 1 stale, 1 skipped (blocked), 0 not attempted, 0 not converged.\n"
        );
        assert_eq!(
            human(&sample(), false, true),
            "        STALE ~ demo/moved (update)\n\
             \x20              changed outside this plan since it was made: re-plan\n\
             \x20      FAILED ~ demo/refused (update)\n\
             \x20              Zadig answered 400\n\
             \n\
             Apply: 2 applied, 1 failed, 1 stale, 1 skipped (blocked), 0 not attempted, 0 not converged.\n"
        );
    }

    #[test]
    fn json_outcomes_carry_the_code_next_to_the_reason() {
        let doc: serde_json::Value = serde_json::from_str(&json(&sample())).expect("json");
        assert_eq!(doc["format_version"], json::FORMAT_VERSION);
        let codes: Vec<&serde_json::Value> = doc["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .map(|o| &o["code"])
            .collect();
        assert_eq!(
            codes,
            [
                &serde_json::Value::Null,
                &serde_json::json!("protected"),
                &serde_json::json!("changed_since_plan"),
                &serde_json::json!("write_failed"),
                &serde_json::json!("openapi_fallback"),
            ]
        );
        assert_eq!(doc["outcomes"][3]["reason"], "Zadig answered 400");
        assert_eq!(doc["outcomes"][0]["reason"], serde_json::Value::Null);
    }
}
