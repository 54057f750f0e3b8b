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
use kube_core::Status;
use kube_core::conversion::{ConversionRequest, ConversionResponse, ConversionReview};
use kube_core::response::StatusSummary;
use smi_types::SmiObject;
use smi_types::convert::{ConvertError, Lossy};

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
    let answer = match lossy {
        // The library's handler: refuses lossy conversions, listing the lost fields.
        Lossy::Refuse => smi_types::convert::review(review),
        Lossy::Report => review_reporting_losses(review),
    };
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

/// Converts every object with [`Lossy::Report`] and puts the losses in `result.message`
/// (`smi_types::convert::review_with(.., Lossy::Report)` converts but does not say what it
/// dropped).
fn review_reporting_losses(review: ConversionReview) -> ConversionReview {
    let request = match ConversionRequest::from_review(review) {
        Ok(r) => r,
        Err(_) => {
            return ConversionResponse::invalid(Status::failure(
                "ConversionReview has no request",
                "BadRequest",
            ))
            .into_review();
        }
    };
    let (desired, objects) = (request.desired_api_version.clone(), request.objects.clone());
    let response = ConversionResponse::for_request(request);
    let (mut converted, mut lost) = (Vec::new(), Vec::new());
    for (i, object) in objects.into_iter().enumerate() {
        match SmiObject::from_value(object)
            .map_err(ConvertError::from)
            .and_then(|o| o.convert_to(&desired, Lossy::Report))
        {
            Ok(c) => {
                lost.extend(c.lost.iter().map(|l| format!("object {i}: {l}")));
                converted.push(c.value.to_value());
            }
            Err(e) => {
                return response
                    .failure(Status::failure(
                        &format!("object {i}: {e}"),
                        "ConversionFailed",
                    ))
                    .into_review();
            }
        }
    }
    let mut response = response.success(converted);
    if !lost.is_empty() {
        response.result.message = format!("converted with losses: {}", lost.join("; "));
    }
    response.into_review()
}
