//! Automerge: fleetmod merges its own pull requests once the spec's
//! conditions hold.
//!
//! The conditions are checked twice: on the facts the run's sync just
//! stored (cheap, and no request for pull requests that are not ready),
//! then on a fresh status right before the merge. The merge names the
//! head fleetmod pushed, and the forge refuses it if the branch moved in
//! between; a head fleetmod did not push is never merged.

use std::collections::HashMap;

use super::{Fleet, FleetError};
use crate::catalog::RepoName;
use crate::forge::{PullRequestState, PullRequestStatus};
use crate::git;
use crate::spec::{Automerge, MergeCondition};
use crate::store::{Checks, RepoRecord, RepoState, ReviewDecision, StateStore};

/// What automerge did with one pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    pub repo: RepoName,
    pub number: u64,
    pub result: MergeResult,
}

/// Whether a pull request whose recorded facts allowed a merge was merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeResult {
    Merged,
    /// The fresh status said no (the head moved, a check failed since);
    /// why.
    Skipped(String),
    /// The forge failed.
    Failed(String),
}

/// The conditions that do not hold for these facts.
fn unmet(
    automerge: &Automerge,
    checks: Option<Checks>,
    review: Option<ReviewDecision>,
    mergeable: Option<bool>,
) -> Vec<&'static str> {
    automerge
        .when
        .iter()
        .filter(|condition| match condition {
            MergeCondition::ChecksGreen => checks != Some(Checks::Success),
            MergeCondition::Approved => review != Some(ReviewDecision::Approved),
            MergeCondition::Mergeable => mergeable != Some(true),
        })
        .map(|condition| condition.as_str())
        .collect()
}

/// Merges every pull request of `repos` whose conditions hold.
pub(super) fn automerge(
    fleet: &Fleet<'_>,
    store: &mut dyn StateStore,
    records: &mut HashMap<RepoName, RepoRecord>,
    repos: &[RepoName],
    automerge: &Automerge,
) -> Result<Vec<Merge>, FleetError> {
    let mut merges = Vec::new();
    for repo in repos {
        let Some(record) = records.get_mut(repo) else {
            continue;
        };
        let (Some(number), Some(pushed)) = (record.pull_request, record.pushed_sha.clone()) else {
            continue;
        };
        if record.state != RepoState::PrOpen
            || record.draft
            || !unmet(automerge, record.checks, record.review, record.mergeable).is_empty()
        {
            continue;
        }
        let result = merge_one(fleet, repo, number, &pushed, automerge);
        if result == MergeResult::Merged {
            record.state = RepoState::Merged;
            let conditions: Vec<&str> = automerge
                .when
                .iter()
                .map(|condition| condition.as_str())
                .collect();
            let detail = format!(
                "fleetmod merged pull request #{number} ({}) at {}: {}",
                automerge.method.as_str(),
                &pushed[..pushed.len().min(7)],
                conditions.join(", ")
            );
            store.save(record, &detail)?;
        }
        merges.push(Merge {
            repo: repo.clone(),
            number,
            result,
        });
    }
    Ok(merges)
}

fn merge_one(
    fleet: &Fleet<'_>,
    repo: &RepoName,
    number: u64,
    pushed: &str,
    automerge: &Automerge,
) -> MergeResult {
    let status: PullRequestStatus = match fleet.forge.status(repo, number) {
        Ok(status) => status,
        Err(error) => return MergeResult::Failed(error.to_string()),
    };
    if let Some(reason) = refusal(&status, pushed, automerge) {
        return MergeResult::Skipped(reason);
    }
    if let Err(error) = fleet.forge.merge(repo, number, automerge.method, pushed) {
        return MergeResult::Failed(error.to_string());
    }
    tracing::info!(
        "merged {repo}#{number} ({}) at {}",
        automerge.method.as_str(),
        git::short(git2::Oid::from_str(pushed).ok())
    );
    MergeResult::Merged
}

/// Why a fresh status forbids the merge, if it does.
fn refusal(status: &PullRequestStatus, pushed: &str, automerge: &Automerge) -> Option<String> {
    if status.state != PullRequestState::Open {
        return Some(format!("it is {} now", status.state.as_str()));
    }
    if status.head_sha.as_deref() != Some(pushed) {
        return Some(format!(
            "its head is {}, not {} that fleetmod pushed",
            status
                .head_sha
                .as_deref()
                .map_or("missing", |sha| &sha[..sha.len().min(7)]),
            &pushed[..pushed.len().min(7)]
        ));
    }
    if status.draft {
        return Some("it is a draft".to_owned());
    }
    let unmet = unmet(
        automerge,
        Some(status.checks),
        Some(status.review),
        status.mergeable,
    );
    (!unmet.is_empty()).then(|| format!("no longer {}", unmet.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::MergeMethod;

    #[test]
    fn every_condition_must_hold() {
        let automerge = Automerge {
            when: vec![MergeCondition::ChecksGreen, MergeCondition::Approved],
            method: MergeMethod::Squash,
        };
        assert_eq!(
            unmet(
                &automerge,
                Some(Checks::Success),
                Some(ReviewDecision::Approved),
                None
            ),
            Vec::<&str>::new()
        );
        assert_eq!(
            unmet(
                &automerge,
                Some(Checks::None),
                Some(ReviewDecision::Approved),
                None
            ),
            ["checks-green"]
        );
        assert_eq!(
            unmet(
                &automerge,
                None,
                Some(ReviewDecision::ChangesRequested),
                Some(true)
            ),
            ["checks-green", "approved"]
        );
    }
}
