//! Outlines: where a file's members begin and end, found without parsing.
//!
//! Parsing is most of what a rule costs, and a call site is a few lines of
//! a large file. A language's outline is a lexical scan, much cheaper than
//! a parse, that cuts the file into [`Item`]s: the top-level statements or
//! declarations, and inside each top-level class the class's members (its
//! fields, methods, nested classes). The scan knows the language's strings,
//! comments and brackets, and nothing else.
//!
//! Given the places a rule's match must contain (see
//! `crate::engine::partial`), [`Outline::regions`] chooses the items that
//! hold them: a top-level item whole, or a member together with its class's
//! header and closing brace. tree-sitter then parses only those byte ranges
//! (its *included ranges*), at their real offsets, so every node keeps its
//! position. A member parsed this way sits under a class node of the same
//! kind as in the whole file, so its subtree is the one a full parse gives.
//! That is checked, not assumed: [`Regions::verify`] rejects a tree with a
//! syntax error, or in which a chosen item does not come out as exactly one
//! child (plus trivia) of the node the outline said it belongs to; the
//! caller then parses the whole file.
//!
//! The scan gives up (`None`) on what it does not understand: unbalanced
//! brackets, an unterminated string or comment, an indentation that does
//! not return to a known level. Then the whole file is parsed.

mod java;
mod python;
#[cfg(test)]
mod tests;

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::Language;

/// One piece of a file's outline. Items are contiguous: together they
/// cover the file from its first byte to its last, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A top-level statement or declaration, parsed whole.
    Leaf(Range<usize>),
    /// A top-level class: its members can be parsed one by one, between
    /// its header (up to and including the opening brace or the colon's
    /// line) and its closer (the closing brace; empty for Python).
    Container {
        header: Range<usize>,
        members: Vec<Range<usize>>,
        closer: Range<usize>,
    },
}

impl Item {
    fn range(&self) -> Range<usize> {
        match self {
            Item::Leaf(range) => range.clone(),
            Item::Container { header, closer, .. } => header.start..closer.end,
        }
    }
}

/// How one language is outlined.
pub struct OutlineSpec {
    /// The lexical scan; `None` when it cannot outline the text.
    pub scan: fn(&[u8]) -> Option<Vec<Item>>,
    /// The kinds of the node a member of a container is a child of.
    pub bodies: &'static [&'static str],
    /// Node kinds a partial parse does not give whole: the root, the
    /// containers and their bodies (which lose their other members), and
    /// ERROR (a partial parse has none). A rule that can match one of them
    /// needs the whole file.
    pub containers: &'static [&'static str],
}

/// A file's outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outline {
    pub items: Vec<Item>,
}

/// What to parse of a file: byte ranges, and what the parse must show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regions {
    /// Sorted, disjoint byte ranges to parse.
    pub ranges: Vec<Range<usize>>,
    /// The chosen items: (range, whether it is a member of a container).
    units: Vec<(Range<usize>, bool)>,
}

/// A partial parse is worth its checks only when it skips this share of a
/// file or more.
const MOST_OF_A_FILE: f64 = 0.6;

impl Outline {
    /// Outlines `source` with `spec`, or `None` if the scan gives up.
    pub fn new(spec: &OutlineSpec, source: &str) -> Option<Outline> {
        let items = (spec.scan)(source.as_bytes())?;
        Some(Outline { items })
    }

    /// The ranges to parse so that every item overlapping one of `hits`
    /// is parsed: a leaf whole; a member with its container's header and
    /// closer; a hit in a header or closer takes the whole container.
    /// `None` when that is most of the file anyway.
    pub fn regions(&self, hits: &[Range<usize>], length: usize) -> Option<Regions> {
        let mut units: Vec<(Range<usize>, bool)> = Vec::new();
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for hit in hits {
            let first = self
                .items
                .partition_point(|item| item.range().end <= hit.start);
            for item in &self.items[first..] {
                let range = item.range();
                if range.start >= hit.end.max(hit.start + 1) {
                    break;
                }
                match item {
                    Item::Leaf(range) => {
                        units.push((range.clone(), false));
                        ranges.push(range.clone());
                    }
                    Item::Container {
                        header,
                        members,
                        closer,
                    } => {
                        let overlaps = |range: &Range<usize>| {
                            range.start < hit.end.max(hit.start + 1) && hit.start < range.end
                        };
                        if overlaps(header) || overlaps(closer) {
                            units.push((range.clone(), false));
                            ranges.push(range);
                            continue;
                        }
                        ranges.push(header.clone());
                        ranges.push(closer.clone());
                        for member in members.iter().filter(|member| overlaps(member)) {
                            units.push((member.clone(), true));
                            ranges.push(member.clone());
                        }
                    }
                }
            }
        }
        let ranges = merge(ranges);
        let covered: usize = ranges.iter().map(|range| range.len()).sum();
        if ranges.is_empty() || covered as f64 >= MOST_OF_A_FILE * length as f64 {
            return None;
        }
        units.sort_by_key(|(range, _)| (range.start, range.end));
        units.dedup();
        Some(Regions { ranges, units })
    }
}

impl Regions {
    /// Whether `tree`, the parse of these regions, can stand for the whole
    /// file's: no syntax error, and the nodes of every chosen item are
    /// children of the root (a leaf) or of a body node (a member), the
    /// first starting at the item's first token and the last ending within
    /// the item.
    pub fn verify(&self, spec: &OutlineSpec, tree: &Tree) -> bool {
        let root = tree.root_node();
        if root.has_error() {
            return false;
        }
        self.units.iter().all(|(range, member)| {
            let Some(first) = first_node(root, range.start, spec.bodies) else {
                return false;
            };
            if first.start_byte() >= range.end {
                // Only trivia: nothing in it can be matched.
                return true;
            }
            let placed = first.parent().is_some_and(|parent| {
                if *member {
                    spec.bodies.contains(&parent.kind())
                } else {
                    parent.id() == root.id()
                }
            });
            let mut node = Some(first);
            while let Some(current) = node.filter(|node| node.start_byte() < range.end) {
                if current.end_byte() > range.end {
                    return false;
                }
                node = current.next_sibling();
            }
            placed
        })
    }
}

/// The outermost node that starts at or after `start` and follows
/// everything that ends before it, other than a body: going down from the
/// root, the first child that ends after `start`, until that child starts
/// at or after it. (A Python class's block starts at its first statement,
/// which may be the member at `start`.)
fn first_node<'t>(root: Node<'t>, start: usize, bodies: &[&str]) -> Option<Node<'t>> {
    let mut cursor = root.walk();
    loop {
        cursor.goto_first_child_for_byte(start)?;
        let child = cursor.node();
        if child.start_byte() >= start && !bodies.contains(&child.kind()) {
            return Some(child);
        }
    }
}

/// How a partial parse compares with the full parse of the same text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Nothing to compare, and why: the partial parse would not be used,
    /// or the full parse has a syntax error (error recovery may then
    /// differ, and the partial parse is the better one).
    Skipped(&'static str),
    /// This many nodes outside the containers (with their subtrees) are the
    /// same in both: kinds, byte ranges and positions.
    Same(usize),
    /// The first node that differs.
    Differs(String),
}

/// Compares the partial parse of the regions around `hits` with the full
/// parse of `source`, node for node below the containers. For tests and
/// the fuzz target; the engine relies on [`Regions::verify`].
pub fn compare_with_full_parse(
    language: Language,
    source: &str,
    hits: &[Range<usize>],
) -> Agreement {
    let Some(spec) = language.outline() else {
        return Agreement::Skipped("no outline for the language");
    };
    let Some(outline) = Outline::new(spec, source) else {
        return Agreement::Skipped("no outline for the text");
    };
    let Some(regions) = outline.regions(hits, usize::MAX) else {
        return Agreement::Skipped("no regions");
    };
    let Some(partial) = super::parse_ranges(language, source, &regions.ranges) else {
        return Agreement::Skipped("no partial parse");
    };
    if !regions.verify(spec, &partial) {
        return Agreement::Skipped("rejected by the check");
    }
    let Some(full) = super::parse(language, source) else {
        return Agreement::Skipped("no full parse");
    };
    if full.root_node().has_error() {
        return Agreement::Skipped("the full parse has an error");
    }
    let mut compared = 0;
    let mut pending = vec![partial.root_node()];
    while let Some(node) = pending.pop() {
        if spec.containers.contains(&node.kind()) {
            let mut cursor = node.walk();
            pending.extend(node.children(&mut cursor));
            continue;
        }
        let counterpart = same_place(full.root_node(), node);
        if let Some(difference) = difference(node, counterpart) {
            return Agreement::Differs(difference);
        }
        compared += 1;
    }
    Agreement::Same(compared)
}

/// The node of `root`'s tree with the kind and byte range of `node`, or
/// the smallest node around that range.
fn same_place<'t>(root: Node<'t>, node: Node<'_>) -> Node<'t> {
    let range = node.byte_range();
    let mut found = root
        .descendant_for_byte_range(range.start, range.end)
        .unwrap_or(root);
    while found.kind() != node.kind() || found.byte_range() != range {
        match found.parent() {
            Some(parent) if parent.byte_range() == range => found = parent,
            _ => break,
        }
    }
    found
}

/// The first difference between two subtrees, if any.
fn difference(left: Node<'_>, right: Node<'_>) -> Option<String> {
    let same = left.kind() == right.kind()
        && left.byte_range() == right.byte_range()
        && left.start_position() == right.start_position()
        && left.end_position() == right.end_position()
        && left.child_count() == right.child_count();
    if !same {
        return Some(format!(
            "{} {:?} {:?} against {} {:?} {:?}",
            left.kind(),
            left.byte_range(),
            left.start_position(),
            right.kind(),
            right.byte_range(),
            right.start_position()
        ));
    }
    let mut left_cursor = left.walk();
    let mut right_cursor = right.walk();
    left.children(&mut left_cursor)
        .zip(right.children(&mut right_cursor))
        .find_map(|(left, right)| difference(left, right))
}

/// Sorts ranges and joins those that touch or overlap.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|range| !range.is_empty());
    ranges.sort_by_key(|range| (range.start, range.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

pub(super) static JAVA: OutlineSpec = OutlineSpec {
    scan: java::scan,
    bodies: &[
        "class_body",
        "interface_body",
        "enum_body_declarations",
        "annotation_type_body",
    ],
    containers: &[
        "program",
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
        "class_body",
        "interface_body",
        "enum_body",
        "enum_body_declarations",
        "annotation_type_body",
        "ERROR",
    ],
};

pub(super) static PYTHON: OutlineSpec = OutlineSpec {
    scan: python::scan,
    bodies: &["block"],
    containers: &[
        "module",
        "class_definition",
        "decorated_definition",
        "block",
        "ERROR",
    ],
};
