//! End-to-end test helpers: smi-rs against a real Kubernetes API server.
//!
//! The server is the local control plane of `scripts/controlplane.sh` (etcd + kube-apiserver built
//! from the pinned Go modules in `e2e/controlplane/`). Everything here needs the `e2e` feature;
//! `cargo test --workspace` builds none of it. Run the suite with
//!
//! ```text
//! scripts/controlplane.sh start && cargo test -p smi-e2e --features e2e
//! ```
//!
//! A test gets a `Cluster` with `Cluster::connect()` (or a bare `kube::Client` with
//! `client()`). Without a reachable server both panic with the command that starts one: an e2e
//! test never skips. The kubeconfig is `target/controlplane/kubeconfig` of this workspace unless
//! the environment variable `SMI_E2E_KUBECONFIG` names another.
//!
//! Requests are sent raw (not through kube's typed `Api`) because the tests need what the typed
//! API hides: the HTTP status, the server's `Status` message and causes, and the `Warning`
//! headers (unknown fields under `fieldValidation=Warn`, deprecations, CRD schema warnings).
#![cfg(feature = "e2e")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

pub mod generate;

pub use kube;
pub use smi_types;
pub use smi_validate;

/// The command that starts the control plane the suite needs (printed by every failure to connect).
pub const START_COMMAND: &str = "scripts/controlplane.sh start";

/// How long [`Cluster::install_crds`] waits for `Established` and `NamesAccepted`.
pub const CRD_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No kubeconfig, or no server answering behind it.
    #[error(
        "no Kubernetes API server for the e2e tests ({0}).\n\
         Start the local control plane first:\n    {START_COMMAND}\n\
         (kubeconfig: {path}; set SMI_E2E_KUBECONFIG to use another)",
        path = kubeconfig_path().display()
    )]
    NoServer(String),
    /// The request could not be sent or its answer not read.
    #[error("request {what}: {source}")]
    Request {
        /// What was being done.
        what: String,
        /// The client's error.
        source: kube::Error,
    },
    /// The server answered something this module cannot read.
    #[error("{0}")]
    Protocol(String),
    /// A CRD did not become ready in time or was refused.
    #[error("{0}")]
    Crd(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kubeconfig the tests use: `$SMI_E2E_KUBECONFIG`, else `target/controlplane/kubeconfig` of
/// the workspace (written by `scripts/controlplane.sh start`).
pub fn kubeconfig_path() -> PathBuf {
    match std::env::var_os("SMI_E2E_KUBECONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("e2e/ is inside the workspace")
            .join("target")
            .join("controlplane")
            .join("kubeconfig"),
    }
}

/// The workspace root (for tests that read the repository's own files).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ is inside the workspace")
        .to_path_buf()
}

/// A client for the test server, checked to answer `/readyz`.
///
/// # Panics
/// When there is no kubeconfig or no server answering: the message says to run
/// [`START_COMMAND`].
pub async fn client() -> Client {
    match try_client().await {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// [`client`] without the panic.
pub async fn try_client() -> Result<Client> {
    let path = kubeconfig_path();
    let kc = kube::config::Kubeconfig::read_from(&path)
        .map_err(|e| Error::NoServer(format!("cannot read the kubeconfig: {e}")))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| Error::NoServer(format!("bad kubeconfig: {e}")))?;
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(60));
    let client = Client::try_from(config)
        .map_err(|e| Error::NoServer(format!("cannot build a client: {e}")))?;
    let req = http::Request::get("/readyz")
        .body(Body::empty())
        .expect("static request");
    let res = tokio::time::timeout(Duration::from_secs(15), client.send(req))
        .await
        .map_err(|_| Error::NoServer("GET /readyz timed out".into()))?
        .map_err(|e| Error::NoServer(format!("GET /readyz: {e}")))?;
    if !res.status().is_success() {
        return Err(Error::NoServer(format!(
            "GET /readyz answered {}",
            res.status()
        )));
    }
    Ok(client)
}

/// `fieldValidation` of a write request: what the server does with unknown or duplicate fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldValidation {
    /// Reject the object (what `kubectl apply` sends by default since Kubernetes 1.27).
    Strict,
    /// Accept, prune the unknown fields and say so in `Warning` headers.
    Warn,
    /// Accept and prune silently.
    Ignore,
}

impl FieldValidation {
    /// The query parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Warn => "Warn",
            Self::Ignore => "Ignore",
        }
    }
}

/// One `Status.details.causes` entry of a refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// The field path the server names (`spec.backends[0].weight`), may be empty.
    pub field: String,
    /// `FieldValueInvalid`, `FieldValueRequired`, …
    pub reason: String,
    /// The message.
    pub message: String,
}

/// The server's answer to a write.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// HTTP status code.
    pub status: u16,
    /// The `Status.reason` of a refusal (`Invalid`, `BadRequest`, `AlreadyExists`, …).
    pub reason: String,
    /// The `Status.message` of a refusal, empty when accepted.
    pub message: String,
    /// The causes of a refusal.
    pub causes: Vec<Cause>,
    /// The text of every `Warning` header.
    pub warnings: Vec<String>,
    /// The object the server returned (as it would be stored: defaulted and pruned).
    pub object: Option<Value>,
}

impl Outcome {
    /// A 2xx answer.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// One line for a failure message: status, message and warnings.
    pub fn summary(&self) -> String {
        let mut s = if self.accepted() {
            format!("accepted ({})", self.status)
        } else {
            format!(
                "rejected ({} {}): {}",
                self.status, self.reason, self.message
            )
        };
        if !self.warnings.is_empty() {
            s.push_str(&format!("; warnings: {:?}", self.warnings));
        }
        s
    }
}

/// Where a kind is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// `apps`, `split.smi-spec.io`, or empty for the core group.
    pub group: String,
    /// `v1`, `v1alpha4`, …
    pub version: String,
    /// The plural resource name (`trafficsplits`).
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

impl ResourceInfo {
    /// The collection URL (`/apis/g/v/namespaces/ns/plural`, `/api/v1/...` for the core group).
    pub fn collection_url(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", self.plural),
            (true, None) => format!("{base}/namespaces/default/{}", self.plural),
            (false, _) => format!("{base}/{}", self.plural),
        }
    }
}

/// The result of installing one CRD.
#[derive(Clone, Debug)]
pub struct CrdInstall {
    /// `metadata.name` of the CRD.
    pub name: String,
    /// The create (or replace) answer: refusals carry the server's message.
    pub outcome: Outcome,
    /// `Established` became `True`.
    pub established: bool,
    /// `NamesAccepted` became `True`.
    pub names_accepted: bool,
    /// The CRD's final status conditions (`type=status: reason: message`).
    pub conditions: Vec<String>,
}

impl CrdInstall {
    /// Accepted, established, names accepted and no warnings.
    pub fn is_clean(&self) -> bool {
        self.outcome.accepted()
            && self.established
            && self.names_accepted
            && self.outcome.warnings.is_empty()
    }
}

/// A connected test server with a discovery cache.
pub struct Cluster {
    client: Client,
    resources: Mutex<HashMap<(String, String), ResourceInfo>>,
}

impl Cluster {
    /// Connects to the test server.
    ///
    /// # Panics
    /// When there is no server: the message says to run [`START_COMMAND`].
    pub async fn connect() -> Self {
        Self {
            client: client().await,
            resources: Mutex::new(HashMap::new()),
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends one request; returns status, warnings and the body (parsed as JSON when it is).
    pub async fn raw(
        &self,
        method: http::Method,
        url: &str,
        body: Option<&Value>,
        content_type: &str,
    ) -> Result<(u16, Vec<String>, Value)> {
        let builder = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header(http::header::ACCEPT, "application/json");
        let req = match body {
            Some(b) => builder
                .header(http::header::CONTENT_TYPE, content_type)
                .body(Body::from(
                    serde_json::to_vec(b).expect("JSON values serialise"),
                )),
            None => builder.body(Body::empty()),
        }
        .map_err(|e| Error::Protocol(format!("building {method} {url}: {e}")))?;
        let what = || format!("{method} {url}");
        let res = self
            .client
            .send(req)
            .await
            .map_err(|source| Error::Request {
                what: what(),
                source,
            })?;
        let status = res.status().as_u16();
        let warnings = res
            .headers()
            .get_all(http::header::WARNING)
            .iter()
            .map(|v| parse_warning(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let bytes = res
            .into_body()
            .collect_bytes()
            .await
            .map_err(|source| Error::Request {
                what: what(),
                source,
            })?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, warnings, value))
    }

    /// Where `kind` of `api_version` is served (discovery, cached).
    pub async fn resource(&self, api_version: &str, kind: &str) -> Result<ResourceInfo> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(r) = self.resources.lock().expect("not poisoned").get(&key) {
            return Ok(r.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), api_version.to_owned()),
        };
        let url = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let (status, _, list) = self.raw(http::Method::GET, &url, None, "").await?;
        if status != 200 {
            return Err(Error::Protocol(format!(
                "{api_version} is not served (GET {url}: {status})"
            )));
        }
        let mut found = None;
        let mut cache = self.resources.lock().expect("not poisoned");
        for r in list["resources"].as_array().into_iter().flatten() {
            let name = r["name"].as_str().unwrap_or_default();
            if name.contains('/') {
                continue; // subresource
            }
            let info = ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                plural: name.to_owned(),
                namespaced: r["namespaced"].as_bool().unwrap_or(false),
            };
            let k = r["kind"].as_str().unwrap_or_default().to_owned();
            if k == kind {
                found = Some(info.clone());
            }
            cache.insert((api_version.to_owned(), k), info);
        }
        found.ok_or_else(|| Error::Protocol(format!("{api_version} serves no kind {kind}")))
    }

    /// Creates `object` (in its `metadata.namespace`, else `default`) with the given query
    /// parameters, e.g. `dryRun=All&fieldValidation=Strict`.
    pub async fn create_with(&self, object: &Value, query: &str) -> Result<Outcome> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let info = self.resource(api_version, kind).await?;
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let mut url = info.collection_url(Some(ns));
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        let (status, warnings, body) = self
            .raw(http::Method::POST, &url, Some(object), "application/json")
            .await?;
        Ok(outcome(status, warnings, body))
    }

    /// A server-side dry run of a create (`dryRun=All`): the full validation and admission chain,
    /// nothing stored.
    pub async fn dry_run(&self, object: &Value, fv: FieldValidation) -> Result<Outcome> {
        self.create_with(
            object,
            &format!("dryRun=All&fieldValidation={}", fv.as_str()),
        )
        .await
    }

    /// Creates `object` for real, with `fieldValidation=Strict`.
    pub async fn create(&self, object: &Value) -> Result<Outcome> {
        self.create_with(object, "fieldValidation=Strict").await
    }

    /// The URL of the named object `object` (its apiVersion, kind, namespace and name), plus
    /// `suffix` (`""` or `"/status"`).
    pub async fn object_url(&self, object: &Value, suffix: &str) -> Result<String> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let info = self.resource(api_version, kind).await?;
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        Ok(format!("{}/{name}{suffix}", info.collection_url(Some(ns))))
    }

    /// A JSON merge patch (`application/merge-patch+json`) of `object` (identified by its
    /// apiVersion, kind, namespace and name), on the object itself or a subresource
    /// (`suffix` `"/status"`).
    pub async fn merge_patch(
        &self,
        object: &Value,
        suffix: &str,
        patch: &Value,
    ) -> Result<Outcome> {
        let url = format!(
            "{}?fieldValidation=Strict",
            self.object_url(object, suffix).await?
        );
        let (status, warnings, body) = self
            .raw(
                http::Method::PATCH,
                &url,
                Some(patch),
                "application/merge-patch+json",
            )
            .await?;
        Ok(outcome(status, warnings, body))
    }

    /// GETs `object` (by apiVersion, kind, namespace and name); `None` when it does not exist.
    pub async fn get(&self, object: &Value) -> Result<Option<Value>> {
        let url = self.object_url(object, "").await?;
        let (status, _, body) = self.raw(http::Method::GET, &url, None, "").await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(Error::Protocol(format!("GET {url}: {status} {body}"))),
        }
    }

    /// Deletes `object` (by apiVersion, kind, namespace and name) if it exists.
    pub async fn delete(&self, object: &Value) -> Result<()> {
        let url = self.object_url(object, "").await?;
        let (status, _, body) = self.raw(http::Method::DELETE, &url, None, "").await?;
        match status {
            200..=299 | 404 => Ok(()),
            _ => Err(Error::Protocol(format!("DELETE {url}: {status} {body}"))),
        }
    }

    /// Creates the namespace unless it exists.
    pub async fn ensure_namespace(&self, name: &str) -> Result<()> {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        let (status, _, body) = self
            .raw(
                http::Method::POST,
                "/api/v1/namespaces",
                Some(&ns),
                "application/json",
            )
            .await?;
        match status {
            200..=299 | 409 => Ok(()),
            _ => Err(Error::Protocol(format!(
                "creating namespace {name}: {status} {body}"
            ))),
        }
    }

    /// Deletes the CRDs with these names (if present) and waits until they are gone.
    pub async fn delete_crds(&self, names: &[String]) -> Result<()> {
        const URL: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
        for name in names {
            let (status, _, body) = self
                .raw(http::Method::DELETE, &format!("{URL}/{name}"), None, "")
                .await?;
            if !(200..300).contains(&status) && status != 404 {
                return Err(Error::Crd(format!("deleting CRD {name}: {status} {body}")));
            }
        }
        let deadline = Instant::now() + CRD_READY_TIMEOUT;
        for name in names {
            loop {
                let (status, _, crd) = self
                    .raw(http::Method::GET, &format!("{URL}/{name}"), None, "")
                    .await?;
                if status == 404 {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(Error::Crd(format!("CRD {name} still present after delete")));
                }
                if status == 200 && instance_deletion_failed(&crd) {
                    self.finish_crd_cleanup(name, &crd).await?;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.resources.lock().expect("not poisoned").clear();
        Ok(())
    }

    /// The server's own cleanup of a CRD deleted right after it was created can stall for
    /// minutes: its finalizer sets the `Terminating` condition, which rebuilds the CRD's
    /// storage, so the finalizer's LIST of instances fails with "storage is (re)initializing"
    /// and is retried with a growing back-off (kube-apiserver 1.37, `crd_finalizer.go`). When
    /// the CRD is in that state, this does what the finalizer would: if a LIST through the API
    /// finds no instance left, it removes the `customresourcecleanup` finalizer. With instances
    /// left it does nothing (removing the finalizer then would leave them in etcd).
    async fn finish_crd_cleanup(&self, name: &str, crd: &Value) -> Result<()> {
        const URL: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
        let group = crd["spec"]["group"].as_str().unwrap_or_default();
        let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
        let served = crd["spec"]["versions"].as_array().and_then(|vs| {
            vs.iter()
                .find(|v| v["served"] == true)
                .and_then(|v| v["name"].as_str())
        });
        let Some(version) = served else {
            return Ok(());
        };
        let (status, _, list) = self
            .raw(
                http::Method::GET,
                &format!("/apis/{group}/{version}/{plural}?limit=1"),
                None,
                "",
            )
            .await?;
        let empty = list["items"]
            .as_array()
            .is_some_and(|items| items.is_empty());
        if status != 200 || !empty {
            return Ok(());
        }
        let patch = serde_json::json!({"metadata": {"finalizers": null}});
        let (status, _, body) = self
            .raw(
                http::Method::PATCH,
                &format!("{URL}/{name}"),
                Some(&patch),
                "application/merge-patch+json",
            )
            .await?;
        match status {
            200..=299 | 404 | 409 => Ok(()),
            _ => Err(Error::Crd(format!(
                "removing the cleanup finalizer of CRD {name} (no instances left): {status} {body}"
            ))),
        }
    }

    /// Installs CRDs afresh: deletes any CRD of the same name first, creates each, then waits
    /// for `Established` and `NamesAccepted`. Returns one [`CrdInstall`] per CRD, in order; a
    /// refused CRD is reported there (with the server's message), not as an `Err`.
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) -> Result<Vec<CrdInstall>> {
        const URL: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
        let names: Vec<String> = crds
            .iter()
            .map(|c| c.metadata.name.clone().unwrap_or_default())
            .collect();
        self.delete_crds(&names).await?;
        let mut out = Vec::with_capacity(crds.len());
        for (crd, name) in crds.iter().zip(&names) {
            let body = serde_json::to_value(crd)
                .map_err(|e| Error::Protocol(format!("serialising CRD {name}: {e}")))?;
            let (status, warnings, body) = self
                .raw(
                    http::Method::POST,
                    &format!("{URL}?fieldValidation=Strict"),
                    Some(&body),
                    "application/json",
                )
                .await?;
            out.push(CrdInstall {
                name: name.clone(),
                outcome: outcome(status, warnings, body),
                established: false,
                names_accepted: false,
                conditions: Vec::new(),
            });
        }
        let deadline = Instant::now() + CRD_READY_TIMEOUT;
        for install in out.iter_mut().filter(|i| i.outcome.accepted()) {
            loop {
                let (status, _, crd) = self
                    .raw(
                        http::Method::GET,
                        &format!("{URL}/{}", install.name),
                        None,
                        "",
                    )
                    .await?;
                if status != 200 {
                    return Err(Error::Crd(format!(
                        "GET CRD {}: {status} {crd}",
                        install.name
                    )));
                }
                let conditions = crd["status"]["conditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let is_true = |t: &str| {
                    conditions
                        .iter()
                        .any(|c| c["type"] == t && c["status"] == "True")
                };
                install.established = is_true("Established");
                install.names_accepted = is_true("NamesAccepted");
                install.conditions = conditions
                    .iter()
                    .map(|c| {
                        format!(
                            "{}={}: {}: {}",
                            c["type"].as_str().unwrap_or_default(),
                            c["status"].as_str().unwrap_or_default(),
                            c["reason"].as_str().unwrap_or_default(),
                            c["message"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                let names_refused = conditions
                    .iter()
                    .any(|c| c["type"] == "NamesAccepted" && c["status"] == "False");
                if (install.established && install.names_accepted)
                    || names_refused
                    || Instant::now() > deadline
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // `Established` says the CRD's storage is ready, not that discovery lists it yet: the
        // group-version document is rebuilt asynchronously, one CRD at a time, so right after two
        // CRDs of one group are established a GET of `/apis/<group>/<version>` may list only one
        // of them (seen in CI: "perf.smi-spec.io/v1alpha1 serves no kind PerformanceTestResult").
        // Wait, within the same deadline, until every served version lists the kind.
        for (crd, install) in crds.iter().zip(&out) {
            if !(install.established && install.names_accepted) {
                continue;
            }
            let group = &crd.spec.group;
            let kind = &crd.spec.names.kind;
            for version in crd.spec.versions.iter().filter(|v| v.served) {
                let url = format!("/apis/{group}/{}", version.name);
                loop {
                    let (status, _, list) = self.raw(http::Method::GET, &url, None, "").await?;
                    let listed = status == 200
                        && list["resources"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|r| r["kind"] == kind.as_str());
                    if listed || Instant::now() > deadline {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        self.resources.lock().expect("not poisoned").clear();
        Ok(out)
    }
}

/// Reads a `Warning` header value (`299 - "text"`) down to its text.
pub fn parse_warning(header: &str) -> String {
    let rest = header
        .trim()
        .strip_prefix("299")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('-'))
        .map(str::trim_start);
    match rest {
        Some(r) if r.starts_with('"') => {
            let inner = &r[1..];
            let end = inner.rfind('"').unwrap_or(inner.len());
            inner[..end].replace("\\\"", "\"").replace("\\\\", "\\")
        }
        _ => header.to_owned(),
    }
}

fn outcome(status: u16, warnings: Vec<String>, body: Value) -> Outcome {
    if (200..300).contains(&status) {
        return Outcome {
            status,
            reason: String::new(),
            message: String::new(),
            causes: Vec::new(),
            warnings,
            object: Some(body),
        };
    }
    let causes = body["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Cause {
            field: c["field"].as_str().unwrap_or_default().to_owned(),
            reason: c["reason"].as_str().unwrap_or_default().to_owned(),
            message: c["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    Outcome {
        status,
        reason: body["reason"].as_str().unwrap_or_default().to_owned(),
        message: match &body["message"] {
            Value::String(s) => s.clone(),
            Value::Null => body.to_string(),
            other => other.to_string(),
        },
        causes,
        warnings,
        object: None,
    }
}

/// Whether a deleted CRD's own cleanup failed to list its instances (its `Terminating` condition
/// says `InstanceDeletionFailed`): see [`Cluster::delete_crds`].
fn instance_deletion_failed(crd: &Value) -> bool {
    crd["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Terminating" && c["reason"] == "InstanceDeletionFailed")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_headers_are_read_to_their_text() {
        assert_eq!(
            parse_warning(r#"299 - "unknown field \"spec.foo\"""#),
            r#"unknown field "spec.foo""#
        );
        assert_eq!(parse_warning("not a warning"), "not a warning");
    }

    #[test]
    fn collection_urls() {
        let r = ResourceInfo {
            group: String::new(),
            version: "v1".into(),
            plural: "configmaps".into(),
            namespaced: true,
        };
        assert_eq!(
            r.collection_url(Some("x")),
            "/api/v1/namespaces/x/configmaps"
        );
        let r = ResourceInfo {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            plural: "customresourcedefinitions".into(),
            namespaced: false,
        };
        assert_eq!(
            r.collection_url(Some("x")),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        );
    }

    #[test]
    fn a_stalled_crd_cleanup_is_recognised_by_its_terminating_condition() {
        let stalled = serde_json::json!({"status": {"conditions": [
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
            {"type": "Terminating", "status": "True", "reason": "InstanceDeletionFailed",
             "message": "could not list instances: storage is (re)initializing"}]}});
        assert!(instance_deletion_failed(&stalled));
        let in_progress = serde_json::json!({"status": {"conditions": [
            {"type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress"}]}});
        assert!(!instance_deletion_failed(&in_progress));
        assert!(!instance_deletion_failed(&serde_json::json!({})));
    }
}
