//! Every Service Mesh Interface (SMI) API, typed.
//!
//! One module per API group, one sub-module per version:
//! [`access`], [`specs`], [`split`], [`metrics`] and the project's Performance Test API [`perf`].
//! The latest version of each group is re-exported at the group root.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod access;
pub mod metrics;
pub mod perf;
pub mod specs;
pub mod split;
