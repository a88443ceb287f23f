//! CSV for spreadsheets: one row per level — per group and level with `--by`,
//! followed by the whole portfolio as group `(all)` — then one row per row
//! that needs review. The first column, `section`, tells them apart (`level`,
//! `unclassified`, `low_confidence`, `disagreement`), so a filter on it gives
//! either table; the review columns are empty on level rows and vice versa.

use std::io::Write;

use anyhow::Result;

use crate::assess::Assessment;
use crate::output::CellGuard;

const HEADER: &[&str] = &[
    "section",
    "group",
    "level",
    "name",
    "activities",
    "share",
    "weighted_total",
    "weighted_share",
    "weight",
    "min_activities",
    "credit",
    "status",
    "gap_points",
    "score",
    "input",
    "row",
    "id",
    "text",
    "detail",
];

/// Empty review columns on a level row.
const NO_REVIEW: [&str; 5] = ["", "", "", "", ""];

pub fn render(a: &Assessment, out: &mut impl Write, raw: bool) -> Result<()> {
    let guard = CellGuard { raw };
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    if let Some(groups) = &a.groups {
        for g in &groups.groups {
            let prevention: u64 = g.counts.iter().sum();
            let weighted_total: Option<f64> = g.weighted.map(|w| w.iter().sum());
            for l in &a.levels {
                let i = usize::from(l.level) - 1;
                let count = g.counts[i];
                let credit = (count as f64 / f64::from(l.min_activities.max(1))).min(1.0);
                let share = if prevention > 0 {
                    count as f64 / prevention as f64
                } else {
                    0.0
                };
                let weighted = g.weighted.map(|w| w[i]);
                let weighted_share = match (weighted, weighted_total) {
                    (Some(x), Some(t)) if t > 0.0 => Some(round4(x / t)),
                    (Some(_), Some(_)) => Some(0.0),
                    _ => None,
                };
                w.write_field("level")?;
                w.write_record(
                    [
                        guard.cell(&g.name).into_owned(),
                        l.level.to_string(),
                        guard.cell(&l.name).into_owned(),
                        count.to_string(),
                        round4(share).to_string(),
                        opt(weighted),
                        opt(weighted_share),
                        l.weight.to_string(),
                        l.min_activities.to_string(),
                        round4(credit).to_string(),
                        g.statuses[i].as_str().to_string(),
                        round4(l.weight * (1.0 - credit)).to_string(),
                        g.score.to_string(),
                    ]
                    .iter()
                    .map(String::as_str)
                    .chain(NO_REVIEW),
                )?;
            }
        }
    }
    let group = if a.groups.is_some() { "(all)" } else { "" };
    for l in &a.levels {
        w.write_field("level")?;
        w.write_record(
            [
                group.to_string(),
                l.level.to_string(),
                guard.cell(&l.name).into_owned(),
                l.activities.to_string(),
                l.share.to_string(),
                opt(l.weighted_total),
                opt(l.weighted_share),
                l.weight.to_string(),
                l.min_activities.to_string(),
                l.credit.to_string(),
                l.status.as_str().to_string(),
                l.gap_points.to_string(),
                a.score.to_string(),
            ]
            .iter()
            .map(String::as_str)
            .chain(NO_REVIEW),
        )?;
    }
    let r = &a.review;
    for (section, list) in [
        ("unclassified", &r.unclassified),
        ("low_confidence", &r.low_confidence),
        ("disagreement", &r.disagreements),
    ] {
        for item in list.iter() {
            let mut cells = vec![String::new(); HEADER.len()];
            cells[0] = section.to_string();
            cells[11] = guard.cell(&item.placed).into_owned();
            cells[14] = guard.cell(&item.input).into_owned();
            cells[15] = item.row.to_string();
            cells[16] = guard.cell(&item.id).into_owned();
            cells[17] = guard.cell(&item.text).into_owned();
            cells[18] = guard.cell(&item.detail).into_owned();
            w.write_record(&cells)?;
        }
    }
    w.flush()?;
    Ok(())
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}
