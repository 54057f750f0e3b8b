//! The load loops. A generator supplies [`Lane`]s (serial request pipes); [`drive`] runs them
//! under the Closed or Open model and returns the merged [`RunStats`].
//!
//! Each lane is one tokio task that owns its connection. Lanes record into one [`Recorder`] per
//! runtime worker thread (see `Group`), merged at the end. Live progress, when asked for, is
//! published into one slot per worker a few times a second.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use smi_types::perf::{LoadModel, RunLength};
use std::pin::Pin;

use tokio::time::{Instant, Sleep};

use crate::plan::RunPlan;
use crate::series::Series;
use crate::stats::{ErrorKind, HistogramSettings, Outcome, Recorder};

/// One serial request pipe: an HTTP/1.1 connection, one stream slot of an HTTP/2 connection, or
/// a TCP connection. A lane (re)connects by itself when its connection is gone.
pub trait Lane: Send + 'static {
    /// Opens the connection ahead of the run (errors surface on the first request instead).
    /// [`drive`] gives it the per-request timeout: a target that never completes the connect or
    /// the handshake delays the start by at most that.
    fn prepare(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// Sends one request and waits for the whole response.
    fn request(&mut self) -> impl Future<Output = Outcome> + Send;
    /// What the request the per-request timeout just cancelled was waiting for, asked before
    /// [`reset`](Self::reset): [`ErrorKind::ConnectTimeout`] while the TCP connection was being
    /// opened, [`ErrorKind::HandshakeTimeout`] during the TLS handshake, [`ErrorKind::Timeout`]
    /// (the default) while waiting for the answer.
    fn timeout_kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
    /// Drops the connection: a timeout cancelled a request mid-flight, its state is unknown.
    fn reset(&mut self);
    /// Open model: the run's timer wake-ups, given once before the first request. A lane may
    /// then read its answers at those wake-ups ([`Wakeups`]) instead of being woken
    /// by each answer, and report when each answer arrived with
    /// [`answered_at`](Self::answered_at). The default ignores them: the lane is woken by its
    /// answers as usual.
    fn read_at_wakeups(&mut self, wakeups: Wakeups) {
        let _ = wakeups;
    }
    /// When the answer to the request that just returned arrived, when the lane knows it better
    /// than the moment [`request`](Self::request) returned: a lane that reads at the timer's
    /// wake-ups reads answers up to a wake-up late, and tells the arrival from the kernel's
    /// receive timestamp. The driver times the request to this instant (kept between the send
    /// and the return). The default, `None`, times it to the return.
    fn answered_at(&self) -> Option<std::time::Instant> {
        None
    }
}

/// The Open model's timer wake-ups, as a lane sees them ([`Lane::read_at_wakeups`]).
///
/// An Open-model generator must wake at every intended send (once per step of the
/// [`RunContext::timer_resolution`] grid when it has one); those wake-ups are the run's fixed
/// cost. A lane that waits for its answer on the socket's readiness adds one more wake-up per
/// answer, and on an idle CPU a wake-up costs more than the exchange itself (`bench/README.md`,
/// Open model). A lane can instead read its answer at a wake-up the run pays for anyway:
///
/// - [`wait_for_next_send`](Self::wait_for_next_send): at the lane's own next send (one answer
///   in flight per lane: HTTP/1.1), one wake-up per send in all;
/// - [`ride`](Self::ride): at the timer's next wake-up that starts any lane's send (a connection
///   shared by several lanes: HTTP/2), within 1 ms at the latest.
///
/// Both refuse (`false`) when [`read_by`](Self::read_by) has passed: the lane is behind its
/// schedule and should wait on readiness to catch up. The answer waited in the socket: the lane
/// reports when it arrived with [`Lane::answered_at`] (the built-in lanes read the kernel's
/// receive timestamp), so latency is exact, not rounded up to the wake-up.
///
/// ```no_run
/// use smi_perf_engine::{Lane, Outcome, Wakeups};
/// struct MyLane { wakeups: Option<Wakeups> }
/// impl Lane for MyLane {
///     async fn request(&mut self) -> Outcome {
///         // ... send; then, while the answer is not there: `Pending` after
///         // `w.wait_for_next_send(cx.waker())`, or after registering for readiness when it
///         // returns false.
///         Outcome::Response { status: 200, sent: 0, received: 0 }
///     }
///     fn reset(&mut self) {}
///     fn read_at_wakeups(&mut self, wakeups: Wakeups) {
///         self.wakeups = Some(wakeups);
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Wakeups {
    pacer: crate::pacer::Pacer,
    base: Instant,
    /// Nanoseconds from `base` to [`Wakeups::read_by`], plus one; 0: not set.
    read_by: Arc<AtomicU64>,
}

impl std::fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeups")
            .field("read_by", &self.read_by())
            .finish_non_exhaustive()
    }
}

/// How long after its send the answer to a lane's last request is waited for at wake-ups.
const LAST_RIDE: Duration = Duration::from_millis(1);

impl Wakeups {
    pub(crate) fn new(pacer: crate::pacer::Pacer, base: Instant) -> Wakeups {
        Wakeups {
            pacer,
            base,
            read_by: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Sets [`read_by`](Self::read_by) for the request about to go out.
    pub(crate) fn set_read_by(&self, at: Instant) {
        let v = u64::try_from(at.saturating_duration_since(self.base).as_nanos())
            .unwrap_or(u64::MAX - 1)
            + 1;
        self.read_by.store(v, Ordering::Relaxed);
    }

    /// When the lane must have read the answer to its request in flight at the latest: its
    /// next intended send, or the request's deadline when that comes first (1 ms after the
    /// send for its last request). `None` before its first request.
    pub fn read_by(&self) -> Option<std::time::Instant> {
        match self.read_by.load(Ordering::Relaxed) {
            0 => None,
            v => Some((self.base + Duration::from_nanos(v - 1)).into_std()),
        }
    }

    fn pending_read_by(&self) -> Option<Instant> {
        self.read_by()
            .map(Instant::from_std)
            .filter(|&by| by > Instant::now())
    }

    /// Wakes `waker` at [`read_by`](Self::read_by) (for a lane with one answer in flight: at
    /// the wake-up of its own next send). `false`, registering nothing, when that has passed.
    pub fn wait_for_next_send(&self, waker: &std::task::Waker) -> bool {
        match self.pending_read_by() {
            Some(by) => {
                self.pacer.sleep_registered(by, waker);
                true
            }
            None => false,
        }
    }

    /// Wakes `waker` at the timer's next wake-up that starts a send (any lane's), or within
    /// 1 ms when none does. `false`, registering nothing, when [`read_by`](Self::read_by) has
    /// passed. Registers once per call.
    pub fn ride(&self, waker: &std::task::Waker) -> bool {
        let pending = self.pending_read_by().is_some();
        if pending {
            self.pacer.ride(waker);
        }
        pending
    }
}

/// Where a lane's current request is, for [`Lane::timeout_kind`]: lanes set it before each
/// step that can wait on the peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Opening the TCP connection.
    Connect,
    /// TLS (or HTTP/2) handshake.
    Handshake,
    /// Connected: writing the request, reading the answer.
    #[default]
    Exchange,
}

impl Stage {
    /// The timeout kind of a request cancelled at this stage.
    pub fn timeout_kind(self) -> ErrorKind {
        match self {
            Stage::Connect => ErrorKind::ConnectTimeout,
            Stage::Handshake => ErrorKind::HandshakeTimeout,
            Stage::Exchange => ErrorKind::Timeout,
        }
    }
}

/// Makes the lanes of one connection.
pub trait LaneFactory: Send + Sync + 'static {
    /// The lane type.
    type Lane: Lane;
    /// Lanes for connection number `conn` (HTTP/2: `streamsPerConnection` lanes sharing it).
    fn lanes(&self, plan: &RunPlan, conn: u32) -> Vec<Self::Lane>;
}

/// How often a recording group publishes its live counters (when it records at all). A progress
/// line shows counters up to this old, so its first recorded second can miss up to this much of
/// the load (about a tenth).
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// Live counters published a few times a second (one slot per recording group, i.e. per runtime
/// worker thread).
#[derive(Debug)]
pub struct LaneLive {
    /// Recorded requests so far.
    pub requests: AtomicU64,
    /// Failed requests so far.
    pub errors: AtomicU64,
    /// Latencies recorded since the reader last drained this slot.
    pub window: Mutex<Histogram<u64>>,
}

/// Live progress of a run, for progress bars.
#[derive(Debug, Default)]
pub struct Live {
    lanes: Mutex<Vec<Arc<LaneLive>>>,
    /// When recording starts (the end of the warm-up); `None` until the lanes are connected.
    record_from: Mutex<Option<Instant>>,
}

/// Where a run is, as seen by [`Live::snapshot`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LivePhase {
    /// Lanes are connecting; load has not started.
    #[default]
    Connecting,
    /// Load runs but nothing is recorded yet (`spec.warmup`).
    WarmUp,
    /// Requests are being recorded.
    Recording,
}

/// A progress snapshot.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct LiveSnapshot {
    /// Where the run is.
    pub phase: LivePhase,
    /// When recording starts or started (the end of the warm-up); `None` while connecting.
    pub record_from: Option<std::time::Instant>,
    /// Recorded requests so far.
    pub requests: u64,
    /// Failed requests so far.
    pub errors: u64,
    /// p99 of the latencies recorded since the previous snapshot, µs (0 when none).
    pub window_p99_micros: u64,
    /// Samples in that window.
    pub window_count: u64,
}

impl Live {
    /// A new, empty progress board.
    pub fn new() -> Arc<Live> {
        Arc::new(Live::default())
    }

    fn register(&self, settings: HistogramSettings) -> Arc<LaneLive> {
        let slot = Arc::new(LaneLive {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            window: Mutex::new(settings.new_histogram()),
        });
        self.lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(slot.clone());
        slot
    }

    /// Totals and the p99 of the window since the last call (drains the windows).
    ///
    /// ```
    /// use smi_perf_engine::{Live, LivePhase};
    ///
    /// let live = Live::new();
    /// let s = live.snapshot();
    /// assert_eq!(s.phase, LivePhase::Connecting); // no run has started
    /// assert_eq!((s.requests, s.window_count), (0, 0));
    /// ```
    pub fn snapshot(&self) -> LiveSnapshot {
        let lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let record_from = *self.record_from.lock().unwrap_or_else(|e| e.into_inner());
        let phase = match record_from {
            None => LivePhase::Connecting,
            Some(t) if Instant::now() < t => LivePhase::WarmUp,
            Some(_) => LivePhase::Recording,
        };
        let mut s = LiveSnapshot {
            phase,
            record_from: record_from.map(Instant::into_std),
            ..LiveSnapshot::default()
        };
        let mut merged: Option<Histogram<u64>> = None;
        for l in &lanes {
            s.requests += l.requests.load(Ordering::Relaxed);
            s.errors += l.errors.load(Ordering::Relaxed);
            let mut w = l.window.lock().unwrap_or_else(|e| e.into_inner());
            match merged.as_mut() {
                Some(m) => {
                    let _ = m.add(&*w);
                }
                None => merged = Some(w.clone()),
            }
            w.reset();
        }
        if let Some(m) = merged {
            s.window_count = m.len();
            if !m.is_empty() {
                s.window_p99_micros = m.value_at_quantile(0.99);
            }
        }
        s
    }
}

/// The Open model's default timer resolution ([`RunContext::timer_resolution`]).
pub const DEFAULT_TIMER_RESOLUTION: Duration = Duration::ZERO;

/// The longest Open-model timer resolution ([`RunContext::timer_resolution`]); a longer one is
/// taken as this.
pub const MAX_TIMER_RESOLUTION: Duration = Duration::from_millis(10);

/// Options of one run that are not part of the spec.
///
/// ```
/// use std::time::Duration;
/// use smi_perf_engine::{Live, RunContext};
/// let live = Live::new();
/// let ctx = RunContext::default()
///     .with_live(live.clone())
///     .with_timer_resolution(Duration::from_micros(200));
/// assert!(ctx.live.is_some());
/// assert_eq!(ctx.timer_resolution, Duration::from_micros(200));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunContext {
    /// Publish live progress here.
    pub live: Option<Arc<Live>>,
    /// Open model: the send grid (at most [`MAX_TIMER_RESOLUTION`]; longer is taken as that).
    /// Every send's scheduled time is moved up to the next multiple of this resolution, counted
    /// from the run's start, and that is its intended time: the sends of one step go out
    /// together at one wake-up of the generator, each on its (moved) time, and latency is timed
    /// from it. Zero (the default, [`DEFAULT_TIMER_RESOLUTION`]): every send at its own
    /// scheduled time. The rate, the stages and which sends belong to the run (warm-up, end)
    /// are those of the schedule either way; what a coarser grid changes is the arrivals'
    /// shape, bursts of rate × resolution sends instead of one at a time, for fewer wake-ups,
    /// so less CPU per request (`bench/README.md`, Open model). Over 1 ms the run's timer
    /// sleeps from one step to the next instead of waking every millisecond: on a CPU shared
    /// with busy work such a sleep can wake late, which shows in the corrected latency.
    pub timer_resolution: Duration,
    /// Open model: lanes that can read their answers at the timer's wake-ups do
    /// ([`Wakeups`]; the built-in HTTP/1.1 lane over plain TCP on Linux, and its event loop),
    /// timing each answer to its kernel receive timestamp. `false`: every lane is woken by its
    /// answers. Default `true`.
    pub read_at_wakeups: bool,
    /// HTTP/1.1 over plain `http` with the built-in generator, in a closed loop without a rate
    /// ceiling or (Linux) in the Open model: run the connections on one event loop per worker
    /// thread (`transport::h1loop`) instead of a task per connection: the same counts and
    /// rules, less CPU per request (`bench/README.md`, "The closed-loop event loop" and "The
    /// Open-model event loop"). `false`: a task per connection, as every other run. Default
    /// `true`.
    pub event_loop: bool,
}

impl Default for RunContext {
    fn default() -> Self {
        RunContext {
            live: None,
            timer_resolution: DEFAULT_TIMER_RESOLUTION,
            read_at_wakeups: true,
            event_loop: true,
        }
    }
}

impl RunContext {
    /// Publishes live progress on `live` (read it with [`Live::snapshot`]).
    pub fn with_live(mut self, live: Arc<Live>) -> RunContext {
        self.live = Some(live);
        self
    }

    /// Sets the Open model's timer resolution (see [`RunContext::timer_resolution`]).
    pub fn with_timer_resolution(mut self, resolution: Duration) -> RunContext {
        self.timer_resolution = resolution;
        self
    }

    /// Sets whether Open-model lanes read answers at the timer's wake-ups (see
    /// [`RunContext::read_at_wakeups`]).
    pub fn with_read_at_wakeups(mut self, on: bool) -> RunContext {
        self.read_at_wakeups = on;
        self
    }

    /// Sets whether an eligible HTTP/1.1 run (closed loop without a ceiling, or Open model)
    /// uses the event loop (see [`RunContext::event_loop`]).
    pub fn with_event_loop(mut self, on: bool) -> RunContext {
        self.event_loop = on;
        self
    }
}

/// What a generator returns: the merged recorder and the recording window.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Everything recorded, merged over lanes.
    pub recorder: Recorder,
    /// Wall-clock start of recording (after warm-up).
    pub started_at: SystemTime,
    /// Wall-clock end of the run.
    pub ended_at: SystemTime,
    /// Length of the recording window (used for the achieved rate).
    pub measured: Duration,
    /// Number of lanes that ran.
    pub lanes: u32,
}

struct LaneCtx {
    index: u32,
    lanes: u32,
    start: Instant,
    record_from: Instant,
    /// Duration mode: no request starts (Closed) / is scheduled (Open) at or after this.
    end: Option<Instant>,
    /// In-flight requests are abandoned (not recorded) at this instant.
    hard_end: Instant,
    /// Requests mode: recorded requests this lane must complete.
    quota: Option<u64>,
    timeout: Duration,
    rps: u64,
    /// Open model: the arrival schedule (constant or ramped).
    schedule: Arc<crate::schedule::Schedule>,
    max_in_flight: u32,
    model: LoadModel,
    /// Where this lane records.
    group: GroupRef,
    /// Open model: the run's precise timer.
    pacer: crate::pacer::Pacer,
    /// Open model: the send grid ([`RunContext::timer_resolution`]).
    grid: crate::schedule::Grid,
    /// Open model: give lanes the timer's wake-ups to read at ([`Wakeups`]).
    read_at_wakeups: bool,
}

/// What the lanes of one group record into. Lanes are spread over as many groups as the runtime
/// has worker threads (one on a current-thread runtime), not one recorder per lane: with a
/// per-lane recorder 50 lanes kept 50 HdrHistograms of ~140 KB each hot, recording was a cache
/// miss and the top user-space symbol of the closed-loop profile (`bench/README.md`), and 10,000
/// connections held 1.4 GB of histograms. The lock is uncontended on a current-thread runtime
/// and held for a few nanoseconds otherwise.
pub(crate) struct Group {
    rec: Recorder,
    publisher: Option<Publisher>,
}

pub(crate) type GroupRef = Arc<Mutex<Group>>;

impl Group {
    pub(crate) fn lock(g: &GroupRef) -> std::sync::MutexGuard<'_, Group> {
        g.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request cut off by the end of the run (Open model: in `stage`).
    pub(crate) fn cut_off(&mut self, stage: Option<usize>) {
        self.rec.cut_off += 1;
        if let Some(st) = stage.and_then(|i| self.rec.stages.get_mut(i)) {
            st.cut_off += 1;
        }
    }

    /// Records a finished request (Open model: due at `intended`) and publishes progress when due.
    #[inline]
    pub(crate) fn record(
        &mut self,
        o: Outcome,
        latency: Duration,
        service: Option<Duration>,
        now: Instant,
        intended: Option<Instant>,
        stage: Option<usize>,
    ) {
        self.rec.record_at(o, latency, service, now.into_std());
        if let Some(st) = stage.and_then(|i| self.rec.stages.get_mut(i)) {
            st.record(o, latency, service);
        }
        if let (Some(s), Some(t)) = (self.rec.series.as_mut(), intended) {
            s.scheduled(t.into_std());
        }
        if let Some(p) = self.publisher.as_mut() {
            let lat = o.answer().is_some().then_some(latency);
            p.record(&self.rec, now, lat);
        }
    }

    /// Records a request that timed out after `latency` (`kind`: at which stage, see
    /// [`Lane::timeout_kind`]; Open model: due at `intended`).
    pub(crate) fn timed_out(
        &mut self,
        kind: ErrorKind,
        latency: Duration,
        now: Instant,
        intended: Option<Instant>,
        stage: Option<usize>,
    ) {
        let o = Outcome::Error { kind, sent: 0 };
        self.rec.record_at(o, latency, None, now.into_std());
        if let Some(st) = stage.and_then(|i| self.rec.stages.get_mut(i)) {
            st.record(o, latency, None);
        }
        if let (Some(s), Some(t)) = (self.rec.series.as_mut(), intended) {
            s.scheduled(t.into_std());
        }
        if let Some(p) = self.publisher.as_mut() {
            p.record(&self.rec, now, None);
        }
    }
}

impl Group {
    /// Counts a send due at `intended` that was dropped.
    pub(crate) fn dropped(&mut self, intended: Instant, stage: Option<usize>) {
        self.rec.dropped += 1;
        if let Some(st) = stage.and_then(|i| self.rec.stages.get_mut(i)) {
            st.dropped += 1;
        }
        if let Some(s) = self.rec.series.as_mut() {
            s.dropped(intended.into_std());
        }
    }
}

struct Publisher {
    slot: Arc<LaneLive>,
    window: Histogram<u64>,
    next: Instant,
}

impl Publisher {
    #[inline]
    fn record(&mut self, rec: &Recorder, now: Instant, latency: Option<Duration>) {
        if let Some(l) = latency {
            self.window.saturating_record(crate::stats::micros(l));
        }
        if now >= self.next {
            self.flush(rec);
            self.next = now + PUBLISH_EVERY;
        }
    }
    fn flush(&mut self, rec: &Recorder) {
        self.slot.requests.store(rec.total(), Ordering::Relaxed);
        self.slot.errors.store(rec.failed, Ordering::Relaxed);
        let mut w = self.slot.window.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.add(&self.window);
        self.window.reset();
    }
}

/// Runs `factory`'s lanes under `plan`'s load model and merges what they recorded.
///
/// Timing: lanes are created and prepared (connected, for at most the per-request timeout)
/// first; then load starts. Requests that start during the warm-up are sent but not recorded.
/// Duration mode: no request starts after the end; requests still in flight at the end are
/// abandoned (Open model: after a grace of `min(timeout, 1 s)`) and counted in
/// [`Recorder::cut_off`], not as succeeded or failed. Requests mode: each lane completes an
/// exact share. So a duration run returns within timeout + warm-up + duration + 1 s whatever
/// the target does.
///
/// A lane that panics (a bug in its generator) fails the run with [`Error::LanePanicked`] at
/// once (the other lanes are stopped): its requests cannot all be counted, and a result
/// missing them would look complete.
///
/// [`Error::LanePanicked`]: crate::Error::LanePanicked
pub async fn drive<F: LaneFactory>(
    factory: Arc<F>,
    plan: Arc<RunPlan>,
    ctx: RunContext,
) -> crate::Result<RunStats> {
    let mut lanes = Vec::new();
    for c in 0..plan.connections {
        lanes.extend(factory.lanes(&plan, c));
    }
    let n = lanes.len().max(1) as u32;
    // Connect every lane concurrently before the clock starts, for at most the per-request
    // timeout: a lane left unconnected connects on its first request, which is timed.
    let mut prepared = Vec::with_capacity(lanes.len());
    let mut handles = Vec::with_capacity(lanes.len());
    let connect_for = plan.timeout;
    for mut lane in lanes {
        handles.push(tokio::spawn(async move {
            if tokio::time::timeout(connect_for, lane.prepare())
                .await
                .is_err()
            {
                lane.reset();
            }
            lane
        }));
    }
    let mut panicked = None;
    for h in handles {
        match h.await {
            Ok(l) => prepared.push(l),
            Err(e) => {
                panicked.get_or_insert(panic_message(e));
            }
        }
    }
    if let Some(m) = panicked {
        return Err(crate::Error::LanePanicked(m));
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
    let workers = tokio::runtime::Handle::current()
        .metrics()
        .num_workers()
        .clamp(1, prepared.len().max(1));
    let schedule = Arc::new(plan.schedule.clone());
    let groups = new_groups(&plan, &ctx, workers, start, wall_start, n_stages);
    // One precise timer wakes every Open-model lane (see `pacer`); it stops when dropped, after
    // the lanes.
    // On a grid coarser than the timer's usual longest sleep it sleeps from step to step.
    let timer = crate::pacer::Timer::start_sleeping_at_most(grid);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, lane) in prepared.into_iter().enumerate() {
        let i = i as u32;
        let quota =
            quota_total.map(|q| q / u64::from(n) + u64::from(u64::from(i) < q % u64::from(n)));
        let lctx = LaneCtx {
            index: i,
            lanes: n,
            start,
            record_from,
            end,
            hard_end,
            quota,
            timeout: plan.timeout,
            rps: plan.rps,
            schedule: schedule.clone(),
            max_in_flight: plan.max_in_flight,
            model: plan.model,
            group: groups[i as usize % groups.len()].clone(),
            pacer: timer.pacer(),
            grid: crate::schedule::Grid::new(grid),
            read_at_wakeups: ctx.read_at_wakeups,
        };
        tasks.spawn(async move {
            match lctx.model {
                LoadModel::Closed => closed_lane(lane, lctx).await,
                LoadModel::Open => open_lane(lane, lctx).await,
            }
        });
    }
    let mut last = record_from;
    while let Some(t) = tasks.join_next().await {
        match t {
            Ok(finished) => last = last.max(finished),
            // The first panic ends the run: the other lanes are stopped (their results would
            // not be given anyway).
            Err(e) if e.is_panic() => {
                panicked.get_or_insert(panic_message(e));
                tasks.abort_all();
            }
            Err(_) => {}
        }
    }
    drop(timer);
    if let Some(m) = panicked {
        return Err(crate::Error::LanePanicked(m));
    }
    Ok(finish(
        &plan,
        &groups,
        n_stages,
        record_from,
        end,
        last,
        wall_start,
        n,
    ))
}

/// The instants a run is timed by, read when its lanes are connected, and what follows from
/// them and the plan, for both drivers.
pub(crate) struct RunClock {
    pub(crate) start: Instant,
    pub(crate) wall_start: SystemTime,
    /// The end of the warm-up.
    pub(crate) record_from: Instant,
    /// Duration mode: nothing starts (Open model: is scheduled) at or after this.
    pub(crate) end: Option<Instant>,
    /// Requests in flight are abandoned (cut off) at this instant: the end, in the Open model
    /// after the grid's step and a grace of `min(timeout, 1 s)` (a send scheduled before the
    /// end may be moved up to the grid past it, and still gets its timeout, up to a second);
    /// in requests mode never.
    pub(crate) hard_end: Instant,
    /// Requests mode: the requests to record.
    pub(crate) quota_total: Option<u64>,
    /// The Open model's send grid ([`RunContext::timer_resolution`], at most
    /// [`MAX_TIMER_RESOLUTION`]).
    pub(crate) grid: Duration,
    /// The Open model's stages (a ramped schedule); 0 for the closed model.
    pub(crate) n_stages: usize,
}

impl RunClock {
    /// Starts the clock now, and tells live progress when recording starts.
    pub(crate) fn start(plan: &RunPlan, ctx: &RunContext) -> RunClock {
        let start = Instant::now();
        let record_from = start + plan.warmup;
        let (end, quota_total) = match plan.length {
            RunLength::Duration(d) => (Some(record_from + d), None),
            RunLength::Requests(r) => (None, Some(r)),
        };
        if let Some(live) = &ctx.live {
            *live.record_from.lock().unwrap_or_else(|e| e.into_inner()) = Some(record_from);
        }
        let open = plan.model == LoadModel::Open;
        let grid = ctx.timer_resolution.min(MAX_TIMER_RESOLUTION);
        let hard_end = match (end, open) {
            (Some(e), true) => e + grid + plan.timeout.min(Duration::from_secs(1)),
            (Some(e), false) => e,
            (None, _) => start + Duration::from_secs(100 * 365 * 24 * 3600),
        };
        RunClock {
            start,
            wall_start: SystemTime::now(),
            record_from,
            end,
            hard_end,
            quota_total,
            grid,
            n_stages: if open {
                plan.schedule.stage_bounds().len()
            } else {
                0
            },
        }
    }
}

/// The recorders of `workers` groups (see [`Group`]).
pub(crate) fn new_groups(
    plan: &RunPlan,
    ctx: &RunContext,
    workers: usize,
    start: Instant,
    wall_start: SystemTime,
    n_stages: usize,
) -> Vec<GroupRef> {
    let open = plan.model == LoadModel::Open;
    (0..workers)
        .map(|_| {
            Arc::new(Mutex::new(Group {
                rec: Recorder::new(plan.histogram, open)
                    .with_series(Series::new(
                        plan.interval.max(crate::series::MIN_INTERVAL),
                        start.into_std(),
                        wall_start,
                        plan.histogram,
                        open,
                    ))
                    .with_stages(plan.histogram, n_stages),
                publisher: ctx.live.as_ref().map(|l| Publisher {
                    slot: l.register(plan.histogram),
                    window: plan.histogram.new_histogram(),
                    next: start,
                }),
            }))
        })
        .collect()
}

/// Merges what the groups recorded into the run's statistics. `end`: the end of a duration
/// run; `last`: when the last recorded request finished (the end of a requests run).
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    plan: &RunPlan,
    groups: &[GroupRef],
    n_stages: usize,
    record_from: Instant,
    end: Option<Instant>,
    last: Instant,
    wall_start: SystemTime,
    lanes: u32,
) -> RunStats {
    let open = plan.model == LoadModel::Open;
    let mut recorder = Recorder::new(plan.histogram, open).with_stages(plan.histogram, n_stages);
    for g in groups {
        let mut g = Group::lock(g);
        let Group { rec, publisher } = &mut *g;
        if let Some(p) = publisher.as_mut() {
            p.flush(rec);
        }
        recorder.merge(rec);
    }
    let window_end = match end {
        Some(e) => e.min(Instant::now()),
        None => last,
    };
    let measured = window_end.saturating_duration_since(record_from);
    RunStats {
        recorder,
        started_at: wall_start + plan.warmup,
        ended_at: SystemTime::now(),
        measured,
        lanes,
    }
}

/// What a lane task's panic said.
pub(crate) fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => panic_text(&*p),
        Err(e) => e.to_string(),
    }
}

/// A panic's message, when it is a string.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Runs `fut` until `deadline` (`None` when the deadline passed first) on the lane's one
/// watchdog timer, instead of a new timer per request.
///
/// The watchdog is only moved earlier when it would fire too late. When it fires early (it was
/// armed for an earlier request, whose deadline is necessarily earlier since requests of a lane
/// are sequential) it is re-armed for this one. That is one timer registration per lane per
/// `timeout`, not one per request: a per-request `tokio::time::timeout` (wheel insert + remove)
/// cost about 2 % of the generator's CPU in the closed-loop profile (`bench/README.md`).
async fn with_deadline<F: Future>(
    watchdog: &mut Pin<Box<Sleep>>,
    deadline: Instant,
    fut: F,
) -> Option<F::Output> {
    if watchdog.deadline() > deadline {
        watchdog.as_mut().reset(deadline);
    }
    let mut fut = std::pin::pin!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return Some(out),
            () = watchdog.as_mut() => {
                if Instant::now() >= deadline {
                    return None;
                }
                watchdog.as_mut().reset(deadline);
            }
        }
    }
}

async fn closed_lane<L: Lane>(mut lane: L, c: LaneCtx) -> Instant {
    // Optional ceiling: this lane's share of `rps`, never catching up after a slow response.
    let interval = (c.rps > 0).then(|| Duration::from_secs_f64(f64::from(c.lanes) / c.rps as f64));
    let mut next = c.start
        + interval
            .map(|iv| iv.mul_f64(f64::from(c.index) / f64::from(c.lanes)))
            .unwrap_or_default();
    let mut remaining = c.quota;
    let mut last = c.start;
    let mut watchdog = Box::pin(tokio::time::sleep_until(c.hard_end));
    loop {
        if let Some(iv) = interval {
            if next > Instant::now() {
                tokio::time::sleep_until(next).await;
            }
            next = (next + iv).max(Instant::now());
        }
        let t0 = Instant::now();
        if c.end.is_some_and(|e| t0 >= e) || remaining == Some(0) {
            break;
        }
        let recording = t0 >= c.record_from;
        let deadline = (t0 + c.timeout).min(c.hard_end);
        let outcome = with_deadline(&mut watchdog, deadline, lane.request()).await;
        let done = Instant::now();
        match outcome {
            Some(o) => {
                if recording {
                    Group::lock(&c.group).record(o, done - t0, None, done, None, None);
                }
                if matches!(o, Outcome::Error { .. }) {
                    // A refused connect fails fast: let the other lanes and the timer run.
                    tokio::task::yield_now().await;
                }
            }
            None => {
                let kind = lane.timeout_kind();
                lane.reset();
                if deadline == c.hard_end {
                    // The run ended under this request: abandon it, count it as cut off.
                    if recording {
                        Group::lock(&c.group).cut_off(None);
                    }
                    break;
                }
                if recording {
                    Group::lock(&c.group).timed_out(kind, done - t0, done, None, None);
                }
            }
        }
        if recording {
            last = done;
            if let Some(r) = remaining.as_mut() {
                *r -= 1;
            }
        }
    }
    last
}

/// An Open-model lane's share of the schedule, for both drivers: lane `i` of `l` owns sends
/// `i, i + l, i + 2l, …` of the global schedule (see `schedule`); its `k`-th is the global send
/// `i + k·l`. That send is scheduled at `start + schedule.time(i + k·l)` ([`at`](Self::at)),
/// which decides whether it belongs to the run (warm-up, end), and goes out at that time moved
/// up to the grid ([`send_at`](Self::send_at)): its intended time, which latency is timed from.
#[derive(Clone)]
pub(crate) struct LaneSchedule {
    sched: Arc<crate::schedule::Schedule>,
    grid: crate::schedule::Grid,
    start: Instant,
    record_from: Instant,
    end: Option<Instant>,
    i: u64,
    l: u64,
    /// This lane's share of `maxInFlight`: overdue sends beyond it are dropped.
    cap: u64,
}

impl LaneSchedule {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sched: Arc<crate::schedule::Schedule>,
        grid: crate::schedule::Grid,
        start: Instant,
        record_from: Instant,
        end: Option<Instant>,
        index: u32,
        lanes: u32,
        max_in_flight: u32,
    ) -> LaneSchedule {
        LaneSchedule {
            sched,
            grid,
            start,
            record_from,
            end,
            i: u64::from(index),
            l: u64::from(lanes.max(1)),
            cap: u64::from((max_in_flight / lanes.max(1)).max(1)),
        }
    }

    fn index(&self, k: u64) -> u64 {
        self.i.saturating_add(k.saturating_mul(self.l))
    }

    /// When the lane's send `k` is scheduled.
    pub(crate) fn at(&self, k: u64) -> Instant {
        self.start + self.sched.time(self.index(k))
    }

    /// When the lane's send `k` goes out: its scheduled time moved up to the grid.
    pub(crate) fn send_at(&self, k: u64) -> Instant {
        self.start + self.grid.up(self.sched.time(self.index(k)))
    }

    /// The stage of the lane's send `k` (a ramped schedule).
    pub(crate) fn stage(&self, k: u64) -> Option<usize> {
        self.sched.stage_of(self.index(k))
    }

    /// Whether the lane's send `k` belongs to the run: in the schedule (a ramped one ends after
    /// its last send) and, in duration mode, scheduled before the end.
    pub(crate) fn owes(&self, k: u64) -> bool {
        self.sched.total().is_none_or(|t| self.index(k) < t)
            && self.end.is_none_or(|e| self.at(k) < e)
    }

    /// Whether the lane's send `k` is recorded (scheduled after the warm-up).
    pub(crate) fn recorded(&self, k: u64) -> bool {
        self.at(k) >= self.record_from
    }

    /// The lane starts its send `k` late, at `now`: the sends scheduled up to now that have not
    /// started, `k` included. The oldest `cap` of them are queued (in flight, their latency
    /// counts from their intended time); the later ones came due while the backlog was full and
    /// are refused: their range, when there are any.
    pub(crate) fn refused(&self, k: u64, now: Instant) -> Option<(u64, u64)> {
        let global = self
            .sched
            .due_by(self.grid.down(now.saturating_duration_since(self.start)));
        let due = if global > self.i {
            (global - 1 - self.i) / self.l + 1
        } else {
            0
        };
        (due.saturating_sub(k) > self.cap).then_some((k + self.cap, due))
    }

    /// By when the answer to the lane's send `k`, gone out at `sent` with `deadline`, must have
    /// been read ([`Wakeups::read_by`]): its next send, or shortly after this one when it is
    /// the last (`remaining`: the requests mode's recorded requests still to complete), or the
    /// deadline when that comes first.
    pub(crate) fn read_by(
        &self,
        k: u64,
        remaining: Option<u64>,
        sent: Instant,
        deadline: Instant,
    ) -> Instant {
        let by = if self.owes(k + 1) && remaining.is_none_or(|r| r > 1) {
            self.send_at(k + 1)
        } else {
            sent + LAST_RIDE
        };
        by.min(deadline)
    }

    /// Counts the lane's sends `from..to` that belong to the recorded run as dropped.
    pub(crate) fn drop_range(&self, g: &mut Group, from: u64, to: u64) {
        for j in (from..to).filter(|&j| self.owes(j) && self.recorded(j)) {
            g.dropped(self.send_at(j), self.stage(j));
        }
    }

    /// The run ended while the lane was blocked: the sends it still owed in the window, from
    /// its send `k` on, never started, which is what `dropped` counts. Returns the send after.
    pub(crate) fn drop_rest(&self, g: &mut Group, mut k: u64) -> u64 {
        if self.end.is_some() {
            while self.owes(k) {
                if self.recorded(k) {
                    g.dropped(self.send_at(k), self.stage(k));
                }
                k += 1;
            }
        }
        k
    }
}

async fn open_lane<L: Lane>(mut lane: L, c: LaneCtx) -> Instant {
    let s = LaneSchedule::new(
        c.schedule.clone(),
        c.grid,
        c.start,
        c.record_from,
        c.end,
        c.index,
        c.lanes,
        c.max_in_flight,
    );
    let mut k: u64 = 0;
    let mut remaining = c.quota;
    let mut last = c.start;
    // Sends [from, to) refused because the lane's backlog was at its cap when they came due.
    let mut refused: Option<(u64, u64)> = None;
    let mut watchdog = Box::pin(tokio::time::sleep_until(c.hard_end));
    let pacer = c.pacer.clone();
    let wakeups = c
        .read_at_wakeups
        .then(|| Wakeups::new(pacer.clone(), c.start));
    if let Some(w) = &wakeups {
        lane.read_at_wakeups(w.clone());
    }
    loop {
        if let Some((from, to)) = refused
            && k >= from
        {
            s.drop_range(&mut Group::lock(&c.group), k, to);
            k = k.max(to);
            refused = None;
        }
        // Send k: scheduled at `s.at(k)`, intended (on the grid) at `intended`.
        if !s.owes(k) || remaining == Some(0) {
            break;
        }
        let intended = s.send_at(k);
        let now = Instant::now();
        if intended > now {
            pacer.sleep_until(intended).await;
        } else if refused.is_none() {
            refused = s.refused(k, now);
        }
        let recording = s.recorded(k);
        let this_stage = s.stage(k);
        let t_send = Instant::now();
        let deadline = (t_send + c.timeout).min(c.hard_end);
        if let Some(w) = &wakeups {
            w.set_read_by(s.read_by(k, remaining, t_send, deadline));
        }
        let outcome = with_deadline(&mut watchdog, deadline, lane.request()).await;
        let now = Instant::now();
        // A lane reading at the timer's wake-ups knows when the answer arrived (kept between
        // the send and now: a clock step cannot move it outside).
        let done = match outcome {
            Some(Outcome::Response { .. } | Outcome::Grpc { .. }) => lane
                .answered_at()
                .map_or(now, |a| Instant::from_std(a).clamp(t_send, now)),
            _ => now,
        };
        k += 1;
        match outcome {
            Some(o) => {
                if recording {
                    Group::lock(&c.group).record(
                        o,
                        done - intended,
                        Some(done - t_send),
                        done,
                        Some(intended),
                        this_stage,
                    );
                }
                if matches!(o, Outcome::Error { .. }) {
                    tokio::task::yield_now().await;
                }
            }
            None => {
                let kind = lane.timeout_kind();
                lane.reset();
                if deadline == c.hard_end {
                    let mut g = Group::lock(&c.group);
                    if recording {
                        g.cut_off(this_stage);
                    }
                    s.drop_rest(&mut g, k);
                    break;
                }
                if recording {
                    Group::lock(&c.group).timed_out(
                        kind,
                        done - intended,
                        done,
                        Some(intended),
                        this_stage,
                    );
                }
            }
        }
        if recording {
            last = done;
            if let Some(r) = remaining.as_mut() {
                *r -= 1;
            }
        }
    }
    last
}
