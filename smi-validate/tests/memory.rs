//! Memory grows with the largest document, not with the size of the stream:
//! `Validator::validate_reader` reads, validates and drops one document at a time. What stays per
//! SMI object is its entry in the cross-object index and the report's object list (measured here
//! at about 1.2 KiB per TrafficSplit, allocator overhead included; bounded at 2 KiB). Checked with the process's peak resident set (Linux `VmHWM`), so this test is alone
//! in its binary (no other test allocating beside it).

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
    let mut v = smi_validate::Validator::new(smi_validate::Options::default());
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

    // many small documents: what stays is the cross-object index and the report's object list
    let before = peak_rss();
    let small = 5_000;
    let r = validate(small, 0);
    assert_eq!(r.summary.smi_objects, small);
    let grown = peak_rss().saturating_sub(before);
    eprintln!(
        "{small} small documents: peak RSS grew by {grown} bytes, {} per object",
        grown / small
    );
    assert!(grown / small < 2048, "{} bytes per object", grown / small);
    drop(r);

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
