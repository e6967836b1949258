//! Prometheus metrics in the text exposition format (version 0.0.4), for
//! a node_exporter textfile collector, `fleetmod serve` and a Pushgateway.
//!
//! Design: every family is written once with its `# HELP` and `# TYPE`
//! lines, followed by the samples of every migration, so several specs can
//! share one exposition. All families are gauges: they describe the state
//! store at the moment of reading. States with no repositories are written
//! as 0 so that a state that empties shows as 0 rather than vanishing.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Snapshot;
use crate::store::RepoState;

/// The content type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A per-migration gauge's value, if the migration has one.
type Gauge = fn(&Snapshot) -> Option<f64>;

/// The metrics of `snapshots`.
pub fn render(snapshots: &[Snapshot]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "fleetmod_repos",
        "Consumer repositories of a migration, by state.",
        snapshots.iter().flat_map(|snapshot| {
            snapshot.totals().into_iter().map(|(state, count)| {
                (
                    labels(&[
                        ("migration", &snapshot.migration),
                        ("state", state.as_str()),
                    ]),
                    count as f64,
                )
            })
        }),
    );
    family(
        &mut out,
        "fleetmod_pull_requests",
        "Pull requests of a migration, by state (open, draft, merged, closed).",
        snapshots.iter().flat_map(|snapshot| {
            pull_requests(snapshot).into_iter().map(|(state, count)| {
                (
                    labels(&[("migration", &snapshot.migration), ("state", state)]),
                    count as f64,
                )
            })
        }),
    );
    let per_migration: [(&str, &str, Gauge); 6] = [
        (
            "fleetmod_review_items",
            "Places a reviewer must check in a migration's open pull requests.",
            |snapshot| {
                let items: u32 = snapshot
                    .repos
                    .iter()
                    .filter(|row| row.has_open_pull_request())
                    .map(|row| row.record.review_items)
                    .sum();
                Some(f64::from(items))
            },
        ),
        (
            "fleetmod_done_ratio",
            "Share of a migration's repositories merged or needing no change (0-1).",
            |snapshot| Some(snapshot.done_percent() / 100.0),
        ),
        (
            "fleetmod_last_run_timestamp_seconds",
            "When the last finished run of a migration ended (Unix seconds).",
            |snapshot| {
                let run = snapshot.last_finished_run.as_ref()?;
                Some(seconds(run.finished_at.unwrap_or(run.heartbeat_at)))
            },
        ),
        (
            "fleetmod_run_duration_seconds",
            "How long the last finished run of a migration took.",
            |snapshot| Some(snapshot.last_finished_run.as_ref()?.duration_seconds()),
        ),
        (
            "fleetmod_run_in_progress",
            "Whether a run of the migration is in progress (1) or not (0).",
            |snapshot| {
                let running = snapshot
                    .last_run
                    .as_ref()
                    .is_some_and(|run| run.finished_at.is_none());
                Some(f64::from(u8::from(running)))
            },
        ),
        (
            "fleetmod_heartbeat_timestamp_seconds",
            "The last sign of life of a migration's latest run (Unix seconds).",
            |snapshot| Some(seconds(snapshot.last_run.as_ref()?.heartbeat_at)),
        ),
    ];
    for (name, help, value) in per_migration {
        family(
            &mut out,
            name,
            help,
            snapshots.iter().filter_map(|snapshot| {
                Some((
                    labels(&[("migration", &snapshot.migration)]),
                    value(snapshot)?,
                ))
            }),
        );
    }
    // Credentials are shared across migrations of one workspace: once each.
    let credentials: BTreeMap<&str, i64> = snapshots
        .iter()
        .flat_map(|snapshot| &snapshot.rate_limits)
        .map(|(credential, limit)| (credential.as_str(), limit.remaining))
        .collect();
    family(
        &mut out,
        "fleetmod_rate_limit_remaining",
        "Requests a forge credential may still send in its window, as last reported.",
        credentials.into_iter().map(|(credential, remaining)| {
            (labels(&[("credential", credential)]), remaining as f64)
        }),
    );
    out
}

/// Pull requests by state: `open` (ready for review), `draft`, `merged`
/// and `closed`.
fn pull_requests(snapshot: &Snapshot) -> [(&'static str, usize); 4] {
    let mut counts = [("open", 0), ("draft", 0), ("merged", 0), ("closed", 0)];
    for row in &snapshot.repos {
        let record = &row.record;
        let index = match record.state {
            RepoState::Merged => 2,
            RepoState::Closed => 3,
            _ if row.has_open_pull_request() && record.draft => 1,
            _ if row.has_open_pull_request() => 0,
            _ => continue,
        };
        counts[index].1 += 1;
    }
    counts
}

fn seconds(milliseconds: i64) -> f64 {
    milliseconds as f64 / 1000.0
}

fn family(out: &mut String, name: &str, help: &str, samples: impl Iterator<Item = (String, f64)>) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

/// `name="value",…` with values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| {
            let escaped = value
                .replace('\\', r"\\")
                .replace('"', "\\\"")
                .replace('\n', r"\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            labels(&[("a", "x\"y\\z\nw"), ("b", "plain")]),
            r#"a="x\"y\\z\nw",b="plain""#
        );
    }
}
