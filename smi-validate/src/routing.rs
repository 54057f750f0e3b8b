//! Layer 2: routing a document by `apiVersion` + `kind`, and the built-in structural schemas.
//!
//! The table lists every SMI group/version/kind this validator knows. Each entry carries the
//! OpenAPI v3 schema of that version (the `openAPIV3Schema` a CRD would carry, with its CEL
//! `x-kubernetes-validations`). The schemas are written here from the SMI reference
//! (`smi-apis.md`), following the smi-sdk-go CRDs with the documented deviations in the crate
//! docs; when `smi-types` generates CRDs they can replace these (see [`Route::schema`]).

use serde_json::{Value, json};
use std::sync::OnceLock;

/// What kind of API a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    /// A CRD-backed kind that can be applied.
    Crd,
    /// An object of the `metrics.smi-spec.io` extension API server: read-only.
    ReadOnly,
}

/// One known SMI group/version/kind.
#[derive(Debug)]
pub struct Route {
    /// API group, e.g. `split.smi-spec.io`.
    pub group: &'static str,
    /// Version, e.g. `v1alpha4`.
    pub version: &'static str,
    /// Kind, e.g. `TrafficSplit`.
    pub kind: &'static str,
    /// CRD-backed or read-only.
    pub api: ApiKind,
    schema: fn() -> Value,
}

impl Route {
    /// `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
    /// The openAPIV3Schema of this version.
    pub fn schema(&self) -> Value {
        (self.schema)()
    }
}

/// The SMI API groups.
pub const SMI_GROUPS: &[&str] = &[
    "access.smi-spec.io",
    "specs.smi-spec.io",
    "split.smi-spec.io",
    "metrics.smi-spec.io",
    "perf.smi-spec.io",
];

/// All SMI kinds (any version).
pub fn smi_kinds() -> Vec<&'static str> {
    let mut k: Vec<&str> = routes().iter().map(|r| r.kind).collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The routing table.
pub fn routes() -> &'static [Route] {
    static R: OnceLock<Vec<Route>> = OnceLock::new();
    R.get_or_init(|| {
        let mut v = Vec::new();
        let mut add = |group, version, kind, api, schema: fn() -> Value| {
            v.push(Route { group, version, kind, api, schema })
        };
        const A: &str = "access.smi-spec.io";
        const S: &str = "specs.smi-spec.io";
        const SP: &str = "split.smi-spec.io";
        const M: &str = "metrics.smi-spec.io";
        const P: &str = "perf.smi-spec.io";
        add(A, "v1alpha1", "TrafficTarget", ApiKind::Crd, tt_v1alpha1);
        add(A, "v1alpha2", "TrafficTarget", ApiKind::Crd, tt_v1alpha2);
        add(A, "v1alpha3", "TrafficTarget", ApiKind::Crd, tt_v1alpha3);
        add(S, "v1alpha1", "HTTPRouteGroup", ApiKind::Crd, hrg_v1alpha1);
        add(S, "v1alpha1", "TCPRoute", ApiKind::Crd, tcp_nospec);
        add(S, "v1alpha2", "HTTPRouteGroup", ApiKind::Crd, hrg_v1alpha2);
        add(S, "v1alpha2", "TCPRoute", ApiKind::Crd, tcp_nospec);
        add(S, "v1alpha3", "HTTPRouteGroup", ApiKind::Crd, hrg_v1alpha3);
        add(S, "v1alpha3", "TCPRoute", ApiKind::Crd, tcp_v1alpha3);
        add(S, "v1alpha4", "HTTPRouteGroup", ApiKind::Crd, hrg_v1alpha3);
        add(S, "v1alpha4", "TCPRoute", ApiKind::Crd, l4_v1alpha4);
        add(S, "v1alpha4", "UDPRoute", ApiKind::Crd, l4_v1alpha4);
        add(SP, "v1alpha1", "TrafficSplit", ApiKind::Crd, ts_v1alpha1);
        add(SP, "v1alpha2", "TrafficSplit", ApiKind::Crd, ts_v1alpha2);
        add(SP, "v1alpha3", "TrafficSplit", ApiKind::Crd, ts_v1alpha3);
        add(SP, "v1alpha4", "TrafficSplit", ApiKind::Crd, ts_v1alpha3);
        add(M, "v1alpha1", "TrafficMetrics", ApiKind::ReadOnly, any_object);
        add(M, "v1alpha1", "TrafficMetricsList", ApiKind::ReadOnly, any_object);
        add(M, "v1alpha2", "TrafficMetrics", ApiKind::ReadOnly, any_object);
        add(M, "v1alpha2", "TrafficMetricsList", ApiKind::ReadOnly, any_object);
        add(P, "v1alpha1", "PerformanceTest", ApiKind::Crd, perf_test);
        add(P, "v1alpha1", "PerformanceTestResult", ApiKind::Crd, any_object);
        v
    })
}

/// Every known `group/version`, sorted.
pub fn known_api_versions() -> Vec<String> {
    let mut v: Vec<String> = routes().iter().map(Route::api_version).collect();
    v.sort();
    v.dedup();
    v
}

/// The outcome of routing one document.
#[derive(Debug)]
pub enum Routing<'a> {
    /// An SMI object of a known kind.
    Smi(&'a Route),
    /// Not an SMI document (skipped and counted).
    NotSmi,
    /// SMI group, unknown version (known versions of the group listed).
    UnknownVersion {
        /// The group.
        group: String,
        /// Its known versions.
        known: Vec<&'static str>,
    },
    /// Known SMI group/version, unknown kind.
    UnknownKind {
        /// The kinds of that group/version.
        known: Vec<&'static str>,
    },
    /// An SMI kind without apiVersion.
    MissingApiVersion {
        /// The kind.
        kind: String,
        /// apiVersions that have this kind.
        candidates: Vec<String>,
    },
    /// An SMI apiVersion without kind.
    MissingKind,
    /// `apiVersion: v1alpha1` with an SMI kind.
    VersionWithoutGroup {
        /// apiVersions that have this kind.
        candidates: Vec<String>,
    },
}

/// Routes a document by its `apiVersion` and `kind` strings (either may be absent).
pub fn route<'a>(api_version: Option<&str>, kind: Option<&str>) -> Routing<'a> {
    let table = routes();
    let smi_kind = |k: &str| table.iter().any(|r| r.kind == k);
    let candidates = |k: &str| -> Vec<String> {
        let mut c: Vec<String> = table.iter().filter(|r| r.kind == k).map(Route::api_version).collect();
        c.dedup();
        c
    };
    let Some(av) = api_version else {
        return match kind {
            Some(k) if smi_kind(k) => Routing::MissingApiVersion { kind: k.to_owned(), candidates: candidates(k) },
            _ => Routing::NotSmi,
        };
    };
    let (group, version) = match av.split_once('/') {
        Some((g, v)) => (g, v),
        None => {
            // core group (`v1`) or a group-less SMI version such as `v1alpha1`
            return match kind {
                Some(k) if smi_kind(k) && av.starts_with("v1alpha") => {
                    Routing::VersionWithoutGroup { candidates: candidates(k) }
                }
                _ => Routing::NotSmi,
            };
        }
    };
    if !SMI_GROUPS.contains(&group) {
        return Routing::NotSmi;
    }
    let in_group: Vec<&Route> = table.iter().filter(|r| r.group == group).collect();
    if !in_group.iter().any(|r| r.version == version) {
        let mut known: Vec<&str> = in_group.iter().map(|r| r.version).collect();
        known.dedup();
        return Routing::UnknownVersion { group: group.to_owned(), known };
    }
    let Some(kind) = kind else { return Routing::MissingKind };
    match in_group.iter().find(|r| r.version == version && r.kind == kind) {
        Some(r) => Routing::Smi(r),
        None => Routing::UnknownKind {
            known: in_group.iter().filter(|r| r.version == version).map(|r| r.kind).collect(),
        },
    }
}

// ---- schemas -------------------------------------------------------------------------------

fn root(props: Value, required: &[&str]) -> Value {
    let mut p = json!({
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
    });
    p.as_object_mut().unwrap().extend(props.as_object().unwrap().clone());
    json!({"type": "object", "required": required, "properties": p})
}

fn subject(port: Option<&str>) -> Value {
    let mut s = json!({
        "type": "object",
        "required": ["kind", "name"],
        "properties": {
            "kind": {"type": "string"},
            "name": {"type": "string"},
            "namespace": {"type": "string"},
        }
    });
    if let Some(t) = port {
        s["properties"]["port"] = json!({"type": t, "minimum": 1, "maximum": 65535});
    }
    s
}

fn rules(kinds: &[&str]) -> Value {
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["kind", "name"],
            "properties": {
                "kind": {"type": "string", "enum": kinds},
                "name": {"type": "string"},
                "matches": {"type": "array", "items": {"type": "string"}},
            }
        }
    })
}

fn tt_v1alpha1() -> Value {
    root(
        json!({
            "destination": subject(Some("integer")),
            "sources": {"type": "array", "items": subject(Some("integer"))},
            "specs": rules(&["HTTPRouteGroup", "TCPRoute"]),
        }),
        &["destination"],
    )
}

fn tt_v1alpha2() -> Value {
    root(
        json!({"spec": {
            "type": "object",
            "required": ["destination"],
            "properties": {
                "destination": subject(Some("integer")),
                "sources": {"type": "array", "items": subject(Some("integer"))},
                "rules": rules(&["HTTPRouteGroup", "TCPRoute"]),
            }
        }}),
        &["spec"],
    )
}

fn tt_v1alpha3() -> Value {
    root(
        json!({"spec": {
            "type": "object",
            "required": ["destination", "rules", "sources"],
            "properties": {
                "destination": subject(None),
                "sources": {"type": "array", "items": subject(None)},
                "rules": rules(&["HTTPRouteGroup", "TCPRoute", "UDPRoute"]),
            }
        }}),
        &["spec"],
    )
}

const METHODS: &[&str] = &["*", "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

fn http_matches(headers: bool) -> Value {
    let mut m = json!({
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "methods": {"type": "array", "items": {"type": "string", "enum": METHODS}},
            "pathRegex": {"type": "string"},
        }
    });
    if headers {
        // Both wire shapes occur (list of one-key maps, and a map); the shape is checked by the
        // headers rule (SMI1307) and the `--target` lints (SMI1508/SMI1509).
        m["properties"]["headers"] = json!({"x-kubernetes-preserve-unknown-fields": true});
    }
    json!({"type": "array", "items": m})
}

fn hrg_v1alpha1() -> Value {
    root(json!({"matches": http_matches(false)}), &["matches"])
}

fn hrg_v1alpha2() -> Value {
    root(json!({"matches": http_matches(true)}), &["matches"])
}

fn hrg_v1alpha3() -> Value {
    root(
        json!({"spec": {"type": "object", "required": ["matches"], "properties": {"matches": http_matches(true)}}}),
        &["spec"],
    )
}

fn tcp_nospec() -> Value {
    root(json!({}), &[])
}

fn tcp_v1alpha3() -> Value {
    root(json!({"spec": {"type": "object", "properties": {}}}), &[])
}

fn l4_v1alpha4() -> Value {
    root(
        json!({"spec": {
            "type": "object",
            "required": ["matches"],
            "properties": {"matches": {
                "type": "object",
                "required": ["ports"],
                "properties": {
                    "name": {"type": "string"},
                    "ports": {"type": "array", "items": {"type": "integer"}},
                }
            }}
        }}),
        &["spec"],
    )
}

const QUANTITY: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

fn ts_v1alpha1() -> Value {
    root(
        json!({"spec": {
            "type": "object",
            "properties": {
                "service": {"type": "string"},
                "backends": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "service": {"type": "string"},
                        "weight": {"x-kubernetes-int-or-string": true, "pattern": QUANTITY},
                    }
                }},
            }
        }}),
        &[],
    )
}

fn ts_spec(matches: bool) -> Value {
    let mut spec = json!({
        "type": "object",
        "required": ["service", "backends"],
        "properties": {
            "service": {"type": "string"},
            "backends": {"type": "array", "items": {
                "type": "object",
                "required": ["service", "weight"],
                "properties": {
                    "service": {"type": "string"},
                    "weight": {"type": "integer", "minimum": 0},
                }
            }},
        },
        "x-kubernetes-validations": [{
            "rule": "self.backends.all(b, self.backends.exists_one(c, c.service == b.service))",
            "message": "each backend service may appear only once",
            "fieldPath": ".backends",
        }],
    });
    if matches {
        spec["properties"]["matches"] = json!({"type": "array", "items": {
            "type": "object",
            "required": ["kind", "name"],
            "properties": {
                "kind": {"type": "string", "enum": ["HTTPRouteGroup"]},
                "name": {"type": "string"},
                "apiGroup": {"type": "string"},
            }
        }});
    }
    spec
}

fn ts_v1alpha2() -> Value {
    root(json!({"spec": ts_spec(false)}), &["spec"])
}

fn ts_v1alpha3() -> Value {
    root(json!({"spec": ts_spec(true)}), &["spec"])
}

fn perf_test() -> Value {
    root(
        json!({
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        }),
        &["spec"],
    )
}

fn any_object() -> Value {
    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_smi_and_others() {
        assert!(matches!(route(Some("split.smi-spec.io/v1alpha4"), Some("TrafficSplit")), Routing::Smi(_)));
        assert!(matches!(route(Some("v1"), Some("Service")), Routing::NotSmi));
        assert!(matches!(route(None, None), Routing::NotSmi));
        assert!(matches!(route(None, Some("TrafficSplit")), Routing::MissingApiVersion { .. }));
        assert!(matches!(route(Some("access.smi-spec.io/v1alpha4"), Some("IdentityBinding")), Routing::UnknownVersion { .. }));
        assert!(matches!(route(Some("specs.smi-spec.io/v1alpha3"), Some("UDPRoute")), Routing::UnknownKind { .. }));
        assert!(matches!(route(Some("v1alpha1"), Some("HTTPRouteGroup")), Routing::VersionWithoutGroup { .. }));
    }
}
