//! Memory grows with the largest document, not with the size of the stream:
//! `Validator::validate_reader` reads, validates and drops one document at a time. What stays per
//! valid SMI object is its entry in the cross-object index, and nothing in the report (see
//! `BENCH.md`, "Memory"); without the cross-object rules (`Options::skip_cross`), nothing at all. Checked with the peak resident set (Linux `VmHWM`), so these tests are
//! alone in their binary; the per-object figures are measured in a child process each (this
//! binary run again for one case), because memory freed by one measurement would be reused, not
//! counted, by the next.

#![cfg(target_os = "linux")]

use std::io::{self, BufReader, Read};

/// A stream of `n` SMI documents, each carrying a `pad`-byte annotation, generated while it is
/// read (the stream itself is never in memory).
struct Stream {
    n: usize,
    pad: usize,
    next: usize,
    doc: Vec<u8>,
    at: usize,
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.doc.len() {
            if self.next == self.n {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            self.doc = format!(
                "---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: split-{i}\n  namespace: ns\n  annotations:\n    pad: {}\nspec:\n  service: web-{i}\n  backends:\n  - service: web-{i}-v1\n    weight: 1\n",
                "x".repeat(self.pad)
            )
            .into_bytes();
            self.at = 0;
        }
        let k = buf.len().min(self.doc.len() - self.at);
        buf[..k].copy_from_slice(&self.doc[self.at..self.at + k]);
        self.at += k;
        Ok(k)
    }
}

/// Peak resident set of this process, in bytes.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

fn validate(n: usize, pad: usize) -> smi_validate::Report {
    validate_with(n, pad, smi_validate::Options::default())
}

fn validate_with(n: usize, pad: usize, opts: smi_validate::Options) -> smi_validate::Report {
    let mut v = smi_validate::Validator::new(opts);
    let stream = Stream {
        n,
        pad,
        next: 0,
        doc: Vec::new(),
        at: 0,
    };
    v.validate_reader("stream.yaml", BufReader::new(stream))
        .unwrap();
    v.finish()
}

#[test]
fn peak_memory_follows_the_largest_document_not_the_stream() {
    const PAD: usize = 64 << 10;
    // warm up (routing table, CEL, allocator) with a few documents of the same size
    let r = validate(4, PAD);
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    let before = peak_rss();
    // 400 documents of 64 KiB: a 26 MB stream
    let n = 400;
    let r = validate(n, PAD);
    assert_eq!(r.summary.smi_objects, n);
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    let grown = peak_rss().saturating_sub(before);
    let stream = n * PAD;
    // holding the stream (or its documents) would add at least its size; one document at a
    // time adds a few times one document, and the index a few hundred bytes per object
    eprintln!("streamed {stream} bytes: peak RSS grew by {grown} bytes");
    assert!(
        grown < stream / 8,
        "peak RSS grew by {grown} bytes validating a {stream}-byte stream of {PAD}-byte documents"
    );

    // the measurement has teeth: the same stream held in memory raises the peak by its size
    let before = peak_rss();
    let mut text = String::new();
    Stream {
        n,
        pad: PAD,
        next: 0,
        doc: Vec::new(),
        at: 0,
    }
    .read_to_string(&mut text)
    .unwrap();
    let held = peak_rss().saturating_sub(before);
    eprintln!("held {} bytes: peak RSS grew by {held} bytes", text.len());
    assert!(
        held >= stream / 2,
        "holding {stream} bytes grew the peak by {held}"
    );
}

/// Small valid documents per measurement: enough that a few hundred bytes each are megabytes.
const SMALL: usize = 20_000;

/// Runs `case` in a child process (this binary, `--exact per_object_case`) and returns the bytes
/// per object it measured.
fn per_object(case: &str) -> usize {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "per_object_case",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SMI_MEMORY_CASE", case)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{case}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = stdout
        .lines()
        .find_map(|l| l.split_once("per-object bytes: ").map(|(_, b)| b))
        .unwrap_or_else(|| panic!("{case}: no figure in {stdout}"));
    let bytes = bytes.trim().parse().unwrap();
    eprintln!("{case}: {bytes} bytes per object ({SMALL} objects)");
    bytes
}

/// The child's side of [`per_object`]: does nothing unless `SMI_MEMORY_CASE` is set.
#[test]
fn per_object_case() {
    let Ok(case) = std::env::var("SMI_MEMORY_CASE") else {
        return;
    };
    // warm up (routing table, schemas, allocator)
    drop(validate(50, 0));
    let before = peak_rss();
    let kept: usize = match case.as_str() {
        // everything a run keeps: the index until `finish`, then the report
        "validate" => {
            let r = validate(SMALL, 0);
            assert_eq!(r.summary.smi_objects, SMALL);
            assert!(r.is_valid(), "{:#?}", r.diagnostics);
            assert!(r.files.iter().all(|f| f.objects.is_empty()));
            let grown = peak_rss().saturating_sub(before);
            drop(r);
            grown
        }
        // the same run listing every object in the report (as the JUnit and TAP outputs ask)
        "list_objects" => {
            let r = validate_with(
                SMALL,
                0,
                smi_validate::Options::default().list_objects(true),
            );
            assert_eq!(r.files[0].objects.len(), SMALL);
            let grown = peak_rss().saturating_sub(before);
            drop(r);
            grown
        }
        // the same run without the cross-object rules: nothing kept per object
        "no_cross" => {
            let r = validate_with(SMALL, 0, smi_validate::Options::default().skip_cross(true));
            assert_eq!(r.summary.smi_objects, SMALL);
            assert!(r.summary.cross_object_skipped);
            assert!(r.is_valid(), "{:#?}", r.diagnostics);
            assert!(r.files.iter().all(|f| f.objects.is_empty()));
            let grown = peak_rss().saturating_sub(before);
            drop(r);
            grown
        }
        // a known cost: 256 bytes kept per object
        "control" => {
            let held: Vec<Box<[u8]>> = (0..SMALL)
                .map(|i| vec![i as u8; 256].into_boxed_slice())
                .collect();
            let grown = peak_rss().saturating_sub(before);
            drop(held);
            grown
        }
        other => panic!("unknown case {other}"),
    };
    println!("per-object bytes: {}", kept / SMALL);
}

#[test]
fn a_valid_object_keeps_at_most_200_bytes() {
    let cost = per_object("validate");
    assert!(cost <= 200, "{cost} bytes per valid object");
}

/// Without the cross-object rules (`--no-cross`) a valid object keeps nothing: memory is constant
/// in the number of objects. 16 bytes per object over 20,000 objects is 320 KB, less than the
/// index alone would take for 3,000 of them.
#[test]
fn without_cross_object_rules_a_valid_object_keeps_nothing() {
    let cost = per_object("no_cross");
    assert!(cost < 16, "{cost} bytes per valid object with skip_cross");
}

/// The measurement has teeth: a known 256 bytes kept per object, or the report's object list
/// on top of the index (what every valid object used to leave), fails the bound above.
#[test]
fn the_per_object_measurement_sees_a_known_cost() {
    let control = per_object("control");
    assert!(
        control > 200,
        "256 bytes kept per object measured as {control}"
    );
    let listed = per_object("list_objects");
    assert!(
        listed > 200,
        "index and object list: {listed} bytes per object"
    );
}
