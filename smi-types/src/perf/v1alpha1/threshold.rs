//! Pass/fail criteria: [`ThresholdMetric`] and [`Threshold`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Threshold metric names (B.4 rule 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ThresholdMetric {
    /// Median latency; limit is a duration.
    LatencyP50,
    /// 90th percentile latency; limit is a duration.
    LatencyP90,
    /// 95th percentile latency; limit is a duration.
    LatencyP95,
    /// 99th percentile latency; limit is a duration.
    LatencyP99,
    /// 99.9th percentile latency; limit is a duration.
    #[serde(rename = "latencyP999")]
    LatencyP999,
    /// Mean latency; limit is a duration.
    LatencyMean,
    /// Maximum latency; limit is a duration.
    LatencyMax,
    /// Failed / total requests; limit in [0, 1].
    ErrorRate,
    /// Dropped (Open model) / scheduled requests; limit in [0, 1].
    DroppedRate,
    /// Achieved requests per second; limit is a non-negative number.
    Rps,
}

impl ThresholdMetric {
    /// Whether the limit is a GEP-2257 duration.
    pub fn is_latency(self) -> bool {
        self.latency_percentile().is_some()
            || matches!(
                self,
                ThresholdMetric::LatencyMean | ThresholdMetric::LatencyMax
            )
    }
    /// Whether the limit is a ratio in [0, 1].
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            ThresholdMetric::ErrorRate | ThresholdMetric::DroppedRate
        )
    }
    /// The percentile a `latencyPNN` metric refers to.
    pub fn latency_percentile(self) -> Option<f64> {
        match self {
            ThresholdMetric::LatencyP50 => Some(50.0),
            ThresholdMetric::LatencyP90 => Some(90.0),
            ThresholdMetric::LatencyP95 => Some(95.0),
            ThresholdMetric::LatencyP99 => Some(99.0),
            ThresholdMetric::LatencyP999 => Some(99.9),
            _ => None,
        }
    }
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdMetric::LatencyP50 => "latencyP50",
            ThresholdMetric::LatencyP90 => "latencyP90",
            ThresholdMetric::LatencyP95 => "latencyP95",
            ThresholdMetric::LatencyP99 => "latencyP99",
            ThresholdMetric::LatencyP999 => "latencyP999",
            ThresholdMetric::LatencyMean => "latencyMean",
            ThresholdMetric::LatencyMax => "latencyMax",
            ThresholdMetric::ErrorRate => "errorRate",
            ThresholdMetric::DroppedRate => "droppedRate",
            ThresholdMetric::Rps => "rps",
        }
    }
}

/// `spec.thresholds[]`: one pass/fail criterion.
///
/// Limits are strings: latency limits in GEP-2257 form (`"250ms"`), ratios as decimals in [0, 1]
/// (`"0.01"`), `rps` as a decimal (`"950"`).
///
/// ```
/// use smi_types::perf::{Threshold, ThresholdMetric};
/// let t = Threshold::max(ThresholdMetric::LatencyP99, "250ms");
/// assert_eq!(t.metric.as_str(), "latencyP99");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = threshold_rules)]
pub struct Threshold {
    /// What is measured.
    pub metric: ThresholdMetric,
    /// Observed value must be at most this (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_LIMIT_LENGTH))]
    pub max: Option<String>,
    /// Observed value must be at least this (at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_LIMIT_LENGTH))]
    pub min: Option<String>,
}

impl Threshold {
    /// `metric` ≤ `limit`.
    pub fn max(metric: ThresholdMetric, limit: impl Into<String>) -> Self {
        Threshold {
            metric,
            max: Some(limit.into()),
            min: None,
        }
    }
    /// `metric` ≥ `limit`.
    pub fn min(metric: ThresholdMetric, limit: impl Into<String>) -> Self {
        Threshold {
            metric,
            max: None,
            min: Some(limit.into()),
        }
    }
    /// Parses a limit into the metric's unit: µs for latency, a ratio or rps otherwise.
    ///
    /// ```
    /// use smi_types::perf::{LimitError, Threshold, ThresholdMetric};
    /// let t = Threshold::max(ThresholdMetric::ErrorRate, "0.01");
    /// assert_eq!(t.parse_limit("0.01"), Ok(0.01));
    /// assert_eq!(t.parse_limit("2"), Err(LimitError::NotARatio { input: "2".into() }));
    /// let p99 = Threshold::max(ThresholdMetric::LatencyP99, "250ms");
    /// assert_eq!(p99.parse_limit("250ms"), Ok(250_000.0));
    /// assert!(matches!(p99.parse_limit("0.25"), Err(LimitError::Duration(_))));
    /// ```
    pub fn parse_limit(&self, limit: &str) -> Result<f64, LimitError> {
        if self.metric.is_latency() {
            Ok(Duration::new_unchecked(limit).to_std()?.as_secs_f64() * 1e6)
        } else {
            let v: f64 = limit.parse().map_err(|_| LimitError::NotANumber {
                input: limit.to_owned(),
            })?;
            if !v.is_finite() || v < 0.0 || (self.metric.is_ratio() && v > 1.0) {
                let input = limit.to_owned();
                return Err(if self.metric.is_ratio() {
                    LimitError::NotARatio { input }
                } else {
                    LimitError::Negative { input }
                });
            }
            Ok(v)
        }
    }
}

/// Why a threshold limit does not parse ([`Threshold::parse_limit`]). Every variant carries the
/// rejected input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A latency limit that is no GEP-2257 duration.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// A ratio or rps limit that is no decimal number.
    #[error("{input:?} is not a number")]
    NotANumber {
        /// The rejected input.
        input: String,
    },
    /// A ratio limit outside [0, 1].
    #[error("{input} is not in [0, 1]")]
    NotARatio {
        /// The rejected input.
        input: String,
    },
    /// An rps limit below 0 (or not finite).
    #[error("{input} is negative")]
    Negative {
        /// The rejected input.
        input: String,
    },
}

impl LimitError {
    /// The rejected input.
    pub fn input(&self) -> &str {
        match self {
            LimitError::Duration(e) => &e.input,
            LimitError::NotANumber { input }
            | LimitError::NotARatio { input }
            | LimitError::Negative { input } => input,
        }
    }
}
