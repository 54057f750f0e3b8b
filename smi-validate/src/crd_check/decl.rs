//! CEL declarations of a structural schema, with the Kubernetes size estimates
//! (`k8s.io/apiserver/pkg/cel/common` `SchemaDeclType`): every node carries the largest
//! number of elements (characters, items, properties) it can hold in one request and the
//! smallest size it serializes to.

use std::collections::BTreeMap;

use serde_json::Value;

use super::MAX_REQUEST_SIZE_BYTES;

// Sizes of `k8s.io/apiserver/pkg/cel/limits.go`.
const MAX_DURATION_SIZE_JSON: i64 = 32;
const MAX_DATETIME_SIZE_JSON: i64 = 32;
const MIN_DURATION_SIZE_JSON: i64 = 3;
const JSON_DATE_SIZE: i64 = 12;
const MIN_DATETIME_SIZE_JSON: i64 = 21;
const MIN_STRING_SIZE: i64 = 2;
const MIN_BOOL_SIZE: i64 = 4;
const MIN_NUMBER_SIZE: i64 = 1;

/// One CEL declaration.
#[derive(Debug, Clone)]
pub(crate) struct Decl {
    pub kind: DeclKind,
    /// `MaxElements`: characters of a string, items of a list, properties of a map; 0 for
    /// scalars and objects.
    pub max_elements: i64,
    /// `MinSerializedSize`.
    pub min_size: i64,
}

#[derive(Debug, Clone)]
pub(crate) enum DeclKind {
    Bool,
    Int,
    Double,
    String,
    Bytes,
    Duration,
    Timestamp,
    /// `x-kubernetes-int-or-string`
    Dyn,
    List(Box<Decl>),
    /// string keys (`key` is the StringType declaration: `MaxElements` 0)
    Map(Box<Decl>, Box<Decl>),
    /// fields by escaped CEL name
    Object(BTreeMap<String, Decl>),
}

fn simple(kind: DeclKind, min_size: i64) -> Decl {
    Decl {
        kind,
        max_elements: 0,
        min_size,
    }
}

fn zero_if_negative(v: i64) -> i64 {
    v.max(0)
}

fn int_field(s: &Value, key: &str) -> Option<i64> {
    let v = s.get(key)?;
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| v.as_f64().map(|f| f as i64))
}

fn str_field<'a>(s: &'a Value, key: &str) -> &'a str {
    s.get(key).and_then(Value::as_str).unwrap_or("")
}

fn bool_field(s: &Value, key: &str) -> bool {
    s.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The `x-kubernetes-int-or-string` / unbounded string estimate.
fn max_string_len_per_request(s: &Value) -> i64 {
    if bool_field(s, "x-kubernetes-int-or-string") {
        return MAX_REQUEST_SIZE_BYTES - 2;
    }
    match str_field(s, "format") {
        "duration" => MAX_DURATION_SIZE_JSON,
        "date" => JSON_DATE_SIZE,
        "date-time" => MAX_DATETIME_SIZE_JSON,
        _ => MAX_REQUEST_SIZE_BYTES - 2,
    }
}

fn max_elements_from_max_length(max_length: i64) -> i64 {
    zero_if_negative(max_length).saturating_mul(4)
}

fn max_array_items_from_min_size(min_size: i64) -> i64 {
    (MAX_REQUEST_SIZE_BYTES - 2) / (min_size + 1)
}

fn max_additional_properties_from_min_size(min_size: i64) -> i64 {
    (MAX_REQUEST_SIZE_BYTES - 2) / (min_size + 6)
}

/// `SchemaDeclType(s, isResourceRoot)`: `None` when the schema is not visible to CEL.
pub(crate) fn schema_decl(s: &Value, is_resource_root: bool) -> Option<Decl> {
    if !s.is_object() {
        return None;
    }
    if bool_field(s, "x-kubernetes-int-or-string") {
        let max = match int_field(s, "maxLength") {
            Some(m) => max_elements_from_max_length(m),
            None => max_string_len_per_request(s),
        };
        return Some(Decl {
            kind: DeclKind::Dyn,
            max_elements: max,
            min_size: 1,
        });
    }
    let ty = str_field(s, "type");
    match ty {
        "array" => {
            let items = s.get("items").filter(|i| i.is_object())?;
            let item = schema_decl(items, bool_field(items, "x-kubernetes-embedded-resource"))?;
            let max_items = match int_field(s, "maxItems") {
                Some(m) => zero_if_negative(m),
                None => max_array_items_from_min_size(item.min_size),
            };
            Some(Decl {
                kind: DeclKind::List(Box::new(item)),
                max_elements: max_items,
                min_size: 2,
            })
        }
        "object" => {
            if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                let value = schema_decl(ap, bool_field(ap, "x-kubernetes-embedded-resource"))?;
                let max_props = match int_field(s, "maxProperties") {
                    Some(m) => zero_if_negative(m),
                    None => max_additional_properties_from_min_size(value.min_size),
                };
                return Some(Decl {
                    kind: DeclKind::Map(
                        Box::new(simple(DeclKind::String, MIN_STRING_SIZE)),
                        Box::new(value),
                    ),
                    max_elements: max_props,
                    min_size: 2,
                });
            }
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut fields = BTreeMap::new();
            let mut min_size: i64 = 2;
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    // at a resource root, kind/apiVersion/metadata may be replaced below
                    let field =
                        schema_decl(prop, bool_field(prop, "x-kubernetes-embedded-resource"));
                    if let Some(f) = field {
                        if required.contains(&name.as_str()) && prop.get("default").is_none() {
                            min_size += name.len() as i64 + f.min_size + 4;
                        }
                        if let Some(esc) = escape(name) {
                            fields.insert(esc, f);
                        }
                    }
                }
            }
            if is_resource_root {
                with_type_and_object_meta(s, &mut fields);
            }
            Some(Decl {
                kind: DeclKind::Object(fields),
                max_elements: 0,
                min_size,
            })
        }
        "string" => {
            let (kind, min) = match str_field(s, "format") {
                "byte" => {
                    let max = match int_field(s, "maxLength") {
                        Some(m) => zero_if_negative(m),
                        None => max_string_len_per_request(s),
                    };
                    return Some(Decl {
                        kind: DeclKind::Bytes,
                        max_elements: max,
                        min_size: MIN_STRING_SIZE,
                    });
                }
                "duration" => (DeclKind::Duration, MIN_DURATION_SIZE_JSON),
                "date" => (DeclKind::Timestamp, JSON_DATE_SIZE),
                "date-time" => (DeclKind::Timestamp, MIN_DATETIME_SIZE_JSON),
                _ => {
                    let max = if let Some(m) = int_field(s, "maxLength") {
                        max_elements_from_max_length(m)
                    } else if let Some(e) = s
                        .get("enum")
                        .and_then(Value::as_array)
                        .filter(|e| !e.is_empty())
                    {
                        e.iter()
                            .filter_map(Value::as_str)
                            .map(|v| v.len() as i64)
                            .max()
                            .unwrap_or(0)
                    } else {
                        max_string_len_per_request(s)
                    };
                    return Some(Decl {
                        kind: DeclKind::String,
                        max_elements: max,
                        min_size: MIN_STRING_SIZE,
                    });
                }
            };
            Some(Decl {
                kind,
                max_elements: max_string_len_per_request(s),
                min_size: min,
            })
        }
        "boolean" => Some(simple(DeclKind::Bool, MIN_BOOL_SIZE)),
        "number" => Some(simple(DeclKind::Double, MIN_NUMBER_SIZE)),
        "integer" => Some(simple(DeclKind::Int, MIN_NUMBER_SIZE)),
        _ => None,
    }
}

/// `WithTypeAndObjectMeta`: at a resource root, `kind`, `apiVersion` and `metadata.name` /
/// `metadata.generateName` are always visible (as plain strings), unless the schema already
/// declares all of them with the right types.
fn with_type_and_object_meta(s: &Value, fields: &mut BTreeMap<String, Decl>) {
    let props = s.get("properties").and_then(Value::as_object);
    let has = |name: &str, ty: &str| {
        props
            .and_then(|p| p.get(name))
            .is_some_and(|p| str_field(p, "type") == ty)
    };
    let meta_has = |name: &str| {
        props
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("properties"))
            .and_then(|p| p.get(name))
            .is_some_and(|p| str_field(p, "type") == "string")
    };
    if has("kind", "string")
        && has("apiVersion", "string")
        && has("metadata", "object")
        && meta_has("name")
        && meta_has("generateName")
    {
        return;
    }
    let string = || Decl {
        kind: DeclKind::String,
        max_elements: MAX_REQUEST_SIZE_BYTES - 2,
        min_size: MIN_STRING_SIZE,
    };
    fields.insert("kind".into(), string());
    fields.insert("apiVersion".into(), string());
    let mut meta = BTreeMap::new();
    meta.insert("name".into(), string());
    meta.insert("generateName".into(), string());
    fields.insert(
        "metadata".into(),
        Decl {
            kind: DeclKind::Object(meta),
            max_elements: 0,
            min_size: 2,
        },
    );
}

const RESERVED: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// `apiservercel.Escape`: the CEL name of a property, `None` when it has none.
pub(crate) fn escape(ident: &str) -> Option<String> {
    let first = ident.chars().next()?;
    if first.is_ascii_digit() {
        return None;
    }
    if RESERVED.contains(&ident) {
        return Some(format!("__{ident}__"));
    }
    let mut out = String::with_capacity(ident.len());
    let mut chars = ident.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str("__underscores__");
            }
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_api_server() {
        assert_eq!(escape("foo").as_deref(), Some("foo"));
        assert_eq!(escape("namespace").as_deref(), Some("__namespace__"));
        assert_eq!(
            escape("a-b.c/d").as_deref(),
            Some("a__dash__b__dot__c__slash__d")
        );
        assert_eq!(escape("a__b").as_deref(), Some("a__underscores__b"));
        assert_eq!(escape("1abc"), None);
        assert_eq!(escape("a b"), None);
        assert_eq!(escape(""), None);
    }

    #[test]
    fn unbounded_strings_and_lists_use_the_request_size() {
        let s = serde_json::json!({"type": "array", "items": {"type": "string"}});
        let d = schema_decl(&s, false).unwrap();
        // (3 MiB - 2) / (2 + 1)
        assert_eq!(d.max_elements, (3 * 1024 * 1024 - 2) / 3);
        let DeclKind::List(item) = d.kind else {
            panic!()
        };
        assert_eq!(item.max_elements, 3 * 1024 * 1024 - 2);
        let s = serde_json::json!({"type": "string", "maxLength": 10});
        assert_eq!(schema_decl(&s, false).unwrap().max_elements, 40);
        let s = serde_json::json!({"type": "string", "enum": ["a", "abcd"]});
        assert_eq!(schema_decl(&s, false).unwrap().max_elements, 4);
    }
}
