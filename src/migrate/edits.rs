//! Turning changes to a fragment's text into edits of the source.
//!
//! A change names a range of the fragment's decoded text and its
//! replacement. The changes for one reference become edits together or not
//! at all: when they fall in one verbatim run of the source they become a
//! single edit (the text between them is copied as written), otherwise one
//! edit each; if any cannot be mapped (it covers an escape sequence, an
//! interpolation or masked template syntax) the reference is reported.

use std::ops::Range;

use super::FileWork;
use super::fragment::Fragment;
use crate::engine::edit::Edit;
use crate::rule::Applicability;
use crate::spec::plan::DerivedRule;

/// One replacement in a fragment's text coordinates.
pub(super) struct Change {
    pub(super) range: Range<usize>,
    pub(super) replacement: String,
}

fn overlaps(range: &Range<usize>, others: &[Range<usize>]) -> bool {
    others
        .iter()
        .any(|other| other.start < range.end.max(range.start + 1) && range.start < other.end)
}

/// Sorted changes as one source edit over the span they cover, when that
/// span is one verbatim run: `(source range, replacement)`.
fn merged(fragment: &Fragment, changes: &[Change]) -> Option<(Range<usize>, String)> {
    let span = changes.first()?.range.start..changes.last()?.range.end;
    let source = fragment.source_range(&span)?;
    let mut replacement = String::new();
    let mut position = span.start;
    for change in changes {
        // Unchanged text is copied as written; only replacements are encoded.
        replacement.push_str(fragment.text.get(position..change.range.start)?);
        replacement.push_str(&fragment.encode(change.range.start, &change.replacement)?);
        position = change.range.end;
    }
    Some((source, replacement))
}

impl FileWork<'_> {
    /// Turns the changes for one reference into edits, or reports that
    /// `what` could not be rewritten.
    pub(super) fn edit(
        &mut self,
        fragment: &Fragment,
        protected: &[Range<usize>],
        changes: Vec<Change>,
        rule: DerivedRule,
        note: Option<String>,
        what: &str,
    ) {
        let applicability = if note.is_some() {
            Applicability::Review
        } else {
            rule.applicability().unwrap_or(Applicability::Review)
        };
        let make = |range: Range<usize>, replacement: String| Edit {
            range,
            replacement,
            rule: self.first_rule + rule.index(),
            applicability,
            note: note.clone(),
        };
        let blocked = changes
            .iter()
            .find(|change| overlaps(&change.range, protected));
        if let Some(change) = blocked {
            let at = fragment.source_offset(change.range.start);
            self.find(
                DerivedRule::Review,
                at,
                format!("{what} could not be rewritten: it is part of template syntax"),
            );
            return;
        }
        if let Some((range, replacement)) = merged(fragment, &changes) {
            self.outcome.edits.push(make(range, replacement));
            return;
        }
        let mut edits = Vec::new();
        for change in &changes {
            let mapped = fragment
                .source_range(&change.range)
                .zip(fragment.encode(change.range.start, &change.replacement));
            match mapped {
                Some((range, replacement)) => edits.push(make(range, replacement)),
                None => {
                    let at = fragment.source_offset(change.range.start);
                    let why = if fragment.touches_placeholder(&change.range) {
                        "part of it comes from an interpolation"
                    } else {
                        "it is written with escape sequences, or its quoting cannot hold the new name"
                    };
                    self.find(
                        DerivedRule::Review,
                        at,
                        format!("{what} could not be rewritten: {why}"),
                    );
                    return;
                }
            }
        }
        self.outcome.edits.extend(edits);
    }
}
