//! How load is applied: [`LoadModel`], [`RateShape`] and its steps, [`RunLength`].

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// How load is applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum LoadModel {
    /// Fixed arrival schedule; latency timed from the intended send time.
    Open,
    /// N connections, each waiting for its response before the next request (default).
    #[default]
    Closed,
}

impl fmt::Display for LoadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadModel::Open => "Open",
            LoadModel::Closed => "Closed",
        })
    }
}

/// Shape of the request rate over time (k6 `ramping-arrival-rate` semantics for `Linear` and
/// `Step`: Open model only, the intended send times follow the schedule exactly and latency is
/// timed from them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RateShape {
    /// `rps` for the whole run (default).
    #[default]
    Constant,
    /// Linear ramps. Without `steps`: one stage from `rps` (default 0) to `rampTo` over
    /// `duration`. With `steps` (k6 stages): each step ramps from the previous step's rate
    /// (the first from `rps`, default 0) to its own `rps` over its `duration`.
    Linear,
    /// Piecewise constant: each of `steps` holds its `rps` for its `duration`.
    Step,
}

/// One stage of a `Linear` or `Step` rate shape (`spec.steps[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateStep {
    /// Rate of the stage (`Step`), or the rate reached at its end (`Linear`).
    #[schemars(range(min = 0, max = 10_000_000))]
    pub rps: i64,
    /// Length of the stage (GEP-2257, greater than 0).
    pub duration: Duration,
}

impl RateStep {
    /// A stage of `rps` for `duration` (GEP-2257, e.g. `"10s"`).
    pub fn new(rps: i64, duration: &str) -> Self {
        RateStep {
            rps,
            duration: Duration::new_unchecked(duration),
        }
    }
}

/// One stage of a ramped schedule, resolved ([`PerformanceTestSpec::rate_stages`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateStage {
    /// Rate at the start of the stage.
    pub from_rps: u64,
    /// Rate at its end (equal to `from_rps` for `Step`).
    pub to_rps: u64,
    /// Its length.
    pub duration: std::time::Duration,
}

/// How long a run lasts: a time or an exact request count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunLength {
    /// Load for this long (after warm-up).
    Duration(std::time::Duration),
    /// Send exactly this many recorded requests.
    Requests(u64),
}
