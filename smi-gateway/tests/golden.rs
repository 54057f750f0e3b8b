//! Golden outputs: the repository's fixtures migrated with each mesh, objects then losses and
//! notes, compared with `tests/golden/<corpus>.<mesh>.yaml`; and the vendored corpora
//! (`testdata/upstream/examples`, one unit per YAML block of the spec; `testdata/realworld`, one
//! unit per file) with each mesh, in `tests/golden/{upstream-examples,realworld}.<config>.yaml`.
//! `UPDATE_GOLDEN=1 cargo test -p smi-gateway --test golden` rewrites them all (review the
//! diff: names, order, losses).

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

// ---- the vendored corpora: the upstream spec's examples and the real-world manifests ----

/// Totals over a corpus: SMI objects in, objects out by kind, losses by kind and by the SMI
/// kind they belong to, notes, documents that did not parse.
#[derive(Default)]
struct Totals {
    units: usize,
    inputs: usize,
    unparsed: usize,
    out_by_kind: std::collections::BTreeMap<String, usize>,
    losses_by_kind: std::collections::BTreeMap<&'static str, usize>,
    losses_by_source_kind: std::collections::BTreeMap<String, usize>,
    notes: usize,
}

impl Totals {
    fn add(&mut self, m: &smi_gateway::Migration, unparsed: usize) {
        self.units += 1;
        self.inputs += m.inputs;
        self.unparsed += unparsed;
        for o in &m.objects {
            *self.out_by_kind.entry(o.kind().to_owned()).or_default() += 1;
        }
        for l in &m.losses {
            *self.losses_by_kind.entry(l.kind.as_str()).or_default() += 1;
            *self
                .losses_by_source_kind
                .entry(l.source.kind.clone())
                .or_default() += 1;
        }
        self.notes += m.notes.len();
    }

    fn render(&self) -> String {
        let join = |it: Vec<(String, usize)>| -> String {
            if it.is_empty() {
                "none".into()
            } else {
                it.into_iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let out: usize = self.out_by_kind.values().sum();
        let losses: usize = self.losses_by_kind.values().sum();
        format!(
            "# totals: {} unit(s), {} SMI object(s) in, {} object(s) out, {} loss(es), {} note(s), {} document(s) that do not parse\n\
             # objects out by kind: {}\n\
             # losses by kind: {}\n\
             # losses by SMI kind: {}\n",
            self.units,
            self.inputs,
            out,
            losses,
            self.notes,
            self.unparsed,
            join(
                self.out_by_kind
                    .iter()
                    .map(|(k, n)| (k.clone(), *n))
                    .collect()
            ),
            join(
                self.losses_by_kind
                    .iter()
                    .map(|(k, n)| ((*k).to_owned(), *n))
                    .collect()
            ),
            join(
                self.losses_by_source_kind
                    .iter()
                    .map(|(k, n)| (k.clone(), *n))
                    .collect()
            ),
        )
    }
}

/// The golden text of a corpus under one configuration: the totals, then each unit with its
/// losses, notes and objects.
fn render_corpus(
    name: &str,
    units: &[common::Unit],
    config: &str,
    opts: &smi_gateway::Options,
) -> (String, Totals) {
    let mut totals = Totals::default();
    let mut body = String::new();
    for u in units {
        let (m, unparsed) = common::run_unit(u, opts);
        // Nothing vanishes: a unit with SMI objects has output or says what it lost.
        assert!(
            m.inputs == 0 || !m.objects.is_empty() || !m.losses.is_empty(),
            "{}: {} SMI object(s) in, nothing out and no loss",
            u.label,
            m.inputs
        );
        totals.add(&m, unparsed.len());
        let _ = writeln!(body, "---\n# ==== {}", u.label);
        if u.files.len() > 1 || u.files[0].0 != u.label {
            for (f, implied) in &u.files {
                let _ = writeln!(
                    body,
                    "# file {f}{}",
                    implied
                        .as_ref()
                        .map(|a| format!(" (apiVersion {a} when it names none)"))
                        .unwrap_or_default()
                );
            }
        }
        for e in &unparsed {
            let e = e.replace('\n', " ");
            let _ = writeln!(body, "# does not parse, not migrated: {e}");
        }
        body.push_str(&render(&m));
    }
    let head = format!(
        "# {name} migrated unit by unit with {config} (tests/golden.rs; UPDATE_GOLDEN=1 rewrites)\n{}",
        totals.render()
    );
    (head + &body, totals)
}

/// Goldens of the vendored corpora, per configuration (see `common::corpus_configs`):
/// `tests/golden/upstream-examples.<config>.yaml`, `tests/golden/realworld.<config>.yaml`. Each
/// starts with the corpus's totals (objects in and out, losses by kind and by SMI kind,
/// documents that do not parse), lists every loss and note of each unit, and is a valid YAML
/// stream. A unit with SMI objects has output or losses: nothing vanishes.
#[test]
fn golden_outputs_of_the_vendored_corpora() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = common::root().join("smi-gateway/tests/golden");
    let mut failures = Vec::new();
    for (name, units) in [
        ("upstream-examples", common::upstream_units()),
        ("realworld", common::realworld_units()),
    ] {
        for (config, args, opts) in common::corpus_configs() {
            let (got, totals) = render_corpus(name, &units, args, &opts);
            eprintln!("{name} {args}:\n{}", totals.render());
            for doc in got.split("\n---\n") {
                let _: serde_json::Value = serde_norway::from_str(doc)
                    .unwrap_or_else(|e| panic!("{name}.{config}: not YAML: {e}\n{doc}"));
            }
            let path = dir.join(format!("{name}.{config}.yaml"));
            if update {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if want != got {
                failures.push(format!(
                    "{} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
