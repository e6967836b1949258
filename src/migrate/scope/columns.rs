//! Column references inside a block: qualified, unqualified, quoted, and
//! the joins that hide their owner.

use tree_sitter::Node;

use super::{
    Analyzer, Clause, Ctes, DOUBLE_QUOTED, DYNAMIC, Relation, Resolution, Scope, Source, Via,
    named_children,
};

impl Analyzer<'_> {
    /// Resolves the references under `node`, analysing nested subqueries
    /// with `scope` as their outer scope.
    pub(super) fn expressions(
        &mut self,
        node: Node<'_>,
        scope: &Scope<'_>,
        ctes: &Ctes,
        clause: Clause,
    ) {
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
    pub(super) fn using(&mut self, list: Node<'_>, scope: &Scope<'_>) {
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

    pub(super) fn field(&mut self, field: Node<'_>, scope: &Scope<'_>, clause: Clause) {
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
    pub(super) fn double_quoted(&mut self, literal: Node<'_>, scope: &Scope<'_>, clause: Clause) {
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
    pub(super) fn qualifier_owner<'s>(
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

    pub(super) fn qualified(
        &mut self,
        name_node: Node<'_>,
        qualifier: Node<'_>,
        scope: &Scope<'_>,
    ) {
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

    pub(super) fn unqualified(&mut self, name_node: Node<'_>, scope: &Scope<'_>, clause: Clause) {
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
}
