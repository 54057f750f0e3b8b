//! The inline SVG charts of the HTML pages: latency by percentile on a log "nines" axis, and
//! values over time.

use super::*;

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A named, coloured latency curve: (percentile, µs) points and the number of values behind them.
pub(super) struct Series<'a> {
    pub(super) name: &'a str,
    pub(super) color: &'a str,
    pub(super) points: Vec<(f64, f64)>,
    pub(super) count: u64,
}

impl<'a> Series<'a> {
    pub(super) fn of(name: &'a str, color: &'a str, h: &Histogram<u64>) -> Self {
        let points = h
            .iter_quantiles(5)
            .map(|v| {
                (
                    v.quantile_iterated_to() * 100.0,
                    v.value_iterated_to() as f64,
                )
            })
            .collect();
        Series {
            name,
            color,
            points,
            count: h.len(),
        }
    }
}

/// 1, 2 or 5 × 10^k: the smallest such step of at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Inline SVG: latency (ms, linear) against percentile on a log "nines" axis
/// (x = log10(1/(1-p))), with a dot per reported percentile (`marks`: label, percentile, µs).
/// The axis ends at the nines the sample count can resolve (1000 values: 99.9 %), so a short
/// run is not drawn as a long flat line of made-up precision.
pub(super) fn svg(series: &[Series<'_>], marks: &[(String, f64, f64)]) -> String {
    let (w, h, ml, mr, mt, mb) = (760.0, 400.0, 70.0, 40.0, 36.0, 50.0);
    let count = series.iter().map(|s| s.count).max().unwrap_or(0);
    let nines = ((count.max(1) as f64).log10().ceil()).clamp(1.0, 5.0);
    let x_of = |p: f64| {
        let rest = (1.0 - p / 100.0).max(1e-12);
        ml + (-rest.log10()).clamp(0.0, nines) / nines * (w - ml - mr)
    };
    let max_ms = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        / 1000.0;
    let step = nice_step(max_ms.max(0.001) / 5.0);
    let ticks = (max_ms / step).ceil().max(1.0);
    let ymax = step * ticks;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let y_of = |us: f64| mt + (1.0 - (us / 1000.0) / ymax) * (h - mt - mb);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg id="percentiles-chart" role="img" aria-label="latency by percentile" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
    );
    let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
    for (i, label) in labels.iter().take(nines as usize + 1).enumerate() {
        let x = ml + i as f64 / nines * (w - ml - mr);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text class="x-tick" x="{x:.1}" y="{:.1}" font-size="12" text-anchor="middle">{label}</text>"##,
            h - mb,
            h - mb + 16.0
        );
    }
    for i in 0..=ticks as u32 {
        let v = step * f64::from(i);
        let y = y_of(v * 1000.0);
        let _ = write!(
            out,
            r##"<line x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text class="y-tick" x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{v:.decimals$} ms</text>"##,
            w - mr,
            ml - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{b:.1}" stroke="#888"/><line x1="{ml}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">percentile (log scale of 1/(1-p))</text>"##,
        (w + ml - mr) / 2.0,
        h - 8.0,
        b = h - mb,
        r = w - mr,
    );
    if series.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">no latency recorded</text>"#,
            (w + ml - mr) / 2.0,
            (h + mt - mb) / 2.0
        );
    }
    // Legend in the top margin, where no curve can cover it.
    let mut lx = ml;
    for s in series {
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="14" x2="{:.1}" y2="14" stroke="{c}" stroke-width="2"/><text x="{:.1}" y="18" font-size="12" fill="{c}">{}</text>"#,
            lx + 18.0,
            lx + 24.0,
            esc(s.name),
            c = s.color
        );
        lx += 24.0 + 7.0 * s.name.chars().count() as f64 + 24.0;
    }
    for s in series {
        let d: Vec<String> = s
            .points
            .iter()
            .map(|(p, us)| format!("{:.1},{:.1}", x_of(*p), y_of(*us)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="curve" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            s.color,
            d.join(" ")
        );
    }
    if let Some(s) = series.first() {
        for (label, p, us) in marks {
            let _ = write!(
                out,
                r##"<circle class="mark" cx="{:.1}" cy="{:.1}" r="4" fill="{}" stroke="#fff"><title>p{}: {}</title></circle>"##,
                x_of(*p),
                y_of(*us),
                s.color,
                esc(label),
                ms(*us as i64)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A line of a time chart: name, colour, (seconds, value) points.
pub(super) struct Line {
    pub(super) name: String,
    pub(super) color: &'static str,
    pub(super) points: Vec<(f64, f64)>,
}

/// Inline SVG line chart of values over time (x: seconds since the series start, linear; y:
/// linear from 0). Every polyline carries its data as `data-values="t:v …"` (the numbers it was
/// drawn from, so a test can check the chart against the result) and `data-series` (its name).
pub(super) fn time_chart(id: &str, title: &str, unit: &str, x_max: f64, lines: &[Line]) -> String {
    let (w, h, ml, mr, mt, mb) = (760.0, 260.0, 70.0, 20.0, 36.0, 40.0);
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let y_max_raw = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let step = nice_step(if y_max_raw > 0.0 { y_max_raw } else { 1.0 } / 4.0);
    let ticks = (y_max_raw / step).ceil().max(1.0);
    let y_max = step * ticks;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let x_of = |t: f64| ml + (t / x_max).clamp(0.0, 1.0) * (w - ml - mr);
    let y_of = |v: f64| mt + (1.0 - v / y_max) * (h - mt - mb);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<figure><svg id="{id}" class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/><text x="{ml}" y="14" font-size="13" font-weight="bold">{t}</text>"##,
        t = esc(title)
    );
    for i in 0..=ticks as u32 {
        let v = step * f64::from(i);
        let y = y_of(v);
        let _ = write!(
            out,
            r##"<line x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text class="y-tick" x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{v:.decimals$} {}</text>"##,
            w - mr,
            ml - 6.0,
            y + 4.0,
            esc(unit)
        );
    }
    let xstep = nice_step(x_max / 8.0);
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let x = x_of(t);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{:.1}" stroke="#f3f3f3"/><text class="x-tick" x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{t}s</text>"##,
            h - mb,
            h - mb + 14.0
        );
        t += xstep;
    }
    let _ = write!(
        out,
        r##"<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{b:.1}" stroke="#888"/><line x1="{ml}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">seconds since start</text>"##,
        w - mr,
        (w + ml - mr) / 2.0,
        h - 6.0,
        b = h - mb,
    );
    if lines.iter().all(|l| l.points.is_empty()) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">no data</text>"#,
            (w + ml - mr) / 2.0,
            (h + mt - mb) / 2.0
        );
    }
    let mut lx = ml + 8.0 * title.chars().count() as f64 + 24.0;
    for l in lines {
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="10" x2="{:.1}" y2="10" stroke="{c}" stroke-width="2"/><text x="{:.1}" y="14" font-size="11" fill="{c}">{}</text>"#,
            lx + 14.0,
            lx + 18.0,
            esc(&l.name),
            c = l.color
        );
        lx += 18.0 + 6.5 * l.name.chars().count() as f64 + 16.0;
    }
    for l in lines {
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x_of(*t), y_of(*v)))
            .collect();
        let vals: Vec<String> = l.points.iter().map(|(t, v)| format!("{t}:{v}")).collect();
        let _ = write!(
            out,
            r#"<polyline class="series" data-series="{}" data-values="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            esc(&l.name),
            vals.join(" "),
            l.color,
            pts.join(" ")
        );
        if l.points.len() == 1 {
            let (t, v) = l.points[0];
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                x_of(t),
                y_of(v),
                l.color
            );
        }
    }
    out.push_str("</svg></figure>");
    out
}

pub(super) const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
