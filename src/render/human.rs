//! The plan for people: grouped per project, Terraform-like symbols, the
//! changed fields and the diff of each build, and a last summary line.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{
    View, by_cause, cause_heading, cause_label, cause_meaning, field_value, notice, summary_line,
    targeting_note, verb,
};
use crate::core::cause::Cause;
use crate::core::plan::{Action, Change, Plan};

struct Styles {
    create: Style,
    update: Style,
    delete: Style,
    blocked: Style,
    dim: Style,
    bold: Style,
}

impl Styles {
    fn new(color: bool) -> Self {
        if !color {
            let s = Style::new();
            return Styles {
                create: s,
                update: s,
                delete: s,
                blocked: s,
                dim: s,
                bold: s,
            };
        }
        Styles {
            create: AnsiColor::Green.on_default(),
            update: AnsiColor::Yellow.on_default(),
            delete: AnsiColor::Red.on_default(),
            blocked: AnsiColor::Magenta.on_default().bold(),
            dim: Style::new().dimmed(),
            bold: Style::new().bold(),
        }
    }

    fn action(&self, a: Action) -> Style {
        match a {
            Action::Create => self.create,
            Action::Update => self.update,
            Action::Delete | Action::Replace => self.delete,
        }
    }
}

/// Renders a plan (or a drift report) as text. The plan's warnings are not
/// part of it: the shell prints them on stderr ([`warnings`]).
pub fn render(plan: &Plan, view: View, color: bool) -> String {
    let st = Styles::new(color);
    let mut out = String::new();
    match by_cause(plan) {
        // With a base: one section per cause, projects within.
        Some(groups) => {
            for (cause, changes) in groups.iter().filter(|(_, c)| !c.is_empty()) {
                let _ = writeln!(
                    out,
                    "{}== {} ({}) =={}\n   {}\n",
                    st.bold,
                    cause_heading(*cause),
                    changes.len(),
                    st.bold.render_reset(),
                    cause_meaning(*cause)
                );
                projects(&mut out, changes, view, &st);
            }
        }
        None => {
            let changes: Vec<&Change> = plan.changes.iter().collect();
            projects(&mut out, &changes, view, &st);
        }
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "{}Unmanaged builds (left alone):{}",
            st.bold,
            st.bold.render_reset()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "  {}/{}: {}",
                u.project,
                u.name,
                notice::unmanaged(&u.reason)
            );
        }
        out.push('\n');
    }
    if !plan.not_verifiable.is_empty() {
        let _ = writeln!(
            out,
            "{}Not verifiable on this server (it does not show them; neither equal nor different):{}",
            st.bold,
            st.bold.render_reset()
        );
        for n in &plan.not_verifiable {
            let _ = writeln!(out, "  {}/{}: {}", n.project, n.name, n.paths.join(", "));
        }
        out.push('\n');
    }
    if !plan.not_compared.is_empty() {
        let _ = writeln!(
            out,
            "{}Not compared (a variable is unset; apply needs it):{}",
            st.bold,
            st.bold.render_reset()
        );
        for n in &plan.not_compared {
            let _ = writeln!(
                out,
                "  {}/{}: {} not compared: `${}` is unset",
                n.project, n.name, n.path, n.var
            );
        }
        out.push('\n');
    }
    if let Some(note) = targeting_note(plan) {
        let _ = writeln!(out, "{}{note}{}\n", st.update, st.update.render_reset());
    }
    let _ = writeln!(
        out,
        "{}{}{}",
        st.bold,
        summary_line(plan, view),
        st.bold.render_reset()
    );
    out
}

/// Changes grouped per project, in the order given.
fn projects(out: &mut String, changes: &[&Change], view: View, st: &Styles) {
    let mut project: Option<&str> = None;
    for c in changes {
        if project != Some(c.project.as_str()) {
            project = Some(&c.project);
            let _ = writeln!(
                out,
                "{}Project {}{}",
                st.bold,
                c.project,
                st.bold.render_reset()
            );
        }
        change(out, c, view, st);
    }
}

fn change(out: &mut String, c: &Change, view: View, st: &Styles) {
    let style = if c.blocked.is_some() && view == View::Plan {
        st.blocked
    } else {
        st.action(c.action)
    };
    let verb = verb(c, view);
    let _ = writeln!(
        out,
        "  {style}{} {}{} ({}) {verb}{}",
        c.action.symbol(),
        c.name,
        style.render_reset(),
        c.kind,
        c.origin
            .as_deref()
            .map(|o| format!("  {}[{o}]{}", st.dim, st.dim.render_reset()))
            .unwrap_or_default()
    );
    if let Some(b) = &c.blocked {
        let _ = writeln!(
            out,
            "    {}blocked ({}):{} {}",
            st.blocked,
            b.guard(),
            st.blocked.render_reset(),
            notice::blocked_reason(b)
        );
    } else if !c.kept.is_empty() {
        let _ = writeln!(out, "    kept from live: {}", c.kept.join("; "));
        let _ = writeln!(
            out,
            "    {}the OpenAPI fallback would erase them:{} {}",
            st.dim,
            st.dim.render_reset(),
            if c.fallback_allowed {
                "allowed (--allow-erase)"
            } else {
                "refused without --allow-erase"
            }
        );
    } else if !c.erases.is_empty() {
        let _ = writeln!(
            out,
            "    {}erases:{} {}",
            st.delete,
            st.delete.render_reset(),
            c.erases.join("; ")
        );
    }
    if view == View::Plan
        && c.blocked.is_none()
        && let Some(w) = c.write_path
    {
        let _ = writeln!(
            out,
            "    {}write:{} {}",
            st.dim,
            st.dim.render_reset(),
            notice::write_path(w, c.action)
        );
    }
    let conflict = c.cause == Some(Cause::Both);
    for f in &c.fields {
        let _ = writeln!(
            out,
            "    {}: {} {}→{} {}{}",
            f.path,
            field_value(f.before.as_ref()),
            st.dim,
            st.dim.render_reset(),
            field_value(f.after.as_ref()),
            match f.cause {
                Some(fc) if conflict => format!("  ({})", cause_label(fc)),
                _ => String::new(),
            }
        );
    }
    if !c.diff.is_empty() {
        for line in c.diff.lines() {
            let s = if line.starts_with("+++") || line.starts_with("---") || line.starts_with("@@")
            {
                st.dim
            } else if line.starts_with('+') {
                st.create
            } else if line.starts_with('-') {
                st.delete
            } else {
                Style::new()
            };
            let _ = writeln!(out, "      {s}{line}{}", s.render_reset());
        }
    }
    out.push('\n');
}
