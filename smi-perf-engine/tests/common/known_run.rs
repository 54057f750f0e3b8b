//! A synthetic run whose every number is known before it is rendered, and the check of an HTML
//! report of it against those numbers. Shared by `smi-perf-engine/tests/report_html.rs` (the
//! report's text, portable) and `smi-perf/tests/html_chromium.rs` (the DOM headless Chromium
//! builds from it): the same data, the same expectations. No network, no clock.
//!
//! The run: Open model, 100 rps for 4 s, 1 s intervals aligned on the Unix second, recorded by
//! two shards (even and odd sends) and merged.
//! - second 0: 100 × 200, 1 ms;
//! - second 1: every 10th send a 503; the 90 successes take 1 ms (27), 1.5 ms (45), 2 ms (18);
//! - second 2: a stall: every send due before 2.9 s completes at 2.9 s (900 ms … 10 ms), 5 of
//!   them as connection resets; the last 10 take 1 ms;
//! - second 3: 80 × 200 at 1.2 ms, the last 20 sends dropped.
//!
//! So 400 scheduled, 380 recorded (365 ok, 10 × 503, 5 resets), 20 dropped, 91.25 ok/s.
#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use smi_perf_engine::series::Series;
use smi_perf_engine::{ErrorKind, HistogramSettings, Outcome, Recorder, RunStats};
use smi_types::perf::{
    LoadModel, PerformanceTestResult, PerformanceTestSpec, ShardRef, Threshold, ThresholdMetric,
};

/// Start of the run: 2023-11-14T22:13:20Z, on a whole second.
pub const WALL0_MS: u64 = 1_700_000_000_000;
/// The target named in the spec (nothing listens there: nothing is sent).
pub const TARGET: &str = "http://127.0.0.1:9/known";

/// What a scheduled send became.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate {
    /// 200 after `latency` µs (from the intended send), `service` µs from the actual send.
    Ok { latency: u64, service: u64 },
    /// 503 after `latency` µs.
    Unavailable { latency: u64 },
    /// Connection reset after `latency` µs.
    Reset { latency: u64 },
    /// Never sent.
    Dropped,
}

/// Every send of the run: (due, ms since the start; what it became).
pub fn sends() -> Vec<(u64, Fate)> {
    let mut out = Vec::new();
    for s in 0..4u64 {
        for j in 0..100u64 {
            let due = s * 1000 + j * 10;
            let fate = match s {
                0 => Fate::Ok {
                    latency: 1000,
                    service: 500,
                },
                1 if j % 10 == 3 => Fate::Unavailable { latency: 2000 },
                1 => Fate::Ok {
                    latency: if j < 30 {
                        1000
                    } else if j < 80 {
                        1500
                    } else {
                        2000
                    },
                    service: 700,
                },
                2 if j < 90 => {
                    // Held until 2.9 s; only the one on the wire saw it as service time.
                    let latency = (2900 - due) * 1000;
                    if j % 20 == 7 {
                        Fate::Reset { latency }
                    } else {
                        Fate::Ok {
                            latency,
                            service: if j == 0 { latency } else { 1000 },
                        }
                    }
                }
                2 => Fate::Ok {
                    latency: 1000,
                    service: 800,
                },
                _ if j >= 80 => Fate::Dropped,
                _ => Fate::Ok {
                    latency: 1200,
                    service: 600,
                },
            };
            out.push((due, fate));
        }
    }
    out
}

/// The spec of the whole run (each shard ran half its rate and connections).
pub fn spec() -> PerformanceTestSpec {
    spec_with(100, 4)
}

fn spec_with(rps: i64, connections: i32) -> PerformanceTestSpec {
    PerformanceTestSpec::http(TARGET)
        .load_model(LoadModel::Open)
        .rps(rps)
        .connections(connections)
        .duration("4s")
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "250ms"))
        .threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.05"))
        .threshold(Threshold::min(ThresholdMetric::Rps, "50"))
}

fn wall0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(WALL0_MS)
}

/// The result of shard `index` (of 2): the sends `i` with `i % 2 == index`.
pub fn shard(index: u32) -> PerformanceTestResult {
    let settings = HistogramSettings::default();
    let origin = Instant::now();
    let mut rec = Recorder::new(settings, true).with_series(Series::new(
        Duration::from_secs(1),
        origin,
        wall0(),
        settings,
        true,
    ));
    for (i, (due, fate)) in sends().into_iter().enumerate() {
        if i % 2 != index as usize {
            continue;
        }
        let due = origin + Duration::from_millis(due);
        let (outcome, latency, service) = match fate {
            Fate::Dropped => {
                rec.dropped += 1;
                rec.series.as_mut().unwrap().dropped(due);
                continue;
            }
            Fate::Ok { latency, service } => (
                Outcome::Response {
                    status: 200,
                    sent: 100,
                    received: 200,
                },
                latency,
                Some(service),
            ),
            Fate::Unavailable { latency } => (
                Outcome::Response {
                    status: 503,
                    sent: 100,
                    received: 150,
                },
                latency,
                None,
            ),
            Fate::Reset { latency } => (
                Outcome::Error {
                    kind: ErrorKind::Reset,
                    sent: 100,
                },
                latency,
                None,
            ),
        };
        let latency = Duration::from_micros(latency);
        rec.record_at(
            outcome,
            latency,
            service.map(Duration::from_micros),
            due + latency,
        );
        rec.series.as_mut().unwrap().scheduled(due);
    }
    let stats = RunStats {
        recorder: rec,
        started_at: wall0(),
        ended_at: wall0() + Duration::from_secs(4),
        measured: Duration::from_secs(4),
        lanes: 2,
    };
    let mut r = smi_perf_engine::build_result(
        &format!("known-{index}"),
        "known",
        &spec_with(50, 2),
        &stats,
        "builtin",
    )
    .unwrap();
    r.record.shard = Some(ShardRef {
        index: index as i32,
        count: 2,
        run_id: Some("known-run".into()),
        start_at: None,
    });
    r
}

/// The two shards merged: the result the report renders.
pub fn result() -> PerformanceTestResult {
    let r = smi_perf_engine::merge(&[shard(0), shard(1)]).unwrap();
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    r
}

/// The report of [`result`] with [`spec`].
pub fn html() -> String {
    smi_perf_engine::report::html(&result(), Some(&spec()))
}

// ---- the numbers, worked out from `sends()` alone ----

/// Per second: (scheduled, dropped, 200s, 503s, resets).
pub const PER_SECOND: [(i64, i64, i64, i64, i64); 4] = [
    (100, 0, 100, 0, 0),
    (100, 0, 90, 10, 0),
    (100, 0, 95, 0, 5),
    (100, 20, 80, 0, 0),
];

/// Latency of the successful sends completed in second `s` (µs), or of all of them (`None`).
pub fn ok_latencies(s: Option<u64>) -> Vec<u64> {
    sends()
        .into_iter()
        .filter_map(|(due, f)| match f {
            Fate::Ok { latency, .. } if s.is_none_or(|s| (due + latency / 1000) / 1000 == s) => {
                Some(latency)
            }
            _ => None,
        })
        .collect()
}

/// Service time of all successful sends (µs).
pub fn ok_service_times() -> Vec<u64> {
    sends()
        .into_iter()
        .filter_map(|(_, f)| match f {
            Fate::Ok { service, .. } => Some(service),
            _ => None,
        })
        .collect()
}

/// A histogram of `values` with the engine's settings: what a percentile of them reads as.
pub fn reference(values: &[u64]) -> Histogram<u64> {
    let mut h = HistogramSettings::default().new_histogram();
    for v in values {
        h.record(*v).unwrap();
    }
    h
}

/// p50, p90, p99, max of `values`, µs, as HdrHistogram reads them.
pub fn quartet(values: &[u64]) -> [u64; 4] {
    let h = reference(values);
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max(),
    ]
}

// ---- reading the report (its text or Chromium's serialisation of the DOM) ----

/// The attribute `name` of the element whose start tag is `tag` (`<x a="…" …>`).
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// The start tags `<name …>` in `html`, in order.
pub fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    html.match_indices(&open)
        .filter_map(|(i, _)| Some(&html[i..i + html[i..].find('>')? + 1]))
        .collect()
}

/// The element `<svg id="{id}" …>…</svg>`.
pub fn svg_by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + html[start..].find("</svg>").expect("unclosed <svg>");
    &html[start..end]
}

/// `(position, label)` of every `<text class="x-tick|y-tick">label</text>`, the position being
/// that of the grid line drawn just before the label (`x1`, or `y1` for `coord = "y"`).
pub fn ticks(svg: &str, class: &str, coord: &str) -> Vec<(f64, String)> {
    let open = format!("<text class=\"{class}\"");
    svg.match_indices(&open)
        .map(|(i, _)| {
            let el = &svg[i..];
            let line = &svg[svg[..i]
                .rfind("<line ")
                .expect("a grid line before the tick")..i];
            let pos: f64 = attr(line, &format!("{coord}1")).unwrap().parse().unwrap();
            let body = &el[el.find('>').unwrap() + 1..el.find("</text>").unwrap()];
            (pos, body.to_owned())
        })
        .collect()
}

/// A chart line: its name, the data it was drawn from, the points drawn.
#[derive(Debug)]
pub struct Drawn {
    pub name: String,
    pub data: Vec<(f64, f64)>,
    pub points: Vec<(f64, f64)>,
}

fn pairs(s: &str, sep: char) -> Vec<(f64, f64)> {
    s.split_whitespace()
        .map(|p| {
            let (a, b) = p.split_once(sep).unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// The named polylines (`data-series`) of a time chart.
pub fn lines(svg: &str) -> Vec<Drawn> {
    tags(svg, "polyline")
        .into_iter()
        .filter_map(|t| {
            Some(Drawn {
                name: attr(t, "data-series")?.replace("&amp;", "&"),
                data: pairs(attr(t, "data-values").unwrap(), ':'),
                points: pairs(attr(t, "points").unwrap(), ','),
            })
        })
        .collect()
}

/// A linear axis from two labelled ticks: value → pixel.
fn axis(ticks: &[(f64, String)], unit: &str) -> impl Fn(f64) -> f64 {
    let value = |s: &str| -> f64 {
        s.trim()
            .strip_suffix(unit)
            .unwrap_or_else(|| panic!("tick {s:?} is not in {unit}"))
            .trim()
            .parse()
            .unwrap()
    };
    let (p0, v0) = (ticks[0].0, value(&ticks[0].1));
    let last = ticks.last().unwrap();
    let (p1, v1) = (last.0, value(&last.1));
    move |v| p0 + (v - v0) / (v1 - v0) * (p1 - p0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

/// Checks a time chart: the tick labels (x in whole and half seconds from 0 to 4 s, y from 0
/// past the largest value), exactly the `expected` lines with exactly those values at the
/// middle of each second, and every point drawn where the axes say it belongs.
fn check_time_chart(html: &str, id: &str, unit: &str, expected: &[(&str, Vec<f64>)]) {
    let svg = svg_by_id(html, id);
    let xt = ticks(svg, "x-tick", "x");
    let labels: Vec<&str> = xt.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(
        labels,
        ["0s", "0.5s", "1s", "1.5s", "2s", "2.5s", "3s", "3.5s", "4s"],
        "{id}"
    );
    let yt = ticks(svg, "y-tick", "y");
    assert!(yt.len() >= 2, "{id}: {yt:?}");
    assert_eq!(yt[0].1, format!("0 {unit}"), "{id}");
    let x_of = axis(&xt, "s");
    let y_of = axis(&yt, unit);
    let top: f64 = yt
        .last()
        .unwrap()
        .1
        .strip_suffix(unit)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let drawn = lines(svg);
    let names: Vec<&str> = drawn.iter().map(|l| l.name.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(names, want, "{id}: the lines drawn");
    for (l, (name, values)) in drawn.iter().zip(expected) {
        let data: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(s, v)| (s as f64 + 0.5, *v))
            .collect();
        assert_eq!(l.data.len(), data.len(), "{id} {name}");
        for ((got, want), pt) in l.data.iter().zip(&data).zip(&l.points) {
            assert!(
                close(got.0, want.0) && close(got.1, want.1),
                "{id} {name}: {got:?} != {want:?}"
            );
            assert!(want.1 <= top, "{id}: top tick {top} below {want:?}");
            // Points are written with one decimal.
            assert!(
                (pt.0 - x_of(want.0)).abs() <= 0.051 && (pt.1 - y_of(want.1)).abs() <= 0.051,
                "{id} {name}: {want:?} drawn at {pt:?}, axes say ({:.2}, {:.2})",
                x_of(want.0),
                y_of(want.1)
            );
        }
    }
}

/// `12.5ms`: milliseconds with up to 3 decimals, trailing zeros trimmed (how a threshold in
/// ms shows what it observed).
fn trim_ms(v: f64) -> String {
    let s = format!("{v:.3}");
    format!("{}ms", s.trim_end_matches('0').trim_end_matches('.'))
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Checks every chart and table of the report of [`result`] (its text, or the DOM Chromium
/// serialised from it) against the numbers worked out from [`sends`].
pub fn check_report(html: &str) {
    let col = |k: usize| -> Vec<f64> {
        PER_SECOND
            .iter()
            .map(|r| [r.0, r.1, r.2, r.3, r.4][k] as f64)
            .collect()
    };
    // Rate: requested 100/s throughout; achieved = the 200s; failed = 503s + resets.
    let failed: Vec<f64> = PER_SECOND.iter().map(|r| (r.3 + r.4) as f64).collect();
    assert_eq!(col(0), [100.0; 4]);
    check_time_chart(
        html,
        "rate",
        "/s",
        &[
            ("requested (scheduled/s)", col(0)),
            ("achieved (ok/s)", col(2)),
            ("failed/s", failed),
        ],
    );
    // Latency over time, ms: worked out per second; the first, second and last are plain.
    let q: Vec<[u64; 4]> = (0..4).map(|s| quartet(&ok_latencies(Some(s)))).collect();
    assert_eq!(q[0], [1000; 4]);
    assert_eq!(q[1], [1500, 2000, 2000, 2000]);
    assert_eq!(q[3], [1200; 4]);
    assert!(
        q[2][3] >= 900_000 && q[2][0] > 100_000,
        "the stall: {:?}",
        q[2]
    );
    let pick = |k: usize| q.iter().map(|x| ms(x[k])).collect::<Vec<_>>();
    check_time_chart(
        html,
        "latency-over-time",
        "ms",
        &[
            ("p50", pick(0)),
            ("p90", pick(1)),
            ("p99", pick(2)),
            ("max", pick(3)),
        ],
    );
    // Status codes and errors over time, per second.
    check_time_chart(
        html,
        "status-over-time",
        "/s",
        &[
            ("200/s", col(2)),
            ("503/s", col(3)),
            ("reset/s", col(4)),
            ("dropped/s", col(1)),
        ],
    );

    // Latency by percentile: corrected and service time, a dot per reported percentile
    // titled with the value worked out from all 365 successes, a "nines" axis to 99.9 %.
    let chart = svg_by_id(html, "percentiles-chart");
    assert_eq!(tags(chart, "polyline").len(), 2, "latency and service time");
    let all = reference(&ok_latencies(None));
    assert_eq!(all.len(), 365);
    let r = result();
    let reported: Vec<&str> = r
        .record
        .latency
        .percentiles
        .iter()
        .map(|p| p.percentile.as_str())
        .collect();
    assert_eq!(tags(chart, "circle").len(), reported.len());
    for p in &reported {
        let v = all.value_at_quantile(p.parse::<f64>().unwrap() / 100.0);
        let title = format!("<title>p{p}: {:.3} ms</title>", ms(v));
        assert!(chart.contains(&title), "{title} missing");
        let service =
            reference(&ok_service_times()).value_at_quantile(p.parse::<f64>().unwrap() / 100.0);
        let row = format!(
            "<tr><td>p{p}</td><td>{:.3} ms</td><td>{:.3} ms</td></tr>",
            ms(v),
            ms(service)
        );
        assert!(
            html.contains(&row),
            "{row} missing from the percentile table"
        );
    }
    let nines: Vec<String> = ticks(chart, "x-tick", "x")
        .into_iter()
        .map(|t| t.1)
        .collect();
    assert_eq!(
        nines,
        ["0%", "90%", "99%", "99.9%"],
        "365 values resolve 3 nines"
    );
    let yt = ticks(chart, "y-tick", "y");
    let top: f64 = yt
        .last()
        .unwrap()
        .1
        .strip_suffix(" ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(top >= ms(all.max()), "top tick {top} below the max");

    // Thresholds: the test's three and the default droppedRate, coloured by outcome. p99 is
    // in the stall (fails 250 ms), errorRate 15/380, 365 ok in 4 s, 20 of 400 dropped.
    let table = &html[html
        .find("<table id=\"thresholds\">")
        .expect("threshold table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let p99 = ms(all.value_at_quantile(0.99));
    let rows = [
        (
            "fail",
            "latencyP99",
            "&lt;= 250ms",
            trim_ms(p99),
            "FAIL",
            "test",
        ),
        (
            "pass",
            "errorRate",
            "&lt;= 0.05",
            "0.039474".to_owned(),
            "pass",
            "test",
        ),
        (
            "pass",
            "rps",
            "&gt;= 50",
            "91.250".to_owned(),
            "pass",
            "test",
        ),
        (
            "fail",
            "droppedRate",
            "&lt;= 0.01",
            "0.050000".to_owned(),
            "FAIL",
            "default",
        ),
    ];
    for (class, metric, limit, observed, outcome, source) in &rows {
        let row = format!(
            "<tr class=\"{class}\"><td>{metric}</td><td>{limit}</td><td>{observed}</td><td>{outcome}</td><td>{source}</td></tr>"
        );
        assert!(table.contains(&row), "{row} not in {table}");
    }
    let all_rows = table.matches("<tr class=").count();
    assert_eq!(all_rows, r.record.thresholds.len());
    assert!(all_rows >= rows.len());
    assert!(
        html.contains("tr.pass{background:#e8f5e9}")
            && html.contains("tr.fail{background:#fdecea}")
    );

    // Metadata and verdict.
    let meta = &html[html
        .find("<table id=\"metadata\">")
        .expect("metadata table")..];
    let meta = &meta[..meta.find("</table>").unwrap()];
    for (k, v) in [
        (
            "date",
            "2023-11-14T22:13:20Z – 2023-11-14T22:13:24Z".to_owned(),
        ),
        (
            "engine version",
            format!("smi-perf-engine {}", smi_perf_engine::ENGINE_VERSION),
        ),
        ("generator", "builtin".into()),
        ("protocol", "HTTP".into()),
        ("load model", "Open, 100 rps requested".into()),
        ("connections", "4".into()),
        ("length", "4s (measured 4s)".into()),
        ("target", TARGET.into()),
        ("shards", "2 merged".into()),
    ] {
        let row = format!("<tr><th>{k}</th><td>{v}</td></tr>");
        assert!(meta.contains(&row), "{row} not in {meta}");
    }
    // The result id is random per merge: only its presence.
    assert!(meta.contains("<tr><th>result id</th><td>"), "{meta}");
    assert!(
        html.contains(
            "verdict: <b>FAIL</b> — 365 ok, 15 failed, 20 dropped; throughput 91.250 ok/s"
        ),
        "verdict line"
    );
    let spec = &html[html.find("<pre id=\"spec\">").expect("spec")..];
    for needle in [
        "loadModel: Open",
        "rps: 100",
        "duration: 4s",
        "metric: latencyP99",
        TARGET,
    ] {
        assert!(spec.contains(needle), "{needle} not in the spec");
    }
    // Self-contained, no JavaScript.
    for needle in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<img", "<iframe",
    ] {
        assert!(!html.contains(needle), "{needle} in the report");
    }
}
