//! gRPC unary calls over HTTP/2, framed by hand on the `h2` crate: h2c (prior knowledge) for
//! `http://`, `grpc://` and bare `host:port` endpoints, TLS with ALPN `h2` for `https://` (feature
//! `tls`). `streamsPerConnection` lanes share one connection, as the HTTP/2 lanes do.
//!
//! A call is `POST /package.Service/Method` with `content-type: application/grpc`,
//! `te: trailers` and one length-prefixed message (1-byte compressed flag, always 0 here; 4-byte
//! big-endian length; the protobuf bytes), ended by the client. The answer's gRPC status comes
//! from the `grpc-status` trailer, or from the response headers of a trailers-only response;
//! both it and the HTTP status are counted ([`Outcome::Grpc`]), and a call succeeds when they
//! are 200 and 0 (OK).
//!
//! The client synthesizes a status, as gRPC clients do, when the answer cannot be taken:
//! `RESOURCE_EXHAUSTED` (8) for a message above [`MAX_MESSAGE`] (the stream is reset),
//! `INTERNAL` (13) for a message with the compressed flag (this client never offers
//! compression, so a compressed answer breaks the protocol), for an OK unary answer without
//! exactly one message, a truncated frame, or no `grpc-status` at all; an HTTP answer that is not
//! gRPC (no `application/grpc` content type, or a status other than 200 without `grpc-status`)
//! gets the status the gRPC HTTP mapping gives it (`UNAVAILABLE` for 502/503/504, …).
//!
//! The message is opaque bytes (`spec.grpc.payload`, base64 protobuf): no code generation and no
//! protobuf library on the hot path. By default the call is `grpc.health.v1.Health/Check`, whose
//! request (`HealthCheckRequest { service }`) is encoded here.

use std::sync::Arc;

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use smi_types::perf::{GrpcSpec, PerformanceTestSpec};

use crate::driver::{Lane, LaneFactory, Stage};
use crate::error::{Error, GrpcError, Result};
use crate::http::Dialer;
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// The health-check method every gRPC server with health checking serves.
pub const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// The embedded target's echo method: answers with the request message unchanged.
pub const ECHO: &str = "/smi.perf.v1.Echo/Echo";

/// Largest message this client accepts, and the embedded target too (4 MiB, gRPC's default
/// receive limit).
pub const MAX_MESSAGE: usize = 4 << 20;

/// Bytes of the length prefix of every gRPC message.
pub const PREFIX_LEN: usize = 5;

/// gRPC status codes used by name here.
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// Unknown error (also any code outside 0–16).
    pub const UNKNOWN: u8 = 2;
    /// Not found (the health service does not know the service asked about).
    pub const NOT_FOUND: u8 = 5;
    /// The client or server refused a message above its size limit.
    pub const RESOURCE_EXHAUSTED: u8 = 8;
    /// The method (or a compressed message) is not supported.
    pub const UNIMPLEMENTED: u8 = 12;
    /// The protocol was broken.
    pub const INTERNAL: u8 = 13;
    /// The service is unavailable.
    pub const UNAVAILABLE: u8 = 14;
}

/// Frames `message` as one uncompressed gRPC message (5-byte prefix + bytes).
///
/// ```
/// assert_eq!(&smi_perf_engine::grpc::frame(b"hi")[..], b"\0\0\0\0\x02hi");
/// ```
pub fn frame(message: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(PREFIX_LEN + message.len());
    b.put_u8(0);
    b.put_u32(message.len() as u32);
    b.put_slice(message);
    b.freeze()
}

/// Encodes a `grpc.health.v1.HealthCheckRequest { service }` (protobuf field 1, a string).
///
/// ```
/// assert_eq!(smi_perf_engine::grpc::health_request(""), b"");
/// assert_eq!(smi_perf_engine::grpc::health_request("a"), b"\x0a\x01a");
/// ```
pub fn health_request(service: &str) -> Vec<u8> {
    if service.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0x0a];
    put_varint(&mut out, service.len() as u64);
    out.extend_from_slice(service.as_bytes());
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Decodes the `service` of a `HealthCheckRequest` (unknown fields skipped); `None` when the
/// bytes are not a valid protobuf message or the service is not UTF-8.
///
/// ```
/// use smi_perf_engine::grpc::{health_request, health_service};
/// assert_eq!(health_service(&health_request("x.Y")).as_deref(), Some("x.Y"));
/// assert_eq!(health_service(b"\x0a\x05ab"), None);
/// ```
pub fn health_service(msg: &[u8]) -> Option<String> {
    let mut i = 0;
    let mut service = String::new();
    while i < msg.len() {
        let key = get_varint(msg, &mut i)?;
        match key & 7 {
            0 => {
                get_varint(msg, &mut i)?;
            }
            1 => i = i.checked_add(8).filter(|&e| e <= msg.len())?,
            5 => i = i.checked_add(4).filter(|&e| e <= msg.len())?,
            2 => {
                let n = usize::try_from(get_varint(msg, &mut i)?).ok()?;
                let end = i.checked_add(n).filter(|&e| e <= msg.len())?;
                if key >> 3 == 1 {
                    service = String::from_utf8(msg[i..end].to_vec()).ok()?;
                }
                i = end;
            }
            _ => return None,
        }
    }
    Some(service)
}

/// `grpc.health.v1.HealthCheckResponse { status: SERVING }`.
pub const HEALTH_SERVING: &[u8] = &[0x08, 0x01];

/// The call every request of a run makes: its `:path` and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcCall {
    /// `/package.Service/Method`.
    pub path: String,
    /// The request message (protobuf bytes).
    pub message: Bytes,
}

impl GrpcCall {
    /// The call `spec.grpc` describes: a health check when it is unset or says `health: true`
    /// (of `service`, when given), else `/{service}/{method}` (or `method` alone when it is a full
    /// `/package.Service/Method` path) with `payload` (base64 protobuf; empty when unset).
    ///
    /// ```
    /// use smi_perf_engine::grpc::GrpcCall;
    /// use smi_types::perf::GrpcSpec;
    /// let c = GrpcCall::from_spec(None).unwrap();
    /// assert_eq!(c.path, "/grpc.health.v1.Health/Check");
    /// let c = GrpcCall::from_spec(Some(&GrpcSpec {
    ///     service: Some("smi.perf.v1.Echo".into()),
    ///     method: Some("Echo".into()),
    ///     payload: Some("aGk=".into()),
    ///     health: None,
    /// })).unwrap();
    /// assert_eq!((c.path.as_str(), &c.message[..]), ("/smi.perf.v1.Echo/Echo", &b"hi"[..]));
    /// ```
    pub fn from_spec(g: Option<&GrpcSpec>) -> Result<GrpcCall> {
        let Some(g) = g else {
            return Ok(GrpcCall {
                path: HEALTH_CHECK.into(),
                message: Bytes::new(),
            });
        };
        let payload = match &g.payload {
            None => None,
            Some(p) => {
                let p: String = p.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&p)
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&p))
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&p))
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&p))
                    .map_err(GrpcError::PayloadNotBase64)?;
                if bytes.len() > MAX_MESSAGE {
                    return Err(GrpcError::PayloadTooLarge { len: bytes.len() }.into());
                }
                Some(bytes)
            }
        };
        let health = g.health.unwrap_or(false) || (g.service.is_none() && g.method.is_none());
        if health {
            if let Some(m) = &g.method {
                return Err(GrpcError::HealthWithMethod { method: m.clone() }.into());
            }
            if payload.is_some() {
                return Err(GrpcError::HealthWithPayload.into());
            }
            return Ok(GrpcCall {
                path: HEALTH_CHECK.into(),
                message: Bytes::from(health_request(g.service.as_deref().unwrap_or(""))),
            });
        }
        let method = g.method.as_deref().ok_or(GrpcError::NoMethod)?;
        let path = if method.contains('/') {
            if let Some(s) = &g.service {
                return Err(GrpcError::FullPathWithService {
                    method: method.to_owned(),
                    service: s.clone(),
                }
                .into());
            }
            if method.starts_with('/') {
                method.to_owned()
            } else {
                format!("/{method}")
            }
        } else {
            let service = g.service.as_deref().ok_or_else(|| GrpcError::NoService {
                method: method.to_owned(),
            })?;
            format!("/{service}/{method}")
        };
        let parts: Vec<&str> = path[1..].split('/').collect();
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-$".contains(&b))
        };
        if parts.len() != 2 || !parts.iter().all(|p| name_ok(p)) {
            return Err(GrpcError::BadPath { path }.into());
        }
        Ok(GrpcCall {
            path,
            message: Bytes::from(payload.unwrap_or_default()),
        })
    }
}

/// The gRPC status of an HTTP answer without `grpc-status` (gRPC's HTTP-to-gRPC status mapping).
///
/// ```
/// assert_eq!(smi_perf_engine::grpc::code_of_http(503), 14);
/// assert_eq!(smi_perf_engine::grpc::code_of_http(404), 12);
/// ```
pub fn code_of_http(status: u16) -> u8 {
    match status {
        400 => code::INTERNAL,
        401 => 16,
        403 => 7,
        404 => code::UNIMPLEMENTED,
        429 | 502..=504 => code::UNAVAILABLE,
        _ => code::UNKNOWN,
    }
}

/// Parses a `grpc-status` value; codes above 16 (and garbage) read as UNKNOWN.
fn parse_code(v: &HeaderValue) -> u8 {
    std::str::from_utf8(v.as_bytes())
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&c| c <= 16)
        .map_or(code::UNKNOWN, |c| c as u8)
}

fn classify_h2(e: &h2::Error) -> ErrorKind {
    if let Some(io) = e.get_io() {
        return ErrorKind::from_io(io);
    }
    if e.is_go_away() || e.is_reset() {
        ErrorKind::Reset
    } else {
        ErrorKind::Protocol
    }
}

fn header_size(h: &HeaderMap) -> u64 {
    h.iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>() as u64
}

/// One endpoint, prepared once.
#[derive(Debug)]
struct Target {
    connect_addr: String,
    /// TLS server name when none is configured (read only with the `tls` feature).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    host: String,
    tls: bool,
    uri: Uri,
}

/// Shared, read-only state of every lane.
#[derive(Debug)]
struct Shared {
    targets: Vec<Target>,
    headers: HeaderMap,
    /// The framed request message.
    framed: Bytes,
    /// Estimated bytes of a request (headers + the framed message).
    sent: u64,
    dialer: Dialer,
}

/// One HTTP/2 connection shared by the stream lanes of a connection group.
#[derive(Debug, Default)]
struct Slot {
    current: tokio::sync::Mutex<(u64, Option<h2::client::SendRequest<Bytes>>)>,
}

/// Makes gRPC lanes: `streamsPerConnection` lanes per connection, sharing it.
#[derive(Debug)]
pub struct GrpcFactory {
    shared: Arc<Shared>,
}

impl GrpcFactory {
    /// Prepares the call (`spec.grpc`), the request headers (`request.headers` become metadata)
    /// and the TLS config (ALPN `h2`) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        let call = GrpcCall::from_spec(plan.spec.grpc.as_ref())?;
        check_request(&plan.spec)?;
        let mut targets = Vec::new();
        for e in &plan.endpoints {
            if e.path != "/" {
                return Err(GrpcError::EndpointPath {
                    authority: e.authority(),
                    path: e.path.clone(),
                }
                .into());
            }
            let tls = e.scheme == "https";
            let authority = crate::http::host_header(e, tls);
            let uri: Uri = format!(
                "{}://{authority}{}",
                if tls { "https" } else { "http" },
                call.path
            )
            .parse()
            .map_err(|err| Error::http(format!("gRPC path {:?}", call.path), err))?;
            targets.push(Target {
                connect_addr: e.authority(),
                host: e.host.clone(),
                tls,
                uri,
            });
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("smi-perf/", env!("CARGO_PKG_VERSION"))),
        );
        for (k, v) in &plan.headers {
            if k == http::header::CONTENT_TYPE || k == http::header::TE {
                return Err(GrpcError::ReservedHeader(k.clone()).into());
            }
            headers.append(k.clone(), v.clone());
        }
        let framed = frame(&call.message);
        let sent = header_size(&headers)
            + (":method: POST".len() + 4) as u64
            + (call.path.len() + 9) as u64
            + framed.len() as u64;
        let dialer = Dialer::new(plan, targets.iter().any(|t| t.tls), true)?;
        Ok(GrpcFactory {
            shared: Arc::new(Shared {
                targets,
                headers,
                framed,
                sent,
                dialer,
            }),
        })
    }

    /// The `:path` every call uses.
    pub fn path(&self) -> &str {
        self.shared.targets.first().map_or("", |t| t.uri.path())
    }
}

/// Refuses request fields a gRPC call cannot carry (nothing given is silently dropped).
fn check_request(spec: &PerformanceTestSpec) -> Result<()> {
    if let Some(r) = &spec.request {
        if r.body.is_some() || r.body_from.is_some() {
            return Err(GrpcError::RequestBody.into());
        }
        if r.method.as_deref().is_some_and(|m| m != "POST") {
            return Err(GrpcError::RequestMethod.into());
        }
        if r.content_type.is_some() || !r.cookies.is_empty() || r.expect_bytes.is_some() {
            return Err(GrpcError::RequestFields.into());
        }
    }
    Ok(())
}

impl LaneFactory for GrpcFactory {
    type Lane = GrpcLane;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<GrpcLane> {
        let n = self.shared.targets.len();
        let slots: Arc<Vec<Slot>> = Arc::new((0..n).map(|_| Slot::default()).collect());
        (0..plan.streams)
            .map(|s| GrpcLane {
                shared: self.shared.clone(),
                slots: slots.clone(),
                mine: (0..n).map(|_| None).collect(),
                next: (conn as usize + s as usize) % n.max(1),
                stage: Stage::Exchange,
            })
            .collect()
    }
}

/// One stream slot of a gRPC (HTTP/2) connection.
#[derive(Debug)]
pub struct GrpcLane {
    shared: Arc<Shared>,
    slots: Arc<Vec<Slot>>,
    /// Per endpoint: this lane's clone of the sender and its generation.
    mine: Vec<Option<(u64, h2::client::SendRequest<Bytes>)>>,
    next: usize,
    stage: Stage,
}

impl GrpcLane {
    async fn connect(&mut self, i: usize) -> Result<h2::client::SendRequest<Bytes>, ErrorKind> {
        let t = &self.shared.targets[i];
        self.stage = Stage::Connect;
        let tcp = self.shared.dialer.tcp(&t.connect_addr).await?;
        self.stage = Stage::Handshake;
        macro_rules! handshake {
            ($io:expr) => {{
                let (sender, conn) = h2::client::Builder::new()
                    .initial_window_size(1 << 20)
                    .initial_connection_window_size(4 << 20)
                    .handshake::<_, Bytes>($io)
                    .await
                    .map_err(|e| classify_h2(&e))?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(sender)
            }};
        }
        if t.tls {
            #[cfg(feature = "tls")]
            {
                let s = self.shared.dialer.tls(&t.host, tcp).await?;
                return handshake!(s);
            }
            #[cfg(not(feature = "tls"))]
            return Err(ErrorKind::Tls);
        }
        handshake!(tcp)
    }

    /// A live sender for endpoint `i`, reconnecting the shared connection when this lane's copy
    /// is stale and nobody else has replaced it yet.
    async fn sender(&mut self, i: usize) -> Result<h2::client::SendRequest<Bytes>, ErrorKind> {
        if let Some((_, s)) = &self.mine[i] {
            return Ok(s.clone());
        }
        self.stage = Stage::Connect;
        let slots = self.slots.clone();
        let mut slot = slots[i].current.lock().await;
        if slot.1.is_none() {
            let s = self.connect(i).await?;
            slot.0 += 1;
            slot.1 = Some(s);
        }
        self.stage = Stage::Exchange;
        let s = slot.1.clone().expect("set above");
        self.mine[i] = Some((slot.0, s.clone()));
        Ok(s)
    }

    /// Drops this lane's sender for `i` and, if the shared one is the same generation, that too.
    fn forget(&mut self, i: usize) {
        if let Some((g, _)) = self.mine[i].take()
            && let Ok(mut slot) = self.slots[i].current.try_lock()
            && slot.0 == g
        {
            slot.1 = None;
        }
    }

    async fn call(&mut self, i: usize) -> Outcome {
        let sent = self.shared.sent;
        let mut sender = match self.sender(i).await {
            Ok(s) => s,
            Err(kind) => return Outcome::Error { kind, sent: 0 },
        };
        sender = match sender.ready().await {
            Ok(s) => s,
            Err(_) => {
                // The connection is gone: reconnect once.
                self.forget(i);
                match self.sender(i).await {
                    Ok(s) => match s.ready().await {
                        Ok(s) => s,
                        Err(e) => {
                            self.forget(i);
                            return Outcome::Error {
                                kind: classify_h2(&e),
                                sent: 0,
                            };
                        }
                    },
                    Err(kind) => return Outcome::Error { kind, sent: 0 },
                }
            }
        };
        let shared = &*self.shared;
        let mut req = Request::new(());
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = shared.targets[i].uri.clone();
        *req.headers_mut() = shared.headers.clone();
        let (response, mut stream) = match sender.send_request(req, false) {
            Ok(x) => x,
            Err(e) => {
                self.forget(i);
                return Outcome::Error {
                    kind: classify_h2(&e),
                    sent: 0,
                };
            }
        };
        if let Err(e) = stream.send_data(shared.framed.clone(), true) {
            return Outcome::Error {
                kind: classify_h2(&e),
                sent,
            };
        }
        let res = match response.await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Error {
                    kind: classify_h2(&e),
                    sent,
                };
            }
        };
        let (parts, body) = res.into_parts();
        match read_answer(parts, body).await {
            Ok((status, code, received)) => Outcome::Grpc {
                status,
                code,
                sent,
                received,
            },
            Err(kind) => Outcome::Error { kind, sent },
        }
    }
}

/// Reads a gRPC answer: `(HTTP status, gRPC status, bytes received)`, or a transport error.
async fn read_answer(
    parts: http::response::Parts,
    mut body: h2::RecvStream,
) -> Result<(u16, u8, u64), ErrorKind> {
    let status = parts.status.as_u16();
    let mut received = 13 + header_size(&parts.headers);
    let grpc_status = HeaderName::from_static("grpc-status");
    let is_grpc = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct == "application/grpc"
                || ct.starts_with("application/grpc+")
                || ct.starts_with("application/grpc;")
        });
    // Trailers-only (or an error answer that carries grpc-status in its headers).
    if let Some(v) = parts.headers.get(&grpc_status) {
        return Ok((status, parse_code(v), received));
    }
    if status != 200 {
        return Ok((status, code_of_http(status), received));
    }
    if !is_grpc {
        return Ok((status, code::UNKNOWN, received));
    }
    // Messages: the prefix is parsed across DATA frames; message bytes are counted, not kept.
    let mut prefix = [0u8; PREFIX_LEN];
    let mut have = 0usize;
    let mut left = 0usize;
    let mut messages = 0u32;
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| classify_h2(&e))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        received += chunk.len() as u64;
        let mut b = &chunk[..];
        while !b.is_empty() {
            if left > 0 {
                let n = left.min(b.len());
                left -= n;
                b = &b[n..];
                continue;
            }
            let n = (PREFIX_LEN - have).min(b.len());
            prefix[have..have + n].copy_from_slice(&b[..n]);
            have += n;
            b = &b[n..];
            if have == PREFIX_LEN {
                have = 0;
                messages += 1;
                if prefix[0] != 0 {
                    // Compressed (or an unknown flag): this client offered no compression.
                    return Ok((status, code::INTERNAL, received));
                }
                let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                if len as usize > MAX_MESSAGE {
                    // Dropping the stream resets it: the rest is never read.
                    return Ok((status, code::RESOURCE_EXHAUSTED, received));
                }
                left = len as usize;
            }
        }
    }
    let trailers = body.trailers().await.map_err(|e| classify_h2(&e))?;
    let code = match trailers.as_ref() {
        Some(t) => {
            received += header_size(t);
            t.get(&grpc_status).map_or(code::INTERNAL, parse_code)
        }
        None => code::INTERNAL,
    };
    if have != 0 || left != 0 {
        // The stream ended inside a message.
        return Ok((status, code::INTERNAL, received));
    }
    if code == code::OK && messages != 1 {
        // A unary call answers with exactly one message.
        return Ok((status, code::INTERNAL, received));
    }
    Ok((status, code, received))
}

impl Lane for GrpcLane {
    async fn prepare(&mut self) {
        let _ = self.sender(self.next).await;
    }

    async fn request(&mut self) -> Outcome {
        let i = self.next;
        self.next = (self.next + 1) % self.mine.len();
        self.call(i).await
    }

    fn timeout_kind(&self) -> ErrorKind {
        self.stage.timeout_kind()
    }

    fn reset(&mut self) {
        // A cancelled stream does not poison an HTTP/2 connection (dropping it resets the stream).
        self.stage = Stage::Exchange;
    }
}

// ------------------------------------------------------------------------------------------
// Server side (the embedded target)
// ------------------------------------------------------------------------------------------

/// Serves gRPC on one HTTP/2 connection (h2c or TLS, after the handshake): `Health/Check`
/// (SERVING for the empty service, [`ECHO`]'s service and the health service itself, NOT_FOUND
/// otherwise), [`ECHO`], and UNIMPLEMENTED for any other method. `wait` runs before each answer
/// (the target's delay). Requests without `application/grpc` get HTTP 415.
#[cfg(feature = "serve")]
pub(crate) async fn serve_connection<T, W, F>(io: T, wait: W)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    W: Fn() -> Option<F> + Clone + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let Ok(mut conn) = h2::server::Builder::new()
        .initial_window_size(1 << 20)
        .initial_connection_window_size(4 << 20)
        .max_concurrent_streams(1000)
        .handshake::<_, Bytes>(io)
        .await
    else {
        return;
    };
    while let Some(r) = conn.accept().await {
        let Ok((req, respond)) = r else { return };
        let wait = wait.clone();
        tokio::spawn(async move {
            let _ = answer(req, respond, wait).await;
        });
    }
}

#[cfg(feature = "serve")]
async fn answer<W, F>(
    req: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    wait: W,
) -> std::result::Result<(), h2::Error>
where
    W: Fn() -> Option<F>,
    F: std::future::Future<Output = ()>,
{
    let (parts, mut body) = req.into_parts();
    let grpc = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if !grpc {
        let res = http::Response::builder()
            .status(415)
            .body(())
            .expect("static response");
        respond.send_response(res, true)?;
        return Ok(());
    }
    // Read the request, bounded: the prefix plus at most MAX_MESSAGE bytes.
    let mut buf = BytesMut::new();
    let mut too_big = false;
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if buf.len() + chunk.len() > PREFIX_LEN + MAX_MESSAGE {
            too_big = true;
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    if too_big {
        return trailers_only(
            &mut respond,
            code::RESOURCE_EXHAUSTED,
            "request message above 4 MiB",
        );
    }
    if buf.len() < PREFIX_LEN {
        return trailers_only(&mut respond, code::INTERNAL, "no request message");
    }
    if buf[0] != 0 {
        return trailers_only(
            &mut respond,
            code::UNIMPLEMENTED,
            "compressed messages are not supported",
        );
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if buf.len() != PREFIX_LEN + len {
        return trailers_only(
            &mut respond,
            code::INTERNAL,
            "not exactly one request message",
        );
    }
    let message = buf.freeze().slice(PREFIX_LEN..);
    let reply = match parts.uri.path() {
        HEALTH_CHECK => match health_service(&message).as_deref() {
            Some("" | "smi.perf.v1.Echo" | "grpc.health.v1.Health") => {
                Bytes::from_static(HEALTH_SERVING)
            }
            Some(_) => return trailers_only(&mut respond, code::NOT_FOUND, "unknown service"),
            None => {
                return trailers_only(&mut respond, 3, "bad HealthCheckRequest");
            }
        },
        ECHO => message,
        _ => return trailers_only(&mut respond, code::UNIMPLEMENTED, "unknown method"),
    };
    if let Some(w) = wait() {
        w.await;
    }
    let res = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .body(())
        .expect("static response");
    let mut stream = respond.send_response(res, false)?;
    stream.send_data(frame(&reply), false)?;
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    stream.send_trailers(trailers)?;
    Ok(())
}

/// A trailers-only answer: HTTP 200 with `grpc-status` and `grpc-message` in the headers.
#[cfg(feature = "serve")]
fn trailers_only(
    respond: &mut h2::server::SendResponse<Bytes>,
    code: u8,
    message: &'static str,
) -> std::result::Result<(), h2::Error> {
    let res = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .header("grpc-status", code.to_string())
        .header("grpc-message", message)
        .body(())
        .expect("static response");
    respond.send_response(res, true)?;
    Ok(())
}
