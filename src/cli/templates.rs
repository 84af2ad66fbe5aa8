//! The shell of the build-template kind ([`crate::core::kinds::build_template`]):
//! the definitions with `{from_env}` resolved, the live library read through
//! the client, and the planned changes made, phase by phase.

use crate::core::kinds::build_template::{
    self as kind, BuildTemplatesConfig, DesiredTemplate, LiveTemplate, Phase, TemplateAction,
    TemplateBlocked, TemplateChange, TemplatePlan,
};
use crate::core::kinds::{Address, build_template::BuildTemplateSpec};
use crate::core::load::LoadResult;
use crate::core::secrets::resolve_env;
use crate::zadig::Client;

/// The template definitions of a loaded directory, `{from_env}` resolved
/// where the variable is set, every credential value registered with the run's
/// scrubber. Empty when the directory does not manage templates.
pub fn desired(load: &LoadResult) -> Vec<DesiredTemplate> {
    if !load.config.build_templates.manage {
        return Vec::new();
    }
    let lookup = super::settings::env_var;
    load.templates
        .iter()
        .map(|t| {
            let (def, _missing) = resolve_env(&t.spec.to_def(), &lookup);
            let spec = BuildTemplateSpec::from_def(def).unwrap_or_else(|| t.spec.clone());
            for s in kind::credential_values(&spec) {
                super::redact::add_secret(&s);
            }
            DesiredTemplate {
                spec,
                origin: t.origin.to_string(),
            }
        })
        .collect()
}

/// Every live template that is not ignored, read in full with its
/// references. Credential variables are not masked by Zadig for templates:
/// each value is registered with the run's scrubber before anything prints.
pub async fn read_live(
    client: &Client,
    cfg: &BuildTemplatesConfig,
    catalog: &crate::core::catalog::Catalog,
) -> anyhow::Result<Vec<LiveTemplate>> {
    if !cfg.manage {
        return Ok(Vec::new());
    }
    let ignore = crate::core::load::exclude_set(&cfg.ignore);
    // Every template at once: the client bounds the requests in flight, and a
    // library is tens of templates, not thousands.
    let mut reads = tokio::task::JoinSet::new();
    let briefs = client.list_build_templates().await?;
    let mut out: Vec<Option<LiveTemplate>> = Vec::with_capacity(briefs.len());
    for (i, brief) in briefs.into_iter().enumerate() {
        if ignore.is_match(&brief.name) {
            out.push(Some(LiveTemplate {
                id: brief.id,
                name: brief.name,
                raw: String::new(),
                references: None,
            }));
            continue;
        }
        out.push(None);
        let client = client.clone();
        reads.spawn(async move {
            let raw = client.build_template_raw(&brief.id).await;
            let references = client.build_template_references(&brief.id).await.ok();
            (i, brief, raw, references)
        });
    }
    while let Some(done) = reads.join_next().await {
        let (i, brief, raw, references) = done?;
        let (_, raw) = raw?;
        if let Ok(n) = kind::normalize_live_template(&raw, catalog) {
            for s in kind::credential_values(&n.spec) {
                super::redact::add_secret(&s);
            }
        }
        out[i] = Some(LiveTemplate {
            id: brief.id,
            name: brief.name,
            raw: raw.into(),
            references,
        });
    }
    Ok(out.into_iter().flatten().collect())
}

/// What happened to one planned template change.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplateResult {
    /// Made.
    Done,
    /// Not made: a guard (the code's data).
    Skipped(TemplateBlocked),
    /// Not made: the template changed since the plan read it (fingerprint).
    ChangedSincePlan,
    /// The request failed.
    Failed(String),
}

/// One template change's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateOutcome {
    /// The template.
    pub address: Address,
    /// What was planned.
    pub action: TemplateAction,
    /// What happened.
    pub result: TemplateResult,
}

impl TemplateOutcome {
    /// True when a change it set out to make was not made (a guard's skip is not).
    pub fn failed(&self) -> bool {
        matches!(
            self.result,
            TemplateResult::ChangedSincePlan | TemplateResult::Failed(_)
        )
    }
}

/// Makes the changes of `phase`, in plan order. An update or delete first
/// re-reads the template: Zadig does not stamp `update_time` on template
/// writes, so a changed fingerprint is the only sign of a concurrent edit.
pub async fn apply_phase(
    client: &Client,
    plan: &TemplatePlan,
    phase: Phase,
) -> Vec<TemplateOutcome> {
    let mut out = Vec::new();
    for c in plan.in_phase(phase) {
        let result = apply_one(client, c).await;
        out.push(TemplateOutcome {
            address: c.address.clone(),
            action: c.action,
            result,
        });
    }
    out
}

async fn apply_one(client: &Client, c: &TemplateChange) -> TemplateResult {
    if let Some(b) = &c.blocked {
        return TemplateResult::Skipped(b.clone());
    }
    if let (Some(id), Some(fp)) = (&c.id, &c.live_fingerprint) {
        match client.build_template_raw(id).await {
            Ok((_, raw)) if kind::fingerprint(&raw) == *fp => {}
            Ok(_) => return TemplateResult::ChangedSincePlan,
            Err(e) => return TemplateResult::Failed(e.to_string()),
        }
    }
    let name = &c.address.name;
    let r = match (c.action, &c.id, &c.write_body) {
        (TemplateAction::Create, _, Some(body)) => client.create_build_template(name, body).await,
        (TemplateAction::Update, Some(id), Some(body)) => {
            client.update_build_template(id, name, body).await
        }
        (TemplateAction::Delete, Some(id), _) => client.delete_build_template(id).await,
        _ => return TemplateResult::Failed("the plan holds no request for this change".into()),
    };
    match r {
        Ok(_) => TemplateResult::Done,
        Err(e) => TemplateResult::Failed(e.to_string()),
    }
}

/// The catalog a template needs (images, clusters with their strategies).
async fn catalog(client: &Client) -> anyhow::Result<crate::core::catalog::Catalog> {
    let images = client.basic_images().await?;
    let clusters = client.clusters().await?;
    Ok(crate::core::catalog::Catalog::from_lookups(
        images.as_slice(),
        clusters.as_slice(),
        None,
        &[],
        &[],
    ))
}

/// Reads the library and plans it against the directory. No request at all
/// when the directory does not manage templates.
pub async fn plan_live(client: &Client, load: &LoadResult) -> anyhow::Result<TemplatePlan> {
    let cfg = &load.config.build_templates;
    if !cfg.manage {
        return Ok(TemplatePlan::default());
    }
    let catalog = catalog(client).await?;
    let desired = desired(load);
    let live = read_live(client, cfg, &catalog).await?;
    Ok(kind::plan(&desired, &live, cfg, &catalog))
}

/// Prints the templates' part of a plan (human and Markdown: before the
/// builds, which it is applied before; JSON: see [`json_plan`]).
pub fn print(
    printer: &super::printer::Printer,
    format: super::args::OutputFormat,
    load: &LoadResult,
    plan: &TemplatePlan,
) -> anyhow::Result<()> {
    if !load.config.build_templates.manage {
        return Ok(());
    }
    let text = match format {
        super::args::OutputFormat::Human if printer.quiet() => {
            format!("{}\n", crate::render::templates::summary(plan))
        }
        super::args::OutputFormat::Human => crate::render::templates::human(plan),
        super::args::OutputFormat::Markdown => crate::render::templates::markdown(plan),
        super::args::OutputFormat::Json => return Ok(()),
    };
    printer.out(&text)?;
    Ok(())
}

/// [`super::output::print_plan`] with the templates' part: in JSON under
/// `templates`, otherwise printed before the builds.
pub fn print_plan(
    plan: &crate::core::plan::Plan,
    view: crate::render::View,
    format: super::args::OutputFormat,
    load: &LoadResult,
    templates: &TemplatePlan,
    printer: &super::printer::Printer,
) -> anyhow::Result<()> {
    if !load.config.build_templates.manage {
        return super::output::print_plan(plan, view, format, &load.diagnostics, printer);
    }
    if format == super::args::OutputFormat::Json {
        let text = crate::render::json::render(plan, view, &load.diagnostics);
        printer.out(&crate::render::templates::with_json(&text, templates))?;
        return Ok(());
    }
    print(printer, format, load, templates)?;
    super::output::print_plan(plan, view, format, &load.diagnostics, printer)
}

/// `apply`'s last template step, after the builds: the deletes the first plan
/// had, planned again on a fresh read (a build deleted in this run no longer
/// references its template).
pub async fn apply_after(
    client: &Client,
    load: &LoadResult,
    first: &TemplatePlan,
    auto_approve: bool,
    saved: Option<&TemplatePlan>,
) -> anyhow::Result<Vec<TemplateOutcome>> {
    let deletes: Vec<&Address> = first
        .in_phase(Phase::AfterBuilds)
        .map(|c| &c.address)
        .collect();
    if deletes.is_empty() || !auto_approve {
        return Ok(Vec::new());
    }
    let mut again = plan_live(client, load).await?;
    again
        .changes
        .retain(|c| c.phase == Phase::AfterBuilds && deletes.contains(&&c.address));
    Ok(match saved {
        None => apply_phase(client, &again, Phase::AfterBuilds).await,
        Some(saved) => apply_as_saved(client, &again, saved, Phase::AfterBuilds).await,
    })
}

/// `apply PLANFILE`'s first template step: the library planned again, and of
/// it only the changes the saved plan has, each on the template as the saved
/// plan read it (its fingerprint); the rest is reported, never written.
pub async fn apply_before_saved(
    client: &Client,
    load: &LoadResult,
    saved: &TemplatePlan,
    printer: &super::printer::Printer,
) -> anyhow::Result<(TemplatePlan, Vec<TemplateOutcome>)> {
    if !saved.has_changes() {
        return Ok((TemplatePlan::default(), Vec::new()));
    }
    let fresh = plan_live(client, load).await?;
    let _ = printer;
    let done = apply_as_saved(client, &fresh, saved, Phase::BeforeBuilds).await;
    // The deletes after the builds: those of the saved plan.
    Ok((saved.clone(), done))
}

/// The changes of `saved` in `phase`, made from `fresh` where it still plans
/// the same change on the same read.
async fn apply_as_saved(
    client: &Client,
    fresh: &TemplatePlan,
    saved: &TemplatePlan,
    phase: Phase,
) -> Vec<TemplateOutcome> {
    let mut out = Vec::new();
    for s in saved.in_phase(phase) {
        let now = fresh
            .changes
            .iter()
            .find(|c| c.address == s.address && c.action == s.action);
        let result = match (&s.blocked, now) {
            // A saved block is reported as it was saved, never as another reason.
            (Some(blocked), _) => TemplateResult::Skipped(blocked.clone()),
            (None, None) => TemplateResult::ChangedSincePlan,
            (None, Some(c)) if c.live_fingerprint != s.live_fingerprint => {
                TemplateResult::ChangedSincePlan
            }
            (None, Some(c)) => apply_one(client, c).await,
        };
        out.push(TemplateOutcome {
            address: s.address.clone(),
            action: s.action,
            result,
        });
    }
    out
}

/// The outcomes as the renderers take them.
pub fn views(outcomes: &[TemplateOutcome]) -> Vec<crate::render::templates::OutcomeView> {
    use crate::render::templates::{OutcomeView, blocked_code, blocked_reason};
    outcomes
        .iter()
        .map(|o| {
            let (status, code, reason) = match &o.result {
                TemplateResult::Done => ("applied", None, None),
                TemplateResult::Skipped(b) => {
                    ("skipped", Some(blocked_code(b)), Some(blocked_reason(b)))
                }
                TemplateResult::ChangedSincePlan => (
                    "failed",
                    Some("changed_since_plan"),
                    Some("the template changed since the plan read it".to_owned()),
                ),
                TemplateResult::Failed(e) => ("failed", Some("write_failed"), Some(e.clone())),
            };
            OutcomeView {
                address: o.address.clone(),
                action: o.action,
                status,
                code,
                reason,
            }
        })
        .collect()
}
