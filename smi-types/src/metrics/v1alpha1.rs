//! `metrics.smi-spec.io/v1alpha1`: edges have a direction only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::{Direction, Metric, Side};

super::traffic_metrics!(version = "v1alpha1");
