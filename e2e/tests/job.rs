//! `smi-perf k8s job` output (a ConfigMap with the test and an Indexed Job of shards) is
//! accepted by a real API server (`dryRun=All`, `fieldValidation=Strict`, no warnings).
//!
//! The manifests come from `smi_perf_engine::k8s::job_manifests(..).to_yaml()`, the function
//! and text the CLI prints. Needs the local control plane: `scripts/controlplane.sh start`.

use serde_json::Value;
use smi_e2e::{Cluster, FieldValidation};
use smi_perf_engine::k8s::{JobOptions, job_manifests};

const NAMESPACE: &str = "smi-e2e-job";

const TEST: &str = "apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTest
metadata:
  name: checkout-latency
spec:
  protocol: HTTP
  endpoints: ['http://checkout.shop.svc:8080/']
  loadModel: Open
  rps: 4000
  connections: 32
  parallelism: 4
  duration: 60s
  warmup: 5s
  thresholds:
  - metric: latencyP99
    max: 250ms
";

async fn check(opts: &JobOptions) {
    let cluster = Cluster::connect().await;
    cluster
        .ensure_namespace(NAMESPACE)
        .await
        .expect("namespace");
    let m = job_manifests(TEST, opts).expect("job manifests");
    let yaml = m.to_yaml().expect("yaml");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("the CLI's YAML parses");
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["ConfigMap", "Job"], "{yaml}");
    for doc in &docs {
        let outcome = cluster
            .dry_run(doc, FieldValidation::Strict)
            .await
            .expect("dry run");
        assert!(
            outcome.accepted() && outcome.warnings.is_empty(),
            "{} refused or warned: {}\n{yaml}",
            doc["kind"],
            outcome.summary()
        );
        let returned = outcome.object.expect("accepted objects are returned");
        if doc["kind"] == "Job" {
            let spec = &returned["spec"];
            assert_eq!(spec["completionMode"], "Indexed", "{returned}");
            assert_eq!(spec["completions"], 4);
            assert_eq!(spec["parallelism"], 4);
            assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        }
    }
}

#[tokio::test]
async fn job_manifests_are_accepted_by_the_server() {
    let mut opts = JobOptions::new("registry.example/smi-perf:0.1");
    opts.namespace = Some(NAMESPACE.into());
    check(&opts).await;
}

#[tokio::test]
async fn job_manifests_with_every_option_are_accepted_by_the_server() {
    let mut opts = JobOptions::new("registry.example/smi-perf:0.1");
    opts.namespace = Some(NAMESPACE.into());
    opts.name = Some("checkout-run-7".into());
    opts.backoff_limit = 2;
    opts.start_at = Some("2026-01-01T00:00:00Z".into());
    opts.active_deadline_seconds = Some(900);
    opts.image_pull_policy = Some("IfNotPresent".into());
    check(&opts).await;
}
