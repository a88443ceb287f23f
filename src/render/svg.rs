//! The Spectrum chart as inline SVG: the six levels as a ladder with level 6
//! at the top, each bar as long as the level's share, gaps marked with a
//! hatch pattern *and* the word "gap" (never colour alone), and the upstream
//! levels grouped in a shaded band. Colours come from the Okabe–Ito palette
//! and differ in lightness, so they survive greyscale printing and colour
//! blindness. The SVG carries `<title>` and `<desc>` for screen readers.

use std::fmt::Write as _;

use crate::assess::{Assessment, Status, pct};

/// Bars of upstream levels (Okabe–Ito blue).
const UPSTREAM: &str = "#0072B2";
/// Bars of the other levels (Okabe–Ito sky blue: much lighter in greyscale).
const OTHER: &str = "#56B4E9";
/// Gap marks: a dark vermillion that keeps 4.5:1 contrast on white.
const GAP: &str = "#A33B00";
const INK: &str = "#1A1A1A";
const MUTED: &str = "#4D4D4D";
const BAND: &str = "#EAF2F8";

const WIDTH: f64 = 600.0;
const BAR_X: f64 = 222.0;
const BAR_W: f64 = 300.0;
const ROW_H: f64 = 46.0;
const TOP: f64 = 58.0;

/// Escapes text for XML/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The share a bar shows: the weighted share with `--weight`, else the share of activities.
fn shown_share(a: &Assessment, level: usize) -> f64 {
    let l = &a.levels[level];
    l.weighted_share.unwrap_or(l.share)
}

/// The chart as an `<svg>` element. `standalone` adds the XML namespace
/// declarations needed for a file of its own.
pub fn chart(a: &Assessment, standalone: bool) -> String {
    let weighted = a.weight.as_ref().map(|w| w.column.clone());
    let max_share = (0..6).map(|i| shown_share(a, i)).fold(0.0, f64::max);
    // Axis maximum: the largest share rounded up to a tenth, at least 10%.
    let axis = ((max_share * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
    let height = TOP + ROW_H * 6.0 + 44.0;
    let mut s = String::new();
    let ns = if standalone {
        r#" xmlns="http://www.w3.org/2000/svg""#
    } else {
        ""
    };
    let measure = match &weighted {
        Some(c) => format!("share of {}", esc(c)),
        None => "share of prevention activities".to_string(),
    };
    let _ = write!(
        s,
        r#"<svg{ns} class="spectrum-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="chart-title chart-desc" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = write!(
        s,
        r#"<title id="chart-title">Spectrum of Prevention coverage</title>"#
    );
    let gaps: Vec<String> = a
        .levels
        .iter()
        .filter(|l| l.status == Status::Gap)
        .map(|l| format!("level {}", l.level))
        .collect();
    let desc = format!(
        "Bar chart of the six Spectrum levels, level 6 at the top; bar length is the {measure}. {}. Upstream levels {} hold {} against a target of {}. Spectrum score {} of 100.",
        if gaps.is_empty() {
            "No level is a gap".to_string()
        } else {
            format!("Gaps: {}", gaps.join(", "))
        },
        a.upstream
            .levels
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        pct(a.upstream.weighted_share.unwrap_or(a.upstream.share)),
        pct(a.upstream.target),
        crate::assess::fmt_score(a.score)
    );
    let _ = write!(s, r#"<desc id="chart-desc">{}</desc>"#, esc(&desc));
    let _ = write!(
        s,
        r#"<defs><pattern id="gap-hatch" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)"><rect width="8" height="8" fill="white"/><line x1="0" y1="0" x2="0" y2="8" stroke="{GAP}" stroke-width="3"/></pattern></defs>"#
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#FFFFFF"/>"##
    );

    // Upstream band behind its levels (they are adjacent at the top: 6, 5).
    let up_rows: Vec<usize> = a
        .upstream
        .levels
        .iter()
        .map(|n| 6 - usize::from(*n))
        .collect();
    if let (Some(first), Some(last)) = (up_rows.iter().min(), up_rows.iter().max()) {
        let y = TOP + ROW_H * *first as f64 - 6.0;
        let h = ROW_H * (*last - *first + 1) as f64 + 4.0;
        let _ = write!(
            s,
            r#"<g class="upstream-band"><rect x="4" y="{y}" width="{}" height="{h}" rx="6" fill="{BAND}" stroke="{UPSTREAM}" stroke-width="1.5"/>"#,
            WIDTH - 8.0
        );
        let label = format!(
            "Upstream (levels {}): {} · target {}{}",
            a.upstream.levels_text(),
            pct(a.upstream.weighted_share.unwrap_or(a.upstream.share)),
            pct(a.upstream.target),
            if a.upstream.met {
                " · met"
            } else {
                " · below target"
            }
        );
        let _ = write!(
            s,
            r#"<text x="14" y="{}" font-size="13" font-weight="bold" fill="{UPSTREAM}">{}</text></g>"#,
            y - 8.0,
            esc(&label)
        );
    }

    // Axis: gridlines at 0, half and the maximum.
    let axis_y = TOP + ROW_H * 6.0 + 4.0;
    for frac in [0.0, 0.5, 1.0] {
        let x = BAR_X + BAR_W * frac;
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{axis_y}" stroke="#BDBDBD" stroke-width="1"/>"##,
            TOP - 4.0
        );
        let _ = write!(
            s,
            r#"<text x="{x}" y="{}" font-size="12" text-anchor="middle" fill="{MUTED}">{}</text>"#,
            axis_y + 16.0,
            pct(axis * frac)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="12" text-anchor="middle" fill="{MUTED}">{}</text>"#,
        BAR_X + BAR_W / 2.0,
        axis_y + 32.0,
        esc(&measure)
    );

    for (row, l) in a.levels.iter().rev().enumerate() {
        let i = usize::from(l.level) - 1;
        let y = TOP + ROW_H * row as f64;
        let share = shown_share(a, i);
        let status = l.status.as_str();
        let _ = write!(
            s,
            r#"<g class="level {status}" data-level="{}" data-count="{}" data-share="{}" data-status="{status}">"#,
            l.level, l.activities, share
        );
        let _ = write!(
            s,
            r#"<text x="14" y="{}" font-size="15" font-weight="bold" fill="{INK}">{} · {}</text>"#,
            y + 16.0,
            l.level,
            esc(&l.short)
        );
        let count = format!(
            "{} {}",
            l.activities,
            if l.activities == 1 {
                "activity"
            } else {
                "activities"
            }
        );
        let _ = write!(
            s,
            r#"<text x="14" y="{}" font-size="12" fill="{MUTED}">{}</text>"#,
            y + 32.0,
            esc(&count)
        );
        let _ = write!(
            s,
            r##"<rect x="{BAR_X}" y="{}" width="{BAR_W}" height="26" fill="#F2F2F2"/>"##,
            y + 6.0
        );
        if l.status == Status::Gap {
            let _ = write!(
                s,
                r#"<rect class="gap-mark" x="{BAR_X}" y="{}" width="120" height="26" fill="url(#gap-hatch)" stroke="{GAP}" stroke-width="1.5"/><text x="{}" y="{}" font-size="14" font-weight="bold" fill="{GAP}">GAP — no activity</text>"#,
                y + 6.0,
                BAR_X + 130.0,
                y + 24.0
            );
        } else {
            let w = (BAR_W * share / axis).max(2.0);
            let fill = if l.upstream { UPSTREAM } else { OTHER };
            let _ = write!(
                s,
                r#"<rect class="bar" x="{BAR_X}" y="{}" width="{w:.1}" height="26" fill="{fill}"/>"#,
                y + 6.0
            );
            let thin = if l.status == Status::Thin {
                format!(" · THIN ({} of {})", l.activities, l.min_activities)
            } else {
                String::new()
            };
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" font-size="14" font-weight="bold" fill="{INK}">{}{}</text>"#,
                BAR_X + w + 8.0,
                y + 24.0,
                pct(share),
                esc(&thin)
            );
        }
        let _ = write!(s, "</g>");
    }
    let _ = write!(
        s,
        r#"<text x="14" y="24" font-size="16" font-weight="bold" fill="{INK}">Spectrum of Prevention: where the portfolio works</text>"#
    );
    s.push_str("</svg>");
    s
}

/// A standalone SVG document (`assess --format svg`).
pub fn document(a: &Assessment) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        chart(a, true)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            super::esc("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\u{FFFD}"
        );
    }
}
