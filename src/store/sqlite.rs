//! The embedded state store: one SQLite file in WAL mode.
//!
//! The schema is versioned with `PRAGMA user_version`; opening a store
//! applies the migrations it lacks, in one transaction each. A store written
//! by a newer fleetmod is refused rather than misread.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use std::sync::Arc;

use super::time::{Clock, SystemClock};
use super::{
    Event, Held, Lease, LeaseError, RepoRecord, RepoState, RolloutChange, RolloutEvent,
    RolloutState, StateStore, StoreError,
};
use crate::catalog::RepoName;

/// Schema migrations; entry `n` moves the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE repos (
    migration TEXT NOT NULL,
    repo TEXT NOT NULL,
    state TEXT NOT NULL,
    owners TEXT NOT NULL,
    default_branch TEXT,
    base_sha TEXT,
    rules_hash TEXT,
    pushed_sha TEXT,
    branch_head TEXT,
    pull_request INTEGER,
    pull_request_url TEXT,
    files_changed INTEGER NOT NULL,
    review_items INTEGER NOT NULL,
    failed_stage TEXT,
    last_error TEXT,
    attempts INTEGER NOT NULL,
    retry_after INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (migration, repo)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    migration TEXT NOT NULL,
    repo TEXT NOT NULL,
    at INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX events_by_migration ON events (migration, id);
",
    "
ALTER TABLE repos ADD COLUMN mergeable INTEGER;
ALTER TABLE repos ADD COLUMN checks TEXT;
ALTER TABLE repos ADD COLUMN review TEXT;
CREATE TABLE rate_limits (
    credential TEXT PRIMARY KEY,
    remaining INTEGER,
    reset_at INTEGER,
    blocked_until INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE mutations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credential TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX mutations_by_credential ON mutations (credential, at);
",
    "
ALTER TABLE repos ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;
CREATE TABLE rollouts (
    migration TEXT PRIMARY KEY,
    wave INTEGER NOT NULL,
    reached_at INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rollout_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    migration TEXT NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    wave INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE openings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    migration TEXT NOT NULL,
    repo TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX openings_by_migration ON openings (migration, at);
CREATE TABLE held (
    migration TEXT NOT NULL,
    repo TEXT NOT NULL,
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (migration, repo)
);
CREATE TABLE leases (
    migration TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
",
    "
ALTER TABLE repos ADD COLUMN review_locations TEXT NOT NULL DEFAULT '[]';
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    migration TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT
);
CREATE INDEX runs_by_migration ON runs (migration, id);
",
];

/// A state store in a SQLite file.
pub struct SqliteStore {
    pub(super) connection: Connection,
    pub(super) path: PathBuf,
    pub(super) clock: Arc<dyn Clock>,
}

const COLUMNS: &str = "migration, repo, state, owners, default_branch, base_sha, rules_hash, \
    pushed_sha, branch_head, pull_request, pull_request_url, files_changed, review_items, failed_stage, \
    last_error, attempts, retry_after, updated_at, mergeable, checks, review, draft, review_locations";

impl SqliteStore {
    /// Opens (or creates) the store at `path`, bringing its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Ok(SqliteStore {
            connection: connect(path)?,
            path: path.to_path_buf(),
            clock: Arc::new(SystemClock),
        })
    }

    /// Stamps records, events and rollout changes with `clock` instead of
    /// the system's (a simulation's clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> SqliteStore {
        self.clock = clock;
        self
    }

    pub(super) fn error(&self, action: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
        failed(&self.path, action)
    }

    /// Runs the query `sql` and converts each row with `convert`; a value
    /// fleetmod cannot have written (`Err(message)`) is a corrupt store.
    pub(super) fn query_all<T>(
        &self,
        sql: &str,
        parameters: impl rusqlite::Params,
        action: &str,
        mut convert: impl FnMut(&Row<'_>) -> rusqlite::Result<Result<T, String>>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(sql)
            .map_err(self.error(action))?;
        let rows = statement
            .query_map(parameters, |row| convert(row))
            .map_err(self.error(action))?;
        let mut values = Vec::new();
        for row in rows {
            let value = row.map_err(self.error(action))?;
            values.push(value.map_err(|message| self.corrupt(message))?);
        }
        Ok(values)
    }

    pub(super) fn corrupt(&self, message: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.display().to_string(),
            message,
        }
    }
}

/// Turns a SQLite error into a store error: `action` on the store at `path`.
pub(super) fn failed(
    path: &Path,
    action: &str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
    let action = action.to_owned();
    let path = path.display().to_string();
    move |source| StoreError::Sqlite {
        action,
        path,
        source,
    }
}

/// Opens (or creates) the store database at `path` for one user of it:
/// WAL mode, a generous busy timeout for overlapping processes, and the
/// schema brought up to date.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let display = path.display().to_string();
    let sqlite = |action: &str| {
        let action = action.to_owned();
        let path = display.clone();
        move |source| StoreError::Sqlite {
            action,
            path,
            source,
        }
    };
    if let Some(parent) = path.parent() {
        // A missing folder shows up as SQLite's own error below.
        let _ = std::fs::create_dir_all(parent);
    }
    let mut connection = Connection::open(path).map_err(sqlite("open"))?;
    connection
        .busy_timeout(Duration::from_secs(30))
        .map_err(sqlite("configure"))?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite("switch to WAL mode"))?;
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite("configure"))?;
    migrate(&mut connection, MIGRATIONS, &display)?;
    Ok(connection)
}

/// Applies the migrations a database lacks (shared with the local forge).
pub(crate) fn migrate(
    connection: &mut Connection,
    migrations: &[&str],
    path: &str,
) -> Result<(), StoreError> {
    let sqlite = |action: &'static str| {
        move |source| StoreError::Sqlite {
            action: action.to_owned(),
            path: path.to_owned(),
            source,
        }
    };
    let known = migrations.len() as i64;
    // Readers (status, report, serve) open the store often, while a run
    // may be writing: an up-to-date schema needs no write lock.
    let current: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sqlite("read the schema version"))?;
    if current == known {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite("start the schema migration"))?;
    let version: i64 = transaction
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sqlite("read the schema version"))?;
    if version > known {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: version,
            known,
        });
    }
    for migration in &migrations[version as usize..] {
        transaction
            .execute_batch(migration)
            .map_err(sqlite("migrate the schema"))?;
    }
    transaction
        .pragma_update(None, "user_version", known)
        .map_err(sqlite("record the schema version"))?;
    transaction
        .commit()
        .map_err(sqlite("commit the schema migration"))
}

/// Reads one `repos` row (columns in `COLUMNS` order); a value fleetmod
/// cannot have written is an `Err(message)`.
fn record_from_row(row: &Row<'_>) -> rusqlite::Result<Result<RepoRecord, String>> {
    let repo: String = row.get(1)?;
    let state: String = row.get(2)?;
    let owners: String = row.get(3)?;
    let number = |index: usize| row.get::<_, Option<i64>>(index);
    let count = |index: usize| row.get::<_, i64>(index).map(|value| value.max(0) as u32);
    let mut record = RepoRecord {
        migration: row.get(0)?,
        repo: RepoName {
            owner: String::new(),
            name: String::new(),
        },
        state: RepoState::Pending,
        owners: owners
            .split('\n')
            .filter(|owner| !owner.is_empty())
            .map(str::to_owned)
            .collect(),
        default_branch: row.get(4)?,
        base_sha: row.get(5)?,
        rules_hash: row.get(6)?,
        pushed_sha: row.get(7)?,
        branch_head: row.get(8)?,
        pull_request: number(9)?.map(|number| number as u64),
        pull_request_url: row.get(10)?,
        files_changed: count(11)?,
        review_items: count(12)?,
        failed_stage: row.get(13)?,
        last_error: row.get(14)?,
        attempts: count(15)?,
        retry_after: number(16)?,
        updated_at: row.get(17)?,
        mergeable: row.get(18)?,
        checks: None,
        review: None,
        draft: row.get(21)?,
        review_locations: Vec::new(),
    };
    let checks: Option<String> = row.get(19)?;
    let review: Option<String> = row.get(20)?;
    let locations: String = row.get(22)?;
    let parsed = (|| {
        record.review_locations = serde_json::from_str(&locations)
            .map_err(|error| format!("review locations of {repo}: {error}"))?;
        record.repo = RepoName::parse(&repo)?;
        record.state = state.parse()?;
        record.checks = checks.as_deref().map(str::parse).transpose()?;
        record.review = review.as_deref().map(str::parse).transpose()?;
        Ok(record)
    })();
    Ok(parsed)
}

impl StateStore for SqliteStore {
    fn records(&self, migration: &str) -> Result<Vec<RepoRecord>, StoreError> {
        self.query_all(
            &format!("SELECT {COLUMNS} FROM repos WHERE migration = ?1 ORDER BY repo"),
            params![migration],
            "read the repositories",
            record_from_row,
        )
    }

    fn record(&self, migration: &str, repo: &RepoName) -> Result<Option<RepoRecord>, StoreError> {
        let found = self
            .connection
            .query_row(
                &format!("SELECT {COLUMNS} FROM repos WHERE migration = ?1 AND repo = ?2"),
                params![migration, repo.to_string()],
                record_from_row,
            )
            .optional()
            .map_err(self.error("read a repository"))?;
        found.transpose().map_err(|message| self.corrupt(message))
    }

    fn save(&mut self, record: &mut RepoRecord, detail: &str) -> Result<(), StoreError> {
        record.updated_at = self.clock.now_ms();
        let path = self.path.clone();
        let sqlite = |action: &str| failed(&path, action);
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite("start saving a repository"))?;
        let repo = record.repo.to_string();
        let previous: Option<String> = transaction
            .query_row(
                "SELECT state FROM repos WHERE migration = ?1 AND repo = ?2",
                params![record.migration, repo],
                |row| row.get(0),
            )
            .optional()
            .map_err(sqlite("read a repository's state"))?;
        transaction
            .execute(
                &format!(
                    "INSERT OR REPLACE INTO repos ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
                ),
                params![
                    record.migration,
                    repo,
                    record.state.as_str(),
                    record.owners.join("\n"),
                    record.default_branch,
                    record.base_sha,
                    record.rules_hash,
                    record.pushed_sha,
                    record.branch_head,
                    record.pull_request.map(|number| number as i64),
                    record.pull_request_url,
                    record.files_changed,
                    record.review_items,
                    record.failed_stage,
                    record.last_error,
                    record.attempts,
                    record.retry_after,
                    record.updated_at,
                    record.mergeable,
                    record.checks.map(|checks| checks.as_str()),
                    record.review.map(|review| review.as_str()),
                    record.draft,
                    serde_json::to_string(&record.review_locations).unwrap_or_else(|_| "[]".to_owned()),
                ],
            )
            .map_err(sqlite("save a repository"))?;
        transaction
            .execute(
                "INSERT INTO events (migration, repo, at, from_state, to_state, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.migration,
                    repo,
                    record.updated_at,
                    previous,
                    record.state.as_str(),
                    detail
                ],
            )
            .map_err(sqlite("record an event"))?;
        transaction
            .commit()
            .map_err(sqlite("commit a repository's state"))
    }

    fn update_facts(&mut self, record: &RepoRecord) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE repos SET mergeable = ?3, checks = ?4, review = ?5, draft = ?6 \
                 WHERE migration = ?1 AND repo = ?2",
                params![
                    record.migration,
                    record.repo.to_string(),
                    record.mergeable,
                    record.checks.map(|checks| checks.as_str()),
                    record.review.map(|review| review.as_str()),
                    record.draft,
                ],
            )
            .map_err(self.error("update a pull request's checks and reviews"))?;
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn lease(&self, migration: &str) -> Result<Lease, LeaseError> {
        Lease::acquire(&self.path, migration, Arc::clone(&self.clock))
    }

    fn rollout(&self, migration: &str) -> Result<Option<RolloutState>, StoreError> {
        self.read_rollout(migration)
    }

    fn change_rollout(
        &mut self,
        migration: &str,
        change: RolloutChange,
        detail: &str,
    ) -> Result<bool, StoreError> {
        self.write_rollout(migration, change, detail)
    }

    fn rollout_events(&self, migration: &str) -> Result<Vec<RolloutEvent>, StoreError> {
        self.read_rollout_events(migration)
    }

    fn record_opening(&mut self, migration: &str, repo: &RepoName) -> Result<(), StoreError> {
        self.insert_opening(migration, repo)
    }

    fn openings_since(&self, migration: &str, since: i64) -> Result<Vec<i64>, StoreError> {
        self.read_openings(migration, since)
    }

    fn set_held(
        &mut self,
        migration: &str,
        repos: &[(RepoName, Option<String>)],
    ) -> Result<(), StoreError> {
        self.write_held(migration, repos)
    }

    fn held(&self, migration: &str) -> Result<Vec<Held>, StoreError> {
        self.read_held(migration)
    }

    fn events(&self, migration: &str) -> Result<Vec<Event>, StoreError> {
        self.query_all(
            "SELECT repo, at, from_state, to_state, detail FROM events \
             WHERE migration = ?1 ORDER BY id",
            params![migration],
            "read the events",
            |row| {
                let from: Option<String> = row.get(2)?;
                let to: String = row.get(3)?;
                let mut event = Event {
                    migration: migration.to_owned(),
                    repo: row.get(0)?,
                    at: row.get(1)?,
                    from: None,
                    to: RepoState::Pending,
                    detail: row.get(4)?,
                };
                Ok((|| {
                    event.from = from.as_deref().map(str::parse).transpose()?;
                    event.to = to.parse()?;
                    Ok(event)
                })())
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_events() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let mut store = SqliteStore::open(&path).unwrap();
        let repo = RepoName::parse("acme/billing").unwrap();
        let mut record = RepoRecord::new(
            "orders-v2",
            repo.clone(),
            vec!["team-a".into(), "team-b".into()],
        );
        store.save(&mut record, "planned").unwrap();
        record.state = RepoState::PrOpen;
        record.pull_request = Some(3);
        record.last_error = Some("it's fine".into());
        store.save(&mut record, "opened #3").unwrap();
        drop(store);

        // Reopening keeps everything and does not re-run migrations.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.record("orders-v2", &repo).unwrap(),
            Some(record.clone())
        );
        assert_eq!(store.records("orders-v2").unwrap(), [record]);
        assert!(store.records("other").unwrap().is_empty());
        let events = store.events("orders-v2").unwrap();
        let transitions: Vec<_> = events
            .iter()
            .map(|event| (event.from, event.to, event.detail.as_str()))
            .collect();
        assert_eq!(
            transitions,
            [
                (None, RepoState::Pending, "planned"),
                (Some(RepoState::Pending), RepoState::PrOpen, "opened #3"),
            ]
        );
    }

    #[test]
    fn rollout_changes_apply_once_with_their_events() {
        use crate::store::{RolloutAction, RolloutChange};
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let mut first = SqliteStore::open(&path).unwrap();
        let mut second = SqliteStore::open(&path).unwrap();
        assert!(
            first
                .change_rollout("m", RolloutChange::Start, "started")
                .unwrap()
        );
        assert!(
            !second
                .change_rollout("m", RolloutChange::Start, "started")
                .unwrap()
        );
        // Two runs that both saw the gate hold at wave 0 promote once.
        assert!(
            first
                .change_rollout("m", RolloutChange::Promote { from: 0 }, "up")
                .unwrap()
        );
        assert!(
            !second
                .change_rollout("m", RolloutChange::Promote { from: 0 }, "up")
                .unwrap()
        );
        assert!(
            second
                .change_rollout("m", RolloutChange::Pause, "incident")
                .unwrap()
        );
        assert!(
            !first
                .change_rollout("m", RolloutChange::Pause, "again")
                .unwrap()
        );
        let state = first.rollout("m").unwrap().unwrap();
        assert_eq!((state.wave, state.paused), (1, true));
        let events: Vec<_> = first
            .rollout_events("m")
            .unwrap()
            .into_iter()
            .map(|event| (event.action, event.wave, event.detail))
            .collect();
        assert_eq!(
            events,
            [
                (RolloutAction::Start, 0, "started".to_owned()),
                (RolloutAction::Promote, 1, "up".to_owned()),
                (RolloutAction::Pause, 1, "incident".to_owned()),
            ]
        );
        assert!(first.rollout("other").unwrap().is_none());
    }

    #[test]
    fn stores_from_newer_versions_are_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
        drop(connection);
        let error = SqliteStore::open(&path).err().unwrap();
        assert!(error.to_string().contains("newer fleetmod"), "{error}");
    }
}
