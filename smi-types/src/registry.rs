//! The kind registry: the one table of every kind × version this crate knows.
//!
//! Each line of the table names a kind-version's type, its `SmiObject` variant, how smi-sdk-go's
//! CRDs ship it and, unless it is its kind's hub, the two functions that convert it to and
//! from the hub. Group, version, kind and plural come from the type itself (the constants its
//! version file declares with `smi_kind!`/`smi_resource!`), short names from the kind's block.
//! Everything else is generated from the table:
//!
//! - the [`SmiObject`] variants, `From<T> for SmiObject`, and the typed decoding behind
//!   [`SmiObject::from_value`], [`crate::parse_json`] and `parse_yaml_stream`;
//! - [`kind_versions`] and the router [`lookup`] / [`route`] (what smi-validate and the fuzz
//!   targets use);
//! - the CRD versions of [`crate::crd::generate`] (served, storage, schema);
//! - the conversion dispatch of [`SmiObject::convert_to`] (to the hub and back).
//!
//! # Adding a version
//!
//! Write the version file (`split/v1beta1.rs`, with `smi_kind!`), its two hub conversions in
//! the group's `convert.rs`, and one line in the kind's block below:
//!
//! ```text
//! TrafficSplitV1beta1 => split::v1beta1::TrafficSplit, sdk Absent,
//!     via split::convert::traffic_split_v1beta1_to_v1alpha4, split::convert::traffic_split_v1alpha4_to_v1beta1;
//! ```
//!
//! ```
//! use smi_types::registry::{self, Api, RouteError};
//! let ts = registry::lookup("split.smi-spec.io/v1alpha1", "TrafficSplit").unwrap();
//! assert_eq!((ts.plural, ts.short_names, ts.hub), ("trafficsplits", &["ts"][..], false));
//! assert_eq!(registry::hub_of("split.smi-spec.io", "TrafficSplit"), Some("v1alpha4"));
//! assert_eq!(registry::lookup("metrics.smi-spec.io/v1alpha2", "TrafficMetrics").unwrap().api, Api::Aggregated);
//! // a known group with an unknown version, a known version without the kind, another group
//! assert!(matches!(registry::route("split.smi-spec.io/v9", "TrafficSplit"), Err(RouteError::UnknownVersion { .. })));
//! assert!(matches!(registry::route("split.smi-spec.io/v1alpha4", "TCPRoute"), Err(RouteError::UnknownKind { .. })));
//! assert_eq!(registry::route("apps/v1", "Deployment"), Ok(None));
//! ```

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::conversion::{ConvertError, Converted, IntoResult};
use crate::macros::ObjectMetaOf;
use crate::{access, metrics, perf, specs, split};

/// How the API server serves a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// A CustomResourceDefinition (one per kind, with all its versions).
    Crd,
    /// An extension (aggregated) API server: `metrics.smi-spec.io`, read-only.
    Aggregated,
}

/// How a version appears in the CRDs shaped as smi-sdk-go ships them
/// ([`crate::crd::Flavour::SdkCompatible`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sdk {
    /// Not listed.
    Absent,
    /// Listed, neither served nor stored.
    Unserved,
    /// Served and the storage version.
    Storage,
}

/// One kind-version: an entry of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KindVersion {
    /// API group (`split.smi-spec.io`).
    pub group: &'static str,
    /// Version (`v1alpha4`).
    pub version: &'static str,
    /// Kind on the wire (`TrafficSplit`).
    pub kind: &'static str,
    /// `group/version`.
    pub api_version: &'static str,
    /// Plural resource name (`trafficsplits`).
    pub plural: &'static str,
    /// kubectl short names (`ts`).
    pub short_names: &'static [&'static str],
    /// CRD or aggregated API.
    pub api: Api,
    /// Layout in the smi-sdk-go compatible CRDs.
    pub sdk: Sdk,
    /// The kind's hub: conversions go through it, and it is the storage version when every
    /// version is served ([`crate::crd::Flavour::AllVersions`]).
    pub hub: bool,
}

/// Calls [`VisitType::visit`] with each kind-version's Rust type (see [`visit_types`]).
pub(crate) trait VisitType {
    /// One kind-version and its type.
    fn visit<T>(&mut self, kv: &KindVersion)
    where
        T: schemars::JsonSchema + Serialize + DeserializeOwned + 'static;
}

/// Reads one typed object from some input (JSON value, JSON text, YAML text).
pub(crate) trait Decode {
    /// The reader's error.
    type Error;
    /// Reads a `T`.
    fn decode<T: DeserializeOwned>(self) -> Result<T, Self::Error>;
}

/// The typed value of one [`SmiObject`] variant.
trait Variant: Sized {
    fn of(o: &SmiObject) -> Option<&Self>;
}

fn typed<T: Variant>(o: &SmiObject) -> Option<&T> {
    T::of(o)
}

macro_rules! registry {
    ($(
        kind short $short:tt, $api:ident {
            $( $variant:ident => $ty:ty, sdk $sdk:ident $(, via $up:path, $down:path)? ; )+
        }
    )+) => {
        /// Any SMI object, one variant per kind × version of the [registry](crate::registry).
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum SmiObject {
            $($(
                #[doc = concat!("[`", stringify!($ty), "`].")]
                $variant($ty),
            )+)+
        }

        $($(
            impl From<$ty> for SmiObject {
                fn from(o: $ty) -> Self {
                    SmiObject::$variant(o)
                }
            }

            impl Variant for $ty {
                fn of(o: &SmiObject) -> Option<&Self> {
                    match o {
                        SmiObject::$variant(x) => Some(x),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )+)+

        static KIND_VERSIONS: &[KindVersion] = &[
            $($( registry!(@kv $ty, $short, $api, $sdk $(, $up)?), )+)+
        ];

        /// Calls `v` with every kind-version and its type, in table order.
        pub(crate) fn visit_types<V: VisitType>(v: &mut V) {
            $($( v.visit::<$ty>(&registry!(@kv $ty, $short, $api, $sdk $(, $up)?)); )+)+
        }

        impl SmiObject {
            /// The registry entry of the object's kind-version.
            ///
            /// ```
            /// use smi_types::{SmiObject, split::v1alpha2::*};
            /// let o = SmiObject::from(TrafficSplit::new("s", TrafficSplitSpec::new("web")));
            /// assert_eq!(o.kind_version().plural, "trafficsplits");
            /// ```
            pub fn kind_version(&self) -> &'static KindVersion {
                match self {
                    $($( SmiObject::$variant(_) => &const { registry!(@kv $ty, $short, $api, $sdk $(, $up)?) }, )+)+
                }
            }

            /// `apiVersion` of the object's type (`split.smi-spec.io/v1alpha4`).
            pub fn api_version(&self) -> &'static str {
                match self { $($( SmiObject::$variant(_) => <$ty>::API_VERSION, )+)+ }
            }

            /// `kind` (`TrafficSplit`).
            pub fn kind(&self) -> &'static str {
                match self { $($( SmiObject::$variant(_) => <$ty>::KIND, )+)+ }
            }

            /// Object metadata (`None` for lists).
            pub fn metadata(&self) -> Option<&ObjectMeta> {
                match self { $($( SmiObject::$variant(o) => ObjectMetaOf::object_meta(o), )+)+ }
            }

            /// The object as a JSON value, without `apiVersion`/`kind` normalised.
            pub(crate) fn to_json(&self) -> serde_json::Value {
                // Our types serialize to JSON infallibly (string keys, no non-finite floats).
                match self { $($( SmiObject::$variant(o) => serde_json::to_value(o).unwrap_or(serde_json::Value::Null), )+)+ }
            }

            /// Reads the type registered for `api_version` + `kind` (`None`: no such entry).
            pub(crate) fn decode<D: Decode>(api_version: &str, kind: &str, input: D) -> Option<Result<SmiObject, D::Error>> {
                $($( if api_version == <$ty>::API_VERSION && kind == <$ty>::KIND {
                    return Some(input.decode::<$ty>().map(SmiObject::$variant));
                } )+)+
                None
            }

            /// The object at its kind's hub version.
            pub(crate) fn to_hub(&self) -> Result<Converted<SmiObject>, ConvertError> {
                match self {
                    $($( SmiObject::$variant(x) => registry!(@up $variant, x $(, $up)?), )+)+
                }
            }

            /// A hub object at `version` of its kind (the hub itself for its own version).
            pub(crate) fn from_hub(hub: SmiObject, version: &str) -> Result<Converted<SmiObject>, ConvertError> {
                $($( registry!(@down hub, version, $ty, $variant $(, $down)?); )+)+
                Ok(Converted::new(hub, Vec::new()))
            }
        }
    };
    (@kv $ty:ty, $short:tt, $api:ident, $sdk:ident) => {
        registry!(@kv_hub $ty, $short, $api, $sdk, true)
    };
    (@kv $ty:ty, $short:tt, $api:ident, $sdk:ident, $up:path) => {
        registry!(@kv_hub $ty, $short, $api, $sdk, false)
    };
    (@kv_hub $ty:ty, $short:tt, $api:ident, $sdk:ident, $hub:literal) => {
        KindVersion {
            group: <$ty>::GROUP,
            version: <$ty>::VERSION,
            kind: <$ty>::KIND,
            api_version: <$ty>::API_VERSION,
            plural: <$ty>::PLURAL,
            short_names: &$short,
            api: Api::$api,
            sdk: Sdk::$sdk,
            hub: $hub,
        }
    };
    (@up $variant:ident, $x:ident) => {
        Ok(Converted::new(SmiObject::$variant($x.clone()), Vec::new()))
    };
    (@up $variant:ident, $x:ident, $up:path) => {
        IntoResult::into_result($up($x)).map(|c| c.map(SmiObject::from))
    };
    (@down $hub:ident, $version:ident, $ty:ty, $variant:ident) => {};
    (@down $hub:ident, $version:ident, $ty:ty, $variant:ident, $down:path) => {
        if $version == <$ty>::VERSION
            && let Some(x) = typed(&$hub)
        {
            return IntoResult::into_result($down(x)).map(|c| c.map(SmiObject::$variant));
        }
    };
}

// The table. Within a kind, versions oldest first; the line without `via` is the kind's hub.
registry! {
    kind short ["tt"], Crd {
        TrafficTargetV1alpha1 => access::v1alpha1::TrafficTarget, sdk Unserved,
            via access::convert::traffic_target_v1alpha1_to_v1alpha4, access::convert::traffic_target_v1alpha4_to_v1alpha1;
        TrafficTargetV1alpha2 => access::v1alpha2::TrafficTarget, sdk Unserved,
            via access::convert::traffic_target_v1alpha2_to_v1alpha4, access::convert::traffic_target_v1alpha4_to_v1alpha2;
        TrafficTargetV1alpha3 => access::v1alpha3::TrafficTarget, sdk Storage,
            via access::convert::traffic_target_v1alpha3_to_v1alpha4, access::convert::traffic_target_v1alpha4_to_v1alpha3;
        TrafficTargetV1alpha4 => access::v1alpha4::TrafficTarget, sdk Absent;
    }
    kind short ["ib"], Crd {
        IdentityBindingV1alpha4 => access::v1alpha4::IdentityBinding, sdk Storage;
    }
    kind short ["htr"], Crd {
        HttpRouteGroupV1alpha1 => specs::v1alpha1::HttpRouteGroup, sdk Unserved,
            via specs::convert::http_route_group_v1alpha1_to_v1alpha4, specs::convert::http_route_group_v1alpha4_to_v1alpha1;
        HttpRouteGroupV1alpha2 => specs::v1alpha2::HttpRouteGroup, sdk Unserved,
            via specs::convert::http_route_group_v1alpha2_to_v1alpha4, specs::convert::http_route_group_v1alpha4_to_v1alpha2;
        HttpRouteGroupV1alpha3 => specs::v1alpha3::HttpRouteGroup, sdk Unserved,
            via specs::convert::http_route_group_v1alpha3_to_v1alpha4, specs::convert::http_route_group_v1alpha4_to_v1alpha3;
        HttpRouteGroupV1alpha4 => specs::v1alpha4::HttpRouteGroup, sdk Storage;
    }
    kind short ["tr"], Crd {
        TcpRouteV1alpha1 => specs::v1alpha1::TcpRoute, sdk Absent,
            via specs::convert::tcp_route_v1alpha1_to_v1alpha4, specs::convert::tcp_route_v1alpha4_to_v1alpha1;
        TcpRouteV1alpha2 => specs::v1alpha2::TcpRoute, sdk Absent,
            via specs::convert::tcp_route_v1alpha2_to_v1alpha4, specs::convert::tcp_route_v1alpha4_to_v1alpha2;
        TcpRouteV1alpha3 => specs::v1alpha3::TcpRoute, sdk Absent,
            via specs::convert::tcp_route_v1alpha3_to_v1alpha4, specs::convert::tcp_route_v1alpha4_to_v1alpha3;
        TcpRouteV1alpha4 => specs::v1alpha4::TcpRoute, sdk Storage;
    }
    kind short ["ur"], Crd {
        UdpRouteV1alpha4 => specs::v1alpha4::UdpRoute, sdk Storage;
    }
    kind short ["ts"], Crd {
        TrafficSplitV1alpha1 => split::v1alpha1::TrafficSplit, sdk Absent,
            via split::convert::traffic_split_v1alpha1_to_v1alpha4, split::convert::traffic_split_v1alpha4_to_v1alpha1;
        TrafficSplitV1alpha2 => split::v1alpha2::TrafficSplit, sdk Unserved,
            via split::convert::traffic_split_v1alpha2_to_v1alpha4, split::convert::traffic_split_v1alpha4_to_v1alpha2;
        TrafficSplitV1alpha3 => split::v1alpha3::TrafficSplit, sdk Unserved,
            via split::convert::traffic_split_v1alpha3_to_v1alpha4, split::convert::traffic_split_v1alpha4_to_v1alpha3;
        TrafficSplitV1alpha4 => split::v1alpha4::TrafficSplit, sdk Storage;
    }
    kind short [], Aggregated {
        TrafficMetricsV1alpha1 => metrics::v1alpha1::TrafficMetrics, sdk Absent,
            via metrics::convert::traffic_metrics_v1alpha1_to_v1alpha2, metrics::convert::traffic_metrics_v1alpha2_to_v1alpha1;
        TrafficMetricsV1alpha2 => metrics::v1alpha2::TrafficMetrics, sdk Absent;
    }
    kind short [], Aggregated {
        TrafficMetricsListV1alpha1 => metrics::v1alpha1::TrafficMetricsList, sdk Absent,
            via metrics::convert::traffic_metrics_list_v1alpha1_to_v1alpha2, metrics::convert::traffic_metrics_list_v1alpha2_to_v1alpha1;
        TrafficMetricsListV1alpha2 => metrics::v1alpha2::TrafficMetricsList, sdk Absent;
    }
    kind short [perf::v1alpha1::PerformanceTest::SHORT_NAME], Crd {
        PerformanceTest => perf::v1alpha1::PerformanceTest, sdk Storage;
    }
    kind short [perf::v1alpha1::PerformanceTestResult::SHORT_NAME], Crd {
        PerformanceTestResult => perf::v1alpha1::PerformanceTestResult, sdk Storage;
    }
}

/// Every kind-version, in table order (kinds by group, versions oldest first).
///
/// ```
/// let n = smi_types::registry::kind_versions().iter().filter(|kv| kv.kind == "TrafficSplit").count();
/// assert_eq!(n, 4);
/// ```
pub fn kind_versions() -> &'static [KindVersion] {
    KIND_VERSIONS
}

/// The entry for `api_version` + `kind`, if this crate knows it.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static KindVersion> {
    KIND_VERSIONS
        .iter()
        .find(|kv| kv.api_version == api_version && kv.kind == kind)
}

/// The SMI API groups, in table order.
///
/// ```
/// assert!(smi_types::registry::groups().contains(&"perf.smi-spec.io"));
/// ```
pub fn groups() -> Vec<&'static str> {
    unique(KIND_VERSIONS.iter().map(|kv| kv.group))
}

/// The known versions of `group` (oldest first, each once); empty for a group that is not SMI's.
pub fn versions_of_group(group: &str) -> Vec<&'static str> {
    unique(
        KIND_VERSIONS
            .iter()
            .filter(|kv| kv.group == group)
            .map(|kv| kv.version),
    )
}

/// The versions of `kind` in `group`, oldest first.
///
/// ```
/// assert_eq!(smi_types::registry::versions_of("metrics.smi-spec.io", "TrafficMetrics"), ["v1alpha1", "v1alpha2"]);
/// ```
pub fn versions_of(group: &str, kind: &str) -> Vec<&'static str> {
    KIND_VERSIONS
        .iter()
        .filter(|kv| kv.group == group && kv.kind == kind)
        .map(|kv| kv.version)
        .collect()
}

/// The kinds of `group`/`version`, in table order.
pub fn kinds_of(group: &str, version: &str) -> Vec<&'static str> {
    KIND_VERSIONS
        .iter()
        .filter(|kv| kv.group == group && kv.version == version)
        .map(|kv| kv.kind)
        .collect()
}

/// The hub version of `kind` in `group`.
pub fn hub_of(group: &str, kind: &str) -> Option<&'static str> {
    KIND_VERSIONS
        .iter()
        .find(|kv| kv.group == group && kv.kind == kind && kv.hub)
        .map(|kv| kv.version)
}

/// Why [`route`] refused an `apiVersion` of an SMI group.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// An SMI group, but no such version.
    #[error("{group} has no version `{version}` (known versions: {})", known.join(", "))]
    UnknownVersion {
        /// The group.
        group: &'static str,
        /// The version asked for.
        version: String,
        /// The group's versions.
        known: Vec<&'static str>,
    },
    /// A known SMI group/version without that kind.
    #[error("{api_version} has no kind `{kind}` (known kinds: {})", known.join(", "))]
    UnknownKind {
        /// The apiVersion.
        api_version: &'static str,
        /// The kind asked for.
        kind: String,
        /// The kinds of that group/version.
        known: Vec<&'static str>,
    },
}

/// Routes an object by `apiVersion` and `kind`: `Ok(Some(entry))` for a known kind-version,
/// `Ok(None)` for an `apiVersion` outside the SMI groups, an error for an SMI group's unknown
/// version or kind.
pub fn route(api_version: &str, kind: &str) -> Result<Option<&'static KindVersion>, RouteError> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let Some(group) = groups().into_iter().find(|g| *g == group) else {
        return Ok(None);
    };
    let known = versions_of_group(group);
    let Some(version) = known.iter().copied().find(|v| *v == version) else {
        return Err(RouteError::UnknownVersion {
            group,
            version: version.to_owned(),
            known,
        });
    };
    match lookup(api_version, kind) {
        Some(kv) => Ok(Some(kv)),
        None => Err(RouteError::UnknownKind {
            api_version: KIND_VERSIONS
                .iter()
                .find(|kv| kv.group == group && kv.version == version)
                .map_or("", |kv| kv.api_version),
            kind: kind.to_owned(),
            known: kinds_of(group, version),
        }),
    }
}

fn unique(items: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_hub_and_unique_entries() {
        for kv in kind_versions() {
            let hubs = kind_versions()
                .iter()
                .filter(|o| o.group == kv.group && o.kind == kv.kind && o.hub)
                .count();
            assert_eq!(hubs, 1, "{} {}", kv.group, kv.kind);
            let same = kind_versions()
                .iter()
                .filter(|o| o.api_version == kv.api_version && o.kind == kv.kind)
                .count();
            assert_eq!(same, 1, "{} {}", kv.api_version, kv.kind);
            assert_eq!(kv.api_version, format!("{}/{}", kv.group, kv.version));
        }
    }

    #[test]
    fn smi_groups_is_the_registry_s_group_list() {
        assert_eq!(crate::dynamic::SMI_GROUPS, groups());
    }

    #[test]
    fn group_versions_are_listed_once() {
        assert_eq!(
            versions_of_group("specs.smi-spec.io"),
            ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"]
        );
        assert_eq!(
            versions_of_group("metrics.smi-spec.io"),
            ["v1alpha1", "v1alpha2"]
        );
    }

    #[test]
    fn visit_types_sees_the_table() {
        struct Count(Vec<&'static str>);
        impl VisitType for Count {
            fn visit<T>(&mut self, kv: &KindVersion)
            where
                T: schemars::JsonSchema + Serialize + DeserializeOwned + 'static,
            {
                self.0.push(kv.api_version);
            }
        }
        let mut c = Count(Vec::new());
        visit_types(&mut c);
        let table: Vec<&str> = kind_versions().iter().map(|kv| kv.api_version).collect();
        assert_eq!(c.0, table);
    }
}
