//! The per-migration lease: at most one process acts on a migration's
//! repositories at a time.
//!
//! A lease is a row (`holder`, `expires_at`) taken in a `BEGIN IMMEDIATE`
//! transaction, so two processes cannot both take it. It lives for
//! [`LEASE_TTL_MS`] and a heartbeat thread renews it every third of that
//! while the holder runs, so a crashed holder blocks others for at most one
//! TTL, or not at all when it ran on the same machine (a holder whose
//! process is gone is taken over at once). Dropping the lease releases
//! it. Should a holder stall past its expiry and another process take
//! over, the heartbeat notices and [`Lease::is_lost`] tells the run to
//! stop.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::sqlite::{connect, failed};
use super::time::{Clock, format_utc};

/// How long a lease lasts without renewal.
pub const LEASE_TTL_MS: i64 = 2 * 60 * 1000;

/// Why a lease could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "another fleetmod run ({holder}) is working on migration {migration}; its lease expires at {}",
        format_utc(*expires_at)
    )]
    Held {
        migration: String,
        holder: String,
        expires_at: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A held lease; released when dropped.
pub struct Lease {
    shared: Arc<Shared>,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

struct Shared {
    connection: Mutex<Connection>,
    path: std::path::PathBuf,
    migration: String,
    holder: String,
    clock: Arc<dyn Clock>,
    lost: AtomicBool,
}

/// This machine's name.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Names this process uniquely: host, process id and a per-process count.
fn holder_name() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}:{}:{}",
        host_name(),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether `holder` is a process on this machine that no longer runs (it
/// crashed): its lease need not wait for expiry. Only where `/proc` tells.
fn is_dead_local_holder(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_count), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let proc_folder = Path::new("/proc");
    host == host_name()
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| pid != std::process::id())
        && proc_folder.join("self").exists()
        && !proc_folder.join(pid).exists()
}

impl Lease {
    /// Takes the lease on `migration` in the store at `path`, or says who
    /// holds it.
    pub fn acquire(
        path: &Path,
        migration: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Lease, LeaseError> {
        let mut connection = connect(path)?;
        let holder = holder_name();
        let now = clock.now_ms();
        let transaction = connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed(path, "take the lease"))?;
        let current: Option<(String, i64)> = transaction
            .query_row(
                "SELECT holder, expires_at FROM leases WHERE migration = ?1",
                params![migration],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(failed(path, "read the lease"))?;
        if let Some((other, expires_at)) = current
            && expires_at > now
            && !is_dead_local_holder(&other)
        {
            return Err(LeaseError::Held {
                migration: migration.to_owned(),
                holder: other,
                expires_at,
            });
        }
        transaction
            .execute(
                "INSERT OR REPLACE INTO leases (migration, holder, acquired_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![migration, holder, now, now + LEASE_TTL_MS],
            )
            .map_err(failed(path, "take the lease"))?;
        transaction
            .commit()
            .map_err(failed(path, "take the lease"))?;
        let shared = Arc::new(Shared {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
            migration: migration.to_owned(),
            holder,
            clock,
            lost: AtomicBool::new(false),
        });
        let (stop, stopped) = mpsc::channel();
        let beating = Arc::clone(&shared);
        let heartbeat = std::thread::spawn(move || {
            let interval = Duration::from_millis((LEASE_TTL_MS / 3) as u64);
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                if !beating.renew() {
                    break;
                }
            }
        });
        Ok(Lease {
            shared,
            stop: Some(stop),
            heartbeat: Some(heartbeat),
        })
    }

    /// Who holds it.
    pub fn holder(&self) -> &str {
        &self.shared.holder
    }

    /// Renews the lease now; `false` when another process took it over.
    pub fn renew(&self) -> bool {
        self.shared.renew()
    }

    /// Whether another process took the lease over (this one stalled past
    /// its expiry); the holder must stop acting.
    pub fn is_lost(&self) -> bool {
        self.shared.lost.load(Ordering::SeqCst)
    }
}

impl Shared {
    fn renew(&self) -> bool {
        let now = self.clock.now_ms();
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let renewed = connection.execute(
            "UPDATE leases SET expires_at = ?3 WHERE migration = ?1 AND holder = ?2",
            params![self.migration, self.holder, now + LEASE_TTL_MS],
        );
        match renewed {
            Ok(0) => {
                self.lost.store(true, Ordering::SeqCst);
                tracing::error!(
                    "lost the lease on migration {} to another run ({})",
                    self.migration,
                    self.path.display()
                );
                false
            }
            Ok(_) => true,
            // A busy store: try again at the next beat.
            Err(error) => {
                tracing::warn!("could not renew the lease: {error}");
                true
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(heartbeat) = self.heartbeat.take() {
            let _ = heartbeat.join();
        }
        let connection = self
            .shared
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = connection.execute(
            "DELETE FROM leases WHERE migration = ?1 AND holder = ?2",
            params![self.shared.migration, self.shared.holder],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::time::ManualClock;

    #[test]
    fn one_holder_at_a_time_and_expiry_frees_it() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let clock = Arc::new(ManualClock::new(1_000_000));
        let first = Lease::acquire(&path, "m", clock.clone()).unwrap();
        let error = Lease::acquire(&path, "m", clock.clone()).err().unwrap();
        assert!(
            error.to_string().contains(first.holder()),
            "names the holder: {error}"
        );
        // Another migration is independent.
        drop(Lease::acquire(&path, "other", clock.clone()).unwrap());
        // A holder that stops renewing (a crash) loses it after the TTL.
        std::mem::forget(first);
        clock.advance(LEASE_TTL_MS - 1);
        assert!(Lease::acquire(&path, "m", clock.clone()).is_err());
        clock.advance(1);
        let second = Lease::acquire(&path, "m", clock.clone()).unwrap();
        drop(second);
        // Dropping releases at once.
        let third = Lease::acquire(&path, "m", clock.clone()).unwrap();
        assert!(third.renew());
        assert!(!third.is_lost());
    }

    #[test]
    fn a_crashed_holder_on_this_machine_is_taken_over_at_once() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let clock = Arc::new(ManualClock::new(0));
        drop(Lease::acquire(&path, "m", clock.clone()).unwrap());
        // A process id far above any pid_max is not running.
        let dead = format!("{}:999999999:0", host_name());
        let connection = Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO leases (migration, holder, acquired_at, expires_at) VALUES ('m', ?1, 0, ?2)",
                params![dead, LEASE_TTL_MS],
            )
            .unwrap();
        assert!(is_dead_local_holder(&dead));
        drop(Lease::acquire(&path, "m", clock.clone()).unwrap());
        // A process on another machine is respected until its lease expires.
        connection
            .execute(
                "INSERT INTO leases (migration, holder, acquired_at, expires_at) VALUES ('m', 'elsewhere:1:0', 0, ?1)",
                params![LEASE_TTL_MS],
            )
            .unwrap();
        assert!(Lease::acquire(&path, "m", clock).is_err());
    }

    #[test]
    fn a_stalled_holder_notices_the_takeover() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let clock = Arc::new(ManualClock::new(0));
        let stalled = Lease::acquire(&path, "m", clock.clone()).unwrap();
        clock.advance(LEASE_TTL_MS);
        let _other = Lease::acquire(&path, "m", clock.clone()).unwrap();
        assert!(!stalled.renew());
        assert!(stalled.is_lost());
    }
}
