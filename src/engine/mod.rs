//! Matching rules against one source text. Pure: no I/O, no printing.
//!
//! A [`Scanner`] prepares, per language, the literal [`prefilter`] and the
//! combined [`candidates`] query for a [`RuleSet`]. Scanning a file then
//! runs the prefilter on the raw bytes, parses only if some rule may match,
//! walks the tree once with the combined query, and evaluates each rule on
//! its candidate nodes ([`evaluate`], [`pattern_match`]). Results are sorted
//! by position and rule id, so output is deterministic.

mod candidates;
pub mod env;
mod evaluate;
mod pattern_match;
mod prefilter;

use std::ops::Range;
use std::path::Path;

use tree_sitter::Node;

use self::candidates::Candidates;
use self::env::Env;
use self::evaluate::Context;
use self::prefilter::Prefilter;
use crate::lang::{self, Language};
use crate::rule::{Rule, RuleSet};

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
}

/// The result of scanning one file.
#[derive(Debug, Default)]
pub struct FileMatches {
    pub matches: Vec<Match>,
    /// Whether the file had to be parsed (the prefilter did not rule it out).
    pub parsed: bool,
}

struct LanguageScanner<'r> {
    language: Language,
    /// (index in the rule set, rule) for this language's rules.
    rules: Vec<(usize, &'r Rule)>,
    candidates: Candidates,
    prefilter: Prefilter,
}

/// Rules prepared for scanning many files.
pub struct Scanner<'r> {
    rule_set: &'r RuleSet,
    languages: Vec<LanguageScanner<'r>>,
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
            languages.push(LanguageScanner {
                language,
                candidates: Candidates::new(language, &just_rules),
                prefilter: Prefilter::new(&requirements),
                rules,
            });
        }
        Scanner {
            rule_set,
            languages,
        }
    }

    /// The languages that have at least one rule.
    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.languages.iter().map(|scanner| scanner.language)
    }

    /// Scans one source text. `path` (relative to the scanned root) selects
    /// the rules whose `files`/`ignores` globs admit it.
    pub fn scan(&self, language: Language, path: &Path, source: &str) -> FileMatches {
        let Some(scanner) = self
            .languages
            .iter()
            .find(|scanner| scanner.language == language)
        else {
            return FileMatches::default();
        };
        let mut enabled = scanner.prefilter.enabled(source.as_bytes());
        for (flag, (_, rule)) in enabled.iter_mut().zip(&scanner.rules) {
            *flag = *flag && rule.applies_to(path);
        }
        if !enabled.contains(&true) {
            return FileMatches::default();
        }
        let Some(tree) = lang::parse(language, source) else {
            return FileMatches::default();
        };
        let root = tree.root_node();
        let context = Context::new(source, root, &self.rule_set.globals.rules);
        let mut matches = Vec::new();
        scanner
            .candidates
            .for_each(root, source, &enabled, |index, node| {
                let (rule_index, rule) = scanner.rules[index];
                let mut env = Env::default();
                if evaluate::match_core(&rule.core, node, &mut env, &context) {
                    matches.push(Match {
                        rule: rule_index,
                        span: span(node, source),
                        captures: captures(&env, source),
                    });
                }
            });
        let ids = |m: &Match| self.rule_set.rules[m.rule].id.as_str();
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
        }
    }
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
