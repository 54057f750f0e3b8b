//! A validating admission webhook for SMI objects: HTTPS on loopback with a self-signed
//! certificate made at start, answering `admission.k8s.io/v1` AdmissionReviews with
//! [`smi_validate::validate_admission`].
//!
//! ```text
//! cargo run -p examples --bin admission-webhook -- --port 8443 --cert-out webhook.pem
//! ```
//!
//! Prints `listening on https://127.0.0.1:<port>/validate` (port 0, the default, picks a free
//! one), then one line per review on stderr. Objects with errors are denied with the
//! diagnostics (`error[SMI1201] spec.backends[0].weight: ...`, one per line); warnings come
//! back as admission warnings, which `kubectl` prints.
//!
//! Try it:
//!
//! ```text
//! curl --cacert webhook.pem -H 'content-type: application/json' \
//!      --data @review.json https://127.0.0.1:8443/validate
//! ```
//!
//! In a cluster, serve this behind a Service, add its DNS name with `--san`, and put the PEM
//! written by `--cert-out` in the `caBundle` of a `ValidatingWebhookConfiguration` whose rules
//! match the `*.smi-spec.io` groups; or serve a certificate the cluster's CA signed with
//! `--tls-cert tls.crt --tls-key tls.key`. The generated certificate is valid for one year.
//!
//! The registration `e2e/tests/admission.rs` uses against a real API server, and why:
//! `failurePolicy: Fail` (an SMI object is never stored unvalidated; validation is CPU-only, so
//! the webhook being down is the only failure), `timeoutSeconds: 5` (half the default: a hung
//! webhook costs a write at most 5 s), `matchPolicy: Equivalent` (rules name the latest version;
//! a request at another served version is converted and still validated), `sideEffects: None`
//! (dry runs are validated too), rules for `CREATE` and `UPDATE` of every resource in
//! `access.smi-spec.io`, `specs.smi-spec.io` and `split.smi-spec.io`.
//!
//! Slow and idle clients are timed out and cannot hold the connection cap; SIGTERM drains
//! (see [`examples::serve`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use examples::serve::{self, Clean, Limits, Reply};
use examples::tls::{self, SelfSigned};
use hyper::StatusCode;
use kube_core::DynamicObject;
use kube_core::admission::AdmissionReview;

#[derive(Parser)]
#[command(about = "HTTPS admission webhook validating SMI objects")]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port, printed at start).
    #[arg(long, env = "WEBHOOK_PORT", default_value_t = 0)]
    port: u16,
    /// Write the generated certificate (PEM) here: the CA bundle clients trust.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Serve this certificate chain (PEM, serving certificate first) instead of generating a
    /// self-signed one, e.g. one signed by the cluster's CA. Needs `--tls-key`.
    #[arg(long, requires = "tls_key", conflicts_with_all = ["cert_out", "san"])]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Extra certificate names (e.g. `smi-webhook.smi-system.svc`).
    #[arg(long)]
    san: Vec<String>,
    /// Unknown fields (which the API server would prune) are errors.
    #[arg(long)]
    strict: bool,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    exit_after: Option<u64>,
    /// Stop after answering this many reviews.
    #[arg(long)]
    max_requests: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => tls::server_config_from_files(cert, key)?,
        _ => {
            let cert = SelfSigned::generate(&[tls::default_names(), args.san].concat())?;
            if let Some(path) = &args.cert_out {
                std::fs::write(path, &cert.cert_pem)?;
            }
            cert.server_config()?
        }
    };
    let options = smi_validate::Options::new().strict(args.strict);
    let handler: serve::Handler =
        Arc::new(move |path: &str, body: Bytes| review(&options, path, &body));

    let listener = serve::bind(args.port).await?;
    println!("listening on https://{}/validate", listener.local_addr()?);
    let limits = Limits {
        max_requests: args.max_requests,
        exit_after: args.exit_after.map(Duration::from_secs),
        ..Limits::default()
    };
    let stopped = serve::run(listener, Some(tls), handler, limits).await;
    serve::log(format_args!("stopped: {stopped:?}"));
    Ok(())
}

/// Answers one AdmissionReview.
fn review(options: &smi_validate::Options, path: &str, body: &[u8]) -> Reply {
    if path != "/validate" {
        return Reply::error(StatusCode::NOT_FOUND, "POST AdmissionReviews to /validate");
    }
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                &format!("not an AdmissionReview: {}", serve::json_error(&e)),
            );
        }
    };
    // "TrafficSplit shop/web", for the log (on CREATE the name may only be in the object)
    let object = review.request.as_ref().map(|r| {
        let meta = r.object.as_ref().map(|o| &o.metadata);
        let name = Some(r.name.as_str()).filter(|n| !n.is_empty());
        let name = name.or(meta.and_then(|m| m.name.as_deref())).unwrap_or("-");
        let namespace = r
            .namespace
            .as_deref()
            .or(meta.and_then(|m| m.namespace.as_deref()));
        format!(
            "{} {}/{}",
            Clean(&r.kind.kind),
            Clean(namespace.unwrap_or("-")),
            Clean(name)
        )
    });
    let answer = smi_validate::validate_admission(review, options);
    if let Some(resp) = &answer.response {
        let verdict = if resp.allowed {
            let warnings = resp.warnings.as_ref().map_or(0, Vec::len);
            format!("allowed ({warnings} warning(s))")
        } else {
            format!("denied: {}", resp.result.message.replace('\n', "; "))
        };
        // uid, names and messages come from the client: escaped, and a closed stderr is no error
        serve::log(format_args!(
            "{} {}: {}",
            Clean(&resp.uid),
            object.unwrap_or_default(),
            Clean(&verdict)
        ));
    }
    Reply::json(&answer)
}
