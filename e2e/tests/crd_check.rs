//! Differential test of the offline CRD checker (`smi_validate::crd_check`, `smi-validate crds
//! --check`) against a real API server: for every deliberately broken CRD of
//! `smi-validate/tests/data/crd-check/` and every CRD smi-types generates (both flavours), the
//! server's verdict on a dry-run create (`dryRun=All`) must equal the checker's, and for a
//! refusal the server's causes (field path and reason) must be exactly the errors the checker
//! reports.
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use smi_e2e::Cluster;
use smi_e2e::smi_types::crd::{self, Flavour};
use smi_e2e::smi_validate::crd_check;

fn fixtures() -> Vec<(String, Value)> {
    let dir = smi_e2e::workspace_root().join("smi-validate/tests/data/crd-check");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read fixture");
            let v: Value =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect()
}

/// Moves a CRD to a group of its own (`<group>.crdcheck.e2e`), so a dry-run create never meets
/// an installed CRD of the same name (other suites install the generated CRDs for real). Field
/// paths and verdicts do not depend on the group; fixtures whose name or group is the point are
/// left alone.
fn isolate(mut crd: Value) -> Value {
    let group = crd["spec"]["group"].as_str().unwrap_or_default().to_owned();
    let plural = crd["spec"]["names"]["plural"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    if group.contains('.') && name == format!("{plural}.{group}") {
        let g = format!("{group}.crdcheck.e2e");
        crd["metadata"]["name"] = Value::String(format!("{plural}.{g}"));
        crd["spec"]["group"] = Value::String(g);
    }
    crd
}

fn cases() -> Vec<(String, Value)> {
    let mut v = fixtures();
    for flavour in [Flavour::AllVersions, Flavour::SdkCompatible] {
        for c in crd::generate(flavour) {
            let name = format!(
                "generated {flavour:?} {}",
                c.metadata.name.clone().unwrap_or_default()
            );
            v.push((name, serde_json::to_value(&c).expect("CRD serialises")));
        }
    }
    v.into_iter().map(|(n, c)| (n, isolate(c))).collect()
}

/// (field, reason) → count
fn multiset<I: IntoIterator<Item = (String, String)>>(it: I) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[tokio::test]
async fn server_and_offline_checker_agree_on_every_crd() {
    let cluster = Cluster::connect().await;
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());

    let t0 = Instant::now();
    let reports: Vec<_> = cases.iter().map(|(_, c)| crd_check::check_crd(c)).collect();
    let offline = t0.elapsed();

    let t0 = Instant::now();
    let mut outcomes = Vec::with_capacity(cases.len());
    for (name, c) in &cases {
        let o = cluster
            .create_with(c, "dryRun=All")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        outcomes.push(o);
    }
    let server = t0.elapsed();

    let mut verdicts = Vec::new();
    let mut causes = Vec::new();
    // full messages (`field: body`) identical to the server's, out of all causes
    let (mut same_message, mut all_causes) = (0usize, 0usize);
    let (mut accepted, mut rejected) = (0, 0);
    for (((name, _), report), outcome) in cases.iter().zip(&reports).zip(&outcomes) {
        if outcome.accepted() {
            accepted += 1;
        } else {
            rejected += 1;
        }
        if outcome.accepted() != report.is_accepted() {
            verdicts.push(format!(
                "{name}: server {}, checker {}",
                outcome.summary(),
                if report.is_accepted() {
                    "accepted".to_owned()
                } else {
                    format!(
                        "rejected: {:#?}",
                        report
                            .errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    )
                }
            ));
            continue;
        }
        if outcome.accepted() {
            continue;
        }
        let server_set = multiset(
            outcome
                .causes
                .iter()
                .map(|c| (c.field.clone(), c.reason.clone())),
        );
        let checker_set = multiset(
            report
                .errors
                .iter()
                .map(|e| (e.field.clone(), e.kind.reason().to_owned())),
        );
        let mut mine: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        for c in &outcome.causes {
            all_causes += 1;
            let full = format!("{}: {}", c.field, c.message);
            if let Some(p) = mine.iter().position(|m| *m == full) {
                mine.remove(p);
                same_message += 1;
            }
        }
        if server_set != checker_set {
            causes.push(format!(
                "{name}:\n    server:  {:?}\n    checker: {:?}\n    server message: {}",
                server_set, checker_set, outcome.message
            ));
        }
    }
    eprintln!(
        "{} CRDs: server accepted {accepted}, rejected {rejected}; {same_message} of {all_causes} causes have the server's exact message; offline checker {:.1} CRDs/s, server dry-run {:.1} CRDs/s (one pass each, same CRDs)",
        cases.len(),
        cases.len() as f64 / offline.as_secs_f64(),
        cases.len() as f64 / server.as_secs_f64(),
    );
    assert!(
        verdicts.is_empty() && causes.is_empty(),
        "{} verdict disagreements, {} cause disagreements:\n{}\n{}",
        verdicts.len(),
        causes.len(),
        verdicts.join("\n"),
        causes.join("\n")
    );
}
