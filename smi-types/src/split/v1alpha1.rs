//! `split.smi-spec.io/v1alpha1`: weights are Kubernetes quantities.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::quantity::Quantity;

crate::macros::smi_object! {
    group = "split.smi-spec.io", version = "v1alpha1", kind = "TrafficSplit", plural = "trafficsplits", list = TrafficSplitList;
    /// Splits traffic sent to the root service `spec.service` across `spec.backends` by relative
    /// weight.
    ///
    /// ```
    /// use smi_types::split::v1alpha1::*;
    /// let ts = TrafficSplit::new("canary", TrafficSplitSpec::new("web").backend("web-v1", 1).backend("web-v2", "500m"));
    /// assert_eq!(serde_json::to_value(&ts).unwrap()["spec"]["backends"][1]["weight"], "500m");
    /// ```
    pub struct TrafficSplit {
        /// The body.
        pub spec: TrafficSplitSpec,
    }
    impl new(spec: TrafficSplitSpec);
}

super::traffic_split_spec!(weight: Quantity);

/// A backend service and its relative weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficSplitBackend {
    /// Service name in the split's namespace.
    pub service: String,
    /// Relative weight as a Kubernetes quantity (`1`, `500m`, `"100"`, `"0.5"`), kept as
    /// written.
    ///
    /// The CRD declares the weight `x-kubernetes-int-or-string` (the only structural way to
    /// accept both `1` and `500m`), so the API server accepts a whole number or a string and
    /// refuses a bare decimal number such as `0.5`; write it quoted (`"0.5"`) or as `500m`.
    /// Reading refuses a bare decimal too, so the types accept exactly what the server does.
    /// Negative weights match neither the CRD's pattern nor its `minimum: 0`; a typed negative
    /// weight is refused by conversion ([`crate::split::convert::integer_weights`]).
    ///
    /// ```
    /// use smi_types::split::v1alpha1::TrafficSplitBackend;
    /// let ok: TrafficSplitBackend = serde_json::from_str(r#"{"service": "a", "weight": "0.5"}"#).unwrap();
    /// assert_eq!(ok.weight.as_str(), "0.5");
    /// let err = serde_json::from_str::<TrafficSplitBackend>(r#"{"service": "a", "weight": 0.5}"#).unwrap_err();
    /// assert!(err.to_string().contains("bare decimal"), "{err}");
    /// ```
    #[serde(deserialize_with = "int_or_string_quantity")]
    #[schemars(schema_with = "weight_schema")]
    pub weight: Quantity,
}

/// The v1alpha1 weight pattern: a Kubernetes quantity without a minus sign.
pub const WEIGHT_PATTERN: &str = r"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

fn weight_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "pattern": WEIGHT_PATTERN,
        "minimum": 0,
    })
}

/// A quantity the way an `x-kubernetes-int-or-string` field holds it: a string, or a JSON
/// number that is a whole number (`2.0` counts, as it does for the API server).
fn int_or_string_quantity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
    use serde::de::Error;
    let q = Quantity::deserialize(d)?;
    if let Quantity::Number(n) = &q
        && !(n.is_i64() || n.is_u64())
        && n.as_f64()
            .is_none_or(|f| f.fract() != 0.0 || !f.is_finite())
    {
        return Err(D::Error::custom(format!(
            "weight {n} is a bare decimal number, which the CRD (x-kubernetes-int-or-string) refuses: write it as a string (\"{n}\") or with a suffix (500m)"
        )));
    }
    Ok(q)
}
