//! Sync: what happened to fleetmod's pull requests since the last look.
//!
//! For every recorded pull request that is not finished, the forge is
//! asked (in parallel, paced by the forge's own limits) for its state,
//! mergeability, combined checks and review decision; the answers are
//! saved serially, and only when something changed, so a sync that finds
//! nothing new writes nothing. New facts update the record in place; only
//! a state change is an event. A pull request a person merged or closed
//! moves its repository to `merged` or `closed`. Every `run` starts with
//! a sync; `fleetmod sync` runs one alone.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::publish::closed_by_fleetmod;
use super::{Fleet, FleetError};
use crate::catalog::RepoName;
use crate::forge::{ForgeError, PullRequestState, PullRequestStatus};
use crate::progress::Reporter;
use crate::store::{RepoRecord, RepoState, StateStore};

/// What a sync did with one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Synced {
    /// Nothing new.
    Unchanged,
    /// Something changed; the detail says what.
    Updated(String),
    /// The forge could not be asked; the record is left as it was.
    Failed(String),
}

/// Syncs the migration's open pull requests (only `only`, when given).
pub fn sync(
    fleet: &Fleet<'_>,
    store: &mut dyn StateStore,
    only: &[RepoName],
    reporter: &dyn Reporter,
    interrupt: &AtomicBool,
) -> Result<Vec<(RepoName, Synced)>, FleetError> {
    let records: Vec<RepoRecord> = store
        .records(&fleet.spec.id)?
        .into_iter()
        .filter(|record| only.is_empty() || only.contains(&record.repo))
        .filter(|record| record.pull_request.is_some() && !record.state.is_final())
        .collect();
    reporter.begin(records.len() as u64);
    let statuses: Vec<Option<Result<PullRequestStatus, String>>> = records
        .par_iter()
        .map(|record| {
            let number = record.pull_request.unwrap_or_default();
            let status = (!interrupt.load(Ordering::Relaxed))
                .then(|| status(fleet, &record.repo, number).map_err(|error| error.to_string()));
            reporter.advance(1);
            status
        })
        .collect();
    let mut results = Vec::new();
    for (mut record, status) in records.into_iter().zip(statuses) {
        let synced = match status {
            None => continue,
            Some(Err(error)) => Synced::Failed(error),
            Some(Ok(status)) => {
                let state = record.state;
                match apply(&mut record, &status) {
                    // A state change is an event; new facts alone are not.
                    Some(detail) if record.state != state => {
                        store.save(&mut record, &detail)?;
                        Synced::Updated(detail)
                    }
                    Some(detail) => {
                        store.update_facts(&record)?;
                        Synced::Updated(detail)
                    }
                    None => Synced::Unchanged,
                }
            }
        };
        results.push((record.repo.clone(), synced));
    }
    reporter.end();
    Ok(results)
}

/// A pull request's status, with fleetmod's own closes reported as still
/// open: fleetmod comments before it closes one, only a person's close is
/// final, and the run sorts out fleetmod's own.
fn status(
    fleet: &Fleet<'_>,
    repo: &RepoName,
    number: u64,
) -> Result<PullRequestStatus, ForgeError> {
    let mut status = fleet.forge.status(repo, number)?;
    if status.state == PullRequestState::Closed
        && closed_by_fleetmod(&fleet.forge.pull_request(repo, number)?)
    {
        status.state = PullRequestState::Open;
    }
    Ok(status)
}

/// Moves `record` to what `status` says; the change, or `None`.
fn apply(record: &mut RepoRecord, status: &PullRequestStatus) -> Option<String> {
    let number = record.pull_request.unwrap_or_default();
    let mut changes = Vec::new();
    let state = match status.state {
        PullRequestState::Merged => Some(RepoState::Merged),
        PullRequestState::Closed => Some(RepoState::Closed),
        PullRequestState::Open => None,
    };
    if let Some(state) = state
        && record.state != state
    {
        record.state = state;
        changes.push(format!("pull request #{number} was {state} by a person"));
    }
    if record.checks != Some(status.checks) {
        record.checks = Some(status.checks);
        changes.push(format!("checks {}", status.checks));
    }
    if record.review != Some(status.review) {
        record.review = Some(status.review);
        changes.push(format!("review {}", status.review));
    }
    if record.draft != status.draft {
        record.draft = status.draft;
        changes.push(
            if status.draft {
                "draft"
            } else {
                "ready for review"
            }
            .to_owned(),
        );
    }
    if record.mergeable != status.mergeable {
        record.mergeable = status.mergeable;
        changes.push(match status.mergeable {
            Some(true) => "mergeable".to_owned(),
            Some(false) => "not mergeable".to_owned(),
            None => "mergeability unknown".to_owned(),
        });
    }
    (!changes.is_empty()).then(|| format!("synced: {}", changes.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Checks, ReviewDecision};

    fn status(state: PullRequestState, checks: Checks) -> PullRequestStatus {
        PullRequestStatus {
            state,
            mergeable: Some(true),
            checks,
            review: ReviewDecision::ReviewRequired,
            draft: false,
            head_sha: None,
        }
    }

    #[test]
    fn only_changes_are_recorded() {
        let mut record = RepoRecord::new("m", RepoName::parse("a/b").unwrap(), Vec::new());
        record.state = RepoState::PrOpen;
        record.pull_request = Some(7);
        let open = status(PullRequestState::Open, Checks::Pending);
        assert_eq!(
            apply(&mut record, &open).as_deref(),
            Some("synced: checks pending, review review-required, mergeable")
        );
        assert_eq!(apply(&mut record, &open), None);
        let merged = status(PullRequestState::Merged, Checks::Success);
        assert_eq!(
            apply(&mut record, &merged).as_deref(),
            Some("synced: pull request #7 was merged by a person, checks success")
        );
        assert_eq!(record.state, RepoState::Merged);
    }
}
