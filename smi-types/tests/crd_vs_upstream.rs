//! Our SdkCompatible schemas against smi-sdk-go's CRD schemas: every upstream spec example at a
//! version the sdk CRDs list is accepted by ours iff accepted by theirs, except the documented
//! decisions in `DECISIONS` (also in the `smi_types::crd` rustdoc table).

use serde_json::Value;
use smi_types::crd::Flavour;

mod common;
use common::upstream;

/// (example file, accepted by ours, accepted by smi-sdk-go, why).
const DECISIONS: &[(&str, bool, bool, &str)] = &[
    (
        "traffic-access-v1alpha1-traffictarget-2.yaml",
        true,
        false,
        "destination.port is optional per the docs; the sdk v1 CRD re-added `required`",
    ),
    (
        "traffic-split-v1alpha3-httproutegroup-1.yaml",
        false,
        true,
        "doc bug: no `spec`; the sdk prunes the top-level `matches`, we require `spec`",
    ),
    (
        "traffic-split-v1alpha4-httproutegroup-1.yaml",
        false,
        true,
        "doc bug: no `spec`; the sdk prunes the top-level `matches`, we require `spec`",
    ),
];

/// Kubernetes OpenAPI schema → JSON Schema for the `jsonschema` crate: `nullable` becomes a
/// `null` type, Kubernetes extensions are dropped (int-or-string keeps its `anyOf`).
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            let nullable = m.get("nullable") == Some(&Value::Bool(true));
            for (k, val) in m {
                if k.starts_with("x-kubernetes-") || k == "nullable" {
                    continue;
                }
                if k == "properties" {
                    let props = val
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(p, s)| (p.clone(), to_json_schema(s)))
                        .collect();
                    out.insert(k.clone(), Value::Object(props));
                    continue;
                }
                out.insert(k.clone(), to_json_schema(val));
            }
            if nullable && let Some(Value::String(t)) = out.get("type").cloned() {
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

fn upstream_schemas() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for f in ["access", "httproutegroup", "split", "tcproute", "udproute"] {
        let text =
            std::fs::read_to_string(upstream().join(format!("crds/smi-sdk-go/{f}.yaml"))).unwrap();
        let crds: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        for c in crds {
            let group = c["spec"]["group"].as_str().unwrap().to_owned();
            for v in c["spec"]["versions"].as_array().unwrap() {
                let api_version = format!("{group}/{}", v["name"].as_str().unwrap());
                let kind = c["spec"]["names"]["kind"].as_str().unwrap().to_owned();
                out.push((api_version, kind, v["schema"]["openAPIV3Schema"].clone()));
            }
        }
    }
    out
}

fn ours(api_version: &str, kind: &str) -> Value {
    let (group, version) = api_version.split_once('/').unwrap();
    common::crd_schema(Flavour::SdkCompatible, Some(group), kind, version)
}

fn examples() -> Vec<(String, String)> {
    common::examples_table()
}

#[test]
fn sdk_compatible_accepts_iff_upstream_accepts() {
    let schemas = upstream_schemas();
    let mut compared = 0;
    let mut decisions_seen = 0;
    for (file, implied) in examples() {
        let text = std::fs::read_to_string(upstream().join("examples").join(&file)).unwrap();
        let Ok(mut value) = serde_saphyr::from_str::<Value>(&text) else {
            continue;
        };
        let Some(kind) = value["kind"].as_str().map(str::to_owned) else {
            continue;
        };
        let Some((_, _, theirs)) = schemas
            .iter()
            .find(|(av, k, _)| *av == implied && *k == kind)
        else {
            continue;
        };
        if value.get("apiVersion").is_none() {
            value["apiVersion"] = implied.clone().into();
        }
        let theirs_ok = jsonschema::validator_for(&to_json_schema(theirs))
            .unwrap()
            .is_valid(&value);
        let ours_ok = jsonschema::validator_for(&to_json_schema(&ours(&implied, &kind)))
            .unwrap()
            .is_valid(&value);
        compared += 1;
        match DECISIONS.iter().find(|(f, ..)| *f == file) {
            Some((_, o, t, why)) => {
                decisions_seen += 1;
                assert_eq!(
                    (ours_ok, theirs_ok),
                    (*o, *t),
                    "{file}: documented decision changed: {why}"
                );
            }
            None => assert_eq!(
                ours_ok, theirs_ok,
                "{file} at {implied}: ours accepts = {ours_ok}, smi-sdk-go accepts = {theirs_ok}"
            ),
        }
    }
    assert!(compared >= 50, "compared {compared} examples");
    assert_eq!(decisions_seen, DECISIONS.len());
}

/// Header map form (the current spec docs) is rejected by both schemas: the CRD stores what is
/// sent, and smi-sdk-go-based controllers can only read the list form. Our parser reads both.
#[test]
fn headers_map_form_rejected_by_both_schemas_but_parsed() {
    let file = "traffic-specs-v1alpha4-httproutegroup-3.yaml";
    let text = std::fs::read_to_string(upstream().join("examples").join(file)).unwrap();
    let mut value: Value = serde_saphyr::from_str(&text).unwrap();
    value["apiVersion"] = "specs.smi-spec.io/v1alpha4".into();
    let theirs = upstream_schemas()
        .into_iter()
        .find(|(av, k, _)| av == "specs.smi-spec.io/v1alpha4" && k == "HTTPRouteGroup")
        .unwrap()
        .2;
    assert!(
        !jsonschema::validator_for(&to_json_schema(&theirs))
            .unwrap()
            .is_valid(&value)
    );
    let ours = ours("specs.smi-spec.io/v1alpha4", "HTTPRouteGroup");
    assert!(
        !jsonschema::validator_for(&to_json_schema(&ours))
            .unwrap()
            .is_valid(&value)
    );
    assert!(smi_types::SmiObject::from_value(value).is_ok());
}
