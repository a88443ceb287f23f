//! Where reports go: stdout or `-o FILE`, written atomically, and
//! spreadsheet-safe cells for CSV output.
//!
//! `-o FILE` writes to a temporary file in the same folder and moves it
//! into place only when the whole report was written, so a failure never
//! leaves a half-written report (an existing report stays as it was).
//! Writing over an input is refused. A device or pipe (`-o /dev/null`, a
//! named pipe) is written in place.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::input::InputPath;

/// A report destination.
pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    File {
        tmp: BufWriter<tempfile::NamedTempFile>,
        target: PathBuf,
    },
    /// A device or pipe (`/dev/null`, `/dev/stdout`, a named pipe), written
    /// in place: moving a finished file over it would replace the device
    /// with a regular file.
    Device(BufWriter<std::fs::File>),
}

impl Output {
    /// Opens `path` (or stdout when `None` or `-`), refusing to overwrite any input.
    pub fn create(path: Option<&Path>, inputs: &[InputPath]) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                64 * 1024,
                io::stdout(),
            )));
        };
        if path.is_dir() {
            bail!("output `{}` is a directory", path.display());
        }
        for input in inputs {
            if let InputPath::File(p) = input
                && same_file(p, path)
            {
                bail!(
                    "refusing to write the report over the input `{}`; choose another -o path",
                    p.display()
                );
            }
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let device = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            return Ok(Output::Device(BufWriter::with_capacity(64 * 1024, device)));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".spectrum-audit-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write to folder `{}`", dir.display()))?;
        Ok(Output::File {
            tmp: BufWriter::with_capacity(64 * 1024, tmp),
            target: path.to_path_buf(),
        })
    }

    /// Flushes and, for files, moves the finished report into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => Ok(w.flush()?),
            Output::Device(mut w) => Ok(w.flush()?),
            Output::File { tmp, target } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
                // No fsync: a report is derived data that a rerun rebuilds,
                // and moving the finished file into place already keeps a
                // failed run from leaving a partial one. Forcing a
                // million-row report to disk would add a tenth of a second
                // of waiting to every run.
                // Temporary files are private (0600); a report should get the
                // permissions the file it replaces had, or the usual 0644.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&target)
                        .map_or(0o644, |m| m.permissions().mode() & 0o777);
                    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
                        .ok();
                }
                #[cfg(target_os = "linux")]
                if std::fs::symlink_metadata(&target).is_ok() {
                    // Replacing a report: swap the two files in one step,
                    // then remove the old one. A plain rename over an
                    // existing file makes ext4 allocate and start writing
                    // back the new file right away (its guard for programs
                    // that skip fsync), about 0.1 s per million classified
                    // rows; the swap leaves that to the usual writeback, as
                    // for a new file. File systems without the swap get the
                    // rename.
                    let swapped = rustix::fs::renameat_with(
                        rustix::fs::CWD,
                        tmp.path(),
                        rustix::fs::CWD,
                        &target,
                        rustix::fs::RenameFlags::EXCHANGE,
                    );
                    if swapped.is_ok() {
                        // The temporary path now holds the previous report.
                        return tmp.close().with_context(|| {
                            format!(
                                "wrote `{}`, but cannot remove the previous report",
                                target.display()
                            )
                        });
                    }
                }
                tmp.persist(&target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { tmp, .. } => tmp.write(buf),
            Output::Device(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File { tmp, .. } => tmp.write_all(buf),
            Output::Device(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { tmp, .. } => tmp.flush(),
            Output::Device(w) => w.flush(),
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Makes a CSV cell safe to open in a spreadsheet (OWASP CSV injection
/// guidance): a value starting with `=`, `+`, `-`, `@`, tab or carriage
/// return that is not a plain number gets a leading `'`.
#[inline]
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => defused(value),
        _ => Cow::Borrowed(value),
    }
}

/// [`safe_cell`] for a value that starts with a character a spreadsheet
/// may read as the start of a formula.
#[cold]
fn defused(value: &str) -> Cow<'_, str> {
    if is_plain_number(value) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("'{value}"))
    }
}

/// A signed decimal number as spreadsheets read it (`-12.5`, `+3`), with no
/// separators or exponents that could make it anything else.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && digits(int) && digits(frac) && (body.contains('.') <= !frac.is_empty())
}

/// Writes CSV cells through [`safe_cell`] unless `raw`.
pub struct CellGuard {
    pub raw: bool,
}

impl CellGuard {
    #[inline]
    pub fn cell<'a>(&self, v: &'a str) -> Cow<'a, str> {
        if self.raw {
            Cow::Borrowed(v)
        } else {
            safe_cell(v)
        }
    }
}

/// A CSV cell whose written form is worked out once, for values that repeat
/// on every row (level names): the text with any quote doubled, and whether
/// it goes between quotes.
#[derive(Debug, Clone)]
pub struct ReadyCell {
    pub text: String,
    pub quoted: bool,
}

impl ReadyCell {
    /// `value` as [`CsvRecords::field`] would write it.
    pub fn new(value: &str) -> Self {
        let quoted = needs_quotes(value.as_bytes());
        let text = if quoted {
            value.replace('"', "\"\"")
        } else {
            value.to_string()
        };
        ReadyCell { text, quoted }
    }
}

/// CSV records appended to a byte buffer, quoted exactly as the `csv`
/// crate's default writer quotes them (comma-separated, `\n`-terminated, a
/// field quoted only when it holds a comma, quote, CR or LF, quotes doubled),
/// without that writer's own buffer: rows formatted on worker threads go
/// straight into the batch's output bytes.
#[derive(Debug, Default)]
pub struct CsvRecords {
    pub bytes: Vec<u8>,
    /// Where the current record starts, and how many fields it has.
    record_start: usize,
    fields: usize,
}

/// Whether a CSV field needs quotes: it holds a comma, quote, CR or LF.
/// Tests eight bytes at a time (most fields are short, so a call into a
/// vectorized search costs more than it saves).
pub fn needs_quotes(value: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `x` equals `b`: a byte of `x ^ (b in every
    // byte)` is zero exactly there, and `(y - 1) & !y & 0x80` in some byte
    // exactly when `y` has a zero byte.
    let has = |x: u64, b: u8| {
        let y = x ^ (ONES * u64::from(b));
        y.wrapping_sub(ONES) & !y & HIGHS != 0
    };
    let special = |x: u64| has(x, b',') | has(x, b'"') | has(x, b'\n') | has(x, b'\r');
    let load = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        u64::from_le_bytes(word)
    };
    if value.len() < 8 {
        // Shifted in byte by byte (copying a short tail into a word costs a
        // call and a stalled load); the zero bytes shifted in are not special.
        return special(value.iter().fold(0, |w, &b| (w << 8) | u64::from(b)));
    }
    let mut chunks = value.chunks_exact(8);
    if chunks.any(|chunk| special(load(chunk))) {
        return true;
    }
    // The last eight bytes, overlapping the last whole chunk.
    special(load(&value[value.len() - 8..]))
}

impl CsvRecords {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        CsvRecords {
            bytes: Vec::with_capacity(capacity),
            ..CsvRecords::default()
        }
    }

    /// Appends one field to the current record.
    pub fn field(&mut self, value: &[u8]) {
        let quoted = needs_quotes(value);
        self.escaped_field(quoted, |out| {
            let mut rest = value;
            // Only a quoted field can hold quotes, doubled when written.
            while quoted && let Some(i) = memchr::memchr(b'"', rest) {
                out.extend_from_slice(&rest[..=i]);
                out.push(b'"');
                rest = &rest[i + 1..];
            }
            out.extend_from_slice(rest);
        });
    }

    /// Appends one field whose bytes `write` appends already in their
    /// written form: when `quoted`, they are put between quotes and must
    /// have any quote doubled. For cells assembled from parts whose quoting
    /// is known in advance.
    pub fn escaped_field(&mut self, quoted: bool, write: impl FnOnce(&mut Vec<u8>)) {
        if self.fields > 0 {
            self.bytes.push(b',');
        }
        self.fields += 1;
        if quoted {
            self.bytes.push(b'"');
        }
        write(&mut self.bytes);
        if quoted {
            self.bytes.push(b'"');
        }
    }

    /// Appends a field written in advance by [`ReadyCell`].
    pub fn ready_field(&mut self, cell: &ReadyCell) {
        self.escaped_field(cell.quoted, |out| {
            out.extend_from_slice(cell.text.as_bytes())
        });
    }

    /// Ends the current record. A record with no bytes at all (one empty
    /// field) is written as `""`, so it still reads back as a record.
    pub fn end_record(&mut self) {
        if self.bytes.len() == self.record_start {
            self.bytes.extend_from_slice(b"\"\"");
        }
        self.bytes.push(b'\n');
        self.record_start = self.bytes.len();
        self.fields = 0;
    }

    /// The records written so far, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        self.record_start = 0;
        self.fields = 0;
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn csv_records_are_written_as_the_csv_crate_writes_them(
            records in proptest::collection::vec(
                proptest::collection::vec("[a-z,\"\r\n ]{0,6}|\\PC{0,4}", 0..5),
                0..6,
            )
        ) {
            let mut ours = CsvRecords::with_capacity(16);
            let mut theirs = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            for record in &records {
                for field in record {
                    ours.field(field.as_bytes());
                    theirs.write_field(field.as_bytes()).unwrap();
                }
                ours.end_record();
                theirs.write_record(None::<&[u8]>).unwrap();
            }
            prop_assert_eq!(ours.take(), theirs.into_inner().unwrap());
        }

        #[test]
        fn ready_cells_are_written_as_fields(value in "[a-z ,\"\r\n=]{0,20}") {
            let (mut ready, mut plain) = (CsvRecords::default(), CsvRecords::default());
            for records in [&mut ready, &mut plain] {
                records.field(b"x");
            }
            ready.ready_field(&ReadyCell::new(&value));
            plain.field(value.as_bytes());
            prop_assert_eq!(ready.take(), plain.take());
        }

        #[test]
        fn needs_quotes_finds_any_special_byte(value in proptest::collection::vec(any::<u8>(), 0..40)) {
            let expected = value.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
            prop_assert_eq!(needs_quotes(&value), expected);
        }
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+1+2"), "'+1+2");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("\tx"), "'\tx");
        assert_eq!(safe_cell("\rx"), "'\rx");
        assert_eq!(safe_cell("plain text"), "plain text");
        assert_eq!(safe_cell(""), "");
    }

    #[test]
    fn plain_numbers_are_left_alone() {
        assert_eq!(safe_cell("-12.5"), "-12.5");
        assert_eq!(safe_cell("+3"), "+3");
        assert_eq!(safe_cell("-1,200"), "'-1,200");
        assert_eq!(safe_cell("+0,"), "'+0,");
        assert_eq!(safe_cell("-3."), "'-3.");
        assert_eq!(safe_cell("-"), "'-");
        assert_eq!(safe_cell("-1.2.3"), "'-1.2.3");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        if !std::fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
            return; // no device to try it on
        }
        let mut out = Output::create(Some(null), &[]).unwrap();
        assert!(matches!(out, Output::Device(_)));
        out.write_all(b"a report nobody keeps\n").unwrap();
        out.finish().unwrap();
        assert!(
            std::fs::metadata(null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn refuses_to_overwrite_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.csv");
        std::fs::write(&p, "a\n").unwrap();
        let err = Output::create(Some(&p), &[InputPath::File(p.clone())])
            .err()
            .unwrap();
        assert!(err.to_string().contains("refusing to write"));
    }

    #[test]
    fn failed_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.csv");
        std::fs::write(&target, "old report\n").unwrap();
        {
            let mut out = Output::create(Some(&target), &[]).unwrap();
            out.write_all(b"half of a new rep").unwrap();
            // Dropped without finish(): as if the run failed midway.
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old report\n");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(std::result::Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "temporary file removed: {leftovers:?}");
        let mut out = Output::create(Some(&target), &[]).unwrap();
        out.write_all(b"new report\n").unwrap();
        out.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new report\n");
    }

    #[cfg(unix)]
    #[test]
    fn replacing_a_report_keeps_its_permissions_and_leaves_nothing_behind() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.csv");
        for (old, new) in [("first\n", "second\n"), ("second\n", "third, longer\n")] {
            if !target.exists() {
                std::fs::write(&target, old).unwrap();
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
            }
            assert_eq!(std::fs::read_to_string(&target).unwrap(), old);
            let mut out = Output::create(Some(&target), &[]).unwrap();
            out.write_all(new.as_bytes()).unwrap();
            out.finish().unwrap();
            assert_eq!(std::fs::read_to_string(&target).unwrap(), new);
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![std::ffi::OsString::from("report.csv")]);
        }
    }
}
