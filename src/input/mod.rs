//! Reading portfolios: a CSV/TSV in any common encoding, a workbook, or `-`
//! for stdin → a stream of [`Activity`].
//!
//! CSV rows are streamed: one at a time ([`ActivityReader::next_activity`]),
//! or as batches of raw records ([`ActivityReader::read_batch`]) that a
//! [`RowDecoder`] turns into activities on any thread; nothing here holds
//! more than a batch (workbooks are read whole by calamine). Columns are found
//! by header, case-, space- and underscore-insensitively. Every problem is
//! reported with the file, the physical line, the data row and the column.

mod decode;
mod records;
pub mod sheet;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use decode::{delimiter_for_label, encoding_for_label};
use records::{CsvInput, ReadError};
pub use records::{Record, Records};

use anyhow::{Context, Result, anyhow, bail};

use crate::activity::{Activity, LabelNames};
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

    fn open(&self) -> Result<Box<dyn Read + Send>> {
        match self {
            InputPath::Stdin => Ok(Box::new(io::stdin())),
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

/// How to read a file (from `--encoding`, `--delimiter`, `--sheet`).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub delimiter: Option<u8>,
    pub sheet: Option<String>,
}

/// How many rows at the top of a file may be titles or blank before the header.
pub const HEADER_SEARCH_ROWS: usize = 10;

enum Source {
    Csv {
        input: Box<CsvInput>,
        /// The record [`ActivityReader::next_raw`] reads.
        one: Records,
    },
    Sheet {
        sheet: String,
        rows: std::vec::IntoIter<(u64, Vec<String>)>,
    },
}

/// A streaming reader of activities from one portfolio.
pub struct ActivityReader {
    name: String,
    source: Source,
    pub columns: Columns,
    pub counts: ReadCounts,
    /// What the reader noticed (encoding, delimiter, header row), for stderr.
    pub notes: Vec<String>,
    row: u64,
    line: u64,
    /// The current record's cells (valid until the next read).
    fields: Vec<String>,
    /// Records read ahead while looking for the header.
    pending: VecDeque<(u64, Vec<String>)>,
    /// Level names for a manual `level` column.
    labels: LabelNames,
    size: Option<u64>,
}

impl ActivityReader {
    /// Opens a portfolio (CSV/TSV in any common encoding, or a workbook),
    /// finds the header row and resolves the columns.
    pub fn open(path: &InputPath, opts: &ColumnOptions, rules: &RuleSet) -> Result<Self> {
        Self::open_with(path, opts, &ReadOptions::default(), rules)
    }

    pub fn open_with(
        path: &InputPath,
        opts: &ColumnOptions,
        read: &ReadOptions,
        rules: &RuleSet,
    ) -> Result<Self> {
        Self::open_source(path, None, opts, read, rules)
    }

    /// Reads a portfolio held in memory as if it were the CSV file `name`
    /// (for tests and fuzzing: bytes in, activities or one error out).
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        opts: &ColumnOptions,
        read: &ReadOptions,
        rules: &RuleSet,
    ) -> Result<Self> {
        let path = InputPath::File(PathBuf::from(name));
        Self::open_source(
            &path,
            Some(Box::new(io::Cursor::new(bytes))),
            opts,
            read,
            rules,
        )
    }

    fn open_source(
        path: &InputPath,
        bytes: Option<Box<dyn Read + Send>>,
        opts: &ColumnOptions,
        read: &ReadOptions,
        rules: &RuleSet,
    ) -> Result<Self> {
        let name = path.display();
        let bytes_given = bytes.is_some();
        let mut notes = Vec::new();
        let source = match path {
            InputPath::File(p) if bytes.is_none() && sheet::is_workbook(p) => {
                if p.is_dir() {
                    bail!("`{}` is a directory, not a portfolio file", p.display());
                }
                let rows = sheet::read(p, read.sheet.as_deref())?;
                notes.push(format!("reading sheet `{}`", rows.sheet));
                Source::Sheet {
                    sheet: rows.sheet,
                    rows: rows.rows.into_iter(),
                }
            }
            _ => {
                if read.sheet.is_some() {
                    bail!(
                        "{name}: --sheet applies to workbooks (.xlsx, .xls, .ods), not to CSV files"
                    );
                }
                let raw = match bytes {
                    Some(b) => b,
                    None => path.open()?,
                };
                let (reader, detected, sample) = decode::open(raw, read.encoding)
                    .with_context(|| format!("cannot read `{name}`"))?;
                if let Some(n) = detected.note() {
                    notes.push(n);
                }
                let by_extension = match path {
                    InputPath::File(p) => p
                        .extension()
                        .and_then(|e| e.to_str())
                        .filter(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"))
                        .map(|_| b'\t'),
                    InputPath::Stdin => None,
                };
                let delimiter = read
                    .delimiter
                    .or(by_extension)
                    .unwrap_or_else(|| decode::sniff_delimiter(&sample));
                if delimiter != b',' && read.delimiter.is_none() && by_extension.is_none() {
                    notes.push(format!("cells separated by {}", delimiter_name(delimiter)));
                }
                Source::Csv {
                    input: Box::new(CsvInput::new(reader, delimiter)),
                    one: Records::default(),
                }
            }
        };
        let mut reader = ActivityReader {
            name: name.clone(),
            source,
            columns: Columns {
                headers: Vec::new(),
                text: Vec::new(),
                id: None,
                level: None,
                extra: Vec::new(),
            },
            counts: ReadCounts::default(),
            notes,
            row: 0,
            line: 0,
            fields: Vec::new(),
            pending: VecDeque::new(),
            labels: LabelNames::new(rules),
            size: match path {
                InputPath::File(p) if !bytes_given => p.metadata().ok().map(|m| m.len()),
                _ => None,
            },
        };
        reader.find_header(opts)?;
        Ok(reader)
    }

    /// Uses the first row (of the first ten) that holds a recognizable text
    /// column as the header; rows above it are titles or blank.
    fn find_header(&mut self, opts: &ColumnOptions) -> Result<()> {
        let mut candidates: Vec<(u64, Vec<String>)> = Vec::new();
        let mut chosen = None;
        while candidates.len() < HEADER_SEARCH_ROWS {
            if !self.next_raw(None)? {
                break;
            }
            let cells = std::mem::take(&mut self.fields);
            let blank = cells.iter().all(|c| c.trim().is_empty());
            candidates.push((self.line, cells));
            if !blank
                && looks_like_header(
                    &candidates.last().map(|c| c.1.clone()).unwrap_or_default(),
                    opts,
                )
            {
                chosen = Some(candidates.len() - 1);
                break;
            }
        }
        let first_content = candidates
            .iter()
            .position(|(_, c)| c.iter().any(|x| !x.trim().is_empty()));
        let Some(first_content) = first_content else {
            bail!(
                "{}: the file is empty (expected a header row and activity rows)",
                self.name
            );
        };
        let header_at = chosen.unwrap_or(first_content);
        let mut rest = candidates.split_off(header_at);
        let (header_line, header) = rest.remove(0);
        if header_at > first_content {
            self.notes.push(format!(
                "using {} as the header row; {} title or blank {} above it skipped",
                self.place(header_line),
                header_at,
                if header_at == 1 { "row" } else { "rows" }
            ));
        }
        let headers = name_headers(header, &self.name)?;
        self.columns = Columns::resolve(headers, opts, &self.name)?;
        self.pending = rest.into();
        let headers = self.columns.headers.clone();
        if self.pending.is_empty() && !self.next_raw(Some(&headers))? {
            bail!(
                "{}: the file has a header row but no activity rows",
                self.name
            );
        } else if self.pending.is_empty() {
            let cells = std::mem::take(&mut self.fields);
            self.pending.push_back((self.line, cells));
        }
        Ok(())
    }

    /// "line 5" in a CSV, "sheet `Activities` row 5" in a workbook.
    fn place(&self, line: u64) -> String {
        match &self.source {
            Source::Csv { .. } => format!("line {line}"),
            Source::Sheet { sheet, .. } => format!("sheet `{sheet}` row {line}"),
        }
    }

    /// Reads the next record into `self.fields`; false at the end.
    fn next_raw(&mut self, headers: Option<&[String]>) -> Result<bool> {
        if let Some((line, cells)) = self.pending.pop_front() {
            self.line = line;
            self.fields = cells;
            return Ok(true);
        }
        match &mut self.source {
            Source::Csv { input, one } => {
                one.clear();
                let Some(line) = read_csv_record(input, &self.name, one, 0)? else {
                    return Ok(false);
                };
                self.line = line;
                let rec = one.get(0);
                let row = headers.map(|h| (self.row + 1, h));
                decode_record(
                    &self.name,
                    rec.cells(),
                    rec.len(),
                    self.line,
                    row,
                    &mut self.fields,
                )?;
                Ok(true)
            }
            Source::Sheet { rows, .. } => match rows.next() {
                Some((line, cells)) => {
                    self.line = line;
                    if let Some((i, cell)) = cells
                        .iter()
                        .enumerate()
                        .find(|(_, c)| c.len() > MAX_FIELD_BYTES)
                    {
                        bail!(
                            "{}: row {line}, column #{}: the cell is {:.1} MB, over the 1 MB limit for one cell",
                            self.name,
                            i + 1,
                            cell.len() as f64 / 1e6
                        );
                    }
                    self.fields = cells;
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size of the input in bytes, when it is a file.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Bytes of the input consumed so far (CSV only).
    pub fn position(&self) -> Option<u64> {
        match &self.source {
            Source::Csv { input, .. } => Some(input.position()),
            Source::Sheet { .. } => None,
        }
    }

    /// Reads the next non-blank activity; `Ok(None)` at the end.
    pub fn next_activity(&mut self) -> Result<Option<Activity>> {
        loop {
            let headers = std::mem::take(&mut self.columns.headers);
            let got = self.next_raw(Some(&headers));
            self.columns.headers = headers;
            if !got? {
                return Ok(None);
            }
            self.row += 1;
            self.counts.rows += 1;
            let mut activity = Activity::default();
            let filled = fill_activity(
                &self.fields,
                self.row,
                self.line,
                &self.columns,
                &self.labels,
                &mut activity,
            )
            .map_err(|(column, e)| anyhow!("{}: {e}", self.at(column)))?;
            if !filled {
                self.counts.blank += 1;
                continue;
            }
            return Ok(Some(activity));
        }
    }

    /// Replaces the contents of `batch` with the next raw records (up to
    /// [`BATCH_ROWS`] rows or about [`BATCH_BYTES`] bytes), undecoded, for
    /// [`RowDecoder`] to decode on any thread. The batch is left empty at the
    /// end of the input. On an error, the records read before it stay in the
    /// batch.
    pub fn read_batch(&mut self, batch: &mut Records) -> Result<()> {
        batch.clear();
        while batch.len() < BATCH_ROWS && batch.byte_len() < BATCH_BYTES {
            if let Some((line, cells)) = self.pending.pop_front() {
                self.row += 1;
                self.counts.rows += 1;
                batch.push(self.row, line, cells.iter().map(String::as_bytes));
                continue;
            }
            match &mut self.source {
                Source::Csv { input, .. } => {
                    let Some(line) = read_csv_record(input, &self.name, batch, self.row + 1)?
                    else {
                        return Ok(());
                    };
                    self.line = line;
                    self.row += 1;
                    self.counts.rows += 1;
                }
                Source::Sheet { .. } => {
                    if !self.next_raw(None)? {
                        return Ok(());
                    }
                    self.row += 1;
                    self.counts.rows += 1;
                    batch.push(
                        self.row,
                        self.line,
                        self.fields.iter().map(String::as_bytes),
                    );
                }
            }
        }
        Ok(())
    }

    /// What decodes this reader's records on other threads.
    pub fn decoder(&self) -> RowDecoder {
        RowDecoder {
            name: self.name.clone(),
            sheet: match &self.source {
                Source::Sheet { sheet, .. } => Some(sheet.clone()),
                Source::Csv { .. } => None,
            },
            columns: self.columns.clone(),
            labels: self.labels.clone(),
        }
    }

    /// A cell of the current record by column position.
    pub fn cell(&self, i: usize) -> &str {
        self.fields.get(i).map(String::as_str).unwrap_or("")
    }

    /// Error context for the current record: `file: line N (row R), column `C``.
    pub fn at(&self, column: usize) -> String {
        let col = self
            .columns
            .headers
            .get(column)
            .map_or_else(|| format!("#{}", column + 1), Clone::clone);
        format!(
            "{}: {} (row {}), column `{col}`",
            self.name,
            self.place(self.line),
            self.row
        )
    }
}

/// Rows per batch: enough to amortize the workers' turns at the input, few
/// enough that the batches in flight take little memory.
pub const BATCH_ROWS: usize = 1024;
/// Bytes of cells per batch, for portfolios of long descriptions.
pub const BATCH_BYTES: usize = 256 * 1024;

/// Decodes the records of one portfolio on any thread: cells to text, and
/// the activity they describe, with errors placed like the reader's.
#[derive(Debug, Clone)]
pub struct RowDecoder {
    name: String,
    sheet: Option<String>,
    pub columns: Columns,
    labels: LabelNames,
}

impl RowDecoder {
    /// Calls `f` on each record of `batch` in order with its cells as text,
    /// stopping at the first error (a record that cannot be decoded is one).
    pub fn each<'s>(
        &self,
        batch: &'s Records,
        mut f: impl FnMut(&Record<'s>, &[&'s str]) -> Result<()>,
    ) -> Result<()> {
        let mut cells = Vec::new();
        // Usually the whole batch is valid text: one check for all records.
        let text = batch.text();
        (0..batch.len()).try_for_each(|i| {
            let rec = batch.get(i);
            match text {
                Some(text) if rec.cells_in(text, &mut cells) => {}
                _ => self.cells(&rec, &mut cells)?,
            }
            f(&rec, &cells)
        })
    }

    /// The cells of `rec` as text, borrowed from its batch.
    pub fn cells<'a>(&self, rec: &Record<'a>, cells: &mut Vec<&'a str>) -> Result<()> {
        // One check of the whole record in the common case; cell by cell
        // only to place a problem.
        if rec.decode_whole(cells) {
            return Ok(());
        }
        decode_record(
            &self.name,
            rec.cells(),
            rec.len(),
            rec.line,
            Some((rec.row, &self.columns.headers)),
            &mut Vec::new(),
        )?;
        // Every cell is valid exactly when the whole record is.
        bail!(
            "{}: line {} (row {}): the row's text could not be read",
            self.name,
            rec.line,
            rec.row
        )
    }

    /// Fills `out` with the activity of a decoded record (reusing its
    /// strings); false for a blank row.
    pub fn activity(
        &self,
        rec: &Record<'_>,
        cells: &[impl AsRef<str>],
        out: &mut Activity,
    ) -> Result<bool> {
        fill_activity(cells, rec.row, rec.line, &self.columns, &self.labels, out)
            .map_err(|(column, e)| anyhow!("{}: {e}", self.at(rec, column)))
    }

    /// The portfolio's name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Error context for a cell: `file: line N (row R), column `C``.
    pub fn at(&self, rec: &Record<'_>, column: usize) -> String {
        let col = self
            .columns
            .headers
            .get(column)
            .map_or_else(|| format!("#{}", column + 1), Clone::clone);
        let place = match &self.sheet {
            Some(sheet) => format!("sheet `{sheet}` row {}", rec.line),
            None => format!("line {}", rec.line),
        };
        format!("{}: {place} (row {}), column `{col}`", self.name, rec.row)
    }
}

/// Fills `out` with the activity of one row's cells; false for a blank row.
/// A bad manual level is returned as (column, message).
fn fill_activity(
    cells: &[impl AsRef<str>],
    row: u64,
    line: u64,
    columns: &Columns,
    labels: &LabelNames,
    out: &mut Activity,
) -> std::result::Result<bool, (usize, String)> {
    if cells.iter().all(|f| f.as_ref().trim().is_empty()) {
        return Ok(false);
    }
    let cell = |i: usize| cells.get(i).map_or("", AsRef::as_ref);
    out.row = row;
    out.line = line;
    out.text.clear();
    for &i in &columns.text {
        let part = cell(i).trim();
        if part.is_empty() {
            continue;
        }
        if !out.text.is_empty() {
            out.text.push_str(". ");
        }
        out.text.push_str(part);
    }
    out.id.clear();
    match columns.id.map(cell).map(str::trim) {
        Some(id) if !id.is_empty() => out.id.push_str(id),
        _ => {
            use std::fmt::Write;
            let _ = write!(out.id, "{row}");
        }
    }
    out.manual = match columns.level {
        Some(i) => labels.parse(cell(i)).map_err(|e| (i, e))?,
        None => None,
    };
    Ok(true)
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tabs".into(),
        b';' => "semicolons".into(),
        b'|' => "pipes".into(),
        b',' => "commas".into(),
        other => format!("`{}`", other as char),
    }
}

/// Whether a row reads as the header: it names the `--text` columns, or a
/// recognizable activity-text column.
fn looks_like_header(cells: &[String], opts: &ColumnOptions) -> bool {
    if opts.text.is_empty() {
        cells.iter().any(|c| {
            let k = header_key(c);
            TITLE_COLUMNS.contains(&k.as_str()) || DESCRIPTION_COLUMNS.contains(&k.as_str())
        })
    } else {
        opts.text
            .iter()
            .all(|t| cells.iter().any(|c| header_key(c) == header_key(t)))
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
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    let mut dupes: Vec<String> = Vec::new();
    for h in &headers {
        if !seen.insert(header_key(h)) && !dupes.contains(h) && dupes.len() < 10 {
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

/// Reads the next CSV record of `name` into `records` as data row `row`;
/// the line it starts on, or `None` at the end of the file.
fn read_csv_record(
    input: &mut CsvInput,
    name: &str,
    records: &mut Records,
    row: u64,
) -> Result<Option<u64>> {
    input.read_record(records, row).map_err(|e| match e {
        ReadError::Io(e) => anyhow!("{name}: cannot read: {e}"),
        ReadError::UnclosedQuote { line } => anyhow!(
            "{name}: line {line}: a quoted cell is never closed, so the rest of the file would be read as one cell; check the `\"` on that line"
        ),
    })
}

fn decode_record<'a>(
    name: &str,
    rec: impl Iterator<Item = &'a [u8]>,
    len: usize,
    line: u64,
    row: Option<(u64, &[String])>,
    out: &mut Vec<String>,
) -> Result<()> {
    out.resize_with(len, String::new);
    out.truncate(len);
    for (i, field) in rec.enumerate() {
        let at = || {
            let col = match row {
                Some((_, headers)) => headers
                    .get(i)
                    .map_or_else(|| format!("#{}", i + 1), Clone::clone),
                None => format!("#{}", i + 1),
            };
            match row {
                Some((r, _)) => format!("{name}: line {line} (row {r}), column `{col}`"),
                None => format!("{name}: line {line}, column {col}"),
            }
        };
        if field.len() > MAX_FIELD_BYTES {
            bail!(
                "{}: the cell is {:.1} MB, over the {} MB limit for one cell",
                at(),
                field.len() as f64 / 1e6,
                MAX_FIELD_BYTES >> 20
            );
        }
        let text = simdutf8::basic::from_utf8(field).map_err(|_| {
            anyhow!("{}: the text is not valid UTF-8 here although the start of the file was; if the file is from Excel on Windows, try --encoding windows-1252", at())
        })?;
        out[i].clear();
        out[i].push_str(text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

#[cfg(test)]
mod properties {
    use super::*;
    use crate::activity::{Accounting, assign};
    use crate::classify::{Classifier, Scratch};
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn rules() -> &'static (RuleSet, Classifier) {
        static R: OnceLock<(RuleSet, Classifier)> = OnceLock::new();
        R.get_or_init(|| {
            let r = crate::rules::builtin().unwrap();
            let c = Classifier::new(&r).unwrap();
            (r, c)
        })
    }

    /// Reads every activity of `bytes`, classifies it, and checks that the
    /// accounting adds up. Errors are fine; panics and lost rows are not.
    fn account(bytes: Vec<u8>) -> Result<Accounting> {
        let (rules, classifier) = rules();
        let opts = ColumnOptions {
            text: vec![],
            manual_levels: true,
            ..Default::default()
        };
        let mut reader =
            ActivityReader::from_bytes("fuzz.csv", bytes, &opts, &ReadOptions::default(), rules)?;
        let mut acc = Accounting::default();
        let mut scratch = Scratch::default();
        while let Some(a) = reader.next_activity()? {
            acc.add(assign(classifier, &a, &mut scratch).category);
        }
        acc.add_blank(reader.counts.blank);
        assert_eq!(
            acc.rows, reader.counts.rows,
            "every row read is accounted for"
        );
        assert!(acc.balanced());
        Ok(acc)
    }

    type Read = (
        Vec<(u64, u64, String, String, Option<crate::activity::Label>)>,
        u64,
        Option<String>,
    );

    /// Every activity (and blank row, and the error that stops reading) of
    /// `bytes`, read row by row or in batches decoded as the workers do.
    fn read_all(bytes: &[u8], batches: bool) -> Read {
        let (rules, _) = rules();
        let opts = ColumnOptions {
            manual_levels: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        let mut reader = match ActivityReader::from_bytes(
            "fuzz.csv",
            bytes.to_vec(),
            &opts,
            &ReadOptions::default(),
            rules,
        ) {
            Ok(r) => r,
            Err(e) => return (out, 0, Some(e.to_string())),
        };
        let mut keep = |a: &Activity| {
            out.push((a.row, a.line, a.id.clone(), a.text.clone(), a.manual));
        };
        if !batches {
            let error = loop {
                match reader.next_activity() {
                    Ok(Some(a)) => keep(&a),
                    Ok(None) => break None,
                    Err(e) => break Some(e.to_string()),
                }
            };
            return (out, reader.counts.blank, error);
        }
        let decoder = reader.decoder();
        let (mut batch, mut activity) = (Records::default(), Activity::default());
        let mut blank = 0;
        loop {
            let read = reader.read_batch(&mut batch);
            // As the workers decode: the whole batch's text checked at once.
            let decoded = decoder.each(&batch, |rec, cells| {
                if decoder.activity(rec, cells, &mut activity)? {
                    keep(&activity);
                } else {
                    blank += 1;
                }
                Ok(())
            });
            if let Err(e) = decoded {
                return (out, blank, Some(e.to_string()));
            }
            if let Err(e) = read {
                return (out, blank, Some(e.to_string()));
            }
            if batch.is_empty() {
                return (out, blank, None);
            }
        }
    }

    #[test]
    fn a_character_split_across_cells_is_an_error_in_batches_too() {
        // Past the part sniffed for the encoding (so the file reads as
        // UTF-8), two cells whose bytes, joined, would read as "é".
        let mut bytes = b"activity,b\n".to_vec();
        for _ in 0..8000 {
            bytes.extend_from_slice("café,fine\n".as_bytes());
        }
        bytes.extend_from_slice(b"\xc3,\xa9x\n");
        let (rows, _, error) = read_all(&bytes, true);
        assert_eq!(rows.len(), 8000);
        let error = error.unwrap();
        assert!(
            error.contains("line 8002 (row 8001), column `activity`"),
            "{error}"
        );
        assert_eq!(read_all(&bytes, true), read_all(&bytes, false));
    }

    fn csvish() -> impl Strategy<Value = Vec<u8>> {
        let cell = "[a-zé ,;\"\\r\\n\\t|=]{0,12}";
        prop::collection::vec(prop::collection::vec(cell, 1..5), 0..8).prop_map(|rows| {
            let mut out = b"id,activity,level\n".to_vec();
            for r in rows {
                out.extend_from_slice(r.join(",").as_bytes());
                out.push(b'\n');
            }
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let _ = account(bytes);
        }

        #[test]
        fn batches_read_like_single_rows(bytes in csvish()) {
            prop_assert_eq!(read_all(&bytes, true), read_all(&bytes, false));
        }

        #[test]
        fn batches_read_arbitrary_bytes_like_single_rows(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            prop_assert_eq!(read_all(&bytes, true), read_all(&bytes, false));
        }

        #[test]
        fn csv_like_input_is_fully_accounted(bytes in csvish()) {
            let _ = account(bytes);
        }

        #[test]
        fn valid_csv_rows_are_all_counted(rows in prop::collection::vec("[a-z ]{0,20}", 1..20)) {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["activity"]).unwrap();
            for r in &rows {
                w.write_record([r]).unwrap();
            }
            let bytes = w.into_inner().unwrap();
            let acc = account(bytes).unwrap();
            prop_assert_eq!(acc.rows, rows.len() as u64);
            let blank = rows.iter().filter(|r| r.trim().is_empty()).count() as u64;
            prop_assert_eq!(acc.blank_skipped, blank);
        }
    }

    #[test]
    fn hostile_inputs_end_in_a_result_or_one_error() {
        let cases: Vec<Vec<u8>> = vec![
            b"activity\n\"".to_vec(),
            b"activity\na\0b\n".to_vec(),
            b"\"".to_vec(),
            b"activity\n\xff\xfe\x00".to_vec(),
            {
                let mut v = b"activity".to_vec();
                v.extend(std::iter::repeat_n(b',', 200_000));
                v.extend_from_slice(b"\nteach a class\n");
                v
            },
        ];
        for bytes in cases {
            let _ = account(bytes);
        }
    }
}
