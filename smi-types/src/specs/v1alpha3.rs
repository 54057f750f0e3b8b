//! `specs.smi-spec.io/v1alpha3`: HTTPRouteGroup with `spec.matches`; TCPRoute with `spec: {}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;
pub use super::v1alpha2::HttpMatch;
pub use crate::headers::{HeadersForm, HttpHeaders};

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha3", kind = "HTTPRouteGroup", plural = "httproutegroups", list = HttpRouteGroupList;
    /// Named HTTP matches under `spec.matches`. `spec` is required: the spec docs' examples that
    /// put `matches` at the top level are invalid for this version and fail to parse.
    ///
    /// ```
    /// use smi_types::specs::v1alpha3::*;
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
    group = "specs.smi-spec.io", version = "v1alpha3", kind = "TCPRoute", plural = "tcproutes", list = TcpRouteList;
    /// A TCP route; in this version the body is the empty object `spec: {}`.
    ///
    /// ```
    /// let r = smi_types::specs::v1alpha3::TcpRoute::new("db");
    /// assert_eq!(serde_json::to_value(&r).unwrap()["spec"], serde_json::json!({}));
    /// ```
    pub struct TcpRoute {
        /// The (empty) body; absent and `{}` are both kept as read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub spec: Option<TcpRouteSpec>,
    }
}

impl TcpRoute {
    /// A TCPRoute named `name` with `spec: {}`.
    pub fn new(name: &str) -> Self {
        Self {
            spec: Some(TcpRouteSpec {}),
            ..Self::named(name)
        }
    }
}

/// The empty TCPRoute body of this version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpRouteSpec {}
