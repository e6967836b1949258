//! Timestamps: Unix milliseconds, shown as UTC RFC 3339.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// `2026-11-21T09:30:00Z` for Unix milliseconds.
pub fn format_utc(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_253_400_123), "2026-11-21T09:30:00Z");
    }
}

/// Where time comes from: the system, or a test's simulated clock.
pub trait Clock: Send + Sync {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
    /// Waits `milliseconds` (a simulated clock just moves on).
    fn sleep_ms(&self, milliseconds: i64);
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        now_ms()
    }

    fn sleep_ms(&self, milliseconds: i64) {
        if milliseconds > 0 {
            std::thread::sleep(std::time::Duration::from_millis(milliseconds as u64));
        }
    }
}

/// A simulated clock: sleeping moves it forward at once. Threads that
/// sleep at the same time share the wait rather than adding it up.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now: std::sync::atomic::AtomicI64::new(start_ms),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, milliseconds: i64) {
        self.now
            .fetch_add(milliseconds.max(0), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sleep_ms(&self, milliseconds: i64) {
        let target = self.now_ms() + milliseconds.max(0);
        self.now
            .fetch_max(target, std::sync::atomic::Ordering::SeqCst);
    }
}
