//! A TrafficSplit may name its Services by DNS name, as OSM's examples do
//! (`spec.service: httpbin.httpbin.svc.cluster.local`, `bookstore.bookstore`). The route's
//! `parentRef` and `backendRefs` name Services, whose names have no dot: the migration wrote
//! `parentRefs: [{kind: Service, name: httpbin.httpbin.svc.cluster.local}]`, which the API
//! server accepts and which attaches to nothing. A DNS name of a Service of the split's own
//! namespace is now written as the Service's name (with a note); one of another namespace is
//! reported, not migrated.

use smi_gateway::{Input, LossKind, Mesh, Migration, NoteKind, Options};

fn run(yaml: &str) -> Migration {
    let docs = smi_types::parse_yaml_stream(yaml).unwrap();
    smi_gateway::migrate(
        &[Input::new("split.yaml", &docs)],
        &Options::new(Mesh::None),
    )
    .unwrap()
}

const SERVICES: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: httpbin}\nspec: {selector: {app: httpbin}, ports: [{port: 14001}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: httpbin-v1, namespace: httpbin}\nspec: {selector: {app: httpbin, version: v1}, ports: [{port: 14001}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: httpbin-v2, namespace: httpbin}\nspec: {selector: {app: httpbin, version: v2}, ports: [{port: 14001}]}\n";

fn split(service: &str, backend: &str) -> String {
    format!(
        "{SERVICES}---\napiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {{name: http-split, namespace: httpbin}}\nspec:\n  service: {service}\n  backends:\n  - {{service: httpbin-v1, weight: 50}}\n  - {{service: {backend}, weight: 50}}\n"
    )
}

#[test]
fn a_service_dns_name_of_the_namespace_is_written_as_the_service_name() {
    for (apex, backend) in [
        ("httpbin.httpbin.svc.cluster.local", "httpbin-v2"),
        ("httpbin.httpbin", "httpbin-v2.httpbin.svc"),
    ] {
        let m = run(&split(apex, backend));
        assert!(m.losses.is_empty(), "{apex}: {:?}", m.losses);
        assert_eq!(m.objects.len(), 1);
        let route = &m.objects[0].value;
        assert_eq!(route["spec"]["parentRefs"][0]["name"], "httpbin", "{apex}");
        let backends = &route["spec"]["rules"][0]["backendRefs"];
        assert_eq!(backends[0]["name"], "httpbin-v1");
        assert_eq!(backends[1]["name"], "httpbin-v2", "{backend}");
        // The ports come from the Services the names resolve to, not from a default.
        assert_eq!(backends[1]["port"], 14001);
        let notes: Vec<&str> = m
            .notes
            .iter()
            .filter(|n| n.kind == NoteKind::Assumption)
            .map(|n| n.path.as_str())
            .collect();
        let expect = if apex.contains(".svc") {
            vec!["spec.service"]
        } else {
            vec!["spec.service", "spec.backends[1].service"]
        };
        assert_eq!(notes, expect, "{apex}: {:?}", m.notes);
    }
}

#[test]
fn a_service_of_another_namespace_is_reported_not_attached() {
    let m = run(&split("httpbin.other.svc.cluster.local", "httpbin-v2"));
    assert!(m.objects.is_empty(), "{:?}", m.objects);
    assert!(
        m.losses.iter().any(|l| l.kind == LossKind::NotMigrated
            && l.path == "spec.service"
            && l.reason.contains("namespace `other`")),
        "{:?}",
        m.losses
    );
    let m = run(&split("httpbin", "httpbin-v2.example.com"));
    assert!(m.objects.is_empty());
    assert!(
        m.losses
            .iter()
            .any(|l| l.path == "spec.backends[1].service"
                && l.reason.contains("neither a Service name")),
        "{:?}",
        m.losses
    );
}
