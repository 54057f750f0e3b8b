//! `split.smi-spec.io/v1alpha1`: weights are Kubernetes quantities.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::quantity::Quantity;

/// Splits traffic sent to the root service `spec.service` across `spec.backends` by relative
/// weight.
///
/// ```
/// use smi_types::split::v1alpha1::*;
/// let ts = TrafficSplit::new("canary", TrafficSplitSpec::new("web").backend("web-v1", 1).backend("web-v2", "500m"));
/// assert_eq!(serde_json::to_value(&ts).unwrap()["spec"]["backends"][1]["weight"], "500m");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplit {
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
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The body.
    pub spec: TrafficSplitSpec,
}

crate::macros::smi_kind!(
    TrafficSplit,
    TrafficSplitList,
    group = "split.smi-spec.io",
    version = "v1alpha1",
    kind = "TrafficSplit",
    plural = "trafficsplits"
);

impl TrafficSplit {
    /// A TrafficSplit named `name`.
    pub fn new(name: &str, spec: TrafficSplitSpec) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: crate::macros::named(name),
            spec,
        }
    }
}

/// Body of a TrafficSplit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplitSpec {
    /// The root (apex) service clients address.
    pub service: String,
    /// Backend services with their weights.
    pub backends: Vec<TrafficSplitBackend>,
}

impl TrafficSplitSpec {
    /// A split of `service` with no backends yet.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.into(),
            ..Default::default()
        }
    }
    /// Adds a backend.
    pub fn backend(mut self, service: &str, weight: impl Into<Quantity>) -> Self {
        self.backends.push(TrafficSplitBackend {
            service: service.into(),
            weight: weight.into(),
        });
        self
    }
}

/// A backend service and its relative weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplitBackend {
    /// Service name in the split's namespace.
    pub service: String,
    /// Relative weight as a Kubernetes quantity (`1`, `500m`, `"100"`), kept as written.
    pub weight: Quantity,
}
