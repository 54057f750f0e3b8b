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
