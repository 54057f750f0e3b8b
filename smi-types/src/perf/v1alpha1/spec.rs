//! `spec` of a [`PerformanceTest`](super::PerformanceTest): [`PerformanceTestSpec`] and its parts.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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
#[schemars(transform = spec_rules)]
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
#[schemars(transform = request_rules)]
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
#[schemars(transform = body_source_rules)]
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
#[schemars(transform = client_rules)]
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
#[schemars(transform = histogram_rules)]
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
