//! smi-gateway against a real API server: the vendored Gateway API (standard, then
//! experimental channel), Linkerd and Istio CRDs are installed, and every object the migration
//! emits for the repository's fixtures — with each mesh, and with a default port — is accepted
//! by a server-side dry run (`dryRun=All`, `fieldValidation=Strict`) without a warning. So is
//! every object it emits for the vendored corpora the smi-gateway goldens cover (the SMI spec's
//! examples, one unit per YAML block, and the real-world manifests, one unit per file), under
//! each golden configuration.
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use smi_e2e::{Cluster, FieldValidation, workspace_root};
use smi_gateway::{Input, Mesh, Options};
use smi_types::Document;

/// smi-gateway's own test inputs (the corpora's units, their configurations), shared so that
/// this test checks exactly the objects its goldens show.
#[path = "../../smi-gateway/tests/common/mod.rs"]
mod gw_common;

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn crds(channel: &str) -> Vec<CustomResourceDefinition> {
    let base = workspace_root().join("smi-gateway/tests/data/crds");
    let files = [
        format!("gateway-api-v1.6.1/{channel}/gateway.networking.k8s.io_httproutes.yaml"),
        format!("gateway-api-v1.6.1/{channel}/gateway.networking.k8s.io_tcproutes.yaml"),
        "linkerd-version-2.20/server.yaml".into(),
        "linkerd-version-2.20/authorization-policy.yaml".into(),
        "linkerd-version-2.20/meshtls-authentication.yaml".into(),
        "istio-1.30.3/security.istio.io_authorizationpolicies.yaml".into(),
    ];
    files
        .iter()
        .flat_map(|f| yaml_docs(&base.join(f)))
        .filter(|v| !v.is_null())
        .map(|v| serde_json::from_value(v).expect("a CustomResourceDefinition"))
        .collect()
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

/// The fixtures the smi-gateway goldens use, as documents per file.
fn corpora() -> Vec<Vec<(String, Vec<Document>)>> {
    ["smi-gateway/tests/fixtures", "smi-types/tests/fixtures"]
        .iter()
        .map(|dir| {
            let mut files = Vec::new();
            yaml_files(&workspace_root().join(dir), &mut files);
            files
                .iter()
                .map(|f| {
                    let docs = yaml_docs(f)
                        .into_iter()
                        .map(|v| Document::from_value(v).unwrap_or(Document::Empty))
                        .collect();
                    (f.display().to_string(), docs)
                })
                .collect()
        })
        .collect()
}

fn configs() -> Vec<(&'static str, Options)> {
    let mut port = Options::new(Mesh::None);
    port.default_port = Some(8080);
    vec![
        ("linkerd", Options::new(Mesh::Linkerd)),
        ("istio", Options::new(Mesh::Istio)),
        ("none --port 8080", port),
    ]
}

async fn check_channel(cluster: &Cluster, channel: &str) -> usize {
    let installs = cluster
        .install_crds(&crds(channel))
        .await
        .unwrap_or_else(|e| panic!("{channel}: {e}"));
    for i in &installs {
        assert!(
            i.outcome.accepted() && i.established && i.names_accepted,
            "{channel}: CRD {} not installed: {} {:?}",
            i.name,
            i.outcome.summary(),
            i.conditions
        );
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut namespaces = BTreeSet::new();
    for corpus in corpora() {
        let inputs: Vec<Input<'_>> = corpus.iter().map(|(o, d)| Input::new(o, d)).collect();
        for (name, opts) in configs() {
            let m = smi_gateway::migrate(&inputs, &opts).unwrap();
            for o in &m.objects {
                if let Some(ns) = o.value["metadata"]["namespace"].as_str()
                    && namespaces.insert(ns.to_owned())
                {
                    cluster.ensure_namespace(ns).await.unwrap();
                }
                let out = cluster
                    .dry_run(&o.value, FieldValidation::Strict)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", o.name()));
                checked += 1;
                if !out.accepted() || !out.warnings.is_empty() {
                    failures.push(format!(
                        "{channel} / {name}: {} {} (from {}): {} warnings={:?}",
                        o.kind(),
                        o.name(),
                        o.source,
                        out.summary(),
                        out.warnings
                    ));
                }
            }
        }
    }
    for (corpus, units) in [
        ("upstream examples", gw_common::upstream_units()),
        ("real-world manifests", gw_common::realworld_units()),
    ] {
        for (name, _, opts) in gw_common::corpus_configs() {
            for unit in &units {
                let (m, _unparsed) = gw_common::run_unit(unit, &opts);
                for o in &m.objects {
                    let ns = o.value["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("default");
                    if namespaces.insert(ns.to_owned()) {
                        cluster.ensure_namespace(ns).await.unwrap();
                    }
                    let out = cluster
                        .dry_run(&o.value, FieldValidation::Strict)
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e}", o.name()));
                    checked += 1;
                    if !out.accepted() || !out.warnings.is_empty() {
                        failures.push(format!(
                            "{channel} / {corpus} / {name}: {} {} (from {}): {} warnings={:?}",
                            o.kind(),
                            o.name(),
                            unit.label,
                            out.summary(),
                            out.warnings
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    checked
}

#[tokio::test]
async fn every_emitted_object_is_accepted_by_the_api_server() {
    let cluster = Cluster::connect().await;
    let standard = check_channel(&cluster, "standard").await;
    let experimental = check_channel(&cluster, "experimental").await;
    // the fixtures produce routes and policies of every kind, and the corpora 158 objects over
    // the four configurations (24 × 3 from the spec examples, 2 + 27 + 29 + 28 real-world): see
    // the smi-gateway goldens
    assert!(standard >= 30 + 158, "only {standard} objects checked");
    assert_eq!(standard, experimental);
}
