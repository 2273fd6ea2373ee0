//! Bar charts drawn as inline SVG for the console's reports: no script, no
//! image files, readable by screen readers (a title, and every bar's value
//! in its own `<title>`), and the numbers are in a table beside each chart.

use cubby_planner::report::escape;

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

/// One bar per label; `every` labels only every n-th bar under the axis (a
/// month of days would not fit).
pub fn bars(title: &str, labels: &[String], values: &[f64], every: usize) -> String {
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let n = values.len().max(1) as f64;
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="chart" role="img" aria-label="{t}"><title>{t}</title><rect width="{W}" height="{H}" fill="#fff"/>"##,
        t = escape(title)
    );
    // Axis with the top value.
    out.push_str(&format!(
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{y}" stroke="#4a4a4a"/><line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="#4a4a4a"/><text x="{tx}" y="{ty}" font-size="12" text-anchor="end" fill="#111">{max}</text><text x="{tx}" y="{y}" font-size="12" text-anchor="end" fill="#111">0</text>"##,
        y = TOP + plot_h,
        x2 = W - 8.0,
        tx = LEFT - 4.0,
        ty = TOP + 10.0,
        max = round(max),
    ));
    for (i, v) in values.iter().enumerate() {
        let h = (v / max) * plot_h;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let y = TOP + plot_h - h;
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        out.push_str(&format!(
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="#0b4f9c"><title>{l}: {v}</title></rect>"##,
            l = escape(label),
            v = round(*v),
        ));
        if every > 0 && i % every == 0 {
            out.push_str(&format!(
                r##"<text x="{cx:.1}" y="{ly:.1}" font-size="11" text-anchor="middle" fill="#111">{l}</text>"##,
                cx = x + bar / 2.0,
                ly = H - BOTTOM + 16.0,
                l = escape(label),
            ));
        }
    }
    out.push_str("</svg>");
    out
}

fn round(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}
