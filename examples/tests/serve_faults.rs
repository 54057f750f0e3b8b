//! The shared server against faulty and hostile clients: idle and slow connections, a burst at
//! the connection cap, a panicking handler, and draining on stop. Every wait is bounded; the
//! assertions are about what happened (closed, answered, status), never about how fast.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use examples::serve::{self, Handler, Limits, Reply, Stopped};
use examples::tls::{self, SelfSigned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound for anything the server should do "soon"; the timeouts under test are
/// 300 ms, and the server's own defaults are 10 s and more.
const SOON: Duration = Duration::from_secs(5);

fn echo() -> Handler {
    Arc::new(|path: &str, body: Bytes| {
        if path == "/panic" {
            panic!("handler bug");
        }
        Reply::json(&serde_json::json!({"path": path, "len": body.len()}))
    })
}

fn short() -> Limits {
    Limits {
        handshake_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        exit_after: Some(Duration::from_secs(60)),
        ..Limits::default()
    }
}

async fn start(
    tls: Option<&SelfSigned>,
    limits: Limits,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<Stopped>) {
    let listener = serve::bind(0).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls.map(|c| c.server_config().unwrap());
    (
        addr,
        tokio::spawn(serve::run(listener, config, echo(), limits)),
    )
}

/// Reads until the peer closes; returns what it sent. Fails if it stays open past [`SOON`].
async fn read_until_closed(mut io: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(SOON, async {
        let mut buf = [0u8; 4096];
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    got
}

async fn tls_connect(
    addr: std::net::SocketAddr,
    cert: &SelfSigned,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector =
        tokio_rustls::TlsConnector::from(tls::client_config(cert.cert_pem.as_bytes()).unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    connector
        .connect(rustls::pki_types::ServerName::from(addr.ip()), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let (addr, _server) = start(None, short()).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    assert!(read_until_closed(tcp).await.is_empty());
}

#[tokio::test]
async fn a_tls_handshake_that_never_starts_or_ends_is_closed() {
    let cert = SelfSigned::generate(&tls::default_names()).unwrap();
    let (addr, _server) = start(Some(&cert), short()).await;
    // never starts
    let tcp = TcpStream::connect(addr).await.unwrap();
    read_until_closed(tcp).await;
    // starts with a truncated ClientHello record, then silence
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    read_until_closed(tcp).await;
    // finishes the handshake, then never sends a request
    let stream = tls_connect(addr, &cert).await;
    read_until_closed(stream).await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let (addr, _server) = start(None, short()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /a HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    read_until_closed(tcp).await;
}

#[tokio::test]
async fn a_slow_body_gets_408() {
    let (addr, _server) = start(None, short()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let got = read_until_closed(tcp).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("did not arrive within 300ms"), "{got}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let (addr, _server) = start(None, short()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let got = read_until_closed(tcp).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let cert = SelfSigned::generate(&tls::default_names()).unwrap();
    let (addr, _server) = start(Some(&cert), short()).await;
    let mut config = (*tls::client_config(cert.cert_pem.as_bytes()).unwrap()).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(rustls::pki_types::ServerName::from(addr.ip()), tcp)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let mut conn = tokio::spawn(conn);
    let req = hyper::Request::post(format!("https://{addr}/a"))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    res.into_body().collect().await.unwrap();
    // the client keeps the connection (and `sender`); the server closes it once idle
    assert!(
        tokio::time::timeout(SOON, &mut conn).await.is_ok(),
        "the HTTP/2 connection stayed open"
    );
    drop(sender);
}

/// 256 connections opened at once and left silent (bare TCP, and TLS done then silence) must
/// not lock real requests out: at the cap, the connection idle the longest makes room.
#[tokio::test]
async fn idle_connections_cannot_hold_the_cap() {
    let cert = SelfSigned::generate(&tls::default_names()).unwrap();
    // the server's default timeouts (10 s, 60 s) are longer than the client's 10 s: only
    // eviction can let the reviews through
    let limits = Limits {
        exit_after: Some(Duration::from_secs(120)),
        ..Limits::default()
    };
    let cap = limits.max_connections;
    let (addr, _server) = start(Some(&cert), limits).await;
    let mut idle = Vec::new();
    for _ in 0..cap / 2 {
        idle.push(Box::new(TcpStream::connect(addr).await.unwrap()) as Box<dyn Send + Unpin>);
    }
    for _ in 0..cap / 2 {
        idle.push(Box::new(tls_connect(addr, &cert).await));
    }
    let pem = Some(cert.cert_pem.as_bytes());
    for path in ["/one", "/two", "/three"] {
        let (status, body) = serve::post_json(addr, pem, path, b"{}".to_vec())
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    drop(idle);

    // the same in plain HTTP (`--plain-http`)
    let (addr, _server) = start(None, Limits::default()).await;
    let mut idle = Vec::new();
    for _ in 0..cap {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let (status, _) = serve::post_json(addr, None, "/plain", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// With a small cap, connection after connection is served: the first one after a burst at
/// the cap used to be dropped while the finished ones were still counted.
#[tokio::test]
async fn every_connection_after_a_burst_at_the_cap_is_served() {
    let limits = Limits {
        max_connections: 4,
        exit_after: Some(Duration::from_secs(60)),
        ..Limits::default()
    };
    let (addr, _server) = start(None, limits).await;
    for i in 0..40 {
        let (status, _) = serve::post_json(addr, None, "/", b"{}".to_vec())
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(status, 200, "request {i}");
    }
    // and in a burst of 12 at once over a cap of 4
    let burst: Vec<_> = (0..12)
        .map(|_| tokio::spawn(serve::post_json(addr, None, "/", b"{}".to_vec())))
        .collect();
    for (i, r) in burst.into_iter().enumerate() {
        let (status, _) = r
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("burst {i}: {e}"));
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_goes_on() {
    let (addr, _server) = start(None, short()).await;
    let (status, body) = serve::post_json(addr, None, "/panic", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    let (status, _) = serve::post_json(addr, None, "/fine", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// On stop, the request in flight is answered, new connections are refused, and the server
/// returns once it is done.
#[tokio::test]
async fn stopping_drains_the_request_in_flight() {
    let limits = Limits {
        exit_after: Some(Duration::from_millis(300)),
        ..Limits::default()
    };
    let (addr, server) = start(None, limits).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /late HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n{}")
        .await
        .unwrap();
    // wait until the server has stopped accepting (the time limit passed)
    let refused = tokio::time::timeout(SOON, async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if TcpStream::connect(addr).await.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(refused.is_ok(), "still accepting after the time limit");
    tcp.write_all(b"  ").await.unwrap();
    let got = read_until_closed(tcp).await;
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains(r#""path":"/late""#), "{got}");
    assert_eq!(
        tokio::time::timeout(SOON, server).await.unwrap().unwrap(),
        Stopped::TimeUp
    );
}
