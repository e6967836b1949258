//! The fix loop for one file: passes of edits that never break the file.
//!
//! Each pass scans the current text, applies every non-overlapping edit and
//! re-parses the result (for a text parsed in part, [`super::partial`], the
//! same members, moved by the edits). If the parse got worse (more ERROR
//! nodes, or more MISSING nodes of some kind, than the pass started with),
//! the offending edits are found — per rule first, then per edit — and
//! dropped, keeping the rest. Passes repeat until nothing changes. If the
//! text returns to an earlier state (the rules oscillate) or ten passes are
//! not enough, the file is left as it was and the failure is reported with
//! its rules.
//!
//! A migration ([`crate::migrate`]) then makes one more pass on the result:
//! its edits are computed once and never re-applied, because a rename such
//! as `a → b, b → c` must not chain. The same syntax check applies.
//! A UTF-8 byte order mark, the line endings and the presence or absence of
//! a final newline are preserved.

use std::borrow::Cow;
use std::cell::LazyCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tree_sitter::Tree;

use super::edit::{self, Edit};
use super::indent::LazyStyle;
use super::{LineColumn, Scanner, Selection, char_column};
use crate::lang::{self, Language};
use crate::rule::Applicability;

/// The most passes a file gets before its rules are said not to converge.
pub const MAX_PASSES: usize = 10;

const BOM: &str = "\u{feff}";

/// An edit that was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedEdit {
    /// Index of the rule in [`crate::rule::RuleSet::rules`].
    pub rule: usize,
    pub applicability: Applicability,
    pub note: Option<String>,
    /// Where the replacement starts in the final text.
    pub position: LineColumn,
    /// The text that was replaced, and its replacement.
    pub original: String,
    pub replacement: String,
}

/// An edit that was dropped because it made the file parse worse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedEdit {
    pub rule: usize,
    /// Where the edit would have started, in the final text.
    pub position: LineColumn,
    pub reason: String,
}

/// Why a file was left unchanged although rules wanted to change it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The text came back to an earlier state.
    Oscillation { rules: Vec<usize> },
    /// Rules still changed the text after [`MAX_PASSES`] passes.
    NoConvergence { rules: Vec<usize> },
}

/// A place a reviewer should look at, with no edit (from a migration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundItem {
    /// The rule's number (see [`Scanner::rule_id`]).
    pub rule: usize,
    /// Where, in the final text.
    pub position: LineColumn,
    pub message: String,
}

/// The outcome of rewriting one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRewrite {
    /// The new text, when it differs from the old.
    pub output: Option<String>,
    pub applied: Vec<AppliedEdit>,
    pub dropped: Vec<DroppedEdit>,
    pub findings: Vec<FoundItem>,
    /// Why the rules' own edits were abandoned (the migration's still apply).
    pub failure: Option<Failure>,
    pub passes: usize,
}

/// Counts of ERROR nodes and of MISSING nodes per kind.
pub type ErrorProfile = BTreeMap<String, usize>;

/// The syntax errors of a tree, counted by kind.
pub fn error_profile(tree: &Tree) -> ErrorProfile {
    let mut profile = ErrorProfile::new();
    if !tree.root_node().has_error() {
        return profile;
    }
    // Only subtrees with an error can hold one.
    for node in lang::pre_order_where(tree.root_node(), |node| node.has_error()) {
        if node.is_error() {
            *profile.entry("ERROR".to_owned()).or_default() += 1;
        } else if node.is_missing() {
            *profile
                .entry(format!("MISSING `{}`", node.kind()))
                .or_default() += 1;
        }
    }
    profile
}

/// The syntax errors of a text as fleetmod judges them: SQL is masked
/// first (templates, BigQuery's backquoted paths; see
/// [`crate::migrate::mask_sql`]), as it is for analysis, so dialect syntax
/// the grammar lacks is not counted as an error.
pub fn syntax_profile(language: Language, text: &str) -> Option<ErrorProfile> {
    Some(error_profile(&parse_for_check(language, text)?))
}

/// Parses `text` as [`syntax_profile`] judges it: SQL masked first (same
/// byte offsets; the migration reads SQL files through its own masking).
fn parse_for_check(language: Language, text: &str) -> Option<Tree> {
    if language.name() == "sql" {
        lang::parse(language, &crate::migrate::mask_sql(text))
    } else {
        lang::parse(language, text)
    }
}

/// [`syntax_profile`], reusing `tree` (the parse of `text`) where it can.
fn profile_of(language: Language, text: &str, tree: &Tree) -> ErrorProfile {
    if language.name() == "sql" {
        syntax_profile(language, text).unwrap_or_else(|| error_profile(tree))
    } else {
        error_profile(tree)
    }
}

/// What got worse from `before` to `after`, if anything.
pub fn regression(before: &ErrorProfile, after: &ErrorProfile) -> Option<String> {
    let worse: Vec<String> = after
        .iter()
        .filter(|(key, count)| **count > before.get(*key).copied().unwrap_or(0))
        .map(|(key, count)| format!("{key} +{}", count - before.get(key).copied().unwrap_or(0)))
        .collect();
    (!worse.is_empty()).then(|| format!("the result would not parse ({})", worse.join(", ")))
}

/// One pass: the edits offered and the indices of those applied.
struct Pass<'a> {
    /// The text the pass started from (borrowed for the first pass).
    text: Cow<'a, str>,
    edits: Vec<Edit>,
    applied: Vec<usize>,
    dropped: Vec<(usize, String)>,
}

impl Scanner<'_> {
    /// Rewrites one source text with every rule that has a fix.
    pub fn rewrite(&self, language: Language, path: &Path, source: &str) -> FileRewrite {
        self.rewrite_selected(language, path, source, Selection::Fixes)
    }

    /// Rewrites one source text with one rule only, ignoring its globs.
    pub fn rewrite_rule(&self, rule: usize, source: &str) -> FileRewrite {
        let language = self.rule_set().rules[rule].language;
        self.rewrite_selected(language, Path::new(""), source, Selection::Rule(rule))
    }

    fn rewrite_selected(
        &self,
        language: Language,
        path: &Path,
        source: &str,
        selection: Selection,
    ) -> FileRewrite {
        let (bom, body) = match source.strip_prefix(BOM) {
            Some(body) => (BOM, body),
            None => ("", source),
        };
        // The rules whose literals are present; found once here, for the
        // first pass too.
        let enabled = self.enabled_rules(language, path, body, selection);
        let migrating = || {
            matches!(
                (self.migration, selection),
                (Some(migration), Selection::Fixes) if migration.may_apply(body)
            )
        };
        if enabled.is_none() && !migrating() {
            // Nothing can change (the usual case).
            return FileRewrite::default();
        }
        let style = LazyStyle::new(body);
        let rule_outcome = match enabled {
            Some(enabled) => self.rule_passes(language, path, body, &style, selection, enabled),
            None => Ok((Cow::Borrowed(body), Vec::new())),
        };
        let (mut text, mut passes, failure) = match rule_outcome {
            Ok((text, passes)) => (text, passes, None),
            Err(failure) => (Cow::Borrowed(body), Vec::new(), Some(failure)),
        };
        let rule_passes = passes.len();
        let mut pending_findings = Vec::new();
        if let (Some(migration), Selection::Fixes) = (self.migration, selection)
            && migration.may_apply(&text)
            && let Some(tree) = parse_for_check(language, &text)
        {
            let outcome = migration.apply(
                language,
                &text,
                tree.root_node(),
                self.rule_set().rules.len(),
            );
            pending_findings = outcome.findings;
            if !outcome.edits.is_empty() {
                let before = error_profile(&tree);
                let SafeEdits {
                    applied,
                    dropped,
                    text: next,
                    ..
                } = safe_edits(language, &text, &tree, &outcome.edits, &before);
                passes.push(Pass {
                    text: std::mem::replace(&mut text, Cow::Owned(next)),
                    edits: outcome.edits,
                    applied,
                    dropped,
                });
            }
        }
        let final_newline = body.ends_with('\n');
        if text != body {
            let text = text.to_mut();
            if final_newline && !text.ends_with('\n') {
                text.push_str(if style.get().crlf { "\r\n" } else { "\n" });
            } else if !final_newline && text.ends_with('\n') && !body.is_empty() {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
        }
        let (applied, dropped) = report(&passes, &text);
        // Findings were made on the text before the migration's edits.
        let migration_pass = passes.get(rule_passes);
        let findings = pending_findings
            .into_iter()
            .map(|finding| {
                let position = match migration_pass {
                    Some(pass) => {
                        let chosen = select(&pass.edits, &pass.applied);
                        let order: Vec<usize> = (0..chosen.len()).collect();
                        edit::map_position(finding.offset, &chosen, &order)
                    }
                    None => finding.offset,
                };
                FoundItem {
                    rule: self.derived_rule(finding.rule),
                    position: line_column(&text, position),
                    message: finding.message,
                }
            })
            .collect();
        let output = (text != body).then(|| match bom {
            "" => text.into_owned(),
            _ => format!("{bom}{text}"),
        });
        FileRewrite {
            output,
            applied,
            dropped,
            findings,
            failure,
            passes: passes.len(),
        }
    }

    /// The rules' fix passes, or why they did not settle. `enabled` are the
    /// rules that may edit `body` (found by the caller).
    fn rule_passes<'a>(
        &self,
        language: Language,
        path: &Path,
        body: &'a str,
        style: &LazyStyle<'_>,
        selection: Selection,
        enabled: Vec<bool>,
    ) -> Result<(Cow<'a, str>, Vec<Pass<'a>>), Failure> {
        let mut first_enabled = Some(enabled);
        let mut text = Cow::Borrowed(body);
        // Each pass keeps the text it started from: `body`, then the text
        // after each earlier pass, against which an oscillation is found.
        let mut passes: Vec<Pass> = Vec::new();
        // The parse of `text` made by the previous pass's check, if any.
        let mut reused: Option<Tree> = None;
        for pass in 0..=MAX_PASSES {
            let enabled = first_enabled
                .take()
                .or_else(|| self.enabled_rules(language, path, &text, selection));
            let Some(parsed) = enabled
                .and_then(|enabled| self.parse_for_edits(language, &text, enabled, reused.take()))
            else {
                break;
            };
            let edits = self.edits(language, &text, &parsed, style);
            if edits.is_empty() {
                break;
            }
            let tree = parsed.tree;
            let before = profile_of(language, &text, &tree);
            let SafeEdits {
                applied,
                dropped,
                tree: next_tree,
                text: next,
            } = safe_edits(language, &text, &tree, &edits, &before);
            reused = next_tree;
            let changed = *next != *text;
            if changed && pass == MAX_PASSES {
                let rules = rules_of(&edits, &applied);
                return Err(Failure::NoConvergence { rules });
            }
            passes.push(Pass {
                text: std::mem::replace(&mut text, Cow::Owned(next)),
                edits,
                applied,
                dropped,
            });
            if !changed {
                break;
            }
            if let Some(earlier) = passes.iter().position(|pass| pass.text == text) {
                let rules: BTreeSet<usize> = passes[earlier..]
                    .iter()
                    .flat_map(|pass| rules_of(&pass.edits, &pass.applied))
                    .collect();
                let failure = Failure::Oscillation {
                    rules: rules.into_iter().collect(),
                };
                return Err(failure);
            }
        }
        Ok((text, passes))
    }
}

/// The distinct rules of some edits, in order.
fn rules_of(edits: &[Edit], indices: &[usize]) -> Vec<usize> {
    let rules: BTreeSet<usize> = indices.iter().map(|&index| edits[index].rule).collect();
    rules.into_iter().collect()
}

fn select(edits: &[Edit], indices: &[usize]) -> Vec<Edit> {
    indices.iter().map(|&index| edits[index].clone()).collect()
}

/// The edits of one pass that keep the text parsing as well as before.
struct SafeEdits {
    /// Indices of the edits to apply, by position.
    applied: Vec<usize>,
    /// Edits dropped because they made the text parse worse (index, reason).
    dropped: Vec<(usize, String)>,
    /// The parse of the text with `applied` made, when it is a plain parse
    /// (not for SQL, which is checked masked), for the next pass to reuse.
    tree: Option<Tree>,
    /// The text with `applied` made.
    text: String,
}

/// Which edits to apply this pass. Each candidate set is checked by parsing
/// the edited text incrementally from `tree` (the parse of `text`), so a
/// check costs in proportion to what the edits touched, not the file.
fn safe_edits(
    language: Language,
    text: &str,
    tree: &Tree,
    edits: &[Edit],
    before: &ErrorProfile,
) -> SafeEdits {
    let candidates = edit::plan(text, edits).applied;
    let masked = language.name() == "sql";
    // The ranges of a partial parse, moved by each trial's edits.
    let parsed_ranges = lang::parsed_ranges(tree);
    // The regression of the text with these edits made, its parse, and
    // the text.
    let check = |indices: &[usize]| -> (Option<String>, Option<Tree>, String) {
        let chosen = select(edits, indices);
        let application = edit::apply(text, &chosen);
        if masked {
            let regressed = syntax_profile(language, &application.text)
                .and_then(|after| regression(before, &after));
            return (regressed, None, application.text);
        }
        let taken: Vec<&Edit> = application
            .applied
            .iter()
            .map(|&index| &chosen[index])
            .collect();
        let mut edited = tree.clone();
        edit::edit_tree(&mut edited, text, &taken);
        let ranges = parsed_ranges
            .as_ref()
            .map(|ranges| edit::move_ranges(ranges, &taken));
        match lang::reparse(language, &application.text, &edited, ranges.as_deref()) {
            Some(new_tree) => (
                regression(before, &error_profile(&new_tree)),
                Some(new_tree),
                application.text,
            ),
            None => (None, None, application.text),
        }
    };
    let (regressed, new_tree, new_text) = check(&candidates);
    if regressed.is_none() {
        return SafeEdits {
            applied: candidates,
            dropped: Vec::new(),
            tree: new_tree,
            text: new_text,
        };
    }
    // Per rule first, then per edit within a rule that breaks the text.
    let mut rules: Vec<usize> = candidates.iter().map(|&index| edits[index].rule).collect();
    rules.sort_unstable();
    rules.dedup();
    let mut accepted: Vec<usize> = Vec::new();
    let mut accepted_tree = (!masked).then(|| tree.clone());
    let mut accepted_text = text.to_owned();
    let mut dropped = Vec::new();
    for rule in rules {
        let group: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&index| edits[index].rule == rule)
            .collect();
        let mut trial = accepted.clone();
        trial.extend(&group);
        if let (None, new_tree, new_text) = check(&trial) {
            accepted = trial;
            accepted_tree = new_tree;
            accepted_text = new_text;
            continue;
        }
        for index in group {
            let mut trial = accepted.clone();
            trial.push(index);
            match check(&trial) {
                (None, new_tree, new_text) => {
                    accepted.push(index);
                    accepted_tree = new_tree;
                    accepted_text = new_text;
                }
                (Some(reason), _, _) => dropped.push((index, reason)),
            }
        }
    }
    accepted.sort_by_key(|&index| (edits[index].range.start, edits[index].range.end));
    SafeEdits {
        applied: accepted,
        dropped,
        tree: accepted_tree,
        text: accepted_text,
    }
}

/// Applied and dropped edits with their positions in the final text.
fn report(passes: &[Pass], final_text: &str) -> (Vec<AppliedEdit>, Vec<DroppedEdit>) {
    let mut applied = Vec::new();
    let mut dropped = Vec::new();
    // Each pass's applied edits, by position, taken once (not per edit).
    let chosen: Vec<Vec<Edit>> = passes
        .iter()
        .map(|pass| select(&pass.edits, &pass.applied))
        .collect();
    let orders: Vec<Vec<usize>> = chosen
        .iter()
        .map(|edits| (0..edits.len()).collect())
        .collect();
    // Built on the first lookup: most files a rule without literals reads
    // have nothing to report.
    let lines = LazyCell::new(|| LineIndex::new(final_text));
    for (number, pass) in passes.iter().enumerate() {
        // Position of a byte of this pass's text in the final text.
        let forward = |position: usize| {
            let position = (number..passes.len()).fold(position, |position, later| {
                edit::map_position(position, &chosen[later], &orders[later])
            });
            lines.line_column(final_text, position)
        };
        for edit in &chosen[number] {
            applied.push(AppliedEdit {
                rule: edit.rule,
                applicability: edit.applicability,
                note: edit.note.clone(),
                position: forward(edit.range.start),
                original: pass
                    .text
                    .get(edit.range.clone())
                    .unwrap_or_default()
                    .to_owned(),
                replacement: edit.replacement.clone(),
            });
        }
        for (index, reason) in &pass.dropped {
            let edit = DroppedEdit {
                rule: pass.edits[*index].rule,
                position: forward(pass.edits[*index].range.start),
                reason: reason.clone(),
            };
            // A dropped edit is proposed again in every later pass.
            if !dropped.contains(&edit) {
                dropped.push(edit);
            }
        }
    }
    (applied, dropped)
}

/// Where each line of a text starts, for many position lookups in one text.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        LineIndex { starts }
    }

    /// The same as [`line_column`], without counting lines from the start.
    fn line_column(&self, text: &str, byte: usize) -> LineColumn {
        let byte = byte.min(text.len());
        let line = self.starts.partition_point(|&start| start <= byte);
        LineColumn {
            line,
            column: char_column(text, byte) + 1,
        }
    }
}

fn line_column(text: &str, byte: usize) -> LineColumn {
    let byte = byte.min(text.len());
    LineColumn {
        line: text[..byte].matches('\n').count() + 1,
        column: char_column(text, byte) + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regressions_count_error_and_missing_kinds() {
        let before = ErrorProfile::from([("ERROR".to_owned(), 1)]);
        let same = ErrorProfile::from([("ERROR".to_owned(), 1)]);
        let fewer = ErrorProfile::new();
        let worse = ErrorProfile::from([("ERROR".to_owned(), 1), ("MISSING `)`".to_owned(), 1)]);
        assert_eq!(regression(&before, &same), None);
        assert_eq!(regression(&before, &fewer), None);
        assert_eq!(
            regression(&before, &worse).as_deref(),
            Some("the result would not parse (MISSING `)` +1)")
        );
    }
}
