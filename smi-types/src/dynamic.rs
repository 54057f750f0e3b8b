//! Reading any SMI document without knowing its kind up front: [`SmiObject`], [`Document`],
//! [`parse_yaml_stream`], [`parse_json`].
//!
//! ```
//! use smi_types::{Document, SmiObject, parse_yaml_stream};
//! let docs = parse_yaml_stream("
//! apiVersion: split.smi-spec.io/v1alpha4
//! kind: TrafficSplit
//! metadata: {name: canary}
//! spec: {service: web, backends: [{service: web-v1, weight: 90}, {service: web-v2, weight: 10}]}
//! ---
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web}
//! ").unwrap();
//! let Document::Smi(obj) = &docs[0] else { panic!() };
//! assert_eq!(obj.kind(), "TrafficSplit");
//! assert_eq!(obj.name(), Some("canary"));
//! assert!(matches!(&docs[1], Document::Other { kind, .. } if kind == "Service"));
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::error::{Error, Location};
pub use crate::registry::SmiObject;
use crate::registry::{self, Decode, RouteError};
pub use crate::yaml::Limits;
use crate::{access, metrics, perf, specs, split};

/// The API groups this crate knows; any other `apiVersion` is [`Document::Other`].
/// The same as [`registry::groups`].
pub const SMI_GROUPS: &[&str] = &[
    access::GROUP,
    specs::GROUP,
    split::GROUP,
    metrics::GROUP,
    perf::GROUP,
];

fn with_type_meta(v: serde_json::Value, api_version: &str, kind: &str) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut out = serde_json::Map::with_capacity(m.len() + 2);
            out.insert("apiVersion".into(), api_version.into());
            out.insert("kind".into(), kind.into());
            for (k, v) in m {
                if k != "apiVersion" && k != "kind" {
                    out.insert(k, v);
                }
            }
            serde_json::Value::Object(out)
        }
        other => other,
    }
}

struct FromValue(serde_json::Value);

impl Decode for FromValue {
    type Error = String;
    fn decode<T: DeserializeOwned>(self) -> Result<T, String> {
        serde_json::from_value(self.0).map_err(|e| e.to_string())
    }
}

struct FromJson<'a>(&'a str);

impl Decode for FromJson<'_> {
    type Error = serde_json::Error;
    fn decode<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0)
    }
}

#[cfg(feature = "yaml")]
struct FromYaml<'a>(&'a str, serde_saphyr::Options);

#[cfg(feature = "yaml")]
impl Decode for FromYaml<'_> {
    type Error = serde_saphyr::Error;
    fn decode<T: DeserializeOwned>(self) -> Result<T, serde_saphyr::Error> {
        serde_saphyr::from_str_with_options(self.0, self.1)
    }
}

impl SmiObject {
    /// The object as a JSON value (with `apiVersion` and `kind` filled in).
    pub fn to_value(&self) -> serde_json::Value {
        with_type_meta(self.to_json(), self.api_version(), self.kind())
    }

    fn decode_value(
        api_version: &str,
        kind: &str,
        v: serde_json::Value,
    ) -> Option<Result<SmiObject, String>> {
        SmiObject::decode(api_version, kind, FromValue(v))
    }

    #[cfg(feature = "yaml")]
    fn decode_yaml(
        api_version: &str,
        kind: &str,
        src: &str,
        opts: serde_saphyr::Options,
    ) -> Option<Result<SmiObject, serde_saphyr::Error>> {
        SmiObject::decode(api_version, kind, FromYaml(src, opts))
    }

    fn decode_json(
        api_version: &str,
        kind: &str,
        src: &str,
    ) -> Option<Result<SmiObject, serde_json::Error>> {
        SmiObject::decode(api_version, kind, FromJson(src))
    }
}

/// group → version → kinds, for every kind this crate knows.
///
/// ```
/// let t = smi_types::known_api_versions();
/// assert_eq!(t["specs.smi-spec.io"]["v1alpha4"], vec!["HTTPRouteGroup", "TCPRoute", "UDPRoute"]);
/// ```
pub fn known_api_versions() -> BTreeMap<&'static str, BTreeMap<&'static str, Vec<&'static str>>> {
    let mut out: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for kv in registry::kind_versions() {
        out.entry(kv.group)
            .or_default()
            .entry(kv.version)
            .or_default()
            .push(kv.kind);
    }
    out
}

/// One document of a stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    /// An SMI object.
    Smi(Box<SmiObject>),
    /// A Kubernetes object of another API group (Service, Role, …), or a mapping with neither
    /// `apiVersion` nor `kind` (empty strings then), kept as JSON. A mapping with only one of
    /// the two is an [`Error::NotAnObject`].
    Other {
        /// Its `apiVersion`.
        api_version: String,
        /// Its `kind`.
        kind: String,
        /// The whole object.
        value: serde_json::Value,
    },
    /// An empty (or `null`) document.
    Empty,
}

/// Checks `apiVersion`/`kind` of a JSON object: `Ok(None)` for a non-SMI object (or a mapping
/// with neither `apiVersion` nor `kind`),
/// `Ok(Some((apiVersion, kind)))` for a known SMI kind, else the routing error.
fn route(value: &serde_json::Value) -> Result<Option<(String, String)>, Error> {
    let obj = value.as_object().ok_or_else(|| Error::NotAnObject {
        location: None,
        message: "the document is not a mapping".into(),
    })?;
    let field = |name: &str| -> Result<String, Error> {
        match obj.get(name) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(Error::NotAnObject {
                location: None,
                message: format!("`{name}` is not a non-empty string"),
            }),
            None => Err(Error::NotAnObject {
                location: None,
                message: format!("`{name}` is missing"),
            }),
        }
    };
    if !obj.contains_key("kind") && !obj.contains_key("apiVersion") {
        return Ok(None);
    }
    let kind = field("kind")?;
    let api_version = field("apiVersion")?;
    match registry::route(&api_version, &kind) {
        Ok(None) => return Ok(None),
        Ok(Some(_)) => {}
        Err(RouteError::UnknownVersion { group, known, .. }) => {
            return Err(Error::UnknownVersion {
                location: None,
                group,
                api_version,
                kind,
                known_versions: known,
            });
        }
        Err(RouteError::UnknownKind { known, .. }) => {
            return Err(Error::UnknownKind {
                location: None,
                known_kinds: known,
                api_version,
                kind,
            });
        }
    }
    Ok(Some((api_version, kind)))
}

impl SmiObject {
    /// Reads an SMI object from a JSON value, routed by `apiVersion` and `kind`.
    ///
    /// An SMI group with an unknown version is [`Error::UnknownVersion`] (listing the known
    /// versions), a known version without the kind is [`Error::UnknownKind`] (listing the kinds),
    /// a non-SMI group (or a mapping with neither field) is [`Error::NotSmi`], a value that is not
    /// a mapping or has only one of `apiVersion`/`kind` is [`Error::NotAnObject`].
    ///
    /// ```
    /// use serde_json::json;
    /// let o = smi_types::SmiObject::from_value(json!({
    ///     "apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute",
    ///     "metadata": {"name": "db"}, "spec": {"matches": {"ports": [5432]}}})).unwrap();
    /// assert_eq!(o.api_version(), "specs.smi-spec.io/v1alpha4");
    /// let e = smi_types::SmiObject::from_value(json!({"apiVersion": "split.smi-spec.io/v9", "kind": "TrafficSplit"})).unwrap_err();
    /// assert!(e.to_string().contains("known versions: v1alpha1, v1alpha2, v1alpha3, v1alpha4"));
    /// ```
    pub fn from_value(value: serde_json::Value) -> Result<SmiObject, Error> {
        let Some((api_version, kind)) = route(&value)? else {
            return Err(Error::NotSmi {
                location: None,
                api_version: value["apiVersion"].as_str().unwrap_or_default().to_owned(),
                kind: value["kind"].as_str().unwrap_or_default().to_owned(),
            });
        };
        match SmiObject::decode_value(&api_version, &kind, value) {
            Some(Ok(o)) => Ok(o),
            Some(Err(message)) => Err(Error::Invalid {
                location: None,
                api_version,
                kind,
                message,
            }),
            None => Err(Error::UnknownKind {
                location: None,
                api_version,
                kind,
                known_kinds: vec![],
            }),
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.metadata()?.name.as_deref()
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata()?.namespace.as_deref()
    }

    #[cfg(feature = "yaml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
    /// The object as YAML (one document, no `---`), `apiVersion` and `kind` first.
    ///
    /// ```
    /// use smi_types::split::v1alpha4::*;
    /// let o = smi_types::SmiObject::TrafficSplitV1alpha4(TrafficSplit::new("c", TrafficSplitSpec::new("web").backend("v1", 1)));
    /// assert!(o.to_yaml().unwrap().starts_with("apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\n"));
    /// ```
    pub fn to_yaml(&self) -> Result<String, Error> {
        serde_saphyr::to_string(&self.to_value()).map_err(|e| Error::Serialize {
            message: e.to_string(),
        })
    }
}

#[cfg(feature = "yaml")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
/// Writes documents as one YAML stream (`---` between documents).
///
/// ```
/// let docs = smi_types::parse_yaml_stream("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n").unwrap();
/// assert!(smi_types::to_yaml_stream(&docs).unwrap().contains("kind: Service"));
/// ```
pub fn to_yaml_stream(docs: &[Document]) -> Result<String, Error> {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match d {
            Document::Smi(o) => out.push_str(&o.to_yaml()?),
            Document::Other { value, .. } => out.push_str(
                &serde_saphyr::to_string(value).map_err(|e| Error::Serialize {
                    message: e.to_string(),
                })?,
            ),
            Document::Empty => {}
        }
    }
    Ok(out)
}

impl Document {
    /// Classifies a JSON value: null → `Empty`, SMI group → `Smi`, else `Other`.
    pub fn from_value(value: serde_json::Value) -> Result<Document, Error> {
        if value.is_null() {
            return Ok(Document::Empty);
        }
        match route(&value)? {
            None => Ok(Document::Other {
                api_version: value["apiVersion"].as_str().unwrap_or_default().to_owned(),
                kind: value["kind"].as_str().unwrap_or_default().to_owned(),
                value,
            }),
            Some(_) => SmiObject::from_value(value).map(|o| Document::Smi(Box::new(o))),
        }
    }

    /// The document as JSON (`null` for `Empty`).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Document::Smi(o) => o.to_value(),
            Document::Other { value, .. } => value.clone(),
            Document::Empty => serde_json::Value::Null,
        }
    }
}

#[cfg(feature = "yaml")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
/// Parses a YAML stream with the default [`Limits`]; the first bad document fails the call.
/// See [`parse_yaml_documents`] to get one result per document.
pub fn parse_yaml_stream(input: &str) -> Result<Vec<Document>, Error> {
    parse_yaml_stream_with(input, &Limits::default())
}

#[cfg(feature = "yaml")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
/// [`parse_yaml_stream`] with explicit limits.
pub fn parse_yaml_stream_with(input: &str, limits: &Limits) -> Result<Vec<Document>, Error> {
    parse_yaml_documents(input, limits)?.into_iter().collect()
}

#[cfg(feature = "yaml")]
#[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
/// Parses a YAML stream into one result per document. The outer error is for the stream as a
/// whole (input size, document count); inner errors carry the document index, line and column.
///
/// ```
/// let docs = smi_types::parse_yaml_documents("kind: X\n---\napiVersion: v1\nkind: Service\n", &Default::default()).unwrap();
/// let err = docs[0].as_ref().unwrap_err();
/// assert_eq!(err.location().unwrap().document, 0);
/// assert!(docs[1].is_ok());
/// ```
pub fn parse_yaml_documents(
    input: &str,
    limits: &Limits,
) -> Result<Vec<Result<Document, Error>>, Error> {
    if input.len() > limits.max_input_bytes {
        return Err(Error::Limit {
            location: None,
            message: format!(
                "input is {} bytes, more than max_input_bytes = {}",
                input.len(),
                limits.max_input_bytes
            ),
        });
    }
    // the input is bounded as a whole by `max_input_bytes`; `max_document_bytes` is the bound
    // of streaming readers, which never hold the whole input
    let mut whole = *limits;
    whole.max_document_bytes = limits.max_input_bytes;
    let mut split = crate::yaml::Splitter::new(input.as_bytes(), whole);
    let opts = limits.options();
    let mut out: Vec<Result<Document, Error>> = Vec::new();
    while let Some(raw) = split.next_doc() {
        // reading from a `&str` cannot fail
        let Ok(raw) = raw else { break };
        let Some(index) = raw.index else { continue };
        if let Some(issue) = &raw.issue
            && issue.limit == Some("max_documents")
        {
            return Err(Error::Limit {
                location: Some(Location {
                    document: index,
                    line: line_u32(raw.first_line as u64),
                    column: 1,
                }),
                message: format!(
                    "more than max_documents = {} documents",
                    limits.max_documents
                ),
            });
        }
        // empty documents before this one (the splitter counts them, and returns none)
        out.resize_with(index, || Ok(Document::Empty));
        out.push(parse_raw(&raw, index, limits, &opts));
    }
    out.resize_with(split.documents_started(), || Ok(Document::Empty));
    Ok(out)
}

#[cfg(feature = "yaml")]
/// One document of [`parse_yaml_documents`]: a splitter issue (too large) as an error, else
/// decoded by serde-saphyr.
fn parse_raw(
    raw: &crate::yaml::RawDocument,
    index: usize,
    limits: &Limits,
    opts: &serde_saphyr::Options,
) -> Result<Document, Error> {
    let location = |pos: Option<crate::yaml::Pos>| {
        Some(Location {
            document: index,
            line: pos.map_or(line_u32(raw.first_line as u64), |p| p.line),
            column: pos.map_or(1, |p| p.col),
        })
    };
    if let Some(issue) = &raw.issue {
        return Err(match issue.limit {
            Some(field) => Error::Limit {
                location: location(issue.pos),
                message: format!("{} ({field})", issue.message),
            },
            None => Error::Yaml {
                location: location(issue.pos),
                message: issue.message.clone(),
            },
        });
    }
    let chunk = Chunk {
        line: (raw.first_line as u64).saturating_sub(1),
        text: &raw.text,
        has_content: has_content(&raw.text),
    };
    parse_chunk(index, &chunk, limits, opts)
}

#[cfg(feature = "yaml")]
struct Chunk<'a> {
    /// 0-based line of the chunk's first line in the input.
    line: u64,
    text: &'a str,
    has_content: bool,
}

#[cfg(feature = "yaml")]
/// Whether a document's text has content: a line other than blanks, comments, directives and
/// document markers (or content after a `---` on its line).
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let marker = |m: &str| {
            line.starts_with(m) && line[3..].chars().next().is_none_or(char::is_whitespace)
        };
        let line = if marker("---") {
            &line[3..]
        } else if marker("...") || line.starts_with('%') {
            ""
        } else {
            line
        };
        let t = line.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

fn line_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(feature = "yaml")]
/// Names the [`Limits`] field behind a serde-saphyr budget or alias error, if it is one.
fn limit_message(e: &serde_saphyr::Error, limits: &Limits) -> Option<String> {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let mut inner = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = inner {
        inner = error;
    }
    let depth = || format!("nesting is deeper than max_depth = {}", limits.max_depth);
    Some(match inner {
        E::Budget { breach, .. } => match breach {
            B::Depth { .. } => depth(),
            B::Nodes { .. } => format!(
                "more than max_nodes_per_document = {} nodes",
                limits.max_nodes_per_document
            ),
            B::Aliases { .. } => format!(
                "more than max_aliases_per_document = {} aliases",
                limits.max_aliases_per_document
            ),
            B::Anchors { .. } => format!(
                "more than max_anchors_per_document = {} anchors",
                limits.max_anchors_per_document
            ),
            B::ScalarBytes { .. } => {
                format!(
                    "scalars exceed max_scalar_bytes_per_document = {} bytes",
                    limits.max_scalar_bytes_per_document
                )
            }
            B::AliasAnchorRatio { .. } => {
                "alias expansion out of proportion to anchors (alias bomb)".to_owned()
            }
            other => format!("parser budget breached: {other:?}"),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => {
            format!(
                "alias expansion exceeds max_alias_expansion_events = {} events",
                limits.max_alias_expansion_events
            )
        }
        other if other.to_string().contains("recursion limit exceeded") => depth(),
        _ => return None,
    })
}

#[cfg(feature = "yaml")]
fn yaml_error(index: usize, line_offset: u64, e: &serde_saphyr::Error, limits: &Limits) -> Error {
    let location = Some(
        e.location()
            .map(|l| Location {
                document: index,
                line: line_u32(l.line() + line_offset),
                column: line_u32(l.column()),
            })
            .unwrap_or(Location {
                document: index,
                line: line_u32(line_offset + 1),
                column: 0,
            }),
    );
    match limit_message(e, limits) {
        Some(message) => Error::Limit { location, message },
        None => Error::Yaml {
            location,
            message: strip_location(&e.without_snippet().to_string()),
        },
    }
}

/// serde-saphyr (serde_json) end messages with " at line L, column C" (" at line L column C"), relative to the document it parsed;
/// our [`Location`] carries the stream-relative position instead.
fn strip_location(message: &str) -> String {
    if let Some(i) = message.rfind(" at line ") {
        let tail = &message[i + " at line ".len()..];
        if let Some((line, column)) = tail
            .split_once(", column ")
            .or_else(|| tail.split_once(" column "))
            && line.bytes().all(|b| b.is_ascii_digit())
            && column.bytes().all(|b| b.is_ascii_digit())
        {
            return message[..i].to_owned();
        }
    }
    message.to_owned()
}

#[cfg(feature = "yaml")]
fn parse_chunk(
    index: usize,
    chunk: &Chunk<'_>,
    limits: &Limits,
    opts: &serde_saphyr::Options,
) -> Result<Document, Error> {
    let doc_start = Location {
        document: index,
        line: line_u32(chunk.line + 1),
        column: 1,
    };
    if !chunk.has_content {
        return Ok(Document::Empty);
    }
    let value: serde_json::Value = serde_saphyr::from_str_with_options(chunk.text, opts.clone())
        .map_err(|e| yaml_error(index, chunk.line, &e, limits))?;
    if value.is_null() {
        return Ok(Document::Empty);
    }
    match route(&value).map_err(|e| e.set_location(doc_start))? {
        None => Document::from_value(value).map_err(|e| e.set_location(doc_start)),
        Some((api_version, kind)) => {
            match SmiObject::decode_yaml(&api_version, &kind, chunk.text, opts.clone()) {
                Some(Ok(o)) => Ok(Document::Smi(Box::new(o))),
                Some(Err(e)) => {
                    let inner = yaml_error(index, chunk.line, &e, limits);
                    let (location, message) = match inner {
                        Error::Yaml { location, message } => (location, message),
                        other => return Err(other),
                    };
                    Err(Error::Invalid {
                        location,
                        api_version,
                        kind,
                        message: strip_location(&message),
                    })
                }
                None => Err(Error::UnknownKind {
                    location: Some(doc_start),
                    api_version,
                    kind,
                    known_kinds: vec![],
                }),
            }
        }
    }
}

/// serde_json's nesting limit when parsing (not configurable without its `unbounded_depth`
/// feature); [`parse_json`] names it in its error.
const JSON_MAX_DEPTH: usize = 128;

/// Parses one JSON document; errors carry line and column. Nesting deeper than serde_json's
/// limit of 128 levels is an [`Error::Limit`] naming it.
///
/// ```
/// let d = smi_types::parse_json(r#"{"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit",
///   "metadata":{"name":"a"},"spec":{"service":"web","backends":[{"service":"v1","weight":1}]}}"#).unwrap();
/// assert!(matches!(d, smi_types::Document::Smi(_)));
/// let e = smi_types::parse_json(r#"{"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit",
///   "spec":{"service":"web","backends":[{"service":"v1","weight":"x"}]}}"#).unwrap_err();
/// assert_eq!(e.location().unwrap().line, 2);
/// ```
pub fn parse_json(input: &str) -> Result<Document, Error> {
    let json_err = |e: serde_json::Error| Location {
        document: 0,
        line: line_u32(e.line() as u64),
        column: line_u32(e.column() as u64),
    };
    let value: serde_json::Value = serde_json::from_str(input).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            // serde_json's own guard against stack exhaustion; say which limit it is
            return Error::Limit {
                message: format!(
                    "nesting is deeper than serde_json's limit of {JSON_MAX_DEPTH} levels"
                ),
                location: Some(json_err(e)),
            };
        }
        Error::Json {
            message: strip_location(&e.to_string()),
            location: Some(json_err(e)),
        }
    })?;
    if value.is_null() {
        return Ok(Document::Empty);
    }
    match route(&value)? {
        None => Document::from_value(value),
        Some((api_version, kind)) => match SmiObject::decode_json(&api_version, &kind, input) {
            Some(Ok(o)) => Ok(Document::Smi(Box::new(o))),
            Some(Err(e)) => Err(Error::Invalid {
                message: strip_location(&e.to_string()),
                location: Some(json_err(e)),
                api_version,
                kind,
            }),
            None => Err(Error::UnknownKind {
                location: None,
                api_version,
                kind,
                known_kinds: vec![],
            }),
        },
    }
}
