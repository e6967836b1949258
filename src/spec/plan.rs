//! What a spec derives: the rules it compiles into and its review policy,
//! as data for `fleetmod plan` and for naming edits and findings.

use super::Spec;
use crate::rule::Applicability;

/// A rule derived from a spec. Its id is `<spec id>/<suffix>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DerivedRule {
    /// Table references in string literals and SQL files.
    Table,
    /// Column references in SQL that reads the table.
    Column,
    /// String literals equal to a renamed column, in files that use the table.
    ColumnLiteral,
    /// References to removed columns: reported only.
    RemovedColumn,
    /// Possible references that are reported instead of rewritten.
    Review,
}

impl DerivedRule {
    pub const ALL: [DerivedRule; 5] = [
        DerivedRule::Table,
        DerivedRule::Column,
        DerivedRule::ColumnLiteral,
        DerivedRule::RemovedColumn,
        DerivedRule::Review,
    ];

    pub fn suffix(self) -> &'static str {
        match self {
            DerivedRule::Table => "table",
            DerivedRule::Column => "column",
            DerivedRule::ColumnLiteral => "column-literal",
            DerivedRule::RemovedColumn => "removed-column",
            DerivedRule::Review => "review",
        }
    }

    pub fn id(self, spec_id: &str) -> String {
        format!("{spec_id}/{}", self.suffix())
    }

    /// The applicability of its edits, or `None` when it only reports.
    pub fn applicability(self) -> Option<Applicability> {
        match self {
            DerivedRule::Table | DerivedRule::Column => Some(Applicability::Safe),
            DerivedRule::ColumnLiteral => Some(Applicability::Review),
            DerivedRule::RemovedColumn | DerivedRule::Review => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One derived rule, described for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRule {
    pub rule: DerivedRule,
    pub id: String,
    pub description: String,
    /// The individual changes (`cust_id → customer_id`), if it has several.
    pub changes: Vec<String>,
}

/// The derived rules of a spec, in [`DerivedRule::ALL`] order, skipping
/// those with nothing to do.
pub fn planned_rules(spec: &Spec) -> Vec<PlannedRule> {
    let dataset = &spec.dataset;
    let (from, to) = (&dataset.from, &dataset.to);
    let renames: Vec<String> = dataset
        .columns
        .iter()
        .map(|rename| format!("{} → {}", rename.old, rename.new))
        .collect();
    let mut rules = Vec::new();
    let mut add = |rule: DerivedRule, description: String, changes: Vec<String>| {
        rules.push(PlannedRule {
            rule,
            id: rule.id(&spec.id),
            description,
            changes,
        });
    };
    if from != to {
        add(
            DerivedRule::Table,
            format!(
                "rewrite references to {from} as {to} in string literals and .sql files, keeping the project qualifier and the quoting"
            ),
            Vec::new(),
        );
    }
    if !renames.is_empty() {
        add(
            DerivedRule::Column,
            format!(
                "rename columns of {from} in SQL statements that read it (in .sql files and in string literals)"
            ),
            renames.clone(),
        );
        add(
            DerivedRule::ColumnLiteral,
            format!(
                "rename string literals whose whole value is a renamed column, in files that reference {from}"
            ),
            renames,
        );
    }
    if !dataset.removed.is_empty() {
        add(
            DerivedRule::RemovedColumn,
            format!(
                "report references to removed columns, in files that reference {from}; never rewritten"
            ),
            dataset.removed.clone(),
        );
    }
    add(
        DerivedRule::Review,
        "report possible references that are not rewritten (see the review policy)".to_owned(),
        Vec::new(),
    );
    rules
}

/// The cases that are flagged for review instead of rewritten, or applied
/// but listed for reviewers.
pub fn review_policy(spec: &Spec) -> Vec<String> {
    let from = &spec.dataset.from;
    let mut policy = vec![
        format!("applied, listed for review: a reference to {from} written in a different case"),
        "applied, listed for review: string literals equal to a renamed column".to_owned(),
        "reported, not rewritten: the columns of SQL that does not parse, and parts of queries that do not parse (table references are still rewritten)".to_owned(),
        "reported, not rewritten: an unqualified column in a query that reads several tables".to_owned(),
        "reported, not rewritten: a renamed column in JOIN … USING".to_owned(),
        "reported, not rewritten: a double-quoted name where double quotes may be a string (BigQuery, MySQL)".to_owned(),
        "reported, not rewritten: string literals equal to a renamed column that the file's SQL also uses as a bind parameter or a column alias".to_owned(),
        "reported, not rewritten: renamed columns mentioned in other strings (such as Spark expressions) and Python attributes named like them".to_owned(),
        "reported, not rewritten: queries and table names built at run time, dbt source() calls, and table-like names passed to logger or import functions".to_owned(),
        "reported after the migration too: removed columns and old column names read from the new table".to_owned(),
    ];
    if from.project.is_some() {
        policy.insert(
            1,
            format!(
                "applied, listed for review: a reference to {}.{} without a project",
                from.dataset, from.table
            ),
        );
    }
    policy
}
