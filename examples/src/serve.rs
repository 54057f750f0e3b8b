//! A small JSON-over-HTTPS server for webhook handlers, and a one-shot client to call it.
//!
//! The server speaks HTTP/1.1 and HTTP/2 (hyper-util's `auto` builder; the API server may use
//! either), over TLS or, for local tests, plain TCP. It only binds loopback here, and every
//! resource a client can hold is bounded ([`Limits`], defaults in brackets):
//!
//! | what a client does | what the server does |
//! |---|---|
//! | connects and never finishes the TLS handshake, or never sends a request | closed [`handshake_timeout`](Limits::handshake_timeout) (10 s) after accept |
//! | sends headers slowly | closed after [`handshake_timeout`](Limits::handshake_timeout) (HTTP/1.1 header read timeout) |
//! | sends the body slowly | `408` after [`body_timeout`](Limits::body_timeout) (10 s) |
//! | sends a body that is too large | `413` past [`max_body`](Limits::max_body) (3 MiB) |
//! | keeps a connection open between requests (HTTP/1.1 keep-alive, HTTP/2) | closed after [`idle_timeout`](Limits::idle_timeout) (60 s) without a request |
//! | opens more than [`max_connections`](Limits::max_connections) (256) | the connection idle the longest is closed to make room; a connection with a request in flight never is |
//! | sends many requests at once | at most [`max_in_flight`](Limits::max_in_flight) (64) are read and handled at once; the others wait (within their body timeout) |
//!
//! It stops on SIGINT or SIGTERM, after [`Limits::exit_after`] or after [`Limits::max_requests`],
//! and then drains: it stops accepting, asks every connection to close (HTTP/2 `GOAWAY`,
//! HTTP/1.1 `Connection: close`), and lets requests in flight finish for up to
//! [`Limits::drain_timeout`] (10 s).
//!
//! The handler runs on tokio's blocking pool; if it panics, the client gets a `500` and the
//! server keeps serving. [`log`] writes a line to stderr and never fails (a closed stderr must
//! not fail reviews); [`Clean`] escapes what a client sent before it reaches a log line.
//!
//! Routes: `POST <any path>` goes to the [`Handler`]; `GET /healthz` answers `ok` (for
//! readiness probes); anything else is `405`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

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

/// Describes why a request body is not the JSON expected, naming serde_json's nesting limit
/// (128 levels) where its own message ("recursion limit exceeded") names none.
///
/// ```
/// let deep = "[".repeat(200);
/// let e = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
/// assert!(examples::serve::json_error(&e).contains("limit of 128 levels"));
/// ```
pub fn json_error(e: &serde_json::Error) -> String {
    if e.to_string().starts_with("recursion limit exceeded") {
        format!(
            "nesting deeper than serde_json's limit of 128 levels at line {} column {}",
            e.line(),
            e.column()
        )
    } else {
        e.to_string()
    }
}

/// Handles one POST: the URL path and the whole body in, a [`Reply`] out.
pub type Handler = Arc<dyn Fn(&str, Bytes) -> Reply + Send + Sync>;

/// Bounds of one server run. Build it with `..Limits::default()` and change what you need.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body accepted (default 3 MiB, the API server's own request limit);
    /// larger bodies get `413`.
    pub max_body: usize,
    /// Stop after answering this many POSTs (default: no limit).
    pub max_requests: Option<u64>,
    /// Stop after this long (default: no limit; SIGINT and SIGTERM always stop).
    pub exit_after: Option<Duration>,
    /// Time from accept to the first request's headers, the TLS handshake included; also the
    /// HTTP/1.1 read timeout for the headers of each later request (default 10 s).
    pub handshake_timeout: Duration,
    /// Time to receive a request body, waiting for a handling slot
    /// ([`max_in_flight`](Self::max_in_flight)) included; after it, `408` (default 10 s).
    pub body_timeout: Duration,
    /// A connection with no request in flight for this long is closed, HTTP/1.1 keep-alive and
    /// HTTP/2 alike (default 60 s).
    pub idle_timeout: Duration,
    /// Connections open at once (default 256). At the cap, the connection idle the longest is
    /// closed to make room for the new one; connections with a request in flight are never
    /// closed for that, and when all of them are busy for
    /// [`handshake_timeout`](Self::handshake_timeout), the new connection is closed.
    pub max_connections: usize,
    /// Requests read and handled at once, over all connections (default 64); this bounds the
    /// memory bodies take to `max_in_flight × max_body`.
    pub max_in_flight: usize,
    /// After a stop, how long requests in flight may take to finish (default 10 s).
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 3 * 1024 * 1024,
            max_requests: None,
            exit_after: None,
            handshake_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_in_flight: 64,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// SIGINT (Ctrl-C).
    Interrupted,
    /// SIGTERM (what Kubernetes sends a pod it stops).
    Terminated,
    /// [`Limits::exit_after`] elapsed.
    TimeUp,
    /// [`Limits::max_requests`] were answered.
    RequestLimit,
}

/// Binds `127.0.0.1:port` (`0` = an ephemeral port; read it back with `local_addr`).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
}

/// Writes `line` and a newline to stderr. A failed write (stderr closed or full) is ignored:
/// logging must never fail the request being logged.
///
/// ```
/// examples::serve::log(format_args!("review {} allowed", examples::serve::Clean("abc")));
/// ```
pub fn log(line: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

/// Displays a string a client sent so it is safe in a one-line log: control characters
/// (newlines, escape sequences) and invisible formatting characters (bidi overrides,
/// zero-width) are written as `\u{..}` escapes, a backslash as `\\`, and the text is clipped
/// to [`Clean::MAX_CHARS`] characters.
///
/// ```
/// use examples::serve::Clean;
/// assert_eq!(Clean("a\nb\x1b[31m").to_string(), r"a\u{a}b\u{1b}[31m");
/// assert!(Clean(&"x".repeat(1000)).to_string().ends_with("… (800 more bytes)"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Clean<'a>(pub &'a str);

impl Clean<'_> {
    /// Characters shown before the rest is clipped.
    pub const MAX_CHARS: usize = 200;
}

fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        for (n, (at, c)) in self.0.char_indices().enumerate() {
            if n == Self::MAX_CHARS {
                return write!(f, "… ({} more bytes)", self.0.len() - at);
            }
            match c {
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() || invisible(c) => write!(f, "{}", c.escape_unicode())?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A connection closed for being idle (or evicted) gets this long to close by itself before it
/// is dropped; one with a request in flight gets [`Limits::drain_timeout`].
const GRACE: Duration = Duration::from_secs(1);

/// A connection is evicted at the cap only after it has been idle this long (a connection
/// accepted a moment ago has simply not sent its request yet).
const MIN_IDLE_TO_EVICT: Duration = Duration::from_millis(500);

/// While a new connection waits at the cap, another idle connection is evicted this often.
const EVICT_EVERY: Duration = Duration::from_millis(100);

struct Shared {
    handler: Handler,
    limits: Limits,
    answered: AtomicU64,
    limit_reached: Notify,
    /// [`Limits::max_in_flight`] slots.
    handling: Arc<Semaphore>,
    /// Open connections, for eviction at the cap.
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks the connection idle the longest (and at least [`MIN_IDLE_TO_EVICT`]) to close.
    fn evict_idlest(&self) {
        let Some(idle_before) = Instant::now().checked_sub(MIN_IDLE_TO_EVICT) else {
            return;
        };
        let conns = self.conns();
        let idlest = conns
            .values()
            .filter(|c| c.requests.load(Ordering::SeqCst) == 0 && !c.evicted.load(Ordering::SeqCst))
            .map(|c| (c.idle_since(), c))
            .filter(|(since, _)| *since <= idle_before)
            .min_by_key(|(since, _)| *since)
            .map(|(_, c)| c);
        if let Some(conn) = idlest {
            conn.evicted.store(true, Ordering::SeqCst);
            conn.evict.notify_one();
        }
    }
}

/// One connection's state, read by its watchdog and by eviction.
struct Conn {
    /// Requests in flight.
    requests: AtomicUsize,
    /// Whether a request was ever received.
    served: AtomicBool,
    /// Accept time, then the end of the last request.
    idle_since: Mutex<Instant>,
    /// A request started or ended.
    changed: Notify,
    evict: Notify,
    evicted: AtomicBool,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            requests: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
            changed: Notify::new(),
            evict: Notify::new(),
            evicted: AtomicBool::new(false),
        }
    }

    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn start(self: &Arc<Self>) -> InFlight {
        self.served.store(true, Ordering::SeqCst);
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_one();
        InFlight(self.clone())
    }
}

/// A request in flight on a connection; dropping it ends the request.
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        self.0.requests.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_one();
    }
}

/// Removes a connection from [`Shared::conns`] when its task ends.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.conns().remove(&self.id);
    }
}

/// Resolves when a connection should close: idle past its timeout, evicted, or the server stops.
async fn watchdog(conn: &Conn, limits: &Limits, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() || conn.evicted.load(Ordering::SeqCst) {
            return;
        }
        let deadline = (conn.requests.load(Ordering::SeqCst) == 0).then(|| {
            let timeout = if conn.served.load(Ordering::SeqCst) {
                limits.idle_timeout
            } else {
                limits.handshake_timeout
            };
            conn.idle_since() + timeout
        });
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return;
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = conn.changed.notified() => {}
            _ = conn.evict.notified() => return,
            r = shutdown.changed() => if r.is_err() { return },
            _ = sleep => {}
        }
    }
}

/// Registers the stop signals now (so a SIGTERM right after start is not the default action)
/// and resolves with the first stop condition.
fn stop_condition(deadline: Instant, shared: Arc<Shared>) -> impl Future<Output = Stopped> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        let (interrupt, terminate) = (
            async {
                match interrupt.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            },
            async {
                match terminate.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            },
        );
        #[cfg(not(unix))]
        let (interrupt, terminate) = (
            async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await
                }
            },
            std::future::pending::<()>(),
        );
        tokio::select! {
            _ = interrupt => Stopped::Interrupted,
            _ = terminate => Stopped::Terminated,
            _ = tokio::time::sleep_until(deadline) => Stopped::TimeUp,
            _ = shared.limit_reached.notified() => Stopped::RequestLimit,
        }
    }
}

/// Serves `handler` on `listener` until a stop condition of `limits` (or SIGINT/SIGTERM), then
/// drains (see the [module docs](self)). With `tls`, every connection is TLS (ALPN picks
/// HTTP/2 or HTTP/1.1); without, plain HTTP.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    handler: Handler,
    limits: Limits,
) -> Stopped {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let deadline = Instant::now() + limits.exit_after.unwrap_or(far);
    let (shutdown_tx, shutdown) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let shared = Arc::new(Shared {
        handler,
        handling: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
        limits,
        answered: AtomicU64::new(0),
        limit_reached: Notify::new(),
        conns: Mutex::new(HashMap::new()),
        shutdown,
    });
    let mut stop = pin!(stop_condition(deadline, shared.clone()));
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    let stopped = 'accept: loop {
        while tasks.try_join_next().is_some() {} // reap finished connections
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // e.g. out of file descriptors: back off instead of spinning
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue }
            },
            s = &mut stop => break 'accept s,
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            // At the cap: an idle connection makes room (its slot frees when it closes).
            Err(_) => {
                let give_up = Instant::now() + shared.limits.handshake_timeout;
                loop {
                    shared.evict_idlest();
                    tokio::select! {
                        p = tokio::time::timeout(EVICT_EVERY, slots.clone().acquire_owned()) => match p {
                            Ok(p) => break p.ok(),
                            Err(_) if Instant::now() >= give_up => break None,
                            Err(_) => {}
                        },
                        s = &mut stop => break 'accept s,
                    }
                }
            }
        };
        // Every connection was busy with a request all along: this one is closed.
        let Some(permit) = permit else { continue };
        next_id += 1;
        let conn = Arc::new(Conn::new());
        shared.conns().insert(next_id, conn.clone());
        let registered = Registered {
            shared: shared.clone(),
            id: next_id,
        };
        tasks.spawn(connection(
            stream,
            acceptor.clone(),
            conn,
            registered,
            permit,
        ));
    };
    // Stop accepting, ask every connection to close, let requests in flight finish.
    drop(listener);
    let _ = shutdown_tx.send(true);
    let drain = shared.limits.drain_timeout + GRACE;
    let _ = tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    stopped
}

async fn connection(
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    conn: Arc<Conn>,
    registered: Registered,
    _slot: OwnedSemaphorePermit,
) {
    let shared = registered.shared.clone();
    let _ = stream.set_nodelay(true);
    let mut dog = pin!(watchdog(&conn, &shared.limits, shared.shutdown.clone()));
    match acceptor {
        Some(a) => {
            let tls = tokio::select! {
                r = a.accept(stream) => match r { Ok(tls) => tls, Err(_) => return },
                () = &mut dog => return, // no handshake within handshake_timeout
            };
            serve_connection(tls, &shared, &conn, dog).await;
        }
        None => serve_connection(stream, &shared, &conn, dog).await,
    }
}

async fn serve_connection<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: I,
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    mut dog: std::pin::Pin<&mut impl Future<Output = ()>>,
) {
    let svc = {
        let (shared, conn) = (shared.clone(), conn.clone());
        service_fn(move |req: Request<Incoming>| {
            let (shared, conn) = (shared.clone(), conn.clone());
            async move {
                let _in_flight = conn.start();
                Ok::<_, Infallible>(answer(req, &shared).await)
            }
        })
    };
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.handshake_timeout);
    builder.http2().timer(TokioTimer::new());
    let mut served = pin!(builder.serve_connection(TokioIo::new(io), svc));
    tokio::select! {
        _ = served.as_mut() => return,
        () = dog.as_mut() => {}
    }
    // Idle past its timeout, evicted, or the server stops: HTTP/2 GOAWAY, HTTP/1.1 close.
    served.as_mut().graceful_shutdown();
    let drain_end = Instant::now() + shared.limits.drain_timeout;
    loop {
        let step = (Instant::now() + GRACE).min(drain_end);
        tokio::select! {
            _ = served.as_mut() => return,
            () = tokio::time::sleep_until(step) => {
                if step >= drain_end || conn.requests.load(Ordering::SeqCst) == 0 {
                    return; // dropped: nothing in flight, or out of time
                }
            }
        }
    }
}

async fn answer(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let reply = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => Reply {
            status: StatusCode::OK,
            body: b"ok".to_vec(),
        },
        (&Method::POST, _) => {
            let path = req.uri().path().to_owned();
            let limits = &shared.limits;
            let read = async {
                let slot = shared.handling.clone().acquire_owned().await;
                let body = Limited::new(req.into_body(), limits.max_body)
                    .collect()
                    .await;
                (slot, body)
            };
            match tokio::time::timeout(limits.body_timeout, read).await {
                Err(_) => Reply::error(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!(
                        "the request body did not arrive within {:?}",
                        limits.body_timeout
                    ),
                ),
                Ok((_, Err(e))) if e.is::<http_body_util::LengthLimitError>() => Reply::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {} bytes", limits.max_body),
                ),
                Ok((_, Err(e))) => Reply::error(
                    StatusCode::BAD_REQUEST,
                    &format!("cannot read the body: {e}"),
                ),
                Ok((slot, Ok(body))) => {
                    let handler = shared.handler.clone();
                    let body = body.to_bytes();
                    let reply = tokio::task::spawn_blocking(move || handler(&path, body)).await;
                    drop(slot);
                    let n = shared.answered.fetch_add(1, Ordering::Relaxed) + 1;
                    if limits.max_requests.is_some_and(|max| n >= max) {
                        shared.limit_reached.notify_one();
                    }
                    reply.unwrap_or_else(|_| {
                        Reply::error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "the handler failed on this request",
                        )
                    })
                }
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
