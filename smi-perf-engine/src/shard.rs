//! Scale-out: splitting one [`PerformanceTestSpec`] into `N` shards that together apply its load.
//!
//! * Shards are numbered **0-based**: `--shard 0/3`, `1/3`, `2/3` (the same numbering as a
//!   Kubernetes Indexed Job's completion index, so a pod can pass `$(JOB_COMPLETION_INDEX)/3`).
//! * Shard `i` of `N` runs `split(total, N)[i]` of `rps`, `connections`, `requests`, `maxInFlight`,
//!   `rampTo` and every `steps[].rps` (a ramped schedule is split stage by stage; the stages
//!   keep their durations, so they stay aligned across shards): every share is `total / N`, and the first `total % N` shards get one more, so
//!   the shares sum exactly to the total. Duration, warm-up, endpoints and request shape are not
//!   split. The total must leave every shard at least one connection (and one request, and one
//!   rps when the rate is > 0); the spec validator enforces this for `spec.parallelism`.
//! * All shards may wait for a common start instant (`spec.startAt` or `--start-at`, RFC 3339).
//!   A shard refuses an instant more than [`MAX_START_AHEAD`] ahead or more than
//!   [`MAX_START_LATE`] past; a shard that is late by less than that starts at once.
//! * Each shard's result carries a [`ShardRef`] (`shard: {index, count, runId, startAt}`), and
//!   [`crate::merge`] refuses duplicate shards, shards of different runs and mixed tests.
//!
//! ```
//! use smi_perf_engine::shard::{Shard, split};
//! use smi_types::perf::PerformanceTestSpec;
//! assert_eq!(split(10, 3), vec![4, 3, 3]);
//! let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/").requests(10).connections(5);
//! let s1 = Shard::parse("1/3").unwrap().apply(&spec).unwrap();
//! assert_eq!((s1.requests, s1.connections), (Some(3), Some(2)));
//! assert!(Shard::parse("3/3").is_err());
//! ```

use std::time::{Duration, SystemTime};

use smi_types::perf::{
    MAX_PARALLELISM, PerformanceTest, PerformanceTestResult, PerformanceTestSpec, ShardRef,
};

use crate::driver::RunContext;

use crate::error::{Error, Result, ShardError};

/// A shard refuses a start instant further ahead than this (1 h).
pub const MAX_START_AHEAD: Duration = Duration::from_secs(3600);
/// A shard refuses a start instant that passed longer ago than this (10 s); a shard that is
/// late by less starts at once.
pub const MAX_START_LATE: Duration = Duration::from_secs(10);

/// Splits `total` into `n` shares that sum to `total`: `total / n` each, plus one for the first
/// `total % n` shares. `n = 0` gives no shares.
pub fn split(total: u64, n: u32) -> Vec<u64> {
    (0..n).map(|i| share(total, i, n)).collect()
}

fn share(total: u64, index: u32, n: u32) -> u64 {
    let n = u64::from(n.max(1));
    total / n + u64::from(u64::from(index) < total % n)
}

/// One shard: 0-based `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index, `< count`.
    pub index: u32,
    /// Number of shards, `1..=MAX_PARALLELISM`.
    pub count: u32,
}

impl Shard {
    /// Shard `index` of `count`, checked (`count` in 1..=1000, `index < count`).
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        if count == 0 || count > MAX_PARALLELISM as u32 {
            return Err(ShardError::Count {
                count,
                max: MAX_PARALLELISM as u32,
            }
            .into());
        }
        if index >= count {
            return Err(ShardError::Index { index, count }.into());
        }
        Ok(Shard { index, count })
    }

    /// Parses `i/N` (0-based `i`, e.g. `0/3`, `2/3`).
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || ShardError::Syntax {
            input: s.to_owned(),
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: u32 = i.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }

    /// This shard's part of `total`.
    pub fn share(&self, total: u64) -> u64 {
        share(total, self.index, self.count)
    }

    /// The spec this shard runs: `spec` (validated as a whole with `parallelism = count`) with
    /// `rps`, `connections`, `requests`, `maxInFlight`, `rampTo` and `steps[].rps` replaced by this shard's
    /// share, and `parallelism` / `startAt` cleared (the shard spec is a single-process spec).
    ///
    /// Refuses a spec whose `parallelism` is set to another count.
    pub fn apply(&self, spec: &PerformanceTestSpec) -> Result<PerformanceTestSpec> {
        let n = self.count as i32;
        if let Some(p) = spec.parallelism
            && p != n
        {
            return Err(ShardError::Parallelism {
                parallelism: p,
                index: self.index,
                count: self.count,
            }
            .into());
        }
        let mut whole = spec.clone();
        whole.parallelism = Some(n);
        let errors = whole.validate();
        if !errors.is_empty() {
            return Err(Error::InvalidSpec(errors));
        }
        let mut s = spec.clone();
        s.parallelism = None;
        s.start_at = None;
        let part = |v: i64| self.share(v.max(0) as u64) as i64;
        s.rps = spec.rps.map(part);
        s.ramp_to = spec.ramp_to.map(part);
        // Every stage is split the same way (stages stay aligned: same durations).
        s.steps = spec
            .steps
            .iter()
            .map(|st| smi_types::perf::RateStep {
                rps: part(st.rps),
                duration: st.duration.clone(),
            })
            .collect();
        s.requests = spec.requests.map(part);
        s.connections = Some(self.share(u64::from(spec.effective_connections())) as i32);
        s.max_in_flight = spec.max_in_flight.map(|m| part(i64::from(m)) as i32);
        Ok(s)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses an RFC 3339 instant (`2026-11-30T18:00:00Z`).
pub fn parse_start_at(s: &str) -> Result<SystemTime> {
    let t: k8s_openapi::jiff::Timestamp =
        s.trim().parse().map_err(|source| ShardError::StartAt {
            input: s.to_owned(),
            source,
        })?;
    Ok(SystemTime::from(t))
}

/// How long to wait from `now` until `start`: zero when `start` passed less than
/// [`MAX_START_LATE`] ago; an error when it is more than [`MAX_START_AHEAD`] ahead or passed
/// longer ago.
pub fn wait_for(start: SystemTime, now: SystemTime) -> Result<Duration> {
    match start.duration_since(now) {
        Ok(ahead) if ahead > MAX_START_AHEAD => Err(ShardError::TooFarAhead {
            ahead,
            max: MAX_START_AHEAD,
        }
        .into()),
        Ok(ahead) => Ok(ahead),
        Err(e) if e.duration() > MAX_START_LATE => Err(ShardError::TooLate {
            late: e.duration(),
            max: MAX_START_LATE,
        }
        .into()),
        Err(_) => Ok(Duration::ZERO),
    }
}

/// How a shard process runs: which shard, the common start instant, the run id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardRun {
    /// The shard.
    pub shard: Shard,
    /// Common start instant (none: start when ready).
    pub start_at: Option<SystemTime>,
    /// Identifies this scaled-out run (e.g. the Kubernetes Job UID); empty strings count as none.
    pub run_id: Option<String>,
}

impl ShardRun {
    /// Checks the start instant against the bounds now (call before any set-up, so a bad
    /// instant fails fast) and returns how long to wait.
    pub fn check_start(&self) -> Result<Duration> {
        match self.start_at {
            Some(t) => wait_for(t, SystemTime::now()),
            None => Ok(Duration::ZERO),
        }
    }

    /// Sleeps until the common start instant (bounded as in [`wait_for`]).
    pub async fn wait(&self) -> Result<()> {
        if let Some(t) = self.start_at {
            // Re-checked against the clock now; sleeping on a monotonic timer after that.
            let d = wait_for(t, SystemTime::now())?;
            tokio::time::sleep(d).await;
        }
        Ok(())
    }

    /// The [`ShardRef`] written into this shard's result.
    pub fn shard_ref(&self) -> ShardRef {
        ShardRef {
            index: self.shard.index as i32,
            count: self.shard.count as i32,
            run_id: self.run_id.clone().filter(|r| !r.is_empty()),
            start_at: self
                .start_at
                .and_then(|t| k8s_openapi::jiff::Timestamp::try_from(t).ok())
                .map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time),
        }
    }

    /// Marks `result` as this shard's: sets `shard` and suffixes the name with `-shard-<i>`.
    pub fn stamp(&self, result: &mut PerformanceTestResult) {
        result.record.shard = Some(self.shard_ref());
        let base = result.metadata.name.clone().unwrap_or_default();
        result.metadata.name = Some(if base.is_empty() {
            format!("shard-{}", self.shard.index)
        } else {
            format!("{base}-shard-{}", self.shard.index)
        });
    }
}

/// Runs shard `run` of `test` in this process with the built-in generators: applies the shard's
/// share, checks and waits for the common start instant, runs, and stamps the result.
pub async fn run_test_shard(
    test: &PerformanceTest,
    run: &ShardRun,
    ctx: RunContext,
) -> Result<PerformanceTestResult> {
    let mut t = test.clone();
    t.spec = run.shard.apply(&test.spec)?;
    run.check_start()?;
    run.wait().await?;
    let mut r = crate::run_test(&t, ctx).await?;
    run.stamp(&mut r);
    Ok(r)
}

/// Shard indices missing from a merged result (`perClient[].shard`), given the shard count the
/// blocks declare; empty when the result is not sharded or complete.
pub fn missing_shards(result: &PerformanceTestResult) -> Vec<i32> {
    let shards: Vec<&ShardRef> = result
        .record
        .per_client
        .iter()
        .filter_map(|c| c.shard.as_ref())
        .chain(result.record.shard.as_ref())
        .collect();
    let Some(n) = shards.iter().map(|s| s.count).max() else {
        return Vec::new();
    };
    (0..n)
        .filter(|i| !shards.iter().any(|s| s.index == *i))
        .collect()
}

/// The line prefix a shard prints before its one-line JSON result (`--result-marker`), so the
/// result can be picked out of a log that also holds other output (`kubectl logs`).
pub const RESULT_MARKER: &str = "SMI-PERF-RESULT ";

/// Reads results from text: every line starting with [`RESULT_MARKER`] is one JSON result; if
/// there is no such line, the whole text is one result (JSON, or YAML) or a stream of JSON
/// results.
pub fn results_from_text(text: &str) -> Result<Vec<PerformanceTestResult>> {
    let marked: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(RESULT_MARKER))
        .collect();
    if !marked.is_empty() {
        return marked
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|source| Error::Json {
                    what: format!("marked result line {}", i + 1),
                    source,
                })
            })
            .collect();
    }
    let json: std::result::Result<Vec<PerformanceTestResult>, _> =
        serde_json::Deserializer::from_str(text)
            .into_iter()
            .collect();
    match json {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => serde_saphyr::from_str::<PerformanceTestResult>(text)
            .map(|r| vec![r])
            .map_err(|source| Error::Yaml {
                what: format!("no {RESULT_MARKER:?} lines and not a result document"),
                source: Box::new(source),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smi_types::perf::LoadModel;

    #[test]
    fn split_sums_exactly_and_front_loads_the_remainder() {
        for total in [0u64, 1, 2, 7, 10, 999, 1_000_003] {
            for n in 1..=17u32 {
                let v = split(total, n);
                assert_eq!(v.len(), n as usize);
                assert_eq!(v.iter().sum::<u64>(), total, "{total}/{n}");
                assert!(
                    v.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1),
                    "{v:?}"
                );
                for (i, s) in v.iter().enumerate() {
                    assert_eq!(Shard::new(i as u32, n).unwrap().share(total), *s);
                }
            }
        }
        assert_eq!(split(10, 4), vec![3, 3, 2, 2]);
    }

    #[test]
    fn shard_parse_is_zero_based_and_checked() {
        assert_eq!(Shard::parse("0/1").unwrap(), Shard { index: 0, count: 1 });
        assert_eq!(
            Shard::parse(" 2 / 3 ").unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["3/3", "1/0", "0/1001", "-1/3", "1", "a/3", "1/3/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apply_splits_rate_connections_requests_and_in_flight() {
        let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/")
            .load_model(LoadModel::Open)
            .rps(1001)
            .connections(10)
            .max_in_flight(33)
            .duration("1s");
        let shards: Vec<_> = (0..3)
            .map(|i| Shard::new(i, 3).unwrap().apply(&spec).unwrap())
            .collect();
        assert_eq!(
            shards.iter().map(|s| s.rps.unwrap()).collect::<Vec<_>>(),
            [334, 334, 333]
        );
        assert_eq!(
            shards
                .iter()
                .map(|s| s.connections.unwrap())
                .collect::<Vec<_>>(),
            [4, 3, 3]
        );
        assert_eq!(
            shards
                .iter()
                .map(|s| s.max_in_flight.unwrap())
                .collect::<Vec<_>>(),
            [11, 11, 11]
        );
        for s in &shards {
            assert_eq!(s.duration, spec.duration);
            assert!(s.validate().is_empty(), "{:?}", s.validate());
            assert_eq!(s.parallelism, None);
        }
        // requests split exactly
        let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/")
            .requests(7)
            .connections(3);
        let r: Vec<_> = (0..3)
            .map(|i| {
                Shard::new(i, 3)
                    .unwrap()
                    .apply(&spec)
                    .unwrap()
                    .requests
                    .unwrap()
            })
            .collect();
        assert_eq!(r, [3, 2, 2]);
    }

    #[test]
    fn apply_refuses_too_few_connections_and_a_different_parallelism() {
        let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/").connections(2);
        assert!(matches!(
            Shard::new(0, 3).unwrap().apply(&spec),
            Err(Error::InvalidSpec(_))
        ));
        let spec = PerformanceTestSpec {
            parallelism: Some(2),
            ..spec
        };
        assert!(Shard::new(0, 2).unwrap().apply(&spec).is_ok());
        let err = Shard::new(0, 1)
            .unwrap()
            .apply(&spec)
            .unwrap_err()
            .to_string();
        assert!(err.contains("spec.parallelism is 2"), "{err}");
    }

    #[test]
    fn start_instant_bounds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            wait_for(now + Duration::from_secs(5), now).unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(
            wait_for(now - Duration::from_secs(2), now).unwrap(),
            Duration::ZERO
        );
        assert!(wait_for(now + MAX_START_AHEAD + Duration::from_secs(1), now).is_err());
        assert!(wait_for(now - MAX_START_LATE - Duration::from_secs(1), now).is_err());
        let t = parse_start_at("2027-01-15T08:00:00Z").unwrap();
        assert_eq!(t, now);
        assert!(parse_start_at("tomorrow").is_err());
    }

    #[test]
    fn marker_lines_are_picked_out_of_logs() {
        let r = PerformanceTestResult::new("a", Default::default());
        let line = serde_json::to_string(&r).unwrap();
        let logs = format!("warning: x\n{RESULT_MARKER}{line}\nsummary\n{RESULT_MARKER}{line}\n");
        assert_eq!(results_from_text(&logs).unwrap().len(), 2);
        let pretty = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(
            results_from_text(&format!("{pretty}\n{pretty}"))
                .unwrap()
                .len(),
            2
        );
        assert!(results_from_text("hello\n").is_err());
    }
}
