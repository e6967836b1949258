//! The status document: `fleetmod status --json`, `/api/status` of
//! `fleetmod serve`.
//!
//! The schema is stable and versioned by `schema_version` (documented in
//! the README): fields are only ever added; a removal or a change of
//! meaning raises the version. Times are RFC 3339 UTC strings, durations
//! whole seconds, absent values `null`. The `totals` count the repositories
//! after the filters, with every state present (zeros included).

use serde_json::{Value, json};

use super::{RepoRow, Snapshot};
use crate::store::time::format_utc;
use crate::store::{RepoState, RunRecord};

/// The schema version of the status document.
pub const SCHEMA_VERSION: u32 = 1;

/// Which repositories to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only repositories this owner (team) owns.
    pub owner: Option<String>,
    /// Only repositories in this state.
    pub state: Option<RepoState>,
}

impl Filter {
    pub fn matches(&self, row: &RepoRow) -> bool {
        self.owner
            .as_ref()
            .is_none_or(|owner| row.record.owners.contains(owner))
            && self.state.is_none_or(|state| row.record.state == state)
    }

    /// The rows of `snapshot` that match, in repository order.
    pub fn apply<'a>(&self, snapshot: &'a Snapshot) -> Vec<&'a RepoRow> {
        snapshot
            .repos
            .iter()
            .filter(|row| self.matches(row))
            .collect()
    }
}

/// The status document of `snapshot`, filtered.
pub fn document(snapshot: &Snapshot, filter: &Filter) -> Value {
    let rows = filter.apply(snapshot);
    let totals = super::totals(rows.iter().copied());
    let mut totals_object = serde_json::Map::new();
    totals_object.insert("repos".to_owned(), json!(rows.len()));
    for (state, count) in &totals {
        totals_object.insert(state.as_str().to_owned(), json!(count));
    }
    totals_object.insert(
        "done_percent".to_owned(),
        json!(round(super::done_percent(rows.iter().copied()))),
    );
    json!({
        "schema_version": SCHEMA_VERSION,
        "migration": snapshot.migration,
        "title": snapshot.title,
        "generated_at": format_utc(snapshot.now),
        "filters": {
            "owner": filter.owner,
            "state": filter.state.map(RepoState::as_str),
        },
        "repos": rows.iter().map(|row| repo(row, snapshot.now)).collect::<Vec<_>>(),
        "totals": totals_object,
        "last_run": snapshot.last_run.as_ref().map(run),
    })
}

fn repo(row: &RepoRow, now: i64) -> Value {
    let record = &row.record;
    let pull_request = record.pull_request.map(|number| {
        json!({
            "number": number,
            "url": record.pull_request_url,
            "draft": record.draft,
            "opened_at": row.opened_at.map(format_utc),
            "checks": record.checks.map(|checks| checks.as_str()),
            "review": record.review.map(|review| review.as_str()),
            "mergeable": record.mergeable,
        })
    });
    json!({
        "repo": record.repo.to_string(),
        "owners": record.owners,
        "state": record.state.as_str(),
        "pull_request": pull_request,
        "files_changed": record.files_changed,
        "review_items": record.review_items,
        "review_locations": record.review_locations,
        "age_seconds": row.age_ms(now).map(|age| age / 1000),
        "held_back": row.held,
        "failed_stage": record.failed_stage,
        "last_error": record.last_error,
        "attempts": record.attempts,
        "retry_after": record.retry_after.map(format_utc),
        "updated_at": (record.updated_at != 0).then(|| format_utc(record.updated_at)),
    })
}

fn run(run: &RunRecord) -> Value {
    json!({
        "started_at": format_utc(run.started_at),
        "heartbeat_at": format_utc(run.heartbeat_at),
        "finished_at": run.finished_at.map(format_utc),
        "outcome": run.outcome,
        "duration_seconds": round(run.duration_seconds()),
    })
}

/// One decimal place.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
