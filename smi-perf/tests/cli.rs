//! The `smi-perf` binary end to end: exit codes, every output format, `compare`, and the plain
//! progress lines. Each run uses `--serve` (the embedded target on 127.0.0.1) and an exact
//! request count or a short duration, and every child process is bounded by a deadline.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use smi_perf_engine::smp::SmpResult;
use smi_types::perf::PerformanceTestResult;

mod common;
use common::{BIN, smi_perf, text};

/// A quick run of `n` requests against the embedded target, plus `extra` flags.
fn quick(n: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-n",
        n,
        "-c",
        "4",
        "-q",
    ];
    args.extend_from_slice(extra);
    smi_perf(&args)
}

#[test]
fn a_failed_threshold_exits_1_and_a_held_one_exits_0() {
    let pass = quick("200", &["--threshold", "errorRate<=0.01"]);
    let out = text(&pass.stdout);
    assert_eq!(pass.status.code(), Some(0), "{out}{}", text(&pass.stderr));
    assert!(out.contains("verdict: PASS"), "{out}");

    // No loopback run reaches a billion requests per second.
    let fail = quick("200", &["--threshold", "rps>=1000000000"]);
    let out = text(&fail.stdout);
    assert_eq!(fail.status.code(), Some(1), "{out}{}", text(&fail.stderr));
    assert!(out.contains("verdict: FAIL"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("rps >=") && l.contains("FAIL")),
        "the failed threshold is named: {out}"
    );
}

#[test]
fn usage_and_input_errors_exit_2_with_a_message() {
    let missing = smi_perf(&["run", "/nonexistent/test.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("/nonexistent/test.yaml"),
        "{}",
        text(&missing.stderr)
    );

    // A mistyped file name is reported as such, not run as a URL (issue 17).
    let typo = smi_perf(&["run", "quikstart.yaml"]);
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo.stderr));
    assert!(
        text(&typo.stderr).contains("quikstart.yaml: no such file"),
        "{}",
        text(&typo.stderr)
    );

    let bad_flag = smi_perf(&["run", "http://127.0.0.1:8080/", "--rate", "many"]);
    assert_eq!(
        bad_flag.status.code(),
        Some(2),
        "{}",
        text(&bad_flag.stderr)
    );

    let bad_threshold = quick("10", &["--threshold", "p99 is small"]);
    assert_eq!(bad_threshold.status.code(), Some(2));
    assert!(!text(&bad_threshold.stderr).trim().is_empty());
}

#[test]
fn json_and_yaml_outputs_are_the_result_object() {
    let json = quick("300", &["-o", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let r: PerformanceTestResult = serde_json::from_slice(&json.stdout).expect("JSON result");
    assert_eq!(r.record.requests_total, 300);
    assert_eq!(r.record.status_codes.get("200"), Some(&300));
    assert!(r.record.histogram.is_some(), "results carry the histogram");

    let yaml = quick("300", &["-o", "yaml"]);
    assert_eq!(yaml.status.code(), Some(0), "{}", text(&yaml.stderr));
    let r: PerformanceTestResult =
        serde_saphyr::from_str(&text(&yaml.stdout)).expect("YAML result");
    assert_eq!(r.record.requests_total, 300);
}

#[test]
fn smp_hgrm_save_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let (base, mesh, hgrm) = (path("base.json"), path("mesh.json"), path("latency.hgrm"));

    let smp = quick("300", &["--smp", "--save", &base, "--hgrm", &hgrm]);
    assert_eq!(smp.status.code(), Some(0), "{}", text(&smp.stderr));
    let s: SmpResult = serde_json::from_slice(&smp.stdout).expect("SMP JSON");
    let lat = s.latencies_ms.expect("latencies of successful responses");
    assert!(lat.p50 > 0.0 && lat.p50 <= lat.p99);
    assert!(lat.p99 <= lat.max);
    assert!(s.actual_qps > 0.0);

    let h = std::fs::read_to_string(&hgrm).unwrap();
    assert!(h.contains("Percentile") && h.contains("TotalCount"), "{h}");
    let total = h
        .lines()
        .find_map(|l| l.split("Total count").nth(1))
        .and_then(|rest| {
            rest.trim_start_matches([' ', '='])
                .trim_end_matches(']')
                .parse::<u64>()
                .ok()
        });
    assert_eq!(total, Some(300), "{h}");

    let second = quick("300", &["--save", &mesh]);
    assert_eq!(second.status.code(), Some(0));
    assert!(Path::new(&mesh).exists());

    let cmp = smi_perf(&["compare", &base, &mesh]);
    let out = text(&cmp.stdout);
    assert_eq!(cmp.status.code(), Some(0), "{out}{}", text(&cmp.stderr));
    assert!(out.contains("percentile") && out.contains("added"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("p99 ")), "{out}");

    let missing = smi_perf(&["compare", &base, &path("absent.json")]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn plain_progress_lines_say_warm_up_then_report_the_recorded_load() {
    // stderr is a pipe, not a terminal: one plain line per second. The warm-up (2 s) is named as
    // such instead of showing zero requests; the recorded second shows the live rate.
    let out = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "--rate",
        "500",
        "--model",
        "open",
        "-c",
        "4",
        "--warmup",
        "2s",
        "-d",
        "3s",
        // what this test checks is the progress lines, not whether this machine keeps up with
        // 500/s: the default thresholds (dropped and failed sends) are lifted
        "--threshold",
        "errorRate<=1",
        "--threshold",
        "droppedRate<=1",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with('[')).collect();
    let warm = lines
        .iter()
        .position(|l| l.contains("warm-up (not recorded)"))
        .unwrap_or_else(|| panic!("no warm-up line in {err}"));
    let rec = lines
        .iter()
        .position(|l| l.contains("req/s"))
        .unwrap_or_else(|| panic!("no recording line in {err}"));
    assert!(warm < rec, "{err}");
    assert!(
        !lines[..rec].iter().any(|l| l.contains("req/s")),
        "no rate is printed before recording starts: {err}"
    );
}

#[test]
fn time_series_exports_are_written_and_bad_intervals_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let (hlog, csv, save) = (path("run.hlog"), path("run.csv"), path("run.json"));
    let run = quick(
        "300",
        &[
            "--interval",
            "250ms",
            "--hlog",
            &hlog,
            "--csv",
            &csv,
            "--save",
            &save,
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let r: PerformanceTestResult =
        serde_json::from_str(&std::fs::read_to_string(&save).unwrap()).unwrap();
    let ts = r.record.time_series.as_ref().expect("time series saved");
    assert_eq!(ts.interval_millis, 250);
    let h = std::fs::read_to_string(&hlog).unwrap();
    assert!(h.starts_with("#[Histogram log format version 1.3]"), "{h}");
    // One untagged line per interval.
    let rows = h
        .lines()
        .filter(|l| !l.starts_with(['#', '"', 'T']))
        .count();
    assert_eq!(rows, ts.intervals.len(), "{h}");
    let c = std::fs::read_to_string(&csv).unwrap();
    assert!(
        c.starts_with("start_unix_ms,offset_s,length_s,requests,"),
        "{c}"
    );
    assert_eq!(c.lines().count(), ts.intervals.len() + 1);
    let requests: i64 = c
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(requests, r.record.requests_total);

    let bad = quick("10", &["--interval", "1ms"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("--interval"),
        "{}",
        text(&bad.stderr)
    );
}

/// Issue 19: `--streams 100000000` reached 7.7 GB, `-t 100000` panicked in tokio, `-t 1e9`
/// tried 16 GB. Every count that sizes memory has a ceiling: exit 2 with the limit named, before
/// the runtime or the embedded target start (nothing on stdout).
#[test]
fn absurd_counts_exit_2_naming_the_limit() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["-p", "http2", "--streams", "100000000"],
            "spec.streamsPerConnection: must be in [1, 1000]",
        ),
        (&["-t", "100000"], "spec.threads: must be in [1, 1024]"),
        (&["-t", "1000000000"], "spec.threads: must be in [1, 1024]"),
        (
            &["--max-in-flight", "2147483647"],
            "spec.maxInFlight: must be in [1, 10000000]",
        ),
    ];
    for (extra, message) in cases {
        let o = quick("10", extra);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: {err}");
        assert!(o.stdout.is_empty(), "{extra:?}");
    }
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-p",
        "http2",
        "-c",
        "1000",
        "--streams",
        "1000",
        "-n",
        "1",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("connections × streamsPerConnection must be at most 100000"),
        "{err}"
    );
    let o = smi_perf(&["serve", "--port", "0", "--size", "100000000000"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("64 MiB"), "{err}");
}

/// Issue 19: `--save`/`--html`/`--hgrm` paths were checked only after the load ran. Now a path
/// that cannot be written stops the command before the embedded target starts.
#[test]
fn output_paths_are_checked_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--save", "--html", "--hgrm", "--hlog", "--csv"] {
        let bad = dir.path().join("missing-dir").join("out");
        let bad = bad.to_str().unwrap();
        // Not quiet: "embedded target on …" would show that the run had started.
        let o = smi_perf(&[
            "run",
            "http://127.0.0.1:8080/",
            "--serve",
            "-d",
            "20s",
            flag,
            bad,
        ]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains(bad), "{flag}: {err}");
        assert!(
            !err.contains("embedded target on"),
            "{flag} ran first: {err}"
        );
    }
    // A good path is created up front and written after the run; an existing one is replaced.
    let save = dir.path().join("r.json");
    std::fs::write(&save, "x".repeat(100_000)).unwrap();
    let o = quick("20", &["--save", save.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: PerformanceTestResult =
        serde_json::from_str(&std::fs::read_to_string(&save).unwrap()).unwrap();
    assert_eq!(r.record.requests_total, 20);
}

/// Issue 19: smi-perf panicked (exit 101) when stdout was full or closed, losing the result.
/// A failed write is an I/O error: exit 2 with a message naming stdout.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_io_error_not_a_panic() {
    for format in ["text", "json", "yaml"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = Command::new(BIN)
            .args(["run", "http://127.0.0.1:8080/", "--serve", "-n", "20", "-q"])
            .args(["-o", format])
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{format}: {err}");
        assert!(err.contains("writing to stdout"), "{format}: {err}");
        assert!(!err.contains("panicked"), "{format}: {err}");
    }
}

#[test]
fn a_closed_stdout_is_an_io_error_not_a_panic() {
    let mut child = Command::new(BIN)
        .args(["run", "http://127.0.0.1:8080/", "--serve", "-d", "1s", "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the result is printed (after a 1 s run).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("writing to stdout"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Issue 14: `serve --delay 500us` was refused (GEP-2257 has no microseconds), so the target
/// never started. Every target time setting takes microseconds now; bad ones still exit 2.
#[test]
fn serve_takes_microsecond_settings() {
    let o = smi_perf(&[
        "serve",
        "--port",
        "0",
        "--delay",
        "500us",
        "--delay-max",
        "1ms250us",
        "--stall-after",
        "100ms",
        "--stall-for",
        "750us",
        "--lifetime",
        "300ms",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("serving http://127.0.0.1:"), "{err}");
    let o = smi_perf(&[
        "serve",
        "--port",
        "0",
        "--delay",
        "1.5ms",
        "--lifetime",
        "1s",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--delay: invalid duration \"1.5ms\""), "{err}");
}

/// Issue 14: ramped arrival rates from the command line: `--rate-shape step --step RPS:DURATION`
/// implies the Open model, the steps give the run's length, and the result has one block per
/// stage with its exact schedule; a malformed step exits 2 before any traffic.
#[test]
fn ramped_rate_shapes_from_flags() {
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-c",
        "2",
        "-q",
        "-o",
        "json",
        "--rate-shape",
        "step",
        "--step",
        "100:300ms",
        "--step",
        "300:200ms",
        "--threshold",
        "errorRate<=1",
        "--threshold",
        "droppedRate<=1",
    ]);
    let err = text(&o.stderr);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
    let r: PerformanceTestResult = serde_json::from_slice(&o.stdout).expect("json result");
    let stages: Vec<(i64, i64, i64)> = r
        .record
        .stages
        .iter()
        .map(|s| (s.start_millis, s.from_rps, s.scheduled))
        .collect();
    assert_eq!(stages, vec![(0, 100, 30), (300, 300, 60)]);
    assert_eq!(
        r.record.requested.load_model,
        smi_types::perf::LoadModel::Open
    );
    for bad in ["100", "x:1s", "100:1.5s"] {
        let o = smi_perf(&[
            "run",
            "http://127.0.0.1:8080/",
            "--serve",
            "--rate-shape",
            "step",
            "--step",
            bad,
        ]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--step"), "{err}");
    }
    // Linear without rampTo or steps: the spec error, exit 2.
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "--rate-shape",
        "linear",
        "-r",
        "10",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("rampTo"), "{err}");
}

/// `smi-perf run --serve` of the Open model, 200 rps for 500 ms over 2 connections (100 sends),
/// JSON out, with `extra` flags.
fn open_run(extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "--model",
        "open",
        "--rate",
        "200",
        "-d",
        "500ms",
        "--timeout",
        "500ms",
        "-c",
        "2",
        "-q",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    smi_perf(&args)
}

/// The result of an [`open_run`] that ended (exit 0 or 1, thresholds aside), with every one of
/// its 100 scheduled sends counted once.
fn counted_once(o: &Output, what: &str) -> PerformanceTestResult {
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{what}: {err}");
    let r: PerformanceTestResult = serde_json::from_str(&out).expect(&out);
    let x = &r.record;
    assert_eq!(
        x.requests_total + x.dropped_or_late + x.requests_cut_off,
        100,
        "{what}: {out}"
    );
    r
}

/// `--timer-resolution`: an Open-model run on a send grid counts every scheduled send once
/// (200 rps for 500 ms: 100 sends), on a fine grid and on a coarse one (7 ms: the generator
/// sleeps from step to step), and a resolution over 10 ms is refused (exit 2), not capped.
#[test]
fn timer_resolution_runs_and_refuses_more_than_ten_milliseconds() {
    counted_once(&open_run(&["--timer-resolution", "750us"]), "750us");
    counted_once(&open_run(&["--timer-resolution", "7ms"]), "7ms");
    let o = open_run(&["--timer-resolution", "10001us"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--timer-resolution 10001us: at most 10ms"),
        "{err}"
    );
}

/// `--read-on-arrival` (every answer wakes the generator) against the default (answers read at
/// the timer's wake-ups, timed by their kernel receive timestamp): both Open-model runs count
/// every scheduled send once (200 rps for 500 ms: 100 sends) and time latency from the intended
/// send.
#[test]
fn read_on_arrival_and_the_default_count_every_send_once() {
    for extra in [&[][..], &["--read-on-arrival"][..]] {
        let r = counted_once(&open_run(extra), &format!("{extra:?}"));
        assert_eq!(
            r.record.latency_basis,
            smi_types::perf::LatencyBasis::Intended
        );
    }
}
