//! Time series on synthetic, deterministic recordings (instants are an origin plus fixed
//! offsets, so nothing depends on the machine's timing): interval assignment, exact merge of
//! shards by interval start, the `.hlog` export read back with HdrHistogram's interval log
//! reader, and the CSV content. One short real run checks only that the series adds up to the
//! totals (counts, not timing).

use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use smi_perf_engine::series::{Series, check_interval, csv, hlog, views};
use smi_perf_engine::{
    ErrorKind, HistogramSettings, Outcome, Recorder, RunStats, build_result, decode_histogram,
    merge,
};
use smi_types::perf::{LoadModel, PerformanceTestResult, PerformanceTestSpec, TimeInterval};

/// 2023-11-14T22:13:20.250Z: a quarter second past a whole second, so the first 1 s interval is
/// partial.
fn wall0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)
}

fn ok() -> Outcome {
    Outcome::Response {
        status: 200,
        sent: 1,
        received: 1,
    }
}

fn status(code: u16) -> Outcome {
    Outcome::Response {
        status: code,
        sent: 1,
        received: 1,
    }
}

/// One synthetic sample: completion offset from the run start (ms), outcome, latency (µs).
type Sample = (u64, Outcome, u64);

/// A deterministic workload: `n` samples spread over `span_ms`, every 13th a 503, every 29th a
/// refused connect, latency rising with time, and a stall (latencies of ~1 s) between 1000 and
/// 1100 ms.
fn workload(seed: u64, n: u64, span_ms: u64) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let at = i * span_ms / n;
            let o = if (i + seed).is_multiple_of(29) {
                Outcome::Error {
                    kind: ErrorKind::ConnectRefused,
                    sent: 0,
                }
            } else if (i + seed).is_multiple_of(13) {
                status(503)
            } else {
                ok()
            };
            let lat = if (1000..1100).contains(&at) {
                1_000_000 - (at - 1000) * 1000
            } else {
                100 + (i * 37 + seed) % 900 + at
            };
            (at, o, lat)
        })
        .collect()
}

fn record(
    samples: &[Sample],
    origin: Instant,
    wall: SystemTime,
    open: bool,
    interval: Duration,
) -> Recorder {
    let settings = HistogramSettings::default();
    let mut r = Recorder::new(settings, open)
        .with_series(Series::new(interval, origin, wall, settings, open));
    for (at, o, lat) in samples {
        let t = origin + Duration::from_millis(*at);
        let lat = Duration::from_micros(*lat);
        r.record_at(*o, lat, open.then_some(lat / 2), t);
        if open && let Some(s) = r.series.as_mut() {
            s.scheduled(t - lat.min(Duration::from_millis(*at)));
        }
    }
    r
}

fn result(rec: Recorder, wall: SystemTime, secs: u64, name: &str) -> PerformanceTestResult {
    let stats = RunStats {
        recorder: rec,
        started_at: wall,
        ended_at: wall + Duration::from_secs(secs),
        measured: Duration::from_secs(secs),
        lanes: 1,
    };
    let spec = PerformanceTestSpec::http("http://127.0.0.1:1/").duration(format!("{secs}s"));
    build_result(name, "t", &spec, &stats, "builtin").unwrap()
}

fn hist(iv: &TimeInterval) -> Option<Histogram<u64>> {
    iv.histogram.as_ref().map(|h| decode_histogram(h).unwrap())
}

#[test]
fn intervals_are_aligned_on_the_epoch_and_count_every_request_once() {
    let origin = Instant::now();
    let samples = workload(0, 3000, 3000);
    let r = result(
        record(&samples, origin, wall0(), false, Duration::from_secs(1)),
        wall0(),
        3,
        "r",
    );
    let ts = r.record.time_series.as_ref().expect("a time series");
    assert_eq!(ts.interval_millis, 1000);
    assert_eq!(ts.start_millis, 1_700_000_000_250);
    assert_eq!(ts.end_millis, 1_700_000_003_250);
    let starts: Vec<i64> = ts.intervals.iter().map(|i| i.start_millis).collect();
    assert_eq!(
        starts,
        [
            1_700_000_000_000,
            1_700_000_001_000,
            1_700_000_002_000,
            1_700_000_003_000
        ]
    );
    // Samples at offsets [0, 750) ms fall in the first (partial) interval, and so on.
    let expect =
        |lo: u64, hi: u64| samples.iter().filter(|s| (lo..hi).contains(&s.0)).count() as i64;
    let counts: Vec<i64> = ts.intervals.iter().map(|i| i.requests).collect();
    assert_eq!(
        counts,
        [
            expect(0, 750),
            expect(750, 1750),
            expect(1750, 2750),
            expect(2750, 3750)
        ]
    );
    assert_eq!(counts.iter().sum::<i64>(), r.record.requests_total);
    for iv in &ts.intervals {
        assert_eq!(iv.succeeded + iv.failed, iv.requests);
        assert_eq!(
            iv.status_codes.values().sum::<i64>() + iv.errors.values().sum::<i64>(),
            iv.requests
        );
        assert_eq!(hist(iv).map_or(0, |h| h.len()) as i64, iv.succeeded);
    }
    let total_503: i64 = ts
        .intervals
        .iter()
        .map(|i| i.status_codes.get("503").copied().unwrap_or(0))
        .sum();
    assert_eq!(total_503, r.record.status_codes["503"]);
    let refused: i64 = ts
        .intervals
        .iter()
        .map(|i| i.errors.get("connectRefused").copied().unwrap_or(0))
        .sum();
    assert_eq!(refused, r.record.errors["connectRefused"]);
    // The stall (1000–1100 ms after the start) is in the second interval: its max is ~1 s while
    // the others stay below 5 ms.
    let max: Vec<u64> = ts
        .intervals
        .iter()
        .map(|i| hist(i).unwrap().max())
        .collect();
    assert!(max[1] >= 990_000, "{max:?}");
    assert!(
        max[0] < 5_000 && max[2] < 5_000 && max[3] < 5_000,
        "{max:?}"
    );
    let v = views(ts).unwrap();
    assert_eq!((v[0].offset_secs, v[0].secs), (0.0, 0.75));
    assert_eq!((v[1].offset_secs, v[1].secs), (0.75, 1.0));
    assert_eq!((v[3].offset_secs, v[3].secs), (2.75, 0.25));
    assert_eq!(v[1].achieved_rps(), ts.intervals[1].succeeded as f64);
    assert_eq!(v[1].latency.unwrap()[3], max[1]);
}

#[test]
fn shards_merge_exactly_by_interval_start() {
    // Three shards started at slightly different instants (as shard processes do), one run.
    let interval = Duration::from_millis(500);
    let origin = Instant::now();
    let shards: Vec<(Vec<Sample>, Duration)> = vec![
        (workload(1, 2000, 2000), Duration::ZERO),
        (workload(2, 1500, 2000), Duration::from_millis(7)),
        (workload(3, 2500, 2000), Duration::from_millis(313)),
    ];
    let mut results = Vec::new();
    let mut union = Recorder::new(HistogramSettings::default(), true).with_series(Series::new(
        interval,
        origin,
        wall0(),
        HistogramSettings::default(),
        true,
    ));
    for (i, (samples, skew)) in shards.iter().enumerate() {
        let rec = record(samples, origin + *skew, wall0() + *skew, true, interval);
        // The union: the same samples recorded by one process on the same clock.
        let shifted: Vec<Sample> = samples
            .iter()
            .map(|(at, o, l)| (at + skew.as_millis() as u64, *o, *l))
            .collect();
        union.merge(&record(&shifted, origin, wall0(), true, interval));
        results.push(result(rec, wall0() + *skew, 2, &format!("s{i}")));
    }
    let merged = merge(&results).unwrap();
    let whole = result(union, wall0(), 3, "whole");
    let (m, w) = (
        merged.record.time_series.as_ref().unwrap(),
        whole.record.time_series.as_ref().unwrap(),
    );
    assert_eq!(m.intervals.len(), w.intervals.len());
    for (a, b) in m.intervals.iter().zip(&w.intervals) {
        assert_eq!(a.start_millis, b.start_millis);
        assert_eq!(
            (
                a.requests,
                a.succeeded,
                a.failed,
                a.scheduled,
                &a.status_codes,
                &a.errors
            ),
            (
                b.requests,
                b.succeeded,
                b.failed,
                b.scheduled,
                &b.status_codes,
                &b.errors
            )
        );
        assert_eq!(hist(a), hist(b), "interval {}", a.start_millis);
        let un = |iv: &TimeInterval| {
            iv.uncorrected_histogram
                .as_ref()
                .map(|h| decode_histogram(h).unwrap())
        };
        assert_eq!(un(a), un(b));
    }
    assert_eq!(m.start_millis, 1_700_000_000_250);
    assert_eq!(m.end_millis, 1_700_000_002_563);
    // Different interval lengths do not merge.
    let other = result(
        record(
            &workload(4, 10, 100),
            origin,
            wall0(),
            true,
            Duration::from_secs(1),
        ),
        wall0(),
        2,
        "x",
    );
    let err = merge(&[results[0].clone(), other]).unwrap_err().to_string();
    assert!(err.contains("time-series intervals"), "{err}");
}

#[test]
fn a_sample_for_an_interval_already_compressed_still_lands_in_it() {
    let origin = Instant::now();
    let settings = HistogramSettings::default();
    let interval = Duration::from_secs(1);
    let mut s = Series::new(interval, origin, wall0(), settings, false);
    let ms = |m: u64| origin + Duration::from_millis(m);
    s.record(ok(), Duration::from_micros(100), None, ms(10));
    // Two intervals later: the first is sealed (compressed).
    s.record(ok(), Duration::from_micros(200), None, ms(2100));
    // A straggler for the first interval.
    s.record(ok(), Duration::from_micros(300), None, ms(20));
    let ts = s
        .to_time_series(wall0(), wall0() + Duration::from_secs(3))
        .unwrap();
    let first = &ts.intervals[0];
    assert_eq!(first.succeeded, 2);
    let h = hist(first).unwrap();
    assert_eq!(
        (h.len(), h.min(), h.max()),
        (2, 100, h.highest_equivalent(300))
    );
}

#[test]
fn hlog_round_trips_through_the_interval_log_reader() {
    let origin = Instant::now();
    let samples = workload(5, 2000, 3000);
    let r = result(
        record(&samples, origin, wall0(), true, Duration::from_secs(1)),
        wall0(),
        3,
        "r",
    );
    let ts = r.record.time_series.as_ref().unwrap();
    let text = hlog(&r).unwrap();
    assert!(
        text.starts_with("#[Histogram log format version 1.3]\n"),
        "{text}"
    );
    assert!(text.contains("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"));
    let mut start = None;
    let mut untagged = Vec::new();
    let mut tagged = Vec::new();
    for e in IntervalLogIterator::new(text.as_bytes()) {
        match e.expect("the reader parses every line") {
            LogEntry::StartTime(t) => start = Some(t),
            LogEntry::BaseTime(_) => {}
            LogEntry::Interval(iv) => {
                let bytes = base64_decode(iv.encoded_histogram());
                let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
                let row = (iv.start_timestamp(), iv.duration(), iv.max(), h);
                match iv.tag() {
                    None => untagged.push(row),
                    Some(t) => {
                        assert_eq!(t.as_str(), "uncorrected");
                        tagged.push(row)
                    }
                }
            }
        }
    }
    assert_eq!(start, Some(Duration::from_millis(1_700_000_000_250)));
    assert_eq!(untagged.len(), ts.intervals.len());
    assert_eq!(tagged.len(), ts.intervals.len());
    let v = views(ts).unwrap();
    for ((iv, view), (at, len, max, h)) in ts.intervals.iter().zip(&v).zip(&untagged) {
        assert_eq!(
            Some(h.clone()),
            hist(iv).or_else(|| Some(HistogramSettings::default().new_histogram()))
        );
        assert_eq!(at.as_secs_f64(), view.offset_secs);
        assert_eq!(len.as_secs_f64(), view.secs);
        // Interval_Max is in ms (µs / 1000), to the log's 3 decimals.
        assert!(
            (max - h.max() as f64 / 1000.0).abs() < 0.0006,
            "{max} vs {}",
            h.max()
        );
    }
    for (iv, (_, _, _, h)) in ts.intervals.iter().zip(&tagged) {
        let u = decode_histogram(iv.uncorrected_histogram.as_ref().unwrap()).unwrap();
        assert_eq!(&u, h);
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    // The standard alphabet with padding, as the log writes it.
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[test]
fn csv_rows_hold_the_interval_numbers() {
    let origin = Instant::now();
    // Interval 0 (offset 0–750 ms): two 200s at 1 ms and 3 ms, one 503. Interval 1: one refused
    // connect. Interval 2: nothing. Interval 3 (2750–3000 ms): one 200 at 2 ms.
    let samples: Vec<Sample> = vec![
        (10, ok(), 1000),
        (20, ok(), 3000),
        (30, status(503), 9000),
        (
            900,
            Outcome::Error {
                kind: ErrorKind::ConnectRefused,
                sent: 0,
            },
            50,
        ),
        (2800, ok(), 2000),
    ];
    let r = result(
        record(&samples, origin, wall0(), false, Duration::from_secs(1)),
        wall0(),
        3,
        "r",
    );
    let text = csv(&r).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "start_unix_ms,offset_s,length_s,requests,succeeded,failed,dropped,scheduled,intended_rps,achieved_rps,failed_per_s,p50_ms,p90_ms,p99_ms,max_ms,uncorrected_p50_ms,uncorrected_p90_ms,uncorrected_p99_ms,uncorrected_max_ms,status_200,status_503,error_connectRefused"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[1],
        "1700000000000,0.000,0.750,3,2,1,0,0,0.000,2.667,1.333,1.000,3.001,3.001,3.001,,,,,2,1,0"
    );
    assert_eq!(
        lines[2],
        "1700000001000,0.750,1.000,1,0,1,0,0,0.000,0.000,1.000,,,,,,,,,0,0,1"
    );
    assert_eq!(
        lines[3],
        "1700000003000,2.750,0.250,1,1,0,0,0,0.000,4.000,0.000,2.000,2.000,2.000,2.000,,,,,1,0,0"
    );
}

#[test]
fn interval_lengths_are_checked() {
    assert!(check_interval(Duration::from_millis(250), Some(Duration::from_secs(10))).is_ok());
    for (iv, run) in [
        (Duration::from_millis(5), None),
        (Duration::from_micros(10_500), None),
        (Duration::from_millis(10), Some(Duration::from_secs(3600))),
    ] {
        assert!(check_interval(iv, run).is_err(), "{iv:?} {run:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_adds_up_interval_by_interval() {
    let s = smi_perf_engine::serve::start(Default::default())
        .await
        .unwrap();
    let spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .rps(400)
        .connections(4)
        .duration("1500ms");
    let mut plan = smi_perf_engine::RunPlan::from_spec(&spec).unwrap();
    plan.interval = Duration::from_millis(250);
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        smi_perf_engine::run_plan(
            &smi_perf_engine::Registry::with_builtins(),
            plan,
            "real",
            "real",
            Default::default(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    let x = &r.record;
    let ts = x.time_series.as_ref().unwrap();
    assert_eq!(ts.interval_millis, 250);
    let sum = |f: fn(&TimeInterval) -> i64| ts.intervals.iter().map(f).sum::<i64>();
    assert_eq!(sum(|i| i.requests), x.requests_total);
    assert_eq!(sum(|i| i.succeeded), x.requests_succeeded);
    assert_eq!(sum(|i| i.failed), x.requests_failed);
    assert_eq!(sum(|i| i.dropped), x.dropped_or_late);
    assert_eq!(sum(|i| i.scheduled), x.requests_total + x.dropped_or_late);
    let total: u64 = ts.intervals.iter().filter_map(hist).map(|h| h.len()).sum();
    assert_eq!(total as i64, x.latency.count);
    for w in ts.intervals.windows(2) {
        assert!(w[0].start_millis < w[1].start_millis);
        assert_eq!(w[0].start_millis % 250, 0);
    }
}
