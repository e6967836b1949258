//! Raw tree-sitter queries as an atomic rule (`query:`), a fleetmod addition.
//!
//! A query matches a node when one of its patterns matches *rooted at* that
//! node. The root of a pattern is the node captured as `@match` if the
//! pattern has such a capture, and otherwise its outermost node (for a
//! grouping such as `((identifier) @x (#eq? @x "f"))`, the first node of the
//! group). fleetmod marks that root with a hidden capture, so the query is
//! compiled twice: once as written, so that syntax errors point at the
//! author's text, and once instrumented.
//!
//! Every other capture `@NAME` becomes the metavariable `$NAME`; a quantified
//! capture (`@NAME*`, `@NAME+`) becomes the list metavariable `$$$NAME`.

use tree_sitter::{Query, QueryErrorKind};

use super::kinds::KindSet;
use crate::lang::Language;

/// The hidden capture that marks the root of each pattern.
pub const ROOT_CAPTURE: &str = "__fleetmod_root";

/// A compiled `query:` rule.
pub struct QueryMatcher {
    pub query: Query,
    /// Index of [`ROOT_CAPTURE`] in the query's capture names.
    pub root_capture: u32,
    /// The instrumented source, reused by the combined candidate query.
    pub instrumented: String,
    /// Node kinds the roots can have, when every pattern's root is a named
    /// node of a known kind.
    pub kinds: Option<KindSet>,
}

/// A query that does not compile: a message and the character offset of the
/// problem in the query text.
#[derive(Debug, PartialEq, Eq)]
pub struct QueryError {
    pub char_offset: usize,
    pub message: String,
}

impl std::fmt::Debug for QueryMatcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.instrumented)
    }
}

pub fn compile(language: Language, text: &str) -> Result<QueryMatcher, QueryError> {
    if let Err(error) = Query::new(language.grammar(), text) {
        let char_offset = text[..error.offset.min(text.len())].chars().count();
        let name = error.message.trim_matches('"');
        let message = match error.kind {
            QueryErrorKind::NodeType => format!("unknown node kind `{name}` in query"),
            QueryErrorKind::Field => format!("unknown field `{name}` in query"),
            QueryErrorKind::Capture => format!("unknown capture `@{name}` in query"),
            QueryErrorKind::Predicate => format!("invalid predicate in query: {}", error.message),
            QueryErrorKind::Structure => "impossible pattern structure in query".to_owned(),
            QueryErrorKind::Syntax => "invalid query syntax".to_owned(),
            QueryErrorKind::Language => format!("query language error: {}", error.message),
        };
        return Err(QueryError {
            char_offset,
            message,
        });
    }
    let (instrumented, root_kinds) = instrument(text);
    let query = Query::new(language.grammar(), &instrumented).map_err(|error| QueryError {
        char_offset: 0,
        message: format!(
            "the query cannot be anchored at a root node: {}",
            error.message
        ),
    })?;
    if query.pattern_count() == 0 {
        return Err(QueryError {
            char_offset: 0,
            message: "the query contains no pattern".to_owned(),
        });
    }
    let root_capture = query
        .capture_names()
        .iter()
        .position(|name| *name == ROOT_CAPTURE)
        .and_then(|index| u32::try_from(index).ok())
        .ok_or_else(|| QueryError {
            char_offset: 0,
            message: "the query has no node pattern to match".to_owned(),
        })?;
    let kinds = root_kinds
        .into_iter()
        .map(|kind| kind.and_then(|kind| language.named_kind_id(&kind)))
        .try_fold(KindSet::default(), |mut set, kind| {
            set.insert(kind?);
            Some(set)
        });
    Ok(QueryMatcher {
        query,
        root_capture,
        instrumented,
        kinds,
    })
}

/// Marks the root of every top-level pattern with [`ROOT_CAPTURE`] and
/// reports the root's node kind where it is a plain `(kind ...)` node.
fn instrument(text: &str) -> (String, Vec<Option<String>>) {
    let tokens = tokenize(text);
    let mut insertions = Vec::new();
    let mut kinds = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        if token.depth != 0 {
            index += 1;
            continue;
        }
        let end = group_end(&tokens, index);
        let group = &tokens[index..=end];
        let root = match_capture(text, group).or_else(|| root_node(text, group));
        if let Some((insert_at, kind)) = root {
            insertions.push(insert_at);
            kinds.push(kind);
        }
        index = end + 1;
    }
    let mut instrumented = String::with_capacity(text.len() + insertions.len() * 20);
    let mut last = 0;
    for at in insertions {
        instrumented.push_str(&text[last..at]);
        instrumented.push_str(" @");
        instrumented.push_str(ROOT_CAPTURE);
        instrumented.push(' ');
        last = at;
    }
    instrumented.push_str(&text[last..]);
    (instrumented, kinds)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    Text,
    Capture,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
    /// Nesting depth before the token.
    depth: usize,
}

fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let start = index;
        let kind = match byte {
            b';' => {
                while index < bytes.len() && bytes[index] != b'\n' {
                    index += 1;
                }
                continue;
            }
            b if b.is_ascii_whitespace() => {
                index += 1;
                continue;
            }
            b'(' | b'[' => {
                index += 1;
                TokenKind::Open
            }
            b')' | b']' => {
                index += 1;
                TokenKind::Close
            }
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
                index = (index + 1).min(bytes.len());
                TokenKind::Text
            }
            b'@' => {
                index += 1;
                while index < bytes.len() && is_word(bytes[index]) {
                    index += 1;
                }
                TokenKind::Capture
            }
            _ => {
                index += 1;
                while index < bytes.len() && !is_delimiter(bytes[index]) {
                    index += 1;
                }
                TokenKind::Text
            }
        };
        let token_depth = depth;
        match kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        tokens.push(Token {
            kind,
            start,
            end: index,
            depth: token_depth,
        });
    }
    tokens
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')
}

fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || matches!(byte, b'(' | b')' | b'[' | b']' | b'"' | b'@' | b';')
}

/// The last token of the top-level group starting at `start`, including any
/// quantifiers and captures that follow it.
fn group_end(tokens: &[Token], start: usize) -> usize {
    let mut end = start;
    if tokens[start].kind == TokenKind::Open {
        end = close_index(tokens, start);
    }
    while end + 1 < tokens.len()
        && tokens[end + 1].depth == 0
        && matches!(tokens[end + 1].kind, TokenKind::Capture)
    {
        end += 1;
    }
    end.min(tokens.len() - 1)
}

/// A pattern that captures `@match` anywhere is rooted at that capture.
fn match_capture(text: &str, group: &[Token]) -> Option<(usize, Option<String>)> {
    group
        .iter()
        .find(|token| token.kind == TokenKind::Capture && &text[token.start..token.end] == "@match")
        .map(|token| (token.start, None))
}

/// The outermost node of a top-level pattern: insertion point after it, and
/// its kind when it is a plain named node.
fn root_node(text: &str, group: &[Token]) -> Option<(usize, Option<String>)> {
    let first = group.first()?;
    if first.kind != TokenKind::Open {
        // `_`, `"literal"`: a single token.
        let kind =
            (text.as_bytes()[first.start] != b'"').then(|| text[first.start..first.end].to_owned());
        let kind = kind.filter(|kind| kind != "_");
        return Some((first.end, kind));
    }
    let opener = text.as_bytes()[first.start];
    let inner = group.get(1)?;
    if opener == b'(' && inner.kind == TokenKind::Open && text.as_bytes()[inner.start] == b'(' {
        // A grouping: its first member is the root.
        let member_end = member_end(group, 1);
        let kind = node_kind(text, &group[1..=member_end]);
        return Some((group[member_end].end, kind));
    }
    let close = close_index(group, 0);
    let kind = if opener == b'(' {
        node_kind(text, &group[..=close])
    } else {
        None
    };
    Some((group[close].end, kind))
}

/// The kind of a `(kind ...)` node pattern, when it names one.
fn node_kind(text: &str, node: &[Token]) -> Option<String> {
    let name = node.get(1)?;
    (name.kind == TokenKind::Text
        && text.as_bytes()[name.start] != b'"'
        && !text[name.start..].starts_with('#'))
    .then(|| text[name.start..name.end].to_owned())
    .filter(|kind| kind != "_" && !kind.ends_with(':'))
}

/// The index of the token closing the bracket opened at `open`.
fn close_index(tokens: &[Token], open: usize) -> usize {
    let depth = tokens[open].depth;
    (open + 1..tokens.len())
        .find(|&index| tokens[index].kind == TokenKind::Close && tokens[index].depth == depth + 1)
        .unwrap_or(tokens.len() - 1)
}

/// The last token of the group member starting at `start` (a bracketed node,
/// without its captures and quantifiers).
fn member_end(tokens: &[Token], start: usize) -> usize {
    if tokens[start].kind == TokenKind::Open {
        close_index(tokens, start)
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Language {
        Language::from_name("python").expect("python")
    }

    #[test]
    fn roots_are_marked() {
        let (text, kinds) = instrument("(call function: (identifier) @f)");
        assert_eq!(text, "(call function: (identifier) @f) @__fleetmod_root ");
        assert_eq!(kinds, vec![Some("call".to_owned())]);
        let (text, kinds) = instrument("((identifier) @x (#eq? @x \"f\"))");
        assert_eq!(text, "((identifier) @__fleetmod_root  @x (#eq? @x \"f\"))");
        assert_eq!(kinds, vec![Some("identifier".to_owned())]);
        let (text, _) = instrument("(call (identifier) @match) ; comment\n(string) @s");
        assert_eq!(
            text,
            "(call (identifier)  @__fleetmod_root @match) ; comment\n(string) @__fleetmod_root  @s"
        );
        let (_, kinds) = instrument("[(call) (string)] @x");
        assert_eq!(kinds, vec![None]);
    }

    #[test]
    fn queries_compile_with_root_kinds() {
        let matcher = compile(
            python(),
            "(call function: (identifier) @name (#eq? @name \"print\"))",
        )
        .expect("compiles");
        let call = python().named_kind_id("call").expect("call");
        assert_eq!(matcher.kinds, Some(KindSet::single(call)));
        let matcher = compile(python(), "[(call) (string)] @x").expect("compiles");
        assert_eq!(matcher.kinds, None);
    }

    #[test]
    fn errors_point_into_the_query() {
        let error = compile(python(), "(call (no_such_kind))").unwrap_err();
        assert_eq!(error.char_offset, 7);
        assert!(error.message.contains("no_such_kind"), "{}", error.message);
        let error = compile(python(), "(call").unwrap_err();
        assert!(error.message.contains("syntax"), "{}", error.message);
    }
}
