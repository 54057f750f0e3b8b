//! TrafficMetrics conversions between `v1alpha1` and `v1alpha2` (the hub).
//!
//! Losses going to v1alpha1: `edge.side` and `backend`.
//!
//! ```
//! use smi_types::metrics::{convert, v1alpha2};
//! let mut m = v1alpha2::TrafficMetrics::new("30s");
//! m.backend = Some(v1alpha2::Backend { apex: "web".into(), name: "web-v1".into(), weight: 90 });
//! assert_eq!(convert::traffic_metrics_v1alpha2_to_v1alpha1(&m).lost[0].path, "backend");
//! ```

use super::{v1alpha1, v1alpha2};
use crate::conversion::{Converted, Loss};

/// v1alpha1 → v1alpha2: lossless.
pub fn traffic_metrics_v1alpha1_to_v1alpha2(
    o: &v1alpha1::TrafficMetrics,
) -> Converted<v1alpha2::TrafficMetrics> {
    let out = v1alpha2::TrafficMetrics {
        api_version: v1alpha2::TrafficMetrics::API_VERSION.into(),
        kind: v1alpha2::TrafficMetrics::KIND.into(),
        metadata: o.metadata.clone(),
        timestamp: o.timestamp.clone(),
        window: o.window.clone(),
        resource: o.resource.clone(),
        edge: o.edge.as_ref().map(|e| v1alpha2::Edge {
            direction: e.direction,
            side: None,
            resource: e.resource.clone(),
        }),
        backend: None,
        metrics: o.metrics.clone(),
    };
    Converted::new(out, Vec::new())
}

/// v1alpha2 → v1alpha1: `edge.side` and `backend` are lost.
pub fn traffic_metrics_v1alpha2_to_v1alpha1(
    o: &v1alpha2::TrafficMetrics,
) -> Converted<v1alpha1::TrafficMetrics> {
    let mut lost = Vec::new();
    if let Some(side) = o.edge.as_ref().and_then(|e| e.side) {
        lost.push(Loss::new(
            "edge.side",
            side,
            "TrafficMetrics v1alpha1 has no edge side",
        ));
    }
    if let Some(b) = &o.backend {
        lost.push(Loss::new(
            "backend",
            b,
            "TrafficMetrics v1alpha1 has no backend",
        ));
    }
    let out = v1alpha1::TrafficMetrics {
        api_version: v1alpha1::TrafficMetrics::API_VERSION.into(),
        kind: v1alpha1::TrafficMetrics::KIND.into(),
        metadata: o.metadata.clone(),
        timestamp: o.timestamp.clone(),
        window: o.window.clone(),
        resource: o.resource.clone(),
        edge: o.edge.as_ref().map(|e| v1alpha1::Edge {
            direction: e.direction,
            resource: e.resource.clone(),
        }),
        metrics: o.metrics.clone(),
    };
    Converted::new(out, lost)
}

/// TrafficMetricsList v1alpha1 → v1alpha2: lossless for every item.
pub fn traffic_metrics_list_v1alpha1_to_v1alpha2(
    x: &v1alpha1::TrafficMetricsList,
) -> Converted<v1alpha2::TrafficMetricsList> {
    let items = x
        .items
        .iter()
        .map(|i| traffic_metrics_v1alpha1_to_v1alpha2(i).value)
        .collect();
    let out = v1alpha2::TrafficMetricsList {
        api_version: v1alpha2::TrafficMetricsList::API_VERSION.into(),
        kind: v1alpha2::TrafficMetricsList::KIND.into(),
        metadata: x.metadata.clone(),
        resource: x.resource.clone(),
        selector: x.selector.clone(),
        items,
    };
    Converted::new(out, Vec::new())
}

/// TrafficMetricsList v1alpha2 → v1alpha1: each item's losses, at `items[i].…`.
pub fn traffic_metrics_list_v1alpha2_to_v1alpha1(
    x: &v1alpha2::TrafficMetricsList,
) -> Converted<v1alpha1::TrafficMetricsList> {
    let mut lost = Vec::new();
    let items = x
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let c = traffic_metrics_v1alpha2_to_v1alpha1(item);
            lost.extend(c.lost.into_iter().map(|l| Loss {
                path: format!("items[{i}].{}", l.path),
                ..l
            }));
            c.value
        })
        .collect();
    let out = v1alpha1::TrafficMetricsList {
        api_version: v1alpha1::TrafficMetricsList::API_VERSION.into(),
        kind: v1alpha1::TrafficMetricsList::KIND.into(),
        metadata: x.metadata.clone(),
        resource: x.resource.clone(),
        selector: x.selector.clone(),
        items,
    };
    Converted::new(out, lost)
}
