//! The rollout steps at the start of a run, after the sync and before any
//! repository is prepared: start the rollout, automerge, promote while the
//! gate holds, and mark drafts ready once `draft_until_wave` is reached.
//! Each step is recorded as it happens, so a crash between steps loses
//! nothing and the next run simply goes on.

use std::collections::HashMap;

use super::automerge::{self, Merge};
use super::rollout::{self, Hold, Waves};
use super::{Fleet, FleetError};
use crate::catalog::RepoName;
use crate::spec::RolloutSettings;
use crate::store::{RepoRecord, RepoState, RolloutChange, RolloutState, StateStore};

/// Where the rollout stands for this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The index of the wave reached.
    pub wave: usize,
    pub paused: bool,
    /// Whether the schedule is open now.
    pub scheduled: bool,
    /// When the schedule next opens (when it is closed now).
    pub next_open: Option<i64>,
    /// Whether new pull requests open as drafts.
    pub drafting: bool,
}

impl Position {
    /// What holds every repository back, when something does.
    pub fn hold_all(&self) -> Option<Hold> {
        if self.paused {
            Some(Hold::Paused)
        } else if !self.scheduled {
            Some(Hold::Schedule {
                next_open: self.next_open,
            })
        } else {
            None
        }
    }
}

/// What the rollout steps did.
#[derive(Clone, Debug, Default)]
pub struct Advanced {
    pub merges: Vec<Merge>,
    /// Each promotion's event detail.
    pub promotions: Vec<String>,
    /// Drafts marked ready for review, or why not.
    pub marked_ready: Vec<MarkedReady>,
}

/// A draft marked ready for review (`Ok`), or why not.
pub type MarkedReady = (RepoName, Result<(), String>);

impl Position {
    /// Where a rollout in `state` (`None`: not started) stands at `now`.
    pub fn of(settings: &RolloutSettings, state: Option<RolloutState>, now: i64) -> Position {
        let wave = state.map_or(0, |state| state.wave.min(settings.waves.len() - 1));
        let scheduled = settings
            .schedule
            .as_ref()
            .is_none_or(|schedule| schedule.is_open(now));
        Position {
            wave,
            paused: state.is_some_and(|state| state.paused),
            scheduled,
            next_open: settings
                .schedule
                .as_ref()
                .filter(|_| !scheduled)
                .and_then(|schedule| schedule.next_open(now)),
            drafting: settings.draft_until_wave.is_some_and(|until| wave < until),
        }
    }
}

/// Reads where the rollout stands without changing anything (a dry run).
pub fn read_position(fleet: &Fleet<'_>, store: &dyn StateStore) -> Result<Position, FleetError> {
    let state = store.rollout(&fleet.spec.id)?;
    Ok(Position::of(&fleet.spec.rollout, state, store.now_ms()))
}

/// Runs the rollout steps over `records` (every record of the migration;
/// updated in place) for the repositories `repos`.
pub(super) fn advance(
    fleet: &Fleet<'_>,
    store: &mut dyn StateStore,
    records: &mut HashMap<RepoName, RepoRecord>,
    repos: &[RepoName],
    waves: &Waves,
) -> Result<(Position, Advanced), FleetError> {
    let settings = &fleet.spec.rollout;
    let id = &fleet.spec.id;
    let mut advanced = Advanced::default();
    if store.rollout(id)?.is_none() {
        let detail = format!("started at wave {}", settings.waves[0].name);
        store.change_rollout(id, RolloutChange::Start, &detail)?;
    }
    let now = store.now_ms();
    let mut state = store.rollout(id)?;
    let mut position = Position::of(settings, state, now);
    let acting = position.hold_all().is_none();
    if acting && let Some(automerge) = &settings.automerge {
        advanced.merges = automerge::automerge(fleet, store, records, repos, automerge)?;
    }
    if let (false, Some(promote)) = (position.paused, &settings.promote_when) {
        while position.wave + 1 < settings.waves.len() {
            let reached_at = state.map_or(now, |state| state.reached_at);
            let progress = rollout::progress(&waves.members[position.wave], records);
            let conditions = rollout::gate(promote, &progress, now - reached_at);
            if !conditions.iter().all(|condition| condition.holds) {
                break;
            }
            let details: Vec<&str> = conditions
                .iter()
                .map(|condition| condition.detail.as_str())
                .collect();
            let detail = format!(
                "promoted from wave {} to {}: {}",
                settings.waves[position.wave].name,
                settings.waves[position.wave + 1].name,
                details.join("; ")
            );
            let from = position.wave;
            if store.change_rollout(id, RolloutChange::Promote { from }, &detail)? {
                tracing::info!("{detail}");
                advanced.promotions.push(detail);
            }
            // Another run may have promoted too; the store says where it is.
            state = store.rollout(id)?;
            position = Position::of(settings, state, now);
            if position.wave == from {
                break;
            }
        }
    }
    if acting && !position.drafting && settings.draft_until_wave.is_some() {
        advanced.marked_ready = mark_ready(fleet, store, records, repos, &position)?;
    }
    Ok((position, advanced))
}

/// Marks fleetmod's draft pull requests ready for review.
fn mark_ready(
    fleet: &Fleet<'_>,
    store: &mut dyn StateStore,
    records: &mut HashMap<RepoName, RepoRecord>,
    repos: &[RepoName],
    position: &Position,
) -> Result<Vec<MarkedReady>, FleetError> {
    let wave = &fleet.spec.rollout.waves[position.wave].name;
    let mut marked = Vec::new();
    for repo in repos {
        let Some(record) = records.get_mut(repo) else {
            continue;
        };
        let Some(number) = record.pull_request else {
            continue;
        };
        if !record.draft || record.state != RepoState::PrOpen {
            continue;
        }
        let result = fleet
            .forge
            .mark_ready(repo, number)
            .map_err(|error| error.to_string());
        if result.is_ok() {
            record.draft = false;
            let detail =
                format!("marked pull request #{number} ready for review: wave {wave} reached");
            store.save(record, &detail)?;
        }
        marked.push((repo.clone(), result));
    }
    Ok(marked)
}
