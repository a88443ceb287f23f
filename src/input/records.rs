//! CSV records parsed straight into a batch.
//!
//! [`CsvInput`] runs the csv crate's parser (`csv_core`) over its own input
//! buffer and lets it write each record's cells directly into a [`Records`]
//! batch: no intermediate record to copy from, and no second pass over the
//! bytes. It also knows two things the plain parser does not say:
//!
//! - **where a record starts**: blank lines before a record are skipped here
//!   (the parser skips them too, silently), so the line reported for a record
//!   is the line its first cell is on, for `\n`, `\r\n` or mixed endings;
//! - **a quote left open at the end of the input**: the parser would read the
//!   rest of the file as one cell without complaint. Only the final record can
//!   end inside quotes, so the check runs once, at the end: the parser is fed
//!   a line break, which ends the record as the end of the input would,
//!   unless it is inside a quoted cell. The quote opened at the start of the
//!   last cell; its line is the record's line plus the line breaks in the
//!   cells before it (inside quotes, line breaks are kept as they are).

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// Input read per call to the underlying reader.
const INPUT_BUFFER: usize = 64 * 1024;
/// Room for cells a batch starts with.
const MIN_BYTES: usize = 4096;
const MIN_ENDS: usize = 64;
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Raw records in input order, their cells undecoded: what
/// [`super::ActivityReader::read_batch`] fills and [`super::RowDecoder`]
/// reads.
#[derive(Debug, Default)]
pub struct Records {
    /// The cells of every record, one after another: `bytes[..used]`. The
    /// rest is room the parser writes into.
    bytes: Vec<u8>,
    used: usize,
    /// Where each cell ends, relative to its record's start, record after
    /// record: `ends[..ends_used]`.
    ends: Vec<usize>,
    ends_used: usize,
    rows: Vec<RecordAt>,
}

#[derive(Debug, Clone, Copy)]
struct RecordAt {
    row: u64,
    line: u64,
    /// Where the record's cells start in `bytes`.
    start: usize,
    /// The record's cells: `ends[first..first + cells]`.
    first: usize,
    cells: usize,
}

impl Records {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of cells held.
    pub fn byte_len(&self) -> usize {
        self.used
    }

    pub fn clear(&mut self) {
        self.used = 0;
        self.ends_used = 0;
        self.rows.clear();
    }

    /// Appends a record given as cells.
    pub(super) fn push<'a>(&mut self, row: u64, line: u64, cells: impl Iterator<Item = &'a [u8]>) {
        let (start, first) = (self.used, self.ends_used);
        for cell in cells {
            self.room_for_bytes(cell.len());
            self.bytes[self.used..self.used + cell.len()].copy_from_slice(cell);
            self.used += cell.len();
            self.room_for_ends(1);
            self.ends[self.ends_used] = self.used - start;
            self.ends_used += 1;
        }
        self.close(row, line, start, first);
    }

    /// Records the cells written since (`start`, `first`) as one record.
    fn close(&mut self, row: u64, line: u64, start: usize, first: usize) {
        self.rows.push(RecordAt {
            row,
            line,
            start,
            first,
            cells: self.ends_used - first,
        });
    }

    /// At least `n` more bytes of room after the used ones.
    fn room_for_bytes(&mut self, n: usize) {
        if self.bytes.len() - self.used < n {
            let len = (self.used + n).max(self.bytes.len() * 2).max(MIN_BYTES);
            self.bytes.resize(len, 0);
        }
    }

    fn room_for_ends(&mut self, n: usize) {
        if self.ends.len() - self.ends_used < n {
            let len = (self.ends_used + n).max(self.ends.len() * 2).max(MIN_ENDS);
            self.ends.resize(len, 0);
        }
    }

    /// The `i`-th record of the batch.
    pub fn get(&self, i: usize) -> Record<'_> {
        let at = self.rows[i];
        Record {
            row: at.row,
            line: at.line,
            start: at.start,
            ends: &self.ends[at.first..at.first + at.cells],
            batch: &self.bytes[..self.used],
        }
    }

    /// The cells of the whole batch as text, when they are all valid UTF-8:
    /// one check for every record (each record then slices its cells from it).
    pub fn text(&self) -> Option<&str> {
        simdutf8::basic::from_utf8(&self.bytes[..self.used]).ok()
    }
}

impl crate::pipeline::Batch for Records {
    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One raw record of a [`Records`] batch.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// 1-based data row number (the header is row 0).
    pub row: u64,
    /// Physical line where the record starts.
    pub line: u64,
    /// Where the record starts in `batch`.
    start: usize,
    /// Where each cell ends, from `start`.
    ends: &'a [usize],
    /// The cells of the whole batch.
    batch: &'a [u8],
}

impl<'a> Record<'a> {
    /// The raw cells, in column order.
    pub fn cells(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (batch, start) = (self.batch, self.start);
        let mut from = start;
        self.ends.iter().map(move |&end| {
            let cell = &batch[from..start + end];
            from = start + end;
            cell
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every cell as text, borrowed from the batch, when the whole record
    /// is valid UTF-8 with no cell over the size limit; false otherwise.
    pub(super) fn decode_whole(&self, out: &mut Vec<&'a str>) -> bool {
        let end = self.start + self.ends.last().copied().unwrap_or(0);
        match simdutf8::basic::from_utf8(&self.batch[self.start..end]) {
            Ok(all) => split(all, 0, self.ends, out),
            Err(_) => {
                out.clear();
                false
            }
        }
    }

    /// [`Record::decode_whole`] for a record of a batch whose text is
    /// `batch` ([`Records::text`]).
    pub(super) fn cells_in(&self, batch: &'a str, out: &mut Vec<&'a str>) -> bool {
        split(batch, self.start, self.ends, out)
    }
}

/// The cells ending at `ends` (relative to `start`) of `text`; false when
/// a cell would split a character or is over the size limit.
fn split<'a>(text: &'a str, start: usize, ends: &[usize], out: &mut Vec<&'a str>) -> bool {
    out.clear();
    let mut from = start;
    for &end in ends {
        let to = start + end;
        // A cell boundary inside a character means invalid cells.
        match text.get(from..to) {
            Some(cell) if cell.len() <= super::MAX_FIELD_BYTES => out.push(cell),
            _ => return false,
        }
        from = to;
    }
    true
}

/// Why reading a record failed.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The input ends inside a quoted cell that opened on this line.
    UnclosedQuote {
        line: u64,
    },
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// A CSV parser over a byte stream; see the module documentation.
pub struct CsvInput {
    core: csv_core::Reader,
    inner: Box<dyn Read + Send>,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    /// The parser has been given input.
    started: bool,
    /// Every record has been read.
    done: bool,
    /// Bytes consumed so far.
    consumed: u64,
    /// Line breaks skipped here between records (the parser's line count
    /// does not include them).
    skipped_lines: u64,
}

impl CsvInput {
    /// Reads `inner` (UTF-8 bytes, any byte-order mark already removed) as
    /// CSV with cells separated by `delimiter`, quoted with `"`.
    pub fn new(inner: Box<dyn Read + Send>, delimiter: u8) -> Self {
        CsvInput {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            inner,
            buf: vec![0; INPUT_BUFFER].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            done: false,
            consumed: 0,
            skipped_lines: 0,
        }
    }

    /// Bytes of input consumed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Refills the input buffer once it is used up; an empty buffer after
    /// this means the end of the input.
    fn fill(&mut self) -> io::Result<()> {
        if self.pos < self.len || self.eof {
            return Ok(());
        }
        (self.pos, self.len) = (0, 0);
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.consumed += n as u64;
    }

    /// Parses the next record into `records` as data row `row`, returning
    /// the line it starts on; `None` at the end of the input. On an error,
    /// `records` is left as it was.
    pub fn read_record(
        &mut self,
        records: &mut Records,
        row: u64,
    ) -> Result<Option<u64>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let (start, first) = (records.used, records.ends_used);
        let result = self.parse(records, row, start, first);
        if !matches!(result, Ok(Some(_))) {
            (records.used, records.ends_used) = (start, first);
            self.done = true;
        }
        result
    }

    fn parse(
        &mut self,
        records: &mut Records,
        row: u64,
        start: usize,
        first: usize,
    ) -> Result<Option<u64>, ReadError> {
        // Blank lines before the record.
        let line = loop {
            self.fill()?;
            let input = &self.buf[self.pos..self.len];
            if input.is_empty() {
                return Ok(None);
            }
            let blank = input
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(input.len());
            if blank == 0 {
                break self.core.line() + self.skipped_lines;
            }
            self.skipped_lines += memchr::memchr_iter(b'\n', &input[..blank]).count() as u64;
            self.consume(blank);
        };
        let mut probed = false;
        loop {
            self.fill()?;
            let mut input = &self.buf[self.pos..self.len];
            let probe = input.is_empty() && !probed;
            if probe {
                // The end of the input with a record under way: a line break
                // ends it as the end of the input would, unless it is inside
                // a quoted cell, where the parser keeps it as text. (The
                // parser itself is fed, not a copy: csv_core 0.1's
                // `Reader::clone` copies only part of its state machine.)
                input = b"\n";
            } else if !self.started && self.consumed > 0 && input.starts_with(UTF8_BOM) {
                // The parser drops a byte-order mark at the very start of its
                // input; after skipped blank lines it is not at the start.
                input = &input[..1];
            }
            self.started = true;
            records.room_for_bytes(1);
            records.room_for_ends(1);
            let (res, nin, nout, nend) = self.core.read_record(
                input,
                &mut records.bytes[records.used..],
                &mut records.ends[records.ends_used..],
            );
            if probe {
                probed = true;
                if res == ReadRecordResult::InputEmpty && nout == 1 {
                    // The quote opened at the start of the last cell.
                    let ends = &records.ends[first..records.ends_used];
                    let last_cell = ends.last().copied().unwrap_or(0);
                    let before = &records.bytes[start..start + last_cell];
                    let breaks = memchr::memchr_iter(b'\n', before).count() as u64;
                    return Err(ReadError::UnclosedQuote {
                        line: line + breaks,
                    });
                }
            } else {
                self.consume(nin);
            }
            records.used += nout;
            records.ends_used += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => records.room_for_bytes(records.bytes.len()),
                ReadRecordResult::OutputEndsFull => records.room_for_ends(records.ends.len()),
                ReadRecordResult::Record => break,
                // Only a byte-order mark was under way.
                ReadRecordResult::End => return Ok(None),
            }
        }
        records.close(row, line, start, first);
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as (line, cells).
    type Line = (u64, Vec<Vec<u8>>);

    /// Reads every record of `bytes`, the input arriving `chunk` bytes at a
    /// time, and the line of an unclosed quote that stopped reading.
    fn read_all(bytes: &[u8], chunk: usize) -> (Vec<Line>, Option<u64>) {
        struct Trickle(Vec<u8>, usize, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len() - self.2);
                buf[..n].copy_from_slice(&self.0[self.2..self.2 + n]);
                self.2 += n;
                Ok(n)
            }
        }
        let mut input = CsvInput::new(Box::new(Trickle(bytes.to_vec(), chunk, 0)), b',');
        let mut records = Records::default();
        let mut out = Vec::new();
        let mut row = 0;
        loop {
            row += 1;
            match input.read_record(&mut records, row) {
                Ok(Some(line)) => {
                    let rec = records.get(records.len() - 1);
                    assert_eq!(rec.line, line);
                    out.push((line, rec.cells().map(<[u8]>::to_vec).collect()));
                }
                Ok(None) => return (out, None),
                Err(ReadError::UnclosedQuote { line }) => return (out, Some(line)),
                Err(ReadError::Io(e)) => panic!("{e}"),
            }
        }
    }

    /// What the csv crate reads from the same bytes.
    fn csv_crate(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        r.byte_records()
            .map(|rec| rec.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    /// The line each record starts on and the line of a quote left open at
    /// the end, following the parser's states byte by byte.
    fn reference(bytes: &[u8]) -> (Vec<u64>, Option<u64>) {
        #[derive(PartialEq, Clone, Copy)]
        enum S {
            RecordStart,
            FieldStart,
            Unquoted,
            Quoted,
            QuoteInQuoted,
        }
        let (mut state, mut line, mut opened) = (S::RecordStart, 1u64, 0u64);
        let mut starts = Vec::new();
        for &b in bytes {
            if state == S::RecordStart && b != b'\n' && b != b'\r' {
                starts.push(line);
            }
            state = match (state, b) {
                (S::Quoted, b'"') => S::QuoteInQuoted,
                (S::Quoted, _) => S::Quoted,
                (S::QuoteInQuoted, b'"') => S::Quoted,
                (S::RecordStart | S::FieldStart, b'"') => {
                    opened = line;
                    S::Quoted
                }
                (_, b'\n' | b'\r') => S::RecordStart,
                (_, b',') => S::FieldStart,
                _ => S::Unquoted,
            };
            if b == b'\n' {
                line += 1;
            }
        }
        (starts, (state == S::Quoted).then_some(opened))
    }

    #[test]
    fn records_lines_and_unclosed_quotes() {
        let (recs, err) = read_all(b"a,b\n\n\n1,\"x\ny\"\r\n\r\n2,z", 64);
        assert_eq!(
            recs,
            vec![
                (1, vec![b"a".to_vec(), b"b".to_vec()]),
                (4, vec![b"1".to_vec(), b"x\ny".to_vec()]),
                (7, vec![b"2".to_vec(), b"z".to_vec()]),
            ]
        );
        assert_eq!(err, None);
        let (recs, err) = read_all(b"a,b\n1,\"x\ny\",\"open\nmore\n", 64);
        assert_eq!(recs.len(), 1);
        assert_eq!(err, Some(3), "the quote opened on line 3");
        assert_eq!(read_all(b"a,5\" pipe\n", 64).1, None);
        assert_eq!(read_all(b"a,\"b\"\"", 64).1, Some(1));
        assert_eq!(read_all(b"a,\"b\"\"\"", 64).1, None);
        assert_eq!(read_all(b"", 64), (vec![], None));
        assert_eq!(read_all(b"\n\r\n", 64), (vec![], None));
    }

    #[test]
    fn byte_order_mark_after_blank_lines_is_kept() {
        // As the parser reads it: a mark at the very start is dropped, one
        // after blank lines belongs to the first cell.
        assert_eq!(
            read_all(b"\xef\xbb\xbfa\n", 64).0,
            vec![(1, vec![b"a".to_vec()])]
        );
        assert_eq!(
            read_all(b"\n\xef\xbb\xbfa\n", 64).0,
            vec![(2, vec![b"\xef\xbb\xbfa".to_vec()])]
        );
        assert_eq!(
            csv_crate(b"\n\xef\xbb\xbfa\n"),
            vec![vec![b"\xef\xbb\xbfa".to_vec()]]
        );
    }

    #[test]
    fn large_records_grow_the_batch() {
        let cell = "x".repeat(100_000);
        let many = vec!["y"; 5_000].join(",");
        let text = format!("{cell},\"{cell}\"\n{many}\n");
        let (recs, err) = read_all(text.as_bytes(), 7_000);
        assert_eq!(err, None);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].1[1].len(), 100_000);
        assert_eq!(recs[1].1.len(), 5_000);
    }

    proptest::proptest! {
        #[test]
        fn reads_what_the_csv_crate_reads(
            bytes in proptest::collection::vec(proptest::sample::select(b"a,\"\n\r;".to_vec()), 0..200),
            chunk in 1usize..40,
        ) {
            let (recs, unclosed) = read_all(&bytes, chunk);
            let (starts, open) = reference(&bytes);
            proptest::prop_assert_eq!(unclosed, open);
            let ours: Vec<_> = recs.iter().map(|r| r.1.clone()).collect();
            let lines: Vec<_> = recs.iter().map(|r| r.0).collect();
            let mut theirs = csv_crate(&bytes);
            if unclosed.is_some() {
                theirs.pop(); // the record an unclosed quote swallows is an error here
            }
            proptest::prop_assert_eq!(ours, theirs);
            proptest::prop_assert_eq!(&lines[..], &starts[..lines.len()]);
        }
    }
}
