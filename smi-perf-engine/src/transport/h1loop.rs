//! The closed-loop HTTP/1.1 event loop: the built-in HTTP/1.1 generator's closed model over plain
//! TCP, without a task per connection.
//!
//! Why: in the closed loop each connection waits for its answer and sends the next request at
//! once, so per request a generator does one write, one read, a parse and a record, and
//! everything else is overhead. Run as one tokio task per connection, that overhead (the task's
//! wake-up and poll, the readiness registration, the lane's nested futures, the per-request
//! deadline `select!`) was ~1 µs of user time per request against wrk's ~0.3–0.6 µs, and the
//! closed-loop comparison of issue 14 is decided by it (`bench/README.md`, "The closed-loop
//! event loop"). Here each of the runtime's worker threads gets one OS thread that owns a share
//! of the connections and one `mio` poll: a readable connection is read, its answer decoded by
//! the same [`Decoder`] as the lane's and recorded, and the next request written, in one pass.
//!
//! Same rules as the task-per-lane driver (`driver::drive`), which the other protocols, TLS, the
//! Open model and a closed loop with a rate ceiling still use:
//! - connections are opened (by tokio, concurrently, for at most the request timeout) before the
//!   clock starts; a lane left unconnected connects on its first request, which is timed;
//! - a request that starts during the warm-up is sent but not recorded; in duration mode no
//!   request starts after the end and one still in flight at the end is cut off; in requests
//!   mode each lane completes an exact share;
//! - a request times out at its deadline (`timeout` after it started), as `connect-timeout`
//!   while connecting, else `timeout`, and its connection is closed;
//! - a reused connection that fails before any byte of the answer (the server closed it while
//!   idle) is retried once on a new connection, within the same deadline;
//! - every request is counted once: succeeded, failed, timed out or cut off.
//!
//! One difference: each host is resolved once, before the run (the lanes dial the address
//! their first connection reached), where the task-per-lane driver resolves at every connect.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use smi_types::perf::LoadModel;
use tokio::time::Instant;

use super::h1::{Decoder, Shared};
use crate::driver::{Group, GroupRef, RunClock, RunContext, RunStats, finish, new_groups};
use crate::error::Result;
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Bytes read from a socket at a time.
const CHUNK: usize = 16 * 1024;
/// The longest the loop sleeps without looking at the cancel flag.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Whether the event loop runs `plan`: the closed model without a rate ceiling, every endpoint
/// plain `http`.
pub(crate) fn eligible(plan: &RunPlan, shared: &Shared) -> bool {
    plan.model == LoadModel::Closed && plan.rps == 0 && shared.targets.iter().all(|t| !t.peer.tls)
}

/// Sets the flag when the run's future is dropped (the caller gave up, e.g. on Ctrl-C): the
/// loop threads then stop within [`MAX_SLEEP`].
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The run's parameters every loop thread shares.
struct Params {
    shared: Arc<Shared>,
    /// Per endpoint: the address to (re)connect to.
    addrs: Vec<SocketAddr>,
    record_from: Instant,
    end: Option<Instant>,
    hard_end: Instant,
    timeout: Duration,
    cancel: Arc<AtomicBool>,
}

/// Runs `plan` (see [`eligible`]) on event-loop threads; `None` when a host does not resolve
/// (the task-per-lane driver then runs it, and reports its errors).
pub(crate) async fn drive(
    shared: Arc<Shared>,
    plan: Arc<RunPlan>,
    ctx: RunContext,
) -> Option<Result<RunStats>> {
    // Resolve every host once, for at most the request timeout.
    let mut resolved = Vec::with_capacity(shared.targets.len());
    for t in &shared.targets {
        let addrs: Vec<SocketAddr> =
            match tokio::time::timeout(plan.timeout, tokio::net::lookup_host(&t.peer.addr)).await {
                Ok(Ok(a)) => a.collect(),
                _ => return None,
            };
        if addrs.is_empty() {
            return None;
        }
        resolved.push(addrs);
    }
    let n_targets = shared.targets.len();
    let lanes = plan.connections.max(1);
    // Connect every lane concurrently before the clock starts (as `driver::drive` prepares its
    // lanes): lane `c` starts on endpoint `c % n`.
    let mut connects = tokio::task::JoinSet::new();
    for c in 0..lanes {
        let i = c as usize % n_targets;
        let addrs = resolved[i].clone();
        let limit = plan.timeout;
        connects.spawn(async move {
            let s = tokio::time::timeout(limit, tokio::net::TcpStream::connect(&addrs[..])).await;
            (c, i, s.ok().and_then(|s| s.ok()))
        });
    }
    let mut first: Vec<Option<std::net::TcpStream>> = (0..lanes).map(|_| None).collect();
    let mut addrs: Vec<SocketAddr> = resolved.iter().map(|a| a[0]).collect();
    while let Some(j) = connects.join_next().await {
        let Ok((c, i, Some(s))) = j else { continue };
        if let Ok(peer) = s.peer_addr() {
            addrs[i] = peer;
        }
        let _ = s.set_nodelay(true);
        first[c as usize] = s.into_std().ok();
    }

    let RunClock {
        start,
        wall_start,
        record_from,
        end,
        quota_total,
    } = RunClock::start(&plan, &ctx);
    let hard_end = end.unwrap_or(start + Duration::from_secs(100 * 365 * 24 * 3600));
    let workers = tokio::runtime::Handle::current()
        .metrics()
        .num_workers()
        .clamp(1, lanes as usize);
    let groups = new_groups(&plan, &ctx, workers, start, wall_start, 0);
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let params = Arc::new(Params {
        shared: shared.clone(),
        addrs,
        record_from,
        end,
        hard_end,
        timeout: plan.timeout,
        cancel: cancel.0.clone(),
    });
    // Lane c runs on thread c % workers (as lanes are spread over groups in `driver::drive`).
    let mut shares: Vec<Vec<LaneState>> = (0..workers).map(|_| Vec::new()).collect();
    for (c, conn) in first.into_iter().enumerate() {
        let quota = quota_total
            .map(|q| q / u64::from(lanes) + u64::from((c as u64) < q % u64::from(lanes)));
        let target = c % n_targets;
        let mut conns: Vec<Option<Conn>> = (0..n_targets).map(|_| None).collect();
        conns[target] = conn.map(|s| Conn {
            sock: TcpStream::from_std(s),
            served: 0,
            connected: true,
            registered: false,
            stirred: false,
        });
        shares[c % workers].push(LaneState {
            conns,
            next: target,
            buf: BytesMut::new(),
            req: None,
            remaining: quota,
            seq: 0,
        });
    }
    let mut threads = Vec::with_capacity(workers);
    for (share, group) in shares.into_iter().zip(groups.iter().cloned()) {
        let params = params.clone();
        threads.push(tokio::task::spawn_blocking(move || {
            Loop::new(share, group, params).map(|l| l.run())
        }));
    }
    let mut last = record_from;
    for t in threads {
        match t.await {
            Ok(Ok(finished)) => last = last.max(finished),
            Ok(Err(e)) => return Some(Err(crate::Error::Io(e))),
            // A panic (a bug) fails the run, as a panicking lane does: its requests cannot all
            // be counted. The other threads are stopped.
            Err(e) => {
                cancel.0.store(true, Ordering::Relaxed);
                return Some(Err(crate::Error::LanePanicked(
                    crate::driver::panic_message(e),
                )));
            }
        }
    }
    drop(cancel);
    Some(Ok(finish(
        &plan,
        &groups,
        0,
        record_from,
        end,
        last,
        wall_start,
        lanes,
    )))
}

/// One connection of a lane.
struct Conn {
    sock: TcpStream,
    /// Answers it carried.
    served: u64,
    /// The TCP handshake finished.
    connected: bool,
    /// Registered with the thread's poll.
    registered: bool,
    /// An event arrived while no request was on it (the server may have closed it): the next
    /// request reads right after writing instead of waiting for an event.
    stirred: bool,
}

/// The request a lane has in flight.
struct Req {
    target: usize,
    t0: Instant,
    recording: bool,
    /// Bytes of the request written.
    written: usize,
    dec: Decoder,
    /// Already retried once on a new connection.
    retried: bool,
}

/// One lane: a connection per endpoint, used in turn, one request at a time.
struct LaneState {
    conns: Vec<Option<Conn>>,
    next: usize,
    /// Bytes read and not consumed by a decoder.
    buf: BytesMut,
    req: Option<Req>,
    /// Requests mode: recorded requests still to complete.
    remaining: Option<u64>,
    /// Counts requests; tells a deadline entry of the current request from a stale one.
    seq: u32,
}

/// One event-loop thread.
struct Loop {
    lanes: Vec<LaneState>,
    group: GroupRef,
    p: Arc<Params>,
    poll: Poll,
    /// (deadline, lane, seq) of the requests started, in start order, so in deadline order
    /// (every request gets the same timeout, capped by the same hard end).
    deadlines: VecDeque<(Instant, u32, u32)>,
    /// Lanes to start a request on at the next turn (after a failure: a refused connect fails
    /// at once, and the others must get their turn).
    ready: Vec<u32>,
    /// Lanes still running.
    active: usize,
    /// When the last recorded request finished.
    last: Instant,
    scratch: Box<[u8]>,
}

/// What a step of a request came to.
enum Step {
    /// Waiting for the socket.
    Wait,
    /// A whole answer; `bool`: the connection closes with it.
    Done(Outcome, bool),
    /// Failed; `bool`: the connection was reused and nothing of the answer arrived (retry).
    Failed(ErrorKind, bool),
}

fn token(lane: u32, target: usize, n_targets: usize) -> Token {
    Token(lane as usize * n_targets + target)
}

impl Loop {
    fn new(lanes: Vec<LaneState>, group: GroupRef, p: Arc<Params>) -> io::Result<Loop> {
        let active = lanes.len();
        let last = p.record_from;
        Ok(Loop {
            lanes,
            group,
            p,
            poll: Poll::new()?,
            deadlines: VecDeque::new(),
            ready: Vec::new(),
            active,
            last,
            scratch: vec![0; CHUNK].into_boxed_slice(),
        })
    }

    fn run(mut self) -> Instant {
        let n_targets = self.p.shared.targets.len();
        let mut events = Events::with_capacity(1024);
        for l in 0..self.lanes.len() as u32 {
            self.start(l);
        }
        let mut ready = Vec::new();
        while self.active > 0 && !self.p.cancel.load(Ordering::Relaxed) {
            std::mem::swap(&mut ready, &mut self.ready);
            for l in ready.drain(..) {
                self.start(l);
            }
            // Once per turn, whatever else is ready: a lane failing at once on every turn must
            // not keep the others' deadlines from being seen.
            let now = Instant::now();
            self.expire(now);
            if self.active == 0 {
                break;
            }
            let wait = if self.ready.is_empty() {
                match self.deadlines.front() {
                    Some(&(d, _, _)) => d.saturating_duration_since(now).min(MAX_SLEEP),
                    None => MAX_SLEEP,
                }
            } else {
                Duration::ZERO
            };
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The poll itself failed (nothing a target does causes this): stop; what is in
                // flight is counted as cut off below.
                Err(_) => break,
            }
            for ev in events.iter() {
                let l = (ev.token().0 / n_targets) as u32;
                let target = ev.token().0 % n_targets;
                let lane = &mut self.lanes[l as usize];
                if lane.req.as_ref().is_some_and(|r| r.target == target) {
                    self.advance(l);
                } else if let Some(c) = lane.conns[target].as_mut() {
                    c.stirred = true;
                }
            }
        }
        // Cancelled, or the poll failed: count what is in flight as cut off.
        for l in 0..self.lanes.len() {
            if let Some(r) = self.lanes[l].req.take()
                && r.recording
            {
                Group::lock(&self.group).cut_off(None);
            }
        }
        self.last
    }

    /// Times out the requests whose deadline passed.
    fn expire(&mut self, now: Instant) {
        while let Some(&(d, l, seq)) = self.deadlines.front() {
            let lane = &self.lanes[l as usize];
            if lane.seq != seq || lane.req.is_none() {
                self.deadlines.pop_front();
                continue;
            }
            if d > now {
                break;
            }
            self.deadlines.pop_front();
            let lane = &mut self.lanes[l as usize];
            let Some(r) = lane.req.take() else { continue };
            let connecting = lane.conns[r.target].as_ref().is_none_or(|c| !c.connected);
            lane.conns[r.target] = None;
            lane.buf.clear();
            if d == self.p.hard_end {
                // The run ended under this request: abandon it, count it as cut off.
                if r.recording {
                    Group::lock(&self.group).cut_off(None);
                }
                self.active -= 1;
                continue;
            }
            let kind = if connecting {
                ErrorKind::ConnectTimeout
            } else {
                ErrorKind::Timeout
            };
            if r.recording {
                Group::lock(&self.group).timed_out(kind, now - r.t0, now, None, None);
                self.counted(l, now);
            }
            self.ready.push(l);
        }
    }

    /// A recorded request of lane `l` finished at `at`.
    fn counted(&mut self, l: u32, at: Instant) {
        self.last = self.last.max(at);
        if let Some(r) = self.lanes[l as usize].remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
    }

    /// Starts lane `l`'s next request, or retires the lane when it is done.
    fn start(&mut self, l: u32) {
        let t0 = Instant::now();
        let lane = &mut self.lanes[l as usize];
        if self.p.end.is_some_and(|e| t0 >= e) || lane.remaining == Some(0) {
            self.active -= 1;
            return;
        }
        let target = lane.next;
        lane.next = (lane.next + 1) % lane.conns.len();
        lane.seq = lane.seq.wrapping_add(1);
        let deadline = (t0 + self.p.timeout).min(self.p.hard_end);
        lane.req = Some(Req {
            target,
            t0,
            recording: t0 >= self.p.record_from,
            written: 0,
            dec: Decoder::new(self.p.shared.head_method),
            retried: false,
        });
        self.deadlines.push_back((deadline, l, lane.seq));
        self.advance(l);
    }

    /// Moves lane `l`'s request on as far as its socket allows, and deals with the outcome.
    fn advance(&mut self, l: u32) {
        loop {
            match self.step(l) {
                Step::Wait => return,
                Step::Done(o, close) => {
                    let done = Instant::now();
                    let lane = &mut self.lanes[l as usize];
                    let Some(r) = lane.req.take() else { return };
                    if close {
                        lane.conns[r.target] = None;
                    }
                    if r.recording {
                        Group::lock(&self.group).record(o, done - r.t0, None, done, None, None);
                        self.counted(l, done);
                    }
                    // The next request at once (a closed loop).
                    self.start(l);
                    return;
                }
                Step::Failed(kind, retry) => {
                    let lane = &mut self.lanes[l as usize];
                    let Some(r) = lane.req.as_mut() else { return };
                    lane.conns[r.target] = None;
                    lane.buf.clear();
                    if retry && !r.retried {
                        r.retried = true;
                        r.written = 0;
                        r.dec = Decoder::new(self.p.shared.head_method);
                        continue;
                    }
                    let Some(r) = lane.req.take() else { return };
                    if r.recording {
                        let done = Instant::now();
                        let sent = if matches!(kind, ErrorKind::ConnectRefused | ErrorKind::Connect)
                        {
                            0
                        } else {
                            self.p.shared.targets[r.target].request.len() as u64
                        };
                        let o = Outcome::Error { kind, sent };
                        Group::lock(&self.group).record(o, done - r.t0, None, done, None, None);
                        self.counted(l, done);
                    }
                    // At the next turn, not now: a refused connect fails at once.
                    self.ready.push(l);
                    return;
                }
            }
        }
    }

    /// One step of lane `l`'s request: connect, write, read.
    fn step(&mut self, l: u32) -> Step {
        let n_targets = self.p.shared.targets.len();
        let Loop {
            lanes,
            p,
            poll,
            scratch,
            ..
        } = self;
        let lane = &mut lanes[l as usize];
        let Some(r) = lane.req.as_mut() else {
            return Step::Wait;
        };
        let request = &p.shared.targets[r.target].request;
        let conn = match &mut lane.conns[r.target] {
            Some(c) => c,
            slot @ None => {
                lane.buf.clear();
                match TcpStream::connect(p.addrs[r.target]) {
                    Ok(sock) => slot.insert(Conn {
                        sock,
                        served: 0,
                        connected: false,
                        registered: false,
                        stirred: false,
                    }),
                    Err(e) => return Step::Failed(ErrorKind::from_io(&e), false),
                }
            }
        };
        if !conn.registered {
            if let Err(e) = poll.registry().register(
                &mut conn.sock,
                token(l, r.target, n_targets),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                return Step::Failed(ErrorKind::from_io(&e), false);
            }
            conn.registered = true;
            if conn.connected {
                // Connected before the run: an answer can only follow a request.
                conn.stirred = false;
            }
        }
        if !conn.connected {
            // mio's non-blocking connect: done when writable and the peer address is known.
            match conn.sock.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => return Step::Failed(ErrorKind::from_io(&e), false),
            }
            match conn.sock.peer_addr() {
                Ok(_) => {
                    conn.connected = true;
                    let _ = conn.sock.set_nodelay(true);
                }
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        || e.raw_os_error() == Some(libc_einprogress()) =>
                {
                    return Step::Wait;
                }
                Err(e) => return Step::Failed(ErrorKind::from_io(&e), false),
            }
        }
        let reused = conn.served > 0;
        let mut wrote_now = false;
        while r.written < request.len() {
            match conn.sock.write(&request[r.written..]) {
                Ok(0) => return Step::Failed(ErrorKind::Reset, reused),
                Ok(n) => {
                    r.written += n;
                    wrote_now = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Failed(ErrorKind::from_io(&e), reused),
            }
        }
        // Bytes already here (read past the last answer) are decoded first.
        if !lane.buf.is_empty() {
            match r.dec.feed(&mut lane.buf) {
                Ok(Some(s)) => return finished(conn, s, request),
                Ok(None) => {}
                Err(e) => return Step::Failed(e.kind, false),
            }
        }
        // Right after the request went out its answer cannot be here yet (the target has not
        // run): wait for the event instead of a read that finds the socket empty, unless an
        // event came while the connection was idle (the server may have closed it).
        if wrote_now && !std::mem::take(&mut conn.stirred) {
            return Step::Wait;
        }
        loop {
            match conn.sock.read(scratch) {
                Ok(0) => {
                    return match r.dec.end_of_stream(&lane.buf) {
                        Ok(s) => finished(conn, s, request),
                        Err(e) => Step::Failed(e.kind, reused && e.before_any_byte),
                    };
                }
                Ok(n) => {
                    lane.buf.extend_from_slice(&scratch[..n]);
                    match r.dec.feed(&mut lane.buf) {
                        Ok(Some(s)) => {
                            return finished(conn, s, request);
                        }
                        Ok(None) => {}
                        Err(e) => return Step::Failed(e.kind, false),
                    }
                    // Not whole yet: read on until the socket says it is empty (under
                    // edge-triggered readiness, a close that came with these bytes brings no
                    // event of its own).
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let fresh = r.dec.fresh(&lane.buf);
                    return Step::Failed(ErrorKind::from_io(&e), reused && fresh);
                }
            }
        }
    }
}

/// A whole answer on `conn` (which closes with it unless the answer keeps it alive).
fn finished(conn: &mut Conn, s: super::h1::ResponseSummary, request: &[u8]) -> Step {
    conn.served += 1;
    Step::Done(
        Outcome::Response {
            status: s.status,
            sent: request.len() as u64,
            received: s.received,
        },
        !s.keep_alive,
    )
}

/// `EINPROGRESS` (115 on Linux, 36 on the BSDs and macOS).
fn libc_einprogress() -> i32 {
    if cfg!(target_os = "linux") { 115 } else { 36 }
}
