//! Open-model pacing: waking a lane at its next intended send with sub-millisecond precision.
//!
//! tokio's timer wheel has a 1 ms resolution and rounds deadlines up, so a lane sleeping with
//! `tokio::time::sleep_until` starts each send 0–1 ms after its intended time. The Open model
//! times latency from the intended send, so that lag would be reported as latency: the README's
//! demo showed a corrected p50 of 1.1 ms for a 0.07 ms service time. On Linux each Open-model
//! lane therefore waits on its own one-shot `timerfd` (nanosecond deadline, woken through
//! tokio's I/O driver); elsewhere, or if the timerfd cannot be created (out of file
//! descriptors), it falls back to tokio's timer.

use tokio::time::Instant;

/// A per-lane pacer. Create it inside the runtime.
#[derive(Debug)]
pub(crate) struct Pacer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Pacer {
    /// A pacer on a timerfd when the platform has one.
    pub(crate) fn new() -> Pacer {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )
            .ok()
            .and_then(|fd| {
                // tokio 1.54 deprecates the safe constructors because an arbitrary `AsRawFd`
                // may close or swap its descriptor behind the reactor's back. An `OwnedFd`
                // moved into the `AsyncFd` cannot: it stays open and the same until the
                // `AsyncFd` drops it, which is the contract `register` asks for. The
                // replacement is an `unsafe fn`, and this workspace forbids `unsafe`.
                #[allow(deprecated)]
                tokio::io::unix::AsyncFd::new(fd).ok()
            });
            Pacer { fd }
        }
        #[cfg(not(target_os = "linux"))]
        Pacer {}
    }

    /// Whether waits use the precise timer.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_precise(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.fd.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Waits until `at` (returns at once when it has passed).
    pub(crate) async fn sleep_until(&mut self, at: Instant) {
        let now = Instant::now();
        if at <= now {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd
            && Self::timerfd_wait(fd, at - now).await.is_ok()
        {
            return;
        }
        tokio::time::sleep_until(at).await;
    }

    #[cfg(target_os = "linux")]
    async fn timerfd_wait(
        fd: &tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
        d: std::time::Duration,
    ) -> std::io::Result<()> {
        use rustix::time::{Itimerspec, TimerfdTimerFlags, Timespec, timerfd_settime};
        let value = Timespec {
            tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: d.subsec_nanos().into(),
        };
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        timerfd_settime(fd.get_ref(), TimerfdTimerFlags::empty(), &spec)?;
        loop {
            let mut guard = fd.readable().await?;
            let mut expirations = [0u8; 8];
            match guard.try_io(|inner| {
                rustix::io::read(inner.get_ref(), &mut expirations).map_err(std::io::Error::from)
            }) {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::time::Duration;

    /// Structural only: how close the wake-ups land is a measurement (bench/), not a test, because
    /// a loaded machine moves it. What cannot vary: the precise timer is used on Linux, no wake-up
    /// is early, and a deadline that has passed is ready on the first poll, without awaiting.
    #[tokio::test]
    async fn never_wakes_early_and_past_deadlines_are_ready_at_once() {
        let mut p = Pacer::new();
        #[cfg(target_os = "linux")]
        assert!(p.is_precise());
        for i in 0..40u64 {
            let at = Instant::now() + Duration::from_micros(300 + 37 * i);
            p.sleep_until(at).await;
            let now = Instant::now();
            assert!(now >= at, "woke {:?} early", at - now);
        }
        let past = Instant::now() - Duration::from_millis(5);
        let mut wait = std::pin::pin!(p.sleep_until(past));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }
}
