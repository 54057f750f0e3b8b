//! `perf.smi-spec.io`: the Performance Test API.
//!
//! Two namespaced kinds: [`PerformanceTest`] (what to run; spec + status) and
//! [`PerformanceTestResult`] (an immutable record of one run, carrying a mergeable HdrHistogram).
//! The latest version, [`v1alpha1`], is re-exported here.
//!
//! ```
//! use smi_types::perf::{PerformanceTest, PerformanceTestSpec};
//!
//! let test = PerformanceTest::new(
//!     "quick",
//!     PerformanceTestSpec::http("http://127.0.0.1:8080/").rps(1000).duration("10s"),
//! );
//! assert!(test.spec.validate().is_empty());
//! ```

pub mod v1alpha1;
pub use v1alpha1::*;
