//! Reading portfolios: a CSV (or `-` for stdin) → a stream of [`Activity`].
//!
//! Rows are streamed one at a time; nothing here holds more than the current
//! record. Columns are found by header, case-, space- and
//! underscore-insensitively. Every problem is reported with the file, the
//! physical line, the data row and the column.

use std::fs::File;
use std::io::{self, BufReader, Read};
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
    csv: csv::Reader<BufReader<Box<dyn Read>>>,
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
            .from_reader(BufReader::with_capacity(64 * 1024, reader));
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
            self.check_unclosed_quote(line)?;
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

    /// An unclosed quote swallows the rest of the file into one cell. The csv
    /// parser accepts that silently, so look for its signature: the last
    /// record holds a cell that spans lines and ends with a line break.
    fn check_unclosed_quote(&mut self, line: u64) -> Result<()> {
        let suspicious = self
            .fields
            .iter()
            .any(|f| f.contains('\n') && (f.ends_with('\n') || f.ends_with('\r')));
        if !suspicious {
            return Ok(());
        }
        let mut next = csv::ByteRecord::new();
        let more = self
            .csv
            .read_byte_record(&mut next)
            .map_err(|e| csv_error(&self.name, e))?;
        if more {
            self.pending = Some(next);
            return Ok(());
        }
        bail!(
            "{}: line {line} (row {}): a quoted cell is never closed, so the rest of the file would be read as one cell; check the `\"` on that line",
            self.name,
            self.row
        )
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
