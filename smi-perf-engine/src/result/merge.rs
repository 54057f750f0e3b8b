//! Checking results read from files and merging the results of shards exactly.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use smi_types::perf::{ClientResult, PerformanceTestResult, ResultRecord, ShardRef, StageResult};

use super::codec::{decode_histogram, encode_histogram};
use super::thresholds::{evaluate_thresholds, thresholds_of};
use super::{new_uuid, summarize};
use crate::error::{Error, Result};

/// `test "name"` (with its uid when there is one) for messages, or `no test` when the result
/// names none: user-facing text, not Rust `Debug` output.
fn test_label(t: Option<&smi_types::perf::TestRef>) -> String {
    match t {
        Some(t) => match &t.uid {
            Some(uid) => format!("test \"{}\" (uid {uid})", t.name),
            None => format!("test \"{}\"", t.name),
        },
        None => "no named test".to_owned(),
    }
}

/// `run "id"`, or `a run without id`.
fn run_label(id: Option<&str>) -> String {
    id.map_or_else(
        || "a run without id".to_owned(),
        |id| format!("run \"{id}\""),
    )
}

/// Merges the stages of shard results: the stages must line up (same count, start, length);
/// counts add, histograms merge exactly, the requested rates add (each shard ran its share).
fn merge_stages(
    results: &[PerformanceTestResult],
    percentiles: &[f64],
) -> Result<Vec<StageResult>> {
    let first = &results[0].record.stages;
    for (i, r) in results.iter().enumerate() {
        let st = &r.record.stages;
        let aligned = st.len() == first.len()
            && st.iter().zip(first).all(|(a, b)| {
                (a.start_millis, a.duration_millis) == (b.start_millis, b.duration_millis)
            });
        if !aligned {
            return Err(Error::Merge(format!(
                "result {i} ran other stages than result 0 (count, start or length differ): not the same schedule"
            )));
        }
    }
    let mut out = Vec::with_capacity(first.len());
    for (s, head) in first.iter().enumerate() {
        let mut m = StageResult {
            start_millis: head.start_millis,
            duration_millis: head.duration_millis,
            ..Default::default()
        };
        let mut lat: Option<Histogram<u64>> = None;
        let mut unc: Option<Histogram<u64>> = None;
        let mut unc_everywhere = true;
        for (i, r) in results.iter().enumerate() {
            let x = &r.record.stages[s];
            for (total, n, field) in [
                (&mut m.from_rps, x.from_rps, "fromRps"),
                (&mut m.to_rps, x.to_rps, "toRps"),
                (&mut m.scheduled, x.scheduled, "scheduled"),
                (&mut m.requests_total, x.requests_total, "requestsTotal"),
                (
                    &mut m.requests_succeeded,
                    x.requests_succeeded,
                    "requestsSucceeded",
                ),
                (&mut m.requests_failed, x.requests_failed, "requestsFailed"),
                (&mut m.dropped_or_late, x.dropped_or_late, "droppedOrLate"),
                (
                    &mut m.requests_cut_off,
                    x.requests_cut_off,
                    "requestsCutOff",
                ),
            ] {
                add_count(total, n, &format!("stages[{s}].{field}"))?;
            }
            let Some(enc) = &x.histogram else {
                return Err(Error::Merge(format!(
                    "result {i} stage {s} carries no histogram; cannot merge exactly"
                )));
            };
            for (acc, enc) in [
                (&mut lat, Some(enc)),
                (&mut unc, x.uncorrected_histogram.as_ref()),
            ] {
                let Some(enc) = enc else {
                    unc_everywhere = false;
                    continue;
                };
                let h = decode_histogram(enc)?;
                match acc {
                    None => *acc = Some(h),
                    Some(a) => a
                        .add(&h)
                        .map_err(|e| Error::Merge(format!("result {i} stage {s}: {e}")))?,
                }
            }
        }
        let lat = lat.expect("checked: every stage has a histogram");
        let unc = unc.filter(|_| unc_everywhere);
        let secs = m.duration_millis as f64 / 1000.0;
        m.actual_rps = format!(
            "{:.3}",
            if secs > 0.0 {
                m.requests_succeeded as f64 / secs
            } else {
                0.0
            }
        );
        m.latency = summarize(&lat, percentiles);
        m.uncorrected_latency = unc.as_ref().map(|h| summarize(h, percentiles));
        m.histogram = Some(encode_histogram(&lat)?);
        m.uncorrected_histogram = unc.as_ref().map(encode_histogram).transpose()?;
        out.push(m);
    }
    Ok(out)
}

fn to_client(r: &PerformanceTestResult, fallback: &str) -> ClientResult {
    let x = &r.record;
    ClientResult {
        name: r
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| fallback.to_owned()),
        shard: x.shard.clone(),
        requests_total: x.requests_total,
        requests_succeeded: x.requests_succeeded,
        requests_failed: x.requests_failed,
        dropped_or_late: x.dropped_or_late,
        requests_cut_off: x.requests_cut_off,
        actual_rps: x.actual_rps.clone(),
        bytes_sent: x.bytes_sent,
        bytes_received: x.bytes_received,
        status_codes: x.status_codes.clone(),
        grpc_status_codes: x.grpc_status_codes.clone(),
        errors: x.errors.clone(),
        latency: x.latency.clone(),
        uncorrected_latency: x.uncorrected_latency.clone(),
        histogram: x.histogram.clone(),
        uncorrected_histogram: x.uncorrected_histogram.clone(),
    }
}

fn add_count(total: &mut i64, x: i64, what: &str) -> Result<()> {
    *total = total
        .checked_add(x)
        .ok_or_else(|| Error::Merge(format!("the sum of {what} overflows")))?;
    Ok(())
}

fn add_maps(a: &mut BTreeMap<String, i64>, b: &BTreeMap<String, i64>, what: &str) -> Result<()> {
    for (k, v) in b {
        add_count(a.entry(k.clone()).or_default(), *v, what)?;
    }
    Ok(())
}

/// Checks a result before it is merged, compared or reported: the consistency rules of
/// [`PerformanceTestResult::consistency_errors`] (counts add up, none negative, shards exist,
/// a finite `actualRps`…), and that each encoded histogram decodes and holds exactly the
/// samples its summary counts (a histogram with forged bucket counts does not).
///
/// ```
/// use smi_perf_engine::validate_result;
/// use smi_types::perf::{PerformanceTestResult, ResultRecord};
///
/// assert!(validate_result(&PerformanceTestResult::default()).is_ok());
/// let forged = PerformanceTestResult::new("x", ResultRecord { requests_total: -1, ..Default::default() });
/// let err = validate_result(&forged).unwrap_err().to_string();
/// assert!(err.contains("requestsTotal"), "{err}");
/// ```
pub fn validate_result(r: &PerformanceTestResult) -> Result<()> {
    let mut errors = r.consistency_errors();
    let x = &r.record;
    let summaries = [
        ("histogram", x.histogram.as_ref(), Some(&x.latency)),
        (
            "uncorrectedHistogram",
            x.uncorrected_histogram.as_ref(),
            x.uncorrected_latency.as_ref(),
        ),
        (
            "failedHistogram",
            x.failed_histogram.as_ref(),
            x.failed_latency.as_ref(),
        ),
    ];
    for (path, enc, summary) in summaries {
        let Some(enc) = enc else { continue };
        let h = decode_histogram(enc)?;
        let expected = summary.map_or(0, |l| l.count);
        if u64::try_from(expected).ok() != Some(h.len()) {
            errors.push(smi_types::perf::SpecError {
                path: path.into(),
                message: format!("holds {} samples, its summary counts {expected}", h.len()),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidResult(errors))
    }
}

/// Merges results of shards of the same test exactly: counts add, histograms add, percentiles
/// are recomputed from the merged histogram (never averaged), the window spans the earliest
/// start to the latest end, `actualDuration` is the longest shard's. Each input becomes a
/// `perClient` entry carrying its `shard` (inputs that are themselves merged contribute their
/// clients); the merged top level has no `shard`. The requested `rps`, `connections` and
/// `requests` are summed back to the test's totals.
///
/// **Rate semantics:** `actualRps` is the **sum of the shards' rates** (each shard's recorded
/// requests over its own measured window). Shards run concurrently, so this is the offered
/// aggregate rate; total requests over the spanning window would understate it by the shards'
/// start skew.
///
/// Refuses: a result that fails [`validate_result`], results of different tests (`testRef` name/uid, load model, protocol, endpoints,
/// duration/requests mode), shards of different runs (`shard.runId`) or with different shard
/// counts, a mix of shard results and unsharded results, the same shard (or the same result
/// `id`) twice, and histograms with different settings (lowest, highest, significant digits).
pub fn merge(results: &[PerformanceTestResult]) -> Result<PerformanceTestResult> {
    let first = results
        .first()
        .ok_or_else(|| Error::Merge("nothing to merge".into()))?;
    let f = &first.record;
    for (i, r) in results.iter().enumerate() {
        validate_result(r).map_err(|e| Error::Merge(format!("result {i}: {e}")))?;
    }
    let mut rec = zeroed(f);
    let mut shards = Shards::default();
    let mut hist = Histograms::default();
    let mut rps_sum = 0.0;
    let mut percentiles: Vec<f64> = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let x = &r.record;
        same_test(i, x, f)?;
        shards.admit(i, x)?;
        for p in &x.latency.percentiles {
            if let Ok(v) = p.percentile.parse::<f64>()
                && !percentiles.contains(&v)
            {
                percentiles.push(v);
            }
        }
        hist.add(i, x)?;
        add_counts(&mut rec, x)?;
        rps_sum += x.actual_rps.parse::<f64>().unwrap_or(0.0);
        if x.start_time.0 < rec.start_time.0 {
            rec.start_time = x.start_time.clone();
        }
        if x.end_time.0 > rec.end_time.0 {
            rec.end_time = x.end_time.clone();
        }
        if x.actual_duration.to_std().unwrap_or_default()
            > rec.actual_duration.to_std().unwrap_or_default()
        {
            rec.actual_duration = x.actual_duration.clone();
        }
        if x.per_client.is_empty() {
            rec.per_client.push(to_client(r, &format!("client-{i}")));
        } else {
            rec.per_client.extend(x.per_client.iter().cloned());
        }
    }
    percentiles.sort_by(|a, b| a.total_cmp(b));
    let Histograms {
        latency,
        uncorrected,
        uncorrected_everywhere,
        failed,
    } = hist;
    let latency = latency.expect("checked: every input has a histogram");
    // A service-time histogram of only some shards would not describe the merged run.
    let uncorrected = uncorrected.filter(|_| uncorrected_everywhere);
    rec.latency = summarize(&latency, &percentiles);
    rec.uncorrected_latency = uncorrected.as_ref().map(|h| summarize(h, &percentiles));
    rec.histogram = Some(encode_histogram(&latency)?);
    rec.uncorrected_histogram = uncorrected.as_ref().map(encode_histogram).transpose()?;
    let series: Vec<_> = results
        .iter()
        .map(|r| r.record.time_series.as_ref())
        .collect();
    rec.time_series = crate::series::merge_series(&series)?;
    rec.stages = merge_stages(results, &percentiles)?;
    rec.failed_latency = failed.as_ref().map(|h| summarize(h, &percentiles));
    rec.failed_histogram = failed.as_ref().map(encode_histogram).transpose()?;
    rec.actual_rps = format!("{rps_sum:.3}");
    sum_requested(&mut rec, results)?;
    rec.per_client
        .sort_by_key(|c| c.shard.as_ref().map(|s| s.index));
    let (thresholds, passed) =
        evaluate_thresholds(&thresholds_of(&f.thresholds), &rec, Some(&latency));
    rec.thresholds = thresholds;
    rec.passed = passed;
    let base = match (&f.test_ref, shards.seen.is_empty()) {
        (Some(t), false) if !t.name.is_empty() => Some(t.name.clone()),
        _ => first.metadata.name.clone(),
    };
    let name = base.map(|n| format!("{n}-merged")).unwrap_or_default();
    Ok(PerformanceTestResult::new(&name, rec))
}

/// The first record with a new id and every count, map and client list emptied: what the
/// merge adds the inputs into.
fn zeroed(f: &ResultRecord) -> ResultRecord {
    let mut rec = ResultRecord {
        id: new_uuid(),
        ..f.clone()
    };
    rec.per_client = Vec::new();
    // the merged histogram is inline
    rec.histogram_ref = None;
    rec.requests_total = 0;
    rec.requests_succeeded = 0;
    rec.requests_failed = 0;
    rec.dropped_or_late = 0;
    rec.requests_cut_off = 0;
    rec.bytes_sent = 0;
    rec.bytes_received = 0;
    rec.status_codes.clear();
    rec.grpc_status_codes.clear();
    rec.errors.clear();
    rec.shard = None;
    rec
}

/// Refuses result `i` when it ran another test than result 0 (`f`).
fn same_test(i: usize, x: &ResultRecord, f: &ResultRecord) -> Result<()> {
    if x.test_ref != f.test_ref {
        return Err(Error::Merge(format!(
            "result {i} belongs to {}, not {}",
            test_label(x.test_ref.as_ref()),
            test_label(f.test_ref.as_ref())
        )));
    }
    if x.requested.load_model != f.requested.load_model
        || x.requested.protocol != f.requested.protocol
    {
        return Err(Error::Merge(format!(
            "result {i} ran a different load model or protocol"
        )));
    }
    if x.requested.endpoints != f.requested.endpoints
        || x.requested.duration != f.requested.duration
        || x.requested.requests.is_some() != f.requested.requests.is_some()
    {
        return Err(Error::Merge(format!(
            "result {i} ran other endpoints or another duration than result 0: not the same test"
        )));
    }
    Ok(())
}

/// The result ids and shards seen so far: each at most once, all of one run.
#[derive(Default)]
struct Shards<'a> {
    ids: Vec<&'a str>,
    seen: Vec<&'a ShardRef>,
    unsharded: usize,
}

impl<'a> Shards<'a> {
    fn admit(&mut self, i: usize, x: &'a ResultRecord) -> Result<()> {
        if !x.id.is_empty() {
            if self.ids.contains(&x.id.as_str()) {
                return Err(Error::Merge(format!(
                    "result {i} (id {}) is given twice",
                    x.id
                )));
            }
            self.ids.push(&x.id);
        }
        let shards: Vec<&ShardRef> = match &x.shard {
            Some(s) => vec![s],
            None => x
                .per_client
                .iter()
                .filter_map(|c| c.shard.as_ref())
                .collect(),
        };
        if shards.is_empty() {
            self.unsharded += 1;
        }
        for s in shards {
            if let Some(o) = self.seen.first() {
                if o.count != s.count {
                    return Err(Error::Merge(format!(
                        "result {i} is shard {}/{}, but other results are shards of {}",
                        s.index, s.count, o.count
                    )));
                }
                if o.run_id != s.run_id {
                    return Err(Error::Merge(format!(
                        "result {i} is from {}, other results from {}",
                        run_label(s.run_id.as_deref()),
                        run_label(o.run_id.as_deref())
                    )));
                }
            }
            if self.seen.iter().any(|o| o.index == s.index) {
                return Err(Error::Merge(format!(
                    "result {i} repeats shard {}/{} (duplicate shard)",
                    s.index, s.count
                )));
            }
            self.seen.push(s);
        }
        if self.unsharded > 0 && !self.seen.is_empty() {
            return Err(Error::Merge(format!(
                "result {i}: cannot mix shard results with unsharded results of the same test"
            )));
        }
        Ok(())
    }
}

/// The run-wide histograms, added up exactly.
struct Histograms {
    latency: Option<Histogram<u64>>,
    uncorrected: Option<Histogram<u64>>,
    /// Every input carries a service-time histogram.
    uncorrected_everywhere: bool,
    failed: Option<Histogram<u64>>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            latency: None,
            uncorrected: None,
            uncorrected_everywhere: true,
            failed: None,
        }
    }
}

impl Histograms {
    fn add(&mut self, i: usize, x: &ResultRecord) -> Result<()> {
        self.uncorrected_everywhere &= x.uncorrected_histogram.is_some();
        for (acc, enc, what) in [
            (&mut self.latency, &x.histogram, "histogram"),
            (
                &mut self.uncorrected,
                &x.uncorrected_histogram,
                "uncorrectedHistogram",
            ),
        ] {
            let Some(enc) = enc else {
                if what == "histogram" {
                    if let Some(r) = &x.histogram_ref {
                        return Err(Error::Merge(format!(
                            "result {i} keeps its histogram in {:?} {} (key {}, histogramRef): put it inline in `histogram` to merge",
                            r.kind,
                            r.name,
                            r.effective_key()
                        )));
                    }
                    return Err(Error::Merge(format!(
                        "result {i} carries no histogram; cannot merge exactly"
                    )));
                }
                continue;
            };
            let h = decode_histogram(enc)?;
            match acc {
                None => *acc = Some(h),
                Some(a) => {
                    if (a.low(), a.high(), a.sigfig()) != (h.low(), h.high(), h.sigfig()) {
                        return Err(Error::Merge(format!(
                            "result {i} {what} settings (lowest {}, highest {}, digits {}) differ from (lowest {}, highest {}, digits {})",
                            h.low(),
                            h.high(),
                            h.sigfig(),
                            a.low(),
                            a.high(),
                            a.sigfig()
                        )));
                    }
                    // Counts come from files: a sum past i64 (what the result can say) is an
                    // error; hdrhistogram would saturate silently.
                    a.len()
                        .checked_add(h.len())
                        .filter(|&n| i64::try_from(n).is_ok())
                        .ok_or_else(|| {
                            Error::Merge(format!("the sum of the {what} counts overflows"))
                        })?;
                    a.add(&h)
                        .map_err(|e| Error::Merge(format!("result {i} {what}: {e}")))?;
                }
            }
        }
        if let Some(enc) = &x.failed_histogram {
            let h = decode_histogram(enc)?;
            match self.failed.as_mut() {
                None => self.failed = Some(h),
                Some(a) => a
                    .add(&h)
                    .map_err(|e| Error::Merge(format!("result {i} failedHistogram: {e:?}")))?,
            }
        }
        Ok(())
    }
}

/// Adds the counts and count maps of `x` to `rec`. Counts come from files: a sum that
/// overflows is an error, not a panic or a wrap.
fn add_counts(rec: &mut ResultRecord, x: &ResultRecord) -> Result<()> {
    for (total, n, what) in [
        (&mut rec.requests_total, x.requests_total, "requestsTotal"),
        (
            &mut rec.requests_succeeded,
            x.requests_succeeded,
            "requestsSucceeded",
        ),
        (
            &mut rec.requests_failed,
            x.requests_failed,
            "requestsFailed",
        ),
        (&mut rec.dropped_or_late, x.dropped_or_late, "droppedOrLate"),
        (
            &mut rec.requests_cut_off,
            x.requests_cut_off,
            "requestsCutOff",
        ),
        (&mut rec.bytes_sent, x.bytes_sent, "bytesSent"),
        (&mut rec.bytes_received, x.bytes_received, "bytesReceived"),
    ] {
        add_count(total, n, what)?;
    }
    add_maps(&mut rec.status_codes, &x.status_codes, "statusCodes")?;
    add_maps(
        &mut rec.grpc_status_codes,
        &x.grpc_status_codes,
        "grpcStatusCodes",
    )?;
    add_maps(&mut rec.errors, &x.errors, "errors")
}

/// Sums the requested `rps`, `connections` and `requests` back to the test's totals.
fn sum_requested(rec: &mut ResultRecord, results: &[PerformanceTestResult]) -> Result<()> {
    let overflow = |what: &str| Error::Merge(format!("the sum of requested.{what} overflows"));
    rec.requested.rps = results
        .iter()
        .try_fold(0_i64, |a, r| a.checked_add(r.record.requested.rps))
        .ok_or_else(|| overflow("rps"))?;
    rec.requested.connections = results
        .iter()
        .try_fold(0_i32, |a, r| a.checked_add(r.record.requested.connections))
        .ok_or_else(|| overflow("connections"))?;
    if rec.requested.requests.is_some() {
        rec.requested.requests = Some(
            results
                .iter()
                .filter_map(|r| r.record.requested.requests)
                .try_fold(0_i64, i64::checked_add)
                .ok_or_else(|| overflow("requests"))?,
        );
    }
    Ok(())
}
