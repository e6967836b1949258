//! Table references: rewriting the old table's name where a string or a
//! `.sql` file names it, and reporting the places that only look like it.

use std::ops::Range;

use super::FileWork;
use super::edits::Change;
use super::fragment::Fragment;
use super::path::{self, Path, Quote, TableMatch, in_case_of};
use crate::spec::is_identifier;
use crate::spec::plan::DerivedRule;

/// Calls whose string arguments are module or logger names, not tables.
const NAME_CALLS: [&str; 9] = [
    "getLogger",
    "import_module",
    "__import__",
    "patch",
    "find_spec",
    "forName",
    "getResource",
    "getResourceAsStream",
    "getBean",
];

impl FileWork<'_> {
    /// The changes that turn a reference to the old table into one to the
    /// new: each name the spec changes, in the reference's case style, and
    /// the new project when the table moves to one. In SQL, a project that
    /// is not a plain identifier is backquoted where it is written bare.
    fn table_changes(
        &self,
        text: &str,
        path: &Path,
        found: &TableMatch,
        in_sql: bool,
    ) -> Vec<Change> {
        let (from, to) = (&self.dataset().from, &self.dataset().to);
        let names = &path.names;
        let mut changes = Vec::new();
        let mut rename = |index: usize, new: &str, quote_bare: bool| {
            let name = &names[index];
            let old = &text[name.text.clone()];
            let mut replacement = match name.quote {
                Quote::Double | Quote::SharedDouble => new.to_owned(),
                _ => in_case_of(new, old),
            };
            if replacement == old {
                return;
            }
            if quote_bare && name.quote == Quote::Bare {
                replacement = format!("`{replacement}`");
            }
            changes.push(Change {
                range: name.text.clone(),
                replacement,
            });
        };
        if from.dataset != to.dataset {
            rename(found.dataset, &to.dataset, false);
        }
        if from.table != to.table {
            rename(found.dataset + 1, &to.table, false);
        }
        let moves_project = to.project.is_some() && to.project != from.project;
        if let (Some(project), true) = (&to.project, moves_project) {
            let needs_quotes = in_sql && !is_identifier(project);
            if found.dataset == 1 {
                rename(0, project, needs_quotes);
            } else {
                let first = &names[0];
                let qualifier = match first.quote {
                    Quote::Bare if needs_quotes => format!("`{project}`."),
                    Quote::Bare | Quote::SharedBacktick | Quote::SharedDouble => {
                        format!("{project}.")
                    }
                    Quote::SharedBracket => format!("{project}:"),
                    Quote::Backtick => format!("`{project}`."),
                    Quote::Double => format!("\"{project}\"."),
                    Quote::Bracket => format!("[{project}]."),
                };
                let at = first.outer_start();
                changes.push(Change {
                    range: at..at,
                    replacement: qualifier,
                });
            }
        }
        changes.sort_by_key(|change| (change.range.start, change.range.end));
        changes
    }

    /// Rewrites one reference to the old table (reported instead when the
    /// reference cannot be mapped back to the source).
    pub(super) fn table_edit(
        &mut self,
        fragment: &Fragment,
        protected: &[Range<usize>],
        path: &Path,
        found: &TableMatch,
        in_sql: bool,
    ) {
        let changes = self.table_changes(&fragment.text, path, found, in_sql);
        if changes.is_empty() {
            return;
        }
        let from = self.dataset().from.clone();
        let written = &fragment.text[path.span.clone()];
        let note = if found.case_differs {
            Some(format!("`{written}` is {from} written in a different case"))
        } else if found.project_missing {
            Some(format!(
                "`{written}` has no project; the spec's table is {from}"
            ))
        } else {
            None
        };
        self.edit(
            fragment,
            protected,
            changes,
            DerivedRule::Table,
            note,
            &format!("this reference to {from}"),
        );
    }

    /// A string that is not SQL: each path that names the old table as a
    /// whole (not `sales.orders.csv`, not a logger name) is rewritten.
    pub(super) fn plain_fragment(&mut self, fragment: &Fragment, paths: &[Path]) {
        for path in paths {
            let Some(found) = path::match_table(&fragment.text, path, &self.dataset().from) else {
                self.note_new_table(&fragment.text, path);
                self.interpolated_table(fragment, path, &[]);
                continue;
            };
            // `sales.orders.csv` is a file name, not a column reference.
            if found.trailing > 0 {
                continue;
            }
            if let Some(call) = fragment
                .call
                .as_deref()
                .filter(|call| NAME_CALLS.contains(call))
            {
                let at = fragment.source_offset(path.span.start);
                let written = fragment.text[path.span.clone()].to_owned();
                self.find(
                    DerivedRule::Review,
                    at,
                    format!("`{written}` is passed to `{call}`, so it is probably a module or logger name; not rewritten"),
                );
                continue;
            }
            self.references_table = true;
            self.table_edit(fragment, &[], path, &found, false);
        }
    }

    /// Notes a reference to the new table.
    pub(super) fn note_new_table(&mut self, text: &str, path: &Path) {
        if let Some(new_table) = &self.columns().new_table
            && path::match_table(text, path, new_table).is_some_and(|found| found.trailing <= 1)
        {
            self.references_new_table = true;
        }
    }

    /// `{dataset}.orders`, `%s.orders`: a path whose table name matches
    /// but whose other names come from an interpolation or a template.
    pub(super) fn interpolated_table(
        &mut self,
        fragment: &Fragment,
        path: &Path,
        masked: &[Range<usize>],
    ) {
        let Some((last, before)) = path.names.split_last() else {
            return;
        };
        let table = &self.dataset().from.table;
        let named = fragment.text[last.text.clone()].eq_ignore_ascii_case(table);
        let interpolated = before.iter().any(|name| {
            fragment.touches_placeholder(&name.text)
                || masked
                    .iter()
                    .any(|range| range.start < name.text.end && name.text.start < range.end)
        });
        // `{project}.sales_v2.orders` is the new table: nothing to check.
        let is_new_table =
            self.columns().new_table.as_ref().is_some_and(|new_table| {
                path::match_table(&fragment.text, path, new_table).is_some()
            });
        if named && interpolated && !is_new_table {
            let at = fragment.source_offset(path.span.start);
            let from = self.dataset().from.clone();
            let finding = super::Finding {
                rule: DerivedRule::Review,
                offset: at,
                message: format!(
                    "this table name is built at run time and may be {from}; check it"
                ),
            };
            self.if_referenced.push(finding);
        }
    }

    /// dbt `source('sales', 'orders')` calls in a SQL file's `{{ … }}`.
    pub(super) fn dbt_sources(&mut self, source: &str) {
        let (from, to) = (self.dataset().from.clone(), self.dataset().to.clone());
        let mut position = 0;
        while let Some(open) = source[position..].find("{{") {
            let start = position + open;
            let Some(close) = source[start..].find("}}") else {
                break;
            };
            let block = start..start + close;
            position = block.end;
            let mut search = block.start;
            while let Some(offset) = source[search..block.end].find("source(") {
                let call = search + offset;
                search = call + "source(".len();
                let glued = source[..call]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                let Some(end) = source[search..block.end].find(')') else {
                    break;
                };
                let arguments: Vec<&str> = source[search..search + end]
                    .split(',')
                    .map(|argument| argument.trim().trim_matches(['\'', '"']))
                    .collect();
                if let ([dataset, table], false) = (arguments.as_slice(), glued)
                    && dataset.eq_ignore_ascii_case(&from.dataset)
                    && table.eq_ignore_ascii_case(&from.table)
                {
                    self.references_table = true;
                    self.find(
                        DerivedRule::Review,
                        call,
                        format!("dbt source('{dataset}', '{table}') reads {from}; point the source at {to} in its sources file"),
                    );
                }
            }
        }
    }
}
