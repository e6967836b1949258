//! Candidate nodes: one tree-sitter query per language, built from all rules.
//!
//! Each rule contributes one query pattern that captures the nodes its match
//! can be: an alternation of its potential kinds (`[(call) (attribute)] @c`),
//! or, for `query:` rules, the rule's own patterns. One `QueryCursor` pass
//! over a parsed file then yields every (rule, candidate) pair, so a file is
//! parsed once and walked once however many rules there are. Rules are then
//! evaluated on their candidates only.

use std::collections::HashSet;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use crate::lang::Language;
use crate::rule::Rule;
use crate::rule::kinds::KindSet;
use crate::rule::query::ROOT_CAPTURE;

/// The combined candidate query of one language.
pub(crate) struct Candidates {
    query: Option<Query>,
    /// Query pattern index → index of the rule (in the language's rule list).
    pattern_rules: Vec<usize>,
    /// Capture indices that mark candidates.
    candidate_captures: Vec<u32>,
    /// Rules whose kinds tree-sitter cannot query: offered every node.
    fallback_rules: Vec<usize>,
}

const CANDIDATE_CAPTURE: &str = "__fleetmod_candidate";

impl Candidates {
    pub(crate) fn new(language: Language, rules: &[&Rule]) -> Candidates {
        let mut source = String::new();
        let mut pattern_rules = Vec::new();
        let mut fallback_rules = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            // A pattern that tree-sitter rejects (a hidden kind, say) would
            // make the whole query fail, so each is checked on its own.
            match rule_pattern(language, rule)
                .map(|pattern| (Query::new(language.grammar(), &pattern), pattern))
            {
                Some((Ok(query), pattern)) => {
                    source.push_str(&pattern);
                    source.push('\n');
                    pattern_rules.extend(std::iter::repeat_n(index, query.pattern_count()));
                }
                _ => fallback_rules.push(index),
            }
        }
        let query = (!source.is_empty())
            .then(|| Query::new(language.grammar(), &source).ok())
            .flatten();
        let candidate_captures = query
            .as_ref()
            .map(|query| {
                query
                    .capture_names()
                    .iter()
                    .enumerate()
                    .filter(|(_, name)| **name == CANDIDATE_CAPTURE || **name == ROOT_CAPTURE)
                    .filter_map(|(index, _)| u32::try_from(index).ok())
                    .collect()
            })
            .unwrap_or_default();
        Candidates {
            query,
            pattern_rules,
            candidate_captures,
            fallback_rules,
        }
    }

    /// Calls `visit(rule, node)` for every candidate of an enabled rule, in
    /// document order. A node is offered to a rule at most once.
    pub(crate) fn for_each<'t>(
        &self,
        root: Node<'t>,
        source: &'t str,
        enabled: &[bool],
        mut visit: impl FnMut(usize, Node<'t>),
    ) {
        for &rule in &self.fallback_rules {
            if enabled.get(rule).copied().unwrap_or(false) {
                super::evaluate::pre_order(root).for_each(|node| visit(rule, node));
            }
        }
        let Some(query) = &self.query else {
            return;
        };
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(query, root, source.as_bytes());
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        while let Some(found) = matches.next() {
            let Some(&rule) = self.pattern_rules.get(found.pattern_index) else {
                continue;
            };
            if !enabled.get(rule).copied().unwrap_or(false) {
                continue;
            }
            let Some(node) = found
                .captures()
                .iter()
                .find(|capture| self.candidate_captures.contains(&capture.index))
                .map(|capture| capture.node)
            else {
                continue;
            };
            if seen.insert((rule, node.id())) {
                visit(rule, node);
            }
        }
    }
}

/// The query text that finds a rule's candidates: its kinds, or else the
/// patterns of the `query:` at its root.
fn rule_pattern(language: Language, rule: &Rule) -> Option<String> {
    if let Some(kinds) = &rule.core.kinds {
        return Some(kind_pattern(language, kinds));
    }
    rule.core
        .matcher
        .root_query()
        .map(|query| query.instrumented.clone())
}

/// `[(a) (b) "c"] @candidate` for a set of kinds.
fn kind_pattern(language: Language, kinds: &KindSet) -> String {
    let mut alternatives = String::new();
    for kind in kinds.iter() {
        let name = language.kind_name(kind);
        if kind == crate::rule::pattern::ERROR_KIND {
            alternatives.push_str("(ERROR) ");
        } else if language.grammar().node_kind_is_named(kind) {
            alternatives.push('(');
            alternatives.push_str(name);
            alternatives.push_str(") ");
        } else {
            alternatives.push('"');
            for character in name.chars() {
                match character {
                    '"' => alternatives.push_str("\\\""),
                    '\\' => alternatives.push_str("\\\\"),
                    '\n' => alternatives.push_str("\\n"),
                    '\t' => alternatives.push_str("\\t"),
                    '\r' => alternatives.push_str("\\r"),
                    other => alternatives.push(other),
                }
            }
            alternatives.push_str("\" ");
        }
    }
    format!("[{alternatives}] @{CANDIDATE_CAPTURE}")
}
