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
//! ASCII input takes a table-driven fast path; only non-ASCII characters
//! pay for Unicode lowercasing.

/// What each ASCII byte becomes: its lowercase form for letters and digits,
/// 0 for a word break. Bytes 128 and up start a multi-byte character.
const ASCII_MAP: [u8; 128] = {
    let mut map = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        map[b] = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            0
        };
        b += 1;
    }
    map
};

/// Normalizes `input` into `out` as UTF-8 bytes (cleared first); `out` is
/// reused across calls so the hot path does not allocate.
pub fn normalize_bytes_into(input: &str, out: &mut Vec<u8>) {
    out.clear();
    if input.is_ascii() {
        normalize_ascii(input.as_bytes(), out);
        return;
    }
    out.reserve(input.len());
    // `pending_space` defers writing a separator until the next word starts,
    // which collapses runs and drops leading/trailing separators.
    let mut pending_space = false;
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 128 {
            let m = ASCII_MAP[usize::from(b)];
            if m == 0 {
                pending_space = true;
            } else {
                if pending_space && !out.is_empty() {
                    out.push(b' ');
                }
                pending_space = false;
                out.push(m);
            }
            i += 1;
            continue;
        }
        // Non-ASCII: decode one char. `input` is a str, so this cannot fail.
        let ch = input[i..].chars().next().unwrap_or(' ');
        i += ch.len_utf8();
        let mut buf = [0u8; 4];
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(b' ');
            }
            pending_space = false;
            for lower in ch.to_lowercase() {
                out.extend_from_slice(lower.encode_utf8(&mut buf).as_bytes());
            }
        } else if is_combining_mark(ch) && !out.is_empty() && !pending_space {
            // Keep decomposed accents attached to their letter.
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        } else {
            pending_space = true;
        }
    }
}

/// The ASCII fast path: runs of letters and digits are copied whole and
/// lowercased in place.
fn normalize_ascii(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Skip a run of separators, then copy a run of letters and digits whole.
        while i < bytes.len() && ASCII_MAP[usize::from(bytes[i] & 0x7f)] == 0 {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && ASCII_MAP[usize::from(bytes[i] & 0x7f)] != 0 {
            i += 1;
        }
        if start < i {
            if !out.is_empty() {
                out.push(b' ');
            }
            let from = out.len();
            out.extend_from_slice(&bytes[start..i]);
            out[from..].make_ascii_lowercase();
        }
    }
}

/// Normalizes `input` into `out` (cleared first).
pub fn normalize_into(input: &str, out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    normalize_bytes_into(input, &mut bytes);
    // Only whole characters are ever written, so this cannot fail.
    *out = String::from_utf8(bytes).unwrap_or_default();
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
