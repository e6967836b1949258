//! Turning a match into replacement text: transformations, then the template.
//!
//! Transformations run in dependency order after a match, as in ast-grep, and
//! their results are stored de-indented. The template is then rendered: its
//! own nested lines move to the file's indent unit, captured code is
//! de-indented relative to the line it came from and re-indented to where
//! the template puts it, and the whole replacement is indented like the line
//! being replaced. The renderer also reports which source ranges it carried
//! over verbatim, so that dropped comments can be detected.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::edit::Edit;
use super::env::Env;
use super::evaluate::{self, Context};
use super::indent::{self, LazyStyle};
use crate::rule::fix::{Fix, Operation, Piece, Rewriter, Template, Transform};
use crate::rule::matcher::Matcher;
use crate::rule::raw::{Separator, StringCase};

/// A rendered fix: the range it replaces, its text, and the source ranges
/// copied into it unchanged.
pub(crate) struct Rendered {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
    pub(crate) carried: Vec<Range<usize>>,
}

/// What fix rendering needs besides the match.
pub(crate) struct FixContext<'a, 'r, 't> {
    pub(crate) evaluation: &'a Context<'r, 't>,
    pub(crate) style: &'a LazyStyle<'a>,
}

/// Renders `fix` for a match of `node` with bindings `env`.
pub(crate) fn render<'r, 't>(
    fix: &'r Fix,
    transforms: &'r [Transform],
    rewriters: &'r [Rewriter],
    locals: &'r [Matcher],
    node: Node<'t>,
    env: &Env<'r, 't>,
    context: &FixContext<'_, 'r, 't>,
) -> Rendered {
    let source = context.evaluation.source;
    let transformed = run_transforms(transforms, rewriters, env, context);
    let start = match &fix.expand_start {
        Some(expansion) => evaluate::find_sibling(
            &expansion.rule,
            &expansion.stop_by,
            node,
            false,
            env,
            locals,
            context.evaluation,
        )
        .map_or(node.start_byte(), |sibling| sibling.start_byte()),
        None => node.start_byte(),
    };
    let end = match &fix.expand_end {
        Some(expansion) => evaluate::find_sibling(
            &expansion.rule,
            &expansion.stop_by,
            node,
            true,
            env,
            locals,
            context.evaluation,
        )
        .map_or(node.end_byte(), |sibling| sibling.end_byte()),
        None => node.end_byte(),
    };
    let (mut text, carried) =
        render_template(&fix.template, env, &transformed, source, context.style);
    // A YAML block scalar (`fix: |`) ends with a newline the author did not
    // mean to insert; keep it only where the replaced text has one too.
    if text.ends_with('\n')
        && !source
            .get(start..end)
            .is_some_and(|replaced| replaced.ends_with('\n'))
    {
        text.pop();
    }
    let text = indent::reindent(&text, indent::line_indentation(source, start));
    Rendered {
        range: start..end,
        text: context.style.line_endings(text),
        carried,
    }
}

/// The text of a metavariable: its node, its list, or nothing.
fn variable_text<'t>(
    name: &str,
    env: &Env<'_, 't>,
    source: &'t str,
) -> Option<(Range<usize>, &'t str)> {
    let range = match env.single(name) {
        Some(node) => node.byte_range(),
        None => {
            let nodes = env.list(name)?;
            nodes.first()?.start_byte()..nodes.last()?.end_byte()
        }
    };
    Some((range.clone(), source.get(range)?))
}

fn render_template(
    template: &Template,
    env: &Env<'_, '_>,
    transformed: &HashMap<&str, String>,
    source: &str,
    style: &LazyStyle<'_>,
) -> (String, Vec<Range<usize>>) {
    let mut output = String::new();
    let mut carried = Vec::new();
    for piece in &template.pieces {
        let inserted = match piece {
            Piece::Text(text) => {
                // Lines after a newline start in a text piece, so converting
                // every piece converts every template line.
                output.push_str(&style.template_indentation(text, template.indent_unit));
                continue;
            }
            Piece::Variable(name) => match transformed.get(name.as_str()) {
                Some(text) => Some(text.clone()),
                None => env.single(name).and_then(|node| {
                    let range = node.byte_range();
                    carried.push(range.clone());
                    let text = source.get(range.clone())?;
                    Some(indent::deindent(
                        text,
                        indent::line_indentation(source, range.start),
                    ))
                }),
            },
            Piece::List(name) => env.list(name).and_then(|nodes| {
                let range = nodes.first()?.start_byte()..nodes.last()?.end_byte();
                carried.push(range.clone());
                let text = source.get(range.clone())?;
                Some(indent::deindent(
                    text,
                    indent::line_indentation(source, range.start),
                ))
            }),
        };
        if let Some(text) = inserted {
            let line_start = output.rfind('\n').map_or(0, |newline| newline + 1);
            let current_line = &output[line_start..];
            let indentation = &current_line
                [..current_line.len() - current_line.trim_start_matches([' ', '\t']).len()];
            let indentation = indentation.to_owned();
            output.push_str(&indent::reindent(&text, &indentation));
        }
    }
    (output, carried)
}

/// Runs a rule's transformations; results are keyed by name.
pub(crate) fn run_transforms<'r, 't>(
    transforms: &'r [Transform],
    rewriters: &'r [Rewriter],
    env: &Env<'r, 't>,
    context: &FixContext<'_, 'r, 't>,
) -> HashMap<&'r str, String> {
    let source = context.evaluation.source;
    let mut results: HashMap<&'r str, String> = HashMap::new();
    for transform in transforms {
        // The source's text, and the line indentation of where it came from.
        let (input, origin) = match variable_text(&transform.source, env, source) {
            Some((range, text)) => (text.to_owned(), Some(range.start)),
            None => (
                results
                    .get(transform.source.as_str())
                    .cloned()
                    .unwrap_or_default(),
                None,
            ),
        };
        let output = match &transform.operation {
            Operation::Substring { start, end } => substring(&input, *start, *end),
            Operation::Replace { pattern, by } => {
                pattern.replace_all(&input, by.as_str()).into_owned()
            }
            Operation::Convert { case, separators } => {
                convert(&input, *case, separators.as_deref())
            }
            Operation::Rewrite {
                rewriters: chosen,
                join_by,
            } => {
                let chosen: Vec<&Rewriter> = chosen
                    .iter()
                    .filter_map(|index| rewriters.get(*index))
                    .collect();
                rewrite(
                    &transform.source,
                    &chosen,
                    rewriters,
                    join_by.as_deref(),
                    env,
                    context,
                )
                .unwrap_or(input)
            }
        };
        let output = match origin {
            Some(start) => indent::deindent(&output, indent::line_indentation(source, start)),
            None => output,
        };
        results.insert(transform.name.as_str(), output);
    }
    results
}

/// Characters `start..end` of `text`; negative positions count from the end.
fn substring(text: &str, start: Option<i64>, end: Option<i64>) -> String {
    let characters: Vec<char> = text.chars().collect();
    let length = characters.len() as i64;
    let resolve = |position: Option<i64>, default: i64| {
        let position = position.unwrap_or(default);
        if position >= length {
            length
        } else if position >= 0 {
            position
        } else {
            (length + position).max(0)
        }
    };
    let (start, end) = (resolve(start, 0), resolve(end, length));
    if start > end || start >= length {
        return String::new();
    }
    characters[start as usize..end as usize].iter().collect()
}

/// Splits an identifier into words at the given separators, as ast-grep does.
fn words<'a>(text: &'a str, separators: Option<&[Separator]>) -> Vec<&'a str> {
    let all = [
        Separator::Dash,
        Separator::Dot,
        Separator::Slash,
        Separator::Space,
        Separator::Underscore,
        Separator::CaseChange,
    ];
    let separators = separators.unwrap_or(&all);
    let delimiter = |c: char| {
        separators.iter().any(|separator| match separator {
            Separator::Dash => c == '-',
            Separator::Dot => c == '.',
            Separator::Slash => c == '/',
            Separator::Space => c == ' ',
            Separator::Underscore => c == '_',
            Separator::CaseChange => false,
        })
    };
    let case_change = separators.contains(&Separator::CaseChange);
    let characters: Vec<(usize, char)> = text.char_indices().collect();
    let mut words = Vec::new();
    let mut start = 0;
    for (position, &(offset, character)) in characters.iter().enumerate() {
        if delimiter(character) {
            if start < offset {
                words.push(&text[start..offset]);
            }
            start = offset + character.len_utf8();
            continue;
        }
        if !case_change || offset == start || position == 0 {
            continue;
        }
        let previous = characters[position - 1].1;
        let next_is_lower = characters
            .get(position + 1)
            .is_some_and(|(_, next)| next.is_lowercase());
        // fooBar → foo|Bar; HTTPServer → HTTP|Server.
        let boundary = (previous.is_lowercase() || previous.is_ascii_digit())
            && character.is_uppercase()
            || previous.is_uppercase() && character.is_uppercase() && next_is_lower;
        if boundary {
            words.push(&text[start..offset]);
            start = offset;
        }
    }
    if start < text.len() {
        words.push(&text[start..]);
    }
    words
}

fn capitalize(word: &str) -> String {
    let mut characters = word.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

fn convert(text: &str, case: StringCase, separators: Option<&[Separator]>) -> String {
    match case {
        StringCase::LowerCase => text.to_lowercase(),
        StringCase::UpperCase => text.to_uppercase(),
        StringCase::Capitalize => capitalize(text),
        StringCase::CamelCase => words(text, separators)
            .iter()
            .enumerate()
            .map(|(index, word)| {
                if index == 0 {
                    word.to_lowercase()
                } else {
                    capitalize(word)
                }
            })
            .collect(),
        StringCase::SnakeCase => join_lower(&words(text, separators), "_"),
        StringCase::KebabCase => join_lower(&words(text, separators), "-"),
        StringCase::PascalCase => words(text, separators)
            .iter()
            .map(|word| capitalize(word))
            .collect(),
    }
}

fn join_lower(words: &[&str], separator: &str) -> String {
    words
        .iter()
        .map(|word| word.to_lowercase())
        .collect::<Vec<_>>()
        .join(separator)
}

/// Applies rewriters to the nodes of a metavariable: in pre-order, the first
/// rewriter that matches a node rewrites it, and edits inside an already
/// rewritten node are skipped. With `join_by`, only the rewritten pieces are
/// kept, joined by it.
fn rewrite<'r, 't>(
    variable: &str,
    rewriters: &[&'r Rewriter],
    all_rewriters: &'r [Rewriter],
    join_by: Option<&str>,
    enclosing: &Env<'r, 't>,
    context: &FixContext<'_, 'r, 't>,
) -> Option<String> {
    let source = context.evaluation.source;
    let nodes: Vec<Node<'t>> = match enclosing.single(variable) {
        Some(node) => vec![node],
        None => enclosing.list(variable)?.to_vec(),
    };
    let span = nodes.first()?.start_byte()..nodes.last()?.end_byte();
    let mut edits: Vec<Edit> = Vec::new();
    for node in &nodes {
        for descendant in evaluate::pre_order(*node) {
            for rewriter in rewriters {
                let mut env = enclosing.clone();
                if let Some(matched) =
                    evaluate::match_core(&rewriter.core, descendant, &mut env, context.evaluation)
                {
                    let rendered = render(
                        &rewriter.fix,
                        &rewriter.transforms,
                        all_rewriters,
                        &rewriter.core.locals,
                        matched,
                        &env,
                        context,
                    );
                    edits.push(Edit {
                        range: rendered.range,
                        replacement: rendered.text,
                        rule: 0,
                        applicability: crate::rule::Applicability::Safe,
                        note: None,
                    });
                    break;
                }
            }
        }
    }
    let mut output = String::new();
    let mut position = span.start;
    let mut first_edit = true;
    for edit in &edits {
        if edit.range.start < position {
            continue;
        }
        match join_by {
            Some(joiner) => {
                if !first_edit {
                    output.push_str(joiner);
                }
            }
            None => output.push_str(source.get(position..edit.range.start).unwrap_or_default()),
        }
        output.push_str(&edit.replacement);
        position = edit.range.end;
        first_edit = false;
    }
    if join_by.is_none() {
        output.push_str(source.get(position..span.end).unwrap_or_default());
    }
    Some(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_accept_negative_positions() {
        assert_eq!(substring("'hello'", Some(1), Some(-1)), "hello");
        assert_eq!(substring("hello", Some(-3), None), "llo");
        assert_eq!(substring("hello", Some(9), None), "");
        assert_eq!(substring("hello", Some(3), Some(1)), "");
        assert_eq!(substring("héllo", Some(1), Some(2)), "é");
    }

    #[test]
    fn case_conversion_splits_words_like_ast_grep() {
        assert_eq!(convert("fooBar", StringCase::SnakeCase, None), "foo_bar");
        assert_eq!(
            convert("HTTPServer", StringCase::KebabCase, None),
            "http-server"
        );
        assert_eq!(
            convert("foo_bar-baz", StringCase::CamelCase, None),
            "fooBarBaz"
        );
        assert_eq!(convert("foo_bar", StringCase::PascalCase, None), "FooBar");
        assert_eq!(convert("user id", StringCase::UpperCase, None), "USER ID");
        assert_eq!(convert("name", StringCase::Capitalize, None), "Name");
        assert_eq!(
            convert(
                "fooBar_baz",
                StringCase::SnakeCase,
                Some(&[Separator::Underscore])
            ),
            "foobar_baz"
        );
    }
}
