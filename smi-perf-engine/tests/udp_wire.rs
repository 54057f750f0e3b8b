//! UDP generator on the wire: echoes matched by sequence number, losses counted (never a hang),
//! late and corrupted echoes told apart, against the embedded target and against test servers
//! that drop, delay or alter chosen datagrams. Counts only; no timing assertions.

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smi_perf_engine::RunContext;
use smi_perf_engine::serve::{ServeOptions, start};
use smi_perf_engine::{RunPlan, SEQ_LEN, UdpFactory};
use smi_types::perf::{LoadModel, PerformanceTestResult, PerformanceTestSpec, Protocol};
use tokio::net::UdpSocket;

async fn run(spec: &PerformanceTestSpec) -> PerformanceTestResult {
    run_checked(spec, RunContext::default(), Duration::from_secs(20)).await
}

fn udp(addr: SocketAddr) -> PerformanceTestSpec {
    PerformanceTestSpec::new(Protocol::Udp, format!("udp://{addr}"))
}

fn with_timeout(mut spec: PerformanceTestSpec, t: &str) -> PerformanceTestSpec {
    spec.request.get_or_insert_with(Default::default).timeout =
        Some(smi_types::perf::Duration::new_unchecked(t.to_owned()));
    spec
}

/// What a test server does with the datagram carrying sequence number `seq` (lane-local, from 1).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Echo,
    Drop,
    /// Echo after this long (past the loss timeout: a late echo).
    Late(Duration),
    /// Echo with the last byte flipped.
    Corrupt,
}

/// A UDP server that treats each datagram as `act` says (by the low 32 bits of its sequence
/// number). Returns its address; it runs until the test's runtime ends.
async fn test_server(act: fn(u64) -> Act) -> SocketAddr {
    let s = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 70_000];
        loop {
            let Ok((n, peer)) = s.recv_from(&mut buf).await else {
                continue;
            };
            let mut d = buf[..n].to_vec();
            assert!(n >= SEQ_LEN, "datagram shorter than its sequence number");
            let seq = u64::from_be_bytes(d[..SEQ_LEN].try_into().unwrap()) & 0xffff_ffff;
            match act(seq) {
                Act::Echo => {
                    let _ = s.send_to(&d, peer).await;
                }
                Act::Drop => {}
                Act::Late(after) => {
                    let s = s.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = s.send_to(&d, peer).await;
                    });
                }
                Act::Corrupt => {
                    *d.last_mut().unwrap() ^= 0xff;
                    let _ = s.send_to(&d, peer).await;
                }
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_target_echoes_every_datagram() {
    let s = start(ServeOptions {
        udp: Some(([127, 0, 0, 1], 0).into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let addr = s.udp_addr.expect("udp echo bound");
    let r = run(&udp(addr).connections(4).requests(400)).await;
    let x = &r.record;
    assert_eq!(x.requests_total, 400, "{x:?}");
    assert_eq!(x.requests_succeeded, 400);
    assert_eq!(x.status_codes.get("200"), Some(&400));
    assert!(x.errors.is_empty(), "{:?}", x.errors);
    // Default payload `smi-perf ping\n` (14 bytes) after the 8-byte sequence number.
    let datagram = (SEQ_LEN + 14) as i64;
    assert_eq!(x.bytes_sent, 400 * datagram);
    assert_eq!(x.bytes_received, 400 * datagram);
    assert_eq!(x.latency.count, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_payload_is_sent_after_the_sequence_number() {
    let addr = test_server(|_| Act::Echo).await;
    let mut spec = udp(addr).requests(10);
    spec.request.get_or_insert_with(Default::default).body = Some("x".repeat(1000));
    let r = run(&spec).await;
    assert_eq!(r.record.requests_succeeded, 10);
    assert_eq!(r.record.bytes_sent, 10 * (SEQ_LEN as i64 + 1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_datagrams_count_as_lost_exactly() {
    // Every third datagram of the lane is dropped: 30 requests on one socket lose exactly 10.
    let addr = test_server(|seq| if seq % 3 == 0 { Act::Drop } else { Act::Echo }).await;
    let r = run(&with_timeout(udp(addr).requests(30), "100ms")).await;
    let x = &r.record;
    assert_eq!(x.requests_total, 30, "{x:?}");
    assert_eq!(x.requests_succeeded, 20);
    assert_eq!(x.requests_failed, 10);
    assert_eq!(x.errors.get("lost"), Some(&10), "{:?}", x.errors);
    assert_eq!(x.status_codes.get("error"), Some(&10));
    assert_eq!(x.latency.count, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_echo_is_not_taken_for_the_next_answer() {
    // The echo of datagram 2 comes 0.5 s after its 2 s loss timeout, while datagram 3 (answered
    // 1 s late, 1 s before its own timeout) waits: it must be skipped by its sequence number,
    // so exactly 2 is lost and every other datagram matched. Margins of 0.5 s and more keep the
    // counts exact on a loaded machine.
    let addr = test_server(|seq| match seq {
        2 => Act::Late(Duration::from_millis(2500)),
        3 => Act::Late(Duration::from_millis(1000)),
        _ => Act::Echo,
    })
    .await;
    let r = run(&with_timeout(udp(addr).requests(5), "2s")).await;
    let x = &r.record;
    assert_eq!(x.requests_total, 5, "{x:?}");
    assert_eq!(x.errors.get("lost"), Some(&1), "{:?}", x.errors);
    assert_eq!(x.requests_succeeded, 4);
    assert!(!x.errors.contains_key("protocol"), "{:?}", x.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_echo_is_a_protocol_error() {
    let addr = test_server(|seq| if seq == 1 { Act::Corrupt } else { Act::Echo }).await;
    let r = run(&udp(addr).requests(5)).await;
    let x = &r.record;
    assert_eq!(x.errors.get("protocol"), Some(&1), "{:?}", x.errors);
    assert_eq!(x.requests_succeeded, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_ends_with_errors_not_a_hang() {
    // Bind a port and free it: nothing listens there any more.
    let addr = UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let r = run(&with_timeout(udp(addr).requests(5), "200ms")).await;
    let x = &r.record;
    assert_eq!(x.requests_total, 5);
    assert_eq!(x.requests_succeeded, 0);
    // Loopback answers with ICMP port unreachable (refused); a loss if that never arrives.
    let refused = x.errors.get("connectRefused").copied().unwrap_or(0);
    let lost = x.errors.get("lost").copied().unwrap_or(0);
    assert_eq!(refused + lost, 5, "{:?}", x.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_counts_losses_too() {
    let addr = test_server(|seq| if seq % 4 == 0 { Act::Drop } else { Act::Echo }).await;
    let spec = with_timeout(
        udp(addr)
            .load_model(LoadModel::Open)
            .rps(200)
            .connections(1)
            .requests(40),
        "100ms",
    );
    let r = run(&spec).await;
    let x = &r.record;
    // A request count counts answered requests; sends refused while losses hold the socket
    // are dropped on top of them.
    assert_eq!(x.requests_total, 40, "{x:?}");
    assert!(
        x.errors.get("lost").copied().unwrap_or(0) >= 1,
        "{:?}",
        x.errors
    );
    assert_eq!(
        x.requests_succeeded + x.errors.get("lost").copied().unwrap_or(0),
        x.requests_total,
        "{:?}",
        x.errors
    );
    assert!(x.uncorrected_latency.is_some());
}

#[test]
fn an_oversized_payload_is_refused_before_the_run() {
    let mut spec = udp(([127, 0, 0, 1], 9).into()).requests(1);
    spec.request.get_or_insert_with(Default::default).body = Some("x".repeat(65_500));
    // The spec's own inline body limit (64 KiB) may refuse it first; either way a clear error.
    match RunPlan::from_spec(&spec) {
        Err(e) => assert!(e.to_string().contains("64"), "{e}"),
        Ok(plan) => {
            let err = UdpFactory::new(&plan).unwrap_err().to_string();
            assert!(err.contains("65499 bytes of payload"), "{err}");
        }
    }
}

#[test]
fn the_loss_timeout_is_the_request_timeout_or_one_second() {
    let plan = RunPlan::from_spec(&udp(([127, 0, 0, 1], 9).into()).requests(1)).unwrap();
    assert_eq!(
        UdpFactory::new(&plan).unwrap().loss_timeout(),
        Duration::from_secs(1)
    );
    let plan = RunPlan::from_spec(&with_timeout(
        udp(([127, 0, 0, 1], 9).into()).requests(1),
        "250ms",
    ))
    .unwrap();
    assert_eq!(
        UdpFactory::new(&plan).unwrap().loss_timeout(),
        Duration::from_millis(250)
    );
}
