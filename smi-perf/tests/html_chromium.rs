//! The report of `smi-perf run --html` as a browser shows it (issue 3): a short Open-model run
//! against the embedded target on 127.0.0.1, then headless Chromium renders the file twice —
//! `--dump-dom` to check the chart (curves, percentile dots, a log "nines" axis), the summary
//! table against the saved result, and the spec; `--screenshot` to check that the PNG decodes
//! and the curves are actually painted. Chromium runs with every host name unresolvable and a
//! dead proxy, so the page can only render from what the file itself holds.
//!
//! A separate suite, not part of `cargo test --workspace` (it needs a browser):
//! `scripts/install-chromium.sh && cargo test -p smi-perf --features browser-tests --test html_chromium`
//! (`.ci/run` does this). Needs `SMI_CHROMIUM` set to a Chromium or Chrome binary, or `chromium`
//! on PATH; without either the test fails, it never skips or installs anything. Set `SMI_HTML_OUT`
//! to a directory to keep the report and the screenshot for a look.
#![cfg(unix)]

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use smi_types::perf::PerformanceTestResult;

const BIN: &str = env!("CARGO_BIN_EXE_smi-perf");
/// Bound on each process this test starts (the run itself takes about a second).
const TIMEOUT: Duration = Duration::from_secs(60);
/// The series colours report.rs draws with.
const LATENCY_RGB: [u8; 3] = [0x1f, 0x77, 0xb4];
const SERVICE_TIME_RGB: [u8; 3] = [0xff, 0x7f, 0x0e];

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
/// group (Chromium forks helpers) if it outlives [`TIMEOUT`]. Returns stdout, panics on failure.
fn run_bounded(mut cmd: Command, dir: &Path, tag: &str) -> String {
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
    assert!(
        status.success(),
        "{tag} failed ({status}): {cmd:?}\n{stderr}"
    );
    std::fs::read_to_string(&out).unwrap()
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

/// Pixels of `png` within a small distance of `rgb`: how many, and the width they span.
fn painted(png: &Path, rgb: [u8; 3]) -> (usize, u32) {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(File::open(png).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("screenshot is not a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader
        .next_frame(&mut buf)
        .expect("screenshot does not decode");
    assert_eq!((info.width, info.height), (1000, 4000));
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    let (mut n, mut min_x, mut max_x) = (0, u32::MAX, 0);
    for (i, px) in buf[..info.buffer_size()].chunks_exact(channels).enumerate() {
        let d: u32 = (0..3).map(|c| u32::from(px[c].abs_diff(rgb[c]))).sum();
        if d < 60 {
            let col = i as u32 % info.width;
            n += 1;
            min_x = min_x.min(col);
            max_x = max_x.max(col);
        }
    }
    (n, max_x.saturating_sub(min_x))
}

#[test]
fn html_report_renders_in_headless_chromium() {
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
    run_bounded(run, d, "smi-perf");
    let result: PerformanceTestResult =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let url = format!("file://{}", report.display());
    let t_run = t0.elapsed();

    let mut dump = chromium_cmd(&chromium, &d.join("profile-dom"));
    dump.arg("--dump-dom").arg(&url);
    let dom = run_bounded(dump, d, "chromium-dump-dom");
    check_dom(&dom, &result);

    let shot = d.join("shot.png");
    let mut screenshot = chromium_cmd(&chromium, &d.join("profile-shot"));
    screenshot
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,4000")
        .arg(&url);
    run_bounded(screenshot, d, "chromium-screenshot");
    if let Some(keep) = std::env::var_os("SMI_HTML_OUT") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for f in [&report, &shot] {
            std::fs::copy(f, keep.join(f.file_name().unwrap())).unwrap();
        }
    }
    // Both colours are painted, not just declared (their extent is a real run's shape, which
    // is not asserted).
    for (name, rgb) in [("latency", LATENCY_RGB), ("service time", SERVICE_TIME_RGB)] {
        let (n, width) = painted(&shot, rgb);
        assert!(
            n > 100,
            "{name} colour not visible in the screenshot: {n} pixels over {width} px"
        );
    }
    eprintln!("run {:.1?}, Chromium {:.1?}", t_run, t0.elapsed() - t_run);
}
