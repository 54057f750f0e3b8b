//! The native HTTP/1.1 lane against scripted servers on 127.0.0.1: every body framing, responses
//! cut at arbitrary points, interim answers, closing connections, and heads it must refuse.
//! Each scripted server answers every request on a connection with the same bytes, written in
//! the pieces the test gives (with a short pause between pieces so they arrive as separate reads).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use smi_perf_engine::{MAX_HEAD, Registry, RunContext, run_spec_with};
use smi_types::perf::{PerformanceTestResult, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does after answering.
#[derive(Clone, Copy, PartialEq)]
enum After {
    KeepAlive,
    Close,
}

struct Script {
    pieces: Vec<Vec<u8>>,
    after: After,
    /// Connections accepted.
    accepted: AtomicU64,
    /// Request heads read.
    requests: AtomicU64,
    /// The last request head seen.
    last_head: std::sync::Mutex<Vec<u8>>,
}

/// Reads one request (head plus a `content-length` body); `None` at the end of the stream.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut b = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buf[..end + 4].to_vec();
            let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let len = text
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            while buf.len() < end + 4 + len {
                let n = s.read(&mut b).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&b[..n]);
            }
            buf.drain(..end + 4 + len);
            return Some(head);
        }
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
}

async fn scripted(pieces: Vec<Vec<u8>>, after: After) -> (String, Arc<Script>) {
    let script = Arc::new(Script {
        pieces,
        after,
        accepted: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        last_head: Default::default(),
    });
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let sc = script.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            sc.accepted.fetch_add(1, Ordering::Relaxed);
            let sc = sc.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(head) = read_request(&mut s, &mut buf).await {
                    sc.requests.fetch_add(1, Ordering::Relaxed);
                    *sc.last_head.lock().unwrap() = head;
                    for (i, p) in sc.pieces.iter().enumerate() {
                        if i > 0 {
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                        if s.write_all(p).await.is_err() {
                            return;
                        }
                    }
                    if sc.after == After::Close {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/x?y=1"), script)
}

fn request() -> RequestSpec {
    RequestSpec {
        timeout: Some(smi_types::perf::Duration::new_unchecked("2s")),
        ..Default::default()
    }
}

fn spec(url: &str, requests: i64) -> PerformanceTestSpec {
    PerformanceTestSpec::http(url)
        .requests(requests)
        .connections(1)
        .request(request())
}

fn with(url: &str, requests: i64, r: RequestSpec) -> PerformanceTestSpec {
    spec(url, requests).request(r)
}

async fn run(spec: &PerformanceTestSpec) -> PerformanceTestResult {
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        run_spec_with(&Registry::with_builtins(), spec, RunContext::default()),
    )
    .await
    .expect("run did not end on time")
    .expect("run failed");
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    r
}

fn ok(r: &PerformanceTestResult, n: i64) {
    assert_eq!(
        r.record.requests_succeeded, n,
        "{:?} {:?}",
        r.record.status_codes, r.record.errors
    );
    assert_eq!(r.record.requests_failed, 0, "{:?}", r.record.errors);
}

fn errors(r: &PerformanceTestResult, kind: &str) -> i64 {
    r.record.errors.get(kind).copied().unwrap_or(0)
}

fn cut(bytes: &[u8], at: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut from = 0;
    for &a in at {
        let a = a.min(bytes.len());
        if a > from {
            out.push(bytes[from..a].to_vec());
            from = a;
        }
    }
    out.push(bytes[from..].to_vec());
    out
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n";

#[tokio::test]
async fn content_length_body_over_several_reads_keeps_the_connection() {
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".to_vec();
    let total = resp.len() as i64;
    let (url, s) = scripted(cut(&resp, &[5, 20, 41, 45]), After::KeepAlive).await;
    let r = run(&spec(&url, 20)).await;
    ok(&r, 20);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1, "keep-alive reused");
    // Received bytes are the wire bytes: head + body.
    assert_eq!(r.record.bytes_received, 20 * total);
    // The request is what was asked for: origin-form target, Host with the port.
    let head = String::from_utf8(s.last_head.lock().unwrap().clone()).unwrap();
    assert!(head.starts_with("GET /x?y=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("host: 127.0.0.1:"), "{head}");
}

#[tokio::test]
async fn chunked_body_with_extensions_and_trailers() {
    let (url, s) = scripted(cut(CHUNKED, &[30, 52, 60, 70, 90]), After::KeepAlive).await;
    let r = run(&spec(&url, 10)).await;
    ok(&r, 10);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
    assert_eq!(r.record.bytes_received, 10 * CHUNKED.len() as i64);
}

#[tokio::test]
async fn body_until_close_and_connection_close_reconnect_each_time() {
    let (url, s) = scripted(
        vec![b"HTTP/1.1 200 OK\r\n\r\nbody runs to the end".to_vec()],
        After::Close,
    )
    .await;
    ok(&run(&spec(&url, 5)).await, 5);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 5);

    let (url, s) = scripted(
        vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec()],
        After::Close,
    )
    .await;
    ok(&run(&spec(&url, 5)).await, 5);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 5);

    // HTTP/1.0 without keep-alive closes; with it, the connection stays.
    let (url, s) = scripted(
        vec![b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()],
        After::Close,
    )
    .await;
    ok(&run(&spec(&url, 3)).await, 3);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 3);
    let (url, s) = scripted(
        vec![b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok".to_vec()],
        After::KeepAlive,
    )
    .await;
    ok(&run(&spec(&url, 3)).await, 3);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn interim_answers_and_bodiless_statuses() {
    let (url, s) = scripted(
        vec![
            b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(),
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!".to_vec(),
        ],
        After::KeepAlive,
    )
    .await;
    let post = RequestSpec {
        method: Some("POST".into()),
        body: Some("abc".into()),
        ..request()
    };
    let r = run(&with(&url, 4, post)).await;
    ok(&r, 4);
    assert_eq!(r.record.status_codes.get("201"), Some(&4));
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
    let head = String::from_utf8(s.last_head.lock().unwrap().clone()).unwrap();
    assert!(head.starts_with("POST "), "{head}");
    assert!(head.contains("content-length: 3\r\n"), "{head}");

    // 204 and 304 have no body whatever they declare; HEAD answers have none either.
    let (url, s) = scripted(
        vec![b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n".to_vec()],
        After::KeepAlive,
    )
    .await;
    ok(&run(&spec(&url, 3)).await, 3);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
    let (url, s) = scripted(
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 700\r\n\r\n".to_vec()],
        After::KeepAlive,
    )
    .await;
    let head = RequestSpec {
        method: Some("HEAD".into()),
        ..request()
    };
    ok(&run(&with(&url, 3, head)).await, 3);
    assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn refused_heads_and_framings_are_protocol_errors() {
    let huge = {
        let mut v = b"HTTP/1.1 200 OK\r\n".to_vec();
        while v.len() <= MAX_HEAD {
            v.extend_from_slice(b"x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        v
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("head over MAX_HEAD", huge),
        (
            "conflicting lengths",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        ),
        (
            "bad chunk size",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        ),
        (
            "chunk without its CRLF",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n".to_vec(),
        ),
        ("not HTTP", b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()),
        (
            "101 upgrade",
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let (url, _) = scripted(vec![bytes], After::KeepAlive).await;
        let r = run(&spec(&url, 3)).await;
        assert_eq!(errors(&r, "protocol"), 3, "{what}: {:?}", r.record.errors);
    }
}

#[tokio::test]
async fn truncated_answers_are_resets_not_hangs() {
    for bytes in [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Le".to_vec(),
    ] {
        let (url, _) = scripted(vec![bytes], After::Close).await;
        let r = run(&spec(&url, 3)).await;
        assert_eq!(errors(&r, "reset"), 3, "{:?}", r.record.errors);
    }
}

#[tokio::test]
async fn framing_headers_the_engine_writes_are_checked() {
    // Nothing listens on the discard port: the run must fail before any connection.
    let url = "http://127.0.0.1:9/";
    for (name, value, says) in [
        ("Content-Length", "4", "content-length"),
        ("Transfer-Encoding", "chunked", "transfer-encoding"),
    ] {
        let r = RequestSpec {
            body: Some("abc".into()),
            headers: [(name.to_owned(), value.to_owned())].into(),
            ..request()
        };
        let e = run_spec_with(
            &Registry::with_builtins(),
            &with(url, 1, r),
            RunContext::default(),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().to_ascii_lowercase().contains(says), "{e}");
    }
}

#[tokio::test]
async fn native_and_hyper_generators_agree() {
    let server = smi_perf_engine::serve::start(smi_perf_engine::serve::ServeOptions {
        status_mix: vec![(200, 3), (503, 1)],
        response_size: 300,
        ..Default::default()
    })
    .await
    .unwrap();
    let url = format!("http://{}/", server.http_addr);
    let native = run(&spec(&url, 400).connections(4)).await;
    let hyper = run(&spec(&url, 400).connections(4).load_generator("hyper")).await;
    assert_eq!(native.record.load_generator, "builtin");
    assert_eq!(hyper.record.load_generator, "hyper");
    for r in [&native, &hyper] {
        assert_eq!(r.record.requests_total, 400);
        assert_eq!(r.record.requests_failed, r.record.status_codes["503"]);
    }
    assert_eq!(
        native.record.status_codes.values().sum::<i64>(),
        hyper.record.status_codes.values().sum::<i64>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Wherever the response is cut, the lane reads the same answer and keeps the connection.
    #[test]
    fn any_split_of_a_chunked_answer_reads_the_same(mut at in proptest::collection::vec(0usize..CHUNKED.len(), 0..6)) {
        at.sort_unstable();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (url, s) = scripted(cut(CHUNKED, &at), After::KeepAlive).await;
            let r = run(&spec(&url, 3)).await;
            prop_assert_eq!(r.record.requests_succeeded, 3, "{:?}", r.record.errors);
            prop_assert_eq!(r.record.bytes_received, 3 * CHUNKED.len() as i64);
            prop_assert_eq!(s.accepted.load(Ordering::Relaxed), 1);
            Ok(())
        })?;
    }
}
