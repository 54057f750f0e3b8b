//! Opening connections: TCP with `TCP_NODELAY`, then TLS (feature `tls`) when the endpoint is
//! `https`. Every connection-oriented transport (the native HTTP/1.1 lane, hyper's HTTP/1.1,
//! HTTP/2 and gRPC) dials through one [`Dialer`].

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::driver::Stage;
#[cfg(not(feature = "tls"))]
use crate::error::Error;
use crate::error::Result;
use crate::plan::RunPlan;
use crate::stats::ErrorKind;

/// Where one endpoint is: the address to connect to, the name TLS verifies, whether it is TLS.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// `host:port`.
    pub(crate) addr: String,
    /// TLS server name when none is configured (read only with the `tls` feature).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) host: String,
    /// `https`.
    pub(crate) tls: bool,
}

impl Peer {
    pub(crate) fn of(e: &smi_types::perf::Endpoint) -> Peer {
        Peer {
            addr: e.authority(),
            host: e.host.clone(),
            tls: e.scheme == "https",
        }
    }
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

/// Opens the connections of the lanes: TCP with `TCP_NODELAY`, then TLS when the endpoint is
/// `https`.
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
                Some(super::tls::connector(&plan.tls, h2)?)
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

    /// A dialer for the endpoints of `plan`.
    pub(crate) fn for_peers(plan: &RunPlan, peers: &[Peer], h2: bool) -> Result<Dialer> {
        Dialer::new(plan, peers.iter().any(|p| p.tls), h2)
    }

    async fn tcp(&self, addr: &str) -> Result<TcpStream, ErrorKind> {
        let s = TcpStream::connect(addr)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        let _ = s.set_nodelay(true);
        Ok(s)
    }

    /// TLS over `tcp`, verifying the configured server name or else `host`.
    #[cfg(feature = "tls")]
    async fn tls(
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

    /// Connects to `peer`, keeping `stage` up to date (read when a timeout cancels the
    /// connect): [`Stage::Connect`] while TCP connects, [`Stage::Handshake`] during TLS. The
    /// caller sets the stage that follows.
    pub(crate) async fn connect(&self, peer: &Peer, stage: &mut Stage) -> Result<Io, ErrorKind> {
        *stage = Stage::Connect;
        let tcp = self.tcp(&peer.addr).await?;
        if !peer.tls {
            return Ok(Io::Plain(tcp));
        }
        #[cfg(feature = "tls")]
        {
            *stage = Stage::Handshake;
            let s = self.tls(&peer.host, tcp).await?;
            Ok(Io::Tls(Box::new(s)))
        }
        #[cfg(not(feature = "tls"))]
        Err(ErrorKind::Tls)
    }
}

/// A plain or TLS connection, or (Open model, plain TCP, Linux) one that reads its answers at
/// the timer's wake-ups.
pub(crate) enum Io {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    #[cfg(target_os = "linux")]
    Riding(Box<super::riding::RidingTcp>),
}

impl Io {
    /// Writes all of `b` (and flushes TLS, which buffers).
    pub(crate) async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(b).await,
            #[cfg(feature = "tls")]
            Io::Tls(s) => {
                s.write_all(b).await?;
                s.flush().await
            }
            #[cfg(target_os = "linux")]
            Io::Riding(s) => s.write_all(b).await,
        }
    }

    /// This connection, reading its answers at `wakeups` when given, it is plain TCP on Linux
    /// and the kernel timestamps what it receives (see `riding`); else unchanged. Taking it off
    /// the reactor can fail (the connection is then lost: an error the caller counts).
    /// `shared`: several lanes send on it (HTTP/2), see `riding`.
    pub(crate) fn riding(
        self,
        wakeups: Option<&crate::driver::Wakeups>,
        shared: bool,
    ) -> std::io::Result<Io> {
        #[cfg(target_os = "linux")]
        if let (Some(w), Io::Plain(tcp)) = (wakeups, &self)
            && super::riding::RidingTcp::stamp(tcp).is_ok()
            && let Io::Plain(tcp) = self
        {
            return Ok(Io::Riding(Box::new(super::riding::RidingTcp::new(
                tcp,
                w.clone(),
                shared,
            )?)));
        }
        let _ = (wakeups, shared);
        Ok(self)
    }

    /// A request goes out (sent by the lane of `wakeups`, when given): a riding connection
    /// reads its answer at the timer's wake-ups.
    pub(crate) fn expect(&mut self, wakeups: Option<&crate::driver::Wakeups>) {
        #[cfg(target_os = "linux")]
        if let Io::Riding(r) = self {
            r.expect(wakeups);
        }
        let _ = wakeups;
    }

    /// Whether a riding connection, parked while idle, was closed by the peer meanwhile (see
    /// `riding`); `false` for the others (they see a close as it happens).
    pub(crate) fn closed_while_parked(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Io::Riding(r) => r.closed_while_parked(),
            _ => false,
        }
    }

    /// Nothing is outstanding: a riding connection stops reading until the next request.
    pub(crate) fn park(&mut self) {
        #[cfg(target_os = "linux")]
        if let Io::Riding(r) = self {
            r.park();
        }
    }

    /// When the last bytes read arrived, when the connection knows (a riding one: the kernel's
    /// receive timestamp).
    pub(crate) fn arrived(&self) -> Option<std::time::Instant> {
        match self {
            #[cfg(target_os = "linux")]
            Io::Riding(r) => r.arrived(),
            _ => None,
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Io::Tls(s) => s.is_write_vectored(),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            #[cfg(target_os = "linux")]
            Io::Riding(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
