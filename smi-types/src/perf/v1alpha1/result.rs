//! The [`PerformanceTestResult`] kind and its record.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube_core::{ObjectList, ObjectMeta};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

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

fn ptr_kind_default() -> String {
    PerformanceTestResult::KIND.to_owned()
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
