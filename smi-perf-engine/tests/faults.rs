//! Faults the engine must survive, against tiny misbehaving servers on 127.0.0.1: every run ends
//! on time, each failure is counted by kind, no panic, no hang.

use std::time::{Duration, Instant};

use smi_perf_engine::{Registry, RunContext, run_spec_with};
use smi_types::perf::{PerformanceTestResult, PerformanceTestSpec, RequestSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts a server whose every connection is handled by `handler`; returns its URL.
async fn misbehaving<F, Fut>(handler: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(handler(s));
        }
    });
    format!("http://{addr}/")
}

/// Reads one request head (up to the blank line).
async fn read_head(s: &mut TcpStream) -> bool {
    let mut buf = Vec::with_capacity(1024);
    let mut b = [0u8; 1024];
    loop {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                buf.extend_from_slice(&b[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return true;
                }
            }
        }
    }
}

fn spec(url: &str, duration: &str, timeout: &str) -> PerformanceTestSpec {
    PerformanceTestSpec::http(url)
        .duration(duration)
        .connections(4)
        .request(RequestSpec {
            timeout: Some(smi_types::perf::Duration::new_unchecked(timeout)),
            ..Default::default()
        })
}

async fn run_timed(spec: &PerformanceTestSpec, limit: Duration) -> PerformanceTestResult {
    let t0 = Instant::now();
    let r = tokio::time::timeout(
        limit,
        run_spec_with(&Registry::with_builtins(), spec, RunContext::default()),
    )
    .await
    .expect("run did not end on time")
    .expect("run failed");
    assert!(t0.elapsed() < limit, "took {:?}", t0.elapsed());
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    r
}

fn errors(r: &PerformanceTestResult, kind: &str) -> i64 {
    r.record.errors.get(kind).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_counted() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    drop(l);
    let r = run_timed(&spec(&url, "1s", "500ms"), Duration::from_secs(4)).await;
    assert!(errors(&r, "connectRefused") > 0, "{:?}", r.record.errors);
    assert_eq!(r.record.requests_succeeded, 0);
    assert_eq!(r.record.requests_failed, r.record.requests_total);
    assert_eq!(
        r.record.status_codes.get("error").copied(),
        Some(r.record.requests_total)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_response_is_counted() {
    let url = misbehaving(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
                .await;
            // RST instead of FIN: the abortive close a crashing proxy produces.
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
        }
        drop(s);
    })
    .await;
    let r = run_timed(&spec(&url, "1s", "500ms"), Duration::from_secs(4)).await;
    assert!(errors(&r, "reset") > 0, "{:?}", r.record.errors);
    assert_eq!(r.record.requests_succeeded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_past_timeout_is_a_timeout() {
    let url = misbehaving(|mut s| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let r = run_timed(&spec(&url, "1s", "200ms"), Duration::from_secs(4)).await;
    // Each of the 4 connections sends at least once, and that request times out or, started
    // late on a loaded machine, is cut off at the end; how many fit in 1 s is not asserted.
    let x = &r.record;
    assert_eq!(errors(&r, "timeout"), x.requests_total, "{:?}", x.errors);
    assert!(errors(&r, "timeout") + x.requests_cut_off >= 4, "{x:?}");
    assert_eq!(x.requests_succeeded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_a_protocol_error() {
    let url = misbehaving(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s.write_all(b"SSH-2.0-garbage\r\n\r\n").await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    })
    .await;
    let r = run_timed(&spec(&url, "1s", "500ms"), Duration::from_secs(4)).await;
    assert!(errors(&r, "protocol") > 0, "{:?}", r.record.errors);
    assert_eq!(r.record.requests_succeeded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_keep_alive_reconnects() {
    let url = misbehaving(|mut s| async move {
        if read_head(&mut s).await {
            // A valid answer without `Connection: close`, then the socket closes.
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .await;
        }
    })
    .await;
    // A fixed count, not a duration: every request is on a connection the previous answer
    // closed, whatever the machine's speed.
    let s = spec(&url, "1s", "500ms").requests(200);
    let r = run_timed(&s, Duration::from_secs(20)).await;
    assert_eq!(r.record.requests_total, 200, "{:?}", r.record);
    // Reconnecting is silent: at most a sliver of races show up as resets.
    assert!(
        r.record.requests_failed * 20 <= r.record.requests_total,
        "{:?} {:?}",
        r.record.requests_failed,
        r.record.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_ending_body_times_out_and_run_ends() {
    let url = misbehaving(|mut s| async move {
        if read_head(&mut s).await {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            for _ in 0..600 {
                if s.write_all(b"1\r\nx\r\n").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await;
    let r = run_timed(&spec(&url, "1s", "300ms"), Duration::from_secs(4)).await;
    // One request per connection at least, each a timeout or cut off at the end.
    let x = &r.record;
    assert_eq!(errors(&r, "timeout"), x.requests_total, "{:?}", x.errors);
    assert!(errors(&r, "timeout") + x.requests_cut_off >= 4, "{x:?}");
    assert_eq!(x.requests_succeeded, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_against_a_stalled_server_ends_on_time() {
    let url = misbehaving(|mut s| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let spec = spec(&url, "1s", "1s")
        .load_model(smi_types::perf::LoadModel::Open)
        .rps(200)
        .max_in_flight(8);
    let r = run_timed(&spec, Duration::from_secs(4)).await;
    // Nothing answers: after the per-lane share of maxInFlight, scheduled sends are dropped.
    // Every send of the 200 is counted once. A lane sends a request only when the previous
    // one ended, each ends by its 1 s timeout or at the hard end (window + 1 s grace, where
    // it is cut off and the lane stops): at most 2 sent per lane, 8 for the 4 lanes, on any
    // machine.
    let x = &r.record;
    assert_eq!(
        x.requests_total + x.requests_cut_off + x.dropped_or_late,
        200,
        "{x:?}"
    );
    assert!(x.requests_total + x.requests_cut_off <= 8, "{x:?}");
    assert_eq!(x.requests_succeeded, 0);
}

/// Total of every error kind but `kind`.
fn errors_other_than(r: &PerformanceTestResult, kinds: &[&str]) -> i64 {
    r.record
        .errors
        .iter()
        .filter(|(k, _)| !kinds.contains(&k.as_str()))
        .map(|(_, v)| v)
        .sum()
}

/// A listener with a backlog of 1 that never accepts, its accept queue filled: further SYNs
/// are dropped, so a connect hangs (the kernel retries for about two minutes). Returns the
/// listener and the filling connections (both must stay alive) and the address.
async fn full_accept_queue() -> (
    tokio::net::TcpListener,
    Vec<TcpStream>,
    std::net::SocketAddr,
) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let l = sock.listen(1).unwrap();
    let addr = l.local_addr().unwrap();
    let mut fill = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fill.push(s),
            Ok(Err(e)) => panic!("filling the accept queue: {e}"),
            Err(_) => return (l, fill, addr),
        }
    }
    panic!("the accept queue of a backlog-1 listener took 16 connections");
}

/// The phase bound: a run returns within prepare (timeout) + duration + Open grace (≤ 1 s);
/// the test allows 3 s more as a hang guard only.
fn bound(duration: Duration, timeout: Duration) -> Duration {
    duration + timeout + Duration::from_secs(3)
}

/// Every generator against a full accept queue: each request that could not connect within
/// the timeout is a `connectTimeout`, and the run ends on time (it ran 138 s for `-d 3s`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_accept_queue_is_a_connect_timeout_for_every_generator() {
    let (_l, _fill, addr) = full_accept_queue().await;
    for (protocol, generator, url) in [
        ("HTTP", "builtin", format!("http://{addr}/")),
        ("HTTP", "hyper", format!("http://{addr}/")),
        ("HTTP2", "builtin", format!("http://{addr}/")),
        ("TCP", "builtin", format!("tcp://{addr}")),
    ] {
        let mut s = spec(&url, "1500ms", "300ms")
            .load_generator(generator)
            .connections(2);
        s.endpoints = vec![url.clone()];
        s.protocol = Some(protocol.parse().unwrap());
        let r = run_timed(
            &s,
            bound(Duration::from_millis(1500), Duration::from_millis(300)),
        )
        .await;
        let what = format!("{protocol}/{generator}: {:?}", r.record);
        // Each of the 2 lanes connects at least once: a connectTimeout, or cut off at the end
        // when a loaded machine started it late (how many fit in 1.5 s is not asserted).
        assert!(
            errors(&r, "connectTimeout") + r.record.requests_cut_off >= 2,
            "{what}"
        );
        assert_eq!(
            errors(&r, "connectTimeout"),
            r.record.requests_total,
            "{what}"
        );
        assert_eq!(errors_other_than(&r, &["connectTimeout"]), 0, "{what}");
        assert_eq!(r.record.requests_succeeded, 0, "{what}");
        assert!(r.record.requests_cut_off <= 2, "{what}");
    }
}

/// TLS that never completes: the server accepts and stays silent. Each request is a
/// `handshakeTimeout` (it was still "connecting" at 120 s), for the native HTTP/1.1 lane,
/// hyper's and HTTP/2.
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_tls_handshake_is_a_handshake_timeout_for_every_generator() {
    let url = misbehaving(|s| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await
    .replace("http://", "https://");
    for (protocol, generator) in [("HTTP", "builtin"), ("HTTP", "hyper"), ("HTTP2", "builtin")] {
        let mut s = spec(&url, "1500ms", "300ms")
            .load_generator(generator)
            .connections(2);
        s.protocol = Some(protocol.parse().unwrap());
        s.tls = Some(smi_types::perf::TlsSpec {
            insecure_skip_verify: Some(true),
            ..Default::default()
        });
        let r = run_timed(
            &s,
            bound(Duration::from_millis(1500), Duration::from_millis(300)),
        )
        .await;
        let what = format!("{protocol}/{generator}: {:?}", r.record);
        assert!(
            errors(&r, "handshakeTimeout") + r.record.requests_cut_off >= 2,
            "{what}"
        );
        assert_eq!(
            errors(&r, "handshakeTimeout"),
            r.record.requests_total,
            "{what}"
        );
        assert_eq!(errors_other_than(&r, &["handshakeTimeout"]), 0, "{what}");
        assert_eq!(r.record.requests_succeeded, 0, "{what}");
    }
}

/// A target that accepts, reads the request and never answers, with a timeout as long as the
/// run: no request completes or times out inside the window. Each lane's request is counted
/// as cut off at the end (it was counted nowhere: 0 requests, 0 errors).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_at_the_end_are_cut_off_closed_model() {
    let url = misbehaving(|mut s| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    for generator in ["builtin", "hyper"] {
        let s = spec(&url, "1s", "1s").load_generator(generator);
        let r = run_timed(&s, bound(Duration::from_secs(1), Duration::from_secs(1))).await;
        let what = format!("{generator}: {:?}", r.record);
        assert_eq!(r.record.requests_total, 0, "{what}");
        assert_eq!(r.record.requests_cut_off, 4, "{what}: one per connection");
        assert!(r.record.errors.is_empty(), "{what}");
    }
}

/// The same under the Open model: every arrival of the window is counted exactly once, as
/// recorded, cut off or dropped (never sent because the lane was blocked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_model_arrival_is_counted_once() {
    let url = misbehaving(|mut s| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let s = spec(&url, "1s", "1s")
        .connections(2)
        .load_model(smi_types::perf::LoadModel::Open)
        .rps(20)
        .max_in_flight(2);
    let r = run_timed(&s, bound(Duration::from_secs(1), Duration::from_secs(1))).await;
    let x = &r.record;
    assert_eq!(x.requests_cut_off, 2, "{x:?}: one per lane");
    assert_eq!(
        x.requests_total + x.requests_cut_off + x.dropped_or_late,
        20,
        "{x:?}: 20 rps × 1 s"
    );
}
