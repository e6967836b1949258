//! The fleet runner: every consumer repository taken from its default
//! branch to an open pull request, tracked in the state store.
//!
//! A run has two phases. [`prepare`] works on every repository in
//! parallel and changes nothing outside the workspace: the pre-flight check
//! (forge facts, `ls-remote`), the cached mirror, the checkout, the rewrite
//! and the commit object. [`publish`] then goes through the repositories in
//! order, one at a time, and does everything others can see: pushes, pull
//! requests, comments and the state store's records. So output and history
//! are deterministic, and a crash at any point leaves either nothing or a
//! state the next run recognizes: branches carry the trailer
//! `Fleetmod-Migration: <id>`, and pull requests are always looked up by
//! head branch before one is created.

pub mod body;
pub mod change;
pub mod consumers;
mod crash;
mod prepare;
mod publish;
pub mod reviewers;
pub mod sync;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

pub use self::consumers::{Consumer, ConsumerList};
use crate::catalog::{CatalogErrors, RepoName};
use crate::engine::Scanner;
use crate::forge::Forge;
use crate::git::CommitInfo;
use crate::progress::Reporter;
use crate::rule::Point;
use crate::spec::Spec;
use crate::store::{RepoRecord, RepoState, StateStore, StoreError};

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
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub repos: Vec<RepoResult>,
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
    // What happened to the pull requests since the last run comes first:
    // a merge or close there is final, and the records below must know it.
    if !options.dry_run {
        let only: Vec<RepoName> = selected
            .iter()
            .map(|consumer| consumer.repo.clone())
            .collect();
        sync::sync(fleet, store, &only, &crate::progress::Silent, interrupt)?;
    }
    let mut stored: HashMap<RepoName, RepoRecord> = store
        .records(&fleet.spec.id)?
        .into_iter()
        .map(|record| (record.repo.clone(), record))
        .collect();
    let previous: Vec<Option<RepoRecord>> = selected
        .iter()
        .map(|consumer| stored.remove(&consumer.repo))
        .collect();
    reporter.begin(2 * selected.len() as u64);
    let prepared: Vec<Option<prepare::Prepared>> = selected
        .par_iter()
        .zip(previous.par_iter())
        .map(|(consumer, previous)| {
            let prepared = (!interrupt.load(Ordering::Relaxed))
                .then(|| prepare::prepare(fleet, consumer, previous.as_ref(), options));
            reporter.advance(1);
            prepared
        })
        .collect();
    let mut report = RunReport::default();
    let crash = crash::CrashPoints::from_environment();
    for ((consumer, previous), prepared) in selected.into_iter().zip(previous).zip(prepared) {
        let result = match prepared {
            Some(prepared) if !interrupt.load(Ordering::Relaxed) => {
                let mut publisher = publish::Publisher {
                    fleet,
                    store: &mut *store,
                    crash: &crash,
                    dry_run: options.dry_run,
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
        report.repos.push(result);
    }
    reporter.end();
    Ok(report)
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
