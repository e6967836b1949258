//! The literal prefilter: skip files that cannot match before parsing them.
//!
//! For each rule we derive a *requirement*: a list of clauses, each a set of
//! literals of which a matching file contains at least one. Every clause
//! must hold. A pattern requires the text of each of its named leaves
//! (patterns compare named leaves by exact text), a `regex` one of its
//! required prefixes, `all` the clauses of all its members, `any` one clause
//! built from a clause of each member, and relational and utility sub-rules
//! what they require (they must match some node of the same file). One
//! Aho-Corasick automaton per language finds the literals a file contains;
//! a rule with an unsatisfied clause is skipped, and a file with no rule
//! left is never parsed. Rules with no clause (`kind` alone, say) always run.
//! A rule whose clauses all hold must then also find each of its phrases
//! ([`super::phrase`]): runs of pattern tokens that stand side by side in
//! every match, checked with one regex search each, at most once per file.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::phrase::Phrase;
use crate::rule::Strictness;
use crate::rule::matcher::{CoreRule, Matcher, UtilityReference};
use crate::rule::pattern::{MetaVariable, Pattern, PatternNode};

/// A set of literals of which a matching file contains at least one.
pub(crate) type Clause = Vec<Vec<u8>>;

/// Clauses that a matching file satisfies; empty when nothing is required.
pub(crate) type Requirement = Vec<Clause>;

/// Literals shorter than this occur almost everywhere; clauses made only of
/// them are dropped (dropping a clause only weakens the filter).
const MINIMUM_LITERAL: usize = 3;

/// Finds which of several rules can match a file.
pub(crate) struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Per rule, per clause, the ids of the clause's literals.
    clauses: Vec<Vec<Vec<usize>>>,
    literal_count: usize,
    /// Every distinct phrase ([`super::phrase`]), compiled; `None` if it
    /// is too large to compile, and then every text passes it.
    phrases: Vec<Option<Regex>>,
    /// Per rule, the ids of the phrases a file must contain.
    rule_phrases: Vec<Vec<usize>>,
    /// Per rule, its compiled phrase of most characters, if any.
    longest: Vec<Option<usize>>,
}

impl Prefilter {
    /// `requirements[i]` and `phrases[i]` are what rule `i` needs; missing
    /// phrases mean none.
    pub(crate) fn new(requirements: &[Requirement], phrases: &[Vec<Phrase>]) -> Prefilter {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut clauses = Vec::new();
        for requirement in requirements {
            let mut rule_clauses = Vec::new();
            for clause in requirement {
                let ids = clause
                    .iter()
                    .map(
                        |literal| match literals.iter().position(|known| known == literal) {
                            Some(index) => index,
                            None => {
                                literals.push(literal.clone());
                                literals.len() - 1
                            }
                        },
                    )
                    .collect();
                rule_clauses.push(ids);
            }
            clauses.push(rule_clauses);
        }
        let automaton = literal_automaton(&literals);
        let mut distinct: Vec<&Phrase> = Vec::new();
        let mut rule_phrases = Vec::new();
        for rule in phrases {
            let ids = rule
                .iter()
                .map(
                    |phrase| match distinct.iter().position(|known| *known == phrase) {
                        Some(index) => index,
                        None => {
                            distinct.push(phrase);
                            distinct.len() - 1
                        }
                    },
                )
                .collect();
            rule_phrases.push(ids);
        }
        let phrases: Vec<Option<Regex>> = distinct.iter().map(|phrase| phrase.compile()).collect();
        let longest = rule_phrases
            .iter()
            .map(|ids: &Vec<usize>| {
                ids.iter()
                    .copied()
                    .filter(|&id| phrases[id].is_some())
                    .max_by_key(|&id| distinct[id].length())
            })
            .collect();
        Prefilter {
            automaton,
            literal_count: literals.len(),
            clauses,
            phrases,
            rule_phrases,
            longest,
        }
    }

    /// A compiled phrase, by id.
    pub(crate) fn phrase(&self, id: usize) -> Option<&Regex> {
        self.phrases.get(id)?.as_ref()
    }

    /// The id of a rule's compiled phrase of most characters, if any.
    pub(crate) fn longest_phrase(&self, rule: usize) -> Option<usize> {
        self.longest.get(rule).copied().flatten()
    }

    /// Which rules may match a file with this content.
    pub(crate) fn enabled(&self, content: &[u8]) -> Vec<bool> {
        let mut found = vec![false; self.literal_count];
        if let Some(automaton) = &self.automaton {
            let mut remaining = self.literal_count;
            for hit in automaton.find_overlapping_iter(content) {
                let seen = &mut found[hit.pattern().as_usize()];
                if !*seen {
                    *seen = true;
                    remaining -= 1;
                    if remaining == 0 {
                        break;
                    }
                }
            }
        }
        // Phrases cost a regex search each: only for rules whose literals
        // are all there, and each phrase once per file.
        let mut phrase_found: Vec<Option<bool>> = vec![None; self.phrases.len()];
        self.clauses
            .iter()
            .enumerate()
            .map(|(rule, clauses)| {
                clauses
                    .iter()
                    .all(|clause| clause.iter().any(|&id| found[id]))
                    && self.rule_phrases.get(rule).is_none_or(|ids| {
                        ids.iter().all(|&id| {
                            *phrase_found[id].get_or_insert_with(|| {
                                self.phrases[id]
                                    .as_ref()
                                    .is_none_or(|phrase| phrase.is_match(content))
                            })
                        })
                    })
            })
            .collect()
    }
}

/// One automaton that finds every occurrence of `literals` (overlapping
/// ones too); `None` when there are none or it cannot be built.
pub(crate) fn literal_automaton(literals: &[Vec<u8>]) -> Option<AhoCorasick> {
    if literals.is_empty() {
        return None;
    }
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(literals)
        .ok()
}

/// What a core rule requires of a file.
pub(crate) fn core_requirement(core: &CoreRule, globals: &[CoreRule]) -> Requirement {
    let mut visiting = Vec::new();
    let mut clauses = requirement(&core.matcher, &core.locals, globals, &mut visiting);
    // A constraint holds for a metavariable every match binds (one bound only
    // sometimes is not checked when unbound).
    let bound = bound_variables(&core.matcher, &core.locals, Reach::Anywhere);
    for (name, constraint) in &core.constraints {
        if bound.iter().any(|known| **known == **name) {
            clauses.extend(requirement(
                constraint,
                &core.locals,
                globals,
                &mut visiting,
            ));
        }
    }
    clauses.retain(|clause| {
        clause
            .iter()
            .all(|literal| literal.len() >= MINIMUM_LITERAL)
    });
    for clause in &mut clauses {
        clause.sort();
        clause.dedup();
    }
    clauses.sort();
    clauses.dedup();
    clauses
}

/// A rule's *anchor*: literals of which every match's own text contains at
/// least one (not just the file). Only what lies inside the matched node
/// counts: its pattern's named leaves (each occurs verbatim inside it), the
/// prefixes of a regex on it, what a `has` sub-rule needs (a descendant),
/// and for `all` the most selective member, for `any` the union of every
/// member's anchor. `inside`, `follows`, `precedes`, `not`, `kind` and
/// `query` say nothing about the node's own text.
pub(crate) fn core_anchor(core: &CoreRule, globals: &[CoreRule]) -> Option<Clause> {
    let mut visiting = Vec::new();
    let mut anchors: Vec<Clause> = anchor(&core.matcher, &core.locals, globals, &mut visiting)
        .into_iter()
        .collect();
    // A constrained metavariable every match binds inside itself: the
    // constraint's anchor lies inside the captured node, so inside the match.
    let inside = bound_variables(&core.matcher, &core.locals, Reach::Inside);
    for (name, constraint) in &core.constraints {
        if inside.iter().any(|known| **known == **name) {
            anchors.extend(anchor(constraint, &core.locals, globals, &mut visiting));
        }
    }
    let mut clause = anchors
        .into_iter()
        .max_by_key(|clause| selectivity(clause))?;
    clause.sort();
    clause.dedup();
    Some(clause)
}

fn anchor(
    matcher: &Matcher,
    locals: &[Matcher],
    globals: &[CoreRule],
    visiting: &mut Visiting,
) -> Option<Clause> {
    let usable = |clause: &Clause| {
        !clause.is_empty()
            && clause
                .iter()
                .all(|literal| literal.len() >= MINIMUM_LITERAL)
    };
    let best = |clauses: Vec<Clause>| {
        clauses
            .into_iter()
            .filter(usable)
            .max_by_key(|clause| selectivity(clause))
    };
    match matcher {
        Matcher::Pattern(pattern) => best(pattern_requirement(pattern)),
        Matcher::Regex(regex) => regex_requirement(regex.as_str()).filter(usable),
        Matcher::Has(relation) => anchor(&relation.rule, locals, globals, visiting),
        Matcher::All(members) => best(
            members
                .iter()
                .filter_map(|member| anchor(member, locals, globals, visiting))
                .collect(),
        ),
        Matcher::Any(members) => {
            let mut union: Clause = Vec::new();
            for member in members {
                union.extend(anchor(member, locals, globals, visiting)?);
            }
            Some(union).filter(usable)
        }
        Matcher::Matches(reference) => {
            let (key, target, target_locals) = match reference {
                UtilityReference::Local(index) => ((false, *index), locals.get(*index)?, locals),
                UtilityReference::Global(index) => {
                    let core = globals.get(*index)?;
                    ((true, *index), &core.matcher, core.locals.as_slice())
                }
            };
            if visiting.contains(&key) {
                return None;
            }
            visiting.push(key);
            let result = anchor(target, target_locals, globals, visiting);
            visiting.pop();
            result
        }
        Matcher::Inside(_)
        | Matcher::Precedes(_)
        | Matcher::Follows(_)
        | Matcher::NthChild(_)
        | Matcher::Kind(_)
        | Matcher::Range(_)
        | Matcher::Query(_)
        | Matcher::Not(_) => None,
    }
}

/// Where a metavariable's node may lie relative to the matched node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Inside it (the node itself or a descendant).
    Inside,
    /// Anywhere in the file (`inside`, `follows` and `precedes` reach out).
    Anywhere,
}

/// The single-node metavariables that every match of `matcher` binds,
/// within `reach`: those of its pattern, of every `all` member, of `has`
/// (and, for [`Reach::Anywhere`], the other relations) and of local
/// utilities, which share the rule's metavariables. `any` and `not` bind
/// nothing for certain; shared utilities have their own scope.
fn bound_variables<'m>(matcher: &'m Matcher, locals: &'m [Matcher], reach: Reach) -> Vec<&'m str> {
    fn collect<'m>(
        matcher: &'m Matcher,
        locals: &'m [Matcher],
        reach: Reach,
        visiting: &mut Vec<usize>,
        single: &mut Vec<&'m str>,
        multiple: &mut Vec<&'m str>,
    ) {
        match matcher {
            Matcher::Pattern(pattern) => collect_pattern(&pattern.root, single, multiple),
            Matcher::All(members) => members
                .iter()
                .for_each(|member| collect(member, locals, reach, visiting, single, multiple)),
            Matcher::Has(relation) => {
                collect(&relation.rule, locals, reach, visiting, single, multiple)
            }
            Matcher::Inside(relation)
            | Matcher::Follows(relation)
            | Matcher::Precedes(relation)
                if reach == Reach::Anywhere =>
            {
                collect(&relation.rule, locals, reach, visiting, single, multiple)
            }
            Matcher::Matches(UtilityReference::Local(index)) if !visiting.contains(index) => {
                if let Some(local) = locals.get(*index) {
                    visiting.push(*index);
                    collect(local, locals, reach, visiting, single, multiple);
                    visiting.pop();
                }
            }
            _ => {}
        }
    }
    fn collect_pattern<'m>(
        node: &'m PatternNode,
        single: &mut Vec<&'m str>,
        multiple: &mut Vec<&'m str>,
    ) {
        match node {
            PatternNode::MetaVar(MetaVariable::Capture(name, _)) => single.push(name),
            PatternNode::MetaVar(MetaVariable::MultiCapture(name)) => multiple.push(name),
            PatternNode::Internal { children, .. } => children
                .iter()
                .for_each(|child| collect_pattern(child, single, multiple)),
            _ => {}
        }
    }
    let (mut single, mut multiple) = (Vec::new(), Vec::new());
    collect(
        matcher,
        locals,
        reach,
        &mut Vec::new(),
        &mut single,
        &mut multiple,
    );
    single.retain(|name| !multiple.contains(name));
    single
}

/// Utilities being expanded, to stop at recursive references.
type Visiting = Vec<(bool, usize)>;

fn requirement(
    matcher: &Matcher,
    locals: &[Matcher],
    globals: &[CoreRule],
    visiting: &mut Visiting,
) -> Requirement {
    match matcher {
        Matcher::Pattern(pattern) => pattern_requirement(pattern),
        Matcher::Regex(regex) => regex_requirement(regex.as_str()).into_iter().collect(),
        Matcher::NthChild(nth) => match &nth.of_rule {
            Some(rule) => requirement(rule, locals, globals, visiting),
            None => Vec::new(),
        },
        Matcher::Inside(relation)
        | Matcher::Has(relation)
        | Matcher::Precedes(relation)
        | Matcher::Follows(relation) => requirement(&relation.rule, locals, globals, visiting),
        Matcher::All(members) => members
            .iter()
            .flat_map(|member| requirement(member, locals, globals, visiting))
            .collect(),
        Matcher::Any(members) => {
            // Each member's most selective clause; the union is required.
            let mut union: Clause = Vec::new();
            for member in members {
                let best = requirement(member, locals, globals, visiting)
                    .into_iter()
                    .filter(|clause| {
                        clause
                            .iter()
                            .all(|literal| literal.len() >= MINIMUM_LITERAL)
                    })
                    .max_by_key(|clause| selectivity(clause));
                match best {
                    Some(clause) => union.extend(clause),
                    None => return Vec::new(),
                }
            }
            if union.is_empty() {
                Vec::new()
            } else {
                vec![union]
            }
        }
        Matcher::Matches(UtilityReference::Local(index)) => {
            let key = (false, *index);
            let Some(local) = locals.get(*index).filter(|_| !visiting.contains(&key)) else {
                return Vec::new();
            };
            visiting.push(key);
            let result = requirement(local, locals, globals, visiting);
            visiting.pop();
            result
        }
        Matcher::Matches(UtilityReference::Global(index)) => {
            let key = (true, *index);
            let Some(core) = globals.get(*index).filter(|_| !visiting.contains(&key)) else {
                return Vec::new();
            };
            visiting.push(key);
            let result = requirement(&core.matcher, &core.locals, globals, visiting);
            visiting.pop();
            result
        }
        Matcher::Kind(_) | Matcher::Range(_) | Matcher::Query(_) | Matcher::Not(_) => Vec::new(),
    }
}

/// Prefer clauses whose shortest literal is longest, then fewer literals.
fn selectivity(literals: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = literals.iter().map(Vec::len).min().unwrap_or(0);
    (shortest, std::cmp::Reverse(literals.len()))
}

/// Every named leaf's text: each occurs verbatim in every match.
fn pattern_requirement(pattern: &Pattern) -> Requirement {
    if pattern.strictness == Strictness::Signature {
        return Vec::new();
    }
    fn collect(node: &PatternNode, clauses: &mut Requirement) {
        match node {
            PatternNode::Terminal {
                text, named: true, ..
            } if !text.is_empty() => {
                clauses.push(vec![text.as_bytes().to_vec()]);
            }
            PatternNode::Internal { children, .. } => {
                children.iter().for_each(|child| collect(child, clauses))
            }
            _ => {}
        }
    }
    let mut clauses = Vec::new();
    collect(&pattern.root, &mut clauses);
    clauses
}

/// Literals that begin every match of a regex, when there are finitely many.
fn regex_requirement(regex: &str) -> Option<Clause> {
    let hir = regex_syntax::Parser::new().parse(regex).ok()?;
    let sequence = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = sequence.literals()?;
    if literals.is_empty() || literals.iter().any(|literal| literal.as_bytes().is_empty()) {
        return None;
    }
    Some(
        literals
            .iter()
            .map(|literal| literal.as_bytes().to_vec())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Language;
    use crate::rule::pattern;

    fn python_pattern(text: &str) -> Pattern {
        let python = Language::from_name("python").expect("python");
        pattern::compile(python, text, None, Strictness::Smart).expect("compiles")
    }

    fn strings(requirement: Requirement) -> Vec<Vec<String>> {
        requirement
            .into_iter()
            .map(|clause| {
                clause
                    .into_iter()
                    .map(|literal| String::from_utf8(literal).expect("utf-8"))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn patterns_require_each_named_leaf() {
        assert_eq!(
            strings(pattern_requirement(&python_pattern("os.path.join($X)"))),
            vec![vec!["os"], vec!["path"], vec!["join"]]
        );
        assert!(pattern_requirement(&python_pattern("$A + $B")).is_empty());
    }

    #[test]
    fn regexes_require_their_prefixes() {
        let clause = |regex| regex_requirement(regex).map(|clause| strings(vec![clause]).remove(0));
        assert_eq!(
            clause("^assert(Equals|True)$"),
            Some(vec!["assertEquals".into(), "assertTrue".into()])
        );
        assert_eq!(clause("foo|bar"), Some(vec!["foo".into(), "bar".into()]));
        assert_eq!(clause(".*x"), None);
        assert_eq!(clause("a?"), None);
    }

    #[test]
    fn prefilter_needs_every_clause() {
        let sleep = vec![vec![b"Thread".to_vec()], vec![b"sleep".to_vec()]];
        let either = vec![vec![b"equals".to_vec(), b"compare".to_vec()]];
        let prefilter = Prefilter::new(&[sleep, either, Vec::new()], &[]);
        assert_eq!(
            prefilter.enabled(b"Thread.sleep(1)"),
            vec![true, false, true]
        );
        assert_eq!(
            prefilter.enabled(b"new Thread(); x.compare(y)"),
            vec![false, true, true]
        );
        assert_eq!(prefilter.enabled(b"nothing"), vec![false, false, true]);
    }
}
