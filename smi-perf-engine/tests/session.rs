//! `Session`: the whole run as `smi-perf run` does it, against the embedded target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smi_perf_engine::shard::{Shard, ShardRun};
use smi_perf_engine::{Error, Event, Session};
use smi_types::perf::{PerformanceTest, PerformanceTestSpec};

fn test(spec: PerformanceTestSpec) -> PerformanceTest {
    let mut t = PerformanceTest::new("session", spec);
    t.metadata.namespace = Some("perf".into());
    t
}

#[test]
fn serves_the_target_reports_events_in_order_and_returns_the_result() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let done = Session::new(test(
        PerformanceTestSpec::http("http://example.invalid:8080/ping")
            .connections(2)
            .requests(300),
    ))
    .serve_target()
    .on_event(Duration::from_millis(5), move |e| {
        let what = match e {
            Event::TargetStarted(s) => format!("target {}", s.http_addr),
            Event::Progress(p) => format!("progress {}", p.requests),
            Event::Finished => "finished".to_owned(),
            other => format!("{other:?}"),
        };
        log.lock().unwrap().push(what);
    })
    .run_blocking()
    .unwrap();
    let r = &done.result.record;
    assert_eq!(r.requests_total, 300, "{r:?}");
    assert_eq!(r.requests_succeeded, 300, "{r:?}");
    assert_eq!(done.result.metadata.name.as_deref(), Some("session"));
    assert_eq!(done.result.metadata.namespace.as_deref(), Some("perf"));
    // The spec that ran points at the embedded target, path kept.
    let seen = seen.lock().unwrap();
    let target = seen[0]
        .strip_prefix("target ")
        .expect("the target comes first");
    assert_eq!(done.spec.endpoints, [format!("http://{target}/ping")]);
    assert_eq!(seen.last().map(String::as_str), Some("finished"));
    assert_eq!(seen.iter().filter(|e| *e == "finished").count(), 1);
    assert!(
        seen[1..seen.len() - 1]
            .iter()
            .all(|e| e.starts_with("progress ")),
        "{seen:?}"
    );
}

#[test]
fn runs_a_shard_share_and_stamps_the_result() {
    let spec = PerformanceTestSpec::http("http://127.0.0.1:1/")
        .connections(2)
        .requests(301);
    let run = ShardRun {
        shard: Shard::new(0, 2).unwrap(),
        start_at: None,
        run_id: Some("run-1".into()),
    };
    let session = Session::new(test(spec)).serve_target().shard(run);
    // check() returns the share this process runs: 151 of 301 (the first shard gets the extra one).
    assert_eq!(session.check().unwrap().requests, Some(151));
    let done = session.run_blocking().unwrap();
    let r = &done.result.record;
    assert_eq!(r.requests_total, 151, "{r:?}");
    let shard = r.shard.as_ref().expect("stamped");
    assert_eq!((shard.index, shard.count), (0, 2));
    assert_eq!(shard.run_id.as_deref(), Some("run-1"));
    assert_eq!(
        done.result.metadata.name.as_deref(),
        Some("session-shard-0")
    );
}

#[test]
fn check_refuses_before_anything_starts() {
    let spec = || {
        PerformanceTestSpec::http("http://127.0.0.1:1/")
            .connections(2)
            .duration("1s")
    };
    let err = Session::new(test(spec()))
        .interval(Duration::from_millis(1))
        .check()
        .unwrap_err();
    assert!(matches!(err, Error::Interval(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("time-series interval: "),
        "{err}"
    );

    let late = ShardRun {
        shard: Shard::new(1, 2).unwrap(),
        start_at: Some(std::time::SystemTime::now() - Duration::from_secs(3600)),
        run_id: None,
    };
    let err = Session::new(test(spec())).shard(late).check().unwrap_err();
    assert!(matches!(err, Error::Shard(_)), "{err:?}");

    let too_big = bytes::Bytes::from(vec![0u8; smi_perf_engine::MAX_BODY + 1]);
    let err = Session::new(test(spec()))
        .body(too_big)
        .check()
        .unwrap_err();
    assert!(matches!(err, Error::Request(_)), "{err:?}");
    assert!(err.to_string().contains("16 MiB"), "{err}");
}
