//! Target 1: `smi_types`' dynamic entry points on arbitrary text.
//!
//! `parse_yaml_documents` / `parse_yaml_stream_with` with default or small limits (the first
//! byte picks), `parse_json`, and for every SMI object read: `to_value`, `to_yaml`, and reading
//! the written YAML back must succeed (what we write, we must be able to read).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smi_types::{Document, Limits, SmiObject};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut limits = Limits::default();
    if mode & 1 == 1 {
        // small limits reach the limit paths with small inputs
        limits.max_documents = 8;
        limits.max_nodes_per_document = 200;
        limits.max_depth = 8;
        limits.max_aliases_per_document = 8;
        limits.max_anchors_per_document = 8;
        limits.max_alias_expansion_events = 100;
        limits.max_scalar_bytes_per_document = 1024;
    }
    if let Ok(docs) = smi_types::parse_yaml_documents(text, &limits) {
        assert!(docs.len() <= limits.max_documents);
        for doc in docs.into_iter().flatten() {
            check(&doc);
        }
    }
    let _ = smi_types::parse_yaml_stream_with(text, &limits);
    if let Ok(doc) = smi_types::parse_json(text) {
        check(&doc);
    }
});

fn check(doc: &Document) {
    let value = doc.to_value();
    let Document::Smi(obj) = doc else { return };
    let _ = (obj.api_version(), obj.kind(), obj.name(), obj.namespace());
    let yaml = obj
        .to_yaml()
        .expect("an SMI object read from YAML serializes");
    let again = smi_types::parse_yaml_stream(&yaml)
        .unwrap_or_else(|e| panic!("re-reading our own YAML failed: {e}\n--- yaml:\n{yaml}"));
    assert_eq!(again.len(), 1, "one object written, one read back:\n{yaml}");
    let back = SmiObject::from_value(value).expect("to_value of an object converts back");
    assert_eq!(back.kind(), obj.kind());
}
