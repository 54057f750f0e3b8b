//! Kubernetes quantities (`500m`, `1`, `"100"`, `1.5`, `2Ki`) kept in the form they were written.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kubernetes quantity as used by TrafficSplit `v1alpha1` weights and TrafficMetrics values.
///
/// The wire form is kept exactly: a YAML/JSON number stays a number, a string stays a string
/// (`"100"` round-trips as the string `"100"`, `1` as the number `1`). [`Quantity::to_decimal`]
/// gives the exact value.
///
/// ```
/// use smi_types::quantity::Quantity;
/// let q: Quantity = serde_json::from_str("\"500m\"").unwrap();
/// assert_eq!(q.to_decimal().unwrap(), smi_types::quantity::Decimal { mantissa: 5, exponent: -1 });
/// assert_eq!(serde_json::to_string(&q).unwrap(), "\"500m\"");
/// let n: Quantity = serde_json::from_str("1.5").unwrap();
/// assert_eq!(serde_json::to_string(&n).unwrap(), "1.5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// Written as a string (`"500m"`, `"100"`).
    String(String),
    /// Written as a bare number (`1`, `1.5`); the digits are kept as written.
    Number(serde_json::Number),
}

/// An exact decimal value `mantissa × 10^exponent`, normalised so that `mantissa` has no
/// trailing zero digits (zero is `0 × 10^0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// Significant digits.
    pub mantissa: i128,
    /// Power of ten.
    pub exponent: i32,
}

/// Why a quantity string is not a valid Kubernetes quantity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity `{input}`: {reason}")]
pub struct QuantityError {
    /// The text that failed.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The Kubernetes quantity grammar (used as the CRD `pattern`).
pub const QUANTITY_PATTERN: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

impl Quantity {
    /// A quantity written as a string.
    pub fn new(s: impl Into<String>) -> Self {
        Quantity::String(s.into())
    }

    /// The quantity as text (numbers as written).
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            Quantity::String(s) => Cow::Borrowed(s),
            Quantity::Number(n) => Cow::Owned(n.to_string()),
        }
    }

    /// The exact value. Binary suffixes (`Ki`…`Ei`) are multiplied out.
    pub fn to_decimal(&self) -> Result<Decimal, QuantityError> {
        parse_decimal(&self.as_str())
    }
}

impl From<i64> for Quantity {
    fn from(v: i64) -> Self {
        Quantity::Number(v.into())
    }
}

impl From<i32> for Quantity {
    fn from(v: i32) -> Self {
        Quantity::Number(i64::from(v).into())
    }
}

impl From<&str> for Quantity {
    fn from(v: &str) -> Self {
        Quantity::String(v.to_owned())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl Decimal {
    fn normalised(mut mantissa: i128, mut exponent: i32) -> Self {
        if mantissa == 0 {
            return Decimal {
                mantissa: 0,
                exponent: 0,
            };
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        Decimal { mantissa, exponent }
    }
}

fn parse_decimal(input: &str) -> Result<Decimal, QuantityError> {
    let err = |reason| QuantityError {
        input: input.to_owned(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(err("no number"));
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    let mut mantissa: i128 = 0;
    for c in int_part.chars().chain(frac_part.chars()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(c as u8 - b'0')))
            .ok_or_else(|| err("too many digits"))?;
    }
    let mut exponent = -(i32::try_from(frac_part.len()).map_err(|_| err("too many digits"))?);
    let mut binary_pow: u32 = 0;
    match suffix {
        "" => {}
        "n" => exponent -= 9,
        "u" => exponent -= 6,
        "m" => exponent -= 3,
        "k" => exponent += 3,
        "M" => exponent += 6,
        "G" => exponent += 9,
        "T" => exponent += 12,
        "P" => exponent += 15,
        "E" => exponent += 18,
        "Ki" => binary_pow = 1,
        "Mi" => binary_pow = 2,
        "Gi" => binary_pow = 3,
        "Ti" => binary_pow = 4,
        "Pi" => binary_pow = 5,
        "Ei" => binary_pow = 6,
        other if other.starts_with(['e', 'E']) => {
            let e: i32 = other[1..].parse().map_err(|_| err("bad exponent"))?;
            exponent = exponent
                .checked_add(e)
                .ok_or_else(|| err("exponent out of range"))?;
        }
        _ => return Err(err("unknown suffix")),
    }
    for _ in 0..binary_pow {
        mantissa = mantissa
            .checked_mul(1024)
            .ok_or_else(|| err("value out of range"))?;
    }
    if neg {
        mantissa = -mantissa;
    }
    Ok(Decimal::normalised(mantissa, exponent))
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::String(s) => serializer.serialize_str(s),
            Quantity::Number(n) => n.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => {
                parse_decimal(&s).map_err(D::Error::custom)?;
                Ok(Quantity::String(s))
            }
            serde_json::Value::Number(n) => Ok(Quantity::Number(n)),
            other => Err(D::Error::custom(format!(
                "expected a quantity (number or string such as \"500m\"), found {other}"
            ))),
        }
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        let d = |s: &str| parse_decimal(s).unwrap();
        assert_eq!(
            d("500m"),
            Decimal {
                mantissa: 5,
                exponent: -1
            }
        );
        assert_eq!(
            d("1"),
            Decimal {
                mantissa: 1,
                exponent: 0
            }
        );
        assert_eq!(
            d("1.5"),
            Decimal {
                mantissa: 15,
                exponent: -1
            }
        );
        assert_eq!(
            d("1k"),
            Decimal {
                mantissa: 1,
                exponent: 3
            }
        );
        assert_eq!(
            d("1Ki"),
            Decimal {
                mantissa: 1024,
                exponent: 0
            }
        );
        assert_eq!(
            d("0m"),
            Decimal {
                mantissa: 0,
                exponent: 0
            }
        );
        assert_eq!(
            d("1e3"),
            Decimal {
                mantissa: 1,
                exponent: 3
            }
        );
        assert!(parse_decimal("abc").is_err());
        assert!(parse_decimal("1x").is_err());
        assert!(parse_decimal("").is_err());
    }
}
