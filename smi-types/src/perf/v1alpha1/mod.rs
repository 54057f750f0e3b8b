//! `perf.smi-spec.io/v1alpha1`: [`PerformanceTest`] and [`PerformanceTestResult`].
//!
//! Wire names are camelCase. Every field that has a documented default is optional on the wire
//! and is *not* filled in on deserialization, so a manifest round-trips exactly as written; the
//! `effective_*` accessors on [`PerformanceTestSpec`] apply the defaults.
//!
//! ```
//! use smi_types::perf::v1alpha1::*;
//!
//! let yaml = r#"
//! apiVersion: perf.smi-spec.io/v1alpha1
//! kind: PerformanceTest
//! metadata: { name: checkout }
//! spec:
//!   endpoints: ["http://127.0.0.1:8080/"]
//!   loadModel: Open
//!   rps: 500
//!   duration: 1m30s
//! "#;
//! let test: PerformanceTest = serde_saphyr::from_str(yaml).unwrap();
//! assert_eq!(test.spec.effective_load_model(), LoadModel::Open);
//! assert_eq!(test.spec.effective_connections(), 1);
//! assert!(test.spec.validate().is_empty());
//! ```

//! # CRD bounds
//!
//! The API server estimates the worst-case cost of every CEL rule from the schema's bounds and
//! refuses a CRD whose rule exceeds 10⁷ or whose rules together exceed 10⁸. Everything a rule
//! walks is therefore bounded, generously (the types' [`PerformanceTestSpec::validate`] checks
//! the same bounds):
//!
//! | field | bound | why this number |
//! |---|---|---|
//! | `spec.endpoints` | 1–64 items ([`MAX_ENDPOINTS`]), each ≤ 2048 characters ([`MAX_ENDPOINT_LENGTH`]) | URL length browsers and proxies accept |
//! | `spec.thresholds` | ≤ 32 items ([`MAX_THRESHOLDS`]) | 10 metrics, each with max and/or min |
//! | `spec.thresholds[].max`/`min` | ≤ 64 characters ([`MAX_LIMIT_LENGTH`]) | `"250ms"`, `"0.01"` |
//! | `spec.request.headers` | ≤ 128 entries ([`MAX_HEADERS`]) | far above what a load test sends |
//! | `spec.clients` | ≤ 256 items ([`MAX_CLIENTS`]) | one per load generator |
//! | `spec.percentiles` | ≤ 32 items ([`MAX_PERCENTILES`]) | B.4 rule 6 |
//! | every GEP-2257 duration | ≤ 28 characters ([`MAX_DURATION_LENGTH`]) | the pattern's own maximum |
//! | `spec.clients[].share` | ≤ 4 characters (`"100%"`) or an integer | a percentage of 1–3 digits |
//! | `histogramRef.name`/`key` | ≤ 253 characters ([`MAX_HISTOGRAM_REF_LENGTH`]) | a DNS subdomain |
//!
//! A result keeps its merged latency histogram inline (`histogram`) or, when it is too large for
//! the object, in a ConfigMap or Secret ([`HistogramRef`], `histogramRef`); never both.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_core::{ObjectList, ObjectMeta};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// API group of the Performance Test API.
pub const GROUP: &str = "perf.smi-spec.io";
/// API version of this module.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` string of this module.
pub const API_VERSION: &str = "perf.smi-spec.io/v1alpha1";

/// The Gateway API GEP-2257 duration pattern.
pub const DURATION_PATTERN: &str = "^([0-9]{1,5}(h|m|s|ms)){1,4}$";
/// Largest `rps` accepted (B.4 rule 3 sanity cap).
pub const MAX_RPS: i64 = 10_000_000;
/// Largest `connections` accepted (B.4 rule 4).
pub const MAX_CONNECTIONS: i32 = 100_000;
/// Largest `streamsPerConnection` (HTTP/2 servers commonly allow 100–250 concurrent streams).
pub const MAX_STREAMS_PER_CONNECTION: i32 = 1000;
/// Largest number of lanes, `connections × streamsPerConnection`: each lane is a task with its
/// own buffers, so this bounds the engine's memory (about 100 MB at the cap).
pub const MAX_LANES: i64 = 100_000;
/// Largest `maxInFlight`.
pub const MAX_IN_FLIGHT: i32 = 10_000_000;
/// Largest `threads` (engine worker threads; each records into its own histograms).
pub const MAX_THREADS: i32 = 1024;
/// Largest `histogram.highestMicros`: one hour. Each recorder's histogram grows with the
/// logarithm of this range and 10^significantDigits.
pub const MAX_HISTOGRAM_HIGHEST_MICROS: i64 = 3_600_000_000;
/// Largest `spec.parallelism` (number of shards).
pub const MAX_PARALLELISM: i32 = 1000;
/// Largest number of `endpoints` (B.4 rule 5).
pub const MAX_ENDPOINTS: usize = 64;
/// Largest number of `percentiles` (B.4 rule 6).
pub const MAX_PERCENTILES: usize = 32;
/// Largest inline `request.body` in bytes (B.4 rule 8).
pub const MAX_INLINE_BODY: usize = 64 * 1024;
/// Most stages (`spec.steps`) of a ramped rate shape.
pub const MAX_STEPS: usize = 32;
/// Longest `endpoints[]` entry, in characters (a CEL rule matches every endpoint against a URL
/// regex; the API server needs the bound to estimate the rule's cost). 2048 is the URL length
/// browsers and most proxies accept.
pub const MAX_ENDPOINT_LENGTH: usize = 2048;
/// Largest number of `thresholds` (there are 10 metrics, each with a max and/or a min).
pub const MAX_THRESHOLDS: usize = 32;
/// Longest threshold limit (`max`/`min`), in characters: `"250ms"`, `"0.01"`, `"950.5"`.
pub const MAX_LIMIT_LENGTH: usize = 64;
/// Largest number of `request.headers` (CEL rules check every header name).
pub const MAX_HEADERS: usize = 128;
/// Largest number of `clients` (a CEL rule checks every client's share).
pub const MAX_CLIENTS: usize = 256;
/// Longest GEP-2257 duration: 4 groups of 5 digits and a 2-letter unit.
pub const MAX_DURATION_LENGTH: usize = 28;
/// Default percentiles reported when `spec.percentiles` is unset.
pub const DEFAULT_PERCENTILES: [f64; 6] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9];
/// Encoding name of [`EncodedHistogram::encoding`].
pub const HISTOGRAM_ENCODING: &str = "HdrHistogramV2Deflate";

// ---------------------------------------------------------------------------------------------
// Duration
// ---------------------------------------------------------------------------------------------

/// A duration in the Gateway API GEP-2257 form (`"30s"`, `"1m30s"`, `"250ms"`).
///
/// The raw string is kept as written so a manifest round-trips unchanged; an invalid string is
/// reported by [`PerformanceTestSpec::validate`] with its field path rather than failing
/// deserialization. Use [`Duration::parse`] to construct a checked value.
///
/// ```
/// use smi_types::perf::Duration;
/// let d = Duration::parse("1m30s").unwrap();
/// assert_eq!(d.to_std().unwrap(), std::time::Duration::from_secs(90));
/// assert!(Duration::parse("1.5s").is_err());
/// assert_eq!(Duration::from(std::time::Duration::from_millis(1500)).as_str(), "1s500ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(String);

/// Why a string is not a GEP-2257 duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason} (expected e.g. \"30s\", \"1m30s\", \"250ms\"; pattern {DURATION_PATTERN})"
)]
pub struct DurationError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Duration {
    /// Parses and checks a GEP-2257 duration string.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        parse_gep2257(s)?;
        Ok(Duration(s.to_owned()))
    }

    /// Wraps a string without checking it (builders use this; `validate` reports problems).
    pub fn new_unchecked(s: impl Into<String>) -> Self {
        Duration(s.into())
    }

    /// The string as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Converts to [`std::time::Duration`].
    pub fn to_std(&self) -> Result<std::time::Duration, DurationError> {
        parse_gep2257(&self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Default for Duration {
    /// `"0s"`.
    fn default() -> Self {
        Duration("0s".into())
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl From<std::time::Duration> for Duration {
    /// Formats with millisecond precision (sub-millisecond parts are truncated).
    fn from(d: std::time::Duration) -> Self {
        let mut ms = d.as_millis();
        if ms == 0 {
            return Duration("0s".into());
        }
        let mut out = String::new();
        let h = ms / 3_600_000;
        ms %= 3_600_000;
        let m = ms / 60_000;
        ms %= 60_000;
        let s = ms / 1000;
        ms %= 1000;
        // Hours beyond the 5-digit field are clamped; nobody runs an 11-year test.
        for (v, unit) in [(h.min(99_999), "h"), (m, "m"), (s, "s"), (ms, "ms")] {
            if v > 0 {
                out.push_str(&format!("{v}{unit}"));
            }
        }
        Duration(out)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": DURATION_PATTERN, "maxLength": MAX_DURATION_LENGTH })
    }
}

fn parse_gep2257(s: &str) -> Result<std::time::Duration, DurationError> {
    let err = |reason| DurationError {
        input: s.to_owned(),
        reason,
    };
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(err("empty"));
    }
    let (mut i, mut groups, mut total) = (0usize, 0usize, std::time::Duration::ZERO);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return Err(err("expected a number"));
        }
        if digits > 5 {
            return Err(err("a number has more than 5 digits"));
        }
        let n: u64 = s[start..i].parse().map_err(|_| err("bad number"))?;
        let unit = match (b.get(i), b.get(i + 1)) {
            (Some(b'm'), Some(b's')) => {
                i += 2;
                std::time::Duration::from_millis(n)
            }
            (Some(b'h'), _) => {
                i += 1;
                std::time::Duration::from_secs(n * 3600)
            }
            (Some(b'm'), _) => {
                i += 1;
                std::time::Duration::from_secs(n * 60)
            }
            (Some(b's'), _) => {
                i += 1;
                std::time::Duration::from_secs(n)
            }
            _ => return Err(err("expected a unit h, m, s or ms")),
        };
        total += unit;
        groups += 1;
        if groups > 4 {
            return Err(err("more than 4 number-unit groups"));
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

/// Wire protocol of the test traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// HTTP/1.1 (default).
    #[default]
    #[serde(rename = "HTTP")]
    Http,
    /// HTTP/2: h2c with prior knowledge over `http://`, ALPN `h2` over `https://`.
    #[serde(rename = "HTTP2")]
    Http2,
    /// gRPC (over HTTP/2).
    #[serde(rename = "GRPC")]
    Grpc,
    /// Raw TCP: send the payload, read back the expected number of bytes.
    #[serde(rename = "TCP")]
    Tcp,
    /// Raw UDP datagrams.
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// The wire name (`"HTTP2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Http2 => "HTTP2",
            Protocol::Grpc => "GRPC",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    /// Case-insensitive; accepts `http1`/`h2` aliases.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "HTTP" | "HTTP1" | "HTTP/1.1" | "H1" => Ok(Protocol::Http),
            "HTTP2" | "H2" | "HTTP/2" | "H2C" => Ok(Protocol::Http2),
            "GRPC" => Ok(Protocol::Grpc),
            "TCP" => Ok(Protocol::Tcp),
            "UDP" => Ok(Protocol::Udp),
            _ => Err(format!(
                "unknown protocol {s:?} (expected HTTP, HTTP2, GRPC, TCP or UDP)"
            )),
        }
    }
}

/// How load is applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum LoadModel {
    /// Fixed arrival schedule; latency timed from the intended send time.
    Open,
    /// N connections, each waiting for its response before the next request (default).
    #[default]
    Closed,
}

impl fmt::Display for LoadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadModel::Open => "Open",
            LoadModel::Closed => "Closed",
        })
    }
}

/// Shape of the request rate over time (k6 `ramping-arrival-rate` semantics for `Linear` and
/// `Step`: Open model only, the intended send times follow the schedule exactly and latency is
/// timed from them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RateShape {
    /// `rps` for the whole run (default).
    #[default]
    Constant,
    /// Linear ramps. Without `steps`: one stage from `rps` (default 0) to `rampTo` over
    /// `duration`. With `steps` (k6 stages): each step ramps from the previous step's rate
    /// (the first from `rps`, default 0) to its own `rps` over its `duration`.
    Linear,
    /// Piecewise constant: each of `steps` holds its `rps` for its `duration`.
    Step,
}

/// One stage of a `Linear` or `Step` rate shape (`spec.steps[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateStep {
    /// Rate of the stage (`Step`), or the rate reached at its end (`Linear`).
    #[schemars(range(min = 0, max = 10_000_000))]
    pub rps: i64,
    /// Length of the stage (GEP-2257, greater than 0).
    pub duration: Duration,
}

impl RateStep {
    /// A stage of `rps` for `duration` (GEP-2257, e.g. `"10s"`).
    pub fn new(rps: i64, duration: &str) -> Self {
        RateStep {
            rps,
            duration: Duration::new_unchecked(duration),
        }
    }
}

/// One stage of a ramped schedule, resolved ([`PerformanceTestSpec::rate_stages`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateStage {
    /// Rate at the start of the stage.
    pub from_rps: u64,
    /// Rate at its end (equal to `from_rps` for `Step`).
    pub to_rps: u64,
    /// Its length.
    pub duration: std::time::Duration,
}

/// Threshold metric names (B.4 rule 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThresholdMetric {
    /// Median latency; limit is a duration.
    LatencyP50,
    /// 90th percentile latency; limit is a duration.
    LatencyP90,
    /// 95th percentile latency; limit is a duration.
    LatencyP95,
    /// 99th percentile latency; limit is a duration.
    LatencyP99,
    /// 99.9th percentile latency; limit is a duration.
    #[serde(rename = "latencyP999")]
    LatencyP999,
    /// Mean latency; limit is a duration.
    LatencyMean,
    /// Maximum latency; limit is a duration.
    LatencyMax,
    /// Failed / total requests; limit in [0, 1].
    ErrorRate,
    /// Dropped (Open model) / scheduled requests; limit in [0, 1].
    DroppedRate,
    /// Achieved requests per second; limit is a non-negative number.
    Rps,
}

impl ThresholdMetric {
    /// Whether the limit is a GEP-2257 duration.
    pub fn is_latency(self) -> bool {
        self.latency_percentile().is_some()
            || matches!(
                self,
                ThresholdMetric::LatencyMean | ThresholdMetric::LatencyMax
            )
    }
    /// Whether the limit is a ratio in [0, 1].
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            ThresholdMetric::ErrorRate | ThresholdMetric::DroppedRate
        )
    }
    /// The percentile a `latencyPNN` metric refers to.
    pub fn latency_percentile(self) -> Option<f64> {
        match self {
            ThresholdMetric::LatencyP50 => Some(50.0),
            ThresholdMetric::LatencyP90 => Some(90.0),
            ThresholdMetric::LatencyP95 => Some(95.0),
            ThresholdMetric::LatencyP99 => Some(99.0),
            ThresholdMetric::LatencyP999 => Some(99.9),
            _ => None,
        }
    }
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdMetric::LatencyP50 => "latencyP50",
            ThresholdMetric::LatencyP90 => "latencyP90",
            ThresholdMetric::LatencyP95 => "latencyP95",
            ThresholdMetric::LatencyP99 => "latencyP99",
            ThresholdMetric::LatencyP999 => "latencyP999",
            ThresholdMetric::LatencyMean => "latencyMean",
            ThresholdMetric::LatencyMax => "latencyMax",
            ThresholdMetric::ErrorRate => "errorRate",
            ThresholdMetric::DroppedRate => "droppedRate",
            ThresholdMetric::Rps => "rps",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Spec
// ---------------------------------------------------------------------------------------------

const RULE_DURATION_XOR_REQUESTS: &str = "!(has(self.duration) && has(self.requests))";
const RULE_OPEN_RPS: &str = "!has(self.loadModel) || self.loadModel != 'Open' || (has(self.rps) && self.rps > 0) || (has(self.rateShape) && self.rateShape != 'Constant')";
const RULE_RAMP_OPEN: &str = "!has(self.rateShape) || self.rateShape == 'Constant' || (has(self.loadModel) && self.loadModel == 'Open')";
const RULE_STEP_STEPS: &str =
    "!has(self.rateShape) || self.rateShape != 'Step' || (has(self.steps) && size(self.steps) > 0)";
const RULE_OPEN_MAX_IN_FLIGHT: &str = "!has(self.loadModel) || self.loadModel != 'Open' || !has(self.maxInFlight) || self.maxInFlight >= (has(self.connections) ? self.connections : 1)";
const RULE_STREAMS: &str = "!has(self.streamsPerConnection) || self.streamsPerConnection <= 1 || (has(self.protocol) && (self.protocol == 'HTTP2' || self.protocol == 'GRPC'))";
const RULE_DURATION_POSITIVE: &str =
    "!has(self.duration) || duration(self.duration) > duration('0s')";
const RULE_WARMUP: &str = "!has(self.warmup) || has(self.requests) || duration(self.warmup) < duration(has(self.duration) ? self.duration : '30s')";
const RULE_TIMEOUT_LE_DURATION: &str = "!has(self.request) || !has(self.request.timeout) || has(self.requests) || duration(self.request.timeout) <= duration(has(self.duration) ? self.duration : '30s')";
const RULE_HTTP_ENDPOINTS: &str = "(has(self.protocol) && self.protocol != 'HTTP' && self.protocol != 'HTTP2') || self.endpoints.all(e, e.matches('^https?://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+)(:[0-9]{1,5})?([/?#].*)?$'))";
const RULE_GRPC_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'GRPC' || self.endpoints.all(e, e.matches('^((https?|grpc)://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+)(:[0-9]{1,5})?([/?#].*)?|(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5})$'))";
const RULE_TCP_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'TCP' || self.endpoints.all(e, e.matches('^tcp://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5}/?$'))";
const RULE_UDP_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'UDP' || self.endpoints.all(e, e.matches('^udp://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5}/?$'))";
const RULE_PERCENTILES: &str =
    "!has(self.percentiles) || self.percentiles.all(p, p > 0.0 && p <= 100.0)";
const RULE_PERCENTILES_UNIQUE: &str =
    "!has(self.percentiles) || self.percentiles.all(p, self.percentiles.exists_one(q, q == p))";
/// `validate()` rule 10 (shares): every client has one; all are percentages adding up to 100, or
/// all integers adding up to `rps`. A share's own form is [`RULE_CLIENT_SHARE_FORM`].
const RULE_CLIENT_SHARES: &str = "!has(self.clients) || size(self.clients) == 0 || (self.clients.all(c, has(c.share)) && (self.clients.all(c, type(c.share) == string) ? self.clients.map(c, int(c.share.replace('%', ''))).sum() == 100 : (self.clients.all(c, type(c.share) == int) && self.clients.map(c, int(c.share)).sum() == (has(self.rps) ? self.rps : 0))))";
/// A client's share: an integer (rps) or a percentage of 1 to 3 digits, at most `100%`.
const RULE_CLIENT_SHARE_FORM: &str = "!has(self.share) || type(self.share) == int || (self.share.matches('^[0-9]{1,3}%$') && int(self.share.replace('%', '')) <= 100)";
/// Longest percentage share (`100%`).
const MAX_SHARE_LENGTH: usize = 4;
const RULE_PARALLELISM_CONNECTIONS: &str =
    "!has(self.parallelism) || self.parallelism <= (has(self.connections) ? self.connections : 1)";
const RULE_PARALLELISM_RPS: &str =
    "!has(self.parallelism) || !has(self.rps) || self.rps == 0 || self.rps >= self.parallelism";
const RULE_PARALLELISM_REQUESTS: &str =
    "!has(self.parallelism) || !has(self.requests) || self.requests >= self.parallelism";

/// `spec` of a [`PerformanceTest`] (perf-api.md B.2).
///
/// Build one with the constructors and chained setters:
///
/// ```
/// use smi_types::perf::{LoadModel, PerformanceTestSpec};
/// let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/")
///     .load_model(LoadModel::Open)
///     .rps(1000)
///     .connections(20)
///     .duration("10s")
///     .warmup("1s");
/// assert!(spec.validate().is_empty());
/// assert_eq!(spec.effective_max_in_flight(), 200);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": RULE_DURATION_XOR_REQUESTS, "message": "set at most one of duration and requests" },
    { "rule": RULE_DURATION_POSITIVE, "message": "duration must be greater than 0" },
    { "rule": RULE_WARMUP, "message": "warmup must be less than duration" },
    { "rule": RULE_TIMEOUT_LE_DURATION, "message": "request.timeout must be at most duration" },
    { "rule": RULE_OPEN_RPS, "message": "the Open load model requires rps > 0" },
    { "rule": RULE_RAMP_OPEN, "message": "Linear and Step rate shapes need loadModel Open" },
    { "rule": RULE_STEP_STEPS, "message": "the Step rate shape needs steps" },
    { "rule": RULE_OPEN_MAX_IN_FLIGHT, "message": "maxInFlight must be at least connections" },
    { "rule": RULE_STREAMS, "message": "streamsPerConnection > 1 is only valid for HTTP2 and GRPC" },
    { "rule": RULE_HTTP_ENDPOINTS, "message": "HTTP and HTTP2 endpoints must be http:// or https:// URLs with a host" },
    { "rule": RULE_GRPC_ENDPOINTS, "message": "GRPC endpoints must be http://, https://, grpc:// URLs or host:port" },
    { "rule": RULE_TCP_ENDPOINTS, "message": "TCP endpoints must be tcp://host:port" },
    { "rule": RULE_UDP_ENDPOINTS, "message": "UDP endpoints must be udp://host:port" },
    { "rule": RULE_PERCENTILES, "message": "percentiles must be in (0, 100]" },
    { "rule": RULE_PERCENTILES_UNIQUE, "message": "percentiles must not repeat" },
    { "rule": RULE_CLIENT_SHARES, "message": "every client needs a share: all percentages adding up to 100%, or all integers adding up to rps" },
    { "rule": RULE_PARALLELISM_CONNECTIONS, "message": "connections must be at least parallelism (every shard needs one)" },
    { "rule": RULE_PARALLELISM_RPS, "message": "rps must be 0 or at least parallelism (every shard needs a share)" },
    { "rule": RULE_PARALLELISM_REQUESTS, "message": "requests must be at least parallelism (every shard needs one)" },
]))]
pub struct PerformanceTestSpec {
    /// SMP version this test claims (informational; default: the engine's version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smp_version: Option<String>,
    /// Name of the load generator plug-in (default `"builtin"`, which picks by protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_generator: Option<String>,
    /// Protocol (default `HTTP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Target URLs, used round robin. At least 1, at most 64, each at most 2048 characters.
    #[schemars(length(min = 1, max = MAX_ENDPOINTS), inner(length(max = MAX_ENDPOINT_LENGTH)))]
    pub endpoints: Vec<String>,
    /// How long load is applied (default `"30s"`); exclusive with `requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Exact number of requests to send; exclusive with `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub requests: Option<i64>,
    /// Traffic sent first and not recorded (default `"0s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Duration>,
    /// Load model (default `Closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_model: Option<LoadModel>,
    /// Requests per second. Open: required and > 0. Closed: 0 (default) = unlimited, > 0 = ceiling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10_000_000))]
    pub rps: Option<i64>,
    /// Rate shape (default `Constant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_shape: Option<RateShape>,
    /// Final rate of a `Linear` or `Step` shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10_000_000))]
    pub ramp_to: Option<i64>,
    /// Stages of a `Linear` or `Step` shape (at most 32). The run lasts their total duration
    /// (`duration`, when set, must equal it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_STEPS))]
    pub steps: Vec<RateStep>,
    /// Closed: number of workers. Open: connection pool size. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100_000))]
    pub connections: Option<i32>,
    /// Open: cap on outstanding requests (default 10 × connections); sends beyond it are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10_000_000))]
    pub max_in_flight: Option<i32>,
    /// Concurrent streams per connection, HTTP2/GRPC only (default 1, at most 1000;
    /// `connections × streamsPerConnection` at most 100 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub streams_per_connection: Option<i32>,
    /// Engine worker threads (default: number of CPUs, at most 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub threads: Option<i32>,
    /// Shape of each request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestSpec>,
    /// gRPC call to make (protocol `GRPC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcSpec>,
    /// TLS settings for `https://` endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
    /// Distributed mode: one entry per load generator (default: one client; at most 256).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_CLIENTS))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub clients: Vec<ClientSpec>,
    /// Scale-out: number of shards (engine processes, or pods of a Kubernetes Indexed Job) that
    /// together apply this load (default 1). Shard `i` of `N` runs its share of `rps`,
    /// `connections`, `requests` and `maxInFlight`; the shares sum exactly to the totals, the
    /// remainders going to the first shards. So `connections` (and `rps` when > 0, `requests`
    /// when set) must be at least `parallelism`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub parallelism: Option<i32>,
    /// Common start instant of all shards (RFC 3339, UTC). Each shard sleeps until it, so the
    /// shards' load starts together; the engine refuses an instant more than 1 h ahead or more
    /// than a few seconds past (unset: each shard starts when it is ready).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<Time>,
    /// Percentiles to report (default `[50, 75, 90, 95, 99, 99.9]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub percentiles: Option<Vec<f64>>,
    /// HdrHistogram settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<HistogramSpec>,
    /// Pass/fail thresholds (at most 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_THRESHOLDS))]
    pub thresholds: Vec<Threshold>,
    /// Service mesh under test (context only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<MeshSpec>,
    /// Plug-in passthrough options (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_options: Option<String>,
    /// Free labels copied to the result.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `spec.request`: shape of each request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "!(has(self.body) && has(self.bodyFrom))", "message": "set at most one of body and bodyFrom" },
    { "rule": "!has(self.headers) || self.headers.all(k, k.matches('^[-!#$%&\\'*+.^_`|~0-9A-Za-z]+$'))", "message": "header names must be RFC 9110 tokens" },
    { "rule": "!has(self.headers) || self.headers.all(k, !k.matches('^(?i)(host|content-length)$'))", "message": "Host and Content-Length are set by the engine" },
    { "rule": "!has(self.contentType) || !has(self.headers) || self.headers.all(k, !k.matches('^(?i)content-type$'))", "message": "set contentType or a Content-Type header, not both" },
    { "rule": "!has(self.timeout) || duration(self.timeout) > duration('0s')", "message": "timeout must be greater than 0" },
]))]
pub struct RequestSpec {
    /// HTTP method (default `GET`, or `POST` when a body is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Extra headers (at most 128).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = MAX_HEADERS))]
    pub headers: BTreeMap<String, String>,
    /// Cookies, joined into one `Cookie` header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies: BTreeMap<String, String>,
    /// Inline body (≤ 64 KiB). For TCP/UDP: the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub body: Option<String>,
    /// Body from a ConfigMap or Secret key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_from: Option<BodySource>,
    /// `Content-Type` of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Per-request timeout (default `"10s"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// TCP/UDP: bytes expected back per request (default: the payload length, i.e. an echo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub expect_bytes: Option<i64>,
}

/// A reference to a key of a ConfigMap or Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    /// Object name.
    pub name: String,
    /// Key inside the object.
    pub key: String,
}

/// `request.bodyFrom`: exactly one of the two references.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "has(self.configMapKeyRef) != has(self.secretKeyRef)", "message": "set exactly one of configMapKeyRef and secretKeyRef" },
]))]
pub struct BodySource {
    /// Body from a ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
    /// Body from a Secret key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
}

/// `spec.grpc`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrpcSpec {
    /// Fully qualified service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Method name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Request message (base64 protobuf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Call `grpc.health.v1.Health/Check` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<bool>,
}

/// `spec.tls`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsSpec {
    /// Accept any server certificate (testing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    /// Secret holding the CA bundle (`ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<String>,
    /// Secret holding a client certificate (`tls.crt`, `tls.key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_secret_ref: Option<String>,
    /// SNI / verification name (default: the endpoint host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

/// `spec.clients[]`: one load generator in distributed mode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": RULE_CLIENT_SHARE_FORM, "message": "share must be an integer rps or a percentage from 0% to 100%" },
]))]
pub struct ClientSpec {
    /// Unique name.
    pub name: String,
    /// Runs inside the cluster / mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
    /// Share of the load: a percentage string (`"25%"`, 1 to 3 digits, at most `100%`) or an
    /// integer rps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxLength" = MAX_SHARE_LENGTH))]
    pub share: Option<IntOrString>,
    /// Where the generator pod runs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
}

/// `spec.histogram`: HdrHistogram parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "(has(self.highestMicros) ? self.highestMicros : 60000000) >= 2 * (has(self.lowestMicros) ? self.lowestMicros : 1)", "message": "highestMicros must be at least 2 × lowestMicros" },
]))]
pub struct HistogramSpec {
    /// Lowest discernible value in µs (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub lowest_micros: Option<i64>,
    /// Highest trackable value in µs (default 60 000 000, at most 3 600 000 000: one hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 3_600_000_000_i64))]
    pub highest_micros: Option<i64>,
    /// Significant decimal digits, 1–5 (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub significant_digits: Option<i32>,
}

impl HistogramSpec {
    /// `(lowestMicros, highestMicros, significantDigits)` with defaults applied.
    pub fn effective(&self) -> (u64, u64, u8) {
        (
            self.lowest_micros.unwrap_or(1).max(1) as u64,
            self.highest_micros.unwrap_or(60_000_000).max(2) as u64,
            self.significant_digits.unwrap_or(3).clamp(1, 5) as u8,
        )
    }
}

/// `spec.thresholds[]`: one pass/fail criterion.
///
/// Limits are strings: latency limits in GEP-2257 form (`"250ms"`), ratios as decimals in [0, 1]
/// (`"0.01"`), `rps` as a decimal (`"950"`).
///
/// ```
/// use smi_types::perf::{Threshold, ThresholdMetric};
/// let t = Threshold::max(ThresholdMetric::LatencyP99, "250ms");
/// assert_eq!(t.metric.as_str(), "latencyP99");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "has(self.max) || has(self.min)", "message": "set max or min" },
    { "rule": "!self.metric.startsWith('latency') || ((!has(self.max) || self.max.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')) && (!has(self.min) || self.min.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')))", "message": "latency limits are durations such as 250ms" },
    { "rule": "!(self.metric == 'errorRate' || self.metric == 'droppedRate') || ((!has(self.max) || (self.max.matches('^(0(\\\\.[0-9]+)?|1(\\\\.0+)?)$'))) && (!has(self.min) || (self.min.matches('^(0(\\\\.[0-9]+)?|1(\\\\.0+)?)$'))))", "message": "rate limits are decimals in [0, 1]" },
    { "rule": "self.metric != 'rps' || ((!has(self.max) || self.max.matches('^[0-9]+(\\\\.[0-9]+)?$')) && (!has(self.min) || self.min.matches('^[0-9]+(\\\\.[0-9]+)?$')))", "message": "rps limits are non-negative numbers" },
]))]
pub struct Threshold {
    /// What is measured.
    pub metric: ThresholdMetric,
    /// Observed value must be at most this (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_LIMIT_LENGTH))]
    pub max: Option<String>,
    /// Observed value must be at least this (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_LIMIT_LENGTH))]
    pub min: Option<String>,
}

impl Threshold {
    /// `metric` ≤ `limit`.
    pub fn max(metric: ThresholdMetric, limit: impl Into<String>) -> Self {
        Threshold {
            metric,
            max: Some(limit.into()),
            min: None,
        }
    }
    /// `metric` ≥ `limit`.
    pub fn min(metric: ThresholdMetric, limit: impl Into<String>) -> Self {
        Threshold {
            metric,
            max: None,
            min: Some(limit.into()),
        }
    }
    /// Parses a limit into the metric's unit: µs for latency, a ratio or rps otherwise.
    pub fn parse_limit(&self, limit: &str) -> Result<f64, String> {
        if self.metric.is_latency() {
            Duration::new_unchecked(limit)
                .to_std()
                .map(|d| d.as_secs_f64() * 1e6)
                .map_err(|e| e.to_string())
        } else {
            let v: f64 = limit
                .parse()
                .map_err(|_| format!("{limit:?} is not a number"))?;
            if !v.is_finite() || v < 0.0 || (self.metric.is_ratio() && v > 1.0) {
                return Err(if self.metric.is_ratio() {
                    format!("{limit} is not in [0, 1]")
                } else {
                    format!("{limit} is negative")
                });
            }
            Ok(v)
        }
    }
}

/// `spec.mesh`: the service mesh under test (context only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeshSpec {
    /// SMP `ServiceMesh.Type` name, e.g. `LINKERD`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub mesh_type: Option<String>,
    /// Mesh version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether mTLS is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<bool>,
}

/// How long a run lasts: a time or an exact request count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunLength {
    /// Load for this long (after warm-up).
    Duration(std::time::Duration),
    /// Send exactly this many recorded requests.
    Requests(u64),
}

impl PerformanceTestSpec {
    /// A test of `protocol` against one endpoint; every other field unset (defaults apply).
    pub fn new(protocol: Protocol, endpoint: impl Into<String>) -> Self {
        PerformanceTestSpec {
            protocol: Some(protocol),
            endpoints: vec![endpoint.into()],
            ..Default::default()
        }
    }
    /// HTTP/1.1 test; `protocol` is left unset since `HTTP` is the default.
    pub fn http(endpoint: impl Into<String>) -> Self {
        PerformanceTestSpec {
            endpoints: vec![endpoint.into()],
            ..Default::default()
        }
    }
    /// HTTP/2 test (h2c for `http://`, ALPN for `https://`).
    pub fn http2(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Http2, endpoint)
    }
    /// gRPC test.
    pub fn grpc(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Grpc, endpoint)
    }
    /// TCP test against `tcp://host:port`.
    pub fn tcp(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Tcp, endpoint)
    }

    /// Adds an endpoint.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints.push(url.into());
        self
    }
    /// Sets `protocol`.
    pub fn protocol(mut self, p: Protocol) -> Self {
        self.protocol = Some(p);
        self
    }
    /// Sets `loadGenerator`.
    pub fn load_generator(mut self, name: impl Into<String>) -> Self {
        self.load_generator = Some(name.into());
        self
    }
    /// Sets `duration` (GEP-2257; checked by [`validate`](Self::validate)) and clears `requests`.
    pub fn duration(mut self, d: impl Into<String>) -> Self {
        self.duration = Some(Duration::new_unchecked(d));
        self.requests = None;
        self
    }
    /// Sets `requests` and clears `duration`.
    pub fn requests(mut self, n: i64) -> Self {
        self.requests = Some(n);
        self.duration = None;
        self
    }
    /// Sets `warmup`.
    pub fn warmup(mut self, d: impl Into<String>) -> Self {
        self.warmup = Some(Duration::new_unchecked(d));
        self
    }
    /// Sets `loadModel`.
    pub fn load_model(mut self, m: LoadModel) -> Self {
        self.load_model = Some(m);
        self
    }
    /// Sets `rps`.
    pub fn rps(mut self, rps: i64) -> Self {
        self.rps = Some(rps);
        self
    }
    /// Sets `connections`.
    pub fn connections(mut self, n: i32) -> Self {
        self.connections = Some(n);
        self
    }
    /// Sets `maxInFlight`.
    pub fn max_in_flight(mut self, n: i32) -> Self {
        self.max_in_flight = Some(n);
        self
    }
    /// Sets `streamsPerConnection`.
    pub fn streams_per_connection(mut self, n: i32) -> Self {
        self.streams_per_connection = Some(n);
        self
    }
    /// Sets `threads`.
    pub fn threads(mut self, n: i32) -> Self {
        self.threads = Some(n);
        self
    }
    /// Sets `request`.
    pub fn request(mut self, r: RequestSpec) -> Self {
        self.request = Some(r);
        self
    }
    /// Sets `percentiles`.
    pub fn percentiles(mut self, p: Vec<f64>) -> Self {
        self.percentiles = Some(p);
        self
    }
    /// Sets `histogram`.
    pub fn histogram(mut self, h: HistogramSpec) -> Self {
        self.histogram = Some(h);
        self
    }
    /// Adds a threshold.
    pub fn threshold(mut self, t: Threshold) -> Self {
        self.thresholds.push(t);
        self
    }

    /// `protocol` with its default.
    pub fn effective_protocol(&self) -> Protocol {
        self.protocol.unwrap_or_default()
    }
    /// `loadModel` with its default.
    pub fn effective_load_model(&self) -> LoadModel {
        self.load_model.unwrap_or_default()
    }
    /// `loadGenerator` with its default `"builtin"`.
    pub fn effective_load_generator(&self) -> &str {
        self.load_generator.as_deref().unwrap_or("builtin")
    }
    /// `requests`, else `duration` (default 30 s). An invalid duration falls back to 30 s; call
    /// [`validate`](Self::validate) first.
    pub fn run_length(&self) -> RunLength {
        match (self.requests, &self.duration) {
            (Some(n), _) => RunLength::Requests(n.max(0) as u64),
            (None, None) if !self.steps.is_empty() => {
                RunLength::Duration(self.steps_duration().unwrap_or_default())
            }
            (None, Some(d)) => {
                RunLength::Duration(d.to_std().unwrap_or(std::time::Duration::from_secs(30)))
            }
            (None, None) => RunLength::Duration(std::time::Duration::from_secs(30)),
        }
    }
    /// `warmup` (default 0).
    pub fn effective_warmup(&self) -> std::time::Duration {
        self.warmup
            .as_ref()
            .and_then(|d| d.to_std().ok())
            .unwrap_or_default()
    }
    /// `request.timeout` (default 10 s).
    pub fn effective_timeout(&self) -> std::time::Duration {
        self.request
            .as_ref()
            .and_then(|r| r.timeout.as_ref())
            .and_then(|d| d.to_std().ok())
            .unwrap_or(std::time::Duration::from_secs(10))
    }
    /// `rps` (default 0 = unlimited for Closed).
    pub fn effective_rps(&self) -> u64 {
        self.rps.unwrap_or(0).max(0) as u64
    }
    /// Whether the rate shape is `Linear` or `Step` (a ramped arrival rate).
    pub fn is_ramped(&self) -> bool {
        matches!(self.rate_shape, Some(RateShape::Linear | RateShape::Step))
    }
    /// Total duration of `steps` (`None` when a step duration does not parse or it overflows).
    pub fn steps_duration(&self) -> Option<std::time::Duration> {
        self.steps
            .iter()
            .try_fold(std::time::Duration::ZERO, |acc, s| {
                acc.checked_add(s.duration.to_std().ok()?)
            })
    }
    /// The stages of a ramped rate shape, in order (`None` for `Constant`): each ramps linearly
    /// from `from_rps` to `to_rps` over `duration` (`Step` stages have both equal). Assumes a
    /// valid spec (unparsable durations count as 0).
    ///
    /// ```
    /// use smi_types::perf::{LoadModel, PerformanceTestSpec, RateShape, RateStep};
    /// let mut spec = PerformanceTestSpec::http("http://127.0.0.1/").load_model(LoadModel::Open).rps(100).duration("10s");
    /// assert_eq!(spec.rate_stages(), None);
    /// spec.rate_shape = Some(RateShape::Linear);
    /// spec.steps = vec![RateStep::new(300, "5s"), RateStep::new(0, "5s")];
    /// let s = spec.rate_stages().unwrap();
    /// assert_eq!((s[0].from_rps, s[0].to_rps, s[1].from_rps, s[1].to_rps), (100, 300, 300, 0));
    /// ```
    pub fn rate_stages(&self) -> Option<Vec<RateStage>> {
        let d = |x: &Duration| x.to_std().unwrap_or_default();
        let rate = |r: i64| r.max(0) as u64;
        match self.rate_shape {
            Some(RateShape::Linear) if self.steps.is_empty() => Some(vec![RateStage {
                from_rps: self.effective_rps(),
                to_rps: rate(self.ramp_to.unwrap_or(0)),
                duration: match self.run_length() {
                    RunLength::Duration(x) => x,
                    RunLength::Requests(_) => std::time::Duration::ZERO,
                },
            }]),
            Some(RateShape::Linear) => {
                let mut from = self.effective_rps();
                Some(
                    self.steps
                        .iter()
                        .map(|s| {
                            let st = RateStage {
                                from_rps: from,
                                to_rps: rate(s.rps),
                                duration: d(&s.duration),
                            };
                            from = rate(s.rps);
                            st
                        })
                        .collect(),
                )
            }
            Some(RateShape::Step) => Some(
                self.steps
                    .iter()
                    .map(|s| RateStage {
                        from_rps: rate(s.rps),
                        to_rps: rate(s.rps),
                        duration: d(&s.duration),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    fn check_rate_shape(&self, v: &mut Validator) {
        if !self.is_ramped() {
            if !self.steps.is_empty() {
                v.err(
                    "spec.steps",
                    "only the Linear and Step rate shapes take steps",
                );
            }
            if self.ramp_to.is_some() {
                v.err("spec.rampTo", "only the Linear rate shape takes rampTo");
            }
            return;
        }
        let shape = self.rate_shape.unwrap_or_default();
        if self.effective_load_model() != LoadModel::Open {
            v.err(
                "spec.rateShape",
                format!("the {shape:?} rate shape needs loadModel Open (an arrival-rate schedule)"),
            );
        }
        if self.requests.is_some() {
            v.err(
                "spec.requests",
                "a ramped rate shape runs for its schedule's duration; set duration or steps, not requests",
            );
        }
        if self
            .warmup
            .as_ref()
            .is_some_and(|w| w.to_std().map_or(true, |w| !w.is_zero()))
        {
            v.err(
                "spec.warmup",
                "not supported with a ramped rate shape: every stage is recorded (make the first step the warm-up and read the per-stage results)",
            );
        }
        if self.steps.len() > MAX_STEPS {
            v.err("spec.steps", format!("at most {MAX_STEPS} steps"));
        }
        for (i, st) in self.steps.iter().enumerate() {
            if !(0..=MAX_RPS).contains(&st.rps) {
                v.err(
                    format!("spec.steps[{i}].rps"),
                    format!("must be in [0, {MAX_RPS}]"),
                );
            }
            match st.duration.to_std() {
                Ok(x) if x.is_zero() => v.err(
                    format!("spec.steps[{i}].duration"),
                    "must be greater than 0",
                ),
                Ok(_) => {}
                Err(e) => v.err(format!("spec.steps[{i}].duration"), e.to_string()),
            }
        }
        match shape {
            RateShape::Linear => match (self.ramp_to.is_some(), self.steps.is_empty()) {
                (true, false) => v.err(
                    "spec.rampTo",
                    "set rampTo (one ramp over duration) or steps (k6 stages), not both",
                ),
                (false, true) => v.err(
                    "spec.rampTo",
                    "the Linear rate shape needs rampTo (one ramp from rps over duration) or steps",
                ),
                _ => {}
            },
            RateShape::Step => {
                if self.steps.is_empty() {
                    v.err("spec.steps", "the Step rate shape needs steps");
                }
                if self.ramp_to.is_some() {
                    v.err(
                        "spec.rampTo",
                        "the Step rate shape takes its rates from steps, not rampTo",
                    );
                }
                if self.rps.is_some() {
                    v.err(
                        "spec.rps",
                        "the Step rate shape takes its rates from steps; leave rps unset",
                    );
                }
            }
            RateShape::Constant => {}
        }
        if !self.steps.is_empty()
            && let (Some(d), Some(total)) = (&self.duration, self.steps_duration())
            && d.to_std().is_ok_and(|d| d != total)
        {
            v.err(
                "spec.duration",
                format!("must equal the steps' total duration ({total:?}) or be unset"),
            );
        }
        // Sharded: every shard needs a share of each rate that is not 0.
        if let Some(p) = self.parallelism.filter(|&p| p > 1).map(i64::from) {
            for (i, st) in self.steps.iter().enumerate() {
                if st.rps > 0 && st.rps < p {
                    v.err(
                        format!("spec.steps[{i}].rps"),
                        "must be 0 or at least parallelism (every shard needs a share)",
                    );
                }
            }
            if self.ramp_to.is_some_and(|r| r > 0 && r < p) {
                v.err(
                    "spec.rampTo",
                    "must be 0 or at least parallelism (every shard needs a share)",
                );
            }
        }
        if let Some(stages) = self.rate_stages()
            && stages.iter().all(|s| s.from_rps == 0 && s.to_rps == 0)
        {
            v.err(
                "spec.rateShape",
                "the schedule sends nothing: every rate is 0",
            );
        }
    }
    /// `connections` (default 1).
    pub fn effective_connections(&self) -> u32 {
        self.connections.unwrap_or(1).max(1) as u32
    }
    /// `maxInFlight` (default 10 × connections).
    pub fn effective_max_in_flight(&self) -> u32 {
        self.max_in_flight
            .map(|n| n.max(1) as u32)
            .unwrap_or_else(|| self.effective_connections().saturating_mul(10))
    }
    /// `streamsPerConnection` (default 1).
    pub fn effective_streams_per_connection(&self) -> u32 {
        self.streams_per_connection.unwrap_or(1).max(1) as u32
    }
    /// `threads`; `None` means "number of CPUs".
    pub fn effective_threads(&self) -> Option<u32> {
        self.threads.map(|n| n.max(1) as u32)
    }
    /// `request.method` (default `GET`, or `POST` when a body is set).
    pub fn effective_method(&self) -> String {
        let r = self.request.as_ref();
        match r.and_then(|r| r.method.as_deref()) {
            Some(m) => m.to_ascii_uppercase(),
            None if r.is_some_and(|r| r.body.is_some() || r.body_from.is_some()) => "POST".into(),
            None => "GET".into(),
        }
    }
    /// `percentiles` sorted and de-duplicated (default `[50, 75, 90, 95, 99, 99.9]`).
    pub fn effective_percentiles(&self) -> Vec<f64> {
        let mut p = self
            .percentiles
            .clone()
            .unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec());
        p.retain(|v| *v > 0.0 && *v <= 100.0);
        p.sort_by(|a, b| a.total_cmp(b));
        p.dedup();
        p
    }
    /// `(lowestMicros, highestMicros, significantDigits)` with defaults `(1, 60 000 000, 3)`.
    pub fn effective_histogram(&self) -> (u64, u64, u8) {
        self.histogram.clone().unwrap_or_default().effective()
    }

    /// Checks every B.4 rule (1–11) and returns the errors, each with its JSON field path.
    /// An empty vector means the spec is valid. Rule 12 (immutability) needs the old object
    /// and is enforced by the CRD's transition rule.
    ///
    /// ```
    /// use smi_types::perf::{LoadModel, PerformanceTestSpec};
    /// let errors = PerformanceTestSpec::http("ftp://x").load_model(LoadModel::Open).validate();
    /// let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    /// assert_eq!(paths, ["spec.rps", "spec.endpoints[0]"]);
    /// ```
    pub fn validate(&self) -> Vec<SpecError> {
        let mut v = Validator::default();
        self.check(&mut v);
        v.errors
    }

    /// Non-fatal findings (e.g. a body with GET).
    ///
    /// ```
    /// use smi_types::perf::{PerformanceTestSpec, RequestSpec};
    /// let spec = PerformanceTestSpec::http("http://127.0.0.1/").request(RequestSpec {
    ///     method: Some("GET".into()),
    ///     body: Some("x".into()),
    ///     ..Default::default()
    /// });
    /// assert!(spec.validate().is_empty());
    /// assert_eq!(spec.warnings()[0].path, "spec.request.body");
    /// ```
    pub fn warnings(&self) -> Vec<SpecError> {
        let mut v = Validator::default();
        self.check(&mut v);
        v.warnings
    }

    fn check(&self, v: &mut Validator) {
        // Rule 1: duration / requests.
        let mut duration = Some(std::time::Duration::from_secs(30));
        if let Some(d) = &self.duration {
            match d.to_std() {
                Ok(x) if x.is_zero() => v.err("spec.duration", "must be greater than 0"),
                Ok(x) => duration = Some(x),
                Err(e) => {
                    duration = None;
                    v.err("spec.duration", e.to_string())
                }
            }
        }
        if self.duration.is_none()
            && !self.steps.is_empty()
            && let Some(total) = self.steps_duration()
        {
            duration = Some(total);
        }
        if self.duration.is_some() && self.requests.is_some() {
            v.err("spec.requests", "set exactly one of duration and requests");
        }
        if let Some(n) = self.requests {
            duration = None;
            if n <= 0 {
                v.err("spec.requests", "must be greater than 0");
            }
        }
        // Rule 2: warmup and timeout.
        if let Some(w) = &self.warmup {
            match w.to_std() {
                Ok(w) => {
                    if let Some(d) = duration
                        && w >= d
                    {
                        v.err("spec.warmup", format!("must be less than duration ({d:?})"));
                    }
                }
                Err(e) => v.err("spec.warmup", e.to_string()),
            }
        }
        if let Some(t) = self.request.as_ref().and_then(|r| r.timeout.as_ref()) {
            match t.to_std() {
                Ok(t) if t.is_zero() => v.err("spec.request.timeout", "must be greater than 0"),
                Ok(t) => {
                    if let Some(d) = duration
                        && t > d
                    {
                        v.err(
                            "spec.request.timeout",
                            format!("must be at most duration ({d:?})"),
                        );
                    }
                }
                Err(e) => v.err("spec.request.timeout", e.to_string()),
            }
        }
        // Rule 3: load model and rate.
        let model = self.effective_load_model();
        match self.rps {
            Some(r) if r < 0 => v.err("spec.rps", "must be at least 0"),
            Some(r) if r > MAX_RPS => v.err("spec.rps", format!("must be at most {MAX_RPS}")),
            _ => {}
        }
        if model == LoadModel::Open {
            if self.rps.unwrap_or(0) <= 0 && !self.is_ramped() {
                v.err("spec.rps", "the Open load model requires rps > 0");
            }
            if let Some(m) = self.max_in_flight
                && m < self.connections.unwrap_or(1)
            {
                v.err("spec.maxInFlight", "must be at least connections");
            }
        }
        if let Some(r) = self.ramp_to
            && !(0..=MAX_RPS).contains(&r)
        {
            v.err("spec.rampTo", format!("must be in [0, {MAX_RPS}]"));
        }
        // Rule 4: connections, threads, streams.
        if let Some(c) = self.connections
            && !(1..=MAX_CONNECTIONS).contains(&c)
        {
            v.err(
                "spec.connections",
                format!("must be in [1, {MAX_CONNECTIONS}]"),
            );
        }
        if let Some(m) = self.max_in_flight
            && !(1..=MAX_IN_FLIGHT).contains(&m)
        {
            v.err(
                "spec.maxInFlight",
                format!("must be in [1, {MAX_IN_FLIGHT}]"),
            );
        }
        if let Some(t) = self.threads
            && !(1..=MAX_THREADS).contains(&t)
        {
            v.err("spec.threads", format!("must be in [1, {MAX_THREADS}]"));
        }
        let protocol = self.effective_protocol();
        if let Some(s) = self.streams_per_connection {
            if !(1..=MAX_STREAMS_PER_CONNECTION).contains(&s) {
                v.err(
                    "spec.streamsPerConnection",
                    format!("must be in [1, {MAX_STREAMS_PER_CONNECTION}]"),
                );
            } else if i64::from(s) * i64::from(self.connections.unwrap_or(1)) > MAX_LANES {
                v.err(
                    "spec.streamsPerConnection",
                    format!("connections × streamsPerConnection must be at most {MAX_LANES}"),
                );
            } else if s > 1 && !matches!(protocol, Protocol::Http2 | Protocol::Grpc) {
                v.err(
                    "spec.streamsPerConnection",
                    format!("values above 1 need HTTP2 or GRPC, not {protocol}"),
                );
            }
        }
        // Rule 5: endpoints.
        if self.endpoints.is_empty() {
            v.err("spec.endpoints", "at least one endpoint is required");
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            v.err(
                "spec.endpoints",
                format!("at most {MAX_ENDPOINTS} endpoints"),
            );
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if e.chars().count() > MAX_ENDPOINT_LENGTH {
                v.err(
                    format!("spec.endpoints[{i}]"),
                    format!("longer than {MAX_ENDPOINT_LENGTH} characters"),
                );
            } else if let Err(msg) = Endpoint::parse_for(protocol, e) {
                v.err(format!("spec.endpoints[{i}]"), msg);
            }
        }
        // Rule 6: percentiles.
        if let Some(ps) = &self.percentiles {
            if ps.len() > MAX_PERCENTILES {
                v.err(
                    "spec.percentiles",
                    format!("at most {MAX_PERCENTILES} entries"),
                );
            }
            for (i, p) in ps.iter().enumerate() {
                if !(p.is_finite() && *p > 0.0 && *p <= 100.0) {
                    v.err(format!("spec.percentiles[{i}]"), "must be in (0, 100]");
                } else if ps[..i].contains(p) {
                    v.err(
                        format!("spec.percentiles[{i}]"),
                        format!("duplicate percentile {p}"),
                    );
                }
            }
        }
        // Rule 7: histogram.
        if let Some(h) = &self.histogram {
            if let Some(d) = h.significant_digits
                && !(1..=5).contains(&d)
            {
                v.err("spec.histogram.significantDigits", "must be from 1 to 5");
            }
            if let Some(l) = h.lowest_micros
                && l < 1
            {
                v.err("spec.histogram.lowestMicros", "must be at least 1");
            }
            let lowest = h.lowest_micros.unwrap_or(1).max(1);
            let highest = h.highest_micros.unwrap_or(60_000_000);
            if highest > MAX_HISTOGRAM_HIGHEST_MICROS {
                v.err(
                    "spec.histogram.highestMicros",
                    format!("must be at most {MAX_HISTOGRAM_HIGHEST_MICROS} (one hour)"),
                );
            }
            if highest < lowest.saturating_mul(2) {
                v.err(
                    "spec.histogram.highestMicros",
                    "must be at least 2 × lowestMicros",
                );
            }
        }
        // Rule 8: request shape.
        if let Some(r) = &self.request {
            if r.headers.len() > MAX_HEADERS {
                v.err(
                    "spec.request.headers",
                    format!("at most {MAX_HEADERS} headers"),
                );
            }
            for name in r.headers.keys() {
                let path = format!("spec.request.headers[{name:?}]");
                if !is_token(name) {
                    v.err(path, "header name is not an RFC 9110 token");
                } else if name.eq_ignore_ascii_case("host")
                    || name.eq_ignore_ascii_case("content-length")
                {
                    v.err(path, "Host and Content-Length are set by the engine");
                } else if name.eq_ignore_ascii_case("content-type") && r.content_type.is_some() {
                    v.err(path, "set contentType or a Content-Type header, not both");
                }
            }
            if r.body.is_some() && r.body_from.is_some() {
                v.err(
                    "spec.request.bodyFrom",
                    "set at most one of body and bodyFrom",
                );
            }
            if let Some(b) = &r.body {
                if b.len() > MAX_INLINE_BODY {
                    v.err(
                        "spec.request.body",
                        "inline body is larger than 64 KiB; use bodyFrom",
                    );
                }
                let m = self.effective_method();
                if m == "GET" || m == "HEAD" {
                    v.warn(
                        "spec.request.body",
                        format!("a body with {m} is unusual and may be ignored by the server"),
                    );
                }
            }
            if let Some(bf) = &r.body_from
                && bf.config_map_key_ref.is_some() == bf.secret_key_ref.is_some()
            {
                v.err(
                    "spec.request.bodyFrom",
                    "set exactly one of configMapKeyRef and secretKeyRef",
                );
            }
            if let Some(m) = &r.method
                && (m.is_empty() || !is_token(m))
            {
                v.err("spec.request.method", "method is not an RFC 9110 token");
            }
            if let Some(n) = r.expect_bytes
                && n < 0
            {
                v.err("spec.request.expectBytes", "must be at least 0");
            }
        }
        // Rule 9: protocol is an enum (serde rejects unknown names); plug-in support is checked
        // by the engine's registry.
        self.check_rate_shape(v);
        // Rule 10: clients.
        if self.clients.len() > MAX_CLIENTS {
            v.err("spec.clients", format!("at most {MAX_CLIENTS} clients"));
        }
        let mut percent_sum = 0i64;
        let (mut n_percent, mut n_rps, mut rps_sum) = (0usize, 0usize, 0i64);
        for (i, c) in self.clients.iter().enumerate() {
            if self.clients[..i].iter().any(|o| o.name == c.name) {
                v.err(
                    format!("spec.clients[{i}].name"),
                    format!("duplicate client name {:?}", c.name),
                );
            }
            match &c.share {
                Some(IntOrString::Int(n)) => {
                    n_rps += 1;
                    rps_sum += i64::from(*n);
                }
                // as the CRD's rule reads it: 1 to 3 digits and `%` (no sign, no spaces)
                Some(IntOrString::String(s)) => match s
                    .strip_suffix('%')
                    .filter(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|p| p.parse::<i64>().ok())
                {
                    Some(p) if (0..=100).contains(&p) => {
                        n_percent += 1;
                        percent_sum += p;
                    }
                    _ => v.err(
                        format!("spec.clients[{i}].share"),
                        format!("{s:?} is not a percentage like \"25%\""),
                    ),
                },
                None => {}
            }
        }
        if !self.clients.is_empty() {
            let n = self.clients.len();
            if n_percent == n && percent_sum != 100 {
                v.err(
                    "spec.clients",
                    format!("shares add up to {percent_sum}%, not 100%"),
                );
            } else if n_rps == n && rps_sum != self.rps.unwrap_or(0) {
                v.err(
                    "spec.clients",
                    format!(
                        "shares add up to {rps_sum} rps, not spec.rps ({})",
                        self.rps.unwrap_or(0)
                    ),
                );
            } else if n_percent + n_rps != n || (n_percent > 0 && n_rps > 0) {
                v.err(
                    "spec.clients",
                    "every client needs a share, either all percentages or all rps",
                );
            }
        }
        // Scale-out (issue 6): every shard needs at least one connection, rps and request.
        if let Some(n) = self.parallelism {
            if !(1..=MAX_PARALLELISM).contains(&n) {
                v.err(
                    "spec.parallelism",
                    format!("must be in [1, {MAX_PARALLELISM}]"),
                );
            } else {
                if n > self.connections.unwrap_or(1) {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need connections >= {n} (every shard needs one)"),
                    );
                }
                if let Some(r) = self.rps
                    && r > 0
                    && r < i64::from(n)
                {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need rps 0 or >= {n} (every shard needs a share)"),
                    );
                }
                if let Some(r) = self.requests
                    && r > 0
                    && r < i64::from(n)
                {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need requests >= {n} (every shard needs one)"),
                    );
                }
            }
        }
        // Rule 11: thresholds.
        if self.thresholds.len() > MAX_THRESHOLDS {
            v.err(
                "spec.thresholds",
                format!("at most {MAX_THRESHOLDS} thresholds"),
            );
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.max.is_none() && t.min.is_none() {
                v.err(format!("spec.thresholds[{i}]"), "set max or min");
            }
            for (field, limit) in [("max", &t.max), ("min", &t.min)] {
                if let Some(l) = limit {
                    if l.chars().count() > MAX_LIMIT_LENGTH {
                        v.err(
                            format!("spec.thresholds[{i}].{field}"),
                            format!("longer than {MAX_LIMIT_LENGTH} characters"),
                        );
                    } else if let Err(e) = t.parse_limit(l) {
                        v.err(format!("spec.thresholds[{i}].{field}"), e);
                    }
                }
            }
        }
    }
}

/// One validation finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// JSON path of the offending field, e.g. `spec.endpoints[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SpecError {}

#[derive(Default)]
struct Validator {
    errors: Vec<SpecError>,
    warnings: Vec<SpecError>,
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(SpecError {
            path: path.into(),
            message: message.into(),
        });
    }
    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(SpecError {
            path: path.into(),
            message: message.into(),
        });
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A parsed endpoint: scheme, host, port and the path-and-query (B.4 rule 5).
///
/// ```
/// use smi_types::perf::{Endpoint, Protocol};
/// let e = Endpoint::parse_for(Protocol::Http, "http://[::1]:8080/a?b").unwrap();
/// assert_eq!((e.scheme.as_str(), e.host.as_str(), e.port, e.path.as_str()), ("http", "::1", Some(8080), "/a?b"));
/// assert!(Endpoint::parse_for(Protocol::Tcp, "tcp://127.0.0.1").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Lower-case scheme (`http`, `https`, `grpc`, `tcp`, `udp`; empty for a bare `host:port`).
    pub scheme: String,
    /// Host without IPv6 brackets.
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
    /// Path and query (`/` when empty).
    pub path: String,
}

impl Endpoint {
    /// Parses `url` and checks the scheme is allowed for `protocol`.
    pub fn parse_for(protocol: Protocol, url: &str) -> Result<Endpoint, String> {
        let e = Endpoint::parse(url)?;
        let allowed: &[&str] = match protocol {
            Protocol::Http | Protocol::Http2 => &["http", "https"],
            Protocol::Grpc => &["http", "https", "grpc", ""],
            Protocol::Tcp => &["tcp"],
            Protocol::Udp => &["udp"],
        };
        if !allowed.contains(&e.scheme.as_str()) {
            return Err(if e.scheme.is_empty() {
                format!("{url:?} has no scheme; {protocol} needs one of {allowed:?}")
            } else {
                format!(
                    "scheme {:?} is not allowed for {protocol} (allowed: {allowed:?})",
                    e.scheme
                )
            });
        }
        if matches!(protocol, Protocol::Tcp | Protocol::Udp | Protocol::Grpc)
            && e.port.is_none()
            && (e.scheme == "tcp" || e.scheme == "udp" || e.scheme.is_empty())
        {
            return Err(format!("{url:?} needs a port"));
        }
        Ok(e)
    }

    /// Parses `scheme://host[:port][/path]` or a bare `host:port`.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = match url.find("://") {
            Some(i) => {
                let s = &url[..i];
                if s.is_empty()
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                    || !s.as_bytes()[0].is_ascii_alphabetic()
                {
                    return Err(format!("{url:?} has an invalid scheme"));
                }
                (s.to_ascii_lowercase(), &url[i + 3..])
            }
            None => (String::new(), url),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(format!("{url:?}: credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let close = r
                .find(']')
                .ok_or_else(|| format!("{url:?}: unclosed '['"))?;
            let host = &r[..close];
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err(format!("{url:?}: invalid IPv6 address"));
            }
            let after = &r[close + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("{url:?}: junk after ']'"))?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{url:?} has an empty host"));
        }
        if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b == b':' && !authority.starts_with('['))
        {
            return Err(format!("{url:?} has an invalid host"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) && !p.is_empty() => Some(n as u16),
                _ => return Err(format!("{url:?}: port {p:?} is not in 1–65535")),
            },
        };
        if scheme.is_empty() && port.is_none() {
            return Err(format!("{url:?} is not an absolute URL"));
        }
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        };
        Ok(Endpoint {
            scheme,
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The port, or the scheme's default (80 for http, 443 for https/grpc).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.scheme.as_str() {
            "https" => 443,
            "grpc" => 443,
            _ => 80,
        })
    }

    /// `host:port`, bracketing IPv6 hosts.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port_or_default())
        } else {
            format!("{}:{}", self.host, self.port_or_default())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// Lifecycle phase of a [`PerformanceTest`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    /// Not started (the spec may still change).
    #[default]
    Pending,
    /// Generators are being set up.
    Initializing,
    /// Load is running.
    Running,
    /// Finished; see `resultRef`.
    Succeeded,
    /// Finished with an error (see `message`).
    Failed,
    /// Stopped before the end.
    Aborted,
}

/// `status` of a [`PerformanceTest`] (perf-api.md B.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceTestStatus {
    /// Current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// `Accepted`, `Running`, `Completed`, `ThresholdsMet`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When load started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the run finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Name of the [`PerformanceTestResult`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_ref: Option<String>,
    /// Achieved requests per second, decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_rps: Option<String>,
    /// Median latency in µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_micros: Option<i64>,
    /// 99th percentile latency in µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_micros: Option<i64>,
    /// Failed / total, decimal string (`"0.002"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<String>,
    /// Human-readable detail for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------------------------

fn object_meta_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object" })
}

fn api_version_default() -> String {
    API_VERSION.to_owned()
}

fn pt_kind_default() -> String {
    PerformanceTest::KIND.to_owned()
}

fn ptr_kind_default() -> String {
    PerformanceTestResult::KIND.to_owned()
}

/// A performance test to run (`perf.smi-spec.io/v1alpha1`, kind `PerformanceTest`, short name `pt`).
///
/// ```
/// use kube_core::Resource;
/// use smi_types::perf::{PerformanceTest, PerformanceTestSpec};
/// let t = PerformanceTest::new("smoke", PerformanceTestSpec::http("http://127.0.0.1:8080/").rps(1000).duration("10s"));
/// assert_eq!(PerformanceTest::plural(&()), "performancetests");
/// assert_eq!(t.metadata.name.as_deref(), Some("smoke"));
/// let json = serde_json::to_value(&t).unwrap();
/// assert_eq!(json["spec"]["rps"], 1000);
/// assert!(json["spec"].get("loadModel").is_none()); // defaults are not written
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "!has(oldSelf.status) || !has(oldSelf.status.phase) || oldSelf.status.phase == 'Pending' || self.spec == oldSelf.spec", "message": "spec is immutable once the test has left the Pending phase" },
]))]
pub struct PerformanceTest {
    /// `perf.smi-spec.io/v1alpha1`.
    #[serde(default = "api_version_default")]
    pub api_version: String,
    /// `PerformanceTest`.
    #[serde(default = "pt_kind_default")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    #[schemars(schema_with = "object_meta_schema")]
    pub metadata: ObjectMeta,
    /// What to run.
    pub spec: PerformanceTestSpec,
    /// Observed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PerformanceTestStatus>,
}

impl PerformanceTest {
    /// `pt`.
    pub const SHORT_NAME: &'static str = "pt";

    /// A test named `name` with `spec` and no status.
    pub fn new(name: &str, spec: PerformanceTestSpec) -> Self {
        PerformanceTest {
            api_version: API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec,
            status: None,
        }
    }
}

// The crate's one Resource mechanism (also the associated consts API_VERSION, GROUP, VERSION,
// KIND, PLURAL).
crate::macros::smi_resource!(
    PerformanceTest,
    group = "perf.smi-spec.io",
    version = "v1alpha1",
    kind = "PerformanceTest",
    plural = "performancetests"
);

/// A list of [`PerformanceTest`]s.
pub type PerformanceTestList = ObjectList<PerformanceTest>;

/// Reference to the [`PerformanceTest`] a result belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestRef {
    /// Test name.
    pub name: String,
    /// Test UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Which shard of a scaled-out test (`spec.parallelism` > 1) produced a result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShardRef {
    /// 0-based shard index, less than `count`.
    #[schemars(range(min = 0))]
    pub index: i32,
    /// Number of shards (the test's `parallelism`).
    #[schemars(range(min = 1, max = 1000))]
    pub count: i32,
    /// Identifies one scaled-out run (e.g. the Kubernetes Job's UID): shards of different runs
    /// of the same test do not merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The common start instant the shard waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<Time>,
}

/// The requested load, copied into a result so it stands alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestedLoad {
    /// Load model used.
    pub load_model: LoadModel,
    /// Requested rate (0 = unlimited).
    pub rps: i64,
    /// Connections.
    pub connections: i32,
    /// Requested duration, when time-bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Requested request count, when count-bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<i64>,
    /// Protocol.
    pub protocol: Protocol,
    /// Endpoints.
    pub endpoints: Vec<String>,
}

/// One stage of a ramped run (`ResultRecord.stages[]`). Requests belong to the stage of their
/// intended send time; `scheduled = requestsTotal + droppedOrLate + requestsCutOff`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageResult {
    /// Start of the stage, ms after the start of the recording.
    pub start_millis: i64,
    /// Length of the stage, ms.
    pub duration_millis: i64,
    /// Requested rate at the start of the stage.
    pub from_rps: i64,
    /// Requested rate at its end (equal to `fromRps` for a `Step` stage).
    pub to_rps: i64,
    /// Sends the schedule put in this stage.
    pub scheduled: i64,
    /// Recorded requests (succeeded + failed).
    pub requests_total: i64,
    /// Successful requests.
    pub requests_succeeded: i64,
    /// Failed requests.
    pub requests_failed: i64,
    /// Sends refused by `maxInFlight`.
    #[serde(default)]
    pub dropped_or_late: i64,
    /// Sends still unanswered when the run ended.
    #[serde(default)]
    pub requests_cut_off: i64,
    /// Achieved rate: successful responses over the stage's duration (3 decimals).
    pub actual_rps: String,
    /// Latency from the intended send of the stage's successful requests.
    pub latency: LatencySummary,
    /// Service time (from the actual send).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_latency: Option<LatencySummary>,
    /// Histogram of `latency` (for exact merges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
    /// Histogram of `uncorrectedLatency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_histogram: Option<EncodedHistogram>,
}

/// Latency summary in µs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LatencySummary {
    /// Number of recorded samples.
    pub count: i64,
    /// Minimum.
    pub min_micros: i64,
    /// Mean (rounded).
    pub mean_micros: i64,
    /// Standard deviation (rounded).
    pub stddev_micros: i64,
    /// Maximum.
    pub max_micros: i64,
    /// Requested percentiles, ascending.
    #[serde(default)]
    pub percentiles: Vec<PercentileValue>,
}

impl LatencySummary {
    /// Value at `percentile` if it was reported.
    pub fn percentile(&self, percentile: f64) -> Option<i64> {
        self.percentiles
            .iter()
            .find(|p| p.percentile.parse::<f64>().ok() == Some(percentile))
            .map(|p| p.value_micros)
    }
}

/// One percentile of a [`LatencySummary`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PercentileValue {
    /// The percentile as a decimal string (`"99.9"`), so it round-trips exactly.
    pub percentile: String,
    /// Latency at that percentile, µs.
    pub value_micros: i64,
}

/// Whether latency is timed from the scheduled or the actual send time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum LatencyBasis {
    /// From the intended (scheduled) send time: coordinated omission corrected.
    Intended,
    /// From the actual send time (service time).
    #[default]
    Actual,
}

/// A serialized HdrHistogram.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncodedHistogram {
    /// Always `HdrHistogramV2Deflate` in this version.
    #[schemars(extend("enum" = ["HdrHistogramV2Deflate"]))]
    pub encoding: String,
    /// Base64 (standard alphabet, padded) of the V2 deflate serialization.
    pub data: String,
}

/// Longest `histogramRef` name or key: a DNS subdomain (253 characters).
pub const MAX_HISTOGRAM_REF_LENGTH: usize = 253;

/// Kind of the object a [`HistogramRef`] points at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HistogramRefKind {
    /// A ConfigMap (`binaryData` or `data`).
    #[default]
    ConfigMap,
    /// A Secret.
    Secret,
}

/// `histogramRef` of a result (perf-api.md B.3): where the merged latency histogram is kept when
/// it is too large to sit inline in `histogram` (an object is limited to about 1.5 MiB in etcd).
/// The object, in the result's namespace, holds the same base64 `HdrHistogramV2Deflate` text
/// that `histogram.data` would, under `key`. A result has `histogram` or `histogramRef`, not both.
///
/// ```
/// use smi_types::perf::{HistogramRef, HistogramRefKind};
/// let r = HistogramRef::config_map("run-1-histogram");
/// assert_eq!(r.kind, HistogramRefKind::ConfigMap);
/// assert_eq!(r.effective_key(), "histogram");
/// assert_eq!(
///     serde_json::to_value(&r).unwrap(),
///     serde_json::json!({"kind": "ConfigMap", "name": "run-1-histogram"})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistogramRef {
    /// `ConfigMap` or `Secret`.
    pub kind: HistogramRefKind,
    /// Name of the object (in the result's namespace).
    #[schemars(length(min = 1, max = MAX_HISTOGRAM_REF_LENGTH))]
    pub name: String,
    /// Key of the histogram in the object's data (default `histogram`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_HISTOGRAM_REF_LENGTH))]
    pub key: Option<String>,
}

impl HistogramRef {
    /// Key used when `key` is not set.
    pub const DEFAULT_KEY: &'static str = "histogram";

    /// A reference to the ConfigMap `name`, default key.
    pub fn config_map(name: impl Into<String>) -> Self {
        HistogramRef {
            kind: HistogramRefKind::ConfigMap,
            name: name.into(),
            key: None,
        }
    }

    /// A reference to the Secret `name`, default key.
    pub fn secret(name: impl Into<String>) -> Self {
        HistogramRef {
            kind: HistogramRefKind::Secret,
            name: name.into(),
            key: None,
        }
    }

    /// `key`, or [`Self::DEFAULT_KEY`].
    pub fn effective_key(&self) -> &str {
        self.key.as_deref().unwrap_or(Self::DEFAULT_KEY)
    }
}

/// `timeSeries` of a result: the run cut into fixed intervals that start at multiples of
/// `intervalMillis` since the Unix epoch, so shards that ran at the same time merge interval by
/// interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeSeries {
    /// Interval length, ms.
    #[schemars(range(min = 1))]
    pub interval_millis: i64,
    /// Start of the recorded window, Unix ms (the first interval may begin before it).
    pub start_millis: i64,
    /// End of the run, Unix ms (the last interval may end after it).
    pub end_millis: i64,
    /// Intervals in which something happened, by start.
    #[serde(default)]
    pub intervals: Vec<TimeInterval>,
}

/// One interval of a [`TimeSeries`]. Requests count in the interval they completed in;
/// `scheduled` and `dropped` sends in the interval they were due in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeInterval {
    /// Start, Unix ms (a multiple of `intervalMillis`).
    pub start_millis: i64,
    /// Requests recorded (succeeded + failed).
    pub requests: i64,
    /// Successful responses.
    pub succeeded: i64,
    /// Failed requests.
    pub failed: i64,
    /// Open model: sends dropped.
    #[serde(default)]
    pub dropped: i64,
    /// Open model: sends due (the intended rate times the interval), dropped ones included.
    #[serde(default)]
    pub scheduled: i64,
    /// Counts by status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_codes: BTreeMap<String, i64>,
    /// Counts by error kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, i64>,
    /// Latency of the successful responses completed in the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
    /// Their service time (Open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_histogram: Option<EncodedHistogram>,
}

/// Per-generator block of a result (`perClient[]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientResult {
    /// Client (shard) name.
    pub name: String,
    /// The shard this block came from, when the client was a shard of a scaled-out run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRef>,
    /// Recorded requests.
    pub requests_total: i64,
    /// Requests that got a successful answer.
    pub requests_succeeded: i64,
    /// Requests that failed.
    pub requests_failed: i64,
    /// Open model: sends refused by `maxInFlight`.
    #[serde(default)]
    pub dropped_or_late: i64,
    /// Requests still in flight when the run ended (not part of `requestsTotal`).
    #[serde(default)]
    pub requests_cut_off: i64,
    /// Achieved requests per second.
    pub actual_rps: String,
    /// Bytes written.
    #[serde(default)]
    pub bytes_sent: i64,
    /// Bytes read.
    #[serde(default)]
    pub bytes_received: i64,
    /// Counts by status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_codes: BTreeMap<String, i64>,
    /// gRPC: counts by gRPC status code (`"0"` OK … `"16"` UNAUTHENTICATED).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grpc_status_codes: BTreeMap<String, i64>,
    /// Counts by error kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, i64>,
    /// Latency summary.
    pub latency: LatencySummary,
    /// Service-time summary (Open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_latency: Option<LatencySummary>,
    /// This client's histogram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
    /// This client's service-time histogram (Open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_histogram: Option<EncodedHistogram>,
}

/// One threshold's verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdResult {
    /// Metric name (`latencyP99`).
    pub metric: String,
    /// The limit as written, prefixed with `<=` or `>=`.
    pub limit: String,
    /// Observed value in the limit's unit.
    pub observed: String,
    /// Whether it held.
    pub passed: bool,
    /// A default the engine applied because the test set no threshold on this metric (or a
    /// check no run passes without, such as `requestsSucceeded >= 1`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// Test environment (SMP `EnvironmentConfig` subset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// Kubernetes version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// Nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeInfo>,
}

/// A node of an [`Environment`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// Instance type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// CPU cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<i32>,
    /// Memory in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_mb: Option<i64>,
}

/// Mesh context of a result (SMP `ServiceMeshConfig` subset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeshContext {
    /// SMP mesh type name.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub mesh_type: Option<String>,
    /// Mesh version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// mTLS on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_enabled: Option<bool>,
    /// Proxy worker threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_concurrency: Option<i32>,
}

/// Resource usage of the generator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUsage {
    /// CPU in millicores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_mcores: Option<i64>,
    /// Memory in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_mb: Option<i64>,
}

/// The record of one run (perf-api.md B.3): `apiVersion`, `kind` and `metadata` plus the fields
/// below at the top level, like a ConfigMap's `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultRecord {
    /// The test this result belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_ref: Option<TestRef>,
    /// Run id (UUID).
    pub id: String,
    /// Set on the result of one shard of a scaled-out run (unset on merged results, whose
    /// `perClient[]` blocks carry their shards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRef>,
    /// SMP version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smp_version: Option<String>,
    /// Labels copied from the test.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Load generator plug-in name.
    pub load_generator: String,
    /// Engine version.
    pub engine_version: String,
    /// When recording started (after warm-up).
    pub start_time: Time,
    /// When the run ended.
    pub end_time: Time,
    /// Measured duration.
    pub actual_duration: Duration,
    /// Copy of the requested load.
    pub requested: RequestedLoad,
    /// Recorded requests (succeeded + failed).
    pub requests_total: i64,
    /// Requests with a successful answer (HTTP < 400, or the full TCP echo).
    pub requests_succeeded: i64,
    /// Requests that failed (HTTP ≥ 400 or a transport error).
    pub requests_failed: i64,
    /// Open model: sends refused by `maxInFlight`.
    #[serde(default)]
    pub dropped_or_late: i64,
    /// Requests sent (or being connected for) during the recorded window and still unanswered
    /// when the run ended: cut off, neither succeeded nor failed, so not part of
    /// `requestsTotal`. Every request started in the window is counted exactly once, in
    /// `requestsTotal` or here.
    #[serde(default)]
    pub requests_cut_off: i64,
    /// Achieved throughput: successful responses per second over `actualDuration`, decimal
    /// string with 3 decimals (failed requests are not throughput).
    pub actual_rps: String,
    /// Bytes written.
    #[serde(default)]
    pub bytes_sent: i64,
    /// Bytes read.
    #[serde(default)]
    pub bytes_received: i64,
    /// Counts by status code; `"error"` for transport failures.
    #[serde(default)]
    pub status_codes: BTreeMap<String, i64>,
    /// gRPC: counts by gRPC status code (`"0"` OK, `"14"` UNAVAILABLE …; from the
    /// `grpc-status` trailer, or the headers of a trailers-only response), next to the HTTP
    /// statuses in `statusCodes`. A call succeeds when its HTTP status is 200 and its gRPC status
    /// 0. Statuses the client synthesizes (an oversized or compressed message, a unary answer
    /// without exactly one message) count here too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grpc_status_codes: BTreeMap<String, i64>,
    /// Counts by error kind (`connectRefused`, `connect`, `reset`, `timeout`, `connectTimeout`, `handshakeTimeout`, `tls`, `protocol`, `other`, or `http5xx` style).
    #[serde(default)]
    pub errors: BTreeMap<String, i64>,
    /// Latency summary of the successful requests (basis: `latencyBasis`); failed requests are
    /// in `failedLatency`.
    pub latency: LatencySummary,
    /// `Intended` (Open model) or `Actual`.
    pub latency_basis: LatencyBasis,
    /// Open model: service time from the actual send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_latency: Option<LatencySummary>,
    /// Merged histogram of `latency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<EncodedHistogram>,
    /// Where the merged histogram of `latency` is kept instead of `histogram`, when it is too
    /// large for the object (a result has one or the other, not both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram_ref: Option<HistogramRef>,
    /// Merged histogram of `uncorrectedLatency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected_histogram: Option<EncodedHistogram>,
    /// Time to failure of the failed requests (error statuses and transport errors), kept apart
    /// from `latency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_latency: Option<LatencySummary>,
    /// Histogram of `failedLatency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_histogram: Option<EncodedHistogram>,
    /// The run over time, interval by interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_series: Option<TimeSeries>,
    /// Ramped rate shapes (`Linear`, `Step`): each stage's requested and achieved rate and its
    /// latency, by the stage of each request's intended send time (at most 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_STEPS))]
    pub stages: Vec<StageResult>,
    /// Per-generator blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_client: Vec<ClientResult>,
    /// Environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Mesh context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<MeshContext>,
    /// Generator resource usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceUsage>,
    /// Threshold verdicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
    /// All thresholds held (true when there are none).
    pub passed: bool,
}

impl Default for ResultRecord {
    /// An empty record with both timestamps at the Unix epoch.
    fn default() -> Self {
        let epoch = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        ResultRecord {
            test_ref: None,
            id: String::new(),
            shard: None,
            smp_version: None,
            labels: BTreeMap::new(),
            load_generator: String::new(),
            engine_version: String::new(),
            start_time: epoch.clone(),
            end_time: epoch,
            actual_duration: Duration::default(),
            requested: RequestedLoad::default(),
            requests_total: 0,
            requests_succeeded: 0,
            requests_failed: 0,
            dropped_or_late: 0,
            requests_cut_off: 0,
            actual_rps: "0.000".into(),
            bytes_sent: 0,
            bytes_received: 0,
            status_codes: BTreeMap::new(),
            grpc_status_codes: BTreeMap::new(),
            errors: BTreeMap::new(),
            latency: LatencySummary::default(),
            latency_basis: LatencyBasis::Actual,
            uncorrected_latency: None,
            histogram: None,
            histogram_ref: None,
            uncorrected_histogram: None,
            failed_latency: None,
            failed_histogram: None,
            time_series: None,
            stages: Vec::new(),
            per_client: Vec::new(),
            environment: None,
            mesh: None,
            resources: None,
            thresholds: Vec::new(),
            passed: true,
        }
    }
}

/// The immutable record of one run (`perf.smi-spec.io/v1alpha1`, kind `PerformanceTestResult`,
/// short name `ptr`).
///
/// ```
/// use smi_types::perf::{PerformanceTestResult, ResultRecord};
/// let r = PerformanceTestResult::new("smoke-1", ResultRecord { passed: true, ..Default::default() });
/// let json = serde_json::to_value(&r).unwrap();
/// assert_eq!(json["kind"], "PerformanceTestResult");
/// assert_eq!(json["passed"], true); // record fields sit at the top level
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    { "rule": "!has(self.histogram) || !has(self.histogramRef)", "message": "set histogram or histogramRef, not both" },
]))]
pub struct PerformanceTestResult {
    /// `perf.smi-spec.io/v1alpha1`.
    #[serde(default = "api_version_default")]
    pub api_version: String,
    /// `PerformanceTestResult`.
    #[serde(default = "ptr_kind_default")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    #[schemars(schema_with = "object_meta_schema")]
    pub metadata: ObjectMeta,
    /// The record.
    #[serde(flatten)]
    pub record: ResultRecord,
}

impl Default for PerformanceTestResult {
    fn default() -> Self {
        Self::new("", ResultRecord::default())
    }
}

impl PerformanceTestResult {
    /// `ptr`.
    pub const SHORT_NAME: &'static str = "ptr";

    /// A result named `name` (empty = no name).
    pub fn new(name: &str, record: ResultRecord) -> Self {
        PerformanceTestResult {
            api_version: API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: ObjectMeta {
                name: (!name.is_empty()).then(|| name.to_owned()),
                ..Default::default()
            },
            record,
        }
    }

    /// Checks the B.4 result consistency rules; returns the violations: timestamps in order,
    /// `requestsSucceeded + requestsFailed == requestsTotal`, status codes adding up to
    /// `requestsTotal`, no negative count (top level, `statusCodes`, `errors`, `perClient[]`),
    /// latency counts within `[0, requestsTotal]` and percentiles within `[min, max]`, a finite
    /// non-negative `actualRps`, shards that exist (`0 <= index < count <= 1000`), and
    /// `perClient` latency counts adding up to the merged one, and at most one of `histogram` and
    /// `histogramRef`. A result read from a file is checked with this before it is merged,
    /// compared or reported.
    ///
    /// ```
    /// use smi_types::perf::PerformanceTestResult;
    /// assert!(PerformanceTestResult::default().consistency_errors().is_empty());
    /// ```
    pub fn consistency_errors(&self) -> Vec<SpecError> {
        let r = &self.record;
        let mut v = Validator::default();
        if r.start_time.0 > r.end_time.0 {
            v.err("startTime", "startTime is after endTime");
        }
        if r.histogram.is_some() && r.histogram_ref.is_some() {
            v.err("histogramRef", "set histogram or histogramRef, not both");
        }
        // Sums in i128: the counts come from documents and may be anywhere in i64.
        if i128::from(r.requests_succeeded) + i128::from(r.requests_failed)
            != i128::from(r.requests_total)
        {
            v.err(
                "requestsTotal",
                "requestsSucceeded + requestsFailed != requestsTotal",
            );
        }
        let codes: i128 = r.status_codes.values().map(|&n| i128::from(n)).sum();
        if codes != i128::from(r.requests_total) {
            v.err(
                "statusCodes",
                format!(
                    "status codes add up to {codes}, not requestsTotal {}",
                    r.requests_total
                ),
            );
        }
        for (name, n) in [
            ("requestsTotal", r.requests_total),
            ("requestsSucceeded", r.requests_succeeded),
            ("requestsFailed", r.requests_failed),
            ("droppedOrLate", r.dropped_or_late),
            ("requestsCutOff", r.requests_cut_off),
            ("bytesSent", r.bytes_sent),
            ("bytesReceived", r.bytes_received),
        ] {
            if n < 0 {
                v.err(name, "must be at least 0");
            }
        }
        check_rate(&mut v, "actualRps", &r.actual_rps);
        check_shard(&mut v, "shard", r.shard.as_ref());
        check_counts(&mut v, "", &r.status_codes, &r.errors);
        check_grpc_codes(&mut v, "", &r.grpc_status_codes, r.requests_total);
        for (path, l) in std::iter::once(("latency", &r.latency)).chain(
            r.uncorrected_latency
                .as_ref()
                .map(|l| ("uncorrectedLatency", l)),
        ) {
            check_latency_count(&mut v, path, l, r.requests_total);
            if l.count == 0 {
                continue;
            }
            let mut prev = l.min_micros;
            for (i, p) in l.percentiles.iter().enumerate() {
                if p.value_micros < prev || p.value_micros > l.max_micros {
                    v.err(
                        format!("{path}.percentiles[{i}]"),
                        "percentiles must lie in [min, max] and not decrease",
                    );
                }
                prev = prev.max(p.value_micros);
            }
            if l.mean_micros < l.min_micros || l.mean_micros > l.max_micros {
                v.err(
                    format!("{path}.meanMicros"),
                    "mean must lie between min and max",
                );
            }
        }
        for (i, c) in r.per_client.iter().enumerate() {
            let at = |f: &str| format!("perClient[{i}].{f}");
            if i128::from(c.requests_succeeded) + i128::from(c.requests_failed)
                != i128::from(c.requests_total)
            {
                v.err(
                    at("requestsTotal"),
                    "requestsSucceeded + requestsFailed != requestsTotal",
                );
            }
            for (name, n) in [
                ("requestsTotal", c.requests_total),
                ("requestsSucceeded", c.requests_succeeded),
                ("requestsFailed", c.requests_failed),
                ("droppedOrLate", c.dropped_or_late),
                ("requestsCutOff", c.requests_cut_off),
                ("bytesSent", c.bytes_sent),
                ("bytesReceived", c.bytes_received),
            ] {
                if n < 0 {
                    v.err(at(name), "must be at least 0");
                }
            }
            check_rate(&mut v, &at("actualRps"), &c.actual_rps);
            check_shard(&mut v, &at("shard"), c.shard.as_ref());
            check_counts(
                &mut v,
                &format!("perClient[{i}]."),
                &c.status_codes,
                &c.errors,
            );
            check_grpc_codes(
                &mut v,
                &format!("perClient[{i}]."),
                &c.grpc_status_codes,
                c.requests_total,
            );
            check_latency_count(&mut v, &at("latency"), &c.latency, c.requests_total);
            if let Some(l) = &c.uncorrected_latency {
                check_latency_count(&mut v, &at("uncorrectedLatency"), l, c.requests_total);
            }
        }
        if !r.per_client.is_empty() {
            let sum: i128 = r
                .per_client
                .iter()
                .map(|c| i128::from(c.latency.count))
                .sum();
            if sum != i128::from(r.latency.count) {
                v.err(
                    "latency.count",
                    format!(
                        "merged count {} != sum of perClient counts {sum}",
                        r.latency.count
                    ),
                );
            }
        }
        v.errors
    }
}

/// `actualRps` is a finite, non-negative decimal.
fn check_rate(v: &mut Validator, path: &str, rps: &str) {
    match rps.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => {}
        _ => v.err(
            path,
            format!("{rps:?} is not a finite, non-negative decimal"),
        ),
    }
}

/// A shard is `index` of `count`: `0 <= index < count <= MAX_PARALLELISM`.
fn check_shard(v: &mut Validator, path: &str, shard: Option<&ShardRef>) {
    let Some(s) = shard else { return };
    if !(1..=MAX_PARALLELISM).contains(&s.count) {
        v.err(
            format!("{path}.count"),
            format!("must be in [1, {MAX_PARALLELISM}]"),
        );
    }
    if s.index < 0 || s.index >= s.count {
        v.err(
            format!("{path}.index"),
            format!(
                "shard {} of {} does not exist (0 <= index < count)",
                s.index, s.count
            ),
        );
    }
}

/// Status-code and error counts are not negative.
fn check_counts(
    v: &mut Validator,
    prefix: &str,
    status_codes: &BTreeMap<String, i64>,
    errors: &BTreeMap<String, i64>,
) {
    for (what, map) in [("statusCodes", status_codes), ("errors", errors)] {
        for (k, n) in map {
            if *n < 0 {
                v.err(format!("{prefix}{what}[{k:?}]"), "must be at least 0");
            }
        }
    }
}

/// gRPC status counts: at least 0 each, at most `requestsTotal` together (every call with a gRPC
/// status is a recorded request; transport failures have none).
fn check_grpc_codes(v: &mut Validator, prefix: &str, codes: &BTreeMap<String, i64>, total: i64) {
    for (k, n) in codes {
        if *n < 0 {
            v.err(
                format!("{prefix}grpcStatusCodes[{k:?}]"),
                "must be at least 0",
            );
        }
    }
    let sum: i128 = codes.values().map(|&n| i128::from(n.max(0))).sum();
    if sum > i128::from(total.max(0)) {
        v.err(
            format!("{prefix}grpcStatusCodes"),
            format!("gRPC status codes add up to {sum}, more than requestsTotal {total}"),
        );
    }
}

/// A latency summary counts answered requests: between 0 and `requestsTotal`, min <= max.
fn check_latency_count(v: &mut Validator, path: &str, l: &LatencySummary, total: i64) {
    if l.count < 0 || l.count > total.max(0) {
        v.err(
            format!("{path}.count"),
            format!("{} samples, outside [0, requestsTotal {total}]", l.count),
        );
    }
    if l.count > 0 && l.min_micros > l.max_micros {
        v.err(format!("{path}.minMicros"), "min is above max");
    }
}

// The crate's one Resource mechanism (also the associated consts API_VERSION, GROUP, VERSION,
// KIND, PLURAL).
crate::macros::smi_resource!(
    PerformanceTestResult,
    group = "perf.smi-spec.io",
    version = "v1alpha1",
    kind = "PerformanceTestResult",
    plural = "performancetestresults"
);

/// A list of [`PerformanceTestResult`]s.
pub type PerformanceTestResultList = ObjectList<PerformanceTestResult>;

// ---------------------------------------------------------------------------------------------
// CRDs
// ---------------------------------------------------------------------------------------------

/// The two CRDs of this version: `performancetests.perf.smi-spec.io` (short name `pt`, status
/// subresource, printer columns Phase/RPS/P99/Age) and `performancetestresults.perf.smi-spec.io`
/// (short name `ptr`). Their structural schemas carry the B.4 rules as OpenAPI bounds and CEL
/// `x-kubernetes-validations`.
///
/// ```
/// let crds = smi_types::perf::crds();
/// assert_eq!(crds[0].metadata.name.as_deref(), Some("performancetests.perf.smi-spec.io"));
/// assert_eq!(crds[1].spec.names.short_names, Some(vec!["ptr".to_string()]));
/// ```
pub fn crds() -> Vec<CustomResourceDefinition> {
    // One schema pipeline for every group: the CRDs come from `crate::crd`, like the SMI ones.
    crate::crd::generate(crate::crd::Flavour::AllVersions)
        .into_iter()
        .filter(|c| c.spec.group == GROUP)
        .collect()
}

#[cfg(test)]
mod tests;
