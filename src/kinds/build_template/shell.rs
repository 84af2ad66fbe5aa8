//! The shell of the build-template kind ([`crate::kinds::build_template`]):
//! the definitions with `{from_env}` resolved, the live library read through
//! the client, and the planned changes made, phase by phase.

use super::plan::{
    self as kind, DesiredTemplate, LiveTemplate, Phase, TemplateAction, TemplateBlocked,
    TemplateChange, TemplatePlan,
};
use super::spec::{BuildTemplateSpec, BuildTemplatesConfig};
use crate::cli::driver::{Driver, Fut, ImportRead, KindImport, KindOutcome, PlanPart, SavedParts};
use crate::cli::printer::Printer;
use crate::core::catalog::Catalog;
use crate::core::import::{Names, file_stem};
use crate::core::load::LoadResult;
use crate::core::model::Config;
use crate::core::secrets::resolve_env;
use crate::kinds::Address;
use crate::zadig::Client;

/// The template definitions of a loaded directory, `{from_env}` resolved
/// where the variable is set, every credential value registered with the run's
/// scrubber. Empty when the directory does not manage templates.
pub fn desired(load: &LoadResult) -> Vec<DesiredTemplate> {
    if !load.config.build_templates.manage {
        return Vec::new();
    }
    let lookup = crate::cli::settings::env_var;
    kind::loaded(load)
        .into_iter()
        .map(|(t, origin)| {
            let (def, _missing) = resolve_env(&t.to_def(), &lookup);
            let spec = BuildTemplateSpec::from_def(def).unwrap_or_else(|| t.clone());
            for s in kind::credential_values(&spec) {
                crate::cli::redact::add_secret(&s);
            }
            DesiredTemplate {
                spec,
                origin: origin.to_string(),
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
                crate::cli::redact::add_secret(&s);
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
) -> anyhow::Result<Vec<TemplateOutcome>> {
    if !saved.has_changes() {
        return Ok(Vec::new());
    }
    let fresh = plan_live(client, load).await?;
    Ok(apply_as_saved(client, &fresh, saved, Phase::BeforeBuilds).await)
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

/// The kind's driver: what the engine calls (see [`crate::cli::driver`]).
pub struct TemplateDriver;

/// The registry's instance.
pub static DRIVER: TemplateDriver = TemplateDriver;

/// The saved plan's keys of this kind (saved-plan format 3).
const SAVED_DEFINITIONS: &str = "template_definitions";
const SAVED_PLAN: &str = "templates";

/// One build template definition as saved.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct SavedTemplate {
    /// Its file, relative to the directory.
    pub file: String,
    /// Line of its name.
    pub line: usize,
    /// The definition, literal credential values replaced by `(sensitive)`.
    pub definition: serde_json::Value,
    /// Paths of the literal credential values that were not saved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub literal_credentials: Vec<String>,
}

impl PlanPart for TemplatePlan {
    fn has_changes(&self) -> bool {
        TemplatePlan::has_changes(self)
    }
    fn change_count(&self) -> usize {
        self.changes.len()
    }
    fn summary(&self) -> String {
        super::view::summary(self)
    }
    fn human(&self) -> String {
        super::view::human(self)
    }
    fn markdown(&self) -> String {
        super::view::markdown(self)
    }
    fn json(&self) -> serde_json::Value {
        super::view::json(self)
    }
    fn saved(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// This kind's data behind a part. Another kind's part is an error, not an
/// empty plan: an empty plan would silently apply (or save) nothing.
fn own(part: &dyn PlanPart) -> anyhow::Result<TemplatePlan> {
    part.as_any()
        .downcast_ref::<TemplatePlan>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the template driver was given another kind's plan part"))
}

fn outcomes(list: Vec<TemplateOutcome>) -> Vec<KindOutcome> {
    list.iter()
        .map(|o| {
            let (status, code, reason) = match &o.result {
                TemplateResult::Done => ("applied", None, None),
                TemplateResult::Skipped(b) => (
                    "skipped",
                    Some(super::view::blocked_code(b)),
                    Some(super::view::blocked_reason(b)),
                ),
                TemplateResult::ChangedSincePlan => (
                    "failed",
                    Some("changed_since_plan"),
                    Some("the template changed since the plan read it".to_owned()),
                ),
                TemplateResult::Failed(e) => ("failed", Some("write_failed"), Some(e.clone())),
            };
            KindOutcome {
                address: o.address.clone(),
                action: super::view::verb(o.action),
                status,
                code,
                reason,
            }
        })
        .collect()
}

impl Driver for TemplateDriver {
    fn info(&self) -> &'static crate::kinds::KindInfo {
        crate::kinds::KindId::BuildTemplate.info()
    }

    fn json_key(&self) -> &'static str {
        "templates"
    }

    fn managed(&self, load: &LoadResult) -> bool {
        load.config.build_templates.manage
    }

    fn empty(&self) -> Box<dyn PlanPart> {
        Box::new(TemplatePlan::default())
    }

    fn plan<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
    ) -> Fut<'a, anyhow::Result<Box<dyn PlanPart>>> {
        Box::pin(async move {
            let p: Box<dyn PlanPart> = Box::new(plan_live(client, load).await?);
            Ok(p)
        })
    }

    fn save(&self, load: &LoadResult, part: &dyn PlanPart, out: &mut SavedParts) {
        if !self.managed(load) {
            return;
        }
        let definitions: Vec<SavedTemplate> = kind::loaded(load)
            .into_iter()
            .map(|(t, origin)| {
                let (definition, literal_credentials) = crate::cli::planfile::redacted(&t.to_def());
                SavedTemplate {
                    file: origin.file.clone(),
                    line: origin.line,
                    definition,
                    literal_credentials,
                }
            })
            .collect();
        if !definitions.is_empty() {
            out.insert(
                SAVED_DEFINITIONS.into(),
                serde_json::to_value(definitions).unwrap_or_default(),
            );
        }
        if part.has_changes() {
            out.insert(SAVED_PLAN.into(), part.saved());
        }
    }

    fn read_saved(&self, saved: &SavedParts) -> anyhow::Result<Box<dyn PlanPart>> {
        let plan = match saved.get(SAVED_PLAN) {
            Some(v) => serde_json::from_value::<TemplatePlan>(v.clone())
                .map_err(|e| anyhow::anyhow!("the plan file's `{SAVED_PLAN}` is damaged: {e}"))?,
            None => TemplatePlan::default(),
        };
        Ok(Box::new(plan))
    }

    fn load_saved(
        &self,
        saved: &SavedParts,
        part: &dyn PlanPart,
        load: &mut LoadResult,
        literal: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let plan = own(part)?;
        let writes: std::collections::BTreeSet<&str> = plan
            .changes
            .iter()
            .filter(|c| c.blocked.is_none() && c.action != TemplateAction::Delete)
            .map(|c| c.address.name.as_str())
            .collect();
        let definitions: Vec<SavedTemplate> = match saved.get(SAVED_DEFINITIONS) {
            Some(v) => serde_json::from_value(v.clone())
                .with_context(|| format!("the plan file's `{SAVED_DEFINITIONS}` are damaged"))?,
            None => Vec::new(),
        };
        for t in &definitions {
            let spec =
                serde_json::from_value::<crate::core::model::BuildSpec>(t.definition.clone())
                    .map(BuildTemplateSpec::from_build)
                    .with_context(|| {
                        format!(
                            "the plan file's template from {}:{} is damaged",
                            t.file, t.line
                        )
                    })?;
            if !t.literal_credentials.is_empty() && writes.contains(spec.name.as_str()) {
                literal.push(format!(
                    "template {}: {}",
                    spec.name,
                    t.literal_credentials.join(", ")
                ));
            }
            load.others.push(crate::core::load::LoadedDoc {
                kind: crate::kinds::KindId::BuildTemplate,
                name: spec.name.clone(),
                value: serde_json::to_value(&spec)?,
                origin: crate::core::load::Origin {
                    file: t.file.clone(),
                    line: t.line,
                    column: 1,
                    document: 0,
                },
            });
        }
        Ok(())
    }

    fn change_noun(&self) -> &'static str {
        "build-template change"
    }

    fn apply_before<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
        plan: &'a dyn PlanPart,
        saved: Option<&'a dyn PlanPart>,
    ) -> Fut<'a, anyhow::Result<Vec<KindOutcome>>> {
        Box::pin(async move {
            let done = match saved {
                None => apply_phase(client, &own(plan)?, Phase::BeforeBuilds).await,
                Some(saved) => apply_before_saved(client, load, &own(saved)?).await?,
            };
            Ok(outcomes(done))
        })
    }

    fn apply_after<'a>(
        &'a self,
        client: &'a Client,
        load: &'a LoadResult,
        first: &'a dyn PlanPart,
        saved: Option<&'a dyn PlanPart>,
    ) -> Fut<'a, anyhow::Result<Vec<KindOutcome>>> {
        Box::pin(async move {
            let saved = saved.map(own).transpose()?;
            let done = apply_after(client, load, &own(first)?, true, saved.as_ref()).await?;
            Ok(outcomes(done))
        })
    }

    fn outcomes_human(&self, outcomes: &[KindOutcome]) -> String {
        super::view::outcomes_human(outcomes)
    }

    fn import_read<'a>(
        &'a self,
        client: &'a Client,
        config: Option<&'a Config>,
        catalog: &'a Catalog,
    ) -> Fut<'a, anyhow::Result<ImportRead>> {
        Box::pin(async move {
            // Read as if managed: the import is what adopts the library.
            let cfg = BuildTemplatesConfig {
                manage: true,
                ..config
                    .map(|c| c.build_templates.clone())
                    .unwrap_or_default()
            };
            let live = read_live(client, &cfg, catalog).await?;
            let read: ImportRead = Box::new(live);
            Ok(read)
        })
    }

    fn import_files(
        &self,
        read: ImportRead,
        config: Option<&Config>,
        catalog: &Catalog,
        names: &mut Names,
        printer: &Printer,
    ) -> anyhow::Result<KindImport> {
        // Another kind's read is an error, not an empty library: an empty
        // one would import nothing and say it succeeded.
        let live = *read.downcast::<Vec<LiveTemplate>>().map_err(|_| {
            anyhow::anyhow!("the template driver was given another kind's import read")
        })?;
        let ignore = crate::core::load::exclude_set(
            &config
                .map(|c| c.build_templates.ignore.clone())
                .unwrap_or_default(),
        );
        let mut out = KindImport {
            dir: IMPORT_DIR,
            ..KindImport::default()
        };
        for t in &live {
            if ignore.is_match(&t.name) {
                continue;
            }
            match kind::import(&t.raw, catalog, "../schemas/definition.schema.json", names) {
                Ok(i) => {
                    let file = format!("{}.yaml", file_stem(&t.name));
                    out.files.push((file, i.text, i.env_vars));
                }
                Err(why) => printer.warn(&super::view::not_imported(&t.name, &why)),
            }
        }
        Ok(out)
    }

    fn import_notes(
        &self,
        written: usize,
        dir: &std::path::Path,
        config: Option<&Config>,
    ) -> Vec<String> {
        super::view::import_notes(
            written,
            dir,
            config.is_some_and(|c| !c.build_templates.manage),
        )
    }

    fn import_config(&self) -> &'static str {
        "build_templates:\n  manage: true\n  prune: false\n"
    }
}

/// Where `import --templates` writes the library, below the output directory.
const IMPORT_DIR: &str = "build_templates";

#[cfg(test)]
mod tests {
    use super::*;

    /// A part of some other kind.
    #[derive(Debug)]
    struct Foreign;

    impl PlanPart for Foreign {
        fn has_changes(&self) -> bool {
            true
        }
        fn change_count(&self) -> usize {
            1
        }
        fn summary(&self) -> String {
            String::new()
        }
        fn human(&self) -> String {
            String::new()
        }
        fn markdown(&self) -> String {
            String::new()
        }
        fn json(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
        fn saved(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    #[test]
    fn another_kinds_part_or_import_read_is_an_error_not_an_empty_one() {
        assert!(own(&Foreign).is_err());
        assert_eq!(
            own(&TemplatePlan::default()).ok(),
            Some(TemplatePlan::default())
        );
        let wrong: ImportRead = Box::new(42u8);
        let got = DRIVER.import_files(
            wrong,
            None,
            &Catalog::default(),
            &mut Names::default(),
            &Printer::plain(),
        );
        assert!(got.is_err());
        let right: ImportRead = Box::<Vec<LiveTemplate>>::default();
        let got = DRIVER
            .import_files(
                right,
                None,
                &Catalog::default(),
                &mut Names::default(),
                &Printer::plain(),
            )
            .unwrap();
        assert!(got.files.is_empty());
        assert_eq!(got.dir, IMPORT_DIR);
    }
}
