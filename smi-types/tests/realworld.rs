//! The real-world manifest corpus (`testdata/realworld/`): every file reads without a panic,
//! every error is located, and every SMI object read round-trips through JSON and YAML.

use smi_types::{Document, SmiObject};

#[test]
fn realworld_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/realworld");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 50, "{}", files.len());
    let (mut smi, mut errors) = (0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let docs = smi_types::parse_yaml_documents(&text, &Default::default()).unwrap();
        for d in docs {
            match d {
                Ok(Document::Smi(o)) => {
                    smi += 1;
                    assert_eq!(
                        SmiObject::from_value(o.to_value()).unwrap(),
                        *o,
                        "{}",
                        f.display()
                    );
                    let back = smi_types::parse_yaml_stream(&o.to_yaml().unwrap()).unwrap();
                    assert_eq!(back, vec![Document::Smi(o)], "{}", f.display());
                }
                Ok(_) => {}
                Err(e) => {
                    errors += 1;
                    let loc = e
                        .location()
                        .unwrap_or_else(|| panic!("{}: unlocated {e}", f.display()));
                    assert!(loc.line > 0, "{}: {e}", f.display());
                }
            }
        }
    }
    // the corpus is mostly valid; the few errors are broken YAML and HTTPRouteGroups
    // without `spec` (see testdata/realworld/SOURCES.md)
    assert!(smi > 100 && errors < 10, "smi = {smi}, errors = {errors}");
}
