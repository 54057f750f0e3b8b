//! Target 3: the validator on arbitrary bytes (any encoding), with options picked by the first
//! byte, and every report renderer on the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smi_validate::output::{Format, RenderOptions, render};
use smi_validate::{Limits, Options, Target};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let mut opts = Options::new()
        .strict(mode & 1 != 0)
        .require_refs(mode & 2 != 0)
        .target(
            [Target::Any, Target::Sdk, Target::ControllerSdk, Target::Any]
                [(mode as usize >> 2) & 3],
        );
    opts.skip_cel = mode & 16 != 0;
    if mode & 32 != 0 {
        let mut l = Limits::default();
        l.max_documents = 8;
        l.max_document_bytes = 4096;
        l.max_depth = 8;
        l.max_scalar_bytes = 256;
        l.max_alias_nodes = 64;
        l.max_scalar_bytes_per_document = 512;
        opts = opts.limits(l);
    }
    let report = smi_validate::validate_bytes(bytes, &opts);
    let s = &report.summary;
    assert_eq!(s.errors, report.errors().count());
    assert_eq!(s.warnings, report.warnings().count());
    assert!(s.documents <= opts.limits.max_documents);
    let format = [
        Format::Text,
        Format::Json,
        Format::Junit,
        Format::Sarif,
        Format::Tap,
    ][(mode as usize >> 6) % 4 + usize::from(mode == 255)];
    let out = render(&report, format, RenderOptions::default());
    if format == Format::Text {
        // control characters from the input never reach a terminal raw (color is off here)
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "raw control character in the text output"
        );
    }
    if format == Format::Json || format == Format::Sarif {
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON output parses");
    }
});
