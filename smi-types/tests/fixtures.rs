//! Our own fixtures, one or more per kind and version (`tests/fixtures/<group>/<version>/`):
//! each parses at its directory's apiVersion and round-trips exactly through serde_json,
//! serde-saphyr and serde_norway. Also: stream handling and located errors.

use std::path::{Path, PathBuf};

use serde_json::Value;
use smi_types::{Document, Error, SmiObject, parse_yaml_stream};

fn fixtures() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for group in std::fs::read_dir(&root).unwrap() {
        let group = group.unwrap().path();
        for version in std::fs::read_dir(&group).unwrap() {
            let version = version.unwrap().path();
            for file in std::fs::read_dir(&version).unwrap() {
                let file = file.unwrap().path();
                let api_version = format!(
                    "{}.smi-spec.io/{}",
                    group.file_name().unwrap().to_str().unwrap(),
                    version.file_name().unwrap().to_str().unwrap()
                );
                out.push((api_version, file));
            }
        }
    }
    out.sort();
    out
}

fn round_trip(name: &str, input: &Value, obj: &SmiObject) {
    assert_eq!(&obj.to_value(), input, "{name}: JSON(out) != JSON(in)");
    let yaml = obj.to_yaml().unwrap();
    assert_eq!(
        parse_yaml_stream(&yaml).unwrap(),
        vec![Document::Smi(Box::new(obj.clone()))],
        "{name}:\n{yaml}"
    );
    let v: Value = serde_norway::from_str(&serde_norway::to_string(input).unwrap()).unwrap();
    assert_eq!(
        &SmiObject::from_value(v).unwrap(),
        obj,
        "{name}: serde_norway"
    );
    let v: Value = serde_norway::from_str(&yaml).unwrap();
    assert_eq!(
        &SmiObject::from_value(v).unwrap(),
        obj,
        "{name}: serde_norway reads our YAML"
    );
}

#[test]
fn every_fixture_round_trips() {
    let all = fixtures();
    let mut kinds = std::collections::BTreeSet::new();
    for (api_version, file) in &all {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let docs = parse_yaml_stream(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let input: Value = serde_saphyr::from_str(&text).unwrap();
        let [Document::Smi(obj)] = docs.as_slice() else {
            panic!("{name}: {docs:?}")
        };
        assert_eq!(obj.api_version(), api_version, "{name}");
        kinds.insert((obj.api_version(), obj.kind()));
        round_trip(&name, &input, obj);
    }
    // every kind × version this crate knows, except the perf API (tested by its own module)
    for (group, versions) in smi_types::known_api_versions() {
        if group == "perf.smi-spec.io" {
            continue;
        }
        for (version, ks) in versions {
            for k in ks {
                let av = format!("{group}/{version}");
                assert!(
                    kinds.iter().any(|(a, kk)| *a == av && *kk == k),
                    "no fixture for {av} {k}"
                );
            }
        }
    }
}

#[test]
fn headers_keep_their_form_and_order() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/specs/v1alpha2/httproutegroup-map-headers.yaml"),
    )
    .unwrap();
    let docs = parse_yaml_stream(&text).unwrap();
    let Document::Smi(o) = &docs[0] else { panic!() };
    let SmiObject::HttpRouteGroupV1alpha2(g) = o.as_ref() else {
        panic!()
    };
    let h = g.matches.as_ref().unwrap()[0].headers.as_ref().unwrap();
    assert_eq!(h.form(), Some(smi_types::headers::HeadersForm::Map));
    assert_eq!(
        h.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        vec!["user-agent", "x-beta"]
    );
    let yaml = o.to_yaml().unwrap();
    assert!(yaml.find("user-agent").unwrap() < yaml.find("x-beta").unwrap());
}

#[test]
fn a_stream_of_every_fixture_plus_other_documents() {
    let mut stream = String::from("# leading comment\n");
    let all = fixtures();
    for (_, f) in &all {
        stream.push_str("---\n");
        stream.push_str(&std::fs::read_to_string(f).unwrap());
    }
    stream.push_str("---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n---\n# only a comment\n...\n");
    let docs = parse_yaml_stream(&stream).unwrap();
    // `---` alone and `---` + comment + `...` are two explicit empty documents; the leading
    // comment before the first `---` is not a document.
    assert_eq!(docs.len(), all.len() + 3);
    assert!(matches!(&docs[all.len()], Document::Other { kind, .. } if kind == "Service"));
    assert_eq!(docs[all.len() + 1..], [Document::Empty, Document::Empty]);
    let out = smi_types::to_yaml_stream(&docs).unwrap();
    assert_eq!(parse_yaml_stream(&out).unwrap(), docs);
}

#[test]
fn errors_carry_document_line_and_column() {
    let stream = "apiVersion: v1\nkind: ConfigMap\n---\n\n---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: x\nspec:\n  service: web\n  backends:\n  - service: a\n    weight: lots\n";
    let err = parse_yaml_stream(stream).unwrap_err();
    let Error::Invalid {
        location: Some(loc),
        ref kind,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(kind, "TrafficSplit");
    assert_eq!((loc.document, loc.line), (2, 14), "{err}");
    assert!(loc.column > 0);
    // the message has no chunk-relative position of its own; the location is stream-relative
    assert!(!err.to_string().contains("at line"), "{err}");
    assert!(
        err.to_string().starts_with("document 2, line 14, column"),
        "{err}"
    );
    let docs = smi_types::parse_yaml_documents(stream, &Default::default()).unwrap();
    assert!(docs[0].is_ok() && docs[1].is_ok() && docs[2].is_err());
}

#[test]
fn unknown_version_and_kind_are_structured() {
    let e = parse_yaml_stream("apiVersion: split.smi-spec.io/v1beta1\nkind: TrafficSplit\n")
        .unwrap_err();
    let Error::UnknownVersion {
        group,
        known_versions,
        location,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*group, "split.smi-spec.io");
    assert_eq!(
        known_versions,
        &["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"]
    );
    assert_eq!(location.unwrap().document, 0);
    let e =
        parse_yaml_stream("apiVersion: specs.smi-spec.io/v1alpha3\nkind: UDPRoute\n").unwrap_err();
    let Error::UnknownKind { known_kinds, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(known_kinds, &["HTTPRouteGroup", "TCPRoute"]);
    assert!(
        e.to_string()
            .contains("known kinds: HTTPRouteGroup, TCPRoute"),
        "{e}"
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for bad in [
        "[1, 2",
        "- a\n- b\n",
        "apiVersion: split.smi-spec.io/v1alpha4\n",
        "kind: TrafficSplit\n",
        "\"str\"",
        "apiVersion: 3\nkind: X\n",
    ] {
        assert!(parse_yaml_stream(bad).is_err(), "{bad:?}");
    }
    assert!(smi_types::parse_json("{").is_err());
    assert!(smi_types::parse_json("[]").is_err());
}
