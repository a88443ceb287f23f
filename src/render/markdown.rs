//! Markdown: a grant-ready summary — a plain-language paragraph, the coverage
//! table, priorities with recommendations, aims, and the full review list.
//! User text is escaped so it cannot break a table or start a heading.

use std::io::Write;

use anyhow::Result;

use super::{amount, inputs_line, rules_line};
use crate::assess::{Assessment, ReviewList, Status, fmt_score, pct};

/// Escapes text for a Markdown paragraph or table cell.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

pub fn render(a: &Assessment, out: &mut impl Write) -> Result<()> {
    writeln!(out, "# Spectrum of Prevention assessment")?;
    writeln!(out)?;
    writeln!(
        out,
        "*{} · rules {} · {}*",
        esc(&inputs_line(a)),
        esc(&rules_line(a)),
        a.generated
    )?;
    writeln!(out)?;
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    writeln!(out, "{}", esc(&a.narrative()))?;
    writeln!(out)?;
    let up_levels = a.upstream.levels_text();
    writeln!(
        out,
        "| Spectrum score | Upstream share (levels {up_levels}) | Levels covered |"
    )?;
    writeln!(out, "|---:|---:|---:|")?;
    writeln!(
        out,
        "| {} / 100 | {} (target {}) | {} of 6 |",
        fmt_score(a.score),
        pct(a.upstream.share),
        pct(a.upstream.target),
        a.levels_covered
    )?;
    writeln!(out)?;

    writeln!(out, "## Coverage by level")?;
    writeln!(out)?;
    let wcol = a.weight.as_ref().map(|w| esc(&w.column));
    match &wcol {
        Some(c) => {
            writeln!(
                out,
                "| Level | Activities | Share | {c} | {c} share | Status |"
            )?;
            writeln!(out, "|---|---:|---:|---:|---:|---|")?;
        }
        None => {
            writeln!(out, "| Level | Activities | Share | Status |")?;
            writeln!(out, "|---|---:|---:|---|")?;
        }
    }
    for l in a.levels.iter().rev() {
        let status = match l.status {
            Status::Gap => "**Gap**".to_string(),
            Status::Thin => format!("Thin ({} of {})", l.activities, l.min_activities),
            Status::Ok => "Covered".to_string(),
        };
        let name = format!("{}. {}", l.level, esc(&l.name));
        match (l.weighted_total, l.weighted_share) {
            (Some(wt), Some(ws)) => writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {status} |",
                l.activities,
                pct(l.share),
                amount(wt),
                pct(ws)
            )?,
            _ => writeln!(
                out,
                "| {name} | {} | {} | {status} |",
                l.activities,
                pct(l.share)
            )?,
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Shares are of the {} primary-prevention activities; after-harm response is reported separately.",
        a.prevention_vs_response.prevention
    )?;
    writeln!(out)?;

    writeln!(out, "## Priorities")?;
    writeln!(out)?;
    if a.priorities.is_empty() {
        writeln!(
            out,
            "None: every level is covered and the upstream target is met."
        )?;
    }
    for p in &a.priorities {
        if p.kind == "upstream" {
            writeln!(
                out,
                "{}. **{}**: {}.",
                p.rank,
                esc(&p.title),
                esc(&p.detail)
            )?;
            writeln!(out, "   - *Why it matters:* {}", esc(&p.description))?;
        } else {
            let points = fmt_score(p.gap_points);
            let (rank, title, kind, detail) = (p.rank, esc(&p.title), &p.kind, esc(&p.detail));
            writeln!(
                out,
                "{rank}. **{title}** ({kind}, {points} gap points): {detail}."
            )?;
            writeln!(out, "   - *About this level:* {}", esc(&p.description))?;
        }
        writeln!(out, "   - *Example:* {}", esc(&p.example))?;
        writeln!(out, "   - *Recommendation:* {}", esc(&p.recommendation))?;
    }
    writeln!(out)?;

    let s = &a.prevention_vs_response;
    writeln!(out, "## Prevention and after-harm response")?;
    writeln!(out)?;
    if let Some(c) = &wcol {
        writeln!(out, "| Category | Activities | Share | {c} share |")?;
        writeln!(out, "|---|---:|---:|---:|")?;
    } else {
        writeln!(out, "| Category | Activities | Share |")?;
        writeln!(out, "|---|---:|---:|")?;
    }
    for (name, n, share, ws) in s.rows() {
        match ws {
            Some(ws) => writeln!(out, "| {name} | {n} | {} | {} |", pct(share), pct(ws))?,
            None => writeln!(out, "| {name} | {n} | {} |", pct(share))?,
        }
    }
    writeln!(out)?;

    writeln!(out, "## Aims of prevention")?;
    writeln!(out)?;
    writeln!(out, "| Aim | Prevention activities | Share |")?;
    writeln!(out, "|---|---:|---:|")?;
    for aim in &a.aims {
        writeln!(
            out,
            "| {} | {} | {} |",
            esc(&aim.name),
            aim.activities,
            pct(aim.share)
        )?;
    }
    writeln!(out)?;
    for m in &a.aims_missing {
        writeln!(out, "{}", esc(m))?;
        writeln!(out)?;
    }

    if let Some(g) = &a.groups {
        writeln!(out, "## By {}", esc(&g.column))?;
        writeln!(out)?;
        writeln!(
            out,
            "| {} | L1 | L2 | L3 | L4 | L5 | L6 | Response | Score | Gaps |",
            esc(&g.column)
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for row in &g.groups {
            let cells: Vec<String> = row
                .counts
                .iter()
                .map(|c| {
                    if *c == 0 {
                        "–".to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                esc(&row.name),
                cells.join(" | "),
                row.accounting.response,
                fmt_score(row.score),
                row.gaps
            )?;
        }
        let totals: Vec<String> = a.levels.iter().map(|l| l.activities.to_string()).collect();
        let gaps = a.levels.iter().filter(|l| l.status == Status::Gap).count();
        writeln!(
            out,
            "| **All** | {} | {} | {} | {gaps} |",
            totals.join(" | "),
            s.response,
            fmt_score(a.score)
        )?;
        writeln!(out)?;
        writeln!(out, "– marks a level with no activity in that group.")?;
        writeln!(out)?;
    }

    if let Some(b) = &a.baseline {
        let names = b
            .inputs
            .iter()
            .map(|i| esc(&i.name))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(out, "## Change since baseline")?;
        writeln!(out)?;
        writeln!(
            out,
            "Compared with {names}: Spectrum score {} → {} ({:+.1}); upstream share {} → {}.",
            fmt_score(b.score_before),
            fmt_score(b.score_after),
            b.score_change,
            pct(b.upstream_share_before),
            pct(b.upstream_share_after)
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "| Level | Before | After | Change | Share before | Share after |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
        for l in b.levels.iter().rev() {
            writeln!(
                out,
                "| {}. {} | {} | {} | {:+} | {} | {} |",
                l.level,
                esc(&l.short),
                l.before,
                l.after,
                l.change,
                pct(l.share_before),
                pct(l.share_after)
            )?;
        }
        writeln!(out)?;
    }

    writeln!(out, "## Needs review")?;
    writeln!(out)?;
    let r = &a.review;
    if r.unclassified.is_empty() && r.low_confidence.is_empty() && r.disagreements.is_empty() {
        writeln!(out, "Nothing to review.")?;
        writeln!(out)?;
    }
    review(
        out,
        a,
        "Unclassified (no evidence for any level)",
        &r.unclassified,
    )?;
    review(out, a, "Low confidence", &r.low_confidence)?;
    review(
        out,
        a,
        "Manual level differs from the rules",
        &r.disagreements,
    )?;

    writeln!(out, "## Method")?;
    writeln!(out)?;
    writeln!(out, "- {}.", esc(&a.formula))?;
    writeln!(
        out,
        "- Gap points = weight × (1 − credit); priorities rank gaps by gap points, so a missing level 6 comes before a missing level 1."
    )?;
    writeln!(out, "- Rows: {}.", a.accounting.line())?;
    writeln!(
        out,
        "- Activities were classified by keyword rules ({}); a manual `level` column, where present, overrides them.",
        esc(&rules_line(a))
    )?;
    Ok(())
}

fn review(out: &mut impl Write, a: &Assessment, title: &str, items: &ReviewList) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "### {title} ({})", items.len())?;
    writeln!(out)?;
    let multi = a.inputs.len() > 1;
    if multi {
        writeln!(out, "| Input | Row | ID | Activity | Placed | Detail |")?;
        writeln!(out, "|---|---:|---|---|---|---|")?;
    } else {
        writeln!(out, "| Row | ID | Activity | Placed | Detail |")?;
        writeln!(out, "|---:|---|---|---|---|")?;
    }
    for i in items.iter() {
        let input = if multi {
            format!("{} | ", esc(&i.input))
        } else {
            String::new()
        };
        writeln!(
            out,
            "| {input}{} | {} | {} | {} | {} |",
            i.row,
            esc(&i.id),
            esc(&i.text),
            esc(&i.placed),
            esc(&i.detail)
        )?;
    }
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_table_breakers() {
        assert_eq!(super::esc("a|b\nc *d* <x>"), "a\\|b c \\*d\\* \\<x\\>");
        assert_eq!(super::esc("# not a heading"), "\\# not a heading");
    }
}
