//! `apiextensions.k8s.io/v1` CustomResourceDefinitions for every SMI CRD kind, generated from the
//! types' schemars schemas.
//!
//! One CRD per kind with all its versions. Two flavours ([`Flavour`]): every version served with
//! a conversion webhook, or served/storage exactly as the smi-sdk-go CRDs most meshes ship.
//!
//! Every group, `perf.smi-spec.io` included, goes through one pipeline: the type's schemars
//! schema → [`schema_for`] (structural rewrite) → one generic CRD builder. Schemas are
//! structural, as the API server requires (checked offline by `tests/crd_golden.rs` and against
//! a real API server by the e2e suite). The rewrite is this crate's own [`schema_for`], not
//! kube-core's `StructuralSchemaRewriter`: that transform hoists `oneOf`/`anyOf` enum variants
//! and rewrites flattened maps (and documents that it may panic when it cannot apply), while the
//! list below needs more: the root `metadata`, variant descriptions inside `oneOf`, formats the
//! server does not know, the int-or-string quantity. One function that does all of it, and
//! never panics, serves every group; the perf group's CEL rules are attached by its types
//! (`perf::v1alpha1::SPEC_RULES` and siblings) before the rewrite, like the SMI groups'
//! [`CEL_RULES`]. What the rewrite does:
//!
//! - references inlined, `$schema`/definitions/`default`/`nullable` dropped;
//! - a `type` on every field; enums whose variants carry doc comments (schemars emits
//!   `oneOf: [{type, description, enum}, …]`) folded into `type: string` + `enum` on the field,
//!   which keeps its own description (nothing but value validations may sit inside
//!   `oneOf`/`anyOf`);
//! - `Option<T>`'s null alternative dropped (the API server drops nulls of non-nullable fields);
//! - the root `metadata` is `{type: object}` only (the server allows nothing but `name` and
//!   `generateName` there, not even a description);
//! - the v1alpha1 TrafficSplit weight is `x-kubernetes-int-or-string` with the quantity pattern;
//! - the rules that matter emitted as OpenAPI constraints and CEL `x-kubernetes-validations` on
//!   the node they apply to ([`CEL_RULES`] lists the SMI ones; the perf ones are in
//!   [`crate::perf::v1alpha1`]), with a `maxItems`/`maxProperties`/`maxLength` on everything a
//!   rule walks, so the API server's cost estimate stays within its per-rule and per-CRD limits;
//! - `PerformanceTestResult` carries a root transition rule that makes it immutable once
//!   written, generated from its schema's top-level fields.
//!
//! Decisions that differ from the smi-sdk-go CRDs:
//!
//! | field | smi-sdk-go | here | why |
//! |---|---|---|---|
//! | `headers` | array of objects (any number of keys) | array of one-key objects | the sdk's own unmarshaller rejects items with more than one key |
//! | HTTP `matches` | no uniqueness | CEL: names unique; at most 256 matches, names at most 253 characters | names are the key other objects reference; the bounds keep the rule within the API server's CEL cost budget |
//! | TCP/UDP `ports` | no bounds | items 1–65535 (OpenAPI and CEL), at most 65535 items | |
//! | port / weight | `type: number` | `integer`, ports 1–65535, weights ≥ 0 | Go types are ints |
//! | TrafficTarget v1alpha1 `destination.port` | required | optional | the docs say optional (omit = all ports) |
//! | `spec` of HTTPRouteGroup v1alpha3+, TrafficSplit, TCP/UDPRoute v1alpha4 | optional | required | an object without it means nothing (and catches the docs' top-level `matches` bug) |
//! | HTTPRouteGroup `matches`, TCPRoute `matches.ports` | required | optional | Go `omitempty`; absent ports = all ports |
//! | IdentityBinding `schemes` | (controller-sdk) no exclusivity rule | no exclusivity rule either | the spec text calls `podLabelSelector` and `serviceAccount` exclusive, but its only example sets both; see [`crate::access::v1alpha4::IdentityBindingSchemes`] |
//! | TrafficSplit v1alpha1 `weight` | `type: number` | int-or-string quantity, no minus sign, `minimum: 0` | a bare decimal (`0.5`) is refused by the server for an int-or-string field, so the types refuse it too; see [`crate::split::v1alpha1::TrafficSplitBackend::weight`] |
//!
//! ```
//! use smi_types::crd::{self, Flavour};
//! let crds = crd::generate(Flavour::SdkCompatible);
//! let ts = crds.iter().find(|c| c.spec.names.kind == "TrafficSplit").unwrap();
//! assert!(ts.spec.versions.iter().all(|v| v.name != "v1alpha1"));
//! let yaml = crd::to_yaml(&crds);
//! assert!(yaml.contains("name: trafficsplits.split.smi-spec.io"));
//! ```

use k8s_openapi::ByteString;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceConversion, CustomResourceDefinition,
    CustomResourceDefinitionNames, CustomResourceDefinitionSpec, CustomResourceDefinitionVersion,
    CustomResourceSubresourceStatus, CustomResourceSubresources, CustomResourceValidation,
    JSONSchemaProps, ServiceReference, ValidationRule, WebhookClientConfig, WebhookConversion,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::registry::{Api, KindVersion, Sdk};
use crate::specs;

/// Which served/storage layout to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// Every version served, storage on the latest, `conversion: Webhook` (service from
    /// [`GenerateOptions::webhook`]) for kinds with more than one version.
    AllVersions,
    /// Versions listed, served and stored exactly as smi-sdk-go HEAD's CRDs (TrafficTarget
    /// v1alpha3; HTTPRouteGroup, TCPRoute, UDPRoute, TrafficSplit v1alpha4; TrafficSplit
    /// v1alpha1 absent), no conversion. IdentityBinding, which smi-sdk-go lacks, is its only
    /// version v1alpha4, as in smi-controller-sdk.
    SdkCompatible,
}

/// The Service the API server calls for conversion ([`Flavour::AllVersions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookService {
    /// Service namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// URL path (default `/convert`).
    pub path: Option<String>,
    /// Service port (default 443).
    pub port: Option<i32>,
    /// PEM CA bundle for the webhook's serving certificate.
    pub ca_bundle: Option<Vec<u8>>,
}

impl Default for WebhookService {
    fn default() -> Self {
        Self {
            namespace: "smi-system".into(),
            name: "smi-conversion-webhook".into(),
            path: Some("/convert".into()),
            port: Some(443),
            ca_bundle: None,
        }
    }
}

/// Options for [`generate_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// The conversion webhook service.
    pub webhook: WebhookService,
    /// Leave out the perf.smi-spec.io CRDs.
    pub without_perf: bool,
}

/// Every CEL rule the generated schemas carry: (where, rule). The validator evaluates these
/// offline; they are also tested on good and bad objects.
pub const CEL_RULES: &[(&str, &str)] = &[
    (
        "HTTPRouteGroup (spec.)matches",
        specs::UNIQUE_MATCH_NAMES_RULE,
    ),
    (
        "TCPRoute/UDPRoute v1alpha4 spec.matches.ports",
        "self.all(p, p >= 1 && p <= 65535)",
    ),
];

/// One CRD kind: names, versions and the extras (printer columns, status subresource) the
/// generic [`build`] step turns into a `CustomResourceDefinition`. Every group, perf.smi-spec.io
/// included, goes through [`kinds`] → [`schema_for`] → [`build`].
struct Kind {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    short: &'static str,
    categories: &'static [&'static str],
    /// (version, schema, served in SdkCompatible (None = absent there), the hub = storage
    /// when every version is served), newest first.
    versions: Vec<(&'static str, JSONSchemaProps, Option<bool>, bool)>,
    /// `additionalPrinterColumns` of every version.
    columns: Vec<CustomResourceColumnDefinition>,
    /// Whether the versions have a `status` subresource.
    status_subresource: bool,
    /// Whether objects are immutable once written (a root transition rule).
    immutable: bool,
}

impl Kind {
    fn smi(
        group: &'static str,
        kind: &'static str,
        plural: &'static str,
        short: &'static str,
        versions: Vec<(&'static str, JSONSchemaProps, Option<bool>, bool)>,
    ) -> Self {
        Kind {
            group,
            kind,
            plural,
            singular: plural.strip_suffix('s').unwrap_or(plural),
            short,
            categories: &["smi"],
            versions,
            columns: Vec::new(),
            status_subresource: false,
            immutable: false,
        }
    }
}

fn column(
    name: &str,
    type_: &str,
    path: &str,
    description: Option<&str>,
) -> CustomResourceColumnDefinition {
    CustomResourceColumnDefinition {
        name: name.into(),
        type_: type_.into(),
        json_path: path.into(),
        description: description.map(Into::into),
        ..Default::default()
    }
}

/// Collects the CRD kinds from the [registry](crate::registry): one per (group, kind) served by
/// a CRD, in table order, its versions newest first with their schemas.
struct FromRegistry {
    with_perf: bool,
    kinds: Vec<Kind>,
}

impl crate::registry::VisitType for FromRegistry {
    fn visit<T>(&mut self, kv: &KindVersion)
    where
        T: JsonSchema + serde::Serialize + serde::de::DeserializeOwned + 'static,
    {
        if kv.api != Api::Crd || (!self.with_perf && kv.group == crate::perf::GROUP) {
            return;
        }
        let sdk = match kv.sdk {
            Sdk::Storage => Some(true),
            Sdk::Unserved => Some(false),
            _ => None,
        };
        let version = (kv.version, schema_for::<T>(), sdk, kv.hub);
        match self
            .kinds
            .iter_mut()
            .find(|k| k.group == kv.group && k.kind == kv.kind)
        {
            Some(k) => k.versions.insert(0, version),
            None => {
                let mut k = Kind::smi(
                    kv.group,
                    kv.kind,
                    kv.plural,
                    kv.short_names.first().copied().unwrap_or_default(),
                    vec![version],
                );
                presentation(&mut k);
                self.kinds.push(k);
            }
        }
    }
}

/// What a kind's CRD shows beyond its schemas: printer columns, categories, subresources.
fn presentation(k: &mut Kind) {
    match k.kind {
        "TrafficSplit" => {
            k.columns = vec![column(
                "Service",
                "string",
                ".spec.service",
                Some("The apex service of this split."),
            )];
        }
        "PerformanceTest" => {
            k.categories = &["smi", "perf"];
            k.status_subresource = true;
            k.columns = vec![
                column("Phase", "string", ".status.phase", None),
                column("RPS", "string", ".status.actualRps", None),
                column("P99", "integer", ".status.p99Micros", None),
                column("Age", "date", ".metadata.creationTimestamp", None),
            ];
        }
        "PerformanceTestResult" => {
            k.categories = &["smi", "perf"];
            k.immutable = true;
            k.columns = vec![
                column("RPS", "string", ".actualRps", None),
                column("Passed", "boolean", ".passed", None),
                column("Age", "date", ".metadata.creationTimestamp", None),
            ];
        }
        _ => {}
    }
}

fn kinds(with_perf: bool) -> Vec<Kind> {
    let mut v = FromRegistry {
        with_perf,
        kinds: Vec::new(),
    };
    crate::registry::visit_types(&mut v);
    for k in &mut v.kinds {
        if k.immutable {
            for version in &mut k.versions {
                version.1 = immutable(std::mem::take(&mut version.1), k.kind);
            }
        }
    }
    v.kinds
}

/// All CRDs of a flavour, with the default [`GenerateOptions`] (perf CRDs included).
pub fn generate(flavour: Flavour) -> Vec<CustomResourceDefinition> {
    generate_with(flavour, &GenerateOptions::default())
}

/// All CRDs of a flavour.
///
/// ```
/// use smi_types::crd::{self, Flavour, GenerateOptions};
/// let mut opts = GenerateOptions::default();
/// opts.webhook.namespace = "mesh".into();
/// let crds = crd::generate_with(Flavour::AllVersions, &opts);
/// let tt = crds.iter().find(|c| c.spec.names.kind == "TrafficTarget").unwrap();
/// let hook = tt.spec.conversion.as_ref().unwrap().webhook.as_ref().unwrap();
/// assert_eq!(hook.client_config.as_ref().unwrap().service.as_ref().unwrap().namespace, "mesh");
/// ```
pub fn generate_with(flavour: Flavour, opts: &GenerateOptions) -> Vec<CustomResourceDefinition> {
    kinds(!opts.without_perf)
        .into_iter()
        .map(|k| build(k, flavour, opts))
        .collect()
}

fn build(k: Kind, flavour: Flavour, opts: &GenerateOptions) -> CustomResourceDefinition {
    let versions: Vec<CustomResourceDefinitionVersion> = k
        .versions
        .into_iter()
        .filter_map(|(name, schema, sdk_served, hub)| {
            let (served, storage) = match flavour {
                Flavour::AllVersions => (true, hub),
                Flavour::SdkCompatible => (sdk_served?, sdk_served?),
            };
            Some(CustomResourceDefinitionVersion {
                name: name.into(),
                served,
                storage,
                schema: Some(CustomResourceValidation {
                    open_api_v3_schema: Some(schema),
                }),
                additional_printer_columns: (!k.columns.is_empty()).then(|| k.columns.clone()),
                subresources: k.status_subresource.then(|| CustomResourceSubresources {
                    status: Some(CustomResourceSubresourceStatus(serde_json::json!({}))),
                    scale: None,
                }),
                ..Default::default()
            })
        })
        .collect();
    let conversion =
        (flavour == Flavour::AllVersions && versions.len() > 1).then(|| CustomResourceConversion {
            strategy: "Webhook".into(),
            webhook: Some(WebhookConversion {
                client_config: Some(WebhookClientConfig {
                    service: Some(ServiceReference {
                        namespace: opts.webhook.namespace.clone(),
                        name: opts.webhook.name.clone(),
                        path: opts.webhook.path.clone(),
                        port: opts.webhook.port,
                    }),
                    ca_bundle: opts.webhook.ca_bundle.clone().map(ByteString),
                    url: None,
                }),
                conversion_review_versions: vec!["v1".into()],
            }),
        });
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{}", k.plural, k.group)),
            ..Default::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: k.group.into(),
            names: CustomResourceDefinitionNames {
                kind: k.kind.into(),
                list_kind: Some(format!("{}List", k.kind)),
                plural: k.plural.into(),
                singular: Some(k.singular.into()),
                short_names: Some(vec![k.short.into()]),
                categories: Some(k.categories.iter().map(|c| (*c).into()).collect()),
            },
            scope: "Namespaced".into(),
            versions,
            conversion,
            preserve_unknown_fields: None,
        },
        status: None,
    }
}

/// The structural `openAPIV3Schema` of one type, as used in the CRDs.
///
/// ```
/// let s = smi_types::crd::schema_for::<smi_types::split::v1alpha1::TrafficSplit>();
/// let spec = &s.properties.as_ref().unwrap()["spec"];
/// let weight = &spec.properties.as_ref().unwrap()["backends"].items.as_ref().unwrap();
/// assert!(serde_json::to_string(weight).unwrap().contains("x-kubernetes-int-or-string"));
/// ```
pub fn schema_for<T: JsonSchema>() -> JSONSchemaProps {
    let generator = schemars::generate::SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut value = serde_json::to_value(&schema).unwrap_or(Value::Null);
    structural(&mut value);
    if let Value::Object(root) = &mut value {
        for k in ["$schema", "title", "definitions", "$defs", "components"] {
            root.remove(k);
        }
        root.insert("type".into(), "object".into());
        if let Some(Value::Object(props)) = root.get_mut("properties") {
            props.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
            props.insert("kind".into(), serde_json::json!({"type": "string"}));
            props.insert("metadata".into(), serde_json::json!({"type": "object"}));
        }
        if let Some(Value::Array(req)) = root.get_mut("required") {
            req.retain(|r| !matches!(r.as_str(), Some("apiVersion" | "kind" | "metadata")));
            if req.is_empty() {
                root.remove("required");
            }
        }
    }
    // The rewritten value has the shape of JSONSchemaProps by construction.
    serde_json::from_value(value).unwrap_or_default()
}

const KEEP_FORMATS: &[&str] = &[
    "int32",
    "int64",
    "float",
    "double",
    "byte",
    "date",
    "date-time",
];

/// Rewrites a schemars OpenAPI 3 schema into a Kubernetes structural schema, in place.
fn structural(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "nullable",
                "default",
                "examples",
                "$comment",
                "readOnly",
                "writeOnly",
                "deprecated",
                "title",
            ] {
                m.remove(k);
            }
            // First paragraph only: doc comments carry examples that do not belong in a CRD.
            if let Some(Value::String(d)) = m.get_mut("description") {
                if let Some(i) = d.find("\n\n") {
                    d.truncate(i);
                }
                *d = d.replace('\n', " ");
            }
            if matches!(m.get("additionalProperties"), Some(Value::Bool(_))) {
                m.remove("additionalProperties");
            }
            if let Some(f) = m.get("format").and_then(Value::as_str)
                && !KEEP_FORMATS.contains(&f)
            {
                m.remove("format");
            }
            if let Some(c) = m.remove("const") {
                m.insert("enum".into(), Value::Array(vec![c]));
            }
            if let Some(Value::Array(types)) = m.get("type").cloned() {
                let non_null: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
                if non_null.len() == 1 {
                    m.insert("type".into(), non_null[0].clone());
                }
            }
            if let Some(Value::Array(e)) = m.get_mut("enum") {
                e.retain(|x| !x.is_null());
            }
            let int_or_string = m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
            // Alternatives first (bottom-up), so an `Option<Enum>`'s inner `oneOf` is folded
            // before the outer `anyOf: [enum, null]` is.
            for key in ["anyOf", "oneOf", "allOf"] {
                if let Some(Value::Array(alts)) = m.get_mut(key) {
                    alts.iter_mut().for_each(structural);
                }
            }
            fold_enum_alternatives(m);
            for key in ["anyOf", "oneOf", "allOf"] {
                if int_or_string && key == "anyOf" {
                    continue;
                }
                if let Some(Value::Array(alts)) = m.get(key).cloned() {
                    let real: Vec<Value> = alts
                        .into_iter()
                        .filter(|a| !is_null_alternative(a))
                        .collect();
                    if real.len() == 1 || key == "allOf" {
                        m.remove(key);
                        for alt in real {
                            if let Value::Object(alt) = alt {
                                merge(m, alt);
                            }
                        }
                    }
                }
            }
            for (_, child) in m.iter_mut() {
                structural(child);
            }
            // merged children may have re-introduced keys
            for k in ["nullable", "default"] {
                m.remove(k);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(structural),
        _ => {}
    }
}

/// The alternative schemars adds for `Option<T>`: `{type: null}`, `{enum: [null]}` or
/// `{nullable: true}`. The API server drops nulls of non-nullable fields before validating, so
/// these alternatives are simply left out.
fn is_null_alternative(a: &Value) -> bool {
    let Some(m) = a.as_object() else {
        return false;
    };
    let only_null_keys = m
        .keys()
        .all(|k| matches!(k.as_str(), "nullable" | "enum" | "const" | "type"));
    let null_type = m.get("type").is_none_or(|t| t == "null");
    let null_enum = m
        .get("enum")
        .is_none_or(|e| e.as_array().is_some_and(|e| e.iter().all(Value::is_null)));
    let null_const = m.get("const").is_none_or(Value::is_null);
    !m.is_empty() && only_null_keys && null_type && null_enum && null_const
}

/// A Rust enum whose variants carry doc comments becomes `oneOf: [{type, description, enum}, …]`
/// in schemars; the API server forbids `type`/`description` inside `oneOf`/`anyOf` and wants a
/// `type` on the field itself. When every alternative is such an enum of one JSON type, the
/// alternatives fold into one `type` + `enum` on the field (the field keeps its own
/// description; the variants' doc comments are rustdoc only).
fn fold_enum_alternatives(m: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(alts)) = m.get(key) else {
            continue;
        };
        let alts: Vec<&Map<String, Value>> = alts
            .iter()
            .filter(|a| !is_null_alternative(a))
            .filter_map(Value::as_object)
            .collect();
        if alts.len() < 2 {
            continue;
        }
        let mut ty: Option<&Value> = m.get("type");
        let mut values: Vec<Value> = Vec::new();
        let mut foldable = true;
        for alt in &alts {
            if alt.keys().any(|k| {
                !matches!(
                    k.as_str(),
                    "type" | "enum" | "const" | "description" | "title"
                )
            }) {
                foldable = false;
                break;
            }
            let vals: Vec<Value> = match (alt.get("enum"), alt.get("const")) {
                (Some(Value::Array(e)), None) => e.clone(),
                (None, Some(c)) => vec![c.clone()],
                _ => {
                    foldable = false;
                    break;
                }
            };
            match (ty, alt.get("type")) {
                (_, None) => {}
                (None, Some(t)) => ty = Some(t),
                (Some(a), Some(b)) if a == b => {}
                _ => {
                    foldable = false;
                    break;
                }
            }
            for v in vals {
                if !v.is_null() && !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        let Some(ty) = ty.cloned().filter(|_| foldable) else {
            continue;
        };
        m.remove(key);
        m.insert("type".into(), ty);
        m.insert("enum".into(), Value::Array(values));
    }
}

/// Adds the root transition rule that makes an object immutable once written: every top-level
/// field but `apiVersion`, `kind` and `metadata` must keep its value, and no field may appear or
/// disappear (labels, annotations and finalizers stay editable). The rule is generated from the
/// schema, so a field added to the type is covered without editing the rule.
fn immutable(mut schema: JSONSchemaProps, kind: &str) -> JSONSchemaProps {
    let required = schema.required.clone().unwrap_or_default();
    let mut terms = Vec::new();
    for name in schema.properties.iter().flat_map(|p| p.keys()) {
        if matches!(name.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        // Field names of this crate's types are plain camelCase identifiers: no CEL escaping.
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}");
        terms.push(if required.contains(name) {
            format!("self.{name} == oldSelf.{name}")
        } else {
            format!(
                "(has(self.{name}) ? has(oldSelf.{name}) && self.{name} == oldSelf.{name} : !has(oldSelf.{name}))"
            )
        });
    }
    schema
        .x_kubernetes_validations
        .get_or_insert_with(Vec::new)
        .push(ValidationRule {
            rule: terms.join(" && "),
            message: Some(format!(
                "a {kind} is immutable once written (only metadata may change)"
            )),
            ..Default::default()
        });
    schema
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Array(a)), Value::Array(b))
                if k == "x-kubernetes-validations" || k == "required" =>
            {
                a.extend(b)
            }
            (Some(_), v) if k == "description" => {
                let _ = v;
            }
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Writes CRDs as one YAML stream (`---` before each).
#[cfg(feature = "yaml")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
pub fn to_yaml(crds: &[CustomResourceDefinition]) -> String {
    let mut out = String::new();
    for c in crds {
        out.push_str("---\n");
        // CRDs contain only strings, bools, integers, maps and lists: serialization cannot fail.
        out.push_str(&serde_saphyr::to_string(c).unwrap_or_default());
    }
    out
}
