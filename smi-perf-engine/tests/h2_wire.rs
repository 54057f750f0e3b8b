//! The hand-written HTTP/2 lane on the wire, against scripted fake servers on loopback (a tokio
//! `TcpListener` writing raw frames): the server's HPACK dynamic table, CONTINUATION and padded
//! frames, PING, flow control of request bodies, MAX_CONCURRENT_STREAMS, and servers that
//! misbehave (no SETTINGS, an oversized frame, bad HPACK, RST_STREAM, GOAWAY mid-run, a
//! connection closed mid-answer). Each run is bounded; every request is counted exactly once,
//! by kind. Counts only; no timing assertions.

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smi_perf_engine::RunContext;
use smi_types::perf::LoadModel;
use smi_types::perf::{PerformanceTestResult, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const ACK: u8 = 1;
const END_HEADERS: u8 = 4;
const PADDED: u8 = 8;

/// `:status: 200` (static table index 8).
const STATUS_200: &[u8] = &[0x88];

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut b = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
    b.extend_from_slice(&stream.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

fn settings(s: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in s {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &p)
}

fn window_update(stream: u32, inc: u32) -> Vec<u8> {
    frame(WINDOW_UPDATE, 0, stream, &inc.to_be_bytes())
}

/// An HPACK literal field with a literal name: `0x40` with incremental indexing, `0x00` without.
fn literal(first: u8, name: &str, value: &str) -> Vec<u8> {
    let mut b = vec![first, name.len() as u8];
    b.extend_from_slice(name.as_bytes());
    b.push(value.len() as u8);
    b.extend_from_slice(value.as_bytes());
    b
}

/// A request as the fake server saw it.
#[derive(Debug, Default)]
struct Req {
    body: usize,
    data_frames: Vec<usize>,
}

/// The server side of one connection: reads frames, answers through `script`.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            let mut b = [0u8; 4096];
            match self.s.read(&mut b).await {
                Ok(0) | Err(_) => return false,
                Ok(k) => self.buf.extend_from_slice(&b[..k]),
            }
        }
        true
    }

    async fn preface(&mut self) -> bool {
        if !self.fill(24).await || &self.buf[..24] != b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
            return false;
        }
        self.buf.drain(..24);
        true
    }

    /// The next frame: (kind, flags, stream, payload).
    async fn frame(&mut self) -> Option<(u8, u8, u32, Vec<u8>)> {
        if !self.fill(9).await {
            return None;
        }
        let n = (usize::from(self.buf[0]) << 16)
            | (usize::from(self.buf[1]) << 8)
            | usize::from(self.buf[2]);
        if !self.fill(9 + n).await {
            return None;
        }
        let (k, fl) = (self.buf[3], self.buf[4]);
        let id = u32::from_be_bytes([self.buf[5], self.buf[6], self.buf[7], self.buf[8]]);
        let p = self.buf[9..9 + n].to_vec();
        self.buf.drain(..9 + n);
        Some((k, fl, id, p))
    }

    async fn send(&mut self, b: &[u8]) -> bool {
        self.s.write_all(b).await.is_ok()
    }
}

/// What a scripted server does.
#[derive(Clone)]
struct Script {
    /// Its SETTINGS (`None`: it never sends any).
    settings: Option<Vec<(u16, u32)>>,
    /// Give back the window of every DATA frame received.
    give_back: bool,
    /// Before answering, send a PING and wait for its ACK.
    ping: bool,
    /// The bytes answering the `nth` complete request (0-based, across connections) on
    /// `stream`; `None` closes the connection.
    answer: Arc<dyn Fn(u32, usize) -> Option<Vec<u8>> + Send + Sync>,
    /// Close the connection, without GOAWAY, right after answering the `nth` request when this
    /// says so (an idle connection closed under the client).
    close_after: Arc<dyn Fn(usize) -> bool + Send + Sync>,
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    connections: AtomicUsize,
    max_open: AtomicUsize,
    reqs: Mutex<Vec<Req>>,
    ping_acks: AtomicUsize,
}

async fn serve(l: TcpListener, script: Script, seen: Arc<Seen>) {
    while let Ok((s, _)) = l.accept().await {
        let (script, seen) = (script.clone(), seen.clone());
        seen.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut c = Conn { s, buf: Vec::new() };
            if !c.preface().await {
                return;
            }
            if let Some(st) = &script.settings
                && !c.send(&settings(st)).await
            {
                return;
            }
            let mut open: std::collections::BTreeMap<u32, Req> = Default::default();
            while let Some((k, fl, id, p)) = c.frame().await {
                let ended = match k {
                    HEADERS => {
                        open.entry(id).or_default();
                        seen.max_open.fetch_max(open.len(), Ordering::SeqCst);
                        fl & END_STREAM != 0
                    }
                    DATA => {
                        let r = open.entry(id).or_default();
                        r.body += p.len();
                        r.data_frames.push(p.len());
                        if script.give_back && !p.is_empty() {
                            let mut b = window_update(0, p.len() as u32);
                            b.extend(window_update(id, p.len() as u32));
                            if !c.send(&b).await {
                                return;
                            }
                        }
                        fl & END_STREAM != 0
                    }
                    _ => false,
                };
                if !ended {
                    continue;
                }
                if script.ping {
                    // Answer only once the PING came back (one stream per connection in this
                    // mode: nothing else arrives meanwhile).
                    if !c.send(&frame(PING, 0, 0, b"12345678")).await {
                        return;
                    }
                    loop {
                        match c.frame().await {
                            None => return,
                            Some((PING, fl, _, p)) if fl & ACK != 0 => {
                                if p == b"12345678" {
                                    seen.ping_acks.fetch_add(1, Ordering::SeqCst);
                                }
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                let req = open.remove(&id).unwrap_or_default();
                seen.reqs.lock().unwrap().push(req);
                let nth = seen.requests.fetch_add(1, Ordering::SeqCst);
                match (script.answer)(id, nth) {
                    Some(b) => {
                        if !c.send(&b).await {
                            return;
                        }
                    }
                    None => return,
                }
                if (script.close_after)(nth) {
                    return;
                }
            }
        });
    }
}

async fn server(script: Script) -> (String, Arc<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    tokio::spawn(serve(l, script, seen.clone()));
    (url, seen)
}

fn script(answer: impl Fn(u32, usize) -> Option<Vec<u8>> + Send + Sync + 'static) -> Script {
    Script {
        settings: Some(Vec::new()),
        give_back: false,
        ping: false,
        answer: Arc::new(answer),
        close_after: Arc::new(|_| false),
    }
}

fn ok_answer(id: u32) -> Vec<u8> {
    let mut b = frame(HEADERS, END_HEADERS, id, STATUS_200);
    b.extend(frame(DATA, END_STREAM, id, b"hello"));
    b
}

fn spec(url: &str, conns: i32, streams: i32, n: i64) -> PerformanceTestSpec {
    sized(PerformanceTestSpec::http2(url), conns, streams, n)
}

/// `s` with its connections, streams, request count and a 500 ms request timeout.
fn sized(s: PerformanceTestSpec, conns: i32, streams: i32, n: i64) -> PerformanceTestSpec {
    s.connections(conns)
        .streams_per_connection(streams)
        .requests(n)
        .request(RequestSpec {
            timeout: Some(smi_types::perf::Duration::new_unchecked("500ms")),
            ..Default::default()
        })
}

async fn run(spec: &PerformanceTestSpec) -> PerformanceTestResult {
    run_checked(spec, RunContext::default(), Duration::from_secs(30)).await
}

fn errors(r: &PerformanceTestResult, kind: &str) -> i64 {
    r.record.errors.get(kind).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_using_the_servers_dynamic_table_are_decoded() {
    // The first answer on a connection adds `x-served-by` to the HPACK dynamic table; later
    // ones refer to it by index 62, the way real servers compress repeated fields.
    let (url, seen) = server(script(move |id, nth| {
        let mut block = STATUS_200.to_vec();
        if nth == 0 {
            block.extend(literal(0x40, "x-served-by", "fake"));
        } else {
            block.push(0x80 | 62);
        }
        let mut b = frame(HEADERS, END_HEADERS, id, &block);
        b.extend(frame(DATA, END_STREAM, id, b"hello"));
        Some(b)
    }))
    .await;
    let r = run(&spec(&url, 1, 4, 200)).await;
    assert_eq!(
        r.record.status_codes.get("200"),
        Some(&200),
        "{:?}",
        r.record.errors
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 200);
    // The head estimate counts the decoded field: 19 + "x-served-by: fake\r\n" + 5 body bytes.
    assert_eq!(r.record.bytes_received, 200 * (19 + 11 + 4 + 4 + 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_padding_and_ping_are_handled() {
    let mut s = script(|id, _| {
        // The head split over HEADERS + CONTINUATION, a padded DATA frame, trailers.
        let block = [STATUS_200, &literal(0, "x-a", "1")[..]].concat();
        let mut b = frame(HEADERS, 0, id, &block[..1]);
        b.extend(frame(CONTINUATION, END_HEADERS, id, &block[1..]));
        let mut padded = vec![3u8];
        padded.extend_from_slice(b"hello");
        padded.extend_from_slice(&[0, 0, 0]);
        b.extend(frame(DATA, PADDED, id, &padded));
        b.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &literal(0, "x-t", "2"),
        ));
        Some(b)
    });
    s.ping = true;
    let (url, seen) = server(s).await;
    let r = run(&spec(&url, 2, 1, 100)).await;
    assert_eq!(
        r.record.status_codes.get("200"),
        Some(&100),
        "{:?}",
        r.record.errors
    );
    // Every PING the server sent (one per request) was acknowledged with its payload.
    assert_eq!(seen.ping_acks.load(Ordering::SeqCst), 100);
    assert_eq!(r.record.bytes_received, 100 * (19 + 3 + 1 + 4 + 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_respect_the_servers_windows() {
    // A 16-byte stream window: a 100-byte body goes out in frames of at most 16 bytes, each
    // sent only after the server gave the window back.
    let mut s = script(|id, _| Some(ok_answer(id)));
    s.settings = Some(vec![(4, 16)]);
    s.give_back = true;
    let (url, seen) = server(s).await;
    let mut sp = spec(&url, 1, 3, 30);
    sp.request = Some(RequestSpec {
        method: Some("POST".into()),
        body: Some("x".repeat(100)),
        timeout: Some(smi_types::perf::Duration::new_unchecked("2s")),
        ..Default::default()
    });
    let r = run(&sp).await;
    assert_eq!(
        r.record.status_codes.get("200"),
        Some(&30),
        "{:?}",
        r.record.errors
    );
    let reqs = seen.reqs.lock().unwrap();
    assert_eq!(reqs.len(), 30);
    for q in reqs.iter() {
        assert_eq!(q.body, 100);
        assert!(
            q.data_frames.iter().all(|&n| n <= 16),
            "{:?}",
            q.data_frames
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_streams_is_respected() {
    let mut s = script(|id, _| Some(ok_answer(id)));
    s.settings = Some(vec![(3, 2)]);
    let (url, seen) = server(s).await;
    let r = run(&spec(&url, 1, 8, 200)).await;
    assert_eq!(
        r.record.status_codes.get("200"),
        Some(&200),
        "{:?}",
        r.record.errors
    );
    let max = seen.max_open.load(Ordering::SeqCst);
    assert!((1..=2).contains(&max), "{max} streams open at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_sends_settings_is_a_handshake_timeout() {
    let mut s = script(|id, _| Some(ok_answer(id)));
    s.settings = None;
    let (url, _) = server(s).await;
    // One stream per connection: a lane waiting for another lane's handshake would count as
    // connecting.
    let r = run(&spec(&url, 2, 1, 8)).await;
    assert_eq!(r.record.requests_total, 8);
    assert_eq!(errors(&r, "handshakeTimeout"), 8, "{:?}", r.record.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_a_protocol_error() {
    let (url, _) = server(script(|id, _| {
        let mut b = frame(HEADERS, END_HEADERS, id, STATUS_200);
        // 20,000 bytes: above the 16 KiB SETTINGS_MAX_FRAME_SIZE the client kept.
        b.extend(frame(DATA, END_STREAM, id, &vec![0; 20_000]));
        Some(b)
    }))
    .await;
    let r = run(&spec(&url, 1, 1, 20)).await;
    assert_eq!(r.record.requests_total, 20);
    assert_eq!(errors(&r, "protocol"), 20, "{:?}", r.record.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_hpack_is_a_protocol_error() {
    // An indexed field far past both tables.
    let (url, _) = server(script(|id, _| {
        Some(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &[0xff, 0xff, 0x7f],
        ))
    }))
    .await;
    let r = run(&spec(&url, 2, 3, 30)).await;
    assert_eq!(r.record.requests_total, 30);
    assert_eq!(errors(&r, "protocol"), 30, "{:?}", r.record.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rst_stream_fails_that_request_only() {
    // Every third request is reset; the connection keeps serving the others.
    let (url, seen) = server(script(|id, nth| {
        Some(if nth % 3 == 0 {
            frame(RST_STREAM, 0, id, &2u32.to_be_bytes())
        } else {
            ok_answer(id)
        })
    }))
    .await;
    let r = run(&spec(&url, 1, 1, 30)).await;
    assert_eq!(r.record.requests_total, 30);
    assert_eq!(errors(&r, "reset"), 10, "{:?}", r.record.errors);
    assert_eq!(r.record.status_codes.get("200"), Some(&20));
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

/// 50 requests on one stream lane, in the Closed model and in the Open model (whose connections
/// read answers at the timer's wake-ups and park while idle).
fn in_both_models(url: &str) -> [PerformanceTestSpec; 2] {
    [
        spec(url, 1, 1, 50),
        spec(url, 1, 1, 50).load_model(LoadModel::Open).rps(500),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goaway_mid_run_moves_to_a_new_connection() {
    // After 10 answers on a connection, GOAWAY (last stream = the one just answered): the lane
    // opens a new connection and carries on; nothing is lost or counted twice.
    for model in 0..2 {
        let (url, seen) = server(script(|id, nth| {
            let mut b = ok_answer(id);
            if nth % 10 == 9 {
                let mut p = id.to_be_bytes().to_vec();
                p.extend_from_slice(&0u32.to_be_bytes());
                b.extend(frame(GOAWAY, 0, 0, &p));
            }
            Some(b)
        }))
        .await;
        let r = run(&in_both_models(&url)[model]).await;
        assert_eq!(r.record.requests_total, 50);
        assert_eq!(
            r.record.status_codes.get("200"),
            Some(&50),
            "{:?}",
            r.record.errors
        );
        assert_eq!(seen.connections.load(Ordering::SeqCst), 5);
    }
}

/// A server that closes idle connections without GOAWAY (after every fifth answer): the next
/// request opens a new connection instead of failing — on arrival the client sees the close as
/// it happens; a riding connection (Open model), parked while idle, peeks before a request —
/// every request answered in both read modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_closed_without_goaway_costs_no_request() {
    for at_wakeups in [true, false] {
        let mut sc = script(|id, _| Some(ok_answer(id)));
        sc.close_after = Arc::new(|nth| nth % 5 == 4);
        let (url, seen) = server(sc).await;
        let spec = spec(&url, 1, 1, 15).load_model(LoadModel::Open).rps(20);
        let ctx = RunContext::default().with_read_at_wakeups(at_wakeups);
        let r = run_checked(&spec, ctx, Duration::from_secs(30)).await;
        assert_eq!(r.record.requests_total, 15);
        assert_eq!(
            r.record.status_codes.get("200"),
            Some(&15),
            "at wake-ups {at_wakeups}: {:?}",
            r.record.errors
        );
        assert!(seen.connections.load(Ordering::SeqCst) >= 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_mid_run_fails_its_streams_once() {
    // The server closes the connection instead of answering every fifth request; the streams
    // open on it fail as resets, the lanes reconnect.
    for model in 0..2 {
        let (url, _) = server(script(|id, nth| {
            if nth % 5 == 4 {
                None
            } else {
                Some(ok_answer(id))
            }
        }))
        .await;
        let r = run(&in_both_models(&url)[model]).await;
        assert_eq!(r.record.requests_total, 50);
        assert_eq!(errors(&r, "reset"), 10, "{:?}", r.record.errors);
        assert_eq!(r.record.status_codes.get("200"), Some(&40));
    }
}

/// One frame of a hostile answer: its type (every defined one and an unknown one), any flags,
/// the stream it names (0, mostly the request's, the next one, or any), a short payload, and
/// whether a DATA payload is framed as a gRPC message (a 5-byte prefix giving its length).
#[allow(clippy::type_complexity)]
fn hostile_frame() -> impl proptest::strategy::Strategy<Value = (u8, u8, u8, u32, Vec<u8>, bool)> {
    use proptest::prelude::*;
    (
        0u8..=10,
        any::<u8>(),
        0u8..6,
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..24),
        any::<bool>(),
    )
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 128,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0048_3257),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]

    /// Whatever frames a server answers with (any type, flags and stream, well-formed or not,
    /// then it closes the connection), the run ends, nothing panics, and every request is
    /// counted exactly once; in both load models (the Open model's connections read at the
    /// timer's wake-ups), as HTTP/2 requests and as gRPC calls (whose DATA is scanned for
    /// messages and whose trailers carry the status).
    #[test]
    fn hostile_answers_end_the_run_and_count_every_request_once(
        frames in proptest::collection::vec(hostile_frame(), 1..6),
        open in proptest::bool::ANY,
        grpc in proptest::bool::ANY,
        lead in 0u8..3,
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(async move {
            let mut s = script(move |id, _| {
                // Mostly a well-formed response head first, so that what follows reaches the
                // body and trailer handling rather than failing on the first frame.
                let mut b = match lead {
                    0 => Vec::new(),
                    1 => frame(HEADERS, END_HEADERS, id, STATUS_200),
                    _ => {
                        let mut block = STATUS_200.to_vec();
                        block.extend(literal(0x00, "content-type", "application/grpc"));
                        frame(HEADERS, END_HEADERS, id, &block)
                    }
                };
                for (kind, flags, which, any, payload, framed) in &frames {
                    let stream = match which {
                        0 => 0,
                        1..=3 => id,
                        4 => id.wrapping_add(2),
                        _ => *any,
                    };
                    let mut p = Vec::new();
                    if *framed && *kind == DATA {
                        p.push(0);
                        p.extend_from_slice(&(payload.len() as u32).to_be_bytes());
                    }
                    p.extend_from_slice(payload);
                    b.extend(frame(*kind, *flags, stream, &p));
                }
                Some(b)
            });
            s.close_after = Arc::new(|_| true);
            let (url, _) = server(s).await;
            let spec = if grpc {
                sized(PerformanceTestSpec::grpc(url.trim_end_matches('/')), 1, 2, 6)
            } else {
                spec(&url, 1, 2, 6)
            };
            let spec = if open { spec.load_model(LoadModel::Open).rps(500) } else { spec };
            run(&spec).await
        });
        proptest::prop_assert_eq!(r.record.requests_total, 6);
        // The server closes each connection after its answer: a request ends on what came or
        // on the close, never by waiting out its timeout (a lane left unwoken; a panic anywhere
        // fails the run, and `run_checked` with it).
        proptest::prop_assert_eq!(errors(&r, "timeout"), 0, "{:?}", r.record.errors);
    }
}
