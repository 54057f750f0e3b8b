//! `split.smi-spec.io/v1alpha2`: integer weights.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

crate::macros::smi_object! {
    group = "split.smi-spec.io", version = "v1alpha2", kind = "TrafficSplit", plural = "trafficsplits", list = TrafficSplitList;
    /// Splits traffic sent to the root service `spec.service` across `spec.backends` by relative
    /// weight.
    ///
    /// ```
    /// use smi_types::split::v1alpha2::*;
    /// let ts = TrafficSplit::new("canary", TrafficSplitSpec::new("web").backend("web-v1", 90).backend("web-v2", 10));
    /// assert_eq!(ts.spec.backends[1].weight, 10);
    /// ```
    pub struct TrafficSplit {
        /// The body.
        pub spec: TrafficSplitSpec,
    }
    impl new(spec: TrafficSplitSpec);
}

super::traffic_split_spec!(weight: i64);

/// A backend service and its relative weight.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplitBackend {
    /// Service name in the split's namespace.
    pub service: String,
    /// Relative weight, a whole number ≥ 0 (0 = no traffic).
    #[schemars(range(min = 0))]
    pub weight: i64,
}
