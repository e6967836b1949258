//! The simulated GitHub's data model (everything except git content).
//!
//! Design: plain structs behind one mutex owned by the server. Repositories
//! are keyed by `(owner, name)`; each one owns its pull requests (with
//! their labels, assignees, reviewers, comments and reviews), its plain
//! issues (with their comments), its label definitions and the check runs /
//! commit statuses reported for its shas. Pull requests and issues share
//! one number sequence per repository ([`Repo::next_number`]), and every
//! object id comes from one global counter so ids are unique across kinds,
//! like on GitHub. Branch state is not stored here: it lives in the
//! bare repositories and is read through `super::git` at request time; a
//! pull request only remembers the last head/base shas it saw so it can
//! still be rendered after its branch is deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A label defined in a repository.
#[derive(Debug, Clone)]
pub struct LabelDef {
    pub id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
}

/// An issue comment, on a pull request or a plain issue.
#[derive(Debug, Clone)]
pub struct CommentRec {
    pub id: u64,
    pub user: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A submitted pull request review.
#[derive(Debug, Clone)]
pub struct ReviewRec {
    pub id: u64,
    pub user: String,
    pub body: String,
    pub state: String,
    pub commit_id: String,
    pub submitted_at: i64,
}

/// A check run reported for a commit.
#[derive(Debug, Clone)]
pub struct CheckRunRec {
    pub id: u64,
    pub sha: String,
    pub name: String,
    /// `None` while in progress.
    pub conclusion: Option<String>,
    pub started_at: i64,
}

/// A commit status reported for a commit.
#[derive(Debug, Clone)]
pub struct StatusRec {
    pub id: u64,
    pub sha: String,
    pub context: String,
    pub state: String,
    pub created_at: i64,
}

/// A pull request (GitHub numbers pull requests as issues).
#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub id: u64,
    pub user: String,
    pub title: String,
    pub body: Option<String>,
    pub head_ref: String,
    pub base_ref: String,
    /// Last head sha seen on the head branch.
    pub head_sha: String,
    /// Last base sha seen on the base branch.
    pub base_sha: String,
    pub open: bool,
    pub draft: bool,
    pub maintainer_can_modify: bool,
    pub merged_at: Option<i64>,
    pub merged_by: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub requested_teams: Vec<String>,
    pub comments: Vec<CommentRec>,
    pub reviews: Vec<ReviewRec>,
}

impl Pull {
    pub fn merged(&self) -> bool {
        self.merged_at.is_some()
    }
}

/// A plain issue (pull requests are [`Pull`]s, numbered in the same
/// sequence).
#[derive(Debug, Clone)]
pub struct Issue {
    pub number: u64,
    pub id: u64,
    pub user: String,
    pub title: String,
    pub body: Option<String>,
    pub open: bool,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub comments: Vec<CommentRec>,
}

/// A repository and everything hanging off it.
#[derive(Debug, Clone)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    /// The bare repository on disk.
    pub path: PathBuf,
    pub archived: bool,
    pub created_at: i64,
    pub labels: Vec<LabelDef>,
    pub pulls: Vec<Pull>,
    pub issues: Vec<Issue>,
    pub check_runs: Vec<CheckRunRec>,
    pub statuses: Vec<StatusRec>,
}

impl Repo {
    pub fn pull(&self, number: u64) -> Option<&Pull> {
        self.pulls.iter().find(|p| p.number == number)
    }

    pub fn pull_mut(&mut self, number: u64) -> Option<&mut Pull> {
        self.pulls.iter_mut().find(|p| p.number == number)
    }

    pub fn issue(&self, number: u64) -> Option<&Issue> {
        self.issues.iter().find(|i| i.number == number)
    }

    pub fn issue_mut(&mut self, number: u64) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.number == number)
    }

    /// The number the next pull request or issue gets: GitHub numbers
    /// both in one sequence.
    pub fn next_number(&self) -> u64 {
        let pulls = self.pulls.iter().map(|p| p.number);
        let issues = self.issues.iter().map(|i| i.number);
        pulls.chain(issues).max().unwrap_or(0) + 1
    }

    /// The comments of pull request or issue `number`, oldest first.
    pub fn comments(&self, number: u64) -> Option<&[CommentRec]> {
        match self.pull(number) {
            Some(p) => Some(&p.comments),
            None => self.issue(number).map(|i| i.comments.as_slice()),
        }
    }

    /// Appends `comment` to pull request or issue `number` (which counts as
    /// an update of it); false when there is neither.
    pub fn push_comment(&mut self, number: u64, comment: CommentRec, now: i64) -> bool {
        if let Some(p) = self.pull_mut(number) {
            p.comments.push(comment);
            p.updated_at = now;
        } else if let Some(i) = self.issue_mut(number) {
            i.comments.push(comment);
            i.updated_at = now;
        } else {
            return false;
        }
        true
    }

    /// Every comment list of the repository, with the number it hangs off.
    fn threads_mut(&mut self) -> impl Iterator<Item = (u64, &mut Vec<CommentRec>)> {
        let pulls = self.pulls.iter_mut().map(|p| (p.number, &mut p.comments));
        let issues = self.issues.iter_mut().map(|i| (i.number, &mut i.comments));
        pulls.chain(issues)
    }

    /// Comment `id` and the number of the pull request or issue it is on.
    pub fn comment_mut(&mut self, id: u64) -> Option<(u64, &mut CommentRec)> {
        self.threads_mut().find_map(|(number, comments)| {
            comments
                .iter_mut()
                .find(|c| c.id == id)
                .map(|c| (number, c))
        })
    }

    /// Removes comment `id`; false when the repository has none.
    pub fn remove_comment(&mut self, id: u64) -> bool {
        self.threads_mut().any(|(_, comments)| {
            let before = comments.len();
            comments.retain(|c| c.id != id);
            comments.len() < before
        })
    }

    pub fn label(&self, name: &str) -> Option<&LabelDef> {
        self.labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

/// All simulated GitHub data.
#[derive(Debug, Default)]
pub struct World {
    pub repos: BTreeMap<(String, String), Repo>,
    /// Known teams as `(org, slug)`.
    pub teams: BTreeSet<(String, String)>,
    last_id: u64,
}

impl World {
    /// A fresh id, unique across every kind of object.
    pub fn next_id(&mut self) -> u64 {
        if self.last_id == 0 {
            self.last_id = 1000;
        }
        self.last_id += 1;
        self.last_id
    }

    pub fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&(owner.to_string(), name.to_string()))
    }

    pub fn repo_mut(&mut self, owner: &str, name: &str) -> Option<&mut Repo> {
        self.repos.get_mut(&(owner.to_string(), name.to_string()))
    }

    /// Registers a repository whose bare repo lives at `path` (no-op when it
    /// is already registered).
    pub fn insert_repo(&mut self, owner: &str, name: &str, path: PathBuf, now: i64) -> &mut Repo {
        let id = self.next_id();
        self.repos
            .entry((owner.to_string(), name.to_string()))
            .or_insert_with(|| Repo {
                id,
                owner: owner.to_string(),
                name: name.to_string(),
                path,
                archived: false,
                created_at: now,
                labels: Vec::new(),
                pulls: Vec::new(),
                issues: Vec::new(),
                check_runs: Vec::new(),
                statuses: Vec::new(),
            })
    }

    /// Returns the label named `name` in the repository, creating it (with
    /// GitHub's default grey) when missing.
    pub fn ensure_label(&mut self, owner: &str, name: &str, label: &str) -> Option<String> {
        let id = self.next_id();
        let repo = self.repo_mut(owner, name)?;
        if let Some(existing) = repo.label(label) {
            return Some(existing.name.clone());
        }
        repo.labels.push(LabelDef {
            id,
            name: label.to_string(),
            color: "ededed".to_string(),
            description: None,
        });
        Some(label.to_string())
    }

    /// Finds the pull request with GraphQL node id `node_id`.
    pub fn pull_by_node_id(&mut self, node_id: &str) -> Option<&mut Pull> {
        self.repos.values_mut().find_map(|repo| {
            let repo_id = repo.id;
            repo.pulls
                .iter_mut()
                .find(|p| pull_node_id(repo_id, p.number) == node_id)
        })
    }
}

/// The GraphQL node id of a pull request.
pub fn pull_node_id(repo_id: u64, number: u64) -> String {
    format!("PR_{repo_id}_{number}")
}
