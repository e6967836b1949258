//! Compiled rule objects: the validated form of a YAML `rule:` tree.
//!
//! Every variant is already checked (patterns parse, regexes compile, kinds
//! and fields exist, utility references resolve), so matching never fails
//! for reasons of configuration. Utility references are indices, resolved
//! once at load time.

use std::cell::RefCell;

use regex::Regex;

use super::kinds::{self, KindSet};
use super::nth_child::Position;
use super::pattern::Pattern;
use super::query::QueryMatcher;

/// A compiled rule object.
#[derive(Debug)]
pub enum Matcher {
    Pattern(Pattern),
    Kind(u16),
    Regex(Regex),
    NthChild(Box<NthChild>),
    Range(RangeMatcher),
    Query(Box<QueryMatcher>),
    Inside(Box<Relation>),
    Has(Box<Relation>),
    Precedes(Box<Relation>),
    Follows(Box<Relation>),
    /// Every member matches, in order (later members see earlier bindings).
    All(Vec<Matcher>),
    /// The first member that matches.
    Any(Vec<Matcher>),
    Not(Box<Matcher>),
    Matches(UtilityReference),
}

/// A relational rule: `inside`, `has`, `precedes` or `follows`.
#[derive(Debug)]
pub struct Relation {
    pub rule: Matcher,
    pub stop_by: StopBy,
    /// For `inside` and `has`: the field the related node must occupy.
    pub field: Option<u16>,
}

/// How far a relational rule searches.
#[derive(Debug)]
pub enum StopBy {
    /// Only the nearest node (parent, child or sibling).
    Neighbor,
    /// All the way to the root, leaves or end of the sibling list.
    End,
    /// Up to and including the first node matching the rule.
    Rule(Matcher),
}

#[derive(Debug)]
pub struct NthChild {
    pub position: Position,
    pub of_rule: Option<Matcher>,
    pub reverse: bool,
}

/// `range:`: the node starts and ends at exactly these 0-based positions.
#[derive(Debug)]
pub struct RangeMatcher {
    pub start_line: usize,
    pub start_column: Option<usize>,
    pub end_line: usize,
    pub end_column: Option<usize>,
}

/// A `matches:` reference to a utility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtilityReference {
    /// A `utils:` entry of the enclosing rule; shares its metavariables.
    Local(usize),
    /// A shared utility rule file; matched with fresh metavariables.
    Global(usize),
}

/// A rule with its own metavariable scope: a top-level `rule:` or a shared
/// utility rule, with its `constraints` and local `utils`.
#[derive(Debug)]
pub struct CoreRule {
    pub matcher: Matcher,
    /// Checked against the single-node captures after `matcher` succeeds.
    pub constraints: Vec<(Box<str>, Matcher)>,
    pub locals: Vec<Matcher>,
    /// The kinds a match can have; `None` when any kind can match.
    pub kinds: Option<KindSet>,
}

/// Looks up utilities while computing potential kinds, guarding against
/// utilities that refer to themselves through relational rules.
pub(crate) struct KindContext<'a> {
    pub(crate) locals: &'a [Matcher],
    pub(crate) globals: &'a [CoreRule],
    visiting: RefCell<Vec<usize>>,
}

impl<'a> KindContext<'a> {
    pub(crate) fn new(locals: &'a [Matcher], globals: &'a [CoreRule]) -> Self {
        KindContext {
            locals,
            globals,
            visiting: RefCell::new(Vec::new()),
        }
    }
}

impl Matcher {
    /// The node kinds this matcher can match, computed as ast-grep computes
    /// them: patterns and `kind` fix one kind, `all` intersects, `any`
    /// unites, and other rules do not constrain the kind (`None`).
    pub(crate) fn potential_kinds(&self, context: &KindContext<'_>) -> Option<KindSet> {
        match self {
            Matcher::Pattern(pattern) => pattern.potential_kind().map(KindSet::single),
            Matcher::Kind(kind) => Some(KindSet::single(*kind)),
            Matcher::Query(query) => query.kinds.clone(),
            Matcher::NthChild(nth) => nth.of_rule.as_ref()?.potential_kinds(context),
            Matcher::All(members) => {
                let sets: Vec<Option<KindSet>> =
                    members.iter().map(|m| m.potential_kinds(context)).collect();
                kinds::intersect_all(sets.iter().map(Option::as_ref))
            }
            Matcher::Any(members) => {
                let sets: Vec<Option<KindSet>> =
                    members.iter().map(|m| m.potential_kinds(context)).collect();
                kinds::unite_all(sets.iter().map(Option::as_ref))
            }
            Matcher::Matches(UtilityReference::Local(index)) => {
                if context.visiting.borrow().contains(index) {
                    return None;
                }
                context.visiting.borrow_mut().push(*index);
                let kinds = context
                    .locals
                    .get(*index)
                    .and_then(|util| util.potential_kinds(context));
                context.visiting.borrow_mut().pop();
                kinds
            }
            Matcher::Matches(UtilityReference::Global(index)) => {
                context.globals.get(*index)?.kinds.clone()
            }
            Matcher::Regex(_)
            | Matcher::Range(_)
            | Matcher::Inside(_)
            | Matcher::Has(_)
            | Matcher::Precedes(_)
            | Matcher::Follows(_)
            | Matcher::Not(_) => None,
        }
    }

    /// The `query:` that decides this matcher's candidates, if it is one or
    /// is a member of its top-level `all`.
    pub fn root_query(&self) -> Option<&QueryMatcher> {
        match self {
            Matcher::Query(query) => Some(query),
            Matcher::All(members) => members.iter().find_map(|member| match member {
                Matcher::Query(query) => Some(&**query),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Calls `visit` on this matcher and every matcher nested in it
    /// (not following utility references).
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Matcher)) {
        visit(self);
        match self {
            Matcher::NthChild(nth) => {
                if let Some(rule) = &nth.of_rule {
                    rule.walk(visit);
                }
            }
            Matcher::Inside(relation)
            | Matcher::Has(relation)
            | Matcher::Precedes(relation)
            | Matcher::Follows(relation) => {
                relation.rule.walk(visit);
                if let StopBy::Rule(rule) = &relation.stop_by {
                    rule.walk(visit);
                }
            }
            Matcher::All(members) | Matcher::Any(members) => {
                members.iter().for_each(|member| member.walk(visit))
            }
            Matcher::Not(inner) => inner.walk(visit),
            Matcher::Pattern(_)
            | Matcher::Kind(_)
            | Matcher::Regex(_)
            | Matcher::Range(_)
            | Matcher::Query(_)
            | Matcher::Matches(_) => {}
        }
    }
}
