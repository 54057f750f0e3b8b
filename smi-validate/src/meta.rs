//! `metadata` as the API server reads and validates it, and the string formats it checks.
//!
//! The server decodes a custom resource's `metadata` into Kubernetes' `ObjectMeta` (strictly:
//! a field of the wrong type fails the request, an unknown field follows `fieldValidation`), then
//! applies the `ObjectMeta` rules of every create: label keys and values, annotation keys and
//! their total size, `generateName`, owner references, finalizers, timestamps. The structure
//! layer walks an `ObjectMeta` schema (types and unknown fields); a second pass adds the rules
//! (SMI1208). [`is_date_time`] is the `format: date-time` check of CRD schemas.

use crate::diagnostic::Code;
use crate::path::Path;
use crate::structure::Finding;
use serde_json::{Value, json};

/// Total size of all annotation keys and values, in bytes (Kubernetes'
/// `TotalAnnotationSizeLimitB`, 256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Longest label value and label-key name part (63 characters).
const LABEL_MAX: usize = 63;

/// Longest `generateName` prefix the server keeps before it appends five random characters.
const GENERATED_PREFIX_MAX: usize = 58;

/// The structural schema of `ObjectMeta` as the API server decodes it (JSON names and types;
/// timestamps are strings checked by [`check`]).
pub(crate) fn object_meta_schema() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let boolean = json!({"type": "boolean"});
    let string_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "type": "object",
        "properties": {
            "name": string,
            "generateName": string,
            "namespace": string,
            "selfLink": string,
            "uid": string,
            "resourceVersion": string,
            "generation": integer,
            "creationTimestamp": string,
            "deletionTimestamp": string,
            "deletionGracePeriodSeconds": integer,
            "labels": string_map,
            "annotations": string_map,
            "ownerReferences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "apiVersion": string,
                        "kind": string,
                        "name": string,
                        "uid": string,
                        "controller": boolean,
                        "blockOwnerDeletion": boolean,
                    }
                }
            },
            "finalizers": {"type": "array", "items": string},
            "managedFields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "manager": string,
                        "operation": string,
                        "apiVersion": string,
                        "time": string,
                        "fieldsType": string,
                        "fieldsV1": {"x-kubernetes-preserve-unknown-fields": true},
                        "subresource": string,
                    }
                }
            },
        }
    })
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: a label key's name part and a non-empty label
/// value.
fn label_token(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter()
            .all(|&c| alnum(c) || c == b'-' || c == b'_' || c == b'.')
}

/// Kubernetes' `IsDNS1123Subdomain`: at most 253 characters of dot-separated lower-case
/// labels (no 63-character limit per label).
pub(crate) fn dns1123_subdomain(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    !s.is_empty() && s.len() <= 253 && s.split('.').all(part)
}

/// Kubernetes' `IsQualifiedName` (label keys, annotation keys in lower case, finalizers):
/// an optional DNS-subdomain prefix and `/`, then a name part of at most 63 characters.
pub fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        None => (None, s),
        Some((p, n)) => (Some(p), n),
    };
    if name.contains('/') {
        return false;
    }
    prefix.is_none_or(dns1123_subdomain) && name.len() <= LABEL_MAX && label_token(name)
}

/// Kubernetes' `IsValidLabelValue`: empty, or at most 63 characters of `[-A-Za-z0-9_.]`
/// starting and ending with a letter or digit.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || (s.len() <= LABEL_MAX && label_token(s))
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |n, &c| {
        n.checked_mul(10)?.checked_add(u32::from(c - b'0'))
    })
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` with a month of 1–12 and a day that exists in that month (RFC 3339
/// `full-date`, as Go's `time.Parse("2006-01-02", …)` reads it).
fn is_full_date(s: &[u8]) -> bool {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(&s[0..4]), digits(&s[5..7]), digits(&s[8..10]))
    else {
        return false;
    };
    (1..=12).contains(&m) && (1..=days_in(m, y)).contains(&d)
}

/// `format: date-time` as the API server checks it in a CRD schema (kube-openapi's
/// `strfmt.IsDateTime`): lower-cased and cut at every `t`, the part before the first `t` is a
/// full date and the part after it is `HH:MM:SS`, an optional fraction (any one character, then
/// digits) and `z` or `±HH:MM` (hour ≤ 23, minute and second ≤ 59; the offset unchecked).
/// Text after a second `t` is not looked at.
///
/// ```
/// use smi_validate::meta::is_date_time;
/// assert!(is_date_time("2026-01-01T00:00:00Z"));
/// assert!(is_date_time("2026-01-01t00:01:30.5+02:00"));
/// assert!(!is_date_time("2026-02-30T00:00:00Z"));
/// assert!(!is_date_time("2026-01-01 00:00:00Z"));
/// assert!(!is_date_time("1m30s"));
/// ```
pub fn is_date_time(s: &str) -> bool {
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_full_date(date.as_bytes()) {
        return false;
    }
    // ^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$
    let t: Vec<char> = time.chars().collect();
    let two = |i: usize| -> Option<u32> {
        let a = t.get(i)?.to_digit(10)?;
        let b = t.get(i + 1)?.to_digit(10)?;
        Some(a * 10 + b)
    };
    let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) else {
        return false;
    };
    if t.get(2) != Some(&':') || t.get(5) != Some(&':') || h > 23 || m > 59 || sec > 59 {
        return false;
    }
    let zone = |z: &[char]| {
        z == ['z']
            || (z.len() == 6
                && matches!(z[0], '+' | '-')
                && z[1].is_ascii_digit()
                && z[2].is_ascii_digit()
                && z[3] == ':'
                && z[4].is_ascii_digit()
                && z[5].is_ascii_digit())
    };
    let rest = &t[8..];
    if zone(rest) {
        return true;
    }
    // a fraction: one character (any but a line break), at least one digit, then the zone
    if rest.first().is_none_or(|c| *c == '\n') {
        return false;
    }
    let after = &rest[1..];
    let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
    // the regex backtracks: digits may end where the zone begins
    n > 0 && (1..=n).any(|k| zone(&after[k..]))
}

/// An RFC 3339 timestamp as Kubernetes' `metav1.Time` reads one (Go's `time.Parse(RFC3339)`):
/// `YYYY-MM-DDTHH:MM:SS`, an optional `.` fraction, and `Z` or `±HH:MM` (both case-sensitive).
pub fn is_rfc3339_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !is_full_date(&b[..10]) || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(sec)) =
        (digits(&b[11..13]), digits(&b[14..16]), digits(&b[17..19]))
    else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    let mut rest = &b[19..];
    if rest.len() >= 2 && rest[0] == b'.' && rest[1].is_ascii_digit() {
        let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[n..];
    }
    rest == b"Z"
        || (rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && rest[3] == b':'
            && digits(&rest[1..3]).is_some_and(|h| h <= 23)
            && digits(&rest[4..6]).is_some_and(|m| m <= 59))
}

/// `apiVersion` of an owner reference: `version` or `group/version` with a version.
fn owner_api_version_ok(s: &str) -> bool {
    match s.split_once('/') {
        None => !s.is_empty(),
        Some((_, v)) => !v.is_empty() && !v.contains('/'),
    }
}

fn bad(path: Path, message: impl Into<String>) -> Finding {
    Finding::new(Code::InvalidMetadata, path, message)
}

/// The `ObjectMeta` rules of a create (SMI1208), beyond name and namespace (which
/// `rules::metadata` checks): label keys and values, annotation keys and total size,
/// `generateName`, owner references, finalizers and timestamps. Values of the wrong type are
/// the structure layer's (SMI1201) and are skipped here.
pub(crate) fn check(v: &Value, out: &mut Vec<Finding>) {
    let Some(m) = v.get("metadata").and_then(Value::as_object) else {
        return;
    };
    let md = Path::root().key("metadata");
    if let Some(Value::Object(labels)) = m.get("labels") {
        for (k, val) in labels {
            let path = md.key("labels").key(k);
            if !is_qualified_name(k) {
                out.push(
                    bad(path.clone(), format!("label key `{k}` is not a valid label key"))
                        .hint("an optional DNS-subdomain prefix and `/`, then at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"),
                );
            }
            if let Value::String(s) = val
                && !is_label_value(s)
            {
                out.push(
                    bad(path, format!("label value `{}` is not a valid label value", short(s)))
                        .hint("empty, or at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"),
                );
            }
        }
    }
    if let Some(Value::Object(annotations)) = m.get("annotations") {
        let mut size = 0usize;
        for (k, val) in annotations {
            size += k.len() + val.as_str().map_or(0, str::len);
            if !is_qualified_name(&k.to_lowercase()) {
                out.push(
                    bad(md.key("annotations").key(k), format!("annotation key `{k}` is not a valid annotation key"))
                        .hint("an optional DNS-subdomain prefix and `/`, then at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"),
                );
            }
        }
        if size > TOTAL_ANNOTATION_SIZE_LIMIT {
            out.push(bad(
                md.key("annotations"),
                format!(
                    "annotations take {size} bytes, more than the limit of {TOTAL_ANNOTATION_SIZE_LIMIT} (keys and values together)"
                ),
            ));
        }
    }
    let name_empty = m
        .get("name")
        .is_none_or(|n| n.as_str() == Some("") || n.is_null());
    if let Some(Value::String(g)) = m.get("generateName")
        && !g.is_empty()
    {
        // the server checks the prefix with a trailing `-` allowed, then (when it generates
        // the name) the generated name: the prefix cut to 58 bytes plus five random characters
        let masked = match g.strip_suffix('-') {
            Some(p) => format!("{p}a"),
            None => g.clone(),
        };
        let generated = name_empty && {
            let cut = g
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .take_while(|end| *end <= GENERATED_PREFIX_MAX)
                .last()
                .unwrap_or(0);
            !dns1123_subdomain(&format!("{}bbbbb", &g[..cut]))
        };
        if !dns1123_subdomain(&masked) || generated {
            out.push(
                Finding::new(
                    Code::InvalidName,
                    md.key("generateName"),
                    format!("generateName `{}` is not a valid name prefix", short(g)),
                )
                .hint("lower-case letters, digits, `-` and `.`, starting with a letter or digit, at most 253 characters"),
            );
        }
    }
    if let Some(Value::Array(refs)) = m.get("ownerReferences") {
        let mut controllers = 0;
        for (i, r) in refs.iter().enumerate() {
            let Some(r) = r.as_object() else { continue };
            let path = md.key("ownerReferences").index(i);
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
            for k in ["apiVersion", "kind", "name", "uid"] {
                if s(k).is_empty() {
                    out.push(bad(
                        path.key(k),
                        format!("owner reference `{k}` must not be empty"),
                    ));
                }
            }
            let av = s("apiVersion");
            if !av.is_empty() && !owner_api_version_ok(av) {
                out.push(bad(
                    path.key("apiVersion"),
                    format!(
                        "owner reference apiVersion `{av}` must be <group>/<version> or <version>"
                    ),
                ));
            }
            if av == "v1" && s("kind") == "Event" {
                out.push(bad(path.clone(), "an Event cannot be an owner"));
            }
            if r.get("controller") == Some(&Value::Bool(true)) {
                controllers += 1;
            }
        }
        if controllers > 1 {
            out.push(bad(
                md.key("ownerReferences"),
                "only one owner reference can have `controller: true`",
            ));
        }
    }
    if let Some(Value::Array(fs)) = m.get("finalizers") {
        for (i, f) in fs.iter().enumerate() {
            if let Value::String(f) = f
                && !is_qualified_name(f)
            {
                out.push(bad(
                    md.key("finalizers").index(i),
                    format!("finalizer `{}` is not a qualified name", short(f)),
                ));
            }
        }
        let has = |n: &str| fs.iter().any(|f| f.as_str() == Some(n));
        if has("orphan") && has("foregroundDeletion") {
            out.push(bad(
                md.key("finalizers"),
                "finalizers `orphan` and `foregroundDeletion` cannot both be set",
            ));
        }
    }
    let mut times: Vec<(Path, &Value)> = ["creationTimestamp", "deletionTimestamp"]
        .into_iter()
        .filter_map(|k| m.get(k).map(|t| (md.key(k), t)))
        .collect();
    if let Some(Value::Array(entries)) = m.get("managedFields") {
        for (i, e) in entries.iter().enumerate() {
            if let Some(t) = e.get("time") {
                times.push((md.key("managedFields").index(i).key("time"), t));
            }
        }
    }
    for (path, t) in times {
        if let Value::String(t) = t
            && !is_rfc3339_time(t)
        {
            out.push(
                bad(path, format!("`{}` is not an RFC 3339 time", short(t)))
                    .hint("like 2026-01-01T00:00:00Z"),
            );
        }
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_and_label_values() {
        for ok in [
            "app",
            "app.kubernetes.io/name",
            "A_b-c.d",
            "x/Y",
            &"a".repeat(63),
        ] {
            assert!(is_qualified_name(ok), "{ok:?}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a/b/c",
            "-a",
            "a_",
            "Example.com/a",
            &"a".repeat(64),
            &format!("{}/a", "a".repeat(254)),
        ] {
            assert!(!is_qualified_name(bad), "{bad:?}");
        }
        for ok in ["", "v1", "Web_V1", "1", &"a".repeat(63)] {
            assert!(is_label_value(ok), "{ok:?}");
        }
        for bad in ["-1s", "a b", "x/y", "a.", &"a".repeat(64)] {
            assert!(!is_label_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn date_time_follows_kube_openapi() {
        for ok in [
            "2026-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
            "2024-02-29T23:59:59.999999+05:30",
            "2026-01-01T00:00:00x5Z",
            "2026-01-01T00:00:00-99:99",
            "2026-01-01T00:00:00ZT",
            "0000-01-01T00:00:00Z",
        ] {
            assert!(is_date_time(ok), "{ok:?}");
        }
        for bad in [
            "",
            "aaaa",
            "2026-01-01",
            "2026-01-01T",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01 00:00:00Z",
            "1m30s",
        ] {
            assert!(!is_date_time(bad), "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_times_as_metav1_reads_them() {
        assert!(is_rfc3339_time("2026-01-01T00:00:00Z"));
        assert!(is_rfc3339_time("2026-01-01T00:00:00.123-07:00"));
        assert!(!is_rfc3339_time("2026-01-01t00:00:00z"));
        assert!(!is_rfc3339_time("2026-01-01T00:00:00"));
        assert!(!is_rfc3339_time("web"));
    }
}
