//! Matching rules against one source text. Pure: no I/O, no printing.
//!
//! A [`Scanner`] prepares, per language, the literal [`prefilter`] and the
//! combined [`candidates`] query for a [`RuleSet`]. Scanning a file then
//! runs the prefilter on the raw bytes, parses only if some rule may match
//! (and, when the rules left allow it, only the members they can match in:
//! [`partial`]), walks the tree once with the combined query, and evaluates
//! each rule on its candidate nodes ([`evaluate`], [`pattern_match`]).
//! Results are sorted by position and rule id, so output is deterministic.

mod candidates;
pub mod edit;
pub mod env;
mod evaluate;
mod fix;
pub mod indent;
mod partial;
mod pattern_match;
mod phrase;
mod prefilter;
pub mod rewrite;
mod suppress;

use std::ops::Range;
use std::path::Path;

use tree_sitter::{Node, Tree};

use self::candidates::Candidates;
use self::edit::Edit;
use self::env::Env;
use self::evaluate::Context;
use self::fix::FixContext;
use self::indent::LazyStyle;
use self::partial::Partial;
use self::prefilter::Prefilter;
use self::suppress::Suppressions;
use crate::lang::{self, Language};
use crate::migrate::Migration;
use crate::rule::{Applicability, Rule, RuleSet};
use crate::spec::plan::DerivedRule;

/// A 1-based line and 1-based column counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

/// A region of a source text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub bytes: Range<usize>,
    pub start: LineColumn,
    pub end: LineColumn,
}

/// A metavariable captured by a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    /// `true` for `$$$NAME` lists, which may hold zero or more spans.
    pub list: bool,
    pub spans: Vec<Span>,
}

/// One rule matching one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    pub span: Span,
    pub captures: Vec<Capture>,
    /// The results of the rule's transformations, by name.
    pub transformed: Vec<(String, String)>,
}

/// The result of scanning one file.
#[derive(Debug, Default)]
pub struct FileMatches {
    pub matches: Vec<Match>,
    /// Whether the file had to be parsed (the prefilter did not rule it out).
    pub parsed: bool,
    /// Whether only some of its members were parsed ([`partial`]).
    pub partial: bool,
}

struct LanguageScanner<'r> {
    language: Language,
    /// (index in the rule set, rule) for this language's rules.
    rules: Vec<(usize, &'r Rule)>,
    candidates: Candidates,
    prefilter: Prefilter,
    partial: Partial,
}

/// A text parsed for the rules that may edit it ([`Scanner::parse_for_edits`]).
pub(crate) struct Parsed {
    pub(crate) tree: Tree,
    /// Per rule of the language: whether the prefilter and the selection
    /// let it run on this text.
    enabled: Vec<bool>,
}

/// Which rules a scan or rewrite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every rule whose `files`/`ignores` globs admit the path.
    All,
    /// Every rule with a fix whose globs admit the path.
    Fixes,
    /// One rule (by index in the rule set), whatever its globs.
    Rule(usize),
}

/// Rules prepared for scanning many files, and optionally a migration
/// whose derived rules follow the rule set's in rule numbering.
pub struct Scanner<'r> {
    rule_set: &'r RuleSet,
    languages: Vec<LanguageScanner<'r>>,
    migration: Option<&'r Migration>,
    derived_ids: Vec<String>,
}

impl<'r> Scanner<'r> {
    pub fn new(rule_set: &'r RuleSet) -> Scanner<'r> {
        let mut languages = Vec::new();
        for language in Language::all() {
            let rules: Vec<(usize, &Rule)> = rule_set
                .rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.language == language)
                .collect();
            if rules.is_empty() {
                continue;
            }
            let just_rules: Vec<&Rule> = rules.iter().map(|(_, rule)| *rule).collect();
            let requirements: Vec<_> = just_rules
                .iter()
                .map(|rule| prefilter::core_requirement(&rule.core, &rule_set.globals.rules))
                .collect();
            let anchors: Vec<_> = just_rules
                .iter()
                .map(|rule| prefilter::core_anchor(&rule.core, &rule_set.globals.rules))
                .collect();
            let cores: Vec<_> = just_rules.iter().map(|rule| &rule.core).collect();
            let phrases = phrase::rule_phrases(language, &cores, &rule_set.globals.rules);
            let prefilter = Prefilter::new(&requirements, &phrases);
            let partial = Partial::new(
                language,
                &just_rules,
                &anchors,
                &prefilter,
                &rule_set.globals.rules,
            );
            languages.push(LanguageScanner {
                language,
                candidates: Candidates::new(language, &just_rules, &anchors),
                prefilter,
                partial,
                rules,
            });
        }
        Scanner {
            rule_set,
            languages,
            migration: None,
            derived_ids: Vec::new(),
        }
    }

    /// Also applies a migration when rewriting. Its derived rules are
    /// numbered after the rule set's rules.
    pub fn with_migration(mut self, migration: &'r Migration) -> Scanner<'r> {
        self.derived_ids = migration.rule_ids();
        self.migration = Some(migration);
        self
    }

    /// The migration applied when rewriting, if any.
    pub fn migration(&self) -> Option<&'r Migration> {
        self.migration
    }

    /// The id of rule number `index`: a rule of the set or a derived rule.
    pub fn rule_id(&self, index: usize) -> &str {
        match self.rule_set.rules.get(index) {
            Some(rule) => &rule.id,
            None => self
                .derived_ids
                .get(index - self.rule_set.rules.len())
                .map_or("", String::as_str),
        }
    }

    /// The number of a derived rule of the migration.
    pub fn derived_rule(&self, rule: DerivedRule) -> usize {
        self.rule_set.rules.len() + rule.index()
    }

    /// The rules this scanner applies.
    pub fn rule_set(&self) -> &'r RuleSet {
        self.rule_set
    }

    /// The languages that have at least one rule (all of them with a
    /// migration).
    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        Language::all().filter(|language| {
            self.migration.is_some()
                || self
                    .languages
                    .iter()
                    .any(|scanner| scanner.language == *language)
        })
    }

    fn language(&self, language: Language) -> Option<&LanguageScanner<'r>> {
        self.languages
            .iter()
            .find(|scanner| scanner.language == language)
    }

    /// Which of a language's rules may match this file: the prefilter found
    /// their literals, and the selection takes them (by their globs, by
    /// having a fix, or by being the one rule under test).
    fn enabled(
        scanner: &LanguageScanner<'r>,
        path: &Path,
        source: &str,
        selection: Selection,
    ) -> Vec<bool> {
        let mut enabled = scanner.prefilter.enabled(source.as_bytes());
        for (flag, (index, rule)) in enabled.iter_mut().zip(&scanner.rules) {
            let selected = match selection {
                Selection::All => rule.applies_to(path),
                Selection::Fixes => rule.applies_to(path) && rule.fix.is_some(),
                Selection::Rule(only) => *index == only,
            };
            *flag = *flag && selected;
        }
        enabled
    }

    /// Calls `visit` for every match of an enabled rule, with its bindings,
    /// except matches silenced by an `ast-grep-ignore` comment ([`suppress`]).
    fn visit_matches<'t>(
        &self,
        scanner: &LanguageScanner<'r>,
        enabled: &[bool],
        context: &Context<'r, 't>,
        mut visit: impl FnMut(usize, &'r Rule, Node<'t>, &Env<'r, 't>),
    ) {
        let suppressions = Suppressions::collect(context.root, context.source);
        if suppressions.silences_everything() {
            return;
        }
        scanner
            .candidates
            .for_each(context.root, context.source, enabled, |index, node| {
                let (rule_index, rule) = scanner.rules[index];
                let mut env = Env::default();
                if let Some(matched) = evaluate::match_core(&rule.core, node, &mut env, context)
                    && !suppressions.silences(&rule.id, matched.start_position().row)
                {
                    visit(rule_index, rule, matched, &env);
                }
            });
    }

    /// Scans one source text. `path` (relative to the scanned root) selects
    /// the rules whose `files`/`ignores` globs admit it.
    pub fn scan(&self, language: Language, path: &Path, source: &str) -> FileMatches {
        self.scan_selected(language, path, source, Selection::All)
    }

    /// Scans a source text with one rule only, ignoring its globs (for rule tests).
    pub fn scan_rule(&self, rule: usize, source: &str) -> FileMatches {
        let language = self.rule_set.rules[rule].language;
        self.scan_selected(language, Path::new(""), source, Selection::Rule(rule))
    }

    fn scan_selected(
        &self,
        language: Language,
        path: &Path,
        source: &str,
        selection: Selection,
    ) -> FileMatches {
        let (Some(scanner), Some(enabled)) = (
            self.language(language),
            self.enabled_rules(language, path, source, selection),
        ) else {
            return FileMatches::default();
        };
        let Some(tree) = Self::parse_for(scanner, source, &enabled, None) else {
            return FileMatches::default();
        };
        let context = Context::new(source, tree.root_node(), &self.rule_set.globals.rules);
        let style = LazyStyle::new(source);
        let mut matches = Vec::new();
        self.visit_matches(
            scanner,
            &enabled,
            &context,
            |rule_index, rule, node, env| {
                let transformed = if rule.transforms.is_empty() {
                    Vec::new()
                } else {
                    let fix_context = FixContext {
                        evaluation: &context,
                        style: &style,
                    };
                    let mut results: Vec<(String, String)> =
                        fix::run_transforms(&rule.transforms, &rule.rewriters, env, &fix_context)
                            .into_iter()
                            .map(|(name, text)| (name.to_owned(), text))
                            .collect();
                    results.sort();
                    results
                };
                matches.push(Match {
                    rule: rule_index,
                    span: span(node, source),
                    captures: captures(env, source),
                    transformed,
                });
            },
        );
        let ids = |found: &Match| self.rule_set.rules[found.rule].id.as_str();
        matches.sort_by(|a, b| {
            (a.span.bytes.start, a.span.bytes.end, ids(a)).cmp(&(
                b.span.bytes.start,
                b.span.bytes.end,
                ids(b),
            ))
        });
        FileMatches {
            matches,
            parsed: true,
            partial: !lang::is_whole(&tree),
        }
    }

    /// Parses `source` for the `enabled` rules: only the members their
    /// matches can lie in when that is enough ([`partial`]), else all of it.
    /// `reused` is a parse of an earlier text, already told about the edits
    /// since; it is kept if it covers what a fresh parse would.
    fn parse_for(
        scanner: &LanguageScanner<'r>,
        source: &str,
        enabled: &[bool],
        reused: Option<Tree>,
    ) -> Option<Tree> {
        let language = scanner.language;
        let regions =
            scanner
                .partial
                .regions(source, enabled, &scanner.prefilter, &scanner.candidates);
        if let Some(regions) = regions {
            let same_ranges = |tree: &Tree| {
                lang::parsed_ranges(tree).is_some_and(|ranges| ranges == regions.ranges)
            };
            let kept =
                reused.filter(|tree| same_ranges(tree) && scanner.partial.accepts(&regions, tree));
            if let Some(tree) = kept.or_else(|| scanner.partial.parse(language, source, &regions)) {
                return Some(tree);
            }
        } else if let Some(tree) = reused.filter(lang::is_whole) {
            return Some(tree);
        }
        lang::parse(language, source)
    }

    /// Which of the language's rules are selected for this text and find
    /// their literals in it (see `enabled`); `None` when none are, or the
    /// text is empty, so that it need not be parsed.
    pub(crate) fn enabled_rules(
        &self,
        language: Language,
        path: &Path,
        source: &str,
        selection: Selection,
    ) -> Option<Vec<bool>> {
        let scanner = self.language(language)?;
        let enabled = Self::enabled(scanner, path, source, selection);
        (!source.is_empty() && enabled.contains(&true)).then_some(enabled)
    }

    /// Parses a text for [`Scanner::edits`] with the `enabled` rules (from
    /// [`Scanner::enabled_rules`]; see `parse_for`); `None` when tree-sitter
    /// gives up.
    pub(crate) fn parse_for_edits(
        &self,
        language: Language,
        source: &str,
        enabled: Vec<bool>,
        reused: Option<Tree>,
    ) -> Option<Parsed> {
        let scanner = self.language(language)?;
        let tree = Self::parse_for(scanner, source, &enabled, reused)?;
        Some(Parsed { tree, enabled })
    }

    /// The edits that rules with a fix propose for one parsed source text.
    /// An edit that deletes a comment its fix does not carry over is marked
    /// for review.
    pub(crate) fn edits(
        &self,
        language: Language,
        source: &str,
        parsed: &Parsed,
        style: &LazyStyle<'_>,
    ) -> Vec<Edit> {
        let Some(scanner) = self.language(language) else {
            return Vec::new();
        };
        let (tree, enabled) = (&parsed.tree, &parsed.enabled);
        let context = Context::new(source, tree.root_node(), &self.rule_set.globals.rules);
        let fix_context = FixContext {
            evaluation: &context,
            style,
        };
        let mut rendered = Vec::new();
        self.visit_matches(scanner, enabled, &context, |rule_index, rule, node, env| {
            if let Some(fix) = &rule.fix {
                let result = fix::render(
                    fix,
                    &rule.transforms,
                    &rule.rewriters,
                    &rule.core.locals,
                    node,
                    env,
                    &fix_context,
                );
                rendered.push((rule_index, rule.applicability, result));
            }
        });
        if rendered.is_empty() {
            return Vec::new();
        }
        let mut replaced: Vec<Range<usize>> = rendered
            .iter()
            .map(|(_, _, result)| result.range.clone())
            .collect();
        replaced.sort_unstable_by_key(|range| (range.start, range.end));
        let comments = comment_ranges_within(tree.root_node(), &replaced);
        rendered
            .into_iter()
            .map(|(rule, applicability, result)| {
                let dropped = comments.iter().find(|comment| {
                    comment.start >= result.range.start
                        && comment.end <= result.range.end
                        && !result.carried.iter().any(|carried| {
                            carried.start <= comment.start && comment.end <= carried.end
                        })
                });
                let note = dropped.map(|comment| {
                    let text = source.get(comment.clone()).unwrap_or_default();
                    let first_line = text.lines().next().unwrap_or_default();
                    format!("removes the comment `{first_line}`")
                });
                Edit {
                    range: result.range,
                    replacement: result.text,
                    rule,
                    applicability: if note.is_some() {
                        Applicability::Review
                    } else {
                        applicability
                    },
                    note,
                }
            })
            .collect()
    }
}

/// The byte ranges of the comments that lie within one of `ranges` (sorted
/// by start). Only subtrees that overlap a range are visited, so a few edits
/// in a large file cost a few paths down the tree, not a walk of all of it.
fn comment_ranges_within(root: Node<'_>, ranges: &[Range<usize>]) -> Vec<Range<usize>> {
    // The furthest end among the ranges up to each index: some range that
    // starts at or before `start` reaches `end` exactly when the furthest
    // end of those ranges does.
    let furthest: Vec<usize> = ranges
        .iter()
        .scan(0, |furthest, range| {
            *furthest = range.end.max(*furthest);
            Some(*furthest)
        })
        .collect();
    let reaches = |start: usize, end: usize| {
        let count = ranges.partition_point(|range| range.start <= start);
        count > 0 && furthest[count - 1] >= end
    };
    let is_comment = |node: Node<'_>| {
        node.is_named()
            && (node.kind().contains("comment") || (node.is_extra() && !node.is_error()))
    };
    // Enter a node only if some range starts before it ends and ends after
    // it starts.
    lang::pre_order_where(root, |node| reaches(node.end_byte(), node.start_byte()))
        .filter(|&node| is_comment(node) && reaches(node.start_byte(), node.end_byte()))
        .map(|node| node.byte_range())
        .collect()
}

/// The text of a node.
pub(crate) fn text<'t>(node: Node<'_>, source: &'t str) -> &'t str {
    source.get(node.byte_range()).unwrap_or_default()
}

/// The 0-based character column of a byte offset.
pub(crate) fn char_column(source: &str, byte: usize) -> usize {
    let byte = byte.min(source.len());
    let line_start = source[..byte].rfind('\n').map_or(0, |newline| newline + 1);
    source
        .get(line_start..byte)
        .map_or(byte - line_start, |prefix| prefix.chars().count())
}

fn span(node: Node<'_>, source: &str) -> Span {
    span_of(
        node.byte_range(),
        node.start_position().row,
        node.end_position().row,
        source,
    )
}

fn span_of(bytes: Range<usize>, start_row: usize, end_row: usize, source: &str) -> Span {
    Span {
        start: LineColumn {
            line: start_row + 1,
            column: char_column(source, bytes.start) + 1,
        },
        end: LineColumn {
            line: end_row + 1,
            column: char_column(source, bytes.end) + 1,
        },
        bytes,
    }
}

fn captures(env: &Env<'_, '_>, source: &str) -> Vec<Capture> {
    let mut captures: Vec<Capture> = env
        .singles()
        .into_iter()
        .map(|(name, node)| Capture {
            name: name.to_owned(),
            list: false,
            spans: vec![span(node, source)],
        })
        .collect();
    captures.extend(env.lists().into_iter().map(|(name, nodes)| Capture {
        name: name.to_owned(),
        list: true,
        spans: nodes.iter().map(|node| span(*node, source)).collect(),
    }));
    captures.sort_by(|a, b| a.name.cmp(&b.name));
    captures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_style_is_detected_only_for_fixes_of_several_lines() {
        let language = Language::from_name("python").expect("python");
        let source = "def f(items):\n    items.append(1)\n";
        let edits_with = |fix: &str| {
            let yaml = format!(
                "id: a\nlanguage: python\nrule: {{pattern: $L.append($X)}}\nfix: {fix:?}\n"
            );
            let rule_set =
                RuleSet::from_text(Path::new("rule.yml"), &yaml).expect("the rule loads");
            let scanner = Scanner::new(&rule_set);
            let style = LazyStyle::new(source);
            let enabled = scanner
                .enabled_rules(language, Path::new("a.py"), source, Selection::Fixes)
                .expect("the rule may edit");
            let parsed = scanner
                .parse_for_edits(language, source, enabled, None)
                .expect("parsed");
            let edits = scanner.edits(language, source, &parsed, &style);
            assert_eq!(edits.len(), 1);
            style.is_detected()
        };
        assert!(!edits_with("$L.extend([$X])"));
        assert!(edits_with("$L.extend(\n    [$X],\n)"));
    }

    #[test]
    fn comments_within_ranges_are_found_without_walking_the_rest() {
        let language = Language::from_name("python").expect("python");
        let source = "# head\nif a:\n    # one\n    b()  # two\nc()  # three\n";
        let tree = crate::lang::parse(language, source).expect("parses");
        let at = |text: &str| source.find(text).expect("present");
        let comment = |text: &str| at(text)..at(text) + text.len();
        let whole_if = at("if a")..at("c()");
        // Sorted by start; the second range lies inside the first.
        let ranges = [whole_if.clone(), at("b()")..at("b()") + 3];
        assert_eq!(
            comment_ranges_within(tree.root_node(), &ranges),
            vec![comment("# one"), comment("# two")]
        );
        // A range that covers only part of a comment does not take it.
        let partial = at("# three") + 2..source.len();
        assert!(comment_ranges_within(tree.root_node(), std::slice::from_ref(&partial)).is_empty());
        let all = 0..source.len();
        assert_eq!(
            comment_ranges_within(tree.root_node(), std::slice::from_ref(&all)).len(),
            4
        );
        assert!(comment_ranges_within(tree.root_node(), &[]).is_empty());
    }
}
