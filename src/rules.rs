//! The rule-file model: parsing, strict validation, layering and printing.
//!
//! A rule file is TOML (see `rules/spectrum.toml`, which is embedded in the
//! binary). Loading is strict: every struct denies unknown keys, and after
//! parsing each file is checked as a whole so that *all* of its problems are
//! reported at once, each with `file:line:column`. Files layer: the first file
//! is complete on its own unless it says `extends = "built-in"`; every later
//! file adds terms to the same level, response category or tag, may remove
//! terms, and may override weights and texts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::text::normalize;

/// The default rule set, compiled into the binary.
pub const BUILTIN_RULES: &str = include_str!("../rules/spectrum.toml");
/// How the built-in rules are named wherever a path would be.
pub const BUILTIN_SOURCE: &str = "built-in";
/// The only rule-file format this version reads.
pub const FORMAT_VERSION: i64 = 1;
/// Default level weights when a rule file gives none: the fact sheet says the
/// top two levels give the greatest impact and singles out level 6.
pub const DEFAULT_WEIGHTS: [f64; 6] = [1.0, 1.0, 1.0, 1.0, 2.0, 3.0];

// ---------------------------------------------------------------------------
// The effective, validated model.

/// A complete, validated rule set: six levels, the response category, tags,
/// assessment targets and the examples that test it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Where the rules came from, in layering order (`built-in` or paths).
    pub sources: Vec<String>,
    pub assessment: AssessmentConfig,
    /// Exactly six levels, ordered 1..=6.
    pub levels: Vec<Level>,
    pub response: Category,
    /// Work that is neither prevention nor response (fundraising,
    /// administration, research): matching it keeps a row unclassified.
    pub other: Category,
    pub tags: Vec<Tag>,
    pub examples: Vec<Example>,
}

/// Targets used by `assess`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentConfig {
    pub upstream_levels: Vec<u8>,
    pub upstream_target_share: f64,
    /// Prevention rows whose confidence is below this go to "needs review".
    pub review_below_confidence: f64,
}

impl Default for AssessmentConfig {
    fn default() -> Self {
        AssessmentConfig {
            upstream_levels: vec![5, 6],
            upstream_target_share: 0.30,
            review_below_confidence: 0.5,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub number: u8,
    pub name: String,
    pub short: String,
    pub weight: f64,
    pub min_activities: u32,
    pub description: String,
    pub example: String,
    pub recommendation: String,
    pub terms: Vec<Term>,
    pub exclude: Vec<String>,
}

/// The after-harm response category (not primary prevention).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub name: String,
    pub description: String,
    pub terms: Vec<Term>,
    pub exclude: Vec<String>,
}

/// A secondary label, such as one of the fact sheet's three aims.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub description: String,
    pub terms: Vec<Term>,
    pub exclude: Vec<String>,
}

/// One rule term as written: a word or phrase (optionally ending in `*`), a
/// `re:` regular expression, or a pair of terms that must occur near each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub text: String,
    pub weight: f64,
    /// `(other terms, within N words)` for proximity pairs: the term must
    /// occur within N words of any one of the others.
    pub near: Option<(Vec<String>, u32)>,
    /// How the term reads in reports, for long patterns (`audience words`).
    pub label: Option<String>,
    /// For `{ any = [...] }` terms: every alternative (the term counts once
    /// whichever of them match). Empty for ordinary terms.
    pub any: Vec<String>,
}

impl Term {
    /// A key that identifies the term for duplicate detection and merging.
    fn key(&self) -> String {
        if !self.any.is_empty() {
            let keys: Vec<String> = self.any.iter().map(|a| term_key(a)).collect();
            return format!("any:{}", keys.join("|"));
        }
        let base = term_key(&self.text);
        match &self.near {
            Some((others, n)) => {
                let others: Vec<String> = others.iter().map(|o| term_key(o)).collect();
                format!("{base} ~{n}~ {}", others.join("|"))
            }
            None => base,
        }
    }

    /// How the term reads in reports: its `label`, or the term itself, with
    /// the partners of a proximity pair.
    pub fn display(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        if !self.any.is_empty() {
            let shown = if self.any.len() > 4 {
                format!("{}|… ({} terms)", self.any[..4].join("|"), self.any.len())
            } else {
                self.any.join("|")
            };
            return format!("any of {shown}");
        }
        match &self.near {
            Some((others, n)) => {
                let shown = if others.len() > 3 {
                    format!("{}|… ({} terms)", others[..3].join("|"), others.len())
                } else {
                    others.join("|")
                };
                format!("{} near {shown} (within {n})", self.text)
            }
            None => self.text.clone(),
        }
    }
}

fn term_key(text: &str) -> String {
    if let Some(re) = text.strip_prefix("re:") {
        format!("re:{re}")
    } else {
        let prefix = text.trim_end().ends_with('*');
        format!("{}{}", normalize(text), if prefix { "*" } else { "" })
    }
}

/// What an example expects the classifier to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Level(u8),
    Response,
    /// Neither a level nor response: no rule should claim it.
    None,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Level(n) => write!(f, "level {n}"),
            Expect::Response => f.write_str("response"),
            Expect::None => f.write_str("none"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    /// `None` when the example only says what it must *not* be (`not = [5]`).
    pub expect: Option<Expect>,
    pub not: Vec<u8>,
    pub tags: Option<Vec<String>>,
    /// `file:line` of the example, for test failures.
    pub location: String,
}

/// A parsed term pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Normalized words; `prefix` when the last word ends with `*`.
    Phrase { text: String, prefix: bool },
    /// A regular expression applied to the normalized text.
    Regex(String),
}

/// Parses a term as written into a pattern, or says what is wrong with it.
pub fn parse_pattern(term: &str) -> Result<Pattern, String> {
    if let Some(re) = term.strip_prefix("re:") {
        if re.trim().is_empty() {
            return Err("empty regular expression".into());
        }
        return match regex::Regex::new(re) {
            Ok(_) => Ok(Pattern::Regex(re.to_string())),
            Err(e) => Err(format!(
                "invalid regular expression: {}",
                one_line(&e.to_string())
            )),
        };
    }
    let trimmed = term.trim();
    let prefix = trimmed.ends_with('*');
    let body = trimmed.trim_end_matches('*');
    if body.contains('*') {
        return Err("`*` is only allowed at the end of a term".into());
    }
    let text = normalize(body);
    if text.is_empty() {
        return Err(if prefix {
            "a wildcard needs at least one letter before `*`".into()
        } else {
            "empty term".into()
        });
    }
    Ok(Pattern::Phrase { text, prefix })
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Raw (as-written) file structures.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: Option<Spanned<i64>>,
    extends: Option<Spanned<String>>,
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    assessment: Option<RawAssessment>,
    #[serde(default)]
    level: Vec<RawLevel>,
    response: Option<RawCategory>,
    other: Option<RawCategory>,
    #[serde(default)]
    tag: Vec<RawTag>,
    #[serde(default)]
    example: Vec<Spanned<RawExample>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssessment {
    upstream_levels: Option<Spanned<Vec<i64>>>,
    upstream_target_share: Option<Spanned<f64>>,
    review_below_confidence: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    number: Spanned<i64>,
    name: Option<String>,
    short: Option<String>,
    weight: Option<Spanned<f64>>,
    min_activities: Option<Spanned<i64>>,
    description: Option<String>,
    example: Option<String>,
    recommendation: Option<String>,
    #[serde(default)]
    terms: Vec<Spanned<TermSpec>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    terms: Vec<Spanned<TermSpec>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTag {
    id: Spanned<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    terms: Vec<Spanned<TermSpec>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    remove: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    text: String,
    level: Option<ExampleLevel>,
    #[serde(default)]
    not: Vec<i64>,
    tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExampleLevel {
    Number(i64),
    Word(String),
}

/// A term as written: `"policy"` or `{ term = "policy", weight = 2 }`, or a
/// proximity pair `{ term = "train*", near = ["nurse*", "staff"], within = 5 }`.
#[derive(Debug, Clone, PartialEq)]
struct TermSpec {
    term: String,
    weight: Option<f64>,
    near: Option<Vec<String>>,
    within: Option<i64>,
    label: Option<String>,
    any: Option<Vec<String>>,
}

/// `near` is one term or a list of terms.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for TermSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TermSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a term string or a table like { term = \"...\", weight = 2 }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TermSpec, E> {
                Ok(TermSpec {
                    term: v.to_string(),
                    weight: None,
                    near: None,
                    within: None,
                    label: None,
                    any: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TermSpec, A::Error> {
                let mut spec = TermSpec {
                    term: String::new(),
                    weight: None,
                    near: None,
                    within: None,
                    label: None,
                    any: None,
                };
                let mut has_term = false;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "term" => {
                            spec.term = map.next_value()?;
                            has_term = true;
                        }
                        "weight" => spec.weight = Some(map.next_value()?),
                        "near" => {
                            spec.near = Some(match map.next_value::<OneOrMany>()? {
                                OneOrMany::One(s) => vec![s],
                                OneOrMany::Many(v) => v,
                            })
                        }
                        "within" => spec.within = Some(map.next_value()?),
                        "label" => spec.label = Some(map.next_value()?),
                        "any" => {
                            let alternatives: Vec<String> = map.next_value()?;
                            spec.term = alternatives.first().cloned().unwrap_or_default();
                            spec.any = Some(alternatives);
                        }
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["term", "any", "weight", "near", "within", "label"],
                            ));
                        }
                    }
                }
                match (&spec.any, has_term) {
                    (None, false) => return Err(de::Error::missing_field("term")),
                    (Some(_), true) => {
                        return Err(de::Error::custom(
                            "a term has either `term` or `any`, not both",
                        ));
                    }
                    _ => {}
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Problems with file positions.

/// One problem in a rule file, located by line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// All problems found while loading rule files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid rules: {one}"),
            many => {
                write!(f, "invalid rules ({} problems):", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RulesError {}

/// Maps byte offsets of one file's text to line/column (1-based, columns in chars).
struct Locator<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Locator<'a> {
    fn at(&mut self, offset: usize, message: impl Into<String>) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.problems.push(Problem {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

// ---------------------------------------------------------------------------
// Loading and layering.

/// Where a rule file's text comes from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// `built-in` or the path as the user gave it.
    pub name: String,
    pub text: String,
}

impl RuleSource {
    pub fn builtin() -> Self {
        RuleSource {
            name: BUILTIN_SOURCE.to_string(),
            text: BUILTIN_RULES.to_string(),
        }
    }

    /// Reads a rule file from disk; errors name the path.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        if path.is_dir() {
            anyhow::bail!("rules file `{}` is a directory", path.display());
        }
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read rules file `{}`", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            anyhow::anyhow!(
                "rules file `{}` is not valid UTF-8 (line {line})",
                path.display()
            )
        })?;
        Ok(RuleSource {
            name: path.display().to_string(),
            text,
        })
    }
}

/// Name and version of the built-in rules, read from the top-level keys of
/// the embedded file without parsing it all (this runs on every start-up, for
/// `--version`).
pub fn builtin_identity() -> (String, String) {
    let mut name = String::from("built-in");
    let mut version = String::from("?");
    for line in BUILTIN_RULES.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            break;
        }
        let value = |key: &str| {
            line.strip_prefix(key)
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().trim_matches('"').to_string())
        };
        if let Some(v) = value("name") {
            name = v;
        } else if let Some(v) = value("version") {
            version = v;
        }
    }
    (name, version)
}

/// Builds the built-in rule set. The embedded file is checked by tests, so
/// this only fails if the binary was built from a broken rules file.
pub fn builtin() -> Result<RuleSet, RulesError> {
    load(&[])
}

/// Loads and layers rule files. With no files, the built-in rules. The first
/// file stands alone unless it says `extends = "built-in"`; later files layer.
pub fn load(files: &[RuleSource]) -> Result<RuleSet, RulesError> {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for src in files {
        match parse_file(src) {
            Ok(raw) => parsed.push((src, raw)),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        return Err(RulesError { problems });
    }
    let builtin_src = RuleSource::builtin();
    let mut layers: Vec<(&RuleSource, RawFile)> = Vec::new();
    let starts_with_builtin = parsed.first().is_none_or(|(_, raw)| {
        raw.extends
            .as_ref()
            .is_some_and(|e| e.get_ref() == BUILTIN_SOURCE)
    });
    if starts_with_builtin {
        let raw = parse_file(&builtin_src).map_err(|problems| RulesError { problems })?;
        layers.push((&builtin_src, raw));
    }
    layers.extend(parsed);
    let mut builder = Builder::default();
    for (i, (src, raw)) in layers.into_iter().enumerate() {
        let mut loc = Locator {
            file: &src.name,
            text: &src.text,
            problems: Vec::new(),
        };
        builder.apply(raw, &mut loc, i == 0);
        builder.sources.push(src.name.clone());
        problems.append(&mut loc.problems);
    }
    if !problems.is_empty() {
        return Err(RulesError { problems });
    }
    builder.finish()
}

fn parse_file(src: &RuleSource) -> Result<RawFile, Vec<Problem>> {
    let mut loc = Locator {
        file: &src.name,
        text: &src.text,
        problems: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(&src.text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            loc.at(offset, one_line(e.message()));
            return Err(loc.problems);
        }
    };
    match &raw.format {
        None => loc.at(
            0,
            format!("missing `format = {FORMAT_VERSION}` (the rule-file format version)"),
        ),
        Some(f) if *f.get_ref() != FORMAT_VERSION => loc.at(
            f.span().start,
            format!(
                "unsupported format {}: this version reads format {FORMAT_VERSION}",
                f.get_ref()
            ),
        ),
        Some(_) => {}
    }
    if let Some(e) = &raw.extends
        && e.get_ref() != BUILTIN_SOURCE
    {
        loc.at(
            e.span().start,
            format!(
                "`extends` can only be \"{BUILTIN_SOURCE}\", not {:?}",
                e.get_ref()
            ),
        );
    }
    if let Some(a) = &raw.assessment {
        if let Some(levels) = &a.upstream_levels {
            if levels.get_ref().is_empty() {
                loc.at(
                    levels.span().start,
                    "`upstream_levels` must name at least one level",
                );
            }
            for n in levels.get_ref() {
                if !(1..=6).contains(n) {
                    loc.at(
                        levels.span().start,
                        format!("upstream level {n} is outside 1-6"),
                    );
                }
            }
        }
        for (key, v) in [
            ("upstream_target_share", &a.upstream_target_share),
            ("review_below_confidence", &a.review_below_confidence),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(v.get_ref())
            {
                loc.at(
                    v.span().start,
                    format!("`{key}` must be between 0 and 1, not {}", v.get_ref()),
                );
            }
        }
    }
    let mut seen_levels = BTreeMap::new();
    for level in &raw.level {
        let n = *level.number.get_ref();
        let at = level.number.span().start;
        if !(1..=6).contains(&n) {
            loc.at(at, format!("level {n} is outside 1-6"));
        } else if seen_levels.insert(n, at).is_some() {
            loc.at(at, format!("level {n} is defined twice"));
        }
        let what = format!("level {n}");
        if let Some(w) = &level.weight {
            check_weight(&mut loc, w, &format!("{what} weight"));
        }
        if let Some(m) = &level.min_activities
            && *m.get_ref() < 1
        {
            loc.at(
                m.span().start,
                format!(
                    "{what}: `min_activities` must be at least 1, not {}",
                    m.get_ref()
                ),
            );
        }
        check_terms(&mut loc, &what, &level.terms, &level.exclude, &level.remove);
    }
    if let Some(r) = &raw.response {
        check_terms(&mut loc, "response", &r.terms, &r.exclude, &r.remove);
    }
    if let Some(r) = &raw.other {
        check_terms(&mut loc, "other", &r.terms, &r.exclude, &r.remove);
    }
    let mut seen_tags = BTreeSet::new();
    for tag in &raw.tag {
        let id = tag.id.get_ref();
        if id.trim().is_empty() || id.contains(char::is_whitespace) {
            loc.at(
                tag.id.span().start,
                format!("tag id {id:?} must be one word"),
            );
        } else if !seen_tags.insert(id.clone()) {
            loc.at(tag.id.span().start, format!("tag `{id}` is defined twice"));
        }
        check_terms(
            &mut loc,
            &format!("tag `{id}`"),
            &tag.terms,
            &tag.exclude,
            &tag.remove,
        );
    }
    for ex in &raw.example {
        let e = ex.get_ref();
        let at = ex.span().start;
        if e.text.trim().is_empty() {
            loc.at(at, "example has empty `text`");
        }
        match &e.level {
            Some(ExampleLevel::Number(n)) if !(1..=6).contains(n) => {
                loc.at(at, format!("example level {n} is outside 1-6"));
            }
            Some(ExampleLevel::Word(w)) if !matches!(w.as_str(), "response" | "none") => {
                loc.at(
                    at,
                    format!("example level {w:?} must be 1-6, \"response\" or \"none\""),
                );
            }
            None if e.not.is_empty() => loc.at(at, "example needs `level` or `not`"),
            _ => {}
        }
        for n in &e.not {
            if !(1..=6).contains(n) {
                loc.at(at, format!("example `not` level {n} is outside 1-6"));
            }
        }
    }
    if loc.problems.is_empty() {
        Ok(raw)
    } else {
        Err(loc.problems)
    }
}

fn check_weight(loc: &mut Locator, w: &Spanned<f64>, what: &str) {
    let v = *w.get_ref();
    if !v.is_finite() || v < 0.0 {
        loc.at(
            w.span().start,
            format!("{what} must be zero or more, not {v}"),
        );
    }
}

fn check_terms(
    loc: &mut Locator,
    what: &str,
    terms: &[Spanned<TermSpec>],
    exclude: &[Spanned<String>],
    remove: &[Spanned<String>],
) {
    let mut seen = BTreeSet::new();
    for t in terms {
        let spec = t.get_ref();
        let at = t.span().start;
        if let Some(any) = &spec.any {
            if any.is_empty() {
                loc.at(at, format!("{what}: `any` needs at least one term"));
                continue;
            }
            if spec.near.is_some() {
                loc.at(at, format!("{what}: `any` terms cannot have `near`"));
            }
            let mut bad = false;
            for alt in any {
                match parse_pattern(alt) {
                    Err(msg) => {
                        loc.at(at, format!("{what}: `any` term {alt:?}: {msg}"));
                        bad = true;
                    }
                    Ok(Pattern::Regex(_)) => {
                        loc.at(
                            at,
                            format!(
                                "{what}: `any` term {alt:?}: `any` takes words, not `re:` patterns"
                            ),
                        );
                        bad = true;
                    }
                    Ok(_) => {}
                }
            }
            if bad {
                continue;
            }
        } else if let Err(msg) = parse_pattern(&spec.term) {
            loc.at(at, format!("{what}: term {:?}: {msg}", spec.term));
            continue;
        }
        if let Some(w) = spec.weight
            && (!w.is_finite() || w < 0.0)
        {
            loc.at(
                at,
                format!(
                    "{what}: term {:?}: weight must be zero or more, not {w}",
                    spec.term
                ),
            );
        }
        match (&spec.near, spec.within) {
            (Some(others), within) => {
                if others.is_empty() {
                    loc.at(
                        at,
                        format!(
                            "{what}: term {:?}: `near` needs at least one term",
                            spec.term
                        ),
                    );
                }
                for other in others {
                    if let Err(msg) = parse_pattern(other) {
                        loc.at(
                            at,
                            format!("{what}: term {:?}: `near` {other:?}: {msg}", spec.term),
                        );
                    } else if spec.term.starts_with("re:") || other.starts_with("re:") {
                        loc.at(
                            at,
                            format!(
                                "{what}: term {:?}: `near` pairs take words, not `re:` patterns",
                                spec.term
                            ),
                        );
                    }
                }
                if let Some(n) = within
                    && !(1..=50).contains(&n)
                {
                    loc.at(
                        at,
                        format!(
                            "{what}: term {:?}: `within` must be 1-50 words, not {n}",
                            spec.term
                        ),
                    );
                }
            }
            (None, Some(_)) => loc.at(
                at,
                format!("{what}: term {:?}: `within` needs `near`", spec.term),
            ),
            (None, None) => {}
        }
        let key = to_term(spec).key();
        if !seen.insert(key) {
            loc.at(at, format!("{what}: duplicate term {:?}", spec.term));
        }
    }
    let mut seen_ex = BTreeSet::new();
    for e in exclude {
        match parse_pattern(e.get_ref()) {
            Err(msg) => loc.at(
                e.span().start,
                format!("{what}: exclude {:?}: {msg}", e.get_ref()),
            ),
            Ok(Pattern::Regex(_)) => {
                loc.at(
                    e.span().start,
                    format!(
                        "{what}: exclude {:?}: exclusions are phrases, not `re:` patterns",
                        e.get_ref()
                    ),
                );
            }
            Ok(_) => {
                if !seen_ex.insert(term_key(e.get_ref())) {
                    loc.at(
                        e.span().start,
                        format!("{what}: duplicate exclude {:?}", e.get_ref()),
                    );
                }
            }
        }
    }
    for r in remove {
        if r.get_ref().trim().is_empty() {
            loc.at(r.span().start, format!("{what}: empty `remove` entry"));
        }
    }
}

fn to_term(spec: &TermSpec) -> Term {
    Term {
        text: spec.term.trim().to_string(),
        weight: spec.weight.unwrap_or(1.0),
        near: spec.near.as_ref().map(|o| {
            (
                o.iter().map(|x| x.trim().to_string()).collect(),
                spec.within.unwrap_or(5).clamp(1, 50) as u32,
            )
        }),
        label: spec.label.clone(),
        any: spec
            .any
            .as_ref()
            .map(|a| a.iter().map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
    }
}

#[derive(Default)]
struct LevelDraft {
    name: Option<String>,
    short: Option<String>,
    weight: Option<f64>,
    min_activities: Option<u32>,
    description: Option<String>,
    example: Option<String>,
    recommendation: Option<String>,
    terms: Vec<Term>,
    exclude: Vec<String>,
}

#[derive(Default)]
struct CategoryDraft {
    name: Option<String>,
    description: Option<String>,
    terms: Vec<Term>,
    exclude: Vec<String>,
}

#[derive(Default)]
struct Builder {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    sources: Vec<String>,
    assessment: AssessmentConfig,
    levels: BTreeMap<u8, LevelDraft>,
    response: CategoryDraft,
    other: CategoryDraft,
    tags: Vec<(String, CategoryDraft)>,
    examples: Vec<(Example, String)>,
    base: Option<(String, usize)>,
}

impl Builder {
    fn apply(&mut self, raw: RawFile, loc: &mut Locator, first: bool) {
        if first {
            self.base = Some((loc.file.to_string(), 0));
        }
        set(&mut self.name, raw.name);
        set(&mut self.version, raw.version);
        set(&mut self.description, raw.description);
        if let Some(a) = raw.assessment {
            if let Some(l) = a.upstream_levels {
                self.assessment.upstream_levels =
                    l.into_inner().into_iter().map(|n| n as u8).collect();
            }
            if let Some(s) = a.upstream_target_share {
                self.assessment.upstream_target_share = s.into_inner();
            }
            if let Some(s) = a.review_below_confidence {
                self.assessment.review_below_confidence = s.into_inner();
            }
        }
        for level in raw.level {
            let n = *level.number.get_ref() as u8;
            let at = level.number.span().start;
            let existed = self.levels.contains_key(&n);
            let draft = self.levels.entry(n).or_default();
            if !first && !existed {
                loc.at(
                    at,
                    format!("level {n} is not in the rules this file layers over"),
                );
            }
            set(&mut draft.name, level.name);
            set(&mut draft.short, level.short);
            set(&mut draft.weight, level.weight.map(Spanned::into_inner));
            set(
                &mut draft.min_activities,
                level.min_activities.map(|m| m.into_inner() as u32),
            );
            set(&mut draft.description, level.description);
            set(&mut draft.example, level.example);
            set(&mut draft.recommendation, level.recommendation);
            merge_terms(
                loc,
                &format!("level {n}"),
                &mut draft.terms,
                &mut draft.exclude,
                level.terms,
                level.exclude,
                level.remove,
            );
        }
        if let Some(r) = raw.response {
            set(&mut self.response.name, r.name);
            set(&mut self.response.description, r.description);
            merge_terms(
                loc,
                "response",
                &mut self.response.terms,
                &mut self.response.exclude,
                r.terms,
                r.exclude,
                r.remove,
            );
        }
        if let Some(r) = raw.other {
            set(&mut self.other.name, r.name);
            set(&mut self.other.description, r.description);
            merge_terms(
                loc,
                "other",
                &mut self.other.terms,
                &mut self.other.exclude,
                r.terms,
                r.exclude,
                r.remove,
            );
        }
        for tag in raw.tag {
            let id = tag.id.get_ref().clone();
            let pos = match self.tags.iter().position(|(t, _)| *t == id) {
                Some(p) => p,
                None => {
                    self.tags.push((id.clone(), CategoryDraft::default()));
                    self.tags.len() - 1
                }
            };
            let draft = &mut self.tags[pos].1;
            set(&mut draft.name, tag.name);
            set(&mut draft.description, tag.description);
            merge_terms(
                loc,
                &format!("tag `{id}`"),
                &mut draft.terms,
                &mut draft.exclude,
                tag.terms,
                tag.exclude,
                tag.remove,
            );
        }
        for ex in raw.example {
            let at = ex.span().start;
            let before = &loc.text[..floor_char_boundary(loc.text, at)];
            let location = format!(
                "{}:{}",
                loc.file,
                memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1
            );
            let e = ex.into_inner();
            let expect = match e.level {
                Some(ExampleLevel::Number(n)) => Some(Expect::Level(n as u8)),
                Some(ExampleLevel::Word(w)) if w == "response" => Some(Expect::Response),
                Some(ExampleLevel::Word(_)) => Some(Expect::None),
                None => None,
            };
            let example = Example {
                text: e.text,
                expect,
                not: e.not.into_iter().map(|n| n as u8).collect(),
                tags: e.tags,
                location: location.clone(),
            };
            self.examples.push((example, location));
        }
    }

    fn finish(self) -> Result<RuleSet, RulesError> {
        let (base_file, _) = self.base.clone().unwrap_or_default();
        let mut problems = Vec::new();
        let mut problem = |message: String| {
            problems.push(Problem {
                file: base_file.clone(),
                line: 1,
                column: 1,
                message,
            });
        };
        let mut levels = Vec::new();
        for n in 1..=6u8 {
            let Some(d) = self.levels.get(&n) else {
                problem(format!(
                    "level {n} is missing (a rule set needs all six levels)"
                ));
                continue;
            };
            let mut req = |field: &str, v: &Option<String>| match v {
                Some(s) if !s.trim().is_empty() => s.clone(),
                _ => {
                    problem(format!("level {n}: missing `{field}`"));
                    String::new()
                }
            };
            let name = req("name", &d.name);
            let short = req("short", &d.short);
            let description = req("description", &d.description);
            let example = req("example", &d.example);
            let recommendation = req("recommendation", &d.recommendation);
            levels.push(Level {
                number: n,
                name,
                short,
                weight: d.weight.unwrap_or(DEFAULT_WEIGHTS[usize::from(n) - 1]),
                min_activities: d.min_activities.unwrap_or(1),
                description,
                example,
                recommendation,
                terms: d.terms.clone(),
                exclude: d.exclude.clone(),
            });
        }
        let tag_ids: BTreeSet<&str> = self.tags.iter().map(|(id, _)| id.as_str()).collect();
        for (ex, location) in &self.examples {
            for t in ex.tags.iter().flatten() {
                if !tag_ids.contains(t.as_str()) {
                    problems.push(Problem {
                        file: location
                            .rsplit_once(':')
                            .map_or(location.clone(), |(f, _)| f.to_string()),
                        line: location
                            .rsplit_once(':')
                            .and_then(|(_, l)| l.parse().ok())
                            .unwrap_or(1),
                        column: 1,
                        message: format!("example names unknown tag `{t}`"),
                    });
                }
            }
        }
        if levels.iter().map(|l| l.weight).sum::<f64>() <= 0.0 && levels.len() == 6 {
            problems.push(Problem {
                file: base_file.clone(),
                line: 1,
                column: 1,
                message: "level weights add up to zero; at least one level needs a weight".into(),
            });
        }
        if !problems.is_empty() {
            return Err(RulesError { problems });
        }
        Ok(RuleSet {
            name: self.name.unwrap_or_else(|| "unnamed rules".into()),
            version: self.version.unwrap_or_else(|| "0".into()),
            description: self.description.unwrap_or_default(),
            sources: self.sources,
            assessment: self.assessment,
            levels,
            response: Category {
                name: self
                    .response
                    .name
                    .unwrap_or_else(|| "After-harm response".into()),
                description: self.response.description.unwrap_or_default(),
                terms: self.response.terms,
                exclude: self.response.exclude,
            },
            other: Category {
                name: self
                    .other
                    .name
                    .unwrap_or_else(|| "Neither prevention nor response".into()),
                description: self.other.description.unwrap_or_default(),
                terms: self.other.terms,
                exclude: self.other.exclude,
            },
            tags: self
                .tags
                .into_iter()
                .map(|(id, d)| Tag {
                    name: d.name.unwrap_or_else(|| id.clone()),
                    id,
                    description: d.description.unwrap_or_default(),
                    terms: d.terms,
                    exclude: d.exclude,
                })
                .collect(),
            examples: self.examples.into_iter().map(|(e, _)| e).collect(),
        })
    }
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

fn merge_terms(
    loc: &mut Locator,
    what: &str,
    terms: &mut Vec<Term>,
    exclude: &mut Vec<String>,
    new_terms: Vec<Spanned<TermSpec>>,
    new_exclude: Vec<Spanned<String>>,
    remove: Vec<Spanned<String>>,
) {
    for r in remove {
        let key = term_key(r.get_ref());
        let before = terms.len();
        terms.retain(|t| t.key() != key && term_key(&t.text) != key);
        if terms.len() == before {
            loc.at(
                r.span().start,
                format!("{what}: cannot remove {:?}: no such term", r.get_ref()),
            );
        }
    }
    // Index the existing terms once: merging stays linear for large files.
    let mut index: std::collections::HashMap<String, usize> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.key(), i))
        .collect();
    for t in new_terms {
        let term = to_term(t.get_ref());
        let key = term.key();
        match index.get(&key) {
            // A later file naming an existing term overrides its weight.
            Some(&i) => terms[i].weight = term.weight,
            None => {
                index.insert(key, terms.len());
                terms.push(term);
            }
        }
    }
    let mut excluded: BTreeSet<String> = exclude.iter().map(|x| term_key(x)).collect();
    for e in new_exclude {
        if excluded.insert(term_key(e.get_ref())) {
            exclude.push(e.into_inner());
        }
    }
}

// ---------------------------------------------------------------------------
// Printing the effective rules (`rules show`).

#[derive(Serialize)]
struct ShowFile<'a> {
    format: i64,
    name: &'a str,
    version: &'a str,
    description: &'a str,
    assessment: ShowAssessment<'a>,
    level: Vec<ShowLevel<'a>>,
    response: ShowCategory<'a>,
    other: ShowCategory<'a>,
    tag: Vec<ShowTag<'a>>,
    example: Vec<ShowExample<'a>>,
}

#[derive(Serialize)]
struct ShowAssessment<'a> {
    upstream_levels: &'a [u8],
    upstream_target_share: f64,
    review_below_confidence: f64,
}

#[derive(Serialize)]
struct ShowLevel<'a> {
    number: u8,
    name: &'a str,
    short: &'a str,
    weight: f64,
    min_activities: u32,
    description: &'a str,
    example: &'a str,
    recommendation: &'a str,
    terms: Vec<ShowTerm<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exclude: &'a [String],
}

#[derive(Serialize)]
struct ShowCategory<'a> {
    name: &'a str,
    description: &'a str,
    terms: Vec<ShowTerm<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exclude: &'a [String],
}

#[derive(Serialize)]
struct ShowTag<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    terms: Vec<ShowTerm<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exclude: &'a [String],
}

#[derive(Serialize)]
#[serde(untagged)]
enum ShowTerm<'a> {
    Plain(&'a str),
    Table {
        #[serde(skip_serializing_if = "Option::is_none")]
        term: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        any: Option<&'a [String]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        weight: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        near: Option<NearShow<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        within: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<&'a str>,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum NearShow<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(Serialize)]
struct ShowExample<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<ShowExpect>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    not: &'a [u8],
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [String]>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ShowExpect {
    Level(u8),
    Word(&'static str),
}

fn show_terms(terms: &[Term]) -> Vec<ShowTerm<'_>> {
    terms
        .iter()
        .map(|t| match (&t.near, t.weight) {
            (None, 1.0) if t.label.is_none() && t.any.is_empty() => ShowTerm::Plain(&t.text),
            (near, w) => ShowTerm::Table {
                term: t.any.is_empty().then_some(t.text.as_str()),
                any: (!t.any.is_empty()).then_some(t.any.as_slice()),
                weight: (w != 1.0).then_some(w),
                near: near.as_ref().map(|(o, _)| {
                    if o.len() == 1 {
                        NearShow::One(&o[0])
                    } else {
                        NearShow::Many(o)
                    }
                }),
                within: near.as_ref().map(|(_, n)| *n),
                label: t.label.as_deref(),
            },
        })
        .collect()
}

impl RuleSet {
    /// The effective rules as a TOML rule file that loads back to the same set.
    pub fn to_toml(&self) -> String {
        let show = ShowFile {
            format: FORMAT_VERSION,
            name: &self.name,
            version: &self.version,
            description: &self.description,
            assessment: ShowAssessment {
                upstream_levels: &self.assessment.upstream_levels,
                upstream_target_share: self.assessment.upstream_target_share,
                review_below_confidence: self.assessment.review_below_confidence,
            },
            level: self
                .levels
                .iter()
                .map(|l| ShowLevel {
                    number: l.number,
                    name: &l.name,
                    short: &l.short,
                    weight: l.weight,
                    min_activities: l.min_activities,
                    description: &l.description,
                    example: &l.example,
                    recommendation: &l.recommendation,
                    terms: show_terms(&l.terms),
                    exclude: &l.exclude,
                })
                .collect(),
            response: ShowCategory {
                name: &self.response.name,
                description: &self.response.description,
                terms: show_terms(&self.response.terms),
                exclude: &self.response.exclude,
            },
            other: ShowCategory {
                name: &self.other.name,
                description: &self.other.description,
                terms: show_terms(&self.other.terms),
                exclude: &self.other.exclude,
            },
            tag: self
                .tags
                .iter()
                .map(|t| ShowTag {
                    id: &t.id,
                    name: &t.name,
                    description: &t.description,
                    terms: show_terms(&t.terms),
                    exclude: &t.exclude,
                })
                .collect(),
            example: self
                .examples
                .iter()
                .map(|e| ShowExample {
                    text: &e.text,
                    level: e.expect.map(|x| match x {
                        Expect::Level(n) => ShowExpect::Level(n),
                        Expect::Response => ShowExpect::Word("response"),
                        Expect::None => ShowExpect::Word("none"),
                    }),
                    not: &e.not,
                    tags: e.tags.as_deref(),
                })
                .collect(),
        };
        let body = toml::to_string_pretty(&show)
            .unwrap_or_else(|e| format!("# cannot print rules: {e}\n"));
        format!(
            "# Effective rules: {} {} ({})\n{body}",
            self.name,
            self.version,
            self.sources.join(" + ")
        )
    }

    /// `name version (sources)`, for provenance lines in every output.
    pub fn provenance(&self) -> String {
        format!(
            "{} {} ({})",
            self.name,
            self.version,
            self.sources.join(" + ")
        )
    }

    pub fn level(&self, n: u8) -> &Level {
        &self.levels[usize::from(n.clamp(1, 6)) - 1]
    }

    /// Number of terms across levels, response and tags.
    pub fn term_count(&self) -> usize {
        self.levels.iter().map(|l| l.terms.len()).sum::<usize>()
            + self.response.terms.len()
            + self.other.terms.len()
            + self.tags.iter().map(|t| t.terms.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str, text: &str) -> RuleSource {
        RuleSource {
            name: name.into(),
            text: text.into(),
        }
    }

    fn minimal() -> String {
        let mut s = String::from("format = 1\nname = \"t\"\nversion = \"1\"\n");
        for n in 1..=6 {
            s.push_str(&format!(
                "[[level]]\nnumber = {n}\nname = \"L{n}\"\nshort = \"s{n}\"\ndescription = \"d\"\nexample = \"e\"\nrecommendation = \"r\"\nterms = [\"word{n}\"]\n"
            ));
        }
        s
    }

    fn errors(text: &str) -> Vec<String> {
        load(&[src("r.toml", text)])
            .unwrap_err()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn builtin_rules_load() {
        let rules = builtin().expect("built-in rules are valid");
        assert_eq!(rules.levels.len(), 6);
        assert_eq!(rules.sources, vec!["built-in"]);
        let weights: Vec<f64> = rules.levels.iter().map(|l| l.weight).collect();
        assert_eq!(weights, DEFAULT_WEIGHTS);
        assert!(rules.examples.len() >= 60);
        for n in 1..=6 {
            let count = rules
                .examples
                .iter()
                .filter(|e| e.expect == Some(Expect::Level(n)))
                .count();
            assert!(count >= 8, "level {n} has only {count} examples");
        }
        for id in ["demand", "vulnerability", "profit"] {
            assert!(rules.tags.iter().any(|t| t.id == id), "missing tag {id}");
        }
    }

    #[test]
    fn builtin_identity_matches_the_parsed_rules() {
        let rules = builtin().unwrap();
        assert_eq!(builtin_identity(), (rules.name, rules.version));
    }

    #[test]
    fn minimal_standalone_file_loads_with_default_weights() {
        let rules = load(&[src("r.toml", &minimal())]).unwrap();
        assert_eq!(rules.levels[5].weight, 3.0);
        assert_eq!(rules.levels[0].min_activities, 1);
        assert_eq!(rules.sources, vec!["r.toml"]);
    }

    #[test]
    fn unknown_key_is_located() {
        let text = minimal().replace("short = \"s3\"", "short = \"s3\"\ncolour = \"red\"");
        let errs = errors(&text);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("r.toml:"), "{errs:?}");
        assert!(errs[0].contains("colour"), "{errs:?}");
    }

    #[test]
    fn unparsable_file_is_located() {
        let errs = errors("format = 1\nname = \"x\nversion = 2\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("r.toml:2:"), "{errs:?}");
    }

    #[test]
    fn all_problems_reported_at_once() {
        let text = minimal()
            .replace("number = 2", "number = 7")
            .replace(
                "terms = [\"word4\"]",
                "terms = [\"word4\", \"\", \"Word4\", { term = \"x\", weight = -1 }]",
            )
            .replace("number = 5\n", "number = 5\nweight = -2\n");
        let errs = errors(&text);
        let joined = errs.join("\n");
        assert!(joined.contains("level 7 is outside 1-6"), "{joined}");
        assert!(
            joined.contains("level 4: term \"\": empty term"),
            "{joined}"
        );
        assert!(
            joined.contains("level 4: duplicate term \"Word4\""),
            "{joined}"
        );
        assert!(
            joined.contains("weight must be zero or more, not -1"),
            "{joined}"
        );
        assert!(
            joined.contains("level 5 weight must be zero or more, not -2"),
            "{joined}"
        );
        assert_eq!(errs.len(), 5, "{joined}");
    }

    #[test]
    fn duplicate_and_missing_levels() {
        let text = minimal().replace("number = 3", "number = 2");
        let errs = errors(&text).join("\n");
        assert!(errs.contains("level 2 is defined twice"), "{errs}");
        let errs = load(&[src(
            "r.toml",
            &minimal()
                .replace("number = 3", "number = 2")
                .replace("[[level]]\nnumber = 2\nname = \"L3\"", "[[levelx]]"),
        )]);
        assert!(errs.is_err());
        let text: String = minimal()
            .split("[[level]]")
            .take(6)
            .collect::<Vec<_>>()
            .join("[[level]]");
        let errs = errors(&text).join("\n");
        assert!(errs.contains("level 6 is missing"), "{errs}");
    }

    #[test]
    fn missing_format_and_bad_extends() {
        let errs = errors(&minimal().replace("format = 1\n", "")).join("\n");
        assert!(errs.contains("r.toml:1:1: missing `format = 1`"), "{errs}");
        let errs = errors(&minimal().replace("format = 1\n", "format = 2\n")).join("\n");
        assert!(errs.contains("unsupported format 2"), "{errs}");
        let errs = errors(&format!("extends = \"other\"\n{}", minimal())).join("\n");
        assert!(errs.contains("`extends` can only be"), "{errs}");
    }

    #[test]
    fn bad_wildcards_and_regexes_are_named() {
        let text = minimal().replace("[\"word1\"]", "[\"le*gis\", \"*\", \"re:(unclosed\"]");
        let errs = errors(&text).join("\n");
        assert!(
            errs.contains("term \"le*gis\": `*` is only allowed at the end"),
            "{errs}"
        );
        assert!(
            errs.contains("term \"*\": a wildcard needs at least one letter"),
            "{errs}"
        );
        assert!(
            errs.contains("term \"re:(unclosed\": invalid regular expression"),
            "{errs}"
        );
    }

    #[test]
    fn missing_level_text_is_reported() {
        let text = minimal().replace(
            "recommendation = \"r\"\nterms = [\"word2\"]",
            "terms = [\"word2\"]",
        );
        let errs = errors(&text).join("\n");
        assert!(errs.contains("level 2: missing `recommendation`"), "{errs}");
    }

    #[test]
    fn layering_adds_overrides_and_removes() {
        let overlay = "format = 1\nversion = \"2\"\n[[level]]\nnumber = 1\nweight = 4\nterms = [\"extra\", { term = \"word1\", weight = 3 }]\nremove = []\n[[level]]\nnumber = 2\nremove = [\"word2\"]\n";
        let rules = load(&[src("base.toml", &minimal()), src("over.toml", overlay)]).unwrap();
        assert_eq!(rules.version, "2");
        assert_eq!(rules.name, "t");
        assert_eq!(rules.levels[0].weight, 4.0);
        let l1: Vec<(&str, f64)> = rules.levels[0]
            .terms
            .iter()
            .map(|t| (t.text.as_str(), t.weight))
            .collect();
        assert_eq!(l1, vec![("word1", 3.0), ("extra", 1.0)]);
        assert!(rules.levels[1].terms.is_empty());
        assert_eq!(rules.sources, vec!["base.toml", "over.toml"]);
    }

    #[test]
    fn removing_unknown_term_is_an_error() {
        let overlay = "format = 1\n[[level]]\nnumber = 2\nremove = [\"nothing here\"]\n";
        let err = load(&[src("base.toml", &minimal()), src("over.toml", overlay)]).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].file, "over.toml");
        assert!(
            err.problems[0]
                .message
                .contains("cannot remove \"nothing here\"")
        );
    }

    #[test]
    fn extends_builtin_layers_over_builtin() {
        let overlay = "format = 1\nextends = \"built-in\"\n[[level]]\nnumber = 6\nterms = [\"zoning variance\"]\n";
        let rules = load(&[src("local.toml", overlay)]).unwrap();
        assert_eq!(rules.sources, vec!["built-in", "local.toml"]);
        assert!(
            rules.levels[5]
                .terms
                .iter()
                .any(|t| t.text == "zoning variance")
        );
        assert_eq!(rules.name, builtin().unwrap().name);
    }

    #[test]
    fn show_round_trips() {
        let rules = builtin().unwrap();
        let text = rules.to_toml();
        let again = load(&[src("shown.toml", &text)]).unwrap();
        assert_eq!(again.levels, rules.levels);
        assert_eq!(again.response, rules.response);
        assert_eq!(again.other, rules.other);
        assert_eq!(again.tags, rules.tags);
        assert_eq!(again.examples.len(), rules.examples.len());
        assert_eq!(again.assessment, rules.assessment);
    }

    #[test]
    fn builtin_file_is_canonical() {
        // No duplicate terms across the whole built-in file within one level,
        // and every term parses.
        let rules = builtin().unwrap();
        for l in &rules.levels {
            for t in &l.terms {
                parse_pattern(&t.text).unwrap();
            }
        }
    }

    #[test]
    fn pattern_parsing() {
        assert_eq!(
            parse_pattern("Legislat*"),
            Ok(Pattern::Phrase {
                text: "legislat".into(),
                prefix: true
            })
        );
        assert_eq!(
            parse_pattern("task-force"),
            Ok(Pattern::Phrase {
                text: "task force".into(),
                prefix: false
            })
        );
        assert!(parse_pattern("re:\\bab+").is_ok());
        assert!(parse_pattern("!!").is_err());
    }
}
