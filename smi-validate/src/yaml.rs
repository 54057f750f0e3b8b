//! Layer 1: reading a YAML/JSON stream document by document, with positions.
//!
//! The reading itself is smi-types' one YAML reader ([`smi_types::yaml`]): its splitter cuts
//! the stream into documents at `---` / `...` lines before parsing (one malformed document does
//! not stop the others, one document is held at a time), its [`Limits`] budget bounds each, and
//! it reads a document into a [`serde_json::Value`] with the positions of its nodes in pre-order,
//! every scalar resolved by serde-saphyr as `smi_types::parse_yaml_stream` and the API server
//! read it. This module maps its issues onto diagnostic codes and maps a field path back to a
//! line and column ([`Doc::locate`]) without a second parse.

use crate::diagnostic::Code;
use crate::path::{Path, Seg};
use serde_json::Value;
use smi_types::yaml::{Issue, IssueKind};

pub use smi_types::yaml::{Limits, MAX_DEPTH_CEILING, Pos};
pub(crate) use smi_types::yaml::{RawDocument as RawDoc, Splitter};

/// A problem found while reading a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlIssue {
    pub code: Code,
    /// The source line, for issues of documents that could not be parsed.
    pub source_line: Option<String>,
    pub message: String,
    pub pos: Option<Pos>,
    pub path: Option<String>,
}

impl From<Issue> for YamlIssue {
    fn from(i: Issue) -> YamlIssue {
        let code = match i.kind {
            IssueKind::Limit => Code::LimitExceeded,
            IssueKind::Unsupported => Code::UnsupportedYaml,
            IssueKind::DuplicateKey => Code::DuplicateKey,
            IssueKind::Encoding => Code::Encoding,
            _ => Code::YamlSyntax,
        };
        YamlIssue {
            code,
            source_line: i.source_line,
            message: i.message,
            pos: i.pos,
            path: (!i.path.is_empty()).then(|| Path::from(i.path).to_string()),
        }
    }
}

/// A parsed document.
#[derive(Debug)]
pub struct Doc {
    /// The document as JSON.
    pub value: Value,
    positions: Vec<Pos>,
    text: String,
    first_line: usize,
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Reading issues not kept because of `max_diagnostics_per_document`.
    pub(crate) dropped_issues: usize,
}

/// The outcome of parsing one raw document (which may hold several YAML documents in odd cases).
pub(crate) enum Parsed {
    /// Comment-only or empty.
    Empty,
    /// A document, with non-fatal issues (duplicate keys).
    Doc(Doc, Vec<YamlIssue>),
    /// A fatal issue: the document could not be read.
    Failed(YamlIssue),
}

/// Parses one raw document into the YAML documents it holds (normally one).
pub(crate) fn parse(raw: RawDoc, limits: &Limits) -> Vec<Parsed> {
    let parsed = smi_types::yaml::read_document(&raw, limits);
    let last = parsed
        .iter()
        .rposition(|d| matches!(d, smi_types::yaml::Parsed::Doc(..)));
    let mut text = Some(raw.text);
    let mut out = Vec::with_capacity(parsed.len());
    for (i, d) in parsed.into_iter().enumerate() {
        out.push(match d {
            smi_types::yaml::Parsed::Empty => Parsed::Empty,
            smi_types::yaml::Parsed::Failed(issue) => Parsed::Failed(issue.into()),
            smi_types::yaml::Parsed::Doc(tree, issues) => Parsed::Doc(
                Doc {
                    value: tree.value,
                    positions: tree.positions,
                    text: if Some(i) == last {
                        text.take().unwrap_or_default()
                    } else {
                        text.clone().unwrap_or_default()
                    },
                    first_line: raw.first_line,
                    line_starts: std::cell::OnceCell::new(),
                    dropped_issues: tree.dropped_issues,
                },
                issues.into_iter().map(YamlIssue::from).collect(),
            ),
        });
    }
    out
}

#[cfg(test)]
thread_local! {
    /// Nodes [`value_size`] visited on this thread: the work of locating, for tests that bound it.
    pub(crate) static SIZE_VISITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn value_size(v: &Value) -> usize {
    #[cfg(test)]
    SIZE_VISITS.with(|c| c.set(c.get() + 1));
    match v {
        Value::Object(m) => 1 + m.values().map(|c| 1 + value_size(c)).sum::<usize>(),
        Value::Array(a) => 1 + a.iter().map(value_size).sum::<usize>(),
        _ => 1,
    }
}

impl Doc {
    /// A document built from a value (no source positions).
    pub fn from_value(value: Value) -> Doc {
        Doc {
            value,
            positions: Vec::new(),
            text: String::new(),
            first_line: 1,
            line_starts: std::cell::OnceCell::new(),
            dropped_issues: 0,
        }
    }

    /// Position of the node at `path` (the key, for a mapping entry). When the path does not
    /// exist, the position of its deepest existing ancestor.
    pub fn locate(&self, path: &Path) -> Option<Pos> {
        self.positions.get(self.locate_idx(path)?.0).copied()
    }

    /// (index into `positions` of the deepest node found, whether the whole path was found).
    /// For a mapping entry the index is that of its key; the value follows at index + 1.
    fn locate_idx(&self, path: &Path) -> Option<(usize, bool)> {
        if self.positions.is_empty() {
            return None;
        }
        let mut v = &self.value;
        let mut idx = 0usize;
        let mut best = 0usize;
        for seg in path.segs() {
            match (seg, v) {
                (Seg::Key(k), Value::Object(m)) => {
                    let mut cur = idx + 1;
                    let mut found = None;
                    for (key, child) in m {
                        if key == k {
                            found = Some((cur, child));
                            break;
                        }
                        cur += 1 + value_size(child);
                    }
                    let Some((at, child)) = found else {
                        return Some((best, false));
                    };
                    best = at;
                    idx = at + 1;
                    v = child;
                }
                (Seg::Index(i), Value::Array(a)) => {
                    let Some(child) = a.get(*i) else {
                        return Some((best, false));
                    };
                    let mut cur = idx + 1;
                    for c in &a[..*i] {
                        cur += value_size(c);
                    }
                    best = cur;
                    idx = cur;
                    v = child;
                }
                _ => return Some((best, false)),
            }
        }
        Some((best, true))
    }

    /// The root node, to walk the document and locate many nodes in one pass: each
    /// [`locate`](Doc::locate) walks from the root and costs the size of every earlier sibling,
    /// so locating every item of a list one by one is quadratic in its length.
    pub(crate) fn root(&self) -> Node<'_> {
        Node {
            doc: self,
            value: &self.value,
            idx: 0,
            key_idx: None,
        }
    }

    /// Position of the *value* at `path` when it is a scalar in a mapping (for "this value is
    /// wrong" diagnostics); otherwise like [`Doc::locate`].
    pub fn locate_value(&self, path: &Path) -> Option<Pos> {
        let (i, exact) = self.locate_idx(path)?;
        let scalar = matches!(path.lookup(&self.value), Some(v) if !v.is_object() && !v.is_array());
        let i = if exact && scalar && matches!(path.segs().last(), Some(Seg::Key(_))) {
            i + 1
        } else {
            i
        };
        self.positions.get(i).copied()
    }

    /// The text of a 1-based file line, if it is in this document.
    pub fn source_line(&self, line: u32) -> Option<String> {
        let rel = (line as usize).checked_sub(self.first_line)?;
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(rel)?;
        let end = starts.get(rel + 1).map_or(self.text.len(), |e| e - 1);
        if start > self.text.len() || start > end {
            return None;
        }
        Some(self.text[start..end].trim_end_matches('\r').to_owned())
    }
}

/// A node of a [`Doc`] and where it sits in the document's positions (see [`Doc::root`]).
#[derive(Clone, Copy)]
pub(crate) struct Node<'d> {
    doc: &'d Doc,
    value: &'d Value,
    /// Index of the node in `positions`.
    idx: usize,
    /// Index of its key, for a mapping entry.
    key_idx: Option<usize>,
}

impl<'d> Node<'d> {
    pub fn value(&self) -> &'d Value {
        self.value
    }

    /// What [`Doc::locate_value`] gives for this node's path: a scalar in a mapping is located
    /// at its value, anything else at its key (or, in a list, at the item).
    pub fn pos(&self) -> Option<Pos> {
        let scalar = !self.value.is_object() && !self.value.is_array();
        let i = match self.key_idx {
            Some(k) if !scalar => k,
            _ => self.idx,
        };
        self.doc.positions.get(i).copied()
    }

    /// The value of `key`, when this is a mapping that has it. Costs the size of the entries
    /// before it.
    pub fn get(&self, key: &str) -> Option<Node<'d>> {
        let Value::Object(m) = self.value else {
            return None;
        };
        let mut cur = self.idx + 1;
        for (k, child) in m {
            if k == key {
                return Some(Node {
                    doc: self.doc,
                    value: child,
                    idx: cur + 1,
                    key_idx: Some(cur),
                });
            }
            cur += 1 + value_size(child);
        }
        None
    }

    /// The items, when this is a sequence; walking them all costs the size of the sequence.
    pub fn items(&self) -> impl Iterator<Item = Node<'d>> + use<'d> {
        let items = match self.value {
            Value::Array(a) => a.as_slice(),
            _ => &[],
        };
        let (doc, mut cur) = (self.doc, self.idx + 1);
        items.iter().map(move |child| {
            let node = Node {
                doc,
                value: child,
                idx: cur,
                key_idx: None,
            };
            cur += value_size(child);
            node
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(s: &str) -> Vec<Parsed> {
        let mut sp = Splitter::new(s.as_bytes(), Limits::default());
        let mut out = Vec::new();
        while let Some(r) = sp.next_doc() {
            out.extend(parse(r.unwrap(), &Limits::default()));
        }
        out
    }

    /// A plain scalar as the reader gives it (in `v: <scalar>`): `None` when the document
    /// cannot be read.
    fn scalar(s: &str) -> Option<Value> {
        match docs(&format!("v: {s}\n")).pop() {
            Some(Parsed::Doc(d, _)) => Some(d.value["v"].clone()),
            _ => None,
        }
    }

    /// Plain scalars resolve as serde-saphyr (and kube-apiserver's YAML 1.1 decoder) read them.
    /// `.inf` used to be the string ".inf"; serde-saphyr refuses it (JSON has no infinity, and
    /// the API server refuses it too), so the reader now reports the document.
    #[test]
    fn scalars_resolve_as_serde_saphyr_does() {
        assert_eq!(scalar("10"), Some(Value::from(10)));
        assert_eq!(scalar("-3"), Some(Value::from(-3)));
        assert_eq!(scalar("1.5"), Some(Value::from(1.5)));
        assert_eq!(scalar("500m"), Some(Value::from("500m")));
        assert_eq!(scalar("true"), Some(Value::from(true)));
        assert_eq!(scalar("~"), Some(Value::Null));
        assert_eq!(scalar(".inf"), None);
        assert_eq!(scalar("1e3"), Some(Value::from(1000.0)));
        assert_eq!(scalar("v1"), Some(Value::from("v1")));
        assert_eq!(scalar("yes"), Some(Value::from(true)));
        assert_eq!(scalar("0b101"), Some(Value::from(5)));
    }

    /// The position-keeping reader reads plain scalars exactly as serde-saphyr (the reader
    /// under `smi_types::parse_yaml_stream`) does, on a table of edge cases: 0 differences.
    /// This test used to pin 25 differences of a second, hand-written resolver (YAML 1.1
    /// booleans `yes`/`no`/`on`/`off`/`y`/`n`, `0b`, `_` separators, a signed hex, leading
    /// zeros, integers beyond 64 bits, non-finite floats); kube-apiserver 1.37 reads `yes`,
    /// `on`, `y` as booleans and `0b101`, `1_000`, `0755`, `-0x1F` as numbers, as serde-saphyr
    /// does, so a string field written `yes` passed here and failed there. The reader now
    /// resolves scalars with serde-saphyr itself (`smi_types::yaml`).
    #[test]
    fn plain_scalars_resolve_as_serde_saphyr_does() {
        let table = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "False",
            "FALSE",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Yes",
            "0",
            "10",
            "-3",
            "+7",
            "007",
            "-0",
            "+0",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "0x1F",
            "0X1F",
            "-0x1F",
            "0x",
            "0o17",
            "0o",
            "0o8",
            "0b101",
            "1_000",
            "1.5",
            "-1.5",
            "+1.5",
            ".5",
            "5.",
            "-.5",
            "1e3",
            "1E3",
            "1e+3",
            "1.5e-3",
            "-.5e2",
            "1e",
            "e3",
            ".",
            "+",
            "..",
            "1.2.3",
            ".inf",
            "-.inf",
            "+.inf",
            ".Inf",
            ".INF",
            ".nan",
            ".NaN",
            ".NAN",
            "1e400",
            "500m",
            "1Ki",
            "v1",
            "0.1.0",
            "12:30",
            "1:20:30",
            "2001-12-14",
            "0755",
            "08",
            "3 4",
            "-x",
            ".x",
            "+x",
            "1x",
        ];
        let mut differ = Vec::new();
        for s in table {
            let theirs = serde_saphyr::from_str::<Value>(&format!("v: {s}\n"))
                .map(|v| v["v"].clone())
                .ok();
            let ours = scalar(s);
            if theirs != ours {
                differ.push((s, theirs, ours));
            }
        }
        assert_eq!(differ, vec![]);
    }

    #[test]
    fn positions_and_duplicates() {
        let d = docs("---\n# c\na: 1\nb:\n  - x\n  - {y: 2}\na: 3\n");
        let Parsed::Doc(doc, issues) = &d[0] else {
            panic!()
        };
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].pos, Some(Pos { line: 7, col: 1 }));
        // the last value wins, as on the API server, with its own position
        assert_eq!(doc.value["a"], Value::from(3));
        assert_eq!(
            doc.locate_value(&"a".parse().unwrap()),
            Some(Pos { line: 7, col: 4 })
        );
        assert_eq!(doc.positions.len(), value_size(&doc.value));
        let p: Path = "b[1].y".parse().unwrap();
        assert_eq!(doc.locate(&p), Some(Pos { line: 6, col: 6 }));
    }

    #[test]
    fn merge_keys_expand_like_serde_saphyr() {
        for text in [
            "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n",
            "m:\n  b: 3\n  <<: {a: 1, b: 2}\n",
            "x: &x {a: 1}\ny: &y {a: 2, c: 3}\nm: {<<: [*x, *y], d: 4}\n",
            "m: {!!merge <<: {a: 1}}\n",
            "m: {\"<<\": {a: 1}}\n",
            "n: &n {<<: {a: 1}, b: 2}\nm: {<<: *n, c: 3}\n",
        ] {
            let d = docs(text);
            let Parsed::Doc(doc, issues) = &d[0] else {
                panic!("{text}")
            };
            assert!(issues.is_empty(), "{text}: {issues:?}");
            let want: Value = serde_saphyr::from_str(text).unwrap();
            assert_eq!(doc.value, want, "{text}");
            assert_eq!(doc.positions.len(), value_size(&doc.value), "{text}");
        }
    }

    #[test]
    fn merged_entries_keep_their_positions() {
        let d = docs("x: &x\n  a: 1\nm:\n  <<: *x\n  b: 2\nn:\n  <<: {c: 3}\n");
        let Parsed::Doc(doc, _) = &d[0] else { panic!() };
        let at = |p: &str| doc.locate_value(&p.parse().unwrap());
        // from an alias: where the alias is (as for any aliased node)
        assert_eq!(at("m.a"), Some(Pos { line: 4, col: 7 }));
        assert_eq!(at("m.b"), Some(Pos { line: 5, col: 6 }));
        // written in place: where it is written
        assert_eq!(at("n.c"), Some(Pos { line: 7, col: 11 }));
    }

    #[test]
    fn a_merge_key_without_a_mapping_is_an_error() {
        let d = docs("m:\n  <<: [1]\n");
        let Parsed::Failed(i) = &d[0] else { panic!() };
        assert_eq!(i.code, Code::YamlSyntax);
        assert_eq!(i.pos, Some(Pos { line: 2, col: 3 }));
    }

    #[test]
    fn recovers_after_a_bad_document() {
        let d = docs("a: [\n---\nb: 1\n---\n# only a comment\n");
        assert!(matches!(d[0], Parsed::Failed(_)));
        assert!(matches!(d[1], Parsed::Doc(..)));
        assert!(matches!(d[2], Parsed::Empty));
    }

    #[test]
    fn alias_bomb_is_stopped() {
        let mut s = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            s.push_str(
                &format!(
                    "a{i}: &a{i} [*a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}]\n",
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1,
                    i - 1
                )
                .replace("*a0", "*a"),
            );
        }
        let d = docs(&s);
        let Parsed::Failed(i) = &d[0] else { panic!() };
        assert_eq!(i.code, Code::LimitExceeded);
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let s = "[".repeat(10_000);
        let d = docs(&s);
        assert!(
            matches!(&d[0], Parsed::Failed(i) if i.code == Code::YamlSyntax || i.code == Code::LimitExceeded)
        );
    }
}
