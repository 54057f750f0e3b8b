//! `specs.smi-spec.io/v1alpha1`: HTTPRouteGroup with top-level `matches`; TCPRoute with no body.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha1", kind = "HTTPRouteGroup", plural = "httproutegroups", list = HttpRouteGroupList;
    /// Named HTTP matches (top-level `matches`, no `spec` in this version).
    ///
    /// ```
    /// use smi_types::specs::v1alpha1::*;
    /// let g = HttpRouteGroup::new("routes").with_match(HttpMatch::new("metrics").path_regex("/metrics").method(HttpMethod::Get));
    /// assert_eq!(serde_json::to_value(&g).unwrap()["matches"][0]["methods"][0], "GET");
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
    /// One HTTP route: conditions that must all hold.
}

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha1", kind = "TCPRoute", plural = "tcproutes", list = TcpRouteList;
    /// A TCP route; this version has no body at all.
    ///
    /// ```
    /// let r = smi_types::specs::v1alpha1::TcpRoute::new("db");
    /// assert_eq!(serde_json::to_value(&r).unwrap()["kind"], "TCPRoute");
    /// ```
    pub struct TcpRoute {}
    impl new();
}
