//! Applying a spec's derived rules to one source text. Pure: no I/O.
//!
//! The text of every string literal ([`fragment`]) — and the whole of a
//! `.sql` file — is searched for identifier paths that name the old table
//! ([`path`]). A string that holds SQL is masked and parsed with
//! tree-sitter-sequel ([`sql`]) and its column references are resolved to
//! the relations they read ([`scope`]). The result is edits (as rules
//! produce them) and findings (review items without an edit), each named by
//! a [`DerivedRule`]. Precision comes first: whatever cannot be tied to the
//! old table is reported, not rewritten.

mod fragment;
mod path;
mod scope;
mod sql;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use aho_corasick::AhoCorasick;
use tree_sitter::Node;

use self::fragment::Fragment;
use self::path::{Path, Quote, TableMatch, in_case_of};
use self::scope::{Column, Columns, Reference, Resolution};
use crate::engine::edit::Edit;
use crate::lang::{Language, pre_order};
use crate::rule::Applicability;
use crate::spec::plan::DerivedRule;
use crate::spec::{Spec, TableName, is_identifier};

/// SQL text with template syntax and BigQuery's backquoted paths masked,
/// byte for byte, so that tree-sitter-sequel can parse it.
pub fn mask_sql(text: &str) -> String {
    sql::mask(text).0
}

/// A review item: a place a person should look at, with no edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: DerivedRule,
    /// Where, in the source text.
    pub range: Range<usize>,
    pub message: String,
}

/// The edits and findings for one source text. Edits name their rule as
/// `first_rule + DerivedRule::index()`.
#[derive(Debug, Default)]
pub struct Outcome {
    pub edits: Vec<Edit>,
    pub findings: Vec<Finding>,
}

/// A spec prepared for applying.
pub struct Migration {
    spec: Spec,
    column_names: HashMap<String, Column>,
    spelling: HashMap<Column, String>,
    /// Finds the table's name, without case, to skip files quickly.
    table_name: Option<AhoCorasick>,
}

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

impl Migration {
    pub fn new(spec: &Spec) -> Migration {
        let dataset = &spec.dataset;
        let mut column_names = HashMap::new();
        let mut spelling = HashMap::new();
        for (index, rename) in dataset.columns.iter().enumerate() {
            column_names.insert(rename.old.to_ascii_lowercase(), Column::Renamed(index));
            spelling.insert(Column::Renamed(index), rename.old.clone());
        }
        for (index, name) in dataset.removed.iter().enumerate() {
            column_names.insert(name.to_ascii_lowercase(), Column::Removed(index));
            spelling.insert(Column::Removed(index), name.clone());
        }
        let mut names = vec![&dataset.from.table];
        if dataset.to.table != dataset.from.table {
            names.push(&dataset.to.table);
        }
        let table_name = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(names)
            .ok();
        Migration {
            spec: spec.clone(),
            column_names,
            spelling,
            table_name,
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The ids of the derived rules, in [`DerivedRule::ALL`] order.
    pub fn rule_ids(&self) -> Vec<String> {
        DerivedRule::ALL
            .iter()
            .map(|rule| rule.id(&self.spec.id))
            .collect()
    }

    /// Whether the migration may touch this text at all: everything it
    /// does needs the old (or, for findings, the new) table's name
    /// somewhere in the file.
    pub fn may_apply(&self, source: &str) -> bool {
        self.table_name
            .as_ref()
            .is_none_or(|finder| finder.is_match(source))
    }

    fn columns(&self) -> Columns<'_> {
        Columns {
            table: &self.spec.dataset.from,
            new_table: (self.spec.dataset.to != self.spec.dataset.from)
                .then_some(&self.spec.dataset.to),
            names: self.column_names.clone(),
            spelling: self.spelling.clone(),
        }
    }

    /// The edits and findings for one parsed source text.
    pub fn apply(
        &self,
        language: Language,
        source: &str,
        root: Node<'_>,
        first_rule: usize,
    ) -> Outcome {
        let mut file = FileWork {
            migration: self,
            columns: self.columns(),
            first_rule,
            outcome: Outcome::default(),
            references_table: false,
            references_new_table: false,
            if_referenced: Vec::new(),
            parameters: HashSet::new(),
        };
        if !self.may_apply(source) {
            return file.outcome;
        }
        let is_sql_file = language.name() == "sql";
        let fragments = match language.name() {
            "python" => fragment::python(root, source),
            "java" => fragment::java(root, source),
            "sql" => vec![fragment::sql_file(source)],
            _ => Vec::new(),
        };
        let mut plain = Vec::new();
        for fragment in &fragments {
            let paths = path::paths(&fragment.text);
            if is_sql_file || sql::looks_like_sql(&fragment.text) {
                file.sql_fragment(fragment, &paths);
            } else {
                file.plain_fragment(fragment, &paths);
                plain.push(fragment);
            }
        }
        if is_sql_file {
            file.dbt_sources(source);
        } else if file.references_table || file.references_new_table {
            for fragment in plain {
                file.column_literal_or_mentions(fragment);
            }
            if language.name() == "python" {
                file.python_attributes(root, source);
            }
        }
        if file.references_table || file.references_new_table {
            let deferred = std::mem::take(&mut file.if_referenced);
            file.outcome.findings.extend(deferred);
        }
        let mut outcome = file.outcome;
        outcome.findings.sort_by(|a, b| {
            (a.range.start, a.rule, &a.message).cmp(&(b.range.start, b.rule, &b.message))
        });
        outcome.findings.dedup();
        outcome
    }
}

/// The state of applying a migration to one file.
struct FileWork<'m> {
    migration: &'m Migration,
    columns: Columns<'m>,
    first_rule: usize,
    outcome: Outcome,
    /// Some string or SQL of the file names the old table.
    references_table: bool,
    /// Some string or SQL of the file names the new table (findings about
    /// old column names then still apply, so a second run reports them too).
    references_new_table: bool,
    /// Findings that matter only if the file references the old table.
    if_referenced: Vec<Finding>,
    /// Bind parameter names used by the file's SQL (lower case).
    parameters: HashSet<String>,
}

/// The ranges of the words (letters, digits, `_`) of a text.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = None;
    for (offset, character) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let is_word = character.is_ascii_alphanumeric() || character == '_';
        match (is_word, start) {
            (true, None) => start = Some(offset),
            (false, Some(word_start)) => {
                start = None;
                found.push(word_start..offset);
            }
            _ => {}
        }
    }
    found
}

/// One replacement in a fragment's text coordinates.
struct Change {
    range: Range<usize>,
    replacement: String,
}

/// Sorted, non-overlapping changes as one change over the text they span.
fn merge(text: &str, changes: &[Change]) -> Option<Change> {
    let first = changes.first()?;
    let last = changes.last()?;
    let mut replacement = String::new();
    let mut position = first.range.start;
    for change in changes {
        replacement.push_str(text.get(position..change.range.start)?);
        replacement.push_str(&change.replacement);
        position = change.range.end;
    }
    Some(Change {
        range: first.range.start..last.range.end,
        replacement,
    })
}

impl FileWork<'_> {
    fn old_table(&self) -> &TableName {
        &self.migration.spec.dataset.from
    }

    fn new_table(&self) -> &TableName {
        &self.migration.spec.dataset.to
    }

    fn find(&mut self, rule: DerivedRule, range: Range<usize>, message: String) {
        self.outcome.findings.push(Finding {
            rule,
            range,
            message,
        });
    }

    /// Where a text position of a fragment is in the source.
    fn source_position(fragment: &Fragment, position: usize) -> Range<usize> {
        let start = fragment
            .segments
            .iter()
            .find(|segment| segment.text.start <= position && position < segment.text.end)
            .map_or(fragment.range.start, |segment| {
                if matches!(segment.piece, fragment::Piece::Verbatim { .. }) {
                    segment.source.start + (position - segment.text.start)
                } else {
                    segment.source.start
                }
            });
        start..start
    }

    /// Turns changes into edits, all or none: a reference is rewritten
    /// whole or reported. Changes that lie in one verbatim run become one
    /// edit, so a reference is never half rewritten.
    fn edit(
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
        let blocked = changes.iter().any(|change| {
            protected.iter().any(|range| {
                range.start < change.range.end.max(change.range.start + 1)
                    && change.range.start < range.end
            })
        });
        let mut edits = Vec::new();
        if let (false, Some(merged)) = (blocked, merge(&fragment.text, &changes))
            && let Some(range) = fragment.source_range(&merged.range)
            && let Some(replacement) = fragment.encode(merged.range.start, &merged.replacement)
        {
            edits.push(make(range, replacement));
        } else {
            for change in &changes {
                let mapped = fragment
                    .source_range(&change.range)
                    .zip(fragment.encode(change.range.start, &change.replacement));
                match (blocked, mapped) {
                    (false, Some((range, replacement))) => edits.push(make(range, replacement)),
                    _ => {
                        let at = Self::source_position(fragment, change.range.start);
                        self.find(
                            DerivedRule::Review,
                            at,
                            format!("{what} could not be rewritten here: it is written with escape sequences or template syntax"),
                        );
                        return;
                    }
                }
            }
        }
        self.outcome.edits.extend(edits);
    }

    /// The changes that turn a reference to the old table into one to the
    /// new. In SQL, a project name that is not a plain identifier is
    /// backquoted when it is written bare.
    fn table_changes(
        &self,
        text: &str,
        path: &Path,
        found: &TableMatch,
        in_sql: bool,
    ) -> Vec<Change> {
        let (from, to) = (self.old_table(), self.new_table());
        let names = &path.names;
        let mut changes = Vec::new();
        let mut rename = |index: usize, new: &str, quote_bare: bool| {
            let name = &names[index];
            let old = &text[name.text.clone()];
            let mut replacement = if name.quote == Quote::Double {
                new.to_owned()
            } else {
                in_case_of(new, old)
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
        if from.dataset != to.dataset || found.case_differs {
            rename(found.dataset, &to.dataset, false);
        }
        if from.table != to.table || found.case_differs {
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
                    Quote::Bare | Quote::SharedBacktick => format!("{project}."),
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

    fn table_edit(
        &mut self,
        fragment: &Fragment,
        protected: &[Range<usize>],
        path: &Path,
        found: &TableMatch,
        in_sql: bool,
    ) {
        let changes = self.table_changes(&fragment.text, path, found, in_sql);
        let from = self.old_table().clone();
        let note = if found.case_differs {
            Some(format!(
                "`{}` is {from} written in a different case",
                &fragment.text[path.span.clone()]
            ))
        } else if found.project_missing {
            Some(format!(
                "`{}` has no project; the spec's table is {from}",
                &fragment.text[path.span.clone()]
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

    /// A string that is not SQL: table references stand alone.
    fn plain_fragment(&mut self, fragment: &Fragment, paths: &[Path]) {
        for path in paths {
            let Some(found) = path::match_table(&fragment.text, path, self.old_table()) else {
                self.note_new_table(&fragment.text, path);
                self.interpolated_table(fragment, path);
                continue;
            };
            self.references_table = true;
            // `sales.orders.csv` is a file name, not a column reference.
            if found.trailing > 0 {
                continue;
            }
            if let Some(call) = fragment
                .call
                .as_deref()
                .filter(|call| NAME_CALLS.contains(call))
            {
                let at = Self::source_position(fragment, path.span.start);
                self.find(
                    DerivedRule::Review,
                    at,
                    format!("`{}` is passed to `{call}`, so it is probably a module or logger name; not rewritten", &fragment.text[path.span.clone()]),
                );
                continue;
            }
            self.table_edit(fragment, &[], path, &found, false);
        }
    }

    /// Notes a reference to the new table.
    fn note_new_table(&mut self, text: &str, path: &Path) {
        let dataset = &self.migration.spec.dataset;
        if dataset.to != dataset.from
            && path::match_table(text, path, &dataset.to).is_some_and(|found| found.trailing <= 1)
        {
            self.references_new_table = true;
        }
    }

    /// `{dataset}.orders`: a path whose table name matches but whose other
    /// names come from an interpolation.
    fn interpolated_table(&mut self, fragment: &Fragment, path: &Path) {
        let table = &self.old_table().table;
        let Some(last) = path.names.last() else {
            return;
        };
        let named = fragment.text[last.text.clone()].eq_ignore_ascii_case(table);
        let interpolated = path.names[..path.names.len() - 1]
            .iter()
            .any(|name| fragment.touches_placeholder(&name.text));
        if named && interpolated {
            let at = Self::source_position(fragment, path.span.start);
            let from = self.old_table().clone();
            self.find(
                DerivedRule::Review,
                at,
                format!(
                    "this table name is built from an interpolation and may be {from}; check it"
                ),
            );
        }
    }

    /// SQL: table references outside comments, and column references
    /// resolved statement by statement. In a statement that does not parse
    /// only table references are rewritten; it is reported.
    fn sql_fragment(&mut self, fragment: &Fragment, paths: &[Path]) {
        let Some(parsed) = sql::parse(&fragment.text) else {
            return;
        };
        self.parameters.extend(sql::parameters(&fragment.text));
        let root = parsed.tree.root_node();
        let comments = sql::comments(root);
        let inside = |range: &Range<usize>, ranges: &[Range<usize>]| {
            ranges
                .iter()
                .any(|outer| outer.start <= range.start && range.end <= outer.end)
        };
        let outside_comments: Vec<&Path> = paths
            .iter()
            .filter(|path| !inside(&path.span, &comments))
            .collect();
        let matches: Vec<(&Path, TableMatch)> = outside_comments
            .iter()
            .filter_map(|path| {
                Some((
                    *path,
                    path::match_table(&fragment.text, path, self.old_table())?,
                ))
            })
            .filter(|(_, found)| found.trailing <= 1)
            .collect();
        if !matches.is_empty() {
            self.references_table = true;
        }
        for path in &outside_comments {
            self.note_new_table(&fragment.text, path);
        }
        for (statement, clean) in sql::statements(root) {
            let range = statement.byte_range();
            let here: Vec<&(&Path, TableMatch)> = matches
                .iter()
                .filter(|(path, _)| range.start <= path.span.start && path.span.end <= range.end)
                .collect();
            for (path, found) in &here {
                self.table_edit(fragment, &parsed.protected, path, found, true);
            }
            if clean {
                let analysis = scope::analyze(
                    statement,
                    &fragment.text,
                    paths,
                    &parsed.protected,
                    &self.columns,
                );
                for reference in analysis.references {
                    self.column_reference(fragment, &parsed.protected, &reference);
                }
                self.references_new_table |= analysis.reads_new_table;
            } else {
                self.unparsed_statement(fragment, range, !here.is_empty(), &comments);
            }
        }
    }

    /// Reports a statement that does not parse, if it reads either table.
    fn unparsed_statement(
        &mut self,
        fragment: &Fragment,
        range: Range<usize>,
        reads_old_table: bool,
        comments: &[Range<usize>],
    ) {
        let text = &fragment.text[range.clone()];
        let dataset = &self.migration.spec.dataset;
        let reads_new_table = dataset.to != dataset.from
            && path::paths(text)
                .iter()
                .any(|path| path::match_table(text, path, &dataset.to).is_some());
        if !reads_old_table && !reads_new_table {
            return;
        }
        let mut mentioned: Vec<&str> = Vec::new();
        for word in words(text) {
            let absolute = range.start + word.start..range.start + word.end;
            let in_comment = comments
                .iter()
                .any(|comment| comment.start <= absolute.start && absolute.end <= comment.end);
            let name = &text[word];
            if !in_comment && self.columns.lookup(name).is_some() && !mentioned.contains(&name) {
                mentioned.push(name);
            }
        }
        let table = if reads_old_table {
            &dataset.from
        } else {
            &dataset.to
        };
        let mut message = format!(
            "this SQL reads {table} but does not parse (tree-sitter-sequel), so its columns were not checked or renamed"
        );
        if !mentioned.is_empty() {
            let names: Vec<String> = mentioned.iter().map(|name| format!("`{name}`")).collect();
            message.push_str(&format!("; it mentions {}", names.join(", ")));
        }
        let at = Self::source_position(fragment, range.start);
        self.find(DerivedRule::Review, at, message);
    }

    fn column_reference(
        &mut self,
        fragment: &Fragment,
        protected: &[Range<usize>],
        reference: &Reference,
    ) {
        let dataset = &self.migration.spec.dataset;
        let old = &fragment.text[reference.name.clone()];
        let at = Self::source_position(fragment, reference.name.start);
        match (reference.column, &reference.resolution) {
            (Column::Renamed(index), Resolution::Table { review }) => {
                let new = &dataset.columns[index].new;
                let replacement = if reference.quote == Quote::Double {
                    new.clone()
                } else {
                    in_case_of(new, old)
                };
                let note = review.then(|| {
                    format!(
                        "`{old}` belongs to a reference to {} that needs review",
                        dataset.from
                    )
                });
                let what = format!("column `{old}`");
                self.edit(
                    fragment,
                    protected,
                    vec![Change {
                        range: reference.name.clone(),
                        replacement,
                    }],
                    DerivedRule::Column,
                    note,
                    &what,
                );
            }
            (Column::Renamed(index), Resolution::Unresolved(why)) => {
                let new = &dataset.columns[index].new;
                let finding = Finding {
                    rule: DerivedRule::Review,
                    range: at,
                    message: format!(
                        "`{old}` may be the column renamed to `{new}`, but {why}; not rewritten"
                    ),
                };
                if *why == scope::DYNAMIC {
                    self.if_referenced.push(finding);
                } else {
                    self.outcome.findings.push(finding);
                }
            }
            (Column::Renamed(index), Resolution::NewTable) => {
                let new = &dataset.columns[index].new;
                self.find(
                    DerivedRule::Review,
                    at,
                    format!(
                        "`{old}` is the old name of `{new}`, but this query reads {}",
                        dataset.to
                    ),
                );
            }
            (Column::Removed(_), Resolution::Table { .. } | Resolution::NewTable) => {
                self.find(
                    DerivedRule::RemovedColumn,
                    at,
                    format!("`{old}` is removed in {}; this query reads it", dataset.to),
                );
            }
            (Column::Removed(_), Resolution::Unresolved(why)) => {
                let finding = Finding {
                    rule: DerivedRule::RemovedColumn,
                    range: at,
                    message: format!(
                        "`{old}` may be the column removed in {}, but {why}",
                        dataset.to
                    ),
                };
                if *why == scope::DYNAMIC {
                    self.if_referenced.push(finding);
                } else {
                    self.outcome.findings.push(finding);
                }
            }
        }
    }

    /// In a file that references the table: a string that is exactly a
    /// renamed column is renamed (for review); other mentions are reported.
    fn column_literal_or_mentions(&mut self, fragment: &Fragment) {
        let dataset = &self.migration.spec.dataset;
        let text = &fragment.text;
        if fragment.is_single_literal()
            && is_identifier(text)
            && let Some(column) = self.columns.lookup(text)
        {
            match column {
                Column::Renamed(_) if self.parameters.contains(&text.to_ascii_lowercase()) => {
                    let at = Self::source_position(fragment, 0);
                    self.find(
                        DerivedRule::Review,
                        at,
                        format!("`{text}` is also the name of a bind parameter in this file's SQL, which keeps its name; not rewritten"),
                    );
                }
                Column::Renamed(index) if !self.references_table => {
                    let at = Self::source_position(fragment, 0);
                    let new = &dataset.columns[index].new;
                    self.find(
                        DerivedRule::Review,
                        at,
                        format!(
                            "`{text}` is the old name of `{new}`, and this file reads {}",
                            dataset.to
                        ),
                    );
                }
                Column::Renamed(index) => {
                    let new = &dataset.columns[index].new;
                    let note = format!(
                        "a string equal to the renamed column `{text}`, in a file that references {}",
                        dataset.from
                    );
                    let change = Change {
                        range: 0..text.len(),
                        replacement: in_case_of(new, text),
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
                Column::Removed(_) => {
                    let at = Self::source_position(fragment, 0);
                    self.find(
                        DerivedRule::RemovedColumn,
                        at,
                        format!("`{text}` is removed in {}", dataset.to),
                    );
                }
            }
            return;
        }
        for word in words(text) {
            self.mention(fragment, word);
        }
    }

    fn mention(&mut self, fragment: &Fragment, word: Range<usize>) {
        let dataset = &self.migration.spec.dataset;
        let name = &fragment.text[word.clone()];
        let Some(column) = self.columns.lookup(name) else {
            return;
        };
        let at = Self::source_position(fragment, word.start);
        let (rule, message) = match column {
            Column::Renamed(index) => (
                DerivedRule::Review,
                format!(
                    "mentions `{name}`, which is renamed to `{}`; not rewritten here",
                    dataset.columns[index].new
                ),
            ),
            Column::Removed(_) => (
                DerivedRule::RemovedColumn,
                format!("mentions `{name}`, which is removed in {}", dataset.to),
            ),
        };
        self.find(rule, at, message);
    }

    /// `row.cust_id` in Python: attribute access named like a renamed column.
    fn python_attributes(&mut self, root: Node<'_>, source: &str) {
        let dataset = &self.migration.spec.dataset;
        for node in pre_order(root) {
            if node.kind() != "attribute" {
                continue;
            }
            let Some(attribute) = node.child_by_field_name("attribute") else {
                continue;
            };
            let name = &source[attribute.byte_range()];
            let Some(column) = self.columns.lookup(name) else {
                continue;
            };
            let (rule, message) = match column {
                Column::Renamed(index) => (
                    DerivedRule::Review,
                    format!(
                        "`.{name}` may read the column renamed to `{}`; not rewritten",
                        dataset.columns[index].new
                    ),
                ),
                Column::Removed(_) => (
                    DerivedRule::RemovedColumn,
                    format!("`.{name}` may read a column removed in {}", dataset.to),
                ),
            };
            let start = attribute.start_byte();
            self.find(rule, start..start, message);
        }
    }

    /// dbt `source('sales', 'orders')` calls in a SQL file.
    fn dbt_sources(&mut self, source: &str) {
        let from = self.old_table().clone();
        let mut position = 0;
        while let Some(offset) = source[position..].find("source(") {
            let start = position + offset;
            position = start + "source(".len();
            let Some(close) = source[position..].find(')') else {
                break;
            };
            let arguments: Vec<&str> = source[position..position + close]
                .split(',')
                .map(|argument| argument.trim().trim_matches(['\'', '"']))
                .collect();
            if let [dataset, table] = arguments.as_slice()
                && dataset.eq_ignore_ascii_case(&from.dataset)
                && table.eq_ignore_ascii_case(&from.table)
            {
                self.references_table = true;
                let to = self.new_table().clone();
                self.find(
                    DerivedRule::Review,
                    start..start,
                    format!("dbt source('{dataset}', '{table}') reads {from}; point the source at {to} in its sources file"),
                );
            }
        }
    }
}
