//! What the CLI test files share: running the binary with optional stdin.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_smi-validate");

/// Runs `smi-validate` with `args`, feeding `stdin` if given (a closed pipe is not an error here).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        let _ = c.stdin.take().unwrap().write_all(s.as_bytes());
    }
    drop(c.stdin.take());
    c.wait_with_output().unwrap()
}

/// The exit code (the binary is never killed by a signal in these tests).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}
