//! `specs.smi-spec.io/v1alpha1`: HTTPRouteGroup with top-level `matches`; TCPRoute with no body.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;

/// Named HTTP matches (top-level `matches`, no `spec` in this version).
///
/// ```
/// use smi_types::specs::v1alpha1::*;
/// let g = HttpRouteGroup::new("routes").with_match(HttpMatch::new("metrics").path_regex("/metrics").method(HttpMethod::Get));
/// assert_eq!(serde_json::to_value(&g).unwrap()["matches"][0]["methods"][0], "GET");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HttpRouteGroup {
    /// `apiVersion` as read; empty = absent.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind` as read; empty = absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The matches (one match = one route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256), extend("x-kubernetes-validations" = [{"rule": super::UNIQUE_MATCH_NAMES_RULE, "message": "match names must be unique"}]))]
    pub matches: Option<Vec<HttpMatch>>,
}

crate::macros::smi_kind!(
    HttpRouteGroup,
    HttpRouteGroupList,
    group = "specs.smi-spec.io",
    version = "v1alpha1",
    kind = "HTTPRouteGroup",
    plural = "httproutegroups"
);

impl HttpRouteGroup {
    /// An empty group named `name`.
    pub fn new(name: &str) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: crate::macros::named(name),
            matches: None,
        }
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

/// A TCP route; this version has no body at all.
///
/// ```
/// let r = smi_types::specs::v1alpha1::TcpRoute::new("db");
/// assert_eq!(serde_json::to_value(&r).unwrap()["kind"], "TCPRoute");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpRoute {
    /// `apiVersion` as read; empty = absent.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// `kind` as read; empty = absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

crate::macros::smi_kind!(
    TcpRoute,
    TcpRouteList,
    group = "specs.smi-spec.io",
    version = "v1alpha1",
    kind = "TCPRoute",
    plural = "tcproutes"
);

impl TcpRoute {
    /// A TCPRoute named `name`.
    pub fn new(name: &str) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: crate::macros::named(name),
        }
    }
}
