//! GitHub's JSON, read through octocrab's models, as fleetmod's forge
//! types.

use serde_json::Value;

use crate::catalog::RepoName;
use crate::forge::{Comment, ForgeError, PullRequest, PullRequestState, RepositoryInfo};
use crate::store::{Checks, ReviewDecision};
use octocrab::models::pulls::{Review, ReviewState};
use octocrab::models::{CombinedStatus, StatusState, checks::ListCheckRuns};

fn unexpected(what: String, error: serde_json::Error) -> ForgeError {
    ForgeError::Failed {
        action: format!("read {what}"),
        message: format!("GitHub sent an unexpected answer: {error}"),
    }
}

/// A repository's facts for the pre-flight check.
pub(super) fn repository_info(
    repo: &RepoName,
    value: &Value,
) -> Result<RepositoryInfo, ForgeError> {
    let model: octocrab::models::Repository = serde_json::from_value(value.clone())
        .map_err(|error| unexpected(repo.to_string(), error))?;
    let missing = |field: &str| ForgeError::Failed {
        action: format!("read {repo}"),
        message: format!("GitHub's answer has no {field}"),
    };
    Ok(RepositoryInfo {
        clone_url: model
            .clone_url
            .map(|url| url.to_string())
            .ok_or_else(|| missing("clone_url"))?,
        default_branch: model
            .default_branch
            .ok_or_else(|| missing("default_branch"))?,
        archived: model.archived.unwrap_or(false),
    })
}

/// A pull request, without its comments.
pub(super) fn pull_request(repo: &RepoName, value: &Value) -> Result<PullRequest, ForgeError> {
    let model: octocrab::models::pulls::PullRequest = serde_json::from_value(value.clone())
        .map_err(|error| unexpected(format!("a pull request of {repo}"), error))?;
    let mut reviewers: Vec<String> = model
        .requested_reviewers
        .unwrap_or_default()
        .into_iter()
        .map(|user| user.login)
        .collect();
    reviewers.extend(
        model
            .requested_teams
            .unwrap_or_default()
            .into_iter()
            .map(|team| format!("{}/{}", repo.owner, team.slug)),
    );
    Ok(PullRequest {
        repo: repo.clone(),
        number: model.number,
        url: model
            .html_url
            .map(|url| url.to_string())
            .unwrap_or_default(),
        head: model.head.ref_field,
        base: model.base.ref_field,
        title: model.title.unwrap_or_default(),
        body: model.body.unwrap_or_default(),
        labels: model
            .labels
            .unwrap_or_default()
            .into_iter()
            .map(|label| label.name)
            .collect(),
        reviewers,
        draft: model.draft.unwrap_or(false),
        state: state(value),
        comments: Vec::new(),
    })
}

/// Open, closed or merged (`merged` is only in single pull requests;
/// `merged_at` is in lists too).
fn state(value: &Value) -> PullRequestState {
    if value["merged"].as_bool() == Some(true) || !value["merged_at"].is_null() {
        PullRequestState::Merged
    } else if value["state"].as_str() == Some("closed") {
        PullRequestState::Closed
    } else {
        PullRequestState::Open
    }
}

pub(super) fn comment(comment: octocrab::models::issues::Comment) -> Comment {
    Comment {
        author: comment.user.login,
        body: comment.body.unwrap_or_default(),
        created_at: comment.created_at.timestamp_millis(),
    }
}

/// The logins in a list of users.
pub(super) fn logins(users: &Value) -> Vec<String> {
    users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|user| user["login"].as_str().map(str::to_owned))
        .collect()
}

/// Check runs and commit statuses combined: any failure fails, anything
/// unfinished is pending, and nothing at all is `none`.
pub(super) fn checks(runs: &ListCheckRuns, combined: &CombinedStatus) -> Checks {
    let mut failed = false;
    let mut pending = false;
    for run in &runs.check_runs {
        match run.conclusion.as_deref() {
            None => pending = true,
            Some("success" | "neutral" | "skipped") => {}
            Some(_) => failed = true,
        }
    }
    if combined.total_count > 0 {
        match combined.state {
            StatusState::Failure | StatusState::Error => failed = true,
            StatusState::Pending => pending = true,
            _ => {}
        }
    }
    if failed {
        Checks::Failure
    } else if pending {
        Checks::Pending
    } else if runs.check_runs.is_empty() && combined.total_count == 0 {
        Checks::None
    } else {
        Checks::Success
    }
}

/// Each reviewer's latest approving or blocking review counts: any
/// request for changes blocks, else any approval approves.
pub(super) fn review_decision(reviews: &[Review]) -> ReviewDecision {
    let mut latest: std::collections::BTreeMap<String, ReviewState> = Default::default();
    for review in reviews {
        let (Some(user), Some(state)) = (&review.user, review.state) else {
            continue;
        };
        match state {
            ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed => {
                latest.insert(user.login.clone(), state);
            }
            _ => {}
        }
    }
    if latest
        .values()
        .any(|state| *state == ReviewState::ChangesRequested)
    {
        ReviewDecision::ChangesRequested
    } else if latest.values().any(|state| *state == ReviewState::Approved) {
        ReviewDecision::Approved
    } else {
        ReviewDecision::ReviewRequired
    }
}
