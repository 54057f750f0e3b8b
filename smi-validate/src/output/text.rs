use super::RenderOptions;
use crate::{Report, Severity};
use std::fmt::Write;
use unicode_width::UnicodeWidthChar;

/// Characters of a message, path, object name or hint shown; the rest is clipped.
const MAX_TEXT_CHARS: usize = 500;
/// Characters of a source line shown around the column (a 2 MB line is not echoed).
const SOURCE_WINDOW: usize = 160;

/// A character as the terminal gets it: control characters (escape sequences, carriage
/// returns, NUL …) and invisible formatting characters (bidi overrides) from a manifest are
/// written as `\u{..}`, never raw.
fn push_clean(out: &mut String, ch: char) {
    let invisible = matches!(ch, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}');
    if (ch.is_control() && ch != '\t') || invisible {
        let _ = write!(out, "{}", ch.escape_unicode());
    } else {
        out.push(ch);
    }
}

/// `s` escaped (see [`push_clean`]) and clipped to [`MAX_TEXT_CHARS`] characters.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT_CHARS));
    for (n, (at, ch)) in s.char_indices().enumerate() {
        if n == MAX_TEXT_CHARS {
            let _ = write!(out, "… ({} more bytes)", s.len() - at);
            break;
        }
        push_clean(&mut out, ch);
    }
    out
}

/// The part of a source line shown, escaped: at most [`SOURCE_WINDOW`] characters around the
/// 1-based column `col`, with `…` where it was cut. Returns the text, the number of characters
/// before the column in it (tabs kept, for the caret line), and the caret width.
fn source_window(src: &str, col: usize) -> (String, String, usize) {
    let chars: Vec<char> = src.chars().collect();
    let col0 = col.saturating_sub(1).min(chars.len());
    let from = col0.saturating_sub(SOURCE_WINDOW / 4);
    let to = (from + SOURCE_WINDOW).min(chars.len());
    let mut shown = String::new();
    let mut lead = String::new();
    if from > 0 {
        shown.push('…');
        lead.push(' ');
    }
    for (i, &ch) in chars[from..to].iter().enumerate() {
        let before = shown.chars().count();
        push_clean(&mut shown, ch);
        if from + i < col0 {
            // Pad by terminal cells: a wide character (CJK, most emoji) takes two, a combining
            // one none; an escaped character takes as many as its (ASCII) escape.
            let pushed = shown.chars().count() - before;
            let width = if pushed == 1 && ch != '\t' {
                ch.width().unwrap_or(0)
            } else {
                pushed
            };
            lead.extend(std::iter::repeat_n(
                if ch == '\t' { '\t' } else { ' ' },
                width,
            ));
        }
    }
    if to < chars.len() {
        shown.push('…');
    }
    let rest = &chars[col0..to];
    let mut n: usize = rest
        .iter()
        .take_while(|ch| !ch.is_whitespace() && **ch != ':' && **ch != ',' && !ch.is_control())
        .map(|ch| ch.width().unwrap_or(0))
        .sum();
    if rest.first() == Some(&'-') || n == 0 {
        n = 1;
    }
    (shown, lead, n)
}

fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// Renders rustc-style text:
///
/// ```text
/// error[SMI1201]: expected integer, found string "5"
///  --> split.yaml:9:5 (document 0, spec.backends[0].weight)
///   |
/// 9 |     weight: "5"
///   |     ^^^^^^
///   = hint: write a plain number without quotes or unit suffix
/// ```
pub fn render_text(report: &Report, opts: RenderOptions) -> String {
    let c = opts.color;
    let mut s = String::new();
    for d in &report.diagnostics {
        let (sev, col) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            s,
            "{}{}",
            paint(c, col, &format!("{sev}[{}]", d.code)),
            paint(c, "1", &format!(": {}", clean(&d.message)))
        );
        let mut ctx = Vec::new();
        if let Some(doc) = d.document {
            ctx.push(format!("document {doc}"));
        }
        if let Some(p) = &d.path {
            ctx.push(clean(p));
        }
        if let Some(o) = &d.object {
            ctx.push(clean(o));
        }
        let ctx = if ctx.is_empty() {
            String::new()
        } else {
            format!(" ({})", ctx.join(", "))
        };
        let width = d.line.map_or(1, |l| l.to_string().len());
        let pad = " ".repeat(width);
        let _ = writeln!(
            s,
            "{pad}{} {}{ctx}",
            paint(c, "1;34", "-->"),
            clean(&d.location())
        );
        if let (Some(line), Some(col0), Some(src)) = (d.line, d.column, &d.source_line) {
            let bar = paint(c, "1;34", "|");
            let _ = writeln!(s, "{pad} {bar}");
            let (shown, start, n) = source_window(src, col0);
            let _ = writeln!(s, "{} {bar} {shown}", paint(c, "1;34", &line.to_string()));
            let _ = writeln!(s, "{pad} {bar} {start}{}", paint(c, col, &"^".repeat(n)));
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(s, "{pad} {} hint: {}", paint(c, "1;34", "="), clean(h));
        }
        s.push('\n');
    }
    let m = &report.summary;
    if m.cross_object_skipped {
        // always said, summary or not: no finding of those rules must not read as "clean"
        let _ = writeln!(
            s,
            "{}: cross-object rules (SMI1401–SMI1407) skipped: references, duplicates and namespaces across objects are not checked",
            paint(c, "1", "note")
        );
    }
    if opts.summary {
        let _ = writeln!(
            s,
            "Summary: {} file(s), {} document(s), {} SMI object(s), {} skipped; {} error(s), {} warning(s){}",
            m.files,
            m.documents,
            m.smi_objects,
            m.skipped,
            m.errors,
            m.warnings,
            if m.cross_object_skipped {
                "; cross-object rules skipped"
            } else {
                ""
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_text_clipped() {
        assert_eq!(clean("a\x1b[2Jb\r\u{202e}"), r"a\u{1b}[2Jb\u{d}\u{202e}");
        let long = clean(&"x".repeat(2_000_000));
        assert!(
            long.len() < 600 && long.ends_with("… (1999500 more bytes)"),
            "{}",
            &long[..50]
        );
    }

    #[test]
    fn a_long_source_line_is_shown_as_a_window_around_the_column() {
        let line = format!("key: {}", "y".repeat(2_000_000));
        let (shown, lead, n) = source_window(&line, 6);
        assert_eq!(shown.chars().count(), SOURCE_WINDOW + 1, "{shown}");
        assert!(shown.starts_with("key: yyy") && shown.ends_with('…'));
        assert_eq!((lead.len(), n), (5, SOURCE_WINDOW - 5));
        // a column far into the line: the window starts before it, the caret stays under it
        let (shown, lead, _) = source_window(&line, 1_000_000);
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(lead.chars().count(), 1 + SOURCE_WINDOW / 4);
        // an escape sequence before the column widens the caret's offset by its escape
        let (shown, lead, n) = source_window("a\x1bb: c", 6);
        assert_eq!(shown, r"a\u{1b}b: c");
        assert_eq!((lead.len(), n), (r"a\u{1b}b: ".len(), 1));
    }
}
