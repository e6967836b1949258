//! Matching a compiled pattern against a candidate node.
//!
//! This follows ast-grep's algorithm step for step, because the goal is to
//! report exactly the nodes ast-grep reports: children are matched left to
//! right; `$$$` consumes candidates until the next pattern node matches
//! (probed without keeping bindings); and the strictness decides which
//! unmatched nodes (unnamed tokens, comments, trailing nodes) may be skipped
//! on either side.

use tree_sitter::Node;

use super::env::Env;
use super::text;
use crate::rule::Strictness;
use crate::rule::pattern::{ERROR_KIND, MetaVariable, Pattern, PatternNode};

/// The outcome of matching one pattern node against one candidate node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Matched,
    SkipBoth,
    SkipGoal,
    SkipCandidate,
    NoMatch,
}

/// What the child-list loop does next.
enum Flow {
    Continue,
    Fallthrough,
    Return,
}

struct Matching<'a, 'r, 't> {
    env: &'a mut Env<'r, 't>,
    source: &'t str,
    strictness: Strictness,
}

/// Whether `pattern` matches `node`, binding its metavariables in `env`.
/// On failure `env` is left as it was.
pub(crate) fn matches<'r, 't>(
    pattern: &'r Pattern,
    node: Node<'t>,
    env: &mut Env<'r, 't>,
    source: &'t str,
) -> bool {
    if let Some(kind) = pattern.root_kind
        && node.kind_id() != kind
    {
        return false;
    }
    let mark = env.mark();
    let mut matching = Matching {
        env,
        source,
        strictness: pattern.strictness,
    };
    // A metavariable at the root stands for the candidate itself, comments
    // included, under the default strictness.
    let step = match &pattern.root {
        PatternNode::MetaVar(variable) if pattern.strictness == Strictness::Smart => {
            if matching.bind_leaf(variable, node) {
                Step::Matched
            } else {
                Step::NoMatch
            }
        }
        root => matching.node(root, node),
    };
    if step != Step::Matched {
        env.rollback(mark);
        return false;
    }
    true
}

fn kinds_match(goal: u16, candidate: u16) -> bool {
    goal == candidate || goal == ERROR_KIND
}

impl<'r, 't> Matching<'_, 'r, 't> {
    fn node(&mut self, goal: &'r PatternNode, candidate: Node<'t>) -> Step {
        match goal {
            PatternNode::Terminal { text, named, kind } => {
                self.terminal(text, *named, *kind, candidate)
            }
            PatternNode::MetaVar(variable) => {
                if self.skips_comments() && candidate.is_extra() {
                    return Step::SkipCandidate;
                }
                if self.bind_leaf(variable, candidate) {
                    Step::Matched
                } else {
                    Step::NoMatch
                }
            }
            PatternNode::Internal { kind, children } => {
                let kind_matched = self.strictness == Strictness::Template
                    || kinds_match(*kind, candidate.kind_id());
                if !kind_matched {
                    return Step::NoMatch;
                }
                let mut cursor = candidate.walk();
                let candidates: Vec<Node<'t>> = candidate.children(&mut cursor).collect();
                if self.children(children, &candidates) {
                    Step::Matched
                } else {
                    Step::NoMatch
                }
            }
        }
    }

    fn skips_comments(&self) -> bool {
        !matches!(self.strictness, Strictness::Cst | Strictness::Ast)
    }

    fn terminal(
        &mut self,
        goal_text: &str,
        named: bool,
        goal_kind: u16,
        candidate: Node<'t>,
    ) -> Step {
        // A token that error recovery inserted is not in the text: no
        // pattern token matches it (the phrase prefilter relies on this).
        let kind_matched = kinds_match(goal_kind, candidate.kind_id()) && !candidate.is_missing();
        let candidate_text = text(candidate, self.source);
        if kind_matched && (!named || goal_text == candidate_text) {
            return Step::Matched;
        }
        if self.skips_comments() && candidate.is_extra() {
            return Step::SkipCandidate;
        }
        let (skip_goal, skip_candidate) = match self.strictness {
            Strictness::Cst => (false, false),
            Strictness::Smart => (false, !candidate.is_named()),
            Strictness::Ast | Strictness::Relaxed => (!named, !candidate.is_named()),
            Strictness::Signature => {
                if kind_matched {
                    return Step::Matched;
                }
                (!named, !candidate.is_named())
            }
            Strictness::Template => {
                if goal_text == candidate_text {
                    return Step::Matched;
                }
                (false, !candidate.is_named())
            }
        };
        match (skip_goal, skip_candidate) {
            (true, true) => Step::SkipBoth,
            (true, false) => Step::SkipGoal,
            (false, true) => Step::SkipCandidate,
            (false, false) => Step::NoMatch,
        }
    }

    fn skips_trailing(&self, candidate: Node<'t>) -> bool {
        match self.strictness {
            Strictness::Cst => false,
            Strictness::Smart => true,
            Strictness::Ast => !candidate.is_named(),
            Strictness::Relaxed | Strictness::Signature => {
                !candidate.is_named() || candidate.is_extra()
            }
            Strictness::Template => candidate.is_extra(),
        }
    }

    /// Whether the remaining pattern nodes may all be left unmatched.
    fn skips_remaining_goals(&self, goals: &[PatternNode], index: &mut usize) -> bool {
        while let Some(goal) = goals.get(*index) {
            let skipped = match (self.strictness, goal) {
                (Strictness::Cst, _) => false,
                (_, PatternNode::MetaVar(variable)) if variable.is_multiple() => true,
                (Strictness::Smart | Strictness::Template, _) => false,
                (
                    _,
                    PatternNode::MetaVar(
                        MetaVariable::Dropped(named) | MetaVariable::Capture(_, named),
                    ),
                ) => !named,
                (_, PatternNode::Terminal { named, .. }) => !named,
                (_, _) => false,
            };
            if !skipped {
                return false;
            }
            *index += 1;
        }
        true
    }

    fn bind_leaf(&mut self, variable: &'r MetaVariable, candidate: Node<'t>) -> bool {
        match variable {
            MetaVariable::Capture(name, named) => {
                (!*named || candidate.is_named())
                    && self.env.bind_single(name, candidate, self.source)
            }
            MetaVariable::Dropped(named) => !*named || candidate.is_named(),
            MetaVariable::Multiple => true,
            MetaVariable::MultiCapture(name) => {
                self.env.bind_list(name, vec![candidate], self.source)
            }
        }
    }

    /// Binds the nodes an ellipsis consumed, minus the trailing unnamed
    /// nodes that stand for the pattern's skipped punctuation.
    fn bind_ellipsis(
        &mut self,
        name: Option<&'r str>,
        mut nodes: Vec<Node<'t>>,
        skipped: usize,
    ) -> bool {
        match name {
            Some(name) => {
                nodes.truncate(nodes.len().saturating_sub(skipped));
                self.env.bind_list(name, nodes, self.source)
            }
            None => true,
        }
    }

    fn children(&mut self, goals: &'r [PatternNode], candidates: &[Node<'t>]) -> bool {
        let (mut goal, mut candidate) = (0, 0);
        if candidates.is_empty() {
            return false;
        }
        loop {
            match self.ellipsis(goals, &mut goal, candidates, &mut candidate) {
                None => return false,
                Some(Flow::Return) => return true,
                Some(Flow::Continue) => continue,
                Some(Flow::Fallthrough) => {}
            }
            match self.single_skipping_trivia(goals, &mut goal, candidates, &mut candidate) {
                None => return false,
                Some(Flow::Return) => return true,
                Some(Flow::Continue) => continue,
                Some(Flow::Fallthrough) => {}
            }
            if goal < goals.len() {
                goal += 1;
                candidate = (candidate + 1).min(candidates.len());
            }
            if goal >= goals.len() {
                return candidates[candidate..]
                    .iter()
                    .all(|node| self.skips_trailing(*node));
            }
            if candidate >= candidates.len() {
                return false;
            }
        }
    }

    /// Handles a `$$$` at the current pattern position, if there is one.
    fn ellipsis(
        &mut self,
        goals: &'r [PatternNode],
        goal: &mut usize,
        candidates: &[Node<'t>],
        candidate: &mut usize,
    ) -> Option<Flow> {
        let Some(current) = goals.get(*goal) else {
            return Some(Flow::Return);
        };
        let Some(name) = ellipsis_name(current) else {
            return Some(Flow::Fallthrough);
        };
        let mut consumed = Vec::new();
        *goal += 1;
        if *goal >= goals.len() {
            consumed.extend_from_slice(&candidates[*candidate..]);
            *candidate = candidates.len();
            return self
                .bind_ellipsis(name, consumed, 0)
                .then_some(Flow::Return);
        }
        let mut skipped = 0;
        while goals[*goal].is_trivial() {
            *goal += 1;
            skipped += 1;
            if *goal >= goals.len() {
                consumed.extend_from_slice(&candidates[*candidate..]);
                *candidate = candidates.len();
                return self
                    .bind_ellipsis(name, consumed, skipped)
                    .then_some(Flow::Return);
            }
        }
        if ellipsis_name(&goals[*goal]).is_some() {
            consumed.push(*candidates.get(*candidate)?);
            *candidate += 1;
            if *candidate >= candidates.len() {
                return None;
            }
            return self
                .bind_ellipsis(name, consumed, skipped)
                .then_some(Flow::Continue);
        }
        loop {
            let next = *candidates.get(*candidate)?;
            let mark = self.env.mark();
            let step = self.node(&goals[*goal], next);
            self.env.rollback(mark);
            if step == Step::Matched {
                return self
                    .bind_ellipsis(name, consumed, skipped)
                    .then_some(Flow::Fallthrough);
            }
            consumed.push(next);
            *candidate += 1;
            if *candidate >= candidates.len() {
                return None;
            }
        }
    }

    /// Matches the current pattern node, skipping trivia on either side as
    /// the strictness allows.
    fn single_skipping_trivia(
        &mut self,
        goals: &'r [PatternNode],
        goal: &mut usize,
        candidates: &[Node<'t>],
        candidate: &mut usize,
    ) -> Option<Flow> {
        loop {
            let Some(&next) = candidates.get(*candidate) else {
                return self
                    .skips_remaining_goals(goals, goal)
                    .then_some(Flow::Fallthrough);
            };
            match self.node(&goals[*goal], next) {
                Step::Matched => return Some(Flow::Fallthrough),
                Step::SkipGoal => {
                    *goal += 1;
                    if *goal >= goals.len() {
                        return Some(Flow::Fallthrough);
                    }
                }
                Step::SkipBoth => {
                    *candidate += 1;
                    *goal += 1;
                    if *goal >= goals.len() {
                        return Some(Flow::Fallthrough);
                    }
                }
                Step::SkipCandidate => *candidate += 1,
                Step::NoMatch => return None,
            }
        }
    }
}

/// `Some(name)` for `$$$name`, `Some(None)` for an anonymous `$$$`.
fn ellipsis_name(node: &PatternNode) -> Option<Option<&str>> {
    match node {
        PatternNode::MetaVar(MetaVariable::Multiple) => Some(None),
        PatternNode::MetaVar(MetaVariable::MultiCapture(name)) => Some(Some(name)),
        _ => None,
    }
}
