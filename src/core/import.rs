//! Turning a live build into a definition file: the normalised form, with
//! server defaults left out, no secret values, and a note on what an apply
//! would erase.

use super::canonical::to_yaml;
use super::catalog::Catalog;
use super::live::LiveBuild;
use super::model::{BuildDef, CacheDirType, Infrastructure, ParamValue};
use super::normalize::{default_advanced_settings, is_no_strategy, normalize_live, template_input};
use super::notice::NotImportedReason;

/// How credential values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `{from_env: ZADIG_SECRET_<BUILD>_<KEY>}`.
    FromEnv,
    /// `{keep: true}` (plain builds only: Zadig cannot keep template inputs).
    Keep,
}

/// A build ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The definition.
    pub def: BuildDef,
    /// The file's text.
    pub text: String,
    /// Environment variables the user must provide for its credentials.
    pub env_vars: Vec<String>,
    /// UI-only settings an apply would erase.
    pub erases: Vec<String>,
    /// Fields that could not be read (OpenAPI-only mode).
    pub not_verifiable: Vec<String>,
}

/// Why a build is not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotImported {
    /// The reason.
    pub reason: NotImportedReason,
}

/// The variable name for a credential: `ZADIG_SECRET_<BUILD>_<KEY>`, upper
/// case, anything but letters and digits turned into `_`.
pub fn env_var_name(build: &str, key: &str) -> String {
    env_var_name_of(&[build, key])
}

/// `ZADIG_SECRET_` and the parts, cleaned as in [`env_var_name`], joined by `_`.
fn env_var_name_of(parts: &[&str]) -> String {
    let clean = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    let parts: Vec<String> = parts.iter().map(|p| clean(p)).collect();
    format!("ZADIG_SECRET_{}", parts.join("_"))
}

/// Hands out credential variable names, unique within one import: cleaning
/// can make two keys (or two builds) one name (`a.b` and `a_b`), so a name
/// taken gets `_2`, `_3`, ….
#[derive(Debug, Default)]
pub struct Names(std::collections::BTreeSet<String>);

impl Names {
    /// `name`, or the first of `name_2`, `name_3`, … not handed out yet.
    pub fn unique(&mut self, name: String) -> String {
        let mut candidate = name.clone();
        let mut n = 2;
        while !self.0.insert(candidate.clone()) {
            candidate = format!("{name}_{n}");
            n += 1;
        }
        candidate
    }
}

/// The file name (without `.yaml`) of a build or project directory: an
/// injective and visible encoding. ASCII letters, digits, `-` and `_` stay as
/// they are, and `.` too except in first place; every other byte of the UTF-8
/// name (`%` included) is written `%XX`. So no two names share a file, no
/// file is hidden (or `.`/`..`), and no name reaches outside the directory.
pub fn file_stem(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => out.push(char::from(b)),
            b'.' if i > 0 => out.push('.'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.is_empty() {
        // Only an empty name; never a hidden `.yaml`. A lone `%` is no other
        // name's encoding (every other `%` has two hex digits after it).
        out.push('%');
    }
    out
}

/// Converts one live build.
pub fn import_build(
    live: &LiveBuild,
    catalog: &Catalog,
    mode: Credentials,
    schema_path: &str,
) -> Result<Imported, NotImported> {
    import_build_with(live, catalog, mode, schema_path, &mut Names::default())
}

/// Converts one live build, its credential variables unique among `names`
/// (shared by the builds of one import).
pub fn import_build_with(
    live: &LiveBuild,
    catalog: &Catalog,
    mode: Credentials,
    schema_path: &str,
    names: &mut Names,
) -> Result<Imported, NotImported> {
    if live.is_read_only() {
        return Err(NotImported {
            reason: NotImportedReason::ReadOnly {
                source: live.brief.source.clone(),
            },
        });
    }
    let normalized = normalize_live(live, catalog);
    let Some(mut def) = normalized.def else {
        return Err(NotImported {
            reason: NotImportedReason::NotRead,
        });
    };
    let mut env_vars = Vec::new();
    let name = def.name().to_owned();
    match &mut def {
        BuildDef::Build(b) => {
            for p in b.parameters.iter_mut().filter(|p| p.is_credential) {
                p.default_value = match mode {
                    Credentials::Keep => ParamValue::Keep,
                    Credentials::FromEnv => {
                        let var = names.unique(env_var_name(&name, &p.key));
                        env_vars.push(var.clone());
                        ParamValue::FromEnv(var)
                    }
                };
            }
            // Leave out what Zadig fills in anyway.
            let kubernetes = b.infrastructure == Infrastructure::Kubernetes;
            if let Some(adv) = &mut b.advanced_settings {
                // "No strategy" (a dangling id) cannot be written: the file
                // gets the default, and the plan shows the change.
                if is_no_strategy(&adv.strategy_name) {
                    adv.strategy_name.clear();
                }
                // `user_defined` is the default mode of an enabled cache.
                if adv.cache_setting.dir_type == Some(CacheDirType::UserDefined) {
                    adv.cache_setting.dir_type = None;
                }
                if *adv == default_advanced_settings(catalog) {
                    b.advanced_settings = None;
                } else if kubernetes
                    && catalog.effective_strategy(&adv.cluster_name, "").as_deref()
                        == Some(adv.strategy_name.as_str())
                {
                    // "" runs with the default strategy, but only Kubernetes
                    // builds get it filled in (one-read §2.3).
                    adv.strategy_name.clear();
                }
            }
        }
        BuildDef::Template(t) => {
            // Every input that differs from the template's current value,
            // and only those (build-api-ui-made.md §4).
            if let Some(vars) = catalog.template_vars_by_name(&t.template_name) {
                for ts in &mut t.target_services {
                    ts.inputs.retain(|i| {
                        vars.iter()
                            .find(|v| v.key == i.key)
                            .is_none_or(|v| template_input(v) != *i)
                    });
                }
            }
            for ts in &mut t.target_services {
                // One variable per build, target and key: two targets of a
                // template build often have the same input (issue 12, #16).
                // Always `{from_env}`: template inputs cannot keep a value.
                for i in ts.inputs.iter_mut().filter(|i| i.is_credential) {
                    let var = names.unique(env_var_name_of(&[
                        &name,
                        &ts.service_name,
                        &ts.service_module,
                        &i.key,
                    ]));
                    env_vars.push(var.clone());
                    i.value = ParamValue::FromEnv(var);
                }
            }
        }
    }
    let mut text = format!(
        "# yaml-language-server: $schema={schema_path}\n# Imported by zadig-sync from project `{}`.\n",
        def.project_key()
    );
    if !normalized.erases.is_empty() {
        text.push_str(&format!(
            "# NOTE: this build has settings this file cannot express: {}.\n\
             # An apply keeps them (the preserving write, PUT /api/aslan/build/build); only the OpenAPI\n\
             # fallback (no Build.Edit, an OpenAPI-only gateway) would erase them, and it needs --allow-erase.\n",
            normalized.erases.join("; ")
        ));
    }
    if !normalized.not_verifiable.is_empty() {
        text.push_str(&format!(
            "# NOTE: this server did not show these fields, check them by hand: {}.\n",
            normalized.not_verifiable.join(", ")
        ));
    }
    text.push_str(&to_yaml(&def));
    Ok(Imported {
        def,
        text,
        env_vars,
        erases: normalized.erases,
        not_verifiable: normalized.not_verifiable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_injective_visible_and_stay_inside() {
        let names = [
            "x_y", ".x_y", "...", ".", "..", "a/b", "a%2Fb", "a\\b", "a\nb", "ünï", "", "api",
            "api.v2", "%",
        ];
        let stems: Vec<String> = names.iter().map(|n| file_stem(n)).collect();
        let unique: std::collections::BTreeSet<&String> = stems.iter().collect();
        assert_eq!(unique.len(), names.len(), "{stems:?}");
        for s in &stems {
            assert!(!s.starts_with('.'), "{s}");
            assert!(!s.contains('/') && !s.contains('\\'), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_graphic()), "{s}");
        }
        assert_eq!(file_stem("demo-api"), "demo-api");
        assert_eq!(file_stem("api.v2"), "api.v2");
        assert_eq!(file_stem("..."), "%2E..");
        assert_eq!(file_stem(".x_y"), "%2Ex_y");
    }

    proptest::proptest! {
        #[test]
        fn file_stem_is_injective(a in "\\PC{0,8}", b in "\\PC{0,8}") {
            proptest::prop_assume!(a != b);
            proptest::prop_assert_ne!(file_stem(&a), file_stem(&b));
        }
    }

    #[test]
    fn env_var_names_are_safe() {
        assert_eq!(
            env_var_name("demo-api", "npm.token"),
            "ZADIG_SECRET_DEMO_API_NPM_TOKEN"
        );
        assert_eq!(env_var_name("ünï", "k"), "ZADIG_SECRET__N__K");
    }

    #[test]
    fn names_are_unique_within_a_build() {
        let mut names = Names::default();
        let a = names.unique(env_var_name("b", "a.b"));
        let b = names.unique(env_var_name("b", "a_b"));
        let c = names.unique(env_var_name("b", "a-b"));
        assert_eq!(
            [a.as_str(), b.as_str(), c.as_str()],
            [
                "ZADIG_SECRET_B_A_B",
                "ZADIG_SECRET_B_A_B_2",
                "ZADIG_SECRET_B_A_B_3"
            ]
        );
    }
}
