//! Applying a spec's derived rules to one source text. Pure: no I/O.
//!
//! The text of every string literal ([`fragment`]) — and the whole of a
//! `.sql` file — is searched for identifier paths that name the old table
//! ([`path`], rewritten by [`tables`]). A string that holds SQL is masked
//! and parsed with tree-sitter-sequel ([`sql`]) and its column references
//! are resolved to the relations they read ([`scope`], turned into edits by
//! [`embedded_sql`]). In a file that uses the table, strings equal to a
//! renamed column are renamed for review and other mentions are reported
//! ([`code`]). The result is edits (as rules produce them, made by
//! [`edits`]) and findings (review items without an edit), each named by a
//! [`DerivedRule`]. Precision comes first: whatever cannot be tied to the
//! old table is reported, not rewritten.

mod code;
mod edits;
mod embedded_sql;
mod fragment;
mod path;
mod scope;
mod sql;
mod tables;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use aho_corasick::AhoCorasick;
use tree_sitter::Node;

use self::scope::{Column, Columns};
use crate::engine::edit::Edit;
use crate::lang::Language;
use crate::spec::plan::DerivedRule;
use crate::spec::{Dataset, Spec};

/// SQL text with template syntax and dialect syntax masked, byte for byte,
/// so that tree-sitter-sequel can parse it.
pub fn mask_sql(text: &str) -> String {
    sql::mask(text).0
}

/// A review item: a place a person should look at, with no edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: DerivedRule,
    /// Where, as a byte offset in the source text.
    pub offset: usize,
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
    columns: Columns,
    /// Finds the old or new table's name, without case, to skip files quickly.
    table_name: Option<AhoCorasick>,
}

impl Migration {
    pub fn new(spec: &Spec) -> Migration {
        let dataset = &spec.dataset;
        let mut names = HashMap::new();
        let mut spelling = HashMap::new();
        for (index, rename) in dataset.columns.iter().enumerate() {
            names.insert(rename.old.to_ascii_lowercase(), Column::Renamed(index));
            spelling.insert(Column::Renamed(index), rename.old.clone());
        }
        for (index, name) in dataset.removed.iter().enumerate() {
            names.insert(name.to_ascii_lowercase(), Column::Removed(index));
            spelling.insert(Column::Removed(index), name.clone());
        }
        let new_names: HashSet<String> = dataset
            .columns
            .iter()
            .map(|rename| rename.new.to_ascii_lowercase())
            .collect();
        let columns = Columns {
            table: dataset.from.clone(),
            new_table: (!dataset.from.matches(&dataset.to)).then(|| dataset.to.clone()),
            names,
            spelling,
            new_names,
        };
        let mut table_names = vec![&dataset.from.table];
        if !dataset.to.table.eq_ignore_ascii_case(&dataset.from.table) {
            table_names.push(&dataset.to.table);
        }
        let table_name = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(table_names)
            .ok();
        Migration {
            spec: spec.clone(),
            columns,
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

    /// Byte offsets where `text` (any file, in any language) still names
    /// the old table, for checking a migrated repository. Empty when the
    /// old and new table are the same.
    pub fn old_table_mentions(&self, text: &str) -> Vec<usize> {
        let Some(_) = &self.columns.new_table else {
            return Vec::new();
        };
        if !self.may_apply(text) {
            return Vec::new();
        }
        path::paths(text)
            .iter()
            .filter(|found| path::match_table(text, found, &self.columns.table).is_some())
            .map(|found| found.span.start)
            .collect()
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
            first_rule,
            outcome: Outcome::default(),
            references_table: false,
            references_new_table: false,
            if_referenced: Vec::new(),
            parameters: HashSet::new(),
            output_aliases: HashSet::new(),
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
        let uses_a_table = file.references_table || file.references_new_table;
        if is_sql_file {
            file.dbt_sources(source);
        } else if uses_a_table {
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
        outcome
            .findings
            .sort_by(|a, b| (a.offset, a.rule, &a.message).cmp(&(b.offset, b.rule, &b.message)));
        outcome.findings.dedup();
        outcome
    }
}

/// The state of applying a migration to one file.
struct FileWork<'m> {
    migration: &'m Migration,
    first_rule: usize,
    outcome: Outcome,
    /// Some string or SQL of the file names the old table.
    references_table: bool,
    /// Some string or SQL of the file names the new table (findings about
    /// old column names then still apply, so a second run reports them too).
    references_new_table: bool,
    /// Findings that matter only if the file references either table.
    if_referenced: Vec<Finding>,
    /// Bind parameter names used by the file's SQL (lower case).
    parameters: HashSet<String>,
    /// Select-list aliases in the file's SQL (lower case): result columns
    /// that keep their names.
    output_aliases: HashSet<String>,
}

impl FileWork<'_> {
    fn dataset(&self) -> &Dataset {
        &self.migration.spec.dataset
    }

    fn columns(&self) -> &Columns {
        &self.migration.columns
    }

    fn find(&mut self, rule: DerivedRule, offset: usize, message: String) {
        self.outcome.findings.push(Finding {
            rule,
            offset,
            message,
        });
    }

    /// A spec column named `name` in a message: "`amt` (renamed to
    /// `amount_usd`)" or "`legacy_code` (removed in sales_v2.orders)", and
    /// the rule that reports it.
    fn column_words(&self, column: Column, name: &str) -> (DerivedRule, String) {
        let dataset = self.dataset();
        match column {
            Column::Renamed(index) => (
                DerivedRule::Review,
                format!("`{name}` (renamed to `{}`)", dataset.columns[index].new),
            ),
            Column::Removed(_) => (
                DerivedRule::RemovedColumn,
                format!("`{name}` (removed in {})", dataset.to),
            ),
        }
    }
}

/// The ranges of the words (ASCII letters, digits, `_`) of a text.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = None;
    for (offset, byte) in text.bytes().chain(std::iter::once(b' ')).enumerate() {
        let is_word = byte.is_ascii_alphanumeric() || byte == b'_';
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
