//! `classify`: every input row, in order, with its Spectrum level and evidence.
//!
//! Streams: one record in, one record out; memory does not grow with rows.

use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{Accounting, assign, matched_text, tags_text};
use crate::classify::Classifier;
use crate::cli::{ClassifyArgs, ClassifyFormat, GlobalArgs};
use crate::input::InputPath;
use crate::output::{CellGuard, Output};
use crate::pipeline;

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

/// Where classified rows go.
enum Sink<'a> {
    Csv(Box<csv::Writer<&'a mut Output>>),
    Jsonl(&'a mut Output),
}

pub fn run(args: &ClassifyArgs, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let rules = load_rules(global)?;
    let large = super::large_input([args.input.as_path()]);
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
    let name = reader.name().to_string();
    let write_err = || format!("cannot write the output of `{name}`");
    let mut sink = match args.format {
        ClassifyFormat::Csv => {
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(&mut out);
            let header: Vec<String> = headers
                .iter()
                .map(|h| guard.cell(h).into_owned())
                .chain(
                    SPECTRUM_COLUMNS
                        .iter()
                        .map(std::string::ToString::to_string),
                )
                .collect();
            w.write_record(&header).with_context(write_err)?;
            Sink::Csv(Box::new(w))
        }
        ClassifyFormat::Jsonl => Sink::Jsonl(&mut out),
    };
    // Rows are read in order, classified on all cores, and written back in
    // input order: the output is the same for any number of threads.
    pipeline::run(
        pipeline::threads(global.threads, large),
        || {
            let Some(activity) = reader.next_activity()? else {
                return Ok(None);
            };
            progress.tick(reader.counts.rows, reader.position());
            Ok(Some((activity, reader.fields().to_vec())))
        },
        |(activity, _), scratch| assign(&classifier, activity, scratch),
        |(activity, fields), o| {
            accounting.add(o.category);
            match &mut sink {
                Sink::Csv(w) => {
                    // Cell by cell, so no row is built up as owned strings.
                    let mut field = |v: &str| w.write_field(guard.cell(v).as_bytes());
                    for i in 0..width {
                        field(fields.get(i).map_or("", String::as_str)).with_context(write_err)?;
                    }
                    let level = o.level.map(|n| n.to_string()).unwrap_or_default();
                    field(&level).with_context(write_err)?;
                    field(o.level.map_or("", |n| rules.level(n).name.as_str()))
                        .with_context(write_err)?;
                    field(o.category.as_str()).with_context(write_err)?;
                    let also = o
                        .classification
                        .also
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(";");
                    field(&also).with_context(write_err)?;
                    field(&tags_text(&o.classification, &rules)).with_context(write_err)?;
                    field(&format!("{:.2}", o.classification.confidence))
                        .with_context(write_err)?;
                    field(&matched_text(&o.classification, &classifier, &rules))
                        .with_context(write_err)?;
                    field(o.source.as_str()).with_context(write_err)?;
                    field(&o.note()).with_context(write_err)?;
                    // Cells beyond the header (ragged rows) follow, so nothing is lost.
                    for extra in fields.iter().skip(width) {
                        field(extra).with_context(write_err)?;
                    }
                    w.write_record(None::<&[u8]>).with_context(write_err)?;
                }
                Sink::Jsonl(out) => {
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
                    serde_json::to_writer(&mut **out, &line).with_context(write_err)?;
                    out.write_all(b"\n").with_context(write_err)?;
                }
            }
            Ok(())
        },
    )?;
    if let Sink::Csv(w) = &mut sink {
        w.flush().with_context(write_err)?;
    }
    drop(sink);
    progress.finish();
    accounting.add_blank(reader.counts.blank);
    out.finish()?;
    notes.note(format!("{}: {}", reader.name(), accounting.line()));
    Ok(Outcome::Ok)
}
