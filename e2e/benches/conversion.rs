//! Conversion cost, measured (nothing asserted): needs the local control plane
//! (`scripts/controlplane.sh start`), then
//!
//! ```text
//! cargo bench -p smi-e2e --features e2e --bench conversion
//! ```
//!
//! 1. The library: `smi_types::convert::review` on a 1,000-object TrafficSplit list for every
//!    pair of versions, one thread: objects/s per core (median of 5).
//! 2. The API server: 1,000 TrafficSplits stored at v1alpha4 (all-versions CRD, conversion
//!    webhook `examples/conversion-webhook`); LIST at v1alpha4 (no conversion: what the built-in
//!    `None` strategy does) side by side with a LIST at each older version (every object through
//!    the webhook), median of 5.
//! 3. 200 concurrent clients, 2,000 GETs of one object each way (bounded: 10 s at most), at
//!    v1alpha4 (no conversion) and at v1alpha1 (webhook): p50/p99.

#[path = "../tests/webhook/mod.rs"]
mod webhook;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{Value, json};
use smi_e2e::Cluster;
use smi_e2e::smi_types::convert;
use smi_e2e::smi_types::crd::{self, Flavour, GenerateOptions};

const NS: &str = "smi-conversion-bench";
const N: usize = 1000;
const VERSIONS: [&str; 4] = ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"];

fn split(i: usize, version: &str) -> Value {
    let weights = if version == "v1alpha1" {
        json!([{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}])
    } else {
        json!([{"service": "a", "weight": 90}, {"service": "b", "weight": 10}])
    };
    let mut o = json!({"apiVersion": format!("split.smi-spec.io/{version}"), "kind": "TrafficSplit",
        "metadata": {"name": format!("ts-{i}"), "namespace": NS, "uid": format!("00000000-0000-4000-8000-{i:012}"), "resourceVersion": "1"},
        "spec": {"service": "web", "backends": weights}});
    if matches!(version, "v1alpha3" | "v1alpha4") {
        o["spec"]["matches"] = json!([{"kind": "HTTPRouteGroup", "name": "r"}]);
    }
    o
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn library() {
    println!("library: convert::review of {N} TrafficSplits, one thread (objects/s, median of 5)");
    print!("{:>10}", "from\\to");
    for to in VERSIONS {
        print!("{to:>12}");
    }
    println!();
    for from in VERSIONS {
        print!("{from:>10}");
        let objects: Vec<Value> = (0..N).map(|i| split(i, from)).collect();
        for to in VERSIONS {
            let review: Value = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                "request": {"uid": "u", "desiredAPIVersion": format!("split.smi-spec.io/{to}"), "objects": objects}});
            let runs: Vec<f64> = (0..5)
                .map(|_| {
                    let r = serde_json::from_value(review.clone()).unwrap();
                    let t = Instant::now();
                    let out = convert::review(r);
                    let s = t.elapsed().as_secs_f64();
                    assert_eq!(out.response.unwrap().converted_objects.len(), N);
                    N as f64 / s
                })
                .collect();
            print!("{:>12.0}", median(runs));
        }
        println!();
    }
}

async fn list_ms(cluster: &Cluster, version: &str) -> f64 {
    let url = format!("/apis/split.smi-spec.io/{version}/namespaces/{NS}/trafficsplits");
    let runs: Vec<f64> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let (status, _, list) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            assert_eq!(status, 200);
            assert_eq!(list["items"].as_array().map(Vec::len), Some(N));
            v.push(ms);
        }
        v
    };
    median(runs)
}

async fn concurrent(cluster: Arc<Cluster>, version: &str) -> (f64, f64, usize) {
    let url = Arc::new(format!(
        "/apis/split.smi-spec.io/{version}/namespaces/{NS}/trafficsplits/ts-0"
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (cluster, url) = (cluster.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for _ in 0..10 {
                if Instant::now() > deadline {
                    break;
                }
                let t = Instant::now();
                let (status, _, _) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                assert_eq!(status, 200);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by(f64::total_cmp);
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    (p(0.5), p(0.99), all.len())
}

#[tokio::main]
async fn main() {
    library();

    let cluster = Arc::new(Cluster::connect().await);
    let hook = webhook::start("conversion-webhook", &[]);
    let mut opts = GenerateOptions::default();
    opts.without_perf = true;
    let mut crds: Vec<_> = crd::generate_with(Flavour::AllVersions, &opts)
        .into_iter()
        .filter(|c| c.metadata.name.as_deref() == Some("trafficsplits.split.smi-spec.io"))
        .collect();
    let cfg = crds[0]
        .spec
        .conversion
        .as_mut()
        .and_then(|c| c.webhook.as_mut())
        .and_then(|w| w.client_config.as_mut())
        .unwrap();
    cfg.service = None;
    cfg.url = Some(hook.url.clone());
    cfg.ca_bundle = Some(k8s_openapi::ByteString(hook.ca_bundle.clone()));
    for i in cluster.install_crds(&crds).await.unwrap() {
        assert!(i.is_clean(), "{}", i.outcome.summary());
    }
    cluster.ensure_namespace(NS).await.unwrap();
    for i in 0..N {
        let mut o = split(i, "v1alpha4");
        o["metadata"] = json!({"name": format!("ts-{i}"), "namespace": NS});
        let out = cluster.create(&o).await.unwrap();
        assert!(out.accepted(), "{}", out.summary());
    }
    let none = list_ms(&cluster, "v1alpha4").await;
    println!("\nAPI server: LIST of {N} TrafficSplits stored at v1alpha4 (median of 5)");
    println!("  v1alpha4 (no conversion, as strategy None): {none:.1} ms");
    for v in ["v1alpha3", "v1alpha2", "v1alpha1"] {
        let ms = list_ms(&cluster, v).await;
        println!(
            "  {v} (webhook): {ms:.1} ms = {:.2}x, {:.0} objects/s",
            ms / none,
            N as f64 / (ms / 1e3)
        );
    }
    println!("\n200 concurrent clients, GET of one object (2,000 requests, 10 s at most)");
    for v in ["v1alpha4", "v1alpha1"] {
        let (p50, p99, n) = concurrent(cluster.clone(), v).await;
        println!("  {v}: {n} requests, p50 {p50:.1} ms, p99 {p99:.1} ms");
    }
    cluster
        .delete_crds(&["trafficsplits.split.smi-spec.io".to_owned()])
        .await
        .unwrap();
}
