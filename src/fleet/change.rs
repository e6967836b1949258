//! One repository's change: the checkout rewritten with the spec's rules,
//! what a reviewer must look at, and the post-change check that no
//! reference to the old table is left anywhere in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::engine::Scanner;
use crate::engine::rewrite::{Failure, FileRewrite};
use crate::progress::Silent;
use crate::rule::Applicability;
use crate::walk::{self, WalkError, WalkOptions};

/// A file the change rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    pub contents: String,
    pub edits: usize,
}

pub use crate::store::ReviewItem;

/// The change of one repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoChange {
    /// Sorted by path.
    pub files: Vec<ChangedFile>,
    /// Sorted by path and line.
    pub review: Vec<ReviewItem>,
    /// The ids of the rules that changed something.
    pub rules: BTreeSet<String>,
}

/// Rewrites the files of `folder` (a checkout) in memory, then checks the
/// whole repository for references to the old table that remain.
pub fn rewrite_checkout(
    scanner: &Scanner<'_>,
    folder: &Path,
    max_bytes: u64,
) -> Result<RepoChange, WalkError> {
    let options = WalkOptions {
        languages: scanner.languages().collect(),
        respect_ignores: true,
        threads: 1,
        glob_base: Some(folder.to_path_buf()),
    };
    let files = walk::find(&[folder.to_path_buf()], &options)?;
    let results = walk::process(&files, max_bytes, &Silent, |file, text| {
        scanner.rewrite(file.language, &file.relative, text)
    });
    let mut change = RepoChange::default();
    for (file, result) in files.iter().zip(results) {
        let Ok(rewrite) = result else { continue };
        let path = relative(folder, &file.path);
        review_items(scanner, &path, &rewrite, &mut change.review);
        if let Some(contents) = rewrite.output {
            change.rules.extend(
                rewrite
                    .applied
                    .iter()
                    .map(|edit| scanner.rule_id(edit.rule).to_owned()),
            );
            change.files.push(ChangedFile {
                path,
                contents,
                edits: rewrite.applied.len(),
            });
        }
    }
    change.files.sort_by(|a, b| a.path.cmp(&b.path));
    verify(scanner, folder, max_bytes, &mut change);
    change.review.sort();
    change.review.dedup();
    Ok(change)
}

fn relative(folder: &Path, path: &Path) -> String {
    path.strip_prefix(folder)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn review_items(
    scanner: &Scanner<'_>,
    path: &str,
    rewrite: &FileRewrite,
    review: &mut Vec<ReviewItem>,
) {
    let mut add = |line: usize, message: String| {
        review.push(ReviewItem {
            path: path.to_owned(),
            line,
            message,
        })
    };
    for finding in &rewrite.findings {
        add(
            finding.position.line,
            format!("{} ({})", finding.message, scanner.rule_id(finding.rule)),
        );
    }
    for edit in &rewrite.applied {
        if edit.applicability == Applicability::Review {
            let note = edit
                .note
                .as_deref()
                .map(|note| format!(": {}", note.trim()))
                .unwrap_or_default();
            add(
                edit.position.line,
                format!(
                    "changed `{}` to `{}`; check it{note} ({})",
                    edit.original.trim(),
                    edit.replacement.trim(),
                    scanner.rule_id(edit.rule)
                ),
            );
        }
    }
    for dropped in &rewrite.dropped {
        add(
            dropped.position.line,
            format!(
                "an edit of {} was left out: {}",
                scanner.rule_id(dropped.rule),
                dropped.reason
            ),
        );
    }
    if let Some(Failure::Oscillation { rules } | Failure::NoConvergence { rules }) =
        &rewrite.failure
    {
        let ids: Vec<&str> = rules.iter().map(|rule| scanner.rule_id(*rule)).collect();
        add(
            1,
            format!(
                "rules {} did not settle on one result; their edits were left out",
                ids.join(", ")
            ),
        );
    }
}

/// Adds a review item for every line of the repository (any text file)
/// that still names the old table after the change, unless a review item
/// already points there.
fn verify(scanner: &Scanner<'_>, folder: &Path, max_bytes: u64, change: &mut RepoChange) {
    let Some(migration) = scanner.migration() else {
        return;
    };
    let changed: BTreeMap<&str, &str> = change
        .files
        .iter()
        .map(|file| (file.path.as_str(), file.contents.as_str()))
        .collect();
    let covered: BTreeSet<(String, usize)> = change
        .review
        .iter()
        .map(|item| (item.path.clone(), item.line))
        .collect();
    let table = migration.spec().dataset.from.to_string();
    let mut leftovers = Vec::new();
    for entry in ignore::WalkBuilder::new(folder).build().flatten() {
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let path = relative(folder, entry.path());
        let text = match changed.get(path.as_str()) {
            Some(contents) => (*contents).to_owned(),
            None => match walk::read(entry.path(), max_bytes) {
                Ok(text) => text,
                Err(_) => continue,
            },
        };
        let mut lines = BTreeSet::new();
        for offset in migration.old_table_mentions(&text) {
            lines.insert(1 + text[..offset].matches('\n').count());
        }
        for line in lines {
            if !covered.contains(&(path.clone(), line)) {
                leftovers.push(ReviewItem {
                    path: path.clone(),
                    line,
                    message: format!("still names `{table}` after the change"),
                });
            }
        }
    }
    change.review.extend(leftovers);
}
