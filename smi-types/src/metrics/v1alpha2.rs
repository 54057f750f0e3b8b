//! `metrics.smi-spec.io/v1alpha2`: edges gain `side`; TrafficSplit `backend`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::{Direction, Metric, Side};

super::traffic_metrics!(version = "v1alpha2", backend: Backend, side: Side);

/// A TrafficSplit backend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Backend {
    /// Root service of the split.
    pub apex: String,
    /// Backend service.
    pub name: String,
    /// Its weight.
    pub weight: i64,
}
