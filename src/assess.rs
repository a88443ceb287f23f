//! Assessment: classified activities → coverage, gaps, score, priorities.
//!
//! Pure aggregation. A [`Tally`] is fed one outcome at a time (so inputs are
//! streamed) and keeps only counts, sums and the rows that need review;
//! [`build`] turns tallies into the one [`Assessment`] model every output
//! format renders.
//!
//! The formula, stated in every report:
//! - level credit = min(1, activities ÷ min_activities);
//! - Spectrum score = 100 × Σ(weight × credit) ÷ Σ weight;
//! - gap points = weight × (1 − credit); priorities rank gaps by gap points;
//! - upstream share = share of prevention activities at the upstream levels.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::activity::{Accounting, Activity, Label, Outcome, Source};
use crate::classify::Category;
use crate::rules::RuleSet;

/// The JSON schema version of [`Assessment`].
pub const SCHEMA_VERSION: u32 = 1;

/// The one-line formula every report states.
pub fn formula(rules: &RuleSet) -> String {
    let weights: Vec<String> = rules.levels.iter().map(|l| fmt_num(l.weight)).collect();
    let mins: Vec<String> = rules
        .levels
        .iter()
        .map(|l| l.min_activities.to_string())
        .collect();
    format!(
        "Spectrum score = 100 × Σ(weight × credit) ÷ Σ weight, where credit = min(1, activities ÷ min_activities); weights for levels 1-6: {}; min_activities: {}",
        weights.join(", "),
        mins.join(", ")
    )
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round(part / whole, 4)
    } else {
        0.0
    }
}

/// Parses a weight cell: `$12,500`, `12500.00`, `1 200`, `€1.200,50`.
/// Blank is `Ok(None)`; text, negative or non-finite values are errors.
pub fn parse_amount(cell: &str) -> Result<Option<f64>, String> {
    let t = cell.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match plain_amount(t) {
        Some(v) => Ok(Some(v)),
        None => general_amount(t),
    }
}

/// [`parse_amount`] for any non-blank trimmed cell.
fn general_amount(t: &str) -> Result<Option<f64>, String> {
    if t.starts_with('(') && t.ends_with(')') || t.starts_with('-') || t.contains("-$") {
        return Err(format!("{t:?} is negative; weights must be zero or more"));
    }
    let mut s: String = t
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '$' | '€' | '£' | '¥' | '\u{a0}' | '\u{202f}' | '\'')
        })
        .collect();
    for code in ["USD", "EUR", "GBP", "CAD", "usd", "eur"] {
        s = s.replace(code, "");
    }
    let s = s.trim_start_matches('+');
    let european = {
        let (int, frac) = s.split_once(',').unwrap_or((s, ""));
        s.contains('.')
            && int.split('.').skip(1).all(|g| g.len() == 3)
            && frac.chars().all(|c| c.is_ascii_digit())
            && s.find(',') > s.rfind('.')
    };
    let normalized = if european {
        s.replace('.', "").replace(',', ".")
    } else {
        s.replace(',', "")
    };
    if normalized.is_empty() || !normalized.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("{t:?} is not a number"));
    }
    match normalized.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{t:?} is not a number")),
    }
}

/// The common case of [`parse_amount`] without allocating: digits with
/// optional thousands commas and decimal point, after an optional `$`
/// (`1250`, `$80,020`, `3,500.75`). `None` sends anything else, and any
/// input this reads differently, to the general parser.
fn plain_amount(t: &str) -> Option<f64> {
    let digits = t.strip_prefix('$').unwrap_or(t).as_bytes();
    let mut buf = [0u8; 40];
    let mut len = 0;
    let mut point = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {}
            b',' if !point => continue,
            b'.' if !point => point = true,
            _ => return None,
        }
        *buf.get_mut(len)? = b;
        len += 1;
    }
    let v: f64 = std::str::from_utf8(&buf[..len]).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Why a row needs a person's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Unclassified,
    LowConfidence,
    Disagreement,
}

pub use crate::review::{ReviewItem, ReviewList};

/// Streaming accumulator for one portfolio (or one group of it).
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub accounting: Accounting,
    pub levels: [u64; 6],
    pub weighted: [f64; 6],
    pub weighted_response: f64,
    pub weighted_unclassified: f64,
    pub weight_missing: u64,
    pub tags: Vec<u64>,
    pub unclassified: ReviewList,
    pub low_confidence: ReviewList,
    pub disagreements: ReviewList,
}

impl Tally {
    pub fn new(tag_count: usize) -> Self {
        Tally {
            tags: vec![0; tag_count],
            ..Default::default()
        }
    }

    /// Counts one outcome; `weight` is the parsed `--weight` cell (None = blank).
    pub fn add(&mut self, outcome: &Outcome, weight: Option<f64>, with_weight: bool) {
        self.add_placed(
            outcome.category,
            outcome.level,
            &outcome.classification.tags,
            weight,
            with_weight,
        );
    }

    /// Counts one placement: its category, level and tags (the parts of an
    /// [`Outcome`] the counts use).
    pub fn add_placed(
        &mut self,
        category: Category,
        level: Option<u8>,
        tags: &[usize],
        weight: Option<f64>,
        with_weight: bool,
    ) {
        self.accounting.add(category);
        let w = weight.unwrap_or(0.0);
        if with_weight && weight.is_none() {
            self.weight_missing += 1;
        }
        match (category, level) {
            (Category::Prevention, Some(n)) => {
                let i = usize::from(n) - 1;
                self.levels[i] += 1;
                self.weighted[i] += w;
                for t in tags {
                    if let Some(c) = self.tags.get_mut(*t) {
                        *c += 1;
                    }
                }
            }
            (Category::Response, _) => self.weighted_response += w,
            _ => self.weighted_unclassified += w,
        }
    }

    /// Adds a review item (built with [`review_item`]) to its list.
    pub fn push_review(&mut self, list: ReviewReason, item: ReviewItem) {
        self.review_list(list).push(item);
    }

    /// Counts a row for a review list without its item, for a list already
    /// holding all the items the report shows (see [`Tally::keep_review`]).
    pub fn count_review(&mut self, list: ReviewReason) {
        self.review_list(list).count();
    }

    /// Keeps at most `limit` items per review list (the rest are counted):
    /// for reports that show only the first rows of each list.
    pub fn keep_review(&mut self, limit: usize) {
        for list in ReviewReason::ALL {
            self.review_list(list).keep(limit);
        }
    }

    /// Rows listed so far in one review list.
    pub fn review_len(&self, list: ReviewReason) -> usize {
        match list {
            ReviewReason::Disagreement => self.disagreements.len(),
            ReviewReason::Unclassified => self.unclassified.len(),
            ReviewReason::LowConfidence => self.low_confidence.len(),
        }
    }

    fn review_list(&mut self, list: ReviewReason) -> &mut ReviewList {
        match list {
            ReviewReason::Disagreement => &mut self.disagreements,
            ReviewReason::Unclassified => &mut self.unclassified,
            ReviewReason::LowConfidence => &mut self.low_confidence,
        }
    }

    pub fn prevention(&self) -> u64 {
        self.levels.iter().sum()
    }
}

/// Which review list a row goes to (`as usize` numbers them from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewReason {
    Disagreement = 0,
    Unclassified = 1,
    LowConfidence = 2,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 3] = [
        ReviewReason::Disagreement,
        ReviewReason::Unclassified,
        ReviewReason::LowConfidence,
    ];
}

/// Why one row needs a person's look: the lists it goes to, none for most
/// rows (a row with a manual level the rules disagree with can also be
/// unclassified or uncertain by the rules), in this order.
pub fn review_reasons(outcome: &Outcome, threshold: f64) -> [Option<ReviewReason>; 2] {
    let disagrees = outcome
        .rules_said
        .is_some()
        .then_some(ReviewReason::Disagreement);
    let by_rules = if outcome.source != Source::Rules {
        None
    } else if outcome.category == Category::Unclassified {
        Some(ReviewReason::Unclassified)
    } else {
        (outcome.classification.confidence < threshold).then_some(ReviewReason::LowConfidence)
    };
    [disagrees, by_rules]
}

/// The review-list item for one row and one of its [`review_reasons`].
pub fn review_item(
    reason: ReviewReason,
    input: &str,
    activity: &Activity,
    outcome: &Outcome,
) -> ReviewItem {
    let c = &outcome.classification;
    let detail = match reason {
        ReviewReason::Disagreement => format!(
            "manual {}, rules say {}",
            outcome.label().display(),
            outcome.rules_said.map_or_else(String::new, Label::display)
        ),
        ReviewReason::Unclassified => c.reason.unwrap_or("no rule terms matched").to_string(),
        ReviewReason::LowConfidence => {
            let also = if c.also.is_empty() {
                String::new()
            } else {
                format!(
                    "; also level {}",
                    c.also
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            format!("confidence {:.2}{also}", c.confidence)
        }
    };
    ReviewItem {
        input: input.to_string(),
        row: activity.row,
        id: activity.id.clone(),
        text: activity.text.clone(),
        placed: outcome.label().display(),
        detail,
    }
}

/// Coverage status of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Gap,
    Thin,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Gap => "gap",
            Status::Thin => "thin",
            Status::Ok => "ok",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelRow {
    pub level: u8,
    pub name: String,
    pub short: String,
    pub weight: f64,
    pub min_activities: u32,
    pub activities: u64,
    /// Share of prevention activities (0-1).
    pub share: f64,
    pub weighted_total: Option<f64>,
    pub weighted_share: Option<f64>,
    pub credit: f64,
    pub status: Status,
    pub gap_points: f64,
    pub upstream: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upstream {
    pub levels: Vec<u8>,
    pub activities: u64,
    pub share: f64,
    pub target: f64,
    pub met: bool,
    pub weighted_share: Option<f64>,
    /// Upstream activities to add (with none removed) to reach the target.
    pub activities_to_target: u64,
}

impl Upstream {
    /// The upstream levels as people write them: `5–6`.
    pub fn levels_text(&self) -> String {
        self.levels
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join("–")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    pub rank: usize,
    /// `gap`, `thin` or `upstream`.
    pub kind: String,
    pub level: Option<u8>,
    pub title: String,
    pub gap_points: f64,
    pub detail: String,
    pub description: String,
    pub example: String,
    pub recommendation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Split {
    pub prevention: u64,
    pub response: u64,
    pub unclassified: u64,
    pub prevention_share: f64,
    pub response_share: f64,
    pub unclassified_share: f64,
    pub weighted: Option<WeightedSplit>,
}

impl Split {
    /// The three categories as table rows: label, count, share, weighted share.
    pub fn rows(&self) -> [(&'static str, u64, f64, Option<f64>); 3] {
        let w = self.weighted.as_ref();
        [
            (
                "Primary prevention (levels 1–6)",
                self.prevention,
                self.prevention_share,
                w.map(|w| w.prevention_share),
            ),
            (
                "After-harm response",
                self.response,
                self.response_share,
                w.map(|w| w.response_share),
            ),
            (
                "Unclassified (no evidence)",
                self.unclassified,
                self.unclassified_share,
                w.map(|w| w.unclassified_share),
            ),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedSplit {
    pub prevention: f64,
    pub response: f64,
    pub unclassified: f64,
    pub prevention_share: f64,
    pub response_share: f64,
    pub unclassified_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aim {
    pub id: String,
    pub name: String,
    pub description: String,
    pub activities: u64,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub unclassified: ReviewList,
    pub low_confidence: ReviewList,
    pub disagreements: ReviewList,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    pub name: String,
    #[serde(flatten)]
    pub accounting: Accounting,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesInfo {
    pub name: String,
    pub version: String,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightInfo {
    pub column: String,
    pub total: f64,
    pub prevention_total: f64,
    /// Rows whose weight cell was blank (counted as 0).
    pub missing: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub name: String,
    #[serde(flatten)]
    pub accounting: Accounting,
    pub counts: [u64; 6],
    pub statuses: [Status; 6],
    pub weighted: Option<[f64; 6]>,
    pub score: f64,
    pub gaps: u8,
    pub upstream_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Groups {
    pub column: String,
    pub groups: Vec<GroupRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelChange {
    pub level: u8,
    pub short: String,
    pub before: u64,
    pub after: u64,
    pub change: i64,
    pub share_before: f64,
    pub share_after: f64,
    pub share_change: f64,
    pub status_before: Status,
    pub status_after: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub inputs: Vec<InputInfo>,
    pub score_before: f64,
    pub score_after: f64,
    pub score_change: f64,
    pub upstream_share_before: f64,
    pub upstream_share_after: f64,
    pub levels: Vec<LevelChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// The whole report: every output format renders this.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub schema_version: u32,
    pub tool: Tool,
    pub generated: String,
    pub rules: RulesInfo,
    pub inputs: Vec<InputInfo>,
    pub formula: String,
    pub accounting: Accounting,
    pub weight: Option<WeightInfo>,
    pub score: f64,
    pub levels_covered: u8,
    pub levels: Vec<LevelRow>,
    pub upstream: Upstream,
    pub priorities: Vec<Priority>,
    pub prevention_vs_response: Split,
    pub aims: Vec<Aim>,
    pub aims_missing: Vec<String>,
    pub review: Review,
    pub groups: Option<Groups>,
    pub baseline: Option<Comparison>,
}

/// Everything [`build`] needs besides the tallies.
pub struct Meta<'a> {
    pub rules: &'a RuleSet,
    pub generated: String,
    pub inputs: Vec<InputInfo>,
    pub weight_column: Option<String>,
    pub by_column: Option<String>,
}

/// Per-level credit and the score for a level count vector.
pub fn score(rules: &RuleSet, counts: &[u64; 6]) -> (f64, [f64; 6]) {
    let mut credits = [0.0; 6];
    let mut num = 0.0;
    let mut den = 0.0;
    for l in &rules.levels {
        let i = usize::from(l.number) - 1;
        credits[i] = (counts[i] as f64 / f64::from(l.min_activities.max(1))).min(1.0);
        num += l.weight * credits[i];
        den += l.weight;
    }
    (
        if den > 0.0 {
            round(100.0 * num / den, 1)
        } else {
            0.0
        },
        credits,
    )
}

fn status(count: u64, min: u32) -> Status {
    if count == 0 {
        Status::Gap
    } else if count < u64::from(min) {
        Status::Thin
    } else {
        Status::Ok
    }
}

fn upstream_count(rules: &RuleSet, counts: &[u64; 6]) -> u64 {
    rules
        .assessment
        .upstream_levels
        .iter()
        .map(|n| counts[usize::from(*n) - 1])
        .sum()
}

/// Builds the report model from the portfolio's tally, its groups and an
/// optional baseline.
pub fn build(
    meta: Meta<'_>,
    mut total: Tally,
    groups: Option<BTreeMap<String, Tally>>,
    baseline: Option<(Vec<InputInfo>, Tally)>,
) -> Assessment {
    let rules = meta.rules;
    let cfg = &rules.assessment;
    let with_weight = meta.weight_column.is_some();
    let prevention = total.prevention();
    let prevention_f = prevention as f64;
    let weighted_prevention: f64 = total.weighted.iter().sum();
    let (score_value, credits) = score(rules, &total.levels);

    let levels: Vec<LevelRow> = rules
        .levels
        .iter()
        .map(|l| {
            let i = usize::from(l.number) - 1;
            LevelRow {
                level: l.number,
                name: l.name.clone(),
                short: l.short.clone(),
                weight: l.weight,
                min_activities: l.min_activities,
                activities: total.levels[i],
                share: share(total.levels[i] as f64, prevention_f),
                weighted_total: with_weight.then(|| round(total.weighted[i], 2)),
                weighted_share: with_weight.then(|| share(total.weighted[i], weighted_prevention)),
                credit: round(credits[i], 4),
                status: status(total.levels[i], l.min_activities),
                gap_points: round(l.weight * (1.0 - credits[i]), 4),
                upstream: cfg.upstream_levels.contains(&l.number),
            }
        })
        .collect();

    let up = upstream_count(rules, &total.levels);
    let up_weighted: f64 = cfg
        .upstream_levels
        .iter()
        .map(|n| total.weighted[usize::from(*n) - 1])
        .sum();
    let up_share = share(up as f64, prevention_f);
    let target = cfg.upstream_target_share;
    let to_target = if up_share + 1e-9 >= target || target >= 1.0 {
        0
    } else {
        ((target * prevention_f - up as f64) / (1.0 - target))
            .ceil()
            .max(1.0) as u64
    };
    let upstream = Upstream {
        levels: cfg.upstream_levels.clone(),
        activities: up,
        share: up_share,
        target,
        met: prevention > 0 && up_share + 1e-9 >= target,
        weighted_share: with_weight.then(|| share(up_weighted, weighted_prevention)),
        activities_to_target: to_target,
    };

    // Priorities: gaps and thin levels by gap points (higher level first on
    // equal points), then an upstream shortfall.
    let mut gaps: Vec<&LevelRow> = levels.iter().filter(|l| l.gap_points > 0.0).collect();
    gaps.sort_by(|a, b| {
        b.gap_points
            .total_cmp(&a.gap_points)
            .then(b.level.cmp(&a.level))
    });
    let mut priorities: Vec<Priority> = gaps
        .iter()
        .map(|l| {
            let lvl = rules.level(l.level);
            let detail = match l.status {
                Status::Gap => format!("no prevention activity at level {}", l.level),
                _ => format!(
                    "{} of the {} activities wanted at level {}",
                    l.activities, l.min_activities, l.level
                ),
            };
            Priority {
                rank: 0,
                kind: l.status.as_str().to_string(),
                level: Some(l.level),
                title: format!("Level {} — {}", l.level, l.name),
                gap_points: l.gap_points,
                detail,
                description: lvl.description.clone(),
                example: lvl.example.clone(),
                recommendation: lvl.recommendation.clone(),
            }
        })
        .collect();
    if !upstream.met {
        let names: Vec<String> = cfg
            .upstream_levels
            .iter()
            .map(|n| rules.level(*n).short.clone())
            .collect();
        let level_list = cfg
            .upstream_levels
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" and ");
        let detail = if prevention == 0 {
            "no prevention activities were found".to_string()
        } else {
            format!(
                "{up} of {prevention} prevention activities ({:.0}%) are at levels {level_list}, below the {:.0}% target; about {to_target} more upstream {} would reach it",
                up_share * 100.0,
                target * 100.0,
                if to_target == 1 {
                    "activity"
                } else {
                    "activities"
                }
            )
        };
        priorities.push(Priority {
            rank: 0,
            kind: "upstream".into(),
            level: None,
            title: format!("Upstream share below target ({})", names.join(", ")),
            gap_points: 0.0,
            detail,
            description: "The top levels of the Spectrum — changing organizational practices and influencing policy and legislation — reach the most people and last the longest.".into(),
            example: cfg.upstream_levels.iter().map(|n| rules.level(*n).example.clone()).collect::<Vec<_>>().join(" "),
            recommendation: format!(
                "Shift effort upstream: add or grow work at {} — see the recommendation for each level.",
                join_and(&cfg.upstream_levels.iter().map(|n| format!("level {n} ({})", rules.level(*n).short)).collect::<Vec<_>>())
            ),
        });
    }
    for (i, p) in priorities.iter_mut().enumerate() {
        p.rank = i + 1;
    }

    let acc = total.accounting;
    let classified = (acc.prevention + acc.response + acc.unclassified) as f64;
    let weighted_all = weighted_prevention + total.weighted_response + total.weighted_unclassified;
    let split = Split {
        prevention: acc.prevention,
        response: acc.response,
        unclassified: acc.unclassified,
        prevention_share: share(acc.prevention as f64, classified),
        response_share: share(acc.response as f64, classified),
        unclassified_share: share(acc.unclassified as f64, classified),
        weighted: with_weight.then(|| WeightedSplit {
            prevention: round(weighted_prevention, 2),
            response: round(total.weighted_response, 2),
            unclassified: round(total.weighted_unclassified, 2),
            prevention_share: share(weighted_prevention, weighted_all),
            response_share: share(total.weighted_response, weighted_all),
            unclassified_share: share(total.weighted_unclassified, weighted_all),
        }),
    };

    let aims: Vec<Aim> = rules
        .tags
        .iter()
        .enumerate()
        .map(|(i, t)| Aim {
            id: t.id.clone(),
            name: t.name.clone(),
            description: t.description.clone(),
            activities: total.tags.get(i).copied().unwrap_or(0),
            share: share(total.tags.get(i).copied().unwrap_or(0) as f64, prevention_f),
        })
        .collect();
    let aims_missing = aims
        .iter()
        .filter(|a| a.activities == 0)
        .map(|a| {
            format!(
                "No prevention activity addresses the aim \"{}\": {}",
                a.name,
                lower_first(&a.description)
            )
        })
        .collect();

    let groups = groups.map(|g| Groups {
        column: meta.by_column.clone().unwrap_or_default(),
        groups: g
            .into_iter()
            .map(|(name, t)| {
                let (s, _) = score(rules, &t.levels);
                let statuses: [Status; 6] =
                    std::array::from_fn(|i| status(t.levels[i], rules.levels[i].min_activities));
                GroupRow {
                    name,
                    accounting: t.accounting,
                    counts: t.levels,
                    statuses,
                    weighted: with_weight.then(|| t.weighted.map(|w| round(w, 2))),
                    score: s,
                    gaps: statuses.iter().filter(|s| **s == Status::Gap).count() as u8,
                    upstream_share: share(
                        upstream_count(rules, &t.levels) as f64,
                        t.prevention() as f64,
                    ),
                }
            })
            .collect(),
    });

    let baseline = baseline.map(|(inputs, before)| {
        let (score_before, _) = score(rules, &before.levels);
        let prev_before = before.prevention() as f64;
        Comparison {
            inputs,
            score_before,
            score_after: score_value,
            score_change: round(score_value - score_before, 1),
            upstream_share_before: share(upstream_count(rules, &before.levels) as f64, prev_before),
            upstream_share_after: up_share,
            levels: rules
                .levels
                .iter()
                .map(|l| {
                    let i = usize::from(l.number) - 1;
                    let (b, a) = (before.levels[i], total.levels[i]);
                    let (sb, sa) = (share(b as f64, prev_before), share(a as f64, prevention_f));
                    LevelChange {
                        level: l.number,
                        short: l.short.clone(),
                        before: b,
                        after: a,
                        change: a as i64 - b as i64,
                        share_before: sb,
                        share_after: sa,
                        share_change: round(sa - sb, 4),
                        status_before: status(b, l.min_activities),
                        status_after: status(a, l.min_activities),
                    }
                })
                .collect(),
        }
    });

    Assessment {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        generated: meta.generated,
        rules: RulesInfo {
            name: rules.name.clone(),
            version: rules.version.clone(),
            sources: rules.sources.clone(),
        },
        inputs: meta.inputs,
        formula: formula(rules),
        accounting: acc,
        weight: meta.weight_column.map(|column| WeightInfo {
            column,
            total: round(weighted_all, 2),
            prevention_total: round(weighted_prevention, 2),
            missing: total.weight_missing,
        }),
        score: score_value,
        levels_covered: levels.iter().filter(|l| l.activities > 0).count() as u8,
        levels,
        upstream,
        priorities,
        prevention_vs_response: split,
        aims,
        aims_missing,
        review: Review {
            unclassified: {
                total.unclassified.flush();
                total.low_confidence.flush();
                total.disagreements.flush();
                total.unclassified
            },
            low_confidence: total.low_confidence,
            disagreements: total.disagreements,
        },
        groups,
        baseline,
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl Assessment {
    /// The plain-language summary paragraph used by Markdown and HTML.
    pub fn narrative(&self) -> String {
        let p = self.prevention_vs_response.prevention;
        let mut s = String::new();
        let up_levels = self.upstream.levels_text();
        if p == 0 {
            s.push_str("No activity in this portfolio was classified as primary prevention. ");
        } else {
            s.push_str(&format!(
                "Of {p} prevention {}, {} ({}) work at levels {up_levels} (organizational practices and policy), {} the {} target.",
                plural(p, "activity", "activities"),
                self.upstream.activities,
                pct(self.upstream.share),
                if self.upstream.met { "meeting" } else { "below" },
                pct(self.upstream.target)
            ));
            if let (Some(ws), Some(w)) = (self.upstream.weighted_share, &self.weight) {
                s.push_str(&format!(
                    " By {}, {} of prevention goes upstream.",
                    w.column,
                    pct(ws)
                ));
            }
            s.push(' ');
        }
        let gaps: Vec<String> = self
            .levels
            .iter()
            .rev()
            .filter(|l| l.status == Status::Gap)
            .map(|l| format!("level {} ({})", l.level, l.name))
            .collect();
        s.push_str(&format!(
            "The portfolio covers {} of the 6 levels",
            self.levels_covered
        ));
        if gaps.is_empty() {
            s.push_str(". ");
        } else {
            s.push_str(&format!("; it has no activity at {}. ", join_and(&gaps)));
        }
        s.push_str(&format!(
            "Its Spectrum score is {} out of 100, weighting the top two levels most heavily.",
            fmt_score(self.score)
        ));
        let r = self.prevention_vs_response.response;
        if r > 0 {
            s.push_str(&format!(
                " A further {r} {} ({} of classified rows) {} after-harm response — victim services, crisis support or criminal justice — reported separately and not counted as prevention.",
                plural(r, "activity", "activities"),
                pct(self.prevention_vs_response.response_share),
                if r == 1 { "is" } else { "are" }
            ));
        }
        let u = self.prevention_vs_response.unclassified;
        if u > 0 {
            s.push_str(&format!(
                " {u} {} could not be classified and {} listed for review.",
                plural(u, "row", "rows"),
                if u == 1 { "is" } else { "are" }
            ));
        }
        s
    }
}

/// `42%` from a 0-1 share.
pub fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A score without a needless `.0`.
pub fn fmt_score(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

pub fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Civil date (UTC) for a Unix timestamp, as `YYYY-MM-DD`.
pub fn date_from_epoch(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// The report date: `SOURCE_DATE_EPOCH` when set (reproducible builds), else today.
pub fn report_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    date_from_epoch(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classification;

    fn rules() -> RuleSet {
        crate::rules::builtin().unwrap()
    }

    #[test]
    fn review_reasons_by_source_and_confidence() {
        use ReviewReason::{Disagreement, LowConfidence, Unclassified};
        let reasons = |o: &Outcome| review_reasons(o, 0.5);
        assert_eq!(reasons(&outcome(Label::Level(3))), [None, None]);
        assert_eq!(reasons(&outcome(Label::None)), [None, Some(Unclassified)]);
        let mut unsure = outcome(Label::Level(2));
        unsure.classification.confidence = 0.4;
        assert_eq!(reasons(&unsure), [None, Some(LowConfidence)]);
        // A manual level: listed when the rules disagree, never as the
        // rules' own doubt.
        unsure.source = Source::Manual;
        assert_eq!(reasons(&unsure), [None, None]);
        unsure.rules_said = Some(Label::Level(5));
        assert_eq!(reasons(&unsure), [Some(Disagreement), None]);
        let item = review_item(Disagreement, "p.csv", &Activity::default(), &unsure);
        assert_eq!(item.detail, "manual level 2, rules say level 5");
    }

    fn outcome(label: Label) -> Outcome {
        let mut c = Classification {
            level: label.level(),
            category: label.category(),
            also: vec![],
            tags: vec![],
            scores: [0.0; 6],
            response_score: 0.0,
            other_score: 0.0,
            specificity: [0; 6],
            matched: vec![],
            dropped: vec![],
            confidence: 1.0,
            reason: None,
        };
        if label == Label::None {
            c.reason = Some("no rule terms matched");
        }
        Outcome {
            level: c.level,
            category: c.category,
            source: Source::Rules,
            rules_said: None,
            classification: c,
        }
    }

    fn tally(labels: &[Label]) -> Tally {
        let r = rules();
        let mut t = Tally::new(r.tags.len());
        for l in labels {
            t.add(&outcome(*l), None, false);
        }
        t
    }

    fn assess(t: Tally) -> Assessment {
        assess_with(&rules(), t, None)
    }

    fn assess_with(r: &RuleSet, t: Tally, weight_column: Option<&str>) -> Assessment {
        let meta = Meta {
            rules: r,
            generated: "2026-01-01".into(),
            inputs: vec![],
            weight_column: weight_column.map(str::to_string),
            by_column: None,
        };
        build(meta, t, None, None)
    }

    #[test]
    fn no_rows_scores_zero_with_every_level_present() {
        let a = assess(tally(&[]));
        assert_eq!(a.score, 0.0);
        assert_eq!(a.levels.len(), 6);
        assert!(
            a.levels
                .iter()
                .all(|l| l.status == Status::Gap && l.share == 0.0)
        );
        assert!(!a.upstream.met);
        assert_eq!(a.priorities.len(), 7, "six gaps and the upstream shortfall");
    }

    #[test]
    fn all_unclassified_or_response_is_not_coverage() {
        let a = assess(tally(&[Label::None, Label::None]));
        assert_eq!(a.score, 0.0);
        assert_eq!(a.prevention_vs_response.unclassified, 2);
        let a = assess(tally(&[Label::Response; 3]));
        assert_eq!(a.score, 0.0);
        assert_eq!(a.levels_covered, 0);
        assert_eq!(a.prevention_vs_response.response, 3);
        assert_eq!(a.prevention_vs_response.response_share, 1.0);
    }

    #[test]
    fn one_level_only() {
        let a = assess(tally(&[Label::Level(6)]));
        // weights 1,1,1,1,2,3: 3/9.
        assert_eq!(a.score, 33.3);
        assert_eq!(a.levels[5].share, 1.0);
        assert!(a.upstream.met);
        assert_eq!(a.levels_covered, 1);
    }

    #[test]
    fn full_coverage_scores_100() {
        let a = assess(tally(&(1..=6).map(Label::Level).collect::<Vec<_>>()));
        assert_eq!(a.score, 100.0);
        assert!(a.priorities.is_empty());
    }

    #[test]
    fn missing_level_6_ranks_before_missing_level_1() {
        let a = assess(tally(&[
            Label::Level(2),
            Label::Level(3),
            Label::Level(4),
            Label::Level(5),
        ]));
        let ranked: Vec<Option<u8>> = a.priorities.iter().map(|p| p.level).collect();
        assert_eq!(ranked, vec![Some(6), Some(1), None]);
        assert_eq!(a.priorities[0].gap_points, 3.0);
        assert_eq!(a.priorities[0].rank, 1);
        // 1+1+1+2 of 9.
        assert_eq!(a.score, 55.6);
    }

    #[test]
    fn min_activities_gives_partial_credit() {
        let mut r = rules();
        r.levels[5].min_activities = 4;
        let mut t = Tally::new(r.tags.len());
        t.add(&outcome(Label::Level(6)), None, false);
        let a = assess_with(&r, t, None);
        assert_eq!(a.levels[5].status, Status::Thin);
        assert_eq!(a.levels[5].credit, 0.25);
        assert_eq!(a.levels[5].gap_points, 2.25);
        assert_eq!(a.score, 8.3);
        assert_eq!(a.priorities[0].kind, "thin");
    }

    #[test]
    fn zero_weights_are_allowed() {
        let mut r = rules();
        for l in &mut r.levels[..5] {
            l.weight = 0.0;
        }
        let mut t = Tally::new(r.tags.len());
        t.add(&outcome(Label::Level(1)), None, false);
        let a = assess_with(&r, t, None);
        assert_eq!(a.score, 0.0);
        assert_eq!(a.levels[0].gap_points, 0.0);
    }

    #[test]
    fn weighted_shares_and_missing_weights() {
        let r = rules();
        let mut t = Tally::new(r.tags.len());
        t.add(&outcome(Label::Level(1)), Some(300.0), true);
        t.add(&outcome(Label::Level(6)), Some(100.0), true);
        t.add(&outcome(Label::Level(6)), None, true);
        t.add(&outcome(Label::Response), Some(600.0), true);
        let a = assess_with(&r, t, Some("budget"));
        assert_eq!(a.levels[0].weighted_share, Some(0.75));
        assert_eq!(a.levels[5].weighted_total, Some(100.0));
        assert_eq!(a.upstream.weighted_share, Some(0.25));
        let w = a.weight.unwrap();
        assert_eq!((w.total, w.prevention_total, w.missing), (1000.0, 400.0, 1));
        assert_eq!(
            a.prevention_vs_response.weighted.unwrap().response_share,
            0.6
        );
    }

    #[test]
    fn upstream_shortfall_counts_activities_to_target() {
        // 1 of 10 upstream, target 30%: (0.3*10-1)/0.7 = 2.86 -> 3.
        let mut labels = vec![Label::Level(1); 9];
        labels.push(Label::Level(5));
        let a = assess(tally(&labels));
        assert_eq!(a.upstream.activities_to_target, 3);
        assert_eq!(a.priorities.last().unwrap().kind, "upstream");
    }

    proptest::proptest! {
        #[test]
        fn the_quick_amount_reader_agrees_with_the_general_one(t in "[$]?[0-9,.]{0,12}") {
            if let Some(v) = plain_amount(&t) {
                proptest::prop_assert_eq!(general_amount(&t), Ok(Some(v)));
            }
        }
    }

    #[test]
    fn amounts_parse_like_people_write_them() {
        assert_eq!(parse_amount("$12,500"), Ok(Some(12500.0)));
        assert_eq!(parse_amount("12500.00"), Ok(Some(12500.0)));
        assert_eq!(parse_amount("1 200"), Ok(Some(1200.0)));
        assert_eq!(parse_amount("1\u{a0}200"), Ok(Some(1200.0)));
        assert_eq!(parse_amount("€1.200,50"), Ok(Some(1200.5)));
        assert_eq!(parse_amount("USD 40"), Ok(Some(40.0)));
        assert_eq!(parse_amount(" "), Ok(None));
        assert_eq!(parse_amount("0"), Ok(Some(0.0)));
        assert!(parse_amount("-5").unwrap_err().contains("negative"));
        assert!(parse_amount("(1,200)").unwrap_err().contains("negative"));
        assert!(parse_amount("twelve").unwrap_err().contains("not a number"));
        assert!(parse_amount("1.2.3").is_err());
        assert!(parse_amount("NaN").is_err());
    }

    #[test]
    fn dates_from_epoch() {
        assert_eq!(date_from_epoch(0), "1970-01-01");
        assert_eq!(date_from_epoch(1_700_000_000), "2023-11-14");
        assert_eq!(date_from_epoch(951_782_400), "2000-02-29");
    }

    #[test]
    fn narrative_reads_plainly() {
        let a = assess(tally(&[
            Label::Level(1),
            Label::Level(2),
            Label::Level(5),
            Label::Response,
        ]));
        let n = a.narrative();
        assert!(
            n.starts_with("Of 3 prevention activities, 1 (33%) work at levels 5–6"),
            "{n}"
        );
        assert!(n.contains("no activity at level 6 (Influencing Policy and Legislation), level 4 (Fostering Coalitions and Networks) and level 3 (Educating Providers)"), "{n}");
        assert!(
            n.contains("A further 1 activity (25% of classified rows) is after-harm response"),
            "{n}"
        );
    }
}
