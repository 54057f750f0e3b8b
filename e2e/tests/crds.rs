//! Every CRD smi-types generates, in both flavours, is accepted by a real API server, becomes
//! `Established` and `NamesAccepted`, and draws no warning.
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

use smi_e2e::Cluster;
use smi_e2e::smi_types::crd::{self, Flavour};

/// Both flavours share CRD names, so they are installed one after the other.
static ONE_FLAVOUR_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn check_flavour(flavour: Flavour) {
    let _guard = ONE_FLAVOUR_AT_A_TIME.lock().await;
    let cluster = Cluster::connect().await;
    let crds = crd::generate(flavour);
    assert!(crds.len() >= 8, "{flavour:?}: only {} CRDs", crds.len());
    let installs = cluster
        .install_crds(&crds)
        .await
        .unwrap_or_else(|e| panic!("{flavour:?}: {e}"));
    let problems: Vec<String> = installs
        .iter()
        .filter(|i| !i.is_clean())
        .map(|i| {
            if !i.outcome.accepted() {
                format!("{}: {}", i.name, i.outcome.summary())
            } else {
                format!(
                    "{}: established={} namesAccepted={} warnings={:?} conditions={:?}",
                    i.name, i.established, i.names_accepted, i.outcome.warnings, i.conditions
                )
            }
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{flavour:?}: {} of {} CRDs not installed cleanly:\n  {}",
        problems.len(),
        installs.len(),
        problems.join("\n  ")
    );
}

#[tokio::test]
async fn every_crd_installs_all_versions_flavour() {
    check_flavour(Flavour::AllVersions).await;
}

#[tokio::test]
async fn every_crd_installs_sdk_compatible_flavour() {
    check_flavour(Flavour::SdkCompatible).await;
}
