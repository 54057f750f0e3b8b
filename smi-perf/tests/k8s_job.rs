//! `smi-perf k8s job`: the printed ConfigMap and Indexed Job are read back into k8s-openapi types.
//! k8s-openapi's deserializers reject wrongly typed fields but skip unknown ones, so every object
//! is also re-serialized and compared with what was printed: a field the types do not know (a
//! typo, a wrong nesting) would be dropped and show up as a difference.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use smi_perf_engine::k8s::{
    COMPLETION_INDEX_ANNOTATION, JobOptions, MOUNT_DIR, TEST_KEY, collect_command, job_manifests,
};

const BIN: &str = env!("CARGO_BIN_EXE_smi-perf");

const TEST: &str = "apiVersion: perf.smi-spec.io/v1alpha1
kind: PerformanceTest
metadata:
  name: checkout
  namespace: perf
spec:
  endpoints: [\"http://checkout.shop:8080/\"]
  loadModel: Open
  rps: 3000
  connections: 30
  duration: 1m
  warmup: 5s
  parallelism: 3
";

fn smi_perf(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Deserializes `v` into `T`, re-serializes it and demands the same JSON.
#[track_caller]
fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(v: &serde_json::Value) -> T {
    let t: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("not a valid object: {e}\n{v:#}"));
    assert_eq!(
        &serde_json::to_value(&t).unwrap(),
        v,
        "fields lost on the round trip through the k8s-openapi type"
    );
    t
}

#[track_caller]
fn check(cm: &ConfigMap, job: &Job, image: &str) {
    assert_eq!(cm.metadata.name.as_deref(), Some("checkout-perf-test"));
    assert_eq!(cm.metadata.namespace.as_deref(), Some("perf"));
    assert_eq!(
        cm.data.as_ref().unwrap()[TEST_KEY],
        TEST,
        "the ConfigMap carries the manifest verbatim"
    );
    assert_eq!(job.metadata.name.as_deref(), Some("checkout-perf"));
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!(spec.completions, Some(3));
    assert_eq!(spec.parallelism, Some(3));
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.active_deadline_seconds, Some(65 + 600));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let c = &pod.containers[0];
    assert_eq!(c.image.as_deref(), Some(image));
    let args = c.args.as_ref().unwrap();
    let shard_at = args.iter().position(|a| a == "--shard").unwrap();
    assert_eq!(args[shard_at + 1], "$(JOB_COMPLETION_INDEX)/3");
    assert!(args.contains(&"--result-marker".to_owned()));
    assert!(args.contains(&format!("{MOUNT_DIR}/{TEST_KEY}")));
    let env = c.env.as_ref().unwrap();
    let index = env
        .iter()
        .find(|e| e.name == "JOB_COMPLETION_INDEX")
        .unwrap();
    let field = &index
        .value_from
        .as_ref()
        .unwrap()
        .field_ref
        .as_ref()
        .unwrap()
        .field_path;
    assert_eq!(
        field,
        &format!("metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']")
    );
    let run_id = env.iter().find(|e| e.name == "SMI_PERF_RUN_ID").unwrap();
    let field = &run_id
        .value_from
        .as_ref()
        .unwrap()
        .field_ref
        .as_ref()
        .unwrap()
        .field_path;
    assert_eq!(
        field,
        "metadata.labels['batch.kubernetes.io/controller-uid']"
    );
    assert!(
        args.windows(2)
            .any(|w| w == ["--run-id", "$(SMI_PERF_RUN_ID)"]),
        "{args:?}"
    );
    let mount = &c.volume_mounts.as_ref().unwrap()[0];
    assert_eq!(mount.mount_path, MOUNT_DIR);
    let vol = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == mount.name)
        .unwrap();
    assert_eq!(
        vol.config_map.as_ref().unwrap().name,
        cm.metadata.name.clone().unwrap()
    );
}

#[test]
fn printed_json_list_is_a_valid_configmap_and_indexed_job() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test.yaml"), TEST).unwrap();
    let (code, out, err) = smi_perf(
        dir.path(),
        &[
            "k8s",
            "job",
            "test.yaml",
            "--image",
            "registry.example/smi-perf:0.1",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("smi-perf merge -"),
        "collection recipe on stderr: {err}"
    );
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (list["apiVersion"].as_str(), list["kind"].as_str()),
        (Some("v1"), Some("List"))
    );
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "ConfigMap");
    assert_eq!(items[1]["kind"], "Job");
    assert_eq!(items[1]["apiVersion"], "batch/v1");
    let cm: ConfigMap = typed(&items[0]);
    let job: Job = typed(&items[1]);
    check(&cm, &job, "registry.example/smi-perf:0.1");
}

#[test]
fn printed_yaml_documents_match_the_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test.yaml"), TEST).unwrap();
    let (code, yaml, err) = smi_perf(dir.path(), &["k8s", "job", "test.yaml", "--image", "img:1"]);
    assert_eq!(code, 0, "{err}");
    assert!(yaml.starts_with("# smi-perf: 3 shard(s)"));
    assert!(yaml.contains("kubectl -n perf logs -l job-name=checkout-perf --tail=-1"));
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    assert_eq!(docs.len(), 2);
    let cm: ConfigMap = typed(&docs[0]);
    let job: Job = typed(&docs[1]);
    check(&cm, &job, "img:1");
    let (_, json, _) = smi_perf(
        dir.path(),
        &["k8s", "job", "test.yaml", "--image", "img:1", "-o", "json"],
    );
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["items"][0], docs[0]);
    assert_eq!(list["items"][1], docs[1]);
}

#[test]
fn refuses_invalid_tests_and_missing_image() {
    let dir = tempfile::tempdir().unwrap();
    // 3 shards but one connection: some shard would have none
    std::fs::write(
        dir.path().join("bad.yaml"),
        TEST.replace("connections: 30", "connections: 1"),
    )
    .unwrap();
    let (code, _, err) = smi_perf(dir.path(), &["k8s", "job", "bad.yaml", "--image", "img:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("spec.parallelism"), "{err}");
    std::fs::write(dir.path().join("test.yaml"), TEST).unwrap();
    let (code, _, _) = smi_perf(dir.path(), &["k8s", "job", "test.yaml"]);
    assert_eq!(code, 2, "--image is required");
    let (code, _, err) = smi_perf(
        dir.path(),
        &[
            "k8s",
            "job",
            "test.yaml",
            "--image",
            "img:1",
            "--name",
            "Not_A_Label",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("DNS label"), "{err}");
}

#[test]
fn library_options_reach_the_job() {
    let opts = JobOptions {
        namespace: Some("load".into()),
        start_at: Some("2030-01-01T00:00:00Z".into()),
        backoff_limit: 2,
        active_deadline_seconds: Some(120),
        ..JobOptions::new("img:2")
    };
    let m = job_manifests(TEST, &opts).unwrap();
    assert_eq!(m.shards, 3);
    let spec = m.job.spec.as_ref().unwrap();
    assert_eq!(
        (spec.backoff_limit, spec.active_deadline_seconds),
        (Some(2), Some(120))
    );
    assert_eq!(m.job.metadata.namespace.as_deref(), Some("load"));
    assert_eq!(m.config_map.metadata.namespace.as_deref(), Some("load"));
    let args = spec.template.spec.as_ref().unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert!(
        args.windows(2)
            .any(|w| w == ["--start-at", "2030-01-01T00:00:00Z"]),
        "{args:?}"
    );
    assert!(collect_command(&m).contains(
        "kubectl -n load wait --for=condition=complete --timeout=120s job/checkout-perf"
    ));
    assert!(
        job_manifests(
            TEST,
            &JobOptions {
                start_at: Some("soon".into()),
                ..JobOptions::new("img")
            }
        )
        .is_err()
    );
    assert!(
        job_manifests(
            &TEST.replace("  name: checkout\n", ""),
            &JobOptions::new("img")
        )
        .is_err()
    );
}

/// Issue 19: the shard pods failed the "restricted" Pod Security Standard, had no resources,
/// no ttlSecondsAfterFinished and a mounted service-account token. Checked here offline, field by
/// field, as the restricted profile lists them.
#[test]
fn shard_pods_pass_the_restricted_pod_security_standard() {
    let m = job_manifests(TEST, &JobOptions::new("img:1")).unwrap();
    let spec = m.job.spec.as_ref().unwrap();
    assert_eq!(spec.ttl_seconds_after_finished, Some(86_400));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert!(pod.host_network.is_none() && pod.host_pid.is_none() && pod.host_ipc.is_none());
    let psc = pod.security_context.as_ref().unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert!(psc.run_as_user.is_some_and(|u| u != 0));
    assert_eq!(
        psc.seccomp_profile.as_ref().map(|p| p.type_.as_str()),
        Some("RuntimeDefault")
    );
    for v in pod.volumes.as_deref().unwrap_or_default() {
        assert!(v.host_path.is_none(), "{v:?}");
    }
    for c in &pod.containers {
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_ne!(sc.privileged, Some(true));
        let caps = sc.capabilities.as_ref().unwrap();
        assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_owned()][..]));
        assert!(caps.add.is_none());
        assert!(c.ports.is_none());
        let r = c.resources.as_ref().unwrap();
        for set in [&r.requests, &r.limits] {
            let set = set.as_ref().unwrap();
            assert_eq!(set["cpu"].0, "1");
            assert_eq!(set["memory"].0, "512Mi");
        }
    }
    // Settable.
    let m = job_manifests(
        TEST,
        &JobOptions {
            cpu: "250m".into(),
            memory: "1Gi".into(),
            ttl_seconds_after_finished: None,
            ..JobOptions::new("img:1")
        },
    )
    .unwrap();
    let spec = m.job.spec.as_ref().unwrap();
    assert_eq!(spec.ttl_seconds_after_finished, None);
    let r = spec.template.spec.as_ref().unwrap().containers[0]
        .resources
        .as_ref()
        .unwrap();
    assert_eq!(r.limits.as_ref().unwrap()["cpu"].0, "250m");
    assert_eq!(r.requests.as_ref().unwrap()["memory"].0, "1Gi");
}

/// Issue 19: pull policy "Sometimes", deadline 0 and namespace `Bad_NS` were emitted unchecked.
#[test]
fn bad_option_values_are_refused() {
    let bad = |o: JobOptions, what: &str| {
        let e = job_manifests(TEST, &o).unwrap_err().to_string();
        assert!(e.contains(what), "{what}: {e}");
    };
    bad(
        JobOptions {
            image_pull_policy: Some("Sometimes".into()),
            ..JobOptions::new("img")
        },
        "Always, IfNotPresent or Never",
    );
    bad(
        JobOptions {
            active_deadline_seconds: Some(0),
            ..JobOptions::new("img")
        },
        "activeDeadlineSeconds 0",
    );
    bad(
        JobOptions {
            namespace: Some("Bad_NS".into()),
            ..JobOptions::new("img")
        },
        "namespace \"Bad_NS\"",
    );
    bad(
        JobOptions {
            backoff_limit: -1,
            ..JobOptions::new("img")
        },
        "backoffLimit",
    );
    bad(
        JobOptions {
            cpu: "lots".into(),
            ..JobOptions::new("img")
        },
        "cpu",
    );
    bad(
        JobOptions {
            memory: "0".into(),
            ..JobOptions::new("img")
        },
        "memory",
    );
    bad(
        JobOptions {
            ttl_seconds_after_finished: Some(-5),
            ..JobOptions::new("img")
        },
        "ttlSecondsAfterFinished",
    );
    // The CLI: exit 2 with the message.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), TEST).unwrap();
    let (code, out, err) = smi_perf(
        dir.path(),
        &[
            "k8s",
            "job",
            "t.yaml",
            "--image",
            "i",
            "--image-pull-policy",
            "Sometimes",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty() && err.contains("Sometimes"), "{err}");
}
