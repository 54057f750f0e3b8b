//! `ValidateCustomResourceDefinitionOpenAPISchema`: unsupported keywords, list and map types,
//! list-map keys, `x-kubernetes-validations` fields and the CEL rules' compilation and cost.

use serde_json::Value;

use super::cel_cost::{Expect, analyse};
use super::decl::{Decl, DeclKind, escape, schema_decl};
use super::schema::go_rule_json;
use super::schema::{b, i, props, s};
use super::{
    ErrorKind, FieldError, RuleCost, STATIC_ESTIMATED_COST_LIMIT, STATIC_ESTIMATED_CRD_COST_LIMIT,
};

#[derive(Clone, Default)]
pub(super) struct Ssv {
    pub(super) allow_defaults_forbidden: Option<String>,
    pub(super) inside_resource_meta: bool,
    pub(super) uncorrelatable: Option<String>,
}

#[derive(Clone, Copy)]
pub(super) struct CelCtx<'a> {
    pub(super) decl: Option<&'a Decl>,
    pub(super) json: &'a Value,
    /// `None` = unbounded
    pub(super) cardinality: Option<u64>,
    pub(super) in_scope: bool,
}

#[derive(Default)]
pub(super) struct Total {
    pub(super) total: u64,
    pub(super) most_expensive: Vec<(String, u64)>,
}

impl Total {
    fn observe(&mut self, path: &str, cost: u64) {
        self.total = self.total.saturating_add(cost);
        if cost < STATIC_ESTIMATED_CRD_COST_LIMIT / 100 {
            return;
        }
        self.most_expensive.push((path.to_string(), cost));
        self.most_expensive.sort_by_key(|e| std::cmp::Reverse(e.1));
        self.most_expensive.truncate(4);
    }
}

pub(super) struct Ctx<'t> {
    pub(super) report_costs: Vec<RuleCost>,
    pub(super) warnings: Vec<String>,
    pub(super) total: &'t mut Total,
}

#[derive(Default)]
pub(super) struct Errs {
    pub(super) schema: Vec<FieldError>,
    pub(super) cel: Vec<FieldError>,
}

impl Errs {
    fn append(&mut self, o: Errs) {
        self.schema.extend(o.schema);
        self.cel.extend(o.cel);
    }
}

pub(super) fn has_validations(v: &Value) -> bool {
    v.get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

fn extract_max_elements(v: &Value) -> Option<u64> {
    match s(v, "type") {
        "object" => {
            if v.get("additionalProperties").is_some_and(|a| !a.is_null()) {
                i(v, "maxProperties").map(|m| m.max(0) as u64)
            } else {
                Some(1)
            }
        }
        "array" => i(v, "maxItems").map(|m| m.max(0) as u64),
        _ => Some(1),
    }
}

impl<'a> CelCtx<'a> {
    fn child(&self, child: &'a Value, decl: Option<&'a Decl>) -> CelCtx<'a> {
        let cardinality = match (self.cardinality, extract_max_elements(self.json)) {
            (Some(c), Some(m)) => Some(c.saturating_mul(m)),
            _ => None,
        };
        CelCtx {
            decl,
            json: child,
            cardinality,
            in_scope: self.in_scope || has_validations(child),
        }
    }
}

fn field_decl<'a>(parent: Option<&'a Decl>, name: &str) -> Option<&'a Decl> {
    match &parent?.kind {
        DeclKind::Object(fields) => fields.get(&escape(name)?),
        _ => None,
    }
}

fn elem_decl(parent: Option<&Decl>) -> Option<&Decl> {
    match &parent?.kind {
        DeclKind::List(e) => Some(e),
        DeclKind::Map(_, v) => Some(v),
        _ => None,
    }
}

fn multiply_overflow_guard(base: u64, card: u64) -> u64 {
    if base == 0 {
        0
    } else {
        base.saturating_mul(card)
    }
}

pub(crate) fn cost_error_message(name: &str, cost: u64, limit: u64) -> String {
    let f = cost as f64 / limit as f64;
    let factor = if f > 100.0 {
        "more than 100x".to_string()
    } else if f < 1.5 {
        format!("{f:.6}x")
    } else {
        format!("{f:.1}x")
    };
    format!(
        "{name} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )
}

#[allow(clippy::too_many_lines)]
pub(super) fn openapi_schema(
    sch: &Value,
    path: &str,
    ssv: Ssv,
    is_root: bool,
    cel: Option<CelCtx<'_>>,
    ctx: &mut Ctx<'_>,
) -> Errs {
    let mut out = Errs::default();
    if !sch.is_object() {
        return out;
    }
    let se = &mut out.schema;
    // specStandardValidatorV3.validate
    let ty = s(sch, "type");
    const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
    if !ty.is_empty() && !TYPES.contains(&ty) {
        se.push(FieldError::not_supported(
            format!("{path}.type"),
            &Value::String(ty.into()),
            &TYPES,
        ));
    }
    if sch.get("default").is_some_and(|d| !d.is_null())
        && let Some(reason) = &ssv.allow_defaults_forbidden
    {
        let mut d = "must not be set".to_string();
        if !reason.is_empty() {
            d.push(' ');
            d.push_str(reason);
        }
        se.push(FieldError::forbidden(format!("{path}.default"), d));
    }
    if !s(sch, "id").is_empty() {
        se.push(FieldError::forbidden(
            format!("{path}.id"),
            "id is not supported",
        ));
    }
    if sch.get("additionalItems").is_some_and(|v| !v.is_null()) {
        se.push(FieldError::forbidden(
            format!("{path}.additionalItems"),
            "additionalItems is not supported",
        ));
    }
    for (key, what) in [
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
    ] {
        if sch
            .get(key)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
        {
            se.push(FieldError::forbidden(format!("{path}.{key}"), what));
        }
    }
    if sch.get("dependencies").is_some_and(|v| !v.is_null()) {
        se.push(FieldError::forbidden(
            format!("{path}.dependencies"),
            "dependencies is not supported",
        ));
    }
    if sch.get("$ref").is_some_and(|v| !v.is_null()) {
        se.push(FieldError::forbidden(
            format!("{path}.$ref"),
            "$ref is not supported",
        ));
    }
    if ty == "null" {
        se.push(FieldError::forbidden(
            format!("{path}.type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if sch.get("items").is_some_and(Value::is_array) {
        se.push(FieldError::forbidden(
            format!("{path}.items"),
            "items must be a schema object and not an array",
        ));
    }
    if ssv.inside_resource_meta && b(sch, "x-kubernetes-embedded-resource") {
        se.push(FieldError::forbidden(
            format!("{path}.x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
    if b(sch, "uniqueItems") {
        se.push(FieldError::forbidden(
            format!("{path}.uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }

    let has_props = props(sch).is_some_and(|p| !p.is_empty());
    if let Some(ap) = sch.get("additionalProperties").filter(|a| !a.is_null()) {
        if has_props && (ap.as_bool() == Some(false) || ap.is_object()) {
            out.schema.push(FieldError::forbidden(
                format!("{path}.additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if ap.is_object() {
            let mut sub = ssv.clone();
            if ssv.inside_resource_meta {
                sub.allow_defaults_forbidden =
                    Some("inside additionalProperties applying to object metadata".into());
            }
            let child = cel.map(|c| c.child(ap, elem_decl(c.decl)));
            out.append(openapi_schema(
                ap,
                &format!("{path}.additionalProperties"),
                sub,
                false,
                child,
                ctx,
            ));
        }
    }
    if let Some(p) = props(sch) {
        for (k, v) in p {
            let mut sub = ssv.clone();
            let map_type = sch.get("x-kubernetes-map-type").and_then(Value::as_str);
            if !matches!(map_type, None | Some("granular") | Some("atomic"))
                && sub.uncorrelatable.is_none()
            {
                sub.uncorrelatable = Some(path.to_string());
            }
            if (is_root || b(sch, "x-kubernetes-embedded-resource"))
                && matches!(k.as_str(), "metadata" | "kind" | "apiVersion")
            {
                sub.inside_resource_meta = true;
                if is_root {
                    sub.allow_defaults_forbidden = Some(format!("in top-level {k}"));
                }
            }
            let child = cel.map(|c| c.child(v, field_decl(c.decl, k)));
            out.append(openapi_schema(
                v,
                &format!("{path}.properties[{k}]"),
                sub,
                false,
                child,
                ctx,
            ));
        }
    }
    if let Some(n) = sch.get("not").filter(|n| n.is_object()) {
        out.append(openapi_schema(
            n,
            &format!("{path}.not"),
            ssv.clone(),
            false,
            None,
            ctx,
        ));
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(a) = sch.get(key).and_then(Value::as_array) {
            for (idx, x) in a.iter().enumerate() {
                out.append(openapi_schema(
                    x,
                    &format!("{path}.{key}[{idx}]"),
                    ssv.clone(),
                    false,
                    None,
                    ctx,
                ));
            }
        }
    }
    if let Some(items) = sch.get("items") {
        let mut sub = ssv.clone();
        if s(sch, "x-kubernetes-list-type") != "map" && sub.uncorrelatable.is_none() {
            sub.uncorrelatable = Some(path.to_string());
        }
        if items.is_object() {
            let child = cel.map(|c| c.child(items, elem_decl(c.decl)));
            out.append(openapi_schema(
                items,
                &format!("{path}.items"),
                sub,
                false,
                child,
                ctx,
            ));
        } else if let Some(a) = items.as_array() {
            for (idx, x) in a.iter().enumerate() {
                out.append(openapi_schema(
                    x,
                    &format!("{path}.items[{idx}]"),
                    sub.clone(),
                    false,
                    None,
                    ctx,
                ));
            }
        }
    }

    let se = &mut out.schema;
    if sch.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        se.push(FieldError::invalid(
            format!("{path}.x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(false),
            "must be true or undefined",
        ));
    }
    let map_type = sch.get("x-kubernetes-map-type").and_then(Value::as_str);
    if map_type.is_some() && ty != "object" {
        if ty.is_empty() {
            se.push(FieldError::required(
                format!("{path}.type"),
                "must be object if x-kubernetes-map-type is specified",
            ));
        } else {
            se.push(FieldError::invalid(
                format!("{path}.type"),
                &Value::String(ty.into()),
                "must be object if x-kubernetes-map-type is specified",
            ));
        }
    }
    if let Some(mt) = map_type
        && mt != "atomic"
        && mt != "granular"
    {
        se.push(FieldError::not_supported(
            format!("{path}.x-kubernetes-map-type"),
            &Value::String(mt.into()),
            &["atomic", "granular"],
        ));
    }
    let list_type = sch.get("x-kubernetes-list-type").and_then(Value::as_str);
    let items = sch.get("items").filter(|x| x.is_object());
    if list_type.is_some() && ty != "array" {
        if ty.is_empty() {
            se.push(FieldError::required(
                format!("{path}.type"),
                "must be array if x-kubernetes-list-type is specified",
            ));
        } else {
            se.push(FieldError::invalid(
                format!("{path}.type"),
                &Value::String(ty.into()),
                "must be array if x-kubernetes-list-type is specified",
            ));
        }
    } else if list_type == Some("set")
        && let Some(it) = items
    {
        match s(it, "type") {
            "array" => {
                if let Some(lt) = it.get("x-kubernetes-list-type").and_then(Value::as_str)
                    && lt != "atomic"
                {
                    se.push(FieldError::invalid(
                        format!("{path}.items.x-kubernetes-list-type"),
                        &Value::String(lt.into()),
                        "must be atomic as item of a list with x-kubernetes-list-type=set",
                    ));
                }
            }
            "object"
                if it.get("x-kubernetes-map-type").and_then(Value::as_str) != Some("atomic") =>
            {
                se.push(FieldError::invalid(
                    format!("{path}.items.x-kubernetes-map-type"),
                    it.get("x-kubernetes-list-type").unwrap_or(&Value::Null),
                    "must be atomic as item of a list with x-kubernetes-list-type=set",
                ));
            }
            _ => {}
        }
    }
    if let Some(lt) = list_type
        && !matches!(lt, "atomic" | "set" | "map")
    {
        se.push(FieldError::not_supported(
            format!("{path}.x-kubernetes-list-type"),
            &Value::String(lt.into()),
            &["atomic", "set", "map"],
        ));
    }
    let keys: Vec<&str> = sch
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !keys.is_empty() {
        match list_type {
            None => se.push(FieldError::required(
                format!("{path}.x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some("map") => {}
            Some(lt) => se.push(FieldError::invalid(
                format!("{path}.x-kubernetes-list-type"),
                &Value::String(lt.into()),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
        }
    }
    if list_type == Some("map") {
        if keys.is_empty() {
            se.push(FieldError::required(
                format!("{path}.x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        match sch.get("items").filter(|x| !x.is_null()) {
            None => se.push(FieldError::required(
                format!("{path}.items"),
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(x) if x.is_array() => se.push(FieldError::invalid(
                format!("{path}.items"),
                x,
                "must only have a single schema if x-kubernetes-list-type is map",
            )),
            Some(it) => {
                let it_ty = s(it, "type");
                if it_ty != "object" {
                    se.push(FieldError::invalid(
                        format!("{path}.items.type"),
                        &Value::String(it_ty.into()),
                        "must be object if parent array's x-kubernetes-list-type is map",
                    ));
                } else {
                    let mut seen = Vec::new();
                    let keys_value = sch
                        .get("x-kubernetes-list-map-keys")
                        .cloned()
                        .unwrap_or(Value::Null);
                    for k in &keys {
                        match props(it).and_then(|p| p.get(*k)) {
                            Some(kp) => {
                                let kt = s(kp, "type");
                                if kt == "array" || kt == "object" {
                                    se.push(FieldError::invalid(
                                        format!("{path}.items.properties[{k}].type"),
                                        &Value::String(it_ty.into()),
                                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                                    ));
                                }
                            }
                            None => se.push(FieldError::invalid(
                                format!("{path}.x-kubernetes-list-map-keys"),
                                &keys_value,
                                "entries must all be names of item properties",
                            )),
                        }
                        if seen.contains(k) {
                            se.push(FieldError::invalid(
                                format!("{path}.x-kubernetes-list-map-keys"),
                                &keys_value,
                                "must not contain duplicate entries",
                            ));
                        }
                        seen.push(*k);
                    }
                }
            }
        }
    }
    // validateMapListKeysMapSet
    if let Some(it) = items
        && let Some(lt @ ("set" | "map")) = list_type
    {
        if b(it, "nullable") {
            se.push(FieldError::forbidden(
                format!("{path}.items.nullable"),
                format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
            ));
        }
        if lt == "map" {
            let required: Vec<&str> = it
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for k in &keys {
                let Some(kp) = props(it).and_then(|p| p.get(*k)) else {
                    continue;
                };
                if !required.contains(k) && kp.get("default").is_none_or(Value::is_null) {
                    se.push(FieldError::required(
                        format!("{path}.items.properties[{k}].default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                    ));
                }
                if b(kp, "nullable") {
                    se.push(FieldError::forbidden(
                        format!("{path}.items.properties[{k}].nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    ));
                }
            }
        }
    }

    // x-kubernetes-validations
    let rules = sch
        .get("x-kubernetes-validations")
        .and_then(Value::as_array);
    if let Some(rules) = rules.filter(|r| !r.is_empty()) {
        let vpath = format!("{path}.x-kubernetes-validations");
        for (idx, r) in rules.iter().enumerate() {
            let rp = format!("{vpath}[{idx}]");
            let rule = s(r, "rule");
            let msg = s(r, "message");
            let msg_expr = s(r, "messageExpression");
            let has_nl = |x: &str| x.contains('\n') || x.contains('\r');
            if rule.trim().is_empty() {
                out.schema.push(FieldError::required(
                    format!("{rp}.rule"),
                    "rule is not specified",
                ));
            } else if !msg.is_empty() && msg.trim().is_empty() {
                out.schema.push(FieldError::invalid(
                    format!("{rp}.message"),
                    &Value::String(msg.into()),
                    "message must be non-empty if specified",
                ));
            } else if has_nl(msg.trim()) {
                out.schema.push(FieldError::invalid(
                    format!("{rp}.message"),
                    &Value::String(msg.into()),
                    "message must not contain line breaks",
                ));
            } else if has_nl(rule.trim()) && msg.trim().is_empty() {
                out.schema.push(FieldError::required(
                    format!("{rp}.message"),
                    "message must be specified if rule contains line breaks",
                ));
            }
            if !msg_expr.is_empty() && msg_expr.trim().is_empty() {
                out.schema.push(FieldError::required(
                    format!("{rp}.messageExpression"),
                    "messageExpression must be non-empty if specified",
                ));
            }
            if let Some(reason) = r.get("reason").and_then(Value::as_str) {
                const REASONS: [&str; 4] = [
                    "FieldValueDuplicate",
                    "FieldValueForbidden",
                    "FieldValueInvalid",
                    "FieldValueRequired",
                ];
                if !REASONS.contains(&reason) {
                    out.schema.push(FieldError::not_supported(
                        format!("{rp}.reason"),
                        &Value::String(reason.into()),
                        &REASONS,
                    ));
                }
            }
            let fp = s(r, "fieldPath");
            if !fp.is_empty() && fp.trim().is_empty() {
                out.schema.push(FieldError::invalid(
                    format!("{rp}.fieldPath"),
                    &Value::String(fp.into()),
                    "fieldPath must be non-empty if specified",
                ));
            }
            if has_nl(fp) {
                out.schema.push(FieldError::invalid(
                    format!("{rp}.fieldPath"),
                    &Value::String(fp.into()),
                    "fieldPath must not contain line breaks",
                ));
            }
            if !fp.is_empty() && !field_path_valid(sch, fp) {
                out.schema.push(FieldError::invalid(
                    format!("{rp}.fieldPath"),
                    &Value::String(fp.into()),
                    "fieldPath must be a valid path",
                ));
            }
        }
        if out.schema.is_empty()
            && let Some(c) = cel.filter(|c| c.in_scope)
        {
            let owned;
            let decl = match c.decl {
                Some(d) => Some(d),
                None => {
                    owned = schema_decl(sch, is_root || b(sch, "x-kubernetes-embedded-resource"));
                    owned.as_ref()
                }
            };
            match decl {
                None => out.cel.push(FieldError::new(
                    ErrorKind::Internal,
                    &vpath,
                    "internal error: failed to construct type information for x-kubernetes-validations rules: unable to convert structural schema to CEL declarations",
                )),
                Some(decl) => {
                    let max_card = super::MAX_REQUEST_SIZE_BYTES as u64 / (decl.min_size.max(0) as u64 + 1);
                    for (idx, r) in rules.iter().enumerate() {
                        let rule = s(r, "rule");
                        if rule.trim().is_empty() {
                            continue;
                        }
                        let rp = format!("{vpath}[{idx}]");
                        let optional_old_self = r.get("optionalOldSelf").and_then(Value::as_bool);
                        let est = analyse(rule, decl, optional_old_self == Some(true), Expect::Bool);
                        let mut compiled = false;
                        if let Some(u) = &est.unsupported {
                            ctx.warnings.push(format!(
                                "{rp}.rule: not checked offline ({u}); its cost is not counted"
                            ));
                            continue;
                        }
                        if !est.errors.is_empty() {
                            out.cel.push(FieldError::invalid_raw(
                                format!("{rp}.rule"),
                                go_rule_json(r),
                                format!("compilation failed: {}", est.errors.join("\n")),
                            ));
                        } else if est.not_bool {
                            out.cel.push(FieldError::invalid_raw(format!("{rp}.rule"), go_rule_json(r), "cel expression must evaluate to a bool"));
                        } else {
                            compiled = true;
                        }
                        if compiled {
                            let card = c.cardinality.unwrap_or(max_card);
                            let total = multiply_overflow_guard(est.max_cost, card);
                            if total > STATIC_ESTIMATED_COST_LIMIT {
                                out.cel.push(FieldError::forbidden(
                                    format!("{rp}.rule"),
                                    cost_error_message("estimated rule cost", total, STATIC_ESTIMATED_COST_LIMIT),
                                ));
                            }
                            ctx.total.observe(&format!("{rp}.rule"), total);
                            ctx.report_costs.push(RuleCost {
                                field: format!("{rp}.rule"),
                                rule: rule.into(),
                                max_cost: est.max_cost,
                                cardinality: card,
                                total,
                            });
                            // messageExpression
                            let me = s(r, "messageExpression");
                            if !me.trim().is_empty() {
                                let m = analyse(me, decl, optional_old_self == Some(true), Expect::String);
                                if let Some(u) = &m.unsupported {
                                    ctx.warnings.push(format!(
                                        "{rp}.messageExpression: not checked offline ({u})"
                                    ));
                                } else if !m.errors.is_empty() {
                                    out.cel.push(FieldError::invalid_raw(
                                        format!("{rp}.messageExpression"),
                                        go_rule_json(r),
                                        format!("messageExpression compilation failed: {}", m.errors.join("\n")),
                                    ));
                                } else if m.not_bool {
                                    out.cel.push(FieldError::invalid_raw(
                                        format!("{rp}.messageExpression"),
                                        go_rule_json(r),
                                        "messageExpression must evaluate to a string",
                                    ));
                                } else {
                                    if m.max_cost > STATIC_ESTIMATED_COST_LIMIT {
                                        out.cel.push(FieldError::forbidden(
                                            format!("{rp}.messageExpression"),
                                            cost_error_message("estimated messageExpression cost", m.max_cost, STATIC_ESTIMATED_COST_LIMIT),
                                        ));
                                    }
                                    ctx.total.observe(&format!("{rp}.messageExpression"), m.max_cost);
                                }
                            }
                            if est.uses_old_self {
                                if let Some(p) = &ssv.uncorrelatable {
                                    out.cel.push(FieldError::invalid(
                                        format!("{rp}.rule"),
                                        &Value::String(rule.into()),
                                        format!("oldSelf cannot be used on the uncorrelatable portion of the schema within {p}"),
                                    ));
                                }
                            } else if let Some(o) = optional_old_self {
                                out.cel.push(FieldError::invalid(
                                    format!("{rp}.optionalOldSelf"),
                                    &Value::Bool(o),
                                    "may not be set if oldSelf is not used in rule",
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// `ValidFieldPath` (simplified): `.a.b['c']` through properties and maps; list indexes are
/// not allowed.
fn field_path_valid(sch: &Value, path: &str) -> bool {
    let mut cur = sch;
    let mut rest = path;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let name;
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            name = r[..end].to_string();
            rest = &r[end..];
            if name.is_empty() {
                return false;
            }
        } else if let Some(r) = rest.strip_prefix("['") {
            let Some(end) = r.find("']") else {
                return false;
            };
            name = r[..end].to_string();
            rest = &r[end + 2..];
        } else {
            return false;
        }
        if let Some(p) = props(cur).and_then(|p| p.get(&name)) {
            cur = p;
        } else if let Some(ap) = cur.get("additionalProperties").filter(|a| a.is_object()) {
            cur = ap;
        } else {
            return false;
        }
    }
    true
}
