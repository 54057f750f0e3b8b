//! Thresholds: what a run observed for a metric, the default thresholds, and the verdicts.

use hdrhistogram::Histogram;
use smi_types::perf::{ResultRecord, Threshold, ThresholdMetric, ThresholdResult};

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

pub(super) fn thresholds_of(results: &[ThresholdResult]) -> Vec<Threshold> {
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
