//! `examples/admission-webhook` registered as a `ValidatingWebhookConfiguration` for the SMI
//! kinds on the real API server (HTTPS on 127.0.0.1, serving certificate signed by the control
//! plane's CA): objects the CRD schemas accept but smi-validate refuses are denied with
//! smi-validate's message (code and field path), valid ones are stored, on create and update.
//!
//! The registration, as a vendor would write it:
//!
//! - `failurePolicy: Fail`: an SMI object is never stored unvalidated (fail closed; the webhook
//!   is CPU-only and answers in well under a millisecond, so its absence is the only failure);
//! - `timeoutSeconds: 5`: half the default 10 s, so a hung webhook costs a write at most 5 s;
//! - `matchPolicy: Equivalent`: the rules name the latest version of each group and a request
//!   at any other served version (through the conversion webhook) is converted and still
//!   validated, never skipped;
//! - `sideEffects: None`, so `dryRun` requests are validated too (the test relies on it).
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

mod webhook;

use http::Method;
use serde_json::{Value, json};
use smi_e2e::Cluster;
use smi_e2e::smi_types::crd::{self, Flavour, GenerateOptions};

const NS: &str = "smi-admission-e2e";
const VWC: &str = "smi-rs-e2e-validate";
const VWC_URL: &str = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

fn registration(url: &str, ca: &[u8]) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": VWC},
        "webhooks": [{
            "name": "validate.smi-rs.io",
            "clientConfig": {"url": url, "caBundle": k8s_openapi::ByteString(ca.to_vec())},
            "rules": [{
                "apiGroups": ["access.smi-spec.io", "specs.smi-spec.io", "split.smi-spec.io"],
                "apiVersions": ["v1alpha4"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["*"],
                "scope": "Namespaced"
            }],
            // only this test's namespace: a registration left by an interrupted run cannot
            // block other tests
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NS}},
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "sideEffects": "None",
            "timeoutSeconds": 5,
            "admissionReviewVersions": ["v1"]
        }]
    })
}

fn routes(name: &str, path_regex: &str) -> Value {
    json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"matches": [{"name": "all", "pathRegex": path_regex, "methods": ["GET"]}]}})
}

#[tokio::test]
async fn the_api_server_asks_smi_validate() {
    let cluster = Cluster::connect().await;
    let hook = webhook::start("admission-webhook", &[]);
    assert!(hook.url.ends_with("/validate"), "{}", hook.url);
    let mut opts = GenerateOptions::default();
    opts.without_perf = true;
    let crds: Vec<_> = crd::generate_with(Flavour::SdkCompatible, &opts)
        .into_iter()
        .filter(|c| {
            matches!(
                c.metadata.name.as_deref(),
                Some("httproutegroups.specs.smi-spec.io" | "trafficsplits.split.smi-spec.io")
            )
        })
        .collect();
    for i in cluster.install_crds(&crds).await.unwrap() {
        assert!(i.is_clean(), "{}: {}", i.name, i.outcome.summary());
    }
    cluster.ensure_namespace(NS).await.unwrap();
    let _ = cluster
        .raw(Method::DELETE, &format!("{VWC_URL}/{VWC}"), None, "")
        .await
        .unwrap();
    let (status, _, body) = cluster
        .raw(
            Method::POST,
            VWC_URL,
            Some(&registration(&hook.url, &hook.ca_bundle)),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "registering the webhook: {body}");

    // the registration reaches the API server's webhook list asynchronously: wait until a
    // dry run of an invalid object is denied by it
    let bad = routes("bad", "(");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let denied = loop {
        let out = cluster
            .dry_run(&bad, smi_e2e::FieldValidation::Strict)
            .await
            .unwrap();
        if !out.accepted() {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook was never called: {}",
            out.summary()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let message = denied.summary();
    assert!(
        message.contains("admission webhook \"validate.smi-rs.io\" denied the request"),
        "{message}"
    );
    assert!(
        message.contains("SMI1305") && message.contains("spec.matches[0].pathRegex"),
        "{message}"
    );

    // for real: refused, nothing stored
    let out = cluster.create(&bad).await.unwrap();
    assert!(!out.accepted(), "{}", out.summary());
    assert!(out.summary().contains("SMI1305"), "{}", out.summary());
    assert_eq!(cluster.get(&bad).await.unwrap(), None);

    // a header value regex that does not compile: SMI1306 at its path
    let mut bad_header = routes("bad-header", "/api");
    bad_header["spec"]["matches"][0]["headers"] = json!([{"x-user": "[a-"}]);
    let out = cluster.create(&bad_header).await.unwrap();
    assert!(!out.accepted(), "{}", out.summary());
    assert!(
        out.summary().contains("SMI1306") && out.summary().contains("spec.matches[0].headers"),
        "{}",
        out.summary()
    );

    // valid objects are stored
    let good = routes("good", "/api/.*");
    let out = cluster.create(&good).await.unwrap();
    assert!(out.accepted(), "{}", out.summary());
    let split = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 90}, {"service": "b", "weight": 10}]}});
    let out = cluster.create(&split).await.unwrap();
    assert!(out.accepted(), "{}", out.summary());

    // an update that makes it invalid is refused; the stored object is unchanged
    let out = cluster
        .merge_patch(
            &good,
            "",
            &json!({"spec": {"matches": [{"name": "all", "pathRegex": "*"}]}}),
        )
        .await
        .unwrap();
    assert!(!out.accepted(), "{}", out.summary());
    assert!(out.summary().contains("SMI1305"), "{}", out.summary());
    let stored = cluster.get(&good).await.unwrap().unwrap();
    assert_eq!(stored["spec"]["matches"][0]["pathRegex"], "/api/.*");

    let (status, _, body) = cluster
        .raw(Method::DELETE, &format!("{VWC_URL}/{VWC}"), None, "")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    cluster.delete(&good).await.unwrap();
    cluster.delete(&split).await.unwrap();
}
