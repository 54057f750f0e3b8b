//! Golden output of every format for `tests/golden/input.yaml`. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p smi-validate --test golden` and review the diff.
//! The SARIF is also validated against the official SARIF 2.1.0 JSON schema of the OASIS
//! standard (vendored in `tests/data/`), plus the cross-references the schema cannot express.

use serde_json::Value;
use smi_validate::output::{Format, RenderOptions, render};
use smi_validate::{Options, Report, validate_str};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn report() -> Report {
    let text = std::fs::read_to_string(format!("{DIR}/input.yaml")).unwrap();
    validate_str("input.yaml", &text, &Options::default().list_objects(true))
}

fn check(name: &str, format: Format, summary: bool) -> String {
    let mut ro = RenderOptions::default();
    ro.summary = summary;
    let got = render(&report(), format, ro);
    let path = format!("{DIR}/{name}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        got, want,
        "{name} differs from the golden file; UPDATE_GOLDEN=1 to regenerate"
    );
    got
}

#[test]
fn text() {
    check("output.txt", Format::Text, true);
}

#[test]
fn json() {
    let s = check("output.json", Format::Json, false);
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["valid"], false);
}

#[test]
fn junit() {
    let s = check("output.junit.xml", Format::Junit, false);
    assert!(s.starts_with("<?xml"));
    assert_eq!(
        s.matches("<testcase").count(),
        s.matches("<testcase").count()
    );
    assert_eq!(
        s.matches("<testsuite ").count(),
        s.matches("</testsuite>").count()
    );
}

#[test]
fn tap() {
    let s = check("output.tap", Format::Tap, false);
    let plan: usize = s
        .lines()
        .nth(1)
        .unwrap()
        .trim_start_matches("1..")
        .parse()
        .unwrap();
    let points = s
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .count();
    assert_eq!(plan, points);
}

fn req<'v>(v: &'v Value, key: &str, ctx: &str) -> &'v Value {
    v.get(key)
        .unwrap_or_else(|| panic!("SARIF: {ctx} lacks required property `{key}`"))
}

#[test]
fn sarif_has_the_required_2_1_0_structure() {
    let s = check("output.sarif.json", Format::Sarif, false);
    let log: Value = serde_json::from_str(&s).unwrap();
    // sarifLog: version (const "2.1.0") and runs (array) are required
    assert_eq!(req(&log, "version", "sarifLog"), "2.1.0");
    let runs = req(&log, "runs", "sarifLog")
        .as_array()
        .expect("runs is an array");
    assert!(!runs.is_empty());
    for run in runs {
        // run: tool required; tool: driver required; toolComponent: name required
        let driver = req(req(run, "tool", "run"), "driver", "tool");
        assert!(req(driver, "name", "toolComponent").is_string());
        let rules = driver["rules"].as_array().expect("rules");
        for r in rules {
            // reportingDescriptor: id required
            assert!(req(r, "id", "reportingDescriptor").is_string());
            let level = &r["defaultConfiguration"]["level"];
            assert!(["none", "note", "warning", "error"].contains(&level.as_str().unwrap()));
        }
        for res in run["results"].as_array().expect("results") {
            // result: message required (text or id)
            let msg = req(res, "message", "result");
            assert!(msg.get("text").is_some() || msg.get("id").is_some());
            assert!(["none", "note", "warning", "error"].contains(&res["level"].as_str().unwrap()));
            let idx = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(
                rules[idx]["id"], res["ruleId"],
                "ruleIndex must point at ruleId"
            );
            for loc in res["locations"].as_array().unwrap() {
                let phys = &loc["physicalLocation"];
                assert!(phys["artifactLocation"]["uri"].is_string());
                if let Some(region) = phys.get("region") {
                    // startLine/startColumn are integers >= 1
                    for k in ["startLine", "startColumn"] {
                        if let Some(n) = region.get(k) {
                            assert!(n.as_u64().unwrap() >= 1);
                        }
                    }
                }
            }
        }
    }
}

/// The OASIS SARIF 2.1.0 schema (errata 01 OS), compiled as the draft it declares (draft-04),
/// with `format` checked too.
fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF 2.1.0 schema compiles")
}

fn schema_errors(schema: &jsonschema::Validator, log: &Value) -> Vec<String> {
    schema
        .iter_errors(log)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn sarif_is_valid_against_the_oasis_2_1_0_schema() {
    let schema = sarif_schema();
    // the golden run, a run over several files with errors and warnings and diagnostics
    // without a position (a limit on the whole stream), and the golden input without the
    // cross-object rules
    let golden: Value =
        serde_json::from_str(&check("output.sarif.json", Format::Sarif, false)).unwrap();
    let mut v = smi_validate::Validator::new(Options::default().strict(true));
    v.validate_str(
        "dir/with space/ü.yaml",
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec: {service: web, backends: [{service: web-v1, weight: 0}], extra: 1}\n",
    );
    v.validate_str("broken.yaml", "a: [\n");
    v.validate_value(
        "<object 0>",
        serde_json::json!({"apiVersion": "split.smi-spec.io/v1alpha9", "kind": "TrafficSplit"}),
    );
    let other = v.finish();
    let levels: Vec<&str> = other
        .diagnostics
        .iter()
        .map(|d| d.severity.as_str())
        .collect();
    assert!(
        levels.contains(&"error") && levels.contains(&"warning"),
        "{levels:?}"
    );
    let other: Value =
        serde_json::from_str(&render(&other, Format::Sarif, RenderOptions::default())).unwrap();
    // without the cross-object rules: the notification that says so
    let skipped = validate_str(
        "input.yaml",
        &std::fs::read_to_string(format!("{DIR}/input.yaml")).unwrap(),
        &Options::default().skip_cross(true),
    );
    let skipped: Value =
        serde_json::from_str(&render(&skipped, Format::Sarif, RenderOptions::default())).unwrap();
    assert!(
        skipped["runs"][0]["invocations"][0]["toolConfigurationNotifications"].is_array(),
        "{skipped}"
    );
    for (name, log) in [
        ("golden", &golden),
        ("errors and warnings", &other),
        ("cross-object rules skipped", &skipped),
    ] {
        let errors = schema_errors(&schema, log);
        assert!(
            errors.is_empty(),
            "{name}: SARIF breaks the 2.1.0 schema: {errors:#?}"
        );
    }

    // the check has teeth: copies that break the schema fail it
    let mut no_version = golden.clone();
    no_version.as_object_mut().unwrap().remove("version");
    let mut bad_level = golden.clone();
    bad_level["runs"][0]["results"][0]["level"] = "fatal".into();
    let mut bad_line = golden.clone();
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let mut unknown = golden.clone();
    unknown["runs"][0]["tool"]["driver"]["colour"] = "red".into();
    for (name, log) in [
        ("without version", &no_version),
        ("with level fatal", &bad_level),
        ("with startLine 0", &bad_line),
        ("with an unknown driver property", &unknown),
    ] {
        assert!(
            !schema_errors(&schema, log).is_empty(),
            "a SARIF log {name} passed the schema"
        );
    }
}
