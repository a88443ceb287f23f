//! `explain`: the evidence behind one classification — every matched term
//! with its weight, the matches that did not count and why, the scores, and
//! why the winner won.

use std::io::Write;

use anyhow::{Result, bail};
use comfy_table::{Cell, Table};
use serde_json::json;

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{Label, assign, target_label};
use crate::classify::{Category, Classification, Classifier, Scratch};
use crate::cli::{ExplainArgs, ExplainFormat, GlobalArgs};
use crate::input::InputPath;
use crate::output::Output;
use crate::rules::RuleSet;

pub fn run(args: &ExplainArgs, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let rules = load_rules(global)?;
    let classifier = Classifier::new(&rules)?;
    let mut scratch = Scratch::default();
    let (text, origin, manual) = match (&args.activity, &args.input, &args.row) {
        (Some(t), _, _) => (t.clone(), None, None),
        (None, Some(path), Some(row)) => {
            let input = InputPath::new(path);
            let mut reader = super::open_input(
                &input,
                &column_options(&args.input_args),
                &args.input_args,
                &rules,
                notes,
            )?;
            let mut found = None;
            while let Some(a) = reader.next_activity()? {
                if a.id == *row || a.row.to_string() == *row {
                    found = Some(a);
                    break;
                }
            }
            let Some(a) = found else {
                bail!(
                    "{}: no row with id `{row}` (ids come from the `id` column, else the data row number)",
                    input.display()
                );
            };
            let origin = format!(
                "{} row {} (id {}, line {})",
                input.display(),
                a.row,
                a.id,
                a.line
            );
            let o = assign(&classifier, &a, &mut scratch);
            (
                a.text.clone(),
                Some(origin),
                o.rules_said.map(|said| (a.manual, said)),
            )
        }
        _ => bail!("give a TEXT, or --input FILE with --row ID"),
    };
    let c = classifier.classify_with(&text, &mut scratch);
    let mut out = Output::create(None, &[])?;
    match args.format {
        ExplainFormat::Json => {
            let value = json!({
                "text": text,
                "origin": origin,
                "rules": rules.provenance(),
                "level": c.level,
                "category": c.category,
                "confidence": c.confidence,
                "also": c.also,
                "tags": c.tags.iter().map(|i| rules.tags[*i].id.clone()).collect::<Vec<_>>(),
                "scores": (1..=6u8).map(|n| json!({"level": n, "score": c.scores[usize::from(n) - 1]})).collect::<Vec<_>>(),
                "response_score": c.response_score,
                "other_score": c.other_score,
                "matched": c.matched.iter().map(|m| json!({"target": target_label(m.target, &rules), "term": classifier.term_text(m.term), "weight": m.weight})).collect::<Vec<_>>(),
                "not_counted": c.dropped.iter().map(|d| json!({"target": target_label(d.target, &rules), "term": classifier.term_text(d.term), "reason": if d.excluded { "excluded" } else { "inside a longer term" }, "by": classifier.dropped_by(d)})).collect::<Vec<_>>(),
                "why": decision(&c, &rules),
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            out.write_all(b"\n")?;
        }
        ExplainFormat::Table => {
            if let Some(o) = &origin {
                writeln!(out, "Row:    {o}")?;
            }
            writeln!(out, "Text:   {text}")?;
            writeln!(out, "Rules:  {}", rules.provenance())?;
            writeln!(out)?;
            if c.matched.is_empty() && c.dropped.is_empty() {
                writeln!(out, "No rule term matched.")?;
            } else {
                let mut t = table(&["For", "Term", "Weight", "Counted"]);
                for m in &c.matched {
                    t.add_row(vec![
                        Cell::new(target_name(m.target, &rules)),
                        Cell::new(classifier.term_text(m.term)),
                        Cell::new(fmt_num(m.weight)),
                        Cell::new("yes"),
                    ]);
                }
                for d in &c.dropped {
                    let why = if d.excluded {
                        format!("no: inside excluded \"{}\"", classifier.dropped_by(d))
                    } else {
                        format!("no: inside longer term \"{}\"", classifier.dropped_by(d))
                    };
                    t.add_row(vec![
                        Cell::new(target_name(d.target, &rules)),
                        Cell::new(classifier.term_text(d.term)),
                        Cell::new(fmt_num(classifier.term_target(d.term).1)),
                        Cell::new(why),
                    ]);
                }
                writeln!(out, "{t}")?;
                writeln!(out)?;
                let mut s = table(&["Level", "Name", "Score"]);
                for l in &rules.levels {
                    let score = c.scores[usize::from(l.number) - 1];
                    let mark = if c.level == Some(l.number) {
                        " <- winner"
                    } else {
                        ""
                    };
                    s.add_row(vec![
                        Cell::new(l.number),
                        Cell::new(&l.short),
                        Cell::new(format!("{}{mark}", fmt_num(score))),
                    ]);
                }
                let mark = if c.category == Category::Response {
                    " <- winner"
                } else {
                    ""
                };
                s.add_row(vec![
                    Cell::new("-"),
                    Cell::new("Response (after harm)"),
                    Cell::new(format!("{}{mark}", fmt_num(c.response_score))),
                ]);
                if c.other_score > 0.0 {
                    s.add_row(vec![
                        Cell::new("-"),
                        Cell::new("Neither (other)"),
                        Cell::new(fmt_num(c.other_score)),
                    ]);
                }
                writeln!(out, "{s}")?;
                writeln!(out)?;
            }
            let result = match (c.category, c.level) {
                (Category::Prevention, Some(n)) => format!("level {n}, {}", rules.level(n).name),
                (Category::Response, _) => "response (after-harm work, not prevention)".into(),
                _ => "unclassified".into(),
            };
            writeln!(out, "Result: {result} (confidence {:.2})", c.confidence)?;
            if !c.tags.is_empty() {
                let tags: Vec<&str> = c.tags.iter().map(|i| rules.tags[*i].id.as_str()).collect();
                writeln!(out, "Tags:   {}", tags.join(", "))?;
            }
            writeln!(out, "Why:    {}", decision(&c, &rules))?;
            if let Some((Some(manual), said)) = manual {
                writeln!(
                    out,
                    "Note:   the row's manual level is {}, so reports use it; the rules say {}",
                    manual.display(),
                    said.display()
                )?;
            }
        }
    }
    out.finish()?;
    Ok(Outcome::Ok)
}

fn table(header: &[&str]) -> Table {
    let mut t = crate::render::table::new_table(header);
    t.set_width(100);
    t
}

fn target_name(t: crate::classify::Target, rules: &RuleSet) -> String {
    match t {
        crate::classify::Target::Level(n) => format!("{n} {}", rules.level(n).short),
        other => target_label(other, rules),
    }
}

/// Formats a score or weight without a needless `.0`.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

/// One sentence on why the classification came out as it did.
pub fn decision(c: &Classification, rules: &RuleSet) -> String {
    if let Some(reason) = c.reason {
        return match reason {
            crate::classify::REASON_OTHER => format!(
                "the text matched more \"neither\" terms (score {}) than any level or response: it reads as fundraising, administration or research",
                fmt_num(c.other_score)
            ),
            r => r.to_string(),
        };
    }
    let top = c.scores.iter().copied().fold(0.0, f64::max);
    match Label::of(c) {
        Label::Response => format!(
            "response scored {}, more than any level (highest {}); response wins only when it beats every level",
            fmt_num(c.response_score),
            fmt_num(top)
        ),
        Label::Level(n) => {
            let i = usize::from(n) - 1;
            let tied: Vec<u8> = (0..6)
                .filter(|&j| j != i && (c.scores[j] - c.scores[i]).abs() < 1e-9)
                .map(|j| j as u8 + 1)
                .collect();
            if tied.is_empty() {
                let next = (0..6)
                    .filter(|&j| j != i)
                    .map(|j| (c.scores[j], j as u8 + 1))
                    .fold((0.0, 0u8), |a, b| if b.0 > a.0 { b } else { a });
                let next_text = if next.0 > 0.0 {
                    format!("next was level {} with {}", next.1, fmt_num(next.0))
                } else {
                    "no other level scored".into()
                };
                format!(
                    "level {n} scored {}, the highest; {next_text}",
                    fmt_num(c.scores[i])
                )
            } else {
                let others = tied
                    .iter()
                    .map(|t| format!("level {t}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let specific = tied
                    .iter()
                    .all(|t| c.specificity[usize::from(*t) - 1] < c.specificity[i]);
                if specific {
                    format!(
                        "level {n} tied with {others} at {} and won on its more specific (longer) matched term",
                        fmt_num(c.scores[i])
                    )
                } else {
                    format!(
                        "level {n} tied with {others} at {}; equally specific, so the lower level wins (ties never move upward)",
                        fmt_num(c.scores[i])
                    )
                }
            }
        }
        Label::None => {
            let _ = rules;
            "nothing matched".into()
        }
    }
}
