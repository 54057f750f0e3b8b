//! `smi-perf run` for the UDP and gRPC generators against the embedded target (`--serve`), from
//! a URL with flags and from a manifest. Exact request counts; every child bounded by a deadline.

use std::process::Output;

use smi_types::perf::PerformanceTestResult;

mod common;
use common::{smi_perf, text};

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

#[test]
fn grpc_health_from_a_url_against_the_embedded_target() {
    let o = smi_perf(&[
        "run",
        "grpc://127.0.0.1:9",
        "--serve",
        "-n",
        "100",
        "-c",
        "2",
        "--streams",
        "4",
        "-q",
        "-o",
        "json",
    ]);
    let r = json_result(&o);
    assert_eq!(r.record.requested.protocol.to_string(), "GRPC");
    assert_eq!(r.record.requests_succeeded, 100);
    assert_eq!(r.record.grpc_status_codes.get("0"), Some(&100));
    assert_eq!(r.record.status_codes.get("200"), Some(&100));
}

#[test]
fn grpc_echo_with_a_payload_file_and_the_text_report() {
    let dir = std::env::temp_dir().join(format!("smi-perf-grpc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let payload = dir.join("msg.bin");
    std::fs::write(&payload, [0x0a, 0x03, b'a', b'b', b'c']).unwrap();
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:9",
        "-p",
        "grpc",
        "--serve",
        "-n",
        "20",
        "--grpc-method",
        "/smi.perf.v1.Echo/Echo",
        "--grpc-payload-file",
        payload.to_str().unwrap(),
        "-q",
        "-o",
        "json",
    ]);
    let r = json_result(&o);
    assert_eq!(r.record.grpc_status_codes.get("0"), Some(&20));
    // An unknown method: UNIMPLEMENTED, named in the text report; the default error-rate
    // threshold fails the run (exit 1).
    let o = smi_perf(&[
        "run",
        "grpc://127.0.0.1:9",
        "--serve",
        "-n",
        "5",
        "--grpc-method",
        "no.Such/Method",
        "-q",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("gRPC status codes: 12 UNIMPLEMENTED: 5"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn grpc_from_a_manifest_and_flag_errors() {
    let dir = std::env::temp_dir().join(format!("smi-perf-grpcm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("grpc.yaml");
    // "aGVsbG8=" = "hello", echoed back.
    std::fs::write(
        &manifest,
        "apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {name: grpc-echo}\nspec:\n  protocol: GRPC\n  endpoints: [\"127.0.0.1:9\"]\n  requests: 30\n  streamsPerConnection: 2\n  grpc:\n    service: smi.perf.v1.Echo\n    method: Echo\n    payload: aGVsbG8=\n",
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
    let r = json_result(&o);
    assert_eq!(r.metadata.name.as_deref(), Some("grpc-echo"));
    assert_eq!(r.record.grpc_status_codes.get("0"), Some(&30));
    // --grpc-* flags on another protocol, and a bad payload: exit 2 with the reason.
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:9/",
        "--grpc-method",
        "/a.B/C",
        "-n",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("need protocol GRPC"),
        "{}",
        text(&o.stderr)
    );
    let o = smi_perf(&[
        "run",
        "grpc://127.0.0.1:9",
        "--serve",
        "--grpc-method",
        "/a.B/C",
        "--grpc-payload",
        "%%%",
        "-n",
        "1",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not base64"),
        "{}",
        text(&o.stderr)
    );
}

/// Runs shards `i/2` of `manifest` one after the other and merges them with `smi-perf merge`.
fn two_shards_merged(
    dir: &std::path::Path,
    manifest: &str,
    merge_exit: i32,
) -> (Vec<PerformanceTestResult>, PerformanceTestResult) {
    let mut files = Vec::new();
    for i in 0..2 {
        let save = dir.join(format!("shard-{i}.json"));
        let o = smi_perf(&[
            "run",
            manifest,
            "--shard",
            &format!("{i}/2"),
            "--run-id",
            "r1",
            "-q",
            "--save",
            save.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        files.push(save);
    }
    let shards: Vec<PerformanceTestResult> = files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let o = smi_perf(&args);
    assert_eq!(o.status.code(), Some(merge_exit), "{}", text(&o.stderr));
    (
        shards,
        serde_json::from_slice(&o.stdout).expect("merged JSON"),
    )
}

#[test]
fn grpc_and_udp_shards_merge_exactly() {
    // One target for every shard (a shard's --serve would start its own, on another port).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(smi_perf_engine::serve::start(
            smi_perf_engine::serve::ServeOptions {
                grpc: Some(([127, 0, 0, 1], 0).into()),
                udp: Some(([127, 0, 0, 1], 0).into()),
                ..Default::default()
            },
        ))
        .unwrap();
    let (g, u) = (server.grpc_addr.unwrap(), server.udp_addr.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let grpc = dir.path().join("grpc.yaml");
    std::fs::write(
        &grpc,
        format!("apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {{name: grpc-shards}}\nspec:\n  protocol: GRPC\n  endpoints: [\"{g}\"]\n  requests: 101\n  connections: 2\n  parallelism: 2\n  grpc: {{method: /no.Such/Method}}\n"),
    )
    .unwrap();
    let (shards, merged) = two_shards_merged(dir.path(), grpc.to_str().unwrap(), 1);
    // Every call answered UNIMPLEMENTED (so the merged verdict fails: exit 1): the shards'
    // counts add up exactly, per client too.
    let per: Vec<i64> = shards
        .iter()
        .map(|s| s.record.grpc_status_codes["12"])
        .collect();
    assert_eq!(per.iter().sum::<i64>(), 101, "{per:?}");
    assert_eq!(merged.record.grpc_status_codes.get("12"), Some(&101));
    assert_eq!(merged.record.requests_failed, 101);
    assert_eq!(merged.record.per_client.len(), 2);
    for (c, s) in merged.record.per_client.iter().zip(&shards) {
        assert_eq!(c.grpc_status_codes, s.record.grpc_status_codes);
    }

    let udp = dir.path().join("udp.yaml");
    std::fs::write(
        &udp,
        format!("apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {{name: udp-shards}}\nspec:\n  protocol: UDP\n  endpoints: [\"udp://{u}\"]\n  requests: 81\n  connections: 2\n  parallelism: 2\n"),
    )
    .unwrap();
    let (shards, merged) = two_shards_merged(dir.path(), udp.to_str().unwrap(), 0);
    let total: i64 = shards.iter().map(|s| s.record.requests_succeeded).sum();
    assert_eq!(total, 81);
    assert_eq!(merged.record.requests_succeeded, 81);
    let sent: i64 = shards.iter().map(|s| s.record.bytes_sent).sum();
    assert_eq!(merged.record.bytes_sent, sent);
}
