//! What an SMI regular expression (`pathRegex`, a header value) means, decided on its parsed
//! form (regex-syntax HIR), not on its text.
//!
//! SMI regexes are read as whole-value matches (the way Envoy-based SMI meshes apply them):
//! `/api` matches the path `/api` only, `/api/.*` every path under `/api/`. `^` and `$` at the
//! ends are redundant under that reading and ignored.
//!
//! ```
//! use smi_gateway::pattern::{Form, classify};
//! assert_eq!(classify("/metrics").unwrap(), Form::Exact("/metrics".into()));
//! assert_eq!(classify("^/api(/.*)?$").unwrap(), Form::ElementPrefix("/api".into()));
//! assert_eq!(classify("/api/.*").unwrap(), Form::StringPrefix("/api/".into()));
//! assert_eq!(classify(".*").unwrap(), Form::Any);
//! assert_eq!(classify("/v[12]/.*").unwrap(), Form::Other);
//! ```

use regex_syntax::hir::{Class, Hir, HirKind, Look, Repetition};

/// The shape of a regex, as far as Gateway API and Istio can express it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// Matches every value (`.*`).
    Any,
    /// Matches exactly this string.
    Exact(String),
    /// `L(/.*)?`: `L` and everything under `L/` (Gateway API `PathPrefix L`).
    ElementPrefix(String),
    /// `L.*`: every value starting with `L`.
    StringPrefix(String),
    /// `.*L`: every value ending with `L`.
    StringSuffix(String),
    /// Anything else: only a regular expression says it.
    Other,
}

/// Parses `re` and returns its [`Form`]; `Err` carries the parser's message.
pub fn classify(re: &str) -> Result<Form, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(re)
        .map_err(|e| e.to_string())?;
    let mut parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(v) => v.iter().map(strip).collect(),
        _ => vec![strip(&hir)],
    };
    // Whole-value reading: leading `^` / trailing `$` (not multi-line) change nothing.
    if parts
        .first()
        .is_some_and(|h| matches!(h.kind(), HirKind::Look(Look::Start)))
    {
        parts.remove(0);
    }
    if parts
        .last()
        .is_some_and(|h| matches!(h.kind(), HirKind::Look(Look::End)))
    {
        parts.pop();
    }
    Ok(match parts.as_slice() {
        [] => Form::Exact(String::new()),
        [one] if is_dot_star(one) => Form::Any,
        [one] => literal(one).map_or(Form::Other, Form::Exact),
        [lit, tail] if is_dot_star(tail) => match literal(lit) {
            Some(l) => Form::StringPrefix(l),
            None => Form::Other,
        },
        [head, lit] if is_dot_star(head) => match literal(lit) {
            Some(l) => Form::StringSuffix(l),
            None => Form::Other,
        },
        [lit, tail] if is_optional_slash_dot_star(tail) => match literal(lit) {
            Some(l) if !l.ends_with('/') => Form::ElementPrefix(l),
            _ => Form::Other,
        },
        _ => Form::Other,
    })
}

/// `true` when `value` parses as a regex that matches exactly itself (no metacharacters).
pub fn is_literal(value: &str) -> bool {
    matches!(classify(value), Ok(Form::Exact(l)) if l == value)
}

fn strip(h: &Hir) -> &Hir {
    match h.kind() {
        HirKind::Capture(c) => strip(&c.sub),
        _ => h,
    }
}

fn literal(h: &Hir) -> Option<String> {
    match strip(h).kind() {
        HirKind::Literal(l) => String::from_utf8(l.0.to_vec()).ok(),
        HirKind::Empty => Some(String::new()),
        _ => None,
    }
}

/// `.` (any character but `\n`, or any character with `(?s)`) repeated 0 or more times.
fn is_dot_star(h: &Hir) -> bool {
    match strip(h).kind() {
        HirKind::Repetition(Repetition {
            min: 0,
            max: None,
            sub,
            ..
        }) => is_any_char(sub),
        _ => false,
    }
}

fn is_any_char(h: &Hir) -> bool {
    match strip(h).kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let mut covered: u64 = 0;
            for r in c.ranges() {
                covered += u64::from(r.end()) - u64::from(r.start()) + 1;
            }
            // every scalar value except possibly `\n` (0x110000 code points minus surrogates)
            let all = 0x11_0000 - 0x800;
            covered >= all - 1
        }
        HirKind::Class(Class::Bytes(c)) => {
            let covered: u32 = c
                .ranges()
                .iter()
                .map(|r| u32::from(r.end()) - u32::from(r.start()) + 1)
                .sum();
            covered >= 255
        }
        _ => false,
    }
}

/// `(/.*)?`
fn is_optional_slash_dot_star(h: &Hir) -> bool {
    let HirKind::Repetition(Repetition {
        min: 0,
        max: Some(1),
        sub,
        ..
    }) = strip(h).kind()
    else {
        return false;
    };
    match strip(sub).kind() {
        HirKind::Concat(v) => {
            v.len() == 2 && literal(&v[0]).as_deref() == Some("/") && is_dot_star(&v[1])
        }
        _ => false,
    }
}

/// Why a value cannot be a Gateway API `Exact`/`PathPrefix` path (its CEL rules), if it cannot.
pub fn gateway_path_problem(value: &str) -> Option<&'static str> {
    if !value.starts_with('/') {
        return Some("does not start with `/`");
    }
    for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] {
        if value.contains(bad) {
            return Some("contains `//`, `/./`, `/../`, `%2f` or `#`");
        }
    }
    if value.ends_with("/..") || value.ends_with("/.") {
        return Some("ends with `/.` or `/..`");
    }
    let mut bytes = value.bytes().peekable();
    while let Some(b) = bytes.next() {
        let ok = b.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&b);
        if b == b'%' {
            let h1 = bytes.next();
            let h2 = bytes.next();
            if !(h1.is_some_and(|c| c.is_ascii_hexdigit())
                && h2.is_some_and(|c| c.is_ascii_hexdigit()))
            {
                return Some("has a `%` not followed by two hex digits");
            }
        } else if !ok {
            return Some("has characters outside RFC 3986 path characters");
        }
    }
    None
}

/// `true` when `name` is a valid HTTP header name (RFC 7230 token, as the CRD's pattern).
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `true` when `value` fits the experimental channel's header value pattern
/// `^[!-~]+([\t ]?[!-~]+)*$`: printable ASCII, single spaces or tabs between visible characters.
pub fn is_header_value(value: &str) -> bool {
    let b = value.as_bytes();
    let visible = |c: u8| (b'!'..=b'~').contains(&c);
    !b.is_empty()
        && visible(b[0])
        && visible(b[b.len() - 1])
        && b.iter().all(|&c| visible(c) || c == b' ' || c == b'\t')
        && !b.windows(2).any(|w| !visible(w[0]) && !visible(w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let cases = [
            ("/metrics", Form::Exact("/metrics".into())),
            ("^/metrics$", Form::Exact("/metrics".into())),
            ("/api(/.*)?", Form::ElementPrefix("/api".into())),
            ("/api(?:/.*)?", Form::ElementPrefix("/api".into())),
            ("/api/(/.*)?", Form::Other),
            ("/api/.*", Form::StringPrefix("/api/".into())),
            ("/.*", Form::StringPrefix("/".into())),
            (".*Firefox", Form::StringSuffix("Firefox".into())),
            (".*", Form::Any),
            ("(?s).*", Form::Any),
            (".+", Form::Other),
            ("/a|/b", Form::Other),
            ("(?i)/abc", Form::Other),
            ("/a.c", Form::Other),
            (r"/a\.c", Form::Exact("/a.c".into())),
            ("", Form::Exact(String::new())),
            (".*Firefox.*", Form::Other),
        ];
        for (re, want) in cases {
            assert_eq!(classify(re).unwrap(), want, "{re}");
        }
        assert!(classify("(").is_err());
    }

    #[test]
    fn literals() {
        assert!(is_literal("Mozilla"));
        assert!(!is_literal(".*Firefox.*"));
        assert!(!is_literal(r"a\.b"));
        assert!(!is_literal("a+"));
    }

    #[test]
    fn header_values() {
        assert!(is_header_value("Mozilla/5.0 (X11) Firefox"));
        assert!(is_header_value(".*Firefox.*"));
        assert!(!is_header_value(""));
        assert!(!is_header_value(" a"));
        assert!(!is_header_value("a  b"));
        assert!(!is_header_value("é"));
    }

    #[test]
    fn paths() {
        assert_eq!(gateway_path_problem("/api/v1"), None);
        assert!(gateway_path_problem("api").is_some());
        assert!(gateway_path_problem("/a//b").is_some());
        assert!(gateway_path_problem("/a b").is_some());
        assert!(gateway_path_problem("/a%zz").is_some());
        assert_eq!(gateway_path_problem("/a%20b"), None);
    }
}
