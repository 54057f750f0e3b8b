//! `access.smi-spec.io/v1alpha2`: TrafficTarget with a `spec` wrapper; `specs` renamed `rules`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::RouteKind;
pub use super::v1alpha1::{IdentityBindingSubject, TrafficTargetRule};

crate::macros::smi_object! {
    group = "access.smi-spec.io", version = "v1alpha2", kind = "TrafficTarget", plural = "traffictargets", list = TrafficTargetList;
    /// Allows `spec.sources` to reach `spec.destination` over `spec.rules`.
    ///
    /// ```
    /// use smi_types::access::v1alpha2::*;
    /// let tt = TrafficTarget::new("api", TrafficTargetSpec::new(IdentityBindingSubject::service_account("api").port(8080)));
    /// assert_eq!(serde_json::to_value(&tt).unwrap()["spec"]["destination"]["port"], 8080);
    /// ```
    pub struct TrafficTarget {
        /// The body.
        pub spec: TrafficTargetSpec,
    }
    impl new(spec: TrafficTargetSpec);
}

super::traffic_target_spec! {
    /// Body of a TrafficTarget.
}
