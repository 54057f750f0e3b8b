//! `specs.smi-spec.io`: HTTPRouteGroup, TCPRoute (all versions) and UDPRoute (`v1alpha4`).
//!
//! The latest version is re-exported here.

pub mod convert;
pub mod v1alpha1;
pub mod v1alpha2;
pub mod v1alpha3;
pub mod v1alpha4;

pub use v1alpha4::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of this module.
pub const GROUP: &str = "specs.smi-spec.io";

/// An HTTP method an `HTTPMatch` accepts; `*` means every method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HttpMethod {
    /// `*`: any method.
    #[serde(rename = "*")]
    Any,
    /// `GET`
    #[serde(rename = "GET")]
    Get,
    /// `HEAD`
    #[serde(rename = "HEAD")]
    Head,
    /// `PUT`
    #[serde(rename = "PUT")]
    Put,
    /// `POST`
    #[serde(rename = "POST")]
    Post,
    /// `DELETE`
    #[serde(rename = "DELETE")]
    Delete,
    /// `CONNECT`
    #[serde(rename = "CONNECT")]
    Connect,
    /// `OPTIONS`
    #[serde(rename = "OPTIONS")]
    Options,
    /// `TRACE`
    #[serde(rename = "TRACE")]
    Trace,
    /// `PATCH`
    #[serde(rename = "PATCH")]
    Patch,
}

/// CEL rule on every list of HTTP matches: match names are the key other objects use, so they
/// must be unique.
pub const UNIQUE_MATCH_NAMES_RULE: &str = "self.all(m, self.exists_one(n, n.name == m.name))";
