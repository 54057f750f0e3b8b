//! Layer 2: routing a document by `apiVersion` + `kind`, and the structural schema of each kind.
//!
//! The table comes from `smi-types`' kind registry: [`smi_types::registry`] lists the kinds
//! (and which are served by an aggregated API rather than CRDs), and the
//! CRDs of [`smi_types::crd::generate`] (flavour `AllVersions`) give each version's
//! `openAPIV3Schema` with its CEL `x-kubernetes-validations`. The schemas are normalized once for
//! the structure walker (see [`normalize`]). `metrics.smi-spec.io` kinds are served by an
//! extension API server, not CRDs: they are routed as read-only.

use serde_json::{Map, Value, json};
use std::collections::HashMap;
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
    schema: Value,
}

impl Route {
    /// `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
    /// The (normalized) openAPIV3Schema of this version.
    pub fn schema(&self) -> &Value {
        &self.schema
    }
}

/// The SMI API groups (smi-types' list, re-exported).
pub use smi_types::dynamic::SMI_GROUPS;

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
        let mut schemas: HashMap<(String, String, String), Value> = HashMap::new();
        for crd in smi_types::crd::generate(smi_types::crd::Flavour::AllVersions) {
            for v in &crd.spec.versions {
                let Some(s) = v
                    .schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref())
                else {
                    continue;
                };
                let Ok(mut s) = serde_json::to_value(s) else {
                    continue;
                };
                normalize(&mut s, 0);
                // the server decodes `metadata` as `ObjectMeta`, whatever the CRD says
                if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
                    props.insert("metadata".into(), crate::meta::object_meta_schema());
                }
                schemas.insert(
                    (
                        crd.spec.group.clone(),
                        v.name.clone(),
                        crd.spec.names.kind.clone(),
                    ),
                    s,
                );
            }
        }
        let mut out = Vec::new();
        for (group, versions) in smi_types::known_api_versions() {
            for (version, kinds) in versions {
                for kind in kinds {
                    let key = (group.to_owned(), version.to_owned(), kind.to_owned());
                    let aggregated =
                        smi_types::registry::lookup(&format!("{group}/{version}"), kind)
                            .is_some_and(|kv| kv.api == smi_types::registry::Api::Aggregated);
                    let (api, schema) = match schemas.remove(&key) {
                        Some(s) => (ApiKind::Crd, s),
                        None if aggregated => (ApiKind::ReadOnly, any_object()),
                        // a kind without CRD schema: route it, check only what the rules check
                        None => (ApiKind::Crd, any_object()),
                    };
                    out.push(Route {
                        group,
                        version,
                        kind,
                        api,
                        schema,
                    });
                }
            }
        }
        out
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
        let mut c: Vec<String> = table
            .iter()
            .filter(|r| r.kind == k)
            .map(Route::api_version)
            .collect();
        c.dedup();
        c
    };
    let Some(av) = api_version else {
        return match kind {
            Some(k) if smi_kind(k) => Routing::MissingApiVersion {
                kind: k.to_owned(),
                candidates: candidates(k),
            },
            _ => Routing::NotSmi,
        };
    };
    let (group, version) = match av.split_once('/') {
        Some((g, v)) => (g, v),
        None => {
            // core group (`v1`) or a group-less SMI version such as `v1alpha1`
            return match kind {
                Some(k) if smi_kind(k) && av.starts_with("v1alpha") => {
                    Routing::VersionWithoutGroup {
                        candidates: candidates(k),
                    }
                }
                _ => Routing::NotSmi,
            };
        }
    };
    let known = smi_types::registry::versions_of_group(group);
    if known.is_empty() {
        return Routing::NotSmi;
    }
    if !known.contains(&version) {
        return Routing::UnknownVersion {
            group: group.to_owned(),
            known,
        };
    }
    let in_group: Vec<&Route> = table.iter().filter(|r| r.group == group).collect();
    let Some(kind) = kind else {
        return Routing::MissingKind;
    };
    match in_group
        .iter()
        .find(|r| r.version == version && r.kind == kind)
    {
        Some(r) => Routing::Smi(r),
        None => Routing::UnknownKind {
            known: in_group
                .iter()
                .filter(|r| r.version == version)
                .map(|r| r.kind)
                .collect(),
        },
    }
}

// ---- schema normalization ----------------------------------------------------------------

/// CEL rules of the generated CRDs that a dedicated rule of this crate reports with a more
/// precise position and its own code; they are not evaluated a second time.
pub const COVERED_CEL_RULES: &[&str] = &[
    smi_types::specs::UNIQUE_MATCH_NAMES_RULE, // SMI1304
    "self.all(p, p >= 1 && p <= 65535)",       // SMI1309
];

/// Prepares a generated CRD schema for the structure walker:
/// * a `oneOf` whose branches are each a single `enum` value becomes one `enum` (schemars
///   writes documented enums that way), so a bad value is "not allowed" with the list;
/// * `headers` accepts both wire shapes (list of one-key maps, and map); the headers rules
///   (SMI1306/SMI1307) and the `--target` lints (SMI1508/SMI1509) check the shape;
/// * CEL rules in [`COVERED_CEL_RULES`] are removed.
pub fn normalize(v: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    let Some(o) = v.as_object_mut() else { return };
    if let Some(Value::Array(branches)) = o.get("oneOf") {
        let single: Option<Vec<Value>> = branches
            .iter()
            .map(|b| match b.get("enum") {
                Some(Value::Array(e)) if e.len() == 1 => Some(e[0].clone()),
                _ => None,
            })
            .collect();
        if let Some(values) = single {
            let ty = branches.first().and_then(|b| b.get("type")).cloned();
            o.remove("oneOf");
            o.insert("enum".into(), Value::Array(values));
            if let Some(t) = ty {
                o.entry("type").or_insert(t);
            }
        }
    }
    if let Some(Value::Array(rules)) = o.get_mut("x-kubernetes-validations") {
        rules.retain(|r| {
            !r.get("rule")
                .and_then(Value::as_str)
                .is_some_and(|r| COVERED_CEL_RULES.contains(&r))
        });
        if rules.is_empty() {
            o.remove("x-kubernetes-validations");
        }
    }
    if let Some(Value::Object(props)) = o.get_mut("properties")
        && let Some(h) = props.get_mut("headers")
    {
        *h = json!({"x-kubernetes-preserve-unknown-fields": true});
    }
    for (_, child) in o.iter_mut() {
        match child {
            Value::Object(_) => normalize(child, depth + 1),
            Value::Array(a) => a.iter_mut().for_each(|c| normalize(c, depth + 1)),
            _ => {}
        }
    }
}

fn any_object() -> Value {
    let mut m = Map::new();
    m.insert("type".into(), "object".into());
    m.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_smi_and_others() {
        assert!(matches!(
            route(Some("split.smi-spec.io/v1alpha4"), Some("TrafficSplit")),
            Routing::Smi(_)
        ));
        assert!(matches!(
            route(Some("v1"), Some("Service")),
            Routing::NotSmi
        ));
        assert!(matches!(route(None, None), Routing::NotSmi));
        assert!(matches!(
            route(None, Some("TrafficSplit")),
            Routing::MissingApiVersion { .. }
        ));
        assert!(matches!(
            route(Some("access.smi-spec.io/v1alpha9"), Some("IdentityBinding")),
            Routing::UnknownVersion { .. }
        ));
        assert!(matches!(
            route(Some("specs.smi-spec.io/v1alpha3"), Some("UDPRoute")),
            Routing::UnknownKind { .. }
        ));
        assert!(matches!(
            route(Some("v1alpha1"), Some("HTTPRouteGroup")),
            Routing::VersionWithoutGroup { .. }
        ));
    }
}
