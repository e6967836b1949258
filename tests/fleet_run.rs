//! `fleetmod run`, `status` and `forge` end to end: real git repositories in
//! the local forge, the real SQLite state store, the real binary.

mod common;
mod fleet;

use fleet::{Fleet, assert_success, open_per_repo};

const BRANCH: &str = "fleetmod/orders-v2";

#[test]
fn the_example_opens_pull_requests_and_a_rerun_changes_nothing() {
    let example = Fleet::example();
    // Status before any run reports every consumer pending and creates
    // nothing (no workspace, no import into the forge).
    assert!(
        example
            .states()
            .iter()
            .all(|state| state.ends_with(" pending"))
    );
    assert!(!example.workspace().exists());
    let first = example.run(&[]);
    assert_eq!(
        first
            .lines()
            .map(|line| line.split("  ").next().unwrap())
            .collect::<Vec<_>>(),
        [
            "acme/analytics",
            "acme/billing",
            "acme/churn-model",
            "acme/finance-reports",
            "acme/inventory",
            "acme/ledger",
            "acme/legacy-etl",
        ]
    );
    assert!(
        first.contains(
            "acme/churn-model      needs attention: branch fleetmod/orders-v2 has commit"
        ),
        "{first}"
    );
    assert!(
        first.contains("acme/inventory        no change needed"),
        "{first}"
    );
    assert!(first.contains("acme/legacy-etl       excluded"), "{first}");
    let pulls = example.pulls();
    assert_eq!(
        open_per_repo(&pulls).into_iter().collect::<Vec<_>>(),
        [
            ("acme/analytics".to_owned(), 1),
            ("acme/billing".to_owned(), 1),
            ("acme/finance-reports".to_owned(), 1),
            ("acme/ledger".to_owned(), 1),
        ]
    );
    // The pull request explains itself: owners review it, the body lists
    // changes, review items (the leftover mention in YAML) and rules.
    let report = example.pull("acme/finance-reports", 1);
    assert_eq!(
        report["reviewers"],
        serde_json::json!(["group:finance/reporting"])
    );
    assert_eq!(report["labels"], serde_json::json!(["data-migration"]));
    let body = report["body"].as_str().unwrap();
    assert!(
        body.contains("- `reports/monthly_revenue.sql`: 4 edits"),
        "{body}"
    );
    assert!(
        body.contains("- `config/sources.yaml:3`: still names `sales.orders` after the change"),
        "{body}"
    );
    assert!(body.contains("- `orders-v2/table`"), "{body}");
    let migrated = example.file_at(
        "acme/finance-reports",
        BRANCH,
        "reports/monthly_revenue.sql",
    );
    assert!(migrated.contains("FROM sales_v2.orders AS o"), "{migrated}");
    assert!(example.parents("acme/finance-reports", BRANCH).len() == 1);

    let churn_head = example.branch_head("acme/churn-model", BRANCH);
    let states_after_first = example.states();
    assert_eq!(
        states_after_first,
        [
            "acme/analytics pr-open",
            "acme/billing pr-open",
            "acme/churn-model needs-attention",
            "acme/finance-reports pr-open",
            "acme/inventory no-change",
            "acme/ledger pr-open",
        ]
    );
    let events = event_count(&example);

    let second = example.run(&[]);
    assert_eq!(second.matches("up to date").count(), 6, "{second}");
    assert_eq!(example.pulls(), pulls);
    assert_eq!(example.branch_head("acme/churn-model", BRANCH), churn_head);
    assert_eq!(example.states(), states_after_first);
    assert_eq!(
        event_count(&example),
        events,
        "a no-op rerun records nothing"
    );
}

fn event_count(fleet: &Fleet) -> usize {
    use fleetmod::store::{SqliteStore, StateStore};
    let store = SqliteStore::open(&fleet.workspace().join("state.db")).unwrap();
    store.events("orders-v2").unwrap().len()
}

#[test]
fn a_moved_base_regenerates_the_change_and_force_pushes_it() {
    let example = Fleet::example();
    example.run(&["--only", "acme/ledger"]);
    let first_head = example.branch_head("acme/ledger", BRANCH).unwrap();
    let new_base = example.push_commit(
        "acme/ledger",
        "main",
        &[("NOTES.md", "moved\n")],
        "Unrelated work",
    );
    let output = example.run(&["--only", "acme/ledger"]);
    assert!(
        output.contains("acme/ledger  updated pull request #1"),
        "{output}"
    );
    let head = example.branch_head("acme/ledger", BRANCH).unwrap();
    assert_ne!(head, first_head);
    assert_eq!(example.parents("acme/ledger", BRANCH), [new_base]);
    assert_eq!(
        example.file_at("acme/ledger", BRANCH, "NOTES.md"),
        "moved\n"
    );
    assert_eq!(example.pulls().len(), 1);
}

#[test]
fn a_persons_commit_on_the_branch_is_never_overwritten() {
    let example = Fleet::example();
    example.run(&["--only", "acme/billing"]);
    let human = example.push_commit(
        "acme/billing",
        BRANCH,
        &[("src/extra.py", "x = 1\n")],
        "Fix by hand",
    );
    example.push_commit(
        "acme/billing",
        "main",
        &[("NOTES.md", "moved\n")],
        "Unrelated work",
    );
    let output = example.run(&["--only", "acme/billing"]);
    assert!(
        output.contains("needs attention: branch fleetmod/orders-v2 has commit"),
        "{output}"
    );
    assert!(output.contains("Sam Person"), "{output}");
    assert_eq!(example.branch_head("acme/billing", BRANCH), Some(human));
    let comments = |fleet: &Fleet| {
        fleet.pull("acme/billing", 1)["comments"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(comments(&example), 1);
    let comment = example.pull("acme/billing", 1)["comments"][0]["body"].clone();
    assert!(
        comment
            .as_str()
            .unwrap()
            .starts_with("fleetmod did not update this pull request"),
        "{comment}"
    );
    // Reruns leave it alone and do not comment again.
    let again = example.run(&["--only", "acme/billing"]);
    assert!(again.contains("up to date (needs-attention #1)"), "{again}");
    assert_eq!(example.branch_head("acme/billing", BRANCH), Some(human));
    assert_eq!(comments(&example), 1);
    assert_eq!(example.states()[1], "acme/billing needs-attention");
}

/// The example after a first run on acme/analytics, whose main branch then
/// got the same change by hand.
fn analytics_migrated_by_hand() -> Fleet {
    let example = Fleet::example();
    example.run(&["--only", "acme/analytics"]);
    let path = "models/daily_revenue.sql";
    let migrated = example.file_at("acme/analytics", BRANCH, path);
    example.push_commit(
        "acme/analytics",
        "main",
        &[(path, &migrated)],
        "Migrate by hand",
    );
    example
}

#[test]
fn a_repository_migrated_by_hand_gets_its_pull_request_closed() {
    let example = analytics_migrated_by_hand();
    let output = example.run(&["--only", "acme/analytics"]);
    assert!(
        output.contains("no change needed any more: closed pull request #1"),
        "{output}"
    );
    let pull = example.pull("acme/analytics", 1);
    assert_eq!(pull["state"], "closed");
    assert!(
        pull["comments"][0]["body"]
            .as_str()
            .unwrap()
            .contains("no longer needs the change")
    );
    assert_eq!(example.branch_head("acme/analytics", BRANCH), None);
    assert_eq!(example.states()[0], "acme/analytics no-change");
    let again = example.run(&["--only", "acme/analytics"]);
    assert!(again.contains("up to date (no-change"), "{again}");
}

#[test]
fn merged_and_closed_pull_requests_are_final() {
    let example = Fleet::example();
    example.run(&[]);
    assert_success(&example.forge(&["merge", "acme/ledger", "1"]));
    assert_success(&example.forge(&["close", "acme/billing", "1"]));
    let output = example.run(&[]);
    assert!(
        output.contains("acme/ledger           merged #1: nothing more to do"),
        "{output}"
    );
    assert!(
        output.contains("acme/billing          closed #1: nothing more to do"),
        "{output}"
    );
    let states = example.states();
    assert!(
        states.contains(&"acme/ledger merged".to_owned()),
        "{states:?}"
    );
    assert!(
        states.contains(&"acme/billing closed".to_owned()),
        "{states:?}"
    );
    // The merge moved main; fleetmod opened nothing new.
    assert_eq!(example.pulls().len(), 4);
    let ledger = example.file_at("acme/ledger", "main", "src/LedgerDao.java");
    assert!(ledger.contains("sales_v2.orders"), "{ledger}");
}

#[test]
fn failures_are_recorded_per_repository_and_retried_with_backoff() {
    let fleet = Fleet::generate(3, "  # placeholder\n");
    // A consumer the forge lacks, and one whose default branch is gone.
    let spec = std::fs::read_to_string(&fleet.spec).unwrap().replace(
        "  resource: resource:orders\n",
        "  resource: resource:orders\n  repos: [acme/missing]\n",
    );
    std::fs::write(&fleet.spec, spec).unwrap();
    // A failed repository makes the run exit with code 1; the others go on.
    let output = fleet.run_exiting(1, &[]);
    assert!(
        output.contains("acme/repo-002  opened pull request #1"),
        "{output}"
    );
    std::fs::write(
        fleet.bare("acme/repo-001").join("HEAD"),
        "ref: refs/heads/gone\n",
    )
    .unwrap();
    let output = fleet.run_exiting(1, &["--retry-failed"]);
    assert!(output.contains("acme/missing   failed at preflight: repository acme/missing does not exist on the forge"), "{output}");
    assert!(output.contains("acme/repo-000  up to date"), "{output}");
    assert!(
        output
            .contains("acme/repo-001  failed at preflight: the default branch gone does not exist"),
        "{output}"
    );
    let status = fleet.status();
    let missing = &status["repos"][0];
    assert_eq!(
        (missing["state"].as_str(), missing["attempts"].as_u64()),
        (Some("failed"), Some(2))
    );
    assert_eq!(missing["failed_stage"], "preflight");
    // RFC 3339 UTC times order as text.
    assert!(missing["retry_after"].as_str().unwrap() > missing["updated_at"].as_str().unwrap());
    // Without --retry-failed, failed repositories wait for their backoff.
    let waiting = fleet.run(&[]);
    assert!(
        waiting.contains("acme/missing   failed before; retrying after"),
        "{waiting}"
    );
    assert_eq!(fleet.status()["repos"][0]["attempts"], 2);
}

#[test]
fn a_dry_run_pushes_opens_and_records_nothing() {
    let example = Fleet::example();
    let output = example.run(&["--dry-run"]);
    assert!(
        output.contains("acme/billing          would change 1 file(s), 8 review item(s)"),
        "{output}"
    );
    assert!(example.pulls().is_empty());
    assert!(
        example
            .states()
            .iter()
            .all(|state| state.ends_with(" pending"))
    );
}

#[test]
fn parallel_runs_open_one_pull_request_per_changed_repository() {
    let fleet = Fleet::generate(24, "");
    fleet.run(&["--jobs", "2"]);
    let pulls = fleet.pulls();
    assert_eq!(pulls.len(), 24 - 24 / 5);
    assert!(open_per_repo(&pulls).values().all(|&count| count == 1));
    let again = fleet.run(&["--jobs", "2"]);
    assert_eq!(again.matches("up to date").count(), 24);
}

/// Kills the run at distinct points (after the n-th saved record, right
/// after a push or a pull request before it is recorded), reruns it, and
/// checks that every changed repository has exactly one pull request and
/// that every record agrees with its last event.
#[test]
fn a_crash_at_any_point_is_recovered_by_a_rerun() {
    use fleetmod::store::{SqliteStore, StateStore};
    for point in [
        "event:1",
        "event:6",
        "event:13",
        "push:1",
        "push:3",
        "pull-request:1",
        "pull-request:4",
    ] {
        let fleet = Fleet::generate(6, "");
        let crashed = fleet
            .command("run")
            .env("FLEETMOD_TEST_CRASH", point)
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "{point}: the run should have crashed"
        );
        fleet.run(&[]);
        let pulls = fleet.pulls();
        let open = open_per_repo(&pulls);
        assert_eq!(pulls.len(), 5, "{point}: {pulls:#?}");
        assert_eq!(open.len(), 5, "{point}");
        assert!(open.values().all(|&count| count == 1), "{point}: {open:?}");
        let states = fleet.states();
        assert_eq!(
            states
                .iter()
                .filter(|state| state.ends_with(" pr-open"))
                .count(),
            5,
            "{point}: {states:?}"
        );
        assert_eq!(states[4], "acme/repo-004 no-change", "{point}");
        let store = SqliteStore::open(&fleet.workspace().join("state.db")).unwrap();
        let events = store.events("orders-v2").unwrap();
        for record in store.records("orders-v2").unwrap() {
            let last = events
                .iter()
                .rev()
                .find(|event| event.repo == record.repo.to_string())
                .unwrap();
            assert_eq!(last.to, record.state, "{point}: {}", record.repo);
        }
        let again = fleet.run(&[]);
        assert_eq!(again.matches("up to date").count(), 6, "{point}: {again}");
    }
}

#[test]
fn catalog_errors_name_the_file_and_line_and_exit_2() {
    let fleet = Fleet::generate(1, "");
    let catalog = fleet.folder.path().join("catalog.yaml");
    let text = std::fs::read_to_string(&catalog)
        .unwrap()
        .replace("[resource:default/orders]", "[orders]");
    std::fs::write(&catalog, text).unwrap();
    let output = fleet.command("run").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "catalog.yaml:10:15: component `repo-000`: dependsOn `orders` does not name a kind"
        ),
        "{stderr}"
    );
}

#[test]
fn a_changed_spec_updates_pull_requests_without_pushing_the_same_commit() {
    let fleet = Fleet::generate(3, "pull_request:\n  title: First title\n");
    fleet.run(&[]);
    let head = fleet.branch_head("acme/repo-000", BRANCH);
    let spec = std::fs::read_to_string(&fleet.spec).unwrap();
    std::fs::write(
        &fleet.spec,
        spec.replace("First title", "Second title for {{repo}}"),
    )
    .unwrap();
    let output = fleet.run(&[]);
    assert!(
        output.contains("acme/repo-000  updated pull request #1"),
        "{output}"
    );
    assert_eq!(
        fleet.branch_head("acme/repo-000", BRANCH),
        head,
        "same change, same commit"
    );
    assert_eq!(
        fleet.pull("acme/repo-000", 1)["title"],
        "Second title for acme/repo-000"
    );
    // The same spec reached through another path is the same spec.
    let copy = fleet.folder.path().join("copy.yaml");
    std::fs::copy(&fleet.spec, &copy).unwrap();
    let again = fleet::fleetmod(fleet.folder.path())
        .arg("run")
        .arg(&copy)
        .arg("--workspace")
        .arg(fleet.workspace())
        .output()
        .unwrap();
    assert_success(&again);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("up to date")
            .count(),
        3
    );
    // New owners in the catalog reach the records of up-to-date repositories.
    let catalog = fleet.folder.path().join("catalog.yaml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(
        &catalog,
        text.replacen("owner: team-0", "owner: team-new", 1),
    )
    .unwrap();
    fleet.run(&[]);
    assert_eq!(
        fleet.status()["repos"][0]["owners"],
        serde_json::json!(["team-new"])
    );
}

#[test]
fn a_crash_while_withdrawing_a_pull_request_is_finished_by_the_rerun() {
    let example = analytics_migrated_by_hand();
    for point in ["event:1", "close:1"] {
        let crashed = example
            .command("run")
            .args(["--only", "acme/analytics"])
            .env("FLEETMOD_TEST_CRASH", point)
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "{point}: the run should have crashed"
        );
    }
    example.run(&["--only", "acme/analytics"]);
    let pull = example.pull("acme/analytics", 1);
    assert_eq!(pull["state"], "closed");
    assert_eq!(pull["comments"].as_array().unwrap().len(), 1, "{pull:#}");
    assert_eq!(example.branch_head("acme/analytics", BRANCH), None);
    assert_eq!(example.states()[0], "acme/analytics no-change");
    // fleetmod's own close is not a person's decision.
    let again = example.run(&["--only", "acme/analytics"]);
    assert!(again.contains("up to date (no-change"), "{again}");
}

/// A weekday (as the schedule names it) two days from today in UTC, so a
/// window on it is closed whenever the test runs.
fn closed_day() -> &'static str {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    // 1970-01-01 was a Thursday.
    ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days + 2) % 7) as usize]
}

#[test]
fn rollout_waves_limits_pause_and_schedule_from_the_command_line() {
    let fleet = Fleet::generate(
        6,
        "rollout:\n  waves:\n    - {name: canary, repos: [acme/repo-000]}\n    - {name: all, percent: 100}\n  limits: {max_open_prs: 2}\n",
    );
    let rollout = |arguments: &[&str]| {
        let output = fleet
            .command("rollout")
            .args(arguments)
            .output()
            .expect("runs");
        assert_success(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Looking before the first run creates nothing.
    let status = rollout(&["status"]);
    assert!(
        status.contains("orders-v2: not started (the first run reaches wave canary)"),
        "{status}"
    );
    assert!(!fleet.workspace().exists());
    // The canary opens; the rest wait for their wave.
    let output = fleet.run(&[]);
    assert!(
        output.contains("acme/repo-000  opened pull request #1"),
        "{output}"
    );
    assert!(
        output.contains("acme/repo-001  held back: waiting for wave all"),
        "{output}"
    );
    let status = rollout(&["status"]);
    assert!(
        status.contains("orders-v2: wave canary (1 of 2)"),
        "{status}"
    );
    assert!(
        status.contains("promotion to all: by hand only (no `promote_when`)"),
        "{status}"
    );
    assert!(
        status.contains("limits: 1 open (max 2), 1 opened in the last hour (no limit)"),
        "{status}"
    );
    let promoted = rollout(&["promote", "--reason", "canary looks good"]);
    assert!(
        promoted.contains("promoted by hand from wave canary to all: canary looks good"),
        "{promoted}"
    );
    // The limit lets one more open; a run that can do nothing else exits 3.
    let output = fleet.run(&[]);
    assert!(
        output.contains("acme/repo-001  opened pull request #1"),
        "{output}"
    );
    assert!(
        output.contains("acme/repo-002  held back: 2 pull requests are open (max_open_prs: 2)"),
        "{output}"
    );
    let output = fleet.run_exiting(3, &[]);
    assert!(
        output.contains("held back: 2 pull requests are open"),
        "{output}"
    );
    let table = fleet.command("status").output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("held back: 3: 2 pull requests are open (max_open_prs: 2)"),
        "{table}"
    );
    // Paused: nothing moves, and the run says so with code 3.
    rollout(&["pause", "--reason", "incident"]);
    let output = fleet.run_exiting(3, &[]);
    assert!(
        output.contains("acme/repo-000  held back: the rollout is paused"),
        "{output}"
    );
    rollout(&["resume"]);
    // Outside the schedule: likewise.
    let spec = std::fs::read_to_string(&fleet.spec).unwrap()
        + &format!("  schedule: \"{} 10:00-11:00 UTC\"\n", closed_day());
    std::fs::write(&fleet.spec, spec).unwrap();
    let output = fleet.run_exiting(3, &[]);
    assert!(
        output.contains("held back: outside the schedule (opens "),
        "{output}"
    );
    let history = rollout(&["status"]);
    for line in ["start", "promote", "pause    paused: incident", "resume"] {
        assert!(history.contains(line), "{line}: {history}");
    }
}
