//! Phase two of a run, one repository at a time and in order: push, open or
//! update the pull request, close what is no longer needed, and record
//! every step. Each record is saved before the side effect it announces
//! only when a rerun could not otherwise tell what happened; everything
//! else is found again on the remote (branch heads carry fleetmod's
//! trailer) or on the forge (pull requests by head branch).

use git2::Oid;

use super::crash::CrashPoints;
use super::limits::Budget;
use super::prepare::{Prepared, Ready};
use super::{Consumer, Fleet, FleetError, Outcome, RepoResult, is_ours};
use crate::catalog::RepoName;
use crate::forge::{NewPullRequest, PullRequest};
use crate::git::{self, Mirror};
use crate::store::{RepoRecord, RepoState, StateStore};

/// The first retry waits this long; each further failure doubles it.
const FIRST_BACKOFF_MS: i64 = 5 * 60 * 1000;
/// The longest wait between retries.
const MAX_BACKOFF_MS: i64 = 12 * 60 * 60 * 1000;

pub(super) struct Publisher<'a, 'f> {
    pub(super) fleet: &'a Fleet<'f>,
    pub(super) store: &'a mut dyn StateStore,
    pub(super) crash: &'a CrashPoints,
    pub(super) dry_run: bool,
    pub(super) steering: &'a mut Steering,
}

/// What the rollout decides for new pull requests during a run.
pub(super) struct Steering {
    /// The fleet-wide limits left.
    pub(super) budget: Budget,
    /// Whether new pull requests open as drafts (an early wave).
    pub(super) drafting: bool,
}

/// How long to wait before retry number `attempts` (1-based).
pub(super) fn backoff(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(20);
    (FIRST_BACKOFF_MS << doublings).min(MAX_BACKOFF_MS)
}

impl Publisher<'_, '_> {
    /// Whether pull requests are drafts now: always (`pull_request.draft`)
    /// or until `draft_until_wave` is reached.
    fn draft(&self) -> bool {
        self.fleet.spec.pull_request.draft || self.steering.drafting
    }

    fn save(&mut self, record: &mut RepoRecord, detail: &str) -> Result<(), FleetError> {
        self.store.save(record, detail)?;
        self.crash.pass("event");
        Ok(())
    }

    pub(super) fn publish(
        &mut self,
        consumer: &Consumer,
        previous: Option<RepoRecord>,
        prepared: Prepared,
    ) -> Result<RepoResult, FleetError> {
        let mut record = previous.clone().unwrap_or_else(|| {
            RepoRecord::new(&self.fleet.spec.id, consumer.repo.clone(), Vec::new())
        });
        record.owners = consumer.owners.clone();
        let outcome = match prepared {
            Prepared::Skip(outcome) => {
                // The catalog may have new owners for a repository that is
                // otherwise up to date.
                let owners_changed = previous
                    .as_ref()
                    .is_some_and(|previous| previous.owners != record.owners);
                if owners_changed && !self.dry_run {
                    let detail = format!("owners are now {}", record.owners.join(", "));
                    self.save(&mut record, &detail)?;
                }
                outcome
            }
            Prepared::Finished { state, number } => {
                if !self.dry_run {
                    record.state = state;
                    let detail = format!("pull request #{number} was {state} by a person");
                    self.save(&mut record, &detail)?;
                }
                Outcome::Finished(state)
            }
            Prepared::Failed { stage, error } => self.fail(&mut record, stage, error)?,
            Prepared::Ready(ready) => self.publish_ready(consumer, &mut record, *ready)?,
        };
        let saved = previous.is_some()
            || !self.dry_run && !matches!(outcome, Outcome::Interrupted | Outcome::HeldBack(_));
        Ok(RepoResult {
            consumer: consumer.clone(),
            outcome,
            record: saved.then_some(record),
        })
    }

    fn fail(
        &mut self,
        record: &mut RepoRecord,
        stage: &str,
        error: String,
    ) -> Result<Outcome, FleetError> {
        if !self.dry_run {
            record.state = RepoState::Failed;
            record.attempts += 1;
            record.retry_after = Some(self.store.now_ms() + backoff(record.attempts));
            record.failed_stage = Some(stage.to_owned());
            record.last_error = Some(error.clone());
            let detail = format!("{stage} failed (attempt {}): {error}", record.attempts);
            self.save(record, &detail)?;
        }
        Ok(Outcome::Failed {
            stage: stage.to_owned(),
            error,
        })
    }

    fn publish_ready(
        &mut self,
        consumer: &Consumer,
        record: &mut RepoRecord,
        ready: Ready,
    ) -> Result<Outcome, FleetError> {
        let fleet = self.fleet;
        let branch = &fleet.spec.pull_request.branch;
        record.default_branch = Some(ready.default_branch.clone());
        record.base_sha = Some(ready.base.to_string());
        record.rules_hash = Some(fleet.rules_hash.clone());
        record.branch_head = ready.branch_head.map(|head| head.to_string());
        if let Some(pull) = &ready.pull {
            record.pull_request = Some(pull.number);
            record.pull_request_url = Some(pull.url.clone());
        }

        // Never clobber a person's work: a branch head fleetmod did not make.
        if let Some(head) = &ready.head_commit
            && record.pushed_sha.as_deref() != Some(head.id.to_string().as_str())
            && !is_ours(fleet, head)
        {
            let reason = format!(
                "branch {branch} has commit {} by {} that fleetmod did not make; fleetmod leaves the branch alone (merge or close the pull request, or delete the branch, to hand it back)",
                git::short(Some(head.id)),
                head.author
            );
            if self.dry_run {
                return Ok(Outcome::NeedsAttention { reason });
            }
            // Comment first, once per head: a crash before the save makes
            // the next run look again, and finds the comment there.
            let short = git::short(Some(head.id));
            if let Some(pull) = &ready.pull
                && !pull.comments.iter().any(|comment| {
                    comment.body.starts_with(ATTENTION_PREFIX) && comment.body.contains(&short)
                })
            {
                let comment = format!("{ATTENTION_PREFIX}: {reason}.");
                if let Err(error) = fleet.forge.comment(&consumer.repo, pull.number, &comment) {
                    return self.fail(record, "pull-request", error.to_string());
                }
            }
            succeeded(record);
            record.state = RepoState::NeedsAttention;
            record.last_error = Some(reason.clone());
            self.save(record, &reason)?;
            return Ok(Outcome::NeedsAttention { reason });
        }

        let Some(change) = &ready.change else {
            return self.publish_no_change(consumer, record, &ready);
        };
        record.files_changed = change.change.files.len() as u32;
        record.review_items = change.change.review.len() as u32;
        record.review_locations = change.change.review.clone();
        if self.dry_run {
            return Ok(Outcome::WouldChange {
                files: change.change.files.len(),
                review_items: change.change.review.len(),
            });
        }
        // A new pull request must fit the fleet-wide limits. The opening is
        // recorded before anything is pushed; a branch pushed by a run that
        // crashed was counted then.
        if ready.pull.is_none() && record.state != RepoState::Pushed {
            let now = self.store.now_ms();
            if let Err(hold) = self.steering.budget.check(&consumer.owners, now) {
                return Ok(Outcome::HeldBack(hold));
            }
            self.store.record_opening(&fleet.spec.id, &consumer.repo)?;
            self.steering.budget.take(&consumer.owners, now);
        }
        record.state = RepoState::Cloned;
        let detail = format!(
            "checked out {} at {}",
            ready.default_branch,
            git::short(Some(ready.base))
        );
        self.save(record, &detail)?;
        record.state = RepoState::Changed;
        let detail = format!(
            "{} file(s) changed, {} review item(s)",
            record.files_changed, record.review_items
        );
        self.save(record, &detail)?;

        let pushed = ready.branch_head != Some(change.commit);
        if pushed {
            if let Err(error) = self.push(&consumer.repo, &ready, Some(change.commit)) {
                return self.fail(record, "push", error);
            }
            self.crash.pass("push");
            record.pushed_sha = Some(change.commit.to_string());
            record.branch_head = record.pushed_sha.clone();
            record.state = RepoState::Pushed;
            let detail = format!("pushed {} to {branch}", git::short(Some(change.commit)));
            self.save(record, &detail)?;
        } else {
            record.pushed_sha = Some(change.commit.to_string());
        }

        let texts = &change.texts;
        let settings = &fleet.spec.pull_request;
        let (outcome, detail, pull) = match &ready.pull {
            Some(pull) => {
                let same = pull.title == texts.title
                    && pull.body == texts.body
                    && pull.labels == settings.labels;
                if !same
                    && let Err(error) = fleet.forge.update_pull_request(
                        &consumer.repo,
                        pull.number,
                        &texts.title,
                        &texts.body,
                        &settings.labels,
                    )
                {
                    return self.fail(record, "pull-request", error.to_string());
                }
                let number = pull.number;
                // Reviewers see why the diff changed under them; once per
                // commit, so a rerun after a crash does not repeat it.
                let short = git::short(Some(change.commit));
                if pushed
                    && !pull.comments.iter().any(|comment| {
                        comment.body.starts_with(REGENERATED_PREFIX)
                            && comment.body.contains(&short)
                    })
                {
                    let comment = format!(
                        "{REGENERATED_PREFIX} at {short}, from {} at {}: {} file(s) changed, {} review item(s).",
                        ready.default_branch,
                        git::short(Some(ready.base)),
                        change.change.files.len(),
                        change.change.review.len()
                    );
                    if let Err(error) = fleet.forge.comment(&consumer.repo, number, &comment) {
                        return self.fail(record, "pull-request", error.to_string());
                    }
                }
                let make_ready = pull.draft && !self.draft();
                if make_ready && let Err(error) = fleet.forge.mark_ready(&consumer.repo, number) {
                    return self.fail(record, "pull-request", error.to_string());
                }
                // New rules or base that change nothing the pull request shows.
                let outcome = if same && !pushed && !make_ready {
                    Outcome::UpToDate
                } else {
                    Outcome::Updated { number }
                };
                (
                    outcome,
                    format!("updated pull request #{number}"),
                    pull.clone(),
                )
            }
            None => {
                let request = NewPullRequest {
                    head: branch,
                    base: &ready.default_branch,
                    title: &texts.title,
                    body: &texts.body,
                    labels: &settings.labels,
                    reviewers: &change.reviewers,
                    assignees: &fleet.spec.forge.assignees,
                    draft: self.draft(),
                };
                let pull = match fleet.forge.create_pull_request(&consumer.repo, &request) {
                    Ok(pull) => pull,
                    Err(error) => return self.fail(record, "pull-request", error.to_string()),
                };
                self.crash.pass("pull-request");
                let number = pull.number;
                (
                    Outcome::Opened { number },
                    format!("opened pull request #{number}"),
                    pull,
                )
            }
        };
        succeeded(record);
        record.state = RepoState::PrOpen;
        record.pull_request = Some(pull.number);
        record.pull_request_url = Some(pull.url);
        // A draft stays one while drafting; otherwise it was marked ready.
        record.draft = pull.draft && self.draft();
        self.save(record, &detail)?;
        Ok(outcome)
    }

    fn publish_no_change(
        &mut self,
        consumer: &Consumer,
        record: &mut RepoRecord,
        ready: &Ready,
    ) -> Result<Outcome, FleetError> {
        let fleet = self.fleet;
        let was = record.state;
        record.files_changed = 0;
        record.review_items = 0;
        record.review_locations.clear();
        if self.dry_run {
            return Ok(Outcome::NoChange);
        }
        let ours = ready
            .head_commit
            .as_ref()
            .is_some_and(|head| is_ours(fleet, head));
        let Some(pull) = &ready.pull else {
            if ours && let Err(error) = self.push(&consumer.repo, ready, None) {
                return self.fail(record, "push", error);
            }
            if ours {
                record.branch_head = None;
                record.pushed_sha = None;
            }
            succeeded(record);
            record.state = RepoState::NoChange;
            let detail = if was == RepoState::NoChange {
                "still needs no change".to_owned()
            } else {
                format!("{} needs no change", ready.default_branch)
            };
            self.save(record, &detail)?;
            return Ok(Outcome::NoChange);
        };
        // Record the decision first: a crash before the close leaves a
        // record that makes the next run close the pull request again.
        record.state = RepoState::NoChange;
        // The pull request is not the repository's any more: a later one
        // may follow if the change is needed again.
        record.pull_request = None;
        record.pull_request_url = None;
        let number = pull.number;
        self.save(
            record,
            &format!("no change needed any more; closing pull request #{number}"),
        )?;
        let comment = format!(
            "{CLOSING_PREFIX}: {} at {} no longer needs the change (it was probably made by hand).",
            ready.default_branch,
            git::short(Some(ready.base))
        );
        if let Err(error) = close(fleet, consumer, pull, &comment) {
            return self.fail(record, "pull-request", error);
        }
        self.crash.pass("close");
        if ours {
            if let Err(error) = self.push(&consumer.repo, ready, None) {
                return self.fail(record, "push", error);
            }
            record.branch_head = None;
            record.pushed_sha = None;
        }
        self.save(
            record,
            &format!(
                "closed pull request #{number} and deleted {}",
                fleet.spec.pull_request.branch
            ),
        )?;
        Ok(Outcome::Withdrawn { number })
    }

    /// Pushes `commit` to the pull request branch (or deletes the branch),
    /// leased on the head phase one saw.
    fn push(&self, repo: &RepoName, ready: &Ready, commit: Option<Oid>) -> Result<(), String> {
        let mirror = Mirror::open_or_create(&super::mirror_path(self.fleet, repo))
            .map_err(|error| error.to_string())?;
        mirror
            .push(
                &ready.clone_url,
                &self.fleet.spec.pull_request.branch,
                commit,
                ready.branch_head,
                self.fleet.forge.git_credentials(),
            )
            .map_err(|error| error.to_string())
    }
}

/// How fleetmod's comment on a pull request whose branch it regenerated
/// begins.
const REGENERATED_PREFIX: &str = "fleetmod regenerated this branch";
/// How fleetmod's comment on a pull request it closes begins.
const CLOSING_PREFIX: &str = "fleetmod is closing this pull request";
/// How fleetmod's comment on a pull request with a person's commit begins.
const ATTENTION_PREFIX: &str = "fleetmod did not update this pull request";

/// Whether fleetmod closed `pull` itself (it comments before closing).
pub(super) fn closed_by_fleetmod(pull: &PullRequest) -> bool {
    pull.comments
        .iter()
        .any(|comment| comment.body.starts_with(CLOSING_PREFIX))
}

/// Comments (once) and closes a pull request fleetmod no longer needs.
fn close(
    fleet: &Fleet<'_>,
    consumer: &Consumer,
    pull: &PullRequest,
    comment: &str,
) -> Result<(), String> {
    if !closed_by_fleetmod(pull) {
        fleet
            .forge
            .comment(&consumer.repo, pull.number, comment)
            .map_err(|error| error.to_string())?;
    }
    fleet
        .forge
        .close_pull_request(&consumer.repo, pull.number)
        .map_err(|error| error.to_string())
}

/// Clears the failure bookkeeping once a repository got where it was going.
fn succeeded(record: &mut RepoRecord) {
    record.failed_stage = None;
    record.last_error = None;
    record.attempts = 0;
    record.retry_after = None;
}
