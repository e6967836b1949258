//! Identifier paths in text (`proj.sales.orders`, `` `sales`.`orders` ``,
//! `"sales"."orders"`, `proj:sales.orders`) and matching them against a
//! table name.
//!
//! A path is found only where it starts and ends on a word boundary, so
//! `presales.orders` and `sales.orders_archive` are single, different
//! names. Paths next to `/`, `\` or `@` are parts of file paths, URLs or
//! addresses and are not paths here.

use std::ops::Range;

use crate::spec::TableName;

/// How one name of a path is quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    Bare,
    /// Backticks around this name alone.
    Backtick,
    /// Backticks around several names: `` `proj.sales.orders` ``.
    SharedBacktick,
    /// Brackets around several names, as BigQuery legacy SQL writes
    /// `[proj:sales.orders]`.
    SharedBracket,
    /// Double quotes around several names: a JSON value `"sales.orders"`.
    SharedDouble,
    Double,
    Bracket,
}

/// One name of a path: where its text is (inside any quotes) and its quoting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) text: Range<usize>,
    pub(crate) quote: Quote,
}

impl Name {
    /// Where the name starts including its own quote, for inserting a
    /// sibling name before it.
    pub(crate) fn outer_start(&self) -> usize {
        match self.quote {
            Quote::Bare | Quote::SharedBacktick | Quote::SharedBracket | Quote::SharedDouble => {
                self.text.start
            }
            _ => self.text.start - 1,
        }
    }
}

/// A maximal dotted path of names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Path {
    pub(crate) names: Vec<Name>,
    pub(crate) span: Range<usize>,
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

/// Bytes that glue a preceding word to a path, or that mark a file path,
/// URL or address; a path after one of them is not a table reference.
fn is_blocking(byte: u8) -> bool {
    is_word_byte(byte) || matches!(byte, b'-' | b'.' | b':' | b'/' | b'\\' | b'@')
}

/// Parses one quoted or bare part at `start`: its names and its end.
fn part(text: &str, start: usize) -> Option<(Vec<Name>, usize)> {
    let bytes = text.as_bytes();
    let first = *bytes.get(start)?;
    let closing = match first {
        b'`' => Some(b'`'),
        b'"' => Some(b'"'),
        b'[' => Some(b']'),
        _ => None,
    };
    if let Some(closing) = closing {
        let content_start = start + 1;
        let length = bytes[content_start..]
            .iter()
            .position(|&byte| byte == closing || byte == b'\n')?;
        let content_end = content_start + length;
        if bytes.get(content_end) != Some(&closing) || length == 0 {
            return None;
        }
        let content = &text[content_start..content_end];
        let valid = content
            .bytes()
            .all(|byte| is_word_byte(byte) || matches!(byte, b'-' | b'.' | b':' | b' '));
        if !valid {
            return None;
        }
        let shared = match first {
            b'`' => Quote::SharedBacktick,
            b'[' => Quote::SharedBracket,
            _ => Quote::SharedDouble,
        };
        let names = if content.contains(['.', ':']) {
            let mut names = Vec::new();
            let mut name_start = content_start;
            for (offset, byte) in content.bytes().enumerate() {
                if byte == b'.' || byte == b':' {
                    names.push(Name {
                        text: name_start..content_start + offset,
                        quote: shared,
                    });
                    name_start = content_start + offset + 1;
                }
            }
            names.push(Name {
                text: name_start..content_end,
                quote: shared,
            });
            names
        } else {
            let quote = match first {
                b'`' => Quote::Backtick,
                b'"' => Quote::Double,
                _ => Quote::Bracket,
            };
            vec![Name {
                text: content_start..content_end,
                quote,
            }]
        };
        return Some((names, content_end + 1));
    }
    if !is_word_byte(first) {
        return None;
    }
    let mut length = 0;
    while let Some(&byte) = bytes.get(start + length) {
        // `--` starts a SQL comment, even right after a name.
        let comment = byte == b'-' && bytes.get(start + length + 1) == Some(&b'-');
        if !(is_word_byte(byte) || byte == b'-') || comment {
            break;
        }
        length += 1;
    }
    // A name does not end with `-` (`a.b-` is `a.b` then a minus).
    let trimmed = text[start..start + length].trim_end_matches('-').len();
    Some((
        vec![Name {
            text: start..start + trimmed,
            quote: Quote::Bare,
        }],
        start + trimmed,
    ))
}

/// Every maximal path in `text` that stands on word boundaries.
pub(crate) fn paths(text: &str) -> Vec<Path> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let boundary_before = position == 0 || !is_blocking(bytes[position - 1]);
        let Some((mut names, mut end)) = boundary_before.then(|| part(text, position)).flatten()
        else {
            position += 1;
            continue;
        };
        loop {
            let separator = bytes.get(end).copied();
            let legacy = separator == Some(b':')
                && names.len() == 1
                && names[0].quote == Quote::Bare
                && bytes.get(end + 1).is_some_and(|&byte| is_word_byte(byte));
            if separator != Some(b'.') && !legacy {
                break;
            }
            match part(text, end + 1) {
                Some((more, next)) => {
                    names.extend(more);
                    end = next;
                }
                None => break,
            }
        }
        let boundary_after = bytes.get(end).is_none_or(|&byte| {
            let next = bytes.get(end + 1).copied();
            let continues = byte == b'.' && next.is_some_and(is_word_byte);
            let comment = byte == b'-' && next == Some(b'-');
            comment
                || !(continues || is_word_byte(byte) || matches!(byte, b'-' | b'/' | b'\\' | b'@'))
        });
        if boundary_before && boundary_after {
            found.push(Path {
                names,
                span: position..end,
            });
        }
        position = end.max(position + 1);
    }
    found
}

/// How a path refers to the old table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableMatch {
    /// Index of the dataset name in the path.
    pub(crate) dataset: usize,
    /// Names after the table name (1 for `sales.orders.cust_id`).
    pub(crate) trailing: usize,
    /// Some name differs from the spec only in case.
    pub(crate) case_differs: bool,
    /// The spec names a project but the path does not.
    pub(crate) project_missing: bool,
}

/// How a name compares with a spec's name.
fn compare(text: &str, name: &Name, expected: &str) -> Option<bool> {
    let actual = &text[name.text.clone()];
    if actual == expected {
        Some(false)
    } else if !matches!(name.quote, Quote::Double | Quote::SharedDouble)
        && actual.eq_ignore_ascii_case(expected)
    {
        Some(true)
    } else {
        None
    }
}

/// Whether `path` refers to `table` (and perhaps one of its columns).
pub(crate) fn match_table(text: &str, path: &Path, table: &TableName) -> Option<TableMatch> {
    let names = &path.names;
    for dataset in 0..names.len().saturating_sub(1).min(2) {
        let (Some(dataset_case), Some(table_case)) = (
            compare(text, &names[dataset], &table.dataset),
            compare(text, &names[dataset + 1], &table.table),
        ) else {
            continue;
        };
        let mut case_differs = dataset_case || table_case;
        let mut project_missing = false;
        if dataset == 1 {
            if let Some(project) = &table.project {
                match compare(text, &names[0], project) {
                    Some(differs) => case_differs |= differs,
                    None => continue,
                }
            }
        } else {
            project_missing = table.project.is_some();
        }
        return Some(TableMatch {
            dataset,
            trailing: names.len() - dataset - 2,
            case_differs,
            project_missing,
        });
    }
    None
}

/// `name` in the case style of `like`: upper case when `like` is.
pub(crate) fn in_case_of(name: &str, like: &str) -> String {
    let has_letters = like.chars().any(|c| c.is_ascii_alphabetic());
    if has_letters && !like.chars().any(|c| c.is_ascii_lowercase()) {
        name.to_ascii_uppercase()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<Vec<&str>> {
        paths(text)
            .iter()
            .map(|path| {
                path.names
                    .iter()
                    .map(|name| &text[name.text.clone()])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn paths_take_every_quoting_form() {
        assert_eq!(
            names(
                "FROM sales.orders o JOIN `p.sales.orders`, `sales`.`orders`, \"sales\".\"orders\", p:sales.orders, [p:sales.orders]"
            ),
            vec![
                vec!["FROM"],
                vec!["sales", "orders"],
                vec!["o"],
                vec!["JOIN"],
                vec!["p", "sales", "orders"],
                vec!["sales", "orders"],
                vec!["sales", "orders"],
                vec!["p", "sales", "orders"],
                vec!["p", "sales", "orders"],
            ]
        );
    }

    #[test]
    fn paths_stop_at_word_boundaries_and_skip_file_paths() {
        assert_eq!(names("presales.orders"), vec![vec!["presales", "orders"]]);
        assert_eq!(
            names("sales.orders_archive."),
            vec![vec!["sales", "orders_archive"]]
        );
        assert!(
            names("gs://b/sales.orders")
                .iter()
                .all(|path| path != &vec!["sales", "orders"])
        );
        assert_eq!(names("a::int"), vec![vec!["a"]]);
        assert_eq!(names("x-sales.orders"), vec![vec!["x-sales", "orders"]]);
        assert_eq!(
            names("FROM sales.orders-- main"),
            vec![vec!["FROM"], vec!["sales", "orders"], vec!["main"]]
        );
        assert_eq!(
            names("{\"table\": \"sales.orders\"}"),
            vec![vec!["table"], vec!["sales", "orders"]]
        );
    }

    #[test]
    fn tables_match_with_projects_columns_and_case() {
        let table = TableName::parse("sales.orders").expect("valid");
        let check = |text: &str| {
            let found = paths(text);
            match_table(text, &found[0], &table)
        };
        assert_eq!(check("sales.orders").map(|found| found.dataset), Some(0));
        assert_eq!(
            check("my-proj.sales.orders").map(|found| found.dataset),
            Some(1)
        );
        assert_eq!(
            check("sales.orders.cust_id").map(|found| found.trailing),
            Some(1)
        );
        assert!(check("SALES.ORDERS").is_some_and(|found| found.case_differs));
        assert_eq!(check("\"SALES\".\"ORDERS\""), None);
        assert_eq!(check("sales.orders2"), None);
        assert_eq!(check("a.b.sales.orders"), None);
        let qualified = TableName::parse("p.sales.orders").expect("valid");
        let text = "q.sales.orders";
        assert_eq!(match_table(text, &paths(text)[0], &qualified), None);
        let text = "sales.orders";
        assert!(
            match_table(text, &paths(text)[0], &qualified)
                .is_some_and(|found| found.project_missing)
        );
    }
}
