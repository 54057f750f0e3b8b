//! Arrival schedules of the Open model: the intended send time of every request.
//!
//! * `Constant` (`rps`): the `n`-th send (0-based) is due at `n / rps`.
//! * `Linear` and `Step` (k6 `ramping-arrival-rate` semantics): the rate is piecewise linear,
//!   stage by stage ([`smi_types::perf::PerformanceTestSpec::rate_stages`]). With `N(t)` the
//!   integrated rate (the number of sends due by `t`), the `n`-th send is due at the `t` where
//!   `N(t) = n`: the inverse of the integrated rate, so the intended times follow the schedule
//!   exactly, whatever the target does (latency is timed from them, which corrects coordinated
//!   omission).
//!
//! The stage boundaries are exact: `N` at a boundary is kept as an integer numerator
//! (`Σ (from + to) × nanoseconds`, over `2 × 10⁹`), so stage `s` holds exactly the sends
//! `ceil(N(start_s)) .. ceil(N(end_s))`. A `Step` stage of `r` rps for `d` seconds holds `r × d`
//! sends, a `Linear` stage `(from + to) / 2 × d` (rounded at the boundaries only). Only the
//! position of a send inside its stage is computed in floating point, and it is clamped to the
//! stage.
//!
//! ```
//! use std::time::Duration;
//! use smi_perf_engine::schedule::Schedule;
//! use smi_types::perf::RateStage;
//! // 0 → 100 rps over 10 s: 500 sends; the n-th at sqrt(n / 5) s.
//! let s = Schedule::stages(&[RateStage { from_rps: 0, to_rps: 100, duration: Duration::from_secs(10) }]);
//! assert_eq!(s.total(), Some(500));
//! assert_eq!(s.time(125), Duration::from_secs(5));
//! let c = Schedule::constant(1000);
//! assert_eq!(c.time(1500), Duration::from_millis(1500));
//! ```

use std::time::Duration;

use smi_types::perf::RateStage;

/// `N` numerator per request: rates × ns × 2 (the trapezoid's `(from + to)` without the halving).
const DENOM: u128 = 2_000_000_000;

/// One stage with its exact bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct StageBounds {
    /// The stage as requested.
    pub stage: RateStage,
    /// Start, from the schedule's start.
    pub start: Duration,
    /// Index of its first send.
    pub first: u64,
    /// Index one past its last send (`end - first` sends).
    pub end: u64,
    /// `N(start)` numerator (`N = num / 2e9`).
    start_num: u128,
}

impl StageBounds {
    /// Number of sends in the stage.
    pub fn count(&self) -> u64 {
        self.end - self.first
    }
}

/// An arrival schedule (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// `rps` sends per second, unbounded (the run's length bounds it).
    Constant {
        /// Rate (at least 1).
        rps: u64,
    },
    /// Piecewise-linear stages.
    Stages {
        /// The stages, in order.
        stages: Vec<StageBounds>,
        /// Total length.
        length: Duration,
    },
}

fn ceil_div(a: u128, b: u128) -> u128 {
    a.div_ceil(b)
}

impl Schedule {
    /// A constant rate (0 is taken as 1).
    pub fn constant(rps: u64) -> Schedule {
        Schedule::Constant { rps: rps.max(1) }
    }

    /// A ramped schedule from resolved stages.
    pub fn stages(stages: &[RateStage]) -> Schedule {
        let mut out = Vec::with_capacity(stages.len());
        let mut num: u128 = 0;
        let mut start = Duration::ZERO;
        for st in stages {
            let first = ceil_div(num, DENOM) as u64;
            let next =
                num + (u128::from(st.from_rps) + u128::from(st.to_rps)) * st.duration.as_nanos();
            out.push(StageBounds {
                stage: *st,
                start,
                first,
                end: ceil_div(next, DENOM) as u64,
                start_num: num,
            });
            num = next;
            start += st.duration;
        }
        Schedule::Stages {
            stages: out,
            length: start,
        }
    }

    /// The schedule of a plan: its stages when the rate shape is ramped, else constant `rps`.
    pub fn of(spec: &smi_types::perf::PerformanceTestSpec) -> Schedule {
        match spec.rate_stages() {
            Some(st) => Schedule::stages(&st),
            None => Schedule::constant(spec.effective_rps()),
        }
    }

    /// Total number of sends (`None` for a constant rate: unbounded).
    pub fn total(&self) -> Option<u64> {
        match self {
            Schedule::Constant { .. } => None,
            Schedule::Stages { stages, .. } => Some(stages.last().map_or(0, |s| s.end)),
        }
    }

    /// Length of a ramped schedule.
    pub fn length(&self) -> Option<Duration> {
        match self {
            Schedule::Constant { .. } => None,
            Schedule::Stages { length, .. } => Some(*length),
        }
    }

    /// The stages (empty for a constant rate).
    pub fn stage_bounds(&self) -> &[StageBounds] {
        match self {
            Schedule::Constant { .. } => &[],
            Schedule::Stages { stages, .. } => stages,
        }
    }

    /// The stage send `n` belongs to (`None` for a constant rate or past the end).
    pub fn stage_of(&self, n: u64) -> Option<usize> {
        let st = self.stage_bounds();
        let i = st.partition_point(|s| s.end <= n);
        (i < st.len()).then_some(i)
    }

    /// Intended time of send `n` (0-based) from the schedule's start. Past the end of a ramped
    /// schedule: its length.
    pub fn time(&self, n: u64) -> Duration {
        match self {
            Schedule::Constant { rps } => {
                let (s, r) = (n / rps, n % rps);
                // r < rps: in 64 bits unless the rate is over 18 billion a second (a 128-bit
                // division is a call, and this runs for every send).
                let frac = match r.checked_mul(1_000_000_000) {
                    Some(x) => x / rps,
                    None => (u128::from(r) * 1_000_000_000 / u128::from(*rps)) as u64,
                };
                Duration::from_secs(s) + Duration::from_nanos(frac)
            }
            Schedule::Stages { stages, length } => {
                let Some(i) = self.stage_of(n) else {
                    return *length;
                };
                let b = &stages[i];
                let t = b.stage.duration.as_secs_f64();
                let r0 = b.stage.from_rps as f64;
                let r1 = b.stage.to_rps as f64;
                // Sends into the stage: n − N(start), in requests.
                let m = n as f64 - (b.start_num as f64 / DENOM as f64);
                let tau = if m <= 0.0 {
                    0.0
                } else {
                    let a = (r1 - r0) / t;
                    // Solves r0·τ + a·τ²/2 = m in a form that is stable for a → 0 and a < 0.
                    let disc = (r0 * r0 + 2.0 * a * m).max(0.0);
                    let den = r0 + disc.sqrt();
                    if den > 0.0 { 2.0 * m / den } else { 0.0 }
                };
                let max = b.stage.duration.saturating_sub(Duration::from_nanos(1));
                b.start + Duration::from_secs_f64(tau.clamp(0.0, t)).min(max)
            }
        }
    }

    /// Sends due by `t` (those with an intended time ≤ `t`), i.e. `floor(N(t)) + 1`, capped at
    /// the total of a ramped schedule.
    pub fn due_by(&self, t: Duration) -> u64 {
        match self {
            Schedule::Constant { rps } => {
                // The exact inverse of `time`, which rounds n / rps down to the nanosecond:
                // floor(n·10⁹ / rps) ≤ t  ⇔  n < (t + 1)·rps / 10⁹.
                (t.as_nanos()
                    .saturating_add(1)
                    .saturating_mul(u128::from(*rps)))
                .div_ceil(1_000_000_000)
                .try_into()
                .unwrap_or(u64::MAX)
            }
            Schedule::Stages { stages, length } => {
                let total = stages.last().map_or(0, |s| s.end);
                if t >= *length {
                    return total;
                }
                let i = stages.partition_point(|s| s.start + s.stage.duration <= t);
                let Some(b) = stages.get(i) else {
                    return total;
                };
                let tau = (t - b.start).as_secs_f64();
                let r0 = b.stage.from_rps as f64;
                let a = (b.stage.to_rps as f64 - r0) / b.stage.duration.as_secs_f64();
                let n = b.start_num as f64 / DENOM as f64 + r0 * tau + a * tau * tau / 2.0;
                // Never beyond the stage's own sends (rounding).
                ((n.floor() as u64).saturating_add(1)).clamp(b.first, b.end)
            }
        }
    }
}

/// The Open model's send grid ([`crate::RunContext::timer_resolution`]): every intended send
/// time is moved up to the next multiple of the step, counted from the run's start, so the sends
/// of one step go out together at one wake-up of the generator, each at its moved time. A zero
/// step moves nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    step_ns: u128,
}

impl Grid {
    /// A grid of `step` (zero: no grid).
    pub(crate) fn new(step: Duration) -> Grid {
        Grid {
            step_ns: step.as_nanos(),
        }
    }

    /// The first grid point at or after `t`.
    pub(crate) fn up(self, t: Duration) -> Duration {
        if self.step_ns == 0 {
            return t;
        }
        // In 64 bits for the next 584 years of a run (a 128-bit division is a call).
        if let (Ok(t), Ok(step)) = (u64::try_from(t.as_nanos()), u64::try_from(self.step_ns))
            && let Some(up) = t.div_ceil(step).checked_mul(step)
        {
            return Duration::from_nanos(up);
        }
        nanos(
            t.as_nanos()
                .div_ceil(self.step_ns)
                .saturating_mul(self.step_ns),
        )
    }

    /// The last grid point at or before `t`.
    pub(crate) fn down(self, t: Duration) -> Duration {
        if self.step_ns == 0 {
            return t;
        }
        if let (Ok(t), Ok(step)) = (u64::try_from(t.as_nanos()), u64::try_from(self.step_ns)) {
            return Duration::from_nanos(t / step * step);
        }
        nanos(t.as_nanos() / self.step_ns * self.step_ns)
    }
}

/// `n` nanoseconds, saturating at [`Duration::MAX`].
fn nanos(n: u128) -> Duration {
    u64::try_from(n / 1_000_000_000).map_or(Duration::MAX, |s| {
        Duration::new(s, (n % 1_000_000_000) as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn st(from: u64, to: u64, ms: u64) -> RateStage {
        RateStage {
            from_rps: from,
            to_rps: to,
            duration: Duration::from_millis(ms),
        }
    }

    #[test]
    fn step_counts_are_exact() {
        let s = Schedule::stages(&[
            st(100, 100, 1000),
            st(200, 200, 2000),
            st(0, 0, 500),
            st(7, 7, 1500),
        ]);
        let counts: Vec<u64> = s.stage_bounds().iter().map(StageBounds::count).collect();
        // 7 rps × 1.5 s = 10.5: the boundary rounds (ceil of N), so 11 here.
        assert_eq!(counts, vec![100, 400, 0, 11]);
        assert_eq!(s.total(), Some(511));
        assert_eq!(s.length(), Some(Duration::from_millis(5000)));
        // Constant inside a step: n-th send of stage 2 at 1 s + k / 200.
        assert_eq!(s.time(0), Duration::ZERO);
        assert_eq!(s.time(99), Duration::from_millis(990));
        assert_eq!(s.time(100), Duration::from_secs(1));
        assert_eq!(s.time(101), Duration::from_millis(1005));
        assert_eq!(s.time(499), Duration::from_millis(2995));
        // The zero-rate stage is skipped: the next send is at the start of stage 4.
        assert_eq!(s.time(500), Duration::from_millis(3500));
        assert_eq!(s.stage_of(99), Some(0));
        assert_eq!(s.stage_of(100), Some(1));
        assert_eq!(s.stage_of(500), Some(3));
        assert_eq!(s.stage_of(511), None);
    }

    #[test]
    fn linear_is_the_inverse_of_the_integrated_rate() {
        // 0 → 100 rps over 10 s: N(t) = 5 t², so t_n = sqrt(n / 5).
        let s = Schedule::stages(&[st(0, 100, 10_000)]);
        assert_eq!(s.total(), Some(500));
        for n in [0u64, 1, 5, 20, 45, 80, 125, 245, 320, 499] {
            let want = (n as f64 / 5.0).sqrt();
            let got = s.time(n).as_secs_f64();
            assert!((got - want).abs() < 1e-6, "n={n}: {got} vs {want}");
        }
        // Down-ramp 100 → 0 over 10 s: N(t) = 100 t − 5 t².
        let d = Schedule::stages(&[st(100, 0, 10_000)]);
        assert_eq!(d.total(), Some(500));
        for n in [0u64, 1, 100, 250, 400, 499] {
            let t = d.time(n).as_secs_f64();
            let back = 100.0 * t - 5.0 * t * t;
            assert!((back - n as f64).abs() < 1e-4, "n={n}: N({t}) = {back}");
        }
        // k6 stages chain: 10 → 50 over 2 s (60 sends), hold 50 for 1 s (50), 50 → 0 over 2 s (50).
        let k = Schedule::stages(&[st(10, 50, 2000), st(50, 50, 1000), st(50, 0, 2000)]);
        let counts: Vec<u64> = k.stage_bounds().iter().map(StageBounds::count).collect();
        assert_eq!(counts, vec![60, 50, 50]);
        assert_eq!(k.time(60), Duration::from_secs(2));
        assert_eq!(k.time(85), Duration::from_millis(2500));
    }

    #[test]
    fn constant_matches_n_over_rps() {
        let c = Schedule::constant(3);
        assert_eq!(c.time(0), Duration::ZERO);
        assert_eq!(c.time(1), Duration::from_nanos(333_333_333));
        assert_eq!(c.time(3), Duration::from_secs(1));
        assert_eq!(c.due_by(Duration::ZERO), 1);
        assert_eq!(c.due_by(Duration::from_millis(999)), 3);
        assert_eq!(c.due_by(Duration::from_secs(1)), 4);
        // At the very nanosecond of a send (its time rounded down), it is due: 1 / 3 s is
        // 333,333,333 ns, which counted only send 0 when `due_by` rounded the other way.
        assert_eq!(c.due_by(c.time(1)), 2);
        assert_eq!(c.due_by(c.time(1) - Duration::from_nanos(1)), 1);
        // The case the grid's property found (rps 170,793): every send is due at its own time
        // and not a nanosecond before.
        let c = Schedule::constant(170_793);
        for n in 0..20_000 {
            assert_eq!(c.due_by(c.time(n)), n + 1, "send {n}");
            if n > 0 {
                assert_eq!(c.due_by(c.time(n) - Duration::from_nanos(1)), n, "send {n}");
            }
        }
        let c = Schedule::constant(3);
        assert_eq!(c.total(), None);
        assert_eq!(c.stage_of(5), None);
    }

    proptest! {
        /// Times are non-decreasing, stay inside their stage, and `due_by` counts exactly the
        /// sends whose time has come (up to float rounding at the exact instant of a send).
        #[test]
        fn times_are_monotone_and_due_by_inverts_them(
            stages in proptest::collection::vec((0u64..2000, 0u64..2000, 1u64..3000), 1..6)
        ) {
            let stages: Vec<RateStage> = stages.into_iter().map(|(a, b, ms)| st(a, b, ms)).collect();
            let s = Schedule::stages(&stages);
            let total = s.total().unwrap();
            let expected: u128 = stages.iter().map(|x| (u128::from(x.from_rps) + u128::from(x.to_rps)) * x.duration.as_nanos()).sum();
            prop_assert_eq!(u128::from(total), expected.div_ceil(DENOM));
            let mut prev = Duration::ZERO;
            for n in 0..total.min(3000) {
                let t = s.time(n);
                prop_assert!(t >= prev, "n={} {:?} < {:?}", n, t, prev);
                let b = &s.stage_bounds()[s.stage_of(n).unwrap()];
                prop_assert!(t >= b.start && t < b.start + b.stage.duration);
                // Strictly after a send's own time, it is due.
                prop_assert!(s.due_by(t + Duration::from_micros(1)) > n.min(total - 1) || s.due_by(t + Duration::from_micros(1)) == total);
                prev = t;
            }
        }
    }
    /// The grid moves each send up to the next step (never earlier, less than a step later) and
    /// groups them: at 10,000 rps on a 1 ms grid, the sends 1–10 go out at 1 ms, 11–20 at 2 ms.
    #[test]
    fn the_grid_moves_sends_up_to_the_next_step() {
        let c = Schedule::constant(10_000);
        let g = Grid::new(Duration::from_millis(1));
        let at: Vec<u64> = (0..31)
            .map(|n| g.up(c.time(n)).as_micros() as u64)
            .collect();
        let mut want = vec![0];
        for ms in 1..=3 {
            want.extend([ms * 1000; 10]);
        }
        assert_eq!(at, want);
        assert_eq!(
            g.down(Duration::from_micros(2_999)),
            Duration::from_millis(2)
        );
        // No grid: nothing moves.
        let none = Grid::new(Duration::ZERO);
        assert_eq!(none.up(c.time(7)), c.time(7));
        assert_eq!(
            none.down(Duration::from_nanos(123)),
            Duration::from_nanos(123)
        );
        // Far past any run: saturates instead of overflowing.
        assert_eq!(g.up(Duration::MAX), Duration::MAX);
    }

    proptest! {
        /// On any grid: `up` is the first grid point at or after `t`, `down` the last at or
        /// before, and the sends whose moved time has come by `t` are exactly
        /// `due_by(down(t))` (what the Open model's backlog counts).
        #[test]
        fn grid_points_and_due_counts(
            rps in 1u64..200_000,
            step_ns in 0u64..2_000_000,
            t_ns in 0u64..20_000_000,
        ) {
            let g = Grid::new(Duration::from_nanos(step_ns));
            let c = Schedule::constant(rps);
            let t = Duration::from_nanos(t_ns);
            let (up, down) = (g.up(t), g.down(t));
            prop_assert!(down <= t && t <= up);
            if step_ns > 0 {
                prop_assert_eq!(up.as_nanos() % u128::from(step_ns), 0);
                prop_assert_eq!(down.as_nanos() % u128::from(step_ns), 0);
                prop_assert!(up - t < Duration::from_nanos(step_ns));
                prop_assert!(t - down < Duration::from_nanos(step_ns));
            } else {
                prop_assert!(up == t && down == t);
            }
            let moved_by_t = (0..).take_while(|&n| g.up(c.time(n)) <= t).count() as u64;
            prop_assert_eq!(moved_by_t, c.due_by(down));
        }
    }

    proptest! {
        /// A constant rate's times and the grid computed in 64 bits (the fast path) agree with
        /// the exact 128-bit formulas, up to rates and times where 64 bits overflow.
        #[test]
        fn constant_times_and_grid_points_match_the_exact_formulas(
            rps in prop_oneof![1u64..1_000_000, 1u64..u64::MAX],
            n in prop_oneof![0u64..10_000_000, 0u64..u64::MAX],
            step_ns in prop_oneof![1u64..20_000_000, 1u64..u64::MAX],
        ) {
            let (s, r) = (n / rps, n % rps);
            let exact = u128::from(s) * 1_000_000_000
                + u128::from(r) * 1_000_000_000 / u128::from(rps);
            let t = Schedule::constant(rps).time(n);
            prop_assert_eq!(t.as_nanos(), exact);
            let step = u128::from(step_ns);
            let g = Grid::new(Duration::from_nanos(step_ns));
            prop_assert_eq!(g.up(t), nanos(t.as_nanos().div_ceil(step).saturating_mul(step)));
            prop_assert_eq!(g.down(t), nanos(t.as_nanos() / step * step));
        }
    }
}
