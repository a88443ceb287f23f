//! `classify`: every input row, in order, with its Spectrum level and evidence.
//!
//! Streams: one record in, one record out; memory does not grow with rows.

use std::io::Write;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{
    Accounting, Activity, assign_into, push_confidence, push_number, push_tags_text, target_label,
};
use crate::classify::{Category, Classification, Classifier, Scratch, Target};
use crate::cli::{ClassifyArgs, ClassifyFormat, GlobalArgs};
use crate::input::{InputPath, Record, RowDecoder};
use crate::output::{CellGuard, CsvRecords, Output, ReadyCell};
use crate::pipeline;
use crate::rules::RuleSet;

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
    let guard = CellGuard { raw: args.raw };
    let mut out = Output::create(args.output.as_deref(), std::slice::from_ref(&input))?;
    let mut progress = notes.progress(&reader);
    let mut accounting = Accounting::default();
    let name = reader.name().to_string();
    let write_err = || format!("cannot write the output of `{name}`");
    if args.format == ClassifyFormat::Csv {
        // The header, quoted like the rows below it.
        let mut header = CsvRecords::default();
        for h in &headers {
            header.field(guard.cell(h).as_bytes());
        }
        for column in SPECTRUM_COLUMNS {
            header.field(column.as_bytes());
        }
        header.end_record();
        out.write_all(&header.take()).with_context(write_err)?;
    }
    let decoder = reader.decoder();
    let format = Format {
        rules: &rules,
        classifier: &classifier,
        matched: MatchedParts::new(&classifier, &rules),
        level_names: (1..=6)
            .map(|n| ReadyCell::new(&guard.cell(&rules.level(n).name)))
            .collect(),
        headers: &headers,
        guard,
        csv: args.format == ClassifyFormat::Csv,
    };
    // Workers take turns reading batches, then decode, classify and format
    // them; the formatted batches are written here in input order (see
    // `pipeline`), so the output is the same for any number of threads.
    pipeline::run(
        pipeline::threads(global.threads, large),
        super::fill_batches(&mut reader, &mut progress),
        |batch, w: &mut Worker| {
            let mut done = Written::default();
            let formatted = decoder.each(batch, |rec, cells| {
                match format.row(&decoder, rec, cells, w)? {
                    Some(category) => done.accounting.add(category),
                    None => done.blank += 1,
                }
                Ok(())
            });
            done.error = formatted.err();
            done.bytes = w.finish_batch();
            done
        },
        |done: Written| {
            out.write_all(&done.bytes).with_context(write_err)?;
            accounting.merge(&done.accounting);
            accounting.add_blank(done.blank);
            match done.error {
                Some(e) => Err(e),
                None => Ok(()),
            }
        },
    )?;
    progress.finish();
    out.finish()?;
    notes.note(format!("{}: {}", reader.name(), accounting.line()));
    Ok(Outcome::Ok)
}

/// What a worker thread reuses from row to row.
#[derive(Default)]
struct Worker {
    scratch: Scratch,
    activity: Activity,
    outcome: crate::activity::Outcome,
    /// A cell being formatted.
    text: String,
    /// This batch's output rows (CSV records, or JSON lines in its bytes).
    rows: CsvRecords,
}

impl Worker {
    /// The formatted rows of the batch so far, leaving the buffer empty.
    fn finish_batch(&mut self) -> Vec<u8> {
        let bytes = self.rows.take();
        // The next batch starts with room for one like this, so its rows are
        // not copied again as the buffer grows.
        self.rows = CsvRecords::with_capacity(bytes.len() + bytes.len() / 8);
        bytes
    }
}

/// One batch's output.
#[derive(Default)]
struct Written {
    bytes: Vec<u8>,
    accounting: Accounting,
    blank: u64,
    /// The first bad row; the rows before it are in `bytes`.
    error: Option<anyhow::Error>,
}

/// The `spectrum_matched` cell, `L5 adopt*; L5 policy; response hotline`
/// ([`crate::activity::matched_text`]), written from each term's part made
/// ready in advance: the part's text with any quote doubled, and whether it
/// holds a character that makes the cell quoted (the `; ` between parts has
/// none). Parts start with a target label (`L5`, `response`), never with a
/// character the spreadsheet guard changes. Tags have no part.
struct MatchedParts {
    parts: Vec<Option<ReadyCell>>,
}

impl MatchedParts {
    fn new(classifier: &Classifier, rules: &RuleSet) -> Self {
        let parts = (0..classifier.term_count())
            .map(|term| {
                let (target, _) = classifier.term_target(term);
                if matches!(target, Target::Tag(_)) {
                    return None;
                }
                let label = target_label(target, rules);
                Some(ReadyCell::new(&format!(
                    "{label} {}",
                    classifier.term_text(term)
                )))
            })
            .collect();
        MatchedParts { parts }
    }

    fn write(&self, rows: &mut CsvRecords, c: &Classification) {
        let parts = || c.matched.iter().filter_map(|m| self.parts[m.term].as_ref());
        let quoted = parts().any(|p| p.quoted);
        rows.escaped_field(quoted, |out| {
            for (k, part) in parts().enumerate() {
                if k > 0 {
                    out.extend_from_slice(b"; ");
                }
                out.extend_from_slice(part.text.as_bytes());
            }
        });
    }
}

/// How rows are written.
struct Format<'a> {
    rules: &'a RuleSet,
    classifier: &'a Classifier,
    matched: MatchedParts,
    /// The level names' cells, level 1 first.
    level_names: Vec<ReadyCell>,
    headers: &'a [String],
    guard: CellGuard,
    csv: bool,
}

impl Format<'_> {
    /// Decodes, classifies and formats one record into the worker's buffer;
    /// `None` for a blank row (which is not written).
    fn row(
        &self,
        decoder: &RowDecoder,
        rec: &Record<'_>,
        fields: &[&str],
        w: &mut Worker,
    ) -> Result<Option<Category>> {
        if !decoder.activity(rec, fields, &mut w.activity)? {
            return Ok(None);
        }
        assign_into(self.classifier, &w.activity, &mut w.scratch, &mut w.outcome);
        let (rules, classifier) = (self.rules, self.classifier);
        let (o, activity) = (&w.outcome, &w.activity);
        if self.csv {
            let Worker { rows, text, .. } = w;
            let guard = &self.guard;
            let field = |rows: &mut CsvRecords, v: &str| rows.field(guard.cell(v).as_bytes());
            for i in 0..self.headers.len() {
                field(rows, fields.get(i).copied().unwrap_or(""));
            }
            text.clear();
            if let Some(n) = o.level {
                push_number(text, n);
            }
            field(rows, text);
            match o.level {
                Some(n) => rows.ready_field(&self.level_names[usize::from(n) - 1]),
                None => rows.field(b""),
            }
            field(rows, o.category.as_str());
            text.clear();
            for (k, &level) in o.classification.also.iter().enumerate() {
                if k > 0 {
                    text.push(';');
                }
                push_number(text, level);
            }
            field(rows, text);
            text.clear();
            push_tags_text(text, &o.classification, rules);
            field(rows, text);
            text.clear();
            push_confidence(text, o.classification.confidence);
            field(rows, text);
            self.matched.write(rows, &o.classification);
            field(rows, o.source.as_str());
            text.clear();
            o.push_note(text);
            field(rows, text);
            // Cells beyond the header (ragged rows) follow, so nothing is lost.
            for extra in fields.iter().skip(self.headers.len()) {
                field(rows, extra);
            }
            rows.end_record();
        } else {
            let headers = self.headers;
            let mut cells = Map::new();
            for (i, value) in fields.iter().enumerate() {
                let name = headers
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column_{}", i + 1));
                cells.insert(name, Value::String((*value).to_string()));
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
                        "target": crate::activity::target_label(m.target, rules),
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
            serde_json::to_writer(&mut w.rows.bytes, &line)?;
            w.rows.bytes.push(b'\n');
        }
        Ok(Some(o.category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::matched_text;
    use crate::rules::{RuleSource, builtin, load};

    /// The matched cell written from ready parts is the cell the csv crate's
    /// quoting of [`matched_text`] gives.
    fn check(rules: &RuleSet, texts: &[&str]) {
        let classifier = Classifier::new(rules).unwrap();
        let parts = MatchedParts::new(&classifier, rules);
        for text in texts {
            let c = classifier.classify(text);
            let (mut ours, mut plain) = (CsvRecords::default(), CsvRecords::default());
            parts.write(&mut ours, &c);
            plain.field(matched_text(&c, &classifier, rules).as_bytes());
            assert_eq!(ours.take(), plain.take(), "{text}");
        }
    }

    #[test]
    fn matched_cell_from_parts_is_quoted_like_the_whole() {
        check(
            &builtin().unwrap(),
            &[
                "Train staff and teachers to recognize warning signs",
                "Adopt a zero-tolerance policy; advocate for a state law",
                "Hotline for survivors, restitution for victims",
                "",
                "Bake sale",
            ],
        );
        let mut text = String::from("format = 1\nname = \"t\"\nversion = \"1\"\n");
        for n in 1..=6 {
            text.push_str(&format!(
                "[[level]]\nnumber = {n}\nname = \"L{n}\"\nshort = \"s{n}\"\ndescription = \"d\"\nexample = \"e\"\nrecommendation = \"r\"\nterms = [\"word{n}\", {{ any = [\"alpha{n}\", \"beta{n}\"], label = 'the \"{n}\", quoted' }}]\n"
            ));
        }
        let rules = load(&[RuleSource {
            name: "t.toml".into(),
            text,
        }])
        .unwrap();
        check(
            &rules,
            &["word1 word2", "alpha3 word3", "beta5", "word6 alpha6 beta2"],
        );
    }
}
