//! The one macro that gives every SMI kind its compile-time identity.

/// Implements the k8s-openapi style associated constants and [`kube_core::Resource`] for a kind,
/// and defines its `…List` type (ListMeta + items).
macro_rules! smi_resource {
    (
        $ty:ident,
        group = $group:literal, version = $version:literal, kind = $kind:literal, plural = $plural:literal
    ) => {
        impl $ty {
            /// `apiVersion` of this kind (`<group>/<version>`).
            pub const API_VERSION: &'static str = concat!($group, "/", $version);
            /// API group.
            pub const GROUP: &'static str = $group;
            /// API version within the group.
            pub const VERSION: &'static str = $version;
            /// Kind string on the wire.
            pub const KIND: &'static str = $kind;
            /// Plural resource name (URL path segment).
            pub const PLURAL: &'static str = $plural;
        }

        impl crate::macros::ObjectMetaOf for $ty {
            fn object_meta(
                &self,
            ) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
                Some(&self.metadata)
            }
        }

        impl kube_core::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $version.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// Declares a struct whose first fields are the `apiVersion` and `kind` every top-level SMI object
/// (and list) starts with, as read (empty = absent), followed by the fields given; it derives what
/// every such type derives (`Clone`, `Debug`, `Default`, `PartialEq`, serde, `JsonSchema`).
macro_rules! with_type_meta {
    (
        $(#[$attr:meta])*
        pub struct $ty:ident {
            $($fields:tt)*
        }
    ) => {
        #[derive(
            Clone,
            Debug,
            Default,
            PartialEq,
            serde::Serialize,
            serde::Deserialize,
            schemars::JsonSchema,
        )]
        $(#[$attr])*
        pub struct $ty {
            /// `apiVersion` as read; empty = absent.
            #[serde(
                rename = "apiVersion",
                default,
                skip_serializing_if = "String::is_empty"
            )]
            pub api_version: String,
            /// `kind` as read; empty = absent.
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub kind: String,
            $($fields)*
        }
    };
}

/// [`smi_resource!`] plus the kind's `…List` type.
macro_rules! smi_kind {
    (
        $ty:ident, $list:ident,
        group = $group:literal, version = $version:literal, kind = $kind:literal, plural = $plural:literal
    ) => {
        crate::macros::smi_resource!(
            $ty,
            group = $group,
            version = $version,
            kind = $kind,
            plural = $plural
        );

        crate::macros::with_type_meta! {
            #[doc = concat!("A list of [`", stringify!($ty), "`] (`", $kind, "List` on the wire).")]
            pub struct $list {
                /// Standard list metadata.
                #[serde(default)]
                pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta,
                /// The objects.
                #[serde(default)]
                pub items: Vec<$ty>,
            }
        }

        impl $list {
            /// A list of `items` with `apiVersion` and `kind` filled in.
            pub fn new(items: Vec<$ty>) -> Self {
                Self {
                    api_version: $ty::API_VERSION.to_owned(),
                    kind: concat!($kind, "List").to_owned(),
                    metadata: Default::default(),
                    items,
                }
            }
        }
    };
}

/// Declares a kind's top-level struct the way every SMI kind has it — `apiVersion` and `kind` as
/// read, `metadata`, then the fields given — and runs [`smi_kind!`] on it. Also gives the kind a
/// private `named(name)` (identity and `metadata.name` filled in, every other field default) for
/// its constructors, and with a trailing `impl new(spec: T);` the usual `new(name, spec)`.
macro_rules! smi_object {
    (
        group = $group:literal, version = $version:literal, kind = $kind:literal, plural = $plural:literal, list = $list:ident;
        $(#[$attr:meta])*
        pub struct $ty:ident {
            $( $(#[$fattr:meta])* pub $field:ident : $fty:ty ),* $(,)?
        }
        $(impl new($($spec:ident : $spec_ty:ty)?);)?
    ) => {
        crate::macros::with_type_meta! {
            $(#[$attr])*
            pub struct $ty {
                /// Standard object metadata.
                #[serde(default)]
                pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                $( $(#[$fattr])* pub $field: $fty, )*
            }
        }

        crate::macros::smi_kind!(
            $ty,
            $list,
            group = $group,
            version = $version,
            kind = $kind,
            plural = $plural
        );

        impl $ty {
            /// `apiVersion`, `kind` and `metadata.name` filled in, every other field default.
            #[allow(dead_code, clippy::needless_update)]
            fn named(name: &str) -> Self {
                Self {
                    api_version: Self::API_VERSION.into(),
                    kind: Self::KIND.into(),
                    metadata: crate::macros::named(name),
                    ..Default::default()
                }
            }
            $(
                #[doc = concat!("A ", $kind, " named `name`.")]
                pub fn new(name: &str $(, $spec: $spec_ty)?) -> Self {
                    Self {
                        $($spec,)?
                        ..Self::named(name)
                    }
                }
            )?
        }
    };
}

/// Metadata of a kind's object (`None` for the metrics lists, which have `ListMeta`): what
/// `SmiObject::metadata` returns. Implemented by [`smi_resource!`] and by hand for the lists.
pub(crate) trait ObjectMetaOf {
    fn object_meta(&self) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>;
}

pub(crate) use smi_kind;
pub(crate) use smi_object;
pub(crate) use smi_resource;
pub(crate) use with_type_meta;

/// `apiVersion`/`kind` fields shared by every top-level struct are declared by hand; this helper
/// builds an `ObjectMeta` with a name.
pub(crate) fn named(name: &str) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}
