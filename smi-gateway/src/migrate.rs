//! The migration itself; see the crate docs for the mapping and the names.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Value, json};
use smi_types::access::v1alpha4 as access;
use smi_types::convert::Lossy;
use smi_types::specs::v1alpha4 as specs;
use smi_types::split::v1alpha4 as split;
use smi_types::{Document, SmiObject};

use crate::context::{Context, Service, ServicePort};
use crate::pattern::{self, Form};
use crate::types::*;
use crate::{
    Emitted, Error, Input, Loss, LossKind, Mesh, Migration, Note, NoteKind, Options, SourceRef,
};

/// Annotation naming the source object of every generated object.
pub const MIGRATED_FROM: &str = "smi-rs.io/migrated-from";

const MAX_WEIGHT: i64 = 1_000_000;
const MAX_BACKENDS: usize = 16;
const MAX_RULES: usize = 16;
const MAX_MATCHES_PER_RULE: usize = 64;
/// The CRD's CEL rule: fewer than 128 matches over all rules (absent `matches` counts 1).
const MAX_MATCHES_TOTAL: usize = 127;
/// etcd's default request limit.
const MAX_OBJECT_BYTES: usize = 1536 * 1024;
/// `parentRefs` of a route.
const MAX_PARENTS: usize = 32;
/// Istio's `rules` and `from` (each at most 512), multiplied: the policy repeats the sources in
/// every rule.
const MAX_ISTIO_FROM_ENTRIES: usize = 16 * 1024;

#[derive(Clone, Debug)]
struct Src {
    sref: SourceRef,
    order: usize,
    /// Effective namespace (as written, else [`Options::namespace`]).
    ns: String,
    meta: ObjectMeta,
}

type Key = (String, String);

#[derive(Default)]
struct Objects {
    splits: Vec<(Src, split::TrafficSplit)>,
    groups: BTreeMap<Key, (Src, specs::HttpRouteGroup)>,
    tcp: BTreeMap<Key, (Src, specs::TcpRoute)>,
    udp: BTreeMap<Key, Src>,
    targets: Vec<(Src, access::TrafficTarget, Option<i32>)>,
    bindings: BTreeMap<Key, (Src, access::IdentityBinding)>,
}

struct Run<'o> {
    opts: &'o Options,
    cluster: Context,
    out: Vec<(usize, Emitted)>,
    losses: Vec<Loss>,
    notes: Vec<Note>,
    used_by_split: BTreeSet<(&'static str, Key)>,
    used_by_target: BTreeSet<(&'static str, Key)>,
    access_routes: BTreeSet<(&'static str, String, String)>,
    /// Root Services of the TrafficSplits: their routes carry the split.
    apexes: BTreeSet<Key>,
    /// Input order of the sources, to report in it.
    order_of: BTreeMap<SourceRef, usize>,
}

/// Migrates every SMI object of `inputs` (all inputs form one set: a TrafficSplit in one file
/// may name an HTTPRouteGroup or a Service in another).
///
/// Returns the emitted objects with every [`Loss`] and [`Note`]; with [`Options::strict`],
/// [`Error::Lossy`] when there is any loss. Never panics on any input.
pub fn migrate(inputs: &[Input<'_>], opts: &Options) -> Result<Migration, Error> {
    let mut run = Run {
        opts,
        cluster: Context::default(),
        out: Vec::new(),
        losses: Vec::new(),
        notes: Vec::new(),
        used_by_split: BTreeSet::new(),
        used_by_target: BTreeSet::new(),
        access_routes: BTreeSet::new(),
        apexes: BTreeSet::new(),
        order_of: BTreeMap::new(),
    };
    let mut objects = Objects::default();
    let mut order = 0usize;
    let mut count = 0usize;
    for input in inputs {
        for (index, doc) in input.documents.iter().enumerate() {
            match doc {
                Document::Other {
                    api_version,
                    kind,
                    value,
                } => {
                    let ns = value["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or(&opts.namespace);
                    run.cluster.add(ns, api_version, kind, value);
                }
                Document::Smi(o) => {
                    count += 1;
                    order += 1;
                    let meta = o.metadata().cloned().unwrap_or_default();
                    let src = Src {
                        sref: SourceRef {
                            origin: input.origin.to_owned(),
                            document: index,
                            api_version: o.api_version().to_owned(),
                            kind: o.kind().to_owned(),
                            namespace: meta.namespace.clone(),
                            name: meta.name.clone().unwrap_or_default(),
                        },
                        order,
                        ns: meta
                            .namespace
                            .clone()
                            .unwrap_or_else(|| opts.namespace.clone()),
                        meta,
                    };
                    run.read(&mut objects, src, o);
                }
                _ => {}
            }
        }
    }
    for (src, ts) in &objects.splits {
        run.split(&objects, src, ts);
    }
    for (src, tt, port) in &objects.targets {
        run.target(&objects, src, tt, *port);
    }
    run.unused(&objects);
    run.finish(count)
}

fn key(src: &Src) -> Key {
    (src.ns.clone(), src.sref.name.clone())
}

impl Run<'_> {
    fn loss(&mut self, src: &Src, kind: LossKind, path: &str, value: Value, reason: String) {
        self.order_of.insert(src.sref.clone(), src.order);
        self.losses.push(Loss {
            source: src.sref.clone(),
            kind,
            path: path.to_owned(),
            value,
            reason,
        });
    }

    fn not_migrated(&mut self, src: &Src, path: &str, value: Value, reason: String) {
        self.loss(src, LossKind::NotMigrated, path, value, reason);
    }

    fn note(&mut self, src: &Src, kind: NoteKind, path: &str, message: String) {
        self.order_of.insert(src.sref.clone(), src.order);
        self.notes.push(Note {
            source: src.sref.clone(),
            kind,
            path: path.to_owned(),
            message,
        });
    }

    fn emit<T: Serialize>(
        &mut self,
        src: &Src,
        mut object: T,
        set_meta: impl FnOnce(&mut T) -> &mut ObjectMeta,
    ) {
        let m = set_meta(&mut object);
        m.namespace = src.meta.namespace.clone();
        m.labels = src.meta.labels.clone().filter(|l| !l.is_empty());
        m.annotations = Some(BTreeMap::from([(
            MIGRATED_FROM.to_owned(),
            format!(
                "{} {} {}",
                src.sref.api_version, src.sref.kind, src.sref.name
            ),
        )]));
        let value = serde_json::to_value(&object).unwrap_or(Value::Null);
        // The API server refuses an object whose namespace is not a DNS-1123 label: such a source
        // (e.g. a template's `$NAMESPACE` left in a manifest) is reported instead of emitting
        // something no cluster stores. (Generated names are checked when the output is assembled.)
        if let Some(ns) = value["metadata"]["namespace"].as_str()
            && !is_dns_label(ns)
        {
            return self.not_migrated(
                src,
                "metadata.namespace",
                json!(ns),
                format!(
                    "`{ns}` is not a namespace name (a DNS-1123 label): the API server would \
                     refuse the generated object"
                ),
            );
        }
        let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
        if size > MAX_OBJECT_BYTES {
            return self.not_migrated(
                src,
                "",
                json!(format!("{} {}", value["kind"].as_str().unwrap_or(""), value["metadata"]["name"].as_str().unwrap_or(""))),
                format!("the generated object would be {size} bytes, more than the API server stores (1.5 MiB)"),
            );
        }
        self.order_of.insert(src.sref.clone(), src.order);
        self.out.push((
            src.order,
            Emitted {
                source: src.sref.clone(),
                value,
            },
        ));
    }

    /// Reads one SMI object into `objects` (converted to its group's latest version).
    fn read(&mut self, objects: &mut Objects, src: Src, o: &SmiObject) {
        let hub = match o.kind() {
            "TrafficSplit" => "split.smi-spec.io/v1alpha4",
            "HTTPRouteGroup" | "TCPRoute" | "UDPRoute" => "specs.smi-spec.io/v1alpha4",
            "TrafficTarget" | "IdentityBinding" => "access.smi-spec.io/v1alpha4",
            "TrafficMetrics" | "TrafficMetricsList" => {
                return self.not_migrated(
                    &src,
                    "",
                    Value::Null,
                    "the SMI metrics API is a read API served by the mesh; the Gateway API has no \
                     equivalent (use the mesh's own telemetry)"
                        .into(),
                );
            }
            _ => {
                return self.not_migrated(
                    &src,
                    "",
                    Value::Null,
                    format!(
                        "{} is not traffic configuration; the Gateway API has no equivalent",
                        o.kind()
                    ),
                );
            }
        };
        let converted = match o.convert_to(hub, Lossy::Report) {
            Ok(c) => c,
            Err(e) => return self.not_migrated(&src, "", Value::Null, e.to_string()),
        };
        // TrafficTarget v1alpha1/v1alpha2 `destination.port`: carried by the mesh policies.
        let dest_port = match o {
            SmiObject::TrafficTargetV1alpha1(t) => t.destination.port,
            SmiObject::TrafficTargetV1alpha2(t) => t.spec.destination.port,
            _ => None,
        };
        let mut field_losses = converted.lost;
        field_losses.retain(|l| !l.path.ends_with("destination.port"));
        for l in field_losses {
            self.loss(
                &src,
                LossKind::Dropped,
                &l.path,
                l.value,
                format!("{}; no Gateway API or policy field for it", l.reason),
            );
        }
        let k = key(&src);
        let duplicate = |run: &mut Self, src: &Src| {
            run.not_migrated(
                src,
                "metadata.name",
                json!(src.sref.name),
                format!(
                    "an earlier {} has the same namespace and name",
                    src.sref.kind
                ),
            )
        };
        match converted.value {
            SmiObject::TrafficSplitV1alpha4(ts) => objects.splits.push((src, ts)),
            SmiObject::HttpRouteGroupV1alpha4(g) => match objects.groups.entry(k) {
                std::collections::btree_map::Entry::Occupied(_) => duplicate(self, &src),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert((src, g));
                }
            },
            SmiObject::TcpRouteV1alpha4(r) => match objects.tcp.entry(k) {
                std::collections::btree_map::Entry::Occupied(_) => duplicate(self, &src),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert((src, r));
                }
            },
            SmiObject::UdpRouteV1alpha4(_) => match objects.udp.entry(k) {
                std::collections::btree_map::Entry::Occupied(_) => duplicate(self, &src),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(src);
                }
            },
            SmiObject::TrafficTargetV1alpha4(t) => objects.targets.push((src, t, dest_port)),
            SmiObject::IdentityBindingV1alpha4(b) => match objects.bindings.entry(k) {
                std::collections::btree_map::Entry::Occupied(_) => duplicate(self, &src),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert((src, b));
                }
            },
            other => self.not_migrated(
                &src,
                "",
                Value::Null,
                format!("{} {} is not handled", other.api_version(), other.kind()),
            ),
        }
    }

    // ---------------------------------------------------------------- HTTPRouteGroup matches

    /// The Gateway API matches of SMI match `j` of `group` (one per method), or `None` when the
    /// match cannot be expressed (reported).
    fn gateway_matches(
        &mut self,
        gsrc: &Src,
        j: usize,
        m: &specs::HttpMatch,
    ) -> Option<Vec<HttpRouteMatch>> {
        let base = format!("spec.matches[{j}]");
        let path = match m.path_regex.as_deref() {
            None => None,
            Some(re) => match pattern::classify(re) {
                Err(e) => {
                    self.loss(
                        gsrc,
                        LossKind::Dropped,
                        &format!("{base}.pathRegex"),
                        json!(re),
                        format!(
                            "not a valid regular expression ({}): the match is left out",
                            first_line(&e)
                        ),
                    );
                    return None;
                }
                Ok(Form::Any) => None,
                Ok(Form::StringPrefix(p)) if p == "/" => None,
                Ok(Form::Exact(p)) if p.is_empty() => {
                    self.note(
                        gsrc,
                        NoteKind::Assumption,
                        &format!("{base}.pathRegex"),
                        "an empty pathRegex is read as no path constraint".into(),
                    );
                    None
                }
                Ok(Form::Exact(p)) if pattern::gateway_path_problem(&p).is_none() => {
                    Some(HttpPathMatch {
                        kind: PathMatchType::Exact,
                        value: p,
                    })
                }
                Ok(Form::ElementPrefix(p)) if pattern::gateway_path_problem(&p).is_none() => {
                    Some(HttpPathMatch {
                        kind: PathMatchType::PathPrefix,
                        value: p,
                    })
                }
                Ok(_) => {
                    if re.len() > 1024 {
                        self.loss(
                            gsrc,
                            LossKind::Dropped,
                            &format!("{base}.pathRegex"),
                            json!(re),
                            "longer than the Gateway API's 1024 characters: the match is left out"
                                .into(),
                        );
                        return None;
                    }
                    self.note(
                        gsrc,
                        NoteKind::ImplementationSpecific,
                        &format!("{base}.pathRegex"),
                        format!("`{re}` is neither an exact path nor a path prefix: written as a RegularExpression path match, whose support and dialect the Gateway API leaves to implementations"),
                    );
                    Some(HttpPathMatch {
                        kind: PathMatchType::RegularExpression,
                        value: re.to_owned(),
                    })
                }
            },
        };
        let mut headers = Vec::new();
        if let Some(h) = &m.headers {
            if h.len() > 16 {
                self.loss(
                    gsrc,
                    LossKind::Dropped,
                    &format!("{base}.headers"),
                    json!(h.len()),
                    "more than the Gateway API's 16 header matches: the match is left out".into(),
                );
                return None;
            }
            let mut seen = BTreeSet::new();
            for (name, value) in h.iter() {
                let hp = format!("{base}.headers.{name}");
                if !pattern::is_header_name(name) {
                    self.loss(
                        gsrc,
                        LossKind::Dropped,
                        &hp,
                        json!(value),
                        "not a valid HTTP header name: the match is left out".into(),
                    );
                    return None;
                }
                if !seen.insert(name.to_ascii_lowercase()) {
                    self.loss(
                        gsrc,
                        LossKind::Dropped,
                        &hp,
                        json!(value),
                        "the same header (names are case-insensitive) twice: the match is left out"
                            .into(),
                    );
                    return None;
                }
                if !pattern::is_header_value(value) {
                    self.loss(gsrc, LossKind::Dropped, &hp, json!(value), "a Gateway API header value is printable ASCII with single inner spaces (the experimental channel's pattern): the match is left out".into());
                    return None;
                }
                if value.is_empty() || value.len() > 4096 {
                    self.loss(
                        gsrc,
                        LossKind::Dropped,
                        &hp,
                        json!(value),
                        "a header value must have 1–4096 characters: the match is left out".into(),
                    );
                    return None;
                }
                let kind = match pattern::classify(value) {
                    Err(e) => {
                        self.loss(
                            gsrc,
                            LossKind::Dropped,
                            &hp,
                            json!(value),
                            format!(
                                "not a valid regular expression ({}): the match is left out",
                                first_line(&e)
                            ),
                        );
                        return None;
                    }
                    Ok(Form::Exact(l)) if l == *value => HeaderMatchType::Exact,
                    Ok(_) => {
                        self.note(gsrc, NoteKind::ImplementationSpecific, &hp, format!("`{value}` has regex metacharacters: written as a RegularExpression header match, whose support the Gateway API leaves to implementations"));
                        HeaderMatchType::RegularExpression
                    }
                };
                headers.push(HttpHeaderMatch {
                    kind,
                    name: name.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
        let methods = methods_of(m);
        let out: Vec<HttpRouteMatch> = if methods.is_empty() {
            vec![HttpRouteMatch {
                path,
                headers,
                method: None,
            }]
        } else {
            methods
                .into_iter()
                .map(|method| HttpRouteMatch {
                    path: path.clone(),
                    headers: headers.clone(),
                    method: Some(method),
                })
                .collect()
        };
        // A match without path, headers or method is written as `{}`: every request.
        Some(out)
    }

    /// One rule per SMI match of `group` (those in `only`, when given), each with `backends`.
    fn group_rules(
        &mut self,
        gsrc: &Src,
        group: &specs::HttpRouteGroup,
        only: Option<(&Src, &str, &[String])>,
        backends: &[BackendRef],
    ) -> Vec<HttpRouteRule> {
        let matches = group.spec.matches.clone().unwrap_or_default();
        if let Some((tsrc, path, names)) = only {
            for (i, n) in names.iter().enumerate() {
                if !matches.iter().any(|m| &m.name == n) {
                    self.loss(
                        tsrc,
                        LossKind::Dropped,
                        &format!("{path}.matches[{i}]"),
                        json!(n),
                        format!("HTTPRouteGroup `{}` has no match named `{n}`: nothing is allowed for it", gsrc.sref.name),
                    );
                }
            }
        }
        let mut rules = Vec::new();
        for (j, m) in matches.iter().enumerate() {
            if let Some((_, _, names)) = only
                && !names.is_empty()
                && !names.contains(&m.name)
            {
                continue;
            }
            if let Some(ms) = self.gateway_matches(gsrc, j, m) {
                rules.push(HttpRouteRule {
                    name: rule_name(&m.name),
                    matches: ms,
                    backend_refs: backends.to_vec(),
                });
            }
        }
        rules
    }

    // ---------------------------------------------------------------- TrafficSplit

    /// The Service a TrafficSplit names at `path`: a Service name, or a DNS name of a Service of
    /// the split's namespace (`<name>.<namespace>`, `.svc`, `.svc.<cluster domain>`, as OSM's
    /// examples write it), which is written as the name with a note. `None` (reported as not
    /// migrated) for a Service of another namespace or a name that is no Service's.
    fn service_name(&mut self, src: &Src, path: &str, raw: &str) -> Option<String> {
        match service_of(raw, &src.ns) {
            Ok(name) => {
                if name != raw {
                    self.note(
                        src,
                        NoteKind::Assumption,
                        path,
                        format!("`{raw}` is the DNS name of Service `{name}` of this namespace: written as `{name}`"),
                    );
                }
                Some(name)
            }
            Err(why) => {
                self.not_migrated(src, path, json!(raw), why);
                None
            }
        }
    }

    fn split(&mut self, objects: &Objects, src: &Src, ts: &split::TrafficSplit) {
        let spec = &ts.spec;
        let Some(apex) = self.service_name(src, "spec.service", &spec.service) else {
            return;
        };
        let apex = apex.as_str();
        self.apexes.insert((src.ns.clone(), apex.to_owned()));
        if spec.backends.is_empty() {
            return self.not_migrated(
                src,
                "spec.backends",
                json!([]),
                "no backends: a route needs at least one".into(),
            );
        }
        if spec.backends.len() > MAX_BACKENDS {
            return self.not_migrated(
                src,
                "spec.backends",
                json!(spec.backends.len()),
                "more than the Gateway API's 16 backendRefs per rule".into(),
            );
        }
        let mut backend_names = Vec::with_capacity(spec.backends.len());
        for (k, b) in spec.backends.iter().enumerate() {
            match self.service_name(src, &format!("spec.backends[{k}].service"), &b.service) {
                Some(n) => backend_names.push(n),
                None => return,
            }
        }
        let weights: Vec<i64> = spec.backends.iter().map(|b| b.weight).collect();
        let weights = match gateway_weights(&weights) {
            Ok((w, exact)) => {
                if !exact {
                    self.loss(
                        src,
                        LossKind::Approximated,
                        "spec.backends",
                        json!(spec.backends.iter().map(|b| b.weight).collect::<Vec<_>>()),
                        format!("weights above the Gateway API's 1,000,000 are scaled and rounded to {w:?}"),
                    );
                }
                w
            }
            Err(e) => return self.not_migrated(src, "spec.backends", Value::Null, e),
        };
        // what `matches` names
        let mut groups: Vec<(&Src, &specs::HttpRouteGroup)> = Vec::new();
        let mut tcp_ports: Option<BTreeSet<i32>> = None;
        for (i, m) in spec.matches.iter().flatten().enumerate() {
            let k = (src.ns.clone(), m.name.clone());
            match m.kind.as_str() {
                "HTTPRouteGroup" => {
                    match objects.groups.get(&k) {
                        Some((g, hrg)) => {
                            self.used_by_split.insert(("HTTPRouteGroup", k));
                            groups.push((g, hrg));
                        }
                        None => {
                            return self.not_migrated(src, &format!("spec.matches[{i}]"), json!(m.name), format!("HTTPRouteGroup `{}` is not in the input: its matches are unknown", m.name));
                        }
                    }
                }
                "TCPRoute" => match objects.tcp.get(&k) {
                    Some((_, r)) => {
                        self.used_by_split.insert(("TCPRoute", k));
                        tcp_ports
                            .get_or_insert_with(BTreeSet::new)
                            .extend(r.spec.matches.ports.iter().flatten());
                    }
                    None => {
                        return self.not_migrated(
                            src,
                            &format!("spec.matches[{i}]"),
                            json!(m.name),
                            format!("TCPRoute `{}` is not in the input", m.name),
                        );
                    }
                },
                other => {
                    return self.not_migrated(
                        src,
                        &format!("spec.matches[{i}].kind"),
                        json!(other),
                        "a TrafficSplit can match HTTPRouteGroups (or TCPRoutes) only".into(),
                    );
                }
            }
        }
        if !groups.is_empty() && tcp_ports.is_some() {
            return self.not_migrated(
                src,
                "spec.matches",
                Value::Null,
                "mixes HTTPRouteGroups and TCPRoutes: one route cannot be both".into(),
            );
        }
        // (parent port, port name, port, opaque)
        let apex_svc = self.cluster.service(&src.ns, apex).cloned();
        let mut targets: Vec<(Option<i32>, Option<String>, i32, bool)> = Vec::new();
        match apex_svc.as_ref().filter(|s| !s.ports.is_empty()) {
            Some(s) => {
                let ports: Vec<&ServicePort> = s
                    .ports
                    .iter()
                    .filter(|p| match &tcp_ports {
                        Some(t) if !t.is_empty() => {
                            t.contains(&p.port) || t.contains(&p.pod_port())
                        }
                        _ => true,
                    })
                    .collect();
                if ports.is_empty() {
                    return self.not_migrated(
                        src,
                        "spec.matches",
                        Value::Null,
                        format!("no port of Service `{apex}` is among the TCPRoute ports"),
                    );
                }
                let many = ports.len() > 1;
                for p in ports {
                    targets.push((
                        many.then_some(p.port),
                        p.name.clone(),
                        p.port,
                        p.is_opaque(),
                    ));
                }
            }
            None => {
                let tcp: Vec<i32> = tcp_ports.iter().flatten().copied().collect();
                if !tcp.is_empty() {
                    let many = tcp.len() > 1;
                    for p in tcp {
                        targets.push((many.then_some(p), None, p, true));
                    }
                } else if let Some(p) = self.opts.default_port {
                    self.note(
                        src,
                        NoteKind::Assumption,
                        "spec.service",
                        format!("Service `{apex}` is not in the input: port {p} (--port) assumed"),
                    );
                    targets.push((None, None, p, false));
                } else if apex_svc.is_some() {
                    return self.not_migrated(
                        src,
                        "spec.service",
                        json!(apex),
                        format!("Service `{apex}` has no TCP port to route"),
                    );
                } else {
                    return self.not_migrated(
                        src,
                        "spec.service",
                        json!(apex),
                        format!("Service `{apex}` is not in the input, and backendRefs need a port: give its manifest along, or a default port"),
                    );
                }
            }
        }
        let http = !groups.is_empty();
        let tcp = tcp_ports.is_some();
        let many = targets.len() > 1;
        for (parent_port, port_name, port, opaque) in targets {
            let name = if many {
                format!("{}-{port}", src.sref.name)
            } else {
                src.sref.name.clone()
            };
            // backends' ports
            let mut backends = Vec::new();
            for (k, (b, w)) in backend_names.iter().zip(&weights).enumerate() {
                let bport = if b == apex {
                    Some(port)
                } else {
                    match self.cluster.service(&src.ns, b) {
                        Some(s) => backend_port(s, port, port_name.as_deref()),
                        None => {
                            self.note(src, NoteKind::Assumption, &format!("spec.backends[{k}]"), format!("Service `{b}` is not in the input: the root service's port {port} assumed"));
                            Some(port)
                        }
                    }
                };
                match bport {
                    Some(p) => backends.push(BackendRef::service(b, p, Some(*w))),
                    None => {
                        self.not_migrated(src, &format!("spec.backends[{k}].service"), json!(spec.backends[k].service), format!("Service `{b}` has no port {port} (nor one of the same name, nor a single port): the route for port {port} is not generated"));
                        backends.clear();
                        break;
                    }
                }
            }
            if backends.is_empty() {
                continue;
            }
            let parent = vec![ParentReference::service(apex, parent_port)];
            if (opaque && !http) || tcp {
                let route = TcpRoute::new(
                    &name,
                    TcpRouteSpec {
                        parent_refs: parent,
                        rules: vec![TcpRouteRule {
                            name: None,
                            backend_refs: backends,
                        }],
                    },
                );
                self.emit(src, route, |r| &mut r.metadata);
                continue;
            }
            let rules = if http {
                let mut rules = Vec::new();
                for (gsrc, g) in &groups {
                    rules.extend(self.group_rules(gsrc, g, None, &backends));
                }
                let fallback = HttpRouteRule {
                    name: None,
                    matches: Vec::new(),
                    backend_refs: vec![BackendRef::service(apex, port, None)],
                };
                match pack(rules, 1) {
                    Ok(mut r) => {
                        r.push(fallback);
                        r
                    }
                    Err(e) => {
                        self.not_migrated(src, "spec.matches", Value::Null, e);
                        continue;
                    }
                }
            } else {
                vec![HttpRouteRule {
                    name: None,
                    matches: Vec::new(),
                    backend_refs: backends,
                }]
            };
            let route = HttpRoute::new(
                &name,
                HttpRouteSpec {
                    parent_refs: parent,
                    rules,
                },
            );
            self.emit(src, route, |r| &mut r.metadata);
        }
    }

    // ---------------------------------------------------------------- TrafficTarget

    /// Pod labels of a destination subject.
    fn destination(
        &mut self,
        objects: &Objects,
        src: &Src,
        s: &access::IdentityBindingSubject,
    ) -> Result<BTreeMap<String, String>, String> {
        let ns = s.namespace.clone().unwrap_or_else(|| src.ns.clone());
        let sa = match s.kind.as_str() {
            "ServiceAccount" => s.name.clone(),
            "IdentityBinding" => {
                let Some((_, ib)) = objects.bindings.get(&(ns.clone(), s.name.clone())) else {
                    return Err(format!("IdentityBinding `{}` is not in the input", s.name));
                };
                let sch = &ib.spec.schemes;
                if let Some(sel) = sch
                    .pod_label_selector
                    .as_ref()
                    .filter(|s| !s.match_labels.is_empty())
                {
                    return Ok(sel.match_labels.clone());
                }
                match &sch.service_account {
                    Some(sa) => sa.clone(),
                    None => {
                        return Err(format!(
                            "IdentityBinding `{}` names neither pod labels nor a ServiceAccount: the pods are unknown",
                            s.name
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "destination kind `{other}` is neither ServiceAccount nor IdentityBinding"
                ));
            }
        };
        let ws = self.cluster.workloads_of(&ns, &sa);
        let sets: BTreeSet<&BTreeMap<String, String>> = ws.iter().map(|w| &w.labels).collect();
        match sets.len() {
            0 => Err(format!(
                "no workload of the input runs as ServiceAccount `{sa}`: the pods to protect are unknown (give the Deployments along)"
            )),
            1 => {
                let l = (*sets.iter().next().unwrap_or(&&BTreeMap::new())).clone();
                if l.is_empty() {
                    Err(format!(
                        "the workload running as ServiceAccount `{sa}` has no pod labels to select it by"
                    ))
                } else {
                    Ok(l)
                }
            }
            _ => Err(format!(
                "several workloads with different pod labels run as ServiceAccount `{sa}` ({}): one selector per workload is not generated",
                ws.iter()
                    .map(|w| w.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn target(
        &mut self,
        objects: &Objects,
        src: &Src,
        tt: &access::TrafficTarget,
        dest_port: Option<i32>,
    ) {
        let rules = tt.spec.rules.clone().unwrap_or_default();
        // mark what the rules use, and the IdentityBindings
        for r in &rules {
            let k = (src.ns.clone(), r.name.clone());
            let kind = match r.kind {
                access::RouteKind::HttpRouteGroup => "HTTPRouteGroup",
                access::RouteKind::TcpRoute => "TCPRoute",
                access::RouteKind::UdpRoute => "UDPRoute",
            };
            self.used_by_target.insert((kind, k));
        }
        for s in std::iter::once(&tt.spec.destination).chain(tt.spec.sources.iter().flatten()) {
            if s.kind == "IdentityBinding" {
                let ns = s.namespace.clone().unwrap_or_else(|| src.ns.clone());
                self.used_by_target
                    .insert(("IdentityBinding", (ns, s.name.clone())));
            }
        }
        let labels = self.destination(objects, src, &tt.spec.destination);
        // routes used by this TrafficTarget and by no TrafficSplit: a route on the
        // destination's Services with a single backend
        if let Ok(labels) = &labels {
            // not on a TrafficSplit's root Service: a second route there would take requests
            // away from the split
            let services: Vec<(String, Service)> = self
                .cluster
                .services_selecting(&src.ns, labels)
                .into_iter()
                .filter(|(n, _)| !self.apexes.contains(&(src.ns.clone(), (*n).to_owned())))
                .map(|(n, s)| (n.to_owned(), s.clone()))
                .collect();
            for r in &rules {
                let k = (src.ns.clone(), r.name.clone());
                match r.kind {
                    access::RouteKind::HttpRouteGroup => {
                        if self.used_by_split.contains(&("HTTPRouteGroup", k.clone())) {
                            continue;
                        }
                        if let Some((gsrc, g)) = objects.groups.get(&k) {
                            for (sname, svc) in &services {
                                self.access_http_route(gsrc, g, sname, svc);
                            }
                        }
                    }
                    access::RouteKind::TcpRoute => {
                        if self.used_by_split.contains(&("TCPRoute", k.clone())) {
                            continue;
                        }
                        if let Some((rsrc, route)) = objects.tcp.get(&k) {
                            for (sname, svc) in &services {
                                self.access_tcp_route(rsrc, route, sname, svc);
                            }
                        }
                    }
                    access::RouteKind::UdpRoute => {}
                }
            }
        }
        if self.opts.mesh == Mesh::None {
            return self.not_migrated(
                src,
                "",
                Value::Null,
                "access control has no GAMMA equivalent: choose a mesh (linkerd or istio) for its policy objects".into(),
            );
        }
        let labels = match labels {
            Ok(l) => l,
            Err(e) => {
                return self.not_migrated(
                    src,
                    "spec.destination",
                    json!(tt.spec.destination.name),
                    e,
                );
            }
        };
        let (sas, spiffe) = self.sources(objects, src, tt);
        match self.opts.mesh {
            Mesh::Linkerd => self.linkerd(objects, src, tt, &rules, labels, dest_port, sas, spiffe),
            Mesh::Istio => self.istio(objects, src, &rules, labels, dest_port, sas, spiffe),
            Mesh::None => {}
        }
    }

    /// Sources as ServiceAccounts `(namespace written, namespace, name)` and SPIFFE IDs.
    #[allow(clippy::type_complexity)]
    fn sources(
        &mut self,
        objects: &Objects,
        src: &Src,
        tt: &access::TrafficTarget,
    ) -> (Vec<(Option<String>, String, String)>, Vec<String>) {
        let mut sas = Vec::new();
        let mut spiffe = Vec::new();
        for (i, s) in tt.spec.sources.iter().flatten().enumerate() {
            let path = format!("spec.sources[{i}]");
            let ns = s.namespace.clone().unwrap_or_else(|| src.ns.clone());
            match s.kind.as_str() {
                "ServiceAccount" => sas.push((s.namespace.clone(), ns, s.name.clone())),
                "IdentityBinding" => match objects.bindings.get(&(ns.clone(), s.name.clone())) {
                    None => self.loss(
                        src,
                        LossKind::Dropped,
                        &path,
                        json!(s.name),
                        format!(
                            "IdentityBinding `{}` is not in the input: this source is not allowed",
                            s.name
                        ),
                    ),
                    Some((_, ib)) => {
                        let sch = &ib.spec.schemes;
                        if let Some(sa) = &sch.service_account {
                            sas.push((
                                Some(ns.clone()).filter(|n| n != &src.ns),
                                ns.clone(),
                                sa.clone(),
                            ));
                        }
                        spiffe.extend(sch.spiffe_identities.iter().flatten().cloned());
                        if sch.pod_label_selector.is_some() {
                            self.loss(src, LossKind::Dropped, &path, json!(s.name), format!("IdentityBinding `{}` selects clients by pod labels, which mesh authorization cannot (it authenticates identities): that scheme is left out", s.name));
                        }
                    }
                },
                other => self.loss(
                    src,
                    LossKind::Dropped,
                    &path,
                    json!(other),
                    "a source must be a ServiceAccount or an IdentityBinding".into(),
                ),
            }
        }
        (sas, spiffe)
    }

    /// The pod ports of the destination: `destination.port`, else its TCPRoutes' ports, else
    /// the target ports of the Services selecting its pods.
    fn dest_ports(
        &self,
        objects: &Objects,
        src: &Src,
        rules: &[access::TrafficTargetRule],
        labels: &BTreeMap<String, String>,
        dest_port: Option<i32>,
    ) -> Vec<i32> {
        if let Some(p) = dest_port {
            return vec![p];
        }
        let mut ports = BTreeSet::new();
        for r in rules {
            if r.kind == access::RouteKind::TcpRoute
                && let Some((_, t)) = objects.tcp.get(&(src.ns.clone(), r.name.clone()))
            {
                ports.extend(t.spec.matches.ports.iter().flatten());
            }
        }
        let http = rules
            .iter()
            .any(|r| r.kind == access::RouteKind::HttpRouteGroup);
        if ports.is_empty() || http {
            for (_, s) in self.cluster.services_selecting(&src.ns, labels) {
                ports.extend(s.ports.iter().map(ServicePort::pod_port));
            }
        }
        ports.into_iter().collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn linkerd(
        &mut self,
        objects: &Objects,
        src: &Src,
        tt: &access::TrafficTarget,
        rules: &[access::TrafficTargetRule],
        labels: BTreeMap<String, String>,
        dest_port: Option<i32>,
        sas: Vec<(Option<String>, String, String)>,
        spiffe: Vec<String>,
    ) {
        let t = &src.sref.name;
        let ports = self.dest_ports(objects, src, rules, &labels, dest_port);
        if ports.is_empty() {
            return self.not_migrated(src, "spec.destination", json!(tt.spec.destination.name), "no port of the destination is known (no destination.port, TCPRoute port or Service in the input): a Linkerd Server needs one".into());
        }
        if ports.len() > MAX_PARENTS {
            return self.not_migrated(src, "spec.destination", json!(ports.len()), "the destination has more than 32 ports: an inbound route holds at most 32 Server parents".into());
        }
        for (i, _) in spiffe.iter().enumerate() {
            self.loss(
                src,
                LossKind::Dropped,
                "spec.sources",
                json!(spiffe[i]),
                "Linkerd identities are not SPIFFE IDs: this source is not allowed".into(),
            );
        }
        for p in &ports {
            let server = Server::new(
                &format!("{t}-{p}"),
                ServerSpec {
                    pod_selector: MatchLabels {
                        match_labels: labels.clone(),
                    },
                    port: *p,
                },
            );
            self.emit(src, server, |s| &mut s.metadata);
        }
        let authn_ref = PolicyRef {
            group: Some(LINKERD_GROUP.into()),
            kind: "MeshTLSAuthentication".into(),
            name: t.clone(),
            namespace: None,
        };
        let mut policies: Vec<LinkerdAuthorizationPolicy> = Vec::new();
        let mut server_policies = BTreeSet::new();
        for (i, r) in rules.iter().enumerate() {
            let path = format!("spec.rules[{i}]");
            let k = (src.ns.clone(), r.name.clone());
            match r.kind {
                access::RouteKind::HttpRouteGroup => {
                    let Some((gsrc, g)) = objects.groups.get(&k) else {
                        self.loss(src, LossKind::Dropped, &path, json!(r.name), format!("HTTPRouteGroup `{}` is not in the input: nothing is allowed for this rule", r.name));
                        continue;
                    };
                    let names = r.matches.clone().unwrap_or_default();
                    let route_rules = self.group_rules(gsrc, g, Some((src, &path, &names)), &[]);
                    if route_rules.is_empty() {
                        continue;
                    }
                    let route_rules = match pack(route_rules, 0) {
                        Ok(r) => r,
                        Err(e) => {
                            self.loss(src, LossKind::Dropped, &path, json!(r.name), e);
                            continue;
                        }
                    };
                    let name = format!("{t}-{}", r.name);
                    let route = HttpRoute::new(
                        &name,
                        HttpRouteSpec {
                            parent_refs: ports
                                .iter()
                                .map(|p| ParentReference::linkerd_server(&format!("{t}-{p}")))
                                .collect(),
                            rules: route_rules,
                        },
                    );
                    self.emit(src, route, |r| &mut r.metadata);
                    policies.push(LinkerdAuthorizationPolicy::new(
                        &name,
                        LinkerdAuthorizationPolicySpec {
                            target_ref: PolicyRef {
                                group: Some("gateway.networking.k8s.io".into()),
                                kind: "HTTPRoute".into(),
                                name: name.clone(),
                                namespace: None,
                            },
                            required_authentication_refs: vec![authn_ref.clone()],
                        },
                    ));
                }
                access::RouteKind::TcpRoute => {
                    let Some((_, route)) = objects.tcp.get(&k) else {
                        self.loss(src, LossKind::Dropped, &path, json!(r.name), format!("TCPRoute `{}` is not in the input: nothing is allowed for this rule", r.name));
                        continue;
                    };
                    let allowed: Vec<i32> = route.spec.matches.ports.clone().unwrap_or_default();
                    for p in ports
                        .iter()
                        .filter(|p| allowed.is_empty() || allowed.contains(p))
                    {
                        server_policies.insert(*p);
                    }
                }
                access::RouteKind::UdpRoute => {
                    self.loss(
                        src,
                        LossKind::Dropped,
                        &path,
                        json!(r.name),
                        "Linkerd has no UDP: nothing is allowed for this rule".into(),
                    );
                }
            }
        }
        for p in server_policies {
            policies.push(LinkerdAuthorizationPolicy::new(
                &format!("{t}-{p}"),
                LinkerdAuthorizationPolicySpec {
                    target_ref: PolicyRef {
                        group: Some(LINKERD_GROUP.into()),
                        kind: "Server".into(),
                        name: format!("{t}-{p}"),
                        namespace: None,
                    },
                    required_authentication_refs: vec![authn_ref.clone()],
                },
            ));
        }
        if sas.is_empty() {
            if !policies.is_empty() {
                self.loss(src, LossKind::Dropped, "spec.sources", Value::Null, "no source has a Linkerd identity: nothing is allowed (the Servers deny by default)".into());
            }
            return;
        }
        let authn = MeshTlsAuthentication::new(
            t,
            MeshTlsAuthenticationSpec {
                identity_refs: sas
                    .iter()
                    .map(|(written, _, name)| PolicyRef {
                        group: None,
                        kind: "ServiceAccount".into(),
                        name: name.clone(),
                        namespace: written.clone(),
                    })
                    .collect(),
                identities: Vec::new(),
            },
        );
        self.emit(src, authn, |a| &mut a.metadata);
        for p in policies {
            self.emit(src, p, |p| &mut p.metadata);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn istio(
        &mut self,
        objects: &Objects,
        src: &Src,
        rules: &[access::TrafficTargetRule],
        labels: BTreeMap<String, String>,
        dest_port: Option<i32>,
        sas: Vec<(Option<String>, String, String)>,
        spiffe: Vec<String>,
    ) {
        let mut from: Vec<IstioFrom> = sas
            .chunks(16)
            .map(|c| IstioFrom {
                source: IstioSource {
                    service_accounts: c.iter().map(|(_, ns, n)| format!("{ns}/{n}")).collect(),
                    principals: Vec::new(),
                },
            })
            .collect();
        if !spiffe.is_empty() {
            from.push(IstioFrom {
                source: IstioSource {
                    service_accounts: Vec::new(),
                    principals: spiffe
                        .iter()
                        .map(|s| s.strip_prefix("spiffe://").unwrap_or(s).to_owned())
                        .collect(),
                },
            });
        }
        let base_ports: Vec<String> = dest_port.iter().map(ToString::to_string).collect();
        let mut out_rules = Vec::new();
        let fits = |n: usize| n < 512 && (n + 1) * from.len() <= MAX_ISTIO_FROM_ENTRIES;
        let mut too_big = false;
        'rules: for (i, r) in rules.iter().enumerate() {
            let path = format!("spec.rules[{i}]");
            let k = (src.ns.clone(), r.name.clone());
            match r.kind {
                access::RouteKind::HttpRouteGroup => {
                    let Some((gsrc, g)) = objects.groups.get(&k) else {
                        self.loss(src, LossKind::Dropped, &path, json!(r.name), format!("HTTPRouteGroup `{}` is not in the input: nothing is allowed for this rule", r.name));
                        continue;
                    };
                    let names = r.matches.clone().unwrap_or_default();
                    let matches = g.spec.matches.clone().unwrap_or_default();
                    for (n_i, n) in names.iter().enumerate() {
                        if !matches.iter().any(|m| &m.name == n) {
                            self.loss(src, LossKind::Dropped, &format!("{path}.matches[{n_i}]"), json!(n), format!("HTTPRouteGroup `{}` has no match named `{n}`: nothing is allowed for it", r.name));
                        }
                    }
                    for (j, m) in matches.iter().enumerate() {
                        if !names.is_empty() && !names.contains(&m.name) {
                            continue;
                        }
                        let Some((mut op, when)) = self.istio_match(gsrc, j, m) else {
                            continue;
                        };
                        op.ports = base_ports.clone();
                        let empty =
                            op.methods.is_empty() && op.paths.is_empty() && op.ports.is_empty();
                        if !fits(out_rules.len()) {
                            too_big = true;
                            break 'rules;
                        }
                        if !fits(out_rules.len()) {
                            too_big = true;
                            break 'rules;
                        }
                        out_rules.push(IstioRule {
                            from: from.clone(),
                            to: if empty {
                                Vec::new()
                            } else {
                                vec![IstioTo { operation: op }]
                            },
                            when,
                        });
                    }
                }
                access::RouteKind::TcpRoute => {
                    let Some((_, route)) = objects.tcp.get(&k) else {
                        self.loss(src, LossKind::Dropped, &path, json!(r.name), format!("TCPRoute `{}` is not in the input: nothing is allowed for this rule", r.name));
                        continue;
                    };
                    let mut ports: Vec<String> = route
                        .spec
                        .matches
                        .ports
                        .iter()
                        .flatten()
                        .map(ToString::to_string)
                        .collect();
                    if ports.is_empty() {
                        ports = base_ports.clone();
                    }
                    out_rules.push(IstioRule {
                        from: from.clone(),
                        to: if ports.is_empty() {
                            Vec::new()
                        } else {
                            vec![IstioTo {
                                operation: IstioOperation {
                                    ports,
                                    ..Default::default()
                                },
                            }]
                        },
                        when: Vec::new(),
                    });
                }
                access::RouteKind::UdpRoute => {
                    self.loss(
                        src,
                        LossKind::Dropped,
                        &path,
                        json!(r.name),
                        "Istio authorization has no UDP: nothing is allowed for this rule".into(),
                    );
                }
            }
        }
        if from.is_empty() {
            out_rules.clear();
        }
        if too_big || from.len() > 512 {
            return self.not_migrated(
                src,
                "",
                Value::Null,
                format!("more rules × sources ({} source entries) than one Istio AuthorizationPolicy holds (512 rules, 512 sources, {MAX_ISTIO_FROM_ENTRIES} in all here)", from.len()),
            );
        }
        let ap = IstioAuthorizationPolicy::new(
            &src.sref.name,
            IstioAuthorizationPolicySpec {
                selector: MatchLabels {
                    match_labels: labels,
                },
                action: "ALLOW".into(),
                rules: out_rules,
            },
        );
        self.emit(src, ap, |a| &mut a.metadata);
    }

    /// An SMI match as an Istio operation (methods, paths) and header conditions.
    fn istio_match(
        &mut self,
        gsrc: &Src,
        j: usize,
        m: &specs::HttpMatch,
    ) -> Option<(IstioOperation, Vec<IstioCondition>)> {
        let base = format!("spec.matches[{j}]");
        let mut op = IstioOperation {
            methods: methods_of(m),
            ..Default::default()
        };
        if let Some(re) = m.path_regex.as_deref() {
            let form = pattern::classify(re);
            op.paths = match form {
                Ok(Form::Any) => Vec::new(),
                Ok(Form::Exact(p)) if p.is_empty() => Vec::new(),
                Ok(Form::Exact(p)) => vec![p],
                Ok(Form::ElementPrefix(p)) => vec![p.clone(), format!("{p}/*")],
                Ok(Form::StringPrefix(p)) if p == "/" => Vec::new(),
                Ok(Form::StringPrefix(p)) => vec![format!("{p}*")],
                Ok(Form::StringSuffix(p)) => vec![format!("*{p}")],
                Ok(Form::Other) | Err(_) => {
                    self.loss(gsrc, LossKind::Dropped, &format!("{base}.pathRegex"), json!(re), "Istio authorization paths are exact, prefix or suffix, not regular expressions: access for this match is not granted".into());
                    return None;
                }
            };
        }
        let mut when = Vec::new();
        for (name, value) in m.headers.iter().flat_map(|h| h.iter()) {
            let v = match pattern::classify(value) {
                Ok(Form::Any) => "*".to_owned(),
                Ok(Form::Exact(l)) if !l.is_empty() => l,
                Ok(Form::StringPrefix(l)) => format!("{l}*"),
                Ok(Form::StringSuffix(l)) => format!("*{l}"),
                _ => {
                    self.loss(gsrc, LossKind::Dropped, &format!("{base}.headers.{name}"), json!(value), "Istio authorization header values are exact, prefix or suffix, not regular expressions: access for this match is not granted".into());
                    return None;
                }
            };
            when.push(IstioCondition {
                key: format!("request.headers[{name}]"),
                values: vec![v],
            });
        }
        Some((op, when))
    }

    // ---------------------------------------------------------------- access-only routes

    fn access_http_route(
        &mut self,
        gsrc: &Src,
        g: &specs::HttpRouteGroup,
        sname: &str,
        svc: &Service,
    ) {
        let ports: Vec<&ServicePort> = svc.ports.iter().filter(|p| !p.is_opaque()).collect();
        if !self
            .access_routes
            .insert(("HTTPRoute", gsrc.sref.name.clone(), sname.to_owned()))
        {
            return;
        }
        if ports.is_empty() {
            return self.loss(
                gsrc,
                LossKind::Dropped,
                "",
                Value::Null,
                format!("Service `{sname}` has no HTTP port: no route on it"),
            );
        }
        let many = ports.len() > 1;
        for p in ports {
            let name = if many {
                format!("{}-{sname}-{}", gsrc.sref.name, p.port)
            } else {
                format!("{}-{sname}", gsrc.sref.name)
            };
            let backend = vec![BackendRef::service(sname, p.port, None)];
            let rules = self.group_rules(gsrc, g, None, &backend);
            let mut rules = match pack(rules, 1) {
                Ok(r) => r,
                Err(e) => return self.not_migrated(gsrc, "spec.matches", Value::Null, e),
            };
            rules.push(HttpRouteRule {
                name: None,
                matches: Vec::new(),
                backend_refs: backend,
            });
            let route = HttpRoute::new(
                &name,
                HttpRouteSpec {
                    parent_refs: vec![ParentReference::service(sname, many.then_some(p.port))],
                    rules,
                },
            );
            self.emit(gsrc, route, |r| &mut r.metadata);
        }
    }

    fn access_tcp_route(&mut self, rsrc: &Src, r: &specs::TcpRoute, sname: &str, svc: &Service) {
        if !self
            .access_routes
            .insert(("TCPRoute", rsrc.sref.name.clone(), sname.to_owned()))
        {
            return;
        }
        let allowed: Vec<i32> = r.spec.matches.ports.clone().unwrap_or_default();
        let ports: Vec<&ServicePort> = svc
            .ports
            .iter()
            .filter(|p| {
                if allowed.is_empty() {
                    p.is_opaque()
                } else {
                    allowed.contains(&p.port) || allowed.contains(&p.pod_port())
                }
            })
            .collect();
        if ports.is_empty() {
            return self.loss(
                rsrc,
                LossKind::Dropped,
                "spec.matches.ports",
                json!(allowed),
                format!("no port of Service `{sname}` is a TCP port of this route: no route on it"),
            );
        }
        let many = ports.len() > 1;
        for p in ports {
            let name = if many {
                format!("{}-{sname}-{}", rsrc.sref.name, p.port)
            } else {
                format!("{}-{sname}", rsrc.sref.name)
            };
            let route = TcpRoute::new(
                &name,
                TcpRouteSpec {
                    parent_refs: vec![ParentReference::service(sname, many.then_some(p.port))],
                    rules: vec![TcpRouteRule {
                        name: None,
                        backend_refs: vec![BackendRef::service(sname, p.port, None)],
                    }],
                },
            );
            self.emit(rsrc, route, |r| &mut r.metadata);
        }
    }

    // ---------------------------------------------------------------- the rest

    fn unused(&mut self, objects: &Objects) {
        for (k, (src, _)) in &objects.groups {
            let key = ("HTTPRouteGroup", k.clone());
            if !self.used_by_split.contains(&key) && !self.used_by_target.contains(&key) {
                self.not_migrated(src, "", Value::Null, "not used by any TrafficSplit or TrafficTarget of the input: a Gateway API route needs a parent Service".into());
            } else if !self.used_by_split.contains(&key)
                && !self.out.iter().any(|(_, e)| e.source == src.sref)
            {
                self.not_migrated(src, "", Value::Null, "used by TrafficTargets only, and no Service of the input selects their destination's pods: no route to hold the matches".into());
            }
        }
        for (k, (src, _)) in &objects.tcp {
            let key = ("TCPRoute", k.clone());
            if !self.used_by_split.contains(&key) && !self.used_by_target.contains(&key) {
                self.not_migrated(src, "", Value::Null, "not used by any TrafficSplit or TrafficTarget of the input: a Gateway API route needs a parent Service".into());
            } else if !self.used_by_split.contains(&key)
                && !self.out.iter().any(|(_, e)| e.source == src.sref)
            {
                self.not_migrated(src, "", Value::Null, "used by TrafficTargets only, and no Service of the input selects their destination's pods: no route generated".into());
            }
        }
        for src in objects.udp.values() {
            self.not_migrated(
                src,
                "",
                Value::Null,
                "no mesh implements the Gateway API's UDPRoute, and GAMMA does not cover UDP"
                    .into(),
            );
        }
        for (k, (src, _)) in &objects.bindings {
            if !self
                .used_by_target
                .contains(&("IdentityBinding", k.clone()))
            {
                self.not_migrated(
                    src,
                    "",
                    Value::Null,
                    "not named by any TrafficTarget of the input".into(),
                );
            } else if self.opts.mesh == Mesh::None {
                self.not_migrated(
                    src,
                    "",
                    Value::Null,
                    "access control has no GAMMA equivalent: choose a mesh (linkerd or istio)"
                        .into(),
                );
            }
        }
    }

    fn finish(mut self, inputs: usize) -> Result<Migration, Error> {
        self.out.sort_by_key(|(order, _)| *order);

        // generated names must not collide
        let mut seen = BTreeSet::new();
        let mut objects = Vec::with_capacity(self.out.len());
        for (_, e) in std::mem::take(&mut self.out) {
            let group = e.api_version().split('/').next().unwrap_or("").to_owned();
            let id = (
                group,
                e.kind().to_owned(),
                e.value["metadata"]["namespace"].as_str().map(str::to_owned),
                e.name().to_owned(),
            );
            let name_ok = is_dns_subdomain(e.name());
            if !name_ok || !seen.insert(id) {
                let src = e.source.clone();
                self.losses.push(Loss {
                    source: src,
                    kind: LossKind::NotMigrated,
                    path: String::new(),
                    value: json!(format!("{} {}", e.kind(), e.name())),
                    reason: if name_ok {
                        "the generated name is taken by another generated object".into()
                    } else {
                        "the generated name is not a valid object name (too long?)".into()
                    },
                });
                continue;
            }
            objects.push(e);
        }
        let order_of = std::mem::take(&mut self.order_of);
        let pos = |s: &SourceRef| order_of.get(s).copied().unwrap_or(usize::MAX);
        self.losses.sort_by_key(|l| pos(&l.source));
        self.notes.sort_by_key(|n| pos(&n.source));
        // one report per loss/note, however many routes reused the match
        let mut seen_l = Vec::new();
        self.losses.retain(|l| {
            let k = (l.source.clone(), l.kind, l.path.clone(), l.reason.clone());
            if seen_l.contains(&k) {
                false
            } else {
                seen_l.push(k);
                true
            }
        });
        let mut seen_n = BTreeSet::new();
        self.notes.retain(|n| {
            seen_n.insert((n.source.clone(), n.kind, n.path.clone(), n.message.clone()))
        });
        if self.opts.strict && !self.losses.is_empty() {
            return Err(Error::Lossy(self.losses));
        }
        Ok(Migration {
            inputs,
            objects,
            losses: self.losses,
            notes: self.notes,
        })
    }
}

/// The name of the Service `raw` names, seen from namespace `ns`: `raw` itself when it has no
/// dot (a Service name is a DNS-1035 label), the first label of `<name>.<ns>`,
/// `<name>.<ns>.svc` or `<name>.<ns>.svc.<cluster domain>`. Otherwise why not.
///
/// A route's `parentRef` to a Service of another namespace would make it a GAMMA consumer
/// route (it applies to the route's namespace's clients only), which a TrafficSplit is not.
fn service_of(raw: &str, ns: &str) -> Result<String, String> {
    let mut labels = raw.split('.');
    let name = labels.next().unwrap_or_default();
    let Some(namespace) = labels.next() else {
        return Ok(raw.to_owned());
    };
    let rest: Vec<&str> = labels.collect();
    if name.is_empty() || namespace.is_empty() || !(rest.is_empty() || rest[0] == "svc") {
        return Err(format!(
            "`{raw}` is neither a Service name nor a Service's DNS name (<service>.<namespace>[.svc[.<cluster domain>]])"
        ));
    }
    if namespace != ns {
        return Err(format!(
            "`{raw}` is Service `{name}` of namespace `{namespace}`, not of this TrafficSplit's namespace `{ns}`: a route attached to another namespace's Service is a GAMMA consumer route, which applies to this namespace's clients only"
        ));
    }
    Ok(name.to_owned())
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_owned()
}

fn methods_of(m: &specs::HttpMatch) -> Vec<String> {
    let Some(ms) = &m.methods else {
        return Vec::new();
    };
    if ms.is_empty() || ms.contains(&specs::HttpMethod::Any) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for x in ms {
        if let Some(s) = serde_json::to_value(x)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            && !out.contains(&s)
        {
            out.push(s);
        }
    }
    out
}

/// A backend Service's port for root port `port` (named `name`).
fn backend_port(s: &Service, port: i32, name: Option<&str>) -> Option<i32> {
    if s.ports.iter().any(|p| p.port == port) {
        return Some(port);
    }
    if let Some(n) = name
        && let Some(p) = s.ports.iter().find(|p| p.name.as_deref() == Some(n))
    {
        return Some(p.port);
    }
    match s.ports.as_slice() {
        [one] => Some(one.port),
        _ => None,
    }
}

/// SMI weights as Gateway API weights (0–1,000,000): divided by their greatest common
/// divisor; when still too large, scaled and rounded (`false` = not exact).
fn gateway_weights(ws: &[i64]) -> Result<(Vec<i32>, bool), String> {
    if let Some(w) = ws.iter().find(|w| **w < 0) {
        return Err(format!("negative weight {w}"));
    }
    let g = ws.iter().fold(0i64, |a, &b| gcd(a, b));
    if g == 0 {
        return Ok((ws.iter().map(|_| 0).collect(), true));
    }
    let reduced: Vec<i64> = ws.iter().map(|w| w / g).collect();
    let max = reduced.iter().copied().max().unwrap_or(0);
    if max <= MAX_WEIGHT {
        return Ok((reduced.iter().map(|w| *w as i32).collect(), true));
    }
    let scaled = reduced
        .iter()
        .map(|w| ((*w as i128 * MAX_WEIGHT as i128 + max as i128 / 2) / max as i128) as i32)
        .collect();
    Ok((scaled, false))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A rule name from an SMI match name, when it is (lowercased) a DNS subdomain.
fn rule_name(n: &str) -> Option<String> {
    let l = n.to_ascii_lowercase();
    is_dns_subdomain(&l).then_some(l)
}

/// A DNS-1123 label (a namespace name): a subdomain of one label, at most 63 bytes.
fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Fits rules into the HTTPRoute limits (16 rules, 64 matches per rule, fewer than 128 in
/// all), `reserve` rules without matches being added after: kept as they are when they fit,
/// else their matches are packed into unnamed rules (all rules have the same backends).
fn pack(rules: Vec<HttpRouteRule>, reserve: usize) -> Result<Vec<HttpRouteRule>, String> {
    let total: usize = rules.iter().map(|r| r.matches.len().max(1)).sum();
    if total + reserve > MAX_MATCHES_TOTAL {
        return Err(format!(
            "{total} HTTP matches (one per method): an HTTPRoute holds fewer than 128"
        ));
    }
    if rules.len() + reserve <= MAX_RULES
        && rules
            .iter()
            .all(|r| r.matches.len() <= MAX_MATCHES_PER_RULE)
    {
        return Ok(rules);
    }
    let backends = rules
        .first()
        .map(|r| r.backend_refs.clone())
        .unwrap_or_default();
    let all: Vec<HttpRouteMatch> = rules.into_iter().flat_map(|r| r.matches).collect();
    let packed: Vec<HttpRouteRule> = all
        .chunks(MAX_MATCHES_PER_RULE)
        .map(|c| HttpRouteRule {
            name: None,
            matches: c.to_vec(),
            backend_refs: backends.clone(),
        })
        .collect();
    if packed.len() + reserve > MAX_RULES {
        return Err("too many HTTP matches for the 16 rules of an HTTPRoute".into());
    }
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(gateway_weights(&[90, 10]).unwrap(), (vec![9, 1], true));
        assert_eq!(gateway_weights(&[10, 5]).unwrap(), (vec![2, 1], true));
        assert_eq!(gateway_weights(&[0, 0]).unwrap(), (vec![0, 0], true));
        assert_eq!(
            gateway_weights(&[3_000_001, 1]).unwrap(),
            (vec![1_000_000, 0], false)
        );
        assert_eq!(
            gateway_weights(&[4_000_000, 2_000_000]).unwrap(),
            (vec![2, 1], true)
        );
        assert!(gateway_weights(&[-1, 1]).is_err());
        assert_eq!(
            gateway_weights(&[i64::MAX, i64::MAX - 1]).unwrap().0[0],
            1_000_000
        );
    }

    #[test]
    fn dns1123() {
        assert!(is_dns_label("shop"));
        assert!(is_dns_subdomain("web-1.shop"));
        for bad in ["", "Shop", "-a", "a-", "$NS", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
    }

    #[test]
    fn packing() {
        let rule = |n: usize| HttpRouteRule {
            name: Some("x".into()),
            matches: vec![HttpRouteMatch::default(); n],
            backend_refs: Vec::new(),
        };
        assert_eq!(pack(vec![rule(2); 15], 1).unwrap().len(), 15);
        let p = pack(vec![rule(2); 16], 1).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].matches.len(), 32);
        assert!(pack(vec![rule(64), rule(63)], 1).is_err());
        assert_eq!(pack(vec![rule(64), rule(62)], 1).unwrap().len(), 2);
    }

    #[test]
    fn service_dns_names() {
        assert_eq!(service_of("web", "shop").unwrap(), "web");
        for fqdn in [
            "web.shop",
            "web.shop.svc",
            "web.shop.svc.cluster.local",
            "web.shop.svc.corp.example",
        ] {
            assert_eq!(service_of(fqdn, "shop").unwrap(), "web", "{fqdn}");
        }
        let other = service_of("web.other.svc.cluster.local", "shop").unwrap_err();
        assert!(
            other.contains("namespace `other`") && other.contains("consumer route"),
            "{other}"
        );
        for bad in [
            "web.shop.example.com",
            ".shop",
            "web..svc",
            "web.shop.cluster.local",
        ] {
            assert!(service_of(bad, "shop").is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(rule_name("Metrics").as_deref(), Some("metrics"));
        assert_eq!(rule_name("a_b"), None);
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
    }
}
