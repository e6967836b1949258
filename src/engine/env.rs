//! Metavariable bindings made while matching one candidate node.
//!
//! Bindings are append-only: binding a name again pushes a new entry, and
//! lookups read the newest. That makes backtracking a truncation
//! ([`Env::mark`] / [`Env::rollback`]), so a matcher that fails can always
//! leave the environment exactly as it found it, without cloning.

use tree_sitter::Node;

use super::text;

/// A position in an environment, to return to after a failed match.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    singles: usize,
    lists: usize,
}

/// Metavariable bindings: single nodes (`$A`) and node lists (`$$$A`).
#[derive(Clone, Debug, Default)]
pub struct Env<'r, 't> {
    singles: Vec<(&'r str, Node<'t>)>,
    lists: Vec<(&'r str, Vec<Node<'t>>)>,
}

impl<'r, 't> Env<'r, 't> {
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            singles: self.singles.len(),
            lists: self.lists.len(),
        }
    }

    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.singles.truncate(mark.singles);
        self.lists.truncate(mark.lists);
    }

    /// The node bound to `$name`, if any.
    pub fn single(&self, name: &str) -> Option<Node<'t>> {
        self.singles
            .iter()
            .rev()
            .find(|(bound, _)| *bound == name)
            .map(|(_, node)| *node)
    }

    /// The nodes bound to `$$$name`, if any.
    pub fn list(&self, name: &str) -> Option<&[Node<'t>]> {
        self.lists
            .iter()
            .rev()
            .find(|(bound, _)| *bound == name)
            .map(|(_, nodes)| nodes.as_slice())
    }

    /// Binds `$name`; fails if it is bound to a node of different shape.
    pub(crate) fn bind_single(&mut self, name: &'r str, node: Node<'t>, source: &str) -> bool {
        if let Some(previous) = self.single(name)
            && !same_node(previous, node, source)
        {
            return false;
        }
        self.singles.push((name, node));
        true
    }

    /// Binds `$$$name`; fails if it is bound to a different list. Lists are
    /// compared on their named nodes, so separators do not matter.
    pub(crate) fn bind_list(&mut self, name: &'r str, nodes: Vec<Node<'t>>, source: &str) -> bool {
        if let Some(previous) = self.list(name) {
            let mut old = previous.iter().filter(|node| node.is_named());
            let mut new = nodes.iter().filter(|node| node.is_named());
            loop {
                match (old.next(), new.next()) {
                    (None, None) => break,
                    (Some(a), Some(b)) if same_node(*a, *b, source) => continue,
                    _ => return false,
                }
            }
        }
        self.lists.push((name, nodes));
        true
    }

    /// The newest binding of every single metavariable, in first-bound order.
    pub fn singles(&self) -> Vec<(&'r str, Node<'t>)> {
        let mut result: Vec<(&'r str, Node<'t>)> = Vec::new();
        for (name, node) in &self.singles {
            match result.iter_mut().find(|(bound, _)| bound == name) {
                Some(entry) => entry.1 = *node,
                None => result.push((name, *node)),
            }
        }
        result
    }

    /// The newest binding of every list metavariable, in first-bound order.
    pub fn lists(&self) -> Vec<(&'r str, &[Node<'t>])> {
        let mut result: Vec<(&'r str, &[Node<'t>])> = Vec::new();
        for (name, nodes) in &self.lists {
            match result.iter_mut().find(|(bound, _)| bound == name) {
                Some(entry) => entry.1 = nodes,
                None => result.push((name, nodes)),
            }
        }
        result
    }
}

/// Whether two nodes are the same code: the same node, equal text where
/// either has no named children, or the same kind with equal children.
pub(crate) fn same_node(goal: Node<'_>, candidate: Node<'_>, source: &str) -> bool {
    if goal.id() == candidate.id() {
        return true;
    }
    if goal.named_child_count() == 0 || candidate.named_child_count() == 0 {
        return text(goal, source) == text(candidate, source);
    }
    if goal.kind_id() != candidate.kind_id() || goal.child_count() != candidate.child_count() {
        return false;
    }
    let mut goal_cursor = goal.walk();
    let mut candidate_cursor = candidate.walk();
    goal.children(&mut goal_cursor)
        .zip(candidate.children(&mut candidate_cursor))
        .all(|(a, b)| same_node(a, b, source))
}
