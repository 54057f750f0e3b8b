//! Hostile input through `smi_validate::validate_bytes`: every case ends in a clear diagnostic
//! (mostly SMI1003 `LimitExceeded`, naming the limit) or a bounded report, in bounded time and
//! memory, and never a panic.
//!
//! Inputs are generated in memory. Each case runs on its own thread with a generous wall-clock
//! guard (a hang guard, not a performance assertion: `cargo test` builds are unoptimized).

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use smi_validate::{Code, Diagnostic, Limits, Options, Report};

/// Validates on a thread; fails the test if it takes longer than 180 s (a hang guard only: the
/// slowest case needs ~30 s unoptimized on an idle machine, several times that on a busy CI box).
fn validate(input: Vec<u8>, opts: Options) -> Report {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(smi_validate::validate_bytes(&input, &opts));
        })
        .expect("spawn");
    match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("validation did not finish within 180 s (hang?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the validator panicked"),
    }
}

fn with_limits(f: impl FnOnce(&mut Limits)) -> Options {
    let mut l = Limits::default();
    f(&mut l);
    Options::new().limits(l)
}

/// The only diagnostic with `code`; fails when there is none.
fn one(report: &Report, code: Code) -> &Diagnostic {
    report.with_code(code).next().unwrap_or_else(|| {
        panic!(
            "expected a {code:?} diagnostic, got {:#?}",
            report.diagnostics
        )
    })
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

fn billion_laughs() -> String {
    let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s
}

#[test]
fn alias_bomb_is_a_limit_error_and_the_next_document_is_still_validated() {
    let input = format!("{}---\n{SPLIT}", billion_laughs());
    let r = validate(input.into_bytes(), Options::default());
    let d = one(&r, Code::LimitExceeded);
    assert!(d.message.contains("alias"), "{d}");
    assert_eq!(d.document, Some(0));
    assert_eq!(
        r.summary.smi_objects, 1,
        "the TrafficSplit after the bomb is read"
    );
    assert_eq!(r.summary.errors, 1);
}

#[test]
fn alias_limit_is_configurable() {
    let mut s = String::from("a: &a [x, y]\nb: [");
    s.push_str(&vec!["*a"; 20].join(", "));
    s.push_str("]\n");
    let r = validate(s.clone().into_bytes(), Options::default());
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    let r = validate(s.into_bytes(), with_limits(|l| l.max_alias_nodes = 30));
    let d = one(&r, Code::LimitExceeded);
    assert!(d.message.contains("30"), "{d}");
}

#[test]
fn nesting_10000_deep_is_an_error_not_a_stack_overflow() {
    let inputs = [
        "[".repeat(10_000) + &"]".repeat(10_000),
        "a: ".to_owned() + &"{a: ".repeat(10_000) + &"}".repeat(10_000),
        (0..10_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>(),
        (0..10_000)
            .map(|i| format!("{}-\n", " ".repeat(i)))
            .collect::<String>(),
    ];
    for input in inputs {
        let r = validate(input.into_bytes(), Options::default());
        assert!(!r.is_valid());
        let d = &r.errors().next().unwrap();
        assert!(
            matches!(d.code, Code::LimitExceeded | Code::YamlSyntax),
            "{d}"
        );
        assert!(d.line.is_some(), "{d}");
    }
}

#[test]
fn depth_limit_is_configurable() {
    let input = format!("{SPLIT}---\na: {{b: {{c: {{d: {{e: 1}}}}}}}}\n");
    let r = validate(input.clone().into_bytes(), Options::default());
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    let r = validate(input.into_bytes(), with_limits(|l| l.max_depth = 4));
    let d = r.errors().next().expect("an error at depth 5");
    assert!(
        matches!(d.code, Code::LimitExceeded | Code::YamlSyntax),
        "{d}"
    );
    assert_eq!(d.document, Some(1), "{d}");
}

#[test]
fn a_100_mb_scalar_is_refused_by_the_document_size_limit() {
    let mut input = Vec::with_capacity(101 << 20);
    input.extend_from_slice(b"a: ");
    input.resize(100 << 20, b'x');
    input.extend_from_slice(b"\n---\n");
    input.extend_from_slice(SPLIT.as_bytes());
    let r = validate(input, Options::default());
    let d = one(&r, Code::LimitExceeded);
    assert!(d.message.contains("larger than the limit"), "{d}");
    assert_eq!(
        r.summary.smi_objects, 1,
        "the document after the big one is read"
    );
}

#[test]
fn scalar_size_limit_is_configurable() {
    let input = format!("{SPLIT}---\na: {}\n", "x".repeat(2000));
    assert!(validate(input.clone().into_bytes(), Options::default()).is_valid());
    let r = validate(
        input.into_bytes(),
        with_limits(|l| l.max_scalar_bytes = 1000),
    );
    let d = one(&r, Code::LimitExceeded);
    assert!(d.message.contains("1000"), "{d}");
    assert_eq!((d.document, d.line), (Some(1), Some(13)), "{d}");
}

#[test]
fn document_size_limit_is_configurable() {
    let r = validate(
        SPLIT.as_bytes().to_vec(),
        with_limits(|l| l.max_document_bytes = SPLIT.len() - 1),
    );
    let d = one(&r, Code::LimitExceeded);
    assert!(
        d.message.contains(&format!("{} bytes", SPLIT.len() - 1)),
        "{d}"
    );
    let r = validate(
        SPLIT.as_bytes().to_vec(),
        with_limits(|l| l.max_document_bytes = SPLIT.len()),
    );
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
}

#[test]
fn a_million_keys_over_the_document_size_limit_are_refused() {
    let mut s = String::with_capacity(16 << 20);
    for i in 0..1_000_000 {
        s.push_str(&format!("k{i}: {i}\n"));
    }
    assert!(s.len() > Limits::default().max_document_bytes);
    let r = validate(s.into_bytes(), Options::default());
    one(&r, Code::LimitExceeded);
}

#[test]
fn a_million_duplicate_keys_give_a_bounded_report() {
    // 5 MB: under the default document size limit, every line a duplicate key.
    let s = "a: 1\n".repeat(1_000_000);
    assert!(s.len() < Limits::default().max_document_bytes);
    let r = validate(s.into_bytes(), Options::default());
    assert!(!r.is_valid());
    assert!(r.with_code(Code::DuplicateKey).count() >= 1);
    assert!(
        r.diagnostics.len() <= 1_000_000,
        "at most one diagnostic per duplicate"
    );
}

#[test]
fn a_million_empty_documents_give_an_empty_report() {
    let r = validate("---\n".repeat(1_000_000).into_bytes(), Options::default());
    assert!(
        r.is_valid(),
        "{:#?}",
        &r.diagnostics[..r.diagnostics.len().min(3)]
    );
    assert_eq!(r.summary.documents, 0, "empty documents are not counted");
}

#[test]
fn document_count_limit_is_configurable() {
    let input = format!("{SPLIT}---\n{SPLIT}---\n{SPLIT}");
    let r = validate(input.clone().into_bytes(), Options::default());
    assert_eq!(r.summary.documents, 3);
    let r = validate(input.into_bytes(), with_limits(|l| l.max_documents = 2));
    let d = one(&r, Code::LimitExceeded);
    assert_eq!(d.document, Some(2), "{d}");
    assert!(d.message.contains("more than 2 documents"), "{d}");
    assert_eq!(r.summary.documents, 2);
}

#[test]
fn invalid_utf8_is_an_encoding_error_with_its_line() {
    let mut input = SPLIT.as_bytes().to_vec();
    input.extend_from_slice(b"---\nkind: Service\nmetadata: {name: \xff\xfe}\n---\n");
    input.extend_from_slice(SPLIT.as_bytes());
    let r = validate(input, Options::default());
    let d = one(&r, Code::Encoding);
    assert_eq!((d.document, d.line), (Some(1), Some(14)), "{d}");
    assert_eq!(
        r.summary.smi_objects, 2,
        "the documents around the bad one are read"
    );
    assert_eq!(r.summary.errors, 1);
}

#[test]
fn invalid_utf8_alone_and_truncated_sequences_are_encoding_errors() {
    for input in [
        &b"\xff"[..],
        b"a: \xe2\x82",
        b"\xc0\xaf: x\n",
        b"\xed\xa0\x80\n",
    ] {
        let r = validate(input.to_vec(), Options::default());
        one(&r, Code::Encoding);
    }
}

#[test]
fn a_leading_bom_is_accepted() {
    let input = format!("\u{FEFF}{SPLIT}");
    let r = validate(input.into_bytes(), Options::default());
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    assert_eq!(r.summary.smi_objects, 1);
}

#[test]
fn a_bom_before_a_later_document_is_accepted_or_a_located_error() {
    let input = format!("{SPLIT}---\n\u{FEFF}{SPLIT}");
    let r = validate(input.into_bytes(), Options::default());
    if !r.is_valid() {
        let d = r.errors().next().unwrap();
        assert_eq!(d.document, Some(1), "{d}");
        assert!(d.line.is_some(), "{d}");
    }
}

#[test]
fn crlf_line_ends_give_the_same_report_as_lf() {
    // a stream with an error, so that positions are compared too
    let lf = format!(
        "{SPLIT}---\n{}",
        SPLIT.replace("weight: 10", "weight: \"10\"")
    );
    let crlf = lf.replace('\n', "\r\n");
    let a = validate(lf.into_bytes(), Options::default());
    let b = validate(crlf.into_bytes(), Options::default());
    let key = |r: &Report| {
        r.diagnostics
            .iter()
            .map(|d| (d.code, d.document, d.line, d.column, d.path.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
    assert_eq!(a.summary, b.summary);
    let d = one(&b, Code::WrongType);
    assert_eq!((d.document, d.line), (Some(1), Some(23)), "{d}");
    assert!(
        !d.source_line.as_deref().unwrap_or_default().ends_with('\r'),
        "{d:?}"
    );
}

#[test]
fn tabs_as_indentation_are_a_located_syntax_error() {
    let input =
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n\tname: canary\n";
    let r = validate(input.as_bytes().to_vec(), Options::default());
    let d = one(&r, Code::YamlSyntax);
    assert_eq!(d.line, Some(4), "{d}");
}

#[test]
fn tabs_as_separators_are_accepted() {
    let input = SPLIT
        .replace("weight: 90", "weight:\t90")
        .replace("service: web\n", "service:\tweb\t\n");
    let r = validate(input.into_bytes(), Options::default());
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
}

#[test]
fn nul_bytes_and_control_characters_are_errors_not_panics() {
    for input in [
        &b"\0"[..],
        b"a: \0\n",
        b"\x1b[31m: x\n",
        b"apiVersion: \x7f\n",
        b"a: \"\\u0000\"\n",
    ] {
        let r = validate(input.to_vec(), Options::default());
        // whatever the verdict, the report is consistent
        assert_eq!(r.summary.errors, r.errors().count());
    }
}

/// A 127 KB file of aliases to a 100 KB string: few nodes (under `max_alias_nodes`), but 2.5 GB
/// once expanded. It used 869 MB and exited 0; the budget is now in bytes too.
#[test]
fn aliases_to_a_large_string_are_bounded_in_bytes() {
    let mut s = format!("a: &a {}\nb: [", "x".repeat(100 << 10));
    s.push_str(&vec!["*a"; 9_000].join(", "));
    s.push_str("]\n");
    assert!(s.len() < 140 << 10);
    let input = format!("{s}---\n{SPLIT}");
    let r = validate(input.into_bytes(), Options::default());
    let d = one(&r, Code::LimitExceeded);
    assert!(
        d.message.contains("alias expansions included")
            && d.message.contains("16777216 bytes per document"),
        "{d}"
    );
    assert_eq!(d.document, Some(0));
    assert_eq!(r.summary.smi_objects, 1, "the next document is still read");
    // configurable
    let r = validate(
        "a: &a xxxxxxxxxx\nb: [*a, *a, *a]\n".as_bytes().to_vec(),
        with_limits(|l| l.max_scalar_bytes_per_document = 35),
    );
    assert!(one(&r, Code::LimitExceeded).message.contains("35 bytes"));
    let r = validate(
        "a: &a xxxxxxxxxx\nb: [*a, *a]\n".as_bytes().to_vec(),
        with_limits(|l| l.max_scalar_bytes_per_document = 35),
    );
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
}

/// The validator and the typed parser (`convert`) refuse alias expansion at the same size.
#[test]
fn the_byte_budget_is_the_same_as_the_typed_parser() {
    assert_eq!(
        Limits::default().max_scalar_bytes_per_document,
        smi_types::Limits::default().max_scalar_bytes_per_document
    );
}

/// One TrafficSplit with 50,000 backends, and a TrafficTarget whose 2,000 rules each name an
/// HTTPRouteGroup of 2,000 matches: the cross-object rules were quadratic (64k backends took
/// 27 s optimized). Quadratic work here would take minutes and trip the guard; the node
/// visits are counted exactly in `cross.rs`'s unit test.
#[test]
fn cross_object_rules_on_long_lists_finish() {
    let mut s = String::from(
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: web\n  backends:\n",
    );
    for i in 0..50_000 {
        s.push_str(&format!("  - {{service: b{i}, weight: 1}}\n"));
    }
    s.push_str("---\napiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: r}\nspec:\n  matches:\n");
    for j in 0..2_000 {
        s.push_str(&format!("  - {{name: m{j}, pathRegex: /}}\n"));
    }
    s.push_str("---\napiVersion: access.smi-spec.io/v1alpha3\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n  destination: {kind: ServiceAccount, name: a}\n  sources: [{kind: ServiceAccount, name: b}]\n  rules:\n");
    for _ in 0..2_000 {
        s.push_str("  - {kind: HTTPRouteGroup, name: r, matches: [m1, m2, m3, nope]}\n");
    }
    let r = validate(s.into_bytes(), Options::default());
    assert_eq!(r.summary.smi_objects, 3);
    let unknown: Vec<_> = r.with_code(Code::UnknownMatchName).collect();
    assert_eq!(unknown.len(), 2_000, "one per rule naming `nope`");
    let hint = unknown[0].hint.as_deref().unwrap_or_default();
    assert!(
        hint.ends_with("and 1980 more"),
        "the hint is clipped: {hint}"
    );
}

/// 3,000,000 empty documents were reported as "document is larger than the limit of 8388608
/// bytes": the empty ones piled up into one. Now every document counts, empty or not.
#[test]
fn three_million_empty_documents_hit_the_document_count_limit() {
    let r = validate("---\n".repeat(3_000_000).into_bytes(), Options::default());
    let d = one(&r, Code::LimitExceeded);
    assert!(d.message.contains("more than 1000000 documents"), "{d}");
    assert_eq!(d.line, Some(1_000_001));
    assert_eq!(r.diagnostics.len(), 1, "{:#?}", r.diagnostics);
    // under a higher count limit, they are just empty documents (never one large one)
    let r = validate(
        "---\n# c\n\n".repeat(3_000_000).into_bytes(),
        with_limits(|l| l.max_documents = 5_000_000),
    );
    assert!(
        r.is_valid(),
        "{:#?}",
        &r.diagnostics[..r.diagnostics.len().min(3)]
    );
}

/// A directive before `---` still applies to its document.
#[test]
fn directives_before_a_marker_are_kept() {
    let input = format!("%YAML 1.2\n---\n{SPLIT}");
    let r = validate(input.into_bytes(), Options::default());
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    assert_eq!(r.summary.smi_objects, 1);
}

/// `max_depth` has a ceiling: a 1,000,000-deep input with a limit of 10,000,000 overflowed the
/// stack. The limit error names the ceiling.
#[test]
fn max_depth_is_capped_at_the_ceiling() {
    let input = "[".repeat(1_000_000) + &"]".repeat(1_000_000);
    let r = validate(
        input.into_bytes(),
        with_limits(|l| l.max_depth = 10_000_000),
    );
    let d = one(&r, Code::LimitExceeded);
    assert!(
        d.message.contains(&format!(
            "limit of {} levels",
            smi_validate::MAX_DEPTH_CEILING
        )),
        "{d}"
    );
    // just under the ceiling is read (and is no SMI object)
    let depth = smi_validate::MAX_DEPTH_CEILING - 1;
    let input = "[".repeat(depth) + &"]".repeat(depth);
    let r = validate(
        input.into_bytes(),
        with_limits(|l| l.max_depth = 10_000_000),
    );
    assert!(
        r.with_code(Code::LimitExceeded).next().is_none(),
        "{:#?}",
        r.diagnostics
    );
}
