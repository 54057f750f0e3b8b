//! Request bodies from files (issue 14): `--body-file`, `request.bodyFrom` resolved by it, the
//! 16 MiB limit, and the Job of `smi-perf k8s job` mounting the bodyFrom key. Every child
//! process runs against the embedded target on 127.0.0.1 with an exact request count and is
//! bounded by a deadline.

use smi_perf_engine::k8s::{BODY_DIR, JobOptions, job_manifests};
use smi_types::perf::PerformanceTestResult;

mod common;
use common::{smi_perf, text};

#[test]
fn body_file_is_sent_with_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("body.bin");
    // Binary content, not valid UTF-8: sent as is.
    let body: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8 | 0x80).collect();
    std::fs::write(&f, &body).unwrap();
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-n",
        "5",
        "-q",
        "-o",
        "json",
        "--body-file",
        f.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: PerformanceTestResult = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r.record.requests_succeeded, 5);
    assert!(
        r.record.bytes_sent >= 5 * 3000,
        "bytes sent {}",
        r.record.bytes_sent
    );
}

#[test]
fn body_limits_and_conflicts_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    // Sparse: 16 MiB + 1 byte without writing them.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(smi_perf_engine::MAX_BODY as u64 + 1)
        .unwrap();
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-n",
        "1",
        "--body-file",
        big.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--body-file") && err.contains("16 MiB"),
        "{err}"
    );
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "--serve",
        "-n",
        "1",
        "--body-file",
        dir.path().join("missing").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("missing"));
    let o = smi_perf(&[
        "run",
        "http://127.0.0.1:8080/",
        "-n",
        "1",
        "--body",
        "x",
        "--body-file",
        big.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--body-file"),
        "{}",
        text(&o.stderr)
    );
}

const BODY_FROM_TEST: &str = "apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTest
metadata:
  name: orders
spec:
  endpoints: [\"http://127.0.0.1:8080/orders\"]
  requests: 4
  request:
    contentType: application/json
    bodyFrom:
      configMapKeyRef: {name: order-payloads, key: big-order.json}
";

#[test]
fn body_from_needs_its_content_and_takes_it_from_body_file() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("test.yaml");
    std::fs::write(&test, BODY_FROM_TEST).unwrap();
    let o = smi_perf(&["run", test.to_str().unwrap(), "--serve", "-q"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\"order-payloads\"") && err.contains("--body-file"),
        "{err}"
    );
    let body = dir.path().join("big-order.json");
    std::fs::write(&body, format!("{{\"items\": \"{}\"}}", "x".repeat(2000))).unwrap();
    let o = smi_perf(&[
        "run",
        test.to_str().unwrap(),
        "--serve",
        "-q",
        "-o",
        "json",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: PerformanceTestResult = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r.record.requests_succeeded, 4);
    assert!(r.record.bytes_sent >= 4 * 2000, "{}", r.record.bytes_sent);
}

#[test]
fn k8s_job_mounts_the_body_from_key() {
    let opts = JobOptions::new("registry.example/smi-perf:0.1");
    let m = job_manifests(BODY_FROM_TEST, &opts).unwrap();
    let pod = m.job.spec.unwrap().template.spec.unwrap();
    let c = &pod.containers[0];
    let args = c.args.clone().unwrap();
    let i = args
        .iter()
        .position(|a| a == "--body-file")
        .expect("--body-file");
    assert_eq!(args[i + 1], format!("{BODY_DIR}/big-order.json"));
    let mount = c
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == "body")
        .expect("body mount");
    assert_eq!(
        (mount.mount_path.as_str(), mount.read_only),
        (BODY_DIR, Some(true))
    );
    let vol = pod
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "body")
        .unwrap();
    let cm = vol.config_map.expect("configMap volume");
    assert_eq!(cm.name, "order-payloads");
    let items = cm.items.unwrap();
    assert_eq!(
        (items[0].key.as_str(), items[0].path.as_str()),
        ("big-order.json", "big-order.json")
    );
    // A Secret key: a secret volume.
    let secret = BODY_FROM_TEST.replace("configMapKeyRef", "secretKeyRef");
    let m = job_manifests(&secret, &opts).unwrap();
    let vol = m.job.spec.unwrap().template.spec.unwrap().volumes.unwrap();
    let s = vol[1].secret.as_ref().expect("secret volume");
    assert_eq!(s.secret_name.as_deref(), Some("order-payloads"));
    // A key that cannot be a file name is refused.
    let bad = BODY_FROM_TEST.replace("big-order.json", "../etc/passwd");
    let e = job_manifests(&bad, &opts).unwrap_err().to_string();
    assert!(e.contains("not a valid ConfigMap/Secret key"), "{e}");
    // Without bodyFrom: no body volume.
    let plain = BODY_FROM_TEST.replace(
        "    bodyFrom:\n      configMapKeyRef: {name: order-payloads, key: big-order.json}\n",
        "",
    );
    let m = job_manifests(&plain, &opts).unwrap();
    let pod = m.job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.volumes.unwrap().len(), 1);
    assert!(
        !pod.containers[0]
            .args
            .as_ref()
            .unwrap()
            .contains(&"--body-file".to_owned())
    );
}
