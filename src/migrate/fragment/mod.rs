//! Text embedded in code: string literals decoded into one analysis text
//! with a map back to the source.
//!
//! A [`Fragment`] is what a reader of the code sees as one string: a single
//! literal, Python's implicitly concatenated literals, or a `+` chain of
//! literals and expressions (common for SQL in Java). Escapes are decoded,
//! so `\"sales\"` reads as `"sales"`; an f-string interpolation or a
//! non-literal operand becomes a placeholder of underscores. Each piece of
//! the text remembers its source: only *verbatim* pieces (copied unchanged
//! from the source) can be edited, so an edit never splits an escape or
//! touches code. A `.sql` file is one verbatim fragment.
//!
//! Python docstrings and byte strings are not fragments.

mod java;
mod python;

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use crate::lang::pre_order;

/// The text a placeholder stands for: it parses as a SQL identifier and
/// never equals a table or column name of a spec.
pub(crate) const PLACEHOLDER: &str = "___";

/// How a piece of the fragment's text relates to the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Copied unchanged from literal number `literal` of the fragment.
    Verbatim { literal: usize },
    /// A decoded escape sequence of literal number `literal`.
    Escape { literal: usize },
    /// An interpolation or a non-literal operand.
    Placeholder,
}

#[derive(Clone, Debug)]
pub(crate) struct Segment {
    pub(crate) text: Range<usize>,
    pub(crate) source: Range<usize>,
    pub(crate) piece: Piece,
}

/// How a literal is quoted, to encode inserted text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quoting {
    Python {
        quote: char,
        raw: bool,
        format: bool,
        /// Triple-quoted: a lone quote character needs no escape.
        triple: bool,
    },
    Java {
        text_block: bool,
    },
    /// A `.sql` file: no quoting.
    Bare,
}

/// One string as the code means it.
#[derive(Clone, Debug)]
pub(crate) struct Fragment {
    pub(crate) text: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) quotings: Vec<Quoting>,
    /// The source range of the whole expression.
    pub(crate) range: Range<usize>,
    /// The name of the function or method the string is passed to, if any.
    pub(crate) call: Option<String>,
}

impl Fragment {
    /// A single literal without interpolations: its text is its whole value.
    pub(crate) fn is_single_literal(&self) -> bool {
        self.quotings.len() == 1
            && !self
                .segments
                .iter()
                .any(|segment| segment.piece == Piece::Placeholder)
    }

    /// The segment holding text position `position` (the last one that
    /// ends there, for a position at a segment boundary).
    fn segment_at(&self, position: usize) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|segment| segment.text.start <= position && position < segment.text.end)
            .or_else(|| {
                self.segments
                    .iter()
                    .rev()
                    .find(|segment| segment.text.end == position)
            })
    }

    /// Where a text position is in the source: exact in a verbatim run,
    /// else the start of the escape or interpolation it falls in.
    pub(crate) fn source_offset(&self, position: usize) -> usize {
        self.segment_at(position)
            .map_or(self.range.start, |segment| {
                if matches!(segment.piece, Piece::Verbatim { .. }) {
                    segment.source.start + (position - segment.text.start).min(segment.source.len())
                } else {
                    segment.source.start
                }
            })
    }

    /// The source range of a text range that lies inside one verbatim
    /// segment, or `None` when it covers an escape, a placeholder or code.
    /// An empty range (an insertion) may also sit just before an escape.
    pub(crate) fn source_range(&self, text: &Range<usize>) -> Option<Range<usize>> {
        if text.is_empty()
            && let Some(escape) = self.segments.iter().find(|segment| {
                segment.text.start == text.start && matches!(segment.piece, Piece::Escape { .. })
            })
        {
            return Some(escape.source.start..escape.source.start);
        }
        let segment = self.segment_at(text.start)?;
        if !matches!(segment.piece, Piece::Verbatim { .. }) || text.end > segment.text.end {
            return None;
        }
        let start = segment.source.start + (text.start - segment.text.start);
        Some(start..start + text.len())
    }

    /// Whether any part of a text range is a placeholder.
    pub(crate) fn touches_placeholder(&self, text: &Range<usize>) -> bool {
        self.segments.iter().any(|segment| {
            segment.piece == Piece::Placeholder
                && segment.text.start < text.end.max(text.start + 1)
                && text.start < segment.text.end
        })
    }

    /// `replacement` encoded for the literal at text position `position`,
    /// or `None` when that literal cannot hold it (a raw string and its quote).
    pub(crate) fn encode(&self, position: usize, replacement: &str) -> Option<String> {
        let literal_of = |segment: &Segment| match segment.piece {
            Piece::Verbatim { literal } | Piece::Escape { literal } => Some(literal),
            Piece::Placeholder => None,
        };
        let inside = self
            .segments
            .iter()
            .find(|segment| segment.text.start <= position && position < segment.text.end);
        let literal = match inside {
            Some(segment) => literal_of(segment)?,
            None => self
                .segments
                .iter()
                .rev()
                .find(|segment| segment.text.end == position)
                .and_then(literal_of)?,
        };
        match self.quotings[literal] {
            Quoting::Bare => Some(replacement.to_owned()),
            Quoting::Java { text_block: false } => {
                Some(replacement.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Quoting::Java { text_block: true } => Some(
                replacement
                    .replace('\\', "\\\\")
                    .replace("\"\"\"", "\"\"\\\""),
            ),
            Quoting::Python {
                quote,
                raw,
                format,
                triple,
            } => {
                let delimiter: String =
                    std::iter::repeat_n(quote, if triple { 3 } else { 1 }).collect();
                if raw {
                    let fits =
                        !replacement.contains(delimiter.as_str()) && !replacement.contains('\\');
                    return fits.then(|| replacement.to_owned());
                }
                let mut encoded = replacement.replace('\\', "\\\\");
                if triple {
                    encoded = encoded.replace(&delimiter, &format!("\\{delimiter}"));
                } else {
                    encoded = encoded.replace(quote, &format!("\\{quote}"));
                }
                if format {
                    encoded = encoded.replace('{', "{{").replace('}', "}}");
                }
                Some(encoded)
            }
        }
    }
}

/// Builds a fragment piece by piece.
#[derive(Default)]
struct Builder {
    text: String,
    segments: Vec<Segment>,
    quotings: Vec<Quoting>,
}

impl Builder {
    fn push(&mut self, text: &str, source: Range<usize>, piece: Piece) {
        if text.is_empty() && piece != Piece::Placeholder {
            return;
        }
        // A placeholder never glues to a word: `___ORDER` would hide `ORDER`.
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let after_placeholder = self
            .segments
            .last()
            .is_some_and(|last| last.piece == Piece::Placeholder);
        let before_placeholder = piece == Piece::Placeholder;
        let glues = (after_placeholder && text.starts_with(is_word))
            || (before_placeholder && self.text.ends_with(is_word));
        if glues && let Some(last) = self.segments.last_mut() {
            self.text.push(' ');
            if last.piece == Piece::Placeholder {
                last.text.end += 1;
            } else {
                let at = last.source.end;
                self.segments.push(Segment {
                    text: self.text.len() - 1..self.text.len(),
                    source: at..at,
                    piece: Piece::Placeholder,
                });
            }
        }
        let start = self.text.len();
        self.text.push_str(text);
        // Merge adjacent verbatim runs of one literal.
        if let (Piece::Verbatim { .. }, Some(last)) = (piece, self.segments.last_mut())
            && last.piece == piece
            && last.text.end == start
            && last.source.end == source.start
        {
            last.text.end = self.text.len();
            last.source.end = source.end;
            return;
        }
        self.segments.push(Segment {
            text: start..self.text.len(),
            source,
            piece,
        });
    }

    fn verbatim(&mut self, source_text: &str, range: Range<usize>) {
        let literal = self.quotings.len() - 1;
        self.push(
            &source_text[range.clone()],
            range,
            Piece::Verbatim { literal },
        );
    }

    /// Appends the text of `range`, decoding the escapes that `escape`
    /// finds (it gets the rest of the text and says how long the escape is
    /// and what it means).
    fn decode(
        &mut self,
        source: &str,
        range: Range<usize>,
        escape: impl Fn(&str) -> Option<(usize, String)>,
    ) {
        let mut run = range.start;
        let mut position = range.start;
        while position < range.end {
            match escape(&source[position..range.end]) {
                Some((length, decoded)) => {
                    self.verbatim(source, run..position);
                    let literal = self.quotings.len() - 1;
                    self.push(
                        &decoded,
                        position..position + length,
                        Piece::Escape { literal },
                    );
                    position += length;
                    run = position;
                }
                None => {
                    position += source[position..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        self.verbatim(source, run..range.end);
    }

    fn placeholder(&mut self, range: Range<usize>) {
        self.push(PLACEHOLDER, range, Piece::Placeholder);
    }

    fn finish(self, range: Range<usize>, call: Option<String>) -> Option<Fragment> {
        (!self.quotings.is_empty()).then_some(Fragment {
            text: self.text,
            segments: self.segments,
            quotings: self.quotings,
            range,
            call,
        })
    }
}

/// A `.sql` file as one fragment.
pub(crate) fn sql_file(source: &str) -> Fragment {
    let mut builder = Builder::default();
    builder.quotings.push(Quoting::Bare);
    builder.verbatim(source, 0..source.len());
    builder
        .finish(0..source.len(), None)
        .unwrap_or_else(|| Fragment {
            text: String::new(),
            segments: Vec::new(),
            quotings: vec![Quoting::Bare],
            range: 0..0,
            call: None,
        })
}

/// Whether a node is a `+` of kind `kind` (a string concatenation when an
/// operand is a string).
fn is_plus(node: Node<'_>, kind: &str, source: &str) -> bool {
    node.kind() == kind
        && node
            .child_by_field_name("operator")
            .is_some_and(|operator| &source[operator.byte_range()] == "+")
}

fn flatten_plus<'t>(node: Node<'t>, kind: &str, source: &str, operands: &mut Vec<Node<'t>>) {
    if is_plus(node, kind, source) {
        if let Some(left) = node.child_by_field_name("left") {
            flatten_plus(left, kind, source, operands);
        }
        if let Some(right) = node.child_by_field_name("right") {
            flatten_plus(right, kind, source, operands);
        }
    } else {
        operands.push(node);
    }
}

/// The last name of the function or method `node` is an argument of:
/// `getLogger` for `logging.getLogger("x")` or `LoggerFactory.getLogger("x")`.
fn called(node: Node<'_>, source: &str) -> Option<String> {
    let arguments = node
        .parent()
        .filter(|parent| parent.kind() == "argument_list")?;
    let call = arguments.parent()?;
    let function = match call.kind() {
        "call" => call.child_by_field_name("function")?,
        "method_invocation" => call.child_by_field_name("name")?,
        _ => return None,
    };
    let text = &source[function.byte_range()];
    Some(text.rsplit('.').next().unwrap_or(text).to_owned())
}

/// The language-specific parts of fragment extraction.
trait Strings {
    const PLUS: &'static str;
    fn is_string(node: Node<'_>) -> bool;
    /// Appends a string node's decoded text; false when it is not text
    /// (a byte string).
    fn decode(node: Node<'_>, source: &str, builder: &mut Builder) -> bool;
    fn is_excluded(_node: Node<'_>) -> bool {
        false
    }
}

fn fragments<S: Strings>(root: Node<'_>, source: &str) -> Vec<Fragment> {
    let mut fragments = Vec::new();
    let mut taken: HashSet<usize> = HashSet::new();
    for node in pre_order(root) {
        if taken.contains(&node.id()) {
            continue;
        }
        let is_chain = is_plus(node, S::PLUS, source)
            && node
                .parent()
                .is_none_or(|parent| !is_plus(parent, S::PLUS, source));
        let operands = if is_chain {
            let mut operands = Vec::new();
            flatten_plus(node, S::PLUS, source, &mut operands);
            if !operands.iter().any(|operand| S::is_string(*operand)) {
                continue;
            }
            operands
        } else if S::is_string(node) && !S::is_excluded(node) {
            vec![node]
        } else {
            continue;
        };
        let mut builder = Builder::default();
        for operand in &operands {
            if S::is_string(*operand) {
                taken.insert(operand.id());
                if S::decode(*operand, source, &mut builder) {
                    continue;
                }
            }
            builder.placeholder(operand.byte_range());
        }
        if let Some(fragment) = builder.finish(node.byte_range(), called(node, source)) {
            fragments.push(fragment);
        }
    }
    fragments
}

/// The fragments of a Python file.
pub(crate) fn python(root: Node<'_>, source: &str) -> Vec<Fragment> {
    fragments::<python::Python>(root, source)
}

/// The fragments of a Java file.
pub(crate) fn java(root: Node<'_>, source: &str) -> Vec<Fragment> {
    fragments::<java::Java>(root, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{self, Language};

    fn extract(language: &str, source: &str) -> Vec<Fragment> {
        let language = Language::from_name(language).expect("language");
        let tree = lang::parse(language, source).expect("parses");
        match language.name() {
            "python" => python(tree.root_node(), source),
            _ => java(tree.root_node(), source),
        }
    }

    #[test]
    fn python_strings_are_decoded_and_joined() {
        let source = "\"\"\"Docstring sales.orders.\"\"\"\nq = (f\"SELECT {a!r} \\\"x\\\"\" 'FROM t' r\"\\d\")\nb = b'bytes'\nc = \"a\" + name + 'b'\n";
        let fragments = extract("python", source);
        let texts: Vec<&str> = fragments
            .iter()
            .map(|fragment| fragment.text.as_str())
            .collect();
        assert_eq!(texts, vec!["SELECT ___ \"x\"FROM t\\d", "a ___ b"]);
        let first = &fragments[0];
        // `FROM` is verbatim; the decoded quote is not.
        let from = first.text.find("FROM").expect("present");
        let range = first.source_range(&(from..from + 4)).expect("verbatim");
        assert_eq!(&source[range], "FROM");
        let quote = first.text.find('"').expect("present");
        assert_eq!(first.source_range(&(quote..quote + 1)), None);
        assert!(!first.is_single_literal());
    }

    #[test]
    fn java_literals_text_blocks_and_chains() {
        let source = "class A { String q = \"SELECT \\\"a\\\" \" + t + \"\"\"\n  FROM x \\\n  WHERE\"\"\"; String s = \"one\"; }";
        let fragments = extract("java", source);
        let texts: Vec<&str> = fragments
            .iter()
            .map(|fragment| fragment.text.as_str())
            .collect();
        assert_eq!(texts, vec!["SELECT \"a\" ___\n  FROM x   WHERE", "one"]);
        assert!(fragments[1].is_single_literal());
        assert_eq!(fragments[0].encode(0, "a\"b").as_deref(), Some("a\\\"b"));
    }

    #[test]
    fn non_ascii_text_keeps_its_characters() {
        let python = extract("python", "q = '׬ é \\n sales.orders'\n");
        assert_eq!(python[0].text, "׬ é \n sales.orders");
        let java = extract("java", "class A { String q = \"׬\\t sales.orders\"; }");
        assert_eq!(java[0].text, "׬\t sales.orders");
    }

    #[test]
    fn encoding_respects_python_quoting() {
        let fragments = extract("python", "a = r'x'\nb = f\"y\"\n");
        assert_eq!(fragments[0].encode(0, "it's").as_deref(), None);
        assert_eq!(fragments[1].encode(0, "{\"}").as_deref(), Some("{{\\\"}}"));
    }
}
