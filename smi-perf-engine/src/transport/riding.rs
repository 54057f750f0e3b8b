//! A plain TCP connection that waits for its answers at the Open model's timer wake-ups
//! ([`Wakeups`]) instead of being woken by them, and tells when each answer arrived from the
//! kernel's receive timestamp (`SO_TIMESTAMPNS`). Linux only.
//!
//! Why: at 10,000 requests a second an Open-model run wakes once per send (its fixed cost) and,
//! when the lane waits on the socket's readiness, once more per answer, and on an idle CPU each
//! wake-up costs more than the exchange (`bench/README.md`, "Open model: answers read at the
//! timer's wake-ups"). Between its requests the connection is therefore not registered with the
//! reactor at all, so an answer arriving wakes nobody: the lane tries a non-blocking read at the
//! timer's next wake-up that starts a send. The answer waited in the socket meanwhile; the kernel
//! stamped it when it arrived, so its latency is exact.
//!
//! Bounded: after [`MAX_RIDES`] wake-ups without the answer (a slow target), or when a write
//! would block, the connection is registered with the reactor and waits on readiness as any
//! other (and leaves it again once the answer is read). Without a timestamp (the kernel gave
//! none) an answer is timed to the moment it was read.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::io::{AsyncRead, AsyncWriteExt, Interest, ReadBuf};

use crate::driver::Wakeups;

/// Wake-ups a lane rides waiting for one answer before it waits on readiness instead.
pub(crate) const MAX_RIDES: u8 = 2;

/// Bytes asked of the socket per read.
const CHUNK: usize = 16 * 1024;

enum Sock {
    /// Not registered with the reactor: read when the timer wakes the lane.
    Bare(std::net::TcpStream),
    /// Registered: woken by readiness.
    Reg(tokio::net::TcpStream),
    /// Lost while moving between the two (an I/O error on re-registration).
    Gone,
}

/// A plain TCP connection reading at the timer's wake-ups (see the module documentation).
pub(crate) struct RidingTcp {
    sock: Sock,
    wakeups: Wakeups,
    /// Wake-ups ridden for the current answer.
    rides: u8,
    /// When the last bytes read arrived (kernel timestamp, else when they were read).
    arrived: Option<Instant>,
    scratch: Box<[u8]>,
    cmsg: Vec<u8>,
}

/// The monotonic instant of a kernel receive timestamp (`CLOCK_REALTIME`): as old as the
/// timestamp is now. A timestamp "in the future" (a clock step) is taken as now.
fn monotonic(stamp: SystemTime) -> Instant {
    let (now, wall) = (Instant::now(), SystemTime::now());
    match wall.duration_since(stamp) {
        Ok(age) => now.checked_sub(age).unwrap_or(now),
        Err(_) => now,
    }
}

/// One non-blocking read with the receive timestamp of the bytes read, if the kernel gave one.
fn recv_stamped(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
    cmsg: &mut [u8],
) -> io::Result<(usize, Option<SystemTime>)> {
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(fd, &mut iov, Some(cmsg), MsgFlags::MSG_DONTWAIT)
        .map_err(io::Error::from)?;
    let mut stamp = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmTimestampns(ts) = c
                && let (Ok(s), Ok(ns)) = (u64::try_from(ts.tv_sec()), u32::try_from(ts.tv_nsec()))
            {
                stamp = UNIX_EPOCH.checked_add(Duration::new(s, ns));
            }
        }
    }
    Ok((msg.bytes, stamp))
}

impl RidingTcp {
    /// Takes over a connected stream: asks the kernel to timestamp what it receives and takes
    /// it off the reactor. Fails when either cannot be done (the stream is then lost: the caller
    /// counts it as a failed connection).
    pub(crate) fn new(tcp: tokio::net::TcpStream, wakeups: Wakeups) -> io::Result<RidingTcp> {
        setsockopt(&tcp.as_fd(), sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        let bare = tcp.into_std()?;
        Ok(RidingTcp {
            sock: Sock::Bare(bare),
            wakeups,
            rides: 0,
            arrived: None,
            scratch: vec![0; CHUNK].into_boxed_slice(),
            cmsg: nix::cmsg_space!(nix::sys::time::TimeSpec),
        })
    }

    /// When the last bytes read arrived.
    pub(crate) fn arrived(&self) -> Option<Instant> {
        self.arrived
    }

    /// Ready for the next answer: no wake-up ridden yet, off the reactor again.
    pub(crate) fn settle(&mut self) {
        self.rides = 0;
        self.arrived = None;
        if matches!(self.sock, Sock::Reg(_))
            && let Sock::Reg(s) = std::mem::replace(&mut self.sock, Sock::Gone)
            && let Ok(bare) = s.into_std()
        {
            self.sock = Sock::Bare(bare);
        }
    }

    /// Moves the connection onto the reactor (to wait on readiness).
    fn register(&mut self) -> io::Result<()> {
        if let Sock::Bare(s) = std::mem::replace(&mut self.sock, Sock::Gone) {
            self.sock = Sock::Reg(tokio::net::TcpStream::from_std(s)?);
        }
        Ok(())
    }

    /// Writes all of `b` (without the reactor while the socket takes it).
    pub(crate) async fn write_all(&mut self, mut b: &[u8]) -> io::Result<()> {
        while !b.is_empty() {
            match &mut self.sock {
                Sock::Bare(s) => match s.write(b) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => b = &b[n..],
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.register()?,
                    Err(e) => return Err(e),
                },
                Sock::Reg(s) => return s.write_all(b).await,
                Sock::Gone => return Err(io::ErrorKind::NotConnected.into()),
            }
        }
        Ok(())
    }
}

impl AsyncRead for RidingTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let want = out.remaining().min(me.scratch.len());
        loop {
            let read = match &me.sock {
                Sock::Bare(s) => {
                    match recv_stamped(s.as_raw_fd(), &mut me.scratch[..want], &mut me.cmsg) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if me.rides < MAX_RIDES {
                                me.rides += 1;
                                me.wakeups.register(cx.waker());
                                return Poll::Pending;
                            }
                            me.register()?;
                            continue;
                        }
                        r => r,
                    }
                }
                Sock::Reg(s) => {
                    ready!(s.poll_read_ready(cx))?;
                    let (scratch, cmsg) = (&mut me.scratch, &mut me.cmsg);
                    match s.try_io(Interest::READABLE, || {
                        recv_stamped(s.as_raw_fd(), &mut scratch[..want], cmsg)
                    }) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        r => r,
                    }
                }
                Sock::Gone => Err(io::ErrorKind::NotConnected.into()),
            };
            return match read {
                Ok((n, stamp)) => {
                    if n > 0 {
                        me.arrived = Some(stamp.map_or_else(Instant::now, monotonic));
                    }
                    out.put_slice(&me.scratch[..n]);
                    Poll::Ready(Ok(()))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Poll::Ready(Err(e)),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A connected pair on loopback: the riding client and the server's (blocking) end, with the
    /// run timer the client rides.
    async fn pair(next_send: Option<Duration>) -> (RidingTcp, std::net::TcpStream, crate::pacer::Timer) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server = server.into_std().unwrap();
        server.set_nonblocking(false).unwrap();
        let timer = crate::pacer::Timer::start();
        let base = tokio::time::Instant::now();
        let w = Wakeups::new(timer.pacer(), base);
        w.set_next_send(next_send.map(|d| base + d));
        (RidingTcp::new(client, w).unwrap(), server, timer)
    }

    /// The answer is read 30 ms after it arrived, yet timed to its arrival: the kernel stamped
    /// it inside the server's write (loopback delivers during the sending call), so the instant
    /// lies between just before the write and just after it, not at the read. Some answer of a
    /// few must carry a stamp (the kernel may switch stamping on a moment after it was asked).
    #[tokio::test]
    async fn answers_are_timed_by_their_kernel_stamp_not_by_the_read() {
        let (mut r, mut server, _timer) = pair(Some(Duration::from_secs(60))).await;
        let mut stamped = 0;
        for round in 0..20 {
            let before = Instant::now();
            server.write_all(b"answer").unwrap();
            let written = Instant::now();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let read_from = Instant::now();
            let mut buf = [0u8; 16];
            let n = r.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"answer", "round {round}");
            let at = r.arrived().expect("bytes were read");
            let slack = Duration::from_millis(1);
            assert!(at + slack >= before, "round {round}: {:?} before the write", before - at);
            assert!(at <= Instant::now(), "round {round}: after the read");
            if at <= written + slack {
                stamped += 1;
                assert!(at < read_from, "round {round}");
            }
            r.settle();
            assert!(r.arrived().is_none());
        }
        assert!(stamped > 0, "no answer carried a kernel receive timestamp");
    }

    /// No wake-up of the timer comes (no other lane, no next send): the rider's own limit wakes
    /// it, then it waits on readiness; an answer 50 ms late is still read, and the connection
    /// writes and reads again afterwards (off the reactor once more).
    #[tokio::test]
    async fn a_late_answer_is_read_on_readiness() {
        let (mut r, mut server, _timer) = pair(None).await;
        for _ in 0..2 {
            let writer = std::thread::spawn({
                let mut server = server.try_clone().unwrap();
                move || {
                    std::thread::sleep(Duration::from_millis(50));
                    server.write_all(b"late").unwrap();
                }
            });
            let mut buf = [0u8; 8];
            let n = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf))
                .await
                .expect("the late answer is read")
                .unwrap();
            assert_eq!(&buf[..n], b"late");
            writer.join().unwrap();
            r.settle();
            r.write_all(b"next").await.unwrap();
            let mut got = [0u8; 4];
            std::io::Read::read_exact(&mut server, &mut got).unwrap();
            assert_eq!(&got, b"next");
        }
        assert!(matches!(r.sock, Sock::Bare(_)), "back off the reactor");
    }

    /// A stamp `age` old is `age` before now; a stamp from the future (a clock step) is now.
    #[test]
    fn stamps_map_onto_the_monotonic_clock() {
        let before = Instant::now();
        let age = Duration::from_millis(40);
        let m = monotonic(SystemTime::now() - age);
        let after = Instant::now();
        assert!(m + age >= before && m + age <= after, "{:?}", after - m);
        let m = monotonic(SystemTime::now() + Duration::from_secs(3600));
        assert!(m >= before && m <= Instant::now());
    }
}
