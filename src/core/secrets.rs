//! Credential values: resolving `{from_env}` and `{keep}`, and masking values
//! before anything is rendered. Fail-closed: every value that is a credential on
//! either side of a comparison is replaced before a diff or a YAML text is made.

use super::model::{BuildDef, MASK, ParamValue};

/// What every output shows in place of a credential value.
pub const SENSITIVE: &str = "(sensitive)";
/// What every output shows for a credential value that changes.
pub const SENSITIVE_CHANGED: &str = "(sensitive value changed)";

/// A `{from_env: NAME}` whose variable is not set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingEnv {
    /// Path of the value, e.g. `parameters[TOKEN].default_value`.
    pub path: String,
    /// The variable.
    pub var: String,
}

/// Replaces `{from_env: NAME}` values with the variable's value, read through
/// `lookup` (the environment, in the shell). Unset variables are returned and
/// their values left as they are.
pub fn resolve_env(
    def: &BuildDef,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (BuildDef, Vec<MissingEnv>) {
    let mut def = def.clone();
    let (missing, _) = resolve_env_in_place(&mut def, lookup);
    (def, missing)
}

/// [`resolve_env`] on the definition itself, without a copy. Also says
/// whether any value was replaced (when none was, the definition is as
/// loaded).
pub fn resolve_env_in_place(
    def: &mut BuildDef,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (Vec<MissingEnv>, bool) {
    let mut missing = Vec::new();
    let mut replaced = false;
    for_each_value(def, &mut |path, _credential, value| {
        if let ParamValue::FromEnv(var) = value {
            match lookup(var) {
                Some(v) => {
                    *value = ParamValue::Literal(v);
                    replaced = true;
                }
                None => missing.push(MissingEnv {
                    path: path.to_owned(),
                    var: var.clone(),
                }),
            }
        }
    });
    (missing, replaced)
}

/// The values of the `{from_env}` variables a run's definitions name, read
/// from the environment once by the shell. A definition is held as loaded,
/// and resolved with these each time it is unpacked
/// ([`super::plan::DesiredBuild::def`]): nothing is packed twice, and a saved
/// plan records the definition as loaded without keeping a second copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvValues(std::collections::BTreeMap<String, String>);

impl FromIterator<(String, String)> for EnvValues {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(vars: I) -> Self {
        EnvValues(vars.into_iter().collect())
    }
}

impl EnvValues {
    /// The value of `var`, when it is set.
    pub fn get(&self, var: &str) -> Option<String> {
        self.0.get(var).cloned()
    }

    /// Whether no variable is recorded (resolving then changes nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The body to send: `{keep: true}` becomes Zadig's mask `********`, which a
/// non-template update turns back into the stored value (§5.2). `None` if a
/// `{from_env}` is still unresolved.
pub fn wire_body(def: &BuildDef) -> Option<BuildDef> {
    let mut def = def.clone();
    let mut ok = true;
    for_each_value(&mut def, &mut |_, _, value| match value {
        ParamValue::Keep => *value = ParamValue::Literal(MASK.to_owned()),
        ParamValue::FromEnv(_) => ok = false,
        ParamValue::Literal(_) => {}
    });
    ok.then_some(def)
}

/// For comparison: a desired value that is not a literal (`{keep}`, or an
/// unresolved `{from_env}`) takes the live value, so it never shows as a change.
/// Returns the paths taken over that were unresolved `{from_env}` values.
pub fn adopt_live_values(desired: &mut BuildDef, live: &BuildDef) -> Vec<String> {
    let live_values = collect(live);
    let mut unresolved = Vec::new();
    for_each_value(desired, &mut |path, _, value| {
        if matches!(value, ParamValue::Literal(_)) {
            return;
        }
        if matches!(value, ParamValue::FromEnv(_)) {
            unresolved.push(path.to_owned());
        }
        if let Some((_, _, v)) = live_values.iter().find(|(p, _, _)| p == path) {
            *value = v.clone();
        }
    });
    unresolved
}

/// Masks every credential value of `before` and `after` (either may be absent,
/// for a create or a delete). A value is a credential when it is marked so on
/// either side. Equal values become [`SENSITIVE`] on both sides; a changed one
/// becomes [`SENSITIVE`] before and [`SENSITIVE_CHANGED`] after.
pub fn mask_pair(before: Option<&mut BuildDef>, after: Option<&mut BuildDef>) {
    let b_vals = before.as_deref().map(collect).unwrap_or_default();
    let a_vals = after.as_deref().map(collect).unwrap_or_default();
    let is_secret = |path: &str| {
        b_vals
            .iter()
            .chain(&a_vals)
            .any(|(p, c, _)| p == path && *c)
    };
    let value_of = |vals: &[(String, bool, ParamValue)], path: &str| {
        vals.iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, _, v)| v.clone())
    };
    if let Some(b) = before {
        for_each_value(b, &mut |path, _, value| {
            if is_secret(path) && !value.is_empty() {
                *value = ParamValue::Literal(SENSITIVE.to_owned());
            }
        });
    }
    if let Some(a) = after {
        for_each_value(a, &mut |path, _, value| {
            if !is_secret(path) || value.is_empty() {
                return;
            }
            let changed = value_of(&b_vals, path).is_some_and(|b| b != *value);
            *value = ParamValue::Literal(
                if changed {
                    SENSITIVE_CHANGED
                } else {
                    SENSITIVE
                }
                .to_owned(),
            );
        });
    }
}

/// Every literal credential value of a definition (resolved `{from_env}`
/// values included), for the run's scrubber. Zadig's mask is left out.
pub fn credential_values(def: &BuildDef) -> Vec<String> {
    // Read in place: no copy of the definition, no paths (this runs for
    // every build of a directory).
    let mut out = Vec::new();
    visit_values(def, &mut |credential, v| match v {
        ParamValue::Literal(s) if credential && !s.is_empty() && s != MASK => out.push(s.clone()),
        _ => {}
    });
    out
}

/// Calls `f(is_credential, value)` for every value [`for_each_value`] visits,
/// read-only.
fn visit_values(def: &BuildDef, f: &mut dyn FnMut(bool, &ParamValue)) {
    match def {
        BuildDef::Build(b) => {
            for p in &b.parameters {
                f(p.is_credential, &p.default_value);
            }
        }
        BuildDef::Template(t) => {
            for ts in &t.target_services {
                for i in &ts.inputs {
                    f(i.is_credential, &i.value);
                }
            }
        }
    }
}

fn collect(def: &BuildDef) -> Vec<(String, bool, ParamValue)> {
    let mut def = def.clone();
    let mut out = Vec::new();
    for_each_value(&mut def, &mut |path, credential, value| {
        out.push((path.to_owned(), credential, value.clone()));
    });
    out
}

/// Calls `f(path, is_credential, value)` for every parameter and input value.
fn for_each_value(def: &mut BuildDef, f: &mut dyn FnMut(&str, bool, &mut ParamValue)) {
    match def {
        BuildDef::Build(b) => {
            for p in &mut b.parameters {
                let path = format!("parameters[{}].default_value", p.key);
                f(&path, p.is_credential, &mut p.default_value);
            }
        }
        BuildDef::Template(t) => {
            for ts in &mut t.target_services {
                for i in &mut ts.inputs {
                    let path = format!(
                        "target_services[{}/{}].inputs[{}].value",
                        ts.service_name, ts.service_module, i.key
                    );
                    f(&path, i.is_credential, &mut i.value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{BuildSpec, Infrastructure, ParamType, Parameter, ScriptType};

    fn build(params: Vec<Parameter>) -> BuildDef {
        BuildDef::Build(BuildSpec {
            kind: None,
            name: "b".into(),
            project_key: "p".into(),
            infrastructure: Infrastructure::Kubernetes,
            build_os: "ubuntu 20.04".into(),
            installs: vec![],
            script_type: ScriptType::Shell,
            build_script: String::new(),
            repo_info: vec![],
            parameters: params,
            services: vec![],
            docker_build_step: None,
            advanced_settings: None,
        })
    }

    fn param(key: &str, credential: bool, v: ParamValue) -> Parameter {
        Parameter {
            key: key.into(),
            param_type: ParamType::String,
            default_value: v,
            choice_option: vec![],
            choice_value: vec![],
            is_credential: credential,
            description: String::new(),
        }
    }

    fn values(def: &BuildDef) -> Vec<ParamValue> {
        collect(def).into_iter().map(|(_, _, v)| v).collect()
    }

    #[test]
    fn from_env_is_resolved_and_missing_variables_are_reported() {
        let def = build(vec![
            param("A", true, ParamValue::FromEnv("SET".into())),
            param("B", true, ParamValue::FromEnv("UNSET".into())),
        ]);
        let (resolved, missing) = resolve_env(&def, &|v| (v == "SET").then(|| "s3cret".to_owned()));
        assert_eq!(values(&resolved)[0], ParamValue::Literal("s3cret".into()));
        assert_eq!(
            missing,
            vec![MissingEnv {
                path: "parameters[B].default_value".into(),
                var: "UNSET".into()
            }]
        );
        assert!(
            wire_body(&resolved).is_none(),
            "an unresolved value is never sent"
        );
    }

    #[test]
    fn keep_is_sent_as_the_mask() {
        let def = build(vec![param("A", true, ParamValue::Keep)]);
        let body = wire_body(&def).expect("resolved");
        assert_eq!(values(&body), vec![ParamValue::Literal(MASK.into())]);
    }

    #[test]
    fn keep_takes_the_live_value_for_comparison() {
        let mut desired = build(vec![param("A", true, ParamValue::Keep)]);
        let live = build(vec![param("A", true, ParamValue::Literal("live".into()))]);
        assert!(adopt_live_values(&mut desired, &live).is_empty());
        assert_eq!(desired, live);
    }

    #[test]
    fn masking_hides_values_and_tells_a_change() {
        let mut before = build(vec![
            param("SAME", true, ParamValue::Literal("x".into())),
            param("DIFF", true, ParamValue::Literal("old".into())),
            param("PLAIN", false, ParamValue::Literal("visible".into())),
        ]);
        let mut after = build(vec![
            param("SAME", true, ParamValue::Literal("x".into())),
            param("DIFF", false, ParamValue::Literal("new".into())),
            param("PLAIN", false, ParamValue::Literal("visible".into())),
        ]);
        mask_pair(Some(&mut before), Some(&mut after));
        let lit = |s: &str| ParamValue::Literal(s.into());
        assert_eq!(
            values(&before),
            vec![lit(SENSITIVE), lit(SENSITIVE), lit("visible")]
        );
        assert_eq!(
            values(&after),
            vec![lit(SENSITIVE), lit(SENSITIVE_CHANGED), lit("visible")]
        );
    }
}
