//! The crate's error type for reading and writing SMI documents.

use std::fmt;

/// Where in a YAML stream or JSON text an error is: document index (0-based, counting every
/// document of the stream including empty ones), line and column (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Location {
    /// 0-based document index in the stream (always 0 for JSON).
    pub document: usize,
    /// 1-based line in the whole input (0 = unknown).
    pub line: u32,
    /// 1-based column (0 = unknown).
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {}", self.document)?;
        if self.line > 0 {
            write!(f, ", line {}, column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

fn at(loc: &Option<Location>) -> String {
    loc.map(|l| format!("{l}: ")).unwrap_or_default()
}

/// Everything that can go wrong turning text or a JSON value into SMI objects.
///
/// The validator matches on [`Error::UnknownVersion`] and [`Error::UnknownKind`], whose
/// messages list the known versions or kinds.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid YAML (or a parser limit was hit).
    #[error("{}invalid YAML: {message}", at(location))]
    Yaml {
        /// Where.
        location: Option<Location>,
        /// The parser's message.
        message: String,
    },
    /// The text is not valid JSON.
    #[error("{}invalid JSON: {message}", at(location))]
    Json {
        /// Where.
        location: Option<Location>,
        /// The parser's message.
        message: String,
    },
    /// A configured [`crate::Limits`] value was exceeded.
    #[error("{}limit exceeded: {message}", at(location))]
    Limit {
        /// Where.
        location: Option<Location>,
        /// Which limit.
        message: String,
    },
    /// The document is not a mapping, or lacks `apiVersion` or `kind`.
    #[error("{}not a Kubernetes object: {message}", at(location))]
    NotAnObject {
        /// Where.
        location: Option<Location>,
        /// What is missing.
        message: String,
    },
    /// A Kubernetes object of an API group this crate does not model (asked for as an SMI
    /// object; [`crate::Document::from_value`] makes it [`crate::Document::Other`] instead).
    #[error("{}`{api_version}` `{kind}` is not an SMI object", at(location))]
    NotSmi {
        /// Where.
        location: Option<Location>,
        /// Its `apiVersion`.
        api_version: String,
        /// Its `kind`.
        kind: String,
    },
    /// An SMI group with a version this crate does not know.
    #[error(
        "{}unknown version `{api_version}` of {group} (kind {kind}); known versions: {}",
        at(location),
        known_versions.join(", ")
    )]
    UnknownVersion {
        /// Where.
        location: Option<Location>,
        /// The group (`split.smi-spec.io`).
        group: &'static str,
        /// The `apiVersion` as written.
        api_version: String,
        /// The `kind` as written.
        kind: String,
        /// Known versions of the group (`v1alpha1`, …).
        known_versions: Vec<&'static str>,
    },
    /// A known SMI group/version without this kind.
    #[error(
        "{}unknown kind `{kind}` in {api_version}; known kinds: {}",
        at(location),
        known_kinds.join(", ")
    )]
    UnknownKind {
        /// Where.
        location: Option<Location>,
        /// The `apiVersion`.
        api_version: String,
        /// The `kind` as written.
        kind: String,
        /// Kinds this version has.
        known_kinds: Vec<&'static str>,
    },
    /// The object does not have the shape of its kind and version.
    #[error("{}invalid {kind} ({api_version}): {message}", at(location))]
    Invalid {
        /// Where.
        location: Option<Location>,
        /// The `apiVersion`.
        api_version: String,
        /// The `kind`.
        kind: String,
        /// The deserializer's message (field path and problem).
        message: String,
    },
    /// Serializing failed.
    #[error("cannot serialize: {message}")]
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

impl Error {
    /// The location, when known.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Yaml { location, .. }
            | Error::Json { location, .. }
            | Error::Limit { location, .. }
            | Error::NotAnObject { location, .. }
            | Error::NotSmi { location, .. }
            | Error::UnknownVersion { location, .. }
            | Error::UnknownKind { location, .. }
            | Error::Invalid { location, .. } => *location,
            Error::Serialize { .. } => None,
        }
    }

    #[cfg(feature = "yaml")]
    pub(crate) fn set_location(mut self, loc: Location) -> Self {
        match &mut self {
            Error::Yaml { location, .. }
            | Error::Json { location, .. }
            | Error::Limit { location, .. }
            | Error::NotAnObject { location, .. }
            | Error::NotSmi { location, .. }
            | Error::UnknownVersion { location, .. }
            | Error::UnknownKind { location, .. }
            | Error::Invalid { location, .. } => {
                if location.is_none() {
                    *location = Some(loc)
                }
            }
            Error::Serialize { .. } => {}
        }
        self
    }
}
