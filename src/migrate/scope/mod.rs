//! Column references in one parsed SQL statement, resolved to the
//! relations they read.
//!
//! Each query block (a `select` with its `from`, or an UPDATE, DELETE or
//! MERGE) gets a scope of relations: the old table, a derived table (a CTE
//! or a subquery, which exposes the renamed columns it selects), or another
//! table. A column resolves as SQL resolves it:
//!
//! - `q.col`: the relation whose alias is `q`, or, without an alias, whose
//!   name ends with `q`; searched from the innermost scope outwards, so
//!   correlated subqueries work.
//! - `col`: the one relation of its block. With several relations the
//!   owner is unknown (no schema is available), so the reference is
//!   reported instead of renamed. In ORDER BY, GROUP BY and HAVING a name
//!   that is also an output alias refers to the alias.
//!
//! A derived table that selects a renamed column without an alias exposes
//! it under the new name, so outer references are renamed too and the query
//! stays consistent. `JOIN … USING (col)` on a renamed column is reported:
//! the other table still has the old name.

mod columns;
mod dml;
mod queries;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tree_sitter::Node;

use super::path::{self, Path, Quote};
use crate::spec::TableName;

/// A column of the spec: renamed (index into the renames) or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Column {
    Renamed(usize),
    Removed(usize),
}

/// The spec's tables and columns, prepared for lookups.
#[derive(Debug)]
pub(crate) struct Columns {
    pub(crate) table: TableName,
    /// The new table, when it is not the old one: columns read from it
    /// under old names are reported.
    pub(crate) new_table: Option<TableName>,
    /// Renamed and removed columns by lower-case old name.
    pub(crate) names: HashMap<String, Column>,
    /// The spec's spelling of each column, for exact (double-quoted) matches.
    pub(crate) spelling: HashMap<Column, String>,
    /// The new names (lower case): with chained renames (`a: b, b: c`) an
    /// old name may also be a valid new one.
    pub(crate) new_names: HashSet<String>,
}

impl Columns {
    pub(crate) fn lookup(&self, name: &str) -> Option<Column> {
        self.names.get(&name.to_ascii_lowercase()).copied()
    }

    /// Every spec column, as a derived table of `SELECT *` exposes them.
    fn all(&self, via: Via) -> Mapping {
        self.names
            .iter()
            .map(|(name, column)| (name.clone(), (*column, via)))
            .collect()
    }
}

/// How a reference was resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// It reads the old table, directly or through derived tables; `review`
    /// when the table was named in a different case or without its project.
    Table { review: bool },
    /// It reads the new table, under the column's old name.
    NewTable,
    /// It may read the old table; why it cannot be told.
    Unresolved(&'static str),
}

/// Which table a resolved column comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Old { review: bool },
    New,
}

impl Via {
    fn resolution(self) -> Resolution {
        match self {
            Via::Old { review } => Resolution::Table { review },
            Via::New => Resolution::NewTable,
        }
    }
}

/// A reference to a spec column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The name inside any quotes, in the analysed text.
    pub(crate) name: Range<usize>,
    pub(crate) quote: Quote,
    pub(crate) column: Column,
    pub(crate) resolution: Resolution,
}

/// What a statement says about the spec's tables and columns.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) references: Vec<Reference>,
    /// Qualifiers that name the old table by its bare table name
    /// (`orders.id`): they follow a rename of the table.
    pub(crate) qualifiers: Vec<Range<usize>>,
    pub(crate) reads_new_table: bool,
    /// Select-list aliases (lower case): result columns keep these names.
    pub(crate) output_aliases: Vec<String>,
}

/// Why a double-quoted name is not renamed without standard quoting around.
const DOUBLE_QUOTED: &str =
    "it is double-quoted, which is a string in BigQuery and MySQL but a column in standard SQL";

/// Spec columns a derived table exposes, by lower-case old name.
type Mapping = HashMap<String, (Column, Via)>;

#[derive(Clone, Debug)]
enum Source {
    Table(Via),
    Derived(Mapping),
    /// A table named by an interpolation or template: it may be the old one.
    Dynamic,
    Other,
}

/// Why a column of a [`Source::Dynamic`] relation is not renamed.
pub(crate) const DYNAMIC: &str = "the query's table is built at run time";

#[derive(Clone, Debug)]
struct Relation {
    alias: Option<String>,
    /// The lower-case names of its path (empty for a subquery).
    names: Vec<String>,
    source: Source,
}

impl Relation {
    fn maps(&self, name: &str, columns: &Columns) -> Option<(Column, Via)> {
        match &self.source {
            Source::Table(via) => columns.lookup(name).map(|column| (column, *via)),
            Source::Derived(mapping) => mapping.get(&name.to_ascii_lowercase()).copied(),
            Source::Dynamic | Source::Other => None,
        }
    }

    fn exposes(&self, columns: &Columns) -> Mapping {
        match &self.source {
            Source::Table(via) => columns.all(*via),
            Source::Derived(mapping) => mapping.clone(),
            Source::Dynamic | Source::Other => Mapping::new(),
        }
    }

    /// Whether a qualifier (lower-case names) names this relation.
    fn answers_to(&self, qualifier: &[String]) -> bool {
        match &self.alias {
            Some(alias) => qualifier.len() == 1 && &qualifier[0] == alias,
            None => !qualifier.is_empty() && self.names.ends_with(qualifier),
        }
    }
}

struct Scope<'p> {
    relations: Vec<Relation>,
    /// Output aliases of the block's select list (lower case).
    aliases: HashSet<String>,
    parent: Option<&'p Scope<'p>>,
}

impl Scope<'_> {
    fn chain(&self) -> impl Iterator<Item = &Scope<'_>> {
        std::iter::successors(Some(self), |scope| scope.parent)
    }
}

type Ctes = HashMap<String, Mapping>;

/// Where a name is used, for alias handling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Plain,
    /// ORDER BY, GROUP BY or HAVING, where output aliases are visible.
    AfterSelect,
}

struct Analyzer<'a> {
    text: &'a str,
    /// Double quotes delimit names (standard SQL), not strings.
    ansi_quotes: bool,
    paths: &'a [Path],
    /// Masked template and parameter ranges: a table named there is dynamic.
    protected: &'a [Range<usize>],
    columns: &'a Columns,
    analysis: Analysis,
    /// Field node ids resolved to a spec column (for exposing them).
    resolved: HashMap<usize, (Column, Via)>,
}

/// Resolves the spec-column references of one statement. `text` is the
/// unmasked SQL (names are read from it), `paths` its identifier paths and
/// `protected` its masked ranges.
pub(crate) fn analyze(
    statement: Node<'_>,
    text: &str,
    paths: &[Path],
    protected: &[Range<usize>],
    columns: &Columns,
) -> Analysis {
    let statement_text = &text[statement.byte_range()];
    let mut analyzer = Analyzer {
        text,
        ansi_quotes: uses_ansi_quotes(statement_text),
        paths,
        protected,
        columns,
        analysis: Analysis::default(),
        resolved: HashMap::new(),
    };
    analyzer.query(statement, &Ctes::new(), None);
    analyzer.analysis
}

/// Whether SQL quotes names with double quotes: it has no backquotes and a
/// double-quoted name next to a dot (`"sales"."orders"`, `o."amt"`).
fn uses_ansi_quotes(text: &str) -> bool {
    !text.contains('`') && (text.contains("\".\"") || text.contains(".\"") || text.contains("\"."))
}

fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

impl<'a> Analyzer<'a> {
    /// A name's text without quotes, its range and quoting.
    fn name(&self, node: Node<'_>) -> (String, Range<usize>, Quote) {
        let range = node.byte_range();
        let raw = &self.text[range.clone()];
        let quote = match raw.as_bytes().first() {
            Some(b'`') => Quote::Backtick,
            Some(b'"') => Quote::Double,
            Some(b'[') => Quote::Bracket,
            _ => Quote::Bare,
        };
        if quote != Quote::Bare && raw.len() >= 2 {
            let inner = range.start + 1..range.end - 1;
            return (self.text[inner.clone()].to_owned(), inner, quote);
        }
        (raw.to_owned(), range, quote)
    }

    /// The lower-case names of an object reference, read from the path
    /// that covers it in the unmasked text.
    fn path_names(&self, node: Node<'_>) -> (Vec<String>, Option<&'a Path>) {
        let range = node.byte_range();
        let path = self.paths.iter().find(|path| {
            path.span.start < range.end.max(range.start + 1) && range.start < path.span.end
        });
        // The path may go on past the node: `o` in `o.cust_id`.
        let within =
            |name: &&path::Name| range.start <= name.text.start && name.text.end <= range.end;
        let names = match path {
            Some(path) => path
                .names
                .iter()
                .filter(within)
                .map(|name| self.text[name.text.clone()].to_ascii_lowercase())
                .collect(),
            None => self.text[range]
                .split('.')
                .map(|name| name.trim_matches(['`', '"', '[', ']']).to_ascii_lowercase())
                .collect(),
        };
        (names, path)
    }

    /// Whether an object reference names the old table (and how surely)
    /// or the new one.
    fn table_source(&self, node: Node<'_>) -> Option<Via> {
        let (_, path) = self.path_names(node);
        // Only the names inside the node: `sales.orders` of `sales.orders.amt`.
        let range = node.byte_range();
        let path = &Path {
            names: path?
                .names
                .iter()
                .filter(|name| range.start <= name.text.start && name.text.end <= range.end)
                .cloned()
                .collect(),
            span: range,
        };
        if let Some(found) = path::match_table(self.text, path, &self.columns.table) {
            return (found.trailing == 0).then_some(Via::Old {
                review: found.case_differs || found.project_missing,
            });
        }
        let found = path::match_table(self.text, path, self.columns.new_table.as_ref()?)?;
        (found.trailing == 0).then_some(Via::New)
    }

    /// Whether a node overlaps a masked template or parameter.
    fn is_masked(&self, node: Node<'_>) -> bool {
        let range = node.byte_range();
        self.protected
            .iter()
            .any(|masked| masked.start < range.end && range.start < masked.end)
    }

    fn note_table(&mut self, via: Via) {
        if via == Via::New {
            self.analysis.reads_new_table = true;
        }
    }

    fn record(&mut self, node: Node<'_>, column: Column, resolution: Resolution) {
        let (name, range, quote) = self.name(node);
        // A double-quoted name is exact, as in standard SQL.
        if quote == Quote::Double && self.columns.spelling.get(&column) != Some(&name) {
            return;
        }
        // On the new table, an old name that is also a new one is valid.
        let also_new = self.columns.new_names.contains(&name.to_ascii_lowercase());
        if resolution == Resolution::NewTable && also_new {
            return;
        }
        match resolution {
            Resolution::Table { review } => {
                self.resolved
                    .insert(node.id(), (column, Via::Old { review }));
            }
            Resolution::NewTable => {
                self.resolved.insert(node.id(), (column, Via::New));
            }
            Resolution::Unresolved(_) => {}
        }
        self.analysis.references.push(Reference {
            name: range,
            quote,
            column,
            resolution,
        });
    }
}
