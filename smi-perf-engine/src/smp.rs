//! Export to the Service Mesh Performance (SMP, proto package `smp`) `PerformanceTestResult`
//! shape (perf-api.md B.3 / D). Latencies become float milliseconds: `µs / 1000.0`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use smi_types::perf::PerformanceTestResult;

use crate::result::decode_histogram;

/// SMP `Latency`, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SmpLatencies {
    /// Minimum.
    pub min: f64,
    /// Mean.
    pub average: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// SMP `PerformanceTestResult` (snake_case, as the proto's JSON names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SmpResult {
    /// Spec version.
    pub smp_version: String,
    /// Result id.
    pub id: String,
    /// Labels. SMP has no field for these, so they are labels: `smi-perf/load-model`,
    /// `smi-perf/protocol`, `smi-perf/verdict` (`PASS`/`FAIL`, the engine's verdict with its
    /// default thresholds), `smi-perf/requests-total`, `smi-perf/requests-failed` and
    /// `smi-perf/dropped`.
    pub labels: BTreeMap<String, String>,
    /// RFC 3339 UTC.
    pub start_time: String,
    /// RFC 3339 UTC.
    pub end_time: String,
    /// Latencies of the successful requests in ms; absent when there was none (never zeros
    /// standing in for "not observed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latencies_ms: Option<SmpLatencies>,
    /// Achieved throughput: successful responses per second.
    pub actual_qps: f64,
    /// Where the full native result lives.
    pub details_uri: String,
    /// Test id.
    pub test_id: String,
    /// Mesh config id.
    pub mesh_config_id: String,
    /// Environment id.
    pub env_id: String,
}

/// µs → ms as SMP wants it.
///
/// ```
/// assert_eq!(smi_perf_engine::smp::micros_to_ms(1234), 1.234);
/// ```
pub fn micros_to_ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

/// Exports `r`. p50/p90/p99 come from the histogram when present (so p90 exists even if the
/// spec did not ask for it), else from the reported percentiles. A run without a successful
/// response exports no latencies and `actual_qps` 0; its verdict label says `FAIL`.
///
/// ```
/// use smi_types::perf::{PerformanceTestResult, ResultRecord};
/// let all_failed = ResultRecord { requests_total: 3, requests_failed: 3, ..Default::default() };
/// let s = smi_perf_engine::smp::export(&PerformanceTestResult::new("r", all_failed), "");
/// assert!(s.latencies_ms.is_none());
/// assert_eq!(s.labels["smi-perf/requests-failed"], "3");
/// ```
pub fn export(r: &PerformanceTestResult, details_uri: &str) -> SmpResult {
    let x = &r.record;
    let l = &x.latency;
    let hist = x
        .histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty());
    let at = |p: f64| -> i64 {
        match &hist {
            Some(h) => h.value_at_quantile(p / 100.0) as i64,
            None => l.percentile(p).unwrap_or(0),
        }
    };
    let mut labels = x.labels.clone();
    labels.insert(
        "smi-perf/load-model".into(),
        x.requested.load_model.to_string(),
    );
    labels.insert("smi-perf/protocol".into(), x.requested.protocol.to_string());
    labels.insert(
        "smi-perf/verdict".into(),
        if x.passed { "PASS" } else { "FAIL" }.into(),
    );
    labels.insert(
        "smi-perf/requests-total".into(),
        x.requests_total.to_string(),
    );
    labels.insert(
        "smi-perf/requests-failed".into(),
        x.requests_failed.to_string(),
    );
    labels.insert("smi-perf/dropped".into(), x.dropped_or_late.to_string());
    let observed = l.count > 0 || hist.is_some();
    SmpResult {
        smp_version: x.smp_version.clone().unwrap_or_else(|| "v0.0.1".into()),
        id: x.id.clone(),
        labels,
        start_time: x.start_time.0.to_string(),
        end_time: x.end_time.0.to_string(),
        latencies_ms: observed.then(|| SmpLatencies {
            min: micros_to_ms(l.min_micros),
            average: micros_to_ms(l.mean_micros),
            p50: micros_to_ms(at(50.0)),
            p90: micros_to_ms(at(90.0)),
            p99: micros_to_ms(at(99.0)),
            max: micros_to_ms(l.max_micros),
        }),
        actual_qps: x.actual_rps.parse().unwrap_or(0.0),
        details_uri: details_uri.to_owned(),
        test_id: x
            .test_ref
            .as_ref()
            .map(|t| t.uid.clone().unwrap_or_else(|| t.name.clone()))
            .unwrap_or_default(),
        mesh_config_id: String::new(),
        env_id: String::new(),
    }
}
