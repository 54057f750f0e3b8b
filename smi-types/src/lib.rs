//! Every Service Mesh Interface (SMI) API, typed.
//!
//! One module per API group, one sub-module per version:
//! [`access`], [`specs`], [`split`], [`metrics`] and the project's Performance Test API [`perf`].
//! The latest version of each group is re-exported at the group root.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

pub mod access;
pub mod headers;
pub mod metrics;
pub mod perf;
pub mod quantity;
pub mod specs;
pub mod split;
pub mod dynamic;
pub mod error;

pub use dynamic::{
    Document, Limits, SmiObject, known_api_versions, parse_json, parse_yaml_documents, parse_yaml_stream,
    parse_yaml_stream_with, to_yaml_stream,
};
pub use error::{Error, Location};
pub mod convert;
pub mod crd;
