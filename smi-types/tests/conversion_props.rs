//! Property tests of the webhook conversion ([`smi_types::convert::convert_value`]): for every
//! kind with more than one version and every pair (and triple) of its versions, on generated
//! objects — whole ones, partial ones (any field left out, as server-side apply sends them) and
//! ones carrying fields no SMI version knows:
//!
//! - A → B → A gives A back exactly (B-only fields survive B → A → B: the same property with
//!   the roles swapped, since objects are generated at every version);
//! - A → B → C → A gives A back (the API server converting a stored object on);
//! - the result is at B, and an unknown field at the top level stays there.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use smi_types::convert::{STASH_ANNOTATION, convert_value};

const FOUR: [&str; 4] = ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"];
/// A field name no SMI version uses.
const UNKNOWN: &str = "zzUnknown";

fn name() -> impl Strategy<Value = Value> {
    "[a-z][a-z0-9-]{0,8}".prop_map(Value::String)
}

fn opt(s: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    proptest::option::of(s)
}

fn obj(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect(),
    )
}

fn list(
    s: impl Strategy<Value = Value>,
    n: std::ops::Range<usize>,
) -> impl Strategy<Value = Value> {
    proptest::collection::vec(s, n).prop_map(Value::Array)
}

fn meta() -> impl Strategy<Value = Value> {
    (
        name(),
        opt(name()),
        opt(
            proptest::collection::btree_map("[a-z]{1,5}", "[ -~]{0,6}", 1..3)
                .prop_map(|m| json!(m)),
        ),
        opt(
            proptest::collection::btree_map("[a-z]{1,5}", "[ -~]{0,6}", 1..3)
                .prop_map(|m| json!(m)),
        ),
    )
        .prop_map(|(n, ns, labels, ann)| {
            obj(vec![
                ("name", Some(n)),
                ("namespace", ns),
                ("labels", labels),
                ("annotations", ann),
            ])
        })
}

fn port() -> impl Strategy<Value = Value> {
    (1..=65535i64).prop_map(Value::from)
}

fn subject(v: &'static str) -> impl Strategy<Value = Value> {
    let kinds = if v == "v1alpha4" {
        vec!["ServiceAccount", "IdentityBinding"]
    } else {
        vec!["ServiceAccount"]
    };
    (
        proptest::sample::select(kinds),
        name(),
        opt(name()),
        opt(port()),
        opt(name()),
    )
        .prop_map(move |(k, n, ns, p, g)| {
            obj(vec![
                ("kind", Some(json!(k))),
                ("name", Some(n)),
                ("namespace", ns),
                ("port", p.filter(|_| matches!(v, "v1alpha1" | "v1alpha2"))),
                ("group", g.filter(|_| v == "v1alpha4")),
            ])
        })
}

fn rule() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(vec!["HTTPRouteGroup", "TCPRoute", "UDPRoute"]),
        name(),
        opt(list(name(), 0..3)),
    )
        .prop_map(|(k, n, m)| {
            obj(vec![
                ("kind", Some(json!(k))),
                ("name", Some(n)),
                ("matches", m),
            ])
        })
}

fn traffic_target(v: &'static str) -> BoxedStrategy<Value> {
    (
        meta(),
        subject(v),
        opt(list(subject(v), 0..3)),
        opt(list(rule(), 0..3)),
    )
        .prop_map(move |(m, d, s, r)| {
            let head = vec![
                ("apiVersion", Some(json!(format!("access.smi-spec.io/{v}")))),
                ("kind", Some(json!("TrafficTarget"))),
                ("metadata", Some(m)),
            ];
            if v == "v1alpha1" {
                obj([
                    head,
                    vec![("destination", Some(d)), ("sources", s), ("specs", r)],
                ]
                .concat())
            } else {
                let spec = obj(vec![("destination", Some(d)), ("sources", s), ("rules", r)]);
                obj([head, vec![("spec", Some(spec))]].concat())
            }
        })
        .boxed()
}

fn http_match(v: &'static str) -> impl Strategy<Value = Value> {
    (
        name(),
        opt(list(
            proptest::sample::select(vec!["GET", "POST", "*"]).prop_map(|m| json!(m)),
            0..3,
        )),
        opt("/[a-z]{0,5}".prop_map(Value::String)),
        opt(list(
            ("[a-z]{1,5}", "[a-z]{0,5}").prop_map(|(k, v)| json!({ k: v })),
            0..3,
        )),
    )
        .prop_map(move |(n, methods, path, headers)| {
            obj(vec![
                ("name", Some(n)),
                ("methods", methods),
                ("pathRegex", path),
                ("headers", headers.filter(|_| v != "v1alpha1")),
            ])
        })
}

fn http_route_group(v: &'static str) -> BoxedStrategy<Value> {
    (meta(), opt(list(http_match(v), 0..3)))
        .prop_map(move |(m, matches)| {
            let head = vec![
                ("apiVersion", Some(json!(format!("specs.smi-spec.io/{v}")))),
                ("kind", Some(json!("HTTPRouteGroup"))),
                ("metadata", Some(m)),
            ];
            match v {
                "v1alpha1" | "v1alpha2" => obj([head, vec![("matches", matches)]].concat()),
                _ => obj([head, vec![("spec", Some(obj(vec![("matches", matches)])))]].concat()),
            }
        })
        .boxed()
}

fn tcp_route(v: &'static str) -> BoxedStrategy<Value> {
    (meta(), opt(name()), opt(list(port(), 0..3)), any::<bool>())
        .prop_map(move |(m, n, ports, with_spec)| {
            let head = vec![
                ("apiVersion", Some(json!(format!("specs.smi-spec.io/{v}")))),
                ("kind", Some(json!("TCPRoute"))),
                ("metadata", Some(m)),
            ];
            let spec = match v {
                "v1alpha3" => with_spec.then(|| json!({})),
                "v1alpha4" => Some(json!({"matches": obj(vec![("name", n), ("ports", ports)])})),
                _ => None,
            };
            obj([head, vec![("spec", spec)]].concat())
        })
        .boxed()
}

fn weight(v: &'static str) -> BoxedStrategy<Value> {
    if v == "v1alpha1" {
        prop_oneof![
            (0..1000i64).prop_map(Value::from),
            proptest::sample::select(vec![
                "500m", "1", "100", "2k", "0.5", "1Ki", "250m", "0", "1e2", "10"
            ])
            .prop_map(|q| json!(q)),
        ]
        .boxed()
    } else {
        (0..1000i64).prop_map(Value::from).boxed()
    }
}

fn traffic_split(v: &'static str) -> BoxedStrategy<Value> {
    let backend = (name(), weight(v)).prop_map(|(s, w)| json!({"service": s, "weight": w}));
    let split_match = (name(), opt(Just(json!("specs.smi-spec.io")))).prop_map(|(n, g)| {
        obj(vec![
            ("kind", Some(json!("HTTPRouteGroup"))),
            ("name", Some(n)),
            ("apiGroup", g),
        ])
    });
    (meta(), name(), list(backend, 0..4), opt(list(split_match, 0..3)))
        .prop_map(move |(m, service, backends, matches)| {
            let spec = obj(vec![
                ("service", Some(service)),
                ("backends", Some(backends)),
                ("matches", matches.filter(|_| matches!(v, "v1alpha3" | "v1alpha4"))),
            ]);
            json!({"apiVersion": format!("split.smi-spec.io/{v}"), "kind": "TrafficSplit", "metadata": m, "spec": spec})
        })
        .boxed()
}

fn traffic_metrics(v: &'static str) -> BoxedStrategy<Value> {
    let reference = || (name(), name()).prop_map(|(k, n)| json!({"kind": k, "name": n}));
    (
        meta(),
        opt("[0-9]{1,3}s".prop_map(Value::String)),
        opt(reference()),
        proptest::option::of((
            proptest::sample::select(vec!["from", "to"]),
            opt(proptest::sample::select(vec!["client", "server"]).prop_map(|s| json!(s))),
            opt(reference()),
        )),
        proptest::option::of((name(), name(), 0..100i64)),
    )
        .prop_map(move |(m, window, resource, edge, backend)| {
            let edge = edge.map(|(d, side, r)| {
                obj(vec![
                    ("direction", Some(json!(d))),
                    ("side", side.filter(|_| v == "v1alpha2")),
                    ("resource", r),
                ])
            });
            let backend = backend
                .filter(|_| v == "v1alpha2")
                .map(|(a, n, w)| json!({"apex": a, "name": n, "weight": w}));
            obj(vec![
                (
                    "apiVersion",
                    Some(json!(format!("metrics.smi-spec.io/{v}"))),
                ),
                ("kind", Some(json!("TrafficMetrics"))),
                ("metadata", Some(m)),
                ("window", window),
                ("resource", resource),
                ("edge", edge),
                ("backend", backend),
                (
                    "metrics",
                    Some(json!([{"name": "p99_response_latency", "unit": "ms", "value": "10"}])),
                ),
            ])
        })
        .boxed()
}

/// Leaves fields out (never `apiVersion`/`kind`) and adds unknown fields, one choice per object
/// node met, depth first.
fn perturb(v: &mut Value, choices: &[u8], at: &mut usize, root: bool) {
    match v {
        Value::Object(m) => {
            let c = choices.get(*at).copied().unwrap_or(0);
            *at += 1;
            let keys: Vec<String> = m.keys().cloned().collect();
            if c % 4 == 1 && !keys.is_empty() {
                let k = &keys[usize::from(c / 4) % keys.len()];
                if !(root && (k == "apiVersion" || k == "kind")) {
                    m.remove(k);
                }
            } else if c % 4 == 2 {
                m.insert(UNKNOWN.into(), json!({"a": [1, "x"], "b": null}));
            }
            for (_, child) in m.iter_mut() {
                perturb(child, choices, at, false);
            }
        }
        Value::Array(a) => {
            for child in a {
                perturb(child, choices, at, false);
            }
        }
        _ => {}
    }
}

type Make = fn(&'static str) -> BoxedStrategy<Value>;

fn kinds() -> Vec<(&'static str, Vec<&'static str>, Make)> {
    vec![
        ("access.smi-spec.io", FOUR.to_vec(), traffic_target),
        ("specs.smi-spec.io", FOUR.to_vec(), http_route_group),
        ("specs.smi-spec.io", FOUR.to_vec(), tcp_route),
        ("split.smi-spec.io", FOUR.to_vec(), traffic_split),
        (
            "metrics.smi-spec.io",
            vec!["v1alpha1", "v1alpha2"],
            traffic_metrics,
        ),
    ]
}

/// (object, group, versions of its kind), at every version of every kind, perturbed.
fn any_object() -> impl Strategy<Value = (Value, &'static str, Vec<&'static str>)> {
    let mut all = Vec::new();
    for (group, versions, make) in kinds() {
        for v in versions.clone() {
            let vs = versions.clone();
            all.push(
                (
                    make(v),
                    proptest::collection::vec(any::<u8>(), 0..24),
                    any::<bool>(),
                    any::<bool>(),
                )
                    .prop_map(move |(mut o, choices, partial, unknown_top)| {
                        if partial {
                            perturb(&mut o, &choices, &mut 0, true);
                        }
                        if unknown_top && let Some(m) = o.as_object_mut() {
                            m.insert("zzTop".into(), json!(1));
                        }
                        (o, group, vs.clone())
                    })
                    .boxed(),
            );
        }
    }
    proptest::strategy::Union::new(all)
}

fn conv(o: &Value, api_version: &str) -> Result<Value, TestCaseError> {
    let c = convert_value(o, api_version)
        .map_err(|e| TestCaseError::fail(format!("{o} to {api_version}: {e}")))?;
    prop_assert_eq!(&c.value["apiVersion"], &json!(api_version));
    if o.get("zzTop").is_some() {
        prop_assert_eq!(
            &c.value["zzTop"],
            &json!(1),
            "unknown top-level field moved"
        );
    }
    Ok(c.value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_b_a_is_the_identity((o, group, versions) in any_object()) {
        let a = o["apiVersion"].as_str().unwrap().to_owned();
        for v in &versions {
            let b = conv(&o, &format!("{group}/{v}"))?;
            let back = conv(&b, &a)?;
            prop_assert_eq!(&back, &o, "through {}", v);
        }
    }

    #[test]
    fn a_b_c_a_is_the_identity((o, group, versions) in any_object(), i in 0usize..4, j in 0usize..4) {
        let a = o["apiVersion"].as_str().unwrap().to_owned();
        let b = versions[i % versions.len()];
        let c = versions[j % versions.len()];
        let ob = conv(&o, &format!("{group}/{b}"))?;
        let oc = conv(&ob, &format!("{group}/{c}"))?;
        let back = conv(&oc, &a)?;
        prop_assert_eq!(&back, &o, "through {} and {}", b, c);
    }

    /// The stash is written only when needed and its text is the same whatever the path taken.
    #[test]
    fn the_stash_is_canonical((o, group, versions) in any_object(), i in 0usize..4) {
        let b = versions[i % versions.len()];
        let direct = conv(&o, &format!("{group}/{b}"))?;
        for c in &versions {
            let via = conv(&conv(&o, &format!("{group}/{c}"))?, &format!("{group}/{b}"))?;
            prop_assert_eq!(&via, &direct, "via {}", c);
        }
        let same = o["apiVersion"].as_str() == Some(&format!("{group}/{b}"));
        let stash = direct["metadata"]["annotations"].get(STASH_ANNOTATION);
        if same {
            prop_assert!(stash.is_none() || o["metadata"]["annotations"].get(STASH_ANNOTATION).is_some());
        }
    }
}

fn map(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// B-only fields survive B → A → B, spelled out for the fields the issue lists.
#[test]
fn newer_fields_survive_older_versions() {
    let cases = [
        (
            json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
            "spec": {"matches": [{"kind": "HTTPRouteGroup", "name": "r"}]}}),
            "/spec/matches",
        ),
        (
            json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute",
            "spec": {"matches": {"ports": [80]}}}),
            "/spec/matches/ports",
        ),
        (
            json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget",
            "spec": {"destination": {"port": 8080}}}),
            "/spec/destination/port",
        ),
    ];
    for (o, pointer) in cases {
        let av = o["apiVersion"].as_str().unwrap();
        let group = av.split_once('/').unwrap().0;
        for v in FOUR {
            let there = convert_value(&o, &format!("{group}/{v}")).unwrap().value;
            let back = convert_value(&there, av).unwrap().value;
            assert_eq!(back.pointer(pointer), o.pointer(pointer), "via {v}");
            assert_eq!(map(back), map(o.clone()));
        }
    }
}

/// A TCPRoute v1alpha3 written without `spec` (the field is optional there) reads at v1alpha4
/// with the `spec.matches` v1alpha4 requires, reports no loss, and comes back without `spec`;
/// a v1alpha3 `spec: {}` stays told apart from it.
#[test]
fn spec_less_tcp_route_v1alpha3_reads_at_v1alpha4() {
    use smi_types::specs::v1alpha4::TcpRoute;
    let v3 = json!({"apiVersion": "specs.smi-spec.io/v1alpha3", "kind": "TCPRoute",
        "metadata": {"name": "db", "namespace": "ns"}});
    let up = convert_value(&v3, "specs.smi-spec.io/v1alpha4").unwrap();
    assert!(up.lost.is_empty(), "{:?}", up.lost);
    assert_eq!(up.value["spec"], json!({"matches": {}}), "{}", up.value);
    // what v1alpha4 requires: the typed v1alpha4 object reads it
    let typed: TcpRoute = serde_json::from_value(up.value.clone()).unwrap();
    assert!(typed.spec.matches.ports.is_none_or(|p| p.is_empty()));
    assert!(
        up.value["metadata"]["annotations"][STASH_ANNOTATION].is_string(),
        "{}",
        up.value
    );
    let down = convert_value(&up.value, "specs.smi-spec.io/v1alpha3").unwrap();
    assert!(down.lost.is_empty(), "{:?}", down.lost);
    assert_eq!(down.value, v3);

    // through every other version on the way up and down
    for via in ["v1alpha1", "v1alpha2"] {
        let there = convert_value(&v3, &format!("specs.smi-spec.io/{via}"))
            .unwrap()
            .value;
        let v4 = convert_value(&there, "specs.smi-spec.io/v1alpha4")
            .unwrap()
            .value;
        assert_eq!(v4["spec"], json!({"matches": {}}), "via {via}: {v4}");
        let back = convert_value(&v4, "specs.smi-spec.io/v1alpha3")
            .unwrap()
            .value;
        assert_eq!(back, v3, "via {via}");
    }

    // `spec: {}` at v1alpha3 is another object: it comes back with its `spec`
    let mut with_spec = v3.clone();
    with_spec["spec"] = json!({});
    let up2 = convert_value(&with_spec, "specs.smi-spec.io/v1alpha4").unwrap();
    assert_eq!(up2.value["spec"], json!({"matches": {}}));
    assert!(
        up2.value["metadata"].get("annotations").is_none(),
        "{}",
        up2.value
    );
    let down2 = convert_value(&up2.value, "specs.smi-spec.io/v1alpha3").unwrap();
    assert_eq!(down2.value, with_spec);

    // a v1alpha4 object with ports, edited down at v1alpha3 to spec-less: the ports come back
    let v4 = json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute",
        "metadata": {"name": "db"}, "spec": {"matches": {"ports": [5432]}}});
    let v3b = convert_value(&v4, "specs.smi-spec.io/v1alpha3")
        .unwrap()
        .value;
    assert_eq!(v3b["spec"], json!({}));
    assert_eq!(
        convert_value(&v3b, "specs.smi-spec.io/v1alpha4")
            .unwrap()
            .value,
        v4
    );
}
