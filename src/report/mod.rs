//! How far a migration is: the data behind `fleetmod status`, the HTML
//! report, the tracking issue and the Prometheus metrics, and their
//! renderers.
//!
//! Design: one [`Snapshot`] per migration is read from the state store
//! (records, held-back reasons, events, the run log and the rate ledger)
//! and the spec's consumer list, at one instant. Every renderer is a pure
//! function of snapshots, so the table, the JSON, the HTML page, the
//! Markdown issue and the metrics always agree, and each can be tested
//! without a store. Reading never creates a state store: before the first
//! run every consumer is `pending`.

pub mod burndown;
pub mod html;
pub mod markdown;
pub mod metrics;
pub mod pushgateway;
pub mod status;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::fleet::ConsumerList;
use crate::spec::Spec;
use crate::store::rate::PrimaryLimit;
use crate::store::{
    Event, Held, RateLedger, RepoRecord, RepoState, RunLog, RunRecord, SqliteStore, StateStore,
    StoreError,
};

/// One repository's row in every view.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoRow {
    /// The stored record (a fresh `pending` one before a run reached it).
    pub record: RepoRecord,
    /// Why the last run held the repository back, if it did.
    pub held: Option<String>,
    /// When its pull request was first opened (Unix milliseconds).
    pub opened_at: Option<i64>,
    /// When it reached `merged` or `closed` (Unix milliseconds).
    pub finished_at: Option<i64>,
}

impl RepoRow {
    /// How long the pull request has been (or was) open, in milliseconds.
    pub fn age_ms(&self, now: i64) -> Option<i64> {
        let opened = self.opened_at?;
        Some((self.finished_at.unwrap_or(now) - opened).max(0))
    }

    /// Whether the repository is done: merged, or nothing to change.
    pub fn is_done(&self) -> bool {
        is_done(self.record.state)
    }

    /// Whether it has a pull request a person has not merged or closed
    /// (whatever fleetmod's last step did: a failed update leaves it open).
    pub fn has_open_pull_request(&self) -> bool {
        self.record.pull_request.is_some() && !self.record.state.is_final()
    }
}

/// Whether a state counts as done for progress and the burndown.
pub fn is_done(state: RepoState) -> bool {
    matches!(state, RepoState::Merged | RepoState::NoChange)
}

/// A migration at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub migration: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    /// Unix milliseconds.
    pub now: i64,
    /// Every consumer, sorted by repository.
    pub repos: Vec<RepoRow>,
    /// The migration's events, oldest first.
    pub events: Vec<Event>,
    /// The latest run (finished or running).
    pub last_run: Option<RunRecord>,
    /// The latest finished run.
    pub last_finished_run: Option<RunRecord>,
    /// Rate limits per forge credential, as last reported.
    pub rate_limits: Vec<(String, PrimaryLimit)>,
}

impl Snapshot {
    /// Reads a migration from the state store at `state_path` (which may
    /// not exist yet) at `now`.
    pub fn read(
        spec: &Spec,
        consumers: &ConsumerList,
        state_path: &Path,
        now: i64,
    ) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot {
            migration: spec.id.clone(),
            title: spec.title.clone(),
            description: spec.description.clone(),
            now,
            repos: Vec::new(),
            events: Vec::new(),
            last_run: None,
            last_finished_run: None,
            rate_limits: Vec::new(),
        };
        let (mut stored, held) = if state_path.exists() {
            let store = SqliteStore::open(state_path)?;
            let records: HashMap<String, RepoRecord> = store
                .records(&spec.id)?
                .into_iter()
                .map(|record| (record.repo.to_string(), record))
                .collect();
            snapshot.events = store.events(&spec.id)?;
            let runs = RunLog::open(state_path)?;
            snapshot.last_run = runs.last(&spec.id)?;
            snapshot.last_finished_run = runs.last_finished(&spec.id)?;
            snapshot.rate_limits = RateLedger::open(state_path)?.primaries()?;
            (records, store.held(&spec.id)?)
        } else {
            (HashMap::new(), Vec::new())
        };
        let mut held: HashMap<String, String> = held
            .into_iter()
            .map(|Held { repo, reason, .. }| (repo.to_string(), reason))
            .collect();
        let mut opened: HashMap<&str, i64> = HashMap::new();
        let mut finished: HashMap<&str, i64> = HashMap::new();
        for event in &snapshot.events {
            match event.to {
                RepoState::PrOpen => {
                    opened.entry(event.repo.as_str()).or_insert(event.at);
                }
                RepoState::Merged | RepoState::Closed => {
                    finished.insert(event.repo.as_str(), event.at);
                }
                _ => {}
            }
        }
        let repos = consumers
            .consumers
            .iter()
            .map(|consumer| {
                let name = consumer.repo.to_string();
                let record = stored.remove(&name).unwrap_or_else(|| {
                    RepoRecord::new(&spec.id, consumer.repo.clone(), consumer.owners.clone())
                });
                let finished_at = record
                    .state
                    .is_final()
                    .then(|| finished.get(name.as_str()).copied())
                    .flatten();
                RepoRow {
                    opened_at: record.pull_request.and(opened.get(name.as_str()).copied()),
                    finished_at,
                    held: held.remove(&name),
                    record,
                }
            })
            .collect();
        snapshot.repos = repos;
        Ok(snapshot)
    }

    /// The title to show: the spec's, or the migration id when it is blank.
    pub fn display_title(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.migration
        } else {
            &self.title
        }
    }

    /// Repositories per state (every state, zeros included).
    pub fn totals(&self) -> BTreeMap<RepoState, usize> {
        totals(self.repos.iter())
    }

    /// The share of repositories done (merged or no change), 0–100.
    pub fn done_percent(&self) -> f64 {
        done_percent(self.repos.iter())
    }

    /// Repositories per owner (a repository with several owners counts for
    /// each; one without is under `(no owner)`), sorted by owner.
    pub fn by_owner(&self) -> BTreeMap<&str, Vec<&RepoRow>> {
        let mut owners: BTreeMap<&str, Vec<&RepoRow>> = BTreeMap::new();
        for row in &self.repos {
            if row.record.owners.is_empty() {
                owners.entry(NO_OWNER).or_default().push(row);
            }
            for owner in &row.record.owners {
                owners.entry(owner.as_str()).or_default().push(row);
            }
        }
        owners
    }
}

/// The owner shown for repositories the catalog gives no owner.
pub const NO_OWNER: &str = "(no owner)";

/// Repositories per state (every state, zeros included).
pub fn totals<'a>(rows: impl Iterator<Item = &'a RepoRow>) -> BTreeMap<RepoState, usize> {
    let mut totals: BTreeMap<RepoState, usize> =
        RepoState::ALL.into_iter().map(|state| (state, 0)).collect();
    for row in rows {
        *totals.entry(row.record.state).or_default() += 1;
    }
    totals
}

/// The share of `rows` done (merged or no change), 0–100; 0 for none.
pub fn done_percent<'a>(rows: impl Iterator<Item = &'a RepoRow>) -> f64 {
    let (mut done, mut all) = (0usize, 0usize);
    for row in rows {
        all += 1;
        done += usize::from(row.is_done());
    }
    if all == 0 {
        0.0
    } else {
        100.0 * done as f64 / all as f64
    }
}

/// A duration in the largest fitting unit: `45s`, `12m`, `5h`, `3d`.
pub fn format_age(milliseconds: i64) -> String {
    let seconds = milliseconds / 1000;
    match seconds {
        ..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_largest_fitting_unit() {
        assert_eq!(format_age(0), "0s");
        assert_eq!(format_age(59_999), "59s");
        assert_eq!(format_age(60_000), "1m");
        assert_eq!(format_age(7_200_000), "2h");
        assert_eq!(format_age(3 * 86_400_000 + 5), "3d");
    }
}
