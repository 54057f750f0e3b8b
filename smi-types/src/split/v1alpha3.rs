//! `split.smi-spec.io/v1alpha3`: integer weights and optional `matches`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::v1alpha2::TrafficSplitBackend;

crate::macros::smi_object! {
    group = "split.smi-spec.io", version = "v1alpha3", kind = "TrafficSplit", plural = "trafficsplits", list = TrafficSplitList;
    /// Splits traffic sent to the root service `spec.service` across `spec.backends` by relative
    /// weight.
    ///
    /// ```
    /// use smi_types::split::v1alpha3::*;
    /// let ts = TrafficSplit::new("ab", TrafficSplitSpec::new("web").backend("web-v1", 90).backend("web-v2", 10).http_route_group("firefox"));
    /// assert_eq!(serde_json::to_value(&ts).unwrap()["spec"]["matches"][0]["kind"], "HTTPRouteGroup");
    /// ```
    pub struct TrafficSplit {
        /// The body.
        pub spec: TrafficSplitSpec,
    }
    impl new(spec: TrafficSplitSpec);
}

/// Body of a TrafficSplit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplitSpec {
    /// The root (apex) service clients address.
    pub service: String,
    /// Backend services with their weights.
    pub backends: Vec<TrafficSplitBackend>,
    /// HTTPRouteGroups (same namespace) whose matching requests are split; others go to the
    /// root service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<TrafficSplitMatch>>,
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
    pub fn backend(mut self, service: &str, weight: impl Into<i64>) -> Self {
        self.backends.push(TrafficSplitBackend {
            service: service.into(),
            weight: weight.into(),
        });
        self
    }
    /// Restricts the split to requests matching HTTPRouteGroup `name`.
    pub fn http_route_group(mut self, name: &str) -> Self {
        self.matches
            .get_or_insert_with(Vec::new)
            .push(TrafficSplitMatch::http_route_group(name));
        self
    }
}

/// A typed local object reference (`corev1.TypedLocalObjectReference`) to an HTTPRouteGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSplitMatch {
    /// API group (Go type only; pruned by the smi-sdk-go CRD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Always `HTTPRouteGroup`.
    #[schemars(extend("enum" = ["HTTPRouteGroup"]))]
    pub kind: String,
    /// Name of the HTTPRouteGroup.
    pub name: String,
}

impl TrafficSplitMatch {
    /// A reference to HTTPRouteGroup `name`.
    pub fn http_route_group(name: &str) -> Self {
        Self {
            api_group: None,
            kind: "HTTPRouteGroup".into(),
            name: name.into(),
        }
    }
}
