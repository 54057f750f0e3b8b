//! `smi-validate migrate --to gateway-api`: output, report and exit codes.

mod common;
use common::*;

const SHOP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../smi-gateway/tests/fixtures/shop.yaml"
);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SPLIT: &str = "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: canary}\nspec:\n  service: web\n  backends:\n  - {service: web-v1, weight: 1}\n  - {service: web-v2, weight: 500m}\n";

#[test]
fn migrates_a_split_from_stdin_with_a_default_port() {
    let o = run(
        &["migrate", "--to", "gateway-api", "--port", "8080", "-"],
        Some(SPLIT),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("kind: HTTPRoute"), "{out}");
    assert!(
        out.contains("weight: 2") && out.contains("weight: 1"),
        "{out}"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("1 SMI object(s) in, 1 object(s) out, 0 loss(es)"),
        "{err}"
    );
    assert!(
        err.contains("note: <stdin>[0]: TrafficSplit canary: assumption spec.service"),
        "{err}"
    );
}

#[test]
fn reports_losses_and_still_writes() {
    // no port known: the split is not migrated, and said so
    let o = run(&["migrate", "--to", "gateway-api", "-"], Some(SPLIT));
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(
        err.contains("loss: <stdin>[0]: TrafficSplit canary: not-migrated spec.service"),
        "{err}"
    );
    assert!(
        err.contains("(not-migrated 1) [by source kind: TrafficSplit 1]"),
        "{err}"
    );
}

#[test]
fn strict_refuses_and_writes_nothing() {
    let o = run(
        &[
            "migrate",
            "--to",
            "gateway-api",
            "--mesh",
            "linkerd",
            "--strict",
            SHOP,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("UDPRoute shop/dns: not-migrated"), "{err}");
    assert!(err.contains("nothing written (--strict)"), "{err}");
}

#[test]
fn meshes_choose_the_policy_objects() {
    let linkerd = run(
        &["migrate", "--to", "gateway-api", "--mesh", "linkerd", SHOP],
        None,
    );
    assert_eq!(linkerd.status.code(), Some(0), "{}", text(&linkerd.stderr));
    let out = text(&linkerd.stdout);
    for k in [
        "kind: Server",
        "kind: MeshTLSAuthentication",
        "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy",
    ] {
        assert!(out.contains(k), "{k} missing:\n{out}");
    }
    let istio = run(
        &["migrate", "--to", "gateway-api", "--mesh", "istio", SHOP],
        None,
    );
    assert_eq!(istio.status.code(), Some(0));
    assert!(
        text(&istio.stdout).contains("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy")
    );
    let none = run(&["migrate", "--to", "gateway-api", SHOP], None);
    assert!(!text(&none.stdout).contains("AuthorizationPolicy"));
    assert!(text(&none.stderr).contains("TrafficTarget shop/web-to-api: not-migrated"));
}

#[test]
fn usage_and_input_errors() {
    // --to is required
    assert_eq!(run(&["migrate", SHOP], None).status.code(), Some(2));
    assert_eq!(
        run(&["migrate", "--to", "istio", SHOP], None).status.code(),
        Some(2)
    );
    assert_eq!(
        run(
            &["migrate", "--to", "gateway-api", "--port", "0", SHOP],
            None
        )
        .status
        .code(),
        Some(2)
    );
    let o = run(
        &["migrate", "--to", "gateway-api", "/nonexistent/x.yaml"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    // a document that cannot be read: the rest is migrated, exit 1
    let bad = format!(
        "{SPLIT}---\napiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {{name: x}}\nspec: 3\n"
    );
    let o = run(
        &["migrate", "--to", "gateway-api", "--port", "80", "-"],
        Some(&bad),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("name: canary"));
    assert!(
        text(&o.stderr).contains("<stdin>[1]: not read"),
        "{}",
        text(&o.stderr)
    );
}
