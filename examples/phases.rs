//! Times the stages of `assess` separately on one file, for profiling:
//! `cargo run --release --example phases -- portfolio.csv`.

use std::time::Instant;

use spectrum_audit::activity::assign;
use spectrum_audit::classify::{Classifier, Scratch};
use spectrum_audit::input::{ActivityReader, ColumnOptions, InputPath, ReadOptions};

fn main() {
    let path = std::env::args().nth(1).expect("usage: phases FILE");
    let rules = spectrum_audit::rules::builtin().unwrap();
    let t = Instant::now();
    let classifier = Classifier::new(&rules).unwrap();
    println!("compile rules: {:?}", t.elapsed());
    let input = InputPath::new(std::path::Path::new(&path));
    let opts = ColumnOptions {
        manual_levels: true,
        ..Default::default()
    };

    let t = Instant::now();
    let mut reader =
        ActivityReader::open_with(&input, &opts, &ReadOptions::default(), &rules).unwrap();
    let mut n = 0u64;
    let mut bytes = 0usize;
    while let Some(a) = reader.next_activity().unwrap() {
        n += 1;
        bytes += a.text.len();
    }
    let read = t.elapsed();
    println!("read {n} activities ({bytes} bytes of text): {read:?}");

    let texts: Vec<String> = {
        let mut reader =
            ActivityReader::open_with(&input, &opts, &ReadOptions::default(), &rules).unwrap();
        let mut v = Vec::new();
        while let Some(a) = reader.next_activity().unwrap() {
            v.push(a.text);
        }
        v
    };
    let mut scratch = Scratch::default();
    let t = Instant::now();
    let mut levels = [0u64; 8];
    for text in &texts {
        let c = classifier.classify_with(text, &mut scratch);
        levels[c.level.map_or(7, usize::from)] += 1;
    }
    let el = t.elapsed();
    println!(
        "classify: {el:?} ({:.0} ns/row, {:.0} MB/s) {levels:?}",
        el.as_nanos() as f64 / texts.len() as f64,
        bytes as f64 / el.as_secs_f64() / 1e6
    );
    let t = Instant::now();
    let mut norm = String::new();
    for text in &texts {
        spectrum_audit::text::normalize_into(text, &mut norm);
    }
    println!("normalize only: {:?}", t.elapsed());
    let mut reader =
        ActivityReader::open_with(&input, &opts, &ReadOptions::default(), &rules).unwrap();
    let t = Instant::now();
    while let Some(a) = reader.next_activity().unwrap() {
        let _ = assign(&classifier, &a, &mut scratch);
    }
    println!("read + assign: {:?}", t.elapsed());
}
