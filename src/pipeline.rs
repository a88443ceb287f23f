//! Reading, classifying and collecting on all cores, with results in input
//! order.
//!
//! One thread reads rows into batches; worker threads classify batches; the
//! calling thread receives finished batches, puts them back in sequence and
//! hands each row to the sink. Channels are bounded, so memory stays flat
//! however long the input is, and the output is byte-identical to a
//! sequential run (`threads = 1` runs everything on the calling thread).

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::classify::Scratch;

/// The job queue, shared by the workers.
type SharedJobs<I> = Arc<Mutex<Receiver<(u64, Vec<I>)>>>;

/// Rows per batch: large enough to amortize channel traffic, small enough
/// that a few batches in flight take little memory.
const BATCH: usize = 512;

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

/// Runs `next` → `work` → `sink` over every item, `sink` seeing items in the
/// order `next` produced them. Stops at the first error from `next` or `sink`
/// (rows before it are still handed to `sink`, as in a sequential run).
pub fn run<I, O>(
    threads: usize,
    mut next: impl FnMut() -> Result<Option<I>> + Send,
    work: impl Fn(&I, &mut Scratch) -> O + Sync,
    mut sink: impl FnMut(I, O) -> Result<()>,
) -> Result<()>
where
    I: Send,
    O: Send,
{
    if threads <= 1 {
        let mut scratch = Scratch::default();
        while let Some(item) = next()? {
            let out = work(&item, &mut scratch);
            sink(item, out)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (job_tx, job_rx) = sync_channel::<(u64, Vec<I>)>(threads * 2);
        let job_rx: SharedJobs<I> = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, Vec<(I, O)>)>(threads * 2);
        let work = &work;
        for _ in 0..threads {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    // Hold the lock only to take the next batch.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, items)) = job else { return };
                    let out: Vec<(I, O)> = items
                        .into_iter()
                        .map(|item| {
                            let o = work(&item, &mut scratch);
                            (item, o)
                        })
                        .collect();
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
        let reader = scope.spawn(move || -> Result<()> {
            let mut seq = 0;
            loop {
                let mut batch = Vec::with_capacity(BATCH);
                let mut finished = false;
                while batch.len() < BATCH {
                    match next() {
                        Ok(Some(item)) => batch.push(item),
                        Ok(None) => {
                            finished = true;
                            break;
                        }
                        Err(e) => {
                            // Hand over what was read before the error.
                            if !batch.is_empty() {
                                let _ = job_tx.send((seq, batch));
                            }
                            return Err(e);
                        }
                    }
                }
                if !batch.is_empty() && job_tx.send((seq, batch)).is_err() {
                    // The collector stopped (it hit an error); so do we.
                    return Ok(());
                }
                seq += 1;
                if finished {
                    return Ok(());
                }
            }
        });
        let mut pending: BTreeMap<u64, Vec<(I, O)>> = BTreeMap::new();
        let mut expected = 0;
        let mut sink_error = None;
        'collect: for (seq, items) in done_rx.iter() {
            pending.insert(seq, items);
            while let Some(items) = pending.remove(&expected) {
                expected += 1;
                for (item, out) in items {
                    if let Err(e) = sink(item, out) {
                        sink_error = Some(e);
                        break 'collect;
                    }
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

    fn collect(threads: usize, n: u64, fail_at: Option<u64>) -> (Vec<(u64, u64)>, Option<String>) {
        let mut i = 0;
        let mut seen = Vec::new();
        let result = run(
            threads,
            || {
                i += 1;
                if Some(i) == fail_at {
                    anyhow::bail!("bad row {i}");
                }
                Ok((i <= n).then_some(i))
            },
            |x, _| x * 2,
            |x, y| {
                seen.push((x, y));
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
            let (seen, err) = collect(threads, 5000, Some(1300));
            assert_eq!(err.as_deref(), Some("bad row 1300"));
            assert_eq!(seen.len(), 1299, "threads {threads}");
        }
    }

    #[test]
    fn a_sink_error_stops_everything() {
        let result = run(
            2,
            {
                let mut i = 0u64;
                move || {
                    i += 1;
                    Ok(Some(i))
                }
            },
            |x, _| *x,
            |x, _| {
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
