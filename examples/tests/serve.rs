//! The shared server helper: limits and stop conditions, over TLS and plain HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use examples::serve::{self, Handler, Limits, Reply, Stopped};
use examples::tls::{self, SelfSigned};

fn echo() -> Handler {
    Arc::new(|path: &str, body: Bytes| {
        Reply::json(&serde_json::json!({"path": path, "len": body.len()}))
    })
}

#[tokio::test]
async fn answers_over_tls_until_the_request_limit() {
    let cert = SelfSigned::generate(&tls::default_names()).unwrap();
    let listener = serve::bind(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        max_requests: Some(2),
        exit_after: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let server = tokio::spawn(serve::run(
        listener,
        Some(cert.server_config().unwrap()),
        echo(),
        limits,
    ));

    let pem = Some(cert.cert_pem.as_bytes());
    for path in ["/a", "/b"] {
        let (status, body) = serve::post_json(addr, pem, path, b"{\"x\":1}".to_vec())
            .await
            .unwrap();
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (v["path"].as_str(), v["len"].as_u64()),
            (Some(path), Some(7))
        );
    }
    let stopped = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stops after 2 requests")
        .unwrap();
    assert_eq!(stopped, Stopped::RequestLimit);
    assert!(
        serve::post_json(addr, pem, "/a", b"{}".to_vec())
            .await
            .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn caps_bodies_and_stops_when_time_is_up() {
    let listener = serve::bind(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        max_body: 16,
        exit_after: Some(Duration::from_millis(500)),
        ..Limits::default()
    };
    let started = Instant::now();
    let server = tokio::spawn(serve::run(listener, None, echo(), limits));

    let (status, body) = serve::post_json(addr, None, "/", vec![b' '; 17])
        .await
        .unwrap();
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    let (status, _) = serve::post_json(addr, None, "/", vec![b' '; 16])
        .await
        .unwrap();
    assert_eq!(status, 200);

    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap(),
        Stopped::TimeUp
    );
    assert!(started.elapsed() >= Duration::from_millis(500));
}

/// The API server speaks HTTP/2 to webhooks when ALPN offers it.
#[tokio::test]
async fn speaks_http2_when_alpn_picks_it() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let cert = SelfSigned::generate(&tls::default_names()).unwrap();
    let listener = serve::bind(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        exit_after: Some(Duration::from_secs(30)),
        max_requests: Some(1),
        ..Limits::default()
    };
    let server = tokio::spawn(serve::run(
        listener,
        Some(cert.server_config().unwrap()),
        echo(),
        limits,
    ));

    let mut config = (*tls::client_config(cert.cert_pem.as_bytes()).unwrap()).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(rustls::pki_types::ServerName::from(addr.ip()), tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = hyper::Request::post(format!("https://{addr}/validate"))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.version(), hyper::Version::HTTP_2);
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["path"],
        "/validate"
    );
    drop(sender);
    conn.abort();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap(),
        Stopped::RequestLimit
    );
}
