//! Patterns: code snippets with metavariables, compiled to a node tree.
//!
//! A pattern is parsed with the rule's grammar and reduced to the single node
//! it denotes (descending through wrappers such as `module` and
//! `expression_statement` that have exactly one child), exactly as ast-grep
//! does, so that existing ast-grep rules match the same nodes. Leaves whose
//! text is a metavariable (`$A`, `$$A`, `$_`, `$$$`, `$$$ARGS`) become
//! [`MetaVariable`]s. In grammars where `$` cannot start an identifier the
//! `$` is replaced by the language's expando character before parsing.

use tree_sitter::Node;

use super::raw::Strictness;
use crate::lang::{self, Language};

/// The kind id tree-sitter gives to ERROR nodes.
pub const ERROR_KIND: u16 = u16::MAX;

/// A metavariable in a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetaVariable {
    /// `$NAME` (named nodes only) or `$$NAME` (any node): captures one node.
    Capture(Box<str>, bool),
    /// `$_` or `$$_`: matches one node without capturing it.
    Dropped(bool),
    /// `$$$` or `$$$_`: matches any number of siblings without capturing.
    Multiple,
    /// `$$$NAME`: captures any number of siblings.
    MultiCapture(Box<str>),
}

impl MetaVariable {
    pub fn name(&self) -> Option<&str> {
        match self {
            MetaVariable::Capture(name, _) | MetaVariable::MultiCapture(name) => Some(name),
            MetaVariable::Dropped(_) | MetaVariable::Multiple => None,
        }
    }

    pub fn is_multiple(&self) -> bool {
        matches!(self, MetaVariable::Multiple | MetaVariable::MultiCapture(_))
    }
}

/// One node of a compiled pattern.
#[derive(Clone, Debug)]
pub enum PatternNode {
    MetaVar(MetaVariable),
    /// A node without children, matched by kind and (for named nodes) text.
    Terminal {
        text: Box<str>,
        named: bool,
        kind: u16,
    },
    /// A node with children, matched by kind and then child by child.
    Internal {
        kind: u16,
        children: Box<[PatternNode]>,
    },
}

impl PatternNode {
    /// Unnamed leaves (punctuation, keywords) may be skipped after `$$$`.
    pub fn is_trivial(&self) -> bool {
        matches!(self, PatternNode::Terminal { named: false, .. })
    }
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub root: PatternNode,
    /// With a selector, the candidate must have exactly the selected kind.
    pub root_kind: Option<u16>,
    pub strictness: Strictness,
}

/// Why a pattern could not be compiled. Offsets are in characters of the
/// pattern text as written (before the expando substitution).
#[derive(Debug, PartialEq, Eq)]
pub enum PatternError {
    NoContent,
    MultipleNodes,
    RootMultiMetaVariable,
    UnknownSelector(String),
    SelectorNotFound(String),
    Syntax { char_offset: usize, snippet: String },
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::NoContent => formatter.write_str("the pattern contains no code"),
            PatternError::MultipleNodes => formatter.write_str(
                "the pattern parses as several nodes; a pattern must denote one node \
                 (use `context` and `selector` to pick one)",
            ),
            PatternError::RootMultiMetaVariable => formatter.write_str(
                "a pattern cannot consist of a multi metavariable alone; use `$VAR` \
                 or wrap `$$$VAR` in a larger pattern",
            ),
            PatternError::UnknownSelector(kind) => {
                write!(
                    formatter,
                    "selector `{kind}` is not a node kind of this language"
                )
            }
            PatternError::SelectorNotFound(kind) => {
                write!(
                    formatter,
                    "selector `{kind}` matches no node in the context"
                )
            }
            PatternError::Syntax { snippet, .. } => {
                write!(
                    formatter,
                    "the pattern does not parse: syntax error at `{snippet}`"
                )
            }
        }
    }
}

/// Compiles a pattern string, optionally selecting a sub-node by kind.
pub fn compile(
    language: Language,
    text: &str,
    selector: Option<&str>,
    strictness: Strictness,
) -> Result<Pattern, PatternError> {
    let processed = substitute_expando(text, language.expando());
    let tree = lang::parse(language, &processed).ok_or(PatternError::NoContent)?;
    let root = tree.root_node();
    let (node, root_kind) = match selector {
        Some(selector) => {
            let kind = language
                .named_kind_id(selector)
                .ok_or_else(|| PatternError::UnknownSelector(selector.to_owned()))?;
            let node = first_of_kind(root, kind)
                .ok_or_else(|| PatternError::SelectorNotFound(selector.to_owned()))?;
            (node, Some(kind))
        }
        None => {
            if root.child_count() == 0 {
                return Err(PatternError::NoContent);
            }
            if !is_single_node(root) {
                return Err(PatternError::MultipleNodes);
            }
            let mut node = root;
            while is_single_node(node) {
                match node.child(0) {
                    Some(child) => node = child,
                    None => break,
                }
            }
            (node, None)
        }
    };
    // An ERROR node is fine where its text is a metavariable (`{ $$$ }` in
    // Java is an ERROR holding `$$$`); anywhere else the pattern is broken.
    if let Some(error) = first_error(node, &processed, language.expando()) {
        let char_offset = processed[..error.start_byte()].chars().count();
        let snippet: String = text.chars().skip(char_offset).take(20).collect();
        return Err(PatternError::Syntax {
            char_offset,
            snippet: snippet.lines().next().unwrap_or_default().to_owned(),
        });
    }
    let root = convert(node, &processed, language.expando());
    if let PatternNode::MetaVar(variable) = &root
        && variable.is_multiple()
    {
        return Err(PatternError::RootMultiMetaVariable);
    }
    Ok(Pattern {
        root,
        root_kind,
        strictness,
    })
}

/// Replaces the `$` of metavariables with the expando character, as
/// ast-grep does: only before `A-Z`/`_` or as the `$$$` of an anonymous list.
fn substitute_expando(text: &str, expando: char) -> String {
    if expando == '$' {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len());
    let mut dollars = 0;
    for character in text.chars() {
        if character == '$' {
            dollars += 1;
            continue;
        }
        let replace = character.is_ascii_uppercase() || character == '_' || dollars == 3;
        let sigil = if replace { expando } else { '$' };
        result.extend(std::iter::repeat_n(sigil, dollars));
        dollars = 0;
        result.push(character);
    }
    let sigil = if dollars == 3 { expando } else { '$' };
    result.extend(std::iter::repeat_n(sigil, dollars));
    result
}

/// A node has one meaningful child: exactly one child, or two where the
/// second is a MISSING or empty node (some grammars add one at the end).
fn is_single_node(node: Node<'_>) -> bool {
    match node.child_count() {
        1 => true,
        2 => node
            .child(1)
            .is_some_and(|child| child.is_missing() || child.kind().is_empty()),
        _ => false,
    }
}

fn first_of_kind(root: Node<'_>, kind: u16) -> Option<Node<'_>> {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.kind_id() == kind {
            return Some(node);
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

fn first_error<'t>(node: Node<'t>, source: &str, expando: char) -> Option<Node<'t>> {
    if !node.has_error() || metavariable(&source[node.byte_range()], expando).is_some() {
        return None;
    }
    if node.is_error() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'t>> = node.children(&mut cursor).collect();
    children
        .into_iter()
        .filter(|child| !child.is_missing())
        .find_map(|child| first_error(child, source, expando))
}

/// Parses the text of a leaf as a metavariable, as ast-grep does.
pub fn metavariable(text: &str, expando: char) -> Option<MetaVariable> {
    let valid_first = |character: char| character.is_ascii_uppercase() || character == '_';
    let valid = |character: char| valid_first(character) || character.is_ascii_digit();
    let sigil = expando.len_utf8();
    let triple: String = std::iter::repeat_n(expando, 3).collect();
    if text == triple {
        return Some(MetaVariable::Multiple);
    }
    if let Some(name) = text.strip_prefix(triple.as_str()) {
        if !name.starts_with(valid_first) || !name.chars().all(valid) {
            return None;
        }
        return Some(if name.starts_with('_') {
            MetaVariable::Multiple
        } else {
            MetaVariable::MultiCapture(name.into())
        });
    }
    if !text.starts_with(expando) {
        return None;
    }
    let rest = &text[sigil..];
    let (name, named) = match rest.strip_prefix(expando) {
        Some(name) => (name, false),
        None => (rest, true),
    };
    if !name.starts_with(valid_first) || !name.chars().all(valid) {
        return None;
    }
    Some(if name.starts_with('_') {
        MetaVariable::Dropped(named)
    } else {
        MetaVariable::Capture(name.into(), named)
    })
}

fn convert(node: Node<'_>, source: &str, expando: char) -> PatternNode {
    let text = &source[node.byte_range()];
    if let Some(variable) = metavariable(text, expando) {
        return PatternNode::MetaVar(variable);
    }
    if node.child_count() == 0 {
        return PatternNode::Terminal {
            text: text.into(),
            named: node.is_named(),
            kind: node.kind_id(),
        };
    }
    let mut cursor = node.walk();
    let children = node
        .children(&mut cursor)
        .filter(|child| !child.is_missing())
        .map(|child| convert(child, source, expando))
        .collect();
    PatternNode::Internal {
        kind: node.kind_id(),
        children,
    }
}

impl Pattern {
    /// The kinds a match can have, as ast-grep computes them.
    pub fn potential_kind(&self) -> Option<u16> {
        if self.strictness == Strictness::Template {
            return None;
        }
        match &self.root {
            PatternNode::Terminal { kind, .. } => Some(*kind),
            PatternNode::MetaVar(_) => self.root_kind,
            PatternNode::Internal { kind, .. } if *kind == ERROR_KIND => None,
            PatternNode::Internal { kind, .. } => Some(*kind),
        }
    }

    /// The names of the metavariables the pattern defines.
    pub fn defined_variables(&self) -> Vec<&str> {
        fn collect<'p>(node: &'p PatternNode, names: &mut Vec<&'p str>) {
            match node {
                PatternNode::MetaVar(variable) => names.extend(variable.name()),
                PatternNode::Terminal { .. } => {}
                PatternNode::Internal { children, .. } => {
                    children.iter().for_each(|child| collect(child, names))
                }
            }
        }
        let mut names = Vec::new();
        collect(&self.root, &mut names);
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Language {
        Language::from_name("python").expect("python")
    }

    fn java() -> Language {
        Language::from_name("java").expect("java")
    }

    #[test]
    fn metavariables_follow_ast_grep() {
        use MetaVariable::*;
        let parse = |text| metavariable(text, '$');
        assert_eq!(parse("$$$"), Some(Multiple));
        assert_eq!(parse("$$$_REST"), Some(Multiple));
        assert_eq!(parse("$$$ARGS"), Some(MultiCapture("ARGS".into())));
        assert_eq!(parse("$A"), Some(Capture("A".into(), true)));
        assert_eq!(parse("$$A"), Some(Capture("A".into(), false)));
        assert_eq!(parse("$A1_B"), Some(Capture("A1_B".into(), true)));
        assert_eq!(parse("$_"), Some(Dropped(true)));
        assert_eq!(parse("$$_X"), Some(Dropped(false)));
        assert_eq!(parse("$a"), None);
        assert_eq!(parse("$1"), None);
        assert_eq!(parse("$$$1"), None);
        assert_eq!(parse("A"), None);
        assert_eq!(metavariable("µX", 'µ'), Some(Capture("X".into(), true)));
    }

    #[test]
    fn expando_substitution_only_touches_metavariables() {
        assert_eq!(
            substitute_expando("f($X, $$$, $$Y, $1, $a)", 'µ'),
            "f(µX, µµµ, µµY, $1, $a)"
        );
        assert_eq!(substitute_expando("g($$$)", 'µ'), "g(µµµ)");
        assert_eq!(substitute_expando("cost $", 'µ'), "cost $");
    }

    #[test]
    fn a_pattern_reduces_to_its_single_node() {
        let pattern = compile(python(), "print($A)", None, Strictness::Smart).expect("compiles");
        let kind = python().named_kind_id("call").expect("call");
        assert_eq!(pattern.potential_kind(), Some(kind));
        assert_eq!(pattern.defined_variables(), vec!["A"]);
    }

    #[test]
    fn java_expressions_without_semicolons_compile() {
        let pattern = compile(java(), "$X.equals($Y)", None, Strictness::Smart).expect("compiles");
        let kind = java().named_kind_id("method_invocation").expect("kind");
        assert_eq!(pattern.potential_kind(), Some(kind));
    }

    #[test]
    fn error_nodes_holding_a_metavariable_are_accepted() {
        let pattern =
            compile(java(), "if ($C) { $$$ }", None, Strictness::Smart).expect("compiles");
        assert_eq!(pattern.defined_variables(), vec!["C"]);
    }

    #[test]
    fn selectors_pick_a_sub_node() {
        let pattern = compile(
            java(),
            "class A { int $F = $V; }",
            Some("field_declaration"),
            Strictness::Smart,
        )
        .expect("compiles");
        assert_eq!(pattern.root_kind, java().named_kind_id("field_declaration"));
        assert_eq!(
            compile(
                java(),
                "class A {}",
                Some("no_such_kind"),
                Strictness::Smart
            )
            .unwrap_err(),
            PatternError::UnknownSelector("no_such_kind".into())
        );
        assert_eq!(
            compile(
                java(),
                "class A {}",
                Some("method_declaration"),
                Strictness::Smart
            )
            .unwrap_err(),
            PatternError::SelectorNotFound("method_declaration".into())
        );
    }

    #[test]
    fn broken_patterns_are_rejected() {
        assert_eq!(
            compile(python(), "", None, Strictness::Smart).unwrap_err(),
            PatternError::NoContent
        );
        assert_eq!(
            compile(python(), "a\nb", None, Strictness::Smart).unwrap_err(),
            PatternError::MultipleNodes
        );
        assert_eq!(
            compile(python(), "$$$ARGS", None, Strictness::Smart).unwrap_err(),
            PatternError::RootMultiMetaVariable
        );
        assert!(matches!(
            compile(python(), "foo(($A", None, Strictness::Smart).unwrap_err(),
            PatternError::Syntax { .. }
        ));
    }
}
