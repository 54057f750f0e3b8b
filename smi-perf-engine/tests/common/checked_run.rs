//! One run of a test spec through the built-in registry, bounded in time, with the result's own
//! consistency checks asserted: the runner the wire and engine tests share.

use std::time::Duration;

use smi_perf_engine::{Registry, RunContext, run_spec_with};
use smi_types::perf::{PerformanceTestResult, PerformanceTestSpec};

/// Runs `spec` with `ctx`; panics if the run does not end within `limit`, fails, or its result
/// is inconsistent (counts that do not add up).
pub async fn run_checked(
    spec: &PerformanceTestSpec,
    ctx: RunContext,
    limit: Duration,
) -> PerformanceTestResult {
    let r = tokio::time::timeout(limit, run_spec_with(&Registry::with_builtins(), spec, ctx))
        .await
        .expect("run did not end")
        .expect("run failed");
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    r
}
