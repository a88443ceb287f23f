//! `evaluate`: how often the rules agree with a hand-labeled column.
//! The gold column is never used as a manual override here.

use std::io::Write;

use anyhow::{Result, anyhow};
use comfy_table::Cell;
use serde::Serialize;

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{Label, LabelNames, matched_text};
use crate::classify::{Classifier, Scratch};
use crate::cli::{EvaluateArgs, EvaluateFormat, GlobalArgs};
use crate::evaluate::{ALL, Metrics, metrics, short};
use crate::input::InputPath;
use crate::output::Output;
use crate::render::markdown::esc;
use crate::render::table::new_table;

#[derive(Serialize)]
struct Miss {
    row: u64,
    id: String,
    gold: String,
    predicted: String,
    text: String,
    matched: String,
}

#[derive(Serialize)]
struct Report {
    input: String,
    gold_column: String,
    rules: String,
    unlabeled: u64,
    #[serde(flatten)]
    metrics: Metrics,
    misses: Vec<Miss>,
}

pub fn run(args: &EvaluateArgs, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let rules = load_rules(global)?;
    let classifier = Classifier::new(&rules)?;
    let input = InputPath::new(&args.input);
    let mut opts = column_options(&args.input_args);
    opts.manual_levels = false;
    opts.extra.push((args.gold.clone(), "--gold"));
    let mut reader = super::open_input(&input, &opts, &args.input_args, &rules, notes)?;
    let gold_col = reader.columns.extra[0];
    let gold_name = reader.columns.headers[gold_col].clone();
    let mut scratch = Scratch::default();
    let mut pairs = Vec::new();
    let mut misses = Vec::new();
    let mut unlabeled = 0;
    let labels = LabelNames::new(&rules);
    let mut progress = notes.progress(&reader);
    while let Some(a) = reader.next_activity()? {
        progress.tick(reader.counts.rows, reader.position());
        let gold = labels
            .parse(reader.cell(gold_col))
            .map_err(|e| anyhow!("{}: {e}", reader.at(gold_col)))?;
        let Some(gold) = gold else {
            unlabeled += 1;
            continue;
        };
        let c = classifier.classify_with(&a.text, &mut scratch);
        let predicted = Label::of(&c);
        pairs.push((gold, predicted));
        if gold != predicted {
            misses.push(Miss {
                row: a.row,
                id: a.id.clone(),
                gold: short(gold),
                predicted: if predicted == Label::None {
                    "unclassified".into()
                } else {
                    short(predicted)
                },
                text: a.text.clone(),
                matched: matched_text(&c, &classifier, &rules),
            });
        }
    }
    progress.finish();
    notes.note(format!(
        "{}: {} rows read: {} labeled, {unlabeled} without a label, {} blank skipped",
        input.display(),
        reader.counts.rows,
        pairs.len(),
        reader.counts.blank
    ));
    if unlabeled > 0 {
        notes.note(format!(
            "{}: {unlabeled} rows have no label in `{gold_name}` and are left out",
            input.display()
        ));
    }
    let report = Report {
        input: input.display(),
        gold_column: gold_name,
        rules: rules.provenance(),
        unlabeled,
        metrics: metrics(&pairs),
        misses,
    };
    let mut out = Output::create(None, &[])?;
    match args.format {
        EvaluateFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            out.write_all(b"\n")?;
        }
        EvaluateFormat::Table => table(&report, &mut out)?,
        EvaluateFormat::Markdown => markdown(&report, &mut out)?,
    }
    out.finish()?;
    Ok(Outcome::Ok)
}

fn headline(r: &Report) -> String {
    let m = &r.metrics;
    format!(
        "{} labeled rows: coverage {:.2}, accuracy {:.2}, macro-F1 {:.2}; response rows counted as prevention: {}",
        m.rows, m.coverage, m.accuracy, m.macro_f1, m.response_counted_as_prevention
    )
}

fn matrix_header() -> Vec<String> {
    let mut h = vec!["gold / rules".to_string()];
    h.extend(ALL.iter().map(|l| {
        if *l == Label::None {
            "unclassified".to_string()
        } else {
            short(*l)
        }
    }));
    h
}

fn table(r: &Report, out: &mut impl Write) -> Result<()> {
    writeln!(
        out,
        "Evaluation of {} against `{}` in {}",
        r.rules, r.gold_column, r.input
    )?;
    writeln!(out, "{}", headline(r))?;
    writeln!(out)?;
    let mut t = new_table(&["Class", "Precision", "Recall", "F1", "Support", "Predicted"]);
    for c in &r.metrics.classes {
        let mark = if c.scored || c.class == "none" {
            ""
        } else {
            " (not scored)"
        };
        t.add_row(vec![
            Cell::new(format!("{}{mark}", c.class)),
            Cell::new(format!("{:.2}", c.precision)),
            Cell::new(format!("{:.2}", c.recall)),
            Cell::new(format!("{:.2}", c.f1)),
            Cell::new(c.support),
            Cell::new(c.predicted),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "macro-F1 averages levels 1-6 and response; `none` rows count toward accuracy only"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Confusion matrix (rows: gold label; columns: the rules' label)"
    )?;
    let header = matrix_header();
    let mut t = new_table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for (i, l) in ALL.iter().enumerate() {
        let mut row = vec![Cell::new(short(*l))];
        row.extend(
            r.metrics.confusion[i]
                .iter()
                .map(|n| Cell::new(if *n == 0 { "·".into() } else { n.to_string() })),
        );
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    writeln!(out)?;
    if r.misses.is_empty() {
        writeln!(out, "Misses: none.")?;
    } else {
        writeln!(out, "Misses ({})", r.misses.len())?;
        let mut t = new_table(&["Row", "Gold", "Rules", "Activity", "Matched"]);
        for m in &r.misses {
            t.add_row(vec![
                Cell::new(&m.id),
                Cell::new(&m.gold),
                Cell::new(&m.predicted),
                Cell::new(&m.text),
                Cell::new(&m.matched),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

fn markdown(r: &Report, out: &mut impl Write) -> Result<()> {
    writeln!(out, "# Rule evaluation")?;
    writeln!(out)?;
    writeln!(
        out,
        "Rules {} against `{}` in {}.",
        esc(&r.rules),
        esc(&r.gold_column),
        esc(&r.input)
    )?;
    writeln!(out)?;
    writeln!(out, "{}.", headline(r))?;
    writeln!(out)?;
    writeln!(
        out,
        "| Class | Precision | Recall | F1 | Support | Predicted |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for c in &r.metrics.classes {
        writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            c.class, c.precision, c.recall, c.f1, c.support, c.predicted
        )?;
    }
    writeln!(out)?;
    writeln!(out, "## Confusion matrix")?;
    writeln!(out)?;
    let header = matrix_header();
    writeln!(
        out,
        "| {} |",
        header
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    )?;
    writeln!(out, "|---|{}", "---:|".repeat(ALL.len()))?;
    for (i, l) in ALL.iter().enumerate() {
        let cells: Vec<String> = r.metrics.confusion[i].iter().map(u64::to_string).collect();
        writeln!(out, "| {} | {} |", short(*l), cells.join(" | "))?;
    }
    writeln!(out)?;
    writeln!(out, "## Misses ({})", r.misses.len())?;
    writeln!(out)?;
    if !r.misses.is_empty() {
        writeln!(out, "| Row | Gold | Rules | Activity | Matched |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for m in &r.misses {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                esc(&m.id),
                m.gold,
                m.predicted,
                esc(&m.text),
                esc(&m.matched)
            )?;
        }
    }
    Ok(())
}
