//! The generated CRDs (every group, perf.smi-spec.io included: one schema pipeline) compared
//! with the checked-in golden files.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p smi-types --test crd_golden`.

use smi_types::crd::{self, Flavour};

mod common;

#[test]
fn perf_crds_are_included_by_default() {
    let kinds: Vec<String> = crd::generate(Flavour::SdkCompatible)
        .into_iter()
        .map(|c| c.spec.names.kind)
        .collect();
    assert!(
        kinds.iter().any(|k| k == "PerformanceTest")
            && kinds.iter().any(|k| k == "PerformanceTestResult"),
        "{kinds:?}"
    );
    for k in [
        "TrafficTarget",
        "IdentityBinding",
        "HTTPRouteGroup",
        "TCPRoute",
        "UDPRoute",
        "TrafficSplit",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k}");
    }
}

fn check(file: &str, flavour: Flavour) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    let actual = crd::to_yaml(&crd::generate(flavour));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{file} missing: run with UPDATE_GOLDEN=1"));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{file} differs from the generated CRDs from line {}:\n  golden:    {:?}\n  generated: {:?}\nrun with UPDATE_GOLDEN=1 to accept",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn all_versions_golden() {
    check("all-versions.yaml", Flavour::AllVersions);
}

#[test]
fn sdk_compatible_golden() {
    check("sdk-compatible.yaml", Flavour::SdkCompatible);
}

#[test]
fn generated_crds_parse_back() {
    for flavour in [Flavour::AllVersions, Flavour::SdkCompatible] {
        let yaml = crd::to_yaml(&crd::generate(flavour));
        let crds: Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
            serde_saphyr::from_multiple(&yaml).unwrap();
        assert_eq!(crds, crd::generate(flavour));
    }
}

/// Every schema of every CRD, both flavours, as JSON: (crd name, version, openAPIV3Schema).
fn schemas() -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for flavour in [Flavour::AllVersions, Flavour::SdkCompatible] {
        for c in crd::generate(flavour) {
            for v in &c.spec.versions {
                out.push((
                    c.metadata.name.clone().unwrap(),
                    v.name.clone(),
                    common::version_schema(v),
                ));
            }
        }
    }
    out
}

/// The API server's structural-schema rules (apiextensions `validation.ValidateStructural`),
/// checked node by node; returns "path: problem" lines.
fn structural_problems(
    path: &str,
    node: &serde_json::Value,
    in_junction: bool,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    let Value::Object(m) = node else {
        out.push(format!("{path}: schema is not an object"));
        return;
    };
    let int_or_string = m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    let int_or_string_any_of = int_or_string
        && m.get("anyOf") == Some(&serde_json::json!([{"type": "integer"}, {"type": "string"}]));
    if in_junction {
        // Inside anyOf/oneOf/allOf/not only value validations are allowed.
        for k in m.keys() {
            if matches!(
                k.as_str(),
                "type" | "description" | "default" | "nullable" | "additionalProperties" | "title"
            ) || k.starts_with("x-kubernetes-")
            {
                out.push(format!(
                    "{path}: `{k}` inside a value validation (anyOf/oneOf/allOf/not)"
                ));
            }
        }
    } else if !m.contains_key("type") && !int_or_string && !preserve {
        out.push(format!("{path}: no type"));
    }
    if int_or_string
        && let Some(any) = m.get("anyOf")
        && any != &serde_json::json!([{"type": "integer"}, {"type": "string"}])
    {
        out.push(format!(
            "{path}: int-or-string anyOf must be [integer, string]"
        ));
    }
    for k in [
        "$ref",
        "$schema",
        "definitions",
        "$defs",
        "dependencies",
        "additionalItems",
        "patternProperties",
        "uniqueItems",
        "const",
    ] {
        if m.contains_key(k) {
            out.push(format!("{path}: `{k}` is not allowed"));
        }
    }
    if m.contains_key("properties") && m.contains_key("additionalProperties") {
        out.push(format!(
            "{path}: properties and additionalProperties together"
        ));
    }
    if m.get("type") == Some(&Value::String("array".into())) && !m.contains_key("items") {
        out.push(format!("{path}: array without items"));
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        for (k, v) in props {
            structural_problems(&format!("{path}.{k}"), v, in_junction, out);
        }
    }
    if let Some(items) = m.get("items") {
        structural_problems(&format!("{path}[]"), items, in_junction, out);
    }
    if let Some(ap @ Value::Object(_)) = m.get("additionalProperties") {
        structural_problems(&format!("{path}{{}}"), ap, in_junction, out);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if k == "anyOf" && int_or_string_any_of {
            // the one junction the API server allows with types in it
            continue;
        }
        if let Some(Value::Array(alts)) = m.get(k) {
            for (i, a) in alts.iter().enumerate() {
                structural_problems(&format!("{path}.{k}[{i}]"), a, true, out);
            }
        }
    }
    if let Some(not) = m.get("not") {
        structural_problems(&format!("{path}.not"), not, true, out);
    }
}

#[test]
fn every_schema_is_structural() {
    let mut n = 0;
    for (name, version, s) in schemas() {
        n += 1;
        let mut problems = Vec::new();
        structural_problems("", &s, false, &mut problems);
        assert!(
            problems.is_empty(),
            "{name} {version}:\n{}",
            problems.join("\n")
        );
        assert_eq!(s["type"], "object", "{name} {version}");
        // Root metadata: only name and generateName may be specified (and nothing else).
        let meta = &s["properties"]["metadata"];
        let keys: Vec<&String> = meta.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["type"], "{name} {version}: metadata {meta}");
    }
    // 8 CRDs. All versions: TrafficTarget 4, IdentityBinding 1, HTTPRouteGroup 4, TCPRoute 4,
    // UDPRoute 1, TrafficSplit 4, perf 1 + 1. SdkCompatible: 3, 1, 4, 1, 1, 3, 1 + 1.
    assert_eq!(n, 20 + 15, "schemas checked");
}

fn enum_nodes<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("enum") {
                out.push(v);
            }
            m.values().for_each(|c| enum_nodes(c, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| enum_nodes(c, out)),
        _ => {}
    }
}

/// Rust enums whose variants have doc comments (TrafficTarget rule `kind`, HTTPRouteGroup
/// `methods[]`, the perf enums) are `type: string` + `enum` on the field, not `oneOf`.
#[test]
fn enum_fields_are_typed_strings_with_the_variants() {
    let (mut kinds, mut methods) = (0, 0);
    for (name, version, s) in schemas() {
        let text = s.to_string();
        assert!(!text.contains("\"oneOf\""), "{name} {version}: oneOf left");
        let mut nodes = Vec::new();
        enum_nodes(&s, &mut nodes);
        for n in nodes {
            assert_eq!(n["type"], "string", "{name} {version}: {n}");
            let values = n["enum"].as_array().unwrap();
            assert!(
                !values.is_empty() && values.iter().all(|v| v.is_string()),
                "{name} {version}: {n}"
            );
            if values.len() == 3 && values[0] == "HTTPRouteGroup" {
                kinds += 1;
                assert_eq!(
                    n["enum"],
                    serde_json::json!(["HTTPRouteGroup", "TCPRoute", "UDPRoute"])
                );
                assert!(n["description"].is_string());
            }
            if values[0] == "*" {
                methods += 1;
                assert_eq!(values.len(), 10, "{n}");
            }
        }
    }
    // TrafficTarget rule kinds: 4 versions + 3 in SdkCompatible; HTTPRouteGroup methods: 4 + 4.
    assert_eq!((kinds, methods), (7, 8));
}
