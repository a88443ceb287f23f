//! `rules check | test | show`: rule files are data, and their examples are
//! their tests.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;

use super::{Notes, load_rule_files, rule_paths};
use crate::Outcome;
use crate::activity::{Label, matched_text};
use crate::classify::{Classifier, Target};
use crate::cli::{ExplainFormat, GlobalArgs, InputArgs, RulesCommand};
use crate::output::Output;
use crate::rules::{Expect, RuleSet};

pub fn run(cmd: &RulesCommand, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let load = |file: &Option<std::path::PathBuf>| match file {
        Some(f) => load_rule_files(std::slice::from_ref(f)),
        None => load_rule_files(&rule_paths(global)),
    };
    let mut out = Output::create(None, &[])?;
    let outcome = match cmd {
        RulesCommand::Check { file } => {
            let rules = load(file)?;
            let classifier = Classifier::new(&rules)?;
            let level_terms: usize = rules.levels.iter().map(|l| l.terms.len()).sum();
            writeln!(
                out,
                "ok: {}: 6 levels ({level_terms} terms), response ({} terms), other ({} terms), {} tags, {} examples; {} terms compiled",
                rules.provenance(),
                rules.response.terms.len(),
                rules.other.terms.len(),
                rules.tags.len(),
                rules.examples.len(),
                classifier.term_count()
            )?;
            Outcome::Ok
        }
        RulesCommand::Test { file, verbose } => {
            let rules = load(file)?;
            test(&rules, *verbose, &mut out)?
        }
        RulesCommand::Show => {
            let rules = load(&None)?;
            out.write_all(rules.to_toml().as_bytes())?;
            Outcome::Ok
        }
        RulesCommand::Stats {
            input,
            format,
            input_args,
        } => {
            let rules = load(&None)?;
            stats(notes, &rules, input, *format, input_args, &mut out)?;
            Outcome::Ok
        }
    };
    out.finish()?;
    Ok(outcome)
}

/// The result of one example.
pub struct ExampleResult {
    pub passed: bool,
    pub problem: String,
}

/// Runs the examples of `rules`; prints failures and a coverage summary.
fn test(rules: &RuleSet, verbose: bool, out: &mut impl Write) -> Result<Outcome> {
    let classifier = Classifier::new(rules)?;
    writeln!(out, "rules test: {}", rules.provenance())?;
    let mut failed = 0;
    let mut exercised = BTreeSet::new();
    for ex in &rules.examples {
        let c = classifier.classify(&ex.text);
        exercised.extend(c.matched.iter().map(|m| m.term));
        let got = Label::of(&c);
        let mut problems = Vec::new();
        if let Some(expect) = ex.expect {
            let want = match expect {
                Expect::Level(n) => Label::Level(n),
                Expect::Response => Label::Response,
                Expect::None => Label::None,
            };
            if got != want {
                problems.push(format!(
                    "expected {}, got {}",
                    want.display(),
                    got.display()
                ));
            }
        }
        if let Some(n) = c.level.filter(|n| ex.not.contains(n)) {
            problems.push(format!("must not be level {n}, got level {n}"));
        }
        for tag in ex.tags.iter().flatten() {
            if !c.tags.iter().any(|i| rules.tags[*i].id == *tag) {
                problems.push(format!("expected tag `{tag}`"));
            }
        }
        if !problems.is_empty() {
            failed += 1;
            writeln!(out, "FAIL {}: {}", ex.location, problems.join("; "))?;
            writeln!(out, "     text:    {}", ex.text)?;
            let matched = matched_text(&c, &classifier, rules);
            writeln!(
                out,
                "     matched: {}",
                if matched.is_empty() {
                    "(nothing)".into()
                } else {
                    matched
                }
            )?;
        }
    }
    let total = rules.examples.len();
    writeln!(
        out,
        "{total} examples: {} passed, {failed} failed",
        total - failed
    )?;

    let missing: Vec<String> = (1..=6u8)
        .filter(|n| {
            !rules
                .examples
                .iter()
                .any(|e| e.expect == Some(Expect::Level(*n)))
        })
        .map(|n| format!("level {n}"))
        .chain(
            rules
                .examples
                .iter()
                .all(|e| e.expect != Some(Expect::Response))
                .then(|| "response".to_string()),
        )
        .chain(
            rules
                .tags
                .iter()
                .filter(|t| {
                    !rules
                        .examples
                        .iter()
                        .any(|e| e.tags.iter().flatten().any(|x| *x == t.id))
                })
                .map(|t| format!("tag `{}`", t.id)),
        )
        .collect();
    if missing.is_empty() {
        writeln!(out, "every level, response and tag has an example")?;
    } else {
        writeln!(out, "no example for: {}", missing.join(", "))?;
    }
    let unexercised: Vec<usize> = (0..classifier.term_count())
        .filter(|t| {
            !exercised.contains(t) && !matches!(classifier.term_target(*t).0, Target::Tag(_))
        })
        .collect();
    let scored = (0..classifier.term_count())
        .filter(|t| !matches!(classifier.term_target(*t).0, Target::Tag(_)))
        .count();
    writeln!(
        out,
        "{} of {scored} level, response and other terms are matched by some example",
        scored - unexercised.len()
    )?;
    if verbose {
        for t in &unexercised {
            writeln!(
                out,
                "  no example: {} {}",
                crate::activity::target_label(classifier.term_target(*t).0, rules),
                classifier.term_text(*t)
            )?;
        }
    } else if !unexercised.is_empty() {
        writeln!(
            out,
            "(run `rules test --verbose` to list the terms no example matches)"
        )?;
    }
    Ok(if failed > 0 {
        Outcome::Failed(1)
    } else {
        Outcome::Ok
    })
}

/// Per-term counts over a portfolio.
#[derive(serde::Serialize)]
struct TermStats {
    target: String,
    term: String,
    weight: f64,
    /// Rows where the term counted.
    fired: u64,
    /// Rows where it counted for the winning level or category.
    for_winner: u64,
    /// Rows whose winner would have changed without it.
    decided: u64,
    /// Rows where it fired and another level or category also scored.
    conflicts: u64,
}

#[derive(serde::Serialize)]
struct Stats {
    input: String,
    rules: String,
    rows: u64,
    terms: Vec<TermStats>,
    never_fired: Vec<String>,
    /// Order of `overlap` rows and columns.
    overlap_labels: Vec<String>,
    /// Rows where both categories scored (diagonal: rows where each scored).
    overlap: Vec<Vec<u64>>,
}

/// Index of a scoring target in the overlap matrix: levels 1-6, response, other.
fn slot(t: Target) -> Option<usize> {
    match t {
        Target::Level(n) => Some(usize::from(n) - 1),
        Target::Response => Some(6),
        Target::Other => Some(7),
        Target::Tag(_) => None,
    }
}

fn stats(
    notes: &Notes,
    rules: &RuleSet,
    input: &std::path::Path,
    format: ExplainFormat,
    input_args: &InputArgs,
    out: &mut impl Write,
) -> Result<()> {
    let classifier = Classifier::new(rules)?;
    let path = crate::input::InputPath::new(input);
    let mut opts = super::column_options(input_args);
    opts.manual_levels = false;
    let mut reader = super::open_input(&path, &opts, input_args, rules, notes)?;
    let n = classifier.term_count();
    let (mut fired, mut for_winner, mut decided, mut conflicts) =
        (vec![0u64; n], vec![0u64; n], vec![0u64; n], vec![0u64; n]);
    let mut overlap = vec![vec![0u64; 8]; 8];
    let mut rows = 0;
    let mut scratch = crate::classify::Scratch::default();
    let mut progress = notes.progress(&reader);
    while let Some(a) = reader.next_activity()? {
        progress.tick(reader.counts.rows, reader.position());
        rows += 1;
        let c = classifier.classify_with(&a.text, &mut scratch);
        let mut scores = [0.0f64; 8];
        scores[..6].copy_from_slice(&c.scores);
        scores[6] = c.response_score;
        scores[7] = c.other_score;
        let scoring: Vec<usize> = (0..8).filter(|i| scores[*i] > 0.0).collect();
        for &i in &scoring {
            for &j in &scoring {
                overlap[i][j] += 1;
            }
        }
        let winner = match (c.category, c.level, c.reason) {
            (crate::classify::Category::Prevention, Some(l), _) => Some(usize::from(l) - 1),
            (crate::classify::Category::Response, _, _) => Some(6),
            (_, _, Some(crate::classify::REASON_OTHER)) => Some(7),
            _ => None,
        };
        for m in &c.matched {
            let Some(s) = slot(m.target) else { continue };
            fired[m.term] += 1;
            if scoring.iter().any(|o| *o != s) {
                conflicts[m.term] += 1;
            }
            if winner == Some(s) {
                for_winner[m.term] += 1;
                let second = (0..8)
                    .filter(|i| *i != s)
                    .map(|i| scores[i])
                    .fold(0.0, f64::max);
                if scores[s] - m.weight <= second + 1e-9 {
                    decided[m.term] += 1;
                }
            }
        }
    }
    progress.finish();
    notes.note(format!(
        "{}: {} rows read: {rows} classified, {} blank skipped",
        path.display(),
        reader.counts.rows,
        reader.counts.blank
    ));
    let label = |t: Target| crate::activity::target_label(t, rules);
    let mut terms = Vec::new();
    let mut never_fired = Vec::new();
    for t in 0..n {
        let (target, weight) = classifier.term_target(t);
        if slot(target).is_none() {
            continue;
        }
        if fired[t] == 0 {
            never_fired.push(format!("{} {}", label(target), classifier.term_text(t)));
            continue;
        }
        terms.push(TermStats {
            target: label(target),
            term: classifier.term_text(t).to_string(),
            weight,
            fired: fired[t],
            for_winner: for_winner[t],
            decided: decided[t],
            conflicts: conflicts[t],
        });
    }
    terms.sort_by(|a, b| {
        b.fired
            .cmp(&a.fired)
            .then(a.target.cmp(&b.target))
            .then(a.term.cmp(&b.term))
    });
    let overlap_labels: Vec<String> = ["1", "2", "3", "4", "5", "6", "response", "other"]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let report = Stats {
        input: path.display(),
        rules: rules.provenance(),
        rows,
        terms,
        never_fired,
        overlap_labels,
        overlap,
    };
    match format {
        ExplainFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            out.write_all(b"\n")?;
        }
        ExplainFormat::Table => {
            use comfy_table::Cell;
            writeln!(
                out,
                "Rule statistics for {} over {} ({} rows)",
                report.rules, report.input, report.rows
            )?;
            writeln!(out)?;
            writeln!(
                out,
                "Terms that fired (fired = rows it counted in; for winner = it counted for the winning level; decided = the winner changes without it; conflicts = another level or category also scored)"
            )?;
            let mut t = crate::render::table::new_table(&[
                "For",
                "Term",
                "Weight",
                "Fired",
                "For winner",
                "Decided",
                "Conflicts",
            ]);
            for s in &report.terms {
                t.add_row(vec![
                    Cell::new(&s.target),
                    Cell::new(&s.term),
                    Cell::new(super::explain::fmt_num(s.weight)),
                    Cell::new(s.fired),
                    Cell::new(s.for_winner),
                    Cell::new(s.decided),
                    Cell::new(s.conflicts),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out)?;
            writeln!(
                out,
                "Overlap (rows where both scored; the diagonal is rows where each scored)"
            )?;
            let mut header = vec![""];
            header.extend(report.overlap_labels.iter().map(String::as_str));
            let mut t = crate::render::table::new_table(&header);
            for (i, name) in report.overlap_labels.iter().enumerate() {
                let mut row = vec![Cell::new(name)];
                row.extend(report.overlap[i].iter().map(|n| {
                    Cell::new(if *n == 0 {
                        "·".to_string()
                    } else {
                        n.to_string()
                    })
                }));
                t.add_row(row);
            }
            writeln!(out, "{t}")?;
            writeln!(out)?;
            writeln!(
                out,
                "{} of {} terms never fired on these rows.",
                report.never_fired.len(),
                report.never_fired.len() + report.terms.len()
            )?;
            for chunk in report.never_fired.chunks(6) {
                writeln!(out, "  {}", chunk.join(", "))?;
            }
        }
    }
    Ok(())
}
