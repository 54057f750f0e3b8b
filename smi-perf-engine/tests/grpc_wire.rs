//! gRPC generator on the wire, against a test gRPC server written here on `h2` (which records
//! what it received) and against the embedded target (h2c and TLS): framing, headers
//! (`content-type: application/grpc`, `te: trailers`, `:path`), gRPC status codes from trailers
//! and from trailers-only answers, the compressed-flag refusal, oversize messages, answers that
//! break the protocol; and exact merging of gRPC status counts and UDP losses across shards
//! (synthetic results). Counts only; no timing assertions.

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Response};
use smi_perf_engine::grpc::{self, GrpcCall, MAX_MESSAGE};
use smi_perf_engine::serve::{ServeOptions, start};
use smi_perf_engine::{
    ErrorKind, HistogramSettings, Outcome, Recorder, Registry, RunContext, RunPlan, RunStats,
    build_result, merge, report, run_plan,
};
use smi_types::perf::{GrpcSpec, LoadModel, PerformanceTestResult, PerformanceTestSpec};
use tokio::net::TcpListener;

async fn run(spec: &PerformanceTestSpec) -> PerformanceTestResult {
    run_checked(spec, RunContext::default(), Duration::from_secs(20)).await
}

fn call(addr: SocketAddr, method: &str, payload: Option<&str>) -> PerformanceTestSpec {
    let mut spec = PerformanceTestSpec::grpc(format!("http://{addr}"));
    spec.grpc = Some(GrpcSpec {
        method: Some(method.into()),
        payload: payload.map(str::to_owned),
        ..Default::default()
    });
    spec
}

/// What the test server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    scheme: Option<String>,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

fn data_frame(flag: u8, len: u32, bytes: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.extend_from_slice(&[flag]);
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(bytes);
    b.freeze()
}

fn grpc_headers(status: u16) -> http::response::Builder {
    Response::builder()
        .status(status)
        .header("content-type", "application/grpc")
}

fn trailers(code: Option<&'static str>) -> HeaderMap {
    let mut t = HeaderMap::new();
    if let Some(c) = code {
        t.insert("grpc-status", HeaderValue::from_static(c));
    }
    t
}

/// Answers by method name (the last `:path` segment) and records every request.
async fn answer(
    req: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<(), h2::Error> {
    let (parts, mut body) = req.into_parts();
    let mut got = BytesMut::new();
    while let Some(c) = body.data().await {
        let c = c?;
        let _ = body.flow_control().release_capacity(c.len());
        got.extend_from_slice(&c);
    }
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        scheme: parts.uri.scheme_str().map(str::to_owned),
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
        body: got.freeze(),
    });
    let name = parts.uri.path().rsplit('/').next().unwrap_or("").to_owned();
    let msg = b"pong";
    match name.as_str() {
        "Ok" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(0, 4, msg), false)?;
            s.send_trailers(trailers(Some("0")))?;
        }
        "Split" => {
            // The prefix and the message cut across four DATA frames.
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            let f = data_frame(0, 4, msg);
            for part in [&f[..2], &f[2..5], &f[5..7], &f[7..]] {
                s.send_data(Bytes::copy_from_slice(part), false)?;
            }
            s.send_trailers(trailers(Some("0")))?;
        }
        "TrailersOnly" => {
            let res = grpc_headers(200)
                .header("grpc-status", "14")
                .header("grpc-message", "down")
                .body(())
                .unwrap();
            respond.send_response(res, true)?;
        }
        "TrailerError" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_trailers(trailers(Some("5")))?;
        }
        "Compressed" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(1, 4, msg), false)?;
            s.send_trailers(trailers(Some("0")))?;
        }
        "Oversize" => {
            // Declares one byte more than the limit; the client must not wait for it all.
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(0, MAX_MESSAGE as u32 + 1, &[0; 1024]), false)?;
            // Keep the stream open: a client that waited for the message would time out.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        "NoStatus" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(0, 4, msg), false)?;
            s.send_trailers(trailers(None))?;
        }
        "TwoMessages" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(0, 4, msg), false)?;
            s.send_data(data_frame(0, 4, msg), false)?;
            s.send_trailers(trailers(Some("0")))?;
        }
        "Truncated" => {
            let mut s = respond.send_response(grpc_headers(200).body(()).unwrap(), false)?;
            s.send_data(data_frame(0, 10, msg), false)?;
            s.send_trailers(trailers(Some("0")))?;
        }
        "Http503" => {
            let res = Response::builder().status(503).body(()).unwrap();
            respond.send_response(res, true)?;
        }
        "NotGrpc" => {
            let res = Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(())
                .unwrap();
            let mut s = respond.send_response(res, false)?;
            s.send_data(Bytes::from_static(b"hello"), true)?;
        }
        "BigCode" => {
            let res = grpc_headers(200)
                .header("grpc-status", "99")
                .body(())
                .unwrap();
            respond.send_response(res, true)?;
        }
        _ => {
            let res = grpc_headers(200)
                .header("grpc-status", "12")
                .body(())
                .unwrap();
            respond.send_response(res, true)?;
        }
    }
    Ok(())
}

/// A test gRPC server (h2c) recording what it receives.
async fn test_server() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(s).await else {
                    return;
                };
                while let Some(Ok((req, respond))) = conn.accept().await {
                    tokio::spawn(answer(req, respond, record.clone()));
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_framed_with_the_grpc_headers() {
    let (addr, seen) = test_server().await;
    // "aGVsbG8=" is base64 for "hello".
    let mut spec = call(addr, "/t.S/Ok", Some("aGVsbG8=")).requests(6);
    spec.connections = Some(1);
    spec.streams_per_connection = Some(3);
    spec.request = Some(smi_types::perf::RequestSpec {
        headers: [("x-tenant".to_owned(), "a".to_owned())].into(),
        ..Default::default()
    });
    let r = run(&spec).await;
    let x = &r.record;
    assert_eq!(x.requests_succeeded, 6, "{x:?}");
    assert_eq!(x.grpc_status_codes.get("0"), Some(&6));
    assert_eq!(x.status_codes.get("200"), Some(&6));
    let seen = seen.lock().unwrap().clone();
    // Warm-up-free request count: every recorded call reached the server (none extra).
    assert_eq!(seen.len(), 6);
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.scheme.as_deref(), Some("http"));
        assert_eq!(s.path, "/t.S/Ok");
        assert_eq!(s.headers["content-type"], "application/grpc");
        assert_eq!(s.headers["te"], "trailers");
        assert_eq!(s.headers["x-tenant"], "a");
        assert!(!s.headers.contains_key("grpc-encoding"));
        assert_eq!(&s.body[..], b"\x00\x00\x00\x00\x05hello");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_call_is_a_health_check() {
    let (addr, seen) = test_server().await;
    let r = run(&PerformanceTestSpec::grpc(addr.to_string()).requests(2)).await;
    // The test server does not implement it: trailers-only UNIMPLEMENTED, counted and failed.
    assert_eq!(r.record.grpc_status_codes.get("12"), Some(&2));
    assert_eq!(r.record.requests_failed, 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].path, "/grpc.health.v1.Health/Check");
    assert_eq!(&seen[0].body[..], b"\x00\x00\x00\x00\x00");
}

/// Runs `n` calls of `method` and returns the result.
async fn outcome_of(addr: SocketAddr, method: &str, n: i64) -> PerformanceTestResult {
    let mut spec = call(addr, &format!("/t.S/{method}"), None).requests(n);
    spec.request = Some(smi_types::perf::RequestSpec {
        timeout: Some(smi_types::perf::Duration::new_unchecked("10s")),
        ..Default::default()
    });
    run(&spec).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_status_codes_are_counted_next_to_http_statuses() {
    let (addr, _) = test_server().await;
    // (method, HTTP status, gRPC status the client counts)
    let cases = [
        ("Ok", "200", "0"),
        ("Split", "200", "0"),
        ("TrailersOnly", "200", "14"),
        ("TrailerError", "200", "5"),
        ("Compressed", "200", "13"),
        ("Oversize", "200", "8"),
        ("NoStatus", "200", "13"),
        ("TwoMessages", "200", "13"),
        ("Truncated", "200", "13"),
        ("Http503", "503", "14"),
        ("NotGrpc", "200", "2"),
        ("BigCode", "200", "2"),
        ("Missing", "200", "12"),
    ];
    for (method, http_status, code) in cases {
        let r = outcome_of(addr, method, 3).await;
        let x = &r.record;
        assert_eq!(x.requests_total, 3, "{method}: {x:?}");
        assert_eq!(
            x.grpc_status_codes.clone().into_iter().collect::<Vec<_>>(),
            vec![(code.to_owned(), 3)],
            "{method}"
        );
        assert_eq!(x.status_codes.get(http_status), Some(&3), "{method}");
        let ok = code == "0";
        assert_eq!(x.requests_succeeded, if ok { 3 } else { 0 }, "{method}");
        assert!(x.errors.is_empty(), "{method}: {:?}", x.errors);
        if !ok {
            let text = report::summary(&r);
            let name = smi_perf_engine::grpc_code_name(code.parse().unwrap());
            assert!(
                text.contains(&format!("gRPC status codes: {code} {name}: 3")),
                "{method}: {text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_target_serves_health_and_echo_over_h2c() {
    let s = start(ServeOptions {
        grpc: Some(([127, 0, 0, 1], 0).into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let addr = s.grpc_addr.unwrap();
    let mut health = PerformanceTestSpec::grpc(format!("grpc://{addr}"))
        .connections(2)
        .requests(200);
    health.streams_per_connection = Some(4);
    let r = run(&health).await;
    assert_eq!(r.record.requests_succeeded, 200, "{:?}", r.record);
    assert_eq!(r.record.grpc_status_codes.get("0"), Some(&200));

    // Echo: 1000 payload bytes each way (base64 of 1000 'a's is 1336 characters).
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD.encode([b'a'; 1000]);
    let r = run(&call(addr, grpc::ECHO, Some(&payload)).requests(50)).await;
    assert_eq!(r.record.requests_succeeded, 50);
    assert!(
        r.record.bytes_received > 50 * 1005,
        "{}",
        r.record.bytes_received
    );

    // An unknown method and an unknown service: UNIMPLEMENTED and NOT_FOUND, trailers-only.
    let r = run(&call(addr, "/x.Y/Z", None).requests(5)).await;
    assert_eq!(r.record.grpc_status_codes.get("12"), Some(&5));
    let mut unknown = PerformanceTestSpec::grpc(addr.to_string()).requests(5);
    unknown.grpc = Some(GrpcSpec {
        service: Some("no.Such".into()),
        health: Some(true),
        ..Default::default()
    });
    let r = run(&unknown).await;
    assert_eq!(r.record.grpc_status_codes.get("5"), Some(&5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_target_serves_grpc_over_tls() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let s = start(ServeOptions {
        grpc_tls: Some(smi_perf_engine::serve::GrpcTls {
            addr: ([127, 0, 0, 1], 0).into(),
            cert_pem: ck.cert.pem().into_bytes(),
            key_pem: ck.signing_key.serialize_pem().into_bytes(),
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let port = s.grpc_tls_addr.unwrap().port();
    let spec = PerformanceTestSpec::grpc(format!("https://localhost:{port}"))
        .connections(2)
        .requests(40);
    let mut plan = RunPlan::from_spec(&spec).unwrap();
    plan.tls.ca_pem = Some(ck.cert.pem().into_bytes());
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        run_plan(
            &Registry::with_builtins(),
            plan,
            "",
            "",
            RunContext::default(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(r.record.requests_succeeded, 40, "{:?}", r.record);
    assert_eq!(r.record.grpc_status_codes.get("0"), Some(&40));
    // Trusting another CA, the handshake fails: a TLS error, not a gRPC status.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let mut plan = RunPlan::from_spec(&spec.clone().requests(2)).unwrap();
    plan.tls.ca_pem = Some(other.cert.pem().into_bytes());
    let r = run_plan(
        &Registry::with_builtins(),
        plan,
        "",
        "",
        RunContext::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.record.errors.get("tls"),
        Some(&2),
        "{:?}",
        r.record.errors
    );
    assert!(r.record.grpc_status_codes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_grpc_counts_every_status() {
    let s = start(ServeOptions {
        grpc: Some(([127, 0, 0, 1], 0).into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let spec = PerformanceTestSpec::grpc(s.grpc_addr.unwrap().to_string())
        .load_model(LoadModel::Open)
        .rps(400)
        .connections(2)
        .requests(100);
    let r = run(&spec).await;
    let x = &r.record;
    assert_eq!(x.requests_total, 100);
    let codes: i64 = x.grpc_status_codes.values().sum();
    let transport: i64 = x.errors.values().sum();
    assert_eq!(codes + transport, 100, "{x:?}");
    assert!(x.uncorrected_latency.is_some());
}

#[test]
fn bad_grpc_specs_are_refused_with_a_reason() {
    let g = |service: Option<&str>, method: Option<&str>, payload: Option<&str>, health| {
        GrpcCall::from_spec(Some(&GrpcSpec {
            service: service.map(Into::into),
            method: method.map(Into::into),
            payload: payload.map(Into::into),
            health,
        }))
        .map_err(|e| e.to_string())
    };
    assert!(g(None, None, None, None).is_ok());
    assert!(
        g(Some("a.B"), None, None, None)
            .unwrap_err()
            .contains("needs a method")
    );
    assert!(
        g(None, Some("M"), None, None)
            .unwrap_err()
            .contains("needs a service")
    );
    assert!(
        g(Some("a.B"), Some("/a.B/M"), None, None)
            .unwrap_err()
            .contains("full path")
    );
    assert!(
        g(None, Some("/a.B/M"), Some("!!"), None)
            .unwrap_err()
            .contains("not base64")
    );
    assert!(
        g(None, Some("M"), Some("aGk="), Some(true))
            .unwrap_err()
            .contains("would be ignored")
    );
    assert!(
        g(None, Some("/a B/M"), None, None)
            .unwrap_err()
            .contains("not /package.Service/Method")
    );
    assert_eq!(
        g(Some("a.B"), None, None, Some(true)).unwrap().message,
        Bytes::from(grpc::health_request("a.B"))
    );
    assert_eq!(g(None, Some("a.B/M"), None, None).unwrap().path, "/a.B/M");

    // Request fields a gRPC call cannot carry are refused, not dropped.
    let mut spec = PerformanceTestSpec::grpc("127.0.0.1:9").requests(1);
    spec.request = Some(smi_types::perf::RequestSpec {
        body: Some("x".into()),
        ..Default::default()
    });
    let plan = RunPlan::from_spec(&spec).unwrap();
    let err = smi_perf_engine::GrpcFactory::new(&plan)
        .unwrap_err()
        .to_string();
    assert!(err.contains("grpc.payload"), "{err}");
    let plan =
        RunPlan::from_spec(&PerformanceTestSpec::grpc("http://127.0.0.1:9/x").requests(1)).unwrap();
    let err = smi_perf_engine::GrpcFactory::new(&plan)
        .unwrap_err()
        .to_string();
    assert!(err.contains("would be ignored"), "{err}");
}

// ---- exact merging of gRPC status counts and UDP losses (synthetic results) ----

fn stats(outcomes: &[(Outcome, u64)]) -> RunStats {
    let mut rec = Recorder::new(HistogramSettings::default(), false);
    for (o, n) in outcomes {
        for i in 0..*n {
            rec.record(*o, Duration::from_micros(100 + i), None);
        }
    }
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    RunStats {
        recorder: rec,
        started_at: start,
        ended_at: start + Duration::from_secs(10),
        measured: Duration::from_secs(10),
        lanes: 1,
    }
}

fn grpc_answer(code: u8) -> Outcome {
    Outcome::Grpc {
        status: 200,
        code,
        sent: 30,
        received: 40,
    }
}

#[test]
fn grpc_status_counts_merge_exactly_across_shards() {
    let spec = PerformanceTestSpec::grpc("127.0.0.1:9").duration("10s");
    let a = build_result(
        "a",
        "t",
        &spec,
        &stats(&[
            (grpc_answer(0), 70),
            (grpc_answer(14), 3),
            (grpc_answer(99), 1),
        ]),
        "builtin",
    )
    .unwrap();
    let b = build_result(
        "b",
        "t",
        &spec,
        &stats(&[
            (grpc_answer(0), 50),
            (grpc_answer(14), 2),
            (grpc_answer(5), 4),
            (
                Outcome::Error {
                    kind: ErrorKind::Reset,
                    sent: 0,
                },
                6,
            ),
        ]),
        "builtin",
    )
    .unwrap();
    // A code outside 0–16 is counted as UNKNOWN (2).
    assert_eq!(a.record.grpc_status_codes.get("2"), Some(&1));
    let m = merge(&[a.clone(), b.clone()]).unwrap();
    let x = &m.record;
    let expect: Vec<(String, i64)> = [("0", 120), ("14", 5), ("2", 1), ("5", 4)]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    assert_eq!(
        x.grpc_status_codes.clone().into_iter().collect::<Vec<_>>(),
        expect
    );
    assert_eq!(x.requests_total, 74 + 62);
    assert_eq!(x.requests_succeeded, 120);
    assert_eq!(x.status_codes.get("200"), Some(&130));
    assert_eq!(x.status_codes.get("error"), Some(&6));
    assert_eq!(x.per_client.len(), 2);
    assert_eq!(
        x.per_client[0].grpc_status_codes,
        a.record.grpc_status_codes
    );
    assert_eq!(
        x.per_client[1].grpc_status_codes,
        b.record.grpc_status_codes
    );
    assert!(
        m.consistency_errors().is_empty(),
        "{:?}",
        m.consistency_errors()
    );
    // A merged result merges again with a third shard: the counts add up, nothing is lost.
    let c = build_result("c", "t", &spec, &stats(&[(grpc_answer(14), 7)]), "builtin").unwrap();
    let again = merge(&[m, c]).unwrap();
    assert_eq!(again.record.grpc_status_codes.get("14"), Some(&12));
    assert_eq!(again.record.per_client.len(), 3);
    // A file whose gRPC counts exceed its requests is refused before merging.
    let mut bad = b;
    bad.record.grpc_status_codes.insert("0".into(), 1_000);
    assert!(
        merge(&[bad])
            .unwrap_err()
            .to_string()
            .contains("grpcStatusCodes")
    );
}

#[test]
fn udp_losses_merge_exactly_across_shards() {
    let spec = PerformanceTestSpec::new(smi_types::perf::Protocol::Udp, "udp://127.0.0.1:9")
        .duration("10s");
    let echo = Outcome::Response {
        status: 200,
        sent: 22,
        received: 22,
    };
    let lost = Outcome::Error {
        kind: ErrorKind::Lost,
        sent: 22,
    };
    let a = build_result(
        "a",
        "t",
        &spec,
        &stats(&[(echo, 90), (lost, 10)]),
        "builtin",
    )
    .unwrap();
    let b = build_result("b", "t", &spec, &stats(&[(echo, 97), (lost, 3)]), "builtin").unwrap();
    assert_eq!(a.record.errors.get("lost"), Some(&10));
    let m = merge(&[a, b]).unwrap();
    assert_eq!(m.record.errors.get("lost"), Some(&13));
    assert_eq!(m.record.requests_failed, 13);
    assert_eq!(m.record.requests_succeeded, 187);
    assert_eq!(m.record.bytes_sent, 200 * 22);
    assert_eq!(m.record.bytes_received, 187 * 22);
    assert!(report::summary(&m).contains("lost: 13"));
}
