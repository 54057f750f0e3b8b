//! `perf.smi-spec.io/v1alpha1`: [`PerformanceTest`] and [`PerformanceTestResult`].
//!
//! Wire names are camelCase. Every field that has a documented default is optional on the wire
//! and is *not* filled in on deserialization, so a manifest round-trips exactly as written; the
//! `effective_*` accessors on [`PerformanceTestSpec`] apply the defaults.
//!
//! ```
//! use smi_types::perf::v1alpha1::*;
//!
//! let yaml = r#"
//! apiVersion: perf.smi-spec.io/v1alpha1
//! kind: PerformanceTest
//! metadata: { name: checkout }
//! spec:
//!   endpoints: ["http://127.0.0.1:8080/"]
//!   loadModel: Open
//!   rps: 500
//!   duration: 1m30s
//! "#;
//! let test: PerformanceTest = serde_saphyr::from_str(yaml).unwrap();
//! assert_eq!(test.spec.effective_load_model(), LoadModel::Open);
//! assert_eq!(test.spec.effective_connections(), 1);
//! assert!(test.spec.validate().is_empty());
//! ```

//! # CRD bounds
//!
//! The API server estimates the worst-case cost of every CEL rule from the schema's bounds and
//! refuses a CRD whose rule exceeds 10⁷ or whose rules together exceed 10⁸. Everything a rule
//! walks is therefore bounded, generously (the types' [`PerformanceTestSpec::validate`] checks
//! the same bounds):
//!
//! | field | bound | why this number |
//! |---|---|---|
//! | `spec.endpoints` | 1–64 items ([`MAX_ENDPOINTS`]), each ≤ 2048 characters ([`MAX_ENDPOINT_LENGTH`]) | URL length browsers and proxies accept |
//! | `spec.thresholds` | ≤ 32 items ([`MAX_THRESHOLDS`]) | 10 metrics, each with max and/or min |
//! | `spec.thresholds[].max`/`min` | ≤ 64 characters ([`MAX_LIMIT_LENGTH`]) | `"250ms"`, `"0.01"` |
//! | `spec.request.headers` | ≤ 128 entries ([`MAX_HEADERS`]) | far above what a load test sends |
//! | `spec.clients` | ≤ 256 items ([`MAX_CLIENTS`]) | one per load generator |
//! | `spec.percentiles` | ≤ 32 items ([`MAX_PERCENTILES`]) | B.4 rule 6 |
//! | every GEP-2257 duration | ≤ 28 characters ([`MAX_DURATION_LENGTH`]) | the pattern's own maximum |
//! | `spec.clients[].share` | ≤ 4 characters (`"100%"`) or an integer | a percentage of 1–3 digits |
//! | `histogramRef.name`/`key` | ≤ 253 characters ([`MAX_HISTOGRAM_REF_LENGTH`]) | a DNS subdomain |
//!
//! A result keeps its merged latency histogram inline (`histogram`) or, when it is too large for
//! the object, in a ConfigMap or Secret ([`HistogramRef`], `histogramRef`); never both.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// API group of the Performance Test API.
pub const GROUP: &str = "perf.smi-spec.io";
/// API version of this module.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` string of this module.
pub const API_VERSION: &str = "perf.smi-spec.io/v1alpha1";

/// The Gateway API GEP-2257 duration pattern.
pub const DURATION_PATTERN: &str = "^([0-9]{1,5}(h|m|s|ms)){1,4}$";
/// Largest `rps` accepted (B.4 rule 3 sanity cap).
pub const MAX_RPS: i64 = 10_000_000;
/// Largest `connections` accepted (B.4 rule 4).
pub const MAX_CONNECTIONS: i32 = 100_000;
/// Largest `streamsPerConnection` (HTTP/2 servers commonly allow 100–250 concurrent streams).
pub const MAX_STREAMS_PER_CONNECTION: i32 = 1000;
/// Largest number of lanes, `connections × streamsPerConnection`: each lane is a task with its
/// own buffers, so this bounds the engine's memory (about 100 MB at the cap).
pub const MAX_LANES: i64 = 100_000;
/// Largest `maxInFlight`.
pub const MAX_IN_FLIGHT: i32 = 10_000_000;
/// Largest `threads` (engine worker threads; each records into its own histograms).
pub const MAX_THREADS: i32 = 1024;
/// Largest `histogram.highestMicros`: one hour. Each recorder's histogram grows with the
/// logarithm of this range and 10^significantDigits.
pub const MAX_HISTOGRAM_HIGHEST_MICROS: i64 = 3_600_000_000;
/// Largest `spec.parallelism` (number of shards).
pub const MAX_PARALLELISM: i32 = 1000;
/// Largest number of `endpoints` (B.4 rule 5).
pub const MAX_ENDPOINTS: usize = 64;
/// Largest number of `percentiles` (B.4 rule 6).
pub const MAX_PERCENTILES: usize = 32;
/// Largest inline `request.body` in bytes (B.4 rule 8).
pub const MAX_INLINE_BODY: usize = 64 * 1024;
/// Most stages (`spec.steps`) of a ramped rate shape.
pub const MAX_STEPS: usize = 32;
/// Longest `endpoints[]` entry, in characters (a CEL rule matches every endpoint against a URL
/// regex; the API server needs the bound to estimate the rule's cost). 2048 is the URL length
/// browsers and most proxies accept.
pub const MAX_ENDPOINT_LENGTH: usize = 2048;
/// Largest number of `thresholds` (there are 10 metrics, each with a max and/or a min).
pub const MAX_THRESHOLDS: usize = 32;
/// Longest threshold limit (`max`/`min`), in characters: `"250ms"`, `"0.01"`, `"950.5"`.
pub const MAX_LIMIT_LENGTH: usize = 64;
/// Largest number of `request.headers` (CEL rules check every header name).
pub const MAX_HEADERS: usize = 128;
/// Largest number of `clients` (a CEL rule checks every client's share).
pub const MAX_CLIENTS: usize = 256;
/// Longest GEP-2257 duration: 4 groups of 5 digits and a 2-letter unit.
pub const MAX_DURATION_LENGTH: usize = 28;
/// Default percentiles reported when `spec.percentiles` is unset.
pub const DEFAULT_PERCENTILES: [f64; 6] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9];
/// Encoding name of [`EncodedHistogram::encoding`].
pub const HISTOGRAM_ENCODING: &str = "HdrHistogramV2Deflate";

mod builder;
mod consistency;
mod duration;
mod endpoint;
mod rate;
mod result;
mod rule_table;
mod rules;
mod spec;
mod test;
mod threshold;

pub use duration::*;
pub use endpoint::*;
pub use rate::*;
pub use result::*;
pub use rule_table::*;
pub use rules::*;
pub use spec::*;
pub use test::*;
pub use threshold::*;

/// The two CRDs of this version: `performancetests.perf.smi-spec.io` (short name `pt`, status
/// subresource, printer columns Phase/RPS/P99/Age) and `performancetestresults.perf.smi-spec.io`
/// (short name `ptr`). Their structural schemas carry the B.4 rules as OpenAPI bounds and CEL
/// `x-kubernetes-validations`.
///
/// ```
/// let crds = smi_types::perf::crds();
/// assert_eq!(crds[0].metadata.name.as_deref(), Some("performancetests.perf.smi-spec.io"));
/// assert_eq!(crds[1].spec.names.short_names, Some(vec!["ptr".to_string()]));
/// ```
pub fn crds() -> Vec<CustomResourceDefinition> {
    // One schema pipeline for every group: the CRDs come from `crate::crd`, like the SMI ones.
    crate::crd::generate(crate::crd::Flavour::AllVersions)
        .into_iter()
        .filter(|c| c.spec.group == GROUP)
        .collect()
}

#[cfg(test)]
mod tests;
