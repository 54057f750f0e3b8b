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
    assert_eq!(up.to_value()["spec"], json!({"matches": {"ports": []}}));
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
fn review_refuses_lossy_by_default_and_reports_when_asked() {
    let tt = json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget", "metadata": {"name": "t"},
        "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "port": 80}}});
    let out = convert::review(review_of("access.smi-spec.io/v1alpha3", vec![tt.clone()]));
    let resp = out.response.unwrap();
    assert_eq!(resp.uid, "u-1");
    assert!(resp.result.is_failure());
    assert!(
        resp.result.message.contains("spec.destination.port"),
        "{}",
        resp.result.message
    );
    let out = convert::review_with(
        review_of("access.smi-spec.io/v1alpha3", vec![tt]),
        Lossy::Report,
    );
    let resp = out.response.unwrap();
    assert!(resp.result.is_success());
    assert_eq!(
        resp.converted_objects[0]["apiVersion"],
        "access.smi-spec.io/v1alpha3"
    );
    assert_eq!(resp.converted_objects[0]["metadata"]["name"], "t");
    // The loss is reported in the result message, not dropped silently.
    assert!(
        resp.result
            .message
            .contains("object 0: spec.destination.port = 80"),
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
