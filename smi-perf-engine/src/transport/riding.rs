//! A plain TCP connection that waits for its answers at the Open model's timer wake-ups
//! ([`Wakeups`]) instead of being woken by them, and tells when each answer arrived from the
//! kernel's receive timestamp (`SO_TIMESTAMPNS`). Linux only.
//!
//! Why: at 10,000 requests a second an Open-model run wakes once per send (its fixed cost) and,
//! when the lane waits on the socket's readiness, once more per answer, and on an idle CPU each
//! wake-up costs more than the exchange (`bench/README.md`, "Open model: answers read at the
//! timer's wake-ups"). While it waits for an answer the connection is therefore not registered
//! with the reactor, so an answer arriving wakes nobody: the reader tries a non-blocking read at
//! the timer's next wake-up that starts a send. The answer waited in the socket meanwhile; the
//! kernel stamped it when it arrived, so its latency is exact. Neither right after a request nor
//! right after a read that emptied the socket is a read tried: it waits for a wake-up.
//!
//! The protocol says when an answer is expected ([`RidingTcp::expect`], as a request goes out)
//! and, for a shared connection, when none is ([`RidingTcp::park`]: HTTP/2 with no open stream;
//! a read then waits, without a syscall, for the next request, and a frame the server sends
//! meanwhile — PING, GOAWAY — is read with the next answer; a close meanwhile is found by one
//! non-blocking peek before the next request, which then opens a new connection). Bounded: a
//! lane behind its schedule, an answer later than the lane's next send, a shared reader that
//! rode [`MAX_RIDES`] wake-ups without an answer, or a write that would block: the connection
//! is registered with the reactor and waits on readiness as any other, until the next
//! [`expect`](RidingTcp::expect) takes it off again. An answer the kernel did not stamp is timed
//! to the moment it was read.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use crate::driver::Wakeups;

/// Wake-ups a shared connection's reader rides waiting for an answer before it waits on
/// readiness instead.
pub(crate) const MAX_RIDES: u8 = 2;

/// Bytes asked of the socket per read at most (the caller's buffer may ask for less).
const CHUNK: usize = 64 * 1024;

thread_local! {
    /// What every connection read on this thread reads into (initialised once), then copies
    /// out: a caller's uninitialised buffer would otherwise be zeroed on every read. One per
    /// thread, not one per connection: the kernel writes each answer into the same few,
    /// cache-warm lines, where 50 connections' own buffers were 50 cold ones after every idle
    /// step (`bench/README.md`, "Open model on a coarse grid").
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; CHUNK].into_boxed_slice());
}

/// Reads from `fd` (as [`recv_stamped`]) at most `want` bytes into `out`, through this thread's
/// [`SCRATCH`].
fn recv_into(
    fd: std::os::fd::RawFd,
    want: usize,
    cmsg: &mut [u8],
    out: &mut ReadBuf<'_>,
) -> io::Result<(usize, Option<i128>)> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let got = recv_stamped(fd, &mut s[..want], cmsg)?;
        out.put_slice(&s[..got.0]);
        Ok(got)
    })
}

enum Sock {
    /// Not registered with the reactor: read when the timer wakes the reader.
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
    /// Wake-ups ridden since the last request went out.
    rides: u8,
    /// No answer is expected: reads wait for [`expect`](Self::expect).
    parked: bool,
    /// Shared by several lanes (HTTP/2): ride any wake-up; else read at the lane's next send.
    shared: bool,
    /// The reader that last got `Pending` from a read (moved to riding by `expect`).
    reader: Option<Waker>,
    /// A request went out and no read was tried since: the answer cannot be there yet (the
    /// target has not run), so the first read waits for a wake-up without trying.
    fresh: bool,
    /// The last read emptied the socket (it returned less than asked) and no wake-up was
    /// ridden since: a read now would find nothing, so it waits for a wake-up without trying
    /// (an HTTP/2 connection reads once more after each answer while another stream is open).
    drained: bool,
    /// When the last bytes read arrived (kernel timestamp, else when they were read).
    arrived: Option<Instant>,
    /// The clocks at the last read attempt, which left the socket empty: no byte read since
    /// arrived before. (Not moved when a request goes out: on a shared connection an answer
    /// to an earlier request may have arrived and wait unread.)
    before: Clocks,
    /// What [`Clocks`] count the monotonic clock from.
    base: Instant,
    cmsg: Vec<u8>,
}

/// The two clocks read together: the monotonic clock the run times with (nanoseconds since a
/// base) and the wall clock the kernel stamps with (`CLOCK_REALTIME`, nanoseconds since the
/// epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clocks {
    pub(crate) mono: i128,
    wall: i128,
}

impl Clocks {
    pub(crate) fn read(base: Instant) -> Clocks {
        Clocks::at(Instant::now(), base)
    }

    /// The clocks with the monotonic one read as `now` (the wall clock is read here).
    pub(crate) fn at(now: Instant, base: Instant) -> Clocks {
        let mono = now.saturating_duration_since(base).as_nanos() as i128;
        let wall = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        };
        Clocks { mono, wall }
    }

    /// Wall minus monotonic.
    fn offset(self) -> i128 {
        self.wall - self.mono
    }
}

/// A change of the wall clock's offset from the monotonic one below this is a slew (a rate
/// difference, at most 500 ppm under NTP), not a step.
const SLEW: i128 = 10_000;

/// The monotonic time (nanoseconds since the base) at which bytes stamped `stamp` by the kernel
/// (wall clock) arrived, read now, when no byte had arrived at `before` (the previous read, or
/// the request going out).
///
/// The wall clock can be stepped between the arrival and the read (by NTP; the VM this was
/// written on steps it 0.5 ms every 100 ms), so the offset between the clocks at the read is not
/// always the one at the arrival. Without a step since `before` (the offset moved less than
/// [`SLEW`]) the arrival is `stamp` minus the offset now. With one, the arrival is `stamp` minus
/// the offset either before or after the step: the one that falls between `before` and now is
/// taken; if both or neither do, the read time, so latency is never understated. Always between
/// `before` and now.
pub(crate) fn arrival(stamp: i128, before: Clocks, now: Clocks) -> i128 {
    let within = |m: i128| (before.mono..=now.mono).contains(&m);
    let after_step = stamp - now.offset();
    if (now.offset() - before.offset()).abs() < SLEW {
        return after_step.clamp(before.mono, now.mono);
    }
    let before_step = stamp - before.offset();
    match (within(before_step), within(after_step)) {
        (true, false) => before_step,
        (false, true) => after_step,
        _ => now.mono,
    }
}

/// One non-blocking read with the receive timestamp of the bytes read, if the kernel gave one.
pub(crate) fn recv_stamped(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
    cmsg: &mut [u8],
) -> io::Result<(usize, Option<i128>)> {
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg =
        recvmsg::<()>(fd, &mut iov, Some(cmsg), MsgFlags::MSG_DONTWAIT).map_err(io::Error::from)?;
    let mut stamp = None;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmTimestampns(ts) = c {
                stamp = Some(i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec()));
            }
        }
    }
    Ok((msg.bytes, stamp))
}

/// Asks the kernel to timestamp what the socket `fd` receives (`SO_TIMESTAMPNS`).
pub(crate) fn stamp_fd(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    setsockopt(&fd, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// Room for the control message of one receive timestamp.
pub(crate) fn stamp_cmsg() -> Vec<u8> {
    nix::cmsg_space!(nix::sys::time::TimeSpec)
}

impl RidingTcp {
    /// Asks the kernel to timestamp what `tcp` receives; an error when it cannot (the
    /// connection then stays an ordinary one).
    pub(crate) fn stamp(tcp: &tokio::net::TcpStream) -> io::Result<()> {
        stamp_fd(tcp.as_fd())
    }

    /// Takes over a connected stream that [`stamp`](Self::stamp) accepted, off the reactor.
    /// Fails when that cannot be done (the stream is then lost: the caller counts it as a failed
    /// connection).
    pub(crate) fn new(
        tcp: tokio::net::TcpStream,
        wakeups: Wakeups,
        shared: bool,
    ) -> io::Result<RidingTcp> {
        let bare = tcp.into_std()?;
        let base = Instant::now();
        Ok(RidingTcp {
            sock: Sock::Bare(bare),
            wakeups,
            rides: 0,
            parked: false,
            shared,
            reader: None,
            fresh: false,
            drained: false,
            arrived: None,
            before: Clocks::read(base),
            base,
            cmsg: stamp_cmsg(),
        })
    }

    /// When the last bytes read arrived.
    pub(crate) fn arrived(&self) -> Option<Instant> {
        self.arrived
    }

    /// A request goes out: its answer is read at the timer's wake-ups (the connection leaves
    /// the reactor if it was on it; a reader waiting on readiness or parked rides from now on).
    /// `wakeups`: the lane sending it, when not the one that opened the connection (HTTP/2):
    /// its [`Wakeups::read_by`] bounds the wait from now on.
    pub(crate) fn expect(&mut self, wakeups: Option<&Wakeups>) {
        if let Some(w) = wakeups {
            self.wakeups.clone_from(w);
        }
        self.rides = 0;
        self.parked = false;
        self.arrived = None;
        self.fresh = true;
        self.drained = false;
        if matches!(self.sock, Sock::Reg(_))
            && let Sock::Reg(s) = std::mem::replace(&mut self.sock, Sock::Gone)
            && let Ok(bare) = s.into_std()
        {
            self.sock = Sock::Bare(bare);
        }
        if let Some(w) = self.reader.take() {
            // Waiting on readiness or parked: that registration is gone, ride instead.
            self.fresh = false;
            if !self.ride(&w) {
                w.wake();
            }
        }
    }

    /// Registers `waker` to read at a wake-up of the timer (see [`Wakeups`]): a connection of
    /// one lane at that lane's next send, once; a shared one at the timer's next wake-ups, at
    /// most [`MAX_RIDES`] times. `false` when the reader should wait on readiness instead (rode
    /// enough, or the lane is behind its schedule).
    fn ride(&mut self, waker: &Waker) -> bool {
        let rode = if self.shared {
            self.rides < MAX_RIDES && self.wakeups.ride(waker)
        } else {
            self.rides < 1 && self.wakeups.wait_for_next_send(waker)
        };
        if rode {
            self.rides += 1;
            self.reader = Some(waker.clone());
            self.drained = false;
        }
        rode
    }

    /// No answer is expected (nothing outstanding on the connection): reads wait for the next
    /// [`expect`](Self::expect) without touching the socket.
    pub(crate) fn park(&mut self) {
        self.parked = true;
    }

    /// Whether the peer closed the connection while it was parked (idle and unread): one
    /// non-blocking peek before a request goes out on a parked connection, so that a server
    /// closing idle connections costs no request (a connection read on arrival sees the close as
    /// it happens; a 10 ms threshold before peeking still lost requests sent right after a
    /// reconnect). Bytes waiting (a GOAWAY, a PING) are not a close: they are read with the
    /// answer.
    pub(crate) fn closed_while_parked(&self) -> bool {
        if !self.parked {
            return false;
        }
        let fd = match &self.sock {
            Sock::Bare(s) => s.as_raw_fd(),
            Sock::Reg(s) => s.as_raw_fd(),
            Sock::Gone => return true,
        };
        let mut one = [0u8; 1];
        match nix::sys::socket::recv(fd, &mut one, MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e != nix::errno::Errno::EAGAIN && e != nix::errno::Errno::EINTR,
        }
    }

    /// Moves the connection onto the reactor (to wait on readiness).
    fn register(&mut self) -> io::Result<()> {
        if let Sock::Bare(s) = std::mem::replace(&mut self.sock, Sock::Gone) {
            self.sock = Sock::Reg(tokio::net::TcpStream::from_std(s)?);
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
        if me.parked {
            me.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        // Right after a request or a read that emptied the socket, nothing can be read yet:
        // wait for a wake-up without the syscall (`before` stays at that read).
        if (std::mem::take(&mut me.fresh) || std::mem::take(&mut me.drained))
            && matches!(me.sock, Sock::Bare(_))
            && me.ride(cx.waker())
        {
            return Poll::Pending;
        }
        let want = out.remaining().min(CHUNK);
        loop {
            let read = match &me.sock {
                Sock::Bare(s) => match recv_into(s.as_raw_fd(), want, &mut me.cmsg, out) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        me.before = Clocks::read(me.base);
                        if me.ride(cx.waker()) {
                            return Poll::Pending;
                        }
                        me.register()?;
                        continue;
                    }
                    r => r,
                },
                Sock::Reg(s) => {
                    me.reader = Some(cx.waker().clone());
                    ready!(s.poll_read_ready(cx))?;
                    let cmsg = &mut me.cmsg;
                    match s.try_io(Interest::READABLE, || {
                        recv_into(s.as_raw_fd(), want, cmsg, out)
                    }) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            me.before = Clocks::read(me.base);
                            continue;
                        }
                        r => r,
                    }
                }
                Sock::Gone => Err(io::ErrorKind::NotConnected.into()),
            };
            return match read {
                Ok((n, stamp)) => {
                    me.reader = None;
                    let now = Clocks::read(me.base);
                    if n > 0 {
                        let at = stamp.map_or(now.mono, |s| arrival(s, me.before, now));
                        me.arrived = Some(me.base + Duration::from_nanos(at.max(0) as u64));
                    }
                    if n < want {
                        // The read emptied the socket.
                        me.before = now;
                        me.drained = matches!(me.sock, Sock::Bare(_));
                    }
                    Poll::Ready(Ok(()))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    me.reader = None;
                    Poll::Ready(Err(e))
                }
            };
        }
    }
}

impl AsyncWrite for RidingTcp {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        loop {
            match &mut me.sock {
                Sock::Bare(s) => match s.write(b) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // Full: wait for room on the reactor (the next `expect` leaves it).
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => me.register()?,
                    r => return Poll::Ready(r),
                },
                Sock::Reg(s) => return Pin::new(s).poll_write(cx, b),
                Sock::Gone => return Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        match &mut me.sock {
            Sock::Bare(s) => Poll::Ready(s.shutdown(std::net::Shutdown::Write)),
            Sock::Reg(s) => Pin::new(s).poll_shutdown(cx),
            Sock::Gone => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A connected pair on loopback: the riding client and the server's (blocking) end, with the
    /// run timer the client rides.
    async fn pair(
        next_send: Option<Duration>,
        shared: bool,
    ) -> (RidingTcp, std::net::TcpStream, crate::pacer::Timer) {
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
        if let Some(d) = next_send {
            w.set_read_by(base + d);
        }
        RidingTcp::stamp(&client).unwrap();
        (RidingTcp::new(client, w, shared).unwrap(), server, timer)
    }

    /// The answer arrives at once but is read at the lane's next send, 30 ms later (the read
    /// right after the request waits for that wake-up without trying), yet timed to its
    /// arrival: the kernel stamped it inside the server's write (loopback delivers during the
    /// sending call), so the instant lies between just before and just after the write, not at
    /// the read. Some answer of a few must carry a stamp (the kernel may switch stamping on a
    /// moment after it was asked).
    #[tokio::test]
    async fn answers_are_timed_by_their_kernel_stamp_not_by_the_read() {
        let (mut r, mut server, _timer) = pair(None, false).await;
        let mut stamped = 0;
        for round in 0..10 {
            r.expect(None);
            assert!(r.arrived().is_none());
            let next_send = tokio::time::Instant::now() + Duration::from_millis(30);
            r.wakeups.set_read_by(next_send);
            let before = Instant::now();
            server.write_all(b"answer").unwrap();
            let written = Instant::now();
            let mut buf = [0u8; 16];
            let n = r.read(&mut buf).await.unwrap();
            let read = Instant::now();
            assert_eq!(&buf[..n], b"answer", "round {round}");
            assert!(
                read >= next_send.into_std(),
                "round {round}: read before the wake-up"
            );
            let at = r.arrived().expect("bytes were read");
            let slack = Duration::from_millis(1);
            assert!(
                at + slack >= before,
                "round {round}: {:?} before the write",
                before - at
            );
            assert!(at <= read, "round {round}: after the read");
            if at <= written + slack {
                stamped += 1;
            }
        }
        assert!(stamped > 0, "no answer carried a kernel receive timestamp");
    }

    /// An answer later than the lane's next send (50 ms vs 20 ms), or with no next send known:
    /// the reader is woken at the next send, finds nothing, waits on readiness; the answer is
    /// still read, and the connection writes and reads again afterwards (off the reactor once
    /// more).
    #[tokio::test]
    async fn a_late_answer_is_read_on_readiness() {
        let (mut r, mut server, _timer) = pair(None, false).await;
        for round in 0..4 {
            if round % 2 == 1 {
                r.wakeups
                    .set_read_by(tokio::time::Instant::now() + Duration::from_millis(20));
            }
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
            r.expect(None);
            tokio::io::AsyncWriteExt::write_all(&mut r, b"next")
                .await
                .unwrap();
            let mut got = [0u8; 4];
            std::io::Read::read_exact(&mut server, &mut got).unwrap();
            assert_eq!(&got, b"next");
        }
        assert!(matches!(r.sock, Sock::Bare(_)), "back off the reactor");
    }

    /// Arrival times from wall-clock stamps (synthetic clock readings, µs): without a step the
    /// stamp minus the offset now; with a step of the wall clock since the previous read (0.5 ms,
    /// as on the VM this was written on) the candidate between the previous read and now; when
    /// both or neither fit, the read time (never an understated latency).
    #[test]
    fn arrivals_survive_wall_clock_steps() {
        let us = 1_000i128;
        let c = |mono: i128, offset: i128| Clocks {
            mono: mono * us,
            wall: (mono + offset) * us,
        };
        let base = 1_000_000_000;
        // No step: exact (and kept within the window).
        assert_eq!(
            arrival((400 + base) * us, c(100, base), c(5_000, base)),
            400 * us
        );
        assert_eq!(
            arrival((50 + base) * us, c(100, base), c(5_000, base)),
            100 * us
        );
        // A slew of 2 µs over the window: not a step.
        assert_eq!(
            arrival((400 + base) * us, c(100, base), c(5_000, base + 2)),
            398 * us
        );
        // The wall clock stepped +500 µs after an arrival at 400 µs (stamped before the step).
        assert_eq!(
            arrival((400 + base) * us, c(100, base), c(5_000, base + 500)),
            400 * us
        );
        // ... or before an arrival at 4,700 µs (stamped after the step: 5,200 µs is no arrival).
        assert_eq!(
            arrival(
                (4_700 + base + 500) * us,
                c(100, base),
                c(5_000, base + 500)
            ),
            4_700 * us
        );
        // Arrival at 1,000 µs: 1,000 or 500 µs both fit, ambiguous: the read time.
        assert_eq!(
            arrival((1_000 + base) * us, c(100, base), c(5_000, base + 500)),
            5_000 * us
        );
        // A stamp from after the read (a step back): neither fits, the read time.
        assert_eq!(
            arrival((9_000 + base) * us, c(100, base), c(5_000, base - 500)),
            5_000 * us
        );
    }

    /// A shared connection (HTTP/2): an answer that arrived before another request went out
    /// and was read after it keeps its own arrival (the arrival window starts at the last read
    /// that emptied the socket, not at the request; starting it at the request put this answer
    /// at the request, 5 ms late). Some answer of a few must carry a stamp.
    #[tokio::test]
    async fn an_answer_read_after_a_later_request_keeps_its_arrival() {
        let (mut r, mut server, _timer) = pair(None, false).await;
        let mut stamped = 0;
        for round in 0..10 {
            let before = Instant::now();
            server.write_all(b"first").unwrap();
            let written = Instant::now();
            std::thread::sleep(Duration::from_millis(5));
            r.expect(None);
            let mut buf = [0u8; 16];
            let n = r.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"first", "round {round}");
            let at = r.arrived().expect("bytes were read");
            let slack = Duration::from_millis(1);
            assert!(at + slack >= before, "round {round}");
            if at <= written + slack {
                stamped += 1;
            }
        }
        assert!(
            stamped > 0,
            "every answer was timed to the later request or the read"
        );
    }

    /// A shared connection (HTTP/2) with another stream open after an answer: the read after
    /// the one that emptied the socket waits for a wake-up instead of asking the socket (that
    /// syscall found nothing, once per request), even when bytes arrived in between; the next
    /// read after it takes them, timed to their arrival.
    #[tokio::test]
    async fn no_read_right_after_one_that_emptied_the_socket() {
        let (mut r, mut server, _timer) = pair(Some(Duration::from_secs(5)), true).await;
        r.expect(None);
        server.write_all(b"one").unwrap();
        let mut buf = [0u8; 16];
        let n = r.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        let before = Instant::now();
        server.write_all(b"two").unwrap();
        let mut rb = ReadBuf::new(&mut buf);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            Pin::new(&mut r).poll_read(&mut cx, &mut rb).is_pending(),
            "read again right after a read that emptied the socket"
        );
        assert!(rb.filled().is_empty());
        let n = r.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");
        let at = r.arrived().expect("bytes were read");
        assert!(at + Duration::from_millis(1) >= before);
    }
}
