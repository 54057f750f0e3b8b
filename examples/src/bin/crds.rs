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

use std::io::Write;
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
    let flavours = [
        (Flavour::AllVersions, "all-versions"),
        (Flavour::SdkCompatible, "sdk-compatible"),
    ];
    // Everything is written into a staging directory inside `out` first and moved into place
    // only when complete, so a failure part-way (disk full, a file in the way) leaves `out` as it
    // was rather than half-written.
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    for (_, dir) in &flavours {
        let target = args.out.join(dir);
        if target.exists() && !target.is_dir() {
            return Err(format!("{} exists and is not a directory", target.display()).into());
        }
    }
    let staging = args
        .out
        .join(format!(".crds-staging-{}", std::process::id()));
    let staged = (|| -> std::io::Result<Vec<String>> {
        let mut lines = Vec::new();
        for (flavour, dir) in &flavours {
            lines.extend(write_flavour(
                &staging.join(dir),
                &args.out.join(dir),
                &crd::generate_with(*flavour, &opts),
            )?);
        }
        Ok(lines)
    })();
    let lines = match staged {
        Ok(lines) => lines,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!("writing {}: {e}", staging.display()).into());
        }
    };
    for (_, dir) in &flavours {
        let target = args.out.join(dir);
        if target.is_dir() {
            std::fs::remove_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
        std::fs::rename(staging.join(dir), &target)
            .map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let _ = std::fs::remove_dir(&staging);
    // A reader that stops early (`crds out | head -1`) closes the pipe: that ends the listing,
    // it is not an error (and must not panic, as `println!` would).
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        match writeln!(stdout, "{line}") {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    match stdout.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes each CRD to `<dir>/<metadata.name>.yaml` and returns, for each, the line to print:
/// its final path (under `shown`) and the versions it serves.
fn write_flavour(
    dir: &Path,
    shown: &Path,
    crds: &[CustomResourceDefinition],
) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut lines = Vec::new();
    for c in crds {
        let name = c.metadata.name.as_deref().unwrap_or(&c.spec.names.plural);
        let file = format!("{name}.yaml");
        std::fs::write(dir.join(&file), crd::to_yaml(std::slice::from_ref(c)))?;
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
        lines.push(format!(
            "{}  served [{}] storage {storage}",
            shown.join(&file).display(),
            served.join(", ")
        ));
    }
    Ok(lines)
}
