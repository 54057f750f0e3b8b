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
//! Conversions that would drop a field are refused by default: the review fails with a message
//! naming each lost field (`spec.destination.port = 8080 (...)`), so nothing is lost silently.
//! `--lossy report` converts anyway and lists the losses in the response's `result.message`
//! and the log. TLS is the default because the API server only calls HTTPS webhooks;
//! `--plain-http` is for local experiments.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use examples::serve::{self, Limits, Reply};
use examples::tls::{self, SelfSigned};
use hyper::StatusCode;
use kube_core::conversion::ConversionReview;
use kube_core::response::StatusSummary;
use smi_types::convert::Lossy;

#[derive(Clone, Copy, ValueEnum)]
enum LossPolicy {
    /// Fail the review when a field cannot be carried.
    Refuse,
    /// Convert and list what was dropped.
    Report,
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
    /// Extra certificate names (e.g. `smi-conversion-webhook.smi-system.svc`).
    #[arg(long)]
    san: Vec<String>,
    /// What to do with conversions that cannot carry every field.
    #[arg(long, value_enum, default_value = "refuse")]
    lossy: LossPolicy,
    /// Serve plain HTTP instead of TLS (local experiments only).
    #[arg(long)]
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
    let tls = if args.plain_http {
        None
    } else {
        let cert = SelfSigned::generate(&[tls::default_names(), args.san].concat())?;
        if let Some(path) = &args.cert_out {
            std::fs::write(path, &cert.cert_pem)?;
        }
        Some(cert.server_config()?)
    };
    let lossy = match args.lossy {
        LossPolicy::Refuse => Lossy::Refuse,
        LossPolicy::Report => Lossy::Report,
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
    eprintln!("stopped: {stopped:?}");
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
                &format!("not a ConversionReview: {e}"),
            );
        }
    };
    // The library's handler: `Refuse` fails the review naming the lost fields; `Report`
    // converts and lists the losses in `result.message`.
    let answer = smi_types::convert::review_with(review, lossy);
    if let Some(r) = &answer.response {
        match r.result.status {
            Some(StatusSummary::Success) => eprintln!(
                "{} ok, {} object(s). {}",
                r.uid,
                r.converted_objects.len(),
                r.result.message
            ),
            _ => eprintln!("{} failed: {}", r.uid, r.result.message),
        }
    }
    Reply::json(&answer)
}
