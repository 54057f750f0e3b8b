//! `admission-webhook`: starts the binary on loopback and POSTs `admission.k8s.io/v1`
//! AdmissionReviews to it over TLS, trusting the certificate it generated.

mod common;

use common::Webhook;
use serde_json::{Value, json};

fn review(uid: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "split.smi-spec.io", "version": "v1alpha4", "kind": "TrafficSplit"},
            "resource": {"group": "split.smi-spec.io", "version": "v1alpha4", "resource": "trafficsplits"},
            "requestKind": {"group": "split.smi-spec.io", "version": "v1alpha4", "kind": "TrafficSplit"},
            "requestResource": {"group": "split.smi-spec.io", "version": "v1alpha4", "resource": "trafficsplits"},
            "name": "web",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions", "fieldManager": "kubectl-client-side-apply"}
        }
    })
}

fn split(weight: Value) -> Value {
    json!({
        "apiVersion": "split.smi-spec.io/v1alpha4",
        "kind": "TrafficSplit",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": weight}, {"service": "web-v2", "weight": 10}]}
    })
}

#[tokio::test]
async fn allows_valid_and_denies_invalid_objects_over_tls() {
    let hook = Webhook::start(env!("CARGO_BIN_EXE_admission-webhook"), &[]);
    assert_eq!(hook.path, "/validate");

    let (status, answer) = hook
        .post(&review(
            "0b7a5c6e-1111-4d7e-9f00-000000000001",
            split(json!(90)),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(
        answer["response"]["uid"],
        "0b7a5c6e-1111-4d7e-9f00-000000000001"
    );
    assert_eq!(answer["response"]["allowed"], true, "{answer}");

    // a quoted weight: the API server would reject it too, but only with a generic schema error
    let (status, answer) = hook
        .post(&review(
            "0b7a5c6e-2222-4d7e-9f00-000000000002",
            split(json!("90")),
        ))
        .await;
    assert_eq!(status, 200);
    let response = &answer["response"];
    assert_eq!(response["uid"], "0b7a5c6e-2222-4d7e-9f00-000000000002");
    assert_eq!(response["allowed"], false, "{answer}");
    let message = response["status"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {answer}"));
    assert!(
        message.contains("SMI1201") && message.contains("spec.backends[0].weight"),
        "{message}"
    );
}

#[tokio::test]
async fn rejects_garbage_and_untrusted_clients() {
    let hook = Webhook::start(env!("CARGO_BIN_EXE_admission-webhook"), &[]);
    let (status, answer) = hook.post(&json!({"hello": "world"})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not an AdmissionReview")
    );

    // a client trusting another certificate cannot talk to it: the TLS is real
    let other = examples::tls::SelfSigned::generate(&examples::tls::default_names()).unwrap();
    let err = examples::serve::post_json(
        hook.addr,
        Some(other.cert_pem.as_bytes()),
        "/validate",
        b"{}".to_vec(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn exits_after_max_requests() {
    let mut hook = Webhook::start(
        env!("CARGO_BIN_EXE_admission-webhook"),
        &["--max-requests", "1"],
    );
    let (_, answer) = hook
        .post(&review(
            "0b7a5c6e-3333-4d7e-9f00-000000000003",
            split(json!(1)),
        ))
        .await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(hook.wait_exit(std::time::Duration::from_secs(10)).success());
}

#[tokio::test]
async fn returns_warnings_on_allowed_objects() {
    let hook = Webhook::start(env!("CARGO_BIN_EXE_admission-webhook"), &[]);
    // v1alpha1 weights are quantities; mixing scales is legal but a classic mistake
    let object = json!({
        "apiVersion": "split.smi-spec.io/v1alpha1",
        "kind": "TrafficSplit",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 1}, {"service": "web-v2", "weight": "500m"}]}
    });
    let (_, answer) = hook
        .post(&review("0b7a5c6e-4444-4d7e-9f00-000000000004", object))
        .await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], true, "{answer}");
    let warnings = response["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings in {answer}"));
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("SMI1502")),
        "{warnings:?}"
    );
}
