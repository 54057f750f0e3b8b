//! `specs.smi-spec.io/v1alpha2`: HTTPRouteGroup with top-level `matches`, matches gain
//! `headers`; TCPRoute with no body.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;
pub use crate::headers::{HeadersForm, HttpHeaders};

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha2", kind = "HTTPRouteGroup", plural = "httproutegroups", list = HttpRouteGroupList;
    /// Named HTTP matches (top-level `matches`, no `spec` in this version).
    ///
    /// ```
    /// use smi_types::specs::v1alpha2::*;
    /// let g = HttpRouteGroup::new("routes")
    ///     .with_match(HttpMatch::new("android").headers(HttpHeaders::new().header("user-agent", ".*Android.*")));
    /// assert_eq!(serde_json::to_value(&g).unwrap()["matches"][0]["headers"][0]["user-agent"], ".*Android.*");
    /// ```
    pub struct HttpRouteGroup {
        /// The matches (one match = one route).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = 256), extend("x-kubernetes-validations" = [{"rule": super::UNIQUE_MATCH_NAMES_RULE, "message": "match names must be unique"}]))]
        pub matches: Option<Vec<HttpMatch>>,
    }
}

super::http_route_group!(matches);

super::http_match! {
    /// One HTTP route: conditions that must all hold (v1alpha2–v1alpha4 shape).
    headers: HttpHeaders,
}

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha2", kind = "TCPRoute", plural = "tcproutes", list = TcpRouteList;
    /// A TCP route; this version has no body at all.
    pub struct TcpRoute {}
    impl new();
}
