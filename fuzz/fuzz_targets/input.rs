//! Input reader: any bytes either read as activities — every row accounted
//! for — or end in one error; never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use spectrum_audit::activity::{Accounting, assign};
use spectrum_audit::classify::{Classifier, Scratch};
use spectrum_audit::input::{ActivityReader, ColumnOptions, ReadOptions};
use spectrum_audit::rules::{RuleSet, builtin};

fn rules() -> &'static (RuleSet, Classifier) {
    static R: OnceLock<(RuleSet, Classifier)> = OnceLock::new();
    R.get_or_init(|| {
        let r = builtin().unwrap();
        let c = Classifier::new(&r).unwrap();
        (r, c)
    })
}

fuzz_target!(|data: &[u8]| {
    let (rules, classifier) = rules();
    let opts = ColumnOptions { manual_levels: true, ..Default::default() };
    let Ok(mut reader) = ActivityReader::from_bytes("fuzz.csv", data.to_vec(), &opts, &ReadOptions::default(), rules) else {
        return;
    };
    let mut acc = Accounting::default();
    let mut scratch = Scratch::default();
    loop {
        match reader.next_activity() {
            Ok(Some(a)) => acc.add(assign(classifier, &a, &mut scratch).category),
            Ok(None) => break,
            Err(_) => return,
        }
    }
    acc.add_blank(reader.counts.blank);
    assert_eq!(acc.rows, reader.counts.rows);
    assert!(acc.balanced());
});
