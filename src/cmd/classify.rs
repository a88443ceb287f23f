//! `classify`: every input row, in order, with its Spectrum level and evidence.
//!
//! Streams: one record in, one record out; memory does not grow with rows.

use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{Accounting, assign, matched_text, tags_text};
use crate::classify::{Classifier, Scratch};
use crate::cli::{ClassifyArgs, ClassifyFormat, GlobalArgs};
use crate::input::InputPath;
use crate::output::{CellGuard, Output};

/// The columns `classify` adds, in order.
pub const SPECTRUM_COLUMNS: &[&str] = &[
    "spectrum_level",
    "spectrum_level_name",
    "spectrum_category",
    "spectrum_also",
    "spectrum_tags",
    "spectrum_confidence",
    "spectrum_matched",
    "spectrum_source",
    "spectrum_note",
];

pub fn run(args: &ClassifyArgs, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let rules = load_rules(global)?;
    let classifier = Classifier::new(&rules)?;
    let input = InputPath::new(&args.input);
    let mut reader = super::open_input(
        &input,
        &column_options(&args.input_args),
        &args.input_args,
        &rules,
        notes,
    )?;
    notes.note(format!(
        "{}: classifying {} with {}",
        reader.name(),
        reader.columns.text_names(),
        rules.provenance()
    ));
    let headers = reader.columns.headers.clone();
    let width = headers.len();
    let guard = CellGuard { raw: args.raw };
    let mut out = Output::create(args.output.as_deref(), std::slice::from_ref(&input))?;
    let mut progress = notes.progress(&reader);
    let mut accounting = Accounting::default();
    let mut scratch = Scratch::default();
    let write_err = || format!("cannot write the output of `{}`", reader_name(&input));

    match args.format {
        ClassifyFormat::Csv => {
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(&mut out);
            let mut record: Vec<String> =
                headers.iter().map(|h| guard.cell(h).into_owned()).collect();
            record.extend(
                SPECTRUM_COLUMNS
                    .iter()
                    .map(std::string::ToString::to_string),
            );
            w.write_record(&record).with_context(write_err)?;
            while let Some(activity) = reader.next_activity()? {
                progress.tick(reader.counts.rows, reader.position());
                let o = assign(&classifier, &activity, &mut scratch);
                accounting.add(o.category);
                let fields = reader.fields();
                record.clear();
                for i in 0..width {
                    record.push(
                        guard
                            .cell(fields.get(i).map_or("", String::as_str))
                            .into_owned(),
                    );
                }
                record.push(o.level.map(|n| n.to_string()).unwrap_or_default());
                record.push(
                    o.level
                        .map(|n| rules.level(n).name.clone())
                        .unwrap_or_default(),
                );
                record.push(o.category.as_str().to_string());
                record.push(
                    o.classification
                        .also
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(";"),
                );
                record.push(tags_text(&o.classification, &rules));
                record.push(format!("{:.2}", o.classification.confidence));
                record.push(
                    guard
                        .cell(&matched_text(&o.classification, &classifier, &rules))
                        .into_owned(),
                );
                record.push(o.source.as_str().to_string());
                record.push(o.note());
                // Cells beyond the header (ragged rows) follow, so nothing is lost.
                record.extend(
                    fields
                        .iter()
                        .skip(width)
                        .map(|f| guard.cell(f).into_owned()),
                );
                w.write_record(&record).with_context(write_err)?;
            }
            w.flush().with_context(write_err)?;
        }
        ClassifyFormat::Jsonl => {
            while let Some(activity) = reader.next_activity()? {
                progress.tick(reader.counts.rows, reader.position());
                let o = assign(&classifier, &activity, &mut scratch);
                accounting.add(o.category);
                let fields = reader.fields();
                let mut cells = Map::new();
                for (i, value) in fields.iter().enumerate() {
                    let name = headers
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("column_{}", i + 1));
                    cells.insert(name, Value::String(value.clone()));
                }
                for name in headers.iter().skip(fields.len()) {
                    cells.insert(name.clone(), Value::String(String::new()));
                }
                let matched: Vec<Value> = o
                    .classification
                    .matched
                    .iter()
                    .map(|m| {
                        json!({
                            "term": classifier.term_text(m.term),
                            "target": crate::activity::target_label(m.target, &rules),
                            "weight": m.weight,
                        })
                    })
                    .collect();
                let line = json!({
                    "row": activity.row,
                    "line": activity.line,
                    "id": activity.id,
                    "fields": cells,
                    "spectrum": {
                        "level": o.level,
                        "level_name": o.level.map(|n| rules.level(n).name.clone()),
                        "category": o.category,
                        "also": o.classification.also,
                        "tags": o.classification.tags.iter().map(|i| rules.tags[*i].id.clone()).collect::<Vec<_>>(),
                        "confidence": o.classification.confidence,
                        "matched": matched,
                        "source": o.source,
                        "note": o.note(),
                    }
                });
                serde_json::to_writer(&mut out, &line).with_context(write_err)?;
                out.write_all(b"\n").with_context(write_err)?;
            }
        }
    }
    progress.finish();
    accounting.add_blank(reader.counts.blank);
    out.finish()?;
    notes.note(format!("{}: {}", reader.name(), accounting.line()));
    Ok(Outcome::Ok)
}

fn reader_name(input: &InputPath) -> String {
    input.display()
}
