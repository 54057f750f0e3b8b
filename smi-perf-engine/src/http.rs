//! hyper-based HTTP lanes: HTTP/1.1 (one hyper client connection per lane, keep-alive; the `hyper`
//! generator, kept for comparison with the native lane of the `builtin` generator) and HTTP/2
//! (h2c prior knowledge or TLS with ALPN; `streamsPerConnection` lanes share a connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use crate::driver::{Lane, LaneFactory, Stage};
use crate::error::{Error, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// One endpoint, prepared once: where to connect and what to put in every request.
#[derive(Clone, Debug)]
struct Target {
    connect_addr: String,
    /// TLS server name when none is configured (read only with the `tls` feature).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    host: String,
    tls: bool,
    uri: Uri,
    headers: HeaderMap,
    head_len: u64,
}

/// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2) of an endpoint: the port only when it is
/// not the scheme's default, an IPv6 literal in brackets.
pub(crate) fn host_header(e: &smi_types::perf::Endpoint, tls: bool) -> String {
    match (tls, e.port) {
        (false, None | Some(80)) | (true, None | Some(443)) if e.host.contains(':') => {
            format!("[{}]", e.host)
        }
        (false, None | Some(80)) | (true, None | Some(443)) => e.host.clone(),
        _ => e.authority(),
    }
}

/// Opens the connections of the HTTP lanes (hyper's and the native HTTP/1.1 one): TCP with
/// `TCP_NODELAY`, then TLS when the endpoint is `https`.
pub(crate) struct Dialer {
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
    #[cfg(feature = "tls")]
    server_name: Option<String>,
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The rustls connector has no `Debug`; say only whether TLS is set up.
        let mut d = f.debug_struct("Dialer");
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some())
            .field("server_name", &self.server_name);
        d.finish()
    }
}

impl Dialer {
    /// A dialer for `plan`; `any_tls`: some endpoint is `https`; `h2`: offer ALPN `h2`.
    pub(crate) fn new(plan: &RunPlan, any_tls: bool, h2: bool) -> Result<Dialer> {
        #[cfg(feature = "tls")]
        {
            let tls = if any_tls {
                Some(crate::tls::connector(&plan.tls, h2)?)
            } else {
                None
            };
            Ok(Dialer {
                tls,
                server_name: plan.tls.server_name.clone(),
            })
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = (plan, h2);
            if any_tls {
                return Err(Error::Tls("https endpoints need the `tls` feature".into()));
            }
            Ok(Dialer {})
        }
    }

    pub(crate) async fn tcp(&self, addr: &str) -> Result<TcpStream, ErrorKind> {
        let s = TcpStream::connect(addr)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        let _ = s.set_nodelay(true);
        Ok(s)
    }

    /// TLS over `tcp`, verifying the configured server name or else `host`.
    #[cfg(feature = "tls")]
    pub(crate) async fn tls(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ErrorKind> {
        let connector = self.tls.as_ref().ok_or(ErrorKind::Tls)?;
        let name = self.server_name.clone().unwrap_or_else(|| host.to_owned());
        let name = rustls::pki_types::ServerName::try_from(name).map_err(|_| ErrorKind::Tls)?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| match ErrorKind::from_io(&e) {
                ErrorKind::Reset => ErrorKind::Reset,
                _ => ErrorKind::Tls,
            })
    }
}

/// Everything every lane shares, read-only.
#[derive(Debug)]
struct Shared {
    targets: Vec<Target>,
    method: http::Method,
    body: Bytes,
    dialer: Dialer,
}

fn shared(plan: &RunPlan, h2: bool) -> Result<Arc<Shared>> {
    let mut targets = Vec::new();
    for e in &plan.endpoints {
        let tls = e.scheme == "https";
        let authority = e.authority();
        let host_header = host_header(e, tls);
        // HTTP/2 needs the absolute form (scheme and :authority); HTTP/1.1 sends origin form + Host.
        let uri: Uri = if h2 {
            format!(
                "{}://{}{}",
                if tls { "https" } else { "http" },
                host_header,
                e.path
            )
        } else {
            e.path.clone()
        }
        .parse()
        .map_err(|err| Error::http(format!("endpoint path {:?}", e.path), err))?;
        let mut headers = HeaderMap::new();
        if !h2 {
            headers.insert(
                http::header::HOST,
                http::HeaderValue::from_str(&host_header)
                    .map_err(|err| Error::http("host header", err))?,
            );
        }
        for (k, v) in &plan.headers {
            headers.append(k.clone(), v.clone());
        }
        if !plan.body.is_empty() && !headers.contains_key(http::header::CONTENT_TYPE) {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/octet-stream"),
            );
        }
        // Request line + headers + CRLFs, the HTTP/1.1 wire size (an estimate for HTTP/2).
        let head_len = plan.method.as_str().len()
            + e.path.len()
            + 11
            + headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>()
            + 2
            + if plan.body.is_empty() {
                0
            } else {
                18 + plan.body.len().to_string().len()
            };
        targets.push(Target {
            connect_addr: authority,
            host: e.host.clone(),
            tls,
            uri,
            headers,
            head_len: head_len as u64,
        });
    }
    let dialer = Dialer::new(plan, targets.iter().any(|t| t.tls), h2)?;
    Ok(Arc::new(Shared {
        targets,
        method: plan.method.clone(),
        body: plan.body.clone(),
        dialer,
    }))
}

impl Shared {
    fn request(&self, t: &Target) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = t.uri.clone();
        *req.headers_mut() = t.headers.clone();
        req
    }

    /// Connects to `t`, keeping `stage` up to date (read when a timeout cancels the connect).
    async fn connect_h1(&self, t: &Target, stage: &mut Stage) -> Result<H1, ErrorKind> {
        *stage = Stage::Connect;
        let tcp = self.dialer.tcp(&t.connect_addr).await?;
        *stage = Stage::Handshake;
        macro_rules! handshake {
            ($io:expr) => {{
                let (sender, conn) = http1::handshake(TokioIo::new($io))
                    .await
                    .map_err(|e| classify(&e))?;
                *stage = Stage::Exchange;
                Ok(H1 {
                    sender,
                    conn: Box::pin(conn),
                    served: 0,
                })
            }};
        }
        if t.tls {
            #[cfg(feature = "tls")]
            {
                let s = self.dialer.tls(&t.host, tcp).await?;
                return handshake!(s);
            }
            #[cfg(not(feature = "tls"))]
            return Err(ErrorKind::Tls);
        }
        handshake!(tcp)
    }

    /// Connects to `t`, keeping `stage` up to date (read when a timeout cancels the connect).
    async fn connect_h2(
        &self,
        t: &Target,
        stage: &mut Stage,
    ) -> Result<http2::SendRequest<Full<Bytes>>, ErrorKind> {
        *stage = Stage::Connect;
        let tcp = self.dialer.tcp(&t.connect_addr).await?;
        *stage = Stage::Handshake;
        macro_rules! handshake {
            ($io:expr) => {{
                let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                    .initial_stream_window_size(1 << 20)
                    .initial_connection_window_size(4 << 20)
                    .handshake(TokioIo::new($io))
                    .await
                    .map_err(|e| classify(&e))?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                *stage = Stage::Exchange;
                Ok(sender)
            }};
        }
        if t.tls {
            #[cfg(feature = "tls")]
            {
                let s = self.dialer.tls(&t.host, tcp).await?;
                return handshake!(s);
            }
            #[cfg(not(feature = "tls"))]
            return Err(ErrorKind::Tls);
        }
        handshake!(tcp)
    }
}

/// Maps a hyper error to an [`ErrorKind`], looking through its source chain.
pub fn classify(e: &hyper::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    // `is_parse` covers every parse kind (status, too large, h2 preface).
    if e.is_parse() {
        return ErrorKind::Protocol;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return ErrorKind::from_io(io);
        }
        if let Some(h2e) = s.downcast_ref::<h2::Error>() {
            if let Some(io) = h2e.get_io() {
                return ErrorKind::from_io(io);
            }
            return if h2e.is_go_away() || h2e.is_reset() {
                ErrorKind::Reset
            } else {
                ErrorKind::Protocol
            };
        }
        src = s.source();
    }
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() || e.is_body_write_aborted() {
        return ErrorKind::Reset;
    }
    ErrorKind::Other
}

fn head_size(res: &http::response::Parts) -> u64 {
    (17 + res
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + 2) as u64
}

/// Reads a response body to the end without keeping it.
async fn drain(mut body: hyper::body::Incoming) -> Result<u64, ErrorKind> {
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    n += d.len() as u64;
                }
            }
            Err(e) => return Err(classify(&e)),
        }
    }
    Ok(n)
}

// ------------------------------------------------------------------------------------------
// HTTP/1.1
// ------------------------------------------------------------------------------------------

/// Makes hyper HTTP/1.1 lanes (the `hyper` generator): one keep-alive connection per endpoint
/// per lane.
#[derive(Debug)]
pub struct HyperHttp1Factory {
    shared: Arc<Shared>,
}

impl HyperHttp1Factory {
    /// Prepares the request templates (and TLS config) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        Ok(HyperHttp1Factory {
            shared: shared(plan, false)?,
        })
    }
}

impl LaneFactory for HyperHttp1Factory {
    type Lane = HyperHttp1Lane;
    fn lanes(&self, _: &RunPlan, conn: u32) -> Vec<HyperHttp1Lane> {
        let n = self.shared.targets.len();
        vec![HyperHttp1Lane {
            shared: self.shared.clone(),
            conns: (0..n).map(|_| None).collect(),
            next: conn as usize % n.max(1),
            stage: Stage::Exchange,
        }]
    }
}

/// A hyper HTTP/1.1 client connection whose connection future the lane polls itself, in the
/// same task as the request: no hand-off to a second task per request.
struct H1 {
    sender: http1::SendRequest<Full<Bytes>>,
    conn: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>,
    served: u64,
}

impl std::fmt::Debug for H1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1")
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

/// An HTTP/1.1 lane.
#[derive(Debug)]
pub struct HyperHttp1Lane {
    shared: Arc<Shared>,
    /// Per endpoint: the connection, if open.
    conns: Vec<Option<H1>>,
    next: usize,
    /// Where the current request is (for [`Lane::timeout_kind`]).
    stage: Stage,
}

impl HyperHttp1Lane {
    async fn once(&mut self, i: usize) -> Result<Outcome, (ErrorKind, bool)> {
        // Borrow the fields apart: no Arc clone (a shared refcount) on the request path.
        let HyperHttp1Lane {
            shared,
            conns,
            stage,
            ..
        } = self;
        let t = &shared.targets[i];
        if conns[i].is_none() {
            conns[i] = Some(shared.connect_h1(t, stage).await.map_err(|k| (k, false))?);
        }
        let H1 {
            sender,
            conn,
            served,
        } = conns[i].as_mut().expect("connected above");
        let reused = *served > 0;
        let exchange = async {
            sender.ready().await?;
            let res = sender.send_request(shared.request(t)).await?;
            let (parts, mut body) = res.into_parts();
            let mut n = 0u64;
            while let Some(frame) = body.frame().await {
                if let Some(d) = frame?.data_ref() {
                    n += d.len() as u64;
                }
            }
            Ok::<_, hyper::Error>((parts.status.as_u16(), head_size(&parts) + n))
        };
        // Poll the request and the connection together. If the connection finishes first it has
        // already handed the exchange its answer or its error: finish the exchange, then drop it.
        let (r, conn_done) = {
            let mut exchange = std::pin::pin!(exchange);
            tokio::select! {
                biased;
                r = &mut exchange => (r, false),
                _ = conn.as_mut() => (exchange.await, true),
            }
        };
        let r = r.map_err(|e| {
            // A reused connection that died before answering: safe to retry once.
            let retry = reused && (e.is_canceled() || e.is_closed() || e.is_incomplete_message());
            (classify(&e), retry)
        });
        match r {
            Ok((status, received)) => {
                *served += 1;
                if conn_done {
                    conns[i] = None;
                }
                Ok(Outcome::Response {
                    status,
                    sent: t.head_len + shared.body.len() as u64,
                    received,
                })
            }
            Err(e) => {
                conns[i] = None;
                Err(e)
            }
        }
    }
}

impl Lane for HyperHttp1Lane {
    async fn prepare(&mut self) {
        let shared = self.shared.clone();
        if let Ok(c) = shared
            .connect_h1(&shared.targets[self.next], &mut self.stage)
            .await
        {
            self.conns[self.next] = Some(c);
        }
    }

    async fn request(&mut self) -> Outcome {
        let i = self.next;
        self.next = (self.next + 1) % self.conns.len();
        let sent = self.shared.targets[i].head_len;
        match self.once(i).await {
            Ok(o) => o,
            Err((_, true)) => match self.once(i).await {
                Ok(o) => o,
                Err((kind, _)) => Outcome::Error { kind, sent },
            },
            Err((kind, false)) => Outcome::Error {
                kind,
                sent: if kind == ErrorKind::ConnectRefused {
                    0
                } else {
                    sent
                },
            },
        }
    }

    fn timeout_kind(&self) -> ErrorKind {
        self.stage.timeout_kind()
    }

    fn reset(&mut self) {
        self.conns.iter_mut().for_each(|c| *c = None);
        self.stage = Stage::Exchange;
    }
}

// ------------------------------------------------------------------------------------------
// HTTP/2
// ------------------------------------------------------------------------------------------

/// One HTTP/2 connection shared by the stream lanes of a connection group.
#[derive(Debug, Default)]
struct H2Slot {
    /// The current sender and its generation (bumped on every reconnect).
    current: tokio::sync::Mutex<(u64, Option<http2::SendRequest<Full<Bytes>>>)>,
}

/// Makes HTTP/2 lanes: `streamsPerConnection` lanes per connection, sharing it.
#[derive(Debug)]
pub struct Http2Factory {
    shared: Arc<Shared>,
}

impl Http2Factory {
    /// Prepares the request templates (and TLS config with ALPN `h2`) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        Ok(Http2Factory {
            shared: shared(plan, true)?,
        })
    }
}

impl LaneFactory for Http2Factory {
    type Lane = Http2Lane;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<Http2Lane> {
        let n = self.shared.targets.len();
        let slots: Arc<Vec<H2Slot>> = Arc::new((0..n).map(|_| H2Slot::default()).collect());
        (0..plan.streams)
            .map(|s| Http2Lane {
                shared: self.shared.clone(),
                slots: slots.clone(),
                mine: (0..n).map(|_| None).collect(),
                next: (conn as usize + s as usize) % n.max(1),
                stage: Stage::Exchange,
            })
            .collect()
    }
}

/// One stream slot of an HTTP/2 connection.
#[derive(Debug)]
pub struct Http2Lane {
    shared: Arc<Shared>,
    slots: Arc<Vec<H2Slot>>,
    /// Per endpoint: this lane's clone of the sender and its generation.
    mine: Vec<Option<(u64, http2::SendRequest<Full<Bytes>>)>>,
    next: usize,
    /// Where the current request is (for [`Lane::timeout_kind`]); waiting for the connection
    /// another lane of the group is opening counts as connecting.
    stage: Stage,
}

impl Http2Lane {
    /// Gets a live sender for endpoint `i`, reconnecting the shared connection if this lane's
    /// copy is stale and nobody else has replaced it yet.
    async fn sender(&mut self, i: usize) -> Result<http2::SendRequest<Full<Bytes>>, ErrorKind> {
        if let Some((_, s)) = &self.mine[i]
            && !s.is_closed()
        {
            return Ok(s.clone());
        }
        let stale = self.mine[i].take().map(|(g, _)| g);
        self.stage = Stage::Connect;
        let mut slot = self.slots[i].current.lock().await;
        let usable = slot.1.as_ref().is_some_and(|s| !s.is_closed()) && stale != Some(slot.0);
        if !usable {
            let s = self
                .shared
                .connect_h2(&self.shared.targets[i], &mut self.stage)
                .await?;
            slot.0 += 1;
            slot.1 = Some(s);
        }
        self.stage = Stage::Exchange;
        let s = slot.1.clone().expect("set above");
        self.mine[i] = Some((slot.0, s.clone()));
        Ok(s)
    }
}

impl Lane for Http2Lane {
    async fn prepare(&mut self) {
        let _ = self.sender(self.next).await;
    }

    async fn request(&mut self) -> Outcome {
        let i = self.next;
        self.next = (self.next + 1) % self.mine.len();
        let sent = self.shared.targets[i].head_len;
        let mut sender = match self.sender(i).await {
            Ok(s) => s,
            Err(kind) => return Outcome::Error { kind, sent: 0 },
        };
        if sender.ready().await.is_err() {
            self.mine[i] = None;
            match self.sender(i).await {
                Ok(s) => sender = s,
                Err(kind) => return Outcome::Error { kind, sent: 0 },
            }
        }
        let shared = &*self.shared;
        let t = &shared.targets[i];
        let res = match sender.send_request(shared.request(t)).await {
            Ok(r) => r,
            Err(e) => {
                let kind = classify(&e);
                if sender.is_closed() {
                    self.mine[i] = None;
                }
                return Outcome::Error { kind, sent };
            }
        };
        let (parts, body) = res.into_parts();
        let head = head_size(&parts);
        match drain(body).await {
            Ok(n) => Outcome::Response {
                status: parts.status.as_u16(),
                sent: sent + shared.body.len() as u64,
                received: head + n,
            },
            Err(kind) => Outcome::Error { kind, sent },
        }
    }

    fn timeout_kind(&self) -> ErrorKind {
        self.stage.timeout_kind()
    }

    fn reset(&mut self) {
        // A cancelled stream does not poison an HTTP/2 connection; keep it.
        self.stage = Stage::Exchange;
    }
}
