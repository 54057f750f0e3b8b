//! `smi-validate crds --check`: the offline CRD checker from the command line.

mod common;
use common::*;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../smi-validate/tests/data/crd-check"
);

#[test]
fn a_broken_crd_exits_1_with_the_server_message() {
    let f = format!("{DATA}/missing-items.yaml");
    let o = run(&["crds", "--check", &f], None);
    assert_eq!(code(&o), 1);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("CustomResourceDefinition widgets.example.com: rejected"),
        "{out}"
    );
    assert!(
        out.contains("  error: spec.validation.openAPIV3Schema.properties[spec].properties[tags].items: Required value: must be specified"),
        "{out}"
    );
    assert!(
        out.ends_with("1 CRDs checked, 1 would be rejected\n"),
        "{out}"
    );
}

#[test]
fn an_accepted_crd_exits_0_and_costs_are_printed_on_request() {
    let f = format!("{DATA}/ok-bounded-rules.yaml");
    let o = run(&["crds", "--check", "--costs", &f], None);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains(": accepted"), "{out}");
    assert!(out.contains("  cost: 2979 × 1 = 2979 (limit 10000000): spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"), "{out}");
    assert!(out.contains("  cost total: "), "{out}");
}

#[test]
fn json_output_directory_and_stdin() {
    let o = run(&["crds", "--check", "-o", "json", DATA], None);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let crds = v["crds"].as_array().unwrap();
    assert!(crds.len() >= 20);
    let rejected = crds.iter().filter(|c| c["accepted"] == false).count();
    assert_eq!(crds.len() - rejected, 3, "the three ok-* fixtures");
    let first = &crds.iter().find(|c| c["accepted"] == false).unwrap()["errors"][0];
    assert!(first["reason"].as_str().unwrap().starts_with("FieldValue"));

    let text = std::fs::read_to_string(format!("{DATA}/ok-enum-and-metadata-name.yaml")).unwrap();
    let o = run(&["crds", "--check", "-"], Some(&text));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn unreadable_input_exits_2() {
    let o = run(&["crds", "--check", "/nonexistent/crd.yaml"], None);
    assert_eq!(code(&o), 2);
    let o = run(&["crds", "--check", "-"], Some("a: ["));
    assert_eq!(code(&o), 2);
    // --costs needs --check
    let o = run(&["crds", "--costs"], None);
    assert_eq!(code(&o), 2);
}

#[test]
fn generated_crds_are_checked_without_files() {
    let o = run(&["crds", "--check", "--flavour", "sdk-compatible"], None);
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(
        out.ends_with("8 CRDs checked, 4 would be rejected\n")
            || out.ends_with("8 CRDs checked, 0 would be rejected\n"),
        "{out}"
    );
    assert_eq!(
        code(&o),
        i32::from(!out.ends_with(", 0 would be rejected\n"))
    );
}
