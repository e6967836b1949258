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
    let lower = skip_leading_comments(text).to_ascii_lowercase();
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

/// `text` after leading whitespace, `(` and SQL comments.
fn skip_leading_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
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
        } else if rest[0] == b'$'
            && previous.is_some_and(is_word)
            && rest.get(1).is_some_and(|&byte| is_word(byte))
        {
            // `v$session` is one name (Oracle); the grammar has no `$` in
            // names and would open a dollar quote.
            bytes[position] = b'_';
            position += 1;
            continue;
        } else if rest[0] == b'$'
            && let Some(length) = mask_dollar_quoted(rest, &mut bytes[position..])
        {
            position += length;
            continue;
        } else if rest[0] == b'`' || rest[0] == b'[' {
            // Skip the whole quoted name: its closing quote opens nothing.
            position += mask_quoted_path(rest, &mut bytes[position..]);
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
    dialect_syntax(&mut bytes);
    hide_dollar_tags(&mut bytes);
    // Every masked range starts and ends at ASCII bytes and is replaced
    // whole by ASCII, so the bytes stay UTF-8 and this cannot fail.
    let masked = String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned());
    (masked, protected)
}

/// Dialect syntax the grammar lacks, rewritten to syntax it has, keeping
/// every identifier where it is: `INTERVAL 1 DAY` (BigQuery, MySQL) becomes
/// `INTERVAL '     '`, `INSERT OVERWRITE [TABLE]` (Spark, Hive) becomes
/// `INSERT INTO …`, and `CREATE OR REPLACE` loses `OR REPLACE`.
fn dialect_syntax(bytes: &mut [u8]) {
    let words = word_ranges(bytes);
    let lower = |index: usize| -> Option<String> {
        let range = words.get(index)?;
        Some(String::from_utf8_lossy(&bytes[range.clone()]).to_ascii_lowercase())
    };
    let mut fills: Vec<(Range<usize>, &[u8])> = Vec::new();
    for index in 0..words.len() {
        match lower(index).as_deref() {
            Some("create")
                if lower(index + 1).as_deref() == Some("or")
                    && lower(index + 2).as_deref() == Some("replace") =>
            {
                fills.push((words[index + 1].start..words[index + 2].end, b""));
            }
            Some("insert") if lower(index + 1).as_deref() == Some("overwrite") => {
                let end = if lower(index + 2).as_deref() == Some("table") {
                    words[index + 2].end
                } else {
                    words[index + 1].end
                };
                fills.push((words[index + 1].start..end, b"into"));
            }
            Some("interval") => {
                if let Some(range) = interval_amount(bytes, words[index].end) {
                    fills.push((range, b"''"));
                }
            }
            _ => {}
        }
    }
    for (range, text) in fills {
        let field = &mut bytes[range];
        field.fill(b' ');
        match text {
            b"''" => {
                field[0] = b'\'';
                let last = field.len() - 1;
                field[last] = b'\'';
            }
            _ => field[..text.len()].copy_from_slice(text),
        }
    }
}

/// The ranges of the words of a text.
fn word_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        if is_word(bytes[position]) {
            let start = position;
            while position < bytes.len() && is_word(bytes[position]) {
                position += 1;
            }
            words.push(start..position);
        } else {
            position += 1;
        }
    }
    words
}

const UNITS: [&str; 10] = [
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "microsecond",
];

/// After `INTERVAL`: the range of `<amount> <unit>` when the amount is a
/// number, placeholder or parameter and the unit a date part.
fn interval_amount(bytes: &[u8], after: usize) -> Option<Range<usize>> {
    let skip_spaces = |mut position: usize| {
        while bytes.get(position).is_some_and(u8::is_ascii_whitespace) {
            position += 1;
        }
        position
    };
    let start = skip_spaces(after);
    let mut end = start;
    if matches!(bytes.get(end), Some(b'-' | b'+' | b'@' | b'$' | b'?')) {
        end += 1;
    }
    while bytes.get(end).is_some_and(|&byte| is_word(byte)) {
        end += 1;
    }
    let amount = &bytes[start..end];
    // A number, a placeholder (only underscores) or a parameter; not a
    // column such as `INTERVAL ship_days DAY`, which must stay visible.
    let digits = amount
        .strip_prefix(b"-")
        .or_else(|| amount.strip_prefix(b"+"))
        .unwrap_or(amount);
    let number = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    let placeholder = amount.iter().all(|&byte| byte == b'_');
    let parameter = matches!(amount.first(), Some(b'@' | b'$' | b'?'));
    if end == start || !(number || placeholder || parameter) {
        return None;
    }
    let unit_start = skip_spaces(end);
    if unit_start == end {
        return None;
    }
    let mut unit_end = unit_start;
    while bytes.get(unit_end).is_some_and(|&byte| is_word(byte)) {
        unit_end += 1;
    }
    let unit = String::from_utf8_lossy(&bytes[unit_start..unit_end]).to_ascii_lowercase();
    let singular = unit.strip_suffix('s').unwrap_or(&unit);
    UNITS.contains(&singular).then_some(start..unit_end)
}

/// `LIMIT ___`, `LIMIT @n`: a placeholder or parameter where the grammar
/// wants a number becomes one.
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
            // A placeholder (`___`), or a parameter: `?` (a masked `:name`
            // included), `@name` or `$1`.
            let rest = &bytes[next..];
            let token = match rest.first() {
                Some(b'_') => rest.iter().take_while(|&&byte| byte == b'_').count(),
                Some(b'?') => 1 + rest[1..].iter().take_while(|&&byte| byte == b' ').count(),
                Some(b'@' | b'$') => {
                    1 + rest[1..].iter().take_while(|&&byte| is_word(byte)).count()
                }
                _ => 0,
            };
            let end = next + token;
            let whole = token > 0 && !bytes.get(end).is_some_and(|&byte| is_word(byte));
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
    let mut in_string = false;
    let mut in_comment = false;
    for (position, &byte) in bytes.iter().enumerate() {
        let previous = position.checked_sub(1).map(|index| bytes[index]);
        // Parameters are not inside 'string literals' or -- comments.
        if in_comment {
            in_comment = byte != b'\n';
            continue;
        }
        if byte == b'\'' {
            in_string = !in_string;
        }
        if in_string {
            continue;
        }
        if byte == b'-' && bytes.get(position + 1) == Some(&b'-') {
            in_comment = true;
            continue;
        }
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

/// A PostgreSQL dollar-quoted string (`$$…$$`, `$body$…$body$`) becomes an
/// ordinary quoted string of the same length (the body is a string either
/// way, and the grammar's scanner for dollar quotes leaks memory). Returns
/// how far to skip, or `None` when no complete dollar quote starts here;
/// [`hide_dollar_tags`] hides whatever `$` is left.
fn mask_dollar_quoted(rest: &[u8], bytes: &mut [u8]) -> Option<usize> {
    // `$1` is a parameter.
    if rest.get(1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // The grammar's scanner takes any non-space characters between `$`s.
    let tag_length = 1 + rest[1..]
        .iter()
        .take_while(|&&byte| byte != b'$' && !byte.is_ascii_whitespace())
        .count();
    let tag = rest.get(..=tag_length).filter(|tag| tag.ends_with(b"$"));
    let body = tag.and_then(|tag| {
        let body_length = rest[tag.len()..]
            .windows(tag.len())
            .position(|window| window == tag)?;
        Some((tag.len(), body_length))
    });
    let (tag_length, body_length) = body?;
    let end = 2 * tag_length + body_length;
    for (index, byte) in bytes[..end].iter_mut().enumerate() {
        let in_body = (tag_length..tag_length + body_length).contains(&index);
        if !in_body || matches!(*byte, b'\'' | b'\\') {
            *byte = b' ';
        }
    }
    bytes[0] = b'\'';
    bytes[end - 1] = b'\'';
    Some(end)
}

/// Hides every `$` left that the grammar's scanner could take as the
/// start or end of a dollar-quote tag (inside a string literal or a
/// backquoted name masking kept, too): only a parameter, `$` and digits not
/// followed by another `$`, stays. (The scanner leaks the memory of every
/// tag it reads.)
fn hide_dollar_tags(bytes: &mut [u8]) {
    let mut position = 0;
    while position < bytes.len() {
        if bytes[position] == b'$' {
            let digits = bytes[position + 1..]
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
            let after = bytes.get(position + 1 + digits);
            if digits > 0 && after != Some(&b'$') {
                position += 1 + digits;
                continue;
            }
            bytes[position] = b' ';
        }
        position += 1;
    }
}

/// Makes a backquoted name (or BigQuery legacy SQL's `[proj:ds.table]`)
/// with `.`, `:`, `-` or spaces inside parse as a plain dotted name of the
/// same length. Returns how far to skip.
fn mask_quoted_path(rest: &[u8], bytes: &mut [u8]) -> usize {
    let closing = if rest[0] == b'[' { b']' } else { b'`' };
    let Some(length) = rest[1..]
        .iter()
        .position(|&byte| byte == closing || byte == b'\n')
    else {
        return 1;
    };
    if rest.get(1 + length) != Some(&closing) {
        return 1;
    }
    let inside = &rest[1..1 + length];
    let is_name = inside
        .iter()
        .all(|&byte| is_word(byte) || matches!(byte, b'.' | b':' | b'-' | b' ' | b'$'));
    let needs_mask = inside
        .iter()
        .any(|byte| matches!(byte, b'.' | b':' | b'-' | b' '));
    if !is_name || !needs_mask {
        // A plain backquoted name parses as it is; brackets may be an array.
        return if closing == b'`' { length + 2 } else { 1 };
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
        assert!(looks_like_sql(
            "\n  -- gold customers\n  /* note */ SELECT a FROM t"
        ));
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
        assert_eq!(mask("SELECT $$ open").0, "SELECT    open");
        assert_eq!(
            mask("VALUES ($1, $2, v$x, $a)").0,
            "VALUES ($1, $2, v_x,  a)"
        );
        assert_eq!(
            mask("SELECT $fn$ it's $1 $fn$, $$x$$, $2").0,
            "SELECT '    it s $1    ', ' x ', $2"
        );
        assert_eq!(
            mask("SELECT 'a$$b', `c$d$`, $1$, \"$x$\"").0,
            "SELECT 'a  b', `c d `,  1 , \" x \""
        );
        assert_eq!(mask("FROM `a-b`.`s`.`t` x").0, "FROM _a_b_.`s`.`t` x");
        assert_eq!(
            mask("FROM [p-1:s.t] x WHERE a[1, 2]").0,
            "FROM _p_1.s.t_ x WHERE a[1, 2]"
        );
        assert!(mask("SELECT a FROM t LIMIT ___").0.ends_with("LIMIT 1  "));
        assert_eq!(
            mask("INSERT OVERWRITE TABLE t SELECT a FROM s WHERE d > NOW() - INTERVAL 7 DAYS").0,
            "INSERT into            t SELECT a FROM s WHERE d > NOW() - INTERVAL '    '"
        );
        assert_eq!(
            mask("CREATE OR REPLACE VIEW v AS SELECT 1").0,
            "CREATE            VIEW v AS SELECT 1"
        );
        for dialect in [
            "SELECT a FROM t WHERE b > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL @days DAY)",
            "INSERT OVERWRITE TABLE sales.orders SELECT * FROM s",
            "CREATE OR REPLACE TABLE x AS SELECT a FROM t",
        ] {
            assert!(
                !parse(dialect).expect("parses").tree.root_node().has_error(),
                "{dialect}"
            );
        }
        assert!(
            mask("SELECT a FROM t LIMIT @limit OFFSET ?")
                .0
                .ends_with("LIMIT 1      OFFSET 1")
        );
        assert_eq!(
            parameters("WHERE a = :a AND b = %(b)s AND c = @C AND d::int = 1 AND t = '12:30 @x'"),
            vec!["a", "b", "c"]
        );
        assert_eq!(
            mask("SELECT DATE_ADD(d, INTERVAL ship_days DAY)").0,
            "SELECT DATE_ADD(d, INTERVAL ship_days DAY)"
        );
    }
}
