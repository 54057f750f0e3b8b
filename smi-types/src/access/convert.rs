//! TrafficTarget conversions, hub-and-spoke through `v1alpha4` (IdentityBinding has one version).
//!
//! v1alpha1 ↔ v1alpha2 convert directly (both have `port`), so nothing is lost between them.
//!
//! Losses: `port` on subjects (v1alpha1/v1alpha2) has no place in v1alpha3+ (ports moved to
//! TCPRoute/UDPRoute; dropping one widens access); the doc-only `group` and IdentityBinding
//! subjects of v1alpha4 have no faithful older form (the subject is kept with its `kind` string
//! and reported); UDPRoute rules going to v1alpha1/v1alpha2 are kept (their schema allows the
//! kind) and reported: UDPRoute exists from `specs.smi-spec.io/v1alpha4` on, so a reader of
//! those versions does not know it.
//!
//! ```
//! use smi_types::access::{convert, v1alpha2};
//! let old = v1alpha2::TrafficTarget::new("t", v1alpha2::TrafficTargetSpec::new(
//!     v1alpha2::IdentityBindingSubject::service_account("api").port(8080)));
//! let c = convert::traffic_target_v1alpha2_to_v1alpha4(&old);
//! assert_eq!(c.lost[0].path, "spec.destination.port");
//! ```

use super::{v1alpha1, v1alpha2, v1alpha3, v1alpha4};
use crate::conversion::{Converted, Loss};

fn subject_up(
    s: &v1alpha1::IdentityBindingSubject,
    path: &str,
    lost: &mut Vec<Loss>,
) -> v1alpha4::IdentityBindingSubject {
    if let Some(p) = s.port {
        lost.push(Loss::new(
            format!("{path}.port"),
            p,
            "TrafficTarget v1alpha3+ has no ports; use TCPRoute/UDPRoute",
        ));
    }
    v1alpha4::IdentityBindingSubject {
        kind: s.kind.clone(),
        name: s.name.clone(),
        namespace: s.namespace.clone(),
        group: None,
    }
}

fn subject_v3_up(s: &v1alpha3::IdentityBindingSubject) -> v1alpha4::IdentityBindingSubject {
    v1alpha4::IdentityBindingSubject {
        kind: s.kind.clone(),
        name: s.name.clone(),
        namespace: s.namespace.clone(),
        group: None,
    }
}

fn subject_down(
    s: &v1alpha4::IdentityBindingSubject,
    path: &str,
    lost: &mut Vec<Loss>,
) -> v1alpha3::IdentityBindingSubject {
    if let Some(g) = &s.group {
        lost.push(Loss::new(
            format!("{path}.group"),
            g.clone(),
            "`group` exists only in the v1alpha4 docs",
        ));
    }
    if s.kind == "IdentityBinding" {
        lost.push(Loss::new(
            format!("{path}.kind"),
            s.kind.clone(),
            "IdentityBinding subjects have no meaning before v1alpha4",
        ));
    }
    v1alpha3::IdentityBindingSubject {
        kind: s.kind.clone(),
        name: s.name.clone(),
        namespace: s.namespace.clone(),
    }
}

fn subject_v1_from_v3(s: v1alpha3::IdentityBindingSubject) -> v1alpha1::IdentityBindingSubject {
    v1alpha1::IdentityBindingSubject {
        kind: s.kind,
        name: s.name,
        namespace: s.namespace,
        port: None,
    }
}

fn sources_up(
    sources: &Option<Vec<v1alpha1::IdentityBindingSubject>>,
    path: &str,
    lost: &mut Vec<Loss>,
) -> Option<Vec<v1alpha4::IdentityBindingSubject>> {
    sources.as_ref().map(|v| {
        v.iter()
            .enumerate()
            .map(|(i, s)| subject_up(s, &format!("{path}[{i}]"), lost))
            .collect()
    })
}

/// v1alpha1 → v1alpha4: fields move under `spec`, `specs` becomes `rules`; ports are lost.
pub fn traffic_target_v1alpha1_to_v1alpha4(
    o: &v1alpha1::TrafficTarget,
) -> Converted<v1alpha4::TrafficTarget> {
    let mut lost = Vec::new();
    let spec = v1alpha4::TrafficTargetSpec {
        destination: subject_up(&o.destination, "destination", &mut lost),
        sources: sources_up(&o.sources, "sources", &mut lost),
        rules: o.specs.clone(),
    };
    Converted::new(
        v1alpha4::TrafficTarget {
            metadata: o.metadata.clone(),
            ..v1alpha4::TrafficTarget::new("", spec)
        },
        lost,
    )
}

/// v1alpha2 → v1alpha4: ports are lost.
pub fn traffic_target_v1alpha2_to_v1alpha4(
    o: &v1alpha2::TrafficTarget,
) -> Converted<v1alpha4::TrafficTarget> {
    let mut lost = Vec::new();
    let spec = v1alpha4::TrafficTargetSpec {
        destination: subject_up(&o.spec.destination, "spec.destination", &mut lost),
        sources: sources_up(&o.spec.sources, "spec.sources", &mut lost),
        rules: o.spec.rules.clone(),
    };
    Converted::new(
        v1alpha4::TrafficTarget {
            metadata: o.metadata.clone(),
            ..v1alpha4::TrafficTarget::new("", spec)
        },
        lost,
    )
}

/// v1alpha3 → v1alpha4: lossless.
pub fn traffic_target_v1alpha3_to_v1alpha4(
    o: &v1alpha3::TrafficTarget,
) -> Converted<v1alpha4::TrafficTarget> {
    let spec = v1alpha4::TrafficTargetSpec {
        destination: subject_v3_up(&o.spec.destination),
        sources: o
            .spec
            .sources
            .as_ref()
            .map(|v| v.iter().map(subject_v3_up).collect()),
        rules: o.spec.rules.clone(),
    };
    Converted::new(
        v1alpha4::TrafficTarget {
            metadata: o.metadata.clone(),
            ..v1alpha4::TrafficTarget::new("", spec)
        },
        Vec::new(),
    )
}

/// v1alpha4 → v1alpha3: `group` and IdentityBinding subjects are reported.
pub fn traffic_target_v1alpha4_to_v1alpha3(
    o: &v1alpha4::TrafficTarget,
) -> Converted<v1alpha3::TrafficTarget> {
    let mut lost = Vec::new();
    let spec = v1alpha3::TrafficTargetSpec {
        destination: subject_down(&o.spec.destination, "spec.destination", &mut lost),
        sources: o.spec.sources.as_ref().map(|v| {
            v.iter()
                .enumerate()
                .map(|(i, s)| subject_down(s, &format!("spec.sources[{i}]"), &mut lost))
                .collect()
        }),
        rules: o.spec.rules.clone(),
    };
    Converted::new(
        v1alpha3::TrafficTarget {
            metadata: o.metadata.clone(),
            ..v1alpha3::TrafficTarget::new("", spec)
        },
        lost,
    )
}

fn udp_rules(
    rules: &Option<Vec<v1alpha4::TrafficTargetRule>>,
    path: &str,
    to: &str,
    lost: &mut Vec<Loss>,
) {
    for (i, r) in rules.iter().flatten().enumerate() {
        if r.kind == super::RouteKind::UdpRoute {
            lost.push(Loss::new(
                format!("{path}[{i}]"),
                r,
                format!("UDPRoute exists from specs.smi-spec.io/v1alpha4 on: a TrafficTarget {to} reader does not know it (kept as written)"),
            ));
        }
    }
}

/// v1alpha4 → v1alpha2 (through v1alpha3): UDPRoute rules are reported.
pub fn traffic_target_v1alpha4_to_v1alpha2(
    o: &v1alpha4::TrafficTarget,
) -> Converted<v1alpha2::TrafficTarget> {
    let Converted { value, mut lost } = traffic_target_v1alpha4_to_v1alpha3(o);
    udp_rules(&value.spec.rules, "spec.rules", "v1alpha2", &mut lost);
    let spec = v1alpha2::TrafficTargetSpec {
        destination: subject_v1_from_v3(value.spec.destination),
        sources: value
            .spec
            .sources
            .map(|v| v.into_iter().map(subject_v1_from_v3).collect()),
        rules: value.spec.rules,
    };
    Converted::new(
        v1alpha2::TrafficTarget {
            metadata: value.metadata,
            ..v1alpha2::TrafficTarget::new("", spec)
        },
        lost,
    )
}

/// v1alpha4 → v1alpha1 (through v1alpha3): fields move to the top level, `rules` → `specs`;
/// UDPRoute rules are reported.
pub fn traffic_target_v1alpha4_to_v1alpha1(
    o: &v1alpha4::TrafficTarget,
) -> Converted<v1alpha1::TrafficTarget> {
    let Converted { value, mut lost } = traffic_target_v1alpha4_to_v1alpha3(o);
    udp_rules(&value.spec.rules, "spec.rules", "v1alpha1", &mut lost);
    let mut out = v1alpha1::TrafficTarget::new("", subject_v1_from_v3(value.spec.destination));
    out.metadata = value.metadata;
    out.sources = value
        .spec
        .sources
        .map(|v| v.into_iter().map(subject_v1_from_v3).collect());
    out.specs = value.spec.rules;
    Converted::new(out, lost)
}

/// v1alpha1 → v1alpha2 directly: fields move under `spec`, `specs` becomes `rules`; lossless.
pub fn traffic_target_v1alpha1_to_v1alpha2(
    o: &v1alpha1::TrafficTarget,
) -> Converted<v1alpha2::TrafficTarget> {
    let spec = v1alpha2::TrafficTargetSpec {
        destination: o.destination.clone(),
        sources: o.sources.clone(),
        rules: o.specs.clone(),
    };
    Converted::new(
        v1alpha2::TrafficTarget {
            metadata: o.metadata.clone(),
            ..v1alpha2::TrafficTarget::new("", spec)
        },
        Vec::new(),
    )
}

/// v1alpha2 → v1alpha1 directly: lossless.
pub fn traffic_target_v1alpha2_to_v1alpha1(
    o: &v1alpha2::TrafficTarget,
) -> Converted<v1alpha1::TrafficTarget> {
    let mut out = v1alpha1::TrafficTarget::new("", o.spec.destination.clone());
    out.metadata = o.metadata.clone();
    out.sources = o.spec.sources.clone();
    out.specs = o.spec.rules.clone();
    Converted::new(out, Vec::new())
}
