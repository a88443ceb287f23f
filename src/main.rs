//! The `spectrum-audit` binary: parse arguments, run, map the result to an
//! exit code. The only place that prints errors.

use std::process::ExitCode;

use std::io::IsTerminal;

use clap::FromArgMatches;
use spectrum_audit::{Outcome, cli::Cli, run};

fn main() -> ExitCode {
    let matches = spectrum_audit::cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let color = cli.global.color.enabled(std::io::stderr().is_terminal());
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed(code)) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            if color {
                eprintln!("\x1b[1;31merror:\x1b[0m {err:#}");
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(1)
        }
    }
}

/// A closed pipe (`| head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
