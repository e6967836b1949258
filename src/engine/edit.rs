//! Edits as data, and the one pure function that applies them.
//!
//! An [`Edit`] replaces a byte range with new text on behalf of a rule.
//! [`apply`] sorts edits by position, drops exact duplicates, applies every
//! edit that does not overlap one already taken, and reports the rest as
//! deferred: they are not merged, because a later pass over the new text
//! finds them again if they still apply.

use std::ops::Range;

use crate::rule::Applicability;

/// A replacement of `range` by `replacement`, proposed by rule `rule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
    /// Index of the rule in [`crate::rule::RuleSet::rules`].
    pub rule: usize,
    pub applicability: Applicability,
    /// Why the edit needs review, beyond its rule's applicability.
    pub note: Option<String>,
}

/// Tells `tree` (a parse of `source`) about `edits` (non-overlapping, as
/// [`apply`] takes them), so that [`crate::lang::reparse`] of the edited
/// text can reuse what they did not touch. Each edit is given as the parts
/// of its range that its replacement changes ([`changes`]): a fix that
/// keeps a captured argument (`$X.append($Y)` → `$X.extend([$Y])`) leaves
/// that argument's subtree reusable. Edits are given back to front, so each
/// one's offsets in `source` are still valid when it is given.
pub fn edit_tree(tree: &mut tree_sitter::Tree, source: &str, edits: &[&Edit]) {
    use tree_sitter::{InputEdit, Point};
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(index, _)| index + 1))
        .collect();
    let point = |byte: usize| {
        let row = line_starts.partition_point(|&start| start <= byte) - 1;
        Point::new(row, byte - line_starts[row])
    };
    let mut ordered: Vec<&&Edit> = edits.iter().collect();
    ordered.sort_by_key(|edit| std::cmp::Reverse((edit.range.start, edit.range.end)));
    for edit in ordered {
        // A range off character boundaries (never one `apply` takes) is
        // given whole.
        let parts = match source.get(edit.range.clone()) {
            Some(old) => changes(old, &edit.replacement),
            None => vec![(0..edit.range.len(), 0..edit.replacement.len())],
        };
        for (old_part, new_part) in parts.into_iter().rev() {
            let start = edit.range.start + old_part.start;
            let inserted = &edit.replacement[new_part];
            let start_position = point(start);
            let new_end_position = match inserted.rfind('\n') {
                Some(last) => Point::new(
                    start_position.row + inserted.matches('\n').count(),
                    inserted.len() - last - 1,
                ),
                None => Point::new(start_position.row, start_position.column + inserted.len()),
            };
            tree.edit(&InputEdit {
                start_byte: start,
                old_end_byte: edit.range.start + old_part.end,
                new_end_byte: start + inserted.len(),
                start_position,
                old_end_position: point(edit.range.start + old_part.end),
                new_end_position,
            });
        }
    }
}

/// Beyond this many characters of changed text, an edit is described as
/// one change rather than diffed.
const DIFFED_CHARACTERS: usize = 4096;

/// The parts of `old` that `new` replaces, as pairs of byte ranges (in
/// `old`, in `new`), in order and on character boundaries; the text between
/// them is the same in both. Empty when the texts are equal.
fn changes(old: &str, new: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(left, right)| left == right)
        .map(|(character, _)| character.len_utf8())
        .sum();
    let suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(new[prefix..].chars().rev())
        .take_while(|(left, right)| left == right)
        .map(|(character, _)| character.len_utf8())
        .sum();
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    if old_middle.is_empty() && new_middle.is_empty() {
        return Vec::new();
    }
    let whole = vec![(prefix..old.len() - suffix, prefix..new.len() - suffix)];
    if old_middle.len() + new_middle.len() > DIFFED_CHARACTERS {
        return whole;
    }
    // Byte offsets of each character, and of the end.
    let offsets = |text: &str| -> Vec<usize> {
        text.char_indices()
            .map(|(index, _)| index)
            .chain(std::iter::once(text.len()))
            .collect()
    };
    let (old_chars, new_chars): (Vec<char>, Vec<char>) =
        (old_middle.chars().collect(), new_middle.chars().collect());
    let (old_offsets, new_offsets) = (offsets(old_middle), offsets(new_middle));
    let mut result: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for operation in similar::capture_diff_slices(similar::Algorithm::Myers, &old_chars, &new_chars)
    {
        let (tag, old_range, new_range) = operation.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        let old_bytes = prefix + old_offsets[old_range.start]..prefix + old_offsets[old_range.end];
        let new_bytes = prefix + new_offsets[new_range.start]..prefix + new_offsets[new_range.end];
        match result.last_mut() {
            // Adjacent operations (a delete, then an insert) are one change.
            Some((last_old, last_new))
                if last_old.end == old_bytes.start && last_new.end == new_bytes.start =>
            {
                last_old.end = old_bytes.end;
                last_new.end = new_bytes.end;
            }
            _ => result.push((old_bytes, new_bytes)),
        }
    }
    if result.is_empty() { whole } else { result }
}

/// The result of applying edits to a text.
#[derive(Debug, PartialEq, Eq)]
pub struct Application {
    pub text: String,
    /// Indices (into the input slice) of the edits applied, by position.
    pub applied: Vec<usize>,
}

/// Which edits apply to a text, without the edited text.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// Indices (into the input slice) of the edits applied, by position.
    pub applied: Vec<usize>,
    /// Indices of the edits that overlapped an applied one.
    pub deferred: Vec<usize>,
    /// Indices of the edits identical to an applied one.
    pub duplicates: Vec<usize>,
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    // Two insertions at one point conflict too: their order would be arbitrary.
    (a.start < b.end && b.start < a.end) || (a.start == b.start && a.is_empty() && b.is_empty())
}

/// Which edits of `edits` apply to `source`, and which are set aside, for
/// callers that need the choice without the edited text.
pub fn plan(source: &str, edits: &[Edit]) -> Plan {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&edits[a], &edits[b]);
        (x.range.start, x.range.end, x.rule, &x.replacement).cmp(&(
            y.range.start,
            y.range.end,
            y.rule,
            &y.replacement,
        ))
    });
    let mut applied: Vec<usize> = Vec::new();
    let mut deferred = Vec::new();
    let mut duplicates = Vec::new();
    for index in order {
        let edit = &edits[index];
        let valid = edit.range.start <= edit.range.end
            && edit.range.end <= source.len()
            && source.is_char_boundary(edit.range.start)
            && source.is_char_boundary(edit.range.end);
        if !valid {
            deferred.push(index);
            continue;
        }
        if let Some(&last) = applied.last() {
            let taken = &edits[last];
            if taken.range == edit.range && taken.replacement == edit.replacement {
                duplicates.push(index);
                continue;
            }
            if overlaps(&taken.range, &edit.range) {
                deferred.push(index);
                continue;
            }
        }
        applied.push(index);
    }
    Plan {
        applied,
        deferred,
        duplicates,
    }
}

/// Applies the non-overlapping edits of `edits` to `source`.
pub fn apply(source: &str, edits: &[Edit]) -> Application {
    let applied = plan(source, edits).applied;
    let mut text = String::with_capacity(source.len());
    let mut position = 0;
    for &index in &applied {
        let edit = &edits[index];
        text.push_str(&source[position..edit.range.start]);
        text.push_str(&edit.replacement);
        position = edit.range.end;
    }
    text.push_str(&source[position..]);
    Application { text, applied }
}

/// Where byte `position` of the old text lies after the edits at `applied`
/// (sorted, non-overlapping) were made. A position inside a replaced range
/// moves to the start of its replacement.
pub fn map_position(position: usize, edits: &[Edit], applied: &[usize]) -> usize {
    let mut shift: isize = 0;
    for &index in applied {
        let edit = &edits[index];
        if edit.range.start >= position && !(edit.range.is_empty() && edit.range.start == position)
        {
            break;
        }
        if position < edit.range.end {
            return (edit.range.start as isize + shift) as usize;
        }
        shift += edit.replacement.len() as isize - edit.range.len() as isize;
    }
    (position as isize + shift) as usize
}

/// The byte ranges of a partial parse ([`crate::lang::parse_ranges`])
/// after `edits` (sorted, non-overlapping, each within one range) were
/// made. A range keeps the edits that start in it, at its start or at its
/// end, so a replacement at either edge is parsed with the rest of its
/// range. (tree-sitter's own [`tree_sitter::Tree::edit`] moves a range's
/// start past an insertion there.)
pub fn move_ranges(ranges: &[Range<usize>], edits: &[&Edit]) -> Vec<Range<usize>> {
    let mut shift: isize = 0;
    let mut next = 0;
    let mut moved = Vec::with_capacity(ranges.len());
    let delta = |edit: &Edit| edit.replacement.len() as isize - edit.range.len() as isize;
    for range in ranges {
        while let Some(edit) = edits
            .get(next)
            .filter(|edit| edit.range.start < range.start)
        {
            shift += delta(edit);
            next += 1;
        }
        let start = (range.start as isize + shift) as usize;
        while let Some(edit) = edits.get(next).filter(|edit| edit.range.start <= range.end) {
            shift += delta(edit);
            next += 1;
        }
        moved.push(start..(range.end as isize + shift) as usize);
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(range: Range<usize>, replacement: &str, rule: usize) -> Edit {
        Edit {
            range,
            replacement: replacement.to_owned(),
            rule,
            applicability: Applicability::Safe,
            note: None,
        }
    }

    #[test]
    fn edits_apply_in_position_order() {
        let source = "a + b + c";
        let edits = [edit(8..9, "z", 0), edit(0..1, "x", 0), edit(4..5, "y", 1)];
        let result = apply(source, &edits);
        assert_eq!(result.text, "x + y + z");
        assert_eq!(result.applied, vec![1, 2, 0]);
        assert!(plan(source, &edits).deferred.is_empty());
    }

    #[test]
    fn identical_edits_are_deduplicated_and_overlaps_deferred() {
        let source = "foo(bar(x))";
        let edits = [
            edit(0..11, "outer", 0),
            edit(0..11, "outer", 0),
            edit(4..10, "inner", 1),
            edit(0..11, "other", 1),
        ];
        let result = apply(source, &edits);
        assert_eq!(result.text, "outer");
        assert_eq!(result.applied, vec![0]);
        let plan = plan(source, &edits);
        assert_eq!(plan.applied, vec![0]);
        assert_eq!(plan.duplicates, vec![1]);
        assert_eq!(plan.deferred, vec![3, 2]);
    }

    #[test]
    fn insertions_at_one_point_conflict_but_touching_edits_do_not() {
        let source = "ab";
        let edits = [
            edit(1..1, "X", 0),
            edit(1..1, "Y", 1),
            edit(0..1, "A", 2),
            edit(1..2, "B", 3),
        ];
        assert_eq!(apply(source, &edits).text, "AXB");
        assert_eq!(plan(source, &edits).deferred, vec![1]);
    }

    #[test]
    fn invalid_ranges_are_never_applied() {
        let source = "é";
        let edits = [edit(1..2, "x", 0), edit(0..9, "y", 0)];
        assert_eq!(apply(source, &edits).text, "é");
        assert_eq!(plan(source, &edits).deferred, vec![1, 0]);
    }

    #[test]
    fn positions_map_through_edits() {
        let source = "aa bb cc";
        let edits = [edit(0..2, "xxxx", 0), edit(3..5, "", 0)];
        let applied = apply(source, &edits).applied;
        assert_eq!(map_position(0, &edits, &applied), 0);
        assert_eq!(map_position(1, &edits, &applied), 0);
        assert_eq!(map_position(2, &edits, &applied), 4);
        assert_eq!(map_position(4, &edits, &applied), 5);
        assert_eq!(map_position(6, &edits, &applied), 6);
    }

    #[test]
    fn changes_are_the_differing_parts_on_character_boundaries() {
        let described = |old: &str, new: &str| -> Vec<(String, String)> {
            changes(old, new)
                .into_iter()
                .map(|(old_part, new_part)| (old[old_part].to_owned(), new[new_part].to_owned()))
                .collect()
        };
        assert!(changes("same", "same").is_empty());
        // Applying the changes to the old text gives the new one.
        let rebuilt = |old: &str, new: &str| -> String {
            let mut text = String::new();
            let mut position = 0;
            for (old_part, new_part) in changes(old, new) {
                text.push_str(&old[position..old_part.start]);
                text.push_str(&new[new_part]);
                position = old_part.end;
            }
            text + &old[position..]
        };
        for (old, new) in [
            ("items.append(value)", "items.extend([value])"),
            ("'é'", "'èéà'"),
            ("abc", ""),
            ("", "abc"),
            ("ñ(x)", "n(x, y)"),
        ] {
            assert_eq!(rebuilt(old, new), new, "{old} -> {new}");
        }
        // The captured receiver and argument are kept.
        let kept = described("items.append(value)", "items.extend([value])");
        assert!(
            kept.iter()
                .all(|(old, _)| !old.contains("items") && !old.contains("value"))
        );
        assert_eq!(
            kept.iter().map(|(_, new)| new.as_str()).collect::<String>(),
            "xte[]"
        );
        assert_eq!(
            described("'é'", "'èé'"),
            vec![(String::new(), "è".to_owned())]
        );
        // Too long to diff: one change between the common prefix and suffix.
        let long_old = format!("f({})", "a".repeat(DIFFED_CHARACTERS));
        let long_new = format!("f({})", "b".repeat(DIFFED_CHARACTERS));
        assert_eq!(
            changes(&long_old, &long_new),
            vec![(2..long_old.len() - 1, 2..long_new.len() - 1)]
        );
    }

    #[test]
    fn an_edited_tree_reparses_to_the_tree_of_a_fresh_parse() {
        use crate::lang::{self, Language};
        let python = Language::from_name("python").expect("python");
        let source =
            "def f(items):\n    items.append(1)\n    return items\n\n\nx = f([])\ns = 'é'\n";
        let at = |text: &str| source.find(text).expect("in the source");
        let (append, ret, x, s) = (
            at("items.append(1)"),
            at("return items"),
            at("x = "),
            at("s = "),
        );
        let edits = [
            // A multi-line replacement that keeps parts of the old text, a
            // deletion, a same-line change and one between characters of
            // more than one byte.
            edit(append..append + 15, "items.extend(\n        [1],\n    )", 0),
            edit(ret..ret + 13, "", 1),
            edit(x..x + 1, "y", 2),
            edit(s..s + "s = 'é'".len(), "s = 'èéà'", 3),
        ];
        let application = apply(source, &edits);
        assert_eq!(application.applied.len(), 4);
        let mut tree = lang::parse(python, source).expect("parses");
        let taken: Vec<&Edit> = edits.iter().collect();
        edit_tree(&mut tree, source, &taken);
        let reparsed = lang::reparse(python, &application.text, &tree, None).expect("reparses");
        let fresh = lang::parse(python, &application.text).expect("parses");
        let describe = |tree: &tree_sitter::Tree| -> Vec<String> {
            lang::pre_order(tree.root_node())
                .map(|node| {
                    format!(
                        "{} {:?} {:?} {:?}",
                        node.kind(),
                        node.byte_range(),
                        node.start_position(),
                        node.end_position()
                    )
                })
                .collect()
        };
        assert_eq!(describe(&reparsed), describe(&fresh));
        assert!(!reparsed.root_node().has_error());
    }

    #[test]
    fn parsed_ranges_keep_the_edits_at_their_edges() {
        // Ranges 10..20 and 30..40; edits before, at the start of, inside,
        // at the end of the first, and between the two.
        let edits = [
            edit(2..4, "", 0),       // before: -2
            edit(10..10, ")", 0),    // at the first range's start: +1
            edit(12..15, "x", 0),    // inside: -2
            edit(20..20, ";;", 0),   // at its end: +2
            edit(25..26, "long", 0), // between: +3
        ];
        let edits: Vec<&Edit> = edits.iter().collect();
        assert_eq!(move_ranges(&[10..20, 30..40], &edits), [8..19, 32..42]);
        assert_eq!(move_ranges(&[10..20, 30..40], &[]), [10..20, 30..40]);
    }
}
