//! The embedded target (`smi-perf serve`): HTTP/1.1 + h2c on one port (hyper-util auto), a
//! TCP echo, a UDP echo and gRPC (health and echo, h2c and with feature `tls` TLS), loopback only,
//! with knobs for delay, status mix, response size and a stall window.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// Largest response body of the embedded target (`smi-perf serve --size`): 64 MiB, held once.
pub const MAX_RESPONSE_SIZE: usize = 64 << 20;

/// Behaviour of the embedded target.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// HTTP (HTTP/1.1 and h2c) listen address; must be loopback. Port 0 = any free port.
    pub http: SocketAddr,
    /// TCP echo listen address (loopback), if wanted.
    pub tcp: Option<SocketAddr>,
    /// UDP echo address (loopback), if wanted: every datagram is sent back unchanged, at once.
    pub udp: Option<SocketAddr>,
    /// gRPC over h2c (loopback), if wanted: `grpc.health.v1.Health/Check` and
    /// [`crate::grpc::ECHO`], after the delay (the status mix and size apply to HTTP only).
    pub grpc: Option<SocketAddr>,
    /// gRPC over TLS (ALPN `h2`), if wanted.
    #[cfg(feature = "tls")]
    pub grpc_tls: Option<GrpcTls>,
    /// Fixed delay before answering.
    pub delay: Duration,
    /// If set, the delay is uniform in `[delay, delay_max]`.
    pub delay_max: Option<Duration>,
    /// Weighted status codes, e.g. `[(200, 99), (503, 1)]` (empty = always 200).
    pub status_mix: Vec<(u16, u32)>,
    /// Response body size in bytes, at most [`MAX_RESPONSE_SIZE`].
    pub response_size: usize,
    /// Start of the stall window, measured from server start.
    pub stall_after: Option<Duration>,
    /// Length of the stall window: requests arriving in it are held until it ends.
    pub stall_for: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            tcp: None,
            udp: None,
            grpc: None,
            #[cfg(feature = "tls")]
            grpc_tls: None,
            delay: Duration::ZERO,
            delay_max: None,
            status_mix: Vec::new(),
            response_size: 2,
            stall_after: None,
            stall_for: Duration::from_secs(1),
        }
    }
}

/// Parses a status mix such as `200:95,503:5` (a bare `200` means weight 1).
///
/// ```
/// assert_eq!(smi_perf_engine::serve::parse_status_mix("200:9,503:1").unwrap(), vec![(200, 9), (503, 1)]);
/// ```
pub fn parse_status_mix(s: &str) -> Result<Vec<(u16, u32)>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (code, w) = p.split_once(':').unwrap_or((p, "1"));
            let code: u16 = code
                .trim()
                .parse()
                .map_err(|_| format!("bad status code in {p:?}"))?;
            if !(100..=999).contains(&code) {
                return Err(format!("status {code} out of range"));
            }
            let w: u32 = w
                .trim()
                .parse()
                .map_err(|_| format!("bad weight in {p:?}"))?;
            Ok((code, w))
        })
        .collect()
}

/// A running target. Dropping it (or [`Server::shutdown`]) stops accepting and closes connections.
#[derive(Debug)]
pub struct Server {
    /// Bound HTTP address.
    pub http_addr: SocketAddr,
    /// Bound TCP echo address.
    pub tcp_addr: Option<SocketAddr>,
    /// Bound UDP echo address.
    pub udp_addr: Option<SocketAddr>,
    /// Bound gRPC (h2c) address.
    pub grpc_addr: Option<SocketAddr>,
    /// Bound gRPC (TLS) address.
    pub grpc_tls_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
}

impl Server {
    /// Stops the server.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A tiny xorshift generator (no cryptographic use).
#[derive(Clone, Copy, Debug)]
struct Rng(u64);

impl Rng {
    fn seeded(extra: u64) -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((t ^ extra.rotate_left(17)) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

struct Behaviour {
    opts: ServeOptions,
    body: Bytes,
    started: Instant,
    total_weight: u64,
}

impl Behaviour {
    fn pick_status(&self, rng: &mut Rng) -> u16 {
        if self.total_weight == 0 {
            return 200;
        }
        let mut r = rng.next() % self.total_weight;
        for (code, w) in &self.opts.status_mix {
            if r < u64::from(*w) {
                return *code;
            }
            r -= u64::from(*w);
        }
        200
    }

    async fn wait(&self, rng: &mut Rng) {
        let mut d = self.opts.delay;
        if let Some(max) = self.opts.delay_max
            && max > d
        {
            let span = (max - d).as_nanos() as u64;
            d += Duration::from_nanos(rng.next() % span.max(1));
        }
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        if let Some(after) = self.opts.stall_after {
            let (s, e) = (
                self.started + after,
                self.started + after + self.opts.stall_for,
            );
            let now = Instant::now();
            if now >= s && now < e {
                tokio::time::sleep_until(e).await;
            }
        }
    }
}

fn check_loopback(a: SocketAddr) -> std::io::Result<()> {
    if a.ip().is_loopback() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the embedded target only binds loopback addresses, not {a}"),
        ))
    }
}

/// Starts the target on the current tokio runtime.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = smi_perf_engine::serve::start(Default::default()).await.unwrap();
/// assert!(server.http_addr.ip().is_loopback());
/// # });
/// ```
pub async fn start(opts: ServeOptions) -> std::io::Result<Server> {
    if opts.response_size > MAX_RESPONSE_SIZE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "response size {} is above the limit of {MAX_RESPONSE_SIZE} bytes (64 MiB)",
                opts.response_size
            ),
        ));
    }
    check_loopback(opts.http)?;
    if let Some(t) = opts.tcp {
        check_loopback(t)?;
    }
    if let Some(u) = opts.udp {
        check_loopback(u)?;
    }
    if let Some(g) = opts.grpc {
        check_loopback(g)?;
    }
    #[cfg(feature = "tls")]
    let grpc_tls = match &opts.grpc_tls {
        Some(t) => {
            check_loopback(t.addr)?;
            Some((TcpListener::bind(t.addr).await?, t.acceptor()?))
        }
        None => None,
    };
    #[cfg(feature = "tls")]
    let grpc_tls_addr = grpc_tls.as_ref().map(|(l, _)| l.local_addr()).transpose()?;
    #[cfg(not(feature = "tls"))]
    let grpc_tls_addr = None;
    let grpc = match opts.grpc {
        Some(a) => Some(TcpListener::bind(a).await?),
        None => None,
    };
    let grpc_addr = grpc.as_ref().map(|l| l.local_addr()).transpose()?;
    let (stop, stop_rx) = watch::channel(false);
    let http = TcpListener::bind(opts.http).await?;
    let http_addr = http.local_addr()?;
    let tcp = match opts.tcp {
        Some(a) => Some(TcpListener::bind(a).await?),
        None => None,
    };
    let tcp_addr = tcp.as_ref().map(|l| l.local_addr()).transpose()?;
    let udp = match opts.udp {
        Some(a) => Some(Arc::new(tokio::net::UdpSocket::bind(a).await?)),
        None => None,
    };
    let udp_addr = udp.as_ref().map(|s| s.local_addr()).transpose()?;
    let total_weight = opts.status_mix.iter().map(|(_, w)| u64::from(*w)).sum();
    let behaviour = Arc::new(Behaviour {
        body: Bytes::from(vec![b'x'; opts.response_size]),
        started: Instant::now(),
        total_weight,
        opts,
    });
    tokio::spawn(accept_http(http, behaviour.clone(), stop_rx.clone()));
    if let Some(l) = tcp {
        tokio::spawn(accept_tcp(l, stop_rx.clone()));
    }
    if let Some(l) = grpc {
        tokio::spawn(accept_grpc(l, None, behaviour.clone(), stop_rx.clone()));
    }
    #[cfg(feature = "tls")]
    if let Some((l, acceptor)) = grpc_tls {
        tokio::spawn(accept_grpc(
            l,
            Some(acceptor),
            behaviour.clone(),
            stop_rx.clone(),
        ));
    }
    if let Some(u) = udp {
        // One echo task per CPU on the shared socket: datagrams are independent.
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        for _ in 0..n {
            tokio::spawn(echo_udp(u.clone(), stop_rx.clone()));
        }
    }
    Ok(Server {
        http_addr,
        tcp_addr,
        udp_addr,
        grpc_addr,
        grpc_tls_addr,
        stop,
    })
}

async fn accept_http(listener: TcpListener, b: Arc<Behaviour>, mut stop: watch::Receiver<bool>) {
    let mut n = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue } },
            _ = stop.changed() => return,
        };
        n += 1;
        let _ = stream.set_nodelay(true);
        let b = b.clone();
        let mut stop = stop.clone();
        let seed = n ^ u64::from(peer.port());
        tokio::spawn(async move {
            let svc = service_fn(move |_req: Request<hyper::body::Incoming>| {
                let b = b.clone();
                async move {
                    let mut rng = Rng::seeded(seed);
                    b.wait(&mut rng).await;
                    let mut res = Response::new(Full::new(b.body.clone()));
                    *res.status_mut() = hyper::StatusCode::from_u16(b.pick_status(&mut rng))
                        .unwrap_or(hyper::StatusCode::OK);
                    Ok::<_, Infallible>(res)
                }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn accept_tcp(listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue } },
            _ = stop.changed() => return,
        };
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = echo(stream) => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn echo(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Sends every datagram back to its sender, unchanged.
async fn echo_udp(s: Arc<tokio::net::UdpSocket>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (n, peer) = tokio::select! {
            r = s.recv_from(&mut buf) => match r {
                Ok(x) => x,
                // ECONNREFUSED from an earlier echo to a closed port, or a transient error.
                Err(_) => {
                    tokio::task::yield_now().await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let _ = s.send_to(&buf[..n], peer).await;
    }
}

/// TLS material of the embedded gRPC target: a PEM certificate chain and its PEM private key.
#[cfg(feature = "tls")]
#[derive(Clone, Debug)]
pub struct GrpcTls {
    /// Listen address (loopback).
    pub addr: SocketAddr,
    /// PEM certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

#[cfg(feature = "tls")]
impl GrpcTls {
    fn acceptor(&self) -> std::io::Result<tokio_rustls::TlsAcceptor> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        let certs = CertificateDer::pem_slice_iter(&self.cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("gRPC TLS certificate: {e}")))?;
        if certs.is_empty() {
            return Err(bad("gRPC TLS certificate: no certificate in the PEM".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| bad(format!("gRPC TLS key: {e}")))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(format!("gRPC TLS: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

#[cfg(not(feature = "tls"))]
type Acceptor = std::convert::Infallible;
#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;

async fn accept_grpc(
    listener: TcpListener,
    tls: Option<Acceptor>,
    b: Arc<Behaviour>,
    mut stop: watch::Receiver<bool>,
) {
    let delays =
        !b.opts.delay.is_zero() || b.opts.delay_max.is_some() || b.opts.stall_after.is_some();
    let mut n = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue } },
            _ = stop.changed() => return,
        };
        n += 1;
        let _ = stream.set_nodelay(true);
        let seed = n ^ u64::from(peer.port());
        let b = b.clone();
        let wait = move || {
            let b = b.clone();
            delays.then_some(async move {
                let mut rng = Rng::seeded(seed);
                b.wait(&mut rng).await;
            })
        };
        let tls = tls.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let serve = async move {
                match tls {
                    None => crate::grpc::serve_connection(stream, wait).await,
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(stream).await {
                            crate::grpc::serve_connection(s, wait).await;
                        }
                    }
                    #[cfg(not(feature = "tls"))]
                    Some(never) => match never {},
                }
            };
            tokio::select! {
                _ = serve => {}
                _ = stop.changed() => {}
            }
        });
    }
}
