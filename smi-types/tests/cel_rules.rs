//! Every CEL rule in the generated CRDs compiles, and each is tested on one good and one bad
//! object with kube-cel (the same evaluator the validator uses offline).

use serde_json::{Value, json};
use smi_types::crd::{self, Flavour};

fn schema(kind: &str, version: &str) -> Value {
    let crds = crd::generate(Flavour::AllVersions);
    let c = crds.iter().find(|c| c.spec.names.kind == kind).unwrap();
    let v = c.spec.versions.iter().find(|v| v.name == version).unwrap();
    serde_json::to_value(
        v.schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap(),
    )
    .unwrap()
}

fn check(kind: &str, version: &str, obj: Value) -> Result<(), String> {
    kube_cel::Validator::new()
        .validate(&schema(kind, version), &obj, None)
        .map_err(|e| {
            e.as_slice()
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
}

#[test]
fn every_rule_compiles() {
    let mut rules = 0;
    for flavour in [Flavour::AllVersions, Flavour::SdkCompatible] {
        for c in crd::generate(flavour) {
            for v in &c.spec.versions {
                let s = serde_json::to_value(
                    v.schema
                        .as_ref()
                        .unwrap()
                        .open_api_v3_schema
                        .as_ref()
                        .unwrap(),
                )
                .unwrap();
                let compiled = kube_cel::compile_schema(&s);
                assert!(
                    !compiled.has_errors(),
                    "{} {}: {:?}",
                    c.spec.names.kind,
                    v.name,
                    compiled.compilation_errors()
                );
                rules += serde_json::to_string(&s)
                    .unwrap()
                    .matches("\"rule\"")
                    .count();
            }
        }
    }
    assert!(rules >= 10, "{rules}");
    for (_, rule) in crd::CEL_RULES {
        let all = crd::to_yaml(&crd::generate(Flavour::AllVersions));
        assert!(
            all.contains(rule.trim_start_matches('!')),
            "{rule} not emitted"
        );
    }
}

fn hrg(version: &str, names: &[&str]) -> Value {
    let matches: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
    if version == "v1alpha1" || version == "v1alpha2" {
        json!({"apiVersion": format!("specs.smi-spec.io/{version}"), "kind": "HTTPRouteGroup", "metadata": {"name": "g"}, "matches": matches})
    } else {
        json!({"apiVersion": format!("specs.smi-spec.io/{version}"), "kind": "HTTPRouteGroup", "metadata": {"name": "g"}, "spec": {"matches": matches}})
    }
}

#[test]
fn unique_match_names() {
    for v in ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"] {
        check("HTTPRouteGroup", v, hrg(v, &["a", "b"])).unwrap();
        let err = check("HTTPRouteGroup", v, hrg(v, &["a", "a"])).unwrap_err();
        assert!(err.contains("unique"), "{v}: {err}");
    }
}

#[test]
fn ports_in_range() {
    for kind in ["TCPRoute", "UDPRoute"] {
        let obj = |ports: Value| json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": kind, "metadata": {"name": "r"}, "spec": {"matches": {"ports": ports}}});
        check(kind, "v1alpha4", obj(json!([1, 80, 65535]))).unwrap();
        check(kind, "v1alpha4", obj(json!([]))).unwrap();
        assert!(
            check(kind, "v1alpha4", obj(json!([0])))
                .unwrap_err()
                .contains("65535")
        );
        assert!(
            check(kind, "v1alpha4", obj(json!([65536])))
                .unwrap_err()
                .contains("65535")
        );
    }
}

#[test]
fn identity_binding_scheme_exclusivity() {
    let obj = |schemes: Value| json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "IdentityBinding", "metadata": {"name": "ib"}, "spec": {"schemes": schemes}});
    check(
        "IdentityBinding",
        "v1alpha4",
        obj(json!({"podLabelSelector": {"matchLabels": {"app": "a"}}, "spiffeIdentities": ["x"]})),
    )
    .unwrap();
    check(
        "IdentityBinding",
        "v1alpha4",
        obj(json!({"serviceAccount": "a"})),
    )
    .unwrap();
    let err = check(
        "IdentityBinding",
        "v1alpha4",
        obj(json!({"podLabelSelector": {"matchLabels": {"app": "a"}}, "serviceAccount": "a"})),
    )
    .unwrap_err();
    assert!(err.contains("mutually exclusive"), "{err}");
}

fn rules_with_nodes(v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(rules)) = m.get("x-kubernetes-validations") {
                for r in rules {
                    out.push((r["rule"].as_str().unwrap().to_owned(), v.clone()));
                }
            }
            m.values().for_each(|c| rules_with_nodes(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| rules_with_nodes(c, out)),
        _ => {}
    }
}

/// The API server rejects CRDs whose rules may cost too much; every rule sits on a node with
/// the bounds (maxItems, maxLength) that keep it inside the budget, and uses only CRD variables.
#[test]
fn every_rule_is_bounded_and_in_scope() {
    let mut found = 0;
    // the perf.smi-spec.io CRDs are tested with the perf module
    for c in crd::generate(Flavour::AllVersions)
        .into_iter()
        .filter(|c| c.spec.group != "perf.smi-spec.io")
    {
        for v in &c.spec.versions {
            let s = serde_json::to_value(
                v.schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap(),
            )
            .unwrap();
            let mut rules = Vec::new();
            rules_with_nodes(&s, &mut rules);
            for (rule, node) in rules {
                found += 1;
                let mut warnings = kube_cel::analyze_rule(
                    &rule,
                    &kube_cel::compile_schema(&node),
                    kube_cel::ScopeContext::CrdValidation,
                );
                // kube-cel 0.8's scope check also reports the variables bound by the
                // `all`/`exists_one` macros (m, n, p): those are in scope.
                warnings.retain(|w| {
                    !(w.kind == kube_cel::WarningKind::WrongScope
                        && ["'m'", "'n'", "'p'"].iter().any(|v| w.message.contains(v)))
                });
                assert!(
                    warnings.is_empty(),
                    "{} {}: {rule}: {warnings:?}",
                    c.spec.names.kind,
                    v.name
                );
            }
        }
    }
    assert_eq!(
        found, 7,
        "HTTPRouteGroup x4, TCPRoute, UDPRoute, IdentityBinding"
    );
}
