//! A test-only crash hook: `FLEETMOD_TEST_CRASH=<point>:<n>` aborts the
//! process (as `kill -9` would stop it: no cleanup, no destructors) right
//! after the n-th time the run passes `point`. Points: `event` (a record
//! saved), `push` (a branch pushed, not yet recorded), `pull-request` (a
//! pull request opened, not yet recorded), `close` (a pull request closed,
//! not yet recorded). The crash tests use it to stop a run between any two
//! side effects.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the hook.
pub(crate) const VARIABLE: &str = "FLEETMOD_TEST_CRASH";

pub(super) struct CrashPoints {
    armed: Option<(String, u64)>,
    passed: AtomicU64,
}

impl CrashPoints {
    pub(super) fn from_environment() -> CrashPoints {
        let armed = std::env::var(VARIABLE).ok().and_then(|value| {
            let (point, count) = value.rsplit_once(':')?;
            Some((point.to_owned(), count.parse().ok()?))
        });
        CrashPoints {
            armed,
            passed: AtomicU64::new(0),
        }
    }

    /// Aborts when the armed point is passed for the armed time.
    pub(super) fn pass(&self, point: &str) {
        if let Some((armed, count)) = &self.armed
            && armed == point
            && self.passed.fetch_add(1, Ordering::SeqCst) + 1 == *count
        {
            std::process::abort();
        }
    }
}
