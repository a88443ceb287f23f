//! `assess`: the coverage and gap report for one portfolio (one or more
//! files), optionally grouped, weighted and compared with a baseline.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow, bail};

use super::{Notes, column_options, load_rules};
use crate::Outcome;
use crate::activity::{Activity, assign_into};
use crate::assess::{
    InputInfo, Meta, ReviewReason, Tally, build, parse_amount, report_date, review_item,
    review_reasons,
};
use crate::classify::{Category, Classifier, Scratch};
use crate::cli::{AssessArgs, AssessFormat, GlobalArgs};
use crate::input::InputPath;
use crate::input::{Record, RowDecoder};
use crate::output::Output;
use crate::pipeline;
use crate::render;
use crate::review::ReviewItem;
use crate::rules::RuleSet;

/// What to collect while reading one portfolio file.
struct Collect<'a> {
    notes: &'a Notes,
    rules: &'a RuleSet,
    classifier: &'a Classifier,
    args: &'a AssessArgs,
    /// The portfolio itself (review list, `--by`, `--weight`), not a baseline.
    review: bool,
    threads: usize,
    /// Review items the report shows per list (the rest are only counted).
    keep_review: usize,
    /// Rows in each review list so far (by `ReviewReason as usize`), for
    /// the workers to skip building items the report will not show.
    listed: &'a [AtomicUsize; 3],
}

pub fn run(args: &AssessArgs, global: &GlobalArgs, notes: &Notes) -> Result<Outcome> {
    let rules = load_rules(global)?;
    let large = super::large_input(
        args.inputs
            .iter()
            .chain(&args.baseline)
            .map(PathBuf::as_path),
    );
    let classifier = Classifier::new(&rules)?;
    let inputs: Vec<InputPath> = args.inputs.iter().map(|p| InputPath::new(p)).collect();
    let baselines: Vec<InputPath> = args.baseline.iter().map(|p| InputPath::new(p)).collect();
    let stdin_uses = inputs
        .iter()
        .chain(&baselines)
        .filter(|i| **i == InputPath::Stdin)
        .count();
    if stdin_uses > 1 {
        bail!("standard input (`-`) can be read only once");
    }
    if let Some(score) = args.fail_under
        && !(0.0..=100.0).contains(&score)
    {
        bail!("--fail-under takes a score from 0 to 100, not {score}");
    }
    let all_inputs: Vec<InputPath> = inputs.iter().chain(&baselines).cloned().collect();
    let mut out = Output::create(args.output.as_deref(), &all_inputs)?;

    // A terminal report shows the first rows of each review list and an SVG
    // chart none; the other formats list every row.
    let keep_review = match args.format {
        AssessFormat::Table => render::table::TERMINAL_REVIEW_ROWS,
        AssessFormat::Svg => 0,
        _ => usize::MAX,
    };
    let listed = Default::default();
    let collect = Collect {
        notes,
        rules: &rules,
        classifier: &classifier,
        args,
        review: true,
        threads: pipeline::threads(global.threads, large),
        keep_review,
        listed: &listed,
    };
    let mut total = Tally::new(rules.tags.len());
    total.keep_review(keep_review);
    let mut groups = args.by.as_ref().map(|_| BTreeMap::new());
    let mut infos = Vec::new();
    for input in &inputs {
        let info = read(input, &collect, &mut total, groups.as_mut())?;
        notes.note(format!("{}: {}", info.name, info.accounting.line()));
        infos.push(info);
    }
    let baseline = if baselines.is_empty() {
        None
    } else {
        let collect = Collect {
            review: false,
            ..collect
        };
        let mut before = Tally::new(rules.tags.len());
        let mut before_infos = Vec::new();
        for input in &baselines {
            let info = read(input, &collect, &mut before, None)?;
            notes.note(format!(
                "baseline {}: {}",
                info.name,
                info.accounting.line()
            ));
            before_infos.push(info);
        }
        Some((before_infos, before))
    };
    if inputs.len() > 1 {
        notes.note(format!("portfolio: {}", total.accounting.line()));
    }
    let meta = Meta {
        rules: &rules,
        generated: report_date(),
        inputs: infos,
        weight_column: args.weight.clone(),
        by_column: args.by.clone(),
    };
    let assessment = build(meta, total, groups, baseline);
    match args.format {
        AssessFormat::Table => {
            use std::io::IsTerminal;
            let tty = args.output.is_none() && std::io::stdout().is_terminal();
            render::table::render(&assessment, &mut out, global.color.enabled(tty))?
        }
        AssessFormat::Markdown => render::markdown::render(&assessment, &mut out)?,
        AssessFormat::Json => render::json::render(&assessment, &mut out)?,
        AssessFormat::Csv => render::csv::render(&assessment, &mut out, args.raw)?,
        AssessFormat::Html => render::html::render(&assessment, &mut out)?,
        AssessFormat::Svg => {
            use std::io::Write;
            out.write_all(render::svg::document(&assessment).as_bytes())?;
        }
    }
    out.finish()?;
    if let Some(min) = args.fail_under
        && assessment.score < min
    {
        notes.note(format!(
            "Spectrum score {} is below --fail-under {min}",
            assessment.score
        ));
        return Ok(Outcome::Failed(3));
    }
    Ok(Outcome::Ok)
}

/// Reads one portfolio file into `total` (and `groups`), returning its row accounting.
fn read(
    input: &InputPath,
    c: &Collect<'_>,
    total: &mut Tally,
    mut groups: Option<&mut BTreeMap<String, Tally>>,
) -> Result<InputInfo> {
    let mut opts = column_options(&c.args.input_args);
    let by_file = c
        .args
        .by
        .as_deref()
        .is_some_and(|b| b.eq_ignore_ascii_case("file"));
    // A baseline is compared level by level only: it needs no group or weight column.
    let by = c.args.by.as_ref().filter(|_| c.review);
    let weight = c.args.weight.as_ref().filter(|_| c.review);
    if let Some(by) = by {
        opts.extra.push((by.clone(), "--by"));
    }
    if let Some(w) = weight {
        opts.extra.push((w.clone(), "--weight"));
    }
    let mut reader = super::open_input(input, &opts, &c.args.input_args, c.rules, c.notes)?;
    let by_col = by.map(|_| reader.columns.extra[0]);
    let weight_col = weight.map(|_| *reader.columns.extra.last().unwrap_or(&usize::MAX));
    let name = reader.name().to_string();
    let decoder = reader.decoder();
    let mut own = Tally::new(c.rules.tags.len());
    let threshold = c.rules.assessment.review_below_confidence;
    let mut progress = c.notes.progress(&reader);
    let with_weight = weight_col.is_some();
    let mut blank = 0;
    // Workers take turns reading batches, decode and classify them, and
    // count them here in input order (see `pipeline`).
    pipeline::run(
        c.threads,
        super::fill_batches(&mut reader, &mut progress),
        |batch, w: &mut Worker| {
            let mut out = Placements::default();
            let placed = decoder.each(batch, |rec, cells| {
                if place(
                    c, &decoder, rec, cells, weight_col, by_col, by_file, w, &mut out,
                )? && c.review
                {
                    for list in review_reasons(&w.outcome, threshold).into_iter().flatten() {
                        // Rows are counted in input order, so a list that
                        // already holds the rows the report shows needs
                        // nothing from the rows after them.
                        let shown = c.listed[list as usize].load(Ordering::Relaxed);
                        let item = (shown < c.keep_review)
                            .then(|| review_item(list, &name, &w.activity, &w.outcome));
                        out.review.push((list, item));
                    }
                }
                Ok(())
            });
            out.error = placed.err();
            out
        },
        |out: Placements| {
            blank += out.blank;
            for p in &out.rows {
                let tags = &out.tags[p.tags.0..p.tags.1];
                own.add_placed(p.category, p.level, tags, p.weight, with_weight);
                total.add_placed(p.category, p.level, tags, p.weight, with_weight);
                if let Some(groups) = groups.as_deref_mut() {
                    let key = &out.groups[p.group.0..p.group.1];
                    let tally = match groups.get_mut(key) {
                        Some(t) => t,
                        None => groups
                            .entry(key.to_string())
                            .or_insert_with(|| Tally::new(c.rules.tags.len())),
                    };
                    tally.add_placed(p.category, p.level, tags, p.weight, with_weight);
                }
            }
            for (list, item) in out.review {
                match item {
                    Some(item) => total.push_review(list, item),
                    None => total.count_review(list),
                }
                c.listed[list as usize].store(total.review_len(list), Ordering::Relaxed);
            }
            match out.error {
                Some(e) => Err(e),
                None => Ok(()),
            }
        },
    )?;
    progress.finish();
    own.accounting.add_blank(blank);
    total.accounting.add_blank(blank);
    Ok(InputInfo {
        name,
        accounting: own.accounting,
    })
}

/// What each worker thread reuses from row to row.
#[derive(Default)]
struct Worker {
    scratch: Scratch,
    activity: Activity,
    outcome: crate::activity::Outcome,
}

/// One batch's placements, for counting in input order.
#[derive(Default)]
struct Placements {
    rows: Vec<Placed>,
    /// Tags of all rows (`Placed::tags` ranges).
    tags: Vec<usize>,
    /// `--by` keys of all rows (`Placed::group` ranges).
    groups: String,
    /// Review lists of the batch's rows, with the item unless the report
    /// will not show it.
    review: Vec<(ReviewReason, Option<ReviewItem>)>,
    blank: u64,
    /// The first bad row; the rows before it are in `rows`.
    error: Option<anyhow::Error>,
}

struct Placed {
    category: Category,
    level: Option<u8>,
    weight: Option<f64>,
    tags: (usize, usize),
    group: (usize, usize),
}

/// Classifies one decoded record into `out` (leaving the activity and
/// its outcome in `w` for the review list); false for a blank row.
#[allow(clippy::too_many_arguments)]
fn place(
    c: &Collect<'_>,
    decoder: &RowDecoder,
    rec: &Record<'_>,
    cells: &[&str],
    weight_col: Option<usize>,
    by_col: Option<usize>,
    by_file: bool,
    w: &mut Worker,
    out: &mut Placements,
) -> Result<bool> {
    if !decoder.activity(rec, cells, &mut w.activity)? {
        out.blank += 1;
        return Ok(false);
    }
    let cell = |i: usize| cells.get(i).copied().unwrap_or("");
    let weight = match weight_col {
        Some(col) => {
            parse_amount(cell(col)).map_err(|e| anyhow!("{}: {e}", decoder.at(rec, col)))?
        }
        None => None,
    };
    let group_start = out.groups.len();
    if let Some(col) = by_col {
        let key = if by_file && col == usize::MAX {
            decoder.name()
        } else {
            cell(col).trim()
        };
        out.groups
            .push_str(if key.is_empty() { "(blank)" } else { key });
    }
    assign_into(c.classifier, &w.activity, &mut w.scratch, &mut w.outcome);
    let o = &w.outcome;
    let tags_start = out.tags.len();
    out.tags.extend_from_slice(&o.classification.tags);
    out.rows.push(Placed {
        category: o.category,
        level: o.level,
        weight,
        tags: (tags_start, out.tags.len()),
        group: (group_start, out.groups.len()),
    });
    Ok(true)
}
