//! `conversion-webhook`: starts the binary on loopback and POSTs `apiextensions.k8s.io/v1`
//! ConversionReviews to it, as the API server does for the all-versions CRDs.

mod common;

use common::Webhook;
use serde_json::{Value, json};

fn review(uid: &str, desired: &str, object: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {"uid": uid, "desiredAPIVersion": desired, "objects": [object]}
    })
}

fn split_v1alpha1() -> Value {
    json!({
        "apiVersion": "split.smi-spec.io/v1alpha1",
        "kind": "TrafficSplit",
        "metadata": {"name": "web", "namespace": "shop", "uid": "5a1e0c4e-aaaa-4bbb-8ccc-000000000001", "resourceVersion": "42"},
        "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 1}, {"service": "web-v2", "weight": "500m"}]}
    })
}

fn target_v1alpha2_with_port() -> Value {
    json!({
        "apiVersion": "access.smi-spec.io/v1alpha2",
        "kind": "TrafficTarget",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "destination": {"kind": "ServiceAccount", "name": "api", "namespace": "shop", "port": 8080},
            "rules": [{"kind": "HTTPRouteGroup", "name": "api-routes", "matches": ["all"]}],
            "sources": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]
        }
    })
}

#[tokio::test]
async fn converts_mixed_scale_weights_and_stashes_a_port() {
    let hook = Webhook::start(env!("CARGO_BIN_EXE_conversion-webhook"), &[]);
    assert_eq!(hook.path, "/convert");
    assert!(hook.cert_pem.is_some(), "TLS is the default");

    // v1alpha1 weights 1 and 500m are quantities: a 2:1 split
    let (status, answer) = hook
        .post(&review(
            "c-1",
            "split.smi-spec.io/v1alpha4",
            split_v1alpha1(),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (answer["apiVersion"].as_str(), answer["kind"].as_str()),
        (Some("apiextensions.k8s.io/v1"), Some("ConversionReview"))
    );
    let response = &answer["response"];
    assert_eq!(response["uid"], "c-1");
    assert_eq!(response["result"]["status"], "Success", "{answer}");
    let objects = response["convertedObjects"].as_array().unwrap();
    assert_eq!(objects.len(), 1);
    let ts = &objects[0];
    assert_eq!(ts["apiVersion"], "split.smi-spec.io/v1alpha4");
    assert_eq!(
        ts["metadata"]["uid"], "5a1e0c4e-aaaa-4bbb-8ccc-000000000001",
        "metadata is kept"
    );
    let backends = ts["spec"]["backends"].as_array().unwrap();
    assert_eq!(
        (
            backends[0]["service"].as_str(),
            backends[1]["service"].as_str()
        ),
        (Some("web-v1"), Some("web-v2"))
    );
    let (w1, w2) = (
        backends[0]["weight"].as_i64().unwrap(),
        backends[1]["weight"].as_i64().unwrap(),
    );
    assert!(w2 > 0 && w1 == 2 * w2, "weights {w1}:{w2} should be 2:1");

    // v1alpha3 has no destination port: converted, the port kept in the stash annotation
    let (status, answer) = hook
        .post(&review(
            "c-2",
            "access.smi-spec.io/v1alpha3",
            target_v1alpha2_with_port(),
        ))
        .await;
    assert_eq!(status, 200);
    let response = &answer["response"];
    assert_eq!(response["uid"], "c-2");
    assert_eq!(response["result"]["status"], "Success", "{answer}");
    let message = response["result"]["message"].as_str().unwrap();
    assert!(
        message.contains("object 0: spec.destination.port = 8080"),
        "{message}"
    );
    let tt = &response["convertedObjects"][0];
    assert_eq!(tt["apiVersion"], "access.smi-spec.io/v1alpha3");
    assert_eq!(tt["spec"]["destination"]["name"], "api");
    assert!(tt["spec"]["destination"].get("port").is_none(), "{tt}");
    assert!(
        tt["metadata"]["annotations"]["convert.smi-rs.io/stash"]
            .as_str()
            .is_some_and(|s| s.contains("8080")),
        "{tt}"
    );
    // and back: the port is restored, the annotation gone
    let (_, answer) = hook
        .post(&review("c-3", "access.smi-spec.io/v1alpha2", tt.clone()))
        .await;
    assert_eq!(
        answer["response"]["convertedObjects"][0],
        target_v1alpha2_with_port(),
        "{answer}"
    );
}

#[tokio::test]
async fn refuse_mode_fails_naming_the_field() {
    let hook = Webhook::start(
        env!("CARGO_BIN_EXE_conversion-webhook"),
        &["--lossy", "refuse", "--plain-http"],
    );
    let (status, answer) = hook
        .post(&review(
            "c-3",
            "access.smi-spec.io/v1alpha3",
            target_v1alpha2_with_port(),
        ))
        .await;
    assert_eq!(status, 200);
    let response = &answer["response"];
    assert_eq!(response["uid"], "c-3");
    assert_eq!(response["result"]["status"], "Failure", "{answer}");
    let message = response["result"]["message"].as_str().unwrap();
    assert!(
        message.contains("spec.destination.port") && message.contains("8080"),
        "{message}"
    );
    assert!(
        response["convertedObjects"]
            .as_array()
            .is_none_or(|o| o.is_empty())
    );

    // a target version the kind does not have
    let (_, answer) = hook
        .post(&review(
            "c-4",
            "split.smi-spec.io/v1beta1",
            split_v1alpha1(),
        ))
        .await;
    assert_eq!(answer["response"]["result"]["status"], "Failure");
    assert!(
        answer["response"]["result"]["message"]
            .as_str()
            .unwrap()
            .contains("split.smi-spec.io/v1alpha4"),
        "{answer}"
    );
}
