//! The one YAML reader of smi-rs: a stream cut into documents, one [`Limits`] budget, and each
//! document read into a JSON value with the position of every node.
//!
//! [`parse_yaml_stream`](crate::parse_yaml_stream) and smi-validate's syntax layer both read
//! through this module:
//!
//! - [`Splitter`] cuts a byte stream into [`RawDocument`]s at `---` / `...` lines *before*
//!   parsing (a document marker at column 0 always ends the previous document in YAML, even
//!   inside a block scalar), so one malformed document does not stop the others and only one
//!   document is held at a time. It counts every document, empty ones included, against
//!   [`Limits::max_documents`], and caps each at [`Limits::max_document_bytes`].
//! - [`read_document`] parses one raw document with the event parser under serde-saphyr into a
//!   [`Tree`]: a [`serde_json::Value`] plus the positions of its nodes in pre-order, duplicate
//!   keys reported (the last value wins, as on the API server), merge keys expanded, aliases
//!   bounded by the budget.
//! - Scalars are resolved by serde-saphyr itself (the YAML 1.1 rules kube-apiserver's decoder
//!   also follows: `yes`/`on`/`y` are booleans, `0b101`, `1_000`, `-0x1F` numbers), so a value
//!   here is the value `parse_yaml_stream` decodes and the API server reads.
//!
//! ```
//! use smi_types::yaml::{Limits, Parsed, Pos, Splitter, read_document};
//! let stream = "a: 1\n---\nspec:\n  service: yes\n  weight: 0b101\n";
//! let limits = Limits::default();
//! let mut split = Splitter::new(stream.as_bytes(), limits);
//! let mut trees = Vec::new();
//! while let Some(raw) = split.next_doc() {
//!     for parsed in read_document(&raw.unwrap(), &limits) {
//!         if let Parsed::Doc(tree, issues) = parsed {
//!             assert!(issues.is_empty());
//!             trees.push(tree);
//!         }
//!     }
//! }
//! assert_eq!(trees.len(), 2);
//! // YAML 1.1 scalars, as serde-saphyr and the API server read them
//! assert_eq!(trees[1].value["spec"]["service"], true);
//! assert_eq!(trees[1].value["spec"]["weight"], 5);
//! // positions are file lines and columns (1-based), in pre-order: the root mapping, then
//! // each key followed by its value
//! assert_eq!(trees[1].positions[0], Pos { line: 3, col: 1 });
//! assert_eq!(trees[1].positions[3], Pos { line: 4, col: 3 }); // the key `service`
//! assert_eq!(trees[1].positions[4], Pos { line: 4, col: 12 }); // its value
//! ```

/// Resource limits for reading untrusted YAML, shared by every reader of smi-rs
/// ([`parse_yaml_stream_with`](crate::parse_yaml_stream_with), [`read_document`] and
/// smi-validate, which re-exports this type). Exceeding one is a clear error naming it
/// ([`Error::Limit`](crate::Error::Limit), smi-validate's SMI1003), never a panic, hang or
/// unbounded allocation.
///
/// The defaults are chosen for manifests: many documents (serde-saphyr's own default budget
/// would stop at 1,024 documents / 250,000 nodes per stream), small per-document trees, and
/// hard caps on alias expansion ("billion laughs").
///
/// ```
/// let mut limits = smi_types::Limits::default();
/// assert_eq!(limits.max_documents, 1_000_000);
/// limits.max_documents = 1;
/// # #[cfg(feature = "yaml")] {
/// let err = smi_types::parse_yaml_stream_with("a: 1\n---\nb: 2\n", &limits).unwrap_err();
/// assert!(matches!(err, smi_types::Error::Limit { .. }));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes of a whole in-memory input (`parse_yaml_stream*`; a streaming reader such as
    /// smi-validate's is bounded per document instead). Default 64 MiB.
    pub max_input_bytes: usize,
    /// Documents per stream, empty ones included. Default 1,000,000: every document is
    /// bounded by the per-document limits below, a streaming reader holds one at a time, and
    /// an in-memory stream is bounded by `max_input_bytes` anyway (a million empty documents
    /// are 4 MB of `---` lines), so this count only stops a stream of endless (often empty)
    /// documents; 1,000,000 is far above any real manifest set, where the 100,000 this crate
    /// once used refused generated streams smi-validate read. CLI: `--max-documents`.
    pub max_documents: usize,
    /// Bytes per document, for a streaming reader ([`Splitter`], smi-validate); the in-memory
    /// `parse_yaml_stream*` bound the whole input by `max_input_bytes` instead. Default 8 MiB
    /// (Kubernetes caps objects at about 1.5 MiB in etcd and request bodies at 3 MiB).
    pub max_document_bytes: usize,
    /// YAML nodes (scalars, sequences, mappings) per document, for the typed decoder of
    /// `parse_yaml_stream` (serde-saphyr's budget). Default 250,000.
    pub max_nodes_per_document: usize,
    /// Nesting depth of mappings and sequences. Default 64 (SMI objects nest at most 7 deep).
    /// At most [`MAX_DEPTH_CEILING`] (1,000): a larger value is treated as the ceiling, since
    /// tree walks would run out of stack. CLI: `--max-depth` (refuses more than the ceiling).
    pub max_depth: usize,
    /// Bytes per scalar. Default 1 MiB.
    pub max_scalar_bytes: usize,
    /// Aliases (`*a`) per document, for the typed decoder (serde-saphyr's budget).
    /// Default 1,000.
    pub max_aliases_per_document: usize,
    /// Anchors (`&a`) per document, for the typed decoder (serde-saphyr's budget).
    /// Default 1,000.
    pub max_anchors_per_document: usize,
    /// Nodes produced by alias expansion per document in [`read_document`] (guards against
    /// "billion laughs"). Default 10,000.
    pub max_alias_nodes: usize,
    /// Events replayed by alias expansion per document in the typed decoder (serde-saphyr's
    /// alias limit; about one event per scalar and two per collection). Default 100,000.
    pub max_alias_expansion_events: usize,
    /// Bytes of all scalars (keys and values) of a document, alias expansions included: an
    /// alias to a 100 KB string costs 100 KB each time it is used, however few nodes it is.
    /// Default 16 MiB. CLI: `--max-scalar-bytes-per-document`.
    pub max_scalar_bytes_per_document: usize,
    /// Diagnostics reported per document by a validator (smi-validate); the rest are counted
    /// in one final SMI1003. Default 1,000.
    pub max_diagnostics_per_document: usize,
}

/// The deepest [`Limits::max_depth`] honoured: a 1,000,000-deep document with a limit of
/// 10,000,000 overflowed the stack.
pub const MAX_DEPTH_CEILING: usize = 1_000;

impl Limits {
    /// `max_depth`, capped at [`MAX_DEPTH_CEILING`].
    pub fn depth(&self) -> usize {
        self.max_depth.min(MAX_DEPTH_CEILING)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 << 20,
            max_documents: 1_000_000,
            max_document_bytes: 8 << 20,
            max_nodes_per_document: 250_000,
            max_depth: 64,
            max_scalar_bytes: 1 << 20,
            max_aliases_per_document: 1_000,
            max_anchors_per_document: 1_000,
            max_alias_nodes: 10_000,
            max_alias_expansion_events: 100_000,
            max_scalar_bytes_per_document: 16 << 20,
            max_diagnostics_per_document: 1_000,
        }
    }
}

#[cfg(feature = "yaml")]
impl Limits {
    /// serde-saphyr options carrying these limits (one document per call).
    pub(crate) fn options(&self) -> serde_saphyr::Options {
        let mut budget = serde_saphyr::Budget::default();
        budget.max_documents = 2;
        budget.max_nodes = self.max_nodes_per_document;
        budget.max_depth = self.depth();
        budget.max_aliases = self.max_aliases_per_document;
        budget.max_anchors = self.max_anchors_per_document;
        budget.max_total_scalar_bytes = self.max_scalar_bytes_per_document;
        let mut opts = serde_saphyr::Options::default();
        opts.budget = Some(budget);
        opts.alias_limits.max_total_replayed_events = self.max_alias_expansion_events;
        opts.with_snippet = false;
        opts
    }
}

/// A 1-based line and column in a file (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

#[cfg(feature = "yaml")]
pub use reader::*;

#[cfg(feature = "yaml")]
mod reader {
    use super::{Limits, Pos};
    use granit_parser::{Event, Parser, ScalarStyle, ScanError};
    use serde_json::{Map, Value};
    use serde_saphyr::granit_parser;
    use std::collections::HashMap;
    use std::io::{self, BufRead};

    /// One step of a path into a document.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Seg {
        /// A mapping key.
        Key(String),
        /// A sequence index.
        Index(usize),
    }

    /// What kind of problem an [`Issue`] is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum IssueKind {
        /// Not well-formed YAML (or a scalar that has no JSON value, such as `.inf`).
        Syntax,
        /// A [`Limits`] value was exceeded ([`Issue::limit`] names it).
        Limit,
        /// Well-formed YAML with no JSON equivalent (custom tags, complex keys).
        Unsupported,
        /// A mapping key given twice (not fatal: the last value is kept).
        DuplicateKey,
        /// Not UTF-8.
        Encoding,
    }

    /// A problem found while reading a document.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Issue {
        /// What it is.
        pub kind: IssueKind,
        /// The [`Limits`] field exceeded, for [`IssueKind::Limit`].
        pub limit: Option<&'static str>,
        /// What happened.
        pub message: String,
        /// Where, when known.
        pub pos: Option<Pos>,
        /// The path of the node being read (empty for the root or when unknown).
        pub path: Vec<Seg>,
        /// The source line, for issues of documents that could not be parsed.
        pub source_line: Option<String>,
    }

    impl Issue {
        fn at(kind: IssueKind, limit: Option<&'static str>, message: String, pos: Pos) -> Issue {
            Issue {
                kind,
                limit,
                message,
                pos: Some(pos),
                path: Vec::new(),
                source_line: None,
            }
        }
    }

    /// One raw document cut out of a stream by [`Splitter`].
    #[derive(Debug)]
    pub struct RawDocument {
        /// The text (empty when the document was too large or not UTF-8).
        pub text: String,
        /// 1-based line of the first line of `text` in the file.
        pub first_line: usize,
        /// 0-based index of the document in the stream, empty documents counted; `None` for text
        /// after the last document that starts none (comments after a `...`).
        pub index: Option<usize>,
        /// A problem found while cutting (too large, not UTF-8, too many documents — the last
        /// ends the stream).
        pub issue: Option<Issue>,
    }

    impl RawDocument {
        /// A document from a text starting at line 1 (no splitting).
        pub fn new(text: String) -> RawDocument {
            RawDocument {
                text,
                first_line: 1,
                index: Some(0),
                issue: None,
            }
        }
    }

    /// A document read by [`read_document`]: its value and where each node is.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Tree {
        /// The document as JSON.
        pub value: Value,
        /// Positions of the nodes in pre-order: a mapping, then for each entry its key followed by
        /// the value's nodes; a sequence, then its items' nodes. A scalar is one node. Entries merged
        /// in by `<<` follow the mapping's own entries; an aliased node takes the alias's position.
        /// Empty for a document built without source.
        pub positions: Vec<Pos>,
        /// Issues not kept because of [`Limits::max_diagnostics_per_document`].
        pub dropped_issues: usize,
    }

    /// The number of nodes [`Tree::positions`] holds for a value: 1 per scalar, sequence and
    /// mapping, plus 1 per mapping key.
    pub fn node_count(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(|c| 1 + node_count(c)).sum::<usize>(),
            Value::Array(a) => 1 + a.iter().map(node_count).sum::<usize>(),
            _ => 1,
        }
    }

    fn value_size(v: &Value) -> usize {
        node_count(v)
    }

    /// Entries of a document's cache of resolved scalars.
    const RESOLVED_CACHE: usize = 1_024;

    /// Cuts a byte stream into documents.
    pub struct Splitter<R> {
        reader: R,
        limits: Limits,
        line_no: usize,
        carry: Option<Vec<u8>>,
        done: bool,
        first: bool,
        /// Documents started so far, empty ones included.
        started: usize,
        /// Whether the document being cut was started by the current call.
        started_now: bool,
    }

    fn is_marker(line: &[u8], marker: &[u8]) -> bool {
        line.starts_with(marker) && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
    }

    fn is_content(line: &[u8]) -> bool {
        let t = line.trim_ascii_start();
        !(t.is_empty() || t[0] == b'#' || t[0] == b'%')
    }

    impl<R: BufRead> Splitter<R> {
        /// A splitter over `reader` (a leading UTF-8 byte order mark is skipped).
        pub fn new(reader: R, limits: Limits) -> Self {
            Splitter {
                reader,
                limits,
                line_no: 0,
                carry: None,
                done: false,
                first: true,
                started: 0,
                started_now: false,
            }
        }

        /// Counts a new document; past `max_documents`, the limit error that ends the stream.
        fn start_doc(&mut self, line: usize) -> Option<RawDocument> {
            self.started += 1;
            self.started_now = true;
            if self.started <= self.limits.max_documents {
                return None;
            }
            self.done = true;
            Some(RawDocument {
                text: String::new(),
                first_line: line,
                index: Some(self.started - 1),
                issue: Some(Issue::at(
                    IssueKind::Limit,
                    Some("max_documents"),
                    format!(
                        "more than {} documents in one stream (empty ones included); the rest is not read",
                        self.limits.max_documents
                    ),
                    Pos {
                        line: line as u32,
                        col: 1,
                    },
                )),
            })
        }

        /// Reads one line (with its `\n`), keeping at most `cap` bytes; returns (bytes read, kept).
        fn read_line(&mut self, buf: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
            let mut total = 0;
            loop {
                let (found, used) = {
                    let avail = match self.reader.fill_buf() {
                        Ok(a) => a,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    if avail.is_empty() {
                        return Ok(total);
                    }
                    let (found, used) = match avail.iter().position(|&b| b == b'\n') {
                        Some(i) => (true, i + 1),
                        None => (false, avail.len()),
                    };
                    let room = cap.saturating_sub(buf.len());
                    buf.extend_from_slice(&avail[..used.min(room)]);
                    (found, used)
                };
                self.reader.consume(used);
                total += used;
                if found {
                    return Ok(total);
                }
            }
        }

        /// Documents started so far, empty ones included (an empty document is counted, not
        /// returned).
        pub fn documents_started(&self) -> usize {
            self.started
        }

        /// The next document, or `None` at the end of the stream. Empty documents between `---`
        /// lines are counted ([`RawDocument::index`] skips them) but not returned.
        ///
        /// # Errors
        /// An I/O error of the reader (it ends the stream).
        pub fn next_doc(&mut self) -> Option<io::Result<RawDocument>> {
            if self.done {
                return None;
            }
            self.started_now = false;
            let cap = self.limits.max_document_bytes.saturating_add(1);
            let mut buf: Vec<u8> = Vec::new();
            let mut first_line = self.line_no + 1;
            let mut has_content = false;
            let mut too_big = false;
            let mut directives = false;
            if let Some(c) = self.carry.take() {
                first_line = self.line_no;
                has_content = is_content(&c[3..]);
                buf = c;
                if let Some(over) = self.start_doc(first_line) {
                    return Some(Ok(over));
                }
            }
            loop {
                let mut line = Vec::new();
                let n = match self.read_line(&mut line, cap) {
                    Ok(n) => n,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                };
                if n == 0 {
                    self.done = true;
                    break;
                }
                self.line_no += 1;
                if self.first {
                    self.first = false;
                    if line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                        line.drain(..3);
                    }
                }
                if is_marker(&line, b"---") {
                    if has_content || too_big {
                        self.carry = Some(line);
                        break;
                    }
                    // a new document; what came before it was empty (blank lines, comments): drop
                    // it, unless it holds directives (`%YAML`, `%TAG`), which belong to this one.
                    // (Empty documents used to pile up until "document larger than 8 MiB".)
                    if let Some(over) = self.start_doc(self.line_no) {
                        return Some(Ok(over));
                    }
                    if !directives {
                        buf.clear();
                        first_line = self.line_no;
                    }
                    has_content = is_content(&line[3..]);
                } else if is_marker(&line, b"...") {
                    if !too_big {
                        buf.extend_from_slice(&line);
                    }
                    break;
                } else if is_content(&line) {
                    if !has_content && !self.started_now {
                        // content without a `---`: the stream's first document, or a bare
                        // document after a `...`
                        if let Some(over) = self.start_doc(first_line) {
                            return Some(Ok(over));
                        }
                    }
                    has_content = true;
                } else if line.starts_with(b"%") {
                    directives = true;
                }
                if !too_big {
                    if buf.len() + line.len() > self.limits.max_document_bytes || line.len() >= cap
                    {
                        too_big = true;
                        buf = Vec::new();
                    } else {
                        buf.extend_from_slice(&line);
                    }
                }
            }
            let index = self.started_now.then(|| self.started - 1);
            if too_big {
                return Some(Ok(RawDocument {
                    text: String::new(),
                    first_line,
                    index,
                    issue: Some(Issue::at(
                        IssueKind::Limit,
                        Some("max_document_bytes"),
                        format!(
                            "document is larger than the limit of {} bytes",
                            self.limits.max_document_bytes
                        ),
                        Pos {
                            line: first_line as u32,
                            col: 1,
                        },
                    )),
                }));
            }
            match String::from_utf8(buf) {
                Ok(text) => Some(Ok(RawDocument {
                    text,
                    first_line,
                    index,
                    issue: None,
                })),
                Err(e) => {
                    let bytes = e.as_bytes();
                    let bad = e.utf8_error().valid_up_to();
                    let line = first_line + bytes[..bad].iter().filter(|&&b| b == b'\n').count();
                    Some(Ok(RawDocument {
                        text: String::new(),
                        first_line,
                        index,
                        issue: Some(Issue::at(
                            IssueKind::Encoding,
                            None,
                            "document is not valid UTF-8".into(),
                            Pos {
                                line: line as u32,
                                col: 1,
                            },
                        )),
                    }))
                }
            }
        }
    }

    enum Frame {
        Seq {
            items: Vec<Value>,
            anchor: usize,
            start: usize,
        },
        Map {
            map: Map<String, Value>,
            key: Option<(String, Pos, usize)>,
            anchor: usize,
            start: usize,
            dup: Option<usize>,
            /// The current key is a merge key `<<`.
            merging: bool,
            /// Values of the merge keys read so far, with their positions (merged at the end).
            merges: Vec<(Value, Vec<Pos>)>,
            /// Duplicated keys: the last value wins, as on the API server. Per key, the size of the
            /// first entry's positions (still in place) and the positions of the value that won
            /// (key first); the mapping's positions are rebuilt once, when it ends.
            replaced: HashMap<String, (usize, Vec<Pos>)>,
        },
    }

    /// The outcome of reading one raw document (which may hold several YAML documents in odd
    /// cases, such as a `%YAML` directive after content).
    #[derive(Debug)]
    pub enum Parsed {
        /// Comment-only or empty.
        Empty,
        /// A document, with non-fatal issues (duplicate keys).
        Doc(Tree, Vec<Issue>),
        /// A fatal issue: the document could not be read.
        Failed(Issue),
    }

    struct Builder<'l> {
        limits: &'l Limits,
        first_line: usize,
        stack: Vec<Frame>,
        positions: Vec<Pos>,
        anchors: Vec<(usize, Value, usize, usize)>, // id, value, pos start, pos end
        alias_nodes: usize,
        /// Scalar bytes so far, alias expansions included.
        scalar_bytes: usize,
        issues: Vec<Issue>,
        /// serde-saphyr options of the limits, to resolve scalars as it does.
        opts: serde_saphyr::Options,
        /// Scalars resolved by serde-saphyr in this document (at most [`RESOLVED_CACHE`]).
        resolved: HashMap<String, Value>,
        dropped: usize,
        root: Option<Value>,
    }

    /// Scalar bytes of a value: keys and strings by length, other scalars by their text.
    fn value_bytes(v: &Value) -> usize {
        match v {
            Value::Object(m) => m.iter().map(|(k, c)| k.len() + value_bytes(c)).sum(),
            Value::Array(a) => a.iter().map(value_bytes).sum(),
            Value::String(s) => s.len(),
            Value::Number(n) => n.to_string().len(),
            Value::Bool(b) => {
                if *b {
                    4
                } else {
                    5
                }
            }
            Value::Null => 4,
        }
    }

    impl<'l> Builder<'l> {
        /// The path of the node being read, from the open mappings' keys and sequences' lengths
        /// (built only for an issue, so reading a key costs no copy of it).
        fn path(&self) -> Vec<Seg> {
            let mut p = Vec::new();
            for f in &self.stack {
                match f {
                    Frame::Seq { items, .. } => p.push(Seg::Index(items.len())),
                    Frame::Map {
                        key: Some((k, ..)), ..
                    } => p.push(Seg::Key(k.clone())),
                    Frame::Map { key: None, .. } => {}
                }
            }
            p
        }

        fn pos(&self, m: &granit_parser::Marker) -> Pos {
            Pos {
                line: (m.line() + self.first_line - 1) as u32,
                col: (m.col() + 1) as u32,
            }
        }

        fn issue(
            &mut self,
            kind: IssueKind,
            limit: Option<&'static str>,
            message: String,
            pos: Pos,
        ) -> Issue {
            Issue {
                path: self.path(),
                ..Issue::at(kind, limit, message, pos)
            }
        }

        /// Adds a finished node to its parent. Returns Err on a fatal issue.
        fn push_value(&mut self, v: Value) -> Result<(), Issue> {
            match self.stack.last_mut() {
                None => {
                    self.root = Some(v);
                    Ok(())
                }
                Some(Frame::Seq { items, .. }) => {
                    items.push(v);
                    Ok(())
                }
                Some(Frame::Map {
                    map,
                    key,
                    dup,
                    merging,
                    merges,
                    replaced,
                    ..
                }) => {
                    let (k, key_pos, cut) = key.take().expect("value without key");
                    if std::mem::take(merging) {
                        // `<<`: set the value aside (with its positions) until the mapping ends
                        let mergeable = match &v {
                            Value::Object(_) => true,
                            Value::Array(items) => items.iter().all(Value::is_object),
                            _ => false,
                        };
                        if !mergeable {
                            let mut issue = self.issue(
                            IssueKind::Syntax,
                            None,
                            "the value of a merge key `<<` must be a mapping or a list of mappings"
                                .into(),
                            key_pos,
                        );
                            issue.path = self.path();
                            issue.path.push(Seg::Key(k));
                            return Err(issue);
                        }
                        let value_positions = self.positions.split_off(cut + 1);
                        self.positions.truncate(cut);
                        merges.push((v, value_positions));
                    } else if let Some(cut) = dup.take() {
                        // the last value of a duplicated key wins (the API server's decoder keeps the
                        // last): take this entry's positions out, and put them in place of the first
                        // entry's when the mapping ends (one rebuild per mapping, so linear)
                        let positions = self.positions.split_off(cut);
                        match replaced.get_mut(&k) {
                            Some(r) => r.1 = positions,
                            None => {
                                let first = map.get(&k).map_or(0, |f| 1 + value_size(f));
                                replaced.insert(k.clone(), (first, positions));
                            }
                        }
                        map.insert(k, v);
                    } else {
                        map.insert(k, v);
                    }
                    Ok(())
                }
            }
        }

        /// Expands a merge key's value into `map` (YAML 1.1 merge, as go-yaml and serde-saphyr do):
        /// keys the mapping already has win, and of a list of mappings the earlier one wins. Merged
        /// entries keep the positions they were read with (for an alias, the alias's position) and
        /// go after the mapping's own entries, so `positions` stays in pre-order.
        fn merge(&mut self, map: &mut Map<String, Value>, source: Value, positions: &[Pos]) {
            match source {
                Value::Object(m) => self.merge_entries(map, m, &positions[1..]),
                Value::Array(items) => {
                    let mut at = 1;
                    for item in items {
                        let size = value_size(&item);
                        if let Value::Object(m) = item {
                            self.merge_entries(map, m, &positions[at + 1..at + size]);
                        }
                        at += size;
                    }
                }
                _ => {}
            }
        }

        fn merge_entries(
            &mut self,
            map: &mut Map<String, Value>,
            source: Map<String, Value>,
            positions: &[Pos],
        ) {
            let mut at = 0;
            for (k, v) in source {
                let size = value_size(&v);
                if !map.contains_key(&k) {
                    self.positions
                        .extend_from_slice(&positions[at..at + 1 + size]);
                    map.insert(k, v);
                }
                at += 1 + size;
            }
        }

        /// Handles a scalar in key position. Returns true when it was a key.
        /// `merge`: the key is a YAML merge key (plain `<<` or `!!merge <<`).
        fn maybe_key(&mut self, text: &str, pos: Pos, merge: bool) -> bool {
            let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
            if !is_key {
                return false;
            }
            let cut = self.positions.len();
            self.positions.push(pos);
            let duplicate = match self.stack.last() {
                Some(Frame::Map { map, .. }) => !merge && map.contains_key(text),
                _ => false,
            };
            if duplicate && self.issues.len() >= self.limits.max_diagnostics_per_document {
                self.dropped += 1;
            } else if duplicate {
                let mut p = self.path();
                p.push(Seg::Key(text.to_owned()));
                self.issues.push(Issue {
                    kind: IssueKind::DuplicateKey,
                    limit: None,
                    message: format!(
                        "duplicate key `{text}`; the last value is kept, as the API server keeps it"
                    ),
                    pos: Some(pos),
                    path: p,
                    source_line: None,
                });
            }
            if let Some(Frame::Map {
                key, dup, merging, ..
            }) = self.stack.last_mut()
            {
                *key = Some((text.to_owned(), pos, cut));
                *dup = if duplicate { Some(cut) } else { None };
                *merging = merge;
            }
            true
        }

        /// [`resolve_plain`], remembering the scalars serde-saphyr read (a manifest repeats few).
        fn resolve(&mut self, text: &str) -> Result<Value, String> {
            if let Some(v) = self.resolved.get(text) {
                return Ok(v.clone());
            }
            let v = resolve_plain(text, &self.opts)?;
            if self.resolved.len() < RESOLVED_CACHE && !v.is_string() {
                self.resolved.insert(text.to_owned(), v.clone());
            }
            Ok(v)
        }

        fn check_scalar_bytes(&mut self, pos: Pos) -> Result<(), Issue> {
            if self.scalar_bytes <= self.limits.max_scalar_bytes_per_document {
                return Ok(());
            }
            Err(self.issue(
            IssueKind::Limit,
            Some("max_scalar_bytes_per_document"),
            format!(
                "scalars (alias expansions included) exceed the limit of {} bytes per document (an \"alias bomb\"?)",
                self.limits.max_scalar_bytes_per_document
            ),
            pos,
        ))
        }

        fn check_complex_key(&mut self, pos: Pos) -> Result<(), Issue> {
            if self.stack.len() >= self.limits.depth() {
                return Err(self.issue(
                    IssueKind::Limit,
                    Some("max_depth"),
                    format!(
                        "nesting deeper than the limit of {} levels",
                        self.limits.depth()
                    ),
                    pos,
                ));
            }
            if matches!(self.stack.last(), Some(Frame::Map { key: None, .. })) {
                return Err(self.issue(
                    IssueKind::Unsupported,
                    None,
                    "a mapping or sequence used as a mapping key has no JSON equivalent".into(),
                    pos,
                ));
            }
            Ok(())
        }

        fn on_event(&mut self, ev: Event<'_>, span: granit_parser::Span) -> Result<(), Issue> {
            let pos = self.pos(&span.start);
            match ev {
                Event::Scalar(text, style, anchor, tag) => {
                    if text.len() > self.limits.max_scalar_bytes {
                        return Err(self.issue(
                            IssueKind::Limit,
                            Some("max_scalar_bytes"),
                            format!(
                                "scalar of {} bytes is larger than the limit of {} bytes",
                                text.len(),
                                self.limits.max_scalar_bytes
                            ),
                            pos,
                        ));
                    }
                    self.scalar_bytes = self.scalar_bytes.saturating_add(text.len());
                    self.check_scalar_bytes(pos)?;
                    let merge = text == "<<"
                        && match &tag {
                            None => style == ScalarStyle::Plain,
                            Some(t) => {
                                t.suffix_in_namespace("tag:yaml.org,2002:").as_deref()
                                    == Some("merge")
                            }
                        };
                    if self.maybe_key(&text, pos, merge) {
                        if anchor != 0 {
                            let n = self.positions.len();
                            self.anchors
                                .push((anchor, Value::String(text.into_owned()), n - 1, n));
                        }
                        return Ok(());
                    }
                    let v = match &tag {
                        Some(t) => match t.core_suffix() {
                            Some("str") => Value::String(text.into_owned()),
                            Some("null") => Value::Null,
                            Some(suffix) => match resolve_tagged(&text, suffix, &self.opts) {
                                Ok(v) => v,
                                Err(m) => {
                                    return Err(self.issue(IssueKind::Syntax, None, m, pos));
                                }
                            },
                            None => {
                                return Err(self.issue(
                                    IssueKind::Unsupported,
                                    None,
                                    format!("custom tag `{}` has no JSON equivalent", t.original()),
                                    pos,
                                ));
                            }
                        },
                        None if style == ScalarStyle::Plain => match self.resolve(&text) {
                            Ok(v) => v,
                            Err(m) => return Err(self.issue(IssueKind::Syntax, None, m, pos)),
                        },
                        None => Value::String(text.into_owned()),
                    };
                    let start = self.positions.len();
                    self.positions.push(pos);
                    if anchor != 0 {
                        self.anchors.push((anchor, v.clone(), start, start + 1));
                    }
                    self.push_value(v)
                }
                Event::SequenceStart(_, anchor, _) => {
                    self.check_complex_key(pos)?;
                    let start = self.positions.len();
                    self.positions.push(pos);
                    self.stack.push(Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        start,
                    });
                    Ok(())
                }
                Event::SequenceEnd => {
                    if let Some(Frame::Seq {
                        items,
                        anchor,
                        start,
                    }) = self.stack.pop()
                    {
                        let v = Value::Array(items);
                        if anchor != 0 {
                            self.anchors
                                .push((anchor, v.clone(), start, self.positions.len()));
                        }
                        self.push_value(v)?;
                    }
                    Ok(())
                }
                Event::MappingStart(_, anchor, _) => {
                    self.check_complex_key(pos)?;
                    let start = self.positions.len();
                    self.positions.push(pos);
                    self.stack.push(Frame::Map {
                        map: Map::new(),
                        key: None,
                        anchor,
                        start,
                        dup: None,
                        merging: false,
                        merges: Vec::new(),
                        replaced: HashMap::new(),
                    });
                    Ok(())
                }
                Event::MappingEnd => {
                    if let Some(Frame::Map {
                        mut map,
                        anchor,
                        start,
                        merges,
                        replaced,
                        ..
                    }) = self.stack.pop()
                    {
                        if !replaced.is_empty() {
                            // own entries only so far (merges come next): swap each duplicated key's
                            // first positions for those of the value that won
                            let region = self.positions.split_off(start + 1);
                            let mut at = 0;
                            for (k, v) in &map {
                                match replaced.get(k) {
                                    Some((first, won)) => {
                                        self.positions.extend_from_slice(won);
                                        at += first;
                                    }
                                    None => {
                                        let n = 1 + value_size(v);
                                        self.positions.extend_from_slice(&region[at..at + n]);
                                        at += n;
                                    }
                                }
                            }
                        }
                        for (source, positions) in merges {
                            self.merge(&mut map, source, &positions);
                        }
                        let v = Value::Object(map);
                        if anchor != 0 {
                            self.anchors
                                .push((anchor, v.clone(), start, self.positions.len()));
                        }
                        self.push_value(v)?;
                    }
                    Ok(())
                }
                Event::Alias(id) => {
                    let Some(at) = self.anchors.iter().rposition(|a| a.0 == id) else {
                        return Err(self.issue(
                            IssueKind::Syntax,
                            None,
                            "alias to an unknown anchor".into(),
                            pos,
                        ));
                    };
                    let (_, v, s, e) = &self.anchors[at];
                    let (n, bytes) = (e - s, value_bytes(v));
                    self.alias_nodes += n;
                    self.scalar_bytes = self.scalar_bytes.saturating_add(bytes);
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(self.issue(
                        IssueKind::Limit,
                        Some("max_alias_nodes"),
                        format!(
                            "alias expansion exceeds the limit of {} nodes (an \"alias bomb\"?)",
                            self.limits.max_alias_nodes
                        ),
                        pos,
                    ));
                    }
                    self.check_scalar_bytes(pos)?;
                    let v = self.anchors[at].1.clone(); // only now that it is within both budgets
                    if let Some(Value::String(k)) = Some(&v)
                        && self.maybe_key(&k.clone(), pos, false)
                    {
                        return Ok(());
                    }
                    if matches!(self.stack.last(), Some(Frame::Map { key: None, .. })) {
                        return Err(self.issue(
                            IssueKind::Unsupported,
                            None,
                            "a non-string alias used as a key".into(),
                            pos,
                        ));
                    }
                    let size = value_size(&v);
                    debug_assert_eq!(size, n);
                    self.positions.extend(std::iter::repeat_n(pos, size));
                    self.push_value(v)
                }
                _ => Ok(()),
            }
        }
    }

    fn scan_issue(e: &ScanError, first_line: usize, limits: &Limits) -> Issue {
        let m = e.marker();
        // the parser's own nesting check ("recursion limit exceeded") is our depth limit, one
        // level up: say so, and which limit
        let (kind, limit, message) = match e.kind() {
            granit_parser::ErrorKind::RecursionLimitExceeded => (
                IssueKind::Limit,
                Some("max_depth"),
                format!("nesting deeper than the limit of {} levels", limits.depth()),
            ),
            _ => (IssueKind::Syntax, None, e.info()),
        };
        Issue::at(
            kind,
            limit,
            message,
            Pos {
                line: (m.line() + first_line - 1) as u32,
                col: (m.col() + 1) as u32,
            },
        )
    }

    /// Reads one raw document into the YAML documents it holds (normally one), with the
    /// document's issues: never a panic, whatever the text; every limit of `limits` that applies
    /// to one document is enforced (see [`Limits`]).
    pub fn read_document(raw: &RawDocument, limits: &Limits) -> Vec<Parsed> {
        if let Some(issue) = &raw.issue {
            return vec![Parsed::Failed(issue.clone())];
        }
        let saphyr = limits.options();
        let opts = granit_parser::options! {
            // one above ours, so the combined block+flow depth check (a clear SMI1003) fires first
            flow_nesting_limit: limits.depth().saturating_add(1),
            block_nesting_limit: limits.depth().saturating_add(1),
            emit_comments: false,
        };
        let mut docs: Vec<Parsed> = Vec::new();
        {
            let mut parser = Parser::new_from_str_with_options(&raw.text, opts);
            let mut b: Option<Builder<'_>> = None;
            while let Some(next) = parser.next_event() {
                let (ev, span) = match next {
                    Ok(x) => x,
                    Err(e) => {
                        docs.push(Parsed::Failed(scan_issue(&e, raw.first_line, limits)));
                        break;
                    }
                };
                match ev {
                    Event::DocumentStart(..) => {
                        b = Some(Builder {
                            limits,
                            first_line: raw.first_line,
                            stack: Vec::new(),
                            positions: Vec::new(),
                            anchors: Vec::new(),
                            alias_nodes: 0,
                            scalar_bytes: 0,
                            issues: Vec::new(),
                            dropped: 0,
                            root: None,
                            opts: saphyr.clone(),
                            resolved: HashMap::new(),
                        });
                    }
                    Event::DocumentEnd => {
                        if let Some(bd) = b.take() {
                            docs.push(match bd.root {
                                // `---` followed by nothing (or only comments) is a null document
                                None | Some(Value::Null) => Parsed::Empty,
                                Some(v) => Parsed::Doc(
                                    Tree {
                                        value: v,
                                        positions: bd.positions,
                                        dropped_issues: bd.dropped,
                                    },
                                    bd.issues,
                                ),
                            });
                        }
                    }
                    Event::StreamEnd => break,
                    ev => {
                        if let Some(bd) = b.as_mut()
                            && let Err(issue) = bd.on_event(ev, span)
                        {
                            docs.push(Parsed::Failed(issue));
                            b = None;
                            // skip to the end of this document
                            while let Some(Ok((ev, _))) = parser.next_event() {
                                if matches!(ev, Event::DocumentEnd) {
                                    break;
                                }
                            }
                        }
                    }
                }
            }
        }
        for d in &mut docs {
            if let Parsed::Failed(issue) = d
                && let Some(p) = issue.pos
            {
                let rel = (p.line as usize).saturating_sub(raw.first_line);
                issue.source_line = raw
                    .text
                    .lines()
                    .nth(rel)
                    .map(|l| l.trim_end_matches('\r').to_owned());
            }
        }
        docs
    }

    /// Whether serde-saphyr certainly reads this plain scalar as a string: a fast path for the
    /// names most scalars of a manifest are. Conservative (`false` sends the scalar to
    /// serde-saphyr): every value other than a string that serde-saphyr gives a plain scalar is a
    /// null (``, `~`, `null`…), a YAML 1.1 boolean (`y`, `yes`, `on`, `true`… in any case) or a
    /// number, which starts with a digit, a sign or a dot. Tested against serde-saphyr.
    fn surely_a_string(s: &str) -> bool {
        let t = s.trim_matches([' ', '\t', '\r', '\n']);
        let Some(&first) = t.as_bytes().first() else {
            return false;
        };
        if matches!(first, b'0'..=b'9' | b'+' | b'-' | b'.' | b'~') {
            return false;
        }
        !(t.len() <= 5
            && matches!(
                t.to_ascii_lowercase().as_str(),
                "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
            ))
    }

    /// The fast path for the commonest numbers (ports, weights, counts): a decimal integer of at
    /// most 18 digits without a leading zero, sign `-` allowed, is the `u64`/`i64` serde-saphyr
    /// makes of it. Tested against serde-saphyr.
    fn plain_decimal(s: &str) -> Option<Value> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s),
        };
        let b = digits.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 18
            && b.iter().all(u8::is_ascii_digit)
            && (b[0] != b'0' || (b.len() == 1 && !neg));
        if !ok {
            return None;
        }
        let n: u64 = digits.parse().ok()?;
        Some(if neg {
            Value::from(-(n as i64))
        } else {
            Value::from(n)
        })
    }

    fn non_finite(e: &serde_saphyr::Error) -> bool {
        let mut inner = e;
        while let serde_saphyr::Error::WithSnippet { error, .. }
        | serde_saphyr::Error::AliasError { error, .. } = inner
        {
            inner = error;
        }
        matches!(inner, serde_saphyr::Error::NonFiniteFloat { .. })
    }

    /// The value of one scalar read by serde-saphyr in a one-entry document `doc`.
    fn saphyr_scalar(doc: &str, text: &str, opts: &serde_saphyr::Options) -> Result<Value, String> {
        match serde_saphyr::from_str_with_options::<Value>(doc, opts.clone()) {
            Ok(Value::Object(mut m)) => match m.remove("v") {
                Some(v) if !v.is_object() && !v.is_array() => Ok(v),
                _ => Ok(Value::String(text.to_owned())),
            },
            Ok(_) => Ok(Value::String(text.to_owned())),
            Err(e) if non_finite(&e) => Err(format!(
                "`{text}` is not a finite number: JSON, and so the API server, has no value for it (quote it for a string)"
            )),
            Err(e) => Err(format!("`{text}`: {}", e.without_snippet())),
        }
    }

    /// A plain (unquoted, untagged) scalar's value, as serde-saphyr reads it with `opts` (the
    /// options `parse_yaml_stream` uses): serde-saphyr itself resolves every scalar that could be
    /// something other than a string.
    fn resolve_plain(text: &str, opts: &serde_saphyr::Options) -> Result<Value, String> {
        // A scalar with a line break inside (a folded multi-line plain scalar) is no null, boolean
        // or number, and cannot be rewritten on one line.
        if surely_a_string(text) || text.contains(['\n', '\r']) {
            return Ok(Value::String(text.to_owned()));
        }
        if let Some(n) = plain_decimal(text) {
            return Ok(n);
        }
        match saphyr_scalar(&format!("v: {text}\n"), text, opts) {
            Err(m) if !m.contains("not a finite number") => Ok(Value::String(text.to_owned())),
            r => r,
        }
    }

    /// A scalar with a core tag (`!!int`, `!!bool`, `!!float`…) other than `!!str` and `!!null`,
    /// as serde-saphyr reads it.
    fn resolve_tagged(
        text: &str,
        suffix: &str,
        opts: &serde_saphyr::Options,
    ) -> Result<Value, String> {
        let quoted = serde_json::to_string(text).unwrap_or_default();
        saphyr_scalar(&format!("v: !!{suffix} {quoted}\n"), text, opts)
    }

    /// A plain scalar's value as every reader of smi-rs gives it: serde-saphyr's resolution with
    /// the options of `limits` (YAML 1.1 booleans and numbers, as kube-apiserver reads them).
    /// An error for a scalar JSON cannot hold (`.inf`, `.nan`, `1e400`).
    ///
    /// ```
    /// use smi_types::yaml::{Limits, resolve_plain_scalar};
    /// use serde_json::json;
    /// let l = Limits::default();
    /// assert_eq!(resolve_plain_scalar("yes", &l), Ok(json!(true)));
    /// assert_eq!(resolve_plain_scalar("0b101", &l), Ok(json!(5)));
    /// assert_eq!(resolve_plain_scalar("1_000", &l), Ok(json!(1000)));
    /// assert_eq!(resolve_plain_scalar("500m", &l), Ok(json!("500m")));
    /// assert!(resolve_plain_scalar(".inf", &l).is_err());
    /// ```
    pub fn resolve_plain_scalar(text: &str, limits: &Limits) -> Result<Value, String> {
        resolve_plain(text, &limits.options())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn read(s: &str) -> Vec<Parsed> {
            let mut sp = Splitter::new(s.as_bytes(), Limits::default());
            let mut out = Vec::new();
            while let Some(r) = sp.next_doc() {
                out.extend(read_document(&r.unwrap(), &Limits::default()));
            }
            out
        }

        /// Edge cases of plain scalars; serde-saphyr is the reference.
        pub(crate) const TABLE: &[&str] = &[
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
            "YES",
            "oN",
            "N",
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
            "0B101",
            "1_000",
            "1__0",
            "_1",
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
            "-",
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
            "-.nan",
            "inf",
            "nan",
            "Infinity",
            "1e400",
            "-1e400",
            "500m",
            "1Ki",
            "v1",
            "0.1.0",
            "12:30",
            "1:20:30",
            "190:20:30",
            "2001-12-14",
            "0755",
            "08",
            "-0755",
            "0o755",
            "3 4",
            "-x",
            ".x",
            "+x",
            "1x",
            "~x",
            "---",
            "...",
            "- x",
            "yes please",
            "no-op",
            "onwards",
            "Off",
            "nulls",
            "TrUe",
        ];

        #[test]
        fn plain_scalars_resolve_exactly_as_serde_saphyr_does() {
            let limits = Limits::default();
            let mut differ = Vec::new();
            for s in TABLE {
                let doc = format!("v: {s}\n");
                let theirs = serde_saphyr::from_str_with_options::<Value>(&doc, limits.options())
                    .map(|v| v["v"].clone())
                    .ok();
                // through the whole reader: splitter, parser events, resolver
                let ours = match read(&doc).pop() {
                    Some(Parsed::Doc(t, _)) => Some(t.value["v"].clone()),
                    _ => None,
                };
                if theirs != ours {
                    differ.push((s, theirs, ours));
                }
            }
            assert_eq!(differ, vec![]);
        }

        #[test]
        fn the_fast_path_only_takes_strings() {
            let limits = Limits::default();
            for s in TABLE {
                if surely_a_string(s) {
                    let theirs = serde_saphyr::from_str_with_options::<Value>(
                        &format!("v: {s}\n"),
                        limits.options(),
                    );
                    assert!(
                        matches!(&theirs, Ok(v) if v["v"].is_string()),
                        "{s}: {theirs:?}"
                    );
                }
            }
        }

        #[test]
        fn the_decimal_fast_path_gives_what_serde_saphyr_gives() {
            let limits = Limits::default();
            let mut cases: Vec<String> = TABLE.iter().map(|s| (*s).to_owned()).collect();
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for i in 0..2_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = x >> (i % 64);
                cases.push(n.to_string());
                cases.push(format!("-{n}"));
                cases.push(format!("0{n}"));
            }
            cases
                .extend(["0", "-0", "999999999999999999", "-999999999999999999"].map(String::from));
            for s in &cases {
                if let Some(v) = plain_decimal(s) {
                    let theirs: Value =
                        serde_saphyr::from_str_with_options(&format!("v: {s}\n"), limits.options())
                            .unwrap();
                    assert_eq!(v, theirs["v"], "{s}");
                }
            }
            assert_eq!(plain_decimal("8080"), Some(Value::from(8080)));
            assert_eq!(plain_decimal("-3"), Some(Value::from(-3)));
            assert_eq!(plain_decimal("007"), None);
        }

        #[test]
        fn multi_line_plain_scalars_are_strings_as_in_serde_saphyr() {
            for doc in ["v: 1\n\n  2\n", "v: yes\n\n  no\n", "v: .5\n\n\n  e3\n"] {
                let theirs: Value = serde_saphyr::from_str(doc).unwrap();
                let Some(Parsed::Doc(t, _)) = read(doc).pop() else {
                    panic!("{doc}")
                };
                assert_eq!(t.value, theirs, "{doc}");
                assert!(t.value["v"].is_string(), "{doc}");
            }
        }

        #[test]
        fn tagged_scalars_resolve_as_serde_saphyr_does() {
            for doc in [
                "v: !!int \"5\"\n",
                "v: !!float 1\n",
                "v: !!bool yes\n",
                "v: !!str yes\n",
                "v: !!null ''\n",
                "v: !!int 0x1F\n",
            ] {
                let theirs: Value = serde_saphyr::from_str(doc).unwrap();
                let Some(Parsed::Doc(t, _)) = read(doc).pop() else {
                    panic!("{doc}")
                };
                assert_eq!(t.value, theirs, "{doc}");
            }
        }

        #[test]
        fn a_non_finite_number_is_a_located_syntax_issue() {
            let d = read("a: 1\nb:\n  c: .inf\n");
            let Some(Parsed::Failed(i)) = d.first() else {
                panic!("{d:?}")
            };
            assert_eq!(i.kind, IssueKind::Syntax);
            assert_eq!(i.pos, Some(Pos { line: 3, col: 6 }));
            assert_eq!(i.path, vec![Seg::Key("b".into()), Seg::Key("c".into())]);
            assert!(i.message.contains("not a finite number"), "{}", i.message);
        }

        #[test]
        fn the_splitter_indexes_documents_empty_ones_included() {
            let mut sp = Splitter::new(
                "---\n---\na: 1\n---\n# c\n---\nb: 2\n...\n# tail\n".as_bytes(),
                Limits::default(),
            );
            let mut got = Vec::new();
            while let Some(r) = sp.next_doc() {
                let r = r.unwrap();
                got.push((r.index, r.first_line));
            }
            assert_eq!(got, vec![(Some(1), 2), (Some(3), 6), (None, 9)]);
            assert_eq!(sp.documents_started(), 4);
            // a bare document after `...` is a document of its own, counted
            let mut sp = Splitter::new("a: 1\n...\nb: 2\n".as_bytes(), Limits::default());
            let mut got = Vec::new();
            while let Some(r) = sp.next_doc() {
                let r = r.unwrap();
                got.push((r.index, r.first_line, r.text));
            }
            assert_eq!(
                got,
                vec![
                    (Some(0), 1, "a: 1\n...\n".to_owned()),
                    (Some(1), 3, "b: 2\n".to_owned())
                ]
            );
        }

        #[test]
        fn the_document_limit_ends_the_stream_naming_the_limit() {
            let limits = Limits {
                max_documents: 2,
                ..Limits::default()
            };
            let mut sp = Splitter::new("a: 1\n---\nb: 2\n---\nc: 3\n".as_bytes(), limits);
            let mut last = None;
            while let Some(r) = sp.next_doc() {
                last = Some(r.unwrap());
            }
            let last = last.unwrap();
            let issue = last.issue.unwrap();
            assert_eq!(issue.limit, Some("max_documents"));
            assert_eq!(last.index, Some(2));
            assert_eq!(issue.pos, Some(Pos { line: 4, col: 1 }));
        }

        #[test]
        fn positions_count_every_node() {
            let Some(Parsed::Doc(t, issues)) = read("a: [1, {b: yes}]\nc: d\n").pop() else {
                panic!()
            };
            assert!(issues.is_empty());
            assert_eq!(t.positions.len(), node_count(&t.value));
            assert_eq!(t.value["a"][1]["b"], true);
        }
    }
}
