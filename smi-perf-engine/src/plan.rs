//! [`RunPlan`]: a validated spec with defaults applied and everything parsed once.

use std::time::Duration;

use bytes::Bytes;
use smi_types::perf::{Endpoint, LoadModel, PerformanceTestSpec, Protocol, RunLength};

use crate::error::{Error, RequestError, Result};
use crate::stats::HistogramSettings;

/// Most memory the histograms of one run may take: each runtime worker records into its own
/// (latency, service time, and two live-progress windows), so the size of one histogram (from
/// `spec.histogram`) times the worker threads (`spec.threads`) is bounded. The defaults (3
/// digits, 60 s) take about 150 KB per histogram, 600 MB at the 1024-thread cap.
pub const MAX_HISTOGRAM_MEMORY: u64 = 1 << 30;

/// Largest request body read from a file (`--body-file`, or the key `request.bodyFrom` names,
/// mounted by `smi-perf k8s job`): 16 MiB. Inline `request.body` stays at most 64 KiB.
pub const MAX_BODY: usize = 16 << 20;

/// Reads a request body file, refusing one larger than [`MAX_BODY`] (the read is bounded, so a
/// huge or endless file such as `/dev/zero` costs at most that).
pub fn read_body_file(path: &std::path::Path) -> Result<Bytes> {
    use std::io::Read;
    let file_error = |source| Error::File {
        what: "body file",
        path: path.to_owned(),
        source,
    };
    let f = std::fs::File::open(path).map_err(file_error)?;
    let mut buf = Vec::new();
    f.take(MAX_BODY as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(file_error)?;
    check_body_size(buf.len(), &path.display().to_string())?;
    Ok(Bytes::from(buf))
}

fn check_body_size(len: usize, what: &str) -> Result<()> {
    if len > MAX_BODY {
        return Err(RequestError::BodyTooLarge {
            what: what.to_owned(),
            limit: MAX_BODY,
        }
        .into());
    }
    Ok(())
}

/// TLS options the plan carries (CA bundle read by the caller; Kubernetes Secret refs are resolved
/// by whoever runs the engine in a cluster).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
    /// PEM CA bundle to trust.
    pub ca_pem: Option<Vec<u8>>,
    /// SNI / verification name override.
    pub server_name: Option<String>,
}

/// Everything a generator needs, parsed once before the run.
///
/// ```
/// use smi_perf_engine::RunPlan;
/// use smi_types::perf::PerformanceTestSpec;
/// let plan = RunPlan::from_spec(&PerformanceTestSpec::http("http://127.0.0.1:8080/").requests(10)).unwrap();
/// assert_eq!(plan.connections, 1);
/// assert!(RunPlan::from_spec(&PerformanceTestSpec::http("ftp://x/")).is_err());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunPlan {
    /// The spec as given.
    pub spec: PerformanceTestSpec,
    /// Protocol.
    pub protocol: Protocol,
    /// Load model.
    pub model: LoadModel,
    /// Parsed endpoints (round robin).
    pub endpoints: Vec<Endpoint>,
    /// Duration or request count of the recorded part.
    pub length: RunLength,
    /// Unrecorded warm-up before it.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Requests per second (Open: the arrival rate; Closed: a ceiling, 0 = none).
    pub rps: u64,
    /// Connections.
    pub connections: u32,
    /// Streams per connection (HTTP/2).
    pub streams: u32,
    /// Open model: cap on outstanding requests.
    pub max_in_flight: u32,
    /// Runtime worker threads (`None` = CPUs).
    pub threads: Option<u32>,
    /// HdrHistogram settings.
    pub histogram: HistogramSettings,
    /// Percentiles to report, ascending.
    pub percentiles: Vec<f64>,
    /// HTTP method.
    pub method: http::Method,
    /// Headers to send (cookies folded into `cookie`, `contentType` into `content-type`).
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// Body (HTTP) or payload (TCP).
    pub body: Bytes,
    /// TCP: bytes expected back per request.
    pub expect_bytes: u64,
    /// TLS options.
    pub tls: TlsOptions,
    /// Length of one time-series interval (default 1 s; see [`crate::series::check_interval`]).
    pub interval: Duration,
    /// Open model: the arrival schedule (`rps` constant, or the `Linear`/`Step` stages).
    pub schedule: crate::schedule::Schedule,
}

impl RunPlan {
    /// Validates `spec` (every B.4 rule) and resolves defaults. A spec with `request.bodyFrom`
    /// needs [`RunPlan::with_body`] (the engine reads no Kubernetes objects).
    pub fn from_spec(spec: &PerformanceTestSpec) -> Result<RunPlan> {
        Self::build(spec, None)
    }

    /// [`RunPlan::from_spec`] with the request body given as bytes (read with
    /// [`read_body_file`]: `--body-file`, or the `request.bodyFrom` key mounted as a file). It
    /// replaces `request.body` and resolves `request.bodyFrom`; the method defaults to `POST`.
    /// At most [`MAX_BODY`] bytes.
    ///
    /// ```
    /// use smi_perf_engine::RunPlan;
    /// use smi_types::perf::PerformanceTestSpec;
    /// let spec = PerformanceTestSpec::http("http://127.0.0.1:8080/").requests(1);
    /// let plan = RunPlan::with_body(&spec, bytes::Bytes::from_static(b"{}")).unwrap();
    /// assert_eq!((plan.method.as_str(), &plan.body[..]), ("POST", &b"{}"[..]));
    /// let huge = bytes::Bytes::from(vec![0u8; smi_perf_engine::MAX_BODY + 1]);
    /// assert!(RunPlan::with_body(&spec, huge).unwrap_err().to_string().contains("16 MiB"));
    /// ```
    pub fn with_body(spec: &PerformanceTestSpec, body: Bytes) -> Result<RunPlan> {
        check_body_size(body.len(), "request body")?;
        Self::build(spec, Some(body))
    }

    fn build(spec: &PerformanceTestSpec, body_override: Option<Bytes>) -> Result<RunPlan> {
        let errors = spec.validate();
        if !errors.is_empty() {
            return Err(Error::InvalidSpec(errors));
        }
        let protocol = spec.effective_protocol();
        let endpoints = spec
            .endpoints
            .iter()
            .map(|e| {
                Endpoint::parse_for(protocol, e).map_err(|source| Error::Endpoint {
                    endpoint: e.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let req = spec.request.clone().unwrap_or_default();
        if let Some(bf) = &req.body_from
            && body_override.is_none()
        {
            let (kind, name, key) = match (&bf.config_map_key_ref, &bf.secret_key_ref) {
                (Some(r), _) => ("ConfigMap", r.name.as_str(), r.key.as_str()),
                (None, Some(r)) => ("Secret", r.name.as_str(), r.key.as_str()),
                (None, None) => ("no object", "", ""),
            };
            return Err(RequestError::UnresolvedBody {
                kind,
                name: name.to_owned(),
                key: key.to_owned(),
            }
            .into());
        }
        let mut headers = Vec::new();
        for (k, v) in &req.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| Error::http(format!("header {k:?}"), e))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|e| Error::http(format!("header {k:?}"), e))?;
            headers.push((name, value));
        }
        if !req.cookies.is_empty() {
            let cookie = req
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push((
                http::header::COOKIE,
                http::HeaderValue::from_str(&cookie).map_err(|e| Error::http("cookies", e))?,
            ));
        }
        if let Some(ct) = &req.content_type {
            headers.push((
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_str(ct).map_err(|e| Error::http("contentType", e))?,
            ));
        }
        let overridden = body_override.is_some();
        let body = match (body_override, &req.body, protocol) {
            (Some(b), _, _) => b,
            (None, Some(b), _) => Bytes::from(b.clone()),
            (None, None, Protocol::Tcp | Protocol::Udp) => Bytes::from_static(b"smi-perf ping\n"),
            (None, None, _) => Bytes::new(),
        };
        let expect_bytes = req
            .expect_bytes
            .map(|n| n.max(0) as u64)
            .unwrap_or(body.len() as u64);
        let method = if overridden && req.method.is_none() {
            "POST".to_owned()
        } else {
            spec.effective_method()
        };
        let method =
            http::Method::from_bytes(method.as_bytes()).map_err(|e| Error::http("method", e))?;
        let (lowest, highest, sigfig) = spec.effective_histogram();
        let histogram = HistogramSettings {
            lowest,
            highest,
            sigfig,
        };
        let threads = spec.effective_threads();
        let schedule = crate::schedule::Schedule::of(spec);
        check_histogram_memory(histogram, threads, schedule.stage_bounds().len())?;
        let tls = spec.tls.clone().unwrap_or_default();
        Ok(RunPlan {
            spec: spec.clone(),
            protocol,
            model: spec.effective_load_model(),
            endpoints,
            length: spec.run_length(),
            warmup: spec.effective_warmup(),
            timeout: spec.effective_timeout(),
            rps: spec.effective_rps(),
            connections: spec.effective_connections(),
            streams: spec.effective_streams_per_connection(),
            max_in_flight: spec.effective_max_in_flight(),
            threads,
            histogram,
            percentiles: spec.effective_percentiles(),
            method,
            headers,
            body,
            expect_bytes,
            tls: TlsOptions {
                insecure_skip_verify: tls.insecure_skip_verify.unwrap_or(false),
                ca_pem: None,
                server_name: tls.server_name,
            },
            interval: crate::series::DEFAULT_INTERVAL,
            schedule,
        })
    }
}

/// Refuses histogram settings and a thread count whose histograms would exceed
/// [`MAX_HISTOGRAM_MEMORY`].
fn check_histogram_memory(h: HistogramSettings, threads: Option<u32>, stages: usize) -> Result<()> {
    let workers = u64::from(
        threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32)),
    );
    let one = h.new_histogram().distinct_values() as u64 * 8;
    // Per worker: latency, service time, the live window and its publisher's, and three per
    // stage of a ramped schedule; plus the merge.
    let per_worker = 4 + 3 * stages as u64;
    let total = one.saturating_mul(
        workers
            .saturating_mul(per_worker)
            .saturating_add(per_worker),
    );
    if total > MAX_HISTOGRAM_MEMORY {
        return Err(Error::HistogramMemory {
            total,
            each: one,
            workers,
            limit: MAX_HISTOGRAM_MEMORY,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smi_types::perf::HistogramSpec;

    #[test]
    fn histogram_memory_is_bounded() {
        let fine = HistogramSettings::default();
        assert!(check_histogram_memory(fine, Some(1024), 0).is_ok());
        let fine_grained = HistogramSettings {
            lowest: 1,
            highest: 3_600_000_000,
            sigfig: 5,
        };
        assert!(check_histogram_memory(fine_grained, Some(2), 0).is_ok());
        let err = check_histogram_memory(fine_grained, Some(64), 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1024 MiB") && err.contains("threads"), "{err}");
        // Through the spec, as a manifest or the flags give it.
        let mut spec = PerformanceTestSpec::http("http://127.0.0.1:1/").requests(1);
        spec.threads = Some(64);
        spec.histogram = Some(HistogramSpec {
            lowest_micros: Some(1),
            highest_micros: Some(3_600_000_000),
            significant_digits: Some(5),
        });
        assert!(RunPlan::from_spec(&spec).is_err());
    }
}
