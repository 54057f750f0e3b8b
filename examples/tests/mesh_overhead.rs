//! `mesh-overhead`: runs the binary with one-second runs and checks both runs and the table.

use std::process::Command;

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

#[test]
fn compares_direct_and_proxied_runs_per_percentile() {
    let run = Command::new(env!("CARGO_BIN_EXE_mesh-overhead"))
        .args(["--duration", "1s", "--connections", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    for name in ["direct:", "proxied:"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in {stdout}"));
        assert!(
            field(line, "requests").parse::<u64>().unwrap() > 0,
            "{line}"
        );
        assert_eq!(field(line, "errors"), "0", "{line}");
        // How many sends a loaded machine dropped is not asserted; only that a side which
        // dropped any is reported as not keeping the rate (and the comparison as void).
        let dropped: u64 = field(line, "dropped").parse().unwrap();
        if dropped > 0 {
            let side = name.trim_end_matches(':');
            assert!(
                stdout.contains(&format!("{side}: could not keep")),
                "{stdout}"
            );
            assert!(
                stdout.contains("the rate is above a side's capacity"),
                "{stdout}"
            );
        }
    }
    assert_ne!(
        stdout.contains("the rate is above a side's capacity"),
        stdout.contains("below capacity, the same load"),
        "exactly one verdict on the comparison: {stdout}"
    );

    let header = stdout
        .lines()
        .find(|l| l.starts_with("percentile"))
        .unwrap_or_else(|| panic!("no table in {stdout}"));
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["percentile", "base", "mesh", "added", "added", "%"]
    );
    for row in ["p50", "p75", "p90", "p95", "p99", "p99.9", "mean", "max"] {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(row))
            .unwrap_or_else(|| panic!("no {row} row in {stdout}"));
        // p50   0.267 ms   0.376 ms   +0.109 ms   +40.8%
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.len(), 8, "{line}");
        let (base, mesh, added): (f64, f64, f64) = (
            cols[1].parse().unwrap(),
            cols[3].parse().unwrap(),
            cols[5].parse().unwrap(),
        );
        assert!(base > 0.0 && mesh > 0.0, "{line}");
        assert!(
            (mesh - base - added).abs() < 0.002,
            "added = mesh - base in {line}"
        );
    }
}
