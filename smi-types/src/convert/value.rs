//! Conversion of JSON objects field by field, with a stash annotation for what the target
//! version cannot hold: the engine behind [`super::convert_value`] and the webhook's
//! [`super::review`].
//!
//! Each kind has a pivot layout (its latest version's, plus room for the fields only older
//! versions have: TrafficTarget subject `port`, TrafficSplit v1alpha1 quantity weights kept as
//! written). Converting A → B:
//!
//! 1. take the stash annotation ([`STASH_ANNOTATION`]) off the object;
//! 2. *lift* A to the pivot: move fields to where the pivot keeps them (a pure relocation: every
//!    field, unknown ones included, travels with its parent);
//! 3. put the stashed fields back, each only where the object still holds what the stash found
//!    there when it was written (an edit made at A wins over the stash);
//! 4. *lower* the pivot to B: move fields, drop what B's schema has no place for, turn weights
//!    into B's type;
//! 5. lift the result again and compare with the pivot: every difference is a field B cannot
//!    hold; it goes into the stash annotation of the result.
//!
//! Step 5 makes the round trip exact by construction: B → A lifts B, restores the stash (3) and
//! gets the pivot of step 3 back, whatever the fields were.
//!
//! Lifting adds what the newer versions require and the older ones cannot hold, so an object
//! written at an old version can be updated at a new one: HTTPRouteGroup v1alpha1/v1alpha2 get
//! `spec: {}`, TCPRoute v1alpha1/v1alpha2 `spec: {matches: {}}` and a v1alpha3 `spec`
//! `matches: {}` (never `ports: []`). A TCPRoute v1alpha3 without `spec` reads at v1alpha4 with
//! `spec: {matches: {}}` too; its pivot is `spec: {matches: null}` (a value no v1alpha4 object
//! the API server stores holds), so that it is told apart from a v1alpha3 `spec: {}` and comes
//! back without `spec`: the stash of the v1alpha4 object keeps the mark (no [`Loss`] is
//! reported for it).

use serde_json::{Map, Value};

use super::{ConvertError, Converted, Loss};
use crate::quantity::Quantity;

/// The annotation that carries, on an object converted to a version that cannot hold some of
/// its fields, those fields (restored when the object is converted to a version that can).
///
/// Its value is JSON, written with sorted keys so that the same fields give the same text:
///
/// ```json
/// {"fields":[{"path":"/spec/matches","value":[{"kind":"HTTPRouteGroup","name":"r"}]}],"created":"annotations"}
/// ```
///
/// `path` is a JSON pointer into the pivot layout (the latest version's), `value` the field
/// (absent: the field must be absent), `was` what the converted object held there (absent:
/// nothing); a field is restored only when the object still holds `was`, so an edit made at the
/// older version wins. `created` says the conversion created the `annotations` map (or the
/// whole `metadata`), removed again with the stash.
pub const STASH_ANNOTATION: &str = "convert.smi-rs.io/stash";

type Obj = Map<String, Value>;

/// The kinds with more than one version (each has its own pivot layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    TrafficTarget,
    HttpRouteGroup,
    TcpRoute,
    TrafficSplit,
    TrafficMetrics,
    TrafficMetricsList,
}

/// The pivot kind of `group`/`kind`, its kind string and its versions (oldest first, from the
/// [registry](crate::registry)).
fn kind_of(group: &str, kind: &str) -> Option<(Kind, &'static str, Vec<&'static str>)> {
    let k = match (group, kind) {
        ("access.smi-spec.io", "TrafficTarget") => Kind::TrafficTarget,
        ("specs.smi-spec.io", "HTTPRouteGroup") => Kind::HttpRouteGroup,
        ("specs.smi-spec.io", "TCPRoute") => Kind::TcpRoute,
        ("split.smi-spec.io", "TrafficSplit") => Kind::TrafficSplit,
        ("metrics.smi-spec.io", "TrafficMetrics") => Kind::TrafficMetrics,
        ("metrics.smi-spec.io", "TrafficMetricsList") => Kind::TrafficMetricsList,
        _ => return None,
    };
    let entry = crate::registry::kind_versions()
        .iter()
        .find(|kv| kv.group == group && kv.kind == kind)?;
    Some((k, entry.kind, crate::registry::versions_of(group, kind)))
}

/// A conversion of one JSON object (see [`super::convert_value`]).
pub(super) fn convert(object: &Value, desired: &str) -> Result<Converted<Value>, ConvertError> {
    let unreadable = |m: String| ConvertError::Unreadable { message: m };
    let obj = object
        .as_object()
        .ok_or_else(|| unreadable(format!("expected a JSON object, got {}", type_name(object))))?;
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| unreadable("the object has no apiVersion".into()))?;
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| unreadable("the object has no kind".into()))?;
    let (group, from) = api_version
        .split_once('/')
        .ok_or_else(|| unreadable(format!("apiVersion `{api_version}` has no group")))?;
    if api_version == desired {
        return Ok(Converted::new(object.clone(), Vec::new()));
    }
    let Some((k, kind_name, versions)) = kind_of(group, kind) else {
        let known = crate::registry::versions_of(group, kind);
        return Err(unreadable(if known.is_empty() {
            format!("{api_version} {kind} is not an SMI kind")
        } else {
            format!(
                "{kind} has only {}: it cannot be converted to {desired}",
                known
                    .iter()
                    .map(|v| format!("{group}/{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }));
    };
    let known = || versions.iter().map(|v| format!("{group}/{v}")).collect();
    let unknown_target = || ConvertError::UnknownTarget {
        kind: kind_name,
        api_version: desired.to_owned(),
        known: known(),
    };
    if !versions.contains(&from) {
        return Err(unreadable(format!(
            "{kind} has no version `{from}` (known: {})",
            versions.join(", ")
        )));
    }
    let to = match desired.split_once('/') {
        Some((g, v)) if g == group && versions.contains(&v) => v,
        _ => return Err(unknown_target()),
    };

    let mut pivot = obj.clone();
    let stash = take_stash(&mut pivot);
    lift(k, from, &mut pivot);
    let mut lost = Vec::new();
    if let Some(stash) = stash {
        for entry in &stash.fields {
            if !entry.apply(&mut pivot) {
                lost.push(Loss::new(
                    dotted(&entry.path),
                    entry.value.clone().unwrap_or(Value::Null),
                    "stashed field not restored: the object was changed there at an older version",
                ));
            }
        }
    }
    let mut out = pivot.clone();
    let mut notes = Vec::new();
    lower(k, to, &mut out, &mut notes);
    let mut back = out.clone();
    lift(k, to, &mut back);
    let mut fields = Vec::new();
    diff(&pivot, &back, &mut String::new(), &mut fields);
    // one text for one content, whatever the order of the keys
    fields.sort_by(|a, b| a.path.cmp(&b.path));
    for f in fields.iter().filter(|f| !bookkeeping(k, f)) {
        lost.push(Loss::new(
            dotted(&f.path),
            f.value.clone().unwrap_or(Value::Null),
            format!(
                "{kind} {to} has no place for it: kept in annotation {STASH_ANNOTATION}, restored on conversion to a version that has it"
            ),
        ));
    }
    lost.extend(notes);
    if !fields.is_empty() {
        put_stash(
            &mut out,
            Stash {
                fields,
                created: None,
            },
        );
    }
    out.insert("apiVersion".into(), Value::String(desired.to_owned()));
    Ok(Converted::new(Value::Object(out), lost))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// the stash

#[derive(Debug, Clone, PartialEq)]
struct Field {
    path: String,
    value: Option<Value>,
    was: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
struct Stash {
    fields: Vec<Field>,
    created: Option<&'static str>,
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `/spec/destination/port` → `spec.destination.port`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(unescape)
        .collect::<Vec<_>>()
        .join(".")
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

impl Field {
    /// Puts the field back if the object holds `was` at its path.
    fn apply(&self, obj: &mut Obj) -> bool {
        let Some(rest) = self.path.strip_prefix('/') else {
            return false;
        };
        let segs: Vec<String> = rest.split('/').map(unescape).collect();
        let Some((last, parents)) = segs.split_last() else {
            return false;
        };
        let mut cur = obj;
        for p in parents {
            match cur.get_mut(p) {
                Some(Value::Object(m)) => cur = m,
                _ => return false,
            }
        }
        if cur.get(last) != self.was.as_ref() {
            return false;
        }
        match &self.value {
            Some(v) => {
                cur.insert(last.clone(), v.clone());
            }
            None => {
                cur.remove(last);
            }
        }
        true
    }
}

/// The fields where `orig` and `back` differ, as the [`Field`]s that turn `back` into `orig`.
/// Objects are compared key by key, anything else (arrays included) as a whole.
fn diff(orig: &Obj, back: &Obj, path: &mut String, out: &mut Vec<Field>) {
    for (k, ov) in orig {
        let len = path.len();
        path.push('/');
        path.push_str(&escape(k));
        match back.get(k) {
            None => out.push(Field {
                path: path.clone(),
                value: Some(ov.clone()),
                was: None,
            }),
            Some(bv) if bv == ov => {}
            Some(Value::Object(bm)) if ov.is_object() => {
                diff(ov.as_object().unwrap_or(bm), bm, path, out);
            }
            Some(bv) => out.push(Field {
                path: path.clone(),
                value: Some(ov.clone()),
                was: Some(bv.clone()),
            }),
        }
        path.truncate(len);
    }
    for (k, bv) in back {
        if !orig.contains_key(k) {
            out.push(Field {
                path: format!("{path}/{}", escape(k)),
                value: None,
                was: Some(bv.clone()),
            });
        }
    }
}

/// The value with every object's keys sorted (the stash text is then a function of its content).
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

impl Stash {
    fn to_text(&self) -> String {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                let mut m = Obj::new();
                m.insert("path".into(), Value::String(f.path.clone()));
                if let Some(v) = &f.value {
                    m.insert("value".into(), v.clone());
                }
                if let Some(w) = &f.was {
                    m.insert("was".into(), w.clone());
                }
                Value::Object(m)
            })
            .collect();
        let mut m = Obj::new();
        m.insert("fields".into(), Value::Array(fields));
        if let Some(c) = self.created {
            m.insert("created".into(), Value::String(c.into()));
        }
        canonical(&Value::Object(m)).to_string()
    }

    fn from_text(text: &str) -> Option<Stash> {
        let v: Value = serde_json::from_str(text).ok()?;
        let created = match v.get("created").and_then(Value::as_str) {
            Some("metadata") => Some("metadata"),
            Some("annotations") => Some("annotations"),
            _ => None,
        };
        let fields = v
            .get("fields")?
            .as_array()?
            .iter()
            .map(|f| {
                Some(Field {
                    path: f.get("path")?.as_str()?.to_owned(),
                    value: f.get("value").cloned(),
                    was: f.get("was").cloned(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Stash { fields, created })
    }
}

/// Removes the stash annotation (and the maps its writer created) and reads it. A stash that
/// is not one this crate wrote is left in place and ignored.
fn take_stash(obj: &mut Obj) -> Option<Stash> {
    let meta = obj.get_mut("metadata")?.as_object_mut()?;
    let ann = meta.get_mut("annotations")?.as_object_mut()?;
    let stash = Stash::from_text(ann.get(STASH_ANNOTATION)?.as_str()?)?;
    ann.remove(STASH_ANNOTATION);
    if stash.created.is_some() && ann.is_empty() {
        meta.remove("annotations");
        if stash.created == Some("metadata") && meta.is_empty() {
            obj.remove("metadata");
        }
    }
    Some(stash)
}

fn put_stash(obj: &mut Obj, mut stash: Stash) {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj.insert("metadata".into(), Value::Object(Obj::new()));
        stash.created = Some("metadata");
    }
    let Some(Value::Object(meta)) = obj.get_mut("metadata") else {
        return;
    };
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta.insert("annotations".into(), Value::Object(Obj::new()));
        stash.created.get_or_insert("annotations");
    }
    if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
        ann.insert(STASH_ANNOTATION.into(), Value::String(stash.to_text()));
    }
}

// ---------------------------------------------------------------------------------------------
// lift and lower

/// Moves `obj[from]` to `obj[into][to]`, each pair in turn, creating `obj[into]` when something
/// moves (and `obj[into]` is an object or absent).
fn nest(obj: &mut Obj, into: &str, moves: &[(&str, &str)]) {
    if !moves.iter().any(|(f, _)| obj.contains_key(*f)) {
        return;
    }
    let mut inner = match obj.remove(into) {
        Some(Value::Object(m)) => m,
        None => Obj::new(),
        Some(other) => {
            // not an object: nothing can move into it
            obj.insert(into.into(), other);
            return;
        }
    };
    for (from, to) in moves {
        if let Some(v) = obj.remove(*from) {
            inner.insert((*to).into(), v);
        }
    }
    obj.insert(into.into(), Value::Object(inner));
}

/// The inverse of [`nest`]: moves `obj[from][to]` back to `obj[from_key]`, removing `obj[from]`
/// when it is (left) empty: the versions this lowers to have no `obj[from]`.
fn unnest(obj: &mut Obj, from: &str, moves: &[(&str, &str)]) {
    let Some(Value::Object(inner)) = obj.get_mut(from) else {
        return;
    };
    let mut moved = Vec::new();
    for (outer_key, inner_key) in moves {
        if let Some(v) = inner.remove(*inner_key) {
            moved.push(((*outer_key).to_owned(), v));
        }
    }
    if inner.is_empty() {
        obj.remove(from);
    }
    for (k, v) in moved {
        obj.insert(k, v);
    }
}

fn get_obj_mut<'a>(obj: &'a mut Obj, path: &[&str]) -> Option<&'a mut Obj> {
    let mut cur = obj;
    for p in path {
        cur = cur.get_mut(*p)?.as_object_mut()?;
    }
    Some(cur)
}

/// Every TrafficTarget subject of a pivot object (destination and sources).
fn subjects_mut(obj: &mut Obj) -> Vec<&mut Obj> {
    let Some(spec) = get_obj_mut(obj, &["spec"]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in spec.iter_mut() {
        match (k.as_str(), v) {
            ("destination", Value::Object(d)) => out.push(d),
            ("sources", Value::Array(a)) => {
                out.extend(a.iter_mut().filter_map(Value::as_object_mut))
            }
            _ => {}
        }
    }
    out
}

fn lift(kind: Kind, from: &str, obj: &mut Obj) {
    match (kind, from) {
        (Kind::TrafficMetricsList, _) => {
            if let Some(Value::Array(items)) = obj.get_mut("items") {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    if item.get("apiVersion").and_then(Value::as_str)
                        == Some("metrics.smi-spec.io/v1alpha1")
                    {
                        item.insert(
                            "apiVersion".into(),
                            Value::String("metrics.smi-spec.io/v1alpha2".into()),
                        );
                    }
                }
            }
        }
        (Kind::TrafficTarget, "v1alpha1") => nest(
            obj,
            "spec",
            &[
                ("destination", "destination"),
                ("sources", "sources"),
                ("specs", "rules"),
            ],
        ),
        (Kind::HttpRouteGroup, "v1alpha1" | "v1alpha2") => {
            // v1alpha3+ require `spec`: an object without matches gets `spec: {}` (v1alpha1 and
            // v1alpha2 have no `spec`, so lowering removes it again exactly)
            if !obj.contains_key("spec") {
                obj.insert("spec".into(), Value::Object(Obj::new()));
            }
            nest(obj, "spec", &[("matches", "matches")]);
        }
        // v1alpha4 requires `spec.matches`: `{}` (no ports listed: all ports, as these versions
        // mean), never `ports: []`; lowering removes it again exactly
        (Kind::TcpRoute, "v1alpha1" | "v1alpha2") if !obj.contains_key("spec") => {
            obj.insert("spec".into(), serde_json::json!({"matches": {}}));
        }
        // a v1alpha3 `spec` gets `matches: {}`; a v1alpha3 without `spec` gets `spec: {matches:
        // null}`, the pivot's mark of "no spec at v1alpha3" (lowering to v1alpha3 removes the
        // whole `spec` again, to v1alpha4 turns it into `matches: {}` and the stash keeps the
        // mark, so A → B → A stays the identity)
        (Kind::TcpRoute, "v1alpha3") => match obj.get_mut("spec") {
            Some(Value::Object(spec)) => {
                if !spec.contains_key("matches") {
                    spec.insert("matches".into(), Value::Object(Obj::new()));
                }
            }
            None => {
                obj.insert("spec".into(), serde_json::json!({ "matches": null }));
            }
            Some(_) => {}
        },
        _ => {}
    }
}

fn lower(kind: Kind, to: &str, obj: &mut Obj, notes: &mut Vec<Loss>) {
    match kind {
        Kind::TrafficTarget => lower_traffic_target(to, obj, notes),
        Kind::HttpRouteGroup => {
            if to == "v1alpha1"
                && let Some(Value::Array(ms)) =
                    get_obj_mut(obj, &["spec"]).and_then(|s| s.get_mut("matches"))
            {
                for m in ms.iter_mut().filter_map(Value::as_object_mut) {
                    m.remove("headers");
                }
            }
            if matches!(to, "v1alpha1" | "v1alpha2") {
                unnest(obj, "spec", &[("matches", "matches")]);
            }
        }
        Kind::TcpRoute => match to {
            "v1alpha1" | "v1alpha2" => {
                obj.remove("spec");
            }
            "v1alpha3" => {
                if spec_less_v1alpha3(obj) {
                    obj.remove("spec");
                } else if let Some(spec) = get_obj_mut(obj, &["spec"]) {
                    spec.remove("matches");
                }
            }
            _ => {
                // v1alpha4 requires `spec.matches`: the mark of a v1alpha3 written without
                // `spec` becomes `{}` (no ports listed: all ports)
                if spec_less_v1alpha3(obj)
                    && let Some(spec) = get_obj_mut(obj, &["spec"])
                {
                    spec.insert("matches".into(), Value::Object(Obj::new()));
                }
            }
        },
        Kind::TrafficSplit => {
            if let Some(spec) = get_obj_mut(obj, &["spec"]) {
                if matches!(to, "v1alpha1" | "v1alpha2") {
                    spec.remove("matches");
                }
                if to != "v1alpha1" {
                    integer_weights(spec, notes);
                }
            }
        }
        Kind::TrafficMetrics => {
            if to == "v1alpha1" {
                lower_metrics_v1alpha1(obj);
            }
        }
        Kind::TrafficMetricsList => {
            if to == "v1alpha1"
                && let Some(Value::Array(items)) = obj.get_mut("items")
            {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    lower_metrics_v1alpha1(item);
                    if item.get("apiVersion").and_then(Value::as_str)
                        == Some("metrics.smi-spec.io/v1alpha2")
                    {
                        item.insert(
                            "apiVersion".into(),
                            Value::String("metrics.smi-spec.io/v1alpha1".into()),
                        );
                    }
                }
            }
        }
    }
}

/// A TCPRoute pivot carrying the mark of a v1alpha3 written without `spec`
/// (`spec.matches: null`, see [`lift`]).
fn spec_less_v1alpha3(obj: &Obj) -> bool {
    obj.get("spec")
        .and_then(|s| s.get("matches"))
        .is_some_and(Value::is_null)
}

/// A stash field that records no user data, only the conversion's own bookkeeping: the mark of
/// a TCPRoute v1alpha3 written without `spec`. It is stashed (so the way back gives no `spec`)
/// but is no [`Loss`]: nothing the user wrote is missing from the result.
fn bookkeeping(kind: Kind, f: &Field) -> bool {
    kind == Kind::TcpRoute && f.path == "/spec/matches" && f.value == Some(Value::Null)
}

fn lower_metrics_v1alpha1(obj: &mut Obj) {
    obj.remove("backend");
    if let Some(edge) = get_obj_mut(obj, &["edge"]) {
        edge.remove("side");
    }
}

fn lower_traffic_target(to: &str, obj: &mut Obj, notes: &mut Vec<Loss>) {
    for s in subjects_mut(obj) {
        if matches!(to, "v1alpha3" | "v1alpha4") {
            s.remove("port");
        }
        if to != "v1alpha4" {
            s.remove("group");
            if s.get("kind").and_then(Value::as_str) == Some("IdentityBinding") {
                notes.push(Loss::new(
                    "spec (subject)",
                    Value::Object(s.clone()),
                    format!("IdentityBinding subjects have no meaning in TrafficTarget {to}: kept as written"),
                ));
            }
        }
    }
    if matches!(to, "v1alpha1" | "v1alpha2")
        && let Some(Value::Array(rules)) =
            get_obj_mut(obj, &["spec"]).and_then(|s| s.get_mut("rules"))
    {
        for (i, r) in rules.iter().enumerate() {
            if r.get("kind").and_then(Value::as_str) == Some("UDPRoute") {
                notes.push(Loss::new(
                    format!("spec.rules[{i}]"),
                    r.clone(),
                    format!("UDPRoute exists from specs.smi-spec.io/v1alpha4 on: a TrafficTarget {to} reader does not know it (kept as written)"),
                ));
            }
        }
    }
    if to == "v1alpha1" {
        unnest(
            obj,
            "spec",
            &[
                ("destination", "destination"),
                ("sources", "sources"),
                ("specs", "rules"),
            ],
        );
    }
}

/// Turns the weights of `spec.backends` into integers keeping their ratios (see
/// [`crate::split::convert::integer_weights`]); weights that are integers already stay as they
/// are. When a weight is not a quantity, or the ratios need integers beyond `i64`, the weights
/// stay as written and a note says why.
fn integer_weights(spec: &mut Obj, notes: &mut Vec<Loss>) {
    let Some(Value::Array(backends)) = spec.get_mut("backends") else {
        return;
    };
    let weights: Vec<(usize, &Value)> = backends
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.get("weight").map(|w| (i, w)))
        .collect();
    if weights
        .iter()
        .all(|(_, w)| w.as_i64().is_some() || w.as_u64().is_some())
    {
        return;
    }
    let mut quantities = Vec::with_capacity(weights.len());
    for (i, w) in &weights {
        match w {
            Value::String(s) => quantities.push(Quantity::String(s.clone())),
            Value::Number(n) => quantities.push(Quantity::Number(n.clone())),
            other => {
                notes.push(Loss::new(
                    format!("spec.backends[{i}].weight"),
                    (*other).clone(),
                    "not a quantity: weights kept as written",
                ));
                return;
            }
        }
    }
    let ints = match crate::split::convert::integer_weights(&quantities) {
        Ok(v) => v,
        Err(e) => {
            notes.push(Loss::new(
                "spec.backends",
                Value::Array(backends.clone()),
                format!("{e}: weights kept as written"),
            ));
            return;
        }
    };
    let idx: Vec<usize> = weights.iter().map(|(i, _)| *i).collect();
    for (i, w) in idx.into_iter().zip(ints) {
        if let Some(b) = backends[i].as_object_mut() {
            b.insert("weight".into(), Value::from(w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_then_apply_is_the_identity() {
        let orig = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x", "~/": 3});
        let back = json!({"a": {"b": 2, "e": true}, "f": null});
        let mut fields = Vec::new();
        diff(
            orig.as_object().unwrap(),
            back.as_object().unwrap(),
            &mut String::new(),
            &mut fields,
        );
        let mut restored = back.as_object().unwrap().clone();
        for f in &fields {
            assert!(f.apply(&mut restored), "{f:?}");
        }
        assert_eq!(Value::Object(restored), orig);
        let text = Stash {
            fields: fields.clone(),
            created: Some("annotations"),
        }
        .to_text();
        assert_eq!(Stash::from_text(&text).unwrap().fields, fields);
    }

    #[test]
    fn a_stale_field_is_not_applied() {
        let f = Field {
            path: "/spec/x".into(),
            value: Some(json!(1)),
            was: Some(json!(2)),
        };
        let mut o = json!({"spec": {"x": 3}}).as_object().unwrap().clone();
        assert!(!f.apply(&mut o));
        assert_eq!(o["spec"]["x"], 3);
    }
}
