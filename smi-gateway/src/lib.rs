//! The way off an archived spec: migrate Service Mesh Interface (SMI) manifests to the
//! Gateway API's mesh support (GAMMA) and to the mesh's own authorization policies.
//!
//! # Status of SMI
//!
//! The CNCF archived SMI in **October 2023**; its successor for service meshes is the Gateway
//! API's GAMMA initiative: `HTTPRoute`, `GRPCRoute` and `TCPRoute` attached to a `Service` as
//! their `parentRef`. This crate reads any SMI version (through `smi-types`) and writes
//! Gateway API v1 objects, plus Linkerd or Istio policy objects for SMI's access control.
//!
//! # What GAMMA covers, and what it does not
//!
//! | SMI | becomes | notes |
//! |---|---|---|
//! | `TrafficSplit` | `HTTPRoute` (or `TCPRoute`) with `parentRefs: [{group: "", kind: Service, name: <root service>}]` and weighted `backendRefs` | v1alpha1 quantity weights keep their ratios; weights above 1,000,000 are reduced |
//! | `TrafficSplit.spec.matches` + `HTTPRouteGroup` | one rule per HTTPRouteGroup match, plus a last rule sending everything else to the root service | |
//! | `HTTPRouteGroup` match | `HTTPRouteMatch`es: one per method | `pathRegex` becomes `Exact`/`PathPrefix` when the regex is exactly that, else `RegularExpression` (**implementation-specific** in the Gateway API); headers become `Exact` or `RegularExpression` header matches |
//! | `HTTPRouteGroup`/`TCPRoute` used only by TrafficTargets | a route on each Service of the input selecting the destination's pods (a TrafficSplit's root Service excepted), with a single backend (that Service) and a last catch-all rule | a neutral place for the routes; it changes no routing |
//! | `TrafficTarget`, `IdentityBinding` | **no GAMMA equivalent**: Linkerd `Server` + `MeshTLSAuthentication` + `AuthorizationPolicy` (+ inbound `HTTPRoute`s), or Istio `security.istio.io/v1` `AuthorizationPolicy`; with [`Mesh::None`] reported as not migrated | |
//! | `UDPRoute` | not migrated (no mesh implements the Gateway API's UDPRoute) | |
//! | `TrafficMetrics` (metrics API), `PerformanceTest` | not migrated (read APIs / tooling, not configuration) | |
//!
//! GAMMA does not cover: authorization (each mesh keeps its own policy API), SMI's
//! deny-by-default access mode (Linkerd applies it per `Server` port; Istio per workload once an
//! ALLOW policy selects it), UDP, and the metrics API.
//!
//! # Reading of the input
//!
//! SMI names Services and ServiceAccounts but neither ports nor pods, which the Gateway API
//! (`backendRefs[].port` is required for a Service) and the mesh policies (pod selectors) need.
//! They are taken from the `Service`s and workloads (`Deployment`, `StatefulSet`, `DaemonSet`,
//! `ReplicaSet`, `Job`, `ReplicationController`, `Pod`) given along the SMI objects; with
//! [`Options::default_port`], a port for Services the input does not describe. What cannot be
//! resolved is reported, never guessed. A TrafficSplit that names a Service by its DNS name
//! (`web.shop`, `web.shop.svc.cluster.local`, as OSM's examples do) gets the Service's name, with
//! a note; one of another namespace is not migrated (attached to it, the route would be a GAMMA
//! consumer route, applying to its own namespace's clients only).
//!
//! # Generated names
//!
//! | source | object | name |
//! |---|---|---|
//! | TrafficSplit `S` | HTTPRoute / TCPRoute | `S`; `S-<port>` when the root Service has several ports (one route per port) |
//! | HTTPRouteGroup / TCPRoute `R` used only by TrafficTargets | HTTPRoute / TCPRoute | `R-<service>`; `R-<service>-<port>` for a multi-port Service |
//! | TrafficTarget `T` (Linkerd) | Server | `T-<port>` (pod port) |
//! | | MeshTLSAuthentication | `T` |
//! | | inbound HTTPRoute (parent: the Servers) | `T-<httproutegroup>` |
//! | | AuthorizationPolicy | `T-<httproutegroup>` (targets that route), `T-<port>` (targets a Server, for TCPRoute rules) |
//! | TrafficTarget `T` (Istio) | AuthorizationPolicy | `T` |
//!
//! Every generated object keeps the source's namespace and labels and carries the annotation
//! `smi-rs.io/migrated-from: <apiVersion> <kind> <name>`. Output order is the input order of
//! the source objects, then the order of the table above.
//!
//! # Example
//!
//! ```
//! use smi_gateway::{Input, Mesh, Options, migrate};
//! let docs = smi_types::parse_yaml_stream("
//! apiVersion: split.smi-spec.io/v1alpha1
//! kind: TrafficSplit
//! metadata: {name: canary, namespace: shop}
//! spec:
//!   service: web
//!   backends: [{service: web-v1, weight: 1}, {service: web-v2, weight: 500m}]
//! ---
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web, namespace: shop}
//! spec: {ports: [{port: 80, targetPort: 8080}], selector: {app: web}}
//! ")?;
//! let out = migrate(&[Input::new("canary.yaml", &docs)], &Options::new(Mesh::None))?;
//! let route = &out.objects[0].value;
//! assert_eq!(route["kind"], "HTTPRoute");
//! assert_eq!(route["spec"]["parentRefs"][0]["kind"], "Service");
//! // 1 : 500m keeps its 2:1 ratio
//! assert_eq!(route["spec"]["rules"][0]["backendRefs"][0]["weight"], 2);
//! assert_eq!(route["spec"]["rules"][0]["backendRefs"][1]["weight"], 1);
//! assert!(out.losses.is_empty());
//! print!("{}", out.to_yaml()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

/// The crate README's Rust snippet, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod context;
mod migrate;
pub mod pattern;
pub mod types;

use serde_json::Value;
use smi_types::Document;

pub use migrate::migrate;

/// Which mesh's policy API receives SMI's access control.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mesh {
    /// Linkerd: `policy.linkerd.io` Server, MeshTLSAuthentication, AuthorizationPolicy.
    Linkerd,
    /// Istio: `security.istio.io/v1` AuthorizationPolicy.
    Istio,
    /// Routing only: TrafficTargets and IdentityBindings are reported as not migrated.
    #[default]
    None,
}

/// Migration options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Policy target for TrafficTarget/IdentityBinding.
    pub mesh: Mesh,
    /// Refuse ([`Error::Lossy`]) instead of reporting losses.
    pub strict: bool,
    /// Port assumed for a TrafficSplit's root Service when the input has no manifest for it.
    pub default_port: Option<i32>,
    /// Namespace of objects that name none (as `kubectl apply` without `-n`: `default`).
    pub namespace: String,
}

impl Options {
    /// Defaults for `mesh`: not strict, no default port, namespace `default`.
    pub fn new(mesh: Mesh) -> Self {
        Self {
            mesh,
            strict: false,
            default_port: None,
            namespace: "default".into(),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new(Mesh::None)
    }
}

/// One input stream: where it came from (a file name, for messages) and its documents.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Origin shown in [`SourceRef`].
    pub origin: &'a str,
    /// The parsed documents.
    pub documents: &'a [Document],
}

impl<'a> Input<'a> {
    /// An input.
    pub fn new(origin: &'a str, documents: &'a [Document]) -> Self {
        Self { origin, documents }
    }
}

/// The SMI object an output, loss or note comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceRef {
    /// [`Input::origin`].
    pub origin: String,
    /// Document index in that input (0-based).
    pub document: usize,
    /// `apiVersion` as read.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace as written (absent: none).
    pub namespace: Option<String>,
    /// Name (empty when absent).
    pub name: String,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]: {}", self.origin, self.document, self.kind)?;
        let name = if self.name.is_empty() {
            "(unnamed)"
        } else {
            &self.name
        };
        if let Some(ns) = &self.namespace {
            write!(f, " {ns}/{name}")
        } else {
            write!(f, " {name}")
        }
    }
}

/// What kind of loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LossKind {
    /// The whole object has no output.
    NotMigrated,
    /// A field, match, source or backend is left out of the output.
    Dropped,
    /// A value is written approximately (weights above the Gateway API's range).
    Approximated,
}

impl LossKind {
    /// `not-migrated`, `dropped`, `approximated`.
    pub fn as_str(self) -> &'static str {
        match self {
            LossKind::NotMigrated => "not-migrated",
            LossKind::Dropped => "dropped",
            LossKind::Approximated => "approximated",
        }
    }
}

/// Something of the input the output does not express, like [`smi_types::convert::Loss`]
/// with the object it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    /// The source object.
    pub source: SourceRef,
    /// What kind of loss.
    pub kind: LossKind,
    /// Field path in the source object (`spec.matches[0].pathRegex`; empty for the object).
    pub path: String,
    /// The value not carried (`null` when the whole object is meant).
    pub value: Value,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.kind.as_str())?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        if !self.value.is_null() {
            write!(f, " = {}", self.value)?;
        }
        write!(f, " ({})", self.reason)
    }
}

/// Something the user should know that is not a loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// The output uses a feature the Gateway API leaves to implementations
    /// (`RegularExpression` path and header matches).
    ImplementationSpecific,
    /// A value was inferred (a backend's port, from its root Service's).
    Assumption,
}

/// A note on the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The source object.
    pub source: SourceRef,
    /// What kind of note.
    pub kind: NoteKind,
    /// Field path in the source object.
    pub path: String,
    /// The note.
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = match self.kind {
            NoteKind::ImplementationSpecific => "implementation-specific",
            NoteKind::Assumption => "assumption",
        };
        write!(f, "{}: {k} {}: {}", self.source, self.path, self.message)
    }
}

/// One emitted object.
#[derive(Clone, Debug, PartialEq)]
pub struct Emitted {
    /// The SMI object it comes from.
    pub source: SourceRef,
    /// The object (apiVersion, kind, metadata, spec).
    pub value: Value,
}

impl Emitted {
    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// The result of [`migrate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Migration {
    /// SMI objects read.
    pub inputs: usize,
    /// Emitted objects, in a stable order (see the crate docs).
    pub objects: Vec<Emitted>,
    /// What the output does not express.
    pub losses: Vec<Loss>,
    /// Notes.
    pub notes: Vec<Note>,
}

impl Migration {
    /// The objects as a multi-document YAML stream (empty string when there are none).
    pub fn to_yaml(&self) -> Result<String, Error> {
        let mut out = String::new();
        for (i, o) in self.objects.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            let doc =
                serde_saphyr::to_string(&o.value).map_err(|e| Error::Serialize(e.to_string()))?;
            out.push_str(&doc);
            if !doc.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }

    /// Number of losses per [`LossKind`].
    pub fn losses_by_kind(&self) -> std::collections::BTreeMap<LossKind, usize> {
        let mut m = std::collections::BTreeMap::new();
        for l in &self.losses {
            *m.entry(l.kind).or_insert(0) += 1;
        }
        m
    }
}

/// Why a migration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`Options::strict`] and something could not be expressed.
    #[error("{} loss(es), refusing (strict): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Lossy(Vec<Loss>),
    /// The output could not be written as YAML.
    #[error("writing YAML: {0}")]
    Serialize(String),
}
