//! The rate governor: one per credential, and the only way a request
//! reaches GitHub.
//!
//! Before a request goes out the governor takes one of a bounded number of
//! in-flight slots, then asks the [`RateLedger`] in the state store whether
//! the credential may send now: not while a block from an earlier
//! rate-limit answer holds, not while the primary limit is spent, and, for
//! mutating requests, not sooner than the minimum interval after the last
//! one nor over the per-minute and per-hour budgets. Because the ledger is
//! in SQLite, the budgets hold across runs and across processes. Every wait
//! is logged with its reason. Time comes from a [`Clock`], so tests can
//! run hours of limits in a moment.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::forge::ForgeError;
use crate::spec::RequestLimits;
use crate::store::RateLedger;
use crate::store::rate::{Admission, MutationLimits, PrimaryLimit};
use crate::store::time::Clock;

/// Paces one credential's requests.
pub(crate) struct Governor {
    /// `None` until the credential's name is known: then nothing is read
    /// from or written to the ledger, and a rate-limit answer is simply
    /// waited out.
    credential: Option<String>,
    ledger: Mutex<RateLedger>,
    limits: RequestLimits,
    clock: Arc<dyn Clock>,
    in_flight: Mutex<u32>,
    freed: Condvar,
}

/// A request's slot; dropping it frees the slot.
pub(crate) struct Permit<'a> {
    governor: &'a Governor,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.governor.in_flight);
        *in_flight = in_flight.saturating_sub(1);
        self.governor.freed.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ledger_failed(error: crate::store::StoreError) -> ForgeError {
    ForgeError::Failed {
        action: "pace requests to GitHub".to_owned(),
        message: error.to_string(),
    }
}

impl Governor {
    /// A governor for a credential whose name is not known yet (see
    /// [`Governor::name`]).
    pub(crate) fn unnamed(
        ledger: RateLedger,
        limits: RequestLimits,
        clock: Arc<dyn Clock>,
    ) -> Governor {
        Governor {
            credential: None,
            ledger: Mutex::new(ledger),
            limits,
            clock,
            in_flight: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Names the credential (`host:login`); from now on its budget is the
    /// ledger's.
    pub(crate) fn name(&mut self, credential: String) {
        self.credential = Some(credential);
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn limits(&self) -> &RequestLimits {
        &self.limits
    }

    /// Waits until `what` may be sent, and takes a slot for it.
    pub(crate) fn admit(&self, mutating: bool, what: &str) -> Result<Permit<'_>, ForgeError> {
        {
            let mut in_flight = lock(&self.in_flight);
            while *in_flight >= self.limits.concurrency.max(1) {
                in_flight = self
                    .freed
                    .wait(in_flight)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            *in_flight += 1;
        }
        let permit = Permit { governor: self };
        let limits = MutationLimits {
            per_minute: self.limits.per_minute,
            per_hour: self.limits.per_hour,
            min_interval_ms: self.limits.min_interval_ms as i64,
        };
        let Some(credential) = &self.credential else {
            return Ok(permit);
        };
        loop {
            let now = self.clock.now_ms();
            let admission = {
                let mut ledger = lock(&self.ledger);
                if mutating {
                    ledger.admit_mutation(credential, now, limits)
                } else {
                    ledger.admit(credential, now)
                }
            }
            .map_err(ledger_failed)?;
            match admission {
                Admission::Granted => return Ok(permit),
                Admission::Wait { until, reason } => {
                    let wait = (until - now).max(1);
                    // The routine spacing of writes is not news.
                    if wait <= limits.min_interval_ms {
                        tracing::debug!("rate governor: waiting {wait} ms before {what}: {reason}");
                        self.clock.sleep_ms(wait);
                        continue;
                    }
                    tracing::info!(
                        %credential,
                        wait_ms = wait,
                        %reason,
                        "rate governor: waiting {:.1}s before {what}: {reason}",
                        wait as f64 / 1000.0
                    );
                    self.clock.sleep_ms(wait);
                }
            }
        }
    }

    /// Records the primary limit a response reported.
    pub(crate) fn observe(&self, remaining: i64, reset_at: i64) -> Result<(), ForgeError> {
        let Some(credential) = &self.credential else {
            return Ok(());
        };
        let limit = PrimaryLimit {
            remaining,
            reset_at,
        };
        lock(&self.ledger)
            .record_primary(credential, limit, self.clock.now_ms())
            .map_err(ledger_failed)
    }

    /// Stops every request of the credential, in every process, for
    /// `milliseconds`.
    pub(crate) fn block(&self, milliseconds: i64, reason: &str) -> Result<(), ForgeError> {
        let now = self.clock.now_ms();
        tracing::warn!(
            credential = self.credential.as_deref().unwrap_or("?"),
            wait_ms = milliseconds,
            %reason,
            "rate governor: pausing requests for {:.1}s: {reason}",
            milliseconds as f64 / 1000.0
        );
        let Some(credential) = &self.credential else {
            self.clock.sleep_ms(milliseconds);
            return Ok(());
        };
        lock(&self.ledger)
            .block(credential, now + milliseconds, reason, now)
            .map_err(ledger_failed)
    }

    /// The primary limit last reported.
    pub(crate) fn primary(&self) -> Option<PrimaryLimit> {
        let credential = self.credential.as_deref()?;
        lock(&self.ledger).primary(credential).ok().flatten()
    }
}
