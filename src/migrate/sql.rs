//! SQL text prepared for tree-sitter-sequel: recognising SQL in strings,
//! masking template syntax, and splitting a parse into statements.
//!
//! Masking keeps every byte offset: Jinja `{{ … }}` and format fields
//! `{name}`/`%s` become underscores (an identifier, so `FROM {table}` still
//! parses), Jinja `{% … %}`/`{# … #}` become spaces, `:name` parameters
//! become `?`, and a backquoted path such as `` `my-proj.sales.orders` ``
//! loses the characters the grammar rejects. Masked ranges are *protected*:
//! no edit may touch them.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use crate::lang::{self, Language};

/// SQL text masked for parsing, and its parse.
pub(crate) struct ParsedSql {
    pub(crate) tree: Tree,
    pub(crate) protected: Vec<Range<usize>>,
}

/// Statement keywords, each with words of which one must follow it, so
/// that prose starting with "update" or "with" is not taken for SQL.
const STATEMENTS: [(&str, &[&str]); 11] = [
    ("select", &["from"]),
    ("with", &["as"]),
    ("insert", &["into", "overwrite"]),
    ("update", &["set"]),
    ("delete", &["from"]),
    ("merge", &["using"]),
    ("create", &["table", "view", "as"]),
    ("replace", &["into", "table", "view"]),
    ("drop", &["table", "view"]),
    ("alter", &["table"]),
    ("truncate", &["table"]),
];

/// Whether a string holds a SQL statement: its first word is a statement
/// keyword and a word that such a statement needs follows.
pub(crate) fn looks_like_sql(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mut words = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty());
    let Some(first) = words.next() else {
        return false;
    };
    let start = lower.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    if !start.starts_with(first) {
        return false;
    }
    STATEMENTS
        .iter()
        .find(|(keyword, _)| *keyword == first)
        .is_some_and(|(_, needed)| words.any(|word| needed.contains(&word)))
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Masks template syntax for parsing; returns the masked text and the
/// protected ranges.
pub(crate) fn mask(text: &str) -> (String, Vec<Range<usize>>) {
    let mut bytes = text.as_bytes().to_vec();
    let mut protected = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let rest = &text.as_bytes()[position..];
        let previous = position.checked_sub(1).map(|index| bytes[index]);
        let found: Option<(usize, u8)> = if rest.starts_with(b"{{") {
            text[position..].find("}}").map(|end| (end + 2, b'_'))
        } else if rest.starts_with(b"{%") {
            text[position..].find("%}").map(|end| (end + 2, b' '))
        } else if rest.starts_with(b"{#") {
            text[position..].find("#}").map(|end| (end + 2, b' '))
        } else if rest[0] == b'{' {
            format_field(&text[position..]).map(|length| (length, b'_'))
        } else if rest[0] == b'%' && !previous.is_some_and(is_word) {
            printf_field(&text[position..]).map(|length| (length, b'_'))
        } else if rest[0] == b':'
            && !previous.is_some_and(|byte| is_word(byte) || byte == b':')
            && rest
                .get(1)
                .is_some_and(|&byte| byte.is_ascii_alphabetic() || byte == b'_')
        {
            let length = 1 + rest[1..].iter().take_while(|&&byte| is_word(byte)).count();
            bytes[position] = b'?';
            bytes[position + 1..position + length].fill(b' ');
            protected.push(position..position + length);
            position += length;
            continue;
        } else if rest[0] == b'`' {
            // Skip the whole quoted name: its closing quote opens nothing.
            position += mask_backquoted(rest, &mut bytes[position..]);
            continue;
        } else if rest[0] == b':'
            && previous.is_some_and(is_word)
            && rest.get(1).is_some_and(|&byte| is_word(byte))
        {
            // `proj:sales.orders`, BigQuery's legacy form.
            bytes[position] = b'.';
            None
        } else {
            None
        };
        match found {
            Some((length, fill)) => {
                for byte in &mut bytes[position..position + length] {
                    if !(fill == b' ' && *byte == b'\n') {
                        *byte = fill;
                    }
                }
                protected.push(position..position + length);
                position += length;
            }
            None => position += 1,
        }
    }
    numeric_placeholders(&mut bytes);
    // Only ASCII bytes replaced whole characters, so this cannot fail.
    let masked = String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned());
    (masked, protected)
}

/// `LIMIT ___`: a placeholder where the grammar wants a number becomes one.
fn numeric_placeholders(bytes: &mut [u8]) {
    let mut position = 0;
    while position < bytes.len() {
        let word_start = position;
        while position < bytes.len() && is_word(bytes[position]) {
            position += 1;
        }
        let word = &bytes[word_start..position];
        let wants_number = ["limit", "offset", "top"]
            .iter()
            .any(|keyword| word.eq_ignore_ascii_case(keyword.as_bytes()));
        if wants_number {
            let mut next = position;
            while next < bytes.len() && bytes[next].is_ascii_whitespace() {
                next += 1;
            }
            let end = next
                + bytes[next..]
                    .iter()
                    .take_while(|&&byte| byte == b'_')
                    .count();
            let whole = end > next && !bytes.get(end).is_some_and(|&byte| is_word(byte));
            if whole {
                bytes[next] = b'1';
                bytes[next + 1..end].fill(b' ');
            }
        }
        position = position.max(word_start + 1);
    }
}

/// The names of the bind parameters (`:name`, `%(name)s`, `@name`) in SQL
/// text, lower case.
pub(crate) fn parameters(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    for (position, &byte) in bytes.iter().enumerate() {
        let previous = position.checked_sub(1).map(|index| bytes[index]);
        let start = match byte {
            b':' | b'@'
                if !previous.is_some_and(|previous| is_word(previous) || previous == b':') =>
            {
                position + 1
            }
            b'%' if bytes.get(position + 1) == Some(&b'(') => position + 2,
            _ => continue,
        };
        let length = bytes[start..]
            .iter()
            .take_while(|&&next| is_word(next))
            .count();
        if length > 0 && !bytes[start].is_ascii_digit() {
            names.push(text[start..start + length].to_ascii_lowercase());
        }
    }
    names
}

/// The length of a `str.format` field (`{}`, `{0}`, `{name!r:>10}`) at the
/// start of `text`.
fn format_field(text: &str) -> Option<usize> {
    let end = text.find('}')?;
    let inside = &text[1..end];
    let (field, _) = inside.split_once(':').unwrap_or((inside, ""));
    let field = field
        .strip_suffix("!r")
        .or_else(|| field.strip_suffix("!s"))
        .unwrap_or(field);
    let valid = !inside.contains(['{', '\n'])
        && field
            .bytes()
            .all(|byte| is_word(byte) || matches!(byte, b'.' | b'[' | b']'));
    valid.then_some(end + 1)
}

/// The length of a printf-style field (`%s`, `%d`, `%(name)s`) at the start
/// of `text`.
fn printf_field(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(1) == Some(&b'(') {
        let close = text.find(')')?;
        let name = &text[2..close];
        let conversion = *bytes.get(close + 1)?;
        return (name.bytes().all(is_word) && conversion.is_ascii_alphabetic())
            .then_some(close + 2);
    }
    let conversion = *bytes.get(1)?;
    let valid = matches!(conversion, b's' | b'd' | b'i' | b'f' | b'r')
        && !bytes.get(2).is_some_and(|&byte| is_word(byte));
    valid.then_some(2)
}

/// Makes a backquoted name with `.`, `:`, `-` or spaces inside parse as a
/// plain dotted name of the same length. Returns how far to skip.
fn mask_backquoted(rest: &[u8], bytes: &mut [u8]) -> usize {
    let Some(length) = rest[1..]
        .iter()
        .position(|&byte| byte == b'`' || byte == b'\n')
    else {
        return 1;
    };
    if rest.get(1 + length) != Some(&b'`') {
        return 1;
    }
    let inside = &rest[1..1 + length];
    if !inside
        .iter()
        .any(|byte| matches!(byte, b'.' | b':' | b'-' | b' '))
    {
        return length + 2;
    }
    bytes[0] = b'_';
    bytes[1 + length] = b'_';
    for byte in &mut bytes[1..1 + length] {
        *byte = match *byte {
            b':' => b'.',
            b'-' | b' ' => b'_',
            other => other,
        };
    }
    length + 2
}

/// Masks and parses SQL text.
pub(crate) fn parse(text: &str) -> Option<ParsedSql> {
    let (masked, protected) = mask(text);
    let sql = Language::from_name("sql")?;
    let tree = lang::parse(sql, &masked)?;
    Some(ParsedSql { tree, protected })
}

/// The statements of a parse, each with whether it parsed cleanly.
pub(crate) fn statements(root: Node<'_>) -> Vec<(Node<'_>, bool)> {
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .filter(|child| !is_comment(*child))
        .map(|child| (child, !child.has_error()))
        .collect()
}

pub(crate) fn is_comment(node: Node<'_>) -> bool {
    matches!(node.kind(), "comment" | "marginalia")
}

/// The byte ranges of the comments under `node`.
pub(crate) fn comments(node: Node<'_>) -> Vec<Range<usize>> {
    lang::pre_order(node)
        .filter(|node| is_comment(*node))
        .map(|node| node.byte_range())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_recognised_by_its_first_keyword() {
        assert!(looks_like_sql("  SELECT a FROM t"));
        assert!(looks_like_sql("(select a from t)"));
        assert!(looks_like_sql("with x as (select 1) select * from x"));
        assert!(looks_like_sql("UPDATE t SET a = 1"));
        assert!(!looks_like_sql("update failed for sales.orders"));
        assert!(!looks_like_sql("Select a table"));
        assert!(!looks_like_sql("sales.orders"));
    }

    #[test]
    fn masking_keeps_offsets_and_protects_templates() {
        let text = "SELECT a FROM {{ ref('x') }} WHERE b = :b AND c = %s AND d = {day} {% if x %}AND e = %(e)s{% endif %} AND f = `p-1.s.t`.g AND h::int = 1";
        let (masked, protected) = mask(text);
        assert_eq!(masked.len(), text.len());
        assert!(masked.contains("FROM ______________ WHERE b = ?  AND c = __ AND d = _____"));
        assert!(masked.contains("_p_1.s.t_.g AND h::int"));
        assert_eq!(protected.len(), 7);
        let parsed = parse(text).expect("parses");
        assert!(!parsed.tree.root_node().has_error(), "{masked}");
        assert!(mask("SELECT * FROM p:s.t").0.ends_with("FROM p.s.t"));
        assert_eq!(mask("FROM `a-b`.`s`.`t` x").0, "FROM _a_b_.`s`.`t` x");
        assert!(mask("SELECT a FROM t LIMIT ___").0.ends_with("LIMIT 1  "));
        assert_eq!(
            parameters("WHERE a = :a AND b = %(b)s AND c = @C AND d::int = 1 AND t = '12:30'"),
            vec!["a", "b", "c"]
        );
    }
}
