//! The conversion webhook for the all-versions CRD flavour: the API server POSTs a
//! `ConversionReview` whenever a client reads or writes a version other than the stored one,
//! and [`smi_types::convert`] answers it.
//!
//! ```text
//! cargo run -p examples --bin conversion-webhook -- --port 9443 --cert-out conversion.pem
//! cargo run -p examples --bin crds -- out --ca-bundle conversion.pem   # CRDs that point at it
//! ```
//!
//! Prints `listening on https://127.0.0.1:<port>/convert`, then one line per review on stderr.
//!
//! Policy (see [`smi_types::convert`]): a field the desired version cannot hold never fails the
//! review (one such object would fail every LIST at that version); it is kept in the
//! `convert.smi-rs.io/stash` annotation and restored when the object is converted to a version
//! that has it, and the response's `result.message` (and the log) says what was kept aside.
//! `--lossy refuse` fails such reviews instead (strict, for experiments; not for a cluster). TLS is the default because the API server only calls HTTPS webhooks;
//! `--plain-http` is for local experiments. The generated certificate is valid for one year;
//! `--tls-cert tls.crt --tls-key tls.key` serves one the cluster's CA signed instead.
//!
//! Slow and idle clients are timed out and cannot hold the connection cap; SIGTERM drains
//! (see [`examples::serve`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use examples::serve::{self, Clean, Limits, Reply};
use examples::tls::{self, SelfSigned};
use hyper::StatusCode;
use kube_core::conversion::ConversionReview;
use kube_core::response::StatusSummary;
use smi_types::convert::Lossy;

#[derive(Clone, Copy, ValueEnum)]
enum LossPolicy {
    /// Keep what the desired version cannot hold in the stash annotation (the default).
    Stash,
    /// Fail the review when the desired version cannot hold a field.
    Refuse,
}

#[derive(Parser)]
#[command(about = "HTTPS ConversionReview webhook for the SMI CRDs")]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port, printed at start).
    #[arg(long, env = "WEBHOOK_PORT", default_value_t = 0)]
    port: u16,
    /// Write the generated certificate (PEM) here: the CRDs' conversion `caBundle`.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Serve this certificate chain (PEM, serving certificate first) instead of generating a
    /// self-signed one, e.g. one signed by the cluster's CA. Needs `--tls-key`.
    #[arg(long, requires = "tls_key", conflicts_with_all = ["cert_out", "san"])]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Extra certificate names (e.g. `smi-conversion-webhook.smi-system.svc`).
    #[arg(long)]
    san: Vec<String>,
    /// What to do with conversions that cannot carry every field.
    #[arg(long, value_enum, default_value = "stash")]
    lossy: LossPolicy,
    /// Serve plain HTTP instead of TLS (local experiments only).
    #[arg(long, conflicts_with_all = ["tls_cert", "cert_out"])]
    plain_http: bool,
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
        _ if args.plain_http => None,
        (Some(cert), Some(key)) => Some(tls::server_config_from_files(cert, key)?),
        _ => {
            let cert = SelfSigned::generate(&[tls::default_names(), args.san].concat())?;
            if let Some(path) = &args.cert_out {
                std::fs::write(path, &cert.cert_pem)?;
            }
            Some(cert.server_config()?)
        }
    };
    let lossy = match args.lossy {
        LossPolicy::Refuse => Lossy::Refuse,
        LossPolicy::Stash => Lossy::Report,
    };
    let handler: serve::Handler =
        Arc::new(move |path: &str, body: Bytes| handle(lossy, path, &body));

    let listener = serve::bind(args.port).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{}/convert", listener.local_addr()?);
    let limits = Limits {
        max_requests: args.max_requests,
        exit_after: args.exit_after.map(Duration::from_secs),
        ..Limits::default()
    };
    let stopped = serve::run(listener, tls, handler, limits).await;
    serve::log(format_args!("stopped: {stopped:?}"));
    Ok(())
}

fn handle(lossy: Lossy, path: &str, body: &[u8]) -> Reply {
    if path != "/convert" {
        return Reply::error(StatusCode::NOT_FOUND, "POST ConversionReviews to /convert");
    }
    let review: ConversionReview = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                &format!("not a ConversionReview: {}", serve::json_error(&e)),
            );
        }
    };
    // The library's handler: `Report` stashes and lists what was kept aside in
    // `result.message`; `Refuse` fails the review naming the fields.
    let answer = smi_types::convert::review_with(review, lossy);
    if let Some(r) = &answer.response {
        match r.result.status {
            // uid and messages come from the client: escaped; a closed stderr is no error
            Some(StatusSummary::Success) => serve::log(format_args!(
                "{} ok, {} object(s). {}",
                Clean(&r.uid),
                r.converted_objects.len(),
                Clean(&r.result.message)
            )),
            _ => serve::log(format_args!(
                "{} failed: {}",
                Clean(&r.uid),
                Clean(&r.result.message)
            )),
        }
    }
    Reply::json(&answer)
}
