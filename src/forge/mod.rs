//! Forges: where repositories live and pull requests are reviewed.
//!
//! The fleet runner talks to a forge only through the [`Forge`] trait:
//! repository facts for the pre-flight check, and pull requests looked up by
//! head branch (so a rerun after a crash finds the one it opened), created,
//! updated, commented on and closed. Branches themselves are pushed with git
//! to the repository's clone URL, with the credentials the forge hands out.
//! [`local::LocalForge`] is the embedded forge: bare repositories and a
//! SQLite file of pull requests. [`github::GitHubForge`] is GitHub.com or
//! GitHub Enterprise through octocrab, paced by a rate governor.

pub mod github;
pub mod local;

use serde::Serialize;

use crate::catalog::RepoName;
use crate::git::Credentials;
use crate::spec::MergeMethod;
use crate::store::{Checks, ReviewDecision};

/// What the pre-flight check needs to know about a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryInfo {
    /// Where git fetches and pushes.
    pub clone_url: String,
    pub default_branch: String,
    pub archived: bool,
}

/// A pull request's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullRequestState {
    Open,
    Closed,
    Merged,
}

impl PullRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            PullRequestState::Open => "open",
            PullRequestState::Closed => "closed",
            PullRequestState::Merged => "merged",
        }
    }
}

/// A comment on a pull request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub author: String,
    pub body: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A pull request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    #[serde(serialize_with = "repo_as_string")]
    pub repo: RepoName,
    pub number: u64,
    pub url: String,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub draft: bool,
    pub state: PullRequestState,
    pub comments: Vec<Comment>,
}

fn repo_as_string<S: serde::Serializer>(repo: &RepoName, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(repo)
}

/// What a sync learns about a pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequestStatus {
    pub state: PullRequestState,
    /// Whether it merges cleanly (`None`: the forge has not decided yet).
    pub mergeable: Option<bool>,
    /// The head's check runs and commit statuses, combined.
    pub checks: Checks,
    pub review: ReviewDecision,
    pub draft: bool,
    /// The head branch's commit.
    pub head_sha: Option<String>,
}

/// What a new pull request holds.
#[derive(Clone, Debug)]
pub struct NewPullRequest<'a> {
    pub head: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub labels: &'a [String],
    /// Users (`login`) and teams (`org/slug`).
    pub reviewers: &'a [String],
    pub assignees: &'a [String],
    pub draft: bool,
}

/// A failed forge operation.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("repository {repo} does not exist on the forge")]
    NoRepository { repo: RepoName },
    #[error("{repo} has no pull request #{number}")]
    NoPullRequest { repo: RepoName, number: u64 },
    #[error("failed to {action}: {message}")]
    Failed { action: String, message: String },
}

/// A forge the fleet runner can use.
pub trait Forge: Send + Sync {
    /// A short name of the forge's host, used in mirror paths (`local`).
    fn host(&self) -> &str;
    /// Facts about a repository, for the pre-flight check.
    fn repository(&self, repo: &RepoName) -> Result<RepositoryInfo, ForgeError>;
    /// The most recent pull request whose head is `head`, in any state.
    fn find_pull_request(
        &self,
        repo: &RepoName,
        head: &str,
    ) -> Result<Option<PullRequest>, ForgeError>;
    /// One pull request.
    fn pull_request(&self, repo: &RepoName, number: u64) -> Result<PullRequest, ForgeError>;
    /// Opens a pull request.
    fn create_pull_request(
        &self,
        repo: &RepoName,
        request: &NewPullRequest<'_>,
    ) -> Result<PullRequest, ForgeError>;
    /// Replaces a pull request's title, body and labels.
    fn update_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<(), ForgeError>;
    /// Adds a comment.
    fn comment(&self, repo: &RepoName, number: u64, body: &str) -> Result<(), ForgeError>;
    /// Closes a pull request without merging it.
    fn close_pull_request(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError>;
    /// Marks a draft pull request ready for review.
    fn mark_ready(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError>;
    /// Merges a pull request, provided its head is still `expected_head`
    /// (the forge checks this atomically with the merge).
    fn merge(
        &self,
        repo: &RepoName,
        number: u64,
        method: MergeMethod,
        expected_head: &str,
    ) -> Result<(), ForgeError>;
    /// A pull request's state, mergeability, checks and reviews.
    fn status(&self, repo: &RepoName, number: u64) -> Result<PullRequestStatus, ForgeError>;
    /// What git needs to fetch from and push to the clone URLs.
    fn git_credentials(&self) -> Option<&Credentials> {
        None
    }
}
