//! Target 2: version conversion (`SmiObject::convert_to`, `smi_types::convert::review`).
//!
//! The object comes from a structure-aware mutation of a seed manifest, or (first byte odd) from
//! arbitrary YAML text read with `parse_yaml_stream`. Every object read is converted to every
//! version of its kind, with `Lossy::Report` and `Lossy::Refuse`, and each result is converted
//! on to every version again (up and down through the hub).
//!
//! Checked: no panic; converting to the object's own version is the identity; `Report` never
//! fails with `Lossy`; `Refuse` succeeds exactly when `Report` reports no loss; the result has
//! the requested apiVersion and reads back with `SmiObject::from_value`; an unknown target is
//! `UnknownTarget`.
#![no_main]

use libfuzzer_sys::arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use smi_fuzz::Mutated;
use smi_types::convert::{ConvertError, Lossy};
use smi_types::{Document, SmiObject};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut objects = Vec::new();
    if mode & 1 == 1 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(docs) = smi_types::parse_yaml_stream(text) {
            objects.extend(docs.into_iter().filter_map(|d| match d {
                Document::Smi(o) => Some(*o),
                _ => None,
            }));
        }
    } else {
        let Ok(m) = Mutated::arbitrary(&mut Unstructured::new(rest)) else {
            return;
        };
        let value = m.build().to_value();
        if let Ok(o) = SmiObject::from_value(value.clone()) {
            objects.push(o);
        }
        review(value, mode);
    }
    for o in &objects {
        for target in versions(o) {
            let Some(c) = convert(o, &target) else {
                continue;
            };
            for next in versions(&c) {
                convert(&c, &next);
            }
        }
        let e = o
            .convert_to("split.smi-spec.io/v9", Lossy::Report)
            .unwrap_err();
        assert!(matches!(e, ConvertError::UnknownTarget { .. }), "{e:?}");
    }
});

/// Every apiVersion of the object's kind.
fn versions(o: &SmiObject) -> Vec<String> {
    let (group, _) = o.api_version().split_once('/').expect("group/version");
    smi_types::registry::versions_of(group, o.kind())
        .into_iter()
        .map(|v| format!("{group}/{v}"))
        .collect()
}

fn convert(o: &SmiObject, target: &str) -> Option<SmiObject> {
    let report = o.convert_to(target, Lossy::Report);
    let refuse = o.convert_to(target, Lossy::Refuse);
    match &report {
        Err(ConvertError::Lossy { .. }) => panic!("Lossy::Report failed with Lossy: {report:?}"),
        Err(_) => {
            assert_eq!(
                report.as_ref().err(),
                refuse.as_ref().err(),
                "Report and Refuse fail alike"
            );
            return None;
        }
        Ok(c) => {
            assert_eq!(
                c.lost.is_empty(),
                refuse.is_ok(),
                "Refuse fails exactly on losses: {:?} / {refuse:?}",
                c.lost
            );
            if let Ok(r) = &refuse {
                assert_eq!(r.value, c.value);
            }
            assert_eq!(c.value.api_version(), target);
            assert_eq!(c.value.kind(), o.kind());
            if target == o.api_version() {
                assert_eq!(&c.value, o, "conversion to the own version is the identity");
            }
            let back = SmiObject::from_value(c.value.to_value());
            assert!(
                back.is_ok(),
                "a converted object reads back: {back:?}\n{:#}",
                c.value.to_value()
            );
        }
    }
    report.ok().map(|c| c.value)
}

/// The conversion webhook on one object and a desired version picked by `mode`.
fn review(object: serde_json::Value, mode: u8) {
    let versions = smi_fuzz::api_versions();
    let desired = versions[(mode as usize >> 1) % versions.len()];
    let review = serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "ConversionReview",
        "request": {"uid": "1", "desiredAPIVersion": desired, "objects": [object]},
    });
    if let Ok(review) = serde_json::from_value(review) {
        let out = smi_types::convert::review(review);
        assert!(
            out.response.is_some(),
            "a review with a request gets a response"
        );
    }
}
