//! Every file of `testdata/upstream/examples/` (YAML cut out of the SMI spec docs): the verdict
//! this project documents for it, as-is and at its implied apiVersion (SOURCES.md column).
//!
//! As-is, most examples have no `apiVersion`: an SMI `kind` without one is SMI1101; documents
//! with neither (fragments, Services with `apiVersion: v1`, Roles) are skipped as non-SMI.
//!
//! At the implied apiVersion every SMI example is valid except:
//! * `traffic-split-v1alpha{3,4}-httproutegroup-1`: upstream doc bug, HTTPRouteGroup written
//!   without `spec:` (top-level `matches`), so `spec` is missing (SMI1202);
//!
//! `traffic-access-v1alpha4-identitybinding-1` sets both `podLabelSelector` and `serviceAccount`,
//! which the same doc calls mutually exclusive: valid, with the SMI1512 warning (the CRD accepts
//! both, as smi-controller-sdk's does; see `smi_types::access::v1alpha4::IdentityBindingSchemes`).
//! (access v1alpha4 is the unreleased draft; smi-types models it, so it is routed, not "unknown
//! version" as validation.md anticipated.)
//! * `traffic-metrics-*` TrafficMetrics/TrafficMetricsList: read-only API server responses
//!   (SMI1104); the metrics fragments have no `kind` (SMI1101 once an SMI apiVersion is added);
//! * `traffic-metrics-v1alpha1-apiresourcelist-1`: the `...` elision line ends the YAML document,
//!   so the rest is a second document that is a bare list (SMI1004);
//! * `traffic-specs-v1alpha1-httproutegroup-2` as-is: `apiVersion: v1alpha1` without group
//!   (SMI1105); valid at the implied apiVersion.
//!
//! `traffic-access-v1alpha1-traffictarget-2` omits `destination.port`: valid here (the spec doc
//! and smi-controller-sdk make it optional; only the unserved smi-sdk-go v1alpha1 schema requires it).

use smi_validate::{Options, Severity, validate_str};
use std::collections::BTreeSet;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/upstream/examples");
const SOURCES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/upstream/SOURCES.md"
);

/// (file, error codes as-is, error codes at the implied apiVersion)
const EXPECTED: &[(&str, &[&str], &[&str])] = &[
    (
        "traffic-access-v1alpha1-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha1-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha1-traffictarget-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha1-traffictarget-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha1-traffictarget-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha2-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha2-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha2-traffictarget-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha2-traffictarget-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha2-traffictarget-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha3-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha3-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-access-v1alpha3-tcproute-1.yaml", &["SMI1101"], &[]),
    ("traffic-access-v1alpha3-tcproute-2.yaml", &["SMI1101"], &[]),
    ("traffic-access-v1alpha3-tcproute-3.yaml", &["SMI1101"], &[]),
    (
        "traffic-access-v1alpha3-traffictarget-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha3-traffictarget-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha3-traffictarget-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha3-traffictarget-4.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-access-v1alpha3-udproute-1.yaml", &["SMI1101"], &[]),
    (
        "traffic-access-v1alpha4-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha4-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-access-v1alpha4-identitybinding-1.yaml", &[], &[]),
    ("traffic-access-v1alpha4-tcproute-1.yaml", &["SMI1101"], &[]),
    ("traffic-access-v1alpha4-tcproute-2.yaml", &["SMI1101"], &[]),
    ("traffic-access-v1alpha4-tcproute-3.yaml", &["SMI1101"], &[]),
    (
        "traffic-access-v1alpha4-traffictarget-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha4-traffictarget-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha4-traffictarget-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-access-v1alpha4-traffictarget-4.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-access-v1alpha4-udproute-1.yaml", &["SMI1101"], &[]),
    (
        "traffic-metrics-v1alpha1-apiresourcelist-1.yaml",
        &["SMI1004"],
        &["SMI1004"],
    ),
    ("traffic-metrics-v1alpha1-apiservice-1.yaml", &[], &[]),
    (
        "traffic-metrics-v1alpha1-fragment-1.yaml",
        &[],
        &["SMI1101"],
    ),
    (
        "traffic-metrics-v1alpha1-fragment-2.yaml",
        &[],
        &["SMI1101"],
    ),
    (
        "traffic-metrics-v1alpha1-fragment-3.yaml",
        &[],
        &["SMI1101"],
    ),
    ("traffic-metrics-v1alpha1-role-1.yaml", &[], &[]),
    ("traffic-metrics-v1alpha1-role-2.yaml", &[], &[]),
    (
        "traffic-metrics-v1alpha1-trafficmetrics-1.yaml",
        &["SMI1101"],
        &["SMI1104"],
    ),
    (
        "traffic-metrics-v1alpha1-trafficmetrics-2.yaml",
        &["SMI1101"],
        &["SMI1104"],
    ),
    (
        "traffic-metrics-v1alpha1-trafficmetricslist-1.yaml",
        &["SMI1101"],
        &["SMI1104"],
    ),
    (
        "traffic-metrics-v1alpha1-trafficmetricslist-2.yaml",
        &["SMI1101"],
        &["SMI1104"],
    ),
    (
        "traffic-metrics-v1alpha1-trafficmetricslist-3.yaml",
        &["SMI1101"],
        &["SMI1104"],
    ),
    ("traffic-specs-v1alpha1-httproutegroup-1.yaml", &[], &[]),
    (
        "traffic-specs-v1alpha1-httproutegroup-2.yaml",
        &["SMI1105"],
        &[],
    ),
    ("traffic-specs-v1alpha1-tcproute-1.yaml", &[], &[]),
    (
        "traffic-specs-v1alpha2-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha2-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha2-httproutegroup-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha2-httproutegroup-4.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha2-httproutegroup-5.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-specs-v1alpha2-tcproute-1.yaml", &["SMI1101"], &[]),
    (
        "traffic-specs-v1alpha3-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha3-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha3-httproutegroup-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha3-httproutegroup-4.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha3-httproutegroup-5.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-specs-v1alpha3-tcproute-1.yaml", &["SMI1101"], &[]),
    (
        "traffic-specs-v1alpha4-httproutegroup-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha4-httproutegroup-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha4-httproutegroup-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha4-httproutegroup-4.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-specs-v1alpha4-httproutegroup-5.yaml",
        &["SMI1101"],
        &[],
    ),
    ("traffic-specs-v1alpha4-tcproute-1.yaml", &["SMI1101"], &[]),
    ("traffic-specs-v1alpha4-tcproute-2.yaml", &["SMI1101"], &[]),
    ("traffic-specs-v1alpha4-udproute-1.yaml", &["SMI1101"], &[]),
    ("traffic-specs-v1alpha4-udproute-2.yaml", &["SMI1101"], &[]),
    ("traffic-split-v1alpha1-service-1.yaml", &[], &[]),
    ("traffic-split-v1alpha1-service-2.yaml", &[], &[]),
    ("traffic-split-v1alpha1-service-3.yaml", &[], &[]),
    ("traffic-split-v1alpha1-service-4.yaml", &[], &[]),
    ("traffic-split-v1alpha1-service-5.yaml", &[], &[]),
    ("traffic-split-v1alpha1-service-6.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-1.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-2.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-3.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-4.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-5.yaml", &[], &[]),
    ("traffic-split-v1alpha1-trafficsplit-6.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-1.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-2.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-3.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-4.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-5.yaml", &[], &[]),
    ("traffic-split-v1alpha2-service-6.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-1.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-2.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-3.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-4.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-5.yaml", &[], &[]),
    ("traffic-split-v1alpha2-trafficsplit-6.yaml", &[], &[]),
    (
        "traffic-split-v1alpha3-httproutegroup-1.yaml",
        &["SMI1101"],
        &["SMI1202", "SMI1204"],
    ),
    ("traffic-split-v1alpha3-service-1.yaml", &[], &[]),
    ("traffic-split-v1alpha3-service-2.yaml", &[], &[]),
    ("traffic-split-v1alpha3-service-3.yaml", &[], &[]),
    ("traffic-split-v1alpha3-service-4.yaml", &[], &[]),
    ("traffic-split-v1alpha3-service-5.yaml", &[], &[]),
    ("traffic-split-v1alpha3-service-6.yaml", &[], &[]),
    (
        "traffic-split-v1alpha3-trafficsplit-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-4.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-5.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-6.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha3-trafficsplit-7.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-httproutegroup-1.yaml",
        &["SMI1101"],
        &["SMI1202", "SMI1204"],
    ),
    ("traffic-split-v1alpha4-service-1.yaml", &[], &[]),
    ("traffic-split-v1alpha4-service-2.yaml", &[], &[]),
    ("traffic-split-v1alpha4-service-3.yaml", &[], &[]),
    ("traffic-split-v1alpha4-service-4.yaml", &[], &[]),
    ("traffic-split-v1alpha4-service-5.yaml", &[], &[]),
    ("traffic-split-v1alpha4-service-6.yaml", &[], &[]),
    (
        "traffic-split-v1alpha4-trafficsplit-1.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-2.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-3.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-4.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-5.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-6.yaml",
        &["SMI1101"],
        &[],
    ),
    (
        "traffic-split-v1alpha4-trafficsplit-7.yaml",
        &["SMI1101"],
        &[],
    ),
];

fn errors(r: &smi_validate::Report) -> Vec<String> {
    let s: BTreeSet<String> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.code.to_string())
        .collect();
    s.into_iter().collect()
}

fn implied() -> std::collections::HashMap<String, String> {
    let src = std::fs::read_to_string(SOURCES).unwrap();
    let mut m = std::collections::HashMap::new();
    for line in src.lines().filter(|l| l.starts_with("| examples/")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let file = cols[1].trim_start_matches("examples/").to_owned();
        let mut gv = cols[5].split_whitespace().next().unwrap().to_owned();
        if gv == "metrics.smi-spec.io" {
            gv = "metrics.smi-spec.io/v1alpha1".into();
        }
        m.insert(file, gv);
    }
    m
}

fn with_api_version(text: &str, gv: &str) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for line in text.lines() {
        if !replaced && line.starts_with("apiVersion:") {
            out.push_str(&format!("apiVersion: {gv}\n"));
            replaced = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if replaced {
        out
    } else {
        format!("apiVersion: {gv}\n{text}")
    }
}

#[test]
fn every_upstream_example_has_its_documented_verdict() {
    let implied = implied();
    let mut files: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    assert_eq!(files, listed, "the table must list every example file");
    let mut failures = Vec::new();
    for (file, asis, at_gv) in EXPECTED {
        let text = std::fs::read_to_string(format!("{DIR}/{file}")).unwrap();
        let r = validate_str(file, &text, &Options::default());
        if errors(&r) != *asis {
            failures.push(format!("{file} as-is: got {:?}, want {asis:?}", errors(&r)));
        }
        let gv = &implied[*file];
        let r = validate_str(file, &with_api_version(&text, gv), &Options::default());
        if errors(&r) != *at_gv {
            failures.push(format!(
                "{file} at {gv}: got {:?}, want {at_gv:?}",
                errors(&r)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_examples_of_one_doc_resolve_their_references() {
    // The traffic-access v1alpha3 doc's examples, validated together, reference each other.
    let implied = implied();
    let mut v = smi_validate::Validator::new(Options::default().require_refs(true));
    for f in [
        "traffic-access-v1alpha3-tcproute-2.yaml",
        "traffic-access-v1alpha3-httproutegroup-2.yaml",
        "traffic-access-v1alpha3-traffictarget-2.yaml",
    ] {
        let text = std::fs::read_to_string(format!("{DIR}/{f}")).unwrap();
        v.validate_str(f, &with_api_version(&text, &implied[f]));
    }
    let r = v.finish();
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
}
