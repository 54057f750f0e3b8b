//! The conversion vocabulary: [`Lossy`], [`Loss`], [`Converted`], [`ConvertError`].
//!
//! A leaf module: the group `convert.rs` files, the [registry](crate::registry) that dispatches
//! to them and [`crate::convert`] all build on it, and it depends on none of them. Its items are
//! public at [`crate::convert`].

use serde::Serialize;

/// What to do when a conversion cannot carry a field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lossy {
    /// Fail with [`ConvertError::Lossy`] listing the losses (the default).
    #[default]
    Refuse,
    /// Convert and report the losses in [`Converted::lost`].
    Report,
}

/// One field a conversion could not carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    /// Field path in the source object (`spec.destination.port`).
    pub path: String,
    /// The dropped value.
    pub value: serde_json::Value,
    /// Why it has no place in the target version.
    pub reason: String,
}

impl Loss {
    /// A loss of `value` at `path`.
    pub fn new(path: impl Into<String>, value: impl Serialize, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            value: serde_json::to_value(value).unwrap_or_default(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {} ({})", self.path, self.value, self.reason)
    }
}

/// A converted value and what it lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Converted<T> {
    /// The converted value.
    pub value: T,
    /// Fields that could not be carried (empty for a faithful conversion).
    pub lost: Vec<Loss>,
}

impl<T> Converted<T> {
    /// A converted value with its losses.
    pub fn new(value: T, lost: Vec<Loss>) -> Self {
        Self { value, lost }
    }

    /// Maps the value, keeping the losses.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Converted<U> {
        Converted {
            value: f(self.value),
            lost: self.lost,
        }
    }

    pub(crate) fn then<U>(
        self,
        f: impl FnOnce(T) -> Result<Converted<U>, ConvertError>,
    ) -> Result<Converted<U>, ConvertError> {
        let mut next = f(self.value)?;
        let mut lost = self.lost;
        lost.append(&mut next.lost);
        Ok(Converted {
            value: next.value,
            lost,
        })
    }
}

/// Why a conversion failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The conversion would lose fields and the caller chose [`Lossy::Refuse`].
    #[error(
        "converting {kind} from {from} to {to} would lose: {}",
        lost.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Lossy {
        /// Kind.
        kind: &'static str,
        /// Source apiVersion.
        from: &'static str,
        /// Target apiVersion.
        to: String,
        /// The losses.
        lost: Vec<Loss>,
    },
    /// The target apiVersion is not a version of the object's kind.
    #[error("cannot convert {kind} to `{api_version}`: known apiVersions of {kind} are {}", known.join(", "))]
    UnknownTarget {
        /// Kind.
        kind: &'static str,
        /// The requested apiVersion.
        api_version: String,
        /// apiVersions the kind has.
        known: Vec<String>,
    },
    /// A TrafficSplit weight cannot be converted exactly.
    #[error("{path}: {message}")]
    Weight {
        /// Field path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The object to convert could not be read.
    #[error(transparent)]
    Parse(#[from] crate::Error),
    /// A JSON object given to [`convert_value`](crate::convert::convert_value) is not an SMI object it can convert (not an
    /// object, no `apiVersion`/`kind`, not an SMI kind or version, a kind with one version).
    #[error("{message}")]
    Unreadable {
        /// What is wrong.
        message: String,
    },
}

/// A conversion function's result: infallible conversions return [`Converted`], the ones that
/// can fail (TrafficSplit v1alpha1 weights) a `Result`; the registry's dispatch takes both.
pub(crate) trait IntoResult<T> {
    fn into_result(self) -> Result<Converted<T>, ConvertError>;
}

impl<T> IntoResult<T> for Converted<T> {
    fn into_result(self) -> Result<Converted<T>, ConvertError> {
        Ok(self)
    }
}

impl<T> IntoResult<T> for Result<Converted<T>, ConvertError> {
    fn into_result(self) -> Result<Converted<T>, ConvertError> {
        self
    }
}
