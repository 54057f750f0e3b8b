//! Admission webhook helper: answer an `AdmissionReview` with the validator's verdict.
//!
//! ```
//! use kube_core::admission::AdmissionReview;
//! use kube_core::DynamicObject;
//! let review: AdmissionReview<DynamicObject> = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
//!     "request": {
//!         "uid": "1", "operation": "CREATE",
//!         "kind": {"group": "split.smi-spec.io", "version": "v1alpha4", "kind": "TrafficSplit"},
//!         "resource": {"group": "split.smi-spec.io", "version": "v1alpha4", "resource": "trafficsplits"},
//!         "userInfo": {}, "dryRun": false,
//!         "object": {"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
//!                    "metadata": {"name": "s"}, "spec": {"service": "web", "backends": [{"service": "v1", "weight": "5"}]}}
//!     }
//! })).unwrap();
//! let answer = smi_validate::validate_admission(review, &smi_validate::Options::default());
//! let response = answer.response.unwrap();
//! assert!(!response.allowed);
//! assert!(response.result.message.contains("SMI1201"));
//! ```

use crate::{Options, Severity, Validator};
use kube_core::DynamicObject;
use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};

/// Validates the object of an admission request. Errors deny (all messages, one per line);
/// warnings are returned as admission warnings. A review without request is answered as invalid.
pub fn validate_admission(
    review: AdmissionReview<DynamicObject>,
    options: &Options,
) -> AdmissionReview<DynamicObject> {
    let req: AdmissionRequest<DynamicObject> = match review.try_into() {
        Ok(r) => r,
        Err(_) => {
            return AdmissionResponse::invalid("AdmissionReview without request").into_review();
        }
    };
    let mut resp = AdmissionResponse::from(&req);
    let Some(obj) = &req.object else {
        return resp.into_review(); // DELETE: nothing to validate
    };
    let value = match serde_json::to_value(obj) {
        Ok(v) => v,
        Err(e) => {
            return AdmissionResponse::invalid(format!("cannot read object: {e}")).into_review();
        }
    };
    let mut v = Validator::new(options.clone());
    v.validate_value("<admission>", value);
    // cross-object rules need the whole set; an admission request has one object
    let report = v.finish();
    let line = |d: &crate::Diagnostic| match &d.path {
        Some(p) => format!("{}[{}] {}: {}", d.severity, d.code, p, d.message),
        None => format!("{}[{}] {}", d.severity, d.code, d.message),
    };
    let warnings: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning && !is_reference(d))
        .map(line)
        .collect();
    if !warnings.is_empty() {
        resp.warnings = Some(warnings);
    }
    let errors: Vec<String> = report.errors().map(line).collect();
    if !errors.is_empty() {
        resp = resp.deny(errors.join("\n"));
    }
    resp.into_review()
}

fn is_reference(d: &crate::Diagnostic) -> bool {
    matches!(
        d.code,
        crate::Code::UnresolvedRoute | crate::Code::UnresolvedSplitMatch
    )
}
