//! `smi-validate`: the command-line validator.

use clap::{Args, Parser, Subcommand, ValueEnum};
use smi_validate::output::{Format, RenderOptions, render};
use smi_validate::{FieldValidation, Limits, MAX_DEPTH_CEILING, Options, Target, Validator};
use std::collections::HashSet;
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod migrate;

/// Validate Service Mesh Interface (SMI) manifests: YAML syntax, CRD structure, CEL rules,
/// cross-object references and lints, with file:line:column diagnostics.
///
/// Exit status: 0 valid, 1 any error (or warning with --warnings-as-errors, or no SMI object
/// with --fail-on-empty), 2 usage or I/O error.
#[derive(Parser, Debug)]
#[command(name = "smi-validate", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    validate: ValidateArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the generated SMI CRDs (multi-document YAML), or with --check, check CRDs
    /// offline against the Kubernetes API server's admission rules.
    Crds {
        /// Which CRD set.
        #[arg(long, value_enum, default_value = "all-versions")]
        flavour: Flavour,
        /// Check CRDs instead of printing them: the structural-schema, OpenAPI and CEL rules
        /// (cost estimate included) kube-apiserver applies when a CRD is created. Checks the
        /// given files (YAML or JSON, multi-document; `-` for stdin), or the generated CRDs
        /// of --flavour when no file is given. Exit status: 0 all accepted, 1 a CRD would be
        /// rejected, 2 usage, I/O or parse error.
        #[arg(long)]
        check: bool,
        /// With --check: also print the estimated cost of every CEL rule.
        #[arg(long, requires = "check")]
        costs: bool,
        /// With --check: output format (text or json).
        #[arg(short, long, value_enum, default_value = "text", requires = "check")]
        output: CheckFormat,
        /// With --check: the CRD files.
        #[arg(requires = "check")]
        files: Vec<PathBuf>,
    },
    /// Convert the SMI objects of a stream to another version of their group.
    Convert {
        /// Target `group/version`, e.g. `split.smi-spec.io/v1alpha4`.
        #[arg(long)]
        to: String,
        /// What to do when a conversion loses information.
        #[arg(long, value_enum, default_value = "refuse")]
        lossy: Lossy,
        /// Input file (`-` for stdin).
        file: PathBuf,
    },
    /// Migrate SMI manifests to the Gateway API (GAMMA) and mesh policies (smi-gateway).
    Migrate(migrate::MigrateArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Flavour {
    AllVersions,
    SdkCompatible,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum CheckFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Lossy {
    Refuse,
    Report,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OutputFormat {
    Text,
    Json,
    Junit,
    Sarif,
    Tap,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum TargetArg {
    Any,
    Sdk,
    ControllerSdk,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FieldValidationArg {
    Strict,
    Warn,
    Ignore,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    /// Files or directories (recursive: .yaml, .yml, .json); `-` or nothing reads stdin.
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    output: OutputFormat,
    /// Unknown and duplicate fields: `strict` errors (the default: a default `kubectl apply` sends
    /// fieldValidation=Strict since Kubernetes 1.27), `warn` warnings (the API server prunes
    /// unknown fields and accepts), `ignore` not reported.
    #[arg(long, value_enum, default_value = "strict", value_name = "MODE")]
    field_validation: FieldValidationArg,
    /// The same as `--field-validation=strict` (the default; kept for compatibility).
    #[arg(long, conflicts_with = "field_validation")]
    strict: bool,
    /// References to objects missing from the input are errors, not warnings.
    #[arg(long)]
    require_refs: bool,
    /// Exit 1 on warnings too.
    #[arg(long)]
    warnings_as_errors: bool,
    /// Exit 1 when the input holds no SMI object.
    #[arg(long)]
    fail_on_empty: bool,
    /// Print a summary line (text output).
    #[arg(long)]
    summary: bool,
    /// Kinds to skip, comma separated: `Kind`, `group/Kind` or `group/version/Kind`
    /// (e.g. `TrafficSplit`, `split.smi-spec.io/v1alpha2/TrafficSplit`). Unknown kinds are an error.
    #[arg(long, value_delimiter = ',', value_name = "KIND[,KIND…]")]
    skip: Vec<String>,
    /// Kinds to reject (an error when present), comma separated, in the same forms as `--skip`.
    #[arg(long, value_delimiter = ',', value_name = "KIND[,KIND…]")]
    reject: Vec<String>,
    /// Portability target: `sdk` warns on headers in map form (smi-sdk-go/OSM CRDs),
    /// `controller-sdk` on headers in list form.
    #[arg(long, value_enum, default_value = "any")]
    target: TargetArg,
    /// Do not evaluate the CRDs' CEL rules.
    #[arg(long)]
    no_cel: bool,
    /// Skip the cross-object rules (SMI1401–SMI1407) and keep memory constant in the number of
    /// objects (with -o text, json or sarif); the output says they were skipped.
    #[arg(long)]
    no_cross: bool,
    /// Maximum documents per file.
    #[arg(long, value_name = "N")]
    max_documents: Option<usize>,
    /// Maximum bytes per document.
    #[arg(long, value_name = "BYTES")]
    max_document_bytes: Option<usize>,
    /// Maximum nesting depth (default 64, at most 1000).
    #[arg(long, value_name = "N", value_parser = depth_arg)]
    max_depth: Option<usize>,
    /// Maximum bytes of all scalars of a document, alias expansions included (default 16 MiB,
    /// the budget `convert` applies too).
    #[arg(long, value_name = "BYTES")]
    max_scalar_bytes_per_document: Option<usize>,
}

/// `--max-depth`: 1 to [`MAX_DEPTH_CEILING`] (deeper would run out of stack).
fn depth_arg(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if (1..=MAX_DEPTH_CEILING).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is outside 1..={MAX_DEPTH_CEILING} (the ceiling keeps the validator's tree walks within the stack)"
        ))
    }
}

/// Writes `bytes` to stdout and flushes. A failure (disk full, stdout closed) is an I/O
/// error: a message on stderr and exit 2, never a silent 0 or a panic.
fn write_stdout(cmd: &str, bytes: &[u8]) -> Result<(), ExitCode> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| {
            eprintln!("{cmd}: cannot write the output: {e}");
            ExitCode::from(2)
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Crds {
            flavour,
            check: true,
            costs,
            output,
            files,
        }) => check_crds(flavour, &files, costs, output),
        Some(Command::Crds { flavour, .. }) => crds(flavour),
        Some(Command::Convert { to, lossy, file }) => convert(&to, lossy, &file),
        Some(Command::Migrate(a)) => migrate::run(a),
        None => validate(cli.validate),
    }
}

/// Identity of a file or directory: device and inode (the canonical path elsewhere).
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata, _path: &Path) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    Ok((meta.dev(), meta.ino()))
}
#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata, path: &Path) -> io::Result<FileId> {
    std::fs::canonicalize(path)
}

/// What a directory walk has seen: every file is validated once, every directory walked once,
/// however many symbolic links lead to it.
#[derive(Default)]
struct Walk {
    dirs: HashSet<FileId>,
    files: HashSet<FileId>,
    /// The directories being walked, outermost first (a link back to one is a loop).
    ancestors: Vec<(FileId, PathBuf)>,
}

impl Walk {
    fn push_file(&mut self, path: PathBuf, out: &mut Vec<PathBuf>) {
        // a file that cannot be read is kept, for its I/O error
        let id = std::fs::metadata(&path)
            .and_then(|m| file_id(&m, &path))
            .ok();
        if id.is_none_or(|id| self.files.insert(id)) {
            out.push(path);
        }
    }

    /// The files of `path` (recursively for a directory: .yaml, .yml, .json).
    fn collect(&mut self, path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
        let meta = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => m,
            _ => {
                self.push_file(path.to_owned(), out);
                return Ok(());
            }
        };
        let id = file_id(&meta, path)?;
        if let Some((_, outer)) = self.ancestors.iter().find(|(a, _)| *a == id) {
            eprintln!(
                "smi-validate: {}: symbolic link loop (leads back to {}); not followed",
                path.display(),
                outer.display()
            );
            return Ok(());
        }
        #[allow(clippy::clone_on_copy)] // FileId is a PathBuf off unix
        let first_visit = self.dirs.insert(id.clone());
        if !first_visit {
            return Ok(()); // already walked through another link
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        self.ancestors.push((id, path.to_owned()));
        for e in entries {
            if e.is_dir() {
                if let Err(err) = self.collect(&e, out) {
                    self.ancestors.pop();
                    return Err(err);
                }
            } else if matches!(
                e.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                self.push_file(e, out);
            }
        }
        self.ancestors.pop();
        Ok(())
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    Walk::default().collect(path, out)
}

fn validate(a: ValidateArgs) -> ExitCode {
    // A misspelt kind would skip or reject nothing, silently: refuse it up front.
    for (flag, sel) in a
        .skip
        .iter()
        .map(|s| ("--skip", s))
        .chain(a.reject.iter().map(|s| ("--reject", s)))
        .filter(|(_, s)| !s.is_empty())
    {
        if let Err(e) = smi_validate::check_kind_selector(sel) {
            eprintln!("smi-validate: {flag} {e}");
            return ExitCode::from(2);
        }
    }
    let mut limits = Limits::default();
    if let Some(n) = a.max_documents {
        limits.max_documents = n;
    }
    if let Some(n) = a.max_document_bytes {
        limits.max_document_bytes = n;
    }
    if let Some(n) = a.max_depth {
        limits.max_depth = n;
    }
    if let Some(n) = a.max_scalar_bytes_per_document {
        limits.max_scalar_bytes_per_document = n;
    }
    let mut opts = Options::new()
        .field_validation(if a.strict {
            FieldValidation::Strict
        } else {
            match a.field_validation {
                FieldValidationArg::Strict => FieldValidation::Strict,
                FieldValidationArg::Warn => FieldValidation::Warn,
                FieldValidationArg::Ignore => FieldValidation::Ignore,
            }
        })
        .require_refs(a.require_refs)
        .skip(a.skip.iter().filter(|s| !s.is_empty()).cloned())
        .reject(a.reject.iter().filter(|s| !s.is_empty()).cloned())
        .target(match a.target {
            TargetArg::Any => Target::Any,
            TargetArg::Sdk => Target::Sdk,
            TargetArg::ControllerSdk => Target::ControllerSdk,
        })
        .limits(limits);
    opts.skip_cel = a.no_cel;
    opts.skip_cross = a.no_cross;
    // JUnit and TAP give every object its test case; otherwise a valid object leaves nothing
    opts.list_objects = matches!(a.output, OutputFormat::Junit | OutputFormat::Tap);
    let mut v = Validator::new(opts);
    let mut io_error = false;
    let mut walk = Walk::default();
    let inputs = if a.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        a.files
    };
    for input in inputs {
        if input.as_os_str() == "-" {
            if let Err(e) = v.validate_reader("<stdin>", io::stdin().lock()) {
                eprintln!("smi-validate: <stdin>: {e}");
                io_error = true;
            }
            continue;
        }
        let mut files = Vec::new();
        if let Err(e) = walk.collect(&input, &mut files) {
            eprintln!("smi-validate: {}: {e}", input.display());
            io_error = true;
            continue;
        }
        for f in files {
            match std::fs::File::open(&f) {
                Ok(file) => {
                    if let Err(e) = v.validate_reader(
                        &f.display().to_string(),
                        BufReader::with_capacity(64 << 10, file),
                    ) {
                        eprintln!("smi-validate: {}: {e}", f.display());
                        io_error = true;
                    }
                }
                Err(e) => {
                    eprintln!("smi-validate: {}: {e}", f.display());
                    io_error = true;
                }
            }
        }
    }
    let mut report = v.finish();
    if a.output == OutputFormat::Text {
        // the text output shows the source line, which the cross-object index does not keep
        let mut files: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.code.layer() == 5 && d.line.is_some() && d.file != "<stdin>")
            .map(|d| d.file.clone())
            .collect();
        files.sort();
        files.dedup();
        for f in files {
            if let Ok(file) = std::fs::File::open(&f) {
                let _ = report.fill_source_lines(&f, BufReader::new(file));
            }
        }
    }
    let color = a.output == OutputFormat::Text
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let format = match a.output {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Junit => Format::Junit,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Tap => Format::Tap,
    };
    let mut ro = RenderOptions::default();
    ro.color = color;
    ro.summary = a.summary;
    let text = render(&report, format, ro);
    if let Err(code) = write_stdout("smi-validate", text.as_bytes()) {
        return code;
    }
    let empty = report.summary.smi_objects == 0;
    if a.fail_on_empty && empty {
        eprintln!("smi-validate: no SMI objects found in the input");
    }
    if io_error {
        ExitCode::from(2)
    } else if !report.is_valid()
        || (a.warnings_as_errors && report.warnings().next().is_some())
        || (a.fail_on_empty && empty)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn smi_flavour(flavour: Flavour) -> smi_types::crd::Flavour {
    match flavour {
        Flavour::AllVersions => smi_types::crd::Flavour::AllVersions,
        Flavour::SdkCompatible => smi_types::crd::Flavour::SdkCompatible,
    }
}

/// `crds --check`: the offline CRD checker over files (or the generated CRDs).
fn check_crds(flavour: Flavour, files: &[PathBuf], costs: bool, format: CheckFormat) -> ExitCode {
    use smi_validate::crd_check::{self, CrdReport};
    let mut reports: Vec<(String, CrdReport)> = Vec::new();
    let mut io_error = false;
    if files.is_empty() {
        for crd in smi_types::crd::generate(smi_flavour(flavour)) {
            reports.push(("<generated>".into(), crd_check::check_typed(&crd)));
        }
    } else {
        let mut paths = Vec::new();
        for f in files {
            if f.as_os_str() == "-" {
                paths.push(f.clone());
            } else if let Err(e) = collect(f, &mut paths) {
                eprintln!("smi-validate crds --check: {}: {e}", f.display());
                io_error = true;
            }
        }
        for p in paths {
            let name = if p.as_os_str() == "-" {
                "<stdin>".to_string()
            } else {
                p.display().to_string()
            };
            let text = if p.as_os_str() == "-" {
                let mut s = String::new();
                io::Read::read_to_string(&mut io::stdin().lock(), &mut s).map(|_| s)
            } else {
                std::fs::read_to_string(&p)
            };
            let text = match text {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("smi-validate crds --check: {name}: {e}");
                    io_error = true;
                    continue;
                }
            };
            match crd_check::check_str(&text) {
                Ok(rs) => reports.extend(rs.into_iter().map(|r| (name.clone(), r))),
                Err(e) => {
                    eprintln!("smi-validate crds --check: {name}: {e}");
                    io_error = true;
                }
            }
        }
    }
    let rejected = reports.iter().filter(|(_, r)| !r.is_accepted()).count();
    let mut out: Vec<u8> = Vec::new();
    match format {
        CheckFormat::Text => {
            for (file, r) in &reports {
                let verdict = if r.is_accepted() {
                    "accepted"
                } else {
                    "rejected"
                };
                let _ = writeln!(
                    out,
                    "{file}: document {}: CustomResourceDefinition {}: {verdict}",
                    r.document, r.name
                );
                for e in &r.errors {
                    let _ = writeln!(out, "  error: {e}");
                }
                for w in &r.warnings {
                    let _ = writeln!(out, "  warning: {w}");
                }
                if costs {
                    for c in &r.rule_costs {
                        let _ = writeln!(
                            out,
                            "  cost: {} × {} = {} (limit {}): {}",
                            c.max_cost,
                            c.cardinality,
                            c.total,
                            crd_check::STATIC_ESTIMATED_COST_LIMIT,
                            c.field
                        );
                    }
                    for (p, t) in &r.schema_costs {
                        let _ = writeln!(
                            out,
                            "  cost total: {t} (limit {}): {p}",
                            crd_check::STATIC_ESTIMATED_CRD_COST_LIMIT
                        );
                    }
                }
            }
            let _ = writeln!(
                out,
                "{} CRDs checked, {rejected} would be rejected",
                reports.len()
            );
        }
        CheckFormat::Json => {
            let list: Vec<serde_json::Value> = reports
                .iter()
                .map(|(file, r)| {
                    serde_json::json!({
                        "file": file,
                        "document": r.document,
                        "name": r.name,
                        "accepted": r.is_accepted(),
                        "errors": r.errors.iter().map(|e| serde_json::json!({
                            "field": e.field,
                            "reason": e.kind.reason(),
                            "message": e.to_string(),
                        })).collect::<Vec<_>>(),
                        "warnings": r.warnings,
                        "ruleCosts": r.rule_costs.iter().map(|c| serde_json::json!({
                            "field": c.field,
                            "rule": c.rule,
                            "maxCost": c.max_cost,
                            "cardinality": c.cardinality,
                            "total": c.total,
                        })).collect::<Vec<_>>(),
                        "schemaCosts": r.schema_costs.iter().map(|(p, t)| serde_json::json!({"field": p, "total": t})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"crds": list}))
                    .unwrap_or_default()
            );
        }
    }
    if let Err(code) = write_stdout("smi-validate crds --check", &out) {
        return code;
    }
    if io_error {
        ExitCode::from(2)
    } else if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn crds(flavour: Flavour) -> ExitCode {
    let f = smi_flavour(flavour);
    let yaml = smi_types::crd::to_yaml(&smi_types::crd::generate(f));
    match write_stdout("smi-validate crds", yaml.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn convert(to: &str, lossy: Lossy, file: &Path) -> ExitCode {
    use smi_types::convert::Lossy as L;
    use smi_types::{Document, SmiObject};
    // the typed parser's input limit stops the read (a 2 GB file was read whole first)
    let limit = smi_types::Limits::default().max_input_bytes;
    let name = if file.as_os_str() == "-" {
        "<stdin>".to_owned()
    } else {
        file.display().to_string()
    };
    let read = |r: &mut dyn Read| -> io::Result<String> {
        let mut s = String::new();
        r.take(limit as u64 + 1).read_to_string(&mut s)?;
        Ok(s)
    };
    let text = if file.as_os_str() == "-" {
        read(&mut io::stdin().lock())
    } else {
        std::fs::File::open(file).and_then(|mut f| read(&mut f))
    };
    let text = match text {
        Ok(t) if t.len() > limit => {
            eprintln!(
                "smi-validate convert: {name}: the input is larger than the limit of {limit} bytes; nothing converted"
            );
            return ExitCode::from(1);
        }
        Ok(t) => t,
        Err(e) => {
            eprintln!("smi-validate convert: {name}: {e}");
            return ExitCode::from(2);
        }
    };
    let Some((group, _)) = to.split_once('/') else {
        eprintln!(
            "smi-validate convert: --to must be GROUP/VERSION, e.g. split.smi-spec.io/v1alpha4"
        );
        return ExitCode::from(2);
    };
    let docs = match smi_types::parse_yaml_stream(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "smi-validate convert: {}: {e} (run `smi-validate {}` for details)",
                file.display(),
                file.display()
            );
            return ExitCode::from(1);
        }
    };
    let mode = match lossy {
        Lossy::Refuse => L::Refuse,
        Lossy::Report => L::Report,
    };
    let mut out_docs = Vec::with_capacity(docs.len());
    let mut failed = false;
    let mut converted = 0usize;
    for d in docs {
        match d {
            Document::Smi(o) if o.api_version().split_once('/').map(|(g, _)| g) == Some(group) => {
                let id = format!("{}/{}", o.kind(), o.name().unwrap_or("?"));
                match SmiObject::convert_to(&o, to, mode) {
                    Ok(c) => {
                        for l in &c.lost {
                            eprintln!("smi-validate convert: {id}: lost {l}");
                        }
                        converted += 1;
                        out_docs.push(Document::Smi(Box::new(c.value)));
                    }
                    Err(e) => {
                        eprintln!("smi-validate convert: {id}: {e}");
                        failed = true;
                    }
                }
            }
            other => out_docs.push(other),
        }
    }
    if failed {
        eprintln!(
            "smi-validate convert: nothing written (use --lossy report to convert anyway and list the losses)"
        );
        return ExitCode::from(1);
    }
    match smi_types::to_yaml_stream(&out_docs) {
        Ok(y) => {
            if let Err(code) = write_stdout("smi-validate convert", y.as_bytes()) {
                return code;
            }
            if converted == 0 {
                eprintln!("smi-validate convert: no {group} object in the input");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("smi-validate convert: {e}");
            ExitCode::from(1)
        }
    }
}
