//! The local forge: bare repositories under a root folder and a SQLite file
//! (`forge.db`) of pull requests, comments and archived flags.
//!
//! Repository `owner/name` is the bare repository `<root>/owner/name.git`;
//! its default branch is its `HEAD`. Pull requests behave like GitHub's: one
//! open pull request per head branch, numbers counted per repository, and a
//! merge moves the base branch (fast-forward, else a merge commit).

mod import;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

pub use self::import::{ImportError, Imported, MANIFEST, import};
use super::{
    Comment, Forge, ForgeError, NewPullRequest, PullRequest, PullRequestState, PullRequestStatus,
    RepositoryInfo,
};
use crate::catalog::RepoName;
use crate::spec::MergeMethod;
use crate::store::time::{Clock, SystemClock};
use crate::store::{Checks, ReviewDecision};

const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE repositories (
    repo TEXT PRIMARY KEY,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE pull_requests (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    head TEXT NOT NULL,
    base TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    labels TEXT NOT NULL,
    reviewers TEXT NOT NULL,
    draft INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
",
    "
ALTER TABLE pull_requests ADD COLUMN checks TEXT NOT NULL DEFAULT 'none';
ALTER TABLE pull_requests ADD COLUMN review TEXT NOT NULL DEFAULT 'review-required';
",
];

/// The local forge.
pub struct LocalForge {
    root: PathBuf,
    connection: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

fn failed(action: &str) -> impl FnOnce(rusqlite::Error) -> ForgeError + use<> {
    let action = action.to_owned();
    move |error| ForgeError::Failed {
        action,
        message: error.to_string(),
    }
}

fn git_failed(action: String) -> impl FnOnce(crate::git::GitError) -> ForgeError {
    move |error| ForgeError::Failed {
        action,
        message: error.to_string(),
    }
}

const PULL_COLUMNS: &str = "repo, number, head, base, title, body, labels, reviewers, draft, state";

impl LocalForge {
    /// Opens (or creates) the forge at `root`.
    pub fn open(root: &Path) -> Result<LocalForge, ForgeError> {
        std::fs::create_dir_all(root).map_err(|error| ForgeError::Failed {
            action: format!("create the forge folder {}", root.display()),
            message: error.to_string(),
        })?;
        let path = root.join("forge.db");
        let mut connection = Connection::open(&path).map_err(failed("open the forge database"))?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(failed("configure the forge database"))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(failed("configure the forge database"))?;
        crate::store::sqlite::migrate(&mut connection, MIGRATIONS, &path.display().to_string())
            .map_err(|error| ForgeError::Failed {
                action: "open the forge database".to_owned(),
                message: error.to_string(),
            })?;
        Ok(LocalForge {
            root: root.to_path_buf(),
            connection: Mutex::new(connection),
            clock: Arc::new(SystemClock),
        })
    }

    /// Stamps pull requests and comments with `clock` (a simulation's).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> LocalForge {
        self.clock = clock;
        self
    }

    /// The bare repository of `repo`.
    pub fn repository_path(&self, repo: &RepoName) -> PathBuf {
        self.root
            .join(&repo.owner)
            .join(format!("{}.git", repo.name))
    }

    /// Whether the forge has `repo`.
    pub fn has_repository(&self, repo: &RepoName) -> bool {
        self.repository_path(repo).join("HEAD").exists()
    }

    /// Every repository, sorted.
    pub fn repositories(&self) -> Vec<RepoName> {
        let mut found = Vec::new();
        let owners = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten();
        for owner in owners.filter(|entry| entry.path().is_dir()) {
            for entry in std::fs::read_dir(owner.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(name) = name.strip_suffix(".git")
                    && let Ok(repo) =
                        RepoName::parse(&format!("{}/{name}", owner.file_name().to_string_lossy()))
                {
                    found.push(repo);
                }
            }
        }
        found.sort();
        found
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks a repository archived (or not); the pre-flight check refuses
    /// archived repositories.
    pub fn set_archived(&self, repo: &RepoName, archived: bool) -> Result<(), ForgeError> {
        self.require(repo)?;
        self.lock()
            .execute(
                "INSERT INTO repositories (repo, archived) VALUES (?1, ?2) \
                 ON CONFLICT (repo) DO UPDATE SET archived = ?2",
                params![repo.to_string(), archived],
            )
            .map(drop)
            .map_err(failed("archive a repository"))
    }

    fn require(&self, repo: &RepoName) -> Result<(), ForgeError> {
        if self.has_repository(repo) {
            Ok(())
        } else {
            Err(ForgeError::NoRepository { repo: repo.clone() })
        }
    }

    /// Every pull request, sorted by repository and number.
    pub fn pull_requests(&self) -> Result<Vec<PullRequest>, ForgeError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare(&format!(
                "SELECT {PULL_COLUMNS} FROM pull_requests ORDER BY repo, number"
            ))
            .map_err(failed("list pull requests"))?;
        let rows = statement
            .query_map([], pull_from_row)
            .map_err(failed("list pull requests"))?;
        let mut pulls = Vec::new();
        for row in rows {
            pulls.push(row.map_err(failed("list pull requests"))??);
        }
        Ok(pulls)
    }

    /// Merges an open pull request into its base branch with `method`,
    /// provided its head is still `expected_head` (when given).
    pub fn merge_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
        method: MergeMethod,
        expected_head: Option<&str>,
    ) -> Result<PullRequest, ForgeError> {
        let pull = self.pull_request(repo, number)?;
        let action = || format!("merge {repo}#{number}");
        if pull.state != PullRequestState::Open {
            return Err(ForgeError::Failed {
                action: action(),
                message: format!("it is {}", pull.state.as_str()),
            });
        }
        let expected = expected_head
            .map(|sha| {
                git2::Oid::from_str(sha).map_err(|_| ForgeError::Failed {
                    action: action(),
                    message: format!("`{sha}` is not a commit id"),
                })
            })
            .transpose()?;
        let style = match method {
            MergeMethod::Merge => crate::git::MergeStyle::Merge,
            MergeMethod::Squash => crate::git::MergeStyle::Squash,
            MergeMethod::Rebase => crate::git::MergeStyle::Rebase,
        };
        crate::git::merge_branch(
            &self.repository_path(repo),
            &pull.base,
            &pull.head,
            style,
            expected,
            ("Local forge", "forge@localhost"),
            &format!(
                "Merge pull request #{number} from {}\n\n{}",
                pull.head, pull.title
            ),
        )
        .map_err(git_failed(action()))?;
        self.set_state(repo, number, PullRequestState::Merged)?;
        self.pull_request(repo, number)
    }

    /// Sets a pull request's combined checks, as a CI system would.
    pub fn set_checks(
        &self,
        repo: &RepoName,
        number: u64,
        checks: Checks,
    ) -> Result<(), ForgeError> {
        self.set_column(repo, number, "checks", checks.as_str())
    }

    /// Sets a pull request's review decision, as reviewers would.
    pub fn set_review(
        &self,
        repo: &RepoName,
        number: u64,
        review: ReviewDecision,
    ) -> Result<(), ForgeError> {
        self.set_column(repo, number, "review", review.as_str())
    }

    fn set_column(
        &self,
        repo: &RepoName,
        number: u64,
        column: &str,
        value: &str,
    ) -> Result<(), ForgeError> {
        let changed = self
            .lock()
            .execute(
                &format!(
                    "UPDATE pull_requests SET {column} = ?3, updated_at = ?4 WHERE repo = ?1 AND number = ?2"
                ),
                params![repo.to_string(), number as i64, value, self.clock.now_ms()],
            )
            .map_err(failed("update a pull request"))?;
        found_one(changed, repo, number)
    }

    /// A pull request's checks, review decision and when it was opened.
    fn facts(&self, repo: &RepoName, number: u64) -> Result<(Checks, ReviewDecision), ForgeError> {
        let (checks, review): (String, String) = self
            .lock()
            .query_row(
                "SELECT checks, review FROM pull_requests WHERE repo = ?1 AND number = ?2",
                params![repo.to_string(), number as i64],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(failed("read a pull request"))?;
        let corrupt = |message: String| ForgeError::Failed {
            action: "read a pull request".to_owned(),
            message,
        };
        Ok((
            checks.parse().map_err(corrupt)?,
            review.parse().map_err(corrupt)?,
        ))
    }

    fn set_state(
        &self,
        repo: &RepoName,
        number: u64,
        state: PullRequestState,
    ) -> Result<(), ForgeError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE pull_requests SET state = ?3, updated_at = ?4 WHERE repo = ?1 AND number = ?2",
                params![repo.to_string(), number as i64, state.as_str(), self.clock.now_ms()],
            )
            .map_err(failed("update a pull request"))?;
        found_one(changed, repo, number)
    }

    /// Adds a comment as `author`.
    pub fn comment_as(
        &self,
        repo: &RepoName,
        number: u64,
        author: &str,
        body: &str,
    ) -> Result<(), ForgeError> {
        self.pull_request(repo, number)?;
        self.lock()
            .execute(
                "INSERT INTO comments (repo, number, author, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![repo.to_string(), number as i64, author, body, self.clock.now_ms()],
            )
            .map(drop)
            .map_err(failed("comment on a pull request"))
    }

    fn comments(&self, repo: &RepoName, number: u64) -> Result<Vec<Comment>, ForgeError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare(
                "SELECT author, body, created_at FROM comments WHERE repo = ?1 AND number = ?2 ORDER BY id",
            )
            .map_err(failed("read comments"))?;
        let rows = statement
            .query_map(params![repo.to_string(), number as i64], |row| {
                Ok(Comment {
                    author: row.get(0)?,
                    body: row.get(1)?,
                    created_at: row.get(2)?,
                })
            })
            .map_err(failed("read comments"))?;
        rows.collect::<Result<_, _>>()
            .map_err(failed("read comments"))
    }

    fn with_comments(&self, pull: PullRequest) -> Result<PullRequest, ForgeError> {
        let comments = self.comments(&pull.repo, pull.number)?;
        Ok(PullRequest { comments, ..pull })
    }
}

/// `Ok` when an update changed a row, else "no such pull request".
fn found_one(changed: usize, repo: &RepoName, number: u64) -> Result<(), ForgeError> {
    if changed == 0 {
        return Err(ForgeError::NoPullRequest {
            repo: repo.clone(),
            number,
        });
    }
    Ok(())
}

type PullRow = Result<PullRequest, ForgeError>;

fn pull_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PullRow> {
    let repo: String = row.get(0)?;
    let number = row.get::<_, i64>(1)? as u64;
    let labels: String = row.get(6)?;
    let reviewers: String = row.get(7)?;
    let state: String = row.get(9)?;
    let corrupt = |message: String| ForgeError::Failed {
        action: "read a pull request".to_owned(),
        message,
    };
    let parse_list = |text: &str| {
        serde_json::from_str::<Vec<String>>(text).map_err(|error| corrupt(error.to_string()))
    };
    let repo = match RepoName::parse(&repo) {
        Ok(repo) => repo,
        Err(message) => return Ok(Err(corrupt(message))),
    };
    let state = match state.as_str() {
        "open" => PullRequestState::Open,
        "closed" => PullRequestState::Closed,
        "merged" => PullRequestState::Merged,
        other => return Ok(Err(corrupt(format!("unknown state `{other}`")))),
    };
    let (labels, reviewers) = match (parse_list(&labels), parse_list(&reviewers)) {
        (Ok(labels), Ok(reviewers)) => (labels, reviewers),
        (Err(error), _) | (_, Err(error)) => return Ok(Err(error)),
    };
    Ok(Ok(PullRequest {
        url: format!("local:{repo}#{number}"),
        repo,
        number,
        head: row.get(2)?,
        base: row.get(3)?,
        title: row.get(4)?,
        body: row.get(5)?,
        labels,
        reviewers,
        draft: row.get(8)?,
        state,
        comments: Vec::new(),
    }))
}

impl Forge for LocalForge {
    fn host(&self) -> &str {
        "local"
    }

    fn repository(&self, repo: &RepoName) -> Result<RepositoryInfo, ForgeError> {
        self.require(repo)?;
        let path = self.repository_path(repo);
        let head =
            std::fs::read_to_string(path.join("HEAD")).map_err(|error| ForgeError::Failed {
                action: format!("read the default branch of {repo}"),
                message: error.to_string(),
            })?;
        let default_branch = head
            .trim()
            .strip_prefix("ref: refs/heads/")
            .unwrap_or("main")
            .to_owned();
        let archived = self
            .lock()
            .query_row(
                "SELECT archived FROM repositories WHERE repo = ?1",
                params![repo.to_string()],
                |row| row.get::<_, bool>(0),
            )
            .optional()
            .map_err(failed("read a repository"))?
            .unwrap_or(false);
        Ok(RepositoryInfo {
            clone_url: path.display().to_string(),
            default_branch,
            archived,
        })
    }

    fn find_pull_request(
        &self,
        repo: &RepoName,
        head: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        let found = self
            .lock()
            .query_row(
                &format!(
                    "SELECT {PULL_COLUMNS} FROM pull_requests WHERE repo = ?1 AND head = ?2 \
                     ORDER BY state = 'open' DESC, number DESC LIMIT 1"
                ),
                params![repo.to_string(), head],
                pull_from_row,
            )
            .optional()
            .map_err(failed("find a pull request"))?;
        found
            .transpose()?
            .map(|pull| self.with_comments(pull))
            .transpose()
    }

    fn pull_request(&self, repo: &RepoName, number: u64) -> Result<PullRequest, ForgeError> {
        let found = self
            .lock()
            .query_row(
                &format!(
                    "SELECT {PULL_COLUMNS} FROM pull_requests WHERE repo = ?1 AND number = ?2"
                ),
                params![repo.to_string(), number as i64],
                pull_from_row,
            )
            .optional()
            .map_err(failed("read a pull request"))?;
        match found {
            Some(pull) => self.with_comments(pull?),
            None => Err(ForgeError::NoPullRequest {
                repo: repo.clone(),
                number,
            }),
        }
    }

    fn create_pull_request(
        &self,
        repo: &RepoName,
        request: &NewPullRequest<'_>,
    ) -> Result<PullRequest, ForgeError> {
        self.require(repo)?;
        let heads =
            crate::git::remote_heads(&self.repository_path(repo).display().to_string(), None)
                .map_err(git_failed(format!("read the branches of {repo}")))?;
        for branch in [request.head, request.base] {
            if !heads.branches.contains_key(branch) {
                return Err(ForgeError::Failed {
                    action: format!("open a pull request on {repo}"),
                    message: format!("branch {branch} does not exist"),
                });
            }
        }
        let number = {
            let mut connection = self.lock();
            let transaction = connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(failed("open a pull request"))?;
            let open: Option<i64> = transaction
                .query_row(
                    "SELECT number FROM pull_requests WHERE repo = ?1 AND head = ?2 AND state = 'open'",
                    params![repo.to_string(), request.head],
                    |row| row.get(0),
                )
                .optional()
                .map_err(failed("open a pull request"))?;
            if let Some(open) = open {
                return Err(ForgeError::Failed {
                    action: format!("open a pull request on {repo}"),
                    message: format!("pull request #{open} is already open for {}", request.head),
                });
            }
            let number: i64 = transaction
                .query_row(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM pull_requests WHERE repo = ?1",
                    params![repo.to_string()],
                    |row| row.get(0),
                )
                .map_err(failed("open a pull request"))?;
            let now = self.clock.now_ms();
            transaction
                .execute(
                    "INSERT INTO pull_requests (repo, number, head, base, title, body, labels, \
                     reviewers, draft, state, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10, ?10)",
                    params![
                        repo.to_string(),
                        number,
                        request.head,
                        request.base,
                        request.title,
                        request.body,
                        serde_json::to_string(request.labels).unwrap_or_default(),
                        serde_json::to_string(request.reviewers).unwrap_or_default(),
                        request.draft,
                        now
                    ],
                )
                .map_err(failed("open a pull request"))?;
            transaction
                .commit()
                .map_err(failed("open a pull request"))?;
            number as u64
        };
        self.pull_request(repo, number)
    }

    fn update_pull_request(
        &self,
        repo: &RepoName,
        number: u64,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<(), ForgeError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE pull_requests SET title = ?3, body = ?4, labels = ?5, updated_at = ?6 \
                 WHERE repo = ?1 AND number = ?2",
                params![
                    repo.to_string(),
                    number as i64,
                    title,
                    body,
                    serde_json::to_string(labels).unwrap_or_default(),
                    self.clock.now_ms()
                ],
            )
            .map_err(failed("update a pull request"))?;
        found_one(changed, repo, number)
    }

    fn comment(&self, repo: &RepoName, number: u64, body: &str) -> Result<(), ForgeError> {
        self.comment_as(repo, number, "fleetmod", body)
    }

    fn close_pull_request(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError> {
        self.set_state(repo, number, PullRequestState::Closed)
    }

    fn mark_ready(&self, repo: &RepoName, number: u64) -> Result<(), ForgeError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE pull_requests SET draft = 0, updated_at = ?3 WHERE repo = ?1 AND number = ?2",
                params![repo.to_string(), number as i64, self.clock.now_ms()],
            )
            .map_err(failed("update a pull request"))?;
        found_one(changed, repo, number)
    }

    fn merge(
        &self,
        repo: &RepoName,
        number: u64,
        method: MergeMethod,
        expected_head: &str,
    ) -> Result<(), ForgeError> {
        self.merge_pull_request(repo, number, method, Some(expected_head))
            .map(drop)
    }

    /// Checks and reviews are what [`LocalForge::set_checks`] and
    /// [`LocalForge::set_review`] set (none and review-required until
    /// then); the local forge does not work out mergeability ahead of a
    /// merge.
    fn status(&self, repo: &RepoName, number: u64) -> Result<PullRequestStatus, ForgeError> {
        let pull = self.pull_request(repo, number)?;
        let (checks, review) = self.facts(repo, number)?;
        let head_sha = crate::git::Mirror::open_or_create(&self.repository_path(repo))
            .map_err(git_failed(format!("open {repo}")))?
            .branch_head(&pull.head)
            .map(|head| head.to_string());
        Ok(PullRequestStatus {
            state: pull.state,
            mergeable: None,
            checks,
            review,
            draft: pull.draft,
            head_sha,
        })
    }
}

#[cfg(test)]
mod tests;
