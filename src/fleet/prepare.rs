//! Phase one of a run, for one repository and in parallel with the others:
//! pre-flight, mirror, checkout, rewrite and commit. Nothing outside the
//! workspace changes here.

use git2::Oid;

use super::body::{self, Texts};
use super::change::{self, RepoChange};
use super::publish::closed_by_fleetmod;
use super::{Consumer, Fleet, Outcome, RunOptions, is_ours, mirror_path, reviewers};
use crate::forge::{PullRequest, PullRequestState};
use crate::git::{self, CommitInfo, Mirror};
use crate::store::{RepoRecord, RepoState};

/// What phase one found.
pub(super) enum Prepared {
    /// Nothing to do or record.
    Skip(Outcome),
    /// A person merged or closed fleetmod's pull request.
    Finished { state: RepoState, number: u64 },
    /// A stage failed.
    Failed { stage: &'static str, error: String },
    /// Ready to publish.
    Ready(Box<Ready>),
}

/// A repository ready for phase two.
pub(super) struct Ready {
    pub(super) clone_url: String,
    pub(super) default_branch: String,
    pub(super) base: Oid,
    /// The pull request branch's head on the remote.
    pub(super) branch_head: Option<Oid>,
    /// That head's commit, when there is one.
    pub(super) head_commit: Option<CommitInfo>,
    /// The open pull request for the branch, if any.
    pub(super) pull: Option<PullRequest>,
    /// The change, when the repository needs one.
    pub(super) change: Option<Change>,
}

/// A change ready to push.
pub(super) struct Change {
    pub(super) change: RepoChange,
    pub(super) texts: Texts,
    /// The commit to push (possibly the branch's current head).
    pub(super) commit: Oid,
    /// Who is asked to review.
    pub(super) reviewers: Vec<String>,
}

fn failed(stage: &'static str) -> impl FnOnce(String) -> Prepared {
    move |error| Prepared::Failed { stage, error }
}

/// Prepares one repository; `now` (Unix milliseconds) decides whether a
/// failed repository's backoff is over.
pub(super) fn prepare(
    fleet: &Fleet<'_>,
    consumer: &Consumer,
    previous: Option<&RepoRecord>,
    options: &RunOptions,
    now: i64,
) -> Prepared {
    match prepare_stages(fleet, consumer, previous, options, now) {
        Ok(prepared) | Err(prepared) => prepared,
    }
}

fn prepare_stages(
    fleet: &Fleet<'_>,
    consumer: &Consumer,
    previous: Option<&RepoRecord>,
    options: &RunOptions,
    now: i64,
) -> Result<Prepared, Prepared> {
    let repo = &consumer.repo;
    let branch = &fleet.spec.pull_request.branch;
    if let Some(previous) = previous {
        if previous.state.is_final() {
            return Ok(Prepared::Skip(Outcome::Finished(previous.state)));
        }
        if let (RepoState::Failed, Some(until)) = (previous.state, previous.retry_after)
            && until > now
            && !options.retry_failed
        {
            return Ok(Prepared::Skip(Outcome::Waiting { until }));
        }
    }

    // Pre-flight: the forge knows the repository, it is not archived, the
    // remote answers and its default branch resolves.
    let info = fleet
        .forge
        .repository(repo)
        .map_err(|error| error.to_string())
        .map_err(failed("preflight"))?;
    if info.archived {
        return Err(failed("preflight")("the repository is archived".to_owned()));
    }
    let heads = git::remote_heads(&info.clone_url, fleet.forge.git_credentials())
        .map_err(|error| error.to_string())
        .map_err(failed("preflight"))?;
    let Some(&base) = heads.branches.get(&info.default_branch) else {
        return Err(failed("preflight")(format!(
            "the default branch {} does not exist",
            info.default_branch
        )));
    };
    let branch_head = heads.branches.get(branch).copied();

    let pull = fleet
        .forge
        .find_pull_request(repo, branch)
        .map_err(|error| error.to_string())
        .map_err(failed("pull-request"))?;
    // A person's decision on fleetmod's pull request is final. (fleetmod
    // comments before it closes one itself, so its own closes are known.)
    if let Some(pull) = &pull {
        let state = match pull.state {
            PullRequestState::Merged => Some(RepoState::Merged),
            PullRequestState::Closed if !closed_by_fleetmod(pull) => Some(RepoState::Closed),
            _ => None,
        };
        if let Some(state) = state {
            return Ok(Prepared::Finished {
                state,
                number: pull.number,
            });
        }
    }
    let pull = pull.filter(|pull| pull.state == PullRequestState::Open);
    if let Some(previous) = previous
        && is_up_to_date(fleet, previous, base, branch_head, pull.as_ref())
    {
        return Ok(Prepared::Skip(Outcome::UpToDate));
    }

    let mirror = Mirror::open_or_create(&mirror_path(fleet, repo))
        .map_err(|error| error.to_string())
        .map_err(failed("mirror"))?;
    let lacks = |commit: Option<Oid>| commit.is_some_and(|commit| !mirror.has_commit(commit));
    if lacks(Some(base)) || lacks(branch_head) {
        mirror
            .fetch(&info.clone_url, fleet.forge.git_credentials())
            .map_err(|error| error.to_string())
            .map_err(failed("mirror"))?;
    }
    let head_commit = branch_head
        .map(|head| mirror.commit_info(head))
        .transpose()
        .map_err(|error| error.to_string())
        .map_err(failed("mirror"))?;

    let checkout = fleet.workspace.checkout_path(&fleet.spec.id, repo);
    mirror
        .checkout(base, &checkout)
        .map_err(|error| error.to_string())
        .map_err(failed("checkout"))?;
    let repo_change = change::rewrite_checkout(fleet.scanner, &checkout, options.max_filesize);
    let reviewers = repo_change.as_ref().map_or_else(
        |_| Vec::new(),
        |repo_change| {
            let changed: Vec<&str> = repo_change
                .files
                .iter()
                .map(|file| file.path.as_str())
                .collect();
            reviewers::for_change(
                &fleet.spec.forge.reviewers,
                &consumer.reviewers,
                &checkout,
                &changed,
            )
        },
    );
    // The change is in memory now; a fleet's checkouts would only fill the disk.
    let _ = std::fs::remove_dir_all(&checkout);
    let repo_change = repo_change
        .map_err(|error| error.to_string())
        .map_err(failed("rewrite"))?;
    let mut ready = Ready {
        clone_url: info.clone_url,
        default_branch: info.default_branch,
        base,
        branch_head,
        head_commit,
        pull,
        change: None,
    };
    if repo_change.files.is_empty() {
        return Ok(Prepared::Ready(Box::new(ready)));
    }
    let texts = body::render(fleet.spec, consumer, &repo_change);
    let files: Vec<(String, Vec<u8>)> = repo_change
        .files
        .iter()
        .map(|file| (file.path.clone(), file.contents.clone().into_bytes()))
        .collect();
    let commit_settings = &fleet.spec.commit;
    let mut commit = mirror
        .commit_files(
            base,
            &files,
            (&commit_settings.author_name, &commit_settings.author_email),
            &texts.commit_message,
        )
        .map_err(|error| error.to_string())
        .map_err(failed("commit"))?;
    // The branch already holds this very change (a rerun, or a crash after
    // the push): keep its commit, so nothing is pushed again.
    if let Some(head) = &ready.head_commit
        && is_ours(fleet, head)
        && head.parents == [base]
        && mirror
            .commit_info(commit)
            .is_ok_and(|new| new.tree == head.tree && new.message == head.message)
    {
        commit = head.id;
    }
    ready.change = Some(Change {
        change: repo_change,
        texts,
        commit,
        reviewers,
    });
    Ok(Prepared::Ready(Box::new(ready)))
}

/// Whether the last run already did everything: same base, same rules,
/// the branch untouched, and the pull request (if any) as recorded.
fn is_up_to_date(
    fleet: &Fleet<'_>,
    previous: &RepoRecord,
    base: Oid,
    branch_head: Option<Oid>,
    pull: Option<&PullRequest>,
) -> bool {
    let same = previous.base_sha.as_deref() == Some(base.to_string().as_str())
        && previous.rules_hash.as_deref() == Some(fleet.rules_hash.as_str())
        && previous.branch_head == branch_head.map(|head| head.to_string());
    same && match previous.state {
        RepoState::NoChange => pull.is_none() && branch_head.is_none(),
        RepoState::PrOpen => pull.map(|pull| pull.number) == previous.pull_request,
        RepoState::NeedsAttention => true,
        _ => false,
    }
}
