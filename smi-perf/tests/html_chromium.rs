//! The HTML report as a browser shows it, rendered by headless Chromium from a file.
//!
//! - A known run (`smi-perf-engine/tests/common/known_run.rs`: 400 sends of known fate over
//!   4 s, two shards merged; the portable suite checks the same report's text): `--dump-dom`,
//!   then every chart's lines, values, tick labels and drawn points, the percentile dots and
//!   table, the threshold rows and their colours, the metadata table and the verdict are checked
//!   against numbers worked out from the sends alone; `--screenshot`, then the PNG is checked to
//!   be of the requested size, not blank, with each series colour and both threshold-row
//!   colours painted. Nothing of this depends on timing.
//! - One smoke test: a real 1 s run of `smi-perf run --serve --html` on 127.0.0.1, rendered the
//!   same way; it checks that the page renders and agrees with the saved result, never the
//!   shape of the run (a busy machine changes that).
//!
//! Chromium runs with every host name unresolvable and a dead proxy, so a page can only render
//! from what the file itself holds.
//!
//! A separate suite, not part of `cargo test --workspace` (it needs a browser):
//! `scripts/install-chromium.sh && cargo test -p smi-perf --features browser-tests --test html_chromium`
//! (`.ci/run` does this). Needs `SMI_CHROMIUM` set to a Chromium or Chrome binary, or `chromium`
//! on PATH; without either the test fails, it never skips or installs anything. Set `SMI_HTML_OUT`
//! to a directory to keep the reports and the screenshots for a look.
#![cfg(unix)]

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use smi_types::perf::PerformanceTestResult;

#[path = "../../smi-perf-engine/tests/common/known_run.rs"]
mod known_run;

const BIN: &str = env!("CARGO_BIN_EXE_smi-perf");
/// Bound on each process this test starts (the run itself takes about a second).
const TIMEOUT: Duration = Duration::from_secs(60);
/// Size of the screenshots (CSS px at scale 1: the whole report fits).
const SHOT: (u32, u32) = (1000, 4000);
/// Colours report.rs paints with: series, and the threshold rows' backgrounds.
const LATENCY_RGB: [u8; 3] = [0x1f, 0x77, 0xb4];
const SERVICE_TIME_RGB: [u8; 3] = [0xff, 0x7f, 0x0e];
const ACHIEVED_RGB: [u8; 3] = [0x2c, 0xa0, 0x2c];
const FAILED_RGB: [u8; 3] = [0xd6, 0x27, 0x28];
const PASS_ROW_RGB: [u8; 3] = [0xe8, 0xf5, 0xe9];
const FAIL_ROW_RGB: [u8; 3] = [0xfd, 0xec, 0xea];

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("SMI_CHROMIUM") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "SMI_CHROMIUM={} is not a file", p.display());
        return p;
    }
    if let Some(p) = find_chromium() {
        return p;
    }
    panic!(
        "this test renders the HTML report in headless Chromium, and no `chromium` is on PATH: \
         run `scripts/install-chromium.sh` (Debian/Ubuntu: `apt-get install -y chromium`) or set \
         SMI_CHROMIUM to the path of a Chromium or Chrome binary"
    );
}

/// Runs `cmd` in its own process group with stdout and stderr to files in `dir`; kills the whole
/// group (Chromium forks helpers) if it outlives [`TIMEOUT`]. Returns the exit status, stdout and
/// stderr.
fn run_bounded_any(
    mut cmd: Command,
    dir: &Path,
    tag: &str,
) -> (std::process::ExitStatus, String, String) {
    let out = dir.join(format!("{tag}.stdout"));
    let err = dir.join(format!("{tag}.stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{tag}: cannot start {cmd:?}: {e}"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{tag} did not finish within {TIMEOUT:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    (status, std::fs::read_to_string(&out).unwrap(), stderr)
}

/// [`run_bounded_any`], panicking unless the command succeeded; returns stdout.
fn run_bounded(cmd: Command, dir: &Path, tag: &str) -> String {
    let what = format!("{cmd:?}");
    let (status, out, stderr) = run_bounded_any(cmd, dir, tag);
    assert!(
        status.success(),
        "{tag} failed ({status}): {what}\n{stderr}"
    );
    out
}

/// Headless Chromium that can reach nothing: no DNS (every name maps to NOTFOUND) and a proxy
/// on a closed port for everything else, so any external reference would fail to load.
fn chromium_cmd(chromium: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The values of attribute `name` on every element `<tag …>` in `html`, in order.
fn attrs<'a>(html: &'a str, tag: &str, name: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    let key = format!(" {name}=\"");
    html.match_indices(&open)
        .filter_map(|(i, _)| {
            let el = &html[i..i + html[i..].find('>')?];
            let start = el.find(&key)? + key.len();
            Some(&el[start..start + el[start..].find('"')?])
        })
        .collect()
}

/// The text of every `<text class="{class}" …>…</text>` in `svg`, with its `x`.
fn ticks<'a>(svg: &'a str, class: &str) -> Vec<(f64, &'a str)> {
    let open = format!("<text class=\"{class}\"");
    svg.match_indices(&open)
        .map(|(i, _)| {
            let el = &svg[i..];
            let x: f64 = attrs(el, "text", "x")[0].parse().unwrap();
            let body = &el[el.find('>').unwrap() + 1..el.find("</text>").unwrap()];
            (x, body)
        })
        .collect()
}

fn ms(us: i64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn check_dom(dom: &str, r: &PerformanceTestResult) {
    let x = &r.record;
    let svg_at = dom
        .find(r#"<svg id="percentiles-chart""#)
        .unwrap_or_else(|| panic!("no <svg> in the rendered DOM:\n{dom}"));
    let svg = &dom[svg_at..svg_at + dom[svg_at..].find("</svg>").expect("unclosed <svg>")];
    assert!(svg.contains(r#"aria-label="latency by percentile""#));

    // Curves: the corrected latency and, for the Open model, the service time. Their shape is
    // not asserted: it is a real run's distribution, which a busy machine changes.
    let curves = attrs(svg, "polyline", "points");
    assert_eq!(
        curves.len(),
        1 + usize::from(x.uncorrected_latency.is_some())
    );
    for points in &curves {
        let xy: Vec<(f64, f64)> = points
            .split(' ')
            .map(|p| {
                let (a, b) = p.split_once(',').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        assert!(!xy.is_empty(), "{points}");
    }
    // One dot per reported percentile, titled with the same value as the table.
    let dots = svg.matches(r#"<circle class="mark""#).count();
    assert_eq!(dots, x.latency.percentiles.len(), "{svg}");
    for p in &x.latency.percentiles {
        let title = format!("<title>p{}: {}</title>", p.percentile, ms(p.value_micros));
        assert!(svg.contains(&title), "{title} missing");
    }

    // Log "nines" axis: 0 %, 90 %, 99 %, 99.9 % … up to what the sample count resolves, each
    // decade the same width.
    let xt = ticks(svg, "x-tick");
    let nines = (x.latency.count as f64).log10().ceil().clamp(1.0, 5.0) as usize;
    let labels: Vec<&str> = xt.iter().map(|t| t.1).collect();
    assert_eq!(
        labels,
        ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"][..=nines],
        "{} values",
        x.latency.count
    );
    let steps: Vec<f64> = xt.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        steps
            .iter()
            .all(|s| (s - steps[0]).abs() < 0.5 && *s > 50.0),
        "{xt:?}"
    );
    // Latency axis in ms, from 0 up to at least the largest value.
    let yt = ticks(svg, "y-tick");
    assert!(yt.len() >= 2, "{yt:?}");
    let top: f64 = yt
        .last()
        .unwrap()
        .1
        .strip_suffix(" ms")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        yt[0].1.strip_suffix(" ms").unwrap().parse::<f64>().unwrap(),
        0.0
    );
    assert!(
        top >= x.latency.max_micros as f64 / 1000.0 * 0.999,
        "top tick {top} ms below max {}",
        ms(x.latency.max_micros)
    );

    // The percentile table says what the saved result says.
    for p in &x.latency.percentiles {
        let unc = x
            .uncorrected_latency
            .as_ref()
            .and_then(|u| u.percentiles.iter().find(|q| q.percentile == p.percentile))
            .map(|q| ms(q.value_micros))
            .unwrap_or_default();
        let row = format!(
            "<td>p{}</td><td>{}</td><td>{unc}</td>",
            p.percentile,
            ms(p.value_micros)
        );
        assert!(dom.contains(&row), "{row} missing from the table");
    }
    // The summary, and the spec the run used (endpoint rewritten to the embedded target).
    for needle in [
        format!(
            "requests {}  ok {}  failed {}",
            x.requests_total, x.requests_succeeded, x.requests_failed
        ),
        format!("verdict: {}", if x.passed { "PASS" } else { "FAIL" }),
        "loadModel: Open".into(),
        "rps: 500".into(),
        "duration: 1s".into(),
        "metric: latencyP99".into(),
        "- http://127.0.0.1:".into(),
    ] {
        assert!(dom.contains(&needle), "{needle:?} missing:\n{dom}");
    }

    // Self-contained: nothing that refers to another resource, and URLs only as text (in <pre>
    // and the metadata table's target row).
    for needle in [
        "src=", "href=", "url(", "@import", "<link", "<script", "<img", "<iframe", "<object",
        "<embed",
    ] {
        assert!(!dom.contains(needle), "{needle} in the rendered DOM");
    }
    // The metadata table names the target as text too.
    let target_row = "<th>target</th><td>";
    let dom = &match dom.find(target_row) {
        Some(i) => {
            let end = i + dom[i..].find("</td></tr>").expect("unclosed target row");
            format!("{}{}", &dom[..i], &dom[end..])
        }
        None => dom.to_owned(),
    };
    let mut outside_pre = String::new();
    let mut rest = dom.as_str();
    while let Some(i) = rest.find("<pre") {
        outside_pre.push_str(&rest[..i]);
        rest = &rest[i + rest[i..].find("</pre>").expect("unclosed <pre>")..];
    }
    outside_pre.push_str(rest);
    assert!(!outside_pre.contains("://"), "URL outside <pre>");
}

/// A decoded screenshot, RGB.
struct Shot {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

impl Shot {
    /// Decodes `png`, which must be a PNG of [`SHOT`]'s size.
    fn load(png: &Path) -> Shot {
        let bytes = std::fs::read(png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the screenshot is not a PNG"
        );
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("screenshot is not a PNG");
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader
            .next_frame(&mut buf)
            .expect("screenshot does not decode");
        assert_eq!((info.width, info.height), SHOT, "screenshot size");
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected screenshot colour type {other:?}"),
        };
        let rgb = buf[..info.buffer_size()]
            .chunks_exact(channels)
            .map(|px| [px[0], px[1], px[2]])
            .collect();
        Shot {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    /// Not blank: many distinct colours, and a real share of non-white pixels.
    fn assert_not_blank(&self) {
        let distinct: std::collections::HashSet<[u8; 3]> = self.rgb.iter().copied().collect();
        let inked = self.rgb.iter().filter(|p| **p != [255, 255, 255]).count();
        assert!(
            distinct.len() > 50,
            "{} distinct colours: a blank page?",
            distinct.len()
        );
        let total = (self.width * self.height) as usize;
        assert!(
            inked * 100 > total,
            "{inked} of {total} pixels are not white: a blank page?"
        );
    }

    /// Pixels within a small distance of `rgb`: how many, and the width they span.
    fn painted(&self, rgb: [u8; 3], tolerance: u32) -> (usize, u32) {
        let (mut n, mut min_x, mut max_x) = (0, u32::MAX, 0);
        for (i, px) in self.rgb.iter().enumerate() {
            let d: u32 = (0..3).map(|c| u32::from(px[c].abs_diff(rgb[c]))).sum();
            if d <= tolerance {
                let col = i as u32 % self.width;
                n += 1;
                min_x = min_x.min(col);
                max_x = max_x.max(col);
            }
        }
        (n, max_x.saturating_sub(min_x))
    }
}

/// Renders `html` in headless Chromium: the serialised DOM, and a screenshot of [`SHOT`]'s
/// size. Keeps both under `SMI_HTML_OUT` when set.
fn render(chromium: &Path, dir: &Path, tag: &str, report: &Path) -> (String, Shot) {
    let url = format!("file://{}", report.display());
    let mut dump = chromium_cmd(chromium, &dir.join(format!("profile-{tag}-dom")));
    dump.arg("--dump-dom").arg(&url);
    let dom = run_bounded(dump, dir, &format!("{tag}-dump-dom"));
    let shot = dir.join(format!("{tag}.png"));
    let mut screenshot = chromium_cmd(chromium, &dir.join(format!("profile-{tag}-shot")));
    screenshot
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={},{}", SHOT.0, SHOT.1))
        .arg(&url);
    run_bounded(screenshot, dir, &format!("{tag}-screenshot"));
    if let Some(keep) = std::env::var_os("SMI_HTML_OUT") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(report, keep.join(format!("{tag}.html"))).unwrap();
        std::fs::copy(&shot, keep.join(format!("{tag}.png"))).unwrap();
    }
    (dom, Shot::load(&shot))
}

#[test]
fn known_run_shows_every_number_in_chromium() {
    let chromium = chromium();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let report = d.join("known.html");
    std::fs::write(&report, known_run::html()).unwrap();
    let (dom, shot) = render(&chromium, d, "known", &report);
    assert!(
        dom.contains("<tbody>"),
        "the DOM as Chromium built it, not the file's text"
    );
    known_run::check_report(&dom);

    shot.assert_not_blank();
    // Every series colour and both threshold-row backgrounds are painted, not just declared:
    // the lines across the chart width, the rows as filled areas.
    for (name, rgb) in [
        ("latency", LATENCY_RGB),
        ("service time", SERVICE_TIME_RGB),
        ("achieved", ACHIEVED_RGB),
        ("failed", FAILED_RGB),
    ] {
        let (n, width) = shot.painted(rgb, 60);
        assert!(
            n > 200 && width > 300,
            "{name} not visible in the screenshot: {n} pixels over {width} px"
        );
    }
    for (name, rgb) in [("pass row", PASS_ROW_RGB), ("fail row", FAIL_ROW_RGB)] {
        let (n, width) = shot.painted(rgb, 0);
        assert!(
            n > 2 * 2000 && width > 200,
            "{name} background not painted: {n} pixels over {width} px"
        );
    }
}

/// The smoke test: a real short run, its report rendered. It checks that the page renders and
/// agrees with the result the run saved, not how the run went.
#[test]
fn real_run_report_renders_in_headless_chromium() {
    let chromium = chromium();
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let manifest = d.join("test.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {name: html-check}\n\
         spec:\n  protocol: HTTP\n  endpoints: [http://127.0.0.1:8080/]\n  loadModel: Open\n\
         \x20 rps: 500\n  connections: 4\n  duration: 1s\n  percentiles: [50, 90, 99, 99.9]\n\
         \x20 thresholds:\n  - {metric: latencyP99, max: 10s}\n",
    )
    .unwrap();
    let (report, saved) = (d.join("report.html"), d.join("result.json"));
    let mut run = Command::new(BIN);
    run.arg("run")
        .arg("--serve")
        .arg(&manifest)
        .arg("--quiet")
        .arg("--html")
        .arg(&report)
        .arg("--save")
        .arg(&saved);
    // Exit 0 or 1 is the verdict, which depends on the machine; anything else is an error.
    let (status, _, stderr) = run_bounded_any(run, d, "smi-perf");
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "smi-perf run failed ({status}): {stderr}"
    );
    let result: PerformanceTestResult =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let t_run = t0.elapsed();
    let (dom, shot) = render(&chromium, d, "real", &report);
    check_dom(&dom, &result);
    for id in ["rate", "latency-over-time", "status-over-time"] {
        assert!(dom.contains(&format!("<svg id=\"{id}\"")), "no chart {id}");
    }
    shot.assert_not_blank();
    eprintln!("run {:.1?}, Chromium {:.1?}", t_run, t0.elapsed() - t_run);
}
