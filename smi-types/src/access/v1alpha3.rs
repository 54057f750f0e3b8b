//! `access.smi-spec.io/v1alpha3`: like v1alpha2 without `port` on subjects (storage version of
//! the smi-sdk-go CRDs).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::RouteKind;
pub use super::v1alpha1::TrafficTargetRule;

crate::macros::smi_object! {
    group = "access.smi-spec.io", version = "v1alpha3", kind = "TrafficTarget", plural = "traffictargets", list = TrafficTargetList;
    /// Allows `spec.sources` to reach `spec.destination` over `spec.rules`.
    ///
    /// ```
    /// use smi_types::access::v1alpha3::*;
    /// let tt = TrafficTarget::new("api", TrafficTargetSpec::new(IdentityBindingSubject::service_account("api"))
    ///     .source(IdentityBindingSubject::service_account("web"))
    ///     .rule(TrafficTargetRule::new(RouteKind::TcpRoute, "api-port")));
    /// assert_eq!(tt.spec.rules.unwrap().len(), 1);
    /// ```
    pub struct TrafficTarget {
        /// The body.
        pub spec: TrafficTargetSpec,
    }
    impl new(spec: TrafficTargetSpec);
}

super::traffic_target_spec! {
    /// Body of a TrafficTarget. The docs require a destination, at least one rule and one source;
    /// the CRD schema requires all three fields (as smi-sdk-go's), serde only `destination`.
    #[schemars(extend("required" = ["destination", "rules", "sources"]))]
}

/// A workload identity (`kind: ServiceAccount`); no `port` from this version on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IdentityBindingSubject {
    /// Kind of identity, `ServiceAccount`.
    pub kind: String,
    /// Name of the identity.
    pub name: String,
    /// Namespace of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl IdentityBindingSubject {
    /// A `ServiceAccount` subject.
    pub fn service_account(name: &str) -> Self {
        Self {
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: None,
        }
    }
    /// Sets the namespace.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.into());
        self
    }
}
