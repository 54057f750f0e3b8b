//! Per-worker recording: one [`Recorder`] per lane, merged once at the end (no shared lock).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::series::Series;

/// Kind of a transport failure, the key of `errors` in the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection was refused.
    ConnectRefused,
    /// Connecting failed otherwise (unreachable, DNS, out of file descriptors).
    Connect,
    /// The peer reset or closed the connection mid-exchange.
    Reset,
    /// The per-request timeout expired while waiting for the answer.
    Timeout,
    /// The per-request timeout expired while the TCP connection was being opened (a full accept
    /// queue, a black-holed address).
    ConnectTimeout,
    /// The per-request timeout expired during the TLS (or HTTP/2) handshake: the peer accepted
    /// the connection and then stayed silent.
    HandshakeTimeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// The peer broke the protocol (garbage, bad framing).
    Protocol,
    /// Anything else.
    Other,
    /// UDP: no echo came back within the loss timeout (the datagram or its echo was lost).
    Lost,
}

impl ErrorKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::ConnectRefused,
        ErrorKind::Connect,
        ErrorKind::Reset,
        ErrorKind::Timeout,
        ErrorKind::ConnectTimeout,
        ErrorKind::HandshakeTimeout,
        ErrorKind::Tls,
        ErrorKind::Protocol,
        ErrorKind::Other,
        ErrorKind::Lost,
    ];

    /// The name used in results (`connectRefused`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connectRefused",
            ErrorKind::Connect => "connect",
            ErrorKind::Reset => "reset",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectTimeout => "connectTimeout",
            ErrorKind::HandshakeTimeout => "handshakeTimeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
            ErrorKind::Lost => "lost",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Classifies an I/O error.
    pub fn from_io(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        // EMFILE / ENFILE: no descriptor for a new socket (Linux and the BSDs agree on 23/24).
        if cfg!(unix) && matches!(e.raw_os_error(), Some(23 | 24)) {
            return ErrorKind::Connect;
        }
        match e.kind() {
            K::ConnectionRefused => ErrorKind::ConnectRefused,
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => ErrorKind::Reset,
            K::TimedOut => ErrorKind::Timeout,
            K::InvalidData => ErrorKind::Protocol,
            K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable | K::AddrInUse => {
                ErrorKind::Connect
            }
            _ => ErrorKind::Other,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one request produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// An answer: HTTP status (TCP/UDP echo: 200 when complete), bytes written and read.
    Response {
        /// Status code.
        status: u16,
        /// Bytes written (estimate of the request head plus the body).
        sent: u64,
        /// Bytes read (estimate of the response head plus the body).
        received: u64,
    },
    /// A gRPC call that got an answer: its HTTP status and its gRPC status (`grpc-status`, or
    /// the one the client synthesized, see [`crate::grpc`]). It succeeded when the HTTP status is
    /// 200 and the gRPC status 0 (OK).
    Grpc {
        /// HTTP status.
        status: u16,
        /// gRPC status code (0 OK … 16 UNAUTHENTICATED; others are counted as 2 UNKNOWN).
        code: u8,
        /// Bytes written (estimate of the request headers plus the framed message).
        sent: u64,
        /// Bytes read (estimate of the response headers plus the frames).
        received: u64,
    },
    /// A transport failure.
    Error {
        /// What failed.
        kind: ErrorKind,
        /// Bytes written before the failure.
        sent: u64,
    },
}

impl Outcome {
    /// For an answer (HTTP, TCP/UDP echo, gRPC): its HTTP status and whether it succeeded;
    /// `None` for a transport failure.
    ///
    /// ```
    /// use smi_perf_engine::Outcome;
    /// assert_eq!(Outcome::Response { status: 503, sent: 1, received: 1 }.answer(), Some((503, false)));
    /// assert_eq!(Outcome::Grpc { status: 200, code: 14, sent: 1, received: 1 }.answer(), Some((200, false)));
    /// assert_eq!(Outcome::Grpc { status: 200, code: 0, sent: 1, received: 1 }.answer(), Some((200, true)));
    /// ```
    #[inline]
    pub fn answer(&self) -> Option<(u16, bool)> {
        match *self {
            Outcome::Response { status, .. } => Some((status, status < 400)),
            Outcome::Grpc { status, code, .. } => Some((status, status == 200 && code == 0)),
            Outcome::Error { .. } => None,
        }
    }
}

/// gRPC status codes a [`Recorder`] counts apart: 0 (OK) to 16 (UNAUTHENTICATED). Any other
/// code is counted as 2 (UNKNOWN), as the gRPC status-code spec asks of clients.
pub const GRPC_CODES: usize = 17;

/// The name of gRPC status `code` (`OK`, `UNAVAILABLE`…), `UNKNOWN` outside 0–16.
///
/// ```
/// assert_eq!(smi_perf_engine::grpc_code_name(14), "UNAVAILABLE");
/// ```
pub fn grpc_code_name(code: u32) -> &'static str {
    const NAMES: [&str; GRPC_CODES] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(code as usize).copied().unwrap_or("UNKNOWN")
}

/// Histogram settings: lowest and highest trackable µs, significant digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramSettings {
    /// Lowest discernible value, µs.
    pub lowest: u64,
    /// Highest trackable value, µs (larger samples are clamped).
    pub highest: u64,
    /// Significant decimal digits.
    pub sigfig: u8,
}

impl Default for HistogramSettings {
    fn default() -> Self {
        HistogramSettings {
            lowest: 1,
            highest: 60_000_000,
            sigfig: 3,
        }
    }
}

impl HistogramSettings {
    /// A new empty histogram with these settings.
    pub fn new_histogram(&self) -> Histogram<u64> {
        Histogram::new_with_bounds(self.lowest, self.highest, self.sigfig).unwrap_or_else(|_| {
            Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("default histogram bounds are valid")
        })
    }
}

/// Counters and histograms of one worker lane; merged with [`Recorder::merge`].
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Latency of successful responses, µs (Open model: from the intended send time).
    pub latency: Histogram<u64>,
    /// Time to failure of failed requests (error statuses, transport errors, timeouts), µs,
    /// on the same basis as `latency`; never mixed into it.
    pub failed_latency: Histogram<u64>,
    /// Open model: service time of successful responses from the actual send, µs.
    pub uncorrected: Option<Histogram<u64>>,
    /// Responses with status < 400.
    pub succeeded: u64,
    /// Responses with status ≥ 400 plus transport errors.
    pub failed: u64,
    /// Open model: scheduled sends refused by `maxInFlight`.
    pub dropped: u64,
    /// Requests started in the recorded window and still in flight when the run ended (not
    /// part of [`total`](Self::total)).
    pub cut_off: u64,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// Counts by status code 0..=999 (a fixed array: no allocation on the hot path).
    pub status: Box<[u64; 1000]>,
    /// gRPC calls by gRPC status code (see [`GRPC_CODES`]).
    pub grpc: [u64; GRPC_CODES],
    /// Counts by [`ErrorKind`], indexed by `ErrorKind as usize`.
    pub errors: [u64; ErrorKind::ALL.len()],
    /// The same over time, when recorded with [`Recorder::record_at`].
    pub series: Option<Series>,
    /// Ramped rate shapes: one recorder per stage of the schedule (requests by the stage of
    /// their intended send time), without series; empty otherwise.
    pub stages: Vec<Recorder>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new(settings: HistogramSettings, open_model: bool) -> Self {
        Recorder {
            latency: settings.new_histogram(),
            failed_latency: settings.new_histogram(),
            uncorrected: open_model.then(|| settings.new_histogram()),
            succeeded: 0,
            failed: 0,
            dropped: 0,
            cut_off: 0,
            bytes_sent: 0,
            bytes_received: 0,
            status: Box::new([0; 1000]),
            grpc: [0; GRPC_CODES],
            errors: [0; ErrorKind::ALL.len()],
            series: None,
            stages: Vec::new(),
        }
    }

    /// Also records per stage: `n` stage recorders (see [`Recorder::stages`]).
    pub fn with_stages(mut self, settings: HistogramSettings, n: usize) -> Self {
        self.stages = (0..n).map(|_| Recorder::new(settings, true)).collect();
        self
    }

    /// Also records a time series (see [`Series`]).
    pub fn with_series(mut self, series: Series) -> Self {
        self.series = Some(series);
        self
    }

    /// [`Recorder::record`], and into the time series at `at` (the completion instant).
    #[inline]
    pub fn record_at(
        &mut self,
        outcome: Outcome,
        latency: Duration,
        service: Option<Duration>,
        at: Instant,
    ) {
        self.record(outcome, latency, service);
        if let Some(s) = self.series.as_mut() {
            s.record(outcome, latency, service, at);
        }
    }

    /// Records one finished request. `latency` is the recorded basis; `service` the time from
    /// the actual send (Open model only). A successful response (status < 400) goes into
    /// `latency` (and `uncorrected`); an error status or a transport error into `failed_latency`.
    #[inline]
    pub fn record(&mut self, outcome: Outcome, latency: Duration, service: Option<Duration>) {
        match outcome {
            Outcome::Response {
                status,
                sent,
                received,
            } => {
                self.status[usize::from(status).min(999)] += 1;
                self.bytes_sent += sent;
                self.bytes_received += received;
                if status < 400 {
                    self.succeeded += 1;
                    self.latency.saturating_record(micros(latency));
                    if let (Some(h), Some(s)) = (self.uncorrected.as_mut(), service) {
                        h.saturating_record(micros(s));
                    }
                } else {
                    self.failed += 1;
                    self.failed_latency.saturating_record(micros(latency));
                }
            }
            Outcome::Grpc {
                status,
                code,
                sent,
                received,
            } => {
                self.status[usize::from(status).min(999)] += 1;
                let code = if usize::from(code) < GRPC_CODES {
                    code
                } else {
                    2
                };
                self.grpc[usize::from(code)] += 1;
                self.bytes_sent += sent;
                self.bytes_received += received;
                if status == 200 && code == 0 {
                    self.succeeded += 1;
                    self.latency.saturating_record(micros(latency));
                    if let (Some(h), Some(s)) = (self.uncorrected.as_mut(), service) {
                        h.saturating_record(micros(s));
                    }
                } else {
                    self.failed += 1;
                    self.failed_latency.saturating_record(micros(latency));
                }
            }
            Outcome::Error { kind, sent } => {
                self.record_error(kind);
                self.failed_latency.saturating_record(micros(latency));
                self.bytes_sent += sent;
            }
        }
    }

    /// Records a transport failure whose duration is unknown (use [`Recorder::record`] with an
    /// [`Outcome::Error`] when it is known).
    #[inline]
    pub fn record_error(&mut self, kind: ErrorKind) {
        self.failed += 1;
        self.errors[kind.index()] += 1;
    }

    /// Recorded requests (succeeded + failed).
    pub fn total(&self) -> u64 {
        self.succeeded + self.failed
    }

    /// Transport errors of `kind`.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()]
    }

    /// Adds `other` into `self` exactly.
    pub fn merge(&mut self, other: &Recorder) {
        // Same settings by construction; a failure here would be a bug, so saturate instead of panic.
        let _ = self.latency.add(&other.latency);
        let _ = self.failed_latency.add(&other.failed_latency);
        match (self.uncorrected.as_mut(), other.uncorrected.as_ref()) {
            (Some(a), Some(b)) => {
                let _ = a.add(b);
            }
            (None, Some(b)) => self.uncorrected = Some(b.clone()),
            _ => {}
        }
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.dropped += other.dropped;
        self.cut_off += other.cut_off;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        for (a, b) in self.status.iter_mut().zip(other.status.iter()) {
            *a += b;
        }
        for (a, b) in self.grpc.iter_mut().zip(other.grpc.iter()) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        match (self.series.as_mut(), other.series.as_ref()) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.series = Some(b.clone()),
            _ => {}
        }
        for (i, b) in other.stages.iter().enumerate() {
            match self.stages.get_mut(i) {
                Some(a) => a.merge(b),
                None => self.stages.push(b.clone()),
            }
        }
    }
}

/// Rounds a duration to whole µs, at least 1 (HdrHistogram's lowest value).
#[inline]
pub fn micros(d: Duration) -> u64 {
    (d.as_nanos() / 1000).max(1).min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_kinds() {
        let io = std::io::Error::from;
        assert_eq!(
            ErrorKind::from_io(&io(std::io::ErrorKind::ConnectionRefused)),
            ErrorKind::ConnectRefused
        );
        assert_eq!(
            ErrorKind::from_io(&io(std::io::ErrorKind::ConnectionReset)),
            ErrorKind::Reset
        );
        assert_eq!(
            ErrorKind::from_io(&io(std::io::ErrorKind::InvalidData)),
            ErrorKind::Protocol
        );
        #[cfg(unix)]
        {
            // EMFILE: the process ran out of descriptors for new sockets.
            let emfile = std::io::Error::from_raw_os_error(24);
            assert_eq!(ErrorKind::from_io(&emfile), ErrorKind::Connect);
        }
    }
}
