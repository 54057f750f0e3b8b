//! What the `smi-perf` binary tests share: running the binary with a deadline.
// Each test crate includes this module and uses some of it.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_smi-perf");

/// Runs `smi-perf args…` with stdin closed and stdout and stderr captured; kills it after 60 s.
pub fn smi_perf(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn smi-perf");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("smi-perf {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Bytes as text, lossily (for messages and matching).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
