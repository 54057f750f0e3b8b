//! Differential verdicts: the API server and smi-validate judge the same objects alike.
//!
//! Every SMI object in the repository's YAML files (upstream examples, fixtures, real-world
//! look-alikes, fuzz seeds, `e2e/testdata/verdicts/`) and [`GENERATED_PER_VERSION`] generated
//! objects per kind×version (`smi_e2e::generate`: schema-driven, biased to the rules'
//! boundaries) are sent to the server with `dryRun=All`, under `fieldValidation=Strict` (what
//! `kubectl apply` sends) and `Warn`.
//!
//! **Size.** `SMI_E2E_GENERATED=N` sets the generated objects per kind×version (default
//! [`GENERATED_PER_VERSION`], the full run of the README's third command: 20 kind×versions, so
//! 20,000 objects and 40,000 dry runs, 3.5–6.5 minutes on 2 cores; `.ci/run` runs it);
//! `SMI_E2E_GENERATED=ci`, a quick local check, is [`CI_GENERATED_PER_VERSION`] (under 2 minutes). Generation is deterministic
//! (proptest's fixed-seed runner, no seed from the clock): a size gives the same objects on
//! every run, and a smaller size gives a prefix of a larger one's objects of each kind×version
//! and source, so a disagreement found in CI is found again by the full run.
//!
//! * Strict: the server accepts ⇔ smi-validate with `strict` finds no error.
//! * Warn: the server accepts ⇔ smi-validate with `fieldValidation=Warn` finds no error, and
//!   the fields the server warns it pruned are exactly smi-validate's SMI1204 warnings.
//! * smi-validate's default options agree with Strict (a default `kubectl apply`).
//!
//! Each kind×version is served by its own single-version CRD (group `<version>.<group>`, no
//! conversion) built from that version's schema in `smi_types::crd::generate(AllVersions)`:
//! a server-side dry run encodes the object to the storage version, so with the real
//! multi-version CRDs every non-storage version would go through the conversion webhook. The
//! verdict depends on the version's schema and CEL rules only, which are the shipped ones.
//!
//! Deliberate differences (rules smi-validate has and the server does not) are in
//! [`DELIBERATE`], each with its reason; any other disagreement fails the test and is listed
//! (also written to `target/e2e/verdicts-disagreements.txt`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use smi_e2e::generate::{generate, mutation_strategy, object_strategy};
use smi_e2e::smi_types::crd::{self, Flavour};
use smi_e2e::smi_validate::{self, Code, Diagnostic, Options, Severity, Target};
use smi_e2e::{Cluster, FieldValidation, Outcome};

/// Generated objects per kind×version (override with `SMI_E2E_GENERATED`).
const GENERATED_PER_VERSION: usize = 1000;
/// Generated objects per kind×version of the quick check (`SMI_E2E_GENERATED=ci`).
const CI_GENERATED_PER_VERSION: usize = 150;
/// Dry-run requests in flight at once.
const CONCURRENCY: usize = 16;
/// Boundary objects of this test (judged as they are, not mutated).
const BOUNDARY_DIR: &str = "e2e/testdata/verdicts/";
/// Namespace of the generated objects and of fixtures that name none.
const NAMESPACE: &str = "smi-e2e-verdicts";

/// Which side is stricter in a deliberate difference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stricter {
    /// smi-validate reports an error the server has no rule for.
    Offline,
    /// The server refuses what smi-validate only warns about.
    Server,
}

/// The deliberate differences: lint-level rules smi-validate has and the API server does not
/// (or the reverse). A disagreement is excused only when smi-validate's report on that object
/// carries one of these codes: for [`Stricter::Offline`], removing these codes' errors turns
/// smi-validate's verdict into the server's; for [`Stricter::Server`], the object draws this
/// code (a warning) and the server refuses it.
/// (code, stricter side, which comparison: `true` = Strict/Warn, `false` = only default options vs Strict, reason)
const DELIBERATE: &[(&str, Stricter, bool, &str)] = &[
    (
        "SMI1305",
        Stricter::Offline,
        true,
        "pathRegex must compile as an RE2 regex; the CRD stores any string (CEL cannot test that a \
         string compiles), and a mesh would fail on it when programming the route",
    ),
    (
        "SMI1306",
        Stricter::Offline,
        true,
        "header value regexes, as pathRegex",
    ),
    (
        "SMI1307",
        Stricter::Offline,
        true,
        "a header named twice in one match (`[{app: a}, {app: b}]`) is ambiguous; the CRD's list of \
         one-key maps has no rule across items",
    ),
    (
        "SMI1507",
        Stricter::Server,
        true,
        "a template placeholder in a name or namespace (`$NAME`, `<NAMESPACE>`): smi-validate lints \
         unrendered templates with a warning; the server refuses the unrendered name",
    ),
    (
        "SMI1508",
        Stricter::Server,
        false,
        "headers in map form: the default target accepts both wire forms with this warning \
         (smi-controller-sdk's CRDs take the map); the generated CRDs, like smi-sdk-go's, take the \
         list, and the Strict/Warn comparison runs smi-validate with `--target sdk`, where it is an error",
    ),
];

fn deliberate(code: Code, stricter: Stricter, strict_warn: bool) -> bool {
    DELIBERATE
        .iter()
        .any(|(c, s, sw, _)| *c == code.as_str() && *s == stricter && (*sw || !strict_warn))
}

/// One object to judge and where it came from.
struct Case {
    origin: String,
    object: Value,
}

// ---------------------------------------------------------------- inputs

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if p.is_dir() {
            if !matches!(name, "target" | ".git" | "node_modules" | "controlplane") {
                yaml_files(&p, out);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(p);
        }
    }
}

/// Splits a YAML stream at `---` lines (each document parsed alone, so one broken document
/// does not hide the others).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") || line == "..." {
            docs.push(String::new());
        } else {
            let last = docs.last_mut().expect("never empty");
            last.push_str(line);
            last.push('\n');
        }
    }
    docs
}

const SMI_CRD_GROUPS: &[&str] = &[
    "access.smi-spec.io",
    "specs.smi-spec.io",
    "split.smi-spec.io",
    "perf.smi-spec.io",
];

fn is_smi_crd_object(v: &Value) -> bool {
    let api_version = v["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.split('/').next().unwrap_or_default();
    SMI_CRD_GROUPS.contains(&group) && v["kind"].is_string()
}

/// Every SMI CRD object in the repository's YAML files.
fn repo_cases() -> (Vec<Case>, usize) {
    let root = smi_e2e::workspace_root();
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let mut cases = Vec::new();
    let mut unparsable = 0;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let rel = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
        for (i, doc) in documents(&text).into_iter().enumerate() {
            if doc.trim().is_empty() {
                continue;
            }
            match serde_saphyr::from_str::<Value>(&doc) {
                Ok(v) if is_smi_crd_object(&v) => cases.push(Case {
                    origin: format!("{rel}#{i}"),
                    object: v,
                }),
                Ok(_) => {}
                Err(_) => unparsable += 1,
            }
        }
    }
    (cases, unparsable)
}

/// (group, version, kind, schema) of every CRD version.
fn versions() -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for c in crd::generate(Flavour::AllVersions) {
        for v in &c.spec.versions {
            let schema = serde_json::to_value(
                v.schema
                    .as_ref()
                    .and_then(|s| s.open_api_v3_schema.as_ref())
                    .expect("every version has a schema"),
            )
            .expect("schemas serialise");
            out.push((
                c.spec.group.clone(),
                v.name.clone(),
                c.spec.names.kind.clone(),
                schema,
            ));
        }
    }
    out
}

/// Per kind×version: half from the schema, half by mutating the repository's objects of that
/// kind and version (all from the schema when there are none).
fn generated_cases(per_version: usize, repo: &[Case]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (group, version, kind, schema) in versions() {
        let api_version = format!("{group}/{version}");
        // `e2e/testdata/verdicts/` holds boundary objects, most of them invalid on purpose: they
        // are judged as they are, not used as seeds (they would tilt the mutated half to
        // objects the server refuses).
        let seeds: Vec<Value> = repo
            .iter()
            .filter(|c| {
                c.object["apiVersion"] == api_version.as_str()
                    && c.object["kind"] == kind.as_str()
                    && !c.origin.starts_with(BOUNDARY_DIR)
            })
            .map(|c| c.object.clone())
            .collect();
        let from_seeds = if seeds.is_empty() { 0 } else { per_version / 2 };
        let strategy = object_strategy(&schema, &api_version, &kind, NAMESPACE);
        for (i, object) in generate(&strategy, per_version - from_seeds)
            .into_iter()
            .enumerate()
        {
            cases.push(Case {
                origin: format!("generated {kind} {version} #{i} (from the schema)"),
                object,
            });
        }
        if from_seeds > 0 {
            let strategy = mutation_strategy(seeds, NAMESPACE);
            for (i, object) in generate(&strategy, from_seeds).into_iter().enumerate() {
                cases.push(Case {
                    origin: format!(
                        "generated {kind} {version} #{i} (a repository object mutated)"
                    ),
                    object,
                });
            }
        }
    }
    cases
}

// ---------------------------------------------------------------- the server side

/// One single-version CRD per kind×version, group `<version>.<group>`.
fn per_version_crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    let mut out = Vec::new();
    for c in crd::generate(Flavour::AllVersions) {
        for v in &c.spec.versions {
            let mut one = c.clone();
            let group = format!("{}.{}", v.name, c.spec.group);
            one.metadata.name = Some(format!("{}.{group}", c.spec.names.plural));
            one.spec.group = group;
            one.spec.conversion = None;
            one.spec.names.short_names = None;
            one.spec.names.categories = None;
            let mut version = v.clone();
            version.served = true;
            version.storage = true;
            one.spec.versions = vec![version];
            out.push(one);
        }
    }
    out
}

/// The object as sent to the per-version CRD: group prefixed with the version.
fn server_form(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(av) = object["apiVersion"].as_str()
        && let Some((group, version)) = av.split_once('/')
    {
        o["apiVersion"] = json!(format!("{version}.{group}/{version}"));
    }
    o
}

#[derive(Clone, Debug)]
struct ServerVerdict {
    strict: Outcome,
    warn: Outcome,
}

fn not_served(e: &smi_e2e::Error) -> Outcome {
    Outcome {
        status: 404,
        reason: "NotFound".into(),
        message: format!("not served: {e}"),
        causes: Vec::new(),
        warnings: Vec::new(),
        object: None,
    }
}

async fn judge_on_server(
    cluster: Arc<Cluster>,
    objects: Vec<Value>,
) -> (Vec<ServerVerdict>, Duration) {
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, object) in objects.into_iter().enumerate() {
        let cluster = cluster.clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("never closed");
            let run = async |fv| match cluster.dry_run(&object, fv).await {
                Ok(o) => o,
                Err(e @ smi_e2e::Error::Protocol(_)) => not_served(&e),
                Err(e) => panic!("dry run of object {i}: {e}"),
            };
            let strict = run(FieldValidation::Strict).await;
            let warn = run(FieldValidation::Warn).await;
            (i, ServerVerdict { strict, warn })
        });
    }
    let mut out: Vec<Option<ServerVerdict>> = vec![None; set.len()];
    while let Some(r) = set.join_next().await {
        let (i, v) = r.expect("dry-run task");
        out[i] = Some(v);
    }
    let elapsed = started.elapsed();
    (
        out.into_iter()
            .map(|v| v.expect("every task answered"))
            .collect(),
        elapsed,
    )
}

// ---------------------------------------------------------------- the offline side

#[derive(Clone, Debug, Default)]
struct OfflineVerdict {
    /// Errors with `strict` and `--target sdk`, SMI1204 left out.
    errors: Vec<Diagnostic>,
    /// SMI1204 paths (unknown fields, pruned by the server).
    unknown: BTreeSet<String>,
    /// Warnings with `strict` and `--target sdk`.
    warnings: Vec<Diagnostic>,
    /// Errors with `fieldValidation=Warn` and `--target sdk` (a run of its own: under Strict an
    /// unknown field is a structural error, and the CEL rules are not evaluated after one).
    warn_errors: Vec<Diagnostic>,
    /// Warnings with `fieldValidation=Warn`, SMI1204 left out.
    warn_warnings: Vec<Diagnostic>,
    /// SMI1204 paths of the Warn run (fields the server prunes and warns about).
    warn_unknown: BTreeSet<String>,
    /// Errors of the default options.
    default_errors: Vec<Diagnostic>,
    /// Warnings of the default options.
    default_warnings: Vec<Diagnostic>,
}

fn by_object(report: smi_validate::Report, n: usize) -> Vec<(Vec<Diagnostic>, Vec<Diagnostic>)> {
    let mut out = vec![(Vec::new(), Vec::new()); n];
    for d in report.diagnostics {
        let i: usize = d
            .file
            .strip_prefix("<object ")
            .and_then(|s| s.strip_suffix('>'))
            .and_then(|s| s.parse().ok())
            .expect("validate_values names files <object i>");
        if d.severity == Severity::Error {
            out[i].0.push(d);
        } else {
            out[i].1.push(d);
        }
    }
    out
}

/// The options of the Strict/Warn comparison: unknown fields reported, and the generated CRDs'
/// wire form of `headers` (a list), which `--target sdk` checks.
fn strict_options() -> Options {
    Options::new()
        .strict(true)
        .skip_cross(true)
        .target(Target::Sdk)
}

fn judge_offline(objects: &[Value]) -> (Vec<OfflineVerdict>, Duration) {
    let started = Instant::now();
    let strict = smi_validate::validate_values(objects.iter().cloned(), &strict_options());
    let warn = smi_validate::validate_values(
        objects.iter().cloned(),
        &strict_options().field_validation(smi_validate::FieldValidation::Warn),
    );
    let default =
        smi_validate::validate_values(objects.iter().cloned(), &Options::new().skip_cross(true));
    let elapsed = started.elapsed();
    let strict = by_object(strict, objects.len());
    let warn = by_object(warn, objects.len());
    let default = by_object(default, objects.len());
    let verdicts = strict
        .into_iter()
        .zip(warn)
        .zip(default)
        .map(
            |(
                ((errors, warnings), (warn_errors, warn_all)),
                (default_errors, default_warnings),
            )| {
                let mut v = OfflineVerdict {
                    warnings,
                    warn_errors,
                    default_errors,
                    default_warnings,
                    ..OfflineVerdict::default()
                };
                for w in warn_all {
                    if w.code == Code::UnknownField {
                        v.warn_unknown.insert(w.path.clone().unwrap_or_default());
                    } else {
                        v.warn_warnings.push(w);
                    }
                }
                for e in errors {
                    if e.code == Code::UnknownField {
                        v.unknown.insert(e.path.clone().unwrap_or_default());
                    } else {
                        v.errors.push(e);
                    }
                }
                v
            },
        )
        .collect();
    (verdicts, elapsed)
}

// ---------------------------------------------------------------- comparison

/// The fields the server says it pruned (`unknown field "spec.x"` warnings).
fn pruned(o: &Outcome) -> BTreeSet<String> {
    o.warnings
        .iter()
        .filter_map(|w| w.strip_prefix("unknown field \""))
        .map(|w| w.trim_end_matches('"').to_owned())
        .collect()
}

fn diag_list(ds: &[Diagnostic]) -> String {
    ds.iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d.code.as_str(),
                d.path.as_deref().unwrap_or(""),
                d.message
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

struct Disagreement {
    /// Short class for grouping: "<mode>: server accepts, smi-validate rejects (codes)".
    class: String,
    detail: String,
}

/// Whether the offline side accepts, given its errors, and whether a disagreement with the
/// server's verdict is one of the [`DELIBERATE`] differences.
fn verdict(
    errors: &[&Diagnostic],
    warnings: &[Diagnostic],
    server_accepts: bool,
    strict_warn: bool,
) -> (bool, bool) {
    let accepts = errors.is_empty();
    if accepts == server_accepts {
        return (accepts, false);
    }
    let excused = if server_accepts {
        errors
            .iter()
            .all(|e| deliberate(e.code, Stricter::Offline, strict_warn))
    } else {
        warnings
            .iter()
            .chain(errors.iter().copied())
            .any(|w| deliberate(w.code, Stricter::Server, strict_warn))
    };
    (accepts, excused)
}

fn codes(ds: &[&Diagnostic]) -> String {
    ds.iter()
        .map(|d| d.code.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Default)]
struct Tally {
    disagreements: Vec<Disagreement>,
    default_disagreements: Vec<Disagreement>,
    /// Disagreements excused by [`DELIBERATE`], per code set.
    excused: BTreeMap<String, usize>,
}

fn compare(case: &Case, server: &ServerVerdict, offline: &OfflineVerdict, tally: &mut Tally) {
    let kind = format!(
        "{} {}",
        case.object["kind"].as_str().unwrap_or("?"),
        case.object["apiVersion"].as_str().unwrap_or("?")
    );
    let object = serde_json::to_string(&case.object).unwrap_or_default();
    let detail = |mode: &str, o: &Outcome, ds: &[&Diagnostic], unknown: &BTreeSet<String>| {
        let ds: Vec<Diagnostic> = ds.iter().map(|d| (*d).clone()).collect();
        format!(
            "{} [{mode}]\n    object: {}\n    server: {}\n    smi-validate: {}{}",
            case.origin,
            if object.len() > 600 {
                format!("{}…", object.chars().take(600).collect::<String>())
            } else {
                object.clone()
            },
            o.summary(),
            if ds.is_empty() {
                "no error".to_owned()
            } else {
                diag_list(&ds)
            },
            if unknown.is_empty() {
                String::new()
            } else {
                format!(" | unknown fields {unknown:?}")
            }
        )
    };
    let errors: Vec<&Diagnostic> = offline.errors.iter().collect();
    let none = BTreeSet::new();

    // Strict: unknown fields are errors.
    let mut strict_errors = errors.clone();
    let unknown_diag;
    if !offline.unknown.is_empty() {
        unknown_diag = Diagnostic::new(Code::UnknownField, format!("{:?}", offline.unknown));
        strict_errors.push(&unknown_diag);
    }
    let (ok, excused) = verdict(
        &strict_errors,
        &offline.warnings,
        server.strict.accepted(),
        true,
    );
    if ok != server.strict.accepted() {
        if excused {
            *tally
                .excused
                .entry(format!("Strict {}", codes(&strict_errors)))
                .or_default() += 1;
        } else {
            tally.disagreements.push(Disagreement {
                class: if server.strict.accepted() {
                    format!(
                        "Strict: server accepts, smi-validate rejects ({}) [{kind}]",
                        codes(&strict_errors)
                    )
                } else {
                    format!(
                        "Strict: server rejects ({}), smi-validate accepts [{kind}]",
                        server.strict.reason
                    )
                },
                detail: detail("Strict", &server.strict, &errors, &offline.unknown),
            });
        }
    }

    // Warn: unknown fields are pruned, and the server says which.
    let errors: Vec<&Diagnostic> = offline.warn_errors.iter().collect();
    let (ok, excused) = verdict(
        &errors,
        &offline.warn_warnings,
        server.warn.accepted(),
        true,
    );
    if ok != server.warn.accepted() {
        if excused {
            *tally
                .excused
                .entry(format!("Warn {}", codes(&errors)))
                .or_default() += 1;
        } else {
            tally.disagreements.push(Disagreement {
                class: if server.warn.accepted() {
                    format!(
                        "Warn: server accepts, smi-validate rejects ({}) [{kind}]",
                        codes(&errors)
                    )
                } else {
                    format!(
                        "Warn: server rejects ({}), smi-validate accepts [{kind}]",
                        server.warn.reason
                    )
                },
                detail: detail("Warn", &server.warn, &errors, &offline.warn_unknown),
            });
        }
    } else if ok && pruned(&server.warn) != offline.warn_unknown {
        tally.disagreements.push(Disagreement {
            class: format!("Warn: pruned fields differ [{kind}]"),
            detail: format!(
                "{}\n    server pruned {:?}, smi-validate SMI1204 {:?}",
                detail("Warn", &server.warn, &errors, &offline.warn_unknown),
                pruned(&server.warn),
                offline.warn_unknown
            ),
        });
    }

    // Default options vs a default `kubectl apply` (Strict).
    let default_errors: Vec<&Diagnostic> = offline.default_errors.iter().collect();
    let (ok, excused) = verdict(
        &default_errors,
        &offline.default_warnings,
        server.strict.accepted(),
        false,
    );
    if ok != server.strict.accepted() {
        if excused {
            *tally
                .excused
                .entry(format!("default {}", codes(&default_errors)))
                .or_default() += 1;
        } else {
            tally.default_disagreements.push(Disagreement {
                class: if server.strict.accepted() {
                    format!(
                        "default options reject ({}), server (Strict) accepts [{kind}]",
                        codes(&default_errors)
                    )
                } else {
                    format!(
                        "default options accept, server (Strict) rejects ({}) [{kind}]",
                        server.strict.reason
                    )
                },
                detail: detail(
                    "default options vs Strict",
                    &server.strict,
                    &default_errors,
                    &none,
                ),
            });
        }
    }
}

fn report(title: &str, ds: &[Disagreement], examples: usize) -> String {
    let mut classes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in ds {
        classes.entry(&d.class).or_default().push(&d.detail);
    }
    let mut s = format!(
        "{title}: {} disagreements in {} classes\n",
        ds.len(),
        classes.len()
    );
    for (class, details) in &classes {
        s.push_str(&format!("\n  {} × {class}\n", details.len()));
        for d in details.iter().take(examples) {
            s.push_str(&format!("    e.g. {d}\n"));
        }
    }
    s
}

fn write_report(name: &str, text: &str) {
    let dir = smi_e2e::workspace_root().join("target").join("e2e");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(name), text);
}

// ---------------------------------------------------------------- the test

struct Judged {
    cases: Vec<Case>,
    server: Vec<ServerVerdict>,
    offline: Vec<OfflineVerdict>,
}

async fn judge_all(cluster: Arc<Cluster>, cases: Vec<Case>, label: &str) -> Judged {
    let objects: Vec<Value> = cases.iter().map(|c| server_form(&c.object)).collect();
    let namespaces: BTreeSet<String> = cases
        .iter()
        .filter_map(|c| {
            c.object["metadata"]["namespace"]
                .as_str()
                .map(str::to_owned)
        })
        .chain([NAMESPACE.to_owned()])
        .collect();
    for ns in &namespaces {
        // An invalid namespace name is the object's problem: the server's verdict says so.
        let _ = cluster.ensure_namespace(ns).await;
    }
    let (server, server_time) = judge_on_server(cluster, objects).await;
    let originals: Vec<Value> = cases.iter().map(|c| c.object.clone()).collect();
    let (offline, offline_time) = judge_offline(&originals);
    let n = cases.len() as f64;
    eprintln!(
        "{label}: {} objects, each under Strict and Warn.\n  server dry-run ({CONCURRENCY} in flight): {:.2} s = {:.0} objects/s ({:.0} requests/s)\n  smi-validate offline (Strict + Warn + default options: three passes, one thread): {:.3} s = {:.0} objects/s\n  offline/server objects-per-second ratio: {:.1}",
        cases.len(),
        server_time.as_secs_f64(),
        n / server_time.as_secs_f64(),
        2.0 * n / server_time.as_secs_f64(),
        offline_time.as_secs_f64(),
        n / offline_time.as_secs_f64(),
        (n / offline_time.as_secs_f64()) / (n / server_time.as_secs_f64()),
    );
    Judged {
        cases,
        server,
        offline,
    }
}

async fn setup() -> Arc<Cluster> {
    let cluster = Cluster::connect().await;
    let installs = cluster
        .install_crds(&per_version_crds())
        .await
        .unwrap_or_else(|e| panic!("installing the per-version CRDs: {e}"));
    let refused: Vec<String> = installs
        .iter()
        .filter(|i| !(i.outcome.accepted() && i.established && i.names_accepted))
        .map(|i| format!("{}: {} {:?}", i.name, i.outcome.summary(), i.conditions))
        .collect();
    assert!(
        refused.is_empty(),
        "the per-version CRDs (each version's shipped schema) are not all installed, so their objects cannot be judged (see tests/crds.rs):\n  {}",
        refused.join("\n  ")
    );
    Arc::new(cluster)
}

fn check(judged: &Judged, label: &str) {
    let mut tally = Tally::default();
    // kind×version → (server accepted, server rejected) under Strict
    let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((case, server), offline) in judged.cases.iter().zip(&judged.server).zip(&judged.offline) {
        compare(case, server, offline, &mut tally);
        let e = per_kind
            .entry(format!(
                "{} {}",
                case.object["kind"].as_str().unwrap_or("?"),
                case.object["apiVersion"].as_str().unwrap_or("?")
            ))
            .or_default();
        if server.strict.accepted() {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let accepted: usize = per_kind.values().map(|v| v.0).sum();
    let mut summary = format!(
        "{label}: {} objects, server (Strict) accepted {accepted}, rejected {}; disagreements: {} (Strict/Warn), {} (default options vs Strict); deliberate differences excused: {:?}\n",
        judged.cases.len(),
        judged.cases.len() - accepted,
        tally.disagreements.len(),
        tally.default_disagreements.len(),
        tally.excused
    );
    for (k, (a, r)) in &per_kind {
        summary.push_str(&format!("  {k}: accepted {a}, rejected {r}\n"));
    }
    eprint!("{summary}");
    let text = |examples| {
        format!(
            "{summary}\n{}\n{}",
            report(
                &format!("{label}, Strict and Warn"),
                &tally.disagreements,
                examples
            ),
            report(
                &format!("{label}, default options vs Strict"),
                &tally.default_disagreements,
                examples
            )
        )
    };
    let file = format!("verdicts-{}.txt", label.replace(' ', "-"));
    write_report(&file, &text(usize::MAX));
    if label.starts_with("generated") {
        // The generator must hit both sides of the rules for every kind×version.
        for (k, (a, r)) in &per_kind {
            let n = a + r;
            assert!(
                *a * 20 >= n && *r * 20 >= n,
                "{k}: the generator is degenerate (server accepted {a}, rejected {r})"
            );
        }
    }
    let text = text(2);
    assert!(
        tally.disagreements.is_empty() && tally.default_disagreements.is_empty(),
        "{text}\n(full list: target/e2e/{file})"
    );
}

/// The size from `SMI_E2E_GENERATED`: unset or empty → [`GENERATED_PER_VERSION`], `ci` →
/// [`CI_GENERATED_PER_VERSION`], else a positive number (anything else stops the test: a
/// mistyped size is not silently replaced by the default).
fn generated_per_version(var: Option<&str>) -> usize {
    match var.map(str::trim) {
        None | Some("") => GENERATED_PER_VERSION,
        Some("ci") => CI_GENERATED_PER_VERSION,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!(
                "SMI_E2E_GENERATED={n:?}: expected a positive number of generated objects per kind×version, or `ci`"
            ),
        },
    }
}

/// Both halves run in one test so that the per-version CRDs are installed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_smi_validate_agree() {
    let cluster = setup().await;
    let (repo, unparsable) = repo_cases();
    eprintln!(
        "repository: {} SMI objects ({unparsable} documents not parsable as YAML, not compared)",
        repo.len()
    );
    assert!(
        repo.len() >= 50,
        "only {} SMI objects found in the repository",
        repo.len()
    );
    let per_version = generated_per_version(std::env::var("SMI_E2E_GENERATED").ok().as_deref());
    let generated = generated_cases(per_version, &repo);
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    for c in &generated {
        *per_kind
            .entry(format!("{} {}", c.object["kind"], c.object["apiVersion"]))
            .or_default() += 1;
    }
    assert!(per_kind.values().all(|n| *n >= per_version));
    let repo = judge_all(cluster.clone(), repo, "repository objects").await;
    let generated = judge_all(cluster, generated, "generated objects").await;
    // Both reports before either assertion.
    let r1 = std::panic::catch_unwind(|| check(&repo, "repository objects"));
    let r2 = std::panic::catch_unwind(|| check(&generated, "generated objects"));
    if let Err(e) = r1 {
        std::panic::resume_unwind(e);
    }
    if let Err(e) = r2 {
        std::panic::resume_unwind(e);
    }
}
