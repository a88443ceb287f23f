//! Microbenchmarks: classifier throughput on a realistic mix of activity
//! texts, and rule compilation for the built-in rules and a 10,000-term file.
//! Run with `cargo bench --bench classify`; see benches/README.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use spectrum_audit::classify::{Classifier, Scratch};
use spectrum_audit::rules::{RuleSource, builtin, load};

/// A realistic mix: every level, response work, and rows no rule claims.
const TEXTS: &[&str] = &[
    "Deliver a healthy relationships curriculum to middle school students in three school districts, with weekly sessions",
    "Skill-building workshops for teens on online safety and grooming at the community center",
    "Public awareness campaign on recruitment tactics used by traffickers using billboards, radio and social media",
    "Presentations to faith and civic groups about consent and respect, with resource tables at events",
    "Train school nurses to recognize and respond to signs of exploitation across the county",
    "Webinar series and technical assistance for hotel staff on dating violence each quarter",
    "Convene the regional coalition and task force with schools, health care and law enforcement",
    "Member hotels adopt a company-wide policy and reporting protocol for front desk staff",
    "Youth-serving organizations adopt background checks and a code of conduct for volunteers",
    "Advocate with the city council for an ordinance licensing massage businesses and testify on the state bill",
    "24-hour crisis hotline and case management for survivors of sexual assault",
    "Emergency shelter, legal advocacy and therapy for trafficking victims",
    "Annual fundraising gala and silent auction for donors",
    "Replace the office copier and update the staff phone list",
    "Café Esperanza: talleres para padres sobre la prevención del abuso — “Respeto” unit",
];

fn classify(c: &mut Criterion) {
    let rules = builtin().unwrap();
    let classifier = Classifier::new(&rules).unwrap();
    let bytes: usize = TEXTS.iter().map(|t| t.len()).sum();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("mix (bytes/s)", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for t in TEXTS {
                black_box(classifier.classify_with(black_box(t), &mut scratch));
            }
        })
    });
    group.throughput(Throughput::Elements(TEXTS.len() as u64));
    group.bench_function("mix (rows/s)", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for t in TEXTS {
                black_box(classifier.classify_with(black_box(t), &mut scratch));
            }
        })
    });
    group.finish();
}

/// A standalone rules file with `terms_per_level` generated terms per level.
fn big_rules(terms_per_level: usize) -> String {
    let mut s = String::from("format = 1\nname = \"big\"\nversion = \"1\"\n");
    for n in 1..=6 {
        s.push_str(&format!(
            "[[level]]\nnumber = {n}\nname = \"L{n}\"\nshort = \"l{n}\"\ndescription = \"d\"\nexample = \"e\"\nrecommendation = \"r\"\nterms = ["
        ));
        for i in 0..terms_per_level {
            // Distinct two-word phrases and some wildcards.
            let star = if i % 7 == 0 { "*" } else { "" };
            s.push_str(&format!("\"w{n}x{i} term{}{star}\", ", i % 97));
        }
        s.push_str("]\n");
    }
    s
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("built-in", "load+compile"), |b| {
        b.iter(|| {
            let rules = builtin().unwrap();
            black_box(Classifier::new(&rules).unwrap())
        })
    });
    let text = big_rules(10_000 / 6 + 1);
    group.bench_function(BenchmarkId::new("10k terms", "load+compile"), |b| {
        b.iter(|| {
            let rules = load(&[RuleSource {
                name: "big.toml".into(),
                text: text.clone(),
            }])
            .unwrap();
            black_box(Classifier::new(&rules).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, classify, compile);
criterion_main!(benches);
