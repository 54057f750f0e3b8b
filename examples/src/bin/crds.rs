//! Generate the SMI CustomResourceDefinitions into a directory, as a tool author's build step
//! (or a Helm chart's `crds/` refresh) would.
//!
//! ```text
//! cargo run -p examples --bin crds -- out
//! cargo run -p examples --bin crds -- out --webhook-namespace mesh --ca-bundle webhook.pem
//! ```
//!
//! Writes one file per CRD in both flavours:
//!
//! * `out/all-versions/<plural>.<group>.yaml` — every version served, storage on the latest,
//!   `conversion: Webhook` pointing at the conversion webhook Service (see the
//!   `conversion-webhook` example; `--ca-bundle` embeds its certificate);
//! * `out/sdk-compatible/<plural>.<group>.yaml` — versions served and stored exactly as the
//!   smi-sdk-go CRDs most meshes ship, no conversion.
//!
//! and prints each path with the versions it serves.

use std::path::{Path, PathBuf};

use clap::Parser;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use smi_types::crd::{self, Flavour, GenerateOptions};

#[derive(Parser)]
#[command(about = "Write the SMI CRDs (both flavours) to a directory")]
struct Args {
    /// Output directory (created if missing).
    #[arg(default_value = "out")]
    out: PathBuf,
    /// Namespace of the conversion webhook Service (all-versions flavour).
    #[arg(long, default_value = "smi-system")]
    webhook_namespace: String,
    /// Name of the conversion webhook Service.
    #[arg(long, default_value = "smi-conversion-webhook")]
    webhook_name: String,
    /// PEM file with the conversion webhook's CA (e.g. written by `conversion-webhook --cert-out`).
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Leave out the perf.smi-spec.io CRDs.
    #[arg(long)]
    without_perf: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut opts = GenerateOptions::default();
    opts.webhook.namespace = args.webhook_namespace;
    opts.webhook.name = args.webhook_name;
    opts.without_perf = args.without_perf;
    if let Some(path) = &args.ca_bundle {
        opts.webhook.ca_bundle =
            Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    for (flavour, dir) in [
        (Flavour::AllVersions, "all-versions"),
        (Flavour::SdkCompatible, "sdk-compatible"),
    ] {
        write_flavour(&args.out.join(dir), &crd::generate_with(flavour, &opts))?;
    }
    Ok(())
}

/// Writes each CRD to `<dir>/<metadata.name>.yaml` and prints what it wrote.
fn write_flavour(dir: &Path, crds: &[CustomResourceDefinition]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for c in crds {
        let name = c.metadata.name.as_deref().unwrap_or(&c.spec.names.plural);
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, crd::to_yaml(std::slice::from_ref(c)))?;
        let served: Vec<&str> = c
            .spec
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.as_str())
            .collect();
        let storage = c
            .spec
            .versions
            .iter()
            .find(|v| v.storage)
            .map_or("-", |v| v.name.as_str());
        println!(
            "{}  served [{}] storage {storage}",
            path.display(),
            served.join(", ")
        );
    }
    Ok(())
}
