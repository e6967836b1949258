//! A stateful GitHub REST API simulator for tests.
//!
//! Design: [`Simulator::start`] binds a loopback port and runs an axum
//! server on a private tokio runtime in a background thread, so it works
//! from both sync and async tests; dropping the [`Simulator`] stops it.
//! Repositories are real bare git repositories under [`Simulator::root`]
//! whose `clone_url` is a `file://` URL: clients push to them directly and
//! the simulator reads branch state from disk on every request. Everything
//! else (pull requests, issues, labels, reviews, checks, ...) lives in
//! memory (`state`). Requests are authenticated, counted, rate limited (primary
//! quota and a secondary limit on mutating requests, both over the injected
//! clock) and optionally hit by deterministic faults (`faults`) before
//! reaching the endpoints (`routes`, `handlers`), whose JSON (`render`)
//! deserializes into octocrab's models. The helper methods on
//! [`Simulator`] play "the rest of GitHub" (humans, CI) and are never
//! counted, limited or faulted.
//!
//! The module is self-contained (only `super::`/`self::` paths) so it can be
//! included with `#[path = ".../github_sim/mod.rs"] mod github_sim;`.
#![allow(dead_code, unreachable_pub)]

mod commits;
mod faults;
mod git;
mod graphql;
mod handlers;
mod issues;
mod plain_issues;
mod pulls;
mod render;
mod routes;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use self::routes::{Inner, Shared};
use self::state::{CheckRunRec, CommentRec, ReviewRec, StatusRec};

/// Login of the authenticated user (the bot the token belongs to).
pub const BOT_LOGIN: &str = "fleetmod-bot";

/// Server configuration.
#[derive(Clone)]
pub struct Options {
    /// Route prefix: `""` (github.com style) or e.g. `"/api/v3"` (GHE style).
    pub prefix: String,
    /// Requests must send `Authorization: Bearer <token>` or `token <token>`.
    pub token: String,
    /// Value of the `x-oauth-scopes` header.
    pub scopes: String,
    /// Current time in unix milliseconds.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Secondary limit: mutating requests per sliding minute.
    pub per_minute: usize,
    /// Secondary limit: mutating requests per sliding hour.
    pub per_hour: usize,
    /// Primary limit (`x-ratelimit-limit`) per hour.
    pub primary_limit: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            prefix: String::new(),
            token: "sim-token".to_string(),
            scopes: "repo, workflow".to_string(),
            clock: Arc::new(system_clock),
            per_minute: 80,
            per_hour: 500,
            primary_limit: 5000,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("prefix", &self.prefix)
            .field("scopes", &self.scopes)
            .field("per_minute", &self.per_minute)
            .field("per_hour", &self.per_hour)
            .field("primary_limit", &self.primary_limit)
            .finish_non_exhaustive()
    }
}

/// Wall-clock time in unix milliseconds.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Fault injection configuration. `Faults::default()` injects nothing.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Fraction (0..=1) of admitted requests that get a fault.
    pub rate: f64,
    /// Seed of the deterministic fault stream.
    pub seed: u64,
    /// Kinds to choose from (uniformly, among those applicable).
    pub kinds: Vec<Fault>,
    /// Delay of [`Fault::Slow`].
    pub slow_ms: u64,
    /// Delay of [`Fault::Timeout`] (make it longer than the client timeout).
    pub timeout_ms: u64,
}

/// An injectable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 500 without running the endpoint.
    ServerError,
    /// 502 without running the endpoint.
    BadGateway,
    /// 403 secondary rate limit with `retry-after: 1..=3`.
    SecondaryWithRetryAfter,
    /// 403 secondary rate limit with no `retry-after` and remaining quota.
    SecondaryNoHeaders,
    /// 429 with `retry-after: 1..=3`.
    TooManyRequests,
    /// Only for `POST .../pulls`: create the pull request, then answer 422
    /// "A pull request already exists" (a lost response).
    AlreadyExists,
    /// Run the endpoint (mutation included), then answer 502.
    CreatedThenServerError,
    /// Sleep `slow_ms`, then answer normally.
    Slow,
    /// Run the endpoint, then sleep `timeout_ms` before answering.
    Timeout,
}

/// Request counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request received (including rejected ones).
    pub requests: usize,
    /// Every POST/PATCH/PUT/DELETE received.
    pub mutating: usize,
    pub faults_injected: usize,
    /// Requests rejected by the simulator's secondary-limit enforcement.
    pub limited: usize,
    /// Max over every sliding 60 s window of mutating requests received.
    pub max_mutating_per_minute: usize,
    /// Keyed `"METHOD /route/{template}"`.
    pub by_endpoint: BTreeMap<String, usize>,
    pub mutating_by_endpoint: BTreeMap<String, usize>,
}

/// A pull request as the test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSnapshot {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    /// `"open"` or `"closed"`.
    pub state: String,
    pub merged: bool,
    pub draft: bool,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub requested_teams: Vec<String>,
    /// Comment bodies, oldest first.
    pub comments: Vec<String>,
    pub head_sha: String,
}

/// A comment as the test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentSnapshot {
    pub id: u64,
    pub user: String,
    pub body: String,
}

/// A plain issue (not a pull request) as the test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueSnapshot {
    pub number: u64,
    pub user: String,
    pub title: String,
    pub body: String,
    /// `"open"` or `"closed"`.
    pub state: String,
    /// Oldest first.
    pub comments: Vec<CommentSnapshot>,
}

/// A running simulated GitHub. Dropping it shuts the server down.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl Simulator {
    /// Starts on `127.0.0.1:<random port>` with a fresh temporary root.
    pub fn start(options: Options) -> Simulator {
        let dir = tempfile::tempdir().expect("github_sim: create temp dir");
        let root = dir.path().to_path_buf();
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Simulator::launch(options, addr, root, Some(dir))
    }

    /// Starts on `addr` with repositories under `root` (kept on drop).
    /// Bare repositories already at `root/<owner>/<name>.git` are served.
    pub fn start_at(options: Options, addr: SocketAddr, root: PathBuf) -> Simulator {
        std::fs::create_dir_all(&root).expect("github_sim: create root");
        let root = root.canonicalize().unwrap_or(root);
        Simulator::launch(options, addr, root, None)
    }

    fn launch(
        options: Options,
        addr: SocketAddr,
        root: PathBuf,
        tempdir: Option<tempfile::TempDir>,
    ) -> Simulator {
        let listener = std::net::TcpListener::bind(addr).expect("github_sim: bind");
        listener
            .set_nonblocking(true)
            .expect("github_sim: set_nonblocking");
        let addr = listener.local_addr().expect("github_sim: local_addr");
        let urls = routes::urls_for(addr, &options.prefix);
        let shared = Arc::new(Shared {
            options,
            urls,
            root,
            inner: Mutex::new(Inner::default()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("github-sim".to_string())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("github_sim: tokio runtime");
                runtime.block_on(routes::serve(listener, server, rx));
                runtime.shutdown_background();
            })
            .expect("github_sim: spawn server thread");
        Simulator {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
            _tempdir: tempdir,
        }
    }

    /// `http://127.0.0.1:PORT{prefix}`.
    pub fn api_url(&self) -> String {
        self.shared.urls.api.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Directory holding the bare repositories (`root/<owner>/<name>.git`).
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    fn now(&self) -> i64 {
        self.shared.now()
    }

    /// Creates a bare repository with default branch `main` holding one
    /// commit of `files` (paths may contain `/`); returns its path. A bare
    /// repository already on disk there (a persistent `start_at` root) is
    /// registered as it is.
    pub fn add_repo(&self, owner: &str, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let path = self.repo_path(owner, name);
        let now = self.now();
        if !path.join("HEAD").is_file() {
            git::init_bare(&path, files, now).expect("github_sim: init bare repository");
        }
        self.shared
            .lock()
            .world
            .insert_repo(owner, name, path.clone(), now);
        path
    }

    /// Where the bare repository of `owner/name` lives.
    pub fn repo_path(&self, owner: &str, name: &str) -> PathBuf {
        self.root().join(owner).join(format!("{name}.git"))
    }

    /// Commits `files` on `branch` (created from the default branch when
    /// missing) directly in the bare repository; returns the new sha.
    /// Stands in for a push by someone else.
    pub fn commit_files(
        &self,
        owner: &str,
        name: &str,
        branch: &str,
        files: &[(&str, &str)],
        message: &str,
    ) -> String {
        git::commit_files(
            &self.repo_path(owner, name),
            branch,
            None,
            files,
            message,
            self.now(),
        )
        .expect("github_sim: commit files")
    }

    /// Current sha of `branch`, or `None` when it does not exist.
    pub fn branch_sha(&self, owner: &str, name: &str, branch: &str) -> Option<String> {
        git::branch_sha(&self.repo_path(owner, name), branch)
            .ok()
            .flatten()
    }

    /// Archived repositories answer 403 to every mutating request.
    pub fn set_archived(&self, owner: &str, name: &str, archived: bool) {
        let mut inner = self.shared.lock();
        let repo = inner
            .world
            .repo_mut(owner, name)
            .expect("github_sim: unknown repository");
        repo.archived = archived;
    }

    /// Replaces the fault configuration (and restarts its random stream).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().traffic.set_faults(faults);
    }

    /// Gives the next request to `endpoint` (`"METHOD /template"`, as in
    /// [`Stats::by_endpoint`]) `fault`, whatever [`Faults`] says: e.g.
    /// `Fault::CreatedThenServerError` on `"POST
    /// /repos/{owner}/{repo}/issues"` creates the issue and loses the
    /// answer.
    pub fn fail_next(&self, endpoint: &str, fault: Fault) {
        self.shared.lock().traffic.schedule(endpoint, fault);
    }

    /// A copy of the request counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().traffic.stats.clone()
    }

    /// Zeroes the counters (not the rate-limit windows), e.g. after setup.
    pub fn reset_stats(&self) {
        self.shared.lock().traffic.stats = Stats::default();
    }

    /// Pull requests of a repository, by number, with current head shas.
    pub fn pulls(&self, owner: &str, name: &str) -> Vec<PullSnapshot> {
        let mut inner = self.shared.lock();
        let Some(repo) = inner.world.repo_mut(owner, name) else {
            return Vec::new();
        };
        let path = repo.path.clone();
        let mut out: Vec<PullSnapshot> = repo
            .pulls
            .iter_mut()
            .map(|p| {
                if p.open
                    && let Ok(Some(sha)) = git::branch_sha(&path, &p.head_ref)
                {
                    p.head_sha = sha;
                }
                PullSnapshot {
                    number: p.number,
                    head: p.head_ref.clone(),
                    base: p.base_ref.clone(),
                    title: p.title.clone(),
                    body: p.body.clone().unwrap_or_default(),
                    state: if p.open { "open" } else { "closed" }.to_string(),
                    merged: p.merged(),
                    draft: p.draft,
                    labels: p.labels.clone(),
                    assignees: p.assignees.clone(),
                    requested_reviewers: p.requested_reviewers.clone(),
                    requested_teams: p.requested_teams.clone(),
                    comments: p.comments.iter().map(|c| c.body.clone()).collect(),
                    head_sha: p.head_sha.clone(),
                }
            })
            .collect();
        out.sort_by_key(|p| p.number);
        out
    }

    fn with_pull<T>(
        &self,
        owner: &str,
        name: &str,
        number: u64,
        f: impl FnOnce(&Path, &mut state::Pull, i64) -> T,
    ) -> T {
        let now = self.now();
        let mut inner = self.shared.lock();
        let repo = inner
            .world
            .repo_mut(owner, name)
            .expect("github_sim: unknown repository");
        let path = repo.path.clone();
        let pull = repo
            .pull_mut(number)
            .expect("github_sim: unknown pull request");
        f(&path, pull, now)
    }

    /// Merges an open pull request for real (fast-forward, else a merge
    /// commit on the base branch), as a human pressing the button would.
    pub fn merge(&self, owner: &str, name: &str, number: u64) {
        self.with_pull(owner, name, number, |path, p, now| {
            assert!(p.open, "github_sim: pull request #{number} is not open");
            let head = git::branch_sha(path, &p.head_ref)
                .ok()
                .flatten()
                .unwrap_or_else(|| p.head_sha.clone());
            p.head_sha = head.clone();
            let message = format!("Merge pull request #{number} from {owner}/{}", p.head_ref);
            let sha = git::merge_into(
                path,
                &p.base_ref,
                &head,
                git::MergeMethod::FastForwardOrMerge,
                &message,
                now,
            )
            .expect("github_sim: merge")
            .expect("github_sim: merge conflicts");
            pulls::mark_merged(p, &sha, now);
        });
    }

    /// Closes a pull request without merging.
    pub fn close(&self, owner: &str, name: &str, number: u64) {
        self.with_pull(owner, name, number, |_, p, now| {
            if p.open {
                p.open = false;
                p.closed_at = Some(now);
                p.updated_at = now;
            }
        });
    }

    /// Marks a pull request draft or ready.
    pub fn set_draft(&self, owner: &str, name: &str, number: u64, draft: bool) {
        self.with_pull(owner, name, number, |_, p, now| {
            p.draft = draft;
            p.updated_at = now;
        });
    }

    /// `sha` may also be a branch name. `conclusion: None` = in progress.
    pub fn add_check_run(
        &self,
        owner: &str,
        name: &str,
        sha: &str,
        name_: &str,
        conclusion: Option<&str>,
    ) {
        let sha = self.resolve(owner, name, sha);
        let now = self.now();
        let mut inner = self.shared.lock();
        let id = inner.world.next_id();
        let repo = inner
            .world
            .repo_mut(owner, name)
            .expect("github_sim: unknown repository");
        repo.check_runs.push(CheckRunRec {
            id,
            sha,
            name: name_.to_string(),
            conclusion: conclusion.map(str::to_string),
            started_at: now,
        });
    }

    /// `sha` may also be a branch name; `state` is success, pending,
    /// failure or error.
    pub fn add_status(&self, owner: &str, name: &str, sha: &str, context: &str, state: &str) {
        let sha = self.resolve(owner, name, sha);
        let now = self.now();
        let mut inner = self.shared.lock();
        let id = inner.world.next_id();
        let repo = inner
            .world
            .repo_mut(owner, name)
            .expect("github_sim: unknown repository");
        repo.statuses.push(StatusRec {
            id,
            sha,
            context: context.to_string(),
            state: state.to_string(),
            created_at: now,
        });
    }

    fn resolve(&self, owner: &str, name: &str, spec: &str) -> String {
        git::resolve_commitish(&self.repo_path(owner, name), spec)
            .ok()
            .flatten()
            .unwrap_or_else(|| spec.to_string())
    }

    /// A review by `user` (APPROVED, CHANGES_REQUESTED or COMMENTED) on
    /// the current head; it satisfies `user`'s pending review request.
    pub fn add_review(&self, owner: &str, name: &str, number: u64, user: &str, state: &str) {
        let id = self.shared.lock().world.next_id();
        self.with_pull(owner, name, number, |path, p, now| {
            if p.open
                && let Ok(Some(sha)) = git::branch_sha(path, &p.head_ref)
            {
                p.head_sha = sha;
            }
            p.requested_reviewers
                .retain(|r| !r.eq_ignore_ascii_case(user));
            p.reviews.push(ReviewRec {
                id,
                user: user.to_string(),
                body: String::new(),
                state: state.to_string(),
                commit_id: p.head_sha.clone(),
                submitted_at: now,
            });
            p.updated_at = now;
        });
    }

    /// An issue comment by `user` on a pull request or a plain issue;
    /// returns its id.
    pub fn add_comment(&self, owner: &str, name: &str, number: u64, user: &str, body: &str) -> u64 {
        let now = self.now();
        let mut inner = self.shared.lock();
        let id = inner.world.next_id();
        let comment = CommentRec {
            id,
            user: user.to_string(),
            body: body.to_string(),
            created_at: now,
            updated_at: now,
        };
        let added = inner
            .world
            .repo_mut(owner, name)
            .is_some_and(|repo| repo.push_comment(number, comment, now));
        assert!(added, "github_sim: no pull request or issue #{number}");
        id
    }

    /// Plain issues of a repository (pull requests left out), by number.
    pub fn issues(&self, owner: &str, name: &str) -> Vec<IssueSnapshot> {
        let inner = self.shared.lock();
        let Some(repo) = inner.world.repo(owner, name) else {
            return Vec::new();
        };
        let mut out: Vec<IssueSnapshot> = repo
            .issues
            .iter()
            .map(|i| IssueSnapshot {
                number: i.number,
                user: i.user.clone(),
                title: i.title.clone(),
                body: i.body.clone().unwrap_or_default(),
                state: if i.open { "open" } else { "closed" }.to_string(),
                comments: i
                    .comments
                    .iter()
                    .map(|c| CommentSnapshot {
                        id: c.id,
                        user: c.user.clone(),
                        body: c.body.clone(),
                    })
                    .collect(),
            })
            .collect();
        out.sort_by_key(|i| i.number);
        out
    }

    /// An issue opened by `user` (a person, or [`BOT_LOGIN`]); returns its
    /// number.
    pub fn add_issue(&self, owner: &str, name: &str, user: &str, title: &str, body: &str) -> u64 {
        let now = self.now();
        let mut inner = self.shared.lock();
        let id = inner.world.next_id();
        let repo = inner
            .world
            .repo_mut(owner, name)
            .expect("github_sim: unknown repository");
        let number = repo.next_number();
        repo.issues.push(state::Issue {
            number,
            id,
            user: user.to_string(),
            title: title.to_string(),
            body: Some(body.to_string()),
            open: true,
            closed_at: None,
            created_at: now,
            updated_at: now,
            comments: Vec::new(),
        });
        number
    }

    /// Closes a plain issue, as a person would.
    pub fn close_issue(&self, owner: &str, name: &str, number: u64) {
        let now = self.now();
        let mut inner = self.shared.lock();
        let issue = inner
            .world
            .repo_mut(owner, name)
            .and_then(|repo| repo.issue_mut(number))
            .expect("github_sim: unknown issue");
        if issue.open {
            issue.open = false;
            issue.closed_at = Some(now);
            issue.updated_at = now;
        }
    }

    /// Declares team `org/slug`, which may then be requested as reviewer
    /// on `org`'s repositories.
    pub fn add_team(&self, org: &str, slug: &str) {
        self.shared
            .lock()
            .world
            .teams
            .insert((org.to_string(), slug.to_string()));
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
