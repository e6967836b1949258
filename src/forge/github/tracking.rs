//! A migration's tracking issue: one GitHub issue per migration and
//! repository, in the style of Renovate's dependency dashboard, which
//! fleetmod opens once and then keeps up to date.
//!
//! Design:
//! - **Found by a marker, never by title.** Every part starts with a
//!   hidden HTML comment naming the migration and the part
//!   ([`tracking_marker`]); people may retitle the issue. Part 1 is the
//!   issue's body, parts 2 and on are comments, matched to the comments
//!   by their markers and edited in place. Comments without a marker are
//!   people's, and are never touched.
//! - **Never duplicated.** The issue is looked for among all issues, open
//!   and closed (a closed one is still the migration's: it is updated,
//!   not reopened and not replaced), before one is opened. A create whose
//!   outcome is unknown (a 5xx, or no answer after the write may have
//!   happened) looks again by marker before it tries again, for the issue
//!   and for each comment, so neither a lost response nor a crashed run
//!   makes a second one. Duplicates of a part's comment are deleted, the
//!   oldest kept; should two issues carry the marker, the lowest-numbered
//!   one is used.
//! - **Compare, then write.** Nothing is sent that would not change
//!   anything, so publishing the same content again costs reads only.
//!
//! [`Client`](super::client::Client) speaks no DELETE, so deleting a
//! comment goes to octocrab directly ([`GitHubForge::delete`]), behind the
//! same governor and timeout.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::client::{Method, Sent, failure};
use super::{GitHubForge, failed};
use crate::catalog::RepoName;
use crate::forge::ForgeError;

/// Every marker starts so; the migration id and the part follow.
const MARKER_START: &str = "<!-- fleetmod:tracking-issue migration=";

/// Attempts at a create whose outcome stays unknown, and at a delete.
const ATTEMPTS: u32 = 4;

/// The hidden marker that identifies part `part` (1-based) of a
/// migration's tracking issue.
pub fn tracking_marker(migration: &str, part: usize) -> String {
    format!("{MARKER_START}{migration} part={part} -->")
}

/// What publishing a tracking issue did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedIssue {
    pub number: u64,
    /// The issue's page (`html_url`).
    pub url: String,
    /// The issue was opened by this publish.
    pub created: bool,
    /// An existing issue's title or body was replaced.
    pub updated: bool,
    pub comments_created: usize,
    pub comments_updated: usize,
    pub comments_deleted: usize,
}

/// The text GitHub stores for part `part`: its marker line, then the part.
fn with_marker(migration: &str, part: usize, text: &str) -> String {
    format!("{}\n{text}", tracking_marker(migration, part))
}

/// The part a comment's body starts with the marker of, if any.
fn marked_part(body: &str, migration: &str) -> Option<usize> {
    let rest = body.strip_prefix(MARKER_START)?.strip_prefix(migration)?;
    let (part, _) = rest.strip_prefix(" part=")?.split_once(" -->")?;
    let part: usize = part.parse().ok()?;
    body.starts_with(&tracking_marker(migration, part))
        .then_some(part)
}

/// The fields of GitHub's issue JSON that publishing reads.
#[derive(Deserialize)]
struct IssueFields {
    number: u64,
    html_url: String,
    title: String,
    #[serde(default)]
    body: Option<String>,
    /// Present on the pull requests the issue list includes.
    #[serde(default)]
    pull_request: Option<Value>,
}

/// The fields of GitHub's comment JSON that publishing reads.
#[derive(Deserialize)]
struct CommentFields {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

/// The marked comments of an issue by part (2 and on), oldest first.
type MarkedComments = BTreeMap<usize, Vec<CommentFields>>;

/// How the comments changed.
#[derive(Default)]
struct CommentChanges {
    created: usize,
    updated: usize,
    deleted: usize,
}

/// `error` with `action` as what failed, the original action kept in the
/// message.
fn within(action: &str) -> impl FnOnce(ForgeError) -> ForgeError {
    move |error| match error {
        ForgeError::Failed {
            action: inner,
            message,
        } => failed(action, format!("{inner}: {message}")),
        other => other,
    }
}

impl GitHubForge {
    /// Creates or updates the tracking issue of `migration` in `repo`:
    /// part 1 is the issue body, parts 2.. are comments, each prefixed by
    /// its marker line. Found again by the marker (never by title), so
    /// reruns and crashes never duplicate it.
    pub fn publish_tracking_issue(
        &self,
        repo: &RepoName,
        migration: &str,
        title: &str,
        parts: &[String],
    ) -> Result<PublishedIssue, ForgeError> {
        let Some(first) = parts.first() else {
            return Err(failed(
                format!("publish the tracking issue of {migration} in {repo}"),
                "there is no part to publish",
            ));
        };
        let body = with_marker(migration, 1, first);
        let (issue, created, updated) = match self.find_tracking_issue(repo, migration)? {
            Some(issue) => {
                let updated = self.edit_tracking_issue(repo, &issue, title, &body)?;
                (issue, false, updated)
            }
            None => (
                self.open_tracking_issue(repo, migration, title, &body)?,
                true,
                false,
            ),
        };
        let changes = self.sync_tracking_comments(repo, migration, issue.number, parts)?;
        Ok(PublishedIssue {
            number: issue.number,
            url: issue.html_url,
            created,
            updated,
            comments_created: changes.created,
            comments_updated: changes.updated,
            comments_deleted: changes.deleted,
        })
    }

    /// The lowest-numbered issue, open or closed, whose body holds the
    /// part-1 marker of `migration`.
    fn find_tracking_issue(
        &self,
        repo: &RepoName,
        migration: &str,
    ) -> Result<Option<IssueFields>, ForgeError> {
        let marker = tracking_marker(migration, 1);
        let issues: Vec<IssueFields> = self
            .client
            .get_all(&format!("/repos/{repo}/issues?state=all&per_page=100"))
            .map_err(within(&format!(
                "find the tracking issue of {migration} in {repo}"
            )))?;
        Ok(issues
            .into_iter()
            .filter(|issue| issue.pull_request.is_none())
            .filter(|issue| {
                issue
                    .body
                    .as_deref()
                    .is_some_and(|body| body.contains(&marker))
            })
            .min_by_key(|issue| issue.number))
    }

    /// Opens the tracking issue.
    fn open_tracking_issue(
        &self,
        repo: &RepoName,
        migration: &str,
        title: &str,
        body: &str,
    ) -> Result<IssueFields, ForgeError> {
        self.create_once(
            &format!("/repos/{repo}/issues"),
            &json!({ "title": title, "body": body }),
            &format!("create the tracking issue of {migration} in {repo}"),
            || self.find_tracking_issue(repo, migration),
        )
    }

    /// Replaces the issue's title and body when either differs; true when
    /// it did. The state is left alone: a closed issue stays closed.
    fn edit_tracking_issue(
        &self,
        repo: &RepoName,
        issue: &IssueFields,
        title: &str,
        body: &str,
    ) -> Result<bool, ForgeError> {
        if issue.title == title && issue.body.as_deref() == Some(body) {
            return Ok(false);
        }
        let number = issue.number;
        self.write(
            Method::Patch,
            &format!("/repos/{repo}/issues/{number}"),
            &json!({ "title": title, "body": body }),
            &format!("update the tracking issue #{number} in {repo}"),
        )?;
        Ok(true)
    }

    /// The comments of issue `number` that start with a marker of
    /// `migration` for part 2 or later.
    fn tracking_comments(
        &self,
        repo: &RepoName,
        migration: &str,
        number: u64,
    ) -> Result<MarkedComments, ForgeError> {
        let comments: Vec<CommentFields> = self
            .client
            .get_all(&format!(
                "/repos/{repo}/issues/{number}/comments?per_page=100"
            ))
            .map_err(within(&format!(
                "read the comments of the tracking issue #{number} in {repo}"
            )))?;
        let mut marked = MarkedComments::new();
        for comment in comments {
            let part = marked_part(comment.body.as_deref().unwrap_or(""), migration);
            if let Some(part) = part.filter(|part| *part >= 2) {
                marked.entry(part).or_default().push(comment);
            }
        }
        for comments in marked.values_mut() {
            comments.sort_by_key(|comment| comment.id);
        }
        Ok(marked)
    }

    /// Makes the marked comments of issue `number` parts 2.. of `parts`.
    fn sync_tracking_comments(
        &self,
        repo: &RepoName,
        migration: &str,
        number: u64,
        parts: &[String],
    ) -> Result<CommentChanges, ForgeError> {
        let mut existing = self.tracking_comments(repo, migration, number)?;
        let mut changes = CommentChanges::default();
        for (index, text) in parts.iter().enumerate().skip(1) {
            let part = index + 1;
            let body = with_marker(migration, part, text);
            // The oldest comment of a part is the part; the rest are
            // duplicates, left in `existing` to be deleted.
            let kept = existing
                .get_mut(&part)
                .filter(|comments| !comments.is_empty())
                .map(|comments| comments.remove(0));
            match kept {
                Some(comment) if comment.body.as_deref() == Some(body.as_str()) => {}
                Some(comment) => {
                    self.edit_tracking_comment(repo, number, part, comment.id, &body)?;
                    changes.updated += 1;
                }
                None => {
                    self.add_tracking_comment(repo, migration, number, part, &body)?;
                    changes.created += 1;
                }
            }
        }
        changes.deleted = self.delete_tracking_comments(repo, number, existing)?;
        Ok(changes)
    }

    /// Replaces the body of comment `id`, part `part` of issue `number`.
    fn edit_tracking_comment(
        &self,
        repo: &RepoName,
        number: u64,
        part: usize,
        id: u64,
        body: &str,
    ) -> Result<(), ForgeError> {
        self.write(
            Method::Patch,
            &format!("/repos/{repo}/issues/comments/{id}"),
            &json!({ "body": body }),
            &format!("update part {part} of the tracking issue #{number} in {repo}"),
        )
        .map(drop)
    }

    /// Adds part `part` (with its marker) to issue `number`.
    fn add_tracking_comment(
        &self,
        repo: &RepoName,
        migration: &str,
        number: u64,
        part: usize,
        body: &str,
    ) -> Result<(), ForgeError> {
        let find = || -> Result<Option<CommentFields>, ForgeError> {
            let mut existing = self.tracking_comments(repo, migration, number)?;
            Ok(existing
                .remove(&part)
                .and_then(|comments| comments.into_iter().next()))
        };
        self.create_once(
            &format!("/repos/{repo}/issues/{number}/comments"),
            &json!({ "body": body }),
            &format!("add part {part} to the tracking issue #{number} in {repo}"),
            find,
        )
        .map(drop)
    }

    /// Deletes `surplus` (parts past the last, and duplicates) from issue
    /// `number`; returns how many.
    fn delete_tracking_comments(
        &self,
        repo: &RepoName,
        number: u64,
        surplus: MarkedComments,
    ) -> Result<usize, ForgeError> {
        let mut deleted = 0;
        for (part, comments) in surplus {
            for comment in comments {
                let id = comment.id;
                self.delete(
                    &format!("/repos/{repo}/issues/comments/{id}"),
                    &format!(
                        "delete comment {id} (part {part}) of the tracking issue #{number} in {repo}"
                    ),
                )?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// POSTs a create, which is never retried blindly: when its outcome is
    /// unknown, `existing` looks for what it may have created before the
    /// next attempt.
    fn create_once<T: DeserializeOwned>(
        &self,
        route: &str,
        payload: &Value,
        action: &str,
        existing: impl Fn() -> Result<Option<T>, ForgeError>,
    ) -> Result<T, ForgeError> {
        let mut unknown = Vec::new();
        for _ in 0..ATTEMPTS {
            match self
                .client
                .send(Method::Post, route, Some(payload), false)?
            {
                Sent::Reply(reply) if reply.is_success() => return reply.json(action),
                Sent::Reply(reply) => return Err(failure(action, &reply)),
                Sent::Unknown(message) => {
                    tracing::info!("{action}: outcome unknown ({message}); looking for it");
                    if let Some(found) = existing()? {
                        return Ok(found);
                    }
                    unknown.push(message);
                }
            }
        }
        Err(failed(action, unknown.join("; ")))
    }

    /// `DELETE route`, which is idempotent: the client retries a 5xx or a
    /// transport failure and waits out rate limits; a 404 (already gone)
    /// counts as done.
    fn delete(&self, route: &str, action: &str) -> Result<(), ForgeError> {
        let reply = self.client.reply(Method::Delete, route, None, true)?;
        if reply.is_success() || reply.status == 404 {
            Ok(())
        } else {
            Err(failure(action, &reply))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_the_migration_and_the_part() {
        assert_eq!(
            tracking_marker("orders-v2", 3),
            "<!-- fleetmod:tracking-issue migration=orders-v2 part=3 -->"
        );
        assert_eq!(
            with_marker("orders-v2", 2, "text"),
            format!("{}\ntext", tracking_marker("orders-v2", 2))
        );
        let body = with_marker("orders-v2", 12, "text");
        assert_eq!(marked_part(&body, "orders-v2"), Some(12));
        assert_eq!(marked_part(&body, "orders"), None);
        assert_eq!(marked_part(&body, "orders-v2-b"), None);
        assert_eq!(marked_part(&format!(" {body}"), "orders-v2"), None);
        assert_eq!(
            marked_part(
                "<!-- fleetmod:tracking-issue migration=orders-v2 part=+2 -->",
                "orders-v2"
            ),
            None
        );
        assert_eq!(marked_part("a person's comment", "orders-v2"), None);
    }
}
