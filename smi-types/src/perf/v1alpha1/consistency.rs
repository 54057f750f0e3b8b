//! Consistency checks of a [`PerformanceTestResult`] (B.4 result rules).

use std::collections::BTreeMap;

use super::*;

impl PerformanceTestResult {
    /// Checks the B.4 result consistency rules; returns the violations: timestamps in order,
    /// `requestsSucceeded + requestsFailed == requestsTotal`, status codes adding up to
    /// `requestsTotal`, no negative count (top level, `statusCodes`, `errors`, `perClient[]`),
    /// latency counts within `[0, requestsTotal]` and percentiles within `[min, max]`, a finite
    /// non-negative `actualRps`, shards that exist (`0 <= index < count <= 1000`), and
    /// `perClient` latency counts adding up to the merged one, and at most one of `histogram` and
    /// `histogramRef`. A result read from a file is checked with this before it is merged,
    /// compared or reported.
    ///
    /// ```
    /// use smi_types::perf::PerformanceTestResult;
    /// assert!(PerformanceTestResult::default().consistency_errors().is_empty());
    /// ```
    pub fn consistency_errors(&self) -> Vec<SpecError> {
        let r = &self.record;
        let mut v = Validator::default();
        if r.start_time.0 > r.end_time.0 {
            v.err("startTime", "startTime is after endTime");
        }
        if r.histogram.is_some() && r.histogram_ref.is_some() {
            v.err("histogramRef", "set histogram or histogramRef, not both");
        }
        // Sums in i128: the counts come from documents and may be anywhere in i64.
        if i128::from(r.requests_succeeded) + i128::from(r.requests_failed)
            != i128::from(r.requests_total)
        {
            v.err(
                "requestsTotal",
                "requestsSucceeded + requestsFailed != requestsTotal",
            );
        }
        let codes: i128 = r.status_codes.values().map(|&n| i128::from(n)).sum();
        if codes != i128::from(r.requests_total) {
            v.err(
                "statusCodes",
                format!(
                    "status codes add up to {codes}, not requestsTotal {}",
                    r.requests_total
                ),
            );
        }
        for (name, n) in [
            ("requestsTotal", r.requests_total),
            ("requestsSucceeded", r.requests_succeeded),
            ("requestsFailed", r.requests_failed),
            ("droppedOrLate", r.dropped_or_late),
            ("requestsCutOff", r.requests_cut_off),
            ("bytesSent", r.bytes_sent),
            ("bytesReceived", r.bytes_received),
        ] {
            if n < 0 {
                v.err(name, "must be at least 0");
            }
        }
        check_rate(&mut v, "actualRps", &r.actual_rps);
        check_shard(&mut v, "shard", r.shard.as_ref());
        check_counts(&mut v, "", &r.status_codes, &r.errors);
        check_grpc_codes(&mut v, "", &r.grpc_status_codes, r.requests_total);
        for (path, l) in std::iter::once(("latency", &r.latency)).chain(
            r.uncorrected_latency
                .as_ref()
                .map(|l| ("uncorrectedLatency", l)),
        ) {
            check_latency_count(&mut v, path, l, r.requests_total);
            if l.count == 0 {
                continue;
            }
            let mut prev = l.min_micros;
            for (i, p) in l.percentiles.iter().enumerate() {
                if p.value_micros < prev || p.value_micros > l.max_micros {
                    v.err(
                        format!("{path}.percentiles[{i}]"),
                        "percentiles must lie in [min, max] and not decrease",
                    );
                }
                prev = prev.max(p.value_micros);
            }
            if l.mean_micros < l.min_micros || l.mean_micros > l.max_micros {
                v.err(
                    format!("{path}.meanMicros"),
                    "mean must lie between min and max",
                );
            }
        }
        for (i, c) in r.per_client.iter().enumerate() {
            let at = |f: &str| format!("perClient[{i}].{f}");
            if i128::from(c.requests_succeeded) + i128::from(c.requests_failed)
                != i128::from(c.requests_total)
            {
                v.err(
                    at("requestsTotal"),
                    "requestsSucceeded + requestsFailed != requestsTotal",
                );
            }
            for (name, n) in [
                ("requestsTotal", c.requests_total),
                ("requestsSucceeded", c.requests_succeeded),
                ("requestsFailed", c.requests_failed),
                ("droppedOrLate", c.dropped_or_late),
                ("requestsCutOff", c.requests_cut_off),
                ("bytesSent", c.bytes_sent),
                ("bytesReceived", c.bytes_received),
            ] {
                if n < 0 {
                    v.err(at(name), "must be at least 0");
                }
            }
            check_rate(&mut v, &at("actualRps"), &c.actual_rps);
            check_shard(&mut v, &at("shard"), c.shard.as_ref());
            check_counts(
                &mut v,
                &format!("perClient[{i}]."),
                &c.status_codes,
                &c.errors,
            );
            check_grpc_codes(
                &mut v,
                &format!("perClient[{i}]."),
                &c.grpc_status_codes,
                c.requests_total,
            );
            check_latency_count(&mut v, &at("latency"), &c.latency, c.requests_total);
            if let Some(l) = &c.uncorrected_latency {
                check_latency_count(&mut v, &at("uncorrectedLatency"), l, c.requests_total);
            }
        }
        if !r.per_client.is_empty() {
            let sum: i128 = r
                .per_client
                .iter()
                .map(|c| i128::from(c.latency.count))
                .sum();
            if sum != i128::from(r.latency.count) {
                v.err(
                    "latency.count",
                    format!(
                        "merged count {} != sum of perClient counts {sum}",
                        r.latency.count
                    ),
                );
            }
        }
        v.errors
    }
}

/// `actualRps` is a finite, non-negative decimal.
fn check_rate(v: &mut Validator, path: &str, rps: &str) {
    match rps.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => {}
        _ => v.err(
            path,
            format!("{rps:?} is not a finite, non-negative decimal"),
        ),
    }
}

/// A shard is `index` of `count`: `0 <= index < count <= MAX_PARALLELISM`.
fn check_shard(v: &mut Validator, path: &str, shard: Option<&ShardRef>) {
    let Some(s) = shard else { return };
    if !(1..=MAX_PARALLELISM).contains(&s.count) {
        v.err(
            format!("{path}.count"),
            format!("must be in [1, {MAX_PARALLELISM}]"),
        );
    }
    if s.index < 0 || s.index >= s.count {
        v.err(
            format!("{path}.index"),
            format!(
                "shard {} of {} does not exist (0 <= index < count)",
                s.index, s.count
            ),
        );
    }
}

/// Status-code and error counts are not negative.
fn check_counts(
    v: &mut Validator,
    prefix: &str,
    status_codes: &BTreeMap<String, i64>,
    errors: &BTreeMap<String, i64>,
) {
    for (what, map) in [("statusCodes", status_codes), ("errors", errors)] {
        for (k, n) in map {
            if *n < 0 {
                v.err(format!("{prefix}{what}[{k:?}]"), "must be at least 0");
            }
        }
    }
}

/// gRPC status counts: at least 0 each, at most `requestsTotal` together (every call with a gRPC
/// status is a recorded request; transport failures have none).
fn check_grpc_codes(v: &mut Validator, prefix: &str, codes: &BTreeMap<String, i64>, total: i64) {
    for (k, n) in codes {
        if *n < 0 {
            v.err(
                format!("{prefix}grpcStatusCodes[{k:?}]"),
                "must be at least 0",
            );
        }
    }
    let sum: i128 = codes.values().map(|&n| i128::from(n.max(0))).sum();
    if sum > i128::from(total.max(0)) {
        v.err(
            format!("{prefix}grpcStatusCodes"),
            format!("gRPC status codes add up to {sum}, more than requestsTotal {total}"),
        );
    }
}

/// A latency summary counts answered requests: between 0 and `requestsTotal`, min <= max.
fn check_latency_count(v: &mut Validator, path: &str, l: &LatencySummary, total: i64) {
    if l.count < 0 || l.count > total.max(0) {
        v.err(
            format!("{path}.count"),
            format!("{} samples, outside [0, requestsTotal {total}]", l.count),
        );
    }
    if l.count > 0 && l.min_micros > l.max_micros {
        v.err(format!("{path}.minMicros"), "min is above max");
    }
}
