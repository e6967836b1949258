//! Suppression comments, as in ast-grep: `ast-grep-ignore` (or fleetmod's
//! own `fleetmod-ignore`) silences matches.
//!
//! - A comment alone on a line silences the next line; a comment after code
//!   silences its own line.
//! - A comment on the first line, not followed by code on the second,
//!   silences the whole file.
//! - `ast-grep-ignore: rule-a, rule-b` silences only those rules; without a
//!   list it silences every rule.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::evaluate::pre_order;
use super::text;

const MARKERS: [&str; 2] = ["ast-grep-ignore", "fleetmod-ignore"];

/// Whether `source` mentions a suppression marker at all (cheap; a file
/// that does not has no suppressions).
pub(crate) fn mentioned(source: &str) -> bool {
    MARKERS.iter().any(|marker| source.contains(marker))
}

/// Which rules a comment silences: `None` for all of them.
type RuleFilter = Option<HashSet<String>>;

/// The suppressions of one file.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    file: Option<RuleFilter>,
    /// 0-based line → rules silenced on it.
    lines: HashMap<usize, RuleFilter>,
}

/// The marker a comment starts with (after its comment syntax), if any.
fn marker_of(comment: &str) -> Option<&'static str> {
    let start = comment.find(|c: char| c.is_alphabetic())?;
    MARKERS
        .into_iter()
        .find(|marker| comment[start..].starts_with(marker))
}

/// The rules a suppression comment names, if it names any.
fn rule_filter(comment: &str, marker: &str) -> RuleFilter {
    let (_, after) = comment.trim().split_once(marker)?;
    let (_, rules) = after.trim().split_once(':')?;
    Some(
        rules
            .split(',')
            .filter_map(|rule| rule.split_whitespace().next())
            .map(str::to_owned)
            .collect(),
    )
}

impl Suppressions {
    /// Collects suppression comments; cheap when the file has none.
    pub(crate) fn collect(root: Node<'_>, source: &str) -> Suppressions {
        let mut suppressions = Suppressions::default();
        if !mentioned(source) {
            return suppressions;
        }
        for node in pre_order(root) {
            if !node.kind().contains("comment") {
                continue;
            }
            let comment = text(node, source);
            let Some(marker) = marker_of(comment) else {
                continue;
            };
            let filter = rule_filter(comment, marker);
            let line = node.start_position().row;
            let code_before = node
                .prev_sibling()
                .filter(|previous| previous.end_position().row == line);
            let file_level = line == 0
                && code_before.is_none()
                && node
                    .next_sibling()
                    .is_none_or(|next| next.start_position().row >= 2);
            if file_level {
                let silences_all = filter.is_none();
                suppressions.file = Some(filter);
                if silences_all {
                    break;
                }
                continue;
            }
            let target = code_before.map_or(line + 1, |previous| previous.start_position().row);
            suppressions.lines.insert(target, filter);
        }
        suppressions
    }

    /// Whether a match of `rule` starting on 0-based `line` is silenced.
    pub(crate) fn silences(&self, rule: &str, line: usize) -> bool {
        let names = |filter: &RuleFilter| filter.as_ref().is_none_or(|rules| rules.contains(rule));
        self.file.as_ref().is_some_and(names) || self.lines.get(&line).is_some_and(names)
    }

    /// Whether the whole file is silenced for every rule.
    pub(crate) fn silences_everything(&self) -> bool {
        matches!(self.file, Some(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{self, Language};

    fn suppressions(source: &str) -> Suppressions {
        let python = Language::from_name("python").expect("python");
        let tree = lang::parse(python, source).expect("parses");
        Suppressions::collect(tree.root_node(), source)
    }

    #[test]
    fn comments_silence_the_next_line_or_their_own() {
        let found = suppressions(
            "x = 1\n# ast-grep-ignore\nprint(1)\nprint(2)  # fleetmod-ignore: no-print, other\n",
        );
        assert!(found.silences("anything", 2));
        assert!(!found.silences("anything", 3));
        assert!(found.silences("no-print", 3));
        assert!(!found.silences("else", 3));
        assert!(!found.silences_everything());
    }

    #[test]
    fn a_first_line_comment_silences_the_file() {
        assert!(suppressions("# ast-grep-ignore\n\nprint(1)\n").silences_everything());
        let some = suppressions("# ast-grep-ignore: a\n\nprint(1)\n");
        assert!(some.silences("a", 7) && !some.silences("b", 2));
        // Followed by code on the next line: it silences only that line.
        let next = suppressions("# ast-grep-ignore\nprint(1)\nprint(2)\n");
        assert!(next.silences("x", 1) && !next.silences("x", 2) && !next.silences_everything());
    }
}
