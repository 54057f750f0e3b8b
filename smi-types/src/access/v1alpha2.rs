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

/// Body of a TrafficTarget.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficTargetSpec {
    /// The workload identity allowed to be reached.
    pub destination: IdentityBindingSubject,
    /// Identities allowed to call the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<IdentityBindingSubject>>,
    /// Routes allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<TrafficTargetRule>>,
}

impl TrafficTargetSpec {
    /// A spec for `destination` with no sources or rules yet.
    pub fn new(destination: IdentityBindingSubject) -> Self {
        Self {
            destination,
            sources: None,
            rules: None,
        }
    }
    /// Adds a source.
    pub fn source(mut self, s: IdentityBindingSubject) -> Self {
        self.sources.get_or_insert_with(Vec::new).push(s);
        self
    }
    /// Adds a rule.
    pub fn rule(mut self, r: TrafficTargetRule) -> Self {
        self.rules.get_or_insert_with(Vec::new).push(r);
        self
    }
}
