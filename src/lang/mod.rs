//! Languages: file extensions and rule names mapped to tree-sitter grammars.
//!
//! Every supported language is one entry in [`TABLE`]. A [`Language`] is a
//! cheap copyable handle to its entry, so adding a language means adding one
//! row here and nothing else. Parsers are expensive to create, so each thread
//! keeps one parser per language ([`parse`]).

pub mod outline;

use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{Node, Parser, Tree};

/// One supported language.
pub struct LanguageSpec {
    /// The canonical name, used in output and in rule files.
    pub name: &'static str,
    /// Other names accepted in rule files (compared case-insensitively).
    pub aliases: &'static [&'static str],
    /// File extensions (without the dot) that select this language.
    pub extensions: &'static [&'static str],
    /// The character that stands in for `$` when a pattern is parsed, for
    /// grammars in which `$` cannot start an identifier (as in ast-grep).
    pub expando: char,
    /// A regex of what the grammar skips between two tokens besides
    /// whitespace (comments, line continuations), for the phrase prefilter;
    /// `None` leaves the language without phrases.
    pub trivia: Option<&'static str>,
    /// How to cut a file into members without parsing it, so that only the
    /// members a rule needs are parsed ([`outline`]); `None` parses whole files.
    pub outline: Option<&'static outline::OutlineSpec>,
    grammar: tree_sitter_language::LanguageFn,
    compiled: OnceLock<tree_sitter::Language>,
}

static TABLE: [LanguageSpec; 3] = [
    LanguageSpec {
        name: "python",
        aliases: &["py"],
        // As ast-grep: Starlark (Bazel) files parse as Python too.
        extensions: &["py", "pyi", "py3", "bzl", "bazel"],
        expando: 'µ',
        // Comments and line continuations (a backslash, then the newline).
        trivia: Some(r"#[^\n]*|\\\r?\n"),
        outline: Some(&outline::PYTHON),
        grammar: tree_sitter_python::LANGUAGE,
        compiled: OnceLock::new(),
    },
    LanguageSpec {
        name: "java",
        aliases: &[],
        extensions: &["java"],
        expando: '$',
        trivia: Some(r"//[^\n]*|(?s:/\*.*?\*/)"),
        outline: Some(&outline::JAVA),
        grammar: tree_sitter_java::LANGUAGE,
        compiled: OnceLock::new(),
    },
    LanguageSpec {
        name: "sql",
        aliases: &[],
        extensions: &["sql"],
        // The grammar's identifiers allow Latin letters up to U+017F only.
        expando: 'ſ',
        // Keywords are case-insensitive: no phrases.
        trivia: None,
        outline: None,
        grammar: tree_sitter_sequel::LANGUAGE,
        compiled: OnceLock::new(),
    },
];

/// A handle to one supported language.
#[derive(Clone, Copy)]
pub struct Language(&'static LanguageSpec);

impl Language {
    /// Every supported language, in table order.
    pub fn all() -> impl Iterator<Item = Language> {
        TABLE.iter().map(Language)
    }

    /// Looks a language up by its name or an alias, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Language> {
        Self::all().find(|language| {
            language.0.name.eq_ignore_ascii_case(name)
                || language
                    .0
                    .aliases
                    .iter()
                    .any(|alias| alias.eq_ignore_ascii_case(name))
        })
    }

    /// The language of a file, from its extension.
    pub fn from_path(path: &Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?;
        Self::all().find(|language| language.0.extensions.contains(&extension))
    }

    /// The names accepted in rule files, for error messages.
    pub fn known_names() -> String {
        Self::all()
            .map(|language| language.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn expando(self) -> char {
        self.0.expando
    }

    /// What the grammar skips between tokens besides whitespace, as a regex
    /// (see [`LanguageSpec::trivia`]).
    pub fn trivia(self) -> Option<&'static str> {
        self.0.trivia
    }

    /// How files of this language are outlined, if they are.
    pub fn outline(self) -> Option<&'static outline::OutlineSpec> {
        self.0.outline
    }

    /// A small dense number for this language, usable as an array index.
    pub fn index(self) -> usize {
        TABLE
            .iter()
            .position(|spec| std::ptr::eq(spec, self.0))
            .unwrap_or(0)
    }

    /// The tree-sitter grammar.
    pub fn grammar(self) -> &'static tree_sitter::Language {
        self.0
            .compiled
            .get_or_init(|| tree_sitter::Language::new(self.0.grammar))
    }

    /// The id of a named node kind, or `None` when the grammar has no such kind.
    pub fn named_kind_id(self, kind: &str) -> Option<u16> {
        match self.grammar().id_for_node_kind(kind, true) {
            0 => None,
            id => Some(id),
        }
    }

    /// The name of a node kind id.
    pub fn kind_name(self, id: u16) -> &'static str {
        self.grammar().node_kind_for_id(id).unwrap_or("?")
    }

    /// The id of a field name, or `None` when the grammar has no such field.
    pub fn field_id(self, field: &str) -> Option<u16> {
        self.grammar().field_id_for_name(field).map(|id| id.get())
    }
}

impl PartialEq for Language {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Language {}

impl PartialOrd for Language {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Language {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index().cmp(&other.index())
    }
}

impl std::hash::Hash for Language {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl std::fmt::Debug for Language {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.0.name)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.0.name)
    }
}

thread_local! {
    static PARSERS: RefCell<Vec<Option<Parser>>> = const { RefCell::new(Vec::new()) };
}

/// Whether ast-grep knows a language name (or alias) that fleetmod may not:
/// its rules are skipped with a warning rather than rejected, so an ast-grep
/// project with rules for many languages still runs.
pub fn is_ast_grep_language(name: &str) -> bool {
    const NAMES: [&str; 46] = [
        "bash",
        "c",
        "cc",
        "c++",
        "cpp",
        "cxx",
        "cs",
        "csharp",
        "css",
        "dart",
        "ex",
        "elixir",
        "go",
        "golang",
        "hs",
        "haskell",
        "hcl",
        "html",
        "java",
        "javascript",
        "js",
        "jsx",
        "json",
        "kotlin",
        "kt",
        "lua",
        "markdown",
        "md",
        "nix",
        "php",
        "py",
        "python",
        "rb",
        "ruby",
        "rs",
        "rust",
        "scala",
        "sol",
        "solidity",
        "swift",
        "ts",
        "typescript",
        "tsx",
        "yaml",
        "yml",
        "zig",
    ];
    NAMES.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// Runs `work` with this thread's parser for `language`.
fn with_parser<T>(language: Language, work: impl FnOnce(&mut Parser) -> Option<T>) -> Option<T> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let index = language.index();
        if parsers.len() <= index {
            parsers.resize_with(index + 1, || None);
        }
        if parsers[index].is_none() {
            let mut parser = Parser::new();
            parser.set_language(language.grammar()).ok()?;
            parsers[index] = Some(parser);
        }
        let parser = parsers[index].as_mut()?;
        parser.reset();
        work(parser)
    })
}

/// Parses `source` with a parser cached for this thread.
///
/// Returns `None` only when tree-sitter gives up (it never does without a
/// timeout or cancellation flag, which fleetmod does not set).
pub fn parse(language: Language, source: &str) -> Option<Tree> {
    with_parser(language, |parser| {
        parser.set_included_ranges(&[]).ok()?;
        parser.parse(source, None)
    })
}

/// Parses only `ranges` of `source` (sorted and disjoint byte ranges), as
/// if the text between them were not there; nodes keep their offsets and
/// positions in `source`. See [`outline`] for when that gives the same
/// nodes as a full parse.
pub fn parse_ranges(language: Language, source: &str, ranges: &[Range<usize>]) -> Option<Tree> {
    let ranges = point_ranges(source, ranges);
    with_parser(language, |parser| {
        parser.set_included_ranges(&ranges).ok()?;
        parser.parse(source, None)
    })
}

/// The byte ranges `tree` was parsed from ([`parse_ranges`]), or `None`
/// when it is the parse of a whole text.
pub fn parsed_ranges(tree: &Tree) -> Option<Vec<Range<usize>>> {
    let ranges = tree.included_ranges();
    // A whole-text parse has one range, to the end of any text.
    let whole = match ranges.as_slice() {
        [] => true,
        [only] => only.start_byte == 0 && only.end_byte >= u32::MAX as usize,
        _ => false,
    };
    (!whole).then(|| {
        ranges
            .iter()
            .map(|range| range.start_byte..range.end_byte)
            .collect()
    })
}

/// Whether `tree` is the parse of a whole text, not of some ranges of it.
pub fn is_whole(tree: &Tree) -> bool {
    parsed_ranges(tree).is_none()
}

/// Byte ranges with their rows and columns, for tree-sitter.
fn point_ranges(source: &str, ranges: &[Range<usize>]) -> Vec<tree_sitter::Range> {
    let bytes = source.as_bytes();
    let mut row = 0;
    let mut line_start = 0;
    let mut counted = 0;
    let mut point = |offset: usize| {
        for newline in memchr::memchr_iter(b'\n', &bytes[counted..offset]) {
            row += 1;
            line_start = counted + newline + 1;
        }
        counted = offset;
        tree_sitter::Point::new(row, offset - line_start)
    };
    ranges
        .iter()
        .map(|range| tree_sitter::Range {
            start_byte: range.start,
            start_point: point(range.start),
            end_byte: range.end,
            end_point: point(range.end),
        })
        .collect()
}

/// Parses `source` again after `old` (a tree of the previous text, already
/// told about the changes with [`Tree::edit`]): tree-sitter reuses every
/// subtree the changes did not touch, so a few edits in a large file cost
/// far less than a fresh parse, and the result is the same tree. `ranges`
/// are the byte ranges of `source` to parse, for a tree of some ranges only
/// ([`parse_ranges`]); `None` parses all of it.
pub fn reparse(
    language: Language,
    source: &str,
    old: &Tree,
    ranges: Option<&[Range<usize>]>,
) -> Option<Tree> {
    let ranges = ranges.map_or_else(Vec::new, |ranges| point_ranges(source, ranges));
    let parse = |old: Option<&Tree>| {
        with_parser(language, |parser| {
            parser.set_included_ranges(&ranges).ok()?;
            parser.parse(source, old)
        })
    };
    parse(Some(old)).or_else(|| parse(None))
}

/// `node` and all its descendants in pre-order, named or not.
pub fn pre_order(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    pre_order_where(node, |_| true)
}

/// `node` and its descendants in pre-order, entering only the nodes for
/// which `enter` holds: the others are yielded, but not their descendants.
pub fn pre_order_where<'t>(
    node: Node<'t>,
    mut enter: impl FnMut(Node<'t>) -> bool,
) -> impl Iterator<Item = Node<'t>> {
    let mut cursor = node.walk();
    let start = node.id();
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let current = cursor.node();
        if enter(current) && cursor.goto_first_child() {
            return Some(current);
        }
        loop {
            if cursor.node().id() == start {
                done = true;
                break;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                done = true;
                break;
            }
        }
        Some(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_extensions() {
        let language = |path: &str| Language::from_path(Path::new(path)).map(Language::name);
        assert_eq!(language("a/b.py"), Some("python"));
        assert_eq!(language("b.pyi"), Some("python"));
        assert_eq!(language("B.java"), Some("java"));
        assert_eq!(language("model.sql"), Some("sql"));
        assert_eq!(language("README.md"), None);
        assert_eq!(language("Makefile"), None);
    }

    #[test]
    fn names_and_aliases_ignore_case() {
        assert_eq!(
            Language::from_name("Python").map(Language::name),
            Some("python")
        );
        assert_eq!(
            Language::from_name("py").map(Language::name),
            Some("python")
        );
        assert_eq!(
            Language::from_name("JAVA").map(Language::name),
            Some("java")
        );
        assert!(Language::from_name("cobol").is_none());
    }

    #[test]
    fn every_grammar_parses() {
        for (language, source) in [
            ("python", "x = f(1)\n"),
            ("java", "class A { void f() { g(1); } }"),
            ("sql", "SELECT a FROM t WHERE b = 1;"),
        ] {
            let language = Language::from_name(language).expect("known language");
            let tree = parse(language, source).expect("parses");
            assert!(
                !tree.root_node().has_error(),
                "{language}: {}",
                tree.root_node().to_sexp()
            );
        }
    }

    #[test]
    fn kinds_and_fields_resolve() {
        let python = Language::from_name("python").expect("python");
        let call = python.named_kind_id("call").expect("call kind");
        assert_eq!(python.kind_name(call), "call");
        assert!(python.named_kind_id("no_such_kind").is_none());
        assert!(python.field_id("function").is_some());
        assert!(python.field_id("no_such_field").is_none());
    }
}
