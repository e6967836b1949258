//! Where each repository of a migration stands, and how it got there.
//!
//! Every repository has one [`RepoRecord`] per migration, moved through a
//! state machine (`pending → cloned → no-change | changed → pushed →
//! pr-open → merged | closed`, plus `failed` and `needs-attention`). Every
//! save appends an [`Event`] in the same transaction, so history is never
//! lost and a crash leaves either both or neither. Beside the records the
//! store keeps the rollout ([`rollout`]: the wave reached, pauses, their
//! events, pull request openings for hourly limits, what is held back),
//! the per-migration [`lease`] and the GitHub rate ledger ([`rate`]). The
//! store is a trait so
//! a shared, server-backed store can replace the embedded SQLite one
//! ([`SqliteStore`]) for runs on several machines.

pub mod lease;
pub mod rate;
pub mod rollout;
pub mod runs;
pub(crate) mod sqlite;
pub mod time;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use self::lease::{Lease, LeaseError};
pub use self::rate::RateLedger;
pub use self::rollout::{Held, RolloutAction, RolloutChange, RolloutEvent, RolloutState};
pub use self::runs::{RunLog, RunRecord};
pub use self::sqlite::SqliteStore;
use crate::catalog::RepoName;

/// A repository's state in a migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepoState {
    Pending,
    Cloned,
    NoChange,
    Changed,
    Pushed,
    PrOpen,
    Merged,
    Closed,
    Failed,
    NeedsAttention,
}

impl RepoState {
    pub const ALL: [RepoState; 10] = [
        RepoState::Pending,
        RepoState::Cloned,
        RepoState::NoChange,
        RepoState::Changed,
        RepoState::Pushed,
        RepoState::PrOpen,
        RepoState::Merged,
        RepoState::Closed,
        RepoState::Failed,
        RepoState::NeedsAttention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RepoState::Pending => "pending",
            RepoState::Cloned => "cloned",
            RepoState::NoChange => "no-change",
            RepoState::Changed => "changed",
            RepoState::Pushed => "pushed",
            RepoState::PrOpen => "pr-open",
            RepoState::Merged => "merged",
            RepoState::Closed => "closed",
            RepoState::Failed => "failed",
            RepoState::NeedsAttention => "needs-attention",
        }
    }

    /// Whether fleetmod is done with the repository: a person merged or
    /// closed its pull request.
    pub fn is_final(self) -> bool {
        matches!(self, RepoState::Merged | RepoState::Closed)
    }
}

impl fmt::Display for RepoState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for RepoState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RepoState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a repository state"))
    }
}

/// What the store knows about one repository in one migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepoRecord {
    pub migration: String,
    #[serde(serialize_with = "as_string")]
    pub repo: RepoName,
    pub state: RepoState,
    pub owners: Vec<String>,
    pub default_branch: Option<String>,
    /// The default branch's sha the change was made from.
    pub base_sha: Option<String>,
    /// Identifies the spec and rules the change was made with.
    pub rules_hash: Option<String>,
    /// The sha fleetmod last pushed to the pull request branch.
    pub pushed_sha: Option<String>,
    /// The pull request branch's head when fleetmod last looked.
    pub branch_head: Option<String>,
    pub pull_request: Option<u64>,
    pub pull_request_url: Option<String>,
    pub files_changed: u32,
    pub review_items: u32,
    /// For `failed`: the stage that failed.
    pub failed_stage: Option<String>,
    /// For `failed` and `needs-attention`: why.
    pub last_error: Option<String>,
    /// Consecutive failures; reset by a success.
    pub attempts: u32,
    /// Unix milliseconds before which a failed repository is not retried.
    pub retry_after: Option<i64>,
    /// From the last sync: whether the pull request merges cleanly
    /// (`None`: unknown yet).
    pub mergeable: Option<bool>,
    /// From the last sync: the head's combined checks.
    pub checks: Option<Checks>,
    /// From the last sync: the review decision.
    pub review: Option<ReviewDecision>,
    /// Whether the pull request is a draft.
    pub draft: bool,
    /// Where a reviewer must look (`review_items` of them), sorted by path
    /// and line.
    pub review_locations: Vec<ReviewItem>,
    /// Unix milliseconds of the last save.
    pub updated_at: i64,
}

/// A place a reviewer must look at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReviewItem {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The combined result of a commit's check runs and commit statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checks {
    /// No check runs and no statuses.
    None,
    Pending,
    Success,
    Failure,
}

/// Where a pull request's reviews stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewDecision {
    /// No approving or blocking review yet.
    ReviewRequired,
    Approved,
    ChangesRequested,
}

/// Names for enums stored as text.
macro_rules! text_enum {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $type {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($type::$variant),)+
                    _ => Err(format!("`{text}` is not a {}", stringify!($type))),
                }
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(Checks {
    None => "none",
    Pending => "pending",
    Success => "success",
    Failure => "failure",
});

text_enum!(ReviewDecision {
    ReviewRequired => "review-required",
    Approved => "approved",
    ChangesRequested => "changes-requested",
});

fn as_string<S: serde::Serializer>(repo: &RepoName, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(repo)
}

impl RepoRecord {
    /// A fresh record in state `pending`.
    pub fn new(migration: &str, repo: RepoName, owners: Vec<String>) -> RepoRecord {
        RepoRecord {
            migration: migration.to_owned(),
            repo,
            state: RepoState::Pending,
            owners,
            default_branch: None,
            base_sha: None,
            rules_hash: None,
            pushed_sha: None,
            branch_head: None,
            pull_request: None,
            pull_request_url: None,
            files_changed: 0,
            review_items: 0,
            failed_stage: None,
            last_error: None,
            attempts: 0,
            retry_after: None,
            mergeable: None,
            checks: None,
            review: None,
            draft: false,
            review_locations: Vec::new(),
            updated_at: 0,
        }
    }
}

/// One recorded transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub migration: String,
    pub repo: String,
    /// Unix milliseconds.
    pub at: i64,
    pub from: Option<RepoState>,
    pub to: RepoState,
    pub detail: String,
}

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to {action} in the state store {path}: {source}")]
    Sqlite {
        action: String,
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the state store {path} is from a newer fleetmod (schema {found}, this build knows {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("the state store {path} holds an invalid value: {message}")]
    Corrupt { path: String, message: String },
}

/// A state store: records and their history.
pub trait StateStore: Send {
    /// Every record of a migration, sorted by repository.
    fn records(&self, migration: &str) -> Result<Vec<RepoRecord>, StoreError>;
    /// One repository's record.
    fn record(&self, migration: &str, repo: &RepoName) -> Result<Option<RepoRecord>, StoreError>;
    /// Saves `record` (stamping `updated_at`) and appends the event from the
    /// stored state to the new one, atomically.
    fn save(&mut self, record: &mut RepoRecord, detail: &str) -> Result<(), StoreError>;
    /// Updates what a sync learns about a pull request (mergeable, checks,
    /// review) without a state change, so without an event.
    fn update_facts(&mut self, record: &RepoRecord) -> Result<(), StoreError>;
    /// A migration's events, oldest first.
    fn events(&self, migration: &str) -> Result<Vec<Event>, StoreError>;
    /// Now, by the store's clock (Unix milliseconds).
    fn now_ms(&self) -> i64;
    /// Takes the migration's lease: no other process acts on its
    /// repositories while it is held.
    fn lease(&self, migration: &str) -> Result<Lease, LeaseError>;
    /// The migration's rollout (`None` before its first run).
    fn rollout(&self, migration: &str) -> Result<Option<RolloutState>, StoreError>;
    /// Applies a rollout change with its event, atomically; `false` when it
    /// did not apply (already started, promoted from elsewhere, already
    /// paused).
    fn change_rollout(
        &mut self,
        migration: &str,
        change: RolloutChange,
        detail: &str,
    ) -> Result<bool, StoreError>;
    /// The migration's rollout events, oldest first.
    fn rollout_events(&self, migration: &str) -> Result<Vec<RolloutEvent>, StoreError>;
    /// Records that a pull request is about to be opened (before it is, so
    /// a crash can only over-count).
    fn record_opening(&mut self, migration: &str, repo: &RepoName) -> Result<(), StoreError>;
    /// When pull requests were opened since `since`, oldest first.
    fn openings_since(&self, migration: &str, since: i64) -> Result<Vec<i64>, StoreError>;
    /// Records (`Some`) or clears (`None`) what holds each repository back.
    fn set_held(
        &mut self,
        migration: &str,
        repos: &[(RepoName, Option<String>)],
    ) -> Result<(), StoreError>;
    /// What holds repositories back, sorted by repository.
    fn held(&self, migration: &str) -> Result<Vec<Held>, StoreError>;
}
