//! Validation of SMI manifests and typed objects.
//!
//! `smi-validate` checks Service Mesh Interface manifests in six layers and reports every finding
//! as a [`Diagnostic`] with a stable [`Code`], the file, the document index in the stream, the
//! line and column, and the field path as the manifest spells it (`spec.backends[1].weight`):
//!
//! 1. **YAML syntax** — malformed YAML (with line:col; the other documents of the stream are
//!    still validated), duplicate keys, hostile input stopped by [`Limits`].
//! 2. **Routing** by `apiVersion`/`kind`: unknown SMI versions/kinds are errors listing the known
//!    ones; non-SMI documents are skipped and counted.
//! 3. **Structure** against the CRD schema of that version (types, required, enums; unknown and
//!    duplicate fields are errors by default, as for a default `kubectl apply`, which sends
//!    `fieldValidation=Strict` since Kubernetes 1.27; [`Options::field_validation`] makes them
//!    warnings or silent).
//! 4. **Rules in one object**: the CRD's CEL `x-kubernetes-validations` evaluated offline
//!    (kube-cel), field rules (regexes compile, unique match names, ports) and the PerformanceTest
//!    rules of `smi-types`.
//! 5. **Rules across objects** of the input set (route references, match names, hierarchical
//!    splits, duplicate apexes); references outside the set are warnings, or errors with
//!    [`Options::require_refs`]. [`Options::skip_cross`] (CLI `--no-cross`) leaves this layer
//!    out, and the report says so ([`Summary::cross_object_skipped`]).
//! 6. **Lints** (warnings): valid but probably wrong.
//!
//! ```
//! let report = smi_validate::validate_bytes(
//!     b"apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: web\nspec:\n  service: web\n  backends:\n  - service: web-v1\n    weight: \"5\"\n",
//!     &smi_validate::Options::default(),
//! );
//! let d = &report.diagnostics[0];
//! assert_eq!(d.code.as_str(), "SMI1201");
//! assert_eq!(d.path.as_deref(), Some("spec.backends[0].weight"));
//! assert_eq!((d.line, d.column), (Some(9), Some(13)));
//! ```
//!
//! # Where the rules come from
//!
//! Routing and structure follow `smi-types`: [`smi_types::known_api_versions`] is the routing
//! table and the CRDs of [`smi_types::crd::generate`] (all versions) give each version's
//! schema and CEL rules, evaluated offline with kube-cel. Two CEL rules of those CRDs (unique
//! match names, port range) are reported by dedicated rules instead (SMI1304, SMI1309), with the
//! offending item's position ([`routing::COVERED_CEL_RULES`]). PerformanceTest rules come from
//! `PerformanceTestSpec::validate()` (SMI1308), so the perf CRD's CEL copy of them is not
//! evaluated a second time.
//!
//! # Streaming and limits
//!
//! Input is read and validated document by document through smi-types' one YAML reader
//! ([`smi_types::yaml`], the same splitter, [`Limits`] and scalar resolution as
//! `smi_types::parse_yaml_stream`): a stream is cut at `---`/`...` lines before parsing, each
//! document is parsed with the event parser under `serde-saphyr` into a `serde_json::Value` plus
//! positions, validated, and dropped. Plain scalars are resolved by serde-saphyr itself, with the
//! YAML 1.1 rules kube-apiserver's decoder follows: `yes`/`no`/`on`/`off`/`y`/`n` are booleans,
//! `0b101`, `1_000`, `0755`, `-0x1F` numbers (so a string field written `yes` is a type error
//! here, as on the server), and `.inf`/`.nan` an SMI1001 error (JSON has no value for them).
//! Cross-object rules keep only a small index per object (under 200 bytes for a TrafficSplit;
//! no document, value or source text), and a valid object leaves nothing in the [`Report`]
//! unless [`Options::list_objects`] asks for the object list.
//! For inputs too large even for that index, [`Options::skip_cross`] (CLI `--no-cross`) drops
//! the cross-object rules: then a valid object keeps nothing, and memory grows with the largest
//! document only, not with the number of objects (`BENCH.md`, "Memory").
//! [`Limits`] bounds documents per stream, bytes per document, nesting depth, scalar size,
//! alias expansion and diagnostics per document; exceeding one is a [`Code::LimitExceeded`]
//! error, never a panic or a hang.
//!
//! # Decisions
//!
//! * A document **without `apiVersion`** whose `kind` is an SMI kind is an error
//!   ([`Code::MissingTypeMeta`], with the candidate apiVersions as hint); a document with neither
//!   an SMI `apiVersion` nor an SMI `kind` is not SMI and is skipped (counted in
//!   [`Summary::skipped`]). A kuttl `TestStep` listing SMI objects under `delete:` is therefore
//!   skipped: its own apiVersion/kind is kuttl's.
//! * `metrics.smi-spec.io` objects are API-server responses, not manifests: [`Code::ReadOnlyApi`].
//! * `headers` is accepted in both wire shapes (list of one-key maps, and map). The map form is a
//!   warning by default ([`Code::HeadersMapForm`]: the smi-sdk-go/OSM CRDs and the CRDs
//!   smi-types generates reject it), an error with [`Target::Sdk`], and accepted silently with
//!   [`Target::ControllerSdk`], where the list form is the warning ([`Code::HeadersListForm`]).
//! * Weights are relative: no sum rule; weight 0, backend == apex, dotted apex names and
//!   server-returned metadata are accepted.
//! * Scalars resolve by the YAML 1.2 core schema (`yes`/`no` are strings, as in JSON-minded
//!   tools; go-yaml v2 would read them as booleans). Custom tags and complex keys are errors
//!   ([`Code::UnsupportedYaml`]).
//! * Merge keys (`<<: *base`, `<<: [*a, *b]`, `!!merge <<`) are expanded, as kubectl
//!   (sigs.k8s.io/yaml, YAML 1.1) and serde-saphyr expand them: the mapping's own keys win over
//!   merged ones, and of a list the earlier mapping wins. A merged field is located where it is
//!   written, or at the alias it came through (like any aliased node). A merge key whose value
//!   is not a mapping or a list of mappings is a [`Code::YamlSyntax`] error; a quoted `"<<"` is
//!   an ordinary key.
//! * A duplicated key keeps its first value (and is an error).
//! * CEL rules see the object as the API server evaluates it: `null` fields the schema does not
//!   mark `nullable` are dropped first (the structure walk skips them likewise). Likewise
//!   `minProperties`/`maxProperties`/`required` count only the fields the API server keeps: not
//!   those nulls, nor the unknown fields it prunes (`schemes: {podLabelSelector: null}` is an
//!   empty `schemes`, SMI1206). A null list item is kept, as the server keeps it, and is the
//!   wrong type unless the item schema is `nullable`.
//! * `access.smi-spec.io/v1alpha4` (the unreleased IdentityBinding draft) is known, because
//!   smi-types models it.
//! * An object without `metadata.namespace` lands in whatever namespace it is applied to, so for
//!   cross-object rules it resolves references from any namespace.
//! * Structure is checked by a small walker over the structural-schema subset of OpenAPI v3
//!   rather than by compiling the schemas with `jsonschema`: one pass, field paths as the
//!   manifest spells them, unknown (pruned) fields told apart from errors, and the Kubernetes
//!   extensions (`x-kubernetes-int-or-string`, `…-preserve-unknown-fields`) understood natively.
//!
//! # Codes
//!
//! The layer-5 codes (SMI1401–SMI1407) are reported only in the default mode, not with
//! [`Options::skip_cross`].
//!
//! | code | default severity | layer | meaning |
//! |---|---|---|---|
//! | SMI1001 | error | 1 | YAML syntax error |
//! | SMI1002 | error | 1 | duplicate mapping key |
//! | SMI1003 | error | 1 | input limit exceeded ([`Limits`]) |
//! | SMI1004 | error | 1 | document is not a mapping |
//! | SMI1005 | error | 1 | YAML feature without JSON equivalent (custom tag, complex key) |
//! | SMI1006 | error | 1 | input is not readable UTF-8 |
//! | SMI1101 | error | 2 | missing apiVersion or kind |
//! | SMI1102 | error | 2 | unknown SMI API version |
//! | SMI1103 | error | 2 | unknown kind for this SMI API version |
//! | SMI1104 | error | 2 | read-only API object (metrics.smi-spec.io) |
//! | SMI1105 | error | 2 | apiVersion lacks the API group |
//! | SMI1106 | error | 2 | kind rejected by configuration (`--reject`) |
//! | SMI1201 | error | 3 | wrong type |
//! | SMI1202 | error | 3 | required field missing |
//! | SMI1203 | error | 3 | value not allowed (enum) |
//! | SMI1204 | error | 3 | unknown field (refused with `fieldValidation=Strict`, the default; a warning with `Warn`; silent with `Ignore`) |
//! | SMI1205 | error | 3 | invalid object name or namespace |
//! | SMI1206 | error | 3 | value out of range |
//! | SMI1207 | error | 3 | value does not match the required pattern or format (`date-time`, as the API server checks it) |
//! | SMI1208 | error | 3 | invalid metadata: label key or value, annotation key or total size (256 KiB), generateName, owner reference, finalizer, timestamp (the API server's `ObjectMeta` rules) |
//! | SMI1301 | error | 4 | CRD validation rule (CEL) failed |
//! | SMI1302 | warning | 4 | CRD validation rule (CEL) could not be evaluated |
//! | SMI1304 | error | 4 | duplicate match name in HTTPRouteGroup |
//! | SMI1305 | error | 4 | pathRegex does not compile |
//! | SMI1306 | error | 4 | header value regex does not compile |
//! | SMI1307 | error | 4 | malformed headers list entry (not one key, or a repeated header) |
//! | SMI1308 | error | 4 | PerformanceTest rule failed (some are warnings) |
//! | SMI1309 | error | 4 | port out of range |
//! | SMI1401 | warning | 5 | route reference not found in the input set (error with `require_refs`) |
//! | SMI1402 | error | 5 | match name not defined by the HTTPRouteGroup |
//! | SMI1403 | warning | 5 | HTTPRouteGroup reference not found in the input set (error with `require_refs`) |
//! | SMI1404 | warning | 5 | backend is another TrafficSplit's apex |
//! | SMI1405 | warning | 5 | two TrafficSplits for the same apex service |
//! | SMI1406 | warning | 5 | TrafficTarget namespace differs from destination namespace |
//! | SMI1407 | warning | 5 | object defined twice |
//! | SMI1501 | warning | 6 | all TrafficSplit weights are zero |
//! | SMI1502 | warning | 6 | v1alpha1 weights mix quantity scales |
//! | SMI1503 | warning | 6 | regex can never match |
//! | SMI1504 | warning | 6 | methods lists `*` with other methods |
//! | SMI1505 | error | 6 | open load model without rps (B.4 makes it an error) |
//! | SMI1506 | warning | 6 | template placeholder in a value |
//! | SMI1507 | warning | 6 | template placeholder in a name or namespace |
//! | SMI1508 | warning | 6 | headers in map form: rejected by the smi-sdk-go/OSM CRDs and the generated CRDs (an error with `--target sdk`, silent with `--target controller-sdk`) |
//! | SMI1509 | warning | 6 | headers in list form (with `--target controller-sdk`) |
//! | SMI1510 | warning | 6 | TrafficTarget without rules or sources |
//! | SMI1511 | warning | 6 | negative weight (v1alpha1); no longer reported: the CRD refuses negative weights, so they are SMI1206/SMI1207 errors |
//! | SMI1512 | warning | 6 | IdentityBinding `podLabelSelector` with `serviceAccount` (the spec text calls them exclusive; its only example and the CRD accept both) |

pub mod admission;
pub mod crd_check;
mod cross;
mod diagnostic;
mod engine;
pub mod meta;
mod options;
pub mod output;
mod path;
mod perf;
pub mod routing;
mod rules;
mod structure;
mod yaml;

pub use admission::validate_admission;
pub use diagnostic::{Code, Diagnostic, FileRecord, Report, Severity, Summary};
pub use engine::Validator;
pub use options::{FieldValidation, Options, Target, check_kind_selector};
pub use path::{Path, PathParseError, Seg};
pub use routing::known_api_versions;
pub use yaml::{Limits, MAX_DEPTH_CEILING, Pos};

/// Validates one in-memory stream (named `<input>`). Never panics, whatever the bytes: the
/// entry point for fuzzing.
pub fn validate_bytes(bytes: &[u8], options: &Options) -> Report {
    let mut v = Validator::new(options.clone());
    v.validate_bytes("<input>", bytes);
    let mut r = v.finish();
    let _ = r.fill_source_lines("<input>", bytes);
    r
}

/// Validates one in-memory stream with a file name.
pub fn validate_str(file: &str, text: &str, options: &Options) -> Report {
    let mut v = Validator::new(options.clone());
    v.validate_str(file, text);
    let mut r = v.finish();
    let _ = r.fill_source_lines(file, text.as_bytes());
    r
}

/// Validates objects given as JSON values (e.g. typed objects serialized with `serde_json`).
pub fn validate_values<I: IntoIterator<Item = serde_json::Value>>(
    values: I,
    options: &Options,
) -> Report {
    let mut v = Validator::new(options.clone());
    for (i, value) in values.into_iter().enumerate() {
        v.validate_value(&format!("<object {i}>"), value);
    }
    v.finish()
}
