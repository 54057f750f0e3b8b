//! Kubernetes manifests for a scaled-out run: an **Indexed Job** whose pods are the shards, and
//! the ConfigMap that carries the test manifest.
//!
//! * `completionMode: Indexed`, `completions = parallelism = N` (the test's `spec.parallelism`);
//! * each pod runs `smi-perf run /etc/smi-perf/test.yaml --shard $(JOB_COMPLETION_INDEX)/N
//!   --run-id $(SMI_PERF_RUN_ID) --result-marker -q`, with `JOB_COMPLETION_INDEX` taken from the
//!   pod annotation `batch.kubernetes.io/job-completion-index` and `SMI_PERF_RUN_ID` from the pod
//!   label `batch.kubernetes.io/controller-uid` (the Job's UID, Kubernetes ≥ 1.27) through the
//!   downward API, so shards of one Job merge and shards of two Jobs do not;
//! * the test manifest is mounted read-only from the ConfigMap at `/etc/smi-perf/test.yaml`;
//! * a `request.bodyFrom` key (ConfigMap or Secret) is mounted read-only at
//!   `/etc/smi-perf-body/<key>` and passed as `--body-file` (at most
//!   [`MAX_BODY`](crate::MAX_BODY); the object must exist in the Job's namespace);
//! * each shard prints its result as one line `SMI-PERF-RESULT {json}` on stdout; collect and
//!   merge with [`collect_command`]:
//!   `kubectl logs -l job-name=<job> --tail=-1 | smi-perf merge -`;
//! * `restartPolicy: Never` and `backoffLimit: 0` by default (a retried shard would re-apply its
//!   load), and an `activeDeadlineSeconds` bound derived from the test's length;
//! * the pods pass the Kubernetes **restricted** Pod Security Standard (`runAsNonRoot`, user and
//!   group 65532, `seccompProfile: RuntimeDefault`, `allowPrivilegeEscalation: false`,
//!   `capabilities.drop: [ALL]`, read-only root filesystem), mount no service-account token,
//!   request and limit CPU and memory ([`JobOptions::cpu`], [`JobOptions::memory`]; equal, so
//!   the shards get the Guaranteed QoS class) and the Job is deleted a day after it finished
//!   (`ttlSecondsAfterFinished`, [`JobOptions::ttl_seconds_after_finished`]).
//!
//! The objects are k8s-openapi types, so they are schema-correct by construction.
//!
//! ```
//! use smi_perf_engine::k8s::{JobOptions, job_manifests};
//! let test = "apiVersion: perf.smi-spec.io/v1alpha1\nkind: PerformanceTest\nmetadata: {name: t}\n\
//!             spec: {endpoints: ['http://svc:8080/'], connections: 4, parallelism: 4, duration: 30s}\n";
//! let m = job_manifests(test, &JobOptions::new("registry.example/smi-perf:0.1")).unwrap();
//! let spec = m.job.spec.as_ref().unwrap();
//! assert_eq!((spec.completions, spec.parallelism), (Some(4), Some(4)));
//! assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
//! ```

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, EnvVar, EnvVarSource, KeyToPath,
    ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements,
    SeccompProfile, SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use smi_types::perf::{PerformanceTest, RunLength};

use crate::error::{Error, JobError, Result};
use crate::shard::RESULT_MARKER;

/// Where the test manifest is mounted in the shard pods.
pub const MOUNT_DIR: &str = "/etc/smi-perf";
/// Where a `request.bodyFrom` key is mounted in the shard pods (outside [`MOUNT_DIR`], which is
/// a read-only ConfigMap volume).
pub const BODY_DIR: &str = "/etc/smi-perf-body";
/// Key of the test manifest in the ConfigMap (and file name under [`MOUNT_DIR`]).
pub const TEST_KEY: &str = "test.yaml";
/// Downward API annotation holding an Indexed Job pod's completion index.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";
/// Pod label holding the Job's UID (Kubernetes ≥ 1.27), used as the shards' run id.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";

/// Options of [`job_manifests`].
#[derive(Clone, Debug)]
pub struct JobOptions {
    /// Container image with `smi-perf` on its `PATH`.
    pub image: String,
    /// Job name (default `<test name>-perf`); the ConfigMap is `<job name>-test`.
    pub name: Option<String>,
    /// Namespace (default: the test's, else none, i.e. `kubectl`'s current namespace).
    pub namespace: Option<String>,
    /// Retries of failed shard pods for the whole Job (default 0).
    pub backoff_limit: i32,
    /// Common start instant passed to every shard as `--start-at` (RFC 3339); `spec.startAt` in
    /// the test does the same.
    pub start_at: Option<String>,
    /// Bound on the Job's run time (default: warm-up + duration + 10 min, or 1 h for a request
    /// count).
    pub active_deadline_seconds: Option<i64>,
    /// Container `imagePullPolicy`: `Always`, `IfNotPresent` or `Never`.
    pub image_pull_policy: Option<String>,
    /// CPU request and limit of each shard pod (a Kubernetes quantity, default `"1"`).
    pub cpu: String,
    /// Memory request and limit of each shard pod (a Kubernetes quantity, default `"512Mi"`).
    pub memory: String,
    /// Seconds after which the finished Job and its pods are deleted (default 86400, one day:
    /// collect the results before). `None` keeps them.
    pub ttl_seconds_after_finished: Option<i32>,
}

/// The pods' user and group id when none is set by the image: the conventional "nonroot".
pub const RUN_AS_USER: i64 = 65532;

impl JobOptions {
    /// Defaults with `image`.
    pub fn new(image: impl Into<String>) -> JobOptions {
        JobOptions {
            image: image.into(),
            name: None,
            namespace: None,
            backoff_limit: 0,
            start_at: None,
            active_deadline_seconds: None,
            image_pull_policy: None,
            cpu: "1".to_owned(),
            memory: "512Mi".to_owned(),
            ttl_seconds_after_finished: Some(86_400),
        }
    }
}

/// A positive Kubernetes quantity (`500m`, `1`, `512Mi`).
fn check_quantity(what: &'static str, q: &str) -> Result<()> {
    match smi_types::quantity::Quantity::new(q).to_decimal() {
        Ok(d) if d.mantissa > 0 => Ok(()),
        Ok(_) => Err(JobError::NotPositive {
            what,
            value: q.to_owned(),
        }
        .into()),
        Err(source) => Err(JobError::Quantity { what, source }.into()),
    }
}

/// Checks the options that go into the manifests unchanged.
fn check_options(opts: &JobOptions) -> Result<()> {
    if let Some(ns) = &opts.namespace
        && !is_dns_label(ns)
    {
        return Err(JobError::Namespace(ns.clone()).into());
    }
    if let Some(p) = &opts.image_pull_policy
        && !matches!(p.as_str(), "Always" | "IfNotPresent" | "Never")
    {
        return Err(JobError::PullPolicy(p.clone()).into());
    }
    if let Some(d) = opts.active_deadline_seconds
        && d <= 0
    {
        return Err(JobError::ActiveDeadline(d).into());
    }
    if opts.backoff_limit < 0 {
        return Err(JobError::BackoffLimit(opts.backoff_limit).into());
    }
    if let Some(t) = opts.ttl_seconds_after_finished
        && t < 0
    {
        return Err(JobError::Ttl(t).into());
    }
    if opts
        .image
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(JobError::Image(opts.image.clone()).into());
    }
    check_quantity("cpu", &opts.cpu)?;
    check_quantity("memory", &opts.memory)
}

/// The objects [`job_manifests`] builds.
#[derive(Clone, Debug)]
pub struct JobManifests {
    /// The test manifest, key [`TEST_KEY`].
    pub config_map: ConfigMap,
    /// The Indexed Job running the shards.
    pub job: Job,
    /// Number of shards.
    pub shards: i32,
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A ConfigMap or Secret key as Kubernetes accepts it (`[-._a-zA-Z0-9]+`, at most 253, not
/// `.`, `..` or starting with `..`): it becomes a file name under [`BODY_DIR`].
fn is_data_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && k != "."
        && !k.starts_with("..")
}

/// The volume and file path of a `request.bodyFrom` key.
fn body_volume(bf: &smi_types::perf::BodySource) -> Result<(Volume, String)> {
    let (r, secret) = match (&bf.config_map_key_ref, &bf.secret_key_ref) {
        (Some(r), None) => (r, false),
        (None, Some(r)) => (r, true),
        _ => {
            return Err(JobError::BodyFromRefs.into());
        }
    };
    if !is_data_key(&r.key) {
        return Err(JobError::BodyFromKey(r.key.clone()).into());
    }
    if r.name.is_empty() || r.name.len() > 253 {
        return Err(JobError::BodyFromName(r.name.clone()).into());
    }
    let items = Some(vec![KeyToPath {
        key: r.key.clone(),
        path: r.key.clone(),
        ..Default::default()
    }]);
    let mut v = Volume {
        name: "body".to_owned(),
        ..Default::default()
    };
    if secret {
        v.secret = Some(SecretVolumeSource {
            secret_name: Some(r.name.clone()),
            items,
            ..Default::default()
        });
    } else {
        v.config_map = Some(ConfigMapVolumeSource {
            name: r.name.clone(),
            items,
            ..Default::default()
        });
    }
    Ok((v, format!("{BODY_DIR}/{}", r.key)))
}

fn env_from_field(name: &str, field_path: String) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path,
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Builds the ConfigMap and Indexed Job for the PerformanceTest manifest `test_text` (YAML or
/// JSON; stored verbatim in the ConfigMap). The shard count is the test's `spec.parallelism`
/// (default 1); the test must be valid as a whole, have a name, and the image must be set.
pub fn job_manifests(test_text: &str, opts: &JobOptions) -> Result<JobManifests> {
    let test: PerformanceTest =
        serde_saphyr::from_str(test_text).map_err(|source| Error::Yaml {
            what: "test manifest".into(),
            source: Box::new(source),
        })?;
    let errors = test.spec.validate();
    if !errors.is_empty() {
        return Err(Error::InvalidSpec(errors));
    }
    if opts.image.trim().is_empty() {
        return Err(JobError::NoImage.into());
    }
    check_options(opts)?;
    let test_name = test
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(JobError::NoName)?;
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("{test_name}-perf"));
    // The Job name is also the value of the pods' job-name label: a DNS label of at most 63.
    if !is_dns_label(&name) {
        return Err(JobError::JobName(name).into());
    }
    let cm_name = format!("{name}-test");
    if cm_name.len() > 253 {
        return Err(JobError::ConfigMapName(cm_name).into());
    }
    if let Some(s) = &opts.start_at {
        crate::shard::parse_start_at(s)?;
    }
    let n = test.spec.parallelism.unwrap_or(1);
    let namespace = opts
        .namespace
        .clone()
        .or_else(|| test.metadata.namespace.clone());
    let labels = BTreeMap::from([
        ("app.kubernetes.io/name".to_owned(), "smi-perf".to_owned()),
        ("app.kubernetes.io/component".to_owned(), "shard".to_owned()),
        (
            "perf.smi-spec.io/test".to_owned(),
            if test_name.len() <= 63 {
                test_name.clone()
            } else {
                test_name[..63].trim_end_matches(['-', '.', '_']).to_owned()
            },
        ),
    ]);
    let meta = |object_name: &str| ObjectMeta {
        name: Some(object_name.to_owned()),
        namespace: namespace.clone(),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let config_map = ConfigMap {
        metadata: meta(&cm_name),
        data: Some(BTreeMap::from([(
            TEST_KEY.to_owned(),
            test_text.to_owned(),
        )])),
        ..Default::default()
    };

    let mut args = vec![
        "run".to_owned(),
        format!("{MOUNT_DIR}/{TEST_KEY}"),
        "--shard".to_owned(),
        format!("$(JOB_COMPLETION_INDEX)/{n}"),
        "--run-id".to_owned(),
        "$(SMI_PERF_RUN_ID)".to_owned(),
        "--result-marker".to_owned(),
        "--quiet".to_owned(),
    ];
    if let Some(s) = &opts.start_at {
        args.extend(["--start-at".to_owned(), s.clone()]);
    }
    let body = test
        .spec
        .request
        .as_ref()
        .and_then(|r| r.body_from.as_ref())
        .map(body_volume)
        .transpose()?;
    let mut volume_mounts = vec![VolumeMount {
        name: "test".to_owned(),
        mount_path: MOUNT_DIR.to_owned(),
        read_only: Some(true),
        ..Default::default()
    }];
    let mut volumes = vec![Volume {
        name: "test".to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: cm_name.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if let Some((volume, path)) = body {
        args.extend(["--body-file".to_owned(), path]);
        volume_mounts.push(VolumeMount {
            name: "body".to_owned(),
            mount_path: BODY_DIR.to_owned(),
            read_only: Some(true),
            ..Default::default()
        });
        volumes.push(volume);
    }
    let deadline = opts
        .active_deadline_seconds
        .unwrap_or_else(|| match test.spec.run_length() {
            RunLength::Duration(d) => (d + test.spec.effective_warmup()).as_secs() as i64 + 600,
            RunLength::Requests(_) => 3600,
        });
    let container = Container {
        name: "smi-perf".to_owned(),
        image: Some(opts.image.clone()),
        image_pull_policy: opts.image_pull_policy.clone(),
        command: Some(vec!["smi-perf".to_owned()]),
        args: Some(args),
        env: Some(vec![
            env_from_field(
                "JOB_COMPLETION_INDEX",
                format!("metadata.annotations['{COMPLETION_INDEX_ANNOTATION}']"),
            ),
            env_from_field(
                "SMI_PERF_RUN_ID",
                format!("metadata.labels['{CONTROLLER_UID_LABEL}']"),
            ),
        ]),
        volume_mounts: Some(volume_mounts),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Default::default()
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        resources: Some({
            let both = BTreeMap::from([
                ("cpu".to_owned(), Quantity(opts.cpu.clone())),
                ("memory".to_owned(), Quantity(opts.memory.clone())),
            ]);
            ResourceRequirements {
                requests: Some(both.clone()),
                limits: Some(both),
                ..Default::default()
            }
        }),
        ..Default::default()
    };
    let job = Job {
        metadata: meta(&name),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".to_owned()),
            completions: Some(n),
            parallelism: Some(n),
            backoff_limit: Some(opts.backoff_limit),
            active_deadline_seconds: Some(deadline),
            ttl_seconds_after_finished: opts.ttl_seconds_after_finished,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".to_owned()),
                    automount_service_account_token: Some(false),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(RUN_AS_USER),
                        run_as_group: Some(RUN_AS_USER),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".to_owned(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(JobManifests {
        config_map,
        job,
        shards: n,
    })
}

/// The shell commands that wait for the Job, collect the shards' marked result lines from the
/// pod logs and merge them.
pub fn collect_command(m: &JobManifests) -> String {
    let name = m.job.metadata.name.as_deref().unwrap_or_default();
    let ns = m
        .job
        .metadata
        .namespace
        .as_deref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    let wait = m
        .job
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .unwrap_or(3600);
    format!(
        "kubectl{ns} wait --for=condition=complete --timeout={wait}s job/{name}\n\
         kubectl{ns} logs -l job-name={name} --tail=-1 --max-log-requests={} | smi-perf merge - > {name}-merged.json",
        m.shards.max(1)
    )
}

impl JobManifests {
    /// Multi-document YAML (ConfigMap, then Job) for `kubectl apply -f -`, headed by comments
    /// with the collection commands.
    pub fn to_yaml(&self) -> Result<String> {
        let mut out = String::new();
        out.push_str(&format!(
            "# smi-perf: {} shard(s); each prints its result as one `{}{{json}}` line.\n# Collect and merge:\n",
            self.shards,
            RESULT_MARKER
        ));
        for line in collect_command(self).lines() {
            out.push_str(&format!("#   {line}\n"));
        }
        for doc in [
            serde_saphyr::to_string(&self.config_map),
            serde_saphyr::to_string(&self.job),
        ] {
            out.push_str("---\n");
            out.push_str(&doc.map_err(|source| Error::YamlOut {
                source: Box::new(source),
            })?);
        }
        Ok(out)
    }

    /// A `v1` `List` holding the ConfigMap and the Job, as pretty JSON.
    pub fn to_json_list(&self) -> Result<String> {
        let items = vec![
            serde_json::to_value(&self.config_map),
            serde_json::to_value(&self.job),
        ];
        let items = items
            .into_iter()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|source| Error::Json {
                what: "manifests".into(),
                source,
            })?;
        let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
        serde_json::to_string_pretty(&list).map_err(|source| Error::Json {
            what: "manifests".into(),
            source,
        })
    }
}
