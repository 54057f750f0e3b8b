//! Conversion cost, measured (nothing asserted about speed): needs the local control plane
//! (`scripts/controlplane.sh start`), then
//!
//! ```text
//! cargo bench -p smi-e2e --features e2e --bench conversion
//! ```
//!
//! 1. **The library**: `smi_types::convert::review` on a 1,000-object TrafficSplit list for
//!    every pair of versions, on one thread: objects/s per core (median of 5).
//! 2. **The API server, webhook vs `None`, side by side.** Two copies of the all-versions
//!    TrafficSplit CRD with the same schema: `split.smi-spec.io` with `conversion.strategy:
//!    Webhook` pointing at `examples/conversion-webhook` built with `--release` (HTTPS on
//!    127.0.0.1), and a test-only group ([`NONE_GROUP`]) with `strategy: None` (the API server's
//!    built-in conversion: it only rewrites `apiVersion`). For each storage version S, both
//!    CRDs are installed afresh with S as storage, the same 1,000 objects are created at S in
//!    both, and each is LISTed at every version T: per sample 3 LISTs back to back, webhook
//!    and `None` alternating which goes first, 2 warm-up samples each then 5 measured rounds;
//!    medians. Per LIST: wall time, the webhook process's CPU time and the API server's
//!    (utime+stime from `/proc/PID/stat`), the number of ConversionReviews the webhook answered
//!    (from its log). The creates are measured the same way. What this shows (kube-apiserver
//!    1.37): a LIST is served from the watch cache of the version asked for, which converted
//!    each object (one review per object) when it took the object in, at create time; so LISTs
//!    cost the same with the webhook as with `None`, and the webhook's cost (objects per
//!    CPU-second of the webhook process) shows up while creating.
//! 3. **200 concurrent clients** (storage v1alpha4): each GETs 10 distinct objects one after
//!    the other (2,000 requests, 30 s at most), at v1alpha1 (every GET converted) and at
//!    v1alpha4 (none), webhook and `None` CRD alternating, 1 warm-up then 5 rounds: medians of
//!    the per-round p50 and p99.
//!
//! Results and how to read them: `bench/README.md` (section "Conversion"), raw outputs in
//! `bench/results/conversion-*.txt`.

#[path = "../tests/webhook/mod.rs"]
mod webhook;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceConversion, CustomResourceDefinition,
};
use serde_json::{Value, json};
use smi_e2e::Cluster;
use smi_e2e::smi_types::convert;
use smi_e2e::smi_types::crd::{self, Flavour, GenerateOptions};

const NS: &str = "smi-conversion-bench";
const N: usize = 1000;
const VERSIONS: [&str; 4] = ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"];
/// The group of the webhook CRD.
const HOOK_GROUP: &str = "split.smi-spec.io";
/// The group of the baseline copy with `conversion.strategy: None` (test-only).
const NONE_GROUP: &str = "split.conversion-none.smi-rs.io";
const ROUNDS: usize = 5;
const WARMUP: usize = 2;
const LISTS_PER_SAMPLE: usize = 3;
const CREATORS: usize = 16;
const CLIENTS: usize = 200;
const GETS_PER_CLIENT: usize = 10;
const STORM_DEADLINE: Duration = Duration::from_secs(30);
/// The webhook stops by itself after this long (the whole bench takes a few minutes).
const WEBHOOK_LIFETIME_S: u64 = 3600;

fn split(i: usize, group: &str, version: &str) -> Value {
    let weights = if version == "v1alpha1" {
        json!([{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}])
    } else {
        json!([{"service": "a", "weight": 90}, {"service": "b", "weight": 10}])
    };
    let mut o = json!({"apiVersion": format!("{group}/{version}"), "kind": "TrafficSplit",
        "metadata": {"name": format!("ts-{i}"), "namespace": NS},
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
    println!(
        "1. library: convert::review of {N} TrafficSplits, one thread (objects/s per core, median of {ROUNDS})"
    );
    print!("{:>10}", "from\\to");
    for to in VERSIONS {
        print!("{to:>12}");
    }
    println!();
    for from in VERSIONS {
        print!("{from:>10}");
        // as the API server sends them: with uid and resourceVersion
        let objects: Vec<Value> = (0..N)
            .map(|i| {
                let mut o = split(i, HOOK_GROUP, from);
                o["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
                o["metadata"]["resourceVersion"] = json!("1");
                o
            })
            .collect();
        for to in VERSIONS {
            let review: Value = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                "request": {"uid": "u", "desiredAPIVersion": format!("{HOOK_GROUP}/{to}"), "objects": objects}});
            let runs: Vec<f64> = (0..ROUNDS)
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

// ---------------------------------------------------------------------------------------------
// process CPU time and the webhook's log

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in seconds.
fn cpu_s(pid: u32, ticks: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/stat: {e}"));
    // the fields after the command name (which may hold spaces), from field 3 (state) on
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f[i].parse::<f64>().expect("a number of ticks");
    (t(11) + t(12)) / ticks
}

fn pid_file(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .parse()
        .expect("a pid")
}

/// Reads the webhook's log on from where it stopped: reviews answered and objects converted.
struct Reviews {
    path: PathBuf,
    offset: u64,
}

impl Reviews {
    fn new(path: PathBuf) -> Self {
        let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Self { path, offset }
    }

    fn since_last(&mut self) -> (usize, usize) {
        let mut f = std::fs::File::open(&self.path).unwrap();
        f.seek(SeekFrom::Start(self.offset)).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        // only whole lines
        let end = text.rfind('\n').map_or(0, |i| i + 1);
        self.offset += end as u64;
        let (mut reviews, mut objects) = (0, 0);
        for line in text[..end].lines() {
            if let Some((_, rest)) = line.split_once(" ok, ") {
                reviews += 1;
                objects += rest
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
            }
        }
        (reviews, objects)
    }
}

struct Procs {
    ticks: f64,
    webhook: u32,
    apiserver: u32,
    etcd: u32,
}

#[derive(Clone, Copy, Default)]
struct Cpu {
    webhook: f64,
    apiserver: f64,
    etcd: f64,
}

impl Procs {
    fn now(&self) -> Cpu {
        Cpu {
            webhook: cpu_s(self.webhook, self.ticks),
            apiserver: cpu_s(self.apiserver, self.ticks),
            etcd: cpu_s(self.etcd, self.ticks),
        }
    }
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, o: Cpu) -> Cpu {
        Cpu {
            webhook: self.webhook - o.webhook,
            apiserver: self.apiserver - o.apiserver,
            etcd: self.etcd - o.etcd,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the API server

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Webhook,
    None,
}

impl Strategy {
    fn group(self) -> &'static str {
        match self {
            Strategy::Webhook => HOOK_GROUP,
            Strategy::None => NONE_GROUP,
        }
    }
}

/// The order of the two paths in round `r`: alternating which goes first.
fn order(r: usize) -> [Strategy; 2] {
    if r.is_multiple_of(2) {
        [Strategy::Webhook, Strategy::None]
    } else {
        [Strategy::None, Strategy::Webhook]
    }
}

/// One sample: per LIST (averaged over [`LISTS_PER_SAMPLE`] back to back).
#[derive(Clone, Copy)]
struct Sample {
    wall_ms: f64,
    cpu: Cpu,
    reviews: f64,
    objects: f64,
}

async fn list_once(cluster: &Cluster, group: &str, version: &str) {
    let url = format!("/apis/{group}/{version}/namespaces/{NS}/trafficsplits");
    let (status, _, list) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
    assert_eq!(status, 200, "LIST {url}: {list}");
    let items = list["items"].as_array().map(Vec::len);
    assert_eq!(items, Some(N), "LIST {url}");
    assert_eq!(
        list["items"][0]["apiVersion"],
        json!(format!("{group}/{version}"))
    );
}

async fn sample(
    cluster: &Cluster,
    procs: &Procs,
    reviews: &mut Reviews,
    path: Strategy,
    version: &str,
) -> Sample {
    reviews.since_last();
    let c0 = procs.now();
    let t = Instant::now();
    for _ in 0..LISTS_PER_SAMPLE {
        list_once(cluster, path.group(), version).await;
    }
    let wall = t.elapsed().as_secs_f64();
    let cpu = procs.now() - c0;
    let (r, o) = reviews.since_last();
    let k = LISTS_PER_SAMPLE as f64;
    Sample {
        wall_ms: wall * 1e3 / k,
        cpu: Cpu {
            webhook: cpu.webhook / k,
            apiserver: cpu.apiserver / k,
            etcd: cpu.etcd / k,
        },
        reviews: r as f64 / k,
        objects: o as f64 / k,
    }
}

struct Medians {
    wall_ms: f64,
    hook_ms: f64,
    api_ms: f64,
    etcd_ms: f64,
    reviews: f64,
    objects: f64,
}

fn medians(s: &[Sample]) -> Medians {
    let m = |f: fn(&Sample) -> f64| median(s.iter().map(f).collect());
    Medians {
        wall_ms: m(|s| s.wall_ms),
        hook_ms: m(|s| s.cpu.webhook * 1e3),
        api_ms: m(|s| s.cpu.apiserver * 1e3),
        etcd_ms: m(|s| s.cpu.etcd * 1e3),
        reviews: m(|s| s.reviews),
        objects: m(|s| s.objects),
    }
}

/// The two TrafficSplit CRDs, both storing `storage`.
fn crds(storage: &str, hook: &webhook::Webhook) -> Vec<CustomResourceDefinition> {
    let mut opts = GenerateOptions::default();
    opts.without_perf = true;
    let mut with_hook = crd::generate_with(Flavour::AllVersions, &opts)
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some("trafficsplits.split.smi-spec.io"))
        .expect("the TrafficSplit CRD");
    for v in &mut with_hook.spec.versions {
        v.storage = v.name == storage;
    }
    let mut none = with_hook.clone();
    let cfg = with_hook
        .spec
        .conversion
        .as_mut()
        .and_then(|c| c.webhook.as_mut())
        .and_then(|w| w.client_config.as_mut())
        .expect("a webhook conversion");
    cfg.service = None;
    cfg.url = Some(hook.url.clone());
    cfg.ca_bundle = Some(k8s_openapi::ByteString(hook.ca_bundle.clone()));
    none.metadata.name = Some(format!("trafficsplits.{NONE_GROUP}"));
    none.spec.group = NONE_GROUP.into();
    none.spec.conversion = Some(CustomResourceConversion {
        strategy: "None".into(),
        webhook: None,
    });
    vec![with_hook, none]
}

async fn create_all(cluster: &Arc<Cluster>, group: &'static str, version: &'static str) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CREATORS {
        let (cluster, next) = (cluster.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= N {
                    break;
                }
                let out = cluster.create(&split(i, group, version)).await.unwrap();
                assert!(out.accepted(), "{}", out.summary());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// 200 clients, each GETting 10 distinct objects in turn (bounded by count and time): p50,
/// p99 in ms, requests done.
async fn storm(cluster: &Arc<Cluster>, group: &str, version: &str) -> (f64, f64, usize) {
    let base = Arc::new(format!(
        "/apis/{group}/{version}/namespaces/{NS}/trafficsplits"
    ));
    let deadline = Instant::now() + STORM_DEADLINE;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (cluster, base) = (cluster.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(GETS_PER_CLIENT);
            for j in 0..GETS_PER_CLIENT {
                if Instant::now() > deadline {
                    break;
                }
                let url = format!("{base}/ts-{}", (c * GETS_PER_CLIENT + j) % N);
                let t = Instant::now();
                let (status, _, body) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                assert_eq!(status, 200, "GET {url}: {body}");
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

fn name(p: Strategy) -> &'static str {
    match p {
        Strategy::Webhook => "webhook",
        Strategy::None => "None",
    }
}

async fn lists(cluster: &Arc<Cluster>, procs: &Procs, reviews: &mut Reviews, storage: &str) {
    println!(
        "\n  storage {storage}: per LIST of {N} (medians of {ROUNDS} rounds x {LISTS_PER_SAMPLE} LISTs)"
    );
    println!(
        "  {:>9} {:>8} {:>9} {:>9} {:>7} {:>12} {:>12} {:>10} {:>10} {:>12} {:>9}",
        "read at",
        "path",
        "LIST ms",
        "x None",
        "obj/s",
        "webhook CPU",
        "obj/CPU-s",
        "apiserver",
        "x None",
        "etcd CPU ms",
        "reviews"
    );
    for version in VERSIONS {
        let mut got: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
        for r in 0..WARMUP + ROUNDS {
            for path in order(r) {
                let s = sample(cluster, procs, reviews, path, version).await;
                if r >= WARMUP {
                    got[path as usize].push(s);
                }
            }
        }
        let hook = medians(&got[Strategy::Webhook as usize]);
        let none = medians(&got[Strategy::None as usize]);
        for (p, m) in [(Strategy::Webhook, &hook), (Strategy::None, &none)] {
            println!(
                "  {:>9} {:>8} {:>9.1} {:>9.2} {:>7.0} {:>9.1} ms {:>12} {:>7.1} ms {:>10.2} {:>12.1} {:>9}",
                version,
                name(p),
                m.wall_ms,
                m.wall_ms / none.wall_ms,
                N as f64 / (m.wall_ms / 1e3),
                m.hook_ms,
                if p == Strategy::Webhook && m.hook_ms > 0.0 {
                    format!("{:.0}", N as f64 / (m.hook_ms / 1e3))
                } else {
                    "-".into()
                },
                m.api_ms,
                m.api_ms / none.api_ms,
                m.etcd_ms,
                if p == Strategy::Webhook {
                    format!("{:.1} ({:.0} obj)", m.reviews, m.objects)
                } else {
                    "-".into()
                },
            );
        }
    }
}

async fn storms(cluster: &Arc<Cluster>, procs: &Procs) {
    println!(
        "\n3. {CLIENTS} concurrent clients x {GETS_PER_CLIENT} GETs of distinct objects, storage v1alpha4 (1 warm-up, medians of {ROUNDS} rounds)"
    );
    for version in ["v1alpha1", "v1alpha4"] {
        let mut got: [Vec<(f64, f64, usize, f64)>; 2] = [Vec::new(), Vec::new()];
        for r in 0..1 + ROUNDS {
            for path in order(r) {
                let c0 = procs.now();
                let (p50, p99, n) = storm(cluster, path.group(), version).await;
                let cpu = procs.now() - c0;
                if r >= 1 {
                    got[path as usize].push((p50, p99, n, cpu.webhook));
                }
            }
        }
        let none_p99 = median(got[Strategy::None as usize].iter().map(|g| g.1).collect());
        for p in [Strategy::Webhook, Strategy::None] {
            let g = &got[p as usize];
            let p99 = median(g.iter().map(|g| g.1).collect());
            println!(
                "  read at {version} {:>8}: p50 {:>7.1} ms, p99 {:>7.1} ms ({:.2}x None), requests per round {}, webhook CPU {:.0} ms per round",
                name(p),
                median(g.iter().map(|g| g.0).collect()),
                p99,
                p99 / none_p99,
                g.iter().map(|g| g.2).min().unwrap_or(0),
                median(g.iter().map(|g| g.3 * 1e3).collect()),
            );
        }
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "conversion bench: {cores} cores, load average {} at start",
        load()
    );
    if cfg!(debug_assertions) {
        // `cargo bench --profile dev` (quicker to build): the webhook still runs optimised
        println!("1. library: skipped, this bench is built without optimisations");
    } else {
        library();
    }

    let cluster = Arc::new(Cluster::connect().await);
    let hook = webhook::start_with("conversion-webhook", &[], true, WEBHOOK_LIFETIME_S);
    let cp = smi_e2e::workspace_root()
        .join("target")
        .join("controlplane");
    let procs = Procs {
        ticks: clock_ticks(),
        webhook: hook.pid(),
        apiserver: pid_file(&cp.join("kube-apiserver.pid")),
        etcd: pid_file(&cp.join("etcd.pid")),
    };
    let mut reviews = Reviews::new(hook.log.clone());
    println!(
        "\n2. API server: LIST of {N} TrafficSplits, webhook (examples/conversion-webhook --release) vs strategy None ({NONE_GROUP}), side by side"
    );
    println!(
        "   (x None: ratio to the None CRD's median in the same rounds; obj/CPU-s: objects per CPU-second of the webhook process; reviews: ConversionReviews per LIST)"
    );
    cluster.ensure_namespace(NS).await.unwrap();
    let names = [
        "trafficsplits.split.smi-spec.io".to_owned(),
        format!("trafficsplits.{NONE_GROUP}"),
    ];
    // storage v1alpha4 last: the concurrent GETs run on it
    for storage in ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"] {
        for i in cluster.install_crds(&crds(storage, &hook)).await.unwrap() {
            assert!(i.is_clean(), "{}: {}", i.name, i.outcome.summary());
        }
        // the creates, measured: each object is converted by the webhook when the API server's
        // watch cache of every other served version takes it in (LISTs are served from there)
        println!("\n  storage {storage}: creating {N} objects at {storage} ({CREATORS} clients)");
        let order = if storage == "v1alpha1" || storage == "v1alpha3" {
            [Strategy::Webhook, Strategy::None]
        } else {
            [Strategy::None, Strategy::Webhook]
        };
        for path in order {
            reviews.since_last();
            let c0 = procs.now();
            let t = Instant::now();
            create_all(&cluster, path.group(), storage).await;
            // the watch caches take the last objects in just after the last create returns
            tokio::time::sleep(Duration::from_secs(1)).await;
            let wall = t.elapsed().as_secs_f64() - 1.0;
            let cpu = procs.now() - c0;
            let (r, o) = reviews.since_last();
            println!(
                "  {:>8}: {:.0} creates/s, webhook {r} reviews ({o} objects, {:.0} ms CPU{}), apiserver {:.0} ms CPU, etcd {:.0} ms CPU",
                name(path),
                N as f64 / wall,
                cpu.webhook * 1e3,
                if o > 0 && cpu.webhook > 0.0 {
                    format!(", {:.0} objects per CPU-second", o as f64 / cpu.webhook)
                } else {
                    String::new()
                },
                cpu.apiserver * 1e3,
                cpu.etcd * 1e3,
            );
        }
        lists(&cluster, &procs, &mut reviews, storage).await;
    }
    storms(&cluster, &procs).await;
    cluster.delete_crds(&names).await.unwrap();
    println!("\nload average {} at the end", load());
}
