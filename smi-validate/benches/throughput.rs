//! Throughput of full validation next to a bare serde-saphyr parse of the same bytes.
//!
//! `cargo bench -p smi-validate --bench throughput` — generates a stream of ≥100,000 SMI
//! documents of every kind and version (valid, cross-referencing each other), then times on one
//! thread, in rounds that run one parse and one validation side by side (median of 5 rounds,
//! wall clock and the thread's CPU time):
//! * parse: `serde_saphyr::from_multiple_with_options::<serde_json::Value>` (no budget);
//! * validate: `smi_validate::Validator` over the same bytes (all layers, cross-object rules,
//!   CEL, lints).
//!
//! Set `SMI_BENCH_DOCS` to change the corpus size, `SMI_BENCH_RUNS` the number of rounds.

use std::time::{Duration, Instant};

fn corpus(n_groups: usize) -> String {
    let mut s = String::new();
    for i in 0..n_groups {
        let ns = format!("ns{}", i % 97);
        let r = format!(
            r#"apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: routes-{i}
  namespace: {ns}
spec:
  matches:
  - name: api
    pathRegex: /api/v[0-9]+/.*
    methods: ["GET", "POST"]
  - name: metrics
    pathRegex: /metrics
    methods: ["GET"]
    headers:
    - user-agent: ".*Prometheus.*"
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata:
  name: tcp-{i}
  namespace: {ns}
spec:
  matches:
    ports: [8080, 8443]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: UDPRoute
metadata:
  name: udp-{i}
  namespace: {ns}
spec:
  matches:
    ports: [53]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata:
  name: allow-{i}
  namespace: {ns}
spec:
  destination:
    kind: ServiceAccount
    name: api-{i}
    namespace: {ns}
  rules:
  - kind: HTTPRouteGroup
    name: routes-{i}
    matches: [api, metrics]
  - kind: TCPRoute
    name: tcp-{i}
  sources:
  - kind: ServiceAccount
    name: client-{i}
    namespace: {ns}
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata:
  name: split-{i}
  namespace: {ns}
spec:
  service: web-{i}
  matches:
  - kind: HTTPRouteGroup
    name: routes-{i}
  backends:
  - service: web-{i}-v1
    weight: 900
  - service: web-{i}-v2
    weight: 100
---
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: legacy-{i}
  namespace: {ns}
spec:
  service: legacy-{i}
  backends:
  - service: legacy-{i}-v1
    weight: 500m
  - service: legacy-{i}-v2
    weight: 500m
---
apiVersion: specs.smi-spec.io/v1alpha2
kind: HTTPRouteGroup
metadata:
  name: old-routes-{i}
  namespace: {ns}
matches:
- name: all
  pathRegex: ".*"
  methods: ["*"]
---
apiVersion: access.smi-spec.io/v1alpha2
kind: TrafficTarget
metadata:
  name: old-allow-{i}
  namespace: {ns}
spec:
  destination: {{kind: ServiceAccount, name: old-api-{i}, namespace: {ns}, port: 8080}}
  rules:
  - {{kind: HTTPRouteGroup, name: old-routes-{i}}}
  sources:
  - {{kind: ServiceAccount, name: old-client-{i}, namespace: {ns}}}
---
apiVersion: access.smi-spec.io/v1alpha4
kind: IdentityBinding
metadata:
  name: id-{i}
  namespace: {ns}
spec:
  schemes:
    podLabelSelector:
      matchLabels: {{app: api-{i}}}
    spiffeIdentities: ["cluster.local/ns/{ns}/sa/api-{i}"]
---
apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTest
metadata:
  name: perf-{i}
  namespace: {ns}
spec:
  protocol: HTTP
  endpoints: ["http://web-{i}.{ns}:8080/"]
  duration: 30s
  loadModel: Closed
  connections: 4
---
"#
        );
        s.push_str(&r);
    }
    s
}

const DOCS_PER_GROUP: usize = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds on the CPU), so
/// other processes sharing the core do not count; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// (wall, cpu) seconds of `f`; cpu is wall where the CPU clock is unavailable.
fn time<T>(f: impl FnOnce() -> T) -> (f64, f64, T) {
    let (w, c) = (Instant::now(), cpu_time());
    let out = f();
    let wall = w.elapsed().as_secs_f64();
    let cpu = match (c, cpu_time()) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => wall,
    };
    (wall, cpu, out)
}

fn main() {
    let docs: usize = std::env::var("SMI_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("SMI_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let groups = docs.div_ceil(DOCS_PER_GROUP);
    let text = corpus(groups);
    let n = groups * DOCS_PER_GROUP;
    let mb = text.len() as f64 / 1e6;
    println!("corpus: {n} documents, {mb:.1} MB, {runs} rounds");

    let mut opts = serde_saphyr::Options::default();
    opts.budget = None;
    // Parse and validate alternate within each round, so both see the same machine load.
    let (mut parse, mut validate, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut parse_cpu, mut validate_cpu, mut ratios_cpu) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for round in 0..runs {
        let (pw, pc, v) = time(|| {
            serde_saphyr::from_multiple_with_options::<serde_json::Value>(&text, opts.clone())
                .expect("parse")
        });
        assert_eq!(v.len(), n);
        drop(v);
        let (vw, vc, r) = time(|| {
            let mut v = smi_validate::Validator::new(smi_validate::Options::default());
            v.validate_str("corpus.yaml", &text);
            v.finish()
        });
        println!(
            "round {round}: parse {pw:.3} s (cpu {pc:.3}), validate {vw:.3} s (cpu {vc:.3}), ratio {:.2} (cpu {:.2})",
            vw / pw,
            vc / pc
        );
        parse.push(pw);
        validate.push(vw);
        ratios.push(vw / pw);
        parse_cpu.push(pc);
        validate_cpu.push(vc);
        ratios_cpu.push(vc / pc);
        last = Some(r);
    }
    let r = last.expect("ran");
    assert_eq!(r.summary.smi_objects, n, "{:?}", r.summary);
    assert!(
        r.is_valid(),
        "{:#?}",
        &r.diagnostics[..r.diagnostics.len().min(5)]
    );

    let report = |name: &str, wall: f64, cpu: f64| {
        println!(
            "{name:>9}: median {wall:.3} s  {:>9.0} docs/s  {:>6.1} MB/s   (cpu {cpu:.3} s  {:>9.0} docs/s  {:>6.1} MB/s)",
            n as f64 / wall,
            mb / wall,
            n as f64 / cpu,
            mb / cpu
        );
    };
    report("parse", median(parse), median(parse_cpu));
    report("validate", median(validate), median(validate_cpu));
    println!(
        "ratio validate/parse (median of the per-round ratios): {:.2}  (cpu {:.2})",
        median(ratios),
        median(ratios_cpu)
    );
}
