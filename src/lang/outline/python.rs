//! Python's outline: top-level statements, and the statements of the
//! bodies of top-level classes.
//!
//! The scan finds the *logical lines*: it skips comments and strings (with
//! their prefixes, triple quotes and escapes, and the replacement fields of
//! f-strings, which hold code and format specifications), joins lines
//! within brackets and after a backslash, and records where each logical
//! line starts and how far it is indented (a tab counts 8, as in
//! tree-sitter's scanner). A statement starts at a line of its block's
//! indentation, except that a decorator takes the line after it and
//! `else`, `elif`, `except` and `finally` continue the statement before.
//! A top-level `class` whose body is on the lines below is a container;
//! its header is everything before the first line of its body.

use super::Item;

/// A logical line: where its first physical line starts, its indentation,
/// and its first word (`@` for a decorator).
struct Line<'t> {
    start: usize,
    indent: usize,
    word: &'t [u8],
}

/// What the scan is inside of.
#[derive(Clone, Copy)]
enum Frame {
    /// Code, with its open brackets; `field` when it is the code of an
    /// f-string's replacement field.
    Code { brackets: usize, field: bool },
    String {
        quote: u8,
        triple: bool,
        raw: bool,
        formatted: bool,
    },
    /// An f-string's format specification, after the field's `:`.
    Specification,
}

/// Python's outline of `text`, or `None` if the scan does not understand it.
pub(super) fn scan(text: &[u8]) -> Option<Vec<Item>> {
    let lines = logical_lines(text)?;
    statements(text, &lines)
}

fn logical_lines(text: &[u8]) -> Option<Vec<Line<'_>>> {
    let mut lines = Vec::new();
    let mut frames = vec![Frame::Code {
        brackets: 0,
        field: false,
    }];
    let mut at = 0;
    let mut line_start = Some(0);
    while at < text.len() {
        if let Some(start) = line_start.take() {
            // The start of a physical line that begins a logical line.
            let mut indent = 0;
            while let Some(&byte) = text.get(at) {
                match byte {
                    b' ' => indent += 1,
                    b'\t' => indent += 8,
                    b'\x0c' => indent = 0,
                    _ => break,
                }
                at += 1;
            }
            match text.get(at) {
                None => break,
                Some(b'\n' | b'\r' | b'#') => {
                    // A blank or comment line: not a logical line.
                    at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |end| at + end + 1);
                    line_start = Some(at);
                    continue;
                }
                Some(b'\\') => return None,
                Some(&byte) => {
                    let word_end = if byte == b'@' {
                        at + 1
                    } else {
                        at + text[at..]
                            .iter()
                            .position(|&byte| !is_word(byte))
                            .unwrap_or(text.len() - at)
                    };
                    lines.push(Line {
                        start,
                        indent,
                        word: &text[at..word_end],
                    });
                }
            }
        }
        let byte = text[at];
        let frame = *frames.last()?;
        at += 1;
        match frame {
            Frame::Code { brackets, field } => match byte {
                b'#' => {
                    at = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |end| at + end);
                }
                b'\\' => {
                    // A line continuation, or a stray backslash.
                    if text[at..].starts_with(b"\r\n") {
                        at += 2;
                    } else if text.get(at) == Some(&b'\n') {
                        at += 1;
                    }
                }
                b'\n' if frames.len() == 1 && brackets == 0 => line_start = Some(at),
                b'(' | b'[' | b'{' => set_brackets(&mut frames, brackets + 1, field),
                b')' | b']' => set_brackets(&mut frames, brackets.checked_sub(1)?, field),
                b'}' if brackets > 0 => set_brackets(&mut frames, brackets - 1, field),
                b'}' if field => {
                    frames.pop();
                }
                b'}' => return None,
                b':' if field && brackets == 0 => {
                    *frames.last_mut()? = Frame::Specification;
                }
                b'"' | b'\'' => frames.push(string(text, &mut at, byte, b"")),
                _ if is_word(byte) && !byte.is_ascii_digit() => {
                    let start = at - 1;
                    while at < text.len() && is_word(text[at]) {
                        at += 1;
                    }
                    if let Some(&quote @ (b'"' | b'\'')) = text.get(at)
                        && is_prefix(&text[start..at])
                    {
                        let prefix = &text[start..at];
                        at += 1;
                        frames.push(string(text, &mut at, quote, prefix));
                    }
                }
                _ => {}
            },
            Frame::String {
                quote,
                triple,
                raw,
                formatted,
            } => match byte {
                // What tree-sitter's scanner steps over after a backslash:
                // the quote, a backslash, a line break, and (not raw) a
                // named character. A brace after it still opens a field.
                b'\\' => match text.get(at) {
                    Some(&next) if next == quote || next == b'\\' || next == b'\n' => at += 1,
                    Some(b'\r') => at += 1 + usize::from(text.get(at + 1) == Some(&b'\n')),
                    Some(b'N') if !raw && text.get(at + 1) == Some(&b'{') => {
                        at = memchr::memchr(b'}', &text[at..])
                            .map_or(text.len(), |end| at + end + 1);
                    }
                    _ => {}
                },
                b'\n' if !triple => return None,
                _ if byte == quote => {
                    if !triple {
                        frames.pop();
                    } else if text[at..].starts_with(&[quote, quote]) {
                        at += 2;
                        frames.pop();
                    }
                }
                b'{' | b'}' if formatted && text.get(at) == Some(&byte) => at += 1,
                b'{' if formatted => frames.push(Frame::Code {
                    brackets: 0,
                    field: true,
                }),
                b'}' if formatted => return None,
                _ => {}
            },
            Frame::Specification => match byte {
                b'{' => frames.push(Frame::Code {
                    brackets: 0,
                    field: true,
                }),
                b'}' => {
                    frames.pop();
                }
                _ => {}
            },
        }
    }
    (frames.len() == 1).then_some(())?;
    match frames[0] {
        Frame::Code { brackets: 0, .. } => Some(lines),
        _ => None,
    }
}

fn set_brackets(frames: &mut [Frame], brackets: usize, field: bool) {
    if let Some(last) = frames.last_mut() {
        *last = Frame::Code { brackets, field };
    }
}

/// The string that starts at the quote just before `at` (advanced past a
/// triple quote's other two).
fn string(text: &[u8], at: &mut usize, quote: u8, prefix: &[u8]) -> Frame {
    let triple = text[*at..].starts_with(&[quote, quote]);
    if triple {
        *at += 2;
    }
    let has = |letter: u8| prefix.iter().any(|byte| byte.eq_ignore_ascii_case(&letter));
    Frame::String {
        quote,
        triple,
        raw: has(b'r'),
        formatted: has(b'f') || has(b't'),
    }
}

/// Whether a word directly before a quote is a string prefix.
fn is_prefix(word: &[u8]) -> bool {
    word.len() <= 2 && word.iter().all(|byte| b"rRbBuUfFtT".contains(byte))
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Whether a line continues the statement before it rather than starting
/// one.
fn continues(line: &Line<'_>) -> bool {
    [&b"else"[..], b"elif", b"except", b"finally"].contains(&line.word)
}

/// Groups lines of one indentation into statements: the index of each
/// statement's first line. A decorator takes the next line.
fn statement_starts(lines: &[Line<'_>], indent: usize) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut decorated = false;
    for (index, line) in lines.iter().enumerate() {
        if line.indent != indent {
            continue;
        }
        if (!decorated && !continues(line)) || starts.is_empty() {
            starts.push(index);
        }
        decorated = line.word == b"@";
    }
    starts
}

fn statements(text: &[u8], lines: &[Line<'_>]) -> Option<Vec<Item>> {
    if lines.first().is_some_and(|line| line.indent != 0) {
        return None;
    }
    let starts = statement_starts(lines, 0);
    let mut items = Vec::new();
    for (position, &first) in starts.iter().enumerate() {
        let last = starts.get(position + 1).copied().unwrap_or(lines.len());
        let end = lines.get(last).map_or(text.len(), |line| line.start);
        let start = if position == 0 { 0 } else { lines[first].start };
        let statement = &lines[first..last];
        let head = statement
            .iter()
            .position(|line| line.word != b"@" && line.indent == 0)?;
        let body = statement
            .iter()
            .position(|line| line.indent > 0)
            .filter(|&body| body > head);
        match body {
            Some(body) if statement[head].word == b"class" => {
                let lines = &statement[body..];
                let indent = lines[0].indent;
                if lines.iter().any(|line| line.indent < indent) {
                    return None;
                }
                let member_starts = statement_starts(lines, indent);
                let members = member_starts
                    .iter()
                    .enumerate()
                    .map(|(index, &member)| {
                        let member_end = member_starts
                            .get(index + 1)
                            .map_or(end, |&next| lines[next].start);
                        lines[member].start..member_end
                    })
                    .collect();
                items.push(Item::Container {
                    header: start..lines[0].start,
                    members,
                    closer: end..end,
                });
            }
            _ => items.push(Item::Leaf(start..end)),
        }
    }
    if items.is_empty() && !text.is_empty() {
        items.push(Item::Leaf(0..text.len()));
    }
    Some(items)
}
