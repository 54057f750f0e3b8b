//! `split.smi-spec.io`: TrafficSplit.
//!
//! The latest version is re-exported here.

pub mod convert;
pub mod v1alpha1;
pub mod v1alpha2;
pub mod v1alpha3;
pub mod v1alpha4;

pub use v1alpha4::*;

/// Declares a version's `TrafficSplitSpec` (root service, backends whose weight is a `$weight`,
/// and with `matches: T` the HTTPRouteGroup matches) and its builder, over the
/// `TrafficSplitBackend` of the calling version module.
macro_rules! traffic_split_spec {
    (weight: $weight:ty $(, matches: $matches:ty)?) => {
        /// Body of a TrafficSplit.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub struct TrafficSplitSpec {
            /// The root (apex) service clients address.
            pub service: String,
            /// Backend services with their weights.
            pub backends: Vec<TrafficSplitBackend>,
            $(
                /// HTTPRouteGroups (same namespace) whose matching requests are split; others go to the
                /// root service.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub matches: Option<Vec<$matches>>,
            )?
        }

        impl TrafficSplitSpec {
            /// A split of `service` with no backends yet.
            pub fn new(service: &str) -> Self {
                Self {
                    service: service.into(),
                    ..Default::default()
                }
            }
            /// Adds a backend.
            pub fn backend(mut self, service: &str, weight: impl Into<$weight>) -> Self {
                self.backends.push(TrafficSplitBackend {
                    service: service.into(),
                    weight: weight.into(),
                });
                self
            }
            $(
                /// Restricts the split to requests matching HTTPRouteGroup `name`.
                pub fn http_route_group(mut self, name: &str) -> Self {
                    self.matches
                        .get_or_insert_with(Vec::new)
                        .push(<$matches>::http_route_group(name));
                    self
                }
            )?
        }
    };
}
use traffic_split_spec;

/// API group of this module.
pub const GROUP: &str = "split.smi-spec.io";
