//! Inputs built to hurt: the migration ends, bounded, without a panic, and says what it did not
//! migrate.

use std::fmt::Write;

use smi_gateway::{Input, LossKind, Mesh, Migration, Options};

fn run(yaml: &str, mesh: Mesh) -> Migration {
    let docs = smi_types::parse_yaml_stream(yaml).unwrap();
    smi_gateway::migrate(&[Input::new("hostile.yaml", &docs)], &Options::new(mesh)).unwrap()
}

const CLUSTER: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: {labels: {app: web}}, spec: {serviceAccountName: web}}}\n";

fn group(matches: usize) -> String {
    let mut g = String::from(
        "---\napiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: g}\nspec:\n  matches:\n",
    );
    for i in 0..matches {
        let _ = writeln!(
            g,
            "  - {{name: m{i}, pathRegex: /p{i}, methods: [GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, TRACE, CONNECT]}}"
        );
    }
    g
}

fn has_loss(m: &Migration, kind: &str, lk: LossKind, reason: &str) -> bool {
    m.losses
        .iter()
        .any(|l| l.source.kind == kind && l.kind == lk && l.reason.contains(reason))
}

#[test]
fn too_many_matches_for_one_route() {
    let mut y = String::from(CLUSTER);
    y.push_str(&group(2000));
    y.push_str("---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec: {service: web, matches: [{kind: HTTPRouteGroup, name: g}], backends: [{service: web, weight: 1}]}\n");
    let m = run(&y, Mesh::Linkerd);
    assert!(
        has_loss(&m, "TrafficSplit", LossKind::NotMigrated, "fewer than 128"),
        "{:?}",
        m.losses
    );
    assert!(m.objects.iter().all(|o| o.source.kind != "TrafficSplit"));
}

#[test]
fn sources_times_rules_beyond_one_istio_policy() {
    let mut y = String::from(CLUSTER);
    y.push_str(&group(600));
    y.push_str("---\napiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n  destination: {kind: ServiceAccount, name: web}\n  rules: [{kind: HTTPRouteGroup, name: g}]\n  sources:\n");
    for i in 0..5000 {
        let _ = writeln!(y, "  - {{kind: ServiceAccount, name: c{i}}}");
    }
    let m = run(&y, Mesh::Istio);
    assert!(
        has_loss(
            &m,
            "TrafficTarget",
            LossKind::NotMigrated,
            "Istio AuthorizationPolicy holds"
        ),
        "{:?}",
        m.losses
    );
    // Linkerd: one MeshTLSAuthentication with 5000 refs, the route is too big: reported
    let m = run(&y, Mesh::Linkerd);
    assert!(
        m.objects
            .iter()
            .any(|o| o.kind() == "MeshTLSAuthentication")
    );
    assert!(
        has_loss(&m, "TrafficTarget", LossKind::Dropped, "fewer than 128"),
        "{:?}",
        m.losses
    );
}

#[test]
fn weights_beyond_the_gateway_range_are_approximated_and_said_so() {
    let y = format!(
        "{CLUSTER}---\napiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {{name: s}}\nspec: {{service: web, backends: [{{service: a, weight: 9223372036854775807}}, {{service: b, weight: 3}}]}}\n"
    );
    let m = run(&y, Mesh::None);
    assert!(
        has_loss(&m, "TrafficSplit", LossKind::Approximated, "1,000,000"),
        "{:?}",
        m.losses
    );
    let w = &m.objects[0].value["spec"]["rules"][0]["backendRefs"];
    assert_eq!(w[0]["weight"], 1_000_000);
    assert_eq!(w[1]["weight"], 0);
}

#[test]
fn deeply_nested_and_invalid_regexes_are_losses() {
    let deep = format!("{}a{}", "(".repeat(500), ")".repeat(500));
    let y = format!(
        "{CLUSTER}---\napiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {{name: g}}\nspec:\n  matches:\n  - {{name: deep, pathRegex: \"{deep}\"}}\n  - {{name: bad, pathRegex: \"(\"}}\n  - {{name: ok, pathRegex: /ok}}\n---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: s}}\nspec: {{service: web, matches: [{{kind: HTTPRouteGroup, name: g}}], backends: [{{service: web, weight: 1}}]}}\n"
    );
    let m = run(&y, Mesh::None);
    let dropped: Vec<&str> = m
        .losses
        .iter()
        .filter(|l| l.kind == LossKind::Dropped)
        .map(|l| l.path.as_str())
        .collect();
    assert_eq!(
        dropped,
        ["spec.matches[0].pathRegex", "spec.matches[1].pathRegex"]
    );
    let rules = m.objects[0].value["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "the `ok` match and the catch-all");
}

#[test]
fn generated_names_too_long_are_losses() {
    let long = "a".repeat(252);
    let y = format!(
        "{CLUSTER}---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: {long}}}\nspec: {{service: web, backends: [{{service: web, weight: 1}}]}}\n---\napiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {{name: {long}}}\nspec:\n  destination: {{kind: ServiceAccount, name: web, port: 80}}\n  sources: [{{kind: ServiceAccount, name: c}}]\n  rules: []\n"
    );
    let m = run(&y, Mesh::Linkerd);
    // the route keeps the split's name (252 characters: valid); `<name>-80` is not
    assert!(m.objects.iter().any(|o| o.kind() == "HTTPRoute"));
    assert!(
        has_loss(
            &m,
            "TrafficTarget",
            LossKind::NotMigrated,
            "not a valid object name"
        ),
        "{:?}",
        m.losses
    );
    assert!(m.objects.iter().all(|o| o.name().len() <= 253));
}

#[test]
fn more_ports_than_parent_refs() {
    let mut y = String::from(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n",
    );
    for p in 0..40 {
        let _ = writeln!(y, "  - {{name: p{p}, port: {}}}", 1000 + p);
    }
    y.push_str("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: {labels: {app: web}}, spec: {serviceAccountName: web}}}\n");
    y.push_str(&group(1));
    y.push_str("---\napiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t}\nspec: {destination: {kind: ServiceAccount, name: web}, sources: [{kind: ServiceAccount, name: c}], rules: [{kind: HTTPRouteGroup, name: g}]}\n");
    let m = run(&y, Mesh::Linkerd);
    assert!(
        has_loss(
            &m,
            "TrafficTarget",
            LossKind::NotMigrated,
            "more than 32 ports"
        ),
        "{:?}",
        m.losses
    );
    // the access-only route: one per port of the Service
    assert_eq!(
        m.objects.iter().filter(|o| o.kind() == "HTTPRoute").count(),
        40
    );
}
