//! `specs.smi-spec.io/v1alpha4`: HTTPRouteGroup with `spec.matches`; TCPRoute and UDPRoute with
//! `spec.matches` an object `{name?, ports}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;
pub use super::v1alpha2::HttpMatch;
pub use crate::headers::{HeadersForm, HttpHeaders};

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha4", kind = "HTTPRouteGroup", plural = "httproutegroups", list = HttpRouteGroupList;
    /// Named HTTP matches under `spec.matches`. `spec` is required: the spec docs' examples that
    /// put `matches` at the top level are invalid for this version and fail to parse.
    ///
    /// ```
    /// use smi_types::specs::v1alpha4::*;
    /// let g = HttpRouteGroup::new("routes").with_match(HttpMatch::new("all").path_regex(".*"));
    /// assert_eq!(serde_json::to_value(&g).unwrap()["spec"]["matches"][0]["pathRegex"], ".*");
    /// ```
    pub struct HttpRouteGroup {
        /// The body.
        pub spec: HttpRouteGroupSpec,
    }
}

super::http_route_group!(spec.matches);

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha4", kind = "TCPRoute", plural = "tcproutes", list = TcpRouteList;
    /// TCP traffic to a list of ports. `spec.matches` is a single object, not a list.
    ///
    /// ```
    /// use smi_types::specs::v1alpha4::*;
    /// let r = TcpRoute::new("dns", PortMatch::ports([53]));
    /// assert_eq!(serde_json::to_value(&r).unwrap()["spec"]["matches"]["ports"][0], 53);
    /// ```
    pub struct TcpRoute {
        /// The body.
        pub spec: TcpRouteSpec,
    }
}

impl TcpRoute {
    /// A TCPRoute named `name`.
    pub fn new(name: &str, matches: PortMatch) -> Self {
        Self {
            spec: TcpRouteSpec { matches },
            ..Self::named(name)
        }
    }
}

/// Body of a TCPRoute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpRouteSpec {
    /// The ports (an object, not a list).
    pub matches: PortMatch,
}

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha4", kind = "UDPRoute", plural = "udproutes", list = UdpRouteList;
    /// UDP traffic to a list of ports. `spec.matches` is a single object, not a list.
    ///
    /// ```
    /// use smi_types::specs::v1alpha4::*;
    /// let r = UdpRoute::new("dns", PortMatch::ports([53]));
    /// assert_eq!(serde_json::to_value(&r).unwrap()["spec"]["matches"]["ports"][0], 53);
    /// ```
    pub struct UdpRoute {
        /// The body.
        pub spec: UdpRouteSpec,
    }
}

impl UdpRoute {
    /// A UDPRoute named `name`.
    pub fn new(name: &str, matches: PortMatch) -> Self {
        Self {
            spec: UdpRouteSpec { matches },
            ..Self::named(name)
        }
    }
}

/// Body of a UDPRoute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UdpRouteSpec {
    /// The ports (an object, not a list).
    pub matches: PortMatch,
}

/// `spec.matches` of TCPRoute/UDPRoute (Go `TCPMatch`/`UDPMatch`): destination ports to allow.
/// Empty or absent `ports` = every port of the service; the smi-sdk-go CRD requires `ports`, so
/// write `ports: []` for "all".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PortMatch {
    /// Name (Go type only; pruned by the smi-sdk-go CRD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Destination ports, 1–65535.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(range(min = 1, max = 65535)), length(max = 65535), extend("x-kubernetes-validations" = [{"rule": "self.all(p, p >= 1 && p <= 65535)", "message": "ports must be between 1 and 65535"}]))]
    pub ports: Option<Vec<i32>>,
}

impl PortMatch {
    /// `{ports: []}`: every port.
    pub fn all_ports() -> Self {
        Self {
            name: None,
            ports: Some(Vec::new()),
        }
    }
    /// The given ports.
    pub fn ports(ports: impl IntoIterator<Item = i32>) -> Self {
        Self {
            name: None,
            ports: Some(ports.into_iter().collect()),
        }
    }
}
