//! The HTTP/1.1 event loop: the built-in HTTP/1.1 generator over plain TCP, closed model and
//! (Linux) Open model, without a task per connection.
//!
//! Why: per request a generator does one write, one read, a parse and a record, and everything
//! else is overhead. Run as one tokio task per connection, that overhead (the task's wake-up and
//! poll, the readiness registration, the lane's nested futures, the per-request deadline
//! `select!`, and in the Open model the shared precise timer's heap, locks and wakes) was
//! ~1 µs of user time per request in the closed loop against wrk's ~0.3–0.6 µs, and about
//! twice h2load's user time per request in the Open model; issue 14's comparisons are decided
//! by it (`bench/README.md`, "The closed-loop event loop" and "The Open-model event loop").
//! Here each of the runtime's worker threads gets one OS thread that owns a share of the
//! connections and one `mio` poll: a readable connection is read, its answer decoded by the
//! same [`Decoder`] as the lane's and recorded, and the next request written, in one pass.
//!
//! Same rules as the task-per-lane driver (`driver::drive`), which the other protocols, TLS and
//! a closed loop with a rate ceiling still use:
//! - connections are opened (by tokio, concurrently, for at most the request timeout) before the
//!   clock starts; a lane left unconnected connects on its first request, which is timed;
//! - a request that starts (Open model: is scheduled) during the warm-up is sent but not
//!   recorded; in duration mode no request starts (is scheduled) after the end and one still in
//!   flight at the end (Open model: after the grace of `min(timeout, 1 s)`) is cut off; in
//!   requests mode each lane completes an exact share;
//! - a request times out at its deadline (`timeout` after it went out), as `connect-timeout`
//!   while connecting, else `timeout`, and its connection is closed;
//! - a reused connection that fails before any byte of the answer (the server closed it while
//!   idle) is retried once on a new connection, within the same deadline;
//! - every request is counted once: succeeded, failed, timed out or cut off; in the Open model
//!   every scheduled send is also counted once: sent, or dropped.
//!
//! **The Open model** ([`LaneSchedule`]: lane `i` of `L` owns sends `i, i + L, …`, each going
//! out at its intended time, on the grid; a lane still waiting for an answer when its next send
//! comes due sends it late, latency timed from the intended time, and drops what comes due
//! beyond its share of `maxInFlight`). Each thread keeps one queue of when each of its lanes next
//! needs it — its next send, or when the answer in flight must have been read by: its next send,
//! or shortly after its last — and sleeps on one `timerfd` (nanosecond deadline, no timer slack)
//! armed for the earliest entry or deadline, for at most the precise timer's longest sleep
//! (1 ms, or the grid's step when coarser: see `pacer`). Answers are read at those entries (as
//! `riding` does for the task-per-lane driver, [`crate::Wakeups`]): a connection whose answer is
//! expected before its lane's next send is not in the poll, so its answer wakes nobody; at the
//! lane's entry one non-blocking read takes the answer, which the kernel stamped when it arrived
//! (`SO_TIMESTAMPNS`), so its latency is exact, and the next send goes out in the same pass. In
//! the steady state a request costs one `sendto` and one `recvmsg`, and a wake-up one
//! `timerfd_settime` and one `ppoll`. A lane whose answer is not there at its entry (it is
//! behind its schedule), a connect or a write that would block, a connection the kernel does
//! not stamp, or `--read-on-arrival`: that connection joins the poll and the thread blocks on
//! the poll (the `timerfd` is in it too), woken by readiness as well, until that request ends.
//!
//! One difference: each host is resolved once, before the run (the lanes dial the address
//! their first connection reached), where the task-per-lane driver resolves at every connect.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
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
use crate::driver::{
    Group, GroupRef, LaneSchedule, RunClock, RunContext, RunStats, finish, new_groups,
};
use crate::error::Result;
use crate::plan::RunPlan;
use crate::stats::{ErrorKind, Outcome};

/// Bytes read from a socket at a time.
const CHUNK: usize = 16 * 1024;
/// The longest the loop sleeps without looking at the cancel flag.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// The poll token of the Open model's timer.
const TIMER: Token = Token(usize::MAX);

/// Whether the event loop runs `plan`: every endpoint plain `http`, and the closed model without
/// a rate ceiling or (Linux) the Open model.
pub(crate) fn eligible(plan: &RunPlan, shared: &Shared) -> bool {
    let model = match plan.model {
        LoadModel::Closed => plan.rps == 0,
        LoadModel::Open => cfg!(target_os = "linux"),
    };
    model && shared.targets.iter().all(|t| !t.peer.tls)
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
    /// The Open model's settings; `None`: the closed model.
    open: Option<OpenParams>,
}

/// The Open model's settings.
struct OpenParams {
    /// Answers are read at the timer's wake-ups ([`RunContext::read_at_wakeups`]).
    read_at_wakeups: bool,
    /// The longest sleep while anything is pending: 1 ms, or the grid's step when coarser.
    max_sleep: Duration,
    /// What the kernel's receive timestamps are converted against.
    base: std::time::Instant,
}

/// Runs `plan` (see [`eligible`]) on event-loop threads; `None` when a host does not resolve or
/// the Open model's timer cannot be made (the task-per-lane driver then runs it, and reports its
/// errors).
pub(crate) async fn drive(
    shared: Arc<Shared>,
    plan: Arc<RunPlan>,
    ctx: RunContext,
) -> Option<Result<RunStats>> {
    let open = plan.model == LoadModel::Open;
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
    let workers = tokio::runtime::Handle::current()
        .metrics()
        .num_workers()
        .clamp(1, lanes as usize);
    // The Open model's timers, one per thread, made first: without them the task-per-lane
    // driver runs the plan.
    let mut timers = Vec::new();
    if open {
        for _ in 0..workers {
            timers.push(Timer::new().ok()?);
        }
    }
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
        hard_end,
        quota_total,
        grid,
        n_stages,
    } = RunClock::start(&plan, &ctx);
    let schedule = Arc::new(plan.schedule.clone());
    let groups = new_groups(&plan, &ctx, workers, start, wall_start, n_stages);
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let params = Arc::new(Params {
        shared: shared.clone(),
        addrs,
        record_from,
        end,
        hard_end,
        timeout: plan.timeout,
        cancel: cancel.0.clone(),
        open: open.then(|| OpenParams {
            read_at_wakeups: ctx.read_at_wakeups,
            max_sleep: grid.max(crate::pacer::MAX_SLEEP),
            base: start.into_std(),
        }),
    });
    // Lane c runs on thread c % workers (as lanes are spread over groups in `driver::drive`).
    let mut shares: Vec<Vec<LaneState>> = (0..workers).map(|_| Vec::new()).collect();
    for (c, conn) in first.into_iter().enumerate() {
        let quota = quota_total
            .map(|q| q / u64::from(lanes) + u64::from((c as u64) < q % u64::from(lanes)));
        let target = c % n_targets;
        let mut conns: Vec<Option<Conn>> = (0..n_targets).map(|_| None).collect();
        conns[target] = conn.map(|s| {
            let stamped = open && stamp(&s);
            Conn {
                sock: TcpStream::from_std(s),
                served: 0,
                connected: true,
                registered: false,
                stirred: false,
                stamped,
            }
        });
        let sched = open.then(|| {
            LaneSchedule::new(
                schedule.clone(),
                crate::schedule::Grid::new(grid),
                start,
                record_from,
                end,
                c as u32,
                lanes,
                plan.max_in_flight,
            )
        });
        shares[c % workers].push(LaneState {
            conns,
            next: target,
            buf: BytesMut::new(),
            req: None,
            remaining: quota,
            seq: 0,
            open: sched.map(|sched| OpenLane {
                sched,
                k: 0,
                refused: None,
                entry: 0,
                queued: false,
            }),
            done: false,
        });
    }
    let mut threads = Vec::with_capacity(workers);
    let mut timers = timers.into_iter();
    for (share, group) in shares.into_iter().zip(groups.iter().cloned()) {
        let params = params.clone();
        let timer = timers.next();
        threads.push(tokio::task::spawn_blocking(move || {
            Loop::new(share, group, params, timer).and_then(Loop::run)
        }));
    }
    let mut last = record_from;
    for t in threads {
        match t.await {
            Ok(Ok(finished)) => last = last.max(finished),
            Ok(Err(e)) => {
                cancel.0.store(true, Ordering::Relaxed);
                return Some(Err(crate::Error::Io(e)));
            }
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
        n_stages,
        record_from,
        end,
        last,
        wall_start,
        lanes,
    )))
}

/// Asks the kernel to stamp what `s` receives; whether it will.
#[cfg(target_os = "linux")]
fn stamp(s: &impl std::os::fd::AsFd) -> bool {
    super::riding::stamp_fd(s.as_fd()).is_ok()
}

/// No receive timestamps off Linux.
#[cfg(not(target_os = "linux"))]
fn stamp<T>(_: &T) -> bool {
    false
}

/// The Open model's timer: a one-shot `timerfd` (Linux), registered with the thread's poll and
/// also waited on alone. Elsewhere it cannot be made, and the Open model keeps the task-per-lane
/// driver.
struct Timer {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
    #[cfg(not(target_os = "linux"))]
    never: std::convert::Infallible,
}

#[cfg(target_os = "linux")]
impl Timer {
    fn new() -> io::Result<Timer> {
        use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        Ok(Timer { fd })
    }

    /// Registers the timer with `poll` (its expiries then end a wait on the poll too).
    fn register(&self, poll: &Poll) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let raw = self.fd.as_raw_fd();
        poll.registry()
            .register(&mut mio::unix::SourceFd(&raw), TIMER, Interest::READABLE)
    }

    /// Arms the timer to expire in `d` (more than zero). Re-arming resets the expiry count: the
    /// descriptor is not readable again until this expiry, so it is never read.
    fn arm(&self, d: Duration) -> io::Result<()> {
        use rustix::time::{Itimerspec, TimerfdTimerFlags, timerfd_settime};
        let spec = Itimerspec {
            it_interval: crate::pacer::timespec(Duration::ZERO),
            // A zero value would disarm it.
            it_value: crate::pacer::timespec(d.max(Duration::from_nanos(1))),
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    /// Blocks until the timer expires, for at most `limit`.
    fn wait(&self, limit: Duration) -> io::Result<()> {
        use rustix::event::{PollFd, PollFlags, poll};
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        poll(&mut fds, Some(&crate::pacer::timespec(limit)))?;
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
impl Timer {
    fn new() -> io::Result<Timer> {
        Err(io::ErrorKind::Unsupported.into())
    }
    fn register(&self, _: &Poll) -> io::Result<()> {
        match self.never {}
    }
    fn arm(&self, _: Duration) -> io::Result<()> {
        match self.never {}
    }
    fn wait(&self, _: Duration) -> io::Result<()> {
        match self.never {}
    }
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
    /// The kernel stamps what it receives (Open model).
    stamped: bool,
}

/// The request a lane has in flight.
struct Req {
    target: usize,
    /// When it went out.
    t0: Instant,
    /// Open model: when it was intended to go out (latency is timed from it); closed: `t0`.
    intended: Instant,
    /// Open model: the stage of a ramped schedule it belongs to.
    stage: Option<usize>,
    recording: bool,
    /// Bytes of the request written.
    written: usize,
    dec: Decoder,
    /// Already retried once on a new connection.
    retried: bool,
    /// Open model: its answer is waited for on readiness, not only read at the timer's
    /// wake-ups.
    watched: bool,
    /// Open model: the kernel's receive timestamp of the last bytes read.
    #[cfg(target_os = "linux")]
    arrived: Option<i128>,
    /// Open model: the clocks when no byte of the answer had arrived yet (the request going
    /// out, or the last read that found the socket empty).
    #[cfg(target_os = "linux")]
    before: Option<super::riding::Clocks>,
}

/// An Open-model lane's place in its schedule.
struct OpenLane {
    sched: LaneSchedule,
    /// Its next send.
    k: u64,
    /// Sends `[from, to)` refused because the lane's backlog was at its cap when they came due.
    refused: Option<(u64, u64)>,
    /// The generation of its live entry in the thread's timer queue.
    entry: u32,
    /// It has a live entry there.
    queued: bool,
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
    /// The Open model's schedule; `None`: a closed loop.
    open: Option<OpenLane>,
    /// Retired: it sends nothing more.
    done: bool,
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
    /// Open model: when each lane next needs the thread (its next send, or when the answer in
    /// flight must have been read by), with the entry's generation.
    queue: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    /// Open model: the timer.
    timer: Option<Timer>,
    /// Requests in flight whose answer (or connect, or write) is waited for on readiness.
    watched: usize,
    /// Room for a receive timestamp's control message.
    #[cfg(target_os = "linux")]
    cmsg: Vec<u8>,
}

/// What a step of a request came to.
enum Step {
    /// Waiting for the answer.
    Wait,
    /// Waiting for the connect or for room to write.
    Blocked,
    /// A whole answer; `bool`: the connection closes with it.
    Done(Outcome, bool),
    /// Failed; `bool`: the connection was reused and nothing of the answer arrived (retry).
    Failed(ErrorKind, bool),
}

fn token(lane: u32, target: usize, n_targets: usize) -> Token {
    Token(lane as usize * n_targets + target)
}

impl Loop {
    fn new(
        lanes: Vec<LaneState>,
        group: GroupRef,
        p: Arc<Params>,
        timer: Option<Timer>,
    ) -> io::Result<Loop> {
        let active = lanes.len();
        let last = p.record_from;
        let poll = Poll::new()?;
        if let Some(t) = &timer {
            t.register(&poll)?;
        }
        Ok(Loop {
            lanes,
            group,
            p,
            poll,
            deadlines: VecDeque::new(),
            ready: Vec::new(),
            active,
            last,
            scratch: vec![0; CHUNK].into_boxed_slice(),
            queue: BinaryHeap::new(),
            timer,
            watched: 0,
            #[cfg(target_os = "linux")]
            cmsg: super::riding::stamp_cmsg(),
        })
    }

    fn run(mut self) -> io::Result<Instant> {
        let n_targets = self.p.shared.targets.len();
        let open = self.p.open.is_some();
        let mut events = Events::with_capacity(1024);
        for l in 0..self.lanes.len() as u32 {
            if open {
                self.open_next(l);
            } else {
                self.start(l);
            }
        }
        let mut ready = Vec::new();
        while self.active > 0 && !self.p.cancel.load(Ordering::Relaxed) {
            std::mem::swap(&mut ready, &mut self.ready);
            for l in ready.drain(..) {
                if open {
                    self.open_next(l);
                } else {
                    self.start(l);
                }
            }
            // Once per turn, whatever else is ready: a lane failing at once on every turn must
            // not keep the others' deadlines from being seen.
            let now = Instant::now();
            self.expire(now);
            if open {
                self.due(now);
            }
            if self.active == 0 {
                break;
            }
            let waited = if open {
                self.wait_open(&mut events, now)
            } else {
                let wait = if self.ready.is_empty() {
                    match self.deadlines.front() {
                        Some(&(d, _, _)) => d.saturating_duration_since(now).min(MAX_SLEEP),
                        None => MAX_SLEEP,
                    }
                } else {
                    Duration::ZERO
                };
                self.poll.poll(&mut events, Some(wait))
            };
            match waited {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The poll or the timer itself failed (nothing a target does causes this): the
                // run fails, as its requests can no longer all be counted.
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                if ev.token() == TIMER {
                    continue;
                }
                let l = (ev.token().0 / n_targets) as u32;
                let target = ev.token().0 % n_targets;
                let Some(lane) = self.lanes.get_mut(l as usize) else {
                    continue;
                };
                if lane.req.as_ref().is_some_and(|r| r.target == target) {
                    if self.advance(l) && open {
                        self.open_ended(l);
                    }
                } else if let Some(c) = lane.conns[target].as_mut() {
                    c.stirred = true;
                }
            }
        }
        // Cancelled: count what is in flight as cut off (the result is not given anyway).
        for l in 0..self.lanes.len() as u32 {
            if let Some(r) = self.take_req(l)
                && r.recording
            {
                Group::lock(&self.group).cut_off(r.stage);
            }
        }
        Ok(self.last)
    }

    /// Open model: waits for the timer's next wake-up (the next entry of the queue or deadline,
    /// at most the longest sleep ahead), and for readiness when a request in flight is watched.
    /// `events`: what became ready meanwhile.
    fn wait_open(&mut self, events: &mut Events, now: Instant) -> io::Result<()> {
        let o = self.p.open.as_ref().map_or(MAX_SLEEP, |o| o.max_sleep);
        let mut wake = now + if self.queue.is_empty() { MAX_SLEEP } else { o };
        if let Some(Reverse((at, _, _))) = self.queue.peek() {
            wake = wake.min(*at);
        }
        if let Some(&(d, _, _)) = self.deadlines.front() {
            wake = wake.min(d);
        }
        let sleep = if self.ready.is_empty() {
            wake.saturating_duration_since(Instant::now())
        } else {
            Duration::ZERO
        };
        let Some(timer) = &self.timer else {
            return self.poll.poll(events, Some(sleep));
        };
        if sleep.is_zero() {
            return self.poll.poll(events, Some(Duration::ZERO));
        }
        timer.arm(sleep)?;
        if self.watched > 0 {
            // Woken by readiness or by the timer (registered with the poll).
            return self.poll.poll(events, Some(sleep + MAX_SLEEP));
        }
        // Every answer in flight is read at its lane's entry in the queue, and none of their
        // connections is in the poll: block on the timer alone.
        timer.wait(sleep + MAX_SLEEP)?;
        events.clear();
        Ok(())
    }

    /// Open model: deals with the lanes whose entry in the queue came due by `now`: an idle one
    /// sends (when its next send is due); a busy one reads its answer and sends, or, when the
    /// answer is not there, is behind its schedule and is watched.
    fn due(&mut self, now: Instant) {
        while let Some(&Reverse((at, l, entry))) = self.queue.peek() {
            if at > now {
                break;
            }
            self.queue.pop();
            let lane = &mut self.lanes[l as usize];
            let Some(o) = lane.open.as_mut() else {
                continue;
            };
            if o.entry != entry || !o.queued || lane.done {
                continue;
            }
            o.queued = false;
            if lane.req.is_none() {
                self.open_next(l);
            } else if self.advance(l) {
                // Its answer was waiting (read now, timed by its kernel timestamp): its next
                // send, due now, goes out at once.
                self.open_next(l);
            } else {
                // No answer by its next send (or by shortly after its last): behind, it waits
                // on readiness.
                self.watch(l);
            }
        }
    }

    /// Open model: puts lane `l` in the queue at `at` (its only live entry).
    fn enqueue(&mut self, l: u32, at: Instant) {
        if let Some(o) = self.lanes[l as usize].open.as_mut() {
            o.entry = o.entry.wrapping_add(1);
            o.queued = true;
            self.queue.push(Reverse((at, l, o.entry)));
        }
    }

    /// Waits for lane `l`'s request on readiness: its connection joins the poll (Open model:
    /// a connection read at the timer's wake-ups is not in the poll, so its answers wake
    /// nobody).
    fn watch(&mut self, l: u32) {
        let n_targets = self.p.shared.targets.len();
        let lane = &mut self.lanes[l as usize];
        let Some(r) = lane.req.as_mut() else { return };
        if !r.watched {
            r.watched = true;
            self.watched += 1;
        }
        if let Some(c) = lane.conns[r.target].as_mut()
            && !c.registered
        {
            // On failure the request is still waited for: its deadline ends it.
            let _ = c.register(&self.poll, token(l, r.target, n_targets));
        }
    }

    /// Takes lane `l`'s request out of flight.
    fn take_req(&mut self, l: u32) -> Option<Req> {
        let r = self.lanes[l as usize].req.take()?;
        if r.watched {
            self.watched -= 1;
        }
        Some(r)
    }

    /// Retires lane `l`.
    fn retire(&mut self, l: u32) {
        let lane = &mut self.lanes[l as usize];
        if !lane.done {
            lane.done = true;
            self.active -= 1;
        }
    }

    /// Open model: lane `l` (idle) sends its next send when it is due, else is queued for it;
    /// retires when it owes none.
    fn open_next(&mut self, l: u32) {
        let lane = &mut self.lanes[l as usize];
        if lane.done || lane.req.is_some() {
            return;
        }
        let Some(o) = lane.open.as_mut() else {
            return;
        };
        if let Some((from, to)) = o.refused
            && o.k >= from
        {
            o.sched.drop_range(&mut Group::lock(&self.group), o.k, to);
            o.k = o.k.max(to);
            o.refused = None;
        }
        if !o.sched.owes(o.k) || lane.remaining == Some(0) {
            self.retire(l);
            return;
        }
        let k = o.k;
        let intended = o.sched.send_at(k);
        let t0 = Instant::now();
        if intended > t0 {
            self.enqueue(l, intended);
            return;
        }
        if o.refused.is_none() {
            o.refused = o.sched.refused(k, t0);
        }
        o.k += 1;
        let deadline = (t0 + self.p.timeout).min(self.p.hard_end);
        let read_by = o.sched.read_by(k, lane.remaining, t0, deadline);
        let (stage, recording) = (o.sched.stage(k), o.sched.recorded(k));
        let target = self.begin(l, t0, intended, stage, recording, deadline);
        self.enqueue(l, read_by);
        let read_on_arrival = !self.p.open.as_ref().is_some_and(|o| o.read_at_wakeups)
            || self.lanes[l as usize].conns[target]
                .as_ref()
                .is_none_or(|c| !c.stamped);
        if read_on_arrival {
            self.watch(l);
        }
        if self.advance(l) {
            self.open_ended(l);
        }
    }

    /// Puts a request of lane `l` in flight on its next endpoint (returned), going out at `t0`
    /// (intended at `intended`) with `deadline`.
    fn begin(
        &mut self,
        l: u32,
        t0: Instant,
        intended: Instant,
        stage: Option<usize>,
        recording: bool,
        deadline: Instant,
    ) -> usize {
        let lane = &mut self.lanes[l as usize];
        let target = lane.next;
        lane.next = (lane.next + 1) % lane.conns.len();
        lane.seq = lane.seq.wrapping_add(1);
        lane.req = Some(Req {
            target,
            t0,
            intended,
            stage,
            recording,
            written: 0,
            dec: Decoder::new(self.p.shared.head_method),
            retried: false,
            watched: false,
            #[cfg(target_os = "linux")]
            arrived: None,
            #[cfg(target_os = "linux")]
            before: None,
        });
        self.deadlines.push_back((deadline, l, lane.seq));
        target
    }

    /// Open model: lane `l`'s request ended; it goes on at the next turn unless it is queued.
    fn open_ended(&mut self, l: u32) {
        let lane = &self.lanes[l as usize];
        if !lane.done && lane.open.as_ref().is_some_and(|o| !o.queued) {
            self.ready.push(l);
        }
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
            let Some(r) = self.take_req(l) else { continue };
            let lane = &mut self.lanes[l as usize];
            let connecting = lane.conns[r.target].as_ref().is_none_or(|c| !c.connected);
            lane.conns[r.target] = None;
            lane.buf.clear();
            if d == self.p.hard_end {
                // The run ended under this request: abandon it, count it as cut off; in the
                // Open model so are the sends the lane still owed (they never started).
                let mut g = Group::lock(&self.group);
                if r.recording {
                    g.cut_off(r.stage);
                }
                if let Some(o) = lane.open.as_mut() {
                    o.k = o.sched.drop_rest(&mut g, o.k);
                }
                drop(g);
                self.retire(l);
                continue;
            }
            let kind = if connecting {
                ErrorKind::ConnectTimeout
            } else {
                ErrorKind::Timeout
            };
            if r.recording {
                let intended = lane.open.is_some().then_some(r.intended);
                Group::lock(&self.group).timed_out(kind, now - r.intended, now, intended, r.stage);
                self.counted(l, now);
            }
            if self.p.open.is_some() {
                self.open_ended(l);
            } else {
                self.ready.push(l);
            }
        }
    }

    /// A recorded request of lane `l` finished at `at`.
    fn counted(&mut self, l: u32, at: Instant) {
        self.last = self.last.max(at);
        if let Some(r) = self.lanes[l as usize].remaining.as_mut() {
            *r = r.saturating_sub(1);
        }
    }

    /// Closed model: starts lane `l`'s next request, or retires the lane when it is done.
    fn start(&mut self, l: u32) {
        let t0 = Instant::now();
        let lane = &mut self.lanes[l as usize];
        if self.p.end.is_some_and(|e| t0 >= e) || lane.remaining == Some(0) {
            self.retire(l);
            return;
        }
        let deadline = (t0 + self.p.timeout).min(self.p.hard_end);
        let recording = t0 >= self.p.record_from;
        self.begin(l, t0, t0, None, recording, deadline);
        self.advance(l);
    }

    /// Records lane `l`'s request `r`, finished at `done` with `o` (Open model: timed from its
    /// intended send, with its service time from the actual one).
    fn record(&mut self, l: u32, r: &Req, o: Outcome, done: Instant) {
        let (latency, service, intended) = if self.p.open.is_some() {
            (done - r.intended, Some(done - r.t0), Some(r.intended))
        } else {
            (done - r.t0, None, None)
        };
        Group::lock(&self.group).record(o, latency, service, done, intended, r.stage);
        self.counted(l, done);
    }

    /// When the answer to `r` arrived, read at `now`: the kernel's receive timestamp of its
    /// last bytes when there is one (Open model), kept between the send and now.
    fn answered(&self, r: &Req, now: Instant) -> Instant {
        #[cfg(target_os = "linux")]
        if let (Some(stamp), Some(before), Some(o)) = (r.arrived, r.before, self.p.open.as_ref()) {
            let clocks = super::riding::Clocks::at(now.into_std(), o.base);
            let at = super::riding::arrival(stamp, before, clocks);
            let at = Instant::from_std(o.base) + Duration::from_nanos(at.max(0) as u64);
            return at.clamp(r.t0, now);
        }
        let _ = r;
        now
    }

    /// Moves lane `l`'s request on as far as its socket allows, and deals with the outcome;
    /// whether the request ended. Closed model: the lane's next request starts (at once after
    /// an answer, at the next turn after a failure). Open model: what the lane does next is
    /// the caller's (see [`open_ended`](Self::open_ended)).
    fn advance(&mut self, l: u32) -> bool {
        let open = self.p.open.is_some();
        loop {
            match self.step(l) {
                Step::Wait => return false,
                Step::Blocked => {
                    if open {
                        self.watch(l);
                    }
                    return false;
                }
                Step::Done(o, close) => {
                    let now = Instant::now();
                    let Some(r) = self.take_req(l) else {
                        return false;
                    };
                    if close {
                        self.lanes[l as usize].conns[r.target] = None;
                    }
                    if r.recording {
                        let done = self.answered(&r, now);
                        self.record(l, &r, o, done);
                    }
                    if !open {
                        // The next request at once (a closed loop).
                        self.start(l);
                    }
                    return true;
                }
                Step::Failed(kind, retry) => {
                    let lane = &mut self.lanes[l as usize];
                    let Some(r) = lane.req.as_mut() else {
                        return false;
                    };
                    lane.conns[r.target] = None;
                    lane.buf.clear();
                    if retry && !r.retried {
                        r.retried = true;
                        r.written = 0;
                        r.dec = Decoder::new(self.p.shared.head_method);
                        continue;
                    }
                    let Some(r) = self.take_req(l) else {
                        return false;
                    };
                    if r.recording {
                        let done = Instant::now();
                        let sent = if matches!(kind, ErrorKind::ConnectRefused | ErrorKind::Connect)
                        {
                            0
                        } else {
                            self.p.shared.targets[r.target].request.len() as u64
                        };
                        self.record(l, &r, Outcome::Error { kind, sent }, done);
                    }
                    if !open {
                        // At the next turn, not now: a refused connect fails at once.
                        self.ready.push(l);
                    }
                    return true;
                }
            }
        }
    }

    /// One step of lane `l`'s request: connect, write, read.
    fn step(&mut self, l: u32) -> Step {
        let n_targets = self.p.shared.targets.len();
        let open = self.p.open.is_some();
        let Loop {
            lanes,
            p,
            poll,
            scratch,
            #[cfg(target_os = "linux")]
            cmsg,
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
                    Ok(sock) => {
                        let stamped = open && stamp(&sock);
                        slot.insert(Conn {
                            sock,
                            served: 0,
                            connected: false,
                            registered: false,
                            stirred: false,
                            stamped,
                        })
                    }
                    Err(e) => return Step::Failed(ErrorKind::from_io(&e), false),
                }
            }
        };
        // In the poll: every connection of a closed loop; in the Open model only one whose
        // request is waited for on readiness (see `watch`).
        let in_poll = !open || r.watched;
        if in_poll && !conn.registered {
            if let Err(e) = conn.register(poll, token(l, r.target, n_targets)) {
                return Step::Failed(ErrorKind::from_io(&e), false);
            }
        } else if !in_poll && conn.registered {
            // Waited for on readiness for its last request (the lane was behind): its answers
            // are read at the timer's wake-ups again.
            let _ = poll.registry().deregister(&mut conn.sock);
            conn.registered = false;
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
                    return Step::Blocked;
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Failed(ErrorKind::from_io(&e), reused),
            }
        }
        #[cfg(target_os = "linux")]
        let stamping = match p.open.as_ref() {
            Some(o) if conn.stamped => {
                if wrote_now {
                    // No byte of this answer can have arrived before its request went out.
                    // Both clocks read together, now: their offset is what a step of the wall
                    // clock is told by.
                    r.before = Some(super::riding::Clocks::read(o.base));
                }
                Some(o.base)
            }
            _ => None,
        };
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
            #[cfg(target_os = "linux")]
            let got = match stamping {
                Some(base) => {
                    use std::os::fd::AsRawFd;
                    match super::riding::recv_stamped(conn.sock.as_raw_fd(), scratch, cmsg) {
                        Ok((n, stamp)) => {
                            if n > 0 {
                                r.arrived = stamp;
                            }
                            Ok(n)
                        }
                        Err(e) => {
                            if e.kind() == io::ErrorKind::WouldBlock {
                                r.before = Some(super::riding::Clocks::read(base));
                            }
                            Err(e)
                        }
                    }
                }
                None => conn.sock.read(scratch),
            };
            #[cfg(not(target_os = "linux"))]
            let got = conn.sock.read(scratch);
            match got {
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

impl Conn {
    /// Joins `poll` (edge-triggered, readable and writable) under `token`.
    fn register(&mut self, poll: &Poll, token: Token) -> io::Result<()> {
        poll.registry().register(
            &mut self.sock,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.registered = true;
        if self.connected {
            // Connected before (the run, or this request): what an event now says is news.
            self.stirred = false;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use smi_types::perf::PerformanceTestSpec;

    /// A loopback server answering every request with a small keep-alive answer.
    async fn answering() -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut b = [0u8; 4096];
                    let mut held = Vec::new();
                    while let Ok(n @ 1..) = s.read(&mut b).await {
                        held.extend_from_slice(&b[..n]);
                        while let Some(p) = held.windows(4).position(|w| w == b"\r\n\r\n") {
                            held.drain(..p + 4);
                            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if s.write_all(ok).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        url
    }

    /// Both models are eligible over plain `http` (the Open model on Linux, which has the
    /// `timerfd` and the receive timestamps), and the loop itself runs them: `drive` answers
    /// (not `None`, which would hand the plan to the task-per-lane driver) with every request
    /// counted.
    #[tokio::test]
    async fn the_loop_runs_closed_and_open_plans_over_plain_http() {
        let url = answering().await;
        for open in [false, true] {
            let mut spec = PerformanceTestSpec::http(&url).requests(30).connections(3);
            if open {
                spec = spec.load_model(LoadModel::Open).rps(1000);
            }
            let plan = Arc::new(RunPlan::from_spec(&spec).unwrap());
            let shared = super::super::h1::shared(&plan).unwrap();
            assert_eq!(eligible(&plan, &shared), !open || cfg!(target_os = "linux"));
            if !eligible(&plan, &shared) {
                continue;
            }
            let stats = drive(shared, plan, RunContext::default())
                .await
                .expect("the loop ran it")
                .unwrap();
            assert_eq!(stats.recorder.total(), 30, "open={open}");
            assert_eq!(stats.recorder.failed, 0, "open={open}");
            assert_eq!(stats.lanes, 3);
        }
        // A closed loop with a rate ceiling is not the loop's.
        let spec = PerformanceTestSpec::http(&url).requests(1).rps(10);
        let plan = Arc::new(RunPlan::from_spec(&spec).unwrap());
        assert!(!eligible(&plan, &super::super::h1::shared(&plan).unwrap()));
    }
}
