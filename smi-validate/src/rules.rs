//! Layers 4 and 6 for one object: field rules the schema cannot express, and lints.

use crate::diagnostic::Code;
use crate::options::{Options, Target};
use crate::path::{Path, Seg};
use crate::routing::Route;
use crate::structure::Finding;
use regex_syntax::hir::{Hir, HirKind, Look};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// `true` when `s` looks like a template placeholder: `$VAR`, `${VAR}` or `<NAME>`.
pub fn placeholder(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' => {
                let start = i;
                let mut j = i + 1;
                let braced = b.get(j) == Some(&b'{');
                if braced {
                    j += 1;
                }
                let id = j;
                if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_') {
                    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                        j += 1;
                    }
                    if braced {
                        if b.get(j) == Some(&b'}') {
                            return Some(&s[start..=j]);
                        }
                    } else if j > id && s[id..j].bytes().any(|c| c.is_ascii_uppercase()) {
                        return Some(&s[start..j]);
                    }
                }
                i += 1;
            }
            b'<' => {
                if let Some(end) = s[i + 1..].find('>') {
                    let inner = &s[i + 1..i + 1 + end];
                    if !inner.is_empty()
                        && inner
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                        && inner.bytes().any(|c| c.is_ascii_alphabetic())
                    {
                        return Some(&s[i..i + end + 2]);
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Kubernetes' `IsDNS1123Subdomain`: at most 253 characters of dot-separated labels; unlike a
/// DNS label on its own, a part has no 63-character limit (the API server accepts a 64-character
/// object name).
fn dns1123_subdomain(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    !s.is_empty() && s.len() <= 253 && s.split('.').all(part)
}

/// `metadata.name` / `metadata.namespace`.
pub(crate) fn metadata(v: &Value, out: &mut Vec<Finding>) {
    let md = Path::root().key("metadata");
    let Some(m) = v.get("metadata").filter(|m| !m.is_null()) else {
        out.push(Finding::new(
            Code::InvalidName,
            md.key("name"),
            "`metadata.name` is required",
        ));
        return;
    };
    let Some(m) = m.as_object() else { return };
    // With a non-empty `generateName` and no name the server generates the name
    // (`meta::check` checks the prefix).
    let generates = m
        .get("generateName")
        .and_then(Value::as_str)
        .is_some_and(|g| !g.is_empty());
    match m.get("name") {
        Some(Value::String(n)) if n.is_empty() && generates => {}
        Some(Value::String(n)) => {
            if let Some(ph) = placeholder(n) {
                out.push(
                    Finding::new(
                        Code::PlaceholderInName,
                        md.key("name"),
                        format!("name `{n}` contains the template placeholder `{ph}`"),
                    )
                    .hint("substitute the template before applying (envsubst, kustomize, helm)"),
                );
            } else if !dns1123_subdomain(n) {
                out.push(
                    Finding::new(Code::InvalidName, md.key("name"), format!("name `{n}` is not a valid Kubernetes name"))
                        .hint("lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters"),
                );
            }
        }
        None | Some(Value::Null) if !generates => {
            out.push(Finding::new(
                Code::InvalidName,
                md.key("name"),
                "`metadata.name` (or a non-empty `generateName`) is required",
            ));
        }
        _ => {}
    }
    if let Some(Value::String(ns)) = m.get("namespace") {
        if let Some(ph) = placeholder(ns) {
            out.push(
                Finding::new(
                    Code::PlaceholderInName,
                    md.key("namespace"),
                    format!("namespace `{ns}` contains the template placeholder `{ph}`"),
                )
                .hint("substitute the template before applying (envsubst, kustomize, helm)"),
            );
        } else if !dns1123_label(ns) {
            out.push(
                Finding::new(
                    Code::InvalidName,
                    md.key("namespace"),
                    format!("namespace `{ns}` is not a valid namespace name"),
                )
                .hint("lower-case letters, digits and `-`, at most 63 characters"),
            );
        }
    }
}

/// Placeholders anywhere else in the object (regex fields excluded: `$` is an anchor there).
pub(crate) fn placeholders(v: &Value, path: &mut Path, out: &mut Vec<Finding>) {
    match v {
        Value::String(s) => {
            if let Some(ph) = placeholder(s) {
                out.push(
                    Finding::new(
                        Code::TemplatePlaceholder,
                        path.clone(),
                        format!("value contains the template placeholder `{ph}`"),
                    )
                    .hint("substitute the template before applying"),
                );
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                placeholders(c, path, out);
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, c) in m {
                let top = path.segs().len() == 1
                    && matches!(&path.segs()[0], Seg::Key(x) if x == "metadata");
                if k == "pathRegex" || k == "headers" || (top && (k == "name" || k == "namespace"))
                {
                    continue;
                }
                if path.is_empty() && (k == "apiVersion" || k == "kind" || k == "status") {
                    continue;
                }
                path.push(Seg::Key(k.clone()));
                placeholders(c, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Verdicts of [`regex_never_matches`], remembered across documents: compiling a regex costs
/// more than parsing the document that holds it, and manifests repeat the same few regexes.
/// Bounded (at most `CAPACITY` regexes of at most `MAX_LEN` bytes; when full it starts over),
/// so memory does not grow with the input.
#[derive(Debug, Default)]
pub(crate) struct RegexVerdicts(HashMap<String, Result<bool, String>>);

impl RegexVerdicts {
    const CAPACITY: usize = 1024;
    const MAX_LEN: usize = 1024;

    fn check(&mut self, re: &str) -> Result<bool, String> {
        if let Some(v) = self.0.get(re) {
            return v.clone();
        }
        let v = regex_never_matches(re);
        if re.len() > Self::MAX_LEN {
            return v;
        }
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        self.0.insert(re.to_owned(), v.clone());
        v
    }
}

/// Regex check: `Err(message)` when it does not compile, `Ok(true)` when it can never match.
pub fn regex_never_matches(re: &str) -> Result<bool, String> {
    if let Err(e) = regex::Regex::new(re) {
        let msg = e.to_string();
        let last = msg
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("invalid regex")
            .to_owned();
        return Err(last.trim_start_matches("error: ").to_owned());
    }
    let hir = regex_syntax::parse(re).map_err(|e| e.to_string())?;
    Ok(never(&hir))
}

fn min_len(h: &Hir) -> usize {
    h.properties().minimum_len().unwrap_or(0)
}

fn never(h: &Hir) -> bool {
    if h.properties().minimum_len().is_none() {
        return true; // e.g. `[^\s\S]`
    }
    match h.kind() {
        HirKind::Concat(items) => {
            if items.iter().any(never) {
                return true;
            }
            let ends = |x: &Hir| {
                matches!(
                    x.kind(),
                    HirKind::Look(Look::End | Look::EndLF | Look::EndCRLF)
                )
            };
            let starts = |x: &Hir| {
                matches!(
                    x.kind(),
                    HirKind::Look(Look::Start | Look::StartLF | Look::StartCRLF)
                )
            };
            for (i, a) in items.iter().enumerate() {
                for b in &items[i + 1..] {
                    if ends(a) && min_len(b) > 0 && matches!(a.kind(), HirKind::Look(Look::End)) {
                        return true; // `$x`
                    }
                    if starts(b) && min_len(a) > 0 && matches!(b.kind(), HirKind::Look(Look::Start))
                    {
                        return true; // `x^`
                    }
                }
            }
            false
        }
        HirKind::Alternation(alts) => alts.iter().all(never),
        HirKind::Capture(c) => never(&c.sub),
        HirKind::Repetition(r) => r.min > 0 && never(&r.sub),
        _ => false,
    }
}

fn matches_path(route: &Route) -> Path {
    if route.version == "v1alpha1" || route.version == "v1alpha2" {
        Path::root().key("matches")
    } else {
        Path::root().key("spec").key("matches")
    }
}

/// The rules of one object of a known kind.
pub(crate) fn object_rules(
    route: &Route,
    v: &Value,
    opts: &Options,
    regexes: &mut RegexVerdicts,
    out: &mut Vec<Finding>,
) {
    match route.kind {
        "HTTPRouteGroup" => http_route_group(route, v, opts, regexes, out),
        "TCPRoute" | "UDPRoute" => l4_route(v, out),
        "TrafficSplit" => traffic_split(route, v, out),
        "TrafficTarget" => traffic_target(route, v, out),
        "IdentityBinding" => identity_binding(v, out),
        "PerformanceTest" => crate::perf::performance_test(v, out),
        _ => {}
    }
}

fn http_route_group(
    route: &Route,
    v: &Value,
    opts: &Options,
    regexes: &mut RegexVerdicts,
    out: &mut Vec<Finding>,
) {
    let base = matches_path(route);
    let Some(Value::Array(matches)) = base.lookup(v) else {
        return;
    };
    let mut seen = HashSet::new();
    for (i, m) in matches.iter().enumerate() {
        let mp = base.index(i);
        if let Some(Value::String(n)) = m.get("name")
            && !seen.insert(n.as_str())
        {
            out.push(
                Finding::new(
                    Code::DuplicateMatchName,
                    mp.key("name"),
                    format!("match name `{n}` is used twice"),
                )
                .hint("match names are the keys TrafficTargets reference; make them unique"),
            );
        }
        if let Some(Value::String(re)) = m.get("pathRegex") {
            match regexes.check(re) {
                Err(e) => out.push(
                    Finding::new(
                        Code::InvalidPathRegex,
                        mp.key("pathRegex"),
                        format!("pathRegex `{re}` does not compile: {e}"),
                    )
                    .hint("pathRegex uses RE2 syntax (no look-around or back-references)"),
                ),
                Ok(true) => out.push(Finding::new(
                    Code::RegexNeverMatches,
                    mp.key("pathRegex"),
                    format!("pathRegex `{re}` can never match any path"),
                )),
                Ok(false) => {}
            }
        }
        if let Some(Value::Array(methods)) = m.get("methods")
            && methods.len() > 1
            && methods.iter().any(|x| x == "*")
        {
            out.push(
                Finding::new(
                    Code::RedundantMethods,
                    mp.key("methods"),
                    "`*` already allows every method; the others are redundant",
                )
                .hint("write `methods: [\"*\"]` alone"),
            );
        }
        if let Some(h) = m.get("headers") {
            headers(h, &mp.key("headers"), opts, regexes, out);
        }
    }
}

fn header_value(
    name: &str,
    val: &Value,
    p: Path,
    regexes: &mut RegexVerdicts,
    out: &mut Vec<Finding>,
) {
    let Value::String(re) = val else {
        out.push(Finding::new(
            Code::WrongType,
            p,
            format!("header `{name}` must map to a string (a regex)"),
        ));
        return;
    };
    match regexes.check(re) {
        Err(e) => out.push(Finding::new(
            Code::InvalidHeaderRegex,
            p,
            format!("regex for header `{name}` does not compile: {e}"),
        )),
        Ok(true) => out.push(Finding::new(
            Code::RegexNeverMatches,
            p,
            format!("regex for header `{name}` can never match"),
        )),
        Ok(false) => {}
    }
}

fn headers(
    h: &Value,
    p: &Path,
    opts: &Options,
    regexes: &mut RegexVerdicts,
    out: &mut Vec<Finding>,
) {
    match h {
        Value::Array(list) => {
            if opts.target == Target::ControllerSdk {
                out.push(
                    Finding::new(Code::HeadersListForm, p.clone(), "headers in list form are rejected by smi-controller-sdk CRDs (`type: object`)")
                        .hint("write a map: `headers: {user-agent: \".*\"}`"),
                );
            }
            let mut seen = HashSet::new();
            for (i, e) in list.iter().enumerate() {
                let ep = p.index(i);
                match e.as_object() {
                    Some(m) if m.len() == 1 => {
                        let (k, val) = m.iter().next().expect("one entry");
                        if !seen.insert(k.to_ascii_lowercase()) {
                            out.push(
                                Finding::new(
                                    Code::HeaderEntryShape,
                                    ep.key(k),
                                    format!("header `{k}` is listed twice"),
                                )
                                .hint(
                                    "the header conditions are a map: give each header one regex",
                                ),
                            );
                        }
                        header_value(k, val, ep.key(k), regexes, out);
                    }
                    _ => out.push(
                        Finding::new(
                            Code::HeaderEntryShape,
                            ep,
                            "a headers list entry must be a map with exactly one header",
                        )
                        .hint("write one `- name: regex` entry per header"),
                    ),
                }
            }
        }
        Value::Object(m) => {
            // The map form is what the spec text and smi-controller-sdk use, but the CRDs most
            // meshes ship (smi-sdk-go, OSM, Traefik) and the ones smi-types generates take a
            // list: a warning by default, an error when targeting those CRDs.
            if opts.target != Target::ControllerSdk {
                let f = Finding::new(
                    Code::HeadersMapForm,
                    p.clone(),
                    "headers in map form are rejected by the smi-sdk-go/OSM CRDs and by the CRDs smi-types generates (`type: array`)",
                )
                .hint("write a list of one-key maps: `headers: [{user-agent: \".*\"}]`; with CRDs that take the map form (smi-controller-sdk, NGINX Service Mesh) use --target controller-sdk");
                out.push(if opts.target == Target::Sdk {
                    f.error()
                } else {
                    f
                });
            }
            for (k, val) in m {
                header_value(k, val, p.key(k), regexes, out);
            }
        }
        Value::Null => {}
        other => out.push(Finding::new(
            Code::WrongType,
            p.clone(),
            format!("headers must be a map or a list of one-key maps, found {other}"),
        )),
    }
}

fn l4_route(v: &Value, out: &mut Vec<Finding>) {
    let p = Path::root().key("spec").key("matches").key("ports");
    if let Some(Value::Array(ports)) = p.lookup(v) {
        for (i, port) in ports.iter().enumerate() {
            if let Some(n) = port.as_i64()
                && !(1..=65535).contains(&n)
            {
                out.push(Finding::new(
                    Code::InvalidPort,
                    p.index(i),
                    format!("port {n} is outside 1–65535"),
                ));
            }
        }
    }
}

/// A v1alpha1 quantity: (value in milli-units, suffix).
fn quantity(v: &Value) -> Option<(f64, String)> {
    match v {
        Value::Number(n) => Some((n.as_f64()? * 1000.0, String::new())),
        Value::String(s) => {
            let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
            let (num, suf) = s.split_at(split);
            let x: f64 = num.parse().ok()?;
            let mult = match suf {
                "" => 1.0,
                "m" => 0.001,
                "k" => 1e3,
                "M" => 1e6,
                "G" => 1e9,
                "Ki" => 1024.0,
                "Mi" => 1024.0 * 1024.0,
                "Gi" => 1024.0 * 1024.0 * 1024.0,
                "n" => 1e-9,
                "u" => 1e-6,
                _ if suf.starts_with(['e', 'E']) => 10f64.powf(suf[1..].parse().ok()?),
                _ => return None,
            };
            Some((x * mult * 1000.0, suf.to_owned()))
        }
        _ => None,
    }
}

fn traffic_split(route: &Route, v: &Value, out: &mut Vec<Finding>) {
    let bp = Path::root().key("spec").key("backends");
    let Some(Value::Array(backends)) = bp.lookup(v) else {
        return;
    };
    if backends.is_empty() {
        return;
    }
    if route.version == "v1alpha1" {
        let q: Vec<Option<(f64, String)>> = backends
            .iter()
            .map(|b| b.get("weight").and_then(quantity))
            .collect();
        // A negative weight is no longer a lint (SMI1511): the CRD refuses it (`minimum: 0` and a
        // pattern without a minus sign), so the structure layer reports SMI1206/SMI1207.
        if q.iter().all(|x| matches!(x, Some((m, _)) if *m == 0.0)) {
            out.push(all_zero(&bp));
        }
        let scales: HashSet<&str> = q
            .iter()
            .flatten()
            .filter(|(m, _)| *m != 0.0)
            .map(|(_, s)| s.as_str())
            .collect();
        if scales.len() > 1 {
            let mut s: Vec<&str> = scales
                .into_iter()
                .map(|s| if s.is_empty() { "(none)" } else { s })
                .collect();
            s.sort_unstable();
            out.push(
                Finding::new(
                    Code::MixedWeightScales,
                    bp.clone(),
                    format!("weights mix quantity scales ({}); `1` is 1000m", s.join(", ")),
                )
                .hint("use one scale for every backend: smi-types converts to v1alpha2+ keeping the ratio (`1` and `500m` become 10 and 5), but tools that take the unscaled digits (`1` → 1, `500m` → 500, as smi-sdk-go's conversion does) change it"),
            );
        }
    } else {
        let weights: Vec<Option<i64>> = backends
            .iter()
            .map(|b| b.get("weight").and_then(Value::as_i64))
            .collect();
        if weights.iter().all(|w| *w == Some(0)) {
            out.push(all_zero(&bp));
        }
    }
}

fn all_zero(bp: &Path) -> Finding {
    Finding::new(Code::AllWeightsZero, bp.clone(), "every backend has weight 0, so no traffic can be routed")
        .hint("give at least one backend a positive weight (OSM's Envoy rejected all-zero splits, osm#2121)")
}

/// SMI1512: `podLabelSelector` together with `serviceAccount`. The draft spec's text calls them
/// mutually exclusive, but its only example sets both and the CRD accepts both (see
/// `smi_types::access::v1alpha4::IdentityBindingSchemes`), so this is a lint, not an error.
fn identity_binding(v: &Value, out: &mut Vec<Finding>) {
    let p = Path::root().key("spec").key("schemes");
    let Some(s) = p.lookup(v).and_then(Value::as_object) else {
        return;
    };
    let set = |k: &str| s.get(k).is_some_and(|x| !x.is_null());
    if set("podLabelSelector") && set("serviceAccount") {
        out.push(
            Finding::new(
                Code::ExclusiveSchemes,
                p.key("serviceAccount"),
                "podLabelSelector and serviceAccount are both set; the spec text calls them mutually exclusive (the CRD accepts both)",
            )
            .hint("a mesh may honour only one of them; keep the one it documents"),
        );
    }
}

fn traffic_target(route: &Route, v: &Value, out: &mut Vec<Finding>) {
    let spec = if route.version == "v1alpha1" {
        Path::root()
    } else {
        Path::root().key("spec")
    };
    let rules_key = if route.version == "v1alpha1" {
        "specs"
    } else {
        "rules"
    };
    let Some(s) = spec.lookup(v).and_then(Value::as_object) else {
        return;
    };
    let empty = |k: &str| {
        s.get(k)
            .is_none_or(|x| x.as_array().is_some_and(Vec::is_empty) || x.is_null())
    };
    if empty(rules_key) || empty("sources") {
        let what = if empty(rules_key) {
            rules_key
        } else {
            "sources"
        };
        out.push(
            Finding::new(
                Code::IneffectiveTrafficTarget,
                spec.key(what),
                format!("TrafficTarget has no {what}, so it allows nothing (OSM ignores it)"),
            )
            .hint("a TrafficTarget needs a destination, at least one rule and at least one source"),
        );
    }
    let ns = v.pointer("/metadata/namespace").and_then(Value::as_str);
    let dns = s
        .get("destination")
        .and_then(|d| d.get("namespace"))
        .and_then(Value::as_str);
    if let (Some(ns), Some(dns)) = (ns, dns)
        && ns != dns
    {
        out.push(
                Finding::new(
                    Code::NamespaceMismatch,
                    spec.key("destination").key("namespace"),
                    format!("destination namespace `{dns}` differs from the TrafficTarget's namespace `{ns}`"),
                )
                .hint("create the TrafficTarget in the destination's namespace; OSM ignores it otherwise"),
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_found() {
        assert_eq!(
            placeholder("$BOOKSTORE_NAMESPACE"),
            Some("$BOOKSTORE_NAMESPACE")
        );
        assert_eq!(placeholder("x-${NS}"), Some("${NS}"));
        assert_eq!(placeholder("<NAMESPACE>"), Some("<NAMESPACE>"));
        assert_eq!(placeholder("^/api$"), None);
        assert_eq!(placeholder("plain"), None);
    }

    #[test]
    fn object_names_follow_the_api_servers_subdomain_rule() {
        // found by the e2e verdicts (the server accepts a 64-character name)
        assert!(dns1123_subdomain(&"a".repeat(64)));
        assert!(dns1123_subdomain(&"a".repeat(253)));
        assert!(!dns1123_subdomain(&"a".repeat(254)));
        assert!(dns1123_subdomain("web.v1"));
        for bad in ["", "Web", "-web", "web-", "web..v1", ".web", "web_v1"] {
            assert!(!dns1123_subdomain(bad), "{bad:?}");
        }
        assert!(
            !dns1123_label(&"a".repeat(64)),
            "namespaces stay DNS labels"
        );
    }

    #[test]
    fn regexes() {
        assert_eq!(regex_never_matches("/api/.*"), Ok(false));
        assert_eq!(regex_never_matches("$^x"), Ok(true));
        assert_eq!(regex_never_matches(r"[^\s\S]"), Ok(true));
        assert!(regex_never_matches("(").is_err());
        assert!(regex_never_matches("(?=x)").is_err());
    }
}
