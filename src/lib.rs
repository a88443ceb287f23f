//! spectrum-audit: audit a prevention portfolio against the Spectrum of Prevention.
//!
//! The pipeline runs one way: **input** (reading portfolios) → **activity**
//! (rows with optional manual levels) → **classify** (rules → level) →
//! **assess** (coverage, gaps, score) → **render** (one model, many formats).
//! Rules live in data files (`rules/spectrum.toml` is built in); see
//! [`rules`]. Core logic is pure; printing happens only in `cmd` and `main`.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod activity;
pub mod assess;
pub mod classify;
pub mod cli;
pub mod cmd;
pub mod evaluate;
pub mod input;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod review;
pub mod rules;
pub mod text;

/// What a successful run asks `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A check failed (rules tests, `--fail-under`): exit with this code.
    Failed(u8),
}

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<Outcome> {
    cmd::run(cli)
}

/// `0.1.0 (built-in rules spectrum-default 1.0.0)`, for `--version`.
pub fn long_version() -> String {
    let (name, version) = rules::builtin_identity();
    format!(
        "{} (built-in rules {name} {version})",
        env!("CARGO_PKG_VERSION")
    )
}
