//! Live progress: an indicatif bar on a terminal, plain periodic lines otherwise.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smi_perf_engine::Live;
use tokio::sync::oneshot;

/// A line reports a rate only when at least this much of its second was recorded.
const MIN_RECORDED: Duration = Duration::from_millis(250);

/// Spawns the reporter; send on the returned channel (or drop it) to stop it.
pub fn spawn(
    live: Arc<Live>,
    total: Option<Duration>,
    quiet: bool,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        if quiet {
            let _ = rx.await;
            return;
        }
        let tty = std::io::stderr().is_terminal();
        let bar = tty.then(|| {
            let bar = match total {
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
            bar
        });
        let start = Instant::now();
        let mut last_requests = 0u64;
        let mut last_at = start;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut rx => break,
            }
            let s = live.snapshot();
            let now = Instant::now();
            // The part of this second that was recorded: a line is about the second that just
            // ended, and recording may have begun inside it.
            let recorded_from = s.record_from.map(|r| r.max(last_at));
            let msg = match recorded_from {
                None => "connecting".to_string(),
                Some(from) if now.saturating_duration_since(from) < MIN_RECORDED => {
                    "warm-up (not recorded)".to_string()
                }
                Some(from) => {
                    let rate = s.requests.saturating_sub(last_requests) as f64
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
            last_requests = s.requests;
            last_at = now;
            match &bar {
                Some(b) => {
                    b.set_position(now.duration_since(start).as_millis() as u64);
                    b.set_message(msg);
                }
                None => {
                    // A progress line that cannot be written is not worth a panic.
                    use std::io::Write as _;
                    let secs = now.duration_since(start).as_secs();
                    let _ = writeln!(std::io::stderr().lock(), "[{secs:>4}s] {msg}");
                }
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    });
    (tx, handle)
}
