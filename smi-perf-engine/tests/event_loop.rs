//! The HTTP/1.1 event loop (`transport/h1loop.rs`), closed model and Open model, against the
//! task-per-connection driver it stands in for: every scenario runs on both, each against a
//! fresh scripted server, and must count the same (the wire-level cases of `http1_wire.rs` run
//! on the event loop, the default). Then what only a run's end, a deadline, a full socket or a
//! lane behind its schedule exercises.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use smi_perf_engine::RunContext;

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;
use smi_types::perf::{LoadModel, PerformanceTestResult, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the scripted server does after reading a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    /// Writes the answer and reads the next request.
    Answer,
    /// Writes the answer and closes the connection (without saying so in the answer).
    AnswerAndClose,
    /// Answers the first request of each connection; closes it at the second one's arrival
    /// without answering (a keep-alive connection the server dropped while idle).
    OnceThenClose,
    /// Reads requests and never answers.
    Silent,
    /// As `Answer`, reading each request 20 ms late through a 4 KiB receive buffer.
    SlowAnswer,
    /// As `Answer`, each answer 30 ms after its request.
    Delayed,
}

struct Server {
    url: String,
    accepted: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

/// Reads one request (head, then a `content-length` body) from `s`; `None` at the end.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut b = [0u8; 64 * 1024];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= p + 4 + len {
                buf.drain(..p + 4 + len);
                return Some(());
            }
        }
        let n = s.read(&mut b).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
}

async fn server(answer: &'static [u8], then: Then) -> Server {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    if then == Then::SlowAnswer {
        sock.set_recv_buffer_size(4096).unwrap();
    }
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let l = sock.listen(64).unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let (a, r) = (accepted.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            a.fetch_add(1, Ordering::Relaxed);
            let r = r.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut served = 0;
                loop {
                    if then == Then::SlowAnswer {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if read_request(&mut s, &mut buf).await.is_none() {
                        break;
                    }
                    r.fetch_add(1, Ordering::Relaxed);
                    match then {
                        Then::Silent => continue,
                        Then::OnceThenClose if served == 1 => return,
                        Then::Delayed => tokio::time::sleep(Duration::from_millis(30)).await,
                        _ => {}
                    }
                    if s.write_all(answer).await.is_err() {
                        return;
                    }
                    served += 1;
                    if then == Then::AnswerAndClose {
                        return;
                    }
                }
            });
        }
    });
    Server {
        url,
        accepted,
        requests,
    }
}

fn spec(url: &str, requests: i64, connections: i32, timeout: &str) -> PerformanceTestSpec {
    PerformanceTestSpec::http(url)
        .requests(requests)
        .connections(connections)
        .request(RequestSpec {
            timeout: Some(smi_types::perf::Duration::new_unchecked(timeout)),
            ..Default::default()
        })
}

async fn run(spec: &PerformanceTestSpec, event_loop: bool) -> PerformanceTestResult {
    let ctx = RunContext::default().with_event_loop(event_loop);
    run_checked(spec, ctx, Duration::from_secs(20)).await
}

/// What a run counted, as compared between the two drivers.
fn counts(r: &PerformanceTestResult) -> String {
    let c = &r.record;
    format!(
        "ok={} failed={} cut={} dropped={} sent={} received={} status={:?} errors={:?}",
        c.requests_succeeded,
        c.requests_failed,
        c.requests_cut_off,
        c.dropped_or_late,
        c.bytes_sent,
        c.bytes_received,
        c.status_codes,
        c.errors
    )
}

/// The load model a scenario runs in: the closed loop, or the Open model at a rate the scripted
/// server keeps up with (no lane falls behind unless the case says so).
#[derive(Clone, Copy, Debug)]
enum Model {
    Closed,
    Open(i64),
}

/// Every scenario runs in both models.
const MODELS: [Model; 2] = [Model::Closed, Model::Open(300)];

impl Model {
    fn apply(self, spec: PerformanceTestSpec) -> PerformanceTestSpec {
        match self {
            Model::Closed => spec,
            Model::Open(rps) => spec.load_model(LoadModel::Open).rps(rps),
        }
    }
}

/// Runs `requests` on `connections` in `model` against a fresh `answer`/`then` server with each
/// driver; returns the event loop's counts and the server's (accepted, requests), asserting the
/// task-per-connection driver's are the same.
async fn both(
    model: Model,
    answer: &'static [u8],
    then: Then,
    requests: i64,
    connections: i32,
    timeout: &str,
) -> (String, (u64, u64)) {
    both_spec(answer, then, |url| {
        model.apply(spec(url, requests, connections, timeout))
    })
    .await
}

/// Runs the spec `make` gives for a fresh `answer`/`then` server's URL on each driver (see
/// [`both`]).
async fn both_spec(
    answer: &'static [u8],
    then: Then,
    make: impl Fn(&str) -> PerformanceTestSpec,
) -> (String, (u64, u64)) {
    let mut seen = Vec::new();
    for event_loop in [true, false] {
        let s = server(answer, then).await;
        let r = run(&make(&s.url), event_loop).await;
        let srv = (
            s.accepted.load(Ordering::Relaxed),
            s.requests.load(Ordering::Relaxed),
        );
        seen.push((counts(&r), srv));
    }
    assert_eq!(seen[0], seen[1], "event loop vs task per connection");
    seen.swap_remove(0)
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
const CHUNKED: &[u8] =
    b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n";
const UNTIL_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\n\r\nbody until the close";
const CONTINUE_THEN_204: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
const TRUNCATED: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort";
const GARBAGE: &[u8] = b"SMTP ready\r\n\r\n";

#[tokio::test]
async fn keep_alive_answers_count_the_same_on_both_drivers() {
    for m in MODELS {
        let (c, srv) = both(m, OK, Then::Answer, 40, 4, "2s").await;
        assert!(c.starts_with("ok=40 failed=0 cut=0 dropped=0"), "{m:?} {c}");
        assert!(
            c.contains(&format!(
                "received={} status={{\"200\": 40}} errors={{}}",
                40 * OK.len()
            )),
            "{m:?} {c}"
        );
        // One connection per lane, opened before the run, kept for every request.
        assert_eq!(srv, (4, 40), "{m:?}");
    }
}

#[tokio::test]
async fn framings_count_the_same_on_both_drivers() {
    for m in MODELS {
        let (c, _) = both(m, CHUNKED, Then::Answer, 9, 2, "2s").await;
        assert!(c.starts_with("ok=9 failed=0 cut=0"), "{m:?} {c}");
        assert!(
            c.contains(&format!("received={}", 9 * CHUNKED.len())),
            "{m:?} {c}"
        );
        let (c, srv) = both(m, UNTIL_CLOSE, Then::AnswerAndClose, 6, 2, "2s").await;
        assert!(c.starts_with("ok=6 failed=0 cut=0"), "{m:?} {c}");
        // A body delimited by the close: a new connection for every request (2 opened before
        // the run, each used once, then one per further request).
        assert_eq!(srv, (6, 6), "{m:?}");
        let (c, _) = both(m, CONTINUE_THEN_204, Then::Answer, 5, 1, "2s").await;
        assert!(c.contains("status={\"204\": 5}"), "{m:?} {c}");
    }
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_retried_once_on_a_new_one() {
    // Every second request meets a connection the server dropped: it is retried on a new
    // connection, within its deadline, and succeeds; nothing is counted twice.
    for m in MODELS {
        let (c, (accepted, requests)) = both(m, OK, Then::OnceThenClose, 10, 1, "2s").await;
        assert!(c.starts_with("ok=10 failed=0 cut=0"), "{m:?} {c}");
        assert_eq!(accepted, 10, "{m:?}");
        // The server saw each dropped request too (it read it, then closed).
        assert_eq!(requests, 19, "{m:?}");
    }
}

#[tokio::test]
async fn broken_answers_are_errors_on_both_drivers() {
    for m in MODELS {
        let (c, _) = both(m, TRUNCATED, Then::AnswerAndClose, 4, 1, "2s").await;
        assert!(c.starts_with("ok=0 failed=4 cut=0"), "{m:?} {c}");
        assert!(c.contains("errors={\"reset\": 4}"), "{m:?} {c}");
        let (c, _) = both(m, GARBAGE, Then::Answer, 3, 1, "2s").await;
        assert!(c.contains("errors={\"protocol\": 3}"), "{m:?} {c}");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_every_request() {
    // Open model: each request times out; the next, overdue by then, goes out at once (within
    // the lane's share of maxInFlight: nothing is dropped).
    for m in [Model::Closed, Model::Open(100)] {
        let (c, _) = both(m, OK, Then::Silent, 3, 1, "100ms").await;
        assert!(c.starts_with("ok=0 failed=3 cut=0 dropped=0"), "{m:?} {c}");
        assert!(c.contains("errors={\"timeout\": 3}"), "{m:?} {c}");
    }
}

#[tokio::test]
async fn refused_connects_are_counted_with_nothing_sent() {
    // A port nobody listens on: bind, take the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for m in MODELS {
        let spec = m.apply(spec(&format!("http://127.0.0.1:{port}/"), 5, 1, "1s"));
        let a = run(&spec, true).await;
        let b = run(&spec, false).await;
        assert_eq!(counts(&a), counts(&b), "{m:?}");
        assert_eq!(a.record.requests_failed, 5, "{m:?} {:?}", a.record.errors);
        assert_eq!(
            a.record.errors.get("connectRefused"),
            Some(&5),
            "{m:?} {:?}",
            a.record.errors
        );
        assert_eq!(a.record.bytes_sent, 0, "{m:?}");
    }
}

#[tokio::test]
async fn requests_in_flight_at_the_end_of_a_duration_run_are_cut_off() {
    let s = server(OK, Then::Silent).await;
    let spec = PerformanceTestSpec::http(&s.url)
        .duration("300ms")
        .connections(3)
        .request(RequestSpec {
            // Each request's deadline falls at the run's end: cut off, not timed out.
            timeout: Some(smi_types::perf::Duration::new_unchecked("300ms")),
            ..Default::default()
        });
    let r = run(&spec, true).await;
    assert_eq!(
        (
            r.record.requests_succeeded,
            r.record.requests_failed,
            r.record.requests_cut_off
        ),
        (0, 0, 3)
    );
    assert_eq!(s.requests.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn a_request_larger_than_the_socket_buffers_is_written_whole() {
    // 60 KiB bodies to a server reading late through a small buffer: the write stops on a
    // full socket and goes on at writability.
    let body = "x".repeat(60 << 10);
    let s = server(OK, Then::SlowAnswer).await;
    let spec = PerformanceTestSpec::http(&s.url)
        .requests(3)
        .connections(1)
        .request(RequestSpec {
            method: Some("POST".into()),
            body: Some(body.clone()),
            timeout: Some(smi_types::perf::Duration::new_unchecked("10s")),
            ..Default::default()
        });
    let r = run(&spec, true).await;
    assert_eq!(r.record.requests_succeeded, 3, "{:?}", r.record.errors);
    assert!(r.record.bytes_sent > 3 * body.len() as i64);
    assert_eq!(s.requests.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn endpoints_are_used_in_turn_each_on_its_own_connection() {
    let a = server(OK, Then::Answer).await;
    let b = server(CHUNKED, Then::Answer).await;
    let spec = spec(&a.url, 8, 1, "2s").endpoint(b.url.clone());
    let r = run(&spec, true).await;
    assert_eq!(r.record.requests_succeeded, 8);
    assert_eq!(r.record.status_codes.get("200"), Some(&4));
    assert_eq!(r.record.status_codes.get("201"), Some(&4));
    assert_eq!(a.accepted.load(Ordering::Relaxed), 1);
    assert_eq!(b.accepted.load(Ordering::Relaxed), 1);
}

// What only the Open model has: answers read on arrival, a run's end under blocked lanes, a lane
// behind its schedule.

#[tokio::test]
async fn open_model_answers_read_on_arrival_count_the_same() {
    // `read_at_wakeups(false)`: every answer wakes the loop (no kernel timestamps needed).
    let s = server(OK, Then::Answer).await;
    let spec = Model::Open(300).apply(spec(&s.url, 30, 3, "2s"));
    let ctx = RunContext::default().with_read_at_wakeups(false);
    let r = run_checked(&spec, ctx, Duration::from_secs(20)).await;
    assert!(counts(&r).starts_with("ok=30 failed=0 cut=0 dropped=0"));
    assert_eq!(s.requests.load(Ordering::Relaxed), 30);
}

#[tokio::test]
async fn open_model_sends_owed_when_the_run_ends_are_dropped_and_those_in_flight_cut_off() {
    // 40 rps for 300 ms on 3 connections: sends 0–11, at 0, 25, …, 275 ms; lane i owns sends
    // i, i + 3, i + 6, i + 9. A silent server: each lane's first request times out (300 ms),
    // its next, overdue, goes out then and is in flight when the run is cut off (300 ms +
    // min(timeout, 1 s)); the two it still owed never go out: dropped.
    let (c, srv) = both_spec(OK, Then::Silent, |url| {
        Model::Open(40)
            .apply(
                PerformanceTestSpec::http(url)
                    .duration("300ms")
                    .connections(3),
            )
            .request(RequestSpec {
                timeout: Some(smi_types::perf::Duration::new_unchecked("300ms")),
                ..Default::default()
            })
    })
    .await;
    assert!(c.starts_with("ok=0 failed=3 cut=3 dropped=6"), "{c}");
    assert!(c.contains("errors={\"timeout\": 3}"), "{c}");
    // A timed-out request's connection is closed: the next one opens a new one.
    assert_eq!(srv, (6, 6));
}

#[tokio::test]
async fn open_model_a_lane_behind_its_schedule_drops_beyond_its_share_of_max_in_flight() {
    // One connection, a send every 5 ms, answers 30 ms late: the lane falls behind; of the
    // sends that come due while it waits, `maxInFlight` (2) are queued and the rest dropped.
    // Every scheduled send is counted once (`run_checked`); the requests mode still records
    // 5 answers.
    for event_loop in [true, false] {
        let s = server(OK, Then::Delayed).await;
        let spec = Model::Open(200)
            .apply(spec(&s.url, 5, 1, "2s"))
            .max_in_flight(2);
        let r = run(&spec, event_loop).await;
        assert_eq!(r.record.requests_succeeded, 5, "event_loop={event_loop}");
        assert!(r.record.dropped_or_late > 0, "event_loop={event_loop}");
        assert_eq!(s.requests.load(Ordering::Relaxed), 5);
    }
}
