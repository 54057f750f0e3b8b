//! The HTML report rendered from synthetic, deterministic results (no network, no timing): every
//! chart's data is checked against the result's numbers, every chart's points against its data
//! (x grows with time, y falls as the value grows), plus the threshold table, the metadata, the
//! spec, self-containment, and the compare page with its warnings.

use std::time::{Duration, Instant, SystemTime};

#[path = "common/known_run.rs"]
mod known_run;

use smi_perf_engine::series::{Series, views};
use smi_perf_engine::{
    ErrorKind, HistogramSettings, Outcome, Recorder, RunStats, build_result, report,
};
use smi_types::perf::{
    LoadModel, PerformanceTestResult, PerformanceTestSpec, Threshold, ThresholdMetric,
};

fn wall0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000)
}

/// An Open-model run of 4 s at 100 rps: every 10th response a 503, every 50th a reset, and a
/// stall in the third second (responses of 1–900 ms).
fn synthetic(rps: i64, extra_ms: u64) -> (PerformanceTestSpec, PerformanceTestResult) {
    let settings = HistogramSettings::default();
    let origin = Instant::now();
    let mut rec = Recorder::new(settings, true).with_series(Series::new(
        Duration::from_secs(1),
        origin,
        wall0(),
        settings,
        true,
    ));
    for i in 0..400u64 {
        let due = Duration::from_millis(i * 10);
        let lat = if (2000..2900).contains(&due.as_millis()) {
            Duration::from_millis(2900 - due.as_millis() as u64)
        } else {
            Duration::from_micros(500 + (i * 31) % 700 + extra_ms * 1000)
        };
        let o = if i % 50 == 7 {
            Outcome::Error {
                kind: ErrorKind::Reset,
                sent: 1,
            }
        } else if i % 10 == 3 {
            Outcome::Response {
                status: 503,
                sent: 1,
                received: 1,
            }
        } else {
            Outcome::Response {
                status: 200,
                sent: 1,
                received: 1,
            }
        };
        rec.record_at(o, lat, Some(lat / 2), origin + due + lat);
        rec.series.as_mut().unwrap().scheduled(origin + due);
    }
    let spec = PerformanceTestSpec::http("http://127.0.0.1:9/report")
        .load_model(LoadModel::Open)
        .rps(rps)
        .connections(4)
        .duration("4s")
        .threshold(Threshold::max(ThresholdMetric::LatencyP99, "250ms"))
        .threshold(Threshold::max(ThresholdMetric::ErrorRate, "0.2"));
    let stats = RunStats {
        recorder: rec,
        started_at: wall0(),
        ended_at: wall0() + Duration::from_secs(4),
        measured: Duration::from_secs(4),
        lanes: 4,
    };
    let r = build_result("synthetic", "synthetic", &spec, &stats, "builtin").unwrap();
    (spec, r)
}

/// The value of attribute `name` in the tag starting at `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// The `<svg id="…">…</svg>` element with that id.
fn svg_by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + html[start..].find("</svg>").unwrap();
    &html[start..end]
}

/// `(series name, data values, drawn points)` of every polyline of a chart.
type Drawn = (String, Vec<(f64, f64)>, Vec<(f64, f64)>);

fn polylines(svg: &str) -> Vec<Drawn> {
    let pairs = |s: &str, sep: char| -> Vec<(f64, f64)> {
        s.split_whitespace()
            .map(|p| {
                let (a, b) = p.split_once(sep).unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect()
    };
    svg.split("<polyline")
        .skip(1)
        .filter_map(|t| {
            let tag = &t[..t.find("/>").unwrap()];
            let name = attr(tag, "data-series")?;
            Some((
                name.replace("&amp;", "&"),
                pairs(attr(tag, "data-values").unwrap(), ':'),
                pairs(attr(tag, "points").unwrap(), ','),
            ))
        })
        .collect()
}

fn series<'a>(lines: &'a [Drawn], name: &str) -> &'a Drawn {
    lines.iter().find(|l| l.0 == name).unwrap_or_else(|| {
        panic!(
            "no series {name} in {:?}",
            lines.iter().map(|l| &l.0).collect::<Vec<_>>()
        )
    })
}

/// The drawn points are the data under one increasing x map and one decreasing y map.
fn check_drawn(l: &Drawn) {
    let (_, data, pts) = l;
    assert_eq!(data.len(), pts.len(), "{}", l.0);
    for i in 0..data.len() {
        for j in 0..data.len() {
            let (d1, d2, p1, p2) = (data[i], data[j], pts[i], pts[j]);
            if d1.0 < d2.0 - 1e-9 {
                assert!(p1.0 <= p2.0, "{}: x not increasing", l.0);
            }
            if d1.1 > d2.1 * 1.01 + 1e-9 {
                assert!(p1.1 <= p2.1, "{}: y not falling as the value grows", l.0);
            }
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[test]
fn every_time_chart_shows_the_result_numbers() {
    let (spec, r) = synthetic(100, 0);
    let html = report::html(&r, Some(&spec));
    let v = views(r.record.time_series.as_ref().unwrap()).unwrap();
    assert_eq!(
        v.len(),
        4,
        "one interval per second (the last completions land in the 4th)"
    );
    let mid = |i: usize| v[i].offset_secs + v[i].secs / 2.0;

    let rate = polylines(svg_by_id(&html, "rate"));
    for l in &rate {
        check_drawn(l);
    }
    let achieved = series(&rate, "achieved (ok/s)");
    let requested = series(&rate, "requested (scheduled/s)");
    let failed = series(&rate, "failed/s");
    for (i, iv) in v.iter().enumerate() {
        assert!(close(achieved.1[i].0, mid(i)));
        assert!(close(achieved.1[i].1, iv.achieved_rps()), "{i}");
        assert!(close(requested.1[i].1, iv.intended_rps()), "{i}");
        assert!(close(failed.1[i].1, iv.failed as f64 / iv.secs), "{i}");
    }
    assert_eq!(
        requested.1[0].1, 100.0,
        "100 sends were due in the first second"
    );

    let lat = polylines(svg_by_id(&html, "latency-over-time"));
    for (k, name) in ["p50", "p90", "p99", "max"].iter().enumerate() {
        let l = series(&lat, name);
        check_drawn(l);
        let expect: Vec<f64> = v
            .iter()
            .filter_map(|iv| iv.latency.map(|q| q[k] as f64 / 1000.0))
            .collect();
        let got: Vec<f64> = l.1.iter().map(|p| p.1).collect();
        assert_eq!(got, expect, "{name}");
    }
    // The stall: the max of the interval it ends in is far above the calm seconds'.
    let max = &series(&lat, "max").1;
    assert!(max.iter().any(|p| p.1 > 800.0), "{max:?}");
    assert!(max[0].1 < 5.0, "{max:?}");

    let status = polylines(svg_by_id(&html, "status-over-time"));
    for (name, pick) in [
        (
            "200/s",
            Box::new(|iv: &smi_perf_engine::series::IntervalView| {
                iv.status_codes.get("200").copied().unwrap_or(0)
            }) as Box<dyn Fn(&_) -> i64>,
        ),
        (
            "503/s",
            Box::new(|iv: &smi_perf_engine::series::IntervalView| {
                iv.status_codes.get("503").copied().unwrap_or(0)
            }),
        ),
        (
            "reset/s",
            Box::new(|iv: &smi_perf_engine::series::IntervalView| {
                iv.errors.get("reset").copied().unwrap_or(0)
            }),
        ),
    ] {
        let l = series(&status, name);
        check_drawn(l);
        for (i, iv) in v.iter().enumerate() {
            assert!(close(l.1[i].1, pick(iv) as f64 / iv.secs), "{name} {i}");
        }
    }
    let total_503: f64 = series(&status, "503/s")
        .1
        .iter()
        .zip(&v)
        .map(|(p, iv)| p.1 * iv.secs)
        .sum();
    assert!(close(total_503, r.record.status_codes["503"] as f64));
}

#[test]
fn percentile_chart_thresholds_metadata_and_spec() {
    let (spec, r) = synthetic(100, 0);
    let html = report::html(&r, Some(&spec));
    let chart = svg_by_id(&html, "percentiles-chart");
    // Corrected and uncorrected curves, one dot per reported percentile.
    assert_eq!(chart.matches("class=\"curve\"").count(), 2);
    assert_eq!(
        chart.matches("class=\"mark\"").count(),
        r.record.latency.percentiles.len()
    );
    for p in &r.record.latency.percentiles {
        let title = format!(
            "<title>p{}: {:.3} ms</title>",
            p.percentile,
            p.value_micros as f64 / 1000.0
        );
        assert!(chart.contains(&title), "{title}");
    }
    assert!(chart.contains(">99.9%</text>"), "log 1/(1-p) axis");
    // Threshold table: one row per verdict, coloured by outcome.
    let table = &html[html.find("<table id=\"thresholds\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr class=").count(),
        r.record.thresholds.len()
    );
    for t in &r.record.thresholds {
        let class = if t.passed { "pass" } else { "fail" };
        let row = format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td>",
            t.metric,
            t.limit.replace('<', "&lt;").replace('>', "&gt;")
        );
        assert!(table.contains(&row), "{row} in {table}");
    }
    assert!(
        r.record.thresholds.iter().any(|t| !t.passed),
        "the stall fails latencyP99<=250ms"
    );
    assert!(
        html.contains("tr.fail{background"),
        "failed rows are coloured"
    );
    // Metadata.
    let meta = &html[html.find("<table id=\"metadata\">").unwrap()..];
    for needle in [
        "<th>date</th><td>2023-11-14T22:13:20Z",
        &format!("smi-perf-engine {}", smi_perf_engine::ENGINE_VERSION),
        "<th>generator</th><td>builtin</td>",
        "<th>protocol</th><td>HTTP</td>",
        "<th>load model</th><td>Open, 100 rps requested</td>",
        "<th>target</th><td>http://127.0.0.1:9/report</td>",
        "<th>shards</th><td>1 (unsharded)</td>",
    ] {
        assert!(meta.contains(needle), "{needle}");
    }
    // Verdict and spec.
    assert!(html.contains("verdict: <b>FAIL</b>"));
    let spec_pre = &html[html.find("<pre id=\"spec\">").unwrap()..];
    assert!(spec_pre.contains("latencyP99") && spec_pre.contains("http://127.0.0.1:9/report"));
    // Self-contained, no JavaScript.
    for needle in ["<script", "src=", "href=", "url(", "@import", "<link"] {
        assert!(!html.contains(needle), "{needle}");
    }
}

#[test]
fn a_result_without_successes_or_time_series_still_renders() {
    let spec = PerformanceTestSpec::http("http://127.0.0.1:9/").duration("1s");
    let mut rec = Recorder::new(HistogramSettings::default(), false);
    rec.record(
        Outcome::Error {
            kind: ErrorKind::ConnectRefused,
            sent: 0,
        },
        Duration::from_micros(30),
        None,
    );
    let stats = RunStats {
        recorder: rec,
        started_at: wall0(),
        ended_at: wall0() + Duration::from_secs(1),
        measured: Duration::from_secs(1),
        lanes: 1,
    };
    let r = build_result("refused", "refused", &spec, &stats, "builtin").unwrap();
    let html = report::html(&r, Some(&spec));
    assert!(html.contains("no latency recorded"));
    assert!(html.contains("This result carries no time series."));
    assert!(html.contains("verdict: <b>FAIL</b>"));
}

#[test]
fn compare_page_overlays_both_runs_and_warns_when_loads_differ() {
    let (_, base) = synthetic(100, 0);
    let (_, mesh) = synthetic(100, 2);
    let page = report::compare_html(&base, &mesh);
    let chart = svg_by_id(&page, "percentiles-chart");
    assert_eq!(
        chart.matches("class=\"curve\"").count(),
        4,
        "base, mesh and both service times"
    );
    assert!(page.contains("id=\"warnings\""));
    assert!(
        !page.contains("may not be comparable"),
        "same load: no warning"
    );
    let added = &page[page.find("<pre id=\"added\">").unwrap()..];
    assert!(added.contains("p50") && added.contains("+"), "{added}");
    let rate = polylines(svg_by_id(&page, "rate"));
    assert_eq!(rate.len(), 2);
    for l in &rate {
        check_drawn(l);
    }

    let (_, faster) = synthetic(200, 0);
    let w = report::compare_warnings(&base, &faster);
    assert!(
        w.iter().any(|w| w.starts_with("requested rate differs")),
        "{w:?}"
    );
    let page = report::compare_html(&base, &faster);
    assert!(page.contains("may not be comparable"));
    assert!(page.contains("requested rate differs: base 100 rps, mesh 200 rps"));
}

/// The run of `common/known_run.rs`, whose every number is worked out from its sends alone:
/// each chart's lines, values, tick labels and drawn points, the percentile dots and table,
/// the threshold rows with their colours, the metadata and the verdict. The browser suite
/// (`smi-perf/tests/html_chromium.rs`) checks the same in the DOM Chromium builds.
#[test]
fn known_run_report_shows_the_known_numbers() {
    known_run::check_report(&known_run::html());
}

/// The check above fails when a number is off, a line is missing or a point is misdrawn.
#[test]
fn known_run_check_catches_a_wrong_report() {
    let html = known_run::html();
    let fails = |bad: String, what: &str| {
        let r = std::panic::catch_unwind(|| known_run::check_report(&bad));
        assert!(r.is_err(), "a report with {what} passed the check");
    };
    let tampered = |from: &str, to: &str| {
        assert!(html.contains(from), "{from}");
        html.replacen(from, to, 1)
    };
    // One achieved value, one data point, one tick label, one threshold colour, one series.
    fails(
        tampered(
            "data-series=\"achieved (ok/s)\" data-values=\"0.5:100 1.5:90",
            "data-series=\"achieved (ok/s)\" data-values=\"0.5:100 1.5:91",
        ),
        "a wrong value",
    );
    let svg = known_run::svg_by_id(&html, "status-over-time");
    let points = known_run::attr(known_run::tags(svg, "polyline")[0], "points").unwrap();
    let first = points.split_whitespace().next().unwrap();
    let (x, y) = first.split_once(',').unwrap();
    let moved = format!("{x},{:.1}", y.parse::<f64>().unwrap() + 3.0);
    fails(tampered(first, &moved), "a misdrawn point");
    fails(
        tampered(">1.5s</text>", ">1.6s</text>"),
        "a wrong tick label",
    );
    fails(
        tampered(
            "<tr class=\"fail\"><td>droppedRate",
            "<tr class=\"pass\"><td>droppedRate",
        ),
        "a wrong colour",
    );
    fails(
        tampered("data-series=\"reset/s\"", "data-series=\"other/s\""),
        "a missing series",
    );
}
