//! Terminal tables (comfy-table), readable at 80 columns, with a one-bar-per-
//! level text chart. No colour or other escape codes: output is the same on a
//! terminal, in a pipe or in a file.

use std::io::Write;

use anyhow::Result;
use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED,
};

use super::{amount, inputs_line, rules_line, upstream_line};
use crate::assess::{Assessment, ReviewList, Status, fmt_score, pct};
use crate::text::truncate_chars;

/// Width the tables are laid out for.
pub const WIDTH: u16 = 80;
const BAR: usize = 12;
/// Review rows shown per list on a terminal.
pub const TERMINAL_REVIEW_ROWS: usize = 40;

/// A table with the house style.
pub fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    // Never guess from the environment: colour only when asked (see `render`).
    t.force_no_tty();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .set_header(header.to_vec());
    t
}

fn right(t: &mut Table, cols: &[usize]) {
    for c in cols {
        if let Some(col) = t.column_mut(*c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// A text bar for a 0-1 share.
pub fn bar(share: f64) -> String {
    let n = (share * BAR as f64).round() as usize;
    if share > 0.0 && n == 0 {
        "▏".to_string()
    } else {
        "█".repeat(n.min(BAR))
    }
}

/// Writes the report; `style` adds colour (gaps in red) for a terminal.
pub fn render(a: &Assessment, out: &mut impl Write, style: bool) -> Result<()> {
    writeln!(out, "Spectrum of Prevention assessment, {}", a.generated)?;
    writeln!(out, "Inputs: {}", inputs_line(a))?;
    writeln!(out, "Rules:  {}", rules_line(a))?;
    writeln!(out, "Rows:   {}", a.accounting.line())?;
    writeln!(out)?;
    writeln!(
        out,
        "Spectrum score: {} / 100    Levels covered: {} of 6",
        fmt_score(a.score),
        a.levels_covered
    )?;
    writeln!(out, "Upstream: {}", upstream_line(a))?;
    writeln!(out)?;

    writeln!(
        out,
        "Coverage (level 6 at the top; bars show share of prevention activities)"
    )?;
    let weighted = a.weight.as_ref().map(|w| w.column.clone());
    let mut header = vec!["Level", "Count", "Share", "Chart"];
    let wshare = weighted.as_ref().map(|c| format!("{c} share"));
    if let Some(h) = &wshare {
        header.push(h);
    }
    header.push("Status");
    let mut t = new_table(&header);
    for l in a.levels.iter().rev() {
        let status = match l.status {
            Status::Gap => "GAP".to_string(),
            Status::Thin => format!("thin ({}/{})", l.activities, l.min_activities),
            Status::Ok => "ok".to_string(),
        };
        let up = if l.upstream { "↑" } else { " " };
        let mut row = vec![
            Cell::new(format!("{up}{} {}", l.level, l.short)),
            Cell::new(l.activities),
            Cell::new(pct(l.share)),
            Cell::new(bar(l.share)),
        ];
        if let Some(ws) = l.weighted_share {
            row.push(Cell::new(pct(ws)));
        }
        let cell = match (style, l.status) {
            (true, Status::Gap) => Cell::new(status)
                .fg(Color::Red)
                .add_attribute(Attribute::Bold),
            (true, Status::Thin) => Cell::new(status).fg(Color::Yellow),
            _ => Cell::new(status),
        };
        row.push(cell);
        t.add_row(row);
    }
    right(&mut t, &[1, 2]);
    if style {
        t.enforce_styling();
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "↑ upstream level (target {} of prevention activities)",
        pct(a.upstream.target)
    )?;
    writeln!(out)?;

    if a.priorities.is_empty() {
        writeln!(
            out,
            "Priorities: none. Every level is covered and the upstream target is met."
        )?;
    } else {
        writeln!(
            out,
            "Priorities (gaps ranked by gap points = level weight × missing credit)"
        )?;
        let mut t = new_table(&["#", "Priority", "Points", "What to do"]);
        for p in &a.priorities {
            let points = if p.kind == "upstream" {
                "-".to_string()
            } else {
                fmt_score(p.gap_points)
            };
            t.add_row(vec![
                Cell::new(p.rank),
                Cell::new(format!("{}: {}", p.title, p.detail)),
                Cell::new(points),
                Cell::new(&p.recommendation),
            ]);
        }
        right(&mut t, &[0, 2]);
        writeln!(out, "{t}")?;
    }
    writeln!(out)?;

    let s = &a.prevention_vs_response;
    writeln!(out, "Prevention and response")?;
    let mut header = vec!["Category", "Activities", "Share"];
    if weighted.is_some() {
        header.push("Weighted share");
    }
    let mut t = new_table(&header);
    for (name, n, share, ws) in s.rows() {
        let mut row = vec![Cell::new(name), Cell::new(n), Cell::new(pct(share))];
        if let Some(ws) = ws {
            row.push(Cell::new(pct(ws)));
        }
        t.add_row(row);
    }
    right(&mut t, &[1, 2, 3]);
    writeln!(out, "{t}")?;
    if let Some(w) = &a.weight {
        writeln!(
            out,
            "{}: total {}, prevention {}; {} rows had no value (counted as 0)",
            w.column,
            amount(w.total),
            amount(w.prevention_total),
            w.missing
        )?;
    }
    writeln!(out)?;

    writeln!(out, "Aims of prevention (prevention activities tagged)")?;
    let mut t = new_table(&["Aim", "Activities", "Share"]);
    for aim in &a.aims {
        t.add_row(vec![
            Cell::new(&aim.name),
            Cell::new(aim.activities),
            Cell::new(pct(aim.share)),
        ]);
    }
    right(&mut t, &[1, 2]);
    writeln!(out, "{t}")?;
    for m in &a.aims_missing {
        writeln!(out, "{m}")?;
    }
    writeln!(out)?;

    if let Some(g) = &a.groups {
        writeln!(out, "By {} (activities per level)", g.column)?;
        let mut t = new_table(&[
            "Group", "1", "2", "3", "4", "5", "6", "Resp.", "Score", "Gaps",
        ]);
        for row in &g.groups {
            let mut cells = vec![Cell::new(truncate_chars(&row.name, 24))];
            for i in 0..6 {
                cells.push(Cell::new(if row.counts[i] == 0 {
                    "·".to_string()
                } else {
                    row.counts[i].to_string()
                }));
            }
            cells.push(Cell::new(row.accounting.response));
            cells.push(Cell::new(fmt_score(row.score)));
            cells.push(Cell::new(row.gaps));
            t.add_row(cells);
        }
        let mut total = vec![Cell::new("All")];
        for l in &a.levels {
            total.push(Cell::new(l.activities));
        }
        total.push(Cell::new(a.prevention_vs_response.response));
        total.push(Cell::new(fmt_score(a.score)));
        total.push(Cell::new(
            a.levels.iter().filter(|l| l.status == Status::Gap).count(),
        ));
        t.add_row(total);
        right(&mut t, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        writeln!(out, "{t}")?;
        writeln!(out, "· = no activity at that level (a gap for that group)")?;
        writeln!(out)?;
    }

    if let Some(b) = &a.baseline {
        let names = b
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(out, "Change since baseline ({names})")?;
        let mut t = new_table(&[
            "Level",
            "Before",
            "After",
            "Change",
            "Share before",
            "Share after",
        ]);
        for l in b.levels.iter().rev() {
            t.add_row(vec![
                Cell::new(format!("{} {}", l.level, l.short)),
                Cell::new(l.before),
                Cell::new(l.after),
                Cell::new(format!("{:+}", l.change)),
                Cell::new(pct(l.share_before)),
                Cell::new(pct(l.share_after)),
            ]);
        }
        right(&mut t, &[1, 2, 3, 4, 5]);
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "Score {} → {} ({:+.1}); upstream share {} → {}",
            fmt_score(b.score_before),
            fmt_score(b.score_after),
            b.score_change,
            pct(b.upstream_share_before),
            pct(b.upstream_share_after)
        )?;
        writeln!(out)?;
    }

    let r = &a.review;
    let total = r.unclassified.len() + r.low_confidence.len() + r.disagreements.len();
    if total == 0 {
        writeln!(out, "Needs review: nothing.")?;
    } else {
        writeln!(
            out,
            "Needs review ({total}; full text in --format markdown, html, json or csv)"
        )?;
        let mut t = new_table(&["Why", "Row", "Activity", "Detail"]);
        // A terminal shows the first rows of each list; the other formats list them all.
        let mut more = Vec::new();
        let mut add = |why: &str, items: &ReviewList| {
            for i in items.iter().take(TERMINAL_REVIEW_ROWS) {
                let row = if a.inputs.len() > 1 {
                    format!("{}:{}", short_name(&i.input), i.id)
                } else {
                    i.id.clone()
                };
                t.add_row(vec![
                    Cell::new(why),
                    Cell::new(row),
                    Cell::new(truncate_chars(&i.text, 60)),
                    Cell::new(&i.detail),
                ]);
            }
            if items.len() > TERMINAL_REVIEW_ROWS {
                more.push(format!("{} more {why}", items.len() - TERMINAL_REVIEW_ROWS));
            }
        };
        add("unclassified", &r.unclassified);
        add("low confidence", &r.low_confidence);
        add("manual ≠ rules", &r.disagreements);
        writeln!(out, "{t}")?;
        if !more.is_empty() {
            writeln!(
                out,
                "… and {} (all listed by --format markdown, html, json or csv)",
                more.join(", ")
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", a.formula)?;
    Ok(())
}

fn short_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}
