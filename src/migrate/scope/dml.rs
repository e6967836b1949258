//! INSERT, UPDATE and MERGE: their target table's columns in column lists
//! and assignments.

use std::collections::HashSet;

use tree_sitter::Node;

use super::{Analyzer, Clause, Ctes, Relation, Scope, Source, Via, named_children};

impl Analyzer<'_> {
    /// `INSERT INTO t (cols) …`: the column list names columns of `t`.
    pub(super) fn insert(&mut self, insert: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) {
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
    pub(super) fn column_list(&mut self, list: Node<'_>, via: Via) {
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
    pub(super) fn update(&mut self, update: Node<'_>, ctes: &Ctes, outer: Option<&Scope<'_>>) {
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
    pub(super) fn assignment(
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
    pub(super) fn merge(&mut self, children: &[Node<'_>], ctes: &Ctes, outer: Option<&Scope<'_>>) {
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
