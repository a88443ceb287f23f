//! Workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) read directly with
//! calamine: the first sheet unless one is named. Cells are rendered as a
//! person would type them — whole numbers without `.0`, no floating-point
//! noise, dates as `YYYY-MM-DD` rather than serial numbers.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use calamine::{Data, Reader, open_workbook_auto};

/// File extensions read as workbooks.
pub const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// True when `path` names a workbook by its extension.
pub fn is_workbook(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        WORKBOOK_EXTENSIONS
            .iter()
            .any(|w| w.eq_ignore_ascii_case(e))
    })
}

/// A sheet's rows as text, with the sheet row number (1-based) of each.
pub struct SheetRows {
    pub sheet: String,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Reads one sheet of a workbook: `sheet`, or the first.
pub fn read(path: &Path, sheet: Option<&str>) -> Result<SheetRows> {
    let mut wb = open_workbook_auto(path)
        .with_context(|| format!("cannot open workbook `{}`", path.display()))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| {
                let list = names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                anyhow!(
                    "{}: no sheet `{wanted}`; sheets are: {list}",
                    path.display()
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| anyhow!("{}: the workbook has no sheets", path.display()))?,
    };
    let range = wb
        .worksheet_range(&name)
        .with_context(|| format!("{}: cannot read sheet `{name}`", path.display()))?;
    let first_row = range.start().map_or(0, |(r, _)| r);
    let first_col = range.start().map_or(0, |(_, c)| c) as usize;
    let mut rows = Vec::with_capacity(range.height());
    for (i, row) in range.rows().enumerate() {
        // Keep cells left of the used range so columns line up with the sheet.
        let mut cells = vec![String::new(); first_col];
        cells.extend(row.iter().map(render));
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        rows.push((u64::from(first_row) + i as u64 + 1, cells));
    }
    Ok(SheetRows { sheet: name, rows })
}

/// A cell as a person would type it.
pub fn render(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if dt.is_duration() {
                let total = dt.as_f64() * 24.0;
                format!("{}:{mm:02}:{ss:02}", total.floor() as i64)
            } else if hh == 0 && mm == 0 && ss == 0 {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
            }
        }
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).replace('T', " "),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A number without binary floating-point noise: at most 15 significant
/// digits (what spreadsheets show), no trailing zeros, no `.0`.
pub fn number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{f:.0}");
    }
    let magnitude = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    let decimals = (14 - magnitude).clamp(0, 15) as usize;
    let s = format!("{f:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_typed() {
        assert_eq!(number(12500.0), "12500");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(12500.000000000002), "12500");
        assert_eq!(number(1234.5), "1234.5");
        assert_eq!(number(-0.25), "-0.25");
        assert_eq!(number(1e20), "100000000000000000000");
    }

    #[test]
    fn extensions() {
        assert!(is_workbook(Path::new("a/Portfolio.XLSX")));
        assert!(is_workbook(Path::new("p.ods")));
        assert!(!is_workbook(Path::new("p.csv")));
    }
}
