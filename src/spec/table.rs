//! Table names as a spec writes them: `dataset.table`, optionally qualified
//! by a project as `project.dataset.table` or `project:dataset.table`
//! (BigQuery's legacy form).

use std::fmt;

/// A validated table name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    pub project: Option<String>,
    pub dataset: String,
    pub table: String,
}

/// Whether `name` is a dataset, table or column name: a letter or `_`, then
/// letters, digits and `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|next| next.is_ascii_alphanumeric() || next == '_')
}

/// Whether `name` is a project id: letters, digits, `-` and `_`, not
/// starting or ending with `-`.
fn is_project(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|next| next.is_ascii_alphanumeric() || next == '-' || next == '_')
}

impl TableName {
    /// Parses a table name, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<TableName, String> {
        let malformed = || {
            format!(
                "`{text}` is not a table name: write `dataset.table`, `project.dataset.table` or `project:dataset.table` (names of letters, digits and `_`)"
            )
        };
        let (project, rest) = match text.split_once(':') {
            Some((project, rest)) => (Some(project), rest),
            None => (None, text),
        };
        let parts: Vec<&str> = rest.split('.').collect();
        let (project, dataset, table) = match (project, parts.as_slice()) {
            (None, [dataset, table]) => (None, *dataset, *table),
            (None, [project, dataset, table]) => (Some(*project), *dataset, *table),
            (Some(project), [dataset, table]) => (Some(project), *dataset, *table),
            _ => return Err(malformed()),
        };
        if !is_identifier(dataset) || !is_identifier(table) || !project.is_none_or(is_project) {
            return Err(malformed());
        }
        Ok(TableName {
            project: project.map(str::to_owned),
            dataset: dataset.to_owned(),
            table: table.to_owned(),
        })
    }
}

impl TableName {
    /// Whether a reference to `self` also reads as a reference to `other`
    /// (ignoring case, and a project that either leaves out): then code
    /// that uses `other` still looks like code to migrate.
    pub fn matches(&self, other: &TableName) -> bool {
        let projects = match (&self.project, &other.project) {
            (Some(mine), Some(theirs)) => mine.eq_ignore_ascii_case(theirs),
            _ => true,
        };
        projects
            && self.dataset.eq_ignore_ascii_case(&other.dataset)
            && self.table.eq_ignore_ascii_case(&other.table)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(project) = &self.project {
            write!(formatter, "{project}.")?;
        }
        write!(formatter, "{}.{}", self.dataset, self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_take_three_forms() {
        let plain = TableName::parse("sales.orders").expect("valid");
        assert_eq!((plain.project, plain.dataset.as_str()), (None, "sales"));
        let dotted = TableName::parse("my-proj.sales.orders").expect("valid");
        assert_eq!(dotted.project.as_deref(), Some("my-proj"));
        let legacy = TableName::parse("my-proj:sales.orders").expect("valid");
        assert_eq!(legacy.to_string(), "my-proj.sales.orders");
    }

    #[test]
    fn tables_match_without_case_or_a_missing_project() {
        let parse = |text: &str| TableName::parse(text).expect("valid");
        assert!(parse("sales.orders").matches(&parse("acme.sales.orders")));
        assert!(parse("Sales.Orders").matches(&parse("sales.orders")));
        assert!(!parse("p.sales.orders").matches(&parse("q.sales.orders")));
        assert!(!parse("sales.orders").matches(&parse("sales_v2.orders")));
    }

    #[test]
    fn malformed_table_names_are_rejected() {
        for bad in [
            "orders",
            "a.b.c.d",
            "sales..orders",
            "sales.or-ders",
            "1sales.orders",
            "p:q.sales.orders",
            "-p.sales.orders",
            " sales.orders",
        ] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }
}
