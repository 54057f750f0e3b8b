//! Conversions: losses are reported or refused, never silent; the webhook handler.

use serde_json::json;
use smi_types::convert::{self, ConvertError, Lossy};
use smi_types::{SmiObject, access, specs, split};

fn obj(v: serde_json::Value) -> SmiObject {
    SmiObject::from_value(v).unwrap()
}

#[test]
fn traffic_target_port_is_lost_going_up() {
    let tt = obj(
        json!({"apiVersion": "access.smi-spec.io/v1alpha1", "kind": "TrafficTarget", "metadata": {"name": "t"},
        "destination": {"kind": "ServiceAccount", "name": "api", "port": 8080},
        "sources": [{"kind": "ServiceAccount", "name": "web", "port": 1}],
        "specs": [{"kind": "HTTPRouteGroup", "name": "r", "matches": ["m"]}]}),
    );
    let err = tt
        .convert_to("access.smi-spec.io/v1alpha3", Lossy::Refuse)
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("destination.port = 8080") && msg.contains("sources[0].port = 1"),
        "{msg}"
    );
    let c = tt
        .convert_to("access.smi-spec.io/v1alpha4", Lossy::Report)
        .unwrap();
    assert_eq!(c.lost.len(), 2);
    let v = c.value.to_value();
    assert_eq!(v["spec"]["rules"][0]["matches"][0], "m");
    assert_eq!(
        v["spec"]["destination"],
        json!({"kind": "ServiceAccount", "name": "api"})
    );
    // v1alpha1 <-> v1alpha2 convert directly and keep the ports
    let v2 = tt
        .convert_to("access.smi-spec.io/v1alpha2", Lossy::Refuse)
        .unwrap()
        .value;
    assert_eq!(v2.to_value()["spec"]["destination"]["port"], 8080);
    assert_eq!(
        v2.convert_to("access.smi-spec.io/v1alpha1", Lossy::Refuse)
            .unwrap()
            .value,
        tt
    );
}

#[test]
fn identity_binding_subjects_reported_going_down() {
    let tt = access::v1alpha4::TrafficTarget::new(
        "t",
        access::v1alpha4::TrafficTargetSpec::new(
            access::v1alpha4::IdentityBindingSubject::identity_binding("api"),
        ),
    );
    let o = SmiObject::TrafficTargetV1alpha4(tt);
    let err = o
        .convert_to("access.smi-spec.io/v1alpha3", Lossy::Refuse)
        .unwrap_err();
    assert!(
        matches!(err, ConvertError::Lossy { ref lost, .. } if lost[0].path == "spec.destination.kind")
    );
}

#[test]
fn headers_lost_going_to_v1alpha1() {
    let g = obj(
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup", "metadata": {"name": "g"},
        "spec": {"matches": [{"name": "a", "headers": [{"x": "1"}]}, {"name": "b", "pathRegex": "/b"}]}}),
    );
    let c = g
        .convert_to("specs.smi-spec.io/v1alpha1", Lossy::Report)
        .unwrap();
    assert_eq!(c.lost.len(), 1);
    assert_eq!(c.lost[0].path, "spec.matches[0].headers");
    assert_eq!(c.lost[0].value, json!([{"x": "1"}]));
    let v2 = g
        .convert_to("specs.smi-spec.io/v1alpha2", Lossy::Refuse)
        .unwrap()
        .value
        .to_value();
    assert_eq!(v2["matches"][0]["headers"], json!([{"x": "1"}]));
}

#[test]
fn tcp_route_ports() {
    let r = obj(
        json!({"apiVersion": "specs.smi-spec.io/v1alpha2", "kind": "TCPRoute", "metadata": {"name": "r"}}),
    );
    let up = r
        .convert_to("specs.smi-spec.io/v1alpha4", Lossy::Refuse)
        .unwrap()
        .value;
    // nothing invented: no `ports: []` (regression: up-conversion wrote it)
    assert_eq!(up.to_value()["spec"], json!({"matches": {}}));
    let back = up
        .convert_to("specs.smi-spec.io/v1alpha2", Lossy::Refuse)
        .unwrap()
        .value;
    assert_eq!(back, r);
    let with_ports = SmiObject::TcpRouteV1alpha4(specs::v1alpha4::TcpRoute::new(
        "r",
        specs::v1alpha4::PortMatch::ports([5432]),
    ));
    let err = with_ports
        .convert_to("specs.smi-spec.io/v1alpha3", Lossy::Refuse)
        .unwrap_err();
    assert!(
        err.to_string().contains("spec.matches.ports = [5432]"),
        "{err}"
    );
}

#[test]
fn traffic_split_weights_keep_ratios() {
    let s = obj(
        json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "metadata": {"name": "s"},
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}, {"service": "c", "weight": "0m"}]}}),
    );
    let v = s
        .convert_to("split.smi-spec.io/v1alpha2", Lossy::Refuse)
        .unwrap()
        .value
        .to_value();
    assert_eq!(
        v["spec"]["backends"],
        json!([{"service": "a", "weight": 10}, {"service": "b", "weight": 5}, {"service": "c", "weight": 0}])
    );
    let huge = split::v1alpha1::TrafficSplit::new(
        "s",
        split::v1alpha1::TrafficSplitSpec::new("web")
            .backend("a", "1E")
            .backend("b", "1n"),
    );
    let err = SmiObject::TrafficSplitV1alpha1(huge)
        .convert_to("split.smi-spec.io/v1alpha4", Lossy::Report)
        .unwrap_err();
    assert!(matches!(err, ConvertError::Weight { .. }), "{err}");
}

#[test]
fn traffic_split_matches_lost_going_down() {
    let s = split::v1alpha4::TrafficSplit::new(
        "s",
        split::v1alpha4::TrafficSplitSpec::new("web")
            .backend("a", 1)
            .http_route_group("g"),
    );
    let o = SmiObject::TrafficSplitV1alpha4(s);
    assert!(
        o.convert_to("split.smi-spec.io/v1alpha2", Lossy::Refuse)
            .is_err()
    );
    let c = o
        .convert_to("split.smi-spec.io/v1alpha1", Lossy::Report)
        .unwrap();
    assert_eq!(c.lost[0].path, "spec.matches");
    assert_eq!(c.value.to_value()["spec"]["backends"][0]["weight"], "1");
}

#[test]
fn unknown_target_lists_versions() {
    let r = SmiObject::UdpRouteV1alpha4(specs::v1alpha4::UdpRoute::new(
        "u",
        specs::v1alpha4::PortMatch::all_ports(),
    ));
    let err = r
        .convert_to("specs.smi-spec.io/v1alpha3", Lossy::Report)
        .unwrap_err();
    assert!(
        err.to_string().contains("specs.smi-spec.io/v1alpha4"),
        "{err}"
    );
    assert!(
        r.convert_to("split.smi-spec.io/v1alpha4", Lossy::Report)
            .is_err()
    );
    assert!(
        r.convert_to("specs.smi-spec.io/v1alpha4", Lossy::Refuse)
            .is_ok()
    );
}

fn review_of(
    desired: &str,
    objects: Vec<serde_json::Value>,
) -> kube_core::conversion::ConversionReview {
    serde_json::from_value(
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
        "request": {"uid": "u-1", "desiredAPIVersion": desired, "objects": objects}}),
    )
    .unwrap()
}

#[test]
fn review_stashes_by_default_and_refuses_when_asked() {
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget", "metadata": {"name": "t"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "port": 80}}});
    let out = convert::review(review_of("access.smi-spec.io/v1alpha3", vec![tt.clone()]));
    let resp = out.response.unwrap();
    assert_eq!(resp.uid, "u-1");
    assert!(resp.result.is_success(), "{}", resp.result.message);
    let v3 = &resp.converted_objects[0];
    assert_eq!(v3["apiVersion"], "access.smi-spec.io/v1alpha3");
    assert_eq!(v3["metadata"]["name"], "t");
    assert!(v3["spec"]["destination"].get("port").is_none());
    assert!(v3["metadata"]["annotations"][convert::STASH_ANNOTATION].is_string());
    // what the desired version does not show is said in the result message
    assert!(
        resp.result
            .message
            .contains("object 0: spec.destination.port = 80"),
        "{}",
        resp.result.message
    );
    // and comes back
    let back = convert::review(review_of("access.smi-spec.io/v1alpha2", vec![v3.clone()]));
    assert_eq!(back.response.unwrap().converted_objects[0], tt);

    let out = convert::review_with(
        review_of("access.smi-spec.io/v1alpha3", vec![tt]),
        Lossy::Refuse,
    );
    let resp = out.response.unwrap();
    assert!(resp.result.is_failure());
    assert!(
        resp.result.message.contains("spec.destination.port"),
        "{}",
        resp.result.message
    );
}

#[test]
fn review_without_request_is_invalid() {
    let r: kube_core::conversion::ConversionReview = serde_json::from_value(
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"}),
    )
    .unwrap();
    assert!(convert::review(r).response.unwrap().result.is_failure());
}

#[test]
fn review_fails_only_for_malformed_objects() {
    let good = json!({"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit", "metadata": {"name": "s"}});
    for bad in [
        json!("text"),
        json!({"kind": "TrafficSplit"}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha2"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap"}),
        json!({"apiVersion": "split.smi-spec.io/v9", "kind": "TrafficSplit"}),
    ] {
        let out = convert::review(review_of(
            "split.smi-spec.io/v1alpha4",
            vec![good.clone(), bad.clone()],
        ));
        let resp = out.response.unwrap();
        assert!(resp.result.is_failure(), "{bad}");
        assert!(
            resp.result.message.starts_with("object 1: "),
            "{}",
            resp.result.message
        );
    }
    let out = convert::review(review_of("split.smi-spec.io/v2", vec![good]));
    let msg = out.response.unwrap().result.message;
    assert!(msg.contains("known apiVersions of TrafficSplit"), "{msg}");
}

fn to(v: &serde_json::Value, api_version: &str) -> serde_json::Value {
    convert::convert_value(v, api_version)
        .unwrap_or_else(|e| panic!("{v} to {api_version}: {e}"))
        .value
}

/// Regression (issue: one object fails the list): a LIST at v1alpha3 of TrafficTargets of which
/// one uses `port` converts every object.
#[test]
fn one_object_with_a_newer_field_does_not_fail_the_list() {
    let plain = json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": {"name": "a"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "api"}}});
    let grouped = json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": {"name": "b"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "group": "x.io"}}});
    let out = convert::review(review_of(
        "access.smi-spec.io/v1alpha3",
        vec![plain, grouped.clone()],
    ));
    let resp = out.response.unwrap();
    assert!(resp.result.is_success(), "{}", resp.result.message);
    assert_eq!(resp.converted_objects.len(), 2);
    assert!(
        resp.converted_objects[1]["spec"]["destination"]
            .get("group")
            .is_none()
    );
    assert_eq!(
        to(&resp.converted_objects[1], "access.smi-spec.io/v1alpha4"),
        grouped
    );
}

/// Regression (issue: partial objects): server-side apply converts partial objects; typed
/// conversion refused them (`missing field service`).
#[test]
fn partial_objects_convert() {
    let cases = [
        json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "spec": {"backends": [{"weight": "500m"}]}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha1", "kind": "TrafficTarget", "sources": [{"port": 1}]}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": {"labels": {"a": "b"}}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup", "spec": {"matches": [{"headers": [{"a": "b"}]}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute", "spec": {"matches": {"ports": [1]}}}),
    ];
    for c in cases {
        let (group, _) = c["apiVersion"].as_str().unwrap().split_once('/').unwrap();
        for v in ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"] {
            let other = to(&c, &format!("{group}/{v}"));
            assert_eq!(to(&other, c["apiVersion"].as_str().unwrap()), c, "via {v}");
        }
    }
    let tt = to(
        &json!({"apiVersion": "access.smi-spec.io/v1alpha1", "kind": "TrafficTarget", "sources": [{"port": 1}]}),
        "access.smi-spec.io/v1alpha2",
    );
    assert_eq!(
        tt,
        json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget", "spec": {"sources": [{"port": 1}]}})
    );
}

/// Regression (issue: round trips lose data): up → down → up keeps TrafficTarget `port`,
/// TrafficSplit `matches`, HTTPRouteGroup `headers`, subject `group`, TCPRoute `ports`.
#[test]
fn round_trips_keep_every_field() {
    let cases = [
        json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget", "metadata": {"name": "t"},
            "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "port": 8080},
                     "sources": [{"kind": "ServiceAccount", "name": "web", "port": 1}]}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": {"name": "t"},
            "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "group": "g"}}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit", "metadata": {"name": "s"},
            "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}],
                     "matches": [{"kind": "HTTPRouteGroup", "name": "r"}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup", "metadata": {"name": "h"},
            "spec": {"matches": [{"name": "m", "headers": [{"x-a": "1"}]}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute", "metadata": {"name": "r"},
            "spec": {"matches": {"name": "db", "ports": [5432]}}}),
    ];
    for c in cases {
        let av = c["apiVersion"].as_str().unwrap();
        let group = av.split_once('/').unwrap().0;
        for v in ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"] {
            let down = to(&c, &format!("{group}/{v}"));
            // and through a second version before coming back
            for w in ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"] {
                let side = to(&down, &format!("{group}/{w}"));
                assert_eq!(to(&side, av), c, "via {v} and {w}");
            }
        }
    }
}

/// Regression (issue: values change silently): v1alpha1 `1`, `500m` come back byte for byte.
#[test]
fn v1alpha1_weights_come_back_as_written() {
    let v1 = json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "metadata": {"name": "s"},
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}, {"service": "c", "weight": "100"}]}});
    for v in ["v1alpha2", "v1alpha3", "v1alpha4"] {
        let up = to(&v1, &format!("split.smi-spec.io/{v}"));
        let w: Vec<_> = up["spec"]["backends"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["weight"].clone())
            .collect();
        assert_eq!(w, vec![json!(10), json!(5), json!(1000)]);
        let back = to(&up, "split.smi-spec.io/v1alpha1");
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&v1).unwrap()
        );
    }
    // an edit at v1alpha4 wins over the stash: the new integers go down as numbers
    let mut up = to(&v1, "split.smi-spec.io/v1alpha4");
    up["spec"]["backends"][0]["weight"] = json!(20);
    let down = to(&up, "split.smi-spec.io/v1alpha1");
    assert_eq!(down["spec"]["backends"][0]["weight"], 20);
    assert_eq!(down["spec"]["backends"][1]["weight"], 5);
    assert!(down["metadata"].get("annotations").is_none(), "{down}");
}

/// An update at an old version keeps the new-version fields (the stash rides along), and
/// an edit at the old version is kept too.
#[test]
fn update_at_an_old_version_keeps_new_fields() {
    let v4 = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit", "metadata": {"name": "s", "annotations": {"keep": "me"}},
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}],
                 "matches": [{"kind": "HTTPRouteGroup", "name": "r"}]}});
    let mut v2 = to(&v4, "split.smi-spec.io/v1alpha2");
    v2["spec"]["backends"][0]["weight"] = json!(7);
    v2["spec"]["service"] = json!("web2");
    let up = to(&v2, "split.smi-spec.io/v1alpha4");
    let mut want = v4.clone();
    want["spec"]["backends"][0]["weight"] = json!(7);
    want["spec"]["service"] = json!("web2");
    assert_eq!(up, want);
}

/// UDPRoute rules in TrafficTarget v1alpha1/v1alpha2 are kept and reported.
#[test]
fn udp_route_rules_are_reported_going_down() {
    let v4 = json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": {"name": "t"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "dns"},
                 "rules": [{"kind": "TCPRoute", "name": "t"}, {"kind": "UDPRoute", "name": "u"}]}});
    for v in ["v1alpha1", "v1alpha2"] {
        let c = convert::convert_value(&v4, &format!("access.smi-spec.io/{v}")).unwrap();
        assert_eq!(c.lost.len(), 1, "{:?}", c.lost);
        assert_eq!(c.lost[0].path, "spec.rules[1]");
        let typed = obj(v4.clone())
            .convert_to(&format!("access.smi-spec.io/{v}"), Lossy::Report)
            .unwrap();
        assert_eq!(typed.lost[0].path, "spec.rules[1]");
        assert!(
            obj(v4.clone())
                .convert_to(&format!("access.smi-spec.io/{v}"), Lossy::Refuse)
                .is_err()
        );
    }
}
