//! Shared pieces of the fuzz targets: the seed manifests, a YAML tree that can hold duplicate
//! keys, structure-aware edits driven by [`arbitrary`], and a YAML emitter.
//!
//! The structure-aware targets take a valid seed manifest (one of [`seeds`]), apply a list of
//! arbitrary [`Edit`]s to it (replace, remove or insert keys and values, change a value's type,
//! duplicate a key, swap `apiVersion`/`kind`), print it as YAML in block or flow style and feed
//! the text to the code under test. Starting from a valid manifest keeps the inputs deep inside
//! the validator's layers (structure, CEL, cross-object rules) instead of stopping at syntax.

pub mod conn;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// The checked-in seed manifests (`fuzz/seeds/manifests/*.yaml`), compiled into the targets.
pub const SEED_FILES: &[(&str, &str)] = &[
    (
        "split-v1alpha1",
        include_str!("../seeds/manifests/split-v1alpha1.yaml"),
    ),
    (
        "split-v1alpha2",
        include_str!("../seeds/manifests/split-v1alpha2.yaml"),
    ),
    (
        "split-v1alpha3",
        include_str!("../seeds/manifests/split-v1alpha3.yaml"),
    ),
    (
        "split-v1alpha4",
        include_str!("../seeds/manifests/split-v1alpha4.yaml"),
    ),
    (
        "access-v1alpha1",
        include_str!("../seeds/manifests/access-v1alpha1.yaml"),
    ),
    (
        "access-v1alpha2",
        include_str!("../seeds/manifests/access-v1alpha2.yaml"),
    ),
    (
        "access-v1alpha3",
        include_str!("../seeds/manifests/access-v1alpha3.yaml"),
    ),
    (
        "access-v1alpha4",
        include_str!("../seeds/manifests/access-v1alpha4.yaml"),
    ),
    (
        "specs-v1alpha1",
        include_str!("../seeds/manifests/specs-v1alpha1.yaml"),
    ),
    (
        "specs-v1alpha2",
        include_str!("../seeds/manifests/specs-v1alpha2.yaml"),
    ),
    (
        "specs-v1alpha4",
        include_str!("../seeds/manifests/specs-v1alpha4.yaml"),
    ),
    (
        "perf-test",
        include_str!("../seeds/manifests/perf-test.yaml"),
    ),
    (
        "perf-result",
        include_str!("../seeds/manifests/perf-result.yaml"),
    ),
    (
        "mixed-stream",
        include_str!("../seeds/manifests/mixed-stream.yaml"),
    ),
];

/// Every non-empty document of every seed file, as a [`Node`] tree (parsed once).
pub fn seeds() -> &'static [Node] {
    static SEEDS: OnceLock<Vec<Node>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        for (name, text) in SEED_FILES {
            for doc in text.split("\n---") {
                let v: Value =
                    serde_saphyr::from_str(doc).unwrap_or_else(|e| panic!("seed {name}: {e}"));
                if !v.is_null() {
                    out.push(Node::from_value(&v));
                }
            }
        }
        out
    })
}

/// `apiVersion`s the SMI crates must reject or skip, added to the registry's.
const OTHER_API_VERSIONS: &[&str] = &["split.smi-spec.io/v9", "v1alpha4", "v1", ""];

/// Kinds that are not SMI's, added to the registry's.
const OTHER_KINDS: &[&str] = &["Service", "TestStep", ""];

/// Every `apiVersion` the SMI crates know (from `smi_types::registry`), plus a few that they
/// must reject or skip.
pub fn api_versions() -> &'static [&'static str] {
    static V: OnceLock<Vec<&'static str>> = OnceLock::new();
    V.get_or_init(|| registry_plus(|kv| kv.api_version, OTHER_API_VERSIONS))
}

/// Every SMI kind (from `smi_types::registry`), plus a few others.
pub fn kinds() -> &'static [&'static str] {
    static K: OnceLock<Vec<&'static str>> = OnceLock::new();
    K.get_or_init(|| registry_plus(|kv| kv.kind, OTHER_KINDS))
}

/// One field of every registry entry (each value once, in table order), then `others`.
fn registry_plus(
    field: fn(&smi_types::registry::KindVersion) -> &'static str,
    others: &[&'static str],
) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for kv in smi_types::registry::kind_versions() {
        if !out.contains(&field(kv)) {
            out.push(field(kv));
        }
    }
    out.extend_from_slice(others);
    out
}

/// Field names that occur in SMI objects: inserting these reaches deeper than random strings.
const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "service",
    "backends",
    "weight",
    "matches",
    "apiGroup",
    "destination",
    "sources",
    "rules",
    "specs",
    "port",
    "ports",
    "pathRegex",
    "methods",
    "headers",
    "schemes",
    "podLabelSelector",
    "matchLabels",
    "spiffeIdentities",
    "serviceAccount",
    "group",
    "endpoints",
    "protocol",
    "loadModel",
    "rps",
    "duration",
    "requests",
    "warmup",
    "rampTo",
    "rateShape",
    "steps",
    "connections",
    "maxInFlight",
    "streamsPerConnection",
    "threads",
    "request",
    "method",
    "body",
    "bodyFrom",
    "timeout",
    "contentType",
    "expectBytes",
    "percentiles",
    "histogram",
    "lowestMicros",
    "highestMicros",
    "significantDigits",
    "thresholds",
    "metric",
    "max",
    "min",
    "clients",
    "share",
    "grpc",
    "tls",
    "status",
    "latency",
    "count",
    "requestsTotal",
    "statusCodes",
    "perClient",
    "data",
    "encoding",
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "generation",
    "<<",
    "",
];

/// Strings that mean something to some layer (quantities, regexes, placeholders, durations…).
const STRINGS: &[&str] = &[
    "500m",
    "0m",
    "100",
    "-1",
    "5",
    "1e3",
    "0x1F",
    "web",
    "web-v1",
    "web.shop",
    "default",
    "$NAMESPACE",
    "<NAMESPACE>",
    ".*",
    "[",
    "(?P<x",
    "a{1000000}",
    "\\",
    "GET",
    "*",
    "POST",
    "1m30s",
    "250ms",
    "0s",
    "99999h",
    "0.01",
    "50%",
    "101%",
    "http://127.0.0.1:8080/",
    "tcp://[::1]:1",
    "ftp://x",
    "user-agent",
    "x-debug",
    "ServiceAccount",
    "HTTPRouteGroup",
    "TCPRoute",
    "HdrHistogramV2Deflate",
    "HISTFAAAAB54nJNpmSzMwMDAzQABzFCaEUwwMdgHvHhbW7QAAOVJCvg=",
    "🦀",
    "",
    "\u{0}",
    "null",
    "true",
    "yes",
    "~",
];

/// A YAML node that, unlike [`serde_json::Value`], can hold a mapping with duplicate keys.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (may be non-finite: printed as `.inf`/`.nan`).
    Float(f64),
    /// A string, always printed quoted.
    Str(String),
    /// A scalar printed as is (plain), e.g. `500m`, `yes`, `0o17`.
    Plain(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping; keys may repeat.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Converts a JSON value.
    pub fn from_value(v: &Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => match n.as_u64() {
                    Some(u) => Node::Plain(u.to_string()),
                    None => Node::Float(n.as_f64().unwrap_or(0.0)),
                },
            },
            Value::String(s) => Node::Str(s.clone()),
            Value::Array(a) => Node::Seq(a.iter().map(Node::from_value).collect()),
            Value::Object(m) => Node::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Node::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON: the last value of a duplicated key wins, as in the API server; plain
    /// scalars are read as YAML would read them (number, else string).
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Node::Str(s) => Value::String(s.clone()),
            Node::Plain(s) => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(s.clone())),
            Node::Seq(a) => Value::Array(a.iter().map(Node::to_value).collect()),
            Node::Map(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    out.insert(k.clone(), v.to_value());
                }
                Value::Object(out)
            }
        }
    }

    fn count(&self) -> usize {
        1 + match self {
            Node::Seq(a) => a.iter().map(Node::count).sum(),
            Node::Map(m) => m.iter().map(|(_, v)| v.count()).sum(),
            _ => 0,
        }
    }

    /// The `n`th node in pre-order (`n` is taken modulo the node count).
    fn nth_mut(&mut self, n: usize) -> &mut Node {
        let n = n % self.count();
        self.nth_inner(n)
            .unwrap_or_else(|_| unreachable!("n is below the node count"))
    }

    fn nth_inner(&mut self, n: usize) -> Result<&mut Node, usize> {
        if n == 0 {
            return Ok(self);
        }
        let mut left = n - 1;
        let children: Vec<&mut Node> = match self {
            Node::Seq(a) => a.iter_mut().collect(),
            Node::Map(m) => m.iter_mut().map(|(_, v)| v).collect(),
            _ => return Err(left),
        };
        for c in children {
            match c.nth_inner(left) {
                Ok(found) => return Ok(found),
                Err(rest) => left = rest,
            }
        }
        Err(left)
    }
}

/// A small arbitrary value to put into a manifest.
#[derive(Debug)]
pub enum Leaf {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (biased towards edges).
    Int(i64),
    /// A float.
    Float(f64),
    /// One of [`STRINGS`] (quoted).
    Known(u8),
    /// One of [`STRINGS`] printed plain.
    KnownPlain(u8),
    /// Any string.
    Str(String),
    /// An empty sequence.
    EmptySeq,
    /// An empty mapping.
    EmptyMap,
    /// A copy of another node of the same document.
    CopyOf(u16),
}

impl<'a> Arbitrary<'a> for Leaf {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0..=10u8)? {
            0 => Leaf::Null,
            1 => Leaf::Bool(u.arbitrary()?),
            2 => Leaf::Int(*u.choose(&[
                0,
                1,
                -1,
                100,
                65535,
                65536,
                i32::MAX as i64 + 1,
                i64::MAX,
                i64::MIN,
            ])?),
            3 => Leaf::Int(u.arbitrary()?),
            4 => Leaf::Float(u.arbitrary()?),
            5 | 6 => Leaf::Known(u.arbitrary()?),
            7 => Leaf::KnownPlain(u.arbitrary()?),
            8 => Leaf::Str(u.arbitrary()?),
            9 => u.choose(&[Leaf::EmptySeq, Leaf::EmptyMap])?.clone(),
            _ => Leaf::CopyOf(u.arbitrary()?),
        })
    }
}

impl Clone for Leaf {
    fn clone(&self) -> Self {
        match self {
            Leaf::Null => Leaf::Null,
            Leaf::Bool(b) => Leaf::Bool(*b),
            Leaf::Int(i) => Leaf::Int(*i),
            Leaf::Float(f) => Leaf::Float(*f),
            Leaf::Known(k) => Leaf::Known(*k),
            Leaf::KnownPlain(k) => Leaf::KnownPlain(*k),
            Leaf::Str(s) => Leaf::Str(s.clone()),
            Leaf::EmptySeq => Leaf::EmptySeq,
            Leaf::EmptyMap => Leaf::EmptyMap,
            Leaf::CopyOf(n) => Leaf::CopyOf(*n),
        }
    }
}

impl Leaf {
    fn build(&self, doc: &mut Node) -> Node {
        let pick = |k: u8| STRINGS[k as usize % STRINGS.len()].to_owned();
        match self {
            Leaf::Null => Node::Null,
            Leaf::Bool(b) => Node::Bool(*b),
            Leaf::Int(i) => Node::Int(*i),
            Leaf::Float(f) => Node::Float(*f),
            Leaf::Known(k) => Node::Str(pick(*k)),
            Leaf::KnownPlain(k) => Node::Plain(pick(*k)),
            Leaf::Str(s) => Node::Str(s.clone()),
            Leaf::EmptySeq => Node::Seq(Vec::new()),
            Leaf::EmptyMap => Node::Map(Vec::new()),
            Leaf::CopyOf(n) => doc.nth_mut(*n as usize).clone(),
        }
    }
}

/// A key to insert: a known field name or any string.
#[derive(Debug, Arbitrary)]
pub enum Key {
    /// One of [`FIELDS`].
    Field(u8),
    /// Any string.
    Any(String),
}

impl Key {
    fn build(&self) -> String {
        match self {
            Key::Field(i) => FIELDS[*i as usize % FIELDS.len()].to_owned(),
            Key::Any(s) => s.clone(),
        }
    }
}

/// One structure-aware edit; `at` picks a node in pre-order (modulo the node count).
#[derive(Debug, Arbitrary)]
pub enum Edit {
    /// Replace the node with a leaf.
    Replace { at: u16, with: Leaf },
    /// Remove one entry of a mapping or one item of a sequence (`which` modulo the length).
    Remove { at: u16, which: u8 },
    /// Insert a key into a mapping (or an item into a sequence).
    Insert { at: u16, key: Key, value: Leaf },
    /// Repeat an entry of a mapping (a duplicate key) or an item of a sequence.
    Duplicate { at: u16, which: u8 },
    /// Change the node's type, keeping what can be kept (`"5"` ↔ `5`, `x` → `[x]`, …).
    ChangeType { at: u16, to: u8 },
    /// Set `apiVersion` to one of [`api_versions`].
    ApiVersion(u8),
    /// Set `kind` to one of [`kinds`].
    Kind(u8),
    /// Rename a mapping key.
    RenameKey { at: u16, which: u8, to: Key },
}

/// Applies one edit.
pub fn apply(doc: &mut Node, edit: &Edit) {
    match edit {
        Edit::Replace { at, with } => {
            let new = with.build(doc);
            *doc.nth_mut(*at as usize) = new;
        }
        Edit::Remove { at, which } => match doc.nth_mut(*at as usize) {
            Node::Map(m) if !m.is_empty() => {
                let i = *which as usize % m.len();
                m.remove(i);
            }
            Node::Seq(a) if !a.is_empty() => {
                let i = *which as usize % a.len();
                a.remove(i);
            }
            _ => {}
        },
        Edit::Insert { at, key, value } => {
            let v = value.build(doc);
            match doc.nth_mut(*at as usize) {
                Node::Map(m) => m.push((key.build(), v)),
                Node::Seq(a) => a.push(v),
                _ => {}
            }
        }
        Edit::Duplicate { at, which } => match doc.nth_mut(*at as usize) {
            Node::Map(m) if !m.is_empty() => {
                let e = m[*which as usize % m.len()].clone();
                m.push(e);
            }
            Node::Seq(a) if !a.is_empty() => {
                let e = a[*which as usize % a.len()].clone();
                a.push(e);
            }
            _ => {}
        },
        Edit::ChangeType { at, to } => {
            let n = doc.nth_mut(*at as usize);
            let old = std::mem::replace(n, Node::Null);
            *n = change_type(old, *to);
        }
        Edit::ApiVersion(i) => set_top(
            doc,
            "apiVersion",
            api_versions()[*i as usize % api_versions().len()],
        ),
        Edit::Kind(i) => set_top(doc, "kind", kinds()[*i as usize % kinds().len()]),
        Edit::RenameKey { at, which, to } => {
            if let Node::Map(m) = doc.nth_mut(*at as usize)
                && !m.is_empty()
            {
                let i = *which as usize % m.len();
                m[i].0 = to.build();
            }
        }
    }
}

fn set_top(doc: &mut Node, key: &str, value: &str) {
    if let Node::Map(m) = doc {
        match m.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = Node::Str(value.to_owned()),
            None => m.push((key.to_owned(), Node::Str(value.to_owned()))),
        }
    }
}

fn scalar_text(n: &Node) -> Option<String> {
    Some(match n {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => f.to_string(),
        Node::Str(s) | Node::Plain(s) => s.clone(),
        _ => return None,
    })
}

fn change_type(n: Node, to: u8) -> Node {
    match to % 7 {
        0 => Node::Str(scalar_text(&n).unwrap_or_default()),
        1 => Node::Plain(scalar_text(&n).unwrap_or_else(|| "0".into())),
        2 => match scalar_text(&n).and_then(|s| s.trim_end_matches('m').parse::<i64>().ok()) {
            Some(i) => Node::Int(i),
            None => Node::Int(1),
        },
        3 => Node::Seq(vec![n]),
        4 => match n {
            Node::Seq(a) => Node::Map(
                a.into_iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
            ),
            other => Node::Map(vec![("value".into(), other)]),
        },
        5 => match n {
            Node::Map(m) => Node::Seq(
                m.into_iter()
                    .map(|(k, v)| Node::Map(vec![(k, v)]))
                    .collect(),
            ),
            other => Node::Bool(scalar_text(&other).is_some_and(|s| !s.is_empty())),
        },
        _ => Node::Null,
    }
}

/// A seed plus edits and a printing style: the structure-aware fuzz input.
#[derive(Debug)]
pub struct Mutated {
    /// Index into [`seeds`] (modulo).
    pub seed: u8,
    /// The edits, applied in order.
    pub edits: Vec<Edit>,
    /// Print in flow style (`{a: 1}`) instead of block style.
    pub flow: bool,
}

impl<'a> Arbitrary<'a> for Mutated {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let seed = u.arbitrary()?;
        let flow = u.ratio(1u8, 5)?;
        let n = u.int_in_range(0..=12u8)?;
        let mut edits = Vec::with_capacity(n as usize);
        for _ in 0..n {
            edits.push(u.arbitrary()?);
        }
        Ok(Mutated { seed, edits, flow })
    }
}

impl Mutated {
    /// The edited document.
    pub fn build(&self) -> Node {
        let seeds = seeds();
        let mut doc = seeds[self.seed as usize % seeds.len()].clone();
        for e in &self.edits {
            apply(&mut doc, e);
        }
        doc
    }

    /// The edited document as YAML text.
    pub fn yaml(&self) -> String {
        let doc = self.build();
        if self.flow {
            to_flow_yaml(&doc)
        } else {
            to_block_yaml(&doc)
        }
    }
}

/// A YAML double-quoted scalar (JSON string escapes are valid YAML escapes).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn scalar(n: &Node) -> String {
    match n {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) if f.is_nan() => ".nan".into(),
        Node::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Node::Float(f) => format!("{f:?}"),
        Node::Str(s) => quote(s),
        // Plain text only when it cannot change the document's structure; else quoted.
        Node::Plain(s)
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-+$".contains(&b)) =>
        {
            s.clone()
        }
        Node::Plain(s) => quote(s),
        Node::Seq(_) | Node::Map(_) => unreachable!("not a scalar"),
    }
}

/// Prints in flow style: `{"a": [1, "x"]}`.
pub fn to_flow_yaml(n: &Node) -> String {
    let mut out = String::new();
    flow(n, &mut out);
    out.push('\n');
    out
}

fn flow(n: &Node, out: &mut String) {
    match n {
        Node::Seq(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(v, out);
            }
            out.push(']');
        }
        Node::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", quote(k));
                flow(v, out);
            }
            out.push('}');
        }
        s => out.push_str(&scalar(s)),
    }
}

/// Prints in block style (keys quoted only when needed).
pub fn to_block_yaml(n: &Node) -> String {
    let mut out = String::new();
    match n {
        Node::Seq(a) if !a.is_empty() => block_seq(a, 0, &mut out),
        Node::Map(m) if !m.is_empty() => block_map(m, 0, &mut out),
        other => {
            flow(other, &mut out);
            out.push('\n');
        }
    }
    out
}

fn key_text(k: &str) -> String {
    let plain_ok = k.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        && !matches!(k.to_ascii_lowercase().as_str(), "null" | "true" | "false");
    if plain_ok { k.to_owned() } else { quote(k) }
}

fn block_value(v: &Node, indent: usize, out: &mut String) {
    match v {
        Node::Map(m) if !m.is_empty() => {
            out.push('\n');
            block_map(m, indent + 2, out);
        }
        Node::Seq(a) if !a.is_empty() => {
            out.push('\n');
            block_seq(a, indent, out);
        }
        other => {
            out.push(' ');
            flow(other, out);
            out.push('\n');
        }
    }
}

fn block_map(m: &[(String, Node)], indent: usize, out: &mut String) {
    for (k, v) in m {
        let _ = write!(out, "{:indent$}{}:", "", key_text(k));
        block_value(v, indent, out);
    }
}

fn block_seq(a: &[Node], indent: usize, out: &mut String) {
    for v in a {
        let _ = write!(out, "{:indent$}-", "");
        match v {
            Node::Map(m) if !m.is_empty() => {
                out.push('\n');
                block_map(m, indent + 2, out);
            }
            Node::Seq(s) if !s.is_empty() => {
                out.push('\n');
                block_seq(s, indent + 2, out);
            }
            other => {
                out.push(' ');
                flow(other, out);
                out.push('\n');
            }
        }
    }
}

/// Every seed printed back in block style parses to the same JSON (checked by `smoke.sh`'s
/// unit test run, and by the targets' first call).
pub fn printer_round_trips() -> bool {
    seeds().iter().all(|n| {
        let text = to_block_yaml(n);
        let flow = to_flow_yaml(n);
        let a: Result<Value, _> = serde_saphyr::from_str(&text);
        let b: Result<Value, _> = serde_saphyr::from_str(&flow);
        matches!((a, b), (Ok(a), Ok(b)) if a == n.to_value() && b == n.to_value())
    })
}
