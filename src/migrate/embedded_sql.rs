//! SQL in a fragment: table references outside comments, then column
//! references resolved statement by statement ([`super::scope`]).
//!
//! A statement that does not parse still has its table references
//! rewritten (they are found textually, as in any string), but its columns
//! are not touched; it is reported. A table name inside Jinja (`{% set t =
//! 'sales.orders' %}`) is a string of the template and is rewritten too.

use std::ops::Range;

use tree_sitter::Node;

use super::edits::Change;
use super::fragment::Fragment;
use super::path::{self, Path, Quote, TableMatch, in_case_of};
use super::scope::{self, Column, Reference, Resolution};
use super::{FileWork, Finding, sql, words};
use crate::spec::plan::DerivedRule;

fn inside(range: &Range<usize>, ranges: &[Range<usize>]) -> bool {
    ranges
        .iter()
        .any(|outer| outer.start <= range.start && range.end <= outer.end)
}

impl FileWork<'_> {
    pub(super) fn sql_fragment(&mut self, fragment: &Fragment, paths: &[Path]) {
        let Some(parsed) = sql::parse(&fragment.text) else {
            return;
        };
        self.parameters.extend(sql::parameters(&fragment.text));
        let root = parsed.tree.root_node();
        let comments = sql::comments(root);
        let templates: Vec<Range<usize>> = parsed
            .protected
            .iter()
            .filter(|range| {
                let text = &fragment.text[range.start..];
                text.starts_with("{{") || text.starts_with("{%")
            })
            .cloned()
            .collect();
        let mut matches: Vec<(&Path, TableMatch)> = Vec::new();
        for path in paths.iter().filter(|path| !inside(&path.span, &comments)) {
            match path::match_table(&fragment.text, path, &self.dataset().from) {
                Some(found) if found.trailing <= 1 => matches.push((path, found)),
                Some(_) => {}
                None => {
                    self.note_new_table(&fragment.text, path);
                    self.interpolated_table(fragment, path, &parsed.protected);
                }
            }
        }
        if !matches.is_empty() {
            self.references_table = true;
        }
        let statements = sql::statements(root);
        for (path, found) in &matches {
            let in_template = inside(&path.span, &templates);
            let in_statement = statements.iter().any(|(statement, _)| {
                let range = statement.byte_range();
                range.start <= path.span.start && path.span.end <= range.end
            });
            if in_template || !in_statement {
                // A string of the template (or stray text): as in any string.
                if found.trailing == 0 {
                    self.table_edit(fragment, &[], path, found, false);
                }
            } else {
                self.table_edit(fragment, &parsed.protected, path, found, true);
            }
        }
        // A broken statement is reported once, not again for the stray
        // parts that follow it.
        let mut reported = false;
        for (statement, clean) in statements {
            let range = statement.byte_range();
            let reads_old_table = matches
                .iter()
                .any(|(path, _)| range.start <= path.span.start && path.span.end <= range.end);
            // A part that is only template syntax (`{{ config(…) }}`) is not SQL.
            let substantive = || {
                range.clone().any(|position| {
                    !fragment.text.as_bytes()[position].is_ascii_whitespace()
                        && !inside(&(position..position + 1), &parsed.protected)
                        && !inside(&(position..position + 1), &comments)
                })
            };
            if clean {
                self.clean_statement(fragment, statement, paths, &parsed.protected);
                reported = false;
            } else if (reported && !reads_old_table) || !substantive() {
                continue;
            } else if reads_old_table || !matches.is_empty() {
                self.unparsed_statement(fragment, range, reads_old_table, &comments);
                reported = true;
            } else {
                self.unparsed_statement_on_new_table(fragment, range, &comments);
            }
        }
    }

    /// Resolves the columns of a statement that parsed, and renames them.
    fn clean_statement(
        &mut self,
        fragment: &Fragment,
        statement: Node<'_>,
        paths: &[Path],
        protected: &[Range<usize>],
    ) {
        let analysis = scope::analyze(statement, &fragment.text, paths, protected, self.columns());
        for reference in &analysis.references {
            self.column_reference(fragment, protected, reference);
        }
        let (old_table, new_table) = (&self.dataset().from.table, &self.dataset().to.table);
        if old_table != new_table {
            let new_table = new_table.clone();
            for qualifier in analysis.qualifiers {
                let old = &fragment.text[qualifier.clone()];
                let change = Change {
                    replacement: in_case_of(&new_table, old),
                    range: qualifier,
                };
                let what = format!("the qualifier `{old}`");
                self.edit(
                    fragment,
                    protected,
                    vec![change],
                    DerivedRule::Table,
                    None,
                    &what,
                );
            }
        }
        self.references_new_table |= analysis.reads_new_table;
        self.output_aliases.extend(analysis.output_aliases);
    }

    /// Reports a statement (or a stray part of one) that does not parse.
    fn unparsed_statement(
        &mut self,
        fragment: &Fragment,
        range: Range<usize>,
        reads_old_table: bool,
        comments: &[Range<usize>],
    ) {
        let mentioned = self.mentioned_columns(fragment, &range, comments);
        let table = &self.dataset().from;
        // A stray part (`NATURAL JOIN t`, a dangling `WHERE`) is reported
        // too: the query around it was only partly checked.
        let mut message = if reads_old_table {
            format!(
                "this SQL reads {table} but does not parse (tree-sitter-sequel), so its columns were not checked or renamed"
            )
        } else {
            format!(
                "this part of a query on {table} does not parse (tree-sitter-sequel), so its columns were not checked or renamed"
            )
        };
        if !mentioned.is_empty() {
            message.push_str(&format!("; it mentions {}", mentioned.join(", ")));
        }
        let at = fragment.source_offset(range.start);
        self.find(DerivedRule::Review, at, message);
    }

    /// After a migration: a statement on the new table that does not parse
    /// is still reported, so a later run keeps showing it.
    fn unparsed_statement_on_new_table(
        &mut self,
        fragment: &Fragment,
        range: Range<usize>,
        comments: &[Range<usize>],
    ) {
        let Some(new_table) = self.columns().new_table.clone() else {
            return;
        };
        let text = &fragment.text[range.clone()];
        let reads_new_table = path::paths(text)
            .iter()
            .any(|path| path::match_table(text, path, &new_table).is_some());
        if !reads_new_table {
            return;
        }
        let mentioned = self.mentioned_columns(fragment, &range, comments);
        let mut message = format!(
            "this SQL reads {new_table} but does not parse (tree-sitter-sequel), so its columns were not checked"
        );
        if !mentioned.is_empty() {
            message.push_str(&format!("; it mentions {}", mentioned.join(", ")));
        }
        let at = fragment.source_offset(range.start);
        self.find(DerivedRule::Review, at, message);
    }

    /// The spec columns a range of SQL mentions outside comments, quoted.
    fn mentioned_columns(
        &self,
        fragment: &Fragment,
        range: &Range<usize>,
        comments: &[Range<usize>],
    ) -> Vec<String> {
        let text = &fragment.text[range.clone()];
        let mut mentioned: Vec<String> = Vec::new();
        for word in words(text) {
            let absolute = range.start + word.start..range.start + word.end;
            let name = format!("`{}`", &text[word]);
            if !inside(&absolute, comments)
                && self.columns().lookup(&name[1..name.len() - 1]).is_some()
                && !mentioned.contains(&name)
            {
                mentioned.push(name);
            }
        }
        mentioned
    }

    /// Renames, or reports, one resolved column reference.
    fn column_reference(
        &mut self,
        fragment: &Fragment,
        protected: &[Range<usize>],
        reference: &Reference,
    ) {
        let dataset = self.dataset();
        let old = fragment.text[reference.name.clone()].to_owned();
        let at = fragment.source_offset(reference.name.start);
        let (to, from) = (dataset.to.clone(), dataset.from.clone());
        match (reference.column, &reference.resolution) {
            (Column::Renamed(index), Resolution::Table { review }) => {
                let new = &dataset.columns[index].new;
                let replacement = if reference.quote == Quote::Double {
                    new.clone()
                } else {
                    in_case_of(new, &old)
                };
                let note = review
                    .then(|| format!("`{old}` belongs to a reference to {from} that needs review"));
                let change = Change {
                    range: reference.name.clone(),
                    replacement,
                };
                self.edit(
                    fragment,
                    protected,
                    vec![change],
                    DerivedRule::Column,
                    note,
                    &format!("column `{old}`"),
                );
            }
            (Column::Renamed(index), Resolution::NewTable) => {
                let new = &dataset.columns[index].new;
                let message =
                    format!("`{old}` is the old name of `{new}`, but this query reads {to}");
                self.find(DerivedRule::Review, at, message);
            }
            (Column::Removed(_), Resolution::Table { .. } | Resolution::NewTable) => {
                let message = format!("`{old}` is removed in {to}; this query reads it");
                self.find(DerivedRule::RemovedColumn, at, message);
            }
            (column, Resolution::Unresolved(why)) => {
                let (rule, what) = self.column_words(column, &old);
                let verb = match column {
                    Column::Renamed(_) => "was not renamed here",
                    Column::Removed(_) => "may be read here",
                };
                let finding = Finding {
                    rule,
                    offset: at,
                    message: format!("{what} {verb}: {why}"),
                };
                // A table built at run time matters only where the file uses the table.
                if *why == scope::DYNAMIC {
                    self.if_referenced.push(finding);
                } else {
                    self.outcome.findings.push(finding);
                }
            }
        }
    }
}
