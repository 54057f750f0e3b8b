//! Honest verdicts, on synthetic recorders (no network, no timing): a run where every request
//! failed, none was recorded, or sends were dropped is never PASS; the default thresholds apply
//! to the metrics a test leaves unset and can be overridden; a threshold on a metric without
//! observations fails; throughput and latency count successful responses only. Same in the
//! library result, after a merge, and in the SMP export.

use std::time::{Duration, SystemTime};

use smi_perf_engine::{
    ErrorKind, HistogramSettings, Outcome, Recorder, RunStats, SUCCEEDED_METRIC, build_result,
    merge, report, smp,
};
use smi_types::perf::{
    LoadModel, PerformanceTestResult, PerformanceTestSpec, Threshold, ThresholdMetric,
    ThresholdResult,
};

fn stats(rec: Recorder) -> RunStats {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    RunStats {
        recorder: rec,
        started_at: now,
        ended_at: now + Duration::from_secs(2),
        measured: Duration::from_secs(2),
        lanes: 1,
    }
}

fn ok(ms: u64) -> (Outcome, Duration) {
    (
        Outcome::Response {
            status: 200,
            sent: 10,
            received: 10,
        },
        Duration::from_millis(ms),
    )
}

fn recorder(outcomes: &[(Outcome, Duration)]) -> Recorder {
    let mut r = Recorder::new(HistogramSettings::default(), false);
    for (o, d) in outcomes {
        r.record(*o, *d, None);
    }
    r
}

fn spec() -> PerformanceTestSpec {
    PerformanceTestSpec::http("http://127.0.0.1:1/").duration("2s")
}

fn result(spec: &PerformanceTestSpec, rec: Recorder) -> PerformanceTestResult {
    let r = build_result("r", "t", spec, &stats(rec), "builtin").unwrap();
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    r
}

fn verdict<'a>(r: &'a PerformanceTestResult, metric: &str) -> &'a ThresholdResult {
    r.record
        .thresholds
        .iter()
        .find(|t| t.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} verdict in {:?}", r.record.thresholds))
}

#[test]
fn a_closed_port_run_fails_with_zero_throughput_and_no_latency() {
    let refused = Outcome::Error {
        kind: ErrorKind::ConnectRefused,
        sent: 0,
    };
    let rec = recorder(&vec![(refused, Duration::from_micros(40)); 34_816]);
    let r = result(&spec(), rec);
    let x = &r.record;
    assert!(!x.passed);
    assert_eq!(x.actual_rps, "0.000", "throughput counts successes only");
    assert_eq!(
        x.latency.count, 0,
        "failures never enter the latency summary"
    );
    assert_eq!(x.failed_latency.as_ref().unwrap().count, 34_816);
    assert_eq!(x.failed_latency.as_ref().unwrap().max_micros, 40);
    let e = verdict(&r, "errorRate");
    assert!(e.default && !e.passed && e.observed == "1.000000", "{e:?}");
    let s = verdict(&r, SUCCEEDED_METRIC);
    assert!(s.default && !s.passed && s.observed == "0", "{s:?}");
    let text = report::summary(&r);
    assert!(text.contains("throughput 0.000 ok/s"), "{text}");
    assert!(
        text.contains("latency of successful responses: none recorded"),
        "{text}"
    );
    assert!(text.contains("(default)"), "{text}");
    assert!(text.ends_with("verdict: FAIL\n"), "{text}");
}

#[test]
fn every_request_failed_fails_even_when_the_test_accepts_any_error_rate() {
    let s = spec().threshold(Threshold::max(ThresholdMetric::ErrorRate, "1"));
    let five_hundred = Outcome::Response {
        status: 500,
        sent: 10,
        received: 10,
    };
    let r = result(
        &s,
        recorder(&vec![(five_hundred, Duration::from_millis(3)); 50]),
    );
    assert!(!r.record.passed);
    let e = verdict(&r, "errorRate");
    assert!(
        e.passed && !e.default,
        "the test's own limit replaces the default: {e:?}"
    );
    assert!(!verdict(&r, SUCCEEDED_METRIC).passed);
    assert_eq!(r.record.status_codes["500"], 50);
}

#[test]
fn thresholds_on_metrics_without_observations_fail_instead_of_reading_zero() {
    // A target that accepts and never answers within the run: nothing recorded at all.
    let s = spec()
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "250ms"))
        .threshold(Threshold::max(ThresholdMetric::LatencyMax, "1s"))
        .threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.01"));
    let r = result(&s, recorder(&[]));
    assert!(!r.record.passed);
    for m in ["latencyP99", "latencyMax"] {
        let t = verdict(&r, m);
        assert!(!t.passed, "{t:?}");
        assert_eq!(t.observed, "no data (no successful response)");
    }
    let e = verdict(&r, "errorRate");
    assert_eq!(
        (e.passed, e.observed.as_str()),
        (false, "no data (no request recorded)")
    );
    let d = verdict(&r, "droppedRate");
    assert_eq!((d.passed, d.default), (false, true));
    assert_eq!(d.observed, "no data (nothing scheduled)");
}

#[test]
fn dropped_sends_beyond_the_default_bound_fail_an_open_model_run() {
    let s = spec().load_model(LoadModel::Open).rps(1000);
    let mut rec = Recorder::new(HistogramSettings::default(), true);
    for _ in 0..98 {
        let (o, d) = ok(1);
        rec.record(o, d, Some(d));
    }
    rec.dropped = 2; // 2 of 100 scheduled sends: 2 % > 1 %
    let r = result(&s, rec.clone());
    assert!(!r.record.passed);
    let d = verdict(&r, "droppedRate");
    assert!(!d.passed && d.default && d.observed == "0.020000", "{d:?}");
    // Overridden by the test's own droppedRate threshold.
    let lenient = s
        .clone()
        .threshold(Threshold::max(ThresholdMetric::DroppedRate, "0.05"));
    let r = result(&lenient, rec.clone());
    assert!(r.record.passed, "{:?}", r.record.thresholds);
    // Every send dropped: nothing succeeded, the latency histogram is empty, a latency
    // threshold does not pass on it.
    let mut all_dropped = Recorder::new(HistogramSettings::default(), true);
    all_dropped.dropped = 1492;
    let s = s.threshold(Threshold::max(ThresholdMetric::LatencyP99, "250ms"));
    let r = result(&s, all_dropped);
    assert!(!r.record.passed);
    assert!(!verdict(&r, "latencyP99").passed);
    assert_eq!(verdict(&r, "droppedRate").observed, "1.000000");
}

#[test]
fn a_clean_run_passes_the_defaults_and_says_they_were_defaults() {
    let r = result(&spec(), recorder(&vec![ok(2); 100]));
    assert!(r.record.passed, "{:?}", r.record.thresholds);
    let metrics: Vec<(&str, &str, bool)> = r
        .record
        .thresholds
        .iter()
        .map(|t| (t.metric.as_str(), t.limit.as_str(), t.default))
        .collect();
    assert_eq!(
        metrics,
        [
            ("errorRate", "<= 0.01", true),
            ("droppedRate", "<= 0.01", true)
        ]
    );
    assert_eq!(r.record.actual_rps, "50.000"); // 100 successes in 2 s
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["thresholds"][0]["default"], true);
    let text = report::summary(&r);
    assert!(text.contains("errorRate <= 0.01"), "{text}");
    assert!(text.contains("--threshold errorRate<=0.05"), "{text}");
}

#[test]
fn failed_latency_is_kept_apart_from_success_percentiles() {
    // 90 fast successes, 10 slow failures: the success p99 must not see the failures.
    let mut outcomes = vec![ok(1); 90];
    let err = Outcome::Response {
        status: 503,
        sent: 1,
        received: 1,
    };
    outcomes.extend(vec![(err, Duration::from_secs(5)); 10]);
    let s = spec().threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.2"));
    let r = result(&s, recorder(&outcomes));
    let x = &r.record;
    assert_eq!(x.latency.count, 90);
    assert!(x.latency.max_micros < 1100, "{:?}", x.latency);
    let f = x.failed_latency.as_ref().unwrap();
    assert_eq!(f.count, 10);
    assert!(f.min_micros >= 4_990_000, "{f:?}");
    assert_eq!(x.actual_rps, "45.000");
    assert!(x.passed, "{:?}", x.thresholds);
}

#[test]
fn a_merge_applies_the_same_rules() {
    let s = spec();
    let a = result(&s, recorder(&vec![ok(1); 10]));
    let refused = Outcome::Error {
        kind: ErrorKind::ConnectRefused,
        sent: 0,
    };
    let b = result(
        &s,
        recorder(&vec![(refused, Duration::from_micros(10)); 10]),
    );
    let m = merge(&[a.clone(), b]).unwrap();
    assert!(!m.record.passed);
    let e = verdict(&m, "errorRate");
    assert!(e.default && e.observed == "0.500000", "{e:?}");
    // Defaults are not doubled by a merge of merged results.
    let twice = merge(std::slice::from_ref(&m)).unwrap();
    assert_eq!(twice.record.thresholds.len(), m.record.thresholds.len());
    assert_eq!(m.record.failed_latency.as_ref().unwrap().count, 10);
    assert_eq!(m.record.latency.count, 10);
    // Two clean results merge to a pass.
    let c = result(&s, recorder(&vec![ok(1); 10]));
    assert!(merge(&[a, c]).unwrap().record.passed);
}

#[test]
fn smp_export_has_no_made_up_latencies_and_carries_the_verdict() {
    let refused = Outcome::Error {
        kind: ErrorKind::ConnectRefused,
        sent: 0,
    };
    let r = result(
        &spec(),
        recorder(&vec![(refused, Duration::from_micros(10)); 7]),
    );
    let s = smp::export(&r, "");
    assert!(s.latencies_ms.is_none());
    assert_eq!(s.actual_qps, 0.0);
    assert_eq!(s.labels["smi-perf/verdict"], "FAIL");
    let json = serde_json::to_value(&s).unwrap();
    assert!(json.get("latencies_ms").is_none(), "{json}");

    let r = result(&spec(), recorder(&vec![ok(4); 8]));
    let s = smp::export(&r, "");
    assert_eq!(s.labels["smi-perf/verdict"], "PASS");
    assert_eq!(s.actual_qps, 4.0);
    let l = s.latencies_ms.unwrap();
    assert!((l.p50 - 4.0).abs() < 0.01, "{l:?}");
}
