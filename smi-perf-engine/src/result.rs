//! Turning [`RunStats`] into a [`PerformanceTestResult`], histogram encoding, thresholds, and
//! exact merging of results.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use smi_types::perf::{
    ClientResult, Duration as GepDuration, EncodedHistogram, HISTOGRAM_ENCODING, LatencyBasis,
    LatencySummary, LoadModel, PercentileValue, PerformanceTestResult, PerformanceTestSpec,
    RequestedLoad, ResultRecord, RunLength, ShardRef, StageResult, TestRef, Threshold,
    ThresholdMetric, ThresholdResult,
};

use crate::driver::RunStats;
use crate::error::{Error, Result};
use crate::stats::{ErrorKind, Recorder};

/// Version of this engine, written into results.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Encodes a histogram as HdrHistogram V2 + deflate, base64.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<EncodedHistogram> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| Error::Histogram(e.to_string()))?;
    Ok(EncodedHistogram {
        encoding: HISTOGRAM_ENCODING.into(),
        data: base64::engine::general_purpose::STANDARD.encode(buf),
    })
}

/// Decodes an [`EncodedHistogram`].
pub fn decode_histogram(e: &EncodedHistogram) -> Result<Histogram<u64>> {
    if e.encoding != HISTOGRAM_ENCODING {
        return Err(Error::Histogram(format!(
            "unknown encoding {:?}",
            e.encoding
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&e.data)
        .map_err(|err| Error::Histogram(err.to_string()))?;
    let v2 = inflate_bounded(&bytes)?;
    // hdrhistogram zero-fills the payload length the header declares before reading it: a
    // 60-byte input could make it allocate 4 GiB (fuzz/FINDINGS.md F1). Check it first.
    let declared = v2
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| Error::Histogram("histogram header is truncated".into()))?;
    let present = v2.len().saturating_sub(V2_HEADER_LEN);
    if declared > present {
        return Err(Error::Histogram(format!(
            "histogram declares a {declared}-byte payload but only {present} bytes follow"
        )));
    }
    Deserializer::new()
        .deserialize(&mut v2.as_slice())
        .map_err(|err| Error::Histogram(err.to_string()))
}

/// `test "name"` (with its uid when there is one) for messages, or `no test` when the result
/// names none: user-facing text, not Rust `Debug` output.
fn test_label(t: Option<&smi_types::perf::TestRef>) -> String {
    match t {
        Some(t) => match &t.uid {
            Some(uid) => format!("test \"{}\" (uid {uid})", t.name),
            None => format!("test \"{}\"", t.name),
        },
        None => "no named test".to_owned(),
    }
}

/// `run "id"`, or `a run without id`.
fn run_label(id: Option<&str>) -> String {
    id.map_or_else(
        || "a run without id".to_owned(),
        |id| format!("run \"{id}\""),
    )
}

/// Size of the V2 header before the counts payload.
const V2_HEADER_LEN: usize = 40;
/// Cookie of the deflate-compressed V2 form (HdrHistogram's `0x1c849304 | 0x10`).
const V2_COMPRESSED_COOKIE: [u8; 4] = 0x1c84_9314_u32.to_be_bytes();
/// Inflated V2 histograms larger than this are refused (a 60 s, 3-digit histogram is ~50 KiB).
const MAX_INFLATED_HISTOGRAM: u64 = 64 << 20;

/// The uncompressed V2 bytes of `bytes` (inflated with a size cap when compressed).
fn inflate_bounded(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read as _;
    if bytes.get(..4) != Some(&V2_COMPRESSED_COOKIE[..]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(bytes.get(8..).unwrap_or_default())
        .take(MAX_INFLATED_HISTOGRAM + 1)
        .read_to_end(&mut out)
        .map_err(|err| Error::Histogram(format!("histogram does not inflate: {err}")))?;
    if out.len() as u64 > MAX_INFLATED_HISTOGRAM {
        return Err(Error::Histogram(format!(
            "inflated histogram is larger than {MAX_INFLATED_HISTOGRAM} bytes"
        )));
    }
    Ok(out)
}

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

/// Merges the stages of shard results: the stages must line up (same count, start, length);
/// counts add, histograms merge exactly, the requested rates add (each shard ran its share).
fn merge_stages(
    results: &[PerformanceTestResult],
    percentiles: &[f64],
) -> Result<Vec<StageResult>> {
    let first = &results[0].record.stages;
    for (i, r) in results.iter().enumerate() {
        let st = &r.record.stages;
        let aligned = st.len() == first.len()
            && st.iter().zip(first).all(|(a, b)| {
                (a.start_millis, a.duration_millis) == (b.start_millis, b.duration_millis)
            });
        if !aligned {
            return Err(Error::Merge(format!(
                "result {i} ran other stages than result 0 (count, start or length differ): not the same schedule"
            )));
        }
    }
    let mut out = Vec::with_capacity(first.len());
    for (s, head) in first.iter().enumerate() {
        let mut m = StageResult {
            start_millis: head.start_millis,
            duration_millis: head.duration_millis,
            ..Default::default()
        };
        let mut lat: Option<Histogram<u64>> = None;
        let mut unc: Option<Histogram<u64>> = None;
        let mut unc_everywhere = true;
        for (i, r) in results.iter().enumerate() {
            let x = &r.record.stages[s];
            let what = |f: &str| format!("stages[{s}].{f}");
            add_count(&mut m.from_rps, x.from_rps, &what("fromRps"))?;
            add_count(&mut m.to_rps, x.to_rps, &what("toRps"))?;
            add_count(&mut m.scheduled, x.scheduled, &what("scheduled"))?;
            add_count(
                &mut m.requests_total,
                x.requests_total,
                &what("requestsTotal"),
            )?;
            add_count(
                &mut m.requests_succeeded,
                x.requests_succeeded,
                &what("requestsSucceeded"),
            )?;
            add_count(
                &mut m.requests_failed,
                x.requests_failed,
                &what("requestsFailed"),
            )?;
            add_count(
                &mut m.dropped_or_late,
                x.dropped_or_late,
                &what("droppedOrLate"),
            )?;
            add_count(
                &mut m.requests_cut_off,
                x.requests_cut_off,
                &what("requestsCutOff"),
            )?;
            let Some(enc) = &x.histogram else {
                return Err(Error::Merge(format!(
                    "result {i} stage {s} carries no histogram; cannot merge exactly"
                )));
            };
            for (acc, enc) in [
                (&mut lat, Some(enc)),
                (&mut unc, x.uncorrected_histogram.as_ref()),
            ] {
                let Some(enc) = enc else {
                    unc_everywhere = false;
                    continue;
                };
                let h = decode_histogram(enc)?;
                match acc {
                    None => *acc = Some(h),
                    Some(a) => a
                        .add(&h)
                        .map_err(|e| Error::Merge(format!("result {i} stage {s}: {e}")))?,
                }
            }
        }
        let lat = lat.expect("checked: every stage has a histogram");
        let unc = unc.filter(|_| unc_everywhere);
        let secs = m.duration_millis as f64 / 1000.0;
        m.actual_rps = format!(
            "{:.3}",
            if secs > 0.0 {
                m.requests_succeeded as f64 / secs
            } else {
                0.0
            }
        );
        m.latency = summarize(&lat, percentiles);
        m.uncorrected_latency = unc.as_ref().map(|h| summarize(h, percentiles));
        m.histogram = Some(encode_histogram(&lat)?);
        m.uncorrected_histogram = unc.as_ref().map(encode_histogram).transpose()?;
        out.push(m);
    }
    Ok(out)
}

/// Observed value of `metric` in the limit's unit (µs, ratio, successful responses per
/// second), or `None` when the run observed nothing the metric is about: a latency metric
/// without a successful response, `errorRate` without a recorded request, `droppedRate` without
/// a scheduled send. A threshold on such a metric fails; it is never judged on a made-up 0.
///
/// ```
/// use smi_perf_engine::observe;
/// use smi_types::perf::{ResultRecord, ThresholdMetric};
/// let empty = ResultRecord::default();
/// assert_eq!(observe(ThresholdMetric::LatencyP99, &empty, None), None);
/// assert_eq!(observe(ThresholdMetric::ErrorRate, &empty, None), None);
/// let all_failed = ResultRecord { requests_total: 4, requests_failed: 4, ..Default::default() };
/// assert_eq!(observe(ThresholdMetric::ErrorRate, &all_failed, None), Some(1.0));
/// ```
pub fn observe(
    metric: ThresholdMetric,
    record: &ResultRecord,
    histogram: Option<&Histogram<u64>>,
) -> Option<f64> {
    let l = &record.latency;
    let has_latency = l.count > 0 || histogram.is_some_and(|h| !h.is_empty());
    match metric {
        ThresholdMetric::ErrorRate => (record.requests_total > 0)
            .then(|| record.requests_failed as f64 / record.requests_total as f64),
        ThresholdMetric::DroppedRate => {
            let scheduled = record.requests_total.saturating_add(record.dropped_or_late);
            (scheduled > 0).then(|| record.dropped_or_late as f64 / scheduled as f64)
        }
        ThresholdMetric::Rps => Some(record.actual_rps.parse().unwrap_or(0.0)),
        _ if !has_latency => None,
        ThresholdMetric::LatencyMean => Some(l.mean_micros as f64),
        ThresholdMetric::LatencyMax => Some(match histogram {
            Some(h) if !h.is_empty() => h.max() as f64,
            _ => l.max_micros as f64,
        }),
        m => {
            let p = m.latency_percentile().unwrap_or(99.0);
            Some(match histogram {
                Some(h) if !h.is_empty() => h.value_at_quantile(p / 100.0) as f64,
                _ => l.percentile(p).unwrap_or(l.max_micros) as f64,
            })
        }
    }
}

/// Why `metric` has no observation (see [`observe`]).
fn no_data(metric: ThresholdMetric) -> &'static str {
    match metric {
        ThresholdMetric::ErrorRate => "no data (no request recorded)",
        ThresholdMetric::DroppedRate => "no data (nothing scheduled)",
        _ => "no data (no successful response)",
    }
}

/// The thresholds every run is judged by unless its test sets a threshold on the same metric:
/// `errorRate <= 0.01` and `droppedRate <= 0.01`. To accept more, set that metric yourself
/// (`errorRate <= 0.5`; `errorRate <= 1` accepts any error rate).
///
/// ```
/// let d = smi_perf_engine::default_thresholds();
/// assert_eq!(d.len(), 2);
/// assert_eq!(d[0].metric.as_str(), "errorRate");
/// assert_eq!(d[0].max.as_deref(), Some("0.01"));
/// ```
pub fn default_thresholds() -> Vec<Threshold> {
    vec![
        Threshold::max(ThresholdMetric::ErrorRate, "0.01"),
        Threshold::max(ThresholdMetric::DroppedRate, "0.01"),
    ]
}

/// Formats an observed value in the unit of `limit` (a latency limit of `100ms` gives `0.199ms`,
/// one of `2s` gives `0.000199s`): a GEP-2257 duration cannot say anything below a millisecond.
fn fmt_observed(metric: ThresholdMetric, v: f64, limit: &str) -> String {
    if metric.is_latency() {
        let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_owned();
        let l = limit.trim();
        if l.ends_with("ms") {
            format!("{}ms", trim(format!("{:.3}", v / 1e3)))
        } else if l.ends_with('h') {
            format!("{}h", trim(format!("{:.9}", v / 3.6e9)))
        } else if l.ends_with('m') {
            format!("{}m", trim(format!("{:.8}", v / 6e7)))
        } else {
            format!("{}s", trim(format!("{:.6}", v / 1e6)))
        }
    } else if metric.is_ratio() {
        format!("{v:.6}")
    } else {
        format!("{v:.3}")
    }
}

/// Judges a run: the given thresholds, then each of [`default_thresholds`] whose metric they
/// leave unset (marked `default`), then the check no run passes without, `requestsSucceeded >= 1`
/// (also marked `default`). Returns the verdicts and whether all held. A threshold whose metric
/// has no observation fails (see [`observe`]); so does one whose limit does not parse.
///
/// ```
/// use smi_perf_engine::evaluate_thresholds;
/// use smi_types::perf::{ResultRecord, Threshold, ThresholdMetric};
/// // Every request failed: no threshold list makes that a pass.
/// let failed = ResultRecord { requests_total: 10, requests_failed: 10, ..Default::default() };
/// let lenient = [Threshold::max(ThresholdMetric::ErrorRate, "1")];
/// let (verdicts, passed) = evaluate_thresholds(&lenient, &failed, None);
/// assert!(!passed);
/// assert!(verdicts.iter().any(|v| v.metric == "requestsSucceeded" && !v.passed));
/// ```
pub fn evaluate_thresholds(
    thresholds: &[Threshold],
    record: &ResultRecord,
    histogram: Option<&Histogram<u64>>,
) -> (Vec<ThresholdResult>, bool) {
    let mut out = Vec::new();
    let defaults = default_thresholds()
        .into_iter()
        .filter(|d| !thresholds.iter().any(|t| t.metric == d.metric));
    let all = thresholds
        .iter()
        .cloned()
        .map(|t| (t, false))
        .chain(defaults.map(|t| (t, true)));
    for (t, default) in all {
        let observed = observe(t.metric, record, histogram);
        for (op, limit) in [("<=", &t.max), (">=", &t.min)] {
            let Some(limit) = limit else { continue };
            let passed = match (t.parse_limit(limit), observed) {
                (Ok(l), Some(v)) => {
                    if op == "<=" {
                        v <= l
                    } else {
                        v >= l
                    }
                }
                _ => false,
            };
            out.push(ThresholdResult {
                metric: t.metric.as_str().into(),
                limit: format!("{op} {limit}"),
                observed: match observed {
                    Some(v) => fmt_observed(t.metric, v, limit),
                    None => no_data(t.metric).into(),
                },
                passed,
                default,
            });
        }
    }
    if record.requests_succeeded < 1 {
        out.push(ThresholdResult {
            metric: SUCCEEDED_METRIC.into(),
            limit: ">= 1".into(),
            observed: record.requests_succeeded.to_string(),
            passed: false,
            default: true,
        });
    }
    let passed = out.iter().all(|t| t.passed);
    (out, passed)
}

/// The built-in check's metric name: a run without one successful response never passes.
pub const SUCCEEDED_METRIC: &str = "requestsSucceeded";

fn thresholds_of(results: &[ThresholdResult]) -> Vec<Threshold> {
    let mut out: Vec<Threshold> = Vec::new();
    for r in results.iter().filter(|r| !r.default) {
        let Ok(metric) =
            serde_json::from_value::<ThresholdMetric>(serde_json::Value::String(r.metric.clone()))
        else {
            continue;
        };
        let (max, min) = match r.limit.split_once(' ') {
            Some(("<=", l)) => (Some(l.to_owned()), None),
            Some((">=", l)) => (None, Some(l.to_owned())),
            _ => continue,
        };
        let t = Threshold { metric, max, min };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn to_client(r: &PerformanceTestResult, fallback: &str) -> ClientResult {
    let x = &r.record;
    ClientResult {
        name: r
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| fallback.to_owned()),
        shard: x.shard.clone(),
        requests_total: x.requests_total,
        requests_succeeded: x.requests_succeeded,
        requests_failed: x.requests_failed,
        dropped_or_late: x.dropped_or_late,
        requests_cut_off: x.requests_cut_off,
        actual_rps: x.actual_rps.clone(),
        bytes_sent: x.bytes_sent,
        bytes_received: x.bytes_received,
        status_codes: x.status_codes.clone(),
        grpc_status_codes: x.grpc_status_codes.clone(),
        errors: x.errors.clone(),
        latency: x.latency.clone(),
        uncorrected_latency: x.uncorrected_latency.clone(),
        histogram: x.histogram.clone(),
        uncorrected_histogram: x.uncorrected_histogram.clone(),
    }
}

fn add_count(total: &mut i64, x: i64, what: &str) -> Result<()> {
    *total = total
        .checked_add(x)
        .ok_or_else(|| Error::Merge(format!("the sum of {what} overflows")))?;
    Ok(())
}

fn add_maps(a: &mut BTreeMap<String, i64>, b: &BTreeMap<String, i64>, what: &str) -> Result<()> {
    for (k, v) in b {
        add_count(a.entry(k.clone()).or_default(), *v, what)?;
    }
    Ok(())
}

/// Checks a result before it is merged, compared or reported: the consistency rules of
/// [`PerformanceTestResult::consistency_errors`] (counts add up, none negative, shards exist,
/// a finite `actualRps`…), and that each encoded histogram decodes and holds exactly the
/// samples its summary counts (a histogram with forged bucket counts does not).
///
/// ```
/// use smi_perf_engine::validate_result;
/// use smi_types::perf::{PerformanceTestResult, ResultRecord};
///
/// assert!(validate_result(&PerformanceTestResult::default()).is_ok());
/// let forged = PerformanceTestResult::new("x", ResultRecord { requests_total: -1, ..Default::default() });
/// let err = validate_result(&forged).unwrap_err().to_string();
/// assert!(err.contains("requestsTotal"), "{err}");
/// ```
pub fn validate_result(r: &PerformanceTestResult) -> Result<()> {
    let mut errors = r.consistency_errors();
    let x = &r.record;
    let summaries = [
        ("histogram", x.histogram.as_ref(), Some(&x.latency)),
        (
            "uncorrectedHistogram",
            x.uncorrected_histogram.as_ref(),
            x.uncorrected_latency.as_ref(),
        ),
        (
            "failedHistogram",
            x.failed_histogram.as_ref(),
            x.failed_latency.as_ref(),
        ),
    ];
    for (path, enc, summary) in summaries {
        let Some(enc) = enc else { continue };
        let h = decode_histogram(enc)?;
        let expected = summary.map_or(0, |l| l.count);
        if u64::try_from(expected).ok() != Some(h.len()) {
            errors.push(smi_types::perf::SpecError {
                path: path.into(),
                message: format!("holds {} samples, its summary counts {expected}", h.len()),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidResult(errors))
    }
}

/// Merges results of shards of the same test exactly: counts add, histograms add, percentiles
/// are recomputed from the merged histogram (never averaged), the window spans the earliest
/// start to the latest end, `actualDuration` is the longest shard's. Each input becomes a
/// `perClient` entry carrying its `shard` (inputs that are themselves merged contribute their
/// clients); the merged top level has no `shard`. The requested `rps`, `connections` and
/// `requests` are summed back to the test's totals.
///
/// **Rate semantics:** `actualRps` is the **sum of the shards' rates** (each shard's recorded
/// requests over its own measured window). Shards run concurrently, so this is the offered
/// aggregate rate; total requests over the spanning window would understate it by the shards'
/// start skew.
///
/// Refuses: a result that fails [`validate_result`], results of different tests (`testRef` name/uid, load model, protocol, endpoints,
/// duration/requests mode), shards of different runs (`shard.runId`) or with different shard
/// counts, a mix of shard results and unsharded results, the same shard (or the same result
/// `id`) twice, and histograms with different settings (lowest, highest, significant digits).
pub fn merge(results: &[PerformanceTestResult]) -> Result<PerformanceTestResult> {
    let first = results
        .first()
        .ok_or_else(|| Error::Merge("nothing to merge".into()))?;
    let f = &first.record;
    let mut latency: Option<Histogram<u64>> = None;
    let mut uncorrected: Option<Histogram<u64>> = None;
    let mut failed: Option<Histogram<u64>> = None;
    let mut rec = ResultRecord {
        id: new_uuid(),
        ..f.clone()
    };
    rec.per_client = Vec::new();
    // the merged histogram is inline
    rec.histogram_ref = None;
    rec.requests_total = 0;
    rec.requests_succeeded = 0;
    rec.requests_failed = 0;
    rec.dropped_or_late = 0;
    rec.requests_cut_off = 0;
    rec.bytes_sent = 0;
    rec.bytes_received = 0;
    rec.status_codes.clear();
    rec.grpc_status_codes.clear();
    rec.errors.clear();
    rec.shard = None;
    let mut rps_sum = 0.0;
    let mut percentiles: Vec<f64> = Vec::new();
    let mut seen_ids: Vec<&str> = Vec::new();
    let mut seen_shards: Vec<&ShardRef> = Vec::new();
    let mut unsharded = 0usize;
    let mut uncorrected_everywhere = true;
    for (i, r) in results.iter().enumerate() {
        validate_result(r).map_err(|e| Error::Merge(format!("result {i}: {e}")))?;
    }
    for (i, r) in results.iter().enumerate() {
        let x = &r.record;
        if x.test_ref != f.test_ref {
            return Err(Error::Merge(format!(
                "result {i} belongs to {}, not {}",
                test_label(x.test_ref.as_ref()),
                test_label(f.test_ref.as_ref())
            )));
        }
        if x.requested.load_model != f.requested.load_model
            || x.requested.protocol != f.requested.protocol
        {
            return Err(Error::Merge(format!(
                "result {i} ran a different load model or protocol"
            )));
        }
        if x.requested.endpoints != f.requested.endpoints
            || x.requested.duration != f.requested.duration
            || x.requested.requests.is_some() != f.requested.requests.is_some()
        {
            return Err(Error::Merge(format!(
                "result {i} ran other endpoints or another duration than result 0: not the same test"
            )));
        }
        if !x.id.is_empty() {
            if seen_ids.contains(&x.id.as_str()) {
                return Err(Error::Merge(format!(
                    "result {i} (id {}) is given twice",
                    x.id
                )));
            }
            seen_ids.push(&x.id);
        }
        let shards: Vec<&ShardRef> = match &x.shard {
            Some(s) => vec![s],
            None => x
                .per_client
                .iter()
                .filter_map(|c| c.shard.as_ref())
                .collect(),
        };
        if shards.is_empty() {
            unsharded += 1;
        }
        for s in shards {
            if let Some(o) = seen_shards.first() {
                if o.count != s.count {
                    return Err(Error::Merge(format!(
                        "result {i} is shard {}/{}, but other results are shards of {}",
                        s.index, s.count, o.count
                    )));
                }
                if o.run_id != s.run_id {
                    return Err(Error::Merge(format!(
                        "result {i} is from {}, other results from {}",
                        run_label(s.run_id.as_deref()),
                        run_label(o.run_id.as_deref())
                    )));
                }
            }
            if seen_shards.iter().any(|o| o.index == s.index) {
                return Err(Error::Merge(format!(
                    "result {i} repeats shard {}/{} (duplicate shard)",
                    s.index, s.count
                )));
            }
            seen_shards.push(s);
        }
        if unsharded > 0 && !seen_shards.is_empty() {
            return Err(Error::Merge(format!(
                "result {i}: cannot mix shard results with unsharded results of the same test"
            )));
        }
        uncorrected_everywhere &= x.uncorrected_histogram.is_some();
        for p in &x.latency.percentiles {
            if let Ok(v) = p.percentile.parse::<f64>()
                && !percentiles.contains(&v)
            {
                percentiles.push(v);
            }
        }
        for (acc, enc, what) in [
            (&mut latency, &x.histogram, "histogram"),
            (
                &mut uncorrected,
                &x.uncorrected_histogram,
                "uncorrectedHistogram",
            ),
        ] {
            let Some(enc) = enc else {
                if what == "histogram" {
                    if let Some(r) = &x.histogram_ref {
                        return Err(Error::Merge(format!(
                            "result {i} keeps its histogram in {:?} {} (key {}, histogramRef): put it inline in `histogram` to merge",
                            r.kind,
                            r.name,
                            r.effective_key()
                        )));
                    }
                    return Err(Error::Merge(format!(
                        "result {i} carries no histogram; cannot merge exactly"
                    )));
                }
                continue;
            };
            let h = decode_histogram(enc)?;
            match acc {
                None => *acc = Some(h),
                Some(a) => {
                    if (a.low(), a.high(), a.sigfig()) != (h.low(), h.high(), h.sigfig()) {
                        return Err(Error::Merge(format!(
                            "result {i} {what} settings (lowest {}, highest {}, digits {}) differ from (lowest {}, highest {}, digits {})",
                            h.low(),
                            h.high(),
                            h.sigfig(),
                            a.low(),
                            a.high(),
                            a.sigfig()
                        )));
                    }
                    // Counts come from files: a sum past i64 (what the result can say) is an
                    // error; hdrhistogram would saturate silently.
                    a.len()
                        .checked_add(h.len())
                        .filter(|&n| i64::try_from(n).is_ok())
                        .ok_or_else(|| {
                            Error::Merge(format!("the sum of the {what} counts overflows"))
                        })?;
                    a.add(&h)
                        .map_err(|e| Error::Merge(format!("result {i} {what}: {e}")))?;
                }
            }
        }
        if let Some(enc) = &x.failed_histogram {
            let h = decode_histogram(enc)?;
            match failed.as_mut() {
                None => failed = Some(h),
                Some(a) => a
                    .add(&h)
                    .map_err(|e| Error::Merge(format!("result {i} failedHistogram: {e:?}")))?,
            }
        }
        // Counts come from files: a sum that overflows is an error, not a panic or a wrap.
        add_count(&mut rec.requests_total, x.requests_total, "requestsTotal")?;
        add_count(
            &mut rec.requests_succeeded,
            x.requests_succeeded,
            "requestsSucceeded",
        )?;
        add_count(
            &mut rec.requests_failed,
            x.requests_failed,
            "requestsFailed",
        )?;
        add_count(&mut rec.dropped_or_late, x.dropped_or_late, "droppedOrLate")?;
        add_count(
            &mut rec.requests_cut_off,
            x.requests_cut_off,
            "requestsCutOff",
        )?;
        add_count(&mut rec.bytes_sent, x.bytes_sent, "bytesSent")?;
        add_count(&mut rec.bytes_received, x.bytes_received, "bytesReceived")?;
        add_maps(&mut rec.status_codes, &x.status_codes, "statusCodes")?;
        add_maps(
            &mut rec.grpc_status_codes,
            &x.grpc_status_codes,
            "grpcStatusCodes",
        )?;
        add_maps(&mut rec.errors, &x.errors, "errors")?;
        rps_sum += x.actual_rps.parse::<f64>().unwrap_or(0.0);
        if x.start_time.0 < rec.start_time.0 {
            rec.start_time = x.start_time.clone();
        }
        if x.end_time.0 > rec.end_time.0 {
            rec.end_time = x.end_time.clone();
        }
        if x.actual_duration.to_std().unwrap_or_default()
            > rec.actual_duration.to_std().unwrap_or_default()
        {
            rec.actual_duration = x.actual_duration.clone();
        }
        if x.per_client.is_empty() {
            rec.per_client.push(to_client(r, &format!("client-{i}")));
        } else {
            rec.per_client.extend(x.per_client.iter().cloned());
        }
    }
    percentiles.sort_by(|a, b| a.total_cmp(b));
    let latency = latency.expect("checked: every input has a histogram");
    if !uncorrected_everywhere {
        // A service-time histogram of only some shards would not describe the merged run.
        uncorrected = None;
    }
    rec.latency = summarize(&latency, &percentiles);
    rec.uncorrected_latency = uncorrected.as_ref().map(|h| summarize(h, &percentiles));
    rec.histogram = Some(encode_histogram(&latency)?);
    rec.uncorrected_histogram = uncorrected.as_ref().map(encode_histogram).transpose()?;
    let series: Vec<_> = results
        .iter()
        .map(|r| r.record.time_series.as_ref())
        .collect();
    rec.time_series = crate::series::merge_series(&series)?;
    rec.stages = merge_stages(results, &percentiles)?;
    rec.failed_latency = failed.as_ref().map(|h| summarize(h, &percentiles));
    rec.failed_histogram = failed.as_ref().map(encode_histogram).transpose()?;
    rec.actual_rps = format!("{rps_sum:.3}");
    let overflow = |what: &str| Error::Merge(format!("the sum of requested.{what} overflows"));
    rec.requested.rps = results
        .iter()
        .try_fold(0_i64, |a, r| a.checked_add(r.record.requested.rps))
        .ok_or_else(|| overflow("rps"))?;
    rec.requested.connections = results
        .iter()
        .try_fold(0_i32, |a, r| a.checked_add(r.record.requested.connections))
        .ok_or_else(|| overflow("connections"))?;
    rec.requested.requests = match f.requested.requests {
        None => None,
        Some(_) => Some(
            results
                .iter()
                .filter_map(|r| r.record.requested.requests)
                .try_fold(0_i64, i64::checked_add)
                .ok_or_else(|| overflow("requests"))?,
        ),
    };
    rec.per_client
        .sort_by_key(|c| c.shard.as_ref().map(|s| s.index));
    let (thresholds, passed) =
        evaluate_thresholds(&thresholds_of(&f.thresholds), &rec, Some(&latency));
    rec.thresholds = thresholds;
    rec.passed = passed;
    let base = match (&f.test_ref, seen_shards.is_empty()) {
        (Some(t), false) if !t.name.is_empty() => Some(t.name.clone()),
        _ => first.metadata.name.clone(),
    };
    let name = base.map(|n| format!("{n}-merged")).unwrap_or_default();
    Ok(PerformanceTestResult::new(&name, rec))
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
