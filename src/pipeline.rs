//! Reading, classifying and collecting on all cores, with results in input
//! order.
//!
//! One thread fills batches of rows (the only part that must run in order:
//! parsing the file), worker threads turn each batch into an output, and the
//! calling thread receives the outputs, puts them back in sequence and hands
//! each to the sink. Batches are handed back to the reader once used, so
//! their buffers are reused rather than reallocated. Channels are bounded, so
//! memory stays flat however long the input is, and the output is
//! byte-identical to a sequential run (`threads = 1` runs everything on the
//! calling thread with the same batches).

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use anyhow::Result;

/// A batch of input rows.
pub trait Batch: Default + Send {
    fn is_empty(&self) -> bool;
}

/// The job queue, shared by the workers.
type SharedJobs<B> = Arc<Mutex<Receiver<(u64, B)>>>;

/// How many worker threads to use: `requested`; else one per core for large
/// inputs and none (all on the calling thread) for small ones, where starting
/// threads would cost more than it saves.
pub fn threads(requested: usize, large_input: bool) -> usize {
    if requested > 0 {
        return requested;
    }
    if large_input {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        1
    }
}

/// Runs `fill` → `work` → `sink` over every batch, `sink` seeing outputs in
/// the order `fill` produced the batches.
///
/// `fill` replaces a batch's contents with the next rows; a batch left empty
/// ends the input. When `fill` fails, the rows it put in the batch before
/// the error are still worked on and sunk, then the error is returned (as in
/// a sequential run). An error from `sink` stops everything.
pub fn run<B, S, O>(
    threads: usize,
    mut fill: impl FnMut(&mut B) -> Result<()> + Send,
    work: impl Fn(&B, &mut S) -> O + Sync,
    mut sink: impl FnMut(O) -> Result<()>,
) -> Result<()>
where
    B: Batch,
    S: Default,
    O: Send,
{
    if threads <= 1 {
        let mut state = S::default();
        let mut batch = B::default();
        loop {
            let filled = fill(&mut batch);
            if !batch.is_empty() {
                sink(work(&batch, &mut state))?;
            }
            filled?;
            if batch.is_empty() {
                return Ok(());
            }
        }
    }
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = sync_channel::<(u64, B)>(threads * 2);
        let job_rx: SharedJobs<B> = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, O)>(threads * 2);
        // Used batches go back to the reader; it makes new ones only while
        // none has come back yet.
        let (free_tx, free_rx) = sync_channel::<B>(threads * 4 + 2);
        let work = &work;
        for _ in 0..threads {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let free_tx = free_tx.clone();
            scope.spawn(move || {
                let mut state = S::default();
                loop {
                    // Hold the lock only to take the next batch.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, batch)) = job else { return };
                    let out = work(&batch, &mut state);
                    let _ = free_tx.try_send(batch);
                    if done_tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers hold the job receiver and the result sender, so
        // when they stop, the reader's sends fail and the collector's loop ends.
        drop(job_rx);
        drop(done_tx);
        drop(free_tx);
        let reader = scope.spawn(move || -> Result<()> {
            let mut seq = 0;
            loop {
                let mut batch = free_rx.try_recv().unwrap_or_default();
                let filled = fill(&mut batch);
                if batch.is_empty() {
                    return filled;
                }
                if job_tx.send((seq, batch)).is_err() {
                    // The collector stopped (it hit an error); so do we.
                    return Ok(());
                }
                seq += 1;
                filled?;
            }
        });
        let mut pending: BTreeMap<u64, O> = BTreeMap::new();
        let mut expected = 0;
        let mut sink_error = None;
        'collect: for (seq, out) in done_rx.iter() {
            pending.insert(seq, out);
            while let Some(out) = pending.remove(&expected) {
                expected += 1;
                if let Err(e) = sink(out) {
                    sink_error = Some(e);
                    break 'collect;
                }
            }
        }
        // Unblock the reader and workers if the collector stopped early.
        drop(done_rx);
        let read_result = reader
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the input reader stopped unexpectedly")));
        match sink_error {
            Some(e) => Err(e),
            None => read_result,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Batch for Vec<u64> {
        fn is_empty(&self) -> bool {
            self.is_empty()
        }
    }

    /// Numbers 1..=n in batches of up to 100, failing at `fail_at`.
    fn collect(threads: usize, n: u64, fail_at: Option<u64>) -> (Vec<(u64, u64)>, Option<String>) {
        let mut i = 0;
        let mut seen = Vec::new();
        let result = run(
            threads,
            |batch: &mut Vec<u64>| {
                batch.clear();
                while batch.len() < 100 && i < n {
                    i += 1;
                    if Some(i) == fail_at {
                        anyhow::bail!("bad row {i}");
                    }
                    batch.push(i);
                }
                Ok(())
            },
            |batch, _: &mut ()| batch.iter().map(|x| (*x, x * 2)).collect::<Vec<_>>(),
            |out| {
                seen.extend(out);
                Ok(())
            },
        );
        (seen, result.err().map(|e| e.to_string()))
    }

    #[test]
    fn parallel_output_is_in_input_order() {
        for threads in [1, 2, 4] {
            let (seen, err) = collect(threads, 5000, None);
            assert_eq!(err, None);
            assert_eq!(seen.len(), 5000);
            assert!(
                seen.iter()
                    .enumerate()
                    .all(|(k, (x, y))| *x == k as u64 + 1 && *y == x * 2)
            );
        }
    }

    #[test]
    fn rows_before_an_error_are_all_delivered() {
        for threads in [1, 2] {
            let (seen, err) = collect(threads, 5000, Some(1350));
            assert_eq!(err.as_deref(), Some("bad row 1350"));
            assert_eq!(seen.len(), 1349, "threads {threads}");
        }
    }

    #[test]
    fn a_sink_error_stops_everything() {
        let mut i = 0u64;
        let result = run(
            2,
            move |batch: &mut Vec<u64>| {
                batch.clear();
                batch.extend(i..i + 10);
                i += 10;
                Ok(())
            },
            |batch, _: &mut ()| batch[0],
            |x| {
                if x == 3000 {
                    anyhow::bail!("disk full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result.unwrap_err().to_string(), "disk full");
    }
}
