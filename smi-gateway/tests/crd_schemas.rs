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

mod generated {
    //! Arbitrary path regexes, header names and values, methods, weights and port numbers:
    //! the migration never panics, and whatever it emits still validates.

    use super::*;
    use proptest::prelude::*;
    use smi_gateway::{Input, Mesh, Options};

    fn regex_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("/"),
                Just("api"),
                Just("."),
                Just("*"),
                Just("("),
                Just(")"),
                Just("?"),
                Just("|"),
                Just("^"),
                Just("$"),
                Just("%2f"),
                Just("#"),
                Just(" "),
                Just("\\."),
                Just("//"),
                Just("/.."),
                Just("[a-z]"),
                Just("+"),
                Just("(?i)"),
                Just("é"),
            ],
            0..8,
        )
        .prop_map(|v| v.concat())
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("user-agent".to_owned()),
            Just("X-Beta".to_owned()),
            Just("bad name".to_owned()),
            Just(String::new()),
            "[a-z:@]{1,6}"
        ]
    }

    fn manifest() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(
                (
                    proptest::option::of(regex_text()),
                    proptest::collection::vec((header_name(), regex_text()), 0..3),
                    proptest::collection::vec(prop_oneof![Just("GET"), Just("POST"), Just("*"), Just("PATCH")], 0..3),
                ),
                0..5,
            ),
            proptest::collection::vec(prop_oneof![0i64..5, Just(3_000_000i64), Just(i64::MAX / 2)], 1..4),
            proptest::collection::vec(1i32..65536, 1..3),
            any::<bool>(),
        )
            .prop_map(|(matches, weights, ports, with_matches)| {
                let mut m = String::from("apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: g, namespace: ns}\nspec:\n  matches:\n");
                for (i, (path, headers, methods)) in matches.iter().enumerate() {
                    m.push_str(&format!("  - name: m{i}\n"));
                    if let Some(p) = path {
                        m.push_str(&format!("    pathRegex: {}\n", serde_json::to_string(p).unwrap()));
                    }
                    if !headers.is_empty() {
                        m.push_str("    headers:\n");
                        let mut seen = std::collections::BTreeSet::new();
                        for (n, v) in headers {
                            if seen.insert(n.clone()) {
                                m.push_str(&format!("    - {}: {}\n", serde_json::to_string(n).unwrap(), serde_json::to_string(v).unwrap()));
                            }
                        }
                    }
                    if !methods.is_empty() {
                        m.push_str(&format!("    methods: {}\n", serde_json::to_string(methods).unwrap()));
                    }
                }
                m.push_str("---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec:\n  selector: {app: web}\n  ports:\n");
                for (i, p) in ports.iter().enumerate() {
                    m.push_str(&format!("  - {{name: p{i}, port: {p}}}\n"));
                }
                m.push_str("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {serviceAccountName: web}\n");
                m.push_str("---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s, namespace: ns}\nspec:\n  service: web\n  backends:\n");
                for (i, w) in weights.iter().enumerate() {
                    m.push_str(&format!("  - {{service: web-{i}, weight: {w}}}\n"));
                }
                if with_matches {
                    m.push_str("  matches: [{kind: HTTPRouteGroup, name: g}]\n");
                }
                m.push_str("---\napiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t, namespace: ns}\nspec:\n  destination: {kind: ServiceAccount, name: web}\n  sources: [{kind: ServiceAccount, name: client}]\n  rules: [{kind: HTTPRouteGroup, name: g}]\n");
                m
            })
    }

    thread_local! {
        static CRDS: Vec<Crd> = crds();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn arbitrary_matches_migrate_to_valid_objects(m in manifest()) {
            CRDS.with(|crds| migrate_and_check(crds, &m))?;
        }
    }

    fn migrate_and_check(crds: &[Crd], m: &str) -> Result<(), TestCaseError> {
        {
            let docs = smi_types::parse_yaml_stream(m).unwrap();
            for mesh in [Mesh::None, Mesh::Linkerd, Mesh::Istio] {
                let out =
                    smi_gateway::migrate(&[Input::new("gen.yaml", &docs)], &Options::new(mesh))
                        .unwrap();
                for o in &out.objects {
                    let errors = check(crds, &o.value);
                    prop_assert!(
                        errors.is_empty(),
                        "{}\n{}\n{}",
                        m,
                        errors.join("\n"),
                        serde_json::to_string_pretty(&o.value).unwrap()
                    );
                }
                // the split is migrated, or said not to be
                let split_out = out.objects.iter().any(|o| o.source.kind == "TrafficSplit");
                let split_lost = out.losses.iter().any(|l| {
                    l.source.kind == "TrafficSplit" && l.kind == smi_gateway::LossKind::NotMigrated
                });
                prop_assert!(split_out || split_lost, "{m}");
            }
        }
        Ok(())
    }
}

/// The vendored corpora (upstream spec examples, real-world manifests; see tests/golden.rs)
/// migrated with each configuration: every emitted object validates against its CRD.
#[test]
fn vendored_corpora_outputs_validate_against_their_crds() {
    let crds = crds();
    let mut checked = 0;
    for units in [common::upstream_units(), common::realworld_units()] {
        for (config, _, opts) in common::corpus_configs() {
            for u in &units {
                let (m, _) = common::run_unit(u, &opts);
                for o in &m.objects {
                    let errors = check(&crds, &o.value);
                    assert!(
                        errors.is_empty(),
                        "{} ({config}): {} {} (from {}):\n{}",
                        u.label,
                        o.kind(),
                        o.name(),
                        o.source,
                        errors.join("\n")
                    );
                    checked += 1;
                }
            }
        }
    }
    // the goldens' totals: 24 × 3 upstream, 2 + 27 + 29 + 28 real-world (manifests whose
    // namespace is a template placeholder such as `$BOOKSTORE_NAMESPACE` are not migrated)
    assert_eq!(checked, 24 * 3 + 2 + 27 + 29 + 28);
}
