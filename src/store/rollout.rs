//! Rollout state in the store: the wave a migration has reached, pauses,
//! the history of both, the pull request openings that fleet-wide hourly
//! limits count, and what each repository is held back by.
//!
//! Every change is one statement or one transaction, conditional where two
//! processes could race: a promotion only applies from the wave it was
//! decided on, so two runs that both see the gate hold promote once.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::sqlite::{self, SqliteStore};
use super::{StoreError, text_enum};
use crate::catalog::RepoName;

/// Where a migration's rollout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RolloutState {
    /// The index of the wave reached.
    pub wave: usize,
    /// Unix milliseconds when it was reached.
    pub reached_at: i64,
    pub paused: bool,
}

/// A change to a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloutChange {
    /// The first run: wave 0 is reached.
    Start,
    /// From wave `from` to the next (only if `from` is still current).
    Promote {
        from: usize,
    },
    Pause,
    Resume,
}

/// What a rollout event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RolloutAction {
    Start,
    Promote,
    Pause,
    Resume,
}

text_enum!(RolloutAction {
    Start => "start",
    Promote => "promote",
    Pause => "pause",
    Resume => "resume",
});

/// One recorded rollout change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RolloutEvent {
    /// Unix milliseconds.
    pub at: i64,
    pub action: RolloutAction,
    /// The wave reached after the change.
    pub wave: usize,
    pub detail: String,
}

/// What keeps a repository from going ahead, as recorded by the last run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Held {
    #[serde(serialize_with = "super::as_string")]
    pub repo: RepoName,
    pub reason: String,
    /// Unix milliseconds since when (with this reason).
    pub since: i64,
}

impl Held {
    /// How many repositories each reason holds back, by reason.
    pub fn by_reason(held: &[Held]) -> std::collections::BTreeMap<&str, usize> {
        let mut reasons = std::collections::BTreeMap::new();
        for held in held {
            *reasons.entry(held.reason.as_str()).or_default() += 1;
        }
        reasons
    }
}

impl SqliteStore {
    pub(super) fn read_rollout(&self, migration: &str) -> Result<Option<RolloutState>, StoreError> {
        self.connection
            .query_row(
                "SELECT wave, reached_at, paused FROM rollouts WHERE migration = ?1",
                params![migration],
                |row| {
                    Ok(RolloutState {
                        wave: row.get::<_, i64>(0)?.max(0) as usize,
                        reached_at: row.get(1)?,
                        paused: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(self.error("read the rollout"))
    }

    pub(super) fn write_rollout(
        &mut self,
        migration: &str,
        change: RolloutChange,
        detail: &str,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let path = self.path.clone();
        let failed = |action: &str| sqlite::failed(&path, action);
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed("start changing the rollout"))?;
        let (changed, action) = match change {
            RolloutChange::Start => (
                transaction.execute(
                    "INSERT OR IGNORE INTO rollouts (migration, wave, reached_at) VALUES (?1, 0, ?2)",
                    params![migration, now],
                ),
                RolloutAction::Start,
            ),
            RolloutChange::Promote { from } => (
                transaction.execute(
                    "UPDATE rollouts SET wave = wave + 1, reached_at = ?3 WHERE migration = ?1 AND wave = ?2",
                    params![migration, from as i64, now],
                ),
                RolloutAction::Promote,
            ),
            RolloutChange::Pause | RolloutChange::Resume => {
                let paused = change == RolloutChange::Pause;
                (
                    transaction.execute(
                        "UPDATE rollouts SET paused = ?2 WHERE migration = ?1 AND paused != ?2",
                        params![migration, paused],
                    ),
                    if paused {
                        RolloutAction::Pause
                    } else {
                        RolloutAction::Resume
                    },
                )
            }
        };
        let changed = changed.map_err(failed("change the rollout"))? > 0;
        if changed {
            transaction
                .execute(
                    "INSERT INTO rollout_events (migration, at, action, wave, detail) \
                     SELECT migration, ?2, ?3, wave, ?4 FROM rollouts WHERE migration = ?1",
                    params![migration, now, action.as_str(), detail],
                )
                .map_err(failed("record a rollout event"))?;
        }
        transaction
            .commit()
            .map_err(failed("commit a rollout change"))?;
        Ok(changed)
    }

    pub(super) fn read_rollout_events(
        &self,
        migration: &str,
    ) -> Result<Vec<RolloutEvent>, StoreError> {
        self.query_all(
            "SELECT at, action, wave, detail FROM rollout_events WHERE migration = ?1 ORDER BY id",
            params![migration],
            "read the rollout events",
            |row| {
                let action: String = row.get(1)?;
                let (at, wave, detail) = (row.get(0)?, row.get::<_, i64>(2)?, row.get(3)?);
                Ok(action.parse().map(|action| RolloutEvent {
                    at,
                    action,
                    wave: wave.max(0) as usize,
                    detail,
                }))
            },
        )
    }

    pub(super) fn insert_opening(
        &mut self,
        migration: &str,
        repo: &RepoName,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        self.connection
            .execute(
                "INSERT INTO openings (migration, repo, at) VALUES (?1, ?2, ?3)",
                params![migration, repo.to_string(), now],
            )
            .map(drop)
            .map_err(self.error("record a pull request opening"))
    }

    pub(super) fn read_openings(
        &self,
        migration: &str,
        since: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.query_all(
            "SELECT at FROM openings WHERE migration = ?1 AND at >= ?2 ORDER BY at",
            params![migration, since],
            "read the pull request openings",
            |row| row.get(0).map(Ok),
        )
    }

    pub(super) fn write_held(
        &mut self,
        migration: &str,
        repos: &[(RepoName, Option<String>)],
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let path = self.path.clone();
        let failed = |action: &str| sqlite::failed(&path, action);
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed("start recording what is held back"))?;
        for (repo, reason) in repos {
            let repo = repo.to_string();
            let result = match reason {
                // `since` stays while the reason stays.
                Some(reason) => transaction.execute(
                    "INSERT INTO held (migration, repo, reason, since) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (migration, repo) DO UPDATE SET reason = ?3, \
                     since = CASE WHEN held.reason = ?3 THEN held.since ELSE ?4 END",
                    params![migration, repo, reason, now],
                ),
                None => transaction.execute(
                    "DELETE FROM held WHERE migration = ?1 AND repo = ?2",
                    params![migration, repo],
                ),
            };
            result.map_err(failed("record what is held back"))?;
        }
        transaction
            .commit()
            .map_err(failed("commit what is held back"))
    }

    pub(super) fn read_held(&self, migration: &str) -> Result<Vec<Held>, StoreError> {
        self.query_all(
            "SELECT repo, reason, since FROM held WHERE migration = ?1 ORDER BY repo",
            params![migration],
            "read what is held back",
            |row| {
                let repo: String = row.get(0)?;
                let (reason, since) = (row.get(1)?, row.get(2)?);
                Ok(RepoName::parse(&repo).map(|repo| Held {
                    repo,
                    reason,
                    since,
                }))
            },
        )
    }
}
