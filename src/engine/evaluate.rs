//! Evaluating compiled rules on candidate nodes.
//!
//! Semantics follow ast-grep: `all` binds in order, `any` takes the first
//! member that matches, `not` never binds, local utilities share the
//! caller's metavariables and shared utilities get a fresh scope, and
//! relational rules search parents, descendants or siblings as far as
//! `stopBy` allows. Every function leaves the environment unchanged when it
//! returns `false`, which keeps backtracking a simple truncation.

pub(crate) use crate::lang::pre_order;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use tree_sitter::{Node, QueryCursor, StreamingIterator};

use super::env::Env;
use super::pattern_match;
use super::text;
use crate::rule::matcher::{
    CoreRule, Matcher, NthChild, RangeMatcher, Relation, StopBy, UtilityReference,
};
use crate::rule::query::QueryMatcher;

/// One match of a `query:` rule: its root node and captures.
struct QueryHit<'t> {
    captures: Vec<(u32, Vec<Node<'t>>)>,
    pattern: usize,
}

type QueryIndex<'t> = HashMap<usize, Vec<QueryHit<'t>>>;

/// Everything rule evaluation needs about one parsed file.
pub(crate) struct Context<'r, 't> {
    pub(crate) source: &'t str,
    pub(crate) root: Node<'t>,
    pub(crate) globals: &'r [CoreRule],
    /// `query:` results per query, indexed by root node id, computed on first use.
    queries: RefCell<HashMap<usize, Rc<QueryIndex<'t>>>>,
}

impl<'r, 't> Context<'r, 't> {
    pub(crate) fn new(source: &'t str, root: Node<'t>, globals: &'r [CoreRule]) -> Self {
        Context {
            source,
            root,
            globals,
            queries: RefCell::new(HashMap::new()),
        }
    }

    fn query_index(&self, query: &QueryMatcher) -> Rc<QueryIndex<'t>> {
        let key = std::ptr::from_ref(query) as usize;
        if let Some(index) = self.queries.borrow().get(&key) {
            return Rc::clone(index);
        }
        let mut index: QueryIndex<'t> = HashMap::new();
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&query.query, self.root, self.source.as_bytes());
        while let Some(found) = matches.next() {
            let mut root = None;
            let mut captures: Vec<(u32, Vec<Node<'t>>)> = Vec::new();
            for capture in found.captures() {
                if capture.index == query.root_capture {
                    root = Some(capture.node);
                    continue;
                }
                match captures
                    .iter_mut()
                    .find(|(index, _)| *index == capture.index)
                {
                    Some((_, nodes)) => nodes.push(capture.node),
                    None => captures.push((capture.index, vec![capture.node])),
                }
            }
            if let Some(root) = root {
                index.entry(root.id()).or_default().push(QueryHit {
                    captures,
                    pattern: found.pattern_index,
                });
            }
        }
        // tree-sitter reports an unanchored quantified capture (`(_)* @args`)
        // as one match per node; the union of those, tried first, gives the
        // list a reader expects.
        for hits in index.values_mut() {
            let merged = merge_quantified(&query.query, hits);
            hits.splice(0..0, merged);
        }
        let index = Rc::new(index);
        self.queries.borrow_mut().insert(key, Rc::clone(&index));
        index
    }
}

/// For each pattern with several hits at one root, a hit whose quantified
/// captures hold the nodes of all of them (in document order).
fn merge_quantified<'t>(query: &tree_sitter::Query, hits: &[QueryHit<'t>]) -> Vec<QueryHit<'t>> {
    let mut merged: Vec<QueryHit<'t>> = Vec::new();
    for hit in hits {
        let quantifiers = query.capture_quantifiers(hit.pattern);
        let is_list = |capture: u32| {
            matches!(
                quantifiers.get(capture as usize),
                Some(
                    tree_sitter::CaptureQuantifier::ZeroOrMore
                        | tree_sitter::CaptureQuantifier::OneOrMore
                )
            )
        };
        if !hit.captures.iter().any(|(capture, _)| is_list(*capture)) {
            continue;
        }
        let Some(target) = merged
            .iter_mut()
            .find(|existing| existing.pattern == hit.pattern)
        else {
            merged.push(QueryHit {
                captures: hit.captures.clone(),
                pattern: hit.pattern,
            });
            continue;
        };
        for (capture, nodes) in &hit.captures {
            if !is_list(*capture) {
                continue;
            }
            match target
                .captures
                .iter_mut()
                .find(|(existing, _)| existing == capture)
            {
                Some((_, existing)) => {
                    for node in nodes {
                        if !existing.iter().any(|known| known.id() == node.id()) {
                            existing.push(*node);
                        }
                    }
                    existing.sort_by_key(|node| node.start_byte());
                }
                None => target.captures.push((*capture, nodes.clone())),
            }
        }
    }
    let count = |hit: &QueryHit<'_>| {
        hit.captures
            .iter()
            .map(|(_, nodes)| nodes.len())
            .sum::<usize>()
    };
    merged.retain(|hit| {
        hits.iter()
            .filter(|other| other.pattern == hit.pattern)
            .all(|other| count(other) < count(hit))
    });
    merged
}

/// Matches a rule with its own scope: kinds, then the rule, then
/// constraints. Returns the node the rule reports (the candidate, for any
/// rule that can be a top-level rule).
pub(crate) fn match_core<'r, 't>(
    core: &'r CoreRule,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    if let Some(kinds) = &core.kinds
        && !kinds.contains(node.kind_id())
    {
        return None;
    }
    let mark = env.mark();
    let matched = matches(&core.matcher, node, env, &core.locals, context)?;
    for (name, constraint) in &core.constraints {
        let Some(bound) = env.single(name) else {
            continue;
        };
        if matches(constraint, bound, env, &core.locals, context).is_none() {
            env.rollback(mark);
            return None;
        }
    }
    Some(matched)
}

/// Matches `matcher` against `node` and returns the node it reports: the
/// node itself for most rules, the related node for relational rules (as
/// in ast-grep, where this decides what `nthChild`'s `ofRule` collects).
/// On failure `env` is unchanged, except for the one binding ast-grep keeps
/// when `nthChild` with `ofRule` fails its position check (see [`leaks`]).
pub(crate) fn matches<'r, 't>(
    matcher: &'r Matcher,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    let mark = env.mark();
    let matched = evaluate(matcher, node, env, locals, context);
    if matched.is_none() && !leaks(matcher, locals) {
        env.rollback(mark);
    }
    matched
}

/// Whether a failed match may leave a binding behind. ast-grep binds an
/// `nthChild` `ofRule`'s metavariables before checking the position and
/// keeps them when the check fails; relational rules searching further
/// then see that binding. `all`, `any` and `not` contain it.
fn leaks(matcher: &Matcher, locals: &[Matcher]) -> bool {
    match matcher {
        Matcher::NthChild(nth) => nth.of_rule.is_some(),
        Matcher::Matches(UtilityReference::Local(index)) => locals
            .get(*index)
            .is_some_and(|local| matches!(local, Matcher::NthChild(nth) if nth.of_rule.is_some())),
        _ => false,
    }
}

/// Whether `matcher` matches `node` in a fresh scope (for `stopBy` rules).
fn matches_alone<'r, 't>(
    matcher: &'r Matcher,
    node: Node<'t>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> bool {
    matches(matcher, node, &mut Env::default(), locals, context).is_some()
}

fn evaluate<'r, 't>(
    matcher: &'r Matcher,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    let this = |matched: bool| matched.then_some(node);
    match matcher {
        Matcher::Pattern(pattern) => {
            this(pattern_match::matches(pattern, node, env, context.source))
        }
        Matcher::Kind(kind) => this(node.kind_id() == *kind),
        Matcher::Regex(regex) => this(regex.is_match(text(node, context.source))),
        Matcher::NthChild(nth) => this(nth_child(nth, node, env, locals, context)),
        Matcher::Range(range) => this(in_range(range, node, context.source)),
        Matcher::Query(query) => this(query_matches(query, node, env, context)),
        Matcher::Inside(relation) => inside(relation, node, env, locals, context),
        Matcher::Has(relation) => has(relation, node, env, locals, context),
        Matcher::Precedes(relation) => {
            let rule = &relation.rule;
            let following = siblings(node, Direction::Next);
            find(
                &relation.stop_by,
                node.next_sibling(),
                following,
                locals,
                context,
                |sibling| matches(rule, sibling, env, locals, context),
            )
        }
        Matcher::Follows(relation) => {
            let rule = &relation.rule;
            let preceding = siblings(node, Direction::Previous);
            find(
                &relation.stop_by,
                node.prev_sibling(),
                preceding,
                locals,
                context,
                |sibling| matches(rule, sibling, env, locals, context),
            )
        }
        Matcher::All(members) => {
            for member in members {
                matches(member, node, env, locals, context)?;
            }
            Some(node)
        }
        Matcher::Any(members) => members.iter().find_map(|member| {
            let mark = env.mark();
            let matched = matches(member, node, env, locals, context);
            if matched.is_none() {
                env.rollback(mark);
            }
            matched
        }),
        Matcher::Not(inner) => {
            let mark = env.mark();
            let matched = matches(inner, node, env, locals, context);
            env.rollback(mark);
            this(matched.is_none())
        }
        Matcher::Matches(UtilityReference::Local(index)) => {
            matches(&locals[*index], node, env, locals, context)
        }
        Matcher::Matches(UtilityReference::Global(index)) => {
            let core = &context.globals[*index];
            match_core(core, node, &mut Env::default(), context)
        }
    }
}

/// Applies `stopBy`: the nearest node only, every node, or every node up to
/// and including the first that matches the stop rule. Returns what
/// `found` returns for the first node it accepts.
fn find<'r, 't>(
    stop_by: &'r StopBy,
    nearest: Option<Node<'t>>,
    all: impl IntoIterator<Item = Node<'t>>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
    mut found: impl FnMut(Node<'t>) -> Option<Node<'t>>,
) -> Option<Node<'t>> {
    match stop_by {
        StopBy::Neighbor => found(nearest?),
        StopBy::End => all.into_iter().find_map(found),
        StopBy::Rule(stop) => {
            for node in all {
                let stop_here = matches_alone(stop, node, locals, context);
                if let Some(matched) = found(node) {
                    return Some(matched);
                }
                if stop_here {
                    return None;
                }
            }
            None
        }
    }
}

/// The first sibling before (`forward == false`) or after `node` that
/// matches `rule` as far as `stop_by` allows, for fix expansions.
pub(crate) fn find_sibling<'r, 't>(
    rule: &'r Matcher,
    stop_by: &'r StopBy,
    node: Node<'t>,
    forward: bool,
    env: &Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    let mut scratch = env.clone();
    let (nearest, direction) = if forward {
        (node.next_sibling(), Direction::Next)
    } else {
        (node.prev_sibling(), Direction::Previous)
    };
    find(
        stop_by,
        nearest,
        siblings(node, direction),
        locals,
        context,
        |sibling| matches(rule, sibling, &mut scratch, locals, context),
    )
}

/// The ancestors of `node`, nearest first. tree-sitter finds a parent by
/// descending from the root, so the whole chain is built in one descent.
fn ancestors<'t>(node: Node<'t>, root: Node<'t>) -> Vec<Node<'t>> {
    let mut chain = Vec::new();
    let mut current = root;
    while current.id() != node.id() {
        chain.push(current);
        match current.child_with_descendant(node) {
            Some(next) => current = next,
            None => break,
        }
    }
    chain.reverse();
    chain
}

fn inside<'r, 't>(
    relation: &'r Relation,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    let rule = &relation.rule;
    let parent = || node.parent();
    match (&relation.stop_by, relation.field) {
        (StopBy::Neighbor, None) => matches(rule, parent()?, env, locals, context),
        (StopBy::Neighbor, Some(field)) => {
            let parent = parent()?;
            let holds = parent
                .child_by_field_id(field)
                .is_some_and(|child| child.id() == node.id());
            if holds {
                matches(rule, parent, env, locals, context)
            } else {
                None
            }
        }
        (stop_by, None) => {
            let chain = ancestors(node, context.root);
            find(stop_by, None, chain, locals, context, |ancestor| {
                matches(rule, ancestor, env, locals, context)
            })
        }
        (stop_by, Some(field)) => {
            // Each ancestor must hold the previous one in `field`.
            let chain = ancestors(node, context.root);
            let mut previous = node;
            find(stop_by, None, chain, locals, context, |ancestor| {
                let expected = previous;
                previous = ancestor;
                let holds = ancestor
                    .child_by_field_id(field)
                    .is_some_and(|child| child.id() == expected.id());
                if holds {
                    matches(rule, ancestor, env, locals, context)
                } else {
                    None
                }
            })
        }
    }
}

fn has<'r, 't>(
    relation: &'r Relation,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    let rule = &relation.rule;
    if let Some(field) = relation.field {
        let child = node.child_by_field_id(field)?;
        return match &relation.stop_by {
            StopBy::Neighbor => matches(rule, child, env, locals, context),
            StopBy::End => pre_order(child).find_map(|n| matches(rule, n, env, locals, context)),
            StopBy::Rule(stop) => matches(rule, child, env, locals, context).or_else(|| {
                if matches_alone(stop, child, locals, context) {
                    None
                } else {
                    children(child)
                        .into_iter()
                        .find_map(|n| matches(rule, n, env, locals, context))
                }
            }),
        };
    }
    match &relation.stop_by {
        StopBy::Neighbor => children(node)
            .into_iter()
            .find_map(|n| matches(rule, n, env, locals, context)),
        StopBy::End => pre_order(node)
            .skip(1)
            .find_map(|n| matches(rule, n, env, locals, context)),
        StopBy::Rule(stop) => has_until(rule, stop, node, env, locals, context),
    }
}

/// `has` with a stop rule: descend through children that do not match it.
fn has_until<'r, 't>(
    rule: &'r Matcher,
    stop: &'r Matcher,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> Option<Node<'t>> {
    children(node).into_iter().find_map(|child| {
        matches(rule, child, env, locals, context).or_else(|| {
            if matches_alone(stop, child, locals, context) {
                None
            } else {
                has_until(rule, stop, child, env, locals, context)
            }
        })
    })
}

/// `nthChild`: the node's 1-based position among its named siblings (that
/// match `ofRule`, if given), counted from the end with `reverse`.
fn nth_child<'r, 't>(
    nth: &'r NthChild,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    locals: &'r [Matcher],
    context: &Context<'r, 't>,
) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    let named = children(parent)
        .into_iter()
        .filter(|sibling| sibling.is_named());
    // As in ast-grep, the list holds what `ofRule` reports for each sibling
    // (for a relational `ofRule`, the related node, not the sibling).
    let mut list: Vec<Node<'t>> = match &nth.of_rule {
        Some(rule) => named
            .filter_map(|sibling| {
                let mark = env.mark();
                let reported = matches(rule, sibling, env, locals, context);
                env.rollback(mark);
                reported
            })
            .collect(),
        None => named.collect(),
    };
    if nth.reverse {
        list.reverse();
    }
    let Some(index) = list.iter().position(|sibling| sibling.id() == node.id()) else {
        return false;
    };
    if let Some(rule) = &nth.of_rule {
        matches(rule, node, env, locals, context);
    }
    nth.position.selects(index)
}

fn in_range(range: &RangeMatcher, node: Node<'_>, source: &str) -> bool {
    let (start, end) = (node.start_position(), node.end_position());
    if start.row != range.start_line || end.row != range.end_line {
        return false;
    }
    let column = |byte: usize| super::char_column(source, byte);
    range
        .start_column
        .is_none_or(|expected| column(node.start_byte()) == expected)
        && range
            .end_column
            .is_none_or(|expected| column(node.end_byte()) == expected)
}

fn query_matches<'r, 't>(
    query: &'r QueryMatcher,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    context: &Context<'r, 't>,
) -> bool {
    let index = context.query_index(query);
    let Some(hits) = index.get(&node.id()) else {
        return false;
    };
    let names = query.query.capture_names();
    for hit in hits {
        let mark = env.mark();
        let quantifiers = query.query.capture_quantifiers(hit.pattern);
        let bound = hit.captures.iter().all(|(capture, nodes)| {
            let name: &'r str = names[*capture as usize];
            let listed = matches!(
                quantifiers.get(*capture as usize),
                Some(
                    tree_sitter::CaptureQuantifier::ZeroOrMore
                        | tree_sitter::CaptureQuantifier::OneOrMore
                )
            );
            if listed {
                env.bind_list(name, nodes.clone(), context.source)
            } else {
                nodes
                    .iter()
                    .all(|captured| env.bind_single(name, *captured, context.source))
            }
        });
        if bound {
            return true;
        }
        env.rollback(mark);
    }
    false
}

/// All children, named or not.
pub(crate) fn children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

#[derive(Clone, Copy)]
enum Direction {
    Next,
    Previous,
}

/// Following or preceding siblings, found the way ast-grep finds them: from
/// the parent's first child that contains or follows the node's start.
fn siblings(node: Node<'_>, direction: Direction) -> impl Iterator<Item = Node<'_>> {
    let parent = node.parent().unwrap_or(node);
    let mut cursor = parent.walk();
    cursor.goto_first_child_for_byte(node.start_byte());
    std::iter::from_fn(move || {
        let moved = match direction {
            Direction::Next => cursor.goto_next_sibling(),
            Direction::Previous => cursor.goto_previous_sibling(),
        };
        moved.then(|| cursor.node())
    })
}
