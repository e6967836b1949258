//! Fixes: templates, transformations and rewriters, compiled and checked.
//!
//! A fix template is text with metavariables, as in ast-grep: `$NAME` (and
//! `$$NAME`) inserts a captured node or a transformation's result, `$$$NAME`
//! inserts a captured list with its original separators. Names follow
//! ast-grep (`[A-Z_][A-Z0-9_]*`); a lowercase name is a metavariable only when
//! the rule defines it (a `query:` capture), so `$x` in a template stays text
//! unless a query captured `@x`. Every name a template or transformation
//! uses must be defined when the rule loads.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::Regex;
use serde_saphyr::Spanned;

use super::compile::{self, Globals};
use super::error::{Located, Point};
use super::matcher::{CoreRule, Matcher, StopBy};
use super::raw::{RawFix, RawFixObject, RawRewriter, RawRule, RawTransform, Separator, StringCase};
use crate::lang::Language;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// A single node or a transformation result.
    Variable(String),
    /// `$$$NAME`: a list of nodes, from the first node's start to the last's end.
    List(String),
}

/// A parsed fix template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    pub pieces: Vec<Piece>,
    /// The template's own indentation step (in spaces), converted to the
    /// file's indent unit when the fix is applied.
    pub indent_unit: usize,
}

/// Moves a fix's replaced range to a neighbouring sibling (`expandStart`,
/// `expandEnd`), for example to delete a list item with its comma.
#[derive(Debug)]
pub struct Expansion {
    pub rule: Matcher,
    pub stop_by: StopBy,
}

/// A compiled `fix`.
#[derive(Debug)]
pub struct Fix {
    pub template: Template,
    pub expand_start: Option<Expansion>,
    pub expand_end: Option<Expansion>,
    /// A short description of the fix, when the rule gives one.
    pub title: Option<String>,
}

/// A transformation of a captured metavariable into a new one.
#[derive(Debug)]
pub struct Transform {
    /// The new metavariable's name.
    pub name: String,
    /// The metavariable transformed.
    pub source: String,
    pub operation: Operation,
}

#[derive(Debug)]
pub enum Operation {
    /// Characters `start..end` (negative counts from the end).
    Substring {
        start: Option<i64>,
        end: Option<i64>,
    },
    Replace {
        pattern: Regex,
        by: String,
    },
    Convert {
        case: StringCase,
        separators: Option<Vec<Separator>>,
    },
    /// Applies the rule's rewriters (indices) to the captured nodes.
    Rewrite {
        rewriters: Vec<usize>,
        join_by: Option<String>,
    },
}

/// A rewriter: a rule with a fix, used by `rewrite` transformations.
#[derive(Debug)]
pub struct Rewriter {
    pub id: String,
    pub core: CoreRule,
    pub transforms: Vec<Transform>,
    pub fix: Fix,
}

type Result<T> = std::result::Result<T, Located>;

/// Parses a template, recognizing lowercase names only when `defined`.
pub fn parse_template(text: &str, defined: &HashSet<String>) -> Template {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(position) = rest.find('$') {
        literal.push_str(&rest[..position]);
        let candidate = &rest[position..];
        match split_variable(candidate, defined) {
            Some((piece, length)) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(piece);
                rest = &candidate[length..];
            }
            None => {
                literal.push('$');
                rest = &candidate[1..];
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Template {
        pieces,
        indent_unit: crate::engine::indent::template_unit(text),
    }
}

/// The metavariable at the start of `text` (which starts with `$`), and its length.
fn split_variable(text: &str, defined: &HashSet<String>) -> Option<(Piece, usize)> {
    let dollars = text.chars().take_while(|c| *c == '$').count().min(3);
    let body = &text[dollars..];
    let extended = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let strict = body
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(body.len());
    let length = if extended > strict && defined.contains(&body[..extended]) {
        extended
    } else {
        strict
    };
    let name = &body[..length];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let piece = if dollars == 3 {
        Piece::List(name.to_owned())
    } else {
        Piece::Variable(name.to_owned())
    };
    Some((piece, dollars + length))
}

impl Template {
    /// The names the template inserts.
    pub fn used_variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Variable(name) | Piece::List(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }
}

/// What a fix is compiled against.
pub(crate) struct FixScope<'a> {
    pub(crate) language: Language,
    pub(crate) source: &'a str,
    pub(crate) globals: &'a Globals,
    /// The enclosing rule's local utilities, for expansions.
    pub(crate) locals: &'a HashMap<String, usize>,
}

/// Compiles a `fix`, checking that it only uses `defined` variables.
pub(crate) fn compile_fix(
    raw: &Spanned<RawFix>,
    defined: &HashSet<String>,
    scope: &FixScope<'_>,
) -> Result<Fix> {
    let object = match &raw.value {
        RawFix::Template(text) => {
            let template = parse_template(text, defined);
            check_used(&template, defined, raw.referenced.into())?;
            return Ok(Fix {
                template,
                expand_start: None,
                expand_end: None,
                title: None,
            });
        }
        RawFix::Object(object) => object,
        RawFix::List(list) => list
            .first()
            .ok_or_else(|| Located::new(raw.referenced, "`fix` is an empty list"))?,
    };
    compile_fix_object(object, defined, scope)
}

fn compile_fix_object(
    object: &RawFixObject,
    defined: &HashSet<String>,
    scope: &FixScope<'_>,
) -> Result<Fix> {
    let template = parse_template(&object.template.value, defined);
    check_used(&template, defined, object.template.referenced.into())?;
    let rule_scope = compile::Scope {
        language: scope.language,
        source: scope.source,
        locals: scope.locals,
        globals: scope.globals,
    };
    let expansion = |raw: &Option<Spanned<Box<RawRule>>>| -> Result<Option<Expansion>> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let (rule, stop_by) = compile::compile_relation_parts(raw, &rule_scope)?;
        Ok(Some(Expansion { rule, stop_by }))
    };
    Ok(Fix {
        template,
        expand_start: expansion(&object.expand_start)?,
        expand_end: expansion(&object.expand_end)?,
        title: object.title.clone(),
    })
}

fn check_used(template: &Template, defined: &HashSet<String>, at: Point) -> Result<()> {
    match template
        .used_variables()
        .find(|name| !defined.contains(*name))
    {
        Some(name) => Err(Located::new(
            at,
            format!("`fix` uses `${name}`, which the rule does not define"),
        )),
        None => Ok(()),
    }
}

/// Compiles transformations in dependency order, checking their sources.
/// `defined` holds the rule's own metavariables; the transformation names
/// are added to it.
pub(crate) fn compile_transforms(
    raw: Option<&BTreeMap<String, Spanned<RawTransform>>>,
    defined: &mut HashSet<String>,
    rewriter_ids: &[String],
    language: Language,
) -> Result<Vec<Transform>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut parsed = BTreeMap::new();
    for (name, transform) in raw {
        let at = Point::from(transform.referenced);
        if defined.contains(name) {
            return Err(Located::new(
                at,
                format!("transform `{name}` redefines the metavariable `${name}`"),
            ));
        }
        let (source, operation) = parse_transform(&transform.value, rewriter_ids, language)
            .map_err(|message| Located::new(at, format!("transform `{name}`: {message}")))?;
        parsed.insert(name.clone(), (source, operation, at));
    }
    // Order by dependency: a transformation may use another's result.
    let mut order: Vec<String> = Vec::new();
    let mut visiting: Vec<String> = Vec::new();
    fn visit(
        name: &str,
        parsed: &BTreeMap<String, (String, Operation, Point)>,
        order: &mut Vec<String>,
        visiting: &mut Vec<String>,
    ) -> Result<()> {
        if order.iter().any(|done| done == name) {
            return Ok(());
        }
        let Some((source, _, at)) = parsed.get(name) else {
            return Ok(());
        };
        if visiting.iter().any(|open| open == name) {
            return Err(Located::new(
                *at,
                format!("transform `{name}` depends on itself"),
            ));
        }
        visiting.push(name.to_owned());
        visit(source, parsed, order, visiting)?;
        visiting.pop();
        order.push(name.to_owned());
        Ok(())
    }
    for name in parsed.keys() {
        visit(name, &parsed, &mut order, &mut visiting)?;
    }
    let all_names: HashSet<String> = parsed.keys().cloned().collect();
    let mut transforms = Vec::new();
    for name in order {
        let (source, operation, at) = parsed.remove(&name).expect("ordered names exist");
        if !defined.contains(&source) && !all_names.contains(&source) {
            return Err(Located::new(
                at,
                format!("transform `{name}` reads `${source}`, which the rule does not define"),
            ));
        }
        transforms.push(Transform {
            name,
            source,
            operation,
        });
    }
    defined.extend(all_names);
    Ok(transforms)
}

/// The source metavariable and the operation of one transformation.
fn parse_transform(
    raw: &RawTransform,
    rewriter_ids: &[String],
    language: Language,
) -> std::result::Result<(String, Operation), String> {
    let object = match raw {
        RawTransform::Object(object) => {
            let count = [
                object.substring.is_some(),
                object.replace.is_some(),
                object.convert.is_some(),
                object.rewrite.is_some(),
            ]
            .iter()
            .filter(|present| **present)
            .count();
            if count != 1 {
                return Err("use exactly one of substring, replace, convert, rewrite".to_owned());
            }
            object
        }
        RawTransform::Shorthand(text) => return parse_shorthand(text, rewriter_ids, language),
    };
    if let Some(substring) = &object.substring {
        return Ok((
            source_name(&substring.source, language)?,
            Operation::Substring {
                start: substring.start_char,
                end: substring.end_char,
            },
        ));
    }
    if let Some(replace) = &object.replace {
        let pattern =
            Regex::new(&replace.replace).map_err(|error| format!("invalid regex: {error}"))?;
        return Ok((
            source_name(&replace.source, language)?,
            Operation::Replace {
                pattern,
                by: replace.by.clone(),
            },
        ));
    }
    if let Some(convert) = &object.convert {
        return Ok((
            source_name(&convert.source, language)?,
            Operation::Convert {
                case: convert.to_case,
                separators: convert.separated_by.clone(),
            },
        ));
    }
    let rewrite = object
        .rewrite
        .as_ref()
        .expect("exactly one operation is present");
    Ok((
        source_name(&rewrite.source, language)?,
        Operation::Rewrite {
            rewriters: resolve_rewriters(&rewrite.rewriters, rewriter_ids)?,
            join_by: rewrite.join_by.clone(),
        },
    ))
}

fn resolve_rewriters(
    names: &[String],
    rewriter_ids: &[String],
) -> std::result::Result<Vec<usize>, String> {
    names
        .iter()
        .map(|name| {
            rewriter_ids
                .iter()
                .position(|id| id == name)
                .ok_or_else(|| format!("unknown rewriter `{name}`"))
        })
        .collect()
}

/// `$NAME` or `$$$NAME` (named) → `NAME`.
fn source_name(text: &str, language: Language) -> std::result::Result<String, String> {
    let trimmed = text.trim();
    let expando = language.expando();
    let replaced: String = trimmed.replace('$', &expando.to_string());
    match super::pattern::metavariable(&replaced, expando) {
        Some(variable) => variable
            .name()
            .map(str::to_owned)
            .ok_or_else(|| format!("source `{trimmed}` must be a named metavariable")),
        None => match trimmed.strip_prefix('$') {
            // A query capture such as `$name`.
            Some(name)
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Ok(name.to_owned())
            }
            _ => Err(format!(
                "source `{trimmed}` must be a `$`-prefixed metavariable"
            )),
        },
    }
}

/// Parses ast-grep's string shorthand: `func($SOURCE, key=value, ...)`.
fn parse_shorthand(
    text: &str,
    rewriter_ids: &[String],
    language: Language,
) -> std::result::Result<(String, Operation), String> {
    let syntax =
        || format!("`{text}` is not a transformation; expected `name($SOURCE, key=value, ...)`");
    let trimmed = text.trim();
    let (function, rest) = trimmed.split_once('(').ok_or_else(syntax)?;
    let rest = rest.strip_suffix(')').ok_or_else(syntax)?;
    let (source, arguments) = match rest.split_once(',') {
        Some((source, arguments)) => (source, arguments),
        None => (rest, ""),
    };
    let source = source_name(source, language)?;
    let arguments = split_arguments(arguments.trim()).ok_or_else(syntax)?;
    let value = |key: &str| {
        arguments
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    };
    let known = |allowed: &[&str]| -> std::result::Result<(), String> {
        match arguments.iter().find(|(name, _)| !allowed.contains(name)) {
            Some((name, _)) => Err(format!(
                "`{name}` is not an argument of {}",
                function.trim()
            )),
            None => Ok(()),
        }
    };
    fn yaml<T: serde::de::DeserializeOwned>(value: &str) -> std::result::Result<T, String> {
        serde_saphyr::from_str(value)
            .map_err(|error| format!("invalid argument `{value}`: {}", error.without_snippet()))
    }
    let operation = match function.trim() {
        "substring" => {
            known(&["startChar", "endChar"])?;
            Operation::Substring {
                start: value("startChar").map(yaml).transpose()?,
                end: value("endChar").map(yaml).transpose()?,
            }
        }
        "replace" => {
            known(&["replace", "by"])?;
            let pattern: String = yaml(value("replace").ok_or("replace needs `replace=`")?)?;
            Operation::Replace {
                pattern: Regex::new(&pattern).map_err(|error| format!("invalid regex: {error}"))?,
                by: yaml(value("by").ok_or("replace needs `by=`")?)?,
            }
        }
        "convert" => {
            known(&["toCase", "separatedBy"])?;
            Operation::Convert {
                case: yaml(value("toCase").ok_or("convert needs `toCase=`")?)?,
                separators: value("separatedBy").map(yaml).transpose()?,
            }
        }
        "rewrite" => {
            known(&["rewriters", "joinBy"])?;
            let names: Vec<String> = yaml(value("rewriters").ok_or("rewrite needs `rewriters=`")?)?;
            Operation::Rewrite {
                rewriters: resolve_rewriters(&names, rewriter_ids)?,
                join_by: value("joinBy").map(yaml).transpose()?,
            }
        }
        other => {
            return Err(format!(
                "unknown transformation `{other}`; expected substring, replace, convert or rewrite"
            ));
        }
    };
    Ok((source, operation))
}

/// `key=value, key='quoted, value', key=[a, b]` → pairs; values keep quotes.
fn split_arguments(mut rest: &str) -> Option<Vec<(&str, &str)>> {
    let mut arguments = Vec::new();
    while !rest.is_empty() {
        let (key, value) = rest.split_once('=')?;
        let value = value.trim_start();
        let end = match value.chars().next()? {
            quote @ ('\'' | '"') => value[1..].find(quote)? + 2,
            '[' => value.find(']')? + 1,
            _ => value.find(',').unwrap_or(value.len()),
        };
        arguments.push((key.trim(), value[..end].trim()));
        rest = value[end..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    Some(arguments)
}

/// Compiles a rule's rewriters. Each may use the enclosing rule's variables.
pub(crate) fn compile_rewriters(
    raw: Option<&Vec<Spanned<RawRewriter>>>,
    upper: &HashSet<String>,
    language: Language,
    source: &str,
    globals: &Globals,
) -> Result<Vec<Rewriter>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = raw
        .iter()
        .map(|rewriter| rewriter.value.id.value.clone())
        .collect();
    let mut rewriters = Vec::new();
    for rewriter in raw {
        let value = &rewriter.value;
        let core = compile::compile_core(
            &value.rule,
            value.constraints.as_ref(),
            value.utils.as_ref(),
            language,
            source,
            globals,
        )?;
        let mut defined = compile::core_variables(&core);
        defined.extend(upper.iter().cloned());
        let transforms =
            compile_transforms(value.transform.as_ref(), &mut defined, &ids, language)?;
        let locals = compile::local_ids(value.utils.as_ref());
        let scope = FixScope {
            language,
            source,
            globals,
            locals: &locals,
        };
        let fix = compile_fix(&value.fix, &defined, &scope)?;
        rewriters.push(Rewriter {
            id: value.id.value.clone(),
            core,
            transforms,
            fix,
        });
    }
    Ok(rewriters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> HashSet<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn templates_split_into_pieces() {
        let template = parse_template("$F($$$ARGS) costs $5 $lower $$X", &names(&[]));
        assert_eq!(
            template.pieces,
            vec![
                Piece::Variable("F".into()),
                Piece::Text("(".into()),
                Piece::List("ARGS".into()),
                Piece::Text(") costs $5 $lower ".into()),
                Piece::Variable("X".into()),
            ]
        );
    }

    #[test]
    fn lowercase_names_count_only_when_defined() {
        let template = parse_template("call($name)", &names(&["name"]));
        assert_eq!(template.used_variables().collect::<Vec<_>>(), vec!["name"]);
        let template = parse_template("$Abc", &names(&[]));
        assert_eq!(
            template.pieces,
            vec![Piece::Variable("A".into()), Piece::Text("bc".into())]
        );
    }

    #[test]
    fn shorthand_transformations_parse() {
        let python = Language::from_name("python").expect("python");
        let (source, operation) =
            parse_shorthand("substring($NAME, startChar=1, endChar=-1)", &[], python)
                .expect("valid");
        assert_eq!(source, "NAME");
        assert!(matches!(
            operation,
            Operation::Substring {
                start: Some(1),
                end: Some(-1)
            }
        ));
        let (_, operation) =
            parse_shorthand("replace($X, replace='a, b', by=\"c\")", &[], python).expect("valid");
        assert!(matches!(operation, Operation::Replace { ref by, .. } if by == "c"));
        let (_, operation) = parse_shorthand(
            "convert($X, toCase=snakeCase, separatedBy=[dash, caseChange])",
            &[],
            python,
        )
        .expect("valid");
        assert!(
            matches!(operation, Operation::Convert { case: StringCase::SnakeCase, separators: Some(ref s) } if s.len() == 2)
        );
        let (_, operation) = parse_shorthand(
            "rewrite($$$BODY, rewriters=[inner])",
            &["inner".into()],
            python,
        )
        .expect("valid");
        assert!(matches!(operation, Operation::Rewrite { ref rewriters, .. } if rewriters == &[0]));
        assert!(parse_shorthand("rewrite($X, rewriters=[missing])", &[], python).is_err());
        assert!(parse_shorthand("explode($X)", &[], python).is_err());
        assert!(parse_shorthand("substring(X, startChar=1)", &[], python).is_err());
        assert!(parse_shorthand("substring($X, start=1)", &[], python).is_err());
    }
}
