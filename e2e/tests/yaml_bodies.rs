//! YAML bodies: the API server and smi-validate read the same YAML *text* alike.
//!
//! `verdicts.rs` sends objects as JSON, so the YAML reading is not on trial there. Here each
//! document of `e2e/testdata/verdicts/yaml-1-1-scalars.yaml` (plain scalars YAML 1.1 reads as
//! booleans or numbers — `yes`, `on`, `n`, `0b101`, `1_000`, `-0x1F` — in string and integer
//! fields) goes to kube-apiserver as its text (`Content-Type: application/yaml`, decoded with
//! sigs.k8s.io/yaml), with `dryRun=All&fieldValidation=Strict`, and to smi-validate as the same
//! text. The server accepts ⇔ smi-validate (`strict`, `--target sdk`) finds no error.
//!
//! The objects go to the per-version CRD of their kind×version (group `<version>.<group>`,
//! built from the shipped schema, as in `verdicts.rs`); only the `apiVersion` line of the text
//! sent to the server is rewritten to it.

use smi_e2e::smi_types::crd::{self, Flavour};
use smi_e2e::smi_validate::{self, Options, Severity, Target};
use smi_e2e::{Cluster, kube};

const FIXTURE: &str = "e2e/testdata/verdicts/yaml-1-1-scalars.yaml";
const NAMESPACE: &str = "smi-e2e-yaml-bodies";
/// The fixture's objects the server accepts, in order.
const ACCEPTED: &[&str] = &[
    "yes-quoted",
    "weight-binary",
    "weight-underscore",
    "weight-plain",
    "on",
    "name-quoted-on",
];

fn per_version_crd(
    group: &str,
    version: &str,
    kind: &str,
) -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    let c = crd::generate(Flavour::AllVersions)
        .into_iter()
        .find(|c| c.spec.group == group && c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for {group} {kind}"));
    let v = c
        .spec
        .versions
        .iter()
        .find(|v| v.name == version)
        .unwrap_or_else(|| panic!("no {version} in the {kind} CRD"))
        .clone();
    let mut one = c.clone();
    let g = format!("{version}.{group}");
    one.metadata.name = Some(format!("{}.{g}", c.spec.names.plural));
    one.spec.group = g;
    one.spec.conversion = None;
    one.spec.names.short_names = None;
    one.spec.names.categories = None;
    let mut version = v;
    version.served = true;
    version.storage = true;
    one.spec.versions = vec![version];
    one
}

/// The documents of the fixture (text), split at `---` lines.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let last = docs.last_mut().expect("never empty");
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
        })
        .collect()
}

fn line_value<'t>(doc: &'t str, key: &str) -> &'t str {
    doc.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{key}` line in\n{doc}"))
}

#[tokio::test]
async fn yaml_bodies_are_read_alike() {
    let root = smi_e2e::workspace_root();
    let text = std::fs::read_to_string(root.join(FIXTURE)).expect("the fixture");
    let docs = documents(&text);
    assert!(docs.len() >= 10, "{} documents", docs.len());

    let cluster = Cluster::connect().await;
    let mut kinds: Vec<(String, String, String)> = docs
        .iter()
        .map(|d| {
            let av = line_value(d, "apiVersion:");
            let (group, version) = av.split_once('/').expect("group/version");
            (
                group.to_owned(),
                version.to_owned(),
                line_value(d, "kind:").to_owned(),
            )
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    let crds: Vec<_> = kinds
        .iter()
        .map(|(g, v, k)| per_version_crd(g, v, k))
        .collect();
    for i in cluster
        .install_crds(&crds)
        .await
        .expect("installing the CRDs")
    {
        assert!(i.is_clean(), "{}: {}", i.name, i.outcome.summary());
    }
    cluster
        .ensure_namespace(NAMESPACE)
        .await
        .expect("namespace");

    let options = Options::new()
        .strict(true)
        .skip_cross(true)
        .target(Target::Sdk);
    let mut disagreements = Vec::new();
    let mut accepted = Vec::new();
    for doc in &docs {
        let av = line_value(doc, "apiVersion:");
        let (group, version) = av.split_once('/').expect("group/version");
        let kind = line_value(doc, "kind:");
        let served = format!("{version}.{group}/{version}");
        let body = doc.replacen(av, &served, 1);
        let info = cluster.resource(&served, kind).await.expect("served");
        let url = format!(
            "{}?dryRun=All&fieldValidation=Strict",
            info.collection_url(Some(NAMESPACE))
        );
        let req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/yaml")
            .header(http::header::ACCEPT, "application/json")
            .body(body.into_bytes())
            .expect("request");
        let server = match cluster.client().request_text(req).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) => Err(format!("{} {}", s.code, s.message)),
            Err(e) => panic!("sending the YAML body: {e}"),
        };
        let report = smi_validate::validate_str("<doc>", doc, &options);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect();
        if server.is_ok() {
            accepted.push(line_value(doc, "  name:").trim_matches('"').to_owned());
        }
        eprintln!(
            "{}: server {server:?}, smi-validate {errors:?}",
            line_value(doc, "  name:")
        );
        if server.is_ok() != errors.is_empty() {
            disagreements.push(format!(
                "{doc}server: {server:?}\nsmi-validate: {errors:#?}\n"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} YAML documents judged differently:\n{}",
        disagreements.len(),
        docs.len(),
        disagreements.join("\n")
    );
    // the server read the YAML 1.1 scalars as booleans and numbers: only these are accepted
    // (`yes`, `on`, `n`, `Off` in string fields are booleans; `1_000` a number)
    assert_eq!(accepted, ACCEPTED, "accepted by the server");
}
