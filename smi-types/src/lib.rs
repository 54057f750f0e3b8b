//! Every Service Mesh Interface (SMI) API, typed.
//!
//! One module per API group, one file per version: [`access`], [`specs`], [`split`],
//! [`metrics`] and the project's Performance Test API [`perf`]. The latest version of each group
//! is re-exported at the group root (`smi_types::split::TrafficSplit` is `v1alpha4`). Every CRD
//! kind implements [`kube_core::Resource`] and carries k8s-openapi style constants
//! (`API_VERSION`, `GROUP`, `VERSION`, `KIND`, `PLURAL`); every type derives `Serialize`,
//! `Deserialize`, `JsonSchema`, `Clone`, `Debug` and `PartialEq`, and keeps the exact wire shape
//! of its version (see the spec's "traps": pre-`spec` versions, `headers` forms, quantity
//! weights, object-valued `matches`).
//!
//! - [`dynamic`]: read any document ([`parse_yaml_stream`], [`parse_json`], [`SmiObject`],
//!   [`Document`]).
//! - [`yaml`]: the one YAML reader (document splitter, the [`Limits`] budget, values with
//!   positions, serde-saphyr's scalar resolution) under `parse_yaml_stream` and smi-validate.
//! - [`convert`]: version conversion that never drops a field silently, and a conversion
//!   webhook handler.
//! - [`crd`]: CustomResourceDefinitions with structural schemas and CEL rules.
//! - [`registry`]: the one table of every kind × version, from which [`SmiObject`], the CRD
//!   versions, the conversion dispatch and the router are generated.
//!
//! Load a manifest, convert it, print the CRDs:
//!
//! ```
//! use smi_types::convert::Lossy;
//! use smi_types::crd::{self, Flavour};
//! use smi_types::{Document, parse_yaml_stream};
//!
//! let manifest = "
//! apiVersion: split.smi-spec.io/v1alpha1
//! kind: TrafficSplit
//! metadata: {name: canary, namespace: web}
//! spec:
//!   service: web
//!   backends:
//!   - {service: web-v1, weight: 1}
//!   - {service: web-v2, weight: 500m}
//! ---
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web}
//! ";
//! for doc in parse_yaml_stream(manifest)? {
//!     let Document::Smi(obj) = doc else { continue };
//!     let converted = obj.convert_to("split.smi-spec.io/v1alpha4", Lossy::Refuse)?;
//!     // ratios are kept: 1 : 500m becomes 10 : 5
//!     assert_eq!(converted.value.to_value()["spec"]["backends"][1]["weight"], 5);
//!     print!("{}", converted.value.to_yaml()?);
//! }
//! let crds = crd::generate(Flavour::SdkCompatible);
//! print!("{}", crd::to_yaml(&crds));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Decisions
//!
//! - `headers` (HTTPRouteGroup v1alpha2+) reads both the list-of-one-key-maps form and the map
//!   form, remembers which, and writes the same back ([`headers::HttpHeaders`]); values built in
//!   code write the list form (what smi-sdk-go and its CRDs accept). The generated CRD schemas
//!   accept only the list form: a structural schema cannot say "array or object", and the API
//!   server stores what it is sent, which smi-sdk-go-based controllers could not read.
//! - TrafficSplit v1alpha1 weights are converted to integers keeping ratios, unlike upstream
//!   ([`split::convert`]).
//! - Optional fields are `Option` so that absent and empty stay distinct on a round trip;
//!   `apiVersion`/`kind` fields are kept as read (empty = absent) and filled by constructors.
//! - Unknown fields are ignored on read (as the API server prunes them); HTTPRouteGroup v1alpha3+,
//!   TrafficSplit, TCPRoute/UDPRoute v1alpha4, IdentityBinding and TrafficTarget v1alpha2+ require
//!   `spec`, so the spec docs' HTTPRouteGroup examples without `spec` are an error rather than an
//!   empty group.
//! - The metrics spec document is labelled v1alpha1 but its `edge.side` and `backend` exist only
//!   in `metrics::v1alpha2`; TrafficMetrics `timestamp`/`window` are kept as written strings.
//! - [`SmiObject`] has no variants for the CRD kinds' `…List` types (only for
//!   TrafficMetricsList, which the metrics API serves).
//!
//! The other differences from the smi-sdk-go CRDs are tabled in [`crd`].
//!
//! # Features
//!
//! - `yaml` (off by default): YAML reading and writing with serde-saphyr —
//!   [`parse_yaml_stream`], [`parse_yaml_documents`], [`SmiObject::to_yaml`], [`to_yaml_stream`],
//!   [`crd::to_yaml`]. Without it the crate still reads and writes JSON ([`parse_json`],
//!   [`SmiObject::from_value`]) and every type still implements `Deserialize`, so any serde
//!   format works.
//!
//! k8s-openapi needs exactly one Kubernetes version feature, which this library leaves to the
//! final binary (e.g. `k8s-openapi = { version = "0.29", features = ["v1_33"] }`).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod conversion;
mod macros;

pub mod access;
pub mod convert;
pub mod crd;
pub mod dynamic;
pub mod error;
pub mod headers;
pub mod metrics;
pub mod perf;
pub mod quantity;
pub mod registry;
pub mod specs;
pub mod split;
pub mod yaml;

pub use dynamic::{Document, SmiObject, known_api_versions, parse_json};
#[cfg(feature = "yaml")]
pub use dynamic::{
    parse_yaml_documents, parse_yaml_stream, parse_yaml_stream_with, to_yaml_stream,
};
pub use error::{Error, Location};
pub use yaml::Limits;

/// The workspace README's Rust snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// This crate's README's Rust snippets (the registry example), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
