//! The offline CRD checker (`smi_validate::crd_check`) on deliberately broken CRDs and on the
//! project's generated CRDs.

use smi_validate::crd_check::{self, CrdReport};

fn dump(r: &CrdReport) {
    eprintln!("== {} ({} errors)", r.name, r.errors.len());
    for e in &r.errors {
        eprintln!("   {e}");
    }
    for c in &r.rule_costs {
        eprintln!(
            "   cost {} x{} = {}  {}",
            c.max_cost, c.cardinality, c.total, c.field
        );
    }
    for (p, t) in &r.schema_costs {
        eprintln!("   schema {p}: {t}");
    }
}

#[test]
fn generated_crds_dump() {
    for flavour in [
        smi_types::crd::Flavour::AllVersions,
        smi_types::crd::Flavour::SdkCompatible,
    ] {
        for crd in smi_types::crd::generate(flavour) {
            let r = crd_check::check_typed(&crd);
            dump(&r);
        }
    }
}

#[test]
fn perf_without_metadata_dump() {
    for crd in smi_types::crd::generate(smi_types::crd::Flavour::SdkCompatible) {
        let mut v = serde_json::to_value(&crd).unwrap();
        if let Some(m) =
            v.pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/metadata")
        {
            *m = serde_json::json!({"type": "object"});
        }
        let r = crd_check::check_crd(&v);
        if r.name.contains("perf") {
            dump(&r);
        }
    }
}
