//! TrafficSplit conversions, hub-and-spoke through `v1alpha4`.
//!
//! # v1alpha1 quantity weights → integer weights
//!
//! Every backend's quantity is read exactly and all weights are scaled by one common power of
//! ten, the smallest that makes every weight whole, so ratios are kept: `1` and `500m` become
//! `10` and `5` (2:1); `90` and `10` stay `90` and `10`. Upstream (smi-sdk-go and
//! smi-controller-sdk) instead take each quantity's unscaled digits independently, turning
//! `1` vs `500m` into `1` vs `500` (1:500) and `1.5` into `15`. When the exact ratio would need an
//! integer beyond `i64`, conversion fails with [`ConvertError::Weight`] rather than round.
//! A negative weight (`-1`, `"-500m"`; the v1alpha1 CRD refuses them, but a typed value can
//! hold one) also fails with [`ConvertError::Weight`]: it never becomes a negative integer
//! weight, which no later version accepts.
//!
//! Integer → quantity (to v1alpha1) writes the decimal string (`90` → `"90"`), as upstream.
//!
//! Losses: `matches` going to v1alpha1/v1alpha2.
//!
//! ```
//! use smi_types::split::{convert, v1alpha1};
//! let old = v1alpha1::TrafficSplit::new("s", v1alpha1::TrafficSplitSpec::new("web").backend("v1", 1).backend("v2", "500m"));
//! let new = convert::traffic_split_v1alpha1_to_v1alpha4(&old).unwrap().value;
//! assert_eq!(new.spec.backends.iter().map(|b| b.weight).collect::<Vec<_>>(), vec![10, 5]);
//! ```

use super::{v1alpha1, v1alpha2, v1alpha3, v1alpha4};
use crate::conversion::{ConvertError, Converted, Loss};
use crate::quantity::Quantity;

/// Scales quantities by one common power of ten to the smallest whole numbers with the same
/// ratios (see the module docs).
///
/// ```
/// use smi_types::quantity::Quantity;
/// let w = smi_types::split::convert::integer_weights(&[Quantity::from(1), "500m".into(), "0".into()]).unwrap();
/// assert_eq!(w, vec![10, 5, 0]);
/// ```
pub fn integer_weights(weights: &[Quantity]) -> Result<Vec<i64>, ConvertError> {
    let decimals = weights
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let path = || format!("spec.backends[{i}].weight");
            let d = q.to_decimal().map_err(|e| ConvertError::Weight {
                path: path(),
                message: e.to_string(),
            })?;
            if d.mantissa < 0 {
                return Err(ConvertError::Weight {
                    path: path(),
                    message: format!("`{q}` is negative; weights must be at least 0"),
                });
            }
            Ok(d)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let common = decimals
        .iter()
        .filter(|d| d.mantissa != 0)
        .map(|d| d.exponent)
        .min()
        .unwrap_or(0)
        .min(0);
    decimals
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let overflow = || ConvertError::Weight {
                path: format!("spec.backends[{i}].weight"),
                message: format!(
                    "`{}` needs an integer weight beyond the 64-bit range to keep the ratios",
                    weights[i]
                ),
            };
            let shift = u32::try_from(d.exponent - common).map_err(|_| overflow())?;
            let scaled = 10i128
                .checked_pow(shift)
                .and_then(|p| d.mantissa.checked_mul(p))
                .ok_or_else(overflow)?;
            i64::try_from(scaled).map_err(|_| overflow())
        })
        .collect()
}

/// v1alpha1 → v1alpha4: ratio-preserving integer weights (see the module docs).
pub fn traffic_split_v1alpha1_to_v1alpha4(
    o: &v1alpha1::TrafficSplit,
) -> Result<Converted<v1alpha4::TrafficSplit>, ConvertError> {
    let weights: Vec<Quantity> = o.spec.backends.iter().map(|b| b.weight.clone()).collect();
    let ints = integer_weights(&weights)?;
    let mut out = v1alpha4::TrafficSplit::new("", v1alpha4::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o
        .spec
        .backends
        .iter()
        .zip(ints)
        .map(|(b, w)| v1alpha4::TrafficSplitBackend {
            service: b.service.clone(),
            weight: w,
        })
        .collect();
    Ok(Converted::new(out, Vec::new()))
}

/// v1alpha2 → v1alpha4: lossless.
pub fn traffic_split_v1alpha2_to_v1alpha4(
    o: &v1alpha2::TrafficSplit,
) -> Converted<v1alpha4::TrafficSplit> {
    let mut out = v1alpha4::TrafficSplit::new("", v1alpha4::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o.spec.backends.clone();
    Converted::new(out, Vec::new())
}

/// v1alpha3 → v1alpha4: identical.
pub fn traffic_split_v1alpha3_to_v1alpha4(
    o: &v1alpha3::TrafficSplit,
) -> Converted<v1alpha4::TrafficSplit> {
    let mut out = v1alpha4::TrafficSplit::new("", v1alpha4::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o.spec.backends.clone();
    out.spec.matches = o.spec.matches.clone();
    Converted::new(out, Vec::new())
}

/// v1alpha4 → v1alpha3: identical.
pub fn traffic_split_v1alpha4_to_v1alpha3(
    o: &v1alpha4::TrafficSplit,
) -> Converted<v1alpha3::TrafficSplit> {
    let mut out = v1alpha3::TrafficSplit::new("", v1alpha3::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o.spec.backends.clone();
    out.spec.matches = o.spec.matches.clone();
    Converted::new(out, Vec::new())
}

fn matches_loss(o: &v1alpha4::TrafficSplit, to: &str) -> Vec<Loss> {
    match o.spec.matches.as_ref().filter(|m| !m.is_empty()) {
        Some(m) => vec![Loss::new(
            "spec.matches",
            m,
            format!("TrafficSplit {to} has no matches: the split would apply to all traffic"),
        )],
        None => Vec::new(),
    }
}

/// v1alpha4 → v1alpha2: `matches` are lost.
pub fn traffic_split_v1alpha4_to_v1alpha2(
    o: &v1alpha4::TrafficSplit,
) -> Converted<v1alpha2::TrafficSplit> {
    let mut out = v1alpha2::TrafficSplit::new("", v1alpha2::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o.spec.backends.clone();
    Converted::new(out, matches_loss(o, "v1alpha2"))
}

/// v1alpha4 → v1alpha1: weights become decimal quantity strings; `matches` are lost.
pub fn traffic_split_v1alpha4_to_v1alpha1(
    o: &v1alpha4::TrafficSplit,
) -> Converted<v1alpha1::TrafficSplit> {
    let mut out = v1alpha1::TrafficSplit::new("", v1alpha1::TrafficSplitSpec::new(&o.spec.service));
    out.metadata = o.metadata.clone();
    out.spec.backends = o
        .spec
        .backends
        .iter()
        .map(|b| v1alpha1::TrafficSplitBackend {
            service: b.service.clone(),
            weight: Quantity::String(b.weight.to_string()),
        })
        .collect();
    Converted::new(out, matches_loss(o, "v1alpha1"))
}
