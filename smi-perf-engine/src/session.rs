//! [`Session`]: one test run as the `smi-perf` command runs it, for any program — the embedded
//! target (feature `serve`), a shard's share and its common start instant, a request body and a
//! CA bundle given as bytes, the time-series interval, live progress through a callback — and
//! the result back.

use std::time::Duration;

use bytes::Bytes;
use smi_types::perf::{PerformanceTest, PerformanceTestResult, PerformanceTestSpec, RunLength};

use crate::driver::{Live, LiveSnapshot, RunContext};
use crate::error::{Error, Result};
use crate::generator::Registry;
use crate::plan::RunPlan;
use crate::shard::ShardRun;

/// What a [`Session`] reports while it runs (see [`Session::on_event`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The embedded target listens; the test's endpoints now point at it.
    #[cfg(feature = "serve")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
    TargetStarted(&'a crate::serve::Server),
    /// The shard waits this long for its common start instant.
    Waiting(Duration),
    /// Live progress, once per period while the load runs.
    Progress(&'a LiveSnapshot),
    /// The load is over (sent once, after the last [`Event::Progress`], also when the run failed).
    Finished,
}

/// The callback of [`Session::on_event`].
type OnEvent = Box<dyn FnMut(Event<'_>) + Send>;

/// What a [`Session`] ran and what came out.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionResult {
    /// The result (stamped with the shard, when the session ran one).
    pub result: PerformanceTestResult,
    /// The spec that ran: the shard's share, with the embedded target's endpoints.
    pub spec: PerformanceTestSpec,
}

/// One test run, end to end: checks everything before anything starts, then (optionally) starts
/// the embedded target and points the test at it, waits for a shard's start instant, runs the
/// load with live progress, and returns the result. The `smi-perf run` and `smi-perf demo`
/// commands are this plus argument parsing and output.
///
/// ```
/// use std::time::Duration;
/// use smi_perf_engine::{Event, Session};
/// use smi_types::perf::{PerformanceTest, PerformanceTestSpec};
///
/// let test = PerformanceTest::new(
///     "smoke",
///     PerformanceTestSpec::http("http://127.0.0.1:1/").connections(2).requests(200),
/// );
/// let mut ticks = 0;
/// let done = Session::new(test)
///     .serve_target() // the embedded target (feature `serve`) on loopback
///     .on_event(Duration::from_millis(100), move |e| {
///         if let Event::Progress(p) = e {
///             ticks += 1;
///             eprintln!("{} requests", p.requests);
///         }
///     })
///     .run_blocking()
///     .unwrap();
/// assert_eq!(done.result.record.requests_total, 200);
/// assert!(done.spec.endpoints[0].starts_with("http://127.0.0.1:"));
/// ```
pub struct Session {
    test: PerformanceTest,
    registry: Registry,
    #[cfg(feature = "serve")]
    serve: bool,
    shard: Option<ShardRun>,
    body: Option<Bytes>,
    ca_pem: Option<Vec<u8>>,
    interval: Duration,
    timer_resolution: Duration,
    read_at_wakeups: bool,
    event_loop: bool,
    events: Option<(Duration, OnEvent)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Session");
        d.field("test", &self.test.metadata.name)
            .field("registry", &self.registry);
        #[cfg(feature = "serve")]
        d.field("serve", &self.serve);
        d.field("shard", &self.shard)
            .field("body", &self.body.as_ref().map(Bytes::len))
            .field("ca_pem", &self.ca_pem.is_some())
            .field("interval", &self.interval)
            .field("timer_resolution", &self.timer_resolution)
            .field("read_at_wakeups", &self.read_at_wakeups)
            .field("event_loop", &self.event_loop)
            .field("events", &self.events.as_ref().map(|(p, _)| p))
            .finish()
    }
}

impl Session {
    /// A session running `test` with the built-in generators.
    pub fn new(test: PerformanceTest) -> Session {
        Session {
            test,
            registry: Registry::with_builtins(),
            #[cfg(feature = "serve")]
            serve: false,
            shard: None,
            body: None,
            ca_pem: None,
            interval: crate::series::DEFAULT_INTERVAL,
            timer_resolution: crate::driver::DEFAULT_TIMER_RESOLUTION,
            read_at_wakeups: true,
            event_loop: true,
            events: None,
        }
    }

    /// The generators `spec.loadGenerator` names are looked up in.
    pub fn registry(mut self, registry: Registry) -> Session {
        self.registry = registry;
        self
    }

    /// Starts the embedded target on loopback (HTTP/1.1 + h2c, TCP and UDP echo, gRPC h2c on
    /// free ports) for the run and points the test's endpoints at it: `http(s)://` endpoints at
    /// its HTTP port (keeping their paths), `tcp://` and `udp://` at its echo ports, gRPC at its
    /// gRPC port.
    #[cfg(feature = "serve")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
    pub fn serve_target(mut self) -> Session {
        self.serve = true;
        self
    }

    /// Runs shard `run.shard` of the test: its share of the load, started at `run.start_at`
    /// (checked before anything starts, waited for after the set-up); the result is stamped
    /// with the shard.
    pub fn shard(mut self, run: ShardRun) -> Session {
        self.shard = Some(run);
        self
    }

    /// The request body (replaces `request.body`, resolves `request.bodyFrom`; see
    /// [`RunPlan::with_body`]).
    pub fn body(mut self, body: Bytes) -> Session {
        self.body = Some(body);
        self
    }

    /// A PEM CA bundle to verify TLS servers with.
    pub fn ca_pem(mut self, pem: Vec<u8>) -> Session {
        self.ca_pem = Some(pem);
        self
    }

    /// The time-series interval (default 1 s; see [`crate::series::check_interval`]).
    pub fn interval(mut self, interval: Duration) -> Session {
        self.interval = interval;
        self
    }

    /// The Open model's timer resolution (see [`RunContext::timer_resolution`]).
    pub fn timer_resolution(mut self, resolution: Duration) -> Session {
        self.timer_resolution = resolution;
        self
    }

    /// Whether Open-model lanes read answers at the timer's wake-ups (see
    /// [`RunContext::read_at_wakeups`]; default `true`).
    pub fn read_at_wakeups(mut self, on: bool) -> Session {
        self.read_at_wakeups = on;
        self
    }

    /// Whether a run over plain HTTP/1.1 (closed loop without a rate ceiling, or the Open
    /// model on Linux) runs its connections on the event loop (see
    /// [`RunContext::event_loop`]; default `true`).
    pub fn event_loop(mut self, on: bool) -> Session {
        self.event_loop = on;
        self
    }

    /// Calls `f` with what the session does: the embedded target's addresses, the wait for a
    /// shard's start, [`Event::Progress`] every `period` while the load runs, and
    /// [`Event::Finished`]. `f` runs on the task that drives the run (the lanes run on their
    /// own tasks): keep it short.
    pub fn on_event(
        mut self,
        period: Duration,
        f: impl FnMut(Event<'_>) + Send + 'static,
    ) -> Session {
        self.events = Some((period.max(Duration::from_millis(1)), Box::new(f)));
        self
    }

    /// Checks everything that can be checked before anything starts — the shard and its start
    /// instant, the spec's rules and limits (with the embedded target's endpoints when it will
    /// serve), the body, the interval — and returns the spec this process will run (the
    /// shard's share).
    ///
    /// ```
    /// use smi_perf_engine::Session;
    /// use smi_types::perf::{PerformanceTest, PerformanceTestSpec};
    /// let bad = PerformanceTest::new("x", PerformanceTestSpec::http("ftp://example/"));
    /// assert!(Session::new(bad).check().is_err());
    /// ```
    pub fn check(&self) -> Result<PerformanceTestSpec> {
        let mut spec = self.test.spec.clone();
        if let Some(s) = &self.shard {
            spec = s.shard.apply(&spec)?;
            s.check_start()?;
        }
        // Mutated only to point the test at the embedded target.
        #[cfg_attr(not(feature = "serve"), allow(unused_mut))]
        let mut checked = spec.clone();
        #[cfg(feature = "serve")]
        if self.serve {
            let placeholder = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
            point_at(
                &mut checked,
                &Addrs {
                    http: placeholder,
                    tcp: Some(placeholder),
                    udp: Some(placeholder),
                    grpc: Some(placeholder),
                },
            );
        }
        let errors = checked.validate();
        if !errors.is_empty() {
            return Err(Error::InvalidSpec(errors));
        }
        let plan = self.plan(&checked)?;
        let run = match plan.length {
            RunLength::Duration(d) => Some(d + plan.warmup),
            RunLength::Requests(_) => None,
        };
        crate::series::check_interval(self.interval, run)?;
        Ok(spec)
    }

    fn plan(&self, spec: &PerformanceTestSpec) -> Result<RunPlan> {
        let mut plan = match &self.body {
            Some(b) => RunPlan::with_body(spec, b.clone())?,
            None => RunPlan::from_spec(spec)?,
        };
        plan.tls.ca_pem = self.ca_pem.clone();
        plan.interval = self.interval;
        Ok(plan)
    }

    /// [`run`](Self::run) on a runtime of its own, sized by `spec.threads` (see
    /// [`crate::runtime`]).
    pub fn run_blocking(self) -> Result<SessionResult> {
        let threads = self.test.spec.effective_threads();
        crate::runtime(threads)?.block_on(self.run())
    }

    /// Runs the test (inside a tokio runtime with I/O and time enabled).
    pub async fn run(mut self) -> Result<SessionResult> {
        // Mutated only to point the test at the embedded target.
        #[cfg_attr(not(feature = "serve"), allow(unused_mut))]
        let mut spec = self.check()?;
        let mut events = self.events.take();
        let mut emit = |e: Event<'_>| {
            if let Some((_, f)) = events.as_mut() {
                f(e)
            }
        };
        #[cfg(feature = "serve")]
        let _server = if self.serve {
            let s = crate::serve::start(crate::serve::ServeOptions {
                tcp: Some(([127, 0, 0, 1], 0).into()),
                udp: Some(([127, 0, 0, 1], 0).into()),
                grpc: Some(([127, 0, 0, 1], 0).into()),
                ..Default::default()
            })
            .await
            .map_err(Error::EmbeddedTarget)?;
            point_at(&mut spec, &Addrs::of(&s));
            emit(Event::TargetStarted(&s));
            Some(s)
        } else {
            None
        };
        let plan = self.plan(&spec)?;
        if let Some(s) = &self.shard {
            let wait = s.check_start()?;
            if !wait.is_zero() {
                emit(Event::Waiting(wait));
            }
            s.wait().await?;
        }
        let live = Live::new();
        let name = self.test.metadata.name.clone().unwrap_or_default();
        let run = crate::run_plan(
            &self.registry,
            plan,
            &name,
            &name,
            RunContext::default()
                .with_live(live.clone())
                .with_timer_resolution(self.timer_resolution)
                .with_read_at_wakeups(self.read_at_wakeups)
                .with_event_loop(self.event_loop),
        );
        let r = match &mut events {
            None => run.await,
            Some((period, f)) => {
                let mut run = std::pin::pin!(run);
                let mut tick = tokio::time::interval(*period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                let r = loop {
                    tokio::select! {
                        r = &mut run => break r,
                        _ = tick.tick() => f(Event::Progress(&live.snapshot())),
                    }
                };
                f(Event::Finished);
                r
            }
        };
        let mut result = r?;
        crate::of_test(&mut result, &self.test);
        if let Some(s) = &self.shard {
            s.stamp(&mut result);
        }
        Ok(SessionResult { result, spec })
    }
}

/// Where the embedded target listens.
#[cfg(feature = "serve")]
struct Addrs {
    http: std::net::SocketAddr,
    tcp: Option<std::net::SocketAddr>,
    udp: Option<std::net::SocketAddr>,
    grpc: Option<std::net::SocketAddr>,
}

#[cfg(feature = "serve")]
impl Addrs {
    fn of(s: &crate::serve::Server) -> Addrs {
        Addrs {
            http: s.http_addr,
            tcp: s.tcp_addr,
            udp: s.udp_addr,
            grpc: s.grpc_addr,
        }
    }
}

/// Points HTTP(S) endpoints at the embedded HTTP port and TCP and UDP endpoints at its echo
/// ports; gRPC at its gRPC port.
#[cfg(feature = "serve")]
fn point_at(spec: &mut PerformanceTestSpec, s: &Addrs) {
    if spec.effective_protocol() == smi_types::perf::Protocol::Grpc {
        let a = s.grpc.unwrap_or(s.http);
        spec.endpoints
            .iter_mut()
            .for_each(|e| *e = format!("http://{a}"));
        return;
    }
    for e in spec.endpoints.iter_mut() {
        let (scheme, rest) = e.split_once("://").unwrap_or(("http", e.as_str()));
        let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/").to_owned();
        *e = match scheme {
            "tcp" => format!("tcp://{}", s.tcp.unwrap_or(s.http)),
            "udp" => format!("udp://{}", s.udp.unwrap_or(s.http)),
            _ => format!("http://{}{path}", s.http),
        };
    }
}
