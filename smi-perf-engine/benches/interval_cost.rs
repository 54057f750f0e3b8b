//! What recording the time series costs on the hot path (issue 15), side by side:
//!
//! 1. **recorder**: `Recorder::record` (totals only) against `Recorder::record_at` with a 1 s
//!    series and with one interval of an hour (the series "effectively off": one slot, never
//!    sealed), on the same 2 M synthetic outcomes completing at 100 000 per simulated second.
//!    ns per recorded request.
//! 2. **engine**: closed-loop HTTP/1.1 runs against the embedded target on 127.0.0.1, with the
//!    run's interval at 1 s and at an hour, alternating which goes first. Successful requests
//!    per second, and the ratio within each round.
//!
//! Medians over `ROUNDS` rounds (default 7); `SECS` per engine run (default 2), `CONNS`
//! connections (default 4). Run: `cargo bench -p smi-perf-engine --bench interval_cost`
//! (results and their reading: bench/README.md). Loopback only; every run is bounded.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use smi_perf_engine::series::Series;
use smi_perf_engine::serve::{ServeOptions, start};
use smi_perf_engine::{HistogramSettings, Outcome, Recorder, Registry, RunContext, RunPlan};
use smi_types::perf::PerformanceTestSpec;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

const N: u64 = 2_000_000;

/// ns per request recording `N` outcomes; `series`: the interval, or none (totals only).
fn recorder_ns(series: Option<Duration>) -> f64 {
    let settings = HistogramSettings::default();
    let origin = Instant::now();
    let mut rec = Recorder::new(settings, false);
    if let Some(i) = series {
        rec = rec.with_series(Series::new(i, origin, SystemTime::now(), settings, false));
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let t0 = Instant::now();
    for i in 0..N {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let latency = Duration::from_micros(50 + (seed >> 33) % 20_000);
        let status = if (seed >> 20).is_multiple_of(100) {
            503
        } else {
            200
        };
        let o = Outcome::Response {
            status,
            sent: 100,
            received: 200,
        };
        if series.is_some() {
            // Completions at 100 000 per second: a 1 s interval rolls every 100 000.
            rec.record_at(o, latency, None, origin + Duration::from_micros(i * 10));
        } else {
            rec.record(o, latency, None);
        }
    }
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    black_box(&rec);
    ns
}

/// Successful requests per second of one closed-loop run with `interval`.
fn engine_rps(
    rt: &tokio::runtime::Runtime,
    url: &str,
    secs: u64,
    conns: i32,
    interval: Duration,
) -> f64 {
    let spec = PerformanceTestSpec::http(url)
        .connections(conns)
        .duration(format!("{secs}s"));
    let mut plan = RunPlan::from_spec(&spec).expect("plan");
    plan.interval = interval;
    let r = rt
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(secs + 30),
                smi_perf_engine::run_plan(
                    &Registry::with_builtins(),
                    plan,
                    "bench",
                    "bench",
                    RunContext::default(),
                ),
            )
            .await
        })
        .expect("run did not end")
        .expect("run failed");
    assert_eq!(r.record.requests_failed, 0, "{:?}", r.record.errors);
    let measured = r.record.actual_duration.to_std().unwrap().as_secs_f64();
    r.record.requests_succeeded as f64 / measured
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let rounds = env("ROUNDS", 7).max(1);
    let secs = env("SECS", 2).max(1);
    let conns = env("CONNS", 4).max(1) as i32;
    let hour = Duration::from_secs(3600);

    println!("1. recorder: {N} outcomes per run, {rounds} rounds, ns per recorded request");
    let (mut off, mut one_s, mut one_h, mut ratio) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let (a, b, c) = if round % 2 == 0 {
            let a = recorder_ns(None);
            let b = recorder_ns(Some(Duration::from_secs(1)));
            (a, b, recorder_ns(Some(hour)))
        } else {
            let c = recorder_ns(Some(hour));
            let b = recorder_ns(Some(Duration::from_secs(1)));
            (recorder_ns(None), b, c)
        };
        println!(
            "   round {round}: totals only {a:.1} ns, + series 1 s {b:.1} ns, + series 1 h {c:.1} ns"
        );
        off.push(a);
        one_s.push(b);
        one_h.push(c);
        ratio.push(b / a);
    }
    let (m_off, m_1s, m_1h) = (median(&mut off), median(&mut one_s), median(&mut one_h));
    println!(
        "   median: totals only {m_off:.1} ns, + series 1 s {m_1s:.1} ns (+{:.1} ns), + series 1 h {m_1h:.1} ns; ratio 1 s / totals only {:.2} (median of rounds)",
        m_1s - m_off,
        median(&mut ratio)
    );

    println!(
        "2. engine: closed loop, {conns} connections, {secs} s per run, embedded target on 127.0.0.1, {rounds} rounds"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(start(ServeOptions::default()))
        .expect("embedded target");
    let url = format!("http://{}/", server.http_addr);
    let (mut s1, mut sh, mut ratio) = (vec![], vec![], vec![]);
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = engine_rps(&rt, &url, secs, conns, Duration::from_secs(1));
            (a, engine_rps(&rt, &url, secs, conns, hour))
        } else {
            let b = engine_rps(&rt, &url, secs, conns, hour);
            (
                engine_rps(&rt, &url, secs, conns, Duration::from_secs(1)),
                b,
            )
        };
        println!(
            "   round {round}: interval 1 s {a:.0} ok/s, interval 1 h {b:.0} ok/s, ratio {:.3}",
            a / b
        );
        s1.push(a);
        sh.push(b);
        ratio.push(a / b);
    }
    println!(
        "   median: interval 1 s {:.0} ok/s, interval 1 h {:.0} ok/s; ratio 1 s / 1 h {:.3} (median of rounds)",
        median(&mut s1),
        median(&mut sh),
        median(&mut ratio)
    );
    drop(server);
}
