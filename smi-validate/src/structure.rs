//! Layer 3: structure, checked against a CRD's structural OpenAPI v3 schema.
//!
//! A small walker over the subset of OpenAPI v3 that structural CRD schemas may use (`type`,
//! `properties`, `required`, `items`, `additionalProperties`, `enum`, `nullable`, bounds,
//! `pattern`, `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`, and the
//! `allOf`/`anyOf`/`oneOf` value validations). It reports every problem with the field path as
//! the manifest spells it, in one pass, and tells unknown (pruned) fields apart from errors.

use crate::diagnostic::{Code, Severity};
use crate::path::{Path, Seg};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// A finding of layers 3–6 before it is given a file position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub code: Code,
    pub message: String,
    pub path: Path,
    pub hint: Option<String>,
    /// Overrides the code's default severity.
    pub severity: Option<Severity>,
}

impl Finding {
    pub fn new(code: Code, path: Path, message: impl Into<String>) -> Self {
        Finding {
            code,
            message: message.into(),
            path,
            hint: None,
            severity: None,
        }
    }
    pub fn warning(mut self) -> Self {
        self.severity = Some(Severity::Warning);
        self
    }
    pub fn error(mut self) -> Self {
        self.severity = Some(Severity::Error);
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
}

/// The path of the node being checked, borrowed from the document: a [`Path`] (which owns its
/// keys) is built only for a finding, and most nodes have none.
#[derive(Debug, Default)]
pub(crate) struct Trail<'v>(Vec<Step<'v>>);

#[derive(Debug, Clone, Copy)]
enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

impl<'v> Trail<'v> {
    fn push(&mut self, s: Step<'v>) {
        self.0.push(s);
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn path(&self) -> Path {
        let mut p = Path::root();
        for s in &self.0 {
            p.push(match *s {
                Step::Key(k) => Seg::Key(k.to_owned()),
                Step::Index(i) => Seg::Index(i),
            });
        }
        p
    }
}

/// Compiled `pattern`s, shared by all documents.
#[derive(Default)]
pub(crate) struct Patterns(Mutex<HashMap<String, Option<Regex>>>);

impl Patterns {
    fn is_match(&self, pattern: &str, s: &str) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let re = m
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).ok());
        re.as_ref().is_none_or(|r| r.is_match(s))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// `string "x"`, `integer 5`, or `null`.
fn found(v: &Value) -> String {
    if v.is_null() {
        "null".to_owned()
    } else {
        format!("{} {}", type_name(v), short(v))
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

/// The schema of field `k` of an object whose schema is `s`: its property, or the
/// `additionalProperties` schema.
pub(crate) fn field_schema<'s>(s: &'s Map<String, Value>, k: &str) -> Option<&'s Value> {
    s.get("properties")
        .and_then(|p| p.get(k))
        .or(s.get("additionalProperties").filter(|a| a.is_object()))
}

/// `true` for a `null` field the API server drops before it validates (and before CEL): one
/// whose schema `cs` does not mark it `nullable`.
pub(crate) fn dropped_null(cs: &Value, v: &Value) -> bool {
    v.is_null() && cs.get("nullable").and_then(Value::as_bool) != Some(true)
}

/// Walks `v` against `schema`. `strict` says how unknown fields are reported.
pub(crate) fn check<'v>(
    schema: &Value,
    v: &'v Value,
    path: &mut Trail<'v>,
    strict: crate::FieldValidation,
    pats: &Patterns,
    out: &mut Vec<Finding>,
) {
    let Some(s) = schema.as_object() else { return };
    // A null field the API server drops never gets here (`check_object` skips it, as the server
    // drops it before validating); a nullable null is valid; a null list item is kept by the
    // server and fails the type check.
    if v.is_null() && s.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = s.get(key) {
            let results: Vec<Vec<Finding>> = branches
                .iter()
                .map(|b| {
                    let mut o = Vec::new();
                    check(b, v, path, crate::FieldValidation::Ignore, pats, &mut o);
                    o
                })
                .collect();
            let passing = results.iter().filter(|r| r.is_empty()).count();
            match key {
                "allOf" => results.into_iter().for_each(|r| out.extend(r)),
                "anyOf" if passing == 0 => {
                    out.extend(results.into_iter().next().unwrap_or_default())
                }
                "oneOf" if passing != 1 => out.push(Finding::new(
                    Code::WrongType,
                    path.path(),
                    format!(
                        "must match exactly one of {} alternatives, matches {passing}",
                        branches.len()
                    ),
                )),
                _ => {}
            }
        }
    }
    let int_or_string = s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    if int_or_string {
        if !(v.is_i64() || v.is_u64() || v.is_string()) {
            out.push(Finding::new(
                Code::WrongType,
                path.path(),
                format!("expected an integer or a string, found {}", found(v)),
            ));
            return;
        }
    } else if let Some(t) = s.get("type").and_then(Value::as_str)
        && !type_ok(t, v)
    {
        let mut f = Finding::new(
            Code::WrongType,
            path.path(),
            format!("expected {t}, found {}", found(v)),
        );
        if t == "integer" && v.is_string() {
            f = f.hint("write a plain number without quotes or unit suffix");
        }
        out.push(f);
        return;
    }
    if let Some(Value::Array(allowed)) = s.get("enum")
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed
            .iter()
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
            .collect();
        out.push(
            Finding::new(
                Code::NotInEnum,
                path.path(),
                format!("{} is not allowed", short(v)),
            )
            .hint(format!("allowed values: {}", list.join(", "))),
        );
    }
    match v {
        Value::String(st) => {
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && !pats.is_match(p, st)
            {
                out.push(Finding::new(
                    Code::PatternMismatch,
                    path.path(),
                    format!("{} does not match the pattern `{p}`", short(v)),
                ));
            }
            if matches!(
                s.get("format").and_then(Value::as_str),
                Some("date-time" | "datetime")
            ) && !crate::meta::is_date_time(st)
            {
                out.push(
                    Finding::new(
                        Code::PatternMismatch,
                        path.path(),
                        format!("{} is not a date-time", short(v)),
                    )
                    .hint("an RFC 3339 date-time like 2026-01-01T00:00:00Z"),
                );
            }
            let len = st.chars().count() as u64;
            bound(s, "minLength", "maxLength", len, "characters", path, out);
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                out.push(Finding::new(
                    Code::OutOfRange,
                    path.path(),
                    format!("{n} is less than the minimum {min}"),
                ));
            }
            if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                out.push(Finding::new(
                    Code::OutOfRange,
                    path.path(),
                    format!("{n} is greater than the maximum {max}"),
                ));
            }
        }
        Value::Array(items) => {
            bound(
                s,
                "minItems",
                "maxItems",
                items.len() as u64,
                "items",
                path,
                out,
            );
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    check(item_schema, item, path, strict, pats, out);
                    path.pop();
                }
            }
        }
        Value::Object(m) => check_object(s, m, path, strict, pats, out),
        _ => {}
    }
}

fn bound(
    s: &Map<String, Value>,
    lo: &str,
    hi: &str,
    n: u64,
    what: &str,
    path: &Trail<'_>,
    out: &mut Vec<Finding>,
) {
    if let Some(min) = s.get(lo).and_then(Value::as_u64)
        && n < min
    {
        out.push(Finding::new(
            Code::OutOfRange,
            path.path(),
            format!("has {n} {what}, at least {min} required"),
        ));
    }
    if let Some(max) = s.get(hi).and_then(Value::as_u64)
        && n > max
    {
        out.push(Finding::new(
            Code::OutOfRange,
            path.path(),
            format!("has {n} {what}, at most {max} allowed"),
        ));
    }
}

fn check_object<'v>(
    s: &Map<String, Value>,
    m: &'v Map<String, Value>,
    path: &mut Trail<'v>,
    strict: crate::FieldValidation,
    pats: &Patterns,
    out: &mut Vec<Finding>,
) {
    if let Some(Value::Array(req)) = s.get("required") {
        for r in req.iter().filter_map(Value::as_str) {
            let dropped = |c: &Value| field_schema(s, r).is_none_or(|cs| dropped_null(cs, c));
            if m.get(r).is_none_or(|c| c.is_null() && dropped(c)) {
                let where_ = if path.is_empty() {
                    "the object".to_owned()
                } else {
                    format!("`{}`", path.path())
                };
                out.push(Finding::new(
                    Code::MissingField,
                    path.path().key(r),
                    format!("required field `{r}` is missing in {where_}"),
                ));
            }
        }
    }
    let props = s.get("properties").and_then(Value::as_object);
    let additional = s.get("additionalProperties");
    let preserve = s
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    // the API server counts the fields it keeps: not the nulls it drops, nor the unknown fields
    // it prunes
    let kept = m
        .iter()
        .filter(|(k, c)| match field_schema(s, k) {
            Some(cs) => !dropped_null(cs, c),
            None => additional == Some(&Value::Bool(true)) || preserve,
        })
        .count();
    bound(
        s,
        "minProperties",
        "maxProperties",
        kept as u64,
        "properties",
        path,
        out,
    );
    for (k, child) in m {
        path.push(Step::Key(k));
        if let Some(cs) = props.and_then(|p| p.get(k)) {
            if !dropped_null(cs, child) {
                check(cs, child, path, strict, pats, out);
            }
        } else if let Some(a @ Value::Object(_)) = additional {
            if !dropped_null(a, child) {
                check(a, child, path, strict, pats, out);
            }
        } else if additional == Some(&Value::Bool(true)) || preserve {
            // kept as is
        } else if strict != crate::FieldValidation::Ignore && !(path.0.len() == 1 && k == "status")
        {
            let known: Vec<&str> = props
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let mut f = Finding::new(
                Code::UnknownField,
                path.path(),
                format!("unknown field `{k}`: the API server would drop it"),
            );
            if !known.is_empty() {
                f = f.hint(format!("known fields here: {}", known.join(", ")));
            }
            if strict == crate::FieldValidation::Warn {
                f = f.warning();
            }
            out.push(f);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_type_required_enum_unknown() {
        let schema = json!({"type": "object", "required": ["a"], "properties": {
            "b": {"type": "integer"}, "c": {"type": "string", "enum": ["x"]}}});
        let v = json!({"b": "5", "c": "y", "d": 1});
        let mut out = Vec::new();
        check(
            &schema,
            &v,
            &mut Trail::default(),
            crate::FieldValidation::Strict,
            &Patterns::default(),
            &mut out,
        );
        let codes: Vec<Code> = out.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            vec![
                Code::MissingField,
                Code::WrongType,
                Code::NotInEnum,
                Code::UnknownField
            ]
        );
        assert_eq!(out[1].path.to_string(), "b");
    }
}
