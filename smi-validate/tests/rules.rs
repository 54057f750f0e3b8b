//! One fixture per rule: `tests/fixtures/rules/<CODE>.yaml` breaks only that rule. Its first
//! line says what is expected — `# expect: CODE line:col path` — and an optional
//! `# options: …` line sets options (`strict`, `require-refs`, `reject=KIND`, `target=sdk`,
//! `target=controller-sdk`, `max-depth=N`).

use smi_validate::{Code, Limits, Options, Severity, Target, Validator};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules");

/// Codes without a fixture, and why (CODES.md says the same).
const NO_FIXTURE: &[(&str, &str)] = &[
    (
        "SMI1511",
        "no longer reported: the generated CRD refuses a negative v1alpha1 weight (`minimum: 0`, \
         a pattern without a minus sign), so the structure layer reports it (SMI1206/SMI1207)",
    ),
    (
        "SMI1302",
        "no manifest can trigger it: no CEL rule of the generated CRDs is left to kube-cel on a \
         create; the unit test `engine::tests::a_cel_rule_that_cannot_be_evaluated_is_smi1302_at_its_node` \
         triggers it with a schema whose rules cannot be evaluated",
    ),
];

fn options(text: &str) -> Options {
    let mut o = Options::default();
    if let Some(line) = text.lines().find_map(|l| l.strip_prefix("# options: ")) {
        for opt in line.split_whitespace() {
            match opt.split_once('=') {
                None if opt == "strict" => o = o.strict(true),
                None if opt == "require-refs" => o = o.require_refs(true),
                Some(("reject", k)) => o = o.reject([k]),
                Some(("target", "sdk")) => o = o.target(Target::Sdk),
                Some(("target", "controller-sdk")) => o = o.target(Target::ControllerSdk),
                Some(("max-depth", n)) => {
                    let mut l = Limits::default();
                    l.max_depth = n.parse().unwrap();
                    o = o.limits(l);
                }
                _ => panic!("unknown fixture option {opt}"),
            }
        }
    }
    o
}

#[test]
fn every_rule_has_a_fixture_that_breaks_only_that_rule() {
    let mut failures = Vec::new();
    for code in Code::ALL {
        let id = code.as_str();
        if NO_FIXTURE.iter().any(|(c, _)| *c == id) {
            continue;
        }
        let file = format!("{DIR}/{id}.yaml");
        let Ok(bytes) = std::fs::read(&file) else {
            failures.push(format!("{id}: no fixture {file}"));
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("first line `# expect: …`");
        let mut parts = expect.split_whitespace();
        let (want_code, want_pos, want_path) =
            (parts.next().unwrap(), parts.next().unwrap(), parts.next());
        assert_eq!(want_code, id, "{file}: fixture for another code");
        let mut v = Validator::new(options(&text));
        v.validate_bytes(&format!("{id}.yaml"), &bytes);
        let report = v.finish();
        let got: Vec<String> = report
            .diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{} {}:{} {}",
                    d.code,
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0),
                    d.path.clone().unwrap_or_default()
                )
            })
            .collect();
        let want = format!("{want_code} {want_pos} {}", want_path.unwrap_or_default());
        if got != [want.clone()] {
            failures.push(format!("{id}: want [{want}], got {got:?}"));
        }
        if report
            .diagnostics
            .iter()
            .any(|d| d.severity != code.default_severity())
        {
            failures.push(format!("{id}: severity differs from the code's default"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn require_refs_turns_unresolved_references_into_errors() {
    let text = std::fs::read_to_string(format!("{DIR}/SMI1401.yaml")).unwrap();
    let r = smi_validate::validate_str("x.yaml", &text, &Options::default().require_refs(true));
    assert_eq!(
        r.errors().map(|d| d.code).collect::<Vec<_>>(),
        vec![Code::UnresolvedRoute]
    );
}

#[test]
fn codes_md_lists_every_code() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CODES.md")).unwrap();
    for code in Code::ALL {
        let row = format!("| {} | {} |", code.as_str(), code.default_severity());
        assert!(md.contains(&row), "CODES.md lacks the row starting `{row}`");
    }
}

#[test]
fn valid_but_tricky_cases_are_accepted() {
    // validation.md: relative weights, weight 0, backend == apex, dotted apex names,
    // quoted v1alpha1 quantities, server-returned metadata, headers in both shapes.
    let text = r#"
apiVersion: split.smi-spec.io/v1alpha1
kind: TrafficSplit
metadata:
  name: legacy
  namespace: bookstore
  creationTimestamp: "2021-01-01T00:00:00Z"
  uid: 8b5c1f7e-0000-4000-8000-000000000000
  resourceVersion: "12345"
  generation: 3
spec:
  service: bookstore.bookstore
  backends:
  - service: bookstore-v1
    weight: "0"
  - service: bookstore-v2
    weight: 500m
  - service: bookstore-v3
    weight: 0m
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata:
  name: failover
spec:
  service: httpbin.httpbin.svc.cluster.local
  backends:
  - service: httpbin.httpbin.svc.cluster.local
    weight: 1000
  - service: web-backup
    weight: 0
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata:
  name: both-shapes
spec:
  matches:
  - name: list
    headers:
    - user-agent: ".*Android.*"
  - name: map
    headers:
      cookie: "^(.*?;)?(type=insider)(;.*)?$"
"#;
    let r = smi_validate::validate_str("tricky.yaml", text, &Options::default().strict(true));
    // Accepted: the only finding is the portability warning on the map-form headers.
    let found: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.code, d.path.clone()))
        .collect();
    assert_eq!(
        found,
        vec![(
            Severity::Warning,
            Code::HeadersMapForm,
            Some("spec.matches[1].headers".to_owned())
        )],
        "{:#?}",
        r.diagnostics
    );
}

#[test]
fn headers_map_form_severity_follows_the_target() {
    let text = std::fs::read_to_string(format!("{DIR}/SMI1508.yaml")).unwrap();
    let severities = |o: Options| -> Vec<(Severity, Code)> {
        smi_validate::validate_str("h.yaml", &text, &o)
            .diagnostics
            .iter()
            .map(|d| (d.severity, d.code))
            .collect()
    };
    assert_eq!(
        severities(Options::default()),
        vec![(Severity::Warning, Code::HeadersMapForm)]
    );
    assert_eq!(
        severities(Options::new().target(Target::Sdk)),
        vec![(Severity::Error, Code::HeadersMapForm)]
    );
    assert_eq!(
        severities(Options::new().target(Target::ControllerSdk)),
        vec![]
    );
}

#[test]
fn cel_rules_see_the_object_without_the_nulls_the_api_server_drops() {
    // `podLabelSelector: null` is not nullable, so the API server drops it before evaluating
    // `!(has(self.podLabelSelector) && has(self.serviceAccount))`: the object is valid.
    let text = "apiVersion: access.smi-spec.io/v1alpha4\nkind: IdentityBinding\nmetadata: {name: a}\nspec:\n  schemes:\n    podLabelSelector: null\n    serviceAccount: sa\n";
    let r = smi_validate::validate_str("ib.yaml", text, &Options::default());
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
    // with both set, the object is valid with the SMI1512 lint (the CRD accepts both), and a
    // null elsewhere does not hide it
    let text = text.replace("null", "{matchLabels: {app: a}}") + "  extra: null\n";
    // (fieldValidation=Ignore: the unknown `extra` is pruned silently, as the server does)
    let ignore = Options::default().field_validation(smi_validate::FieldValidation::Ignore);
    let r = smi_validate::validate_str("ib.yaml", &text, &ignore);
    let codes: Vec<Code> = r.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![Code::ExclusiveSchemes], "{:#?}", r.diagnostics);
}

#[test]
fn min_properties_counts_only_the_fields_the_api_server_keeps() {
    // the fixture's header gives the API server's verdict: the null is dropped, then
    // `minProperties: 1` fails on the empty `schemes`
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/access/v1alpha4/identitybinding-null-scheme.yaml"
    ))
    .unwrap();
    // fieldValidation=Ignore: unknown fields pruned silently, as the server does
    let ignore = Options::default().field_validation(smi_validate::FieldValidation::Ignore);
    let found = |text: &str| {
        let r = smi_validate::validate_str("ib.yaml", text, &ignore);
        r.diagnostics
            .iter()
            .map(|d| (d.code, d.line, d.column, d.path.clone()))
            .collect::<Vec<_>>()
    };
    let min_properties = vec![(
        Code::OutOfRange,
        Some(12),
        Some(3),
        Some("spec.schemes".to_owned()),
    )];
    assert_eq!(found(&text), min_properties);
    // an unknown field is pruned before validation likewise
    assert_eq!(
        found(&text.replace("podLabelSelector: null", "extra: 1")),
        min_properties
    );
    // with a value, or a null beside another scheme, one property is left: valid
    assert_eq!(
        found(&text.replace("null", "{matchLabels: {app: web}}")),
        vec![]
    );
    assert_eq!(found(&(text.clone() + "    serviceAccount: web\n")), vec![]);
}

#[test]
fn a_null_list_item_is_kept_by_the_api_server_and_is_the_wrong_type() {
    // the server drops null fields, not null list items: `backends: [null]` fails as
    // "must be of type object"
    let text = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec:\n  service: web\n  backends:\n  - null\n  - service: web-v1\n    weight: 1\n";
    let r = smi_validate::validate_str("s.yaml", text, &Options::default());
    let found: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line, d.path.as_deref(), d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![(
            Code::WrongType,
            Some(7),
            Some("spec.backends[0]"),
            "expected object, found null"
        )]
    );
}

/// SMI1502's hint describes this project's conversion, and its numbers are what
/// `smi_types` actually produces for the fixture's weights (issue 17: it described upstream's).
#[test]
fn smi1502_hint_describes_the_conversion_smi_types_does() {
    let text = std::fs::read_to_string(format!("{DIR}/SMI1502.yaml")).unwrap();
    let report = smi_validate::validate_str("SMI1502.yaml", &text, &Options::default());
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::MixedWeightScales)
        .expect("SMI1502");
    let hint = d.hint.as_deref().unwrap();
    assert!(
        hint.contains("smi-types converts to v1alpha2+ keeping the ratio"),
        "{hint}"
    );
    let split = smi_types::SmiObject::from_value(serde_json::json!({
        "apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit",
        "metadata": {"name": "web"},
        "spec": {"service": "web", "backends": [
            {"service": "web-v1", "weight": 1}, {"service": "web-v2", "weight": "500m"}]}
    }))
    .unwrap();
    let v4 = split
        .convert_to(
            "split.smi-spec.io/v1alpha4",
            smi_types::convert::Lossy::Refuse,
        )
        .unwrap()
        .value
        .to_value();
    let (a, b) = (
        &v4["spec"]["backends"][0]["weight"],
        &v4["spec"]["backends"][1]["weight"],
    );
    assert!(
        hint.contains(&format!("become {a} and {b}")),
        "hint {hint:?} vs conversion {a} : {b}"
    );
}
