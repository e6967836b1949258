//! The run log: when each `fleetmod run` of a migration started, its
//! heartbeats and how it ended.
//!
//! Metrics and dashboards read it (`fleetmod_last_run_timestamp_seconds`,
//! `fleetmod_run_duration_seconds`, the heartbeat gauge of `fleetmod serve`).
//! It has its own connection, like the rate ledger, so a heartbeat thread
//! can write while the run holds the main store. A run that crashed keeps
//! `finished_at` empty; its last heartbeat tells how long ago it was alive.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::StoreError;
use super::sqlite::{connect, failed};

/// One run of a migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds of the last sign of life.
    pub heartbeat_at: i64,
    /// Unix milliseconds; `None` while running (or after a crash).
    pub finished_at: Option<i64>,
    /// How it ended: `ok`, `failures`, `held`, `error` (`None` while running).
    pub outcome: Option<String>,
}

impl RunRecord {
    /// Seconds from start to finish, or to the last heartbeat while running.
    pub fn duration_seconds(&self) -> f64 {
        (self.finished_at.unwrap_or(self.heartbeat_at) - self.started_at).max(0) as f64 / 1000.0
    }
}

/// The run log in the state store.
pub struct RunLog {
    connection: Connection,
    path: PathBuf,
}

impl RunLog {
    /// Opens the run log in the state store at `path`.
    pub fn open(path: &Path) -> Result<RunLog, StoreError> {
        Ok(RunLog {
            connection: connect(path)?,
            path: path.to_path_buf(),
        })
    }

    fn error(&self, action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
        failed(&self.path, action)
    }

    /// Records that a run of `migration` starts at `now`; returns its id.
    pub fn begin(&self, migration: &str, now: i64) -> Result<i64, StoreError> {
        self.connection
            .execute(
                "INSERT INTO runs (migration, started_at, heartbeat_at) VALUES (?1, ?2, ?2)",
                params![migration, now],
            )
            .map_err(self.error("record the start of a run"))?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Records that run `id` is alive at `now`.
    pub fn heartbeat(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(self.error("record a run's heartbeat"))?;
        Ok(())
    }

    /// Records that run `id` ended at `now` with `outcome`.
    pub fn finish(&self, id: i64, now: i64, outcome: &str) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE runs SET heartbeat_at = ?2, finished_at = ?2, outcome = ?3 WHERE id = ?1",
                params![id, now, outcome],
            )
            .map_err(self.error("record the end of a run"))?;
        Ok(())
    }

    /// Forgets run `id` (a run that did nothing: another run held the
    /// lease).
    pub fn discard(&self, id: i64) -> Result<(), StoreError> {
        self.connection
            .execute("DELETE FROM runs WHERE id = ?1", params![id])
            .map_err(self.error("forget a run"))?;
        Ok(())
    }

    /// The latest run of `migration`, finished or not.
    pub fn last(&self, migration: &str) -> Result<Option<RunRecord>, StoreError> {
        self.latest(migration, "")
    }

    /// The latest finished run of `migration`.
    pub fn last_finished(&self, migration: &str) -> Result<Option<RunRecord>, StoreError> {
        self.latest(migration, "AND finished_at IS NOT NULL")
    }

    fn latest(&self, migration: &str, condition: &str) -> Result<Option<RunRecord>, StoreError> {
        self.connection
            .query_row(
                &format!(
                    "SELECT id, started_at, heartbeat_at, finished_at, outcome FROM runs \
                     WHERE migration = ?1 {condition} ORDER BY id DESC LIMIT 1"
                ),
                params![migration],
                |row| {
                    Ok(RunRecord {
                        id: row.get(0)?,
                        started_at: row.get(1)?,
                        heartbeat_at: row.get(2)?,
                        finished_at: row.get(3)?,
                        outcome: row.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(self.error("read the runs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_logged_with_heartbeats_and_outcomes() {
        let folder = tempfile::tempdir().unwrap();
        let log = RunLog::open(&folder.path().join("state.db")).unwrap();
        assert_eq!(log.last("m").unwrap(), None);
        let first = log.begin("m", 1_000).unwrap();
        log.heartbeat(first, 4_000).unwrap();
        let running = log.last("m").unwrap().unwrap();
        assert_eq!((running.heartbeat_at, running.finished_at), (4_000, None));
        assert_eq!(running.duration_seconds(), 3.0);
        assert_eq!(log.last_finished("m").unwrap(), None);
        log.finish(first, 6_500, "ok").unwrap();
        let second = log.begin("m", 10_000).unwrap();
        assert_eq!(log.last("m").unwrap().unwrap().id, second);
        let finished = log.last_finished("m").unwrap().unwrap();
        assert_eq!(finished.id, first);
        assert_eq!(finished.outcome.as_deref(), Some("ok"));
        assert_eq!(finished.duration_seconds(), 5.5);
        assert_eq!(log.last("other").unwrap(), None);
        log.discard(second).unwrap();
        assert_eq!(log.last("m").unwrap().unwrap().id, first);
    }
}
