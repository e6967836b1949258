//! Java's outline: top-level declarations, and the members of top-level
//! types.
//!
//! The scan skips comments, strings, text blocks and character literals,
//! and counts braces and parentheses (brackets with them). At the top
//! level, a declaration ends at a `;` or at the `}` that closes its braces;
//! one whose words include `class`, `interface`, `enum` or `record` before
//! its first `{` is a type, whose body is cut into members. A member ends
//! at a `;` at its own level, or at the `}` that closes a block at its own
//! level unless an `=` came first (then that block is an initializer, as in
//! `int[] a = {1, 2};`, and the `;` ends it), or a `;` follows (an
//! annotation element's `default {};`). An enum's constants, up to the
//! first `;` of its body, stay in its header.

use super::Item;

/// What the scan sees: punctuation that matters, and words.
enum Token {
    Open(u8),
    Close(u8),
    Semicolon,
    Equals,
    Word(usize, usize),
}

struct Scanner<'s> {
    text: &'s [u8],
    at: usize,
}

impl Scanner<'_> {
    /// The next token and where it starts; `Ok(None)` at the end, `Err`
    /// for an unterminated string or comment.
    fn next(&mut self) -> Result<Option<(usize, Token)>, ()> {
        let text = self.text;
        while self.at < text.len() {
            let start = self.at;
            let byte = text[start];
            self.at += 1;
            match byte {
                b'{' | b'(' | b'[' => return Ok(Some((start, Token::Open(byte)))),
                b'}' | b')' | b']' => return Ok(Some((start, Token::Close(byte)))),
                b';' => return Ok(Some((start, Token::Semicolon))),
                b'=' => return Ok(Some((start, Token::Equals))),
                b'/' if text.get(self.at) == Some(&b'/') => {
                    self.at = memchr::memchr(b'\n', &text[self.at..])
                        .map_or(text.len(), |offset| self.at + offset);
                }
                b'/' if text.get(self.at) == Some(&b'*') => {
                    let end = memchr::memmem::find(&text[self.at + 1..], b"*/").ok_or(())?;
                    self.at += 1 + end + 2;
                }
                b'"' if text[self.at..].starts_with(b"\"\"") => {
                    self.at += 2;
                    self.skip_quoted(b"\"\"\"", true)?;
                }
                b'"' => self.skip_quoted(b"\"", false)?,
                b'\'' => self.skip_quoted(b"'", false)?,
                _ if is_word(byte) => {
                    while self.at < text.len() && is_word(text[self.at]) {
                        self.at += 1;
                    }
                    return Ok(Some((start, Token::Word(start, self.at))));
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Whether the next token is a `;` (without moving on).
    fn semicolon_next(&self) -> bool {
        let mut ahead = Scanner {
            text: self.text,
            at: self.at,
        };
        matches!(ahead.next(), Ok(Some((_, Token::Semicolon))))
    }

    /// Skips to just after `close`, over backslash escapes; a line break
    /// ends the literal too early unless `multiline`.
    fn skip_quoted(&mut self, close: &[u8], multiline: bool) -> Result<(), ()> {
        let text = self.text;
        while self.at < text.len() {
            match text[self.at] {
                b'\\' => self.at += 2,
                b'\n' if !multiline => return Err(()),
                _ if text[self.at..].starts_with(close) => {
                    self.at += close.len();
                    return Ok(());
                }
                _ => self.at += 1,
            }
        }
        Err(())
    }
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// Java's outline of `text`, or `None` if the scan does not understand it.
pub(super) fn scan(text: &[u8]) -> Option<Vec<Item>> {
    let mut scanner = Scanner { text, at: 0 };
    let mut items = Vec::new();
    let mut start = 0;
    let mut parentheses = 0usize;
    let mut type_keyword: Option<&[u8]> = None;
    while let Some((at, token)) = scanner.next().ok()? {
        match token {
            Token::Word(from, to) if parentheses == 0 && type_keyword.is_none() => {
                let word = &text[from..to];
                if [&b"class"[..], b"interface", b"enum", b"record"].contains(&word) {
                    type_keyword = Some(word);
                }
            }
            Token::Word(..) | Token::Equals => {}
            Token::Open(b'{') if parentheses == 0 => {
                let item = match type_keyword {
                    Some(keyword) => {
                        body(&mut scanner, start, at + 1, keyword == b"enum".as_slice())?
                    }
                    None => {
                        // A brace that opens no type (a module declaration):
                        // the declaration is one leaf.
                        skip_block(&mut scanner)?;
                        Item::Leaf(start..scanner.at)
                    }
                };
                items.push(item);
                start = scanner.at;
                type_keyword = None;
            }
            Token::Open(_) => parentheses += 1,
            Token::Close(_) => parentheses = parentheses.checked_sub(1)?,
            Token::Semicolon if parentheses == 0 => {
                items.push(Item::Leaf(start..at + 1));
                start = at + 1;
                type_keyword = None;
            }
            Token::Semicolon => {}
        }
    }
    if parentheses != 0 || type_keyword.is_some() {
        return None;
    }
    if start < text.len() {
        items.push(Item::Leaf(start..text.len()));
    }
    Some(items)
}

/// Skips to just after the `}` that closes the block just opened.
fn skip_block(scanner: &mut Scanner<'_>) -> Option<()> {
    let mut depth = 1usize;
    while let Some((_, token)) = scanner.next().ok()? {
        match token {
            Token::Open(b'{') => depth += 1,
            Token::Close(b'}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(());
                }
            }
            _ => {}
        }
    }
    None
}

/// The body of a type whose header runs from `start` to `header_end`
/// (just after its `{`), up to and including its closing `}`.
fn body(scanner: &mut Scanner<'_>, start: usize, header_end: usize, is_enum: bool) -> Option<Item> {
    let mut header_end = header_end;
    if is_enum {
        // The constants, up to the body's first `;`, stay in the header.
        let mut depth = 0usize;
        loop {
            let (at, token) = scanner.next().ok()??;
            match token {
                Token::Open(_) => depth += 1,
                Token::Close(b'}') if depth == 0 => {
                    // No declarations after the constants.
                    return Some(Item::Leaf(start..at + 1));
                }
                Token::Close(_) => depth = depth.checked_sub(1)?,
                Token::Semicolon if depth == 0 => {
                    header_end = at + 1;
                    break;
                }
                _ => {}
            }
        }
    }
    let mut members = Vec::new();
    let mut member_start = header_end;
    // Braces and parentheses opened within the current member.
    let mut braces = 0usize;
    let mut parentheses = 0usize;
    let mut initializer = false;
    let mut significant = false;
    loop {
        let (at, token) = scanner.next().ok()??;
        let level = braces == 0 && parentheses == 0;
        match token {
            Token::Close(b'}') if level => {
                if significant {
                    // A member with no end.
                    return None;
                }
                return Some(Item::Container {
                    header: start..header_end,
                    members,
                    closer: member_start..at + 1,
                });
            }
            Token::Semicolon if level => {
                members.push(member_start..at + 1);
                member_start = at + 1;
                initializer = false;
                significant = false;
                continue;
            }
            Token::Equals if level => initializer = true,
            Token::Open(b'{') => braces += 1,
            Token::Open(_) => parentheses += 1,
            Token::Close(b'}') => {
                braces = braces.checked_sub(1)?;
                if braces == 0 && parentheses == 0 && !initializer && !scanner.semicolon_next() {
                    members.push(member_start..at + 1);
                    member_start = at + 1;
                    significant = false;
                    continue;
                }
            }
            Token::Close(_) => parentheses = parentheses.checked_sub(1)?,
            Token::Semicolon | Token::Equals | Token::Word(..) => {}
        }
        significant = true;
    }
}
