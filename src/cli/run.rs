//! `fleetmod run`: migrate every consumer repository, from clone to pull
//! request, recording each step in the state store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::Failure;
use super::logging::LoggingArguments;
use super::monitor::{Monitor, RunEnd};
use super::sources::{parse_size, thread_pool};
use crate::catalog::RepoName;
use crate::engine::Scanner;
use crate::fleet::automerge::MergeResult;
use crate::fleet::{self, ConsumerList, Fleet, FleetError, Outcome, RunOptions, Workspace};
use crate::forge::Forge;
use crate::forge::github::GitHubForge;
use crate::forge::local::{self, LocalForge};
use crate::migrate::Migration;
use crate::rule::RuleSet;
use crate::spec::{ForgeKind, Spec};
use crate::store::time::SystemClock;
use crate::store::{LeaseError, RateLedger, SqliteStore, time};

/// Where fleetmod keeps its state.
#[derive(Debug, Args)]
pub(crate) struct WorkspaceArguments {
    /// fleetmod's folder for mirrors, checkouts, the state store and the
    /// local forge (relative to the working directory).
    #[arg(long, value_name = "DIR", default_value = ".fleetmod")]
    pub(crate) workspace: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RunArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// Prepare every change and show what would happen, but push, open and
    /// record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only this repository (`owner/name`); repeatable.
    #[arg(long, value_name = "REPO", value_parser = RepoName::parse)]
    only: Vec<RepoName>,
    /// Worker threads for preparing repositories (default: one per CPU).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Retry failed repositories now instead of after their backoff.
    #[arg(long)]
    retry_failed: bool,
    /// Skip files larger than this many bytes (suffixes K, M and G).
    #[arg(long, value_name = "SIZE", default_value = "5M", value_parser = parse_size)]
    max_filesize: u64,
    /// Push the migration's metrics to this Prometheus Pushgateway
    /// (`http://HOST:PORT`) on every heartbeat and at the end.
    #[arg(long, value_name = "URL")]
    pushgateway: Option<String>,
    /// Seconds between heartbeats: the run log's (read by `fleetmod
    /// serve`), Pushgateway pushes and progress lines when stderr is not a
    /// terminal.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    heartbeat: u64,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

/// A spec with its consumers, ready to run or report on.
pub(crate) struct Setup {
    pub(crate) spec: Spec,
    pub(crate) consumers: ConsumerList,
    pub(crate) workspace: Workspace,
}

/// Loads the spec and resolves its consumers (warning about dependents
/// without a repository).
pub(crate) fn set_up(spec_path: &Path, workspace: &Path) -> Result<Setup, Failure> {
    let spec = Spec::load(spec_path).map_err(|errors| Failure::Input(errors.into()))?;
    let consumers =
        fleet::consumers::resolve(&spec).map_err(|error| Failure::Input(error.into()))?;
    for skipped in &consumers.skipped {
        eprintln!("warning: {skipped}");
    }
    Ok(Setup {
        spec,
        consumers,
        workspace: Workspace::new(workspace),
    })
}

/// Opens the spec's forge: GitHub (checking the token), or the local
/// forge with its `forge.import` folder imported.
pub(crate) fn open_forge(setup: &Setup) -> Result<Box<dyn Forge>, Failure> {
    match &setup.spec.forge.github {
        Some(settings) if setup.spec.forge.kind == ForgeKind::GitHub => {
            let ledger = RateLedger::open(&setup.workspace.state_path())
                .context("failed to open the state store")?;
            let forge = GitHubForge::connect(settings, ledger, Arc::new(SystemClock))
                .map_err(|error| Failure::Input(error.into()))?;
            Ok(Box::new(forge))
        }
        _ => Ok(Box::new(open_local_forge(setup)?)),
    }
}

/// Opens the spec's local forge, importing its `forge.import` folder when
/// the forge lacks repositories from it.
fn open_local_forge(setup: &Setup) -> Result<LocalForge, Failure> {
    let forge_root = setup
        .spec
        .forge
        .root
        .clone()
        .unwrap_or_else(|| setup.workspace.forge_path());
    let forge = LocalForge::open(&forge_root).context("failed to open the local forge")?;
    if let Some(folder) = &setup.spec.forge.import {
        let imported = local::import(&forge, folder).with_context(|| {
            format!("failed to import {} into the local forge", folder.display())
        })?;
        let created = imported.iter().filter(|repo| repo.created).count();
        if created > 0 {
            eprintln!(
                "imported {created} repositories from {} into the local forge at {}",
                folder.display(),
                forge_root.display()
            );
        }
    }
    Ok(forge)
}

pub(crate) fn run(arguments: RunArguments, logging: &LoggingArguments) -> Result<(), Failure> {
    let started = Instant::now();
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    let forge = open_forge(&setup)?;
    with_fleet(&setup, forge.as_ref(), |fleet, store| {
        let monitor = Monitor::start(
            &setup,
            arguments.dry_run,
            arguments.pushgateway.as_deref(),
            Duration::from_secs(arguments.heartbeat),
            logging.progress_style(),
        )?;
        let result = run_fleet(
            fleet,
            store,
            &setup,
            arguments,
            started,
            &monitor,
            logging.json(),
        );
        monitor.finish(match &result {
            Ok(()) => RunEnd::Ok,
            Err(Failure::Check) => RunEnd::Failures,
            Err(Failure::Held) if REFUSED.load(Ordering::SeqCst) => RunEnd::Refused,
            Err(Failure::Held) => RunEnd::Held,
            Err(Failure::Input(_)) => RunEnd::Error,
            Err(Failure::Interrupted) => RunEnd::Interrupted,
        });
        result
    })
}

// Ctrl-C stops the run between repositories (a second one stops it at
// once); what is recorded stays consistent either way.
static INTERRUPT: AtomicBool = AtomicBool::new(false);
/// Set when another run held the lease, so this one did nothing.
static REFUSED: AtomicBool = AtomicBool::new(false);

/// Loads the spec's rules and the state store, and calls `body` with the
/// fleet they make.
pub(crate) fn with_fleet<T>(
    setup: &Setup,
    forge: &dyn Forge,
    body: impl FnOnce(&Fleet<'_>, &mut SqliteStore) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let spec = &setup.spec;
    let rules =
        RuleSet::load(&spec.rule_files, None).map_err(|errors| Failure::Input(errors.into()))?;
    for warning in &rules.warnings {
        eprintln!("warning: {warning}");
    }
    let migration = Migration::new(spec);
    let scanner = Scanner::new(&rules).with_migration(&migration);
    let mut store = SqliteStore::open(&setup.workspace.state_path())
        .context("failed to open the state store")?;
    let fleet = Fleet {
        spec,
        scanner: &scanner,
        forge,
        workspace: &setup.workspace,
        rules_hash: fleet::rules_hash(spec),
    };
    body(&fleet, &mut store)
}

fn run_fleet(
    fleet: &Fleet<'_>,
    store: &mut SqliteStore,
    setup: &Setup,
    arguments: RunArguments,
    started: Instant,
    monitor: &Monitor<'_>,
    json_logs: bool,
) -> Result<(), Failure> {
    let options = RunOptions {
        dry_run: arguments.dry_run,
        only: arguments.only,
        retry_failed: arguments.retry_failed,
        max_filesize: arguments.max_filesize,
    };
    let pool = thread_pool(arguments.jobs)?;
    let _ = ctrlc::set_handler(|| {
        if INTERRUPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the repository in progress (Ctrl-C again to stop now)");
    });
    let interrupt = &INTERRUPT;
    let report = monitor
        .watch(|| {
            pool.install(|| {
                fleet::run(
                    fleet,
                    store,
                    &setup.consumers,
                    &options,
                    monitor.progress(),
                    interrupt,
                )
            })
        })
        .map_err(|error| match error {
            FleetError::Lease(LeaseError::Held { .. }) => {
                eprintln!("{error}; nothing done");
                REFUSED.store(true, Ordering::SeqCst);
                Failure::Held
            }
            FleetError::LeaseLost { .. } => {
                eprintln!("{error}");
                Failure::Held
            }
            error => Failure::Input(error.into()),
        })?;
    print_rollout(fleet, &report);

    let width = report
        .repos
        .iter()
        .map(|result| result.consumer.repo.to_string().len())
        .max()
        .unwrap_or(0);
    let mut totals: std::collections::BTreeMap<&str, usize> = Default::default();
    for result in &report.repos {
        let (label, text) = describe(&result.outcome, result.record.as_ref());
        *totals.entry(label).or_default() += 1;
        println!("{:width$}  {text}", result.consumer.repo.to_string());
    }
    for excluded in &setup.consumers.excluded {
        println!(
            "{:width$}  excluded by `consumers.exclude`",
            excluded.to_string()
        );
    }
    let summary: Vec<String> = totals
        .iter()
        .map(|(label, count)| format!("{count} {label}"))
        .collect();
    if json_logs {
        tracing::info!(
            migration = %fleet.spec.id,
            repositories = report.repos.len(),
            outcomes = %summary.join(", "),
            duration_seconds = started.elapsed().as_secs_f64(),
            dry_run = options.dry_run,
            "run finished"
        );
    } else {
        eprintln!(
            "{}{} repositories: {} ({:.1}s)",
            if options.dry_run { "dry run: " } else { "" },
            report.repos.len(),
            summary.join(", "),
            started.elapsed().as_secs_f64()
        );
    }
    if interrupt.load(Ordering::SeqCst) {
        return Err(Failure::Interrupted);
    }
    if report.has_failures() {
        return Err(Failure::Check);
    }
    if report.held_by_limits() && !report.made_progress() {
        return Err(Failure::Held);
    }
    Ok(())
}

/// The rollout steps of a run, on stderr: merges, promotions, drafts
/// marked ready and where the rollout stands.
fn print_rollout(fleet: &Fleet<'_>, report: &fleet::RunReport) {
    let advanced = &report.advanced;
    for merge in &advanced.merges {
        match &merge.result {
            MergeResult::Merged => eprintln!("merged {}#{}", merge.repo, merge.number),
            MergeResult::Skipped(reason) => {
                eprintln!("not merging {}#{}: {reason}", merge.repo, merge.number)
            }
            MergeResult::Failed(error) => {
                eprintln!("failed to merge {}#{}: {error}", merge.repo, merge.number)
            }
        }
    }
    for promotion in &advanced.promotions {
        eprintln!("{promotion}");
    }
    for (repo, result) in &advanced.marked_ready {
        if let Err(error) = result {
            eprintln!("could not mark {repo}'s pull request ready for review: {error}");
        }
    }
    let ready = advanced
        .marked_ready
        .iter()
        .filter(|(_, result)| result.is_ok())
        .count();
    if ready > 0 {
        eprintln!("marked {ready} draft pull request(s) ready for review");
    }
    let rollout = &fleet.spec.rollout;
    if rollout.waves.len() > 1 || report.position.paused || rollout.schedule.is_some() {
        let position = &report.position;
        eprintln!(
            "rollout: wave {} ({} of {}){}",
            rollout.waves[position.wave].name,
            position.wave + 1,
            rollout.waves.len(),
            match position.hold_all() {
                Some(hold) => format!("; {hold}"),
                None => String::new(),
            }
        );
    }
}

/// A short label for totals and a line for one repository.
fn describe(
    outcome: &Outcome,
    record: Option<&crate::store::RepoRecord>,
) -> (&'static str, String) {
    let pull = record
        .and_then(|record| record.pull_request)
        .map(|number| format!(" #{number}"))
        .unwrap_or_default();
    let counts = record
        .map(|record| {
            format!(
                " ({} file(s), {} review item(s))",
                record.files_changed, record.review_items
            )
        })
        .unwrap_or_default();
    let text = match outcome {
        Outcome::UpToDate => {
            let state = record.map_or("pending", |record| record.state.as_str());
            format!("up to date ({state}{pull})")
        }
        Outcome::Waiting { until } => format!(
            "failed before; retrying after {} (or pass --retry-failed)",
            time::format_utc(*until)
        ),
        Outcome::Finished(state) => format!("{state}{pull}: nothing more to do"),
        Outcome::NoChange => "no change needed".to_owned(),
        Outcome::Withdrawn { number } => {
            format!("no change needed any more: closed pull request #{number}")
        }
        Outcome::Opened { number } => format!("opened pull request #{number}{counts}"),
        Outcome::Updated { number } => format!("updated pull request #{number}{counts}"),
        Outcome::NeedsAttention { reason } => format!("needs attention: {reason}"),
        Outcome::Failed { stage, error } => format!("failed at {stage}: {error}"),
        Outcome::WouldChange {
            files,
            review_items,
        } => format!("would change {files} file(s), {review_items} review item(s)"),
        Outcome::Interrupted => "interrupted before this repository".to_owned(),
        Outcome::HeldBack(hold) => format!("held back: {hold}"),
    };
    (outcome.label(), text)
}
