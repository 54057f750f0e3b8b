//! Hostile input through `smi_types::parse_yaml_stream_with`: every case ends in a clear error
//! (mostly [`Error::Limit`], naming the limit) or a bounded result, in bounded time and memory.
//!
//! Inputs are generated in memory. Each case runs on its own thread with a generous wall-clock
//! guard of 180 s (a hang guard, not a performance assertion: `cargo test` builds are unoptimized).

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use smi_types::{Document, Error, Limits, parse_yaml_stream_with};

/// Runs `f` on a thread; fails the test if it takes longer than `secs` (a hang guard only).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {secs} s (hang?)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the parsing thread panicked"),
    }
}

fn parse(input: String, limits: Limits) -> Result<Vec<Document>, Error> {
    within(180, move || parse_yaml_stream_with(&input, &limits))
}

fn limit_message(r: Result<Vec<Document>, Error>) -> String {
    match r {
        Err(Error::Limit { message, .. }) => message,
        other => panic!("expected Error::Limit, got {other:?}"),
    }
}

const SPLIT: &str = "apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata:
  name: canary
spec:
  service: web
  backends:
  - service: web-v1
    weight: 90
  - service: web-v2
    weight: 10
";

/// The classic "billion laughs": 9 levels of 10 aliases each = 10^9 nodes once expanded.
fn billion_laughs() -> String {
    let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s
}

#[test]
fn alias_bomb_hits_the_expansion_limit() {
    let msg = limit_message(parse(billion_laughs(), Limits::default()));
    assert!(
        msg.contains("alias") || msg.contains("replay") || msg.contains("budget"),
        "{msg}"
    );
}

#[test]
fn alias_bomb_inside_an_smi_object_hits_the_limit() {
    let mut s = String::from(
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: x\n",
    );
    s.push_str("  labels:\n");
    let bomb = billion_laughs();
    for line in bomb.lines() {
        s.push_str(&format!("    {line}\n"));
    }
    s.push_str("spec: {service: web, backends: []}\n");
    limit_message(parse(s, Limits::default()));
}

#[test]
fn alias_limits_are_configurable() {
    // 20 aliases of a one-element list: well inside the defaults …
    let mut s = String::from("a: &a [x]\nb: [");
    s.push_str(&vec!["*a"; 20].join(", "));
    s.push_str("]\n");
    let docs = parse(s.clone(), Limits::default()).expect("20 aliases are fine by default");
    assert_eq!(docs.len(), 1);
    // … and over a limit of 10 aliases per document.
    let mut limits = Limits::default();
    limits.max_aliases_per_document = 10;
    limit_message(parse(s, limits));
}

#[test]
fn nesting_10000_deep_is_a_depth_error() {
    for input in [
        "[".repeat(10_000) + &"]".repeat(10_000),
        "a: ".to_owned() + &"{a: ".repeat(10_000) + &"}".repeat(10_000),
    ] {
        let msg = limit_message(parse(input, Limits::default()));
        assert!(msg.contains("depth"), "{msg}");
    }
    // block style: 10,000 levels of indentation
    let mut s = String::new();
    for i in 0..10_000 {
        s.push_str(&" ".repeat(i));
        s.push_str("k:\n");
    }
    let r = parse(s, Limits::default());
    assert!(matches!(r, Err(Error::Limit { .. })), "{r:?}");
}

#[test]
fn depth_limit_is_configurable() {
    let input = "a: {b: {c: {d: 1}}}\n".to_owned();
    assert!(parse(input.clone(), Limits::default()).is_ok());
    let mut limits = Limits::default();
    limits.max_depth = 3;
    let msg = limit_message(parse(input, limits));
    assert!(msg.contains("depth"), "{msg}");
}

#[test]
fn a_100_mb_scalar_is_refused_by_the_input_size_limit() {
    let input = "a: ".to_owned() + &"x".repeat(100 << 20) + "\n";
    let msg = limit_message(parse(input, Limits::default()));
    assert!(msg.contains("max_input_bytes"), "{msg}");
}

#[test]
fn a_scalar_over_the_per_document_scalar_budget_is_refused() {
    let input = "a: ".to_owned() + &"x".repeat(20 << 20) + "\n";
    limit_message(parse(input, Limits::default()));
    // and the budget is configurable
    let mut limits = Limits::default();
    limits.max_scalar_bytes_per_document = 1000;
    let input = "a: ".to_owned() + &"x".repeat(2000) + "\n";
    limit_message(parse(input.clone(), limits));
    assert!(parse(input, Limits::default()).is_ok());
}

#[test]
fn input_size_limit_is_configurable() {
    let mut limits = Limits::default();
    limits.max_input_bytes = SPLIT.len() - 1;
    let msg = limit_message(parse(SPLIT.to_owned(), limits));
    assert!(msg.contains("max_input_bytes"), "{msg}");
    limits.max_input_bytes = SPLIT.len();
    assert_eq!(
        parse(SPLIT.to_owned(), limits).expect("at the limit").len(),
        1
    );
}

#[test]
fn a_million_keys_hit_the_node_limit() {
    let mut s = String::with_capacity(16 << 20);
    for i in 0..1_000_000 {
        s.push_str(&format!("k{i}: {i}\n"));
    }
    let msg = limit_message(parse(s, Limits::default()));
    assert!(msg.contains("node") || msg.contains("budget"), "{msg}");
}

#[test]
fn node_limit_is_configurable() {
    let mut limits = Limits::default();
    limits.max_nodes_per_document = 10;
    let r = parse(SPLIT.to_owned(), limits);
    limit_message(r);
    assert!(parse(SPLIT.to_owned(), Limits::default()).is_ok());
}

#[test]
fn a_million_empty_documents_hit_the_document_limit() {
    // one more than the default `max_documents` (1,000,000, shared with smi-validate)
    let s = "---\n".repeat(1_000_001);
    let msg = limit_message(parse(s, Limits::default()));
    assert!(msg.contains("max_documents"), "{msg}");
}

#[test]
fn many_empty_documents_under_the_limit_are_empty_documents() {
    let s = "---\n".repeat(50_000);
    let docs = parse(s, Limits::default()).expect("50,000 < 100,000 documents");
    assert_eq!(docs.len(), 50_000);
    assert!(docs.iter().all(|d| *d == Document::Empty));
}

#[test]
fn document_limit_is_configurable() {
    let stream = format!("{SPLIT}---\n{SPLIT}---\n{SPLIT}");
    assert_eq!(
        parse(stream.clone(), Limits::default())
            .expect("3 documents")
            .len(),
        3
    );
    let mut limits = Limits::default();
    limits.max_documents = 2;
    let r = parse(stream, limits);
    let Err(Error::Limit { location, message }) = r else {
        panic!("expected a limit error, got {r:?}")
    };
    assert!(message.contains("max_documents = 2"), "{message}");
    assert_eq!(location.map(|l| l.document), Some(2));
}

#[test]
#[allow(invalid_from_utf8)] // the literal is invalid UTF-8 on purpose
fn invalid_utf8_cannot_reach_the_str_api_and_lossy_text_is_an_error_or_a_document() {
    // `parse_yaml_stream_with` takes `&str`: invalid UTF-8 is rejected by the type system. What a
    // caller gets from `from_utf8_lossy` (U+FFFD) must still give a clear answer.
    let bytes = b"apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: \xff\xfe}\nspec: {service: web, backends: []}\n";
    assert!(std::str::from_utf8(bytes).is_err());
    let text = String::from_utf8_lossy(bytes).into_owned();
    let docs = parse(text, Limits::default()).expect("U+FFFD is an ordinary character");
    let Document::Smi(o) = &docs[0] else {
        panic!("{docs:?}")
    };
    assert_eq!(o.name(), Some("\u{FFFD}\u{FFFD}"));
}

#[test]
fn a_leading_bom_is_accepted() {
    let docs = parse(format!("\u{FEFF}{SPLIT}"), Limits::default()).expect("BOM");
    let Document::Smi(o) = &docs[0] else {
        panic!("{docs:?}")
    };
    assert_eq!(o.name(), Some("canary"));
}

#[test]
fn a_bom_before_a_later_document_is_accepted_or_a_clear_error() {
    let r = parse(format!("{SPLIT}---\n\u{FEFF}{SPLIT}"), Limits::default());
    match r {
        Ok(docs) => assert_eq!(docs.len(), 2),
        Err(e) => {
            let loc = e.location().expect("a located error");
            assert_eq!(loc.document, 1, "{e}");
        }
    }
}

#[test]
fn crlf_line_ends_read_like_lf() {
    let lf = format!("{SPLIT}---\n{SPLIT}");
    let crlf = lf.replace('\n', "\r\n");
    let a = parse(lf, Limits::default()).expect("LF");
    let b = parse(crlf, Limits::default()).expect("CRLF");
    assert_eq!(a, b);
    assert_eq!(b.len(), 2);
}

#[test]
fn crlf_errors_have_the_same_line_as_lf() {
    let bad = format!(
        "{SPLIT}---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nspec: [\n"
    );
    let e1 = parse(bad.clone(), Limits::default()).unwrap_err();
    let e2 = parse(bad.replace('\n', "\r\n"), Limits::default()).unwrap_err();
    assert_eq!(
        e1.location().map(|l| (l.document, l.line)),
        e2.location().map(|l| (l.document, l.line))
    );
    assert_eq!(e1.location().map(|l| l.document), Some(1));
}

#[test]
fn tabs_as_indentation_are_a_located_yaml_error() {
    let s =
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n\tname: canary\n";
    let r = parse(s.to_owned(), Limits::default());
    let Err(e) = r else {
        panic!("tab indentation must not parse: {r:?}")
    };
    assert!(
        matches!(e, Error::Yaml { .. } | Error::Invalid { .. }),
        "{e:?}"
    );
    let loc = e.location().expect("location");
    assert_eq!((loc.document, loc.line), (0, 4), "{e}");
}

#[test]
fn tabs_as_separators_are_accepted() {
    let s = SPLIT
        .replace("weight: 90", "weight:\t90")
        .replace("service: web\n", "service:\tweb\t\n");
    let docs = parse(s, Limits::default()).expect("tabs after `:` separate");
    assert_eq!(docs, parse(SPLIT.to_owned(), Limits::default()).unwrap());
}

/// Finding F2 (fuzz/FINDINGS.md): counts near `i64::MAX` in a result read from a document make
/// `consistency_errors` overflow (a panic in debug builds, a wrong verdict in release).
#[test]
fn result_counts_that_overflow_i64_are_an_inconsistency_not_a_panic() {
    let seed = include_str!("../../fuzz/seeds/manifests/perf-result.yaml");
    let huge = seed
        .replace(
            "requestsSucceeded: 9\n",
            "requestsSucceeded: 9223372036854775807\n",
        )
        .replace("  \"200\": 9\n", "  \"200\": 9223372036854775807\n");
    assert_ne!(huge, seed);
    let errors = within(180, move || {
        let docs = parse_yaml_stream_with(&huge, &Limits::default()).expect("a well-formed result");
        let Document::Smi(o) = &docs[0] else {
            panic!("{docs:?}")
        };
        let smi_types::SmiObject::PerformanceTestResult(r) = o.as_ref() else {
            panic!("{o:?}")
        };
        r.consistency_errors()
            .into_iter()
            .map(|e| e.path)
            .collect::<Vec<_>>()
    });
    assert!(errors.contains(&"requestsTotal".to_owned()), "{errors:?}");
    assert!(errors.contains(&"statusCodes".to_owned()), "{errors:?}");
}

/// Aliases to one large string: few nodes, many bytes. The budget is in bytes
/// (`max_scalar_bytes_per_document` counts every expansion), the same budget smi-validate's
/// reader applies (`smi_validate::Limits::max_scalar_bytes_per_document` defaults to it).
fn aliases_to_a_large_string(kb: usize, aliases: usize) -> String {
    let mut s = format!("a: &a {}\nb: [", "x".repeat(kb << 10));
    s.push_str(&vec!["*a"; aliases].join(", "));
    s.push_str("]\n");
    s
}

#[test]
fn alias_expansion_is_bounded_in_bytes() {
    // 99 aliases (under the alias/anchor ratio check) to 200 KB: 20 MB once expanded
    let m = limit_message(parse(aliases_to_a_large_string(200, 99), Limits::default()));
    assert!(
        m.contains("max_scalar_bytes_per_document = 16777216"),
        "{m}"
    );
    // the same at half the size fits
    assert!(parse(aliases_to_a_large_string(100, 99), Limits::default()).is_ok());
    let mut limits = Limits::default();
    limits.max_scalar_bytes_per_document = 1 << 20;
    let m = limit_message(parse(aliases_to_a_large_string(100, 99), limits));
    assert!(m.contains("max_scalar_bytes_per_document = 1048576"), "{m}");
}

/// serde_json's "recursion limit exceeded" named no limit.
#[test]
fn deep_json_names_the_nesting_limit() {
    let input = "[".repeat(10_000) + &"]".repeat(10_000);
    let e = within(60, move || smi_types::parse_json(&input)).unwrap_err();
    match e {
        Error::Limit { message, .. } => {
            assert!(message.contains("limit of 128 levels"), "{message}")
        }
        other => panic!("expected Error::Limit, got {other:?}"),
    }
}
