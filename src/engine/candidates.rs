//! Candidate nodes: the nodes each rule is evaluated on.
//!
//! A rule's match can only be a node of its potential kinds, so those are
//! its candidates, found in one of three ways:
//!
//! - **Anchors.** When every match of a rule contains one of a few literals
//!   (the rule's *anchor*, see [`super::prefilter::core_anchor`]), its
//!   candidates are the nodes of its kinds on the path from the root down to
//!   each occurrence of those literals. A rare call in a large file costs a
//!   few dozen node visits instead of a walk over the whole tree.
//! - **A walk.** Other kind-based rules are offered every node of their
//!   kinds during one pre-order walk of the tree (a table from kind to
//!   rules), so a file is walked once however many rules there are.
//! - **A query.** `query:` rules (and kinds tree-sitter cannot name) use one
//!   combined tree-sitter query per language, run once per file.
//!
//! Candidates are offered in document order (pre-order), each node to a
//! rule at most once.

use std::ops::Range;

use aho_corasick::AhoCorasick;
use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use super::prefilter::{Clause, literal_automaton};
use crate::lang::Language;
use crate::rule::Rule;
use crate::rule::kinds::KindSet;
use crate::rule::pattern::ERROR_KIND;
use crate::rule::query::ROOT_CAPTURE;

/// How the candidates of one language's rules are found.
pub(crate) struct Candidates {
    /// The combined query of the `query:` rules.
    query: Option<Query>,
    /// Query pattern index → index of the rule (in the language's rule list).
    pattern_rules: Vec<usize>,
    /// Capture indices that mark candidates.
    candidate_captures: Vec<u32>,
    /// Per rule: its potential kinds, when it has some (else `None`).
    kinds: Vec<Option<KindSet>>,
    /// Kind id → the walked rules with that kind (ERROR nodes: `error_rules`).
    by_kind: Vec<Vec<usize>>,
    error_rules: Vec<usize>,
    /// Rules with no potential kinds and no query: offered every node.
    fallback_rules: Vec<usize>,
    /// Every anchor literal; `literal_rules[id]` are the rules it anchors.
    anchors: Option<AhoCorasick>,
    literal_rules: Vec<Vec<usize>>,
    /// Per rule: whether its candidates come from its anchor.
    anchored: Vec<bool>,
}

const CANDIDATE_CAPTURE: &str = "__fleetmod_candidate";

impl Candidates {
    /// `anchors[i]` is rule `i`'s anchor, if it has one.
    pub(crate) fn new(
        language: Language,
        rules: &[&Rule],
        anchors: &[Option<Clause>],
    ) -> Candidates {
        let mut source = String::new();
        let mut pattern_rules = Vec::new();
        let mut fallback_rules = Vec::new();
        let mut kinds = Vec::new();
        let mut by_kind: Vec<Vec<usize>> = Vec::new();
        let mut error_rules = Vec::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut literal_rules: Vec<Vec<usize>> = Vec::new();
        let mut anchored = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            kinds.push(rule.core.kinds.clone());
            let anchor = anchors.get(index).cloned().flatten();
            anchored.push(rule.core.kinds.is_some() && anchor.is_some());
            if let (Some(_), Some(anchor)) = (&rule.core.kinds, anchor) {
                for literal in anchor {
                    let id = match literals.iter().position(|known| *known == literal) {
                        Some(id) => id,
                        None => {
                            literals.push(literal);
                            literal_rules.push(Vec::new());
                            literals.len() - 1
                        }
                    };
                    literal_rules[id].push(index);
                }
                continue;
            }
            if let Some(rule_kinds) = &rule.core.kinds {
                walk_kinds(&mut by_kind, &mut error_rules, index, rule_kinds);
                continue;
            }
            // A pattern that tree-sitter rejects (a hidden kind, say) would
            // make the whole query fail, so each is checked on its own.
            match rule
                .core
                .matcher
                .root_query()
                .map(|query| query.instrumented.clone())
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
        let anchors = literal_automaton(&literals);
        if anchors.is_none() {
            // No automaton (none needed, or too large to build): walk instead.
            for (index, flag) in anchored.iter_mut().enumerate() {
                if let (true, Some(rule_kinds)) = (*flag, &kinds[index]) {
                    walk_kinds(&mut by_kind, &mut error_rules, index, rule_kinds);
                }
                *flag = false;
            }
        }
        Candidates {
            query,
            pattern_rules,
            candidate_captures,
            kinds,
            by_kind,
            error_rules,
            fallback_rules,
            anchors,
            literal_rules,
            anchored,
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
        let on = |rule: usize| enabled.get(rule).copied().unwrap_or(false);
        let walk = on_any(&self.fallback_rules, &on)
            || on_any(&self.error_rules, &on)
            || self.by_kind.iter().any(|rules| on_any(rules, &on));
        let query = self
            .query
            .as_ref()
            .filter(|_| self.pattern_rules.iter().any(|&rule| on(rule)));
        let anchors = (0..self.anchored.len()).any(|rule| on(rule) && self.is_anchored(rule));
        let walked_rules = |node: Node<'t>| {
            let kind = node.kind_id();
            let walked = if kind == ERROR_KIND {
                self.error_rules.as_slice()
            } else {
                self.by_kind
                    .get(usize::from(kind))
                    .map_or(&[][..], Vec::as_slice)
            };
            walked
                .iter()
                .chain(&self.fallback_rules)
                .copied()
                .filter(|&rule| on(rule))
        };
        if walk && !anchors && query.is_none() {
            // The walk alone is already in document order: no need to
            // collect (a kind-only rule can have a candidate per node).
            for (_, node) in walk_with_depth(root) {
                walked_rules(node).for_each(|rule| visit(rule, node));
            }
            return;
        }
        let mut found: Vec<Candidate<'t>> = Vec::new();
        if anchors {
            self.anchored_candidates(root, source, &on, &mut found);
        }
        if walk {
            for (depth, node) in walk_with_depth(root) {
                found.extend(walked_rules(node).map(|rule| Candidate::new(rule, node, depth)));
            }
        }
        if let Some(query) = query {
            let mut cursor = QueryCursor::new();
            let mut matches = cursor.matches(query, root, source.as_bytes());
            while let Some(matched) = matches.next() {
                let Some(&rule) = self.pattern_rules.get(matched.pattern_index) else {
                    continue;
                };
                if !on(rule) {
                    continue;
                }
                if let Some(capture) = matched
                    .captures()
                    .iter()
                    .find(|capture| self.candidate_captures.contains(&capture.index))
                {
                    found.push(Candidate::new(rule, capture.node, depth_of(capture.node)));
                }
            }
        }
        // Pre-order: by start, outer nodes first; then by rule.
        found.sort_unstable_by_key(|candidate| candidate.order());
        found.dedup_by_key(|candidate| (candidate.rule, candidate.node.id()));
        for candidate in found {
            visit(candidate.rule, candidate.node);
        }
    }

    /// Whether a rule's candidates come from its anchor.
    pub(crate) fn is_anchored(&self, rule: usize) -> bool {
        self.anchored.get(rule).copied().unwrap_or(false)
    }

    /// Where the anchor literals of the rules for which `on` holds occur in
    /// `source` (every match of such a rule contains one of them).
    pub(crate) fn anchor_places(
        &self,
        source: &[u8],
        on: &dyn Fn(usize) -> bool,
    ) -> Vec<Range<usize>> {
        self.occurrences(source, on).map(|(hit, _)| hit).collect()
    }

    /// Each occurrence of an anchor literal of a rule for which `on` holds,
    /// with the rules the literal anchors.
    fn occurrences<'s>(
        &'s self,
        source: &'s [u8],
        on: &'s dyn Fn(usize) -> bool,
    ) -> impl Iterator<Item = (Range<usize>, &'s [usize])> + 's {
        self.anchors
            .iter()
            .flat_map(move |automaton| automaton.find_overlapping_iter(source))
            .filter_map(move |hit| {
                let rules = self.literal_rules[hit.pattern().as_usize()].as_slice();
                rules
                    .iter()
                    .any(|&rule| on(rule))
                    .then_some((hit.range(), rules))
            })
    }

    /// The candidates of the enabled anchored rules: for each occurrence of
    /// an anchor literal, the nodes of the rule's kinds that contain it.
    fn anchored_candidates<'t>(
        &self,
        root: Node<'t>,
        source: &str,
        on: &dyn Fn(usize) -> bool,
        found: &mut Vec<Candidate<'t>>,
    ) {
        let mut path: Vec<Node<'t>> = Vec::new();
        for (hit, rules) in self.occurrences(source.as_bytes(), on) {
            containing_path(root, hit.start, hit.end, &mut path);
            for &rule in rules.iter().filter(|&&rule| on(rule)) {
                let Some(kinds) = &self.kinds[rule] else {
                    continue;
                };
                for (depth, node) in path.iter().enumerate() {
                    if kinds.contains(node.kind_id()) {
                        found.push(Candidate::new(rule, *node, depth));
                    }
                }
            }
        }
    }
}

/// One (rule, node) pair, with the node's depth for pre-order sorting.
struct Candidate<'t> {
    rule: usize,
    node: Node<'t>,
    depth: usize,
}

impl<'t> Candidate<'t> {
    fn new(rule: usize, node: Node<'t>, depth: usize) -> Candidate<'t> {
        Candidate { rule, node, depth }
    }

    fn order(&self) -> (usize, std::cmp::Reverse<usize>, usize, usize, usize) {
        (
            self.node.start_byte(),
            std::cmp::Reverse(self.node.end_byte()),
            self.depth,
            self.rule,
            self.node.id(),
        )
    }
}

fn on_any(rules: &[usize], on: &dyn Fn(usize) -> bool) -> bool {
    rules.iter().any(|&rule| on(rule))
}

/// Adds a rule to the walk's kind table.
fn walk_kinds(
    by_kind: &mut Vec<Vec<usize>>,
    error_rules: &mut Vec<usize>,
    rule: usize,
    kinds: &KindSet,
) {
    for kind in kinds.iter() {
        if kind == ERROR_KIND {
            error_rules.push(rule);
            continue;
        }
        let slot = usize::from(kind);
        if by_kind.len() <= slot {
            by_kind.resize_with(slot + 1, Vec::new);
        }
        by_kind[slot].push(rule);
    }
}

/// The nodes from `root` down to the smallest node containing `start..end`.
fn containing_path<'t>(root: Node<'t>, start: usize, end: usize, path: &mut Vec<Node<'t>>) {
    path.clear();
    let mut node = root;
    if node.start_byte() > start || node.end_byte() < end {
        return;
    }
    loop {
        path.push(node);
        let mut cursor = node.walk();
        if cursor.goto_first_child_for_byte(start).is_none() {
            return;
        }
        // The first child ending after `start`; later children may start at
        // the same byte when earlier ones are empty.
        loop {
            let child = cursor.node();
            if child.start_byte() > start {
                return;
            }
            if child.end_byte() >= end && child.end_byte() > child.start_byte() {
                node = child;
                break;
            }
            if !cursor.goto_next_sibling() {
                return;
            }
        }
    }
}

/// Every node in pre-order, with its depth below `root`.
fn walk_with_depth(root: Node<'_>) -> impl Iterator<Item = (usize, Node<'_>)> {
    let mut cursor = root.walk();
    let mut depth = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let current = (depth, cursor.node());
        if cursor.goto_first_child() {
            depth += 1;
            return Some(current);
        }
        loop {
            if depth == 0 {
                done = true;
                break;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            depth -= 1;
        }
        Some(current)
    })
}

/// A node's depth below the root (for query captures, which are few).
fn depth_of(node: Node<'_>) -> usize {
    std::iter::successors(node.parent(), Node::parent).count()
}
