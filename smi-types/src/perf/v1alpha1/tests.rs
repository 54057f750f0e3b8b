use super::*;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube_core::Resource;

fn base() -> PerformanceTestSpec {
    PerformanceTestSpec::http("http://127.0.0.1:8080/")
}

fn paths(spec: &PerformanceTestSpec) -> Vec<String> {
    spec.validate().into_iter().map(|e| e.path).collect()
}

#[track_caller]
fn ok(spec: PerformanceTestSpec) {
    assert_eq!(spec.validate(), vec![], "{spec:?}");
}

#[track_caller]
fn bad(spec: PerformanceTestSpec, path: &str) {
    let p = paths(&spec);
    assert!(
        p.iter().any(|x| x == path),
        "expected an error at {path}, got {p:?}"
    );
}

#[test]
fn duration_parse() {
    for (s, ms) in [
        ("0s", 0),
        ("30s", 30_000),
        ("1m30s", 90_000),
        ("250ms", 250),
        ("1h2m3s4ms", 3_723_004),
        ("99999ms", 99_999),
    ] {
        assert_eq!(
            Duration::parse(s).unwrap().to_std().unwrap(),
            std::time::Duration::from_millis(ms),
            "{s}"
        );
    }
    for s in [
        "",
        "1",
        "s",
        "1.5s",
        "100000s",
        "1d",
        "-1s",
        "1s1s1s1s1s",
        "1 s",
        "1S",
    ] {
        assert!(Duration::parse(s).is_err(), "{s}");
    }
    for ms in [0u64, 1, 999, 1000, 61_001, 3_600_000, 7_384_005] {
        let d = Duration::from(std::time::Duration::from_millis(ms));
        assert_eq!(d.to_std().unwrap().as_millis() as u64, ms, "{d}");
    }
}

// Rule 1
#[test]
fn rule1_duration_and_requests() {
    ok(base().duration("10s"));
    ok(base().requests(100));
    ok(base()); // default 30s
    bad(base().duration("10x"), "spec.duration");
    bad(base().duration("0s"), "spec.duration");
    let mut both = base().duration("10s");
    both.requests = Some(10);
    bad(both, "spec.requests");
    bad(base().requests(0), "spec.requests");
}

// Rule 2
#[test]
fn rule2_warmup_and_timeout() {
    ok(base().duration("10s").warmup("2s"));
    bad(base().duration("10s").warmup("10s"), "spec.warmup");
    bad(base().warmup("1.5s"), "spec.warmup");
    let t = |d: &str| RequestSpec {
        timeout: Some(Duration::new_unchecked(d)),
        ..Default::default()
    };
    ok(base().duration("10s").request(t("10s")));
    bad(
        base().duration("10s").request(t("11s")),
        "spec.request.timeout",
    );
    bad(base().request(t("0s")), "spec.request.timeout");
}

// Rule 3
#[test]
fn rule3_load_model() {
    ok(base()
        .load_model(LoadModel::Open)
        .rps(100)
        .connections(5)
        .max_in_flight(5));
    bad(base().load_model(LoadModel::Open), "spec.rps");
    bad(
        base()
            .load_model(LoadModel::Open)
            .rps(100)
            .connections(5)
            .max_in_flight(4),
        "spec.maxInFlight",
    );
    ok(base().rps(0));
    bad(base().rps(-1), "spec.rps");
    bad(base().rps(MAX_RPS + 1), "spec.rps");
}

// Rule 4
#[test]
fn rule4_connections_threads_streams() {
    ok(base().connections(100).threads(2));
    bad(base().connections(0), "spec.connections");
    bad(base().connections(MAX_CONNECTIONS + 1), "spec.connections");
    bad(base().threads(0), "spec.threads");
    ok(PerformanceTestSpec::http2("http://127.0.0.1:8080/").streams_per_connection(10));
    bad(
        base().streams_per_connection(10),
        "spec.streamsPerConnection",
    );
    bad(
        base().streams_per_connection(0),
        "spec.streamsPerConnection",
    );
}

// Rule 5
#[test]
fn rule5_endpoints() {
    ok(base().endpoint("https://[::1]:8443/x?y=1"));
    ok(PerformanceTestSpec::tcp("tcp://127.0.0.1:9000"));
    ok(PerformanceTestSpec::grpc("127.0.0.1:9000"));
    ok(PerformanceTestSpec::grpc("grpc://svc.ns:9000"));
    ok(PerformanceTestSpec::new(
        Protocol::Udp,
        "udp://127.0.0.1:53",
    ));
    bad(base().endpoint("ftp://127.0.0.1/"), "spec.endpoints[1]");
    bad(base().endpoint("http://:80/"), "spec.endpoints[1]");
    bad(base().endpoint("http://127.0.0.1:0/"), "spec.endpoints[1]");
    bad(
        base().endpoint("http://127.0.0.1:70000/"),
        "spec.endpoints[1]",
    );
    bad(base().endpoint("127.0.0.1:80"), "spec.endpoints[1]");
    bad(
        PerformanceTestSpec::tcp("tcp://127.0.0.1"),
        "spec.endpoints[0]",
    );
    bad(
        PerformanceTestSpec::tcp("http://127.0.0.1:80"),
        "spec.endpoints[0]",
    );
    let mut none = base();
    none.endpoints.clear();
    bad(none, "spec.endpoints");
    let mut many = base();
    many.endpoints = vec!["http://127.0.0.1/".into(); MAX_ENDPOINTS + 1];
    bad(many, "spec.endpoints");
}

// Rule 6
#[test]
fn rule6_percentiles() {
    ok(base().percentiles(vec![99.9, 50.0, 100.0]));
    assert_eq!(
        base().percentiles(vec![99.9, 50.0]).effective_percentiles(),
        vec![50.0, 99.9]
    );
    bad(base().percentiles(vec![0.0]), "spec.percentiles[0]");
    bad(base().percentiles(vec![100.1]), "spec.percentiles[0]");
    bad(base().percentiles(vec![50.0, 50.0]), "spec.percentiles[1]");
    bad(
        base().percentiles((1..=33).map(f64::from).collect()),
        "spec.percentiles",
    );
}

// Rule 7
#[test]
fn rule7_histogram() {
    let h = |l, h, d| HistogramSpec {
        lowest_micros: l,
        highest_micros: h,
        significant_digits: d,
    };
    ok(base().histogram(h(Some(1), Some(2), Some(5))));
    bad(
        base().histogram(h(None, None, Some(6))),
        "spec.histogram.significantDigits",
    );
    bad(
        base().histogram(h(Some(0), None, None)),
        "spec.histogram.lowestMicros",
    );
    bad(
        base().histogram(h(Some(10), Some(19), None)),
        "spec.histogram.highestMicros",
    );
}

// Rule 8
#[test]
fn rule8_request_shape() {
    let r = |f: fn(&mut RequestSpec)| {
        let mut r = RequestSpec::default();
        f(&mut r);
        base().request(r)
    };
    ok(r(|r| {
        r.headers.insert("X-Test".into(), "1".into());
        r.content_type = Some("text/plain".into());
        r.body = Some("hi".into());
    }));
    bad(
        r(|r| drop(r.headers.insert("Bad Header".into(), "1".into()))),
        "spec.request.headers[\"Bad Header\"]",
    );
    bad(
        r(|r| drop(r.headers.insert("host".into(), "x".into()))),
        "spec.request.headers[\"host\"]",
    );
    bad(
        r(|r| drop(r.headers.insert("Content-Length".into(), "1".into()))),
        "spec.request.headers[\"Content-Length\"]",
    );
    bad(
        r(|r| {
            r.headers.insert("content-type".into(), "a/b".into());
            r.content_type = Some("a/b".into());
        }),
        "spec.request.headers[\"content-type\"]",
    );
    bad(
        r(|r| {
            r.body = Some("x".into());
            r.body_from = Some(BodySource {
                config_map_key_ref: Some(KeyRef {
                    name: "c".into(),
                    key: "k".into(),
                }),
                secret_key_ref: None,
            });
        }),
        "spec.request.bodyFrom",
    );
    bad(
        r(|r| r.body = Some("x".repeat(MAX_INLINE_BODY + 1))),
        "spec.request.body",
    );
    // A body with GET is a warning, not an error.
    let get = r(|r| {
        r.method = Some("GET".into());
        r.body = Some("x".into());
    });
    ok(get.clone());
    assert_eq!(get.warnings().len(), 1);
    assert!(r(|r| r.body = Some("x".into())).warnings().is_empty()); // defaults to POST
    assert_eq!(r(|r| r.body = Some("x".into())).effective_method(), "POST");
}

// Rule 9
#[test]
fn rule9_protocol_enum() {
    let good: PerformanceTestSpec =
        serde_json::from_str(r#"{"endpoints":["http://a/"],"protocol":"HTTP2"}"#).unwrap();
    assert_eq!(good.effective_protocol(), Protocol::Http2);
    assert!(
        serde_json::from_str::<PerformanceTestSpec>(
            r#"{"endpoints":["http://a/"],"protocol":"SPDY"}"#
        )
        .is_err()
    );
    ok(base().load_generator("builtin"));
    let mut linear = base().load_model(LoadModel::Open).rps(10);
    linear.rate_shape = Some(RateShape::Linear);
    bad(linear, "spec.rampTo");
}

/// Issue 14: ramped arrival rates (k6 `ramping-arrival-rate`).
#[test]
fn rate_shapes() {
    let open = || base().load_model(LoadModel::Open).duration("10s");
    // Linear from rps to rampTo over duration; rps may be 0 (a ramp from nothing).
    let mut l = open();
    l.rate_shape = Some(RateShape::Linear);
    l.ramp_to = Some(100);
    ok(l.clone());
    assert_eq!(
        l.rate_stages().unwrap(),
        vec![RateStage {
            from_rps: 0,
            to_rps: 100,
            duration: std::time::Duration::from_secs(10)
        }]
    );
    // Closed model, requests, warm-up: refused, not ignored.
    let mut c = l.clone();
    c.load_model = Some(LoadModel::Closed);
    bad(c, "spec.rateShape");
    let mut r = l.clone();
    r.duration = None;
    r.requests = Some(10);
    bad(r, "spec.requests");
    bad(l.clone().warmup("1s"), "spec.warmup");
    // Linear with both rampTo and steps; Step with rampTo or rps; Step without steps.
    let mut both = l.clone();
    both.steps = vec![RateStep::new(5, "1s")];
    bad(both, "spec.rampTo");
    let mut st = base().load_model(LoadModel::Open);
    st.rate_shape = Some(RateShape::Step);
    bad(st.clone(), "spec.steps");
    st.steps = vec![RateStep::new(100, "2s"), RateStep::new(300, "1s500ms")];
    ok(st.clone());
    assert_eq!(
        st.run_length(),
        RunLength::Duration(std::time::Duration::from_millis(3500))
    );
    let stages = st.rate_stages().unwrap();
    assert_eq!(
        stages
            .iter()
            .map(|s| (s.from_rps, s.to_rps))
            .collect::<Vec<_>>(),
        vec![(100, 100), (300, 300)]
    );
    bad(st.clone().rps(5), "spec.rps");
    let mut st2 = st.clone();
    st2.ramp_to = Some(5);
    bad(st2, "spec.rampTo");
    // duration must equal the steps' total when set.
    ok(st.clone().duration("3s500ms"));
    bad(st.clone().duration("3s"), "spec.duration");
    // Bad steps.
    let mut b = st.clone();
    b.steps = vec![
        RateStep::new(-1, "1s"),
        RateStep::new(1, "0s"),
        RateStep::new(1, "1.5s"),
    ];
    bad(b.clone(), "spec.steps[0].rps");
    bad(b.clone(), "spec.steps[1].duration");
    bad(b, "spec.steps[2].duration");
    let mut many = st.clone();
    many.steps = vec![RateStep::new(1, "1s"); MAX_STEPS + 1];
    bad(many, "spec.steps");
    let mut zero = st.clone();
    zero.steps = vec![RateStep::new(0, "1s")];
    bad(zero, "spec.rateShape");
    // Constant takes neither.
    let mut k = open().rps(10);
    k.steps = vec![RateStep::new(1, "1s")];
    bad(k.clone(), "spec.steps");
    k.steps.clear();
    k.ramp_to = Some(3);
    bad(k, "spec.rampTo");
    // Linear stages chain from rps (k6 stages).
    let mut k6 = base().load_model(LoadModel::Open).rps(10);
    k6.rate_shape = Some(RateShape::Linear);
    k6.steps = vec![
        RateStep::new(50, "2s"),
        RateStep::new(50, "1s"),
        RateStep::new(0, "2s"),
    ];
    ok(k6.clone());
    assert_eq!(
        k6.rate_stages()
            .unwrap()
            .iter()
            .map(|s| (s.from_rps, s.to_rps, s.duration.as_secs()))
            .collect::<Vec<_>>(),
        vec![(10, 50, 2), (50, 50, 1), (50, 0, 2)]
    );
    // Wire names.
    let json = serde_json::to_value(&k6).unwrap();
    assert_eq!(json["rateShape"], "Linear");
    assert_eq!(json["steps"][1]["rps"], 50);
    assert_eq!(json["steps"][1]["duration"], "1s");
}

// Rule 10
#[test]
fn rule10_clients() {
    let c = |name: &str, share: IntOrString| ClientSpec {
        name: name.into(),
        share: Some(share),
        ..Default::default()
    };
    let mut s = base();
    s.clients = vec![
        c("a", IntOrString::String("60%".into())),
        c("b", IntOrString::String("40%".into())),
    ];
    ok(s.clone());
    s.clients[1].share = Some(IntOrString::String("30%".into()));
    bad(s.clone(), "spec.clients");
    s.clients[1].name = "a".into();
    bad(s.clone(), "spec.clients[1].name");
    let mut r = base().rps(100);
    r.clients = vec![c("a", IntOrString::Int(70)), c("b", IntOrString::Int(30))];
    ok(r.clone());
    r.clients[1].share = Some(IntOrString::Int(20));
    bad(r, "spec.clients");
}

// Rule 11
#[test]
fn rule11_thresholds() {
    use ThresholdMetric::*;
    ok(base()
        .threshold(Threshold::max(LatencyP99, "250ms"))
        .threshold(Threshold::max(ErrorRate, "0.01"))
        .threshold(Threshold::min(Rps, "900")));
    bad(
        base().threshold(Threshold::max(LatencyP99, "0.25")),
        "spec.thresholds[0].max",
    );
    bad(
        base().threshold(Threshold::max(ErrorRate, "1.5")),
        "spec.thresholds[0].max",
    );
    bad(
        base().threshold(Threshold {
            metric: Rps,
            max: None,
            min: None,
        }),
        "spec.thresholds[0]",
    );
    assert!(serde_json::from_str::<Threshold>(r#"{"metric":"latencyP42","max":"1s"}"#).is_err());
}

#[test]
fn builder_and_defaults() {
    let s = PerformanceTestSpec::http("http://127.0.0.1:8080/")
        .rps(1000)
        .duration("10s");
    assert_eq!(
        s.run_length(),
        RunLength::Duration(std::time::Duration::from_secs(10))
    );
    assert_eq!(s.effective_load_model(), LoadModel::Closed);
    assert_eq!(s.effective_timeout(), std::time::Duration::from_secs(10));
    assert_eq!(s.effective_histogram(), (1, 60_000_000, 3));
    assert_eq!(s.effective_percentiles(), DEFAULT_PERCENTILES.to_vec());
    let t = PerformanceTest::new("x", s);
    assert_eq!(
        PerformanceTest::url_path(&(), Some("ns")),
        "/apis/perf.smi-spec.io/v1alpha1/namespaces/ns/performancetests"
    );
    assert_eq!(PerformanceTestResult::plural(&()), "performancetestresults");
    assert_eq!(t.kind, "PerformanceTest");
}

const MANIFEST: &str = r#"apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTest
metadata:
  name: checkout
  namespace: perf
spec:
  protocol: HTTP2
  endpoints:
  - http://127.0.0.1:8080/checkout
  duration: 1m30s
  warmup: 5s
  loadModel: Open
  rps: 2000
  connections: 16
  streamsPerConnection: 4
  request:
    method: POST
    headers:
      x-user: perf
    body: '{"sku": 1}'
    contentType: application/json
    timeout: 2s
  percentiles:
  - 50
  - 99
  - 99.9
  histogram:
    significantDigits: 3
  thresholds:
  - metric: latencyP99
    max: 250ms
  - metric: errorRate
    max: '0.01'
  clients:
  - name: a
    share: 50%
  - name: b
    share: 50%
status:
  phase: Running
  actualRps: '1999.5'
  p99Micros: 1234
"#;

#[test]
fn yaml_round_trip_keeps_exactly_what_was_written() {
    let t: PerformanceTest = serde_saphyr::from_str(MANIFEST).unwrap();
    assert!(t.spec.validate().is_empty(), "{:?}", t.spec.validate());
    assert_eq!(
        t.spec.clients[0].share,
        Some(IntOrString::String("50%".into()))
    );
    let yaml = serde_saphyr::to_string(&t).unwrap();
    let back: PerformanceTest = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, t);
    // Defaulted fields the manifest did not write are not emitted.
    let json = serde_json::to_value(&t).unwrap();
    assert!(json["spec"].get("loadGenerator").is_none());
    assert!(json["spec"].get("maxInFlight").is_none());
    assert_eq!(json["spec"]["rps"], 2000);
    let minimal: PerformanceTest = serde_json::from_str(r#"{"apiVersion":"perf.smi-spec.io/v1alpha1","kind":"PerformanceTest","metadata":{"name":"m"},"spec":{"endpoints":["http://a/"]}}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&minimal).unwrap(),
        r#"{"apiVersion":"perf.smi-spec.io/v1alpha1","kind":"PerformanceTest","metadata":{"name":"m"},"spec":{"endpoints":["http://a/"]}}"#
    );
}

#[test]
fn result_json_round_trip_and_consistency() {
    let mut r = PerformanceTestResult::new("checkout-1", ResultRecord::default());
    r.record.requests_total = 3;
    r.record.requests_succeeded = 2;
    r.record.requests_failed = 1;
    r.record.status_codes = [("200".to_string(), 2), ("error".to_string(), 1)].into();
    r.record.errors = [("timeout".to_string(), 1)].into();
    r.record.latency = LatencySummary {
        count: 3,
        min_micros: 10,
        mean_micros: 20,
        stddev_micros: 5,
        max_micros: 30,
        percentiles: vec![
            PercentileValue {
                percentile: "50".into(),
                value_micros: 20,
            },
            PercentileValue {
                percentile: "99.9".into(),
                value_micros: 30,
            },
        ],
    };
    r.record.histogram = Some(EncodedHistogram {
        encoding: HISTOGRAM_ENCODING.into(),
        data: "AAAA".into(),
    });
    assert!(
        r.consistency_errors().is_empty(),
        "{:?}",
        r.consistency_errors()
    );
    assert_eq!(r.record.latency.percentile(99.9), Some(30));
    let json = serde_json::to_string(&r).unwrap();
    let back: PerformanceTestResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    let yaml = serde_saphyr::to_string(&r).unwrap();
    assert_eq!(
        serde_saphyr::from_str::<PerformanceTestResult>(&yaml).unwrap(),
        r
    );
    r.record.requests_failed = 0;
    assert!(!r.consistency_errors().is_empty());
}

#[test]
fn crds_are_structural_and_carry_rules() {
    let crds = crds();
    assert_eq!(crds.len(), 2);
    let pt = serde_json::to_value(&crds[0]).unwrap();
    let v = &pt["spec"]["versions"][0];
    let schema = &v["schema"]["openAPIV3Schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(pt["spec"]["names"]["shortNames"][0], "pt");
    assert_eq!(pt["spec"]["scope"], "Namespaced");
    assert!(v["subresources"]["status"].is_object());
    let cols: Vec<_> = v["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(cols, ["Phase", "RPS", "P99", "Age"]);
    let text = schema.to_string();
    for forbidden in ["$schema", "$ref", "definitions", "anyOf", "oneOf", "allOf"] {
        assert!(!text.contains(forbidden), "{forbidden} in schema");
    }
    let spec = &schema["properties"]["spec"];
    assert_eq!(spec["properties"]["duration"]["pattern"], DURATION_PATTERN);
    assert_eq!(spec["properties"]["connections"]["maximum"], 100_000.0);
    let rules: Vec<_> = spec["x-kubernetes-validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&RULE_OPEN_RPS));
    assert!(rules.contains(&RULE_DURATION_XOR_REQUESTS));
    assert!(schema["properties"]["metadata"].get("default").is_none());
    let ptr = serde_json::to_value(&crds[1]).unwrap();
    assert_eq!(ptr["spec"]["names"]["shortNames"][0], "ptr");
    assert!(ptr["spec"]["versions"][0]["subresources"].is_null());
}

#[test]
fn parallelism_rules() {
    ok(base().connections(3).requests(3));
    ok(PerformanceTestSpec {
        parallelism: Some(1),
        ..base()
    });
    ok(PerformanceTestSpec {
        parallelism: Some(3),
        ..base().connections(3).load_model(LoadModel::Open).rps(3)
    });
    bad(
        PerformanceTestSpec {
            parallelism: Some(0),
            ..base()
        },
        "spec.parallelism",
    );
    bad(
        PerformanceTestSpec {
            parallelism: Some(MAX_PARALLELISM + 1),
            ..base().connections(MAX_CONNECTIONS)
        },
        "spec.parallelism",
    );
    // every shard needs a connection, a share of a positive rate, and a request
    bad(
        PerformanceTestSpec {
            parallelism: Some(2),
            ..base()
        },
        "spec.parallelism",
    );
    bad(
        PerformanceTestSpec {
            parallelism: Some(4),
            ..base().connections(4).load_model(LoadModel::Open).rps(3)
        },
        "spec.parallelism",
    );
    bad(
        PerformanceTestSpec {
            parallelism: Some(4),
            ..base().connections(4).requests(3)
        },
        "spec.parallelism",
    );
    // Closed with rps 0 (unlimited) splits fine
    ok(PerformanceTestSpec {
        parallelism: Some(4),
        ..base().connections(4).rps(0)
    });
}

#[test]
fn parallelism_and_start_at_round_trip_and_reach_the_crd() {
    let yaml = "endpoints: [\"http://127.0.0.1/\"]\nconnections: 4\nparallelism: 4\nstartAt: 2026-11-30T18:00:00Z\n";
    let spec: PerformanceTestSpec = serde_saphyr::from_str(yaml).unwrap();
    assert_eq!(spec.parallelism, Some(4));
    assert_eq!(
        spec.start_at.as_ref().unwrap().0.to_string(),
        "2026-11-30T18:00:00Z"
    );
    let back = serde_json::to_value(&spec).unwrap();
    assert_eq!(back["startAt"], "2026-11-30T18:00:00Z");
    let crd = serde_json::to_value(&crds()[0]).unwrap();
    let props = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(
        props["properties"]["parallelism"]["maximum"],
        f64::from(MAX_PARALLELISM)
    );
    assert_eq!(props["properties"]["parallelism"]["minimum"], 1.0);
    assert_eq!(props["properties"]["startAt"]["format"], "date-time");
    let rules: Vec<_> = props["x-kubernetes-validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    for r in [
        RULE_PARALLELISM_CONNECTIONS,
        RULE_PARALLELISM_RPS,
        RULE_PARALLELISM_REQUESTS,
    ] {
        assert!(rules.contains(&r), "{r}");
    }
    let ptr = serde_json::to_value(&crds()[1]).unwrap();
    let shard = &ptr["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["shard"];
    assert_eq!(
        shard["properties"]["count"]["maximum"],
        f64::from(MAX_PARALLELISM)
    );
}

/// Issue 19: `--streams 100000000` allocated 7.7 GB, `--threads 100000` panicked in tokio,
/// `--threads 1000000000` tried 16 GB: every count that sizes memory has a ceiling, checked
/// whether it comes from a manifest or a flag.
#[test]
fn counts_that_size_memory_have_ceilings() {
    let base = || PerformanceTestSpec::http("http://127.0.0.1/").protocol(Protocol::Http2);
    let paths = |s: PerformanceTestSpec| {
        s.validate()
            .into_iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut s = base();
    s.streams_per_connection = Some(100_000_000);
    assert!(paths(s).contains("spec.streamsPerConnection: must be in [1, 1000]"));
    let mut s = base().connections(1000);
    s.streams_per_connection = Some(1000);
    assert!(paths(s).contains("connections × streamsPerConnection must be at most 100000"));
    let mut s = base().connections(100);
    s.streams_per_connection = Some(1000);
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    for t in [0, 1025, 100_000, 1_000_000_000] {
        let mut s = base();
        s.threads = Some(t);
        assert!(
            paths(s).contains("spec.threads: must be in [1, 1024]"),
            "{t}"
        );
    }
    let mut s = base();
    s.max_in_flight = Some(i32::MAX);
    assert!(paths(s).contains("spec.maxInFlight: must be in [1, 10000000]"));
    let mut s = base();
    s.histogram = Some(HistogramSpec {
        highest_micros: Some(i64::MAX),
        ..Default::default()
    });
    assert!(paths(s).contains("spec.histogram.highestMicros: must be at most 3600000000"));
}

/// The bounds the CRD carries for the API server's CEL cost estimate are checked by `validate`
/// too, at the same limits, so the types and the server agree.
#[test]
fn crd_bounds_are_validated_and_emitted() {
    let long = format!("http://h/{}", "a".repeat(MAX_ENDPOINT_LENGTH - 9));
    assert_eq!(long.len(), MAX_ENDPOINT_LENGTH);
    ok(PerformanceTestSpec::http(long.clone()));
    bad(
        PerformanceTestSpec::http(format!("{long}a")),
        "spec.endpoints[0]",
    );
    let t = Threshold::max(ThresholdMetric::Rps, "1");
    let mut spec = base();
    spec.thresholds = vec![t.clone(); MAX_THRESHOLDS];
    ok(spec.clone());
    spec.thresholds.push(t);
    bad(spec, "spec.thresholds");
    let limit = format!("0.{}", "1".repeat(MAX_LIMIT_LENGTH - 2));
    ok(base().threshold(Threshold::max(ThresholdMetric::ErrorRate, limit.clone())));
    bad(
        base().threshold(Threshold::max(
            ThresholdMetric::ErrorRate,
            format!("{limit}1"),
        )),
        "spec.thresholds[0].max",
    );
    let headers = |n: usize| RequestSpec {
        headers: (0..n).map(|i| (format!("x-h{i}"), "v".into())).collect(),
        ..Default::default()
    };
    ok(base().request(headers(MAX_HEADERS)));
    bad(
        base().request(headers(MAX_HEADERS + 1)),
        "spec.request.headers",
    );
    let mut spec = base();
    spec.clients = (0..=MAX_CLIENTS)
        .map(|i| ClientSpec {
            name: format!("c{i}"),
            share: Some(IntOrString::Int(0)),
            ..Default::default()
        })
        .collect();
    bad(spec, "spec.clients");

    let crd = serde_json::to_value(&crds()[0]).unwrap();
    let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    assert_eq!(spec["endpoints"]["items"]["maxLength"], MAX_ENDPOINT_LENGTH);
    assert_eq!(spec["thresholds"]["maxItems"], MAX_THRESHOLDS);
    assert_eq!(
        spec["thresholds"]["items"]["properties"]["max"]["maxLength"],
        MAX_LIMIT_LENGTH
    );
    assert_eq!(
        spec["thresholds"]["items"]["properties"]["min"]["maxLength"],
        MAX_LIMIT_LENGTH
    );
    assert_eq!(
        spec["request"]["properties"]["headers"]["maxProperties"],
        MAX_HEADERS
    );
    assert_eq!(spec["clients"]["maxItems"], MAX_CLIENTS);
    assert_eq!(spec["duration"]["maxLength"], MAX_DURATION_LENGTH);
    // the root metadata carries nothing but its type
    let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(
        root["properties"]["metadata"],
        serde_json::json!({"type": "object"})
    );
}
