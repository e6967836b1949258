//! Migration specs: what changed in a dataset, validated strictly.
//!
//! A spec names the old and new table, the renamed and removed columns and
//! optional extra rule files. Loading has two steps, like rule loading:
//! [`raw`] deserializes the YAML (unknown keys are errors), then
//! [`Spec::from_text`] validates it, collecting every problem with its
//! line:column. The spec's derived rewrites are described by [`plan`] and
//! carried out by [`crate::migrate`].

pub mod duration;
pub mod error;
pub mod fleet;
pub mod forge;
pub mod plan;
mod raw;
pub mod rollout;
mod rule_files;
pub mod schedule;
pub mod table;
pub mod template;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_saphyr::{Location, Spanned};

pub use self::error::{InvalidSpec, SpecError, SpecErrors};
pub use self::fleet::{CommitSettings, Consumers, PullRequestSettings};
pub use self::forge::{
    ForgeKind, ForgeSettings, GitHubAuth, GitHubSettings, RequestLimits, Reviewers,
};
use self::raw::{RawDataset, RawSpec};
pub use self::rollout::{
    Automerge, Limits, MergeCondition, MergeMethod, PromoteWhen, RolloutSettings, Wave, WaveMembers,
};
pub use self::schedule::Schedule;
pub use self::table::{TableName, is_identifier};
use crate::rule::Point;
use crate::rule::load::yaml_error;

/// A validated migration spec.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The spec file.
    pub path: PathBuf,
    pub id: String,
    pub title: String,
    /// Markdown for pull request bodies.
    pub description: String,
    pub dataset: Dataset,
    /// Extra rule files named by `rules:` globs.
    pub rule_files: Vec<PathBuf>,
    pub consumers: Consumers,
    pub forge: ForgeSettings,
    pub pull_request: PullRequestSettings,
    pub commit: CommitSettings,
    pub rollout: RolloutSettings,
}

/// What changed in the dataset.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub from: TableName,
    pub to: TableName,
    /// Renamed columns, in spec order.
    pub columns: Vec<ColumnRename>,
    /// Removed columns: reported, never rewritten.
    pub removed: Vec<String>,
}

/// One renamed column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRename {
    pub old: String,
    pub new: String,
}

/// Collects the problems of one spec.
struct Problems<'a> {
    path: &'a Path,
    spec_id: Option<String>,
    errors: Vec<SpecError>,
}

impl Problems<'_> {
    fn add(&mut self, point: impl Into<Point>, message: impl Into<String>) {
        self.errors.push(SpecError::Invalid(InvalidSpec {
            path: self.path.to_path_buf(),
            spec_id: self.spec_id.clone(),
            point: point.into(),
            message: message.into(),
        }));
    }
}

const START: Point = Point { line: 1, column: 1 };

fn at(location: Location) -> Point {
    Point::from(location)
}

impl Spec {
    /// Reads and validates a spec file.
    pub fn load(path: &Path) -> Result<Spec, SpecErrors> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Spec::from_text(path, &text)
    }

    /// Validates a spec's text, as if read from `path` (whose folder `rules:`
    /// globs are relative to).
    pub fn from_text(path: &Path, text: &str) -> Result<Spec, SpecErrors> {
        let mut problems = Problems {
            path,
            spec_id: None,
            errors: Vec::new(),
        };
        let raw: RawSpec = match serde_saphyr::from_str(text) {
            Ok(raw) => raw,
            Err(error) => {
                let located = yaml_error(&error);
                problems.spec_id = id_near(text);
                problems.add(located.point, located.message);
                return Err(SpecErrors(problems.errors));
            }
        };
        let id = validate_id(raw.id.as_ref(), &mut problems);
        problems.spec_id = id.clone();
        let dataset = match &raw.dataset {
            Some(dataset) => validate_dataset(&dataset.value, dataset.referenced, &mut problems),
            None => {
                problems.add(START, "missing `dataset` (with `from` and `to`)");
                None
            }
        };
        let rule_files = rule_files::resolve(
            path,
            raw.rules.as_deref().unwrap_or_default(),
            &mut problems,
        );
        let consumers = fleet::consumers(raw.consumers.as_ref(), path, &mut problems);
        let forge = forge::forge(raw.forge.as_ref(), path, &mut problems);
        let pull_request = fleet::pull_request(
            raw.pull_request.as_ref(),
            id.as_deref().unwrap_or("migration"),
            text,
            &mut problems,
        );
        let commit = fleet::commit(raw.commit.as_ref(), text, &mut problems);
        let rollout = rollout::rollout(raw.rollout.as_ref(), pull_request.draft, &mut problems);
        let (Some(id), Some(dataset)) = (id, dataset) else {
            return Err(SpecErrors(problems.errors));
        };
        if !problems.errors.is_empty() {
            return Err(SpecErrors(problems.errors));
        }
        let title = raw.title.map_or_else(
            || format!("Move {} to {}", dataset.from, dataset.to),
            |title| title.value.trim().to_owned(),
        );
        Ok(Spec {
            path: path.to_path_buf(),
            id,
            title,
            description: raw
                .description
                .map(|description| description.value)
                .unwrap_or_default(),
            dataset,
            rule_files,
            consumers,
            forge,
            pull_request,
            commit,
            rollout,
        })
    }
}

/// The `id:` of a spec that did not deserialize, for the message.
fn id_near(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("id:"))
        .map(|id| id.trim().trim_matches(['"', '\'']).to_owned())
        .filter(|id| !id.is_empty())
}

fn validate_id(id: Option<&Spanned<String>>, problems: &mut Problems<'_>) -> Option<String> {
    let Some(id) = id else {
        problems.add(START, "missing `id` (lowercase letters, digits and `-`)");
        return None;
    };
    let valid = !id.value.is_empty()
        && id
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        problems.add(
            at(id.referenced),
            format!(
                "`{}` is not a spec id: use lowercase letters, digits and `-`",
                id.value
            ),
        );
        return None;
    }
    Some(id.value.clone())
}

fn table(
    name: Option<&Spanned<String>>,
    key: &str,
    dataset_at: Location,
    problems: &mut Problems<'_>,
) -> Option<TableName> {
    let Some(name) = name else {
        problems.add(
            at(dataset_at),
            format!(
                "missing `dataset.{key}`: the {} table",
                if key == "from" { "old" } else { "new" }
            ),
        );
        return None;
    };
    match TableName::parse(name.value.trim()) {
        Ok(table) => Some(table),
        Err(message) => {
            problems.add(at(name.referenced), message);
            None
        }
    }
}

fn column_name(name: &Spanned<String>, problems: &mut Problems<'_>) -> bool {
    let valid = is_identifier(&name.value);
    if !valid {
        problems.add(
            at(name.referenced),
            format!(
                "`{}` is not a column name: use letters, digits and `_`, not starting with a digit",
                name.value
            ),
        );
    }
    valid
}

fn validate_dataset(
    raw: &RawDataset,
    dataset_at: Location,
    problems: &mut Problems<'_>,
) -> Option<Dataset> {
    let from = table(raw.from.as_ref(), "from", dataset_at, problems);
    let to = table(raw.to.as_ref(), "to", dataset_at, problems);
    let mut columns = Vec::new();
    // Column names compare without case, as SQL compares them.
    let mut old_names: HashMap<String, Location> = HashMap::new();
    let mut new_names: HashMap<String, (String, Location)> = HashMap::new();
    for (old, new) in raw
        .columns
        .as_ref()
        .map(|columns| columns.0.as_slice())
        .unwrap_or_default()
    {
        if !column_name(old, problems) | !column_name(new, problems) {
            continue;
        }
        let (old_key, new_key) = (old.value.to_lowercase(), new.value.to_lowercase());
        if old_key == new_key {
            problems.add(
                at(new.referenced),
                format!("column `{}` is renamed to itself", old.value),
            );
            continue;
        }
        if old_names.insert(old_key, old.referenced).is_some() {
            problems.add(
                at(old.referenced),
                format!("column `{}` is renamed twice", old.value),
            );
            continue;
        }
        if let Some((first, _)) = new_names.get(&new_key) {
            problems.add(
                at(new.referenced),
                format!(
                    "columns `{first}` and `{}` are both renamed to `{}`",
                    old.value, new.value
                ),
            );
            continue;
        }
        new_names.insert(new_key, (old.value.clone(), new.referenced));
        columns.push(ColumnRename {
            old: old.value.clone(),
            new: new.value.clone(),
        });
    }
    let mut removed: Vec<String> = Vec::new();
    for name in raw.removed.as_deref().unwrap_or_default() {
        if !column_name(name, problems) {
            continue;
        }
        let key = name.value.to_lowercase();
        if old_names.contains_key(&key) {
            problems.add(
                at(name.referenced),
                format!("column `{}` is both renamed and removed", name.value),
            );
        } else if let Some((old, _)) = new_names.get(&key) {
            problems.add(
                at(name.referenced),
                format!(
                    "column `{}` is removed, but `{old}` is renamed to it",
                    name.value
                ),
            );
        } else if removed.iter().any(|seen| seen.to_lowercase() == key) {
            problems.add(
                at(name.referenced),
                format!("column `{}` is listed twice", name.value),
            );
        } else {
            removed.push(name.value.clone());
        }
    }
    let (from, to) = (from?, to?);
    if from.matches(&to) {
        let identical = from.to_string().eq_ignore_ascii_case(&to.to_string());
        if identical && columns.is_empty() && removed.is_empty() {
            problems.add(
                at(dataset_at),
                "`from` and `to` are the same table and no column changes: the spec changes nothing",
            );
        }
        // With the table unchanged, only the column names tell migrated code
        // from old code, so a new name must not also be an old one.
        for rename in &columns {
            let new_key = rename.new.to_lowercase();
            if let (true, Some((old, location))) =
                (old_names.contains_key(&new_key), new_names.get(&new_key))
            {
                problems.add(
                    at(*location),
                    format!(
                        "`{old}` is renamed to a name that is itself renamed; with `to` naming the same table as `from`, a second run could not tell migrated code from old code"
                    ),
                );
            }
        }
    }
    Some(Dataset {
        from,
        to,
        columns,
        removed,
    })
}
