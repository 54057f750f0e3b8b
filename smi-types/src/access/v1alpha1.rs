//! `access.smi-spec.io/v1alpha1`: TrafficTarget with its fields at the top level (no `spec`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::RouteKind;

crate::macros::smi_object! {
    group = "access.smi-spec.io", version = "v1alpha1", kind = "TrafficTarget", plural = "traffictargets", list = TrafficTargetList;
    /// Allows `sources` to reach `destination` over the routes in `specs` (no `spec` wrapper in
    /// this version).
    ///
    /// ```
    /// use smi_types::access::v1alpha1::*;
    /// let tt = TrafficTarget::new("api", IdentityBindingSubject::service_account("api"))
    ///     .source(IdentityBindingSubject::service_account("prometheus"))
    ///     .rule(TrafficTargetRule::new(RouteKind::HttpRouteGroup, "api-routes"));
    /// assert_eq!(serde_json::to_value(&tt).unwrap()["destination"]["name"], "api");
    /// ```
    pub struct TrafficTarget {
        /// The workload identity allowed to be reached.
        pub destination: IdentityBindingSubject,
        /// Identities allowed to call the destination.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sources: Option<Vec<IdentityBindingSubject>>,
        /// Routes allowed (Go calls this type `TrafficTargetSpec`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub specs: Option<Vec<TrafficTargetRule>>,
    }
}

impl TrafficTarget {
    /// A TrafficTarget named `name` for `destination`.
    pub fn new(name: &str, destination: IdentityBindingSubject) -> Self {
        Self {
            destination,
            ..Self::named(name)
        }
    }
    /// Adds a source.
    pub fn source(mut self, s: IdentityBindingSubject) -> Self {
        self.sources.get_or_insert_with(Vec::new).push(s);
        self
    }
    /// Adds a rule.
    pub fn rule(mut self, r: TrafficTargetRule) -> Self {
        self.specs.get_or_insert_with(Vec::new).push(r);
        self
    }
}

/// A workload identity (`kind: ServiceAccount` in the docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IdentityBindingSubject {
    /// Kind of identity, `ServiceAccount`.
    pub kind: String,
    /// Name of the identity.
    pub name: String,
    /// Namespace of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port restriction (absent = all ports). Dropped when converting to v1alpha3+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

impl IdentityBindingSubject {
    /// A `ServiceAccount` subject.
    pub fn service_account(name: &str) -> Self {
        Self {
            kind: "ServiceAccount".into(),
            name: name.into(),
            ..Default::default()
        }
    }
    /// Sets the namespace.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.into());
        self
    }
    /// Sets the port.
    pub fn port(mut self, port: i32) -> Self {
        self.port = Some(port);
        self
    }
}

/// A route reference: `kind` + `name` of a route object, optionally restricted to named matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficTargetRule {
    /// Kind of the route object.
    pub kind: RouteKind,
    /// Name of the route object in the same namespace.
    pub name: String,
    /// HTTPRouteGroup match names (absent = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<String>>,
}

impl TrafficTargetRule {
    /// A rule for every match of route `name`.
    pub fn new(kind: RouteKind, name: &str) -> Self {
        Self {
            kind,
            name: name.into(),
            matches: None,
        }
    }
    /// Restricts the rule to a named match.
    pub fn matching(mut self, m: &str) -> Self {
        self.matches.get_or_insert_with(Vec::new).push(m.into());
        self
    }
}
