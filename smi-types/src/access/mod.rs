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
