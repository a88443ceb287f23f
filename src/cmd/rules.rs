//! `rules check | test | show`: rule files are data, and their examples are
//! their tests.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Result;

use super::{Notes, load_rule_files, rule_paths};
use crate::Outcome;
use crate::activity::{Label, matched_text};
use crate::classify::{Classifier, Target};
use crate::cli::{GlobalArgs, RulesCommand};
use crate::output::Output;
use crate::rules::{Expect, RuleSet};

pub fn run(cmd: &RulesCommand, global: &GlobalArgs, _notes: &Notes) -> Result<Outcome> {
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
