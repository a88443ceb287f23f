//! Activities and their outcome: the rules' classification combined with any
//! manual level the portfolio carries.
//!
//! A `level` column lets a coordinator override the rules for a row. The
//! manual value wins (`source = manual`), but the rules still run, so a
//! disagreement is reported rather than hidden.

use serde::Serialize;

use crate::classify::{Category, Classification, Classifier, Scratch, Target};
use crate::rules::RuleSet;
use crate::text::normalize;

/// A level label as people write it: `5`, `L5`, `Level 5`, a level's name,
/// `response` or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Level(u8),
    Response,
    None,
}

impl Label {
    pub fn category(self) -> Category {
        match self {
            Label::Level(_) => Category::Prevention,
            Label::Response => Category::Response,
            Label::None => Category::Unclassified,
        }
    }

    pub fn level(self) -> Option<u8> {
        match self {
            Label::Level(n) => Some(n),
            _ => None,
        }
    }

    /// The label of a classification (unclassified reads as `none`).
    pub fn of(c: &Classification) -> Label {
        match (c.category, c.level) {
            (Category::Prevention, Some(n)) => Label::Level(n),
            (Category::Response, _) => Label::Response,
            _ => Label::None,
        }
    }

    pub fn display(self) -> String {
        match self {
            Label::Level(n) => format!("level {n}"),
            Label::Response => "response".into(),
            Label::None => "none".into(),
        }
    }
}

/// The accepted ways to write a level, for error messages.
pub const LABEL_FORMS: &str =
    "1-6, L1-L6, \"Level 1\"-\"Level 6\", a level name, \"response\" or \"none\"";

/// The level and response names of a rule set, normalized once, for
/// reading level labels row after row.
#[derive(Debug, Clone)]
pub struct LabelNames {
    /// (normalized name, name as written, label)
    names: Vec<(String, String, Label)>,
}

impl LabelNames {
    pub fn new(rules: &RuleSet) -> Self {
        let mut names = Vec::new();
        for level in &rules.levels {
            for name in [&level.name, &level.short] {
                names.push((normalize(name), name.clone(), Label::Level(level.number)));
            }
        }
        names.push((
            normalize(&rules.response.name),
            rules.response.name.clone(),
            Label::Response,
        ));
        LabelNames { names }
    }

    /// Parses a level label; `Ok(None)` for a blank cell.
    pub fn parse(&self, value: &str) -> Result<Option<Label>, String> {
        let key = normalize(value);
        if key.is_empty() {
            return Ok(None);
        }
        let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
        let digits = compact
            .strip_prefix("level")
            .or_else(|| compact.strip_prefix("lvl"))
            .or_else(|| compact.strip_prefix('l'))
            .unwrap_or(&compact);
        if let Ok(n) = digits.parse::<u8>() {
            return if (1..=6).contains(&n) {
                Ok(Some(Label::Level(n)))
            } else {
                Err(format!("level {n} is outside 1-6; use {LABEL_FORMS}"))
            };
        }
        match compact.as_str() {
            "response" | "afterharm" | "afterharmresponse" | "r" => {
                return Ok(Some(Label::Response));
            }
            "none" | "na" | "n" | "neither" | "notprevention" | "other" => {
                return Ok(Some(Label::None));
            }
            _ => {}
        }
        if let Some((_, _, label)) = self.names.iter().find(|(n, _, _)| *n == key) {
            return Ok(Some(*label));
        }
        let near = self
            .names
            .iter()
            .filter_map(|(n, name, label)| match label {
                Label::Level(number) if crate::text::levenshtein(n, &key) <= 3 => {
                    Some(format!(" (did you mean level {number}, \"{name}\"?)"))
                }
                _ => None,
            })
            .next()
            .unwrap_or_default();
        Err(format!("{value:?} is not a level{near}; use {LABEL_FORMS}"))
    }
}

/// Parses a level label with the names of `rules`; `Ok(None)` for a blank cell.
pub fn parse_label(value: &str, rules: &RuleSet) -> Result<Option<Label>, String> {
    LabelNames::new(rules).parse(value)
}

/// Where an activity's level came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Rules,
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Rules => "rules",
            Source::Manual => "manual",
        }
    }
}

/// One activity row as read from a portfolio.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// 1-based data row number (the header is row 0).
    pub row: u64,
    /// Physical line in the file where the row starts.
    pub line: u64,
    /// The `id` column, or the row number.
    pub id: String,
    /// The text to classify (title and description joined).
    pub text: String,
    pub manual: Option<Label>,
}

/// An activity's final placement.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub classification: Classification,
    pub level: Option<u8>,
    pub category: Category,
    pub source: Source,
    /// With a manual level: what the rules said, when it differs.
    pub rules_said: Option<Label>,
}

impl Default for Outcome {
    /// An unclassified placement by the rules.
    fn default() -> Self {
        Outcome {
            classification: Classification::default(),
            level: None,
            category: Category::Unclassified,
            source: Source::Rules,
            rules_said: None,
        }
    }
}

impl Outcome {
    pub fn label(&self) -> Label {
        match (self.category, self.level) {
            (Category::Prevention, Some(n)) => Label::Level(n),
            (Category::Response, _) => Label::Response,
            _ => Label::None,
        }
    }

    /// A note for output: disagreement with a manual level, or why a row is unclassified.
    pub fn note(&self) -> String {
        let mut out = String::new();
        self.push_note(&mut out);
        out
    }

    /// [`Outcome::note`], appended to `out` (no allocation for the usual
    /// notes).
    pub fn push_note(&self, out: &mut String) {
        if let Some(said) = self.rules_said {
            use std::fmt::Write;
            let _ = write!(
                out,
                "manual {}; rules say {}",
                self.label().display(),
                said.display()
            );
            return;
        }
        if let (Category::Unclassified, Some(reason)) = (self.category, self.classification.reason)
            && self.source == Source::Rules
        {
            out.push_str(reason);
        }
    }
}

/// Classifies an activity into `out` (reusing its lists) and applies its
/// manual level, if any.
pub fn assign_into(
    classifier: &Classifier,
    activity: &Activity,
    scratch: &mut Scratch,
    out: &mut Outcome,
) {
    classifier.classify_into(&activity.text, scratch, &mut out.classification);
    let c = &out.classification;
    match activity.manual {
        Some(manual) => {
            let rules = Label::of(c);
            out.level = manual.level();
            out.category = manual.category();
            out.source = Source::Manual;
            out.rules_said = (rules != manual).then_some(rules);
        }
        None => {
            out.level = c.level;
            out.category = c.category;
            out.source = Source::Rules;
            out.rules_said = None;
        }
    }
}

/// Classifies an activity and applies its manual level, if any.
pub fn assign(classifier: &Classifier, activity: &Activity, scratch: &mut Scratch) -> Outcome {
    let mut out = Outcome::default();
    assign_into(classifier, activity, scratch, &mut out);
    out
}

/// Short label of what a term scores for: `L5`, `response`, `other`, `tag:demand`.
pub fn target_label(target: Target, rules: &RuleSet) -> String {
    let mut out = String::new();
    push_target_label(&mut out, target, rules);
    out
}

fn push_target_label(out: &mut String, target: Target, rules: &RuleSet) {
    match target {
        Target::Level(n) => {
            out.push('L');
            push_number(out, n);
        }
        Target::Response => out.push_str("response"),
        Target::Other => out.push_str("other"),
        Target::Tag(i) => {
            out.push_str("tag:");
            out.push_str(rules.tags.get(i).map_or("?", |t| t.id.as_str()));
        }
    }
}

/// A small number as text (levels are 1–6), appended without formatting
/// machinery.
pub fn push_number(out: &mut String, n: u8) {
    if n < 10 {
        out.push(char::from(b'0' + n));
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{n}");
    }
}

/// The counted terms of a classification, tags left out:
/// `L5 adopt*; L5 policy; response hotline`.
pub fn matched_text(c: &Classification, classifier: &Classifier, rules: &RuleSet) -> String {
    let mut out = String::new();
    push_matched_text(&mut out, c, classifier, rules);
    out
}

/// [`matched_text`], appended to `out`.
pub fn push_matched_text(
    out: &mut String,
    c: &Classification,
    classifier: &Classifier,
    rules: &RuleSet,
) {
    let mut first = true;
    for m in c
        .matched
        .iter()
        .filter(|m| !matches!(m.target, Target::Tag(_)))
    {
        if !first {
            out.push_str("; ");
        }
        first = false;
        push_target_label(out, m.target, rules);
        out.push(' ');
        out.push_str(classifier.term_text(m.term));
    }
}

/// Tag ids of a classification, `;`-separated, appended to `out`.
pub fn push_tags_text(out: &mut String, c: &Classification, rules: &RuleSet) {
    for (k, tag) in c.tags.iter().filter_map(|i| rules.tags.get(*i)).enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(&tag.id);
    }
}

/// A confidence (0–1, already rounded to hundredths) as `0.83`, appended to
/// `out`: the same text as `format!("{:.2}")`, without float formatting.
pub fn push_confidence(out: &mut String, confidence: f64) {
    use std::fmt::Write;
    if (0.0..=1.0).contains(&confidence) {
        let hundredths = (confidence * 100.0).round() as u32;
        let digit = |d: u32| char::from_digit(d, 10).unwrap_or('0');
        out.push(digit(hundredths / 100));
        out.push('.');
        out.push(digit(hundredths / 10 % 10));
        out.push(digit(hundredths % 10));
    } else {
        let _ = write!(out, "{confidence:.2}");
    }
}

/// Where every row went: the sums always hold
/// (`rows = prevention + response + unclassified + blank`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    pub rows: u64,
    pub prevention: u64,
    pub response: u64,
    pub unclassified: u64,
    pub blank_skipped: u64,
}

impl Accounting {
    pub fn add(&mut self, category: Category) {
        self.rows += 1;
        match category {
            Category::Prevention => self.prevention += 1,
            Category::Response => self.response += 1,
            Category::Unclassified => self.unclassified += 1,
        }
    }

    pub fn add_blank(&mut self, n: u64) {
        self.rows += n;
        self.blank_skipped += n;
    }

    pub fn merge(&mut self, other: &Accounting) {
        self.rows += other.rows;
        self.prevention += other.prevention;
        self.response += other.response;
        self.unclassified += other.unclassified;
        self.blank_skipped += other.blank_skipped;
    }

    /// `N rows read: a prevention, b response, c unclassified, d blank skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} rows read: {} prevention, {} response, {} unclassified, {} blank skipped",
            self.rows, self.prevention, self.response, self.unclassified, self.blank_skipped
        )
    }

    pub fn balanced(&self) -> bool {
        self.rows == self.prevention + self.response + self.unclassified + self.blank_skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_reads_like_two_decimal_formatting() {
        for k in 0..=100 {
            let c = (f64::from(k) / 100.0 * 100.0).round() / 100.0;
            let mut out = String::new();
            push_confidence(&mut out, c);
            assert_eq!(out, format!("{c:.2}"));
        }
        let mut out = String::new();
        push_confidence(&mut out, 1.5);
        assert_eq!(out, "1.50");
    }

    #[test]
    fn labels_in_every_accepted_form() {
        let rules = crate::rules::builtin().unwrap();
        for s in [
            "5",
            "L5",
            "l5",
            "Level 5",
            "level-5",
            "LEVEL5",
            "Changing Organizational Practices",
            "organizational practice",
        ] {
            assert_eq!(parse_label(s, &rules), Ok(Some(Label::Level(5))), "{s}");
        }
        assert_eq!(parse_label("Response", &rules), Ok(Some(Label::Response)));
        assert_eq!(parse_label("none", &rules), Ok(Some(Label::None)));
        assert_eq!(parse_label("  ", &rules), Ok(None));
        assert!(
            parse_label("7", &rules)
                .unwrap_err()
                .contains("outside 1-6")
        );
        let err = parse_label("Changing Organisational Practise", &rules).unwrap_err();
        assert!(err.contains("did you mean level 5"), "{err}");
        assert!(
            parse_label("maybe", &rules)
                .unwrap_err()
                .contains("use 1-6")
        );
    }

    #[test]
    fn manual_level_wins_and_disagreement_is_kept() {
        let rules = crate::rules::builtin().unwrap();
        let c = Classifier::new(&rules).unwrap();
        let mut s = Scratch::default();
        let a = Activity {
            text: "Testify for a state bill".into(),
            manual: Some(Label::Level(2)),
            ..Default::default()
        };
        let o = assign(&c, &a, &mut s);
        assert_eq!((o.level, o.source), (Some(2), Source::Manual));
        assert_eq!(o.rules_said, Some(Label::Level(6)));
        assert_eq!(o.note(), "manual level 2; rules say level 6");
        let a = Activity {
            text: "Testify for a state bill".into(),
            manual: Some(Label::Level(6)),
            ..Default::default()
        };
        assert_eq!(assign(&c, &a, &mut s).rules_said, None);
    }
}
