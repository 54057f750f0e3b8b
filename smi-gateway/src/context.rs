//! What the non-SMI documents of the input say about the cluster: Services (ports, selectors)
//! and workloads (pod labels, ServiceAccount). SMI names Services and ServiceAccounts but not
//! ports or pods; the Gateway API and the mesh policies need both.

use std::collections::BTreeMap;

use serde_json::Value;

/// A Service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    /// `name`.
    pub name: Option<String>,
    /// `port`.
    pub port: i32,
    /// `targetPort` when numeric (absent: `port`).
    pub target_port: Option<i32>,
    /// `protocol` (`TCP` when absent).
    pub protocol: String,
    /// `appProtocol`.
    pub app_protocol: Option<String>,
}

impl ServicePort {
    /// `true` when the port carries something other than HTTP, by its `appProtocol` or its
    /// name (`tcp`, `tcp-…`, `mysql`, …: Istio's port-naming convention).
    pub fn is_opaque(&self) -> bool {
        let http = |p: &str| {
            let p = p.to_ascii_lowercase();
            p == "http"
                || p == "https"
                || p == "http2"
                || p == "h2c"
                || p == "grpc"
                || p.starts_with("kubernetes.io/h2c")
                || p.starts_with("kubernetes.io/ws")
        };
        if let Some(p) = &self.app_protocol {
            return !http(p);
        }
        let name = self.name.as_deref().unwrap_or("").to_ascii_lowercase();
        let proto = name.split('-').next().unwrap_or("");
        matches!(
            proto,
            "tcp" | "tls" | "mysql" | "mongo" | "redis" | "postgres" | "postgresql"
        )
    }

    /// The pod port the Service sends to.
    pub fn pod_port(&self) -> i32 {
        self.target_port.unwrap_or(self.port)
    }
}

/// A Service of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// TCP ports, in manifest order (UDP/SCTP ports left out).
    pub ports: Vec<ServicePort>,
    /// `spec.selector`.
    pub selector: BTreeMap<String, String>,
}

/// A workload (Deployment, Pod, …) of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// `Kind/name`.
    pub id: String,
    /// The pod template's labels.
    pub labels: BTreeMap<String, String>,
    /// The pod's ServiceAccount (`default` when unset).
    pub service_account: String,
}

/// Services and workloads by namespace.
#[derive(Clone, Debug, Default)]
pub struct Context {
    services: BTreeMap<(String, String), Service>,
    workloads: Vec<(String, Workload)>,
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn int(v: &Value) -> Option<i32> {
    v.as_i64().and_then(|n| i32::try_from(n).ok())
}

impl Context {
    /// Records `value` (in namespace `ns`) when it is a Service or a workload; other kinds are
    /// ignored.
    pub fn add(&mut self, ns: &str, api_version: &str, kind: &str, value: &Value) {
        let meta = &value["metadata"];
        let ns = ns.to_owned();
        let Some(name) = meta["name"].as_str() else {
            return;
        };
        let template = match (api_version, kind) {
            ("v1", "Service") => {
                let spec = &value["spec"];
                let ports = spec["ports"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| {
                                let protocol = p["protocol"].as_str().unwrap_or("TCP").to_owned();
                                Some(ServicePort {
                                    name: p["name"].as_str().map(str::to_owned),
                                    port: int(&p["port"])?,
                                    target_port: int(&p["targetPort"]),
                                    protocol,
                                    app_protocol: p["appProtocol"].as_str().map(str::to_owned),
                                })
                            })
                            .filter(|p| p.protocol == "TCP")
                            .collect()
                    })
                    .unwrap_or_default();
                self.services.insert(
                    (ns, name.to_owned()),
                    Service {
                        ports,
                        selector: labels(&spec["selector"]),
                    },
                );
                return;
            }
            ("v1", "Pod") => value.clone(),
            (
                "apps/v1" | "apps/v1beta1" | "apps/v1beta2" | "extensions/v1beta1",
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet",
            )
            | ("batch/v1", "Job")
            | ("v1", "ReplicationController") => value["spec"]["template"].clone(),
            _ => return,
        };
        let pod_spec = &template["spec"];
        let sa = pod_spec["serviceAccountName"]
            .as_str()
            .or_else(|| pod_spec["serviceAccount"].as_str())
            .unwrap_or("default");
        self.workloads.push((
            ns,
            Workload {
                id: format!("{kind}/{name}"),
                labels: labels(&template["metadata"]["labels"]),
                service_account: sa.to_owned(),
            },
        ));
    }

    /// The Service `name` in `ns`.
    pub fn service(&self, ns: &str, name: &str) -> Option<&Service> {
        self.services.get(&(ns.to_owned(), name.to_owned()))
    }

    /// Workloads in `ns` running as ServiceAccount `sa`.
    pub fn workloads_of(&self, ns: &str, sa: &str) -> Vec<&Workload> {
        self.workloads
            .iter()
            .filter(|(n, w)| n == ns && w.service_account == sa)
            .map(|(_, w)| w)
            .collect()
    }

    /// Services in `ns` whose (non-empty) selector selects pods labelled `labels`, by name.
    pub fn services_selecting(
        &self,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Vec<(&str, &Service)> {
        self.services
            .iter()
            .filter(|((n, _), s)| {
                n == ns
                    && !s.selector.is_empty()
                    && s.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
            .map(|((_, name), s)| (name.as_str(), s))
            .collect()
    }
}
