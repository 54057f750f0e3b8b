//! CRD-level rules of `k8s.io/apiextensions-apiserver` (create): names, group, scope,
//! versions, printer columns, subresources, conversion.

use serde_json::Value;

use super::schema::check_validation;
use super::schema::{b, i, s};
use super::{CrdReport, FieldError};

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
