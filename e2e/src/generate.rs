//! Objects generated from a CRD version's OpenAPI schema, biased to the rules' boundaries.
//!
//! [`object_strategy`] walks a structural schema and builds a proptest strategy whose values are
//! mostly plausible objects with the edge values the rules care about: integers 0, −1, 1,
//! 65535, 65536 and each `minimum`/`maximum` ± 1; strings from a small pool of names (so list
//! items repeat names), the empty string, strings at and past `maxLength`, 254- and
//! 64-character names, upper case and underscores; enum values and a value outside the enum;
//! empty lists, lists at and past `maxItems`; missing required fields; unknown fields (pruned
//! or refused by the server); now and then a value of the wrong type. `metadata.name` is
//! usually valid and sometimes not.
//!
//! Generation is deterministic ([`generate`] uses proptest's deterministic runner), so a
//! disagreement found once is found again.

use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

/// Names the generator draws from: a small pool so that list items collide.
const NAMES: &[&str] = &["a", "b", "web", "web-v1", "web-v2", "api"];

fn long(n: usize) -> String {
    "a".repeat(n)
}

fn string_strategy(schema: &Value) -> BoxedStrategy<Value> {
    if let Some(values) = schema["enum"].as_array() {
        let mut pool: Vec<Value> = values.clone();
        let bogus = Value::String("Bogus".into());
        return Union::new_weighted(vec![
            (9, proptest::sample::select(pool.split_off(0)).boxed()),
            (1, Just(bogus).boxed()),
        ])
        .boxed();
    }
    let mut edge: Vec<String> = vec![
        String::new(),
        long(64),
        long(254),
        "Web_V1".into(),
        "-web".into(),
        "web.v1".into(),
        "/api/.*".into(),
        "(".into(),
        "*".into(),
        "10ms".into(),
        "1s".into(),
        "0".into(),
        "-1".into(),
        "http://web:8080/".into(),
    ];
    if let Some(max) = schema["maxLength"].as_u64() {
        edge.push(long(max as usize));
        edge.push(long(max as usize + 1));
    }
    if let Some(min) = schema["minLength"].as_u64()
        && min > 0
    {
        edge.push(long(min as usize - 1));
    }
    let names: Vec<String> = NAMES.iter().map(|s| (*s).to_owned()).collect();
    Union::new_weighted(vec![
        (6, proptest::sample::select(names).boxed()),
        (3, proptest::sample::select(edge).boxed()),
        (1, "[a-z0-9./*-]{0,12}".boxed()),
    ])
    .prop_map(Value::String)
    .boxed()
}

fn integer_strategy(schema: &Value) -> BoxedStrategy<Value> {
    let mut edge: Vec<i64> = vec![0, -1, 1, 2, 65535, 65536, i64::from(i32::MAX) + 1];
    for key in ["minimum", "maximum"] {
        if let Some(b) = schema[key].as_f64() {
            let b = b as i64;
            edge.extend([b - 1, b, b + 1]);
        }
    }
    Union::new_weighted(vec![
        (3, proptest::sample::select(edge).boxed()),
        (2, (1i64..=100).boxed()),
        (1, (-100i64..=70000).boxed()),
    ])
    .prop_map(|n| json!(n))
    .boxed()
}

fn number_strategy() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(0.5),
        json!(1.5),
        json!(100),
        json!(-0.5),
    ])
    .boxed()
}

fn int_or_string_strategy() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(100),
        json!(0.5),
        json!("500m"),
        json!("1"),
        json!("100"),
        json!("1.5"),
        json!("-1"),
        json!(""),
        json!("abc"),
        json!("1Ki"),
    ])
    .boxed()
}

fn wrong_type() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![
        json!("x"),
        json!(1),
        json!(true),
        json!([]),
        json!({}),
        Value::Null,
    ])
    .boxed()
}

/// A strategy for values of `schema` (a structural `openAPIV3Schema` node).
pub fn value_strategy(schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let typed = typed_strategy(schema, depth);
    if depth == 0 {
        return typed;
    }
    Union::new_weighted(vec![(60, typed), (1, wrong_type())]).boxed()
}

fn typed_strategy(schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    if schema["x-kubernetes-int-or-string"] == true {
        return int_or_string_strategy();
    }
    match schema["type"].as_str() {
        Some("string") => string_strategy(schema),
        Some("integer") => integer_strategy(schema),
        Some("number") => number_strategy(),
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("array") => array_strategy(schema, depth),
        Some("object") => object_strategy_inner(schema, depth),
        _ if schema["x-kubernetes-preserve-unknown-fields"] == true => {
            Just(json!({"any": "thing"})).boxed()
        }
        _ => Just(Value::Null).boxed(),
    }
}

fn array_strategy(schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let items = value_strategy(&schema["items"], depth + 1);
    let max_items = schema["maxItems"].as_u64();
    let mut lens: Vec<(u32, std::ops::RangeInclusive<usize>)> =
        vec![(2, 0..=0), (5, 1..=1), (4, 2..=3)];
    if let Some(m) = max_items
        && m <= 8
    {
        lens.push((2, m as usize..=m as usize + 1));
    }
    let strategies: Vec<(u32, BoxedStrategy<Value>)> = lens
        .into_iter()
        .map(|(w, r)| {
            (
                w,
                proptest::collection::vec(items.clone(), r)
                    .prop_map(Value::Array)
                    .boxed(),
            )
        })
        .collect();
    Union::new_weighted(strategies).boxed()
}

fn object_strategy_inner(schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, sub) in props {
            let keep = if required.contains(&name.as_str()) {
                0.97
            } else {
                0.6
            };
            let name = name.clone();
            fields.push(
                proptest::option::weighted(keep, value_strategy(sub, depth + 1))
                    .prop_map(move |v| v.map(|v| (name.clone(), v)))
                    .boxed(),
            );
        }
    } else if schema["additionalProperties"].is_object() {
        let values = value_strategy(&schema["additionalProperties"], depth + 1);
        let keys: Vec<String> = ["app", "version", "x-header", "Content-Type", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        fields.push(
            proptest::option::weighted(
                0.8,
                (proptest::sample::select(keys), values).prop_map(|(k, v)| (k, v)),
            )
            .boxed(),
        );
    }
    // An unknown field now and then: pruned under fieldValidation=Warn, refused under Strict.
    if schema["x-kubernetes-preserve-unknown-fields"] != true && schema["properties"].is_object() {
        fields.push(
            proptest::option::weighted(0.04, Just(("unknownField".to_owned(), json!("x")))).boxed(),
        );
    }
    fields
        .prop_map(|fields| {
            let mut map = Map::new();
            for (k, v) in fields.into_iter().flatten() {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// A strategy for whole objects of `api_version`/`kind` whose version schema is `schema` (the
/// `openAPIV3Schema` of the CRD version): `apiVersion`, `kind` and `metadata` (name mostly
/// valid, namespace `namespace`) set, the rest from the schema.
pub fn object_strategy(
    schema: &Value,
    api_version: &str,
    kind: &str,
    namespace: &str,
) -> BoxedStrategy<Value> {
    let mut body = schema.clone();
    if let Some(props) = body["properties"].as_object_mut() {
        props.remove("apiVersion");
        props.remove("kind");
        props.remove("metadata");
        props.remove("status");
    }
    let rest = object_strategy_inner(&body, 0);
    let names = Union::new_weighted(vec![
        (
            30,
            proptest::sample::select(NAMES.to_vec())
                .prop_map(str::to_owned)
                .boxed(),
        ),
        (
            1,
            proptest::sample::select(vec![
                "Bad_Name".to_owned(),
                long(254),
                "-web".to_owned(),
                "web.v1".to_owned(),
            ])
            .boxed(),
        ),
    ]);
    let (api_version, kind, namespace) = (
        api_version.to_owned(),
        kind.to_owned(),
        namespace.to_owned(),
    );
    (names, rest)
        .prop_map(move |(name, rest)| {
            let mut obj = Map::new();
            obj.insert("apiVersion".into(), json!(api_version));
            obj.insert("kind".into(), json!(kind));
            obj.insert(
                "metadata".into(),
                json!({"name": name, "namespace": namespace}),
            );
            if let Value::Object(rest) = rest {
                obj.extend(rest);
            }
            Value::Object(obj)
        })
        .boxed()
}

/// Every path (as keys and indices) to a value inside `v`, `apiVersion` and `kind` left out.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if prefix.is_empty() && (k == "apiVersion" || k == "kind") {
                    continue;
                }
                prefix.push(json!(k));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(json!(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Value::String(k) => cur.get_mut(k.as_str())?,
            Value::Number(i) => cur.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// One boundary mutation of the value at a path, chosen by `pick` (any number).
fn mutate_at(root: &mut Value, path: &[Value], pick: usize) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    // 1 in 6: remove the field or item.
    if pick.is_multiple_of(6) {
        if let Some(parent) = get_mut(root, parent_path) {
            match (parent, last) {
                (Value::Object(m), Value::String(k)) => {
                    m.remove(k);
                }
                (Value::Array(a), Value::Number(i)) => {
                    let i = i.as_u64().unwrap_or(0) as usize;
                    if i < a.len() {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
        return;
    }
    let Some(target) = get_mut(root, path) else {
        return;
    };
    let pick = pick / 6;
    let replacement = match target {
        Value::Number(_) => {
            let pool = [
                json!(0),
                json!(-1),
                json!(1),
                json!(65535),
                json!(65536),
                json!(2147483648i64),
                json!(0.5),
                json!("1"),
            ];
            pool[pick % pool.len()].clone()
        }
        Value::String(_) => {
            let pool = [
                json!(""),
                json!(long(64)),
                json!(long(254)),
                json!("Web_V1"),
                json!("0"),
                json!("-1s"),
                json!("1s"),
                json!("web"),
                json!(1),
            ];
            pool[pick % pool.len()].clone()
        }
        Value::Bool(b) => json!(!*b),
        Value::Array(items) => match pick % 3 {
            0 => json!([]),
            1 if !items.is_empty() => {
                // duplicate the first item (duplicate names, repeated ports)
                let mut items = items.clone();
                items.push(items[0].clone());
                Value::Array(items)
            }
            _ => json!("x"),
        },
        Value::Object(m) => match pick % 3 {
            0 => json!({}),
            1 => {
                let mut m = m.clone();
                m.insert("unknownField".into(), json!("x"));
                Value::Object(m)
            }
            _ => json!([]),
        },
        Value::Null => json!("x"),
    };
    *target = replacement;
}

/// Objects made from `seeds` (real objects of one kind and version) by zero to three boundary
/// mutations each: a field or item removed; a number replaced by 0, −1, 1, 65535, 65536, 2³¹
/// or 0.5; a string by the empty string, 64 or 254 characters, `Web_V1`, `0`, `-1s`, `1s`; a
/// list emptied or its first item repeated; an object emptied or given an unknown field; a
/// value of the wrong type. `metadata.namespace` is set to `namespace`.
///
/// # Panics
/// When `seeds` is empty.
pub fn mutation_strategy(seeds: Vec<Value>, namespace: &str) -> BoxedStrategy<Value> {
    assert!(!seeds.is_empty(), "mutation_strategy needs a seed");
    let namespace = namespace.to_owned();
    (
        proptest::sample::select(seeds),
        proptest::collection::vec((any::<proptest::sample::Index>(), any::<usize>()), 0..=3),
    )
        .prop_map(move |(mut obj, mutations)| {
            for (index, pick) in mutations {
                let mut all = Vec::new();
                paths(&obj, &mut Vec::new(), &mut all);
                if all.is_empty() {
                    break;
                }
                let path = all[index.index(all.len())].clone();
                mutate_at(&mut obj, &path, pick);
            }
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), json!(namespace));
            }
            obj
        })
        .boxed()
}

/// `count` objects from `strategy`, deterministically (the same objects on every run).
pub fn generate(strategy: &BoxedStrategy<Value>, count: usize) -> Vec<Value> {
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the generator's strategies never reject")
                .current()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn objects_hit_the_boundaries_and_repeat() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["backends"],
                    "properties": {
                        "backends": {"type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "service": {"type": "string"},
                                "weight": {"type": "integer", "minimum": 0}
                            }
                        }}
                    }
                }
            }
        });
        let s = object_strategy(&schema, "split.smi-spec.io/v1alpha4", "TrafficSplit", "ns");
        let objects = generate(&s, 500);
        assert_eq!(objects, generate(&s, 500), "deterministic");
        let weights: Vec<&Value> = objects
            .iter()
            .flat_map(|o| o["spec"]["backends"].as_array().into_iter().flatten())
            .map(|b| &b["weight"])
            .collect();
        for w in [json!(0), json!(-1), json!(65536)] {
            assert!(weights.contains(&&w), "no weight {w}");
        }
        assert!(objects.iter().any(|o| o["spec"]["backends"] == json!([])));
        assert!(
            objects
                .iter()
                .any(|o| o["spec"].get("unknownField").is_some())
        );
        assert!(objects.iter().all(|o| o["kind"] == "TrafficSplit"));
    }

    #[test]
    fn mutations_change_seeds_at_the_boundaries() {
        let seed = json!({
            "apiVersion": "split.smi-spec.io/v1alpha4",
            "kind": "TrafficSplit",
            "metadata": {"name": "web", "namespace": "x"},
            "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 90}]}
        });
        let objects = generate(&mutation_strategy(vec![seed.clone()], "ns"), 500);
        assert!(
            objects
                .iter()
                .all(|o| o["apiVersion"] == seed["apiVersion"] && o["kind"] == "TrafficSplit")
        );
        assert!(objects.iter().all(|o| o["metadata"]["namespace"] == "ns"
            || o["metadata"].is_null()
            || !o["metadata"].is_object()));
        let weights: BTreeSet<String> = objects
            .iter()
            .filter_map(|o| o.pointer("/spec/backends/0/weight"))
            .map(Value::to_string)
            .collect();
        for w in ["0", "-1", "65536", "90"] {
            assert!(weights.contains(w), "no weight {w} in {weights:?}");
        }
        assert!(
            objects
                .iter()
                .any(|o| o.pointer("/spec/backends").is_some_and(|b| b == &json!([])))
        );
        assert!(
            objects
                .iter()
                .any(|o| o.pointer("/spec/backends/1").is_some()),
            "a repeated backend"
        );
    }
}
