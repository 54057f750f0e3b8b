//! Constructors, chained setters and `effective_*` accessors (defaults applied) of
//! [`PerformanceTestSpec`].

use super::*;

impl PerformanceTestSpec {
    /// A test of `protocol` against one endpoint; every other field unset (defaults apply).
    pub fn new(protocol: Protocol, endpoint: impl Into<String>) -> Self {
        PerformanceTestSpec {
            protocol: Some(protocol),
            endpoints: vec![endpoint.into()],
            ..Default::default()
        }
    }
    /// HTTP/1.1 test; `protocol` is left unset since `HTTP` is the default.
    pub fn http(endpoint: impl Into<String>) -> Self {
        PerformanceTestSpec {
            endpoints: vec![endpoint.into()],
            ..Default::default()
        }
    }
    /// HTTP/2 test (h2c for `http://`, ALPN for `https://`).
    pub fn http2(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Http2, endpoint)
    }
    /// gRPC test.
    pub fn grpc(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Grpc, endpoint)
    }
    /// TCP test against `tcp://host:port`.
    pub fn tcp(endpoint: impl Into<String>) -> Self {
        Self::new(Protocol::Tcp, endpoint)
    }

    /// Adds an endpoint.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints.push(url.into());
        self
    }
    /// Sets `protocol`.
    pub fn protocol(mut self, p: Protocol) -> Self {
        self.protocol = Some(p);
        self
    }
    /// Sets `loadGenerator`.
    pub fn load_generator(mut self, name: impl Into<String>) -> Self {
        self.load_generator = Some(name.into());
        self
    }
    /// Sets `duration` (GEP-2257; checked by [`validate`](Self::validate)) and clears `requests`.
    pub fn duration(mut self, d: impl Into<String>) -> Self {
        self.duration = Some(Duration::new_unchecked(d));
        self.requests = None;
        self
    }
    /// Sets `requests` and clears `duration`.
    pub fn requests(mut self, n: i64) -> Self {
        self.requests = Some(n);
        self.duration = None;
        self
    }
    /// Sets `warmup`.
    pub fn warmup(mut self, d: impl Into<String>) -> Self {
        self.warmup = Some(Duration::new_unchecked(d));
        self
    }
    /// Sets `loadModel`.
    pub fn load_model(mut self, m: LoadModel) -> Self {
        self.load_model = Some(m);
        self
    }
    /// Sets `rps`.
    pub fn rps(mut self, rps: i64) -> Self {
        self.rps = Some(rps);
        self
    }
    /// Sets `connections`.
    pub fn connections(mut self, n: i32) -> Self {
        self.connections = Some(n);
        self
    }
    /// Sets `maxInFlight`.
    pub fn max_in_flight(mut self, n: i32) -> Self {
        self.max_in_flight = Some(n);
        self
    }
    /// Sets `streamsPerConnection`.
    pub fn streams_per_connection(mut self, n: i32) -> Self {
        self.streams_per_connection = Some(n);
        self
    }
    /// Sets `threads`.
    pub fn threads(mut self, n: i32) -> Self {
        self.threads = Some(n);
        self
    }
    /// Sets `request`.
    pub fn request(mut self, r: RequestSpec) -> Self {
        self.request = Some(r);
        self
    }
    /// Sets `percentiles`.
    pub fn percentiles(mut self, p: Vec<f64>) -> Self {
        self.percentiles = Some(p);
        self
    }
    /// Sets `histogram`.
    pub fn histogram(mut self, h: HistogramSpec) -> Self {
        self.histogram = Some(h);
        self
    }
    /// Adds a threshold.
    pub fn threshold(mut self, t: Threshold) -> Self {
        self.thresholds.push(t);
        self
    }

    /// `protocol` with its default.
    pub fn effective_protocol(&self) -> Protocol {
        self.protocol.unwrap_or_default()
    }
    /// `loadModel` with its default.
    pub fn effective_load_model(&self) -> LoadModel {
        self.load_model.unwrap_or_default()
    }
    /// `loadGenerator` with its default `"builtin"`.
    pub fn effective_load_generator(&self) -> &str {
        self.load_generator.as_deref().unwrap_or("builtin")
    }
    /// `requests`, else `duration` (default 30 s). An invalid duration falls back to 30 s; call
    /// [`validate`](Self::validate) first.
    pub fn run_length(&self) -> RunLength {
        match (self.requests, &self.duration) {
            (Some(n), _) => RunLength::Requests(n.max(0) as u64),
            (None, None) if !self.steps.is_empty() => {
                RunLength::Duration(self.steps_duration().unwrap_or_default())
            }
            (None, Some(d)) => {
                RunLength::Duration(d.to_std().unwrap_or(std::time::Duration::from_secs(30)))
            }
            (None, None) => RunLength::Duration(std::time::Duration::from_secs(30)),
        }
    }
    /// `warmup` (default 0).
    pub fn effective_warmup(&self) -> std::time::Duration {
        self.warmup
            .as_ref()
            .and_then(|d| d.to_std().ok())
            .unwrap_or_default()
    }
    /// `request.timeout` (default 10 s).
    pub fn effective_timeout(&self) -> std::time::Duration {
        self.request
            .as_ref()
            .and_then(|r| r.timeout.as_ref())
            .and_then(|d| d.to_std().ok())
            .unwrap_or(std::time::Duration::from_secs(10))
    }
    /// `rps` (default 0 = unlimited for Closed).
    pub fn effective_rps(&self) -> u64 {
        self.rps.unwrap_or(0).max(0) as u64
    }
    /// Whether the rate shape is `Linear` or `Step` (a ramped arrival rate).
    pub fn is_ramped(&self) -> bool {
        matches!(self.rate_shape, Some(RateShape::Linear | RateShape::Step))
    }
    /// Total duration of `steps` (`None` when a step duration does not parse or it overflows).
    pub fn steps_duration(&self) -> Option<std::time::Duration> {
        self.steps
            .iter()
            .try_fold(std::time::Duration::ZERO, |acc, s| {
                acc.checked_add(s.duration.to_std().ok()?)
            })
    }
    /// The stages of a ramped rate shape, in order (`None` for `Constant`): each ramps linearly
    /// from `from_rps` to `to_rps` over `duration` (`Step` stages have both equal). Assumes a
    /// valid spec (unparsable durations count as 0).
    ///
    /// ```
    /// use smi_types::perf::{LoadModel, PerformanceTestSpec, RateShape, RateStep};
    /// let mut spec = PerformanceTestSpec::http("http://127.0.0.1/").load_model(LoadModel::Open).rps(100).duration("10s");
    /// assert_eq!(spec.rate_stages(), None);
    /// spec.rate_shape = Some(RateShape::Linear);
    /// spec.steps = vec![RateStep::new(300, "5s"), RateStep::new(0, "5s")];
    /// let s = spec.rate_stages().unwrap();
    /// assert_eq!((s[0].from_rps, s[0].to_rps, s[1].from_rps, s[1].to_rps), (100, 300, 300, 0));
    /// ```
    pub fn rate_stages(&self) -> Option<Vec<RateStage>> {
        let d = |x: &Duration| x.to_std().unwrap_or_default();
        let rate = |r: i64| r.max(0) as u64;
        match self.rate_shape {
            Some(RateShape::Linear) if self.steps.is_empty() => Some(vec![RateStage {
                from_rps: self.effective_rps(),
                to_rps: rate(self.ramp_to.unwrap_or(0)),
                duration: match self.run_length() {
                    RunLength::Duration(x) => x,
                    RunLength::Requests(_) => std::time::Duration::ZERO,
                },
            }]),
            Some(RateShape::Linear) => {
                let mut from = self.effective_rps();
                Some(
                    self.steps
                        .iter()
                        .map(|s| {
                            let st = RateStage {
                                from_rps: from,
                                to_rps: rate(s.rps),
                                duration: d(&s.duration),
                            };
                            from = rate(s.rps);
                            st
                        })
                        .collect(),
                )
            }
            Some(RateShape::Step) => Some(
                self.steps
                    .iter()
                    .map(|s| RateStage {
                        from_rps: rate(s.rps),
                        to_rps: rate(s.rps),
                        duration: d(&s.duration),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `connections` (default 1).
    pub fn effective_connections(&self) -> u32 {
        self.connections.unwrap_or(1).max(1) as u32
    }
    /// `maxInFlight` (default 10 × connections).
    pub fn effective_max_in_flight(&self) -> u32 {
        self.max_in_flight
            .map(|n| n.max(1) as u32)
            .unwrap_or_else(|| self.effective_connections().saturating_mul(10))
    }
    /// `streamsPerConnection` (default 1).
    pub fn effective_streams_per_connection(&self) -> u32 {
        self.streams_per_connection.unwrap_or(1).max(1) as u32
    }
    /// `threads`; `None` means "number of CPUs".
    pub fn effective_threads(&self) -> Option<u32> {
        self.threads.map(|n| n.max(1) as u32)
    }
    /// `request.method` (default `GET`, or `POST` when a body is set).
    pub fn effective_method(&self) -> String {
        let r = self.request.as_ref();
        match r.and_then(|r| r.method.as_deref()) {
            Some(m) => m.to_ascii_uppercase(),
            None if r.is_some_and(|r| r.body.is_some() || r.body_from.is_some()) => "POST".into(),
            None => "GET".into(),
        }
    }
    /// `percentiles` sorted and de-duplicated (default `[50, 75, 90, 95, 99, 99.9]`).
    pub fn effective_percentiles(&self) -> Vec<f64> {
        let mut p = self
            .percentiles
            .clone()
            .unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec());
        p.retain(|v| *v > 0.0 && *v <= 100.0);
        p.sort_by(|a, b| a.total_cmp(b));
        p.dedup();
        p
    }
    /// `(lowestMicros, highestMicros, significantDigits)` with defaults `(1, 60 000 000, 3)`.
    pub fn effective_histogram(&self) -> (u64, u64, u8) {
        self.histogram.clone().unwrap_or_default().effective()
    }
}
