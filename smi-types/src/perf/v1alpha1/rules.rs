//! Validation of a [`PerformanceTestSpec`] (B.4 rules 1–11): [`PerformanceTestSpec::validate`],
//! [`SpecError`], and the CEL rules the CRD carries for the same checks.

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;

impl PerformanceTestSpec {
    /// Checks every B.4 rule (1–11) and returns the errors, each with its JSON field path.
    /// An empty vector means the spec is valid. Rule 12 (immutability) needs the old object
    /// and is enforced by the CRD's transition rule.
    ///
    /// ```
    /// use smi_types::perf::{LoadModel, PerformanceTestSpec};
    /// let errors = PerformanceTestSpec::http("ftp://x").load_model(LoadModel::Open).validate();
    /// let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    /// assert_eq!(paths, ["spec.rps", "spec.endpoints[0]"]);
    /// ```
    pub fn validate(&self) -> Vec<SpecError> {
        let mut v = Validator::default();
        self.check(&mut v);
        v.errors
    }

    /// Non-fatal findings (e.g. a body with GET).
    ///
    /// ```
    /// use smi_types::perf::{PerformanceTestSpec, RequestSpec};
    /// let spec = PerformanceTestSpec::http("http://127.0.0.1/").request(RequestSpec {
    ///     method: Some("GET".into()),
    ///     body: Some("x".into()),
    ///     ..Default::default()
    /// });
    /// assert!(spec.validate().is_empty());
    /// assert_eq!(spec.warnings()[0].path, "spec.request.body");
    /// ```
    pub fn warnings(&self) -> Vec<SpecError> {
        let mut v = Validator::default();
        self.check(&mut v);
        v.warnings
    }

    fn check(&self, v: &mut Validator) {
        // Rule 1: duration / requests.
        let mut duration = Some(std::time::Duration::from_secs(30));
        if let Some(d) = &self.duration {
            match d.to_std() {
                Ok(x) if x.is_zero() => v.err("spec.duration", "must be greater than 0"),
                Ok(x) => duration = Some(x),
                Err(e) => {
                    duration = None;
                    v.err("spec.duration", e.to_string())
                }
            }
        }
        if self.duration.is_none()
            && !self.steps.is_empty()
            && let Some(total) = self.steps_duration()
        {
            duration = Some(total);
        }
        if self.duration.is_some() && self.requests.is_some() {
            v.err("spec.requests", "set exactly one of duration and requests");
        }
        if let Some(n) = self.requests {
            duration = None;
            if n <= 0 {
                v.err("spec.requests", "must be greater than 0");
            }
        }
        // Rule 2: warmup and timeout.
        if let Some(w) = &self.warmup {
            match w.to_std() {
                Ok(w) => {
                    if let Some(d) = duration
                        && w >= d
                    {
                        v.err("spec.warmup", format!("must be less than duration ({d:?})"));
                    }
                }
                Err(e) => v.err("spec.warmup", e.to_string()),
            }
        }
        if let Some(t) = self.request.as_ref().and_then(|r| r.timeout.as_ref()) {
            match t.to_std() {
                Ok(t) if t.is_zero() => v.err("spec.request.timeout", "must be greater than 0"),
                Ok(t) => {
                    if let Some(d) = duration
                        && t > d
                    {
                        v.err(
                            "spec.request.timeout",
                            format!("must be at most duration ({d:?})"),
                        );
                    }
                }
                Err(e) => v.err("spec.request.timeout", e.to_string()),
            }
        }
        // Rule 3: load model and rate.
        let model = self.effective_load_model();
        match self.rps {
            Some(r) if r < 0 => v.err("spec.rps", "must be at least 0"),
            Some(r) if r > MAX_RPS => v.err("spec.rps", format!("must be at most {MAX_RPS}")),
            _ => {}
        }
        if model == LoadModel::Open {
            if self.rps.unwrap_or(0) <= 0 && !self.is_ramped() {
                v.err("spec.rps", "the Open load model requires rps > 0");
            }
            if let Some(m) = self.max_in_flight
                && m < self.connections.unwrap_or(1)
            {
                v.err("spec.maxInFlight", "must be at least connections");
            }
        }
        if let Some(r) = self.ramp_to
            && !(0..=MAX_RPS).contains(&r)
        {
            v.err("spec.rampTo", format!("must be in [0, {MAX_RPS}]"));
        }
        // Rule 4: connections, threads, streams.
        if let Some(c) = self.connections
            && !(1..=MAX_CONNECTIONS).contains(&c)
        {
            v.err(
                "spec.connections",
                format!("must be in [1, {MAX_CONNECTIONS}]"),
            );
        }
        if let Some(m) = self.max_in_flight
            && !(1..=MAX_IN_FLIGHT).contains(&m)
        {
            v.err(
                "spec.maxInFlight",
                format!("must be in [1, {MAX_IN_FLIGHT}]"),
            );
        }
        if let Some(t) = self.threads
            && !(1..=MAX_THREADS).contains(&t)
        {
            v.err("spec.threads", format!("must be in [1, {MAX_THREADS}]"));
        }
        let protocol = self.effective_protocol();
        if let Some(s) = self.streams_per_connection {
            if !(1..=MAX_STREAMS_PER_CONNECTION).contains(&s) {
                v.err(
                    "spec.streamsPerConnection",
                    format!("must be in [1, {MAX_STREAMS_PER_CONNECTION}]"),
                );
            } else if i64::from(s) * i64::from(self.connections.unwrap_or(1)) > MAX_LANES {
                v.err(
                    "spec.streamsPerConnection",
                    format!("connections × streamsPerConnection must be at most {MAX_LANES}"),
                );
            } else if s > 1 && !matches!(protocol, Protocol::Http2 | Protocol::Grpc) {
                v.err(
                    "spec.streamsPerConnection",
                    format!("values above 1 need HTTP2 or GRPC, not {protocol}"),
                );
            }
        }
        // Rule 5: endpoints.
        if self.endpoints.is_empty() {
            v.err("spec.endpoints", "at least one endpoint is required");
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            v.err(
                "spec.endpoints",
                format!("at most {MAX_ENDPOINTS} endpoints"),
            );
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if e.chars().count() > MAX_ENDPOINT_LENGTH {
                v.err(
                    format!("spec.endpoints[{i}]"),
                    format!("longer than {MAX_ENDPOINT_LENGTH} characters"),
                );
            } else if let Err(msg) = Endpoint::parse_for(protocol, e) {
                v.err(format!("spec.endpoints[{i}]"), msg.to_string());
            }
        }
        // Rule 6: percentiles.
        if let Some(ps) = &self.percentiles {
            if ps.len() > MAX_PERCENTILES {
                v.err(
                    "spec.percentiles",
                    format!("at most {MAX_PERCENTILES} entries"),
                );
            }
            for (i, p) in ps.iter().enumerate() {
                if !(p.is_finite() && *p > 0.0 && *p <= 100.0) {
                    v.err(format!("spec.percentiles[{i}]"), "must be in (0, 100]");
                } else if ps[..i].contains(p) {
                    v.err(
                        format!("spec.percentiles[{i}]"),
                        format!("duplicate percentile {p}"),
                    );
                }
            }
        }
        // Rule 7: histogram.
        if let Some(h) = &self.histogram {
            if let Some(d) = h.significant_digits
                && !(1..=5).contains(&d)
            {
                v.err("spec.histogram.significantDigits", "must be from 1 to 5");
            }
            if let Some(l) = h.lowest_micros
                && l < 1
            {
                v.err("spec.histogram.lowestMicros", "must be at least 1");
            }
            let lowest = h.lowest_micros.unwrap_or(1).max(1);
            let highest = h.highest_micros.unwrap_or(60_000_000);
            if highest > MAX_HISTOGRAM_HIGHEST_MICROS {
                v.err(
                    "spec.histogram.highestMicros",
                    format!("must be at most {MAX_HISTOGRAM_HIGHEST_MICROS} (one hour)"),
                );
            }
            if highest < lowest.saturating_mul(2) {
                v.err(
                    "spec.histogram.highestMicros",
                    "must be at least 2 × lowestMicros",
                );
            }
        }
        // Rule 8: request shape.
        if let Some(r) = &self.request {
            if r.headers.len() > MAX_HEADERS {
                v.err(
                    "spec.request.headers",
                    format!("at most {MAX_HEADERS} headers"),
                );
            }
            for name in r.headers.keys() {
                let path = format!("spec.request.headers[{name:?}]");
                if !is_token(name) {
                    v.err(path, "header name is not an RFC 9110 token");
                } else if name.eq_ignore_ascii_case("host")
                    || name.eq_ignore_ascii_case("content-length")
                {
                    v.err(path, "Host and Content-Length are set by the engine");
                } else if name.eq_ignore_ascii_case("content-type") && r.content_type.is_some() {
                    v.err(path, "set contentType or a Content-Type header, not both");
                }
            }
            if r.body.is_some() && r.body_from.is_some() {
                v.err(
                    "spec.request.bodyFrom",
                    "set at most one of body and bodyFrom",
                );
            }
            if let Some(b) = &r.body {
                if b.len() > MAX_INLINE_BODY {
                    v.err(
                        "spec.request.body",
                        "inline body is larger than 64 KiB; use bodyFrom",
                    );
                }
                let m = self.effective_method();
                if m == "GET" || m == "HEAD" {
                    v.warn(
                        "spec.request.body",
                        format!("a body with {m} is unusual and may be ignored by the server"),
                    );
                }
            }
            if let Some(bf) = &r.body_from
                && bf.config_map_key_ref.is_some() == bf.secret_key_ref.is_some()
            {
                v.err(
                    "spec.request.bodyFrom",
                    "set exactly one of configMapKeyRef and secretKeyRef",
                );
            }
            if let Some(m) = &r.method
                && (m.is_empty() || !is_token(m))
            {
                v.err("spec.request.method", "method is not an RFC 9110 token");
            }
            if let Some(n) = r.expect_bytes
                && n < 0
            {
                v.err("spec.request.expectBytes", "must be at least 0");
            }
        }
        // Rule 9: protocol is an enum (serde rejects unknown names); plug-in support is checked
        // by the engine's registry.
        self.check_rate_shape(v);
        // Rule 10: clients.
        if self.clients.len() > MAX_CLIENTS {
            v.err("spec.clients", format!("at most {MAX_CLIENTS} clients"));
        }
        let mut percent_sum = 0i64;
        let (mut n_percent, mut n_rps, mut rps_sum) = (0usize, 0usize, 0i64);
        for (i, c) in self.clients.iter().enumerate() {
            if self.clients[..i].iter().any(|o| o.name == c.name) {
                v.err(
                    format!("spec.clients[{i}].name"),
                    format!("duplicate client name {:?}", c.name),
                );
            }
            match &c.share {
                Some(IntOrString::Int(n)) => {
                    n_rps += 1;
                    rps_sum += i64::from(*n);
                }
                // as the CRD's rule reads it: 1 to 3 digits and `%` (no sign, no spaces)
                Some(IntOrString::String(s)) => match s
                    .strip_suffix('%')
                    .filter(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|p| p.parse::<i64>().ok())
                {
                    Some(p) if (0..=100).contains(&p) => {
                        n_percent += 1;
                        percent_sum += p;
                    }
                    _ => v.err(
                        format!("spec.clients[{i}].share"),
                        format!("{s:?} is not a percentage like \"25%\""),
                    ),
                },
                None => {}
            }
        }
        if !self.clients.is_empty() {
            let n = self.clients.len();
            if n_percent == n && percent_sum != 100 {
                v.err(
                    "spec.clients",
                    format!("shares add up to {percent_sum}%, not 100%"),
                );
            } else if n_rps == n && rps_sum != self.rps.unwrap_or(0) {
                v.err(
                    "spec.clients",
                    format!(
                        "shares add up to {rps_sum} rps, not spec.rps ({})",
                        self.rps.unwrap_or(0)
                    ),
                );
            } else if n_percent + n_rps != n || (n_percent > 0 && n_rps > 0) {
                v.err(
                    "spec.clients",
                    "every client needs a share, either all percentages or all rps",
                );
            }
        }
        // Scale-out (issue 6): every shard needs at least one connection, rps and request.
        if let Some(n) = self.parallelism {
            if !(1..=MAX_PARALLELISM).contains(&n) {
                v.err(
                    "spec.parallelism",
                    format!("must be in [1, {MAX_PARALLELISM}]"),
                );
            } else {
                if n > self.connections.unwrap_or(1) {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need connections >= {n} (every shard needs one)"),
                    );
                }
                if let Some(r) = self.rps
                    && r > 0
                    && r < i64::from(n)
                {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need rps 0 or >= {n} (every shard needs a share)"),
                    );
                }
                if let Some(r) = self.requests
                    && r > 0
                    && r < i64::from(n)
                {
                    v.err(
                        "spec.parallelism",
                        format!("{n} shards need requests >= {n} (every shard needs one)"),
                    );
                }
            }
        }
        // Rule 11: thresholds.
        if self.thresholds.len() > MAX_THRESHOLDS {
            v.err(
                "spec.thresholds",
                format!("at most {MAX_THRESHOLDS} thresholds"),
            );
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.max.is_none() && t.min.is_none() {
                v.err(format!("spec.thresholds[{i}]"), "set max or min");
            }
            for (field, limit) in [("max", &t.max), ("min", &t.min)] {
                if let Some(l) = limit {
                    if l.chars().count() > MAX_LIMIT_LENGTH {
                        v.err(
                            format!("spec.thresholds[{i}].{field}"),
                            format!("longer than {MAX_LIMIT_LENGTH} characters"),
                        );
                    } else if let Err(e) = t.parse_limit(l) {
                        v.err(format!("spec.thresholds[{i}].{field}"), e.to_string());
                    }
                }
            }
        }
        // The CRD's CEL rules, in their Rust form (rule_table.rs): whatever one refuses is
        // refused here too, where the detailed checks above have not already said why.
        refuse_failed(v, "spec", self, SPEC_RULES);
        if let Some(r) = &self.request {
            refuse_failed(v, "spec.request", r, REQUEST_RULES);
            if let Some(b) = &r.body_from {
                refuse_failed(v, "spec.request.bodyFrom", b, BODY_SOURCE_RULES);
            }
        }
        for (i, c) in self.clients.iter().enumerate() {
            refuse_failed(v, &format!("spec.clients[{i}]"), c, CLIENT_RULES);
        }
        if let Some(h) = &self.histogram {
            refuse_failed(v, "spec.histogram", h, HISTOGRAM_RULES);
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            refuse_failed(v, &format!("spec.thresholds[{i}]"), t, THRESHOLD_RULES);
        }
    }

    fn check_rate_shape(&self, v: &mut Validator) {
        if !self.is_ramped() {
            if !self.steps.is_empty() {
                v.err(
                    "spec.steps",
                    "only the Linear and Step rate shapes take steps",
                );
            }
            if self.ramp_to.is_some() {
                v.err("spec.rampTo", "only the Linear rate shape takes rampTo");
            }
            return;
        }
        let shape = self.rate_shape.unwrap_or_default();
        if self.effective_load_model() != LoadModel::Open {
            v.err(
                "spec.rateShape",
                format!("the {shape:?} rate shape needs loadModel Open (an arrival-rate schedule)"),
            );
        }
        if self.requests.is_some() {
            v.err(
                "spec.requests",
                "a ramped rate shape runs for its schedule's duration; set duration or steps, not requests",
            );
        }
        if self
            .warmup
            .as_ref()
            .is_some_and(|w| w.to_std().map_or(true, |w| !w.is_zero()))
        {
            v.err(
                "spec.warmup",
                "not supported with a ramped rate shape: every stage is recorded (make the first step the warm-up and read the per-stage results)",
            );
        }
        if self.steps.len() > MAX_STEPS {
            v.err("spec.steps", format!("at most {MAX_STEPS} steps"));
        }
        for (i, st) in self.steps.iter().enumerate() {
            if !(0..=MAX_RPS).contains(&st.rps) {
                v.err(
                    format!("spec.steps[{i}].rps"),
                    format!("must be in [0, {MAX_RPS}]"),
                );
            }
            match st.duration.to_std() {
                Ok(x) if x.is_zero() => v.err(
                    format!("spec.steps[{i}].duration"),
                    "must be greater than 0",
                ),
                Ok(_) => {}
                Err(e) => v.err(format!("spec.steps[{i}].duration"), e.to_string()),
            }
        }
        match shape {
            RateShape::Linear => match (self.ramp_to.is_some(), self.steps.is_empty()) {
                (true, false) => v.err(
                    "spec.rampTo",
                    "set rampTo (one ramp over duration) or steps (k6 stages), not both",
                ),
                (false, true) => v.err(
                    "spec.rampTo",
                    "the Linear rate shape needs rampTo (one ramp from rps over duration) or steps",
                ),
                _ => {}
            },
            RateShape::Step => {
                if self.steps.is_empty() {
                    v.err("spec.steps", "the Step rate shape needs steps");
                }
                if self.ramp_to.is_some() {
                    v.err(
                        "spec.rampTo",
                        "the Step rate shape takes its rates from steps, not rampTo",
                    );
                }
                if self.rps.is_some() {
                    v.err(
                        "spec.rps",
                        "the Step rate shape takes its rates from steps; leave rps unset",
                    );
                }
            }
            RateShape::Constant => {}
        }
        if !self.steps.is_empty()
            && let (Some(d), Some(total)) = (&self.duration, self.steps_duration())
            && d.to_std().is_ok_and(|d| d != total)
        {
            v.err(
                "spec.duration",
                format!("must equal the steps' total duration ({total:?}) or be unset"),
            );
        }
        // Sharded: every shard needs a share of each rate that is not 0.
        if let Some(p) = self.parallelism.filter(|&p| p > 1).map(i64::from) {
            for (i, st) in self.steps.iter().enumerate() {
                if st.rps > 0 && st.rps < p {
                    v.err(
                        format!("spec.steps[{i}].rps"),
                        "must be 0 or at least parallelism (every shard needs a share)",
                    );
                }
            }
            if self.ramp_to.is_some_and(|r| r > 0 && r < p) {
                v.err(
                    "spec.rampTo",
                    "must be 0 or at least parallelism (every shard needs a share)",
                );
            }
        }
        if let Some(stages) = self.rate_stages()
            && stages.iter().all(|s| s.from_rps == 0 && s.to_rps == 0)
        {
            v.err(
                "spec.rateShape",
                "the schedule sends nothing: every rate is 0",
            );
        }
    }
}

/// One validation finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// JSON path of the offending field, e.g. `spec.endpoints[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SpecError {}

#[derive(Default)]
pub(super) struct Validator {
    pub(super) errors: Vec<SpecError>,
    pub(super) warnings: Vec<SpecError>,
}

impl Validator {
    pub(super) fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(SpecError {
            path: path.into(),
            message: message.into(),
        });
    }
    pub(super) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(SpecError {
            path: path.into(),
            message: message.into(),
        });
    }
}

pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
