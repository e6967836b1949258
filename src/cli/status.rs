//! `fleetmod status`: where every consumer repository of a migration
//! stands, from the state store, as a table or as the versioned JSON
//! document of [`crate::report::status`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Failure;
use super::run::{Setup, WorkspaceArguments, set_up};
use crate::report::status::{self, Filter};
use crate::report::{Snapshot, format_age};
use crate::store::{RepoState, time};

#[derive(Debug, Args)]
pub(crate) struct StatusArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// Only repositories this owner (team) owns.
    #[arg(long, value_name = "TEAM")]
    owner: Option<String>,
    /// Only repositories in this state: pending, cloned, no-change,
    /// changed, pushed, pr-open, merged, closed, failed or needs-attention.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    state: Option<RepoState>,
    /// Print the status document (JSON, schema in the README) instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

fn parse_state(text: &str) -> Result<RepoState, String> {
    text.parse()
}

/// Reads the snapshot of a set-up spec now (creating no state store).
pub(crate) fn snapshot(setup: &Setup) -> Result<Snapshot, Failure> {
    Snapshot::read(
        &setup.spec,
        &setup.consumers,
        &setup.workspace.state_path(),
        time::now_ms(),
    )
    .context("failed to read the state store")
    .map_err(Failure::from)
}

pub(crate) fn run(arguments: StatusArguments) -> Result<(), Failure> {
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    let snapshot = snapshot(&setup)?;
    let filter = Filter {
        owner: arguments.owner,
        state: arguments.state,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if arguments.json {
        let document = status::document(&snapshot, &filter);
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&document).context("failed to write JSON")?
        )
        .context("failed to write output")?;
        return Ok(());
    }
    let text = table(&snapshot, &filter);
    out.write_all(text.as_bytes())
        .context("failed to write output")?;
    Ok(())
}

/// The status table with its totals line.
fn table(snapshot: &Snapshot, filter: &Filter) -> String {
    let header = [
        "REPO",
        "OWNER",
        "STATE",
        "PR",
        "CHECKS",
        "REVIEW",
        "AGE",
        "LAST ERROR / HELD BACK",
    ];
    let rows = filter.apply(snapshot);
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|row| {
            let record = &row.record;
            [
                record.repo.to_string(),
                dash_if_empty(record.owners.join(",")),
                record.state.to_string(),
                record.pull_request.map_or_else(
                    || "-".to_owned(),
                    |number| format!("#{number}{}", if record.draft { " draft" } else { "" }),
                ),
                record
                    .checks
                    .map_or_else(|| "-".to_owned(), |checks| checks.to_string()),
                record.review_items.to_string(),
                row.age_ms(snapshot.now)
                    .map_or_else(|| "-".to_owned(), format_age),
                match (&record.failed_stage, &record.last_error) {
                    (Some(stage), Some(error)) => format!("{stage}: {error}"),
                    (None, Some(error)) => error.clone(),
                    _ => row
                        .held
                        .as_ref()
                        .map(|reason| format!("held back: {reason}"))
                        .unwrap_or_default(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate() {
            if index + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:width$}  ", width = widths[index]));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    for row in &cells {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    let totals = crate::report::totals(rows.iter().copied());
    let summary: Vec<String> = totals
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    let filtered = if *filter == Filter::default() {
        String::new()
    } else {
        format!(" (of {}, filtered)", snapshot.repos.len())
    };
    out.push_str(&format!(
        "\n{}: {} repositories{filtered}: {}; {:.1}% done\n",
        snapshot.migration,
        rows.len(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        },
        crate::report::done_percent(rows.iter().copied())
    ));
    let mut held: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in rows.iter().filter_map(|row| row.held.as_deref()) {
        *held.entry(reason).or_default() += 1;
    }
    if !held.is_empty() {
        let reasons: Vec<String> = held
            .iter()
            .map(|(reason, count)| format!("{count}: {reason}"))
            .collect();
        out.push_str(&format!("held back: {}\n", reasons.join("; ")));
    }
    out
}

fn dash_if_empty(text: String) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}
