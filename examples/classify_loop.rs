//! Classifies a fixed mix of activity texts many times, for profiling the
//! classifier alone (e.g. under `valgrind --tool=callgrind` or `perf`):
//! `cargo run --release --example classify_loop -- 20000`, or with the
//! `activity` column of a portfolio as the mix:
//! `cargo run --release --example classify_loop -- 1000000 portfolio.csv`.

use spectrum_audit::classify::{Classification, Classifier, Scratch};

const TEXTS: &[&str] = &[
    "Deliver a healthy relationships curriculum to middle school students in three school districts, with weekly sessions",
    "Public awareness campaign on recruitment tactics used by traffickers using billboards, radio and social media",
    "Train school nurses to recognize and respond to signs of exploitation across the county",
    "Convene the regional coalition and task force with schools, health care and law enforcement",
    "Member hotels adopt a company-wide policy and reporting protocol for front desk staff",
    "Advocate with the city council for an ordinance licensing massage businesses and testify on the state bill",
    "24-hour crisis hotline and case management for survivors of sexual assault",
    "Replace the office copier and update the staff phone list",
];

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let owned: Vec<String> = match std::env::args().nth(2) {
        Some(path) => {
            let mut r = csv::Reader::from_path(path).unwrap();
            let col = r
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "activity")
                .expect("an `activity` column");
            r.records()
                .take(100_000)
                .map(|rec| rec.unwrap()[col].to_string())
                .collect()
        }
        None => TEXTS.iter().map(ToString::to_string).collect(),
    };
    let rules = spectrum_audit::rules::builtin().unwrap();
    let classifier = Classifier::new(&rules).unwrap();
    let mut scratch = Scratch::default();
    let mut c = Classification::default();
    let mut levels = [0u64; 8];
    let t = std::time::Instant::now();
    for i in 0..n {
        classifier.classify_into(&owned[i % owned.len()], &mut scratch, &mut c);
        levels[c.level.map_or(7, usize::from)] += 1;
    }
    let el = t.elapsed();
    println!(
        "{n} rows in {el:?} ({:.0} ns/row) {levels:?}",
        el.as_nanos() as f64 / n as f64
    );
}
