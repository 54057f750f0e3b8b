//! The structural-schema invariants (`pkg/apiserver/schema/validation.go`): types, items,
//! value validations inside `allOf`/`anyOf`/`oneOf`/`not`, completeness, root metadata,
//! patterns.

use serde_json::Value;

use super::FieldError;
use super::schema::{Obj, b, props, s};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Root,
    Item,
    Field,
}

fn is_int_or_string_any_of(any_of: Option<&Value>) -> bool {
    let Some(a) = any_of.and_then(Value::as_array) else {
        return false;
    };
    a.len() == 2
        && a[0] == serde_json::json!({"type": "integer"})
        && a[1] == serde_json::json!({"type": "string"})
}

pub(super) fn structural_invariants(
    sch: &Value,
    lvl: Level,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if !sch.is_object() {
        return;
    }
    let ty = s(sch, "type");
    if ty == "array" && sch.get("items").is_none_or(Value::is_null) {
        errs.push(FieldError::required(
            format!("{path}.items"),
            "must be specified",
        ));
    }
    if let Some(items) = sch.get("items").filter(|x| x.is_object()) {
        structural_invariants(items, Level::Item, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(sch) {
        for (k, v) in p {
            structural_invariants(v, Level::Field, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if let Some(ap) = sch.get("additionalProperties").filter(|a| !a.is_null()) {
        if lvl == Level::Root {
            errs.push(FieldError::forbidden(
                format!("{path}.additionalProperties"),
                "must not be used at the root",
            ));
        }
        if ap.is_object() {
            structural_invariants(
                ap,
                Level::Field,
                &format!("{path}.additionalProperties"),
                errs,
            );
        }
    }
    let ios = b(sch, "x-kubernetes-int-or-string");
    let puf = b(sch, "x-kubernetes-preserve-unknown-fields");
    let emb = b(sch, "x-kubernetes-embedded-resource");
    if ios && puf {
        errs.push(FieldError::invalid(
            format!("{path}.x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if ios && emb {
        errs.push(FieldError::invalid(
            format!("{path}.x-kubernetes-embedded-resource"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(sch.get("anyOf"));
    let skip_first_all_of_any_of = sch
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .is_some_and(|f| is_int_or_string_any_of(f.get("anyOf")));
    value_validation(sch, skip_any_of, skip_first_all_of_any_of, lvl, path, errs);

    let check_metadata = lvl == Level::Root || emb;
    if emb && ty != "object" {
        if ty.is_empty() {
            errs.push(FieldError::required(
                format!("{path}.type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                format!("{path}.type"),
                &Value::String(ty.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !ios && !puf {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(format!("{path}.type"), detail));
    }
    if emb
        && sch
            .get("additionalProperties")
            .is_some_and(|a| !a.is_null())
    {
        errs.push(FieldError::forbidden(
            format!("{path}.additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            format!("{path}.type"),
            &Value::String(ty.into()),
            "must be object at the root",
        ));
    }
    if check_metadata && let Some(p) = props(sch) {
        for key in ["kind", "apiVersion"] {
            if let Some(k) = p.get(key) {
                let t = s(k, "type");
                if t != "string" {
                    errs.push(FieldError::invalid(
                        format!("{path}.properties[{key}].type"),
                        &Value::String(t.into()),
                        "must be string",
                    ));
                }
            }
        }
    }
    if let Some(meta) = props(sch).and_then(|p| p.get("metadata")) {
        let mpath = format!("{path}.properties[metadata]");
        if check_metadata && s(meta, "type") != "object" {
            errs.push(FieldError::invalid(
                format!("{mpath}.type"),
                &Value::String(s(meta, "type").into()),
                "must be object",
            ));
        }
        if lvl == Level::Root && !metadata_only_names(meta) {
            errs.push(FieldError::forbidden(
                mpath,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if emb && !puf && props(sch).is_none_or(Obj::is_empty) {
        errs.push(FieldError::required(
            format!("{path}.properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// Root metadata may only restrict `name` and `generateName` (its `type` and `default` are
/// ignored; fields the structural schema does not keep — `externalDocs`, `example` — too).
fn metadata_only_names(meta: &Value) -> bool {
    let Some(obj) = meta.as_object() else {
        return true;
    };
    for (k, v) in obj {
        match k.as_str() {
            "type" | "default" | "externalDocs" | "example" | "id" | "$schema" | "$ref"
            | "patternProperties" | "dependencies" | "additionalItems" | "definitions" => {}
            "properties" => {
                let Some(p) = v.as_object() else { continue };
                let names = p.contains_key("name");
                let gen_names = p.contains_key("generateName");
                let ok = (names && gen_names && p.len() == 2)
                    || ((names || gen_names) && p.len() == 1)
                    || p.is_empty();
                if !ok {
                    return false;
                }
            }
            "nullable"
            | "uniqueItems"
            | "x-kubernetes-embedded-resource"
            | "x-kubernetes-int-or-string"
            | "x-kubernetes-preserve-unknown-fields"
            | "exclusiveMaximum"
            | "exclusiveMinimum" => {
                if v.as_bool() == Some(true) {
                    return false;
                }
            }
            "description" | "title" | "format" | "pattern" => {
                if v.as_str().is_some_and(|x| !x.is_empty()) {
                    return false;
                }
            }
            "required"
            | "enum"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "x-kubernetes-list-map-keys"
            | "x-kubernetes-validations" => {
                if v.as_array().is_some_and(|a| !a.is_empty()) {
                    return false;
                }
            }
            _ => {
                if !v.is_null() {
                    return false;
                }
            }
        }
    }
    true
}

fn value_validation(
    sch: &Value,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    lvl: Level,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if !skip_any_of && let Some(a) = sch.get("anyOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            nested_value_validation(x, false, lvl, &format!("{path}.anyOf[{idx}]"), errs);
        }
    }
    if let Some(a) = sch.get("allOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            let skip = skip_first_all_of_any_of && idx == 0;
            nested_value_validation(x, skip, lvl, &format!("{path}.allOf[{idx}]"), errs);
        }
    }
    if let Some(a) = sch.get("oneOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            nested_value_validation(x, false, lvl, &format!("{path}.oneOf[{idx}]"), errs);
        }
    }
    if let Some(n) = sch.get("not").filter(|n| n.is_object()) {
        nested_value_validation(n, false, lvl, &format!("{path}.not"), errs);
    }
    let pattern = s(sch, "pattern");
    if !pattern.is_empty()
        && let Err(e) = regex::Regex::new(pattern)
    {
        errs.push(FieldError::invalid(
            format!("{path}.pattern"),
            &Value::String(pattern.into()),
            format!(
                "must be a valid regular expression, but isn't: {}",
                go_regexp_error(pattern, &e)
            ),
        ));
    }
}

/// The error Go's `regexp.Compile` gives for the common mistakes (`error parsing regexp: <what>:
/// `<where>``); other errors keep the Rust parser's wording.
fn go_regexp_error(pattern: &str, e: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    if let Err(ae) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
        let span = ae.span();
        let from = |i: usize| pattern.get(i..).unwrap_or("");
        let at = |a: usize, b: usize| pattern.get(a..b).unwrap_or("");
        let (what, expr) = match ae.kind() {
            K::ClassUnclosed => ("missing closing ]", from(span.start.offset)),
            K::GroupUnclosed => ("missing closing )", pattern),
            K::GroupUnopened => ("unexpected )", pattern),
            K::RepetitionMissing => (
                "missing argument to repetition operator",
                at(span.start.offset, span.end.offset),
            ),
            K::EscapeUnrecognized => (
                "invalid escape sequence",
                at(span.start.offset, span.end.offset),
            ),
            K::ClassRangeInvalid => (
                "invalid character class range",
                at(span.start.offset, span.end.offset),
            ),
            K::RepetitionCountInvalid | K::RepetitionCountUnclosed => (
                "invalid repeat count",
                at(span.start.offset, span.end.offset),
            ),
            K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
            _ => return format!("error parsing regexp: {}", first_line(&ae.to_string())),
        };
        return format!("error parsing regexp: {what}: `{expr}`");
    }
    first_line(&e.to_string())
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

/// How a keyword counts as set, for [`NOT_IN_VALUE_VALIDATION`].
#[derive(Clone, Copy)]
enum Set {
    /// A non-empty string.
    String,
    /// A non-empty list.
    List,
    /// Any value but `null`.
    Defined,
    /// `true`.
    True,
}

/// The keywords a value validation (inside `allOf`/`anyOf`/`oneOf`/`not`) must leave unset,
/// in the order the API server reports them.
const NOT_IN_VALUE_VALIDATION: &[(&str, Set)] = &[
    ("type", Set::String),
    ("additionalProperties", Set::Defined),
    ("default", Set::Defined),
    ("title", Set::String),
    ("description", Set::String),
    ("nullable", Set::True),
    ("externalDocs", Set::Defined),
    ("x-kubernetes-preserve-unknown-fields", Set::True),
    ("x-kubernetes-embedded-resource", Set::True),
    ("x-kubernetes-int-or-string", Set::True),
    ("x-kubernetes-list-map-keys", Set::List),
    ("x-kubernetes-list-type", Set::Defined),
    ("x-kubernetes-map-type", Set::Defined),
    ("x-kubernetes-validations", Set::List),
];

fn nested_value_validation(
    v: &Value,
    skip_any_of: bool,
    lvl: Level,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if !v.is_object() {
        return;
    }
    value_validation(v, skip_any_of, false, lvl, path, errs);
    if let Some(items) = v.get("items").filter(|x| x.is_object()) {
        nested_value_validation(items, false, lvl, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(v) {
        for (k, x) in p {
            nested_value_validation(
                x,
                false,
                Level::Field,
                &format!("{path}.properties[{k}]"),
                errs,
            );
        }
    }
    for &(key, set) in NOT_IN_VALUE_VALIDATION {
        let (is_set, detail) = match set {
            Set::String => (!s(v, key).is_empty(), "must be empty to be structural"),
            Set::List => (
                v.get(key)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty()),
                "must be empty to be structural",
            ),
            Set::Defined => (
                v.get(key).is_some_and(|x| !x.is_null()),
                "must be undefined to be structural",
            ),
            Set::True => (b(v, key), "must be false to be structural"),
        };
        if is_set {
            errs.push(FieldError::forbidden(format!("{path}.{key}"), detail));
        }
    }
    if props(v).is_some_and(|p| p.contains_key("metadata")) {
        errs.push(FieldError::forbidden(
            format!("{path}.properties[metadata]"),
            "must not be specified in a nested context",
        ));
    }
}

/// `validateStructuralCompleteness`: every field and `items` a value validation of the root
/// mentions must also be specified in the structural part.
pub(super) fn structural_completeness(
    sch: &Value,
    spath: &str,
    vpath: &str,
    errs: &mut Vec<FieldError>,
) {
    value_validation_completeness(sch, Some(sch), spath, vpath, errs);
}

fn value_validation_completeness(
    v: &Value,
    s_: Option<&Value>,
    spath: &str,
    vpath: &str,
    errs: &mut Vec<FieldError>,
) {
    if let Some(n) = v.get("not").filter(|n| n.is_object()) {
        nested_completeness(n, s_, spath, &format!("{vpath}.not"), errs);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = v.get(key).and_then(Value::as_array) {
            for (idx, x) in a.iter().enumerate() {
                nested_completeness(x, s_, spath, &format!("{vpath}.{key}[{idx}]"), errs);
            }
        }
    }
}

fn nested_completeness(
    v: &Value,
    s_: Option<&Value>,
    spath: &str,
    vpath: &str,
    errs: &mut Vec<FieldError>,
) {
    let Some(sv) = s_ else {
        errs.push(FieldError::required(
            spath,
            format!("because it is defined in {vpath}"),
        ));
        return;
    };
    value_validation_completeness(v, Some(sv), spath, vpath, errs);
    if let Some(items) = v.get("items").filter(|x| x.is_object()) {
        nested_completeness(
            items,
            sv.get("items").filter(|x| x.is_object()),
            &format!("{spath}.items"),
            &format!("{vpath}.items"),
            errs,
        );
    }
    if let Some(p) = props(v) {
        for (k, x) in p {
            match props(sv).and_then(|sp| sp.get(k)) {
                None => errs.push(FieldError::required(
                    format!("{spath}.properties[{k}]"),
                    format!("because it is defined in {vpath}.properties[{k}]"),
                )),
                Some(sf) => nested_completeness(
                    x,
                    Some(sf),
                    &format!("{spath}.properties[{k}]"),
                    &format!("{vpath}.properties[{k}]"),
                    errs,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword a value validation must leave unset is reported, in the API server's
    /// order, with its wording; unset, `null`, empty and `false` values are not.
    #[test]
    fn every_structural_keyword_is_forbidden_in_a_value_validation() {
        let set = serde_json::json!({
            "type": "string", "additionalProperties": false, "default": 1, "title": "t",
            "description": "d", "nullable": true, "externalDocs": {"url": "u"},
            "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-embedded-resource": true,
            "x-kubernetes-int-or-string": true, "x-kubernetes-list-map-keys": ["k"],
            "x-kubernetes-list-type": "map", "x-kubernetes-map-type": "atomic",
            "x-kubernetes-validations": [{"rule": "true"}],
        });
        let mut errs = Vec::new();
        nested_value_validation(&set, false, Level::Field, "p.anyOf[0]", &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let want: Vec<String> = [
            ("type", "must be empty"),
            ("additionalProperties", "must be undefined"),
            ("default", "must be undefined"),
            ("title", "must be empty"),
            ("description", "must be empty"),
            ("nullable", "must be false"),
            ("externalDocs", "must be undefined"),
            ("x-kubernetes-preserve-unknown-fields", "must be false"),
            ("x-kubernetes-embedded-resource", "must be false"),
            ("x-kubernetes-int-or-string", "must be false"),
            ("x-kubernetes-list-map-keys", "must be empty"),
            ("x-kubernetes-list-type", "must be undefined"),
            ("x-kubernetes-map-type", "must be undefined"),
            ("x-kubernetes-validations", "must be empty"),
        ]
        .iter()
        .map(|(k, d)| format!("p.anyOf[0].{k}: Forbidden: {d} to be structural"))
        .collect();
        assert_eq!(got, want);

        let unset = serde_json::json!({
            "type": "", "additionalProperties": null, "default": null, "nullable": false,
            "x-kubernetes-list-map-keys": [], "x-kubernetes-validations": [],
            "x-kubernetes-int-or-string": false,
        });
        let mut errs = Vec::new();
        nested_value_validation(&unset, false, Level::Field, "p", &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
    }
}
