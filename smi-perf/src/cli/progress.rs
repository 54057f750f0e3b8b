//! Live progress of a [`Session`](smi_perf_engine::Session): an indicatif bar on a terminal,
//! plain periodic lines otherwise, and the embedded target's addresses.

use std::io::IsTerminal;
use std::io::Write as _;
use std::time::{Duration, Instant};

use smi_perf_engine::{Event, LiveSnapshot};

/// A line reports a rate only when at least this much of its second was recorded.
const MIN_RECORDED: Duration = Duration::from_millis(250);

/// Turns session events into progress output on stderr (nothing when quiet).
pub struct Reporter {
    quiet: bool,
    total: Option<Duration>,
    bar: Option<indicatif::ProgressBar>,
    /// When the load started (the first progress event's period began).
    start: Option<Instant>,
    last_requests: u64,
    last_at: Instant,
}

impl Reporter {
    /// `total`: the run's length when it has one (a bar), else a spinner.
    pub fn new(total: Option<Duration>, quiet: bool) -> Reporter {
        Reporter {
            quiet,
            total,
            bar: None,
            start: None,
            last_requests: 0,
            last_at: Instant::now(),
        }
    }

    /// Handles one event of the session.
    pub fn event(&mut self, e: Event<'_>) {
        if self.quiet {
            return;
        }
        match e {
            Event::TargetStarted(s) => note(&format!(
                "embedded target on http://{} (HTTP/1.1 + h2c), tcp://{}, udp://{}, gRPC h2c on {}",
                s.http_addr,
                s.tcp_addr.map(|a| a.to_string()).unwrap_or_default(),
                s.udp_addr.map(|a| a.to_string()).unwrap_or_default(),
                s.grpc_addr.map(|a| a.to_string()).unwrap_or_default()
            )),
            Event::Progress(s) => self.progress(s),
            Event::Finished => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    }

    fn progress(&mut self, s: &LiveSnapshot) {
        let now = Instant::now();
        let start = *self.start.get_or_insert_with(|| {
            // The first event comes one period after the load began.
            self.last_at = now - Duration::from_secs(1);
            self.last_at
        });
        if self.bar.is_none() && std::io::stderr().is_terminal() {
            let bar = match self.total {
                Some(t) => indicatif::ProgressBar::new(t.as_millis() as u64),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    // 1 + 1 + 10 + 1 + 10 + 1 + 55 (the message) = 79 columns: fits an 80-column terminal.
                    "{spinner} [{elapsed_precise}] {bar:10} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
        // The part of this second that was recorded: a line is about the second that just
        // ended, and recording may have begun inside it.
        let recorded_from = s.record_from.map(|r| r.max(self.last_at));
        let msg = match recorded_from {
            None => "connecting".to_string(),
            Some(from) if now.saturating_duration_since(from) < MIN_RECORDED => {
                "warm-up (not recorded)".to_string()
            }
            Some(from) => {
                let rate = s.requests.saturating_sub(self.last_requests) as f64
                    / now.duration_since(from).as_secs_f64();
                // No response completed in this second: say so rather than print a p99 of 0.
                let p99 = if s.window_count == 0 {
                    format!("{:>8} --", "")
                } else {
                    format!("{:>8.3} ms", s.window_p99_micros as f64 / 1000.0)
                };
                format!(
                    "{:>9} req {:>8.0} req/s err {:>6} p99 {p99}",
                    s.requests, rate, s.errors
                )
            }
        };
        self.last_requests = s.requests;
        self.last_at = now;
        match &self.bar {
            Some(b) => {
                b.set_position(now.duration_since(start).as_millis() as u64);
                b.set_message(msg);
            }
            None => {
                let secs = now.duration_since(start).as_secs();
                note(&format!("[{secs:>4}s] {msg}"));
            }
        }
    }
}

/// Writes a line to stderr; a stderr that cannot be written is not worth a panic.
fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
