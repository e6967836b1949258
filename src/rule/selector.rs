//! CSS-like selectors in `kind:`, as ast-grep accepts them.
//!
//! `kind: call` names a node kind; `kind: "call > identifier"` is a selector
//! that expands into ordinary rules: `a > b` is `b` inside `a` (parent),
//! `a b` is `b` inside `a` (any ancestor), `a + b` is `b` right after `a`,
//! `a ~ b` is `b` anywhere after `a`, `a, b` is either, and the pseudo-classes
//! `:has()`, `:not()`, `:is()`, `:nth-child()` and `:nth-last-child()` map to
//! `has`, `not`, `any` and `nthChild`.
//!
//! Grammar:
//! ```text
//! list     = complex ("," complex)*
//! complex  = compound (combinator compound)*
//! compound = kind? pseudo*          (at least one)
//! pseudo   = ":" name "(" argument ")"
//! ```

use super::matcher::{Matcher, NthChild, Relation, StopBy};
use super::nth_child::Position;
use crate::lang::Language;

/// Compiles a `kind:` value. Returns an error message on failure.
pub(crate) fn compile(text: &str, language: Language) -> Result<Matcher, String> {
    let mut input = Input {
        rest: text.trim(),
        language,
    };
    let rule = input.list()?;
    if !input.rest.is_empty() {
        return Err(format!(
            "unexpected `{}` in kind selector `{text}`",
            input.rest
        ));
    }
    Ok(rule)
}

struct Input<'a> {
    rest: &'a str,
    language: Language,
}

fn relation(rule: Matcher, stop_by: StopBy) -> Box<Relation> {
    Box::new(Relation {
        rule,
        stop_by,
        field: None,
    })
}

impl<'a> Input<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.rest = &self.rest[expected.len_utf8()..];
            true
        } else {
            false
        }
    }

    fn list(&mut self) -> Result<Matcher, String> {
        let mut members = vec![self.complex()?];
        loop {
            self.skip_spaces();
            if !self.eat(',') {
                break;
            }
            self.skip_spaces();
            // ast-grep accepts a trailing comma.
            if self.rest.is_empty() {
                break;
            }
            members.push(self.complex()?);
        }
        Ok(if members.len() == 1 {
            members.remove(0)
        } else {
            Matcher::Any(members)
        })
    }

    /// A combinator after a compound: `>`, `+`, `~` or a space. Whitespace
    /// before `)`, `,` or the end is not a combinator.
    fn combinator(&mut self) -> Option<char> {
        let trimmed = self.rest.trim_start();
        let had_space = trimmed.len() != self.rest.len();
        match trimmed.chars().next() {
            Some(c @ ('>' | '+' | '~')) => {
                self.rest = trimmed[1..].trim_start();
                Some(c)
            }
            Some(')' | ',') | None => None,
            Some(_) if had_space => {
                self.rest = trimmed;
                Some(' ')
            }
            Some(_) => None,
        }
    }

    fn complex(&mut self) -> Result<Matcher, String> {
        let mut rule = self.compound()?;
        while let Some(combinator) = self.combinator() {
            let next = self.compound()?;
            let related = match combinator {
                '>' => Matcher::Inside(relation(rule, StopBy::Neighbor)),
                ' ' => Matcher::Inside(relation(rule, StopBy::End)),
                '+' => Matcher::Follows(relation(rule, StopBy::Neighbor)),
                _ => Matcher::Follows(relation(rule, StopBy::End)),
            };
            rule = Matcher::All(vec![next, related]);
        }
        Ok(rule)
    }

    fn identifier(&mut self) -> Option<&'a str> {
        let length = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest.len());
        let starts_well = self
            .rest
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '-');
        (length > 0 && starts_well).then(|| {
            let identifier = &self.rest[..length];
            self.rest = &self.rest[length..];
            identifier
        })
    }

    fn compound(&mut self) -> Result<Matcher, String> {
        let mut members = Vec::new();
        if let Some(kind) = self.identifier() {
            let id = self
                .language
                .named_kind_id(kind)
                .ok_or_else(|| format!("unknown node kind `{kind}` for {}", self.language))?;
            members.push(Matcher::Kind(id));
        }
        loop {
            match self.peek() {
                Some(':') => {
                    self.rest = &self.rest[1..];
                    members.push(self.pseudo_class()?);
                }
                Some('.') => {
                    return Err("class selectors (`.name`) are not supported in `kind`".to_owned());
                }
                _ => break,
            }
        }
        match members.len() {
            0 => Err(match self.peek() {
                Some(c) => format!("unexpected `{c}` in kind selector; expected a node kind"),
                None => "empty kind selector".to_owned(),
            }),
            1 => Ok(members.remove(0)),
            _ => Ok(Matcher::All(members)),
        }
    }

    fn pseudo_class(&mut self) -> Result<Matcher, String> {
        let name = self
            .identifier()
            .ok_or("expected a pseudo-class name after `:`")?;
        if !self.eat('(') {
            return Err(format!("expected `(` after `:{name}`"));
        }
        self.skip_spaces();
        let rule = match name {
            "has" => {
                let direct = self.eat('>');
                self.skip_spaces();
                let inner = self.complex()?;
                let stop_by = if direct {
                    StopBy::Neighbor
                } else {
                    StopBy::End
                };
                Matcher::Has(relation(inner, stop_by))
            }
            "not" => Matcher::Not(Box::new(self.complex()?)),
            "is" => self.list()?,
            "nth-child" | "nth-last-child" => self.nth_child(name == "nth-last-child")?,
            other => return Err(format!("unknown pseudo-class `:{other}`")),
        };
        self.skip_spaces();
        if !self.eat(')') {
            return Err(format!("expected `)` to close `:{name}(`"));
        }
        Ok(rule)
    }

    fn nth_child(&mut self, reverse: bool) -> Result<Matcher, String> {
        let length = self
            .rest
            .find(|c: char| !matches!(c, '0'..='9' | 'n' | 'N' | '+' | '-' | ' '))
            .unwrap_or(self.rest.len());
        let position = Position::parse(self.rest[..length].trim())?;
        self.rest = self.rest[length..].trim_start();
        let of_rule =
            if self.rest.starts_with("of") && self.rest[2..].starts_with(char::is_whitespace) {
                self.rest = self.rest[2..].trim_start();
                Some(self.complex()?)
            } else {
                None
            };
        Ok(Matcher::NthChild(Box::new(NthChild {
            position,
            of_rule,
            reverse,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Language {
        Language::from_name("python").expect("python")
    }

    fn shape(matcher: &Matcher) -> String {
        let python = python();
        match matcher {
            Matcher::Kind(id) => python.kind_name(*id).to_owned(),
            Matcher::All(members) => format!(
                "all({})",
                members.iter().map(shape).collect::<Vec<_>>().join(", ")
            ),
            Matcher::Any(members) => format!(
                "any({})",
                members.iter().map(shape).collect::<Vec<_>>().join(", ")
            ),
            Matcher::Not(inner) => format!("not({})", shape(inner)),
            Matcher::Inside(relation) => format!(
                "inside[{}]({})",
                stop(&relation.stop_by),
                shape(&relation.rule)
            ),
            Matcher::Has(relation) => format!(
                "has[{}]({})",
                stop(&relation.stop_by),
                shape(&relation.rule)
            ),
            Matcher::Follows(relation) => format!(
                "follows[{}]({})",
                stop(&relation.stop_by),
                shape(&relation.rule)
            ),
            Matcher::NthChild(nth) => format!("nth({:?},{})", nth.position, nth.reverse),
            _ => "?".to_owned(),
        }
    }

    fn stop(stop_by: &StopBy) -> &'static str {
        match stop_by {
            StopBy::Neighbor => "neighbor",
            StopBy::End => "end",
            StopBy::Rule(_) => "rule",
        }
    }

    fn parse(text: &str) -> String {
        shape(&compile(text, python()).expect("valid selector"))
    }

    #[test]
    fn plain_kinds_stay_kinds() {
        assert_eq!(parse("call"), "call");
        assert_eq!(parse("  call  "), "call");
    }

    #[test]
    fn combinators_become_relations() {
        assert_eq!(
            parse("call > identifier"),
            "all(identifier, inside[neighbor](call))"
        );
        assert_eq!(
            parse("call identifier"),
            "all(identifier, inside[end](call))"
        );
        assert_eq!(
            parse("decorator + function_definition"),
            "all(function_definition, follows[neighbor](decorator))"
        );
        assert_eq!(
            parse("decorator ~ function_definition"),
            "all(function_definition, follows[end](decorator))"
        );
        assert_eq!(parse("call, string"), "any(call, string)");
        assert_eq!(parse("call,"), "call");
    }

    #[test]
    fn pseudo_classes_become_rules() {
        assert_eq!(
            parse("call:has(> identifier)"),
            "all(call, has[neighbor](identifier))"
        );
        assert_eq!(parse("call:has(string)"), "all(call, has[end](string))");
        assert_eq!(
            parse("call:not(:has(string))"),
            "all(call, not(has[end](string)))"
        );
        assert_eq!(
            parse("identifier:is(call > identifier, attribute)"),
            "all(identifier, any(all(identifier, inside[neighbor](call)), attribute))"
        );
        assert!(
            parse("identifier:nth-child(2n+1)")
                .contains("nth(Position { step: 2, offset: 1 },false)")
        );
        assert!(parse("identifier:nth-last-child(1)").contains("true"));
    }

    #[test]
    fn bad_selectors_are_rejected() {
        for bad in ["cal", "call >", ".x", "call:foo(x)", "call:has(x", "call $"] {
            assert!(compile(bad, python()).is_err(), "{bad}");
        }
    }
}
