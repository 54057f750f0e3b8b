//! Validation options.

pub use crate::yaml::Limits;

/// Which CRD flavour the manifests are meant for; selects portability lints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Target {
    /// Accept every wire form in use (default).
    #[default]
    Any,
    /// smi-sdk-go CRDs and their copies (OSM, Traefik): `headers` must be a list.
    Sdk,
    /// smi-controller-sdk CRDs: `headers` must be a map.
    ControllerSdk,
}

/// How to validate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Report unknown fields (which the API server prunes) as errors.
    pub strict: bool,
    /// References to objects outside the input set are errors, not warnings.
    pub require_refs: bool,
    /// Kinds to skip (not validated, counted as skipped).
    pub skip_kinds: Vec<String>,
    /// Kinds to reject (an error when present).
    pub reject_kinds: Vec<String>,
    /// Portability target.
    pub target: Target,
    /// Input limits.
    pub limits: Limits,
    /// Do not evaluate CEL rules.
    pub skip_cel: bool,
    /// List every SMI object in [`crate::FileRecord::objects`], valid ones included (the JUnit
    /// and TAP outputs give each its test case). Off, only objects with a finding in their own
    /// document are listed, so a valid object leaves nothing in the report.
    pub list_objects: bool,
}

impl Options {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`Options::strict`].
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }
    /// Sets [`Options::require_refs`].
    pub fn require_refs(mut self, yes: bool) -> Self {
        self.require_refs = yes;
        self
    }
    /// Sets [`Options::target`].
    pub fn target(mut self, t: Target) -> Self {
        self.target = t;
        self
    }
    /// Sets [`Options::limits`].
    pub fn limits(mut self, l: Limits) -> Self {
        self.limits = l;
        self
    }
    /// Sets [`Options::list_objects`].
    pub fn list_objects(mut self, yes: bool) -> Self {
        self.list_objects = yes;
        self
    }
    /// Adds kinds to skip.
    pub fn skip<I: IntoIterator<Item = S>, S: Into<String>>(mut self, kinds: I) -> Self {
        self.skip_kinds.extend(kinds.into_iter().map(Into::into));
        self
    }
    /// Adds kinds to reject.
    pub fn reject<I: IntoIterator<Item = S>, S: Into<String>>(mut self, kinds: I) -> Self {
        self.reject_kinds.extend(kinds.into_iter().map(Into::into));
        self
    }
}
