//! PerformanceTest rules: the rules live in `smi_types::perf::PerformanceTestSpec::validate()`
//! (perf-api.md B.4); this module maps them onto diagnostics and adds the open-model lint.

use crate::diagnostic::Code;
use crate::path::Path;
use crate::structure::Finding;
use serde_json::Value;
use smi_types::perf::PerformanceTestSpec;

pub(crate) fn performance_test(v: &Value, out: &mut Vec<Finding>) {
    let Some(spec) = v.get("spec") else { return };
    let sp = Path::root().key("spec");
    let typed: PerformanceTestSpec = match serde_json::from_value(spec.clone()) {
        Ok(t) => t,
        Err(e) => {
            out.push(Finding::new(
                Code::WrongType,
                sp,
                format!("spec does not match the PerformanceTest schema: {e}"),
            ));
            return;
        }
    };
    let open = spec.get("loadModel").and_then(Value::as_str) == Some("Open");
    let no_rate = spec
        .get("rps")
        .is_none_or(|r| r.as_i64() == Some(0) || r.is_null());
    let open_without_rate = open && no_rate;
    let errors = typed.validate();
    for e in errors {
        if open_without_rate && e.path == "spec.rps" {
            continue; // reported below with its own code
        }
        let path = e.path.parse().unwrap_or_else(|_| sp.clone());
        out.push(Finding::new(Code::PerformanceTest, path, e.message));
    }
    for w in typed.warnings() {
        let path = w.path.parse().unwrap_or_else(|_| sp.clone());
        let mut f = Finding::new(Code::PerformanceTest, path, w.message);
        f.hint = Some("warning from the PerformanceTest rules".into());
        f.code = Code::PerformanceTest;
        out.push(f.warning());
    }
    if open_without_rate {
        out.push(
            Finding::new(
                Code::OpenModelWithoutRate,
                sp.key("loadModel"),
                "the open load model needs a request rate, but `rps` is not set",
            )
            .hint("set `rps` to the arrival rate, or use `loadModel: Closed`"),
        );
    }
}
