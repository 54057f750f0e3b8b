//! A pluggable performance-test engine for service meshes.
//!
//! Give it a [`PerformanceTest`] (or just its spec), get a
//! [`PerformanceTestResult`] back:
//!
//! * load models `Closed` (N connections, each waiting for its answer, optional rate ceiling) and
//!   `Open` (a fixed arrival schedule, latency timed from the *intended* send so coordinated
//!   omission is corrected; the service time is kept too; sends refused by `maxInFlight` are
//!   counted as dropped);
//! * built-in HTTP/1.1, HTTP/2 (h2c and, with feature `tls`, TLS + ALPN), gRPC unary calls (over
//!   the same HTTP/2 transports, gRPC status codes counted next to HTTP statuses), TCP and UDP
//!   (echo matched by sequence number, a missing echo counted as `lost`) transports;
//! * one HdrHistogram per runtime worker thread, merged at the end; results carry the histogram in V2
//!   deflate form so [`merge`] of several shards is exact;
//! * scale-out: [`shard`] splits a test's load into `parallelism` shards (one process each,
//!   aligned on a common start instant), [`merge`] joins their results exactly, and [`k8s`]
//!   prints the Kubernetes Indexed Job that runs the shards in a cluster;
//! * plug-ins: implement [`LoadGenerator`] (or just a [`Lane`] and let [`drive`] run the load
//!   models) and [`Registry::register`] it;
//! * a [`Session`] runs a test end to end as the `smi-perf` command does (embedded target, shard,
//!   live progress through a callback) for any program.
//!
//! Layout: [`RunPlan`] (the spec parsed once), `driver` ([`drive`], the load models), `stats`
//! (per-worker recording), `result` ([`build_result`], the histogram codec, thresholds,
//! [`merge`]), [`transport`] (dial, the native HTTP/1.1 lane, hyper's HTTP/1.1, the one HTTP/2
//! transport that plain requests and gRPC calls ride, TCP, UDP, TLS), [`Session`].
//!
//! ```no_run
//! use smi_types::perf::{PerformanceTest, PerformanceTestSpec};
//! # async fn demo() -> smi_perf_engine::Result<()> {
//! let test = PerformanceTest::new("smoke", PerformanceTestSpec::http("http://127.0.0.1:8080/").rps(1000).duration("10s"));
//! let result = smi_perf_engine::run_test(&test, Default::default()).await?;
//! println!("p99 = {:?} µs", result.record.latency.percentile(99.0));
//! # Ok(()) }
//! ```
//!
//! Features: `tls` (rustls with ring) is on by default; `serve` (the embedded target server,
//! hyper's server side), `k8s` (Kubernetes manifests for sharded runs) and `report` (text, HTML
//! and compare reports) are off by default. The `smi-perf` binary is the `smi-perf` package,
//! which enables all four.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod driver;
mod error;
mod generator;
#[cfg(feature = "k8s")]
#[cfg_attr(docsrs, doc(cfg(feature = "k8s")))]
pub mod k8s;
mod pacer;
mod plan;
#[cfg(feature = "report")]
#[cfg_attr(docsrs, doc(cfg(feature = "report")))]
pub mod report;
mod result;
pub mod schedule;
pub mod series;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod serve;
mod session;
pub mod shard;
pub mod smp;
mod stats;
pub mod transport;

use std::sync::Arc;

pub use driver::{
    DEFAULT_TIMER_RESOLUTION, Lane, LaneFactory, LaneLive, Live, LivePhase, LiveSnapshot,
    MAX_TIMER_RESOLUTION, RunContext, RunStats, Stage, Wakeups, drive,
};
pub use error::{
    BoxError, Error, GrpcError, IntervalError, JobError, RequestError, Result, ShardError,
};
pub use generator::{BoxFuture, Builtin, Capabilities, Hyper, LoadGenerator, Registry};
pub use plan::{MAX_BODY, RunPlan, TlsOptions, read_body_file};
pub use result::{
    ENGINE_VERSION, SUCCEEDED_METRIC, build_result, decode_histogram, default_thresholds,
    encode_histogram, evaluate_thresholds, merge, merge_recorders, new_uuid, observe,
    percentile_label, summarize, validate_result,
};
pub use session::{Event, Session, SessionResult};
pub use stats::{
    ErrorKind, GRPC_CODES, HistogramSettings, Outcome, Recorder, grpc_code_name, micros,
};
pub use transport::grpc::{self, GrpcCall, GrpcExchange, GrpcFactory, GrpcLane};
pub use transport::h1::{Http1Factory, Http1Lane, MAX_HEAD, MAX_HEADERS};
/// The HTTP/1.1 response reader of the native lane, public for the fuzz targets.
#[doc(hidden)]
pub use transport::h1::{ReadError, ResponseSummary, read_response};
pub use transport::h2::{Exchange, H2Factory, H2Lane, Http2Exchange, Http2Factory, Http2Lane};
pub use transport::hyper_h1::{HyperHttp1Factory, HyperHttp1Lane, classify};
pub use transport::tcp::{TcpFactory, TcpLane};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use transport::tls;
pub use transport::udp::{DEFAULT_LOSS_TIMEOUT, MAX_DATAGRAM, SEQ_LEN, UdpFactory, UdpLane};

pub use smi_types::perf::{PerformanceTest, PerformanceTestResult, PerformanceTestSpec};

/// Runs `spec` with the generator `registry` resolves for it. The result is unnamed.
pub async fn run_spec_with(
    registry: &Registry,
    spec: &PerformanceTestSpec,
    ctx: RunContext,
) -> Result<PerformanceTestResult> {
    let plan = RunPlan::from_spec(spec)?;
    run_plan(registry, plan, "", "", ctx).await
}

/// Runs an already-built plan (e.g. one whose TLS CA bundle the caller filled in).
/// `name` becomes the result's `metadata.name`, `test_name` its `testRef.name` (either may be empty).
pub async fn run_plan(
    registry: &Registry,
    plan: RunPlan,
    name: &str,
    test_name: &str,
    ctx: RunContext,
) -> Result<PerformanceTestResult> {
    let generator = registry.resolve(&plan.spec)?;
    let plan = Arc::new(plan);
    let stats = generator.run(plan.clone(), ctx).await?;
    build_result(name, test_name, &plan.spec, &stats, generator.name())
}

/// Runs a [`PerformanceTest`] with the built-in generators; the result is named after the test
/// and carries its namespace.
pub async fn run_test(test: &PerformanceTest, ctx: RunContext) -> Result<PerformanceTestResult> {
    let plan = RunPlan::from_spec(&test.spec)?;
    let name = test.metadata.name.clone().unwrap_or_default();
    let mut result = run_plan(&Registry::with_builtins(), plan, &name, &name, ctx).await?;
    of_test(&mut result, test);
    Ok(result)
}

/// Gives a result of `test` its namespace and the test's uid.
pub(crate) fn of_test(result: &mut PerformanceTestResult, test: &PerformanceTest) {
    result.metadata.namespace = test.metadata.namespace.clone();
    if let Some(t) = result.record.test_ref.as_mut() {
        t.uid = test.metadata.uid.clone();
    }
}

/// A tokio runtime sized by `threads` (`None` = CPUs available to this process; 1 = a
/// current-thread runtime, the cheapest for a generator pinned to one core).
pub fn runtime(threads: Option<u32>) -> std::io::Result<tokio::runtime::Runtime> {
    let n = threads.map(|t| t as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if n <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()
    }
}
