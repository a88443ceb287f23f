//! Bytes → UTF-8 CSV text: encoding detection and delimiter sniffing.
//!
//! Spreadsheets export UTF-8 with or without a byte-order mark, UTF-16 with a
//! BOM ("Unicode Text"), or Windows-1252 (Excel on Windows, "CSV" without
//! UTF-8). The first 64 KiB decide: a BOM names its encoding; valid UTF-8 is
//! UTF-8; anything else is read as Windows-1252. Decoding streams, so a large
//! file never has to fit in memory.

use std::io::{self, Chain, Cursor, Read};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// How much of the start of a file is looked at to decide its encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// The encoding a file was read with, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub bom: bool,
    /// Given with `--encoding` rather than detected.
    pub forced: bool,
}

impl Detected {
    /// A note for stderr when the file is not plain UTF-8.
    pub fn note(&self) -> Option<String> {
        if self.encoding == UTF_8 && !self.bom && !self.forced {
            return None;
        }
        let how = match (self.forced, self.bom) {
            (true, _) => "as asked with --encoding",
            (false, true) => "from its byte-order mark",
            (false, false) => "because it is not valid UTF-8",
        };
        Some(format!("read as {} ({how})", self.encoding.name()))
    }

    /// Plain UTF-8 is passed through and validated cell by cell.
    pub fn passthrough(&self) -> bool {
        self.encoding == UTF_8
    }
}

/// Looks up an `--encoding` label (`utf-8`, `utf-16le`, `windows-1252`, `latin1`, …).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

type Head = Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>;

/// Reads the start of `reader`, decides the encoding, and returns a reader of
/// UTF-8 bytes (BOM removed) plus the decoded start of the text for sniffing.
pub fn open(
    mut reader: Box<dyn Read + Send>,
    forced: Option<&'static Encoding>,
) -> io::Result<(Box<dyn Read + Send>, Detected, String)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    let detected = detect(&head, forced);
    let sample = {
        let (text, _, _) = detected.encoding.decode(&head);
        let mut text = text.into_owned();
        if text.starts_with('\u{feff}') {
            text.remove(0);
        }
        text
    };
    let chained: Head = Cursor::new(head).chain(reader);
    let out: Box<dyn Read + Send> = if detected.passthrough() {
        let mut chained = chained;
        if detected.bom {
            let mut bom = [0u8; 3];
            chained.read_exact(&mut bom)?;
        }
        Box::new(chained)
    } else {
        Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(detected.encoding))
                .bom_override(!detected.forced || detected.bom)
                .build(chained),
        )
    };
    Ok((out, detected, sample))
}

fn detect(head: &[u8], forced: Option<&'static Encoding>) -> Detected {
    let bom = Encoding::for_bom(head);
    if let Some(enc) = forced {
        let has_bom = bom.is_some_and(|(e, _)| e == enc);
        return Detected {
            encoding: enc,
            bom: has_bom,
            forced: true,
        };
    }
    if let Some((enc, _)) = bom {
        return Detected {
            encoding: enc,
            bom: true,
            forced: false,
        };
    }
    if let Some(enc) = utf16_without_bom(head) {
        return Detected {
            encoding: enc,
            bom: false,
            forced: false,
        };
    }
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the sample: fine.
        Err(e) => e.error_len().is_none(),
    };
    let encoding = if valid { UTF_8 } else { WINDOWS_1252 };
    Detected {
        encoding,
        bom: false,
        forced: false,
    }
}

/// UTF-16 without a BOM shows as a NUL in every other byte of ASCII text.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let sample = &head[..head.len().min(1024) & !1];
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 10 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Parses a `--delimiter` value: a single character, or `tab`, `comma`,
/// `semicolon`, `pipe`.
pub fn delimiter_for_label(label: &str) -> Option<u8> {
    match label.trim().to_ascii_lowercase().as_str() {
        "tab" | "\\t" | "\t" => Some(b'\t'),
        "comma" | "," => Some(b','),
        "semicolon" | ";" => Some(b';'),
        "pipe" | "|" => Some(b'|'),
        s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Some(s.as_bytes()[0])
        }
        _ => None,
    }
}

/// Picks the delimiter from the start of the text. For each candidate
/// (comma, semicolon, tab, pipe) the first record that contains it sets the
/// expected count (usually the header, or a title row padded by Excel); the
/// candidate that most records agree with wins, comma on a tie. Delimiters
/// inside quoted cells, including cells that span lines, are not counted.
pub fn sniff_delimiter(sample: &str) -> u8 {
    let candidates = [b',', b';', b'\t', b'|'];
    let records = count_per_record(sample, &candidates, 12);
    let mut best = (b',', 0usize, 0usize);
    for (k, d) in candidates.iter().enumerate() {
        let Some(first) = records.iter().map(|r| r[k]).find(|c| *c > 0) else {
            continue;
        };
        let agree = records.iter().filter(|r| r[k] == first).count();
        if (agree, first) > (best.1, best.2) {
            best = (*d, agree, first);
        }
    }
    best.0
}

/// Delimiter counts for each of the first `max` non-blank records.
fn count_per_record(sample: &str, candidates: &[u8; 4], max: usize) -> Vec<[usize; 4]> {
    let mut out = Vec::new();
    let mut counts = [0usize; 4];
    let mut quoted = false;
    let mut content = false;
    for b in sample.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if content {
                    out.push(counts);
                    if out.len() == max {
                        return out;
                    }
                }
                counts = [0; 4];
                content = false;
                continue;
            }
            _ if !quoted => {
                if let Some(k) = candidates.iter().position(|c| *c == b) {
                    counts[k] += 1;
                }
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            content = true;
        }
    }
    if content && out.len() < max {
        out.push(counts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], forced: Option<&'static Encoding>) -> (String, Detected) {
        let (mut r, d, _) = open(Box::new(Cursor::new(bytes.to_vec())), forced).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        (out, d)
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let (text, d) = read_all(b"\xef\xbb\xbfid,activity\n1,Caf\xc3\xa9\n", None);
        assert_eq!(text, "id,activity\n1,Café\n");
        assert!(d.bom && d.encoding == UTF_8);
        assert_eq!(
            d.note().unwrap(),
            "read as UTF-8 (from its byte-order mark)"
        );
        let (text, d) = read_all(b"id,activity\n1,Caf\xc3\xa9\n", None);
        assert_eq!(text, "id,activity\n1,Café\n");
        assert_eq!(d.note(), None);
    }

    #[test]
    fn utf16_with_bom_and_without() {
        let text = "id\tactivity\n1\tCafé training\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(read_all(&le, None).0, text);
        assert_eq!(read_all(&be, None).0, text);
        let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let (decoded, d) = read_all(&bare, None);
        assert_eq!(decoded, text);
        assert_eq!(d.encoding, UTF_16LE);
    }

    #[test]
    fn windows_1252_fallback_and_override() {
        let (text, d) = read_all(b"id,activity\n1,Caf\xe9 \x93quotes\x94\n", None);
        assert_eq!(text, "id,activity\n1,Café “quotes”\n");
        assert_eq!(
            d.note().unwrap(),
            "read as windows-1252 (because it is not valid UTF-8)"
        );
        let (text, d) = read_all(b"a\n\xe9\n", encoding_for_label("latin1"));
        assert_eq!(text, "a\né\n");
        assert!(d.forced);
    }

    #[test]
    fn utf8_cut_at_the_sniff_boundary_is_still_utf8() {
        let mut bytes = vec![b'a'; SNIFF_BYTES - 1];
        bytes.extend_from_slice("é".as_bytes());
        let (text, d) = read_all(&bytes, None);
        assert_eq!(d.encoding, UTF_8);
        assert!(text.ends_with('é'));
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(
            sniff_delimiter("id;activity;budget\n1;Teach, a class;5\n"),
            b';'
        );
        assert_eq!(sniff_delimiter("id\tactivity\n1\tTeach\n"), b'\t');
        assert_eq!(sniff_delimiter("id|activity\n1|Teach\n"), b'|');
        assert_eq!(sniff_delimiter("id,activity\n1,\"Teach; learn\"\n"), b',');
        assert_eq!(
            sniff_delimiter("Portfolio 2025\n\nid;activity\n1;Teach\n"),
            b';'
        );
        assert_eq!(sniff_delimiter("activity\nTeach\n"), b',');
        assert_eq!(delimiter_for_label("tab"), Some(b'\t'));
        assert_eq!(delimiter_for_label(";"), Some(b';'));
        assert_eq!(delimiter_for_label("\""), None);
    }
}
