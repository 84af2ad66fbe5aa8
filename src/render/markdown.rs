//! The plan as a pull-request comment: a summary line and table, a warning
//! when builds will be deleted, each build's diff in a collapsible block, all
//! within a size budget (GitHub rejects comments over 65,536 characters).

use std::fmt::Write as _;

use super::{View, field_value, summary_line, targeting_note};
use crate::core::plan::{Action, Plan};

/// Most characters a rendered comment may have.
pub const BUDGET: usize = 60_000;
/// Lines of one diff shown before it is cut.
const MAX_DIFF_LINES: usize = 200;

/// Renders a plan (or drift report) as Markdown within [`BUDGET`].
pub fn render(plan: &Plan, view: View) -> String {
    let mut out = String::new();
    let title = match view {
        View::Plan => "zadig-sync plan",
        View::Drift => "zadig-sync drift",
    };
    let _ = writeln!(out, "### {title}\n\n**{}**\n", summary_line(plan, view));
    if plan.is_partial() {
        let why: Vec<String> = plan.gaps.iter().map(|g| g.describe()).collect();
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

    if plan.has_changes() {
        out.push_str(
            "| | Project | Build | Kind | Action | Details |\n|---|---|---|---|---|---|\n",
        );
        let mut rows = String::new();
        let mut cut_rows = 0;
        for c in &plan.changes {
            let details = match &c.blocked {
                Some(b) => format!("**blocked** ({}): {}", b.guard(), escape(&b.reason())),
                None if c.action == Action::Update => {
                    let paths: Vec<String> =
                        c.fields.iter().map(|f| format!("`{}`", f.path)).collect();
                    let mut d = paths.join(", ");
                    if !c.erases.is_empty() {
                        let _ = write!(d, "; erases: {}", escape(&c.erases.join("; ")));
                    }
                    d
                }
                None => String::new(),
            };
            let action = if c.blocked.is_some() && view == View::Plan {
                format!("{} (blocked: not applied)", c.action.name())
            } else {
                c.action.name().to_owned()
            };
            let row = format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                c.action.symbol(),
                escape(&c.project),
                escape(&c.name),
                c.kind,
                action,
                details
            );
            if out.len() + rows.len() + row.len() > BUDGET / 2 {
                cut_rows += 1;
                continue;
            }
            rows.push_str(&row);
        }
        out.push_str(&rows);
        if cut_rows > 0 {
            let _ = writeln!(
                out,
                "\n_{cut_rows} more rows cut to fit the comment size limit._"
            );
        }
        out.push('\n');
    }

    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} unmanaged build(s), left alone</summary>\n",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(out, "- `{}/{}`: {}", u.project, u.name, escape(&u.reason));
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
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", escape(w));
    }

    // Diffs last, as long as the budget lasts.
    let footer_room = 200;
    let mut skipped = 0;
    for c in &plan.changes {
        if c.diff.is_empty() {
            continue;
        }
        let mut fields = String::new();
        for f in &c.fields {
            let _ = writeln!(
                fields,
                "- `{}`: {} → {}",
                f.path,
                escape(&field_value(f.before.as_ref())),
                escape(&field_value(f.after.as_ref()))
            );
        }
        let lines: Vec<&str> = c.diff.lines().collect();
        let shown = lines.len().min(MAX_DIFF_LINES);
        let mut diff = lines[..shown].join("\n").replace("```", "` ` `");
        if shown < lines.len() {
            let _ = write!(diff, "\n… {} more lines cut", lines.len() - shown);
        }
        let block = format!(
            "<details><summary><code>{} {}/{}</code> ({})</summary>\n\n{fields}\n```diff\n{diff}\n```\n\n</details>\n\n",
            c.action.symbol(),
            c.project,
            c.name,
            c.action.name()
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
            diff: (0..diff_lines)
                .map(|i| format!("+line {i} {}\n", "x".repeat(60)))
                .collect(),
            desired: None,
            origin: None,
        }
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
