//! The diagnostics model: [`Severity`], stable [`Code`]s, [`Diagnostic`] and the [`Report`].

use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifest would be rejected (or is certainly wrong).
    Error,
    /// Valid but probably wrong, or not portable.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $sev:ident, $layer:literal, $title:literal; )*) => {
        /// A stable diagnostic code (`SMI1001` …). The table is in the crate docs and in `CODES.md`.
        ///
        /// Codes never change meaning; new codes may be added.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable identifier, e.g. `"SMI1203"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The default severity of this code (some codes are raised as errors by options such
            /// as `require_refs` or `strict`; the diagnostic carries the effective severity).
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// The validation layer (1 YAML … 6 lints).
            pub fn layer(self) -> u8 {
                match self { $(Code::$variant => $layer,)* }
            }

            /// A one-line title for the code table, SARIF rules and JUnit.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// Looks a code up by its identifier.
            pub fn from_id(id: &str) -> Option<Code> {
                match id { $($code => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    /// Malformed YAML or JSON.
    YamlSyntax = "SMI1001", Error, 1, "YAML syntax error";
    /// A mapping repeats a key.
    DuplicateKey = "SMI1002", Error, 1, "duplicate mapping key";
    /// A configured [`crate::Limits`] value was exceeded.
    LimitExceeded = "SMI1003", Error, 1, "input limit exceeded";
    /// The document is not a mapping (a list or a scalar at the top level).
    NotAnObject = "SMI1004", Error, 1, "document is not a mapping";
    /// A YAML feature that has no JSON equivalent (complex keys, unknown tags).
    UnsupportedYaml = "SMI1005", Error, 1, "YAML feature without JSON equivalent";
    /// Input bytes are not UTF-8, or the file cannot be read.
    Encoding = "SMI1006", Error, 1, "input is not readable UTF-8";
    /// An SMI kind without `apiVersion`, or an SMI apiVersion without `kind`.
    MissingTypeMeta = "SMI1101", Error, 2, "missing apiVersion or kind";
    /// An SMI group with a version this validator does not know.
    UnknownVersion = "SMI1102", Error, 2, "unknown SMI API version";
    /// A kind that does not exist in that SMI group/version.
    UnknownKind = "SMI1103", Error, 2, "unknown kind for this SMI API version";
    /// A `metrics.smi-spec.io` object: served read-only by an extension API server, cannot be applied.
    ReadOnlyApi = "SMI1104", Error, 2, "read-only API object (metrics.smi-spec.io)";
    /// `apiVersion` without its group (`v1alpha1` instead of `specs.smi-spec.io/v1alpha1`).
    ApiVersionWithoutGroup = "SMI1105", Error, 2, "apiVersion lacks the API group";
    /// A kind excluded with `--reject`.
    RejectedKind = "SMI1106", Error, 2, "kind rejected by configuration";
    /// A value has the wrong type.
    WrongType = "SMI1201", Error, 3, "wrong type";
    /// A required field is missing.
    MissingField = "SMI1202", Error, 3, "required field missing";
    /// A value is not one of the allowed values.
    NotInEnum = "SMI1203", Error, 3, "value not allowed";
    /// A field the schema does not know (the API server prunes it); reported with `strict`.
    UnknownField = "SMI1204", Error, 3, "unknown field (pruned by the API server)";
    /// `metadata.name` / `metadata.namespace` missing or not a valid Kubernetes name.
    InvalidName = "SMI1205", Error, 3, "invalid object name or namespace";
    /// A number, length or item count outside the schema's bounds.
    OutOfRange = "SMI1206", Error, 3, "value out of range";
    /// A string does not match the schema's pattern (e.g. a Kubernetes quantity) or format
    /// (`date-time`).
    PatternMismatch = "SMI1207", Error, 3, "value does not match the required pattern";
    /// `metadata` breaks a rule the API server applies to every object: a label key or value,
    /// an annotation key or the annotations' total size (256 KiB), an owner reference, a
    /// finalizer, a timestamp.
    InvalidMetadata = "SMI1208", Error, 3, "invalid metadata (labels, annotations, owner references, finalizers, timestamps)";
    /// A CEL `x-kubernetes-validations` rule of the CRD evaluated to false.
    CelRule = "SMI1301", Error, 4, "CRD validation rule (CEL) failed";
    /// A CEL rule could not be evaluated offline.
    CelUnevaluable = "SMI1302", Warning, 4, "CRD validation rule (CEL) could not be evaluated";
    /// Two HTTPRouteGroup matches share a `name`.
    DuplicateMatchName = "SMI1304", Error, 4, "duplicate match name in HTTPRouteGroup";
    /// A `pathRegex` that does not compile (RE2 syntax).
    InvalidPathRegex = "SMI1305", Error, 4, "pathRegex does not compile";
    /// A header value regex that does not compile.
    InvalidHeaderRegex = "SMI1306", Error, 4, "header value regex does not compile";
    /// A headers list entry with more or less than one key (smi-sdk-go rejects it), or a header
    /// listed twice (the typed headers are a map).
    HeaderEntryShape = "SMI1307", Error, 4, "malformed headers list entry (not one key, or a repeated header)";
    /// A PerformanceTest rule failed.
    PerformanceTest = "SMI1308", Error, 4, "PerformanceTest rule failed";
    /// A TCPRoute/UDPRoute port outside 1–65535.
    InvalidPort = "SMI1309", Error, 4, "port out of range";
    /// A TrafficTarget rule references a route that is not in the input set.
    UnresolvedRoute = "SMI1401", Warning, 5, "route reference not found in the input set";
    /// A TrafficTarget rule names a match the referenced HTTPRouteGroup does not define.
    UnknownMatchName = "SMI1402", Error, 5, "match name not defined by the HTTPRouteGroup";
    /// A TrafficSplit `matches` entry names an HTTPRouteGroup not in the input set.
    UnresolvedSplitMatch = "SMI1403", Warning, 5, "HTTPRouteGroup reference not found in the input set";
    /// A TrafficSplit backend is the apex of another TrafficSplit (splits are not hierarchical).
    HierarchicalSplit = "SMI1404", Warning, 5, "backend is another TrafficSplit's apex";
    /// Two TrafficSplits in one namespace share an apex service.
    DuplicateApex = "SMI1405", Warning, 5, "two TrafficSplits for the same apex service";
    /// A TrafficTarget whose namespace differs from its destination's namespace.
    NamespaceMismatch = "SMI1406", Warning, 5, "TrafficTarget namespace differs from destination namespace";
    /// The same kind/namespace/name appears twice in the input set.
    DuplicateObject = "SMI1407", Warning, 5, "object defined twice";
    /// Every backend weight of a TrafficSplit is zero.
    AllWeightsZero = "SMI1501", Warning, 6, "all TrafficSplit weights are zero";
    /// v1alpha1 weights mixing scales (`1` and `500m`).
    MixedWeightScales = "SMI1502", Warning, 6, "v1alpha1 weights mix quantity scales";
    /// A regex that can never match anything.
    RegexNeverMatches = "SMI1503", Warning, 6, "regex can never match";
    /// `methods` lists `*` together with other methods.
    RedundantMethods = "SMI1504", Warning, 6, "methods lists `*` with other methods";
    /// PerformanceTest with the open load model and no `rps` (an error: perf-api.md B.4 requires
    /// `rps > 0` for the open model).
    OpenModelWithoutRate = "SMI1505", Error, 6, "open load model without rps";
    /// A template placeholder (`$VAR`, `${VAR}`, `<NAME>`) in a value.
    TemplatePlaceholder = "SMI1506", Warning, 6, "template placeholder in a value";
    /// A template placeholder in `metadata.name`/`namespace` (instead of a confusing DNS error).
    PlaceholderInName = "SMI1507", Warning, 6, "template placeholder in a name or namespace";
    /// `headers` in map form, which smi-sdk-go/OSM CRDs (`type: array`) reject (`--target sdk`).
    HeadersMapForm = "SMI1508", Warning, 6, "headers in map form (rejected by smi-sdk-go/OSM CRDs)";
    /// `headers` in list form, which smi-controller-sdk CRDs (`type: object`) reject (`--target controller-sdk`).
    HeadersListForm = "SMI1509", Warning, 6, "headers in list form (rejected by smi-controller-sdk CRDs)";
    /// A TrafficTarget that OSM ignores (no rules or no sources).
    IneffectiveTrafficTarget = "SMI1510", Warning, 6, "TrafficTarget without rules or sources";
    /// A negative or unusual weight total.
    NegativeWeight = "SMI1511", Warning, 6, "negative weight";
    /// IdentityBinding `podLabelSelector` together with `serviceAccount` (the spec text calls them
    /// exclusive; its only example and the CRD accept both).
    ExclusiveSchemes = "SMI1512", Warning, 6, "IdentityBinding podLabelSelector with serviceAccount";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding.
///
/// `line` and `column` are 1-based and count lines of the whole file (not of the document);
/// `document` is the 0-based index of the document in its stream; `path` spells the field as the
/// manifest does (`spec.backends[1].weight`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Effective severity.
    pub severity: Severity,
    /// Stable code.
    pub code: Code,
    /// Plain-words message.
    pub message: String,
    /// File name (`-` or `<stdin>` for standard input).
    pub file: String,
    /// 0-based document index in the stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Field path as the manifest spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How to fix it, where that helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// `Kind/namespace/name` of the object, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The source line the diagnostic points at (for rustc-style rendering).
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no location.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: code.default_severity(),
            code,
            message: message.into(),
            file: String::new(),
            document: None,
            line: None,
            column: None,
            path: None,
            hint: None,
            object: None,
            source_line: None,
        }
    }

    /// Sets the field path.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// `file:line:col` (as much of it as is known).
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}[{}]: {}",
            self.location(),
            self.severity,
            self.code,
            self.message
        )?;
        if let Some(p) = &self.path {
            write!(f, " (at {p})")?;
        }
        Ok(())
    }
}

/// Counts over the whole input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Files (or streams) read.
    pub files: usize,
    /// Non-empty documents seen.
    pub documents: usize,
    /// Documents routed to an SMI kind.
    pub smi_objects: usize,
    /// Documents skipped (not SMI, or `--skip`).
    pub skipped: usize,
    /// Error diagnostics.
    pub errors: usize,
    /// Warning diagnostics.
    pub warnings: usize,
    /// The cross-object rules (layer 5, SMI1401–SMI1407) were not run
    /// ([`crate::Options::skip_cross`], `--no-cross`): references, duplicates and namespaces
    /// across objects are unchecked, not clean. In JSON (`crossObjectSkipped`) only when `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cross_object_skipped: bool,
}

/// The result of a validation run: diagnostics in input order, then cross-object ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// All findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub summary: Summary,
    /// Per-file record (name, documents, SMI objects), used by JUnit/TAP output.
    #[serde(skip)]
    pub files: Vec<FileRecord>,
}

/// What was seen in one input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileRecord {
    /// File name.
    pub name: String,
    /// Non-empty documents.
    pub documents: usize,
    /// SMI objects (`Kind/namespace/name`, document index): all of them with
    /// [`crate::Options::list_objects`], otherwise those with a finding in their document.
    pub objects: Vec<(String, usize)>,
}

impl Report {
    /// `true` when there is no error diagnostic.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// Error diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Warning diagnostics.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Diagnostics with the given code.
    pub fn with_code(&self, code: Code) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(move |d| d.code == code)
    }

    /// Sets the source line of the cross-object diagnostics (layer 5) of `file`, which
    /// [`crate::Validator::finish`] gives only a line and column, from `source`: the text of that
    /// file again. Reads up to the last line needed and keeps only the lines needed.
    ///
    /// # Errors
    /// I/O errors of `source`.
    pub fn fill_source_lines(&mut self, file: &str, mut source: impl BufRead) -> io::Result<()> {
        let wanted =
            |d: &Diagnostic| d.file == file && d.code.layer() == 5 && d.source_line.is_none();
        let mut want: Vec<usize> = self
            .diagnostics
            .iter()
            .filter(|d| wanted(d))
            .filter_map(|d| d.line)
            .collect();
        want.sort_unstable();
        want.dedup();
        let mut lines = HashMap::new();
        let mut buf = Vec::new();
        let mut n = 0;
        for &w in &want {
            while n < w {
                buf.clear();
                if source.read_until(b'\n', &mut buf)? == 0 {
                    break;
                }
                n += 1;
            }
            if n < w {
                break;
            }
            let text = String::from_utf8_lossy(buf.strip_suffix(b"\n").unwrap_or(&buf));
            lines.insert(w, text.trim_end_matches('\r').to_owned());
        }
        for d in self.diagnostics.iter_mut().filter(|d| wanted(d)) {
            d.source_line = d.line.and_then(|l| lines.get(&l).cloned());
        }
        Ok(())
    }

    /// Recomputes the error/warning counts from the diagnostics.
    pub(crate) fn recount(&mut self) {
        self.summary.errors = self.errors().count();
        self.summary.warnings = self.warnings().count();
    }
}
