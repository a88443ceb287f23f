//! Reading, classifying and collecting on all cores, with results in input
//! order.
//!
//! Worker threads take turns at the input: under a lock, a worker fills its
//! batch with the next rows (parsing the file is the only part that must run
//! in order) and numbers it; it then turns the batch into an output while
//! another worker reads, and takes its turn at the output side, where
//! outputs wait until those before them have gone to the sink. No thread
//! only reads or only collects, so `threads` workers keep `threads` cores
//! busy. Each worker refills its own batch, so buffers are reused rather
//! than reallocated; workers stay at most a few batches ahead of the sink,
//! so memory stays flat however long the input is; and the output is
//! byte-identical to a sequential run (`threads = 1` runs everything on the
//! calling thread with the same batches).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

/// A batch of input rows.
pub trait Batch: Default + Send {
    fn is_empty(&self) -> bool;
}

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
    mut sink: impl FnMut(O) -> Result<()> + Send,
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
    // See the module documentation.
    let input = Mutex::new(Input {
        fill,
        next: 0,
        done: false,
        error: None,
    });
    let output = Mutex::new(Output {
        sink,
        pending: BTreeMap::new(),
        expected: 0,
        error: None,
    });
    // Batches sunk so far: a worker does not read more than a few batches
    // ahead of the output, so outputs waiting behind a slow batch stay few.
    let sunk = AtomicU64::new(0);
    let ahead = threads as u64 * 4;
    std::thread::scope(|scope| {
        let (input, output, work, sunk) = (&input, &output, &work, &sunk);
        for _ in 0..threads {
            scope.spawn(move || {
                let mut state = S::default();
                // Each worker refills its own batch, reusing its buffers.
                let mut batch = B::default();
                loop {
                    // (Batches read are always worked on and put, so `sunk`
                    // catches up unless the run is stopping.)
                    while input
                        .lock()
                        .is_ok_and(|i| !i.done && i.next >= sunk.load(Ordering::Acquire) + ahead)
                    {
                        std::thread::yield_now();
                    }
                    let seq = {
                        let Ok(mut input) = input.lock() else { return };
                        if input.done {
                            return;
                        }
                        let filled = (input.fill)(&mut batch);
                        if let Err(e) = filled {
                            // The rows read before the error are still
                            // worked on and delivered; then everyone stops.
                            input.done = true;
                            input.error = Some(e);
                        }
                        if batch.is_empty() {
                            input.done = true;
                            return;
                        }
                        input.next += 1;
                        input.next - 1
                    };
                    let out = work(&batch, &mut state);
                    // No worker asks for this lock while holding the input
                    // lock, so taking that one under it (below) cannot deadlock.
                    let Ok(mut output) = output.lock() else {
                        return;
                    };
                    if output.error.is_some() {
                        return;
                    }
                    let put = output.put(seq, out);
                    sunk.store(output.expected, Ordering::Release);
                    if let Err(e) = put {
                        output.error = Some(e);
                        if let Ok(mut input) = input.lock() {
                            input.done = true;
                        }
                        return;
                    }
                }
            });
        }
    });
    let sink_error = output.into_inner().ok().and_then(|o| o.error);
    match (sink_error, input.into_inner()) {
        (Some(e), _) => Err(e),
        (None, Ok(input)) => input.error.map_or(Ok(()), Err),
        (None, Err(_)) => Err(anyhow::anyhow!("the input reader stopped unexpectedly")),
    }
}

/// The output side, shared by the workers.
struct Output<O, K> {
    sink: K,
    /// Outputs that arrived before one they follow.
    pending: BTreeMap<u64, O>,
    /// Sequence number of the next output to sink.
    expected: u64,
    /// The sink's error, which stops everything.
    error: Option<anyhow::Error>,
}

impl<O, K: FnMut(O) -> Result<()>> Output<O, K> {
    /// Takes batch `seq`'s output and sinks every output now in sequence.
    fn put(&mut self, seq: u64, out: O) -> Result<()> {
        self.pending.insert(seq, out);
        while let Some(out) = self.pending.remove(&self.expected) {
            self.expected += 1;
            (self.sink)(out)?;
        }
        Ok(())
    }
}

/// The input side, shared by the workers.
struct Input<F> {
    fill: F,
    /// Sequence number of the next batch read.
    next: u64,
    /// Set at the end of the input, at a read error, or when the sink failed.
    done: bool,
    error: Option<anyhow::Error>,
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
