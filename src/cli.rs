//! Command-line interface: clap derive types. Clap types stop here; commands
//! receive these argument structs and return plain results.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  spectrum-audit assess examples/statewide-coalition.csv
  spectrum-audit assess examples/statewide-coalition.csv --by organization --weight budget --format markdown
  spectrum-audit classify examples/community-org.csv -o classified.csv
  spectrum-audit explain \"Adopt a Clean Hotel policy for staff travel\"

Exit codes: 0 ok, 1 error, 2 usage error, 3 score below --fail-under.";

/// Audit a prevention portfolio against the six levels of the Spectrum of Prevention.
///
/// Classifies each activity of a spreadsheet or CSV with keyword rules kept in
/// a rules file, and reports which levels the portfolio covers, where the gaps
/// are, and how much of it works upstream (levels 5-6: organizational
/// practices, policy and legislation).
#[derive(Debug, Parser)]
#[command(name = "spectrum-audit", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Rules file (repeatable: later files layer over earlier ones).
    /// Default: ./spectrum-rules.toml if present, else the built-in rules
    #[arg(
        long = "rules",
        value_name = "FILE",
        global = true,
        help_heading = "Rules"
    )]
    pub rules: Vec<PathBuf>,

    /// Print no notes or progress (errors are still printed)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Worker threads for classifying (0 = one per core); results are the same for any number
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = 0,
        hide_short_help = true
    )]
    pub threads: usize,

    /// When to use colour: auto (a terminal, unless NO_COLOR is set), always or never
    #[arg(long, value_enum, default_value_t, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream, given whether it is a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report Spectrum coverage, gaps and upstream share for a portfolio
    Assess(AssessArgs),
    /// Add the Spectrum level and the evidence for it to every row
    Classify(ClassifyArgs),
    /// Show which terms matched a text or row, and why its level won
    Explain(ExplainArgs),
    /// Measure the rules against a hand-labeled column
    Evaluate(EvaluateArgs),
    /// Check, test or print rule files
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write a starter portfolio and a local rules file to begin from
    #[command(after_help = "\
Examples:
  spectrum-audit init
  spectrum-audit init my-coalition
  spectrum-audit init . --force")]
    Init {
        /// Folder to write into (created if missing)
        #[arg(value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Overwrite existing files
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  spectrum-audit completions bash > ~/.local/share/bash-completion/completions/spectrum-audit
  spectrum-audit completions zsh > ~/.zfunc/_spectrum-audit
  spectrum-audit completions fish > ~/.config/fish/completions/spectrum-audit.fish")]
    Completions {
        /// The shell: bash, zsh, fish, powershell or elvish
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff)
    #[command(after_help = "\
Examples:
  spectrum-audit man > spectrum-audit.1 && man ./spectrum-audit.1
  spectrum-audit man > ~/.local/share/man/man1/spectrum-audit.1")]
    Man,
}

/// Options that find the activity text in a portfolio.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Column(s) holding the activity text (repeatable; joined in order).
    /// Default: detected from headers such as activity, description, title
    #[arg(long, value_name = "COLUMN", help_heading = "Input")]
    pub text: Vec<String>,

    /// Ignore a `level` column instead of using it as a manual override
    #[arg(long, help_heading = "Input")]
    pub no_manual: bool,

    /// Text encoding of CSV input (utf-8, utf-16le, utf-16be, windows-1252, …).
    /// Default: detected (BOM, else UTF-8, else Windows-1252)
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    pub encoding: Option<String>,

    /// Cell separator of CSV input: `,` `;` `|` or `tab`. Default: detected
    /// from the first lines (`.tsv` and `.tab` files use tabs)
    #[arg(long, value_name = "CHAR", help_heading = "Input")]
    pub delimiter: Option<String>,

    /// Worksheet to read from a workbook (.xlsx, .xlsm, .xls, .ods). Default: the first
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    pub sheet: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ClassifyFormat {
    /// The input's columns plus spectrum_* columns
    #[default]
    Csv,
    /// One JSON object per row
    Jsonl,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  spectrum-audit classify examples/community-org.csv
  spectrum-audit classify portfolio.csv -o classified.csv
  spectrum-audit classify portfolio.csv --format jsonl --text Program --text Details")]
pub struct ClassifyArgs {
    /// Portfolio CSV (`-` for standard input)
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// Write here instead of standard output (atomically)
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    pub format: ClassifyFormat,

    /// Write cells exactly as read, without the leading `'` that keeps
    /// spreadsheet formulas (=, +, -, @) from running
    #[arg(long, help_heading = "Output")]
    pub raw: bool,

    #[command(flatten)]
    pub input_args: InputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ExplainFormat {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  spectrum-audit explain \"Train hotel staff to spot the signs of trafficking\"
  spectrum-audit explain --input examples/community-org.csv --row C07")]
pub struct ExplainArgs {
    /// Activity text to explain
    #[arg(
        value_name = "TEXT",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub activity: Option<String>,

    /// Portfolio to take the row from
    #[arg(long, value_name = "FILE", requires = "row")]
    pub input: Option<PathBuf>,

    /// The row's id (the `id` column, or the data row number)
    #[arg(long, value_name = "ID", requires = "input")]
    pub row: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ExplainFormat,

    #[command(flatten)]
    pub input_args: InputArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load a rules file strictly and report every problem
    #[command(after_help = "\
Examples:
  spectrum-audit rules check
  spectrum-audit rules check spectrum-rules.toml
  spectrum-audit --rules base.toml --rules local.toml rules check")]
    Check {
        /// Rules file (default: the effective rules)
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Run the [[example]] tests of a rules file
    #[command(after_help = "\
Examples:
  spectrum-audit rules test
  spectrum-audit rules test spectrum-rules.toml --verbose")]
    Test {
        /// Rules file (default: the effective rules)
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// List every term that no example exercises
        #[arg(long)]
        verbose: bool,
    },
    /// Print the effective rules as TOML you can copy and edit
    #[command(after_help = "\
Examples:
  spectrum-audit rules show > my-rules.toml
  spectrum-audit --rules spectrum-rules.toml rules show")]
    Show,
    /// Per-term hits, wins and conflicts over a portfolio
    #[command(after_help = "\
Examples:
  spectrum-audit rules stats examples/statewide-coalition.csv
  spectrum-audit --rules local.toml rules stats portfolio.csv --format json")]
    Stats {
        /// Portfolio CSV (`-` for standard input)
        #[arg(value_name = "FILE")]
        input: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: ExplainFormat,
        #[command(flatten)]
        input_args: InputArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EvaluateFormat {
    #[default]
    Table,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  spectrum-audit evaluate labeled.csv --gold level
  spectrum-audit --rules local.toml evaluate labeled.csv --gold \"Our level\" --format markdown")]
pub struct EvaluateArgs {
    /// Portfolio CSV with a hand-labeled column (`-` for standard input)
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// The hand-labeled column: 1-6, L5, Level 5, a level name, response or none
    #[arg(long, value_name = "COLUMN")]
    pub gold: String,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: EvaluateFormat,

    #[command(flatten)]
    pub input_args: InputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AssessFormat {
    /// Terminal tables and a text chart
    #[default]
    Table,
    /// A grant-ready summary
    Markdown,
    /// The whole report model
    Json,
    /// One row per level (per group and level with --by)
    Csv,
    /// A self-contained report page with the Spectrum chart (no scripts)
    Html,
    /// The Spectrum chart alone, for a proposal or slide
    Svg,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  spectrum-audit assess examples/statewide-coalition.csv
  spectrum-audit assess examples/statewide-coalition.csv --by organization --weight budget
  spectrum-audit assess this-year.csv --baseline last-year.csv --format markdown -o summary.md
  spectrum-audit assess a.csv b.csv --by file --fail-under 60")]
pub struct AssessArgs {
    /// Portfolio file(s); several files form one portfolio (`-` for standard input)
    #[arg(value_name = "FILE", required = true)]
    pub inputs: Vec<PathBuf>,

    /// Group the report by a column (e.g. organization, year), or `file`
    #[arg(long, value_name = "COLUMN", help_heading = "Analysis")]
    pub by: Option<String>,

    /// Weigh activities by a numeric column (budget, hours, staff)
    #[arg(long, value_name = "COLUMN", help_heading = "Analysis")]
    pub weight: Option<String>,

    /// An earlier portfolio to compare with (last year, or the plan)
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "Analysis")]
    pub baseline: Vec<PathBuf>,

    /// Exit with code 3 when the Spectrum score is below SCORE (after writing the report)
    #[arg(long, value_name = "SCORE", help_heading = "Analysis")]
    pub fail_under: Option<f64>,

    /// Output format
    #[arg(long, value_enum, default_value_t, help_heading = "Output")]
    pub format: AssessFormat,

    /// Write here instead of standard output (atomically)
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Write CSV cells exactly as read (no formula guard)
    #[arg(long, help_heading = "Output")]
    pub raw: bool,

    #[command(flatten)]
    pub input_args: InputArgs,
}

/// The full command definition, with the built-in rules named in `--version`.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let version = crate::long_version();
    Cli::command()
        .version(version.clone())
        .long_version(version)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        super::command().debug_assert();
    }

    #[test]
    fn version_names_the_built_in_rules() {
        assert!(crate::long_version().contains("built-in rules spectrum-default"));
    }
}
