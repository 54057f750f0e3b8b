//! Time series of a run: fixed intervals (default 1 s) aligned on multiples of the interval since
//! the Unix epoch, so the intervals of shards that ran at the same time share their start
//! instants and merge exactly. Each interval counts requests, successes, failures by status and
//! error kind, dropped and scheduled sends, and keeps an HdrHistogram of the successful
//! responses' latency (and the service time, Open model), compressed once the interval is over.
//!
//! Recording ([`Series`]) lives in each worker's [`Recorder`](crate::Recorder); the result carries
//! the merged series as [`TimeSeries`]; [`hlog`] and [`csv`] export it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use smi_types::perf::{PerformanceTestResult, TimeInterval, TimeSeries};

use crate::error::{Error, IntervalError, Result};
use crate::result::{decode_histogram, encode_histogram};
use crate::stats::{ErrorKind, HistogramSettings, Outcome, micros};

/// Default interval length.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest interval accepted.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// Most intervals one run may span (a 10 h run at 1 s); more is refused before the run.
pub const MAX_INTERVALS: u64 = 36_000;

/// Checks an interval length: whole milliseconds, at least [`MIN_INTERVAL`], and at most
/// [`MAX_INTERVALS`] of them in `run` (when the run length is known).
///
/// ```
/// use std::time::Duration;
/// use smi_perf_engine::series::check_interval;
/// assert!(check_interval(Duration::from_secs(1), Some(Duration::from_secs(60))).is_ok());
/// assert!(check_interval(Duration::from_millis(1), None).is_err());
/// assert!(check_interval(Duration::from_micros(1500), None).is_err());
/// ```
pub fn check_interval(interval: Duration, run: Option<Duration>) -> Result<()> {
    let bad = |e: IntervalError| Err(Error::Interval(e));
    if interval < MIN_INTERVAL {
        return bad(IntervalError::TooShort {
            interval,
            min: MIN_INTERVAL,
        });
    }
    if !interval.subsec_nanos().is_multiple_of(1_000_000) {
        return bad(IntervalError::NotWholeMillis(interval));
    }
    if let Some(run) = run
        && run.as_millis() / interval.as_millis() >= u128::from(MAX_INTERVALS)
    {
        return bad(IntervalError::TooMany {
            interval,
            run,
            max: MAX_INTERVALS,
        });
    }
    Ok(())
}

/// Counters of one interval.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    requests: u64,
    succeeded: u64,
    failed: u64,
    dropped: u64,
    scheduled: u64,
    /// Status code → count (a handful of codes per run: a small vector, no allocation per hit).
    status: Vec<(u16, u64)>,
    errors: [u64; ErrorKind::ALL.len()],
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.dropped += o.dropped;
        self.scheduled += o.scheduled;
        for (code, n) in &o.status {
            self.status_hit(*code, *n);
        }
        for (a, b) in self.errors.iter_mut().zip(o.errors.iter()) {
            *a += b;
        }
    }
    fn status_hit(&mut self, code: u16, n: u64) {
        match self.status.iter_mut().find(|(c, _)| *c == code) {
            Some((_, x)) => *x += n,
            None => self.status.push((code, n)),
        }
    }
}

/// Live histograms of an interval: latency, and service time (Open model).
type Live = (Histogram<u64>, Option<Histogram<u64>>);

/// One interval while it is recorded: live histograms until it is over, then their compressed
/// V2 bytes.
#[derive(Clone, Debug, Default)]
struct Slot {
    counts: Counts,
    live: Option<Live>,
    latency: Option<Vec<u8>>,
    uncorrected: Option<Vec<u8>>,
}

fn compress(h: &Histogram<u64>) -> Vec<u8> {
    let mut buf = Vec::new();
    // Serializing into a Vec cannot fail for a histogram of u64 counts.
    let _ = V2DeflateSerializer::new().serialize(h, &mut buf);
    buf
}

fn decompress(bytes: &[u8]) -> Option<Histogram<u64>> {
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut &bytes[..])
        .ok()
}

/// Adds compressed `b` into compressed `a` (both absent = absent).
fn add_compressed(a: &mut Option<Vec<u8>>, b: &Option<Vec<u8>>) {
    match (a.as_ref(), b) {
        (_, None) => {}
        (None, Some(b)) => *a = Some(b.clone()),
        (Some(x), Some(y)) => {
            if let (Some(mut hx), Some(hy)) = (decompress(x), decompress(y)) {
                let _ = hx.add(&hy);
                *a = Some(compress(&hx));
            }
        }
    }
}

/// The recording side of a time series: one per recording group, merged at the end.
#[derive(Clone, Debug)]
pub struct Series {
    interval_ms: u64,
    /// Unix time of `origin`, µs.
    origin_unix_us: u64,
    origin: Instant,
    settings: HistogramSettings,
    open_model: bool,
    slots: BTreeMap<u64, Slot>,
    /// Index of the newest interval a latency was recorded in.
    newest: u64,
    /// Histograms of finished intervals, reset, for reuse.
    spare: Vec<Live>,
}

impl Series {
    /// A series of `interval` (a whole number of ms, see [`check_interval`]) whose clock maps
    /// `origin` to `origin_wall`.
    pub fn new(
        interval: Duration,
        origin: Instant,
        origin_wall: SystemTime,
        settings: HistogramSettings,
        open_model: bool,
    ) -> Series {
        let origin_unix_us = origin_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        Series {
            interval_ms: (interval.as_millis() as u64).max(1),
            origin_unix_us,
            origin,
            settings,
            open_model,
            slots: BTreeMap::new(),
            newest: 0,
            spare: Vec::new(),
        }
    }

    /// The interval index (Unix ms / interval) of `t`.
    #[inline]
    fn index(&self, t: Instant) -> u64 {
        let us = self.origin_unix_us + t.saturating_duration_since(self.origin).as_micros() as u64;
        us / 1000 / self.interval_ms
    }

    /// Records a finished request at `at` (completion), as [`Recorder::record`](crate::Recorder::record) does.
    #[inline]
    pub fn record(
        &mut self,
        outcome: Outcome,
        latency: Duration,
        service: Option<Duration>,
        at: Instant,
    ) {
        let i = self.index(at);
        if i > self.newest {
            self.newest = i;
            self.seal_before(i.saturating_sub(1));
        }
        let slot = self.slots.entry(i).or_default();
        slot.counts.requests += 1;
        match outcome {
            Outcome::Response { .. } | Outcome::Grpc { .. } => {
                let (status, ok) = outcome.answer().unwrap_or((0, false));
                slot.counts.status_hit(status.min(999), 1);
                if ok {
                    slot.counts.succeeded += 1;
                    let settings = self.settings;
                    let open = self.open_model;
                    if slot.live.is_none() && slot.latency.is_some() {
                        // A straggler for an interval already sealed: add it the slow way.
                        let mut one = settings.new_histogram();
                        one.saturating_record(micros(latency));
                        add_compressed(&mut slot.latency, &Some(compress(&one)));
                        if let (true, Some(s)) = (open, service) {
                            let mut one = settings.new_histogram();
                            one.saturating_record(micros(s));
                            add_compressed(&mut slot.uncorrected, &Some(compress(&one)));
                        }
                        return;
                    }
                    let live = slot.live.get_or_insert_with(|| {
                        self.spare.pop().unwrap_or_else(|| {
                            (
                                settings.new_histogram(),
                                open.then(|| settings.new_histogram()),
                            )
                        })
                    });
                    live.0.saturating_record(micros(latency));
                    if let (Some(h), Some(s)) = (live.1.as_mut(), service) {
                        h.saturating_record(micros(s));
                    }
                } else {
                    slot.counts.failed += 1;
                }
            }
            Outcome::Error { kind, .. } => {
                slot.counts.failed += 1;
                slot.counts.errors[kind as usize] += 1;
            }
        }
    }

    /// Counts a send scheduled (Open model) at `intended`, recorded or dropped.
    #[inline]
    pub fn scheduled(&mut self, intended: Instant) {
        let i = self.index(intended);
        self.slots.entry(i).or_default().counts.scheduled += 1;
    }

    /// Counts a send scheduled at `intended` that was dropped (it is scheduled too).
    pub fn dropped(&mut self, intended: Instant) {
        let i = self.index(intended);
        let c = &mut self.slots.entry(i).or_default().counts;
        c.dropped += 1;
        c.scheduled += 1;
    }

    /// Compresses the live histograms of every interval before index `keep`.
    fn seal_before(&mut self, keep: u64) {
        for (_, slot) in self.slots.range_mut(..keep) {
            if let Some(mut live) = slot.live.take() {
                slot.latency = Some(compress(&live.0));
                slot.uncorrected = live.1.as_ref().map(compress);
                live.0.reset();
                if let Some(h) = live.1.as_mut() {
                    h.reset();
                }
                self.spare.push(live);
            }
        }
    }

    /// Adds `other` (same interval) into `self` exactly.
    pub fn merge(&mut self, other: &Series) {
        self.seal_before(u64::MAX);
        let mut other = other.clone();
        other.seal_before(u64::MAX);
        for (i, o) in other.slots {
            let s = self.slots.entry(i).or_default();
            s.counts.add(&o.counts);
            add_compressed(&mut s.latency, &o.latency);
            add_compressed(&mut s.uncorrected, &o.uncorrected);
        }
        self.newest = self.newest.max(other.newest);
    }

    /// The series as a result carries it, for the window `[from, to]`.
    pub fn to_time_series(&self, from: SystemTime, to: SystemTime) -> Result<TimeSeries> {
        let mut me = self.clone();
        me.seal_before(u64::MAX);
        let unix_ms = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        };
        let mut intervals = Vec::with_capacity(me.slots.len());
        for (i, s) in &me.slots {
            let enc = |b: &Option<Vec<u8>>| -> Result<Option<_>> {
                b.as_ref()
                    .and_then(|b| decompress(b))
                    .filter(|h| !h.is_empty())
                    .map(|h| encode_histogram(&h))
                    .transpose()
            };
            let c = &s.counts;
            let mut status_codes = BTreeMap::new();
            for (code, n) in &c.status {
                status_codes.insert(code.to_string(), *n as i64);
            }
            let mut errors = BTreeMap::new();
            for k in ErrorKind::ALL {
                let n = c.errors[k as usize];
                if n > 0 {
                    errors.insert(k.as_str().to_owned(), n as i64);
                }
            }
            intervals.push(TimeInterval {
                start_millis: (*i * me.interval_ms) as i64,
                requests: c.requests as i64,
                succeeded: c.succeeded as i64,
                failed: c.failed as i64,
                dropped: c.dropped as i64,
                scheduled: c.scheduled as i64,
                status_codes,
                errors,
                histogram: enc(&s.latency)?,
                uncorrected_histogram: enc(&s.uncorrected)?,
            });
        }
        Ok(TimeSeries {
            interval_millis: me.interval_ms as i64,
            start_millis: unix_ms(from),
            end_millis: unix_ms(to.max(from)),
            intervals,
        })
    }
}

fn merge_err(m: String) -> Error {
    Error::Merge(m)
}

fn add_maps(a: &mut BTreeMap<String, i64>, b: &BTreeMap<String, i64>) -> Result<()> {
    for (k, v) in b {
        let x = a.entry(k.clone()).or_default();
        *x = x
            .checked_add(*v)
            .ok_or_else(|| merge_err(format!("timeSeries count {k} overflows")))?;
    }
    Ok(())
}

fn add_encoded(
    a: &mut Option<smi_types::perf::EncodedHistogram>,
    b: &Option<smi_types::perf::EncodedHistogram>,
) -> Result<()> {
    let Some(b) = b else { return Ok(()) };
    match a {
        None => *a = Some(b.clone()),
        Some(x) => {
            let mut hx = decode_histogram(x)?;
            let hy = decode_histogram(b)?;
            hx.add(&hy)
                .map_err(|e| merge_err(format!("timeSeries histogram: {e:?}")))?;
            *x = encode_histogram(&hx)?;
        }
    }
    Ok(())
}

/// Merges the time series of several results exactly: intervals with the same start add their
/// counts and histograms. `None` when any result carries none (a partial series would not
/// describe the merged run); an error when their interval lengths differ.
pub fn merge_series(series: &[Option<&TimeSeries>]) -> Result<Option<TimeSeries>> {
    let mut all = Vec::with_capacity(series.len());
    for s in series {
        match s {
            Some(s) => all.push(*s),
            None => return Ok(None),
        }
    }
    let Some(first) = all.first() else {
        return Ok(None);
    };
    let mut by_start: BTreeMap<i64, TimeInterval> = BTreeMap::new();
    let mut out = TimeSeries {
        interval_millis: first.interval_millis,
        start_millis: first.start_millis,
        end_millis: first.end_millis,
        intervals: Vec::new(),
    };
    for (i, s) in all.iter().enumerate() {
        if s.interval_millis != first.interval_millis {
            return Err(merge_err(format!(
                "result {i} has {} ms time-series intervals, result 0 has {} ms",
                s.interval_millis, first.interval_millis
            )));
        }
        out.start_millis = out.start_millis.min(s.start_millis);
        out.end_millis = out.end_millis.max(s.end_millis);
        for iv in &s.intervals {
            let m = by_start
                .entry(iv.start_millis)
                .or_insert_with(|| TimeInterval {
                    start_millis: iv.start_millis,
                    ..Default::default()
                });
            for (a, b, what) in [
                (&mut m.requests, iv.requests, "requests"),
                (&mut m.succeeded, iv.succeeded, "succeeded"),
                (&mut m.failed, iv.failed, "failed"),
                (&mut m.dropped, iv.dropped, "dropped"),
                (&mut m.scheduled, iv.scheduled, "scheduled"),
            ] {
                *a = a
                    .checked_add(b)
                    .ok_or_else(|| merge_err(format!("timeSeries {what} overflows")))?;
            }
            add_maps(&mut m.status_codes, &iv.status_codes)?;
            add_maps(&mut m.errors, &iv.errors)?;
            add_encoded(&mut m.histogram, &iv.histogram)?;
            add_encoded(&mut m.uncorrected_histogram, &iv.uncorrected_histogram)?;
        }
    }
    out.intervals = by_start.into_values().collect();
    Ok(Some(out))
}

/// One interval with its numbers worked out, for charts and CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalView {
    /// Interval start, Unix ms.
    pub start_millis: i64,
    /// Seconds from the series start to the start of the part of this interval inside the
    /// run's window.
    pub offset_secs: f64,
    /// Length of that part, seconds (the first and last interval may be partial).
    pub secs: f64,
    /// Requests recorded (completed) in the interval.
    pub requests: i64,
    /// Successful responses.
    pub succeeded: i64,
    /// Failed requests.
    pub failed: i64,
    /// Sends dropped.
    pub dropped: i64,
    /// Sends scheduled (Open model), recorded or dropped.
    pub scheduled: i64,
    /// Counts by status code.
    pub status_codes: BTreeMap<String, i64>,
    /// Counts by error kind.
    pub errors: BTreeMap<String, i64>,
    /// p50, p90, p99 and max of the successful responses, µs (`None` without one).
    pub latency: Option<[u64; 4]>,
    /// The same of the service time (Open model).
    pub uncorrected: Option<[u64; 4]>,
}

impl IntervalView {
    /// Successful responses per second.
    pub fn achieved_rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.succeeded as f64 / self.secs
        } else {
            0.0
        }
    }
    /// Scheduled sends per second (the intended rate; Open model).
    pub fn intended_rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.scheduled as f64 / self.secs
        } else {
            0.0
        }
    }
}

fn quartet(h: &Histogram<u64>) -> [u64; 4] {
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max(),
    ]
}

/// The intervals of `s` with rates and percentiles worked out. Undecodable histograms are an
/// error, not a gap.
pub fn views(s: &TimeSeries) -> Result<Vec<IntervalView>> {
    let len = s.interval_millis.max(1);
    let mut out = Vec::with_capacity(s.intervals.len());
    for iv in &s.intervals {
        let from = iv.start_millis.max(s.start_millis);
        let to = (iv.start_millis + len).min(s.end_millis.max(from));
        let q = |h: &Option<smi_types::perf::EncodedHistogram>| -> Result<Option<[u64; 4]>> {
            Ok(match h {
                Some(e) => {
                    let h = decode_histogram(e)?;
                    (!h.is_empty()).then(|| quartet(&h))
                }
                None => None,
            })
        };
        out.push(IntervalView {
            start_millis: iv.start_millis,
            offset_secs: (from - s.start_millis).max(0) as f64 / 1000.0,
            // An interval past the window's end (the Open model's grace) counts as full length.
            secs: if to > from {
                (to - from) as f64 / 1000.0
            } else {
                len as f64 / 1000.0
            },
            requests: iv.requests,
            succeeded: iv.succeeded,
            failed: iv.failed,
            dropped: iv.dropped,
            scheduled: iv.scheduled,
            status_codes: iv.status_codes.clone(),
            errors: iv.errors.clone(),
            latency: q(&iv.histogram)?,
            uncorrected: q(&iv.uncorrected_histogram)?,
        });
    }
    Ok(out)
}

/// The result's time series in the HdrHistogram interval log format (`.hlog`, log format 1.3),
/// as HdrHistogram's `HistogramLogProcessor` and plotters read it: `StartTime`/`BaseTime` at the
/// series start, one line per interval with its offset and length in seconds, the interval's max
/// in ms, and the V2-compressed histogram of the successful responses' latency, µs (untagged);
/// the service time (Open model) follows tagged `Tag=uncorrected`.
/// (`HistogramLogProcessor -outputValueUnitRatio 1000` prints milliseconds.)
pub fn hlog(r: &PerformanceTestResult) -> Result<String> {
    let s = r
        .record
        .time_series
        .as_ref()
        .ok_or_else(|| Error::Histogram("the result carries no time series".into()))?;
    let start = SystemTime::UNIX_EPOCH + Duration::from_millis(s.start_millis.max(0) as u64);
    let mut buf: Vec<u8> = Vec::new();
    buf.extend_from_slice(b"#[Histogram log format version 1.3]\n");
    let io = |e: std::io::Error| Error::Histogram(format!("hlog: {e}"));
    let mut ser = V2DeflateSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment(&format!(
            "[smi-perf {}: latency of successful responses in microseconds; {} ms intervals]",
            crate::ENGINE_VERSION,
            s.interval_millis
        ))
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut buf, &mut ser)
        .map_err(io)?;
    buf.extend_from_slice(
        b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
    );
    let mut w = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut buf, &mut ser)
        .map_err(io)?;
    let uncorrected = Tag::new("uncorrected");
    for (iv, v) in s.intervals.iter().zip(views(s)?) {
        let at = Duration::from_secs_f64(v.offset_secs);
        let len = Duration::from_secs_f64(v.secs);
        for (h, tag) in [
            (&iv.histogram, None),
            (&iv.uncorrected_histogram, uncorrected),
        ] {
            let h = match h {
                Some(e) => decode_histogram(e)?,
                None if tag.is_none() => HistogramSettings::default().new_histogram(),
                None => continue,
            };
            w.write_histogram(&h, at, len, tag)
                .map_err(|e| Error::Histogram(format!("hlog: {e}")))?;
        }
    }
    drop(w);
    String::from_utf8(buf).map_err(|e| Error::Histogram(format!("hlog: {e}")))
}

fn ms3(us: u64) -> String {
    format!("{:.3}", us as f64 / 1000.0)
}

/// The result's time series as CSV, one row per interval: start (Unix ms), offset and length
/// (s), counts, intended and achieved rate (successful responses/s), failures/s, p50/p90/p99/max
/// of the successful responses (ms; empty when the interval had none), the same for the service
/// time (Open model), then one column per status code and per error kind seen in the run.
pub fn csv(r: &PerformanceTestResult) -> Result<String> {
    let s = r
        .record
        .time_series
        .as_ref()
        .ok_or_else(|| Error::Histogram("the result carries no time series".into()))?;
    let views = views(s)?;
    let mut codes: Vec<&String> = views.iter().flat_map(|v| v.status_codes.keys()).collect();
    codes.sort_by_key(|c| (c.parse::<u32>().unwrap_or(u32::MAX), c.to_string()));
    codes.dedup();
    let mut kinds: Vec<&String> = views.iter().flat_map(|v| v.errors.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let mut out = String::from(
        "start_unix_ms,offset_s,length_s,requests,succeeded,failed,dropped,scheduled,intended_rps,achieved_rps,failed_per_s,p50_ms,p90_ms,p99_ms,max_ms,uncorrected_p50_ms,uncorrected_p90_ms,uncorrected_p99_ms,uncorrected_max_ms",
    );
    for c in &codes {
        let _ = write!(out, ",status_{c}");
    }
    for k in &kinds {
        let _ = write!(out, ",error_{k}");
    }
    out.push('\n');
    for v in &views {
        let _ = write!(
            out,
            "{},{:.3},{:.3},{},{},{},{},{},{:.3},{:.3},{:.3}",
            v.start_millis,
            v.offset_secs,
            v.secs,
            v.requests,
            v.succeeded,
            v.failed,
            v.dropped,
            v.scheduled,
            v.intended_rps(),
            v.achieved_rps(),
            if v.secs > 0.0 {
                v.failed as f64 / v.secs
            } else {
                0.0
            }
        );
        for q in [v.latency, v.uncorrected] {
            for i in 0..4 {
                out.push(',');
                if let Some(q) = q {
                    out.push_str(&ms3(q[i]));
                }
            }
        }
        for c in &codes {
            let _ = write!(out, ",{}", v.status_codes.get(*c).copied().unwrap_or(0));
        }
        for k in &kinds {
            let _ = write!(out, ",{}", v.errors.get(*k).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    Ok(out)
}
