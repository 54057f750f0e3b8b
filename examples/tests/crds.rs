//! `crds`: runs the binary into a temporary directory and reads the files back as
//! `apiextensions.k8s.io/v1` CustomResourceDefinitions.

use std::path::Path;
use std::process::Command;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;
use smi_types::crd::{self, Flavour, GenerateOptions};

fn read_dir(dir: &Path) -> Vec<CustomResourceDefinition> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let c: CustomResourceDefinition =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // file name = metadata.name = <plural>.<group>
            let name = c.metadata.name.clone().unwrap();
            assert_eq!(
                path.file_name().unwrap().to_str().unwrap(),
                format!("{name}.yaml")
            );
            assert_eq!(name, format!("{}.{}", c.spec.names.plural, c.spec.group));
            c
        })
        .collect()
}

/// The first path where two JSON values differ (readable failures instead of a huge Debug dump).
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            // each key once: keys of x, then keys only y has
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_diff(u, v, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{path}.{k}: {u:?} != {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_diff(u, v, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}

/// The files hold exactly what the library generates.
fn assert_same(files: &[CustomResourceDefinition], generated: &[CustomResourceDefinition]) {
    let mut generated = generated.to_vec();
    generated.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name)); // the files are read in name order
    let (a, b) = (
        serde_json::to_value(files).unwrap(),
        serde_json::to_value(&generated).unwrap(),
    );
    if let Some(d) = first_diff(&a, &b, "") {
        panic!("written CRDs differ from the generated ones at {d}");
    }
}

fn find<'a>(crds: &'a [CustomResourceDefinition], kind: &str) -> &'a CustomResourceDefinition {
    crds.iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} CRD"))
}

fn versions(c: &CustomResourceDefinition) -> (Vec<&str>, Vec<&str>) {
    let served = c
        .spec
        .versions
        .iter()
        .filter(|v| v.served)
        .map(|v| v.name.as_str())
        .collect();
    let storage = c
        .spec
        .versions
        .iter()
        .filter(|v| v.storage)
        .map(|v| v.name.as_str())
        .collect();
    (served, storage)
}

fn sorted_names(crds: &[CustomResourceDefinition]) -> Vec<String> {
    let mut names: Vec<String> = crds
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_both_flavours_as_parseable_crds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_crds"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(stdout.contains("trafficsplits.split.smi-spec.io.yaml  served [v1alpha4, v1alpha3, v1alpha2, v1alpha1] storage v1alpha4"), "{stdout}");

    // all-versions: every version served, storage on the latest, conversion through the webhook
    let all = read_dir(&out.join("all-versions"));
    assert_same(&all, &crd::generate(Flavour::AllVersions));
    assert_eq!(
        sorted_names(&all),
        [
            "httproutegroups.specs.smi-spec.io",
            "identitybindings.access.smi-spec.io",
            "performancetestresults.perf.smi-spec.io",
            "performancetests.perf.smi-spec.io",
            "tcproutes.specs.smi-spec.io",
            "trafficsplits.split.smi-spec.io",
            "traffictargets.access.smi-spec.io",
            "udproutes.specs.smi-spec.io",
        ]
    );
    let ts = find(&all, "TrafficSplit");
    assert_eq!(
        versions(ts),
        (
            vec!["v1alpha4", "v1alpha3", "v1alpha2", "v1alpha1"],
            vec!["v1alpha4"]
        )
    );
    let conversion = ts.spec.conversion.as_ref().unwrap();
    assert_eq!(conversion.strategy, "Webhook");
    let service = conversion
        .webhook
        .as_ref()
        .unwrap()
        .client_config
        .as_ref()
        .unwrap()
        .service
        .as_ref()
        .unwrap();
    assert_eq!(
        (
            service.namespace.as_str(),
            service.name.as_str(),
            service.path.as_deref()
        ),
        ("smi-system", "smi-conversion-webhook", Some("/convert"))
    );
    assert_eq!(
        versions(find(&all, "TrafficTarget")),
        (
            vec!["v1alpha4", "v1alpha3", "v1alpha2", "v1alpha1"],
            vec!["v1alpha4"]
        )
    );

    // sdk-compatible: as smi-sdk-go ships them, no conversion
    let sdk = read_dir(&out.join("sdk-compatible"));
    assert_same(&sdk, &crd::generate(Flavour::SdkCompatible));
    assert_eq!(sorted_names(&sdk), sorted_names(&all));
    assert_eq!(
        versions(find(&sdk, "TrafficSplit")),
        (vec!["v1alpha4"], vec!["v1alpha4"])
    );
    assert_eq!(
        versions(find(&sdk, "TrafficTarget")),
        (vec!["v1alpha3"], vec!["v1alpha3"])
    );
    assert_eq!(
        versions(find(&sdk, "HTTPRouteGroup")),
        (vec!["v1alpha4"], vec!["v1alpha4"])
    );
    assert!(sdk.iter().all(|c| c.spec.conversion.is_none()));
}

#[test]
fn embeds_the_webhook_ca_and_namespace() {
    let tmp = tempfile::tempdir().unwrap();
    let pem = examples::tls::SelfSigned::generate(&examples::tls::default_names())
        .unwrap()
        .cert_pem;
    let pem_path = tmp.path().join("ca.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_crds"))
        .arg(&out)
        .args([
            "--webhook-namespace",
            "mesh",
            "--without-perf",
            "--ca-bundle",
        ])
        .arg(&pem_path)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let all = read_dir(&out.join("all-versions"));
    let mut opts = GenerateOptions::default();
    opts.webhook.namespace = "mesh".into();
    opts.webhook.ca_bundle = Some(pem.clone().into_bytes());
    opts.without_perf = true;
    assert_same(&all, &crd::generate_with(Flavour::AllVersions, &opts));
    assert!(all.iter().all(|c| c.spec.group != "perf.smi-spec.io"));
    let hook = find(&all, "HTTPRouteGroup")
        .spec
        .conversion
        .as_ref()
        .unwrap()
        .webhook
        .as_ref()
        .unwrap();
    let client = hook.client_config.as_ref().unwrap();
    assert_eq!(client.service.as_ref().unwrap().namespace, "mesh");
    assert_eq!(client.ca_bundle.as_ref().unwrap().0, pem.as_bytes());
}

/// A reader that has gone (`crds out | head -0`) ends the listing quietly: exit 0, no panic,
/// and the files are all there (issue 17: the example panicked on EPIPE half-way through).
#[test]
fn a_closed_stdout_is_a_clean_exit_with_every_file_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write to the pipe now fails with EPIPE
    let run = Command::new(env!("CARGO_BIN_EXE_crds"))
        .arg(&out)
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{:?}: {stderr}", run.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_same(
        &read_dir(&out.join("all-versions")),
        &crd::generate(Flavour::AllVersions),
    );
    assert_same(
        &read_dir(&out.join("sdk-compatible")),
        &crd::generate(Flavour::SdkCompatible),
    );
}

/// A failure part-way leaves the output directory as it was: nothing half-written, no staging
/// directory left behind (issue 17).
#[test]
fn a_failure_leaves_no_partial_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // a file where the second flavour's directory goes
    std::fs::write(out.join("sdk-compatible"), "not a directory").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_crds"))
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(stderr.contains("is not a directory"), "{stderr}");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["sdk-compatible"], "{left:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("sdk-compatible")).unwrap(),
        "not a directory"
    );
}
