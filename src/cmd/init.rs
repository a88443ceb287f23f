//! `init`: a starter portfolio and a commented local rules file, so a new
//! user has something to run and something to edit.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::Notes;
use crate::Outcome;

/// Starter files written by `init`: (file name, contents).
pub const FILES: &[(&str, &str)] = &[
    (
        "activities.csv",
        include_str!("../../templates/activities.csv"),
    ),
    (
        super::LOCAL_RULES,
        include_str!("../../templates/spectrum-rules.toml"),
    ),
];

pub fn run(dir: &Path, force: bool, notes: &Notes) -> Result<Outcome> {
    if dir.exists() && !dir.is_dir() {
        bail!("`{}` exists and is not a folder", dir.display());
    }
    let existing: Vec<String> = FILES
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() && !force {
        bail!(
            "{} already {}; nothing was written (use --force to overwrite)",
            existing.join(" and "),
            if existing.len() == 1 {
                "exists"
            } else {
                "exist"
            }
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    for (name, contents) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        notes.note(format!("wrote {}", path.display()));
    }
    let csv = dir.join(FILES[0].0);
    notes.note(format!(
        "next: replace the example rows in {} with your activities, then run `spectrum-audit assess {}` from {}",
        csv.display(),
        FILES[0].0,
        dir.display()
    ));
    Ok(Outcome::Ok)
}
