//! Generates a deterministic benchmark portfolio on stdout:
//! `cargo run --release --example gen_portfolio -- 1000000 > portfolio.csv`.
//!
//! Columns id, organization, activity, budget, year; activity text mixes every
//! Spectrum level, after-harm response work and rows no rule should claim, in
//! proportions like a real program office's aggregate (about 150 bytes a row).

use std::io::BufWriter;

/// A small, fixed pseudo-random sequence (SplitMix64) so every run is identical.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const ORGS: &[&str] = &[
    "Northstar Youth Alliance",
    "Prairie Health Collaborative",
    "Metro Anti-Trafficking Coalition",
    "Lakeside Sexual Assault Center",
    "Hospitality Partners for Safe Stays",
    "Tribal Women's Wellness Circle",
    "County Attorney's Office",
    "River Valley Family Services",
    "Eastside Community Action",
    "Harbor City Schools",
];
const AUDIENCE: &[&str] = &[
    "middle school students",
    "high school students",
    "parents",
    "girls in foster care",
    "college athletes",
    "youth in shelters",
    "teens",
];
const PROVIDERS: &[&str] = &[
    "school nurses",
    "hotel staff",
    "truck drivers",
    "emergency department physicians",
    "child welfare caseworkers",
    "bartenders",
    "coaches",
];
const TOPIC: &[&str] = &[
    "healthy relationships",
    "online safety and grooming",
    "consent and respect",
    "recruitment tactics used by traffickers",
    "dating violence",
];
const SETTING: &[&str] = &[
    "in three school districts",
    "across the county",
    "at the community center",
    "in rural towns",
    "during the summer",
    "each quarter",
];

fn activity(rng: &mut Rng) -> String {
    let roll = rng.next() % 100;
    let a = rng.pick(AUDIENCE);
    let p = rng.pick(PROVIDERS);
    let t = rng.pick(TOPIC);
    let s = rng.pick(SETTING);
    match roll {
        0..=24 => match rng.next() % 3 {
            0 => format!("Deliver a {t} curriculum to {a} {s}, with weekly sessions and take-home activities"),
            1 => format!("Skill-building workshops for {a} on {t} {s}, led by trained prevention educators"),
            _ => format!("Mentoring groups for {a} focused on {t} and self-esteem {s}"),
        },
        25..=39 => match rng.next() % 3 {
            0 => format!("Public awareness campaign on {t} using billboards, radio and social media {s}"),
            1 => format!("Presentations to faith and civic groups about {t} {s}, with resource tables at events"),
            _ => format!("Community forum and film screening on {t} for neighborhood residents {s}"),
        },
        40..=54 => match rng.next() % 2 {
            0 => format!("Train {p} to recognize and respond to signs of exploitation {s}"),
            _ => format!("Webinar series and technical assistance for {p} on {t} {s}"),
        },
        55..=62 => format!("Convene the regional coalition and task force with schools, health care and law enforcement {s}"),
        63..=70 => match rng.next() % 2 {
            0 => format!("Member hotels adopt a company-wide policy and reporting protocol for {p} {s}"),
            _ => "Youth-serving organizations adopt background checks and a code of conduct for volunteers".to_string(),
        },
        71..=76 => format!("Advocate with the city council for an ordinance licensing massage businesses and testify on the state bill {s}"),
        77..=91 => match rng.next() % 3 {
            0 => format!("24-hour crisis hotline and case management for survivors {s}"),
            1 => format!("Emergency shelter, legal advocacy and therapy for trafficking victims {s}"),
            _ => format!("Prosecution of traffickers and restitution for victims {s}"),
        },
        92..=95 => format!("Annual fundraising gala and silent auction for donors {s}"),
        _ => format!("Replace the office copier and update the staff phone list {s}"),
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Rng(0x5EED_2026);
    let out = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let mut csv = csv::Writer::from_writer(&mut w);
    csv.write_record(["id", "organization", "activity", "budget", "year"])
        .unwrap();
    for i in 1..=n {
        let budget = format!("${},{:03}", 1 + rng.next() % 90, rng.next() % 1000);
        let year = (2022 + rng.next() % 4).to_string();
        let org = rng.pick(ORGS);
        csv.write_record([
            format!("P{i:07}").as_str(),
            org,
            &activity(&mut rng),
            &budget,
            &year,
        ])
        .unwrap();
    }
    csv.flush().unwrap();
}
