//! Renderers: one file per output format, each writing an [`Assessment`]
//! (or part of it) to the `io::Write` it is given. Order is always explicit
//! (levels, then groups sorted by name), so reports are byte-stable.
//!
//! [`Assessment`]: crate::assess::Assessment

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod svg;
pub mod table;

use crate::assess::{Assessment, pct};

/// `examples/a.csv (48 rows), examples/b.csv (20 rows)`.
pub fn inputs_line(a: &Assessment) -> String {
    a.inputs
        .iter()
        .map(|i| format!("{} ({} rows)", i.name, i.accounting.rows))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `spectrum-default 1.0.0 (built-in)`.
pub fn rules_line(a: &Assessment) -> String {
    format!(
        "{} {} ({})",
        a.rules.name,
        a.rules.version,
        a.rules.sources.join(" + ")
    )
}

/// Upstream headline: `8 of 38 prevention activities (21%) at levels 5-6; target 30%`.
pub fn upstream_line(a: &Assessment) -> String {
    let levels = a
        .upstream
        .levels
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = format!(
        "{} of {} prevention activities ({}) at levels {levels}; target {} ({})",
        a.upstream.activities,
        a.prevention_vs_response.prevention,
        pct(a.upstream.share),
        pct(a.upstream.target),
        if a.upstream.met { "met" } else { "not met" }
    );
    if let (Some(ws), Some(w)) = (a.upstream.weighted_share, &a.weight) {
        s.push_str(&format!("; {} of {}", pct(ws), w.column));
    }
    s
}

/// A number with thousands separators and at most two decimals.
pub fn amount(v: f64) -> String {
    let cents = (v * 100.0).round() as i128;
    let whole = cents / 100;
    let frac = (cents % 100).abs();
    let digits = whole.abs().to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if cents < 0 { "-" } else { "" };
    if frac == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac:02}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_group_thousands() {
        assert_eq!(super::amount(1234567.0), "1,234,567");
        assert_eq!(super::amount(12500.5), "12,500.50");
        assert_eq!(super::amount(0.0), "0");
        assert_eq!(super::amount(999.0), "999");
    }
}
