//! The offline CRD checker (`smi_validate::crd_check`) on deliberately broken CRDs
//! (`tests/data/crd-check/*.yaml`, each naming its expected errors in `# expect:` comments) and
//! on the project's generated CRDs.
//!
//! A fixture's header lists every error the checker must report, one per line:
//! `# expect: <error as the API server prints it>`, `# expect-prefix: <start of the error>`
//! (for CEL compile errors, whose text comes from the parser), or `# expect: accepted`.
//! The same fixtures are sent to a real API server by `e2e/tests/crd_check.rs`.

use std::path::{Path, PathBuf};

use smi_validate::crd_check::{self, CrdReport};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/crd-check")
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

enum Expect {
    Exact(String),
    Prefix(String),
}

fn expectations(text: &str) -> (bool, Vec<Expect>) {
    let mut accepted = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("# expect: ") {
            if e == "accepted" {
                accepted = true;
            } else {
                out.push(Expect::Exact(e.to_string()));
            }
        } else if let Some(e) = line.strip_prefix("# expect-prefix: ") {
            out.push(Expect::Prefix(e.to_string()));
        }
    }
    (accepted, out)
}

fn check_file(path: &Path) -> CrdReport {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let mut reports = crd_check::check_str(&text).expect("parse fixture");
    assert_eq!(reports.len(), 1, "{}: one CRD per fixture", path.display());
    reports.remove(0)
}

#[test]
fn every_fixture_reports_exactly_its_expected_errors() {
    let files = fixtures();
    let mut broken = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let (accepted, expected) = expectations(&text);
        assert!(
            accepted == expected.is_empty(),
            "{}: a fixture is either accepted or lists errors",
            f.display()
        );
        let report = check_file(f);
        let mut actual: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        if accepted {
            assert!(
                actual.is_empty(),
                "{}: expected accepted, got {actual:#?}",
                f.display()
            );
            continue;
        }
        broken += 1;
        for e in &expected {
            let pos = actual.iter().position(|a| match e {
                Expect::Exact(x) => a == x,
                Expect::Prefix(x) => a.starts_with(x.as_str()),
            });
            match pos {
                Some(p) => {
                    actual.remove(p);
                }
                None => panic!(
                    "{}: expected error not reported: {}\nreported: {:#?}",
                    f.display(),
                    match e {
                        Expect::Exact(x) | Expect::Prefix(x) => x,
                    },
                    report
                        .errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                ),
            }
        }
        assert!(
            actual.is_empty(),
            "{}: unexpected errors {actual:#?}",
            f.display()
        );
    }
    assert!(broken >= 20, "at least 20 broken fixtures, found {broken}");
}

#[test]
fn perf_crd_costs_match_the_issue() {
    // issue 12: 7 rules over the per-rule limit, the version total ~2.6e12
    let r = check_file(&fixture_dir().join("perf-unbounded-rules.yaml"));
    let over: Vec<_> = r
        .rule_costs
        .iter()
        .filter(|c| c.total > crd_check::STATIC_ESTIMATED_COST_LIMIT)
        .collect();
    assert_eq!(over.len(), 7, "{over:#?}");
    assert_eq!(r.schema_costs.len(), 1);
    let total = r.schema_costs[0].1;
    assert!(
        (2_600_000_000_000..2_700_000_000_000).contains(&total),
        "{total}"
    );
    // thresholds has no maxItems: its items' rules run up to (3 MiB - 2) / (2 + 1 + …) times
    let thr = r
        .rule_costs
        .iter()
        .find(|c| {
            c.field
                .contains("properties[thresholds].items.x-kubernetes-validations[1]")
        })
        .unwrap();
    assert_eq!(thr.cardinality, 209_715);
}

#[test]
fn cost_formulas_follow_cel_go() {
    use serde_json::json;
    let est = |rule: &str, schema: serde_json::Value| {
        let e = crd_check::estimate_rule_cost(rule, &schema, false);
        assert!(e.errors.is_empty(), "{rule}: {:?}", e.errors);
        e.max_cost
    };
    let bounded = json!({"type": "object", "properties": {
        "names": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 5}},
        "name": {"type": "string", "maxLength": 10},
        "free": {"type": "string"},
        "n": {"type": "integer"}
    }});
    // identifiers and selections on objects cost 1, literals 0
    assert_eq!(est("self.n > 0", bounded.clone()), 3);
    // has() costs nothing beyond its operand (Kubernetes: PresenceTestHasCost(false))
    assert_eq!(est("has(self.n)", bounded.clone()), 1);
    // string equality: ceil(0.1 × the smaller size) — 'abc' (3) vs maxLength 10 (40 bytes)
    assert_eq!(est("self.name == 'abc'", bounded.clone()), 2 + 1);
    // matches: ceil(0.1 × (size + 1)) × ceil(0.25 × regex size); size = 4 × maxLength
    assert_eq!(
        est("self.name.matches('^[a-z]+$')", bounded.clone()),
        2 + 5 * 2
    );
    // unbounded string: (3 MiB - 2) characters: ceil(0.1 × 3145727) × 2
    let big = est("self.free.matches('^[a-z]+$')", bounded.clone());
    assert_eq!(big, 2 + 314_573 * 2);
    // a comprehension: range size × (step + loop condition)
    // all(): step `@result && p` = 1 + p, loop condition `@not_strictly_false(@result)` = 2
    // p = `n.size() < 5`: n (1) + size (1) + < (1) = 3 → 10 × (4 + 2) + self.names (2) + result (1)
    assert_eq!(
        est("self.names.all(n, n.size() < 5)", bounded.clone()),
        10 * 6 + 2 + 1
    );
}

#[test]
fn generated_crds_on_this_commit() {
    // Every generated CRD, both flavours, is accepted: the API server (kube-apiserver v1.37.2)
    // accepts all 16 too (engineer "crd", issue 12 item 4).
    let mut n = 0;
    for flavour in [
        smi_types::crd::Flavour::AllVersions,
        smi_types::crd::Flavour::SdkCompatible,
    ] {
        for crd in smi_types::crd::generate(flavour) {
            n += 1;
            let r = crd_check::check_typed(&crd);
            let errors: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", r.name);
        }
    }
    assert_eq!(n, 16);
}

#[test]
fn streams_lists_and_json_are_read() {
    let one = std::fs::read_to_string(fixture_dir().join("missing-items.yaml")).unwrap();
    let two =
        format!("{one}\n---\n{one}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n");
    let r = crd_check::check_str(&two).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].document, r[1].document), (0, 1));
    let v: serde_json::Value = serde_saphyr::from_str(&one).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [v]});
    let r = crd_check::check_str(&list.to_string()).unwrap();
    assert_eq!(r.len(), 1);
    assert!(!r[0].is_accepted());
    assert!(crd_check::check_str("{ not json").is_err());
    assert!(crd_check::check_str("a: [").is_err());
}

#[test]
fn server_message_has_the_api_server_shape() {
    let r = check_file(&fixture_dir().join("missing-items.yaml"));
    assert_eq!(
        r.server_message().unwrap(),
        "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: spec.validation.openAPIV3Schema.properties[spec].properties[tags].items: Required value: must be specified"
    );
    let ok = check_file(&fixture_dir().join("ok-bounded-rules.yaml"));
    assert!(ok.server_message().is_none());
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "",
        "---\n---\n",
        "kind: CustomResourceDefinition",
        "kind: CustomResourceDefinition\nspec: 5",
        "kind: CustomResourceDefinition\nspec: {versions: [{schema: {openAPIV3Schema: {type: object, properties: {a: {x-kubernetes-validations: [{rule: 'self.'}]}}}}}]}",
        "kind: CustomResourceDefinition\nspec: {versions: [{schema: {openAPIV3Schema: {type: object, x-kubernetes-validations: [{rule: '[1,2].all(x, x > 0) && {\"a\": 1}.all(k, k == \"a\") && dyn(self).foo == 1 && self.?spec.orValue(1) == 1'}]}}}]}",
        "kind: CustomResourceDefinition\nspec: {versions: [{schema: {openAPIV3Schema: {type: object, properties: {l: {type: array, items: {type: array, items: {type: string}}}}, x-kubernetes-validations: [{rule: 'self.l.all(a, a.all(b, b.split(\",\").exists(c, c.lowerAscii().replace(\"a\", \"bb\").indexOf(\"x\") > 0)))'}]}}}]}",
    ] {
        let _ = crd_check::check_str(text);
    }
}
