//! The one HTTP/2 transport, on the `h2` crate: h2c (prior knowledge) or TLS with ALPN `h2`;
//! `streamsPerConnection` lanes share one connection per endpoint. What travels on a stream is
//! an [`Exchange`]: a plain HTTP/2 request ([`Http2Exchange`], protocol `HTTP2`) or a gRPC unary
//! call ([`GrpcExchange`](super::grpc::GrpcExchange), protocol `gRPC`). The connection handling
//! (dial, handshake, sharing, reconnecting once when a shared connection died) is written once,
//! here, for both.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use h2::client::SendRequest;
use http::{HeaderMap, Request, Uri};

use super::dial::{Dialer, Peer, host_header};
use crate::driver::{Lane, LaneFactory, Stage};
use crate::error::{Error, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Maps an `h2` error to an [`ErrorKind`].
pub(crate) fn classify_h2(e: &h2::Error) -> ErrorKind {
    if let Some(io) = e.get_io() {
        return ErrorKind::from_io(io);
    }
    if e.is_go_away() || e.is_reset() {
        ErrorKind::Reset
    } else {
        ErrorKind::Protocol
    }
}

/// Bytes of a header block, estimated as HTTP/1.1 would write it (`name: value\r\n`).
pub(crate) fn header_size(h: &HeaderMap) -> u64 {
    h.iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>() as u64
}

/// What one request of an HTTP/2 lane is: its head and body, built once before the run, and how
/// its answer is read. Implemented by [`Http2Exchange`] and
/// [`GrpcExchange`](super::grpc::GrpcExchange); sealed.
pub trait Exchange: Send + Sync + std::fmt::Debug + 'static + sealed::Sealed {
    /// The request head for endpoint `i`.
    fn head(&self, i: usize) -> Request<()>;
    /// The request body (empty: the head ends the stream).
    fn body(&self) -> &Bytes;
    /// Bytes counted as written for a request to endpoint `i` (head estimate plus body).
    fn sent(&self, i: usize) -> u64;
    /// Reads the answer to the end (releasing flow-control capacity) into an [`Outcome`].
    fn answer(
        &self,
        res: http::Response<h2::RecvStream>,
        sent: u64,
    ) -> impl Future<Output = Outcome> + Send;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// One HTTP/2 connection shared by the stream lanes of a connection group: the current sender
/// and its generation (bumped on every reconnect).
#[derive(Debug, Default)]
struct Slot {
    current: tokio::sync::Mutex<(u64, Option<SendRequest<Bytes>>)>,
}

/// Everything every lane shares, read-only.
#[derive(Debug)]
struct Shared<X> {
    peers: Vec<Peer>,
    dialer: Dialer,
    exchange: X,
}

/// Makes HTTP/2 lanes: `streamsPerConnection` lanes per connection, sharing it.
#[derive(Debug)]
pub struct H2Factory<X> {
    shared: Arc<Shared<X>>,
}

/// Makes HTTP/2 lanes (protocol `HTTP2`).
pub type Http2Factory = H2Factory<Http2Exchange>;

/// One stream slot of an HTTP/2 connection (protocol `HTTP2`).
pub type Http2Lane = H2Lane<Http2Exchange>;

impl<X: Exchange> H2Factory<X> {
    /// Lanes that send `exchange` to the endpoints of `plan` (TLS config with ALPN `h2`).
    pub(crate) fn with(plan: &RunPlan, exchange: X) -> Result<Self> {
        let peers: Vec<Peer> = plan.endpoints.iter().map(Peer::of).collect();
        let dialer = Dialer::for_peers(plan, &peers, true)?;
        Ok(H2Factory {
            shared: Arc::new(Shared {
                peers,
                dialer,
                exchange,
            }),
        })
    }

    /// What every request is.
    pub fn exchange(&self) -> &X {
        &self.shared.exchange
    }
}

impl H2Factory<Http2Exchange> {
    /// Prepares the request templates (and TLS config with ALPN `h2`) of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        Self::with(plan, Http2Exchange::new(plan)?)
    }
}

impl<X: Exchange> LaneFactory for H2Factory<X> {
    type Lane = H2Lane<X>;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<H2Lane<X>> {
        let n = self.shared.peers.len();
        let slots: Arc<Vec<Slot>> = Arc::new((0..n).map(|_| Slot::default()).collect());
        (0..plan.streams)
            .map(|s| H2Lane {
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
pub struct H2Lane<X> {
    shared: Arc<Shared<X>>,
    slots: Arc<Vec<Slot>>,
    /// Per endpoint: this lane's clone of the sender and its generation.
    mine: Vec<Option<(u64, SendRequest<Bytes>)>>,
    next: usize,
    /// Where the current request is (for [`Lane::timeout_kind`]); waiting for the connection
    /// another lane of the group is opening counts as connecting.
    stage: Stage,
}

impl<X: Exchange> H2Lane<X> {
    /// Opens a connection to endpoint `i`.
    async fn connect(&mut self, i: usize) -> Result<SendRequest<Bytes>, ErrorKind> {
        let io = self
            .shared
            .dialer
            .connect(&self.shared.peers[i], &mut self.stage)
            .await?;
        self.stage = Stage::Handshake;
        let (sender, conn) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(4 << 20)
            .enable_push(false)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| classify_h2(&e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// A sender for endpoint `i`: this lane's copy, or the group's connection (opened now when
    /// there is none).
    async fn sender(&mut self, i: usize) -> Result<SendRequest<Bytes>, ErrorKind> {
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

    /// A sender for `i` ready to open a stream; a connection that is gone is replaced once.
    async fn ready(&mut self, i: usize) -> Result<SendRequest<Bytes>, ErrorKind> {
        if let Ok(s) = self.sender(i).await?.ready().await {
            return Ok(s);
        }
        self.forget(i);
        match self.sender(i).await?.ready().await {
            Ok(s) => Ok(s),
            Err(e) => {
                self.forget(i);
                Err(classify_h2(&e))
            }
        }
    }

    async fn call(&mut self, i: usize) -> Outcome {
        let mut sender = match self.ready(i).await {
            Ok(s) => s,
            Err(kind) => return Outcome::Error { kind, sent: 0 },
        };
        let x = &self.shared.exchange;
        let body = x.body();
        let (response, mut stream) = match sender.send_request(x.head(i), body.is_empty()) {
            Ok(r) => r,
            Err(e) => {
                let kind = classify_h2(&e);
                self.forget(i);
                return Outcome::Error { kind, sent: 0 };
            }
        };
        let sent = x.sent(i);
        if !body.is_empty()
            && let Err(e) = stream.send_data(body.clone(), true)
        {
            return Outcome::Error {
                kind: classify_h2(&e),
                sent,
            };
        }
        match response.await {
            Ok(res) => x.answer(res, sent).await,
            Err(e) => Outcome::Error {
                kind: classify_h2(&e),
                sent,
            },
        }
    }
}

impl<X: Exchange> Lane for H2Lane<X> {
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
        // A cancelled stream does not poison an HTTP/2 connection (dropping it resets the
        // stream); keep it.
        self.stage = Stage::Exchange;
    }
}

/// Plain HTTP/2 requests (protocol `HTTP2`): the spec's method, headers and body to each
/// endpoint, the answer's body drained without being kept.
#[derive(Debug)]
pub struct Http2Exchange {
    /// Per endpoint: the absolute URI and the request's byte estimate (head and body).
    targets: Vec<(Uri, u64)>,
    method: http::Method,
    headers: HeaderMap,
    body: Bytes,
}

/// Fields HTTP/2 forbids (RFC 9113 8.2.2): they describe an HTTP/1.1 connection. hyper's HTTP/2
/// client, which this transport replaced, dropped them too.
fn connection_specific(name: &http::HeaderName, value: &http::HeaderValue) -> bool {
    use http::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
        || (name == TE && value != "trailers")
}

impl Http2Exchange {
    /// The requests of `plan`.
    pub fn new(plan: &RunPlan) -> Result<Self> {
        let mut headers = HeaderMap::new();
        for (k, v) in &plan.headers {
            if !connection_specific(k, v) {
                headers.append(k.clone(), v.clone());
            }
        }
        if !plan.body.is_empty() && !headers.contains_key(http::header::CONTENT_TYPE) {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/octet-stream"),
            );
        }
        let mut targets = Vec::with_capacity(plan.endpoints.len());
        for e in &plan.endpoints {
            let tls = e.scheme == "https";
            // HTTP/2 needs the absolute form (scheme and :authority).
            let uri: Uri = format!(
                "{}://{}{}",
                if tls { "https" } else { "http" },
                host_header(e, tls),
                e.path
            )
            .parse()
            .map_err(|err| Error::http(format!("endpoint path {:?}", e.path), err))?;
            let head_len = super::head_len(&plan.method, &e.path, &headers, plan.body.len());
            targets.push((uri, head_len + plan.body.len() as u64));
        }
        // The body's length, as HTTP/1.1 would frame it (a method without defined payload
        // semantics and no body sends none).
        let no_payload = matches!(
            plan.method,
            http::Method::GET | http::Method::HEAD | http::Method::DELETE | http::Method::CONNECT
        );
        if (!plan.body.is_empty() || !no_payload)
            && !headers.contains_key(http::header::CONTENT_LENGTH)
        {
            headers.insert(
                http::header::CONTENT_LENGTH,
                http::HeaderValue::from(plan.body.len()),
            );
        }
        Ok(Http2Exchange {
            targets,
            method: plan.method.clone(),
            headers,
            body: plan.body.clone(),
        })
    }
}

/// A request head: `method` to `uri` with `headers`.
pub(crate) fn request_head(method: &http::Method, uri: &Uri, headers: &HeaderMap) -> Request<()> {
    let mut req = Request::new(());
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri.clone();
    *req.headers_mut() = headers.clone();
    req
}

/// The response head's size, estimated as HTTP/1.1 would write it.
pub(crate) fn head_size(res: &http::response::Parts) -> u64 {
    17 + header_size(&res.headers) + 2
}

impl sealed::Sealed for Http2Exchange {}

impl Exchange for Http2Exchange {
    fn head(&self, i: usize) -> Request<()> {
        request_head(&self.method, &self.targets[i].0, &self.headers)
    }

    fn body(&self) -> &Bytes {
        &self.body
    }

    fn sent(&self, i: usize) -> u64 {
        self.targets[i].1
    }

    async fn answer(&self, res: http::Response<h2::RecvStream>, sent: u64) -> Outcome {
        let (parts, mut body) = res.into_parts();
        let mut received = head_size(&parts);
        while let Some(chunk) = body.data().await {
            match chunk {
                Ok(d) => {
                    received += d.len() as u64;
                    let _ = body.flow_control().release_capacity(d.len());
                }
                Err(e) => {
                    return Outcome::Error {
                        kind: classify_h2(&e),
                        sent,
                    };
                }
            }
        }
        if let Err(e) = body.trailers().await {
            return Outcome::Error {
                kind: classify_h2(&e),
                sent,
            };
        }
        Outcome::Response {
            status: parts.status.as_u16(),
            sent,
            received,
        }
    }
}
