//! Both webhook binaries under faults: a closed stderr, client strings with control
//! characters in the log, SIGTERM with a request in flight, the certificate's lifetime, and a
//! serving certificate given as files.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::Webhook;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn admission_review(uid: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "split.smi-spec.io", "version": "v1alpha4", "kind": "TrafficSplit"},
            "resource": {"group": "split.smi-spec.io", "version": "v1alpha4", "resource": "trafficsplits"},
            "name": "web\u{1b}[2J\nforged log line",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {},
            "object": {
                "apiVersion": "split.smi-spec.io/v1alpha4",
                "kind": "TrafficSplit",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 90}]}
            }
        }
    })
}

fn conversion_review(uid: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {
            "uid": uid,
            "desiredAPIVersion": "split.smi-spec.io/v1alpha4",
            "objects": [{
                "apiVersion": "split.smi-spec.io/v1alpha1",
                "kind": "TrafficSplit",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"service": "web", "backends": [{"service": "web-v1", "weight": 1}]}
            }]
        }
    })
}

/// A closed stderr (the log reader went away) used to panic every review while /healthz
/// still said 200.
#[tokio::test]
async fn reviews_are_answered_when_stderr_is_closed() {
    for (bin, review) in [
        (
            env!("CARGO_BIN_EXE_admission-webhook"),
            admission_review as fn(&str) -> Value,
        ),
        (env!("CARGO_BIN_EXE_conversion-webhook"), conversion_review),
    ] {
        let mut hook = Webhook::start_with_stderr(bin, &[], Stdio::piped());
        drop(hook.stderr()); // every write to stderr now fails (EPIPE)
        for uid in ["first", "second"] {
            let (status, answer) = hook.post(&review(uid)).await;
            assert_eq!(status, 200, "{bin}: {answer}");
            assert_eq!(answer["response"]["uid"], uid, "{bin}");
        }
    }
}

#[tokio::test]
async fn client_strings_are_escaped_in_the_log() {
    let mut hook = Webhook::start_with_stderr(
        env!("CARGO_BIN_EXE_admission-webhook"),
        &["--max-requests", "1"],
        Stdio::piped(),
    );
    let stderr = hook.stderr().unwrap();
    let (status, _) = hook.post(&admission_review("uid\r\n\u{202e}x")).await;
    assert_eq!(status, 200);
    hook.wait_exit(Duration::from_secs(20));
    let lines: Vec<String> = BufReader::new(stderr).lines().map(Result::unwrap).collect();
    let log = lines.join("\n");
    assert!(
        !log.contains('\u{1b}') && !log.contains('\r') && !log.contains('\u{202e}'),
        "{log:?}"
    );
    let review = lines.iter().find(|l| l.starts_with("uid")).expect(&log);
    assert!(
        review.starts_with(
            r"uid\u{d}\u{a}\u{202e}x TrafficSplit shop/web\u{1b}[2J\u{a}forged log line: allowed"
        ),
        "{review}"
    );
    assert_eq!(lines.len(), 2, "one line per review, then `stopped`: {log}");
}

/// SIGTERM (what Kubernetes sends) stops accepting and lets the review in flight finish.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_drains_the_review_in_flight() {
    let mut hook =
        Webhook::start_with_stderr(env!("CARGO_BIN_EXE_admission-webhook"), &[], Stdio::piped());
    let stderr = hook.stderr().unwrap();
    let pem = hook.cert_pem.clone().unwrap();
    let config = examples::tls::client_config(&pem).unwrap();
    let tcp = tokio::net::TcpStream::connect(hook.addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::clone(&config))
        .connect(rustls::pki_types::ServerName::from(hook.addr.ip()), tcp)
        .await
        .unwrap();
    let body = serde_json::to_vec(&admission_review("in-flight")).unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        hook.addr,
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body[..10]).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // the server is reading the body

    rustix::process::kill_process(
        rustix::process::Pid::from_child(hook.child()),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    // no new connections once it drains
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        while tokio::net::TcpStream::connect(hook.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "still accepting after SIGTERM");

    tls.write_all(&body[10..]).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer))
        .await
        .expect("answered")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""uid":"in-flight""#), "{answer}");
    let status = hook.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    let log: Vec<String> = BufReader::new(stderr).lines().map(Result::unwrap).collect();
    assert_eq!(
        log.last().map(String::as_str),
        Some("stopped: Terminated"),
        "{log:?}"
    );
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The two UTCTime values of the certificate's validity, as days since 1970. A date from 2050
/// on is a GeneralizedTime and makes this fail (rcgen's default runs until 4096).
fn validity_days(pem: &[u8]) -> (i64, i64) {
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem).unwrap();
    let times: Vec<i64> = der
        .windows(15)
        .filter(|w| {
            w[0] == 0x17 && w[1] == 13 && w[14] == b'Z' && w[2..14].iter().all(u8::is_ascii_digit)
        })
        .map(|w| {
            let n = |i: usize| i64::from((w[i] - b'0') * 10 + (w[i + 1] - b'0'));
            days(2000 + n(2), n(4), n(6))
        })
        .collect();
    assert_eq!(times.len(), 2, "validity as two UTCTimes in {der:?}");
    (times[0], times[1])
}

#[tokio::test]
async fn the_generated_certificate_is_valid_for_a_year_from_now() {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 86_400,
    )
    .unwrap();
    for bin in [
        env!("CARGO_BIN_EXE_admission-webhook"),
        env!("CARGO_BIN_EXE_conversion-webhook"),
    ] {
        let hook = Webhook::start(bin, &[]);
        let (not_before, not_after) = validity_days(hook.cert_pem.as_deref().unwrap());
        assert!(
            (now - 1..=now).contains(&not_before),
            "{bin}: from day {not_before}, today {now}"
        );
        assert!(
            (now + 364..=now + 366).contains(&not_after),
            "{bin}: until day {not_after}, today {now}"
        );
    }
}

/// `--tls-cert/--tls-key` serve a certificate made elsewhere (in the e2e tests: signed by the
/// control plane's CA).
#[tokio::test]
async fn serves_a_certificate_given_as_files() {
    let cert = examples::tls::SelfSigned::generate(&examples::tls::default_names()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&crt, &cert.cert_pem).unwrap();
    std::fs::write(&key, cert.key_pem()).unwrap();
    let (crt, key) = (crt.to_str().unwrap(), key.to_str().unwrap());
    for (bin, review) in [
        (
            env!("CARGO_BIN_EXE_admission-webhook"),
            admission_review as fn(&str) -> Value,
        ),
        (env!("CARGO_BIN_EXE_conversion-webhook"), conversion_review),
    ] {
        let hook = Webhook::start(bin, &["--tls-cert", crt, "--tls-key", key]);
        assert_eq!(hook.cert_pem.as_deref(), Some(cert.cert_pem.as_bytes()));
        let (status, answer) = hook.post(&review("files")).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["response"]["uid"], "files");
    }
    // a key that does not exist is an error before listening
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conversion-webhook"))
        .args([
            "--tls-cert",
            crt,
            "--tls-key",
            "/nonexistent/tls.key",
            "--exit-after",
            "1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/tls.key"));
}

/// serde_json's "recursion limit exceeded" named no limit.
#[tokio::test]
async fn a_deeply_nested_body_is_a_400_naming_the_limit() {
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let mut review = conversion_review("deep");
    review["request"]["objects"][0]["spec"] = deep;
    let hook = Webhook::start(env!("CARGO_BIN_EXE_conversion-webhook"), &["--plain-http"]);
    let (status, answer) = hook.post(&review).await;
    assert_eq!(status, 400);
    let message = answer["error"].as_str().unwrap();
    assert!(message.contains("limit of 128 levels"), "{message}");
}
