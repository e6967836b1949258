//! Java string literals and text blocks, with their escapes.

use tree_sitter::Node;

use super::{Builder, Quoting, Strings};

pub(super) struct Java;

/// A Java escape sequence at the start of `text` (which starts with `\`).
fn java_escape(text: &str) -> Option<(usize, String)> {
    let next = text[1..].chars().next()?;
    let simple = match next {
        'b' => Some("\u{8}"),
        't' => Some("\t"),
        'n' => Some("\n"),
        'f' => Some("\u{c}"),
        'r' => Some("\r"),
        's' => Some(" "),
        '"' => Some("\""),
        '\'' => Some("'"),
        '\\' => Some("\\"),
        '\n' => Some(""),
        _ => None,
    };
    if let Some(decoded) = simple {
        return Some((1 + next.len_utf8(), decoded.to_owned()));
    }
    match next {
        '\r' => Some((
            if text[2..].starts_with('\n') { 3 } else { 2 },
            String::new(),
        )),
        '0'..='7' => {
            let limit = if next <= '3' { 3 } else { 2 };
            let digits = text[1..]
                .chars()
                .take(limit)
                .take_while(|c| ('0'..='7').contains(c))
                .count();
            let value = u32::from_str_radix(&text[1..1 + digits], 8).ok()?;
            Some((1 + digits, char::from_u32(value)?.to_string()))
        }
        'u' => {
            let marks = text[1..].chars().take_while(|&c| c == 'u').count();
            let start = 1 + marks;
            let value = u32::from_str_radix(text.get(start..start + 4)?, 16).ok()?;
            Some((start + 4, char::from_u32(value)?.to_string()))
        }
        _ => None,
    }
}

impl Strings for Java {
    const PLUS: &'static str = "binary_expression";

    fn is_string(node: Node<'_>) -> bool {
        node.kind() == "string_literal"
    }

    fn decode(node: Node<'_>, source: &str, builder: &mut Builder) -> bool {
        let text = &source[node.byte_range()];
        let delimiter = if text.starts_with("\"\"\"") && text.len() >= 6 {
            3
        } else {
            1
        };
        if text.len() < 2 * delimiter {
            return false;
        }
        builder.quotings.push(Quoting::Java {
            text_block: delimiter == 3,
        });
        let range = node.start_byte() + delimiter..node.end_byte() - delimiter;
        builder.decode(source, range, |rest| {
            rest.starts_with('\\').then(|| java_escape(rest)).flatten()
        });
        true
    }
}
