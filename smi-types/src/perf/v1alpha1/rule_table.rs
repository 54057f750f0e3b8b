//! The PerformanceTest rules that the CRD enforces with CEL, each written once: one [`Rule`] holds
//! the CEL text the CRD carries, the message the API server answers with, the field
//! [`PerformanceTestSpec::validate`] reports it at, and the same rule in Rust (`holds`).
//!
//! Why a table and not CEL evaluated by the library: smi-types stays lean (a CEL interpreter is a
//! heavy dependency for every user of the types). The table keeps the two forms side by side,
//! the CRD's `x-kubernetes-validations` are generated from it (so a rule cannot be in the CRD
//! without its Rust form), and `validate()` evaluates every `holds` after its detailed checks, so
//! an object a rule refuses is never valid to the library. `tests/perf_rules_agree.rs` checks,
//! for every rule, an object that violates only it against both the CRD's CEL (kube-cel, the
//! evaluator smi-validate uses offline) and the Rust form, and valid objects against both.
//!
//! The Rust forms mirror the CEL exactly, regexes included (a lower-case `http://` only, no
//! white-space rules the regex lacks); `validate()`'s detailed checks may be stricter (an
//! endpoint's port must be in 1–65535, the regex allows 5 digits).
//!
//! ```
//! use smi_types::perf::{PerformanceTestSpec, SPEC_RULES};
//! let open_rps = SPEC_RULES.iter().find(|r| r.id == "open-rps").unwrap();
//! let spec: PerformanceTestSpec = serde_json::from_value(serde_json::json!({
//!     "endpoints": ["http://127.0.0.1/"], "loadModel": "Open"
//! })).unwrap();
//! assert!(!(open_rps.holds)(&spec));
//! assert!(spec.validate().iter().any(|e| e.path == "spec.rps"));
//! ```

use std::fmt;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::Schema;

use super::*;

/// One rule of a node of the PerformanceTest schema, in both forms.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Rule<T: 'static> {
    /// Stable identifier (kebab-case).
    pub id: &'static str,
    /// The CEL expression in the CRD (`self` is the node).
    pub cel: &'static str,
    /// The message the API server answers with when the rule fails.
    pub message: &'static str,
    /// Where `validate()` reports it, relative to the node (`""` = the node itself).
    pub path: &'static str,
    /// The same rule in Rust: `false` when the CEL expression is false.
    pub holds: fn(&T) -> bool,
}

impl<T> fmt::Debug for Rule<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("cel", &self.cel)
            .field("message", &self.message)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

const fn rule<T>(
    id: &'static str,
    path: &'static str,
    cel: &'static str,
    message: &'static str,
    holds: fn(&T) -> bool,
) -> Rule<T> {
    Rule {
        id,
        cel,
        message,
        path,
        holds,
    }
}

/// Writes the rules as the node's `x-kubernetes-validations` (schemars `transform`).
fn emit<T>(schema: &mut Schema, rules: &[Rule<T>]) {
    let list: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| serde_json::json!({ "rule": r.cel, "message": r.message }))
        .collect();
    schema.insert("x-kubernetes-validations".into(), list.into());
}

pub(super) fn spec_rules(s: &mut Schema) {
    emit(s, SPEC_RULES)
}
pub(super) fn request_rules(s: &mut Schema) {
    emit(s, REQUEST_RULES)
}
pub(super) fn body_source_rules(s: &mut Schema) {
    emit(s, BODY_SOURCE_RULES)
}
pub(super) fn client_rules(s: &mut Schema) {
    emit(s, CLIENT_RULES)
}
pub(super) fn histogram_rules(s: &mut Schema) {
    emit(s, HISTOGRAM_RULES)
}
pub(super) fn threshold_rules(s: &mut Schema) {
    emit(s, THRESHOLD_RULES)
}

/// Reports every failed rule of `rules` on `node` at `at` + its path, unless an error is already
/// reported there (the detailed checks say more).
pub(super) fn refuse_failed<T>(v: &mut Validator, at: &str, node: &T, rules: &[Rule<T>]) {
    for r in rules {
        if (r.holds)(node) {
            continue;
        }
        let path = if r.path.is_empty() {
            at.to_owned()
        } else {
            format!("{at}.{}", r.path)
        };
        let reported = v.errors.iter().any(|e| {
            e.path
                .strip_prefix(&path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        });
        if !reported {
            v.err(path, r.message);
        }
    }
}

pub(super) const RULE_DURATION_XOR_REQUESTS: &str = "!(has(self.duration) && has(self.requests))";
pub(super) const RULE_OPEN_RPS: &str = "!has(self.loadModel) || self.loadModel != 'Open' || (has(self.rps) && self.rps > 0) || (has(self.rateShape) && self.rateShape != 'Constant')";
pub(super) const RULE_RAMP_OPEN: &str = "!has(self.rateShape) || self.rateShape == 'Constant' || (has(self.loadModel) && self.loadModel == 'Open')";
pub(super) const RULE_STEP_STEPS: &str =
    "!has(self.rateShape) || self.rateShape != 'Step' || (has(self.steps) && size(self.steps) > 0)";
pub(super) const RULE_OPEN_MAX_IN_FLIGHT: &str = "!has(self.loadModel) || self.loadModel != 'Open' || !has(self.maxInFlight) || self.maxInFlight >= (has(self.connections) ? self.connections : 1)";
pub(super) const RULE_STREAMS: &str = "!has(self.streamsPerConnection) || self.streamsPerConnection <= 1 || (has(self.protocol) && (self.protocol == 'HTTP2' || self.protocol == 'GRPC'))";
pub(super) const RULE_DURATION_POSITIVE: &str =
    "!has(self.duration) || duration(self.duration) > duration('0s')";
pub(super) const RULE_WARMUP: &str = "!has(self.warmup) || has(self.requests) || duration(self.warmup) < duration(has(self.duration) ? self.duration : '30s')";
pub(super) const RULE_TIMEOUT_LE_DURATION: &str = "!has(self.request) || !has(self.request.timeout) || has(self.requests) || duration(self.request.timeout) <= duration(has(self.duration) ? self.duration : '30s')";
pub(super) const RULE_HTTP_ENDPOINTS: &str = "(has(self.protocol) && self.protocol != 'HTTP' && self.protocol != 'HTTP2') || self.endpoints.all(e, e.matches('^https?://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+)(:[0-9]{1,5})?([/?#].*)?$'))";
pub(super) const RULE_GRPC_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'GRPC' || self.endpoints.all(e, e.matches('^((https?|grpc)://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+)(:[0-9]{1,5})?([/?#].*)?|(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5})$'))";
pub(super) const RULE_TCP_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'TCP' || self.endpoints.all(e, e.matches('^tcp://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5}/?$'))";
pub(super) const RULE_UDP_ENDPOINTS: &str = "!has(self.protocol) || self.protocol != 'UDP' || self.endpoints.all(e, e.matches('^udp://(\\\\[[0-9A-Fa-f:.]+\\\\]|[^/:?#@\\\\[\\\\]]+):[0-9]{1,5}/?$'))";
pub(super) const RULE_PERCENTILES: &str =
    "!has(self.percentiles) || self.percentiles.all(p, p > 0.0 && p <= 100.0)";
pub(super) const RULE_PERCENTILES_UNIQUE: &str =
    "!has(self.percentiles) || self.percentiles.all(p, self.percentiles.exists_one(q, q == p))";
/// `validate()` rule 10 (shares): every client has one; all are percentages adding up to 100, or
/// all integers adding up to `rps`. A share's own form is [`RULE_CLIENT_SHARE_FORM`].
pub(super) const RULE_CLIENT_SHARES: &str = "!has(self.clients) || size(self.clients) == 0 || (self.clients.all(c, has(c.share)) && (self.clients.all(c, type(c.share) == string) ? self.clients.map(c, int(c.share.replace('%', ''))).sum() == 100 : (self.clients.all(c, type(c.share) == int) && self.clients.map(c, int(c.share)).sum() == (has(self.rps) ? self.rps : 0))))";
/// A client's share: an integer (rps) or a percentage of 1 to 3 digits, at most `100%`.
pub(super) const RULE_CLIENT_SHARE_FORM: &str = "!has(self.share) || type(self.share) == int || (self.share.matches('^[0-9]{1,3}%$') && int(self.share.replace('%', '')) <= 100)";
/// Longest percentage share (`100%`).
pub(super) const MAX_SHARE_LENGTH: usize = 4;
pub(super) const RULE_PARALLELISM_CONNECTIONS: &str =
    "!has(self.parallelism) || self.parallelism <= (has(self.connections) ? self.connections : 1)";
pub(super) const RULE_PARALLELISM_RPS: &str =
    "!has(self.parallelism) || !has(self.rps) || self.rps == 0 || self.rps >= self.parallelism";
pub(super) const RULE_PARALLELISM_REQUESTS: &str =
    "!has(self.parallelism) || !has(self.requests) || self.requests >= self.parallelism";

/// The rules on `spec`, in the CRD's order.
pub const SPEC_RULES: &[Rule<PerformanceTestSpec>] = &[
    rule(
        "duration-xor-requests",
        "requests",
        RULE_DURATION_XOR_REQUESTS,
        "set at most one of duration and requests",
        |s| !(s.duration.is_some() && s.requests.is_some()),
    ),
    rule(
        "duration-positive",
        "duration",
        RULE_DURATION_POSITIVE,
        "duration must be greater than 0",
        |s| {
            s.duration
                .as_ref()
                .and_then(std_duration)
                .is_none_or(|d| !d.is_zero())
        },
    ),
    rule(
        "warmup-below-duration",
        "warmup",
        RULE_WARMUP,
        "warmup must be less than duration",
        |s| {
            s.requests.is_some()
                || match (s.warmup.as_ref().and_then(std_duration), run_time(s)) {
                    (Some(w), Some(d)) => w < d,
                    _ => true,
                }
        },
    ),
    rule(
        "timeout-within-duration",
        "request.timeout",
        RULE_TIMEOUT_LE_DURATION,
        "request.timeout must be at most duration",
        |s| {
            let timeout = s.request.as_ref().and_then(|r| r.timeout.as_ref());
            s.requests.is_some()
                || match (timeout.and_then(std_duration), run_time(s)) {
                    (Some(t), Some(d)) => t <= d,
                    _ => true,
                }
        },
    ),
    rule(
        "open-rps",
        "rps",
        RULE_OPEN_RPS,
        "the Open load model requires rps > 0",
        |s| {
            s.load_model != Some(LoadModel::Open)
                || s.rps.is_some_and(|r| r > 0)
                || s.rate_shape.is_some_and(|r| r != RateShape::Constant)
        },
    ),
    rule(
        "ramp-needs-open",
        "rateShape",
        RULE_RAMP_OPEN,
        "Linear and Step rate shapes need loadModel Open",
        |s| {
            s.rate_shape.is_none_or(|r| r == RateShape::Constant)
                || s.load_model == Some(LoadModel::Open)
        },
    ),
    rule(
        "step-needs-steps",
        "steps",
        RULE_STEP_STEPS,
        "the Step rate shape needs steps",
        |s| s.rate_shape != Some(RateShape::Step) || !s.steps.is_empty(),
    ),
    rule(
        "open-max-in-flight",
        "maxInFlight",
        RULE_OPEN_MAX_IN_FLIGHT,
        "maxInFlight must be at least connections",
        |s| {
            s.load_model != Some(LoadModel::Open)
                || s.max_in_flight
                    .is_none_or(|m| m >= s.connections.unwrap_or(1))
        },
    ),
    rule(
        "streams-need-h2",
        "streamsPerConnection",
        RULE_STREAMS,
        "streamsPerConnection > 1 is only valid for HTTP2 and GRPC",
        |s| {
            s.streams_per_connection.is_none_or(|n| n <= 1)
                || matches!(s.protocol, Some(Protocol::Http2 | Protocol::Grpc))
        },
    ),
    rule(
        "http-endpoints",
        "endpoints",
        RULE_HTTP_ENDPOINTS,
        "HTTP and HTTP2 endpoints must be http:// or https:// URLs with a host",
        |s| {
            s.protocol
                .is_some_and(|p| !matches!(p, Protocol::Http | Protocol::Http2))
                || s.endpoints
                    .iter()
                    .all(|e| url_matches(e, &["http", "https"], Port::Optional, Rest::Any))
        },
    ),
    rule(
        "grpc-endpoints",
        "endpoints",
        RULE_GRPC_ENDPOINTS,
        "GRPC endpoints must be http://, https://, grpc:// URLs or host:port",
        |s| {
            s.protocol != Some(Protocol::Grpc)
                || s.endpoints.iter().all(|e| {
                    url_matches(e, &["http", "https", "grpc"], Port::Optional, Rest::Any)
                        || host_port_rest(e, Port::Required, Rest::None)
                })
        },
    ),
    rule(
        "tcp-endpoints",
        "endpoints",
        RULE_TCP_ENDPOINTS,
        "TCP endpoints must be tcp://host:port",
        |s| {
            s.protocol != Some(Protocol::Tcp)
                || s.endpoints
                    .iter()
                    .all(|e| url_matches(e, &["tcp"], Port::Required, Rest::Slash))
        },
    ),
    rule(
        "udp-endpoints",
        "endpoints",
        RULE_UDP_ENDPOINTS,
        "UDP endpoints must be udp://host:port",
        |s| {
            s.protocol != Some(Protocol::Udp)
                || s.endpoints
                    .iter()
                    .all(|e| url_matches(e, &["udp"], Port::Required, Rest::Slash))
        },
    ),
    rule(
        "percentiles-in-range",
        "percentiles",
        RULE_PERCENTILES,
        "percentiles must be in (0, 100]",
        |s| {
            s.percentiles
                .iter()
                .flatten()
                .all(|p| *p > 0.0 && *p <= 100.0)
        },
    ),
    rule(
        "percentiles-unique",
        "percentiles",
        RULE_PERCENTILES_UNIQUE,
        "percentiles must not repeat",
        |s| {
            let ps = s.percentiles.as_deref().unwrap_or_default();
            ps.iter()
                .all(|p| ps.iter().filter(|q| *q == p).count() == 1)
        },
    ),
    rule(
        "client-shares",
        "clients",
        RULE_CLIENT_SHARES,
        "every client needs a share: all percentages adding up to 100%, or all integers adding up to rps",
        client_shares,
    ),
    rule(
        "parallelism-connections",
        "parallelism",
        RULE_PARALLELISM_CONNECTIONS,
        "connections must be at least parallelism (every shard needs one)",
        |s| {
            s.parallelism
                .is_none_or(|p| p <= s.connections.unwrap_or(1))
        },
    ),
    rule(
        "parallelism-rps",
        "parallelism",
        RULE_PARALLELISM_RPS,
        "rps must be 0 or at least parallelism (every shard needs a share)",
        |s| match (s.parallelism, s.rps) {
            (Some(p), Some(r)) => r == 0 || r >= i64::from(p),
            _ => true,
        },
    ),
    rule(
        "parallelism-requests",
        "parallelism",
        RULE_PARALLELISM_REQUESTS,
        "requests must be at least parallelism (every shard needs one)",
        |s| match (s.parallelism, s.requests) {
            (Some(p), Some(r)) => r >= i64::from(p),
            _ => true,
        },
    ),
];

/// The rules on `spec.request`.
pub const REQUEST_RULES: &[Rule<RequestSpec>] = &[
    rule(
        "body-xor-body-from",
        "bodyFrom",
        "!(has(self.body) && has(self.bodyFrom))",
        "set at most one of body and bodyFrom",
        |r| !(r.body.is_some() && r.body_from.is_some()),
    ),
    rule(
        "header-names-are-tokens",
        "headers",
        "!has(self.headers) || self.headers.all(k, k.matches('^[-!#$%&\\'*+.^_`|~0-9A-Za-z]+$'))",
        "header names must be RFC 9110 tokens",
        |r| r.headers.keys().all(|k| is_token(k)),
    ),
    rule(
        "engine-headers",
        "headers",
        "!has(self.headers) || self.headers.all(k, !k.matches('^(?i)(host|content-length)$'))",
        "Host and Content-Length are set by the engine",
        |r| {
            r.headers.keys().all(|k| {
                !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length")
            })
        },
    ),
    rule(
        "content-type-once",
        "headers",
        "!has(self.contentType) || !has(self.headers) || self.headers.all(k, !k.matches('^(?i)content-type$'))",
        "set contentType or a Content-Type header, not both",
        |r| {
            r.content_type.is_none()
                || r.headers
                    .keys()
                    .all(|k| !k.eq_ignore_ascii_case("content-type"))
        },
    ),
    rule(
        "timeout-positive",
        "timeout",
        "!has(self.timeout) || duration(self.timeout) > duration('0s')",
        "timeout must be greater than 0",
        |r| {
            r.timeout
                .as_ref()
                .and_then(std_duration)
                .is_none_or(|t| !t.is_zero())
        },
    ),
];

/// The rules on `spec.request.bodyFrom`.
pub const BODY_SOURCE_RULES: &[Rule<BodySource>] = &[rule(
    "one-body-source",
    "",
    "has(self.configMapKeyRef) != has(self.secretKeyRef)",
    "set exactly one of configMapKeyRef and secretKeyRef",
    |b| b.config_map_key_ref.is_some() != b.secret_key_ref.is_some(),
)];

/// The rules on each of `spec.clients[]`.
pub const CLIENT_RULES: &[Rule<ClientSpec>] = &[rule(
    "share-form",
    "share",
    RULE_CLIENT_SHARE_FORM,
    "share must be an integer rps or a percentage from 0% to 100%",
    |c| match &c.share {
        None | Some(IntOrString::Int(_)) => true,
        Some(IntOrString::String(s)) => s
            .strip_suffix('%')
            .filter(|d| (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<i64>().ok())
            .is_some_and(|n| n <= 100),
    },
)];

/// The rules on `spec.histogram`.
pub const HISTOGRAM_RULES: &[Rule<HistogramSpec>] = &[rule(
    "histogram-range",
    "highestMicros",
    "(has(self.highestMicros) ? self.highestMicros : 60000000) >= 2 * (has(self.lowestMicros) ? self.lowestMicros : 1)",
    "highestMicros must be at least 2 × lowestMicros",
    |h| {
        h.lowest_micros
            .unwrap_or(1)
            .checked_mul(2)
            .is_some_and(|l| h.highest_micros.unwrap_or(60_000_000) >= l)
    },
)];

/// The rules on each of `spec.thresholds[]`.
pub const THRESHOLD_RULES: &[Rule<Threshold>] = &[
    rule(
        "max-or-min",
        "",
        "has(self.max) || has(self.min)",
        "set max or min",
        |t| t.max.is_some() || t.min.is_some(),
    ),
    rule(
        "latency-limits",
        "",
        "!self.metric.startsWith('latency') || ((!has(self.max) || self.max.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')) && (!has(self.min) || self.min.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')))",
        "latency limits are durations such as 250ms",
        |t| {
            !t.metric.as_str().starts_with("latency")
                || limits(t).all(|l| Duration::parse(l).is_ok())
        },
    ),
    rule(
        "ratio-limits",
        "",
        "!(self.metric == 'errorRate' || self.metric == 'droppedRate') || ((!has(self.max) || (self.max.matches('^(0(\\\\.[0-9]+)?|1(\\\\.0+)?)$'))) && (!has(self.min) || (self.min.matches('^(0(\\\\.[0-9]+)?|1(\\\\.0+)?)$'))))",
        "rate limits are decimals in [0, 1]",
        |t| !t.metric.is_ratio() || limits(t).all(is_ratio_text),
    ),
    rule(
        "rps-limits",
        "",
        "self.metric != 'rps' || ((!has(self.max) || self.max.matches('^[0-9]+(\\\\.[0-9]+)?$')) && (!has(self.min) || self.min.matches('^[0-9]+(\\\\.[0-9]+)?$')))",
        "rps limits are non-negative numbers",
        |t| t.metric != ThresholdMetric::Rps || limits(t).all(is_decimal_text),
    ),
];

fn std_duration(d: &Duration) -> Option<std::time::Duration> {
    d.to_std().ok()
}

/// `duration(has(self.duration) ? self.duration : '30s')`.
fn run_time(s: &PerformanceTestSpec) -> Option<std::time::Duration> {
    match &s.duration {
        Some(d) => std_duration(d),
        None => Some(std::time::Duration::from_secs(30)),
    }
}

fn limits(t: &Threshold) -> impl Iterator<Item = &str> {
    t.max.iter().chain(&t.min).map(String::as_str)
}

fn client_shares(s: &PerformanceTestSpec) -> bool {
    if s.clients.is_empty() {
        return true;
    }
    let Some(shares) = s
        .clients
        .iter()
        .map(|c| c.share.as_ref())
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    let mut sum = 0i64;
    if shares.iter().all(|x| matches!(x, IntOrString::String(_))) {
        for x in shares {
            // `int(c.share.replace('%', ''))`: a CEL error (not a number) refuses the object.
            let IntOrString::String(p) = x else {
                return false;
            };
            match p
                .replace('%', "")
                .parse::<i64>()
                .ok()
                .and_then(|n| sum.checked_add(n))
            {
                Some(n) => sum = n,
                None => return false,
            }
        }
        sum == 100
    } else {
        for x in shares {
            let IntOrString::Int(n) = x else { return false };
            sum += i64::from(*n);
        }
        sum == s.rps.unwrap_or(0)
    }
}

/// `^(0(\.[0-9]+)?|1(\.0+)?)$`.
fn is_ratio_text(s: &str) -> bool {
    match s.split_once('.') {
        None => s == "0" || s == "1",
        Some((int, frac)) => {
            !frac.is_empty()
                && ((int == "0" && frac.bytes().all(|b| b.is_ascii_digit()))
                    || (int == "1" && frac.bytes().all(|b| b == b'0')))
        }
    }
}

/// `^[0-9]+(\.[0-9]+)?$`.
fn is_decimal_text(s: &str) -> bool {
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        None => digits(s),
        Some((int, frac)) => digits(int) && digits(frac),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Port {
    Optional,
    Required,
}

#[derive(Clone, Copy, PartialEq)]
enum Rest {
    /// `([/?#].*)?`
    Any,
    /// `/?`
    Slash,
    /// nothing
    None,
}

/// `^scheme://` + [`host_port_rest`], one of `schemes` (case-sensitive, as in the regex).
fn url_matches(e: &str, schemes: &[&str], port: Port, rest: Rest) -> bool {
    schemes.iter().any(|s| {
        e.strip_prefix(s)
            .and_then(|r| r.strip_prefix("://"))
            .is_some_and(|r| host_port_rest(r, port, rest))
    })
}

/// `(\[[0-9A-Fa-f:.]+\]|[^/:?#@\[\]]+)(:[0-9]{1,5})` (optional or required), then `rest`, to the
/// end (RE2: `.` is any character but a newline).
fn host_port_rest(s: &str, port: Port, rest: Rest) -> bool {
    let after_host = if let Some(r) = s.strip_prefix('[') {
        let Some(close) = r.find(']') else {
            return false;
        };
        let host = &r[..close];
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        &r[close + 1..]
    } else {
        let end = s
            .find(['/', ':', '?', '#', '@', '[', ']'])
            .unwrap_or(s.len());
        if end == 0 {
            return false;
        }
        &s[end..]
    };
    let mut r = after_host;
    if let Some(p) = r.strip_prefix(':') {
        let n = p.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=5).contains(&n) {
            return false;
        }
        r = &p[n..];
    } else if port == Port::Required {
        return false;
    }
    match rest {
        Rest::Any => r.is_empty() || (r.starts_with(['/', '?', '#']) && !r.contains('\n')),
        Rest::Slash => r.is_empty() || r == "/",
        Rest::None => r.is_empty(),
    }
}
