//! Golden output of every format for `tests/golden/input.yaml`. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p smi-validate --test golden` and review the diff.
//! The SARIF is also checked against the required properties of SARIF 2.1.0 (the schema file
//! itself cannot be fetched here, so the check is structural, written from the 2.1.0 spec).

use serde_json::Value;
use smi_validate::output::{Format, RenderOptions, render};
use smi_validate::{Options, Report, validate_str};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn report() -> Report {
    let text = std::fs::read_to_string(format!("{DIR}/input.yaml")).unwrap();
    validate_str("input.yaml", &text, &Options::default())
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
