//! Target 4: the validator on structure-aware mutations of valid manifests.
//!
//! A seed manifest (`fuzz/seeds/manifests`) gets arbitrary edits (`smi_fuzz::Edit`: replace,
//! remove, insert, duplicate keys, change types, swap apiVersion/kind), is printed as YAML (block
//! or flow) and validated, alone and in a stream with an unedited seed (cross-object rules).
//! The same edited object is also validated as a JSON value (`validate_values`); both paths must
//! agree on whether the object is valid, unless the YAML has duplicate keys (the YAML path keeps
//! the first value, JSON the last) or the value is not representable in JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smi_fuzz::Mutated;
use smi_validate::{Code, Options};

fuzz_target!(|m: Mutated| {
    static PRINTER_OK: std::sync::Once = std::sync::Once::new();
    PRINTER_OK.call_once(|| {
        assert!(
            smi_fuzz::printer_round_trips(),
            "the YAML printer reproduces every seed"
        )
    });
    let yaml = m.yaml();
    let opts = Options::new().strict(m.seed & 1 == 1);
    let report = smi_validate::validate_bytes(yaml.as_bytes(), &opts);
    let seeds = smi_fuzz::seeds();
    let other = smi_fuzz::to_block_yaml(&seeds[(m.seed as usize / 2) % seeds.len()]);
    let stream = format!("{yaml}---\n{other}");
    let _ = smi_validate::validate_bytes(stream.as_bytes(), &opts);

    let node = m.build();
    let value = node.to_value();
    let from_value = smi_validate::validate_values([value.clone()], &opts);
    let yaml_only = |c: Code| {
        matches!(
            c,
            Code::YamlSyntax
                | Code::DuplicateKey
                | Code::LimitExceeded
                | Code::UnsupportedYaml
                | Code::NotAnObject
        )
    };
    if report.diagnostics.iter().all(|d| !yaml_only(d.code))
        && !has_float(&node)
        && value.is_object()
    {
        assert_eq!(
            report.is_valid(),
            from_value.is_valid(),
            "YAML and JSON-value paths disagree\n--- yaml:\n{yaml}\n--- yaml report: {:#?}\n--- value report: {:#?}",
            report.diagnostics,
            from_value.diagnostics
        );
    }
});

/// Floats print with lossy text forms (`1e300`, `.nan`), so the two paths may see different
/// values; plain scalars are read by YAML rules the JSON conversion does not copy.
fn has_float(n: &smi_fuzz::Node) -> bool {
    use smi_fuzz::Node;
    match n {
        Node::Float(_) | Node::Plain(_) => true,
        Node::Seq(a) => a.iter().any(has_float),
        Node::Map(m) => m.iter().any(|(_, v)| has_float(v)),
        _ => false,
    }
}
