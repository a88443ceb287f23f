//! Input reader: any bytes either read as activities — every row accounted
//! for — or end in one error; never a panic. Read in batches and decoded as
//! the worker threads do, the same bytes give the same activities and the
//! same error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use spectrum_audit::activity::{Accounting, Activity, assign};
use spectrum_audit::classify::{Classifier, Scratch};
use spectrum_audit::input::{ActivityReader, ColumnOptions, ReadOptions, Records};
use spectrum_audit::rules::{RuleSet, builtin};

fn rules() -> &'static (RuleSet, Classifier) {
    static R: OnceLock<(RuleSet, Classifier)> = OnceLock::new();
    R.get_or_init(|| {
        let r = builtin().unwrap();
        let c = Classifier::new(&r).unwrap();
        (r, c)
    })
}

fn open(data: &[u8]) -> Option<ActivityReader> {
    let (rules, _) = rules();
    let opts = ColumnOptions { manual_levels: true, ..Default::default() };
    ActivityReader::from_bytes("fuzz.csv", data.to_vec(), &opts, &ReadOptions::default(), rules).ok()
}

/// (row, id, text) of every activity, and the error that stopped reading.
fn in_batches(mut reader: ActivityReader) -> (Vec<(u64, String, String)>, Option<String>) {
    let decoder = reader.decoder();
    let (mut batch, mut a) = (Records::default(), Activity::default());
    let mut out = Vec::new();
    loop {
        let read = reader.read_batch(&mut batch);
        // Cells borrow from the batch, so they live no longer than one fill.
        let mut cells = Vec::new();
        for i in 0..batch.len() {
            let rec = batch.get(i);
            match decoder.cells(&rec, &mut cells).and_then(|()| decoder.activity(&rec, &cells, &mut a)) {
                Ok(true) => out.push((a.row, a.id.clone(), a.text.clone())),
                Ok(false) => {}
                Err(e) => return (out, Some(e.to_string())),
            }
        }
        if let Err(e) = read {
            return (out, Some(e.to_string()));
        }
        if batch.is_empty() {
            return (out, None);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (_, classifier) = rules();
    let Some(mut reader) = open(data) else {
        return;
    };
    let mut acc = Accounting::default();
    let mut scratch = Scratch::default();
    let mut rows = Vec::new();
    let error = loop {
        match reader.next_activity() {
            Ok(Some(a)) => {
                acc.add(assign(classifier, &a, &mut scratch).category);
                rows.push((a.row, a.id, a.text));
            }
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    if let Some(batched) = open(data) {
        assert_eq!(in_batches(batched), (rows, error.clone()));
    }
    if error.is_some() {
        return;
    }
    acc.add_blank(reader.counts.blank);
    assert_eq!(acc.rows, reader.counts.rows);
    assert!(acc.balanced());
});
