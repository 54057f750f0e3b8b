//! `metrics.smi-spec.io/v1alpha1`: edges have a direction only.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ListMeta, ObjectMeta};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::{Direction, Metric, Side};

/// Instantaneous traffic metrics of one resource (or one edge of it).
///
/// ```
/// use smi_types::metrics::v1alpha1::*;
/// let m = TrafficMetrics::new("30s").metric(Metric::new("success_count", 100));
/// assert_eq!(serde_json::to_value(&m).unwrap()["metrics"][0]["value"], 100);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficMetrics {
    /// `apiVersion` as read; empty = absent.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind` as read; empty = absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Object metadata (omitted when empty).
    #[serde(default, skip_serializing_if = "super::is_default_meta")]
    pub metadata: ObjectMeta,
    /// End of the measurement window (RFC 3339), kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Window length as a Go duration string (`30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The measured resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ObjectReference>,
    /// The edge, for an edges query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<Edge>,
    /// The values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
}

crate::macros::smi_resource!(
    TrafficMetrics,
    group = "metrics.smi-spec.io",
    version = "v1alpha1",
    kind = "TrafficMetrics",
    plural = "trafficmetrics"
);

impl TrafficMetrics {
    /// Metrics over `window`.
    pub fn new(window: &str) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            window: Some(window.into()),
            ..Default::default()
        }
    }
    /// Adds a metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metrics.get_or_insert_with(Vec::new).push(m);
        self
    }
}

/// The peer of an edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Edge {
    /// Direction of the traffic.
    pub direction: Direction,
    /// The peer (`{}` = any peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ObjectReference>,
}

/// A list of TrafficMetrics (kind lists and edges lists).
///
/// ```
/// use smi_types::metrics::v1alpha1::*;
/// let l = TrafficMetricsList::new(vec![TrafficMetrics::new("30s")]);
/// assert_eq!(l.items.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficMetricsList {
    /// `apiVersion` as read; empty = absent.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind` as read; empty = absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// List metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ListMeta>,
    /// The listed resource (kind lists: kind/namespace/apiVersion only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ObjectReference>,
    /// Label selector (spec docs only; not in the smi-sdk-go type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// The metrics; `null` reads as empty.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub items: Vec<TrafficMetrics>,
}

impl TrafficMetricsList {
    /// `apiVersion` of this list.
    pub const API_VERSION: &'static str = TrafficMetrics::API_VERSION;
    /// API group of this list.
    pub const GROUP: &'static str = TrafficMetrics::GROUP;
    /// API version of this list within the group.
    pub const VERSION: &'static str = TrafficMetrics::VERSION;
    /// Kind of this list.
    pub const KIND: &'static str = "TrafficMetricsList";
    /// Plural resource name (the list is read at `trafficmetrics`).
    pub const PLURAL: &'static str = TrafficMetrics::PLURAL;

    /// A list of `items`.
    pub fn new(items: Vec<TrafficMetrics>) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            items,
            ..Default::default()
        }
    }
}

impl crate::macros::ObjectMetaOf for TrafficMetricsList {
    fn object_meta(&self) -> Option<&ObjectMeta> {
        None
    }
}
