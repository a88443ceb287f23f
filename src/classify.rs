//! The classifier: activity text → Spectrum level, response, or unclassified.
//!
//! Pure code: no I/O, no printing. A [`Classifier`] is compiled once from a
//! [`RuleSet`]; every phrase term, exclusion phrase and proximity-pair part of
//! every level, the response category and every tag goes into **one**
//! phrase set (a trie automaton over words, then a trie over
//! phrases), so a row's text is scanned once whatever the number of
//! terms. `re:` terms are compiled into one `RegexSet`, also one pass.
//!
//! Scoring, in order:
//! 1. The text is normalized (see [`crate::text`]); a phrase matches only on
//!    whole words, and a trailing `*` lets the last word continue.
//! 2. A match inside an `exclude` phrase of the same level/category is dropped
//!    (`policy` inside `privacy policy`).
//! 3. Where a longer term covers a shorter one (`task force` over `force`),
//!    only the longer counts, whichever level each belongs to — no double
//!    counting. Terms matching the very same words both count.
//! 4. A level's score is the sum of the weights of the *distinct* terms it
//!    matched (a term said three times counts once).
//! 5. Response wins only when its score exceeds every level's. Otherwise the
//!    highest-scoring level wins; a tie goes to the level whose longest
//!    matched term is longer (more specific), then to the **lower** level —
//!    ties never resolve upward toward levels 5–6.
//! 6. Confidence is the margin between the top two scores relative to the
//!    top, discounted when the top score is under 2 (one weak term):
//!    `(top − second) / top × min(1, top / 2)`.
//! 7. Other levels scoring at least half the winner's score are listed as
//!    `also`. Tags are secondary labels: any tag term that matches sets it.

use regex::bytes::RegexSet;
use serde::Serialize;

use crate::rules::{Pattern, RuleSet, Term, parse_pattern};
use crate::text::normalize_bytes_into;

mod phrases;
use phrases::{PhraseBuilder, PhraseScratch, PhraseSet};

/// What a term scores for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Level(u8),
    Response,
    /// Neither prevention nor response (fundraising, administration).
    Other,
    Tag(usize),
}

/// The broad outcome for one activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Prevention,
    Response,
    Unclassified,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Prevention => "prevention",
            Category::Response => "response",
            Category::Unclassified => "unclassified",
        }
    }
}

/// A distinct term that counted toward a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub term: usize,
    pub target: Target,
    pub weight: f64,
}

/// A term that matched the text but did not count, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub term: usize,
    pub target: Target,
    /// What covered it: an exclusion phrase (`excluded`) or a longer term,
    /// by index; [`Classifier::dropped_by`] gives its text.
    pub by: usize,
    pub excluded: bool,
}

/// The classifier's answer for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub level: Option<u8>,
    pub category: Category,
    /// Other levels scoring at least half the winner's score.
    pub also: Vec<u8>,
    /// Indexes into the rule set's tags.
    pub tags: Vec<usize>,
    pub scores: [f64; 6],
    pub response_score: f64,
    pub other_score: f64,
    /// Length of each level's longest matched term (tie-break by specificity).
    pub specificity: [usize; 6],
    pub matched: Vec<Matched>,
    pub dropped: Vec<Dropped>,
    /// 0–1; see the module documentation.
    pub confidence: f64,
    /// Why nothing was assigned, for unclassified rows.
    pub reason: Option<&'static str>,
}

impl Classification {
    /// Back to the empty answer, keeping the lists' memory for reuse.
    fn reset(&mut self, reason: &'static str) {
        fn keep<T>(list: &mut Vec<T>) -> Vec<T> {
            let mut list = std::mem::take(list);
            list.clear();
            list
        }
        *self = Classification {
            also: keep(&mut self.also),
            tags: keep(&mut self.tags),
            matched: keep(&mut self.matched),
            dropped: keep(&mut self.dropped),
            ..Classification::empty(reason)
        };
    }

    fn empty(reason: &'static str) -> Self {
        Classification {
            level: None,
            category: Category::Unclassified,
            also: Vec::new(),
            tags: Vec::new(),
            scores: [0.0; 6],
            response_score: 0.0,
            other_score: 0.0,
            specificity: [0; 6],
            matched: Vec::new(),
            dropped: Vec::new(),
            confidence: 0.0,
            reason: Some(reason),
        }
    }
}

impl Default for Classification {
    /// The answer for an empty text.
    fn default() -> Self {
        Classification::empty(REASON_EMPTY)
    }
}

/// Reason given for an empty or whitespace-only text.
pub const REASON_EMPTY: &str = "empty text";
/// Reason given when no term matched.
pub const REASON_NO_MATCH: &str = "no rule terms matched";
/// Reason given when the text reads as neither prevention nor response.
pub const REASON_OTHER: &str = "reads as neither prevention nor response";
/// Reason given when terms matched but every one was excluded.
pub const REASON_EXCLUDED: &str = "every match was excluded";

#[derive(Debug, Clone)]
struct TermInfo {
    target: Target,
    display: String,
    weight: f64,
    specificity: usize,
}

#[derive(Debug, Clone, Copy)]
enum EntryKind {
    Term(usize),
    Exclude(Target, usize),
    NearPart { near: usize, side: u8 },
}

#[derive(Debug, Clone)]
struct Near {
    term: usize,
    within: u32,
}

/// A term found in the text, by word positions (end exclusive).
#[derive(Debug, Clone, Copy)]
struct Hit {
    term: usize,
    start: u32,
    end: u32,
}

/// An exclusion phrase found in the text.
#[derive(Debug, Clone, Copy)]
struct ExcludeHit {
    target: Target,
    exclude: usize,
    start: u32,
    end: u32,
}

/// Reusable buffers so classifying many rows does not allocate per row.
#[derive(Debug, Default)]
pub struct Scratch {
    phrases: PhraseScratch,
    norm: Vec<u8>,
    /// Term hits in the order found: by first word, then by length.
    hits: Vec<Hit>,
    excludes: Vec<ExcludeHit>,
    /// Proximity-pair parts found: (pair, side, word).
    near_hits: Vec<(usize, u8, u32)>,
    counted: Vec<bool>,
    counted_ids: Vec<usize>,
    /// Hits that take part in containment, as indexes into `hits`.
    order: Vec<usize>,
}

/// Marks a term as counted for the current row (once).
fn mark(counted: &mut [bool], ids: &mut Vec<usize>, term: usize) {
    if !counted[term] {
        counted[term] = true;
        ids.push(term);
    }
}

/// A rule set compiled for matching.
#[derive(Debug, Clone)]
pub struct Classifier {
    phrases: PhraseSet,
    /// What each phrase stands for (a phrase can serve several terms):
    /// `entries[entry_at[p]..entry_at[p + 1]]` for phrase `p`.
    entry_at: Vec<u32>,
    entries: Vec<EntryKind>,
    terms: Vec<TermInfo>,
    excludes: Vec<String>,
    regex: Option<RegexSet>,
    regex_terms: Vec<usize>,
    nears: Vec<Near>,
}

impl Classifier {
    /// Compiles every term of `rules` into one automaton (and one `RegexSet`
    /// for `re:` terms). Rule sets are validated when loaded, so this only
    /// fails on limits of the underlying automata.
    pub fn new(rules: &RuleSet) -> anyhow::Result<Self> {
        let mut b = Compiler::default();
        for level in &rules.levels {
            let t = Target::Level(level.number);
            b.add_terms(t, &level.terms);
            b.add_excludes(t, &level.exclude);
        }
        b.add_terms(Target::Response, &rules.response.terms);
        b.add_excludes(Target::Response, &rules.response.exclude);
        b.add_terms(Target::Other, &rules.other.terms);
        b.add_excludes(Target::Other, &rules.other.exclude);
        for (i, tag) in rules.tags.iter().enumerate() {
            b.add_terms(Target::Tag(i), &tag.terms);
            b.add_excludes(Target::Tag(i), &tag.exclude);
        }
        let phrases = std::mem::take(&mut b.phrases).build()?;
        let mut entry_at = vec![0u32];
        let mut entries = Vec::new();
        for kinds in &b.entries {
            entries.extend_from_slice(kinds);
            entry_at.push(entries.len() as u32);
        }
        let regex = if b.regexes.is_empty() {
            None
        } else {
            Some(
                RegexSet::new(&b.regexes)
                    .map_err(|e| anyhow::anyhow!("cannot compile `re:` terms: {e}"))?,
            )
        };
        Ok(Classifier {
            phrases,
            entry_at,
            entries,
            terms: b.terms,
            excludes: b.excludes,
            regex,
            regex_terms: b.regex_terms,
            nears: b.nears,
        })
    }

    /// The exclusion phrase or longer term that kept a match from counting.
    pub fn dropped_by(&self, d: &Dropped) -> &str {
        if d.excluded {
            &self.excludes[d.by]
        } else {
            &self.terms[d.by].display
        }
    }

    /// How a term reads in reports (`adopt*`, `train* near staff (within 5)`).
    pub fn term_text(&self, term: usize) -> &str {
        &self.terms[term].display
    }

    /// Number of compiled terms (levels, response and tags).
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Target and weight of a compiled term.
    pub fn term_target(&self, term: usize) -> (Target, f64) {
        (self.terms[term].target, self.terms[term].weight)
    }

    /// Classifies one text. Convenience wrapper over [`Classifier::classify_with`].
    pub fn classify(&self, text: &str) -> Classification {
        self.classify_with(text, &mut Scratch::default())
    }

    /// Classifies one text, reusing `scratch` between calls.
    pub fn classify_with(&self, text: &str, scratch: &mut Scratch) -> Classification {
        let mut out = Classification::empty(REASON_EMPTY);
        self.classify_into(text, scratch, &mut out);
        out
    }

    /// Classifies one text into `out`, reusing `scratch` and `out`'s lists
    /// between calls (no allocation once they have grown).
    pub fn classify_into(&self, text: &str, scratch: &mut Scratch, out: &mut Classification) {
        out.reset(REASON_EMPTY);
        if self.collect_hits(text, scratch) == 0 {
            return;
        }
        let Scratch {
            phrases: _,
            norm,
            hits,
            excludes,
            near_hits,
            counted,
            counted_ids,
            order,
        } = scratch;
        let hits = &*hits;
        out.reason = Some(REASON_NO_MATCH);
        // `counted` is a bitmap over all terms, kept all-false between rows:
        // only the bits set for this row (listed in `counted_ids`) are reset.
        if counted.len() != self.terms.len() {
            counted.clear();
            counted.resize(self.terms.len(), false);
        }
        counted_ids.clear();
        let mut any_hit = !hits.is_empty();

        // Phrase terms: exclusions first, then containment.
        order.clear();
        for (i, h) in hits.iter().enumerate() {
            let target = self.terms[h.term].target;
            if !excludes.is_empty()
                && let Some(by) = excludes.iter().find_map(|x| {
                    (x.target == target && x.start <= h.start && x.end >= h.end)
                        .then_some(x.exclude)
                })
            {
                push_dropped(&mut out.dropped, h.term, target, by, true);
                continue;
            }
            if matches!(target, Target::Tag(_)) {
                // Tags are secondary labels: no containment between them and levels.
                mark(counted, counted_ids, h.term);
            } else {
                order.push(i);
            }
        }
        // Containment in one sweep over the hits as found (by first word,
        // then shortest first): a hit is covered by a longer one exactly when
        // a hit starting earlier reaches its end, or the longest hit with the
        // same start ends after it. Identical spans both count.
        let mut reach_before = 0u32; // furthest end among hits starting earlier
        let mut g = 0;
        while g < order.len() {
            let start = hits[order[g]].start;
            let mut e = g + 1;
            while e < order.len() && hits[order[e]].start == start {
                e += 1;
            }
            let group_end = hits[order[e - 1]].end;
            for &i in &order[g..e] {
                let h = &hits[i];
                if reach_before >= h.end || group_end > h.end {
                    // Found again only here, for the (rarer) terms that are dropped.
                    let by = self.covering(hits, order, h).unwrap_or(h.term);
                    push_dropped(
                        &mut out.dropped,
                        h.term,
                        self.terms[h.term].target,
                        by,
                        false,
                    );
                } else {
                    mark(counted, counted_ids, h.term);
                }
            }
            reach_before = reach_before.max(group_end);
            g = e;
        }

        // Proximity pairs: only the near-pair parts that matched are looked
        // at, and only when both sides of some pair matched at all.
        let both_sides = near_hits.iter().any(|h| h.1 == 0) && near_hits.iter().any(|h| h.1 == 1);
        if both_sides {
            near_hits.sort_unstable();
            let mut k = 0;
            while k < near_hits.len() {
                let n = near_hits[k].0;
                let mut end = k;
                while end < near_hits.len() && near_hits[end].0 == n {
                    end += 1;
                }
                let group = &near_hits[k..end];
                let within = self.nears[n].within as usize;
                let found = group.iter().filter(|p| p.1 == 0).any(|a| {
                    group
                        .iter()
                        .filter(|p| p.1 == 1)
                        .any(|b| b.2.abs_diff(a.2) as usize <= within)
                });
                if found {
                    any_hit = true;
                    mark(counted, counted_ids, self.nears[n].term);
                }
                k = end;
            }
        }

        // Regular-expression terms, on the normalized text.
        if let Some(set) = &self.regex {
            normalize_bytes_into(text, norm);
            for i in set.matches(norm).iter() {
                any_hit = true;
                mark(counted, counted_ids, self.regex_terms[i]);
            }
        }

        // Terms are compiled in target order (levels, response, other, tags),
        // so sorting by id also orders `matched` by target.
        counted_ids.sort_unstable();
        out.matched.reserve_exact(counted_ids.len());
        for &term in counted_ids.iter() {
            let info = &self.terms[term];
            match info.target {
                Target::Level(n) => {
                    let i = usize::from(n) - 1;
                    out.scores[i] += info.weight;
                    out.specificity[i] = out.specificity[i].max(info.specificity);
                }
                Target::Response => out.response_score += info.weight,
                Target::Other => out.other_score += info.weight,
                Target::Tag(t) => {
                    if !out.tags.contains(&t) {
                        out.tags.push(t);
                    }
                }
            }
            out.matched.push(Matched {
                term,
                target: info.target,
                weight: info.weight,
            });
        }
        out.dropped.retain(|d| !counted[d.term]);
        for &term in counted_ids.iter() {
            counted[term] = false;
        }
        out.tags.sort_unstable();
        decide(out, any_hit);
    }

    /// A strictly longer counting hit (from `order`) that covers `h`: of
    /// several, the earliest starting, then the longest.
    fn covering(&self, hits: &[Hit], order: &[usize], h: &Hit) -> Option<usize> {
        order
            .iter()
            .map(|&j| &hits[j])
            .filter(|x| x.start <= h.start && x.end >= h.end && x.end - x.start > h.end - h.start)
            .min_by_key(|x| (x.start, std::cmp::Reverse(x.end)))
            .map(|x| x.term)
    }

    /// Finds every phrase in `text` into the scratch lists of terms,
    /// exclusions and proximity-pair parts; returns the number of words in
    /// the text.
    fn collect_hits(&self, text: &str, scratch: &mut Scratch) -> u32 {
        let Scratch {
            phrases,
            hits,
            excludes,
            near_hits,
            ..
        } = scratch;
        hits.clear();
        excludes.clear();
        near_hits.clear();
        self.phrases.find(text, phrases, |phrase, start, end| {
            let p = phrase as usize;
            for &kind in &self.entries[self.entry_at[p] as usize..self.entry_at[p + 1] as usize] {
                match kind {
                    EntryKind::Term(term) => hits.push(Hit { term, start, end }),
                    EntryKind::Exclude(target, exclude) => excludes.push(ExcludeHit {
                        target,
                        exclude,
                        start,
                        end,
                    }),
                    EntryKind::NearPart { near, side } => near_hits.push((near, side, start)),
                }
            }
        })
    }
}

fn push_dropped(
    dropped: &mut Vec<Dropped>,
    term: usize,
    target: Target,
    by: usize,
    excluded: bool,
) {
    if !dropped.iter().any(|d| d.term == term) {
        dropped.push(Dropped {
            term,
            target,
            by,
            excluded,
        });
    }
}

const EPS: f64 = 1e-9;

/// Picks the winner from the scores; see the module docs for the policy.
fn decide(out: &mut Classification, any_hit: bool) {
    let top = out.scores.iter().copied().fold(0.0, f64::max);
    if out.other_score > top + EPS && out.other_score > out.response_score + EPS {
        out.reason = Some(REASON_OTHER);
        return;
    }
    if top <= EPS && out.response_score <= EPS {
        out.reason = Some(
            if any_hit && !out.dropped.is_empty() && out.matched.is_empty() {
                REASON_EXCLUDED
            } else {
                REASON_NO_MATCH
            },
        );
        return;
    }
    out.reason = None;
    let (winner_score, second) = if out.response_score > top + EPS {
        out.category = Category::Response;
        (out.response_score, top)
    } else {
        let mut best = 0usize;
        for i in 1..6 {
            let (s, b) = (out.scores[i], out.scores[best]);
            // Strictly better score, or equal score with a longer term; equal
            // on both keeps the lower level.
            if s > b + EPS || ((s - b).abs() <= EPS && out.specificity[i] > out.specificity[best]) {
                best = i;
            }
        }
        out.category = Category::Prevention;
        out.level = Some(best as u8 + 1);
        let second = out
            .scores
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != best)
            .map(|(_, s)| *s)
            .fold(out.response_score, f64::max);
        (out.scores[best], second)
    };
    let (level, scores) = (out.level, out.scores);
    out.also.clear();
    out.also.extend(
        (0..6)
            .filter(|&i| {
                Some(i as u8 + 1) != level
                    && scores[i] > EPS
                    && scores[i] + EPS >= winner_score / 2.0
            })
            .map(|i| i as u8 + 1),
    );
    out.also.sort_by(|a, b| {
        scores[usize::from(*b) - 1]
            .total_cmp(&scores[usize::from(*a) - 1])
            .then(a.cmp(b))
    });
    let margin = ((winner_score - second) / winner_score).max(0.0);
    let confidence = margin * (winner_score / 2.0).min(1.0);
    out.confidence = (confidence * 100.0).round() / 100.0;
}

#[derive(Default)]
struct Compiler {
    phrases: PhraseBuilder,
    entries: Vec<Vec<EntryKind>>,
    terms: Vec<TermInfo>,
    excludes: Vec<String>,
    regexes: Vec<String>,
    regex_terms: Vec<usize>,
    nears: Vec<Near>,
}

impl Compiler {
    fn pattern(&mut self, text: &str, prefix: bool, kind: EntryKind) {
        let id = self.phrases.add(text, prefix) as usize;
        if self.entries.len() <= id {
            self.entries.resize_with(id + 1, Vec::new);
        }
        self.entries[id].push(kind);
    }

    fn add_terms(&mut self, target: Target, terms: &[Term]) {
        for t in terms {
            let id = self.terms.len();
            if !t.any.is_empty() {
                let alternatives: Vec<(String, bool)> = t
                    .any
                    .iter()
                    .filter_map(|a| match parse_pattern(a) {
                        Ok(Pattern::Phrase { text, prefix }) => Some((text, prefix)),
                        _ => None,
                    })
                    .collect();
                let specificity = alternatives
                    .iter()
                    .map(|(text, _)| text.len())
                    .min()
                    .unwrap_or(0);
                self.terms.push(TermInfo {
                    target,
                    display: t.display(),
                    weight: t.weight,
                    specificity,
                });
                for (text, prefix) in alternatives {
                    self.pattern(&text, prefix, EntryKind::Term(id));
                }
                continue;
            }
            let Ok(pattern) = parse_pattern(&t.text) else {
                continue;
            };
            let specificity = match &pattern {
                Pattern::Phrase { text, .. } => text.len(),
                // A pattern's source length says nothing about how specific
                // its matches are, so regular expressions never win a tie.
                Pattern::Regex(_) => 0,
            };
            self.terms.push(TermInfo {
                target,
                display: t.display(),
                weight: t.weight,
                specificity,
            });
            match (&t.near, pattern) {
                (Some((others, within)), Pattern::Phrase { text, prefix }) => {
                    let near = self.nears.len();
                    self.nears.push(Near {
                        term: id,
                        within: *within,
                    });
                    self.pattern(&text, prefix, EntryKind::NearPart { near, side: 0 });
                    let mut longest = 0;
                    for other in others {
                        if let Ok(Pattern::Phrase {
                            text: other_text,
                            prefix: other_prefix,
                        }) = parse_pattern(other)
                        {
                            longest = longest.max(other_text.len());
                            self.pattern(
                                &other_text,
                                other_prefix,
                                EntryKind::NearPart { near, side: 1 },
                            );
                        }
                    }
                    self.terms[id].specificity += longest;
                }
                (_, Pattern::Phrase { text, prefix }) => {
                    self.pattern(&text, prefix, EntryKind::Term(id))
                }
                (_, Pattern::Regex(re)) => {
                    self.regexes.push(re);
                    self.regex_terms.push(id);
                }
            }
        }
    }

    fn add_excludes(&mut self, target: Target, excludes: &[String]) {
        for e in excludes {
            if let Ok(Pattern::Phrase { text, prefix }) = parse_pattern(e) {
                let id = self.excludes.len();
                self.excludes.push(e.clone());
                self.pattern(&text, prefix, EntryKind::Exclude(target, id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSource, load};

    /// A tiny rule set: level n gets `terms[n-1]`.
    fn rules_with(levels: [&str; 6], response: &str, extra: &str) -> RuleSet {
        let mut s = String::from("format = 1\nname = \"t\"\nversion = \"1\"\n");
        for (i, terms) in levels.iter().enumerate() {
            s.push_str(&format!(
                "[[level]]\nnumber = {}\nname = \"L\"\nshort = \"s\"\ndescription = \"d\"\nexample = \"e\"\nrecommendation = \"r\"\nterms = [{terms}]\n",
                i + 1
            ));
        }
        s.push_str(&format!("[response]\nterms = [{response}]\n{extra}"));
        load(&[RuleSource {
            name: "t.toml".into(),
            text: s,
        }])
        .unwrap()
    }

    fn classify(rules: &RuleSet, text: &str) -> Classification {
        Classifier::new(rules).unwrap().classify(text)
    }

    #[test]
    fn whole_words_only() {
        let r = rules_with(["\"art\"", "", "", "", "", ""], "", "");
        assert_eq!(classify(&r, "An art class").level, Some(1));
        assert_eq!(classify(&r, "A smart start").level, None);
        assert_eq!(classify(&r, "Art.").level, Some(1));
        assert_eq!(classify(&r, "ART-based").level, Some(1));
    }

    #[test]
    fn wildcard_matches_word_continuations() {
        let r = rules_with(["", "", "", "", "", "\"legislat*\""], "", "");
        assert_eq!(classify(&r, "State legislation passed").level, Some(6));
        assert_eq!(classify(&r, "legislative agenda").level, Some(6));
        assert_eq!(classify(&r, "legislat").level, Some(6));
        assert_eq!(classify(&r, "prelegislative").level, None);
    }

    #[test]
    fn phrases_cross_punctuation() {
        let r = rules_with(["", "", "", "\"task force\"", "", ""], "", "");
        assert_eq!(classify(&r, "the Task-Force met").level, Some(4));
        assert_eq!(classify(&r, "task, force").level, Some(4));
        assert_eq!(classify(&r, "taskforce").level, None);
    }

    #[test]
    fn exclusions_drop_contained_matches() {
        let r = rules_with(["", "", "", "", "\"policy\"", ""], "", "");
        let mut s = r.clone();
        s.levels[4].exclude = vec!["privacy policy".into()];
        let c = classify(&s, "Update the privacy policy on our site");
        assert_eq!(c.level, None);
        assert_eq!(c.reason, Some(REASON_EXCLUDED));
        assert!(c.dropped[0].excluded);
        assert_eq!(
            Classifier::new(&s).unwrap().dropped_by(&c.dropped[0]),
            "privacy policy"
        );
        // The same term outside the excluded phrase still counts.
        let c = classify(&s, "privacy policy and a hiring policy");
        assert_eq!(c.level, Some(5));
        assert!(c.dropped.is_empty());
    }

    #[test]
    fn exclusion_only_covers_its_own_occurrence() {
        let r = rules_with(["", "", "", "", "\"policy\"", ""], "", "");
        let mut s = r.clone();
        s.levels[4].exclude = vec!["privacy policy".into()];
        // "policy" outside the excluded phrase still counts.
        let c = classify(&s, "Adopt a policy; update the privacy policy");
        assert_eq!(c.level, Some(5));
    }

    #[test]
    fn longer_term_wins_over_contained_one() {
        let r = rules_with(["", "", "", "\"task force\"", "\"force\"", ""], "", "");
        let c = classify(&r, "Join the task force");
        assert_eq!(c.level, Some(4));
        assert_eq!(c.scores, [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(c.dropped.len(), 1);
        assert_eq!(
            Classifier::new(&r).unwrap().dropped_by(&c.dropped[0]),
            "task force"
        );
    }

    #[test]
    fn distinct_terms_count_once() {
        let r = rules_with(["", "", "", "", "\"policy\", \"protocol\"", ""], "", "");
        let c = classify(&r, "policy policy policy protocol");
        assert_eq!(c.scores[4], 2.0);
    }

    #[test]
    fn weights_add_up() {
        let r = rules_with(
            [
                "\"class\"",
                "",
                "",
                "",
                "",
                "{ term = \"ordinance\", weight = 3 }",
            ],
            "",
            "",
        );
        let c = classify(&r, "class about the ordinance");
        assert_eq!(c.level, Some(6));
        assert_eq!(c.scores[5], 3.0);
        assert_eq!(c.also, Vec::<u8>::new());
    }

    #[test]
    fn ties_prefer_specific_then_lower_level() {
        let r = rules_with(["\"teach\"", "", "", "", "", "\"law\""], "", "");
        // Equal score, "teach" is longer than "law": level 1.
        assert_eq!(classify(&r, "teach the law").level, Some(1));
        let r = rules_with(["\"abc\"", "", "", "", "", "\"xyz\""], "", "");
        // Equal score, equal length: the lower level, never upward.
        let c = classify(&r, "xyz abc");
        assert_eq!(c.level, Some(1));
        assert_eq!(c.also, vec![6]);
        assert_eq!(c.confidence, 0.0);
        let r = rules_with(["\"abc\"", "", "", "", "", "\"longer phrase\""], "", "");
        assert_eq!(
            classify(&r, "abc longer phrase").level,
            Some(6),
            "more specific term wins a tie"
        );
    }

    #[test]
    fn response_needs_a_strictly_higher_score() {
        let r = rules_with(["\"class\"", "", "", "", "", ""], "\"shelter\"", "");
        let c = classify(&r, "class at the shelter");
        assert_eq!(c.category, Category::Prevention);
        assert_eq!(c.level, Some(1));
        let r = rules_with(
            ["\"class\"", "", "", "", "", ""],
            "\"shelter\", \"hotline\"",
            "",
        );
        let c = classify(&r, "class at the shelter hotline");
        assert_eq!(c.category, Category::Response);
        assert_eq!(c.level, None);
        assert_eq!(c.also, vec![1]);
    }

    #[test]
    fn empty_and_unmatched_text() {
        let r = rules_with(["\"class\"", "", "", "", "", ""], "", "");
        let c = classify(&r, "   ");
        assert_eq!(
            (c.category, c.reason),
            (Category::Unclassified, Some(REASON_EMPTY))
        );
        let c = classify(&r, "bake sale");
        assert_eq!(
            (c.category, c.reason),
            (Category::Unclassified, Some(REASON_NO_MATCH))
        );
    }

    #[test]
    fn confidence_reflects_margin() {
        let r = rules_with(["\"a1\", \"a2\", \"a3\"", "\"b1\"", "", "", "", ""], "", "");
        assert_eq!(classify(&r, "a1").confidence, 0.5);
        assert_eq!(classify(&r, "a1 a2").confidence, 1.0);
        assert_eq!(classify(&r, "a1 a2 a3 b1").confidence, 0.67);
        assert_eq!(classify(&r, "a1 b1").confidence, 0.0);
    }

    #[test]
    fn also_lists_levels_at_half_the_top() {
        let r = rules_with(["\"a1\", \"a2\"", "\"b1\"", "\"c1\"", "", "", ""], "", "");
        let c = classify(&r, "a1 a2 b1 c1");
        assert_eq!(c.level, Some(1));
        assert_eq!(c.also, vec![2, 3]);
    }

    #[test]
    fn tags_are_secondary() {
        let extra = "[[tag]]\nid = \"demand\"\nterms = [\"buyer*\"]\n";
        let r = rules_with(["\"class\"", "", "", "", "", ""], "", extra);
        let c = classify(&r, "class for sex buyers");
        assert_eq!(c.level, Some(1));
        assert_eq!(c.tags, vec![0]);
        let c = classify(&r, "buyers");
        assert_eq!(c.category, Category::Unclassified);
        assert_eq!(c.tags, vec![0]);
    }

    #[test]
    fn regex_and_near_terms() {
        let r = rules_with(
            [
                "",
                "",
                "{ term = \"train*\", near = \"nurse*\", within = 3 }",
                "",
                "",
                "\"re:\\\\b(sb|hb|ab) ?\\\\d+\"",
            ],
            "",
            "",
        );
        assert_eq!(classify(&r, "training for school nurses").level, Some(3));
        assert_eq!(
            classify(&r, "nurses will attend one very long evening training").level,
            None
        );
        assert_eq!(classify(&r, "Support HB 1234 this session").level, Some(6));
        assert_eq!(classify(&r, "support hbo").level, None);
    }

    #[test]
    fn builtin_rules_pass_fact_sheet_examples() {
        let rules = crate::rules::builtin().unwrap();
        let c = Classifier::new(&rules).unwrap();
        for level in &rules.levels {
            let got = c.classify(&level.example);
            assert_eq!(
                got.level,
                Some(level.number),
                "fact sheet example for level {}: {}",
                level.number,
                level.example
            );
        }
    }
}
