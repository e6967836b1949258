//! Raw migration specs: serde structs that mirror the YAML exactly.
//!
//! Every level rejects unknown keys and keeps the location of each value a
//! later check may point at. Required keys are `Option`s so that a missing
//! key gets fleetmod's own message and position rather than serde's.
//! Sections that later features add (`consumers`, `forge`, `pull_request`,
//! `commit`, `rollout`) become new optional fields here.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A whole spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    pub(crate) id: Option<Spanned<String>>,
    pub(crate) title: Option<Spanned<String>>,
    pub(crate) description: Option<Spanned<String>>,
    pub(crate) dataset: Option<Spanned<RawDataset>>,
    pub(crate) rules: Option<Vec<Spanned<String>>>,
    pub(crate) consumers: Option<Spanned<RawConsumers>>,
    pub(crate) forge: Option<Spanned<RawForge>>,
    pub(crate) pull_request: Option<Spanned<RawPullRequest>>,
    pub(crate) commit: Option<Spanned<RawCommit>>,
    pub(crate) rollout: Option<Spanned<RawRollout>>,
}

/// The `rollout:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollout {
    pub(crate) waves: Option<Spanned<Vec<Spanned<RawWave>>>>,
    pub(crate) promote_when: Option<Spanned<RawPromoteWhen>>,
    pub(crate) limits: Option<Spanned<RawLimits>>,
    pub(crate) schedule: Option<Spanned<RawSchedule>>,
    pub(crate) draft_until_wave: Option<Spanned<String>>,
    pub(crate) automerge: Option<Spanned<RawAutomerge>>,
}

/// One of `rollout.waves`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWave {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) repos: Option<Vec<Spanned<String>>>,
    pub(crate) count: Option<Spanned<u32>>,
    pub(crate) percent: Option<Spanned<f64>>,
}

/// `rollout.promote_when`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPromoteWhen {
    pub(crate) merged_ratio: Option<Spanned<f64>>,
    pub(crate) max_failed_checks_ratio: Option<Spanned<f64>>,
    pub(crate) min_wave_age: Option<Spanned<String>>,
}

/// `rollout.limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub(crate) max_open_prs: Option<Spanned<u32>>,
    pub(crate) prs_per_hour: Option<Spanned<u32>>,
    pub(crate) max_open_prs_per_owner: Option<Spanned<u32>>,
}

/// `rollout.schedule`: one window or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSchedule {
    One(String),
    Many(Vec<String>),
}

/// `rollout.automerge`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAutomerge {
    pub(crate) when: Option<Vec<Spanned<String>>>,
    pub(crate) method: Option<Spanned<String>>,
}

/// The `consumers:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConsumers {
    pub(crate) catalog: Option<Spanned<String>>,
    pub(crate) resource: Option<Spanned<String>>,
    pub(crate) repos: Option<Vec<Spanned<String>>>,
    pub(crate) exclude: Option<Vec<Spanned<String>>>,
}

/// The `forge:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForge {
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) root: Option<Spanned<String>>,
    /// Local forge only: a folder of plain repositories to import when the
    /// forge lacks them (the bundled example uses it).
    pub(crate) import: Option<Spanned<String>>,
    /// GitHub only: the REST API's root.
    pub(crate) api_url: Option<Spanned<String>>,
    /// GitHub only: the environment variable holding a token.
    pub(crate) token_env: Option<Spanned<String>>,
    /// GitHub only: a GitHub App instead of a token.
    pub(crate) app_id: Option<Spanned<u64>>,
    pub(crate) private_key_path: Option<Spanned<String>>,
    pub(crate) reviewers: Option<Spanned<RawReviewers>>,
    pub(crate) assignees: Option<Vec<Spanned<String>>>,
    pub(crate) requests: Option<Spanned<RawRequests>>,
}

/// `forge.reviewers`: a mode or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawReviewers {
    Mode(String),
    List(Vec<String>),
}

/// `forge.requests`: how the GitHub client paces itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequests {
    pub(crate) per_minute: Option<Spanned<u32>>,
    pub(crate) per_hour: Option<Spanned<u32>>,
    pub(crate) min_interval: Option<Spanned<String>>,
    pub(crate) concurrency: Option<Spanned<u32>>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) max_backoff: Option<Spanned<String>>,
}

/// The `pull_request:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPullRequest {
    pub(crate) branch: Option<Spanned<String>>,
    pub(crate) title: Option<Spanned<String>>,
    pub(crate) body: Option<Spanned<String>>,
    pub(crate) labels: Option<Vec<Spanned<String>>>,
    pub(crate) draft: Option<bool>,
}

/// The `commit:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommit {
    pub(crate) message: Option<Spanned<String>>,
    pub(crate) author: Option<Spanned<RawAuthor>>,
}

/// `commit.author`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuthor {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) email: Option<Spanned<String>>,
}

/// The `dataset:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataset {
    pub(crate) from: Option<Spanned<String>>,
    pub(crate) to: Option<Spanned<String>>,
    pub(crate) columns: Option<RawColumns>,
    pub(crate) removed: Option<Vec<Spanned<String>>>,
}

/// `columns:`, a map of old name to new name, in file order and with the
/// location of every key and value.
#[derive(Debug, Default)]
pub(crate) struct RawColumns(pub(crate) Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for RawColumns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColumnsVisitor;

        impl<'de> Visitor<'de> for ColumnsVisitor {
            type Value = RawColumns;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map of old column name to new column name")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawColumns, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<Spanned<String>, Spanned<String>>()? {
                    pairs.push(pair);
                }
                Ok(RawColumns(pairs))
            }
        }

        deserializer.deserialize_map(ColumnsVisitor)
    }
}
