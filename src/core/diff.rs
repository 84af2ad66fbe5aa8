//! Field-level differences between two canonical build values, and the
//! unified diff of their YAML.
//!
//! Lists of objects with an identity (`key`, `name`, or a service and module)
//! are compared by identity, so a path reads `parameters[GOFLAGS].default_value`
//! rather than `parameters[3].default_value`, and an insertion does not show as
//! a change of every later element. Their order still matters to Zadig (it is
//! the order of the UI), so a pure reordering is reported once, on the list.

use serde_json::{Map, Value};

/// One changed field.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    /// Path, e.g. `advanced_settings.timeout` or `parameters[GOFLAGS].default_value`.
    pub path: String,
    /// Live value; `None` when the field is absent live.
    pub before: Option<Value>,
    /// Desired value; `None` when the definition leaves it out.
    pub after: Option<Value>,
    /// Why it changes, when the plan has a base (`plan --base`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::core::cause::Cause>,
}

/// The fields that differ between `before` and `after`.
pub fn diff_values(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(before), Some(after), &mut out);
    out
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// Absent, null, "", false, 0, [] and {} are one value: Go decodes them alike,
/// and the canonical form leaves them out.
fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        // A list of empty objects is empty; a list of scalars ([""]) is not.
        Some(Value::Array(a)) if is_scalar_list(a) => a.is_empty(),
        Some(Value::Array(a)) => a.iter().all(|v| is_empty(Some(v))),
        Some(Value::Object(o)) => o.values().all(|v| is_empty(Some(v))),
    }
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    if is_empty(before) && is_empty(after) {
        return;
    }
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => walk_objects(path, b, a, out),
        (Some(Value::Array(b)), Some(Value::Array(a))) => walk_arrays(path, b, a, out),
        // An absent list is an empty one: name the items that appear or go.
        (None | Some(Value::Null), Some(Value::Array(a))) => walk_arrays(path, &[], a, out),
        (Some(Value::Array(b)), None | Some(Value::Null)) => walk_arrays(path, b, &[], out),
        (b, a) if b == a => {}
        (b, a) => out.push(FieldChange {
            path: path.to_owned(),
            before: b.filter(|v| !is_empty(Some(v))).cloned(),
            after: a.filter(|v| !is_empty(Some(v))).cloned(),
            cause: None,
        }),
    }
}

fn walk_objects(
    path: &str,
    b: &Map<String, Value>,
    a: &Map<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    for (k, bv) in b {
        walk(&join(path, k), Some(bv), a.get(k), out);
    }
    for (k, av) in a {
        if !b.contains_key(k) {
            walk(&join(path, k), None, Some(av), out);
        }
    }
}

fn is_scalar_list(a: &[Value]) -> bool {
    a.iter().all(|v| !v.is_object() && !v.is_array())
}

/// The identity of a list element, if it has one.
fn identity(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    if let (Some(Value::String(s)), Some(Value::String(m))) =
        (o.get("service_name"), o.get("service_module"))
    {
        return Some(format!("{s}/{m}"));
    }
    match o.get("key").or_else(|| o.get("name")) {
        Some(Value::String(k)) => Some(k.clone()),
        _ => None,
    }
}

fn identities(items: &[Value]) -> Option<Vec<String>> {
    let ids: Option<Vec<String>> = items.iter().map(identity).collect();
    let ids = ids?;
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    (sorted.len() == ids.len()).then_some(ids)
}

fn walk_arrays(path: &str, b: &[Value], a: &[Value], out: &mut Vec<FieldChange>) {
    if let (Some(bi), Some(ai)) = (identities(b), identities(a))
        && !(bi.is_empty() && ai.is_empty())
    {
        for (id, bv) in bi.iter().zip(b) {
            let av = ai.iter().position(|x| x == id).map(|i| &a[i]);
            walk(&format!("{path}[{id}]"), Some(bv), av, out);
        }
        for (id, av) in ai.iter().zip(a) {
            if !bi.contains(id) {
                walk(&format!("{path}[{id}]"), None, Some(av), out);
            }
        }
        let common_b: Vec<&String> = bi.iter().filter(|x| ai.contains(x)).collect();
        let common_a: Vec<&String> = ai.iter().filter(|x| bi.contains(x)).collect();
        if common_b != common_a {
            out.push(FieldChange {
                path: format!("{path} (order)"),
                before: Some(Value::from(
                    common_b.into_iter().cloned().collect::<Vec<_>>(),
                )),
                after: Some(Value::from(
                    common_a.into_iter().cloned().collect::<Vec<_>>(),
                )),
                cause: None,
            });
        }
        return;
    }
    if is_scalar_list(b) || is_scalar_list(a) {
        // Lists of scalars (outputs, prs, choice options) change as a whole.
        if b != a {
            out.push(FieldChange {
                path: path.to_owned(),
                before: (!b.is_empty()).then(|| Value::from(b.to_vec())),
                after: (!a.is_empty()).then(|| Value::from(a.to_vec())),
                cause: None,
            });
        }
        return;
    }
    for i in 0..b.len().max(a.len()) {
        walk(&format!("{path}[{i}]"), b.get(i), a.get(i), out);
    }
}

/// A unified diff of two YAML texts, `live` → `desired`; "" when equal.
pub fn unified_diff(before: &str, after: &str, context: usize) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(context)
        .header("live", "desired")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(c: &[FieldChange]) -> Vec<&str> {
        c.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn equal_values_have_no_changes() {
        let v = json!({"a": 1, "b": [{"key": "X", "v": "1"}], "c": {"d": "e"}});
        assert!(diff_values(&v, &v).is_empty());
    }

    #[test]
    fn nested_scalar_change_has_a_dotted_path() {
        let b = json!({"advanced_settings": {"timeout": 60, "cluster_name": "c"}});
        let a = json!({"advanced_settings": {"timeout": 30, "cluster_name": "c"}});
        let c = diff_values(&b, &a);
        assert_eq!(paths(&c), ["advanced_settings.timeout"]);
        assert_eq!(c[0].before, Some(json!(60)));
        assert_eq!(c[0].after, Some(json!(30)));
    }

    #[test]
    fn keyed_lists_are_compared_by_identity() {
        let b = json!({"parameters": [{"key": "A", "v": "1"}, {"key": "B", "v": "2"}]});
        let a = json!({"parameters": [{"key": "NEW", "v": "0"}, {"key": "A", "v": "1"}, {"key": "B", "v": "3"}]});
        let c = diff_values(&b, &a);
        assert_eq!(paths(&c), ["parameters[B].v", "parameters[NEW]"]);
    }

    #[test]
    fn reordering_is_reported_once_on_the_list() {
        let b =
            json!({"installs": [{"name": "go", "version": "1"}, {"name": "node", "version": "2"}]});
        let a =
            json!({"installs": [{"name": "node", "version": "2"}, {"name": "go", "version": "1"}]});
        let c = diff_values(&b, &a);
        assert_eq!(paths(&c), ["installs (order)"]);
    }

    #[test]
    fn absent_and_empty_are_the_same() {
        let b = json!({"a": "", "b": [], "c": false, "d": 0, "e": null, "f": {"g": ""}});
        let a = json!({});
        assert!(diff_values(&b, &a).is_empty());
        assert!(diff_values(&a, &b).is_empty());
    }

    #[test]
    fn services_are_keyed_by_service_and_module() {
        let b = json!({"s": [{"service_name": "a", "service_module": "m", "x": 1}]});
        let a = json!({"s": [{"service_name": "a", "service_module": "m", "x": 2}]});
        assert_eq!(paths(&diff_values(&b, &a)), ["s[a/m].x"]);
    }

    #[test]
    fn scalar_lists_change_as_a_whole() {
        let b = json!({"outputs": ["A", "B"]});
        let a = json!({"outputs": ["A"]});
        let c = diff_values(&b, &a);
        assert_eq!(paths(&c), ["outputs"]);
    }

    #[test]
    fn unkeyed_lists_are_compared_by_index() {
        let b = json!({"repo_info": [{"repo_name": "a"}, {"repo_name": "b"}]});
        let a = json!({"repo_info": [{"repo_name": "a"}]});
        assert_eq!(paths(&diff_values(&b, &a)), ["repo_info[1]"]);
    }

    #[test]
    fn unified_diff_is_empty_for_equal_text() {
        assert_eq!(unified_diff("a\n", "a\n", 3), "");
        let d = unified_diff("a\nb\n", "a\nc\n", 3);
        assert!(d.contains("-b") && d.contains("+c"), "{d}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                (-5i64..5).prop_map(Value::from),
                "[a-c]{0,2}".prop_map(Value::from),
            ];
            // Lists hold scalars or objects, never both: the shape of every
            // list in a build definition.
            leaf.clone().prop_recursive(3, 24, 4, move |inner| {
                let object = prop::collection::btree_map("[k-n]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect()));
                prop_oneof![
                    prop::collection::vec(leaf.clone(), 0..4).prop_map(Value::from),
                    prop::collection::vec(object.clone(), 0..4).prop_map(Value::from),
                    object,
                ]
            })
        }

        proptest! {
            #[test]
            fn a_value_never_differs_from_itself(v in value()) {
                prop_assert!(diff_values(&v, &v).is_empty());
            }

            #[test]
            fn values_differ_exactly_when_changes_are_reported(a in value(), b in value()) {
                let changes = diff_values(&a, &b);
                prop_assert_eq!(changes.is_empty(), strip(&a) == strip(&b), "{:?}", changes);
            }
        }

        /// The canonical meaning of a value: empties removed or nulled.
        fn strip(v: &Value) -> Value {
            if is_empty(Some(v)) {
                return Value::Null;
            }
            match v {
                Value::Object(o) => Value::Object(
                    o.iter()
                        .filter(|(_, v)| !is_empty(Some(v)))
                        .map(|(k, v)| (k.clone(), strip(v)))
                        .collect(),
                ),
                Value::Array(a) if is_scalar_list(a) => v.clone(),
                Value::Array(a) => {
                    let mut items: Vec<Value> = a.iter().map(strip).collect();
                    while items.last().is_some_and(Value::is_null) {
                        items.pop();
                    }
                    if items.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(items)
                    }
                }
                other => other.clone(),
            }
        }
    }
}
