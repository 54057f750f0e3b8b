//! Version conversion: the shared vocabulary ([`Lossy`], [`Loss`], [`Converted`],
//! [`ConvertError`]), [`SmiObject::convert_to`], and the conversion webhook handler [`review`].
//!
//! The per-kind functions live beside the versions: [`crate::access::convert`],
//! [`crate::specs::convert`], [`crate::split::convert`], [`crate::metrics::convert`]. Each kind
//! converts hub-and-spoke through its hub version, dispatched by the [kind registry](crate::registry)
//! (which names each version's two functions). Nothing is dropped silently: a conversion
//! that cannot carry a field lists it as a [`Loss`], and the caller chooses with [`Lossy`]
//! whether that is an error.
//!
//! Two entry points:
//!
//! - [`SmiObject::convert_to`]: typed, for callers converting on purpose. The result holds only
//!   what the target version can express; [`Lossy::Refuse`] (default) fails when a field would
//!   be lost, [`Lossy::Report`] converts and lists the losses.
//! - [`convert_value`]: on JSON values, field by field, as a conversion webhook needs
//!   ([`review`] uses it). Partial objects (server-side apply converts managed-field sets)
//!   convert; fields no SMI version knows travel with their parent; every field the target
//!   version cannot hold is kept in the [`STASH_ANNOTATION`] annotation and put back when the
//!   object is converted to a version that has it (v1alpha1 quantity weights come back as
//!   written, `500m` stays the string `"500m"`, `1` the number `1`). Converting A → B → A gives
//!   A back, for every pair of versions; it never fails because a version cannot express a
//!   field.
//!
//! # The webhook's policy
//!
//! [`review`] never fails a `ConversionReview` because an object uses a field the desired
//! version lacks: failing one object would fail every LIST at that version (an informer at
//! an older version would stop working). Such fields go into the stash annotation instead,
//! so the API server's round trips (read at an old version, write back) keep them; an edit made
//! at the older version wins over the stash where both touch the same field. A review fails
//! only for a malformed request (no request, an object without `apiVersion`/`kind`, a kind or
//! version that is not SMI's). [`review_with`] with [`Lossy::Refuse`] is for callers that want
//! the strict behaviour and accept its cost.
//!
//! ```
//! use smi_types::{SmiObject, convert::Lossy};
//! use smi_types::split::v1alpha1::*;
//! let old = SmiObject::TrafficSplitV1alpha1(TrafficSplit::new("s", TrafficSplitSpec::new("web").backend("v1", 1).backend("v2", "500m")));
//! let new = old.convert_to("split.smi-spec.io/v1alpha4", Lossy::Refuse).unwrap();
//! assert_eq!(new.value.to_value()["spec"]["backends"][1]["weight"], 5);
//! ```

use kube_core::Status;
use kube_core::conversion::{ConversionRequest, ConversionResponse, ConversionReview};

use crate::access;
use crate::dynamic::SmiObject;
use crate::registry::versions_of;

mod value;
pub use crate::conversion::{ConvertError, Converted, Loss, Lossy};
pub use value::STASH_ANNOTATION;

impl SmiObject {
    /// Converts to another version of the same kind (`api_version` like
    /// `split.smi-spec.io/v1alpha4`), through the kind's hub version (TrafficTarget
    /// v1alpha1 ↔ v1alpha2 convert directly, keeping `port`).
    ///
    /// ```
    /// use smi_types::{SmiObject, convert::{ConvertError, Lossy}};
    /// use smi_types::access::v1alpha2::*;
    /// let tt = SmiObject::TrafficTargetV1alpha2(TrafficTarget::new("t",
    ///     TrafficTargetSpec::new(IdentityBindingSubject::service_account("api").port(8080))));
    /// let err = tt.convert_to("access.smi-spec.io/v1alpha3", Lossy::Refuse).unwrap_err();
    /// assert!(matches!(err, ConvertError::Lossy { .. }));
    /// let ok = tt.convert_to("access.smi-spec.io/v1alpha3", Lossy::Report).unwrap();
    /// assert_eq!(ok.lost[0].path, "spec.destination.port");
    /// ```
    pub fn convert_to(
        &self,
        api_version: &str,
        lossy: Lossy,
    ) -> Result<Converted<SmiObject>, ConvertError> {
        let kind = self.kind();
        let (group, _) = self.api_version().split_once('/').unwrap_or_default();
        let known: Vec<String> = versions_of(group, kind)
            .into_iter()
            .map(|v| format!("{group}/{v}"))
            .collect();
        let unknown = || ConvertError::UnknownTarget {
            kind,
            api_version: api_version.to_owned(),
            known: known.clone(),
        };
        let (target_group, version) = api_version.split_once('/').ok_or_else(unknown)?;
        if target_group != group || !known.iter().any(|k| k == api_version) {
            return Err(unknown());
        }
        if api_version == self.api_version() {
            return Ok(Converted::new(self.clone(), Vec::new()));
        }
        let converted = match (self, version) {
            // both carry `port`: converting through the hub (which has none) would lose it
            (SmiObject::TrafficTargetV1alpha1(x), "v1alpha2") => {
                access::convert::traffic_target_v1alpha1_to_v1alpha2(x)
                    .map(SmiObject::TrafficTargetV1alpha2)
            }
            (SmiObject::TrafficTargetV1alpha2(x), "v1alpha1") => {
                access::convert::traffic_target_v1alpha2_to_v1alpha1(x)
                    .map(SmiObject::TrafficTargetV1alpha1)
            }
            _ => self
                .to_hub()?
                .then(|hub| SmiObject::from_hub(hub, version))?,
        };
        if lossy == Lossy::Refuse && !converted.lost.is_empty() {
            return Err(ConvertError::Lossy {
                kind,
                from: self.api_version(),
                to: api_version.to_owned(),
                lost: converted.lost,
            });
        }
        Ok(converted)
    }
}

/// Converts one JSON object to `api_version` field by field, keeping in the
/// [`STASH_ANNOTATION`] annotation every field the target version cannot hold and restoring
/// the fields stashed there (see the [module docs](self#the-webhooks-policy)).
///
/// [`Converted::lost`] lists the stashed fields (nothing is lost: they are in the annotation)
/// and values the target version keeps but gives no meaning (an IdentityBinding subject
/// before TrafficTarget v1alpha4, a UDPRoute rule in TrafficTarget v1alpha1/v1alpha2). Errors
/// are only [`ConvertError::Unreadable`] and [`ConvertError::UnknownTarget`].
///
/// ```
/// use serde_json::json;
/// use smi_types::convert::{convert_value, STASH_ANNOTATION};
/// let v1 = json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit",
///   "metadata": {"name": "s"},
///   "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}]}});
/// let v4 = convert_value(&v1, "split.smi-spec.io/v1alpha4").unwrap().value;
/// assert_eq!(v4["spec"]["backends"][1]["weight"], 5);
/// assert!(v4["metadata"]["annotations"][STASH_ANNOTATION].is_string());
/// // a partial object (no service, one backend) converts too
/// let partial = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit",
///   "spec": {"matches": [{"kind": "HTTPRouteGroup", "name": "r"}]}});
/// let down = convert_value(&partial, "split.smi-spec.io/v1alpha2").unwrap().value;
/// assert!(down["spec"].get("matches").is_none());
/// assert_eq!(convert_value(&down, "split.smi-spec.io/v1alpha4").unwrap().value, partial);
/// assert_eq!(convert_value(&v4, "split.smi-spec.io/v1alpha1").unwrap().value, v1);
/// ```
pub fn convert_value(
    object: &serde_json::Value,
    api_version: &str,
) -> Result<Converted<serde_json::Value>, ConvertError> {
    value::convert(object, api_version)
}

/// Handles a `ConversionReview` from the API server with [`convert_value`]: fields the desired
/// version cannot hold are stashed, never a reason to fail (see the
/// [webhook's policy](self#the-webhooks-policy)).
///
/// ```
/// use kube_core::conversion::ConversionReview;
/// let review: ConversionReview = serde_json::from_value(serde_json::json!({
///   "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
///   "request": {"uid": "1", "desiredAPIVersion": "split.smi-spec.io/v1alpha4", "objects": [
///     {"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit", "metadata": {"name": "s"},
///      "spec": {"service": "web", "backends": [{"service": "v1", "weight": 1}]}}]}})).unwrap();
/// let out = smi_types::convert::review(review);
/// let resp = out.response.unwrap();
/// assert_eq!(resp.converted_objects[0]["apiVersion"], "split.smi-spec.io/v1alpha4");
/// ```
pub fn review(review: ConversionReview) -> ConversionReview {
    review_with(review, Lossy::Report)
}

/// [`review`] with a chosen [`Lossy`] policy: [`Lossy::Report`] is [`review`];
/// [`Lossy::Refuse`] fails the review when any object has a field the desired version cannot
/// hold (even though the stash would keep it). A CRD's webhook should not refuse: one such
/// object fails every LIST at that version.
pub fn review_with(review: ConversionReview, lossy: Lossy) -> ConversionReview {
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
    let desired = request.desired_api_version.clone();
    let objects = request.objects.clone();
    let response = ConversionResponse::for_request(request);
    let mut converted = Vec::with_capacity(objects.len());
    let mut losses = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        match convert_value(object, &desired) {
            Ok(c) if lossy == Lossy::Refuse && !c.lost.is_empty() => {
                let lost: Vec<String> = c.lost.iter().map(ToString::to_string).collect();
                return response
                    .failure(Status::failure(
                        &format!(
                            "object {i}: converting to {desired} would lose: {}",
                            lost.join("; ")
                        ),
                        "ConversionFailed",
                    ))
                    .into_review();
            }
            Ok(c) => {
                losses.extend(c.lost.iter().map(|loss| format!("object {i}: {loss}")));
                converted.push(c.value);
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
    // What the desired version does not show (stashed) is said in the result message, which
    // the API server logs at high verbosity.
    if !losses.is_empty() {
        let n = losses.len();
        losses.truncate(5);
        let more = if n > 5 {
            format!(" (and {} more)", n - 5)
        } else {
            String::new()
        };
        response.result.message = format!("converted; kept aside: {}{more}", losses.join("; "));
    }
    response.into_review()
}
