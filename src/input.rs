//! Reading portfolios: a CSV (or `-` for stdin) → a stream of [`Activity`].
//!
//! Rows are streamed one at a time; nothing here holds more than the current
//! record. Columns are found by header, case-, space- and
//! underscore-insensitively. Every problem is reported with the file, the
//! physical line, the data row and the column.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::activity::{Activity, parse_label};
use crate::rules::RuleSet;
use crate::text::{header_key, nearest};

/// Title-like headers, in order of preference.
const TITLE_COLUMNS: &[&str] = &[
    "activity",
    "activityname",
    "activitytitle",
    "title",
    "program",
    "programname",
    "strategy",
    "initiative",
    "name",
];
/// Description-like headers, in order of preference.
const DESCRIPTION_COLUMNS: &[&str] = &[
    "activitydescription",
    "description",
    "descriptionofactivity",
    "programdescription",
    "summary",
    "details",
    "activitydetails",
];
const ID_COLUMNS: &[&str] = &["id", "activityid", "rowid", "ref", "reference"];
const LEVEL_COLUMNS: &[&str] = &["level", "manuallevel", "spectrumlevelmanual"];

/// The largest cell accepted, in bytes. Spreadsheet cells stop at 32,767
/// characters; anything far beyond that is not an activity description.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// How to find columns in a portfolio.
#[derive(Debug, Clone, Default)]
pub struct ColumnOptions {
    /// `--text COL` (repeatable); empty means detect.
    pub text: Vec<String>,
    /// Use the `level` column as a manual override (off for `evaluate`).
    pub manual_levels: bool,
    /// Never treat this column as a manual level (the gold column of `evaluate`).
    pub ignore_level: Option<String>,
    /// Extra columns the caller needs by name, with the option that named
    /// them (`--by`, `--weight`, `--gold`). `--by file` needs no column.
    pub extra: Vec<(String, &'static str)>,
}

/// Resolved column positions for one file.
#[derive(Debug, Clone)]
pub struct Columns {
    pub headers: Vec<String>,
    pub text: Vec<usize>,
    pub id: Option<usize>,
    pub level: Option<usize>,
    /// Positions of `ColumnOptions::extra`, in the same order.
    pub extra: Vec<usize>,
}

impl Columns {
    /// Finds a column by name (case-, space- and underscore-insensitive).
    pub fn find(headers: &[String], wanted: &str) -> Option<usize> {
        let key = header_key(wanted);
        headers.iter().position(|h| header_key(h) == key)
    }

    fn find_any(headers: &[String], keys: &[&str]) -> Option<usize> {
        keys.iter()
            .find_map(|k| headers.iter().position(|h| header_key(h) == *k))
    }

    /// Resolves columns or explains what is missing.
    pub fn resolve(headers: Vec<String>, opts: &ColumnOptions, source: &str) -> Result<Columns> {
        let find_named = |name: &str, what: &str| -> Result<usize> {
            Self::find(&headers, name).ok_or_else(|| {
                let hint = nearest(name, headers.iter().map(String::as_str))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                anyhow!(
                    "{source}: no column `{name}` for {what}{hint}; columns are: {}",
                    list(&headers)
                )
            })
        };
        let text = if opts.text.is_empty() {
            let title = Self::find_any(&headers, TITLE_COLUMNS);
            let desc = Self::find_any(&headers, DESCRIPTION_COLUMNS);
            match (title, desc) {
                (Some(t), Some(d)) if t != d => vec![t, d],
                (Some(t), _) => vec![t],
                (None, Some(d)) => vec![d],
                (None, None) => bail!(
                    "{source}: no activity text column; columns are: {}; name one with --text COLUMN (looked for activity, description, title, name, program, summary)",
                    list(&headers)
                ),
            }
        } else {
            opts.text
                .iter()
                .map(|t| find_named(t, "--text"))
                .collect::<Result<_>>()?
        };
        let id = Self::find_any(&headers, ID_COLUMNS).filter(|i| !text.contains(i));
        let level = if opts.manual_levels {
            let ignored = opts
                .ignore_level
                .as_deref()
                .and_then(|g| Self::find(&headers, g));
            Self::find_any(&headers, LEVEL_COLUMNS)
                .filter(|i| Some(*i) != ignored && !text.contains(i))
        } else {
            None
        };
        let extra = opts
            .extra
            .iter()
            .map(|(name, option)| {
                if *option == "--by"
                    && name.eq_ignore_ascii_case("file")
                    && Self::find(&headers, name).is_none()
                {
                    Ok(usize::MAX)
                } else {
                    find_named(name, option)
                }
            })
            .collect::<Result<_>>()?;
        Ok(Columns {
            headers,
            text,
            id,
            level,
            extra,
        })
    }

    /// The column names used for the activity text, for notes.
    pub fn text_names(&self) -> String {
        self.text
            .iter()
            .map(|i| format!("`{}`", self.headers[*i]))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

fn list(headers: &[String]) -> String {
    if headers.is_empty() {
        return "(none)".into();
    }
    headers
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a portfolio comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPath {
    Stdin,
    File(PathBuf),
}

impl InputPath {
    pub fn new(arg: &Path) -> Self {
        if arg.as_os_str() == "-" {
            InputPath::Stdin
        } else {
            InputPath::File(arg.to_path_buf())
        }
    }

    /// How the input is named in messages and reports.
    pub fn display(&self) -> String {
        match self {
            InputPath::Stdin => "<stdin>".into(),
            InputPath::File(p) => p.display().to_string(),
        }
    }

    fn open(&self) -> Result<Box<dyn Read>> {
        match self {
            InputPath::Stdin => Ok(Box::new(io::stdin().lock())),
            InputPath::File(p) => {
                if p.is_dir() {
                    bail!("`{}` is a directory, not a portfolio file", p.display());
                }
                let f = File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?;
                Ok(Box::new(f))
            }
        }
    }
}

/// Counts kept while reading, for the accounting line every command prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadCounts {
    /// Data rows read, blank ones included.
    pub rows: u64,
    /// Rows with no content in any cell, skipped.
    pub blank: u64,
}

/// A streaming reader of activities from one portfolio.
pub struct ActivityReader {
    name: String,
    csv: csv::Reader<QuoteTracker<Box<dyn Read>>>,
    record: csv::ByteRecord,
    pub columns: Columns,
    pub counts: ReadCounts,
    row: u64,
    /// The current record's fields as text (valid until the next `next`).
    fields: Vec<String>,
    rules: RuleSet,
    pending: Option<csv::ByteRecord>,
}

impl ActivityReader {
    /// Opens a portfolio and resolves its columns from the header row.
    pub fn open(path: &InputPath, opts: &ColumnOptions, rules: &RuleSet) -> Result<Self> {
        let name = path.display();
        let reader = path.open()?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(QuoteTracker::new(reader, b','));
        let mut header = csv::ByteRecord::new();
        let got = csv
            .read_byte_record(&mut header)
            .map_err(|e| csv_error(&name, e))?;
        if !got {
            bail!("{name}: the file is empty (expected a header row and activity rows)");
        }
        let headers = decode_record(&name, &header, 1, None)?;
        let headers = name_headers(headers, &name)?;
        let columns = Columns::resolve(headers, opts, &name)?;
        let mut first = csv::ByteRecord::new();
        let has_row = csv
            .read_byte_record(&mut first)
            .map_err(|e| csv_error(&name, e))?;
        if !has_row {
            bail!("{name}: the file has a header row but no activity rows");
        }
        Ok(ActivityReader {
            name,
            csv,
            record: csv::ByteRecord::new(),
            columns,
            counts: ReadCounts::default(),
            row: 0,
            fields: Vec::new(),
            rules: rules.clone(),
            pending: Some(first),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current record's cells (after a successful [`ActivityReader::next_activity`]).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Reads the next non-blank activity; `Ok(None)` at the end.
    pub fn next_activity(&mut self) -> Result<Option<Activity>> {
        loop {
            if let Some(p) = self.pending.take() {
                self.record = p;
            } else if !self
                .csv
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.name, e))?
            {
                self.check_unclosed_quote()?;
                return Ok(None);
            }
            self.row += 1;
            self.counts.rows += 1;
            let line = self.record.position().map_or(0, csv::Position::line);
            self.fields = decode_record(
                &self.name,
                &self.record,
                line,
                Some((self.row, &self.columns.headers)),
            )?;
            if self.fields.iter().all(|f| f.trim().is_empty()) {
                self.counts.blank += 1;
                continue;
            }
            self.check_unclosed_quote()?;
            let cell = |i: usize| self.fields.get(i).map(String::as_str).unwrap_or("");
            let mut text = String::new();
            for &i in &self.columns.text {
                let part = cell(i).trim();
                if part.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    text.push_str(". ");
                }
                text.push_str(part);
            }
            let id = match self.columns.id.map(cell).map(str::trim) {
                Some(id) if !id.is_empty() => id.to_string(),
                _ => self.row.to_string(),
            };
            let manual = match self.columns.level {
                Some(i) => parse_label(cell(i), &self.rules).map_err(|e| {
                    anyhow!(
                        "{}: line {line} (row {}), column `{}`: {e}",
                        self.name,
                        self.row,
                        self.columns.headers[i]
                    )
                })?,
                None => None,
            };
            return Ok(Some(Activity {
                row: self.row,
                line,
                id,
                text,
                manual,
            }));
        }
    }

    /// A cell of the current record by column position.
    pub fn cell(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("")
    }

    /// Error context for the current record: `file: line N (row R), column `C``.
    pub fn at(&self, column: usize) -> String {
        let line = self.record.position().map_or(0, csv::Position::line);
        let col = self
            .columns
            .headers
            .get(column)
            .map_or_else(|| format!("#{}", column + 1), Clone::clone);
        format!(
            "{}: line {line} (row {}), column `{col}`",
            self.name, self.row
        )
    }

    /// An unclosed quote swallows the rest of the file into one cell, which
    /// the csv parser accepts silently; the [`QuoteTracker`] under it knows.
    fn check_unclosed_quote(&self) -> Result<()> {
        let tracker = self.csv.get_ref();
        match tracker.unclosed_quote_line() {
            Some(line) => bail!(
                "{}: line {line}: a quoted cell is never closed, so the rest of the file would be read as one cell; check the `\"` on that line",
                self.name
            ),
            None => Ok(()),
        }
    }
}

/// Follows the CSV quoting state of every byte read, so that a quote left
/// open at the end of the input is caught (and where it was opened).
pub struct QuoteTracker<R> {
    inner: R,
    delimiter: u8,
    state: QuoteState,
    line: u64,
    opened_at: u64,
    eof: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R: Read> QuoteTracker<R> {
    pub fn new(inner: R, delimiter: u8) -> Self {
        QuoteTracker {
            inner,
            delimiter,
            state: QuoteState::FieldStart,
            line: 1,
            opened_at: 0,
            eof: false,
        }
    }

    /// At the end of input inside a quoted cell: the line where it opened.
    pub fn unclosed_quote_line(&self) -> Option<u64> {
        (self.eof && self.state == QuoteState::Quoted).then_some(self.opened_at)
    }

    fn scan(&mut self, buf: &[u8]) {
        let d = self.delimiter;
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                QuoteState::Quoted => match memchr::memchr2(b'"', b'\n', &buf[i..]) {
                    Some(p) => {
                        i += p;
                        if buf[i] == b'\n' {
                            self.line += 1;
                        } else {
                            self.state = QuoteState::QuoteInQuoted;
                        }
                        i += 1;
                    }
                    None => return,
                },
                QuoteState::Unquoted => match memchr::memchr3(d, b'\n', b'\r', &buf[i..]) {
                    Some(p) => {
                        i += p;
                        if buf[i] == b'\n' {
                            self.line += 1;
                        }
                        self.state = QuoteState::FieldStart;
                        i += 1;
                    }
                    None => return,
                },
                QuoteState::FieldStart | QuoteState::QuoteInQuoted => {
                    let b = buf[i];
                    let after_quote = self.state == QuoteState::QuoteInQuoted;
                    self.state = match b {
                        b'"' if after_quote => QuoteState::Quoted,
                        b'"' => {
                            self.opened_at = self.line;
                            QuoteState::Quoted
                        }
                        b'\n' => {
                            self.line += 1;
                            QuoteState::FieldStart
                        }
                        b'\r' => QuoteState::FieldStart,
                        _ if b == d => QuoteState::FieldStart,
                        _ => QuoteState::Unquoted,
                    };
                    i += 1;
                }
            }
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        } else {
            self.scan(&buf[..n]);
        }
        Ok(n)
    }
}

/// Names empty header cells by position and rejects duplicates.
fn name_headers(mut headers: Vec<String>, source: &str) -> Result<Vec<String>> {
    for (i, h) in headers.iter_mut().enumerate() {
        let trimmed = h.trim().trim_start_matches('\u{feff}').trim().to_string();
        *h = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed
        };
    }
    let mut dupes = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let key = header_key(h);
        if headers[..i].iter().any(|o| header_key(o) == key) && !dupes.contains(h) {
            dupes.push(h.clone());
        }
    }
    if !dupes.is_empty() {
        bail!(
            "{source}: duplicate column names in the header: {}; rename them so each column is unique",
            list(&dupes)
        );
    }
    Ok(headers)
}

fn decode_record(
    name: &str,
    rec: &csv::ByteRecord,
    line: u64,
    row: Option<(u64, &[String])>,
) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(rec.len());
    for (i, field) in rec.iter().enumerate() {
        let col = || match row {
            Some((_, headers)) => headers
                .get(i)
                .map_or_else(|| format!("#{}", i + 1), std::clone::Clone::clone),
            None => format!("#{}", i + 1),
        };
        let at = || match row {
            Some((r, _)) => format!("{name}: line {line} (row {r}), column `{}`", col()),
            None => format!("{name}: line {line} (header), column {}", col()),
        };
        if field.len() > MAX_FIELD_BYTES {
            bail!(
                "{}: the cell is {:.1} MB, over the {} MB limit for one cell",
                at(),
                field.len() as f64 / 1e6,
                MAX_FIELD_BYTES >> 20
            );
        }
        let text = std::str::from_utf8(field).map_err(|_| {
            anyhow!(
                "{}: the text is not valid UTF-8; save the file as UTF-8 (CSV UTF-8 in Excel)",
                at()
            )
        })?;
        out.push(text.to_string());
    }
    Ok(out)
}

fn csv_error(name: &str, e: csv::Error) -> anyhow::Error {
    match e.kind() {
        csv::ErrorKind::Io(io) => anyhow!("{name}: cannot read: {io}"),
        _ => match e.position() {
            Some(p) => anyhow!("{name}: line {}: malformed CSV: {e}", p.line()),
            None => anyhow!("{name}: malformed CSV: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(input: &[u8]) -> Option<u64> {
        let mut t = QuoteTracker::new(input, b',');
        let mut sink = Vec::new();
        // Small reads exercise state carried across chunk boundaries.
        let mut buf = [0u8; 3];
        loop {
            let n = t.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buf[..n]);
        }
        assert_eq!(sink, input);
        t.unclosed_quote_line()
    }

    #[test]
    fn quote_tracker_finds_unclosed_quotes() {
        assert_eq!(track(b"a,b\n1,\"open\n2,x\n"), Some(2));
        assert_eq!(track(b"a,b\n1,\"closed\"\"\n\"\n2,x\n"), None);
        assert_eq!(track(b"a,b\n1,\"multi\nline\n\"\n"), None);
        assert_eq!(
            track(b"a,b\n1,5\" pipe\n"),
            None,
            "a quote inside an unquoted cell is literal"
        );
        assert_eq!(track(b"a,\"b\"x,c\n"), None);
        assert_eq!(track(b""), None);
    }

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn text_columns_join_title_and_description() {
        let opts = ColumnOptions::default();
        let c = Columns::resolve(
            headers(&["ID", "Program", "Description", "Budget"]),
            &opts,
            "f",
        )
        .unwrap();
        assert_eq!(c.text, vec![1, 2]);
        assert_eq!(c.id, Some(0));
        let c = Columns::resolve(headers(&["Activity_Description"]), &opts, "f").unwrap();
        assert_eq!(c.text, vec![0]);
        let err = Columns::resolve(headers(&["owner"]), &opts, "f")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no activity text column; columns are: `owner`"),
            "{err}"
        );
    }

    #[test]
    fn named_columns_suggest_the_nearest_header() {
        let opts = ColumnOptions {
            text: vec!["Activty".into()],
            ..Default::default()
        };
        let err = Columns::resolve(headers(&["id", "Activity"]), &opts, "f")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `Activity`?"), "{err}");
        let opts = ColumnOptions {
            text: vec![" ACTIVITY ".into()],
            ..Default::default()
        };
        assert_eq!(
            Columns::resolve(headers(&["id", "activity"]), &opts, "f")
                .unwrap()
                .text,
            vec![1]
        );
    }

    #[test]
    fn manual_level_column_is_optional_and_can_be_ignored() {
        let on = ColumnOptions {
            manual_levels: true,
            ..Default::default()
        };
        let c = Columns::resolve(headers(&["activity", "Level"]), &on, "f").unwrap();
        assert_eq!(c.level, Some(1));
        let gold = ColumnOptions {
            manual_levels: true,
            ignore_level: Some("level".into()),
            ..Default::default()
        };
        assert_eq!(
            Columns::resolve(headers(&["activity", "Level"]), &gold, "f")
                .unwrap()
                .level,
            None
        );
    }

    #[test]
    fn header_names_are_checked() {
        let named = name_headers(headers(&["id", "", "activity"]), "f").unwrap();
        assert_eq!(named, headers(&["id", "column_2", "activity"]));
        let err = name_headers(headers(&["Activity", "activity ", "x", "x"]), "f")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("duplicate column names in the header: `activity`, `x`"),
            "{err}"
        );
    }
}
