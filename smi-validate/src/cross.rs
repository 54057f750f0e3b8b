//! Layer 5: rules across the objects of the input set.
//!
//! The rules need, until the end of the input, a little of every object: its kind, namespace
//! and name, the names it defines (match names, apex) or references (backends, routes, match
//! names), and where each of those is written. That is all the index keeps, compactly: one
//! [`Entry`] per object whose strings share one allocation, positions as integers, file and
//! namespace as interned ids, field paths rebuilt only for a diagnostic. No document, value or
//! source text stays. `tests/memory.rs` bounds what an object costs.

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::path::{Path, Seg};
use crate::yaml::{Doc, Node};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The kinds a TrafficTarget rule can reference.
const ROUTE_KINDS: [&str; 3] = ["HTTPRouteGroup", "TCPRoute", "UDPRoute"];

/// What a string of an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    /// A TrafficSplit's `service`.
    Apex,
    /// A match name an HTTPRouteGroup defines.
    MatchName,
    /// A TrafficSplit backend's `service`, at `backends[i].service`.
    Backend,
    /// A TrafficSplit's HTTPRouteGroup reference, at `matches[i].name`.
    SplitMatch,
    /// A TrafficTarget rule's route (`ROUTE_KINDS[k]`), at `rules[i].name`.
    Rule(u8),
    /// A match name of the rule before it, at `rules[i].matches[j]`.
    RuleMatch,
}

/// One string of an entry: `text[start..end]`, with the indices of its field path and its
/// position (line 0: unknown).
#[derive(Debug, Clone, Copy)]
struct Ref {
    what: What,
    start: u32,
    end: u32,
    i: u32,
    j: u32,
    line: u32,
    col: u32,
}

#[derive(Debug)]
struct Entry {
    /// The name, then every string of `refs`.
    text: Box<str>,
    refs: Box<[Ref]>,
    name_end: u32,
    file: u32,
    doc: u32,
    /// Position of `metadata.name` (line 0: unknown).
    line: u32,
    col: u32,
    ns: u32,
    kind: u8,
    /// The fields sit under `spec` (not in v1alpha1, nor in HTTPRouteGroup v1alpha2).
    under_spec: bool,
    /// TrafficTarget v1alpha1 calls its rules `specs`.
    specs: bool,
}

impl Entry {
    fn name(&self) -> &str {
        &self.text[..self.name_end as usize]
    }
    fn str(&self, r: &Ref) -> &str {
        &self.text[r.start as usize..r.end as usize]
    }
    fn refs(&self, what: What) -> impl Iterator<Item = &Ref> {
        self.refs.iter().filter(move |r| r.what == what)
    }
    /// Identity in the input set: kind, namespace, name.
    fn key(&self) -> (u8, u32, &str) {
        (self.kind, self.ns, self.name())
    }
    fn kind_name(&self) -> (u8, &str) {
        (self.kind, self.name())
    }
    /// The apex is always the first reference ([`Index::add`] pushes it first).
    fn apex(&self) -> Option<&str> {
        self.refs
            .first()
            .filter(|r| r.what == What::Apex)
            .map(|r| self.str(r))
    }
    /// The list a reference sits in (`spec.backends`, `spec.rules` …; for the apex, `spec`).
    fn list(&self, what: What) -> Path {
        let spec = if self.under_spec {
            Path::root().key("spec")
        } else {
            Path::root()
        };
        match what {
            What::Apex => spec,
            What::MatchName | What::SplitMatch => spec.key("matches"),
            What::Backend => spec.key("backends"),
            What::Rule(_) | What::RuleMatch => spec.key(if self.specs { "specs" } else { "rules" }),
        }
    }
    /// The field path of a reference, as [`Index::add`] located it.
    fn path(&self, r: &Ref) -> Path {
        let (list, i, j) = (self.list(r.what), r.i as usize, r.j as usize);
        match r.what {
            What::Apex => list.key("service"),
            What::MatchName | What::SplitMatch | What::Rule(_) => list.index(i).key("name"),
            What::Backend => list.index(i).key("service"),
            What::RuleMatch => list.index(i).key("matches").index(j),
        }
    }
}

/// Interned strings (namespaces: few, repeated by every object).
#[derive(Debug, Default)]
struct Strings {
    ids: HashMap<Box<str>, u32>,
    list: Vec<Box<str>>,
}

impl Strings {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as u32;
        self.list.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

/// The index of the input set.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<Entry>,
    files: Vec<Arc<str>>,
    kinds: Vec<&'static str>,
    namespaces: Strings,
}

fn s(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn line_col(at: Option<Node<'_>>) -> (u32, u32) {
    at.and_then(|n| n.pos()).map_or((0, 0), |p| (p.line, p.col))
}

/// The node at `path` (a few fixed steps from the root).
fn node_at<'d>(doc: &'d Doc, path: &Path) -> Option<Node<'d>> {
    path.segs().iter().try_fold(doc.root(), |n, seg| match seg {
        Seg::Key(k) => n.get(k),
        Seg::Index(i) => n.items().nth(*i),
    })
}

/// Builds one entry's text and references.
struct Builder {
    text: String,
    refs: Vec<Ref>,
}

impl Builder {
    /// `at`: the node the reference is located at (walked once over each list, never looked
    /// up from the root per item: that was quadratic in the length of the list).
    fn push(&mut self, what: What, s: &str, i: usize, j: usize, at: Option<Node<'_>>) {
        let (line, col) = line_col(at);
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.refs.push(Ref {
            what,
            start,
            end: self.text.len() as u32,
            i: i as u32,
            j: j as u32,
            line,
            col,
        });
    }
}

/// The match names of an HTTPRouteGroup for a hint: the first [`HINT_NAMES`], then how many more.
fn match_list(t: &Entry) -> String {
    let mut names = t.refs(What::MatchName).map(|n| t.str(n));
    let mut list = names
        .by_ref()
        .take(HINT_NAMES)
        .collect::<Vec<_>>()
        .join(", ");
    let more = names.count();
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    list
}

/// Names listed in a hint (a diagnostic per unknown name listing every known one was quadratic).
const HINT_NAMES: usize = 20;

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
        let ns = self
            .namespaces
            .intern(s(v.pointer("/metadata/namespace")).unwrap_or_default());
        let file_id = match self.files.last() {
            Some(f) if Arc::ptr_eq(f, file) => self.files.len() - 1,
            _ => {
                self.files.push(file.clone());
                self.files.len() - 1
            }
        };
        let kind_id = match self.kinds.iter().position(|k| *k == kind) {
            Some(k) => k,
            None => {
                self.kinds.push(kind);
                self.kinds.len() - 1
            }
        };
        let (line, col) = line_col(node_at(doc, &Path::root().key("metadata").key("name")));
        let under_spec =
            !(version == "v1alpha1" || (version == "v1alpha2" && kind == "HTTPRouteGroup"));
        let specs = version == "v1alpha1";
        let mut e = Entry {
            text: Box::default(),
            refs: Box::default(),
            name_end: name.len() as u32,
            file: file_id as u32,
            doc: doc_index as u32,
            line,
            col,
            ns,
            kind: kind_id as u8,
            under_spec,
            specs,
        };
        let mut b = Builder {
            text: name.to_owned(),
            refs: Vec::new(),
        };
        // every list is walked once, item by item, with its positions
        let list = |what: What| node_at(doc, &e.list(what)).filter(|n| n.value().is_array());
        match kind {
            "HTTPRouteGroup" => {
                for (i, m) in list(What::MatchName)
                    .iter()
                    .flat_map(Node::items)
                    .enumerate()
                {
                    if let Some(n) = s(m.value().get("name")) {
                        b.push(What::MatchName, n, i, 0, None);
                    }
                }
            }
            "TrafficSplit" => {
                let apex_path = e.list(What::Apex).key("service");
                if let Some(apex) = s(apex_path.lookup(v)) {
                    b.push(What::Apex, apex, 0, 0, None);
                }
                for (i, x) in list(What::Backend).iter().flat_map(Node::items).enumerate() {
                    let svc = x.get("service");
                    if let Some(name) = s(svc.map(|n| n.value())) {
                        b.push(What::Backend, name, i, 0, svc);
                    }
                }
                for (i, m) in list(What::SplitMatch)
                    .iter()
                    .flat_map(Node::items)
                    .enumerate()
                {
                    let n = m.get("name");
                    if let Some(name) = s(n.map(|n| n.value())) {
                        b.push(What::SplitMatch, name, i, 0, n);
                    }
                }
            }
            "TrafficTarget" => {
                for (i, r) in list(What::Rule(0)).iter().flat_map(Node::items).enumerate() {
                    let rv = r.value();
                    let (Some(rk), Some(rn)) = (s(rv.get("kind")), s(rv.get("name"))) else {
                        continue;
                    };
                    // an unknown rule kind is already a schema error (SMI1203)
                    let Some(k) = ROUTE_KINDS.iter().position(|k| *k == rk) else {
                        continue;
                    };
                    b.push(What::Rule(k as u8), rn, i, 0, r.get("name"));
                    let matches = r.get("matches");
                    for (j, m) in matches.iter().flat_map(Node::items).enumerate() {
                        if let Some(name) = m.value().as_str() {
                            b.push(What::RuleMatch, name, i, j, Some(m));
                        }
                    }
                }
            }
            _ => {}
        }
        e.text = b.text.into_boxed_str();
        e.refs = b.refs.into_boxed_slice();
        self.entries.push(e);
    }

    fn kind(&self, e: &Entry) -> &'static str {
        self.kinds[e.kind as usize]
    }

    /// `Kind/namespace/name` (or `Kind/name`).
    fn id(&self, e: &Entry) -> String {
        let ns = &self.namespaces.list[e.ns as usize];
        if ns.is_empty() {
            format!("{}/{}", self.kind(e), e.name())
        } else {
            format!("{}/{ns}/{}", self.kind(e), e.name())
        }
    }

    fn diag(&self, e: &Entry, at: Option<&Ref>, code: Code, message: String) -> Diagnostic {
        let (path, line, col) = match at {
            Some(r) => (e.path(r), r.line, r.col),
            None => (Path::root().key("metadata").key("name"), e.line, e.col),
        };
        let mut d = Diagnostic::new(code, message).with_path(path.to_string());
        d.file = self.files[e.file as usize].to_string();
        d.document = Some(e.doc as usize);
        if line > 0 {
            d.line = Some(line as usize);
            d.column = Some(col as usize);
        }
        d.object = Some(self.id(e));
        d
    }

    /// Runs the cross-object rules.
    pub fn check(&self, require_refs: bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let unresolved = if require_refs {
            Severity::Error
        } else {
            Severity::Warning
        };
        let es = &self.entries;
        let at = |i: u32| &es[i as usize];
        // Objects sorted by (kind, namespace, name), then input order: the first of equal keys
        // is the one that counts. Sorted indices (4 bytes an object) rather than hash maps.
        let key = Entry::key;
        let mut by_key: Vec<u32> = (0..es.len() as u32).collect();
        by_key.sort_unstable_by(|&a, &b| key(at(a)).cmp(&key(at(b))).then(a.cmp(&b)));
        let first = |k: (u8, u32, &str)| -> Option<u32> {
            let p = by_key.partition_point(|&i| key(at(i)) < k);
            by_key.get(p).copied().filter(|&i| key(at(i)) == k)
        };
        // for a reference from an object without namespace: the first of that kind and name
        let no_ns = self.namespaces.get("");
        let mut by_name: Vec<u32> = Vec::new();
        if no_ns.is_some() {
            by_name = (0..es.len() as u32).collect();
            by_name.sort_unstable_by(|&a, &b| {
                at(a).kind_name().cmp(&at(b).kind_name()).then(a.cmp(&b))
            });
        }
        let first_named = |k: (u8, &str)| -> Option<u32> {
            let p = by_name.partition_point(|&i| at(i).kind_name() < k);
            by_name.get(p).copied().filter(|&i| at(i).kind_name() == k)
        };
        for (i, e) in es.iter().enumerate() {
            if let Some(f) = first(key(e)).filter(|&f| f != i as u32).map(at) {
                out.push(
                    self.diag(
                        e,
                        None,
                        Code::DuplicateObject,
                        format!(
                            "{} is defined twice (first at {}:{})",
                            self.id(e),
                            self.files[f.file as usize],
                            f.line
                        ),
                    )
                    .with_hint("the later definition replaces the earlier one when applied"),
                );
            }
        }
        // An object without namespace lands in whatever namespace it is applied to, so it
        // resolves references from any namespace (and an unnamespaced reference matches any).
        let find = |kind: &str, ns: u32, name: &str| -> Option<&Entry> {
            let k = self.kinds.iter().position(|x| *x == kind)? as u8;
            first((k, ns, name))
                .or_else(|| no_ns.and_then(|n| first((k, n, name))))
                .or_else(|| {
                    (Some(ns) == no_ns)
                        .then(|| first_named((k, name)))
                        .flatten()
                })
                .map(at)
        };
        let split = self.kinds.iter().position(|k| *k == "TrafficSplit");
        let is_split = |e: &Entry| Some(e.kind as usize) == split;
        // TrafficSplits by (namespace, apex), then input order
        fn apex_key(e: &Entry) -> (u32, Option<&str>) {
            (e.ns, e.apex())
        }
        let mut apexes: Vec<u32> = (0..es.len() as u32)
            .filter(|&i| is_split(at(i)) && at(i).apex().is_some())
            .collect();
        apexes.sort_unstable_by(|&a, &b| apex_key(at(a)).cmp(&apex_key(at(b))).then(a.cmp(&b)));
        let first_apex = |ns: u32, apex: &str| -> Option<&Entry> {
            let k = (ns, Some(apex));
            let p = apexes.partition_point(|&i| apex_key(at(i)) < k);
            apexes
                .get(p)
                .copied()
                .filter(|&i| apex_key(at(i)) == k)
                .map(at)
        };
        for e in es.iter().filter(|e| is_split(e)) {
            // the first split of this apex is `e` itself or an earlier one
            if let Some(apex) = e.apex()
                && let Some(first) = first_apex(e.ns, apex)
                && !std::ptr::eq(first, e)
                && first.name() != e.name()
            {
                out.push(self.diag(
                    e,
                    None,
                    Code::DuplicateApex,
                    format!(
                        "TrafficSplits `{}` and `{}` both split apex service `{apex}`",
                        first.name(),
                        e.name()
                    ),
                ));
            }
        }
        let mut known_matches: HashMap<usize, HashSet<&str>> = HashMap::new();
        for e in es {
            if is_split(e) {
                // once: without an apex, `apex()` scans every reference
                let own_apex = e.apex();
                for r in e.refs(What::Backend) {
                    let b = e.str(r);
                    if own_apex == Some(b) {
                        continue; // backend == own apex is valid (failover)
                    }
                    if let Some(other) = first_apex(e.ns, b) {
                        out.push(
                            self.diag(
                                e,
                                Some(r),
                                Code::HierarchicalSplit,
                                format!("backend `{b}` is the apex of TrafficSplit `{}`; SMI splits are not hierarchical", other.name()),
                            )
                            .with_hint("point the backend at a leaf service"),
                        );
                    }
                }
                for r in e.refs(What::SplitMatch) {
                    let m = e.str(r);
                    if find("HTTPRouteGroup", e.ns, m).is_none() {
                        out.push(
                            self.diag(e, Some(r), Code::UnresolvedSplitMatch, format!("HTTPRouteGroup `{m}` is not in the input set"))
                                .with_severity(unresolved)
                                .with_hint("include the HTTPRouteGroup (same namespace) in the validated files"),
                        );
                    }
                }
            }
            // the match names of a rule follow the rule
            let mut target: Option<(&Entry, &str, &HashSet<&str>)> = None;
            for r in e.refs.iter() {
                match r.what {
                    What::Rule(k) => {
                        let kind = ROUTE_KINDS[k as usize];
                        let name = e.str(r);
                        target = None;
                        match find(kind, e.ns, name) {
                            None => out.push(
                                self.diag(
                                    e,
                                    Some(r),
                                    Code::UnresolvedRoute,
                                    format!("{kind} `{name}` is not in the input set"),
                                )
                                .with_severity(unresolved)
                                .with_hint(
                                    "include the route (same namespace) in the validated files",
                                ),
                            ),
                            Some(t) if self.kind(t) == "HTTPRouteGroup" => {
                                // once per HTTPRouteGroup, however many rules name it
                                let known = known_matches
                                    .entry(std::ptr::from_ref(t) as usize)
                                    .or_insert_with(|| {
                                        t.refs(What::MatchName).map(|n| t.str(n)).collect()
                                    });
                                target = Some((t, name, &*known));
                            }
                            Some(_) => {}
                        }
                    }
                    What::RuleMatch => {
                        let Some((t, route, known)) = &target else {
                            continue;
                        };
                        let m = e.str(r);
                        if !known.contains(m) {
                            out.push(
                                self.diag(
                                    e,
                                    Some(r),
                                    Code::UnknownMatchName,
                                    format!("HTTPRouteGroup `{route}` has no match named `{m}`"),
                                )
                                .with_hint(format!("its matches are: {}", match_list(t))),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: String) -> Doc {
        let raw = crate::yaml::RawDoc::new(text);
        match crate::yaml::parse(raw, &crate::yaml::Limits::default()).pop() {
            Some(crate::yaml::Parsed::Doc(d, _)) => d,
            _ => panic!("not a document"),
        }
    }

    /// Nodes visited to size values while indexing `text` (the work of locating references).
    fn visits_to_index(kind: &'static str, version: &str, text: String) -> (usize, Index) {
        let d = doc(text);
        let mut index = Index::default();
        crate::yaml::SIZE_VISITS.with(|c| c.set(0));
        index.add(kind, version, &Arc::from("f.yaml"), 0, &d);
        (crate::yaml::SIZE_VISITS.with(|c| c.get()), index)
    }

    /// One TrafficSplit with 64k backends took 27 s, 200k more than 300 s: each backend was
    /// located from the root, walking every backend before it. Now each list is walked once.
    #[test]
    fn indexing_is_linear_in_the_length_of_each_list() {
        for n in [1_000usize, 20_000] {
            let mut split = String::from(
                "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: web\n  backends:\n",
            );
            for i in 0..n {
                split.push_str(&format!("  - {{service: b{i}, weight: 1}}\n"));
            }
            let (visits, index) = visits_to_index("TrafficSplit", "v1alpha4", split);
            // each backend mapping has 3 nodes (+1 per key): quadratic would be ~n²
            assert!(
                visits <= 6 * n + 100,
                "{visits} node visits for {n} backends"
            );
            let e = &index.entries[0];
            let last = e.refs.last().unwrap();
            assert_eq!(
                (e.str(last), last.line, last.col),
                (&*format!("b{}", n - 1), n as u32 + 6, 15)
            );

            let mut target = String::from(
                "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n  destination: {kind: ServiceAccount, name: a}\n  rules:\n",
            );
            for i in 0..n / 10 {
                target.push_str(&format!(
                    "  - kind: HTTPRouteGroup\n    name: r{i}\n    matches: [{}]\n",
                    (0..10)
                        .map(|j| format!("m{j}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let (visits, index) = visits_to_index("TrafficTarget", "v1alpha3", target);
            assert!(
                visits <= 6 * n + 100,
                "{visits} node visits for {n} rule matches"
            );
            assert_eq!(index.entries[0].refs.len(), n / 10 * 11);
        }
    }

    /// What every object keeps until the end of the input (plus its strings and references).
    #[test]
    fn an_entry_stays_small() {
        assert!(size_of::<Entry>() <= 64, "{}", size_of::<Entry>());
        assert!(size_of::<Ref>() <= 28, "{}", size_of::<Ref>());
    }
}
