//! Every CEL rule in the generated CRDs compiles, and each is tested on one good and one bad
//! object with kube-cel (the same evaluator the validator uses offline).

use serde_json::{Value, json};
use smi_types::crd::{self, Flavour};

mod common;

fn schema(kind: &str, version: &str) -> Value {
    common::crd_schema(Flavour::AllVersions, None, kind, version)
}

fn check(kind: &str, version: &str, obj: Value) -> Result<(), String> {
    validate(kind, version, obj, None)
}

/// kube-cel's verdict on `obj` (an update from `old` when given), its messages joined.
fn validate(kind: &str, version: &str, obj: Value, old: Option<&Value>) -> Result<(), String> {
    kube_cel::Validator::new()
        .validate(&schema(kind, version), &obj, old)
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
                let s = common::version_schema(v);
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

/// Ramped rate shapes (issue 14): Open model only, `Step` needs steps, and a ramp may start
/// from rps 0 (the Open model's `rps > 0` rule gives way to the schedule).
#[test]
fn rate_shapes() {
    let obj = |spec: Value| json!({"apiVersion": "perf.smi-spec.io/v1alpha1", "kind": "PerformanceTest", "metadata": {"name": "t"}, "spec": spec});
    let base = || json!({"endpoints": ["http://a:80/"], "loadModel": "Open"});
    let mut linear = base();
    linear["rateShape"] = json!("Linear");
    linear["rampTo"] = json!(100);
    check("PerformanceTest", "v1alpha1", obj(linear.clone())).unwrap();
    let mut closed = linear.clone();
    closed["loadModel"] = json!("Closed");
    assert!(
        check("PerformanceTest", "v1alpha1", obj(closed))
            .unwrap_err()
            .contains("need loadModel Open")
    );
    let mut step = base();
    step["rateShape"] = json!("Step");
    assert!(
        check("PerformanceTest", "v1alpha1", obj(step.clone()))
            .unwrap_err()
            .contains("needs steps")
    );
    step["steps"] = json!([{"rps": 10, "duration": "5s"}, {"rps": 0, "duration": "1s"}]);
    check("PerformanceTest", "v1alpha1", obj(step)).unwrap();
    // Constant Open still needs rps > 0.
    assert!(
        check("PerformanceTest", "v1alpha1", obj(base()))
            .unwrap_err()
            .contains("rps > 0")
    );
}

/// IdentityBinding schemes: at least one; `podLabelSelector` and `serviceAccount` together are
/// accepted (the spec's only example sets both; see `IdentityBindingSchemes`).
#[test]
fn identity_binding_schemes() {
    let obj = |schemes: Value| json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "IdentityBinding", "metadata": {"name": "ib"}, "spec": {"schemes": schemes}});
    for schemes in [
        json!({"podLabelSelector": {"matchLabels": {"app": "a"}}, "spiffeIdentities": ["x"]}),
        json!({"serviceAccount": "a"}),
        json!({"podLabelSelector": {"matchLabels": {"app": "a"}}, "spiffeIdentities": ["x"], "serviceAccount": "a"}),
    ] {
        check("IdentityBinding", "v1alpha4", obj(schemes)).unwrap();
    }
    let s = schema("IdentityBinding", "v1alpha4");
    let schemes = &s["properties"]["spec"]["properties"]["schemes"];
    assert_eq!(schemes["minProperties"], 1);
    assert!(schemes.get("x-kubernetes-validations").is_none());
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

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    Dot,
    Open,
    Comma,
    Other,
}

/// CEL tokens, string literals (which hold regexes full of dots and parentheses) skipped.
fn tokens(rule: &str) -> Vec<Tok> {
    let b = rule.as_bytes();
    let (mut i, mut out) = (0, Vec::new());
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Tok::Other);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(rule[start..i].to_owned()));
        } else {
            out.push(match c {
                b'.' => Tok::Dot,
                b'(' => Tok::Open,
                b',' => Tok::Comma,
                c if c.is_ascii_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

const MACROS: &[&str] = &["all", "exists", "exists_one", "map", "filter"];
const STRING_WALKS: &[&str] = &[
    "matches",
    "startsWith",
    "endsWith",
    "contains",
    "find",
    "findAll",
    "split",
    "replace",
    "indexOf",
    "lastIndexOf",
];

/// What the API server's cost estimator needs bounded, checked for one rule on `node`: every
/// list or map a macro iterates has maxItems/maxProperties, every string a regex or string
/// function walks has maxLength (or is an enum). Map keys are estimated at size 0 by the server
/// and need no bound. Returns (walks found, problems, whether map keys are walked).
fn walked_bounds(rule: &str, node: &Value) -> (usize, Vec<String>, bool) {
    use std::collections::HashMap;
    let toks = tokens(rule);
    // variable -> schema it ranges over (None: a map key)
    let mut vars: HashMap<String, Option<Value>> = HashMap::new();
    let (mut walks, mut problems) = (0, Vec::new());
    let mut i = 0;
    while i < toks.len() {
        // an identifier chain `a.b.c` followed by `.f(`
        let Tok::Ident(head) = &toks[i] else {
            i += 1;
            continue;
        };
        if i > 0 && toks[i - 1] == Tok::Dot {
            i += 1;
            continue;
        }
        let mut chain = vec![head.clone()];
        let mut j = i + 1;
        while j + 1 < toks.len() && toks[j] == Tok::Dot {
            let Tok::Ident(n) = &toks[j + 1] else { break };
            chain.push(n.clone());
            j += 2;
        }
        i = j;
        let called = j < toks.len() && toks[j] == Tok::Open && chain.len() >= 2;
        if !called {
            continue;
        }
        let func = chain.pop().unwrap();
        let target: Option<Option<Value>> = match chain[0].as_str() {
            "self" | "oldSelf" => Some(Some(node.clone())),
            v => vars.get(v).cloned(),
        };
        let Some(mut target) = target else { continue };
        for seg in &chain[1..] {
            target = target.and_then(|t| t["properties"].get(seg.as_str()).cloned());
        }
        let path = chain.join(".");
        if MACROS.contains(&func.as_str()) {
            walks += 1;
            let Some(t) = target else {
                problems.push(format!("{path}.{func}: target not found in the schema"));
                continue;
            };
            let var = match (toks.get(j + 1), toks.get(j + 2)) {
                (Some(Tok::Ident(v)), Some(Tok::Comma)) => v.clone(),
                _ => {
                    problems.push(format!("{path}.{func}: no variable"));
                    continue;
                }
            };
            if t["type"] == "array" {
                if t.get("maxItems").is_none() {
                    problems.push(format!("{path}: list walked by {func}() without maxItems"));
                }
                vars.insert(var, Some(t["items"].clone()));
            } else if t.get("additionalProperties").is_some() {
                if t.get("maxProperties").is_none() {
                    problems.push(format!(
                        "{path}: map walked by {func}() without maxProperties"
                    ));
                }
                vars.insert(var, None);
            } else {
                problems.push(format!("{path}: {func}() over a {}", t["type"]));
            }
        } else if STRING_WALKS.contains(&func.as_str()) {
            walks += 1;
            match target {
                None => {} // a map key: size estimated 0 by the API server
                // an int-or-string is sized by its maxLength too (the API server's
                // `SchemaDeclType` bounds the dyn value by it)
                Some(t) if t["type"] == "string" || t["x-kubernetes-int-or-string"] == true => {
                    let bounded = t.get("maxLength").is_some() || t.get("enum").is_some();
                    if !bounded {
                        problems.push(format!(
                            "{path}: string walked by {func}() without maxLength"
                        ));
                    }
                }
                Some(t) => problems.push(format!("{path}.{func}(): target is {t}")),
            }
        }
    }
    let map_keys = vars.values().any(Option::is_none);
    (walks, problems, map_keys)
}

#[test]
fn bounds_checker_sees_what_it_must() {
    let node = json!({"type": "object", "properties": {
        "l": {"type": "array", "items": {"type": "string"}},
        "b": {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 9}},
        "m": {"type": "object", "additionalProperties": {"type": "string"}},
        "s": {"type": "string"},
    }});
    let (n, p, keys) = walked_bounds("self.l.all(x, x.matches('a.b(c)'))", &node);
    assert_eq!((n, p.len(), keys), (2, 2, false), "{p:?}");
    let (n, p, _) = walked_bounds("self.b.all(x, x.startsWith('a'))", &node);
    assert_eq!((n, p.len()), (2, 0), "{p:?}");
    let (n, p, keys) = walked_bounds("!has(self.m) || self.m.all(k, k.matches('x'))", &node);
    assert_eq!((n, p.len(), keys), (2, 1, true), "{p:?}");
    let (n, p, _) = walked_bounds("self.s.matches('^(a|b)$') && self.s.size() < 3", &node);
    assert_eq!((n, p.len()), (1, 1), "{p:?}");
}

/// The API server rejects CRDs whose rules may cost too much: every list, map or string a rule
/// walks has the bound (maxItems, maxProperties, maxLength) that keeps it inside the budget,
/// and every rule uses only CRD variables. All CRDs, perf.smi-spec.io included.
#[test]
fn every_rule_is_bounded_and_in_scope() {
    let (mut found, mut walks) = (0, 0);
    let mut per_kind = std::collections::BTreeMap::<String, usize>::new();
    for c in crd::generate(Flavour::AllVersions) {
        for v in &c.spec.versions {
            let s = common::version_schema(v);
            let mut rules = Vec::new();
            rules_with_nodes(&s, &mut rules);
            for (rule, node) in rules {
                found += 1;
                *per_kind.entry(c.spec.names.kind.clone()).or_default() += 1;
                let (w, problems, walks_map_keys) = walked_bounds(&rule, &node);
                walks += w;
                assert!(
                    problems.is_empty(),
                    "{} {}: {rule}: {problems:?}",
                    c.spec.names.kind,
                    v.name
                );
                let mut warnings = kube_cel::analyze_rule(
                    &rule,
                    &kube_cel::compile_schema(&node),
                    kube_cel::ScopeContext::CrdValidation,
                );
                // kube-cel 0.8's scope check also reports the variables bound by the
                // `all`/`exists_one` macros, and the type names `int` and `string` of
                // `type(x) == string` (the form the API server documents for int-or-string
                // fields): those are in scope.
                warnings.retain(|w| {
                    !(w.kind == kube_cel::WarningKind::WrongScope
                        && [
                            "'m'", "'n'", "'p'", "'q'", "'e'", "'c'", "'k'", "'int'", "'string'",
                        ]
                        .iter()
                        .any(|v| w.message.contains(v)))
                });
                // kube-cel's coarse estimator prices a map key as an unbounded string; the API
                // server's estimator gives map keys size 0 (and the bounds above are what it
                // needs), so its cost warning is ignored for rules that walk map keys.
                if walks_map_keys {
                    warnings.retain(|w| w.kind != kube_cel::WarningKind::CostExceeded);
                }
                assert!(
                    warnings.is_empty(),
                    "{} {}: {rule}: {warnings:?}",
                    c.spec.names.kind,
                    v.name
                );
            }
        }
    }
    assert_eq!(per_kind["PerformanceTest"], 32, "{per_kind:?}");
    assert_eq!(per_kind["PerformanceTestResult"], 2, "{per_kind:?}");
    assert_eq!(found - 34, 6, "HTTPRouteGroup x4, TCPRoute, UDPRoute");
    assert!(walks >= 20, "{walks} walks checked");
}

fn check_update(kind: &str, version: &str, obj: Value, old: Value) -> Result<(), String> {
    validate(kind, version, obj, Some(&old))
}

/// A PerformanceTestResult is immutable once written: any change, addition or removal of a
/// record field is refused; metadata (labels) may change.
#[test]
fn performance_test_result_is_immutable() {
    let record = smi_types::perf::PerformanceTestResult::new(
        "r",
        smi_types::perf::ResultRecord {
            id: "run-1".into(),
            passed: true,
            ..Default::default()
        },
    );
    let old = serde_json::to_value(&record).unwrap();
    let k = "PerformanceTestResult";
    check(k, "v1alpha1", old.clone()).unwrap();
    check_update(k, "v1alpha1", old.clone(), old.clone()).unwrap();
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"team": "a"});
    check_update(k, "v1alpha1", relabelled, old.clone()).unwrap();
    let mut changed = old.clone();
    changed["passed"] = json!(false);
    let err = check_update(k, "v1alpha1", changed, old.clone()).unwrap_err();
    assert!(err.contains("immutable"), "{err}");
    let mut added = old.clone();
    added["smpVersion"] = json!("v0.6.0");
    let err = check_update(k, "v1alpha1", added.clone(), old.clone()).unwrap_err();
    assert!(err.contains("immutable"), "{err}");
    let err = check_update(k, "v1alpha1", old.clone(), added).unwrap_err();
    assert!(err.contains("immutable"), "{err}");
    let mut nested = old.clone();
    nested["latency"]["count"] = json!(5);
    let err = check_update(k, "v1alpha1", nested, old).unwrap_err();
    assert!(err.contains("immutable"), "{err}");
}

/// Client shares (`validate()` rule 10) are CRD rules too, so the API server refuses what the
/// engine refuses (e2e/tests/verdicts.rs found `share: Web_V1` accepted by the server). kube-cel
/// cannot evaluate `type(x)`, so here `validate()` is checked and the rules' presence; the same
/// cases are objects in `e2e/testdata/verdicts/perf-client-shares.yaml`, which the e2e verdicts
/// test sends to a real API server.
#[test]
fn client_shares_agree_with_validate() {
    let base = serde_json::to_value(smi_types::perf::PerformanceTest::new(
        "t",
        smi_types::perf::PerformanceTestSpec::http("http://127.0.0.1:8080/")
            .rps(100)
            .duration("10s"),
    ))
    .unwrap();
    for (clients, ok) in [
        (
            json!([{"name": "a", "share": "50%"}, {"name": "b", "share": "50%"}]),
            true,
        ),
        (json!([{"name": "a", "share": "100%"}]), true),
        (
            json!([{"name": "a", "share": 60}, {"name": "b", "share": 40}]),
            true,
        ),
        (json!([]), true),
        (json!([{"name": "a", "share": "50%"}]), false),
        (
            json!([{"name": "a", "share": "50%"}, {"name": "b", "share": "Web_V1"}]),
            false,
        ),
        (
            json!([{"name": "a", "share": "50%"}, {"name": "b", "share": 50}]),
            false,
        ),
        (json!([{"name": "a", "share": "50%"}, {"name": "b"}]), false),
        (
            json!([{"name": "a", "share": 60}, {"name": "b", "share": 60}]),
            false,
        ),
        (json!([{"name": "a", "share": "+100%"}]), false),
        (json!([{"name": "a", "share": "101%"}]), false),
        (json!([{"name": "a", "share": "1s"}]), false),
    ] {
        let mut t = base.clone();
        t["spec"]["clients"] = clients.clone();
        let typed: smi_types::perf::PerformanceTest = serde_json::from_value(t.clone()).unwrap();
        let engine_ok = !typed
            .spec
            .validate()
            .iter()
            .any(|e| e.path.starts_with("spec.clients"));
        assert_eq!(engine_ok, ok, "validate() on {clients}");
    }
    let schema = schema("PerformanceTest", "v1alpha1").to_string();
    assert!(
        schema.contains("type(self.share) == int"),
        "the share form rule"
    );
    assert!(
        schema.contains("map(c, int(c.share)).sum()"),
        "the share sum rule"
    );
}

/// `histogram` or `histogramRef`, not both: the CRD rule and `consistency_errors()` agree.
#[test]
fn histogram_or_histogram_ref() {
    use smi_types::perf::{EncodedHistogram, HistogramRef, PerformanceTestResult, ResultRecord};
    let with = |h: bool, r: bool| {
        PerformanceTestResult::new(
            "r",
            ResultRecord {
                id: "run-1".into(),
                passed: true,
                histogram: h.then(|| EncodedHistogram {
                    encoding: "HdrHistogramV2Deflate".into(),
                    data: "AAAA".into(),
                }),
                histogram_ref: r.then(|| HistogramRef::secret("run-1-histogram")),
                ..Default::default()
            },
        )
    };
    for (h, r) in [(false, false), (true, false), (false, true), (true, true)] {
        let result = with(h, r);
        let both = h && r;
        assert_eq!(
            result
                .consistency_errors()
                .iter()
                .any(|e| e.path == "histogramRef"),
            both
        );
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json.get("histogramRef").is_some(), r);
        let back: PerformanceTestResult = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, result);
        let crd = check("PerformanceTestResult", "v1alpha1", json);
        assert_eq!(crd.is_err(), both, "{crd:?}");
    }
}
