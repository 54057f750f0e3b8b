//! HTTP/1.1 and HTTP/2 over TLS (ALPN) against a self-signed loopback server.
#![cfg(feature = "tls")]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use smi_perf_engine::{Registry, RunContext, RunPlan, run_plan};
use smi_types::perf::{PerformanceTestResult, PerformanceTestSpec, TlsSpec};
use tokio::net::TcpListener;

/// Starts a TLS server (ALPN h2 + http/1.1) for `localhost`; returns its port and CA PEM.
async fn tls_server() -> (u16, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = ck.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(s).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, pem)
}

async fn run(spec: PerformanceTestSpec, ca: Option<&str>) -> PerformanceTestResult {
    let mut plan = RunPlan::from_spec(&spec).unwrap();
    plan.tls.ca_pem = ca.map(|c| c.as_bytes().to_vec());
    tokio::time::timeout(
        Duration::from_secs(10),
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
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_and_h2_over_tls_with_alpn() {
    let (port, ca) = tls_server().await;
    let url = format!("https://localhost:{port}/");
    let h1 = run(
        PerformanceTestSpec::http(&url).connections(2).requests(50),
        Some(&ca),
    )
    .await;
    assert_eq!(h1.record.requests_succeeded, 50, "{:?}", h1.record.errors);
    let h2 = run(
        PerformanceTestSpec::http2(&url)
            .connections(1)
            .streams_per_connection(4)
            .requests(50),
        Some(&ca),
    )
    .await;
    assert_eq!(h2.record.requests_succeeded, 50, "{:?}", h2.record.errors);
    let mut insecure = PerformanceTestSpec::http2(&url).requests(10);
    insecure.tls = Some(TlsSpec {
        insecure_skip_verify: Some(true),
        ..Default::default()
    });
    let r = run(insecure, None).await;
    assert_eq!(r.record.requests_succeeded, 10, "{:?}", r.record.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_ca_is_a_tls_error() {
    let (port, _) = tls_server().await;
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .unwrap()
        .cert
        .pem();
    let r = run(
        PerformanceTestSpec::http(format!("https://localhost:{port}/")).requests(5),
        Some(&other),
    )
    .await;
    assert_eq!(
        r.record.errors.get("tls").copied(),
        Some(5),
        "{:?}",
        r.record.errors
    );
}
