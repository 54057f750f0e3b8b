//! The one HTTP/2 transport, hand-written on tokio: h2c (prior knowledge) or TLS with ALPN
//! `h2`; `streamsPerConnection` lanes share one connection per endpoint. What travels on a
//! stream is an [`Exchange`]: a plain HTTP/2 request ([`Http2Exchange`], protocol `HTTP2`) or a
//! gRPC unary call ([`GrpcExchange`](super::grpc::GrpcExchange), protocol `gRPC`). The
//! connection handling (dial, handshake, sharing, reconnecting once when a shared connection
//! died) is written once, here, for both.
//!
//! Why by hand: the `h2` crate's client measured 0.48x h2load's requests per client CPU-second
//! (closed loop, 50 connections x 10 streams; this lane: 1.30x, `bench/README.md`); its profile
//! was memmove and malloc for the per-request `Request`/`HeaderMap`/stream state and copied
//! buffers. Here:
//!
//! - the request header block is encoded ONCE per endpoint before the run (HPACK literals
//!   without indexing need no encoder state), and every request copies those bytes into the
//!   connection's write buffer;
//! - responses are read into one buffer per connection and parsed in place; header blocks are
//!   decoded with `loona-hpack` (the server uses its dynamic table, so a real decoder is
//!   needed), keeping only `:status`, `content-type`, `grpc-status` and a byte count;
//! - frames written while one batch of lanes runs go out in one write: the first lane to
//!   append to an empty write buffer yields once (tokio runs the other woken lanes first) and
//!   then writes everything appended meanwhile;
//! - one task per connection reads, and wakes exactly the lanes whose answer completed.
//!
//! The frame layer: the preface, SETTINGS (ours: no push, 1 MiB stream windows; theirs:
//! `MAX_CONCURRENT_STREAMS`, `INITIAL_WINDOW_SIZE`, `MAX_FRAME_SIZE`) and their ACKs,
//! HEADERS/CONTINUATION, DATA (request bodies respect the connection and stream send windows;
//! receive windows are given back in batches of half a window), WINDOW_UPDATE, PING ACK,
//! RST_STREAM, GOAWAY. A server that breaks the protocol (a frame above 16 KiB, bad HPACK, a
//! PUSH_PROMISE, a window overflow, a header block above 64 KiB) fails the connection with
//! [`ErrorKind::Protocol`]; RST_STREAM fails its stream and GOAWAY the streams it did not
//! process with [`ErrorKind::Reset`]; a server that never sends its SETTINGS times out in the
//! handshake. Every request ends exactly once: answered, failed, or cancelled by the lane's
//! timeout (the stream is then reset with CANCEL).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::HeaderMap;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::dial::{Dialer, Io, Peer, host_header};
use super::h2frame::{self as f, Head, code, flag, kind, setting};
use crate::driver::{Lane, LaneFactory, Stage, Wakeups};
use crate::error::{Error, Result};
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Bytes of a header block, estimated as HTTP/1.1 would write it (`name: value\r\n`).
pub(crate) fn header_size(h: &HeaderMap) -> u64 {
    h.iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>() as u64
}

/// The response head's size, estimated as HTTP/1.1 would write it.
pub(crate) fn head_size(res: &http::response::Parts) -> u64 {
    17 + header_size(&res.headers) + 2
}

/// One request, prepared before the run: its header block (HPACK, encoded once), its body and
/// the bytes counted as written for it.
#[derive(Clone, Debug)]
pub struct Prepared {
    block: Vec<u8>,
    body: Bytes,
    sent: u64,
}

impl Prepared {
    /// The encoded header block.
    pub fn block(&self) -> &[u8] {
        &self.block
    }

    /// The request body (empty: the HEADERS frame ends the stream).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Bytes counted as written (head estimate plus body).
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

/// What one request of an HTTP/2 lane is, and how its answer is read. Implemented by
/// [`Http2Exchange`] and [`GrpcExchange`](super::grpc::GrpcExchange); sealed.
pub trait Exchange: Send + Sync + std::fmt::Debug + 'static + sealed::Sealed {
    /// The request to endpoint `i`.
    fn prepared(&self, i: usize) -> &Prepared;
    /// Whether the answer is read as a gRPC unary answer ([`Outcome::Grpc`]) rather than an
    /// HTTP answer ([`Outcome::Response`]).
    fn grpc(&self) -> bool;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

// ------------------------------------------------------------------------------------------
// Limits and our settings
// ------------------------------------------------------------------------------------------

/// Our stream receive window (SETTINGS_INITIAL_WINDOW_SIZE).
const STREAM_WINDOW: i64 = 1 << 20;
/// Our connection receive window.
const CONN_WINDOW: i64 = 4 << 20;
/// Largest frame payload we accept (the default SETTINGS_MAX_FRAME_SIZE, which we keep).
const MAX_FRAME: usize = 16_384;
/// Largest header block (HEADERS + CONTINUATION) we accept, also advertised as
/// SETTINGS_MAX_HEADER_LIST_SIZE.
const MAX_HEADER_BLOCK: usize = 64 << 10;
/// Our HPACK decoder's table size (the default SETTINGS_HEADER_TABLE_SIZE, which we keep).
const DECODER_TABLE: usize = 4096;
/// The read buffer: room for several frames per read.
const READ_BUF: usize = 64 << 10;
/// Highest client stream identifier.
const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// Our preface: the magic, SETTINGS, and the connection window raised to [`CONN_WINDOW`].
fn preface() -> Vec<u8> {
    let mut b = f::PREFACE.to_vec();
    f::put_settings(
        &mut b,
        &[
            (setting::ENABLE_PUSH, 0),
            (setting::INITIAL_WINDOW_SIZE, STREAM_WINDOW as u32),
            (setting::MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK as u32),
        ],
    );
    f::put_window_update(&mut b, 0, (CONN_WINDOW - 65_535) as u32);
    b
}

// ------------------------------------------------------------------------------------------
// The answer being read on one stream
// ------------------------------------------------------------------------------------------

/// What is kept of an answer while it arrives.
#[derive(Debug, Default)]
struct Answer {
    /// The final status (0 until the response head arrived).
    status: u16,
    /// Response head estimate, body bytes and (gRPC) trailers.
    received: u64,
    /// `content-type` is `application/grpc`, `application/grpc+…` or `application/grpc;…`.
    grpc_type: bool,
    /// `grpc-status`, when seen (headers of a trailers-only answer, or trailers).
    grpc_status: Option<u8>,
    /// gRPC messages in the body.
    scan: super::grpc::Scan,
}

/// One lane's stream on a connection.
#[derive(Debug, Default)]
struct Slot {
    /// The open stream (0: none).
    id: u32,
    /// The lane waiting for the answer (or for a stream to be allowed).
    waker: Option<Waker>,
    /// The finished request, taken by the lane.
    done: Option<Outcome>,
    /// When its answer's last bytes arrived, when the connection knows (see `riding`).
    arrived: Option<std::time::Instant>,
    /// Waiting until MAX_CONCURRENT_STREAMS allows one more stream.
    blocked: bool,
    /// The server did not process the request (GOAWAY above it, REFUSED_STREAM): it may be
    /// sent again on a new connection.
    refused: bool,
    /// The request: what it counts as written, its body and how much of it is framed.
    sent: u64,
    body: Bytes,
    body_off: usize,
    /// Send window of the stream.
    send_window: i64,
    /// Receive window left and the bytes consumed since the last WINDOW_UPDATE.
    recv_window: i64,
    recv_unacked: i64,
    answer: Answer,
}

impl Slot {
    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

// ------------------------------------------------------------------------------------------
// One connection
// ------------------------------------------------------------------------------------------

/// The state of one connection, behind one lock: the socket, both buffers, the flow-control
/// windows, the HPACK decoder, and a slot per lane sharing the connection.
struct State {
    /// `None` once the connection is closed.
    io: Option<Io>,
    rbuf: Box<[u8]>,
    rstart: usize,
    rend: usize,
    wbuf: Vec<u8>,
    /// A lane appended to an empty write buffer and will write it after its yield.
    flush_due: bool,
    /// A write would block: the connection task writes when the socket can take more.
    write_blocked: bool,
    /// The connection task, woken when it has writing to do or the connection is dropped.
    task: Option<Waker>,
    /// Why the connection failed; no new stream starts on it.
    dead: Option<ErrorKind>,
    /// The server said GOAWAY (or identifiers ran out): no new stream starts on it.
    going_away: bool,
    /// The server's SETTINGS arrived (the handshake is complete).
    settled: bool,
    handshake: Option<Waker>,
    next_id: u32,
    active: usize,
    max_concurrent: usize,
    peer_window: i64,
    peer_max_frame: usize,
    conn_send_window: i64,
    conn_recv_window: i64,
    conn_recv_unacked: i64,
    decoder: loona_hpack::Decoder<'static>,
    /// A header block being assembled from HEADERS + CONTINUATION: its stream (0: none) and
    /// whether the HEADERS frame ended the stream.
    block: Vec<u8>,
    block_stream: u32,
    block_end: bool,
    slots: Vec<Slot>,
    grpc: bool,
    /// The connection task panicked (a bug) with this message: every lane using the connection
    /// panics with it in turn, so the run fails (`Error::LanePanicked`) instead of its requests
    /// waiting out their timeouts as if the server had not answered.
    panicked: Option<String>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, fm: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fm.debug_struct("State")
            .field("dead", &self.dead)
            .field("going_away", &self.going_away)
            .field("active", &self.active)
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

/// A connection shared by the lanes of a group.
#[derive(Debug)]
struct Conn {
    state: Mutex<State>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The connection task holds only a weak reference: wake it so that it ends.
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = st.task.take() {
            w.wake();
        }
    }
}

/// How starting a stream failed.
enum StartError {
    /// The connection cannot take new streams (failed, GOAWAY, identifiers exhausted): open
    /// another.
    Gone(ErrorKind),
}

impl Conn {
    fn new(io: Io, lanes: usize, grpc: bool) -> Conn {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(DECODER_TABLE);
        Conn {
            state: Mutex::new(State {
                io: Some(io),
                rbuf: vec![0; READ_BUF].into_boxed_slice(),
                rstart: 0,
                rend: 0,
                wbuf: Vec::with_capacity(16 << 10),
                flush_due: false,
                write_blocked: false,
                task: None,
                dead: None,
                going_away: false,
                settled: false,
                handshake: None,
                next_id: 1,
                active: 0,
                max_concurrent: usize::MAX,
                peer_window: 65_535,
                peer_max_frame: 16_384,
                conn_send_window: 65_535,
                conn_recv_window: CONN_WINDOW,
                conn_recv_unacked: 0,
                decoder,
                block: Vec::new(),
                block_stream: 0,
                block_end: false,
                slots: (0..lanes).map(|_| Slot::default()).collect(),
                grpc,
                panicked: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ready when the server's SETTINGS arrived (or the connection failed).
    fn poll_handshake(&self, cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        let mut st = self.lock();
        st.check_task();
        if let Some(k) = st.dead {
            return Poll::Ready(Err(k));
        }
        if st.settled {
            return Poll::Ready(Ok(()));
        }
        st.handshake = Some(cx.waker().clone());
        Poll::Pending
    }

    /// From now on the connection reads its answers at `wakeups` (when it is plain TCP on
    /// Linux and not riding yet); its task is woken to read in the new way.
    fn ride(&self, wakeups: &Wakeups) {
        let mut st = self.lock();
        if let Some(io) = st.io.take() {
            match io.riding(Some(wakeups), true) {
                Ok(io) => st.io = Some(io),
                Err(e) => st.die(ErrorKind::from_io(&e), None),
            }
        }
        if let Some(w) = &st.task {
            w.wake_by_ref();
        }
    }

    /// Whether a new stream may start here.
    fn usable(&self) -> bool {
        let st = self.lock();
        st.dead.is_none() && !st.going_away
    }

    /// Starts the request `p` on lane `k`'s slot. `Ready(Ok(true))`: the caller appended to an
    /// empty write buffer and must [`flush`](Self::flush) it (after letting the other lanes of
    /// this wakeup append theirs). Pending while MAX_CONCURRENT_STREAMS streams are open.
    fn poll_start(
        &self,
        k: usize,
        p: &Prepared,
        wakeups: Option<&Wakeups>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, StartError>> {
        let mut st = self.lock();
        st.check_task();
        if let Some(kind) = st.dead {
            st.slots[k].blocked = false;
            return Poll::Ready(Err(StartError::Gone(kind)));
        }
        if st.io.as_ref().is_some_and(Io::closed_while_parked) {
            // The server closed it while it was idle: open another, no request lost.
            st.die(ErrorKind::Reset, None);
            st.slots[k].blocked = false;
            return Poll::Ready(Err(StartError::Gone(ErrorKind::Reset)));
        }
        if st.going_away || st.next_id > MAX_STREAM_ID {
            st.going_away = true;
            st.slots[k].blocked = false;
            return Poll::Ready(Err(StartError::Gone(ErrorKind::Reset)));
        }
        if st.active >= st.max_concurrent {
            let slot = &mut st.slots[k];
            slot.blocked = true;
            slot.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let id = st.next_id;
        st.next_id += 2;
        st.active += 1;
        let owner = !st.flush_due && !st.write_blocked;
        let peer_window = st.peer_window;
        let max_frame = st.peer_max_frame;
        let end = p.body.is_empty();
        {
            let st = &mut *st;
            let slot = &mut st.slots[k];
            *slot = Slot {
                id,
                sent: p.sent,
                body: p.body.clone(),
                send_window: peer_window,
                recv_window: STREAM_WINDOW,
                ..Slot::default()
            };
            // HEADERS, then CONTINUATION frames if the block is larger than a frame.
            let mut chunks = p.block.chunks(max_frame).peekable();
            let first = chunks.next().unwrap_or(&[]);
            let mut flags = if end { flag::END_STREAM } else { 0 };
            if chunks.peek().is_none() {
                flags |= flag::END_HEADERS;
            }
            f::put_head(&mut st.wbuf, first.len(), kind::HEADERS, flags, id);
            st.wbuf.extend_from_slice(first);
            while let Some(c) = chunks.next() {
                let fl = if chunks.peek().is_none() {
                    flag::END_HEADERS
                } else {
                    0
                };
                f::put_head(&mut st.wbuf, c.len(), kind::CONTINUATION, fl, id);
                st.wbuf.extend_from_slice(c);
            }
        }
        if !end {
            st.pump(k);
        }
        if owner {
            st.flush_due = true;
        }
        if let Some(io) = st.io.as_mut() {
            io.expect(wakeups);
        }
        Poll::Ready(Ok(owner))
    }

    /// Writes what is buffered (without waiting: what the socket does not take now, the
    /// connection task writes later).
    fn flush(&self) {
        let mut st = self.lock();
        st.flush_due = false;
        st.try_flush();
    }

    /// Ready with lane `k`'s finished request, whether the server refused it unprocessed, and
    /// when its answer arrived (when the connection knows).
    #[allow(clippy::type_complexity)]
    fn poll_done(
        &self,
        k: usize,
        cx: &mut Context<'_>,
    ) -> Poll<(Outcome, bool, Option<std::time::Instant>)> {
        let mut st = self.lock();
        st.check_task();
        let slot = &mut st.slots[k];
        if let Some(o) = slot.done.take() {
            return Poll::Ready((o, std::mem::take(&mut slot.refused), slot.arrived.take()));
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Abandons lane `k`'s request (its timeout cancelled it): the stream is reset, what was
    /// finished is dropped.
    fn cancel(&self, k: usize) {
        let mut st = self.lock();
        st.slots[k].done = None;
        st.slots[k].waker = None;
        st.slots[k].blocked = false;
        if st.slots[k].id != 0 {
            st.close(k, Some(code::CANCEL));
        }
        st.flush_due = false;
        st.try_flush();
    }

    /// The connection task's work: read and handle frames, write what is due. Ready when the
    /// connection is over.
    fn poll_io(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        match &st.task {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.task = Some(cx.waker().clone()),
        }
        loop {
            if st.io.is_none() {
                return Poll::Ready(());
            }
            if st.rend == st.rbuf.len() {
                // A frame larger than the room left: move the partial frame to the front.
                let (s, e) = (st.rstart, st.rend);
                st.rbuf.copy_within(s..e, 0);
                st.rstart = 0;
                st.rend = e - s;
            }
            let read = {
                let st = &mut *st;
                let Some(io) = st.io.as_mut() else {
                    return Poll::Ready(());
                };
                if st.settled && st.active == 0 {
                    // Nothing outstanding: a riding connection reads again with the next
                    // request (what the server sends meanwhile is read then).
                    io.park();
                }
                let mut rb = ReadBuf::new(&mut st.rbuf[st.rend..]);
                match Pin::new(io).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                }
            };
            match read {
                Poll::Pending => break,
                Poll::Ready(Ok(0)) => {
                    st.die(ErrorKind::Reset, None);
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(n)) => {
                    st.rend += n;
                    st.frames();
                    if st.rstart == st.rend {
                        st.rstart = 0;
                        st.rend = 0;
                    }
                }
                Poll::Ready(Err(e)) => {
                    st.die(ErrorKind::from_io(&e), None);
                    return Poll::Ready(());
                }
            }
        }
        if (!st.wbuf.is_empty() || st.write_blocked) && !st.flush_due {
            st.write_blocked = false;
            st.poll_flush(cx);
        }
        if st.io.is_none() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl State {
    /// Panics, in the lane calling, when the connection task did (see `panicked`).
    fn check_task(&self) {
        if let Some(m) = &self.panicked {
            panic!("the HTTP/2 connection task panicked: {m}");
        }
    }

    /// The connection task panicked with `message`: the socket is closed and every waiting
    /// lane is woken to find out (see `panicked`).
    fn task_panicked(&mut self, message: String) {
        self.panicked = Some(message);
        self.io = None;
        for slot in &mut self.slots {
            slot.wake();
        }
        if let Some(w) = self.handshake.take() {
            w.wake();
        }
    }

    /// Writes the buffer with the connection task's context (it is woken when the socket
    /// takes more).
    fn poll_flush(&mut self, cx: &mut Context<'_>) {
        let Some(io) = self.io.as_mut() else {
            self.wbuf.clear();
            return;
        };
        let mut off = 0;
        let mut res = Ok(());
        while off < self.wbuf.len() {
            match Pin::new(&mut *io).poll_write(cx, &self.wbuf[off..]) {
                Poll::Ready(Ok(0)) => {
                    res = Err(ErrorKind::Reset);
                    break;
                }
                Poll::Ready(Ok(n)) => off += n,
                Poll::Ready(Err(e)) => {
                    res = Err(ErrorKind::from_io(&e));
                    break;
                }
                Poll::Pending => {
                    self.write_blocked = true;
                    break;
                }
            }
        }
        if res.is_ok() && off == self.wbuf.len() {
            // TLS keeps records until flushed.
            match Pin::new(&mut *io).poll_flush(cx) {
                Poll::Ready(Err(e)) => res = Err(ErrorKind::from_io(&e)),
                Poll::Pending => self.write_blocked = true,
                Poll::Ready(Ok(())) => {}
            }
        }
        self.wbuf.drain(..off);
        if let Err(k) = res {
            self.wbuf.clear();
            self.die(k, None);
        }
    }

    /// Writes the buffer without waiting; when the socket would block, the connection task
    /// takes over.
    fn try_flush(&mut self) {
        if self.wbuf.is_empty() || self.write_blocked {
            return;
        }
        let mut cx = Context::from_waker(Waker::noop());
        self.poll_flush(&mut cx);
        if self.write_blocked
            && let Some(w) = &self.task
        {
            // The connection task writes the rest when the socket takes more; until then
            // nobody else writes (frames stay in order).
            w.wake_by_ref();
        }
    }

    /// The connection failed: every open request fails with `kind`, waiting lanes are woken,
    /// the socket is closed (after a GOAWAY with `error`, when given).
    fn die(&mut self, kind: ErrorKind, error: Option<u32>) {
        if self.dead.is_some() {
            return;
        }
        self.dead = Some(kind);
        if let Some(e) = error {
            // The last server-initiated stream processed: none (push is off).
            let mut out = Vec::new();
            f::put_goaway(&mut out, 0, e);
            if let Some(io) = self.io.as_mut() {
                let mut cx = Context::from_waker(Waker::noop());
                let _ = Pin::new(io).poll_write(&mut cx, &out);
            }
        }
        for slot in &mut self.slots {
            if slot.id != 0 {
                slot.id = 0;
                slot.done = Some(Outcome::Error {
                    kind,
                    sent: slot.sent,
                });
            }
            slot.blocked = false;
            slot.wake();
        }
        self.active = 0;
        self.io = None;
        self.wbuf.clear();
        if let Some(w) = self.handshake.take() {
            w.wake();
        }
    }

    /// A protocol error: the connection fails with [`ErrorKind::Protocol`].
    fn broken(&mut self, error: u32) {
        self.die(ErrorKind::Protocol, Some(error));
    }

    /// The slot of stream `id`.
    fn slot_of(&self, id: u32) -> Option<usize> {
        if id == 0 {
            return None;
        }
        self.slots.iter().position(|s| s.id == id)
    }

    /// Ends stream of slot `k` (sending RST_STREAM with `rst` when given) and lets a blocked
    /// lane start one.
    fn close(&mut self, k: usize, rst: Option<u32>) {
        let id = std::mem::take(&mut self.slots[k].id);
        self.slots[k].body = Bytes::new();
        if id == 0 {
            return;
        }
        if let Some(e) = rst {
            f::put_rst(&mut self.wbuf, id, e);
        }
        self.active = self.active.saturating_sub(1);
        if let Some(b) = self.slots.iter_mut().find(|s| s.blocked) {
            b.blocked = false;
            b.wake();
        }
        if self.going_away && self.active == 0 {
            // Nothing left to wait for on a connection that takes no new stream.
            self.try_flush();
            self.io = None;
            self.dead.get_or_insert(ErrorKind::Reset);
        }
    }

    /// Finishes the request of slot `k` with `o`; `rst`: the server has not ended the stream,
    /// reset it.
    fn finish(&mut self, k: usize, o: Outcome, rst: Option<u32>) {
        let arrived = self.io.as_ref().and_then(Io::arrived);
        let slot = &mut self.slots[k];
        slot.done = Some(o);
        slot.arrived = arrived;
        slot.wake();
        self.close(k, rst);
    }

    /// Frames as much of slot `k`'s body as the windows allow.
    fn pump(&mut self, k: usize) {
        let max_frame = self.peer_max_frame;
        let slot = &mut self.slots[k];
        while slot.id != 0 && slot.body_off < slot.body.len() {
            let n = (slot.body.len() - slot.body_off)
                .min(max_frame)
                .min(slot.send_window.max(0) as usize)
                .min(self.conn_send_window.max(0) as usize);
            if n == 0 {
                return;
            }
            let end = slot.body_off + n == slot.body.len();
            let fl = if end { flag::END_STREAM } else { 0 };
            f::put_head(&mut self.wbuf, n, kind::DATA, fl, slot.id);
            self.wbuf
                .extend_from_slice(&slot.body[slot.body_off..slot.body_off + n]);
            slot.body_off += n;
            slot.send_window -= n as i64;
            self.conn_send_window -= n as i64;
        }
    }

    fn pump_all(&mut self) {
        for k in 0..self.slots.len() {
            self.pump(k);
        }
    }

    /// Handles every complete frame in the read buffer.
    fn frames(&mut self) {
        while self.io.is_some() {
            let avail = self.rend - self.rstart;
            if avail < f::HEAD_LEN {
                return;
            }
            let h = Head::parse(&self.rbuf[self.rstart..self.rstart + f::HEAD_LEN]);
            if h.len > MAX_FRAME {
                return self.broken(code::FRAME_SIZE_ERROR);
            }
            if avail < f::HEAD_LEN + h.len {
                return;
            }
            let start = self.rstart + f::HEAD_LEN;
            self.rstart = start + h.len;
            // The payload stays in the read buffer: take it out for the call, put it back.
            let rbuf = std::mem::take(&mut self.rbuf);
            self.frame(h, &rbuf[start..start + h.len]);
            self.rbuf = rbuf;
        }
    }

    fn frame(&mut self, h: Head, p: &[u8]) {
        #[cfg(test)]
        assert!(
            h.kind != tests::BREAKS_THE_HANDLER,
            "a test frame broke the handler"
        );
        if self.block_stream != 0 && (h.kind != kind::CONTINUATION || h.stream != self.block_stream)
        {
            return self.broken(code::PROTOCOL_ERROR);
        }
        if !self.settled && h.kind != kind::SETTINGS {
            // The server's preface is a SETTINGS frame.
            return self.broken(code::PROTOCOL_ERROR);
        }
        match h.kind {
            kind::DATA => self.data(h, p),
            kind::HEADERS => self.headers(h, p),
            kind::CONTINUATION => {
                if self.block_stream == 0 {
                    return self.broken(code::PROTOCOL_ERROR);
                }
                self.fragment(h.flags, p);
            }
            kind::SETTINGS => self.settings(h, p),
            kind::PING => {
                if h.len != 8 || h.stream != 0 {
                    return self.broken(code::FRAME_SIZE_ERROR);
                }
                if h.flags & flag::ACK == 0 {
                    f::put_head(&mut self.wbuf, 8, kind::PING, flag::ACK, 0);
                    self.wbuf.extend_from_slice(p);
                }
            }
            kind::WINDOW_UPDATE => {
                if h.len != 4 {
                    return self.broken(code::FRAME_SIZE_ERROR);
                }
                let inc = i64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff);
                if h.stream == 0 {
                    if inc == 0 || self.conn_send_window + inc > f::MAX_WINDOW {
                        return self.broken(code::FLOW_CONTROL_ERROR);
                    }
                    self.conn_send_window += inc;
                    self.pump_all();
                } else if let Some(k) = self.slot_of(h.stream) {
                    let slot = &mut self.slots[k];
                    if inc == 0 || slot.send_window + inc > f::MAX_WINDOW {
                        let sent = slot.sent;
                        let o = Outcome::Error {
                            kind: ErrorKind::Protocol,
                            sent,
                        };
                        let e = if inc == 0 {
                            code::PROTOCOL_ERROR
                        } else {
                            code::FLOW_CONTROL_ERROR
                        };
                        return self.finish(k, o, Some(e));
                    }
                    slot.send_window += inc;
                    self.pump(k);
                }
            }
            kind::RST_STREAM => {
                if h.len != 4 {
                    return self.broken(code::FRAME_SIZE_ERROR);
                }
                if h.stream == 0 {
                    return self.broken(code::PROTOCOL_ERROR);
                }
                if let Some(k) = self.slot_of(h.stream) {
                    let e = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                    self.slots[k].refused = e == code::REFUSED_STREAM;
                    let sent = self.slots[k].sent;
                    self.finish(
                        k,
                        Outcome::Error {
                            kind: ErrorKind::Reset,
                            sent,
                        },
                        None,
                    );
                }
            }
            kind::GOAWAY => {
                if h.len < 8 || h.stream != 0 {
                    return self.broken(code::PROTOCOL_ERROR);
                }
                let last = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff;
                self.going_away = true;
                // Streams above `last` were not processed.
                for k in 0..self.slots.len() {
                    if self.slots[k].id > last {
                        self.slots[k].refused = true;
                        let sent = self.slots[k].sent;
                        let o = Outcome::Error {
                            kind: ErrorKind::Reset,
                            sent,
                        };
                        self.finish(k, o, None);
                    }
                }
                if self.active == 0 {
                    self.dead.get_or_insert(ErrorKind::Reset);
                    self.try_flush();
                    self.io = None;
                }
            }
            kind::PUSH_PROMISE => self.broken(code::PROTOCOL_ERROR),
            // PRIORITY and unknown types are ignored.
            _ => {}
        }
    }

    fn settings(&mut self, h: Head, p: &[u8]) {
        if h.stream != 0 {
            return self.broken(code::PROTOCOL_ERROR);
        }
        if h.flags & flag::ACK != 0 {
            if h.len != 0 {
                return self.broken(code::FRAME_SIZE_ERROR);
            }
            return;
        }
        if !h.len.is_multiple_of(6) {
            return self.broken(code::FRAME_SIZE_ERROR);
        }
        for s in p.chunks_exact(6) {
            let id = u16::from_be_bytes([s[0], s[1]]);
            let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
            match id {
                setting::MAX_CONCURRENT_STREAMS => self.max_concurrent = v as usize,
                setting::INITIAL_WINDOW_SIZE => {
                    if i64::from(v) > f::MAX_WINDOW {
                        return self.broken(code::FLOW_CONTROL_ERROR);
                    }
                    let delta = i64::from(v) - self.peer_window;
                    self.peer_window = i64::from(v);
                    for slot in self.slots.iter_mut().filter(|s| s.id != 0) {
                        slot.send_window += delta;
                    }
                }
                setting::MAX_FRAME_SIZE => {
                    if !(16_384..=16_777_215).contains(&v) {
                        return self.broken(code::PROTOCOL_ERROR);
                    }
                    self.peer_max_frame = v as usize;
                }
                setting::ENABLE_PUSH if v > 1 => return self.broken(code::PROTOCOL_ERROR),
                // HEADER_TABLE_SIZE: our header blocks never index, whatever the table;
                // unknown settings are ignored.
                _ => {}
            }
        }
        f::put_head(&mut self.wbuf, 0, kind::SETTINGS, flag::ACK, 0);
        if !self.settled {
            self.settled = true;
            if let Some(w) = self.handshake.take() {
                w.wake();
            }
        }
        self.pump_all();
    }

    /// The payload of a padded frame without its padding (`extra`: bytes after the pad
    /// length to skip too, e.g. the priority fields); `None` when the padding is malformed.
    fn unpad(flags: u8, p: &[u8], extra: usize) -> Option<&[u8]> {
        if flags & flag::PADDED == 0 {
            return p.get(extra..);
        }
        let pad = usize::from(*p.first()?);
        let body = p.get(1 + extra..)?;
        body.get(..body.len().checked_sub(pad)?)
    }

    fn data(&mut self, h: Head, p: &[u8]) {
        if h.stream == 0 {
            return self.broken(code::PROTOCOL_ERROR);
        }
        // Flow control counts the whole payload, padding included, on every stream.
        let n = h.len as i64;
        self.conn_recv_window -= n;
        self.conn_recv_unacked += n;
        if self.conn_recv_window < 0 {
            return self.broken(code::FLOW_CONTROL_ERROR);
        }
        if self.conn_recv_unacked >= CONN_WINDOW / 2 {
            f::put_window_update(&mut self.wbuf, 0, self.conn_recv_unacked as u32);
            self.conn_recv_window += self.conn_recv_unacked;
            self.conn_recv_unacked = 0;
        }
        let Some(k) = self.slot_of(h.stream) else {
            if h.stream >= self.next_id || h.stream.is_multiple_of(2) {
                // A stream we never opened.
                self.broken(code::PROTOCOL_ERROR);
            }
            // Else a stream we already closed: dropped.
            return;
        };
        let Some(data) = Self::unpad(h.flags, p, 0) else {
            return self.broken(code::PROTOCOL_ERROR);
        };
        let grpc = self.grpc;
        let slot = &mut self.slots[k];
        slot.recv_window -= n;
        slot.recv_unacked += n;
        let sent = slot.sent;
        if slot.recv_window < 0 || slot.answer.status == 0 {
            // Above the window, or DATA before the response head.
            let o = Outcome::Error {
                kind: ErrorKind::Protocol,
                sent,
            };
            return self.finish(k, o, Some(code::PROTOCOL_ERROR));
        }
        slot.answer.received += data.len() as u64;
        let end = h.flags & flag::END_STREAM != 0;
        if grpc && let Err(c) = slot.answer.scan.feed(data) {
            // A compressed or oversized message: the rest is not read.
            let o = Outcome::Grpc {
                status: slot.answer.status,
                code: c,
                sent,
                received: slot.answer.received,
            };
            return self.finish(k, o, (!end).then_some(code::CANCEL));
        }
        if end {
            let o = Self::outcome(slot, grpc, false);
            return self.finish(k, o, None);
        }
        if slot.recv_unacked >= STREAM_WINDOW / 2 {
            let inc = slot.recv_unacked;
            slot.recv_window += inc;
            slot.recv_unacked = 0;
            let id = slot.id;
            f::put_window_update(&mut self.wbuf, id, inc as u32);
        }
    }

    fn headers(&mut self, h: Head, p: &[u8]) {
        if h.stream == 0 {
            return self.broken(code::PROTOCOL_ERROR);
        }
        let extra = if h.flags & flag::PRIORITY != 0 { 5 } else { 0 };
        let Some(frag) = Self::unpad(h.flags, p, extra) else {
            return self.broken(code::PROTOCOL_ERROR);
        };
        self.block.clear();
        self.block_end = h.flags & flag::END_STREAM != 0;
        if h.flags & flag::END_HEADERS != 0 {
            // The whole block in one frame (the usual case): decoded in place.
            return self.decode(h.stream, frag);
        }
        self.block_stream = h.stream;
        self.fragment(h.flags, frag);
    }

    /// Adds a header block fragment; decodes the block once END_HEADERS came.
    fn fragment(&mut self, flags: u8, frag: &[u8]) {
        if self.block.len() + frag.len() > MAX_HEADER_BLOCK {
            return self.broken(code::PROTOCOL_ERROR);
        }
        self.block.extend_from_slice(frag);
        if flags & flag::END_HEADERS == 0 {
            return;
        }
        let id = std::mem::take(&mut self.block_stream);
        let block = std::mem::take(&mut self.block);
        self.decode(id, &block);
        self.block = block;
    }

    /// Decodes a complete header block of stream `id` (every block is decoded, whatever its
    /// stream: the decoder's table must follow the server's).
    fn decode(&mut self, id: u32, block: &[u8]) {
        let plain;
        let block = match f::unhuffman(block) {
            Ok(None) => block,
            Ok(Some(p)) => {
                plain = p;
                &plain[..]
            }
            Err(()) => return self.broken(code::COMPRESSION_ERROR),
        };
        let mut status: Option<u16> = None;
        let mut bad = false;
        let mut size = 0u64;
        let mut grpc_type = false;
        let mut grpc_status = None;
        let res = self.decoder.decode_with_cb(block, |n, v| {
            if n.first() == Some(&b':') {
                if &n[..] == b":status" {
                    status = std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse::<u16>().ok())
                        .filter(|s| (100..1000).contains(s));
                    bad |= status.is_none();
                } else {
                    bad = true;
                }
                return;
            }
            size += (n.len() + v.len() + 4) as u64;
            match &n[..] {
                b"content-type" => grpc_type = super::grpc::is_grpc_type(&v),
                b"grpc-status" => grpc_status = Some(super::grpc::parse_code(&v)),
                _ => {}
            }
        });
        if res.is_err() {
            return self.broken(code::COMPRESSION_ERROR);
        }
        let Some(k) = self.slot_of(id) else {
            if id >= self.next_id || id.is_multiple_of(2) {
                self.broken(code::PROTOCOL_ERROR);
            }
            return;
        };
        let end = self.block_end;
        let grpc = self.grpc;
        let slot = &mut self.slots[k];
        let sent = slot.sent;
        let proto_err = Outcome::Error {
            kind: ErrorKind::Protocol,
            sent,
        };
        if slot.answer.status == 0 {
            // The response head (1xx heads are skipped).
            let Some(s) = status.filter(|_| !bad) else {
                return self.finish(k, proto_err, (!end).then_some(code::PROTOCOL_ERROR));
            };
            if s < 200 {
                if end {
                    return self.finish(k, proto_err, None);
                }
                return;
            }
            slot.answer.status = s;
            slot.answer.received = if grpc { 13 + size } else { 19 + size };
            slot.answer.grpc_type = grpc_type;
            slot.answer.grpc_status = grpc_status;
            if grpc {
                // Trailers-only, an HTTP error, not gRPC: the answer is known now.
                if grpc_status.is_some() || s != 200 || !grpc_type {
                    let o = Self::outcome(slot, true, false);
                    return self.finish(k, o, (!end).then_some(code::CANCEL));
                }
            }
            if end {
                let o = Self::outcome(slot, grpc, false);
                self.finish(k, o, None);
            }
        } else {
            // Trailers: they end the stream.
            if !end || status.is_some() || bad {
                return self.finish(k, proto_err, (!end).then_some(code::PROTOCOL_ERROR));
            }
            if grpc {
                slot.answer.received += size;
                slot.answer.grpc_status = grpc_status;
            }
            let o = Self::outcome(slot, grpc, true);
            self.finish(k, o, None);
        }
    }

    /// The outcome of a finished answer.
    fn outcome(slot: &Slot, grpc: bool, trailers: bool) -> Outcome {
        let a = &slot.answer;
        if !grpc {
            return Outcome::Response {
                status: a.status,
                sent: slot.sent,
                received: a.received,
            };
        }
        let code =
            super::grpc::answer_code(a.status, a.grpc_type, a.grpc_status, trailers, &a.scan);
        Outcome::Grpc {
            status: a.status,
            code,
            sent: slot.sent,
            received: a.received,
        }
    }
}

/// The connection task: reads while the connection lives and a lane holds it.
async fn run_conn(conn: Weak<Conn>) {
    poll_fn(|cx| match conn.upgrade() {
        Some(c) => {
            // A panic here would end only this task, and the lanes would wait out their
            // timeouts: it is handed to them instead.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.poll_io(cx))) {
                Ok(p) => p,
                Err(payload) => {
                    c.lock().task_panicked(crate::driver::panic_text(&*payload));
                    Poll::Ready(())
                }
            }
        }
        None => Poll::Ready(()),
    })
    .await
}

// ------------------------------------------------------------------------------------------
// Lanes
// ------------------------------------------------------------------------------------------

/// One HTTP/2 connection shared by the stream lanes of a connection group: the current
/// connection and its generation (bumped on every reconnect).
#[derive(Debug, Default)]
struct Cell {
    current: tokio::sync::Mutex<(u64, Option<Arc<Conn>>)>,
}

/// Everything every lane shares, read-only.
#[derive(Debug)]
struct Shared<X> {
    peers: Vec<Peer>,
    dialer: Dialer,
    exchange: X,
    preface: Vec<u8>,
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
                preface: preface(),
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
        let cells: Arc<Vec<Cell>> = Arc::new((0..n).map(|_| Cell::default()).collect());
        let streams = plan.streams.max(1) as usize;
        (0..streams)
            .map(|s| H2Lane {
                shared: self.shared.clone(),
                cells: cells.clone(),
                streams,
                slot: s,
                mine: (0..n).map(|_| None).collect(),
                next: (conn as usize + s) % n.max(1),
                busy: None,
                stage: Stage::Exchange,
                wakeups: None,
                answered: None,
            })
            .collect()
    }
}

/// One stream slot of an HTTP/2 connection.
#[derive(Debug)]
pub struct H2Lane<X> {
    shared: Arc<Shared<X>>,
    cells: Arc<Vec<Cell>>,
    /// Lanes sharing a connection (slots per connection).
    streams: usize,
    /// This lane's slot on its connections.
    slot: usize,
    /// Per endpoint: this lane's reference to the group's connection and its generation.
    mine: Vec<Option<(u64, Arc<Conn>)>>,
    next: usize,
    /// The endpoint whose connection may hold a request of this lane that was not taken (a
    /// timeout dropped the request).
    busy: Option<usize>,
    /// Where the current request is (for [`Lane::timeout_kind`]); waiting for the connection
    /// another lane of the group is opening counts as connecting.
    stage: Stage,
    /// Open model: connections read answers at the timer's wake-ups (plain TCP on Linux).
    wakeups: Option<Wakeups>,
    /// When the last answer arrived, when its connection knows ([`Lane::answered_at`]).
    answered: Option<std::time::Instant>,
}

impl<X: Exchange> H2Lane<X> {
    /// Opens a connection to endpoint `i`: dial, preface, the server's SETTINGS.
    async fn connect(&mut self, i: usize) -> Result<Arc<Conn>, ErrorKind> {
        let sh = &self.shared;
        let io = sh.dialer.connect(&sh.peers[i], &mut self.stage).await?;
        let mut io = io
            .riding(self.wakeups.as_ref(), true)
            .map_err(|e| ErrorKind::from_io(&e))?;
        self.stage = Stage::Handshake;
        io.expect(None);
        io.write_all(&sh.preface)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        let conn = Arc::new(Conn::new(io, self.streams, sh.exchange.grpc()));
        tokio::spawn(run_conn(Arc::downgrade(&conn)));
        poll_fn(|cx| conn.poll_handshake(cx)).await?;
        Ok(conn)
    }

    /// The group's connection to endpoint `i` (opened now when there is none or it can take no
    /// new stream).
    async fn conn(&mut self, i: usize) -> Result<Arc<Conn>, ErrorKind> {
        // A connection that failed since is noticed when a stream is started on it.
        if let Some((_, c)) = &self.mine[i] {
            return Ok(c.clone());
        }
        self.stage = Stage::Connect;
        let cells = self.cells.clone();
        let mut cell = cells[i].current.lock().await;
        if cell.1.as_ref().is_none_or(|c| !c.usable()) {
            let c = self.connect(i).await?;
            cell.0 += 1;
            cell.1 = Some(c);
        }
        self.stage = Stage::Exchange;
        let c = cell.1.clone().expect("set above");
        self.mine[i] = Some((cell.0, c.clone()));
        Ok(c)
    }

    /// Drops this lane's connection to `i` and, if the group's is the same generation, that too.
    fn forget(&mut self, i: usize) {
        if let Some((g, _)) = self.mine[i].take()
            && let Ok(mut cell) = self.cells[i].current.try_lock()
            && cell.0 == g
        {
            cell.1 = None;
        }
    }

    /// Resets a request a timeout abandoned.
    fn abandon(&mut self) {
        if let Some(i) = self.busy.take()
            && let Some((_, c)) = &self.mine[i]
        {
            c.cancel(self.slot);
        }
    }

    async fn call(&mut self, i: usize) -> Outcome {
        self.abandon();
        let shared = self.shared.clone();
        let p = shared.exchange.prepared(i);
        // A connection that can take no new stream is replaced once; a request the server
        // refused unprocessed is sent once more.
        let mut retried = false;
        let mut resent = false;
        loop {
            let conn = match self.conn(i).await {
                Ok(c) => c,
                Err(kind) => return Outcome::Error { kind, sent: 0 },
            };
            self.busy = Some(i);
            let wakeups = self.wakeups.as_ref();
            let owner = match poll_fn(|cx| conn.poll_start(self.slot, p, wakeups, cx)).await {
                Ok(owner) => owner,
                Err(StartError::Gone(kind)) => {
                    self.busy = None;
                    self.forget(i);
                    if retried {
                        return Outcome::Error { kind, sent: 0 };
                    }
                    retried = true;
                    continue;
                }
            };
            if owner {
                // Let the other lanes woken with this one append their frames: one write for
                // all of them.
                yield_to_queued().await;
                conn.flush();
            }
            let (o, refused, arrived) = poll_fn(|cx| conn.poll_done(self.slot, cx)).await;
            self.busy = None;
            self.answered = arrived;
            if refused && !resent {
                resent = true;
                self.forget(i);
                continue;
            }
            return o;
        }
    }
}

/// Yields once to the tasks already queued on this runtime (the lanes woken with this one),
/// then resumes. Not `tokio::task::yield_now`: that one waits for the reactor to be polled
/// first, an `epoll_wait` per request in the Open model, where a wake-up releases one lane and
/// nothing else is queued.
async fn yield_to_queued() {
    let mut yielded = false;
    poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            // Woken while it runs: the scheduler queues the task behind those already queued.
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

impl<X: Exchange> Lane for H2Lane<X> {
    async fn prepare(&mut self) {
        let _ = self.conn(self.next).await;
    }

    async fn request(&mut self) -> Outcome {
        self.answered = None;
        let i = self.next;
        self.next = (self.next + 1) % self.mine.len();
        self.call(i).await
    }

    fn timeout_kind(&self) -> ErrorKind {
        self.stage.timeout_kind()
    }

    fn reset(&mut self) {
        // A cancelled stream does not poison an HTTP/2 connection: reset the stream, keep it.
        self.abandon();
        self.stage = Stage::Exchange;
    }

    /// The group's open plain-TCP connections (Linux) read their answers at the timer's
    /// wake-ups from now on, and so do the ones this lane opens later.
    fn read_at_wakeups(&mut self, wakeups: Wakeups) {
        for (_, c) in self.mine.iter().flatten() {
            c.ride(&wakeups);
        }
        self.wakeups = Some(wakeups);
    }

    fn answered_at(&self) -> Option<std::time::Instant> {
        self.answered
    }
}

// ------------------------------------------------------------------------------------------
// Plain HTTP/2 requests
// ------------------------------------------------------------------------------------------

/// Plain HTTP/2 requests (protocol `HTTP2`): the spec's method, headers and body to each
/// endpoint, the answer's body counted without being kept.
#[derive(Debug)]
pub struct Http2Exchange {
    /// Per endpoint.
    targets: Vec<Prepared>,
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

/// The `:path` of an endpoint path: origin form, checked as a URI path (and query).
pub(crate) fn origin_path(path: &str) -> Result<String> {
    let pq: http::uri::PathAndQuery = path
        .parse()
        .map_err(|err| Error::http(format!("endpoint path {path:?}"), err))?;
    let s = pq.as_str();
    Ok(if s.is_empty() { "/".into() } else { s.into() })
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
        // The head estimate is taken before the length field is added (it counts one itself).
        let estimates: Vec<u64> = plan
            .endpoints
            .iter()
            .map(|e| super::head_len(&plan.method, &e.path, &headers, plan.body.len()))
            .collect();
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
        let mut targets = Vec::with_capacity(plan.endpoints.len());
        for (e, head_len) in plan.endpoints.iter().zip(estimates) {
            let tls = e.scheme == "https";
            let path = origin_path(&e.path)?;
            let block = f::request_block(
                plan.method.as_str(),
                if tls { "https" } else { "http" },
                &host_header(e, tls),
                &path,
                &headers,
            );
            targets.push(Prepared {
                block,
                body: plan.body.clone(),
                sent: head_len + plan.body.len() as u64,
            });
        }
        Ok(Http2Exchange { targets })
    }
}

impl sealed::Sealed for Http2Exchange {}

impl Exchange for Http2Exchange {
    fn prepared(&self, i: usize) -> &Prepared {
        &self.targets[i]
    }

    fn grpc(&self) -> bool {
        false
    }
}

/// A prepared request from its parts (for [`GrpcExchange`](super::grpc::GrpcExchange)).
pub(crate) fn prepared(block: Vec<u8>, body: Bytes, sent: u64) -> Prepared {
    Prepared { block, body, sent }
}

#[cfg(test)]
mod tests {
    use super::yield_to_queued;
    use std::sync::{Arc, Mutex};

    /// A frame type that makes the frame handler panic in tests (unknown types are otherwise
    /// ignored): a stand-in for a bug in the connection task.
    pub(super) const BREAKS_THE_HANDLER: u8 = 0xfe;

    /// A panic in the connection task reaches the lanes, which fail the run with it (in both
    /// load models), instead of leaving them to wait out their timeouts as if the server had
    /// not answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_connection_task_fails_the_run() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    // SETTINGS, then the breaking frame once the client has written its
                    // preface and more (its SETTINGS, possibly a request: either way the lanes
                    // meet the panic, waiting for an answer or starting a stream).
                    let _ = s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
                    let mut b = [0u8; 4096];
                    let mut got = 0;
                    while got < 24 + 9 + 9 {
                        match s.read(&mut b).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got += n,
                        }
                    }
                    let _ = s
                        .write_all(&[0, 0, 0, BREAKS_THE_HANDLER, 0, 0, 0, 0, 0])
                        .await;
                    while let Ok(n) = s.read(&mut b).await {
                        if n == 0 {
                            return;
                        }
                    }
                });
            }
        });
        let request = smi_types::perf::RequestSpec {
            timeout: Some(smi_types::perf::Duration::new_unchecked("3s")),
            ..Default::default()
        };
        let closed = smi_types::perf::PerformanceTestSpec::http2(&url)
            .connections(1)
            .streams_per_connection(2)
            .requests(4)
            .request(request.clone());
        let open = smi_types::perf::PerformanceTestSpec::http2(&url)
            .connections(1)
            .streams_per_connection(2)
            .load_model(smi_types::perf::LoadModel::Open)
            .rps(100)
            .duration("4s")
            .request(request);
        for spec in [closed, open] {
            let plan = Arc::new(crate::RunPlan::from_spec(&spec).unwrap());
            let factory = Arc::new(super::Http2Factory::new(&plan).unwrap());
            let r = crate::drive(factory, plan, crate::RunContext::default()).await;
            match r {
                Err(crate::Error::LanePanicked(m)) => {
                    assert!(m.contains("a test frame broke the handler"), "{m}")
                }
                other => panic!("{:?}", other.map(|s| s.recorder.errors)),
            }
        }
    }

    /// The lane about to write yields to the lanes queued behind it (so that their frames join
    /// its write) and then runs on.
    #[test]
    fn a_yield_lets_the_queued_lanes_run_first() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            let lane = |name: &'static str, yields: bool| {
                let order = order.clone();
                tokio::spawn(async move {
                    if yields {
                        yield_to_queued().await;
                    }
                    order.lock().unwrap().push(name);
                })
            };
            let lanes = [lane("owner", true), lane("b", false), lane("c", false)];
            for l in lanes {
                l.await.unwrap();
            }
        });
        assert_eq!(*order.lock().unwrap(), ["b", "c", "owner"]);
    }
}
