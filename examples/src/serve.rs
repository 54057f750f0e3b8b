//! A small JSON-over-HTTPS server for webhook handlers, and a one-shot client to call it.
//!
//! The server speaks HTTP/1.1 and HTTP/2 (hyper-util's `auto` builder; the API server may use
//! either), over TLS or, for local tests, plain TCP. It only binds loopback here, and it is
//! bounded: request bodies are capped, slow handshakes and headers time out, the number of open
//! connections is capped, and it stops on Ctrl-C, after [`Limits::exit_after`] or after
//! [`Limits::max_requests`].
//!
//! Routes: `POST <any path>` goes to the [`Handler`]; `GET /healthz` answers `ok` (for
//! readiness probes); anything else is `405`.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// A handler's answer: a status and a JSON body.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: Vec<u8>,
}

impl Reply {
    /// `200 OK` with `value` as JSON.
    pub fn json<T: serde::Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status: StatusCode::OK,
                body,
            },
            Err(e) => Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot encode the answer: {e}"),
            ),
        }
    }

    /// An error status with `{"error": message}`.
    pub fn error(status: StatusCode, message: &str) -> Reply {
        Reply {
            status,
            body: serde_json::json!({ "error": message })
                .to_string()
                .into_bytes(),
        }
    }
}

/// Handles one POST: the URL path and the whole body in, a [`Reply`] out.
pub type Handler = Arc<dyn Fn(&str, Bytes) -> Reply + Send + Sync>;

/// Bounds of one server run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body accepted (default 3 MiB, the API server's own request limit).
    pub max_body: usize,
    /// Stop after answering this many POSTs (default: no limit).
    pub max_requests: Option<u64>,
    /// Stop after this long (default: no limit; Ctrl-C always stops).
    pub exit_after: Option<Duration>,
    /// Time allowed for the TLS handshake and for the request headers (default 10 s).
    pub handshake_timeout: Duration,
    /// Connections served at once; more are closed on accept (default 256).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 3 * 1024 * 1024,
            max_requests: None,
            exit_after: None,
            handshake_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Ctrl-C (SIGINT).
    Interrupted,
    /// [`Limits::exit_after`] elapsed.
    TimeUp,
    /// [`Limits::max_requests`] were answered.
    RequestLimit,
}

/// Binds `127.0.0.1:port` (`0` = an ephemeral port; read it back with `local_addr`).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

struct Shared {
    handler: Handler,
    limits: Limits,
    answered: AtomicU64,
    limit_reached: Notify,
}

/// Serves `handler` on `listener` until a stop condition of `limits` (or Ctrl-C). With `tls`,
/// every connection is TLS (ALPN picks HTTP/2 or HTTP/1.1); without, plain HTTP.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    handler: Handler,
    limits: Limits,
) -> Stopped {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let deadline = tokio::time::Instant::now() + limits.exit_after.unwrap_or(far);
    let shared = Arc::new(Shared {
        handler,
        limits,
        answered: AtomicU64::new(0),
        limit_reached: Notify::new(),
    });
    let mut conns = JoinSet::new();
    let stopped = loop {
        while conns.try_join_next().is_some() {} // reap finished connections
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // e.g. out of file descriptors: back off instead of spinning
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue }
            },
            _ = tokio::signal::ctrl_c() => break Stopped::Interrupted,
            _ = tokio::time::sleep_until(deadline) => break Stopped::TimeUp,
            _ = shared.limit_reached.notified() => break Stopped::RequestLimit,
        };
        if conns.len() >= shared.limits.max_connections {
            continue; // dropping the stream closes it
        }
        let (shared, acceptor) = (shared.clone(), acceptor.clone());
        conns.spawn(async move {
            let _ = stream.set_nodelay(true);
            match acceptor {
                Some(a) => {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(shared.limits.handshake_timeout, a.accept(stream))
                            .await
                    {
                        serve_connection(tls, shared).await;
                    }
                }
                None => serve_connection(stream, shared).await,
            }
        });
    };
    // Let answers in flight finish, briefly; then close everything.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    stopped
}

async fn serve_connection<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: I,
    shared: Arc<Shared>,
) {
    let header_timeout = shared.limits.handshake_timeout;
    let svc = service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(answer(req, &shared).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let _ = builder.serve_connection(TokioIo::new(io), svc).await;
}

async fn answer(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let reply = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => Reply {
            status: StatusCode::OK,
            body: b"ok".to_vec(),
        },
        (&Method::POST, _) => {
            let path = req.uri().path().to_owned();
            match Limited::new(req.into_body(), shared.limits.max_body)
                .collect()
                .await
            {
                Ok(body) => {
                    let reply = (shared.handler)(&path, body.to_bytes());
                    let n = shared.answered.fetch_add(1, Ordering::Relaxed) + 1;
                    if shared.limits.max_requests.is_some_and(|max| n >= max) {
                        shared.limit_reached.notify_one();
                    }
                    reply
                }
                Err(e) => Reply::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("cannot read the body: {e}"),
                ),
            }
        }
        _ => Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a review, or GET /healthz",
        ),
    };
    let mut res = Response::new(Full::new(Bytes::from(reply.body)));
    *res.status_mut() = reply.status;
    res.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    res
}

/// Why [`post_json`] failed.
pub type ClientError = Box<dyn std::error::Error + Send + Sync>;

/// POSTs `body` as JSON to `addr` + `path` and returns the status and the response body.
/// With `ca_pem`, over TLS trusting only those certificates (the server name is the address's
/// IP, which [`crate::tls::default_names`] certificates carry); without, plain HTTP/1.1.
/// Gives up after 10 s.
pub async fn post_json(
    addr: SocketAddr,
    ca_pem: Option<&[u8]>,
    path: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, Bytes), ClientError> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let tcp = TcpStream::connect(addr).await?;
        match ca_pem {
            Some(pem) => {
                let connector = tokio_rustls::TlsConnector::from(crate::tls::client_config(pem)?);
                let tls = connector
                    .connect(rustls::pki_types::ServerName::from(addr.ip()), tcp)
                    .await?;
                exchange(tls, addr, path, body).await
            }
            None => exchange(tcp, addr, path, body).await,
        }
    })
    .await
    .map_err(|_| "no answer within 10 s")?
}

async fn exchange<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: I,
    addr: SocketAddr,
    path: &str,
    body: Vec<u8>,
) -> Result<(StatusCode, Bytes), ClientError> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    let conn = tokio::spawn(conn);
    let req = Request::post(path)
        .header(hyper::header::HOST, addr.to_string())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let bytes = res.into_body().collect().await?.to_bytes();
    conn.abort();
    Ok((status, bytes))
}
