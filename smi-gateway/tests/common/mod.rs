//! Inputs shared by the tests: files inside the repository only.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use smi_gateway::{Input, Mesh, Migration, Options};

use smi_types::{Document, Limits};

pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            yaml_files(&e, out);
        } else if e.extension().is_some_and(|x| x == "yaml") {
            out.push(e);
        }
    }
}

/// `(path relative to the workspace, documents)` of every `.yaml` under `dir` (relative to the
/// workspace), sorted by path. Documents that do not parse are kept as `Empty` (so that
/// indexes match the file) and counted in the second value.
pub fn load(dir: &str) -> (Vec<(String, Vec<Document>)>, usize) {
    let mut files = Vec::new();
    yaml_files(&root().join(dir), &mut files);
    let mut bad = 0;
    let streams = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let docs = smi_types::parse_yaml_documents(&text, &Limits::default())
                .map(|d| {
                    d.into_iter()
                        .map(|d| {
                            d.unwrap_or_else(|_| {
                                bad += 1;
                                Document::Empty
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let rel = f.strip_prefix(root()).unwrap().display().to_string();
            (rel, docs)
        })
        .collect();
    (streams, bad)
}

/// The corpora migrated by the tests.
pub const CORPORA: &[&str] = &["smi-gateway/tests/fixtures", "smi-types/tests/fixtures"];

/// `(name, options)` of the configurations the tests run: each mesh, and routing with a
/// default port for root Services missing from the input.
pub fn configs() -> Vec<(&'static str, Options)> {
    let mut port = Options::new(Mesh::None);
    port.default_port = Some(8080);
    vec![
        ("none", Options::new(Mesh::None)),
        ("linkerd", Options::new(Mesh::Linkerd)),
        ("istio", Options::new(Mesh::Istio)),
        ("none-port-8080", port),
    ]
}

pub fn run(streams: &[(String, Vec<Document>)], opts: &Options) -> Migration {
    let inputs: Vec<Input<'_>> = streams.iter().map(|(o, d)| Input::new(o, d)).collect();
    smi_gateway::migrate(&inputs, opts).unwrap()
}
