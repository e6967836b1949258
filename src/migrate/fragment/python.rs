//! Python string literals: prefixes (`r`, `f`, `b`), escapes, f-string
//! interpolations and `{{`/`}}`, implicit concatenation and docstrings.

use std::ops::Range;

use tree_sitter::Node;

use super::{Builder, Quoting, Strings};

pub(super) struct Python;

impl Python {
    /// Whether a string is a docstring: the first statement of a module,
    /// class or function body.
    fn is_docstring(node: Node<'_>) -> bool {
        let Some(statement) = node
            .parent()
            .filter(|parent| parent.kind() == "expression_statement")
        else {
            return false;
        };
        if statement.named_child_count() != 1 {
            return false;
        }
        let Some(body) = statement.parent() else {
            return false;
        };
        let is_body = match body.kind() {
            "module" => true,
            "block" => body.parent().is_some_and(|owner| {
                matches!(owner.kind(), "function_definition" | "class_definition")
            }),
            _ => false,
        };
        let mut cursor = body.walk();
        let first = body
            .named_children(&mut cursor)
            .find(|child| child.kind() != "comment");
        is_body && first.is_some_and(|first| first.id() == statement.id())
    }

    /// Decodes the text between interpolations of a string.
    fn decode_text(
        source: &str,
        range: Range<usize>,
        raw: bool,
        format: bool,
        builder: &mut Builder,
    ) {
        builder.decode(source, range, |rest| {
            let bytes = rest.as_bytes();
            match bytes.first() {
                Some(b'\\') if !raw => python_escape(rest),
                Some(&byte @ (b'{' | b'}')) if format && bytes.get(1) == Some(&byte) => {
                    Some((2, char::from(byte).to_string()))
                }
                _ => None,
            }
        });
    }
}

/// A Python escape sequence at the start of `text` (which starts with `\`):
/// its length and decoded text. Unknown escapes stay as written.
fn python_escape(text: &str) -> Option<(usize, String)> {
    let mut characters = text.char_indices().skip(1);
    let (_, next) = characters.next()?;
    let simple = match next {
        '\n' => Some(""),
        '\\' => Some("\\"),
        '\'' => Some("'"),
        '"' => Some("\""),
        'a' => Some("\u{7}"),
        'b' => Some("\u{8}"),
        'f' => Some("\u{c}"),
        'n' => Some("\n"),
        'r' => Some("\r"),
        't' => Some("\t"),
        'v' => Some("\u{b}"),
        _ => None,
    };
    if let Some(decoded) = simple {
        return Some((1 + next.len_utf8(), decoded.to_owned()));
    }
    if next == '\r' {
        let length = if text[2..].starts_with('\n') { 3 } else { 2 };
        return Some((length, String::new()));
    }
    let hex = |digits: usize| -> Option<(usize, String)> {
        let code = text.get(2..2 + digits)?;
        let value = u32::from_str_radix(code, 16).ok()?;
        Some((2 + digits, char::from_u32(value)?.to_string()))
    };
    match next {
        'x' => hex(2),
        'u' => hex(4),
        'U' => hex(8),
        'N' => {
            let end = text.find('}')?;
            // The named character is unknown here; it is not an identifier.
            Some((end + 1, "\u{fffd}".to_owned()))
        }
        '0'..='7' => {
            let digits = text[1..]
                .chars()
                .take(3)
                .take_while(|c| ('0'..='7').contains(c))
                .count();
            let value = u32::from_str_radix(&text[1..1 + digits], 8).ok()?;
            Some((1 + digits, char::from_u32(value)?.to_string()))
        }
        _ => None,
    }
}

impl Strings for Python {
    const PLUS: &'static str = "binary_operator";

    fn is_string(node: Node<'_>) -> bool {
        matches!(node.kind(), "string" | "concatenated_string")
    }

    fn is_excluded(node: Node<'_>) -> bool {
        // Parts of a concatenation are taken with it.
        node.parent()
            .is_some_and(|parent| parent.kind() == "concatenated_string")
            || Self::is_docstring(node)
    }

    fn decode(node: Node<'_>, source: &str, builder: &mut Builder) -> bool {
        if node.kind() == "concatenated_string" {
            let mut cursor = node.walk();
            let parts: Vec<Node<'_>> = node
                .named_children(&mut cursor)
                .filter(|part| part.kind() == "string")
                .collect();
            let mut any = false;
            for part in parts {
                if Self::decode(part, source, builder) {
                    any = true;
                } else {
                    builder.placeholder(part.byte_range());
                }
            }
            return any;
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        let (Some(start), Some(end)) = (
            children.iter().find(|child| child.kind() == "string_start"),
            children
                .iter()
                .rev()
                .find(|child| child.kind() == "string_end"),
        ) else {
            return false;
        };
        let opening = &source[start.byte_range()];
        let prefix: String = opening
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if prefix.contains('b') {
            return false;
        }
        let raw = prefix.contains('r');
        let format = prefix.contains('f') || prefix.contains('t');
        let quotes = &opening[prefix.len()..];
        let quote = quotes.chars().next().unwrap_or('"');
        builder.quotings.push(Quoting::Python {
            quote,
            raw,
            format,
            triple: quotes.len() == 3,
        });
        let mut position = start.end_byte();
        for interpolation in children
            .iter()
            .filter(|child| child.kind() == "interpolation")
        {
            Self::decode_text(
                source,
                position..interpolation.start_byte(),
                raw,
                format,
                builder,
            );
            builder.placeholder(interpolation.byte_range());
            position = interpolation.end_byte();
        }
        Self::decode_text(source, position..end.start_byte(), raw, format, builder);
        true
    }
}
