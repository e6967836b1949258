//! `fleetmod rollout SPEC status|promote|pause|resume`: the rollout for
//! people. Status shows each wave's progress, the promotion gate, the
//! limits in use, the schedule and the history; the others change the
//! rollout and record why, as an event.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::Failure;
use super::run::{Setup, WorkspaceArguments, set_up};
use crate::catalog::RepoName;
use crate::fleet::advance::Position;
use crate::fleet::limits::{Budget, HOUR_MS};
use crate::fleet::rollout::{self, Waves};
use crate::spec::duration;
use crate::store::{Held, RepoRecord, RolloutChange, SqliteStore, StateStore, time};

#[derive(Debug, Args)]
pub(crate) struct RolloutArguments {
    /// The migration spec (YAML).
    spec: PathBuf,
    /// What to do: show the rollout, promote to the next wave now (whatever
    /// the gate says), pause (runs still sync, but open, push and merge
    /// nothing) or resume.
    #[arg(value_enum, default_value_t = Action::Status)]
    action: Action,
    /// Why (recorded with the event of promote, pause and resume).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Action {
    Status,
    Promote,
    Pause,
    Resume,
}

pub(crate) fn run(arguments: RolloutArguments) -> Result<(), Failure> {
    let setup = set_up(&arguments.spec, &arguments.workspace.workspace)?;
    // Showing changes nothing: without a state store, an empty one in
    // memory says "not started".
    let state_path = setup.workspace.state_path();
    let path = if arguments.action == Action::Status && !state_path.exists() {
        PathBuf::from(":memory:")
    } else {
        state_path
    };
    let mut store = SqliteStore::open(&path).context("failed to open the state store")?;
    let id = setup.spec.id.clone();
    let waves = &setup.spec.rollout.waves;
    let reason = arguments
        .reason
        .as_deref()
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    if arguments.action != Action::Status && store.rollout(&id)?.is_none() {
        let detail = format!("started at wave {}", waves[0].name);
        store.change_rollout(&id, RolloutChange::Start, &detail)?;
    }
    match arguments.action {
        Action::Status => status(&setup, &store),
        Action::Promote => {
            let state = store.rollout(&id)?.context("the rollout has not started")?;
            let from = state.wave.min(waves.len() - 1);
            if from + 1 >= waves.len() {
                return Err(Failure::Input(anyhow::anyhow!(
                    "migration {id} is at its last wave ({}): there is nothing to promote to",
                    waves[from].name
                )));
            }
            let detail = format!(
                "promoted by hand from wave {} to {}{reason}",
                waves[from].name,
                waves[from + 1].name
            );
            if !store.change_rollout(&id, RolloutChange::Promote { from }, &detail)? {
                return Err(Failure::Input(anyhow::anyhow!(
                    "the rollout moved on while promoting; run `fleetmod rollout {} status`",
                    arguments.spec.display()
                )));
            }
            println!("{detail}");
            Ok(())
        }
        Action::Pause | Action::Resume => {
            let pause = arguments.action == Action::Pause;
            let detail = format!("{}{reason}", if pause { "paused" } else { "resumed" });
            let change = if pause {
                RolloutChange::Pause
            } else {
                RolloutChange::Resume
            };
            if store.change_rollout(&id, change, &detail)? {
                println!("{id}: {detail}");
            } else {
                println!("{id}: already {}", if pause { "paused" } else { "running" });
            }
            Ok(())
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(error: crate::store::StoreError) -> Self {
        Failure::Input(error.into())
    }
}

fn status(setup: &Setup, store: &SqliteStore) -> Result<(), Failure> {
    let spec = &setup.spec;
    let settings = &spec.rollout;
    let records: HashMap<RepoName, RepoRecord> = store
        .records(&spec.id)?
        .into_iter()
        .map(|record| (record.repo.clone(), record))
        .collect();
    let repos: Vec<RepoName> = setup
        .consumers
        .consumers
        .iter()
        .map(|consumer| consumer.repo.clone())
        .collect();
    let waves: Waves = rollout::assign(settings, &spec.id, &repos);
    let state = store.rollout(&spec.id)?;
    let now = time::now_ms();
    let position = Position::of(settings, state, now);
    let current = position.wave;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut lines = Vec::new();
    match state {
        None => lines.push(format!(
            "{}: not started (the first run reaches wave {})",
            spec.id, settings.waves[0].name
        )),
        Some(state) => lines.push(format!(
            "{}: wave {} ({} of {}), reached {} ({} ago){}",
            spec.id,
            settings.waves[current].name,
            current + 1,
            settings.waves.len(),
            time::format_utc(state.reached_at),
            duration::format(((now - state.reached_at).max(0) as u64) / 60_000 * 60_000),
            if state.paused { ", PAUSED" } else { "" }
        )),
    }
    if let Some(schedule) = &settings.schedule {
        lines.push(match (position.scheduled, position.next_open) {
            (true, _) => format!("schedule: {} (open now)", schedule.text),
            (false, next) => format!(
                "schedule: {} (closed; opens {})",
                schedule.text,
                next.map_or_else(|| "never".to_owned(), time::format_utc)
            ),
        });
    }
    let limits = &settings.limits;
    let budget = Budget::new(
        limits,
        records.values(),
        store.openings_since(&spec.id, now - HOUR_MS)?,
    );
    let of = |value: Option<u32>| {
        value.map_or_else(|| "no limit".to_owned(), |max| format!("max {max}"))
    };
    let busiest = budget
        .per_owner()
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map_or_else(
            || "none".to_owned(),
            |(owner, count)| format!("{owner} {count}"),
        );
    lines.push(format!(
        "limits: {} open ({}), {} opened in the last hour ({}), most per owner: {busiest} ({})",
        budget.open(),
        of(limits.max_open_prs),
        budget.opened_last_hour(now),
        of(limits.prs_per_hour),
        of(limits.max_open_prs_per_owner)
    ));
    lines.push(String::new());
    lines.push(format!(
        "{:<16} {:>6} {:>7} {:>7} {:>15}  STATE",
        "WAVE", "REPOS", "OPENED", "MERGED", "FAILING CHECKS"
    ));
    for (index, wave) in settings.waves.iter().enumerate() {
        let progress = rollout::progress(&waves.members[index], &records);
        let state_text = match index.cmp(&current) {
            std::cmp::Ordering::Less => "reached",
            std::cmp::Ordering::Equal if state.is_some() => "current",
            _ => "waiting",
        };
        lines.push(format!(
            "{:<16} {:>6} {:>7} {:>7} {:>15}  {state_text}",
            wave.name, progress.repos, progress.opened, progress.merged, progress.failed_checks
        ));
    }
    let outside = repos
        .iter()
        .filter(|repo| waves.wave_of(repo).is_none())
        .count();
    if outside > 0 {
        lines.push(format!(
            "{outside} repositories are in no wave (the last wave is not `percent: 100`)"
        ));
    }
    if current + 1 < settings.waves.len() {
        lines.push(String::new());
        match &settings.promote_when {
            None => lines.push(format!(
                "promotion to {}: by hand only (no `promote_when`)",
                settings.waves[current + 1].name
            )),
            Some(promote) => {
                let progress = rollout::progress(&waves.members[current], &records);
                let age = state.map_or(0, |state| now - state.reached_at);
                lines.push(format!(
                    "promotion to {} when:",
                    settings.waves[current + 1].name
                ));
                for condition in rollout::gate(promote, &progress, age) {
                    let mark = if condition.holds { "yes" } else { "no " };
                    lines.push(format!("  {mark} {}", condition.detail));
                }
            }
        }
    }
    let held = store.held(&spec.id)?;
    if !held.is_empty() {
        lines.push(String::new());
        lines.push("held back (by the last run):".to_owned());
        for (reason, count) in Held::by_reason(&held) {
            lines.push(format!("  {count:>4}  {reason}"));
        }
    }
    let events = store.rollout_events(&spec.id)?;
    if !events.is_empty() {
        lines.push(String::new());
        lines.push("history:".to_owned());
        for event in events {
            lines.push(format!(
                "  {}  {:<8} {}",
                time::format_utc(event.at),
                event.action.as_str(),
                event.detail
            ));
        }
    }
    for line in lines {
        writeln!(out, "{line}").context("failed to write output")?;
    }
    out.flush().context("failed to write output")?;
    Ok(())
}
