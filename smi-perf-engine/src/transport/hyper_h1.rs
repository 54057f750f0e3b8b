//! HTTP/1.1 through hyper's client (the `hyper` generator): one keep-alive connection per
//! endpoint per lane, kept for comparison with the native lane of the `builtin` generator
//! ([`Http1Factory`](super::h1::Http1Factory)).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::dial::{Dialer, Peer, host_header};
use super::h2::head_size;
use crate::driver::{Lane, LaneFactory, Stage};
use crate::error::{Error, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// One endpoint, prepared once: where to connect and what to put in every request.
#[derive(Clone, Debug)]
struct Target {
    peer: Peer,
    uri: Uri,
    headers: HeaderMap,
    head_len: u64,
}

/// Everything every lane shares, read-only.
#[derive(Debug)]
struct Shared {
    targets: Vec<Target>,
    method: http::Method,
    body: Bytes,
    dialer: Dialer,
}

fn shared(plan: &RunPlan) -> Result<Arc<Shared>> {
    let mut targets = Vec::new();
    for e in &plan.endpoints {
        let peer = Peer::of(e);
        let host_header = host_header(e, peer.tls);
        // Origin form + Host.
        let uri: Uri = e
            .path
            .parse()
            .map_err(|err| Error::http(format!("endpoint path {:?}", e.path), err))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_str(&host_header)
                .map_err(|err| Error::http("host header", err))?,
        );
        for (k, v) in &plan.headers {
            headers.append(k.clone(), v.clone());
        }
        if !plan.body.is_empty() && !headers.contains_key(http::header::CONTENT_TYPE) {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/octet-stream"),
            );
        }
        let head_len = super::head_len(&plan.method, &e.path, &headers, plan.body.len());
        targets.push(Target {
            peer,
            uri,
            headers,
            head_len,
        });
    }
    let peers: Vec<Peer> = targets.iter().map(|t| t.peer.clone()).collect();
    let dialer = Dialer::for_peers(plan, &peers, false)?;
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
    async fn connect(&self, t: &Target, stage: &mut Stage) -> Result<H1, ErrorKind> {
        let io = self.dialer.connect(&t.peer, stage).await?;
        *stage = Stage::Handshake;
        let (sender, conn) = http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| classify(&e))?;
        *stage = Stage::Exchange;
        Ok(H1 {
            sender,
            conn: Box::pin(conn),
            served: 0,
        })
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
            shared: shared(plan)?,
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
            conns[i] = Some(shared.connect(t, stage).await.map_err(|k| (k, false))?);
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
            .connect(&shared.targets[self.next], &mut self.stage)
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
