//! Load models, counts, warm-up, results, merge, thresholds and outputs, against the embedded
//! target on 127.0.0.1. Each run is short: these are tests, not benchmarks.

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;

use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use smi_perf_engine::serve::{ServeOptions, start};
use smi_perf_engine::{
    HistogramSettings, Outcome, Recorder, Registry, RunContext, RunStats, build_result,
    decode_histogram, merge, report, smp,
};
use smi_types::perf::{
    LoadModel, PerformanceTestResult, PerformanceTestSpec, Protocol, Threshold, ThresholdMetric,
};

async fn run(spec: &PerformanceTestSpec) -> PerformanceTestResult {
    run_checked(spec, RunContext::default(), Duration::from_secs(10)).await
}

async fn target() -> smi_perf_engine::serve::Server {
    start(ServeOptions {
        tcp: Some(([127, 0, 0, 1], 0).into()),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_counts_add_up() {
    let s = target().await;
    let r = run(
        &PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
            .connections(4)
            .duration("1s"),
    )
    .await;
    let x = &r.record;
    // How many a loaded machine manages in 1 s is not asserted: at least one per connection
    // started, and every one answered 200 by the loopback target.
    assert!(x.requests_total + x.requests_cut_off >= 4, "{x:?}");
    assert_eq!(x.requests_failed, 0);
    assert_eq!(x.status_codes.get("200").copied(), Some(x.requests_total));
    assert_eq!(x.latency.count, x.requests_total);
    assert!(x.uncorrected_latency.is_none());
    assert!(x.bytes_received > 0 && x.bytes_sent > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_rate_ceiling_holds() {
    let s = target().await;
    let r = run(
        &PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
            .connections(4)
            .rps(200)
            .duration("1s"),
    )
    .await;
    // A ceiling is an upper bound only: a loaded machine may send fewer, never more.
    let n = r.record.requests_total;
    assert!((1..=205).contains(&n), "{n}");
}

/// Invariants of an Open-model run that hold on any machine, however loaded: every send of the
/// schedule is counted exactly once (recorded, cut off or dropped), the time series says the
/// same per interval, both histograms hold the successful responses, and latency timed from
/// the intended send is never below the service time, percentile by percentile. How many of
/// the sends were dropped and how the latency is distributed depend on the machine: not
/// asserted (`report_html.rs` checks rendered numbers on synthetic results).
#[track_caller]
fn check_open_model_accounting(r: &PerformanceTestResult, scheduled: i64) {
    let x = &r.record;
    assert_eq!(
        x.requests_total + x.requests_cut_off + x.dropped_or_late,
        scheduled,
        "every arrival counted once: {} recorded {} cut off {} dropped",
        x.requests_total,
        x.requests_cut_off,
        x.dropped_or_late
    );
    assert_eq!(x.requests_succeeded + x.requests_failed, x.requests_total);
    assert_eq!(x.status_codes.values().sum::<i64>(), x.requests_total);
    assert_eq!(x.latency_basis, smi_types::perf::LatencyBasis::Intended);
    assert_eq!(x.latency.count, x.requests_succeeded);
    let u = x
        .uncorrected_latency
        .as_ref()
        .expect("Open model: service time");
    assert_eq!(u.count, x.latency.count);
    let corrected = decode_histogram(x.histogram.as_ref().unwrap()).unwrap();
    let service = decode_histogram(x.uncorrected_histogram.as_ref().unwrap()).unwrap();
    assert_eq!(corrected.len() as i64, x.requests_succeeded);
    assert_eq!(service.len(), corrected.len());
    if !corrected.is_empty() {
        // Each sample: done - intended >= done - sent, so every quantile keeps the order.
        for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert!(
                corrected.value_at_quantile(q) >= service.value_at_quantile(q),
                "q{q}: corrected {} < service time {}",
                corrected.value_at_quantile(q),
                service.value_at_quantile(q)
            );
        }
        assert!(x.latency.max_micros >= u.max_micros);
        for (c, s) in x.latency.percentiles.iter().zip(&u.percentiles) {
            assert_eq!(c.percentile, s.percentile);
            assert!(c.value_micros >= s.value_micros, "p{}", c.percentile);
        }
    }
    // The time series adds up to the totals: requests where they completed, sends where they
    // were due (cut-off sends are in neither).
    let ts = x.time_series.as_ref().expect("a time series by default");
    let sum =
        |f: fn(&smi_types::perf::TimeInterval) -> i64| ts.intervals.iter().map(f).sum::<i64>();
    assert_eq!(sum(|i| i.requests), x.requests_total);
    assert_eq!(sum(|i| i.succeeded), x.requests_succeeded);
    assert_eq!(sum(|i| i.dropped), x.dropped_or_late);
    assert_eq!(sum(|i| i.scheduled), x.requests_total + x.dropped_or_late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_hits_the_rate_and_keeps_both_latencies() {
    let s = target().await;
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .rps(500)
        .connections(4)
        .duration("1s");
    let r = run(&spec).await;
    // 500 rps x 1 s: the schedule is exactly 500 sends, whatever the machine managed.
    check_open_model_accounting(&r, 500);
    assert_eq!(r.record.requested.rps, 500);
    let d = r.record.actual_duration.to_std().unwrap();
    // The window ends at 1 s (never later) and not before the last send was due (at 998 ms).
    assert!(
        d >= Duration::from_millis(990) && d <= Duration::from_secs(1),
        "{d:?}"
    );
}

/// The Open model on a 1 ms send grid (the sends of each millisecond go out together): every
/// send of the schedule is still counted once, never sent before its intended (moved) time
/// (corrected latency is at least the service time, sample by sample), and the timing is still
/// from the intended send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_with_a_coarse_timer_counts_every_send_once() {
    let s = target().await;
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .rps(2000)
        .connections(4)
        .duration("500ms");
    let ctx = RunContext::default().with_timer_resolution(Duration::from_millis(1));
    let r = run_checked(&spec, ctx, Duration::from_secs(10)).await;
    check_open_model_accounting(&r, 1000);
}

/// Answers read at the timer's wake-ups (the default, for plain-TCP HTTP/1.1, HTTP/2 and gRPC
/// lanes on Linux: answers are timed by their kernel receive timestamp) and on arrival
/// (`--read-on-arrival`), against a prompt target and one slower than the wake-ups (3 ms: the
/// readers stop riding wake-ups and wait on readiness, then leave the reactor again): every send
/// of the schedule counted once, none failed, corrected latency at least the service time sample
/// by sample, either way, for every protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_reads_at_wakeups_or_on_arrival_count_every_send_once() {
    for delay in [Duration::ZERO, Duration::from_millis(3)] {
        let s = start(ServeOptions {
            delay,
            grpc: Some(([127, 0, 0, 1], 0).into()),
            ..Default::default()
        })
        .await
        .unwrap();
        let specs = [
            PerformanceTestSpec::http(format!("http://{}/", s.http_addr)).connections(8),
            PerformanceTestSpec::http2(format!("http://{}/", s.http_addr))
                .connections(2)
                .streams_per_connection(4),
            PerformanceTestSpec::grpc(s.grpc_addr.unwrap().to_string())
                .connections(2)
                .streams_per_connection(4),
        ];
        for spec in specs {
            for at_wakeups in [true, false] {
                let spec = spec
                    .clone()
                    .load_model(LoadModel::Open)
                    .rps(1000)
                    .duration("400ms");
                let ctx = RunContext::default().with_read_at_wakeups(at_wakeups);
                let r = run_checked(&spec, ctx, Duration::from_secs(10)).await;
                let what = format!("{:?} {delay:?} at wake-ups: {at_wakeups}", spec.protocol);
                assert_eq!(r.record.requests_failed, 0, "{what}: {:?}", r.record.errors);
                check_open_model_accounting(&r, 400);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_request_count() {
    let s = target().await;
    for model in [LoadModel::Closed, LoadModel::Open] {
        let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
            .connections(4)
            .requests(137)
            .load_model(model)
            .rps(2000);
        let r = run(&spec).await;
        assert_eq!(r.record.requests_total, 137, "{model:?}");
        assert_eq!(r.record.latency.count, 137);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmup_is_not_recorded() {
    let s = target().await;
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .rps(200)
        .connections(2)
        .warmup("500ms")
        .duration("1s");
    let r = run(&spec).await;
    // 1.5 s of traffic at 200/s, only the last second is recorded: 200 sends of the schedule
    // are accounted for (recorded, cut off or dropped), not the 100 of the warm-up.
    check_open_model_accounting(&r, 200);
    let d = r.record.actual_duration.to_std().unwrap();
    // The measured window is the recorded second: never longer, and it ends no earlier than
    // the last send due in it (995 ms after the warm-up).
    assert!(
        d >= Duration::from_millis(990) && d <= Duration::from_secs(1),
        "{d:?}"
    );
    let ts = r.record.time_series.as_ref().unwrap();
    let from = r.record.start_time.0.as_millisecond();
    assert!(
        ts.start_millis >= from,
        "the series starts after the warm-up: {} < {from}",
        ts.start_millis
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_with_streams_and_tcp_echo() {
    let s = target().await;
    let h2 = run(
        &PerformanceTestSpec::http2(format!("http://{}/", s.http_addr))
            .connections(2)
            .streams_per_connection(4)
            .requests(200),
    )
    .await;
    assert_eq!(
        h2.record.status_codes.get("200").copied(),
        Some(200),
        "{:?}",
        h2.record.errors
    );
    let tcp = run(
        &PerformanceTestSpec::tcp(format!("tcp://{}", s.tcp_addr.unwrap()))
            .connections(2)
            .requests(100),
    )
    .await;
    assert_eq!(
        tcp.record.requests_succeeded, 100,
        "{:?}",
        tcp.record.errors
    );
    assert_eq!(tcp.record.bytes_received, tcp.record.bytes_sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_mix_counts_failures() {
    let s = start(ServeOptions {
        status_mix: vec![(200, 1), (503, 1)],
        ..Default::default()
    })
    .await
    .unwrap();
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .connections(2)
        .requests(400)
        .threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.1"));
    let r = run(&spec).await;
    let x = &r.record;
    assert_eq!(x.status_codes.values().sum::<i64>(), 400);
    assert!(x.status_codes["503"] > 100 && x.status_codes["200"] > 100);
    assert_eq!(x.requests_failed, x.status_codes["503"]);
    assert!(!x.passed);
}

#[test]
fn unsupported_combination_is_rejected_before_the_run() {
    let r = Registry::with_builtins();
    let err = r
        .resolve(
            &PerformanceTestSpec::new(Protocol::Tcp, "tcp://127.0.0.1:9").load_generator("hyper"),
        )
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("does not support TCP") && err.contains("supports protocols [HTTP]"),
        "{err}"
    );
    let err = r
        .resolve(&PerformanceTestSpec::http("http://127.0.0.1/").load_generator("fortio"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("unknown load generator \"fortio\""), "{err}");
}

// ---- results built from synthetic recorders (no network) ----

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// A recorder of `n` requests, about 2 % of them 503s; returns it with the latencies of the
/// successful ones (the 503s' latencies are kept apart, in `failed_latency`).
fn synthetic(seed: u64, n: usize, settings: HistogramSettings) -> (RunStats, Vec<u64>) {
    let (stats, ok, _) = synthetic_split(seed, n, settings);
    (stats, ok)
}

/// As [`synthetic`], also returning the failed requests' latencies.
fn synthetic_split(
    seed: u64,
    n: usize,
    settings: HistogramSettings,
) -> (RunStats, Vec<u64>, Vec<u64>) {
    let mut rec = Recorder::new(settings, false);
    let mut s = seed;
    let mut values = Vec::new();
    let mut failed = Vec::new();
    for _ in 0..n {
        let us = 50 + lcg(&mut s) % 200_000;
        let status = if lcg(&mut s).is_multiple_of(50) {
            failed.push(us);
            503
        } else {
            values.push(us);
            200
        };
        rec.record(
            Outcome::Response {
                status,
                sent: 10,
                received: 20,
            },
            Duration::from_micros(us),
            None,
        );
    }
    let now = SystemTime::now();
    (
        RunStats {
            recorder: rec,
            started_at: now,
            ended_at: now + Duration::from_secs(1),
            measured: Duration::from_secs(1),
            lanes: 1,
        },
        values,
        failed,
    )
}

fn spec_with_thresholds() -> PerformanceTestSpec {
    PerformanceTestSpec::http("http://127.0.0.1:1/")
        .duration("1s")
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "250ms"))
        .threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.5"))
        .threshold(Threshold::min(ThresholdMetric::Rps, "10"))
}

#[test]
fn merge_is_exact() {
    let settings = HistogramSettings::default();
    let spec = spec_with_thresholds();
    let (a, va, fa) = synthetic_split(1, 5000, settings);
    let (b, vb, fb) = synthetic_split(2, 7000, settings);
    let ok = (va.len() + vb.len()) as i64;
    let ra = build_result("t-0", "t", &spec, &a, "builtin").unwrap();
    let rb = build_result("t-1", "t", &spec, &b, "builtin").unwrap();
    let m = merge(&[ra.clone(), rb.clone()]).unwrap();
    let mut union: Histogram<u64> = settings.new_histogram();
    for v in va.iter().chain(vb.iter()) {
        union.record(*v).unwrap();
    }
    let merged = decode_histogram(m.record.histogram.as_ref().unwrap()).unwrap();
    assert_eq!(merged, union);
    assert_eq!(m.record.requests_total, 12_000);
    assert_eq!(m.record.requests_succeeded, ok);
    // Latency is of the successful responses only; the failed ones merge apart, exactly.
    assert_eq!(m.record.latency.count, ok);
    let mut failed_union: Histogram<u64> = settings.new_histogram();
    for v in fa.iter().chain(fb.iter()) {
        failed_union.record(*v).unwrap();
    }
    let failed = decode_histogram(m.record.failed_histogram.as_ref().unwrap()).unwrap();
    assert_eq!(failed, failed_union);
    assert_eq!(m.record.failed_latency.as_ref().unwrap().count, 12_000 - ok);
    assert_eq!(
        m.record.latency.percentile(99.0).unwrap() as u64,
        union.value_at_quantile(0.99)
    );
    assert_eq!(m.record.per_client.len(), 2);
    assert_eq!(m.record.status_codes.values().sum::<i64>(), 12_000);
    assert!(
        m.consistency_errors().is_empty(),
        "{:?}",
        m.consistency_errors()
    );
    // Throughput is successful responses per second (each shard measured 1 s).
    assert_eq!(m.record.actual_rps, format!("{ok}.000"));
    // The test's three thresholds plus the default droppedRate <= 0.01 it leaves unset.
    assert_eq!(m.record.thresholds.len(), 4);
    assert_eq!(m.record.thresholds.iter().filter(|t| t.default).count(), 1);

    // A different test is refused.
    let other = build_result("u-0", "u", &spec, &a, "builtin").unwrap();
    assert!(
        merge(&[ra.clone(), other])
            .unwrap_err()
            .to_string()
            .contains("belongs to test")
    );
    // Incompatible histogram settings are refused.
    let (c, _) = synthetic(
        3,
        100,
        HistogramSettings {
            lowest: 1,
            highest: 60_000_000,
            sigfig: 2,
        },
    );
    let rc = build_result("t-2", "t", &spec, &c, "builtin").unwrap();
    assert!(
        merge(&[ra, rc])
            .unwrap_err()
            .to_string()
            .contains("settings")
    );
}

#[test]
fn thresholds_give_the_verdict() {
    let (stats, values) = synthetic(7, 10_000, HistogramSettings::default());
    let r = build_result("x", "x", &spec_with_thresholds(), &stats, "builtin").unwrap();
    assert!(r.record.passed, "{:?}", r.record.thresholds);
    assert!(r.record.thresholds.iter().all(|t| t.passed));
    let mut sorted = values.clone();
    sorted.sort();
    let strict = PerformanceTestSpec::http("http://127.0.0.1:1/")
        .duration("1s")
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "1ms"))
        .threshold(Threshold::min(ThresholdMetric::Rps, "20000"));
    let r = build_result("x", "x", &strict, &stats, "builtin").unwrap();
    assert!(!r.record.passed);
    let failed = |default: bool| {
        r.record
            .thresholds
            .iter()
            .filter(|t| !t.passed && t.default == default)
            .count()
    };
    assert_eq!(failed(false), 2);
    // The test sets no errorRate threshold: the default `errorRate <= 0.01` applies, and the
    // ~2 % of 503s fail it.
    assert_eq!(failed(true), 1);
    // The observed latency is said in the limit's unit, below a millisecond too.
    let p99 = r.record.latency.percentile(99.0).unwrap();
    let t = &r.record.thresholds[0];
    assert_eq!(t.limit, "<= 1ms");
    let shown: f64 = t.observed.strip_suffix("ms").unwrap().parse().unwrap();
    assert!(
        (shown * 1000.0 - p99 as f64).abs() <= 0.5,
        "{} vs {p99} µs",
        t.observed
    );
    let in_seconds = PerformanceTestSpec::http("http://127.0.0.1:1/")
        .duration("1s")
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "2s"));
    let r = build_result("x", "x", &in_seconds, &stats, "builtin").unwrap();
    let shown: f64 = r.record.thresholds[0]
        .observed
        .strip_suffix('s')
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (shown * 1e6 - p99 as f64).abs() <= 0.5,
        "{:?}",
        r.record.thresholds[0]
    );
}

#[test]
fn smp_export_converts_micros_to_float_millis() {
    let (stats, _) = synthetic(9, 1000, HistogramSettings::default());
    let r = build_result("x", "x", &spec_with_thresholds(), &stats, "builtin").unwrap();
    let s = smp::export(&r, "file:///tmp/x.json");
    let l = &r.record.latency;
    let lat = s
        .latencies_ms
        .as_ref()
        .expect("successful responses have latencies");
    assert_eq!(lat.min, l.min_micros as f64 / 1000.0);
    assert_eq!(lat.max, l.max_micros as f64 / 1000.0);
    assert_eq!(lat.average, l.mean_micros as f64 / 1000.0);
    assert_eq!(lat.p99, l.percentile(99.0).unwrap() as f64 / 1000.0);
    let h = decode_histogram(r.record.histogram.as_ref().unwrap()).unwrap();
    assert_eq!(lat.p90, h.value_at_quantile(0.90) as f64 / 1000.0);
    // Round-trip back to µs loses less than 1 µs.
    for (ms, us) in [(lat.min, l.min_micros), (lat.max, l.max_micros)] {
        assert!(((ms * 1000.0).round() as i64 - us).abs() < 1);
    }
    assert_eq!(smp::micros_to_ms(1), 0.001);
    assert_eq!(s.actual_qps, r.record.requests_succeeded as f64);
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["latencies_ms"]["p50"].is_f64());
    assert_eq!(json["labels"]["smi-perf/load-model"], "Closed");
}

#[test]
fn html_report_is_self_contained_with_svg_chart() {
    let (stats, _) = synthetic(11, 1000, HistogramSettings::default());
    let spec = spec_with_thresholds();
    let r = build_result("x", "x", &spec, &stats, "builtin").unwrap();
    let html = report::html(&r, Some(&spec));
    assert!(html.contains("<svg") && html.contains("<polyline"));
    for needle in ["src=", "href=", "url(", "@import", "<link", "<script"] {
        assert!(!html.contains(needle), "{needle} in report");
    }
    for line in html.lines() {
        // The only URLs are the test's endpoints, printed as text inside <pre>.
        if line.contains("http://") || line.contains("https://") {
            assert!(line.contains("127.0.0.1:1"), "{line}");
        }
    }
}

#[test]
fn hgrm_output_is_the_hdrhistogram_text_format() {
    let (stats, _) = synthetic(13, 1000, HistogramSettings::default());
    let r = build_result("x", "x", &spec_with_thresholds(), &stats, "builtin").unwrap();
    let text = report::hgrm_of(&r).unwrap();
    assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
    assert!(text.contains("#[Mean    ="));
    let ok = r.record.requests_succeeded;
    assert!(
        text.contains(&format!("Total count    = {ok:>12}]")),
        "{text}"
    );
    let last = text.lines().rfind(|l| !l.starts_with('#')).unwrap();
    assert!(last.contains("1.000000000000"), "{last}");
}

#[test]
fn compare_reports_added_latency() {
    let spec = spec_with_thresholds();
    let (a, _) = synthetic(1, 1000, HistogramSettings::default());
    let mut b = a.clone();
    let mut shifted = Recorder::new(HistogramSettings::default(), false);
    let mut s = 1u64;
    for _ in 0..1000 {
        let us = 50 + lcg(&mut s) % 200_000 + 1000;
        let status = if lcg(&mut s).is_multiple_of(50) {
            503
        } else {
            200
        };
        shifted.record(
            Outcome::Response {
                status,
                sent: 1,
                received: 1,
            },
            Duration::from_micros(us),
            None,
        );
    }
    b.recorder = shifted;
    let base = build_result("base", "base", &spec, &a, "builtin").unwrap();
    let mesh = build_result("mesh", "mesh", &spec, &b, "builtin").unwrap();
    let text = report::compare(&base, &mesh);
    assert!(text.contains("p50") && text.contains("added"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("mean") && l.contains("+1.0")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_accounting_holds_through_a_stall() {
    // The target holds every response for 500 ms, 300 ms into the run.
    let s = start(ServeOptions {
        stall_after: Some(Duration::from_millis(300)),
        stall_for: Duration::from_millis(500),
        ..Default::default()
    })
    .await
    .unwrap();
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .rps(400)
        .connections(2)
        .duration("1500ms");
    let r = run(&spec).await;
    // 400 rps x 1.5 s. Whether the stall falls in the run, and how it shapes the percentiles,
    // depends on the machine (report_html.rs and series.rs show a stall on synthetic data);
    // the accounting and the order corrected >= service time hold whatever happened.
    check_open_model_accounting(&r, 600);
}

/// fuzz/FINDINGS.md F1: a histogram whose V2 header declares a 4 GiB payload is refused before
/// anything that size is allocated, in the uncompressed and the deflate form.
#[test]
fn histogram_declaring_a_huge_payload_is_refused_without_allocating_it() {
    use base64::Engine as _;
    use smi_types::perf::EncodedHistogram;
    use std::io::Write as _;
    // V2 header: cookie, payload length, normalizing offset, digits, low, high, ratio 1.0.
    let mut v2 = Vec::new();
    v2.extend(0x1c84_9313_u32.to_be_bytes());
    v2.extend(u32::MAX.to_be_bytes());
    v2.extend(0_u32.to_be_bytes());
    v2.extend(3_u32.to_be_bytes());
    v2.extend(1_u64.to_be_bytes());
    v2.extend(2_u64.to_be_bytes());
    v2.extend(1.0_f64.to_be_bytes());
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&v2).unwrap();
    let deflated = z.finish().unwrap();
    let mut compressed = Vec::new();
    compressed.extend(0x1c84_9314_u32.to_be_bytes());
    compressed.extend((deflated.len() as u32).to_be_bytes());
    compressed.extend(deflated);
    for bytes in [v2, compressed] {
        let e = EncodedHistogram {
            encoding: "HdrHistogramV2Deflate".into(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        };
        let err = smi_perf_engine::decode_histogram(&e).unwrap_err();
        assert!(err.to_string().contains("4294967295-byte payload"), "{err}");
    }
}

/// fuzz/FINDINGS.md F3: counts read from result files that overflow when summed are a merge
/// error, not an overflow panic (debug) or a wrapped total (release).
#[test]
fn merge_refuses_counts_that_overflow() {
    let settings = HistogramSettings::default();
    let spec = spec_with_thresholds();
    let (a, _) = synthetic(1, 10, settings);
    let (b, _) = synthetic(2, 10, settings);
    let mut ra = build_result("t-0", "t", &spec, &a, "builtin").unwrap();
    let rb = build_result("t-1", "t", &spec, &b, "builtin").unwrap();
    // Each result consistent on its own; their sum does not fit.
    let x = &mut ra.record;
    let errors = x.requests_failed;
    x.requests_total = i64::MAX;
    x.requests_succeeded = i64::MAX - errors;
    x.status_codes = [("200".to_owned(), i64::MAX - errors)].into();
    if errors > 0 {
        x.status_codes.insert("503".into(), errors);
    }
    assert!(
        ra.consistency_errors().is_empty(),
        "{:?}",
        ra.consistency_errors()
    );
    let err = merge(&[ra.clone(), rb.clone()]).unwrap_err();
    assert!(err.to_string().contains("requestsTotal overflows"), "{err}");
    // Status codes that do not add up to the total are refused before anything is summed.
    ra.record.status_codes.insert("200".into(), i64::MAX);
    let err = merge(&[ra, rb]).unwrap_err().to_string();
    assert!(
        err.contains("result 0") && err.contains("statusCodes"),
        "{err}"
    );
}

/// Issue 19: forged results merged into `latency.count = -9223372036854743081` with
/// `passed: true`, and `requestsTotal: -1`, succeeded > total, shard 7 of 2 and
/// `actualRps: "NaN"` were accepted. Each input is checked before anything is merged.
#[test]
fn merge_checks_each_result_before_merging() {
    let settings = HistogramSettings::default();
    let spec = spec_with_thresholds();
    let (a, _) = synthetic(1, 10, settings);
    let (b, _) = synthetic(2, 10, settings);
    let ra = build_result("t-0", "t", &spec, &a, "builtin").unwrap();
    let rb = build_result("t-1", "t", &spec, &b, "builtin").unwrap();
    assert!(smi_perf_engine::validate_result(&ra).is_ok());
    merge(&[ra.clone(), rb.clone()]).unwrap();
    let refused = |forge: &dyn Fn(&mut PerformanceTestResult), what: &str| {
        let mut forged = rb.clone();
        forge(&mut forged);
        let err = merge(&[ra.clone(), forged.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("result 1") && err.contains(what),
            "{what}: {err}"
        );
        let err = smi_perf_engine::validate_result(&forged)
            .unwrap_err()
            .to_string();
        assert!(err.contains(what), "{what}: {err}");
    };
    // Bucket counts far beyond the requests the result claims (their sum past i64::MAX).
    refused(
        &|r| {
            let mut h: Histogram<u64> = settings.new_histogram();
            h.record_n(1000, u64::MAX / 3).unwrap();
            h.record_n(2000, u64::MAX / 3).unwrap();
            r.record.histogram = Some(smi_perf_engine::encode_histogram(&h).unwrap());
        },
        "histogram",
    );
    refused(&|r| r.record.requests_total = -1, "requestsTotal");
    refused(
        &|r| r.record.requests_succeeded = r.record.requests_total + 1,
        "requestsTotal",
    );
    refused(
        &|r| {
            r.record.shard = Some(smi_types::perf::ShardRef {
                index: 7,
                count: 2,
                run_id: None,
                start_at: None,
            })
        },
        "shard.index",
    );
    refused(&|r| r.record.actual_rps = "NaN".into(), "actualRps");
    refused(&|r| r.record.actual_rps = "inf".into(), "actualRps");
    refused(&|r| r.record.requests_cut_off = -3, "requestsCutOff");
    refused(
        &|r| {
            r.record.errors.insert("timeout".into(), -1);
        },
        "errors",
    );
}

/// `histogramRef` (perf-api.md B.3): a result whose histogram is kept in a ConfigMap cannot be
/// merged exactly until the histogram is put back inline, and the merge says so; a result with
/// both `histogram` and `histogramRef` is inconsistent; a merged result never inherits one.
#[test]
fn merge_and_histogram_ref() {
    use smi_types::perf::HistogramRef;
    let settings = HistogramSettings::default();
    let spec = spec_with_thresholds();
    let (a, _) = synthetic(1, 10, settings);
    let (b, _) = synthetic(2, 10, settings);
    let ra = build_result("t-0", "t", &spec, &a, "builtin").unwrap();
    let rb = build_result("t-1", "t", &spec, &b, "builtin").unwrap();
    let mut by_ref = rb.clone();
    by_ref.record.histogram = None;
    by_ref.record.histogram_ref = Some(HistogramRef::config_map("t-1-histogram"));
    assert!(smi_perf_engine::validate_result(&by_ref).is_ok());
    let err = merge(&[ra.clone(), by_ref]).unwrap_err().to_string();
    assert!(
        err.contains("result 1") && err.contains("t-1-histogram") && err.contains("histogramRef"),
        "{err}"
    );
    let mut both = rb.clone();
    both.record.histogram_ref = Some(HistogramRef::secret("s"));
    let err = merge(&[ra.clone(), both]).unwrap_err().to_string();
    assert!(err.contains("histogramRef"), "{err}");
    let merged = merge(&[ra, rb]).unwrap();
    assert!(merged.record.histogram.is_some() && merged.record.histogram_ref.is_none());
}

/// A lane that panics at its `at`-th request (0: while it prepares), as a buggy custom
/// generator's would.
struct Panicky {
    at: u32,
    done: u32,
}

impl smi_perf_engine::Lane for Panicky {
    async fn prepare(&mut self) {
        assert!(self.at != 0, "lane broke while preparing");
    }
    async fn request(&mut self) -> Outcome {
        self.done += 1;
        assert!(self.done != self.at, "lane broke at request {}", self.at);
        Outcome::Response {
            status: 200,
            sent: 40,
            received: 80,
        }
    }
    fn reset(&mut self) {}
}

struct PanickyFactory(u32);

impl smi_perf_engine::LaneFactory for PanickyFactory {
    type Lane = Panicky;
    fn lanes(&self, _: &smi_perf_engine::RunPlan, conn: u32) -> Vec<Panicky> {
        // Only the second connection's lane is broken; the others run to the end.
        let at = if conn == 1 { self.0 } else { u32::MAX };
        vec![Panicky { at, done: 0 }]
    }
}

/// A lane that panics (in either load model, or while preparing) fails the run with an error
/// naming the panic, at once, instead of a result missing that lane's requests (which used to
/// come back with the other lanes' counts only, looking complete).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_lane_fails_the_run_instead_of_losing_its_requests() {
    use std::sync::Arc;
    let closed = PerformanceTestSpec::http("http://127.0.0.1:9/")
        .connections(3)
        .requests(30);
    // An hour long: the run must end at the panic, not at its end.
    let open = PerformanceTestSpec::http("http://127.0.0.1:9/")
        .connections(3)
        .load_model(LoadModel::Open)
        .rps(300)
        .duration("1h");
    for (spec, at, says) in [
        (&closed, 3, "lane broke at request 3"),
        (&open, 3, "lane broke at request 3"),
        (&closed, 0, "lane broke while preparing"),
    ] {
        let plan = Arc::new(smi_perf_engine::RunPlan::from_spec(spec).unwrap());
        let run = smi_perf_engine::drive(Arc::new(PanickyFactory(at)), plan, RunContext::default());
        match tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the run went on after a lane panicked")
        {
            Err(smi_perf_engine::Error::LanePanicked(m)) => assert!(m.contains(says), "{m}"),
            other => panic!(
                "a panicked lane gave {:?}",
                other.map(|s| s.recorder.total())
            ),
        }
    }
    // Without the broken lane the same run counts every request.
    let plan = Arc::new(smi_perf_engine::RunPlan::from_spec(&closed).unwrap());
    let ok = smi_perf_engine::drive(
        Arc::new(PanickyFactory(u32::MAX)),
        plan,
        RunContext::default(),
    )
    .await
    .unwrap();
    assert_eq!(ok.recorder.total(), 30);
}

/// A lane that answers at once and notes, at every request, the next intended send the driver
/// announces to it ([`smi_perf_engine::Wakeups::read_by`]).
struct Announced {
    wakeups: Option<smi_perf_engine::Wakeups>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
}

impl smi_perf_engine::Lane for Announced {
    async fn request(&mut self) -> Outcome {
        if let Some(by) = self.wakeups.as_ref().and_then(|w| w.read_by()) {
            self.seen.lock().unwrap().push(by);
        }
        Outcome::Response {
            status: 200,
            sent: 40,
            received: 80,
        }
    }
    fn reset(&mut self) {}
    fn read_at_wakeups(&mut self, wakeups: smi_perf_engine::Wakeups) {
        self.wakeups = Some(wakeups);
    }
}

struct AnnouncedFactory(std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>);

impl smi_perf_engine::LaneFactory for AnnouncedFactory {
    type Lane = Announced;
    fn lanes(&self, _: &smi_perf_engine::RunPlan, _: u32) -> Vec<Announced> {
        vec![Announced {
            wakeups: None,
            seen: self.0.clone(),
        }]
    }
}

/// `timer_resolution` puts the Open model's sends on a grid: every intended send lies on the
/// resolution's grid from the run's start, moved up from its scheduled time, so at 10,000 rps
/// on a 1 ms grid the sends 1–10 share 1 ms, 11–20 share 2 ms, and so on (on a 5 ms grid 1–50
/// share 5 ms); at the default every
/// send keeps its own time, 100 µs apart. Read through the intended times the driver announces
/// to a lane (`Wakeups::read_by`: the lane's next send), which come from the schedule, not from
/// the clock: exact on any machine. maxInFlight is large, so a slow machine drops no send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_sends_lie_on_the_grid_of_the_timer_resolution() {
    use std::sync::{Arc, Mutex};
    let spec = PerformanceTestSpec::http("http://127.0.0.1:9/")
        .connections(1)
        .load_model(LoadModel::Open)
        .rps(10_000)
        .max_in_flight(100_000)
        .duration("30ms");
    for (res, want) in [
        // Sends 1..=299 (send 0 is at the start: no read_by before it), announced by sends 0..=298.
        (
            Duration::from_millis(1),
            (1..300u64)
                .map(|n| n.div_ceil(10) * 1000)
                .collect::<Vec<_>>(),
        ),
        // A 5 ms grid (coarser than the timer's usual 1 ms sleeps): sends 1–50 at 5 ms, ...
        (
            Duration::from_millis(5),
            (1..300u64).map(|n| n.div_ceil(50) * 5000).collect(),
        ),
        (Duration::ZERO, (1..300u64).map(|n| n * 100).collect()),
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(smi_perf_engine::RunPlan::from_spec(&spec).unwrap());
        let ctx = RunContext::default().with_timer_resolution(res);
        let stats = tokio::time::timeout(
            Duration::from_secs(60),
            smi_perf_engine::drive(Arc::new(AnnouncedFactory(seen.clone())), plan, ctx),
        )
        .await
        .expect("a 30 ms run ends")
        .unwrap();
        assert_eq!(stats.recorder.total(), 300, "{res:?}");
        let seen = seen.lock().unwrap();
        // The last request announces no next send (only a short wait for its own answer).
        let origin = seen[0] - Duration::from_micros(want[0]);
        let got: Vec<u64> = seen[..want.len()]
            .iter()
            .map(|&t| (t - origin).as_micros() as u64)
            .collect();
        assert_eq!(got, want, "intended sends at resolution {res:?}");
    }
}

/// A lane that answers at its second poll (it yields once, as any lane waiting on I/O does).
struct Yielding;

impl smi_perf_engine::Lane for Yielding {
    async fn request(&mut self) -> Outcome {
        tokio::task::yield_now().await;
        Outcome::Response {
            status: 200,
            sent: 40,
            received: 80,
        }
    }
    fn reset(&mut self) {}
}

struct YieldingFactory;

impl smi_perf_engine::LaneFactory for YieldingFactory {
    type Lane = Yielding;
    fn lanes(&self, _: &smi_perf_engine::RunPlan, _: u32) -> Vec<Yielding> {
        vec![Yielding]
    }
}

/// On a 10 ms grid the sends scheduled in the run's last 5 ms (a 25 ms run) are moved up to
/// 30 ms, past the end; with a 5 ms timeout they are still answered, not cut off: the run
/// lasts until the last grid step's sends have had their timeout (it used to end the timeout
/// after the scheduled end, so those sends started with their deadline already gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_moved_past_the_end_by_the_grid_are_answered() {
    use std::sync::Arc;
    let mut spec = PerformanceTestSpec::http("http://127.0.0.1:9/")
        .connections(1)
        .load_model(LoadModel::Open)
        .rps(2000)
        .max_in_flight(100_000)
        .duration("25ms");
    spec.request.get_or_insert_with(Default::default).timeout =
        Some(Duration::from_millis(5).into());
    let plan = Arc::new(smi_perf_engine::RunPlan::from_spec(&spec).unwrap());
    assert_eq!(plan.timeout, Duration::from_millis(5));
    let ctx = RunContext::default().with_timer_resolution(Duration::from_millis(10));
    let stats = tokio::time::timeout(
        Duration::from_secs(60),
        smi_perf_engine::drive(Arc::new(YieldingFactory), plan, ctx),
    )
    .await
    .expect("a 25 ms run ends")
    .unwrap();
    let r = &stats.recorder;
    // 50 sends scheduled; a send whose 5 ms passed on a slow machine fails, still counted.
    assert_eq!((r.total(), r.cut_off, r.dropped), (50, 0, 0));
}
