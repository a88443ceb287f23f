//! Text normalization shared by rule terms and activity text.
//!
//! Both sides of a match go through the same function, so a term written as
//! `Safe-Harbor` in a rule file matches "safe harbor", "SAFE HARBOR" and
//! "safe‑harbor" (non-breaking hyphen) in an activity. The normalized form is
//! lowercase letters and digits separated by single ASCII spaces, with no
//! leading or trailing space. Every other character — punctuation, hyphens,
//! quotes (straight or curly), symbols, any kind of whitespace — is a word
//! break. This makes whole-word checks a one-byte look at the neighbours.
//!
//! ASCII input takes a byte-at-a-time fast path; only non-ASCII characters
//! pay for Unicode lowercasing.

/// Normalizes `input` into `out` (cleared first) and returns nothing; `out`
/// is reused across calls so the hot path does not allocate.
pub fn normalize_into(input: &str, out: &mut String) {
    out.clear();
    out.reserve(input.len());
    // `pending_space` defers writing a separator until the next word starts,
    // which collapses runs and drops leading/trailing separators.
    let mut pending_space = false;
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            if b.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(b.to_ascii_lowercase() as char);
            } else {
                pending_space = true;
            }
            i += 1;
            continue;
        }
        // Non-ASCII: decode one char. `input` is a str, so this cannot fail.
        let ch = input[i..].chars().next().unwrap_or(' ');
        i += ch.len_utf8();
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for lower in ch.to_lowercase() {
                out.push(lower);
            }
        } else if is_combining_mark(ch) && !out.is_empty() && !pending_space {
            // Keep decomposed accents attached to their letter.
            out.push(ch);
        } else {
            pending_space = true;
        }
    }
}

/// Returns the normalized form of `input` as a new string.
pub fn normalize(input: &str) -> String {
    let mut out = String::new();
    normalize_into(input, &mut out);
    out
}

/// Combining diacritical marks (U+0300–U+036F and the extended blocks); they
/// are not alphanumeric but belong to the preceding letter.
fn is_combining_mark(ch: char) -> bool {
    matches!(ch as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Normalizes a column header for matching: case-, space-, hyphen- and
/// underscore-insensitive ("Activity_Description" == "activity description").
pub fn header_key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-' && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Truncates `s` to at most `max` characters, adding `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        let mut cut: String = head.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        head
    }
}

/// Edit distance between two short strings, for "did you mean" suggestions.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `wanted` (by header key), if it is close enough
/// to be a plausible typo.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let key = header_key(wanted);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let ck = header_key(cand);
        let d = if ck.starts_with(&key) || key.starts_with(&ck) {
            key.len().abs_diff(ck.len()).min(2)
        } else {
            levenshtein(&key, &ck)
        };
        let limit = (key.chars().count().max(ck.chars().count()) / 3).max(2);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_collapses() {
        assert_eq!(normalize("  Safe   HARBOR  "), "safe harbor");
        assert_eq!(
            normalize("Anti-Trafficking, policy!"),
            "anti trafficking policy"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("!!! ---"), "");
    }

    #[test]
    fn folds_quotes_and_unicode_punctuation() {
        assert_eq!(
            normalize("men’s “clean hotel” policy"),
            "men s clean hotel policy"
        );
        assert_eq!(
            normalize("men's \"clean hotel\" policy"),
            "men s clean hotel policy"
        );
        assert_eq!(
            normalize("safe\u{2011}harbor\u{00a0}law"),
            "safe harbor law"
        );
        assert_eq!(normalize("K–12 — schools"), "k 12 schools");
    }

    #[test]
    fn unicode_lowercase_keeps_letters() {
        assert_eq!(normalize("ÉDUCATION Über"), "éducation über");
        assert_eq!(normalize("İstanbul"), "i\u{307}stanbul");
        // Decomposed accent stays with its letter.
        assert_eq!(normalize("cafe\u{301} x"), "cafe\u{301} x");
    }

    #[test]
    fn header_keys_ignore_case_space_underscore() {
        assert_eq!(header_key("Activity_Description"), "activitydescription");
        assert_eq!(header_key(" activity description "), "activitydescription");
        assert_eq!(header_key("\u{feff}ID"), "id");
    }

    #[test]
    fn truncation_marks_cut() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("abcd", 4), "abcd");
        assert_eq!(truncate_chars("ééééé", 3), "éé…");
    }

    #[test]
    fn nearest_finds_typos() {
        let cols = ["id", "Organization", "activity", "budget"];
        assert_eq!(nearest("organisation", cols), Some("Organization"));
        assert_eq!(nearest("budjet", cols), Some("budget"));
        assert_eq!(nearest("xyzzy", cols), None);
    }
}
