//! Every YAML example cut out of the SMI spec docs (`testdata/upstream/examples/`), read at the
//! apiVersion SOURCES.md implies for it: parse → serialize → parse is the identity and
//! JSON(output) == JSON(input), with the documented exceptions in `expectation`.

use serde_json::Value;
use smi_types::{Document, Error, SmiObject};

mod common;
use common::upstream;

/// `(file, implied GV)` rows of the examples table in SOURCES.md.
fn table() -> Vec<(String, String)> {
    common::examples_table()
}

#[derive(Debug, PartialEq)]
enum Expect {
    /// Round-trips exactly.
    RoundTrip,
    /// Routed as a non-SMI document.
    Other,
    /// Fails to parse/deserialize (documented upstream doc bug).
    Fails,
    /// Round-trips except that `items: null` is written back as `items: []`.
    NullItems,
}

/// The apiVersion we read a file at, and what must happen.
fn expectation(file: &str, implied: &str) -> (Option<String>, Expect) {
    // Metrics: the doc is labelled v1alpha1 but `edge.side`/`backend` exist only in sdk v1alpha2
    // (spec section 7.2); the implied GV column names only the group.
    if implied.starts_with("metrics.smi-spec.io") {
        if file.contains("fragment") {
            // no `kind`: with the implied apiVersion added it is an incomplete object
            return (Some("metrics.smi-spec.io/v1alpha2".into()), Expect::Fails);
        }
        if file.contains("trafficmetricslist") {
            return (
                Some("metrics.smi-spec.io/v1alpha2".into()),
                Expect::NullItems,
            );
        }
        return (
            Some("metrics.smi-spec.io/v1alpha2".into()),
            Expect::RoundTrip,
        );
    }
    if file.contains("apiresourcelist") {
        return (None, Expect::Fails); // not valid YAML as written (`...` inside a list)
    }
    // Doc bug (spec section 7.9): HTTPRouteGroup v1alpha3+/v1alpha4 written without `spec`.
    if file == "traffic-split-v1alpha3-httproutegroup-1.yaml"
        || file == "traffic-split-v1alpha4-httproutegroup-1.yaml"
    {
        return (Some(implied.into()), Expect::Fails);
    }
    // Doc bug (spec section 7.10): `apiVersion: v1alpha1` without group → not an SMI group.
    if file == "traffic-specs-v1alpha1-httproutegroup-2.yaml" {
        return (Some(implied.into()), Expect::Other);
    }
    if implied.contains("smi-spec.io") {
        (Some(implied.into()), Expect::RoundTrip)
    } else {
        (Some(implied.into()), Expect::Other)
    }
}

fn read_at(file: &str, api_version: Option<&str>) -> Result<(Value, Document), Error> {
    let mut text = std::fs::read_to_string(upstream().join("examples").join(file)).unwrap();
    if let Some(av) = api_version
        && !text.lines().any(|l| l.starts_with("apiVersion:"))
    {
        text = format!("apiVersion: {av}\n{text}");
    }
    let mut docs = smi_types::parse_yaml_stream(&text)?;
    assert_eq!(docs.len(), 1, "{file}: one document per file");
    let value: Value = serde_saphyr::from_str(&text).unwrap();
    Ok((value, docs.remove(0)))
}

fn assert_round_trip(file: &str, input: &Value, obj: &SmiObject) {
    // JSON
    let out = obj.to_value();
    assert_eq!(&out, input, "{file}: JSON(out) != JSON(in)");
    // serde-saphyr
    let yaml = obj.to_yaml().unwrap();
    let back =
        smi_types::parse_yaml_stream(&yaml).unwrap_or_else(|e| panic!("{file}: {e}\n{yaml}"));
    assert_eq!(
        back,
        vec![Document::Smi(Box::new(obj.clone()))],
        "{file}: YAML round trip\n{yaml}"
    );
    // serde_norway (a serde_yaml fork)
    let norway = serde_norway::to_string(&out).unwrap();
    let v: Value = serde_norway::from_str(&norway).unwrap();
    assert_eq!(
        &SmiObject::from_value(v).unwrap(),
        obj,
        "{file}: serde_norway round trip"
    );
    let v: Value = serde_norway::from_str(&yaml).unwrap();
    assert_eq!(
        &SmiObject::from_value(v).unwrap(),
        obj,
        "{file}: serde_norway reads our YAML"
    );
}

#[test]
fn every_upstream_example() {
    let rows = table();
    assert!(
        rows.len() > 100,
        "SOURCES.md table parsed: {} rows",
        rows.len()
    );
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (file, implied) in rows {
        let (av, expect) = expectation(&file, &implied);
        *counts.entry(format!("{expect:?}")).or_default() += 1;
        let result = read_at(&file, av.as_deref());
        match expect {
            Expect::RoundTrip => {
                let (input, doc) = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                let Document::Smi(obj) = doc else {
                    panic!("{file}: expected an SMI object, got {doc:?}")
                };
                assert_round_trip(&file, &input, &obj);
            }
            Expect::NullItems => {
                let (mut input, doc) = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                let Document::Smi(obj) = doc else {
                    panic!("{file}: expected an SMI object")
                };
                assert_eq!(input["items"], Value::Null);
                input["items"] = serde_json::json!([]);
                assert_round_trip(&file, &input, &obj);
            }
            Expect::Other => {
                let (_, doc) = result.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(
                    matches!(doc, Document::Other { .. }),
                    "{file}: expected Other, got {doc:?}"
                );
            }
            Expect::Fails => {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{file}: expected an error"));
                assert!(!err.to_string().is_empty());
                if file.contains("httproutegroup") {
                    assert!(err.to_string().contains("spec"), "{file}: {err}");
                }
            }
        }
    }
    assert!(counts["RoundTrip"] >= 70, "{counts:?}");
}
