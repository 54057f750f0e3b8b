//! Offline CustomResourceDefinition checker: the Kubernetes API server's CRD admission rules
//! without a cluster.
//!
//! [`check_crd`] applies to any `apiextensions.k8s.io/v1` CustomResourceDefinition what
//! `kube-apiserver` (Kubernetes 1.37, `k8s.io/apiextensions-apiserver` v0.37) applies when
//! the CRD is created:
//!
//! * the CRD-level rules: name = `<plural>.<group>`, group, scope, names, versions (unique,
//!   DNS-1035, exactly one storage version), a schema per version, conversion, printer
//!   columns, API-approval annotation of `*.k8s.io` groups;
//! * the OpenAPI schema rules (`ValidateCustomResourceDefinitionOpenAPISchema`): unsupported
//!   keywords (`$ref`, `patternProperties`, `definitions`, …), `uniqueItems`,
//!   `additionalProperties` beside `properties`, `x-kubernetes-list-type` /
//!   `x-kubernetes-list-map-keys` / `x-kubernetes-map-type`, list-map keys required or
//!   defaulted, `x-kubernetes-validations` fields, the status-subresource root restriction;
//! * the structural-schema rules (`pkg/apiserver/schema`): a `type` on every field (except
//!   `x-kubernetes-int-or-string` / `x-kubernetes-preserve-unknown-fields`), `items` on arrays,
//!   no `type`/`description`/`default`/`nullable`/… inside `allOf`/`anyOf`/`oneOf`/`not`,
//!   completeness of the fields those mention, root `metadata` restricted to `name` and
//!   `generateName`, `additionalProperties` not at the root, valid `pattern`s;
//! * the CEL rules: every `x-kubernetes-validations` rule is parsed, type-checked against the
//!   schema (undeclared references, undefined fields, non-bool results) and its cost is
//!   estimated with cel-go's static cost model and the Kubernetes size estimates; the
//!   per-rule limit [`STATIC_ESTIMATED_COST_LIMIT`] and the per-schema total
//!   [`STATIC_ESTIMATED_CRD_COST_LIMIT`] are enforced with the server's messages.
//!
//! Every finding is a [`FieldError`] printed exactly as the API server prints it
//! (`<field path>: <type>: <detail>`), with the server's field paths: a schema shared by all
//! versions is reported under `spec.validation.openAPIV3Schema` (the API server converts a v1
//! CRD whose versions all have the same schema to a top-level schema before validating it),
//! otherwise under `spec.versions[i].schema.openAPIV3Schema`.
//!
//! ```
//! let crd = serde_json::json!({
//!   "apiVersion": "apiextensions.k8s.io/v1",
//!   "kind": "CustomResourceDefinition",
//!   "metadata": {"name": "widgets.example.com"},
//!   "spec": {
//!     "group": "example.com",
//!     "scope": "Namespaced",
//!     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
//!     "versions": [{
//!       "name": "v1", "served": true, "storage": true,
//!       "schema": {"openAPIV3Schema": {
//!         "type": "object",
//!         "properties": {"spec": {
//!           "type": "object",
//!           "properties": {"tags": {"type": "array"}}
//!         }}
//!       }}
//!     }]
//!   }
//! });
//! let report = smi_validate::crd_check::check_crd(&crd);
//! assert!(!report.is_accepted());
//! assert_eq!(
//!     report.errors[0].to_string(),
//!     "spec.validation.openAPIV3Schema.properties[spec].properties[tags].items: Required value: must be specified"
//! );
//! ```
//!
//! Costs are reported too ([`CrdReport::rule_costs`]), so a tool author sees how close each
//! rule is to the limit:
//!
//! ```
//! let crds = smi_validate::crd_check::check_str(r#"
//! apiVersion: apiextensions.k8s.io/v1
//! kind: CustomResourceDefinition
//! metadata: {name: widgets.example.com}
//! spec:
//!   group: example.com
//!   scope: Namespaced
//!   names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
//!   versions:
//!   - name: v1
//!     served: true
//!     storage: true
//!     schema:
//!       openAPIV3Schema:
//!         type: object
//!         properties:
//!           spec:
//!             type: object
//!             x-kubernetes-validations:
//!             - rule: "self.names.all(n, !n.contains('admin'))"
//!             properties:
//!               names:
//!                 type: array
//!                 items: {type: string}
//! "#).unwrap();
//! let report = &crds[0];
//! // an unbounded list of unbounded strings, each searched: far over the limit
//! assert!(report.errors[0].to_string().ends_with(
//!     "x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
//! ));
//! ```
//!
//! # What is not covered
//!
//! `default` values are checked against their schema (type, enum, bounds, pattern, required,
//! unknown fields) with this crate's structure walker, but the CEL rules of a defaulted schema
//! are not evaluated on the default, nor metadata defaults of embedded resources coerced;
//! `messageExpression`s are type-checked and costed but never evaluated; and the CEL
//! type checker is a subset of cel-go's: it reports undeclared references, undefined fields,
//! unknown functions, operand-type mismatches of arithmetic/ordering operators and non-bool
//! results, but not every overload-resolution error cel-go would report. Webhook conversion
//! client configs are checked for shape only.

mod cel_cost;
mod crd;
mod decl;
mod openapi;
mod schema;
mod structural;

use std::fmt;

use serde_json::Value;

pub use cel_cost::{RuleCostEstimate, estimate_rule_cost};

/// The largest static CEL cost estimate of one rule (`StaticEstimatedCostLimit` of
/// `k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation`).
pub const STATIC_ESTIMATED_COST_LIMIT: u64 = 10_000_000;
/// The largest total of the static cost estimates of all rules of one OpenAPI schema
/// (`StaticEstimatedCRDCostLimit`).
pub const STATIC_ESTIMATED_CRD_COST_LIMIT: u64 = 100_000_000;
/// The request size the Kubernetes size estimates assume for unbounded strings, lists and
/// maps (`MaxRequestSizeBytes` of `k8s.io/apiserver/pkg/apis/cel`: 3 MiB).
pub const MAX_REQUEST_SIZE_BYTES: i64 = 3 * 1024 * 1024;

/// The kind of a [`FieldError`], as `k8s.io/apimachinery/pkg/util/validation/field` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `Required value`
    Required,
    /// `Forbidden`
    Forbidden,
    /// `Invalid value`
    Invalid,
    /// `Unsupported value`
    NotSupported,
    /// `Duplicate value`
    Duplicate,
    /// `Too many`
    TooMany,
    /// `Internal error`
    Internal,
    /// `Invalid value` (a value of the wrong type, `FieldValueTypeInvalid`)
    TypeInvalid,
    /// `Too long`
    TooLong,
}

impl ErrorKind {
    /// The phrase the API server prints (`Required value`, `Forbidden`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Required => "Required value",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::Invalid => "Invalid value",
            ErrorKind::NotSupported => "Unsupported value",
            ErrorKind::Duplicate => "Duplicate value",
            ErrorKind::TooMany => "Too many",
            ErrorKind::Internal => "Internal error",
            ErrorKind::TypeInvalid => "Invalid value",
            ErrorKind::TooLong => "Too long",
        }
    }

    /// The `reason` of a `StatusCause` the API server returns for this kind
    /// (`FieldValueRequired`, …).
    pub fn reason(self) -> &'static str {
        match self {
            ErrorKind::Required => "FieldValueRequired",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::Invalid => "FieldValueInvalid",
            ErrorKind::NotSupported => "FieldValueNotSupported",
            ErrorKind::Duplicate => "FieldValueDuplicate",
            ErrorKind::TooMany => "FieldValueTooMany",
            ErrorKind::Internal => "InternalError",
            ErrorKind::TypeInvalid => "FieldValueTypeInvalid",
            ErrorKind::TooLong => "FieldValueTooLong",
        }
    }
}

/// One finding, printed as the API server prints a `field.Error`:
/// `<field>: <kind>[: <value>][: <detail>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// What kind of error.
    pub kind: ErrorKind,
    /// The field path (`spec.validation.openAPIV3Schema.properties[spec].type`).
    pub field: String,
    /// The offending value, rendered as the server renders it (strings quoted, other values
    /// as JSON); `None` for kinds that print no value.
    pub value: Option<String>,
    /// The explanation.
    pub detail: String,
}

impl FieldError {
    pub(crate) fn new(
        kind: ErrorKind,
        field: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Required, field, detail)
    }

    pub(crate) fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, field, detail)
    }

    pub(crate) fn invalid(
        field: impl Into<String>,
        value: &Value,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind: ErrorKind::Invalid,
            field: field.into(),
            value: Some(render_value(value)),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_raw(
        field: impl Into<String>,
        rendered: String,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind: ErrorKind::Invalid,
            field: field.into(),
            value: Some(rendered),
            detail: detail.into(),
        }
    }

    pub(crate) fn not_supported(
        field: impl Into<String>,
        value: &Value,
        supported: &[&str],
    ) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
        FieldError {
            kind: ErrorKind::NotSupported,
            field: field.into(),
            value: Some(render_value(value)),
            detail: if supported.is_empty() {
                String::new()
            } else {
                format!("supported values: {}", quoted.join(", "))
            },
        }
    }

    /// The message without the field path (`Required value: must be specified`).
    pub fn body(&self) -> String {
        let mut s = self.kind.as_str().to_string();
        if let Some(v) = &self.value {
            s.push_str(": ");
            s.push_str(v);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.body())
        } else {
            write!(f, "{}: {}", self.field, self.body())
        }
    }
}

/// Renders a bad value as apimachinery does: numbers and booleans plainly, strings quoted
/// (Go `%q`), anything else as JSON.
fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Go's `strconv.Quote` for the printable subset the messages use.
pub(crate) fn go_quote(s: &str) -> String {
    go_escaped(s, |c| {
        ((c as u32) < 0x20 || c as u32 == 0x7f).then(|| format!("\\x{:02x}", c as u32))
    })
}

/// `s` in double quotes with the escapes Go's `strconv.Quote` and `encoding/json` share (`\"`,
/// `\\`, `\n`, `\r`, `\t`); every other character goes to `other`, which gives its escape or
/// `None` to keep it as it is.
pub(crate) fn go_escaped(s: &str, other: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => match other(c) {
                Some(escaped) => out.push_str(&escaped),
                None => out.push(c),
            },
        }
    }
    out.push('"');
    out
}

/// The static cost of one `x-kubernetes-validations` rule (or `messageExpression`) as the API
/// server estimates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCost {
    /// Field path of the rule (`…x-kubernetes-validations[0].rule`).
    pub field: String,
    /// The rule's source text.
    pub rule: String,
    /// cel-go's worst-case cost of one evaluation.
    pub max_cost: u64,
    /// How many times the rule can run per object (product of the enclosing `maxItems` /
    /// `maxProperties`, or the request-size bound when one of them is missing).
    pub cardinality: u64,
    /// `max_cost × cardinality` (saturating): what is compared with
    /// [`STATIC_ESTIMATED_COST_LIMIT`] and summed for [`STATIC_ESTIMATED_CRD_COST_LIMIT`].
    pub total: u64,
}

/// The verdict on one CustomResourceDefinition.
#[derive(Debug, Clone, Default)]
pub struct CrdReport {
    /// `metadata.name` of the CRD (empty when missing).
    pub name: String,
    /// Index of the document in its stream (0-based).
    pub document: usize,
    /// Everything the API server would reject the CRD for; empty means it would be accepted.
    pub errors: Vec<FieldError>,
    /// Unknown or ignored input (fields the server drops), never a reason for rejection.
    pub warnings: Vec<String>,
    /// Cost of every CEL rule that was estimated.
    pub rule_costs: Vec<RuleCost>,
    /// Total estimated rule cost per OpenAPI schema (field path of the schema, total).
    pub schema_costs: Vec<(String, u64)>,
}

impl CrdReport {
    /// Whether the API server would accept the CRD.
    pub fn is_accepted(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message the API server answers a rejected create with:
    /// `CustomResourceDefinition.apiextensions.k8s.io "<name>" is invalid: [<errors>]`
    /// (the order of the errors may differ: the server walks schema properties in Go map
    /// order). `None` when accepted.
    pub fn server_message(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        let list: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        Some(format!(
            "CustomResourceDefinition.apiextensions.k8s.io {} is invalid: {joined}",
            go_quote(&self.name)
        ))
    }
}

/// Errors reading a CRD stream.
#[derive(Debug, thiserror::Error)]
pub enum CrdCheckError {
    /// The input is neither valid JSON nor valid YAML.
    #[error("cannot parse input: {0}")]
    Parse(String),
}

/// The most documents one stream may hold.
pub const MAX_DOCUMENTS: usize = 10_000;

/// Checks every `CustomResourceDefinition` of a YAML (multi-document) or JSON stream; other
/// documents are skipped. A JSON or YAML `List` (`kind: List` or `…List`) is looked into.
pub fn check_str(text: &str) -> Result<Vec<CrdReport>, CrdCheckError> {
    let docs = parse_stream(text)?;
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        collect(doc, i, &mut out);
    }
    Ok(out)
}

fn collect(doc: &Value, index: usize, out: &mut Vec<CrdReport>) {
    if doc.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
        let mut r = check_crd(doc);
        r.document = index;
        out.push(r);
    } else if let Some(items) = doc.get("items").and_then(Value::as_array)
        && doc
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
    {
        for item in items {
            collect(item, index, out);
        }
    }
}

fn parse_stream(text: &str) -> Result<Vec<Value>, CrdCheckError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // JSON: one value, or a sequence of values
        let mut out = Vec::new();
        for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            let v = v.map_err(|e| CrdCheckError::Parse(e.to_string()))?;
            if out.len() >= MAX_DOCUMENTS {
                return Err(CrdCheckError::Parse(format!(
                    "more than {MAX_DOCUMENTS} documents"
                )));
            }
            match v {
                Value::Array(items) => out.extend(items),
                v => out.push(v),
            }
        }
        return Ok(out);
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_nodes = 2_000_000;
    budget.max_depth = 256;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.with_snippet = false;
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, opts)
        .map_err(|e| CrdCheckError::Parse(e.to_string()))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Checks one CustomResourceDefinition given as a JSON value (as read from YAML or JSON, or
/// serialized from `k8s_openapi`'s `CustomResourceDefinition`).
pub fn check_crd(crd: &Value) -> CrdReport {
    let mut report = CrdReport {
        name: crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        ..CrdReport::default()
    };
    crd::check_crd(crd, &mut report);
    report
}

/// Checks a typed CRD (e.g. one of `smi_types::crd::generate`).
pub fn check_typed(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> CrdReport {
    match serde_json::to_value(crd) {
        Ok(v) => check_crd(&v),
        Err(e) => CrdReport {
            errors: vec![FieldError::new(
                ErrorKind::Internal,
                "",
                format!("cannot serialize the CRD: {e}"),
            )],
            ..CrdReport::default()
        },
    }
}
