//! Every file of `testdata/realworld/*.yaml`: the validator's verdict, default and `--strict`.
//!
//! Where it differs from the SOURCES.md quick check (a structural check against the Go types):
//! * `layer5io…traffic-spec-05-install`: SOURCES says INVALID (unknown field
//!   `destination.port` in a TrafficTarget v1alpha3). A default `kubectl apply`
//!   (fieldValidation=Strict) refuses unknown fields, and so does the default mode: SMI1204.
//!   (`traffic-spec-03` is invalid either way: `spec` missing, SMI1202.)
//! * `nginxinc…examples-clustered-application`: SOURCES says valid; here it is SMI1305, because
//!   `pathRegex: "*"` (a glob) does not compile as an RE2 regex — the quick check did not compile
//!   regexes.
//! * `openservicemesh-osm-docs…tcp_traffic_routing--block1`: SOURCES says "YAML parse error" for
//!   the file; here the first document (flattened indentation, so `metadata` is null and `spec`
//!   is null) is also reported: SMI1202 (`spec` missing) and SMI1205 (`metadata.name` missing),
//!   and the parse error (SMI1001) is in the second document only.
//! * The `…traffic-spec-03` TrafficTarget also gets SMI1402: its rule names match `metrics`,
//!   which the HTTPRouteGroup of the same file (whose matches are pruned) does not define.
//! * Template placeholders (`$NAMESPACE`, `<Namespace>`) are warnings (SMI1506/SMI1507), not the
//!   DNS-1123 errors a plain check would give; SOURCES calls these files valid too.
//! * NGINX Service Mesh writes `headers` in map form: valid for its own CRDs and
//!   smi-controller-sdk's, rejected by the smi-sdk-go/OSM CRDs and the CRDs smi-types generates,
//!   hence warning SMI1508 by default (silent with `--target controller-sdk`).
//! * Warnings SMI1401/SMI1403 (route not in the input set) appear where a file references
//!   routes defined in another file or not shown.

use smi_validate::{Options, Severity, validate_str};
use std::collections::BTreeSet;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/realworld");

/// (file, errors, warnings, errors with --strict)
type Verdict = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const EXPECTED: &[Verdict] = &[
    (
        "flomesh-io-fsm__demo-deploy-mysql--block1.yaml",
        &[],
        &["SMI1506", "SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__deploy-linkerd-traffic.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__deploy-traffic-crd.yaml",
        &[],
        &["SMI1506", "SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-access-04-install.yaml",
        &[],
        &["SMI1506", "SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-access-06-install.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-spec-03-install.yaml",
        &["SMI1202", "SMI1204", "SMI1402"],
        &["SMI1506", "SMI1507"],
        &["SMI1202", "SMI1204", "SMI1402"],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-spec-05-install.yaml",
        &["SMI1204"],
        &["SMI1506", "SMI1507"],
        &["SMI1204"],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-split-04-install.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-split-06-install.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-split-08-install.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "layer5io-learn-layer5__smi-conformance-test-gen-test-yamls-traffic-split-10-install.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "linkerd-linkerd-smi__test-testdata-traffic-split-leaf-weights.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "linkerd-linkerd-smi__test-testdata-updated-traffic-split-leaf-weights.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-guides-smi-traffic-policies--block1.yaml",
        &["SMI1001"],
        &["SMI1403"],
        &["SMI1001"],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-guides-smi-traffic-policies--block2.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-accesscontrol-walkthrough--block1.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-accesscontrol-walkthrough--block2.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-accesscontrol-walkthrough--block3.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-ratelimit-walkthrough--block1.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block3.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block4.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block5.yaml",
        &[],
        &["SMI1403"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__docs-content-tutorials-trafficsplit-deployments--block6.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__examples-access.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__examples-clustered-application.yaml",
        &["SMI1305"],
        &["SMI1507"],
        &["SMI1305"],
    ),
    (
        "nginxinc-nginx-service-mesh__examples-rate-limit-ratelimit-rules.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__examples-traffic-split-trafficsplit-matches.yaml",
        &[],
        &["SMI1508"],
        &[],
    ),
    (
        "nginxinc-nginx-service-mesh__examples-traffic-split-trafficsplit.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-canary_rollout--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-canary_rollout--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-egress_policy--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-egress_policy--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-statefulsets--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-statefulsets--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-demos-tcp_traffic_routing--block1.yaml",
        &["SMI1001", "SMI1202", "SMI1204", "SMI1205"],
        &[],
        &["SMI1001", "SMI1202", "SMI1204", "SMI1205"],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-getting_started-traffic_policies--block1.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-getting_started-traffic_policies--block2.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-guides-integrations-dapr--block1.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-guides-integrations-dapr--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-guides-traffic_management-traffic_split--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-overview-osm_components--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__content-en-docs-overview-osm_components--block2.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-access-traffic-access-v1-allow-bookthief.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-access-traffic-access-v1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-apps-bookstore-v2.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-samples-canary-httpbin-split.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-split-traffic-split-50-50.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-split-traffic-split-v1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "openservicemesh-osm-docs__manifests-split-traffic-split-v2.yaml",
        &[],
        &[],
        &[],
    ),
    ("openservicemesh-osm__DESIGN--block1.yaml", &[], &[], &[]),
    ("openservicemesh-osm__DESIGN--block2.yaml", &[], &[], &[]),
    (
        "openservicemesh-osm__demo-deploy-mysql--block1.yaml",
        &[],
        &["SMI1506", "SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__demo-deploy-traffic-specs--block1.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__demo-deploy-traffic-specs--block2.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__demo-deploy-traffic-split--block1.yaml",
        &[],
        &["SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__demo-deploy-traffic-target--block1.yaml",
        &[],
        &["SMI1401", "SMI1506", "SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__demo-deploy-traffic-target-with-same-sa--block1.yaml",
        &[],
        &["SMI1401", "SMI1506", "SMI1507"],
        &[],
    ),
    (
        "openservicemesh-osm__docs-identity--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-manifests-02-traffic-split-1000-0.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-manifests-04-traffic-split-900-100.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-manifests-05-traffic-split-750-250.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-manifests-06-traffic-split-200-800.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-manifests-07-traffic-split-0-1000.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-trafficsplit-overview--block1.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-traffictarget-manifests-traffictarget-reviews-v2.yaml",
        &[],
        &["SMI1401"],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__docs-smi-traffictarget-manifests-traffictarget.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__test-manual-02-traffic-split-1000-0.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__test-manual-04-traffic-split-1000-500.yaml",
        &[],
        &[],
        &[],
    ),
    (
        "servicemeshinterface-smi-adapter-istio__test-manual-05-traffic-split-0-1000.yaml",
        &[],
        &[],
        &[],
    ),
];

fn codes(r: &smi_validate::Report, sev: Severity) -> Vec<String> {
    let s: BTreeSet<String> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == sev)
        .map(|d| d.code.to_string())
        .collect();
    s.into_iter().collect()
}

#[test]
fn every_realworld_file_has_its_verdict() {
    let mut files: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    assert_eq!(files, listed, "the table must list every realworld file");
    let mut failures = Vec::new();
    for (file, errors, warnings, strict) in EXPECTED {
        let text = std::fs::read_to_string(format!("{DIR}/{file}")).unwrap();
        let r = validate_str(file, &text, &Options::default());
        if codes(&r, Severity::Error) != *errors || codes(&r, Severity::Warning) != *warnings {
            failures.push(format!(
                "{file}: got {:?} / {:?}",
                codes(&r, Severity::Error),
                codes(&r, Severity::Warning)
            ));
        }
        let r = validate_str(file, &text, &Options::default().strict(true));
        if codes(&r, Severity::Error) != *strict {
            failures.push(format!(
                "{file} --strict: got {:?}",
                codes(&r, Severity::Error)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kuttl_teststep_with_smi_delete_list_is_skipped() {
    let text = "apiVersion: kuttl.dev/v1beta1\nkind: TestStep\ndelete:\n- apiVersion: split.smi-spec.io/v1alpha4\n  kind: TrafficSplit\n  name: x\n";
    let r = validate_str("step.yaml", text, &Options::default());
    assert!(r.diagnostics.is_empty());
    assert_eq!((r.summary.smi_objects, r.summary.skipped), (0, 1));
}
