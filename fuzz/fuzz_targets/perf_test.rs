//! Target 5: the PerformanceTest API: reading `PerformanceTest` / `PerformanceTestResult` from
//! YAML, `spec.validate()`, `warnings()`, every `effective_*` accessor, the endpoint and duration
//! parsers, threshold limits and `PerformanceTestResult::consistency_errors()`.
//!
//! Input: a structure-aware mutation of the seeds (most of which are not PerformanceTests; the
//! `Kind`/`ApiVersion` edits move them around), or with the first byte odd, raw text.
#![no_main]

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use smi_fuzz::Mutated;
use smi_types::perf::{Duration, Endpoint, PerformanceTest, PerformanceTestResult, Protocol};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode & 1 == 1 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let Ok(m) = Mutated::arbitrary(&mut Unstructured::new(rest)) else {
            return;
        };
        m.yaml()
    };
    if let Ok(t) = serde_saphyr::from_str::<PerformanceTest>(&text) {
        check_test(&t);
    }
    if let Ok(r) = serde_saphyr::from_str::<PerformanceTestResult>(&text) {
        let _ = r.consistency_errors();
        let _ = r.record.latency.percentile(99.0);
    }
    // the string parsers on the raw text
    let _ = Duration::parse(&text).map(|d| d.to_std());
    for p in [
        Protocol::Http,
        Protocol::Http2,
        Protocol::Grpc,
        Protocol::Tcp,
        Protocol::Udp,
    ] {
        if let Ok(e) = Endpoint::parse_for(p, &text) {
            let _ = e.authority();
        }
    }
});

fn check_test(t: &PerformanceTest) {
    let s = &t.spec;
    let errors = s.validate();
    let _ = s.warnings();
    for e in &errors {
        assert!(
            e.path.starts_with("spec."),
            "error path {:?} is not under spec",
            e.path
        );
    }
    let _ = (
        s.effective_protocol(),
        s.effective_load_model(),
        s.effective_load_generator(),
        s.run_length(),
    );
    let _ = (
        s.effective_warmup(),
        s.effective_timeout(),
        s.effective_rps(),
        s.effective_connections(),
    );
    let _ = (
        s.effective_max_in_flight(),
        s.effective_streams_per_connection(),
        s.effective_threads(),
    );
    let _ = (s.effective_method(), s.effective_histogram());
    let ps = s.effective_percentiles();
    assert!(
        ps.windows(2).all(|w| w[0] < w[1]),
        "effective percentiles sorted and unique: {ps:?}"
    );
    for th in &s.thresholds {
        for l in [&th.max, &th.min].into_iter().flatten() {
            let _ = th.parse_limit(l);
        }
    }
    // the engine's plan builder: refuses what validate() refuses, never panics
    let plan = smi_perf_engine::RunPlan::from_spec(s);
    if !errors.is_empty() {
        assert!(
            plan.is_err(),
            "RunPlan::from_spec accepted a spec with errors {errors:?}"
        );
    }
    if errors.is_empty() {
        // a valid spec's durations and endpoints parse
        for e in &s.endpoints {
            Endpoint::parse_for(s.effective_protocol(), e).expect("validated endpoint parses");
        }
        if let Some(d) = &s.duration {
            d.to_std().expect("validated duration parses");
        }
        let (lo, hi, digits) = s.effective_histogram();
        assert!(lo >= 1 && hi >= 2 * lo && (1..=5).contains(&digits));
    }
}
