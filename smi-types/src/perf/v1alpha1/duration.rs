//! GEP-2257 durations ([`Duration`]).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::*;

/// A duration in the Gateway API GEP-2257 form (`"30s"`, `"1m30s"`, `"250ms"`).
///
/// The raw string is kept as written so a manifest round-trips unchanged; an invalid string is
/// reported by [`PerformanceTestSpec::validate`] with its field path rather than failing
/// deserialization. Use [`Duration::parse`] to construct a checked value.
///
/// ```
/// use smi_types::perf::Duration;
/// let d = Duration::parse("1m30s").unwrap();
/// assert_eq!(d.to_std().unwrap(), std::time::Duration::from_secs(90));
/// assert!(Duration::parse("1.5s").is_err());
/// assert_eq!(Duration::from(std::time::Duration::from_millis(1500)).as_str(), "1s500ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(String);

/// Why a string is not a GEP-2257 duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason} (expected e.g. \"30s\", \"1m30s\", \"250ms\"; pattern {DURATION_PATTERN})"
)]
pub struct DurationError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Duration {
    /// Parses and checks a GEP-2257 duration string.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        parse_gep2257(s)?;
        Ok(Duration(s.to_owned()))
    }

    /// Wraps a string without checking it (builders use this; `validate` reports problems).
    pub fn new_unchecked(s: impl Into<String>) -> Self {
        Duration(s.into())
    }

    /// The string as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Converts to [`std::time::Duration`].
    pub fn to_std(&self) -> Result<std::time::Duration, DurationError> {
        parse_gep2257(&self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Default for Duration {
    /// `"0s"`.
    fn default() -> Self {
        Duration("0s".into())
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl From<std::time::Duration> for Duration {
    /// Formats with millisecond precision (sub-millisecond parts are truncated).
    fn from(d: std::time::Duration) -> Self {
        let mut ms = d.as_millis();
        if ms == 0 {
            return Duration("0s".into());
        }
        let mut out = String::new();
        let h = ms / 3_600_000;
        ms %= 3_600_000;
        let m = ms / 60_000;
        ms %= 60_000;
        let s = ms / 1000;
        ms %= 1000;
        // Hours beyond the 5-digit field are clamped; nobody runs an 11-year test.
        for (v, unit) in [(h.min(99_999), "h"), (m, "m"), (s, "s"), (ms, "ms")] {
            if v > 0 {
                out.push_str(&format!("{v}{unit}"));
            }
        }
        Duration(out)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": DURATION_PATTERN, "maxLength": MAX_DURATION_LENGTH })
    }
}

fn parse_gep2257(s: &str) -> Result<std::time::Duration, DurationError> {
    let err = |reason| DurationError {
        input: s.to_owned(),
        reason,
    };
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(err("empty"));
    }
    let (mut i, mut groups, mut total) = (0usize, 0usize, std::time::Duration::ZERO);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return Err(err("expected a number"));
        }
        if digits > 5 {
            return Err(err("a number has more than 5 digits"));
        }
        let n: u64 = s[start..i].parse().map_err(|_| err("bad number"))?;
        let unit = match (b.get(i), b.get(i + 1)) {
            (Some(b'm'), Some(b's')) => {
                i += 2;
                std::time::Duration::from_millis(n)
            }
            (Some(b'h'), _) => {
                i += 1;
                std::time::Duration::from_secs(n * 3600)
            }
            (Some(b'm'), _) => {
                i += 1;
                std::time::Duration::from_secs(n * 60)
            }
            (Some(b's'), _) => {
                i += 1;
                std::time::Duration::from_secs(n)
            }
            _ => return Err(err("expected a unit h, m, s or ms")),
        };
        total += unit;
        groups += 1;
        if groups > 4 {
            return Err(err("more than 4 number-unit groups"));
        }
    }
    Ok(total)
}
