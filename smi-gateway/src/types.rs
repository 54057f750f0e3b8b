//! The subset of the Gateway API, Linkerd policy and Istio security types this crate emits,
//! typed with serde (the kube-rs `gateway-api` crate pins kube 4 / k8s-openapi 0.28; this
//! workspace is on kube 5 / k8s-openapi 0.29).
//!
//! Field names and enums follow the pinned upstream CRDs (Gateway API v1.6.1, Linkerd
//! `version-2.20`, Istio 1.30.3); the crate's tests validate every emitted object against them.
//! Optional fields are `Option`/empty and skipped when absent, so that the API server's
//! defaults apply.
//!
//! ```
//! use smi_gateway::types::*;
//! let route = HttpRoute::new("web", HttpRouteSpec {
//!     parent_refs: vec![ParentReference::service("web", None)],
//!     rules: vec![HttpRouteRule {
//!         backend_refs: vec![BackendRef::service("web-v2", 8080, Some(1))],
//!         ..Default::default()
//!     }],
//! });
//! let v = serde_json::to_value(&route).unwrap();
//! assert_eq!(v["apiVersion"], "gateway.networking.k8s.io/v1");
//! assert_eq!(v["spec"]["parentRefs"][0]["group"], "");
//! ```

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `gateway.networking.k8s.io/v1`.
pub const GATEWAY_API_VERSION: &str = "gateway.networking.k8s.io/v1";
/// `policy.linkerd.io`.
pub const LINKERD_GROUP: &str = "policy.linkerd.io";
/// `security.istio.io/v1`.
pub const ISTIO_SECURITY_API_VERSION: &str = "security.istio.io/v1";

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}

macro_rules! object {
    ($(#[$doc:meta])* $name:ident, $spec:ty, $api_version:expr, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// `apiVersion`.
            pub api_version: String,
            /// `kind`.
            pub kind: String,
            /// Object metadata.
            pub metadata: ObjectMeta,
            /// The body.
            pub spec: $spec,
        }

        impl $name {
            /// `apiVersion` of this kind.
            pub const API_VERSION: &'static str = $api_version;
            /// `kind`.
            pub const KIND: &'static str = $kind;

            /// An object named `name`.
            pub fn new(name: &str, spec: $spec) -> Self {
                Self {
                    api_version: Self::API_VERSION.to_owned(),
                    kind: Self::KIND.to_owned(),
                    metadata: meta(name),
                    spec,
                }
            }
        }
    };
}

object!(
    /// Gateway API `HTTPRoute` (v1, standard channel).
    HttpRoute, HttpRouteSpec, GATEWAY_API_VERSION, "HTTPRoute"
);
object!(
    /// Gateway API `TCPRoute` (v1: standard channel since Gateway API v1.6).
    TcpRoute, TcpRouteSpec, GATEWAY_API_VERSION, "TCPRoute"
);
object!(
    /// Linkerd `Server` (`policy.linkerd.io/v1beta3`): a port of a set of pods.
    Server, ServerSpec, "policy.linkerd.io/v1beta3", "Server"
);
object!(
    /// Linkerd `MeshTLSAuthentication` (`policy.linkerd.io/v1alpha1`): a set of mTLS client
    /// identities.
    MeshTlsAuthentication, MeshTlsAuthenticationSpec, "policy.linkerd.io/v1alpha1", "MeshTLSAuthentication"
);
object!(
    /// Linkerd `AuthorizationPolicy` (`policy.linkerd.io/v1alpha1`).
    LinkerdAuthorizationPolicy, LinkerdAuthorizationPolicySpec, "policy.linkerd.io/v1alpha1", "AuthorizationPolicy"
);
object!(
    /// Istio `AuthorizationPolicy` (`security.istio.io/v1`).
    IstioAuthorizationPolicy, IstioAuthorizationPolicySpec, ISTIO_SECURITY_API_VERSION, "AuthorizationPolicy"
);

/// `HTTPRoute.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// What the route attaches to (a Service, for GAMMA).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// The rules (at most 16, fewer than 128 matches in all).
    #[serde(default)]
    pub rules: Vec<HttpRouteRule>,
}

/// `TCPRoute.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpRouteSpec {
    /// What the route attaches to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// Exactly one rule.
    pub rules: Vec<TcpRouteRule>,
}

/// A `parentRefs` item.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// API group (`""` for a core Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (`Service`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace (absent: the route's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Section (listener / port name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// Port of the parent (absent: every port of the Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

impl ParentReference {
    /// `{group: "", kind: Service, name, port?}`: a GAMMA parent.
    pub fn service(name: &str, port: Option<i32>) -> Self {
        Self {
            group: Some(String::new()),
            kind: Some("Service".into()),
            namespace: None,
            name: name.into(),
            section_name: None,
            port,
        }
    }

    /// `{group: policy.linkerd.io, kind: Server, name}`: a Linkerd inbound parent.
    pub fn linkerd_server(name: &str) -> Self {
        Self {
            group: Some(LINKERD_GROUP.into()),
            kind: Some("Server".into()),
            name: name.into(),
            ..Default::default()
        }
    }
}

/// A `backendRefs` item (a Service when `group`/`kind` are absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendRef {
    /// API group (absent: core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (absent: Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    pub name: String,
    /// Namespace (absent: the route's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port; required for a Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Relative weight, 0–1,000,000 (absent: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
}

impl BackendRef {
    /// A Service backend.
    pub fn service(name: &str, port: i32, weight: Option<i32>) -> Self {
        Self {
            name: name.into(),
            port: Some(port),
            weight,
            ..Default::default()
        }
    }
}

/// An `HTTPRoute` rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Optional rule name (a DNS subdomain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Matches, OR'ed. Absent = every request (`PathPrefix /`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpRouteMatch>,
    /// Weighted backends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
}

/// An `HTTPRouteMatch`: path, headers and method AND'ed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// Path match (absent: `PathPrefix /`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
    /// Header matches (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HttpHeaderMatch>,
    /// HTTP method (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// Path match type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathMatchType {
    /// The whole path.
    Exact,
    /// A prefix on `/`-separated elements.
    PathPrefix,
    /// A regular expression (implementation-specific support).
    RegularExpression,
}

/// An `HTTPPathMatch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpPathMatch {
    /// Match type.
    #[serde(rename = "type")]
    pub kind: PathMatchType,
    /// Value.
    pub value: String,
}

/// Header match type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeaderMatchType {
    /// The exact value.
    Exact,
    /// A regular expression (implementation-specific support).
    RegularExpression,
}

/// An `HTTPHeaderMatch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpHeaderMatch {
    /// Match type.
    #[serde(rename = "type")]
    pub kind: HeaderMatchType,
    /// Header name (case-insensitive).
    pub name: String,
    /// Value or regular expression.
    pub value: String,
}

/// A `TCPRoute` rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpRouteRule {
    /// Optional rule name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Weighted backends (1–16).
    pub backend_refs: Vec<BackendRef>,
}

/// A label selector with `matchLabels` only.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchLabels {
    /// Labels a pod must carry.
    pub match_labels: BTreeMap<String, String>,
}

/// Linkerd `Server.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSpec {
    /// The pods.
    pub pod_selector: MatchLabels,
    /// The pod port (number).
    pub port: i32,
}

/// A reference with group, kind and name (Linkerd `targetRef`, `identityRefs`…).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    /// API group (absent: core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (absent: the policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Linkerd `MeshTLSAuthentication.spec` (`identityRefs` or `identities`, not both).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshTlsAuthenticationSpec {
    /// ServiceAccounts whose mTLS identity is accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_refs: Vec<PolicyRef>,
    /// Identity strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
}

/// Linkerd `AuthorizationPolicy.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkerdAuthorizationPolicySpec {
    /// A Server or an inbound HTTPRoute.
    pub target_ref: PolicyRef,
    /// Authentications that must all hold.
    pub required_authentication_refs: Vec<PolicyRef>,
}

/// Istio `AuthorizationPolicy.spec` (ALLOW policies only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioAuthorizationPolicySpec {
    /// The workloads the policy applies to.
    pub selector: MatchLabels,
    /// `ALLOW`.
    pub action: String,
    /// Rules, OR'ed; an ALLOW policy without rules allows nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<IstioRule>,
}

/// An Istio rule: `from`, `to` and `when` AND'ed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioRule {
    /// Sources, OR'ed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<IstioFrom>,
    /// Operations, OR'ed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<IstioTo>,
    /// Conditions, AND'ed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<IstioCondition>,
}

/// `from[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IstioFrom {
    /// The source.
    pub source: IstioSource,
}

/// `from[].source`: `serviceAccounts` excludes `principals`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioSource {
    /// `namespace/name` of ServiceAccounts (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<String>,
    /// Peer identities (`trust-domain/ns/NS/sa/SA`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
}

/// `to[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IstioTo {
    /// The operation.
    pub operation: IstioOperation,
}

/// `to[].operation`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IstioOperation {
    /// Methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Paths (exact, `prefix*`, `*suffix`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Ports, as strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
}

/// `when[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IstioCondition {
    /// Attribute (`request.headers[name]`).
    pub key: String,
    /// Accepted values (exact, `prefix*`, `*suffix`, `*`).
    pub values: Vec<String>,
}
