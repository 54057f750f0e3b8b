//! The plug-in point: [`LoadGenerator`], its [`Capabilities`], and the [`Registry`] that maps
//! `spec.loadGenerator` names to generators.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use smi_types::perf::{LoadModel, PerformanceTestSpec, Protocol};

use crate::driver::{RunContext, RunStats, drive};
use crate::error::{Error, Result};
use crate::plan::RunPlan;

/// A boxed, sendable future (keeps [`LoadGenerator`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a generator can do. The registry rejects a spec outside it before the run.
///
/// ```
/// use smi_perf_engine::Capabilities;
/// use smi_types::perf::{LoadModel, Protocol};
/// let caps = Capabilities::new([Protocol::Tcp], [LoadModel::Closed]);
/// assert!(caps.supports(Protocol::Tcp, LoadModel::Closed));
/// assert!(!caps.supports(Protocol::Tcp, LoadModel::Open));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Supported protocols.
    pub protocols: Vec<Protocol>,
    /// Supported load models.
    pub load_models: Vec<LoadModel>,
}

impl Capabilities {
    /// The protocols and load models a generator supports.
    pub fn new(
        protocols: impl IntoIterator<Item = Protocol>,
        load_models: impl IntoIterator<Item = LoadModel>,
    ) -> Capabilities {
        Capabilities {
            protocols: protocols.into_iter().collect(),
            load_models: load_models.into_iter().collect(),
        }
    }

    /// Whether `protocol` under `model` is supported.
    pub fn supports(&self, protocol: Protocol, model: LoadModel) -> bool {
        self.protocols.contains(&protocol) && self.load_models.contains(&model)
    }
}

/// A load generator plug-in. Implement it outside this crate and [`Registry::register`] it.
///
/// The simplest implementation supplies [`Lane`](crate::Lane)s and lets [`drive`] run the load
/// models:
///
/// ```
/// use std::sync::Arc;
/// use smi_perf_engine::*;
/// use smi_types::perf::{LoadModel, Protocol};
///
/// /// A "generator" whose every request succeeds instantly (for demonstration).
/// struct Null;
/// struct NullLane;
/// impl Lane for NullLane {
///     async fn request(&mut self) -> Outcome {
///         tokio::task::yield_now().await;
///         Outcome::Response { status: 200, sent: 1, received: 1 }
///     }
///     fn reset(&mut self) {}
/// }
/// impl LaneFactory for Null {
///     type Lane = NullLane;
///     fn lanes(&self, _: &RunPlan, _: u32) -> Vec<NullLane> { vec![NullLane] }
/// }
/// impl LoadGenerator for Null {
///     fn name(&self) -> &str { "null" }
///     fn capabilities(&self) -> Capabilities {
///         Capabilities::new([Protocol::Tcp], [LoadModel::Closed])
///     }
///     fn run(&self, plan: Arc<RunPlan>, ctx: RunContext) -> BoxFuture<'static, Result<RunStats>> {
///         Box::pin(async move { drive(Arc::new(Null), plan, ctx).await })
///     }
/// }
///
/// let mut registry = Registry::with_builtins();
/// registry.register(Arc::new(Null));
/// let spec = smi_types::perf::PerformanceTestSpec::tcp("tcp://127.0.0.1:9").load_generator("null").requests(100);
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let result = rt.block_on(run_spec_with(&registry, &spec, RunContext::default())).unwrap();
/// assert_eq!(result.record.requests_total, 100);
/// ```
pub trait LoadGenerator: Send + Sync {
    /// Registry name (`spec.loadGenerator`).
    fn name(&self) -> &str;
    /// What it supports.
    fn capabilities(&self) -> Capabilities;
    /// Runs the plan. Called only for plans inside [`capabilities`](Self::capabilities).
    fn run(&self, plan: Arc<RunPlan>, ctx: RunContext) -> BoxFuture<'static, Result<RunStats>>;
}

/// Maps generator names to generators. `"builtin"` picks the built-in transport by protocol.
#[derive(Clone, Default)]
pub struct Registry {
    generators: BTreeMap<String, Arc<dyn LoadGenerator>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.generators.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding [`Builtin`] under `"builtin"` and [`Hyper`] under `"hyper"`.
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        r.register(Arc::new(Builtin));
        r.register(Arc::new(Hyper));
        r
    }

    /// Adds (or replaces) a generator under its name.
    pub fn register(&mut self, generator: Arc<dyn LoadGenerator>) {
        self.generators
            .insert(generator.name().to_owned(), generator);
    }

    /// Registered names.
    pub fn names(&self) -> Vec<&str> {
        self.generators.keys().map(String::as_str).collect()
    }

    /// The generator `spec` asks for, checked against its capabilities.
    ///
    /// ```
    /// use smi_perf_engine::Registry;
    /// use smi_types::perf::PerformanceTestSpec;
    /// let r = Registry::with_builtins();
    /// assert_eq!(r.resolve(&PerformanceTestSpec::grpc("127.0.0.1:9000")).unwrap().name(), "builtin");
    /// let Err(err) = r.resolve(&PerformanceTestSpec::grpc("127.0.0.1:9000").load_generator("hyper")) else {
    ///     panic!("the hyper generator runs HTTP/1.1 only")
    /// };
    /// assert!(err.to_string().contains("supports protocols [HTTP]"), "{err}");
    /// ```
    pub fn resolve(&self, spec: &PerformanceTestSpec) -> Result<Arc<dyn LoadGenerator>> {
        let name = spec.effective_load_generator();
        let g = self
            .generators
            .get(name)
            .ok_or_else(|| Error::UnknownGenerator {
                name: name.to_owned(),
                known: self.names().join(", "),
            })?;
        let caps = g.capabilities();
        let (protocol, model) = (spec.effective_protocol(), spec.effective_load_model());
        if !caps.supports(protocol, model) {
            return Err(Error::Unsupported {
                generator: name.to_owned(),
                protocol,
                model,
                protocols: caps
                    .protocols
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                models: caps
                    .load_models
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(g.clone())
    }
}

/// The built-in generator: HTTP/1.1 (keep-alive, the engine's own lean client on `httparse`),
/// HTTP/2 (the engine's own client: h2c prior knowledge, or TLS + ALPN with the `tls` feature),
/// gRPC unary calls (hand-framed on the same HTTP/2 transport, see [`crate::grpc`]), TCP and UDP,
/// under both load models.
#[derive(Clone, Copy, Debug, Default)]
pub struct Builtin;

impl LoadGenerator for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            protocols: vec![
                Protocol::Http,
                Protocol::Http2,
                Protocol::Grpc,
                Protocol::Tcp,
                Protocol::Udp,
            ],
            load_models: vec![LoadModel::Open, LoadModel::Closed],
        }
    }

    fn run(&self, plan: Arc<RunPlan>, ctx: RunContext) -> BoxFuture<'static, Result<RunStats>> {
        Box::pin(async move {
            match plan.protocol {
                Protocol::Http => {
                    let f = crate::transport::h1::Http1Factory::new(&plan)?;
                    if ctx.event_loop
                        && let Some(r) = f.event_loop(plan.clone(), ctx.clone()).await
                    {
                        return r;
                    }
                    drive(Arc::new(f), plan, ctx).await
                }
                Protocol::Http2 => {
                    let f = crate::transport::h2::Http2Factory::new(&plan)?;
                    drive(Arc::new(f), plan, ctx).await
                }
                Protocol::Tcp => {
                    drive(Arc::new(crate::transport::tcp::TcpFactory), plan, ctx).await
                }
                Protocol::Grpc => {
                    let f = crate::transport::grpc::GrpcFactory::new(&plan)?;
                    drive(Arc::new(f), plan, ctx).await
                }
                Protocol::Udp => {
                    let f = crate::transport::udp::UdpFactory::new(&plan)?;
                    drive(Arc::new(f), plan, ctx).await
                }
            }
        })
    }
}

/// HTTP/1.1 through hyper's client (`spec.loadGenerator: hyper`, `smi-perf run --generator
/// hyper`): the same load models as [`Builtin`], for comparing the native HTTP/1.1 lane with a
/// reference client on the same target (`bench/run.sh` runs both).
///
/// ```no_run
/// use smi_perf_engine::{Registry, RunContext, run_spec_with};
/// use smi_types::perf::PerformanceTestSpec;
/// # async fn demo() -> smi_perf_engine::Result<()> {
/// let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/").load_generator("hyper").requests(1000);
/// let result = run_spec_with(&Registry::with_builtins(), &spec, RunContext::default()).await?;
/// assert_eq!(result.record.load_generator, "hyper");
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Hyper;

impl LoadGenerator for Hyper {
    fn name(&self) -> &str {
        "hyper"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            protocols: vec![Protocol::Http],
            load_models: vec![LoadModel::Open, LoadModel::Closed],
        }
    }

    fn run(&self, plan: Arc<RunPlan>, ctx: RunContext) -> BoxFuture<'static, Result<RunStats>> {
        Box::pin(async move {
            let factory = crate::transport::hyper_h1::HyperHttp1Factory::new(&plan)?;
            drive(Arc::new(factory), plan, ctx).await
        })
    }
}
