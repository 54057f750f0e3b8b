//! CEL rules of a CRD: parse (cel-rust), type-check against the schema's declarations, and
//! estimate the worst-case cost as cel-go's static estimator (`checker/cost.go`) does with the
//! Kubernetes cost estimator (`k8s.io/apiserver/pkg/cel/library/cost.go`) and size estimates
//! (`SchemaDeclType`).
//!
//! The estimator works on the AST cel-rust's parser produces; its macro expansions
//! (`all`, `exists`, `exists_one`, `map`, `filter`, `has`) have the same shape as cel-go's, so
//! the comprehension costs match. Costs follow cel-go's rules: identifiers and field
//! selections on objects/maps cost 1, literals 0, a presence test 0 (Kubernetes disables
//! `has()` costs), calls 1 unless the function has its own estimate (string comparisons,
//! `matches`, `contains`, `startsWith`, `in`, list concatenation, the Kubernetes library
//! functions, …), and a comprehension costs its range size times its loop step and condition.

use std::collections::HashMap;

use cel::common::ast::{CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue};

use super::decl::{Decl, DeclKind, schema_decl};

// cel-go common/cost.go
const SELECT_AND_IDENT_COST: u64 = 1;
const LIST_CREATE_BASE_COST: u64 = 10;
const MAP_CREATE_BASE_COST: u64 = 30;
const STRUCT_CREATE_BASE_COST: u64 = 40;
const STRING_TRAVERSAL_COST_FACTOR: f64 = 0.1;
const REGEX_STRING_LENGTH_COST_FACTOR: f64 = 0.25;

// ---------------------------------------------------------------------------------------------
// types

#[derive(Debug, Clone)]
enum Ty<'d> {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Null,
    Duration,
    Timestamp,
    List(Box<Ty<'d>>),
    Map(Box<Ty<'d>>, Box<Ty<'d>>),
    Obj(&'d Decl),
    Dyn,
    TypeT,
    Opt(Box<Ty<'d>>),
    Opaque(&'static str),
}

impl<'d> Ty<'d> {
    fn of(d: &'d Decl) -> Ty<'d> {
        match &d.kind {
            DeclKind::Bool => Ty::Bool,
            DeclKind::Int => Ty::Int,
            DeclKind::Double => Ty::Double,
            DeclKind::String => Ty::String,
            DeclKind::Bytes => Ty::Bytes,
            DeclKind::Duration => Ty::Duration,
            DeclKind::Timestamp => Ty::Timestamp,
            DeclKind::Dyn => Ty::Dyn,
            DeclKind::List(e) => Ty::List(Box::new(Ty::of(e))),
            DeclKind::Map(k, v) => Ty::Map(Box::new(Ty::of(k)), Box::new(Ty::of(v))),
            DeclKind::Object(_) => Ty::Obj(d),
        }
    }

    fn is_dyn(&self) -> bool {
        matches!(self, Ty::Dyn)
    }

    fn is_scalar(&self) -> bool {
        match self {
            Ty::Bool | Ty::Double | Ty::Duration | Ty::Int | Ty::Timestamp | Ty::Uint => true,
            Ty::Opt(inner) => inner.is_scalar(),
            _ => false,
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Uint | Ty::Double)
    }

    fn name(&self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Uint => "uint".into(),
            Ty::Double => "double".into(),
            Ty::String => "string".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Null => "null_type".into(),
            Ty::Duration => "google.protobuf.Duration".into(),
            Ty::Timestamp => "google.protobuf.Timestamp".into(),
            Ty::List(e) => format!("list({})", e.name()),
            Ty::Map(k, v) => format!("map({}, {})", k.name(), v.name()),
            Ty::Obj(_) => "object".into(),
            Ty::Dyn => "dyn".into(),
            Ty::TypeT => "type".into(),
            Ty::Opt(e) => format!("optional_type({})", e.name()),
            Ty::Opaque(n) => (*n).into(),
        }
    }

    /// List element or map key type (`Type.Parameters()[0]`).
    fn first_param(&self) -> Option<Ty<'d>> {
        match self {
            Ty::List(e) => Some((**e).clone()),
            Ty::Map(k, _) => Some((**k).clone()),
            Ty::Opt(e) => Some((**e).clone()),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// type checking

#[derive(Debug, Clone)]
struct CallInfo {
    /// Function name as cel-go's checker resolves it (`sets.contains` for a namespaced call).
    function: String,
    /// Whether the call has a receiver (a namespaced call has none).
    member: bool,
    overloads: Vec<&'static str>,
}

struct Checker<'d> {
    root: Ty<'d>,
    old_self: Ty<'d>,
    types: HashMap<u64, Ty<'d>>,
    calls: HashMap<u64, CallInfo>,
    scope: Vec<(String, Ty<'d>)>,
    errors: Vec<String>,
    unsupported: Option<String>,
    uses_old_self: bool,
}

const NAMESPACES: &[&str] = &[
    "sets", "strings", "optional", "lists", "format", "ip", "math",
];

const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
];

impl<'d> Checker<'d> {
    fn lookup(&self, name: &str) -> Option<Ty<'d>> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    }

    fn err(&mut self, msg: String) {
        if !self.errors.contains(&msg) {
            self.errors.push(msg);
        }
    }

    fn check(&mut self, e: &IdedExpr) -> Ty<'d> {
        let t = self.check_inner(e);
        self.types.insert(e.id, t.clone());
        t
    }

    fn check_inner(&mut self, e: &IdedExpr) -> Ty<'d> {
        match &e.expr {
            Expr::Unspecified => Ty::Dyn,
            Expr::Literal(l) => match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::Int(_) => Ty::Int,
                LiteralValue::Null => Ty::Null,
                LiteralValue::String(_) => Ty::String,
                LiteralValue::UInt(_) => Ty::Uint,
            },
            Expr::Ident(name) => {
                if let Some(t) = self.lookup(name) {
                    return t;
                }
                match name.as_str() {
                    "self" => self.root.clone(),
                    "oldSelf" => {
                        self.uses_old_self = true;
                        self.old_self.clone()
                    }
                    n if TYPE_NAMES.contains(&n) => Ty::TypeT,
                    n => {
                        self.err(format!("undeclared reference to '{n}' (in container '')"));
                        Ty::Dyn
                    }
                }
            }
            Expr::Select(sel) => {
                let operand = self.check(&sel.operand);
                let field_ty = self.select_type(&operand, &sel.field);
                if sel.test { Ty::Bool } else { field_ty }
            }
            Expr::List(list) => {
                let mut elem: Option<Ty<'d>> = None;
                for el in &list.elements {
                    let t = self.check(el);
                    elem = Some(match elem {
                        None => t,
                        Some(prev) if same_kind(&prev, &t) => prev,
                        Some(_) => Ty::Dyn,
                    });
                }
                Ty::List(Box::new(elem.unwrap_or(Ty::Dyn)))
            }
            Expr::Map(map) => {
                let mut kt: Option<Ty<'d>> = None;
                let mut vt: Option<Ty<'d>> = None;
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        let k = self.check(&me.key);
                        let v = self.check(&me.value);
                        kt = Some(
                            kt.map_or(k.clone(), |p| if same_kind(&p, &k) { p } else { Ty::Dyn }),
                        );
                        vt = Some(
                            vt.map_or(v.clone(), |p| if same_kind(&p, &v) { p } else { Ty::Dyn }),
                        );
                    }
                }
                Ty::Map(
                    Box::new(kt.unwrap_or(Ty::Dyn)),
                    Box::new(vt.unwrap_or(Ty::Dyn)),
                )
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.check(&f.value);
                    }
                }
                self.err(format!(
                    "undeclared reference to '{}' (in container '')",
                    s.type_name
                ));
                Ty::Dyn
            }
            Expr::Comprehension(comp) => self.check_comprehension(comp),
            Expr::Call(call) => self.check_call(e.id, call),
        }
    }

    fn select_type(&mut self, operand: &Ty<'d>, field: &str) -> Ty<'d> {
        match operand {
            Ty::Obj(decl) => match &decl.kind {
                DeclKind::Object(fields) => match fields.get(field) {
                    Some(f) => Ty::of(f),
                    None => {
                        self.err(format!("undefined field '{field}'"));
                        Ty::Dyn
                    }
                },
                _ => Ty::Dyn,
            },
            Ty::Map(_, v) => (**v).clone(),
            Ty::Dyn => Ty::Dyn,
            Ty::Opt(_) | Ty::Opaque(_) | Ty::TypeT => Ty::Dyn,
            other => {
                self.err(format!(
                    "type '{}' does not support field selection",
                    other.name()
                ));
                Ty::Dyn
            }
        }
    }

    fn check_comprehension(&mut self, comp: &ComprehensionExpr) -> Ty<'d> {
        let range = self.check(&comp.iter_range);
        let init = self.check(&comp.accu_init);
        let (iter_ty, iter2_ty) = match &range {
            Ty::List(e) => (
                if comp.iter_var2.is_some() {
                    Ty::Int
                } else {
                    (**e).clone()
                },
                (**e).clone(),
            ),
            Ty::Map(k, v) => ((**k).clone(), (**v).clone()),
            _ => (Ty::Dyn, Ty::Dyn),
        };
        self.scope.push((comp.accu_var.clone(), init.clone()));
        self.scope.push((comp.iter_var.clone(), iter_ty));
        if let Some(v2) = &comp.iter_var2 {
            self.scope.push((v2.clone(), iter2_ty));
        }
        self.check(&comp.loop_cond);
        let step = self.check(&comp.loop_step);
        if comp.iter_var2.is_some() {
            self.scope.pop();
        }
        self.scope.pop();
        // the accumulator takes the step's type (a list built by map/filter)
        if let Some(slot) = self.scope.last_mut() {
            slot.1 = match (&init, &step) {
                (Ty::List(e), Ty::List(s)) if e.is_dyn() => Ty::List(s.clone()),
                _ => init.clone(),
            };
        }
        let result = self.check(&comp.result);
        self.scope.pop();
        result
    }

    fn check_call(&mut self, id: u64, call: &CallExpr) -> Ty<'d> {
        let name = call.func_name.as_str();
        // a namespaced global function (`sets.contains(a, b)`) parses as a member call on an
        // identifier that is not a variable
        let mut function = name.to_string();
        let mut target: Option<&IdedExpr> = call.target.as_deref();
        if let Some(t) = target
            && let Expr::Ident(ns) = &t.expr
            && NAMESPACES.contains(&ns.as_str())
            && self.lookup(ns).is_none()
        {
            function = format!("{ns}.{name}");
            target = None;
        }
        let two_var = matches!(
            function.as_str(),
            "all"
                | "exists"
                | "existsOne"
                | "exists_one"
                | "transformList"
                | "transformMap"
                | "transformMapEntry"
        ) && call.args.len() >= 3;
        let other_macro = matches!(function.as_str(), "sortBy" | "optMap" | "optFlatMap");
        if target.is_some() && (two_var || other_macro) {
            self.unsupported = Some(format!(
                "the offline checker does not support the `{function}` macro with these arguments"
            ));
            return Ty::Dyn;
        }
        let tt = target.map(|t| self.check(t));
        let args: Vec<Ty<'d>> = call.args.iter().map(|a| self.check(a)).collect();
        let (ty, overloads) = self.resolve(&function, tt.as_ref(), &args);
        self.calls.insert(
            id,
            CallInfo {
                function,
                member: target.is_some(),
                overloads,
            },
        );
        ty
    }

    fn no_overload(&mut self, f: &str, target: Option<&Ty<'d>>, args: &[Ty<'d>]) {
        let a: Vec<String> = args.iter().map(Ty::name).collect();
        let msg = match target {
            Some(t) => format!(
                "found no matching overload for '{f}' applied to '{}.({})'",
                t.name(),
                a.join(", ")
            ),
            None => format!(
                "found no matching overload for '{f}' applied to '({})'",
                a.join(", ")
            ),
        };
        self.err(msg);
    }

    fn resolve(
        &mut self,
        f: &str,
        target: Option<&Ty<'d>>,
        args: &[Ty<'d>],
    ) -> (Ty<'d>, Vec<&'static str>) {
        let a0 = args.first().cloned().unwrap_or(Ty::Dyn);
        let a1 = args.get(1).cloned().unwrap_or(Ty::Dyn);
        let ordering = |s: &'static str, b: &'static str, o: &'static str| -> Vec<&'static str> {
            let any = |t: &Ty| matches!(t, Ty::String);
            let anyb = |t: &Ty| matches!(t, Ty::Bytes);
            if any(&a0) || any(&a1) {
                vec![s]
            } else if anyb(&a0) || anyb(&a1) {
                vec![b]
            } else if a0.is_dyn() && a1.is_dyn() {
                vec![s, b, o]
            } else {
                vec![o]
            }
        };
        match f {
            "_&&_" => (Ty::Bool, vec!["logical_and"]),
            "_||_" => (Ty::Bool, vec!["logical_or"]),
            "!_" => (Ty::Bool, vec!["logical_not"]),
            "@not_strictly_false" => (Ty::Bool, vec!["not_strictly_false"]),
            "_?_:_" => {
                let t = if a1.is_dyn() {
                    args.get(2).cloned().unwrap_or(Ty::Dyn)
                } else {
                    a1
                };
                (t, vec!["conditional"])
            }
            "_==_" | "_!=_" => {
                // equality takes two values of one type (no numeric cross-type overloads)
                if incompatible_ordering(&a0, &a1) || incompatible_arith(&a0, &a1) {
                    self.no_overload(f, None, args);
                }
                (
                    Ty::Bool,
                    vec![if f == "_==_" { "equals" } else { "not_equals" }],
                )
            }
            "_<_" | "_<=_" | "_>_" | "_>=_" => {
                if incompatible_ordering(&a0, &a1) {
                    self.no_overload(f, None, args);
                }
                let ids = match f {
                    "_<_" => ordering("less_string", "less_bytes", "less_other"),
                    "_<=_" => ordering(
                        "less_equals_string",
                        "less_equals_bytes",
                        "less_equals_other",
                    ),
                    "_>_" => ordering("greater_string", "greater_bytes", "greater_other"),
                    _ => ordering(
                        "greater_equals_string",
                        "greater_equals_bytes",
                        "greater_equals_other",
                    ),
                };
                (Ty::Bool, ids)
            }
            "_+_" => {
                if incompatible_arith(&a0, &a1) {
                    self.no_overload(f, None, args);
                }
                let concrete = if a0.is_dyn() { a1.clone() } else { a0.clone() };
                match concrete {
                    Ty::String => (Ty::String, vec!["add_string"]),
                    Ty::Bytes => (Ty::Bytes, vec!["add_bytes"]),
                    Ty::List(e) => {
                        let elem = if e.is_dyn() {
                            a1.first_param().unwrap_or(Ty::Dyn)
                        } else {
                            *e
                        };
                        (Ty::List(Box::new(elem)), vec!["add_list"])
                    }
                    Ty::Dyn => (
                        Ty::Dyn,
                        vec!["add_string", "add_bytes", "add_list", "add_other"],
                    ),
                    Ty::Duration if matches!(a1, Ty::Timestamp) => {
                        (Ty::Timestamp, vec!["add_other"])
                    }
                    t => (t, vec!["add_other"]),
                }
            }
            "_-_" | "_*_" | "_/_" | "_%_" => {
                if incompatible_arith(&a0, &a1) {
                    self.no_overload(f, None, args);
                }
                let t = match (&a0, &a1) {
                    (Ty::Timestamp, Ty::Timestamp) => Ty::Duration,
                    (Ty::Dyn, t) => t.clone(),
                    (t, _) => t.clone(),
                };
                (t, vec!["arith"])
            }
            "-_" => (a0, vec!["negate"]),
            "_[_]" => match &a0 {
                Ty::List(e) => ((**e).clone(), vec!["index_list"]),
                Ty::Map(_, v) => ((**v).clone(), vec!["index_map"]),
                Ty::Obj(_) => (Ty::Dyn, vec!["index_map"]),
                _ => (Ty::Dyn, vec!["index_list", "index_map"]),
            },
            "_[?_]" => match &a0 {
                Ty::List(e) => (Ty::Opt(e.clone()), vec!["optional_index"]),
                Ty::Map(_, v) => (Ty::Opt(v.clone()), vec!["optional_index"]),
                _ => (Ty::Opt(Box::new(Ty::Dyn)), vec!["optional_index"]),
            },
            "_?._" => {
                let field = match call_literal_field(args) {
                    Some(_) => Ty::Dyn,
                    None => Ty::Dyn,
                };
                (Ty::Opt(Box::new(field)), vec!["optional_select"])
            }
            "@in" => match &a1 {
                Ty::List(_) => (Ty::Bool, vec!["in_list"]),
                Ty::Map(..) => (Ty::Bool, vec!["in_map"]),
                _ => (Ty::Bool, vec!["in_list", "in_map"]),
            },
            "size" => (Ty::Int, vec!["size"]),
            "matches" => {
                if target.is_some() {
                    (Ty::Bool, vec!["matches_string"])
                } else {
                    (Ty::Bool, vec!["matches"])
                }
            }
            "contains" => (Ty::Bool, vec!["contains_string"]),
            "startsWith" => (Ty::Bool, vec!["starts_with_string"]),
            "endsWith" => (Ty::Bool, vec!["ends_with_string"]),
            "int" => (Ty::Int, vec!["int"]),
            "uint" => (Ty::Uint, vec!["uint"]),
            "double" => (Ty::Double, vec!["double"]),
            "bool" => (Ty::Bool, vec!["bool"]),
            "string" => match a0 {
                Ty::Bytes => (Ty::String, vec!["bytes_to_string"]),
                _ => (Ty::String, vec!["string"]),
            },
            "bytes" => match a0 {
                Ty::String => (Ty::Bytes, vec!["string_to_bytes"]),
                _ => (Ty::Bytes, vec!["bytes"]),
            },
            "duration" => (Ty::Duration, vec!["duration"]),
            "timestamp" => (Ty::Timestamp, vec!["timestamp"]),
            "dyn" => (Ty::Dyn, vec!["dyn"]),
            "type" => (Ty::TypeT, vec!["type"]),
            "getFullYear" | "getMonth" | "getDate" | "getDayOfMonth" | "getDayOfWeek"
            | "getDayOfYear" | "getHours" | "getMinutes" | "getSeconds" | "getMilliseconds" => {
                (Ty::Int, vec!["time_accessor"])
            }
            // strings extension (version 2)
            "charAt" | "lowerAscii" | "upperAscii" | "replace" | "substring" | "trim" => {
                (Ty::String, vec!["strings_ext"])
            }
            "format" => (Ty::String, vec!["string_format"]),
            "strings.quote" => (Ty::String, vec!["strings_quote"]),
            "split" => (Ty::List(Box::new(Ty::String)), vec!["strings_ext"]),
            "join" => (Ty::String, vec!["strings_ext"]),
            "indexOf" | "lastIndexOf" => (Ty::Int, vec!["index_of"]),
            // Kubernetes lists library
            "isSorted" => (Ty::Bool, vec!["lists_k8s"]),
            "sum" | "max" | "min" => (
                target.and_then(Ty::first_param).unwrap_or(Ty::Dyn),
                vec!["lists_k8s"],
            ),
            "includes" => (Ty::Bool, vec!["lists_k8s"]),
            // cel-go lists extension (version 3)
            "slice" | "reverse" | "distinct" | "sort" => {
                (target.cloned().unwrap_or(Ty::Dyn), vec!["lists_ext"])
            }
            "flatten" => (Ty::List(Box::new(Ty::Dyn)), vec!["lists_ext"]),
            "lists.range" => (Ty::List(Box::new(Ty::Int)), vec!["lists_ext"]),
            "first" | "last" => (
                Ty::Opt(Box::new(
                    target.and_then(Ty::first_param).unwrap_or(Ty::Dyn),
                )),
                vec!["lists_ext"],
            ),
            // sets extension
            "sets.contains" => (Ty::Bool, vec!["list_sets_contains_list"]),
            "sets.intersects" => (Ty::Bool, vec!["list_sets_intersects_list"]),
            "sets.equivalent" => (Ty::Bool, vec!["list_sets_equivalent_list"]),
            // regex library
            "find" => (Ty::String, vec!["regex"]),
            "findAll" => (Ty::List(Box::new(Ty::String)), vec!["regex"]),
            // URLs
            "url" => (Ty::Opaque("kubernetes.URL"), vec!["url"]),
            "isURL" => (Ty::Bool, vec!["url"]),
            "getScheme" | "getHost" | "getHostname" | "getPort" | "getEscapedPath" => {
                (Ty::String, vec!["url"])
            }
            "getQuery" => (
                Ty::Map(
                    Box::new(Ty::String),
                    Box::new(Ty::List(Box::new(Ty::String))),
                ),
                vec!["url"],
            ),
            // quantity / semver (shared member names)
            "quantity" => (Ty::Opaque("kubernetes.Quantity"), vec!["quantity"]),
            "isQuantity" | "isSemver" | "isInteger" | "isGreaterThan" | "isLessThan" => {
                (Ty::Bool, vec!["quantity"])
            }
            "semver" => (Ty::Opaque("kubernetes.Semver"), vec!["semver"]),
            "sign" | "asInteger" | "compareTo" | "major" | "minor" | "patch" => {
                (Ty::Int, vec!["quantity"])
            }
            "asApproximateFloat" => (Ty::Double, vec!["quantity"]),
            "add" | "sub" => (Ty::Opaque("kubernetes.Quantity"), vec!["quantity"]),
            // IP / CIDR
            "ip" => (
                Ty::Opaque("net.IP"),
                vec![if matches!(target, Some(Ty::Opaque("net.CIDR"))) {
                    "cidr_ip"
                } else {
                    "ip"
                }],
            ),
            "cidr" | "masked" => (Ty::Opaque("net.CIDR"), vec!["cidr"]),
            "isIP"
            | "isCIDR"
            | "ip.isCanonical"
            | "isUnspecified"
            | "isLoopback"
            | "isLinkLocalMulticast"
            | "isLinkLocalUnicast"
            | "isGlobalUnicast"
            | "containsIP"
            | "containsCIDR" => (Ty::Bool, vec!["ip"]),
            "family" | "prefixLength" => (Ty::Int, vec!["ip"]),
            // format library
            "format.named" => (
                Ty::Opt(Box::new(Ty::Opaque("kubernetes.NamedFormat"))),
                vec!["format"],
            ),
            "validate" => (
                Ty::Opt(Box::new(Ty::List(Box::new(Ty::String)))),
                vec!["format"],
            ),
            f if f.starts_with("format.") => (Ty::Opaque("kubernetes.NamedFormat"), vec!["format"]),
            // optionals
            "optional.of" | "optional.ofNonZeroValue" => (Ty::Opt(Box::new(a0)), vec!["optional"]),
            "optional.none" => (Ty::Opt(Box::new(Ty::Dyn)), vec!["optional"]),
            "hasValue" => (Ty::Bool, vec!["optional"]),
            "value" | "orValue" => (
                target.and_then(Ty::first_param).unwrap_or(Ty::Dyn),
                vec!["optional"],
            ),
            "or" => (target.cloned().unwrap_or(Ty::Dyn), vec!["optional"]),
            other => {
                self.err(format!(
                    "undeclared reference to '{other}' (in container '')"
                ));
                (Ty::Dyn, vec![])
            }
        }
    }
}

fn call_literal_field(args: &[Ty<'_>]) -> Option<()> {
    args.get(1).map(|_| ())
}

fn same_kind(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Ordering between a string/bytes/bool and a number (or string and bytes) has no overload.
fn incompatible_ordering(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    let class = |t: &Ty| match t {
        Ty::Int | Ty::Uint | Ty::Double => Some(0),
        Ty::String => Some(1),
        Ty::Bytes => Some(2),
        Ty::Bool => Some(3),
        Ty::Duration => Some(4),
        Ty::Timestamp => Some(5),
        _ => None,
    };
    matches!((class(a), class(b)), (Some(x), Some(y)) if x != y)
}

/// Arithmetic between different primitive types (CEL has no implicit numeric conversion).
fn incompatible_arith(a: &Ty<'_>, b: &Ty<'_>) -> bool {
    let prim = |t: &Ty| t.is_numeric() || matches!(t, Ty::String | Ty::Bytes | Ty::Bool);
    prim(a) && prim(b) && !same_kind(a, b)
}

// ---------------------------------------------------------------------------------------------
// cost

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Size {
    min: u64,
    max: u64,
}

impl Size {
    const UNKNOWN: Size = Size {
        min: 0,
        max: u64::MAX,
    };

    fn times_cost(self, c: Cost) -> Cost {
        Cost {
            min: self.min.saturating_mul(c.min),
            max: self.max.saturating_mul(c.max),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cost {
    min: u64,
    max: u64,
}

/// The interval arithmetic cel-go's `SizeEstimate` and `CostEstimate` share: a fixed value,
/// saturating sum and product, the union of two ranges, and a cost factor (ceil, saturating).
macro_rules! interval_ops {
    ($t:ident) => {
        impl $t {
            fn fixed(v: u64) -> $t {
                $t { min: v, max: v }
            }
            fn add(self, o: $t) -> $t {
                $t {
                    min: self.min.saturating_add(o.min),
                    max: self.max.saturating_add(o.max),
                }
            }
            fn multiply(self, o: $t) -> $t {
                $t {
                    min: self.min.saturating_mul(o.min),
                    max: self.max.saturating_mul(o.max),
                }
            }
            fn union(self, o: $t) -> $t {
                $t {
                    min: self.min.min(o.min),
                    max: self.max.max(o.max),
                }
            }
            fn factor(self, f: f64) -> Cost {
                Cost {
                    min: mul_factor(self.min, f),
                    max: mul_factor(self.max, f),
                }
            }
        }
    };
}
interval_ops!(Size);
interval_ops!(Cost);

/// One bound of the size of `replace`'s result, as (replacements, characters kept) for a string
/// of `len` characters when the replaced text is `divisor` long (0: it matches between every
/// character) and `unchanged` says a replacement cannot move this bound.
fn replace_bound(len: u64, divisor: u64, unchanged: bool) -> (u64, u64) {
    if divisor == 0 {
        (len.saturating_add(1), len)
    } else if unchanged {
        (0, len)
    } else {
        ((len as f64 / divisor as f64).ceil() as u64, 0)
    }
}

/// `multiplyByCostFactor`: ceil(x·f), saturating at u64::MAX.
fn mul_factor(x: u64, f: f64) -> u64 {
    let xf = x as f64;
    if xf > 0.0 && f > 0.0 && xf > u64::MAX as f64 / f {
        return u64::MAX;
    }
    let c = (xf * f).ceil();
    if c >= 18_446_744_073_709_551_616.0 {
        u64::MAX
    } else {
        c as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    List,
    Map,
}

#[derive(Debug, Clone, Copy)]
struct EntrySize {
    container: Container,
    key: Size,
    val: Size,
}

impl EntrySize {
    fn union(a: Option<EntrySize>, b: Option<EntrySize>) -> Option<EntrySize> {
        let (a, b) = (a?, b?);
        Some(EntrySize {
            container: a.container,
            key: a.key.union(b.key),
            val: a.val.union(b.val),
        })
    }
}

#[derive(Debug, Clone)]
struct LocalVar {
    path: Vec<String>,
    size: Option<Size>,
    entry: Option<EntrySize>,
}

/// `checker.AstNode`.
struct Node<'e, 'd> {
    path: Vec<String>,
    ty: Ty<'d>,
    expr: Option<&'e IdedExpr>,
    derived: Option<Size>,
}

struct Coster<'c, 'd> {
    checked: &'c Checker<'d>,
    root: &'d Decl,
    paths: HashMap<u64, Vec<String>>,
    sizes: HashMap<u64, Size>,
    entries: HashMap<u64, EntrySize>,
    locals: HashMap<String, Vec<LocalVar>>,
}

fn is_accumulator(name: &str) -> bool {
    name == "@result" || name == "__result__"
}

impl<'c, 'd> Coster<'c, 'd> {
    fn ty(&self, e: &IdedExpr) -> Ty<'d> {
        self.checked.types.get(&e.id).cloned().unwrap_or(Ty::Dyn)
    }

    fn peek(&self, name: &str) -> Option<&LocalVar> {
        self.locals.get(name).and_then(|v| v.last())
    }

    fn path(&self, e: &IdedExpr) -> Vec<String> {
        if let Expr::Ident(name) = &e.expr
            && let Some(v) = self.peek(name)
        {
            return v.path.clone();
        }
        self.paths.get(&e.id).cloned().unwrap_or_default()
    }

    /// The Kubernetes `sizeEstimator.EstimateSize`: walk the declarations along the path
    /// (its first element, the variable, is skipped).
    fn estimate_size(&self, path: &[String]) -> Option<Size> {
        if path.is_empty() {
            return None;
        }
        let mut cur = self.root;
        for name in &path[1..] {
            cur = match (name.as_str(), &cur.kind) {
                ("@items" | "@values", DeclKind::List(e)) => e,
                ("@items" | "@values", DeclKind::Map(_, v)) => v,
                ("@items" | "@values", _) => return None,
                ("@keys", DeclKind::Map(k, _)) => k,
                ("@keys", _) => return None,
                (field, DeclKind::Object(fields)) => fields.get(field)?,
                _ => return None,
            };
        }
        Some(Size {
            min: 0,
            max: cur.max_elements.max(0) as u64,
        })
    }

    fn compute_size(&mut self, e: &IdedExpr) -> Option<Size> {
        if let Some(s) = self.sizes.get(&e.id) {
            return Some(*s);
        }
        if let Some(s) = expr_size(e) {
            return Some(s);
        }
        let path = self.path(e);
        if let Some(s) = self.estimate_size(&path) {
            self.sizes.insert(e.id, s);
            return Some(s);
        }
        if self.ty(e).is_scalar() {
            return Some(Size::fixed(1));
        }
        if let Expr::Ident(name) = &e.expr
            && let Some(v) = self.peek(name)
            && let Some(s) = v.size
        {
            return Some(s);
        }
        None
    }

    fn size_or_unknown(&mut self, e: &IdedExpr) -> Size {
        self.compute_size(e).unwrap_or(Size::UNKNOWN)
    }

    fn node_size(&self, n: &Node<'_, 'd>) -> Size {
        n.derived.unwrap_or(Size::UNKNOWN)
    }

    /// The Kubernetes `CostEstimator.sizeEstimate`: computed size, else the schema's estimate.
    fn k8s_size(&self, n: &Node<'_, 'd>) -> Size {
        if let Some(s) = n.derived {
            return s;
        }
        self.estimate_size(&n.path).unwrap_or(Size::UNKNOWN)
    }

    fn entry_size(&self, e: &IdedExpr) -> Option<EntrySize> {
        if let Some(s) = self.entries.get(&e.id) {
            return Some(*s);
        }
        if let Expr::Ident(name) = &e.expr
            && let Some(v) = self.peek(name)
        {
            return v.entry;
        }
        None
    }

    fn new_node<'e>(&mut self, e: &'e IdedExpr) -> Node<'e, 'd> {
        let mut path = self.path(e);
        if path.first().is_some_and(|p| is_accumulator(p)) {
            path.clear();
        }
        Node {
            path,
            ty: self.ty(e),
            expr: Some(e),
            derived: self.compute_size(e),
        }
    }

    fn push_local(&mut self, name: &str, v: LocalVar) {
        self.locals.entry(name.to_string()).or_default().push(v);
    }

    fn pop_local(&mut self, name: &str) {
        if let Some(v) = self.locals.get_mut(name) {
            v.pop();
        }
    }

    fn cost(&mut self, e: &IdedExpr) -> Cost {
        match &e.expr {
            Expr::Literal(_) => Cost::default(),
            Expr::Ident(name) => {
                let path = match self.peek(name) {
                    Some(v) => v.path.clone(),
                    None => vec![name.clone()],
                };
                self.paths.insert(e.id, path);
                Cost::fixed(SELECT_AND_IDENT_COST)
            }
            Expr::Select(sel) => {
                if sel.test {
                    // Kubernetes: PresenceTestHasCost(false)
                    return self.cost(&sel.operand);
                }
                let mut sum = self.cost(&sel.operand);
                if matches!(self.ty(&sel.operand), Ty::Map(..) | Ty::Obj(_)) {
                    sum = sum.add(Cost::fixed(SELECT_AND_IDENT_COST));
                }
                let mut p = self.path(&sel.operand);
                p.push(sel.field.clone());
                self.paths.insert(e.id, p);
                sum
            }
            Expr::Call(call) => self.cost_call(e, call),
            Expr::List(list) => {
                let mut sum = Cost::default();
                let mut item = Size {
                    min: u64::MAX,
                    max: 0,
                };
                if list.elements.is_empty() {
                    item.min = 0;
                }
                for el in &list.elements {
                    sum = sum.add(self.cost(el));
                    let s = self.size_or_unknown(el);
                    item = item.union(s);
                }
                self.entries.insert(
                    e.id,
                    EntrySize {
                        container: Container::List,
                        key: Size::fixed(1),
                        val: item,
                    },
                );
                sum.add(Cost::fixed(LIST_CREATE_BASE_COST))
            }
            Expr::Map(map) => {
                let mut sum = Cost::default();
                let mut ks = Size {
                    min: u64::MAX,
                    max: 0,
                };
                let mut vs = ks;
                if map.entries.is_empty() {
                    ks.min = 0;
                    vs.min = 0;
                }
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        sum = sum.add(self.cost(&me.key));
                        sum = sum.add(self.cost(&me.value));
                        let k = self.size_or_unknown(&me.key);
                        ks = ks.union(k);
                        let v = self.size_or_unknown(&me.value);
                        vs = vs.union(v);
                    }
                }
                self.entries.insert(
                    e.id,
                    EntrySize {
                        container: Container::Map,
                        key: ks,
                        val: vs,
                    },
                );
                sum.add(Cost::fixed(MAP_CREATE_BASE_COST))
            }
            Expr::Struct(s) => {
                let mut sum = Cost::default();
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        sum = sum.add(self.cost(&f.value));
                    }
                }
                sum.add(Cost::fixed(STRUCT_CREATE_BASE_COST))
            }
            Expr::Comprehension(comp) => self.cost_comprehension(e, comp),
            Expr::Unspecified => Cost::default(),
        }
    }

    fn container_of(&self, range: &IdedExpr, entry: Option<EntrySize>) -> Option<Container> {
        match entry {
            Some(es) => Some(es.container),
            None => match self.ty(range) {
                Ty::List(_) => Some(Container::List),
                Ty::Map(..) => Some(Container::Map),
                _ => None,
            },
        }
    }

    fn cost_comprehension(&mut self, e: &IdedExpr, comp: &ComprehensionExpr) -> Cost {
        let mut sum = self.cost(&comp.iter_range);
        sum = sum.add(self.cost(&comp.accu_init));
        // accumulator
        let accu = LocalVar {
            path: self.path(&comp.accu_init),
            size: self.compute_size(&comp.accu_init),
            entry: self.entry_size(&comp.accu_init),
        };
        self.push_local(&comp.accu_var, accu);
        let entry = self.entry_size(&comp.iter_range);
        let container = self.container_of(&comp.iter_range, entry);
        let range_path = self.path(&comp.iter_range);
        if let Some(v2) = &comp.iter_var2 {
            let key_sub = if container == Some(Container::List) {
                "@indices"
            } else {
                "@keys"
            };
            let mut kp = range_path.clone();
            kp.push(key_sub.into());
            self.push_local(
                &comp.iter_var,
                LocalVar {
                    path: kp,
                    size: entry.map(|e| e.key),
                    entry: None,
                },
            );
            let val_sub = if container == Some(Container::List) {
                "@items"
            } else {
                "@values"
            };
            let mut vp = range_path;
            vp.push(val_sub.into());
            self.push_local(
                v2,
                LocalVar {
                    path: vp,
                    size: entry.map(|e| e.val),
                    entry: None,
                },
            );
        } else {
            let (sub, size) = if container == Some(Container::List) {
                ("@items", entry.map(|e| e.val))
            } else {
                ("@keys", entry.map(|e| e.key))
            };
            let mut p = range_path;
            p.push(sub.into());
            self.push_local(
                &comp.iter_var,
                LocalVar {
                    path: p,
                    size,
                    entry: None,
                },
            );
        }
        let loop_cost = self.cost(&comp.loop_cond);
        let step_cost = self.cost(&comp.loop_step);
        self.pop_local(&comp.iter_var);
        if let Some(v2) = &comp.iter_var2 {
            self.pop_local(v2);
        }
        sum = sum.add(self.cost(&comp.result));
        self.pop_local(&comp.accu_var);
        let range_cnt = self.size_or_unknown(&comp.iter_range);
        sum = sum.add(range_cnt.times_cost(step_cost.add(loop_cost)));
        match &comp.accu_init.expr {
            Expr::Literal(_) => {
                if let Some(s) = self.compute_size(&comp.accu_init) {
                    self.sizes.insert(e.id, s);
                }
            }
            Expr::List(_) | Expr::Map(_) => {
                self.sizes.insert(e.id, range_cnt);
                if let Some(es) = self.entry_size(&comp.loop_step) {
                    self.entries.insert(e.id, es);
                }
            }
            _ => {}
        }
        sum
    }

    fn cost_call(&mut self, e: &IdedExpr, call: &CallExpr) -> Cost {
        let Some(info) = self.checked.calls.get(&e.id).cloned() else {
            // `dyn(x)` and unresolved calls
            if call.func_name == "dyn" && call.args.len() == 1 {
                let c = self.cost(&call.args[0]);
                if let Some(s) = self.compute_size(&call.args[0]) {
                    self.sizes.insert(e.id, s);
                }
                if let Some(es) = self.entry_size(&call.args[0]) {
                    self.entries.insert(e.id, es);
                }
                return Cost::fixed(1).add(c);
            }
            return Cost::default();
        };
        if info.function == "dyn" && call.args.len() == 1 {
            let c = self.cost(&call.args[0]);
            if let Some(s) = self.compute_size(&call.args[0]) {
                self.sizes.insert(e.id, s);
            }
            if let Some(es) = self.entry_size(&call.args[0]) {
                self.entries.insert(e.id, es);
            }
            return Cost::fixed(1).add(c);
        }
        let mut arg_costs = Vec::with_capacity(call.args.len());
        let mut arg_nodes = Vec::with_capacity(call.args.len());
        for a in &call.args {
            let c = self.cost(a);
            arg_costs.push(c);
            let n = self.new_node(a);
            arg_nodes.push(n);
        }
        if info.overloads.is_empty() {
            return Cost::default();
        }
        let mut sum = Cost::default();
        let mut target_node = None;
        if info.member
            && let Some(t) = call.target.as_deref()
        {
            sum = sum.add(self.cost(t));
            target_node = Some(self.new_node(t));
        }
        let mut fn_cost = Cost {
            min: u64::MAX,
            max: 0,
        };
        let mut result_size: Option<Size> = None;
        for overload in &info.overloads {
            let (c, rs) = self.function_cost(
                e,
                &info.function,
                overload,
                target_node.as_ref(),
                &arg_nodes,
                &arg_costs,
            );
            fn_cost = fn_cost.union(c);
            if let Some(rs) = rs {
                result_size = Some(match result_size {
                    None => rs,
                    Some(prev) => prev.union(rs),
                });
            }
            match *overload {
                "index_list" | "index_map" => {
                    if let Some(a0) = call.args.first() {
                        result_size = self.entry_size(a0).map(|es| es.val);
                        let mut p = self.path(a0);
                        p.push(
                            if *overload == "index_list" {
                                "@items"
                            } else {
                                "@values"
                            }
                            .into(),
                        );
                        self.paths.insert(e.id, p);
                    }
                }
                _ => {}
            }
            if result_size.is_none() {
                result_size = self.compute_size(e);
            }
        }
        if let Some(rs) = result_size {
            self.sizes.insert(e.id, rs);
        }
        sum.add(fn_cost)
    }

    #[allow(clippy::too_many_lines)]
    fn function_cost(
        &mut self,
        e: &IdedExpr,
        function: &str,
        overload: &str,
        target: Option<&Node<'_, 'd>>,
        args: &[Node<'_, 'd>],
        arg_costs: &[Cost],
    ) -> (Cost, Option<Size>) {
        let arg_sum = arg_costs.iter().fold(Cost::default(), |a, c| a.add(*c));
        // overload estimators of the cel-go extensions (sets)
        if let Some(f) = match overload {
            "list_sets_contains_list" | "list_sets_intersects_list" => Some(1.0),
            "list_sets_equivalent_list" => Some(2.0),
            _ => None,
        } && args.len() == 2
        {
            let s0 = self.k8s_size(&args[0]);
            let s1 = self.k8s_size(&args[1]);
            let c = s0.multiply(s1).factor(f).add(Cost::fixed(1));
            return (c.add(arg_sum), None);
        }
        // the Kubernetes library estimator
        if let Some((c, rs)) = self.k8s_call_cost(function, overload, target, args) {
            return (c.add(arg_sum), rs);
        }
        let t = STRING_TRAVERSAL_COST_FACTOR;
        match overload {
            "string_format" => {
                if let Some(tn) = target {
                    return (self.node_size(tn).factor(t).add(arg_sum), None);
                }
            }
            "string_to_bytes" if args.len() == 1 => {
                let sz = self.node_size(&args[0]);
                return (
                    sz.factor(t).add(arg_sum),
                    Some(Size {
                        min: sz.min,
                        max: sz.max.saturating_mul(4),
                    }),
                );
            }
            "bytes_to_string" if args.len() == 1 => {
                let sz = self.node_size(&args[0]);
                return (
                    sz.factor(t).add(arg_sum),
                    Some(Size {
                        min: sz.min / 4,
                        max: sz.max,
                    }),
                );
            }
            "strings_quote" if args.len() == 1 => {
                let sz = self.node_size(&args[0]);
                return (
                    sz.factor(t).add(arg_sum),
                    Some(Size {
                        min: sz.min.saturating_add(2),
                        max: sz.max.saturating_mul(2).saturating_add(2),
                    }),
                );
            }
            "starts_with_string" | "ends_with_string" if args.len() == 1 => {
                return (self.node_size(&args[0]).factor(t).add(arg_sum), None);
            }
            "in_list" if args.len() == 2 => {
                return (self.node_size(&args[1]).factor(1.0).add(arg_sum), None);
            }
            "matches" | "matches_string" => {
                let pair = if overload == "matches_string" && args.len() == 1 {
                    target.map(|tn| (tn, &args[0]))
                } else if overload == "matches" && target.is_none() && args.len() == 2 {
                    Some((&args[0], &args[1]))
                } else {
                    None
                };
                if let Some((s, r)) = pair {
                    let str_cost = self.node_size(s).add(Size::fixed(1)).factor(t);
                    let regex_cost = self.node_size(r).factor(REGEX_STRING_LENGTH_COST_FACTOR);
                    return (str_cost.multiply(regex_cost).add(arg_sum), None);
                }
            }
            "contains_string" => {
                if let Some(tn) = target
                    && args.len() == 1
                {
                    let sc = self.node_size(tn).factor(t);
                    let nc = self.node_size(&args[0]).factor(t);
                    return (sc.multiply(nc).add(arg_sum), None);
                }
            }
            "logical_and" | "logical_or" if arg_costs.len() == 2 => {
                let (l, r) = (arg_costs[0], arg_costs[1]);
                return (
                    Cost {
                        min: l.min,
                        max: l.add(r).max,
                    },
                    None,
                );
            }
            "conditional" if args.len() == 3 => {
                let size = self.node_size(&args[1]).union(self.node_size(&args[2]));
                let es = EntrySize::union(
                    args[1].expr.and_then(|x| self.entry_size(x)),
                    args[2].expr.and_then(|x| self.entry_size(x)),
                );
                if let Some(es) = es {
                    self.entries.insert(e.id, es);
                }
                let c = arg_costs[0].add(arg_costs[1].union(arg_costs[2]));
                return (c, Some(size));
            }
            "add_string" | "add_bytes" | "add_list" if args.len() == 2 => {
                let result = self.node_size(&args[0]).add(self.node_size(&args[1]));
                let es = EntrySize::union(
                    args[0].expr.and_then(|x| self.entry_size(x)),
                    args[1].expr.and_then(|x| self.entry_size(x)),
                );
                if let Some(es) = es {
                    self.entries.insert(e.id, es);
                }
                if overload == "add_list" {
                    return (Cost::fixed(1).add(arg_sum), Some(result));
                }
                return (result.factor(t).add(arg_sum), Some(result));
            }
            "less_string"
            | "greater_string"
            | "less_equals_string"
            | "greater_equals_string"
            | "less_bytes"
            | "greater_bytes"
            | "less_equals_bytes"
            | "greater_equals_bytes"
            | "equals"
            | "not_equals"
                if args.len() == 2 =>
            {
                let l = self.node_size(&args[0]);
                let r = self.node_size(&args[1]);
                let smallest_max = l.max.min(r.max);
                let min = u64::from(smallest_max > 0);
                return (
                    Size {
                        min,
                        max: smallest_max,
                    }
                    .factor(t)
                    .add(arg_sum),
                    None,
                );
            }
            _ => {}
        }
        (Cost::fixed(1).add(arg_sum), None)
    }

    /// `k8s.io/apiserver/pkg/cel/library.CostEstimator.EstimateCallCost`.
    fn k8s_call_cost(
        &mut self,
        function: &str,
        overload: &str,
        target: Option<&Node<'_, 'd>>,
        args: &[Node<'_, 'd>],
    ) -> Option<(Cost, Option<Size>)> {
        let t = STRING_TRAVERSAL_COST_FACTOR;
        match function {
            "isSorted" | "sum" | "max" | "min" | "indexOf" | "lastIndexOf" | "includes" => {
                let tn = target?;
                let el = self.list_element_node(tn);
                if let Some((el_ty, el_path)) = el {
                    let mut el_cost = Cost::fixed(1);
                    if matches!(el_ty, Ty::String | Ty::Bytes) {
                        let sz = self.estimate_size(&el_path).unwrap_or(Size::UNKNOWN);
                        el_cost = el_cost.add(sz.factor(t));
                    }
                    Some((self.k8s_size(tn).times_cost(el_cost), None))
                } else if function == "includes" {
                    Some((self.k8s_size(tn).times_cost(Cost::fixed(1)), None))
                } else {
                    Some((self.k8s_size(tn).factor(t), None))
                }
            }
            "url" => {
                let a = args.first()?;
                let sz = self.k8s_size(a);
                Some((sz.factor(t), Some(sz)))
            }
            "lowerAscii" | "upperAscii" | "substring" | "trim" => {
                let tn = target?;
                let sz = self.k8s_size(tn);
                Some((sz.factor(t), Some(sz)))
            }
            "replace" => {
                let tn = target?;
                if args.len() < 2 {
                    return None;
                }
                let sz = self.k8s_size(tn);
                let to_replace = self.k8s_size(&args[0]);
                let with = self.k8s_size(&args[1]);
                let (count_max, retained_max) =
                    replace_bound(sz.max, to_replace.min, with.max <= to_replace.min);
                let (count_min, retained_min) =
                    replace_bound(sz.min, to_replace.max, to_replace.max <= with.min);
                let count = Size {
                    min: count_min,
                    max: count_max,
                };
                let retained = Size {
                    min: retained_min,
                    max: retained_max,
                };
                let size = count.multiply(with).add(retained);
                Some((sz.factor(2.0 * t), Some(size)))
            }
            "split" => {
                let tn = target?;
                let sz = self.k8s_size(tn);
                let mut max = sz.max;
                if let Some(a1) = args.get(1)
                    && let Some(IdedExpr {
                        expr: Expr::Literal(LiteralValue::Int(i)),
                        ..
                    }) = a1.expr
                {
                    max = **i as u64;
                }
                Some((sz.factor(2.0 * t), Some(Size { min: 0, max })))
            }
            "join" => {
                let tn = target?;
                let list = self.k8s_size(tn);
                let mut sz = Size { min: 0, max: 0 };
                if let Some((_, el_path)) = self.list_element_node(tn) {
                    let el = self.estimate_size(&el_path).unwrap_or(Size::UNKNOWN);
                    sz = list.multiply(el);
                }
                if let Some(sep) = args.first() {
                    let sep = self.k8s_size(sep);
                    let seps = Size {
                        min: list.min.saturating_sub(1),
                        max: list.max.saturating_sub(1),
                    };
                    sz = sz.add(sep.multiply(seps));
                }
                Some((sz.factor(t), Some(sz)))
            }
            "find" | "findAll" => {
                let tn = target?;
                let a = args.first()?;
                let sz = self.k8s_size(tn);
                let str_cost = sz.add(Size::fixed(1)).factor(t);
                let regex_cost = self.k8s_size(a).factor(REGEX_STRING_LENGTH_COST_FACTOR);
                Some((
                    str_cost.multiply(regex_cost),
                    Some(Size {
                        min: 0,
                        max: sz.max,
                    }),
                ))
            }
            "cidr" | "isIP" | "isCIDR" | "quantity" | "isQuantity" | "semver" | "isSemver" => {
                let a = args.first()?;
                Some((self.k8s_size(a).factor(t), None))
            }
            "ip" => {
                if overload == "cidr_ip" {
                    return Some((Cost::fixed(1), None));
                }
                let a = args.first()?;
                Some((self.k8s_size(a).factor(t), None))
            }
            "ip.isCanonical" => {
                let a = args.first()?;
                Some((self.k8s_size(a).factor(2.0 * t), None))
            }
            "masked"
            | "prefixLength"
            | "family"
            | "isUnspecified"
            | "isLoopback"
            | "isLinkLocalMulticast"
            | "isLinkLocalUnicast"
            | "isGlobalUnicast"
            | "format.named"
            | "sign"
            | "asInteger"
            | "isInteger"
            | "asApproximateFloat"
            | "isGreaterThan"
            | "isLessThan"
            | "compareTo"
            | "add"
            | "sub"
            | "major"
            | "minor"
            | "patch"
            | "getScheme"
            | "getHostname"
            | "getHost"
            | "getPort"
            | "getEscapedPath"
            | "getQuery" => Some((Cost::fixed(1), None)),
            "containsIP" | "containsCIDR" => {
                args.first()?;
                let sz = Size { min: 4, max: 16 };
                let mut c = sz.add(sz).factor(t);
                if function == "containsCIDR" {
                    c = c.add(sz.factor(t)).add(Cost::fixed(1));
                }
                // the string overloads parse their argument
                if let Some(a) = args.first()
                    && matches!(a.ty, Ty::String)
                {
                    c = c.add(Cost::from_size(self.k8s_size(a)).factor(t));
                }
                Some((c, None))
            }
            "_==_" => {
                if args.len() == 2
                    && let Ty::Opaque(n) = &args[0].ty
                    && matches!(&args[1].ty, Ty::Opaque(m) if m == n)
                {
                    return Some((Cost::fixed(1), None));
                }
                None
            }
            _ => None,
        }
    }

    /// `listElementNode`: the element (or map key) type and the `@items` path.
    fn list_element_node(&self, list: &Node<'_, 'd>) -> Option<(Ty<'d>, Vec<String>)> {
        let el = list.ty.first_param()?;
        let mut p = list.path.clone();
        if !p.is_empty() {
            p.push("@items".into());
        }
        Some((el, p))
    }
}

impl Cost {
    fn from_size(s: Size) -> Cost {
        Cost {
            min: s.min,
            max: s.max,
        }
    }
}

/// `computeExprSize`: sizes known from the expression itself.
fn expr_size(e: &IdedExpr) -> Option<Size> {
    let v = match &e.expr {
        Expr::Literal(l) => match l {
            LiteralValue::String(s) => s.chars().count() as u64,
            LiteralValue::Bytes(b) => b.len() as u64,
            _ => 1,
        },
        Expr::List(l) => l.elements.len() as u64,
        Expr::Map(m) => m.entries.len() as u64,
        _ => return None,
    };
    Some(Size::fixed(v))
}

// ---------------------------------------------------------------------------------------------
// public entry points

/// The result of compiling and estimating one rule.
#[derive(Debug, Clone, Default)]
pub struct RuleCostEstimate {
    /// Compilation errors (parse or type errors), in cel-go's wording where known.
    pub errors: Vec<String>,
    /// The rule's result is known not to be `bool`.
    pub not_bool: bool,
    /// The rule mentions `oldSelf` (a transition rule).
    pub uses_old_self: bool,
    /// The rule uses a construct the offline checker cannot analyse; no cost was estimated.
    pub unsupported: Option<String>,
    /// Worst-case cost of one evaluation (cel-go's `CostEstimate.Max`).
    pub max_cost: u64,
}

pub(crate) enum Expect {
    Bool,
    String,
}

pub(crate) fn analyse(
    rule: &str,
    decl: &Decl,
    optional_old_self: bool,
    expect: Expect,
) -> RuleCostEstimate {
    let mut out = RuleCostEstimate::default();
    let parsed = match cel::parser::Parser::new()
        .enable_optional_syntax(true)
        .parse(rule)
    {
        Ok(p) => p,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let root = Ty::of(decl);
    let old_self = if optional_old_self {
        Ty::Opt(Box::new(root.clone()))
    } else {
        root.clone()
    };
    let mut checker = Checker {
        root,
        old_self,
        types: HashMap::new(),
        calls: HashMap::new(),
        scope: Vec::new(),
        errors: Vec::new(),
        unsupported: None,
        uses_old_self: false,
    };
    let result = checker.check(&parsed);
    out.uses_old_self = checker.uses_old_self;
    if let Some(u) = checker.unsupported.take() {
        out.unsupported = Some(u);
        return out;
    }
    if !checker.errors.is_empty() {
        out.errors = checker
            .errors
            .iter()
            .map(|m| format!("ERROR: <input>: {m}"))
            .collect();
        return out;
    }
    out.not_bool = match expect {
        Expect::Bool => !matches!(result, Ty::Bool | Ty::Dyn),
        Expect::String => !matches!(result, Ty::String | Ty::Dyn),
    };
    let mut coster = Coster {
        checked: &checker,
        root: decl,
        paths: HashMap::new(),
        sizes: HashMap::new(),
        entries: HashMap::new(),
        locals: HashMap::new(),
    };
    out.max_cost = coster.cost(&parsed).max;
    out
}

/// Estimates the cost of one CEL rule written on a schema, as the API server does
/// (cel-go's estimator with the Kubernetes size estimates), without the cardinality factor of
/// the rule's position. `schema` is the OpenAPI schema the rule is attached to (as JSON);
/// `is_resource_root` adds the implicit `apiVersion`/`kind`/`metadata` of a resource root.
///
/// ```
/// let schema = serde_json::json!({
///     "type": "object",
///     "properties": {"names": {"type": "array", "maxItems": 10,
///                              "items": {"type": "string", "maxLength": 5}}}
/// });
/// let est = smi_validate::crd_check::estimate_rule_cost(
///     "self.names.all(n, n.startsWith('a'))", &schema, false);
/// assert!(est.errors.is_empty());
/// // 10 items × (1 for n, 1 for startsWith, 1 for the loop condition and 1 for `&&`…)
/// assert_eq!(est.max_cost, 53);
/// ```
pub fn estimate_rule_cost(
    rule: &str,
    schema: &serde_json::Value,
    is_resource_root: bool,
) -> RuleCostEstimate {
    match schema_decl(schema, is_resource_root) {
        Some(decl) => analyse(rule, &decl, false, Expect::Bool),
        None => RuleCostEstimate {
            errors: vec!["unable to convert structural schema to CEL declarations".into()],
            ..RuleCostEstimate::default()
        },
    }
}
