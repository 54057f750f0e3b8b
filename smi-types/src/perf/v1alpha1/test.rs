//! The [`PerformanceTest`] kind and its status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube_core::{ObjectList, ObjectMeta};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::*;

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

pub(super) fn object_meta_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object" })
}

pub(super) fn api_version_default() -> String {
    API_VERSION.to_owned()
}

fn pt_kind_default() -> String {
    PerformanceTest::KIND.to_owned()
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
