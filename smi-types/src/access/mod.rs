//! `access.smi-spec.io`: TrafficTarget (all versions) and IdentityBinding (`v1alpha4`).
//!
//! The latest version is re-exported here.

pub mod convert;
pub mod v1alpha1;
pub mod v1alpha2;
pub mod v1alpha3;
pub mod v1alpha4;

pub use v1alpha4::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares a version's `TrafficTargetSpec` (`destination`, `sources`, `rules`) and its builder,
/// over the `IdentityBindingSubject` and `TrafficTargetRule` of the calling version module; the
/// attributes given (docs, schema extensions) go on the struct.
macro_rules! traffic_target_spec {
    ($(#[$attr:meta])*) => {
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        $(#[$attr])*
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
    };
}
use traffic_target_spec;

/// API group of this module.
pub const GROUP: &str = "access.smi-spec.io";

/// Kind of route object a TrafficTarget rule refers to (by name, in the same namespace).
///
/// `UDPRoute` exists from `v1alpha3` on; the older versions' CRDs allow only the first two
/// (our schema accepts all three in every version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RouteKind {
    /// `HTTPRouteGroup` (specs.smi-spec.io).
    #[serde(rename = "HTTPRouteGroup")]
    HttpRouteGroup,
    /// `TCPRoute` (specs.smi-spec.io).
    #[serde(rename = "TCPRoute")]
    TcpRoute,
    /// `UDPRoute` (specs.smi-spec.io, v1alpha4).
    #[serde(rename = "UDPRoute")]
    UdpRoute,
}
