//! The embedded target (`smi-perf serve`): HTTP/1.1 + h2c on one port (hyper-util auto), a
//! TCP echo, a UDP echo and gRPC (health and echo, h2c and with feature `tls` TLS), loopback only,
//! with knobs for delay, status mix, response size and a stall window.
//!
//! **Delay accuracy.** tokio's timer wheel has a 1 ms resolution and rounds every deadline up
//! to the next tick, so `tokio::time::sleep(1ms)` answered after 2.07 ms at p50 (and `5ms` after
//! 6.09 ms). The delay is therefore an absolute deadline (request arrival + delay) waited for
//! on the target's one precise timer (`pacer`: a nanosecond `timerfd` on Linux, shared by every
//! delayed request), which never wakes early and wakes within tens of microseconds of the
//! deadline; elsewhere it falls back to tokio's timer. The timer sleeps at most 1 ms at a time:
//! a thread that slept 5 ms on a busy CPU was often run milliseconds after its wake-up (the
//! scheduler's doing, see `pacer`), which made `--delay 5ms` answer 0.65–3.9 ms late while
//! `1ms` was within 22 µs. `bench/delay.sh` measures the accuracy.

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

/// Parses a target duration: GEP-2257 units (`h`, `m`, `s`, `ms`) plus microseconds (`us` or
/// `µs`), concatenated (`1ms500us`), or a bare `0`. Used for every time setting of the target
/// (`--delay`, `--delay-max`, `--stall-after`, `--stall-for`, `--lifetime`), so a
/// sub-millisecond delay such as `500us` is accepted.
///
/// ```
/// use std::time::Duration;
/// use smi_perf_engine::serve::parse_duration;
/// assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
/// assert_eq!(parse_duration("1ms250us").unwrap(), Duration::from_micros(1250));
/// assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
/// assert!(parse_duration("1.5ms").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.is_empty() {
        return Err("empty duration (expected e.g. 500us, 1ms, 1ms500us, 2s)".into());
    }
    let mut total: u128 = 0;
    let mut rest = t;
    // Units in the order they must appear (each at most once), with their length in ns.
    const UNITS: [(&str, u128); 7] = [
        ("h", 3_600_000_000_000),
        ("ms", 1_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("us", 1_000),
        ("\u{b5}s", 1_000),
        ("ns", 1),
    ];
    let mut last_rank = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return Err(format!(
                "invalid duration {s:?}: expected NUMBER UNIT pairs with whole numbers of at most 12 digits and units h, m, s, ms, us (or \u{b5}s), ns, e.g. 500us or 1ms500us"
            ));
        }
        let n: u128 = rest[..digits].parse().unwrap_or(0);
        rest = &rest[digits..];
        let Some((unit, ns)) = UNITS.iter().find(|(u, _)| rest.starts_with(*u)) else {
            return Err(format!(
                "invalid duration {s:?}: unknown or missing unit (h, m, s, ms, us, \u{b5}s, ns)"
            ));
        };
        // Rank by size: larger units first, each once.
        let rank = *ns;
        if last_rank.is_some_and(|r| rank >= r) {
            return Err(format!(
                "invalid duration {s:?}: units must go from larger to smaller, each once"
            ));
        }
        last_rank = Some(rank);
        total += n * ns;
        rest = &rest[unit.len()..];
    }
    let secs = u64::try_from(total / 1_000_000_000)
        .map_err(|_| format!("invalid duration {s:?}: too long"))?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
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
    /// The precise timer of every delay (see the module docs).
    timer: crate::pacer::Timer,
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

    /// The answer's deadline for a request that arrived at `arrival`: the delay (drawn from
    /// `[delay, delay_max)` with `draw`) after the arrival, pushed to the end of the stall
    /// window when it falls in it. Measured from the arrival, not from when the handler got to
    /// run, so time spent before the handler does not add to the delay.
    fn deadline(&self, arrival: Instant, draw: u64) -> Instant {
        let mut d = self.opts.delay;
        if let Some(max) = self.opts.delay_max
            && max > d
        {
            let span = (max - d).as_nanos() as u64;
            d += Duration::from_nanos(draw % span.max(1));
        }
        let mut at = arrival + d;
        if let Some(after) = self.opts.stall_after {
            let (s, e) = (
                self.started + after,
                self.started + after + self.opts.stall_for,
            );
            if at >= s && at < e {
                at = e;
            }
        }
        at
    }

    async fn wait(&self, arrival: Instant, rng: &mut Rng) {
        let at = self.deadline(arrival, rng.next());
        if at <= Instant::now() {
            return;
        }
        self.timer.sleep_until(at).await;
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
        timer: crate::pacer::Timer::start(),
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
                let arrival = Instant::now();
                async move {
                    let mut rng = Rng::seeded(seed);
                    b.wait(arrival, &mut rng).await;
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
            let arrival = Instant::now();
            delays.then_some(async move {
                let mut rng = Rng::seeded(seed);
                b.wait(arrival, &mut rng).await;
            })
        };
        // Without the `tls` feature the acceptor type is uninhabited (and `Copy`).
        #[cfg_attr(not(feature = "tls"), allow(clippy::clone_on_copy))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_microseconds() {
        let ok = [
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("500us", Duration::from_micros(500)),
            ("500\u{b5}s", Duration::from_micros(500)),
            ("1ms", Duration::from_millis(1)),
            ("1ms500us", Duration::from_micros(1500)),
            ("1s250ms", Duration::from_millis(1250)),
            ("1h2m3s4ms5us6ns", Duration::new(3723, 4_005_006)),
            ("750ns", Duration::from_nanos(750)),
        ];
        for (s, d) in ok {
            assert_eq!(parse_duration(s), Ok(d), "{s}");
        }
        for bad in [
            "",
            "1.5ms",
            "500",
            "ms",
            "5x",
            "1us1ms",
            "1ms1ms",
            "-1ms",
            "1 ms",
            "1000000000000000s",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("duration"), "{bad}: {e}");
        }
    }

    fn behaviour(opts: ServeOptions) -> Behaviour {
        Behaviour {
            opts,
            timer: crate::pacer::Timer::start(),
            body: Bytes::new(),
            started: Instant::now(),
            total_weight: 0,
        }
    }

    /// The regression behind the 2.07 ms p50 for `--delay 1ms`: the delay is an absolute
    /// deadline from the arrival (no rounding to a timer tick), a random delay stays in its range,
    /// and a deadline inside the stall window moves to its end.
    #[tokio::test]
    async fn deadline_is_arrival_plus_delay() {
        let b = behaviour(ServeOptions {
            delay: Duration::from_micros(500),
            ..ServeOptions::default()
        });
        let arrival = Instant::now();
        for draw in [0, 1, 999_999, u64::MAX] {
            assert_eq!(
                b.deadline(arrival, draw),
                arrival + Duration::from_micros(500)
            );
        }
        let b = behaviour(ServeOptions {
            delay: Duration::from_micros(100),
            delay_max: Some(Duration::from_micros(300)),
            ..ServeOptions::default()
        });
        assert_eq!(b.deadline(arrival, 0), arrival + Duration::from_micros(100));
        assert_eq!(
            b.deadline(arrival, 200_000 + 1_234),
            arrival + Duration::from_nanos(101_234)
        );
        for draw in (0..1000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) {
            let d = b.deadline(arrival, draw) - arrival;
            assert!(
                d >= Duration::from_micros(100) && d < Duration::from_micros(300),
                "{d:?}"
            );
        }
        let b = behaviour(ServeOptions {
            delay: Duration::from_millis(1),
            stall_after: Some(Duration::from_secs(10)),
            stall_for: Duration::from_secs(2),
            ..ServeOptions::default()
        });
        let s = b.started;
        assert_eq!(
            b.deadline(s + Duration::from_secs(9), 0),
            s + Duration::from_secs(9) + Duration::from_millis(1)
        );
        assert_eq!(
            b.deadline(s + Duration::from_secs(11), 0),
            s + Duration::from_secs(12)
        );
        assert_eq!(
            b.deadline(s + Duration::from_secs(12), 0),
            s + Duration::from_secs(12) + Duration::from_millis(1)
        );
    }

    /// Structural: waits never end before the deadline (a 5 ms one included: it spans several
    /// of the timer's sleeps) and a passed deadline costs no wait.
    #[tokio::test]
    async fn waits_never_end_early() {
        let b = behaviour(ServeOptions {
            delay: Duration::from_micros(300),
            ..ServeOptions::default()
        });
        let mut rng = Rng::seeded(1);
        for _ in 0..20 {
            let arrival = Instant::now();
            b.wait(arrival, &mut rng).await;
            assert!(Instant::now() >= arrival + Duration::from_micros(300));
        }
        assert!(b.timer.is_precise() || !cfg!(target_os = "linux"));
        let b5 = behaviour(ServeOptions {
            delay: Duration::from_millis(5),
            ..ServeOptions::default()
        });
        let arrival = Instant::now();
        b5.wait(arrival, &mut rng).await;
        assert!(Instant::now() >= arrival + Duration::from_millis(5));
        let past = Instant::now() - Duration::from_millis(5);
        let mut wait = std::pin::pin!(b.wait(past, &mut rng));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::future::Future::poll(wait.as_mut(), &mut cx).is_ready());
    }
}
