//! The needs-review list, complete however large the portfolio, in bounded
//! memory.
//!
//! Reports list every unclassified, low-confidence or disputed row. A state
//! office's million-row portfolio can have hundreds of thousands of them, so
//! the first [`IN_MEMORY`] items stay in memory and the rest go, as JSON
//! lines, to an anonymous temporary file that is read back — in order — when
//! the report is written, and removed by the operating system afterwards.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// Items kept in memory per list before the rest spill to disk.
pub const IN_MEMORY: usize = 2_000;

/// A row for the needs-review list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub input: String,
    pub row: u64,
    pub id: String,
    pub text: String,
    /// What the report used: `level 3`, `response` or `none`.
    pub placed: String,
    pub detail: String,
}

/// An append-only list of review items that spills to disk past [`IN_MEMORY`].
#[derive(Default)]
pub struct ReviewList {
    items: Vec<ReviewItem>,
    spill: Option<BufWriter<File>>,
    len: usize,
    /// Set when the spill file could not be written; items are then kept in memory.
    spill_failed: bool,
    /// Items kept (in memory or spilled); the list's length counts all rows.
    kept: usize,
    /// Most items to keep ([`ReviewList::keep`]); `None` keeps every item.
    limit: Option<usize>,
}

impl ReviewList {
    pub fn push(&mut self, item: ReviewItem) {
        self.len += 1;
        if self.limit.is_some_and(|limit| self.kept >= limit) {
            return;
        }
        self.kept += 1;
        if self.items.len() < IN_MEMORY || self.spill_failed {
            self.items.push(item);
            return;
        }
        if self.spill.is_none() {
            match tempfile::tempfile() {
                Ok(f) => self.spill = Some(BufWriter::new(f)),
                Err(_) => {
                    self.spill_failed = true;
                    self.items.push(item);
                    return;
                }
            }
        }
        let written = self.spill.as_mut().is_some_and(|w| {
            serde_json::to_writer(&mut *w, &item).is_ok() && w.write_all(b"\n").is_ok()
        });
        if !written {
            // Keep the row rather than lose it; memory grows, nothing is dropped.
            self.spill_failed = true;
            self.items.push(item);
        }
    }

    /// Counts one more row without keeping its item (for a list that keeps
    /// only its first items, [`ReviewList::keep`]).
    pub fn count(&mut self) {
        self.len += 1;
    }

    /// Keeps only the first `limit` items; later ones are counted. For
    /// reports that show the start of a list and how many rows it has.
    pub fn keep(&mut self, limit: usize) {
        self.limit = Some(limit);
    }

    /// Rows listed (kept items and counted ones).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every kept item, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = ReviewItem> + '_ {
        let spilled = self.spilled_reader().into_iter().flat_map(|r| {
            r.lines()
                .map_while(Result::ok)
                .filter_map(|line| serde_json::from_str::<ReviewItem>(&line).ok())
        });
        self.items.iter().cloned().chain(spilled)
    }

    /// A reader over the spill file from its start (after flushing it).
    fn spilled_reader(&self) -> Option<BufReader<File>> {
        let writer = self.spill.as_ref()?;
        let mut file = writer.get_ref().try_clone().ok()?;
        // A BufWriter behind a shared reference cannot be flushed, so items
        // still in its buffer are read from there (see `flush`).
        file.seek(SeekFrom::Start(0)).ok()?;
        Some(BufReader::new(file))
    }

    /// Writes buffered spilled items to the file so `iter` sees them all.
    pub fn flush(&mut self) {
        if let Some(w) = self.spill.as_mut()
            && w.flush().is_err()
        {
            self.spill_failed = true;
        }
    }
}

impl fmt::Debug for ReviewList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReviewList")
            .field("len", &self.len)
            .field("in_memory", &self.items.len())
            .finish()
    }
}

impl Clone for ReviewList {
    fn clone(&self) -> Self {
        let items: Vec<ReviewItem> = self.iter().collect();
        ReviewList {
            len: self.len,
            kept: items.len(),
            items,
            spill: None,
            spill_failed: false,
            limit: self.limit,
        }
    }
}

impl PartialEq for ReviewList {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.kept == other.kept && self.iter().eq(other.iter())
    }
}

impl FromIterator<ReviewItem> for ReviewList {
    fn from_iter<T: IntoIterator<Item = ReviewItem>>(iter: T) -> Self {
        let mut list = ReviewList::default();
        for item in iter {
            list.push(item);
        }
        list.flush();
        list
    }
}

impl Serialize for ReviewList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.kept))?;
        for item in self.iter() {
            seq.serialize_element(&item)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(i: usize) -> ReviewItem {
        ReviewItem {
            input: "p.csv".into(),
            row: i as u64,
            id: format!("R{i}"),
            text: format!("activity \"{i}\"\nwith a line break"),
            placed: "none".into(),
            detail: "no rule terms matched".into(),
        }
    }

    #[test]
    fn spills_past_the_memory_limit_and_keeps_order() {
        let n = IN_MEMORY * 2 + 17;
        let list: ReviewList = (0..n).map(item).collect();
        assert_eq!(list.len(), n);
        assert_eq!(list.items.len(), IN_MEMORY);
        let back: Vec<ReviewItem> = list.iter().collect();
        assert_eq!(back.len(), n);
        assert!(back.iter().enumerate().all(|(i, it)| *it == item(i)));
        // Twice: reading does not consume.
        assert_eq!(list.iter().count(), n);
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json.as_array().unwrap().len(), n);
        assert_eq!(list.clone(), list);
    }

    #[test]
    fn a_kept_list_counts_every_row_and_keeps_the_first() {
        let mut list = ReviewList::default();
        list.keep(3);
        for i in 0..5 {
            list.push(item(i));
        }
        list.count();
        assert_eq!(list.len(), 6);
        let kept: Vec<u64> = list.iter().map(|i| i.row).collect();
        assert_eq!(kept, vec![0, 1, 2]);
        assert!(list.spill.is_none());
        assert_eq!(
            serde_json::to_value(&list)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn small_lists_stay_in_memory() {
        let list: ReviewList = (0..3).map(item).collect();
        assert!(list.spill.is_none());
        assert_eq!(
            list.iter().map(|i| i.row).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }
}
