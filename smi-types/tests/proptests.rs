//! Property tests for every kind and version: value → YAML → value is the identity (also
//! through JSON and serde_norway); up- then down-conversion of a value with nothing to lose is
//! the identity; TrafficSplit v1alpha1 → v1alpha2 keeps the weight ratios.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use proptest::prelude::*;
use smi_types::convert::Lossy;
use smi_types::headers::{HeadersForm, HttpHeaders};
use smi_types::quantity::Quantity;
use smi_types::{Document, SmiObject, access, metrics, specs, split};

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}"
}

/// Printable ASCII including YAML indicators (`:`, `#`, `*`, `&`, quotes…).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,12}",
        // scalars a YAML 1.1 or 1.2 reader would otherwise take for non-strings
        1 => proptest::sample::select(vec![
            "true", "no", "Yes", "off", "y", "n", "null", "~", "", "123", "-1", "1.5", "1e3", "0x1F", "0o17", ".inf",
            ".NaN", "2020-01-01", "12:30:00", "=", "<<", "- a", "a: b", "#x", "*a", "&a", "!t", "%x", "@x", "`x", "|", ">",
            "'q'", "\"q\"", " lead", "trail ", "multi\nline", "tab\there", "é ü", "\u{FEFF}x",
        ]).prop_map(str::to_owned),
    ]
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

fn meta() -> impl Strategy<Value = ObjectMeta> {
    (
        name(),
        opt(name()),
        opt(proptest::collection::btree_map(name(), text(), 0..3)),
    )
        .prop_map(|(n, ns, labels)| ObjectMeta {
            name: Some(n),
            namespace: ns,
            labels,
            ..Default::default()
        })
}

fn route_kind() -> impl Strategy<Value = access::RouteKind> {
    prop_oneof![
        Just(access::RouteKind::HttpRouteGroup),
        Just(access::RouteKind::TcpRoute),
        Just(access::RouteKind::UdpRoute)
    ]
}

fn rule() -> impl Strategy<Value = access::v1alpha1::TrafficTargetRule> {
    (
        route_kind(),
        name(),
        opt(proptest::collection::vec(name(), 0..3)),
    )
        .prop_map(
            |(kind, name, matches)| access::v1alpha1::TrafficTargetRule {
                kind,
                name,
                matches,
            },
        )
}

fn subject_v1(with_port: bool) -> impl Strategy<Value = access::v1alpha1::IdentityBindingSubject> {
    (name(), opt(name()), opt(1..=65535i32)).prop_map(move |(n, ns, port)| {
        access::v1alpha1::IdentityBindingSubject {
            kind: "ServiceAccount".into(),
            name: n,
            namespace: ns,
            port: if with_port { port } else { None },
        }
    })
}

fn subject_v3() -> impl Strategy<Value = access::v1alpha3::IdentityBindingSubject> {
    (name(), opt(name())).prop_map(|(n, ns)| access::v1alpha3::IdentityBindingSubject {
        kind: "ServiceAccount".into(),
        name: n,
        namespace: ns,
    })
}

fn subject_v4(lossless: bool) -> impl Strategy<Value = access::v1alpha4::IdentityBindingSubject> {
    (
        prop_oneof![Just("ServiceAccount"), Just("IdentityBinding")],
        name(),
        opt(name()),
        opt(Just("access.smi-spec.io".to_owned())),
    )
        .prop_map(
            move |(kind, n, ns, group)| access::v1alpha4::IdentityBindingSubject {
                kind: if lossless {
                    "ServiceAccount".into()
                } else {
                    kind.into()
                },
                name: n,
                namespace: ns,
                group: if lossless { None } else { group },
            },
        )
}

fn list<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<Vec<T>>> {
    opt(proptest::collection::vec(s, 0..3))
}

fn tt_v1(ports: bool) -> impl Strategy<Value = access::v1alpha1::TrafficTarget> {
    (
        meta(),
        subject_v1(ports),
        list(subject_v1(ports)),
        list(rule()),
    )
        .prop_map(|(m, d, s, r)| {
            let mut t = access::v1alpha1::TrafficTarget::new("", d);
            t.metadata = m;
            t.sources = s;
            t.specs = r;
            t
        })
}

fn tt_v2(ports: bool) -> impl Strategy<Value = access::v1alpha2::TrafficTarget> {
    (
        meta(),
        subject_v1(ports),
        list(subject_v1(ports)),
        list(rule()),
    )
        .prop_map(|(m, d, s, r)| access::v1alpha2::TrafficTarget {
            metadata: m,
            ..access::v1alpha2::TrafficTarget::new(
                "",
                access::v1alpha2::TrafficTargetSpec {
                    destination: d,
                    sources: s,
                    rules: r,
                },
            )
        })
}

fn tt_v3() -> impl Strategy<Value = access::v1alpha3::TrafficTarget> {
    (meta(), subject_v3(), list(subject_v3()), list(rule())).prop_map(|(m, d, s, r)| {
        access::v1alpha3::TrafficTarget {
            metadata: m,
            ..access::v1alpha3::TrafficTarget::new(
                "",
                access::v1alpha3::TrafficTargetSpec {
                    destination: d,
                    sources: s,
                    rules: r,
                },
            )
        }
    })
}

fn tt_v4(lossless: bool) -> impl Strategy<Value = access::v1alpha4::TrafficTarget> {
    (
        meta(),
        subject_v4(lossless),
        list(subject_v4(lossless)),
        list(rule()),
    )
        .prop_map(|(m, d, s, r)| access::v1alpha4::TrafficTarget {
            metadata: m,
            ..access::v1alpha4::TrafficTarget::new(
                "",
                access::v1alpha4::TrafficTargetSpec {
                    destination: d,
                    sources: s,
                    rules: r,
                },
            )
        })
}

fn ib() -> impl Strategy<Value = access::v1alpha4::IdentityBinding> {
    (
        meta(),
        opt(proptest::collection::btree_map(name(), text(), 1..3)),
        list(text()),
        opt(name()),
    )
        .prop_map(|(m, labels, spiffe, sa)| {
            let schemes = access::v1alpha4::IdentityBindingSchemes {
                pod_label_selector: labels.map(|match_labels: BTreeMap<String, String>| {
                    access::v1alpha4::PodLabelSelectorScheme { match_labels }
                }),
                spiffe_identities: spiffe,
                service_account: sa,
            };
            access::v1alpha4::IdentityBinding {
                metadata: m,
                ..access::v1alpha4::IdentityBinding::new("", schemes)
            }
        })
}

fn method() -> impl Strategy<Value = specs::HttpMethod> {
    use specs::HttpMethod::*;
    proptest::sample::select(vec![
        Any, Get, Head, Put, Post, Delete, Connect, Options, Trace, Patch,
    ])
}

fn headers() -> impl Strategy<Value = HttpHeaders> {
    (
        proptest::collection::btree_map("[a-z][a-z-]{0,8}", text(), 0..3),
        prop_oneof![Just(HeadersForm::List), Just(HeadersForm::Map)],
    )
        .prop_map(|(m, form)| m.into_iter().collect::<HttpHeaders>().with_form(form))
}

fn match_v1() -> impl Strategy<Value = specs::v1alpha1::HttpMatch> {
    (name(), list(method()), opt(text())).prop_map(|(name, methods, path_regex)| {
        specs::v1alpha1::HttpMatch {
            name,
            methods,
            path_regex,
        }
    })
}

fn match_v2(with_headers: bool) -> impl Strategy<Value = specs::v1alpha2::HttpMatch> {
    (name(), list(method()), opt(text()), opt(headers())).prop_map(
        move |(name, methods, path_regex, headers)| specs::v1alpha2::HttpMatch {
            name,
            methods,
            path_regex,
            headers: if with_headers { headers } else { None },
        },
    )
}

fn hrg_v1() -> impl Strategy<Value = specs::v1alpha1::HttpRouteGroup> {
    (meta(), list(match_v1())).prop_map(|(m, matches)| specs::v1alpha1::HttpRouteGroup {
        metadata: m,
        matches,
        ..specs::v1alpha1::HttpRouteGroup::new("")
    })
}

fn hrg_v2() -> impl Strategy<Value = specs::v1alpha2::HttpRouteGroup> {
    (meta(), list(match_v2(true))).prop_map(|(m, matches)| specs::v1alpha2::HttpRouteGroup {
        metadata: m,
        matches,
        ..specs::v1alpha2::HttpRouteGroup::new("")
    })
}

fn hrg_v3() -> impl Strategy<Value = specs::v1alpha3::HttpRouteGroup> {
    (meta(), list(match_v2(true))).prop_map(|(m, matches)| {
        let mut g = specs::v1alpha3::HttpRouteGroup::new("");
        g.metadata = m;
        g.spec.matches = matches;
        g
    })
}

fn hrg_v4(with_headers: bool) -> impl Strategy<Value = specs::v1alpha4::HttpRouteGroup> {
    (meta(), list(match_v2(with_headers))).prop_map(|(m, matches)| {
        let mut g = specs::v1alpha4::HttpRouteGroup::new("");
        g.metadata = m;
        g.spec.matches = matches;
        g
    })
}

fn port_match(lossless: bool) -> impl Strategy<Value = specs::v1alpha4::PortMatch> {
    (
        opt(name()),
        opt(proptest::collection::vec(1..=65535i32, 0..4)),
    )
        .prop_map(move |(name, ports)| {
            if lossless {
                specs::v1alpha4::PortMatch::all_ports()
            } else {
                specs::v1alpha4::PortMatch { name, ports }
            }
        })
}

fn quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        (0..100_000i64).prop_map(Quantity::from),
        (
            0..100_000u32,
            prop_oneof![Just(""), Just("m"), Just("k"), Just("Ki"), Just("u")]
        )
            .prop_map(|(n, s)| Quantity::new(format!("{n}{s}"))),
        (0..10_000u32, 1..4u32).prop_map(|(n, d)| Quantity::Number(
            serde_json::Number::from_f64(f64::from(n) / 10f64.powi(d as i32)).unwrap()
        )),
    ]
}

/// A TrafficSplit v1alpha1 weight as the CRD (x-kubernetes-int-or-string) accepts it: a whole
/// number or a string, decimals quoted (a bare `1.5` is refused by the server and the types).
fn weight_quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        (0..100_000i64).prop_map(Quantity::from),
        (
            0..100_000u32,
            prop_oneof![Just(""), Just("m"), Just("k"), Just("Ki"), Just("u")]
        )
            .prop_map(|(n, s)| Quantity::new(format!("{n}{s}"))),
        (0..10_000u32, 1..4u32)
            .prop_map(|(n, d)| Quantity::new(format!("{}", f64::from(n) / 10f64.powi(d as i32)))),
    ]
}

fn split_match() -> impl Strategy<Value = split::v1alpha3::TrafficSplitMatch> {
    (opt(Just("specs.smi-spec.io".to_owned())), name()).prop_map(|(api_group, name)| {
        split::v1alpha3::TrafficSplitMatch {
            api_group,
            kind: "HTTPRouteGroup".into(),
            name,
        }
    })
}

fn backends() -> impl Strategy<Value = Vec<split::v1alpha2::TrafficSplitBackend>> {
    proptest::collection::vec(
        (name(), 0..1_000_000i64)
            .prop_map(|(service, weight)| split::v1alpha2::TrafficSplitBackend { service, weight }),
        0..4,
    )
}

fn ts_v1() -> impl Strategy<Value = split::v1alpha1::TrafficSplit> {
    (
        meta(),
        name(),
        proptest::collection::vec((name(), weight_quantity()), 0..4),
    )
        .prop_map(|(m, svc, bs)| {
            let mut spec = split::v1alpha1::TrafficSplitSpec::new(&svc);
            for (s, w) in bs {
                spec = spec.backend(&s, w);
            }
            split::v1alpha1::TrafficSplit {
                metadata: m,
                ..split::v1alpha1::TrafficSplit::new("", spec)
            }
        })
}

fn ts_v2() -> impl Strategy<Value = split::v1alpha2::TrafficSplit> {
    (meta(), name(), backends()).prop_map(|(m, service, backends)| split::v1alpha2::TrafficSplit {
        metadata: m,
        ..split::v1alpha2::TrafficSplit::new(
            "",
            split::v1alpha2::TrafficSplitSpec { service, backends },
        )
    })
}

fn ts_v3() -> impl Strategy<Value = split::v1alpha3::TrafficSplit> {
    (meta(), name(), backends(), list(split_match())).prop_map(|(m, service, backends, matches)| {
        split::v1alpha3::TrafficSplit {
            metadata: m,
            ..split::v1alpha3::TrafficSplit::new(
                "",
                split::v1alpha3::TrafficSplitSpec {
                    service,
                    backends,
                    matches,
                },
            )
        }
    })
}

fn ts_v4(with_matches: bool) -> impl Strategy<Value = split::v1alpha4::TrafficSplit> {
    (meta(), name(), backends(), list(split_match())).prop_map(
        move |(m, service, backends, matches)| split::v1alpha4::TrafficSplit {
            metadata: m,
            ..split::v1alpha4::TrafficSplit::new(
                "",
                split::v1alpha4::TrafficSplitSpec {
                    service,
                    backends,
                    matches: if with_matches { matches } else { None },
                },
            )
        },
    )
}

fn object_ref() -> impl Strategy<Value = ObjectReference> {
    (opt(name()), opt(name()), opt(name())).prop_map(|(kind, name, namespace)| ObjectReference {
        kind,
        name,
        namespace,
        ..Default::default()
    })
}

fn metric() -> impl Strategy<Value = metrics::Metric> {
    (
        name(),
        opt(prop_oneof![
            Just("ms".to_owned()),
            Just("seconds".to_owned())
        ]),
        opt(quantity()),
    )
        .prop_map(|(name, unit, value)| metrics::Metric { name, unit, value })
}

fn direction() -> impl Strategy<Value = metrics::Direction> {
    prop_oneof![Just(metrics::Direction::To), Just(metrics::Direction::From)]
}

fn tm_v1() -> impl Strategy<Value = metrics::v1alpha1::TrafficMetrics> {
    (
        opt(text()),
        opt(Just("30s".to_owned())),
        opt(object_ref()),
        opt((direction(), opt(object_ref()))),
        list(metric()),
    )
        .prop_map(|(ts, w, r, e, ms)| metrics::v1alpha1::TrafficMetrics {
            timestamp: ts,
            window: w,
            resource: r,
            edge: e.map(|(direction, resource)| metrics::v1alpha1::Edge {
                direction,
                resource,
            }),
            metrics: ms,
            ..metrics::v1alpha1::TrafficMetrics::new("")
        })
}

fn tm_v2() -> impl Strategy<Value = metrics::v1alpha2::TrafficMetrics> {
    (
        opt(text()),
        opt(object_ref()),
        opt((
            direction(),
            opt(prop_oneof![
                Just(metrics::Side::Client),
                Just(metrics::Side::Server)
            ]),
            opt(object_ref()),
        )),
        opt((name(), name(), 0..100i64)),
        list(metric()),
    )
        .prop_map(|(ts, r, e, b, ms)| metrics::v1alpha2::TrafficMetrics {
            timestamp: ts,
            resource: r,
            edge: e.map(|(direction, side, resource)| metrics::v1alpha2::Edge {
                direction,
                side,
                resource,
            }),
            backend: b.map(|(apex, name, weight)| metrics::v1alpha2::Backend {
                apex,
                name,
                weight,
            }),
            metrics: ms,
            ..metrics::v1alpha2::TrafficMetrics::new("1m")
        })
}

/// Every kind × version (the perf kinds have their own tests).
fn any_object() -> impl Strategy<Value = SmiObject> {
    use SmiObject as S;
    prop_oneof![
        tt_v1(true).prop_map(S::TrafficTargetV1alpha1),
        tt_v2(true).prop_map(S::TrafficTargetV1alpha2),
        tt_v3().prop_map(S::TrafficTargetV1alpha3),
        tt_v4(false).prop_map(S::TrafficTargetV1alpha4),
        ib().prop_map(S::IdentityBindingV1alpha4),
        hrg_v1().prop_map(S::HttpRouteGroupV1alpha1),
        hrg_v2().prop_map(S::HttpRouteGroupV1alpha2),
        hrg_v3().prop_map(S::HttpRouteGroupV1alpha3),
        hrg_v4(true).prop_map(S::HttpRouteGroupV1alpha4),
        meta().prop_map(|m| S::TcpRouteV1alpha1(specs::v1alpha1::TcpRoute {
            metadata: m,
            ..specs::v1alpha1::TcpRoute::new("")
        })),
        meta().prop_map(|m| S::TcpRouteV1alpha2(specs::v1alpha2::TcpRoute {
            metadata: m,
            ..specs::v1alpha2::TcpRoute::new("")
        })),
        (meta(), any::<bool>()).prop_map(|(m, b)| S::TcpRouteV1alpha3(specs::v1alpha3::TcpRoute {
            metadata: m,
            spec: b.then_some(specs::v1alpha3::TcpRouteSpec {}),
            ..specs::v1alpha3::TcpRoute::new("")
        })),
        (meta(), port_match(false)).prop_map(|(m, p)| S::TcpRouteV1alpha4(
            specs::v1alpha4::TcpRoute {
                metadata: m,
                ..specs::v1alpha4::TcpRoute::new("", p)
            }
        )),
        (meta(), port_match(false)).prop_map(|(m, p)| S::UdpRouteV1alpha4(
            specs::v1alpha4::UdpRoute {
                metadata: m,
                ..specs::v1alpha4::UdpRoute::new("", p)
            }
        )),
        ts_v1().prop_map(S::TrafficSplitV1alpha1),
        ts_v2().prop_map(S::TrafficSplitV1alpha2),
        ts_v3().prop_map(S::TrafficSplitV1alpha3),
        ts_v4(true).prop_map(S::TrafficSplitV1alpha4),
        tm_v1().prop_map(S::TrafficMetricsV1alpha1),
        tm_v2().prop_map(S::TrafficMetricsV1alpha2),
        proptest::collection::vec(tm_v1(), 0..3).prop_map(|items| S::TrafficMetricsListV1alpha1(
            metrics::v1alpha1::TrafficMetricsList::new(items)
        )),
        proptest::collection::vec(tm_v2(), 0..3).prop_map(|items| S::TrafficMetricsListV1alpha2(
            metrics::v1alpha2::TrafficMetricsList::new(items)
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yaml_json_and_norway_round_trip(obj in any_object()) {
        let yaml = obj.to_yaml().unwrap();
        let docs = smi_types::parse_yaml_stream(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(&docs, &vec![Document::Smi(Box::new(obj.clone()))], "{}", yaml);
        prop_assert_eq!(&SmiObject::from_value(obj.to_value()).unwrap(), &obj);
        let norway: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
        prop_assert_eq!(&SmiObject::from_value(norway).unwrap(), &obj);
    }

    #[test]
    fn up_then_down_is_identity_when_nothing_is_lost(obj in prop_oneof![
        tt_v1(false).prop_map(SmiObject::TrafficTargetV1alpha1),
        tt_v2(false).prop_map(SmiObject::TrafficTargetV1alpha2),
        tt_v3().prop_map(SmiObject::TrafficTargetV1alpha3),
        hrg_v1().prop_map(SmiObject::HttpRouteGroupV1alpha1),
        hrg_v2().prop_map(SmiObject::HttpRouteGroupV1alpha2),
        hrg_v3().prop_map(SmiObject::HttpRouteGroupV1alpha3),
        meta().prop_map(|m| SmiObject::TcpRouteV1alpha1(specs::v1alpha1::TcpRoute { metadata: m, ..specs::v1alpha1::TcpRoute::new("") })),
        meta().prop_map(|m| SmiObject::TcpRouteV1alpha2(specs::v1alpha2::TcpRoute { metadata: m, ..specs::v1alpha2::TcpRoute::new("") })),
        meta().prop_map(|m| SmiObject::TcpRouteV1alpha3(specs::v1alpha3::TcpRoute { metadata: m, ..specs::v1alpha3::TcpRoute::new("") })),
        ts_v2().prop_map(SmiObject::TrafficSplitV1alpha2),
        ts_v3().prop_map(SmiObject::TrafficSplitV1alpha3),
        tm_v1().prop_map(SmiObject::TrafficMetricsV1alpha1),
    ]) {
        let (group, _) = obj.api_version().split_once('/').unwrap();
        let hub = smi_types::known_api_versions()[group].keys().filter(|v| {
            smi_types::known_api_versions()[group][*v].contains(&obj.kind())
        }).max().map(|v| format!("{group}/{v}")).unwrap();
        let up = obj.convert_to(&hub, Lossy::Refuse).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(up.lost.is_empty());
        // UDPRoute rules going to TrafficTarget v1alpha1/v1alpha2 are kept and reported
        let down = up.value.convert_to(obj.api_version(), Lossy::Report).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for l in &down.lost {
            prop_assert!(l.path.starts_with("spec.rules[") && l.value["kind"] == "UDPRoute", "{}", l);
        }
        prop_assert_eq!(down.value, obj);
    }

    #[test]
    fn hub_down_then_up_is_identity_when_nothing_is_lost(obj in prop_oneof![
        tt_v4(true).prop_map(SmiObject::TrafficTargetV1alpha4),
        hrg_v4(false).prop_map(SmiObject::HttpRouteGroupV1alpha4),
        (meta()).prop_map(|m| SmiObject::TcpRouteV1alpha4(specs::v1alpha4::TcpRoute { metadata: m, ..specs::v1alpha4::TcpRoute::new("", specs::v1alpha4::PortMatch::default()) })),
        ts_v4(false).prop_map(SmiObject::TrafficSplitV1alpha4),
    ], version in prop_oneof![Just("v1alpha1"), Just("v1alpha2"), Just("v1alpha3")]) {
        let (group, _) = obj.api_version().split_once('/').unwrap();
        let target = format!("{group}/{version}");
        let down = obj.convert_to(&target, Lossy::Report).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for l in &down.lost {
            prop_assert!(l.path.starts_with("spec.rules[") && l.value["kind"] == "UDPRoute", "{}", l);
        }
        let up = down.value.convert_to(obj.api_version(), Lossy::Refuse).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(up.value, obj);
    }

    #[test]
    fn traffic_target_v1alpha1_v1alpha2_keep_ports(tt in tt_v1(true)) {
        let obj = SmiObject::TrafficTargetV1alpha1(tt);
        let v2 = obj.convert_to("access.smi-spec.io/v1alpha2", Lossy::Refuse).unwrap();
        prop_assert!(v2.lost.is_empty());
        prop_assert_eq!(v2.value.convert_to("access.smi-spec.io/v1alpha1", Lossy::Refuse).unwrap().value, obj);
    }

    #[test]
    fn traffic_split_v1alpha1_to_v1alpha2_keeps_ratios(
        ws in proptest::collection::vec((0..100_000i64, prop_oneof![Just(("", 1000i128)), Just(("m", 1)), Just(("k", 1_000_000))]), 1..5)
    ) {
        let mut spec = split::v1alpha1::TrafficSplitSpec::new("web");
        for (i, (n, (suffix, _))) in ws.iter().enumerate() {
            spec = spec.backend(&format!("b{i}"), Quantity::new(format!("{n}{suffix}")));
        }
        let obj = SmiObject::TrafficSplitV1alpha1(split::v1alpha1::TrafficSplit::new("s", spec));
        let out = obj.convert_to("split.smi-spec.io/v1alpha2", Lossy::Refuse).unwrap().value;
        let SmiObject::TrafficSplitV1alpha2(ts) = out else { panic!() };
        let milli: Vec<i128> = ws.iter().map(|(n, (_, scale))| i128::from(*n) * scale).collect();
        let ints: Vec<i128> = ts.spec.backends.iter().map(|b| i128::from(b.weight)).collect();
        for i in 0..ws.len() {
            for j in 0..ws.len() {
                prop_assert_eq!(milli[i] * ints[j], milli[j] * ints[i]);
            }
        }
    }
}
