//! The GitHub forge against the project's GitHub simulator: a real HTTP
//! server on 127.0.0.1 with real bare repositories, GitHub's paths and
//! shapes, its secondary limits, and injected faults.
//!
//! The fleet-scale tests run the library in-process on a simulated clock
//! that the simulator shares, so an hour of rate limits passes in moments;
//! the others run the binary against the simulator in real time. The
//! tracking-issue tests call the forge directly, on the simulated clock,
//! and check what the simulator holds afterwards.

#[path = "common/mod.rs"]
mod common;
#[path = "github_sim/mod.rs"]
mod github_sim;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fleetmod::catalog::RepoName;
use fleetmod::engine::Scanner;
use fleetmod::fleet::{self, Fleet, RunOptions, Workspace};
use fleetmod::forge::github::{GitHubForge, PublishedIssue, tracking_marker};
use fleetmod::forge::{Forge, NewPullRequest};
use fleetmod::migrate::Migration;
use fleetmod::progress::Silent;
use fleetmod::rule::RuleSet;
use fleetmod::spec::{GitHubAuth, GitHubSettings, RequestLimits, Spec};
use fleetmod::store::time::{Clock, ManualClock};
use fleetmod::store::{RateLedger, RepoState, SqliteStore, StateStore};
use github_sim::{Fault, Faults, IssueSnapshot, Options, Simulator};

const TOKEN: &str = "ghp_fleetmodTestToken0123456789abcdefXYZ";

/// Python that reads the old table (changes) or another one (no change).
fn source(index: usize, changes: bool) -> String {
    if changes {
        format!("QUERY_{index} = \"SELECT cust_id, amt FROM sales.orders WHERE amt > {index}\"\n")
    } else {
        format!("QUERY_{index} = \"SELECT sku FROM sales.order_items LIMIT {index}\"\n")
    }
}

/// `count` repositories `acme/repo-NNN` on the simulator (every fifth needs
/// no change) and a spec listing them, with `forge` settings appended.
fn project(simulator: &Simulator, count: usize, forge: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let mut repos = String::new();
    for index in 0..count {
        let name = format!("repo-{index:03}");
        simulator.add_repo(
            "acme",
            &name,
            &[("src/query.py", &source(index, index % 5 != 4))],
        );
        repos.push_str(&format!("    - acme/{name}\n"));
    }
    let spec = folder.path().join("migration.yaml");
    std::fs::write(
        &spec,
        format!(
            "id: orders-v2
dataset:
  from: sales.orders
  to: sales_v2.orders
  columns: {{cust_id: customer_id, amt: amount_usd}}
consumers:
  repos:
{repos}pull_request:
  labels: [data-migration]
forge:
  kind: github
  api_url: {}
  token_env: FLEETMOD_TEST_TOKEN
{forge}",
            simulator.api_url()
        ),
    )
    .expect("write the spec");
    (folder, spec)
}

fn simulator(prefix: &str, clock: Option<Arc<ManualClock>>) -> Simulator {
    let mut options = Options {
        prefix: prefix.to_owned(),
        token: TOKEN.to_owned(),
        ..Options::default()
    };
    if let Some(clock) = clock {
        options.clock = Arc::new(move || clock.now_ms());
    }
    let simulator = Simulator::start(options);
    simulator.add_team("acme", "data");
    simulator
}

/// Runs the spec once in-process on `clock`; returns the repositories
/// whose records are not where a finished run leaves them.
fn run_in_process(spec: &Path, workspace: &Path, clock: &Arc<ManualClock>) -> Vec<String> {
    let spec = Spec::load(spec).expect("valid spec");
    let consumers = fleet::consumers::resolve(&spec).expect("consumers");
    let rules = RuleSet::load(&spec.rule_files, None).expect("rules");
    let migration = Migration::new(&spec);
    let scanner = Scanner::new(&rules).with_migration(&migration);
    let workspace = Workspace::new(workspace);
    let ledger = RateLedger::open(&workspace.state_path()).expect("ledger");
    let settings = spec.forge.github.clone().expect("a GitHub forge");
    let clock: Arc<dyn Clock> = clock.clone();
    let forge = GitHubForge::with_token(&settings, TOKEN, ledger, clock).expect("connects");
    let mut store = SqliteStore::open(&workspace.state_path()).expect("store");
    let fleet = Fleet {
        spec: &spec,
        scanner: &scanner,
        forge: &forge,
        workspace: &workspace,
        rules_hash: fleet::rules_hash(&spec),
    };
    let options = RunOptions {
        dry_run: false,
        only: Vec::new(),
        retry_failed: true,
        max_filesize: 5 << 20,
    };
    fleet::run(
        &fleet,
        &mut store,
        &consumers,
        &options,
        &Silent,
        &AtomicBool::new(false),
    )
    .expect("runs");
    store
        .records("orders-v2")
        .expect("records")
        .into_iter()
        .filter(|record| !matches!(record.state, RepoState::PrOpen | RepoState::NoChange))
        .map(|record| format!("{} {} {:?}", record.repo, record.state, record.last_error))
        .collect()
}

/// The binary's `subcommand` on `spec` with the test token, logging
/// everything it can.
fn fleetmod_with_token(
    folder: &Path,
    subcommand: &str,
    spec: &Path,
    workspace: &Path,
) -> std::process::Output {
    common::fleetmod(folder)
        .arg(subcommand)
        .arg(spec)
        .arg("--workspace")
        .arg(workspace)
        .env("FLEETMOD_TEST_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .output()
        .expect("runs")
}

#[test]
fn a_hundred_repositories_through_faults_get_exactly_one_pull_request_each() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let simulator = simulator("", Some(clock.clone()));
    // No minimum interval: the per-minute budget is what holds the pace.
    let (folder, spec) = project(
        &simulator,
        100,
        "  reviewers: [alice, acme/data]\n  assignees: [bob]\n  requests: {min_interval: 0s, timeout: 1s}\n",
    );
    simulator.set_faults(Faults {
        rate: 0.10,
        seed: 7,
        kinds: vec![
            Fault::ServerError,
            Fault::BadGateway,
            Fault::SecondaryWithRetryAfter,
            Fault::SecondaryNoHeaders,
            Fault::TooManyRequests,
            Fault::AlreadyExists,
            Fault::CreatedThenServerError,
            Fault::Slow,
            Fault::Timeout,
        ],
        slow_ms: 20,
        timeout_ms: 1_300,
    });
    let workspace = folder.path().join("workspace");
    // A fault can still fail a repository's step; the next run retries it.
    let mut unfinished = Vec::new();
    for _ in 0..3 {
        unfinished = run_in_process(&spec, &workspace, &clock);
        if unfinished.is_empty() {
            break;
        }
    }
    assert!(unfinished.is_empty(), "not finished: {unfinished:#?}");
    let stats = simulator.stats();
    assert!(stats.faults_injected > 50, "{stats:#?}");
    assert_eq!(
        stats.limited, 0,
        "the simulator never had to enforce its limits"
    );
    assert!(stats.max_mutating_per_minute <= 80, "{stats:#?}");
    // The budget was what paced the run: it was used to the full.
    assert!(stats.max_mutating_per_minute >= 60, "{stats:#?}");

    let store = SqliteStore::open(&workspace.join("state.db")).expect("store");
    let records = store.records("orders-v2").expect("records");
    assert_eq!(records.len(), 100);
    for (index, record) in records.iter().enumerate() {
        let name = format!("repo-{index:03}");
        let pulls = simulator.pulls("acme", &name);
        if index % 5 == 4 {
            assert_eq!(record.state, RepoState::NoChange, "{name}");
            assert!(pulls.is_empty(), "{name}: {pulls:#?}");
            continue;
        }
        assert_eq!(
            pulls.len(),
            1,
            "{name}: exactly one pull request: {pulls:#?}"
        );
        let pull = &pulls[0];
        assert_eq!(record.state, RepoState::PrOpen, "{name}");
        assert_eq!(record.pull_request, Some(pull.number), "{name}");
        assert_eq!(pull.state, "open");
        assert_eq!(pull.head, "fleetmod/orders-v2");
        assert_eq!(record.pushed_sha.as_deref(), Some(pull.head_sha.as_str()));
        assert_eq!(pull.labels, ["data-migration"], "{name}");
        assert_eq!(pull.assignees, ["bob"], "{name}");
        assert_eq!(pull.requested_reviewers, ["alice"], "{name}");
        assert_eq!(pull.requested_teams, ["data"], "{name}");
        assert!(
            pull.comments.is_empty(),
            "{name}: no duplicate comments: {:?}",
            pull.comments
        );
    }

    // A second run against the same state sends no mutating request.
    simulator.set_faults(Faults::default());
    simulator.reset_stats();
    assert!(run_in_process(&spec, &workspace, &clock).is_empty());
    let stats = simulator.stats();
    assert_eq!(stats.mutating, 0, "{:#?}", stats.mutating_by_endpoint);
    assert!(stats.requests > 0);
}

#[test]
fn sync_records_checks_reviews_and_merges() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let simulator = simulator("", Some(clock.clone()));
    let (folder, spec) = project(&simulator, 3, "  requests: {min_interval: 0s}\n");
    let workspace = folder.path().join("workspace");
    assert!(run_in_process(&spec, &workspace, &clock).is_empty());
    let head = simulator.pulls("acme", "repo-000")[0].head_sha.clone();
    simulator.add_check_run("acme", "repo-000", &head, "ci", Some("success"));
    simulator.add_status("acme", "repo-000", &head, "lint", "success");
    simulator.add_review("acme", "repo-000", 1, "carol", "APPROVED");
    let head = simulator.pulls("acme", "repo-001")[0].head_sha.clone();
    simulator.add_check_run("acme", "repo-001", &head, "ci", Some("failure"));
    simulator.add_review("acme", "repo-001", 1, "carol", "CHANGES_REQUESTED");
    simulator.merge("acme", "repo-002", 1);

    let output = fleetmod_with_token(folder.path(), "sync", &spec, &workspace);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("acme/repo-000  synced: checks success, review approved, mergeable"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/repo-001  synced: checks failure, review changes-requested"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/repo-002  synced: pull request #1 was merged by a person"),
        "{stdout}"
    );

    let store = SqliteStore::open(&workspace.join("state.db")).expect("store");
    let records = store.records("orders-v2").expect("records");
    use fleetmod::store::{Checks, ReviewDecision};
    assert_eq!(records[0].checks, Some(Checks::Success));
    assert_eq!(records[0].review, Some(ReviewDecision::Approved));
    assert_eq!(records[0].mergeable, Some(true));
    assert_eq!(records[1].checks, Some(Checks::Failure));
    assert_eq!(records[1].review, Some(ReviewDecision::ChangesRequested));
    assert_eq!(records[2].state, RepoState::Merged);
    // Nothing new: a second sync records nothing.
    let events = store.events("orders-v2").expect("events").len();
    let output = fleetmod_with_token(folder.path(), "sync", &spec, &workspace);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(store.events("orders-v2").expect("events").len(), events);
}

/// Every file under `folder`, as bytes.
fn contents_under(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir").flatten() {
                pending.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn enterprise_api_root_with_pagination_drafts_and_no_token_anywhere() {
    let simulator = simulator("/api/v3", None);
    let (folder, spec) = project(
        &simulator,
        4,
        "  reviewers: [acme/data]\n  requests: {min_interval: 0s}\n",
    );
    // A repository the token cannot reach fails on its own.
    let text = std::fs::read_to_string(&spec).unwrap();
    let text = text.replace(
        "    - acme/repo-003\n",
        "    - acme/repo-003\n    - acme/missing\n",
    );
    let draft = text.replace(
        "  labels: [data-migration]\n",
        "  labels: [data-migration]\n  draft: true\n",
    );
    std::fs::write(&spec, &draft).unwrap();
    let workspace = folder.path().join("workspace");
    let run = || fleetmod_with_token(folder.path(), "run", &spec, &workspace);
    let mut logs: Vec<u8> = Vec::new();
    let first = run();
    logs.extend(&first.stdout);
    logs.extend(&first.stderr);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("acme/missing"), "{stdout}");
    assert!(stdout.contains("does not exist on the forge"), "{stdout}");
    for name in ["repo-000", "repo-001", "repo-002"] {
        let pulls = simulator.pulls("acme", name);
        assert_eq!(pulls.len(), 1, "{name}");
        assert!(pulls[0].draft, "{name}: opened as a draft");
        assert_eq!(pulls[0].requested_teams, ["data"]);
    }

    // Closed by fleetmod itself, its comment on the second page: only a
    // client that follows the pagination under /api/v3 sees it, and opens a
    // new pull request instead of treating the close as a person's.
    for index in 0..120 {
        simulator.add_comment("acme", "repo-000", 1, "reviewer", &format!("note {index}"));
    }
    simulator.add_comment(
        "acme",
        "repo-000",
        1,
        github_sim::BOT_LOGIN,
        "fleetmod is closing this pull request: testing.",
    );
    simulator.close("acme", "repo-000", 1);
    // No longer a draft: the open ones are marked ready through GraphQL
    // beside the API root (/api/graphql).
    std::fs::write(&spec, &text).unwrap();
    let second = run();
    logs.extend(&second.stdout);
    logs.extend(&second.stderr);
    let pulls = simulator.pulls("acme", "repo-000");
    assert_eq!(pulls.len(), 2, "a new pull request: {pulls:#?}");
    let new = pulls.iter().find(|pull| pull.number == 2).expect("#2");
    assert_eq!(new.state, "open");
    assert!(!new.draft);
    for name in ["repo-001", "repo-002"] {
        let pulls = simulator.pulls("acme", name);
        assert_eq!(pulls.len(), 1, "{name}");
        assert!(!pulls[0].draft, "{name}: marked ready");
    }
    let stats = simulator.stats();
    assert!(
        stats.by_endpoint.contains_key("POST /graphql"),
        "{stats:#?}"
    );

    // The token is nowhere: not in the output or logs, not in the state
    // store, not in any git config or other file of the workspace.
    assert!(!contains(&logs, TOKEN), "the token leaked into the output");
    let files = contents_under(&workspace);
    assert!(files.iter().any(|(path, _)| path.ends_with("config")));
    assert!(files.iter().any(|(path, _)| path.ends_with("state.db")));
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, TOKEN),
            "the token leaked into {}",
            path.display()
        );
    }
}

#[test]
fn forge_check_reports_each_unreachable_repository() {
    let simulator = simulator("", None);
    let (folder, spec) = project(&simulator, 2, "");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace(
            "    - acme/repo-001\n",
            "    - acme/repo-001\n    - acme/gone\n",
        ),
    )
    .unwrap();
    simulator.set_archived("acme", "repo-001", true);
    let output = common::fleetmod(folder.path())
        .args(["forge", "check"])
        .arg(&spec)
        .arg("--workspace")
        .arg(folder.path().join("workspace"))
        .env("FLEETMOD_TEST_TOKEN", TOKEN)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout.contains("token of fleetmod-bot at"), "{stdout}");
    // `GET /user`'s rate-limit headers are recorded under the credential's
    // name, which that very request revealed.
    assert!(
        stdout.contains("; 4999 requests left until the hourly reset)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/repo-000  ok (default branch main)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/repo-001  error: the repository is archived"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme/gone  error: repository acme/gone does not exist on the forge"),
        "{stdout}"
    );

    let output = common::fleetmod(folder.path())
        .args(["forge", "check"])
        .arg(&spec)
        .arg("--workspace")
        .arg(folder.path().join("workspace"))
        .env("FLEETMOD_TEST_TOKEN", "wrong")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr.contains("refused the token (401"), "{stderr}");
    assert!(!stderr.contains("wrong"), "{stderr}");
}

#[test]
fn automerge_merges_through_github_only_at_the_pushed_head() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let simulator = simulator("", Some(clock.clone()));
    let (folder, spec) = project(&simulator, 4, "  requests: {min_interval: 0s}\n");
    let text = std::fs::read_to_string(&spec).unwrap()
        + "rollout:\n  automerge: {when: [checks-green, approved], method: squash}\n";
    std::fs::write(&spec, text).unwrap();
    let workspace = folder.path().join("workspace");
    assert!(run_in_process(&spec, &workspace, &clock).is_empty());
    // CI passes and a reviewer approves everywhere; on repo-002 a person
    // pushes after that; repo-003's checks are still running.
    for (name, conclusion) in [
        ("repo-000", Some("success")),
        ("repo-001", Some("success")),
        ("repo-002", Some("success")),
        ("repo-003", None),
    ] {
        let head = simulator.pulls("acme", name)[0].head_sha.clone();
        simulator.add_check_run("acme", name, &head, "ci", conclusion);
        simulator.add_review("acme", name, 1, "alice", "APPROVED");
    }
    simulator.commit_files(
        "acme",
        "repo-002",
        "fleetmod/orders-v2",
        &[("NOTES.md", "by hand\n")],
        "Tune by hand",
    );
    run_in_process(&spec, &workspace, &clock);
    let merged = |name: &str| simulator.pulls("acme", name)[0].merged;
    assert!(merged("repo-000") && merged("repo-001"));
    assert!(
        !merged("repo-002"),
        "a head fleetmod did not push is never merged"
    );
    assert!(!merged("repo-003"), "checks still running");
    let store = SqliteStore::open(&workspace.join("state.db")).unwrap();
    let events = store.events("orders-v2").unwrap();
    assert!(events.iter().any(|event| {
        event.repo == "acme/repo-000"
            && event.to == RepoState::Merged
            && event
                .detail
                .starts_with("fleetmod merged pull request #1 (squash)")
    }));
    let record = store
        .record(
            "orders-v2",
            &fleetmod::catalog::RepoName::parse("acme/repo-002").unwrap(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(record.state, RepoState::NeedsAttention);
}

/// The repository the tracking-issue tests publish to.
const TRACKED: (&str, &str) = ("acme", "tracked");
/// The create endpoints, as the simulator counts requests.
const CREATE_ISSUE: &str = "POST /repos/{owner}/{repo}/issues";
const CREATE_COMMENT: &str = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments";

/// A simulator on `clock` with `acme/tracked`, and a forge on it for
/// library calls (its rate ledger in `folder`).
fn tracking_setup(folder: &Path, clock: &Arc<ManualClock>) -> (Simulator, GitHubForge, RepoName) {
    let simulator = simulator("", Some(clock.clone()));
    simulator.add_repo(TRACKED.0, TRACKED.1, &[("README.md", "tracked\n")]);
    let settings = GitHubSettings {
        api_url: simulator.api_url(),
        auth: GitHubAuth::Token {
            env: "FLEETMOD_TEST_TOKEN".to_owned(),
        },
        requests: RequestLimits {
            min_interval_ms: 0,
            ..RequestLimits::default()
        },
    };
    let ledger = RateLedger::open(&folder.join("state.db")).expect("ledger");
    let forge_clock: Arc<dyn Clock> = clock.clone();
    let forge = GitHubForge::with_token(&settings, TOKEN, ledger, forge_clock).expect("connects");
    let repo = RepoName::parse("acme/tracked").expect("a repository name");
    (simulator, forge, repo)
}

fn texts(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|part| (*part).to_owned()).collect()
}

/// What GitHub should hold for part `part`.
fn marked(migration: &str, part: usize, text: &str) -> String {
    format!("{}\n{text}", tracking_marker(migration, part))
}

/// The issues of `acme/tracked` that carry `migration`'s part-1 marker.
fn tracking_issues(simulator: &Simulator, migration: &str) -> Vec<IssueSnapshot> {
    let marker = tracking_marker(migration, 1);
    simulator
        .issues(TRACKED.0, TRACKED.1)
        .into_iter()
        .filter(|issue| issue.body.contains(&marker))
        .collect()
}

/// The one tracking issue of `migration`.
fn the_tracking_issue(simulator: &Simulator, migration: &str) -> IssueSnapshot {
    let mut issues = tracking_issues(simulator, migration);
    assert_eq!(issues.len(), 1, "exactly one tracking issue: {issues:#?}");
    issues.remove(0)
}

/// Bodies of an issue's comments, oldest first.
fn comment_bodies(issue: &IssueSnapshot) -> Vec<&str> {
    issue
        .comments
        .iter()
        .map(|comment| comment.body.as_str())
        .collect()
}

/// A publish's counters, for comparing.
fn counts(published: &PublishedIssue) -> (bool, bool, usize, usize, usize) {
    (
        published.created,
        published.updated,
        published.comments_created,
        published.comments_updated,
        published.comments_deleted,
    )
}

#[test]
fn the_tracking_issue_is_created_then_updated_in_place_and_never_duplicated() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    let title = "fleetmod: orders-v2";
    // A person's issue with the same title, and a pull request quoting the
    // marker: neither is the tracking issue.
    let person_issue = simulator.add_issue("acme", "tracked", "alice", title, "Same title.");
    simulator.commit_files("acme", "tracked", "quote", &[("a.txt", "a\n")], "Quote");
    let quoting = marked("orders-v2", 1, "quoted");
    let request = NewPullRequest {
        head: "quote",
        base: "main",
        title: "Quote the marker",
        body: &quoting,
        labels: &[],
        reviewers: &[],
        assignees: &[],
        draft: false,
    };
    forge
        .create_pull_request(&repo, &request)
        .expect("a pull request");

    let publish = |parts: &[&str]| {
        forge
            .publish_tracking_issue(&repo, "orders-v2", title, &texts(parts))
            .expect("publishes")
    };
    let first = publish(&["Part one"]);
    assert_eq!(counts(&first), (true, false, 0, 0, 0));
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.number, first.number);
    assert_eq!(
        issue.number, 3,
        "numbered after the issue and the pull request"
    );
    assert!(
        first.url.ends_with("/acme/tracked/issues/3"),
        "{}",
        first.url
    );
    assert_eq!(issue.title, title);
    assert_eq!(issue.body, marked("orders-v2", 1, "Part one"));
    assert_eq!(issue.state, "open");
    assert_eq!(issue.user, github_sim::BOT_LOGIN);

    // Newer issues push it to the list's second page; the same content
    // again sends no write at all.
    for index in 0..120 {
        simulator.add_issue("acme", "tracked", "bob", &format!("issue {index}"), "text");
    }
    simulator.reset_stats();
    let second = publish(&["Part one"]);
    assert_eq!(counts(&second), (false, false, 0, 0, 0));
    assert_eq!(second.number, first.number);
    let stats = simulator.stats();
    assert_eq!(stats.mutating, 0, "{:#?}", stats.mutating_by_endpoint);

    // People comment; three parts add two comments after theirs (on the
    // comment list's second page).
    for index in 0..101 {
        simulator.add_comment(
            "acme",
            "tracked",
            first.number,
            "alice",
            &format!("note {index}"),
        );
    }
    let third = publish(&["Part one, again", "Part two", "Part three"]);
    assert_eq!(counts(&third), (false, true, 2, 0, 0));
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.body, marked("orders-v2", 1, "Part one, again"));
    let bodies = comment_bodies(&issue);
    assert_eq!(bodies.len(), 103);
    assert_eq!(bodies[101], marked("orders-v2", 2, "Part two"));
    assert_eq!(bodies[102], marked("orders-v2", 3, "Part three"));
    let part_two = issue.comments[101].id;

    // Two parts: part 2 is edited in place, part 3's comment goes.
    let fourth = publish(&["Part one, again", "Part two, again"]);
    assert_eq!(counts(&fourth), (false, false, 0, 1, 1));
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.comments.len(), 102);
    assert_eq!(issue.comments[101].id, part_two);
    assert_eq!(
        issue.comments[101].body,
        marked("orders-v2", 2, "Part two, again")
    );
    for (index, comment) in issue.comments[..101].iter().enumerate() {
        assert_eq!(comment.user, "alice");
        assert_eq!(
            comment.body,
            format!("note {index}"),
            "people's comments stay"
        );
    }

    // A duplicate of part 2 (a crashed run's) goes; the oldest stays.
    let duplicate = marked("orders-v2", 2, "Part two, again");
    simulator.add_comment(
        "acme",
        "tracked",
        first.number,
        github_sim::BOT_LOGIN,
        &duplicate,
    );
    let fifth = publish(&["Part one, again", "Part two, again"]);
    assert_eq!(counts(&fifth), (false, false, 0, 0, 1));
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.comments.len(), 102);
    assert_eq!(issue.comments[101].id, part_two);

    // Nothing else was touched.
    let issues = simulator.issues("acme", "tracked");
    assert_eq!(issues.len(), 122);
    let person = issues
        .iter()
        .find(|issue| issue.number == person_issue)
        .expect("the person's issue");
    assert_eq!(
        (person.title.as_str(), person.body.as_str()),
        (title, "Same title.")
    );
    let pulls = simulator.pulls("acme", "tracked");
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].body, quoting);
    assert!(pulls[0].comments.is_empty());
}

#[test]
fn a_lost_answer_to_a_create_leaves_one_tracking_issue_and_one_comment() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    // The first create fails before the write, the second writes and
    // loses the answer; so does the first comment's create.
    simulator.fail_next(CREATE_ISSUE, Fault::ServerError);
    simulator.fail_next(CREATE_ISSUE, Fault::CreatedThenServerError);
    simulator.fail_next(CREATE_COMMENT, Fault::CreatedThenServerError);
    simulator.reset_stats();
    let parts = texts(&["Body", "Second part"]);
    let published = forge
        .publish_tracking_issue(&repo, "orders-v2", "Tracking", &parts)
        .expect("publishes");
    assert_eq!(counts(&published), (true, false, 1, 0, 0));
    let stats = simulator.stats();
    assert_eq!(stats.faults_injected, 3, "{stats:#?}");
    assert_eq!(stats.mutating_by_endpoint[CREATE_ISSUE], 2);
    assert_eq!(stats.mutating_by_endpoint[CREATE_COMMENT], 1);
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.number, published.number);
    assert_eq!(
        comment_bodies(&issue),
        [marked("orders-v2", 2, "Second part")]
    );

    // A rerun (as after a crash that lost the whole answer) finds it all.
    let rerun = forge
        .publish_tracking_issue(&repo, "orders-v2", "Tracking", &parts)
        .expect("publishes");
    assert_eq!(counts(&rerun), (false, false, 0, 0, 0));
    assert_eq!(rerun.number, published.number);
    assert_eq!(simulator.issues("acme", "tracked").len(), 1);
    assert_eq!(
        the_tracking_issue(&simulator, "orders-v2").comments.len(),
        1
    );
}

#[test]
fn a_closed_tracking_issue_is_updated_and_stays_closed() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    let first = forge
        .publish_tracking_issue(&repo, "orders-v2", "Old title", &texts(&["Old"]))
        .expect("publishes");
    simulator.close_issue("acme", "tracked", first.number);
    let second = forge
        .publish_tracking_issue(&repo, "orders-v2", "New title", &texts(&["New", "More"]))
        .expect("publishes");
    assert_eq!(counts(&second), (false, true, 1, 0, 0));
    assert_eq!(second.number, first.number);
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.title, "New title");
    assert_eq!(issue.body, marked("orders-v2", 1, "New"));
    assert_eq!(comment_bodies(&issue), [marked("orders-v2", 2, "More")]);
    assert_eq!(simulator.issues("acme", "tracked").len(), 1);
}

#[test]
fn two_migrations_in_one_repository_get_two_tracking_issues() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    // One id is the start of the other: markers must not mix them up.
    let migrations = ["orders", "orders-v2"];
    let publish = |migration: &str| {
        let parts = texts(&[&format!("{migration} body"), &format!("{migration} part 2")]);
        forge
            .publish_tracking_issue(&repo, migration, &format!("Tracking {migration}"), &parts)
            .expect("publishes")
    };
    let first: Vec<PublishedIssue> = migrations.iter().map(|id| publish(id)).collect();
    assert_eq!(counts(&first[0]), (true, false, 1, 0, 0));
    assert_eq!(counts(&first[1]), (true, false, 1, 0, 0));
    assert_ne!(first[0].number, first[1].number);
    for (migration, published) in migrations.iter().zip(&first) {
        let issue = the_tracking_issue(&simulator, migration);
        assert_eq!(issue.number, published.number);
        assert_eq!(issue.title, format!("Tracking {migration}"));
        assert_eq!(
            comment_bodies(&issue),
            [marked(migration, 2, &format!("{migration} part 2"))]
        );
    }
    for (migration, published) in migrations.iter().zip(&first) {
        let again = publish(migration);
        assert_eq!(counts(&again), (false, false, 0, 0, 0), "{migration}");
        assert_eq!(again.number, published.number);
    }
    assert_eq!(simulator.issues("acme", "tracked").len(), 2);
}

#[test]
fn publishing_through_random_faults_converges_on_one_tracking_issue() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    simulator.set_faults(Faults {
        rate: 0.3,
        seed: 11,
        kinds: vec![
            Fault::ServerError,
            Fault::BadGateway,
            Fault::SecondaryWithRetryAfter,
            Fault::TooManyRequests,
            Fault::CreatedThenServerError,
        ],
        slow_ms: 0,
        timeout_ms: 0,
    });
    // Parts come and go, and change every round; a failed publish is
    // simply run again.
    for (round, count) in [1, 4, 2, 5, 3, 1, 6, 2].into_iter().enumerate() {
        let parts: Vec<String> = (1..=count)
            .map(|part| format!("part {part} of round {round}"))
            .collect();
        let published = (0..10)
            .find_map(|_| {
                forge
                    .publish_tracking_issue(&repo, "orders-v2", "Tracking", &parts)
                    .ok()
            })
            .expect("publishes within ten runs");
        let issue = the_tracking_issue(&simulator, "orders-v2");
        assert_eq!(issue.number, published.number);
        let expected: Vec<String> = parts
            .iter()
            .enumerate()
            .skip(1)
            .map(|(index, part)| marked("orders-v2", index + 1, part))
            .collect();
        assert_eq!(comment_bodies(&issue), expected);
        assert_eq!(issue.body, marked("orders-v2", 1, &parts[0]));
    }
    let stats = simulator.stats();
    assert!(stats.faults_injected > 10, "{stats:#?}");
    assert_eq!(simulator.issues("acme", "tracked").len(), 1);
}

#[test]
fn a_refused_write_names_the_tracking_issue_and_the_repository() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let folder = tempfile::tempdir().expect("temporary folder");
    let (simulator, forge, repo) = tracking_setup(folder.path(), &clock);
    let published = forge
        .publish_tracking_issue(&repo, "orders-v2", "Tracking", &texts(&["Before"]))
        .expect("publishes");
    simulator.set_archived("acme", "tracked", true);
    let error = forge
        .publish_tracking_issue(&repo, "orders-v2", "Tracking", &texts(&["After"]))
        .expect_err("an archived repository refuses the edit")
        .to_string();
    let context = format!(
        "failed to update the tracking issue #{} in acme/tracked: GitHub answered 403",
        published.number
    );
    assert!(error.starts_with(&context), "{error}");
    assert!(!error.contains(TOKEN), "{error}");
    let error = forge
        .publish_tracking_issue(&repo, "orders-v2", "Tracking", &[])
        .expect_err("nothing to publish")
        .to_string();
    assert!(
        error.contains("the tracking issue of orders-v2 in acme/tracked"),
        "{error}"
    );
    let issue = the_tracking_issue(&simulator, "orders-v2");
    assert_eq!(issue.body, marked("orders-v2", 1, "Before"));
}

#[test]
fn report_publish_runs_then_reruns_into_one_tracking_issue() {
    let simulator = simulator("", None);
    simulator.add_repo("acme", "dashboards", &[("README.md", "dashboards\n")]);
    let (folder, spec) = project(&simulator, 3, "  requests: {min_interval: 0s}\n");
    let workspace = folder.path().join("workspace");
    assert!(
        fleetmod_with_token(folder.path(), "run", &spec, &workspace)
            .status
            .success()
    );
    let publish = || {
        common::fleetmod(folder.path())
            .arg("report")
            .arg(&spec)
            .arg("--workspace")
            .arg(&workspace)
            .args(["--publish", "acme/dashboards"])
            .env("FLEETMOD_TEST_TOKEN", TOKEN)
            .output()
            .expect("runs")
    };
    let first = publish();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("created tracking issue #1 in acme/dashboards"),
        "{stderr}"
    );
    let second = publish();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("unchanged tracking issue #1"), "{stderr}");
    let issues = simulator.issues("acme", "dashboards");
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let body = &issues[0].body;
    assert!(body.starts_with(&tracking_marker("orders-v2", 1)), "{body}");
    assert!(
        body.contains("**Progress: 0 of 3 repositories done (0.0%)**"),
        "{body}"
    );
    assert!(
        body.contains("- [ ] `acme/repo-000` — pr-open [#1]("),
        "{body}"
    );
    assert_eq!(
        issues[0].title,
        "Migration dashboard: Move sales.orders to sales_v2.orders"
    );
    // The local forge cannot host a tracking issue: a clear error, exit 2.
    let local = folder.path().join("local.yaml");
    std::fs::write(
        &local,
        "id: local-one\ndataset: {from: a.b, to: c.d}\nconsumers: {repos: [acme/x]}\n",
    )
    .unwrap();
    let output = common::fleetmod(folder.path())
        .arg("report")
        .arg(&local)
        .args(["--publish", "acme/dashboards"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--publish needs the GitHub forge"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
