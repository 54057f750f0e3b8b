//! `smi-perf run` for the UDP and gRPC generators against the embedded target (`--serve`), from
//! a URL with flags and from a manifest. Exact request counts; every child bounded by a deadline.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use smi_types::perf::PerformanceTestResult;

const BIN: &str = env!("CARGO_BIN_EXE_smi-perf");

/// Runs `smi-perf args…` with stdout and stderr captured; kills it after 60 s.
fn smi_perf(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn smi-perf");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("smi-perf {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_result(o: &Output) -> PerformanceTestResult {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON result")
}

#[test]
fn udp_from_a_url_against_the_embedded_target() {
    // The scheme picks the protocol; --serve points the endpoint at the UDP echo.
    let o = smi_perf(&[
        "run",
        "udp://127.0.0.1:9",
        "--serve",
        "-n",
        "200",
        "-c",
        "2",
        "-q",
        "-o",
        "json",
    ]);
    let r = json_result(&o);
    assert_eq!(r.record.requested.protocol.to_string(), "UDP");
    assert_eq!(r.record.requests_total, 200);
    assert_eq!(r.record.requests_succeeded, 200);
    assert_eq!(r.record.status_codes.get("200"), Some(&200));
}

#[test]
fn udp_from_a_manifest_with_a_payload() {
    let dir = std::env::temp_dir().join(format!("smi-perf-udp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("udp.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {name: udp-echo}\nspec:\n  protocol: UDP\n  endpoints: [\"udp://127.0.0.1:9\"]\n  requests: 50\n  connections: 2\n  request:\n    body: \"0123456789\"\n    timeout: 500ms\n",
    )
    .unwrap();
    let o = smi_perf(&[
        "run",
        manifest.to_str().unwrap(),
        "--serve",
        "-q",
        "-o",
        "json",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let r = json_result(&o);
    assert_eq!(r.metadata.name.as_deref(), Some("udp-echo"));
    assert_eq!(r.record.requests_succeeded, 50);
    // 8-byte sequence number + the 10-byte payload, each way.
    assert_eq!(r.record.bytes_sent, 50 * 18);
    assert_eq!(r.record.bytes_received, 50 * 18);
}
