//! The generated SMI CRDs compared with the checked-in golden files (the perf.smi-spec.io CRDs
//! are left out: the perf module owns and tests them).
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p smi-types --test crd_golden`.

use smi_types::crd::{self, Flavour};

#[test]
fn perf_crds_are_included_by_default() {
    let kinds: Vec<String> = crd::generate(Flavour::SdkCompatible)
        .into_iter()
        .map(|c| c.spec.names.kind)
        .collect();
    assert!(
        kinds.iter().any(|k| k == "PerformanceTest")
            && kinds.iter().any(|k| k == "PerformanceTestResult"),
        "{kinds:?}"
    );
    for k in [
        "TrafficTarget",
        "IdentityBinding",
        "HTTPRouteGroup",
        "TCPRoute",
        "UDPRoute",
        "TrafficSplit",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k}");
    }
}

fn check(file: &str, flavour: Flavour) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    let mut opts = crd::GenerateOptions::default();
    opts.without_perf = true;
    let actual = crd::to_yaml(&crd::generate_with(flavour, &opts));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{file} missing: run with UPDATE_GOLDEN=1"));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{file} differs from the generated CRDs from line {}:\n  golden:    {:?}\n  generated: {:?}\nrun with UPDATE_GOLDEN=1 to accept",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn all_versions_golden() {
    check("all-versions.yaml", Flavour::AllVersions);
}

#[test]
fn sdk_compatible_golden() {
    check("sdk-compatible.yaml", Flavour::SdkCompatible);
}

#[test]
fn generated_crds_parse_back() {
    for flavour in [Flavour::AllVersions, Flavour::SdkCompatible] {
        let yaml = crd::to_yaml(&crd::generate(flavour));
        let crds: Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
            serde_saphyr::from_multiple(&yaml).unwrap();
        assert_eq!(crds, crd::generate(flavour));
    }
}
