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

    /// A query: CTEs, then select blocks, set operations and DML. Returns
    /// the renamed columns its result exposes.
    fn query(&mut self, container: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) -> Mapping {
        let children = named_children(container);
        if children.iter().any(|child| child.kind() == "keyword_merge") {
            self.merge(&children, ctes, outer);
            return Mapping::new();
        }
        let mut ctes = ctes.clone();
        let mut exposed: Option<Mapping> = None;
        let mut index = 0;
        while index < children.len() {
            let child = children[index];
            match child.kind() {
                "cte" => {
                    let parts = named_children(child);
                    let name = parts.iter().find(|part| part.kind() == "identifier");
                    let body = parts.iter().find(|part| {
                        matches!(part.kind(), "statement" | "subquery" | "set_operation")
                    });
                    if let (Some(name), Some(body)) = (name, body) {
                        let mut mapping = self.query(*body, &ctes, outer);
                        // `WITH x (a, b) AS (…)` names its columns itself.
                        if child.child_by_field_name("argument").is_some() {
                            mapping.clear();
                        }
                        ctes.insert(self.name(*name).0.to_ascii_lowercase(), mapping);
                    }
                }
                "select" => {
                    let from = children
                        .get(index + 1)
                        .copied()
                        .filter(|next| next.kind() == "from");
                    if from.is_some() {
                        index += 1;
                    }
                    let mapping = self.block(Some(child), from, &ctes, outer);
                    exposed.get_or_insert(mapping);
                }
                "from" => {
                    // DELETE … FROM t WHERE …
                    self.block(None, Some(child), &ctes, outer);
                }
                "statement" | "subquery" | "set_operation" | "create_query" => {
                    let mapping = self.query(child, &ctes, outer);
                    exposed.get_or_insert(mapping);
                }
                "insert" => self.insert(child, &ctes, outer),
                "update" => self.update(child, &ctes, outer),
                _ => self.nested_queries(child, &ctes, outer),
            }
            index += 1;
        }
        exposed.unwrap_or_default()
    }

    /// Queries nested anywhere under a node that is not itself a query
    /// (`CREATE VIEW v AS …`).
    fn nested_queries(&mut self, node: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) {
        for child in named_children(node) {
            match child.kind() {
                "statement" | "subquery" | "set_operation" | "create_query" => {
                    self.query(child, ctes, outer);
                }
                _ => self.nested_queries(child, ctes, outer),
            }
        }
    }

    /// A relation in FROM or JOIN.
    fn relation(&mut self, node: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) -> Relation {
        let alias = node
            .child_by_field_name("alias")
            .map(|alias| self.name(alias).0.to_ascii_lowercase());
        let children = named_children(node);
        if let Some(subquery) = children.iter().find(|child| child.kind() == "subquery") {
            let mut mapping = self.query(*subquery, ctes, outer);
            // `(…) AS s (a, b)` names its columns itself.
            if children.iter().any(|child| child.kind() == "list") {
                mapping.clear();
            }
            return Relation {
                alias,
                names: Vec::new(),
                source: Source::Derived(mapping),
            };
        }
        match children
            .iter()
            .find(|child| child.kind() == "object_reference")
        {
            Some(reference) => self.named_relation(*reference, alias, ctes),
            None => Relation {
                alias,
                names: Vec::new(),
                source: Source::Other,
            },
        }
    }

    fn named_relation(
        &mut self,
        reference: Node<'_>,
        alias: Option<String>,
        ctes: &Ctes,
    ) -> Relation {
        let (names, _) = self.path_names(reference);
        let source = if let (1, Some(mapping)) =
            (names.len(), names.first().and_then(|name| ctes.get(name)))
        {
            Source::Derived(mapping.clone())
        } else if let Some(via) = self.table_source(reference) {
            self.note_table(via);
            Source::Table(via)
        } else if self.is_masked(reference)
            || names.iter().any(|name| {
                name.trim_matches('_').is_empty()
                    || !name.bytes().all(|byte| {
                        byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'$' | b'-')
                    })
            })
        {
            Source::Dynamic
        } else {
            Source::Other
        };
        Relation {
            alias,
            names,
            source,
        }
    }

    /// The relations of a FROM clause, joins included.
    fn relations_of_from(
        &mut self,
        from: Node<'_>,
        ctes: &Ctes,
        outer: Option<&Scope<'_>>,
    ) -> Vec<Relation> {
        let mut relations = Vec::new();
        for child in named_children(from) {
            match child.kind() {
                "relation" => relations.push(self.relation(child, ctes, outer)),
                "object_reference" => relations.push(self.named_relation(child, None, ctes)),
                "join" | "cross_join" | "lateral_join" => {
                    for part in named_children(child) {
                        if part.kind() == "relation" {
                            relations.push(self.relation(part, ctes, outer));
                        }
                    }
                }
                _ => {}
            }
        }
        relations
    }

    /// A select block: its relations, its references, what it exposes.
    fn block(
        &mut self,
        select: Option<Node<'_>>,
        from: Option<Node<'_>>,
        ctes: &Ctes,
        outer: Option<&Scope<'_>>,
    ) -> Mapping {
        let relations = match from {
            Some(from) => self.relations_of_from(from, ctes, outer),
            None => Vec::new(),
        };
        let terms: Vec<Node<'_>> = select
            .into_iter()
            .flat_map(named_children)
            .filter(|child| child.kind() == "select_expression")
            .flat_map(named_children)
            .filter(|term| term.kind() == "term")
            .collect();
        let aliases: HashSet<String> = terms
            .iter()
            .filter_map(|term| term.child_by_field_name("alias"))
            .map(|alias| self.name(alias).0.to_ascii_lowercase())
            .collect();
        self.analysis.output_aliases.extend(aliases.iter().cloned());
        let scope = Scope {
            relations,
            aliases,
            parent: outer,
        };
        if let Some(select) = select {
            self.expressions(select, &scope, ctes, Clause::Plain);
        }
        if let Some(from) = from {
            self.expressions(from, &scope, ctes, Clause::Plain);
        }
        self.exposed(&terms, &scope)
    }

    /// The renamed columns a block's select list exposes under new names.
    fn exposed(&self, terms: &[Node<'_>], scope: &Scope<'_>) -> Mapping {
        let mut mapping = Mapping::new();
        for term in terms {
            if term.child_by_field_name("alias").is_some() {
                continue;
            }
            let Some(value) = term.child_by_field_name("value") else {
                continue;
            };
            match value.kind() {
                "field" => {
                    if let Some(name) = value.child_by_field_name("name")
                        && let Some(resolved) = self.resolved.get(&name.id())
                    {
                        mapping.insert(self.name(name).0.to_ascii_lowercase(), *resolved);
                    }
                }
                "all_fields" => {
                    let qualifier = named_children(value)
                        .into_iter()
                        .find(|child| child.kind() == "object_reference")
                        .map(|reference| self.path_names(reference).0);
                    for relation in &scope.relations {
                        if qualifier
                            .as_ref()
                            .is_none_or(|qualifier| relation.answers_to(qualifier))
                        {
                            mapping.extend(relation.exposes(self.columns));
                        }
                    }
                }
                _ => {}
            }
        }
        mapping
    }

    /// Resolves the references under `node`, analysing nested subqueries
    /// with `scope` as their outer scope.
    fn expressions(&mut self, node: Node<'_>, scope: &Scope<'_>, ctes: &Ctes, clause: Clause) {
        for child in named_children(node) {
            match child.kind() {
                "field" => self.field(child, scope, clause),
                "subquery" => {
                    self.query(child, ctes, Some(scope));
                }
                "relation" | "cte" => {}
                "order_by" | "group_by" | "having" => {
                    self.expressions(child, scope, ctes, Clause::AfterSelect);
                }
                "list" if node.kind() == "join" => self.using(child, scope),
                "literal" => self.double_quoted(child, scope, clause),
                "all_fields" => {
                    if let Some(qualifier) = named_children(child)
                        .into_iter()
                        .find(|part| part.kind() == "object_reference")
                    {
                        self.qualifier_owner(qualifier, scope);
                    }
                }
                _ => self.expressions(child, scope, ctes, clause),
            }
        }
    }

    /// `JOIN … USING (col)`: the other table keeps the old name.
    fn using(&mut self, list: Node<'_>, scope: &Scope<'_>) {
        for column in named_children(list) {
            let identifier = if column.kind() == "column" {
                named_children(column).into_iter().next().unwrap_or(column)
            } else {
                column
            };
            let (name, _, _) = self.name(identifier);
            let Some(spec_column) = self.columns.lookup(&name) else {
                continue;
            };
            if scope
                .relations
                .iter()
                .any(|relation| relation.maps(&name, self.columns).is_some())
            {
                self.record(
                    identifier,
                    spec_column,
                    Resolution::Unresolved(
                        "the join uses USING, and the other table keeps the name",
                    ),
                );
            }
        }
    }

    fn field(&mut self, field: Node<'_>, scope: &Scope<'_>, clause: Clause) {
        let Some(name_node) = field.child_by_field_name("name") else {
            return;
        };
        let qualifier = named_children(field)
            .into_iter()
            .find(|child| child.kind() == "object_reference");
        match qualifier {
            Some(qualifier) => self.qualified(name_node, qualifier, scope),
            None => self.unqualified(name_node, scope, clause),
        }
    }

    /// `"col"`: a quoted column in standard SQL, a string elsewhere.
    fn double_quoted(&mut self, literal: Node<'_>, scope: &Scope<'_>, clause: Clause) {
        if !self.text[literal.byte_range()].starts_with('"') {
            return;
        }
        if self.ansi_quotes {
            self.unqualified(literal, scope, clause);
            return;
        }
        let (name, _, _) = self.name(literal);
        let reads_spec_table = scope.chain().any(|scope| {
            scope
                .relations
                .iter()
                .any(|relation| relation.maps(&name, self.columns).is_some())
        });
        if let (Some(column), true) = (self.columns.lookup(&name), reads_spec_table) {
            self.record(literal, column, Resolution::Unresolved(DOUBLE_QUOTED));
        }
    }

    /// The relation a qualifier names, searching outwards. A bare table
    /// name naming the old table is noted: it follows the table's rename.
    fn qualifier_owner<'s>(
        &mut self,
        qualifier: Node<'_>,
        scope: &'s Scope<'_>,
    ) -> Option<&'s Relation> {
        let (names, _) = self.path_names(qualifier);
        let owner = scope.chain().find_map(|scope| {
            scope
                .relations
                .iter()
                .find(|relation| relation.answers_to(&names))
        })?;
        if let (Source::Table(Via::Old { .. }), None, [_]) =
            (&owner.source, &owner.alias, names.as_slice())
        {
            let (_, range, _) = self.name(qualifier);
            self.analysis.qualifiers.push(range);
        }
        Some(owner)
    }

    fn qualified(&mut self, name_node: Node<'_>, qualifier: Node<'_>, scope: &Scope<'_>) {
        let owner = self.qualifier_owner(qualifier, scope);
        let (name, _, _) = self.name(name_node);
        let Some(column) = self.columns.lookup(&name) else {
            return;
        };
        if let Some(owner) = owner
            && let Some((column, via)) = owner.maps(&name, self.columns)
        {
            self.record(name_node, column, via.resolution());
        } else if owner.is_some_and(|owner| matches!(owner.source, Source::Dynamic)) {
            self.record(name_node, column, Resolution::Unresolved(DYNAMIC));
        } else if owner.is_none() && self.table_source(qualifier).is_some() {
            self.record(
                name_node,
                column,
                Resolution::Unresolved(
                    "it is qualified by the table, which this query does not read",
                ),
            );
        }
    }

    fn unqualified(&mut self, name_node: Node<'_>, scope: &Scope<'_>, clause: Clause) {
        let (name, _, _) = self.name(name_node);
        let Some(column) = self.columns.lookup(&name) else {
            return;
        };
        if clause == Clause::AfterSelect && scope.aliases.contains(&name.to_ascii_lowercase()) {
            return;
        }
        let owners: Vec<&Relation> = scope
            .relations
            .iter()
            .filter(|relation| relation.maps(&name, self.columns).is_some())
            .collect();
        match (scope.relations.len(), owners.as_slice()) {
            (1, [owner]) => {
                if let Some((column, via)) = owner.maps(&name, self.columns) {
                    self.record(name_node, column, via.resolution());
                }
            }
            (1, []) if matches!(scope.relations[0].source, Source::Dynamic) => {
                self.record(name_node, column, Resolution::Unresolved(DYNAMIC));
            }
            (_, []) => {
                let outer_owner = scope.chain().skip(1).any(|outer| {
                    outer
                        .relations
                        .iter()
                        .any(|relation| relation.maps(&name, self.columns).is_some())
                });
                if outer_owner {
                    self.record(
                        name_node,
                        column,
                        Resolution::Unresolved("it may refer to the table of an outer query"),
                    );
                }
            }
            _ => self.record(
                name_node,
                column,
                Resolution::Unresolved(
                    "the query reads several tables and the column is not qualified",
                ),
            ),
        }
    }

    /// `INSERT INTO t (cols) …`: the column list names columns of `t`.
    fn insert(&mut self, insert: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) {
        let children = named_children(insert);
        let target = children
            .iter()
            .find(|child| child.kind() == "object_reference");
        let via = target.and_then(|target| self.table_source(*target));
        if let Some(via) = via {
            self.note_table(via);
            if let Some(list) = children.iter().find(|child| child.kind() == "list") {
                self.column_list(*list, via);
            }
        }
        self.query(insert, ctes, outer);
    }

    /// A list of bare column names of the old table.
    fn column_list(&mut self, list: Node<'_>, via: Via) {
        for column in named_children(list)
            .into_iter()
            .filter(|child| child.kind() == "column")
        {
            let Some(identifier) = named_children(column).into_iter().next() else {
                continue;
            };
            if let Some(spec_column) = self.columns.lookup(&self.name(identifier).0) {
                self.record(identifier, spec_column, via.resolution());
            }
        }
    }

    /// `UPDATE t SET col = … [FROM …] WHERE …`.
    fn update(&mut self, update: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) {
        let children = named_children(update);
        let mut relations = Vec::new();
        if let Some(target) = children.iter().find(|child| child.kind() == "relation") {
            relations.push(self.relation(*target, ctes, outer));
        }
        let from = children
            .iter()
            .find(|child| child.kind() == "from")
            .copied();
        if let Some(from) = from {
            relations.extend(self.relations_of_from(from, ctes, outer));
        }
        let target = relations.first().cloned();
        let scope = Scope {
            relations,
            aliases: HashSet::new(),
            parent: outer,
        };
        for child in children {
            match child.kind() {
                "assignment" => self.assignment(child, target.as_ref(), &scope, ctes),
                "relation" => {}
                _ => self.expressions(child, &scope, ctes, Clause::Plain),
            }
        }
    }

    /// `col = value`: an unqualified `col` belongs to the updated table.
    fn assignment(
        &mut self,
        assignment: Node<'_>,
        target: Option<&Relation>,
        scope: &Scope<'_>,
        ctes: &Ctes,
    ) {
        if let Some(left) = assignment.child_by_field_name("left") {
            let qualified = named_children(left)
                .iter()
                .any(|child| child.kind() == "object_reference");
            match (left.child_by_field_name("name"), target, qualified) {
                (Some(name), Some(target), false) => {
                    let text = self.name(name).0;
                    if let Some((column, via)) = target.maps(&text, self.columns) {
                        self.record(name, column, via.resolution());
                    }
                }
                _ => self.field(left, scope, Clause::Plain),
            }
        }
        if let Some(right) = assignment.child_by_field_name("right") {
            if right.kind() == "field" {
                self.field(right, scope, Clause::Plain);
            } else {
                self.expressions(right, scope, ctes, Clause::Plain);
            }
        }
    }

    /// `MERGE INTO target USING source ON … WHEN … THEN UPDATE SET … | INSERT (cols) VALUES …`.
    fn merge(&mut self, children: &[Node<'_>], ctes: &Ctes, outer: Option<&Scope<'_>>) {
        let mut relations: Vec<Relation> = Vec::new();
        for (index, child) in children.iter().enumerate() {
            let alias = children
                .get(index + 1)
                .filter(|next| next.kind() == "identifier")
                .map(|alias| self.name(*alias).0.to_ascii_lowercase());
            match child.kind() {
                "object_reference" if relations.len() < 2 => {
                    let relation = self.named_relation(*child, alias, ctes);
                    relations.push(relation);
                }
                "subquery" if relations.len() < 2 => {
                    let mapping = self.query(*child, ctes, outer);
                    relations.push(Relation {
                        alias,
                        names: Vec::new(),
                        source: Source::Derived(mapping),
                    });
                }
                _ => {}
            }
        }
        let target = relations.first().cloned();
        let target_via = match target.as_ref().map(|target| &target.source) {
            Some(Source::Table(via)) => Some(*via),
            _ => None,
        };
        let scope = Scope {
            relations,
            aliases: HashSet::new(),
            parent: outer,
        };
        for child in children {
            match child.kind() {
                "when_clause" => {
                    for part in named_children(*child) {
                        match part.kind() {
                            "assignment" => self.assignment(part, target.as_ref(), &scope, ctes),
                            "list"
                                if named_children(part)
                                    .iter()
                                    .any(|item| item.kind() == "column") =>
                            {
                                if let Some(via) = target_via {
                                    self.column_list(part, via);
                                }
                            }
                            _ => self.expressions(part, &scope, ctes, Clause::Plain),
                        }
                    }
                }
                "object_reference" | "subquery" | "identifier" => {}
                _ => {
                    if child.kind() == "field" {
                        self.field(*child, &scope, Clause::Plain);
                    } else {
                        self.expressions(*child, &scope, ctes, Clause::Plain);
                    }
                }
            }
        }
    }
}
