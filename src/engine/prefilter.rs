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

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use crate::rule::Strictness;
use crate::rule::matcher::{CoreRule, Matcher, UtilityReference};
use crate::rule::pattern::{Pattern, PatternNode};

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
}

impl Prefilter {
    pub(crate) fn new(requirements: &[Requirement]) -> Prefilter {
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
        let automaton = (!literals.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&literals)
                    .ok()
            })
            .flatten();
        Prefilter {
            automaton,
            literal_count: literals.len(),
            clauses,
        }
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
        self.clauses
            .iter()
            .map(|clauses| {
                clauses
                    .iter()
                    .all(|clause| clause.iter().any(|&id| found[id]))
            })
            .collect()
    }
}

/// What a core rule requires of a file.
pub(crate) fn core_requirement(core: &CoreRule, globals: &[CoreRule]) -> Requirement {
    let mut visiting = Vec::new();
    let mut requirement = requirement(&core.matcher, &core.locals, globals, &mut visiting);
    requirement.retain(|clause| {
        clause
            .iter()
            .all(|literal| literal.len() >= MINIMUM_LITERAL)
    });
    for clause in &mut requirement {
        clause.sort();
        clause.dedup();
    }
    requirement.sort();
    requirement.dedup();
    requirement
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
        let prefilter = Prefilter::new(&[sleep, either, Vec::new()]);
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
