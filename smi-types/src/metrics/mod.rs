//! `metrics.smi-spec.io`: TrafficMetrics, served by an aggregated API server (not CRDs).
//!
//! The latest version (`v1alpha2`) is re-exported here. Note that the spec document labelled
//! v1alpha1 describes `edge.side` and `backend`, which exist only in smi-sdk-go's `v1alpha2`.

pub mod convert;
pub mod v1alpha1;
pub mod v1alpha2;

pub use v1alpha2::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares a version's `TrafficMetrics`, `Edge` and `TrafficMetricsList` (the two versions
/// differ only by `backend` on the metrics and `side` on the edge).
macro_rules! traffic_metrics {
    (version = $version:literal $(, backend: $backend:ty)? $(, side: $side:ty)?) => {
        crate::macros::with_type_meta! {
            /// Instantaneous traffic metrics of one resource (or one edge of it).
            ///
            /// ```
            #[doc = concat!(" use smi_types::metrics::", $version, "::*;")]
            /// let m = TrafficMetrics::new("30s").metric(Metric::new("success_count", 100));
            /// assert_eq!(serde_json::to_value(&m).unwrap()["metrics"][0]["value"], 100);
            /// ```
            pub struct TrafficMetrics {
                /// Object metadata (omitted when empty).
                #[serde(default, skip_serializing_if = "crate::metrics::is_default_meta")]
                pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                /// End of the measurement window (RFC 3339), kept as written.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub timestamp: Option<String>,
                /// Window length as a Go duration string (`30s`).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub window: Option<String>,
                /// The measured resource.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub resource: Option<k8s_openapi::api::core::v1::ObjectReference>,
                /// The edge, for an edges query.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub edge: Option<Edge>,
                $(
                    /// The TrafficSplit backend these metrics are for (`trafficsplits` resources).
                    #[serde(default, skip_serializing_if = "Option::is_none")]
                    pub backend: Option<$backend>,
                )?
                /// The values.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub metrics: Option<Vec<Metric>>,
            }
        }

        crate::macros::smi_resource!(
            TrafficMetrics,
            group = "metrics.smi-spec.io",
            version = $version,
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
            $(
                /// Where the edge was measured.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub side: Option<$side>,
            )?
            /// The peer (`{}` = any peer).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resource: Option<k8s_openapi::api::core::v1::ObjectReference>,
        }

        crate::macros::with_type_meta! {
            /// A list of TrafficMetrics (kind lists and edges lists).
            ///
            /// ```
            #[doc = concat!(" use smi_types::metrics::", $version, "::*;")]
            /// let l = TrafficMetricsList::new(vec![TrafficMetrics::new("30s")]);
            /// assert_eq!(l.items.len(), 1);
            /// ```
            pub struct TrafficMetricsList {
                /// List metadata.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub metadata: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta>,
                /// The listed resource (kind lists: kind/namespace/apiVersion only).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub resource: Option<k8s_openapi::api::core::v1::ObjectReference>,
                /// Label selector (spec docs only; not in the smi-sdk-go type).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
                /// The metrics; `null` reads as empty.
                #[serde(default, deserialize_with = "crate::metrics::null_as_default")]
                pub items: Vec<TrafficMetrics>,
            }
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
            fn object_meta(
                &self,
            ) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
                None
            }
        }
    };
}
use traffic_metrics;

/// API group of this module.
pub const GROUP: &str = "metrics.smi-spec.io";

/// Direction of an edge relative to the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Traffic from the resource to the edge's resource.
    To,
    /// Traffic from the edge's resource into the resource.
    From,
}

/// Where an edge was measured (`v1alpha2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Measured at the client.
    Client,
    /// Measured at the server.
    Server,
}

/// One measured value: `p99_response_latency`, `success_count`, ….
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metric {
    /// Metric name.
    pub name: String,
    /// Unit (`ms` in smi-sdk-go, `seconds` in the doc); absent for counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Value as a Kubernetes quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<crate::quantity::Quantity>,
}

impl Metric {
    /// A metric with a value and no unit.
    pub fn new(name: &str, value: impl Into<crate::quantity::Quantity>) -> Self {
        Self {
            name: name.into(),
            unit: None,
            value: Some(value.into()),
        }
    }
    /// Sets the unit.
    pub fn unit(mut self, unit: &str) -> Self {
        self.unit = Some(unit.into());
        self
    }
}

pub(crate) fn is_default_meta(
    m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> bool {
    *m == Default::default()
}

pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
