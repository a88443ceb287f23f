//! Evaluation of the rules against hand-labeled rows, and per-term statistics.
//!
//! Pure arithmetic over (gold, predicted) label pairs and classifications.
//!
//! - **coverage** = share of the rows labeled with a level or response that the rules
//!   classified (placed on any level or response, right or wrong); rows labeled `none`
//!   are left out, since leaving them unclassified is the right answer;
//! - **accuracy** = share of labeled rows where the rules' label equals the gold label
//!   (an unclassified row is right when the gold label is `none`);
//! - **precision / recall / F1** per class, one class per level and one for response;
//!   precision is 0 for a class never predicted, recall 0 for a class never labeled;
//! - **macro-F1** = mean F1 over levels 1–6 and response, leaving out a class that no
//!   row is labeled with and that is never predicted (it has no evidence either way).

use serde::Serialize;

use crate::activity::Label;

/// The classes macro-F1 averages over: levels 1–6 and response.
pub const SCORED: [Label; 7] = [
    Label::Level(1),
    Label::Level(2),
    Label::Level(3),
    Label::Level(4),
    Label::Level(5),
    Label::Level(6),
    Label::Response,
];

/// Matrix order: levels 1–6, response, none/unclassified.
pub const ALL: [Label; 8] = [
    Label::Level(1),
    Label::Level(2),
    Label::Level(3),
    Label::Level(4),
    Label::Level(5),
    Label::Level(6),
    Label::Response,
    Label::None,
];

fn index(l: Label) -> usize {
    match l {
        Label::Level(n) => usize::from(n) - 1,
        Label::Response => 6,
        Label::None => 7,
    }
}

/// How a label reads in tables: `1`…`6`, `response`, `none`.
pub fn short(l: Label) -> String {
    match l {
        Label::Level(n) => n.to_string(),
        Label::Response => "response".into(),
        Label::None => "none".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows labeled with this class.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
    /// Counted in macro-F1 (labeled or predicted at least once).
    pub scored: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub rows: u64,
    /// Share of rows labeled 1-6 or response that the rules placed anywhere.
    pub coverage: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Rows labeled `response` that the rules placed on a prevention level.
    pub response_counted_as_prevention: u64,
    pub classes: Vec<ClassMetrics>,
    /// `confusion[gold][predicted]` in [`ALL`] order; predicted `none` is "unclassified".
    pub confusion: [[u64; 8]; 8],
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn r4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// Computes the metrics for `(gold, predicted)` pairs.
pub fn metrics(pairs: &[(Label, Label)]) -> Metrics {
    let mut confusion = [[0u64; 8]; 8];
    for (g, p) in pairs {
        confusion[index(*g)][index(*p)] += 1;
    }
    let rows = pairs.len() as u64;
    let correct: u64 = (0..8).map(|i| confusion[i][i]).sum();
    let should_classify = pairs.iter().filter(|(g, _)| *g != Label::None).count() as u64;
    let classified = pairs
        .iter()
        .filter(|(g, p)| *g != Label::None && *p != Label::None)
        .count() as u64;
    let mut classes = Vec::new();
    for l in ALL {
        let i = index(l);
        let tp = confusion[i][i];
        let support: u64 = confusion[i].iter().sum();
        let predicted: u64 = (0..8).map(|g| confusion[g][i]).sum();
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        classes.push(ClassMetrics {
            class: short(l),
            precision: r4(precision),
            recall: r4(recall),
            f1: r4(f1),
            support,
            predicted,
            scored: SCORED.contains(&l) && (support > 0 || predicted > 0),
        });
    }
    let scored: Vec<&ClassMetrics> = classes.iter().filter(|c| c.scored).collect();
    let macro_f1 = if scored.is_empty() {
        0.0
    } else {
        // Average the unrounded values to keep the mean exact.
        let f1s: f64 = ALL
            .iter()
            .filter(|l| classes[index(**l)].scored)
            .map(|l| {
                let i = index(*l);
                let tp = confusion[i][i];
                let p = ratio(tp, (0..8).map(|g| confusion[g][i]).sum());
                let r = ratio(tp, confusion[i].iter().sum());
                if p + r > 0.0 {
                    2.0 * p * r / (p + r)
                } else {
                    0.0
                }
            })
            .sum();
        f1s / scored.len() as f64
    };
    let response_counted_as_prevention = (0..6).map(|p| confusion[6][p]).sum();
    Metrics {
        rows,
        coverage: r4(ratio(classified, should_classify)),
        accuracy: r4(ratio(correct, rows)),
        macro_f1: r4(macro_f1),
        response_counted_as_prevention,
        classes,
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::{Level as L, None as N, Response as R};

    #[test]
    fn perfect_predictions() {
        let m = metrics(&[(L(1), L(1)), (L(6), L(6)), (R, R), (N, N)]);
        assert_eq!(
            (m.rows, m.accuracy, m.coverage, m.macro_f1),
            (4, 1.0, 1.0, 1.0)
        );
        // Only 1, 6 and response are scored; empty classes are left out.
        assert_eq!(m.classes.iter().filter(|c| c.scored).count(), 3);
    }

    #[test]
    fn hand_computed_case() {
        // gold 1,1,2,2,5 ; predicted 1,2,2,none,1
        let m = metrics(&[
            (L(1), L(1)),
            (L(1), L(2)),
            (L(2), L(2)),
            (L(2), N),
            (L(5), L(1)),
        ]);
        assert_eq!(m.accuracy, 0.4);
        // 4 of the 5 rows labeled with a level were placed somewhere.
        assert_eq!(m.coverage, 0.8);
        // class 1: tp 1, predicted 2, support 2 -> p .5 r .5 f1 .5
        assert_eq!(
            (m.classes[0].precision, m.classes[0].recall, m.classes[0].f1),
            (0.5, 0.5, 0.5)
        );
        // class 2: tp 1, predicted 2, support 2 -> f1 .5
        assert_eq!(m.classes[1].f1, 0.5);
        // class 5: tp 0, support 1 -> f1 0; classes 3,4,6,response have no evidence.
        assert_eq!(m.classes[4].f1, 0.0);
        assert!(!m.classes[2].scored);
        assert_eq!(m.macro_f1, 0.3333);
        assert_eq!(m.confusion[1][7], 1, "gold 2 predicted unclassified");
    }

    #[test]
    fn all_wrong() {
        let m = metrics(&[(L(1), L(6)), (L(6), L(1)), (R, L(3))]);
        assert_eq!((m.accuracy, m.macro_f1), (0.0, 0.0));
        assert_eq!(m.response_counted_as_prevention, 1);
        assert_eq!(m.classes[2].precision, 0.0);
        assert_eq!(m.classes[6].recall, 0.0);
    }

    #[test]
    fn no_rows() {
        let m = metrics(&[]);
        assert_eq!(
            (m.rows, m.accuracy, m.coverage, m.macro_f1),
            (0, 0.0, 0.0, 0.0)
        );
    }
}
