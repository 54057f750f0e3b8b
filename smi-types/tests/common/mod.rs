//! Helpers shared by the smi-types integration tests (each test binary uses a subset).
#![allow(dead_code)]

use std::path::PathBuf;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionVersion;
use serde_json::Value;
use smi_types::crd::{self, Flavour};

/// `testdata/upstream` of the repository (vendored SMI spec examples and CRDs).
pub fn upstream() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/upstream"))
}

/// `(file, implied GV)` rows of the examples table in `testdata/upstream/SOURCES.md`.
pub fn examples_table() -> Vec<(String, String)> {
    let md = std::fs::read_to_string(upstream().join("SOURCES.md")).expect("SOURCES.md");
    md.lines()
        .filter(|l| l.starts_with("| examples/"))
        .map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cols[1].trim_start_matches("examples/").to_owned(),
                cols[5].to_owned(),
            )
        })
        .collect()
}

/// The `openAPIV3Schema` of one CRD version, as JSON.
pub fn version_schema(v: &CustomResourceDefinitionVersion) -> Value {
    let schema = v.schema.as_ref().unwrap().open_api_v3_schema.as_ref();
    serde_json::to_value(schema.unwrap()).unwrap()
}

/// The generated schema of `kind` (in `group`, when given) at `version`, in `flavour`.
pub fn crd_schema(flavour: Flavour, group: Option<&str>, kind: &str, version: &str) -> Value {
    let crds = crd::generate(flavour);
    let c = crds
        .iter()
        .find(|c| c.spec.names.kind == kind && group.is_none_or(|g| c.spec.group == g))
        .unwrap_or_else(|| panic!("no CRD for {kind} in {group:?}"));
    let v = c
        .spec
        .versions
        .iter()
        .find(|v| v.name == version)
        .unwrap_or_else(|| panic!("{group:?} {version} {kind} missing"));
    version_schema(v)
}
