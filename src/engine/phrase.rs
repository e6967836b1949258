//! Phrases: the tokens of a pattern that must stand together in a file.
//!
//! The literal prefilter ([`super::prefilter`]) asks that a file contain
//! each named leaf of a pattern *somewhere*. Many files of a large code base
//! contain both `new` and `Integer`, but few contain `new Integer(`. A
//! phrase is such a run of pattern tokens, compiled to a regex that allows,
//! between two tokens, only what a match can hold there: the *gap*. A file
//! with no match of one of a rule's phrases is not parsed for that rule.
//!
//! **Why a match contains each phrase.** Under the `smart` and `cst`
//! strictness, every pattern leaf is matched by a target node, in order
//! ([`super::pattern_match`]): a named leaf by a node with the same text, an
//! unnamed one (punctuation, keywords) by a node of the same kind, whose
//! text is the token itself. Between two consecutive leaves the target can
//! only hold what the matcher skips and what the tree does not show:
//! whitespace, comments and other extras, unnamed tokens, and the hidden
//! tokens of the grammar. The gap allows all of that: any run of whitespace,
//! the language's comments and line continuations, backslashes, and every
//! unnamed token of the grammar. Three things end a phrase instead:
//! - a metavariable, which can stand for any text, unless a constraint pins
//!   it to a finite list of words (`^(Integer|Long)$`): then the phrase
//!   takes the list, since every match binds a node with one of those texts;
//! - the end of a pattern node with children, because `smart` lets the
//!   target node have more children after the pattern's last one;
//! - a leaf that is not the token of its kind (an alias), and the unnamed
//!   leaves after `$$$`, which the matcher may skip.
//!
//! A token that tree-sitter's error recovery inserted (a `MISSING` node) has
//! no text, so a pattern leaf never matches one (see `terminal` in
//! [`super::pattern_match`]): a match is made of text that is in the file.
//!
//! Other strictness levels may leave pattern tokens unmatched, and SQL has
//! case-insensitive keywords; they get no phrases. A phrase of fewer than
//! two tokens, or shorter than [`MINIMUM_PHRASE`] characters, is dropped:
//! the literal prefilter already asks for it, or it is everywhere.
//!
//! The grammars' hidden tokens and unnamed aliases were checked against
//! their `grammar.json`: Java has none; Python has `_not_escape_sequence`
//! (a backslash, in the gap) and the aliases `not in` and `is not` (two
//! keywords, so a gap stands between their words).

use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};

use crate::lang::Language;
use crate::rule::Strictness;
use crate::rule::matcher::{CoreRule, Matcher, UtilityReference};
use crate::rule::pattern::{ERROR_KIND, MetaVariable, Pattern, PatternNode};

/// Phrases shorter than this (in characters of their tokens) are dropped.
const MINIMUM_PHRASE: usize = 4;

/// A regex that every file with a match of some rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Phrase {
    /// The regex source.
    pub(crate) regex: String,
    /// The characters of its shortest token sequence (for choosing).
    length: usize,
}

/// For each of a language's rules, the phrases a file must contain for it
/// to match (each one). The gap is built once for all of them.
pub(crate) fn rule_phrases(
    language: Language,
    cores: &[&CoreRule],
    globals: &[CoreRule],
) -> Vec<Vec<Phrase>> {
    let Some(gap) = gap(language) else {
        return vec![Vec::new(); cores.len()];
    };
    let context = Context {
        language,
        gap: &gap,
        globals,
    };
    cores
        .iter()
        .map(|core| {
            let mut phrases = context.matcher(&core.matcher, Scope::of(core), &mut Vec::new());
            phrases.sort_by(|left, right| left.regex.cmp(&right.regex));
            phrases.dedup();
            phrases
        })
        .collect()
}

impl Phrase {
    /// The characters of its shortest token sequence.
    pub(crate) fn length(&self) -> usize {
        self.length
    }

    /// The compiled regex; `None` if it is too large to compile, and then
    /// the caller leaves the phrase out (a weaker filter, never a wrong one).
    pub(crate) fn compile(&self) -> Option<Regex> {
        RegexBuilder::new(&self.regex)
            .size_limit(32 << 20)
            .build()
            .ok()
    }
}

/// The regex of what may stand between two tokens of a match, or `None`
/// when the language gets no phrases.
fn gap(language: Language) -> Option<String> {
    let trivia = language.trivia()?;
    let grammar = language.grammar();
    let mut tokens: Vec<&str> = (0..grammar.node_kind_count())
        .filter_map(|id| u16::try_from(id).ok())
        .filter(|&id| grammar.node_kind_is_visible(id) && !grammar.node_kind_is_named(id))
        .filter_map(|id| grammar.node_kind_for_id(id))
        .filter(|token| !token.is_empty())
        .collect();
    tokens.sort_unstable_by(|left, right| right.len().cmp(&left.len()).then(left.cmp(right)));
    tokens.dedup();
    let tokens: Vec<String> = tokens.into_iter().map(regex::escape).collect();
    Some(format!(
        r"(?:[\s\x{{FEFF}}\x{{2060}}\x{{200B}}\x{{180E}}\\]|{trivia}|{})*",
        tokens.join("|")
    ))
}

/// The constraints and local utilities in force: those of the rule whose
/// metavariables the patterns bind.
#[derive(Clone, Copy)]
struct Scope<'m> {
    constraints: &'m [(Box<str>, Matcher)],
    locals: &'m [Matcher],
}

impl<'m> Scope<'m> {
    fn of(core: &'m CoreRule) -> Scope<'m> {
        Scope {
            constraints: &core.constraints,
            locals: &core.locals,
        }
    }

    fn without_constraints(self) -> Scope<'m> {
        Scope {
            constraints: &[],
            locals: self.locals,
        }
    }

    /// The words a metavariable's text must be one of, when a regex
    /// constraint pins it to finitely many words.
    fn words(&self, name: &str) -> Option<Vec<String>> {
        let (_, constraint) = self
            .constraints
            .iter()
            .find(|(constrained, _)| **constrained == *name)?;
        let regexes: Vec<&regex::Regex> = match constraint {
            Matcher::Regex(regex) => vec![regex],
            Matcher::All(members) => members
                .iter()
                .filter_map(|member| match member {
                    Matcher::Regex(regex) => Some(regex),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        regexes
            .into_iter()
            .filter_map(|regex| exact_words(regex.as_str()))
            .min_by_key(Vec::len)
    }
}

/// The whole texts a regex matches, when it is anchored at both ends and
/// matches finitely many words (letters, digits, `_` and `$`).
fn exact_words(regex: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::Parser::new().parse(regex).ok()?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let [first, middle @ .., last] = parts.as_slice() else {
        return None;
    };
    let is_look =
        |part: &Hir, look: Look| matches!(part.kind(), HirKind::Look(found) if *found == look);
    if !is_look(first, Look::Start) || !is_look(last, Look::End) {
        return None;
    }
    let middle = Hir::concat(middle.to_vec());
    let sequence = Extractor::new().kind(ExtractKind::Prefix).extract(&middle);
    let literals = sequence.literals()?;
    let mut words = Vec::new();
    for literal in literals {
        let word = std::str::from_utf8(literal.as_bytes()).ok()?;
        let is_word = !word.is_empty()
            && word.chars().all(|character| {
                character.is_alphanumeric() || character == '_' || character == '$'
            });
        if !literal.is_exact() || !is_word {
            return None;
        }
        words.push(word.to_owned());
    }
    (!words.is_empty()).then_some(words)
}

/// One element of a pattern's token sequence.
enum Item {
    /// Text that stands here in every match: one of these regexes.
    Text { regexes: Vec<String>, length: usize },
    /// Anything may stand here.
    Break,
}

struct Context<'c> {
    language: Language,
    gap: &'c str,
    globals: &'c [CoreRule],
}

/// Utilities being expanded, to stop at recursive references.
type Visiting = Vec<(bool, usize)>;

impl Context<'_> {
    fn matcher(&self, matcher: &Matcher, scope: Scope<'_>, visiting: &mut Visiting) -> Vec<Phrase> {
        match matcher {
            Matcher::Pattern(pattern) => self.pattern(pattern, scope),
            // `ofRule` matches a sibling, but its bindings are dropped, so
            // no constraint is checked on them.
            Matcher::NthChild(nth) => match &nth.of_rule {
                Some(rule) => self.matcher(rule, scope.without_constraints(), visiting),
                None => Vec::new(),
            },
            Matcher::Inside(relation)
            | Matcher::Has(relation)
            | Matcher::Precedes(relation)
            | Matcher::Follows(relation) => self.matcher(&relation.rule, scope, visiting),
            Matcher::All(members) => members
                .iter()
                .flat_map(|member| self.matcher(member, scope, visiting))
                .collect(),
            Matcher::Any(members) => {
                // Whichever member matched, its longest phrase is there.
                let mut chosen = Vec::new();
                for member in members {
                    let best = self
                        .matcher(member, scope, visiting)
                        .into_iter()
                        .max_by_key(|phrase| phrase.length);
                    match best {
                        Some(phrase) => chosen.push(phrase),
                        None => return Vec::new(),
                    }
                }
                chosen.sort_by(|left, right| left.regex.cmp(&right.regex));
                chosen.dedup();
                let length = chosen.iter().map(|phrase| phrase.length).min().unwrap_or(0);
                let regexes: Vec<String> = chosen.into_iter().map(|phrase| phrase.regex).collect();
                vec![Phrase {
                    regex: alternatives(&regexes),
                    length,
                }]
            }
            Matcher::Matches(reference) => {
                let (key, target, target_scope) = match *reference {
                    UtilityReference::Local(index) => match scope.locals.get(index) {
                        Some(local) => ((false, index), local, scope),
                        None => return Vec::new(),
                    },
                    UtilityReference::Global(index) => match self.globals.get(index) {
                        Some(core) => ((true, index), &core.matcher, Scope::of(core)),
                        None => return Vec::new(),
                    },
                };
                if visiting.contains(&key) {
                    return Vec::new();
                }
                visiting.push(key);
                let phrases = self.matcher(target, target_scope, visiting);
                visiting.pop();
                phrases
            }
            Matcher::Kind(_)
            | Matcher::Regex(_)
            | Matcher::Range(_)
            | Matcher::Query(_)
            | Matcher::Not(_) => Vec::new(),
        }
    }

    fn pattern(&self, pattern: &Pattern, scope: Scope<'_>) -> Vec<Phrase> {
        if !matches!(pattern.strictness, Strictness::Smart | Strictness::Cst) {
            return Vec::new();
        }
        let mut items = Vec::new();
        self.items(&pattern.root, scope, &mut items);
        items
            .split(|item| matches!(item, Item::Break))
            .filter(|run| run.len() >= 2)
            .filter_map(|run| {
                let mut parts = Vec::new();
                let mut length = 0;
                for item in run {
                    if let Item::Text {
                        regexes,
                        length: item_length,
                    } = item
                    {
                        parts.push(alternatives(regexes));
                        length += item_length;
                    }
                }
                (length >= MINIMUM_PHRASE).then(|| Phrase {
                    regex: parts.join(self.gap),
                    length,
                })
            })
            .collect()
    }

    /// Appends the token sequence of a pattern node.
    fn items(&self, node: &PatternNode, scope: Scope<'_>, items: &mut Vec<Item>) {
        match node {
            PatternNode::Terminal { text, named, kind } => {
                if text.is_empty() {
                    return;
                }
                if *named {
                    items.push(Item::Text {
                        regexes: vec![regex::escape(text)],
                        length: text.chars().count(),
                    });
                } else if *kind != ERROR_KIND && self.language.kind_name(*kind) == &**text {
                    // An alias of several keywords (`not in`) may have any
                    // gap between its words.
                    let words: Vec<String> = text.split_whitespace().map(regex::escape).collect();
                    items.push(Item::Text {
                        regexes: vec![words.join(self.gap)],
                        length: text
                            .split_whitespace()
                            .map(|word| word.chars().count())
                            .sum(),
                    });
                } else {
                    items.push(Item::Break);
                }
            }
            PatternNode::MetaVar(MetaVariable::Capture(name, _)) => match scope.words(name) {
                Some(words) => items.push(Item::Text {
                    length: words
                        .iter()
                        .map(|word| word.chars().count())
                        .min()
                        .unwrap_or(0),
                    regexes: words.iter().map(|word| regex::escape(word)).collect(),
                }),
                None => items.push(Item::Break),
            },
            PatternNode::MetaVar(_) => items.push(Item::Break),
            PatternNode::Internal { kind, children } => {
                if *kind == ERROR_KIND {
                    items.push(Item::Break);
                    return;
                }
                let mut after_ellipsis = false;
                for child in children.iter() {
                    if after_ellipsis && child.is_trivial() {
                        // The matcher may skip these after `$$$`.
                        continue;
                    }
                    after_ellipsis = matches!(
                        child,
                        PatternNode::MetaVar(
                            MetaVariable::Multiple | MetaVariable::MultiCapture(_)
                        )
                    );
                    self.items(child, scope, items);
                }
                // The target node may have more children after these.
                items.push(Item::Break);
            }
        }
    }
}

/// One regex matching any of `regexes`.
fn alternatives(regexes: &[String]) -> String {
    match regexes {
        [single] => format!("(?:{single})"),
        _ => format!("(?:{})", regexes.join("|")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::env::Env;
    use crate::engine::evaluate::{self, Context};
    use crate::lang;
    use crate::rule::load::RuleSet;

    fn rule_set(yaml: &str) -> RuleSet {
        RuleSet::from_text(Path::new("test.yml"), yaml).expect("the rule loads")
    }

    fn phrases_of(set: &RuleSet) -> Vec<Regex> {
        let rule = &set.rules[0];
        rule_phrases(rule.language, &[&rule.core], &set.globals.rules)
            .remove(0)
            .iter()
            .map(|phrase| phrase.compile().expect("compiles"))
            .collect()
    }

    fn passes(phrases: &[Regex], text: &str) -> bool {
        phrases
            .iter()
            .all(|phrase| phrase.is_match(text.as_bytes()))
    }

    /// Matches of the set's first rule at any node, without any prefilter.
    fn match_count(set: &RuleSet, text: &str) -> usize {
        let rule = &set.rules[0];
        let tree = lang::parse(rule.language, text).expect("parses");
        let context = Context::new(text, tree.root_node(), &set.globals.rules);
        lang::pre_order(tree.root_node())
            .filter(|node| {
                let mut env = Env::default();
                evaluate::match_core(&rule.core, *node, &mut env, &context).is_some()
            })
            .count()
    }

    const THREAD_SLEEP: &str = "id: a\nlanguage: java\nrule: {pattern: Thread.sleep($X)}\n";
    const BOXED: &str = "id: a\nlanguage: java\nrule: {pattern: new $T($V)}\n\
        constraints: {T: {regex: '^(Integer|Long)$'}}\n";
    const RMTREE: &str = "id: a\nlanguage: python\nrule: {pattern: shutil.rmtree($P)}\n";
    const NOT_IN: &str = "id: a\nlanguage: python\nrule: {pattern: $A not in $B}\n";
    const SIZE: &str = "id: a\nlanguage: java\nrule:\n  any:\n    - pattern: $C.size() == 0\n    - pattern: 0 == $C.size()\n";

    #[test]
    fn phrases_hold_the_tokens_together_with_gaps_between() {
        let sleep = phrases_of(&rule_set(THREAD_SLEEP));
        assert_eq!(sleep.len(), 1);
        assert!(passes(&sleep, "Thread.sleep(1);"));
        assert!(passes(&sleep, "Thread . /* a */ sleep\n  // b\n  (1);"));
        assert!(!passes(
            &sleep,
            "Thread t = current(); t.sleep(1); sleep(Thread.MAX)"
        ));

        let boxed = phrases_of(&rule_set(BOXED));
        assert!(passes(&boxed, "x = new Integer(1);"));
        assert!(passes(&boxed, "x = new /* x */ Long\n(2);"));
        assert!(!passes(
            &boxed,
            "x = new java.lang.Integer(1); y = new Integers(2);"
        ));
        assert!(!passes(&boxed, "Integer x = new Foo(1);"));

        let rmtree = phrases_of(&rule_set(RMTREE));
        assert!(passes(&rmtree, "shutil.rmtree(p)"));
        assert!(passes(&rmtree, "shutil \\\n    .rmtree(p)"));
        assert!(!passes(&rmtree, "shutil.copytree(a, b); rmtree(p)"));

        let not_in = phrases_of(&rule_set(NOT_IN));
        assert!(passes(&not_in, "a not\t in b"));
        assert!(!passes(&not_in, "a not b in c"));
    }

    #[test]
    fn any_needs_one_phrase_of_each_member() {
        let size = phrases_of(&rule_set(SIZE));
        assert_eq!(size.len(), 1);
        assert!(passes(&size, "if (list.size() == 0) {}"));
        assert!(passes(&size, "if (0 == list.size()) {}"));
        assert!(!passes(&size, "int size = 0; list.size;"));
    }

    #[test]
    fn no_phrase_where_a_token_may_be_left_out() {
        for yaml in [
            // A metavariable alone stands for any text.
            "id: a\nlanguage: java\nrule: {kind: identifier, pattern: $X}\n",
            // `ast` skips the pattern's unnamed tokens.
            "id: a\nlanguage: java\nrule: {pattern: {context: 'a.b(c)', strictness: ast}}\n",
            // A member of `any` with no phrase.
            "id: a\nlanguage: java\nrule: {any: [{pattern: a.b(c)}, {kind: identifier}]}\n",
            // SQL keywords are case-insensitive.
            "id: a\nlanguage: sql\nrule: {pattern: SELECT a FROM b}\n",
            // `ofRule` bindings are dropped: its constraint is not checked.
            "id: a\nlanguage: java\nrule: {kind: object_creation_expression, nthChild: {position: 1, ofRule: {pattern: new $T()}}}\nconstraints: {T: {regex: '^(Integer|Long)$'}}\n",
            // An unanchored constraint is no list of words.
            "id: a\nlanguage: java\nrule: {pattern: new $T()}\nconstraints: {T: {regex: 'Integer|Long'}}\n",
        ] {
            assert!(phrases_of(&rule_set(yaml)).is_empty(), "{yaml}");
        }
    }

    #[test]
    fn exact_words_are_finite_anchored_word_lists() {
        assert_eq!(
            exact_words("^(Integer|Long)$"),
            Some(vec!["Integer".to_owned(), "Long".to_owned()])
        );
        assert_eq!(
            exact_words("^EMPTY_(LIST|MAP)$").map(|words| words.len()),
            Some(2)
        );
        assert_eq!(exact_words("^Integer"), None);
        assert_eq!(exact_words("(?m)^Integer$"), None);
        assert_eq!(exact_words("^a+$"), None);
        assert_eq!(exact_words("^a.b$"), None);
    }

    /// `text` with `trivia` put between two tokens on one line, outside
    /// strings: once between every such pair, and once at each of them.
    fn spread(language: Language, text: &str, trivia: &str) -> Vec<String> {
        let tree = lang::parse(language, text).expect("parses");
        let in_string = |node: tree_sitter::Node<'_>| {
            std::iter::successors(Some(node), tree_sitter::Node::parent)
                .any(|ancestor| ancestor.kind().contains("string"))
        };
        let leaves: Vec<tree_sitter::Node<'_>> = lang::pre_order(tree.root_node())
            .filter(|node| node.child_count() == 0 && node.end_byte() > node.start_byte())
            .collect();
        let boundaries: Vec<usize> = leaves
            .windows(2)
            .filter(|pair| {
                let between = &text[pair[0].end_byte()..pair[1].start_byte()];
                !between.contains('\n') && !in_string(pair[0]) && !in_string(pair[1])
            })
            .map(|pair| pair[0].end_byte())
            .collect();
        let insert = |at: &[usize]| {
            let mut output = String::new();
            let mut position = 0;
            for &boundary in at {
                output.push_str(&text[position..boundary]);
                output.push_str(trivia);
                position = boundary;
            }
            output.push_str(&text[position..]);
            output
        };
        std::iter::once(insert(&boundaries))
            .chain(
                boundaries
                    .iter()
                    .map(|boundary| insert(std::slice::from_ref(boundary))),
            )
            .collect()
    }

    /// The property the prefilter rests on: wherever a rule matches, its
    /// phrases are in the text, also with comments, line continuations and
    /// odd spacing between the tokens.
    #[test]
    fn every_match_contains_its_phrases() {
        let cases: [(&str, &[&str]); 5] = [
            (
                THREAD_SLEEP,
                &["class A { void f() throws Exception { Thread.sleep(10); } }"],
            ),
            (
                BOXED,
                &["class A { Object f() { return new Integer(1) + new Long(x); } }"],
            ),
            (
                SIZE,
                &["class A { boolean f() { return list.size() == 0 || 0 == b.c.size(); } }"],
            ),
            (
                RMTREE,
                &[
                    "import shutil\nshutil.rmtree(path)\n",
                    "x = [shutil.rmtree(p) for p in ps]\n",
                ],
            ),
            (NOT_IN, &["if key not in table:\n    pass\n"]),
        ];
        let mut spread_matches = 0;
        for (yaml, texts) in cases {
            let set = rule_set(yaml);
            let language = set.rules[0].language;
            let phrases = phrases_of(&set);
            assert!(!phrases.is_empty(), "{yaml}");
            let trivia: &[&str] = if language.name() == "python" {
                &[" \\\n  ", "\t", "  # c\n    "]
            } else {
                &[" /* c */ ", "\n// c\n", "  \t"]
            };
            for text in texts {
                assert!(
                    match_count(&set, text) > 0,
                    "no match in {text:?} for {yaml}"
                );
                assert!(passes(&phrases, text), "phrases miss {text:?} for {yaml}");
                // A comment inside a node can keep the pattern from
                // matching at all; where it still matches, the phrases hold.
                for variant in trivia
                    .iter()
                    .flat_map(|trivia| spread(language, text, trivia))
                {
                    if match_count(&set, &variant) > 0 {
                        spread_matches += 1;
                        assert!(
                            passes(&phrases, &variant),
                            "phrases miss {variant:?} for {yaml}"
                        );
                    }
                }
            }
        }
        assert!(
            spread_matches >= 100,
            "only {spread_matches} spread variants matched"
        );
    }

    #[test]
    fn missing_tokens_do_not_match() {
        // The call lacks its `)`; error recovery inserts one.
        let set = rule_set("id: a\nlanguage: java\nrule: {pattern: f($X)}\n");
        assert_eq!(match_count(&set, "class A { void g() { f(1; } }"), 0);
        assert_eq!(match_count(&set, "class A { void g() { f(1); } }"), 1);
    }
}
