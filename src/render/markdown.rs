//! The plan as a pull-request comment: a summary line and table, a warning
//! when builds will be deleted, each build's diff in a collapsible block, all
//! within a size budget (GitHub rejects comments over 65,536 characters).

use std::fmt::Write as _;

use super::{
    View, by_cause, cause_heading, cause_label, cause_meaning, field_value, notice, summary_line,
    targeting_note,
};
use crate::core::cause::Cause;
use crate::core::plan::{Action, Change, Plan};

/// Most characters a rendered comment may have.
pub const BUDGET: usize = 60_000;
/// Lines of one diff shown before it is cut.
const MAX_DIFF_LINES: usize = 200;

/// Renders a plan (or drift report) as Markdown within [`BUDGET`].
pub fn render(plan: &Plan, view: View) -> String {
    render_inner(plan, view, None)
}

/// Renders a plan as a pull-request comment: [`render`], starting with the
/// hidden [`marker`] of the directory `dir`, by which a CI step finds its own
/// earlier comment to edit it.
pub fn render_comment(plan: &Plan, view: View, dir: &str) -> String {
    render_inner(plan, view, Some(dir))
}

/// The hidden first line of a plan comment for the directory `dir`:
/// `<!-- zadig-sync plan: defs -->`. Stable: the same directory gives the
/// same line, whatever the plan says.
pub fn marker(dir: &str) -> String {
    // Nothing in the name may end the comment early.
    let name: String = dir
        .replace("--", "- -")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("<!-- zadig-sync plan: {name} -->")
}

fn render_inner(plan: &Plan, view: View, dir: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(dir) = dir {
        let _ = writeln!(out, "{}", marker(dir));
    }
    let title = match view {
        View::Plan => "zadig-sync plan",
        View::Drift => "zadig-sync drift",
    };
    let _ = writeln!(out, "### {title}\n\n**{}**\n", summary_line(plan, view));
    if plan.is_partial() {
        let why: Vec<String> = plan.gaps.iter().map(notice::gap).collect();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> This {} is incomplete ({}): it does not show every change, and no build is deleted until it is complete.\n",
            if view == View::Plan {
                "plan"
            } else {
                "drift report"
            },
            escape(&why.join("; "))
        );
    }
    if let Some(note) = targeting_note(plan) {
        let _ = writeln!(out, "> [!NOTE]\n> {}\n", escape(&note));
    }

    let deletes: Vec<String> = plan
        .actionable()
        .filter(|c| c.action.deletes())
        .map(|c| format!("`{}/{}`", c.project, c.name))
        .collect();
    if view == View::Plan && !deletes.is_empty() {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> This plan **deletes {} build{}**: {}.\n",
            deletes.len(),
            if deletes.len() == 1 { "" } else { "s" },
            deletes.join(", ")
        );
    }

    let groups = by_cause(plan);
    if let Some(groups) = &groups {
        out.push_str("| Cause | Builds | Meaning |\n|---|---|---|\n");
        for (cause, changes) in groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cause_heading(*cause),
                changes.len(),
                cause_meaning(*cause)
            );
        }
        out.push('\n');
        let mut cut_rows = 0;
        for (cause, changes) in groups.iter().filter(|(_, c)| !c.is_empty()) {
            let _ = writeln!(out, "#### {}\n", cause_heading(*cause));
            cut_rows += table(&mut out, changes, *cause == Cause::Both);
        }
        cut_note(&mut out, cut_rows);
    } else if plan.has_changes() {
        let changes: Vec<&Change> = plan.changes.iter().collect();
        let cut_rows = table(&mut out, &changes, false);
        cut_note(&mut out, cut_rows);
    }

    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} unmanaged build(s), left alone</summary>\n",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "- `{}/{}`: {}",
                u.project,
                u.name,
                escape(&notice::unmanaged(&u.reason))
            );
        }
        out.push_str("\n</details>\n\n");
    }
    if !plan.not_verifiable.is_empty() {
        out.push_str("<details><summary>Not verifiable on this server</summary>\n\n");
        for n in &plan.not_verifiable {
            let _ = writeln!(
                out,
                "- `{}/{}`: {}",
                n.project,
                n.name,
                n.paths
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out.push_str("\n</details>\n\n");
    }
    if !plan.not_compared.is_empty() {
        out.push_str("<details><summary>Not compared: a variable is unset</summary>\n\n");
        for n in &plan.not_compared {
            let _ = writeln!(
                out,
                "- `{}/{}`: `{}` not compared: `${}` is unset",
                n.project, n.name, n.path, n.var
            );
        }
        out.push_str("\n</details>\n\n");
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", escape(&notice::warning(w)));
    }

    // Diffs last, as long as the budget lasts; with a base, in the order of
    // the sections above.
    let ordered: Vec<&Change> = match &groups {
        Some(groups) => groups.iter().flat_map(|(_, c)| c.iter().copied()).collect(),
        None => plan.changes.iter().collect(),
    };
    let footer_room = 200;
    let mut skipped = 0;
    for c in ordered {
        if c.diff.is_empty() {
            continue;
        }
        let conflict = c.cause == Some(Cause::Both);
        let mut fields = String::new();
        for f in &c.fields {
            let _ = write!(
                fields,
                "- `{}`: {} → {}",
                f.path,
                escape(&field_value(f.before.as_ref())),
                escape(&field_value(f.after.as_ref()))
            );
            match f.cause {
                Some(fc) if conflict => {
                    let _ = writeln!(fields, " ({})", cause_label(fc));
                }
                _ => fields.push('\n'),
            }
        }
        let lines: Vec<&str> = c.diff.lines().collect();
        let shown = lines.len().min(MAX_DIFF_LINES);
        let mut diff = lines[..shown].join("\n").replace("```", "` ` `");
        if shown < lines.len() {
            let _ = write!(diff, "\n… {} more lines cut", lines.len() - shown);
        }
        let what = match c.cause {
            Some(Cause::Both) => format!("{}, conflict", c.action.name()),
            Some(Cause::Drift) => format!("{}, reverts Zadig", c.action.name()),
            _ => c.action.name().to_owned(),
        };
        let block = format!(
            "<details><summary><code>{} {}/{}</code> ({what})</summary>\n\n{fields}\n```diff\n{diff}\n```\n\n</details>\n\n",
            c.action.symbol(),
            c.project,
            c.name,
        );
        if out.len() + block.len() + footer_room > BUDGET {
            skipped += 1;
            continue;
        }
        out.push_str(&block);
    }
    if skipped > 0 {
        let _ = writeln!(
            out,
            "_{skipped} diff(s) left out to stay under {BUDGET} characters: run `zadig-sync plan` for all of them._"
        );
    }
    out
}

/// One table of changes, appended to `out` while the rows fit in half the
/// budget; returns how many rows were cut. In a table of conflicts each
/// field says its own cause.
fn table(out: &mut String, changes: &[&Change], field_causes: bool) -> usize {
    out.push_str("| | Project | Build | Kind | Action | Details |\n|---|---|---|---|---|---|\n");
    let mut rows = String::new();
    let mut cut_rows = 0;
    for c in changes {
        let details = match &c.blocked {
            Some(b) => format!(
                "**blocked** ({}): {}",
                b.guard(),
                escape(&notice::blocked_reason(b))
            ),
            None if c.action == Action::Update => {
                let paths: Vec<String> = c
                    .fields
                    .iter()
                    .map(|f| match f.cause {
                        Some(fc) if field_causes => format!("`{}` ({})", f.path, cause_label(fc)),
                        _ => format!("`{}`", f.path),
                    })
                    .collect();
                let mut d = paths.join(", ");
                // With the preserving write, `erases` is only what its
                // OpenAPI fallback would erase: say what is kept instead.
                if !c.kept.is_empty() {
                    let _ = write!(d, "; kept from live: {}", escape(&c.kept.join("; ")));
                } else if !c.erases.is_empty() {
                    let _ = write!(d, "; erases: {}", escape(&c.erases.join("; ")));
                }
                if let Some(w) = c.write_path {
                    let _ = write!(d, "; write: `{}`", notice::write_request(w, c.action));
                }
                d
            }
            None => String::new(),
        };
        let row = format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.action.symbol(),
            escape(&c.project),
            escape(&c.name),
            c.kind,
            // Worded as blocked: it will not happen.
            if c.blocked.is_some() {
                format!("{} (blocked: not applied)", c.action.name())
            } else {
                c.action.name().to_owned()
            },
            details
        );
        if out.len() + rows.len() + row.len() > BUDGET / 2 {
            cut_rows += 1;
            continue;
        }
        rows.push_str(&row);
    }
    out.push_str(&rows);
    out.push('\n');
    cut_rows
}

fn cut_note(out: &mut String, cut_rows: usize) {
    if cut_rows > 0 {
        let _ = writeln!(
            out,
            "_{cut_rows} more rows cut to fit the comment size limit._\n"
        );
    }
}

/// Escapes text for a Markdown table cell or list item.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Kind;
    use crate::core::plan::{Change, Plan};

    fn change(name: &str, action: Action, diff_lines: usize) -> Change {
        Change {
            project: "demo".into(),
            name: name.into(),
            kind: Kind::Build,
            action,
            fields: vec![],
            blocked: None,
            live_update_time: None,
            live_fingerprint: None,
            erases: vec![],
            kept: vec![],
            write_path: None,
            fallback_allowed: false,
            write_body: None,
            cause: None,
            diff: (0..diff_lines)
                .map(|i| format!("+line {i} {}\n", "x".repeat(60)))
                .collect(),
            desired: None,
            origin: None,
        }
    }

    #[test]
    fn a_preserving_update_says_what_it_keeps_not_what_a_fallback_would_erase() {
        let mut c = change("ui-made", Action::Update, 1);
        c.kept = vec!["post-build script".into()];
        c.erases = vec!["post-build script".into()];
        c.write_path = Some(crate::core::plan::WritePath::Preserving);
        let md = render(
            &Plan {
                changes: vec![c],
                ..Plan::default()
            },
            View::Plan,
        );
        assert!(md.contains("kept from live: post-build script"), "{md}");
        assert!(md.contains("write: `PUT /api/aslan/build/build`"), "{md}");
        assert!(!md.contains("erases:"), "{md}");
    }

    #[test]
    fn a_huge_plan_stays_under_the_budget_and_says_what_it_cut() {
        let plan = Plan {
            changes: (0..500)
                .map(|i| change(&format!("b{i:03}"), Action::Create, 400))
                .collect(),
            ..Plan::default()
        };
        let md = render(&plan, View::Plan);
        assert!(md.len() <= BUDGET, "{}", md.len());
        assert!(md.contains("left out to stay under"));
        assert!(md.contains("more lines cut"));
    }

    #[test]
    fn a_huge_plan_with_causes_keeps_the_marker_and_the_budget() {
        let causes = Cause::ALL;
        let plan = Plan {
            changes: (0..900)
                .map(|i| Change {
                    cause: Some(causes[i % 3]),
                    ..change(&format!("b{i:03}"), Action::Create, 400)
                })
                .collect(),
            ..Plan::default()
        };
        let md = render_comment(&plan, View::Plan, "defs");
        assert!(md.len() <= BUDGET, "{}", md.len());
        assert!(md.starts_with("<!-- zadig-sync plan: defs -->\n"), "{md}");
        // The summary table by cause is whole, whatever is cut below it.
        assert!(
            md.contains("| Changes in this pull request | 300 |"),
            "{md}"
        );
        assert!(md.contains("| Conflicts | 300 |"), "{md}");
        assert!(md.contains("more rows cut") && md.contains("left out to stay under"));
    }

    #[test]
    fn the_marker_cannot_end_the_comment_early() {
        assert_eq!(marker("defs"), "<!-- zadig-sync plan: defs -->");
        let m = marker("a-->b\nc");
        assert_eq!(m.matches("-->").count(), 1, "{m}");
        assert!(!m.contains('\n'));
    }

    #[test]
    fn deletes_get_a_caution_banner() {
        let plan = Plan {
            changes: vec![change("old", Action::Delete, 1)],
            ..Plan::default()
        };
        let md = render(&plan, View::Plan);
        assert!(
            md.contains("[!CAUTION]") && md.contains("`demo/old`"),
            "{md}"
        );
    }
}
