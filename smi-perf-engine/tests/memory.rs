//! Memory is bounded by connections and histogram size, not by the request count: a run of ten
//! million requests through the real driver (a lane that answers at once, so only the engine's own
//! bookkeeping runs) must not raise the process's peak RSS above what a short run reached.
//! Linux only (reads /proc/self/status). Its own test binary: one test, no neighbours allocating.
#![cfg(target_os = "linux")]

use std::sync::Arc;

use smi_perf_engine::{Lane, LaneFactory, Outcome, RunContext, RunPlan, drive};
use smi_types::perf::PerformanceTestSpec;

struct Instant200;

impl Lane for Instant200 {
    async fn request(&mut self) -> Outcome {
        Outcome::Response {
            status: 200,
            sent: 40,
            received: 80,
        }
    }
    fn reset(&mut self) {}
}

struct Factory;

impl LaneFactory for Factory {
    type Lane = Instant200;
    fn lanes(&self, _: &RunPlan, _: u32) -> Vec<Instant200> {
        vec![Instant200]
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn run(requests: i64) -> u64 {
    let spec = PerformanceTestSpec::http("http://127.0.0.1:9/")
        .requests(requests)
        .connections(8);
    let plan = Arc::new(RunPlan::from_spec(&spec).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stats = rt
        .block_on(drive(Arc::new(Factory), plan, RunContext::default()))
        .unwrap();
    assert_eq!(stats.recorder.total(), requests as u64);
    assert_eq!(stats.recorder.latency.len(), requests as u64);
    stats.recorder.total()
}

#[test]
fn ten_million_requests_do_not_grow_memory() {
    run(50_000);
    let after_short = peak_rss_kib();
    run(10_000_000);
    let after_long = peak_rss_kib();
    // Anything kept per request (even 8 bytes) would add ≥ 76 MB over 10 million requests.
    assert!(
        after_long <= after_short + 4 * 1024,
        "peak RSS grew from {after_short} KiB to {after_long} KiB over 10M requests"
    );
    // The check can fail: holding 2M latencies (16 MB) is visible to it.
    let kept: Vec<u64> = (0..2_000_000u64).collect();
    let after_vec = peak_rss_kib();
    assert!(
        after_vec > after_long + 8 * 1024,
        "{after_long} -> {after_vec} KiB"
    );
    assert_eq!(kept.len(), 2_000_000);
}
