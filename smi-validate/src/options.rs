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
    /// Do not run the cross-object rules (layer 5, SMI1401–SMI1407; the CLI's `--no-cross`), for
    /// inputs too large to index: no object keeps anything until [`crate::Validator::finish`],
    /// so memory stays constant in the number of objects (with [`Options::list_objects`] off).
    /// The report says so: [`crate::Summary::cross_object_skipped`].
    pub skip_cross: bool,
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
    /// Sets [`Options::skip_cross`].
    ///
    /// ```
    /// use smi_validate::{Options, Validator};
    /// let mut v = Validator::new(Options::new().skip_cross(true));
    /// v.validate_str("a.yaml", "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec: {service: web, matches: [{kind: HTTPRouteGroup, name: missing}], backends: [{service: web-v1, weight: 1}]}\n");
    /// let report = v.finish();
    /// // the unresolved HTTPRouteGroup reference (SMI1403) is not checked, and the report says so
    /// assert!(report.diagnostics.is_empty());
    /// assert!(report.summary.cross_object_skipped);
    /// ```
    pub fn skip_cross(mut self, yes: bool) -> Self {
        self.skip_cross = yes;
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
