//! The engine's error type.
//!
//! Every variant says what was refused in its own words and fields; errors of the libraries the
//! engine calls (`std::io`, `http`, `serde_json`, serde-saphyr, jiff, base64) are kept as the
//! variant's [`source`](std::error::Error::source). The message includes the source's text too,
//! because a command line prints one line per error.

use std::time::Duration;

use smi_types::perf::{LoadModel, Protocol, SpecError};

/// A boxed error a plug-in reports (see [`Error::Plugin`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that stops a run from starting or a result from being built.
///
/// ```
/// use smi_perf_engine::{Error, shard::Shard};
/// let err = Shard::parse("3/2").unwrap_err();
/// assert!(matches!(err, Error::Shard(_)));
/// assert!(err.to_string().contains("less than the shard count 2"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec breaks one or more B.4 rules.
    #[error("invalid PerformanceTest spec:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidSpec(Vec<SpecError>),
    /// No generator of that name is registered.
    #[error("unknown load generator {name:?} (registered: {known})")]
    UnknownGenerator {
        /// Requested name.
        name: String,
        /// Comma-separated registered names.
        known: String,
    },
    /// The generator does not support the protocol / load model combination.
    #[error(
        "load generator {generator:?} does not support {protocol} with the {model} load model; it supports protocols [{protocols}] and load models [{models}]"
    )]
    Unsupported {
        /// Generator name.
        generator: String,
        /// Requested protocol.
        protocol: Protocol,
        /// Requested load model.
        model: LoadModel,
        /// What it supports.
        protocols: String,
        /// What it supports.
        models: String,
    },
    /// A result (read from a file) is not internally consistent.
    #[error("inconsistent PerformanceTestResult:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidResult(Vec<SpecError>),
    /// Results cannot be merged.
    #[error("cannot merge results: {0}")]
    Merge(String),
    /// A histogram could not be encoded or decoded.
    #[error("histogram: {0}")]
    Histogram(String),
    /// TLS configuration problem.
    #[error("tls: {0}")]
    Tls(String),
    /// A lane of the run panicked (a bug in its generator): its requests cannot all be
    /// counted, so the run gives no result rather than an incomplete one.
    #[error(
        "a load lane panicked: {0} (its requests could not all be counted, so the run gives no result)"
    )]
    LanePanicked(String),
    /// I/O while setting up (binding, reading files).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    File {
        /// What the file is for (`body file`).
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An endpoint the engine cannot connect to as written.
    #[error("{source}")]
    Endpoint {
        /// The endpoint as the spec gives it.
        endpoint: String,
        /// Why (from [`smi_types::perf::Endpoint::parse_for`]).
        #[source]
        source: smi_types::perf::EndpointError,
    },
    /// A part of the request (URI, header, method) that `http` refuses.
    #[error("{what}: {source}")]
    Http {
        /// Which part (`header "x-a"`, `endpoint path "/a b"`, `method`).
        what: String,
        /// Why.
        #[source]
        source: http::Error,
    },
    /// A request setting that contradicts what the engine writes itself.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// `spec.grpc`, or a request setting gRPC cannot send.
    #[error(transparent)]
    Grpc(#[from] GrpcError),
    /// A shard, or its start instant, that cannot run.
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// The time-series interval.
    #[error("time-series interval: {0}")]
    Interval(IntervalError),
    /// The histograms of the run would take more memory than the engine allows
    /// (`MAX_HISTOGRAM_MEMORY`, 1 GiB).
    #[error(
        "the histograms would take {} MiB ({} KiB each, {workers} worker thread(s)), more than {} MiB: lower spec.histogram.significantDigits or highestMicros, or spec.threads (--threads)",
        total >> 20,
        each >> 10,
        limit >> 20
    )]
    HistogramMemory {
        /// Bytes all histograms would take.
        total: u64,
        /// Bytes of one histogram.
        each: u64,
        /// Worker threads.
        workers: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// JSON that does not decode or encode.
    #[error("{what}: {source}")]
    Json {
        /// What was read or written.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// YAML that does not decode.
    #[error("{what}: {source}")]
    Yaml {
        /// What was read.
        what: String,
        /// Why (boxed: the parser's error is large).
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// YAML that could not be written.
    #[error("yaml: {source}")]
    YamlOut {
        /// Why (boxed: the serializer's error is large).
        #[source]
        source: Box<serde_saphyr::SerializeError>,
    },
    /// The embedded target did not start (feature `serve`; see [`Session::serve_target`](crate::Session)).
    #[error("embedded target: {0}")]
    EmbeddedTarget(#[source] std::io::Error),
    /// The Kubernetes manifests of a sharded run (feature `k8s`).
    #[error(transparent)]
    Job(#[from] JobError),
    /// Anything else a plug-in ([`LoadGenerator`](crate::LoadGenerator)) reports.
    #[error("{0}")]
    Plugin(#[source] BoxError),
}

impl Error {
    /// Wraps an error of a plug-in.
    ///
    /// ```
    /// let e = smi_perf_engine::Error::plugin("no such device");
    /// assert_eq!(e.to_string(), "no such device");
    /// ```
    pub fn plugin(e: impl Into<BoxError>) -> Error {
        Error::Plugin(e.into())
    }

    /// An [`Error::Http`] for `what`.
    pub(crate) fn http(what: impl Into<String>, e: impl Into<http::Error>) -> Error {
        Error::Http {
            what: what.into(),
            source: e.into(),
        }
    }
}

/// A request setting that contradicts the request the engine frames itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A user `content-length` that is not the body's length.
    #[error(
        "header content-length: {value:?} disagrees with the body ({body_len} bytes); the engine frames the body itself, remove the header"
    )]
    ContentLength {
        /// The header's value.
        value: http::HeaderValue,
        /// The body's length.
        body_len: usize,
    },
    /// A user `transfer-encoding`.
    #[error(
        "header transfer-encoding: the engine sends the body with content-length; remove the header"
    )]
    TransferEncoding,
    /// A path with bytes HTTP/1.1 cannot carry in a request line.
    #[error("endpoint path {path:?}: spaces and control characters must be percent-encoded")]
    UnencodedPath {
        /// The path.
        path: String,
    },
    /// A body above the limit.
    #[error("{what}: the body is larger than the limit of {limit} bytes ({} MiB)", limit >> 20)]
    BodyTooLarge {
        /// Where the body came from.
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// `request.bodyFrom` that nobody resolved to bytes.
    #[error(
        "request.bodyFrom names {kind} {name:?} key {key:?}, which the engine does not read: pass its content with --body-file FILE (`smi-perf k8s job` mounts the key and passes it)"
    )]
    UnresolvedBody {
        /// `ConfigMap`, `Secret` or `no object`.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// The key.
        key: String,
    },
    /// A UDP payload that does not fit in one datagram with the sequence number.
    #[error(
        "the UDP payload is {payload} bytes; with the {seq}-byte sequence number a datagram holds at most {max_payload} bytes of payload",
        seq = crate::transport::udp::SEQ_LEN
    )]
    DatagramTooLarge {
        /// Payload bytes.
        payload: usize,
        /// Most payload bytes a datagram holds.
        max_payload: usize,
    },
}

/// `spec.grpc`, or a request setting a gRPC call cannot send.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrpcError {
    /// `payload` is not base64.
    #[error("spec.grpc: payload is not base64: {0}")]
    PayloadNotBase64(#[source] base64::DecodeError),
    /// `payload` is above the message limit.
    #[error("spec.grpc: payload is {len} bytes, above the {max}-byte message limit", max = crate::transport::grpc::MAX_MESSAGE)]
    PayloadTooLarge {
        /// Decoded bytes.
        len: usize,
    },
    /// `health: true` with a method.
    #[error(
        "spec.grpc: health: true calls grpc.health.v1.Health/Check; method {method:?} would be ignored"
    )]
    HealthWithMethod {
        /// The method.
        method: String,
    },
    /// `health: true` with a payload.
    #[error("spec.grpc: health: true sends a HealthCheckRequest; payload would be ignored")]
    HealthWithPayload,
    /// A service without a method.
    #[error("spec.grpc: service needs a method (or health: true to check its health)")]
    NoMethod,
    /// A full-path method and a service.
    #[error("spec.grpc: method {method:?} is a full path; service {service:?} would be ignored")]
    FullPathWithService {
        /// The method.
        method: String,
        /// The service.
        service: String,
    },
    /// A method name without a service.
    #[error("spec.grpc: method {method:?} needs a service (or give /package.Service/Method)")]
    NoService {
        /// The method.
        method: String,
    },
    /// A path that is not `/package.Service/Method`.
    #[error("spec.grpc: {path:?} is not /package.Service/Method (letters, digits, '.', '_', '-')")]
    BadPath {
        /// The path.
        path: String,
    },
    /// An endpoint with a path (the method gives the path).
    #[error(
        "gRPC endpoint {authority}: the path {path:?} would be ignored (the method gives the path: spec.grpc.method)"
    )]
    EndpointPath {
        /// The endpoint's authority.
        authority: String,
        /// Its path.
        path: String,
    },
    /// A header gRPC sets itself.
    #[error("gRPC sets the {0} header itself; remove it from request.headers")]
    ReservedHeader(http::HeaderName),
    /// `request.body` or `bodyFrom`.
    #[error("a gRPC call sends spec.grpc.payload (base64 protobuf), not request.body")]
    RequestBody,
    /// `request.method` other than POST.
    #[error("gRPC calls are POST; request.method would be ignored")]
    RequestMethod,
    /// `request.contentType`, `cookies` or `expectBytes`.
    #[error(
        "request.contentType, cookies and expectBytes do not apply to gRPC (use request.headers for metadata)"
    )]
    RequestFields,
}

/// A shard, or its start instant, that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A shard count outside `1..=max`.
    #[error("shard count {count} must be in [1, {max}]")]
    Count {
        /// The count.
        count: u32,
        /// The largest count.
        max: u32,
    },
    /// An index not below the count.
    #[error("shard index {index} must be less than the shard count {count} (indices are 0-based)")]
    Index {
        /// The index.
        index: u32,
        /// The count.
        count: u32,
    },
    /// Not `INDEX/COUNT`.
    #[error("shard {input:?}: expected INDEX/COUNT with a 0-based index, e.g. 0/3")]
    Syntax {
        /// What was given.
        input: String,
    },
    /// `spec.parallelism` set to another count.
    #[error("spec.parallelism is {parallelism} but the shard is {index}/{count}")]
    Parallelism {
        /// `spec.parallelism`.
        parallelism: i32,
        /// The shard's index.
        index: u32,
        /// The shard's count.
        count: u32,
    },
    /// A start instant that is no RFC 3339 time.
    #[error("start instant {input:?}: {source} (expected RFC 3339, e.g. 2026-11-30T18:00:00Z)")]
    StartAt {
        /// What was given.
        input: String,
        /// Why.
        #[source]
        source: k8s_openapi::jiff::Error,
    },
    /// A start instant too far ahead.
    #[error("start instant is {}s ahead; at most {}s is allowed", ahead.as_secs(), max.as_secs())]
    TooFarAhead {
        /// How far ahead it is.
        ahead: Duration,
        /// The most allowed.
        max: Duration,
    },
    /// A start instant that passed too long ago.
    #[error("start instant passed {:.1}s ago; a shard starts at most {}s late", late.as_secs_f64(), max.as_secs())]
    TooLate {
        /// How long ago it passed.
        late: Duration,
        /// The most allowed.
        max: Duration,
    },
}

/// Why a time-series interval is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalError {
    /// Shorter than the minimum.
    #[error("{interval:?} is shorter than {min:?}")]
    TooShort {
        /// The interval.
        interval: Duration,
        /// The minimum.
        min: Duration,
    },
    /// Not whole milliseconds.
    #[error("{0:?} is not a whole number of milliseconds")]
    NotWholeMillis(Duration),
    /// Too many intervals in the run.
    #[error("{interval:?} cuts a {run:?} run into more than {max} intervals")]
    TooMany {
        /// The interval.
        interval: Duration,
        /// The run's length.
        run: Duration,
        /// The most intervals.
        max: u64,
    },
}

/// Options of the Kubernetes manifests of a sharded run that the API server would refuse, or
/// a test the manifests cannot carry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A quantity that is zero or negative.
    #[error("{what} {value:?} must be greater than 0")]
    NotPositive {
        /// `cpu` or `memory`.
        what: &'static str,
        /// The quantity.
        value: String,
    },
    /// A quantity that does not parse.
    #[error("{what}: {source}")]
    Quantity {
        /// `cpu` or `memory`.
        what: &'static str,
        /// Why.
        #[source]
        source: smi_types::quantity::QuantityError,
    },
    /// A namespace that is no DNS label.
    #[error(
        "namespace {0:?} must be a DNS label (lowercase alphanumerics and '-', at most 63 characters)"
    )]
    Namespace(String),
    /// An image pull policy Kubernetes does not know.
    #[error("image pull policy {0:?} must be Always, IfNotPresent or Never")]
    PullPolicy(String),
    /// `activeDeadlineSeconds` not above 0.
    #[error("activeDeadlineSeconds {0} must be greater than 0")]
    ActiveDeadline(i64),
    /// `backoffLimit` below 0.
    #[error("backoffLimit {0} must be at least 0")]
    BackoffLimit(i32),
    /// `ttlSecondsAfterFinished` below 0.
    #[error("ttlSecondsAfterFinished {0} must be at least 0")]
    Ttl(i32),
    /// An image reference with spaces or control characters.
    #[error("image {0:?} must not contain spaces or control characters")]
    Image(String),
    /// No image.
    #[error("an image is required (--image)")]
    NoImage,
    /// A test without `metadata.name`.
    #[error("the test needs metadata.name")]
    NoName,
    /// A Job name that is no DNS label.
    #[error(
        "job name {0:?} must be a DNS label (lowercase alphanumerics and '-', at most 63 characters); use --name"
    )]
    JobName(String),
    /// A ConfigMap name above 253 characters.
    #[error("ConfigMap name {0:?} is too long")]
    ConfigMapName(String),
    /// `request.bodyFrom` with both or neither reference.
    #[error("request.bodyFrom: set exactly one of configMapKeyRef and secretKeyRef")]
    BodyFromRefs,
    /// A `request.bodyFrom` key that is no ConfigMap/Secret key.
    #[error(
        "request.bodyFrom key {0:?} is not a valid ConfigMap/Secret key ([-._a-zA-Z0-9]+, at most 253 characters)"
    )]
    BodyFromKey(String),
    /// A `request.bodyFrom` object name that is empty or too long.
    #[error("request.bodyFrom name {0:?} must be a non-empty object name")]
    BodyFromName(String),
}

/// Short alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
