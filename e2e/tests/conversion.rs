//! The all-versions CRDs with `conversion.strategy: Webhook` pointing at
//! `examples/conversion-webhook` (HTTPS on 127.0.0.1, serving certificate signed by the control
//! plane's CA, `caBundle` that CA): the API server drives every conversion.
//!
//! One test, in steps (they share the CRDs and the storage version):
//!
//! 1. create at each version of each kind, with the fields only that version has;
//! 2. read every object at every version: at its own version it is what was created, at another
//!    it is what `smi_types::convert::convert_value` gives (the stash annotation included);
//! 3. LIST at each version with objects of every version stored;
//! 4. server-side apply at two versions on one object;
//! 5. an update at an old version keeps the new-version fields;
//! 6. a storage-version migration to the oldest version (every object read and written back,
//!    `storedVersions` trimmed): every object still reads back exactly at every version.
//!
//! Needs the local control plane: `scripts/controlplane.sh start`.

mod webhook;

use http::Method;
use serde_json::{Value, json};
use smi_e2e::Cluster;
use smi_e2e::smi_types::convert::{STASH_ANNOTATION, convert_value};
use smi_e2e::smi_types::crd::{self, Flavour, GenerateOptions};

const NS: &str = "smi-conversion-e2e";
const VERSIONS: [&str; 4] = ["v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4"];
const CRDS: [&str; 4] = [
    "traffictargets.access.smi-spec.io",
    "httproutegroups.specs.smi-spec.io",
    "tcproutes.specs.smi-spec.io",
    "trafficsplits.split.smi-spec.io",
];
const CRD_URL: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

fn meta(name: &str) -> Value {
    json!({"name": name, "namespace": NS})
}

/// One object per kind and version, each using what only that version has.
fn objects() -> Vec<Value> {
    let sa = |name: &str| json!({"kind": "ServiceAccount", "name": name, "namespace": NS});
    vec![
        json!({"apiVersion": "access.smi-spec.io/v1alpha1", "kind": "TrafficTarget", "metadata": meta("tt-v1alpha1"),
            "destination": {"kind": "ServiceAccount", "name": "api", "namespace": NS, "port": 8080},
            "sources": [{"kind": "ServiceAccount", "name": "web", "namespace": NS, "port": 1}],
            "specs": [{"kind": "HTTPRouteGroup", "name": "routes", "matches": ["all"]}]}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha2", "kind": "TrafficTarget", "metadata": meta("tt-v1alpha2"),
            "spec": {"destination": {"kind": "ServiceAccount", "name": "api", "namespace": NS, "port": 9090},
                     "sources": [sa("web")], "rules": [{"kind": "TCPRoute", "name": "db"}]}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha3", "kind": "TrafficTarget", "metadata": meta("tt-v1alpha3"),
            "spec": {"destination": sa("api"), "sources": [sa("web")],
                     "rules": [{"kind": "HTTPRouteGroup", "name": "routes"}]}}),
        json!({"apiVersion": "access.smi-spec.io/v1alpha4", "kind": "TrafficTarget", "metadata": meta("tt-v1alpha4"),
            "spec": {"destination": {"kind": "ServiceAccount", "name": "dns", "namespace": NS, "group": "core"},
                     "rules": [{"kind": "UDPRoute", "name": "dns"}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha1", "kind": "HTTPRouteGroup", "metadata": meta("hrg-v1alpha1"),
            "matches": [{"name": "m1", "methods": ["GET"], "pathRegex": "/a"}]}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha2", "kind": "HTTPRouteGroup", "metadata": meta("hrg-v1alpha2"),
            "matches": [{"name": "m2", "headers": [{"x-a": "1"}]}]}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha3", "kind": "HTTPRouteGroup", "metadata": meta("hrg-v1alpha3"),
            "spec": {"matches": [{"name": "m3", "pathRegex": "/b", "headers": [{"x-b": "2"}]}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "HTTPRouteGroup", "metadata": meta("hrg-v1alpha4"),
            "spec": {"matches": [{"name": "m4", "methods": ["POST"], "headers": [{"x-c": "3"}]}]}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha1", "kind": "TCPRoute", "metadata": meta("tcp-v1alpha1")}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha2", "kind": "TCPRoute", "metadata": meta("tcp-v1alpha2")}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha3", "kind": "TCPRoute", "metadata": meta("tcp-v1alpha3"), "spec": {}}),
        json!({"apiVersion": "specs.smi-spec.io/v1alpha4", "kind": "TCPRoute", "metadata": meta("tcp-v1alpha4"),
            "spec": {"matches": {"name": "db", "ports": [5432]}}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha1", "kind": "TrafficSplit", "metadata": meta("ts-v1alpha1"),
            "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}, {"service": "b", "weight": "500m"}]}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit", "metadata": meta("ts-v1alpha2"),
            "spec": {"service": "web", "backends": [{"service": "a", "weight": 90}, {"service": "b", "weight": 10}]}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha3", "kind": "TrafficSplit", "metadata": meta("ts-v1alpha3"),
            "spec": {"service": "web", "backends": [{"service": "a", "weight": 1}],
                     "matches": [{"kind": "HTTPRouteGroup", "name": "r3"}]}}),
        json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit", "metadata": meta("ts-v1alpha4"),
            "spec": {"service": "web", "backends": [{"service": "a", "weight": 3}, {"service": "b", "weight": 0}],
                     "matches": [{"kind": "HTTPRouteGroup", "name": "r4"}]}}),
        // `spec` is optional at v1alpha3: read at v1alpha4 it gets the `spec.matches` v1alpha4
        // requires, and it comes back without `spec`
        json!({"apiVersion": "specs.smi-spec.io/v1alpha3", "kind": "TCPRoute", "metadata": meta("tcp-v1alpha3-no-spec")}),
    ]
}

/// What a user wrote: the object without the server's metadata (name, namespace, labels and
/// annotations kept).
fn user_view(o: &Value) -> Value {
    let mut out = o.clone();
    let m = &o["metadata"];
    let mut meta = serde_json::Map::new();
    for k in ["name", "namespace", "labels", "annotations"] {
        if let Some(v) = m.get(k) {
            meta.insert(k.into(), v.clone());
        }
    }
    out["metadata"] = Value::Object(meta);
    out
}

fn at(o: &Value, version: &str) -> Value {
    let (group, _) = o["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    let mut id =
        json!({"apiVersion": format!("{group}/{version}"), "kind": o["kind"], "metadata": {}});
    id["metadata"] = json!({"name": o["metadata"]["name"], "namespace": NS});
    id
}

async fn get_at(cluster: &Cluster, o: &Value, version: &str) -> Value {
    let id = at(o, version);
    cluster
        .get(&id)
        .await
        .unwrap_or_else(|e| panic!("GET {id}: {e}"))
        .unwrap_or_else(|| panic!("{id} not found"))
}

fn local(o: &Value, version: &str) -> Value {
    let (group, _) = o["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    convert_value(o, &format!("{group}/{version}"))
        .unwrap()
        .value
}

/// Every object reads back at its own version as created, and at every other version as the
/// library converts it.
async fn check_reads(cluster: &Cluster, created: &[Value], step: &str) {
    for o in created {
        let av = o["apiVersion"].as_str().unwrap();
        for v in VERSIONS {
            let got = user_view(&get_at(cluster, o, v).await);
            let want = user_view(&local(o, v));
            assert_eq!(got, want, "{step}: {} read at {v}", o["metadata"]["name"]);
            if av.ends_with(v) {
                assert!(
                    got["metadata"].get("annotations").is_none(),
                    "{step}: no stash at its own version: {got}"
                );
            }
        }
    }
}

async fn put(cluster: &Cluster, o: &Value) -> Value {
    let url = cluster.object_url(o, "").await.unwrap();
    let (status, _, body) = cluster
        .raw(Method::PUT, &url, Some(o), "application/json")
        .await
        .unwrap();
    assert_eq!(status, 200, "PUT {url}: {body}");
    body
}

async fn apply(cluster: &Cluster, o: &Value, manager: &str, force: bool) -> Value {
    let url = format!(
        "{}?fieldManager={manager}&force={force}&fieldValidation=Strict",
        cluster.object_url(o, "").await.unwrap()
    );
    let (status, warnings, body) = cluster
        .raw(Method::PATCH, &url, Some(o), "application/apply-patch+yaml")
        .await
        .unwrap();
    assert!(
        status == 200 || status == 201,
        "apply by {manager}: {status} {body}"
    );
    assert!(warnings.is_empty(), "apply by {manager}: {warnings:?}");
    body
}

async fn set_storage(cluster: &Cluster, version: &str) {
    for name in CRDS {
        let url = format!("{CRD_URL}/{name}");
        let (_, _, mut crd) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
        for v in crd["spec"]["versions"].as_array_mut().unwrap() {
            v["storage"] = json!(v["name"] == version);
        }
        let (status, _, body) = cluster
            .raw(Method::PUT, &url, Some(&crd), "application/json")
            .await
            .unwrap();
        assert_eq!(status, 200, "{name}: {body}");
    }
    // wait until the new storage version is recorded
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for name in CRDS {
        loop {
            let (_, _, crd) = cluster
                .raw(Method::GET, &format!("{CRD_URL}/{name}"), None, "")
                .await
                .unwrap();
            let stored = crd["status"]["storedVersions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if stored.contains(&json!(version)) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name}: storedVersions {stored:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn the_api_server_drives_every_conversion() {
    let t0 = std::time::Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1}s] {what}", t0.elapsed().as_secs_f64());
    let cluster = Cluster::connect().await;
    let hook = webhook::start("conversion-webhook", &[]);
    step("webhook started");
    let mut opts = GenerateOptions::default();
    opts.without_perf = true;
    let mut crds: Vec<_> = crd::generate_with(Flavour::AllVersions, &opts)
        .into_iter()
        .filter(|c| CRDS.contains(&c.metadata.name.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(crds.len(), 4);
    for c in &mut crds {
        let conv = c.spec.conversion.as_mut().expect("a webhook conversion");
        assert_eq!(conv.strategy, "Webhook");
        let cfg = conv
            .webhook
            .as_mut()
            .and_then(|w| w.client_config.as_mut())
            .expect("a client config");
        cfg.service = None;
        cfg.url = Some(hook.url.clone());
        cfg.ca_bundle = Some(k8s_openapi::ByteString(hook.ca_bundle.clone()));
    }
    // CRDs left by an interrupted run point at a webhook that is gone, and deleting them needs
    // conversions (their objects are stored at several versions): point them here first
    for name in CRDS {
        let url = format!("{CRD_URL}/{name}");
        let (status, _, mut old) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
        if status == 200 && old["spec"]["conversion"]["strategy"] == "Webhook" {
            old["spec"]["conversion"]["webhook"]["clientConfig"] = json!({
                "url": hook.url,
                "caBundle": k8s_openapi::ByteString(hook.ca_bundle.clone()),
            });
            let (status, _, body) = cluster
                .raw(Method::PUT, &url, Some(&old), "application/json")
                .await
                .unwrap();
            assert_eq!(status, 200, "repointing {name}: {body}");
        }
    }
    let installs = cluster.install_crds(&crds).await.unwrap();
    for i in &installs {
        assert!(
            i.is_clean(),
            "{}: {} {:?}",
            i.name,
            i.outcome.summary(),
            i.conditions
        );
    }
    cluster.ensure_namespace(NS).await.unwrap();

    step("// 1. create at each version");
    // 1. create at each version
    let created = objects();
    for o in &created {
        let out = cluster.create(o).await.unwrap();
        assert!(
            out.accepted(),
            "create {}: {}",
            o["metadata"]["name"],
            out.summary()
        );
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    step("// 2. read at every version");
    // 2. read at every version
    check_reads(&cluster, &created, "after create").await;
    // the webhook really ran: v1alpha1 weights are integers at v1alpha4, the rest stashed
    let ts = get_at(&cluster, &created[12], "v1alpha4").await;
    assert_eq!(
        ts["spec"]["backends"],
        json!([{"service": "a", "weight": 10}, {"service": "b", "weight": 5}])
    );
    assert!(
        ts["metadata"]["annotations"][STASH_ANNOTATION].is_string(),
        "{ts}"
    );
    // a TCPRoute v1alpha3 without `spec` is served at v1alpha4 with `spec.matches`, and that
    // object is one the server accepts written back at v1alpha4
    let spec_less = &created[16];
    assert!(spec_less.get("spec").is_none());
    let tcp = get_at(&cluster, spec_less, "v1alpha4").await;
    assert_eq!(tcp["spec"], json!({"matches": {}}), "{tcp}");
    let mut dry = tcp.clone();
    dry["metadata"] = json!({"name": "tcp-v1alpha3-no-spec-copy", "namespace": NS,
        "annotations": tcp["metadata"]["annotations"].clone()});
    let out = cluster.create(&dry).await.unwrap();
    assert!(out.accepted(), "create at v1alpha4: {}", out.summary());
    let copy_at_v3 = get_at(&cluster, &dry, "v1alpha3").await;
    assert!(copy_at_v3.get("spec").is_none(), "{copy_at_v3}");
    cluster.delete(&dry).await.unwrap();

    step("// 3. LIST at each version");
    // 3. LIST at each version, every version's objects stored
    for kind in [
        "traffictargets.access",
        "httproutegroups.specs",
        "tcproutes.specs",
        "trafficsplits.split",
    ] {
        let (plural, group) = kind.split_once('.').unwrap();
        for v in VERSIONS {
            let url = format!("/apis/{group}.smi-spec.io/{v}/namespaces/{NS}/{plural}");
            let (status, _, list) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
            assert_eq!(status, 200, "LIST {url}: {list}");
            let items = list["items"].as_array().unwrap();
            let stored = created
                .iter()
                .filter(|o| {
                    o["apiVersion"].as_str().unwrap().starts_with(group)
                        && o["kind"].as_str().unwrap().to_lowercase() + "s" == plural
                })
                .count();
            assert_eq!(items.len(), stored, "LIST {url}");
            for item in items {
                let name = item["metadata"]["name"].as_str().unwrap();
                let original = created
                    .iter()
                    .find(|o| o["metadata"]["name"] == name)
                    .unwrap();
                let mut want = user_view(&local(original, v));
                // a list's items carry apiVersion/kind as converted
                want["apiVersion"] = json!(format!("{group}.smi-spec.io/{v}"));
                assert_eq!(user_view(item), want, "LIST {url}: {name}");
            }
        }
    }

    step("// 4. server-side apply");
    // 4. server-side apply at two versions on one object
    let ssa_v4 = json!({"apiVersion": "split.smi-spec.io/v1alpha4", "kind": "TrafficSplit", "metadata": meta("ssa"),
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 60}, {"service": "b", "weight": 40}],
                 "matches": [{"kind": "HTTPRouteGroup", "name": "canary"}]}});
    apply(&cluster, &ssa_v4, "manager-v1alpha4", false).await;
    let ssa_v2 = json!({"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit",
        "metadata": {"name": "ssa", "namespace": NS, "labels": {"owner": "v1alpha2"}},
        "spec": {"service": "web", "backends": [{"service": "a", "weight": 60}, {"service": "b", "weight": 40}]}});
    apply(&cluster, &ssa_v2, "manager-v1alpha2", false).await;
    let now = get_at(&cluster, &ssa_v4, "v1alpha4").await;
    assert_eq!(now["spec"]["matches"], ssa_v4["spec"]["matches"], "{now}");
    assert_eq!(now["metadata"]["labels"]["owner"], "v1alpha2");
    let managers: Vec<(String, String)> = now["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap().to_owned(),
                m["apiVersion"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        managers.contains(&(
            "manager-v1alpha4".into(),
            "split.smi-spec.io/v1alpha4".into()
        )),
        "{managers:?}"
    );
    assert!(
        managers.contains(&(
            "manager-v1alpha2".into(),
            "split.smi-spec.io/v1alpha2".into()
        )),
        "{managers:?}"
    );
    // the v1alpha2 manager takes the weights over; the v1alpha4-only matches stay
    let mut ssa_v2b = ssa_v2.clone();
    ssa_v2b["spec"]["backends"] =
        json!([{"service": "a", "weight": 10}, {"service": "b", "weight": 90}]);
    apply(&cluster, &ssa_v2b, "manager-v1alpha2", true).await;
    let now = get_at(&cluster, &ssa_v4, "v1alpha4").await;
    assert_eq!(
        now["spec"]["backends"], ssa_v2b["spec"]["backends"],
        "{now}"
    );
    assert_eq!(now["spec"]["matches"], ssa_v4["spec"]["matches"], "{now}");
    // and the v1alpha4 manager re-applying its own intent at v1alpha4 still works
    let mut ssa_v4b = ssa_v4.clone();
    ssa_v4b["spec"]["matches"] = json!([{"kind": "HTTPRouteGroup", "name": "canary-2"}]);
    ssa_v4b["spec"]["backends"] = ssa_v2b["spec"]["backends"].clone();
    apply(&cluster, &ssa_v4b, "manager-v1alpha4", false).await;
    let now = get_at(&cluster, &ssa_v4, "v1alpha2").await;
    assert_eq!(
        now["spec"]["backends"], ssa_v2b["spec"]["backends"],
        "{now}"
    );
    assert!(now["spec"].get("matches").is_none(), "{now}");
    let now = get_at(&cluster, &ssa_v4, "v1alpha4").await;
    assert_eq!(now["spec"]["matches"], ssa_v4b["spec"]["matches"], "{now}");

    step("// 5. update at an old");
    // 5. update at an old version keeps the new-version fields
    let ts4 = &created[15];
    let mut old = get_at(&cluster, ts4, "v1alpha2").await;
    assert!(old["spec"].get("matches").is_none());
    old["spec"]["backends"][1]["weight"] = json!(7);
    put(&cluster, &old).await;
    let now = get_at(&cluster, ts4, "v1alpha4").await;
    assert_eq!(now["spec"]["matches"], ts4["spec"]["matches"], "{now}");
    assert_eq!(now["spec"]["backends"][1]["weight"], 7, "{now}");
    assert!(now["metadata"].get("annotations").is_none(), "{now}");
    let tt2 = &created[1];
    let mut old = get_at(&cluster, tt2, "v1alpha3").await;
    old["spec"]["rules"] =
        json!([{"kind": "TCPRoute", "name": "db"}, {"kind": "TCPRoute", "name": "cache"}]);
    put(&cluster, &old).await;
    let now = get_at(&cluster, tt2, "v1alpha2").await;
    assert_eq!(now["spec"]["destination"]["port"], 9090, "{now}");
    assert_eq!(now["spec"]["rules"][1]["name"], "cache", "{now}");
    // the state the next steps check against
    let mut created = created;
    created[15]["spec"]["backends"][1]["weight"] = json!(7);
    created[1]["spec"]["rules"] = now["spec"]["rules"].clone();
    check_reads(&cluster, &created, "after updates").await;

    step("// 6. storage-version migration");
    // 6. storage-version migration to v1alpha1: read and write back every object
    set_storage(&cluster, "v1alpha1").await;
    for o in &created {
        let before = get_at(&cluster, o, "v1alpha4").await;
        let after = put(&cluster, &before).await;
        assert_ne!(
            before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
            "{}: written back at the new storage version",
            o["metadata"]["name"]
        );
    }
    for name in CRDS {
        let url = format!("{CRD_URL}/{name}/status");
        let (_, _, mut crd) = cluster.raw(Method::GET, &url, None, "").await.unwrap();
        crd["status"]["storedVersions"] = json!(["v1alpha1"]);
        let (status, _, body) = cluster
            .raw(Method::PUT, &url, Some(&crd), "application/json")
            .await
            .unwrap();
        assert_eq!(status, 200, "{name} storedVersions: {body}");
    }
    check_reads(&cluster, &created, "after migrating storage to v1alpha1").await;
    // and back to v1alpha4
    set_storage(&cluster, "v1alpha4").await;
    for o in &created {
        let before = get_at(&cluster, o, "v1alpha1").await;
        put(&cluster, &before).await;
    }
    check_reads(
        &cluster,
        &created,
        "after migrating storage back to v1alpha4",
    )
    .await;

    step("cluster.delete_crds(&CRDS");
    cluster.delete_crds(&CRDS.map(String::from)).await.unwrap();
}
