//! `perf.smi-spec.io` objects on a real API server: a PerformanceTest is created and its status
//! written through the status subresource; a PerformanceTestResult, once written, cannot be
//! changed (the CRD's CEL transition rule, enforced by the server).
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

use serde_json::{Value, json};
use smi_e2e::Cluster;
use smi_e2e::smi_types::crd::{self, Flavour};

const NAMESPACE: &str = "smi-e2e-perf";

/// Installs the perf CRDs once per test binary (both tests use them).
static INSTALLED: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);

async fn setup() -> Cluster {
    let cluster = Cluster::connect().await;
    let mut installed = INSTALLED.lock().await;
    if !*installed {
        let perf: Vec<_> = crd::generate(Flavour::AllVersions)
            .into_iter()
            .filter(|c| c.spec.group == "perf.smi-spec.io")
            .collect();
        assert_eq!(
            perf.len(),
            2,
            "PerformanceTest and PerformanceTestResult CRDs"
        );
        let installs = cluster
            .install_crds(&perf)
            .await
            .expect("installing the perf CRDs");
        for i in &installs {
            assert!(
                i.is_clean(),
                "{}: {} {:?}",
                i.name,
                i.outcome.summary(),
                i.conditions
            );
        }
        cluster
            .ensure_namespace(NAMESPACE)
            .await
            .expect("namespace");
        *installed = true;
    }
    cluster
}

fn performance_test() -> Value {
    json!({
        "apiVersion": "perf.smi-spec.io/v1alpha1",
        "kind": "PerformanceTest",
        "metadata": {"name": "checkout-latency", "namespace": NAMESPACE},
        "spec": {
            "protocol": "HTTP",
            "endpoints": ["http://checkout.shop.svc:8080/"],
            "loadModel": "Open",
            "rps": 500,
            "connections": 8,
            "duration": "30s",
            "thresholds": [{"metric": "latencyP99", "max": "250ms"}]
        }
    })
}

fn performance_test_result() -> Value {
    json!({
        "apiVersion": "perf.smi-spec.io/v1alpha1",
        "kind": "PerformanceTestResult",
        "metadata": {"name": "checkout-latency-1", "namespace": NAMESPACE},
        "testRef": {"name": "checkout-latency"},
        "id": "6c1f7a52-0000-4000-8000-000000000001",
        "loadGenerator": "builtin",
        "engineVersion": "0.1.0",
        "startTime": "2026-01-01T00:00:00Z",
        "endTime": "2026-01-01T00:00:30Z",
        "actualDuration": "30s",
        "requested": {
            "loadModel": "Open",
            "rps": 500,
            "connections": 8,
            "duration": "30s",
            "protocol": "HTTP",
            "endpoints": ["http://checkout.shop.svc:8080/"]
        },
        "requestsTotal": 15000,
        "requestsSucceeded": 14990,
        "requestsFailed": 10,
        "droppedOrLate": 0,
        "actualRps": "499.9",
        "bytesSent": 1500000,
        "bytesReceived": 3000000,
        "statusCodes": {"200": 14990, "503": 10},
        "errors": {},
        "latency": {
            "count": 15000,
            "minMicros": 100,
            "meanMicros": 200,
            "stddevMicros": 50,
            "maxMicros": 900,
            "percentiles": [
                {"percentile": "50", "valueMicros": 180},
                {"percentile": "99", "valueMicros": 700}
            ]
        },
        "latencyBasis": "Intended",
        "thresholds": [{"metric": "latencyP99", "limit": "<=250ms", "observed": "700us", "passed": false}],
        "passed": false
    })
}

/// Creates `object` for real after deleting any leftover of an earlier run.
async fn fresh(cluster: &Cluster, object: &Value) {
    cluster.delete(object).await.expect("delete leftover");
    for _ in 0..100 {
        if cluster.get(object).await.expect("get").is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let created = cluster.create(object).await.expect("create");
    assert!(
        created.accepted() && created.warnings.is_empty(),
        "{} {}: {}",
        object["kind"],
        object["metadata"]["name"],
        created.summary()
    );
}

#[tokio::test]
async fn performance_test_status_is_written_through_the_status_subresource() {
    let cluster = setup().await;
    let test = performance_test();
    fresh(&cluster, &test).await;

    let status = json!({"status": {
        "phase": "Running",
        "observedGeneration": 1,
        "startTime": "2026-01-01T00:00:00Z",
        "actualRps": "499.9"
    }});
    let patched = cluster
        .merge_patch(&test, "/status", &status)
        .await
        .expect("patch status");
    assert!(patched.accepted(), "status update: {}", patched.summary());

    let stored = cluster.get(&test).await.expect("get").expect("exists");
    assert_eq!(stored["status"]["phase"], "Running", "{stored}");
    assert_eq!(stored["status"]["actualRps"], "499.9");
    assert_eq!(
        stored["spec"], test["spec"],
        "the status write left the spec alone"
    );

    // Through the main resource, status is ignored (the status subresource owns it).
    let main = cluster
        .merge_patch(&test, "", &json!({"status": {"phase": "Failed"}}))
        .await
        .expect("patch");
    assert!(main.accepted(), "{}", main.summary());
    let stored = cluster.get(&test).await.expect("get").expect("exists");
    assert_eq!(stored["status"]["phase"], "Running", "{stored}");

    // The status schema is enforced on the subresource.
    let bad = cluster
        .merge_patch(&test, "/status", &json!({"status": {"phase": "Exploded"}}))
        .await
        .expect("patch");
    assert!(
        !bad.accepted(),
        "phase Exploded accepted: {}",
        bad.summary()
    );
    assert!(bad.message.contains("status.phase"), "{}", bad.summary());

    // And a spec change through /status is ignored.
    let spec_via_status = cluster
        .merge_patch(&test, "/status", &json!({"spec": {"rps": 1}}))
        .await
        .expect("patch");
    assert!(spec_via_status.accepted(), "{}", spec_via_status.summary());
    let stored = cluster.get(&test).await.expect("get").expect("exists");
    assert_eq!(stored["spec"]["rps"], 500, "{stored}");
}

#[tokio::test]
async fn performance_test_result_is_immutable_once_written() {
    let cluster = setup().await;
    let result = performance_test_result();
    fresh(&cluster, &result).await;

    for (what, patch) in [
        ("passed", json!({"passed": true})),
        ("requestsTotal", json!({"requestsTotal": 1})),
        ("latency", json!({"latency": {"maxMicros": 1}})),
        ("new optional field", json!({"labels": {"run": "2"}})),
    ] {
        let changed = cluster
            .merge_patch(&result, "", &patch)
            .await
            .expect("patch");
        assert!(
            !changed.accepted(),
            "changing {what} of a written PerformanceTestResult was accepted"
        );
        assert_eq!(changed.status, 422, "{what}: {}", changed.summary());
    }
    let stored = cluster.get(&result).await.expect("get").expect("exists");
    assert_eq!(stored["passed"], false);
    assert_eq!(stored["requestsTotal"], 15000);

    // Writing the same content again is not a change.
    let same = cluster
        .merge_patch(&result, "", &json!({"passed": false}))
        .await
        .expect("patch");
    assert!(
        same.accepted(),
        "a no-op patch was refused: {}",
        same.summary()
    );
}
