//! HTTPRouteGroup and TCPRoute conversions, hub-and-spoke through `v1alpha4` (UDPRoute has one
//! version).
//!
//! Losses: HTTP `headers` going to v1alpha1; TCPRoute `matches` (ports, name) going below
//! v1alpha4 (dropping ports widens access). Up-converting a TCPRoute yields `matches: {}`
//! (no ports listed: all ports), the least the v1alpha4 type holds; it invents no
//! `ports: []` (which a v1alpha4 → older → v1alpha4 round trip could not tell from one that
//! was written).
//!
//! ```
//! use smi_types::specs::{convert, v1alpha1};
//! let c = convert::tcp_route_v1alpha1_to_v1alpha4(&v1alpha1::TcpRoute::new("db"));
//! assert_eq!(c.value.spec.matches.ports, None);
//! assert!(c.lost.is_empty());
//! ```

use super::{v1alpha1, v1alpha2, v1alpha3, v1alpha4};
use crate::conversion::{Converted, Loss};

fn match_up(m: &v1alpha1::HttpMatch) -> v1alpha2::HttpMatch {
    v1alpha2::HttpMatch {
        name: m.name.clone(),
        methods: m.methods.clone(),
        path_regex: m.path_regex.clone(),
        headers: None,
    }
}

/// HTTPRouteGroup v1alpha1 → v1alpha4: lossless.
pub fn http_route_group_v1alpha1_to_v1alpha4(
    o: &v1alpha1::HttpRouteGroup,
) -> Converted<v1alpha4::HttpRouteGroup> {
    let mut out = v1alpha4::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.spec.matches = o.matches.as_ref().map(|v| v.iter().map(match_up).collect());
    Converted::new(out, Vec::new())
}

/// HTTPRouteGroup v1alpha2 → v1alpha4: `matches` moves under `spec`.
pub fn http_route_group_v1alpha2_to_v1alpha4(
    o: &v1alpha2::HttpRouteGroup,
) -> Converted<v1alpha4::HttpRouteGroup> {
    let mut out = v1alpha4::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.spec.matches = o.matches.clone();
    Converted::new(out, Vec::new())
}

/// HTTPRouteGroup v1alpha3 → v1alpha4: identical.
pub fn http_route_group_v1alpha3_to_v1alpha4(
    o: &v1alpha3::HttpRouteGroup,
) -> Converted<v1alpha4::HttpRouteGroup> {
    let mut out = v1alpha4::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.spec.matches = o.spec.matches.clone();
    Converted::new(out, Vec::new())
}

/// HTTPRouteGroup v1alpha4 → v1alpha3: identical.
pub fn http_route_group_v1alpha4_to_v1alpha3(
    o: &v1alpha4::HttpRouteGroup,
) -> Converted<v1alpha3::HttpRouteGroup> {
    let mut out = v1alpha3::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.spec.matches = o.spec.matches.clone();
    Converted::new(out, Vec::new())
}

/// HTTPRouteGroup v1alpha4 → v1alpha2: `matches` moves to the top level.
pub fn http_route_group_v1alpha4_to_v1alpha2(
    o: &v1alpha4::HttpRouteGroup,
) -> Converted<v1alpha2::HttpRouteGroup> {
    let mut out = v1alpha2::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.matches = o.spec.matches.clone();
    Converted::new(out, Vec::new())
}

/// HTTPRouteGroup v1alpha4 → v1alpha1: `headers` are lost.
pub fn http_route_group_v1alpha4_to_v1alpha1(
    o: &v1alpha4::HttpRouteGroup,
) -> Converted<v1alpha1::HttpRouteGroup> {
    let mut lost = Vec::new();
    let mut out = v1alpha1::HttpRouteGroup::new("");
    out.metadata = o.metadata.clone();
    out.matches = o.spec.matches.as_ref().map(|v| {
        v.iter()
            .enumerate()
            .map(|(i, m)| {
                if let Some(h) = &m.headers {
                    lost.push(Loss::new(
                        format!("spec.matches[{i}].headers"),
                        h,
                        "HTTPRouteGroup v1alpha1 has no headers",
                    ));
                }
                v1alpha1::HttpMatch {
                    name: m.name.clone(),
                    methods: m.methods.clone(),
                    path_regex: m.path_regex.clone(),
                }
            })
            .collect()
    });
    Converted::new(out, lost)
}

fn tcp_up(
    metadata: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Converted<v1alpha4::TcpRoute> {
    let mut out = v1alpha4::TcpRoute::new("", v1alpha4::PortMatch::default());
    out.metadata = metadata.clone();
    Converted::new(out, Vec::new())
}

/// TCPRoute v1alpha1 → v1alpha4: `matches: {}` (all ports).
pub fn tcp_route_v1alpha1_to_v1alpha4(o: &v1alpha1::TcpRoute) -> Converted<v1alpha4::TcpRoute> {
    tcp_up(&o.metadata)
}

/// TCPRoute v1alpha2 → v1alpha4: `matches: {}` (all ports).
pub fn tcp_route_v1alpha2_to_v1alpha4(o: &v1alpha2::TcpRoute) -> Converted<v1alpha4::TcpRoute> {
    tcp_up(&o.metadata)
}

/// TCPRoute v1alpha3 → v1alpha4: `matches: {}` (all ports).
pub fn tcp_route_v1alpha3_to_v1alpha4(o: &v1alpha3::TcpRoute) -> Converted<v1alpha4::TcpRoute> {
    tcp_up(&o.metadata)
}

fn tcp_losses(o: &v1alpha4::TcpRoute) -> Vec<Loss> {
    let mut lost = Vec::new();
    if let Some(n) = &o.spec.matches.name {
        lost.push(Loss::new(
            "spec.matches.name",
            n.clone(),
            "TCPRoute before v1alpha4 has no matches",
        ));
    }
    if let Some(p) = o.spec.matches.ports.as_ref().filter(|p| !p.is_empty()) {
        lost.push(Loss::new(
            "spec.matches.ports",
            p,
            "TCPRoute before v1alpha4 has no ports: all ports would be allowed",
        ));
    }
    lost
}

/// TCPRoute v1alpha4 → v1alpha3 (`spec: {}`): ports are lost.
pub fn tcp_route_v1alpha4_to_v1alpha3(o: &v1alpha4::TcpRoute) -> Converted<v1alpha3::TcpRoute> {
    let mut out = v1alpha3::TcpRoute::new("");
    out.metadata = o.metadata.clone();
    Converted::new(out, tcp_losses(o))
}

/// TCPRoute v1alpha4 → v1alpha2 (no body): ports are lost.
pub fn tcp_route_v1alpha4_to_v1alpha2(o: &v1alpha4::TcpRoute) -> Converted<v1alpha2::TcpRoute> {
    let mut out = v1alpha2::TcpRoute::new("");
    out.metadata = o.metadata.clone();
    Converted::new(out, tcp_losses(o))
}

/// TCPRoute v1alpha4 → v1alpha1 (no body): ports are lost.
pub fn tcp_route_v1alpha4_to_v1alpha1(o: &v1alpha4::TcpRoute) -> Converted<v1alpha1::TcpRoute> {
    let mut out = v1alpha1::TcpRoute::new("");
    out.metadata = o.metadata.clone();
    Converted::new(out, tcp_losses(o))
}
