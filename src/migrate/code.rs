//! Column names in code, in a file that uses the old (or new) table:
//! a string literal that is exactly a renamed column is renamed for review
//! (`df["amt"]`, `rs.getString("cust_id")`); other mentions (Spark
//! expressions, Python attributes) are reported.
//!
//! A literal is reported instead of renamed when the file's SQL also uses
//! its text as a bind parameter name (`:cust_id` keeps its name) or as a
//! select-list alias (the result column keeps its name), and when the file
//! only reads the new table (the migration already happened there).

use tree_sitter::Node;

use super::edits::Change;
use super::fragment::Fragment;
use super::path::in_case_of;
use super::scope::Column;
use super::{FileWork, words};
use crate::lang::pre_order;
use crate::spec::is_identifier;
use crate::spec::plan::DerivedRule;

impl FileWork<'_> {
    pub(super) fn column_literal_or_mentions(&mut self, fragment: &Fragment) {
        let text = &fragment.text;
        match self.columns().lookup(text) {
            Some(column) if fragment.is_single_literal() && is_identifier(text) => {
                self.column_literal(fragment, column);
            }
            _ => {
                for word in words(text) {
                    self.mention(fragment, word);
                }
            }
        }
    }

    fn column_literal(&mut self, fragment: &Fragment, column: Column) {
        let text = fragment.text.clone();
        let key = text.to_ascii_lowercase();
        let at = fragment.source_offset(0);
        let dataset = self.dataset();
        let (from, to) = (dataset.from.clone(), dataset.to.clone());
        let Column::Renamed(index) = column else {
            let message = format!("`{text}` is removed in {to}");
            self.find(DerivedRule::RemovedColumn, at, message);
            return;
        };
        let new = dataset.columns[index].new.clone();
        let why_not = if self.parameters.contains(&key) {
            Some(format!(
                "`{text}` is also the name of a bind parameter in this file's SQL, which keeps its name"
            ))
        } else if self.output_aliases.contains(&key) {
            Some(format!(
                "`{text}` is also a column alias in this file's SQL, whose result column keeps its name"
            ))
        } else if !self.references_table {
            // Only the new table is used here: it may be a new name too.
            (!self.columns().new_names.contains(&key))
                .then(|| format!("`{text}` is the old name of `{new}`, and this file reads {to}"))
        } else {
            None
        };
        if !self.references_table && why_not.is_none() {
            return;
        }
        if let Some(why) = why_not {
            self.find(DerivedRule::Review, at, format!("{why}; not rewritten"));
            return;
        }
        let note = format!(
            "a string equal to the renamed column `{text}`, in a file that references {from}"
        );
        let change = Change {
            range: 0..text.len(),
            replacement: in_case_of(&new, &text),
        };
        self.edit(
            fragment,
            &[],
            vec![change],
            DerivedRule::ColumnLiteral,
            Some(note),
            &format!("`{text}`"),
        );
    }

    /// A word of a string that is a spec column: reported.
    fn mention(&mut self, fragment: &Fragment, word: std::ops::Range<usize>) {
        let name = &fragment.text[word.clone()];
        let Some(column) = self.columns().lookup(name) else {
            return;
        };
        if self.is_new_name_on_new_table(name) {
            return;
        }
        let (rule, what) = self.column_words(column, name);
        let at = fragment.source_offset(word.start);
        self.find(
            rule,
            at,
            format!("this string mentions {what}; not rewritten"),
        );
    }

    /// In a file that only reads the new table, an old name that is also a
    /// new one (`a: b, b: c`) is a valid new name.
    fn is_new_name_on_new_table(&self, name: &str) -> bool {
        !self.references_table
            && self
                .columns()
                .new_names
                .contains(&name.to_ascii_lowercase())
    }

    /// `row.cust_id` in Python: attribute access named like a spec column.
    pub(super) fn python_attributes(&mut self, root: Node<'_>, source: &str) {
        for node in pre_order(root) {
            let attribute = match node.kind() {
                "attribute" => node.child_by_field_name("attribute"),
                _ => None,
            };
            let Some(attribute) = attribute else {
                continue;
            };
            let name = &source[attribute.byte_range()];
            let Some(column) = self.columns().lookup(name) else {
                continue;
            };
            if self.is_new_name_on_new_table(name) {
                continue;
            }
            let (rule, what) = self.column_words(column, name);
            let message =
                format!("the attribute `.{name}` may be the column {what}; not rewritten");
            self.find(rule, attribute.start_byte(), message);
        }
    }
}
