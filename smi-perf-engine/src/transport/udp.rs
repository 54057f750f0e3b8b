//! Built-in UDP lanes: one connected socket per lane, one datagram out per request, the echo
//! matched back by the sequence number the datagram starts with. A reply that does not come
//! within the loss timeout counts as [`ErrorKind::Lost`]; a late echo of an earlier request is
//! recognised by its sequence number and skipped, never taken for the current one.
//!
//! The datagram is an 8-byte big-endian sequence number followed by the payload
//! (`request.body`, default `smi-perf ping\n`), so the echo server must return it unchanged
//! (the embedded target does: `smi-perf serve --udp-port`). fortio's `udp://` client is the
//! reference for the model (one datagram, wait for the echo); the sequence number is this
//! engine's addition, so that a lost datagram cannot make every later answer one off.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;

use crate::driver::{Lane, LaneFactory};
use crate::error::{RequestError, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Largest UDP payload over IPv4 (65,535 − 8-byte UDP header − 20-byte IP header).
pub const MAX_DATAGRAM: usize = 65_507;

/// Bytes of the sequence number at the start of every datagram.
pub const SEQ_LEN: usize = 8;

/// Loss timeout when `request.timeout` is not set: a datagram not echoed within it is lost.
pub const DEFAULT_LOSS_TIMEOUT: Duration = Duration::from_secs(1);

/// Makes one UDP lane per connection (`connections` sockets, round robin over the endpoints).
#[derive(Clone, Debug)]
pub struct UdpFactory {
    payload: Bytes,
    loss_timeout: Duration,
}

impl UdpFactory {
    /// Checks the datagram fits (sequence number + payload ≤ [`MAX_DATAGRAM`]) and picks the
    /// loss timeout: `request.timeout` when the spec sets one, else [`DEFAULT_LOSS_TIMEOUT`].
    ///
    /// ```
    /// use smi_perf_engine::{RunPlan, UdpFactory};
    /// use smi_types::perf::{PerformanceTestSpec, Protocol};
    /// let spec = PerformanceTestSpec::new(Protocol::Udp, "udp://127.0.0.1:9").requests(1);
    /// assert!(UdpFactory::new(&RunPlan::from_spec(&spec).unwrap()).is_ok());
    /// ```
    pub fn new(plan: &RunPlan) -> Result<Self> {
        if plan.body.len() + SEQ_LEN > MAX_DATAGRAM {
            return Err(RequestError::DatagramTooLarge {
                payload: plan.body.len(),
                max_payload: MAX_DATAGRAM - SEQ_LEN,
            }
            .into());
        }
        let timeout_set = plan
            .spec
            .request
            .as_ref()
            .is_some_and(|r| r.timeout.is_some());
        Ok(UdpFactory {
            payload: plan.body.clone(),
            loss_timeout: if timeout_set {
                plan.timeout
            } else {
                DEFAULT_LOSS_TIMEOUT.min(plan.timeout)
            },
        })
    }

    /// The loss timeout lanes use.
    pub fn loss_timeout(&self) -> Duration {
        self.loss_timeout
    }
}

impl LaneFactory for UdpFactory {
    type Lane = UdpLane;
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<UdpLane> {
        let e = &plan.endpoints[conn as usize % plan.endpoints.len()];
        let mut datagram = vec![0u8; SEQ_LEN];
        datagram.extend_from_slice(&self.payload);
        vec![UdpLane {
            addr: e.authority(),
            datagram,
            // Lanes start apart so two lanes never share a sequence number (not needed for
            // matching: each lane has its own socket; it keeps captures readable).
            seq: u64::from(conn) << 40,
            socket: None,
            buf: vec![0; MAX_DATAGRAM + 1].into_boxed_slice(),
            loss_timeout: self.loss_timeout,
        }]
    }
}

/// A UDP lane: a connected socket, its datagram template and its receive buffer (allocated once).
#[derive(Debug)]
pub struct UdpLane {
    addr: String,
    datagram: Vec<u8>,
    seq: u64,
    socket: Option<UdpSocket>,
    buf: Box<[u8]>,
    loss_timeout: Duration,
}

impl UdpLane {
    async fn open(&mut self) -> Result<(), ErrorKind> {
        let target: SocketAddr = tokio::net::lookup_host(&self.addr)
            .await
            .map_err(|_| ErrorKind::Connect)?
            .next()
            .ok_or(ErrorKind::Connect)?;
        let local: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let s = UdpSocket::bind(local)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        s.connect(target)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        self.socket = Some(s);
        Ok(())
    }

    /// Sends the datagram and waits for its echo. `Err((kind, sent))` on failure.
    async fn exchange(&mut self) -> Result<u64, (ErrorKind, u64)> {
        if self.socket.is_none() {
            self.open().await.map_err(|k| (k, 0))?;
        }
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq.to_be_bytes();
        self.datagram[..SEQ_LEN].copy_from_slice(&seq);
        let UdpLane {
            socket,
            datagram,
            buf,
            loss_timeout,
            ..
        } = self;
        let s = socket.as_ref().expect("opened above");
        let sent = datagram.len() as u64;
        match s.send(datagram).await {
            Ok(n) if n == datagram.len() => {}
            Ok(_) => return Err((ErrorKind::Other, 0)),
            Err(e) => return Err((ErrorKind::from_io(&e), 0)),
        }
        let wait = async {
            loop {
                let n = s.recv(buf).await.map_err(|e| ErrorKind::from_io(&e))?;
                let got = &buf[..n];
                if got.get(..SEQ_LEN) != Some(&seq[..]) {
                    // A late echo of an earlier (already lost) datagram, or a stray one.
                    continue;
                }
                return if got == &datagram[..] {
                    Ok(n as u64)
                } else {
                    // Our sequence number with a different body: not an echo.
                    Err(ErrorKind::Protocol)
                };
            }
        };
        match tokio::time::timeout(*loss_timeout, wait).await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(k)) => Err((k, sent)),
            Err(_) => Err((ErrorKind::Lost, sent)),
        }
    }
}

impl Lane for UdpLane {
    async fn prepare(&mut self) {
        let _ = self.open().await;
    }

    async fn request(&mut self) -> Outcome {
        match self.exchange().await {
            Ok(received) => Outcome::Response {
                status: 200,
                sent: self.datagram.len() as u64,
                received,
            },
            Err((kind, sent)) => {
                if !matches!(kind, ErrorKind::Lost | ErrorKind::Protocol) {
                    // A socket error (e.g. ECONNREFUSED from an ICMP port unreachable): start over.
                    self.socket = None;
                }
                Outcome::Error { kind, sent }
            }
        }
    }

    /// The per-request timeout of the run cancelled the wait: the datagram is lost.
    fn timeout_kind(&self) -> ErrorKind {
        ErrorKind::Lost
    }

    fn reset(&mut self) {
        // The socket stays usable: a late echo is recognised by its sequence number.
    }
}
