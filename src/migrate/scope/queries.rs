//! Queries, select blocks and their relations: what each block reads and
//! which renamed columns its result exposes.

use std::collections::HashSet;

use tree_sitter::Node;

use super::{Analyzer, Clause, Ctes, Mapping, Relation, Scope, Source, named_children};

impl Analyzer<'_> {
    /// A query: CTEs, then select blocks, set operations and DML. Returns
    /// the renamed columns its result exposes.
    pub(super) fn query(
        &mut self,
        container: Node<'_>,
        ctes: &Ctes,
        outer: Option<&Scope<'_>>,
    ) -> Mapping {
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
    pub(super) fn nested_queries(
        &mut self,
        node: Node<'_>,
        ctes: &Ctes,
        outer: Option<&Scope<'_>>,
    ) {
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
    pub(super) fn relation(
        &mut self,
        node: Node<'_>,
        ctes: &Ctes,
        outer: Option<&Scope<'_>>,
    ) -> Relation {
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

    pub(super) fn named_relation(
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
    pub(super) fn relations_of_from(
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
    pub(super) fn block(
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
    pub(super) fn exposed(&self, terms: &[Node<'_>], scope: &Scope<'_>) -> Mapping {
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
}
