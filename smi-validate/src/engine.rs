//! The streaming validator: feeds documents through the layers and collects the [`Report`].

use crate::cross::Index;
use crate::diagnostic::{Code, Diagnostic, FileRecord, Report, Severity};
use crate::options::Options;
use crate::path::Path;
use crate::routing::{self, ApiKind, Route, Routing};
use crate::rules::RegexVerdicts;
use crate::structure::{self, Finding, Patterns};
use crate::yaml::{self, Doc, Parsed, Splitter, YamlIssue};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, BufRead};
use std::sync::Arc;

/// Validates any number of streams, then the cross-object rules.
///
/// ```
/// use smi_validate::{Options, Validator};
/// let mut v = Validator::new(Options::default());
/// v.validate_str("a.yaml", "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: s}\nspec: {service: web, backends: [{service: web-v1, weight: 0}]}\n");
/// let report = v.finish();
/// assert!(report.is_valid());
/// assert_eq!(report.with_code(smi_validate::Code::AllWeightsZero).count(), 1);
/// ```
pub struct Validator {
    opts: Options,
    report: Report,
    index: Index,
    pats: Patterns,
    regexes: RegexVerdicts,
    cel: HashMap<usize, Option<kube_cel::CompiledSchema>>,
    cel_validator: Option<kube_cel::Validator>,
    /// diagnostics of the current document, and how many were dropped over the limit
    doc_count: usize,
    doc_dropped: usize,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

fn key(r: &Route) -> usize {
    r as *const Route as usize
}

impl Validator {
    /// A validator with these options.
    pub fn new(opts: Options) -> Self {
        Validator {
            opts,
            report: Report::default(),
            index: Index::default(),
            pats: Patterns::default(),
            regexes: RegexVerdicts::default(),
            cel: HashMap::new(),
            cel_validator: None,
            doc_count: 0,
            doc_dropped: 0,
        }
    }

    /// Validates a YAML/JSON stream read from `reader`, document by document.
    ///
    /// # Errors
    /// Only I/O errors of the reader; everything else is a diagnostic.
    pub fn validate_reader(&mut self, file: &str, reader: impl BufRead) -> io::Result<()> {
        let file: Arc<str> = Arc::from(file);
        let mut rec = FileRecord {
            name: file.to_string(),
            ..FileRecord::default()
        };
        self.report.summary.files += 1;
        let mut split = Splitter::new(reader, self.opts.limits);
        let mut idx = 0usize;
        let mut result = Ok(());
        while let Some(raw) = split.next_doc() {
            let raw = match raw {
                Ok(r) => r,
                Err(e) => {
                    let mut d = Diagnostic::new(Code::Encoding, format!("cannot read: {e}"));
                    d.file = file.to_string();
                    self.report.diagnostics.push(d);
                    result = Err(e);
                    break;
                }
            };
            for parsed in yaml::parse(raw, &self.opts.limits) {
                if matches!(parsed, Parsed::Empty) {
                    continue;
                }
                if idx >= self.opts.limits.max_documents {
                    let mut d = Diagnostic::new(
                        Code::LimitExceeded,
                        format!(
                            "more than {} documents in one stream; the rest is not read",
                            self.opts.limits.max_documents
                        ),
                    );
                    d.file = file.to_string();
                    d.document = Some(idx);
                    self.report.diagnostics.push(d);
                    self.report.files.push(rec);
                    return Ok(());
                }
                match parsed {
                    Parsed::Empty => {}
                    Parsed::Failed(issue) => self.yaml_issue(&file, idx, None, issue),
                    Parsed::Doc(doc, issues) => {
                        self.doc_dropped += doc.dropped_issues;
                        for i in issues {
                            self.yaml_issue(&file, idx, Some(&doc), i);
                        }
                        self.document(&file, idx, &doc, &mut rec);
                    }
                }
                self.end_document(&file, idx);
                idx += 1;
                self.report.summary.documents += 1;
            }
        }
        rec.documents = idx;
        self.report.files.push(rec);
        result
    }

    /// Validates an in-memory stream.
    pub fn validate_str(&mut self, file: &str, text: &str) {
        let _ = self.validate_reader(file, text.as_bytes());
    }

    /// Validates in-memory bytes (non-UTF-8 input gives a diagnostic, never a panic).
    pub fn validate_bytes(&mut self, file: &str, bytes: &[u8]) {
        let _ = self.validate_reader(file, bytes);
    }

    /// Validates an object that is already a JSON value (a typed object turned into a value, or
    /// an admission request's object). Diagnostics carry paths but no line numbers.
    pub fn validate_value(&mut self, name: &str, value: Value) {
        let file: Arc<str> = Arc::from(name);
        let mut rec = FileRecord {
            name: name.to_owned(),
            documents: 1,
            ..FileRecord::default()
        };
        self.report.summary.files += 1;
        self.report.summary.documents += 1;
        let doc = Doc::from_value(value);
        self.document(&file, 0, &doc, &mut rec);
        self.end_document(&file, 0);
        self.report.files.push(rec);
    }

    /// Validates typed objects (anything that serializes to a Kubernetes object).
    ///
    /// # Errors
    /// When an object does not serialize to JSON.
    pub fn validate_object<T: serde::Serialize>(
        &mut self,
        name: &str,
        object: &T,
    ) -> Result<(), serde_json::Error> {
        let v = serde_json::to_value(object)?;
        self.validate_value(name, v);
        Ok(())
    }

    /// Runs the cross-object rules and returns the report.
    ///
    /// Cross-object diagnostics (layer 5) come without [`Diagnostic::source_line`]: the index
    /// keeps positions, not source text. [`Report::fill_source_lines`] adds them from the input
    /// again ([`crate::validate_str`] does). With [`Options::skip_cross`] there is no index: the
    /// report's [`crate::Summary::cross_object_skipped`] says the rules were not run.
    pub fn finish(mut self) -> Report {
        if self.opts.skip_cross {
            self.report.summary.cross_object_skipped = true;
        } else {
            let cross = self.index.check(self.opts.require_refs);
            self.report.diagnostics.extend(cross);
        }
        self.report.recount();
        self.report
    }

    /// Counts a diagnostic against the per-document limit; `false` when it must be dropped.
    fn admit(&mut self) -> bool {
        self.doc_count += 1;
        if self.doc_count > self.opts.limits.max_diagnostics_per_document {
            self.doc_dropped += 1;
            return false;
        }
        true
    }

    /// Ends a document: reports how many diagnostics were dropped.
    fn end_document(&mut self, file: &Arc<str>, idx: usize) {
        if self.doc_dropped > 0 {
            let mut d = Diagnostic::new(
                Code::LimitExceeded,
                format!(
                    "{} more diagnostics in this document not shown (limit {} per document)",
                    self.doc_dropped, self.opts.limits.max_diagnostics_per_document
                ),
            );
            d.file = file.to_string();
            d.document = Some(idx);
            self.report.diagnostics.push(d);
        }
        self.doc_count = 0;
        self.doc_dropped = 0;
    }

    fn push(
        &mut self,
        file: &Arc<str>,
        idx: usize,
        doc: Option<&Doc>,
        f: Finding,
        object: Option<&str>,
    ) {
        if !self.admit() {
            return;
        }
        let mut d = Diagnostic::new(f.code, f.message);
        if let Some(s) = f.severity {
            d.severity = s;
        }
        d.file = file.to_string();
        d.document = Some(idx);
        d.hint = f.hint;
        d.object = object.map(str::to_owned);
        if let Some(doc) = doc {
            let key_codes = matches!(
                f.code,
                Code::UnknownField | Code::MissingField | Code::DuplicateObject
            );
            let pos = if key_codes {
                doc.locate(&f.path)
            } else {
                doc.locate_value(&f.path)
            };
            if let Some(p) = pos {
                d.line = Some(p.line as usize);
                d.column = Some(p.col as usize);
                d.source_line = doc.source_line(p.line);
            }
        }
        if !f.path.is_empty() {
            d.path = Some(f.path.to_string());
        }
        self.report.diagnostics.push(d);
    }

    fn yaml_issue(&mut self, file: &Arc<str>, idx: usize, doc: Option<&Doc>, i: YamlIssue) {
        // A duplicated field follows `fieldValidation`, as on the API server.
        let duplicate = i.code == Code::DuplicateKey;
        if duplicate && self.opts.field_validation == crate::FieldValidation::Ignore {
            return;
        }
        if !self.admit() {
            return;
        }
        let mut d = Diagnostic::new(i.code, i.message);
        if duplicate && self.opts.field_validation == crate::FieldValidation::Warn {
            d.severity = Severity::Warning;
        }
        d.file = file.to_string();
        d.document = Some(idx);
        if let Some(p) = i.pos {
            d.line = Some(p.line as usize);
            d.column = Some(p.col as usize);
            d.source_line = doc
                .and_then(|doc| doc.source_line(p.line))
                .or(i.source_line);
        }
        d.path = i.path;
        self.report.diagnostics.push(d);
    }

    /// Validates one document and lists it in `rec` when it is an SMI object that
    /// [`Options::list_objects`] or a finding asks to list.
    fn document(&mut self, file: &Arc<str>, idx: usize, doc: &Doc, rec: &mut FileRecord) {
        if let Some(id) = self.layers(file, idx, doc)
            && (self.opts.list_objects || self.doc_count > 0)
        {
            rec.objects.push((id, idx));
        }
    }

    /// Layers 2–4 and the index entry for layer 5 (unless [`Options::skip_cross`]); the object's
    /// id when it is an SMI object.
    fn layers(&mut self, file: &Arc<str>, idx: usize, doc: &Doc) -> Option<String> {
        let v = &doc.value;
        let Some(obj) = v.as_object() else {
            let what = match v {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                _ => "a scalar",
            };
            self.push(
                file,
                idx,
                Some(doc),
                Finding::new(
                    Code::NotAnObject,
                    Path::root(),
                    format!("document is {what}, not a Kubernetes object"),
                ),
                None,
            );
            return None;
        };
        let av = obj.get("apiVersion").and_then(Value::as_str);
        let kind = obj.get("kind").and_then(Value::as_str);
        let routing = routing::route(av, kind);
        let route = match routing {
            Routing::Smi(r) => r,
            Routing::NotSmi => {
                self.report.summary.skipped += 1;
                return None;
            }
            other => {
                let f = routing_finding(other, av, kind);
                self.push(file, idx, Some(doc), f, None);
                return None;
            }
        };
        let selects = |s: &String| {
            crate::options::kind_selector_matches(s, route.group, route.version, route.kind)
        };
        if self.opts.skip_kinds.iter().any(selects) {
            self.report.summary.skipped += 1;
            return None;
        }
        self.report.summary.smi_objects += 1;
        let id = object_id(route.kind, v);
        if self.opts.reject_kinds.iter().any(selects) {
            self.push(
                file,
                idx,
                Some(doc),
                Finding::new(
                    Code::RejectedKind,
                    Path::root().key("kind"),
                    format!("kind {} is rejected", route.kind),
                ),
                Some(&id),
            );
            return Some(id);
        }
        if route.api == ApiKind::ReadOnly {
            let f = Finding::new(
                Code::ReadOnlyApi,
                Path::root().key("kind"),
                format!("{} is served read-only by the metrics.smi-spec.io extension API server; it cannot be created or applied", route.kind),
            )
            .hint("this is an API response (kubectl get), not a manifest");
            self.push(file, idx, Some(doc), f, Some(&id));
            return Some(id);
        }
        let mut out = Vec::new();
        structure::check(
            route.schema(),
            v,
            &mut structure::Trail::default(),
            self.opts.field_validation,
            &self.pats,
            &mut out,
        );
        crate::rules::metadata(v, &mut out);
        crate::meta::check(v, &mut out);
        let structural_errors = out
            .iter()
            .any(|f| f.code.default_severity() == Severity::Error && f.severity.is_none());
        // PerformanceTest CEL rules repeat `PerformanceTestSpec::validate()` (SMI1308); a
        // PerformanceTestResult's rules (`histogram` or `histogramRef`) are evaluated here
        let cel_covered = route.group == "perf.smi-spec.io" && route.kind == "PerformanceTest";
        if !structural_errors && !self.opts.skip_cel && !cel_covered {
            self.cel(route, v, &mut out);
        }
        crate::rules::object_rules(route, v, &self.opts, &mut self.regexes, &mut out);
        // a port out of range is both a schema bound (SMI1206) and SMI1309: keep the specific one
        let ports: Vec<Path> = out
            .iter()
            .filter(|f| f.code == Code::InvalidPort)
            .map(|f| f.path.clone())
            .collect();
        out.retain(|f| !(f.code == Code::OutOfRange && ports.contains(&f.path)));
        crate::rules::placeholders(v, &mut Path::root(), &mut out);
        for f in out {
            self.push(file, idx, Some(doc), f, Some(&id));
        }
        if !self.opts.skip_cross {
            self.index.add(route.kind, route.version, file, idx, doc);
        }
        Some(id)
    }

    fn cel(&mut self, route: &Route, v: &Value, out: &mut Vec<Finding>) {
        let schema = route.schema();
        let compiled = self.cel.entry(key(route)).or_insert_with(|| {
            let has_rules = schema.to_string().contains("x-kubernetes-validations");
            has_rules.then(|| kube_cel::compile_schema(schema))
        });
        let Some(compiled) = compiled else { return };
        let validator = self
            .cel_validator
            .get_or_insert_with(kube_cel::Validator::new);
        // The API server drops `null` fields that the schema does not mark `nullable` before it
        // evaluates the rules (the structure walk skips them likewise): CEL sees the same object.
        let pruned = has_null(v).then(|| without_nulls(schema, v));
        cel_findings(validator, compiled, pruned.as_ref().unwrap_or(v), out);
    }
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().any(has_null),
        Value::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

/// `v` without the `null` fields whose schema is not `nullable` (fields the schema does not
/// describe are kept as they are).
fn without_nulls(schema: &Value, v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let s = schema.as_object();
            let mut out = serde_json::Map::new();
            for (k, c) in m {
                match s.and_then(|s| structure::field_schema(s, k)) {
                    Some(cs) => {
                        if !structure::dropped_null(cs, c) {
                            out.insert(k.clone(), without_nulls(cs, c));
                        }
                    }
                    None => {
                        out.insert(k.clone(), c.clone());
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            Value::Array(a.iter().map(|c| without_nulls(items, c)).collect())
        }
        other => other.clone(),
    }
}

/// Evaluates the compiled CEL rules of a schema on `v`: a rule that is false is SMI1301, a rule
/// that cannot be evaluated (does not compile, errors at run time, returns no boolean, uses a
/// function kube-cel lacks) is SMI1302.
fn cel_findings(
    validator: &kube_cel::Validator,
    compiled: &kube_cel::CompiledSchema,
    v: &Value,
    out: &mut Vec<Finding>,
) {
    if let Err(errs) = validator.validate_compiled(compiled, v, None) {
        for e in errs.into_vec() {
            let path = e
                .field_path
                .trim_start_matches('.')
                .parse()
                .unwrap_or_default();
            let failed = e.kind == kube_cel::ErrorKind::ValidationFailure;
            let code = if failed {
                Code::CelRule
            } else {
                Code::CelUnevaluable
            };
            let msg = if failed {
                e.message.clone()
            } else {
                format!("rule `{}` could not be evaluated: {}", e.rule, e.message)
            };
            out.push(Finding::new(code, path, msg).hint(format!("CRD rule: {}", e.rule)));
        }
    }
}

fn object_id(kind: &str, v: &Value) -> String {
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match v.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

fn routing_finding(r: Routing<'_>, av: Option<&str>, kind: Option<&str>) -> Finding {
    let av = av.unwrap_or_default();
    let kind = kind.unwrap_or_default();
    match r {
        Routing::UnknownVersion { group, known } => Finding::new(
            Code::UnknownVersion,
            Path::root().key("apiVersion"),
            format!(
                "unknown API version `{av}`; {group} has {}",
                known.join(", ")
            ),
        )
        .hint(format!(
            "known SMI API versions: {}",
            routing::known_api_versions().join(", ")
        )),
        Routing::UnknownKind { known } => Finding::new(
            Code::UnknownKind,
            Path::root().key("kind"),
            format!("`{av}` has no kind `{kind}`; it has {}", known.join(", ")),
        ),
        Routing::MissingApiVersion { kind, candidates } => Finding::new(
            Code::MissingTypeMeta,
            Path::root().key("kind"),
            format!("{kind} without `apiVersion`"),
        )
        .hint(format!(
            "add one of: {}",
            candidates
                .iter()
                .map(|c| format!("`apiVersion: {c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Routing::MissingKind => Finding::new(
            Code::MissingTypeMeta,
            Path::root().key("apiVersion"),
            format!("`{av}` object without `kind`"),
        ),
        Routing::VersionWithoutGroup { candidates } => Finding::new(
            Code::ApiVersionWithoutGroup,
            Path::root().key("apiVersion"),
            format!("`apiVersion: {av}` lacks the API group"),
        )
        .hint(format!("write one of: {}", candidates.join(", "))),
        Routing::Smi(_) | Routing::NotSmi => unreachable!("handled by the caller"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, Splitter};
    use serde_json::json;

    /// SMI1301 cannot be reached from a manifest: the generated CRDs' rules are reported by
    /// dedicated rules (SMI1304, SMI1309, SMI1308) or are transition rules. So this runs the
    /// same path as a manifest would on a schema of its own.
    #[test]
    fn a_failing_cel_rule_is_smi1301_at_its_node() {
        let schema = json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "!(has(self.a) && has(self.b))", "message": "a and b are exclusive"},
            ],
        }}});
        let text =
            "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nspec:\n  a: x\n  b: y\n";
        let mut split = Splitter::new(text.as_bytes(), Limits::default());
        let raw = split.next_doc().unwrap().unwrap();
        let Some(Parsed::Doc(doc, _)) = yaml::parse(raw, &Limits::default()).pop() else {
            panic!("not parsed")
        };
        let mut out = Vec::new();
        let compiled = kube_cel::compile_schema(&schema);
        cel_findings(&kube_cel::Validator::new(), &compiled, &doc.value, &mut out);
        let file: Arc<str> = Arc::from("thing.yaml");
        let mut v = Validator::new(Options::default());
        for f in out {
            v.push(&file, 0, Some(&doc), f, Some("Thing/t"));
        }
        let report = v.finish();
        assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
        let d = &report.diagnostics[0];
        assert_eq!(d.code, Code::CelRule);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.message, "a and b are exclusive");
        assert_eq!((d.line, d.column), (Some(4), Some(1)), "{d:#?}");
        assert_eq!(d.path.as_deref(), Some("spec"));
        assert!(!report.is_valid());
    }

    /// SMI1302 cannot be reached from a manifest either (CEL runs only on structurally valid
    /// objects, and the generated CRDs' rules left to kube-cel always evaluate). So this runs the
    /// same path (`cel_findings`, then `push` for file, line, column and path) on a schema whose
    /// rules cannot be evaluated.
    #[test]
    fn a_cel_rule_that_cannot_be_evaluated_is_smi1302_at_its_node() {
        let schema = json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "name": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "self.replicas > 1"},  // `replicas` is absent: a run-time error
                {"rule": "self.name.size("},    // does not compile
                {"rule": "self.name"},          // not a boolean
                {"rule": "self.name == 'web'"}, // evaluates (true): no finding
            ],
        }}});
        let text =
            "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nspec:\n  name: web\n";
        let mut split = Splitter::new(text.as_bytes(), Limits::default());
        let raw = split.next_doc().unwrap().unwrap();
        let Some(Parsed::Doc(doc, _)) = yaml::parse(raw, &Limits::default()).pop() else {
            panic!("not parsed")
        };
        let mut out = Vec::new();
        let compiled = kube_cel::compile_schema(&schema);
        cel_findings(&kube_cel::Validator::new(), &compiled, &doc.value, &mut out);

        let file: Arc<str> = Arc::from("thing.yaml");
        let mut v = Validator::new(Options::default());
        for f in out {
            v.push(&file, 0, Some(&doc), f, Some("Thing/t"));
        }
        let report = v.finish();
        let mut rules: Vec<&str> = report
            .diagnostics
            .iter()
            .map(|d| d.hint.as_deref().unwrap_or_default())
            .collect();
        rules.sort_unstable();
        assert_eq!(
            rules,
            [
                "CRD rule: self.name",
                "CRD rule: self.name.size(",
                "CRD rule: self.replicas > 1"
            ],
            "{:#?}",
            report.diagnostics
        );
        for d in &report.diagnostics {
            assert_eq!(d.code, Code::CelUnevaluable, "{d:#?}");
            assert_eq!(d.code.as_str(), "SMI1302");
            assert_eq!(d.severity, Severity::Warning);
            assert!(d.message.contains("could not be evaluated"), "{d:#?}");
            assert_eq!(d.file, "thing.yaml");
            assert_eq!((d.line, d.column), (Some(4), Some(1)), "{d:#?}");
            assert_eq!(d.path.as_deref(), Some("spec"));
            assert_eq!(d.object.as_deref(), Some("Thing/t"));
        }
        // a warning: the object is still valid
        assert!(report.is_valid());
    }
}
