//! `smi-validate migrate --to gateway-api`: SMI → Gateway API (GAMMA) + mesh policies, with
//! the smi-gateway library.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use smi_gateway::{Input, Mesh, Options};
use smi_types::{Document, Limits};

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum To {
    /// Gateway API v1 routes (GAMMA) and, with --mesh, the mesh's policy objects.
    GatewayApi,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum MeshArg {
    /// Linkerd Server, MeshTLSAuthentication and AuthorizationPolicy (policy.linkerd.io).
    Linkerd,
    /// Istio AuthorizationPolicy (security.istio.io/v1).
    Istio,
    /// Routing only: TrafficTargets and IdentityBindings are reported as not migrated.
    None,
}

/// Migrate SMI manifests to the Gateway API. Objects go to stdout (YAML); every loss and note,
/// then a summary, to stderr. Services and workloads given along are read for ports and pod
/// labels. Exit status: 0 written, 1 refused (--strict) or a document could not be read,
/// 2 usage or I/O error.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// Target API.
    #[arg(long, value_enum)]
    to: To,
    /// Mesh whose policy API receives TrafficTargets and IdentityBindings.
    #[arg(long, value_enum, default_value = "none")]
    mesh: MeshArg,
    /// Refuse (exit 1, nothing written) when anything cannot be expressed.
    #[arg(long)]
    strict: bool,
    /// Port assumed for a TrafficSplit's root Service the input has no manifest for.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(i32).range(1..=65535))]
    port: Option<i32>,
    /// Namespace of objects that name none.
    #[arg(short, long, default_value = "default")]
    namespace: String,
    /// Files or directories (recursive: .yaml, .yml, .json); `-` or nothing reads stdin.
    files: Vec<PathBuf>,
}

pub fn run(a: MigrateArgs) -> ExitCode {
    let To::GatewayApi = a.to;
    let mut paths = Vec::new();
    for f in &a.files {
        if f.as_os_str() == "-" {
            paths.push(f.clone());
        } else if let Err(e) = crate::collect(f, &mut paths) {
            eprintln!("smi-validate migrate: {}: {e}", f.display());
            return ExitCode::from(2);
        }
    }
    if a.files.is_empty() {
        paths.push(PathBuf::from("-"));
    }
    let mut unreadable = false;
    let mut streams: Vec<(String, Vec<Document>)> = Vec::new();
    for p in &paths {
        let (origin, text) = if p.as_os_str() == "-" {
            let mut s = String::new();
            if let Err(e) = io::stdin().lock().read_to_string(&mut s) {
                eprintln!("smi-validate migrate: <stdin>: {e}");
                return ExitCode::from(2);
            }
            ("<stdin>".to_owned(), s)
        } else {
            match std::fs::read_to_string(p) {
                Ok(s) => (p.display().to_string(), s),
                Err(e) => {
                    eprintln!("smi-validate migrate: {}: {e}", p.display());
                    return ExitCode::from(2);
                }
            }
        };
        let docs = match smi_types::parse_yaml_documents(&text, &Limits::default()) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("smi-validate migrate: {origin}: {e} (nothing read from it)");
                unreadable = true;
                continue;
            }
        };
        let mut ok = Vec::with_capacity(docs.len());
        for (i, d) in docs.into_iter().enumerate() {
            match d {
                Ok(d) => ok.push(d),
                Err(e) => {
                    eprintln!("smi-validate migrate: {origin}[{i}]: not read: {e}");
                    unreadable = true;
                    // keep document indexes aligned with the file
                    ok.push(Document::Empty);
                }
            }
        }
        streams.push((origin, ok));
    }
    let inputs: Vec<Input<'_>> = streams.iter().map(|(o, d)| Input::new(o, d)).collect();
    let mut opts = Options::new(match a.mesh {
        MeshArg::Linkerd => Mesh::Linkerd,
        MeshArg::Istio => Mesh::Istio,
        MeshArg::None => Mesh::None,
    });
    opts.strict = a.strict;
    opts.default_port = a.port;
    opts.namespace = a.namespace;
    let migration = match smi_gateway::migrate(&inputs, &opts) {
        Ok(m) => m,
        Err(smi_gateway::Error::Lossy(losses)) => {
            for l in &losses {
                eprintln!("loss: {l}");
            }
            eprintln!(
                "smi-validate migrate: {} loss(es): nothing written (--strict)",
                losses.len()
            );
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("smi-validate migrate: {e}");
            return ExitCode::from(1);
        }
    };
    let yaml = match migration.to_yaml() {
        Ok(y) => y,
        Err(e) => {
            eprintln!("smi-validate migrate: {e}");
            return ExitCode::from(1);
        }
    };
    let mut err = io::stderr().lock();
    for l in &migration.losses {
        let _ = writeln!(err, "loss: {l}");
    }
    for n in &migration.notes {
        let _ = writeln!(err, "note: {n}");
    }
    let by_kind = migration
        .losses_by_kind()
        .iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut by_source: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &migration.losses {
        *by_source.entry(l.source.kind.as_str()).or_default() += 1;
    }
    let by_source = by_source
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        err,
        "smi-validate migrate: {} SMI object(s) in, {} object(s) out, {} loss(es){}{}, {} note(s)",
        migration.inputs,
        migration.objects.len(),
        migration.losses.len(),
        if by_kind.is_empty() {
            String::new()
        } else {
            format!(" ({by_kind})")
        },
        if by_source.is_empty() {
            String::new()
        } else {
            format!(" [by source kind: {by_source}]")
        },
        migration.notes.len()
    );
    if io::stdout().lock().write_all(yaml.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    if unreadable {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
