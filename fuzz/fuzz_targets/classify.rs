//! Classifier: any text gets a consistent answer — a level exactly when the
//! category is prevention, scores that are never negative, confidence 0-1.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use spectrum_audit::classify::{Category, Classifier};
use spectrum_audit::rules::builtin;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::new(&builtin().unwrap()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = classifier().classify(&text);
    assert_eq!(c.level.is_some(), c.category == Category::Prevention);
    assert!(c.scores.iter().all(|s| *s >= 0.0));
    assert!((0.0..=1.0).contains(&c.confidence));
    if let Some(l) = c.level {
        assert!((1..=6).contains(&l));
        let top = c.scores.iter().copied().fold(0.0, f64::max);
        assert_eq!(c.scores[usize::from(l) - 1], top);
        assert!(!c.also.contains(&l));
    }
});
