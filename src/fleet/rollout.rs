//! Rollout decisions: which wave each repository is in, whether the
//! current wave's gate holds, and what holds a repository back.
//!
//! Wave membership is a pure function of the spec and the consumer list.
//! Each repository gets a point in [0, 1) from a stable hash of the
//! migration id and its name (a git blob id, so it never changes between
//! runs or builds). Explicit `repos:` lists come first; `percent: P` waves
//! take every remaining repository whose point is below P/100, so a
//! repository keeps its wave when the fleet grows; `count: N` waves take
//! the next N remaining repositories in point order.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::catalog::RepoName;
use crate::spec::duration;
use crate::spec::{PromoteWhen, RolloutSettings, WaveMembers};
use crate::store::time::format_utc;
use crate::store::{Checks, RepoRecord, RepoState};

/// The repositories of each wave.
#[derive(Clone, Debug, Default)]
pub struct Waves {
    /// Per wave, in spec order; each list sorted.
    pub members: Vec<Vec<RepoName>>,
    index: HashMap<RepoName, usize>,
}

impl Waves {
    /// The wave `repo` is in (`None`: in no wave, when the last wave is
    /// not `percent: 100`).
    pub fn wave_of(&self, repo: &RepoName) -> Option<usize> {
        self.index.get(repo).copied()
    }
}

/// A repository's point in [0, 1) for a migration.
pub fn hash_point(migration: &str, repo: &RepoName) -> f64 {
    let text = format!("{migration}\n{repo}");
    let bytes = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map(|id| {
            let mut first = [0u8; 8];
            first.copy_from_slice(&id.as_bytes()[..8]);
            u64::from_be_bytes(first)
        })
        .unwrap_or_default();
    // The top 53 bits, exactly representable.
    (bytes >> 11) as f64 / (1u64 << 53) as f64
}

/// Puts `repos` into the waves of `settings`.
pub fn assign(settings: &RolloutSettings, migration: &str, repos: &[RepoName]) -> Waves {
    let fleet: HashSet<&RepoName> = repos.iter().collect();
    let listed: HashSet<&RepoName> = settings
        .waves
        .iter()
        .filter_map(|wave| match &wave.members {
            WaveMembers::Repos(list) => Some(list),
            _ => None,
        })
        .flatten()
        .filter(|repo| fleet.contains(repo))
        .collect();
    let mut rest: Vec<(f64, &RepoName)> = repos
        .iter()
        .filter(|repo| !listed.contains(repo))
        .map(|repo| (hash_point(migration, repo), repo))
        .collect();
    rest.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut next = 0;
    let mut waves = Waves::default();
    for (number, wave) in settings.waves.iter().enumerate() {
        let mut members: Vec<RepoName> = match &wave.members {
            WaveMembers::Repos(list) => list
                .iter()
                .filter(|repo| fleet.contains(repo))
                .cloned()
                .collect(),
            WaveMembers::Count(count) => {
                let end = (next + *count as usize).min(rest.len());
                take(&rest, &mut next, end)
            }
            WaveMembers::Percent(percent) => {
                let threshold = percent / 100.0;
                let below = rest[next..]
                    .iter()
                    .take_while(|(point, _)| *percent >= 100.0 || *point < threshold)
                    .count();
                let end = next + below;
                take(&rest, &mut next, end)
            }
        };
        members.sort();
        for repo in &members {
            waves.index.insert(repo.clone(), number);
        }
        waves.members.push(members);
    }
    waves
}

/// The repositories of `rest` from `next` to `end`, moving `next` on.
fn take(rest: &[(f64, &RepoName)], next: &mut usize, end: usize) -> Vec<RepoName> {
    let taken = rest[*next..end]
        .iter()
        .map(|(_, repo)| (*repo).clone())
        .collect();
    *next = end;
    taken
}

/// How far a wave's pull requests got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaveProgress {
    pub repos: usize,
    /// Repositories that got a pull request.
    pub opened: usize,
    pub merged: usize,
    /// Open pull requests whose checks fail.
    pub failed_checks: usize,
    /// Every repository is done: no change needed, merged or closed.
    pub settled: bool,
}

/// Whether a record counts as having had a pull request.
fn had_pull_request(record: &RepoRecord) -> bool {
    record.pull_request.is_some() || record.state.is_final()
}

/// The progress of the repositories `members`.
pub fn progress(members: &[RepoName], records: &HashMap<RepoName, RepoRecord>) -> WaveProgress {
    let mut progress = WaveProgress {
        repos: members.len(),
        settled: true,
        ..WaveProgress::default()
    };
    for repo in members {
        let record = records.get(repo);
        let state = record.map(|record| record.state);
        if record.is_some_and(had_pull_request) {
            progress.opened += 1;
        }
        if state == Some(RepoState::Merged) {
            progress.merged += 1;
        }
        if record.is_some_and(|record| {
            record.state == RepoState::PrOpen && record.checks == Some(Checks::Failure)
        }) {
            progress.failed_checks += 1;
        }
        if !matches!(
            state,
            Some(RepoState::NoChange | RepoState::Merged | RepoState::Closed)
        ) {
            progress.settled = false;
        }
    }
    progress
}

/// One condition of the promotion gate, evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub holds: bool,
    /// What was compared, such as `merged 4/5 (80%) ≥ 80%`.
    pub detail: String,
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

/// Evaluates the gate for a wave `age_ms` old with `progress`.
pub fn gate(promote: &PromoteWhen, progress: &WaveProgress, age_ms: i64) -> Vec<Condition> {
    let mut conditions = Vec::new();
    let opened = progress.opened;
    if let Some(ratio) = promote.merged_ratio {
        // With nothing opened, the wave must be done (all no-change).
        let holds = if opened == 0 {
            progress.settled
        } else {
            progress.merged as f64 >= ratio * opened as f64 - 1e-9
        };
        conditions.push(Condition {
            holds,
            detail: format!(
                "merged {}/{opened} ({}) ≥ {:.0}%{}",
                progress.merged,
                percent(progress.merged, opened),
                ratio * 100.0,
                if opened == 0 && !progress.settled {
                    ", and no pull request opened yet"
                } else {
                    ""
                }
            ),
        });
    }
    if let Some(ratio) = promote.max_failed_checks_ratio {
        let holds = progress.failed_checks as f64 <= ratio * opened as f64 + 1e-9;
        conditions.push(Condition {
            holds,
            detail: format!(
                "failing checks {}/{opened} ({}) ≤ {:.0}%",
                progress.failed_checks,
                percent(progress.failed_checks, opened),
                ratio * 100.0
            ),
        });
    }
    if promote.min_wave_age_ms > 0 {
        let age = age_ms.max(0) as u64;
        conditions.push(Condition {
            holds: age >= promote.min_wave_age_ms,
            detail: format!(
                "wave age {} ≥ {}",
                duration::format(age - age % 60_000),
                duration::format(promote.min_wave_age_ms)
            ),
        });
    }
    conditions
}

/// What keeps a repository from going ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hold {
    /// Its wave has not been reached.
    Wave { wave: String },
    /// No wave holds it (the last wave is not `percent: 100`).
    NoWave,
    /// The rollout is paused.
    Paused,
    /// Outside the schedule; it next opens at this time, if ever.
    Schedule { next_open: Option<i64> },
    /// `max_open_prs` are open.
    MaxOpen { max: u32 },
    /// `prs_per_hour` were opened in the last hour; the next may open at
    /// `until`.
    PerHour { max: u32, until: i64 },
    /// The owner has `max_open_prs_per_owner` open.
    PerOwner { owner: String, max: u32 },
}

impl Hold {
    /// Whether the hold is a limit, the schedule or a pause (which make a
    /// run that did nothing else exit with code 3), rather than the
    /// rollout's plan.
    pub fn is_limit(&self) -> bool {
        !matches!(self, Hold::Wave { .. } | Hold::NoWave)
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::Wave { wave } => write!(formatter, "waiting for wave {wave}"),
            Hold::NoWave => formatter.write_str("in no wave (the last wave is not `percent: 100`)"),
            Hold::Paused => formatter.write_str("the rollout is paused"),
            Hold::Schedule {
                next_open: Some(at),
            } => write!(
                formatter,
                "outside the schedule (opens {})",
                format_utc(*at)
            ),
            Hold::Schedule { next_open: None } => formatter.write_str("outside the schedule"),
            Hold::MaxOpen { max } => write!(
                formatter,
                "{max} pull requests are open (max_open_prs: {max})"
            ),
            Hold::PerHour { max, until } => write!(
                formatter,
                "{max} pull requests opened in the last hour (prs_per_hour: {max}); next at {}",
                format_utc(*until)
            ),
            Hold::PerOwner { owner, max } => write!(
                formatter,
                "{owner} has {max} open pull requests (max_open_prs_per_owner: {max})"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Wave;

    fn repos(count: usize) -> Vec<RepoName> {
        (0..count)
            .map(|index| RepoName::parse(&format!("acme/repo-{index:03}")).unwrap())
            .collect()
    }

    fn settings(waves: Vec<(&str, WaveMembers)>) -> RolloutSettings {
        RolloutSettings {
            waves: waves
                .into_iter()
                .map(|(name, members)| Wave {
                    name: name.to_owned(),
                    members,
                })
                .collect(),
            ..RolloutSettings::default()
        }
    }

    #[test]
    fn waves_are_stable_and_explicit_lists_come_first() {
        let fleet = repos(200);
        let canary = vec![fleet[7].clone(), fleet[150].clone()];
        let settings = settings(vec![
            ("canary", WaveMembers::Repos(canary.clone())),
            ("three", WaveMembers::Count(3)),
            ("early", WaveMembers::Percent(25.0)),
            ("all", WaveMembers::Percent(100.0)),
        ]);
        let waves = assign(&settings, "orders-v2", &fleet);
        assert_eq!(waves.members[0], canary);
        assert_eq!(waves.members[1].len(), 3);
        let early = waves.members[2].len();
        assert!((35..=65).contains(&early), "about 25% of 200: {early}");
        let total: usize = waves.members.iter().map(Vec::len).sum();
        assert_eq!(total, 200, "every repository is in exactly one wave");

        // A bigger fleet keeps every repository's wave for percent waves.
        let mut grown = fleet.clone();
        grown.extend((0..50).map(|index| RepoName::parse(&format!("other/new-{index}")).unwrap()));
        let settings_percent = self::settings(vec![
            ("early", WaveMembers::Percent(25.0)),
            ("all", WaveMembers::Percent(100.0)),
        ]);
        let before = assign(&settings_percent, "orders-v2", &fleet);
        let after = assign(&settings_percent, "orders-v2", &grown);
        for repo in &fleet {
            assert_eq!(before.wave_of(repo), after.wave_of(repo), "{repo}");
        }
        // Another migration spreads its canaries differently.
        let other = assign(&settings_percent, "billing-v3", &fleet);
        assert_ne!(before.members[0], other.members[0]);
    }

    #[test]
    fn a_partial_last_wave_leaves_repositories_out() {
        let fleet = repos(100);
        let waves = assign(
            &settings(vec![("early", WaveMembers::Percent(10.0))]),
            "m",
            &fleet,
        );
        let out = fleet
            .iter()
            .filter(|repo| waves.wave_of(repo).is_none())
            .count();
        assert_eq!(out, 100 - waves.members[0].len());
        assert!(out > 0);
    }

    #[test]
    fn the_gate_needs_every_condition() {
        let promote = PromoteWhen {
            merged_ratio: Some(0.8),
            max_failed_checks_ratio: Some(0.1),
            min_wave_age_ms: 24 * 3_600_000,
        };
        let progress = WaveProgress {
            repos: 6,
            opened: 5,
            merged: 4,
            failed_checks: 0,
            settled: false,
        };
        let day = 24 * 3_600_000;
        let conditions = gate(&promote, &progress, day + 3_600_000);
        assert!(conditions.iter().all(|condition| condition.holds));
        assert_eq!(conditions[0].detail, "merged 4/5 (80%) ≥ 80%");
        assert_eq!(conditions[2].detail, "wave age 1d1h ≥ 1d");
        assert!(!gate(&promote, &progress, day - 1)[2].holds);
        let failing = WaveProgress {
            failed_checks: 1,
            ..progress
        };
        assert!(!gate(&promote, &failing, day)[1].holds);
        let nothing_yet = WaveProgress {
            opened: 0,
            merged: 0,
            ..progress
        };
        assert!(!gate(&promote, &nothing_yet, day)[0].holds);
        let all_no_change = WaveProgress {
            settled: true,
            ..nothing_yet
        };
        assert!(gate(&promote, &all_no_change, day)[0].holds);
    }
}
