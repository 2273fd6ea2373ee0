//! Human-readable output of a [`Plan`]: text, SVG charts, an HTML page.
//! Pure string building; the page has no external assets and no script.

use std::fmt::Write as _;

use crate::plan::Plan;

fn pct(x: f64) -> String {
    if x <= 0.0 {
        "0 %".into()
    } else if x < 1e-5 {
        "< 0.001 %".into()
    } else if x < 0.001 {
        format!("{:.3} %", x * 100.0)
    } else {
        format!("{:.2} %", x * 100.0)
    }
}

fn money(x: f64, cur: &str) -> String {
    let r = x.round() as i64;
    let s = r.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{} {cur}", if r < 0 { "-" } else { "" }, out)
}

/// Escape text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

impl Plan {
    /// A plain-text report.
    pub fn report_text(&self) -> String {
        let mut s = String::new();
        let d = &self.demand;
        let _ = writeln!(s, "Cubby capacity plan");
        let _ = writeln!(s, "===================");
        let _ = writeln!(
            s,
            "Recommended: {} compartments ({})",
            self.compartments_total, self.sized_by
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "Demand");
        let _ = writeln!(s, "  units                      {}", d.units);
        let _ = writeln!(
            s,
            "  parcels/day, normal week   {:.1}",
            d.parcels_per_day_normal
        );
        let _ = writeln!(
            s,
            "  parcels/day, peak week     {:.1}",
            d.parcels_per_day_peak_week
        );
        let _ = writeln!(s, "  parcels/year               {:.0}", d.parcels_per_year);
        let _ = writeln!(
            s,
            "  dwell                      mean {:.1} h; {:.1} h in a compartment after expiry and holds",
            d.mean_dwell_hours, d.occupancy_hours
        );
        let _ = writeln!(
            s,
            "  offered load               {:.1} erlangs normal, {:.1} peak week",
            d.offered_load_normal, d.offered_load_peak_week
        );
        let _ = writeln!(
            s,
            "  target blocking            {} in the peak week",
            pct(d.target_blocking)
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "Compartments");
        let _ = writeln!(
            s,
            "  {:<8} {:<4} {:>6} {:>8} {:>9} {:>10} {:>10} {:>12} {:>8}",
            "zone", "size", "count", "closed", "load", "B normal", "B peak", "sim B peak", "util"
        );
        for c in &self.compartments {
            let simb = c
                .simulated_blocking_peak_week
                .map_or("-".into(), |e| pct(e.mean));
            let util = c
                .simulated_utilisation
                .map_or("-".into(), |e| format!("{:.0} %", e.mean * 100.0));
            let _ = writeln!(
                s,
                "  {:<8} {:<4} {:>6} {:>8} {:>9.1} {:>10} {:>10} {:>12} {:>8}",
                c.zone.name(),
                c.size.name(),
                c.count,
                c.closed_form_count,
                c.offered_load_peak_week,
                pct(c.blocking_normal),
                pct(c.blocking_peak_week),
                simb,
                util
            );
        }
        let _ = writeln!(
            s,
            "  closed form alone: {} (one pooled class would need {}; {:.0} parcels/year would overflow it by Erlang)",
            self.closed_form.total,
            self.closed_form.single_class_total,
            self.closed_form.overflow_per_year
        );
        let _ = writeln!(
            s,
            "  parcels overflowing this plan per year: {:.0}",
            self.overflow_per_year
        );
        if let Some(sim) = &self.simulation {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Simulation ({} replications × {} days, seed {}; mean [95 % CI])",
                sim.replications, sim.days, sim.seed
            );
            let e = |x: &crate::sim::Estimate, p: bool| {
                if p {
                    format!(
                        "{} [{} – {}]",
                        pct(x.mean),
                        pct(x.ci95_low.max(0.0)),
                        pct(x.ci95_high)
                    )
                } else {
                    format!("{:.1} [{:.1} – {:.1}]", x.mean, x.ci95_low, x.ci95_high)
                }
            };
            let _ = writeln!(
                s,
                "  blocking, normal weeks     {}",
                e(&sim.blocking_normal, true)
            );
            let _ = writeln!(
                s,
                "  blocking, peak week        {}",
                e(&sim.blocking_peak_week, true)
            );
            let _ = writeln!(
                s,
                "  utilisation                {}",
                e(&sim.utilisation, true)
            );
            let _ = writeln!(
                s,
                "  peak occupancy             {}",
                e(&sim.peak_occupancy, false)
            );
            let _ = writeln!(
                s,
                "  parcels overflowed / year  {}",
                e(&sim.overflowed_parcels, false)
            );
            let _ = writeln!(
                s,
                "  upgraded to larger / year  {}",
                e(&sim.upgraded_parcels, false)
            );
            let _ = writeln!(
                s,
                "  consolidated / year        {}",
                e(&sim.consolidated_parcels, false)
            );
            let _ = writeln!(
                s,
                "  expired / year             {}",
                e(&sim.expired_parcels, false)
            );
        }
        let r = &self.parcel_room;
        let _ = writeln!(s);
        let _ = writeln!(s, "Alternative: open parcel room");
        let _ = writeln!(
            s,
            "  holds {} parcels: {:.1} m of shelf ({:.1} m run), {:.1} m² ({:.0} sq ft; USPS average room {:.0} sq ft)",
            r.parcels_held,
            r.shelf_length_m,
            r.shelf_run_m,
            r.floor_area_m2,
            r.floor_area_sq_ft,
            r.usps_average_sq_ft
        );
        for a in &r.assumptions {
            let _ = writeln!(s, "  - {a}");
        }
        let c = &self.costs;
        let cur = c.currency.as_str();
        let _ = writeln!(s);
        let _ = writeln!(s, "Costs");
        let _ = writeln!(
            s,
            "  lockers: capex {}, maintenance {}/year, 5 years {}",
            money(c.locker_capex, cur),
            money(c.locker_maintenance_per_year, cur),
            money(c.locker_five_years, cur)
        );
        let _ = writeln!(
            s,
            "  room:    capex {}, subscription {}/year, 5 years {}",
            money(c.room_capex, cur),
            money(c.room_per_year, cur),
            money(c.room_five_years, cur)
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "Sensitivity (closed form)");
        for row in &self.sensitivity {
            let _ = writeln!(
                s,
                "  {:<40} {:>7.1} parcels/day peak → {:>5} compartments",
                row.case, row.parcels_per_day_peak_week, row.compartments
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "Vendor rules of thumb (normal-week volume)");
        for rt in &self.rules_of_thumb {
            let _ = writeln!(
                s,
                "  {:<55} {:>6.0}   ({})",
                rt.name, rt.compartments, rt.formula
            );
        }
        let _ = writeln!(s, "  {:<55} {:>6}", "this plan", self.compartments_total);
        let _ = writeln!(s);
        let _ = writeln!(s, "Assumptions");
        for a in &self.assumptions {
            let tag = if a.is_default { "default" } else { "given" };
            let _ = writeln!(s, "  [{tag}] {}: {} — {}", a.name, a.value, a.source);
        }
        s
    }

    /// SVG: Erlang B blocking against compartments (log scale), with the
    /// target, the pooled minimum and this plan.
    pub fn svg_blocking_curve(&self) -> String {
        let c = &self.erlang_curve;
        let (w, h) = (640.0, 360.0);
        let (l, r, t, b) = (64.0, 20.0, 24.0, 48.0);
        let (pw, ph) = (w - l - r, h - t - b);
        let x0 = c.points.first().map_or(0.0, |p| p[0]);
        let x1 = c.points.last().map_or(1.0, |p| p[0]).max(x0 + 1.0);
        let (ylo, yhi) = (-4.0_f64, 0.0_f64);
        let sx = |x: f64| l + (x - x0) / (x1 - x0) * pw;
        let sy = |v: f64| {
            let lv = v.max(1e-4).log10().clamp(ylo, yhi);
            t + (yhi - lv) / (yhi - ylo) * ph
        };
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="12" role="img" aria-label="Blocking against compartments">"#
        );
        let _ = write!(
            s,
            r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
        );
        for e in 0..=4 {
            let v = 10f64.powi(-e);
            let y = sy(v);
            let _ = write!(
                s,
                r##"<line x1="{l}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                l + pw,
                l - 6.0,
                y + 4.0,
                pct(v)
            );
        }
        let step = ((x1 - x0) / 8.0).max(1.0).ceil();
        let mut xv = x0;
        while xv <= x1 + 1e-9 {
            let x = sx(xv);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{xv:.0}</text>"##,
                t + ph,
                t + ph + 16.0
            );
            xv += step;
        }
        let path = |idx: usize| {
            let mut p = String::new();
            for (i, pt) in c.points.iter().enumerate() {
                let _ = write!(
                    p,
                    "{}{:.1},{:.1} ",
                    if i == 0 { "M" } else { "L" },
                    sx(pt[0]),
                    sy(pt[idx])
                );
            }
            p
        };
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="#1f6feb" stroke-width="2"/>"##,
            path(1)
        );
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="#8c959f" stroke-width="1.5" stroke-dasharray="5 4"/>"##,
            path(2)
        );
        let ty = sy(self.demand.target_blocking);
        let _ = write!(
            s,
            r##"<line x1="{l}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#cf222e" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" fill="#cf222e" text-anchor="end">target {}</text>"##,
            l + pw,
            l + pw - 4.0,
            ty - 4.0,
            pct(self.demand.target_blocking)
        );
        let pm = f64::from(c.pooled_minimum);
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f6feb"/><text x="{:.1}" y="{:.1}">pooled minimum {}</text>"##,
            sx(pm),
            sy(crate::erlang::erlang_b(c.pooled_minimum, c.load_peak_week)),
            sx(pm) + 6.0,
            sy(crate::erlang::erlang_b(c.pooled_minimum, c.load_peak_week)) - 8.0,
            c.pooled_minimum
        );
        let cx = sx(f64::from(c.chosen));
        let cy = sy(c.chosen_blocking.max(1e-4));
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="9" height="9" fill="#1a7f37"/><text x="{:.1}" y="{:.1}" fill="#1a7f37" text-anchor="{}">this plan {} (worst class {})</text>"##,
            cx - 4.5,
            cy - 4.5,
            if cx > l + pw / 2.0 {
                cx - 8.0
            } else {
                cx + 8.0
            },
            cy + 18.0,
            if cx > l + pw / 2.0 { "end" } else { "start" },
            c.chosen,
            pct(c.chosen_blocking)
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">compartments</text><text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle">blocking</text>"##,
            l + pw / 2.0,
            h - 8.0,
            t + ph / 2.0,
            t + ph / 2.0
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="16" fill="#1f6feb">peak week ({:.1} erl)</text><text x="{:.1}" y="16" fill="#57606a">normal week ({:.1} erl)</text></svg>"##,
            l,
            c.load_peak_week,
            l + 200.0,
            c.load_normal
        );
        s
    }

    /// SVG: hourly occupancy through the peak week (simulation replication 0)
    /// against the number of compartments. Empty string without a simulation.
    pub fn svg_peak_week_occupancy(&self) -> String {
        let Some(sim) = &self.simulation else {
            return String::new();
        };
        let trace = &sim.peak_week_occupancy;
        if trace.is_empty() {
            return String::new();
        }
        let (w, h) = (640.0, 300.0);
        let (l, r, t, b) = (52.0, 20.0, 24.0, 40.0);
        let (pw, ph) = (w - l - r, h - t - b);
        let cap = f64::from(self.compartments_total);
        let ymax = (trace.iter().copied().max().map_or(0.0, f64::from).max(cap) * 1.1).max(1.0);
        let n = 168.0;
        let sx = |i: f64| l + i / n * pw;
        let sy = |v: f64| t + (1.0 - v / ymax) * ph;
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="12" role="img" aria-label="Occupancy through the peak week"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
        );
        for (d, name) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .iter()
            .enumerate()
        {
            let x = sx(24.0 * d as f64);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{t}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{name}</text>"##,
                t + ph,
                x + pw / 14.0,
                t + ph + 16.0
            );
        }
        for i in 0..=4 {
            let v = ymax * f64::from(i) / 4.0;
            let y = sy(v);
            let _ = write!(
                s,
                r##"<line x1="{l}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#f0f0f0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
                l + pw,
                l - 6.0,
                y + 4.0
            );
        }
        let mut p = String::new();
        for (i, &v) in trace.iter().enumerate() {
            let _ = write!(
                p,
                "{}{:.1},{:.1} ",
                if i == 0 { "M" } else { "L" },
                sx(i as f64),
                sy(f64::from(v))
            );
        }
        let _ = write!(
            s,
            r##"<path d="{p}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>"##
        );
        let cy = sy(cap);
        let _ = write!(
            s,
            r##"<line x1="{l}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#cf222e" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#cf222e" text-anchor="end">{} compartments</text>"##,
            l + pw,
            l + pw - 4.0,
            cy - 4.0,
            self.compartments_total
        );
        let _ = write!(
            s,
            r##"<text x="{l}" y="16">occupied compartments, hourly, peak week (one simulated year, seed {})</text></svg>"##,
            sim.seed
        );
        s
    }

    /// A self-contained HTML page: inline SVG and CSS, no script, no external asset.
    pub fn report_html(&self) -> String {
        let mut s = String::new();
        let d = &self.demand;
        let _ = write!(
            s,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Cubby capacity plan: {} compartments</title><style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}}table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:right}}th{{background:#f6f8fa}}td.l,th.l{{text-align:left}}.big{{font-size:2rem;font-weight:700}}svg{{max-width:100%;height:auto}}small{{color:#57606a}}</style></head><body>",
            self.compartments_total
        );
        let _ = write!(
            s,
            "<h1>Capacity plan</h1><p class=\"big\">{} compartments</p><p>{}</p>",
            self.compartments_total,
            escape(&self.sized_by)
        );
        let _ = write!(
            s,
            "<h2>Demand</h2><table><tr><th class=\"l\">units</th><td>{}</td></tr><tr><th class=\"l\">parcels/day, normal week</th><td>{:.1}</td></tr><tr><th class=\"l\">parcels/day, peak week</th><td>{:.1}</td></tr><tr><th class=\"l\">parcels/year</th><td>{:.0}</td></tr><tr><th class=\"l\">mean dwell / time in compartment</th><td>{:.1} h / {:.1} h</td></tr><tr><th class=\"l\">offered load normal / peak</th><td>{:.1} / {:.1} erlangs</td></tr><tr><th class=\"l\">target blocking (peak week)</th><td>{}</td></tr></table>",
            d.units,
            d.parcels_per_day_normal,
            d.parcels_per_day_peak_week,
            d.parcels_per_year,
            d.mean_dwell_hours,
            d.occupancy_hours,
            d.offered_load_normal,
            d.offered_load_peak_week,
            pct(d.target_blocking)
        );
        let _ = write!(
            s,
            "<h2>Compartments</h2><table><tr><th class=\"l\">zone</th><th class=\"l\">size</th><th>count</th><th>closed form</th><th>peak load</th><th>blocking normal</th><th>blocking peak</th><th>simulated blocking peak [95 % CI]</th><th>utilisation</th><th>unit cost</th></tr>"
        );
        for c in &self.compartments {
            let simb = c.simulated_blocking_peak_week.map_or("–".into(), |e| {
                format!(
                    "{} [{} – {}]",
                    pct(e.mean),
                    pct(e.ci95_low.max(0.0)),
                    pct(e.ci95_high)
                )
            });
            let util = c
                .simulated_utilisation
                .map_or("–".into(), |e| format!("{:.0} %", e.mean * 100.0));
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                c.zone.name(),
                c.size.name(),
                c.count,
                c.closed_form_count,
                c.offered_load_peak_week,
                pct(c.blocking_normal),
                pct(c.blocking_peak_week),
                simb,
                util,
                escape(&money(c.unit_cost, &self.costs.currency))
            );
        }
        let _ = write!(
            s,
            "</table><p>Closed form alone: {} (one pooled class: {}; by Erlang {:.0} parcels a year would overflow it). Parcels overflowing this plan per year: {:.0}.</p>",
            self.closed_form.total,
            self.closed_form.single_class_total,
            self.closed_form.overflow_per_year,
            self.overflow_per_year
        );
        let _ = write!(
            s,
            "<h2>Blocking against compartments</h2>{}",
            self.svg_blocking_curve()
        );
        if let Some(sim) = &self.simulation {
            let _ = write!(
                s,
                "<h2>Occupancy through the peak week</h2>{}",
                self.svg_peak_week_occupancy()
            );
            let e = |x: &crate::sim::Estimate, p: bool| {
                if p {
                    format!(
                        "{} [{} – {}]",
                        pct(x.mean),
                        pct(x.ci95_low.max(0.0)),
                        pct(x.ci95_high)
                    )
                } else {
                    format!("{:.1} [{:.1} – {:.1}]", x.mean, x.ci95_low, x.ci95_high)
                }
            };
            let _ = write!(
                s,
                "<h2>Simulation</h2><p><small>{} replications × {} days, seed {}; mean [95 % confidence interval]</small></p><table><tr><th class=\"l\">blocking, normal weeks</th><td>{}</td></tr><tr><th class=\"l\">blocking, peak week</th><td>{}</td></tr><tr><th class=\"l\">utilisation</th><td>{}</td></tr><tr><th class=\"l\">peak occupancy</th><td>{}</td></tr><tr><th class=\"l\">parcels overflowed per year</th><td>{}</td></tr><tr><th class=\"l\">upgraded to a larger class</th><td>{}</td></tr><tr><th class=\"l\">consolidated</th><td>{}</td></tr><tr><th class=\"l\">expired</th><td>{}</td></tr></table>",
                sim.replications,
                sim.days,
                sim.seed,
                e(&sim.blocking_normal, true),
                e(&sim.blocking_peak_week, true),
                e(&sim.utilisation, true),
                e(&sim.peak_occupancy, false),
                e(&sim.overflowed_parcels, false),
                e(&sim.upgraded_parcels, false),
                e(&sim.consolidated_parcels, false),
                e(&sim.expired_parcels, false)
            );
        }
        let r = &self.parcel_room;
        let _ = write!(
            s,
            "<h2>Alternative: open parcel room</h2><p>Holds {} parcels: {:.1} m of shelf ({:.1} m of shelving run), {:.1} m² ({:.0} sq ft; the USPS 2014 average package room is {:.0} sq ft).</p><ul>",
            r.parcels_held,
            r.shelf_length_m,
            r.shelf_run_m,
            r.floor_area_m2,
            r.floor_area_sq_ft,
            r.usps_average_sq_ft
        );
        for a in &r.assumptions {
            let _ = write!(s, "<li>{}</li>", escape(a));
        }
        let c = &self.costs;
        let cur = c.currency.as_str();
        let _ = write!(
            s,
            "</ul><h2>Costs</h2><table><tr><th></th><th>capex</th><th>per year</th><th>5 years</th></tr><tr><th class=\"l\">lockers</th><td>{}</td><td>{}</td><td>{}</td></tr><tr><th class=\"l\">parcel room</th><td>{}</td><td>{}</td><td>{}</td></tr></table>",
            escape(&money(c.locker_capex, cur)),
            escape(&money(c.locker_maintenance_per_year, cur)),
            escape(&money(c.locker_five_years, cur)),
            escape(&money(c.room_capex, cur)),
            escape(&money(c.room_per_year, cur)),
            escape(&money(c.room_five_years, cur))
        );
        let _ = write!(
            s,
            "<h2>Sensitivity</h2><table><tr><th class=\"l\">case</th><th>parcels/day, peak week</th><th>compartments</th></tr>"
        );
        for row in &self.sensitivity {
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td>{:.1}</td><td>{}</td></tr>",
                escape(&row.case),
                row.parcels_per_day_peak_week,
                row.compartments
            );
        }
        let _ = write!(
            s,
            "</table><h2>Vendor rules of thumb</h2><table><tr><th class=\"l\">rule</th><th class=\"l\">formula</th><th>compartments</th></tr>"
        );
        for rt in &self.rules_of_thumb {
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.0}</td></tr>",
                escape(&rt.name),
                escape(&rt.formula),
                rt.compartments
            );
        }
        let _ = write!(
            s,
            "<tr><th class=\"l\">this plan</th><td></td><th>{}</th></tr></table><h2>Assumptions</h2><table><tr><th class=\"l\">what</th><th class=\"l\">value</th><th class=\"l\"></th><th class=\"l\">source</th></tr>",
            self.compartments_total
        );
        for a in &self.assumptions {
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                escape(&a.name),
                escape(&a.value),
                if a.is_default { "default" } else { "given" },
                escape(&a.source)
            );
        }
        let _ = writeln!(s, "</table></body></html>");
        s
    }
}
