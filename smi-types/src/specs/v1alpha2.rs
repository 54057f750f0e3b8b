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

/// One HTTP route: conditions that must all hold (v1alpha2–v1alpha4 shape).
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
    /// Header conditions (both wire forms read; see [`HttpHeaders`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<HttpHeaders>,
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
    /// Sets the header conditions.
    pub fn headers(mut self, h: HttpHeaders) -> Self {
        self.headers = Some(h);
        self
    }
}

crate::macros::smi_object! {
    group = "specs.smi-spec.io", version = "v1alpha2", kind = "TCPRoute", plural = "tcproutes", list = TcpRouteList;
    /// A TCP route; this version has no body at all.
    pub struct TcpRoute {}
}

impl TcpRoute {
    /// A TCPRoute named `name`.
    pub fn new(name: &str) -> Self {
        Self::named(name)
    }
}
