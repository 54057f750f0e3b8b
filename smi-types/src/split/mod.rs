//! `split.smi-spec.io`: TrafficSplit.
//!
//! The latest version is re-exported here.

pub mod convert;
pub mod v1alpha1;
pub mod v1alpha2;
pub mod v1alpha3;
pub mod v1alpha4;

pub use v1alpha4::*;

/// API group of this module.
pub const GROUP: &str = "split.smi-spec.io";
