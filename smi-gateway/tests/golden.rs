//! Golden outputs: the repository's fixtures migrated with each mesh, objects then losses and
//! notes, compared with `tests/golden/<corpus>.<mesh>.yaml`. `UPDATE_GOLDEN=1 cargo test -p
//! smi-gateway --test golden` rewrites them (review the diff).

mod common;

use std::fmt::Write;

fn render(m: &smi_gateway::Migration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} SMI object(s) in, {} object(s) out, {} loss(es), {} note(s)",
        m.inputs,
        m.objects.len(),
        m.losses.len(),
        m.notes.len()
    );
    for l in &m.losses {
        let _ = writeln!(out, "# loss: {l}");
    }
    for n in &m.notes {
        let _ = writeln!(out, "# note: {n}");
    }
    out.push_str(&m.to_yaml().unwrap());
    out
}

#[test]
fn golden_outputs() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = common::root().join("smi-gateway/tests/golden");
    let mut failures = Vec::new();
    for corpus in common::CORPORA {
        let (streams, _) = common::load(corpus);
        let tag = corpus.split('/').next().unwrap();
        for (name, opts) in common::configs() {
            let got = render(&common::run(&streams, &opts));
            // the output is a valid YAML stream
            for doc in got.split("\n---\n") {
                let _: serde_json::Value = serde_norway::from_str(doc)
                    .unwrap_or_else(|e| panic!("{tag}.{name}: not YAML: {e}\n{doc}"));
            }
            let path = dir.join(format!("{tag}.{name}.yaml"));
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if want != got {
                failures.push(format!("{} differs:\n{got}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn output_is_deterministic() {
    for corpus in common::CORPORA {
        let (streams, _) = common::load(corpus);
        for (_, opts) in common::configs() {
            let a = render(&common::run(&streams, &opts));
            let b = render(&common::run(&streams, &opts));
            assert_eq!(a, b);
        }
    }
}
