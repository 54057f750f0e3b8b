//! A source whose namespace is no namespace name (a template's `$BOOKWAREHOUSE_NAMESPACE` left
//! in a real-world manifest, as in an OSM demo) was migrated into a route in that namespace,
//! which the API server refuses (found by the e2e gateway test on the real-world corpus). The
//! object is now reported as not migrated, naming the field and why.

use smi_gateway::{Input, LossKind, Mesh, Options};

fn split(namespace: &str) -> String {
    format!(
        "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {{name: mysql-split, namespace: {namespace}}}\nspec:\n  service: mysql\n  backends:\n  - {{service: mysql-v1, weight: 50}}\n  - {{service: mysql-v2, weight: 50}}\n"
    )
}

fn migrate(yaml: &str) -> smi_gateway::Migration {
    let docs = smi_types::parse_yaml_stream(yaml).unwrap();
    let mut opts = Options::new(Mesh::None);
    opts.default_port = Some(3306);
    smi_gateway::migrate(&[Input::new("split.yaml", &docs)], &opts).unwrap()
}

#[test]
fn a_namespace_that_is_no_namespace_name_is_reported_not_emitted() {
    for ns in ["\"$BOOKWAREHOUSE_NAMESPACE\"", "Shop", "a.b", "-shop"] {
        let m = migrate(&split(ns));
        assert!(m.objects.is_empty(), "{ns}: {:?}", m.objects);
        assert_eq!(m.losses.len(), 1, "{ns}: {:?}", m.losses);
        let loss = &m.losses[0];
        assert_eq!(loss.kind, LossKind::NotMigrated);
        assert_eq!(loss.path, "metadata.namespace");
        assert!(loss.reason.contains("DNS-1123 label"), "{}", loss.reason);
    }
}

#[test]
fn a_valid_namespace_still_migrates() {
    let m = migrate(&split("shop"));
    assert!(m.losses.is_empty(), "{:?}", m.losses);
    assert_eq!(m.objects.len(), 1);
    assert_eq!(m.objects[0].value["metadata"]["namespace"], "shop");
}
