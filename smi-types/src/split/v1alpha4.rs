//! `split.smi-spec.io/v1alpha4`: integer weights and optional `matches`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::v1alpha2::TrafficSplitBackend;

pub use super::v1alpha3::TrafficSplitMatch;

crate::macros::smi_object! {
    group = "split.smi-spec.io", version = "v1alpha4", kind = "TrafficSplit", plural = "trafficsplits", list = TrafficSplitList;
    /// Splits traffic sent to the root service `spec.service` across `spec.backends` by relative
    /// weight.
    ///
    /// ```
    /// use smi_types::split::v1alpha4::*;
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
