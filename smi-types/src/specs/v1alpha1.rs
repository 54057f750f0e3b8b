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

impl HttpRouteGroup {
    /// An empty group named `name`.
    pub fn new(name: &str) -> Self {
        Self::named(name)
    }
    /// Adds a match.
    pub fn with_match(mut self, m: HttpMatch) -> Self {
        self.matches.get_or_insert_with(Vec::new).push(m);
        self
    }
}

/// One HTTP route: conditions that must all hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpMatch {
    /// Name other objects refer to; unique within the group. At most 253 characters, which
    /// bounds the cost of the uniqueness rule for the API server's CEL cost estimate.
    #[schemars(length(max = 253))]
    pub name: String,
    /// Methods (absent = any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<HttpMethod>>,
    /// Regex on the request path, anchored at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
}

impl HttpMatch {
    /// A match named `name` with no conditions.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Default::default()
        }
    }
    /// Sets the path regex.
    pub fn path_regex(mut self, re: &str) -> Self {
        self.path_regex = Some(re.into());
        self
    }
    /// Adds a method.
    pub fn method(mut self, m: HttpMethod) -> Self {
        self.methods.get_or_insert_with(Vec::new).push(m);
        self
    }
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
}

impl TcpRoute {
    /// A TCPRoute named `name`.
    pub fn new(name: &str) -> Self {
        Self::named(name)
    }
}
