//! Regression tests for verdicts where smi-validate disagreed with a real API server
//! (`e2e/tests/verdicts.rs`): each case is what the server (kube-apiserver 1.37, `dryRun=All`)
//! answered for the same object, checked offline.
//!
//! * `metadata` is decoded as Kubernetes' `ObjectMeta`: a field of the wrong type fails the
//!   request (SMI1201), an unknown field follows `fieldValidation` (SMI1204, `metadata.x`), and
//!   the `ObjectMeta` rules apply (SMI1208: label keys and values, annotation keys and total size,
//!   owner references, finalizers, timestamps; SMI1205: `generateName`).
//! * `format: date-time` (PerformanceTestResult `startTime`/`endTime`) is checked as the server's
//!   kube-openapi does (SMI1207).

use smi_validate::{Code, FieldValidation, Options, Report, Severity, validate_str};

const SPLIT: &str = "apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
spec:
  service: web
  backends:
  - service: web-v1
    weight: 100
";

/// A TrafficSplit with this `metadata:` block (YAML, indented two spaces).
fn split(metadata: &str) -> String {
    format!("{SPLIT}metadata:\n{metadata}")
}

fn run(text: &str, fv: FieldValidation) -> Report {
    validate_str(
        "t.yaml",
        text,
        &Options::new().field_validation(fv).skip_cross(true),
    )
}

/// (code, path) of the errors.
fn errors(r: &Report) -> Vec<(Code, String)> {
    r.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, d.path.clone().unwrap_or_default()))
        .collect()
}

fn accepted(metadata: &str) -> bool {
    errors(&run(&split(metadata), FieldValidation::Strict)).is_empty()
}

#[test]
fn an_unknown_metadata_field_is_refused_under_strict_and_pruned_under_warn() {
    let text = split("  name: web\n  unknownField: x\n");
    assert_eq!(
        errors(&run(&text, FieldValidation::Strict)),
        [(Code::UnknownField, "metadata.unknownField".to_owned())]
    );
    let warn = run(&text, FieldValidation::Warn);
    assert!(errors(&warn).is_empty());
    let w: Vec<_> = warn
        .diagnostics
        .iter()
        .map(|d| (d.code, d.severity, d.path.as_deref()))
        .collect();
    assert_eq!(
        w,
        [(
            Code::UnknownField,
            Severity::Warning,
            Some("metadata.unknownField")
        )]
    );
    // nested: an owner reference's unknown field
    let text = split(
        "  name: web\n  ownerReferences:\n  - {apiVersion: v1, kind: Pod, name: p, uid: u, x: 1}\n",
    );
    assert_eq!(
        errors(&run(&text, FieldValidation::Strict)),
        [(
            Code::UnknownField,
            "metadata.ownerReferences[0].x".to_owned()
        )]
    );
    // case matters, as for the server's decoder
    assert!(!accepted("  Name: web\n  name: web\n"));
}

#[test]
fn metadata_fields_of_the_wrong_type_fail_in_every_mode() {
    for (metadata, path) in [
        ("  name: 1\n", "metadata.name"),
        (
            "  name: web\n  annotations:\n    x: {a: 1}\n",
            "metadata.annotations.x",
        ),
        ("  name: web\n  labels: [a]\n", "metadata.labels"),
        ("  name: web\n  generation: x\n", "metadata.generation"),
        ("  name: web\n  finalizers: x\n", "metadata.finalizers"),
    ] {
        for fv in [
            FieldValidation::Strict,
            FieldValidation::Warn,
            FieldValidation::Ignore,
        ] {
            let r = run(&split(metadata), fv);
            assert!(
                errors(&r).contains(&(Code::WrongType, path.to_owned())),
                "{metadata:?} {fv:?}: {:?}",
                errors(&r)
            );
        }
    }
    // a number that is a label's value is a wrong type too; `null` decodes to ""
    assert!(!accepted("  name: web\n  labels: {a: 1}\n"));
    assert!(accepted("  name: web\n  labels: {a: null}\n"));
    assert!(!accepted("  name: web\n  creationTimestamp: 5\n"));
    assert!(accepted("  name: web\n  creationTimestamp: null\n"));
}

#[test]
fn labels_follow_the_servers_key_and_value_syntax() {
    for ok in [
        "a: b",
        "app.kubernetes.io/name: web",
        "A_b: Web_V1",
        "x: \"\"",
        "y: \"1\"",
    ] {
        assert!(
            accepted(&format!("  name: web\n  labels:\n    {ok}\n")),
            "{ok}"
        );
    }
    let long = "a".repeat(64);
    for bad in [
        "version: -1s".to_owned(),
        "version: web.".to_owned(),
        format!("v: {long}"),
        format!("{long}: v"),
        "-a: v".to_owned(),
        "Example.com/a: v".to_owned(),
        "a/b/c: v".to_owned(),
        "\"/a\": v".to_owned(),
    ] {
        let r = run(
            &split(&format!("  name: web\n  labels:\n    {bad}\n")),
            FieldValidation::Strict,
        );
        assert!(
            errors(&r).iter().any(|(c, _)| *c == Code::InvalidMetadata),
            "{bad}: {:?}",
            errors(&r)
        );
    }
}

#[test]
fn annotation_keys_ignore_case_and_their_total_size_is_bounded() {
    assert!(accepted(
        "  name: web\n  annotations:\n    Example.COM/Key: \"any value: at all\"\n"
    ));
    assert!(!accepted("  name: web\n  annotations:\n    a b: x\n"));
    // 256 KiB of keys and values together: at the limit accepted, one byte over refused
    let limit = smi_validate::meta::TOTAL_ANNOTATION_SIZE_LIMIT;
    let at = format!(
        "  name: web\n  annotations:\n    k: {}\n",
        "v".repeat(limit - 1)
    );
    let over = format!(
        "  name: web\n  annotations:\n    k: {}\n",
        "v".repeat(limit)
    );
    assert!(accepted(&at));
    let r = run(&split(&over), FieldValidation::Strict);
    assert_eq!(
        errors(&r),
        [(Code::InvalidMetadata, "metadata.annotations".to_owned())]
    );
}

#[test]
fn generate_name_is_a_name_prefix() {
    assert!(accepted("  generateName: web-\n"));
    assert!(accepted("  name: \"\"\n  generateName: web-\n"));
    assert!(accepted(&format!("  generateName: {}\n", "a".repeat(253))));
    assert!(!accepted("  generateName: Web_\n"));
    assert!(!accepted("  generateName: \"\"\n"));
    assert!(!accepted(&format!("  generateName: {}\n", "a".repeat(254))));
    // a 58-byte cut that ends in a dot still makes a valid name; an invalid prefix never does
    assert!(accepted(&format!("  generateName: {}.b\n", "a".repeat(57))));
    // a valid name beside it: the prefix is still checked
    assert!(!accepted("  name: web\n  generateName: -web\n"));
}

#[test]
fn owner_references_and_finalizers() {
    let owner = |r: &str| accepted(&format!("  name: web\n  ownerReferences:\n  - {r}\n"));
    assert!(owner(
        "{apiVersion: apps/v1, kind: Deployment, name: d, uid: u}"
    ));
    assert!(!owner("{apiVersion: apps/v1, kind: Deployment, name: d}"));
    assert!(!owner(
        "{apiVersion: apps/, kind: Deployment, name: d, uid: u}"
    ));
    assert!(!owner(
        "{apiVersion: a/b/c, kind: Deployment, name: d, uid: u}"
    ));
    assert!(!owner("{apiVersion: v1, kind: Event, name: d, uid: u}"));
    assert!(!accepted(
        "  name: web\n  ownerReferences:\n  - {apiVersion: v1, kind: A, name: a, uid: u, controller: true}\n  - {apiVersion: v1, kind: B, name: b, uid: v, controller: true}\n"
    ));
    assert!(accepted(
        "  name: web\n  finalizers: [example.com/cleanup, orphan]\n"
    ));
    assert!(!accepted(
        "  name: web\n  finalizers: [\"bad finalizer\"]\n"
    ));
    assert!(!accepted(
        "  name: web\n  finalizers: [orphan, foregroundDeletion]\n"
    ));
}

#[test]
fn metadata_timestamps_are_rfc3339() {
    assert!(accepted(
        "  name: web\n  creationTimestamp: \"2026-01-01T00:00:00Z\"\n"
    ));
    let r = run(
        &split("  name: web\n  creationTimestamp: yesterday\n"),
        FieldValidation::Strict,
    );
    assert_eq!(
        errors(&r),
        [(
            Code::InvalidMetadata,
            "metadata.creationTimestamp".to_owned()
        )]
    );
}

const RESULT: &str = "apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTestResult
metadata:
  name: quick-1
testRef:
  name: quick
id: 6c1f7a52-0000-4000-8000-000000000001
loadGenerator: builtin
engineVersion: 0.1.0
startTime: \"START\"
endTime: \"2026-01-01T00:01:30Z\"
actualDuration: 1m30s
requested:
  loadModel: Open
  rps: 1000
  connections: 4
  duration: 1m30s
  protocol: HTTP
  endpoints:
  - http://web.default.svc:8080/api
requestsTotal: 10
requestsSucceeded: 9
requestsFailed: 1
droppedOrLate: 0
actualRps: \"999.5\"
bytesSent: 1000
bytesReceived: 2000
statusCodes:
  \"200\": 9
errors:
  http5xx: 1
latency:
  count: 10
  minMicros: 100
  meanMicros: 200
  maxMicros: 900
  percentiles:
  - {p: 50, micros: 200}
histogram:
  encoding: HdrHistogramV2Deflate
  data: HISTOGRAM
";

#[test]
fn date_time_fields_are_checked_as_the_server_checks_them() {
    let with = |start: &str| RESULT.replace("START", start);
    let date_time_errors = |start: &str| -> Vec<(Code, String)> {
        errors(&run(&with(start), FieldValidation::Strict))
            .into_iter()
            .filter(|(c, _)| *c == Code::PatternMismatch)
            .collect()
    };
    for ok in [
        "2026-01-01T00:00:00Z",
        "2026-01-01t00:00:00.5+02:00",
        "2024-02-29T23:59:59Z",
    ] {
        assert!(date_time_errors(ok).is_empty(), "{ok}");
    }
    for bad in [
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "web",
        "2026-01-01",
        "2025-02-29T00:00:00Z",
        "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00",
    ] {
        assert_eq!(
            date_time_errors(bad),
            [(Code::PatternMismatch, "startTime".to_owned())],
            "{bad}"
        );
    }
}

/// A key written twice: the API server's decoder keeps the last value (a warning under
/// `fieldValidation=Warn`, an error under Strict), so smi-validate judges the last value too,
/// and reports findings at its position.
#[test]
fn a_duplicated_key_keeps_the_last_value_as_the_server_does() {
    let text = |first: &str, last: &str| {
        format!(
            "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: web\nspec:\n  service: web\n  backends:\n  - service: web-v1\n    weight: {first}\n    weight: {last}\n  - service: web-v2\n    weight: x\n"
        )
    };
    // under Warn the duplicate is a warning and the last value is judged
    let r = run(&text("x", "5"), FieldValidation::Warn);
    let e = errors(&r);
    assert_eq!(
        e,
        [(Code::WrongType, "spec.backends[1].weight".to_owned())],
        "{e:?}"
    );
    // …with positions that still match the source after the swap (line 12, the `x`)
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == Code::WrongType)
        .unwrap();
    assert_eq!((d.line, d.column), (Some(12), Some(13)));
    let dup = r
        .diagnostics
        .iter()
        .find(|d| d.code == Code::DuplicateKey)
        .unwrap();
    assert_eq!(dup.severity, Severity::Warning);
    assert_eq!((dup.line, dup.column), (Some(10), Some(5)));
    // the last value is wrong: reported at the last value's position
    let r = run(&text("5", "\"5\""), FieldValidation::Warn);
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == Code::WrongType && d.path.as_deref() == Some("spec.backends[0].weight"))
        .expect("the last value is judged");
    assert_eq!((d.line, d.column), (Some(10), Some(13)));
    // Strict: the duplicate itself is an error
    let r = run(&text("5", "5"), FieldValidation::Strict);
    assert!(errors(&r).contains(&(Code::DuplicateKey, "spec.backends[0].weight".to_owned())));
    // a duplicated mapping: the last one, whole
    let r = run(
        &split("  name: web\n  labels: {a: -bad}\n  labels: {b: good}\n"),
        FieldValidation::Warn,
    );
    assert!(errors(&r).is_empty(), "{:?}", errors(&r));
    let r = run(
        &split("  name: web\n  labels: {b: good}\n  labels: {a: -bad}\n"),
        FieldValidation::Warn,
    );
    assert_eq!(
        errors(&r),
        [(Code::InvalidMetadata, "metadata.labels.a".to_owned())]
    );
}
