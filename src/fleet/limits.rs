//! Fleet-wide limits on new pull requests: open at once, per owner, and
//! opened per hour.
//!
//! The counts start from the state store (records with an open pull
//! request, or a pushed branch whose pull request is about to be opened,
//! and the openings of the last hour), so they hold across runs; the
//! migration's lease keeps overlapping runs from counting at the same
//! time. An opening is recorded before the pull request is created, so a
//! crash can only over-count.

use std::collections::HashMap;

use super::rollout::Hold;
use crate::spec::Limits;
use crate::store::{RepoRecord, RepoState};

/// An hour, in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// What is left of the limits during a run.
#[derive(Clone, Debug)]
pub struct Budget {
    limits: Limits,
    open: u32,
    per_owner: HashMap<String, u32>,
    /// Openings in the last hour (Unix milliseconds), oldest first.
    openings: Vec<i64>,
}

/// Whether a record holds one of the open pull requests the limits count.
pub fn counts_as_open(record: &RepoRecord) -> bool {
    !record.state.is_final() && (record.pull_request.is_some() || record.state == RepoState::Pushed)
}

impl Budget {
    /// The budget given every record of the migration and the openings
    /// since an hour ago.
    pub fn new<'a>(
        limits: &Limits,
        records: impl IntoIterator<Item = &'a RepoRecord>,
        openings: Vec<i64>,
    ) -> Budget {
        let mut budget = Budget {
            limits: limits.clone(),
            open: 0,
            per_owner: HashMap::new(),
            openings,
        };
        for record in records.into_iter().filter(|record| counts_as_open(record)) {
            budget.open += 1;
            for owner in &record.owners {
                *budget.per_owner.entry(owner.clone()).or_default() += 1;
            }
        }
        budget
    }

    /// Pull requests open now.
    pub fn open(&self) -> u32 {
        self.open
    }

    /// Open pull requests per owner.
    pub fn per_owner(&self) -> &HashMap<String, u32> {
        &self.per_owner
    }

    /// Openings within the hour before `now`, oldest first.
    fn recent(&self, now: i64) -> &[i64] {
        let start = self.openings.partition_point(|&at| at <= now - HOUR_MS);
        &self.openings[start..]
    }

    /// How many pull requests opened within the hour before `now`.
    pub fn opened_last_hour(&self, now: i64) -> usize {
        self.recent(now).len()
    }

    /// Whether a pull request for a repository of `owners` may open at `now`.
    pub fn check(&self, owners: &[String], now: i64) -> Result<(), Hold> {
        if let Some(max) = self.limits.max_open_prs
            && self.open >= max
        {
            return Err(Hold::MaxOpen { max });
        }
        if let Some(max) = self.limits.prs_per_hour {
            let recent = self.recent(now);
            if recent.len() >= max as usize {
                // The oldest that must age out first.
                let until = recent[recent.len() - max as usize] + HOUR_MS;
                return Err(Hold::PerHour { max, until });
            }
        }
        if let Some(max) = self.limits.max_open_prs_per_owner {
            for owner in owners {
                if self.per_owner.get(owner).copied().unwrap_or(0) >= max {
                    return Err(Hold::PerOwner {
                        owner: owner.clone(),
                        max,
                    });
                }
            }
        }
        Ok(())
    }

    /// Counts a pull request opening at `now`.
    pub fn take(&mut self, owners: &[String], now: i64) {
        self.open += 1;
        for owner in owners {
            *self.per_owner.entry(owner.clone()).or_default() += 1;
        }
        self.openings.push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RepoName;

    fn open_record(owner: &str) -> RepoRecord {
        let mut record = RepoRecord::new(
            "m",
            RepoName::parse("acme/a").unwrap(),
            vec![owner.to_owned()],
        );
        record.state = RepoState::PrOpen;
        record.pull_request = Some(1);
        record
    }

    #[test]
    fn every_limit_holds_and_says_which() {
        let limits = Limits {
            max_open_prs: Some(3),
            prs_per_hour: Some(2),
            max_open_prs_per_owner: Some(1),
        };
        let records = [open_record("team-a")];
        let mut budget = Budget::new(&limits, &records, vec![0]);
        let owners = |name: &str| vec![name.to_owned()];
        assert!(matches!(
            budget.check(&owners("team-a"), 1_000),
            Err(Hold::PerOwner { .. })
        ));
        budget.check(&owners("team-b"), 1_000).unwrap();
        budget.take(&owners("team-b"), 1_000);
        // Two openings within the hour: the next waits for the first to age out.
        assert_eq!(
            budget.check(&owners("team-c"), 2_000),
            Err(Hold::PerHour {
                max: 2,
                until: HOUR_MS
            })
        );
        budget.check(&owners("team-c"), HOUR_MS + 1).unwrap();
        budget.take(&owners("team-c"), HOUR_MS + 1);
        assert_eq!(
            budget.check(&owners("team-d"), 10 * HOUR_MS),
            Err(Hold::MaxOpen { max: 3 })
        );
    }
}
