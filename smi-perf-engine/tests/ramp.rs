//! Ramped arrival rates (issue 14): `Linear` and `Step` schedules run against the embedded
//! target, per-stage results, shard splitting and the exact merge of ramped shards. Counts and
//! structure only: no assertion depends on timing.

#[path = "common/checked_run.rs"]
mod checked_run;
use checked_run::run_checked;

use std::time::{Duration, SystemTime};

use smi_perf_engine::serve::{ServeOptions, start};
use smi_perf_engine::shard::{Shard, ShardRun};
use smi_perf_engine::{
    HistogramSettings, Outcome, Recorder, Registry, RunContext, RunStats, build_result,
    decode_histogram, merge, report, run_spec_with,
};
use smi_types::perf::{
    LoadModel, PerformanceTestResult, PerformanceTestSpec, RateShape, RateStep, StageResult,
};

fn step_spec(url: &str) -> PerformanceTestSpec {
    let mut spec = PerformanceTestSpec::http(url)
        .load_model(LoadModel::Open)
        .connections(4);
    spec.rate_shape = Some(RateShape::Step);
    spec.steps = vec![
        RateStep::new(200, "500ms"),
        RateStep::new(0, "200ms"),
        RateStep::new(400, "500ms"),
    ];
    spec
}

/// Each stage holds `scheduled = total + dropped + cut off`, and the stages add up to the run.
fn check_stages_add_up(r: &PerformanceTestResult) {
    let x = &r.record;
    let sum = |f: fn(&StageResult) -> i64| x.stages.iter().map(f).sum::<i64>();
    for (i, s) in x.stages.iter().enumerate() {
        assert_eq!(
            s.scheduled,
            s.requests_total + s.dropped_or_late + s.requests_cut_off,
            "stage {i}: {s:?}"
        );
        assert_eq!(s.requests_total, s.requests_succeeded + s.requests_failed);
        assert_eq!(s.latency.count, s.requests_succeeded, "stage {i}");
        let h = decode_histogram(s.histogram.as_ref().unwrap()).unwrap();
        assert_eq!(h.len() as i64, s.requests_succeeded);
    }
    assert_eq!(sum(|s| s.requests_total), x.requests_total);
    assert_eq!(sum(|s| s.requests_succeeded), x.requests_succeeded);
    assert_eq!(sum(|s| s.dropped_or_late), x.dropped_or_late);
    assert_eq!(sum(|s| s.requests_cut_off), x.requests_cut_off);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_schedule_runs_stage_by_stage() {
    let s = start(ServeOptions::default()).await.unwrap();
    let spec = step_spec(&format!("http://{}/", s.http_addr));
    let r = run_checked(&spec, RunContext::default(), Duration::from_secs(10)).await;
    let x = &r.record;
    let shape: Vec<_> = x
        .stages
        .iter()
        .map(|s| {
            (
                s.start_millis,
                s.duration_millis,
                s.from_rps,
                s.to_rps,
                s.scheduled,
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (0, 500, 200, 200, 100),
            (500, 200, 0, 0, 0),
            (700, 500, 400, 400, 200)
        ]
    );
    check_stages_add_up(&r);
    // The run's total is exactly the schedule's: every scheduled send is accounted for once.
    assert_eq!(
        x.requests_total + x.dropped_or_late + x.requests_cut_off,
        300
    );
    let text = report::summary(&r);
    assert!(text.contains("stages (by intended send time"), "{text}");
    let html = report::html(&r, Some(&spec));
    assert!(html.contains("<table id=\"stages\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linear_ramp_schedules_the_integral() {
    let s = start(ServeOptions::default()).await.unwrap();
    let mut spec = PerformanceTestSpec::http(format!("http://{}/", s.http_addr))
        .load_model(LoadModel::Open)
        .connections(3)
        .duration("1s");
    spec.rate_shape = Some(RateShape::Linear);
    spec.rps = Some(100);
    spec.ramp_to = Some(500);
    let r = run_spec_with(&Registry::with_builtins(), &spec, RunContext::default())
        .await
        .unwrap();
    let x = &r.record;
    assert_eq!(x.stages.len(), 1);
    // (100 + 500) / 2 × 1 s
    assert_eq!(x.stages[0].scheduled, 300);
    assert_eq!((x.stages[0].from_rps, x.stages[0].to_rps), (100, 500));
    check_stages_add_up(&r);
}

#[test]
fn shards_split_every_stage() {
    let mut spec = step_spec("http://127.0.0.1:1/");
    spec.steps[0].rps = 7;
    spec.connections = Some(3);
    let shards: Vec<PerformanceTestSpec> = (0..3)
        .map(|i| Shard::new(i, 3).unwrap().apply(&spec).unwrap())
        .collect();
    for (s, step) in spec.steps.iter().enumerate() {
        let parts: Vec<i64> = shards.iter().map(|x| x.steps[s].rps).collect();
        assert_eq!(parts.iter().sum::<i64>(), step.rps, "stage {s}: {parts:?}");
        assert!(shards.iter().all(|x| x.steps[s].duration == step.duration));
    }
    assert_eq!(shards[0].steps[0].rps, 3);
    assert_eq!(shards[2].steps[2].rps, 133);
    // A rate some shard would get no share of is refused for the whole test.
    let mut thin = spec.clone();
    thin.steps[0].rps = 2;
    assert!(Shard::new(0, 3).unwrap().apply(&thin).is_err());
}

/// A shard's result from synthetic per-stage data: stage `s` gets `lat[s]` successes.
fn synthetic_shard(
    spec: &PerformanceTestSpec,
    index: u32,
    lat: &[Vec<u64>],
) -> PerformanceTestResult {
    let shard_spec = Shard::new(index, 2).unwrap().apply(spec).unwrap();
    let settings = HistogramSettings::default();
    let mut rec = Recorder::new(settings, true).with_stages(settings, lat.len());
    for (s, values) in lat.iter().enumerate() {
        for v in values {
            let o = Outcome::Response {
                status: 200,
                sent: 1,
                received: 1,
            };
            let d = Duration::from_micros(*v);
            rec.record(o, d, Some(d / 2));
            rec.stages[s].record(o, d, Some(d / 2));
        }
    }
    // One dropped send in the last stage.
    rec.dropped += 1;
    rec.stages[lat.len() - 1].dropped += 1;
    let now = SystemTime::now();
    let stats = RunStats {
        recorder: rec,
        started_at: now,
        ended_at: now + Duration::from_millis(1200),
        measured: Duration::from_millis(1200),
        lanes: 2,
    };
    let mut r = build_result("t", "t", &shard_spec, &stats, "builtin").unwrap();
    ShardRun {
        shard: Shard::new(index, 2).unwrap(),
        start_at: None,
        run_id: Some("run".into()),
    }
    .stamp(&mut r);
    r
}

#[test]
fn ramped_shards_merge_exactly() {
    let spec = step_spec("http://127.0.0.1:1/");
    let a = synthetic_shard(
        &spec,
        0,
        &[
            (1..=100).collect(),
            vec![],
            (1..=200).map(|x| x * 3).collect(),
        ],
    );
    let b = synthetic_shard(
        &spec,
        1,
        &[
            (1..=100).map(|x| x * 7).collect(),
            vec![],
            (1..=199).collect(),
        ],
    );
    assert_eq!(a.record.stages[0].from_rps, 100);
    let m = merge(&[a.clone(), b.clone()]).unwrap();
    let st = &m.record.stages;
    assert_eq!(st.len(), 3);
    // Requested rates add back to the test's, the schedules to its exact counts.
    assert_eq!(
        st.iter()
            .map(|s| (s.from_rps, s.scheduled))
            .collect::<Vec<_>>(),
        vec![(200, 100), (0, 0), (400, 200)]
    );
    assert_eq!(st[0].requests_succeeded, 200);
    assert_eq!(st[2].requests_succeeded, 399);
    assert_eq!(st[2].dropped_or_late, 2);
    assert_eq!(st[0].actual_rps, "400.000");
    // Histograms merge exactly: the merged stage histogram is the sum of the shards'.
    for s in [0, 2] {
        let mut want = decode_histogram(a.record.stages[s].histogram.as_ref().unwrap()).unwrap();
        want.add(decode_histogram(b.record.stages[s].histogram.as_ref().unwrap()).unwrap())
            .unwrap();
        let got = decode_histogram(st[s].histogram.as_ref().unwrap()).unwrap();
        assert_eq!(got, want, "stage {s}");
        assert_eq!(st[s].latency.max_micros as u64, want.max());
        assert!(st[s].uncorrected_histogram.is_some());
    }
    // Misaligned stages (another schedule) do not merge.
    let mut other = b.clone();
    other.record.stages[1].duration_millis = 300;
    let e = merge(&[a.clone(), other]).unwrap_err().to_string();
    assert!(e.contains("other stages"), "{e}");
    let mut fewer = b;
    fewer.record.stages.pop();
    assert!(merge(&[a, fewer]).is_err());
}
