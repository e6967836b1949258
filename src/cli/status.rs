//! `fleetmod status`: where every consumer repository of a migration
//! stands, from the state store.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::Failure;
use super::run::{WorkspaceArguments, set_up};
use crate::store::{Held, RepoRecord, RepoState, SqliteStore, StateStore, time};

#[derive(Debug, Args)]
pub(crate) struct StatusArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

pub(crate) fn run(arguments: StatusArguments) -> Result<(), Failure> {
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    // Reporting changes nothing: without a state store, nothing ran yet.
    let state_path = setup.workspace.state_path();
    let (stored, held): (BTreeMap<String, RepoRecord>, Vec<Held>) = if state_path.exists() {
        let store = SqliteStore::open(&state_path).context("failed to open the state store")?;
        let records = store
            .records(&setup.spec.id)
            .context("failed to read the state store")?
            .into_iter()
            .map(|record| (record.repo.to_string(), record))
            .collect();
        let held = store
            .held(&setup.spec.id)
            .context("failed to read the state store")?;
        (records, held)
    } else {
        (BTreeMap::new(), Vec::new())
    };
    let held_reason: BTreeMap<String, &str> = held
        .iter()
        .map(|held| (held.repo.to_string(), held.reason.as_str()))
        .collect();
    // Every consumer, with a `pending` record when no run has reached it.
    let records: Vec<RepoRecord> = setup
        .consumers
        .consumers
        .iter()
        .map(|consumer| {
            stored
                .get(&consumer.repo.to_string())
                .cloned()
                .unwrap_or_else(|| {
                    RepoRecord::new(
                        &setup.spec.id,
                        consumer.repo.clone(),
                        consumer.owners.clone(),
                    )
                })
        })
        .collect();
    let mut totals: BTreeMap<RepoState, usize> = BTreeMap::new();
    for record in &records {
        *totals.entry(record.state).or_default() += 1;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if arguments.json {
        let object = json!({
            "migration": setup.spec.id,
            "repos": records,
            "held": held,
            "totals": totals.iter().map(|(state, count)| (state.as_str().to_owned(), json!(count))).collect::<serde_json::Map<_, _>>(),
        });
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&object).context("failed to write JSON")?
        )
        .context("failed to write output")?;
        return Ok(());
    }
    let header = [
        "REPO",
        "STATE",
        "OWNERS",
        "PR",
        "FILES",
        "REVIEW",
        "UPDATED",
        "LAST ERROR / HELD BACK",
    ];
    let rows: Vec<[String; 8]> = records
        .iter()
        .map(|record| {
            [
                record.repo.to_string(),
                record.state.to_string(),
                if record.owners.is_empty() {
                    "-".to_owned()
                } else {
                    record.owners.join(",")
                },
                record
                    .pull_request
                    .map_or_else(|| "-".to_owned(), |number| format!("#{number}")),
                record.files_changed.to_string(),
                record.review_items.to_string(),
                if record.updated_at == 0 {
                    "-".to_owned()
                } else {
                    time::format_utc(record.updated_at)
                },
                match (&record.failed_stage, &record.last_error) {
                    (Some(stage), Some(error)) => format!("{stage}: {error}"),
                    (None, Some(error)) => error.clone(),
                    _ => held_reason
                        .get(&record.repo.to_string())
                        .map(|reason| format!("held back: {reason}"))
                        .unwrap_or_default(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
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
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", line(&header)).context("failed to write output")?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells)).context("failed to write output")?;
    }
    let summary: Vec<String> = totals
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    writeln!(
        out,
        "\n{}: {} repositories: {}",
        setup.spec.id,
        records.len(),
        summary.join(", ")
    )
    .context("failed to write output")?;
    if !held.is_empty() {
        let reasons: Vec<String> = Held::by_reason(&held)
            .iter()
            .map(|(reason, count)| format!("{count}: {reason}"))
            .collect();
        writeln!(out, "held back: {}", reasons.join("; ")).context("failed to write output")?;
    }
    Ok(())
}
