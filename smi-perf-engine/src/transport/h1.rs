//! The built-in HTTP/1.1 lane: one keep-alive connection per endpoint, the request encoded once
//! before the run, responses parsed with `httparse` and drained without being kept.
//!
//! Why not hyper's client here: on the closed-loop benchmark (`bench/README.md`, "Why a native
//! HTTP/1.1 lane") hyper's client dispatch (request channel, response oneshot, `HeaderMap`
//! building, per-request allocations) took about a quarter of the generator's CPU, and the
//! generator's CPU is what bounds a load generator's rate. A load generator needs only a small
//! part of HTTP/1.1: write fixed bytes, read a status line, find where the body ends. hyper stays
//! available as the `hyper` generator ([`crate::HyperHttp1Factory`]) for comparison.
//!
//! What the reader handles: `Content-Length`, `Transfer-Encoding: chunked` (with trailers),
//! bodies delimited by the connection closing, responses without a body (`HEAD`, 1xx, 204, 304),
//! interim 1xx responses before the final one, `Connection: close` and HTTP/1.0 servers. What it
//! refuses, as a `protocol` error: a head over [`MAX_HEAD`] bytes or with more than
//! [`MAX_HEADERS`] fields, an unparsable head, conflicting `Content-Length`s, malformed chunks.
//! Memory per lane is one read buffer of at most [`MAX_HEAD`] bytes whatever the body size.

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::dial::{Dialer, Io, Peer, host_header};
use crate::driver::{Lane, LaneFactory, Stage, Wakeups};
use crate::error::{RequestError, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// The largest response head (status line and fields) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields accepted in one response head.
pub const MAX_HEADERS: usize = 128;
/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// One endpoint: where to connect and the request, encoded once.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) peer: Peer,
    /// The whole request: request line, fields, blank line, body.
    pub(crate) request: Bytes,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) targets: Vec<Target>,
    /// Whether responses to this method have no body (`HEAD`).
    pub(crate) head_method: bool,
    dialer: Dialer,
}

/// Fields the engine writes itself: a user value is accepted only when it agrees (a user `Host`
/// replaces the default one; the spec's own rules refuse it before this).
fn check_user_header(
    name: &http::HeaderName,
    value: &http::HeaderValue,
    body: &[u8],
) -> Result<()> {
    use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    if *name == CONTENT_LENGTH && value.to_str().ok() != Some(body.len().to_string().as_str()) {
        return Err(RequestError::ContentLength {
            value: value.clone(),
            body_len: body.len(),
        }
        .into());
    }
    if *name == TRANSFER_ENCODING {
        return Err(RequestError::TransferEncoding.into());
    }
    Ok(())
}

/// Encodes the request for `path` on `host_header` once.
fn encode(plan: &RunPlan, path: &str, host_header: &str) -> Result<Bytes> {
    use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
    let mut out = Vec::with_capacity(128 + plan.body.len());
    out.extend_from_slice(plan.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let user_host = plan.headers.iter().any(|(k, _)| k == HOST);
    if !user_host {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host_header.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let mut has_length = false;
    for (k, v) in &plan.headers {
        check_user_header(k, v, &plan.body)?;
        has_length |= *k == CONTENT_LENGTH;
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let sends_body = !plan.body.is_empty()
        || matches!(
            plan.method,
            http::Method::POST | http::Method::PUT | http::Method::PATCH
        );
    if sends_body {
        if !plan.body.is_empty() && !plan.headers.iter().any(|(k, _)| k == CONTENT_TYPE) {
            out.extend_from_slice(b"content-type: application/octet-stream\r\n");
        }
        if !has_length {
            out.extend_from_slice(format!("content-length: {}\r\n", plan.body.len()).as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&plan.body);
    Ok(Bytes::from(out))
}

pub(crate) fn shared(plan: &RunPlan) -> Result<Arc<Shared>> {
    let mut targets = Vec::with_capacity(plan.endpoints.len());
    for e in &plan.endpoints {
        let peer = Peer::of(e);
        let host_header = host_header(e, peer.tls);
        if e.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(RequestError::UnencodedPath {
                path: e.path.clone(),
            }
            .into());
        }
        targets.push(Target {
            peer,
            request: encode(plan, &e.path, &host_header)?,
        });
    }
    let peers: Vec<Peer> = targets.iter().map(|t| t.peer.clone()).collect();
    let dialer = Dialer::for_peers(plan, &peers, false)?;
    Ok(Arc::new(Shared {
        targets,
        head_method: plan.method == http::Method::HEAD,
        dialer,
    }))
}

impl Shared {
    /// Connects to `t`, keeping `stage` up to date (read when a timeout cancels the connect).
    async fn connect(&self, t: &Target, stage: &mut Stage) -> std::result::Result<Io, ErrorKind> {
        let io = self.dialer.connect(&t.peer, stage).await?;
        *stage = Stage::Exchange;
        Ok(io)
    }
}

/// Makes native HTTP/1.1 lanes: one keep-alive connection per endpoint per lane.
#[derive(Debug)]
pub struct Http1Factory {
    shared: Arc<Shared>,
}

impl Http1Factory {
    /// Encodes the requests of `plan` (and prepares its TLS config).
    ///
    /// Fails when a header disagrees with the framing the engine writes (`content-length` other
    /// than the body's length, any `transfer-encoding`) or a path holds raw spaces.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        Ok(Http1Factory {
            shared: shared(plan)?,
        })
    }
}

impl Http1Factory {
    /// Runs `plan` on the closed-loop event loop (`h1loop`) when it is eligible (closed model,
    /// no rate ceiling, plain `http`) and its hosts resolve; `None`: run it with [`drive`].
    ///
    /// [`drive`]: crate::drive
    pub(crate) async fn event_loop(
        &self,
        plan: Arc<RunPlan>,
        ctx: crate::driver::RunContext,
    ) -> Option<Result<crate::driver::RunStats>> {
        if !super::h1loop::eligible(&plan, &self.shared) {
            return None;
        }
        super::h1loop::drive(self.shared.clone(), plan, ctx).await
    }
}

impl LaneFactory for Http1Factory {
    type Lane = Http1Lane;
    fn lanes(&self, _: &RunPlan, conn: u32) -> Vec<Http1Lane> {
        let n = self.shared.targets.len();
        vec![Http1Lane {
            shared: self.shared.clone(),
            conns: (0..n).map(|_| None).collect(),
            next: conn as usize % n.max(1),
            buf: BytesMut::new(),
            stage: Stage::Exchange,
            wakeups: None,
            answered: None,
        }]
    }
}

/// One open connection and how many responses it has carried.
struct Conn {
    io: Io,
    served: u64,
}

/// A native HTTP/1.1 lane.
pub struct Http1Lane {
    shared: Arc<Shared>,
    conns: Vec<Option<Conn>>,
    next: usize,
    /// Read buffer, reused for every response; never above [`MAX_HEAD`] + [`READ_CHUNK`].
    buf: BytesMut,
    /// Where the current request is (for [`Lane::timeout_kind`]).
    stage: Stage,
    /// Open model: read answers at the timer's wake-ups (plain TCP on Linux).
    wakeups: Option<Wakeups>,
    /// When the last answer arrived, when its connection knows ([`Lane::answered_at`]).
    answered: Option<std::time::Instant>,
}

impl std::fmt::Debug for Http1Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Lane")
            .field("targets", &self.shared.targets.len())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// How a failed exchange ended: the error and whether a retry on a new connection is safe.
type Failure = (ErrorKind, bool);

/// What a finished response said about its connection.
struct Done {
    status: u16,
    received: u64,
    keep_alive: bool,
}

/// How the body of a response is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of a response head the lane acts on.
struct Head {
    len: usize,
    status: u16,
    framing: Framing,
    keep_alive: bool,
}

fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Parses a head from `buf`: `Ok(None)` when more bytes are needed.
fn parse_head(buf: &[u8], head_method: bool) -> std::result::Result<Option<Head>, ErrorKind> {
    // Uninitialised field slots: initialising 128 of them per parse was a visible memset in the
    // profile; httparse fills only the ones it uses.
    let mut fields =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut res,
        buf,
        &mut fields,
    ) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ErrorKind::Protocol),
    };
    // Three digits, 100 or more (RFC 9110 15): httparse reads `000` too.
    let status = res.code.filter(|&c| c >= 100).ok_or(ErrorKind::Protocol)?;
    let http10 = res.version == Some(0);
    let mut keep_alive = !http10;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(ErrorKind::Protocol)?;
            if length.is_some_and(|l| l != v) {
                return Err(ErrorKind::Protocol);
            }
            length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked must be the last coding; anything else is delimited by the close.
            chunked = h
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if !chunked {
                keep_alive = false;
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            if has_token(h.value, "close") {
                keep_alive = false;
            } else if http10 && has_token(h.value, "keep-alive") {
                keep_alive = true;
            }
        }
    }
    let framing = if head_method || (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(l) = length {
        Framing::Length(l)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive,
    }))
}

/// What [`read_response`] read: the final status, the bytes it consumed (heads of interim
/// answers, the head, the body and its framing), and whether the connection may carry another
/// request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseSummary {
    /// Status code of the final (non-1xx) response.
    pub status: u16,
    /// Bytes of the response on the wire.
    pub received: u64,
    /// Whether the connection stays open (no `Connection: close`, not HTTP/1.0 without
    /// keep-alive, not delimited by the close).
    pub keep_alive: bool,
}

/// Why [`read_response`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The failure.
    pub kind: ErrorKind,
    /// No byte of the response had arrived (a reused connection closed while idle: the request
    /// was not processed and may be retried on a new connection).
    pub before_any_byte: bool,
}

impl ReadError {
    fn new(kind: ErrorKind) -> Self {
        ReadError {
            kind,
            before_any_byte: false,
        }
    }
}

/// Reads more bytes into `buf`; `Ok(false)` on a clean end of stream.
async fn fill<R: AsyncRead + Unpin>(io: &mut R, buf: &mut BytesMut) -> Result<bool, ReadError> {
    buf.reserve(READ_CHUNK);
    match io.read_buf(buf).await {
        Ok(0) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) => Err(ReadError::new(ErrorKind::from_io(&e))),
    }
}

/// Reads one whole HTTP/1.1 response from `io` and drains its body, keeping nothing of it.
///
/// `buf` holds bytes already read from `io` (and keeps any read past this response). It never
/// grows beyond [`MAX_HEAD`] plus one read, whatever the body size. `head_method`: the request
/// was `HEAD`, so the response has no body whatever it declares. This is the reader of the
/// built-in HTTP/1.1 lane, public so that it can be fuzzed (`fuzz/fuzz_targets/h1_response.rs`)
/// and reused by custom generators.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use smi_perf_engine::read_response;
/// let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
/// let mut buf = bytes::BytesMut::new();
/// let r = read_response(&mut &wire[..], &mut buf, false).await.unwrap();
/// assert_eq!((r.status, r.received, r.keep_alive), (200, wire.len() as u64, true));
/// let err = read_response(&mut &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"[..], &mut buf, false).await;
/// assert_eq!(err.unwrap_err().kind, smi_perf_engine::ErrorKind::Reset);
/// # });
/// ```
pub async fn read_response<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    head_method: bool,
) -> Result<ResponseSummary, ReadError> {
    let mut d = Decoder::new(head_method);
    loop {
        if let Some(done) = d.feed(buf)? {
            return Ok(done);
        }
        let fresh = d.fresh(buf);
        match fill(io, buf).await {
            Ok(true) => {}
            Ok(false) => return d.end_of_stream(buf),
            Err(e) => {
                return Err(ReadError {
                    before_any_byte: fresh,
                    ..e
                });
            }
        }
    }
}

/// Where a [`Decoder`] is in a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// A head (interim 1xx heads are skipped).
    Head,
    /// A body of this many bytes still to come.
    Length(u64),
    /// A chunked body: the next chunk-size line.
    ChunkSize,
    /// A chunk's data: this many bytes still to come.
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// The trailer lines after the last chunk, up to an empty one.
    Trailers,
    /// A body delimited by the connection closing.
    UntilClose,
}

/// The HTTP/1.1 response reader as a state machine: fed whatever bytes have arrived, it consumes
/// what it can and says when the response is whole. [`read_response`] drives it from an
/// `AsyncRead`; the closed-loop event loop (`h1loop`) from a non-blocking socket. Memory: it keeps
/// no body bytes, and asks for no more than [`MAX_HEAD`] buffered bytes at a time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoder {
    head_method: bool,
    at: At,
    received: u64,
    status: u16,
    keep_alive: bool,
}

impl Decoder {
    /// A reader for the answer to one request (`head_method`: a `HEAD`, whose answer has no body).
    pub(crate) fn new(head_method: bool) -> Decoder {
        Decoder {
            head_method,
            at: At::Head,
            received: 0,
            status: 0,
            keep_alive: true,
        }
    }

    /// Whether nothing of the answer has arrived yet (with `buf`, the bytes not consumed).
    pub(crate) fn fresh(&self, buf: &[u8]) -> bool {
        self.at == At::Head && self.received == 0 && buf.is_empty()
    }

    fn summary(&self) -> ResponseSummary {
        ResponseSummary {
            status: self.status,
            received: self.received,
            keep_alive: self.keep_alive,
        }
    }

    /// Consumes what it can of `buf`: `Ok(Some(_))` when the response is whole (bytes past it stay
    /// in `buf`), `Ok(None)` when more bytes are needed.
    pub(crate) fn feed(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Option<ResponseSummary>, ReadError> {
        let protocol = || ReadError::new(ErrorKind::Protocol);
        loop {
            match self.at {
                At::Head => match parse_head(buf, self.head_method).map_err(ReadError::new)? {
                    Some(h) if h.status == 101 => return Err(protocol()),
                    Some(h) => {
                        self.received += h.len as u64;
                        buf.advance(h.len);
                        if (100..200).contains(&h.status) {
                            continue;
                        }
                        self.status = h.status;
                        self.keep_alive = h.keep_alive;
                        self.at = match h.framing {
                            Framing::None => return Ok(Some(self.summary())),
                            Framing::Length(0) => return Ok(Some(self.summary())),
                            Framing::Length(n) => At::Length(n),
                            Framing::Chunked => At::ChunkSize,
                            Framing::UntilClose => At::UntilClose,
                        };
                    }
                    None if buf.len() >= MAX_HEAD => return Err(protocol()),
                    None => return Ok(None),
                },
                At::Length(left) | At::ChunkData(left) => {
                    let take = (buf.len() as u64).min(left);
                    buf.advance(take as usize);
                    self.received += take;
                    let left = left - take;
                    self.at = match (self.at, left) {
                        (At::Length(_), 0) => return Ok(Some(self.summary())),
                        (At::Length(_), _) => At::Length(left),
                        (_, 0) => At::ChunkEnd,
                        _ => At::ChunkData(left),
                    };
                    if left > 0 {
                        return Ok(None);
                    }
                }
                At::ChunkSize => match httparse::parse_chunk_size(buf) {
                    Ok(httparse::Status::Complete((n, size))) => {
                        self.received += n as u64;
                        buf.advance(n);
                        self.at = if size == 0 {
                            At::Trailers
                        } else {
                            At::ChunkData(size)
                        };
                    }
                    Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
                        return Err(protocol());
                    }
                    Ok(httparse::Status::Partial) => return Ok(None),
                    Err(_) => return Err(protocol()),
                },
                At::ChunkEnd => {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(protocol());
                    }
                    buf.advance(2);
                    self.received += 2;
                    self.at = At::ChunkSize;
                }
                At::Trailers => match buf.iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        let empty = p == 0 || (p == 1 && buf[0] == b'\r');
                        self.received += p as u64 + 1;
                        buf.advance(p + 1);
                        if empty {
                            return Ok(Some(self.summary()));
                        }
                    }
                    None if buf.len() >= MAX_HEAD => return Err(protocol()),
                    None => return Ok(None),
                },
                At::UntilClose => {
                    self.received += buf.len() as u64;
                    buf.clear();
                    return Ok(None);
                }
            }
        }
    }

    /// The stream ended (after [`feed`](Self::feed) asked for more): the response is whole only
    /// when its body is delimited by the close.
    pub(crate) fn end_of_stream(&mut self, buf: &[u8]) -> Result<ResponseSummary, ReadError> {
        match self.at {
            At::UntilClose => {
                self.keep_alive = false;
                Ok(self.summary())
            }
            _ => Err(ReadError {
                kind: ErrorKind::Reset,
                before_any_byte: self.fresh(buf),
            }),
        }
    }
}

impl Http1Lane {
    /// Sends the request of endpoint `i` and reads its whole response.
    async fn exchange(&mut self, i: usize) -> std::result::Result<Done, Failure> {
        let Http1Lane {
            shared,
            conns,
            buf,
            stage,
            wakeups,
            answered,
            ..
        } = self;
        let t = &shared.targets[i];
        if conns[i].is_none() {
            buf.clear();
            // Boxed: a (re)connect is rare, and its future (a TLS handshake's state) inline
            // would make every request's future as large, copied on every request.
            let io = Box::pin(shared.connect(t, stage))
                .await
                .map_err(|k| (k, false))?;
            let io = io
                .riding(wakeups.as_ref(), false)
                .map_err(|e| (ErrorKind::from_io(&e), false))?;
            conns[i] = Some(Conn { io, served: 0 });
        }
        let conn = conns[i].as_mut().expect("connected above");
        let reused = conn.served > 0;
        conn.io.expect(None);
        // A reused connection the server closed while idle fails on the write or with an end of
        // stream before any byte of the answer: nothing was processed, a new connection may retry.
        conn.io
            .write_all(&t.request)
            .await
            .map_err(|e| (ErrorKind::from_io(&e), reused))?;
        let r = read_response(&mut conn.io, buf, shared.head_method)
            .await
            .map_err(|e| (e.kind, reused && e.before_any_byte))?;
        *answered = conn.io.arrived();
        conn.served += 1;
        Ok(Done {
            status: r.status,
            received: r.received,
            keep_alive: r.keep_alive,
        })
    }

    async fn once(&mut self, i: usize) -> std::result::Result<Outcome, Failure> {
        match self.exchange(i).await {
            Ok(d) => {
                if !d.keep_alive {
                    self.conns[i] = None;
                }
                Ok(Outcome::Response {
                    status: d.status,
                    sent: self.shared.targets[i].request.len() as u64,
                    received: d.received,
                })
            }
            Err(f) => {
                self.conns[i] = None;
                Err(f)
            }
        }
    }
}

impl Lane for Http1Lane {
    async fn prepare(&mut self) {
        let t = &self.shared.targets[self.next];
        if let Ok(io) = self.shared.connect(t, &mut self.stage).await {
            self.conns[self.next] = Some(Conn { io, served: 0 });
        }
    }

    async fn request(&mut self) -> Outcome {
        self.answered = None;
        let i = self.next;
        self.next = (self.next + 1) % self.conns.len();
        let sent = self.shared.targets[i].request.len() as u64;
        match self.once(i).await {
            Ok(o) => o,
            Err((_, true)) => match self.once(i).await {
                Ok(o) => o,
                Err((kind, _)) => Outcome::Error { kind, sent },
            },
            Err((kind, false)) => Outcome::Error {
                kind,
                sent: if matches!(kind, ErrorKind::ConnectRefused | ErrorKind::Connect) {
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
        self.buf.clear();
        self.stage = Stage::Exchange;
    }

    /// Plain-TCP connections (Linux) read their answers at the timer's wake-ups from now on,
    /// the ones already open included.
    fn read_at_wakeups(&mut self, wakeups: Wakeups) {
        for slot in &mut self.conns {
            if let Some(c) = slot.take() {
                *slot = c.io.riding(Some(&wakeups), false).ok().map(|io| Conn {
                    io,
                    served: c.served,
                });
            }
        }
        self.wakeups = Some(wakeups);
    }

    fn answered_at(&self) -> Option<std::time::Instant> {
        self.answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Head {
        parse_head(s.as_bytes(), false).unwrap().unwrap()
    }

    #[test]
    fn framing_follows_rfc9112() {
        assert_eq!(
            head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n").framing,
            Framing::Length(5)
        );
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        assert_eq!(h.framing, Framing::Chunked);
        assert!(h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(h.framing, Framing::UntilClose);
        assert!(!h.keep_alive);
        assert_eq!(
            head("HTTP/1.1 204 No Content\r\ncontent-length: 9\r\n\r\n").framing,
            Framing::None
        );
        assert_eq!(
            head("HTTP/1.1 304 Not Modified\r\n\r\n").framing,
            Framing::None
        );
        let h = parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::None);
    }

    #[test]
    fn connection_tokens() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n").keep_alive
        );
        assert!(!head("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(
            head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(
            head("HTTP/1.1 200 OK\r\nconnection: x, upgrade\r\ncontent-length: 0\r\n\r\n")
                .keep_alive
        );
    }

    #[test]
    fn bad_heads_are_protocol_errors() {
        assert!(
            parse_head(
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
                false
            )
            .is_err()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", false).is_err());
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n", false).is_err());
        assert!(parse_head(b"HTTP/1.1 099 Low\r\n\r\n", false).is_err());
        assert!(matches!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-le", false),
            Ok(None)
        ));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: y\r\n")).collect();
        assert!(parse_head(format!("HTTP/1.1 200 OK\r\n{many}\r\n").as_bytes(), false).is_err());
        // Equal duplicates are fine (RFC 9110 8.6).
        assert!(
            parse_head(
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n",
                false
            )
            .is_ok()
        );
    }
}
