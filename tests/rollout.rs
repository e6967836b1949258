//! Rollout control over simulated days: 100 repositories on the local
//! forge, a run every 30 simulated minutes on an injected clock, and
//! simulated people (CI results, reviews, a hand-made commit, a closed pull
//! request) between runs.
//!
//! Every step checks the invariants against the forge itself, not against
//! fleetmod's own records: fleet-wide limits (open, per owner, per hour),
//! no duplicate pull requests, nothing opened outside the schedule or
//! while paused, drafts only before `draft_until_wave`, and every
//! promotion justified by the gate as the test itself computes it. Two
//! overlapping runs are started at once, and the lease is held by hand.
//! The wave timeline, taken from the events tables, is written to
//! `rollout-timeline.txt` in Cargo's test folder.

#[path = "common/mod.rs"]
mod common;
#[path = "fleet/mod.rs"]
mod fleet_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Barrier};

use fleetmod::catalog::RepoName;
use fleetmod::engine::Scanner;
use fleetmod::fleet::{self, Fleet, FleetError, Outcome, RunOptions, RunReport, Workspace};
use fleetmod::forge::local::{self, LocalForge};
use fleetmod::forge::{Forge, PullRequestState};
use fleetmod::migrate::Migration;
use fleetmod::progress::Silent;
use fleetmod::rule::RuleSet;
use fleetmod::spec::Spec;
use fleetmod::store::time::{Clock, ManualClock, format_utc};
use fleetmod::store::{
    Checks, LeaseError, RepoState, ReviewDecision, RolloutAction, RolloutChange, SqliteStore,
    StateStore,
};

const HOUR: i64 = 3_600_000;
const STEP: i64 = HOUR / 2;
/// Monday 2026-11-16 06:00 UTC (07:00 in Stockholm).
const START: i64 = 1_794_808_800_000;
const DAYS: i64 = 10;

const ROLLOUT: &str = "rollout:
  waves:
    - {name: canary, repos: [acme/repo-000, acme/repo-001, acme/repo-002]}
    - {name: early, percent: 25}
    - {name: all, percent: 100}
  promote_when:
    merged_ratio: 0.6
    max_failed_checks_ratio: 0.1
    min_wave_age: 24h
  limits:
    max_open_prs: 12
    prs_per_hour: 4
    max_open_prs_per_owner: 5
  schedule: \"Mon-Fri 09:00-17:00 Europe/Stockholm\"
  draft_until_wave: early
  automerge: {when: [checks-green, approved], method: squash}
";

const MAX_OPEN: usize = 12;
const PER_HOUR: usize = 4;
const PER_OWNER: usize = 5;
const MERGED_RATIO: f64 = 0.6;
const FAILED_RATIO: f64 = 0.1;

fn index_of(repo: &RepoName) -> usize {
    repo.name
        .trim_start_matches("repo-")
        .parse()
        .expect("repo-NNN")
}

/// Whether Stockholm office hours (Mon-Fri 09:00-17:00) hold at `at`; the
/// simulation runs in winter (UTC+1).
fn in_office_hours(at: i64) -> bool {
    let local = at + HOUR;
    let day = (local.div_euclid(86_400_000) + 3) % 7; // 0 = Monday
    let hour = local.rem_euclid(86_400_000) / HOUR;
    day < 5 && (9..17).contains(&hour)
}

struct Simulation {
    _fleet: fleet_support::Fleet,
    spec: Spec,
    consumers: fleet::ConsumerList,
    rules: RuleSet,
    workspace: Workspace,
    forge: LocalForge,
    clock: Arc<ManualClock>,
}

impl Simulation {
    fn new() -> Simulation {
        let fleet = fleet_support::Fleet::generate(100, ROLLOUT);
        let spec = Spec::load(&fleet.spec).expect("valid spec");
        let consumers = fleet::consumers::resolve(&spec).expect("consumers");
        let rules = RuleSet::load(&spec.rule_files, None).expect("rules");
        let workspace = Workspace::new(fleet.workspace());
        let clock = Arc::new(ManualClock::new(START));
        let forge = LocalForge::open(&workspace.forge_path())
            .expect("forge")
            .with_clock(clock.clone());
        local::import(&forge, spec.forge.import.as_ref().expect("import folder")).expect("import");
        Simulation {
            _fleet: fleet,
            spec,
            consumers,
            rules,
            workspace,
            forge,
            clock,
        }
    }

    fn store(&self) -> SqliteStore {
        let clock: Arc<dyn Clock> = self.clock.clone();
        SqliteStore::open(&self.workspace.state_path())
            .expect("store")
            .with_clock(clock)
    }

    fn run(&self) -> Result<RunReport, FleetError> {
        let migration = Migration::new(&self.spec);
        let scanner = Scanner::new(&self.rules).with_migration(&migration);
        let fleet = Fleet {
            spec: &self.spec,
            scanner: &scanner,
            forge: &self.forge,
            workspace: &self.workspace,
            rules_hash: fleet::rules_hash(&self.spec),
        };
        let options = RunOptions {
            dry_run: false,
            only: Vec::new(),
            retry_failed: false,
            max_filesize: 5 << 20,
        };
        fleet::run(
            &fleet,
            &mut self.store(),
            &self.consumers,
            &options,
            &Silent,
            &AtomicBool::new(false),
        )
    }
}

/// What the simulated people do before a run at `now`: CI, reviews, a
/// canary team that undrafts its own pull requests, a person's commit on
/// repo-005's branch, and a person closing repo-010's pull request.
/// Returns the repositories whose checks fail now.
fn people(simulation: &Simulation, now: i64) -> HashSet<RepoName> {
    let mut failing = HashSet::new();
    let forge = &simulation.forge;
    let created_at: HashMap<(RepoName, u64), i64> = created(simulation)
        .into_iter()
        .map(|(repo, number, at)| ((repo, number), at))
        .collect();
    for pull in forge.pull_requests().expect("pulls") {
        if pull.state != PullRequestState::Open {
            continue;
        }
        let index = index_of(&pull.repo);
        let age = now - created_at[&(pull.repo.clone(), pull.number)];
        // Flaky CI on every tenth repository for its first 8 hours.
        let checks = if index % 10 == 3 && age < 8 * HOUR {
            failing.insert(pull.repo.clone());
            Checks::Failure
        } else {
            Checks::Success
        };
        forge.set_checks(&pull.repo, pull.number, checks).unwrap();
        // The canary teams take their drafts out of draft themselves.
        if pull.draft && index < 2 {
            forge.mark_ready(&pull.repo, pull.number).unwrap();
        }
        let draft = pull.draft && index >= 2;
        if !draft && index % 17 != 16 && age >= 2 * HOUR {
            forge
                .set_review(&pull.repo, pull.number, ReviewDecision::Approved)
                .unwrap();
        }
        if index == 5 && age >= HOUR && !simulation_pushed(simulation, &pull.repo) {
            push_as_person(simulation, &pull.repo, &pull.head);
        }
        if index == 10 && age >= HOUR {
            forge.close_pull_request(&pull.repo, pull.number).unwrap();
        }
    }
    failing
}

/// Every pull request ever opened, as (repo, number, created_at), read
/// from the local forge's database (the forge's API has no creation time).
fn created(simulation: &Simulation) -> Vec<(RepoName, u64, i64)> {
    let connection = rusqlite::Connection::open(simulation.workspace.forge_path().join("forge.db"))
        .expect("forge db");
    let mut statement = connection
        .prepare("SELECT repo, number, created_at FROM pull_requests ORDER BY created_at, repo")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((
                RepoName::parse(&row.get::<_, String>(0)?).unwrap(),
                row.get::<_, i64>(1)? as u64,
                row.get(2)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Whether the person already committed on the branch of `repo`.
fn simulation_pushed(simulation: &Simulation, repo: &RepoName) -> bool {
    let repository = git2::Repository::open_bare(simulation.forge.repository_path(repo)).unwrap();
    repository
        .refname_to_id("refs/heads/fleetmod/orders-v2")
        .ok()
        .and_then(|id| repository.find_commit(id).ok())
        .is_some_and(|commit| commit.author().name().ok() == Some("Sam Person"))
}

fn push_as_person(simulation: &Simulation, repo: &RepoName, branch: &str) {
    let repository = git2::Repository::open_bare(simulation.forge.repository_path(repo)).unwrap();
    let reference = format!("refs/heads/{branch}");
    let parent = repository
        .find_commit(repository.refname_to_id(&reference).unwrap())
        .unwrap();
    let blob = repository.blob(b"# tuned by hand\n").unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert("NOTES.md", blob, git2::FileMode::Blob);
    let tree = repository
        .find_tree(
            update
                .create_updated(&repository, &parent.tree().unwrap())
                .unwrap(),
        )
        .unwrap();
    let person = git2::Signature::now("Sam Person", "sam@acme.example").unwrap();
    repository
        .commit(
            Some(&reference),
            &person,
            &person,
            "Tune the query",
            &tree,
            &[&parent],
        )
        .unwrap();
}

#[test]
#[allow(clippy::print_stderr)]
fn waves_limits_schedule_drafts_and_automerge_over_simulated_days() {
    let simulation = Simulation::new();
    let store = simulation.store();
    let id = simulation.spec.id.clone();
    let repos: Vec<RepoName> = simulation
        .consumers
        .consumers
        .iter()
        .map(|consumer| consumer.repo.clone())
        .collect();
    let waves = fleet::rollout::assign(&simulation.spec.rollout, &id, &repos);
    let owners: HashMap<RepoName, Vec<String>> = simulation
        .consumers
        .consumers
        .iter()
        .map(|consumer| (consumer.repo.clone(), consumer.owners.clone()))
        .collect();
    let needs_change = |repo: &RepoName| index_of(repo) % 5 != 4;

    let mut first_seen_draft: BTreeMap<RepoName, bool> = BTreeMap::new();
    let mut pause_window = None;
    let mut overlaps = Vec::new();
    let mut holds: BTreeMap<String, usize> = BTreeMap::new();
    let steps = DAYS * 24 * HOUR / STEP;
    for step in 0..steps {
        let now = simulation.clock.now_ms();
        let failing = people(&simulation, now);
        let promotions_before = store.rollout_events(&id).unwrap().len();

        // Pause for a day once the last wave is reached; hold the lease by
        // hand once; and once start two runs at the same moment.
        let wave = store.rollout(&id).unwrap().map_or(0, |state| state.wave);
        let mut pause_store = simulation.store();
        if wave == 2 && pause_window.is_none() && in_office_hours(now) {
            pause_store
                .change_rollout(&id, RolloutChange::Pause, "simulated incident")
                .unwrap();
            pause_window = Some((now, now + 24 * HOUR));
        }
        if let Some((_, until)) = pause_window
            && now >= until
        {
            pause_store
                .change_rollout(&id, RolloutChange::Resume, "incident over")
                .unwrap();
        }
        if step == 20 {
            let held = store.lease(&id).expect("lease");
            match simulation.run() {
                Err(FleetError::Lease(LeaseError::Held { holder, .. })) => {
                    assert_eq!(holder, held.holder())
                }
                other => panic!("a held lease must stop the run: {:?}", other.map(|_| ())),
            }
        }
        let report = if step % 37 == 5 {
            let barrier = Barrier::new(2);
            let results: Vec<Result<RunReport, FleetError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            simulation.run()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| handle.join().unwrap())
                    .collect()
            });
            let held = results
                .iter()
                .filter(|result| matches!(result, Err(FleetError::Lease(LeaseError::Held { .. }))))
                .count();
            overlaps.push(held);
            let mut done: Vec<RunReport> = results
                .into_iter()
                .filter_map(|result| match result {
                    Ok(report) => Some(report),
                    Err(FleetError::Lease(LeaseError::Held { .. })) => None,
                    Err(error) => panic!("overlapping run failed: {error}"),
                })
                .collect();
            assert!(!done.is_empty(), "one of two overlapping runs goes ahead");
            done.remove(0)
        } else {
            simulation.run().expect("run")
        };

        for result in &report.repos {
            if let Outcome::HeldBack(hold) = &result.outcome {
                let kind = format!("{hold:?}");
                let kind = kind.split([' ', '{']).next().unwrap_or_default().to_owned();
                *holds.entry(kind).or_default() += 1;
            }
        }
        // Nothing failed, and nothing that needed no change got a PR.
        for result in &report.repos {
            assert!(
                !matches!(result.outcome, Outcome::Failed { .. }),
                "{}: {:?}",
                result.consumer.repo,
                result.outcome
            );
        }
        let pulls = simulation.forge.pull_requests().unwrap();
        let open: Vec<_> = pulls
            .iter()
            .filter(|pull| pull.state == PullRequestState::Open)
            .collect();
        assert!(
            open.len() <= MAX_OPEN,
            "{} open at {}",
            open.len(),
            format_utc(now)
        );
        let mut per_owner: HashMap<&str, usize> = HashMap::new();
        for pull in &open {
            for owner in &owners[&pull.repo] {
                *per_owner.entry(owner).or_default() += 1;
            }
        }
        assert!(
            per_owner.values().all(|&count| count <= PER_OWNER),
            "{per_owner:?}"
        );
        let created = created(&simulation);
        let last_hour = created
            .iter()
            .filter(|(_, _, at)| *at > now - HOUR && *at <= now)
            .count();
        assert!(
            last_hour <= PER_HOUR,
            "{last_hour} opened in the hour before {}",
            format_utc(now)
        );
        let mut per_repo: HashMap<&RepoName, usize> = HashMap::new();
        for (repo, number, at) in &created {
            *per_repo.entry(repo).or_default() += 1;
            assert!(needs_change(repo), "{repo} needs no change");
            assert!(
                in_office_hours(*at),
                "{repo}#{number} opened at {}",
                format_utc(*at)
            );
            if let Some((from, until)) = pause_window {
                assert!(!(from..until).contains(at), "{repo} opened while paused");
            }
            first_seen_draft.entry(repo.clone()).or_insert_with(|| {
                pulls
                    .iter()
                    .find(|pull| &pull.repo == repo && pull.number == *number)
                    .is_some_and(|pull| pull.draft)
            });
        }
        assert!(per_repo.values().all(|&count| count == 1), "duplicate PRs");

        // Once early is reached, fleetmod marks leftover drafts ready in
        // the first run the schedule allows.
        let state = store.rollout(&id).unwrap().expect("started");
        if state.wave >= 1 && in_office_hours(now) && !state.paused {
            assert!(
                open.iter().all(|pull| !pull.draft),
                "a draft is left at {}",
                format_utc(now)
            );
        }

        // Every promotion in this run is justified by the gate, computed
        // here from the forge and the simulated CI.
        let events = store.rollout_events(&id).unwrap();
        for event in &events[promotions_before..] {
            if event.action != RolloutAction::Promote {
                continue;
            }
            let from = event.wave - 1;
            let reached = events
                .iter()
                .rev()
                .find(|earlier| earlier.at < event.at && earlier.wave == from)
                .map_or(START, |earlier| earlier.at);
            let members: HashSet<&RepoName> = waves.members[from].iter().collect();
            let in_wave: Vec<_> = pulls
                .iter()
                .filter(|pull| members.contains(&pull.repo))
                .collect();
            let opened = created
                .iter()
                .filter(|(repo, _, at)| members.contains(repo) && *at < now)
                .count();
            let merged = in_wave
                .iter()
                .filter(|pull| pull.state == PullRequestState::Merged)
                .count();
            let failing_now = in_wave
                .iter()
                .filter(|pull| pull.state == PullRequestState::Open && failing.contains(&pull.repo))
                .count();
            assert!(
                merged as f64 >= MERGED_RATIO * opened as f64,
                "promoted with {merged}/{opened} merged: {}",
                event.detail
            );
            assert!(
                failing_now as f64 <= FAILED_RATIO * opened as f64,
                "{}",
                event.detail
            );
            assert!(event.at - reached >= 24 * HOUR, "{}", event.detail);
        }
        simulation.clock.advance(STEP);
    }

    // Where it ended: the last wave, every change opened once, merged
    // unless a person is in the way.
    let state = store.rollout(&id).unwrap().expect("started");
    assert_eq!(state.wave, 2, "reached the last wave");
    let pulls = simulation.forge.pull_requests().unwrap();
    let records: HashMap<RepoName, _> = store
        .records(&id)
        .unwrap()
        .into_iter()
        .map(|record| (record.repo.clone(), record))
        .collect();
    for repo in repos.iter().filter(|repo| needs_change(repo)) {
        let pull = pulls
            .iter()
            .find(|pull| &pull.repo == repo)
            .unwrap_or_else(|| panic!("{repo} got no pull request"));
        let record = &records[repo];
        let index = index_of(repo);
        let expected = if index == 5 {
            // A person's commit: never merged, handed to people.
            assert_eq!(record.state, RepoState::NeedsAttention);
            PullRequestState::Open
        } else if index == 10 {
            PullRequestState::Closed
        } else if index % 17 == 16 {
            PullRequestState::Open
        } else {
            PullRequestState::Merged
        };
        assert_eq!(pull.state, expected, "{repo}");
        let draft = first_seen_draft[repo];
        assert_eq!(
            draft,
            waves.wave_of(repo) == Some(0),
            "{repo}: drafts only in the canary wave"
        );
    }
    assert!(overlaps.iter().all(|&held| held <= 1));
    // The store and the forge agree on every pull request, overlapping
    // runs included.
    for record in records.values() {
        let Some(number) = record.pull_request else {
            continue;
        };
        let pull = pulls
            .iter()
            .find(|pull| pull.repo == record.repo && pull.number == number)
            .unwrap_or_else(|| panic!("{}#{number} is not on the forge", record.repo));
        let expected = match record.state {
            RepoState::Merged => PullRequestState::Merged,
            RepoState::Closed => PullRequestState::Closed,
            _ => PullRequestState::Open,
        };
        assert_eq!(pull.state, expected, "{}: {:?}", record.repo, record.state);
    }
    // Every kind of hold happened, so every limit was put to the test.
    for kind in [
        "Wave", "Paused", "Schedule", "MaxOpen", "PerHour", "PerOwner",
    ] {
        assert!(holds.contains_key(kind), "no {kind} hold: {holds:?}");
    }

    let timeline = timeline(&store, &id, &waves, &simulation.spec);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rollout-timeline.txt");
    std::fs::write(&path, &timeline).unwrap();
    eprintln!(
        "{timeline}\nrepositories held back, summed over runs: {holds:?}\noverlapping run pairs: {} (one of the two held back by the lease in {})\n(written to {})",
        overlaps.len(),
        overlaps.iter().filter(|&&held| held == 1).count(),
        path.display()
    );
}

/// The wave timeline from the events tables: waves and their sizes,
/// promotions, pauses, and pull requests opened and merged per hour.
fn timeline(store: &SqliteStore, id: &str, waves: &fleet::rollout::Waves, spec: &Spec) -> String {
    let mut text = String::from("waves:\n");
    for (wave, members) in spec.rollout.waves.iter().zip(&waves.members) {
        text.push_str(&format!(
            "  {:<8} {:>3} repositories\n",
            wave.name,
            members.len()
        ));
    }
    text.push_str("rollout events:\n");
    for event in store.rollout_events(id).unwrap() {
        text.push_str(&format!(
            "  {}  {:<8} {}\n",
            format_utc(event.at),
            event.action.as_str(),
            event.detail
        ));
    }
    let mut hours: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for event in store.events(id).unwrap() {
        let hour = event.at - event.at.rem_euclid(HOUR);
        if event.detail.starts_with("opened pull request") {
            hours.entry(hour).or_default().0 += 1;
        }
        if event.to == RepoState::Merged && event.from != Some(RepoState::Merged) {
            hours.entry(hour).or_default().1 += 1;
        }
    }
    text.push_str("pull requests per hour (UTC; opened, merged):\n");
    for (hour, (opened, merged)) in hours {
        text.push_str(&format!(
            "  {}  {opened:>2} {merged:>2}\n",
            format_utc(hour)
        ));
    }
    text
}
