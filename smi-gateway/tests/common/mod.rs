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

// ---- the vendored corpora: the upstream spec's examples and the real-world manifests ----

/// One unit of a corpus migrated on its own: a label and its files (workspace-relative) with,
/// for each, the apiVersion to assume when the file names none.
pub struct Unit {
    pub label: String,
    pub files: Vec<(String, Option<String>)>,
}

/// The upstream spec's examples, one unit per YAML block of a spec document (a block split into
/// several files, e.g. an HTTPRouteGroup and the TrafficTarget naming it, is migrated
/// together). Most examples have no apiVersion: the one `testdata/upstream/SOURCES.md` implies
/// (from the document's "Compatible with" line) is assumed, as the smi-types tests do.
pub fn upstream_units() -> Vec<Unit> {
    let md = std::fs::read_to_string(root().join("testdata/upstream/SOURCES.md")).unwrap();
    let mut units: Vec<(String, Unit)> = Vec::new();
    for line in md.lines().filter(|l| l.starts_with("| examples/")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (file, doc, block, implied) = (cols[1], cols[2], cols[4], cols[5]);
        let block = block.split('.').next().unwrap();
        let key = format!("{doc} block {block}");
        let path = format!("testdata/upstream/{file}");
        match units.iter_mut().find(|(k, _)| *k == key) {
            Some((_, u)) => u.files.push((path, Some(implied.to_owned()))),
            None => units.push((
                key.clone(),
                Unit {
                    label: format!("{doc}, YAML block {block}"),
                    files: vec![(path, Some(implied.to_owned()))],
                },
            )),
        }
    }
    assert_eq!(
        units.iter().map(|u| u.1.files.len()).sum::<usize>(),
        std::fs::read_dir(root().join("testdata/upstream/examples"))
            .unwrap()
            .count(),
        "every example is listed in SOURCES.md"
    );
    units.into_iter().map(|(_, u)| u).collect()
}

/// The real-world manifests, one unit per file (their own CRDs under `crds/` are not
/// manifests and are left out).
pub fn realworld_units() -> Vec<Unit> {
    let dir = root().join("testdata/realworld");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            format!(
                "testdata/realworld/{}",
                p.file_name().unwrap().to_str().unwrap()
            )
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| Unit {
            label: f.clone(),
            files: vec![(f, None)],
        })
        .collect()
}

/// The documents of `file`; `implied` is written as the apiVersion of a file that names none
/// (when it is one: SOURCES.md also says "partial TrafficMetrics"). Returns the documents
/// and why each that does not parse does not (it is kept as `Empty`, not migrated).
pub fn documents(file: &str, implied: Option<&str>) -> (Vec<smi_types::Document>, Vec<String>) {
    let mut text = std::fs::read_to_string(root().join(file)).unwrap();
    if let Some(av) = implied.filter(|a| !a.contains(char::is_whitespace))
        && !text.lines().any(|l| l.starts_with("apiVersion:"))
    {
        text = format!("apiVersion: {av}\n{text}");
    }
    let mut bad = Vec::new();
    let docs = match smi_types::parse_yaml_documents(&text, &smi_types::Limits::default()) {
        Ok(d) => d
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                d.unwrap_or_else(|e| {
                    bad.push(format!("{file}[{i}]: {e}"));
                    smi_types::Document::Empty
                })
            })
            .collect(),
        Err(e) => {
            bad.push(format!("{file}: {e}"));
            Vec::new()
        }
    };
    (docs, bad)
}

/// `(golden name, CLI arguments, options)`: each mesh with `--port 8080` (the examples give no
/// Service manifests: without a port no TrafficSplit can be routed), and `--mesh none` without
/// it, which shows what is refused rather than guessed.
pub fn corpus_configs() -> Vec<(&'static str, &'static str, Options)> {
    let with_port = |mesh| {
        let mut o = Options::new(mesh);
        o.default_port = Some(8080);
        o
    };
    vec![
        ("none", "--mesh none", Options::new(Mesh::None)),
        (
            "none-port-8080",
            "--mesh none --port 8080",
            with_port(Mesh::None),
        ),
        (
            "linkerd-port-8080",
            "--mesh linkerd --port 8080",
            with_port(Mesh::Linkerd),
        ),
        (
            "istio-port-8080",
            "--mesh istio --port 8080",
            with_port(Mesh::Istio),
        ),
    ]
}

/// Migrates a unit: its documents as read, the migration, and why documents did not parse.
pub fn run_unit(u: &Unit, opts: &Options) -> (Migration, Vec<String>) {
    let loaded: Vec<(String, Vec<Document>, Vec<String>)> = u
        .files
        .iter()
        .map(|(f, implied)| {
            let (d, bad) = documents(f, implied.as_deref());
            (f.clone(), d, bad)
        })
        .collect();
    let unparsed = loaded.iter().flat_map(|l| l.2.clone()).collect();
    let inputs: Vec<Input<'_>> = loaded.iter().map(|(f, d, _)| Input::new(f, d)).collect();
    let m = smi_gateway::migrate(&inputs, opts).unwrap_or_else(|e| panic!("{}: {e}", u.label));
    (m, unparsed)
}
