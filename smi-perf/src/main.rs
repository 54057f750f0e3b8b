//! `smi-perf`: run performance tests, serve a target, compare results.
//!
//! Exit codes: 0 = ran and every threshold held; 1 = a threshold failed; 2 = usage, spec or I/O error.
//! A `run --shard` process exits 0 after a run whatever its thresholds: they are judged on the
//! merged result (`smi-perf merge` exits 1 when a threshold fails there).

mod cli {
    pub mod progress;
}

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use smi_perf_engine::shard::{RESULT_MARKER, Shard, ShardRun};
use smi_perf_engine::{Session, report, serve, smp};
use smi_types::perf::{
    Duration as GepDuration, LoadModel, PerformanceTest, PerformanceTestResult,
    PerformanceTestSpec, Protocol, RateShape, RateStep, RequestSpec, RunLength, Threshold,
    ThresholdMetric,
};

/// The quick-start manifest, also used by `smi-perf demo`.
const QUICKSTART: &str = include_str!("../examples/quickstart.yaml");

const EXIT_THRESHOLD: u8 = 1;
const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "smi-perf",
    version,
    about = "Performance tests for service meshes: open/closed load, HdrHistogram latency, mergeable results"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a PerformanceTest manifest (YAML/JSON) or a quick test against a URL.
    Run(Box<RunArgs>),
    /// Serve the embedded target (HTTP/1.1 + h2c, TCP echo) on loopback.
    Serve(ServeArgs),
    /// Run the built-in quick-start test against the embedded target and print the report.
    Demo(DemoArgs),
    /// Latency added per percentile: `compare base.json mesh.json`.
    Compare {
        /// Result without the mesh (JSON or YAML PerformanceTestResult).
        base: PathBuf,
        /// Result with the mesh.
        mesh: PathBuf,
        /// Also write an HTML page overlaying both runs here.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Merge shard results of one test exactly into one result (printed as JSON).
    Merge {
        /// Result files (JSON/YAML results, or logs with `SMI-PERF-RESULT {json}` lines); `-` reads stdin.
        #[arg(required = true)]
        results: Vec<PathBuf>,
    },
    /// Kubernetes manifests for scale-out runs.
    #[command(subcommand)]
    K8s(K8sCommand),
}

#[derive(Subcommand, Debug)]
enum K8sCommand {
    /// Print a ConfigMap (the test) and an Indexed Job running `spec.parallelism` shards.
    Job(K8sJobArgs),
}

#[derive(Args, Debug)]
struct K8sJobArgs {
    /// The PerformanceTest manifest (YAML or JSON).
    test: PathBuf,
    /// Container image with `smi-perf` on its PATH.
    #[arg(long)]
    image: String,
    /// Job name (default `<test name>-perf`).
    #[arg(long)]
    name: Option<String>,
    /// Namespace (default: the test's).
    #[arg(long, short = 'n')]
    namespace: Option<String>,
    /// Job backoffLimit (a retried shard re-applies its load).
    #[arg(long, default_value_t = 0)]
    backoff_limit: i32,
    /// Common start instant for all shards (RFC 3339), passed as `--start-at`.
    #[arg(long)]
    start_at: Option<String>,
    /// Job activeDeadlineSeconds (default: warm-up + duration + 600, or 3600 for a request count).
    #[arg(long)]
    active_deadline_seconds: Option<i64>,
    /// Container imagePullPolicy: Always, IfNotPresent or Never.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// CPU request and limit of each shard pod (Kubernetes quantity).
    #[arg(long, default_value = "1")]
    cpu: String,
    /// Memory request and limit of each shard pod (Kubernetes quantity).
    #[arg(long, default_value = "512Mi")]
    memory: String,
    /// Delete the finished Job and its pods after this many seconds (collect results before).
    #[arg(long, default_value_t = 86_400)]
    ttl_seconds_after_finished: i32,
    /// Output: yaml (multi-document, for `kubectl apply -f -`) or json (a v1 List).
    #[arg(long, short = 'o', default_value = "yaml")]
    output: String,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum Output {
    Text,
    Json,
    Yaml,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum ShapeArg {
    /// --rate for the whole run.
    Constant,
    /// A linear ramp from --rate to --ramp-to over --duration, or k6 stages with --step.
    Linear,
    /// Piecewise constant: each --step holds its rate.
    Step,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum ModelArg {
    /// Fixed arrival rate (needs --rate).
    Open,
    /// N connections, each waiting for its answer.
    Closed,
    /// Open when --rate > 0, else Closed (for bench templates where 0 means "closed loop").
    Auto,
}

#[derive(Args, Debug, Clone, Default)]
struct Outputs {
    /// Result format on stdout.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Option<Output>,
    /// Print the SMP export (JSON) instead.
    #[arg(long)]
    smp: bool,
    /// Write the HdrHistogram percentile distribution (wrk2 / plotter format) here.
    #[arg(long, value_name = "FILE")]
    hgrm: Option<PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the time series as an HdrHistogram interval log (HistogramLogProcessor format) here.
    #[arg(long, value_name = "FILE")]
    hlog: Option<PathBuf>,
    /// Write the time series as CSV (one row per interval) here.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Time-series interval (GEP-2257 duration, whole ms, at least 10ms).
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    interval: String,
    /// Also save the result as JSON here.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Print `rps=… p50_ms=… p99_ms=…` (for bench harnesses) on stdout.
    #[arg(long)]
    peers_line: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Also print the result as one line `SMI-PERF-RESULT {json}` on stdout (for log collection).
    #[arg(long)]
    result_marker: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// A PerformanceTest manifest file, or a URL for a quick run.
    target: String,
    /// Requests per second (Open model: arrival rate; Closed: ceiling, 0 = none).
    #[arg(long, short = 'r', alias = "rps")]
    rate: Option<i64>,
    /// How long to apply load (GEP-2257: 10s, 1m30s, 500ms).
    #[arg(long, short = 'd')]
    duration: Option<String>,
    /// Exact number of requests instead of a duration.
    #[arg(long, short = 'n')]
    requests: Option<i64>,
    /// Connections.
    #[arg(long, short = 'c')]
    connections: Option<i32>,
    /// Protocol: http, http2 (h2c or TLS+ALPN), grpc (unary calls; h2c, or TLS+ALPN for
    /// https://), tcp, udp (echo matched by sequence number; no echo within --timeout, default 1s
    /// for UDP, counts as `lost`).
    #[arg(long, short = 'p')]
    protocol: Option<String>,
    /// Load model (default closed).
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// Load generator (spec.loadGenerator): builtin (default) or hyper (HTTP/1.1 through
    /// hyper's client, for comparison).
    #[arg(long, short = 'g')]
    generator: Option<String>,
    /// Unrecorded warm-up.
    #[arg(long)]
    warmup: Option<String>,
    /// Per-request timeout.
    #[arg(long)]
    timeout: Option<String>,
    /// gRPC method, `/package.Service/Method` (default: grpc.health.v1.Health/Check).
    #[arg(long, value_name = "PATH")]
    grpc_method: Option<String>,
    /// gRPC service (with a bare --grpc-method name; with --grpc-health the service whose
    /// health to check).
    #[arg(long, value_name = "NAME")]
    grpc_service: Option<String>,
    /// gRPC request message: protobuf bytes, base64.
    #[arg(long, value_name = "BASE64", conflicts_with = "grpc_payload_file")]
    grpc_payload: Option<String>,
    /// gRPC request message: a file of protobuf bytes (binary).
    #[arg(long, value_name = "FILE")]
    grpc_payload_file: Option<PathBuf>,
    /// Call grpc.health.v1.Health/Check (of --grpc-service, if given).
    #[arg(long)]
    grpc_health: bool,
    /// HTTP/2 (and gRPC) streams per connection.
    #[arg(long)]
    streams: Option<i32>,
    /// Open model: cap on outstanding requests.
    #[arg(long)]
    max_in_flight: Option<i32>,
    /// Rate shape (spec.rateShape; linear and step need the Open model, which they imply
    /// with --model auto or no --model).
    #[arg(long, value_enum)]
    rate_shape: Option<ShapeArg>,
    /// Final rate of a linear ramp (spec.rampTo).
    #[arg(long)]
    ramp_to: Option<i64>,
    /// A stage `RPS:DURATION` of a linear or step shape, e.g. `--step 100:10s --step 500:20s`
    /// (repeatable; spec.steps). The run lasts their total.
    #[arg(long = "step", value_name = "RPS:DURATION")]
    steps: Vec<String>,
    /// Runtime worker threads (default: CPUs available).
    #[arg(long, short = 't')]
    threads: Option<i32>,
    /// Open model: the send grid, 0s to 10ms (`200us`, `1ms`, `5ms`). Each send's scheduled
    /// time is moved up to the next multiple of this (from the run's start), so the sends of one
    /// step go out together at one wake-up of the generator, each on time, and latency is timed
    /// from the moved time. The rate is unchanged; the arrivals come in bursts of rate x
    /// resolution, and a burst's queueing at the target shows in the latency. Longer: less CPU
    /// per request. Over 1ms the generator sleeps a whole step: pin it to a CPU of its own
    /// (`taskset`), or a late wake-up shows as latency. `0s` (default): every send at its own
    /// time.
    #[arg(long, value_name = "DURATION")]
    timer_resolution: Option<String>,
    /// Open model: wake for every answer as it arrives, instead of reading answers at the
    /// timer's wake-ups (the default, for the native HTTP/1.1 lane and event loop over plain TCP
    /// on Linux, which time each answer by its kernel receive timestamp and so report the same
    /// latency for less CPU). For comparison runs.
    #[arg(long)]
    read_on_arrival: bool,
    /// Plain HTTP/1.1, closed model without a rate ceiling or Open model (Linux): run each
    /// connection as a task of its own instead of on the event loop (the default, which counts
    /// the same for less CPU per request). For comparison runs.
    #[arg(long)]
    task_per_connection: bool,
    /// HTTP method.
    #[arg(long, short = 'm')]
    method: Option<String>,
    /// Header `Name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Request body (TCP: payload).
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Request body from a file (binary as is; at most 16 MiB; replaces request.body and
    /// resolves request.bodyFrom; the method defaults to POST).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Threshold like `latencyP99<=250ms`, `errorRate<=0.05`, `rps>=900` (repeatable; rps =
    /// successful responses/s). Defaults `errorRate<=0.01` and `droppedRate<=0.01` apply to the
    /// metrics you set none on; a run without a successful response always fails.
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
    /// Accept any TLS certificate.
    #[arg(long, short = 'k')]
    insecure: bool,
    /// PEM CA bundle to verify the server with.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Start the embedded target and point the test's endpoints at it.
    #[arg(long)]
    serve: bool,
    /// Run shard INDEX/COUNT of the load (0-based: 0/3, 1/3, 2/3); COUNT must match spec.parallelism when set.
    #[arg(long, value_name = "INDEX/COUNT")]
    shard: Option<String>,
    /// Common start instant of all shards (RFC 3339; overrides spec.startAt); at most 1 h ahead.
    #[arg(long, value_name = "RFC3339")]
    start_at: Option<String>,
    /// Id of this scaled-out run, recorded in the shard result (shards of different runs do not merge).
    #[arg(long)]
    run_id: Option<String>,
    #[command(flatten)]
    out: Outputs,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// HTTP port on 127.0.0.1 (0 = any).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// TCP echo port on 127.0.0.1.
    #[arg(long)]
    tcp_port: Option<u16>,
    /// UDP echo port on 127.0.0.1.
    #[arg(long)]
    udp_port: Option<u16>,
    /// gRPC (h2c) port on 127.0.0.1: grpc.health.v1.Health/Check and /smi.perf.v1.Echo/Echo.
    #[arg(long)]
    grpc_port: Option<u16>,
    /// gRPC over TLS (ALPN h2) port on 127.0.0.1; needs --tls-cert and --tls-key.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    grpc_tls_port: Option<u16>,
    /// PEM certificate chain for --grpc-tls-port.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --grpc-tls-port.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Fixed response delay (h, m, s, ms, us: `500us`, `1ms250us`).
    #[arg(long, default_value = "0s")]
    delay: String,
    /// Random delay: uniform between --delay and this.
    #[arg(long)]
    delay_max: Option<String>,
    /// Status mix, e.g. `200:99,503:1`.
    #[arg(long, default_value = "200")]
    status_mix: String,
    /// Response body size in bytes.
    #[arg(long, default_value_t = 2)]
    size: usize,
    /// Stall all responses starting this long after start...
    #[arg(long)]
    stall_after: Option<String>,
    /// ...for this long.
    #[arg(long, default_value = "1s")]
    stall_for: String,
    /// Exit after this long (default: run until interrupted).
    #[arg(long)]
    lifetime: Option<String>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Override the quick-start duration.
    #[arg(long, short = 'd')]
    duration: Option<String>,
    #[command(flatten)]
    out: Outputs,
}

/// Each connection holds a socket (the Open model's timer one timerfd for the run): lift the soft
/// limit on open files towards the hard one (at most 2^20), as Go's runtime does for its
/// programs, so a few thousand connections do not fail with "too many open files" under the
/// usual soft limit of 1024.
#[cfg(target_os = "linux")]
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let l = getrlimit(Resource::Nofile);
    let target = l.maximum.map_or(1 << 20, |m| m.min(1 << 20));
    if l.current.is_some_and(|c| c < target) {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: l.maximum,
            },
        );
    }
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    raise_open_files_limit();
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Run(a) => cmd_run(*a),
        Command::Serve(a) => cmd_serve(a),
        Command::Demo(a) => cmd_demo(a),
        Command::Compare { base, mesh, html } => cmd_compare(&base, &mesh, html.as_ref()),
        Command::Merge { results } => cmd_merge(&results),
        Command::K8s(K8sCommand::Job(a)) => cmd_k8s_job(a),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            note(&format!("smi-perf: {e}"));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

type CliResult<T> = Result<T, String>;

/// Writes `text` to stdout: a closed or full stdout is an I/O error (exit 2), not a panic.
fn out(text: &str) -> CliResult<()> {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}

/// Writes a line to stderr; a stderr that cannot be written is not worth a panic.
fn note(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// An output file (`--save`, `--html`, `--hgrm`), opened before the run so a bad path fails in
/// a second instead of after the load, written when the result is there. A file this run
/// created is removed again if the run fails.
struct OutFile {
    path: PathBuf,
    file: std::fs::File,
    created: bool,
    written: bool,
}

impl OutFile {
    fn open(path: &PathBuf) -> CliResult<OutFile> {
        let created = !path.exists();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(OutFile {
            path: path.clone(),
            file,
            created,
            written: false,
        })
    }

    fn write(&mut self, text: &str) -> CliResult<()> {
        use std::io::Write as _;
        // A regular file is truncated now (it was opened without truncating, so a failed run
        // leaves an existing file alone); a device or FIFO is written as it is.
        let is_file = self.file.metadata().map(|m| m.is_file()).unwrap_or(false);
        let r = if is_file {
            self.file.set_len(0)
        } else {
            Ok(())
        };
        r.and_then(|()| self.file.write_all(text.as_bytes()))
            .and_then(|()| self.file.flush())
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        self.written = true;
        Ok(())
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if self.created && !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The output files of `run`/`demo`, all opened up front.
struct OutFiles {
    hgrm: Option<OutFile>,
    html: Option<OutFile>,
    hlog: Option<OutFile>,
    csv: Option<OutFile>,
    save: Option<OutFile>,
}

impl OutFiles {
    fn open(out: &Outputs) -> CliResult<OutFiles> {
        let open = |p: &Option<PathBuf>| p.as_ref().map(OutFile::open).transpose();
        Ok(OutFiles {
            hgrm: open(&out.hgrm)?,
            html: open(&out.html)?,
            hlog: open(&out.hlog)?,
            csv: open(&out.csv)?,
            save: open(&out.save)?,
        })
    }
}

fn dur(s: &str, what: &str) -> CliResult<Duration> {
    GepDuration::parse(s)
        .and_then(|d| d.to_std())
        .map_err(|e| format!("{what}: {e}"))
}

/// A target time setting: GEP-2257 units plus microseconds (`500us`).
fn tdur(s: &str, what: &str) -> CliResult<Duration> {
    serve::parse_duration(s).map_err(|e| format!("{what}: {e}"))
}

/// `--step RPS:DURATION`.
fn parse_step(s: &str) -> CliResult<RateStep> {
    let (r, d) = s
        .split_once(':')
        .ok_or_else(|| format!("--step {s:?}: expected RPS:DURATION, e.g. 100:10s"))?;
    let rps: i64 = r
        .trim()
        .parse()
        .map_err(|_| format!("--step {s:?}: {r:?} is not a whole number of requests per second"))?;
    let duration = GepDuration::parse(d.trim()).map_err(|e| format!("--step {s:?}: {e}"))?;
    Ok(RateStep { rps, duration })
}

fn parse_threshold(s: &str) -> CliResult<Threshold> {
    let (metric, op, limit) = if let Some((m, l)) = s.split_once("<=") {
        (m, "<=", l)
    } else if let Some((m, l)) = s.split_once(">=") {
        (m, ">=", l)
    } else {
        return Err(format!(
            "threshold {s:?}: expected METRIC<=LIMIT or METRIC>=LIMIT"
        ));
    };
    let metric: ThresholdMetric = serde_json::from_value(serde_json::Value::String(metric.trim().to_owned()))
        .map_err(|_| format!("threshold {s:?}: unknown metric (latencyP50, latencyP90, latencyP95, latencyP99, latencyP999, latencyMean, latencyMax, errorRate, droppedRate, rps)"))?;
    let limit = limit.trim().to_owned();
    Ok(if op == "<=" {
        Threshold::max(metric, limit)
    } else {
        Threshold::min(metric, limit)
    })
}

fn load_test(target: &str) -> CliResult<PerformanceTest> {
    let text = std::fs::read_to_string(target).map_err(|e| format!("{target}: {e}"))?;
    serde_saphyr::from_str::<PerformanceTest>(&text).map_err(|e| format!("{target}: {e}"))
}

/// Reads a result file and checks it is internally consistent (`validate_result`).
fn load_result(path: &PathBuf) -> CliResult<PerformanceTestResult> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let r: PerformanceTestResult = serde_json::from_str(&text)
        .or_else(|_| serde_saphyr::from_str(&text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    smi_perf_engine::validate_result(&r).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(r)
}

/// `--grpc-*`: fills `spec.grpc` (a flag overrides the manifest's field).
fn apply_grpc_flags(spec: &mut PerformanceTestSpec, a: &RunArgs) -> CliResult<()> {
    let payload = match &a.grpc_payload_file {
        Some(p) => {
            use base64::Engine as _;
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            if bytes.len() > smi_perf_engine::grpc::MAX_MESSAGE {
                return Err(format!(
                    "{}: {} bytes, above the {}-byte gRPC message limit",
                    p.display(),
                    bytes.len(),
                    smi_perf_engine::grpc::MAX_MESSAGE
                ));
            }
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        None => a.grpc_payload.clone(),
    };
    if a.grpc_method.is_none() && a.grpc_service.is_none() && payload.is_none() && !a.grpc_health {
        return Ok(());
    }
    if spec.effective_protocol() != Protocol::Grpc {
        return Err(format!(
            "--grpc-* flags need protocol GRPC (-p grpc), not {}",
            spec.effective_protocol()
        ));
    }
    let g = spec.grpc.get_or_insert_with(Default::default);
    if let Some(m) = &a.grpc_method {
        g.method = Some(m.clone());
        g.health = None;
    }
    if let Some(s) = &a.grpc_service {
        g.service = Some(s.clone());
    }
    if payload.is_some() {
        g.payload = payload;
    }
    if a.grpc_health {
        g.health = Some(true);
        g.method = None;
    }
    Ok(())
}

fn apply_flags(spec: &mut PerformanceTestSpec, a: &RunArgs) -> CliResult<()> {
    if let Some(g) = &a.generator {
        spec.load_generator = Some(g.clone());
    }
    if let Some(p) = &a.protocol {
        spec.protocol = Some(p.parse::<Protocol>().map_err(|e| e.to_string())?);
    }
    if let Some(r) = a.rate {
        spec.rps = Some(r);
    }
    if let Some(d) = &a.duration {
        spec.duration = Some(GepDuration::new_unchecked(d.clone()));
        spec.requests = None;
    }
    if let Some(n) = a.requests {
        spec.requests = Some(n);
        spec.duration = None;
    }
    if let Some(c) = a.connections {
        spec.connections = Some(c);
    }
    if let Some(shape) = a.rate_shape {
        spec.rate_shape = Some(match shape {
            ShapeArg::Constant => RateShape::Constant,
            ShapeArg::Linear => RateShape::Linear,
            ShapeArg::Step => RateShape::Step,
        });
    }
    if let Some(r) = a.ramp_to {
        spec.ramp_to = Some(r);
    }
    if !a.steps.is_empty() {
        spec.steps = a
            .steps
            .iter()
            .map(|st| parse_step(st))
            .collect::<CliResult<_>>()?;
        if a.duration.is_none() {
            // The steps give the run's length (a quick run's default 10 s would not match).
            spec.duration = None;
        }
    }
    if spec.is_ramped() && matches!(a.model, None | Some(ModelArg::Auto)) {
        spec.load_model = Some(LoadModel::Open);
    }
    if let Some(m) = a.model {
        spec.load_model = Some(match m {
            ModelArg::Open => LoadModel::Open,
            ModelArg::Closed => LoadModel::Closed,
            ModelArg::Auto if spec.rps.unwrap_or(0) > 0 || spec.is_ramped() => LoadModel::Open,
            ModelArg::Auto => LoadModel::Closed,
        });
    }
    if let Some(w) = &a.warmup {
        spec.warmup = Some(GepDuration::new_unchecked(w.clone()));
    }
    apply_grpc_flags(spec, a)?;
    if let Some(s) = a.streams {
        spec.streams_per_connection = Some(s);
    }
    if let Some(m) = a.max_in_flight {
        spec.max_in_flight = Some(m);
    }
    if let Some(t) = a.threads {
        spec.threads = Some(t);
    }
    let needs_request =
        a.timeout.is_some() || a.method.is_some() || !a.headers.is_empty() || a.body.is_some();
    if needs_request {
        let r = spec.request.get_or_insert_with(RequestSpec::default);
        if let Some(t) = &a.timeout {
            r.timeout = Some(GepDuration::new_unchecked(t.clone()));
        }
        if let Some(m) = &a.method {
            r.method = Some(m.clone());
        }
        for h in &a.headers {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| format!("header {h:?}: expected `Name: value`"))?;
            r.headers.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        if let Some(b) = &a.body {
            r.body = Some(b.clone());
        }
    }
    for t in &a.thresholds {
        spec.thresholds.push(parse_threshold(t)?);
    }
    if a.insecure {
        spec.tls
            .get_or_insert_with(Default::default)
            .insecure_skip_verify = Some(true);
    }
    Ok(())
}

fn cmd_run(a: RunArgs) -> CliResult<u8> {
    let looks_like_url = a.target.contains("://");
    if !looks_like_url && !std::path::Path::new(&a.target).exists() {
        // Neither a URL nor a file: most likely a mistyped file name, not a scheme-less URL.
        return Err(format!(
            "{}: no such file (a URL needs its scheme, e.g. http://{})",
            a.target, a.target
        ));
    }
    let mut test = if looks_like_url {
        // The scheme picks the protocol (`-p` overrides it): tcp://, udp://, grpc://.
        let scheme = a
            .target
            .split("://")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut spec = match scheme.as_str() {
            "tcp" => PerformanceTestSpec::new(Protocol::Tcp, a.target.clone()),
            "udp" => PerformanceTestSpec::new(Protocol::Udp, a.target.clone()),
            "grpc" => PerformanceTestSpec::new(Protocol::Grpc, a.target.clone()),
            _ => PerformanceTestSpec::http(a.target.clone()),
        };
        spec.duration = Some(GepDuration::new_unchecked("10s"));
        PerformanceTest::new("quick", spec)
    } else {
        load_test(&a.target)?
    };
    apply_flags(&mut test.spec, &a)?;
    let shard_run = shard_run(&a, &test.spec)?;
    let ca = match &a.cacert {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let pacing = Pacing {
        resolution: a
            .timer_resolution
            .as_deref()
            .map(timer_resolution)
            .transpose()?,
        read_on_arrival: a.read_on_arrival,
        task_per_connection: a.task_per_connection,
    };
    execute(
        test,
        a.serve,
        ca,
        a.body_file.as_deref(),
        &a.out,
        shard_run,
        pacing,
    )
}

/// `--timer-resolution`: microsecond units accepted, at most
/// [`smi_perf_engine::MAX_TIMER_RESOLUTION`] (refused beyond, not capped).
fn timer_resolution(s: &str) -> CliResult<Duration> {
    let d = tdur(s, "--timer-resolution")?;
    let max = smi_perf_engine::MAX_TIMER_RESOLUTION;
    if d > max {
        return Err(format!(
            "--timer-resolution {s}: at most {}ms (a coarser grid sends bursts, not a rate)",
            max.as_millis()
        ));
    }
    Ok(d)
}

/// `--shard i/N` (with `--start-at`, `--run-id`): which shard this process runs. The engine's
/// [`Session`] applies its share and checks the start instant before anything starts.
fn shard_run(a: &RunArgs, spec: &PerformanceTestSpec) -> CliResult<Option<ShardRun>> {
    let Some(s) = &a.shard else {
        if spec.parallelism.unwrap_or(1) > 1 || a.start_at.is_some() || spec.start_at.is_some() {
            note(
                "note: no --shard given: spec.parallelism/startAt are ignored and this process applies the whole load",
            );
        }
        return Ok(None);
    };
    let shard = Shard::parse(s).map_err(|e| e.to_string())?;
    let start_at = match (&a.start_at, &spec.start_at) {
        (Some(t), _) => Some(smi_perf_engine::shard::parse_start_at(t).map_err(|e| e.to_string())?),
        (None, Some(t)) => Some(std::time::SystemTime::from(t.0)),
        (None, None) => None,
    };
    Ok(Some(ShardRun {
        shard,
        start_at,
        run_id: a.run_id.clone().filter(|r| !r.trim().is_empty()),
    }))
}

fn cmd_demo(a: DemoArgs) -> CliResult<u8> {
    let mut test: PerformanceTest =
        serde_saphyr::from_str(QUICKSTART).map_err(|e| format!("quickstart manifest: {e}"))?;
    if let Some(d) = a.duration {
        test.spec.duration = Some(GepDuration::new_unchecked(d));
        test.spec.requests = None;
    }
    execute(test, true, None, None, &a.out, None, Pacing::default())
}

/// An engine error as the command prints it (the flag that set what failed, where one did).
fn engine_error(e: smi_perf_engine::Error) -> String {
    match e {
        smi_perf_engine::Error::Interval(_) => format!("--interval: {e}"),
        e => e.to_string(),
    }
}

/// How the engine paces and reads: the Open model's flags (`--timer-resolution`,
/// `--read-on-arrival`) and `--task-per-connection`.
#[derive(Debug, Default)]
struct Pacing {
    resolution: Option<Duration>,
    read_on_arrival: bool,
    /// `--task-per-connection`.
    task_per_connection: bool,
}

/// `run` and `demo`: maps the arguments onto an engine [`Session`], checks it and the output
/// paths before anything starts, runs it with live progress on stderr, writes the outputs.
fn execute(
    test: PerformanceTest,
    serve_target: bool,
    ca: Option<Vec<u8>>,
    body_file: Option<&std::path::Path>,
    out: &Outputs,
    shard: Option<ShardRun>,
    pacing: Pacing,
) -> CliResult<u8> {
    let mut session = Session::new(test)
        .interval(dur(&out.interval, "--interval")?)
        .read_at_wakeups(!pacing.read_on_arrival)
        .event_loop(!pacing.task_per_connection);
    if let Some(r) = pacing.resolution {
        session = session.timer_resolution(r);
    }
    if let Some(p) = body_file {
        let body = smi_perf_engine::read_body_file(p).map_err(|e| format!("--body-file: {e}"))?;
        session = session.body(body);
    }
    if let Some(ca) = ca {
        session = session.ca_pem(ca);
    }
    if serve_target {
        session = session.serve_target();
    }
    let sharded = shard.is_some();
    if let Some(s) = shard {
        session = session.shard(s);
    }
    // Everything is checked before anything starts (runtime, embedded target, load): the spec
    // with its limits (with --serve, as it will be once pointed at the target), and the output
    // paths, opened now.
    let spec = session.check().map_err(engine_error)?;
    let mut files = OutFiles::open(out)?;
    for w in spec.warnings() {
        note(&format!("warning: {w}"));
    }
    let total = match spec.run_length() {
        RunLength::Duration(d) => Some(d + spec.effective_warmup()),
        RunLength::Requests(_) => None,
    };
    let mut progress = cli::progress::Reporter::new(total, out.quiet);
    let done = session
        .on_event(Duration::from_secs(1), move |e| progress.event(e))
        .run_blocking()
        .map_err(engine_error)?;
    emit(&done.result, Some(&done.spec), out, &mut files)?;
    if sharded {
        // A shard sees only its share of the load (e.g. of the rate): the verdict belongs to
        // the merged result, and a shard pod must not fail its Job over it.
        if !done.result.record.passed && !out.quiet {
            note(
                "note: thresholds are judged on the merged result (smi-perf merge), not per shard",
            );
        }
        return Ok(0);
    }
    Ok(if done.result.record.passed {
        0
    } else {
        EXIT_THRESHOLD
    })
}

fn emit(
    result: &PerformanceTestResult,
    spec: Option<&PerformanceTestSpec>,
    out: &Outputs,
    files: &mut OutFiles,
) -> CliResult<()> {
    if let Some(f) = files.hgrm.as_mut() {
        let text = report::hgrm_of(result).ok_or("result has no histogram")?;
        f.write(&text)?;
    }
    if let Some(f) = files.html.as_mut() {
        f.write(&report::html(result, spec))?;
    }
    for (file, export) in [
        (
            &mut files.hlog,
            smi_perf_engine::series::hlog as fn(&_) -> _,
        ),
        (&mut files.csv, smi_perf_engine::series::csv),
    ] {
        if let Some(f) = file {
            let text = export(result).map_err(|e| format!("{}: {e}", f.path.display()))?;
            f.write(&text)?;
        }
    }
    let json = serde_json::to_string_pretty(result).map_err(|e| e.to_string())?;
    if let Some(f) = files.save.as_mut() {
        f.write(&json)?;
    }
    if out.smp {
        let details = out
            .save
            .as_ref()
            .map(|p| format!("file://{}", p.display()))
            .unwrap_or_default();
        let smp = serde_json::to_string_pretty(&smp::export(result, &details))
            .map_err(|e| e.to_string())?;
        self::out(&format!("{smp}\n"))?;
    } else {
        match out.output.unwrap_or(Output::Text) {
            Output::Text => self::out(&report::summary(result))?,
            Output::Json => self::out(&format!("{json}\n"))?,
            Output::Yaml => {
                self::out(&serde_saphyr::to_string(result).map_err(|e| e.to_string())?)?
            }
        }
    }
    if out.peers_line {
        self::out(&format!("{}\n", report::peers_line(result)))?;
    }
    if out.result_marker {
        let line = serde_json::to_string(result).map_err(|e| e.to_string())?;
        self::out(&format!("{RESULT_MARKER}{line}\n"))?;
    }
    Ok(())
}

fn cmd_serve(a: ServeArgs) -> CliResult<u8> {
    let opts = serve::ServeOptions {
        http: ([127, 0, 0, 1], a.port).into(),
        tcp: a.tcp_port.map(|p| ([127, 0, 0, 1], p).into()),
        udp: a.udp_port.map(|p| ([127, 0, 0, 1], p).into()),
        grpc: a.grpc_port.map(|p| ([127, 0, 0, 1], p).into()),
        grpc_tls: match (a.grpc_tls_port, &a.tls_cert, &a.tls_key) {
            (Some(port), Some(cert), Some(key)) => Some(serve::GrpcTls {
                addr: ([127, 0, 0, 1], port).into(),
                cert_pem: std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?,
                key_pem: std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?,
            }),
            (None, None, None) => None,
            _ => return Err("--tls-cert and --tls-key go with --grpc-tls-port".into()),
        },
        delay: tdur(&a.delay, "--delay")?,
        delay_max: a
            .delay_max
            .as_deref()
            .map(|d| tdur(d, "--delay-max"))
            .transpose()?,
        status_mix: serve::parse_status_mix(&a.status_mix)?,
        response_size: a.size,
        stall_after: a
            .stall_after
            .as_deref()
            .map(|d| tdur(d, "--stall-after"))
            .transpose()?,
        stall_for: tdur(&a.stall_for, "--stall-for")?,
    };
    let lifetime = a
        .lifetime
        .as_deref()
        .map(|d| tdur(d, "--lifetime"))
        .transpose()?;
    let rt = smi_perf_engine::runtime(None).map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async {
        let s = serve::start(opts)
            .await
            .map_err(|e| format!("serve: {e}"))?;
        note(&format!(
            "serving http://{} (HTTP/1.1 + h2c){}",
            s.http_addr,
            s.tcp_addr
                .map(|t| format!(", tcp echo on {t}"))
                .unwrap_or_default()
                + &s.udp_addr
                    .map(|u| format!(", udp echo on {u}"))
                    .unwrap_or_default()
                + &s.grpc_addr
                    .map(|g| format!(", gRPC (h2c) on {g}"))
                    .unwrap_or_default()
                + &s.grpc_tls_addr
                    .map(|g| format!(", gRPC (TLS) on {g}"))
                    .unwrap_or_default()
        ));
        match lifetime {
            Some(l) => tokio::select! {
                _ = tokio::time::sleep(l) => {}
                _ = tokio::signal::ctrl_c() => {}
            },
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        Ok::<_, String>(())
    })?;
    Ok(0)
}

fn cmd_compare(base: &PathBuf, mesh: &PathBuf, html: Option<&PathBuf>) -> CliResult<u8> {
    let (b, m) = (load_result(base)?, load_result(mesh)?);
    for w in report::compare_warnings(&b, &m) {
        eprintln!("warning: {w}");
    }
    out(&report::compare(&b, &m))?;
    if let Some(p) = html {
        std::fs::write(p, report::compare_html(&b, &m))
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(0)
}

fn cmd_merge(paths: &[PathBuf]) -> CliResult<u8> {
    let mut results = Vec::new();
    for p in paths {
        let (what, text) = if p.as_os_str() == "-" {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                .map_err(|e| format!("stdin: {e}"))?;
            ("stdin".to_owned(), t)
        } else {
            (
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
            )
        };
        results.extend(
            smi_perf_engine::shard::results_from_text(&text).map_err(|e| format!("{what}: {e}"))?,
        );
    }
    let merged = smi_perf_engine::merge(&results).map_err(|e| e.to_string())?;
    let missing = smi_perf_engine::shard::missing_shards(&merged);
    if !missing.is_empty() {
        note(&format!(
            "warning: merged {} result(s); shard(s) {missing:?} are missing",
            results.len()
        ));
    }
    let json = serde_json::to_string_pretty(&merged).map_err(|e| e.to_string())?;
    out(&format!("{json}\n"))?;
    Ok(if merged.record.passed {
        0
    } else {
        EXIT_THRESHOLD
    })
}

fn cmd_k8s_job(a: K8sJobArgs) -> CliResult<u8> {
    use smi_perf_engine::k8s;
    let text =
        std::fs::read_to_string(&a.test).map_err(|e| format!("{}: {e}", a.test.display()))?;
    let opts = k8s::JobOptions {
        image: a.image,
        name: a.name,
        namespace: a.namespace,
        backoff_limit: a.backoff_limit,
        start_at: a.start_at,
        active_deadline_seconds: a.active_deadline_seconds,
        image_pull_policy: a.image_pull_policy,
        cpu: a.cpu,
        memory: a.memory,
        ttl_seconds_after_finished: Some(a.ttl_seconds_after_finished),
    };
    let m = k8s::job_manifests(&text, &opts).map_err(|e| format!("{}: {e}", a.test.display()))?;
    match a.output.as_str() {
        "yaml" => out(&m.to_yaml().map_err(|e| e.to_string())?)?,
        "json" => {
            out(&format!(
                "{}\n",
                m.to_json_list().map_err(|e| e.to_string())?
            ))?;
            note(&format!(
                "collect and merge with:\n{}",
                k8s::collect_command(&m)
            ));
        }
        o => return Err(format!("--output {o:?}: expected yaml or json")),
    }
    Ok(0)
}
