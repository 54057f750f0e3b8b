//! Every object the migration emits for the repository's fixtures validates against the
//! vendored upstream CRD of its kind and version (`tests/data/SOURCES.md`): the
//! `openAPIV3Schema` with jsonschema, and the CRD's CEL rules with kube-cel after the schema's
//! defaults are applied (as the API server does). Gateway API objects are checked against both
//! the standard and the experimental channel.
//!
//! jsonschema ignores `nullable` (the emitted objects contain no nulls: checked here too).

mod common;

use std::collections::BTreeMap;

use serde_json::{Value, json};

struct Schema {
    schema: Value,
    validator: jsonschema::Validator,
    cel: kube_cel::CompiledSchema,
}

struct Crd {
    file: String,
    group: String,
    kind: String,
    versions: BTreeMap<String, Schema>,
}

fn crds() -> Vec<Crd> {
    let base = common::root().join("smi-gateway/tests/data/crds");
    let files = [
        "gateway-api-v1.6.1/standard/gateway.networking.k8s.io_httproutes.yaml",
        "gateway-api-v1.6.1/standard/gateway.networking.k8s.io_tcproutes.yaml",
        "gateway-api-v1.6.1/experimental/gateway.networking.k8s.io_httproutes.yaml",
        "gateway-api-v1.6.1/experimental/gateway.networking.k8s.io_tcproutes.yaml",
        "linkerd-version-2.20/server.yaml",
        "linkerd-version-2.20/authorization-policy.yaml",
        "linkerd-version-2.20/meshtls-authentication.yaml",
        "istio-1.30.3/security.istio.io_authorizationpolicies.yaml",
    ];
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(base.join(f)).unwrap();
            let v: Value = serde_norway::from_str(&text).unwrap();
            let versions = v["spec"]["versions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["served"] == true)
                .map(|v| {
                    let schema = v["schema"]["openAPIV3Schema"].clone();
                    let validator = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft4)
                        .build(&schema)
                        .unwrap();
                    let cel = kube_cel::compile_schema(&schema);
                    assert!(!cel.has_errors(), "{f}: {:?}", cel.compilation_errors());
                    let s = Schema {
                        schema,
                        validator,
                        cel,
                    };
                    (v["name"].as_str().unwrap().to_owned(), s)
                })
                .collect();
            Crd {
                file: (*f).to_owned(),
                group: v["spec"]["group"].as_str().unwrap().to_owned(),
                kind: v["spec"]["names"]["kind"].as_str().unwrap().to_owned(),
                versions,
            }
        })
        .collect()
}

/// Structural defaulting: a missing property with a `default` gets it, recursively.
fn apply_defaults(schema: &Value, v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = schema["properties"].as_object() {
                for (k, ps) in props {
                    if !m.contains_key(k)
                        && let Some(d) = ps.get("default")
                    {
                        m.insert(k.clone(), d.clone());
                    }
                    if let Some(c) = m.get_mut(k) {
                        apply_defaults(ps, c);
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                apply_defaults(&schema["items"], x);
            }
        }
        _ => {}
    }
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}

/// Errors of `obj` against every served schema of its kind/version (empty: valid everywhere).
fn check(crds: &[Crd], obj: &Value) -> Vec<String> {
    let (group, version) = obj["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let matching: Vec<&Crd> = crds
        .iter()
        .filter(|c| c.group == group && c.kind == kind)
        .collect();
    assert!(!matching.is_empty(), "no vendored CRD for {group} {kind}");
    let mut errors = Vec::new();
    if has_null(obj) {
        errors.push("contains null".to_owned());
    }
    for c in matching {
        let Some(s) = c.versions.get(version) else {
            errors.push(format!("{}: version {version} not served", c.file));
            continue;
        };
        for e in s.validator.iter_errors(obj) {
            errors.push(format!("{}: {} at {}", c.file, e, e.instance_path()));
        }
        let mut defaulted = obj.clone();
        apply_defaults(&s.schema, &mut defaulted);
        if let Err(errs) = kube_cel::Validator::new().validate_compiled(&s.cel, &defaulted, None) {
            for e in errs.as_slice() {
                errors.push(format!(
                    "{}: CEL `{}`: {} at {}",
                    c.file, e.rule, e.message, e.field_path
                ));
            }
        }
    }
    errors
}

#[test]
fn every_emitted_object_validates_against_its_crd() {
    let crds = crds();
    let mut kinds = BTreeMap::new();
    for corpus in common::CORPORA {
        let (streams, _) = common::load(corpus);
        for (mesh_name, opts) in common::configs() {
            let m = common::run(&streams, &opts);
            for o in &m.objects {
                let errors = check(&crds, &o.value);
                assert!(
                    errors.is_empty(),
                    "{corpus} --mesh {mesh_name}: {} {} (from {}):\n{}\n{}",
                    o.kind(),
                    o.name(),
                    o.source,
                    errors.join("\n"),
                    serde_json::to_string_pretty(&o.value).unwrap()
                );
                *kinds
                    .entry(format!("{} {}", o.api_version(), o.kind()))
                    .or_insert(0) += 1;
            }
        }
    }
    // every kind the migration can emit was emitted (and so checked) at least once
    for k in [
        "gateway.networking.k8s.io/v1 HTTPRoute",
        "gateway.networking.k8s.io/v1 TCPRoute",
        "policy.linkerd.io/v1beta3 Server",
        "policy.linkerd.io/v1alpha1 MeshTLSAuthentication",
        "policy.linkerd.io/v1alpha1 AuthorizationPolicy",
        "security.istio.io/v1 AuthorizationPolicy",
    ] {
        assert!(kinds.contains_key(k), "{k} never emitted: {kinds:?}");
    }
}

/// The check rejects what the API server would: the schema and the CEL rules both bite.
#[test]
fn the_check_rejects_invalid_objects() {
    let crds = crds();
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r"},
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": "web"}],
            "rules": [{"backendRefs": [{"name": "web-v1", "port": 80, "weight": 1}]}]
        }
    });
    assert!(
        check(&crds, &route).is_empty(),
        "{:?}",
        check(&crds, &route)
    );
    // schema: weight above 1,000,000
    let mut bad = route.clone();
    bad["spec"]["rules"][0]["backendRefs"][0]["weight"] = json!(1_000_001);
    assert!(!check(&crds, &bad).is_empty());
    // CEL: a Service backend without a port
    let mut bad = route.clone();
    bad["spec"]["rules"][0]["backendRefs"][0]
        .as_object_mut()
        .unwrap()
        .remove("port");
    let e = check(&crds, &bad);
    assert!(e.iter().any(|e| e.contains("has(self.port)")), "{e:?}");
    // CEL: an Exact path must start with `/`
    let mut bad = route.clone();
    bad["spec"]["rules"][0]["matches"] = json!([{"path": {"type": "Exact", "value": "metrics"}}]);
    assert!(!check(&crds, &bad).is_empty());
    // CEL: two parentRefs to the same Service need distinct sectionNames
    let mut bad = route.clone();
    bad["spec"]["parentRefs"] = json!([
        {"group": "", "kind": "Service", "name": "web", "port": 80},
        {"group": "", "kind": "Service", "name": "web", "port": 81}
    ]);
    assert!(!check(&crds, &bad).is_empty());
    // Linkerd: identityRefs and identities are exclusive (oneOf)
    let authn = json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
        "metadata": {"name": "a"},
        "spec": {"identityRefs": [{"kind": "ServiceAccount", "name": "x"}], "identities": ["*"]}
    });
    assert!(!check(&crds, &authn).is_empty());
    // Istio: serviceAccounts excludes principals
    let ap = json!({
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": "a"},
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "action": "ALLOW",
                 "rules": [{"from": [{"source": {"serviceAccounts": ["ns/a"], "principals": ["x"]}}]}]}
    });
    assert!(!check(&crds, &ap).is_empty());
}
