//! The `smi-validate` binary under faults: symbolic link loops in a directory walk, a full disk
//! (`/dev/full`), a closed stdout, an oversized `convert` input, absurd limits and control
//! characters in manifests.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_smi-validate");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited (no signal)")
}

fn split(name: &str) -> String {
    format!(
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: {name}}}\nspec:\n  service: {name}\n  backends:\n  - {{service: {name}-v1, weight: 1}}\n"
    )
}

/// Two directories linking to each other never finished (memory growing); a link to the parent
/// made every file be validated 41 times, with 40 false "defined twice" warnings.
#[cfg(unix)]
#[test]
fn symlinked_directories_are_walked_once_and_loops_reported() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("one.yaml"), split("one")).unwrap();
    std::fs::write(b.join("two.yaml"), split("two")).unwrap();
    symlink(&b, a.join("to-b")).unwrap();
    symlink(&a, b.join("to-a")).unwrap();
    symlink(dir.path(), a.join("up")).unwrap();
    symlink(a.join("one.yaml"), b.join("same-file.yaml")).unwrap();

    let o = run(&["--summary", dir.path().to_str().unwrap()]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(code(&o), 0, "{out}{err}");
    assert!(out.contains("2 file(s)"), "each file once: {out}");
    assert!(!out.contains("defined twice"), "{out}");
    assert!(err.contains("symbolic link loop"), "{err}");
}

/// A write error on stdout is an I/O error (exit 2, with a message), not a silent success.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, split("web")).unwrap();
    let f = file.to_str().unwrap();
    for args in [
        &["crds"][..],
        &["crds", "--check"],
        &["-o", "json", f],
        &["-o", "sarif", f],
        &["convert", "--to", "split.smi-spec.io/v1alpha3", f],
    ] {
        let o = Command::new(BIN)
            .args(args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(err.contains("cannot write the output"), "{args:?}: {err}");
    }
}

/// stdout closed by the reader (`smi-validate crds | head -c0`): exit 2 with a message, never a
/// panic (the CRDs are larger than a pipe's buffer, so the write fails for sure).
#[test]
fn a_closed_stdout_is_an_io_error_not_a_panic() {
    let mut child = Command::new(BIN)
        .arg("crds")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("cannot write the output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `convert` read a whole 2 GB file before checking its 64 MiB limit; now the limit stops the
/// read (the file here is sparse: 2 GB long, no disk used).
#[test]
fn convert_stops_reading_at_the_input_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let o = run(&[
        "convert",
        "--to",
        "split.smi-spec.io/v1alpha4",
        file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("larger than the limit of 67108864 bytes"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

/// `--max-depth` has a ceiling (10,000,000 with a 1,000,000-deep input overflowed the stack).
#[test]
fn max_depth_above_the_ceiling_is_a_usage_error() {
    let o = run(&["--max-depth", "10000000", "-"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("outside 1..=1000"), "{err}");
}

/// Control characters from a manifest never reach the terminal raw, and a 2 MB line is not
/// echoed whole (twice) in the diagnostic.
#[test]
fn text_output_escapes_control_characters_and_clips_long_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    let long = "x".repeat(2_000_000);
    std::fs::write(
        &file,
        format!(
            "{}---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: \"web\\e[2J\"}}\nspec:\n  service: web\n  backends:\n  - {{service: web-v1, weight: 1}}\n",
            split("long").replace("weight: 1", &format!("weight: \"{long}\""))
        ),
    )
    .unwrap();
    let o = run(&[file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 1, "{}", &out[..out.len().min(2000)]);
    assert!(!out.contains('\u{1b}'), "raw escape in {out:?}");
    assert!(
        out.contains(r"web\u{1b}[2J"),
        "{}",
        &out[..out.len().min(2000)]
    );
    assert!(out.len() < 20_000, "{} bytes of output", out.len());
}
