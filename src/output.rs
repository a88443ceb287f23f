//! Where reports go: stdout or `-o FILE`, written atomically, and
//! spreadsheet-safe cells for CSV output.
//!
//! `-o FILE` writes to a temporary file in the same folder and renames it
//! over the target only when the whole report was written, so a failure
//! never leaves a half-written report. Writing over an input is refused.

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
            Output::File { tmp, target } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
                tmp.as_file().sync_all().ok();
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
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::File { tmp, .. } => tmp.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { tmp, .. } => tmp.flush(),
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
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_plain_number(value) => {
            Cow::Owned(format!("'{value}"))
        }
        _ => Cow::Borrowed(value),
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
    pub fn cell<'a>(&self, v: &'a str) -> Cow<'a, str> {
        if self.raw {
            Cow::Borrowed(v)
        } else {
            safe_cell(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
