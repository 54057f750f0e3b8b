//! CRD-level and schema-level rules of `k8s.io/apiextensions-apiserver` (create).

use serde_json::{Map, Value};

use super::cel_cost::{Expect, analyse};
use super::decl::{Decl, DeclKind, escape, schema_decl};
use super::{
    CrdReport, ErrorKind, FieldError, RuleCost, STATIC_ESTIMATED_COST_LIMIT,
    STATIC_ESTIMATED_CRD_COST_LIMIT,
};

type Obj = Map<String, Value>;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn b(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn i(v: &Value, key: &str) -> Option<i64> {
    let x = v.get(key)?;
    x.as_i64().or_else(|| x.as_f64().map(|f| f as i64))
}

fn props(v: &Value) -> Option<&Obj> {
    v.get("properties").and_then(Value::as_object)
}

// ---------------------------------------------------------------------------------------------
// names

fn is_dns1123_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && v.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn dns1123_subdomain_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !v.split('.').all(is_dns1123_label) {
        errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string());
    }
    errs
}

fn dns1035_label_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    let ok = !v.is_empty()
        && v.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && v.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && v.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// CRD

pub(crate) fn check_crd(crd: &Value, report: &mut CrdReport) {
    let errs = &mut report.errors;
    let spec = crd.get("spec").cloned().unwrap_or(Value::Null);
    let group = s(&spec, "group");
    let names = spec.get("names").cloned().unwrap_or(Value::Null);
    let plural = s(&names, "plural");

    if crd.get("apiVersion").and_then(Value::as_str) != Some("apiextensions.k8s.io/v1") {
        report.warnings.push(format!(
            "apiVersion {:?} is not apiextensions.k8s.io/v1: checked with the v1 rules",
            s(crd, "apiVersion")
        ));
    }

    // metadata.name
    let name = report.name.clone();
    if name.is_empty() && s(&crd["metadata"], "generateName").is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if !name.is_empty() {
        let mut msgs = dns1123_subdomain_errors(&name);
        if name != format!("{plural}.{group}") {
            msgs.push("must be spec.names.plural+\".\"+spec.group".to_string());
        }
        for m in msgs {
            errs.push(FieldError::invalid(
                "metadata.name",
                &Value::String(name.clone()),
                m,
            ));
        }
    }

    // group
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else {
        let e = dns1123_subdomain_errors(group);
        if !e.is_empty() {
            errs.push(FieldError::invalid(
                "spec.group",
                &Value::String(group.into()),
                e.join(","),
            ));
        } else if group.split('.').count() < 2 {
            errs.push(FieldError::invalid(
                "spec.group",
                &Value::String(group.into()),
                "should be a domain with at least one dot",
            ));
        }
    }

    // scope
    match s(&spec, "scope") {
        "" => errs.push(FieldError::required("spec.scope", "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(FieldError::not_supported(
            "spec.scope",
            &Value::String(other.into()),
            &["Cluster", "Namespaced"],
        )),
    }

    if b(&spec, "preserveUnknownFields") {
        errs.push(FieldError::invalid(
            "spec.preserveUnknownFields",
            &Value::Bool(true),
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }

    // versions
    let empty = Vec::new();
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if versions.is_empty() {
        errs.push(FieldError::invalid(
            "spec.versions",
            &Value::Array(vec![]),
            "must have exactly one version marked as storage version",
        ));
    }
    let mut storage = 0;
    let mut seen = std::collections::HashSet::new();
    let mut unique = true;
    for (idx, v) in versions.iter().enumerate() {
        let vname = s(v, "name");
        if b(v, "storage") {
            storage += 1;
        }
        if !seen.insert(vname.to_string()) {
            unique = false;
        }
        let e = dns1035_label_errors(vname);
        if !e.is_empty() {
            errs.push(FieldError::invalid(
                format!("spec.versions[{idx}].name"),
                &Value::String(vname.into()),
                e.join(","),
            ));
        }
        if v.pointer("/schema/openAPIV3Schema")
            .is_none_or(Value::is_null)
        {
            errs.push(FieldError::required(
                format!("spec.versions[{idx}].schema.openAPIV3Schema"),
                "schemas are required",
            ));
        }
        if let Some(w) = v.get("deprecationWarning").and_then(Value::as_str) {
            let p = format!("spec.versions[{idx}].deprecationWarning");
            let wv = Value::String(w.into());
            if !b(v, "deprecated") {
                errs.push(FieldError::invalid(
                    &p,
                    &wv,
                    "can only be set for deprecated versions",
                ));
            }
            if w.len() > 256 {
                errs.push(FieldError::invalid(
                    &p,
                    &wv,
                    "must be <= 256 characters long",
                ));
            }
            if w.is_empty() {
                errs.push(FieldError::invalid(&p, &wv, "must not be an empty string"));
            }
        }
        if let Some(cols) = v.get("additionalPrinterColumns").and_then(Value::as_array) {
            for (ci, col) in cols.iter().enumerate() {
                check_printer_column(
                    col,
                    &format!("spec.versions[{idx}].additionalPrinterColumns[{ci}]"),
                    errs,
                );
            }
        }
        if let Some(sub) = v.get("subresources") {
            check_subresources(sub, &format!("spec.versions[{idx}].subresources"), errs);
        }
    }
    if !unique {
        errs.push(FieldError::invalid(
            "spec.versions",
            &Value::String("…".into()),
            "must contain unique version names",
        ));
    }
    if storage != 1 && !versions.is_empty() {
        errs.push(FieldError::invalid(
            "spec.versions",
            &Value::String("…".into()),
            "must have exactly one version marked as storage version",
        ));
    }
    // on create the server sets status.storedVersions to the storage versions
    if storage == 0 {
        errs.push(FieldError::invalid(
            "status.storedVersions",
            &Value::Null,
            "must have at least one stored version",
        ));
    }

    // names
    for (key, val) in [
        ("plural", plural),
        ("singular", s(&names, "singular")),
        ("kind", s(&names, "kind")),
        ("listKind", s(&names, "listKind")),
    ] {
        if val.is_empty() && key != "singular" && key != "listKind" {
            errs.push(FieldError::required(format!("spec.names.{key}"), ""));
        }
    }
    check_names(&names, "spec.names", errs);

    // conversion
    if let Some(conv) = spec.get("conversion") {
        check_conversion(conv, errs);
    }

    // API approval for *.k8s.io / *.kubernetes.io groups
    if is_protected_group(group) {
        let ann = crd
            .pointer("/metadata/annotations/api-approved.kubernetes.io")
            .and_then(Value::as_str);
        let field = "metadata.annotations[api-approved.kubernetes.io]";
        match ann {
            None => errs.push(FieldError::required(
                field,
                "protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111".to_string(),
            )),
            Some(a) if a.starts_with("unapproved") || a.starts_with("https://") || a.starts_with("http://") => {}
            Some(a) => errs.push(FieldError::invalid(
                field,
                &Value::String(a.into()),
                "protected groups must have approval annotation \"api-approved.kubernetes.io\" with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111".to_string(),
            )),
        }
    }

    // schemas: identical schemas of every version are validated once, as the top-level
    // spec.validation of the internal version
    let schemas: Vec<Option<&Value>> = versions
        .iter()
        .map(|v| {
            v.pointer("/schema/openAPIV3Schema")
                .filter(|s| !s.is_null())
        })
        .collect();
    let all_same = !versions.is_empty()
        && schemas.iter().all(|s| s.is_some())
        && schemas.windows(2).all(|w| w[0] == w[1]);
    let status_of = |v: &Value| {
        v.pointer("/subresources/status")
            .is_some_and(|s| !s.is_null())
    };
    if all_same {
        if let Some(schema) = schemas[0] {
            let any_status = versions.iter().any(status_of);
            check_validation(schema, any_status, "spec.validation", report);
        }
    } else {
        for (idx, (v, schema)) in versions.iter().zip(&schemas).enumerate() {
            if let Some(schema) = schema {
                check_validation(
                    schema,
                    status_of(v),
                    &format!("spec.versions[{idx}].schema"),
                    report,
                );
            }
        }
    }
}

fn is_protected_group(group: &str) -> bool {
    group == "k8s.io"
        || group == "kubernetes.io"
        || group.ends_with(".k8s.io")
        || group.ends_with(".kubernetes.io")
}

fn check_names(names: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for key in ["plural", "singular"] {
        let v = s(names, key);
        if !v.is_empty() {
            let e = dns1035_label_errors(v);
            if !e.is_empty() {
                errs.push(FieldError::invalid(
                    format!("{path}.{key}"),
                    &Value::String(v.into()),
                    e.join(","),
                ));
            }
        }
    }
    for key in ["kind", "listKind"] {
        let v = s(names, key);
        if !v.is_empty() {
            let e = dns1035_label_errors(&v.to_lowercase());
            if !e.is_empty() {
                errs.push(FieldError::invalid(
                    format!("{path}.{key}"),
                    &Value::String(v.into()),
                    format!(
                        "may have mixed case, but should otherwise match: {}",
                        e.join(",")
                    ),
                ));
            }
        }
    }
    for key in ["shortNames", "categories"] {
        if let Some(list) = names.get(key).and_then(Value::as_array) {
            for (idx, x) in list.iter().enumerate() {
                let v = x.as_str().unwrap_or("");
                let e = dns1035_label_errors(v);
                if !e.is_empty() {
                    errs.push(FieldError::invalid(
                        format!("{path}.{key}[{idx}]"),
                        &Value::String(v.into()),
                        e.join(","),
                    ));
                }
            }
        }
    }
    let kind = s(names, "kind");
    if !kind.is_empty() && kind == s(names, "listKind") {
        errs.push(FieldError::invalid(
            format!("{path}.listKind"),
            &Value::String(kind.into()),
            "kind and listKind may not be the same",
        ));
    }
}

fn check_printer_column(col: &Value, path: &str, errs: &mut Vec<FieldError>) {
    const TYPES: &str = "boolean,date,integer,number,string";
    if s(col, "name").is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), ""));
    }
    let t = s(col, "type");
    if t.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.type"),
            format!("must be one of {TYPES}"),
        ));
    } else if !TYPES.split(',').any(|x| x == t) {
        errs.push(FieldError::invalid(
            format!("{path}.type"),
            &Value::String(t.into()),
            format!("must be one of {TYPES}"),
        ));
    }
    let f = s(col, "format");
    const FORMATS: &str = "byte,date,date-time,double,float,int32,int64,password";
    if !f.is_empty() && !FORMATS.split(',').any(|x| x == f) {
        errs.push(FieldError::invalid(
            format!("{path}.format"),
            &Value::String(f.into()),
            format!("must be one of {FORMATS}"),
        ));
    }
    let jp = s(col, "jsonPath");
    if jp.is_empty() {
        errs.push(FieldError::required(format!("{path}.JSONPath"), ""));
    } else if !jp.starts_with('.') {
        errs.push(FieldError::invalid(
            format!("{path}.JSONPath"),
            &Value::String(jp.into()),
            "must be a simple json path starting with .",
        ));
    }
}

fn check_subresources(sub: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let Some(scale) = sub.get("scale").filter(|s| !s.is_null()) else {
        return;
    };
    for (key, prefix, what) in [
        (
            "specReplicasPath",
            ".spec.",
            "should be a json path under .spec",
        ),
        (
            "statusReplicasPath",
            ".status.",
            "should be a json path under .status",
        ),
    ] {
        let v = s(scale, key);
        let p = format!("{path}.scale.{key}");
        if v.is_empty() {
            errs.push(FieldError::required(p, ""));
        } else if !v.starts_with('.') {
            errs.push(FieldError::invalid(
                p,
                &Value::String(v.into()),
                "must be a simple json path starting with .",
            ));
        } else if !v.starts_with(prefix) {
            errs.push(FieldError::invalid(p, &Value::String(v.into()), what));
        }
    }
    let ls = s(scale, "labelSelectorPath");
    if !ls.is_empty() {
        let p = format!("{path}.scale.labelSelectorPath");
        if !ls.starts_with('.') {
            errs.push(FieldError::invalid(
                p,
                &Value::String(ls.into()),
                "must be a simple json path starting with .",
            ));
        } else if !ls.starts_with(".spec.") && !ls.starts_with(".status.") {
            errs.push(FieldError::invalid(
                p,
                &Value::String(ls.into()),
                "should be a json path under either .spec or .status",
            ));
        }
    }
}

fn check_conversion(conv: &Value, errs: &mut Vec<FieldError>) {
    let strategy = s(conv, "strategy");
    let strategy = if strategy.is_empty() {
        "None"
    } else {
        strategy
    };
    let cc = conv
        .get("webhook")
        .and_then(|w| w.get("clientConfig"))
        .filter(|c| !c.is_null());
    let versions = conv
        .get("webhook")
        .and_then(|w| w.get("conversionReviewVersions"))
        .and_then(Value::as_array);
    match strategy {
        "None" => {
            if conv.get("webhook").is_some_and(|w| !w.is_null()) {
                errs.push(FieldError::forbidden(
                    "spec.conversion.webhookClientConfig",
                    "should not be set when strategy is not set to Webhook",
                ));
            }
        }
        "Webhook" => {
            match cc {
                None => errs.push(FieldError::required(
                    "spec.conversion.webhookClientConfig",
                    "required when strategy is set to Webhook",
                )),
                Some(cc) => {
                    let url = cc.get("url").filter(|u| !u.is_null());
                    let svc = cc.get("service").filter(|u| !u.is_null());
                    if url.is_some() == svc.is_some() {
                        errs.push(FieldError::required(
                            "spec.conversion.webhookClientConfig",
                            "exactly one of url or service is required",
                        ));
                    } else if let Some(svc) = svc {
                        let p = "spec.conversion.webhookClientConfig.service";
                        if s(svc, "name").is_empty() {
                            errs.push(FieldError::required(
                                format!("{p}.name"),
                                "service name is required",
                            ));
                        }
                        if s(svc, "namespace").is_empty() {
                            errs.push(FieldError::required(
                                format!("{p}.namespace"),
                                "service namespace is required",
                            ));
                        }
                        if let Some(port) = i(svc, "port")
                            && !(1..=65535).contains(&port)
                        {
                            errs.push(FieldError::invalid(
                                format!("{p}.port"),
                                &Value::from(port),
                                "port is not valid: must be between 1 and 65535, inclusive",
                            ));
                        }
                    } else if let Some(u) = url.and_then(Value::as_str)
                        && !u.starts_with("https://")
                    {
                        errs.push(FieldError::invalid(
                            "spec.conversion.webhookClientConfig.url",
                            &Value::String(u.into()),
                            "'https' is the only allowed URL scheme",
                        ));
                    }
                }
            }
            let vs = versions.map(|v| v.iter().filter_map(Value::as_str).collect::<Vec<_>>());
            match vs {
                None => errs.push(FieldError::required(
                    "spec.conversion.conversionReviewVersions",
                    "",
                )),
                Some(v) if v.is_empty() => errs.push(FieldError::required(
                    "spec.conversion.conversionReviewVersions",
                    "",
                )),
                Some(v) => {
                    if !v.iter().any(|x| *x == "v1" || *x == "v1beta1") {
                        errs.push(FieldError::invalid(
                            "spec.conversion.conversionReviewVersions",
                            &Value::from(v.clone()),
                            "must include at least one of v1, v1beta1",
                        ));
                    }
                }
            }
        }
        other => errs.push(FieldError::not_supported(
            "spec.conversion.strategy",
            &Value::String(other.into()),
            &["None", "Webhook"],
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// validation (one openAPIV3Schema)

const ROOT_ALLOWED_WITH_STATUS: &[&str] = &[
    "description",
    "type",
    "format",
    "title",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "required",
    "items",
    "properties",
    "externalDocs",
    "example",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
];

const KNOWN_KEYWORDS: &[&str] = &[
    "id",
    "$schema",
    "$ref",
    "description",
    "type",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "definitions",
    "externalDocs",
    "example",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// Whether a JSONSchemaProps field holds its Go zero value.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn check_validation(schema: &Value, status_enabled: bool, base: &str, report: &mut CrdReport) {
    let path = format!("{base}.openAPIV3Schema");
    let mut errs: Vec<FieldError> = Vec::new();
    collect_unknown_keywords(schema, &path, &mut report.warnings);

    if status_enabled && let Some(obj) = schema.as_object() {
        for (k, v) in obj {
            if !KNOWN_KEYWORDS.contains(&k.as_str()) {
                continue;
            }
            // pointer fields (maximum, maxLength, …) are set even when zero
            let pointer_field = matches!(
                k.as_str(),
                "maximum"
                    | "minimum"
                    | "maxLength"
                    | "minLength"
                    | "maxItems"
                    | "minItems"
                    | "multipleOf"
                    | "maxProperties"
                    | "minProperties"
                    | "x-kubernetes-preserve-unknown-fields"
                    | "x-kubernetes-list-type"
                    | "x-kubernetes-map-type"
                    | "default"
                    | "example"
                    | "externalDocs"
                    | "additionalProperties"
                    | "items"
                    | "not"
                    | "$ref"
                    | "dependencies"
            );
            if !pointer_field && is_zero(v) {
                continue;
            }
            if k == "type" {
                if v.as_str() != Some("object") {
                    errs.push(FieldError::invalid(
                        format!("{path}.type"),
                        v,
                        "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                    ));
                    break;
                }
                continue;
            }
            if !ROOT_ALLOWED_WITH_STATUS.contains(&k.as_str()) {
                errs.push(FieldError::invalid(
                    &path,
                    &Value::String("<schema>".into()),
                    "only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled",
                ));
                break;
            }
        }
    }

    if b(schema, "nullable") {
        errs.push(FieldError::forbidden(
            format!("{path}.nullable"),
            "nullable cannot be true at the root",
        ));
    }

    // structural schema
    let structural_init = new_structural_error(schema);
    let mut cel_enabled = false;
    if structural_init.is_none() {
        let mut serrs = Vec::new();
        structural_invariants(schema, Level::Root, &path, &mut serrs);
        structural_completeness(schema, &path, &path, &mut serrs);
        if serrs.is_empty() {
            validate_defaults(schema, &path, &mut serrs);
        }
        if serrs.is_empty() {
            cel_enabled = true;
        }
        errs.extend(serrs);
    }

    let root_decl = if cel_enabled {
        schema_decl(schema, true)
    } else {
        None
    };
    let mut total = Total::default();
    let mut ctx = Ctx {
        report_costs: Vec::new(),
        warnings: Vec::new(),
        total: &mut total,
    };
    let res = openapi_schema(
        schema,
        &path,
        Ssv::default(),
        true,
        cel_enabled.then_some(CelCtx {
            decl: root_decl.as_ref(),
            json: schema,
            cardinality: Some(1),
            in_scope: has_validations(schema),
        }),
        &mut ctx,
    );
    let rule_costs = std::mem::take(&mut ctx.report_costs);
    report.warnings.append(&mut ctx.warnings);
    errs.extend(res.schema);
    errs.extend(res.cel);
    if errs.is_empty()
        && let Some(e) = structural_init
    {
        errs.push(FieldError::invalid(&path, &Value::String(String::new()), e));
    }
    if cel_enabled {
        if total.total > STATIC_ESTIMATED_CRD_COST_LIMIT {
            for (p, _) in &total.most_expensive {
                errs.push(FieldError::forbidden(
                    p.clone(),
                    "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema",
                ));
            }
            errs.push(FieldError::forbidden(
                &path,
                cost_error_message(
                    "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
                    total.total,
                    STATIC_ESTIMATED_CRD_COST_LIMIT,
                ),
            ));
        }
        report.schema_costs.push((path.clone(), total.total));
    }
    report.rule_costs.extend(rule_costs);
    report.errors.extend(errs);
}

fn collect_unknown_keywords(schema: &Value, path: &str, warnings: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (k, v) in obj {
        if !KNOWN_KEYWORDS.contains(&k.as_str()) {
            warnings.push(format!(
                "{path}: unknown field {k:?} (dropped by the API server)"
            ));
            continue;
        }
        match k.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                if let Some(m) = v.as_object() {
                    for (pk, pv) in m {
                        collect_unknown_keywords(pv, &format!("{path}.{k}[{pk}]"), warnings);
                    }
                }
            }
            "items" | "not" | "additionalProperties" | "additionalItems" => {
                collect_unknown_keywords(v, &format!("{path}.{k}"), warnings);
            }
            "allOf" | "oneOf" | "anyOf" => {
                if let Some(a) = v.as_array() {
                    for (idx, x) in a.iter().enumerate() {
                        collect_unknown_keywords(x, &format!("{path}.{k}[{idx}]"), warnings);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `NewStructural`'s errors (fields it cannot represent).
fn new_structural_error(schema: &Value) -> Option<String> {
    let obj = schema.as_object()?;
    if !s(schema, "id").is_empty() {
        return Some("OpenAPIV3Schema 'id' is not supported".into());
    }
    if !s(schema, "$schema").is_empty() {
        return Some("OpenAPIV3Schema 'schema' is not supported".into());
    }
    if !s(schema, "$ref").is_empty() {
        return Some("OpenAPIV3Schema '$ref' is not supported".into());
    }
    for (k, what) in [
        ("patternProperties", "patternProperties"),
        ("dependencies", "dependencies"),
        ("definitions", "definitions"),
    ] {
        if obj
            .get(k)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
        {
            return Some(format!("OpenAPIV3Schema '{what}' is not supported"));
        }
    }
    if obj.get("additionalItems").is_some_and(|v| !v.is_null()) {
        return Some("OpenAPIV3Schema 'additionalItems' is not supported".into());
    }
    if obj.get("items").is_some_and(Value::is_array) {
        return Some("OpenAPIV3Schema 'items' must be a schema, but is an array".into());
    }
    if obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        return Some(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
                .into(),
        );
    }
    let children = [
        obj.get("items"),
        obj.get("not"),
        obj.get("additionalProperties").filter(|a| a.is_object()),
    ];
    for c in children.into_iter().flatten() {
        if let Some(e) = new_structural_error(c) {
            return Some(e);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = obj.get(key).and_then(Value::as_array) {
            for x in a {
                if let Some(e) = new_structural_error(x) {
                    return Some(e);
                }
            }
        }
    }
    if let Some(p) = props(schema) {
        for v in p.values() {
            if let Some(e) = new_structural_error(v) {
                return Some(e);
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// defaults (pkg/apiserver/schema/defaulting/validation.go)

/// `ValidateDefaults`: every `default` (reached through `properties` and `items`) must be valid
/// against its own schema and carry no field the schema would prune.
fn validate_defaults(sch: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if !sch.is_object() {
        return;
    }
    if let Some(d) = sch.get("default").filter(|d| !d.is_null()) {
        let dpath = format!("{path}.default");
        let mut findings = Vec::new();
        let pats = crate::structure::Patterns::default();
        let mut trail = crate::structure::Trail::default();
        crate::structure::check(
            sch,
            d,
            &mut trail,
            crate::FieldValidation::Strict,
            &pats,
            &mut findings,
        );
        if findings.iter().any(|f| f.code == crate::Code::UnknownField) {
            errs.push(FieldError::invalid(
                &dpath,
                d,
                "must not have unknown fields",
            ));
        }
        for f in findings
            .iter()
            .filter(|f| f.code != crate::Code::UnknownField)
        {
            let inner = f.path.to_string();
            let fp = if inner.is_empty() {
                dpath.clone()
            } else {
                format!("{dpath}.{inner}")
            };
            let at = f.path.lookup(d).unwrap_or(&Value::Null);
            let e = match f.code {
                crate::Code::NotInEnum => {
                    let allowed: Vec<String> = schema_at(sch, &f.path)
                        .and_then(|x| x.get("enum"))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    FieldError::not_supported(fp, at, &refs)
                }
                crate::Code::WrongType => FieldError {
                    kind: ErrorKind::TypeInvalid,
                    field: fp,
                    value: Some(super::go_quote(json_type(at))),
                    detail: format!(
                        "{inner} in body must be of type {}: {}",
                        schema_at(sch, &f.path).map_or("", |x| s(x, "type")),
                        super::go_quote(json_type(at))
                    ),
                },
                crate::Code::MissingField => FieldError::required(fp, ""),
                crate::Code::OutOfRange if f.message.contains("characters, at most") => {
                    FieldError::new(ErrorKind::TooLong, fp, f.message.clone())
                }
                crate::Code::OutOfRange if f.message.contains(", at most") => {
                    FieldError::new(ErrorKind::TooMany, fp, f.message.clone())
                }
                _ => FieldError::invalid(fp, at, f.message.clone()),
            };
            errs.push(e);
        }
    }
    if let Some(items) = sch.get("items").filter(|i| i.is_object()) {
        validate_defaults(items, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(sch) {
        for (k, v) in p {
            validate_defaults(v, &format!("{path}.properties[{k}]"), errs);
        }
    }
}

/// A `ValidationRule` as the API server renders it in an error: the internal Go struct
/// marshalled by `encoding/json` (field names as declared, HTML-safe escaping).
fn go_rule_json(r: &Value) -> String {
    let opt_str = |k: &str| match r.get(k).and_then(Value::as_str) {
        Some(x) => go_json_string(x),
        None => "null".to_string(),
    };
    format!(
        "{{\"Rule\":{},\"Message\":{},\"MessageExpression\":{},\"Reason\":{},\"FieldPath\":{},\"OptionalOldSelf\":{}}}",
        go_json_string(s(r, "rule")),
        go_json_string(s(r, "message")),
        go_json_string(s(r, "messageExpression")),
        opt_str("reason"),
        go_json_string(s(r, "fieldPath")),
        r.get("optionalOldSelf")
            .and_then(Value::as_bool)
            .map_or_else(|| "null".to_string(), |b| b.to_string()),
    )
}

/// A JSON string as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028/9 escaped).
fn go_json_string(x: &str) -> String {
    let mut out = String::with_capacity(x.len() + 2);
    out.push('"');
    for c in x.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The schema of the value at `path` under `sch` (through properties, additionalProperties and
/// items).
fn schema_at<'a>(sch: &'a Value, path: &crate::Path) -> Option<&'a Value> {
    let mut cur = sch;
    for seg in path.segs() {
        cur = match seg {
            crate::Seg::Key(k) => props(cur)
                .and_then(|p| p.get(k.as_str()))
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object()))?,
            crate::Seg::Index(_) => cur.get("items")?,
        };
    }
    Some(cur)
}

// ---------------------------------------------------------------------------------------------
// structural invariants (pkg/apiserver/schema/validation.go)

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

fn is_int_or_string_any_of(any_of: Option<&Value>) -> bool {
    let Some(a) = any_of.and_then(Value::as_array) else {
        return false;
    };
    a.len() == 2
        && a[0] == serde_json::json!({"type": "integer"})
        && a[1] == serde_json::json!({"type": "string"})
}

fn structural_invariants(sch: &Value, lvl: Level, path: &str, errs: &mut Vec<FieldError>) {
    if !sch.is_object() {
        return;
    }
    let ty = s(sch, "type");
    if ty == "array" && sch.get("items").is_none_or(Value::is_null) {
        errs.push(FieldError::required(
            format!("{path}.items"),
            "must be specified",
        ));
    }
    if let Some(items) = sch.get("items").filter(|x| x.is_object()) {
        structural_invariants(items, Level::Item, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(sch) {
        for (k, v) in p {
            structural_invariants(v, Level::Field, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if let Some(ap) = sch.get("additionalProperties").filter(|a| !a.is_null()) {
        if lvl == Level::Root {
            errs.push(FieldError::forbidden(
                format!("{path}.additionalProperties"),
                "must not be used at the root",
            ));
        }
        if ap.is_object() {
            structural_invariants(
                ap,
                Level::Field,
                &format!("{path}.additionalProperties"),
                errs,
            );
        }
    }
    let ios = b(sch, "x-kubernetes-int-or-string");
    let puf = b(sch, "x-kubernetes-preserve-unknown-fields");
    let emb = b(sch, "x-kubernetes-embedded-resource");
    if ios && puf {
        errs.push(FieldError::invalid(
            format!("{path}.x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if ios && emb {
        errs.push(FieldError::invalid(
            format!("{path}.x-kubernetes-embedded-resource"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(sch.get("anyOf"));
    let skip_first_all_of_any_of = sch
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .is_some_and(|f| is_int_or_string_any_of(f.get("anyOf")));
    value_validation(sch, skip_any_of, skip_first_all_of_any_of, lvl, path, errs);

    let check_metadata = lvl == Level::Root || emb;
    if emb && ty != "object" {
        if ty.is_empty() {
            errs.push(FieldError::required(
                format!("{path}.type"),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        } else {
            errs.push(FieldError::invalid(
                format!("{path}.type"),
                &Value::String(ty.into()),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
    } else if ty.is_empty() && !ios && !puf {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(format!("{path}.type"), detail));
    }
    if emb
        && sch
            .get("additionalProperties")
            .is_some_and(|a| !a.is_null())
    {
        errs.push(FieldError::forbidden(
            format!("{path}.additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            format!("{path}.type"),
            &Value::String(ty.into()),
            "must be object at the root",
        ));
    }
    if check_metadata && let Some(p) = props(sch) {
        for key in ["kind", "apiVersion"] {
            if let Some(k) = p.get(key) {
                let t = s(k, "type");
                if t != "string" {
                    errs.push(FieldError::invalid(
                        format!("{path}.properties[{key}].type"),
                        &Value::String(t.into()),
                        "must be string",
                    ));
                }
            }
        }
    }
    if let Some(meta) = props(sch).and_then(|p| p.get("metadata")) {
        let mpath = format!("{path}.properties[metadata]");
        if check_metadata && s(meta, "type") != "object" {
            errs.push(FieldError::invalid(
                format!("{mpath}.type"),
                &Value::String(s(meta, "type").into()),
                "must be object",
            ));
        }
        if lvl == Level::Root && !metadata_only_names(meta) {
            errs.push(FieldError::forbidden(
                mpath,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    if emb && !puf && props(sch).is_none_or(Obj::is_empty) {
        errs.push(FieldError::required(
            format!("{path}.properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// Root metadata may only restrict `name` and `generateName` (its `type` and `default` are
/// ignored; fields the structural schema does not keep — `externalDocs`, `example` — too).
fn metadata_only_names(meta: &Value) -> bool {
    let Some(obj) = meta.as_object() else {
        return true;
    };
    for (k, v) in obj {
        match k.as_str() {
            "type" | "default" | "externalDocs" | "example" | "id" | "$schema" | "$ref"
            | "patternProperties" | "dependencies" | "additionalItems" | "definitions" => {}
            "properties" => {
                let Some(p) = v.as_object() else { continue };
                let names = p.contains_key("name");
                let gen_names = p.contains_key("generateName");
                let ok = (names && gen_names && p.len() == 2)
                    || ((names || gen_names) && p.len() == 1)
                    || p.is_empty();
                if !ok {
                    return false;
                }
            }
            "nullable"
            | "uniqueItems"
            | "x-kubernetes-embedded-resource"
            | "x-kubernetes-int-or-string"
            | "x-kubernetes-preserve-unknown-fields"
            | "exclusiveMaximum"
            | "exclusiveMinimum" => {
                if v.as_bool() == Some(true) {
                    return false;
                }
            }
            "description" | "title" | "format" | "pattern" => {
                if v.as_str().is_some_and(|x| !x.is_empty()) {
                    return false;
                }
            }
            "required"
            | "enum"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "x-kubernetes-list-map-keys"
            | "x-kubernetes-validations" => {
                if v.as_array().is_some_and(|a| !a.is_empty()) {
                    return false;
                }
            }
            _ => {
                if !v.is_null() {
                    return false;
                }
            }
        }
    }
    true
}

fn value_validation(
    sch: &Value,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    lvl: Level,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if !skip_any_of && let Some(a) = sch.get("anyOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            nested_value_validation(x, false, lvl, &format!("{path}.anyOf[{idx}]"), errs);
        }
    }
    if let Some(a) = sch.get("allOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            let skip = skip_first_all_of_any_of && idx == 0;
            nested_value_validation(x, skip, lvl, &format!("{path}.allOf[{idx}]"), errs);
        }
    }
    if let Some(a) = sch.get("oneOf").and_then(Value::as_array) {
        for (idx, x) in a.iter().enumerate() {
            nested_value_validation(x, false, lvl, &format!("{path}.oneOf[{idx}]"), errs);
        }
    }
    if let Some(n) = sch.get("not").filter(|n| n.is_object()) {
        nested_value_validation(n, false, lvl, &format!("{path}.not"), errs);
    }
    let pattern = s(sch, "pattern");
    if !pattern.is_empty()
        && let Err(e) = regex::Regex::new(pattern)
    {
        errs.push(FieldError::invalid(
            format!("{path}.pattern"),
            &Value::String(pattern.into()),
            format!(
                "must be a valid regular expression, but isn't: {}",
                go_regexp_error(pattern, &e)
            ),
        ));
    }
}

/// The error Go's `regexp.Compile` gives for the common mistakes (`error parsing regexp: <what>:
/// `<where>``); other errors keep the Rust parser's wording.
fn go_regexp_error(pattern: &str, e: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    if let Err(ae) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
        let span = ae.span();
        let from = |i: usize| pattern.get(i..).unwrap_or("");
        let at = |a: usize, b: usize| pattern.get(a..b).unwrap_or("");
        let (what, expr) = match ae.kind() {
            K::ClassUnclosed => ("missing closing ]", from(span.start.offset)),
            K::GroupUnclosed => ("missing closing )", pattern),
            K::GroupUnopened => ("unexpected )", pattern),
            K::RepetitionMissing => (
                "missing argument to repetition operator",
                at(span.start.offset, span.end.offset),
            ),
            K::EscapeUnrecognized => (
                "invalid escape sequence",
                at(span.start.offset, span.end.offset),
            ),
            K::ClassRangeInvalid => (
                "invalid character class range",
                at(span.start.offset, span.end.offset),
            ),
            K::RepetitionCountInvalid | K::RepetitionCountUnclosed => (
                "invalid repeat count",
                at(span.start.offset, span.end.offset),
            ),
            K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
            _ => return format!("error parsing regexp: {}", first_line(&ae.to_string())),
        };
        return format!("error parsing regexp: {what}: `{expr}`");
    }
    first_line(&e.to_string())
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn nested_value_validation(
    v: &Value,
    skip_any_of: bool,
    lvl: Level,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    if !v.is_object() {
        return;
    }
    value_validation(v, skip_any_of, false, lvl, path, errs);
    if let Some(items) = v.get("items").filter(|x| x.is_object()) {
        nested_value_validation(items, false, lvl, &format!("{path}.items"), errs);
    }
    if let Some(p) = props(v) {
        for (k, x) in p {
            nested_value_validation(
                x,
                false,
                Level::Field,
                &format!("{path}.properties[{k}]"),
                errs,
            );
        }
    }
    let forb = |errs: &mut Vec<FieldError>, key: &str, detail: &str| {
        errs.push(FieldError::forbidden(format!("{path}.{key}"), detail));
    };
    if !s(v, "type").is_empty() {
        forb(errs, "type", "must be empty to be structural");
    }
    if v.get("additionalProperties").is_some_and(|a| !a.is_null()) {
        forb(
            errs,
            "additionalProperties",
            "must be undefined to be structural",
        );
    }
    if v.get("default").is_some_and(|d| !d.is_null()) {
        forb(errs, "default", "must be undefined to be structural");
    }
    if !s(v, "title").is_empty() {
        forb(errs, "title", "must be empty to be structural");
    }
    if !s(v, "description").is_empty() {
        forb(errs, "description", "must be empty to be structural");
    }
    if b(v, "nullable") {
        forb(errs, "nullable", "must be false to be structural");
    }
    if v.get("externalDocs").is_some_and(|d| !d.is_null()) {
        forb(errs, "externalDocs", "must be undefined to be structural");
    }
    if b(v, "x-kubernetes-preserve-unknown-fields") {
        forb(
            errs,
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        );
    }
    if b(v, "x-kubernetes-embedded-resource") {
        forb(
            errs,
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        );
    }
    if b(v, "x-kubernetes-int-or-string") {
        forb(
            errs,
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        );
    }
    if v.get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        forb(
            errs,
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        );
    }
    if v.get("x-kubernetes-list-type")
        .is_some_and(|x| !x.is_null())
    {
        forb(
            errs,
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        );
    }
    if v.get("x-kubernetes-map-type").is_some_and(|x| !x.is_null()) {
        forb(
            errs,
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        );
    }
    if v.get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        forb(
            errs,
            "x-kubernetes-validations",
            "must be empty to be structural",
        );
    }
    if props(v).is_some_and(|p| p.contains_key("metadata")) {
        errs.push(FieldError::forbidden(
            format!("{path}.properties[metadata]"),
            "must not be specified in a nested context",
        ));
    }
}

/// `validateStructuralCompleteness`: every field and `items` a value validation of the root
/// mentions must also be specified in the structural part.
fn structural_completeness(sch: &Value, spath: &str, vpath: &str, errs: &mut Vec<FieldError>) {
    value_validation_completeness(sch, Some(sch), spath, vpath, errs);
}

fn value_validation_completeness(
    v: &Value,
    s_: Option<&Value>,
    spath: &str,
    vpath: &str,
    errs: &mut Vec<FieldError>,
) {
    if let Some(n) = v.get("not").filter(|n| n.is_object()) {
        nested_completeness(n, s_, spath, &format!("{vpath}.not"), errs);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = v.get(key).and_then(Value::as_array) {
            for (idx, x) in a.iter().enumerate() {
                nested_completeness(x, s_, spath, &format!("{vpath}.{key}[{idx}]"), errs);
            }
        }
    }
}

fn nested_completeness(
    v: &Value,
    s_: Option<&Value>,
    spath: &str,
    vpath: &str,
    errs: &mut Vec<FieldError>,
) {
    let Some(sv) = s_ else {
        errs.push(FieldError::required(
            spath,
            format!("because it is defined in {vpath}"),
        ));
        return;
    };
    value_validation_completeness(v, Some(sv), spath, vpath, errs);
    if let Some(items) = v.get("items").filter(|x| x.is_object()) {
        nested_completeness(
            items,
            sv.get("items").filter(|x| x.is_object()),
            &format!("{spath}.items"),
            &format!("{vpath}.items"),
            errs,
        );
    }
    if let Some(p) = props(v) {
        for (k, x) in p {
            match props(sv).and_then(|sp| sp.get(k)) {
                None => errs.push(FieldError::required(
                    format!("{spath}.properties[{k}]"),
                    format!("because it is defined in {vpath}.properties[{k}]"),
                )),
                Some(sf) => nested_completeness(
                    x,
                    Some(sf),
                    &format!("{spath}.properties[{k}]"),
                    &format!("{vpath}.properties[{k}]"),
                    errs,
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ValidateCustomResourceDefinitionOpenAPISchema

#[derive(Clone, Default)]
struct Ssv {
    allow_defaults_forbidden: Option<String>,
    inside_resource_meta: bool,
    uncorrelatable: Option<String>,
}

#[derive(Clone, Copy)]
struct CelCtx<'a> {
    decl: Option<&'a Decl>,
    json: &'a Value,
    /// `None` = unbounded
    cardinality: Option<u64>,
    in_scope: bool,
}

#[derive(Default)]
struct Total {
    total: u64,
    most_expensive: Vec<(String, u64)>,
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

struct Ctx<'t> {
    report_costs: Vec<RuleCost>,
    warnings: Vec<String>,
    total: &'t mut Total,
}

#[derive(Default)]
struct Errs {
    schema: Vec<FieldError>,
    cel: Vec<FieldError>,
}

impl Errs {
    fn append(&mut self, o: Errs) {
        self.schema.extend(o.schema);
        self.cel.extend(o.cel);
    }
}

fn has_validations(v: &Value) -> bool {
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
fn openapi_schema(
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
