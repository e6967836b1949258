//! Progress reporting, passed into long-running library code.
//!
//! The library never prints; it tells a [`Reporter`] how far it got, and the
//! command line turns that into a progress bar on a terminal.

/// Receives progress from long-running work. Every method has a no-op
/// default, so a reporter implements only what it shows.
pub trait Reporter: Sync {
    /// Work of `total` steps starts.
    fn begin(&self, _total: u64) {}
    /// `count` more steps are done.
    fn advance(&self, _count: u64) {}
    /// One item (a repository) is done, with this outcome (`opened`,
    /// `failed`, …), for counts per outcome.
    fn finished(&self, _outcome: &'static str) {}
    /// The work is over (done or abandoned).
    fn end(&self) {}
}

/// A reporter that shows nothing.
pub struct Silent;

impl Reporter for Silent {}
