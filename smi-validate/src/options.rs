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

/// What to do with a field the schema does not know (SMI1204) and with a duplicated field
/// (SMI1002), as the API server's `fieldValidation` parameter does. The default is
/// [`FieldValidation::Strict`], what `kubectl apply` sends by default since Kubernetes 1.27, so
/// a default run gives the verdict of a default `kubectl apply`.
///
/// ```
/// use smi_validate::{FieldValidation, Options, validate_str};
/// let tt = "apiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n  destination: {kind: ServiceAccount, name: a, namespace: d, port: 8080}\n  rules: [{kind: HTTPRouteGroup, name: r}]\n  sources: [{kind: ServiceAccount, name: b, namespace: d}]\n";
/// // v1alpha3 has no destination.port: kubectl apply (Strict) refuses the object
/// assert!(!validate_str("tt.yaml", tt, &Options::new()).is_valid());
/// // Warn: the server prunes the field and answers with a warning
/// let warn = validate_str("tt.yaml", tt, &Options::new().field_validation(FieldValidation::Warn));
/// let unknown = |r: &smi_validate::Report| r.diagnostics.iter().filter(|d| d.code == smi_validate::Code::UnknownField).count();
/// assert!(warn.is_valid() && unknown(&warn) == 1);
/// // Ignore: pruned silently
/// let ignore = validate_str("tt.yaml", tt, &Options::new().field_validation(FieldValidation::Ignore));
/// assert!(ignore.is_valid() && unknown(&ignore) == 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FieldValidation {
    /// Unknown and duplicate fields are errors (the API server refuses the request).
    #[default]
    Strict,
    /// Unknown and duplicate fields are warnings (the server prunes unknown fields and accepts).
    Warn,
    /// Unknown and duplicate fields are not reported (the server prunes silently).
    Ignore,
}

impl std::str::FromStr for FieldValidation {
    type Err = String;
    /// `strict`, `warn` or `ignore` (case-insensitive), as kubectl's `--validate` values.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "strict" | "true" => Ok(FieldValidation::Strict),
            "warn" => Ok(FieldValidation::Warn),
            "ignore" | "false" => Ok(FieldValidation::Ignore),
            _ => Err(format!(
                "unknown field validation {s:?} (expected strict, warn or ignore)"
            )),
        }
    }
}

/// How to validate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Unknown and duplicate fields: errors (default), warnings or not reported.
    pub field_validation: FieldValidation,
    /// References to objects outside the input set are errors, not warnings.
    pub require_refs: bool,
    /// Kinds to skip (not validated, counted as skipped): kind selectors, see
    /// [`check_kind_selector`].
    pub skip_kinds: Vec<String>,
    /// Kinds to reject (an error when present): kind selectors, see [`check_kind_selector`].
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
    /// Sets [`Options::field_validation`].
    pub fn field_validation(mut self, f: FieldValidation) -> Self {
        self.field_validation = f;
        self
    }
    /// `true`: [`FieldValidation::Strict`] (the default); `false`: [`FieldValidation::Warn`].
    pub fn strict(mut self, yes: bool) -> Self {
        self.field_validation = if yes {
            FieldValidation::Strict
        } else {
            FieldValidation::Warn
        };
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

/// Checks one `--skip`/`--reject` selector against the SMI kinds `smi-types` knows.
///
/// A selector is `Kind` (every version of that kind), `group/Kind` (every version in that
/// group) or `group/version/Kind` (one apiVersion), e.g. `TrafficSplit`,
/// `split.smi-spec.io/TrafficSplit`, `split.smi-spec.io/v1alpha2/TrafficSplit`. A selector
/// that matches nothing is an error naming what would: a typo must not silently skip or reject
/// nothing.
///
/// ```
/// use smi_validate::check_kind_selector;
/// assert!(check_kind_selector("TrafficSplit").is_ok());
/// assert!(check_kind_selector("split.smi-spec.io/v1alpha2/TrafficSplit").is_ok());
/// let e = check_kind_selector("TraficSplit").unwrap_err();
/// assert!(e.contains("unknown SMI kind") && e.contains("TrafficSplit"), "{e}");
/// assert!(check_kind_selector("split.smi-spec.io/v1beta1/TrafficSplit").is_err());
/// ```
pub fn check_kind_selector(selector: &str) -> Result<(), String> {
    let table = smi_types::known_api_versions();
    let all_kinds = || {
        let mut k: Vec<&str> = table
            .values()
            .flat_map(|v| v.values().flatten().copied())
            .collect();
        k.sort_unstable();
        k.dedup();
        k.join(", ")
    };
    let parts: Vec<&str> = selector.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [k] => (None, None, *k),
        [g, k] => (Some(*g), None, *k),
        [g, v, k] => (Some(*g), Some(*v), *k),
        _ => {
            return Err(format!(
                "{selector:?}: expected Kind, group/Kind or group/version/Kind"
            ));
        }
    };
    if kind.is_empty() || group.is_some_and(str::is_empty) || version.is_some_and(str::is_empty) {
        return Err(format!(
            "{selector:?}: expected Kind, group/Kind or group/version/Kind"
        ));
    }
    if let Some(g) = group {
        let Some(versions) = table.get(g) else {
            let groups: Vec<&str> = table.keys().copied().collect();
            return Err(format!(
                "{selector:?}: unknown SMI API group {g:?} (known: {})",
                groups.join(", ")
            ));
        };
        if let Some(v) = version {
            let Some(kinds) = versions.get(v) else {
                let vs: Vec<&str> = versions.keys().copied().collect();
                return Err(format!(
                    "{selector:?}: {g} has no version {v:?} (known: {})",
                    vs.join(", ")
                ));
            };
            if !kinds.contains(&kind) {
                return Err(format!(
                    "{selector:?}: {g}/{v} has no kind {kind:?} (known: {})",
                    kinds.join(", ")
                ));
            }
        } else if !versions.values().any(|ks| ks.contains(&kind)) {
            let mut ks: Vec<&str> = versions.values().flatten().copied().collect();
            ks.sort_unstable();
            ks.dedup();
            return Err(format!(
                "{selector:?}: {g} has no kind {kind:?} (known: {})",
                ks.join(", ")
            ));
        }
        return Ok(());
    }
    if table
        .values()
        .any(|v| v.values().any(|ks| ks.contains(&kind)))
    {
        Ok(())
    } else {
        Err(format!(
            "{selector:?}: unknown SMI kind {kind:?} (known: {})",
            all_kinds()
        ))
    }
}

/// Whether `selector` (see [`check_kind_selector`]) selects an object of `group/version` `kind`.
pub(crate) fn kind_selector_matches(
    selector: &str,
    group: &str,
    version: &str,
    kind: &str,
) -> bool {
    match selector.split('/').collect::<Vec<_>>().as_slice() {
        [k] => *k == kind,
        [g, k] => *g == group && *k == kind,
        [g, v, k] => *g == group && *v == version && *k == kind,
        _ => false,
    }
}
