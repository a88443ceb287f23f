//! Subcommands: one file each, `pub fn run(...) -> Result<Outcome>`.
//! This layer owns printing notes to stderr; the library below it is pure.

#![allow(clippy::print_stderr)]

pub mod assess;
pub mod classify;
pub mod evaluate;
pub mod explain;
pub mod init;
pub mod rules;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::Outcome;
use crate::cli::{Cli, Command, GlobalArgs, InputArgs};
use crate::input::{
    ActivityReader, ColumnOptions, InputPath, ReadOptions, delimiter_for_label, encoding_for_label,
};
use crate::rules::{RuleSet, RuleSource};

/// The local rules file picked up from the working directory.
pub const LOCAL_RULES: &str = "spectrum-rules.toml";

pub fn run(cli: Cli) -> Result<Outcome> {
    let notes = Notes::new(&cli.global);
    match cli.command {
        Command::Classify(args) => classify::run(&args, &cli.global, &notes),
        Command::Explain(args) => explain::run(&args, &cli.global, &notes),
        Command::Evaluate(args) => evaluate::run(&args, &cli.global, &notes),
        Command::Rules(cmd) => rules::run(&cmd, &cli.global, &notes),
        Command::Assess(args) => assess::run(&args, &cli.global, &notes),
        Command::Init { dir, force } => init::run(&dir, force, &notes),
        Command::Completions { shell } => {
            let mut cmd = crate::cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "spectrum-audit", &mut out);
            Ok(Outcome::Ok)
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(crate::cli::command()).render(&mut out)?;
            Ok(Outcome::Ok)
        }
    }
}

/// Notes on stderr, silenced by `--quiet`.
pub struct Notes {
    pub quiet: bool,
    /// Colour on stderr (`--color`, `NO_COLOR`, terminal).
    pub color: bool,
    /// Progress bars: only on a terminal, never with `--quiet`.
    pub progress: bool,
}

impl Notes {
    pub fn new(global: &GlobalArgs) -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        Notes {
            quiet: global.quiet,
            color: global.color.enabled(tty),
            progress: tty && !global.quiet,
        }
    }

    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            if self.color {
                eprintln!("\x1b[36mnote:\x1b[0m {}", msg.as_ref());
            } else {
                eprintln!("note: {}", msg.as_ref());
            }
        }
    }

    /// A progress display for reading `reader`; it shows itself only for
    /// large inputs or long runs.
    pub fn progress(&self, reader: &ActivityReader) -> crate::progress::Progress {
        crate::progress::Progress::new(self.progress, reader.name(), reader.size())
    }
}

/// The rule files in effect: `--rules`, else `./spectrum-rules.toml`, else built-in.
pub fn rule_paths(global: &GlobalArgs) -> Vec<PathBuf> {
    if !global.rules.is_empty() {
        return global.rules.clone();
    }
    let local = Path::new(LOCAL_RULES);
    if local.is_file() {
        vec![local.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// Loads the effective rules.
pub fn load_rules(global: &GlobalArgs) -> Result<RuleSet> {
    load_rule_files(&rule_paths(global))
}

pub fn load_rule_files(paths: &[PathBuf]) -> Result<RuleSet> {
    let sources = paths
        .iter()
        .map(|p| RuleSource::read(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::rules::load(&sources)?)
}

/// Read options (encoding, delimiter, sheet) from the shared input arguments.
pub fn read_options(args: &InputArgs) -> Result<ReadOptions> {
    let encoding = match &args.encoding {
        Some(label) => Some(encoding_for_label(label).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown --encoding `{label}`; try utf-8, utf-16le, utf-16be or windows-1252"
            )
        })?),
        None => None,
    };
    let delimiter = match &args.delimiter {
        Some(label) => Some(delimiter_for_label(label).ok_or_else(|| {
            anyhow::anyhow!(
                "--delimiter takes one character such as `,` `;` `|`, or `tab`; not `{label}`"
            )
        })?),
        None => None,
    };
    Ok(ReadOptions {
        encoding,
        delimiter,
        sheet: args.sheet.clone(),
    })
}

/// Opens a portfolio with the shared input arguments and prints what the
/// reader noticed (encoding, delimiter, header row) as notes.
pub fn open_input(
    path: &InputPath,
    columns: &ColumnOptions,
    args: &InputArgs,
    rules: &RuleSet,
    notes: &Notes,
) -> Result<ActivityReader> {
    let reader = ActivityReader::open_with(path, columns, &read_options(args)?, rules)?;
    for n in &reader.notes {
        notes.note(format!("{}: {n}", reader.name()));
    }
    Ok(reader)
}

/// The reading side of [`crate::pipeline::run`] for a portfolio: fills each
/// batch with the next records and moves the progress bar.
pub fn fill_batches<'a>(
    reader: &'a mut ActivityReader,
    progress: &'a mut crate::progress::Progress,
) -> impl FnMut(&mut crate::input::Records) -> Result<()> + Send + 'a {
    move |batch| {
        let read = reader.read_batch(batch);
        progress.tick(reader.counts.rows, reader.position());
        read
    }
}

/// Whether these inputs are worth classifying on several threads: over 4 MB
/// in all, or standard input (of unknown length).
pub fn large_input<'a>(inputs: impl IntoIterator<Item = &'a Path>) -> bool {
    const LARGE: u64 = 4 * 1024 * 1024;
    let mut total = 0u64;
    for p in inputs {
        if p.as_os_str() == "-" {
            return true;
        }
        total += p.metadata().map_or(0, |m| m.len());
    }
    total > LARGE
}

/// Column options from the shared input arguments.
pub fn column_options(args: &InputArgs) -> ColumnOptions {
    ColumnOptions {
        text: args.text.clone(),
        manual_levels: !args.no_manual,
        ignore_level: None,
        extra: Vec::new(),
    }
}
