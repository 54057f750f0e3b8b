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

super::traffic_split_spec!(weight: i64, matches: TrafficSplitMatch);

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
