//! `specs.smi-spec.io/v1alpha3`: HTTPRouteGroup with `spec.matches`; TCPRoute with `spec: {}`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::HttpMethod;
pub use super::v1alpha2::HttpMatch;
pub use crate::headers::{HeadersForm, HttpHeaders};

/// Named HTTP matches under `spec.matches`. `spec` is required: the spec docs' examples that
/// put `matches` at the top level are invalid for this version and fail to parse.
///
/// ```
/// use smi_types::specs::v1alpha3::*;
/// let g = HttpRouteGroup::new("routes").with_match(HttpMatch::new("all").path_regex(".*"));
/// assert_eq!(serde_json::to_value(&g).unwrap()["spec"]["matches"][0]["pathRegex"], ".*");
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
    /// The body.
    pub spec: HttpRouteGroupSpec,
}

crate::macros::smi_kind!(
    HttpRouteGroup,
    HttpRouteGroupList,
    group = "specs.smi-spec.io",
    version = "v1alpha3",
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
            spec: HttpRouteGroupSpec::default(),
        }
    }
    /// Adds a match.
    pub fn with_match(mut self, m: HttpMatch) -> Self {
        self.spec.matches.get_or_insert_with(Vec::new).push(m);
        self
    }
}

/// Body of an HTTPRouteGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HttpRouteGroupSpec {
    /// The matches (one match = one route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256), extend("x-kubernetes-validations" = [{"rule": super::UNIQUE_MATCH_NAMES_RULE, "message": "match names must be unique"}]))]
    pub matches: Option<Vec<HttpMatch>>,
}

/// A TCP route; in this version the body is the empty object `spec: {}`.
///
/// ```
/// let r = smi_types::specs::v1alpha3::TcpRoute::new("db");
/// assert_eq!(serde_json::to_value(&r).unwrap()["spec"], serde_json::json!({}));
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
    /// The (empty) body; absent and `{}` are both kept as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<TcpRouteSpec>,
}

crate::macros::smi_kind!(
    TcpRoute,
    TcpRouteList,
    group = "specs.smi-spec.io",
    version = "v1alpha3",
    kind = "TCPRoute",
    plural = "tcproutes"
);

impl TcpRoute {
    /// A TCPRoute named `name` with `spec: {}`.
    pub fn new(name: &str) -> Self {
        Self {
            api_version: Self::API_VERSION.into(),
            kind: Self::KIND.into(),
            metadata: crate::macros::named(name),
            spec: Some(TcpRouteSpec {}),
        }
    }
}

/// The empty TCPRoute body of this version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpRouteSpec {}
