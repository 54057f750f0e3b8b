//! The PerformanceTest rules agree in their two forms (`smi_types::perf::SPEC_RULES` and the
//! other tables): for every rule, an object that violates only it is refused by the CRD's CEL
//! (evaluated with kube-cel, as smi-validate does offline), by the rule's Rust form and by
//! `validate()` at the rule's field; valid objects pass all three.
//!
//! kube-cel cannot evaluate CEL's `type()`: the two client-share rules use it. For those the CEL
//! side is checked by the e2e verdicts test against a real API server
//! (`e2e/testdata/verdicts/perf-client-shares.yaml`); here kube-cel must at least report them as
//! not evaluable rather than passing them.

use serde_json::{Value, json};
use smi_types::crd::Flavour;
use smi_types::perf::{
    BODY_SOURCE_RULES, CLIENT_RULES, HISTOGRAM_RULES, PerformanceTest, PerformanceTestSpec,
    REQUEST_RULES, Rule, SPEC_RULES, THRESHOLD_RULES,
};

/// (rule id, message, CEL text, the field `validate()` reports at) of every table.
fn table() -> Vec<(&'static str, &'static str, &'static str, String)> {
    fn add<T>(out: &mut Vec<(&str, &str, &str, String)>, at: &str, rules: &[Rule<T>]) {
        for r in rules {
            let path = if r.path.is_empty() {
                at.to_owned()
            } else {
                format!("{at}.{}", r.path)
            };
            out.push((r.id, r.message, r.cel, path));
        }
    }
    let mut out = Vec::new();
    add(&mut out, "spec", SPEC_RULES);
    add(&mut out, "spec.request", REQUEST_RULES);
    add(&mut out, "spec.request.bodyFrom", BODY_SOURCE_RULES);
    add(&mut out, "spec.clients[0]", CLIENT_RULES);
    add(&mut out, "spec.histogram", HISTOGRAM_RULES);
    add(&mut out, "spec.thresholds[0]", THRESHOLD_RULES);
    out
}

/// Ids of the rules whose Rust form is false on `s`.
fn rust_refusals(s: &PerformanceTestSpec) -> Vec<&'static str> {
    fn add<T>(out: &mut Vec<&'static str>, node: &T, rules: &[Rule<T>]) {
        out.extend(rules.iter().filter(|r| !(r.holds)(node)).map(|r| r.id));
    }
    let mut out = Vec::new();
    add(&mut out, s, SPEC_RULES);
    if let Some(r) = &s.request {
        add(&mut out, r, REQUEST_RULES);
        if let Some(b) = &r.body_from {
            add(&mut out, b, BODY_SOURCE_RULES);
        }
    }
    for c in &s.clients {
        add(&mut out, c, CLIENT_RULES);
    }
    if let Some(h) = &s.histogram {
        add(&mut out, h, HISTOGRAM_RULES);
    }
    for t in &s.thresholds {
        add(&mut out, t, THRESHOLD_RULES);
    }
    out
}

mod common;

fn schema() -> Value {
    common::crd_schema(Flavour::AllVersions, None, "PerformanceTest", "v1alpha1")
}

/// The CEL verdict: (rules that evaluated to false, rules kube-cel could not evaluate).
fn cel(schema: &Value, obj: &Value) -> (Vec<String>, Vec<String>) {
    let (mut failed, mut unevaluable) = (Vec::new(), Vec::new());
    if let Err(errs) = kube_cel::Validator::new().validate(schema, obj, None) {
        for e in errs.into_vec() {
            if e.kind == kube_cel::ErrorKind::ValidationFailure {
                failed.push(e.rule.clone());
            } else {
                unevaluable.push(e.rule.clone());
            }
        }
    }
    (failed, unevaluable)
}

fn object(spec: Value) -> Value {
    json!({
        "apiVersion": "perf.smi-spec.io/v1alpha1",
        "kind": "PerformanceTest",
        "metadata": {"name": "t"},
        "spec": spec,
    })
}

/// `{"endpoints": ["http://127.0.0.1:8080/"]}` with `patch`'s fields set.
fn spec(patch: Value) -> Value {
    let mut s = json!({"endpoints": ["http://127.0.0.1:8080/"]});
    for (k, v) in patch.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

/// For each rule, a spec that violates it and no other rule.
fn violations() -> Vec<(&'static str, Value)> {
    vec![
        (
            "duration-xor-requests",
            spec(json!({"duration": "10s", "requests": 5})),
        ),
        ("duration-positive", spec(json!({"duration": "0s"}))),
        (
            "warmup-below-duration",
            spec(json!({"duration": "10s", "warmup": "10s"})),
        ),
        (
            "timeout-within-duration",
            spec(json!({"duration": "5s", "request": {"timeout": "6s"}})),
        ),
        ("open-rps", spec(json!({"loadModel": "Open"}))),
        (
            "ramp-needs-open",
            spec(json!({"rateShape": "Linear", "rampTo": 10})),
        ),
        (
            "step-needs-steps",
            spec(json!({"loadModel": "Open", "rateShape": "Step"})),
        ),
        (
            "open-max-in-flight",
            spec(json!({"loadModel": "Open", "rps": 10, "connections": 4, "maxInFlight": 2})),
        ),
        ("streams-need-h2", spec(json!({"streamsPerConnection": 2}))),
        ("http-endpoints", spec(json!({"endpoints": ["ftp://x/"]}))),
        (
            "grpc-endpoints",
            spec(json!({"protocol": "GRPC", "endpoints": ["ftp://x:1"]})),
        ),
        // The detailed endpoint check ignored a TCP endpoint's path; the rule refuses it.
        (
            "tcp-endpoints",
            spec(json!({"protocol": "TCP", "endpoints": ["tcp://x:1/path"]})),
        ),
        (
            "udp-endpoints",
            spec(json!({"protocol": "UDP", "endpoints": ["udp://x"]})),
        ),
        (
            "percentiles-in-range",
            spec(json!({"percentiles": [150.0]})),
        ),
        (
            "percentiles-unique",
            spec(json!({"percentiles": [50.0, 50.0]})),
        ),
        (
            "client-shares",
            spec(
                json!({"clients": [{"name": "a", "share": "60%"}, {"name": "b", "share": "30%"}]}),
            ),
        ),
        ("parallelism-connections", spec(json!({"parallelism": 2}))),
        (
            "parallelism-rps",
            spec(json!({"parallelism": 2, "connections": 2, "rps": 1})),
        ),
        (
            "parallelism-requests",
            spec(json!({"parallelism": 2, "connections": 2, "requests": 1})),
        ),
        (
            "body-xor-body-from",
            spec(
                json!({"request": {"body": "x", "bodyFrom": {"configMapKeyRef": {"name": "a", "key": "b"}}}}),
            ),
        ),
        (
            "header-names-are-tokens",
            spec(json!({"request": {"headers": {"a b": "x"}}})),
        ),
        (
            "engine-headers",
            spec(json!({"request": {"headers": {"Host": "x"}}})),
        ),
        (
            "content-type-once",
            spec(
                json!({"request": {"contentType": "text/plain", "headers": {"content-type": "x"}}}),
            ),
        ),
        (
            "timeout-positive",
            spec(json!({"request": {"timeout": "0s"}})),
        ),
        (
            "one-body-source",
            spec(json!({"request": {"bodyFrom": {}}})),
        ),
        // A share without `%` (the sum rule still reads it as 100).
        (
            "share-form",
            spec(json!({"clients": [{"name": "a", "share": "100"}]})),
        ),
        (
            "histogram-range",
            spec(json!({"histogram": {"lowestMicros": 10, "highestMicros": 15}})),
        ),
        (
            "max-or-min",
            spec(json!({"thresholds": [{"metric": "rps"}]})),
        ),
        (
            "latency-limits",
            spec(json!({"thresholds": [{"metric": "latencyP99", "max": "0.25"}]})),
        ),
        (
            "ratio-limits",
            spec(json!({"thresholds": [{"metric": "errorRate", "max": "1.5"}]})),
        ),
        // parse_limit reads `1e3`; the CRD's regex does not.
        (
            "rps-limits",
            spec(json!({"thresholds": [{"metric": "rps", "min": "1e3"}]})),
        ),
    ]
}

fn valid() -> Vec<Value> {
    vec![
        spec(json!({})),
        spec(json!({
            "loadModel": "Open", "rps": 100, "connections": 4, "maxInFlight": 8,
            "duration": "10s", "warmup": "1s", "protocol": "HTTP2", "streamsPerConnection": 4,
            "endpoints": ["https://[::1]:8443/a?b#c", "http://example.com"],
            "request": {"timeout": "2s", "headers": {"X-A": "b"}, "contentType": "text/plain", "body": "x"},
            "percentiles": [50.0, 99.9, 100.0],
            "histogram": {"lowestMicros": 1, "highestMicros": 2},
            "thresholds": [
                {"metric": "latencyP99", "max": "250ms"},
                {"metric": "errorRate", "max": "0.01", "min": "0"},
                {"metric": "droppedRate", "max": "1.000"},
                {"metric": "rps", "min": "50.5"}
            ],
            "parallelism": 2
        })),
        spec(json!({"protocol": "GRPC", "endpoints": ["grpc://h:50051", "h:50051", "http://h/"]})),
        spec(
            json!({"protocol": "TCP", "endpoints": ["tcp://[::1]:9000/", "tcp://h:1"], "requests": 10}),
        ),
        spec(json!({"protocol": "UDP", "endpoints": ["udp://h:53"]})),
        spec(
            json!({"loadModel": "Open", "rateShape": "Step", "steps": [{"rps": 10, "duration": "5s"}]}),
        ),
        spec(
            json!({"loadModel": "Open", "rateShape": "Linear", "rps": 10, "rampTo": 100, "duration": "10s"}),
        ),
        spec(json!({"request": {"bodyFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}})),
    ]
}

#[test]
fn every_rule_has_a_violating_example_and_ids_are_unique() {
    let ids: Vec<&str> = table().iter().map(|r| r.0).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids in {ids:?}");
    let examples: Vec<&str> = violations().iter().map(|v| v.0).collect();
    assert_eq!(
        examples, ids,
        "one violating example per rule, in table order"
    );
    // Every rule the CRD carries on these nodes comes from the tables.
    let text = schema().to_string();
    let in_crd = text.matches("\"rule\"").count();
    // + the root transition rule (immutability, rule 12), which needs the old object
    assert_eq!(in_crd, ids.len() + 1, "CEL rules in the CRD vs the tables");
    for (_, _, cel, _) in table() {
        assert!(text.contains(&serde_json::to_string(cel).unwrap()), "{cel}");
    }
}

#[test]
fn each_rule_refuses_its_violation_in_cel_rust_and_validate() {
    let schema = schema();
    let table = table();
    let mut unevaluable = Vec::new();
    for (id, patch) in violations() {
        let (_, message, rule, path) = table.iter().find(|r| r.0 == id).unwrap();
        let typed: PerformanceTestSpec = serde_json::from_value(patch.clone()).unwrap();
        assert_eq!(rust_refusals(&typed), [id], "Rust forms on {patch}");
        let errors = typed.validate();
        assert!(
            errors.iter().any(|e| e.path.starts_with(path.as_str())),
            "{id}: validate() on {patch} reported {errors:?}, nothing at {path}"
        );
        let (failed, not_evaluated) = cel(&schema, &object(patch.clone()));
        if not_evaluated.iter().any(|r| r == rule) {
            unevaluable.push(id);
            assert!(failed.is_empty(), "{id}: CEL on {patch}: {failed:?}");
            continue;
        }
        assert_eq!(
            failed,
            [rule.to_string()],
            "{id}: CEL on {patch} ({message})"
        );
    }
    // Only the rules that need CEL's type() are beyond kube-cel.
    assert_eq!(unevaluable, ["client-shares", "share-form"]);
}

#[test]
fn valid_objects_pass_cel_rust_and_validate() {
    let schema = schema();
    for s in valid() {
        let typed: PerformanceTestSpec = serde_json::from_value(s.clone()).unwrap();
        assert_eq!(typed.validate(), vec![], "validate() on {s}");
        assert!(rust_refusals(&typed).is_empty(), "Rust forms on {s}");
        let (failed, not_evaluated) = cel(&schema, &object(s.clone()));
        assert!(
            failed.is_empty() && not_evaluated.is_empty(),
            "CEL on {s}: {failed:?} {not_evaluated:?}"
        );
    }
    // A test object with a status keeps its spec's verdict.
    let t: PerformanceTest = serde_json::from_value(object(valid()[0].clone())).unwrap();
    assert!(t.spec.validate().is_empty());
}
