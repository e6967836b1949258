//! The fleet runner: every consumer repository taken from its default
//! branch to an open pull request, tracked in the state store.
//!
//! A run first takes the migration's lease (one run at a time acts on a
//! migration), syncs the open pull requests, and takes the rollout's steps
//! ([`advance`]: automerge, promotion, drafts marked ready). Then the
//! repositories the rollout holds back (a wave not reached, a pause, the
//! schedule) are set aside without any work, and the rest go through two
//! phases; fleet-wide limits are checked in the second, before anything is
//! pushed.
//!
//! The two phases: [`prepare`] works on every repository in
//! parallel and changes nothing outside the workspace: the pre-flight check
//! (forge facts, `ls-remote`), the cached mirror, the checkout, the rewrite
//! and the commit object. [`publish`] then goes through the repositories in
//! order, one at a time, and does everything others can see: pushes, pull
//! requests, comments and the state store's records. So output and history
//! are deterministic, and a crash at any point leaves either nothing or a
//! state the next run recognizes: branches carry the trailer
//! `Fleetmod-Migration: <id>`, and pull requests are always looked up by
//! head branch before one is created.

pub mod advance;
pub mod automerge;
pub mod body;
pub mod change;
pub mod consumers;
mod crash;
pub mod limits;
mod prepare;
mod publish;
pub mod reviewers;
pub mod rollout;
pub mod sync;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use self::advance::{Advanced, Position};
use self::automerge::MergeResult;
pub use self::consumers::{Consumer, ConsumerList};
use self::limits::Budget;
use self::rollout::{Hold, Waves};
use crate::catalog::{CatalogErrors, RepoName};
use crate::engine::Scanner;
use crate::forge::Forge;
use crate::git::CommitInfo;
use crate::progress::Reporter;
use crate::rule::Point;
use crate::spec::Spec;
use crate::store::{LeaseError, RepoRecord, RepoState, StateStore, StoreError};

/// fleetmod's folder of caches and state: mirrors, checkouts, the state
/// store and (by default) the local forge.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn new(root: impl Into<PathBuf>) -> Workspace {
        Workspace { root: root.into() }
    }

    /// The state store file.
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.db")
    }

    /// The default local forge folder.
    pub fn forge_path(&self) -> PathBuf {
        self.root.join("forge")
    }

    /// The bare mirror of a repository on `host`.
    pub fn mirror_path(&self, host: &str, repo: &RepoName) -> PathBuf {
        self.root
            .join("mirrors")
            .join(host)
            .join(&repo.owner)
            .join(format!("{}.git", repo.name))
    }

    /// The checkout a migration rewrites a repository in.
    pub fn checkout_path(&self, migration: &str, repo: &RepoName) -> PathBuf {
        self.root
            .join("checkouts")
            .join(migration)
            .join(repo.as_path())
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Prepare every change but push, open and record nothing.
    pub dry_run: bool,
    /// Only these repositories (all consumers when empty).
    pub only: Vec<RepoName>,
    /// Retry failed repositories now rather than after their backoff.
    pub retry_failed: bool,
    /// Files larger than this are not rewritten.
    pub max_filesize: u64,
}

/// Everything a run works with.
pub struct Fleet<'a> {
    pub spec: &'a Spec,
    pub scanner: &'a Scanner<'a>,
    pub forge: &'a dyn Forge,
    pub workspace: &'a Workspace,
    /// Identifies the spec and its rules; a change of either redoes every
    /// repository.
    pub rules_hash: String,
}

/// What a run did with one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed since the last run; nothing was cloned or rewritten.
    UpToDate,
    /// Failed before and waiting for its backoff to end (Unix ms).
    Waiting { until: i64 },
    /// A person merged or closed the pull request; fleetmod is done.
    Finished(RepoState),
    /// The repository needs no change.
    NoChange,
    /// Needed no change any more: its pull request was closed.
    Withdrawn { number: u64 },
    /// A pull request was opened.
    Opened { number: u64 },
    /// The pull request was brought up to date (new base, rules or texts).
    Updated { number: u64 },
    /// A person's work is in the way; nothing was pushed.
    NeedsAttention { reason: String },
    /// A stage failed; retried on a later run.
    Failed { stage: String, error: String },
    /// Dry run: what a real run would push.
    WouldChange { files: usize, review_items: usize },
    /// The run was interrupted before this repository.
    Interrupted,
    /// The rollout holds it back: its wave, a limit, the schedule or a
    /// pause. Nothing was pushed or opened.
    HeldBack(Hold),
}

impl Outcome {
    /// A short label for counts and progress (`opened`, `held back`, …).
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::UpToDate => "up to date",
            Outcome::Waiting { .. } => "waiting to retry",
            Outcome::Finished(_) => "finished",
            Outcome::NoChange => "no change",
            Outcome::Withdrawn { .. } => "withdrawn",
            Outcome::Opened { .. } => "opened",
            Outcome::Updated { .. } => "updated",
            Outcome::NeedsAttention { .. } => "need attention",
            Outcome::Failed { .. } => "failed",
            Outcome::WouldChange { .. } => "would change",
            Outcome::Interrupted => "interrupted",
            Outcome::HeldBack(_) => "held back",
        }
    }
}

/// One repository's result.
#[derive(Clone, Debug)]
pub struct RepoResult {
    pub consumer: Consumer,
    pub outcome: Outcome,
    /// The record after the run (`None` in a dry run of a new repository).
    pub record: Option<RepoRecord>,
}

/// What a run did, sorted by repository.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub repos: Vec<RepoResult>,
    /// The rollout steps before the repositories: automerges, promotions,
    /// drafts marked ready.
    pub advanced: Advanced,
    /// Where the rollout stood for the repositories.
    pub position: Position,
}

impl RunReport {
    /// Whether the run changed anything anyone can see.
    pub fn made_progress(&self) -> bool {
        self.repos.iter().any(|result| {
            matches!(
                result.outcome,
                Outcome::Opened { .. } | Outcome::Updated { .. } | Outcome::Withdrawn { .. }
            )
        }) || self
            .advanced
            .merges
            .iter()
            .any(|merge| merge.result == MergeResult::Merged)
            || !self.advanced.promotions.is_empty()
            || self
                .advanced
                .marked_ready
                .iter()
                .any(|(_, result)| result.is_ok())
    }

    /// Whether a limit, the schedule or a pause held a repository back.
    pub fn held_by_limits(&self) -> bool {
        self.repos
            .iter()
            .any(|result| matches!(&result.outcome, Outcome::HeldBack(hold) if hold.is_limit()))
    }

    /// Whether a repository or a rollout step failed.
    pub fn has_failures(&self) -> bool {
        self.repos
            .iter()
            .any(|result| matches!(result.outcome, Outcome::Failed { .. }))
            || self
                .advanced
                .merges
                .iter()
                .any(|merge| matches!(merge.result, MergeResult::Failed(_)))
            || self
                .advanced
                .marked_ready
                .iter()
                .any(|(_, result)| result.is_err())
    }
}

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{0}")]
    Catalog(CatalogErrors),
    #[error(
        "{}:{point}: the spec names no consumers: add `consumers:` with `catalog` and `resource`, or `repos`",
        path.display()
    )]
    NoConsumers { path: PathBuf, point: Point },
    #[error("--only {repo}: not a consumer of this migration")]
    UnknownRepo { repo: RepoName },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error(
        "another run took over migration {migration} while this one stalled; stopped before {repo}"
    )]
    LeaseLost { migration: String, repo: RepoName },
}

/// Runs the migration over `consumers`.
pub fn run(
    fleet: &Fleet<'_>,
    store: &mut dyn StateStore,
    consumers: &ConsumerList,
    options: &RunOptions,
    reporter: &dyn Reporter,
    interrupt: &AtomicBool,
) -> Result<RunReport, FleetError> {
    for repo in &options.only {
        if !consumers
            .consumers
            .iter()
            .any(|consumer| &consumer.repo == repo)
        {
            return Err(FleetError::UnknownRepo { repo: repo.clone() });
        }
    }
    let selected: Vec<&Consumer> = consumers
        .consumers
        .iter()
        .filter(|consumer| options.only.is_empty() || options.only.contains(&consumer.repo))
        .collect();
    let selected_repos: Vec<RepoName> = selected
        .iter()
        .map(|consumer| consumer.repo.clone())
        .collect();
    let id = &fleet.spec.id;
    // One run at a time acts on a migration's repositories.
    let lease = if options.dry_run {
        None
    } else {
        Some(store.lease(id)?)
    };
    // What happened to the pull requests since the last run comes first:
    // a merge or close there is final, and the records below must know it.
    if !options.dry_run {
        sync::sync(
            fleet,
            store,
            &selected_repos,
            &crate::progress::Silent,
            interrupt,
        )?;
    }
    let mut stored: HashMap<RepoName, RepoRecord> = store
        .records(id)?
        .into_iter()
        .map(|record| (record.repo.clone(), record))
        .collect();
    let everyone: Vec<RepoName> = consumers
        .consumers
        .iter()
        .map(|consumer| consumer.repo.clone())
        .collect();
    let waves = rollout::assign(&fleet.spec.rollout, id, &everyone);
    let (position, advanced) = if options.dry_run {
        (advance::read_position(fleet, store)?, Advanced::default())
    } else {
        advance::advance(fleet, store, &mut stored, &selected_repos, &waves)?
    };
    let now = store.now_ms();
    let budget = Budget::new(
        &fleet.spec.rollout.limits,
        stored.values(),
        store.openings_since(id, now - limits::HOUR_MS)?,
    );
    let previous: Vec<Option<RepoRecord>> = selected
        .iter()
        .map(|consumer| stored.remove(&consumer.repo))
        .collect();
    reporter.begin(2 * selected.len() as u64);
    let prepared: Vec<Option<prepare::Prepared>> = selected
        .par_iter()
        .zip(previous.par_iter())
        .map(|(consumer, previous)| {
            let prepared =
                (!interrupt.load(Ordering::Relaxed)).then(|| {
                    match hold_before_prepare(fleet, &waves, &position, consumer, previous.as_ref())
                    {
                        Some(hold) => prepare::Prepared::Skip(Outcome::HeldBack(hold)),
                        None => prepare::prepare(fleet, consumer, previous.as_ref(), options, now),
                    }
                });
            reporter.advance(1);
            prepared
        })
        .collect();
    let mut report = RunReport {
        repos: Vec::new(),
        advanced,
        position,
    };
    let crash = crash::CrashPoints::from_environment();
    let mut steering = publish::Steering {
        budget,
        drafting: report.position.drafting,
    };
    for ((consumer, previous), prepared) in selected.into_iter().zip(previous).zip(prepared) {
        if lease.as_ref().is_some_and(|lease| lease.is_lost()) {
            return Err(FleetError::LeaseLost {
                migration: id.clone(),
                repo: consumer.repo.clone(),
            });
        }
        let result = match prepared {
            Some(prepared) if !interrupt.load(Ordering::Relaxed) => {
                let mut publisher = publish::Publisher {
                    fleet,
                    store: &mut *store,
                    crash: &crash,
                    dry_run: options.dry_run,
                    steering: &mut steering,
                };
                publisher.publish(consumer, previous, prepared)?
            }
            _ => RepoResult {
                consumer: consumer.clone(),
                outcome: Outcome::Interrupted,
                record: previous,
            },
        };
        reporter.advance(1);
        reporter.finished(result.outcome.label());
        report.repos.push(result);
    }
    reporter.end();
    if !options.dry_run {
        let held: Vec<(RepoName, Option<String>)> = report
            .repos
            .iter()
            .filter(|result| !matches!(result.outcome, Outcome::Interrupted))
            .map(|result| {
                let reason = match &result.outcome {
                    Outcome::HeldBack(hold) => Some(hold.to_string()),
                    _ => None,
                };
                (result.consumer.repo.clone(), reason)
            })
            .collect();
        store.set_held(id, &held)?;
    }
    drop(lease);
    Ok(report)
}

/// What holds a repository back before any work on it: a pause or the
/// schedule hold everything; a wave not reached yet holds repositories
/// without a pull request (open ones are kept up to date).
fn hold_before_prepare(
    fleet: &Fleet<'_>,
    waves: &Waves,
    position: &Position,
    consumer: &Consumer,
    previous: Option<&RepoRecord>,
) -> Option<Hold> {
    if previous.is_some_and(|record| record.state.is_final()) {
        return None;
    }
    if let Some(hold) = position.hold_all() {
        return Some(hold);
    }
    if previous.is_some_and(limits::counts_as_open) {
        return None;
    }
    match waves.wave_of(&consumer.repo) {
        None => Some(Hold::NoWave),
        Some(wave) if wave > position.wave => Some(Hold::Wave {
            wave: fleet.spec.rollout.waves[wave].name.clone(),
        }),
        Some(_) => None,
    }
}

/// Identifies a spec and its rule files (and this build of fleetmod): the
/// git blob id of their texts.
pub fn rules_hash(spec: &Spec) -> String {
    let mut text = format!("fleetmod {}\n", env!("CARGO_PKG_VERSION"));
    // Contents only: the same spec reached by another path is the same.
    for path in std::iter::once(&spec.path).chain(&spec.rule_files) {
        text.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        text.push('\n');
    }
    git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map_or_else(|_| String::new(), |id| id.to_string())
}

/// Where a repository's mirror lives, for a forge.
fn mirror_path(fleet: &Fleet<'_>, repo: &RepoName) -> PathBuf {
    fleet.workspace.mirror_path(fleet.forge.host(), repo)
}

/// Whether fleetmod made `commit` for this migration: it carries the
/// trailer and the configured author.
pub(crate) fn is_ours(fleet: &Fleet<'_>, commit: &CommitInfo) -> bool {
    let settings = &fleet.spec.commit;
    commit.is_fleetmod(&fleet.spec.id)
        && commit.author == format!("{} <{}>", settings.author_name, settings.author_email)
}
