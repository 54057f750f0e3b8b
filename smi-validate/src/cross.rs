//! Layer 5: rules across the objects of the input set.
//!
//! Only a small index is kept per object (kind, namespace, name, match names, apex, references
//! with their positions), never whole documents, so memory grows with the number of objects
//! times a few strings.

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::path::Path;
use crate::yaml::Doc;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where something is, resolved while its document was in memory.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub file: Arc<str>,
    pub doc: usize,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub path: String,
    pub source_line: Option<String>,
}

impl Loc {
    pub fn new(file: &Arc<str>, doc_index: usize, doc: &Doc, path: &Path) -> Loc {
        let pos = doc.locate_value(path);
        Loc {
            file: file.clone(),
            doc: doc_index,
            line: pos.map(|p| p.line as usize),
            col: pos.map(|p| p.col as usize),
            path: path.to_string(),
            source_line: pos.and_then(|p| doc.source_line(p.line)),
        }
    }
    fn diag(&self, code: Code, message: String, object: &str) -> Diagnostic {
        let mut d = Diagnostic::new(code, message).with_path(self.path.clone());
        d.file = self.file.to_string();
        d.document = Some(self.doc);
        d.line = self.line;
        d.column = self.col;
        d.source_line = self.source_line.clone();
        d.object = Some(object.to_owned());
        d
    }
}

#[derive(Debug)]
struct RouteRef {
    kind: String,
    name: String,
    loc: Loc,
    matches: Vec<(String, Loc)>,
}

#[derive(Debug)]
struct Entry {
    kind: &'static str,
    namespace: String,
    name: String,
    loc: Loc,
    match_names: Vec<String>,
    apex: Option<String>,
    backends: Vec<(String, Loc)>,
    split_matches: Vec<(String, Loc)>,
    rules: Vec<RouteRef>,
}

impl Entry {
    fn id(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The index of the input set.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Entry>,
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

impl Index {
    /// Records an object (already routed to `kind`/`version`).
    pub fn add(
        &mut self,
        kind: &'static str,
        version: &str,
        file: &Arc<str>,
        doc_index: usize,
        doc: &Doc,
    ) {
        let v = &doc.value;
        let Some(name) = s(v.pointer("/metadata/name")) else {
            return;
        };
        let namespace = s(v.pointer("/metadata/namespace")).unwrap_or_default();
        let loc = Loc::new(
            file,
            doc_index,
            doc,
            &Path::root().key("metadata").key("name"),
        );
        let mut e = Entry {
            kind,
            namespace,
            name,
            loc,
            match_names: Vec::new(),
            apex: None,
            backends: Vec::new(),
            split_matches: Vec::new(),
            rules: Vec::new(),
        };
        let pre_spec = version == "v1alpha1" || (version == "v1alpha2" && kind == "HTTPRouteGroup");
        let spec = if pre_spec {
            Path::root()
        } else {
            Path::root().key("spec")
        };
        match kind {
            "HTTPRouteGroup" => {
                if let Some(Value::Array(ms)) = spec.key("matches").lookup(v) {
                    e.match_names = ms.iter().filter_map(|m| s(m.get("name"))).collect();
                }
            }
            "TrafficSplit" => {
                e.apex = s(spec.key("service").lookup(v));
                let bp = spec.key("backends");
                if let Some(Value::Array(bs)) = bp.lookup(v) {
                    for (i, b) in bs.iter().enumerate() {
                        if let Some(svc) = s(b.get("service")) {
                            e.backends.push((
                                svc,
                                Loc::new(file, doc_index, doc, &bp.index(i).key("service")),
                            ));
                        }
                    }
                }
                let mp = spec.key("matches");
                if let Some(Value::Array(ms)) = mp.lookup(v) {
                    for (i, m) in ms.iter().enumerate() {
                        if let Some(n) = s(m.get("name")) {
                            e.split_matches.push((
                                n,
                                Loc::new(file, doc_index, doc, &mp.index(i).key("name")),
                            ));
                        }
                    }
                }
            }
            "TrafficTarget" => {
                let rp = spec.key(if version == "v1alpha1" {
                    "specs"
                } else {
                    "rules"
                });
                if let Some(Value::Array(rs)) = rp.lookup(v) {
                    for (i, r) in rs.iter().enumerate() {
                        let (Some(kind), Some(name)) = (s(r.get("kind")), s(r.get("name"))) else {
                            continue;
                        };
                        let mut rr = RouteRef {
                            kind,
                            name,
                            loc: Loc::new(file, doc_index, doc, &rp.index(i).key("name")),
                            matches: Vec::new(),
                        };
                        if let Some(Value::Array(ms)) = r.get("matches") {
                            for (j, m) in ms.iter().enumerate() {
                                if let Some(m) = m.as_str() {
                                    rr.matches.push((
                                        m.to_owned(),
                                        Loc::new(
                                            file,
                                            doc_index,
                                            doc,
                                            &rp.index(i).key("matches").index(j),
                                        ),
                                    ));
                                }
                            }
                        }
                        e.rules.push(rr);
                    }
                }
            }
            _ => {}
        }
        self.entries.push(e);
    }

    /// Runs the cross-object rules.
    pub fn check(&self, require_refs: bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let unresolved = if require_refs {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut by_key: HashMap<(&str, &str, &str), &Entry> = HashMap::new();
        for e in &self.entries {
            let key = (e.kind, e.namespace.as_str(), e.name.as_str());
            if let Some(first) = by_key.get(&key) {
                out.push(
                    e.loc
                        .diag(
                            Code::DuplicateObject,
                            format!(
                                "{} is defined twice (first at {}:{})",
                                e.id(),
                                first.loc.file,
                                first.loc.line.unwrap_or(0)
                            ),
                            &e.id(),
                        )
                        .with_hint("the later definition replaces the earlier one when applied"),
                );
            } else {
                by_key.insert(key, e);
            }
        }
        // An object without namespace lands in whatever namespace it is applied to, so it
        // resolves references from any namespace (and an unnamespaced reference matches any).
        let find = |kind: &str, ns: &str, name: &str| -> Option<&Entry> {
            by_key
                .get(&(kind, ns, name))
                .or_else(|| by_key.get(&(kind, "", name)))
                .copied()
                .or_else(|| {
                    if ns.is_empty() {
                        self.entries
                            .iter()
                            .find(|e| e.kind == kind && e.name == name)
                    } else {
                        None
                    }
                })
        };
        let mut apexes: HashMap<(&str, &str), &Entry> = HashMap::new();
        for e in self.entries.iter().filter(|e| e.kind == "TrafficSplit") {
            if let Some(apex) = &e.apex {
                let key = (e.namespace.as_str(), apex.as_str());
                if let Some(first) = apexes.get(&key) {
                    if first.name != e.name {
                        out.push(e.loc.diag(
                            Code::DuplicateApex,
                            format!(
                                "TrafficSplits `{}` and `{}` both split apex service `{apex}`",
                                first.name, e.name
                            ),
                            &e.id(),
                        ));
                    }
                } else {
                    apexes.insert(key, e);
                }
            }
        }
        for e in &self.entries {
            match e.kind {
                "TrafficSplit" => {
                    for (b, loc) in &e.backends {
                        if e.apex.as_deref() == Some(b.as_str()) {
                            continue; // backend == own apex is valid (failover)
                        }
                        if let Some(other) = apexes.get(&(e.namespace.as_str(), b.as_str())) {
                            out.push(
                                loc.diag(
                                    Code::HierarchicalSplit,
                                    format!("backend `{b}` is the apex of TrafficSplit `{}`; SMI splits are not hierarchical", other.name),
                                    &e.id(),
                                )
                                .with_hint("point the backend at a leaf service"),
                            );
                        }
                    }
                    for (m, loc) in &e.split_matches {
                        if find("HTTPRouteGroup", &e.namespace, m).is_none() {
                            out.push(
                                loc.diag(Code::UnresolvedSplitMatch, format!("HTTPRouteGroup `{m}` is not in the input set"), &e.id())
                                    .with_severity(unresolved)
                                    .with_hint("include the HTTPRouteGroup (same namespace) in the validated files"),
                            );
                        }
                    }
                }
                "TrafficTarget" => {
                    for r in &e.rules {
                        let target = ["HTTPRouteGroup", "TCPRoute", "UDPRoute"]
                            .iter()
                            .find(|k| **k == r.kind)
                            .and_then(|k| find(k, &e.namespace, &r.name));
                        let route_kind =
                            ["HTTPRouteGroup", "TCPRoute", "UDPRoute"].contains(&r.kind.as_str());
                        match target {
                            // an unknown rule kind is already a schema error (SMI1203)
                            None if !route_kind => {}
                            None => out.push(
                                r.loc
                                    .diag(
                                        Code::UnresolvedRoute,
                                        format!("{} `{}` is not in the input set", r.kind, r.name),
                                        &e.id(),
                                    )
                                    .with_severity(unresolved)
                                    .with_hint(
                                        "include the route (same namespace) in the validated files",
                                    ),
                            ),
                            Some(t) if t.kind == "HTTPRouteGroup" => {
                                let known: HashSet<&str> =
                                    t.match_names.iter().map(String::as_str).collect();
                                for (m, loc) in &r.matches {
                                    if !known.contains(m.as_str()) {
                                        out.push(
                                            loc.diag(
                                                Code::UnknownMatchName,
                                                format!(
                                                    "HTTPRouteGroup `{}` has no match named `{m}`",
                                                    r.name
                                                ),
                                                &e.id(),
                                            )
                                            .with_hint(format!(
                                                "its matches are: {}",
                                                t.match_names.join(", ")
                                            )),
                                        );
                                    }
                                }
                            }
                            Some(_) => {}
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}
