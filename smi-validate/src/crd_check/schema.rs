//! Schema-level rules of `k8s.io/apiextensions-apiserver` (create) for one `openAPIV3Schema`:
//! known keywords, the status-subresource root, structural form, defaults.

use serde_json::{Map, Value};

use super::decl::schema_decl;
use super::openapi::{
    CelCtx, Ctx, Ssv, Total, cost_error_message, has_validations, openapi_schema,
};
use super::structural::{Level, structural_completeness, structural_invariants};
use super::{CrdReport, ErrorKind, FieldError, STATIC_ESTIMATED_CRD_COST_LIMIT};

pub(super) type Obj = Map<String, Value>;

pub(super) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn b(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub(super) fn i(v: &Value, key: &str) -> Option<i64> {
    let x = v.get(key)?;
    x.as_i64().or_else(|| x.as_f64().map(|f| f as i64))
}

pub(super) fn props(v: &Value) -> Option<&Obj> {
    v.get("properties").and_then(Value::as_object)
}

const ROOT_ALLOWED_WITH_STATUS: &[&str] = &[
    "description",
    "type",
    "format",
    "title",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "required",
    "items",
    "properties",
    "externalDocs",
    "example",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
];

const KNOWN_KEYWORDS: &[&str] = &[
    "id",
    "$schema",
    "$ref",
    "description",
    "type",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "definitions",
    "externalDocs",
    "example",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// Whether a JSONSchemaProps field holds its Go zero value.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

pub(super) fn check_validation(
    schema: &Value,
    status_enabled: bool,
    base: &str,
    report: &mut CrdReport,
) {
    let path = format!("{base}.openAPIV3Schema");
    let mut errs: Vec<FieldError> = Vec::new();
    collect_unknown_keywords(schema, &path, &mut report.warnings);

    if status_enabled && let Some(obj) = schema.as_object() {
        for (k, v) in obj {
            if !KNOWN_KEYWORDS.contains(&k.as_str()) {
                continue;
            }
            // pointer fields (maximum, maxLength, …) are set even when zero
            let pointer_field = matches!(
                k.as_str(),
                "maximum"
                    | "minimum"
                    | "maxLength"
                    | "minLength"
                    | "maxItems"
                    | "minItems"
                    | "multipleOf"
                    | "maxProperties"
                    | "minProperties"
                    | "x-kubernetes-preserve-unknown-fields"
                    | "x-kubernetes-list-type"
                    | "x-kubernetes-map-type"
                    | "default"
                    | "example"
                    | "externalDocs"
                    | "additionalProperties"
                    | "items"
                    | "not"
                    | "$ref"
                    | "dependencies"
            );
            if !pointer_field && is_zero(v) {
                continue;
            }
            if k == "type" {
                if v.as_str() != Some("object") {
                    errs.push(FieldError::invalid(
                        format!("{path}.type"),
                        v,
                        "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                    ));
                    break;
                }
                continue;
            }
            if !ROOT_ALLOWED_WITH_STATUS.contains(&k.as_str()) {
                errs.push(FieldError::invalid(
                    &path,
                    &Value::String("<schema>".into()),
                    "only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled",
                ));
                break;
            }
        }
    }

    if b(schema, "nullable") {
        errs.push(FieldError::forbidden(
            format!("{path}.nullable"),
            "nullable cannot be true at the root",
        ));
    }

    // structural schema
    let structural_init = new_structural_error(schema);
    let mut cel_enabled = false;
    if structural_init.is_none() {
        let mut serrs = Vec::new();
        structural_invariants(schema, Level::Root, &path, &mut serrs);
        structural_completeness(schema, &path, &path, &mut serrs);
        if serrs.is_empty() {
            validate_defaults(schema, &path, &mut serrs);
        }
        if serrs.is_empty() {
            cel_enabled = true;
        }
        errs.extend(serrs);
    }

    let root_decl = if cel_enabled {
        schema_decl(schema, true)
    } else {
        None
    };
    let mut total = Total::default();
    let mut ctx = Ctx {
        report_costs: Vec::new(),
        warnings: Vec::new(),
        total: &mut total,
    };
    let res = openapi_schema(
        schema,
        &path,
        Ssv::default(),
        true,
        cel_enabled.then_some(CelCtx {
            decl: root_decl.as_ref(),
            json: schema,
            cardinality: Some(1),
            in_scope: has_validations(schema),
        }),
        &mut ctx,
    );
    let rule_costs = std::mem::take(&mut ctx.report_costs);
    report.warnings.append(&mut ctx.warnings);
    errs.extend(res.schema);
    errs.extend(res.cel);
    if errs.is_empty()
        && let Some(e) = structural_init
    {
        errs.push(FieldError::invalid(&path, &Value::String(String::new()), e));
    }
    if cel_enabled {
        if total.total > STATIC_ESTIMATED_CRD_COST_LIMIT {
            for (p, _) in &total.most_expensive {
                errs.push(FieldError::forbidden(
                    p.clone(),
                    "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
                ));
            }
            errs.push(FieldError::forbidden(
                &path,
                cost_error_message(
                    "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
                    total.total,
                    STATIC_ESTIMATED_CRD_COST_LIMIT,
                ),
            ));
        }
        report.schema_costs.push((path.clone(), total.total));
    }
    report.rule_costs.extend(rule_costs);
    report.errors.extend(errs);
}

fn collect_unknown_keywords(schema: &Value, path: &str, warnings: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (k, v) in obj {
        if !KNOWN_KEYWORDS.contains(&k.as_str()) {
            warnings.push(format!(
                "{path}: unknown field {k:?} (dropped by the API server)"
            ));
            continue;
        }
        match k.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                if let Some(m) = v.as_object() {
                    for (pk, pv) in m {
                        collect_unknown_keywords(pv, &format!("{path}.{k}[{pk}]"), warnings);
                    }
                }
            }
            "items" | "not" | "additionalProperties" | "additionalItems" => {
                collect_unknown_keywords(v, &format!("{path}.{k}"), warnings);
            }
            "allOf" | "oneOf" | "anyOf" => {
                if let Some(a) = v.as_array() {
                    for (idx, x) in a.iter().enumerate() {
                        collect_unknown_keywords(x, &format!("{path}.{k}[{idx}]"), warnings);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `NewStructural`'s errors (fields it cannot represent).
fn new_structural_error(schema: &Value) -> Option<String> {
    let obj = schema.as_object()?;
    if !s(schema, "id").is_empty() {
        return Some("OpenAPIV3Schema 'id' is not supported".into());
    }
    if !s(schema, "$schema").is_empty() {
        return Some("OpenAPIV3Schema 'schema' is not supported".into());
    }
    if !s(schema, "$ref").is_empty() {
        return Some("OpenAPIV3Schema '$ref' is not supported".into());
    }
    for (k, what) in [
        ("patternProperties", "patternProperties"),
        ("dependencies", "dependencies"),
        ("definitions", "definitions"),
    ] {
        if obj
            .get(k)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
        {
            return Some(format!("OpenAPIV3Schema '{what}' is not supported"));
        }
    }
    if obj.get("additionalItems").is_some_and(|v| !v.is_null()) {
        return Some("OpenAPIV3Schema 'additionalItems' is not supported".into());
    }
    if obj.get("items").is_some_and(Value::is_array) {
        return Some("OpenAPIV3Schema 'items' must be a schema, but is an array".into());
    }
    if obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        return Some(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
                .into(),
        );
    }
    let children = [
        obj.get("items"),
        obj.get("not"),
        obj.get("additionalProperties").filter(|a| a.is_object()),
    ];
    for c in children.into_iter().flatten() {
        if let Some(e) = new_structural_error(c) {
            return Some(e);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = obj.get(key).and_then(Value::as_array) {
            for x in a {
                if let Some(e) = new_structural_error(x) {
                    return Some(e);
                }
            }
        }
    }
    if let Some(p) = props(schema) {
        for v in p.values() {
            if let Some(e) = new_structural_error(v) {
                return Some(e);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// defaults (pkg/apiserver/schema/defaulting/validation.go)

/// `ValidateDefaults`: every `default` (reached through `properties` and `items`) must be valid
/// against its own schema and carry no field the schema would prune.
fn validate_defaults(sch: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if !sch.is_object() {
        return;
    }
    if let Some(d) = sch.get("default").filter(|d| !d.is_null()) {
        let dpath = format!("{path}.default");
        let mut findings = Vec::new();
        let pats = crate::structure::Patterns::default();
        let mut trail = crate::structure::Trail::default();
        crate::structure::check(
            sch,
            d,
            &mut trail,
            crate::FieldValidation::Strict,
            &pats,
            &mut findings,
        );
        if findings.iter().any(|f| f.code == crate::Code::UnknownField) {
            errs.push(FieldError::invalid(
                &dpath,
                d,
                "must not have unknown fields",
            ));
        }
        for f in findings
            .iter()
            .filter(|f| f.code != crate::Code::UnknownField)
        {
            let inner = f.path.to_string();
            let fp = if inner.is_empty() {
                dpath.clone()
            } else {
                format!("{dpath}.{inner}")
            };
            let at = f.path.lookup(d).unwrap_or(&Value::Null);
            let e = match f.code {
                crate::Code::NotInEnum => {
                    let allowed: Vec<String> = schema_at(sch, &f.path)
                        .and_then(|x| x.get("enum"))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    FieldError::not_supported(fp, at, &refs)
                }
                crate::Code::WrongType => FieldError {
                    kind: ErrorKind::TypeInvalid,
                    field: fp,
                    value: Some(super::go_quote(json_type(at))),
                    detail: format!(
                        "{inner} in body must be of type {}: {}",
                        schema_at(sch, &f.path).map_or("", |x| s(x, "type")),
                        super::go_quote(json_type(at))
                    ),
                },
                crate::Code::MissingField => FieldError::required(fp, ""),
                crate::Code::OutOfRange if f.message.contains("characters, at most") => {
                    FieldError::new(ErrorKind::TooLong, fp, f.message.clone())
                }
                crate::Code::OutOfRange if f.message.contains(", at most") => {
                    FieldError::new(ErrorKind::TooMany, fp, f.message.clone())
                }
                _ => FieldError::invalid(fp, at, f.message.clone()),
            };
            errs.push(e);
        }
    }
    if let Some(items) = sch.get("items").filter(|i| i.is_object()) {
        validate_defaults(items, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(sch) {
        for (k, v) in p {
            validate_defaults(v, &format!("{path}.properties[{k}]"), errs);
        }
    }
}

/// A `ValidationRule` as the API server renders it in an error: the internal Go struct
/// marshalled by `encoding/json` (field names as declared, HTML-safe escaping).
pub(super) fn go_rule_json(r: &Value) -> String {
    let opt_str = |k: &str| match r.get(k).and_then(Value::as_str) {
        Some(x) => go_json_string(x),
        None => "null".to_string(),
    };
    format!(
        "{{\"Rule\":{},\"Message\":{},\"MessageExpression\":{},\"Reason\":{},\"FieldPath\":{},\"OptionalOldSelf\":{}}}",
        go_json_string(s(r, "rule")),
        go_json_string(s(r, "message")),
        go_json_string(s(r, "messageExpression")),
        opt_str("reason"),
        go_json_string(s(r, "fieldPath")),
        r.get("optionalOldSelf")
            .and_then(Value::as_bool)
            .map_or_else(|| "null".to_string(), |b| b.to_string()),
    )
}

/// A JSON string as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028/9 escaped).
fn go_json_string(x: &str) -> String {
    super::go_escaped(x, |c| {
        (matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') || (c as u32) < 0x20)
            .then(|| format!("\\u{:04x}", c as u32))
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The schema of the value at `path` under `sch` (through properties, additionalProperties and
/// items).
fn schema_at<'a>(sch: &'a Value, path: &crate::Path) -> Option<&'a Value> {
    let mut cur = sch;
    for seg in path.segs() {
        cur = match seg {
            crate::Seg::Key(k) => props(cur)
                .and_then(|p| p.get(k.as_str()))
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object()))?,
            crate::Seg::Index(_) => cur.get("items")?,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    /// The two Go quoting flavours share their common escapes and differ in the rest.
    #[test]
    fn go_quote_and_go_json_string_escape_like_go() {
        let s = "a\"\\\n\r\t\u{1}\u{7f}<>&\u{2028}é";
        assert_eq!(
            super::super::go_quote(s),
            "\"a\\\"\\\\\\n\\r\\t\\x01\\x7f<>&\u{2028}é\""
        );
        assert_eq!(
            super::go_json_string(s),
            "\"a\\\"\\\\\\n\\r\\t\\u0001\u{7f}\\u003c\\u003e\\u0026\\u2028é\""
        );
    }
}
