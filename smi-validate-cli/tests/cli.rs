//! The `smi-validate` binary: inputs, flags and exit codes (0 valid, 1 invalid, 2 usage/I/O).

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_smi-validate");
const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../smi-validate/tests/fixtures/rules"
);

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        // a process that exits on a usage error before reading stdin closes the pipe (EPIPE)
        let _ = c.stdin.take().unwrap().write_all(s.as_bytes());
    }
    drop(c.stdin.take());
    c.wait_with_output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

const VALID: &str = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: web}\nspec:\n  service: web\n  backends:\n  - {service: web-v1, weight: 1}\n";

#[test]
fn valid_input_exits_0_and_prints_nothing() {
    let o = run(&["-"], Some(VALID));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert!(o.stdout.is_empty());
}

#[test]
fn invalid_input_exits_1_with_rustc_style_text() {
    let o = run(&[&format!("{RULES}/SMI1201.yaml")], None);
    assert_eq!(code(&o), 1);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("error[SMI1201]: expected integer"), "{out}");
    assert!(out.contains("SMI1201.yaml:12:13"));
    assert!(out.contains("    weight: 500m\n"));
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn warnings_pass_unless_warnings_as_errors() {
    let f = format!("{RULES}/SMI1501.yaml");
    assert_eq!(code(&run(&[&f], None)), 0);
    assert_eq!(code(&run(&["--warnings-as-errors", &f], None)), 1);
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    assert_eq!(code(&run(&["/nonexistent/x.yaml"], None)), 2);
    assert_eq!(code(&run(&["--no-such-flag"], None)), 2);
    assert_eq!(code(&run(&["-o", "xml", "-"], Some(VALID))), 2);
}

#[test]
fn fail_on_empty() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n";
    assert_eq!(code(&run(&["-"], Some(svc))), 0);
    let o = run(&["--fail-on-empty", "-"], Some(svc));
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no SMI objects"));
}

#[test]
fn directories_are_walked_and_summarized() {
    let o = run(&["--summary", RULES], None);
    assert_eq!(code(&o), 1);
    let out = String::from_utf8(o.stdout).unwrap();
    let files = std::fs::read_dir(RULES).unwrap().count();
    assert!(out.contains(&format!("Summary: {files} file(s)")), "{out}");
}

#[test]
fn skip_and_reject() {
    let f = format!("{RULES}/SMI1201.yaml");
    assert_eq!(code(&run(&["--skip", "TrafficSplit", &f], None)), 0);
    let o = run(
        &["--reject", "TrafficTarget,TrafficSplit", "-"],
        Some(VALID),
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("SMI1106"));
}

/// `--skip`/`--reject` take `group/version/Kind` and `group/Kind` too, and refuse a kind no SMI
/// API has instead of silently matching nothing (issue 17).
#[test]
fn skip_and_reject_take_gvk_and_refuse_unknown_kinds() {
    // VALID is split.smi-spec.io/v1alpha4
    let o = run(
        &["--reject", "split.smi-spec.io/v1alpha4/TrafficSplit", "-"],
        Some(VALID),
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("SMI1106"));
    let o = run(
        &["--reject", "split.smi-spec.io/v1alpha2/TrafficSplit", "-"],
        Some(VALID),
    );
    assert_eq!(code(&o), 0, "another version is not rejected");
    let o = run(
        &["--reject", "split.smi-spec.io/TrafficSplit", "-"],
        Some(VALID),
    );
    assert_eq!(code(&o), 1);
    let f = format!("{RULES}/SMI1201.yaml");
    assert_eq!(
        code(&run(
            &["--skip", "split.smi-spec.io/v1alpha4/TrafficSplit", &f],
            None
        )),
        0
    );
    for (flag, bad, says) in [
        ("--skip", "TraficSplit", "unknown SMI kind \"TraficSplit\""),
        ("--reject", "Foo", "unknown SMI kind \"Foo\""),
        (
            "--skip",
            "split.smi-spec.io/v1beta1/TrafficSplit",
            "has no version \"v1beta1\"",
        ),
        (
            "--reject",
            "splits.smi-spec.io/TrafficSplit",
            "unknown SMI API group",
        ),
        (
            "--skip",
            "a/b/c/d",
            "expected Kind, group/Kind or group/version/Kind",
        ),
    ] {
        let o = run(&[flag, bad, "-"], Some(VALID));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{flag} {bad}: {err}");
        assert!(
            err.contains(flag) && err.contains(says),
            "{flag} {bad}: {err}"
        );
    }
}

#[test]
fn json_output_is_the_documented_schema() {
    let o = run(&["-o", "json", &format!("{RULES}/SMI1305.yaml")], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["diagnostics"][0]["code"], "SMI1305");
    assert_eq!(v["diagnostics"][0]["path"], "spec.matches[0].pathRegex");
    assert_eq!(v["summary"]["smiObjects"], 1);
}

#[test]
fn crds_prints_generated_crds() {
    let o = run(&["crds", "--flavour", "sdk-compatible"], None);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("name: trafficsplits.split.smi-spec.io"));
    // what we print, we accept: the CRDs are valid YAML (non-SMI documents, skipped)
    let r = smi_validate::validate_str("crds.yaml", &out, &smi_validate::Options::default());
    assert!(r.is_valid() && r.summary.smi_objects == 0);
}

#[test]
fn convert_refuses_or_reports_losses() {
    let tt = "apiVersion: access.smi-spec.io/v1alpha2\nkind: TrafficTarget\nmetadata: {name: t}\nspec:\n  destination: {kind: ServiceAccount, name: api, port: 8080}\n";
    let o = run(
        &["convert", "--to", "access.smi-spec.io/v1alpha3", "-"],
        Some(tt),
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("spec.destination.port"));
    let o = run(
        &[
            "convert",
            "--to",
            "access.smi-spec.io/v1alpha3",
            "--lossy",
            "report",
            "-",
        ],
        Some(tt),
    );
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with("apiVersion: access.smi-spec.io/v1alpha3\n"),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("lost spec.destination.port"));
    let r = smi_validate::validate_str("converted.yaml", &out, &smi_validate::Options::default());
    assert_eq!(r.summary.smi_objects, 1);
}

#[test]
fn no_cross_skips_the_cross_object_rules_and_says_so() {
    // an unresolved TrafficSplit → HTTPRouteGroup reference: a cross-object warning (SMI1403)
    let f = format!("{RULES}/SMI1403.yaml");
    let o = run(&["--summary", &f], None);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("warning[SMI1403]"), "{out}");
    assert!(!out.contains("skipped: references"), "{out}");

    let o = run(&["--no-cross", "--summary", &f], None);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(!out.contains("SMI1403"), "{out}");
    assert!(
        out.starts_with("note: cross-object rules (SMI1401–SMI1407) skipped"),
        "{out}"
    );
    assert!(
        out.contains("0 warning(s); cross-object rules skipped\n"),
        "{out}"
    );
    // said without --summary too
    let o = run(&["--no-cross", &f], None);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("note: cross-object rules"), "{out}");

    // JSON: an added summary field, present only when the rules were skipped
    let json = |args: &[&str]| -> serde_json::Value {
        let o = run(args, None);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let with = json(&["-o", "json", &f]);
    assert_eq!(with["diagnostics"][0]["code"], "SMI1403");
    assert!(
        with["summary"].get("crossObjectSkipped").is_none(),
        "{with}"
    );
    let without = json(&["-o", "json", "--no-cross", &f]);
    assert_eq!(without["diagnostics"], serde_json::json!([]));
    assert_eq!(without["summary"]["crossObjectSkipped"], true);
    assert_eq!(without["version"], 1);

    // SARIF: a configuration notification; TAP: a comment; JUnit: a property
    let sarif = json(&["-o", "sarif", "--no-cross", &f]);
    let note = &sarif["runs"][0]["invocations"][0]["toolConfigurationNotifications"][0];
    assert!(
        note["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("cross-object rules (SMI1401–SMI1407) skipped"),
        "{sarif}"
    );
    let tap = String::from_utf8(run(&["-o", "tap", "--no-cross", &f], None).stdout).unwrap();
    assert!(
        tap.contains("\n# cross-object rules (SMI1401–SMI1407) skipped\n"),
        "{tap}"
    );
    let junit = String::from_utf8(run(&["-o", "junit", "--no-cross", &f], None).stdout).unwrap();
    assert!(
        junit.contains("<property name=\"crossObjectSkipped\" value=\"true\"/>"),
        "{junit}"
    );
}
