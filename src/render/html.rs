//! HTML: one self-contained page — inline CSS and SVG, no scripts, no
//! external fonts, images or links — that reads the same in a browser, a
//! locked-down mail client and on paper. Every piece of user text (activity
//! text, cell values, file names, rule texts) goes through [`esc`].

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use super::svg::{chart, esc};
use super::{amount, inputs_line, rules_line};
use crate::assess::{Assessment, ReviewList, Status, fmt_score, pct};

const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #4d4d4d; --line: #d0d0d0; --up: #0072B2; --gap: #A33B00; --band: #EAF2F8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.45 Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 2px solid var(--up); padding-bottom: 3px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.provenance { color: var(--muted); font-size: 13px; margin: 0 0 16px; }
.headline { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 12px 0 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .big { display: block; font-size: 30px; font-weight: bold; line-height: 1.1; }
.card .label { font-size: 13px; color: var(--muted); }
.card.alert { border: 2px solid var(--gap); }
.card.alert .big { color: var(--gap); }
.narrative { font-size: 16px; max-width: 80ch; }
.spectrum { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); gap: 20px; align-items: start; }
.spectrum svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: bold; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.upstream td:first-child { border-left: 4px solid var(--up); }
tr.gap td { background: repeating-linear-gradient(45deg, #fff, #fff 6px, #f8e6dd 6px, #f8e6dd 9px); }
.status-gap { color: var(--gap); font-weight: bold; }
.status-thin { color: var(--gap); }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
ol.priorities { padding-left: 22px; }
ol.priorities li { margin: 0 0 12px; }
ol.priorities .what { margin: 2px 0; }
.kind { display: inline-block; font-size: 12px; font-weight: bold; text-transform: uppercase; border: 1px solid var(--gap); color: var(--gap); border-radius: 4px; padding: 0 5px; margin-right: 4px; }
.kind.upstream { border-color: var(--up); color: var(--up); }
.note { color: var(--muted); font-size: 13px; }
table.heatmap td.cell { text-align: center; font-weight: bold; min-width: 42px; }
table.heatmap td.cell.zero { color: var(--gap); background: repeating-linear-gradient(45deg, #fff, #fff 5px, #f8e6dd 5px, #f8e6dd 8px); }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 4px; border: 1px solid var(--line); font-size: 12px; }
.method { font-size: 13px; color: var(--muted); }
.review td.text { max-width: 60ch; }
@media (max-width: 860px) {
  .spectrum, .two { grid-template-columns: 1fr; }
  .headline { grid-template-columns: repeat(2, 1fr); }
}
@media print {
  @page { margin: 14mm 12mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 18pt; }
  h2 { font-size: 13pt; margin-top: 14pt; break-after: avoid; }
  .headline { grid-template-columns: repeat(4, 1fr); gap: 6pt; margin: 6pt 0; }
  .card { padding: 4pt 8pt; }
  .card .big { font-size: 18pt; }
  .spectrum { grid-template-columns: 3fr 2fr; gap: 10pt; break-inside: avoid; }
  .two { grid-template-columns: 1fr 1fr; }
  table { font-size: 9pt; }
  thead { display: table-header-group; }
  tr, li, .card, .spectrum svg { break-inside: avoid; }
  section { break-inside: auto; }
}
"#;

/// Background and text colours for heat-map cells: a light-to-dark blue
/// ramp whose text keeps WCAG AA contrast on every step.
const RAMP: [(&str, &str); 5] = [
    ("#F7FBFF", "#1A1A1A"),
    ("#C6DBEF", "#1A1A1A"),
    ("#6BAED6", "#1A1A1A"),
    ("#2171B5", "#FFFFFF"),
    ("#08306B", "#FFFFFF"),
];

pub fn render(a: &Assessment, out: &mut impl Write) -> Result<()> {
    let mut h = String::with_capacity(64 * 1024);
    let title = format!(
        "Spectrum of Prevention assessment — {}",
        a.inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"{} {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        a.tool.name,
        a.tool.version,
        esc(&title)
    );
    let _ = write!(h, "<header>\n<h1>Spectrum of Prevention assessment</h1>\n");
    let _ = write!(
        h,
        "<p class=\"provenance\">Inputs: {} · Rules: {} · Generated {} by {} {}</p>\n</header>\n",
        esc(&inputs_line(a)),
        esc(&rules_line(a)),
        esc(&a.generated),
        a.tool.name,
        a.tool.version
    );

    // Headline figures.
    let up_share = a.upstream.weighted_share.unwrap_or(a.upstream.share);
    let up_label = match &a.weight {
        Some(w) => format!(
            "upstream share of {} (levels {}); target {}",
            esc(&w.column),
            a.upstream.levels_text(),
            pct(a.upstream.target)
        ),
        None => format!(
            "upstream share (levels {}); target {}",
            a.upstream.levels_text(),
            pct(a.upstream.target)
        ),
    };
    let _ = writeln!(
        h,
        "<section class=\"headline\" aria-label=\"Headline figures\">"
    );
    card(
        &mut h,
        "score",
        &fmt_score(a.score),
        "Spectrum score out of 100",
        a.score < 100.0 && a.levels.iter().any(|l| l.status == Status::Gap),
    );
    card(
        &mut h,
        "upstream",
        &pct(up_share),
        &up_label,
        !a.upstream.met,
    );
    card(
        &mut h,
        "covered",
        &format!("{} of 6", a.levels_covered),
        "levels with at least one activity",
        a.levels_covered < 6,
    );
    card(
        &mut h,
        "prevention",
        &a.prevention_vs_response.prevention.to_string(),
        &format!(
            "prevention activities; {} response, {} unclassified",
            a.prevention_vs_response.response, a.prevention_vs_response.unclassified
        ),
        false,
    );
    let _ = write!(
        h,
        "</section>\n<p class=\"narrative\">{}</p>\n",
        esc(&a.narrative())
    );

    // The chart with the coverage table beside it.
    let _ = write!(
        h,
        "<section class=\"spectrum\" aria-label=\"Coverage by level\">\n<div class=\"chart\">{}</div>\n<div class=\"coverage\">\n",
        chart(a, false)
    );
    let _ = write!(
        h,
        "<table id=\"coverage\">\n<caption class=\"note\">Coverage by level (level 6 at the top)</caption>\n<thead><tr><th>Level</th><th class=\"num\">Activities</th><th class=\"num\">Share</th>"
    );
    if let Some(w) = &a.weight {
        let _ = write!(h, "<th class=\"num\">{} share</th>", esc(&w.column));
    }
    let _ = write!(h, "<th>Status</th></tr></thead>\n<tbody>\n");
    for l in a.levels.iter().rev() {
        let mut classes = vec![l.status.as_str()];
        if l.upstream {
            classes.push("upstream");
        }
        let status = match l.status {
            Status::Gap => "<span class=\"status-gap\">Gap</span>".to_string(),
            Status::Thin => format!(
                "<span class=\"status-thin\">Thin ({} of {})</span>",
                l.activities, l.min_activities
            ),
            Status::Ok => "Covered".to_string(),
        };
        let _ = write!(
            h,
            "<tr class=\"level {}\" data-level=\"{}\" data-count=\"{}\" data-share=\"{}\"><td>{}. {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            classes.join(" "),
            l.level,
            l.activities,
            l.share,
            l.level,
            esc(&l.name),
            l.activities,
            pct(l.share)
        );
        if let Some(ws) = l.weighted_share {
            let _ = write!(h, "<td class=\"num\">{}</td>", pct(ws));
        }
        let _ = writeln!(h, "<td>{status}</td></tr>");
    }
    let _ = write!(
        h,
        "</tbody>\n</table>\n<p class=\"note\">Shares are of the {} primary-prevention activities. Levels {} (marked at the left edge) are upstream.</p>\n</div>\n</section>\n",
        a.prevention_vs_response.prevention,
        a.upstream.levels_text()
    );

    // Priorities.
    let _ = write!(h, "<section>\n<h2>Priorities</h2>\n");
    if a.priorities.is_empty() {
        let _ = writeln!(
            h,
            "<p>None: every level is covered and the upstream target is met.</p>"
        );
    } else {
        let _ = writeln!(h, "<ol class=\"priorities\">");
        for p in &a.priorities {
            let points = if p.kind == "upstream" {
                String::new()
            } else {
                format!(" · {} gap points", fmt_score(p.gap_points))
            };
            let _ = writeln!(
                h,
                "<li><span class=\"kind {}\">{}</span><strong>{}</strong>{points}<p class=\"what\">{}.</p><p class=\"what\"><em>{}</em> {}</p><p class=\"what\"><em>Example:</em> {}</p><p class=\"what\"><em>Recommendation:</em> {}</p></li>",
                esc(&p.kind),
                esc(&p.kind),
                esc(&p.title),
                esc(&p.detail),
                if p.kind == "upstream" {
                    "Why it matters:"
                } else {
                    "About this level:"
                },
                esc(&p.description),
                esc(&p.example),
                esc(&p.recommendation)
            );
        }
        let _ = writeln!(h, "</ol>");
    }
    let _ = writeln!(h, "</section>");

    // Prevention vs response, and aims.
    let s = &a.prevention_vs_response;
    let _ = write!(
        h,
        "<section class=\"two\">\n<div>\n<h2>Prevention and after-harm response</h2>\n<table id=\"split\"><thead><tr><th>Category</th><th class=\"num\">Activities</th><th class=\"num\">Share</th>"
    );
    if s.weighted.is_some() {
        let _ = write!(h, "<th class=\"num\">Weighted share</th>");
    }
    let _ = writeln!(h, "</tr></thead><tbody>");
    for (name, n, share, ws) in s.rows() {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td class=\"num\">{n}</td><td class=\"num\">{}</td>",
            pct(share)
        );
        if let Some(ws) = ws {
            let _ = write!(h, "<td class=\"num\">{}</td>", pct(ws));
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = write!(
        h,
        "</tbody></table>\n<p class=\"note\">Response work matters, but it is not primary prevention and never counts as coverage.</p>\n"
    );
    if let Some(wi) = &a.weight {
        let _ = writeln!(
            h,
            "<p class=\"note\">{}: total {}, prevention {}; {} rows had no value (counted as 0).</p>",
            esc(&wi.column),
            amount(wi.total),
            amount(wi.prevention_total),
            wi.missing
        );
    }
    let _ = write!(
        h,
        "</div>\n<div>\n<h2>Aims of prevention</h2>\n<table id=\"aims\"><thead><tr><th>Aim</th><th class=\"num\">Activities</th><th class=\"num\">Share</th></tr></thead><tbody>\n"
    );
    for aim in &a.aims {
        let _ = writeln!(
            h,
            "<tr data-aim=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&aim.id),
            esc(&aim.name),
            aim.activities,
            pct(aim.share)
        );
    }
    let _ = writeln!(h, "</tbody></table>");
    for m in &a.aims_missing {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(m));
    }
    let _ = write!(h, "</div>\n</section>\n");

    if let Some(g) = &a.groups {
        heatmap(&mut h, a, g);
    }

    if let Some(b) = &a.baseline {
        let names = b
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            h,
            "<section>\n<h2>Change since baseline</h2>\n<p>Compared with {}: Spectrum score {} → {} ({:+.1}); upstream share {} → {}.</p>\n",
            esc(&names),
            fmt_score(b.score_before),
            fmt_score(b.score_after),
            b.score_change,
            pct(b.upstream_share_before),
            pct(b.upstream_share_after)
        );
        let _ = writeln!(
            h,
            "<table id=\"baseline\"><thead><tr><th>Level</th><th class=\"num\">Before</th><th class=\"num\">After</th><th class=\"num\">Change</th><th class=\"num\">Share before</th><th class=\"num\">Share after</th></tr></thead><tbody>"
        );
        for l in b.levels.iter().rev() {
            let _ = writeln!(
                h,
                "<tr data-level=\"{}\"><td>{}. {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                l.level,
                l.level,
                esc(&l.short),
                l.before,
                l.after,
                l.change,
                pct(l.share_before),
                pct(l.share_after)
            );
        }
        let _ = write!(h, "</tbody></table>\n</section>\n");
    }

    let _ = write!(h, "<section class=\"review\">\n<h2>Needs review</h2>\n");
    let r = &a.review;
    if r.unclassified.is_empty() && r.low_confidence.is_empty() && r.disagreements.is_empty() {
        let _ = writeln!(h, "<p>Nothing to review.</p>");
    }
    review(
        &mut h,
        a,
        "unclassified",
        "Unclassified (no evidence for any level)",
        &r.unclassified,
    );
    review(
        &mut h,
        a,
        "low-confidence",
        "Low confidence",
        &r.low_confidence,
    );
    review(
        &mut h,
        a,
        "disagreements",
        "Manual level differs from the rules",
        &r.disagreements,
    );
    let _ = writeln!(h, "</section>");

    let _ = write!(
        h,
        "<footer class=\"method\">\n<h2>Method</h2>\n<p>{}.</p>\n<p>Gap points = weight × (1 − credit); priorities rank gaps by gap points, so a missing level 6 comes before a missing level 1.</p>\n<p>Rows: {}.</p>\n</footer>\n</main>\n</body>\n</html>\n",
        esc(&a.formula),
        esc(&a.accounting.line())
    );
    out.write_all(h.as_bytes())?;
    Ok(())
}

fn card(h: &mut String, id: &str, big: &str, label: &str, alert: bool) {
    let _ = writeln!(
        h,
        "<div class=\"card{}\" id=\"card-{id}\"><span class=\"big\">{}</span><span class=\"label\">{label}</span></div>",
        if alert { " alert" } else { "" },
        esc(big)
    );
}

fn heatmap(h: &mut String, a: &Assessment, g: &crate::assess::Groups) {
    let max = g
        .groups
        .iter()
        .flat_map(|r| r.counts.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = write!(h, "<section>\n<h2>By {}</h2>\n", esc(&g.column));
    let _ = write!(
        h,
        "<table class=\"heatmap\" id=\"heatmap\"><thead><tr><th>{}</th>",
        esc(&g.column)
    );
    for l in a.levels.iter().rev() {
        let _ = write!(
            h,
            "<th class=\"num\" title=\"{}\">L{}</th>",
            esc(&l.name),
            l.level
        );
    }
    let _ = writeln!(
        h,
        "<th class=\"num\">Response</th><th class=\"num\">Score</th><th class=\"num\">Gaps</th></tr></thead><tbody>"
    );
    for row in &g.groups {
        let _ = write!(
            h,
            "<tr data-group=\"{}\"><td>{}</td>",
            esc(&row.name),
            esc(&row.name)
        );
        for l in a.levels.iter().rev() {
            let i = usize::from(l.level) - 1;
            let n = row.counts[i];
            if n == 0 {
                let _ = write!(
                    h,
                    "<td class=\"cell zero\" data-level=\"{}\" title=\"gap: no activity at level {}\">0</td>",
                    l.level, l.level
                );
            } else {
                let step = ((n as f64 / max as f64) * (RAMP.len() - 1) as f64).round() as usize;
                let (bg, fg) = RAMP[step.clamp(1, RAMP.len() - 1)];
                let _ = write!(
                    h,
                    "<td class=\"cell\" data-level=\"{}\" style=\"background:{bg};color:{fg}\">{n}</td>",
                    l.level
                );
            }
        }
        let _ = writeln!(
            h,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            row.accounting.response,
            fmt_score(row.score),
            row.gaps
        );
    }
    let _ = write!(h, "<tr class=\"total\"><td><strong>All</strong></td>");
    for l in a.levels.iter().rev() {
        let _ = write!(
            h,
            "<td class=\"num\"><strong>{}</strong></td>",
            l.activities
        );
    }
    let gaps = a.levels.iter().filter(|l| l.status == Status::Gap).count();
    let _ = write!(
        h,
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{gaps}</td></tr>\n</tbody></table>\n",
        a.prevention_vs_response.response,
        fmt_score(a.score)
    );
    let _ = write!(
        h,
        "<p class=\"legend note\">Cell shading grows with the number of activities (darkest = {max}); a hatched cell with 0 is a gap for that group.</p>\n</section>\n"
    );
}

fn review(h: &mut String, a: &Assessment, id: &str, title: &str, items: &ReviewList) {
    if items.is_empty() {
        return;
    }
    let multi = a.inputs.len() > 1;
    let _ = write!(
        h,
        "<h3>{title} ({})</h3>\n<table id=\"review-{id}\"><thead><tr>",
        items.len()
    );
    if multi {
        let _ = write!(h, "<th>Input</th>");
    }
    let _ = writeln!(
        h,
        "<th class=\"num\">Row</th><th>ID</th><th>Activity</th><th>Placed</th><th>Detail</th></tr></thead><tbody>"
    );
    for i in items.iter() {
        let _ = write!(h, "<tr>");
        if multi {
            let _ = write!(h, "<td>{}</td>", esc(&i.input));
        }
        let _ = writeln!(
            h,
            "<td class=\"num\">{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td></tr>",
            i.row,
            esc(&i.id),
            esc(&i.text),
            esc(&i.placed),
            esc(&i.detail)
        );
    }
    let _ = writeln!(h, "</tbody></table>");
}
