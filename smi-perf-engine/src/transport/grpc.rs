//! gRPC unary calls over HTTP/2, framed by hand on the engine's HTTP/2 lane: h2c (prior knowledge) for
//! `http://`, `grpc://` and bare `host:port` endpoints, TLS with ALPN `h2` for `https://` (feature
//! `tls`), riding the one HTTP/2 transport ([`H2Factory`]): `streamsPerConnection` lanes share a
//! connection.
//!
//! A call is `POST /package.Service/Method` with `content-type: application/grpc`,
//! `te: trailers` and one length-prefixed message (1-byte compressed flag, always 0 here; 4-byte
//! big-endian length; the protobuf bytes), ended by the client. The answer's gRPC status comes
//! from the `grpc-status` trailer, or from the response headers of a trailers-only response;
//! both it and the HTTP status are counted ([`Outcome::Grpc`](crate::Outcome::Grpc)), and a call succeeds when they
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

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
#[cfg(feature = "serve")]
use http::Request;
use http::{HeaderMap, HeaderValue};
use smi_types::perf::{GrpcSpec, PerformanceTestSpec};

use super::dial::host_header;
use super::h2::sealed::Sealed;
use super::h2::{Exchange, H2Factory, H2Lane, Prepared, header_size, prepared};
use super::h2frame::request_block;
use crate::error::{GrpcError, Result};
use crate::plan::RunPlan;

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
pub(crate) fn parse_code(v: &[u8]) -> u8 {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&c| c <= 16)
        .map_or(code::UNKNOWN, |c| c as u8)
}

/// gRPC unary calls (protocol `gRPC`): one call, framed once, to each endpoint, riding the
/// HTTP/2 transport ([`H2Factory`]).
#[derive(Debug)]
pub struct GrpcExchange {
    /// `/package.Service/Method`.
    path: String,
    /// Per endpoint: the header block (encoded once), the framed message, the byte estimate.
    targets: Vec<Prepared>,
}

/// Makes gRPC lanes: `streamsPerConnection` lanes per connection, sharing it.
pub type GrpcFactory = H2Factory<GrpcExchange>;

/// One stream slot of a gRPC (HTTP/2) connection.
pub type GrpcLane = H2Lane<GrpcExchange>;

impl GrpcExchange {
    /// Prepares the call (`spec.grpc`) and the request headers (`request.headers` become
    /// metadata) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        let call = GrpcCall::from_spec(plan.spec.grpc.as_ref())?;
        check_request(&plan.spec)?;
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
            let block = request_block(
                "POST",
                if tls { "https" } else { "http" },
                &host_header(e, tls),
                &call.path,
                &headers,
            );
            targets.push(prepared(block, framed.clone(), sent));
        }
        Ok(GrpcExchange {
            path: call.path,
            targets,
        })
    }

    /// The `:path` every call uses.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl H2Factory<GrpcExchange> {
    /// Prepares the call (`spec.grpc`), the request headers (`request.headers` become metadata)
    /// and the TLS config (ALPN `h2`) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        Self::with(plan, GrpcExchange::new(plan)?)
    }

    /// The `:path` every call uses.
    pub fn path(&self) -> &str {
        self.exchange().path()
    }
}

impl Sealed for GrpcExchange {}

impl Exchange for GrpcExchange {
    fn prepared(&self, i: usize) -> &Prepared {
        &self.targets[i]
    }

    fn grpc(&self) -> bool {
        true
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

/// Whether a `content-type` value is gRPC's (`application/grpc`, `application/grpc+proto`,
/// `application/grpc;…`).
pub(crate) fn is_grpc_type(v: &[u8]) -> bool {
    v == b"application/grpc"
        || v.starts_with(b"application/grpc+")
        || v.starts_with(b"application/grpc;")
}

/// The messages of an answer's body, followed across DATA frames: each 5-byte prefix is
/// parsed, message bytes are counted, not kept.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    prefix: [u8; PREFIX_LEN],
    have: usize,
    left: usize,
    messages: u32,
}

impl Scan {
    /// Feeds body bytes; `Err(code)` when the answer must stop here: INTERNAL for a compressed
    /// message (this client offered no compression), RESOURCE_EXHAUSTED for one above
    /// [`MAX_MESSAGE`].
    pub(crate) fn feed(&mut self, mut b: &[u8]) -> std::result::Result<(), u8> {
        while !b.is_empty() {
            if self.left > 0 {
                let n = self.left.min(b.len());
                self.left -= n;
                b = &b[n..];
                continue;
            }
            let n = (PREFIX_LEN - self.have).min(b.len());
            self.prefix[self.have..self.have + n].copy_from_slice(&b[..n]);
            self.have += n;
            b = &b[n..];
            if self.have == PREFIX_LEN {
                self.have = 0;
                self.messages += 1;
                if self.prefix[0] != 0 {
                    return Err(code::INTERNAL);
                }
                let p = &self.prefix;
                let len = u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
                if len as usize > MAX_MESSAGE {
                    return Err(code::RESOURCE_EXHAUSTED);
                }
                self.left = len as usize;
            }
        }
        Ok(())
    }

    /// The body ended inside a message.
    fn truncated(&self) -> bool {
        self.have != 0 || self.left != 0
    }
}

/// The gRPC status of a finished answer: HTTP `status`, whether its `content-type` was gRPC's,
/// the `grpc-status` seen (in the headers, or in `trailers` when the answer had any), and its
/// messages.
pub(crate) fn answer_code(
    status: u16,
    grpc_type: bool,
    grpc_status: Option<u8>,
    trailers: bool,
    scan: &Scan,
) -> u8 {
    if !trailers {
        // Trailers-only (or an error answer that carries grpc-status in its headers).
        if let Some(c) = grpc_status {
            return c;
        }
        if status != 200 {
            return code_of_http(status);
        }
        if !grpc_type {
            return code::UNKNOWN;
        }
        // A gRPC answer that ended without trailers.
        return code::INTERNAL;
    }
    let c = grpc_status.unwrap_or(code::INTERNAL);
    if scan.truncated() {
        // The stream ended inside a message.
        return code::INTERNAL;
    }
    if c == code::OK && scan.messages != 1 {
        // A unary call answers with exactly one message.
        return code::INTERNAL;
    }
    c
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
