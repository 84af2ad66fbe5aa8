//! The build-template part of a plan, in the human, Markdown and JSON views:
//! the words "template" and "templates" come from the kind registry.

use serde_json::{Value, json};

use super::plan::{BodyError, TemplateAction, TemplateBlocked, TemplatePlan};
use crate::kinds::KindId;

/// Why a template change is blocked, in words.
pub fn blocked_reason(b: &TemplateBlocked) -> String {
    match b {
        TemplateBlocked::TemplateReferenced { builds } => format!(
            "{builds} build{} still use{} it; delete or move {} first",
            if *builds == 1 { "" } else { "s" },
            if *builds == 1 { "s" } else { "" },
            if *builds == 1 { "it" } else { "them" },
        ),
        TemplateBlocked::TemplateReferencesUnknown => {
            "the builds that use it could not be listed".to_owned()
        }
        TemplateBlocked::TemplateProtected => "protected by build_templates.protect".to_owned(),
        TemplateBlocked::TemplateBodyUnavailable { cause } => match cause {
            BodyError::MissingEnv { path, var } => {
                format!("{path}: environment variable {var} is not set")
            }
            BodyError::NothingToKeep { path } => format!(
                "{path}: `keep: true` has no stored value to keep (Zadig does not restore masked template variables)"
            ),
            BodyError::Preserve { cause } => crate::render::notice::preserve_error(cause),
            BodyError::NotAnObject => "the stored template is not a JSON object".to_owned(),
        },
    }
}

/// The action's code and word.
pub fn verb(a: TemplateAction) -> &'static str {
    match a {
        TemplateAction::Create => "create",
        TemplateAction::Update => "update",
        TemplateAction::Delete => "delete",
    }
}

fn sign(a: TemplateAction) -> char {
    match a {
        TemplateAction::Create => '+',
        TemplateAction::Update => '~',
        TemplateAction::Delete => '-',
    }
}

/// The counts line.
pub fn summary(p: &TemplatePlan) -> String {
    let info = KindId::BuildTemplate.info();
    let count = |a| {
        p.changes
            .iter()
            .filter(|c| c.action == a && c.blocked.is_none())
            .count()
    };
    let blocked = p.changes.iter().filter(|c| c.blocked.is_some()).count();
    format!(
        "{}{}: {} to create, {} to update, {} to delete, {} blocked, {} unchanged, {} unmanaged.",
        info.plural[..1].to_uppercase(),
        &info.plural[1..],
        count(TemplateAction::Create),
        count(TemplateAction::Update),
        count(TemplateAction::Delete),
        blocked,
        p.unchanged.len(),
        p.unmanaged.len(),
    )
}

/// The human view (plain text; the diff lines as they are).
pub fn human(p: &TemplatePlan) -> String {
    let mut out = String::from("Build templates (applied before the builds; deletes after):\n");
    for c in &p.changes {
        let origin = c
            .origin
            .as_deref()
            .map(|o| format!("  ({o})"))
            .unwrap_or_default();
        match &c.blocked {
            Some(b) => out.push_str(&format!(
                "  ! {} ({} blocked: {}){origin}\n",
                c.address,
                verb(c.action),
                blocked_reason(b)
            )),
            None => out.push_str(&format!(
                "  {} {} ({}){origin}\n",
                sign(c.action),
                c.address,
                verb(c.action)
            )),
        }
        if !c.blast_radius.is_empty() {
            let list: Vec<String> = c.blast_radius.iter().map(ToString::to_string).collect();
            out.push_str(&format!(
                "      used by {} build{}: {}\n",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join(", ")
            ));
        }
        for line in c.diff.lines() {
            out.push_str(&format!("      {line}\n"));
        }
    }
    for (name, why) in &p.problems {
        out.push_str(&format!("  ? template {name}: {why}\n"));
    }
    if !p.not_compared.is_empty() {
        out.push_str("  Not compared (a variable is unset; apply needs it):\n");
        for n in &p.not_compared {
            out.push_str(&format!("    {}\n", not_compared(n)));
        }
    }
    out.push_str(&summary(p));
    out.push('\n');
    out
}

/// The Markdown view.
pub fn markdown(p: &TemplatePlan) -> String {
    let mut out = String::from("### Build templates\n\n");
    for c in &p.changes {
        let state = match &c.blocked {
            Some(b) => format!("**{} blocked**: {}", verb(c.action), blocked_reason(b)),
            None => format!("**{}**", verb(c.action)),
        };
        out.push_str(&format!("- `{}`: {state}\n", c.address));
        if !c.blast_radius.is_empty() {
            let list: Vec<String> = c.blast_radius.iter().map(|a| format!("`{a}`")).collect();
            out.push_str(&format!("  - used by: {}\n", list.join(", ")));
        }
        if !c.diff.is_empty() {
            out.push_str("\n  ```diff\n");
            for line in c.diff.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str("  ```\n");
        }
    }
    if !p.not_compared.is_empty() {
        out.push_str("\n<details><summary>Not compared: a variable is unset</summary>\n\n");
        for n in &p.not_compared {
            out.push_str(&format!("- `{}`\n", not_compared(n)));
        }
        out.push_str("\n</details>\n");
    }
    out.push_str(&format!("\n{}\n", summary(p)));
    out
}

/// One value that was not compared, in words.
fn not_compared(n: &super::plan::TemplateNotCompared) -> String {
    format!(
        "template {}: {} not compared: `${}` is unset",
        n.name, n.path, n.var
    )
}

/// The JSON view: the plan's data, each blocked change with its text.
pub fn json(p: &TemplatePlan) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Some(changes) = v.get_mut("changes").and_then(Value::as_array_mut) {
        for (c, data) in changes.iter_mut().zip(&p.changes) {
            if let (Some(obj), Some(b)) = (c.as_object_mut(), &data.blocked) {
                obj.insert("blocked_reason".into(), json!(blocked_reason(b)));
            }
        }
    }
    v
}

/// The apply report's template lines (human).
pub fn outcomes_human(outcomes: &[crate::kinds::KindOutcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        out.push_str(&format!(
            "{} {} ({}): {}{}\n",
            match o.status {
                "applied" => '✓',
                "skipped" => '!',
                _ => '✗',
            },
            o.address,
            o.action,
            o.status,
            o.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ));
    }
    out
}

/// A live template `import` could not write, in words.
pub fn not_imported(name: &str, why: &str) -> String {
    format!(
        "template {}: not imported: {why}",
        crate::core::validate::shown_name(name)
    )
}

/// `import --templates`' notes: how many, where, and how to manage them.
pub fn import_notes(written: usize, dir: &std::path::Path, unmanaged: bool) -> Vec<String> {
    let mut out = vec![format!(
        "imported {written} build template(s) into {}",
        dir.display()
    )];
    if unmanaged {
        out.push("zadig-sync.yaml does not manage templates: add `build_templates: {manage: true}` to plan them".to_owned());
    }
    out
}

/// The code of a guard.
pub fn blocked_code(b: &TemplateBlocked) -> &'static str {
    match b {
        TemplateBlocked::TemplateReferenced { .. } => "template_referenced",
        TemplateBlocked::TemplateReferencesUnknown => "template_references_unknown",
        TemplateBlocked::TemplateProtected => "template_protected",
        TemplateBlocked::TemplateBodyUnavailable { .. } => "template_body_unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::build_template::{Phase, TemplateChange};
    use crate::kinds::{Address, build_template};

    fn sample() -> TemplatePlan {
        TemplatePlan {
            changes: vec![
                TemplateChange {
                    address: build_template::address("go"),
                    action: TemplateAction::Update,
                    phase: Phase::BeforeBuilds,
                    id: Some("65c000000000000000000002".into()),
                    origin: Some("templates/go.yaml:2:7".into()),
                    diff: "--- live\n+++ desired\n@@ -1 +1 @@\n-timeout: 60\n+timeout: 30\n".into(),
                    blast_radius: vec![
                        Address::in_project(KindId::Build, "demo", "api"),
                        Address::in_project(KindId::Build, "web", "ui"),
                    ],
                    blocked: None,
                    live_fingerprint: Some("ab".into()),
                    write_body: None,
                },
                TemplateChange {
                    address: build_template::address("used"),
                    action: TemplateAction::Delete,
                    phase: Phase::AfterBuilds,
                    id: Some("65c000000000000000000003".into()),
                    origin: None,
                    diff: String::new(),
                    blast_radius: vec![Address::in_project(KindId::Build, "demo", "api")],
                    blocked: Some(TemplateBlocked::TemplateReferenced { builds: 1 }),
                    live_fingerprint: Some("cd".into()),
                    write_body: None,
                },
            ],
            unchanged: vec!["same".into()],
            ..TemplatePlan::default()
        }
    }

    #[test]
    fn the_views_say_template_and_list_the_blast_radius() {
        let p = sample();
        insta::assert_snapshot!("templates_human", human(&p));
        insta::assert_snapshot!("templates_markdown", markdown(&p));
        let v = json(&p);
        assert_eq!(v["changes"][1]["blocked"]["code"], "template_referenced");
        assert_eq!(
            v["changes"][1]["blocked_reason"],
            "1 build still uses it; delete or move it first"
        );
        assert_eq!(
            v["changes"][0]["blast_radius"][1],
            json!({"kind": "build", "project": "web", "name": "ui"})
        );
        assert!(v["changes"][0].get("write_body").is_none());
    }
}
