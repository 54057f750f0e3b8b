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

/// Declares `HttpRouteGroup::new`/`with_match` for a version whose matches are at `$matches`
/// (`matches` at the top level, or `spec.matches`); for `spec.matches` also the version's
/// `HttpRouteGroupSpec`.
macro_rules! http_route_group {
    (spec.matches) => {
        super::http_route_group!(@impl spec.matches);

        /// Body of an HTTPRouteGroup.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub struct HttpRouteGroupSpec {
            /// The matches (one match = one route).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(length(max = 256), extend("x-kubernetes-validations" = [{"rule": super::UNIQUE_MATCH_NAMES_RULE, "message": "match names must be unique"}]))]
            pub matches: Option<Vec<HttpMatch>>,
        }
    };
    (matches) => {
        super::http_route_group!(@impl matches);
    };
    (@impl $($matches:ident).+) => {
        impl HttpRouteGroup {
            /// An empty group named `name`.
            pub fn new(name: &str) -> Self {
                Self::named(name)
            }
            /// Adds a match.
            pub fn with_match(mut self, m: HttpMatch) -> Self {
                self.$($matches).+.get_or_insert_with(Vec::new).push(m);
                self
            }
        }
    };
}
use http_route_group;

/// Declares a version's `HttpMatch` (name, methods, path regex, and with `headers: T` the header
/// conditions) and its builder; the attributes given (docs) go on the struct.
macro_rules! http_match {
    ($(#[$attr:meta])* $(headers: $headers:ty $(,)?)?) => {
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        $(#[$attr])*
        #[serde(rename_all = "camelCase")]
        pub struct HttpMatch {
            /// Name other objects refer to; unique within the group. At most 253 characters, which
            /// bounds the cost of the uniqueness rule for the API server's CEL cost estimate.
            #[schemars(length(max = 253))]
            pub name: String,
            /// Methods (absent = any).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub methods: Option<Vec<HttpMethod>>,
            /// Regex on the request path, anchored at the start.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub path_regex: Option<String>,
            $(
                /// Header conditions (both wire forms read; see [`HttpHeaders`]).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub headers: Option<$headers>,
            )?
        }

        impl HttpMatch {
            /// A match named `name` with no conditions.
            pub fn new(name: &str) -> Self {
                Self {
                    name: name.into(),
                    ..Default::default()
                }
            }
            /// Sets the path regex.
            pub fn path_regex(mut self, re: &str) -> Self {
                self.path_regex = Some(re.into());
                self
            }
            /// Adds a method.
            pub fn method(mut self, m: HttpMethod) -> Self {
                self.methods.get_or_insert_with(Vec::new).push(m);
                self
            }
            $(
                /// Sets the header conditions.
                pub fn headers(mut self, h: $headers) -> Self {
                    self.headers = Some(h);
                    self
                }
            )?
        }
    };
}
use http_match;

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
