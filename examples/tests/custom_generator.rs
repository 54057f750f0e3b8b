//! `custom-generator`: runs the binary for one second and checks what it reports.

use std::process::Command;
use std::time::{Duration, Instant};

fn field(line: &str, key: &str) -> u64 {
    let value = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"));
    value.parse().unwrap()
}

#[test]
fn runs_a_plugged_in_generator_and_rejects_what_it_cannot_do() {
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_custom-generator"))
        .args(["--duration", "1s", "--connections", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded run took {:?}",
        started.elapsed()
    );

    // the unsupported combination is refused up front, naming what is supported
    let rejected = stdout
        .lines()
        .find(|l| l.starts_with("rejected before the run:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        rejected.contains("does not support TCP with the Open load model"),
        "{rejected}"
    );
    assert!(
        rejected.contains("supports protocols [TCP] and load models [Closed]"),
        "{rejected}"
    );
    assert!(
        stdout.contains("connections the rejected run made: 0\n"),
        "{stdout}"
    );

    let result = stdout
        .lines()
        .find(|l| l.starts_with("result:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let requests = field(result, "requests");
    assert!(requests > 0, "{result}");
    assert_eq!(field(result, "succeeded"), requests, "{result}");
    assert_eq!(field(result, "failed"), 0, "{result}");
    assert!(result.ends_with("generator=redis-ping"), "{result}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}");
}
