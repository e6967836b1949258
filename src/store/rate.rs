//! The rate ledger: what a forge credential may still send, shared by
//! every fleetmod process that uses the same state store.
//!
//! GitHub limits each credential, not each process, so the bookkeeping
//! lives in SQLite rather than in memory: a row per credential with the
//! primary limit's `remaining`/`reset` from the last response and any
//! block a secondary-limit answer imposed, and one row per mutating
//! request sent in the last hour. Admitting a mutating request is one
//! `BEGIN IMMEDIATE` transaction that checks every window and, when the
//! request may go, records it, so two processes can never both take the
//! last slot. Credentials are identified by a name (`host:login`), never
//! by the token.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StoreError;
use super::sqlite::connect;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The secondary limits for mutating requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MutationLimits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub min_interval_ms: i64,
}

/// Whether a request may go now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go (a mutating request is now recorded as sent).
    Granted,
    /// Not before `until` (Unix milliseconds), for `reason`.
    Wait { until: i64, reason: String },
}

/// The primary limit as the forge last reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrimaryLimit {
    pub remaining: i64,
    /// Unix milliseconds when the window resets.
    pub reset_at: i64,
}

/// Rate bookkeeping in the state store.
pub struct RateLedger {
    connection: Connection,
    path: PathBuf,
}

impl RateLedger {
    /// Opens the ledger in the state store at `path`.
    pub fn open(path: &Path) -> Result<RateLedger, StoreError> {
        Ok(RateLedger {
            connection: connect(path)?,
            path: path.to_path_buf(),
        })
    }

    fn error(&self, action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
        failed(&self.path, action)
    }
    /// Whether any request may go at `now`: not while a block holds or the
    /// primary limit is spent.
    pub fn admit(&mut self, credential: &str, now: i64) -> Result<Admission, StoreError> {
        let admission = blocked(&self.connection, credential, now)
            .map_err(self.error("read the rate limits"))?;
        Ok(admission.unwrap_or(Admission::Granted))
    }

    /// Admits a mutating request at `now` under `limits`, recording it when
    /// granted.
    pub fn admit_mutation(
        &mut self,
        credential: &str,
        now: i64,
        limits: MutationLimits,
    ) -> Result<Admission, StoreError> {
        let path = self.path.clone();
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed(&path, "admit a request"))?;
        let decide = || -> rusqlite::Result<Admission> {
            if let Some(wait) = blocked(&transaction, credential, now)? {
                return Ok(wait);
            }
            let last: Option<i64> = transaction.query_row(
                "SELECT MAX(at) FROM mutations WHERE credential = ?1",
                params![credential],
                |row| row.get(0),
            )?;
            if let Some(last) = last
                && now < last + limits.min_interval_ms
            {
                return Ok(Admission::Wait {
                    until: last + limits.min_interval_ms,
                    reason: format!(
                        "at least {} ms between mutating requests",
                        limits.min_interval_ms
                    ),
                });
            }
            for (window, limit, name) in [
                (MINUTE_MS, limits.per_minute, "minute"),
                (HOUR_MS, limits.per_hour, "hour"),
            ] {
                // The request that would be one too many in the window
                // frees a slot when the oldest of the last `limit` leaves.
                let limit = i64::from(limit.max(1));
                let oldest: Option<i64> = transaction
                    .query_row(
                        "SELECT at FROM mutations WHERE credential = ?1 AND at > ?2 \
                         ORDER BY at DESC LIMIT 1 OFFSET ?3",
                        params![credential, now - window, limit - 1],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(oldest) = oldest {
                    return Ok(Admission::Wait {
                        until: oldest + window + 1,
                        reason: format!("{limit} mutating requests per {name}"),
                    });
                }
            }
            transaction.execute(
                "INSERT INTO mutations (credential, at) VALUES (?1, ?2)",
                params![credential, now],
            )?;
            transaction.execute(
                "DELETE FROM mutations WHERE credential = ?1 AND at <= ?2",
                params![credential, now - HOUR_MS],
            )?;
            Ok(Admission::Granted)
        };
        let admission = decide().map_err(failed(&path, "admit a request"))?;
        transaction
            .commit()
            .map_err(failed(&path, "admit a request"))?;
        Ok(admission)
    }

    /// Records the primary limit a response reported.
    pub fn record_primary(
        &mut self,
        credential: &str,
        limit: PrimaryLimit,
        now: i64,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO rate_limits (credential, remaining, reset_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (credential) DO UPDATE SET \
                 remaining = excluded.remaining, reset_at = excluded.reset_at, \
                 updated_at = excluded.updated_at",
                params![credential, limit.remaining, limit.reset_at, now],
            )
            .map_err(self.error("record the rate limit"))?;
        Ok(())
    }

    /// Blocks every request of `credential` until `until`.
    pub fn block(
        &mut self,
        credential: &str,
        until: i64,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO rate_limits (credential, blocked_until, reason, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (credential) DO UPDATE SET \
                 blocked_until = MAX(blocked_until, excluded.blocked_until), \
                 reason = excluded.reason, updated_at = excluded.updated_at",
                params![credential, until, reason, now],
            )
            .map_err(self.error("record a rate-limit block"))?;
        Ok(())
    }

    /// The primary limit last reported for `credential`.
    pub fn primary(&self, credential: &str) -> Result<Option<PrimaryLimit>, StoreError> {
        let row: Option<(Option<i64>, Option<i64>)> = self
            .connection
            .query_row(
                "SELECT remaining, reset_at FROM rate_limits WHERE credential = ?1",
                params![credential],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.error("read the rate limits"))?;
        Ok(match row {
            Some((Some(remaining), Some(reset_at))) => Some(PrimaryLimit {
                remaining,
                reset_at,
            }),
            _ => None,
        })
    }

    /// Every credential's primary limit as last reported, sorted by name.
    pub fn primaries(&self) -> Result<Vec<(String, PrimaryLimit)>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT credential, remaining, reset_at FROM rate_limits \
                 WHERE remaining IS NOT NULL AND reset_at IS NOT NULL ORDER BY credential",
            )
            .map_err(self.error("read the rate limits"))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    PrimaryLimit {
                        remaining: row.get(1)?,
                        reset_at: row.get(2)?,
                    },
                ))
            })
            .map_err(self.error("read the rate limits"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.error("read the rate limits"))
    }

    /// Mutating requests recorded for `credential` in `(from, to]`.
    #[cfg(test)]
    fn mutations_between(&self, credential: &str, from: i64, to: i64) -> Result<u64, StoreError> {
        self.connection
            .query_row(
                "SELECT COUNT(*) FROM mutations WHERE credential = ?1 AND at > ?2 AND at <= ?3",
                params![credential, from, to],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count as u64)
            .map_err(self.error("count requests"))
    }
}

fn failed(path: &Path, action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
    let path = path.display().to_string();
    move |source| StoreError::Sqlite {
        action: action.to_owned(),
        path,
        source,
    }
}

/// A block or a spent primary limit in force at `now`.
fn blocked(
    connection: &Connection,
    credential: &str,
    now: i64,
) -> rusqlite::Result<Option<Admission>> {
    /// remaining, reset_at, blocked_until, reason
    type Row = (Option<i64>, Option<i64>, i64, Option<String>);
    let row: Option<Row> = connection
        .query_row(
            "SELECT remaining, reset_at, blocked_until, reason FROM rate_limits \
             WHERE credential = ?1",
            params![credential],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((remaining, reset_at, blocked_until, reason)) = row else {
        return Ok(None);
    };
    if blocked_until > now {
        return Ok(Some(Admission::Wait {
            until: blocked_until,
            reason: reason.unwrap_or_else(|| "rate limited".to_owned()),
        }));
    }
    if remaining == Some(0)
        && let Some(reset_at) = reset_at
        && reset_at > now
    {
        return Ok(Some(Admission::Wait {
            until: reset_at,
            reason: "the primary rate limit is spent until its reset".to_owned(),
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MutationLimits = MutationLimits {
        per_minute: 3,
        per_hour: 5,
        min_interval_ms: 1_000,
    };

    fn ledger() -> (tempfile::TempDir, RateLedger) {
        let folder = tempfile::tempdir().unwrap();
        let ledger = RateLedger::open(&folder.path().join("state.db")).unwrap();
        (folder, ledger)
    }

    #[test]
    fn mutations_respect_interval_minute_and_hour() {
        let (_folder, mut ledger) = ledger();
        let admit = |ledger: &mut RateLedger, now| ledger.admit_mutation("c", now, LIMITS).unwrap();
        assert_eq!(admit(&mut ledger, 0), Admission::Granted);
        assert!(matches!(
            admit(&mut ledger, 500),
            Admission::Wait { until: 1_000, .. }
        ));
        assert_eq!(admit(&mut ledger, 1_000), Admission::Granted);
        assert_eq!(admit(&mut ledger, 2_000), Admission::Granted);
        // A fourth within the minute waits for the first to leave it.
        assert!(matches!(
            admit(&mut ledger, 3_000),
            Admission::Wait { until: 60_001, .. }
        ));
        assert_eq!(admit(&mut ledger, 60_001), Admission::Granted);
        assert_eq!(admit(&mut ledger, 121_000), Admission::Granted);
        // Five in the hour: the sixth waits for the hour's oldest.
        assert!(matches!(
            admit(&mut ledger, 200_000),
            Admission::Wait {
                until: 3_600_001,
                ..
            }
        ));
        assert_eq!(ledger.mutations_between("c", -1, 200_000).unwrap(), 5);
        // Another credential is not affected.
        assert_eq!(
            ledger.admit_mutation("other", 200_000, LIMITS).unwrap(),
            Admission::Granted
        );
    }

    #[test]
    fn blocks_and_spent_primary_limits_hold_across_connections() {
        let (folder, mut ledger) = ledger();
        ledger
            .block("c", 10_000, "secondary rate limit", 0)
            .unwrap();
        let mut other = RateLedger::open(&folder.path().join("state.db")).unwrap();
        assert_eq!(
            other.admit("c", 5_000).unwrap(),
            Admission::Wait {
                until: 10_000,
                reason: "secondary rate limit".to_owned()
            }
        );
        assert_eq!(other.admit("c", 10_000).unwrap(), Admission::Granted);
        let spent = PrimaryLimit {
            remaining: 0,
            reset_at: 20_000,
        };
        other.record_primary("c", spent, 10_000).unwrap();
        assert!(matches!(
            ledger.admit_mutation("c", 15_000, LIMITS).unwrap(),
            Admission::Wait { until: 20_000, .. }
        ));
        assert_eq!(ledger.primary("c").unwrap(), Some(spent));
        assert_eq!(ledger.admit("c", 20_000).unwrap(), Admission::Granted);
    }
}
