//! Precise waits: the Open model's pacing (waking a lane at its next intended send) and the
//! embedded target's `--delay`, with sub-millisecond precision.
//!
//! tokio's timer wheel has a 1 ms resolution and rounds deadlines up, so a lane sleeping with
//! `tokio::time::sleep_until` starts each send 0–1 ms after its intended time. The Open model
//! times latency from the intended send, so that lag would be reported as latency: the README's
//! demo showed a corrected p50 of 1.1 ms for a 0.07 ms service time. So every wait of a run goes
//! to one [`Timer`]: a task that keeps the pending deadlines in a heap and sleeps on one
//! one-shot `timerfd` (Linux; nanosecond deadline, woken through tokio's I/O driver) armed for
//! the earliest, then wakes every waiter that is due. Elsewhere, or if the timerfd cannot be
//! created (out of file descriptors), it sleeps on tokio's timer. One timer for all lanes, not
//! one timerfd per lane: one descriptor in the reactor instead of one per lane, and the waiters
//! due at the same wake-up are woken together.
//!
//! **No long sleeps.** The timer sleeps at most [`MAX_SLEEP`] (1 ms) at a time while any wait is
//! pending. On this kernel's scheduler (EEVDF, Linux 6.6+) a thread that slept for several
//! milliseconds on a busy CPU is woken on time but often not run until the task on that CPU ends
//! its slice: on the shared 2-core machine single 5 ms sleeps woke up to several milliseconds late
//! at p50 (p90 up to 9 ms) while 1 ms sleeps woke within ~80 µs, and a 5 ms wait cut into 1 ms
//! sleeps woke ~90 µs late. That was the embedded target's `--delay 5ms` answering 0.65–3.9 ms
//! late while `1ms` was within 22 µs (`bench/README.md`). It costs at most one extra wake-up per
//! millisecond for the whole run, and none when waits end more often than that (an Open model at
//! a few thousand requests per second or more).
//!
//! One exception, chosen by the user: an Open-model run on a send grid coarser than 1 ms
//! (`--timer-resolution`, up to 10 ms) sleeps from one step to the next
//! ([`Timer::start_sleeping_at_most`]): the point of such a grid is fewer wake-ups, and
//! sleeping through the empty milliseconds answers 1.10× (2 ms) to 1.24× (5 ms) the requests per
//! client CPU-second of waking in them at 10,000 rps (`bench/README.md`, "Open model on a coarse
//! grid").
//! On a CPU shared with busy work such a sleep may wake late; the step's sends then leave late,
//! which shows in the corrected latency (timed from the step), not in the service time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The longest single sleep of the timer while a wait is pending (see the module documentation).
pub(crate) const MAX_SLEEP: Duration = Duration::from_millis(1);

/// Where the timer's next sleep ends when it is `now` and the earliest pending deadline is
/// `deadline`: `None` when the deadline has come, else the deadline or, when it is further,
/// `now + max_sleep` (the timer's longest sleep: [`MAX_SLEEP`], or an Open-model grid's step).
pub(crate) fn next_wake(now: Instant, deadline: Instant, max_sleep: Duration) -> Option<Instant> {
    if deadline <= now {
        return None;
    }
    Some(deadline.min(now + max_sleep))
}

/// One pending wait.
struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    /// When the timer task wakes next (`None`: it waits for a registration).
    armed: Option<Instant>,
    /// Readers waiting for the next wake-up that ends a wait (see [`Pacer::ride`]).
    riders: Vec<Waker>,
    /// The riders are woken by then at the latest (the first one's registration plus the
    /// longest sleep), when no wait ends before.
    riders_by: Option<Instant>,
    /// The longest sleep: [`MAX_SLEEP`], or longer (see [`Timer::start_sleeping_at_most`]).
    max_sleep: Duration,
}

impl State {
    /// A timer state whose sleeps last up to `max_sleep`, but never less than [`MAX_SLEEP`].
    fn sleeping_at_most(max_sleep: Duration) -> State {
        State {
            heap: BinaryHeap::new(),
            seq: 0,
            armed: None,
            riders: Vec::new(),
            riders_by: None,
            max_sleep: max_sleep.max(MAX_SLEEP),
        }
    }
}

impl Default for State {
    /// Sleeps of at most [`MAX_SLEEP`].
    fn default() -> State {
        State::sleeping_at_most(MAX_SLEEP)
    }
}

struct Shared {
    state: Mutex<State>,
    /// Tells the timer task a deadline earlier than its armed wake-up was registered.
    notify: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, at: Instant, waker: Waker) {
        let rearm = push(&mut self.lock(), at, waker);
        if rearm {
            self.notify.notify_one();
        }
    }

    fn ride(&self, waker: &Waker) {
        let rearm = ride(&mut self.lock(), Instant::now(), waker.clone());
        if rearm {
            self.notify.notify_one();
        }
    }
}

/// Adds a rider at `now`; `true` when the timer must be re-armed: nothing would wake it within
/// the longest sleep.
fn ride(s: &mut State, now: Instant, waker: Waker) -> bool {
    s.riders.push(waker);
    let by = *s.riders_by.get_or_insert(now + s.max_sleep);
    if s.armed.is_none_or(|a| by < a) {
        s.armed = Some(by);
        return true;
    }
    false
}

/// Adds a wait ending at `at`; `true` when the timer must be re-armed (told through `notify`):
/// it is armed to wake later than this wait ends.
fn push(s: &mut State, at: Instant, waker: Waker) -> bool {
    s.seq += 1;
    let seq = s.seq;
    s.heap.push(Reverse(Entry { at, seq, waker }));
    if s.armed.is_none_or(|a| at < a) {
        s.armed = Some(at);
        return true;
    }
    false
}

/// One wake-up of the timer at `now`: moves the waits that have ended into `due` and, when any
/// ended or the riders' limit has come, every rider into `riders`; returns when to wake next
/// (`None`: nothing is pending). Waits that end at the same instant (the sends of one step of
/// the Open model's grid) end at the same wake-up.
fn tick(
    s: &mut State,
    now: Instant,
    due: &mut Vec<Entry>,
    riders: &mut Vec<Waker>,
) -> Option<Instant> {
    let before = due.len();
    while s.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
        if let Some(Reverse(e)) = s.heap.pop() {
            due.push(e);
        }
    }
    if due.len() > before || s.riders_by.is_some_and(|b| b <= now) {
        riders.append(&mut s.riders);
        s.riders_by = None;
    }
    let max = s.max_sleep;
    let mut wake = s
        .heap
        .peek()
        .and_then(|Reverse(e)| next_wake(now, e.at, max));
    if let Some(by) = s.riders_by {
        wake = Some(wake.map_or(by, |w| w.min(by)));
    }
    s.armed = wake;
    wake
}

/// The timer of a run (or of the embedded target): owns the task that wakes the waiters and
/// stops it when dropped. Create it inside the runtime.
pub(crate) struct Timer {
    shared: Arc<Shared>,
    precise: bool,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer")
            .field("precise", &self.precise)
            .finish_non_exhaustive()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Timer {
    /// Starts the timer task on the current runtime; it wakes every wait as soon as its deadline
    /// has passed (the embedded target's timer; a run's is
    /// [`start_sleeping_at_most`](Self::start_sleeping_at_most) its grid).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn start() -> Timer {
        Self::start_sleeping_at_most(MAX_SLEEP)
    }

    /// [`start`](Self::start) with sleeps of up to `max_sleep` (at least [`MAX_SLEEP`]) while a
    /// wait is pending: the Open model on a grid coarser than [`MAX_SLEEP`] sleeps from one step
    /// to the next, not once more every millisecond in between.
    pub(crate) fn start_sleeping_at_most(max_sleep: Duration) -> Timer {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::sleeping_at_most(max_sleep)),
            notify: Notify::new(),
        });
        let clock = Clock::new();
        let precise = clock.is_precise();
        let task = tokio::spawn(run(shared.clone(), clock));
        Timer {
            shared,
            precise,
            task,
        }
    }

    /// A handle the waiters use.
    pub(crate) fn pacer(&self) -> Pacer {
        Pacer {
            shared: self.shared.clone(),
        }
    }

    /// Waits until `at`, like [`Pacer::sleep_until`] (the embedded target's delays).
    #[cfg_attr(not(feature = "serve"), allow(dead_code))]
    pub(crate) fn sleep_until(&self, at: Instant) -> SleepUntil<'_> {
        SleepUntil {
            shared: &self.shared,
            at,
            registered: None,
        }
    }

    /// Whether the timer sleeps on the precise (nanosecond) clock.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_precise(&self) -> bool {
        self.precise
    }
}

/// A handle to a [`Timer`]: waits until a deadline.
#[derive(Clone)]
pub(crate) struct Pacer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer").finish_non_exhaustive()
    }
}

impl Pacer {
    /// Registers `waker` to be woken at the timer's next wake-up that ends any wait, or within
    /// the timer's longest sleep ([`MAX_SLEEP`], or a coarse grid's step) when none does: a
    /// reader that waits for an answer without being woken by the answer itself (the answer is
    /// read at a wake-up the run pays for anyway; see `Wakeups`). Every call registers once
    /// more; a wake-up wakes every registration made before it.
    pub(crate) fn ride(&self, waker: &Waker) {
        self.shared.ride(waker);
    }

    /// Registers `waker` to be woken once `at` has passed (a wait without a future: the caller
    /// checks for itself what it waited for when woken).
    pub(crate) fn sleep_registered(&self, at: Instant, waker: &Waker) {
        self.shared.register(at, waker.clone());
    }

    /// Waits until `at` (ready on the first poll when it has passed; never earlier). The
    /// [`Timer`] must live until the wait ends.
    pub(crate) fn sleep_until(&self, at: Instant) -> SleepUntil<'_> {
        SleepUntil {
            shared: &self.shared,
            at,
            registered: None,
        }
    }
}

/// The future of [`Pacer::sleep_until`]. Dropped before its deadline, it leaves an entry that
/// the timer drops (waking nobody who cares) when the deadline comes.
pub(crate) struct SleepUntil<'a> {
    shared: &'a Shared,
    at: Instant,
    /// The waker registered with the timer.
    registered: Option<Waker>,
}

impl Future for SleepUntil<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        // Registered once per wait; again only when the task's waker changed. The timer wakes
        // an entry only once its deadline has passed on the same monotonic clock, so a wake-up
        // from it always finds the wait over.
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            let w = cx.waker().clone();
            self.shared.register(self.at, w.clone());
            self.registered = Some(w);
        }
        Poll::Pending
    }
}

async fn run(shared: Arc<Shared>, mut clock: Clock) {
    let mut due: Vec<Entry> = Vec::new();
    let mut riders: Vec<Waker> = Vec::new();
    loop {
        let now = Instant::now();
        let wake = tick(&mut shared.lock(), now, &mut due, &mut riders);
        for e in due.drain(..) {
            e.waker.wake();
        }
        for w in riders.drain(..) {
            w.wake();
        }
        match wake {
            None => shared.notify.notified().await,
            Some(at) => {
                tokio::select! {
                    biased;
                    () = shared.notify.notified() => {}
                    () = clock.sleep_until(at) => {}
                }
            }
        }
    }
}

/// `d` as a `timespec` (saturating).
#[cfg(target_os = "linux")]
pub(crate) fn timespec(d: Duration) -> rustix::time::Timespec {
    rustix::time::Timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: d.subsec_nanos().into(),
    }
}

/// What the timer task sleeps on.
struct Clock {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Clock {
    fn new() -> Clock {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )
            .ok()
            .and_then(|fd| {
                // tokio 1.54 deprecates the safe constructors because an arbitrary `AsRawFd`
                // may close or swap its descriptor behind the reactor's back. An `OwnedFd`
                // moved into the `AsyncFd` cannot: it stays open and the same until the
                // `AsyncFd` drops it, which is the contract `register` asks for. The
                // replacement is an `unsafe fn`, and this workspace forbids `unsafe`.
                #[allow(deprecated)]
                tokio::io::unix::AsyncFd::new(fd).ok()
            });
            Clock { fd }
        }
        #[cfg(not(target_os = "linux"))]
        Clock {}
    }

    fn is_precise(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.fd.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Sleeps until `at` (or returns early on a stale expiry: the caller re-checks the heap).
    async fn sleep_until(&mut self, at: Instant) {
        let now = Instant::now();
        if at <= now {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd
            && Self::timerfd_wait(fd, at - now).await.is_ok()
        {
            return;
        }
        tokio::time::sleep_until(at).await;
    }

    #[cfg(target_os = "linux")]
    async fn timerfd_wait(
        fd: &tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
        d: Duration,
    ) -> std::io::Result<()> {
        use rustix::time::{Itimerspec, TimerfdTimerFlags, timerfd_settime};
        let spec = Itimerspec {
            it_interval: timespec(Duration::ZERO),
            it_value: timespec(d),
        };
        // Re-arming resets the expiry count, so the expiry is never read: one syscall less per
        // wake-up (one per send at the default resolution). The edge-triggered reactor reports
        // each new expiry once; the readiness is cleared here by hand (tokio keeps it until a
        // read fails, and without clearing every wait began with a failed read: 9,327 for
        // 10,000 requests, `strace -c` of an Open-model run). A readiness left over from an
        // expiry after a sleep that a registration ended early ends this sleep early: the
        // caller finds nothing due and sleeps again (see `sleep_until`).
        timerfd_settime(fd.get_ref(), TimerfdTimerFlags::empty(), &spec)?;
        let mut guard = fd.readable().await?;
        guard.clear_ready();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The timer's sleeps on synthetic clock values: none passes the earliest deadline or lasts
    /// longer than `MAX_SLEEP`, the waiting ends exactly when the deadline comes (not before),
    /// and late wake-ups (the clock jumping past the planned wake) still end it.
    #[test]
    fn sleeps_are_short_and_end_at_the_deadline() {
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_micros(5_300);
        // Woken exactly when planned: 5 sleeps of 1 ms, then 300 µs.
        let (mut now, mut sleeps) = (t0, Vec::new());
        while let Some(w) = next_wake(now, deadline, MAX_SLEEP) {
            assert!(w > now && w <= deadline && w - now <= MAX_SLEEP);
            sleeps.push(w - now);
            now = w;
        }
        assert_eq!(now, deadline);
        let mut want = vec![MAX_SLEEP; 5];
        want.push(Duration::from_micros(300));
        assert_eq!(sleeps, want);
        // Woken 400 µs late every time: fewer sleeps, none planned past the deadline.
        let mut now = t0;
        let mut n = 0;
        while let Some(w) = next_wake(now, deadline, MAX_SLEEP) {
            assert!(w <= deadline && w - now <= MAX_SLEEP);
            now = w + Duration::from_micros(400);
            n += 1;
        }
        assert!(now >= deadline);
        assert_eq!(n, 4); // woken at 1.4, 2.8, 4.2 and 5.6 ms
        // A deadline that has come or passed needs no sleep.
        assert_eq!(next_wake(deadline, deadline, MAX_SLEEP), None);
        assert_eq!(next_wake(deadline + MAX_SLEEP, deadline, MAX_SLEEP), None);
        // A short wait is one sleep to the deadline.
        let near = t0 + Duration::from_micros(250);
        assert_eq!(next_wake(t0, near, MAX_SLEEP), Some(near));
    }

    /// A simulated timer on synthetic clock values, driven by [`tick`] as the timer task drives
    /// it: `n` waits due every `gap`, in groups of `group` sharing one deadline (the sends of one
    /// step of the Open model's grid), wake-ups `jitter` after they were planned. Returns
    /// (deadline, woken at) for every wait, and the wake-up instants that ended waits.
    fn simulate(
        gap: Duration,
        n: u32,
        group: u32,
        jitter: Duration,
    ) -> (Vec<(Instant, Instant)>, Vec<Instant>) {
        let t0 = Instant::now();
        let mut s = State::default();
        for k in 0..n {
            push(&mut s, t0 + gap * (k / group + 1), Waker::noop().clone());
        }
        let (mut now, mut woken, mut ticks, mut due) = (t0, Vec::new(), Vec::new(), Vec::new());
        loop {
            let wake = tick(&mut s, now, &mut due, &mut Vec::new());
            if !due.is_empty() {
                ticks.push(now);
            }
            woken.extend(due.drain(..).map(|e| (e.at, now)));
            match wake {
                Some(w) => {
                    assert!(w > now, "a wake-up planned for now or the past");
                    assert!(w - now <= MAX_SLEEP, "slept longer than MAX_SLEEP");
                    now = w + jitter;
                }
                None => break,
            }
        }
        (woken, ticks)
    }

    /// No wait ends before its deadline, every wait ends, none later than the wake-up's own
    /// lateness, and waits sharing a deadline share one wake-up: 2,000 waits in groups of 10
    /// take 200 wake-ups, alone 2,000.
    #[test]
    fn one_wake_up_per_deadline_never_early() {
        let gap = Duration::from_micros(100);
        for (group, jitter) in [
            (1, Duration::ZERO),
            (1, Duration::from_micros(37)),
            (10, Duration::ZERO),
            (10, Duration::from_micros(42)),
        ] {
            let (woken, ticks) = simulate(gap, 2_000, group, jitter);
            assert_eq!(woken.len(), 2_000, "every wait ends");
            for &(at, when) in &woken {
                assert!(when >= at, "woken {:?} early", at - when);
                assert!(when - at <= jitter, "woken {:?} late", when - at);
            }
            assert_eq!(ticks.len() as u32, 2_000 / group, "groups of {group}");
        }
    }

    /// A timer started for a coarse grid (5 ms) sleeps from one step to the next: waits in
    /// groups of 50 every 5 ms are ended by exactly one wake-up per step, at the step, with no
    /// wake-up in between; one deadline 12 ms away is slept to in 5 ms pieces. Asked for less
    /// than [`MAX_SLEEP`], it still sleeps up to [`MAX_SLEEP`].
    #[test]
    fn a_coarse_grid_sleeps_from_step_to_step() {
        let step = Duration::from_millis(5);
        let t0 = Instant::now();
        let mut s = State::sleeping_at_most(step);
        for k in 0..500u32 {
            push(&mut s, t0 + step * (k / 50 + 1), Waker::noop().clone());
        }
        let (mut now, mut wakes, mut ended, mut due) = (t0, Vec::new(), 0, Vec::new());
        while let Some(w) = tick(&mut s, now, &mut due, &mut Vec::new()) {
            assert!(w > now && w - now <= step);
            ended += due.drain(..).filter(|e| e.at <= now).count();
            now = w;
            wakes.push(w - t0);
        }
        ended += due.len();
        assert_eq!(ended, 500);
        let steps: Vec<Duration> = (1..=10).map(|k| step * k).collect();
        assert_eq!(wakes, steps, "one wake-up per step, none in between");
        // One far deadline: 5 ms sleeps, then the rest.
        let mut s = State::sleeping_at_most(step);
        push(
            &mut s,
            t0 + Duration::from_millis(12),
            Waker::noop().clone(),
        );
        let (mut now, mut wakes) = (t0, Vec::new());
        while let Some(w) = tick(&mut s, now, &mut Vec::new(), &mut Vec::new()) {
            now = w;
            wakes.push((w - t0).as_millis());
        }
        assert_eq!(wakes, [5, 10, 12]);
        // Never shorter than MAX_SLEEP.
        assert_eq!(
            State::sleeping_at_most(Duration::from_micros(200)).max_sleep,
            MAX_SLEEP
        );
        assert_eq!(State::default().max_sleep, MAX_SLEEP);
    }

    /// Registration: a deadline earlier than the armed wake-up re-arms the timer, a later one
    /// does not; a stale expiry (a wake-up before any deadline) ends nothing.
    #[test]
    fn earlier_registrations_re_arm_later_ones_do_not() {
        let t0 = Instant::now();
        let us = |n: u64| t0 + Duration::from_micros(n);
        let mut s = State::default();
        let mut due = Vec::new();
        assert!(push(&mut s, us(900), Waker::noop().clone()));
        assert!(!push(&mut s, us(950), Waker::noop().clone()));
        assert!(push(&mut s, us(100), Waker::noop().clone()));
        assert_eq!(s.armed, Some(us(100)));
        assert!(!push(&mut s, us(100), Waker::noop().clone()));
        assert_eq!(
            tick(&mut s, us(50), &mut due, &mut Vec::new()),
            Some(us(100))
        );
        assert!(due.is_empty(), "nothing ends before its deadline");
        // Both waits due at 100 µs end together; the next wake-up is the next deadline.
        assert_eq!(
            tick(&mut s, us(100), &mut due, &mut Vec::new()),
            Some(us(900))
        );
        assert_eq!(due.len(), 2);
    }

    /// Riders (readers of answers at wake-ups): woken by the next wake-up that ends a wait, not
    /// by a stale expiry; with no wait ending, within `MAX_SLEEP` of the first registration (no
    /// per-rider heap entry); a wake-up takes every rider registered before it.
    #[test]
    fn riders_wake_with_the_next_wake_up_that_ends_a_wait() {
        let t0 = Instant::now();
        let us = |n: u64| t0 + Duration::from_micros(n);
        let (mut s, mut due, mut riders) = (State::default(), Vec::new(), Vec::new());
        push(&mut s, us(100), Waker::noop().clone());
        assert_eq!(tick(&mut s, us(100), &mut due, &mut riders), None);
        assert_eq!((due.len(), riders.len()), (1, 0));
        due.clear();
        // Two riders (at 150 and 200 µs: by 1,150 µs at the latest); a send due at 600 µs
        // re-arms the timer earlier. No heap entry for the riders.
        assert!(ride(&mut s, us(150), Waker::noop().clone()));
        assert!(!ride(&mut s, us(200), Waker::noop().clone()));
        assert_eq!(s.armed, Some(us(1_150)));
        assert!(push(&mut s, us(600), Waker::noop().clone()));
        assert_eq!(s.heap.len(), 1);
        // A stale expiry before it ends nothing and wakes no rider.
        assert_eq!(tick(&mut s, us(400), &mut due, &mut riders), Some(us(600)));
        assert!(due.is_empty() && riders.is_empty());
        // The wake-up that starts the send takes both riders; nothing else pending.
        assert_eq!(tick(&mut s, us(600), &mut due, &mut riders), None);
        assert_eq!((due.len(), riders.len()), (1, 2));
        assert!(s.riders.is_empty() && s.riders_by.is_none());
        due.clear();
        riders.clear();
        // A rider alone at 700 µs: woken at 1,700 µs, with nothing else to end.
        assert!(ride(&mut s, us(700), Waker::noop().clone()));
        assert_eq!(
            tick(&mut s, us(700), &mut due, &mut riders),
            Some(us(1_700))
        );
        assert!(riders.is_empty());
        assert_eq!(tick(&mut s, us(1_700), &mut due, &mut riders), None);
        assert_eq!((due.len(), riders.len()), (0, 1));
    }

    /// Structural only: how close the wake-ups land is a measurement (bench/), not a test, because
    /// a loaded machine moves it. What cannot vary: the precise timer is used on Linux, no wake-up
    /// is early, and a deadline that has passed is ready on the first poll, without awaiting.
    #[tokio::test]
    async fn never_wakes_early_and_past_deadlines_are_ready_at_once() {
        let timer = Timer::start();
        #[cfg(target_os = "linux")]
        assert!(timer.is_precise());
        let p = timer.pacer();
        for i in 0..40u64 {
            let at = Instant::now() + Duration::from_micros(300 + 37 * i);
            p.sleep_until(at).await;
            let now = Instant::now();
            assert!(now >= at, "woke {:?} early", at - now);
        }
        let past = Instant::now() - Duration::from_millis(5);
        let mut wait = std::pin::pin!(p.sleep_until(past));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }

    /// Many waiters on one timer, registered in any order, some dropped before their deadline
    /// and one registered earlier than the armed wake-up: each finishes, none early.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_waiters_each_wake_once_their_deadline_passed() {
        let timer = Timer::start();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let p = timer.pacer();
            // Deadlines 0–12 ms, out of order.
            let at = start + Duration::from_micros((i * 7919) % 12_000);
            tasks.push(tokio::spawn(async move {
                p.sleep_until(at).await;
                Instant::now() >= at
            }));
        }
        // Abandoned waits leave entries the timer drops harmlessly.
        for i in 0..20u64 {
            let p = timer.pacer();
            let at = Instant::now() + Duration::from_millis(3 + i);
            let _ = tokio::time::timeout(Duration::from_micros(100), p.sleep_until(at)).await;
        }
        // Registered after a later one armed the timer: must not wait for the later one.
        let p = timer.pacer();
        let far = Instant::now() + Duration::from_secs(30);
        let waiting_far = tokio::spawn(async move { p.sleep_until(far).await });
        tokio::task::yield_now().await;
        let near = Instant::now() + Duration::from_millis(2);
        tokio::time::timeout(Duration::from_secs(10), timer.pacer().sleep_until(near))
            .await
            .expect("a nearer deadline registered later is not held up by the armed one");
        assert!(Instant::now() >= near);
        for t in tasks {
            assert!(t.await.unwrap(), "a waiter woke before its deadline");
        }
        waiting_far.abort();
    }
}
