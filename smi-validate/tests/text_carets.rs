//! The caret line under a source line lines up in a terminal when the line holds wide
//! characters (CJK: two cells each) before or inside the flagged token (issue 17).

use smi_validate::output::{Format, RenderOptions, render};
use smi_validate::{Options, validate_str};

/// Display column (0-based, in terminal cells) of the first `^` under `src` in the block of
/// diagnostic `code` in `text`, and the number of carets.
fn caret_under(text: &str, code: &str, src: &str) -> (usize, usize, String) {
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains(&format!("[{code}]")))
        .unwrap_or_else(|| panic!("no {code} in\n{text}"));
    let i = head
        + lines[head..]
            .iter()
            .position(|l| l.ends_with(src))
            .unwrap_or_else(|| panic!("no source line {src:?} under {code} in\n{text}"));
    let carets = lines[i + 1];
    let prefix = &lines[i][..lines[i].len() - src.len()];
    let at = carets.find('^').expect("a caret line");
    let n = carets[at..].chars().take_while(|c| *c == '^').count();
    // the gutter (`12 | `) is ASCII and as wide on both lines
    let cells = carets[prefix.len()..at].chars().count();
    (cells, n, carets.to_owned())
}

#[test]
fn carets_count_terminal_cells_not_characters() {
    // `weight: "5"` is SMI1201 (a string where an integer goes); the service name before it
    // is four wide characters, 8 cells.
    let yaml = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: web}\nspec:\n  service: web\n  backends:\n  - {service: 网站服务, weight: \"5\"}\n";
    let report = validate_str("wide.yaml", yaml, &Options::default());
    let text = render(&report, Format::Text, RenderOptions::default());
    let src = "  - {service: 网站服务, weight: \"5\"}";
    let (cells, n, line) = caret_under(&text, "SMI1201", src);
    let flagged = src.find("\"5\"").unwrap();
    // cells before the value: the ASCII bytes plus two per wide character
    let want: usize = src[..flagged]
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    assert_eq!(cells, want, "{line:?} under {src:?}\n{text}");
    assert!(n >= 3, "{line:?}");

    // a wide token is underlined over its full width
    let yaml = "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: {name: web}\nspec:\n  service: web\n  backends:\n  - service: web-v1\n    weight: 重\n";
    let report = validate_str("wide.yaml", yaml, &Options::default());
    let text = render(&report, Format::Text, RenderOptions::default());
    let (_, n, line) = caret_under(&text, "SMI1201", "    weight: 重");
    assert_eq!(n, 2, "{line:?}\n{text}");
}
