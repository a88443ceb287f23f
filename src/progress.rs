//! Progress on stderr for long work: shown only on a terminal (never in
//! pipes, files or CI), never with `--quiet`, and only once the input is
//! large (over 20 MB) or the run has taken more than a second. Updates are
//! checked every few thousand rows so the hot path stays cheap.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs at least this large show progress from the start.
const LARGE: u64 = 20 * 1024 * 1024;
/// Smaller inputs show progress once a run takes this long.
const SLOW: Duration = Duration::from_secs(1);
const EVERY_ROWS: u64 = 4096;

pub struct Progress {
    enabled: bool,
    name: String,
    total: Option<u64>,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool, name: &str, total: Option<u64>) -> Self {
        Progress {
            enabled,
            name: name.to_string(),
            total,
            started: Instant::now(),
            bar: None,
        }
    }

    /// Reports `rows` read and `bytes` consumed so far.
    #[inline]
    pub fn tick(&mut self, rows: u64, bytes: Option<u64>) {
        if !self.enabled || !rows.is_multiple_of(EVERY_ROWS) {
            return;
        }
        if self.bar.is_none() {
            let large = self.total.is_some_and(|t| t >= LARGE);
            if !large && self.started.elapsed() < SLOW {
                return;
            }
            self.bar = Some(self.make_bar());
        }
        if let Some(bar) = &self.bar {
            if let Some(b) = bytes {
                bar.set_position(b);
            }
            bar.set_message(format!("{rows} rows"));
        }
    }

    fn make_bar(&self) -> ProgressBar {
        let bar = match self.total {
            Some(t) => {
                let bar = ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta} left)",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{prefix} {spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        bar.set_prefix(self.name.clone());
        bar
    }

    /// Clears the bar, if one was shown.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
