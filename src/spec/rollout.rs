//! The `rollout:` section: waves, the gate that promotes from one wave to
//! the next, fleet-wide limits, the schedule, draft-first and automerge.
//!
//! Without the section a migration has one wave holding every repository,
//! no limits, no schedule and no automerge: the behaviour of a plain run.
//! Without `promote_when`, waves are promoted by hand only
//! (`fleetmod rollout SPEC promote`).

use std::collections::HashSet;

use serde_saphyr::Spanned;

use super::raw::{RawAutomerge, RawLimits, RawPromoteWhen, RawRollout, RawSchedule, RawWave};
use super::schedule::Schedule;
use super::{Problems, at, duration};
use crate::catalog::RepoName;

/// The validated `rollout:` section.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutSettings {
    /// At least one; the order is the rollout order.
    pub waves: Vec<Wave>,
    pub promote_when: Option<PromoteWhen>,
    pub limits: Limits,
    pub schedule: Option<Schedule>,
    /// The index of the first wave whose pull requests are not drafts;
    /// earlier waves open drafts, marked ready when this wave is reached.
    pub draft_until_wave: Option<usize>,
    pub automerge: Option<Automerge>,
}

/// A wave of repositories.
#[derive(Clone, Debug, PartialEq)]
pub struct Wave {
    pub name: String,
    pub members: WaveMembers,
}

/// Which repositories a wave holds, beyond those of earlier waves.
#[derive(Clone, Debug, PartialEq)]
pub enum WaveMembers {
    /// Exactly these (explicit lists take precedence over hashed waves).
    Repos(Vec<RepoName>),
    /// The next this many repositories in hash order.
    Count(u32),
    /// Every repository whose hash point is below this share of the fleet
    /// (cumulative: `percent: 100` is everything left).
    Percent(f64),
}

/// Conditions that must all hold for the current wave before the next
/// one is reached.
#[derive(Clone, Debug, PartialEq)]
pub struct PromoteWhen {
    /// Merged pull requests / pull requests opened in the wave.
    pub merged_ratio: Option<f64>,
    /// Open pull requests with failing checks / pull requests opened.
    pub max_failed_checks_ratio: Option<f64>,
    /// How long the wave must have been reached.
    pub min_wave_age_ms: u64,
}

/// Fleet-wide limits, held across runs through the state store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_open_prs: Option<u32>,
    pub prs_per_hour: Option<u32>,
    pub max_open_prs_per_owner: Option<u32>,
}

/// When fleetmod merges its own pull requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Automerge {
    /// Every condition must hold.
    pub when: Vec<MergeCondition>,
    pub method: MergeMethod,
}

/// A condition for automerge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeCondition {
    /// The head's checks succeeded (no checks at all is not green).
    ChecksGreen,
    /// A reviewer approved and nobody requests changes.
    Approved,
    /// The forge says it merges cleanly.
    Mergeable,
}

impl MergeCondition {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeCondition::ChecksGreen => "checks-green",
            MergeCondition::Approved => "approved",
            MergeCondition::Mergeable => "mergeable",
        }
    }
}

/// How a pull request is merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

impl Default for RolloutSettings {
    fn default() -> RolloutSettings {
        RolloutSettings {
            waves: vec![Wave {
                name: "all".to_owned(),
                members: WaveMembers::Percent(100.0),
            }],
            promote_when: None,
            limits: Limits::default(),
            schedule: None,
            draft_until_wave: None,
            automerge: None,
        }
    }
}

impl RolloutSettings {
    /// The index of the wave called `name`.
    pub fn wave_index(&self, name: &str) -> Option<usize> {
        self.waves.iter().position(|wave| wave.name == name)
    }
}

pub(super) fn rollout(
    raw: Option<&Spanned<RawRollout>>,
    spec_draft: bool,
    problems: &mut Problems<'_>,
) -> RolloutSettings {
    let mut settings = RolloutSettings::default();
    let Some(raw) = raw else {
        return settings;
    };
    let section = &raw.value;
    if let Some(waves) = &section.waves {
        if waves.value.is_empty() {
            problems.add(
                at(waves.referenced),
                "`waves` is empty: list at least one wave, like `{name: all, percent: 100}`",
            );
        } else {
            settings.waves = validate_waves(&waves.value, problems);
        }
    }
    if let Some(gate) = &section.promote_when {
        settings.promote_when = Some(promote_when(&gate.value, problems));
    }
    if let Some(limits) = &section.limits {
        settings.limits = validate_limits(&limits.value, problems);
    }
    if let Some(schedule) = &section.schedule {
        let windows = match &schedule.value {
            RawSchedule::One(window) => vec![window.clone()],
            RawSchedule::Many(windows) => windows.clone(),
        };
        match Schedule::parse(&windows) {
            Ok(parsed) => settings.schedule = Some(parsed),
            Err(message) => problems.add(at(schedule.referenced), message),
        }
    }
    if let Some(name) = &section.draft_until_wave {
        match settings.wave_index(&name.value) {
            Some(0) => problems.add(
                at(name.referenced),
                format!(
                    "`draft_until_wave: {}` names the first wave, so no pull request would be a draft",
                    name.value
                ),
            ),
            Some(_) if spec_draft => {
                problems.add(
                    at(name.referenced),
                    "`pull_request.draft: true` keeps every pull request a draft; use it or `draft_until_wave`, not both",
                );
            }
            Some(index) => settings.draft_until_wave = Some(index),
            None => problems.add(
                at(name.referenced),
                format!("`{}` is not one of the waves", name.value),
            ),
        }
    }
    if let Some(automerge) = &section.automerge {
        settings.automerge = validate_automerge(&automerge.value, automerge.referenced, problems);
    }
    settings
}

fn validate_waves(raw: &[Spanned<RawWave>], problems: &mut Problems<'_>) -> Vec<Wave> {
    let mut waves = Vec::new();
    let mut names = HashSet::new();
    let mut listed = HashSet::new();
    let mut last_percent: f64 = 0.0;
    for wave in raw {
        let point = at(wave.referenced);
        let value = &wave.value;
        let name = match &value.name {
            Some(name) if !name.value.trim().is_empty() => {
                if !names.insert(name.value.clone()) {
                    problems.add(
                        at(name.referenced),
                        format!("wave `{}` is named twice", name.value),
                    );
                }
                name.value.clone()
            }
            _ => {
                problems.add(point, "a wave needs a `name`");
                continue;
            }
        };
        let members = match (&value.repos, &value.count, &value.percent) {
            (Some(repos), None, None) => {
                let mut members = Vec::new();
                for repo in repos {
                    match RepoName::parse(&repo.value) {
                        Ok(parsed) if !listed.insert(parsed.clone()) => problems.add(
                            at(repo.referenced),
                            format!("`{}` is listed in two waves", repo.value),
                        ),
                        Ok(parsed) => members.push(parsed),
                        Err(message) => problems.add(at(repo.referenced), message),
                    }
                }
                WaveMembers::Repos(members)
            }
            (None, Some(count), None) => {
                if count.value == 0 {
                    problems.add(at(count.referenced), "`count` must be at least 1");
                }
                WaveMembers::Count(count.value)
            }
            (None, None, Some(percent)) => {
                let share = percent.value;
                if !(share > 0.0 && share <= 100.0) {
                    problems.add(
                        at(percent.referenced),
                        "`percent` must be more than 0 and at most 100",
                    );
                } else if share <= last_percent {
                    problems.add(
                        at(percent.referenced),
                        format!(
                            "`percent: {share}` must be more than the {last_percent} of an earlier wave: percents are cumulative shares of the fleet"
                        ),
                    );
                }
                last_percent = last_percent.max(share);
                WaveMembers::Percent(share)
            }
            _ => {
                problems.add(
                    point,
                    format!("wave `{name}` needs exactly one of `repos`, `count` or `percent`"),
                );
                continue;
            }
        };
        waves.push(Wave { name, members });
    }
    if waves.is_empty() {
        return RolloutSettings::default().waves;
    }
    waves
}

fn ratio(value: &Option<Spanned<f64>>, key: &str, problems: &mut Problems<'_>) -> Option<f64> {
    let value = value.as_ref()?;
    if !(0.0..=1.0).contains(&value.value) {
        problems.add(
            at(value.referenced),
            format!("`{key}` must be between 0 and 1"),
        );
    }
    Some(value.value)
}

fn promote_when(raw: &RawPromoteWhen, problems: &mut Problems<'_>) -> PromoteWhen {
    let min_wave_age_ms = match &raw.min_wave_age {
        Some(age) => duration::parse(&age.value).unwrap_or_else(|message| {
            problems.add(at(age.referenced), message);
            0
        }),
        None => 0,
    };
    PromoteWhen {
        merged_ratio: ratio(&raw.merged_ratio, "merged_ratio", problems),
        max_failed_checks_ratio: ratio(
            &raw.max_failed_checks_ratio,
            "max_failed_checks_ratio",
            problems,
        ),
        min_wave_age_ms,
    }
}

fn validate_limits(raw: &RawLimits, problems: &mut Problems<'_>) -> Limits {
    let mut positive = |value: &Option<Spanned<u32>>, key: &str| {
        let value = value.as_ref()?;
        if value.value == 0 {
            problems.add(
                at(value.referenced),
                format!("`{key}` must be at least 1 (leave it out for no limit)"),
            );
        }
        Some(value.value)
    };
    Limits {
        max_open_prs: positive(&raw.max_open_prs, "max_open_prs"),
        prs_per_hour: positive(&raw.prs_per_hour, "prs_per_hour"),
        max_open_prs_per_owner: positive(&raw.max_open_prs_per_owner, "max_open_prs_per_owner"),
    }
}

fn validate_automerge(
    raw: &RawAutomerge,
    location: serde_saphyr::Location,
    problems: &mut Problems<'_>,
) -> Option<Automerge> {
    let mut when = Vec::new();
    for condition in raw.when.as_deref().unwrap_or_default() {
        let parsed = match condition.value.as_str() {
            "checks-green" => MergeCondition::ChecksGreen,
            "approved" => MergeCondition::Approved,
            "mergeable" => MergeCondition::Mergeable,
            other => {
                problems.add(
                    at(condition.referenced),
                    format!("`{other}` is not an automerge condition: use `checks-green`, `approved` or `mergeable`"),
                );
                continue;
            }
        };
        if !when.contains(&parsed) {
            when.push(parsed);
        }
    }
    if raw.when.as_deref().unwrap_or_default().is_empty() {
        problems.add(
            at(location),
            "`automerge` needs `when`, at least one of `checks-green`, `approved` and `mergeable`",
        );
        return None;
    }
    let method = match raw.method.as_ref() {
        None => MergeMethod::Merge,
        Some(method) => match method.value.as_str() {
            "merge" => MergeMethod::Merge,
            "squash" => MergeMethod::Squash,
            "rebase" => MergeMethod::Rebase,
            other => {
                problems.add(
                    at(method.referenced),
                    format!("`{other}` is not a merge method: use `merge`, `squash` or `rebase`"),
                );
                MergeMethod::Merge
            }
        },
    };
    Some(Automerge { when, method })
}
