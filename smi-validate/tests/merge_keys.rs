//! YAML merge keys `<<` are expanded the way kubectl (sigs.k8s.io/yaml, YAML 1.1) and
//! serde-saphyr expand them, with positions; a merge key whose value is not a mapping (or a list
//! of mappings) is a located syntax error, never a silent drop.

use smi_validate::{Code, Options, validate_str};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/yaml/merge-keys.yaml"
);

#[test]
fn merge_keys_are_expanded_with_positions() {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let r = validate_str("merge-keys.yaml", &text, &Options::default().strict(true));
    assert_eq!(r.summary.smi_objects, 2, "{:#?}", r.diagnostics);
    // no `<<` field, no missing `weight`, no unknown field: only the merged wrong type, which
    // comes from the first mapping of the list (it wins over the second)
    assert_eq!(r.diagnostics.len(), 1, "{:#?}", r.diagnostics);
    let d = &r.diagnostics[0];
    assert_eq!(d.code, Code::WrongType);
    assert_eq!(d.path.as_deref(), Some("spec.backends[2].weight"));
    assert_eq!((d.line, d.column), (Some(17), Some(19)));
    assert_eq!(d.object.as_deref(), Some("TrafficSplit/shop/canary"));
}

#[test]
fn a_merge_key_that_is_not_a_mapping_is_a_located_error() {
    let text = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  <<: web\n  backends: [{service: web-v1, weight: 1}]\n";
    let r = validate_str("bad.yaml", text, &Options::default());
    let d = r.with_code(Code::YamlSyntax).next().expect("SMI1001");
    assert!(d.message.contains("merge key"), "{d:#?}");
    assert_eq!((d.line, d.column), (Some(5), Some(3)));
    assert_eq!(d.path.as_deref(), Some("spec[\"<<\"]"));
    assert!(!r.is_valid());
}

#[test]
fn a_quoted_merge_key_is_an_ordinary_key() {
    let text = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: web\n  backends: [{service: web-v1, weight: 1}]\n  \"<<\": {service: x}\n";
    let r = validate_str("quoted.yaml", text, &Options::default().strict(true));
    let d = r.with_code(Code::UnknownField).next().expect("SMI1204");
    assert_eq!(d.path.as_deref(), Some("spec[\"<<\"]"));
    assert_eq!((d.line, d.column), (Some(7), Some(3)));
}
