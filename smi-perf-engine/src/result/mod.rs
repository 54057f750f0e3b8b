//! Turning [`RunStats`] into a [`PerformanceTestResult`]: the histogram codec, the
//! thresholds a run is judged by, and the exact merge of shard results.

mod codec;
mod merge;
mod thresholds;

use std::collections::BTreeMap;
use std::time::SystemTime;

use hdrhistogram::Histogram;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use smi_types::perf::{
    Duration as GepDuration, LatencyBasis, LatencySummary, LoadModel, PercentileValue,
    PerformanceTestResult, PerformanceTestSpec, RequestedLoad, ResultRecord, RunLength,
    StageResult, TestRef,
};

pub use codec::{decode_histogram, encode_histogram};
pub use merge::{merge, validate_result};
pub use thresholds::{SUCCEEDED_METRIC, default_thresholds, evaluate_thresholds, observe};

use crate::driver::RunStats;
use crate::error::Result;
use crate::stats::{ErrorKind, Recorder};

/// Version of this engine, written into results.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Percentile label: `50`, `99.9`, `99.99`.
pub fn percentile_label(p: f64) -> String {
    let s = format!("{p:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// Summary of a histogram at `percentiles`.
pub fn summarize(h: &Histogram<u64>, percentiles: &[f64]) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary {
            percentiles: percentiles
                .iter()
                .map(|p| PercentileValue {
                    percentile: percentile_label(*p),
                    value_micros: 0,
                })
                .collect(),
            ..Default::default()
        };
    }
    let (min, max) = (h.min() as i64, h.max() as i64);
    LatencySummary {
        count: h.len() as i64,
        min_micros: min,
        mean_micros: (h.mean().round() as i64).clamp(min, max),
        stddev_micros: h.stdev().round() as i64,
        max_micros: max,
        percentiles: percentiles
            .iter()
            .map(|p| PercentileValue {
                percentile: percentile_label(*p),
                value_micros: (h.value_at_quantile(p / 100.0) as i64).clamp(min, max),
            })
            .collect(),
    }
}

fn time(t: SystemTime) -> Time {
    Time(
        k8s_openapi::jiff::Timestamp::try_from(t)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// A random UUID v4 (from the standard library's randomly seeded hasher; not cryptographic).
pub fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn rps_string(n: u64, secs: f64) -> String {
    format!("{:.3}", if secs > 0.0 { n as f64 / secs } else { 0.0 })
}

/// Builds the result of one run. `name` is the result's `metadata.name` (may be empty).
pub fn build_result(
    name: &str,
    test_name: &str,
    spec: &PerformanceTestSpec,
    stats: &RunStats,
    generator: &str,
) -> Result<PerformanceTestResult> {
    let r = &stats.recorder;
    let percentiles = spec.effective_percentiles();
    let mut status_codes = BTreeMap::new();
    for (code, n) in r.status.iter().enumerate() {
        if *n > 0 {
            status_codes.insert(code.to_string(), *n as i64);
        }
    }
    let transport: u64 = r.errors.iter().sum();
    if transport > 0 {
        status_codes.insert("error".into(), transport as i64);
    }
    let mut grpc_status_codes = BTreeMap::new();
    for (code, n) in r.grpc.iter().enumerate() {
        if *n > 0 {
            grpc_status_codes.insert(code.to_string(), *n as i64);
        }
    }
    let mut errors = BTreeMap::new();
    for k in ErrorKind::ALL {
        let n = r.errors_of(k);
        if n > 0 {
            errors.insert(k.as_str().to_owned(), n as i64);
        }
    }
    let open = spec.effective_load_model() == LoadModel::Open;
    let secs = stats.measured.as_secs_f64();
    let (run_duration, run_requests) = match spec.run_length() {
        RunLength::Duration(d) => (Some(GepDuration::from(d)), None),
        RunLength::Requests(n) => (None, Some(n as i64)),
    };
    let mut record = ResultRecord {
        test_ref: (!test_name.is_empty()).then(|| TestRef {
            name: test_name.to_owned(),
            uid: None,
        }),
        id: new_uuid(),
        smp_version: spec.smp_version.clone(),
        labels: spec.labels.clone(),
        load_generator: generator.to_owned(),
        engine_version: ENGINE_VERSION.to_owned(),
        start_time: time(stats.started_at),
        end_time: time(stats.ended_at.max(stats.started_at)),
        actual_duration: GepDuration::from(stats.measured),
        requested: RequestedLoad {
            load_model: spec.effective_load_model(),
            rps: spec.effective_rps() as i64,
            connections: spec.effective_connections() as i32,
            duration: run_duration,
            requests: run_requests,
            protocol: spec.effective_protocol(),
            endpoints: spec.endpoints.clone(),
        },
        requests_total: r.total() as i64,
        requests_succeeded: r.succeeded as i64,
        requests_failed: r.failed as i64,
        dropped_or_late: r.dropped as i64,
        requests_cut_off: r.cut_off as i64,
        actual_rps: rps_string(r.succeeded, secs),
        bytes_sent: r.bytes_sent as i64,
        bytes_received: r.bytes_received as i64,
        status_codes,
        grpc_status_codes,
        errors,
        latency: summarize(&r.latency, &percentiles),
        latency_basis: if open {
            LatencyBasis::Intended
        } else {
            LatencyBasis::Actual
        },
        uncorrected_latency: r.uncorrected.as_ref().map(|h| summarize(h, &percentiles)),
        histogram: Some(encode_histogram(&r.latency)?),
        uncorrected_histogram: r.uncorrected.as_ref().map(encode_histogram).transpose()?,
        failed_latency: (!r.failed_latency.is_empty())
            .then(|| summarize(&r.failed_latency, &percentiles)),
        failed_histogram: (!r.failed_latency.is_empty())
            .then(|| encode_histogram(&r.failed_latency))
            .transpose()?,
        time_series: r
            .series
            .as_ref()
            .map(|s| s.to_time_series(stats.started_at, stats.ended_at))
            .transpose()?,
        stages: stage_results(spec, r, &percentiles)?,
        ..Default::default()
    };
    let (thresholds, passed) = evaluate_thresholds(&spec.thresholds, &record, Some(&r.latency));
    record.thresholds = thresholds;
    record.passed = passed;
    Ok(PerformanceTestResult::new(name, record))
}

/// The per-stage blocks of a ramped run: the schedule's stages with what each recorded.
fn stage_results(
    spec: &PerformanceTestSpec,
    r: &Recorder,
    percentiles: &[f64],
) -> Result<Vec<StageResult>> {
    if spec.effective_load_model() != LoadModel::Open {
        return Ok(Vec::new());
    }
    let schedule = crate::schedule::Schedule::of(spec);
    schedule
        .stage_bounds()
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let empty;
            let st = match r.stages.get(i) {
                Some(st) => st,
                None => {
                    let (lowest, highest, sigfig) = spec.effective_histogram();
                    empty = Recorder::new(
                        crate::stats::HistogramSettings {
                            lowest,
                            highest,
                            sigfig,
                        },
                        true,
                    );
                    &empty
                }
            };
            let secs = b.stage.duration.as_secs_f64();
            Ok(StageResult {
                start_millis: b.start.as_millis() as i64,
                duration_millis: b.stage.duration.as_millis() as i64,
                from_rps: b.stage.from_rps as i64,
                to_rps: b.stage.to_rps as i64,
                scheduled: b.count() as i64,
                requests_total: st.total() as i64,
                requests_succeeded: st.succeeded as i64,
                requests_failed: st.failed as i64,
                dropped_or_late: st.dropped as i64,
                requests_cut_off: st.cut_off as i64,
                actual_rps: rps_string(st.succeeded, secs),
                latency: summarize(&st.latency, percentiles),
                uncorrected_latency: st.uncorrected.as_ref().map(|h| summarize(h, percentiles)),
                histogram: Some(encode_histogram(&st.latency)?),
                uncorrected_histogram: st.uncorrected.as_ref().map(encode_histogram).transpose()?,
            })
        })
        .collect()
}

/// Merges the recorders of several runs of the same process (helper for tests and tools).
pub fn merge_recorders(recorders: &[Recorder]) -> Option<Recorder> {
    let mut it = recorders.iter();
    let mut acc = it.next()?.clone();
    for r in it {
        acc.merge(r);
    }
    Some(acc)
}
